//! Owners' votes (业主共同决定): a building's vote from draft to published notice through the
//! API and the pages, on both databases — the frozen electorate, online ballots with receipts,
//! one ballot per owner even when two phones send at once, paper and proxy ballots checked by
//! a second staff user, the re-election refusal, the count and the export's verification.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use redbutler::access::{self, Actor, Role};
use redbutler::auth::users;
use redbutler::people::store as people;
use redbutler::tree::store as tree;
use redbutler::votes::export;
use serde_json::{json, Value};

use crate::harness::{at_node, for_each_db, Fixture, TestApp, PASSWORD};

/// A person with a login (Resident role), returning (person id, API token).
async fn owner_user(app: &TestApp, f: &Fixture, username: &str, name: &str) -> (i64, String) {
    let cli = Actor::cli(f.sid, &format!("/{}/", f.sid));
    let mut tx = app.db.begin().await.unwrap();
    let person = people::create_person(
        &mut tx,
        app.seal(),
        f.sid,
        &people::NewPerson {
            name: name.into(),
            ..Default::default()
        }
        .check()
        .unwrap(),
    )
    .await
    .unwrap();
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
    (person, app.token(f, username).await)
}

async fn room(app: &TestApp, f: &Fixture, number: &str, area: i64, owners: &[i64]) -> i64 {
    let mut tx = app.db.begin().await.unwrap();
    let r = tree::create_room(
        &mut tx,
        f.sid,
        f.unit_a1,
        &tree::NewRoom {
            number: number.into(),
            floor: Some(5),
            registered_area: Some(area),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    for p in owners {
        people::add_owner(&mut tx, f.sid, r.id, people::OwnerRef::Person(*p))
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    r.id
}

fn now() -> i64 {
    redbutler::clock::now_ms()
}

/// Creates and (unless `open` is false) opens a vote on building A1.
async fn new_vote(
    app: &TestApp,
    f: &Fixture,
    token: &str,
    body: Value,
    open: bool,
) -> (StatusCode, Value) {
    let mut b = json!({ "scope_node_id": f.building_a1, "title": "城中东路311号加装电梯",
        "matter": "other_major", "closes_at": now() + 3_600_000 });
    if let (Some(o), Some(extra)) = (b.as_object_mut(), body.as_object()) {
        for (k, v) in extra {
            o.insert(k.clone(), v.clone());
        }
    }
    let (s, v) = app.post_json("/api/v1/votes", token, b).await;
    if s != StatusCode::CREATED || !open {
        return (s, v);
    }
    let id = v["id"].as_i64().unwrap();
    app.post_json(&format!("/api/v1/votes/{id}/open"), token, json!({}))
        .await
}

struct World {
    f: Fixture,
    admin: String,
    staff_b: String,
    resident: String,
    p3: (i64, String),
    p4: (i64, String),
    p5: (i64, String),
    p6: i64,
}

/// Building A1's unit 1: room 502 (the fixture's resident), 503 (owner 3), 504 (owners 4 and
/// 5 together), 505 (owner 6, who has no login and votes by proxy).
async fn world(app: &TestApp) -> World {
    let f = app.fixture().await;
    let admin = app.token(&f, "admin").await;
    let staff_b = app
        .user_token(&f, "staff_b", Role::CommunityStaff, at_node(f.community_a))
        .await;
    let resident = app.token(&f, "resident").await;
    let p3 = owner_user(app, &f, "owner3", "赵六").await;
    let p4 = owner_user(app, &f, "owner4", "钱七").await;
    let p5 = owner_user(app, &f, "owner5", "孙八").await;
    let (p6, _) = owner_user(app, &f, "owner6", "周九").await;
    room(app, &f, "503", 9_000, &[p3.0]).await;
    room(app, &f, "504", 10_000, &[p4.0, p5.0]).await;
    room(app, &f, "505", 7_450, &[p6]).await;
    World {
        f,
        admin,
        staff_b,
        resident,
        p3,
        p4,
        p5,
        p6,
    }
}

fn tiny_png() -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    image::RgbImage::new(2, 2)
        .write_to(&mut out, image::ImageFormat::Png)
        .unwrap();
    out.into_inner()
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[tokio::test]
async fn a_vote_from_draft_to_published_notice() {
    for_each_db(|app| async move {
        let w = world(&app).await;
        let f = &w.f;
        // Draft, then open: the electorate is frozen.
        let (s, v) = new_vote(&app, f, &w.admin, json!({}), false).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        assert_eq!(v["status"], "draft");
        assert_eq!(v["thresholds"]["quorum_area"]["at_least"]["num"], 2);
        let id = v["id"].as_i64().unwrap();
        // An owner cannot see a draft; staff B (community staff) can.
        let (s, _) = app
            .get_json(&format!("/api/v1/votes/{id}"), &w.resident)
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, d) = app
            .get_json(&format!("/api/v1/votes/{id}"), &w.staff_b)
            .await;
        assert_eq!(s, StatusCode::OK, "{d}");
        assert_eq!(d["preview"]["total_owners"], 4);
        let (s, v) = app
            .post_json(&format!("/api/v1/votes/{id}/open"), &w.admin, json!({}))
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["status"], "open");
        assert_eq!(v["total_owners"], 4);
        assert_eq!(v["total_area"], 8_550 + 9_000 + 10_000 + 7_450);
        assert_eq!(v["header_digest"], v["chain_head"]);
        // Every owner with an account is told, once; staff without a home there are not.
        let kinds = |inbox: &Value| -> Vec<String> {
            inbox["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["kind"].as_str().unwrap_or("").to_string())
                .collect()
        };
        let (_, inbox) = app.get_json("/api/v1/inbox", &w.p4.1).await;
        assert_eq!(
            kinds(&inbox).iter().filter(|k| *k == "vote.opened").count(),
            1,
            "{inbox}"
        );
        assert_eq!(inbox["items"][0]["link"], format!("/votes/{id}"));
        let (_, inbox) = app.get_json("/api/v1/inbox", &w.admin).await;
        assert!(
            !kinds(&inbox).contains(&"vote.opened".to_string()),
            "{inbox}"
        );
        // A registry change afterwards does not change the open vote.
        room(&app, f, "506", 12_000, &[w.p3.0]).await;
        let mut tx = app.db.begin().await.unwrap();
        people::add_owner(
            &mut tx,
            f.sid,
            f.room_a1,
            people::OwnerRef::Person(f.person_a1_spouse),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let (_, d) = app.get_json(&format!("/api/v1/votes/{id}"), &w.admin).await;
        assert_eq!(d["tracker"]["total_owners"], 4, "{d}");
        assert_eq!(d["tracker"]["total_area"], 35_000);

        // The resident votes online and gets a receipt; a second ballot is refused.
        let url = format!("/api/v1/votes/{id}/ballots");
        let (s, r) = app
            .post_json(&url, &w.resident, json!({ "choice": { "kind": "yes" } }))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{r}");
        assert_eq!(r["receipt"]["seq"], 1);
        let code = r["receipt"]["code"].as_str().unwrap().to_string();
        assert_eq!(code.len(), 12);
        let (s, e) = app
            .post_json(&url, &w.resident, json!({ "choice": { "kind": "no" } }))
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "{e}");
        assert!(e["detail"].as_str().unwrap().contains("已经投过票"), "{e}");
        // A choice of another form is 422; a non-owner is 403.
        let (s, e) = app
            .post_json(
                &url,
                &w.p3.1,
                json!({ "choice": { "kind": "option", "id": 1 } }),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        let gm = app.token(f, "gm_a1").await;
        let (s, _) = app
            .post_json(&url, &gm, json!({ "choice": { "kind": "yes" } }))
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, _) = app
            .post_json(&url, &w.admin, json!({ "choice": { "kind": "yes" } }))
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);

        // Two co-owners of 504 send at the same moment from two phones: exactly one counts.
        let (a, b) = tokio::join!(
            app.post_json(&url, &w.p4.1, json!({ "choice": { "kind": "yes" } })),
            app.post_json(&url, &w.p5.1, json!({ "choice": { "kind": "no" } })),
        );
        let mut statuses = [a.0, b.0];
        statuses.sort();
        assert_eq!(
            statuses,
            [StatusCode::CREATED, StatusCode::CONFLICT],
            "{} {}",
            a.1,
            b.1
        );
        let loser = if a.0 == StatusCode::CONFLICT {
            &a.1
        } else {
            &b.1
        };
        assert!(
            loser["detail"].as_str().unwrap().contains("已经投过票"),
            "{loser}"
        );

        // The tracker: owners in scope see participation but not the running counts.
        let (_, d) = app.get_json(&format!("/api/v1/votes/{id}"), &w.p3.1).await;
        assert_eq!(d["tracker"]["participating_owners"], 2, "{d}");
        assert!(d.get("running").is_none(), "{d}");
        assert_eq!(d["may"]["vote"], true);
        let (_, d) = app.get_json(&format!("/api/v1/votes/{id}"), &w.admin).await;
        assert_eq!(d["running"]["counts"]["form"], "yes_no", "{d}");
        assert!(
            d["running"]["counts"]["yes"]["owners"].as_u64().unwrap() >= 1,
            "{d}"
        );

        // Owner 3's paper ballot: entered by the admin, who cannot check it; staff B checks it.
        let paper = format!("/api/v1/votes/{id}/paper");
        let key3 = format!("p:{}", w.p3.0);
        let (s, p) = app
            .post_json(
                &paper,
                &w.admin,
                json!({ "voter_key": key3, "choice": { "kind": "yes" } }),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{p}");
        assert_eq!(p["status"], "pending");
        let pid = p["id"].as_i64().unwrap();
        let (_, d) = app.get_json(&format!("/api/v1/votes/{id}"), &w.admin).await;
        assert_eq!(
            d["tracker"]["ballots"], 2,
            "pending paper is not in the box: {d}"
        );
        let (s, e) = app
            .post_json(&format!("{paper}/{pid}/confirm"), &w.admin, json!({}))
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "{e}");
        let (s, r) = app
            .post_json(&format!("{paper}/{pid}/confirm"), &w.staff_b, json!({}))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{r}");
        assert_eq!(r["receipt"]["seq"], 3);
        // Owner 3 can no longer vote online.
        let (s, _) = app
            .post_json(&url, &w.p3.1, json!({ "choice": { "kind": "no" } }))
            .await;
        assert_eq!(s, StatusCode::CONFLICT);

        // Owner 6 votes by written proxy: the authorisation is required and attached.
        let key6 = format!("p:{}", w.p6);
        let (s, e) = app
            .post_json(
                &paper,
                &w.staff_b,
                json!({ "voter_key": key6, "choice": { "kind": "no" },
                "proxy_holder": "周九之子" }),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        let png = tiny_png();
        let (s, p) = app
            .post_json(
                &paper,
                &w.staff_b,
                json!({ "voter_key": key6, "choice": { "kind": "no" },
                "proxy_holder": "周九之子", "proxy_file_base64": b64(&png) }),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{p}");
        assert_eq!(p["channel"], "proxy");
        let sha = p["proxy_sha256"].as_str().unwrap().to_string();
        let pid = p["id"].as_i64().unwrap();
        let (s, r) = app
            .post_json(&format!("{paper}/{pid}/confirm"), &w.admin, json!({}))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{r}");
        let req = Request::get(format!("/api/v1/votes/{id}/proxies/{sha}"))
            .header(header::AUTHORIZATION, format!("Bearer {}", w.admin))
            .body(Body::empty())
            .unwrap();
        let (s, h, bytes) = app.send(req).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(h[header::CONTENT_TYPE], "image/png");
        assert_eq!(bytes, png);

        // The public receipts list has every receipt, no voter and no choice.
        let (s, list) = app
            .get_json(&format!("/api/v1/votes/{id}/receipts"), &w.p4.1)
            .await;
        assert_eq!(s, StatusCode::OK);
        let receipts = list["receipts"].as_array().unwrap();
        assert_eq!(receipts.len(), 4);
        assert!(receipts.iter().any(|r| r["code"] == code.as_str()));
        assert!(!list.to_string().contains("voter_key"));

        // The audit log knows that ballots were cast, never what they say.
        use sqlx::Row;
        let rows = sqlx::query(
            "SELECT after_json FROM audit_log WHERE subdistrict_id = $1 AND action = 'vote.ballot'",
        )
        .bind(f.sid)
        .fetch_all(app.db.read())
        .await
        .unwrap();
        assert_eq!(rows.len(), 4);
        for r in &rows {
            let a: String = r.get(0);
            assert!(
                !a.contains("\"yes\"") && !a.contains("\"no\"") && !a.contains("choice"),
                "{a}"
            );
        }

        // Closing waits for the end of the period.
        let (s, e) = app
            .post_json(&format!("/api/v1/votes/{id}/close"), &w.admin, json!({}))
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "{e}");
        // The period ends (moved back in time here) and the vote is counted.
        sqlx::query("UPDATE votes SET closes_at = $2 WHERE subdistrict_id = $1")
            .bind(f.sid)
            .bind(now() - 1)
            .execute(app.db.write())
            .await
            .unwrap();
        let (s, _) = app
            .post_json(&url, &w.p5.1, json!({ "choice": { "kind": "yes" } }))
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "outside the period");
        let (s, _) = app
            .get_json(&format!("/api/v1/votes/{id}/notice"), &w.resident)
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "no notice before publishing");
        let (s, v) = app
            .post_json(&format!("/api/v1/votes/{id}/close"), &w.staff_b, json!({}))
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["status"], "closed");
        // 4 of 4 owners took part; yes: 502 and 503 (and maybe 504) against 505's no.
        assert_eq!(v["result"]["participating"]["owners"], 4, "{v}");
        assert_eq!(v["result"]["quorum"]["met"], true);
        let (s, v) = app
            .post_json(&format!("/api/v1/votes/{id}/publish"), &w.admin, json!({}))
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["status"], "published");
        assert!(v["publicity_until"].as_i64().unwrap() > now() + 6 * 86_400_000);
        let (s, n) = app
            .get_json(&format!("/api/v1/votes/{id}/notice"), &w.resident)
            .await;
        assert_eq!(s, StatusCode::OK, "{n}");
        assert!(
            n["summary"]["zh"].as_str().unwrap().contains("参与 4/4 户"),
            "{n}"
        );

        let (_, inbox) = app.get_json("/api/v1/inbox", &w.p3.1).await;
        assert!(
            inbox["items"].as_array().unwrap().iter().any(
                |i| i["kind"] == "vote.published" && i["link"] == format!("/votes/{id}/notice")
            ),
            "{inbox}"
        );
        // The export verifies with the independent recount; a tampered one does not.
        let req = Request::get(format!("/api/v1/votes/{id}/export"))
            .header(header::AUTHORIZATION, format!("Bearer {}", w.staff_b))
            .body(Body::empty())
            .unwrap();
        let (s, _, bytes) = app.send(req).await;
        assert_eq!(s, StatusCode::OK);
        let text = String::from_utf8(bytes).unwrap();
        let ex = export::from_json(&text).unwrap();
        assert_eq!(ex.ballots.len(), 4);
        assert_eq!(ex.header.published_result, n["result"]);
        let report = export::verify(&ex, &redbutler::votes::verify::recount);
        assert!(report.ok, "{:?}", report.render(redbutler::i18n::Lang::En));
        let report = export::verify(&ex, &recount_here);
        assert!(report.ok, "{:?}", report.render(redbutler::i18n::Lang::En));
        let mut bad = ex.clone();
        bad.ballots[0].choice = redbutler::votes::model::Choice::No;
        let report = export::verify(&bad, &recount_here);
        assert!(!report.ok);
        assert_eq!(report.first_failure.unwrap().name, "chain");
        // Owners do not get the export (it lists every voter's choice); the receipts suffice.
        let (s, _) = app
            .get_json(&format!("/api/v1/votes/{id}/export"), &w.resident)
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    })
    .await;
}

/// The test's own recount: the tally over the export's electorate (every voter castable but
/// `room:` ones), form and canonical thresholds.
fn recount_here(e: &export::Export) -> Result<Value, String> {
    use redbutler::votes::electorate::{Electorate, Voter};
    use redbutler::votes::{rules::Thresholds, tally};
    let voters: Vec<Voter> = e
        .electorate
        .iter()
        .map(|v| Voter {
            key: v.key.clone(),
            rooms: v.rooms.iter().map(|r| (r.room_id, r.area)).collect(),
            area: v.area,
            persons: if v.key.starts_with("room:") {
                vec![]
            } else {
                vec![1]
            },
            orgs: vec![],
        })
        .collect();
    let el = Electorate {
        total_area: voters.iter().map(|v| v.area).sum(),
        total_owners: voters.len() as u64,
        voters,
        problems: vec![],
    };
    let form: tally::Form =
        serde_json::from_value(e.header.form.clone()).map_err(|x| x.to_string())?;
    let t: Thresholds =
        serde_json::from_str(&e.header.thresholds_canonical).map_err(|x| x.to_string())?;
    let ballots: Vec<(String, _)> = e
        .ballots
        .iter()
        .map(|b| (b.voter_key.clone(), b.choice.clone()))
        .collect();
    serde_json::to_value(tally::tally(&el, &form, &t, &ballots)).map_err(|x| x.to_string())
}

#[tokio::test]
async fn refusals_period_reelection_and_registry_problems() {
    for_each_db(|app| async move {
        let w = world(&app).await;
        let f = &w.f;
        // Not yet open for ballots: 409 with the opening time.
        let (s, v) = new_vote(&app, f, &w.admin, json!({ "opens_at": now() + 1_800_000 }), true).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let id = v["id"].as_i64().unwrap();
        let (s, e) = app
            .post_json(&format!("/api/v1/votes/{id}/ballots"), &w.resident, json!({ "choice": { "kind": "yes" } }))
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "{e}");
        assert!(e["detail"].as_str().unwrap().contains("尚未开始"), "{e}");
        // An owner of another building is not in this scope.
        let outsider = app.token(f, "resident").await;
        let (s, v2) = new_vote(&app, f, &w.admin, json!({ "scope_node_id": f.building_a2 }), true).await;
        assert_eq!(s, StatusCode::OK, "{v2}");
        let id2 = v2["id"].as_i64().unwrap();
        let (s, _) = app
            .post_json(&format!("/api/v1/votes/{id2}/ballots"), &outsider, json!({ "choice": { "kind": "yes" } }))
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        // Bad input is 422 by field.
        let (s, e) = app
            .post_json("/api/v1/votes", &w.admin, json!({ "scope_node_id": f.building_a1, "title": "",
                "matter": "nonsense", "form": { "kind": "election", "seats": 3 }, "labels": ["甲", "乙"] }))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        let fields: Vec<&str> = e["errors"].as_array().unwrap().iter().map(|x| x["field"].as_str().unwrap()).collect();
        assert!(fields.contains(&"title") && fields.contains(&"matter") && fields.contains(&"seats"), "{e}");
        // An election with a local threshold below the statute is allowed and flagged.
        let (s, v) = new_vote(&app, f, &w.admin, json!({ "matter": "owners_committee",
            "form": { "kind": "election", "seats": 2 }, "labels": ["甲", "乙", "丙"],
            "thresholds": { "quorum_area": { "at_least": { "num": 1, "den": 2 } },
                "quorum_owners": { "at_least": { "num": 2, "den": 3 } },
                "approve_area": { "more_than": { "num": 1, "den": 2 } },
                "approve_owners": { "more_than": { "num": 1, "den": 2 } } } }), false).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        assert_eq!(v["below_statute"], json!(["quorum_area"]));
        assert_eq!(v["form"], json!({ "kind": "election", "seats": 2, "candidates": 3 }));

        // The owners' committee of community A is being re-elected: no company or fee votes.
        let (s, r) = app
            .post_json("/api/v1/votes/reelection-periods", &w.admin, json!({ "node_id": f.community_a,
                "starts_on": redbutler::votes::desk::store::local_date(now() - 86_400_000),
                "ends_on": redbutler::votes::desk::store::local_date(now() + 30 * 86_400_000) }))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{r}");
        let (s, e) = new_vote(&app, f, &w.admin, json!({ "matter": "property_company",
            "form": { "kind": "options" }, "labels": ["甲物业", "乙物业"] }), false).await;
        assert_eq!(s, StatusCode::CONFLICT, "{e}");
        assert!(e["detail"].as_str().unwrap().contains("换届期间"), "{e}");
        let (s, _) = new_vote(&app, f, &w.admin, json!({ "is_fee_change": true }), false).await;
        assert_eq!(s, StatusCode::CONFLICT);
        let (s, _) = new_vote(&app, f, &w.admin, json!({}), false).await;
        assert_eq!(s, StatusCode::CREATED, "other matters go on");

        // A room without an owner blocks opening unless staff override it (audited).
        room(&app, f, "601", 9_900, &[]).await;
        let (s, v) = new_vote(&app, f, &w.admin, json!({}), false).await;
        assert_eq!(s, StatusCode::CREATED);
        let id = v["id"].as_i64().unwrap();
        let (s, e) = app.post_json(&format!("/api/v1/votes/{id}/open"), &w.admin, json!({})).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        assert_eq!(e["errors"][0]["field"], "override_problems");
        let (s, v) = app
            .post_json(&format!("/api/v1/votes/{id}/open"), &w.admin,
                json!({ "override_problems": true, "reason": "601 室产权待登记" }))
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["total_owners"], 5);
        let overridden = app
            .count_sql(
                "SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log WHERE subdistrict_id = $1 \
                 AND action = 'vote.open' AND reason = '601 室产权待登记'",
                f.sid,
            )
            .await;
        assert_eq!(overridden, 1);
        // Grid staff may watch but not run a vote.
        let gm = app.token(f, "gm_a1").await;
        let (s, _) = app.get_json(&format!("/api/v1/votes/{id}"), &gm).await;
        assert_eq!(s, StatusCode::OK);
        let (s, _) = app.post_json(&format!("/api/v1/votes/{id}/cancel"), &gm, json!({ "reason": "x" })).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, v) = app.post_json(&format!("/api/v1/votes/{id}/cancel"), &w.admin, json!({ "reason": "重新组织" })).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["status"], "cancelled");
    })
    .await;
}

#[tokio::test]
async fn pages_for_owners_and_the_desk() {
    for_each_db(|app| async move {
        let w = world(&app).await;
        let f = &w.f;
        let (s, v) = new_vote(&app, f, &w.admin, json!({ "form": { "kind": "options" },
            "matter": "use_fund", "labels": ["方案一", "方案二"] }), true).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let id = v["id"].as_i64().unwrap();
        let (s, admin) = app.browser_login("admin", PASSWORD).await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        for (path, label) in [
            ("/votes".to_string(), "业主表决"),
            ("/votes/new".to_string(), "新建表决"),
            (format!("/votes/{id}"), "参与情况"),
            (format!("/votes/{id}/paper"), "录入纸质选票"),
            (format!("/votes/{id}/receipts"), "投票回执"),
            ("/votes/reelections".to_string(), "换届"),
        ] {
            let (s, _, body) = app.browser_get(&path, &admin).await;
            assert_eq!(s, StatusCode::OK, "{path}: {body}");
            assert!(body.contains(label), "{path} lacks {label}");
        }
        // The resident votes on the page (no JavaScript) and sees the receipt.
        let (_, res) = app.browser_login("resident", PASSWORD).await;
        // Their home page says the vote awaits them; the admin, no owner, is not asked.
        let (_, _, home) = app.browser_get("/", &res).await;
        assert!(home.contains("待您表决") && home.contains(&format!("/votes/{id}")), "{home}");
        let (_, _, home) = app.browser_get("/", &admin).await;
        assert!(!home.contains("待您表决"));
        let (s, _, body) = app.browser_get(&format!("/votes/{id}"), &res).await;
        assert_eq!(s, StatusCode::OK);
        assert!(body.contains("方案一") && body.contains("投票"), "{body}");
        assert!(!body.contains("录入纸质选票"));
        let (s, h, body) = app.browser_post(&format!("/votes/{id}/ballot"), &res, "choice=option:2").await;
        assert_eq!(s, StatusCode::SEE_OTHER, "{body}");
        let to = h[header::LOCATION].to_str().unwrap().to_string();
        let (s, _, body) = app.browser_get(&to, &res).await;
        assert_eq!(s, StatusCode::OK);
        assert!(body.contains("回执"), "{body}");
        let (s, _, body) = app.browser_post(&format!("/votes/{id}/ballot"), &res, "choice=option:1").await;
        assert_eq!(s, StatusCode::CONFLICT, "{body}");
        assert!(body.contains("已经投过票"));
        let (_, _, home) = app.browser_get("/", &res).await;
        assert!(!home.contains("待您表决"), "voted: no longer awaiting");
        // The desk enters a paper ballot on the page; a second staff user checks it.
        let key3 = format!("p%3A{}", w.p3.0);
        let (s, _, body) = app
            .browser_post(&format!("/votes/{id}/paper"), &admin, &format!("voter_key={key3}&choice=option:1"))
            .await;
        assert_eq!(s, StatusCode::SEE_OTHER, "{body}");
        let (_, b) = app.browser_login("staff_b", PASSWORD).await;
        let (_, _, body) = app.browser_get(&format!("/votes/{id}/paper"), &b).await;
        assert!(body.contains("复核"), "{body}");
        let (_, list) = app.get_json(&format!("/api/v1/votes/{id}/paper"), &w.staff_b).await;
        let pid = list["paper_ballots"][0]["id"].as_i64().unwrap();
        let (s, _, body) = app.browser_post(&format!("/votes/{id}/paper/{pid}/confirm"), &b, "").await;
        assert_eq!(s, StatusCode::SEE_OTHER, "{body}");
        let (_, d) = app.get_json(&format!("/api/v1/votes/{id}"), &w.admin).await;
        assert_eq!(d["tracker"]["ballots"], 2, "{d}");
        // A proxy entered through the multipart form with its scan.
        let key6 = format!("p:{}", w.p6);
        let boundary = "XyZvotes";
        let png = tiny_png();
        let mut body = Vec::new();
        for (k, v) in [("voter_key", key6.as_str()), ("choice", "option:2"), ("proxy_holder", "周九之子")] {
            body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes());
        }
        body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"proxy_file\"; filename=\"proxy.png\"\r\nContent-Type: image/png\r\n\r\n").as_bytes());
        body.extend_from_slice(&png);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let req = Request::builder()
            .method(Method::POST)
            .uri(format!("/votes/{id}/paper?_csrf={}", "c".repeat(32)))
            .header(header::COOKIE, &b)
            .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
            .body(Body::from(body))
            .unwrap();
        let (s, _, out) = app.send(req).await;
        assert_eq!(s, StatusCode::SEE_OTHER, "{}", String::from_utf8_lossy(&out));
        let (_, list) = app.get_json(&format!("/api/v1/votes/{id}/paper"), &w.admin).await;
        let p = list["paper_ballots"].as_array().unwrap().iter().find(|p| p["status"] == "pending").unwrap().clone();
        assert_eq!(p["channel"], "proxy");
        // Close and publish; the notice page shows the result in Chinese.
        sqlx::query("UPDATE votes SET closes_at = $2 WHERE subdistrict_id = $1")
            .bind(f.sid)
            .bind(now() - 1)
            .execute(app.db.write())
            .await
            .unwrap();
        let (s, _, _) = app
            .browser_post(&format!("/votes/{id}/paper/{}/reject", p["id"]), &admin, "note=%E9%87%8D%E5%A4%8D")
            .await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        let (s, _, body) = app.browser_post(&format!("/votes/{id}/close"), &admin, "").await;
        assert_eq!(s, StatusCode::SEE_OTHER, "{body}");
        let (s, _, body) = app.browser_post(&format!("/votes/{id}/publish"), &admin, "").await;
        assert_eq!(s, StatusCode::SEE_OTHER, "{body}");
        let (s, _, body) = app.browser_get(&format!("/votes/{id}/notice"), &res).await;
        assert_eq!(s, StatusCode::OK);
        assert!(body.contains("表决结果公告") && body.contains("公示期"), "{body}");
        let (s, _, body) = app.browser_get(&format!("/votes/{id}"), &admin).await;
        assert_eq!(s, StatusCode::OK);
        assert!(body.contains(&format!("/api/v1/votes/{id}/export")), "{body}");
        // New vote through the page form.
        let (s, _, body) = app
            .browser_post("/votes", &admin, &format!(
                "scope_node_id={}&title=%E6%B5%8B%E8%AF%95&matter=other_major&form_kind=yes_no&closes_at=2099-01-01T10:00",
                f.unit_a1))
            .await;
        assert_eq!(s, StatusCode::SEE_OTHER, "{body}");
        let (s, _, body) = app.browser_post("/votes", &admin, "title=&matter=x").await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body.contains("请填写标题"), "{body}");
        let _ = (&w.p4, &w.p5);
    })
    .await;
}

/// Many owners at once share group commits: every ballot is acknowledged once, the box holds
/// exactly the acknowledged ones in one unbroken chain, and a voter sending twice at the same
/// moment (the twin lands in the same batch) is told it already voted.
#[tokio::test]
async fn many_owners_at_once_one_chain() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let admin = app.token(&f, "admin").await;
        let mut owners = Vec::new();
        for i in 0..24 {
            let o = owner_user(&app, &f, &format!("crowd{i}"), &format!("业主{i}")).await;
            room(
                &app,
                &f,
                &format!("{}", 701 + i),
                8_000 + i as i64 * 10,
                &[o.0],
            )
            .await;
            owners.push(o);
        }
        let (s, v) = new_vote(&app, &f, &admin, json!({}), true).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let id = v["id"].as_i64().unwrap();
        let url = format!("/api/v1/votes/{id}/ballots");
        // Every owner once, and the first six twice, all at the same moment.
        let sends = owners
            .iter()
            .chain(owners.iter().take(6))
            .enumerate()
            .map(|(n, (_, t))| {
                let kind = if n % 3 == 0 { "no" } else { "yes" };
                let (app, url) = (&app, &url);
                async move {
                    app.post_json(url, t, json!({ "choice": { "kind": kind } }))
                        .await
                }
            });
        let answers = futures_util::future::join_all(sends).await;
        let created: Vec<&Value> = answers
            .iter()
            .filter(|(s, _)| *s == StatusCode::CREATED)
            .map(|(_, b)| b)
            .collect();
        let refused: Vec<&Value> = answers
            .iter()
            .filter(|(s, _)| *s == StatusCode::CONFLICT)
            .map(|(_, b)| b)
            .collect();
        assert_eq!(created.len(), 24, "{answers:?}");
        assert_eq!(refused.len(), 6, "{answers:?}");
        assert!(refused
            .iter()
            .all(|e| e["detail"].as_str().unwrap().contains("已经投过票")));
        let mut seqs: Vec<i64> = created
            .iter()
            .map(|r| r["receipt"]["seq"].as_i64().unwrap())
            .collect();
        seqs.sort_unstable();
        assert_eq!(seqs, (1..=24).collect::<Vec<_>>());
        // The export's chain and recount verify; the head is the last receipt's hash.
        let req = Request::get(format!("/api/v1/votes/{id}/export"))
            .header(header::AUTHORIZATION, format!("Bearer {admin}"))
            .body(Body::empty())
            .unwrap();
        let (s, _, bytes) = app.send(req).await;
        assert_eq!(s, StatusCode::OK);
        let ex = export::from_json(&String::from_utf8(bytes).unwrap()).unwrap();
        assert_eq!(ex.ballots.len(), 24);
        let report = export::verify(&ex, &redbutler::votes::verify::recount);
        let chain = report.checks.iter().find(|c| c.name == "chain").unwrap();
        assert!(chain.ok, "{:?}", report.render(redbutler::i18n::Lang::En));
        let (_, d) = app.get_json(&format!("/api/v1/votes/{id}"), &admin).await;
        assert_eq!(d["tracker"]["ballots"], 24, "{d}");
    })
    .await;
}
