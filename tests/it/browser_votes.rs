//! Owners' votes in a real Chromium (see `browser.rs`): an owner votes on a phone-sized
//! screen and gets a receipt, once; staff enter a paper ballot and a second staff member —
//! never the one who entered it — checks it into the box.

use std::time::Duration;

use axum::http::StatusCode;
use redbutler::access::{self, Actor, Role};
use redbutler::auth::users;
use redbutler::people::store as people;
use redbutler::tree::store as tree;
use serde_json::{json, Value};

use crate::browser::{login, serve, within};
use crate::harness::{at_node, Fixture, TestApp, PASSWORD};
use crate::webdriver::Browser;

const WAIT: Duration = Duration::from_secs(15);

/// A person with a login (Resident role) who owns a new room `number` of unit A1.
async fn owner_with_room(app: &TestApp, f: &Fixture, username: &str, name: &str, number: &str) {
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
    let r = tree::create_room(
        &mut tx,
        f.sid,
        f.unit_a1,
        &tree::NewRoom {
            number: number.into(),
            floor: Some(5),
            registered_area: Some(9_000),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    people::add_owner(&mut tx, f.sid, r.id, people::OwnerRef::Person(person))
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

/// Creates and opens a yes/no vote on building A1 through the API; returns its id.
async fn open_vote(app: &TestApp, f: &Fixture, token: &str) -> i64 {
    let closes_at = redbutler::clock::now_ms() + 3_600_000;
    let (s, v) = app
        .post_json(
            "/api/v1/votes",
            token,
            json!({ "scope_node_id": f.building_a1, "title": "城中东路311号加装电梯",
                "matter": "other_major", "closes_at": closes_at }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v["id"].as_i64().unwrap();
    let (s, v) = app
        .post_json(&format!("/api/v1/votes/{id}/open"), token, json!({}))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "open");
    id
}

async fn vote_json(app: &TestApp, id: i64, token: &str) -> Value {
    let (s, v) = app.get_json(&format!("/api/v1/votes/{id}"), token).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v
}

async fn receipts(app: &TestApp, id: i64, token: &str) -> usize {
    let (s, v) = app
        .get_json(&format!("/api/v1/votes/{id}/receipts"), token)
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["receipts"].as_array().map_or(0, Vec::len)
}

/// Builds a form posting to `action` with this page's CSRF token and the given fields, and
/// submits it — what a second, stale tab would send.
async fn post_from_page(b: &Browser, action: &str, fields: Value) -> anyhow::Result<()> {
    let v = b
        .execute(
            "var token = document.querySelector('input[name=_csrf]'); \
             if (!token) { return false; } \
             var f = document.createElement('form'); f.method = 'post'; f.action = arguments[0]; \
             var add = function (n, v) { var i = document.createElement('input'); \
               i.type = 'hidden'; i.name = n; i.value = v; f.appendChild(i); }; \
             add('_csrf', token.value); \
             var extra = arguments[1]; \
             Object.keys(extra).forEach(function (k) { add(k, extra[k]); }); \
             document.body.appendChild(f); f.submit(); return true;",
            json!([action, fields]),
        )
        .await?;
    anyhow::ensure!(
        v == json!(true),
        "no CSRF token on the page to post {action}"
    );
    Ok(())
}

/// The right edge of `css` against the page's width, to see it fits a phone screen.
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_votes_on_a_phone_and_gets_one_receipt() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let (app, f, base) = serve().await;
    owner_with_room(&app, &f, "owner3", "赵六", "503").await;
    let admin = app.token(&f, "admin").await;
    let id = open_vote(&app, &f, &admin).await;
    let page = format!("{base}/votes/{id}");
    let form = format!("form[action='/votes/{id}/ballot']");
    within(&b, 90, async {
        b.set_window_size(390, 844).await?;
        login(&b, &base, "owner3", WAIT).await?;
        b.goto(&page).await?;
        b.wait_for_text("城中东路311号加装电梯", WAIT).await?;
        let text = b.body_text().await?;
        for choice in ["同意", "反对", "弃权", "提交选票"] {
            assert!(text.contains(choice), "the ballot offers {choice}: {text}");
        }
        // Keep the form as it stands, as a second tab opened now would.
        let stale = b
            .execute(
                "return document.querySelector(arguments[0]).outerHTML;",
                json!([form]),
            )
            .await?;
        let yes = b
            .find(&format!("{form} input[name=choice][value=yes]"))
            .await?;
        b.click(&yes).await?;
        let submit = b.find(&format!("{form} button[type=submit]")).await?;
        fits_width(&b, &format!("{form} button[type=submit]")).await?;
        b.click(&submit).await?;
        b.wait_for_text("您的回执码", WAIT).await?;
        let code = b.text(&b.find("p.success strong").await?).await?;
        assert_eq!(code.trim().len(), 12, "a receipt code: {code:?}");
        let url = b.current_url().await?;
        assert!(url.contains(&format!("receipt={}", code.trim())), "{url}");
        // The page no longer offers a ballot.
        b.goto(&page).await?;
        b.wait_for_text("您已投票", WAIT).await?;
        assert!(b.find_all(&form).await?.is_empty(), "no second ballot form");

        // The stale tab sends a second ballot: refused, with the reason, not a 500.
        b.execute(
            "var d = document.createElement('div'); d.innerHTML = arguments[0]; \
             document.querySelector('main, body').appendChild(d);",
            json!([stale]),
        )
        .await?;
        let no = b
            .find(&format!("{form} input[name=choice][value=no]"))
            .await?;
        b.click(&no).await?;
        let submit = b.find(&format!("{form} button[type=submit]")).await?;
        b.click(&submit).await?;
        b.wait_for_text("已经投过票", WAIT).await?;
        let text = b.body_text().await?;
        assert!(
            !text.contains("Internal"),
            "a refusal, not a server error: {text}"
        );

        // The receipts list has the code.
        b.goto(&format!("{page}/receipts")).await?;
        b.wait_for_text(code.trim(), WAIT).await?;
        Ok(())
    })
    .await;
    b.close().await;
    let v = vote_json(&app, id, &admin).await;
    assert_eq!(v["tracker"]["participating_owners"], 1, "{v}");
    assert_eq!(v["tracker"]["ballots"], 1, "{v}");
    assert_eq!(receipts(&app, id, &admin).await, 1);
    app.db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_enter_a_paper_ballot_and_another_staff_member_checks_it() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let (app, f, base) = serve().await;
    owner_with_room(&app, &f, "owner3", "赵六", "503").await;
    app.add_user_named(
        &f,
        "cs_a",
        "章浜居委",
        Role::CommunityStaff,
        at_node(f.community_a),
    )
    .await;
    let admin = app.token(&f, "admin").await;
    let id = open_vote(&app, &f, &admin).await;
    // The fixture's resident (owner of 502) hands in a paper ballot.
    let key = format!("p:{}", f.person_a1);
    let paper = format!("{base}/votes/{id}/paper");
    let before = receipts(&app, id, &admin).await;
    within(&b, 90, async {
        login(&b, &base, "cs_a", WAIT).await?;
        b.goto(&paper).await?;
        b.wait_for_text("录入纸质选票", WAIT).await?;
        let owner = b
            .find(&format!("select[name=voter_key] option[value='{key}']"))
            .await?;
        b.click(&owner).await?;
        let yes = b.find("input[name=choice][value=yes]").await?;
        b.click(&yes).await?;
        let submit = b
            .find(&format!(
                "form[action^='/votes/{id}/paper'] button[type=submit]"
            ))
            .await?;
        b.click(&submit).await?;
        b.wait_for_text("须由另一名工作人员复核", WAIT).await?;
        let text = b.body_text().await?;
        assert!(
            text.contains("同意 / yes") && text.contains("章浜居委"),
            "{text}"
        );
        // The one who entered it has no confirm button; posting the confirm anyway is refused.
        let confirm = "form[action$='/confirm']";
        assert!(
            b.find_all(confirm).await?.is_empty(),
            "no confirm for the entrant"
        );
        Ok(())
    })
    .await;
    let (s, list) = app
        .get_json(&format!("/api/v1/votes/{id}/paper"), &admin)
        .await;
    assert_eq!(s, StatusCode::OK, "{list}");
    let pid = list["paper_ballots"][0]["id"].as_i64().unwrap();
    assert_eq!(list["paper_ballots"][0]["status"], "pending", "{list}");
    let v = vote_json(&app, id, &admin).await;
    assert_eq!(
        v["tracker"]["ballots"], 0,
        "pending paper is not in the box: {v}"
    );

    within(&b, 90, async {
        post_from_page(&b, &format!("/votes/{id}/paper/{pid}/confirm"), json!({})).await?;
        b.wait_for_text("录入人不能复核自己录入的选票", WAIT)
            .await?;
        let text = b.body_text().await?;
        assert!(
            !text.contains("Internal"),
            "a refusal, not a server error: {text}"
        );

        // Staff B, in a fresh session, checks it.
        b.goto(&paper).await?;
        let out = b.find("form.logout button[type=submit]").await?;
        b.click(&out).await?;
        b.goto(&paper).await?;
        b.wait_for("input[name=username]", WAIT).await?;
        login(&b, &base, "admin", WAIT).await?;
        b.goto(&paper).await?;
        b.wait_for_text("复核无误,计入票箱", WAIT).await?;
        let confirm = b
            .find(&format!(
                "form[action='/votes/{id}/paper/{pid}/confirm'] button[type=submit]"
            ))
            .await?;
        b.click(&confirm).await?;
        b.wait_for_text("已计入票箱", WAIT).await?;
        Ok(())
    })
    .await;
    b.close().await;
    let v = vote_json(&app, id, &admin).await;
    assert_eq!(v["tracker"]["ballots"], 1, "{v}");
    assert_eq!(v["tracker"]["participating_owners"], 1, "{v}");
    assert_eq!(receipts(&app, id, &admin).await, before + 1);
    let (_, list) = app
        .get_json(&format!("/api/v1/votes/{id}/paper"), &admin)
        .await;
    assert_eq!(list["paper_ballots"][0]["status"], "confirmed", "{list}");
    app.db.close().await;
}
