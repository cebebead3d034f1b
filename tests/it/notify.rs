//! Notifications: the inbox, webhooks and the durable outbox, delivered to a tiny robot
//! server on 127.0.0.1 that fails as told.

use std::sync::{Arc, Mutex};

use axum::http::{header, StatusCode};
use redbutler::notify::{self, backoff, formats, Notice};
use serde_json::{json, Value};
use sqlx::Row;

use crate::harness::{for_each_db, Fixture, TestApp, PASSWORD};

/// One request the robot received.
#[derive(Debug, Clone)]
struct Hit {
    uri: String,
    body: String,
}

/// A robot that answers the n-th request with the n-th reply (the last one repeated).
async fn robot(replies: Vec<(u16, &'static str)>) -> (String, Arc<Mutex<Vec<Hit>>>) {
    let hits: Arc<Mutex<Vec<Hit>>> = Arc::default();
    let seen = hits.clone();
    let app = axum::Router::new().fallback(move |req: axum::extract::Request| {
        let seen = seen.clone();
        let replies = replies.clone();
        async move {
            let uri = req.uri().to_string();
            let body = axum::body::to_bytes(req.into_body(), 1 << 20)
                .await
                .unwrap_or_default();
            let n = {
                let mut s = seen.lock().unwrap();
                s.push(Hit {
                    uri,
                    body: String::from_utf8_lossy(&body).into_owned(),
                });
                s.len()
            };
            let (status, text) = replies[(n - 1).min(replies.len() - 1)];
            (StatusCode::from_u16(status).unwrap(), text)
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.ok();
    });
    (format!("http://{addr}/hook?key=0123456789abcdef"), hits)
}

fn notice(kind: &str) -> Notice {
    Notice {
        kind: kind.into(),
        case_id: Some(7),
        title_zh: "新派单:楼道堆物".into(),
        title_en: "New dispatch: clutter".into(),
        body_zh: "城中东路311号楼道堆物,请尽快处置。".into(),
        body_en: "Clutter in the stairwell of No. 311.".into(),
        link: "/cases/7".into(),
    }
}

async fn tell_unit(app: &TestApp, sid: i64, unit: i64, n: &Notice) {
    let mut tx = app.db.begin().await.unwrap();
    notify::notify_unit(&mut tx, sid, unit, n).await.unwrap();
    tx.commit().await.unwrap();
}

async fn add_webhook(app: &TestApp, token: &str, body: Value) -> i64 {
    let (s, v) = app.post_json("/api/v1/webhooks", token, body).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v["id"].as_i64().unwrap()
}

async fn outbox_rows(app: &TestApp, sid: i64) -> Vec<(i64, i64, String, i64, Option<String>)> {
    sqlx::query("SELECT id, webhook_id, state, attempts, last_error FROM outbox WHERE subdistrict_id = $1 ORDER BY id")
        .bind(sid)
        .fetch_all(app.db.read())
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.try_get::<Option<String>, _>(4).unwrap()))
        .collect()
}

async fn login(app: &TestApp, user: &str) -> String {
    let (s, cookies) = app.browser_login(user, PASSWORD).await;
    assert!(s.is_redirection(), "login of {user}: {s}");
    cookies
}

async fn user_id(app: &TestApp, f: &Fixture, name: &str) -> i64 {
    redbutler::auth::users::by_username(&app.db, f.sid, name)
        .await
        .unwrap()
        .unwrap()
        .id
}

#[tokio::test]
async fn a_unit_notice_reaches_its_grant_holders_and_the_webhooks_subscribed_above_it() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let t = app.token(&f, "admin").await;
        let url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa";
        let community = add_webhook(&app, &t, json!({ "name": "章浜居民区群", "format": "wecom", "url": url, "node_id": f.community_a })).await;
        let other_grid = add_webhook(&app, &t, json!({ "name": "二网格群", "format": "dingtalk", "url": url, "node_id": f.grid_a2 })).await;
        let overdue_only = add_webhook(&app, &t, json!({ "name": "超期督办群", "format": "feishu", "url": url, "node_id": f.root, "kinds": ["case.overdue"] })).await;
        let disabled = add_webhook(&app, &t, json!({ "name": "停用群", "format": "generic", "url": url, "enabled": false })).await;
        let mut tx = app.db.begin().await.unwrap();
        let org = redbutler::tree::store::create_org(&mut tx, f.sid, "property_company", "章浜物业", Some(f.building_a1)).await.unwrap();
        tx.commit().await.unwrap();
        let org_hook = add_webhook(&app, &t, json!({ "name": "物业群", "format": "generic", "url": url, "org_id": org.id, "kinds": "case.*" })).await;

        tell_unit(&app, f.sid, f.grid_a1, &notice("case.dispatched")).await;
        let rows = outbox_rows(&app, f.sid).await;
        let hooks: Vec<i64> = rows.iter().map(|r| r.1).collect();
        assert_eq!(hooks, vec![community], "only the community robot hears grid A1's dispatch");
        assert!(!hooks.contains(&other_grid) && !hooks.contains(&overdue_only) && !hooks.contains(&disabled));

        tell_unit(&app, f.sid, f.grid_a1, &notice("case.overdue")).await;
        let rows = outbox_rows(&app, f.sid).await;
        let mut hooks: Vec<i64> = rows[1..].iter().map(|r| r.1).collect();
        hooks.sort();
        let mut want = vec![community, overdue_only];
        want.sort();
        assert_eq!(hooks, want);

        tell_unit(&app, f.sid, org.id, &notice("case.dispatched")).await;
        let rows = outbox_rows(&app, f.sid).await;
        let mut hooks: Vec<i64> = rows[3..].iter().map(|r| r.1).collect();
        hooks.sort();
        let mut want = vec![community, org_hook];
        want.sort();
        assert_eq!(hooks, want, "the org's robot, and the community it hangs in");

        // The grid member of A1 got the two notices about A1, the admin (granted at the root) none.
        let gm = app.token(&f, "gm_a1").await;
        let (s, v) = app.get_json("/api/v1/inbox", &gm).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["unread"], 2);
        assert_eq!(v["items"][0]["kind"], "case.overdue");
        assert_eq!(v["items"][0]["title_en"], "New dispatch: clutter");
        assert_eq!(v["items"][0]["link"], "/cases/7");
        let (_, v) = app.get_json("/api/v1/inbox", &t).await;
        assert_eq!(v["unread"], 0);

        // The payload stored is the robot's own format.
        let payload: String = sqlx::query("SELECT payload FROM outbox WHERE subdistrict_id = $1 AND webhook_id = $2 ORDER BY id LIMIT 1")
            .bind(f.sid).bind(community).fetch_one(app.db.read()).await.unwrap().get(0);
        let p: Value = serde_json::from_str(&payload).unwrap();
        assert_eq!(p["msgtype"], "markdown");
        assert!(p["markdown"]["content"].as_str().unwrap().contains("楼道堆物"));
    })
    .await;
}

#[tokio::test]
async fn a_notice_exists_only_when_its_transaction_commits() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let t = app.token(&f, "admin").await;
        add_webhook(&app, &t, json!({ "name": "全街道群", "format": "wecom", "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k" })).await;
        let mut tx = app.db.begin().await.unwrap();
        notify::notify_unit(&mut tx, f.sid, f.grid_a1, &notice("case.dispatched")).await.unwrap();
        let resident = user_id(&app, &f, "resident").await;
        notify::notify_users(&mut tx, f.sid, &[resident, resident], &notice("case.replied")).await.unwrap();
        tx.rollback().await.unwrap();
        assert!(outbox_rows(&app, f.sid).await.is_empty());
        assert_eq!(notify::unread_count(&app.db, f.sid, resident).await.unwrap(), 0);

        let mut tx = app.db.begin().await.unwrap();
        notify::notify_users(&mut tx, f.sid, &[resident, resident, 424242], &notice("case.replied")).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(notify::unread_count(&app.db, f.sid, resident).await.unwrap(), 1, "once per user; unknown users skipped");
    })
    .await;
}

#[tokio::test]
async fn a_delivery_that_fails_twice_is_retried_and_delivered() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let t = app.token(&f, "admin").await;
        let (url, hits) = robot(vec![
            (500, "busy"),
            (200, r#"{"errcode":45009,"errmsg":"api freq out of limit"}"#),
            (200, r#"{"errcode":0,"errmsg":"ok"}"#),
        ])
        .await;
        let hook = add_webhook(&app, &t, json!({ "name": "章浜居民区群", "format": "wecom", "url": url, "node_id": f.community_a })).await;
        tell_unit(&app, f.sid, f.grid_a1, &notice("case.dispatched")).await;
        let now = redbutler::clock::now_ms();

        let pass = notify::deliver_due(&app.db, now).await.unwrap();
        assert_eq!(pass.retrying, 1, "{pass:?}");
        let rows = outbox_rows(&app, f.sid).await;
        assert_eq!(rows[0].2, "pending");
        assert_eq!(rows[0].3, 1);
        assert!(rows[0].4.as_deref().unwrap().contains("HTTP 500"), "{:?}", rows[0].4);
        // Not due again before its backoff.
        let pass = notify::deliver_due(&app.db, now + 1_000).await.unwrap();
        assert_eq!(pass, Default::default());
        assert_eq!(hits.lock().unwrap().len(), 1);

        // A 200 with an error code is a failure too.
        let pass = notify::deliver_due(&app.db, now + 3_600_000).await.unwrap();
        assert_eq!(pass.retrying, 1, "{pass:?}");
        let rows = outbox_rows(&app, f.sid).await;
        assert!(rows[0].4.as_deref().unwrap().contains("45009"), "{:?}", rows[0].4);

        let pass = notify::deliver_due(&app.db, now + 2 * 3_600_000).await.unwrap();
        assert_eq!(pass.delivered, 1, "{pass:?}");
        let rows = outbox_rows(&app, f.sid).await;
        assert_eq!((rows[0].1, rows[0].2.as_str(), rows[0].3), (hook, "delivered", 3));
        let hits = hits.lock().unwrap().clone();
        assert_eq!(hits.len(), 3);
        let body: Value = serde_json::from_str(&hits[2].body).unwrap();
        assert_eq!(body["msgtype"], "markdown");
        assert!(hits[2].uri.contains("key=0123456789abcdef"));
        // Delivered once; later passes send nothing.
        let pass = notify::deliver_due(&app.db, now + 30 * 3_600_000).await.unwrap();
        assert_eq!(pass, Default::default());
    })
    .await;
}

#[tokio::test]
async fn a_robot_that_always_refuses_ends_failed_visible_and_retryable() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let t = app.token(&f, "admin").await;
        let (url, hits) = robot(vec![(200, r#"{"code":19021,"msg":"sign match fail or timestamp is not within one hour from current time"}"#)]).await;
        let url = url.replace("/hook?key=0123456789abcdef", "/open-apis/bot/v2/hook/0123456789abcdef0123");
        let hook = add_webhook(&app, &t, json!({ "name": "飞书群", "format": "feishu", "url": url, "secret": "SECtest1234567" })).await;
        tell_unit(&app, f.sid, f.grid_a1, &notice("case.overdue")).await;
        let mut now = redbutler::clock::now_ms();
        for i in 1..=backoff::MAX_ATTEMPTS {
            let pass = notify::deliver_due(&app.db, now).await.unwrap();
            if i < backoff::MAX_ATTEMPTS {
                assert_eq!(pass.retrying, 1, "attempt {i}: {pass:?}");
            } else {
                assert_eq!(pass.failed, 1, "attempt {i}: {pass:?}");
            }
            now += 7 * 3_600_000;
        }
        let rows = outbox_rows(&app, f.sid).await;
        assert_eq!(rows.len(), 1, "nothing dropped");
        assert_eq!((rows[0].2.as_str(), rows[0].3), ("failed", backoff::MAX_ATTEMPTS));
        assert!(rows[0].4.as_deref().unwrap().contains("19021"));
        // A failed delivery is not tried again by itself.
        assert_eq!(notify::deliver_due(&app.db, now + 1_000_000_000).await.unwrap(), Default::default());
        assert_eq!(hits.lock().unwrap().len() as i64, backoff::MAX_ATTEMPTS);
        // Each attempt was signed the Feishu way.
        let first: Value = serde_json::from_str(&hits.lock().unwrap()[0].body).unwrap();
        let ts: i64 = first["timestamp"].as_str().unwrap().parse().unwrap();
        assert_eq!(first["sign"], formats::feishu_sign("SECtest1234567", ts));
        assert_eq!(first["msg_type"], "text");

        // Visible to admins: the API and the page.
        let (s, v) = app.get_json("/api/v1/outbox?state=failed", &t).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["counts"]["failed"], 1);
        assert_eq!(v["items"][0]["webhook_id"], hook);
        assert_eq!(v["items"][0]["attempts"], backoff::MAX_ATTEMPTS);
        let id = v["items"][0]["id"].as_i64().unwrap();
        let admin = login(&app, "admin").await;
        let (s, _, page) = app.browser_get("/admin/webhooks", &admin).await;
        assert_eq!(s, StatusCode::OK);
        assert!(page.contains("19021") && page.contains("飞书群"), "{page}");
        assert!(page.contains(&format!("/admin/outbox/{id}/retry")));

        // Retry through the page: a fresh round, and it is sent at the next pass.
        let (s, h, _) = app.browser_post(&format!("/admin/outbox/{id}/retry"), &admin, "").await;
        assert!(s.is_redirection(), "{s}");
        assert!(h[header::LOCATION].to_str().unwrap().starts_with("/admin/webhooks"));
        let rows = outbox_rows(&app, f.sid).await;
        assert_eq!((rows[0].2.as_str(), rows[0].3), ("pending", 0));
        let pass = notify::deliver_due(&app.db, redbutler::clock::now_ms()).await.unwrap();
        assert_eq!(pass.retrying, 1);
        // Retrying through the API works as well, and is audited.
        sqlx::query("UPDATE outbox SET state = 'failed' WHERE subdistrict_id = $1 AND id = $2")
            .bind(f.sid).bind(id).execute(app.db.write()).await.unwrap();
        let (s, v) = app.post_json(&format!("/api/v1/outbox/{id}/retry"), &t, json!({})).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["state"], "pending");
        let audited: i64 = sqlx::query("SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log WHERE subdistrict_id = $1 AND action = 'outbox.retry'")
            .bind(f.sid).fetch_one(app.db.read()).await.unwrap().get(0);
        assert_eq!(audited, 2);
        // Nobody else may retry.
        let gm = app.token(&f, "gm_a1").await;
        let (s, _) = app.post_json(&format!("/api/v1/outbox/{id}/retry"), &gm, json!({})).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    })
    .await;
}

#[tokio::test]
async fn dingtalk_deliveries_are_signed_on_the_url() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let t = app.token(&f, "admin").await;
        let (url, hits) = robot(vec![(200, r#"{"errcode":0,"errmsg":"ok"}"#)]).await;
        let url = url.replace("key=", "access_token=");
        add_webhook(&app, &t, json!({ "name": "钉钉群", "format": "dingtalk", "url": url, "secret": "SECdingtalk-secret" })).await;
        tell_unit(&app, f.sid, f.grid_a1, &notice("case.dispatched")).await;
        let now = redbutler::clock::now_ms();
        assert_eq!(notify::deliver_due(&app.db, now).await.unwrap().delivered, 1);
        let hit = hits.lock().unwrap()[0].clone();
        let u = url::Url::parse(&format!("http://x{}", hit.uri)).unwrap();
        let q: std::collections::HashMap<String, String> = u.query_pairs().into_owned().collect();
        assert_eq!(q["access_token"], "0123456789abcdef");
        assert_eq!(q["timestamp"], now.to_string());
        assert_eq!(q["sign"], formats::dingtalk_sign("SECdingtalk-secret", now));
        let body: Value = serde_json::from_str(&hit.body).unwrap();
        assert_eq!(body["markdown"]["title"], "【红管家】新派单:楼道堆物");
    })
    .await;
}

#[tokio::test]
async fn an_expired_claim_is_taken_again_and_a_live_one_is_not() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let t = app.token(&f, "admin").await;
        let (url, hits) = robot(vec![(200, r#"{"errcode":0,"errmsg":"ok"}"#)]).await;
        add_webhook(&app, &t, json!({ "name": "群", "format": "wecom", "url": url })).await;
        tell_unit(&app, f.sid, f.grid_a1, &notice("case.dispatched")).await;
        let now = redbutler::clock::now_ms();
        // Another worker holds a live lease: nothing is sent.
        sqlx::query("UPDATE outbox SET claim = 'other-worker', next_attempt_at = $2 WHERE subdistrict_id = $1")
            .bind(f.sid).bind(now + 30_000).execute(app.db.write()).await.unwrap();
        assert_eq!(notify::deliver_due(&app.db, now).await.unwrap(), Default::default());
        assert!(hits.lock().unwrap().is_empty());
        // That worker died: once its lease is over, the row is sent.
        let pass = notify::deliver_due(&app.db, now + 31_000).await.unwrap();
        assert_eq!(pass.delivered, 1);
        assert_eq!(hits.lock().unwrap().len(), 1);
    })
    .await;
}

#[tokio::test]
async fn the_inbox_page_lists_marks_read_and_counts_unread() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        tell_unit(&app, f.sid, f.grid_a1, &notice("case.dispatched")).await;
        let mut second = notice("case.due_soon");
        second.title_zh = "即将超期:楼道堆物".into();
        second.link = "/cases/8".into();
        tell_unit(&app, f.sid, f.grid_a1, &second).await;
        let gm = login(&app, "gm_a1").await;
        let (s, h, svg) = app.browser_get("/inbox/badge.svg", &gm).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(h[header::CONTENT_TYPE], "image/svg+xml");
        assert!(svg.contains(">2</text>"), "{svg}");
        let (s, _, page) = app.browser_get("/inbox", &gm).await;
        assert_eq!(s, StatusCode::OK);
        let a = page.find("即将超期").unwrap();
        let b = page.find("新派单").unwrap();
        assert!(a < b, "newest first");
        assert!(
            page.contains("/inbox/badge.svg"),
            "the shell shows the badge"
        );
        // Opening a notice marks it read and goes to its case.
        let gm_token = app.token(&f, "gm_a1").await;
        let (_, v) = app.get_json("/api/v1/inbox", &gm_token).await;
        let id = v["items"][0]["id"].as_i64().unwrap();
        let (s, h, _) = app
            .browser_post(&format!("/inbox/{id}/read"), &gm, "open=1")
            .await;
        assert!(s.is_redirection());
        assert_eq!(h[header::LOCATION], "/cases/8");
        let (_, _, svg) = app.browser_get("/inbox/badge.svg", &gm).await;
        assert!(svg.contains(">1</text>"), "{svg}");
        let (_, _, page) = app.browser_get("/inbox?unread=1", &gm).await;
        assert!(!page.contains("即将超期") && page.contains("新派单"));
        // Another user cannot mark it; marking again is fine.
        let resident = app.token(&f, "resident").await;
        let (s, _) = app
            .post_json(&format!("/api/v1/inbox/{id}/read"), &resident, json!({}))
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (s, v) = app
            .post_json(&format!("/api/v1/inbox/{id}/read"), &gm_token, json!({}))
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let (s, _) = app
            .post_json("/api/v1/inbox/nope/read", &gm_token, json!({}))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        // Mark all read.
        let (s, _, _) = app.browser_post("/inbox/read-all", &gm, "").await;
        assert!(s.is_redirection());
        let (_, v) = app.get_json("/api/v1/inbox?unread=true", &gm_token).await;
        assert_eq!(v["unread"], 0);
        assert_eq!(v["items"].as_array().unwrap().len(), 0);
        let (_, _, svg) = app.browser_get("/inbox/badge.svg", &gm).await;
        assert!(svg.contains(r#"width="0""#), "{svg}");
        let (_, v) = app.get_json("/api/v1/inbox", &gm_token).await;
        assert_eq!(v["items"].as_array().unwrap().len(), 2, "read notices stay");
    })
    .await;
}

#[tokio::test]
async fn webhooks_are_for_admins_checked_and_never_show_their_secrets() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let t = app.token(&f, "admin").await;
        for user in ["gm_a1", "resident", "auditor"] {
            let tok = app.token(&f, user).await;
            let (s, _) = app.get_json("/api/v1/webhooks", &tok).await;
            assert_eq!(s, StatusCode::FORBIDDEN, "{user}");
            let (s, _) = app.get_json("/api/v1/outbox", &tok).await;
            assert_eq!(s, StatusCode::FORBIDDEN, "{user}");
            let (s, _) = app.post_json("/api/v1/webhooks", &tok, json!({ "name": "x", "format": "wecom", "url": "https://a.cn/" })).await;
            assert_eq!(s, StatusCode::FORBIDDEN, "{user}");
        }
        let gm = login(&app, "gm_a1").await;
        let (s, _, _) = app.browser_get("/admin/webhooks", &gm).await;
        assert_eq!(s, StatusCode::FORBIDDEN);

        let (s, v) = app.post_json("/api/v1/webhooks", &t, json!({ "name": "", "format": "slack", "url": "ftp://x.cn/", "kinds": "Bad Kind" })).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        let fields: Vec<&str> = v["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        for want in ["name", "format", "url", "kinds"] {
            assert!(fields.contains(&want), "{want} in {fields:?}");
        }
        let (s, v) = app.post_json("/api/v1/webhooks", &t, json!({ "name": "企微", "format": "wecom", "url": "https://a.cn/", "secret": "abc" })).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        let (s, v) = app.post_json("/api/v1/webhooks", &t, json!({ "name": "x", "format": "generic", "url": "https://a.cn/", "node_id": 1 })).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");

        let secret = "SECverysecretvalue123456";
        let token_url = "https://oapi.dingtalk.com/robot/send?access_token=abcdef0123456789abcdef";
        let id = add_webhook(&app, &t, json!({ "name": "钉钉群", "format": "dingtalk", "url": token_url, "secret": secret, "node_id": f.grid_a1 })).await;
        let (s, v) = app.post_json("/api/v1/webhooks", &t, json!({ "name": "钉钉群", "format": "generic", "url": "https://a.cn/" })).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "the name is taken: {v}");
        let (s, v) = app.get_json("/api/v1/webhooks", &t).await;
        assert_eq!(s, StatusCode::OK);
        let text = v.to_string();
        assert!(!text.contains(secret) && !text.contains("abcdef0123456789abcdef"), "{text}");
        assert_eq!(v["webhooks"][0]["has_secret"], true);
        assert_eq!(v["webhooks"][0]["unit_name"], "章浜一网格");
        let admin = login(&app, "admin").await;
        let (_, _, page) = app.browser_get(&format!("/admin/webhooks/{id}"), &admin).await;
        assert!(!page.contains(secret) && !page.contains("abcdef0123456789abcdef"));
        let (_, _, page) = app.browser_get("/admin/webhooks", &admin).await;
        assert!(!page.contains(secret) && page.contains("钉钉群"));
        let audit: String = sqlx::query("SELECT after_json FROM audit_log WHERE subdistrict_id = $1 AND action = 'webhook.create'")
            .bind(f.sid).fetch_one(app.db.read()).await.unwrap().get(0);
        assert!(!audit.contains(secret) && !audit.contains("abcdef0123456789abcdef"), "{audit}");

        // Editing without the URL or secret keeps them; disabling stops new deliveries.
        let (s, v) = app.json(axum::http::Method::PUT, &format!("/api/v1/webhooks/{id}"), &t, json!({ "enabled": false, "kinds": ["case.overdue"] })).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["enabled"], false);
        assert_eq!(v["has_secret"], true);
        let stored: String = sqlx::query("SELECT url FROM webhooks WHERE subdistrict_id = $1 AND id = $2")
            .bind(f.sid).bind(id).fetch_one(app.db.read()).await.unwrap().get(0);
        assert_eq!(stored, token_url);
        tell_unit(&app, f.sid, f.grid_a1, &notice("case.overdue")).await;
        assert!(outbox_rows(&app, f.sid).await.is_empty());
        let (s, _) = app.post_json(&format!("/api/v1/webhooks/{id}/test"), &t, json!({})).await;
        assert_eq!(s, StatusCode::CONFLICT);

        // Through the page: enable again, then send a test message.
        let form = format!("name=%E9%92%89%E9%92%89%E7%BE%A4&format=dingtalk&url=&secret=&unit=node%3A{}&kinds=&enabled=on", f.grid_a1);
        let (s, _, body) = app.browser_post(&format!("/admin/webhooks/{id}"), &admin, &form).await;
        assert!(s.is_redirection(), "{s} {body}");
        let (s, _, _) = app.browser_post(&format!("/admin/webhooks/{id}/test"), &admin, "").await;
        assert!(s.is_redirection());
        let kinds: Vec<String> = sqlx::query("SELECT kind FROM outbox WHERE subdistrict_id = $1")
            .bind(f.sid).fetch_all(app.db.read()).await.unwrap().iter().map(|r| r.get(0)).collect();
        assert_eq!(kinds, vec!["test"]);
        // A bad URL in the form re-renders it with the message by its field.
        let (s, _, body) = app.browser_post("/admin/webhooks", &admin, "name=x&format=wecom&url=javascript%3Aalert(1)&unit=&kinds=").await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body.contains("只支持 http 或 https"), "{body}");

        // Another subdistrict sees none of it.
        let g = app.fixture_named("310118004", "盈浦街道").await;
        let t2 = app.token(&g, "admin").await;
        let (_, v) = app.get_json("/api/v1/webhooks", &t2).await;
        assert_eq!(v["webhooks"].as_array().unwrap().len(), 0);
        let (s, _) = app.post_json(&format!("/api/v1/webhooks/{id}/test"), &t2, json!({})).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
    })
    .await;
}

#[tokio::test]
async fn the_documented_notification_routes_answer() {
    use axum::body::Body;
    use axum::http::{Method, Request};
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let t = app.token(&f, "admin").await;
        let (s, doc) = app.get_json("/api/v1/openapi.json", &t).await;
        assert_eq!(s, StatusCode::OK);
        let paths = doc["paths"].as_object().unwrap();
        let ours: Vec<&String> = paths
            .keys()
            .filter(|p| {
                ["/inbox", "/webhooks", "/outbox"]
                    .iter()
                    .any(|x| p.starts_with(x))
            })
            .collect();
        assert_eq!(ours.len(), 8, "{ours:?}");
        for path in ours {
            for method in paths[path].as_object().unwrap().keys() {
                let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
                let mut req = Request::builder()
                    .method(m.clone())
                    .uri(format!("/api/v1{path}"))
                    .header(header::AUTHORIZATION, format!("Bearer {t}"));
                let body = if m == Method::GET {
                    Body::empty()
                } else {
                    req = req.header(header::CONTENT_TYPE, "application/json");
                    Body::from("{}")
                };
                let (s, h, _) = app.send(req.body(body).unwrap()).await;
                if m == Method::GET {
                    assert!(s.is_success(), "{method} {path}: {s}");
                } else if s.is_client_error() {
                    assert_ne!(s, StatusCode::NOT_FOUND, "{method} {path}");
                    assert_eq!(
                        h[header::CONTENT_TYPE],
                        "application/problem+json",
                        "{method} {path}"
                    );
                }
            }
        }
    })
    .await;
}

#[tokio::test]
async fn the_background_worker_delivers_a_test_message_by_itself() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let t = app.token(&f, "admin").await;
        let (url, hits) = robot(vec![(200, r#"{"errcode":0,"errmsg":"ok"}"#)]).await;
        let id = add_webhook(
            &app,
            &t,
            json!({ "name": "测试群", "format": "wecom", "url": url }),
        )
        .await;
        notify::spawn_worker(app.state.clone());
        let (s, v) = app
            .post_json(&format!("/api/v1/webhooks/{id}/test"), &t, json!({}))
            .await;
        assert_eq!(s, StatusCode::ACCEPTED, "{v}");
        assert_eq!(v["state"], "pending");
        let mut state = String::new();
        for _ in 0..60 {
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
            state = outbox_rows(&app, f.sid).await[0].2.clone();
            if state == "delivered" {
                break;
            }
        }
        assert_eq!(state, "delivered");
        let body: Value = serde_json::from_str(&hits.lock().unwrap()[0].body).unwrap();
        assert!(body["markdown"]["content"]
            .as_str()
            .unwrap()
            .contains("测试消息"));
    })
    .await;
}
