//! Triage: registering and rejecting what came in (page and API), duplicate suggestions,
//! merges (both cases linked, the duplicate's reporter follows the target, one transaction
//! with optimistic versions), and the correction of category and place before registration.

use axum::http::{header, StatusCode};
use serde_json::{json, Value};
use sqlx::Row;

use crate::harness::{for_each_db, Fixture, TestApp, PASSWORD};

fn encode(pairs: &[(&str, &str)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

async fn login(app: &TestApp, user: &str) -> String {
    let (s, cookies) = app.browser_login(user, PASSWORD).await;
    assert!(s.is_redirection(), "login of {user}: {s}");
    cookies
}

async fn open(
    app: &TestApp,
    token: &str,
    node_id: i64,
    category: &str,
    title: &str,
    description: &str,
) -> i64 {
    let (s, v) = app
        .post_json(
            "/api/v1/cases",
            token,
            json!({ "category": category, "node_id": node_id, "title": title, "description": description }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v["id"].as_i64().unwrap()
}

async fn get(app: &TestApp, token: &str, id: i64) -> Value {
    let (s, v) = app.get_json(&format!("/api/v1/cases/{id}"), token).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v
}

fn kinds(case: &Value) -> Vec<String> {
    case["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect()
}

fn location(h: &axum::http::HeaderMap) -> String {
    h.get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

fn field_errors(v: &Value) -> Vec<String> {
    v["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| e["field"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

const CLUTTER: &str = "楼道里堆满了纸箱和旧家具,影响通行,存在消防隐患。";
const CLUTTER_AGAIN: &str = "楼道里堆满纸箱和旧家具,没法通行,有消防隐患。";

#[tokio::test]
async fn staff_register_and_reject_through_the_page_and_the_api() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let gm = app.token(&f, "gm_a1").await;
        let admin = app.token(&f, "admin").await;
        let first = open(
            &app,
            &gm,
            f.building_a1,
            "env.clutter",
            "第一件楼道堆物",
            CLUTTER,
        )
        .await;
        let second = open(
            &app,
            &gm,
            f.grid_a1,
            "env.greenery",
            "绿化带被毁",
            "小区绿化带被人种菜。",
        )
        .await;
        let third = open(
            &app,
            &gm,
            f.grid_a1,
            "env.greenery",
            "第三件",
            "草坪上停了车。",
        )
        .await;

        // The list page links to the queue; the queue lists the oldest first.
        let cookies = login(&app, "admin").await;
        let (_, _, list) = app.browser_get("/cases", &cookies).await;
        assert!(list.contains("href=\"/triage\""), "{list}");
        let (s, _, page) = app.browser_get("/triage", &cookies).await;
        assert_eq!(s, StatusCode::OK, "{page}");
        let a = page.find("第一件楼道堆物").unwrap();
        let b = page.find("绿化带被毁").unwrap();
        assert!(a < b, "oldest first");
        assert!(page.contains("name=\"_csrf\""));

        // Register through the page.
        let form = encode(&[("version", "1")]);
        let (s, h, body) = app
            .browser_post(&format!("/triage/{first}/register"), &cookies, &form)
            .await;
        assert!(s.is_redirection(), "{s} {body}");
        assert_eq!(location(&h), "/triage");
        let c = get(&app, &admin, first).await;
        assert_eq!(c["state"], "registered");
        assert_eq!(kinds(&c), vec!["reported", "registered"]);

        // A rejection without a reason is refused on the page, and nothing changes.
        let form = encode(&[("version", "1"), ("reason", "  ")]);
        let (s, _, body) = app
            .browser_post(&format!("/triage/{second}/reject"), &cookies, &form)
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(body.contains("请填写理由"), "{body}");
        assert_eq!(get(&app, &admin, second).await["state"], "submitted");
        let form = encode(&[("version", "1"), ("reason", "属于私人纠纷,不予受理")]);
        let (s, _, body) = app
            .browser_post(&format!("/triage/{second}/reject"), &cookies, &form)
            .await;
        assert!(s.is_redirection(), "{s} {body}");
        let c = get(&app, &admin, second).await;
        assert_eq!(c["state"], "rejected");
        assert!(c.to_string().contains("属于私人纠纷"));

        // A stale form is told, not applied.
        let form = encode(&[("version", "1")]);
        let (s, _, body) = app
            .browser_post(&format!("/triage/{first}/register"), &cookies, &form)
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "{body}");

        // The API: the queue, then reject and register by actions.
        let (s, q) = app.get_json("/api/v1/triage", &admin).await;
        assert_eq!(s, StatusCode::OK, "{q}");
        let ids: Vec<i64> = q["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_i64().unwrap())
            .collect();
        assert_eq!(ids, vec![third]);
        assert_eq!(q["items"][0]["version"], 1);
        let (s, v) = app
            .act(&admin, third, 1, json!({ "kind": "reject", "reason": " " }))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        let (s, v) = app
            .act(
                &admin,
                third,
                1,
                json!({ "kind": "reject", "reason": "重复上报" }),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["state"], "rejected");
        let fourth = open(
            &app,
            &gm,
            f.grid_a1,
            "env.greenery",
            "第四件",
            "树枝挡住了路灯。",
        )
        .await;
        let (s, v) = app
            .act(&admin, fourth, 1, json!({ "kind": "register" }))
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["state"], "registered");
        let (_, q) = app.get_json("/api/v1/triage", &admin).await;
        assert!(q["items"].as_array().unwrap().is_empty(), "{q}");

        // A grid member does not triage: no queue on the page or the API.
        let (s, _) = app.get_json("/api/v1/triage", &gm).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let gm_cookies = login(&app, "gm_a1").await;
        let (s, _, _) = app.browser_get("/triage", &gm_cookies).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    })
    .await;
}

#[tokio::test]
async fn suggestions_find_a_same_building_similar_report_and_not_an_unrelated_one() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let gm = app.token(&f, "gm_a1").await;
        let admin = app.token(&f, "admin").await;
        let earlier = open(&app, &gm, f.building_a1, "env.clutter", "楼道堆物", CLUTTER).await;
        // Another grid, same category and words: another place, another problem.
        let elsewhere = open(
            &app,
            &admin,
            f.building_a2,
            "env.clutter",
            "楼道堆物",
            CLUTTER,
        )
        .await;
        // Same building, another category, unrelated words.
        let unrelated = open(
            &app,
            &gm,
            f.building_a1,
            "env.greenery",
            "树枝断了",
            "楼前的大树被风吹断了一根树枝。",
        )
        .await;
        let dup = open(
            &app,
            &gm,
            f.unit_a1,
            "env.clutter",
            "楼道堆物严重",
            CLUTTER_AGAIN,
        )
        .await;

        // In the next grid but within 50 m on the map (about 17 m north): the same spot.
        let near = open(
            &app,
            &admin,
            f.building_a2,
            "env.clutter",
            "楼道堆物",
            CLUTTER,
        )
        .await;
        for (id, lat) in [(dup, 31_230_000_i64), (near, 31_230_150)] {
            sqlx::query(
                "UPDATE cases SET lat_e6 = $1, lng_e6 = $2 WHERE subdistrict_id = $3 AND id = $4",
            )
            .bind(lat)
            .bind(121_470_000_i64)
            .bind(f.sid)
            .bind(id)
            .execute(app.db.write())
            .await
            .unwrap();
        }
        let (s, v) = app
            .get_json(&format!("/api/v1/cases/{dup}/duplicates"), &admin)
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let nearby = v["suggestions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == near)
            .unwrap_or_else(|| panic!("the nearby report is suggested: {v}"));
        assert_eq!(nearby["reasons"][0]["kind"], "nearby", "{nearby}");
        assert!(
            (16..=18).contains(&nearby["distance_m"].as_i64().unwrap()),
            "{nearby}"
        );
        let found: Vec<i64> = v["suggestions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_i64().unwrap())
            .collect();
        assert!(found.contains(&earlier), "{v}");
        assert!(!found.contains(&elsewhere), "{v}");
        assert!(!found.contains(&unrelated), "{v}");
        assert!(!found.contains(&dup), "{v}");
        let best = &v["suggestions"][0];
        assert_eq!(best["id"], earlier);
        let reasons: Vec<&str> = best["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["kind"].as_str().unwrap())
            .collect();
        for r in [
            "same_building",
            "same_category",
            "similar_text",
            "close_in_time",
        ] {
            assert!(reasons.contains(&r), "{r} in {best}");
        }
        assert_eq!(best["reasons"][0]["label"]["zh"], "同一楼栋");

        // The queue carries the same suggestions, and the page shows them.
        let (_, q) = app.get_json("/api/v1/triage", &admin).await;
        let item = q["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["id"] == dup)
            .unwrap()
            .clone();
        assert_eq!(item["suggestions"][0]["id"], earlier, "{item}");
        let cookies = login(&app, "admin").await;
        let (_, _, page) = app.browser_get("/triage", &cookies).await;
        assert!(page.contains("可能重复"), "{page}");
        assert!(
            page.contains(&format!("name=\"into\" value=\"{earlier}\"")),
            "{page}"
        );

        // Suggestions are for staff of the place.
        let res = app.token(&f, "resident").await;
        let (s, _) = app
            .get_json(&format!("/api/v1/cases/{earlier}/duplicates"), &res)
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    })
    .await;
}

#[tokio::test]
async fn a_merge_links_both_and_the_reporter_follows_the_target() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let gm = app.token(&f, "gm_a1").await;
        let admin = app.token(&f, "admin").await;
        let res = app.token(&f, "resident").await;
        let target = open(&app, &gm, f.building_a1, "env.clutter", "楼道堆物", CLUTTER).await;
        let dup = open(&app, &res, f.unit_a1, "env.clutter", "楼道堆物严重", CLUTTER_AGAIN).await;
        // A staff-only note on the target, which the resident must not see later.
        let (s, _) = app.act(&admin, target, 1, json!({ "kind": "note", "text": "内部:物业已知情" })).await;
        assert_eq!(s, StatusCode::OK);
        let (s, _) = app.get_json(&format!("/api/v1/cases/{target}"), &res).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "not theirs yet");

        // Merge through the page, typing the target's number.
        let number = get(&app, &admin, target).await["number"]
            .as_str()
            .unwrap()
            .to_string();
        let cookies = login(&app, "admin").await;
        let form = encode(&[("version", "1"), ("into_ref", &number)]);
        let (s, _, body) = app
            .browser_post(&format!("/triage/{dup}/merge"), &cookies, &form)
            .await;
        assert!(s.is_redirection(), "{s} {body}");

        let d = get(&app, &admin, dup).await;
        assert_eq!(d["state"], "merged");
        assert_eq!(d["version"], 2);
        assert_eq!(d["lifecycle"]["merged_into"], target);
        assert_eq!(kinds(&d), vec!["reported", "merged_into"]);
        let t = get(&app, &admin, target).await;
        assert_eq!(t["version"], 3);
        assert_eq!(t["state"], "submitted");
        assert_eq!(t["lifecycle"]["merged_in_count"], 1);
        assert_eq!(kinds(&t), vec!["reported", "note", "report_merged_in"]);

        // The duplicate's reporter follows the target's public timeline; their own case stays
        // readable and links to the target.
        let seen = get(&app, &res, target).await;
        assert_eq!(kinds(&seen), vec!["reported", "report_merged_in"]);
        assert!(!seen.to_string().contains("物业已知情"));
        let own = get(&app, &res, dup).await;
        assert_eq!(own["lifecycle"]["merged_into"], target);
        let res_cookies = login(&app, "resident").await;
        let (s, _, page) = app.browser_get(&format!("/cases/{dup}"), &res_cookies).await;
        assert_eq!(s, StatusCode::OK);
        assert!(page.contains(&format!("href=\"/cases/{target}\"")), "{page}");
        let (s, _, page) = app.browser_get(&format!("/cases/{target}"), &res_cookies).await;
        assert_eq!(s, StatusCode::OK, "{page}");
        assert!(!page.contains("物业已知情"));

        // …and finds a notice in their inbox pointing at it.
        let resident = redbutler::auth::users::by_username(&app.db, f.sid, "resident")
            .await
            .unwrap()
            .unwrap();
        let rows = sqlx::query(
            "SELECT case_id, link FROM inbox WHERE subdistrict_id = $1 AND user_id = $2 AND kind = 'case.merged'",
        )
        .bind(f.sid)
        .bind(resident.id)
        .fetch_all(app.db.read())
        .await
        .unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].get::<i64, _>(0), target);
        assert_eq!(rows[0].get::<String, _>(1), format!("/cases/{target}"));

        // A second duplicate merged by the API action; a chain of merges is followed too.
        let second = open(&app, &gm, f.building_a1, "env.clutter", "又是堆物", CLUTTER).await;
        let (s, v) = app.act(&admin, second, 1, json!({ "kind": "merge", "into": target })).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["state"], "merged");
        assert_eq!(get(&app, &admin, target).await["lifecycle"]["merged_in_count"], 2);
        let bigger = open(&app, &admin, f.grid_a1, "env.clutter", "网格内多处堆物", CLUTTER).await;
        let (s, v) = app.act(&admin, target, 4, json!({ "kind": "merge", "into": bigger })).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let seen = get(&app, &res, bigger).await;
        assert_eq!(kinds(&seen), vec!["reported", "report_merged_in"]);

        // Audited, in the same subdistrict.
        let n: i64 = sqlx::query(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log WHERE subdistrict_id = $1 AND action = 'case.merge'",
        )
        .bind(f.sid)
        .fetch_one(app.db.read())
        .await
        .unwrap()
        .get(0);
        assert_eq!(n, 3);
        // Nothing was deleted.
        let n: i64 = sqlx::query("SELECT CAST(COUNT(*) AS BIGINT) FROM cases WHERE subdistrict_id = $1")
            .bind(f.sid)
            .fetch_one(app.db.read())
            .await
            .unwrap()
            .get(0);
        assert_eq!(n, 4);
    })
    .await;
}

#[tokio::test]
async fn merges_into_itself_a_closed_a_merged_or_a_foreign_case_are_refused() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let other = app.fixture_named("310118004", "白鹤镇").await;
        let gm = app.token(&f, "gm_a1").await;
        let admin = app.token(&f, "admin").await;
        let dup = open(&app, &gm, f.building_a1, "env.clutter", "楼道堆物", CLUTTER).await;
        let closed = open(
            &app,
            &gm,
            f.building_a1,
            "env.clutter",
            "已处理的堆物",
            CLUTTER,
        )
        .await;
        let (s, _) = app
            .act(&admin, closed, 1, json!({ "kind": "register" }))
            .await;
        assert_eq!(s, StatusCode::OK);
        let (s, v) = app
            .act(
                &admin,
                closed,
                2,
                json!({ "kind": "close", "reason": "现场已清理" }),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let merged = open(&app, &gm, f.building_a1, "env.clutter", "另一件", CLUTTER).await;
        let live = open(&app, &gm, f.building_a1, "env.clutter", "活动事项", CLUTTER).await;
        let (s, v) = app
            .act(&admin, merged, 1, json!({ "kind": "merge", "into": live }))
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let other_admin = app.token(&other, "admin").await;
        let foreign = open(
            &app,
            &other_admin,
            other.building_a1,
            "env.clutter",
            "外街道",
            CLUTTER,
        )
        .await;

        for (into, says) in [
            (dup, "不能合并到自身"),
            (closed, "已结案"),
            (merged, "已合并"),
            (foreign, "没有这个事项"),
            (987_654_321, "没有这个事项"),
        ] {
            let (s, v) = app
                .act(&admin, dup, 1, json!({ "kind": "merge", "into": into }))
                .await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{into}: {v}");
            assert_eq!(field_errors(&v), vec!["into"], "{v}");
            assert!(v.to_string().contains(says), "{says} in {v}");
        }
        // The page says why too.
        let cookies = login(&app, "admin").await;
        let form = encode(&[("version", "1"), ("into", &closed.to_string())]);
        let (s, _, body) = app
            .browser_post(&format!("/triage/{dup}/merge"), &cookies, &form)
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body.contains("已结案"), "{body}");
        let form = encode(&[("version", "1"), ("into_ref", "1999-999999")]);
        let (s, _, body) = app
            .browser_post(&format!("/triage/{dup}/merge"), &cookies, &form)
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body.contains("没有这个事项"), "{body}");

        // Nothing was written anywhere.
        let d = get(&app, &admin, dup).await;
        assert_eq!(
            (d["state"].as_str(), d["version"].as_i64()),
            (Some("submitted"), Some(1))
        );
        assert_eq!(get(&app, &admin, closed).await["version"], 3);
        let (_, fv) = app
            .get_json(&format!("/api/v1/cases/{foreign}"), &other_admin)
            .await;
        assert_eq!(fv["version"], 1);
        assert_eq!(fv["lifecycle"]["merged_in_count"], 0);
    })
    .await;
}

#[tokio::test]
async fn of_two_concurrent_merges_or_acts_one_wins_and_nothing_is_half_written() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let gm = app.token(&f, "gm_a1").await;
        let admin = app.token(&f, "admin").await;
        let t1 = open(&app, &gm, f.building_a1, "env.clutter", "目标一", CLUTTER).await;
        let t2 = open(&app, &gm, f.building_a1, "env.clutter", "目标二", CLUTTER).await;
        let dup = open(&app, &gm, f.unit_a1, "env.clutter", "重复", CLUTTER_AGAIN).await;

        let (a, b) = tokio::join!(
            app.act(&admin, dup, 1, json!({ "kind": "merge", "into": t1 })),
            app.act(&admin, dup, 1, json!({ "kind": "merge", "into": t2 })),
        );
        let mut statuses = vec![a.0, b.0];
        statuses.sort();
        assert_eq!(
            statuses,
            vec![StatusCode::OK, StatusCode::CONFLICT],
            "{} {}",
            a.1,
            b.1
        );
        let winner = if a.0 == StatusCode::OK { t1 } else { t2 };
        let loser = if winner == t1 { t2 } else { t1 };
        let d = get(&app, &admin, dup).await;
        assert_eq!(d["lifecycle"]["merged_into"], winner);
        assert_eq!(kinds(&d), vec!["reported", "merged_into"]);
        let w = get(&app, &admin, winner).await;
        assert_eq!((w["version"].as_i64(), kinds(&w).len()), (Some(2), 2));
        let l = get(&app, &admin, loser).await;
        assert_eq!(l["version"], 1);
        assert_eq!(l["lifecycle"]["merged_in_count"], 0);
        assert_eq!(kinds(&l), vec!["reported"]);

        // A merge racing a registration of the same case: one wins, the other is told.
        let dup2 = open(
            &app,
            &gm,
            f.unit_a1,
            "env.clutter",
            "再次重复",
            CLUTTER_AGAIN,
        )
        .await;
        let (a, b) = tokio::join!(
            app.act(&admin, dup2, 1, json!({ "kind": "merge", "into": t1 })),
            app.act(&admin, dup2, 1, json!({ "kind": "register" })),
        );
        let mut statuses = vec![a.0, b.0];
        statuses.sort();
        assert_eq!(
            statuses,
            vec![StatusCode::OK, StatusCode::CONFLICT],
            "{} {}",
            a.1,
            b.1
        );
        let d2 = get(&app, &admin, dup2).await;
        let t = get(&app, &admin, t1).await;
        if a.0 == StatusCode::OK {
            assert_eq!(d2["state"], "merged");
            assert!(kinds(&t).contains(&"report_merged_in".to_string()));
        } else {
            assert_eq!(d2["state"], "registered");
            assert_eq!(kinds(&d2), vec!["reported", "registered"]);
            let merged_in = t["lifecycle"]["merged_in_count"].as_i64().unwrap();
            assert_eq!(merged_in, if winner == t1 { 1 } else { 0 }, "{t}");
        }

        // A stale version merges nothing.
        let dup3 = open(&app, &gm, f.unit_a1, "env.clutter", "第三次", CLUTTER_AGAIN).await;
        let before = get(&app, &admin, t2).await["version"].as_i64().unwrap();
        let (s, _) = app
            .act(&admin, dup3, 7, json!({ "kind": "merge", "into": t2 }))
            .await;
        assert_eq!(s, StatusCode::CONFLICT);
        assert_eq!(get(&app, &admin, t2).await["version"], before);
        assert_eq!(get(&app, &admin, dup3).await["state"], "submitted");
    })
    .await;
}

/// Turns a submitted case into a draft, as the group-chat relay files them.
async fn make_draft(app: &TestApp, f: &Fixture, id: i64) {
    let mut c = redbutler::cases::store::case(&app.db, f.sid, id)
        .await
        .unwrap();
    c.lifecycle.state = redbutler::cases::lifecycle::State::Draft;
    sqlx::query("UPDATE cases SET state = 'draft', lifecycle_json = $1 WHERE subdistrict_id = $2 AND id = $3")
        .bind(serde_json::to_string(&c.lifecycle).unwrap())
        .bind(f.sid)
        .bind(id)
        .execute(app.db.write())
        .await
        .unwrap();
}

#[tokio::test]
async fn staff_correct_category_and_place_before_registering_but_not_to_a_non_leaf() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let admin = app.token(&f, "admin").await;
        let res = app.token(&f, "resident").await;
        let id = open(
            &app,
            &res,
            f.unit_a1,
            "env.clutter",
            "门口有垃圾",
            "单元门口的垃圾没人清理。",
        )
        .await;
        let path = format!("/api/v1/cases/{id}/reclassify");

        for (body, field) in [
            (json!({ "version": 1, "category": "env" }), "category"),
            (json!({ "version": 1, "category": "no.such" }), "category"),
            (json!({ "version": 1, "node_id": f.community_a }), "node_id"),
            (json!({ "version": 1, "node_id": 987_654_321 }), "node_id"),
            (
                json!({ "version": 1, "category": "env.clutter" }),
                "category",
            ),
        ] {
            let (s, v) = app.post_json(&path, &admin, body.clone()).await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {v}");
            assert_eq!(field_errors(&v), vec![field], "{v}");
        }
        let (s, v) = app
            .post_json(
                &path,
                &admin,
                json!({ "version": 1, "category": "env.garbage", "node_id": f.building_a1 }),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["category"], "env.garbage");
        assert_eq!(v["node_id"], f.building_a1);
        assert_eq!(v["version"], 2);
        let staff = get(&app, &admin, id).await;
        let event = staff["timeline"]
            .as_array()
            .unwrap()
            .last()
            .unwrap()
            .clone();
        assert_eq!(event["kind"], "reclassified");
        assert_eq!(event["public"], false);
        assert_eq!(event["event"]["data"]["from_category"], "env.clutter");
        assert_eq!(event["event"]["data"]["to_node"], f.building_a1);
        // Staff-only: the reporter does not see it.
        assert_eq!(kinds(&get(&app, &res, id).await), vec!["reported"]);
        // A stale version changes nothing.
        let (s, _) = app
            .post_json(
                &path,
                &admin,
                json!({ "version": 1, "category": "env.sewage" }),
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT);
        // A resident may not correct it.
        let (s, _) = app
            .post_json(
                &path,
                &res,
                json!({ "version": 2, "category": "env.sewage" }),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);

        // The page: a non-leaf is refused with its reason, a leaf saved.
        let cookies = login(&app, "admin").await;
        let node = f.building_a1.to_string();
        let form = encode(&[("version", "2"), ("category", "env"), ("node_id", &node)]);
        let (s, _, body) = app
            .browser_post(&format!("/triage/{id}/reclassify"), &cookies, &form)
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body.contains("请选择具体的小类"), "{body}");
        let form = encode(&[
            ("version", "2"),
            ("category", "env.sewage"),
            ("node_id", &node),
        ]);
        let (s, _, body) = app
            .browser_post(&format!("/triage/{id}/reclassify"), &cookies, &form)
            .await;
        assert!(s.is_redirection(), "{s} {body}");
        assert_eq!(get(&app, &admin, id).await["category"], "env.sewage");

        // After registration the category and place stay as registered.
        let (s, _) = app.act(&admin, id, 3, json!({ "kind": "register" })).await;
        assert_eq!(s, StatusCode::OK);
        let (s, v) = app
            .post_json(
                &path,
                &admin,
                json!({ "version": 4, "category": "env.garbage" }),
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "{v}");

        // A draft from a group chat is in the queue, is corrected and registered.
        let draft = open(
            &app,
            &admin,
            f.grid_a1,
            "env.clutter",
            "群里说有人乱堆",
            "群消息:3号楼楼道又堆东西了",
        )
        .await;
        make_draft(&app, &f, draft).await;
        let (_, q) = app.get_json("/api/v1/triage", &admin).await;
        let item = q["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["id"] == draft)
            .cloned()
            .unwrap();
        assert_eq!(item["state"], "draft");
        let (s, v) = app
            .post_json(
                &format!("/api/v1/cases/{draft}/reclassify"),
                &admin,
                json!({ "version": 1, "node_id": f.building_a1 }),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let (s, v) = app
            .act(&admin, draft, 2, json!({ "kind": "register" }))
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["node_id"], f.building_a1);
    })
    .await;
}
