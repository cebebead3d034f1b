//! The group-chat relay: messages relayed by a bot become draft cases at the place their
//! group is bound to; unbound groups' messages are kept until an administrator binds the
//! group; chit-chat is kept, never drafted; a re-sent message makes nothing new.

use axum::http::{header, Method, StatusCode};
use redbutler::access::Role;
use serde_json::{json, Value};

use crate::harness::{at_node, for_each_db, Fixture, TestApp, PASSWORD};

/// A dedicated relay bot: a user with the subdistrict staff role, and its token.
async fn bot(app: &TestApp, f: &Fixture) -> String {
    app.add_user_named(
        f,
        "relay_bot",
        "群聊机器人",
        Role::SubdistrictStaff,
        at_node(f.sid),
    )
    .await;
    app.token(f, "relay_bot").await
}

fn message(group: &str, id: &str, text: &str) -> Value {
    json!({
        "group_id": group,
        "group_name": "章浜一网格居民群",
        "sender_id": "wx_u1",
        "sender_name": "张阿姨",
        "text": text,
        "sent_at": redbutler::clock::now_ms() - 60_000,
        "message_id": id,
    })
}

async fn relay(app: &TestApp, token: &str, m: Value) -> (StatusCode, Value) {
    app.post_json("/api/v1/relay/messages", token, m).await
}

async fn cases(app: &TestApp, sid: i64) -> i64 {
    app.count("cases", sid).await
}

#[tokio::test]
async fn unbound_groups_are_kept_until_bound_then_drafted() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let bot = bot(&app, &f).await;
        let admin = app.token(&f, "admin").await;

        let (s, v) = relay(&app, &bot, message("wxg_1", "m1", "3号楼门口的垃圾两天没人清运了,味道很大")).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        assert_eq!(v["replayed"], false);
        assert_eq!(v["message"]["outcome"], "unbound");
        // Garbage collection needs the kind of waste: filed under "other enquiries" for
        // triage to re-file, the keywords' category kept as a suggestion.
        assert_eq!(v["message"]["category"], "policy.other");
        assert!(v["message"]["note"].as_str().unwrap().contains("env.garbage"));
        assert!(v["message"]["case_id"].is_null());
        assert_eq!(cases(&app, f.sid).await, 0);
        // Re-sent: the same row, nothing new.
        let (s, again) = relay(&app, &bot, message("wxg_1", "m1", "3号楼门口的垃圾两天没人清运了,味道很大")).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(again["replayed"], true);
        assert_eq!(again["message"]["id"], v["message"]["id"]);

        let (s, g) = app.get_json("/api/v1/relay/groups", &admin).await;
        assert_eq!(s, StatusCode::OK);
        let group = &g["groups"][0];
        assert_eq!(group["group_id"], "wxg_1");
        assert_eq!(group["group_name"], "章浜一网格居民群");
        assert!(group["node_id"].is_null());
        assert_eq!(group["unbound_messages"], 1);

        // Binding drafts the kept message.
        let (s, b) = app
            .json(Method::PUT, "/api/v1/relay/groups/wxg_1", &admin, json!({ "node_id": f.grid_a1 }))
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        assert_eq!(b["drafted"], 1);
        assert_eq!(b["group"]["node_id"], f.grid_a1);
        assert_eq!(b["group"]["node_name"], "章浜一网格");
        let (_, log) = app.get_json("/api/v1/relay/messages?group_id=wxg_1", &admin).await;
        let m = &log["messages"][0];
        assert_eq!(m["outcome"], "draft");
        let case_id = m["case_id"].as_i64().expect("a draft case");
        let (s, c) = app.get_json(&format!("/api/v1/cases/{case_id}"), &admin).await;
        assert_eq!(s, StatusCode::OK, "{c}");
        assert_eq!(c["state"], "draft");
        assert_eq!(c["channel"], "chat");
        assert_eq!(c["category"], "policy.other");
        assert_eq!(c["node_id"], f.grid_a1);
        assert_eq!(c["title"], "3号楼门口的垃圾两天没人清运了,味道很大");
        assert_eq!(c["source_ref"], "wxg_1:m1");
        assert_eq!(c["contact_name"], "张阿姨");
        assert_eq!(cases(&app, f.sid).await, 1);

        // Binding is audited.
        let n = app.count_sql("SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log WHERE subdistrict_id = $1 AND action = 'chat.bind'", f.sid).await;
        assert_eq!(n, 1);
    })
    .await;
}

#[tokio::test]
async fn bound_groups_draft_at_once_and_chit_chat_is_only_kept() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let bot = bot(&app, &f).await;
        let admin = app.token(&f, "admin").await;
        relay(&app, &bot, message("wxg_2", "hello", "大家好")).await;
        let (s, _) = app
            .json(
                Method::PUT,
                "/api/v1/relay/groups/wxg_2",
                &admin,
                json!({ "node_id": f.grid_v1 }),
            )
            .await;
        assert_eq!(s, StatusCode::OK);

        let long = "电梯又坏了,困人了,两个老人在里面,物业电话打不通,请赶紧派人来看看,三单元";
        let (s, v) = relay(&app, &bot, message("wxg_2", "m2", long)).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        assert_eq!(v["message"]["outcome"], "draft");
        let number = v["message"]["case_number"].as_str().unwrap().to_string();
        let case_id = v["message"]["case_id"].as_i64().unwrap();
        let (_, c) = app
            .get_json(&format!("/api/v1/cases/{case_id}"), &admin)
            .await;
        assert!(c["category"].as_str().unwrap().starts_with("lift."), "{c}");
        assert_eq!(c["title"].as_str().unwrap().chars().count(), 30);
        assert_eq!(c["description"], long);
        assert_eq!(c["state"], "draft");
        let n = cases(&app, f.sid).await;

        // A re-sent message makes nothing new, even with other text.
        let (s, again) = relay(&app, &bot, message("wxg_2", "m2", "电梯又坏了")).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(again["message"]["case_id"], case_id);
        assert_eq!(cases(&app, f.sid).await, n);

        // Chit-chat is kept in the log, not drafted.
        for (id, text) in [("m3", "收到👍"), ("m4", "🙏🙏🙏"), ("m5", "好的好的,谢谢!")]
        {
            let (s, v) = relay(&app, &bot, message("wxg_2", id, text)).await;
            assert_eq!(s, StatusCode::CREATED, "{v}");
            assert_eq!(v["message"]["outcome"], "chit_chat", "{text}");
        }
        assert_eq!(cases(&app, f.sid).await, n);
        // Words no keyword knows become a draft of "other enquiries".
        let (_, v) = relay(
            &app,
            &bot,
            message("wxg_2", "m6", "请问下周社区活动在哪里报名"),
        )
        .await;
        assert_eq!(v["message"]["outcome"], "draft");
        assert_eq!(v["message"]["category"], "policy.other");
        // A photo with no words is drafted too.
        let mut photo = message("wxg_2", "m7", "");
        photo["images"] = json!(["https://img.example.cn/p/1.jpg"]);
        let (s, v) = relay(&app, &bot, photo).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        assert_eq!(v["message"]["outcome"], "draft");
        assert_eq!(v["message"]["images"][0], "https://img.example.cn/p/1.jpg");

        let (_, log) = app
            .get_json("/api/v1/relay/messages?outcome=chit_chat", &admin)
            .await;
        assert_eq!(log["messages"].as_array().unwrap().len(), 4, "{log}");
        let (s, _) = app
            .get_json("/api/v1/relay/messages?outcome=lost", &admin)
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);

        // Drafts are staff-only: never in the public Open311 list.
        let (s, _, b) = app
            .send(
                axum::http::Request::get("/open311/v2/requests.json")
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        assert!(!String::from_utf8(b).unwrap().contains(&number));
    })
    .await;
}

#[tokio::test]
async fn only_the_relay_may_post_and_only_admins_bind() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let bot = bot(&app, &f).await;
        for user in ["resident", "gm_a1", "auditor"] {
            let t = app.token(&f, user).await;
            let (s, _) = relay(&app, &t, message("wxg_3", "m1", "楼道里堆满了杂物")).await;
            assert_eq!(s, StatusCode::FORBIDDEN, "{user}");
        }
        let (s, v) = app
            .post_json("/api/v1/relay/messages", "rbt_1_nope", message("wxg_3", "m1", "x"))
            .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{v}");
        // Malformed messages: every field named, nothing stored.
        let (s, v) = relay(
            &app,
            &bot,
            json!({ "group_id": "", "message_id": "", "text": "", "sent_at": 5, "images": ["ftp://x"] }),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        let fields: Vec<&str> = v["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        for want in ["group_id", "message_id", "sent_at", "images"] {
            assert!(fields.contains(&want), "{want} in {fields:?}");
        }
        let (s, _) = app.post_json("/api/v1/relay/messages", &bot, json!({})).await;
        assert!(s.is_client_error());
        assert_eq!(
            app.count("chat_messages", f.sid).await,
            0
        );

        relay(&app, &bot, message("wxg_3", "m1", "楼道里堆满了杂物")).await;
        // Binding: admins only, to a grid or below, of a group heard from.
        let gm = app.token(&f, "gm_a1").await;
        let (s, _) = app.json(Method::PUT, "/api/v1/relay/groups/wxg_3", &gm, json!({ "node_id": f.grid_a1 })).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let admin = app.token(&f, "admin").await;
        let (s, _) = app.json(Method::PUT, "/api/v1/relay/groups/wxg_3", &admin, json!({ "node_id": f.community_a })).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        let (s, _) = app.json(Method::PUT, "/api/v1/relay/groups/wxg_3", &admin, json!({})).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        let (s, _) = app.json(Method::PUT, "/api/v1/relay/groups/nobody", &admin, json!({ "node_id": f.grid_a1 })).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        // Unbinding keeps new messages again.
        let (s, _) = app.json(Method::PUT, "/api/v1/relay/groups/wxg_3", &admin, json!({ "node_id": f.grid_a1 })).await;
        assert_eq!(s, StatusCode::OK);
        let (s, b) = app.json(Method::PUT, "/api/v1/relay/groups/wxg_3", &admin, json!({ "node_id": null })).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        assert!(b["group"]["node_id"].is_null());
        let (_, v) = relay(&app, &bot, message("wxg_3", "m2", "楼道里的纸箱还没清走")).await;
        assert_eq!(v["message"]["outcome"], "unbound");
    })
    .await;
}

#[tokio::test]
async fn a_second_subdistrict_sees_none_of_it() {
    for_each_db(|app| async move {
        let a = app.fixture().await;
        let b = app.fixture_named("310118004", "盈浦街道").await;
        let bot = bot(&app, &a).await;
        relay(&app, &bot, message("wxg_9", "m1", "路灯不亮很久了")).await;
        let admin_b = app.token(&b, "admin").await;
        let (s, v) = app.get_json("/api/v1/relay/groups", &admin_b).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(v["groups"], json!([]));
        let (s, _) = app
            .json(
                Method::PUT,
                "/api/v1/relay/groups/wxg_9",
                &admin_b,
                json!({ "node_id": b.grid_a1 }),
            )
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
    })
    .await;
}

#[tokio::test]
async fn the_admin_page_lists_kept_messages_and_binds_groups() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let bot = bot(&app, &f).await;
        relay(&app, &bot, message("wxg_p", "m1", "井盖丢了,晚上很危险")).await;
        let (_, cookies) = app.browser_login("admin", PASSWORD).await;
        let (s, _, page) = app.browser_get("/admin/relay", &cookies).await;
        assert_eq!(s, StatusCode::OK);
        assert!(page.contains("章浜一网格居民群"));
        assert!(page.contains("井盖丢了,晚上很危险"));
        assert!(page.contains("name=\"_csrf\""));
        assert!(page.contains(&format!("value=\"{}\"", f.grid_a1)));
        let (s, h, _) = app
            .browser_post(
                "/admin/relay",
                &cookies,
                &format!("group_id=wxg_p&node_id={}", f.grid_a1),
            )
            .await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        assert_eq!(h[header::LOCATION], "/admin/relay?bound=wxg_p&drafted=1");
        let (_, _, page) = app
            .browser_get("/admin/relay?bound=wxg_p&drafted=1", &cookies)
            .await;
        assert!(page.contains("已转待分拣"));
        let (s, _, _) = app
            .browser_post(
                "/admin/relay",
                &cookies,
                &format!("group_id=wxg_p&node_id={}", f.community_a),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        let (_, gm) = app.browser_login("gm_a1", PASSWORD).await;
        let (s, _, _) = app.browser_get("/admin/relay", &gm).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    })
    .await;
}
