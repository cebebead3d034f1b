//! The intake channels through their pages: the resident's mobile form with photos (one
//! case however often it is submitted), anonymity only where allowed, places outside one's
//! reach refused, "my cases" asking for a rating; the grid member's quick report (plain form
//! and the offline queue's API calls with the session cookie, CSRF header and idempotency
//! key); the staff's entry of visits and calls with the time they really happened.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use image::codecs::jpeg::JpegEncoder;
use image::{Rgb, RgbImage};
use serde_json::{json, Value};
use sqlx::Row;

use crate::harness::{for_each_db, Fixture, TestApp, PASSWORD};

const BOUNDARY: &str = "----rb-intake-boundary-5c1e";
const CSRF: &str = "cccccccccccccccccccccccccccccccc";

fn jpeg(shade: u8) -> Vec<u8> {
    let img = RgbImage::from_fn(40, 30, |x, y| Rgb([shade, (x * 6) as u8, (y * 8) as u8]));
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, 90)
        .encode_image(&img)
        .unwrap();
    out
}

/// A multipart body: text fields, then photos under `photo`.
fn multipart(fields: &[(&str, &str)], photos: &[Vec<u8>]) -> Vec<u8> {
    let mut b = Vec::new();
    for (k, v) in fields {
        b.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    for (i, p) in photos.iter().enumerate() {
        b.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"p{i}.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n"
            )
            .as_bytes(),
        );
        b.extend_from_slice(p);
        b.extend_from_slice(b"\r\n");
    }
    b.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    b
}

async fn post_multipart(
    app: &TestApp,
    path: &str,
    cookies: &str,
    fields: &[(&str, &str)],
    photos: &[Vec<u8>],
) -> (StatusCode, String, String) {
    let sep = if path.contains('?') { '&' } else { '?' };
    let req = Request::post(format!("{path}{sep}_csrf={CSRF}"))
        .header(header::COOKIE, cookies)
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(Body::from(multipart(fields, photos)))
        .unwrap();
    let (s, h, b) = app.send(req).await;
    let loc = h
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (s, loc, String::from_utf8_lossy(&b).into_owned())
}

/// A JSON POST riding on the browser session, as `quick.js` sends it.
async fn session_json(
    app: &TestApp,
    path: &str,
    cookies: &str,
    csrf: Option<&str>,
    key: &str,
    body: &Value,
) -> (StatusCode, Value) {
    let mut req = Request::post(path)
        .header(header::COOKIE, cookies)
        .header(header::CONTENT_TYPE, "application/json")
        .header("Idempotency-Key", key);
    if let Some(c) = csrf {
        req = req.header("X-CSRF-Token", c);
    }
    let (s, _, b) = app
        .send(req.body(Body::from(body.to_string())).unwrap())
        .await;
    (s, serde_json::from_slice(&b).unwrap_or(Value::Null))
}

async fn login(app: &TestApp, user: &str) -> String {
    let (s, cookies) = app.browser_login(user, PASSWORD).await;
    assert!(s.is_redirection(), "login of {user}: {s}");
    cookies
}

fn field_value(html: &str, name: &str) -> String {
    let at = html
        .find(&format!("name=\"{name}\" value=\""))
        .unwrap_or_else(|| panic!("no field {name} in {html}"));
    let rest = &html[at + name.len() + 15..];
    rest[..rest.find('"').unwrap()].to_string()
}

fn case_id(location: &str) -> i64 {
    location
        .strip_prefix("/cases/")
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not a case address: {location}"))
}

async fn cases(app: &TestApp, f: &Fixture) -> i64 {
    app.count("cases", f.sid).await
}

async fn photos_of(app: &TestApp, f: &Fixture, case: i64) -> (i64, i64) {
    let r = sqlx::query(
        "SELECT CAST(COUNT(*) AS BIGINT), CAST(COALESCE(SUM(public), 0) AS BIGINT) \
         FROM case_attachments WHERE subdistrict_id = $1 AND case_id = $2",
    )
    .bind(f.sid)
    .bind(case)
    .fetch_one(app.db.read())
    .await
    .unwrap();
    (r.get::<i64, _>(0), r.get::<i64, _>(1))
}

async fn case_row(app: &TestApp, f: &Fixture, id: i64) -> sqlx::any::AnyRow {
    sqlx::query(
        "SELECT channel, reporter_user_id, anonymous, occurred_at, contact_name, \
         contact_phone_mask, lat_e6, lng_e6, address, category, node_id \
         FROM cases WHERE subdistrict_id = $1 AND id = $2",
    )
    .bind(f.sid)
    .bind(id)
    .fetch_one(app.db.read())
    .await
    .unwrap()
}

#[tokio::test]
async fn a_resident_files_a_case_with_photos_once_however_often_it_is_sent() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let res = login(&app, "resident").await;
        // Step one: the categories as tiles, then a root's leaves.
        let (s, _, page) = app.browser_get("/report", &res).await;
        assert_eq!(s, StatusCode::OK, "{page}");
        assert!(page.contains("/report?root=env"), "{page}");
        let (_, _, page) = app.browser_get("/report?root=env", &res).await;
        assert!(page.contains("/report?category=env.clutter"), "{page}");
        // The form: their home first, photos from the camera, anonymity offered here.
        let (s, _, page) = app.browser_get("/report?category=env.clutter", &res).await;
        assert_eq!(s, StatusCode::OK, "{page}");
        assert!(
            page.contains("capture=\"environment\"") && page.contains("multiple"),
            "{page}"
        );
        assert!(page.contains("name=\"anonymous\""), "{page}");
        let first_place = page
            .find(&format!("option value=\"{}\"", f.unit_a1))
            .unwrap();
        assert!(
            first_place
                < page
                    .find(&format!("option value=\"{}\"", f.grid_a1))
                    .unwrap()
        );
        assert!(
            !page.contains(&format!("option value=\"{}\"", f.building_a2)),
            "{page}"
        );
        let key = field_value(&page, "key");
        let unit = f.unit_a1.to_string();
        let fields = [
            ("key", key.as_str()),
            ("category", "env.clutter"),
            ("node_id", unit.as_str()),
            ("title", "楼道堆物"),
            ("description", "一楼楼道堆满纸箱,影响通行。"),
            ("lat", "31.123456"),
            ("lng", "121.0654321"),
            ("address", "1单元门口"),
        ];
        let photos = [jpeg(10), jpeg(200)];
        let (s, loc, body) = post_multipart(&app, "/report", &res, &fields, &photos).await;
        assert!(s.is_redirection(), "{s} {body}");
        let id = case_id(&loc);
        // Sent again (a double tap, a resend after a lost answer): the same case, no new photo.
        let (s, loc2, body) = post_multipart(&app, "/report", &res, &fields, &photos).await;
        assert!(s.is_redirection(), "{s} {body}");
        assert_eq!(case_id(&loc2), id);
        assert_eq!(cases(&app, &f).await, 1);
        assert_eq!(photos_of(&app, &f, id).await, (2, 2), "two public photos");
        let row = case_row(&app, &f, id).await;
        assert_eq!(row.get::<String, _>("channel"), "mobile");
        assert_eq!(row.get::<i64, _>("node_id"), f.unit_a1);
        assert_eq!(row.get::<Option<i64>, _>("lat_e6"), Some(31_123_456));
        assert_eq!(row.get::<Option<i64>, _>("lng_e6"), Some(121_065_432));
        assert_eq!(row.get::<String, _>("address"), "1单元门口");
        // The case page shows it to the resident.
        let (s, _, page) = app.browser_get(&loc, &res).await;
        assert_eq!(s, StatusCode::OK);
        assert!(page.contains("楼道堆物"), "{page}");
    })
    .await;
}

#[tokio::test]
async fn a_bad_photo_or_map_point_files_nothing_and_the_form_says_why() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let res = login(&app, "resident").await;
        let unit = f.unit_a1.to_string();
        let fields = [
            ("key", "k-bad-photo"),
            ("category", "env.clutter"),
            ("node_id", unit.as_str()),
            ("title", "楼道堆物"),
            ("description", "纸箱"),
        ];
        let (s, _, page) =
            post_multipart(&app, "/report", &res, &fields, &[b"not an image".to_vec()]).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
        assert!(page.contains("照片需要重新选择"), "{page}");
        let mut bad_point = fields.to_vec();
        bad_point.push(("lat", "91"));
        bad_point.push(("lng", "121"));
        let (s, _, page) = post_multipart(&app, "/report", &res, &bad_point, &[]).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
        assert!(page.contains("90"), "{page}");
        assert_eq!(cases(&app, &f).await, 0);
    })
    .await;
}

#[tokio::test]
async fn anonymity_is_refused_where_the_category_does_not_allow_it() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let res = login(&app, "resident").await;
        // A parking space dispute needs to know who asks: no checkbox, and a forged one fails.
        let (_, _, page) = app
            .browser_get("/report?category=parking.space", &res)
            .await;
        assert!(!page.contains("name=\"anonymous\""), "{page}");
        let unit = f.unit_a1.to_string();
        let mut fields = vec![
            ("key", "k-anon-1"),
            ("category", "parking.space"),
            ("node_id", unit.as_str()),
            ("title", "车位被占"),
            ("description", "我的车位天天被占。"),
            ("anonymous", "1"),
        ];
        let (s, _, page) = post_multipart(&app, "/report", &res, &fields, &[]).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
        assert!(page.contains("该类别不接受匿名反映"), "{page}");
        assert_eq!(cases(&app, &f).await, 0);
        // Clutter may be reported anonymously: no name or phone kept, and the resident
        // still follows it on the case page and under "my cases".
        fields[0] = ("key", "k-anon-2");
        fields[1] = ("category", "env.clutter");
        let (s, loc, page) = post_multipart(&app, "/report", &res, &fields, &[]).await;
        assert!(s.is_redirection(), "{s} {page}");
        let id = case_id(&loc);
        let row = case_row(&app, &f, id).await;
        assert_eq!(row.get::<i64, _>("anonymous"), 1);
        let name: String =
            sqlx::query("SELECT reporter_name FROM cases WHERE subdistrict_id = $1 AND id = $2")
                .bind(f.sid)
                .bind(id)
                .fetch_one(app.db.read())
                .await
                .unwrap()
                .get(0);
        assert_eq!(name, "");
        let (s, _, page) = app.browser_get(&loc, &res).await;
        assert_eq!(s, StatusCode::OK);
        assert!(!page.contains("张三丰"), "no name shown: {page}");
        let (_, _, page) = app.browser_get("/my/cases", &res).await;
        assert!(page.contains(&format!("/cases/{id}")), "{page}");
    })
    .await;
}

#[tokio::test]
async fn a_resident_cannot_report_for_a_building_outside_their_reach() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let res = login(&app, "resident").await;
        let other = f.building_a2.to_string();
        let fields = [
            ("key", "k-reach"),
            ("category", "env.clutter"),
            ("node_id", other.as_str()),
            ("title", "楼道堆物"),
            ("description", "别人家楼里的纸箱。"),
        ];
        let (s, _, page) = post_multipart(&app, "/report", &res, &fields, &[]).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{page}");
        assert_eq!(cases(&app, &f).await, 0);
        // The staff desk is not for residents either.
        let (s, _, _) = app.browser_get("/cases/desk", &res).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    })
    .await;
}

#[tokio::test]
async fn my_cases_follow_a_case_to_its_rating() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let res = login(&app, "resident").await;
        let unit = f.unit_a1.to_string();
        let fields = [
            ("key", "k-my-1"),
            ("category", "env.clutter"),
            ("node_id", unit.as_str()),
            ("title", "楼道堆物"),
            ("description", "纸箱"),
        ];
        let (_, loc, _) = post_multipart(&app, "/report", &res, &fields, &[]).await;
        let id = case_id(&loc);
        let (s, _, page) = app.browser_get("/my/cases", &res).await;
        assert_eq!(s, StatusCode::OK);
        assert!(page.contains("楼道堆物") && page.contains(&format!("/cases/{id}")), "{page}");
        assert!(!page.contains("待评价"), "{page}");
        // Staff register and close it.
        let admin = app.token(&f, "admin").await;
        let path = format!("/api/v1/cases/{id}/actions");
        let (s, v) = app
            .post_json(&path, &admin, json!({ "version": 1, "action": { "kind": "register" } }))
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let (s, v) = app
            .post_json(
                &path,
                &admin,
                json!({ "version": v["version"], "action": { "kind": "close", "reason": "已清理" } }),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let (_, _, page) = app.browser_get("/my/cases", &res).await;
        assert!(page.contains("待评价"), "{page}");
        let (_, _, page) = app.browser_get(&loc, &res).await;
        assert!(page.contains("value=\"evaluate\""), "{page}");
        // Someone else's list does not hold it.
        let gm = login(&app, "gm_a1").await;
        let (_, _, page) = app.browser_get("/my/cases", &gm).await;
        assert!(!page.contains("楼道堆物"), "{page}");
    })
    .await;
}

#[tokio::test]
async fn a_quick_report_replayed_with_the_same_key_makes_one_case() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let gm = login(&app, "gm_a1").await;
        let (s, _, page) = app.browser_get("/quick", &gm).await;
        assert_eq!(s, StatusCode::OK, "{page}");
        // Photo first, the grid from the grant, the CSRF token for the script.
        let photo_at = page.find("name=\"photo\"").expect("photo input");
        assert!(photo_at < page.find("name=\"category\"").unwrap());
        assert!(
            page.contains(&format!("option value=\"{}\"", f.grid_a1)),
            "{page}"
        );
        assert!(page.contains(&format!("data-csrf=\"{CSRF}\"")), "{page}");
        // What quick.js sends after being offline: the same key each time it retries.
        let body = json!({
            "category": "env.garbage", "node_id": f.grid_a1, "title": "垃圾桶满溢",
            "description": "垃圾桶满溢", "attributes": { "garbage_kind": "household" },
            "lat_e6": 31_100_000, "lng_e6": 121_050_000,
        });
        let api = "/api/v1/cases?channel=grid_quick";
        let key = "5f0c3c1e-8a1b-4c53-9d7e-0b8f6c2a9e11";
        let (s, v) = session_json(&app, api, &gm, None, key, &body).await;
        assert_eq!(
            s,
            StatusCode::BAD_REQUEST,
            "a cookie request needs the CSRF header: {v}"
        );
        let (s, first) = session_json(&app, api, &gm, Some(CSRF), key, &body).await;
        assert_eq!(s, StatusCode::CREATED, "{first}");
        let (s, again) = session_json(&app, api, &gm, Some(CSRF), key, &body).await;
        assert_eq!(s, StatusCode::OK, "{again}");
        assert_eq!(first["id"], again["id"]);
        assert_eq!(cases(&app, &f).await, 1);
        let id = first["id"].as_i64().unwrap();
        assert_eq!(
            case_row(&app, &f, id).await.get::<String, _>("channel"),
            "grid_quick"
        );
        // Its photo, sent twice (the answer was lost): stored once.
        for _ in 0..2 {
            let req = Request::post(format!("/api/v1/cases/{id}/attachments"))
                .header(header::COOKIE, &gm)
                .header("X-CSRF-Token", CSRF)
                .header(
                    header::CONTENT_TYPE,
                    format!("multipart/form-data; boundary={BOUNDARY}"),
                )
                .body(Body::from(multipart(&[("public", "1")], &[jpeg(77)])))
                .unwrap();
            let (s, _, b) = app.send(req).await;
            assert_eq!(s, StatusCode::CREATED, "{}", String::from_utf8_lossy(&b));
        }
        assert_eq!(photos_of(&app, &f, id).await.0, 1);
        // The next visit to /quick offers the last category used.
        let (_, _, page) = app.browser_get("/quick", &gm).await;
        assert!(page.contains("value=\"env.garbage\" selected"), "{page}");
    })
    .await;
}

#[tokio::test]
async fn the_quick_form_without_script_files_once_and_asks_the_categorys_questions() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let gm = login(&app, "gm_a1").await;
        let (_, _, page) = app.browser_get("/quick", &gm).await;
        let key = field_value(&page, "key");
        let grid = f.grid_a1.to_string();
        // Garbage asks the kind of waste; leaving it out is refused on that field.
        let mut fields = vec![
            ("key", key.as_str()),
            ("category", "env.garbage"),
            ("node_id", grid.as_str()),
            ("description", "3号楼门口垃圾满溢"),
        ];
        let (s, _, page) = post_multipart(&app, "/quick", &gm, &fields, &[jpeg(5)]).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
        assert_eq!(cases(&app, &f).await, 0);
        // Only the chosen category's answers count; others' fields are ignored.
        fields.push(("q.env.garbage[garbage_kind]", "bulky"));
        fields.push(("q.property.leak[room]", "501"));
        let (s, loc, page) = post_multipart(&app, "/quick", &gm, &fields, &[jpeg(5)]).await;
        assert!(s.is_redirection(), "{s} {page}");
        assert!(loc.starts_with("/quick?sent="), "{loc}");
        let (s, loc2, _) = post_multipart(&app, "/quick", &gm, &fields, &[jpeg(5)]).await;
        assert!(s.is_redirection());
        assert_eq!(loc, loc2, "the same case number");
        assert_eq!(cases(&app, &f).await, 1);
        let id: i64 = sqlx::query("SELECT id FROM cases WHERE subdistrict_id = $1")
            .bind(f.sid)
            .fetch_one(app.db.read())
            .await
            .unwrap()
            .get(0);
        let row = case_row(&app, &f, id).await;
        assert_eq!(row.get::<String, _>("channel"), "grid_quick");
        assert_eq!(photos_of(&app, &f, id).await.0, 1);
        let token = app.token(&f, "gm_a1").await;
        let (_, v) = app.get_json(&format!("/api/v1/cases/{id}"), &token).await;
        assert_eq!(v["attributes"]["garbage_kind"], "bulky", "{v}");
        assert_eq!(v["title"], "3号楼门口垃圾满溢");
    })
    .await;
}

#[tokio::test]
async fn staff_enter_a_visit_with_the_time_it_really_happened() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let admin = login(&app, "admin").await;
        let (s, _, page) = app.browser_get("/cases/desk", &admin).await;
        assert_eq!(s, StatusCode::OK, "{page}");
        for code in ["visit_reception", "visit_home", "visit_counter", "phone"] {
            assert!(
                page.contains(&format!("value=\"{code}\"")),
                "{code}: {page}"
            );
        }
        assert!(
            page.contains(&format!("option value=\"{}\"", f.grid_a1)),
            "{page}"
        );
        let key = field_value(&page, "key");
        let now = redbutler::clock::now_ms();
        let local = |ms: i64| redbutler::cases::intake::rules::local_datetime_value(ms);
        let future = local(now + 3 * 3_600_000);
        let grid = f.grid_v1.to_string();
        let mut fields = vec![
            ("key", key.as_str()),
            ("contact_type", "visit_home"),
            ("occurred_at", future.as_str()),
            ("contact_name", "赵大妈"),
            ("contact_phone", "13900001234"),
            ("category", "env.clutter"),
            ("node_id", grid.as_str()),
            ("title", "村道堆放杂物"),
            ("description", "走访时反映村道边堆放杂物。"),
        ];
        let (s, _, page) = post_multipart(&app, "/cases/desk", &admin, &fields, &[]).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
        assert!(page.contains("发生时间不能晚于现在"), "{page}");
        assert_eq!(cases(&app, &f).await, 0);
        let past = local(now - 2 * 3_600_000);
        fields[2] = ("occurred_at", past.as_str());
        let (s, loc, page) = post_multipart(&app, "/cases/desk", &admin, &fields, &[jpeg(1)]).await;
        assert!(s.is_redirection(), "{s} {page}");
        let id = case_id(&loc);
        let row = case_row(&app, &f, id).await;
        assert_eq!(row.get::<String, _>("channel"), "visit_home");
        let at = row.get::<Option<i64>, _>("occurred_at").unwrap();
        assert!((now - 2 * 3_600_000 - at).abs() < 60_000, "{at}");
        assert_eq!(row.get::<String, _>("contact_name"), "赵大妈");
        assert_eq!(row.get::<String, _>("contact_phone_mask"), "139****1234");
        assert_eq!(photos_of(&app, &f, id).await.0, 1);
        // A contact type that is not one of the four is refused.
        let k2 = "k-desk-2";
        fields[0] = ("key", k2);
        fields[1] = ("contact_type", "web");
        let (s, _, _) = post_multipart(&app, "/cases/desk", &admin, &fields, &[]).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        // A grid member is not desk staff.
        let gm = login(&app, "gm_a1").await;
        let (s, _, _) = app.browser_get("/cases/desk", &gm).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    })
    .await;
}

#[tokio::test]
async fn the_service_worker_and_the_scripts_are_served() {
    for_each_db(|app| async move {
        let req = Request::get("/sw.js").body(Body::empty()).unwrap();
        let (s, h, b) = app.send(req).await;
        assert_eq!(s, StatusCode::OK);
        let ct = h.get(header::CONTENT_TYPE).unwrap().to_str().unwrap();
        assert!(ct.starts_with("text/javascript"), "{ct}");
        assert_eq!(h.get("service-worker-allowed").unwrap(), "/");
        assert!(String::from_utf8_lossy(&b).contains("addEventListener('fetch'"));
        for path in [
            "/static/quick.js",
            "/static/intake.js",
            "/static/intake.css",
        ] {
            let req = Request::get(path).body(Body::empty()).unwrap();
            let (s, _, _) = app.send(req).await;
            assert_eq!(s, StatusCode::OK, "{path}");
        }
    })
    .await;
}

#[tokio::test]
async fn the_intake_pages_speak_english_too() {
    for_each_db(|app| async move {
        app.fixture().await;
        let res = format!("{}; rb_lang=en", login(&app, "resident").await);
        let (_, _, page) = app.browser_get("/report?category=env.clutter", &res).await;
        assert!(
            page.contains("Report a problem") && page.contains("Use my location"),
            "{page}"
        );
        assert!(page.contains("Report anonymously"), "{page}");
        let (_, _, page) = app.browser_get("/my/cases", &res).await;
        assert!(page.contains("My cases"), "{page}");
        let gm = format!("{}; rb_lang=en", login(&app, "gm_a1").await);
        let (_, _, page) = app.browser_get("/quick", &gm).await;
        assert!(
            page.contains("Quick report") && page.contains("{n} waiting to be sent"),
            "{page}"
        );
        let admin = format!("{}; rb_lang=en", login(&app, "admin").await);
        let (_, _, page) = app.browser_get("/cases/desk", &admin).await;
        assert!(
            page.contains("Home visit") && page.contains("When it happened"),
            "{page}"
        );
    })
    .await;
}
