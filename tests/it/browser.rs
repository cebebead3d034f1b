//! Real-browser tests: the whole application on a real socket, driven by headless Chromium
//! through chromedriver (see `webdriver.rs`). They run on SQLite only: the pages are the
//! same on both engines, which the in-process tests cover.

use std::future::IntoFuture;
use std::time::Duration;

use redbutler::pii::Seal;
use redbutler::storage::{Db, DbOptions};
use redbutler::web::{self, AppState};

use crate::harness::{at_node, Fixture, TestApp, KEY, PASSWORD};
use crate::webdriver::Browser;

const WAIT: Duration = Duration::from_secs(10);

/// A fresh SQLite app with the fixture, served on 127.0.0.1 on a free port.
pub(crate) async fn serve() -> (TestApp, Fixture, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("browser.db");
    let db = Db::open(path.to_str().unwrap(), &DbOptions::default())
        .await
        .expect("open sqlite");
    let state = AppState::new(db.clone(), Seal::from_key(&KEY), false);
    let router = web::router(state.clone());
    let app = TestApp {
        db,
        state,
        router,
        backend: "sqlite",
        dir,
    };
    let f = app.fixture().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(axum::serve(listener, app.router.clone()).into_future());
    (app, f, base)
}

/// Logs in through the login form and waits (up to `wait` a step) for the home page.
pub(crate) async fn login(
    b: &Browser,
    base: &str,
    username: &str,
    wait: Duration,
) -> anyhow::Result<()> {
    b.goto(&format!("{base}/login")).await?;
    let user = b.wait_for("input[name=username]", wait).await?;
    b.send_keys(&user, username).await?;
    let pw = b.find("input[name=password]").await?;
    b.send_keys(&pw, PASSWORD).await?;
    let submit = b.find("form[action='/login'] button[type=submit]").await?;
    b.click(&submit).await?;
    // The home page shows who is logged in, next to the log-out button.
    b.wait_for(".who", wait).await?;
    let url = b.current_url().await?;
    assert!(!url.contains("/login"), "still on the login page: {url}");
    Ok(())
}

/// Clicks the link whose text contains `text`, then waits for `expect` on the next page.
async fn follow(b: &Browser, text: &str, expect: &str) -> anyhow::Result<()> {
    let link = b.link(text).await?;
    b.click(&link).await?;
    b.wait_for_text(expect, WAIT).await
}

/// Runs `f`, failing with the page's address and text if it fails or takes over `secs` s.
pub(crate) async fn within<F: std::future::Future<Output = anyhow::Result<()>>>(
    b: &Browser,
    secs: u64,
    f: F,
) {
    match tokio::time::timeout(Duration::from_secs(secs), f).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            let url = b.current_url().await.unwrap_or_default();
            let text = b.body_text().await.unwrap_or_default();
            panic!("{e:#}\nat {url}; the page reads:\n{text}");
        }
        Err(_) => {
            let url = b.current_url().await.unwrap_or_default();
            panic!("the browser test took longer than {secs} s (at {url})");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_logs_in_and_walks_the_tree_down_to_a_room() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let (app, f, base) = serve().await;
    within(&b, 30, async {
        login(&b, &base, "admin", WAIT).await?;
        let text = b.body_text().await?;
        assert!(text.contains("admin"), "home page names the user: {text}");

        b.goto(&format!("{base}/tree")).await?;
        b.wait_for_text("章浜居民区", WAIT).await?;
        follow(&b, "章浜居民区", "章浜一网格").await?;
        assert!(b
            .current_url()
            .await?
            .ends_with(&format!("/tree/{}", f.community_a)));
        follow(&b, "章浜一网格", "城中东路311号").await?;
        assert!(b
            .current_url()
            .await?
            .ends_with(&format!("/tree/{}", f.grid_a1)));
        follow(&b, "城中东路311号", "1单元").await?;
        assert!(b
            .current_url()
            .await?
            .ends_with(&format!("/tree/{}", f.building_a1)));
        follow(&b, "1单元", "502").await?;
        // The unit lists its rooms as links to the room pages.
        let room = b.find_with_text("a[href^='/rooms/']", "502").await?;
        let href = b.attribute(&room, "href").await?.unwrap_or_default();
        assert!(href.ends_with(&format!("/rooms/{}", f.room_a1)), "{href}");
        Ok(())
    })
    .await;
    b.close().await;
    app.db.close().await;
}

/// Opens the person page as gm_a1 (in Chinese), checks the phone is masked.
async fn open_person(b: &Browser, base: &str, f: &Fixture) -> anyhow::Result<()> {
    login(b, base, "gm_a1", WAIT).await?;
    b.goto(&format!("{base}/people/{}", f.person_a1)).await?;
    b.wait_for_text("138****1234", WAIT).await?;
    let text = b.body_text().await?;
    assert!(
        !text.contains("13812341234"),
        "the phone is masked at first"
    );
    assert!(text.contains("手机号"), "Chinese by default: {text}");
    Ok(())
}

/// Fills the reason of the phone's "show in full" form and submits it.
async fn reveal_phone(b: &Browser, reason: &str) -> anyhow::Result<()> {
    let form = b
        .find_xpath(
            "//form[.//*[@name='reason'] and (.//input[@name='field' and @value='phone'] \
             or .//button[@name='field' and @value='phone'] or contains(@action, 'phone'))]",
        )
        .await?;
    let input = b
        .find_in(&form, "[name=reason]")
        .await?
        .into_iter()
        .next()
        .expect("a reason field");
    b.send_keys(&input, reason).await?;
    let submit = b
        .find_in(
            &form,
            "button[type=submit], button:not([type]), input[type=submit]",
        )
        .await?
        .into_iter()
        .next()
        .expect("a submit button");
    b.click(&submit).await?;
    b.wait_for_text("13812341234", WAIT).await
}

/// Clicks the language switch and checks the page came back in English.
async fn switch_to_english(b: &Browser, f: &Fixture) -> anyhow::Result<()> {
    let english = b.link("English").await?;
    b.click(&english).await?;
    b.wait_for_text("Log out", WAIT).await?;
    let html = b.find("html").await?;
    assert_eq!(b.attribute(&html, "lang").await?.as_deref(), Some("en"));
    let url = b.current_url().await?;
    assert!(
        url.contains(&format!("/people/{}", f.person_a1)),
        "back on the person's page: {url}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grid_member_opens_a_phone_number_with_a_reason_and_the_audit_log_has_it() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let (app, f, base) = serve().await;
    let reason = "回访居民诉求";
    within(&b, 30, async {
        open_person(&b, &base, &f).await?;
        switch_to_english(&b, &f).await?;
        let text = b.body_text().await?;
        assert!(
            text.contains("Phone") && text.contains("138****1234"),
            "{text}"
        );
        reveal_phone(&b, reason).await?;
        assert!(b.body_text().await?.contains("Phone"), "still in English");
        Ok(())
    })
    .await;
    b.close().await;

    // The admin sees the opening, with its reason, in the audit log.
    let token = app.token(&f, "admin").await;
    let (s, v) = app
        .get_json("/api/v1/audit?action=pii.reveal", &token)
        .await;
    assert_eq!(s, axum::http::StatusCode::OK, "{v}");
    let entries = v["entries"].as_array().expect("entries");
    assert!(
        entries.iter().any(|e| e["action"] == "pii.reveal"
            && e["subject_id"] == f.person_a1
            && e["reason"] == reason
            && e["actor"].as_str().unwrap_or_default().contains("gm_a1")),
        "{v}"
    );
    app.db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switching_the_language_after_opening_a_field_lands_on_the_person_page() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let (app, f, base) = serve().await;
    within(&b, 30, async {
        open_person(&b, &base, &f).await?;
        reveal_phone(&b, "核对联系方式").await?;
        // The page of the opening answered a POST; its language link must not lead to a
        // "method not allowed" but back to the person (masked again).
        switch_to_english(&b, &f).await?;
        let text = b.body_text().await?;
        assert!(text.contains("138****1234"), "{text}");
        Ok(())
    })
    .await;
    b.close().await;
    app.db.close().await;
}

/// Clicks the submit button of the case page's form for `action` (after filling its `text`
/// when given), then waits for `expect` on the page that follows.
async fn case_action(
    b: &Browser,
    action: &str,
    text: Option<&str>,
    expect: &str,
) -> anyhow::Result<()> {
    let form = format!("//form[.//input[@name='action' and @value='{action}']]");
    if let Some(t) = text {
        let area = b
            .find_xpath(&format!("{form}//textarea[@name='text']"))
            .await?;
        b.send_keys(&area, t).await?;
    }
    let button = b
        .find_xpath(&format!("{form}//button[@type='submit']"))
        .await?;
    b.click(&button).await?;
    b.wait_for_text(expect, WAIT).await
}

async fn logout(b: &Browser, base: &str) -> anyhow::Result<()> {
    let button = b.find("form.logout button[type=submit]").await?;
    b.click(&button).await?;
    // Logged out: a page that needs a session sends the browser to the login form.
    b.goto(&format!("{base}/cases")).await?;
    b.wait_for("input[name=username]", WAIT).await.map(|_| ())
}

/// The desk's side of the loop in a real browser: the operations centre registers a grid
/// member's report and dispatches it to the suggested unit, the community's staff make first
/// contact and report it handled, the grid member verifies on site, and the case is closed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_register_dispatch_handle_and_close_a_case_in_the_browser() {
    use redbutler::access::Role;
    let Some(b) = Browser::start().await else {
        return;
    };
    let (app, f, base) = serve().await;
    // A community staff member of community A.
    app.add_user_named(
        &f,
        "cs_a",
        "章浜居委",
        Role::CommunityStaff,
        at_node(f.community_a),
    )
    .await;
    let token = app.token(&f, "gm_a1").await;
    let (s, v) = app
        .post_json(
            "/api/v1/cases",
            &token,
            serde_json::json!({
                "category": "env.clutter", "node_id": f.building_a1, "title": "楼道堆物",
                "description": "楼道里堆满了纸箱和旧家具,影响通行。",
            }),
        )
        .await;
    assert_eq!(s, axum::http::StatusCode::CREATED, "{v}");
    let id = v["id"].as_i64().unwrap();
    let page = format!("{base}/cases/{id}");

    within(&b, 30, async {
        login(&b, &base, "admin", WAIT).await?;
        b.goto(&page).await?;
        b.wait_for_text("待立案", WAIT).await?;
        case_action(&b, "register", None, "已立案").await?;
        // The suggested unit is pre-selected: the community committee for clutter.
        let chosen = b
            .find_xpath("//form[.//input[@name='action' and @value='dispatch']]//select[@name='unit_id']/option[@selected]")
            .await?;
        let label = b.text(&chosen).await?;
        assert!(label.contains("章浜居民区"), "suggested: {label}");
        case_action(&b, "dispatch", None, "已派单").await?;
        logout(&b, &base).await?;

        login(&b, &base, "cs_a", WAIT).await?;
        b.goto(&page).await?;
        b.wait_for_text("已派单", WAIT).await?;
        case_action(&b, "first_contact", None, "处置中").await?;
        case_action(&b, "report_handled", Some("已联系物业清理楼道堆物。"), "待核查").await?;
        logout(&b, &base).await?;

        login(&b, &base, "gm_a1", WAIT).await?;
        b.goto(&page).await?;
        b.wait_for_text("待核查", WAIT).await?;
        case_action(&b, "verify", None, "已结案").await?;
        Ok(())
    })
    .await;
    let (_, v) = app.get_json(&format!("/api/v1/cases/{id}"), &token).await;
    assert_eq!(v["state"], "closed", "{v}");
    b.close().await;
    app.db.close().await;
}
