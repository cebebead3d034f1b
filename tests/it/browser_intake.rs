//! The intake channels in a real Chromium (see `browser.rs`): a resident on a phone-sized
//! window files a case with a photo and rates it once staff closed it; a grid member reports
//! with the network off, sees the report wait, and sees it sent — once — when the network is
//! back; a double submit makes one case.

use std::time::Duration;

use image::codecs::jpeg::JpegEncoder;
use image::{Rgb, RgbImage};
use serde_json::json;
use sqlx::Row;

use crate::browser::{login, serve, within};
use crate::harness::{Fixture, TestApp};
use crate::webdriver::Browser;

const WAIT: Duration = Duration::from_secs(15);

/// A small JPEG written to the app's folder, for the file input.
fn photo(app: &TestApp, name: &str, shade: u8) -> String {
    let img = RgbImage::from_fn(64, 48, |x, y| Rgb([shade, (x * 4) as u8, (y * 5) as u8]));
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, 90)
        .encode_image(&img)
        .unwrap();
    let path = app.dir.path().join(name);
    std::fs::write(&path, out).unwrap();
    path.to_string_lossy().into_owned()
}

async fn cases(app: &TestApp, f: &Fixture) -> i64 {
    app.count("cases", f.sid).await
}

async fn photos(app: &TestApp, f: &Fixture) -> i64 {
    app.count("case_attachments", f.sid).await
}

/// Saves a screenshot into the folder `RB_SCREENSHOTS` names, when it is set (to look at the
/// pages as a phone shows them).
async fn shot(b: &Browser, name: &str) {
    if let Some(dir) = std::env::var_os("RB_SCREENSHOTS") {
        if let Ok(png) = b.screenshot().await {
            let _ = std::fs::write(std::path::Path::new(&dir).join(format!("{name}.png")), png);
        }
    }
}

/// Waits until `check` holds, polling.
async fn until<F, Fut>(what: &str, check: F) -> anyhow::Result<()>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<bool>>,
{
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        if check().await? {
            return Ok(());
        }
        if std::time::Instant::now() > deadline {
            anyhow::bail!("timed out waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The button's right edge and the page's width, to see it fits a phone screen.
async fn fits_width(b: &Browser, css: &str) -> anyhow::Result<()> {
    let v = b
        .execute(
            "var e = document.querySelector(arguments[0]); if (!e) { return null; } \
             var r = e.getBoundingClientRect(); \
             return [r.left, r.right, document.documentElement.clientWidth, r.height];",
            json!([css]),
        )
        .await?;
    let n = |i: usize| v[i].as_f64().unwrap_or(-1.0);
    if v.is_null() || n(0) < 0.0 || n(1) > n(2) + 0.5 || n(3) < 36.0 {
        anyhow::bail!("{css} does not fit a phone: [left, right, page width, height] = {v}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resident_files_a_case_with_a_photo_on_a_phone_and_rates_it() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let (app, f, base) = serve().await;
    let picture = photo(&app, "lamp.jpg", 90);
    within(&b, 90, async {
        b.set_window_size(390, 844).await?;
        login(&b, &base, "resident", WAIT).await?;
        b.goto(&format!("{base}/report")).await?;
        // Two taps on big tiles: the root, then the category.
        let tile = b.find_with_text("a.tile", "环境卫生").await?;
        b.click(&tile).await?;
        let tile = b
            .wait_for("a.tile[href='/report?category=env.clutter']", WAIT)
            .await?;
        b.click(&tile).await?;
        let title = b.wait_for("input[name=title]", WAIT).await?;
        shot(&b, "report-form").await;
        b.send_keys(&title, "楼道堆物").await?;
        let d = b.find("textarea[name=description]").await?;
        b.send_keys(&d, "一楼楼道堆满纸箱,影响通行。").await?;
        let file = b.find("input[type=file][name=photo]").await?;
        b.send_keys(&file, &picture).await?;
        fits_width(&b, "form.intake button[type=submit]").await?;
        let submit = b.find("form.intake button[type=submit]").await?;
        b.click(&submit).await?;
        b.wait_for_text("待立案", WAIT).await?;
        shot(&b, "report-filed").await;
        let url = b.current_url().await?;
        assert!(url.contains("/cases/"), "{url}");
        Ok(())
    })
    .await;
    assert_eq!(cases(&app, &f).await, 1);
    assert_eq!(photos(&app, &f).await, 1);
    let (id, channel): (i64, String) = {
        let r = sqlx::query("SELECT id, channel FROM cases WHERE subdistrict_id = $1")
            .bind(f.sid)
            .fetch_one(app.db.read())
            .await
            .unwrap();
        (r.get(0), r.get(1))
    };
    assert_eq!(channel, "mobile");

    // Staff register and close it through the API.
    let admin = app.token(&f, "admin").await;
    let path = format!("/api/v1/cases/{id}/actions");
    let (s, v) = app
        .post_json(
            &path,
            &admin,
            json!({ "version": 1, "action": { "kind": "register" } }),
        )
        .await;
    assert!(s.is_success(), "{v}");
    let (s, v) = app
        .post_json(
            &path,
            &admin,
            json!({ "version": v["version"], "action": { "kind": "close", "reason": "已清理完毕" } }),
        )
        .await;
    assert!(s.is_success(), "{v}");

    within(&b, 90, async {
        // "My cases" asks for the rating; the case page has the form, usable on the phone.
        b.goto(&format!("{base}/my/cases")).await?;
        b.wait_for_text("待评价", WAIT).await?;
        shot(&b, "my-cases").await;
        let link = b.find_with_text("a.tag.rate", "待评价").await?;
        b.click(&link).await?;
        let form = b
            .wait_for("form.action input[name=action][value=evaluate]", WAIT)
            .await?;
        let _ = form;
        let sel = "form.action:has(input[value=evaluate]) button[type=submit]";
        fits_width(&b, sel).await?;
        let four = b
            .find("form.action:has(input[value=evaluate]) select[name=rating] option[value='4']")
            .await?;
        b.click(&four).await?;
        let button = b.find(sel).await?;
        b.click(&button).await?;
        until("the rating to be stored", || async {
            let row = sqlx::query(
                "SELECT lifecycle_json FROM cases WHERE subdistrict_id = $1 AND id = $2",
            )
            .bind(f.sid)
            .bind(id)
            .fetch_one(app.db.read())
            .await?;
            let v: serde_json::Value = serde_json::from_str(&row.get::<String, _>(0))?;
            Ok(v["rating"] == json!(4))
        })
        .await?;
        Ok(())
    })
    .await;
    b.close().await;
    app.db.close().await;
}

async fn queue_text(b: &Browser) -> anyhow::Result<String> {
    let v = b
        .execute(
            "var q = document.querySelector('[data-queue]'); \
             return q && !q.hidden ? q.querySelector('[data-queue-count]').textContent : '';",
            json!([]),
        )
        .await?;
    Ok(v.as_str().unwrap_or_default().to_string())
}

async fn fill_quick(b: &Browser, text: &str, picture: Option<&str>) -> anyhow::Result<()> {
    let option = b
        .find("select[name=category] option[value='env.clutter']")
        .await?;
    b.click(&option).await?;
    let d = b.find("input[name=description]").await?;
    b.clear(&d).await?;
    b.send_keys(&d, text).await?;
    if let Some(p) = picture {
        let file = b.find("input[type=file][name=photo]").await?;
        b.send_keys(&file, p).await?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grid_member_reports_offline_and_it_is_sent_once_back_online() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let (app, f, base) = serve().await;
    let picture = photo(&app, "bins.jpg", 30);
    within(&b, 90, async {
        b.set_window_size(390, 844).await?;
        login(&b, &base, "gm_a1", WAIT).await?;
        b.goto(&format!("{base}/quick")).await?;
        b.wait_for("form[data-quick]", WAIT).await?;
        // The service worker is installed and keeps the page.
        until("the service worker", || async {
            let v = b
                .execute(
                    "return !!(navigator.serviceWorker && navigator.serviceWorker.controller) || \
                     (window.__swReady = window.__swReady || (navigator.serviceWorker ? \
                      navigator.serviceWorker.getRegistration().then(function (r) { window.__sw = !!(r && r.active); }) : null), !!window.__sw);",
                    json!([]),
                )
                .await?;
            Ok(v == json!(true))
        })
        .await?;

        shot(&b, "quick-page").await;
        b.set_offline(true).await?;
        fill_quick(&b, "3号楼门口纸箱堆积", Some(&picture)).await?;
        let submit = b.find("form[data-quick] button[type=submit]").await?;
        b.click(&submit).await?;
        until("the report to wait in the queue", || async {
            Ok(queue_text(&b).await? == "待发送 1 条")
        })
        .await?;
        assert_eq!(cases(&app, &f).await, 0, "nothing reached the server offline");
        shot(&b, "quick-queued").await;

        // Still offline, the page opens again from the service worker, the queue kept.
        b.goto(&format!("{base}/quick")).await?;
        b.wait_for("form[data-quick]", WAIT).await?;
        until("the queue after reloading", || async {
            Ok(queue_text(&b).await? == "待发送 1 条")
        })
        .await?;

        b.set_offline(false).await?;
        until("the report to be sent", || async {
            Ok(queue_text(&b).await?.is_empty() && cases(&app, &f).await == 1)
        })
        .await?;
        b.wait_for_text("已发送 1 条", WAIT).await?;
        shot(&b, "quick-sent").await;
        until("its photo", || async { Ok(photos(&app, &f).await == 1) }).await?;

        // Two submits in a row (a double tap) make one report.
        fill_quick(&b, "东侧绿化带有建筑垃圾", None).await?;
        b.execute(
            "var f = document.querySelector('form[data-quick]'); f.requestSubmit(); f.requestSubmit();",
            json!([]),
        )
        .await?;
        until("the second report to be sent", || async {
            Ok(queue_text(&b).await?.is_empty() && cases(&app, &f).await == 2)
        })
        .await?;
        tokio::time::sleep(Duration::from_millis(500)).await;
        Ok(())
    })
    .await;
    assert_eq!(cases(&app, &f).await, 2, "one case per report");
    let channels: Vec<String> = sqlx::query("SELECT channel FROM cases WHERE subdistrict_id = $1")
        .bind(f.sid)
        .fetch_all(app.db.read())
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(channels.iter().all(|c| c == "grid_quick"), "{channels:?}");
    b.close().await;
    app.db.close().await;
}
