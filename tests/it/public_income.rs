//! The public income account (公共收益) through the API and pages on both databases: income and
//! expenses with the balance equal to the sum of the entries; an overdraft and an expense
//! without authority refused with the reason; a reversal once; a top-up posted on every
//! building fund of the estate, by area to the fen, with the fund chains still verifying;
//! quarter compliance (strictly more than half); one publication per quarter, its XLSX, the
//! owners' phone page and a stranger's 403; the overdue flags of the income quarter and the
//! fund half-year.

use axum::http::{header, Request, StatusCode};
use redbutler::access::Role;
use redbutler::property::fund::export;
use redbutler::property::income::schedule::State;
use redbutler::property::income::store as income;
use redbutler::tree::store as tree;
use serde_json::{json, Value};

use crate::harness::{at_node, for_each_db, Fixture, TestApp};

fn now() -> i64 {
    redbutler::clock::now_ms()
}

async fn entry(app: &TestApp, token: &str, estate: i64, body: Value) -> (StatusCode, Value) {
    app.post_json(
        &format!("/api/v1/income/estates/{estate}/entries"),
        token,
        body,
    )
    .await
}

async fn room(app: &TestApp, f: &Fixture, node: i64, number: &str, area: i64) -> i64 {
    let mut tx = app.db.begin().await.unwrap();
    let r = tree::create_room(
        &mut tx,
        f.sid,
        node,
        &tree::NewRoom {
            number: number.into(),
            floor: Some(3),
            registered_area: Some(area),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    r.id
}

/// The head balance equals the sum of the entries' effects.
async fn balance_is_the_sum(app: &TestApp, f: &Fixture, estate: i64) -> i64 {
    let head = app
        .count_sql(
            &format!("SELECT balance FROM income_heads WHERE subdistrict_id = $1 AND estate_id = {estate}"),
            f.sid,
        )
        .await;
    let sum = app
        .count_sql(
            &format!(
                "SELECT CAST(COALESCE(SUM(effect), 0) AS BIGINT) FROM income_entries \
                 WHERE subdistrict_id = $1 AND estate_id = {estate}"
            ),
            f.sid,
        )
        .await;
    assert_eq!(head, sum);
    let (s, v) = app
        .get_json(
            &format!("/api/v1/income/estates/{estate}/verify"),
            &app.token(f, "admin").await,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["ok"], true, "{v}");
    head
}

/// A committee for the estate and one recorded decision; the decision's id.
async fn committee_decision(app: &TestApp, f: &Fixture, estate: i64, kind: &str) -> i64 {
    use redbutler::property::committees::store as c;
    let com = c::create(
        &app.db,
        &f.admin,
        c::NewCommittee {
            node_id: Some(estate),
            name: format!("业主委员会 {kind}"),
            seats: Some(5),
            term_years: Some(5),
            starts_on: "2026-01-01".into(),
        },
        now(),
    )
    .await;
    let com = match com {
        Ok(x) => x,
        // One committee per estate: reuse it.
        Err(_) => {
            let id = app
                .count_sql(
                    &format!("SELECT id FROM owners_committees WHERE subdistrict_id = $1 AND node_id = {estate}"),
                    f.sid,
                )
                .await;
            c::committee(&app.db, f.sid, id).await.unwrap()
        }
    };
    c::add_activity(
        &app.db,
        &f.admin,
        com.id,
        c::NewActivity {
            kind: kind.into(),
            held_on: "2026-07-20".into(),
            title: "同意用公共收益修缮健身器材".into(),
            note: String::new(),
        },
        now(),
    )
    .await
    .unwrap()
    .id
}

#[tokio::test]
async fn entries_balance_refusals_and_reversal_once() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let admin = app.token(&f, "admin").await;
        let e = f.community_a;

        let (s, a) = entry(&app, &admin, e, json!({ "kind": "income", "source": "parking", "amount": 100_000,
            "counterparty": "某停车管理公司", "note": "合同 TC-2026-01", "value_date": "2026-08-10" })).await;
        assert_eq!(s, StatusCode::CREATED, "{a}");
        assert_eq!((a["seq"].as_i64(), a["effect"].as_i64(), a["quarter"].as_str()), (Some(1), Some(100_000), Some("2026Q3")));
        let (s, b) = entry(&app, &admin, e, json!({ "kind": "income", "source": "advertising", "amount": 20_001,
            "counterparty": "电梯广告公司", "note": "合同 GG-7", "value_date": "2026-09-01" })).await;
        assert_eq!(s, StatusCode::CREATED, "{b}");

        // Field errors: no source, no payer, a zero amount, a future date, an unknown kind.
        let (s, x) = entry(&app, &admin, e, json!({ "kind": "income", "amount": 0, "value_date": "2099-01-01" })).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{x}");
        let t = x.to_string();
        for field in ["source", "counterparty", "amount", "value_date"] {
            assert!(t.contains(&format!("\"{field}\"")), "{field}: {t}");
        }
        let (s, _) = entry(&app, &admin, e, json!({ "kind": "gift", "amount": 1 })).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);

        // An expense needs its authority.
        let (s, x) = entry(&app, &admin, e, json!({ "kind": "expense", "amount": 5_000, "note": "修缮健身器材", "value_date": "2026-09-10" })).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{x}");
        assert!(x.to_string().contains("业主大会表决通过或业委会决定"), "{x}");
        // A vote on another matter does not authorise it.
        let (s, v) = app.post_json("/api/v1/votes", &admin, json!({ "scope_node_id": e, "title": "使用维修资金",
            "matter": "use_fund", "closes_at": now() + 3_600_000 })).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let (s, x) = entry(&app, &admin, e, json!({ "kind": "expense", "amount": 5_000, "note": "修缮",
            "vote_id": v["id"], "value_date": "2026-09-10" })).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{x}");
        assert!(x.to_string().contains("vote_id"), "{x}");
        // A meeting is no decision; a decision of the estate's committee is.
        let meeting = committee_decision(&app, &f, e, "meeting").await;
        let (s, x) = entry(&app, &admin, e, json!({ "kind": "expense", "amount": 5_000, "note": "修缮",
            "decision_id": meeting, "value_date": "2026-09-10" })).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{x}");
        assert!(x.to_string().contains("不是一项决定"), "{x}");
        let decision = committee_decision(&app, &f, e, "decision").await;
        let (s, x) = entry(&app, &admin, e, json!({ "kind": "expense", "amount": 5_000, "note": "修缮健身器材",
            "counterparty": "某维修公司", "decision_id": decision, "value_date": "2026-09-10" })).await;
        assert_eq!(s, StatusCode::CREATED, "{x}");
        assert_eq!(x["effect"], -5_000);
        assert_eq!(balance_is_the_sum(&app, &f, e).await, 115_001);

        // More than the balance: refused with the reason, nothing written.
        let (s, x) = entry(&app, &admin, e, json!({ "kind": "expense", "amount": 115_002, "note": "超支",
            "decision_id": decision, "value_date": "2026-09-11" })).await;
        assert_eq!(s, StatusCode::CONFLICT, "{x}");
        assert!(x.to_string().contains("余额不足"), "{x}");
        assert_eq!(app.count("income_entries", f.sid).await, 3);

        // Reversal: with a reason, once; a reversal is not reversed.
        let (s, x) = entry(&app, &admin, e, json!({ "kind": "reversal", "reverses": 2 })).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{x}");
        let (s, r) = entry(&app, &admin, e, json!({ "kind": "reversal", "reverses": 2, "note": "金额录错" })).await;
        assert_eq!(s, StatusCode::CREATED, "{r}");
        assert_eq!((r["amount"].as_i64(), r["effect"].as_i64()), (Some(20_001), Some(-20_001)));
        let (s, x) = entry(&app, &admin, e, json!({ "kind": "reversal", "reverses": 2, "note": "again" })).await;
        assert_eq!(s, StatusCode::CONFLICT, "{x}");
        let (s, x) = entry(&app, &admin, e, json!({ "kind": "reversal", "reverses": 4, "note": "x" })).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{x}");
        let (s, x) = entry(&app, &admin, e, json!({ "kind": "reversal", "reverses": 99, "note": "x" })).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{x}");
        assert_eq!(balance_is_the_sum(&app, &f, e).await, 95_000);

        // The read for the audit engagements: value dates inclusive.
        let got = income::entries_between(&app.db, f.sid, e, "2026-08-10", "2026-09-01").await.unwrap();
        assert_eq!(got.iter().map(|x| x.seq).collect::<Vec<_>>(), vec![1, 2]);
        assert!(serde_json::to_value(&got[0]).unwrap()["hash"].is_string());
        let (s, v) = app.get_json(&format!("/api/v1/income/estates/{e}/entries?from=2026-09-01&to=2026-09-30"), &admin).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(v["entries"].as_array().unwrap().len(), 2, "{v}");

        // Who may: a grid member of A1 reads nothing of community A's account; an auditor reads
        // it only through an engagement (`property::audits`), never through the ordinary pages;
        // nobody edits rows.
        let gm = app.token(&f, "gm_a1").await;
        let (s, _) = app.get_json(&format!("/api/v1/income/estates/{e}"), &gm).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let auditor = app.token(&f, "auditor").await;
        let (s, d) = app.get_json(&format!("/api/v1/income/estates/{e}"), &auditor).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{d}");
        let (s, _) = entry(&app, &auditor, e, json!({ "kind": "income", "source": "venue", "amount": 1, "counterparty": "x", "note": "x" })).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        for sql in [
            "UPDATE income_entries SET amount = 1 WHERE subdistrict_id = $1",
            "DELETE FROM income_entries WHERE subdistrict_id = $1",
        ] {
            let r = sqlx::query(sql).bind(f.sid).execute(app.db.write()).await;
            assert!(r.is_err(), "{sql}");
        }
        let audited = app
            .count_sql("SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log WHERE subdistrict_id = $1 AND action = 'income.post'", f.sid)
            .await;
        assert_eq!(audited, 4);
    })
    .await;
}

#[tokio::test]
async fn a_top_up_posts_on_every_building_fund_by_area_and_the_chains_verify() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let admin = app.token(&f, "admin").await;
        let e = f.community_a;
        // Building A1: 85.50 + 90.01 m²; building A2: 60.00 + 33.33 m².
        let r503 = room(&app, &f, f.unit_a1, "503", 9_001).await;
        let r102 = room(&app, &f, f.building_a2, "102", 3_333).await;

        let (s, _) = entry(&app, &admin, e, json!({ "kind": "income", "source": "venue", "amount": 100_001,
            "counterparty": "某培训机构", "note": "活动室租用", "value_date": "2026-08-10" })).await;
        assert_eq!(s, StatusCode::CREATED);
        let (_, d) = app.get_json(&format!("/api/v1/income/estates/{e}"), &admin).await;
        let q3 = d["quarters"].as_array().unwrap().iter().find(|q| q["quarter"] == "2026Q3").cloned().unwrap();
        assert_eq!((q3["compliant"].as_bool(), q3["shortfall"].as_i64()), (Some(false), Some(50_001)), "{q3}");

        // The preview: 17,551 : 9,333 of 50,001 fen.
        let (s, pv) = app.post_json(&format!("/api/v1/income/estates/{e}/top-up-preview"), &admin, json!({ "amount": 50_001 })).await;
        assert_eq!(s, StatusCode::OK, "{pv}");
        assert_eq!(pv["total"], 50_001);
        let share = |b: i64| pv["shares"].as_array().unwrap().iter().find(|x| x["building_id"] == b).unwrap()["amount"].as_i64().unwrap();
        // 50,001 × 17,551 / 26,884 = 32,642.74…, × 9,333 / 26,884 = 17,358.26…: the one fen left
        // goes to the larger remainder (A1).
        assert_eq!((share(f.building_a1), share(f.building_a2)), (32_643, 17_358));

        // Exactly half is not compliant; a top-up over the balance is refused.
        let (s, x) = entry(&app, &admin, e, json!({ "kind": "top_up", "amount": 100_002, "for_quarter": "2026Q3", "value_date": "2026-10-10" })).await;
        assert_eq!(s, StatusCode::CONFLICT, "{x}");
        let (s, x) = entry(&app, &admin, e, json!({ "kind": "top_up", "amount": 1, "for_quarter": "2099Q1" })).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{x}");
        let (s, t) = entry(&app, &admin, e, json!({ "kind": "top_up", "amount": 50_001, "for_quarter": "2026Q3",
            "note": "三季度公共收益补充", "value_date": "2026-10-10" })).await;
        assert_eq!(s, StatusCode::CREATED, "{t}");
        let parts = t["fund_postings"].as_array().unwrap();
        assert_eq!(parts.len(), 2, "{t}");
        assert_eq!(parts.iter().map(|p| p["amount"].as_i64().unwrap()).sum::<i64>(), 50_001);
        assert_eq!(t["quarter"], "2026Q4");
        assert_eq!(t["for_quarter"], "2026Q3");

        // Each building fund got its share as a top-up, spread over its rooms to the fen.
        for (b, want) in [(f.building_a1, 32_643), (f.building_a2, 17_358)] {
            let (_, fd) = app.get_json(&format!("/api/v1/fund/buildings/{b}"), &admin).await;
            assert_eq!(fd["fund"]["balance"], want, "{fd}");
            let p = &fd["postings"][0];
            assert_eq!((p["kind"].as_str(), p["amount"].as_i64()), (Some("top_up"), Some(want)), "{p}");
            let lines: i64 = p["lines"].as_array().unwrap().iter().map(|l| l[1].as_i64().unwrap()).sum();
            assert_eq!(lines, want);
            assert!(p["memo"].as_str().unwrap().contains("2026Q3"), "{p}");
        }
        let (_, fd) = app.get_json(&format!("/api/v1/fund/buildings/{}", f.building_a1), &admin).await;
        let rooms: Vec<i64> = fd["postings"][0]["lines"].as_array().unwrap().iter().map(|l| l[0].as_i64().unwrap()).collect();
        assert!(rooms.contains(&f.room_a1) && rooms.contains(&r503), "{fd}");
        let (_, fd2) = app.get_json(&format!("/api/v1/fund/buildings/{}", f.building_a2), &admin).await;
        assert!(fd2["postings"][0]["lines"].to_string().contains(&r102.to_string()));

        // 2 × 50,001 > 100,001: compliant now.
        let (_, d) = app.get_json(&format!("/api/v1/income/estates/{e}"), &admin).await;
        let q3 = d["quarters"].as_array().unwrap().iter().find(|q| q["quarter"] == "2026Q3").cloned().unwrap();
        assert_eq!((q3["top_up"].as_i64(), q3["compliant"].as_bool(), q3["shortfall"].as_i64()), (Some(50_001), Some(true), Some(0)));
        assert_eq!(balance_is_the_sum(&app, &f, e).await, 50_000);
        for b in [f.building_a1, f.building_a2] {
            fund_chain_verifies(&app, &f, b).await;
        }

        // Reversing the top-up reverses the fund postings too, in one go.
        let (s, r) = entry(&app, &admin, e, json!({ "kind": "reversal", "reverses": t["seq"], "note": "补充季度填错" })).await;
        assert_eq!(s, StatusCode::CREATED, "{r}");
        for b in [f.building_a1, f.building_a2] {
            let (_, fd) = app.get_json(&format!("/api/v1/fund/buildings/{b}"), &admin).await;
            assert_eq!(fd["fund"]["balance"], 0, "{fd}");
            assert_eq!(fd["postings"][1]["kind"], "reversal");
            fund_chain_verifies(&app, &f, b).await;
        }
        assert_eq!(balance_is_the_sum(&app, &f, e).await, 100_001);
        let (_, d) = app.get_json(&format!("/api/v1/income/estates/{e}"), &admin).await;
        let q3 = d["quarters"].as_array().unwrap().iter().find(|q| q["quarter"] == "2026Q3").cloned().unwrap();
        assert_eq!(q3["compliant"], false);

        // A top-up of a single building's account goes to that building alone.
        let (s, _) = entry(&app, &admin, f.building_a2, json!({ "kind": "income", "source": "advertising", "amount": 999,
            "counterparty": "x", "note": "y", "value_date": "2026-08-01" })).await;
        assert_eq!(s, StatusCode::CREATED);
        let (s, t) = entry(&app, &admin, f.building_a2, json!({ "kind": "top_up", "amount": 500, "for_quarter": "2026Q3" })).await;
        assert_eq!(s, StatusCode::CREATED, "{t}");
        assert_eq!(t["fund_postings"].as_array().unwrap().len(), 1);
        fund_chain_verifies(&app, &f, f.building_a2).await;
    })
    .await;
}

async fn fund_chain_verifies(app: &TestApp, f: &Fixture, b: i64) {
    let x = redbutler::property::fund::store::export(&app.db, &f.admin, b, now())
        .await
        .unwrap();
    let report = export::verify(&x);
    assert!(
        report.first_failure().is_none(),
        "{:?}",
        report.first_failure()
    );
}

#[tokio::test]
async fn quarterly_publication_owners_phone_page_and_overdue_flags() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let admin = app.token(&f, "admin").await;
        let resident = app.token(&f, "resident").await;
        let stranger = app.user_token(&f, "gm_v1", Role::GridMember, at_node(f.grid_v1)).await;
        let e = f.community_a;
        let (s, _) = entry(&app, &admin, e, json!({ "kind": "income", "source": "parking", "amount": 40_000,
            "counterparty": "某停车管理公司", "note": "合同 TC-9 秘密条款", "value_date": "2026-08-10" })).await;
        assert_eq!(s, StatusCode::CREATED);

        // The quarter ended 30 Sep, due 30 Oct: on 5 Nov unpublished is overdue; on 30 Oct not yet.
        let es = income::entries(&app.db, f.sid, e).await.unwrap();
        let fl = income::income_flag(&es, &[], "2026-11-05").unwrap();
        assert_eq!((fl.period.as_str(), fl.state, fl.overdue), ("2026Q3", State::Overdue, true));
        let fl = income::income_flag(&es, &[], "2026-10-30").unwrap();
        assert_eq!(fl.state, State::Due);
        let node = tree::node(&app.db, f.sid, e).await.unwrap();
        let nov5 = redbutler::clock::parse_local_date("2026-11-05").unwrap() + 3_600_000;
        let sum = income::summary(&app.db, f.sid, &node, nov5).await.unwrap();
        assert!(sum.publication.unwrap().overdue);

        // The running account is not the owners' business.
        let (s, _) = app.get_json(&format!("/api/v1/income/estates/{e}"), &resident).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        // A quarter that has not ended is not published; Q3 is, once.
        let today = redbutler::votes::desk::store::local_date(now());
        let cur = redbutler::property::income::schedule::Period::quarter_of(&today).unwrap().code();
        let (s, x) = app.post_json(&format!("/api/v1/income/estates/{e}/publications"), &admin, json!({ "quarter": cur })).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{x}");
        let (s, p) = app.post_json(&format!("/api/v1/income/estates/{e}/publications"), &admin, json!({ "quarter": "2026Q3" })).await;
        assert_eq!(s, StatusCode::CREATED, "{p}");
        assert_eq!((p["income"].as_i64(), p["top_up"].as_i64(), p["compliant"].as_bool(), p["shortfall"].as_i64()),
            (Some(40_000), Some(0), Some(false), Some(20_001)));
        let (s, x) = app.post_json(&format!("/api/v1/income/estates/{e}/publications"), &admin, json!({ "quarter": "2026Q3" })).await;
        assert_eq!(s, StatusCode::CONFLICT, "{x}");
        let pid = p["id"].as_i64().unwrap();
        let pubs = income::publications(&app.db, f.sid, e).await.unwrap();
        assert_eq!(income::income_flag(&es, &pubs, "2026-11-05").unwrap().state, State::Published);
        let audited = app
            .count_sql("SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log WHERE subdistrict_id = $1 AND action = 'income.publish'", f.sid)
            .await;
        assert_eq!(audited, 1);

        // The owner was told, reads the notices and downloads the XLSX.
        let told = app
            .count_sql("SELECT CAST(COUNT(*) AS BIGINT) FROM inbox WHERE subdistrict_id = $1 AND kind = 'income.published'", f.sid)
            .await;
        assert_eq!(told, 1);
        let (s, n) = app.get_json(&format!("/api/v1/income/estates/{e}/notices"), &resident).await;
        assert_eq!(s, StatusCode::OK, "{n}");
        assert_eq!(n["publications"][0]["quarter"], "2026Q3");
        let req = Request::get(format!("/api/v1/income/publications/{pid}/xlsx"))
            .header(header::AUTHORIZATION, format!("Bearer {resident}"))
            .body(axum::body::Body::empty())
            .unwrap();
        let (s, h, body) = app.send(req).await;
        assert_eq!(s, StatusCode::OK);
        assert!(h[header::CONTENT_TYPE].to_str().unwrap().contains("spreadsheetml"));
        assert!(body.starts_with(b"PK"), "an XLSX is a zip");
        let (_, resident_web) = app.browser_login("resident", crate::harness::PASSWORD).await;
        let (s, _, page) = app.browser_get(&format!("/income/{e}/notices"), &resident_web).await;
        assert_eq!(s, StatusCode::OK, "{page}");
        assert!(page.contains("2026Q3") && page.contains("400.00"), "{page}");
        assert!(page.contains("viewport"), "phone-sized: {page}");
        assert!(!page.contains("秘密条款"), "the running entries stay with the desk: {page}");
        let (s, _, _) = app.browser_get(&format!("/income/{e}"), &resident_web).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        // Their home page leads there.
        let (s, _, home) = app.browser_get("/", &resident_web).await;
        assert_eq!(s, StatusCode::OK);
        assert!(home.contains(&format!("href=\"/income/{e}/notices\"")), "{home}");

        // A stranger gets 403 on the notices and the file.
        let (s, _) = app.get_json(&format!("/api/v1/income/estates/{e}/notices"), &stranger).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, _) = app.get_json(&format!("/api/v1/income/publications/{pid}"), &stranger).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, _) = app.get_json(&format!("/api/v1/income/publications/{pid}/xlsx"), &stranger).await;
        assert_eq!(s, StatusCode::FORBIDDEN);

        // The desk pages: the list, the account with its quarters and the publication.
        let (_, admin_web) = app.browser_login("admin", crate::harness::PASSWORD).await;
        let (s, _, page) = app.browser_get("/income", &admin_web).await;
        assert_eq!(s, StatusCode::OK);
        assert!(page.contains(&format!("/income/{e}")), "{page}");
        let (s, _, page) = app.browser_get(&format!("/income/{e}"), &admin_web).await;
        assert_eq!(s, StatusCode::OK);
        assert!(page.contains("2026Q3") && page.contains("200.01"), "the shortfall shows: {page}");
        // The entry form re-shows with the field's message; the top-up preview per building.
        let (s, _, page) = app.browser_post(&format!("/income/{e}/entries"), &admin_web, "kind=income&amount_yuan=abc&action=post").await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.contains("最多两位小数"), "{page}");
        let (s, _, page) = app.browser_post(&format!("/income/{e}/entries"), &admin_web, "kind=top_up&amount_yuan=200.01&action=preview").await;
        assert_eq!(s, StatusCode::OK, "{page}");
        assert!(page.contains("城中东路311号") || page.contains("200.01"), "{page}");
        let (s, h, _) = app.browser_post(&format!("/income/{e}/entries"), &admin_web,
            "kind=top_up&amount_yuan=200.01&for_quarter=2026Q3&note=x&action=post").await;
        assert_eq!(s, StatusCode::SEE_OTHER, "{h:?}");

        // The fund's half-year: postings since March, H1 due by 30 July.
        let b = f.building_a2;
        let (s, x) = app.post_json(&format!("/api/v1/fund/buildings/{b}/postings"), &admin,
            json!({ "kind": "deposit", "amount": 10_000, "value_date": "2026-03-10" })).await;
        assert_eq!(s, StatusCode::CREATED, "{x}");
        let fl = income::fund_flag(&app.db, f.sid, b, "2026-07-30").await.unwrap().unwrap();
        assert_eq!((fl.period.as_str(), fl.state), ("2026-H1", State::Due));
        let fl = income::fund_flag(&app.db, f.sid, b, "2026-07-31").await.unwrap().unwrap();
        assert!(fl.overdue);
        let (s, _, page) = app.browser_get(&format!("/fund/buildings/{b}"), &admin_web).await;
        assert_eq!(s, StatusCode::OK);
        assert!(page.contains("逾期未公示"), "{page}");
        let (s, x) = app.post_json(&format!("/api/v1/fund/buildings/{b}/publications"), &admin, json!({ "period": "2026-H1" })).await;
        assert_eq!(s, StatusCode::CREATED, "{x}");
        let fl = income::fund_flag(&app.db, f.sid, b, "2026-07-31").await.unwrap().unwrap();
        assert_eq!(fl.state, State::Published);
    })
    .await;
}
