//! People and personal information: masks, opening in full with a reason, residents'
//! own data, validation.

use axum::http::StatusCode;
use serde_json::json;

use crate::harness::{for_each_db, id_number, PASSWORD};

#[tokio::test]
async fn personal_data_is_masked_and_sealed_at_rest() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let t = app.token(&f, "admin").await;
        let (s, v) = app
            .get_json(&format!("/api/v1/people/{}", f.person_a1), &t)
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["person"]["phone"], "138****1234");
        assert_eq!(v["person"]["id_number"].as_str().unwrap().len(), 18);
        assert!(v["person"]["id_number"]
            .as_str()
            .unwrap()
            .contains("********"));
        let (_, v) = app
            .get_json(&format!("/api/v1/nodes/{}/people", f.grid_a1), &t)
            .await;
        let names: Vec<&str> = v["people"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert!(names.contains(&"张**"), "{names:?}");
        // Nothing readable in the table itself.
        let row: (Vec<u8>,) = sqlx::query_as("SELECT phone_sealed FROM persons WHERE id = $1")
            .bind(f.person_a1)
            .fetch_one(app.db.read())
            .await
            .unwrap();
        assert!(!String::from_utf8_lossy(&row.0).contains("13812341234"));
    })
    .await;
}

#[tokio::test]
async fn opening_a_field_needs_a_reason_and_is_logged() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let t = app.token(&f, "gm_a1").await;
        let path = format!("/api/v1/people/{}/reveal", f.person_a1);
        let (s, v) = app
            .post_json(&path, &t, json!({ "field": "phone", "reason": "" }))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(v["errors"][0]["field"], "reason");
        let (s, v) = app
            .post_json(
                &path,
                &t,
                json!({ "field": "phone", "reason": "回访居民诉求" }),
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(v["value"], "13812341234");
        // A grid member may not open ID numbers; outside the grid nothing.
        let (s, _) = app
            .post_json(
                &path,
                &t,
                json!({ "field": "id_number", "reason": "核对身份" }),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, _) = app
            .post_json(
                &format!("/api/v1/people/{}/reveal", f.person_a2),
                &t,
                json!({ "field": "phone", "reason": "回访" }),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, _) = app
            .post_json(&path, &t, json!({ "field": "salary", "reason": "回访" }))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        // Who, when, whose, why.
        let admin = app.token(&f, "admin").await;
        let (_, v) = app
            .get_json("/api/v1/audit?action=pii.reveal", &admin)
            .await;
        let entries = v["entries"].as_array().unwrap();
        assert_eq!(entries.len(), 1, "{v}");
        assert_eq!(entries[0]["actor"], "gm_a1");
        assert_eq!(entries[0]["subject_id"], f.person_a1);
        assert_eq!(entries[0]["reason"], "回访居民诉求");
        assert_eq!(entries[0]["after"]["field"], "phone");
        assert!(entries[0]["at"].as_i64().unwrap() > 0);
    })
    .await;
}

#[tokio::test]
async fn a_resident_sees_only_their_own_data() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let t = app.token(&f, "resident").await;
        let (s, _) = app
            .get_json(&format!("/api/v1/people/{}", f.person_a1), &t)
            .await;
        assert_eq!(s, StatusCode::OK, "themselves");
        let (s, _) = app
            .get_json(&format!("/api/v1/people/{}", f.person_a1_spouse), &t)
            .await;
        assert_eq!(s, StatusCode::OK, "their household");
        let (s, _) = app
            .post_json(
                &format!("/api/v1/people/{}/reveal", f.person_a1_spouse),
                &t,
                json!({ "field": "phone", "reason": "家人" }),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "not their spouse's full phone");
        let (s, v) = app
            .post_json(
                &format!("/api/v1/people/{}/reveal", f.person_a1),
                &t,
                json!({ "field": "id_number", "reason": "核对本人信息" }),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "their own: {v}");
        let (s, _) = app
            .get_json(&format!("/api/v1/rooms/{}", f.room_a1), &t)
            .await;
        assert_eq!(s, StatusCode::OK, "their own room");
        for path in [
            format!("/api/v1/people/{}", f.person_a2),
            format!("/api/v1/rooms/{}", f.room_a2),
            format!("/api/v1/nodes/{}", f.grid_a1),
            format!("/api/v1/nodes/{}/people", f.grid_a1),
            format!("/api/v1/nodes/{}/households", f.unit_a1),
        ] {
            let (s, _) = app.get_json(&path, &t).await;
            assert_eq!(s, StatusCode::FORBIDDEN, "{path}");
        }
        let (_, cookies) = app.browser_login("resident", PASSWORD).await;
        let (s, _, body) = app.browser_get("/", &cookies).await;
        assert_eq!(s, StatusCode::OK);
        assert!(body.contains("502"), "home shows their room");
    })
    .await;
}

#[tokio::test]
async fn registering_a_person_validates_every_field() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let t = app.token(&f, "admin").await;
        let (s, v) = app
            .post_json("/api/v1/people", &t, json!({ "name": "", "id_number": "310118198001010010", "phone": "12345", "household_id": f.household_a1 }))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        let fields: Vec<&str> = v["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        assert_eq!(fields, ["name", "id_number", "phone"], "{v}");
        let good = id_number("31011820100505005");
        let (s, v) = app
            .post_json("/api/v1/people", &t, json!({ "name": "张小明", "id_number": good, "phone": "+86 138 0000 0000", "household_id": f.household_a1, "relation": "child" }))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        assert_eq!(v["person"]["phone"], "138****0000");
        assert_eq!(v["person"]["birth_year"], 2010);
        // The same ID number twice is refused.
        let (s, v) = app.post_json("/api/v1/people", &t, json!({ "name": "张小明", "id_number": good, "household_id": f.household_a1 })).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(v["errors"][0]["field"], "id_number");
        // Messages follow the caller's language.
        let req = axum::http::Request::post("/api/v1/people")
            .header("authorization", format!("Bearer {t}"))
            .header("content-type", "application/json")
            .header("accept-language", "en")
            .body(axum::body::Body::from(json!({ "name": "x", "phone": "1" , "household_id": f.household_a1 }).to_string()))
            .unwrap();
        let (_, _, b) = app.send(req).await;
        let v: serde_json::Value = serde_json::from_slice(&b).unwrap();
        assert!(v["errors"][0]["message"].as_str().unwrap().contains("11 digits"), "{v}");
    })
    .await;
}

#[tokio::test]
async fn the_person_page_masks_and_opens_with_a_reason() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let (_, cookies) = app.browser_login("gm_a1", PASSWORD).await;
        let (s, _, body) = app
            .browser_get(&format!("/people/{}", f.person_a1), &cookies)
            .await;
        assert_eq!(s, StatusCode::OK);
        assert!(body.contains("138****1234") && !body.contains("13812341234"));
        let (s, _, body) = app
            .browser_post(
                &format!("/people/{}/reveal", f.person_a1),
                &cookies,
                "field=phone&reason=x",
            )
            .await;
        assert_eq!(
            s,
            StatusCode::UNPROCESSABLE_ENTITY,
            "a one-letter reason is too short"
        );
        assert!(!body.contains("13812341234"));
        let (s, _, body) = app
            .browser_post(
                &format!("/people/{}/reveal", f.person_a1),
                &cookies,
                "field=phone&reason=%E5%9B%9E%E8%AE%BF",
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        assert!(body.contains("13812341234"));
    })
    .await;
}
