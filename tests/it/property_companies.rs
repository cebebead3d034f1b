//! Property companies (物业服务企业) on both databases: the registry, contracts per estate with
//! their overlap check, dismissal (an approving matter-4 vote and 60 days' notice) and
//! non-renewal (90 days), the fee adjustment process (cost report published, a fee-change vote
//! after the publicity, the effective date after the result's publication), the selection
//! process (plan vote, bids, a choice among the bids, the contract), the re-election refusal,
//! access, the pages and the dashboard counts.

use axum::http::StatusCode;
use redbutler::access::{self, Actor, Role};
use redbutler::auth::users;
use redbutler::property::companies::rules::{add_days, day_of, fmt_date};
use serde_json::{json, Value};

use crate::harness::{at_node, for_each_db, Fixture, TestApp, PASSWORD};

fn now() -> i64 {
    redbutler::clock::now_ms()
}

/// Today ± `n` days, as `YYYY-MM-DD` in Shanghai.
fn day(n: i64) -> String {
    fmt_date(add_days(day_of(now()), n))
}

/// A login for the fixture's second owner (room A2), returning its token.
async fn owner_a2(app: &TestApp, f: &Fixture) -> String {
    let cli = Actor::cli(f.sid, &format!("/{}/", f.sid));
    let mut tx = app.db.begin().await.unwrap();
    let u = users::create(
        &mut tx,
        &cli,
        &users::NewUser {
            username: "owner_a2".into(),
            display_name: "owner_a2".into(),
            password: String::new(),
            person_id: Some(f.person_a2),
        },
        Some(redbutler::auth::password::hash(PASSWORD)),
    )
    .await
    .unwrap();
    access::store::grant(&mut tx, &cli, u.id, Role::Resident, Default::default())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    app.token(f, "owner_a2").await
}

/// Runs a vote on `scope` to its published result: `voters` cast `choice` each.
async fn run_vote(
    app: &TestApp,
    f: &Fixture,
    admin: &str,
    scope: i64,
    body: Value,
    voters: &[&str],
    choice: Value,
) -> i64 {
    let mut b = json!({ "scope_node_id": scope, "title": "物业表决", "matter": "property_company",
        "closes_at": now() + 3_600_000 });
    for (k, v) in body.as_object().unwrap() {
        b[k] = v.clone();
    }
    let (s, v) = app.post_json("/api/v1/votes", admin, b).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v["id"].as_i64().unwrap();
    let (s, v) = app
        .post_json(&format!("/api/v1/votes/{id}/open"), admin, json!({}))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    for t in voters {
        let (s, v) = app
            .post_json(
                &format!("/api/v1/votes/{id}/ballots"),
                t,
                json!({ "choice": choice }),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }
    sqlx::query("UPDATE votes SET closes_at = $3 WHERE subdistrict_id = $1 AND id = $2")
        .bind(f.sid)
        .bind(id)
        .bind(now() - 1)
        .execute(app.db.write())
        .await
        .unwrap();
    let (s, v) = app
        .post_json(&format!("/api/v1/votes/{id}/close"), admin, json!({}))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = app
        .post_json(&format!("/api/v1/votes/{id}/publish"), admin, json!({}))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    id
}

async fn company(app: &TestApp, token: &str, name: &str) -> i64 {
    let (s, c) = app
        .post_json(
            "/api/v1/companies",
            token,
            json!({ "name": name, "hotline": "021-59700000" }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    c["id"].as_i64().unwrap()
}

#[tokio::test]
async fn registry_contracts_and_notices() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let admin = app.token(&f, "admin").await;
        let resident = app.token(&f, "resident").await;
        let auditor = app.token(&f, "auditor").await;
        let staff = app
            .user_token(&f, "staff_a", Role::CommunityStaff, at_node(f.community_a))
            .await;

        // The registry: a bad credit code and a duplicate name are field errors.
        let (s, e) = app
            .post_json("/api/v1/companies", &staff, json!({ "name": "上海甲物业", "credit_code": "91310118MA1JL00000" }))
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "staff of a community register at their place: {e}");
        let (s, e) = app
            .post_json("/api/v1/companies", &staff, json!({ "name": "上海甲物业", "node_id": f.community_a,
                "credit_code": "91310118MA1JL00000" }))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        assert_eq!(e["errors"][0]["field"], "credit_code");
        let jia = company(&app, &admin, "上海甲物业").await;
        let (s, e) = app
            .post_json("/api/v1/companies", &admin, json!({ "name": "上海甲物业" }))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        assert_eq!(e["errors"][0]["field"], "name");
        let yi = company(&app, &admin, "上海乙物业").await;
        let (s, l) = app.get_json("/api/v1/companies", &auditor).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(l["companies"].as_array().unwrap().len(), 2);
        let (s, _) = app.get_json("/api/v1/companies", &resident).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, c) = app
            .json(axum::http::Method::PATCH, &format!("/api/v1/companies/{jia}"), &admin,
                json!({ "name": "上海甲物业有限公司", "contact_name": "陈经理" }))
            .await;
        assert_eq!(s, StatusCode::OK, "{c}");
        assert_eq!(c["name"], "上海甲物业有限公司");

        // A contract at community A; an overlapping one is refused; a building is no estate.
        let url = format!("/api/v1/property/estates/{}/contracts", f.community_a);
        let contract = json!({ "company_id": jia, "starts_on": day(-400), "ends_on": day(700),
            "fee_standard": 250, "model": "fixed_fee" });
        let (s, e) = app
            .post_json(&url, &admin, json!({ "company_id": jia, "starts_on": day(-400), "ends_on": day(700),
                "fee_standard": 0, "model": "commission" }))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        let fields: Vec<&str> = e["errors"].as_array().unwrap().iter().map(|x| x["field"].as_str().unwrap()).collect();
        assert_eq!(fields, ["fee_standard", "commission_bp"], "{e}");
        let (s, k) = app.post_json(&url, &staff, contract.clone()).await;
        assert_eq!(s, StatusCode::CREATED, "{k}");
        assert_eq!(k["status"], "active");
        let kid = k["id"].as_i64().unwrap();
        let mut again = contract.clone();
        again["company_id"] = json!(yi);
        again["starts_on"] = json!(day(600));
        again["ends_on"] = json!(day(1500));
        let (s, e) = app.post_json(&url, &admin, again.clone()).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        assert_eq!(e["errors"][0]["field"], "starts_on");
        let (s, _) = app
            .post_json(&format!("/api/v1/property/estates/{}/contracts", f.building_a1), &admin, contract.clone())
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        // Readers: the auditor at A reads, a resident does not, a grid member cannot write.
        let (s, est) = app.get_json(&format!("/api/v1/property/estates/{}", f.community_a), &auditor).await;
        assert_eq!(s, StatusCode::OK, "{est}");
        assert_eq!(est["current"]["company_name"], "上海甲物业有限公司");
        assert_eq!(est["may_edit"], false);
        let (s, _) = app.get_json(&format!("/api/v1/property/estates/{}", f.community_a), &resident).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let gm = app.token(&f, "gm_a1").await;
        let (s, _) = app.post_json(&url, &gm, contract.clone()).await;
        assert_eq!(s, StatusCode::FORBIDDEN);

        // The monthly fee of room A1: 85.50 m² at ¥2.50.
        let (s, rf) = app.get_json(&format!("/api/v1/property/rooms/{}/fee", f.room_a1), &resident).await;
        assert_eq!(s, StatusCode::OK, "{rf}");
        assert_eq!(rf["monthly_fee"], 21_375);

        // Dismissal: needs an approving matter-4 vote and 60 days' notice.
        let notices = format!("/api/v1/property/contracts/{kid}/notices");
        let (s, e) = app
            .post_json(&notices, &admin, json!({ "kind": "dismissal", "given_on": day(0), "effective_on": day(60) }))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        assert_eq!(e["errors"][0]["field"], "vote_id");
        let a2 = owner_a2(&app, &f).await;
        let no = run_vote(&app, &f, &admin, f.community_a, json!({}), &[&resident, &a2], json!({ "kind": "no" })).await;
        let (s, e) = app
            .post_json(&notices, &admin, json!({ "kind": "dismissal", "given_on": day(0), "effective_on": day(60), "vote_id": no }))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        assert!(e["errors"][0]["message"].as_str().unwrap().contains("未获通过"), "{e}");
        let yes = run_vote(&app, &f, &admin, f.community_a, json!({}), &[&resident, &a2], json!({ "kind": "yes" })).await;
        let (s, e) = app
            .post_json(&notices, &admin, json!({ "kind": "dismissal", "given_on": day(0), "effective_on": day(59), "vote_id": yes }))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        assert_eq!(e["errors"][0]["field"], "effective_on");
        assert!(e["errors"][0]["message"].as_str().unwrap().contains(&day(60)), "{e}");
        let (s, k) = app
            .post_json(&notices, &staff, json!({ "kind": "dismissal", "given_on": day(0), "effective_on": day(60), "vote_id": yes }))
            .await;
        assert_eq!(s, StatusCode::OK, "{k}");
        assert_eq!(k["notice"]["kind"], "dismissal");
        assert_eq!(k["last_day"], day(59));
        assert_eq!(k["status"], "active");
        let (s, _) = app
            .post_json(&notices, &staff, json!({ "kind": "non_renewal", "given_on": day(0), "by": "company" }))
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "one notice per contract");
        // The next company may start the day after the last day of service.
        again["starts_on"] = json!(day(60));
        let (s, k2) = app.post_json(&url, &admin, again).await;
        assert_eq!(s, StatusCode::CREATED, "{k2}");
        assert_eq!(k2["status"], "upcoming");

        // Non-renewal at grid A2: 90 days before the end, not 89.
        let url2 = format!("/api/v1/property/estates/{}/contracts", f.grid_a2);
        let (s, k) = app
            .post_json(&url2, &admin, json!({ "company_id": yi, "starts_on": day(-300), "ends_on": day(89),
                "fee_standard": 180, "model": "commission", "commission_bp": 1000 }))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{k}");
        let (s, e) = app
            .post_json(&format!("/api/v1/property/contracts/{}/notices", k["id"]), &admin,
                json!({ "kind": "non_renewal", "given_on": day(0), "by": "company" }))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        assert_eq!(e["errors"][0]["field"], "given_on");
        let (s, k) = app
            .post_json(&url2, &admin, json!({ "company_id": yi, "starts_on": day(90), "ends_on": day(1000),
                "fee_standard": 180, "model": "fixed_fee" }))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{k}");
        let url3 = format!("/api/v1/property/estates/{}/contracts", f.grid_a1);
        let (s, k) = app
            .post_json(&url3, &admin, json!({ "company_id": yi, "starts_on": day(-300), "ends_on": day(90),
                "fee_standard": 180, "model": "fixed_fee" }))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{k}");
        let (s, k) = app
            .post_json(&format!("/api/v1/property/contracts/{}/notices", k["id"]), &admin,
                json!({ "kind": "non_renewal", "given_on": day(0), "by": "company" }))
            .await;
        assert_eq!(s, StatusCode::OK, "{k}");
        assert_eq!(k["notice"]["effective_on"], day(91));

        // Every write is audited.
        let n = app
            .count_sql(
                "SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log WHERE subdistrict_id = $1 AND (action LIKE 'property.%' OR action LIKE 'company.%')",
                f.sid,
            )
            .await;
        assert_eq!(n, 2 + 1 + 5 + 2, "companies, correction, contracts, notices");

        // The pages, in Chinese.
        let (_, cookies) = app.browser_login("admin", PASSWORD).await;
        for (path, text) in [
            ("/companies".to_string(), "上海乙物业"),
            (format!("/companies/{jia}"), "更正企业信息"),
            ("/property".to_string(), "章浜居民区"),
            (format!("/property/estates/{}", f.community_a), "解聘"),
        ] {
            let (s, _, body) = app.browser_get(&path, &cookies).await;
            assert_eq!(s, StatusCode::OK, "{path}");
            assert!(body.contains(text), "{path}: {text}");
        }
        // A form with a typed amount: a bad amount re-renders with its message.
        let (s, _, body) = app
            .browser_post(&format!("/property/estates/{}/contracts", f.grid_v1), &cookies,
                &format!("company_id={jia}&starts_on=2026-01-01&ends_on=2027-12-31&fee_standard=abc&model=fixed_fee"))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body.contains("请填写金额"), "{body}");
        // A building is not an estate.
        let (s, _, _) = app.browser_get(&format!("/property/estates/{}", f.building_a1), &cookies).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
    })
    .await;
}

#[tokio::test]
async fn fee_adjustment_from_report_to_effective_date() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let admin = app.token(&f, "admin").await;
        let resident = app.token(&f, "resident").await;
        let jia = company(&app, &admin, "上海甲物业").await;
        let (s, k) = app
            .post_json(&format!("/api/v1/property/estates/{}/contracts", f.grid_a1), &admin,
                json!({ "company_id": jia, "starts_on": day(-400), "ends_on": day(700), "fee_standard": 250, "model": "fixed_fee" }))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{k}");
        let fees = format!("/api/v1/property/estates/{}/fees", f.grid_a1);
        let (s, e) = app.post_json(&fees, &admin, json!({ "new_fee": 250, "reason": "成本上涨" })).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        let (s, x) = app.post_json(&fees, &admin, json!({ "new_fee": 280, "reason": "人工成本上涨" })).await;
        assert_eq!(s, StatusCode::CREATED, "{x}");
        assert_eq!(x["old_fee"], 250);
        let id = x["id"].as_i64().unwrap();
        let (s, _) = app.post_json(&fees, &admin, json!({ "new_fee": 300, "reason": "再调" })).await;
        assert_eq!(s, StatusCode::CONFLICT, "one adjustment at a time");
        let steps = format!("/api/v1/property/fees/{id}/steps");
        // Out of order: no vote before the report.
        let (s, e) = app.post_json(&steps, &admin, json!({ "action": "take_effect", "effective_on": day(10) })).await;
        assert_eq!(s, StatusCode::CONFLICT, "{e}");
        // The report: a file or a reference is needed; a GIF is refused.
        let (s, e) = app
            .post_json(&steps, &admin, json!({ "action": "publish_report", "report_kind": "audited_cost_report", "published_on": day(-20) }))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        use base64::Engine;
        let gif = base64::engine::general_purpose::STANDARD.encode(b"GIF89a....");
        let (s, e) = app
            .post_json(&steps, &admin, json!({ "action": "publish_report", "report_kind": "audited_cost_report",
                "published_on": day(-20), "report_base64": gif }))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        assert_eq!(e["errors"][0]["field"], "report_file");
        let pdf = base64::engine::general_purpose::STANDARD.encode(b"%PDF-1.4 cost report");
        let (s, x) = app
            .post_json(&steps, &admin, json!({ "action": "publish_report", "report_kind": "audited_cost_report",
                "published_on": day(-20), "publicity_days": 15, "report_base64": pdf, "report_ref": "沪审字2026第12号" }))
            .await;
        assert_eq!(s, StatusCode::OK, "{x}");
        assert_eq!(x["step"], "report_published");
        assert_eq!(x["publicity_last_day"], day(-5));
        assert_eq!(x["report_file"]["content_type"], "application/pdf");
        let (s, _) = app.get_json(&format!("/api/v1/property/fees/{id}/report"), &resident).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        // A matter-4 vote is not a fee-change vote; a fee-change vote approves.
        let wrong = run_vote(&app, &f, &admin, f.grid_a1, json!({}), &[&resident], json!({ "kind": "yes" })).await;
        let (s, e) = app.post_json(&steps, &admin, json!({ "action": "record_vote", "vote_id": wrong })).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        let vote = run_vote(&app, &f, &admin, f.grid_a1, json!({ "matter": "other_major", "is_fee_change": true }),
            &[&resident], json!({ "kind": "yes" })).await;
        let (s, x) = app.post_json(&steps, &admin, json!({ "action": "record_vote", "vote_id": vote })).await;
        assert_eq!(s, StatusCode::OK, "{x}");
        assert_eq!(x["step"], "voted");
        // The effective date is not before the result's publication (today).
        let (s, e) = app.post_json(&steps, &admin, json!({ "action": "take_effect", "effective_on": day(-1) })).await;
        assert_eq!(s, StatusCode::CONFLICT, "{e}");
        let (s, x) = app.post_json(&steps, &admin, json!({ "action": "take_effect", "effective_on": day(0) })).await;
        assert_eq!(s, StatusCode::OK, "{x}");
        assert_eq!(x["step"], "effective");
        assert_eq!(x["events"].as_array().unwrap().len(), 4);
        // The contract's fee in force follows, and the room's fee with it: 85.50 m² × ¥2.80.
        let (_, est) = app.get_json(&format!("/api/v1/property/estates/{}", f.grid_a1), &admin).await;
        assert_eq!(est["current"]["fee_now"], 280, "{est}");
        assert_eq!(est["current"]["fee_standard"], 250);
        let (_, rf) = app.get_json(&format!("/api/v1/property/rooms/{}/fee", f.room_a1), &admin).await;
        assert_eq!(rf["monthly_fee"], 23_940);
        // The dashboard counts it.
        let c = redbutler::property::companies::governance_counts(&app.db, f.sid, now() - 86_400_000, now() + 1)
            .await
            .unwrap();
        assert_eq!((c.fee_adjustments, c.selections), (1, 0));
        let (s, c) = app.get_json("/api/v1/property/counts", &admin).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(c["fee_adjustments"], 1);
        // The page shows the timeline.
        let (_, cookies) = app.browser_login("admin", PASSWORD).await;
        let (s, _, body) = app.browser_get(&format!("/property/fees/{id}"), &cookies).await;
        assert_eq!(s, StatusCode::OK);
        assert!(body.contains("新标准生效") && body.contains("沪审字2026第12号"), "{body}");
        let en = format!("{cookies}; rb_lang=en");
        let (s, _, body) = app.browser_get(&format!("/property/fees/{id}"), &en).await;
        assert_eq!(s, StatusCode::OK);
        assert!(body.contains("Fee adjustment") && body.contains("in effect"), "{body}");
    })
    .await;
}

#[tokio::test]
async fn selection_with_bids_and_a_choice_among_them() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let admin = app.token(&f, "admin").await;
        let resident = app.token(&f, "resident").await;
        let jia = company(&app, &admin, "甲物业").await;
        let yi = company(&app, &admin, "乙物业").await;
        let (s, sel) = app
            .post_json(&format!("/api/v1/property/estates/{}/selections", f.grid_a1), &admin,
                json!({ "title": "章浜一网格物业选聘", "plan_summary": "公开招标,综合评分" }))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{sel}");
        let id = sel["id"].as_i64().unwrap();
        let steps = format!("/api/v1/property/selections/{id}/steps");
        let (s, e) = app.post_json(&steps, &admin, json!({ "action": "close_bids" })).await;
        assert_eq!(s, StatusCode::CONFLICT, "{e}");
        let plan = run_vote(&app, &f, &admin, f.grid_a1, json!({}), &[&resident], json!({ "kind": "yes" })).await;
        let (s, x) = app.post_json(&steps, &admin, json!({ "action": "approve_plan", "vote_id": plan })).await;
        assert_eq!(s, StatusCode::OK, "{x}");
        let (s, x) = app
            .post_json(&steps, &admin, json!({ "action": "invite_bids", "invited_on": day(-30), "closes_on": day(-1) }))
            .await;
        assert_eq!(s, StatusCode::OK, "{x}");
        let bids = format!("/api/v1/property/selections/{id}/bids");
        let (s, b) = app
            .post_json(&bids, &admin, json!({ "company_id": jia, "fee_standard": 260, "model": "fixed_fee", "received_on": day(-10) }))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        let (s, e) = app
            .post_json(&bids, &admin, json!({ "company_id": jia, "fee_standard": 250, "model": "fixed_fee", "received_on": day(-9) }))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "one bid per company: {e}");
        let (s, e) = app
            .post_json(&bids, &admin, json!({ "company_id": yi, "fee_standard": 240, "model": "fixed_fee", "received_on": day(-40) }))
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "before the invitation: {e}");
        let (s, b) = app
            .post_json(&bids, &admin, json!({ "company_id": yi, "fee_standard": 240, "model": "commission",
                "commission_bp": 800, "received_on": day(-2), "plan_summary": "24 小时门岗" }))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        let yi_bid = b["id"].as_i64().unwrap();
        let (s, x) = app.post_json(&steps, &admin, json!({ "action": "close_bids" })).await;
        assert_eq!(s, StatusCode::OK, "{x}");
        assert_eq!(x["step"], "bids_received");
        // The plan's vote cannot be used again; a choice among the bids names the winner.
        let (s, e) = app.post_json(&steps, &admin, json!({ "action": "select", "vote_id": plan, "bid_id": yi_bid })).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        let choice = run_vote(&app, &f, &admin, f.grid_a1, json!({ "form": { "kind": "options" }, "labels": ["甲物业", "乙物业"] }),
            &[&resident], json!({ "kind": "option", "id": 2 })).await;
        let (s, x) = app.post_json(&steps, &admin, json!({ "action": "select", "vote_id": choice })).await;
        assert_eq!(s, StatusCode::OK, "{x}");
        assert_eq!(x["winning_bid_id"], yi_bid);
        let (s, e) = app.post_json(&steps, &admin, json!({ "action": "sign_contract", "starts_on": day(5), "ends_on": day(4) })).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        let (s, x) = app.post_json(&steps, &admin, json!({ "action": "sign_contract", "starts_on": day(5), "ends_on": day(5 + 3 * 365) })).await;
        assert_eq!(s, StatusCode::OK, "{x}");
        assert_eq!(x["step"], "contract_signed");
        let (_, est) = app.get_json(&format!("/api/v1/property/estates/{}", f.grid_a1), &admin).await;
        let k = &est["contracts"][0];
        assert_eq!(k["company_name"], "乙物业", "{est}");
        assert_eq!(k["fee_standard"], 240);
        assert_eq!(k["model"], "commission");
        assert_eq!(k["commission_bp"], 800);
        assert_eq!(k["selection_id"], id);
        let c = redbutler::property::companies::governance_counts(&app.db, f.sid, now() - 86_400_000, now() + 1)
            .await
            .unwrap();
        assert_eq!((c.fee_adjustments, c.selections), (0, 1));
        let c = redbutler::property::companies::governance_counts(&app.db, f.sid, now() + 1, now() + 2)
            .await
            .unwrap();
        assert_eq!(c.selections, 0);
        let (_, cookies) = app.browser_login("admin", PASSWORD).await;
        let (s, _, body) = app.browser_get(&format!("/property/selections/{id}"), &cookies).await;
        assert_eq!(s, StatusCode::OK);
        assert!(body.contains("签订物业服务合同") && body.contains("中选"), "{body}");
    })
    .await;
}

#[tokio::test]
async fn steps_needing_a_vote_are_refused_during_a_reelection() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let admin = app.token(&f, "admin").await;
        let resident = app.token(&f, "resident").await;
        let plan = run_vote(
            &app,
            &f,
            &admin,
            f.grid_a1,
            json!({}),
            &[&resident],
            json!({ "kind": "yes" }),
        )
        .await;
        let (s, sel) = app
            .post_json(
                &format!("/api/v1/property/estates/{}/selections", f.grid_a1),
                &admin,
                json!({ "title": "选聘", "plan_summary": "方案" }),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED);
        let id = sel["id"].as_i64().unwrap();
        let (s, r) = app
            .post_json(
                "/api/v1/votes/reelection-periods",
                &admin,
                json!({ "node_id": f.community_a,
                "starts_on": day(-1), "ends_on": day(30) }),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{r}");
        let (s, e) = app
            .post_json(
                &format!("/api/v1/property/selections/{id}/steps"),
                &admin,
                json!({ "action": "approve_plan", "vote_id": plan }),
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "{e}");
        assert!(e["detail"].as_str().unwrap().contains("换届期间"), "{e}");
        let (_, x) = app
            .get_json(&format!("/api/v1/property/selections/{id}"), &admin)
            .await;
        assert_eq!(x["in_reelection"], true);
        assert_eq!(x["step"], "plan_drafted");
        // The page says so instead of offering the vote form; cancelling still works.
        let (_, cookies) = app.browser_login("admin", PASSWORD).await;
        let (s, _, body) = app
            .browser_get(&format!("/property/selections/{id}"), &cookies)
            .await;
        assert_eq!(s, StatusCode::OK);
        assert!(
            body.contains("业委会换届期间不得表决选聘物业服务企业或调整物业费"),
            "{body}"
        );
        assert!(
            !body.contains("name=\"vote_id\""),
            "no vote form during the re-election"
        );
        let (s, _, _) = app
            .browser_post(
                &format!("/property/selections/{id}/steps"),
                &cookies,
                "action=cancel&note=%E6%8D%A2%E5%B1%8A",
            )
            .await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        let (_, x) = app
            .get_json(&format!("/api/v1/property/selections/{id}"), &admin)
            .await;
        assert_eq!(x["step"], "cancelled");
    })
    .await;
}

#[tokio::test]
async fn two_contracts_racing_on_one_estate_one_wins() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let admin = app.token(&f, "admin").await;
        let jia = company(&app, &admin, "甲物业").await;
        let yi = company(&app, &admin, "乙物业").await;
        let url = format!("/api/v1/property/estates/{}/contracts", f.grid_a2);
        let body = |c: i64| {
            json!({ "company_id": c, "starts_on": day(0), "ends_on": day(365),
                "fee_standard": 200, "model": "fixed_fee" })
        };
        let (a, b) = tokio::join!(
            app.post_json(&url, &admin, body(jia)),
            app.post_json(&url, &admin, body(yi))
        );
        let mut got = [a.0, b.0];
        got.sort();
        assert_eq!(got[0], StatusCode::CREATED, "{a:?} {b:?}");
        assert!(
            matches!(
                got[1],
                StatusCode::CONFLICT | StatusCode::UNPROCESSABLE_ENTITY
            ),
            "{a:?} {b:?}"
        );
        assert_eq!(app.count("property_contracts", f.sid).await, 1);
    })
    .await;
}

#[tokio::test]
async fn the_demo_history_counts_on_the_dashboard() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let admin = app.token(&f, "admin").await;
        company(&app, &admin, "甲物业").await;
        let mut tx = app.db.begin().await.unwrap();
        let done =
            redbutler::property::companies::seed::seed_history(&mut tx, &f.admin, f.sid, now())
                .await
                .unwrap();
        tx.commit().await.unwrap();
        // The fixture has two urban grids: both get a selection, none is left for fees.
        assert_eq!((done.selections, done.fee_adjustments), (2, 0));
        let c = redbutler::property::companies::governance_counts(
            &app.db,
            f.sid,
            now() - 730 * 86_400_000,
            now(),
        )
        .await
        .unwrap();
        assert_eq!(c.selections, 2);
        let (s, est) = app
            .get_json(&format!("/api/v1/property/estates/{}", f.grid_a1), &admin)
            .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(est["current"]["company_name"], "甲物业", "{est}");
    })
    .await;
}
