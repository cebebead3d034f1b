//! Storage, tenancy, login and the error policy.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use serde_json::json;

use crate::harness::{for_each_db, PASSWORD};

#[tokio::test]
async fn healthz_answers_once_the_database_does() {
    for_each_db(|app| async move {
        let (s, _, b) = app
            .send(Request::get("/healthz").body(Body::empty()).unwrap())
            .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(b, b"ok");
    })
    .await;
}

#[tokio::test]
async fn two_subdistricts_in_one_database_never_see_each_other() {
    for_each_db(|app| async move {
        let a = app.fixture_named("310118003", "夏阳街道").await;
        let b = app.fixture_named("310118004", "盈浦街道").await;
        let token_a = app.token(&a, "admin").await;
        // Admin of A cannot reach B's nodes, rooms, people.
        for path in [
            format!("/api/v1/nodes/{}", b.grid_a1),
            format!("/api/v1/rooms/{}", b.room_a1),
            format!("/api/v1/people/{}", b.person_a1),
        ] {
            let (s, _) = app.get_json(&path, &token_a).await;
            assert_eq!(s, StatusCode::NOT_FOUND, "{path}");
        }
        // Its own are there.
        let (s, v) = app
            .get_json(&format!("/api/v1/nodes/{}", a.grid_a1), &token_a)
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        // A change in B shows in B's audit log and never in A's.
        let token_b = app.token(&b, "admin").await;
        let (s, _) = app
            .post_json(
                &format!("/api/v1/nodes/{}/children", b.root),
                &token_b,
                json!({ "kind": "community", "name": "只属于乙的社区" }),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED);
        let (s, v) = app.get_json("/api/v1/audit?limit=500", &token_a).await;
        assert_eq!(s, StatusCode::OK);
        let entries = v["entries"].as_array().unwrap();
        assert!(!entries.is_empty());
        assert!(entries
            .iter()
            .all(|e| e["subject_label"] != "只属于乙的社区"));
        let (_, v) = app.get_json("/api/v1/audit?limit=500", &token_b).await;
        assert!(v["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["subject_label"] == "只属于乙的社区"));
        // Nor does A's admin find B's new community among A's children.
        let (_, v) = app
            .get_json(&format!("/api/v1/nodes/{}", a.root), &token_a)
            .await;
        assert!(v["children"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["name"] != "只属于乙的社区"));
        // A session token of A does not work as B's: the tenant is part of the token.
        let forged = token_a.replacen(&format!("rbt_{}_", a.sid), &format!("rbt_{}_", b.sid), 1);
        let (s, _) = app.get_json("/api/v1/me", &forged).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    })
    .await;
}

#[tokio::test]
async fn unknown_routes_malformed_json_and_big_bodies_get_problem_json() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let t = app.token(&f, "admin").await;
        let (s, h, b) = app
            .send(
                Request::get("/api/v1/nope")
                    .header(header::AUTHORIZATION, format!("Bearer {t}"))
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        assert_eq!(h[header::CONTENT_TYPE], "application/problem+json");
        let v: serde_json::Value = serde_json::from_slice(&b).unwrap();
        assert_eq!(v["status"], 404);
        let req = Request::post(format!("/api/v1/nodes/{}/children", f.community_a))
            .header(header::AUTHORIZATION, format!("Bearer {t}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from("{not json"))
            .unwrap();
        let (s, h, _) = app.send(req).await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert_eq!(h[header::CONTENT_TYPE], "application/problem+json");
        let big = "x".repeat(2 * 1024 * 1024);
        let req = Request::post(format!("/api/v1/nodes/{}/children", f.community_a))
            .header(header::AUTHORIZATION, format!("Bearer {t}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(
                json!({ "kind": "grid", "name": big }).to_string(),
            ))
            .unwrap();
        let (s, h, _) = app.send(req).await;
        assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(h[header::CONTENT_TYPE], "application/problem+json");
        // A browser route gets a page, not JSON.
        let (s, h, b) = app
            .send(Request::get("/no/such/page").body(Body::empty()).unwrap())
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        assert!(h[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        assert!(String::from_utf8_lossy(&b).contains("找不到"));
    })
    .await;
}

#[tokio::test]
async fn login_sets_a_safe_session_cookie_and_logout_ends_it() {
    for_each_db(|app| async move {
        let _f = app.fixture().await;
        let csrf = "c".repeat(32);
        let req = Request::post("/login")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, format!("rb_csrf={csrf}"))
            .body(Body::from(format!(
                "username=admin&password={PASSWORD}&_csrf={csrf}"
            )))
            .unwrap();
        let (s, h, _) = app.send(req).await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        let set = h
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .find(|v| v.starts_with("rb_session="))
            .unwrap();
        assert!(
            set.contains("HttpOnly") && set.contains("SameSite=Lax"),
            "{set}"
        );
        let (_, cookies) = app.browser_login("admin", PASSWORD).await;
        let (s, _, body) = app.browser_get("/", &cookies).await;
        assert_eq!(s, StatusCode::OK);
        assert!(body.contains("admin"));
        let (s, _, _) = app.browser_post("/logout", &cookies, "").await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        let (s, h, _) = app.browser_get("/", &cookies).await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        assert!(h[header::LOCATION].to_str().unwrap().starts_with("/login"));
    })
    .await;
}

#[tokio::test]
async fn a_form_without_the_csrf_token_is_refused() {
    for_each_db(|app| async move {
        let _f = app.fixture().await;
        let (_, cookies) = app.browser_login("admin", PASSWORD).await;
        let req = Request::post("/logout")
            .header(header::COOKIE, cookies.clone())
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from("_csrf=wrong-token-wrong-token"))
            .unwrap();
        let (s, _, _) = app.send(req).await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        // The session is still alive.
        let (s, _, _) = app.browser_get("/", &cookies).await;
        assert_eq!(s, StatusCode::OK);
    })
    .await;
}

#[tokio::test]
async fn repeated_failures_delay_then_lock_the_name() {
    for_each_db(|app| async move {
        let _f = app.fixture().await;
        for _ in 0..3 {
            let (s, _) = app.browser_login("admin", "wrong-password1").await;
            assert_eq!(s, StatusCode::UNAUTHORIZED);
        }
        // The fourth attempt comes too soon, even with the right password.
        let (s, _) = app.browser_login("admin", PASSWORD).await;
        assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
        // Unknown names are throttled the same way, so the answer tells nothing.
        for _ in 0..3 {
            let (s, _) = app.browser_login("nobody", "wrong-password1").await;
            assert_eq!(s, StatusCode::UNAUTHORIZED);
        }
        let (s, _) = app.browser_login("nobody", "wrong-password1").await;
        assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
    })
    .await;
}

#[tokio::test]
async fn the_audit_log_refuses_updates_and_deletes() {
    for_each_db(|app| async move {
        let _f = app.fixture().await;
        let upd = sqlx::query("UPDATE audit_log SET actor = 'x'")
            .execute(app.db.write())
            .await;
        assert!(upd.is_err(), "update must fail");
        let del = sqlx::query("DELETE FROM audit_log")
            .execute(app.db.write())
            .await;
        assert!(del.is_err(), "delete must fail");
    })
    .await;
}

#[tokio::test]
async fn changing_the_password_ends_sessions() {
    for_each_db(|app| async move {
        let _f = app.fixture().await;
        let (_, cookies) = app.browser_login("admin", PASSWORD).await;
        let (s, _, _) = app
            .browser_post(
                "/account/password",
                &cookies,
                &format!("current_password={PASSWORD}&new_password=New-pass-2"),
            )
            .await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        let (s, _, _) = app.browser_get("/", &cookies).await;
        assert_eq!(s, StatusCode::SEE_OTHER, "old session ended");
        let (s, _) = app.browser_login("admin", "New-pass-2").await;
        assert_eq!(s, StatusCode::SEE_OTHER);
    })
    .await;
}

#[tokio::test]
async fn pages_without_a_session_send_people_to_the_login_and_back() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let (s, h, _) = app.browser_get(&format!("/tree/{}", f.grid_a1), "").await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        assert_eq!(
            h[header::LOCATION],
            format!("/login?next=%2Ftree%2F{}", f.grid_a1)
        );
        // A form posted after the session ended returns to the home page, not to a POST address.
        let (s, h, _) = app
            .browser_post(
                &format!("/tree/{}/children", f.grid_a1),
                "rb_csrf=cccccccccccccccccccccccccccccccc",
                "kind=building&name=x",
            )
            .await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        assert_eq!(h[header::LOCATION], "/login?next=%2F");
    })
    .await;
}
