//! Deliberation halls (议事厅): a lift retrofit hall for one building, its members and its
//! five functions, online and offline, through the API and the pages, on both databases.

use axum::http::{Method, StatusCode};
use redbutler::access::{self, Actor, Role};
use redbutler::auth::users;
use redbutler::deliberation::halls::store as halls;
use redbutler::tree::store as tree;
use serde_json::{json, Value};

use crate::harness::{at_node, for_each_db, Fixture, TestApp, PASSWORD};

/// A resident user living at `person`'s home.
async fn resident_user(app: &TestApp, f: &Fixture, username: &str, person: i64) -> String {
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

async fn org(app: &TestApp, f: &Fixture, kind: &str, name: &str) -> i64 {
    let mut tx = app.db.begin().await.unwrap();
    let o = tree::create_org(&mut tx, f.sid, kind, name, Some(f.community_a))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    o.id
}

/// The lift hall of 城中东路311号, hosted by the residents' committee (the community node).
async fn lift_hall(app: &TestApp, f: &Fixture, staff: &str) -> i64 {
    let (s, h) = app
        .post_json(
            "/api/v1/halls",
            staff,
            json!({ "name": "章浜电梯议事厅", "topic": "城中东路311号加装电梯",
                "node_id": f.building_a1, "host_unit_id": f.community_a }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{h}");
    h["id"].as_i64().unwrap()
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

#[tokio::test]
async fn lift_retrofit_hall_runs_its_five_functions() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let staff = app
            .user_token(&f, "cs_a", Role::CommunityStaff, at_node(f.community_a))
            .await;
        let resident = app.token(&f, "resident").await;
        let hall = lift_hall(&app, &f, &staff).await;

        // Members: the host came with the hall; add the lift company, the property company,
        // the owners' committee, and a lift company user who answers for it.
        let lift = org(&app, &f, "lift_company", "迅达电梯").await;
        let property = org(&app, &f, "property_company", "章浜物业").await;
        let owners = org(&app, &f, "owners_committee", "章浜业委会").await;
        for (o, label) in [(lift, "加装电梯第三方"), (property, ""), (owners, "")] {
            let (s, m) = app
                .post_json(
                    &format!("/api/v1/halls/{hall}/members"),
                    &staff,
                    json!({ "org_id": o, "role": "participant_unit", "label": label }),
                )
                .await;
            assert_eq!(s, StatusCode::CREATED, "{m}");
        }
        let lift_user = app
            .user_token(&f, "lift_rep", Role::PropertyStaff, at_node(f.building_a1))
            .await;
        let lift_user_id = users::by_username(&app.db, f.sid, "lift_rep")
            .await
            .unwrap()
            .unwrap()
            .id;
        let (s, m) = app
            .post_json(
                &format!("/api/v1/halls/{hall}/members"),
                &staff,
                json!({ "user_id": lift_user_id, "org_id": lift, "name": "迅达 王工", "role": "participant_unit" }),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{m}");
        let (_, v) = app.get_json(&format!("/api/v1/halls/{hall}"), &staff).await;
        let members = v["members"].as_array().unwrap();
        assert_eq!(members.len(), 5, "{v}");
        assert_eq!(members[0]["role"], "host");
        assert_eq!(members[0]["name"], "章浜居民区");

        // A resident asks online; the lift company's member answers officially.
        let (s, q) = app
            .post_json(
                &format!("/api/v1/halls/{hall}/items"),
                &resident,
                json!({ "function": "consultation", "body": "加装电梯后一楼采光怎么补偿?" }),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{q}");
        assert_eq!(q["status"], "open");
        assert_eq!(q["channel"], "online");
        assert_eq!(q["speaker"], "resident");
        let qid = q["id"].as_i64().unwrap();
        let (_, v) = app.get_json(&format!("/api/v1/halls/{hall}"), &resident).await;
        assert_eq!(v["hall"]["counts"]["consultation_open"], 1);
        // A resident cannot answer.
        let (s, _) = app
            .post_json(
                &format!("/api/v1/halls/{hall}/items/{qid}/answers"),
                &resident,
                json!({ "body": "我来回答" }),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, a) = app
            .post_json(
                &format!("/api/v1/halls/{hall}/items/{qid}/answers"),
                &lift_user,
                json!({ "body": "按加装电梯补偿办法协商,详见政策宣传。" }),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{a}");
        assert_eq!(a["status"], "answered");
        assert_eq!(a["replies"][0]["member_name"], "迅达 王工");
        let (_, v) = app.get_json(&format!("/api/v1/halls/{hall}"), &resident).await;
        assert_eq!(v["hall"]["counts"]["consultation_open"], 0);
        assert_eq!(v["items"][0]["replies"][0]["kind"], "answer");

        // Staff record an opinion given at the counter two days ago, for 李梅.
        let two_days_ago = redbutler::clock::now_ms() - 2 * 24 * 3600 * 1000;
        let (s, fb) = app
            .post_json(
                &format!("/api/v1/halls/{hall}/items"),
                &staff,
                json!({ "function": "feedback", "stance": "oppose", "body": "担心噪音",
                    "channel": "counter", "speaker": "李梅", "occurred_at": two_days_ago }),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{fb}");
        assert_eq!(fb["channel"], "counter");
        assert_eq!(fb["speaker"], "李梅");
        assert_eq!(fb["occurred_at"], two_days_ago);
        assert!(fb["author_user_id"].is_null());
        assert!(fb["recorded_by"].as_i64().is_some());
        let fid = fb["id"].as_i64().unwrap();
        let (_, v) = app.get_json(&format!("/api/v1/halls/{hall}"), &staff).await;
        assert_eq!(v["hall"]["counts"]["feedback_unanswered"], 1);
        // The resident sees the name masked.
        let (_, v) = app
            .get_json(&format!("/api/v1/halls/{hall}/items?function=feedback"), &resident)
            .await;
        assert_eq!(v["items"][0]["speaker"], "李*");
        let (s, _) = app
            .post_json(
                &format!("/api/v1/halls/{hall}/items/{fid}/answers"),
                &staff,
                json!({ "body": "施工限定在白天" }),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED);
        // Residents cannot record on someone else's behalf.
        let (s, e) = app
            .post_json(
                &format!("/api/v1/halls/{hall}/items"),
                &resident,
                json!({ "function": "feedback", "stance": "support", "body": "支持",
                    "channel": "counter", "speaker": "王五", "occurred_at": two_days_ago }),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(fields(&e), ["channel"]);

        // Mediation: a session with parties, a mediator, adjourned once, then agreed.
        let (s, m) = app
            .post_json(
                &format!("/api/v1/halls/{hall}/items"),
                &staff,
                json!({ "function": "mediation", "title": "一楼与高层住户分摊费用",
                    "parties": ["101室住户", "601室住户"], "mediator_name": "中立法律服务中心 陈律师",
                    "scheduled_at": redbutler::clock::now_ms() + 86_400_000, "venue": "居委会客堂间" }),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{m}");
        assert_eq!(m["status"], "pending");
        assert_eq!(m["parties"], json!(["101室住户", "601室住户"]));
        let mid = m["id"].as_i64().unwrap();
        let steps = format!("/api/v1/halls/{hall}/items/{mid}/steps");
        let (s, v) = app
            .post_json(&steps, &staff, json!({ "status": "adjourned", "note": "各方再考虑" }))
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let (s, v) = app.post_json(&steps, &staff, json!({ "status": "agreed" })).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(fields(&v), ["agreement"]);
        let (s, v) = app
            .post_json(
                &steps,
                &staff,
                json!({ "status": "agreed", "agreement": "按楼层系数分摊,一楼免缴" }),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["status"], "agreed");
        assert_eq!(v["agreement"], "按楼层系数分摊,一楼免缴");
        assert_eq!(v["replies"].as_array().unwrap().len(), 2);
        let (s, _) = app
            .post_json(&steps, &staff, json!({ "status": "not_agreed" }))
            .await;
        assert_eq!(s, StatusCode::CONFLICT);

        // Publicity is for staff.
        let publicity = json!({ "function": "publicity", "title": "加装电梯政策解读",
            "body": "既有多层住宅加装电梯……", "link": "https://example.org/lift.pdf" });
        let (s, _) = app
            .post_json(&format!("/api/v1/halls/{hall}/items"), &resident, publicity.clone())
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, p) = app
            .post_json(&format!("/api/v1/halls/{hall}/items"), &staff, publicity)
            .await;
        assert_eq!(s, StatusCode::CREATED, "{p}");
        assert_eq!(p["status"], "published");
        publicity_documents(&app, hall, p["id"].as_i64().unwrap(), m["id"].as_i64().unwrap(), &staff, &resident).await;

        // Errand proxy: requested → (done refused) → accepted → in progress → done.
        let (s, e) = app
            .post_json(
                &format!("/api/v1/halls/{hall}/items"),
                &resident,
                json!({ "function": "errand", "body": "代为提交加装电梯意见征询表" }),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{e}");
        assert_eq!(e["status"], "requested");
        assert_eq!(e["on_behalf_of"], "resident");
        let eid = e["id"].as_i64().unwrap();
        let steps = format!("/api/v1/halls/{hall}/items/{eid}/steps");
        let (s, v) = app.post_json(&steps, &staff, json!({ "status": "done" })).await;
        assert_eq!(s, StatusCode::CONFLICT, "{v}");
        assert!(v["detail"].as_str().unwrap().contains("已申请"), "{v}");
        let (s, _) = app.post_json(&steps, &resident, json!({ "status": "accepted" })).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        for (to, note) in [("accepted", "已收到"), ("in_progress", "已送街道"), ("done", "已办结")] {
            let (s, v) = app
                .post_json(&steps, &staff, json!({ "status": to, "note": note }))
                .await;
            assert_eq!(s, StatusCode::OK, "{to}: {v}");
            assert_eq!(v["status"], to);
        }
        let (s, v) = app.post_json(&steps, &staff, json!({ "status": "accepted" })).await;
        assert_eq!(s, StatusCode::CONFLICT);
        assert!(v["detail"].as_str().unwrap().contains("已办结"), "{v}");
        let (_, v) = app
            .get_json(&format!("/api/v1/halls/{hall}/items?function=errand"), &resident)
            .await;
        let walked: Vec<&str> = v["items"][0]["replies"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["status_to"].as_str().unwrap())
            .collect();
        assert_eq!(walked, ["accepted", "in_progress", "done"]);

        // Topics awaiting a decision under the community: the hall itself, and a new question.
        let (s, _) = app
            .post_json(
                &format!("/api/v1/halls/{hall}/items"),
                &resident,
                json!({ "function": "consultation", "title": "电梯何时开工", "body": "请问何时开工?" }),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED);
        let community = tree::node(&app.db, f.sid, f.community_a).await.unwrap();
        let topics = halls::pending_topics(&app.db, f.sid, &community.path)
            .await
            .unwrap();
        let kinds: Vec<(&str, &str)> = topics
            .iter()
            .map(|t| (t.kind.as_str(), t.title.as_str()))
            .collect();
        assert_eq!(
            kinds,
            [("hall", "城中东路311号加装电梯"), ("consultation", "电梯何时开工")]
        );
        let elsewhere = tree::node(&app.db, f.sid, f.grid_a2).await.unwrap();
        assert!(halls::pending_topics(&app.db, f.sid, &elsewhere.path)
            .await
            .unwrap()
            .is_empty());
        let (s, v) = app
            .get_json(&format!("/api/v1/halls/pending?node_id={}", f.community_a), &staff)
            .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(v["topics"].as_array().unwrap().len(), 2);

        // Closing needs an outcome; a closed hall takes nothing more.
        let (s, v) = app
            .post_json(&format!("/api/v1/halls/{hall}/close"), &staff, json!({}))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(fields(&v), ["outcome"]);
        let (s, v) = app
            .post_json(
                &format!("/api/v1/halls/{hall}/close"),
                &staff,
                json!({ "outcome": "业主同意率达标,电梯已开工" }),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["status"], "closed");
        let (s, _) = app
            .post_json(
                &format!("/api/v1/halls/{hall}/items"),
                &resident,
                json!({ "function": "consultation", "body": "还能问吗?" }),
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT);
        assert!(halls::pending_topics(&app.db, f.sid, &community.path)
            .await
            .unwrap()
            .is_empty());
        let (_, v) = app
            .get_json("/api/v1/halls?status=closed", &resident)
            .await;
        assert_eq!(v["halls"].as_array().unwrap().len(), 1);
        let (_, v) = app.get_json("/api/v1/halls?status=open", &resident).await;
        assert!(v["halls"].as_array().unwrap().is_empty());

        // Every write left its audit entry.
        let audited = app
            .count_sql(
                "SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log WHERE subdistrict_id = $1 AND action LIKE 'hall.%'",
                f.sid,
            )
            .await;
        // create, host + 4 members, 2 questions, 2 answers, feedback, mediation + 2 outcomes
        // (one adjourned), publicity + its document, errand + 3 steps, close.
        assert_eq!(audited, 1 + 5 + 2 + 2 + 1 + 3 + 1 + 1 + 4 + 1);
    })
    .await;
}

#[tokio::test]
async fn resident_outside_the_place_is_refused() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let staff = app.token(&f, "gm_a1").await;
        let hall = lift_hall(&app, &f, &staff).await;
        // 王五 lives in 313号, outside the hall's building.
        let outsider = resident_user(&app, &f, "wangwu", f.person_a2).await;
        let (s, _) = app
            .get_json(&format!("/api/v1/halls/{hall}"), &outsider)
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, _) = app
            .post_json(
                &format!("/api/v1/halls/{hall}/items"),
                &outsider,
                json!({ "function": "consultation", "body": "我也想问" }),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (_, v) = app.get_json("/api/v1/halls", &outsider).await;
        assert!(v["halls"].as_array().unwrap().is_empty());
        // The spouse, who lives there, may ask.
        let spouse = resident_user(&app, &f, "limei", f.person_a1_spouse).await;
        let (s, _) = app
            .post_json(
                &format!("/api/v1/halls/{hall}/items"),
                &spouse,
                json!({ "function": "consultation", "body": "电梯费用怎么分摊?" }),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED);
        // An auditor of the community may read but not take part.
        let auditor = app.token(&f, "auditor").await;
        let (s, _) = app
            .get_json(&format!("/api/v1/halls/{hall}"), &auditor)
            .await;
        assert_eq!(s, StatusCode::OK);
        let (s, _) = app
            .post_json(
                &format!("/api/v1/halls/{hall}/items"),
                &auditor,
                json!({ "function": "feedback", "stance": "support", "body": "好" }),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        // A grid member of another grid cannot open a hall in this building.
        let other = app
            .user_token(&f, "gm_a2", Role::GridMember, at_node(f.grid_a2))
            .await;
        let (s, _) = app
            .post_json(
                "/api/v1/halls",
                &other,
                json!({ "name": "x", "topic": "y", "node_id": f.building_a1 }),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, _) = app.get_json(&format!("/api/v1/halls/{hall}"), &other).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        // Another subdistrict does not see it at all.
        let g = app.fixture_named("310118004", "香花桥街道").await;
        let (s, _) = app
            .get_json(
                &format!("/api/v1/halls/{hall}"),
                &app.token(&g, "admin").await,
            )
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
    })
    .await;
}

#[tokio::test]
async fn invalid_input_is_422_with_field_errors() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let admin = app.token(&f, "admin").await;
        let req = axum::http::Request::builder()
            .method(Method::POST)
            .uri("/api/v1/halls")
            .header("authorization", format!("Bearer {admin}"))
            .header("content-type", "application/json")
            .header("accept-language", "en")
            .body(axum::body::Body::from(
                json!({ "name": " ", "node_id": f.root, "host_unit_id": 42 }).to_string(),
            ))
            .unwrap();
        let (s, h, b) = app.send(req).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(h["content-type"], "application/problem+json");
        let v: Value = serde_json::from_slice(&b).unwrap();
        assert_eq!(fields(&v), ["name", "topic", "node_id", "host_unit_id"]);
        assert_eq!(v["errors"][0]["message"], "required");
        let hall = lift_hall(&app, &f, &admin).await;
        let (s, v) = app
            .post_json(
                &format!("/api/v1/halls/{hall}/items"),
                &admin,
                json!({ "function": "feedback", "stance": "maybe", "body": "" }),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(fields(&v), ["stance", "body"]);
        assert_eq!(v["errors"][1]["message"], "此项必填");
        let (s, v) = app
            .post_json(
                &format!("/api/v1/halls/{hall}/items"),
                &admin,
                json!({ "function": "consultation", "body": "问", "channel": "phone",
                    "occurred_at": redbutler::clock::now_ms() + 3_600_000 }),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(fields(&v), ["speaker", "occurred_at"]);
        let (s, v) = app
            .post_json(
                &format!("/api/v1/halls/{hall}/items"),
                &admin,
                json!({ "function": "mediation", "title": "纠纷", "parties": [] }),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(fields(&v), ["parties", "mediator_name"]);
        let (s, v) = app
            .post_json(
                &format!("/api/v1/halls/{hall}/members"),
                &admin,
                json!({ "role": "king" }),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(fields(&v), ["role"]);
        let (s, _) = app.get_json("/api/v1/halls/12345", &admin).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (s, _) = app
            .json(
                Method::GET,
                "/api/v1/halls?status=maybe",
                &admin,
                Value::Null,
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        // Nothing was written by the refused requests.
        assert_eq!(app.count("hall_items", f.sid).await, 0);
    })
    .await;
}

#[tokio::test]
async fn hall_pages_render_in_chinese_and_take_forms() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let (_, staff) = app.browser_login("gm_a1", PASSWORD).await;
        let (s, _, html) = app.browser_get("/halls", &staff).await;
        assert_eq!(s, StatusCode::OK);
        assert!(html.contains("议事厅") && html.contains("新建议事厅"), "{html}");
        let (s, _, html) = app.browser_get("/halls/new", &staff).await;
        assert_eq!(s, StatusCode::OK);
        assert!(html.contains("城中东路311号") && html.contains("主持单位"));
        // An invalid form comes back with its messages and what was typed.
        let (s, _, html) = app
            .browser_post("/halls", &staff, "name=%E7%94%B5%E6%A2%AF&topic=&node_id=")
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(html.contains("此项必填") && html.contains("value=\"电梯\""), "{html}");
        let (s, h, _) = app
            .browser_post(
                "/halls",
                &staff,
                &format!(
                    "name=%E7%AB%A0%E6%B5%9C%E7%94%B5%E6%A2%AF%E8%AE%AE%E4%BA%8B%E5%8E%85&topic=%E5%8A%A0%E8%A3%85%E7%94%B5%E6%A2%AF&node_id={}&host_unit_id={}",
                    f.building_a1, f.community_a
                ),
            )
            .await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        let at = h["location"].to_str().unwrap().to_string();
        let hall: i64 = at.trim_start_matches("/halls/").parse().unwrap();
        let (s, _, html) = app.browser_get(&at, &staff).await;
        assert_eq!(s, StatusCode::OK);
        for label in ["章浜电梯议事厅", "接待咨询", "矛盾调处", "意见反馈", "政策宣传", "代办跑腿", "结束议事厅"] {
            assert!(html.contains(label), "{label}");
        }
        let (_, _, html) = app
            .browser_get(&format!("/halls/{hall}?tab=members"), &staff)
            .await;
        assert!(html.contains("添加成员") && html.contains("主持单位"));
        let (s, _, _) = app
            .browser_post(
                &format!("/halls/{hall}/members"),
                &staff,
                "role=participant_unit&name=%E7%AB%A0%E6%B5%9C%E7%89%A9%E4%B8%9A&label=",
            )
            .await;
        assert_eq!(s, StatusCode::SEE_OTHER);

        // The resident asks on their phone; staff record a counter visit and answer.
        let (_, resident) = app.browser_login("resident", PASSWORD).await;
        let (s, _, html) = app
            .browser_get(&format!("/halls/{hall}?tab=consultation"), &resident)
            .await;
        assert_eq!(s, StatusCode::OK);
        assert!(html.contains("我要咨询") && !html.contains("代谁登记"));
        let (s, _, html) = app
            .browser_post(&format!("/halls/{hall}/items"), &resident, "function=consultation&body=")
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(html.contains("此项必填"));
        let (s, h, _) = app
            .browser_post(
                &format!("/halls/{hall}/items"),
                &resident,
                "function=consultation&body=%E4%BD%95%E6%97%B6%E5%BC%80%E5%B7%A5",
            )
            .await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        assert_eq!(h["location"], format!("/halls/{hall}?tab=consultation&saved=1"));
        let (s, _, _) = app
            .browser_post(
                &format!("/halls/{hall}/items"),
                &staff,
                "function=feedback&stance=suggestion&body=%E5%BB%BA%E8%AE%AE&channel=counter&speaker=%E6%9D%8E%E6%A2%85&occurred_at=2020-01-01T09:00",
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "more than 180 days back");
        let yesterday = redbutler::clock::now_ms() - 86_400_000;
        let when = redbutler::cases::intake::rules::local_datetime_value(yesterday);
        let (s, _, _) = app
            .browser_post(
                &format!("/halls/{hall}/items"),
                &staff,
                &format!("function=feedback&stance=suggestion&body=%E5%BB%BA%E8%AE%AE&channel=counter&speaker=%E6%9D%8E%E6%A2%85&occurred_at={when}"),
            )
            .await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        let (_, _, html) = app
            .browser_get(&format!("/halls/{hall}?tab=feedback"), &staff)
            .await;
        assert!(html.contains("李梅") && html.contains("窗口接待") && html.contains("工作人员代为登记"));
        assert!(html.contains("未答复 1 / 1"), "{html}");
        let (_, _, html) = app
            .browser_get(&format!("/halls/{hall}?tab=consultation"), &staff)
            .await;
        assert!(html.contains("何时开工") && html.contains("待答复"));
        let items = halls::items(&app.db, f.sid, hall, None).await.unwrap();
        let q = items.iter().find(|i| i.function == "consultation").unwrap();
        let (s, _, _) = app
            .browser_post(
                &format!("/halls/{hall}/items/{}/answers", q.id),
                &staff,
                "body=%E4%B8%8B%E6%9C%88%E5%BC%80%E5%B7%A5",
            )
            .await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        let (_, _, html) = app
            .browser_get(&format!("/halls/{hall}?tab=consultation"), &resident)
            .await;
        assert!(html.contains("下月开工") && html.contains("已答复"));
        // Errand and mediation forms render for staff.
        for (tab, label) in [("errand", "申请代办"), ("mediation", "安排调处"), ("publicity", "发布政策或通知")] {
            let (s, _, html) = app
                .browser_get(&format!("/halls/{hall}?tab={tab}"), &staff)
                .await;
            assert_eq!(s, StatusCode::OK);
            assert!(html.contains(label), "{tab}");
        }
        // The English page.
        let (_, _, html) = app
            .browser_get(&format!("/halls/{hall}"), &format!("{staff}; rb_lang=en"))
            .await;
        assert!(html.contains("Consultation") && html.contains("Errand proxy"));
    })
    .await;
}

/// Policy publicity's documents: staff attach a file, whoever reads the hall downloads it;
/// the type comes from the bytes; nobody else attaches, and only publicity takes files.
async fn publicity_documents(
    app: &TestApp,
    hall: i64,
    item: i64,
    other_item: i64,
    staff: &str,
    resident: &str,
) {
    use base64::Engine;
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let pdf = b"%PDF-1.4\n% lift retrofit policy\n%%EOF\n".to_vec();
    let url = format!("/api/v1/halls/{hall}/items/{item}/documents");
    let (s, d) = app
        .post_json(
            &url,
            staff,
            json!({ "file_name": "C:\\政策\\加梯补贴细则.pdf", "file_base64": b64(&pdf) }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{d}");
    assert_eq!(d["file_name"], "加梯补贴细则.pdf");
    assert_eq!(d["content_type"], "application/pdf");
    assert_eq!(d["size"], pdf.len());
    let doc = d["id"].as_i64().unwrap();
    // A resident of the place reads the item with its document and downloads the bytes.
    let (s, items) = app
        .get_json(
            &format!("/api/v1/halls/{hall}/items?function=publicity"),
            resident,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{items}");
    let listed = items
        .as_array()
        .or_else(|| items["items"].as_array())
        .unwrap();
    let it = listed.iter().find(|i| i["id"] == item).unwrap();
    assert_eq!(it["documents"][0]["id"], doc, "{it}");
    let req = axum::http::Request::get(format!("/api/v1/halls/{hall}/documents/{doc}"))
        .header("authorization", format!("Bearer {resident}"))
        .body(axum::body::Body::empty())
        .unwrap();
    let (s, h, bytes) = app.send(req).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(bytes, pdf);
    assert_eq!(h["content-type"], "application/pdf");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert!(h["content-disposition"]
        .to_str()
        .unwrap()
        .contains("filename*=UTF-8''"));
    // Refusals: a resident cannot attach; a script is no document; mediation takes no files;
    // broken base64 says so.
    let (s, _) = app
        .post_json(
            &url,
            resident,
            json!({ "file_name": "a.pdf", "file_base64": b64(&pdf) }),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, e) = app
        .post_json(
            &url,
            staff,
            json!({ "file_name": "x.pdf", "file_base64": b64(b"<script>1</script>") }),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["errors"][0]["field"], "file", "{e}");
    let (s, _) = app
        .post_json(
            &format!("/api/v1/halls/{hall}/items/{other_item}/documents"),
            staff,
            json!({ "file_name": "a.pdf", "file_base64": b64(&pdf) }),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, e) = app
        .post_json(
            &url,
            staff,
            json!({ "file_name": "a.pdf", "file_base64": "%%%" }),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    let (s, _) = app
        .get_json(
            &format!("/api/v1/halls/{hall}/documents/{}", doc + 1),
            resident,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}
