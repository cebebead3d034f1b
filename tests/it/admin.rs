//! Users, roles and the audit log: the admin API and pages.

use axum::http::{header, Method, StatusCode};
use serde_json::{json, Value};

use crate::harness::{for_each_db, Fixture, TestApp, PASSWORD};

async fn user_id(app: &TestApp, f: &Fixture, username: &str) -> i64 {
    redbutler::auth::users::by_username(&app.db, f.sid, username)
        .await
        .unwrap()
        .expect("user exists")
        .id
}

fn form(pairs: &[(&str, &str)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

fn fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| e["field"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn admin_creates_a_user_through_the_api_who_can_then_log_in() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let t = app.token(&f, "admin").await;
        let (s, v) = app
            .post_json(
                "/api/v1/users",
                &t,
                json!({ "username": "clerk.li", "display_name": "李文书", "password": "Clerk-pass-1", "person_id": f.person_a2 }),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        assert_eq!(v["username"], "clerk.li");
        assert_eq!(v["person_id"], f.person_a2);
        let id = v["id"].as_i64().unwrap();
        let (s, _) = app.browser_login("clerk.li", "Clerk-pass-1").await;
        assert_eq!(s, StatusCode::SEE_OTHER, "the new user logs in");
        // Listed, and found by prefix.
        let (s, v) = app.get_json("/api/v1/users?q=CLERK", &t).await;
        assert_eq!(s, StatusCode::OK);
        let users = v["users"].as_array().unwrap();
        assert_eq!(users.len(), 1);
        assert_eq!(users[0]["id"], id);
        let (_, v) = app.get_json("/api/v1/users", &t).await;
        let admin = v["users"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["username"] == "admin")
            .unwrap()
            .clone();
        assert_eq!(admin["grants"][0]["role"], "subdistrict_admin");
        assert_eq!(admin["grants"][0]["place"], "夏阳街道");
        let resident = v["users"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["username"] == "resident")
            .unwrap()
            .clone();
        let owner = resident["grants"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["role"] == "owner")
            .unwrap()
            .clone();
        assert_eq!(owner["room_id"], f.room_a1);
        assert_eq!(owner["place"], "城中东路311号 1单元 502");
        // The same name twice, and bad fields, are refused naming each field.
        let (s, v) = app
            .post_json(
                "/api/v1/users",
                &t,
                json!({ "username": "clerk.li", "display_name": "x", "password": "Clerk-pass-1" }),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(fields(&v), ["username"]);
        let (s, v) = app
            .post_json(
                "/api/v1/users",
                &t,
                json!({ "username": "a b", "display_name": "", "password": "short", "person_id": "x" }),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        let fs = fields(&v);
        for f in ["username", "display_name", "password", "person_id"] {
            assert!(fs.iter().any(|x| x == f), "{f} in {fs:?}");
        }
        let (s, v) = app
            .post_json(
                "/api/v1/users",
                &t,
                json!({ "username": "ghost", "display_name": "x", "password": "Clerk-pass-1", "person_id": 12345 }),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(fields(&v), ["person_id"]);
        let (s, _) = app.get_json("/api/v1/users?q=ghost", &t).await;
        assert_eq!(s, StatusCode::OK);
        assert!(redbutler::auth::users::by_username(&app.db, f.sid, "ghost")
            .await
            .unwrap()
            .is_none());
    })
    .await;
}

#[tokio::test]
async fn a_grid_member_is_refused_the_admin_api_and_pages() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let t = app.token(&f, "gm_a1").await;
        let gm = user_id(&app, &f, "gm_a1").await;
        for path in [
            "/api/v1/users",
            "/api/v1/audit",
            &format!("/api/v1/users/{gm}/grants"),
        ] {
            let (s, v) = app.get_json(path, &t).await;
            assert_eq!(s, StatusCode::FORBIDDEN, "{path}");
            assert_eq!(v["status"], 403);
        }
        let (s, _) = app
            .post_json(
                &format!("/api/v1/users/{gm}/grants"),
                &t,
                json!({ "role": "subdistrict_admin", "node_id": f.root }),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, _) = app
            .post_json(
                &format!("/api/v1/users/{gm}/password"),
                &t,
                json!({ "password": "Other-pass-1" }),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (_, cookies) = app.browser_login("gm_a1", PASSWORD).await;
        for path in ["/admin/users", "/audit", &format!("/admin/users/{gm}")] {
            let (s, h, body) = app.browser_get(path, &cookies).await;
            assert_eq!(s, StatusCode::FORBIDDEN, "{path}");
            assert!(h[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/html"));
            assert!(body.contains("无权访问"), "{body}");
        }
        let (s, _, _) = app
            .browser_post(
                "/admin/users",
                &cookies,
                &form(&[
                    ("username", "sneaky"),
                    ("display_name", "x"),
                    ("password", "Sneak-pass-1"),
                ]),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        // Logged out, the pages ask for a login.
        let (s, h, _) = app.browser_get("/admin/users", "").await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        assert!(h[header::LOCATION].to_str().unwrap().starts_with("/login"));
    })
    .await;
}

#[tokio::test]
async fn a_grid_member_role_at_a_community_is_refused_by_the_anchor_rule() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let t = app.token(&f, "admin").await;
        let gm = user_id(&app, &f, "gm_a1").await;
        let url = format!("/api/v1/users/{gm}/grants");
        let (s, v) = app
            .post_json(
                &url,
                &t,
                json!({ "role": "grid_member", "node_id": f.community_a }),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert_eq!(fields(&v), ["node_id"]);
        // Unknown roles, ids that are not numbers and nodes that do not exist.
        let (s, v) = app
            .post_json(&url, &t, json!({ "role": "root", "node_id": f.grid_a2 }))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(fields(&v), ["role"]);
        let (s, v) = app
            .post_json(&url, &t, json!({ "role": "grid_member", "node_id": "abc" }))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(fields(&v), ["node_id"]);
        let (s, v) = app
            .post_json(&url, &t, json!({ "role": "grid_member", "node_id": 999 }))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(fields(&v), ["node_id"]);
        let (s, v) = app
            .post_json(&url, &t, json!({ "role": "owner", "room_id": 999 }))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(fields(&v), ["room_id"]);
        let (s, v) = app.post_json(&url, &t, json!({ "role": "resident" })).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "no person linked");
        assert_eq!(fields(&v), ["role"]);
        // Nothing was granted.
        let (_, v) = app.get_json(&url, &t).await;
        assert_eq!(v["grants"].as_array().unwrap().len(), 1);
        // The same grant twice is a conflict; unknown users are not found.
        let (s, _) = app
            .post_json(
                &url,
                &t,
                json!({ "role": "grid_member", "node_id": f.grid_a1 }),
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT);
        let (s, _) = app
            .post_json(
                "/api/v1/users/424242/grants",
                &t,
                json!({ "role": "grid_member", "node_id": f.grid_a1 }),
            )
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        // Malformed JSON is problem JSON.
        let req = axum::http::Request::post(&url)
            .header(header::AUTHORIZATION, format!("Bearer {t}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(axum::body::Body::from("{nope"))
            .unwrap();
        let (s, h, _) = app.send(req).await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert_eq!(h[header::CONTENT_TYPE], "application/problem+json");
    })
    .await;
}

#[tokio::test]
async fn grant_then_revoke_shows_in_the_audit_log_with_before_and_after() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let t = app.token(&f, "admin").await;
        let gm = user_id(&app, &f, "gm_a1").await;
        let url = format!("/api/v1/users/{gm}/grants");
        let (s, v) = app
            .post_json(
                &url,
                &t,
                json!({ "role": "grid_leader", "node_id": f.grid_a2 }),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let grant_id = v["id"].as_i64().unwrap();
        let (_, v) = app.get_json(&url, &t).await;
        let grants = v["grants"].as_array().unwrap();
        assert!(grants.iter().any(|g| g["id"] == grant_id
            && g["role"] == "grid_leader"
            && g["place"] == "章浜二网格"));
        // The new role works at once: gm_a1 now reaches grid A2.
        let gt = app.token(&f, "gm_a1").await;
        let (_, me) = app.get_json("/api/v1/me", &gt).await;
        assert_eq!(me["grants"].as_array().unwrap().len(), 2);
        let (s, _) = app
            .json(
                Method::DELETE,
                &format!("{url}/{grant_id}"),
                &t,
                Value::Null,
            )
            .await;
        assert_eq!(s, StatusCode::NO_CONTENT);
        let (s, _) = app
            .json(
                Method::DELETE,
                &format!("{url}/{grant_id}"),
                &t,
                Value::Null,
            )
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "already revoked");
        let (_, v) = app.get_json(&url, &t).await;
        assert_eq!(v["grants"].as_array().unwrap().len(), 1);
        let (s, v) = app
            .get_json(
                &format!("/api/v1/audit?action=role.&subject_type=user&subject_id={gm}"),
                &t,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let entries = v["entries"].as_array().unwrap();
        // Newest first: the revoke, the grant, then the fixture's grant.
        assert_eq!(entries.len(), 3, "{v}");
        assert_eq!(entries[0]["action"], "role.revoke");
        assert_eq!(entries[0]["actor"], "admin");
        assert_eq!(entries[0]["before"]["grant_id"], grant_id);
        assert_eq!(entries[0]["before"]["role"], "grid_leader");
        assert!(entries[0]["after"].is_null());
        assert_eq!(entries[1]["action"], "role.grant");
        assert_eq!(entries[1]["after"]["grant_id"], grant_id);
        assert_eq!(entries[1]["after"]["node_id"], f.grid_a2);
        assert!(entries[0]["at_local"].as_str().unwrap().len() == 19);
        assert!(v["next_before"].is_null());
        // The page shows them too, with the JSON in a details element.
        let (_, cookies) = app.browser_login("admin", PASSWORD).await;
        let (s, _, body) = app
            .browser_get(
                &format!("/audit?action=role.revoke&subject_id={gm}"),
                &cookies,
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        assert!(
            body.contains("role.revoke") && body.contains("<details"),
            "{body}"
        );
        assert!(body.contains("grid_leader"));
        assert!(!body.contains("role.grant</code>"));
    })
    .await;
}

#[tokio::test]
async fn the_last_subdistrict_admin_cannot_be_revoked() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let t = app.token(&f, "admin").await;
        let admin = user_id(&app, &f, "admin").await;
        let (_, v) = app
            .get_json(&format!("/api/v1/users/{admin}/grants"), &t)
            .await;
        let gid = v["grants"][0]["id"].as_i64().unwrap();
        let (s, _) = app
            .json(
                Method::DELETE,
                &format!("/api/v1/users/{admin}/grants/{gid}"),
                &t,
                Value::Null,
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT);
        let (s, _) = app.get_json("/api/v1/users", &t).await;
        assert_eq!(s, StatusCode::OK, "still an admin");
    })
    .await;
}

#[tokio::test]
async fn audit_filters_narrow_by_action_subject_and_date_and_page_with_before() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let t = app.token(&f, "admin").await;
        let gm = user_id(&app, &f, "gm_a1").await;
        let (s, v) = app.get_json("/api/v1/audit?action=user.create", &t).await;
        assert_eq!(s, StatusCode::OK);
        let e = v["entries"].as_array().unwrap();
        assert_eq!(e.len(), 4, "four fixture users");
        assert!(e.iter().all(|x| x["action"] == "user.create"));
        let (_, v) = app
            .get_json(
                &format!("/api/v1/audit?subject_type=user&subject_id={gm}"),
                &t,
            )
            .await;
        let e = v["entries"].as_array().unwrap();
        assert!(!e.is_empty());
        assert!(e.iter().all(|x| x["subject_id"] == gm));
        let (_, v) = app.get_json("/api/v1/audit?actor=nobody", &t).await;
        assert!(v["entries"].as_array().unwrap().is_empty());
        // Dates are Shanghai days: today holds everything, tomorrow nothing.
        let today = redbutler::clock::format_local(redbutler::clock::now_ms())[..10].to_string();
        let tomorrow = redbutler::clock::format_local(redbutler::clock::now_ms() + 86_400_000)
            [..10]
            .to_string();
        let (_, v) = app
            .get_json(
                &format!("/api/v1/audit?from={today}&to={today}&action=user.create"),
                &t,
            )
            .await;
        assert_eq!(v["entries"].as_array().unwrap().len(), 4);
        let (_, v) = app
            .get_json(&format!("/api/v1/audit?from={tomorrow}"), &t)
            .await;
        assert!(v["entries"].as_array().unwrap().is_empty());
        // Bad filters name the field.
        let (s, v) = app
            .get_json("/api/v1/audit?from=2026-13-01&subject_id=x&limit=0", &t)
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        let fs = fields(&v);
        for f in ["from", "subject_id", "limit"] {
            assert!(fs.iter().any(|x| x == f), "{f} in {fs:?}");
        }
        // Paging: two at a time, older with `before`, no repeats.
        let (_, all) = app.get_json("/api/v1/audit?limit=500", &t).await;
        let total = all["entries"].as_array().unwrap().len();
        assert!(total > 4);
        let mut seen = Vec::new();
        let mut before: Option<i64> = None;
        loop {
            let url = match before {
                Some(b) => format!("/api/v1/audit?limit=2&before={b}"),
                None => "/api/v1/audit?limit=2".into(),
            };
            let (_, v) = app.get_json(&url, &t).await;
            let e = v["entries"].as_array().unwrap();
            assert!(e.len() <= 2);
            seen.extend(e.iter().map(|x| x["id"].as_i64().unwrap()));
            match v["next_before"].as_i64() {
                Some(b) => before = Some(b),
                None => break,
            }
        }
        assert_eq!(seen.len(), total);
        assert!(seen.windows(2).all(|w| w[0] > w[1]), "newest first");
        // The page: an "older" link keeps the filters; a bad date is shown next to its field.
        let (_, cookies) = app.browser_login("admin", PASSWORD).await;
        let (s, _, body) = app
            .browser_get("/audit?action=user.&limit=2", &cookies)
            .await;
        assert_eq!(s, StatusCode::OK);
        assert!(
            body.contains("action=user.&amp;limit=2&amp;before="),
            "{body}"
        );
        let (s, _, body) = app
            .browser_get("/audit?from=yesterday&actor=admin", &cookies)
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body.contains("YYYY-MM-DD"));
        assert!(body.contains("value=\"yesterday\""));
        assert!(body.contains("value=\"admin\""));
    })
    .await;
}

#[tokio::test]
async fn an_admin_password_reset_ends_the_users_sessions() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let t = app.token(&f, "admin").await;
        let gm = user_id(&app, &f, "gm_a1").await;
        let (_, gm_cookies) = app.browser_login("gm_a1", PASSWORD).await;
        let (s, _, _) = app.browser_get("/", &gm_cookies).await;
        assert_eq!(s, StatusCode::OK);
        let url = format!("/api/v1/users/{gm}/password");
        let (s, v) = app
            .post_json(&url, &t, json!({ "password": "short" }))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(fields(&v), ["password"]);
        let (s, _) = app
            .post_json(&url, &t, json!({ "password": "Fresh-pass-9" }))
            .await;
        assert_eq!(s, StatusCode::NO_CONTENT);
        let (s, h, _) = app.browser_get("/", &gm_cookies).await;
        assert_eq!(s, StatusCode::SEE_OTHER, "the session ended");
        assert!(h[header::LOCATION].to_str().unwrap().starts_with("/login"));
        let (s, _) = app.browser_login("gm_a1", PASSWORD).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        let (s, gm_cookies) = app.browser_login("gm_a1", "Fresh-pass-9").await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        // The same through the admin's page.
        let (_, cookies) = app.browser_login("admin", PASSWORD).await;
        let (s, h, _) = app
            .browser_post(
                &format!("/admin/users/{gm}/password"),
                &cookies,
                &form(&[("password", "Third-pass-3")]),
            )
            .await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        assert!(h[header::LOCATION]
            .to_str()
            .unwrap()
            .contains("ok=password"));
        let (s, _, _) = app.browser_get("/", &gm_cookies).await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        let (s, _, body) = app
            .browser_post(
                &format!("/admin/users/{gm}/password"),
                &cookies,
                &form(&[("password", "nodigits")]),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body.contains("密码需8到128位"), "{body}");
        let (_, v) = app
            .get_json(
                &format!("/api/v1/audit?action=user.password&subject_id={gm}"),
                &t,
            )
            .await;
        assert_eq!(v["entries"].as_array().unwrap().len(), 2);
    })
    .await;
}

#[tokio::test]
async fn the_add_user_form_keeps_typed_values_on_a_validation_error() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let (_, cookies) = app.browser_login("admin", PASSWORD).await;
        let (s, _, body) = app.browser_get("/admin/users", &cookies).await;
        assert_eq!(s, StatusCode::OK);
        assert!(
            body.contains("gm_a1") && body.contains("章浜一网格") && body.contains("网格员"),
            "{body}"
        );
        let (_, _, body) = app
            .browser_get("/admin/users", &format!("{cookies}; rb_lang=en"))
            .await;
        assert!(body.contains("Add a user") && body.contains("grid member"));
        let (_, _, body) = app.browser_get("/admin/users?q=gm", &cookies).await;
        assert!(body.contains("gm_a1") && !body.contains(">auditor<"));
        let typed = [
            ("username", "bad name!"),
            ("display_name", "王小明"),
            ("password", "Good-pass-1"),
            ("person_id", "12x"),
        ];
        let (s, _, body) = app
            .browser_post("/admin/users", &cookies, &form(&typed))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        for v in [
            "value=\"bad name!\"",
            "value=\"王小明\"",
            "value=\"12x\"",
            "value=\"Good-pass-1\"",
        ] {
            assert!(body.contains(v), "{v} kept");
        }
        assert!(
            body.contains("用户名为2到64位"),
            "message next to the user name"
        );
        assert!(
            body.contains("请填写数字编号"),
            "message next to the person id"
        );
        // Fixed, it goes through and lands on the user's page.
        let good = [
            ("username", "wang.xm"),
            ("display_name", "王小明"),
            ("password", "Good-pass-1"),
            ("person_id", ""),
        ];
        let (s, h, _) = app
            .browser_post("/admin/users", &cookies, &form(&good))
            .await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        let loc = h[header::LOCATION].to_str().unwrap().to_string();
        assert!(loc.starts_with("/admin/users/"));
        let (s, _, body) = app.browser_get(&loc, &cookies).await;
        assert_eq!(s, StatusCode::OK);
        assert!(body.contains("用户已创建") && body.contains("wang.xm"));
        // The grant form: a wrong anchor is explained in place, the choice kept.
        let id = user_id(&app, &f, "wang.xm").await;
        let bad = [
            ("role", "grid_member"),
            ("node_id", &f.community_a.to_string()[..]),
            ("node_id_other", ""),
            ("room_id", ""),
            ("org_id", ""),
        ];
        let (s, _, body) = app
            .browser_post(&format!("/admin/users/{id}/grants"), &cookies, &form(&bad))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body.contains("网格员不能授予在居民区上"), "{body}");
        assert!(body.contains("value=\"grid_member\" selected"));
        assert!(body.contains(&format!("value=\"{}\" selected", f.community_a)));
        let ok = [
            ("role", "grid_member"),
            ("node_id", &f.community_a.to_string()[..]),
            ("node_id_other", &f.grid_a2.to_string()[..]),
        ];
        let (s, h, _) = app
            .browser_post(&format!("/admin/users/{id}/grants"), &cookies, &form(&ok))
            .await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        let (_, _, body) = app
            .browser_get(h[header::LOCATION].to_str().unwrap(), &cookies)
            .await;
        assert!(body.contains("角色已授予") && body.contains("章浜二网格"));
        // Revoke with the button.
        let grants = redbutler::access::store::grants_of(&app.db, f.sid, id)
            .await
            .unwrap();
        assert_eq!(grants.len(), 1);
        let (s, _, _) = app
            .browser_post(
                &format!("/admin/users/{id}/grants/{}/revoke", grants[0].id),
                &cookies,
                "",
            )
            .await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        assert!(redbutler::access::store::grants_of(&app.db, f.sid, id)
            .await
            .unwrap()
            .is_empty());
    })
    .await;
}
