//! The OpenAPI document describes routes that exist, and every error is problem JSON.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};

use crate::harness::for_each_db;

#[tokio::test]
async fn every_documented_route_answers() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let t = app.token(&f, "admin").await;
        let (s, case) = app
            .post_json("/api/v1/cases", &t, serde_json::json!({ "category": "env.clutter", "node_id": f.grid_a1, "title": "垃圾未清运", "description": "3号楼门口垃圾两天没人清运" }))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{case}");
        let case_id = case["id"].as_i64().or_else(|| case["case"]["id"].as_i64()).expect("case id");
        let (s, hall) = app
            .post_json("/api/v1/halls", &t, serde_json::json!({ "name": "加梯议事厅", "topic": "3号楼加装电梯", "node_id": f.building_a1 }))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{hall}");
        let hall_id = hall["id"].as_i64().or_else(|| hall["hall"]["id"].as_i64()).expect("hall id");
        let closes = redbutler::clock::now_ms() + 3_600_000;
        let (s, vote) = app
            .post_json("/api/v1/votes", &t, serde_json::json!({ "scope_node_id": f.building_a1, "title": "加装电梯", "matter": "other_major", "closes_at": closes }))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{vote}");
        let vote_id = vote["id"].as_i64().expect("vote id");
        let (s, doc) = app.get_json("/api/v1/openapi.json", &t).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(doc["openapi"], "3.1.0");
        let paths = doc["paths"].as_object().unwrap();
        assert!(paths.len() >= 15, "{}", paths.len());
        for (path, ops) in paths {
            // Ids are substituted only at the start of a path: "/rooms/{id}" is not
            // "/fund/rooms/{id}", whose ids its own part's tests make.
            let ids = [
                ("/nodes/{id}", f.grid_a1),
                ("/rooms/{id}", f.room_a1),
                ("/people/{id}", f.person_a1),
                ("/users/{id}", f.admin.user_id),
                ("/cases/{id}", case_id),
                ("/halls/{id}", hall_id),
                ("/votes/{id}", vote_id),
            ];
            let mut concrete = path.replace("{grant_id}", "1").replace("{year}", "2026");
            for (prefix, id) in ids {
                if concrete.starts_with(prefix) {
                    concrete = concrete.replacen("{id}", &id.to_string(), 1);
                }
            }
            for method in ops.as_object().unwrap().keys() {
                let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
                // Deleting is not probed; a job id only exists once an import runs.
                // A vote's notice and export exist once it is open or published. Items, paper entries and
                // members are probed by their own tests.
                let needs_more = path.ends_with("/notice") || path.ends_with("/export")
                    || ["{item_id}", "{pid}", "{member_id}"].iter().any(|p| path.contains(p));
                // A path whose ids this test does not make is probed by its part's own tests.
                let unmade = concrete.contains('{');
                if m == Method::DELETE || path.contains("/jobs/") || needs_more || unmade {
                    continue;
                }
                let mut req = Request::builder()
                    .method(m.clone())
                    .uri(format!("/api/v1{concrete}"))
                    .header(header::AUTHORIZATION, format!("Bearer {t}"));
                let body = if m == Method::GET {
                    Body::empty()
                } else {
                    req = req.header(header::CONTENT_TYPE, "application/json");
                    Body::from("{}")
                };
                let (s, h, _) = app.send(req.body(body).unwrap()).await;
                assert_ne!(s, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
                if m == Method::GET {
                    assert!(s.is_success(), "{method} {path}: {s}");
                } else if s.is_client_error() {
                    assert_ne!(s, StatusCode::NOT_FOUND, "{method} {path}");
                    assert_eq!(
                        h[header::CONTENT_TYPE],
                        "application/problem+json",
                        "{method} {path}"
                    );
                }
            }
        }
    })
    .await;
}

#[tokio::test]
async fn the_api_without_a_token_says_401_in_problem_json() {
    for_each_db(|app| async move {
        let _f = app.fixture().await;
        let (s, h, b) = app
            .send(Request::get("/api/v1/me").body(Body::empty()).unwrap())
            .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        assert_eq!(h[header::CONTENT_TYPE], "application/problem+json");
        let v: serde_json::Value = serde_json::from_slice(&b).unwrap();
        assert_eq!(v["status"], 401);
        let (s, _, _) = app
            .send(
                Request::get("/api/v1/me")
                    .header(header::AUTHORIZATION, "Bearer rbt_1_nope")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    })
    .await;
}
