//! Case attachments: photos uploaded through the API and the case page, their public copies
//! free of EXIF/GPS, the originals kept for staff, access by the case's readers, refusals
//! with the field named, and the same photo twice stored once.

use axum::body::Body;
use axum::http::{header, HeaderMap, Request, StatusCode};
use image::codecs::jpeg::JpegEncoder;
use image::{Rgb, RgbImage};
use redbutler::access::Role;
use redbutler::cases::attachments;
use serde_json::{json, Value};
use sqlx::Row;

use crate::harness::{at_node, for_each_db, TestApp, PASSWORD};

const BOUNDARY: &str = "----rb-test-boundary-7d3f";
/// Bytes of the GPS latitude written into the test photo (31° 9' 12.34").
const LAT: [u32; 6] = [31, 1, 9, 1, 1234, 100];

fn latitude_bytes() -> Vec<u8> {
    LAT.iter().flat_map(|v| v.to_be_bytes()).collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn plain_jpeg(w: u32, h: u32, shade: u8) -> Vec<u8> {
    let img = RgbImage::from_fn(w, h, |x, y| Rgb([shade, (x % 256) as u8, (y % 256) as u8]));
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, 90)
        .encode_image(&img)
        .unwrap();
    out
}

/// A JPEG with an EXIF block holding a GPS latitude (as a phone writes it).
fn jpeg_with_gps(shade: u8) -> Vec<u8> {
    let mut t: Vec<u8> = b"MM\0*".to_vec();
    t.extend_from_slice(&8u32.to_be_bytes());
    let entry = |t: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: [u8; 4]| {
        t.extend_from_slice(&tag.to_be_bytes());
        t.extend_from_slice(&kind.to_be_bytes());
        t.extend_from_slice(&count.to_be_bytes());
        t.extend_from_slice(&value);
    };
    t.extend_from_slice(&1u16.to_be_bytes());
    entry(&mut t, 0x8825, 4, 1, 26u32.to_be_bytes());
    t.extend_from_slice(&0u32.to_be_bytes());
    t.extend_from_slice(&2u16.to_be_bytes());
    entry(&mut t, 0x0001, 2, 2, *b"N\0\0\0");
    entry(&mut t, 0x0002, 5, 3, 56u32.to_be_bytes());
    t.extend_from_slice(&0u32.to_be_bytes());
    assert_eq!(t.len(), 56);
    for v in LAT {
        t.extend_from_slice(&v.to_be_bytes());
    }
    let mut block = b"Exif\0\0".to_vec();
    block.extend_from_slice(&t);
    let plain = plain_jpeg(120, 80, shade);
    let mut out = plain[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((block.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&block);
    out.extend_from_slice(&plain[2..]);
    out
}

/// A multipart body: each photo as a `photo` part, then the text fields.
fn multipart(photos: &[&[u8]], fields: &[(&str, &str)]) -> Vec<u8> {
    let mut b = Vec::new();
    for (i, p) in photos.iter().enumerate() {
        b.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"photo{i}.jpg\"\r\n\
                 Content-Type: image/jpeg\r\n\r\n"
            )
            .as_bytes(),
        );
        b.extend_from_slice(p);
        b.extend_from_slice(b"\r\n");
    }
    for (k, v) in fields {
        b.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    b.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    b
}

fn multipart_type() -> String {
    format!("multipart/form-data; boundary={BOUNDARY}")
}

async fn api_upload(
    app: &TestApp,
    token: &str,
    case_id: i64,
    photos: &[&[u8]],
    fields: &[(&str, &str)],
) -> (StatusCode, Value) {
    let req = Request::post(format!("/api/v1/cases/{case_id}/attachments"))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, multipart_type())
        .header(header::ACCEPT_LANGUAGE, "en")
        .body(Body::from(multipart(photos, fields)))
        .unwrap();
    let (s, _, b) = app.send(req).await;
    (s, serde_json::from_slice(&b).unwrap_or(Value::Null))
}

async fn get_bytes(app: &TestApp, path: &str, token: &str) -> (StatusCode, HeaderMap, Vec<u8>) {
    let req = Request::get(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    app.send(req).await
}

async fn open_case(app: &TestApp, token: &str, node_id: i64) -> i64 {
    let (s, v) = app
        .post_json(
            "/api/v1/cases",
            token,
            json!({ "category": "env.clutter", "node_id": node_id, "title": "楼道堆物",
                    "description": "楼道里堆满了纸箱和旧家具,影响通行。" }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v["id"].as_i64().unwrap()
}

async fn count_attachments(app: &TestApp, sid: i64) -> i64 {
    app.count("case_attachments", sid).await
}

async fn count_audit(app: &TestApp, sid: i64, action: &str) -> i64 {
    sqlx::query(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log WHERE subdistrict_id = $1 AND action = $2",
    )
    .bind(sid)
    .bind(action)
    .fetch_one(app.db.read())
    .await
    .unwrap()
    .get(0)
}

#[tokio::test]
async fn an_api_upload_keeps_the_original_for_staff_and_shows_the_public_no_gps() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let admin = app.token(&f, "admin").await;
        let resident = app.token(&f, "resident").await;
        let case_id = open_case(&app, &resident, f.grid_a1).await;
        let photo = jpeg_with_gps(10);
        assert!(contains(&photo, &latitude_bytes()));
        let (s, v) = api_upload(&app, &admin, case_id, &[&photo], &[("public", "1")]).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let list = v.as_array().unwrap();
        assert_eq!(list.len(), 1);
        let a = &list[0];
        assert_eq!(a["content_type"], "image/jpeg");
        assert_eq!(a["public"], true);
        assert_eq!(
            (a["width"].as_i64(), a["height"].as_i64()),
            (Some(120), Some(80))
        );
        assert_eq!(a["original_size"].as_i64(), Some(photo.len() as i64));
        let aid = a["id"].as_i64().unwrap();
        let base = format!("/api/v1/cases/{case_id}/attachments/{aid}");
        assert_eq!(a["urls"]["display"], format!("{base}/display"));

        for variant in ["display", "thumb"] {
            let (s, h, b) = get_bytes(&app, &format!("{base}/{variant}"), &resident).await;
            assert_eq!(s, StatusCode::OK, "{variant}");
            assert_eq!(h[header::CONTENT_TYPE], "image/jpeg");
            assert_eq!(h[header::CACHE_CONTROL], "private");
            assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
            assert!(b.starts_with(&[0xFF, 0xD8]));
            assert!(!contains(&b, b"Exif"), "{variant} has no EXIF");
            assert!(!contains(&b, &latitude_bytes()), "{variant} has no GPS");
        }
        // Staff get the original exactly as uploaded; the resident does not.
        let (s, h, b) = get_bytes(&app, &format!("{base}/original"), &admin).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(h[header::CONTENT_TYPE], "image/jpeg");
        assert_eq!(b, photo);
        let (s, h, _) = get_bytes(&app, &format!("{base}/original"), &resident).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        assert_eq!(h[header::CONTENT_TYPE], "application/problem+json");
        let (s, _, _) = get_bytes(&app, &format!("{base}/poster"), &admin).await;
        assert_eq!(s, StatusCode::NOT_FOUND);

        // The list: the resident sees it without the original's address.
        let (s, v) = app
            .get_json(&format!("/api/v1/cases/{case_id}/attachments"), &resident)
            .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(v.as_array().unwrap().len(), 1);
        assert!(v[0]["urls"].get("original").is_none(), "{v}");
        let (_, v) = app
            .get_json(&format!("/api/v1/cases/{case_id}/attachments"), &admin)
            .await;
        assert_eq!(v[0]["urls"]["original"], format!("{base}/original"));
        assert_eq!(count_audit(&app, f.sid, "case.attach").await, 1);
    })
    .await;
}

#[tokio::test]
async fn staff_only_photos_do_not_exist_for_the_resident() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let gm = app.token(&f, "gm_a1").await;
        let resident = app.token(&f, "resident").await;
        let case_id = open_case(&app, &resident, f.grid_a1).await;
        let (s, v) = api_upload(&app, &gm, case_id, &[&plain_jpeg(50, 50, 1)], &[]).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        assert_eq!(v[0]["public"], false);
        let aid = v[0]["id"].as_i64().unwrap();
        let (_, v) = app
            .get_json(&format!("/api/v1/cases/{case_id}/attachments"), &resident)
            .await;
        assert_eq!(v, json!([]));
        for variant in ["thumb", "display", "original"] {
            let path = format!("/api/v1/cases/{case_id}/attachments/{aid}/{variant}");
            let (s, _, _) = get_bytes(&app, &path, &resident).await;
            assert_eq!(s, StatusCode::NOT_FOUND, "{variant}");
            let (s, _, _) = get_bytes(&app, &path, &gm).await;
            assert_eq!(s, StatusCode::OK, "{variant}");
        }
    })
    .await;
}

#[tokio::test]
async fn the_reporter_adds_photos_to_their_own_case_and_sees_them() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let resident = app.token(&f, "resident").await;
        let admin = app.token(&f, "admin").await;
        let case_id = open_case(&app, &resident, f.grid_a1).await;
        // Asked for staff only, but what a resident adds is public (else they could not see it).
        let (s, v) = api_upload(
            &app,
            &resident,
            case_id,
            &[&jpeg_with_gps(3)],
            &[("public", "0")],
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        assert_eq!(v[0]["public"], true);
        assert!(v[0]["urls"].get("original").is_none());
        let (_, v) = app
            .get_json(&format!("/api/v1/cases/{case_id}/attachments"), &resident)
            .await;
        assert_eq!(v.as_array().unwrap().len(), 1);
        // Another resident's case is not theirs to add to.
        let other = open_case(&app, &admin, f.grid_v1).await;
        let (s, _) = api_upload(&app, &resident, other, &[&plain_jpeg(20, 20, 2)], &[]).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        assert_eq!(count_attachments(&app, f.sid).await, 1);
    })
    .await;
}

#[tokio::test]
async fn a_grid_member_of_another_grid_can_neither_see_nor_add_photos() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let gm_a1 = app.token(&f, "gm_a1").await;
        let gm_a2 = app
            .user_token(&f, "gm_a2", Role::GridMember, at_node(f.grid_a2))
            .await;
        let case_id = open_case(&app, &gm_a1, f.building_a1).await;
        let (s, v) = api_upload(
            &app,
            &gm_a1,
            case_id,
            &[&plain_jpeg(30, 30, 4)],
            &[("public", "1")],
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let aid = v[0]["id"].as_i64().unwrap();
        let (s, _) = app
            .get_json(&format!("/api/v1/cases/{case_id}/attachments"), &gm_a2)
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, _, _) = get_bytes(
            &app,
            &format!("/api/v1/cases/{case_id}/attachments/{aid}/thumb"),
            &gm_a2,
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, _) = api_upload(&app, &gm_a2, case_id, &[&plain_jpeg(30, 30, 5)], &[]).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        // Not their tenant's case either: a case id from another subdistrict is not found.
        let g = app.fixture_named("310118004", "另一街道").await;
        let other_admin = app.token(&g, "admin").await;
        let (s, _) = app
            .get_json(
                &format!("/api/v1/cases/{case_id}/attachments"),
                &other_admin,
            )
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        assert_eq!(count_attachments(&app, f.sid).await, 1);
    })
    .await;
}

#[tokio::test]
async fn wrong_types_are_refused_with_the_field_named() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let admin = app.token(&f, "admin").await;
        let case_id = open_case(&app, &admin, f.grid_a1).await;
        let gif: &[u8] = b"GIF89a\x01\0\x01\0\x80\0\0\0\0\0\xff\xff\xff!\xf9\x04\x01\0\0\0\0,\0\0\0\0\x01\0\x01\0\0\x02\x02D\x01\0;";
        let svg: &[u8] = b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>";
        let heic: &[u8] = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic";
        for (bytes, word) in [(gif, "GIF"), (svg, "SVG"), (heic, "HEIC")] {
            let (s, v) = api_upload(&app, &admin, case_id, &[bytes], &[]).await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{word}: {v}");
            assert_eq!(v["errors"][0]["field"], "photo", "{v}");
            assert!(v["errors"][0]["message"].as_str().unwrap().contains(word), "{v}");
        }
        // A corrupt JPEG, and one good photo among bad ones: nothing is stored.
        let broken: &[u8] = b"\xFF\xD8\xFF\xE0 not really a jpeg";
        let good = plain_jpeg(20, 20, 9);
        let (s, v) = api_upload(&app, &admin, case_id, &[&good, broken, gif], &[]).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        let messages: Vec<&str> = v["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["message"].as_str().unwrap())
            .collect();
        assert_eq!(messages.len(), 2, "{v}");
        assert!(messages[0].starts_with("photo 2:"), "{messages:?}");
        assert!(messages[1].starts_with("photo 3:"), "{messages:?}");
        // In Chinese by default.
        let req = Request::post(format!("/api/v1/cases/{case_id}/attachments"))
            .header(header::AUTHORIZATION, format!("Bearer {admin}"))
            .header(header::CONTENT_TYPE, multipart_type())
            .body(Body::from(multipart(&[gif], &[])))
            .unwrap();
        let (s, h, b) = app.send(req).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(h[header::CONTENT_TYPE], "application/problem+json");
        let v: Value = serde_json::from_slice(&b).unwrap();
        assert!(v["errors"][0]["message"].as_str().unwrap().contains("不支持"), "{v}");
        // No photo at all, and a body that is not multipart.
        let (s, v) = api_upload(&app, &admin, case_id, &[], &[("public", "1")]).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert_eq!(v["errors"][0]["field"], "photo");
        let (s, _) = app
            .post_json(&format!("/api/v1/cases/{case_id}/attachments"), &admin, json!({}))
            .await;
        assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert_eq!(count_attachments(&app, f.sid).await, 0);
        assert_eq!(count_audit(&app, f.sid, "case.attach").await, 0);
    })
    .await;
}

#[tokio::test]
async fn oversize_photos_and_too_many_photos_are_refused_clearly() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let admin = app.token(&f, "admin").await;
        let case_id = open_case(&app, &admin, f.grid_a1).await;
        let mut big = plain_jpeg(16, 16, 1);
        big.resize(attachments::image::MAX_BYTES + 1, 0);
        let (s, v) = api_upload(&app, &admin, case_id, &[&big], &[]).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert_eq!(v["errors"][0]["field"], "photo");
        assert!(
            v["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("10 MiB"),
            "{v}"
        );
        let photos: Vec<Vec<u8>> = (0..10).map(|i| plain_jpeg(8, 8, i)).collect();
        let refs: Vec<&[u8]> = photos.iter().map(Vec::as_slice).collect();
        let (s, v) = api_upload(&app, &admin, case_id, &refs, &[]).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert!(
            v["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("at most 9"),
            "{v}"
        );
        // Nine is fine.
        let (s, v) = api_upload(&app, &admin, case_id, &refs[..9], &[]).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        assert_eq!(v.as_array().unwrap().len(), 9);
        // A body over the upload limit is cut off with 413.
        let huge = vec![0u8; attachments::UPLOAD_LIMIT + 1024];
        let (s, v) = api_upload(&app, &admin, case_id, &[&huge], &[]).await;
        assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{v}");
        assert_eq!(count_attachments(&app, f.sid).await, 9);
    })
    .await;
}

#[tokio::test]
async fn the_same_photo_twice_is_one_attachment() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let admin = app.token(&f, "admin").await;
        let case_id = open_case(&app, &admin, f.grid_a1).await;
        let photo = jpeg_with_gps(7);
        let (s, first) = api_upload(&app, &admin, case_id, &[&photo, &photo], &[]).await;
        assert_eq!(s, StatusCode::CREATED, "{first}");
        assert_eq!(first.as_array().unwrap().len(), 1);
        let (s, again) = api_upload(&app, &admin, case_id, &[&photo], &[]).await;
        assert_eq!(s, StatusCode::CREATED, "{again}");
        assert_eq!(again[0]["id"], first[0]["id"]);
        assert_eq!(count_attachments(&app, f.sid).await, 1);
        assert_eq!(count_audit(&app, f.sid, "case.attach").await, 1);
        // The same bytes on another case are that case's own attachment.
        let other = open_case(&app, &admin, f.grid_a1).await;
        let (s, v) = api_upload(&app, &admin, other, &[&photo], &[]).await;
        assert_eq!(s, StatusCode::CREATED);
        assert_ne!(v[0]["id"], first[0]["id"]);
        assert_eq!(count_attachments(&app, f.sid).await, 2);
    })
    .await;
}

#[tokio::test]
async fn photos_belong_to_a_timeline_event_and_follow_its_visibility() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let admin = app.token(&f, "admin").await;
        let case_id = open_case(&app, &admin, f.grid_a1).await;
        let (s, v) = api_upload(
            &app,
            &admin,
            case_id,
            &[&plain_jpeg(10, 10, 1)],
            &[("event_seq", "1"), ("public", "1")],
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        assert_eq!(v[0]["event_seq"], 1);
        let (s, v) = api_upload(
            &app,
            &admin,
            case_id,
            &[&plain_jpeg(10, 10, 2)],
            &[("event_seq", "99")],
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert_eq!(v["errors"][0]["field"], "event_seq");
        // A staff-only note's photo is staff-only, whatever was asked.
        let (s, c) = app
            .post_json(
                &format!("/api/v1/cases/{case_id}/actions"),
                &admin,
                json!({ "version": 1, "action": { "kind": "note", "text": "内部记录", "public": false } }),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{c}");
        {
            let seq = c["timeline"].as_array().unwrap().last().unwrap()["seq"].as_i64().unwrap();
            let (s, v) = api_upload(
                &app,
                &admin,
                case_id,
                &[&plain_jpeg(10, 10, 3)],
                &[("event_seq", &seq.to_string()), ("public", "1")],
            )
            .await;
            assert_eq!(s, StatusCode::CREATED, "{v}");
            assert_eq!(v[0]["public"], false);
        }
    })
    .await;
}

#[tokio::test]
async fn attach_in_tx_stores_with_the_callers_transaction_or_not_at_all() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let admin = app.token(&f, "admin").await;
        let case_id = open_case(&app, &admin, f.grid_a1).await;
        let photo = jpeg_with_gps(11);
        let mut tx = app.db.begin().await.unwrap();
        let ids = attachments::attach_in_tx(
            &mut tx,
            &f.admin,
            f.sid,
            case_id,
            None,
            vec![photo.clone()],
            true,
        )
        .await
        .unwrap();
        assert_eq!(ids.len(), 1);
        drop(tx);
        assert_eq!(count_attachments(&app, f.sid).await, 0);
        let mut tx = app.db.begin().await.unwrap();
        let again = attachments::attach_in_tx(
            &mut tx,
            &f.admin,
            f.sid,
            case_id,
            None,
            vec![photo.clone()],
            true,
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(count_attachments(&app, f.sid).await, 1);
        let all = attachments::list_for(&app.db, f.sid, case_id, false)
            .await
            .unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].id, again[0]);
        // A bad photo fails before anything is written; an unknown case is not found.
        let mut tx = app.db.begin().await.unwrap();
        let e = attachments::attach_in_tx(
            &mut tx,
            &f.admin,
            f.sid,
            case_id,
            None,
            vec![b"GIF89a".to_vec()],
            true,
        )
        .await
        .unwrap_err();
        assert!(matches!(e, redbutler::error::Error::Invalid(_)), "{e:?}");
        let e = attachments::attach_in_tx(&mut tx, &f.admin, f.sid, 12345, None, vec![photo], true)
            .await
            .unwrap_err();
        assert!(matches!(e, redbutler::error::Error::NotFound), "{e:?}");
    })
    .await;
}

// ---------------------------------------------------------------------------------------
// Through the case page
// ---------------------------------------------------------------------------------------

async fn login(app: &TestApp, user: &str) -> String {
    let (s, cookies) = app.browser_login(user, PASSWORD).await;
    assert!(s.is_redirection(), "login of {user}: {s}");
    cookies
}

async fn page_upload(
    app: &TestApp,
    cookies: &str,
    case_id: i64,
    csrf: Option<&str>,
    photos: &[&[u8]],
    fields: &[(&str, &str)],
) -> (StatusCode, HeaderMap, String) {
    let uri = match csrf {
        Some(t) => format!("/cases/{case_id}/attachments?_csrf={t}"),
        None => format!("/cases/{case_id}/attachments"),
    };
    let req = Request::post(uri)
        .header(header::COOKIE, cookies)
        .header(header::CONTENT_TYPE, multipart_type())
        .body(Body::from(multipart(photos, fields)))
        .unwrap();
    let (s, h, b) = app.send(req).await;
    (s, h, String::from_utf8_lossy(&b).into_owned())
}

#[tokio::test]
async fn a_grid_member_adds_a_photo_on_the_case_page_and_it_shows_there() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let gm_token = app.token(&f, "gm_a1").await;
        let case_id = open_case(&app, &gm_token, f.building_a1).await;
        let gm = login(&app, "gm_a1").await;
        let csrf = "c".repeat(32);
        let (s, _, page) = app.browser_get(&format!("/cases/{case_id}"), &gm).await;
        assert_eq!(s, StatusCode::OK);
        assert!(
            page.contains(&format!("/cases/{case_id}/attachments?_csrf={csrf}")),
            "{page}"
        );
        assert!(page.contains("enctype=\"multipart/form-data\""));
        assert!(page.contains("name=\"photo\""));

        let photo = jpeg_with_gps(21);
        let (s, h, body) = page_upload(
            &app,
            &gm,
            case_id,
            Some(&csrf),
            &[&photo],
            &[("public", "1")],
        )
        .await;
        assert!(s.is_redirection(), "{s} {body}");
        assert_eq!(h[header::LOCATION], format!("/cases/{case_id}"));
        let all = attachments::list_for(&app.db, f.sid, case_id, true)
            .await
            .unwrap();
        assert_eq!(all.len(), 1);
        assert!(all[0].public);
        let aid = all[0].id;
        let (s, _, page) = app.browser_get(&format!("/cases/{case_id}"), &gm).await;
        assert_eq!(s, StatusCode::OK);
        assert!(
            page.contains(&format!("src=\"/cases/{case_id}/attachments/{aid}/thumb\"")),
            "{page}"
        );
        assert!(page.contains(&format!(
            "href=\"/cases/{case_id}/attachments/{aid}/display\""
        )));
        assert!(page.contains(&format!(
            "href=\"/cases/{case_id}/attachments/{aid}/original\""
        )));
        let (s, h, _) = app
            .browser_get(&format!("/cases/{case_id}/attachments/{aid}/display"), &gm)
            .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(h[header::CONTENT_TYPE], "image/jpeg");
        assert_eq!(h[header::CACHE_CONTROL], "private");

        // A wrong type comes back as the localised error page naming the field.
        let (s, _, body) = page_upload(
            &app,
            &gm,
            case_id,
            Some(&csrf),
            &[b"GIF89a\x01\0\x01\0"],
            &[],
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body.contains("<html"), "{body}");
        assert!(
            body.contains("photo") && body.contains("不支持 GIF"),
            "{body}"
        );
        // Without the CSRF token nothing is stored.
        let (s, _, _) = page_upload(&app, &gm, case_id, None, &[&plain_jpeg(9, 9, 9)], &[]).await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert_eq!(count_attachments(&app, f.sid).await, 1);
        // Not logged in: to the login page.
        let (s, h, _) = app
            .send(
                Request::get(format!("/cases/{case_id}/attachments/{aid}/thumb"))
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert!(s.is_redirection());
        assert!(h[header::LOCATION].to_str().unwrap().starts_with("/login"));
    })
    .await;
}

#[tokio::test]
async fn the_resident_sees_public_thumbnails_but_no_originals_on_the_case_page() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let resident_token = app.token(&f, "resident").await;
        let admin = app.token(&f, "admin").await;
        let case_id = open_case(&app, &resident_token, f.grid_a1).await;
        let (s, v) = api_upload(
            &app,
            &admin,
            case_id,
            &[&plain_jpeg(40, 40, 1)],
            &[("public", "1")],
        )
        .await;
        assert_eq!(s, StatusCode::CREATED);
        let public_id = v[0]["id"].as_i64().unwrap();
        let (s, v) = api_upload(&app, &admin, case_id, &[&plain_jpeg(40, 40, 2)], &[]).await;
        assert_eq!(s, StatusCode::CREATED);
        let staff_id = v[0]["id"].as_i64().unwrap();
        let resident = login(&app, "resident").await;
        let (s, _, page) = app
            .browser_get(&format!("/cases/{case_id}"), &resident)
            .await;
        assert_eq!(s, StatusCode::OK);
        assert!(
            page.contains(&format!("/attachments/{public_id}/thumb")),
            "{page}"
        );
        assert!(
            !page.contains(&format!("/attachments/{staff_id}/")),
            "{page}"
        );
        assert!(!page.contains("/original"), "{page}");
        // The reporter may add photos: the form is there, without the staff-only choice.
        let form_at = page.find("attachments?_csrf").expect("the upload form");
        let form = &page[form_at..form_at + page[form_at..].find("</form>").unwrap()];
        assert!(form.contains("name=\"photo\""), "{form}");
        assert!(!form.contains("name=\"public\""), "{form}");
        let (s, _, _) = app
            .browser_get(
                &format!("/cases/{case_id}/attachments/{public_id}/original"),
                &resident,
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    })
    .await;
}

#[tokio::test]
async fn concurrent_uploads_of_one_photo_store_it_once() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let admin = app.token(&f, "admin").await;
        let case_id = open_case(&app, &admin, f.grid_a1).await;
        let photo = plain_jpeg(2400, 1200, 77);
        let app = std::sync::Arc::new(app);
        let mut tasks = Vec::new();
        for _ in 0..5 {
            let (app, admin, photo) = (app.clone(), admin.clone(), photo.clone());
            tasks.push(tokio::spawn(async move {
                api_upload(&app, &admin, case_id, &[&photo], &[]).await
            }));
        }
        let mut ids = Vec::new();
        for t in tasks {
            let (s, v) = t.await.unwrap();
            assert_eq!(s, StatusCode::CREATED, "{v}");
            ids.push(v[0]["id"].as_i64().unwrap());
        }
        ids.dedup();
        assert_eq!(ids.len(), 1, "{ids:?}");
        assert_eq!(count_attachments(&app, f.sid).await, 1);
        assert_eq!(count_audit(&app, f.sid, "case.attach").await, 1);
        // The display version is scaled to 1600 px on the long side, the thumbnail to 320.
        let base = format!("/api/v1/cases/{case_id}/attachments/{}", ids[0]);
        for (variant, size) in [("display", (1600, 800)), ("thumb", (320, 160))] {
            let (s, _, b) = get_bytes(&app, &format!("{base}/{variant}"), &admin).await;
            assert_eq!(s, StatusCode::OK);
            let img = image::load_from_memory(&b).unwrap();
            assert_eq!((img.width(), img.height()), size, "{variant}");
        }
    })
    .await;
}
