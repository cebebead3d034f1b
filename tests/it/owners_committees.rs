//! Owners' committees (业主委员会) and their re-elections (换届), on both databases: the size
//! and term rules, members and offices, the alerts (term ending, early triggers, overdue
//! steps), who may read and write, and a re-election from start to filing driving the votes'
//! re-election period — a fee or company vote is refused while it runs and allowed after.

use axum::http::StatusCode;
use redbutler::access::{self, Actor, Role};
use redbutler::auth::users;
use redbutler::property::committees::{rules, store};
use serde_json::{json, Value};

use crate::harness::{at_node, for_each_db, Fixture, TestApp, PASSWORD};

fn now() -> i64 {
    redbutler::clock::now_ms()
}

fn today() -> time::Date {
    store::today(now())
}

fn day(d: time::Date) -> String {
    rules::format_date(d)
}

/// A committee on community A (145.50 m², a small estate) through the API.
async fn committee(app: &TestApp, t: &str, f: &Fixture, body: Value) -> (StatusCode, Value) {
    let mut b = json!({ "node_id": f.community_a, "name": "章浜小区业主委员会", "seats": 5,
        "term_years": 5, "starts_on": day(rules::add_months(today(), -12)) });
    if let (Some(o), Some(extra)) = (b.as_object_mut(), body.as_object()) {
        for (k, v) in extra {
            o.insert(k.clone(), v.clone());
        }
    }
    app.post_json("/api/v1/committees", t, b).await
}

async fn add_members(app: &TestApp, t: &str, id: i64, names: &[&str]) -> Vec<i64> {
    let mut out = Vec::new();
    for (i, n) in names.iter().enumerate() {
        let office = if i == 0 { "chair" } else { "member" };
        let (s, m) = app
            .post_json(
                &format!("/api/v1/committees/{id}/members"),
                t,
                json!({ "name": n, "office": office }),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{m}");
        out.push(m["id"].as_i64().unwrap());
    }
    out
}

fn fields(e: &Value) -> Vec<String> {
    e["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|x| x["field"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn alert_kinds(o: &Value) -> Vec<String> {
    o["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["kind"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn size_and_term_rules_are_checked_when_a_committee_is_set_up() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let t = app.token(&f, "admin").await;
        let (s, e) = committee(&app, &t, &f, json!({ "seats": 4, "term_years": 6, "starts_on": "2026-02-30" })).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        let fl = fields(&e);
        assert!(fl.contains(&"seats".into()) && fl.contains(&"term_years".into()) && fl.contains(&"starts_on".into()), "{e}");
        let (s, e) = committee(&app, &t, &f, json!({ "seats": 1 })).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        let (s, e) = committee(&app, &t, &f, json!({ "node_id": f.room_a1 })).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        assert_eq!(fields(&e), ["node_id"]);
        // 145.50 m²: a small estate may have 3 members.
        let (s, c) = committee(&app, &t, &f, json!({ "seats": 3, "term_years": 3, "starts_on": "2026-02-28" })).await;
        assert_eq!(s, StatusCode::CREATED, "{c}");
        assert_eq!(c["term"]["ends_on"], "2029-02-28");
        assert_eq!(c["term"]["alert_on"], "2028-09-28");
        assert_eq!(c["term"]["number"], 1);
        // One committee per estate.
        let (s, e) = committee(&app, &t, &f, json!({ "name": "另一个业委会" })).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        assert_eq!(fields(&e), ["node_id"]);
        // Names are unique among the subdistrict's organisations.
        let (s, e) = committee(&app, &t, &f, json!({ "node_id": f.grid_v1, "seats": 3, "starts_on": "2026-02-28" })).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        assert_eq!(fields(&e), ["name"]);
        // A bigger estate (grid A2 with 10,000.01 m² more) may not have 3.
        let mut tx = app.db.begin().await.unwrap();
        redbutler::tree::store::create_room(&mut tx, f.sid, f.building_a2, &redbutler::tree::store::NewRoom {
            number: "102".into(), registered_area: Some(1_000_001), ..Default::default() }).await.unwrap();
        tx.commit().await.unwrap();
        let (s, e) = committee(&app, &t, &f, json!({ "node_id": f.grid_a2, "name": "二网格业委会", "seats": 3 })).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        assert_eq!(fields(&e), ["seats"]);
        let (s, _) = committee(&app, &t, &f, json!({ "node_id": f.grid_a2, "name": "二网格业委会", "seats": 7 })).await;
        assert_eq!(s, StatusCode::CREATED);
        // Every write is audited.
        let n = app
            .count_sql("SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log WHERE subdistrict_id = $1 AND action = 'committee.create'", f.sid)
            .await;
        assert_eq!(n, 2);
    })
    .await;
}

#[tokio::test]
async fn members_offices_and_the_alerts() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let t = app.token(&f, "admin").await;
        // The term ends in 4 months: inside the 5-month alert window.
        let start = rules::add_months(today(), -56);
        let (s, c) = committee(&app, &t, &f, json!({ "starts_on": day(start) })).await;
        assert_eq!(s, StatusCode::CREATED, "{c}");
        let id = c["id"].as_i64().unwrap();
        let ids = add_members(&app, &t, id, &["甲", "乙", "丙", "丁", "戊"]).await;
        let (s, _) = app
            .post_json(&format!("/api/v1/committees/{id}/activities"), &t, json!({ "kind": "decision", "title": "续聘物业" }))
            .await;
        assert_eq!(s, StatusCode::CREATED);
        let (s, e) = app.post_json(&format!("/api/v1/committees/{id}/members"), &t, json!({ "name": "己" })).await;
        assert_eq!(s, StatusCode::CONFLICT, "seats full: {e}");
        // One chair at a time.
        let (s, e) = app
            .post_json(&format!("/api/v1/committees/{id}/members/{}/office", ids[1]), &t, json!({ "office": "chair" }))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        let (s, m) = app
            .post_json(&format!("/api/v1/committees/{id}/members/{}/office", ids[1]), &t, json!({ "office": "vice_chair" }))
            .await;
        assert_eq!((s, m["office"].as_str()), (StatusCode::OK, Some("vice_chair")), "{m}");
        let (_, l) = app.get_json("/api/v1/committees", &t).await;
        assert_eq!(alert_kinds(&l["committees"][0]), ["term_ending"], "{l}");
        // The subdistrict is told once per term.
        let inbox = "SELECT CAST(COUNT(*) AS BIGINT) FROM inbox WHERE subdistrict_id = $1 AND kind = 'committee.term_ending'";
        assert_eq!(store::sweep_term_alerts(&app.db, f.sid, now()).await.unwrap(), 1);
        assert_eq!(store::sweep_term_alerts(&app.db, f.sid, now()).await.unwrap(), 0);
        assert_eq!(app.count_sql(inbox, f.sid).await, 1, "the admin at the subdistrict");
        assert!(l["committees"][0]["alerts"][0]["text"]["zh"].as_str().unwrap().contains("届满"));
        // An early trigger must hold before it is accepted.
        let (s, e) = app
            .post_json(&format!("/api/v1/committees/{id}/reelections"), &t, json!({ "trigger": "few_members" }))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        assert_eq!(fields(&e), ["trigger"]);
        // Three leave: 2 of 5 is fewer than half.
        for (m, reason) in ids[..3].iter().zip(["resigned", "died", "removed"]) {
            let (s, v) = app
                .post_json(&format!("/api/v1/committees/{id}/members/{m}/end"), &t, json!({ "reason": reason }))
                .await;
            assert_eq!(s, StatusCode::OK, "{v}");
            assert_eq!(v["end_reason"], reason);
        }
        let (s, _) = app
            .post_json(&format!("/api/v1/committees/{id}/members/{}/end", ids[0]), &t, json!({ "reason": "resigned" }))
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "already left");
        let (s, e) = app
            .post_json(&format!("/api/v1/committees/{id}/members/{}/end", ids[3]), &t, json!({ "reason": "other" }))
            .await;
        assert_eq!((s, fields(&e)), (StatusCode::UNPROCESSABLE_ENTITY, vec!["note".to_string()]));
        let (_, d) = app.get_json(&format!("/api/v1/committees/{id}"), &t).await;
        assert_eq!(d["committee"]["filled"], 2, "{d}");
        assert_eq!(alert_kinds(&d["committee"]), ["term_ending", "few_members"], "{d}");
        assert_eq!(d["members"].as_array().unwrap().len(), 5);
        // The freed chair can be taken again.
        let (s, m) = app
            .post_json(&format!("/api/v1/committees/{id}/members/{}/office", ids[3]), &t, json!({ "office": "chair" }))
            .await;
        assert_eq!(s, StatusCode::OK, "{m}");
        // Activity: a date in the future is refused.
        let (s, e) = app
            .post_json(&format!("/api/v1/committees/{id}/activities"), &t,
                json!({ "kind": "meeting", "title": "例会", "held_on": day(rules::add_days(today(), 1)) }))
            .await;
        assert_eq!((s, fields(&e)), (StatusCode::UNPROCESSABLE_ENTITY, vec!["held_on".to_string()]));
        // The early trigger accepted by staff starts the re-election.
        let (s, r) = app
            .post_json(&format!("/api/v1/committees/{id}/reelections"), &t, json!({ "trigger": "few_members" }))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{r}");
        assert_eq!(r["trigger"], "few_members");
        let (_, d) = app.get_json(&format!("/api/v1/committees/{id}"), &t).await;
        assert!(alert_kinds(&d["committee"]).is_empty(), "term and trigger alerts stop: {d}");
        let n = app
            .count_sql("SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log WHERE subdistrict_id = $1 AND action LIKE 'committee.%'", f.sid)
            .await;
        assert_eq!(n, 1 + 5 + 2 + 3 + 1 + 1 + 1, "create, members, offices, ends, activity, term alert, start");
    })
    .await;
}

#[tokio::test]
async fn inactivity_and_overdue_steps_are_alerted() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let t = app.token(&f, "admin").await;
        let start = rules::add_months(today(), -7);
        let (_, c) = committee(&app, &t, &f, json!({ "starts_on": day(start), "seats": 3 })).await;
        let id = c["id"].as_i64().unwrap();
        add_members(&app, &t, id, &["甲", "乙", "丙"]).await;
        let (_, d) = app.get_json(&format!("/api/v1/committees/{id}"), &t).await;
        assert_eq!(alert_kinds(&d["committee"]), ["inactive"], "{d}");
        // A meeting six months and a day ago does not help; one within six months does.
        let (s, _) = app
            .post_json(&format!("/api/v1/committees/{id}/activities"), &t,
                json!({ "kind": "meeting", "title": "例会", "held_on": day(rules::add_days(rules::add_months(today(), -6), -1)) }))
            .await;
        assert_eq!(s, StatusCode::CREATED);
        let (_, d) = app.get_json(&format!("/api/v1/committees/{id}"), &t).await;
        assert_eq!(alert_kinds(&d["committee"]), ["inactive"], "{d}");
        // The re-election started 61 days ago: the renewal group is overdue.
        let (s, r) = app
            .post_json(&format!("/api/v1/committees/{id}/reelections"), &t,
                json!({ "trigger": "inactive", "started_on": day(rules::add_days(today(), -61)) }))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{r}");
        assert_eq!(r["steps"][0]["overdue"], true, "{r}");
        assert_eq!(r["next_step"], "renewal_group");
        let (_, d) = app.get_json(&format!("/api/v1/committees/{id}"), &t).await;
        assert_eq!(alert_kinds(&d["committee"]), ["step_overdue"], "{d}");
        // Recorded late, it is marked late, and the alert goes.
        let (s, r) = app
            .post_json(&format!("/api/v1/committees/{id}/reelection/steps"), &t, json!({ "step": "renewal_group" }))
            .await;
        assert_eq!(s, StatusCode::OK, "{r}");
        assert_eq!((r["steps"][0]["late"].as_bool(), r["steps"][0]["overdue"].as_bool()), (Some(true), Some(false)));
        let (_, d) = app.get_json(&format!("/api/v1/committees/{id}"), &t).await;
        assert!(alert_kinds(&d["committee"]).is_empty(), "{d}");
        // The votes' re-election list links the running process and shows its open end.
        let (_, cookies) = app.browser_login("admin", crate::harness::PASSWORD).await;
        let (_, _, html) = app.browser_get("/votes/reelections", &cookies).await;
        assert!(html.contains(&format!("/committees/{id}")) && html.contains("至换届备案"), "{html}");
        // Only one re-election at a time.
        let (s, _) = app
            .post_json(&format!("/api/v1/committees/{id}/reelections"), &t, json!({ "trigger": "term_end" }))
            .await;
        assert_eq!(s, StatusCode::CONFLICT);
        // A cancelled re-election ends its period at once.
        let (s, e) = app.post_json(&format!("/api/v1/committees/{id}/reelection/cancel"), &t, json!({ "reason": " " })).await;
        assert_eq!((s, fields(&e)), (StatusCode::UNPROCESSABLE_ENTITY, vec!["reason".to_string()]));
        assert_eq!(fee_vote(&app, &t, &f, json!({})).await, StatusCode::CONFLICT);
        let (s, r) = app.post_json(&format!("/api/v1/committees/{id}/reelection/cancel"), &t, json!({ "reason": "误启动" })).await;
        assert_eq!((s, r["status"].as_str()), (StatusCode::OK, Some("cancelled")), "{r}");
        assert_eq!(fee_vote(&app, &t, &f, json!({})).await, StatusCode::CREATED);
        let (s, _) = app.post_json(&format!("/api/v1/committees/{id}/reelection/cancel"), &t, json!({ "reason": "再次" })).await;
        assert_eq!(s, StatusCode::CONFLICT);
        let counts = redbutler::property::committees::reelection_counts(&app.db, f.sid, 0, now() + 1).await.unwrap();
        assert_eq!((counts.started, counts.completed, counts.running), (1, 0, 0));
    })
    .await;
}

/// A user whose person is `person` (an owner of record) with the Resident role.
async fn owner_token(app: &TestApp, f: &Fixture, username: &str, person: i64) -> String {
    let cli = Actor::cli(f.sid, &format!("/{}/", f.sid));
    let mut tx = app.db.begin().await.unwrap();
    let u = users::create(
        &mut tx,
        &cli,
        &users::NewUser {
            username: username.into(),
            display_name: username.into(),
            password: String::new(),
            person_id: Some(person),
        },
        Some(redbutler::auth::password::hash(PASSWORD)),
    )
    .await
    .unwrap();
    access::store::grant(&mut tx, &cli, u.id, Role::Resident, Default::default())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    app.token(f, username).await
}

async fn fee_vote(app: &TestApp, t: &str, f: &Fixture, body: Value) -> StatusCode {
    let mut b = json!({ "scope_node_id": f.building_a1, "title": "物业费调整", "matter": "other_major",
        "is_fee_change": true, "closes_at": now() + 3_600_000 });
    if let (Some(o), Some(extra)) = (b.as_object_mut(), body.as_object()) {
        for (k, v) in extra {
            o.insert(k.clone(), v.clone());
        }
    }
    app.post_json("/api/v1/votes", t, b).await.0
}

#[tokio::test]
async fn a_reelection_refuses_fee_and_company_votes_until_its_filing() {
    for_each_db(|app| async move {
        // The steps are dated today and the election vote closes 30 s from now: within two
        // minutes of midnight in Shanghai, wait for the new day so all of it falls on one day.
        while store::today(now() + 120_000) != today() {
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
        let f = app.fixture().await;
        let t = app.token(&f, "admin").await;
        let (_, c) = committee(&app, &t, &f, json!({ "seats": 3, "starts_on": day(rules::add_months(today(), -57)) })).await;
        let id = c["id"].as_i64().unwrap();
        add_members(&app, &t, id, &["老甲", "老乙", "老丙"]).await;
        assert_eq!(fee_vote(&app, &t, &f, json!({})).await, StatusCode::CREATED, "allowed before");

        let (s, r) = app.post_json(&format!("/api/v1/committees/{id}/reelections"), &t, json!({ "trigger": "term_end" })).await;
        assert_eq!(s, StatusCode::CREATED, "{r}");
        // The votes' period follows the process: fee and company votes are refused.
        let (_, periods) = app.get_json("/api/v1/votes/reelection-periods", &t).await;
        assert_eq!(periods["reelection_periods"].as_array().unwrap().len(), 1, "{periods}");
        assert_eq!(fee_vote(&app, &t, &f, json!({})).await, StatusCode::CONFLICT);
        assert_eq!(
            fee_vote(&app, &t, &f, json!({ "is_fee_change": false, "matter": "property_company",
                "form": { "kind": "options" }, "labels": ["甲物业", "乙物业"] })).await,
            StatusCode::CONFLICT
        );
        assert_eq!(fee_vote(&app, &t, &f, json!({ "is_fee_change": false })).await, StatusCode::CREATED, "other matters go on");

        let step = |body: Value| {
            let (app, t) = (&app, &t);
            async move { app.post_json(&format!("/api/v1/committees/{id}/reelection/steps"), t, body).await }
        };
        let (s, e) = step(json!({ "step": "candidates" })).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "out of order: {e}");
        let (s, e) = step(json!({ "step": "renewal_group", "done_on": day(rules::add_days(today(), -1)) })).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "before the start: {e}");
        let (s, r) = step(json!({ "step": "renewal_group", "note": "换届小组 7 人" })).await;
        assert_eq!(s, StatusCode::OK, "{r}");
        assert_eq!(r["steps"][0]["done_on"], day(today()));
        let (s, r) = step(json!({ "step": "candidates" })).await;
        assert_eq!(s, StatusCode::OK, "{r}");

        // The election: an owners' vote on the estate for 3 seats among 4 candidates. It closes
        // soon, so the election's day (its closing day) is today.
        let closes = now() + 30_000;
        let (s, v) = app
            .post_json("/api/v1/votes", &t, json!({ "scope_node_id": f.community_a, "title": "第二届业委会选举",
                "matter": "owners_committee", "form": { "kind": "election", "seats": 3 },
                "labels": ["新甲", "新乙", "新丙", "新丁"], "closes_at": closes }))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let vid = v["id"].as_i64().unwrap();
        let (s, e) = step(json!({ "step": "election", "vote_id": vid })).await;
        assert_eq!((s, fields(&e)), (StatusCode::UNPROCESSABLE_ENTITY, vec!["vote_id".to_string()]), "not counted: {e}");
        let (s, v) = app.post_json(&format!("/api/v1/votes/{vid}/open"), &t, json!({})).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let a1 = app.token(&f, "resident").await;
        let a2 = owner_token(&app, &f, "owner_a2", f.person_a2).await;
        for (tok, ids) in [(&a1, json!([1, 2, 3])), (&a2, json!([1, 2, 4]))] {
            let (s, b) = app
                .post_json(&format!("/api/v1/votes/{vid}/ballots"), tok, json!({ "choice": { "kind": "candidates", "ids": ids } }))
                .await;
            assert_eq!(s, StatusCode::CREATED, "{b}");
        }
        redbutler::votes::desk::store::close(&app.db, &f.admin, vid, closes).await.unwrap();
        // Hand-over and filing come after the election.
        let (s, _) = step(json!({ "step": "handover" })).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        let (s, r) = step(json!({ "step": "election", "vote_id": vid })).await;
        assert_eq!(s, StatusCode::OK, "{r}");
        assert_eq!(r["elected"], json!(["新甲", "新乙"]), "no third candidate has more than half: {r}");
        assert_eq!(r["steps"][3]["due_on"], day(rules::add_days(today(), 10)));
        assert_eq!(r["steps"][4]["due_on"], day(rules::add_days(today(), 30)));
        let (s, _) = step(json!({ "step": "election", "vote_id": vid })).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "recorded once");
        let (s, _) = step(json!({ "step": "handover", "note": "公章、档案已移交" })).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(fee_vote(&app, &t, &f, json!({})).await, StatusCode::CONFLICT, "still until the filing");

        let (s, r) = step(json!({ "step": "filing" })).await;
        assert_eq!(s, StatusCode::OK, "{r}");
        assert_eq!(r["status"], "completed");
        assert_eq!(fee_vote(&app, &t, &f, json!({})).await, StatusCode::CREATED, "allowed after the filing");
        let (_, d) = app.get_json(&format!("/api/v1/committees/{id}"), &t).await;
        let o = &d["committee"];
        assert_eq!(o["committee"]["term"]["number"], 2, "{d}");
        assert_eq!(o["committee"]["term"]["starts_on"], day(today()));
        assert_eq!(o["committee"]["term"]["ends_on"], day(rules::add_months(today(), 60)));
        assert_eq!(o["filled"], 2);
        assert!(o["reelection"].is_null());
        let sitting: Vec<&str> = d["members"].as_array().unwrap().iter()
            .filter(|m| m["ends_on"].is_null()).map(|m| m["name"].as_str().unwrap()).collect();
        assert_eq!(sitting, ["新甲", "新乙"]);
        let ended = d["members"].as_array().unwrap().iter().filter(|m| m["end_reason"] == "term_ended").count();
        assert_eq!(ended, 3);
        let (s, e) = step(json!({ "step": "filing" })).await;
        assert_eq!(s, StatusCode::CONFLICT, "nothing runs: {e}");
        let (_, periods) = app.get_json("/api/v1/votes/reelection-periods", &t).await;
        assert_eq!(periods["reelection_periods"][0]["ends_on"], day(today()), "{periods}");

        // The dashboard's counts.
        let counts = redbutler::property::committees::reelection_counts(&app.db, f.sid, now() - 86_400_000, now() + 1).await.unwrap();
        assert_eq!((counts.started, counts.completed, counts.running), (1, 1, 0));
        let (s, c) = app.get_json("/api/v1/committees/reelection-counts", &t).await;
        assert_eq!((s, c["started"].as_i64(), c["completed"].as_i64()), (StatusCode::OK, Some(1), Some(1)), "{c}");
        let (s, _) = app.get_json("/api/v1/committees/reelection-counts?from=nonsense", &t).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        let steps = app
            .count_sql("SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log WHERE subdistrict_id = $1 AND action = 'committee.reelection_step'", f.sid)
            .await;
        assert_eq!(steps, 5);
    })
    .await;
}

#[tokio::test]
async fn staff_write_observers_and_own_members_read() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let t = app.token(&f, "admin").await;
        let (_, c) = committee(&app, &t, &f, json!({})).await;
        let id = c["id"].as_i64().unwrap();
        let org = c["org_id"].as_i64().unwrap();
        let (_, other) = committee(
            &app,
            &t,
            &f,
            json!({ "node_id": f.grid_v1, "name": "金米村业委会" }),
        )
        .await;
        let other_org = other["org_id"].as_i64().unwrap();
        // The auditor at community A reads but does not write.
        let aud = app.token(&f, "auditor").await;
        let (s, _) = app
            .get_json(&format!("/api/v1/committees/{id}"), &aud)
            .await;
        assert_eq!(s, StatusCode::OK);
        let (s, _) = app
            .post_json(
                &format!("/api/v1/committees/{id}/members"),
                &aud,
                json!({ "name": "甲" }),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        // A grid member of A1 does not reach the community's committee.
        let gm = app.token(&f, "gm_a1").await;
        let (s, _) = app.get_json(&format!("/api/v1/committees/{id}"), &gm).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (_, l) = app.get_json("/api/v1/committees", &gm).await;
        assert_eq!(l["committees"].as_array().unwrap().len(), 0);
        // A committee member (granted at a building, naming the committee) reads their own only.
        let mine = app
            .user_token(
                &f,
                "ocm",
                Role::OwnersCommitteeMember,
                access::store::At {
                    node_id: Some(f.building_a2),
                    org_id: Some(org),
                    ..Default::default()
                },
            )
            .await;
        let (s, _) = app
            .get_json(&format!("/api/v1/committees/{id}"), &mine)
            .await;
        assert_eq!(s, StatusCode::OK);
        let (s, _) = app
            .post_json(
                &format!("/api/v1/committees/{id}/activities"),
                &mine,
                json!({ "kind": "meeting", "title": "x" }),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, _) = app
            .get_json(&format!("/api/v1/committees/{}", other["id"]), &mine)
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        assert_ne!(org, other_org);
        // Community staff elsewhere cannot set one up here.
        let vs = app
            .user_token(&f, "vstaff", Role::CommunityStaff, at_node(f.village))
            .await;
        let (s, _) = committee(
            &app,
            &vs,
            &f,
            json!({ "node_id": f.grid_a1, "name": "越权" }),
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, _) = app
            .get_json("/api/v1/committees/reelection-counts", &vs)
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        // Another subdistrict in the same database sees nothing of this one.
        let g = app.fixture_named("310118004", "香花桥街道").await;
        let other_admin = app.token(&g, "admin").await;
        let (s, _) = app
            .get_json(&format!("/api/v1/committees/{id}"), &other_admin)
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (_, l) = app.get_json("/api/v1/committees", &other_admin).await;
        assert_eq!(l["committees"].as_array().unwrap().len(), 0);
        // Two starts at once make one re-election.
        let path = format!("/api/v1/committees/{id}/reelections");
        let (a, b) = tokio::join!(
            app.post_json(&path, &t, json!({ "trigger": "term_end" })),
            app.post_json(&path, &t, json!({ "trigger": "term_end" }))
        );
        let mut got = [a.0, b.0];
        got.sort();
        assert_eq!(
            got,
            [StatusCode::CREATED, StatusCode::CONFLICT],
            "{} {}",
            a.1,
            b.1
        );
        let periods = app.count("reelection_periods", f.sid).await;
        assert_eq!(periods, 1);
        let (s, _) = app.get_json("/api/v1/committees/999", &t).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (s, _) = app
            .post_json("/api/v1/committees", &t, json!({ "seats": "five" }))
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
    })
    .await;
}

#[tokio::test]
async fn the_pages_list_show_and_take_forms() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let (_, admin) = app.browser_login("admin", PASSWORD).await;
        let (s, _, body) = app.browser_get("/committees", &admin).await;
        assert_eq!(s, StatusCode::OK);
        assert!(body.contains("业主委员会") && body.contains("成立业委会"), "{body}");
        let (s, _, body) = app
            .browser_post("/committees", &admin, &format!("name=%E4%B8%9A%E5%A7%94%E4%BC%9A&node_id={}&seats=4&term_years=5&starts_on=2026-01-01", f.community_a))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body.contains("单数"), "{body}");
        let (s, h, _) = app
            .browser_post("/committees", &admin, &format!("name=%E4%B8%9A%E5%A7%94%E4%BC%9A&node_id={}&seats=3&term_years=5&starts_on=2026-01-01", f.community_a))
            .await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        let to = h["location"].to_str().unwrap().to_string();
        let (s, h, _) = app.browser_post(&format!("{to}/members"), &admin, "name=%E7%94%B2&office=chair").await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        assert!(h["location"].to_str().unwrap().ends_with("saved=1"));
        let (s, _, body) = app.browser_post(&format!("{to}/members"), &admin, "name=%E4%B9%99&office=chair").await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body.contains("已有在任主任"), "{body}");
        let (s, _, _) = app.browser_post(&format!("{to}/reelections"), &admin, "trigger=term_end").await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        let (s, _, body) = app.browser_get(&to, &admin).await;
        assert_eq!(s, StatusCode::OK);
        assert!(body.contains("换届进行中") && body.contains("成立换届小组") && body.contains("甲"), "{body}");
        let (s, _, body) = app.browser_post(&format!("{to}/reelection/steps"), &admin, "step=election&vote_id=1").await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let (s, _, _) = app.browser_post(&format!("{to}/reelection/steps"), &admin, "step=renewal_group").await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        let (s, _, body) = app.browser_get(&to, &admin).await;
        assert_eq!(s, StatusCode::OK);
        assert!(body.contains("登记:确定候选人"), "{body}");
        let (_, en) = app.browser_login("admin", PASSWORD).await;
        let (s, _, body) = app.browser_get("/committees", &format!("{en}; rb_lang=en")).await;
        assert_eq!(s, StatusCode::OK);
        assert!(body.contains("Owners' committees") || body.contains("Owners&#39; committees"), "{body}");
    })
    .await;
}
