//! An owner reads their maintenance fund statement (专项维修资金分户账) in a real Chromium on a
//! phone-sized screen (see `browser.rs`): from the home page to their room's statement, the
//! balance and every entry to the fen (the first deposit by area, a voted withdrawal shared
//! over the building's rooms by the largest remainder), the page within the phone's width,
//! and another owner's statement refused.

use std::time::Duration;

use axum::http::StatusCode;
use redbutler::access::{self, Actor, Role};
use redbutler::auth::users;
use redbutler::people::store as people;
use redbutler::tree::store as tree;
use serde_json::{json, Value};

use crate::browser::{login, serve, within};
use crate::harness::{Fixture, TestApp, PASSWORD};
use crate::webdriver::Browser;

const WAIT: Duration = Duration::from_secs(15);

/// A new room `number` of unit A1 with `area` (hundredths of m²), owned by `person`.
async fn room_of(app: &TestApp, f: &Fixture, person: i64, number: &str, area: i64) -> i64 {
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
    people::add_owner(&mut tx, f.sid, r.id, people::OwnerRef::Person(person))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    r.id
}

/// A person with a login (Resident role, no owner grant: ownership comes from the registry);
/// returns the person's id.
async fn owner_account(app: &TestApp, f: &Fixture, username: &str, name: &str) -> i64 {
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
    person
}

async fn post(app: &TestApp, token: &str, building: i64, body: Value) -> Value {
    let (s, v) = app
        .post_json(
            &format!("/api/v1/fund/buildings/{building}/postings"),
            token,
            body,
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v
}

/// A matter-5 (use of the fund) vote on building A1 that both owners approve, closed after
/// its period; returns its id.
async fn approved_fund_vote(app: &TestApp, f: &Fixture, admin: &str, voters: &[&str]) -> i64 {
    let now = redbutler::clock::now_ms();
    let (s, v) = app
        .post_json(
            "/api/v1/votes",
            admin,
            json!({ "scope_node_id": f.building_a1, "title": "使用维修资金更换水泵",
                "matter": "use_fund", "closes_at": now + 3_600_000 }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v["id"].as_i64().unwrap();
    let (s, v) = app
        .post_json(&format!("/api/v1/votes/{id}/open"), admin, json!({}))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    for token in voters {
        let (s, v) = app
            .post_json(
                &format!("/api/v1/votes/{id}/ballots"),
                token,
                json!({ "choice": { "kind": "yes" } }),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }
    redbutler::votes::desk::store::close(&app.db, &f.admin, id, now + 7_200_000)
        .await
        .unwrap();
    id
}

/// The right edge of `css` against the page's width (as in `browser_votes.rs`).
async fn fits_width(b: &Browser, css: &str) -> anyhow::Result<()> {
    let v = b
        .execute(
            "var e = document.querySelector(arguments[0]); if (!e) { return null; } \
             var r = e.getBoundingClientRect(); \
             return [r.left, r.right, document.documentElement.clientWidth];",
            json!([css]),
        )
        .await?;
    let n = |i: usize| v[i].as_f64().unwrap_or(-1.0);
    if v.is_null() || n(0) < 0.0 || n(1) > n(2) + 0.5 {
        anyhow::bail!("{css} does not fit a phone: [left, right, page width] = {v}");
    }
    Ok(())
}

/// Whether the page scrolls sideways (content wider than the screen).
async fn scrolls_sideways(b: &Browser) -> anyhow::Result<bool> {
    let v = b
        .execute(
            "return document.documentElement.scrollWidth > document.documentElement.clientWidth + 1;",
            json!([]),
        )
        .await?;
    Ok(v == json!(true))
}

/// The HTTP status of a GET from the page, with the browser's session cookie.
async fn status_of(b: &Browser, path: &str) -> anyhow::Result<i64> {
    let v = b
        .execute(
            "var x = new XMLHttpRequest(); x.open('GET', arguments[0], false); x.send(); return x.status;",
            json!([path]),
        )
        .await?;
    v.as_i64()
        .ok_or_else(|| anyhow::anyhow!("no status for {path}: {v}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_reads_their_fund_statement_on_a_phone() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let (app, f, base) = serve().await;
    // Building A1: 502 (85.50 m², the fixture's resident), 503 (90.01 m², owner3), 504
    // (73.17 m², the resident again).
    let owner3 = owner_account(&app, &f, "owner3", "赵六").await;
    let r503 = room_of(&app, &f, owner3, "503", 9_001).await;
    let _r504 = room_of(&app, &f, f.person_a1, "504", 7_317).await;
    let admin = app.token(&f, "admin").await;
    let resident = app.token(&f, "resident").await;
    let o3 = app.token(&f, "owner3").await;
    let bld = f.building_a1;

    // First deposits at 123.45 yuan per m²: 90.01 m² × 12,345 fen = 1,111,173.45 → 1,111,173 fen.
    let p = post(
        &app,
        &admin,
        bld,
        json!({ "kind": "first_deposit", "rate_fen_per_m2": 12_345, "memo": "首期归集", "value_date": "2026-03-02" }),
    )
    .await;
    assert!(
        p["lines"]
            .as_array()
            .unwrap()
            .contains(&json!([r503, 1_111_173])),
        "{p}"
    );
    // Interest by balance, then a withdrawal the owners voted for, shared by area.
    let vote = approved_fund_vote(&app, &f, &admin, &[&resident, &o3]).await;
    let w = post(
        &app,
        &admin,
        bld,
        json!({ "kind": "withdrawal", "amount": 100_001, "vote_id": vote,
            "cost_review": "审价报告 2026-031", "memo": "更换水泵" }),
    )
    .await;
    // 85.50 : 90.01 : 73.17 of 100,001 fen — 503 gets its floor, 36,195 fen.
    assert_eq!(
        w["lines"],
        json!([[f.room_a1, -34_382], [r503, -36_195], [_r504, -29_424]]),
        "{w}"
    );
    let balance = 1_111_173 - 36_195; // 10,749.78 yuan

    let statement = format!("/fund/rooms/{r503}");
    within(&b, 90, async {
        b.set_window_size(390, 844).await?;
        login(&b, &base, "owner3", WAIT).await?;
        // From the home page ("my rooms") to the room's statement.
        b.wait_for_text("我的房屋", WAIT).await?;
        let link = b
            .find(&format!("a[href='{statement}']"))
            .await
            .map_err(|e| e.context("the home page links the owner's room statement"))?;
        b.click(&link).await?;
        b.wait_for_text("维修资金余额", WAIT).await?;
        assert!(b.current_url().await?.ends_with(&statement));
        let text = b.body_text().await?;
        assert!(text.contains("城中东路311号 1单元 503"), "{text}");
        assert!(
            text.contains(&format!("维修资金余额 {}", yuan(balance))),
            "the balance to the fen: {text}"
        );
        assert!(text.contains("10749.78"), "{text}");
        // Every entry, with the room's share to the fen and the balance after it.
        for want in [
            "首期归集",
            "11111.73",
            "维修使用",
            "更换水泵",
            "-361.95",
            "2026-03-02",
        ] {
            assert!(text.contains(want), "{want} on the statement: {text}");
        }
        // Only this room's share, never the building's total or another room's.
        assert!(!text.contains("-1000.01"), "{text}");
        assert!(!text.contains("-343.82"), "{text}");
        assert!(!text.contains("10554.98"), "{text}");
        // Two entries, newest first.
        let entries = b.find_all("main ul.list li").await?;
        assert_eq!(entries.len(), 2, "{text}");
        let newest = b.text(&entries[0]).await?;
        assert!(
            newest.contains("维修使用") && newest.contains("10749.78"),
            "{newest}"
        );
        // The page fits the phone: no sideways scrolling, the entries within the width.
        assert!(
            !scrolls_sideways(&b).await?,
            "the statement scrolls sideways"
        );
        fits_width(&b, "main ul.list").await?;
        fits_width(&b, "main ul.list li .num").await?;

        // The resident's room 502 is not owner3's to read.
        let other = format!("/fund/rooms/{}", f.room_a1);
        assert_eq!(status_of(&b, &other).await?, 403);
        b.goto(&format!("{base}{other}")).await?;
        b.wait_for_text("无权访问", WAIT).await?;
        let text = b.body_text().await?;
        assert!(!text.contains("维修资金余额"), "{text}");
        assert!(!text.contains("10554.98"), "{text}");
        Ok(())
    })
    .await;
    b.close().await;
    app.db.close().await;
}

fn yuan(fen: i64) -> String {
    redbutler::property::fund::ledger::yuan(fen)
}
