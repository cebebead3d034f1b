//! The troika's joint office: offices with weekly slots and three parties, check-ins, the
//! visitor log, matters raised as cases, and the monthly report.

use axum::http::StatusCode;
use redbutler::access::Role;
use redbutler::cases::calendar::Calendar;
use redbutler::cases::store as cases;
use redbutler::property::office::rules;
use redbutler::tree::store as tree;
use serde_json::{json, Value};

use crate::harness::{at_node, for_each_db, Fixture, TestApp, PASSWORD};

struct Orgs {
    rc: i64,
    oc: i64,
    pc: i64,
    other_pc: i64,
}

async fn orgs(app: &TestApp, f: &Fixture) -> Orgs {
    let mut tx = app.db.begin().await.unwrap();
    let mut ids = Vec::new();
    for (kind, name) in [
        ("residents_committee", "章浜居委会"),
        ("owners_committee", "章浜业委会"),
        ("property_company", "章浜物业"),
        ("property_company", "别家物业"),
    ] {
        let o = tree::create_org(&mut tx, f.sid, kind, name, Some(f.community_a))
            .await
            .unwrap();
        ids.push(o.id);
    }
    tx.commit().await.unwrap();
    Orgs {
        rc: ids[0],
        oc: ids[1],
        pc: ids[2],
        other_pc: ids[3],
    }
}

fn weekday_code(d: time::Weekday) -> String {
    format!("{d:?}").to_lowercase()
}

fn today() -> time::Date {
    redbutler::clock::to_local(redbutler::clock::now_ms()).date()
}

/// An office at grid A1 sitting all day today and yesterday (weekday-wise), no holiday skip.
async fn office(app: &TestApp, f: &Fixture, o: &Orgs, admin: &str) -> Value {
    let t = today();
    let y = t.previous_day().unwrap();
    let (s, v) = app
        .post_json(
            "/api/v1/offices",
            admin,
            json!({
                "node_id": f.grid_a1, "name": "章浜一网格合署办公室", "room": "小区活动室",
                "residents_committee_id": o.rc, "owners_committee_id": o.oc, "property_company_id": o.pc,
                "slots": [
                    { "weekday": weekday_code(t.weekday()), "start": "00:00", "end": "23:59" },
                    { "weekday": weekday_code(y.weekday()), "start": "00:00", "end": "23:59" },
                ],
                "skip_holidays": false, "tolerance_minutes": 10,
            }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v
}

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

#[tokio::test]
async fn troika_checks_in_logs_visitors_and_raises_a_matter_as_a_case() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let admin = app.token(&f, "admin").await;
        let o = orgs(&app, &f).await;
        let v = office(&app, &f, &o, &admin).await;
        let id = v["id"].as_i64().unwrap();
        assert_eq!(v["slots"].as_array().unwrap().len(), 2, "{v}");

        let ps = app.user_token(&f, "ps", Role::PropertyStaff, at_node(f.grid_a1)).await;
        let ocm = app
            .user_token(&f, "ocm", Role::OwnersCommitteeMember, at_node(f.building_a1))
            .await;
        let day = rules::format_day(today());

        // The property company checks in now (late: the sitting began at midnight).
        let (s, c) = app
            .post_json(&format!("/api/v1/offices/{id}/checkins"), &ps,
                json!({ "day": day, "start": "00:00", "party": "property_company" }))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{c}");
        assert_eq!(c["party"], "property_company");
        let checkin_id = c["id"].as_i64().unwrap();
        // Twice is refused; another party's role is not enough; an owners' committee member
        // from a building inside the estate checks in for the owners' committee.
        let (s, _) = app
            .post_json(&format!("/api/v1/offices/{id}/checkins"), &ps,
                json!({ "day": day, "start": "00:00", "party": "property_company" }))
            .await;
        assert_eq!(s, StatusCode::CONFLICT);
        let (s, _) = app
            .post_json(&format!("/api/v1/offices/{id}/checkins"), &ocm,
                json!({ "day": day, "start": "00:00", "party": "property_company" }))
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, c) = app
            .post_json(&format!("/api/v1/offices/{id}/checkins"), &ocm,
                json!({ "day": day, "start": "00:00", "party": "owners_committee" }))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{c}");
        // No sitting at that hour.
        let (s, v) = app
            .post_json(&format!("/api/v1/offices/{id}/checkins"), &ocm,
                json!({ "day": day, "start": "07:00", "party": "owners_committee" }))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        // Staff record the residents' committee's check-in on time yesterday.
        let y = today().previous_day().unwrap();
        let ys = rules::Sitting { day: y, start_min: 0, end_min: 23 * 60 + 59 };
        let (s, c) = app
            .post_json(&format!("/api/v1/offices/{id}/checkins"), &admin,
                json!({ "day": rules::format_day(y), "start": "00:00", "party": "residents_committee",
                        "at": ys.start_ms() + 5 * 60_000 }))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{c}");
        assert_eq!(c["late_minutes"], 0);
        // Check-out, once.
        let (s, c) = app
            .post_json(&format!("/api/v1/offices/{id}/checkins/{checkin_id}/checkout"), &ps, json!({}))
            .await;
        assert_eq!(s, StatusCode::OK, "{c}");
        assert!(c["left_at"].as_i64().is_some());
        let (s, _) = app
            .post_json(&format!("/api/v1/offices/{id}/checkins/{checkin_id}/checkout"), &ps, json!({}))
            .await;
        assert_eq!(s, StatusCode::CONFLICT);
        // Sessions are materialised once per sitting.
        assert_eq!(app.count("joint_office_sessions", f.sid).await, 2);
        assert_eq!(app.count("joint_office_checkins", f.sid).await, 3);

        // The week view shows today's sitting with both check-ins.
        let (s, w) = app.get_json(&format!("/api/v1/offices/{id}?week={day}"), &ps).await;
        assert_eq!(s, StatusCode::OK, "{w}");
        let today_sitting = w["sittings"].as_array().unwrap().iter()
            .find(|x| x["day"] == day.as_str()).cloned().unwrap();
        assert_eq!(today_sitting["checkins"].as_array().unwrap().len(), 2, "{w}");
        assert_eq!(w["may"]["check_in_for"], json!(["property_company"]));

        // A visitor, listed masked; a matter the property company takes, raised as a case.
        let (s, vis) = app
            .post_json(&format!("/api/v1/offices/{id}/visitors"), &ps,
                json!({ "name": "张三丰", "purpose": "楼顶漏水" }))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{vis}");
        assert_eq!(vis["name"], "张**");
        let visitor_id = vis["id"].as_i64().unwrap();
        let (_, list) = app.get_json(&format!("/api/v1/offices/{id}/visitors"), &admin).await;
        assert_eq!(list["visitors"][0]["name"], "张**", "{list}");
        let (s, v) = app
            .post_json(&format!("/api/v1/offices/{id}/visitors"), &ps, json!({ "name": "" }))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(fields(&v), vec!["name"]);

        let (s, m) = app
            .post_json(&format!("/api/v1/offices/{id}/matters"), &ps,
                json!({ "body": "3号楼顶楼漏水,需维修", "party": "property_company", "visitor_id": visitor_id }))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{m}");
        assert_eq!(m["status"], "open");
        let mid = m["id"].as_i64().unwrap();
        // The owners' committee member may not raise the property company's matter.
        let (s, _) = app
            .post_json(&format!("/api/v1/offices/{id}/matters/{mid}/case"), &ocm,
                json!({ "category": "property.leak", "node_id": f.building_a1 }))
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, v) = app
            .post_json(&format!("/api/v1/offices/{id}/matters/{mid}/case"), &ps,
                json!({ "category": "", "node_id": f.building_a1 }))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert!(fields(&v).contains(&"category".to_string()), "{v}");
        let (s, v) = app
            .post_json(&format!("/api/v1/offices/{id}/matters/{mid}/case"), &ps,
                json!({ "category": "env.clutter", "node_id": f.building_a1 }))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        assert_eq!(v["matter"]["status"], "case");
        let case_id = v["case"]["id"].as_i64().unwrap();
        let case = cases::case(&app.db, f.sid, case_id).await.unwrap();
        assert_eq!(case.channel, "visit_counter");
        assert_eq!(case.node_id, f.building_a1);
        assert_eq!(case.source_ref, format!("joint_office:{id}:matter:{mid}"));
        let (s, _) = app
            .post_json(&format!("/api/v1/offices/{id}/matters/{mid}/case"), &ps,
                json!({ "category": "property.leak", "node_id": f.building_a1 }))
            .await;
        assert_eq!(s, StatusCode::CONFLICT);

        // Another matter settled on the spot.
        let (_, m2) = app
            .post_json(&format!("/api/v1/offices/{id}/matters"), &ocm,
                json!({ "body": "询问业委会换届时间", "party": "owners_committee" }))
            .await;
        let m2 = m2["id"].as_i64().unwrap();
        let (s, v) = app
            .post_json(&format!("/api/v1/offices/{id}/matters/{m2}/done"), &ocm, json!({ "resolution": "" }))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        let (s, v) = app
            .post_json(&format!("/api/v1/offices/{id}/matters/{m2}/done"), &ocm,
                json!({ "resolution": "已当场答复:明年三月" }))
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["status"], "done");

        // Every write is audited, the visitor only by mask.
        let audited = app
            .count_sql("SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log WHERE subdistrict_id = $1 AND action LIKE 'office.%'", f.sid)
            .await;
        assert_eq!(audited, 10);
        let leaked = app
            .count_sql("SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log WHERE subdistrict_id = $1 AND action = 'office.visitor' AND after_json LIKE '%张三丰%'", f.sid)
            .await;
        assert_eq!(leaked, 0);

        // The monthly report.
        let t = today();
        let month = format!("{:04}-{:02}", t.year(), u8::from(t.month()));
        let (s, r) = app.get_json(&format!("/api/v1/offices/{id}/report?month={month}"), &admin).await;
        assert_eq!(s, StatusCode::OK, "{r}");
        let (from, to) = rules::parse_month(&month).unwrap();
        let office = redbutler::property::office::store::readable(&app.db, &f.admin, id).await.unwrap();
        let now = redbutler::clock::now_ms();
        let due = rules::sittings(&office.slots, &Calendar::shipped(), false, from, to)
            .iter()
            .filter(|s| s.start_ms() <= now)
            .count() as i64;
        assert_eq!(r["sittings_due"], due, "{r}");
        let pc_line = &r["parties"][2];
        assert_eq!(pc_line["party"], "property_company");
        assert_eq!(pc_line["attendance"], format!("1/{due}"));
        assert_eq!(pc_line["matters_case"], 1);
        assert_eq!(r["matters"], 2);
        assert_eq!(r["handled"], "2/2");
        assert_eq!(r["handled_per_mille"], 1000);
        assert_eq!(r["visitors"], 1);
        let (s, _) = app.get_json(&format!("/api/v1/offices/{id}/report?month=2026-13"), &admin).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    })
    .await;
}

#[tokio::test]
async fn offices_are_checked_and_reach_only_their_estate() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let admin = app.token(&f, "admin").await;
        let o = orgs(&app, &f).await;
        // Bad slots, a wrong organisation kind, a place that is not an estate.
        let (s, v) = app
            .post_json("/api/v1/offices", &admin, json!({
                "node_id": f.unit_a1, "name": "",
                "residents_committee_id": o.pc, "property_company_id": o.pc,
                "slots": [{ "weekday": "monday", "start": "11:00", "end": "09:00" }],
                "tolerance_minutes": 500,
            }))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        let mut got = fields(&v);
        got.sort();
        assert_eq!(got, vec!["name", "node_id", "residents_committee_id", "slots", "tolerance_minutes"], "{v}");
        let (s, _) = app
            .post_json("/api/v1/offices", &admin, json!({ "node_id": f.grid_a1, "name": "x",
                "slots": [{ "weekday": "someday", "start": "09:00", "end": "10:00" }] }))
            .await;
        assert!(s.is_client_error(), "{s}");
        let v = office(&app, &f, &o, &admin).await;
        let id = v["id"].as_i64().unwrap();
        // The same name twice at one place.
        let (s, v) = app
            .post_json("/api/v1/offices", &admin, json!({ "node_id": f.grid_a1, "name": "章浜一网格合署办公室" }))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");

        // A property company's staff of another estate, or of another company, cannot check in.
        let other = app.user_token(&f, "ps2", Role::PropertyStaff, at_node(f.grid_a2)).await;
        let day = rules::format_day(today());
        let body = json!({ "day": day, "start": "00:00", "party": "property_company" });
        let (s, _) = app.post_json(&format!("/api/v1/offices/{id}/checkins"), &other, body.clone()).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let cli = redbutler::access::Actor::cli(f.sid, &format!("/{}/", f.sid));
        let mut tx = app.db.begin().await.unwrap();
        let u = redbutler::auth::users::by_username(&app.db, f.sid, "ps2").await.unwrap().unwrap();
        redbutler::access::store::grant(&mut tx, &cli, u.id, Role::PropertyStaff,
            redbutler::access::store::At { node_id: Some(f.grid_a1), org_id: Some(o.other_pc), ..Default::default() })
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let (s, _) = app.post_json(&format!("/api/v1/offices/{id}/checkins"), &other, body.clone()).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        // A resident neither reads nor writes.
        let resident = app.token(&f, "resident").await;
        let (s, _) = app.get_json(&format!("/api/v1/offices/{id}"), &resident).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, _) = app.post_json(&format!("/api/v1/offices/{id}/visitors"), &resident, json!({ "name": "李四" })).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (_, l) = app.get_json("/api/v1/offices", &resident).await;
        assert_eq!(l["offices"].as_array().unwrap().len(), 0);
        // The grid member reads (tree reach) but does not take part.
        let gm = app.token(&f, "gm_a1").await;
        let (s, w) = app.get_json(&format!("/api/v1/offices/{id}"), &gm).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(w["may"]["take_part"], false);
        let (s, _) = app.post_json(&format!("/api/v1/offices/{id}/matters"), &gm,
            json!({ "body": "x", "party": "property_company" })).await;
        assert_eq!(s, StatusCode::FORBIDDEN);

        // A change on a stale version is 409; the slots can be replaced.
        let (s, v) = app
            .json(axum::http::Method::PUT, &format!("/api/v1/offices/{id}"), &admin, json!({
                "name": "章浜合署办公室", "residents_committee_id": o.rc, "property_company_id": o.pc,
                "slots": [{ "weekday": "tuesday", "start": "09:00", "end": "11:30" }], "version": 1 }))
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["version"], 2);
        assert_eq!(v["seats"][1]["org_id"], Value::Null);
        let (s, _) = app
            .json(axum::http::Method::PUT, &format!("/api/v1/offices/{id}"), &admin,
                json!({ "name": "again", "version": 1 }))
            .await;
        assert_eq!(s, StatusCode::CONFLICT);
        // The owners' committee no longer sits: its check-in is refused.
        let ocm = app.user_token(&f, "ocm", Role::OwnersCommitteeMember, at_node(f.grid_a1)).await;
        let (s, _) = app.post_json(&format!("/api/v1/offices/{id}/checkins"), &ocm,
            json!({ "day": day, "start": "09:00", "party": "owners_committee" })).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    })
    .await;
}

#[tokio::test]
async fn the_office_pages_work_in_a_browser() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let admin = app.token(&f, "admin").await;
        let o = orgs(&app, &f).await;
        let (_, cookies) = app.browser_login("admin", PASSWORD).await;
        let (s, _, page) = app.browser_get("/office/new", &cookies).await;
        assert_eq!(s, StatusCode::OK);
        assert!(page.contains("章浜物业"), "{page}");
        // An invalid form re-renders with the message by its field.
        let (s, _, page) = app
            .browser_post("/office", &cookies, &format!("node_id={}&name=&slots=%E5%91%A8%E4%BA%8C+09%3A00-11%3A30", f.grid_a1))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.contains("此项必填"), "{page}");
        let (s, h, _) = app
            .browser_post("/office", &cookies, &format!(
                "node_id={}&name=%E5%90%88%E7%BD%B2&room=&residents_committee_id={}&owners_committee_id=&property_company_id={}&slots=%E5%91%A8%E4%BA%8C+09%3A00-11%3A30&skip_holidays=1&tolerance_minutes=15",
                f.grid_a1, o.rc, o.pc))
            .await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        let loc = h.get("location").unwrap().to_str().unwrap().to_string();
        let (s, _, page) = app.browser_get("/office", &cookies).await;
        assert_eq!(s, StatusCode::OK);
        assert!(page.contains("合署"), "{page}");
        let (s, _, page) = app.browser_get(&loc, &cookies).await;
        assert_eq!(s, StatusCode::OK);
        assert!(page.contains("来访登记"), "{page}");
        let id: i64 = loc.rsplit('/').next().unwrap().parse().unwrap();
        let (s, _, _) = app
            .browser_post(&format!("/office/{id}/visitors"), &cookies, "name=%E6%9D%8E%E5%9B%9B&purpose=%E5%81%9C%E8%BD%A6&party=property_company")
            .await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        let (_, _, page) = app.browser_get(&loc, &cookies).await;
        assert!(page.contains("李*"), "{page}");
        assert!(!page.contains("李四"), "{page}");
        assert!(page.contains("转为办件"), "{page}");
        let (s, _, page) = app.browser_post(&format!("/office/{id}/matters"), &cookies, "body=&party=property_company").await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.contains("此项必填"), "{page}");
        let (s, _, page) = app.browser_get(&format!("/office/{id}/report?month=2026-11"), &cookies).await;
        assert_eq!(s, StatusCode::OK);
        assert!(page.contains("月度报告"), "{page}");
        let (s, h, _) = app.browser_get(&format!("/office/{id}/report.xlsx?month=2026-11"), &cookies).await;
        assert_eq!(s, StatusCode::OK);
        assert!(h.get("content-type").unwrap().to_str().unwrap().contains("spreadsheetml"));
        let (s, _, page) = app.browser_get(&format!("/office/{id}/edit"), &cookies).await;
        assert_eq!(s, StatusCode::OK);
        assert!(page.contains("tuesday 09:00-11:30"), "{page}");
        let _ = admin;
    })
    .await;
}

#[tokio::test]
async fn a_party_checking_in_twice_at_once_is_counted_once_and_tenants_stay_apart() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let admin = app.token(&f, "admin").await;
        let o = orgs(&app, &f).await;
        let v = office(&app, &f, &o, &admin).await;
        let id = v["id"].as_i64().unwrap();
        let ps = app
            .user_token(&f, "ps", Role::PropertyStaff, at_node(f.grid_a1))
            .await;
        let ps2 = app
            .user_token(&f, "ps2", Role::PropertyStaff, at_node(f.building_a1))
            .await;
        let day = rules::format_day(today());
        let body = json!({ "day": day, "start": "00:00", "party": "property_company" });
        let path = format!("/api/v1/offices/{id}/checkins");
        let (a, b) = tokio::join!(
            app.post_json(&path, &ps, body.clone()),
            app.post_json(&path, &ps2, body.clone())
        );
        let mut codes = vec![a.0, b.0];
        codes.sort();
        assert_eq!(
            codes,
            vec![StatusCode::CREATED, StatusCode::CONFLICT],
            "{a:?} {b:?}"
        );
        assert_eq!(app.count("joint_office_checkins", f.sid).await, 1);
        assert_eq!(app.count("joint_office_sessions", f.sid).await, 1);

        // Another subdistrict in the same database sees none of it.
        let g = app.fixture_named("310118004", "其他街道").await;
        let other = app.token(&g, "admin").await;
        let (_, l) = app.get_json("/api/v1/offices", &other).await;
        assert_eq!(l["offices"].as_array().unwrap().len(), 0);
        let (s, _) = app.get_json(&format!("/api/v1/offices/{id}"), &other).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
    })
    .await;
}
