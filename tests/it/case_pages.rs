//! The case pages: filing a case through the form (safe to submit twice), the list of cases
//! one's roles reach, a case's page with its action forms, conflicts and access.

use axum::http::{header, StatusCode};
use sqlx::Row;

use crate::harness::{for_each_db, Fixture, TestApp, PASSWORD};

fn encode(pairs: &[(&str, &str)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

/// The value of the first `name="…"` input in the page.
fn field_value(html: &str, name: &str) -> String {
    let at = html
        .find(&format!("name=\"{name}\" value=\""))
        .unwrap_or_else(|| panic!("no field {name} in {html}"));
    let rest = &html[at + name.len() + 15..];
    rest[..rest.find('"').unwrap()].to_string()
}

fn location(h: &axum::http::HeaderMap) -> String {
    h.get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

async fn count_cases(app: &TestApp, sid: i64) -> i64 {
    sqlx::query("SELECT CAST(COUNT(*) AS BIGINT) FROM cases WHERE subdistrict_id = $1")
        .bind(sid)
        .fetch_one(app.db.read())
        .await
        .unwrap()
        .get::<i64, _>(0)
}

async fn file(
    app: &TestApp,
    cookies: &str,
    key: &str,
    node_id: i64,
    title: &str,
) -> (StatusCode, String, String) {
    let form = encode(&[
        ("key", key),
        ("category", "env.clutter"),
        ("node_id", &node_id.to_string()),
        ("title", title),
        ("description", "楼道里堆满了纸箱和旧家具,影响通行。"),
    ]);
    let (s, h, body) = app.browser_post("/cases/new", cookies, &form).await;
    (s, location(&h), body)
}

async fn login(app: &TestApp, user: &str) -> String {
    let (s, cookies) = app.browser_login(user, PASSWORD).await;
    assert!(s.is_redirection(), "login of {user}: {s}");
    cookies
}

fn case_id(location: &str) -> i64 {
    location
        .strip_prefix("/cases/")
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not a case address: {location}"))
}

async fn gm_files_a_case(app: &TestApp, f: &Fixture, gm: &str) -> i64 {
    let (s, _, page) = app.browser_get("/cases/new", gm).await;
    assert_eq!(s, StatusCode::OK, "{page}");
    let key = field_value(&page, "key");
    let (s, loc, body) = file(app, gm, &key, f.building_a1, "楼道堆物").await;
    assert!(s.is_redirection(), "{s} {body}");
    case_id(&loc)
}

#[tokio::test]
async fn a_grid_member_files_a_case_through_the_form_and_finds_it() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let gm = login(&app, "gm_a1").await;
        let (s, _, page) = app.browser_get("/cases/new", &gm).await;
        assert_eq!(s, StatusCode::OK);
        // Their grid and its building are offered; categories are grouped by root.
        assert!(page.contains(&format!("value=\"{}\"", f.grid_a1)), "{page}");
        assert!(page.contains(&format!("value=\"{}\"", f.building_a1)));
        assert!(!page.contains(&format!("value=\"{}\"", f.building_a2)));
        assert!(page.contains("optgroup") && page.contains("value=\"env.clutter\""));
        let id = gm_files_a_case(&app, &f, &gm).await;

        let (s, _, list) = app.browser_get("/cases", &gm).await;
        assert_eq!(s, StatusCode::OK);
        assert!(
            list.contains("楼道堆物") && list.contains(&format!("/cases/{id}")),
            "{list}"
        );
        assert!(list.contains("-000001"));
        // The state filter: nothing registered yet.
        let (_, list) = {
            let (s, _, b) = app.browser_get("/cases?state=registered", &gm).await;
            (s, b)
        };
        assert!(!list.contains("楼道堆物"), "{list}");
        let (_, _, list) = app.browser_get("/cases?state=submitted", &gm).await;
        assert!(list.contains("楼道堆物"));

        let (s, _, page) = app.browser_get(&format!("/cases/{id}"), &gm).await;
        assert_eq!(s, StatusCode::OK, "{page}");
        assert!(page.contains("楼道堆物") && page.contains("纸箱和旧家具"));
        assert!(page.contains("-000001"));
        // The timeline starts with the report.
        assert!(page.contains("timeline"));
    })
    .await;
}

#[tokio::test]
async fn a_form_submitted_twice_files_one_case() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let gm = login(&app, "gm_a1").await;
        let (_, _, page) = app.browser_get("/cases/new", &gm).await;
        let key = field_value(&page, "key");
        let before = count_cases(&app, f.sid).await;
        let (s1, loc1, _) = file(&app, &gm, &key, f.building_a1, "同一件事").await;
        let (s2, loc2, _) = file(&app, &gm, &key, f.building_a1, "同一件事").await;
        assert!(s1.is_redirection() && s2.is_redirection());
        assert_eq!(loc1, loc2);
        assert_eq!(count_cases(&app, f.sid).await, before + 1);
        // A fresh render gets a fresh key.
        let (_, _, page2) = app.browser_get("/cases/new", &gm).await;
        assert_ne!(field_value(&page2, "key"), key);
    })
    .await;
}

#[tokio::test]
async fn a_form_error_keeps_what_was_typed() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let gm = login(&app, "gm_a1").await;
        let form = encode(&[
            ("key", "k-error-1"),
            ("category", "env"),
            ("node_id", &f.building_a1.to_string()),
            ("title", "我打的标题"),
            ("description", " "),
        ]);
        let (s, _, page) = app.browser_post("/cases/new", &gm, &form).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
        assert!(page.contains("value=\"我打的标题\""), "{page}");
        assert!(page.contains("请选择具体的小类"), "{page}");
        assert!(page.contains("请填写"));
        assert_eq!(count_cases(&app, f.sid).await, 0);
    })
    .await;
}

#[tokio::test]
async fn the_admin_registers_and_dispatches_and_a_stale_form_is_told() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let gm = login(&app, "gm_a1").await;
        let id = gm_files_a_case(&app, &f, &gm).await;
        // The grid member cannot register: no such form for them.
        let (_, _, page) = app.browser_get(&format!("/cases/{id}"), &gm).await;
        assert!(!page.contains("value=\"register\""), "{page}");

        let admin = login(&app, "admin").await;
        let (s, _, page) = app.browser_get(&format!("/cases/{id}"), &admin).await;
        assert_eq!(s, StatusCode::OK);
        assert!(
            page.contains("value=\"register\"") && page.contains("value=\"reject\""),
            "{page}"
        );
        assert!(!page.contains("value=\"dispatch\""));
        let v1 = field_value(&page, "version");
        let act = |version: &str, action: &str, extra: &[(&str, &str)]| {
            let mut pairs = vec![("version", version), ("action", action)];
            pairs.extend_from_slice(extra);
            encode(&pairs)
        };
        let (s, h, body) = app
            .browser_post(
                &format!("/cases/{id}/act"),
                &admin,
                &act(&v1, "register", &[]),
            )
            .await;
        assert!(s.is_redirection(), "{s} {body}");
        assert_eq!(location(&h), format!("/cases/{id}"));

        let (_, _, page) = app.browser_get(&format!("/cases/{id}"), &admin).await;
        assert!(page.contains("已立案"), "{page}");
        assert!(page.contains("value=\"dispatch\""));
        // The unit is picked from a list: the routing suggestion (the community, for this
        // category) pre-selected, the case's grid among the others.
        assert!(page.contains("select name=\"unit_id\""), "{page}");
        assert!(
            page.contains(&format!("option value=\"{}\" selected", f.community_a)),
            "{page}"
        );
        assert!(
            page.contains(&format!("option value=\"{}\"", f.grid_a1)),
            "{page}"
        );
        let v2 = field_value(&page, "version");
        assert_ne!(v1, v2);

        // A form rendered before the registration is stale now.
        let (s, _, page) = app
            .browser_post(
                &format!("/cases/{id}/act"),
                &admin,
                &act(&v1, "reject", &[("text", "重复")]),
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT);
        assert!(
            page.contains("事项已被他人更新,请查看最新状态后重试"),
            "{page}"
        );
        assert!(page.contains("已立案"));

        let grid = f.grid_a1.to_string();
        let (s, _, body) = app
            .browser_post(
                &format!("/cases/{id}/act"),
                &admin,
                &act(&v2, "dispatch", &[("unit_id", &grid)]),
            )
            .await;
        assert!(s.is_redirection(), "{s} {body}");
        let (_, _, page) = app.browser_get(&format!("/cases/{id}"), &admin).await;
        assert!(
            page.contains("已派单") || page.contains("dispatched"),
            "{page}"
        );
        // Dispatched: a due time is shown.
        assert!(page.contains("办理时限"), "{page}");
        let (_, _, list) = app.browser_get("/cases?state=dispatched", &gm).await;
        assert!(list.contains(&format!("/cases/{id}")), "{list}");

        // A refused action shows its reason (reject is no longer possible).
        let v3 = field_value(&page, "version");
        let (s, _, page) = app
            .browser_post(
                &format!("/cases/{id}/act"),
                &admin,
                &act(&v3, "reject", &[("text", "x")]),
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "{page}");
        assert!(!page.contains("事项已被他人更新"));
    })
    .await;
}

#[tokio::test]
async fn a_grid_member_cannot_open_a_case_of_another_grid() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let admin = login(&app, "admin").await;
        let (_, _, page) = app.browser_get("/cases/new", &admin).await;
        // Above the grid, the place is typed as a node id.
        assert!(page.contains("type=\"number\" name=\"node_id\""), "{page}");
        let key = field_value(&page, "key");
        let (s, loc, body) = file(&app, &admin, &key, f.building_a2, "A2 的事").await;
        assert!(s.is_redirection(), "{s} {body}");
        let id = case_id(&loc);
        let gm = login(&app, "gm_a1").await;
        let (s, _, _) = app.browser_get(&format!("/cases/{id}"), &gm).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (_, _, list) = app.browser_get("/cases", &gm).await;
        assert!(!list.contains("A2 的事"), "{list}");
        let (_, _, list) = app.browser_get("/cases", &admin).await;
        assert!(list.contains("A2 的事"), "{list}");
    })
    .await;
}

#[tokio::test]
async fn a_resident_files_at_home_and_sees_only_public_events() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let res = login(&app, "resident").await;
        let (s, _, page) = app.browser_get("/cases/new", &res).await;
        assert_eq!(s, StatusCode::OK, "{page}");
        assert!(page.contains(&format!("value=\"{}\"", f.unit_a1)), "{page}");
        assert!(!page.contains(&format!("value=\"{}\"", f.building_a2)));
        let key = field_value(&page, "key");
        let (s, loc, body) = file(&app, &res, &key, f.unit_a1, "门口漏水").await;
        assert!(s.is_redirection(), "{s} {body}");
        let id = case_id(&loc);
        let (_, _, list) = app.browser_get("/cases", &res).await;
        assert!(list.contains("门口漏水"), "{list}");

        let admin = login(&app, "admin").await;
        let (_, _, page) = app.browser_get(&format!("/cases/{id}"), &admin).await;
        let v = field_value(&page, "version");
        let form = encode(&[
            ("version", &v),
            ("action", "note"),
            ("text", "内部备注不公开"),
        ]);
        let (s, _, body) = app
            .browser_post(&format!("/cases/{id}/act"), &admin, &form)
            .await;
        assert!(s.is_redirection(), "{s} {body}");
        let (_, _, page) = app.browser_get(&format!("/cases/{id}"), &admin).await;
        assert!(page.contains("内部备注不公开"));
        let (s, _, page) = app.browser_get(&format!("/cases/{id}"), &res).await;
        assert_eq!(s, StatusCode::OK);
        assert!(
            page.contains("门口漏水") && !page.contains("内部备注不公开"),
            "{page}"
        );
        // The reporter may withdraw before registration, and nothing staff-only is offered.
        assert!(
            page.contains("value=\"withdraw\"") && !page.contains("value=\"register\""),
            "{page}"
        );
    })
    .await;
}
