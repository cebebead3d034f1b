//! Corrections: renaming nodes, correcting rooms and people, each audited with before and
//! after, never with personal data in clear.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::harness::{for_each_db, PASSWORD};

#[tokio::test]
async fn renaming_a_node_is_audited_with_before_and_after() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let t = app.token(&f, "admin").await;
        let (s, v) = app
            .json(
                Method::PATCH,
                &format!("/api/v1/nodes/{}", f.grid_a1),
                &t,
                json!({ "name": "章浜第一网格" }),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["name"], "章浜第一网格");
        let (s, v) = app
            .json(
                Method::PATCH,
                &format!("/api/v1/nodes/{}", f.grid_a1),
                &t,
                json!({ "name": "章浜二网格" }),
            )
            .await;
        assert_eq!(
            s,
            StatusCode::UNPROCESSABLE_ENTITY,
            "a sibling has that name"
        );
        assert_eq!(v["errors"][0]["field"], "name");
        let (_, v) = app
            .get_json(
                &format!("/api/v1/audit?action=node.update&subject_id={}", f.grid_a1),
                &t,
            )
            .await;
        let e = &v["entries"][0];
        assert_eq!(e["before"]["name"], "章浜一网格");
        assert_eq!(e["after"]["name"], "章浜第一网格");
        let gm = app.token(&f, "gm_a1").await;
        let (s, _) = app
            .json(
                Method::PATCH,
                &format!("/api/v1/nodes/{}", f.grid_a1),
                &gm,
                json!({ "name": "x" }),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    })
    .await;
}

#[tokio::test]
async fn correcting_a_room_keeps_areas_exact() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let t = app.token(&f, "admin").await;
        let path = format!("/api/v1/rooms/{}", f.room_a1);
        let (s, v) = app.json(Method::PUT, &path, &t, json!({ "number": "502", "floor": 5, "registered_area": 8_561, "surveyed_area": 8_600 })).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let (_, v) = app.get_json(&path, &t).await;
        assert_eq!(v["effective_area"], 8_561);
        let (s, _) = app.json(Method::PUT, &path, &t, json!({ "number": "" })).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        let (_, v) = app.get_json(&path, &t).await;
        assert_eq!(v["room"]["number"], "502", "nothing half-written");
        // Through the form, with the typed values kept on an error.
        let (_, cookies) = app.browser_login("admin", PASSWORD).await;
        let (s, _, body) = app.browser_post(&format!("/rooms/{}/edit", f.room_a1), &cookies, "number=502&registered_area=12.345").await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body.contains("12.345"));
        let (s, _, _) = app.browser_post(&format!("/rooms/{}/edit", f.room_a1), &cookies, "number=502&registered_area=86.00").await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        let (_, v) = app.get_json(&path, &t).await;
        assert_eq!(v["room"]["registered_area"], 8_600);
    })
    .await;
}

#[tokio::test]
async fn correcting_a_person_changes_only_what_is_typed_and_logs_masks_only() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let t = app.token(&f, "admin").await;
        let path = format!("/api/v1/people/{}", f.person_a1);
        let (s, v) = app
            .json(Method::PATCH, &path, &t, json!({ "phone": "13900001111" }))
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["person"]["phone"], "139****1111");
        assert_eq!(v["person"]["name"], "张三丰", "the name stays");
        assert!(
            v["person"]["id_number"]
                .as_str()
                .unwrap()
                .starts_with("310118"),
            "the ID number stays"
        );
        let (s, v) = app
            .json(Method::PATCH, &path, &t, json!({ "phone": "123" }))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(v["errors"][0]["field"], "phone");
        let (_, v) = app
            .post_json(
                &format!("{path}/reveal"),
                &t,
                json!({ "field": "phone", "reason": "核对更正" }),
            )
            .await;
        assert_eq!(v["value"], "13900001111");
        let (_, v) = app.get_json("/api/v1/audit?action=person.update", &t).await;
        let e = &v["entries"][0];
        assert_eq!(e["before"]["phone"], "138****1234");
        assert_eq!(e["after"]["values"]["phone"], "139****1111");
        let text = v.to_string();
        assert!(
            !text.contains("13900001111") && !text.contains("13812341234"),
            "no clear phone numbers in the audit log"
        );
        // A grid member may read but not correct.
        let gm = app.token(&f, "gm_a1").await;
        let (s, _) = app
            .json(Method::PATCH, &path, &gm, json!({ "phone": "13900002222" }))
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        // The page keeps what was typed.
        let (_, cookies) = app.browser_login("admin", PASSWORD).await;
        let (s, _, body) = app
            .browser_post(
                &format!("/people/{}/edit", f.person_a1),
                &cookies,
                "name=%E5%BC%A0%E4%B8%89%E4%B8%B0&phone=999",
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body.contains("value=\"999\""));
    })
    .await;
}
