//! Routing and dispatch, and the deadline watcher: cases go to the unit the rules pick (the
//! property company serving the estate, a configured rule), dispatch through the page's unit
//! list, bad units and reasonless transfers refused, disputes ruled by the operations centre;
//! an ignored case warned, then escalated to the community and the subdistrict exactly once
//! each, a paused case left alone, an urgent case escalated after hours.

use axum::http::{header, Method, StatusCode};
use redbutler::access::{self, Role};
use redbutler::cases::watch;
use redbutler::tree::store as tree;
use serde_json::{json, Value};
use sqlx::Row;

use crate::harness::{for_each_db, Fixture, TestApp, PASSWORD};

const MINUTE: i64 = 60_000;
const HOUR: i64 = 3_600_000;
const DAY: i64 = 86_400_000;

fn encode(pairs: &[(&str, &str)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

/// A user holding `role` at `node_id` (and `org_id`), with the test password.
async fn user_with(
    app: &TestApp,
    f: &Fixture,
    name: &str,
    role: Role,
    node_id: i64,
    org_id: Option<i64>,
) -> String {
    let at = access::store::At {
        node_id: Some(node_id),
        org_id,
        ..Default::default()
    };
    app.user_token(f, name, role, at).await
}

async fn org(app: &TestApp, f: &Fixture, kind: &str, name: &str, node_id: i64) -> i64 {
    let mut tx = app.db.begin().await.unwrap();
    let o = tree::create_org(&mut tx, f.sid, kind, name, Some(node_id))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    o.id
}

async fn open(app: &TestApp, t: &str, category: &str, node_id: i64) -> i64 {
    let (s, v) = app
        .post_json(
            "/api/v1/cases",
            t,
            json!({ "category": category, "node_id": node_id, "title": "测试事项",
                "description": "居民反映的情况,请尽快处理。" }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v["id"].as_i64().unwrap()
}

async fn case(app: &TestApp, t: &str, id: i64) -> Value {
    let (s, v) = app.get_json(&format!("/api/v1/cases/{id}"), t).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v
}

async fn act(app: &TestApp, t: &str, id: i64, action: Value) -> (StatusCode, Value) {
    let version = case(app, t, id).await["version"].as_i64().unwrap();
    app.act(t, id, version, action).await
}

async fn ok(app: &TestApp, t: &str, id: i64, action: Value) -> Value {
    let (s, v) = act(app, t, id, action.clone()).await;
    assert_eq!(s, StatusCode::OK, "{action}: {v}");
    v
}

/// Opens, registers (by the admin, for the operations centre) and dispatches to `unit`.
async fn dispatched(app: &TestApp, admin: &str, category: &str, node_id: i64, unit: i64) -> i64 {
    let id = open(app, admin, category, node_id).await;
    ok(app, admin, id, json!({ "kind": "register" })).await;
    ok(
        app,
        admin,
        id,
        json!({ "kind": "dispatch", "unit_id": unit }),
    )
    .await;
    id
}

fn field_errors(v: &Value) -> Vec<String> {
    v["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| e["field"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn a_property_case_routes_to_the_company_serving_its_estate() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let admin = app.token(&f, "admin").await;
        // One company serves the community, another the building: the nearer one wins.
        let _far = org(&app, &f, "property_company", "章浜物业", f.community_a).await;
        let near = org(&app, &f, "property_company", "绿城物业", f.building_a1).await;
        let id = open(&app, &admin, "property.access", f.unit_a1).await;
        let (s, r) = app
            .get_json(&format!("/api/v1/cases/{id}/route"), &admin)
            .await;
        assert_eq!(s, StatusCode::OK, "{r}");
        assert_eq!(r["unit"]["id"], near, "{r}");
        assert_eq!(r["unit"]["kind"], "property_company");
        assert_eq!(r["rule_id"], Value::Null);
        assert!(
            r["reason"]["zh"].as_str().unwrap().contains("绿城物业"),
            "{r}"
        );
        assert!(
            r["reason"]["en"]
                .as_str()
                .unwrap()
                .contains("property company"),
            "{r}"
        );
        let choices = r["choices"].as_array().unwrap();
        assert_eq!(choices[0]["id"], near);
        assert_eq!(choices[0]["suggested"], true);
        assert_eq!(choices.last().unwrap()["id"], f.root);
        assert!(choices.iter().any(|c| c["id"] == f.grid_a2));
        // Elsewhere (building A2, no company of its own) the community's company serves.
        let other = open(&app, &admin, "property.access", f.building_a2).await;
        let (_, r) = app
            .get_json(&format!("/api/v1/cases/{other}/route"), &admin)
            .await;
        assert_eq!(r["unit"]["name"], "章浜物业", "{r}");

        // Dispatched to the company, its staff act for it.
        ok(&app, &admin, id, json!({ "kind": "register" })).await;
        let v = ok(
            &app,
            &admin,
            id,
            json!({ "kind": "dispatch", "unit_id": near }),
        )
        .await;
        assert_eq!(v["lifecycle"]["owner_unit"], near);
        let pm = user_with(
            &app,
            &f,
            "pm",
            Role::PropertyStaff,
            f.building_a1,
            Some(near),
        )
        .await;
        let v = ok(
            &app,
            &pm,
            id,
            json!({ "kind": "first_contact", "note": "已联系住户" }),
        )
        .await;
        assert_eq!(v["state"], "in_handling", "{v}");
        // Staff of the other company cannot.
        let far_pm = user_with(
            &app,
            &f,
            "pm2",
            Role::PropertyStaff,
            f.building_a1,
            Some(_far),
        )
        .await;
        let (s, v) = act(
            &app,
            &far_pm,
            id,
            json!({ "kind": "report_handled", "summary": "修好了" }),
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
        // The resident may not ask for the route.
        let res = app.token(&f, "resident").await;
        let (s, _) = app
            .get_json(&format!("/api/v1/cases/{id}/route"), &res)
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    })
    .await;
}

#[tokio::test]
async fn a_lift_case_follows_a_configured_rule() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let admin = app.token(&f, "admin").await;
        let id = open(&app, &admin, "lift.fault", f.building_a1).await;
        // No company serves the place and no rule exists: the community takes it.
        let (_, r) = app.get_json(&format!("/api/v1/cases/{id}/route"), &admin).await;
        assert_eq!(r["unit"]["id"], f.community_a, "{r}");
        assert!(r["reason"]["en"].as_str().unwrap().starts_with("no property company"), "{r}");

        let maint = org(&app, &f, "social_org", "电梯维保站", f.community_a).await;
        let (s, rule) = app
            .post_json(
                "/api/v1/routing/rules",
                &admin,
                json!({ "category_prefix": "lift", "node_id": f.community_a, "unit_id": maint }),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{rule}");
        let rule_id = rule["id"].as_i64().unwrap();
        assert_eq!(rule["unit_name"], "电梯维保站");
        assert_eq!(rule["node_name"], "章浜居民区");
        let (_, r) = app.get_json(&format!("/api/v1/cases/{id}/route"), &admin).await;
        assert_eq!(r["unit"]["id"], maint, "{r}");
        assert_eq!(r["rule_id"], rule_id);
        assert!(r["reason"]["zh"].as_str().unwrap().contains(&format!("#{rule_id}")), "{r}");
        // The village is outside the rule.
        let village_case = open(&app, &admin, "lift.fault", f.group_v1).await;
        let (_, r) = app.get_json(&format!("/api/v1/cases/{village_case}/route"), &admin).await;
        assert_eq!(r["unit"]["id"], f.village, "{r}");

        let (s, list) = app.get_json("/api/v1/routing/rules", &admin).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(list["rules"].as_array().unwrap().len(), 1);
        // Bad rules name their fields.
        let (s, v) = app
            .post_json(
                "/api/v1/routing/rules",
                &admin,
                json!({ "category_prefix": "nope", "node_id": 1, "unit_id": f.building_a1, "priority": 5000 }),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        let fields = field_errors(&v);
        for field in ["category_prefix", "node_id", "unit_id", "priority"] {
            assert!(fields.iter().any(|x| x == field), "{field}: {v}");
        }
        // Only administrators configure.
        let gm = app.token(&f, "gm_a1").await;
        let (s, _) = app
            .post_json("/api/v1/routing/rules", &gm, json!({ "unit_id": f.grid_a1 }))
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, _) = app.get_json("/api/v1/routing/rules", &gm).await;
        assert_eq!(s, StatusCode::FORBIDDEN);

        let (s, _) = app
            .json(Method::DELETE, &format!("/api/v1/routing/rules/{rule_id}"), &admin, json!({}))
            .await;
        assert_eq!(s, StatusCode::NO_CONTENT);
        let (s, _) = app
            .json(Method::DELETE, &format!("/api/v1/routing/rules/{rule_id}"), &admin, json!({}))
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (_, r) = app.get_json(&format!("/api/v1/cases/{id}/route"), &admin).await;
        assert_eq!(r["unit"]["id"], f.community_a, "{r}");
        let audited = app.count_sql("SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log WHERE subdistrict_id = $1 \
             AND action IN ('routing.rule_add', 'routing.rule_remove')",
            f.sid,
        )
        .await;
        assert_eq!(audited, 2);
    })
    .await;
}

#[tokio::test]
async fn the_admin_page_adds_and_removes_rules() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let (_, admin) = app.browser_login("admin", PASSWORD).await;
        let (s, _, page) = app.browser_get("/admin/routing", &admin).await;
        assert_eq!(s, StatusCode::OK);
        assert!(page.contains("尚无规则"), "{page}");
        assert!(page.contains("name=\"category_prefix\""));
        let form = encode(&[
            ("category_prefix", "lift"),
            ("node_id", &f.community_a.to_string()),
            ("unit_id", &f.grid_a2.to_string()),
            ("priority", "3"),
        ]);
        let (s, h, body) = app.browser_post("/admin/routing", &admin, &form).await;
        assert!(s.is_redirection(), "{s} {body}");
        assert_eq!(h[header::LOCATION], "/admin/routing?saved=1");
        let (_, _, page) = app.browser_get("/admin/routing?saved=1", &admin).await;
        assert!(
            page.contains("章浜二网格") && page.contains("已保存"),
            "{page}"
        );
        // A bad form re-renders with the message by its field, 422.
        let form = encode(&[("category_prefix", "lift"), ("unit_id", "abc")]);
        let (s, _, page) = app.browser_post("/admin/routing", &admin, &form).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.contains("请从列表中选择"), "{page}");
        let id: i64 = sqlx::query("SELECT id FROM routing_rules WHERE subdistrict_id = $1")
            .bind(f.sid)
            .fetch_one(app.db.read())
            .await
            .unwrap()
            .get(0);
        let (s, _, _) = app
            .browser_post(&format!("/admin/routing/{id}/remove"), &admin, "")
            .await;
        assert!(s.is_redirection());
        let (_, _, page) = app.browser_get("/admin/routing", &admin).await;
        assert!(page.contains("尚无规则"), "{page}");
        // Grid members do not get the page.
        let (_, gm) = app.browser_login("gm_a1", PASSWORD).await;
        let (s, _, _) = app.browser_get("/admin/routing", &gm).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    })
    .await;
}

#[tokio::test]
async fn dispatch_through_the_page_picks_from_the_unit_list() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let admin = app.token(&f, "admin").await;
        let pc = org(&app, &f, "property_company", "绿城物业", f.grid_a1).await;
        let id = open(&app, &admin, "env.greenery", f.building_a1).await;
        ok(&app, &admin, id, json!({ "kind": "register" })).await;
        let (_, cookies) = app.browser_login("admin", PASSWORD).await;
        let (s, _, page) = app.browser_get(&format!("/cases/{id}"), &cookies).await;
        assert_eq!(s, StatusCode::OK);
        assert!(page.contains("select name=\"unit_id\""), "{page}");
        assert!(
            page.contains(&format!("option value=\"{pc}\" selected")),
            "{page}"
        );
        assert!(page.contains("【建议】绿城物业"), "{page}");
        for unit in [f.grid_a1, f.grid_a2, f.community_a, f.root] {
            assert!(page.contains(&format!("option value=\"{unit}\"")), "{unit}");
        }
        // The other community's units are not offered.
        assert!(!page.contains(&format!("option value=\"{}\"", f.grid_v1)));
        let version = case(&app, &admin, id).await["version"]
            .as_i64()
            .unwrap()
            .to_string();
        let form = encode(&[
            ("version", &version),
            ("action", "dispatch"),
            ("unit_id", &f.grid_a2.to_string()),
        ]);
        let (s, _, body) = app
            .browser_post(&format!("/cases/{id}/act"), &cookies, &form)
            .await;
        assert!(s.is_redirection(), "{s} {body}");
        let v = case(&app, &admin, id).await;
        assert_eq!(v["lifecycle"]["owner_unit"], f.grid_a2);
        // The transfer form leaves out the current owner and needs a reason.
        let (_, _, page) = app.browser_get(&format!("/cases/{id}"), &cookies).await;
        let transfer = &page[page.find("value=\"transfer\"").expect("a transfer form")..];
        let transfer = &transfer[..transfer.find("</form>").unwrap()];
        assert!(
            !transfer.contains(&format!("option value=\"{}\"", f.grid_a2)),
            "{transfer}"
        );
        assert!(
            transfer.contains("textarea name=\"text\" rows=\"2\" required"),
            "{transfer}"
        );
    })
    .await;
}

#[tokio::test]
async fn a_unit_that_does_not_exist_here_is_refused_with_422() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let other = app.fixture_named("310118004", "别的街道").await;
        let admin = app.token(&f, "admin").await;
        let id = open(&app, &admin, "env.clutter", f.building_a1).await;
        ok(&app, &admin, id, json!({ "kind": "register" })).await;
        let developer = org(&app, &f, "developer", "开发商", f.community_a).await;
        for bad in [999_999_999, f.building_a1, other.grid_a1, developer] {
            let (s, v) = act(
                &app,
                &admin,
                id,
                json!({ "kind": "dispatch", "unit_id": bad }),
            )
            .await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {v}");
            assert_eq!(field_errors(&v), vec!["unit_id".to_string()], "{v}");
        }
        // The page says so too, and nothing changed.
        let (_, cookies) = app.browser_login("admin", PASSWORD).await;
        let version = case(&app, &admin, id).await["version"]
            .as_i64()
            .unwrap()
            .to_string();
        let form = encode(&[
            ("version", &version),
            ("action", "dispatch"),
            ("unit_id", "12345"),
        ]);
        let (s, _, page) = app
            .browser_post(&format!("/cases/{id}/act"), &cookies, &form)
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.contains("没有这个承办单位"), "{page}");
        let form = encode(&[
            ("version", &version),
            ("action", "dispatch"),
            ("unit_id", ""),
        ]);
        let (s, _, _) = app
            .browser_post(&format!("/cases/{id}/act"), &cookies, &form)
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(case(&app, &admin, id).await["state"], "registered");
    })
    .await;
}

#[tokio::test]
async fn a_transfer_without_a_reason_is_refused() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let admin = app.token(&f, "admin").await;
        let gm = app.token(&f, "gm_a1").await;
        let id = dispatched(&app, &admin, "env.clutter", f.building_a1, f.grid_a1).await;
        let (s, v) = act(
            &app,
            &gm,
            id,
            json!({ "kind": "transfer", "unit_id": f.grid_a2, "reason": "  " }),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert_eq!(field_errors(&v), vec!["reason".to_string()]);
        let (s, v) = act(
            &app,
            &gm,
            id,
            json!({ "kind": "transfer", "unit_id": 42, "reason": "不归我们管" }),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert_eq!(field_errors(&v), vec!["unit_id".to_string()]);
        let v = ok(
            &app,
            &gm,
            id,
            json!({ "kind": "transfer", "unit_id": f.grid_a2, "reason": "属于二网格" }),
        )
        .await;
        assert_eq!(v["lifecycle"]["owner_unit"], f.grid_a2);
        assert_eq!(v["lifecycle"]["transfer_count"], 1);
    })
    .await;
}

#[tokio::test]
async fn a_disputed_dispatch_is_ruled_by_the_operations_centre() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let admin = app.token(&f, "admin").await;
        let gm = app.token(&f, "gm_a1").await;
        let id = dispatched(&app, &admin, "env.clutter", f.building_a1, f.grid_a1).await;
        let (s, _) = act(&app, &gm, id, json!({ "kind": "dispute", "reason": "" })).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        let v = ok(
            &app,
            &gm,
            id,
            json!({ "kind": "dispute", "reason": "该楼不在本网格" }),
        )
        .await;
        assert_eq!(v["state"], "disputed");
        // The operations centre finds it under the disputed filter.
        let (_, cookies) = app.browser_login("admin", PASSWORD).await;
        let (_, _, list) = app.browser_get("/cases", &cookies).await;
        assert!(list.contains("/cases?state=disputed"), "{list}");
        let (_, _, list) = app.browser_get("/cases?state=disputed", &cookies).await;
        assert!(list.contains(&format!("/cases/{id}")), "{list}");
        let (_, gm_cookies) = app.browser_login("gm_a1", PASSWORD).await;
        let (_, _, list) = app.browser_get("/cases", &gm_cookies).await;
        assert!(!list.contains("/cases?state=disputed"));
        // Only the centre rules.
        let (s, _) = act(
            &app,
            &gm,
            id,
            json!({ "kind": "dispatch", "unit_id": f.grid_a2 }),
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let due_before = case(&app, &admin, id).await["lifecycle"]["due_ms"].clone();
        let v = ok(
            &app,
            &admin,
            id,
            json!({ "kind": "dispatch", "unit_id": f.grid_a2 }),
        )
        .await;
        assert_eq!(v["state"], "dispatched");
        assert_eq!(v["lifecycle"]["owner_unit"], f.grid_a2);
        // The clock that started at the first dispatch keeps running.
        assert_eq!(v["lifecycle"]["due_ms"], due_before);
        let timeline = case(&app, &admin, id).await["timeline"].clone();
        let ruling = timeline
            .as_array()
            .unwrap()
            .iter()
            .rev()
            .find(|e| e["kind"] == "dispatched")
            .cloned()
            .unwrap();
        assert_eq!(ruling["event"]["data"]["ruling"], true, "{ruling}");
    })
    .await;
}

async fn lifecycle(app: &TestApp, t: &str, id: i64) -> Value {
    case(app, t, id).await["lifecycle"].clone()
}

/// Warnings and escalations remembered (first-contact reminders are counted apart).
async fn alerts(app: &TestApp, sid: i64) -> i64 {
    app.count_sql(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM case_alerts WHERE subdistrict_id = $1 \
         AND kind <> 'first_contact_late'",
        sid,
    )
    .await
}

/// The kinds of the notices in a user's inbox about a case, oldest first.
async fn notices(app: &TestApp, sid: i64, username: &str, case_id: i64) -> Vec<String> {
    sqlx::query(
        "SELECT i.kind FROM inbox i JOIN users u ON u.subdistrict_id = i.subdistrict_id \
         AND u.id = i.user_id WHERE i.subdistrict_id = $1 AND u.username = $2 AND i.case_id = $3 \
         AND i.kind IN ('case.due_soon', 'case.overdue', 'case.escalated') \
         ORDER BY i.created_at, i.id",
    )
    .bind(sid)
    .bind(username)
    .bind(case_id)
    .fetch_all(app.db.read())
    .await
    .unwrap()
    .iter()
    .map(|r| r.get::<String, _>(0))
    .collect()
}

#[tokio::test]
async fn an_ignored_case_is_warned_then_escalated_once_per_level() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let admin = app.token(&f, "admin").await;
        user_with(&app, &f, "cs_a", Role::CommunityStaff, f.community_a, None).await;
        let id = dispatched(&app, &admin, "env.clutter", f.building_a1, f.grid_a1).await;
        let l = lifecycle(&app, &admin, id).await;
        let start = l["dispatched_ms"].as_i64().unwrap();
        let due = l["due_ms"].as_i64().unwrap();
        assert!(due - start >= 5 * DAY, "{l}");

        let s = watch::sweep(&app.db, start + MINUTE).await.unwrap();
        assert_eq!((s.warned, s.escalated), (0, 0), "{s:?}");
        assert_eq!(alerts(&app, f.sid).await, 0);

        // On the due day: warned, once.
        let s = watch::sweep(&app.db, due - HOUR).await.unwrap();
        assert_eq!((s.warned, s.escalated), (1, 0), "{s:?}");
        let s = watch::sweep(&app.db, due - HOUR + MINUTE).await.unwrap();
        assert_eq!((s.warned, s.escalated), (0, 0), "{s:?}");

        // Just past the due: up to the community, once.
        let s = watch::sweep(&app.db, due + MINUTE).await.unwrap();
        assert_eq!((s.warned, s.escalated), (0, 1), "{s:?}");
        let s = watch::sweep(&app.db, due + 2 * MINUTE).await.unwrap();
        assert_eq!(s.escalated, 0, "{s:?}");
        let l = lifecycle(&app, &admin, id).await;
        assert_eq!(l["escalated_to"], f.community_a, "{l}");
        assert_eq!(l["escalation_count"], 1);
        // The owner stays the owner; the community, supervising, sees it in its list.
        assert_eq!(l["owner_unit"], f.grid_a1);
        let (_, cs) = app.browser_login("cs_a", PASSWORD).await;
        let (_, _, list) = app.browser_get("/cases", &cs).await;
        assert!(list.contains(&format!("/cases/{id}")), "{list}");

        // A working day later still undone: up to the subdistrict, once.
        let s = watch::sweep(&app.db, due + 20 * DAY).await.unwrap();
        assert_eq!(s.escalated, 1, "{s:?}");
        let s = watch::sweep(&app.db, due + 20 * DAY + MINUTE)
            .await
            .unwrap();
        assert_eq!(s.escalated, 0, "{s:?}");
        let l = lifecycle(&app, &admin, id).await;
        assert_eq!(l["escalated_to"], f.root, "{l}");
        assert_eq!(l["escalation_count"], 2);
        assert_eq!(alerts(&app, f.sid).await, 3);

        let v = case(&app, &admin, id).await;
        let escalations: Vec<&Value> = v["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "escalated")
            .collect();
        assert_eq!(escalations.len(), 2);
        assert_eq!(escalations[0]["event"]["actor"]["kind"], "system");
        assert_eq!(escalations[1]["event"]["data"]["to_unit"], f.root);
        let audited = app
            .count_sql(
                "SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log WHERE subdistrict_id = $1 \
             AND action = 'case.escalate'",
                f.sid,
            )
            .await;
        assert_eq!(audited, 2);
        // Who was told what: the grid (the owner) the warning and the overdue, the community
        // and the admin (at the subdistrict) the escalation to them.
        assert_eq!(
            notices(&app, f.sid, "gm_a1", id).await,
            vec!["case.due_soon", "case.overdue", "case.overdue"]
        );
        assert_eq!(
            notices(&app, f.sid, "cs_a", id).await,
            vec!["case.escalated"]
        );
        assert_eq!(
            notices(&app, f.sid, "admin", id).await,
            vec!["case.escalated"]
        );
        // The case still moves on normally afterwards.
        let gm = app.token(&f, "gm_a1").await;
        ok(&app, &gm, id, json!({ "kind": "first_contact" })).await;
    })
    .await;
}

#[tokio::test]
async fn a_sweep_that_comes_late_still_makes_each_escalation_once() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let admin = app.token(&f, "admin").await;
        let id = dispatched(&app, &admin, "env.clutter", f.building_a1, f.grid_a1).await;
        let due = lifecycle(&app, &admin, id).await["due_ms"]
            .as_i64()
            .unwrap();
        // The watcher was down for weeks: both levels at once, no stale warning.
        let s = watch::sweep(&app.db, due + 20 * DAY).await.unwrap();
        assert_eq!((s.warned, s.escalated), (0, 2), "{s:?}");
        let s = watch::sweep(&app.db, due + 21 * DAY).await.unwrap();
        assert_eq!((s.warned, s.escalated), (0, 0), "{s:?}");
        let l = lifecycle(&app, &admin, id).await;
        assert_eq!(l["escalated_to"], f.root);
        assert_eq!(l["escalation_count"], 2);
    })
    .await;
}

#[tokio::test]
async fn a_paused_case_does_not_escalate() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let admin = app.token(&f, "admin").await;
        let gm = app.token(&f, "gm_a1").await;
        let id = dispatched(&app, &admin, "env.clutter", f.building_a1, f.grid_a1).await;
        let due = lifecycle(&app, &admin, id).await["due_ms"]
            .as_i64()
            .unwrap();
        let v = ok(
            &app,
            &gm,
            id,
            json!({ "kind": "pause", "reason": "等待居民提供照片" }),
        )
        .await;
        assert!(
            v["state"]
                .as_str()
                .unwrap()
                .starts_with("waiting_for_resident"),
            "{v}"
        );
        for at in [due - HOUR, due + MINUTE, due + 20 * DAY] {
            let s = watch::sweep(&app.db, at).await.unwrap();
            assert_eq!((s.warned, s.escalated), (0, 0), "{s:?}");
        }
        let l = lifecycle(&app, &admin, id).await;
        assert_eq!(l["escalation_count"], 0, "{l}");
        assert_eq!(alerts(&app, f.sid).await, 0);
    })
    .await;
}

#[tokio::test]
async fn an_urgent_case_escalates_after_hours() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let admin = app.token(&f, "admin").await;
        let id = dispatched(&app, &admin, "lift.trapped", f.building_a1, f.grid_a1).await;
        let l = lifecycle(&app, &admin, id).await;
        let start = l["dispatched_ms"].as_i64().unwrap();
        let due = l["due_ms"].as_i64().unwrap();
        assert_eq!(due - start, 2 * HOUR, "{l}");
        let s = watch::sweep(&app.db, start + HOUR).await.unwrap();
        assert_eq!((s.warned, s.escalated), (0, 0), "{s:?}");
        // The last quarter of the period: warned.
        let s = watch::sweep(&app.db, due - 10 * MINUTE).await.unwrap();
        assert_eq!((s.warned, s.escalated), (1, 0), "{s:?}");
        let s = watch::sweep(&app.db, due + MINUTE).await.unwrap();
        assert_eq!((s.warned, s.escalated), (0, 1), "{s:?}");
        let l = lifecycle(&app, &admin, id).await;
        assert_eq!(l["escalated_to"], f.community_a, "{l}");
        let s = watch::sweep(&app.db, due + 2 * MINUTE).await.unwrap();
        assert_eq!(s.escalated, 0, "{s:?}");
    })
    .await;
}

#[tokio::test]
async fn two_watchers_racing_escalate_once() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let admin = app.token(&f, "admin").await;
        let id = dispatched(&app, &admin, "env.clutter", f.building_a1, f.grid_a1).await;
        let due = lifecycle(&app, &admin, id).await["due_ms"]
            .as_i64()
            .unwrap();
        let (a, b) = tokio::join!(
            watch::sweep(&app.db, due + MINUTE),
            watch::sweep(&app.db, due + MINUTE)
        );
        assert_eq!(a.unwrap().escalated + b.unwrap().escalated, 1);
        let l = lifecycle(&app, &admin, id).await;
        assert_eq!(l["escalation_count"], 1, "{l}");
        assert_eq!(alerts(&app, f.sid).await, 1);
    })
    .await;
}

/// Nobody contacted the reporter within the first-contact deadline: the unit is reminded once
/// per dispatch; after first contact nothing more is sent.
#[tokio::test]
async fn a_late_first_contact_is_reminded_once() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let admin = app.token(&f, "admin").await;
        let id = dispatched(&app, &admin, "env.clutter", f.building_a1, f.grid_a1).await;
        let l = lifecycle(&app, &admin, id).await;
        let due = l["first_contact_due_ms"].as_i64().unwrap();
        let s = watch::sweep(&app.db, due - MINUTE).await.unwrap();
        assert_eq!(s.reminded, 0, "{s:?}");
        let s = watch::sweep(&app.db, due + MINUTE).await.unwrap();
        assert_eq!(s.reminded, 1, "{s:?}");
        let s = watch::sweep(&app.db, due + 2 * MINUTE).await.unwrap();
        assert_eq!(s.reminded, 0, "{s:?}");
        let kinds: Vec<String> = sqlx::query(
            "SELECT i.kind FROM inbox i JOIN users u ON u.subdistrict_id = i.subdistrict_id \
             AND u.id = i.user_id WHERE i.subdistrict_id = $1 AND u.username = 'gm_a1' \
             AND i.case_id = $2 AND i.kind = 'case.first_contact_late'",
        )
        .bind(f.sid)
        .bind(id)
        .fetch_all(app.db.read())
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<String, _>(0))
        .collect();
        assert_eq!(kinds.len(), 1);
    })
    .await;
}
