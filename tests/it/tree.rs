//! The org tree through the API and pages: both tracks, shape rules, rooms, who sees what.

use axum::http::StatusCode;
use serde_json::json;

use crate::harness::{for_each_db, PASSWORD};

#[tokio::test]
async fn the_tree_has_two_tracks_and_refuses_wrong_shapes() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let t = app.token(&f, "admin").await;
        let (s, v) = app.get_json(&format!("/api/v1/nodes/{}", f.root), &t).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let kinds: Vec<&str> = v["children"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["kind"].as_str().unwrap())
            .collect();
        assert!(
            kinds.contains(&"community") && kinds.contains(&"village"),
            "{kinds:?}"
        );
        assert_eq!(v["counts"]["grids"], 3);
        let (_, v) = app
            .get_json(&format!("/api/v1/nodes/{}", f.grid_v1), &t)
            .await;
        assert_eq!(v["node"]["track"], "rural");
        // A grid directly under the subdistrict is refused, naming the field.
        let (s, v) = app
            .post_json(
                &format!("/api/v1/nodes/{}/children", f.root),
                &t,
                json!({ "kind": "grid", "name": "错位网格" }),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(v["errors"][0]["field"], "kind");
        // Village groups only in the rural track.
        let (s, _) = app
            .post_json(
                &format!("/api/v1/nodes/{}/children", f.grid_a1),
                &t,
                json!({ "kind": "village_group", "name": "一组" }),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        let (s, _) = app
            .post_json(
                &format!("/api/v1/nodes/{}/children", f.grid_v1),
                &t,
                json!({ "kind": "village_group", "name": "第二村民小组" }),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED);
        // Sibling names are unique; unknown kinds are named.
        let (s, v) = app
            .post_json(
                &format!("/api/v1/nodes/{}/children", f.community_a),
                &t,
                json!({ "kind": "grid", "name": "章浜一网格" }),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(v["errors"][0]["field"], "name");
        let (s, v) = app
            .post_json(
                &format!("/api/v1/nodes/{}/children", f.community_a),
                &t,
                json!({ "kind": "street", "name": "x" }),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(v["errors"][0]["field"], "kind");
        // Missing fields are a 4xx problem, never a 500.
        let (s, _) = app
            .post_json(
                &format!("/api/v1/nodes/{}/children", f.community_a),
                &t,
                json!({ "name": 5 }),
            )
            .await;
        assert!(s.is_client_error(), "{s}");
    })
    .await;
}

#[tokio::test]
async fn rooms_keep_three_areas_exactly_and_the_registered_one_counts() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let t = app.token(&f, "admin").await;
        let (s, v) = app
            .post_json(&format!("/api/v1/nodes/{}/rooms", f.unit_a1), &t, json!({ "number": "601", "floor": 6, "surveyed_area": 8_999, "contract_area": 9_001 }))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let id = v["id"].as_i64().unwrap();
        let (_, v) = app.get_json(&format!("/api/v1/rooms/{id}"), &t).await;
        assert_eq!(v["effective_area"], 8_999, "surveyed when not registered");
        let (s, v) = app.post_json(&format!("/api/v1/nodes/{}/rooms", f.unit_a1), &t, json!({ "number": "601" })).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(v["errors"][0]["field"], "number");
        let (s, _) = app.post_json(&format!("/api/v1/nodes/{}/rooms", f.grid_a1), &t, json!({ "number": "1" })).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "rooms hang on buildings, units and groups");
        let (s, _) = app.post_json(&format!("/api/v1/nodes/{}/rooms", f.unit_a1), &t, json!({ "number": "602", "registered_area": -5 })).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    })
    .await;
}

#[tokio::test]
async fn grid_member_sees_own_grid_but_not_the_next_or_above() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let t = app.token(&f, "gm_a1").await;
        let (s, _) = app
            .get_json(&format!("/api/v1/nodes/{}", f.grid_a1), &t)
            .await;
        assert_eq!(s, StatusCode::OK);
        let (s, v) = app
            .get_json(&format!("/api/v1/nodes/{}/households", f.grid_a1), &t)
            .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(v["households"].as_array().unwrap().len(), 1);
        for path in [
            format!("/api/v1/nodes/{}", f.grid_a2),
            format!("/api/v1/nodes/{}/households", f.grid_a2),
            format!("/api/v1/nodes/{}/people", f.grid_a2),
            format!("/api/v1/nodes/{}/households", f.community_a),
            format!("/api/v1/rooms/{}", f.room_a2),
            format!("/api/v1/people/{}", f.person_a2),
        ] {
            let (s, _) = app.get_json(&path, &t).await;
            assert_eq!(s, StatusCode::FORBIDDEN, "{path}");
        }
        // Nor may they change the tree.
        let (s, _) = app
            .post_json(
                &format!("/api/v1/nodes/{}/children", f.grid_a1),
                &t,
                json!({ "kind": "building", "name": "新楼" }),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        // The pages say the same.
        let (_, cookies) = app.browser_login("gm_a1", PASSWORD).await;
        let (s, _, body) = app
            .browser_get(&format!("/tree/{}", f.grid_a1), &cookies)
            .await;
        assert_eq!(s, StatusCode::OK);
        assert!(
            body.contains("城中东路311号") && body.contains("502室"),
            "grid page shows buildings and households"
        );
        assert!(!body.contains("张三丰"), "names are masked in lists");
        assert!(body.contains("张**"));
        let (s, _, _) = app
            .browser_get(&format!("/tree/{}", f.grid_a2), &cookies)
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    })
    .await;
}

#[tokio::test]
async fn auditors_see_the_tree_but_no_people() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let t = app.token(&f, "auditor").await;
        let (s, v) = app
            .get_json(&format!("/api/v1/nodes/{}", f.grid_a1), &t)
            .await;
        assert_eq!(s, StatusCode::OK);
        assert!(v["counts"].get("residents").is_none());
        let (s, v) = app
            .get_json(&format!("/api/v1/rooms/{}", f.room_a1), &t)
            .await;
        assert_eq!(s, StatusCode::OK);
        assert!(v.get("owners").is_none() && v.get("households").is_none());
        let (s, _) = app
            .get_json(&format!("/api/v1/nodes/{}/people", f.grid_a1), &t)
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, _) = app
            .get_json(&format!("/api/v1/people/{}", f.person_a1), &t)
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        // Outside the community they reach nothing.
        let (s, _) = app
            .get_json(&format!("/api/v1/nodes/{}", f.village), &t)
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    })
    .await;
}

#[tokio::test]
async fn staff_create_nodes_and_rooms_through_the_forms_keeping_typed_values() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let (_, cookies) = app.browser_login("admin", PASSWORD).await;
        let (s, h, _) = app
            .browser_post(
                &format!("/tree/{}/children", f.grid_a1),
                &cookies,
                "kind=building&name=%E6%96%B0%E6%A5%BC",
            )
            .await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        assert!(h["location"].to_str().unwrap().starts_with("/tree/"));
        let (s, _, body) = app
            .browser_post(
                &format!("/tree/{}/rooms", f.unit_a1),
                &cookies,
                "number=701&floor=7&registered_area=85.555",
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body.contains("85.555"), "the typed value is kept");
        assert!(body.contains("两位小数"), "the message names the problem");
        let (s, _, _) = app
            .browser_post(
                &format!("/tree/{}/rooms", f.unit_a1),
                &cookies,
                "number=701&floor=7&registered_area=85.55",
            )
            .await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        let t = app.token(&f, "admin").await;
        let (_, v) = app
            .get_json(&format!("/api/v1/nodes/{}/rooms", f.unit_a1), &t)
            .await;
        assert!(v["rooms"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["number"] == "701" && r["registered_area"] == 8_555));
        // Each change is in the audit log.
        let (_, v) = app.get_json("/api/v1/audit?action=room.create", &t).await;
        assert!(v["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["subject_label"] == "701"));
    })
    .await;
}
