//! Lawyer mediation of property disputes: engagements, cases, assignment, sessions, the
//! outcome, follow-ups raised as cases, and who sees what.

use axum::http::StatusCode;
use redbutler::access::{store::At, Role};
use redbutler::cases::store as cases;
use redbutler::tree::store as tree;
use serde_json::{json, Value};

use crate::harness::{for_each_db, Fixture, TestApp, PASSWORD};

fn fields(v: &Value) -> Vec<String> {
    v["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| e["field"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn day(offset: i64) -> String {
    let d = redbutler::clock::to_local(redbutler::clock::now_ms()).date()
        + time::Duration::days(offset);
    redbutler::property::office::rules::format_day(d)
}

struct Setup {
    admin: String,
    lawyer: String,
    other_lawyer: String,
    firm: i64,
    other_firm: i64,
    company: i64,
}

async fn setup(app: &TestApp, f: &Fixture) -> Setup {
    let mut tx = app.db.begin().await.unwrap();
    let mut ids = Vec::new();
    for (kind, name) in [
        ("law_firm", "明理律师事务所"),
        ("law_firm", "别家律师事务所"),
        ("property_company", "章浜物业"),
    ] {
        ids.push(
            tree::create_org(&mut tx, f.sid, kind, name, None)
                .await
                .unwrap()
                .id,
        );
    }
    tx.commit().await.unwrap();
    let at = |org| At {
        node_id: Some(f.root),
        org_id: Some(org),
        ..Default::default()
    };
    let lawyer = app.user_token(f, "lawyer", Role::Lawyer, at(ids[0])).await;
    let other_lawyer = app.user_token(f, "lawyer2", Role::Lawyer, at(ids[1])).await;
    Setup {
        admin: app.token(f, "admin").await,
        lawyer,
        other_lawyer,
        firm: ids[0],
        other_firm: ids[1],
        company: ids[2],
    }
}

async fn user_id(app: &TestApp, f: &Fixture, name: &str) -> i64 {
    redbutler::auth::users::by_username(&app.db, f.sid, name)
        .await
        .unwrap()
        .unwrap()
        .id
}

#[tokio::test]
async fn a_leak_dispute_is_mediated_to_an_agreement_and_followed_up() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let s = setup(&app, &f).await;
        // Engagements are checked, then the firm is engaged for community A.
        let (st, v) = app
            .post_json("/api/v1/mediation/engagements", &s.admin, json!({
                "firm_id": s.company, "node_id": f.community_a, "starts_on": day(5), "ends_on": day(1) }))
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        let mut got = fields(&v);
        got.sort();
        assert_eq!(got, vec!["ends_on", "firm_id"]);
        let (st, e) = app
            .post_json("/api/v1/mediation/engagements", &s.admin, json!({
                "firm_id": s.firm, "node_id": f.community_a, "starts_on": day(-10), "ends_on": day(300) }))
            .await;
        assert_eq!(st, StatusCode::CREATED, "{e}");
        // The other firm is engaged only for the village.
        let (st, _) = app
            .post_json("/api/v1/mediation/engagements", &s.admin, json!({
                "firm_id": s.other_firm, "node_id": f.village, "starts_on": day(-10), "ends_on": day(300) }))
            .await;
        assert_eq!(st, StatusCode::CREATED);
        let (_, l) = app.get_json("/api/v1/mediation/engagements", &s.lawyer).await;
        assert_eq!(l["engagements"].as_array().unwrap().len(), 1, "{l}");

        // Filing: each side needs a party.
        let (st, v) = app
            .post_json("/api/v1/mediation/cases", &s.admin, json!({
                "node_id": f.building_a1, "kind": "leaks", "summary": "楼上渗水",
                "parties": [{ "side": "applicant", "person_id": f.person_a1 }] }))
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert_eq!(fields(&v), vec!["parties"]);
        let (st, v) = app
            .post_json("/api/v1/mediation/cases", &s.admin, json!({
                "node_id": f.building_a1, "kind": "flood", "summary": "",
                "parties": [] }))
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        let (st, m) = app
            .post_json("/api/v1/mediation/cases", &s.admin, json!({
                "node_id": f.building_a1, "kind": "leaks", "summary": "502室卫生间渗水至402室,物业维修不及时",
                "parties": [{ "side": "applicant", "person_id": f.person_a1 },
                            { "side": "respondent", "org_id": s.company },
                            { "side": "respondent", "name": "赵六" }] }))
            .await;
        assert_eq!(st, StatusCode::CREATED, "{m}");
        assert_eq!(m["status"], "filed");
        let id = m["id"].as_i64().unwrap();

        // Before assignment the lawyers see nothing; no session without a lawyer.
        let (_, l) = app.get_json("/api/v1/mediation/cases", &s.lawyer).await;
        assert_eq!(l["cases"].as_array().unwrap().len(), 0);
        let (st, _) = app.get_json(&format!("/api/v1/mediation/cases/{id}"), &s.lawyer).await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        let (st, _) = app
            .post_json(&format!("/api/v1/mediation/cases/{id}/sessions"), &s.admin, json!({ "attendees": "双方" }))
            .await;
        assert_eq!(st, StatusCode::CONFLICT);

        // Only a lawyer of a firm engaged here may be assigned.
        let other = user_id(&app, &f, "lawyer2").await;
        let (st, v) = app
            .post_json(&format!("/api/v1/mediation/cases/{id}/assign"), &s.admin, json!({ "lawyer_user_id": other }))
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        let (_, show) = app.get_json(&format!("/api/v1/mediation/cases/{id}"), &s.admin).await;
        assert_eq!(show["lawyers"].as_array().unwrap().len(), 1, "{show}");
        let lawyer_id = user_id(&app, &f, "lawyer").await;
        let (st, v) = app
            .post_json(&format!("/api/v1/mediation/cases/{id}/assign"), &s.admin, json!({ "lawyer_user_id": lawyer_id }))
            .await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(v["status"], "assigned");
        assert_eq!(v["firm_id"], s.firm);
        let told = app
            .count_sql(
                &format!("SELECT CAST(COUNT(*) AS BIGINT) FROM inbox WHERE subdistrict_id = $1 AND user_id = {lawyer_id} AND kind = 'mediation.assigned'"),
                f.sid,
            )
            .await;
        assert_eq!(told, 1);

        // The assigned lawyer reads it with the parties in full; the other firm's lawyer not at all.
        let (st, show) = app.get_json(&format!("/api/v1/mediation/cases/{id}"), &s.lawyer).await;
        assert_eq!(st, StatusCode::OK, "{show}");
        let names: Vec<&str> = show["parties"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
        assert!(names.contains(&"张三丰") && names.contains(&"章浜物业") && names.contains(&"赵六"), "{show}");
        assert_eq!(show["may"]["withdraw"], false);
        let (st, _) = app.get_json(&format!("/api/v1/mediation/cases/{id}"), &s.other_lawyer).await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        let (_, l) = app.get_json("/api/v1/mediation/cases", &s.lawyer).await;
        assert_eq!(l["cases"].as_array().unwrap().len(), 1);

        // The lawyer mediates: no outcome before a session, no withdrawing, then a session.
        let (st, _) = app
            .post_json(&format!("/api/v1/mediation/cases/{id}/outcome"), &s.lawyer,
                json!({ "status": "agreement_reached", "text": "x" }))
            .await;
        assert_eq!(st, StatusCode::CONFLICT);
        let (st, _) = app
            .post_json(&format!("/api/v1/mediation/cases/{id}/outcome"), &s.lawyer,
                json!({ "status": "withdrawn", "text": "x" }))
            .await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        let (st, v) = app
            .post_json(&format!("/api/v1/mediation/cases/{id}/sessions"), &s.lawyer, json!({ "attendees": "" }))
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        let (st, v) = app
            .post_json(&format!("/api/v1/mediation/cases/{id}/sessions"), &s.lawyer, json!({
                "place": "居委会调解室", "attendees": "张三丰、赵六、物业经理", "notes": "双方同意先查明漏点" }))
            .await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
        let (st, v) = app
            .post_json(&format!("/api/v1/mediation/cases/{id}/outcome"), &s.lawyer,
                json!({ "status": "agreement_reached", "text": "物业一周内维修防水层,赵六承担材料费 800 元" }))
            .await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(v["status"], "agreement_reached");
        let (st, _) = app
            .post_json(&format!("/api/v1/mediation/cases/{id}/sessions"), &s.lawyer, json!({ "attendees": "x" }))
            .await;
        assert_eq!(st, StatusCode::CONFLICT);

        // Follow-ups: one done, one raised as a case; finishing needs all checked.
        let (st, f1) = app
            .post_json(&format!("/api/v1/mediation/cases/{id}/followups"), &s.lawyer,
                json!({ "due_on": day(7), "what": "回访维修是否完成" }))
            .await;
        assert_eq!(st, StatusCode::CREATED, "{f1}");
        let f1 = f1["id"].as_i64().unwrap();
        let (st, f2) = app
            .post_json(&format!("/api/v1/mediation/cases/{id}/followups"), &s.admin,
                json!({ "due_on": day(14), "what": "材料费是否支付" }))
            .await;
        assert_eq!(st, StatusCode::CREATED);
        let f2 = f2["id"].as_i64().unwrap();
        let (st, _) = app.post_json(&format!("/api/v1/mediation/cases/{id}/finish"), &s.lawyer, json!({})).await;
        assert_eq!(st, StatusCode::CONFLICT);
        let (st, v) = app
            .post_json(&format!("/api/v1/mediation/cases/{id}/followups/{f1}/done"), &s.lawyer, json!({ "note": "已修好" }))
            .await;
        assert_eq!(st, StatusCode::OK, "{v}");
        let (st, _) = app
            .post_json(&format!("/api/v1/mediation/cases/{id}/followups/{f1}/done"), &s.lawyer, json!({ "note": "again" }))
            .await;
        assert_eq!(st, StatusCode::CONFLICT);
        let (st, v) = app
            .post_json(&format!("/api/v1/mediation/cases/{id}/followups/{f2}/case"), &s.admin, json!({ "category": "env.clutter" }))
            .await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
        assert_eq!(v["follow_up"]["status"], "case");
        let case = cases::case(&app.db, f.sid, v["case"]["id"].as_i64().unwrap()).await.unwrap();
        assert_eq!(case.channel, "web");
        assert_eq!(case.node_id, f.building_a1);
        assert_eq!(case.source_ref, format!("mediation:{id}:follow_up:{f2}"));
        let (st, v) = app.post_json(&format!("/api/v1/mediation/cases/{id}/finish"), &s.lawyer, json!({})).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(v["status"], "follow_up_done");
        let (st, _) = app
            .post_json(&format!("/api/v1/mediation/cases/{id}/followups"), &s.admin, json!({ "due_on": day(20), "what": "x" }))
            .await;
        assert_eq!(st, StatusCode::CONFLICT);

        // Audited, with the person party only by mask.
        let n = app
            .count_sql("SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log WHERE subdistrict_id = $1 AND action LIKE 'mediation.%'", f.sid)
            .await;
        assert_eq!(n, 11);
        let leaked = app
            .count_sql("SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log WHERE subdistrict_id = $1 AND action = 'mediation.file' AND after_json LIKE '%张三丰%'", f.sid)
            .await;
        assert_eq!(leaked, 0);
        let (_, l) = app.get_json("/api/v1/mediation/cases?status=follow_up_done", &s.admin).await;
        assert_eq!(l["cases"].as_array().unwrap().len(), 1);
        let (st, _) = app.get_json("/api/v1/mediation/cases?status=nonsense", &s.admin).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    })
    .await;
}

#[tokio::test]
async fn staff_withdraw_and_outsiders_neither_read_nor_write() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let s = setup(&app, &f).await;
        let (_, m) = app
            .post_json("/api/v1/mediation/cases", &s.admin, json!({
                "node_id": f.grid_a2, "kind": "parking", "summary": "车位被占",
                "parties": [{ "side": "applicant", "name": "王五" }, { "side": "respondent", "name": "钱七" }] }))
            .await;
        let id = m["id"].as_i64().unwrap();
        // The grid member and a resident: no access; a village staff member cannot file in A.
        let gm = app.token(&f, "gm_a1").await;
        let (st, _) = app.get_json(&format!("/api/v1/mediation/cases/{id}"), &gm).await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        let staff_v = app
            .user_token(&f, "cs_v", Role::CommunityStaff, crate::harness::at_node(f.village))
            .await;
        let (st, _) = app
            .post_json("/api/v1/mediation/cases", &staff_v, json!({
                "node_id": f.grid_a2, "kind": "noise", "summary": "x",
                "parties": [{ "side": "applicant", "name": "a" }, { "side": "respondent", "name": "b" }] }))
            .await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        let (st, _) = app
            .post_json(&format!("/api/v1/mediation/cases/{id}/outcome"), &staff_v, json!({ "status": "withdrawn", "text": "x" }))
            .await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        // Staff withdraw it; nothing further happens.
        let (st, v) = app
            .post_json(&format!("/api/v1/mediation/cases/{id}/outcome"), &s.admin, json!({ "status": "withdrawn", "text": "申请人已自行协商" }))
            .await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(v["status"], "withdrawn");
        let (st, _) = app
            .post_json(&format!("/api/v1/mediation/cases/{id}/outcome"), &s.admin, json!({ "status": "no_agreement", "text": "x" }))
            .await;
        assert_eq!(st, StatusCode::CONFLICT);
        let (st, _) = app
            .post_json(&format!("/api/v1/mediation/cases/{id}/outcome"), &s.admin, json!({ "status": "done", "text": "x" }))
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);

        // The pages.
        let (_, cookies) = app.browser_login("admin", PASSWORD).await;
        for path in ["/mediation", "/mediation/new", "/mediation/engagements"] {
            let (st, _, page) = app.browser_get(path, &cookies).await;
            assert_eq!(st, StatusCode::OK, "{path}: {page}");
        }
        let (st, _, page) = app.browser_get(&format!("/mediation/{id}"), &cookies).await;
        assert_eq!(st, StatusCode::OK);
        assert!(page.contains("申请人已自行协商"), "{page}");
        assert!(page.contains("王五"), "{page}");
        let (st, _, page) = app
            .browser_post("/mediation", &cookies, &format!("node_id={}&kind=noise&summary=&applicants=a&respondents=", f.grid_a1))
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.contains("此项必填"), "{page}");
        let (st, h, _) = app
            .browser_post("/mediation", &cookies, &format!(
                "node_id={}&kind=noise&summary=%E5%A4%9C%E9%97%B4%E5%99%AA%E5%A3%B0&applicants=a&respondents=b&respondent_org_id={}",
                f.grid_a1, s.company))
            .await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        let loc = h.get("location").unwrap().to_str().unwrap().to_string();
        let (st, _, page) = app.browser_post(&format!("{loc}/sessions"), &cookies, "attendees=").await;
        // Filed, not assigned: a session is refused with the reason.
        assert_eq!(st, StatusCode::CONFLICT, "{page}");
        let (st, _, _) = app
            .browser_post("/mediation/engagements", &cookies, &format!(
                "firm_id={}&node_id={}&starts_on={}&ends_on={}&note=", s.firm, f.community_a, day(-1), day(100)))
            .await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        let (_, _, page) = app.browser_get(&loc, &cookies).await;
        assert!(page.contains("明理律师事务所"), "{page}");
    })
    .await;
}
