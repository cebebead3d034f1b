//! The five-step method (五步工作法): schedules materialised into meetings (idempotently),
//! agendas drafted from live data (an overdue case, a pending hall topic, an open action of
//! the last meeting), attendance, minutes, decisions and actions, an action turned into a
//! case, the daily contact log with a case raised from it, the iCalendar feeds read back by an
//! independent parser, and the annual scorecard from a known set of cases — on both databases.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use icalendar::{Component, EventLike, EventStatus};
use redbutler::access::{Actor, Role};
use redbutler::auth::users;
use redbutler::cases::lifecycle::{EvaluationChannel, Rating};
use redbutler::cases::store::{self, CaseAction, CaseRecord, NewCase};
use serde_json::{json, Value};

use crate::harness::{at_node, for_each_db, Fixture, TestApp, PASSWORD};

async fn actor(app: &TestApp, f: &Fixture, user: &str) -> Actor {
    redbutler::auth::tokens::actor(&app.db, &app.token(f, user).await)
        .await
        .unwrap()
        .unwrap()
}

async fn open(app: &TestApp, who: &Actor, node_id: i64) -> CaseRecord {
    let new: NewCase = serde_json::from_value(json!({
        "category": "env.clutter", "node_id": node_id,
        "title": "楼道堆物", "description": "楼道里堆满杂物,影响通行",
    }))
    .unwrap();
    store::open_case(&app.db, who, new, "api", None)
        .await
        .unwrap()
        .case()
        .clone()
}

async fn act(app: &TestApp, who: &Actor, c: &CaseRecord, action: CaseAction) -> CaseRecord {
    store::act(&app.db, who, c.id, c.version, action.clone())
        .await
        .unwrap_or_else(|e| panic!("{action:?} on {}: {e:?}", c.state))
}

/// A dispatched case whose due instant is moved three days into the past.
async fn overdue_case(app: &TestApp, f: &Fixture) -> CaseRecord {
    let admin = f.admin.clone();
    let c = open(app, &admin, f.building_a1).await;
    let c = act(app, &admin, &c, CaseAction::Register).await;
    let mut c = act(app, &admin, &c, CaseAction::Dispatch { unit_id: f.root }).await;
    c.lifecycle.due_ms = Some(redbutler::clock::now_ms() - 3 * 86_400_000);
    sqlx::query("UPDATE cases SET lifecycle_json = $3 WHERE subdistrict_id = $1 AND id = $2")
        .bind(f.sid)
        .bind(c.id)
        .bind(serde_json::to_string(&c.lifecycle).unwrap())
        .execute(app.db.write())
        .await
        .unwrap();
    c
}

fn fields(v: &Value) -> Vec<String> {
    v["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| e["field"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

async fn user_id(app: &TestApp, f: &Fixture, name: &str) -> i64 {
    users::by_username(&app.db, f.sid, name)
        .await
        .unwrap()
        .unwrap()
        .id
}

async fn get_ics(
    app: &TestApp,
    path: &str,
    etag: Option<&str>,
) -> (StatusCode, axum::http::HeaderMap, String) {
    let mut req = Request::get(path);
    if let Some(e) = etag {
        req = req.header(header::IF_NONE_MATCH, e);
    }
    let (s, h, b) = app.send(req.body(Body::empty()).unwrap()).await;
    (s, h, String::from_utf8_lossy(&b).into_owned())
}

fn weekly_rule() -> Value {
    json!({ "repeat": { "every": "weekly", "weekday": "wednesday" }, "start": "09:30",
        "duration_minutes": 60, "non_working_day": "next_working_day" })
}

#[tokio::test]
async fn weekly_meetings_are_planned_drafted_held_and_followed_up() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let staff = app
            .user_token(&f, "cs_a", Role::CommunityStaff, at_node(f.community_a))
            .await;
        let gm = app.token(&f, "gm_a1").await;
        let gm_id = user_id(&app, &f, "gm_a1").await;
        let sched = format!("/api/v1/five-step/schedules/{}", f.community_a);

        // Validation: a day that not every month has, and a kind that does not exist.
        let (s, v) = app
            .json(Method::PUT, &sched, &staff, json!({ "kind": "monthly_consultation",
                "rule": { "repeat": { "every": "monthly", "day": { "by": "day_of_month", "day": 31 } },
                    "start": "14:00", "duration_minutes": 90 } }))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert!(fields(&v).contains(&"day".to_string()), "{v}");
        let (s, v) = app
            .json(Method::PUT, &sched, &staff, json!({ "kind": "daily", "rule": weekly_rule() }))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert_eq!(fields(&v), vec!["kind"]);
        // A grid member does not run the community's meetings; a grid is not a meeting place.
        let (s, _) = app
            .json(Method::PUT, &sched, &gm, json!({ "kind": "weekly_meeting", "rule": weekly_rule() }))
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);

        let (s, v) = app
            .json(Method::PUT, &sched, &staff, json!({ "kind": "weekly_meeting", "rule": weekly_rule(),
                "place": "居委会二楼会议室" }))
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");

        // Materialise the next eight weeks, twice: the second adds nothing.
        let (s, p1) = app.post_json(&format!("{sched}/plan"), &staff, json!({})).await;
        assert_eq!(s, StatusCode::OK, "{p1}");
        let created = p1["created"].as_u64().unwrap();
        assert!(created >= 8, "{p1}");
        let (_, p2) = app.post_json(&format!("{sched}/plan"), &staff, json!({})).await;
        assert_eq!(p2["created"], 0);
        let meetings = p2["meetings"].as_array().unwrap().clone();
        assert_eq!(meetings.len() as u64, created);
        assert_eq!(app.count("meetings", f.sid).await as u64, created);
        assert_eq!(meetings[0]["place"], "居委会二楼会议室");
        assert_eq!(meetings[0]["status"], "planned");
        let m1 = meetings[0]["id"].as_i64().unwrap();
        let m2 = meetings[1]["id"].as_i64().unwrap();
        let m3 = meetings[2]["id"].as_i64().unwrap();

        // Meeting 1 decides two things, with follow-up actions.
        let (s, d) = app
            .post_json(&format!("/api/v1/meetings/{m1}/decisions"), &staff,
                json!({ "body": "清理3号楼楼道堆物" }))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{d}");
        let d1 = d["id"].as_i64().unwrap();
        let (s, v) = app
            .post_json(&format!("/api/v1/meetings/{m1}/decisions/{d1}/actions"), &staff,
                json!({ "title": "" , "due_on": "2026-02-30" }))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        let errs = fields(&v);
        assert!(errs.contains(&"title".into()) && errs.contains(&"due_on".into()), "{v}");
        let (s, a1) = app
            .post_json(&format!("/api/v1/meetings/{m1}/decisions/{d1}/actions"), &staff,
                json!({ "title": "通知住户三日内自行清理", "owner_unit_id": f.community_a, "due_on": "2026-01-10" }))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{a1}");
        assert_eq!(a1["owner_name"], "章浜居民区");
        assert_eq!(a1["status"], "open");
        let a1 = a1["id"].as_i64().unwrap();
        let (s, a2) = app
            .post_json(&format!("/api/v1/meetings/{m1}/decisions/{d1}/actions"), &staff,
                json!({ "title": "逾期未清理的由物业清运", "owner_name": "章浜物业" }))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{a2}");
        let a2 = a2["id"].as_i64().unwrap();

        // Live data: an overdue case and an open hall in the community.
        let late = overdue_case(&app, &f).await;
        let (s, h) = app
            .post_json("/api/v1/halls", &staff, json!({ "name": "章浜电梯议事厅",
                "topic": "城中东路311号加装电梯", "node_id": f.building_a1 }))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{h}");
        let hall = h["id"].as_i64().unwrap();

        // Meeting 2's agenda, drafted now, holds all three.
        let (s, v) = app.post_json(&format!("/api/v1/meetings/{m2}/agenda/draft"), &staff, json!({})).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let agenda = v["agenda"].as_array().unwrap();
        let has = |kind: &str, id: i64| {
            agenda.iter().any(|i| i["source_kind"] == kind && i["source_id"].as_i64() == Some(id))
        };
        assert!(has("case", late.id), "{v}");
        assert!(has("hall_topic", hall), "{v}");
        assert!(has("action", a1) && has("action", a2), "{v}");
        assert_eq!(agenda[0]["section"], "open_actions", "{v}");
        assert_eq!(agenda.last().unwrap()["section"], "other_business");
        assert!(agenda.iter().any(|i| i["title_zh"].as_str().unwrap_or("").contains(&late.number)
            || i["detail_zh"].as_str().unwrap_or("").contains(&late.number)), "{v}");
        // Edited afterwards: one item added, one removed.
        let n = agenda.len();
        let (s, added) = app
            .post_json(&format!("/api/v1/meetings/{m2}/agenda/items"), &staff,
                json!({ "title": "垃圾分类宣传", "detail": "下周六上午" }))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{added}");
        let (s, v) = app.post_json(&format!("/api/v1/meetings/{m2}/agenda/items"), &staff, json!({ "title": " " })).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(fields(&v), vec!["title"]);
        let hall_item = agenda.iter().find(|i| i["source_kind"] == "hall_topic").unwrap()["id"].as_i64().unwrap();
        let (s, _) = app
            .json(Method::DELETE, &format!("/api/v1/meetings/{m2}/agenda/items/{hall_item}"), &staff, json!({}))
            .await;
        assert_eq!(s, StatusCode::NO_CONTENT);
        let (_, full) = app.get_json(&format!("/api/v1/meetings/{m2}"), &staff).await;
        let items = full["agenda"].as_array().unwrap();
        assert_eq!(items.len(), n);
        assert_eq!(items.last().unwrap()["title_zh"], "垃圾分类宣传");
        assert!(!items.iter().any(|i| i["id"].as_i64() == Some(hall_item)));

        // Attendance, minutes, held.
        let (s, v) = app
            .post_json(&format!("/api/v1/meetings/{m2}/attendance"), &staff, json!({ "user_id": gm_id, "status": "maybe" }))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(fields(&v), vec!["status"]);
        for body in [json!({ "user_id": gm_id, "status": "present" }), json!({ "name": "王阿姨", "status": "excused" })] {
            let (s, v) = app.post_json(&format!("/api/v1/meetings/{m2}/attendance"), &staff, body).await;
            assert_eq!(s, StatusCode::CREATED, "{v}");
        }
        let (s, v) = app
            .json(Method::PATCH, &format!("/api/v1/meetings/{m2}"), &staff, json!({ "minutes": "会议由书记主持。" }))
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let (s, v) = app.post_json(&format!("/api/v1/meetings/{m2}/status"), &staff, json!({ "status": "held" })).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["status"], "held");
        let (_, full) = app.get_json(&format!("/api/v1/meetings/{m2}"), &staff).await;
        assert_eq!(full["attendance"].as_array().unwrap().len(), 2);
        assert_eq!(full["meeting"]["minutes"], "会议由书记主持。");
        // The grid member, listed as attending, may read it but not run it.
        let (s, v) = app.get_json(&format!("/api/v1/meetings/{m2}"), &gm).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["may_run"], false);
        let (s, _) = app.get_json(&format!("/api/v1/meetings/{m3}"), &gm).await;
        assert_eq!(s, StatusCode::FORBIDDEN);

        // Actions: one done, one turned into a case (linked; a second time is refused).
        let (s, v) = app.post_json(&format!("/api/v1/meeting-actions/{a1}/done"), &staff, json!({})).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["status"], "done");
        let (s, v) = app
            .post_json(&format!("/api/v1/meeting-actions/{a2}/case"), &staff, json!({ "category": "env.clutter", "node_id": f.community_a }))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert!(fields(&v).contains(&"node_id".to_string()), "{v}");
        let (s, v) = app
            .post_json(&format!("/api/v1/meeting-actions/{a2}/case"), &staff, json!({ "category": "env.clutter", "node_id": f.grid_a1 }))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let case_id = v["case"]["id"].as_i64().unwrap();
        assert_eq!(v["action"]["status"], "case");
        assert_eq!(v["action"]["case_id"].as_i64(), Some(case_id));
        let c = store::case(&app.db, f.sid, case_id).await.unwrap();
        assert_eq!(c.channel, "web");
        assert_eq!(c.title, "逾期未清理的由物业清运");
        assert_eq!(c.source_ref, format!("meeting:{m1}:action:{a2}"));
        let (s, _) = app
            .post_json(&format!("/api/v1/meeting-actions/{a2}/case"), &staff, json!({ "category": "env.clutter", "node_id": f.grid_a1 }))
            .await;
        assert_eq!(s, StatusCode::CONFLICT);

        // Cancelling needs a reason, and raises the sequence.
        let (s, v) = app.post_json(&format!("/api/v1/meetings/{m3}/status"), &staff, json!({ "status": "cancelled" })).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(fields(&v), vec!["reason"]);
        let (s, v) = app
            .post_json(&format!("/api/v1/meetings/{m3}/status"), &staff, json!({ "status": "cancelled", "reason": "防汛值班" }))
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["sequence"], 1);

        // Every write left its audit entry.
        for action in ["meeting_schedule.save", "meeting.plan", "meeting.agenda_draft", "meeting.decision",
            "meeting.action_add", "meeting.attendance", "meeting.held", "meeting.cancelled",
            "meeting.action_done", "meeting.action_case", "meeting.agenda_add", "meeting.agenda_remove"] {
            let n = app
                .count_sql(&format!("SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log WHERE subdistrict_id = $1 AND action = '{action}'"), f.sid)
                .await;
            assert!(n >= 1, "no audit entry {action}");
        }
        assert_eq!(
            app.count_sql("SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log WHERE subdistrict_id = $1 AND action = 'meeting.plan'", f.sid).await,
            1
        );

        // The feeds: a token, the community's calendar read back by an independent parser.
        let (s, v) = app.post_json("/api/v1/calendar-feed/reset", &staff, json!({})).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let token = v["token"].as_str().unwrap().to_string();
        let url = format!("/calendars/node/{}.ics?token={token}", f.community_a);
        let (s, h, text) = get_ics(&app, &url, None).await;
        assert_eq!(s, StatusCode::OK, "{text}");
        assert_eq!(h[header::CONTENT_TYPE], "text/calendar; charset=utf-8");
        assert!(h.contains_key(header::LAST_MODIFIED));
        let etag = h[header::ETAG].to_str().unwrap().to_string();
        let parsed: icalendar::Calendar = text.parse().expect("the feed parses");
        let events: Vec<_> = parsed.components.iter().filter_map(|c| c.as_event()).collect();
        assert_eq!(events.len() as u64, created);
        let cancelled = events
            .iter()
            .find(|e| e.get_uid().is_some_and(|u| u.contains(&format!("-{m3}@"))))
            .expect("the cancelled meeting stays in the feed");
        assert_eq!(cancelled.get_status(), Some(EventStatus::Cancelled));
        assert_eq!(cancelled.get_sequence(), Some(1));
        let held = events.iter().find(|e| e.get_uid().is_some_and(|u| u.contains(&format!("-{m2}@")))).unwrap();
        assert_eq!(held.get_status(), Some(EventStatus::Confirmed));
        assert_eq!(held.get_location(), Some("居委会二楼会议室"));
        assert!(held.get_summary().unwrap().contains("每周例会"));
        assert!(held.get_description().unwrap().contains("垃圾分类宣传"));
        let (s, _, _) = get_ics(&app, &url, Some(&etag)).await;
        assert_eq!(s, StatusCode::NOT_MODIFIED);
        // A wrong, reset or missing token finds nothing.
        let (s, _, _) = get_ics(&app, &format!("/calendars/node/{}.ics?token=rbf_{}_0123456789abcdef0123", f.community_a, f.sid), None).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (s, _, _) = get_ics(&app, &format!("/calendars/node/{}.ics", f.community_a), None).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (_, v) = app.post_json("/api/v1/calendar-feed/reset", &staff, json!({})).await;
        let (s, _, _) = get_ics(&app, &url, None).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let token = v["token"].as_str().unwrap().to_string();
        let (s, _, _) = get_ics(&app, &format!("/calendars/node/{}.ics?token={token}", f.community_a), None).await;
        assert_eq!(s, StatusCode::OK);
        // The grid member's own calendar: only the meeting they attend.
        let (_, v) = app.post_json("/api/v1/calendar-feed/reset", &gm, json!({})).await;
        let gm_token = v["token"].as_str().unwrap().to_string();
        let (s, _, text) = get_ics(&app, &format!("/calendars/me.ics?token={gm_token}"), None).await;
        assert_eq!(s, StatusCode::OK, "{text}");
        let parsed: icalendar::Calendar = text.parse().expect("parses");
        let uids: Vec<String> = parsed.components.iter().filter_map(|c| c.as_event()).filter_map(|e| e.get_uid().map(str::to_string)).collect();
        assert_eq!(uids.len(), 1, "{uids:?}");
        assert!(uids[0].contains(&format!("-{m2}@")));
        let (s, _, _) = get_ics(&app, &format!("/calendars/node/{}.ics?token={gm_token}", f.community_a), None).await;
        assert_eq!(s, StatusCode::NOT_FOUND);

        // The pages.
        let (s, cookies) = app.browser_login("cs_a", PASSWORD).await;
        assert!(s.is_redirection(), "{s}");
        let (s, _, html) = app.browser_get("/five-step", &cookies).await;
        assert_eq!(s, StatusCode::OK);
        assert!(html.contains("五步工作法") && html.contains("章浜居民区"), "{html}");
        let (s, _, html) = app.browser_get(&format!("/meetings/{m2}"), &cookies).await;
        assert_eq!(s, StatusCode::OK);
        assert!(html.contains(&late.number) && html.contains("垃圾分类宣传") && html.contains("王阿姨"), "{html}");
        let (s, _, html) = app.browser_get(&format!("/five-step/schedules/{}", f.community_a), &cookies).await;
        assert_eq!(s, StatusCode::OK);
        assert!(html.contains("每周例会"), "{html}");
        let (s, _, _) = app.browser_post(&format!("/five-step/schedules/{}/plan", f.community_a), &cookies, "span=quarter").await;
        assert!(s.is_redirection(), "{s}");
        let (s, _, html) = app
            .browser_post(&format!("/five-step/schedules/{}", f.community_a), &cookies,
                "kind=monthly_consultation&every=monthly&day_by=day_of_month&day=&start=25:00&duration_minutes=90&non_working_day=keep&weekday=monday")
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(html.contains("不是有效的时间") && html.contains("请填写数字"), "{html}");
        let (s, _, html) = app.browser_post(&format!("/meetings/{m2}/decisions"), &cookies, "body=").await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(html.contains("此项必填"), "{html}");
        let (s, _, html) = app.browser_get("/five-step/feed", &cookies).await;
        assert_eq!(s, StatusCode::OK);
        assert!(html.contains("日历订阅"), "{html}");
    })
    .await;
}

#[tokio::test]
async fn a_contact_is_logged_and_raises_a_case() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let gm = app.token(&f, "gm_a1").await;

        let (s, v) = app.post_json("/api/v1/contacts", &gm, json!({ "whom": "", "heard": "", "tags": ["x".repeat(21)] })).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        let errs = fields(&v);
        for field in ["node_id", "whom", "heard", "tags"] {
            assert!(errs.contains(&field.to_string()), "{field}: {v}");
        }
        // Out of the grid member's reach.
        let (s, _) = app
            .post_json("/api/v1/contacts", &gm, json!({ "node_id": f.grid_v1, "whom": "张三", "heard": "路灯坏了" }))
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let at = redbutler::clock::now_ms() - 2 * 3_600_000;
        let (s, c) = app
            .post_json("/api/v1/contacts", &gm, json!({ "node_id": f.building_a1, "whom": "李大爷",
                "household_id": f.household_a1, "occurred_at": at, "place": "3号楼门口",
                "heard": "楼道里堆了很多纸箱,担心着火", "tags": ["消防", "堆物", "消防"] }))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{c}");
        assert_eq!(c["tags"], json!(["消防", "堆物"]));
        let cid = c["id"].as_i64().unwrap();

        let (_, v) = app.get_json(&format!("/api/v1/contacts?node_id={}", f.grid_a1), &gm).await;
        assert_eq!(v["contacts"].as_array().unwrap().len(), 1, "{v}");
        let (_, v) = app.get_json(&format!("/api/v1/contacts?node_id={}&from={}", f.grid_a1, at + 1), &gm).await;
        assert_eq!(v["contacts"].as_array().unwrap().len(), 0, "{v}");
        let staff_v = app
            .user_token(&f, "cs_v", Role::CommunityStaff, at_node(f.village))
            .await;
        let (_, v) = app.get_json("/api/v1/contacts", &staff_v).await;
        assert_eq!(v["contacts"].as_array().unwrap().len(), 0, "{v}");

        let (s, v) = app.post_json(&format!("/api/v1/contacts/{cid}/case"), &gm, json!({ "category": "" })).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(fields(&v).contains(&"category".to_string()), "{v}");
        let (s, v) = app.post_json(&format!("/api/v1/contacts/{cid}/case"), &gm, json!({ "category": "env.clutter" })).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let case_id = v["case"]["id"].as_i64().unwrap();
        assert_eq!(v["contact"]["case_id"].as_i64(), Some(case_id));
        let case = store::case(&app.db, f.sid, case_id).await.unwrap();
        assert_eq!(case.channel, "visit_home");
        assert_eq!(case.node_id, f.building_a1);
        assert_eq!(case.description, "楼道里堆了很多纸箱,担心着火");
        assert_eq!(case.source_ref, format!("contact:{cid}"));
        let (s, _) = app.post_json(&format!("/api/v1/contacts/{cid}/case"), &gm, json!({ "category": "env.clutter" })).await;
        assert_eq!(s, StatusCode::CONFLICT);

        // The phone-friendly pages.
        let (_, cookies) = app.browser_login("gm_a1", PASSWORD).await;
        let (s, _, html) = app.browser_get("/contacts/new", &cookies).await;
        assert_eq!(s, StatusCode::OK);
        assert!(html.contains("听到了什么"), "{html}");
        let (s, _, html) = app.browser_post("/contacts", &cookies, "whom=&heard=&node_id=").await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(html.contains("此项必填"), "{html}");
        let form = format!("whom=%E7%8E%8B%E9%98%BF%E5%A7%A8&node_id={}&heard=%E5%99%AA%E9%9F%B3&tags=%E5%99%AA%E9%9F%B3", f.grid_a1);
        let (s, h, _) = app.browser_post("/contacts", &cookies, &form).await;
        assert!(s.is_redirection(), "{s}");
        assert_eq!(h[header::LOCATION], "/contacts?saved=1");
        let (s, _, html) = app.browser_get("/contacts", &cookies).await;
        assert_eq!(s, StatusCode::OK);
        assert!(html.contains(&case.number) && html.contains("噪音"), "{html}");
        let (s, _, html) = app.browser_get(&format!("/contacts/{cid}/case"), &cookies).await;
        assert_eq!(s, StatusCode::OK);
        assert!(html.contains("楼道里堆了很多纸箱"), "{html}");
    })
    .await;
}

#[tokio::test]
async fn the_annual_scorecard_shows_each_grid_from_the_case_measures() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let admin = f.admin.clone();
        let gm = actor(&app, &f, "gm_a1").await;
        let resident = actor(&app, &f, "resident").await;
        let dispatch = CaseAction::Dispatch { unit_id: f.root };
        let contact = CaseAction::FirstContact { note: None };
        // Grid A1: one case the whole way round, rated 5; one dispatched only.
        let a = open(&app, &resident, f.unit_a1).await;
        let a = act(&app, &admin, &a, CaseAction::Register).await;
        let a = act(&app, &admin, &a, dispatch.clone()).await;
        let a = act(&app, &admin, &a, contact.clone()).await;
        let a = act(
            &app,
            &admin,
            &a,
            CaseAction::ReportHandled {
                summary: "已清理".into(),
            },
        )
        .await;
        let a = act(
            &app,
            &gm,
            &a,
            CaseAction::Verify {
                passed: true,
                note: None,
            },
        )
        .await;
        act(
            &app,
            &resident,
            &a,
            CaseAction::Evaluate {
                rating: Rating::new(5).unwrap(),
                comment: None,
                channel: EvaluationChannel::Online,
            },
        )
        .await;
        let c = open(&app, &admin, f.building_a1).await;
        let c = act(&app, &admin, &c, CaseAction::Register).await;
        act(&app, &admin, &c, dispatch.clone()).await;
        // Grid A2: dispatched and contacted.
        let b = open(&app, &admin, f.building_a2).await;
        let b = act(&app, &admin, &b, CaseAction::Register).await;
        let b = act(&app, &admin, &b, dispatch.clone()).await;
        act(&app, &admin, &b, contact.clone()).await;

        let staff = app
            .user_token(&f, "cs_a", Role::CommunityStaff, at_node(f.community_a))
            .await;
        let year =
            redbutler::cases::calendar::deadline::local_date(redbutler::clock::now_ms()).year();
        let (s, v) = app
            .get_json(
                &format!("/api/v1/five-step/scorecard/{}?year={year}", f.community_a),
                &staff,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["community"]["cases"], 3);
        assert_eq!(
            v["community"]["measures"]["response"]["value"], "66.7%",
            "{v}"
        );
        assert_eq!(
            v["community"]["measures"]["satisfaction"]["value"],
            "100.0%"
        );
        let grid = |id: i64| {
            v["grids"]
                .as_array()
                .unwrap()
                .iter()
                .find(|g| g["id"].as_i64() == Some(id))
                .unwrap()
                .clone()
        };
        let a1 = grid(f.grid_a1);
        assert_eq!(a1["cases"], 2);
        assert_eq!(a1["measures"]["response"]["numerator"], 1);
        assert_eq!(a1["measures"]["response"]["denominator"], 2);
        assert_eq!(a1["measures"]["response"]["value"], "50.0%");
        assert_eq!(grid(f.grid_a2)["measures"]["response"]["value"], "100.0%");
        // Last year has nothing.
        let (_, v) = app
            .get_json(
                &format!(
                    "/api/v1/five-step/scorecard/{}?year={}",
                    f.community_a,
                    year - 1
                ),
                &staff,
            )
            .await;
        assert_eq!(v["community"]["cases"], 0);
        assert_eq!(v["community"]["measures"]["response"]["value"], "—");

        // The annual evaluation's agenda opens with the grids' scorecard from the same figures.
        let sched = format!("/api/v1/five-step/schedules/{}", f.community_a);
        let (s, v) = app
            .json(Method::PUT, &sched, &staff, json!({ "kind": "annual_evaluation",
                "rule": { "repeat": { "every": "annual", "month": 12, "day": { "by": "day_of_month", "day": 20 } },
                    "start": "14:00", "duration_minutes": 120, "non_working_day": "keep" } }))
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let (s, v) = app
            .post_json(&format!("{sched}/plan"), &staff,
                json!({ "from": format!("{year}-01-01"), "to": format!("{year}-12-31") }))
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["created"], 1, "{v}");
        let annual = v["meetings"][0]["id"].as_i64().unwrap();
        assert_eq!(v["meetings"][0]["occurs_on"], format!("{year}-12-20"));
        let (s, v) = app.post_json(&format!("/api/v1/meetings/{annual}/agenda/draft"), &staff, json!({})).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let agenda = v["agenda"].as_array().unwrap();
        assert_eq!(agenda[0]["section"], "scorecard", "{v}");
        for g in [f.grid_a1, f.grid_a2] {
            assert!(agenda.iter().any(|i| i["source_kind"] == "grid" && i["source_id"].as_i64() == Some(g)), "{v}");
        }
        assert!(agenda.iter().any(|i| i["section"] == "measures"), "{v}");

        let (_, cookies) = app.browser_login("cs_a", PASSWORD).await;
        let (s, _, html) = app
            .browser_get(
                &format!("/five-step/scorecard/{}?year={year}", f.community_a),
                &cookies,
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        assert!(
            html.contains("年度考评") && html.contains("title=\"1/2\"") && html.contains("50.0%"),
            "{html}"
        );
        assert!(
            html.contains("66.7%") && html.contains("title=\"2/3\""),
            "{html}"
        );
        // A grid member does not see the community's scorecard.
        let gm_token = app.token(&f, "gm_a1").await;
        let (s, _) = app
            .get_json(
                &format!("/api/v1/five-step/scorecard/{}", f.community_a),
                &gm_token,
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    })
    .await;
}

#[tokio::test]
async fn changing_a_schedule_cancels_the_meetings_it_no_longer_holds() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let staff = app
            .user_token(&f, "cs_a", Role::CommunityStaff, at_node(f.community_a))
            .await;
        let sched = format!("/api/v1/five-step/schedules/{}", f.community_a);
        let put = |rule: Value| {
            let (app, staff, sched) = (&app, &staff, &sched);
            async move {
                let (s, v) = app
                    .json(
                        Method::PUT,
                        sched,
                        staff,
                        json!({ "kind": "weekly_meeting", "rule": rule }),
                    )
                    .await;
                assert_eq!(s, StatusCode::OK, "{v}");
            }
        };
        put(weekly_rule()).await;
        let (_, p) = app
            .post_json(&format!("{sched}/plan"), &staff, json!({}))
            .await;
        let wednesdays = p["created"].as_i64().unwrap();
        // A new time on the same days moves the planned meetings (and tells calendars).
        let mut later = weekly_rule();
        later["start"] = json!("15:00");
        put(later).await;
        let (_, p) = app
            .post_json(&format!("{sched}/plan"), &staff, json!({}))
            .await;
        assert_eq!(p["created"], 0, "{p}");
        let moved: Vec<&Value> = p["meetings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["sequence"] == 1)
            .collect();
        assert!(moved.len() as i64 >= wednesdays - 1, "{p}");
        for m in &moved {
            let start = redbutler::clock::format_local(m["start_ms"].as_i64().unwrap());
            assert!(start.ends_with("15:00:00"), "{start}");
        }
        let mut thursday = weekly_rule();
        thursday["repeat"]["weekday"] = json!("thursday");
        put(thursday).await;
        let (_, p) = app
            .post_json(&format!("{sched}/plan"), &staff, json!({}))
            .await;
        assert!(p["created"].as_i64().unwrap() >= 7, "{p}");
        let meetings = p["meetings"].as_array().unwrap();
        let cancelled = meetings
            .iter()
            .filter(|m| m["status"] == "cancelled")
            .count() as i64;
        // Every Wednesday still to come was cancelled (today's may already have started).
        assert!(cancelled >= wednesdays - 1, "{p}");
        assert!(meetings
            .iter()
            .filter(|m| m["status"] == "cancelled")
            .all(|m| m["sequence"].as_i64().unwrap() >= 1
                && m["cancel_reason"].as_str().unwrap().contains("schedule")));
    })
    .await;
}
