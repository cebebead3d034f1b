//! The case loop's first slice: cases opened through the API (safe to retry with an
//! Idempotency-Key), read back with their timeline, acted on with optimistic concurrency.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use redbutler::access::Role;
use serde_json::{json, Value};

use crate::harness::{at_node, for_each_db, Fixture, TestApp};

const DAY_MS: i64 = 86_400_000;
const SHANGHAI_OFFSET_MS: i64 = 8 * 3_600_000;

fn body(f: &Fixture, title: &str) -> Value {
    json!({
        "category": "env.clutter",
        "node_id": f.building_a1,
        "title": title,
        "description": "楼道里堆满了纸箱和旧家具,影响通行。",
    })
}

async fn open_with_key(app: &TestApp, token: &str, key: &str, body: &Value) -> (StatusCode, Value) {
    let req = Request::post("/api/v1/cases")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .header("Idempotency-Key", key)
        .body(Body::from(body.to_string()))
        .unwrap();
    let (s, _, b) = app.send(req).await;
    (s, serde_json::from_slice(&b).unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_case_is_opened_and_read_back_with_its_timeline() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let gm = app.token(&f, "gm_a1").await;
        let (s, v) = app.post_json("/api/v1/cases", &gm, body(&f, "楼道堆物")).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let id = v["id"].as_i64().unwrap();
        let number = v["number"].as_str().unwrap();
        assert_eq!(number.len(), "2026-000001".len());
        assert!(number.ends_with("-000001"), "{number}");
        assert_eq!(v["state"], "submitted");
        assert_eq!(v["version"], 1);
        assert_eq!(v["channel"], "api");
        let (s, v) = app.get_json(&format!("/api/v1/cases/{id}"), &gm).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["title"], "楼道堆物");
        assert_eq!(v["category"], "env.clutter");
        assert_eq!(v["node_id"], f.building_a1);
        let timeline = v["timeline"].as_array().unwrap();
        assert_eq!(timeline.len(), 1);
        assert_eq!(timeline[0]["kind"], "reported");
        assert_eq!(timeline[0]["actor"], "gm_a1");
        assert_eq!(timeline[0]["event"]["actor"]["kind"], "grid_member");
        // A second case gets the next number.
        let (_, v2) = app.post_json("/api/v1/cases", &gm, body(&f, "又有堆物")).await;
        assert!(v2["number"].as_str().unwrap().ends_with("-000002"));

        // A resident reports at their own household's place; the phone is kept masked.
        let res = app.token(&f, "resident").await;
        let mut b = body(&f, "门口漏水");
        b["node_id"] = json!(f.unit_a1);
        let (s, v) = app.post_json("/api/v1/cases", &res, b).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        assert_eq!(v["reporter_name"], "张三丰");
        let mask = v["reporter_phone_mask"].as_str().unwrap();
        assert!(mask.contains('*') && !mask.contains("12341234"), "{mask}");
        assert!(!v.to_string().contains("13812341234"));
        let (s, _) = app.get_json(&format!("/api/v1/cases/{}", v["id"]), &res).await;
        assert_eq!(s, StatusCode::OK);
        // …but not in the next grid.
        let mut b = body(&f, "别处的事");
        b["node_id"] = json!(f.building_a2);
        let (s, _) = app.post_json("/api/v1/cases", &res, b).await;
        assert_eq!(s, StatusCode::FORBIDDEN);

        // Bad input names its fields; nothing is written.
        let before = app.count("cases", f.sid).await;
        let (s, v) = app
            .post_json(
                "/api/v1/cases",
                &gm,
                json!({ "category": "env", "node_id": f.community_a, "title": " ", "description": "x" }),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        let fields: Vec<&str> = v["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        assert_eq!(fields, ["category", "title", "node_id"]);
        assert_eq!(app.count("cases", f.sid).await, before);
        let (_, v) = app.get_json("/api/v1/audit?action=case.open", &app.token(&f, "admin").await).await;
        assert_eq!(v["entries"].as_array().unwrap().len(), 3, "{v}");
    })
    .await;
}

#[tokio::test]
async fn a_replay_with_the_same_key_returns_the_same_case_and_creates_nothing() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let gm = app.token(&f, "gm_a1").await;
        let b = body(&f, "楼道堆物");
        let (s, first) = open_with_key(&app, &gm, "req-0001", &b).await;
        assert_eq!(s, StatusCode::CREATED, "{first}");
        let counts = (
            app.count("cases", f.sid).await,
            app.count("case_events", f.sid).await,
            app.count("idempotency_keys", f.sid).await,
            app.count("audit_log", f.sid).await,
        );
        let (s, again) = open_with_key(&app, &gm, "req-0001", &b).await;
        assert_eq!(s, StatusCode::OK, "{again}");
        assert_eq!(again["id"], first["id"]);
        assert_eq!(again["number"], first["number"]);
        let after = (
            app.count("cases", f.sid).await,
            app.count("case_events", f.sid).await,
            app.count("idempotency_keys", f.sid).await,
            app.count("audit_log", f.sid).await,
        );
        assert_eq!(after, counts);
        assert_eq!(counts.0, 1);
        // Another user's identical key is their own.
        let admin = app.token(&f, "admin").await;
        let (s, other) = open_with_key(&app, &admin, "req-0001", &b).await;
        assert_eq!(s, StatusCode::CREATED);
        assert_ne!(other["id"], first["id"]);
    })
    .await;
}

#[tokio::test]
async fn the_same_key_with_another_body_is_refused_naming_the_header() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let gm = app.token(&f, "gm_a1").await;
        let (s, _) = open_with_key(&app, &gm, "k-1", &body(&f, "楼道堆物")).await;
        assert_eq!(s, StatusCode::CREATED);
        let (s, v) = open_with_key(&app, &gm, "k-1", &body(&f, "另一件事")).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert_eq!(v["errors"][0]["field"], "Idempotency-Key");
        assert_eq!(app.count("cases", f.sid).await, 1);
        let (s, v) = open_with_key(&app, &gm, "带中文", &body(&f, "x")).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    })
    .await;
}

#[tokio::test]
async fn twenty_concurrent_opens_with_one_key_make_exactly_one_case() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let gm = app.token(&f, "gm_a1").await;
        let b = body(&f, "楼道堆物");
        let app = Arc::new(app);
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let (app, gm, b) = (app.clone(), gm.clone(), b.clone());
            tasks.push(tokio::spawn(async move {
                open_with_key(&app, &gm, "same-key", &b).await
            }));
        }
        let mut ids = std::collections::BTreeSet::new();
        let mut created = 0;
        for t in tasks {
            let (s, v) = t.await.unwrap();
            assert!(s == StatusCode::CREATED || s == StatusCode::OK, "{s} {v}");
            created += usize::from(s == StatusCode::CREATED);
            ids.insert(v["id"].as_i64().unwrap());
        }
        assert_eq!(created, 1);
        assert_eq!(ids.len(), 1);
        assert_eq!(app.count("cases", f.sid).await, 1);
        assert_eq!(app.count("case_events", f.sid).await, 1);
    })
    .await;
}

#[tokio::test]
async fn dispatch_computes_the_deadlines_from_the_calendar() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let admin = app.token(&f, "admin").await;
        let (_, v) = app.post_json("/api/v1/cases", &admin, body(&f, "楼道堆物")).await;
        let id = v["id"].as_i64().unwrap();
        let (s, v) = app.act(&admin, id, 1, json!({ "kind": "register" })).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let now = redbutler::clock::now_ms();
        // Deadlines in the request are not ours to take.
        let (s, v) = app.act(&admin,
            id,
            2,
            json!({ "kind": "dispatch", "unit_id": f.grid_a1, "due_ms": 1, "first_contact_due_ms": 1 }),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["state"], "dispatched");
        assert_eq!(v["version"], 3);
        let l = &v["lifecycle"];
        assert_eq!(l["owner_unit"], f.grid_a1);
        let due = l["due_ms"].as_i64().unwrap();
        let first = l["first_contact_due_ms"].as_i64().unwrap();
        assert!(due > now && first > now && first <= due, "{l}");
        // Five working days end at 24:00 Shanghai time of a working day.
        assert_eq!((due + SHANGHAI_OFFSET_MS) % DAY_MS, 0, "due at local midnight");
        assert_eq!((first + SHANGHAI_OFFSET_MS) % DAY_MS, 0);
        let cal = redbutler::cases::calendar_admin::calendar(&app.db, f.sid).await.unwrap();
        let last_day = redbutler::clock::to_local(due - 1).date();
        assert!(cal.is_working_day(last_day), "{last_day}");
        assert!(due - now >= 5 * DAY_MS, "five working days are at least five days");
        let tl = v["timeline"].as_array().unwrap();
        let kinds: Vec<&str> = tl.iter().map(|e| e["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["reported", "registered", "dispatched"]);
        // Every action is audited.
        let (_, a) = app.get_json("/api/v1/audit?action=case.dispatch", &admin).await;
        assert_eq!(a["entries"].as_array().unwrap().len(), 1, "{a}");
    })
    .await;
}

#[tokio::test]
async fn two_actions_on_one_version_one_wins_and_the_other_is_told_to_reload() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let admin = app.token(&f, "admin").await;
        let (_, v) = app
            .post_json("/api/v1/cases", &admin, body(&f, "楼道堆物"))
            .await;
        let id = v["id"].as_i64().unwrap();
        let app = Arc::new(app);
        let note = |text: &str| json!({ "kind": "note", "text": text });
        let (a, b) = tokio::join!(
            app.act(&admin, id, 1, note("一")),
            app.act(&admin, id, 1, note("二"))
        );
        let mut statuses = [a.0, b.0];
        statuses.sort();
        assert_eq!(
            statuses,
            [StatusCode::OK, StatusCode::CONFLICT],
            "{} {}",
            a.1,
            b.1
        );
        let loser = if a.0 == StatusCode::CONFLICT {
            &a.1
        } else {
            &b.1
        };
        assert!(
            loser["detail"].as_str().unwrap().contains("reload")
                || loser["detail"].as_str().unwrap().contains("刷新"),
            "{loser}"
        );
        let (_, v) = app.get_json(&format!("/api/v1/cases/{id}"), &admin).await;
        assert_eq!(v["version"], 2);
        assert_eq!(v["timeline"].as_array().unwrap().len(), 2);
        // Sequentially, the stale one is refused as well.
        let (s, _) = app.act(&admin, id, 1, json!({ "kind": "register" })).await;
        assert_eq!(s, StatusCode::CONFLICT);
        let (s, v) = app.act(&admin, id, 2, json!({ "kind": "register" })).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["version"], 3);
    })
    .await;
}

#[tokio::test]
async fn an_action_the_state_does_not_allow_is_a_conflict_with_the_reason() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let admin = app.token(&f, "admin").await;
        let (_, v) = app
            .post_json("/api/v1/cases", &admin, body(&f, "楼道堆物"))
            .await;
        let id = v["id"].as_i64().unwrap();
        let req = |token: &str, action: Value| {
            let req = Request::post(format!("/api/v1/cases/{id}/actions"))
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::ACCEPT_LANGUAGE, "en")
                .body(Body::from(
                    json!({ "version": 1, "action": action }).to_string(),
                ))
                .unwrap();
            req
        };
        let (s, _, b) = app
            .send(req(
                &admin,
                json!({ "kind": "report_handled", "summary": "done" }),
            ))
            .await;
        let v: Value = serde_json::from_slice(&b).unwrap();
        assert_eq!(s, StatusCode::CONFLICT, "{v}");
        let detail = v["detail"].as_str().unwrap();
        assert!(
            detail.contains("cannot be") || detail.contains("不能"),
            "{detail}"
        );
        // Only the reporter may withdraw; a grid member is not them.
        let gm = app.token(&f, "gm_a1").await;
        let (s, _, _) = app.send(req(&gm, json!({ "kind": "withdraw" }))).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        // Bad data names the field.
        let (s, _, b) = app
            .send(req(&admin, json!({ "kind": "dispatch", "unit_id": 1 })))
            .await;
        assert_eq!(
            s,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            String::from_utf8_lossy(&b)
        );
        let (_, v) = app.get_json(&format!("/api/v1/cases/{id}"), &admin).await;
        assert_eq!(v["version"], 1, "nothing changed");
    })
    .await;
}

#[tokio::test]
async fn a_grid_member_of_another_grid_can_neither_open_nor_read_a_case_in_grid_a1() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let gm_a1 = app.token(&f, "gm_a1").await;
        let gm_a2 = app
            .user_token(&f, "gm_a2", Role::GridMember, at_node(f.grid_a2))
            .await;
        let (s, v) = app
            .post_json("/api/v1/cases", &gm_a1, body(&f, "楼道堆物"))
            .await;
        assert_eq!(s, StatusCode::CREATED);
        let id = v["id"].as_i64().unwrap();
        let (s, _) = app
            .post_json("/api/v1/cases", &gm_a2, body(&f, "楼道堆物"))
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, _) = app.get_json(&format!("/api/v1/cases/{id}"), &gm_a2).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, _) = app
            .act(&gm_a2, id, 1, json!({ "kind": "note", "text": "看看" }))
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        // In their own grid they may.
        let mut b = body(&f, "二网格的事");
        b["node_id"] = json!(f.building_a2);
        let (s, _) = app.post_json("/api/v1/cases", &gm_a2, b).await;
        assert_eq!(s, StatusCode::CREATED);
        assert_eq!(app.count("cases", f.sid).await, 2);
    })
    .await;
}
