//! Third-party audit engagements (第三方审计) on both databases: scope enforcement (the auditor
//! reads in-scope postings of the period only; 403 for another estate's building, an account not
//! in scope, before the start and after the end date), an auditor of another firm cannot be
//! named, findings and responses with their races, and the report an owner reads through the
//! 30th day after publication and not after, hidden from a non-owner.

use axum::http::StatusCode;
use redbutler::access::{store::At, Role};
use redbutler::tree::store as tree;
use serde_json::{json, Value};

use crate::harness::{for_each_db, Fixture, TestApp};

fn fields(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = v["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| e["field"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out.dedup();
    out
}

/// Today + `offset` days, Shanghai.
fn day(offset: i64) -> String {
    let d = redbutler::clock::to_local(redbutler::clock::now_ms()).date()
        + time::Duration::days(offset);
    redbutler::property::office::rules::format_day(d)
}

struct Setup {
    admin: String,
    auditor: String,
    auditor_id: i64,
    other_auditor: String,
    other_auditor_id: i64,
    firm: i64,
    other_firm: i64,
    law_firm: i64,
}

async fn setup(app: &TestApp, f: &Fixture) -> Setup {
    let mut tx = app.db.begin().await.unwrap();
    let mut ids = Vec::new();
    for (kind, name) in [
        ("audit_firm", "立信审计事务所"),
        ("audit_firm", "别家会计师事务所"),
        ("law_firm", "明理律师事务所"),
    ] {
        ids.push(
            tree::create_org(&mut tx, f.sid, kind, name, None)
                .await
                .unwrap()
                .id,
        );
    }
    tx.commit().await.unwrap();
    // As the demo grants them: at the root, for their firm.
    let at = |org| At {
        node_id: Some(f.root),
        org_id: Some(org),
        ..Default::default()
    };
    let auditor_id = app.add_user(f, "cpa1", Role::Auditor, at(ids[0])).await;
    let other_auditor_id = app.add_user(f, "cpa2", Role::Auditor, at(ids[1])).await;
    Setup {
        admin: app.token(f, "admin").await,
        auditor: app.token(f, "cpa1").await,
        auditor_id,
        other_auditor: app.token(f, "cpa2").await,
        other_auditor_id,
        firm: ids[0],
        other_firm: ids[1],
        law_firm: ids[2],
    }
}

async fn post_fund(app: &TestApp, admin: &str, building: i64, body: Value) -> Value {
    let (s, v) = app
        .post_json(
            &format!("/api/v1/fund/buildings/{building}/postings"),
            admin,
            body,
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v
}

/// Building A1: a first deposit before the period, interest and a top-up inside it (2025),
/// interest after it. Building A2 (grid 2, another estate): one deposit in the period.
async fn ledger(app: &TestApp, f: &Fixture, admin: &str) -> i64 {
    let first = post_fund(
        app,
        admin,
        f.building_a1,
        json!({ "kind": "first_deposit",
        "rate_fen_per_m2": 10_000, "value_date": "2024-06-01", "memo": "首期归集" }),
    )
    .await;
    post_fund(
        app,
        admin,
        f.building_a1,
        json!({ "kind": "interest", "amount": 1_200,
        "value_date": "2025-03-31" }),
    )
    .await;
    post_fund(
        app,
        admin,
        f.building_a1,
        json!({ "kind": "top_up", "amount": 50_000,
        "value_date": "2025-12-31", "memo": "2025 Q4 公共收益" }),
    )
    .await;
    post_fund(
        app,
        admin,
        f.building_a1,
        json!({ "kind": "interest", "amount": 700,
        "value_date": "2026-01-01" }),
    )
    .await;
    post_fund(
        app,
        admin,
        f.building_a2,
        json!({ "kind": "first_deposit",
        "rate_fen_per_m2": 10_000, "value_date": "2025-05-01" }),
    )
    .await;
    first["amount"].as_i64().unwrap()
}

fn engagement(s: &Setup, node: i64, accounts: &[&str], from: i64, to: i64) -> Value {
    json!({ "firm_id": s.firm, "kind": "annual", "node_id": node, "accounts": accounts,
        "period_from": "2025-01-01", "period_to": "2025-12-31",
        "starts_on": day(from), "ends_on": day(to), "auditor_ids": [s.auditor_id] })
}

async fn engage(app: &TestApp, admin: &str, body: Value) -> i64 {
    let (st, v) = app.post_json("/api/v1/audits", admin, body).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    v["id"].as_i64().unwrap()
}

#[tokio::test]
async fn an_auditor_reads_exactly_the_scope_for_exactly_the_dates() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let s = setup(&app, &f).await;
        let first = ledger(&app, &f, &s.admin).await;

        // Engaging is checked: a law firm is no audit firm; an auditor of another firm, a
        // reversed period and an empty account set are refused, each by its field.
        let mut bad = engagement(&s, f.grid_a1, &[], -5, 5);
        bad["firm_id"] = json!(s.law_firm);
        bad["period_to"] = json!("2024-12-31");
        let (st, v) = app.post_json("/api/v1/audits", &s.admin, bad).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert_eq!(fields(&v), vec!["accounts", "firm_id", "period_to"]);
        let mut other = engagement(&s, f.grid_a1, &["maintenance_fund"], -5, 5);
        other["auditor_ids"] = json!([s.auditor_id, s.other_auditor_id]);
        let (st, v) = app.post_json("/api/v1/audits", &s.admin, other).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert_eq!(fields(&v), vec!["auditor_ids"]);
        assert!(v.to_string().contains("cpa2"), "{v}");
        // Only staff of the place engage.
        let (st, _) = app
            .post_json("/api/v1/audits", &s.auditor, engagement(&s, f.grid_a1, &["maintenance_fund"], -5, 5))
            .await;
        assert_eq!(st, StatusCode::FORBIDDEN);

        // Grid A1 (building A1), the fund, 2025, open from 5 days ago to 5 days ahead.
        let now_e = engage(&app, &s.admin, engagement(&s, f.grid_a1, &["maintenance_fund"], -5, 5)).await;
        // Told in the inbox.
        let (_, inbox) = app.get_json("/api/v1/inbox", &s.auditor).await;
        assert!(inbox.to_string().contains("audit_engagement.named"), "{inbox}");

        let (st, v) = app.get_json(&format!("/api/v1/audits/{now_e}/fund"), &s.auditor).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        let buildings = v["buildings"].as_array().unwrap();
        assert_eq!(buildings.len(), 1, "{v}");
        assert_eq!(buildings[0]["building_id"], f.building_a1);
        let (st, v) = app
            .get_json(&format!("/api/v1/audits/{now_e}/fund/{}", f.building_a1), &s.auditor)
            .await;
        assert_eq!(st, StatusCode::OK, "{v}");
        // The period filter: only the 2025 postings (seq 2 and 3).
        let seqs: Vec<i64> = v["postings"].as_array().unwrap().iter().map(|p| p["seq"].as_i64().unwrap()).collect();
        assert_eq!(seqs, vec![2, 3], "{v}");
        assert_eq!(v["summary"]["opening"], first);
        assert_eq!(v["summary"]["closing"], first + 1_200 + 50_000);
        let room = v["rooms"].as_array().unwrap().iter().find(|r| r["room_id"] == f.room_a1).cloned().unwrap();
        assert_eq!(room["opening"], first);
        assert_eq!(room["closing"], first + 1_200 + 50_000);

        // Another estate's building: 403.
        let (st, v) = app
            .get_json(&format!("/api/v1/audits/{now_e}/fund/{}", f.building_a2), &s.auditor)
            .await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
        assert_eq!(v["status"], 403, "problem JSON: {v}");

        // An account not in scope: the engagement covers only the public income.
        let income_only = engage(&app, &s.admin, engagement(&s, f.grid_a1, &["public_income"], -5, 5)).await;
        let (st, _) = app.get_json(&format!("/api/v1/audits/{income_only}/fund"), &s.auditor).await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        let (st, _) = app
            .get_json(&format!("/api/v1/audits/{income_only}/fund/{}", f.building_a1), &s.auditor)
            .await;
        assert_eq!(st, StatusCode::FORBIDDEN);

        // Before the start date and after the end date: 403 everywhere, but listed.
        let later = engage(&app, &s.admin, engagement(&s, f.grid_a1, &["maintenance_fund"], 1, 10)).await;
        let over = engage(&app, &s.admin, engagement(&s, f.grid_a1, &["maintenance_fund"], -10, -1)).await;
        for id in [later, over] {
            for path in [
                format!("/api/v1/audits/{id}"),
                format!("/api/v1/audits/{id}/fund"),
                format!("/api/v1/audits/{id}/fund/{}", f.building_a1),
            ] {
                let (st, _) = app.get_json(&path, &s.auditor).await;
                assert_eq!(st, StatusCode::FORBIDDEN, "{path}");
            }
            let (st, _) = app
                .post_json(&format!("/api/v1/audits/{id}/findings"), &s.auditor, json!({
                    "title": "x", "detail": "y", "severity": "advisory", "account": "maintenance_fund" }))
                .await;
            assert_eq!(st, StatusCode::FORBIDDEN);
        }
        // Staff of the place read every engagement, whatever the date.
        let (st, _) = app.get_json(&format!("/api/v1/audits/{over}/fund/{}", f.building_a1), &s.admin).await;
        assert_eq!(st, StatusCode::OK);
        let (_, l) = app.get_json("/api/v1/audits", &s.auditor).await;
        assert_eq!(l["engagements"].as_array().unwrap().len(), 4, "{l}");
        let statuses: Vec<&str> = l["engagements"].as_array().unwrap().iter().map(|e| e["status"].as_str().unwrap()).collect();
        assert!(statuses.contains(&"upcoming") && statuses.contains(&"ended") && statuses.contains(&"fieldwork"), "{statuses:?}");

        // An auditor of another firm, not named: nothing.
        let (_, l) = app.get_json("/api/v1/audits", &s.other_auditor).await;
        assert_eq!(l["engagements"].as_array().unwrap().len(), 0, "{l}");
        let (st, _) = app.get_json(&format!("/api/v1/audits/{now_e}/fund"), &s.other_auditor).await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        // Neither a resident.
        let resident = app.token(&f, "resident").await;
        let (st, _) = app.get_json(&format!("/api/v1/audits/{now_e}"), &resident).await;
        assert_eq!(st, StatusCode::FORBIDDEN);

        // The pages: the scoped view is read-only, the out-of-date one a localised 403.
        let (st, cookies) = app.browser_login("cpa1", crate::harness::PASSWORD).await;
        assert!(st.is_redirection(), "{st}");
        let (st, _, html) = app.browser_get(&format!("/audits/{now_e}/fund/{}", f.building_a1), &cookies).await;
        assert_eq!(st, StatusCode::OK);
        assert!(html.contains("2025-03-31") && !html.contains("2026-01-01") && !html.contains("2024-06-01"), "period filter");
        assert!(!html.contains("<form method=\"post\""), "no forms in the scoped fund view");
        let (st, _, _) = app.browser_get(&format!("/audits/{over}/fund"), &cookies).await;
        assert_eq!(st, StatusCode::FORBIDDEN);

        // Staff engage through the form too; the page shows the scope and the auditors.
        let (_, staff) = app.browser_login("admin", crate::harness::PASSWORD).await;
        let (st, _, html) = app.browser_get("/audits/new", &staff).await;
        assert_eq!(st, StatusCode::OK);
        assert!(html.contains("cpa1") && html.contains("cpa2"), "auditors offered");
        let form = format!(
            "firm_id={}&kind=special&node_id={}&acct_maintenance_fund=on&period_from=2025-01-01&period_to=2025-06-30\
             &starts_on={}&ends_on={}&auditor_{}=on&title=web",
            s.firm, f.grid_a1, day(0), day(3), s.other_auditor_id
        );
        let (st, _, html) = app.browser_post("/audits", &staff, &form).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "another firm's auditor");
        assert!(html.contains("cpa2"), "the reason names them");
        let form = form.replace(&format!("auditor_{}", s.other_auditor_id), &format!("auditor_{}", s.auditor_id));
        let (st, h, _) = app.browser_post("/audits", &staff, &form).await;
        assert!(st.is_redirection(), "{st}");
        let to = h.get("location").unwrap().to_str().unwrap().to_string();
        let (st, _, html) = app.browser_get(&to, &staff).await;
        assert_eq!(st, StatusCode::OK);
        assert!(html.contains("2025-06-30") && html.contains("cpa1"), "{to}");
        let (st, _, html) = app.browser_get(&to, &cookies).await;
        assert_eq!(st, StatusCode::OK);
        assert!(html.contains("name=\"severity\""), "the auditor records findings there");

        // Every read by the auditor is in the audit log.
        let reads = app
            .count_sql(
                &format!("SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log WHERE subdistrict_id = $1 \
                 AND action = 'audit_engagement.read' AND actor_user_id = {}", s.auditor_id),
                f.sid,
            )
            .await;
        assert!(reads >= 3, "{reads}");
        let _ = s.other_firm;
    })
    .await;
}

/// The ordinary fund pages are not an auditor's way in: only the engagement's scoped view is.
///
/// An auditor's role reaches no accounts (`access::Action::ReadAccounts`): even while engaged
/// for this very building, the ordinary fund pages stay closed; the engagement's views are the
/// only way in.
#[tokio::test]
async fn the_ordinary_fund_pages_stay_closed_to_an_auditor() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let s = setup(&app, &f).await;
        ledger(&app, &f, &s.admin).await;
        engage(
            &app,
            &s.admin,
            engagement(&s, f.grid_a1, &["maintenance_fund"], -5, 5),
        )
        .await;
        let (st, _) = app
            .get_json(
                &format!("/api/v1/fund/buildings/{}", f.building_a1),
                &s.auditor,
            )
            .await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        let (_, cookies) = app.browser_login("cpa1", crate::harness::PASSWORD).await;
        let (st, _, _) = app
            .browser_get(&format!("/fund/buildings/{}", f.building_a1), &cookies)
            .await;
        assert_eq!(st, StatusCode::FORBIDDEN);
    })
    .await;
}

#[tokio::test]
async fn findings_responses_and_a_report_up_for_thirty_days() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let s = setup(&app, &f).await;
        ledger(&app, &f, &s.admin).await;
        let id = engage(&app, &s.admin, engagement(&s, f.grid_a1, &["maintenance_fund"], -5, 5)).await;

        // The owners' committee of community A (which holds grid A1) and one of its members.
        let c = redbutler::property::committees::store::create(
            &app.db,
            &f.admin,
            redbutler::property::committees::store::NewCommittee {
                node_id: Some(f.community_a),
                name: "章浜小区业主委员会".into(),
                seats: Some(5),
                term_years: Some(5),
                starts_on: day(-365),
            },
            redbutler::clock::now_ms(),
        )
        .await
        .unwrap();
        let member = app
            .user_token(&f, "ocm1", Role::OwnersCommitteeMember, At {
                node_id: Some(f.community_a),
                org_id: Some(c.org_id),
                ..Default::default()
            })
            .await;
        let resident = app.token(&f, "resident").await;
        let grid_member = app.token(&f, "gm_a1").await;

        // Findings: checked by field; a posting outside the period is not the auditor's to cite.
        let url = format!("/api/v1/audits/{id}/findings");
        let (st, v) = app.post_json(&url, &s.auditor, json!({ "title": "", "detail": "x", "severity": "huge",
            "account": "public_income" })).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert_eq!(fields(&v), vec!["account", "severity", "title"]);
        let (st, v) = app.post_json(&url, &s.auditor, json!({ "title": "利息未入分户", "detail": "x",
            "severity": "moderate", "account": "maintenance_fund", "building_id": f.building_a1, "posting_seq": 4 })).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert_eq!(fields(&v), vec!["posting_seq"]);
        let (st, v) = app.post_json(&url, &s.auditor, json!({ "title": "公共收益补充资金未附业主大会决议",
            "detail": "2025 年第四季度补充 500 元,未见决议。", "severity": "significant",
            "account": "maintenance_fund", "building_id": f.building_a1, "posting_seq": 3 })).await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
        let fid = v["id"].as_i64().unwrap();
        assert_eq!(v["status"], "open");
        assert_eq!(v["severity"], "significant");
        // Only a named auditor records findings; staff do not.
        let (st, _) = app.post_json(&url, &s.admin, json!({ "title": "x", "detail": "y",
            "severity": "advisory", "account": "maintenance_fund" })).await;
        assert_eq!(st, StatusCode::FORBIDDEN);

        // Responses: the committee member reads the engagement and answers; a grid member may not.
        let (st, v) = app.get_json(&format!("/api/v1/audits/{id}"), &member).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(v["standing"]["responder"], "committee");
        assert_eq!(v["may"]["read_scope"], false);
        let (st, _) = app.get_json(&format!("/api/v1/audits/{id}/fund"), &member).await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        let rurl = format!("/api/v1/audits/{id}/findings/{fid}/responses");
        let (st, _) = app.post_json(&rurl, &grid_member, json!({ "body": "x" })).await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        let (st, v) = app.post_json(&rurl, &member, json!({ "body": "决议已补充,见附件。", "version": 1 })).await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
        assert_eq!(v["status"], "responded");
        assert_eq!(v["responses"][0]["side"], "committee");
        // A response on a stale version: 409.
        let (st, v) = app.post_json(&rurl, &s.admin, json!({ "body": "街道补充说明", "version": 1 })).await;
        assert_eq!(st, StatusCode::CONFLICT, "{v}");
        let (st, v) = app.post_json(&rurl, &s.admin, json!({ "body": "街道补充说明", "version": 2 })).await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
        assert_eq!(v["responses"][1]["side"], "staff");
        // The auditor heard of the responses.
        let (_, inbox) = app.get_json("/api/v1/inbox", &s.auditor).await;
        assert!(inbox.to_string().contains("audit_finding.responded"), "{inbox}");
        // Closed by the auditor, once; no response after.
        let curl = format!("/api/v1/audits/{id}/findings/{fid}/close");
        let (st, _) = app.post_json(&curl, &member, json!({})).await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        let (st, v) = app.post_json(&curl, &s.auditor, json!({ "note": "已整改" })).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(v["status"], "closed");
        let (st, _) = app.post_json(&curl, &s.auditor, json!({})).await;
        assert_eq!(st, StatusCode::CONFLICT);
        let (st, _) = app.post_json(&rurl, &member, json!({ "body": "late" })).await;
        assert_eq!(st, StatusCode::CONFLICT);

        // Two findings closed at once by the auditor: one wins, the other gets 409.
        let (_, v) = app.post_json(&url, &s.auditor, json!({ "title": "台账", "detail": "x",
            "severity": "advisory", "account": "maintenance_fund" })).await;
        let race = format!("/api/v1/audits/{id}/findings/{}/close", v["id"]);
        let (a, b) = tokio::join!(
            app.post_json(&race, &s.auditor, json!({ "version": 1 })),
            app.post_json(&race, &s.auditor, json!({ "version": 1 }))
        );
        let mut got = vec![a.0, b.0];
        got.sort();
        assert_eq!(got, vec![StatusCode::OK, StatusCode::CONFLICT]);
        // The report: nothing for the owner before it is submitted and published.
        let purl = format!("/api/v1/audits/{id}/report");
        let (st, _) = app.get_json(&purl, &resident).await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        let pdf = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, b"%PDF-1.4\n% audit report\n");
        let (st, v) = app.post_json(&purl, &s.auditor, json!({ "summary": "", "file_name": "x.exe", "file_base64": "TVqQ" })).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert_eq!(fields(&v), vec!["file", "summary"]);
        let (st, v) = app.post_json(&purl, &s.auditor, json!({ "summary": "2025 年度维修资金使用基本合规,一项重要发现已整改。",
            "file_name": "审计报告.pdf", "file_base64": pdf })).await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
        assert_eq!(v["doc_type"], "application/pdf");
        let (st, _) = app.post_json(&purl, &s.auditor, json!({ "summary": "again" })).await;
        assert_eq!(st, StatusCode::CONFLICT);
        let (st, _) = app.get_json(&purl, &resident).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "submitted is not published");
        let pub_url = format!("/api/v1/audits/{id}/report/publish");
        let (st, _) = app.post_json(&pub_url, &s.auditor, json!({})).await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        let (st, v) = app.post_json(&pub_url, &s.admin, json!({})).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(v["published_on"], day(0));
        assert_eq!(v["public_until"], day(30));
        let (st, _) = app.post_json(&pub_url, &s.admin, json!({})).await;
        assert_eq!(st, StatusCode::CONFLICT);
        // The owner is told, and reads it (and its document); a non-owner does not.
        let (_, inbox) = app.get_json("/api/v1/inbox", &resident).await;
        assert!(inbox.to_string().contains("audit_report.published"), "{inbox}");
        let (st, v) = app.get_json(&purl, &resident).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        let (st, _) = app.get_json(&format!("{purl}/document"), &resident).await;
        assert_eq!(st, StatusCode::OK);
        let (st, _) = app.get_json(&purl, &grid_member).await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        let (_, l) = app.get_json("/api/v1/audits", &resident).await;
        assert_eq!(l["engagements"].as_array().unwrap().len(), 1, "{l}");

        // Day 30 after publication: still up. Day 31: gone for the owner, not for staff.
        let set_published = |d: String| {
            let db = app.db.clone();
            let sid = f.sid;
            async move {
                sqlx::query("UPDATE audit_engagement_reports SET published_on = $1 WHERE subdistrict_id = $2 AND engagement_id = $3")
                    .bind(d)
                    .bind(sid)
                    .bind(id)
                    .execute(db.write())
                    .await
                    .unwrap();
            }
        };
        set_published(day(-30)).await;
        let (st, _) = app.get_json(&purl, &resident).await;
        assert_eq!(st, StatusCode::OK, "day 30 is included");
        let (st, _, html) = {
            let (_, cookies) = app.browser_login("resident", crate::harness::PASSWORD).await;
            app.browser_get(&format!("/audits/{id}/report"), &cookies).await
        };
        assert_eq!(st, StatusCode::OK);
        assert!(html.contains("viewport"), "phone-friendly layout");
        set_published(day(-31)).await;
        let (st, _) = app.get_json(&purl, &resident).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "day 31 is not");
        let (_, l) = app.get_json("/api/v1/audits", &resident).await;
        assert_eq!(l["engagements"].as_array().unwrap().len(), 0, "{l}");
        let (st, _) = app.get_json(&purl, &s.admin).await;
        assert_eq!(st, StatusCode::OK);

        // Every write is in the audit log.
        for action in ["audit_engagement.create", "audit_finding.create", "audit_finding.respond",
            "audit_finding.close", "audit_report.submit", "audit_report.publish"] {
            let n = app
                .count_sql(&format!("SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log WHERE subdistrict_id = $1 AND action = '{action}'"), f.sid)
                .await;
            assert!(n >= 1, "{action}");
        }
    })
    .await;
}

async fn income_entry(app: &TestApp, admin: &str, estate: i64, amount: i64, value_date: &str) {
    let (s, v) = app
        .post_json(
            &format!("/api/v1/income/estates/{estate}/entries"),
            admin,
            json!({ "kind": "income", "source": "parking", "amount": amount,
                "counterparty": "停车管理公司", "note": "合同", "value_date": value_date }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
}

#[tokio::test]
async fn the_public_income_in_scope_is_filtered_to_the_period() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let s = setup(&app, &f).await;
        income_entry(&app, &s.admin, f.grid_a1, 10_000, "2024-12-31").await;
        income_entry(&app, &s.admin, f.grid_a1, 20_000, "2025-06-01").await;
        income_entry(&app, &s.admin, f.grid_a1, 40_000, "2026-02-01").await;
        income_entry(&app, &s.admin, f.grid_a2, 80_000, "2025-06-01").await;
        let id = engage(
            &app,
            &s.admin,
            engagement(&s, f.grid_a1, &["public_income"], -1, 1),
        )
        .await;
        let (st, v) = app
            .get_json(&format!("/api/v1/audits/{id}/income"), &s.auditor)
            .await;
        assert_eq!(st, StatusCode::OK, "{v}");
        let accounts = v["accounts"].as_array().unwrap();
        assert_eq!(accounts.len(), 1, "grid A2 is another estate: {v}");
        assert_eq!(accounts[0]["estate_id"], f.grid_a1);
        assert_eq!(accounts[0]["opening"], 10_000);
        assert_eq!(accounts[0]["closing"], 30_000);
        let amounts: Vec<i64> = accounts[0]["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["amount"].as_i64().unwrap())
            .collect();
        assert_eq!(amounts, vec![20_000]);
        // The fund is not in this engagement's scope; the income is not in a fund-only one's.
        let (st, _) = app
            .get_json(&format!("/api/v1/audits/{id}/fund"), &s.auditor)
            .await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        let fund_only = engage(
            &app,
            &s.admin,
            engagement(&s, f.grid_a1, &["maintenance_fund"], -1, 1),
        )
        .await;
        let (st, _) = app
            .get_json(&format!("/api/v1/audits/{fund_only}/income"), &s.auditor)
            .await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        let (_, cookies) = app.browser_login("cpa1", crate::harness::PASSWORD).await;
        let (st, _, html) = app
            .browser_get(&format!("/audits/{id}/income"), &cookies)
            .await;
        assert_eq!(st, StatusCode::OK);
        assert!(
            html.contains("2025-06-01") && !html.contains("2026-02-01"),
            "period filter"
        );
    })
    .await;
}
