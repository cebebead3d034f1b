//! The registry: template, import (CSV and XLSX, dry run, bad rows, re-import), export and
//! the round trip, rights, the upload pages and background jobs.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use redbutler::registry::export;
use redbutler::registry::format::{Header, COLUMNS};
use redbutler::registry::import::{parse_table, read_table, FileFormat, XLSX_MIME};
use serde_json::Value;
use sqlx::Row;

use crate::harness::{for_each_db, id_number, TestApp, PASSWORD};

const HEAD: &str = "社区/村,轨道,网格,楼栋/村民小组,单元,室号,楼层,登记面积,实测面积,合同面积,开发商未售,开发商,户号,姓名,性别,身份证号,手机号,地址,与户主关系,产权人";

async fn post_raw(
    app: &TestApp,
    path: &str,
    token: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (StatusCode, String, Value) {
    let req = Request::post(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body))
        .unwrap();
    let (s, h, b) = app.send(req).await;
    let ct = h
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    (s, ct, serde_json::from_slice(&b).unwrap_or(Value::Null))
}

async fn get_raw(
    app: &TestApp,
    path: &str,
    token: &str,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let req = Request::get(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    app.send(req).await
}

async fn import_csv(
    app: &TestApp,
    token: &str,
    node: i64,
    dry_run: bool,
    csv: &str,
) -> (StatusCode, Value) {
    let (s, _, v) = post_raw(
        app,
        &format!("/api/v1/registry/import?node_id={node}&dry_run={dry_run}"),
        token,
        "text/csv",
        csv.as_bytes().to_vec(),
    )
    .await;
    (s, v)
}

/// Counts of everything an import writes, in one subdistrict.
async fn totals(app: &TestApp, sid: i64) -> [i64; 6] {
    let mut out = [0; 6];
    for (i, t) in [
        "nodes",
        "rooms",
        "persons",
        "households",
        "household_members",
        "room_owners",
    ]
    .iter()
    .enumerate()
    {
        out[i] = app
            .count_sql(
                &format!("SELECT COUNT(*) FROM {t} WHERE subdistrict_id = $1"),
                sid,
            )
            .await;
    }
    out
}

/// A good sheet: a new urban community with a building, units and rooms; a new village
/// with a village group; an unsold room; an owner living elsewhere; the fixture's 张三丰
/// (same ID number) owning a second room.
fn good_csv() -> String {
    let zs = id_number("31011819800101001");
    let a = id_number("31011819850505001");
    let b = id_number("31011819860606002");
    let c = id_number("31011820100101003");
    let d = id_number("31011819600101005");
    let rows = [
        format!("新城居民区,城市,新城一网格,新城路1号,1单元,101,1,88.50,89,,否,,101室,赵一,男,{a},13600000001,新城路1号101室,户主,是"),
        format!("新城居民区,城市,新城一网格,新城路1号,1单元,101,1,88.50,89,,否,,101室,钱二,女,{b},13600000002,,配偶,是"),
        format!("新城居民区,城市,新城一网格,新城路1号,1单元,101,1,88.50,89,,否,,101室,赵小,,{c},,,子女,否"),
        format!("新城居民区,城市,新城一网格,新城路1号,1单元,102,1,70,,,否,,,张三丰,男,{zs},13812341234,,,是"),
        "新城居民区,城市,新城一网格,新城路1号,2单元,201,2,60.25,,,是,新城置业,,,,,,,,".to_string(),
        "新城居民区,,新城一网格,新城路1号,2单元,202,2,60.25,,,,,,,,,,,,".to_string(),
        format!("金米村,农村,金米一网格,第二村民小组,,8号,,120,,,否,,,孙三,男,{d},13600000004,金米村8号,户主,是"),
        "金米村,农村,金米一网格,第二村民小组,,8号,,120,,,否,,,孙小妹,女,,,,子女,否".to_string(),
    ];
    format!("{HEAD}\n{}\n", rows.join("\n"))
}

#[tokio::test]
async fn templates_parse_back_in_both_formats() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let t = app.token(&f, "admin").await;
        for (q, fmt) in [("csv", FileFormat::Csv), ("xlsx", FileFormat::Xlsx)] {
            let (s, h, b) =
                get_raw(&app, &format!("/api/v1/registry/template?format={q}"), &t).await;
            assert_eq!(s, StatusCode::OK, "{q}");
            assert!(h[header::CONTENT_DISPOSITION]
                .to_str()
                .unwrap()
                .contains("attachment"));
            let (got, table) = read_table(&b, None).unwrap();
            assert_eq!(got, fmt);
            let parsed = parse_table(&table);
            assert!(parsed.header_errors.is_empty());
            assert_eq!(parsed.rows.len(), 1);
            assert!(parsed.rows[0].1.is_ok(), "{:?}", parsed.rows[0].1);
            assert!(Header::parse(&table[0].1).is_ok());
            assert_eq!(table[0].1.len(), COLUMNS.len());
        }
        // The template imports (dry run) into the fixture as a valid file.
        let (_, _, b) = get_raw(&app, "/api/v1/registry/template?format=csv", &t).await;
        let (s, v) = import_csv(&app, &t, f.root, true, std::str::from_utf8(&b).unwrap()).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["ok"], true);
    })
    .await;
}

#[tokio::test]
async fn a_good_file_imports_nodes_rooms_people_and_owners() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let t = app.token(&f, "admin").await;
        let before = totals(&app, f.sid).await;
        let (s, v) = import_csv(&app, &t, f.root, false, &good_csv()).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["ok"], true);
        assert_eq!(v["dry_run"], false);
        assert_eq!(v["rows"], 8);
        let c = &v["counts"];
        assert_eq!(c["communities"], 1, "{c}");
        assert_eq!(c["villages"], 0, "金米村 exists");
        assert_eq!(c["grids"], 1);
        assert_eq!(c["buildings"], 1);
        assert_eq!(c["units"], 2);
        assert_eq!(c["village_groups"], 1);
        assert_eq!(c["rooms"], 5);
        assert_eq!(c["persons"], 5);
        assert_eq!(c["persons_reused"], 1);
        assert_eq!(c["households"], 2);
        assert_eq!(c["members"], 5);
        assert_eq!(c["owners"], 5, "赵一, 钱二, 张三丰, 孙三 and the developer");
        assert_eq!(c["developers"], 1);
        let after = totals(&app, f.sid).await;
        assert_eq!(after[0] - before[0], 6);
        assert_eq!(after[1] - before[1], 5);
        assert_eq!(after[2] - before[2], 5);
        assert_eq!(after[3] - before[3], 2);
        assert_eq!(after[4] - before[4], 5);
        assert_eq!(after[5] - before[5], 5);
        // The new community is urban, the village group rural, areas exact.
        let row = sqlx::query("SELECT kind, track FROM nodes WHERE subdistrict_id = $1 AND name = '新城居民区'")
            .bind(f.sid)
            .fetch_one(app.db.read())
            .await
            .unwrap();
        assert_eq!(row.get::<String, _>(0), "community");
        assert_eq!(row.get::<String, _>(1), "urban");
        let kind: String = sqlx::query("SELECT kind FROM nodes WHERE subdistrict_id = $1 AND name = '第二村民小组'")
            .bind(f.sid)
            .fetch_one(app.db.read())
            .await
            .unwrap()
            .get(0);
        assert_eq!(kind, "village_group");
        let area: i64 = sqlx::query("SELECT registered_area FROM rooms WHERE subdistrict_id = $1 AND number = '201'")
            .bind(f.sid)
            .fetch_one(app.db.read())
            .await
            .unwrap()
            .get(0);
        assert_eq!(area, 6025);
        // 张三丰 was reused, not duplicated, and owns the new room too.
        let n = app.count_sql("SELECT COUNT(*) FROM persons WHERE subdistrict_id = $1 AND name = '张三丰'", f.sid).await;
        assert_eq!(n, 1);
        let owned = app.count_sql(&format!("SELECT COUNT(*) FROM room_owners WHERE subdistrict_id = $1 AND person_id = {}", f.person_a1),
            f.sid,
        )
        .await;
        assert_eq!(owned, 2);
        // Sensitive fields are sealed and masked.
        let n = app.count_sql("SELECT COUNT(*) FROM audit_log WHERE subdistrict_id = $1 AND action = 'registry.import'", f.sid).await;
        assert_eq!(n, 1);
        let mask: String = sqlx::query("SELECT phone_mask FROM persons WHERE subdistrict_id = $1 AND name = '赵一'")
            .bind(f.sid)
            .fetch_one(app.db.read())
            .await
            .unwrap()
            .get(0);
        assert_eq!(mask, "136****0001");
    })
    .await;
}

#[tokio::test]
async fn bad_rows_are_each_reported_by_row_and_column_and_nothing_is_written() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let t = app.token(&f, "admin").await;
        let before = totals(&app, f.sid).await;
        let a = id_number("31011819850505001");
        let csv = format!(
            "{HEAD}\n\
             新城居民区,城市,一网格,1号,,101,,88.50,,,否,,,赵一,男,{a},13600000001,,户主,是\n\
             新城居民区,城市,一网格,1号,,102,,85.555,,,否,,,钱二,,310118198001010011,12345,,户主,否\n\
             新城居民区,城市,一网格,1号,,103,,,,,否,,,王某,男,{a},,,户主,否\n\
             新城居民区,城市,一网格,1号,,101,,90,,,否,,,,,,,,,\n\
             章浜居民区,农村,章浜一网格,城中东路311号,,9,,,,,,,,,,,,,,\n\
             ,城市,一网格,1号,,104,,,,,,,,,,,,,,\n"
        );
        let (s, ct, v) = post_raw(
            &app,
            &format!("/api/v1/registry/import?node_id={}", f.root),
            &t,
            "text/csv",
            csv.into_bytes(),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert_eq!(ct, "application/problem+json");
        assert_eq!(v["ok"], false);
        assert_eq!(v["status"], 422);
        let errors = v["errors"].as_array().unwrap();
        let has = |row: u64, col: &str| {
            errors
                .iter()
                .any(|e| e["row"] == row && e["column"] == col && !e["message"].as_str().unwrap().is_empty())
        };
        assert!(has(3, "registered_area"), "{v}");
        assert!(has(3, "id_number"), "{v}");
        assert!(has(3, "phone"), "{v}");
        assert!(has(4, "id_number"), "same ID, other name: {v}");
        assert!(has(5, "registered_area"), "the same room with another area: {v}");
        assert!(has(6, "track"), "章浜 is urban: {v}");
        assert!(has(7, "community"), "{v}");
        assert!(!errors.iter().any(|e| e["row"] == 2), "row 2 is good: {v}");
        assert_eq!(totals(&app, f.sid).await, before, "nothing written");
        // A row outside the target is refused.
        let csv = format!("{HEAD}\n金米村,农村,金米一网格,第一村民小组,,1号,,,,,,,,,,,,,,\n");
        let (s, v) = import_csv(&app, &t, f.community_a, false, &csv).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(v["errors"][0]["row"], 2);
        assert_eq!(v["errors"][0]["column"], "community");
        // A header without required columns names them at row 1.
        let (s, v) = import_csv(&app, &t, f.root, false, "社区/村,姓名\nA,B\n").await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(v["errors"].as_array().unwrap().iter().all(|e| e["row"] == 1));
        // Not UTF-8: a clear message.
        let gbk = vec![0xC9u8, 0xE7, 0xC7, 0xF8, b',', b'1', b'\n'];
        let (s, _, v) = post_raw(&app, "/api/v1/registry/import", &t, "text/csv", gbk).await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert!(v["detail"].as_str().unwrap().contains("UTF-8"), "{v}");
        assert_eq!(totals(&app, f.sid).await, before, "nothing written");
    })
    .await;
}

#[tokio::test]
async fn a_dry_run_reports_what_it_would_create_and_writes_nothing() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let t = app.token(&f, "admin").await;
        let before = totals(&app, f.sid).await;
        let audit_before = app
            .count_sql(
                "SELECT COUNT(*) FROM audit_log WHERE subdistrict_id = $1",
                f.sid,
            )
            .await;
        let (s, v) = import_csv(&app, &t, f.root, true, &good_csv()).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["dry_run"], true);
        assert_eq!(v["counts"]["rooms"], 5);
        assert_eq!(v["counts"]["persons"], 5);
        assert_eq!(totals(&app, f.sid).await, before);
        let audit_after = app
            .count_sql(
                "SELECT COUNT(*) FROM audit_log WHERE subdistrict_id = $1",
                f.sid,
            )
            .await;
        assert_eq!(audit_before, audit_after);
    })
    .await;
}

#[tokio::test]
async fn importing_the_same_file_twice_duplicates_nothing() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let t = app.token(&f, "admin").await;
        let (s, v) = import_csv(&app, &t, f.root, false, &good_csv()).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let once = totals(&app, f.sid).await;
        let (s, v) = import_csv(&app, &t, f.root, false, &good_csv()).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let c = &v["counts"];
        for k in [
            "communities",
            "grids",
            "buildings",
            "units",
            "rooms",
            "rooms_updated",
            "persons",
            "households",
            "members",
            "owners",
            "developers",
        ] {
            assert_eq!(c[k], 0, "{k}: {c}");
        }
        assert_eq!(totals(&app, f.sid).await, once);
        // A changed area updates the room instead of adding one.
        let changed = good_csv().replace("60.25,,,是", "61.00,,,是");
        let (s, v) = import_csv(&app, &t, f.root, false, &changed).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["counts"]["rooms_updated"], 1);
        assert_eq!(v["counts"]["rooms"], 0);
        assert_eq!(totals(&app, f.sid).await, once);
    })
    .await;
}

/// The export's data rows as a sorted list (the order within a room may differ).
fn data_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    let (_, table) = read_table(bytes, None).unwrap();
    let mut rows: Vec<Vec<String>> = table.into_iter().skip(1).map(|(_, r)| r).collect();
    rows.sort();
    rows
}

#[tokio::test]
async fn export_then_import_round_trips_into_another_subdistrict() {
    for_each_db(|app| async move {
        let a = app.fixture().await;
        let ta = app.token(&a, "admin").await;
        let (s, v) = import_csv(&app, &ta, a.root, false, &good_csv()).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let (s, h, csv_a) = get_raw(
            &app,
            &format!("/api/v1/registry/export?node_id={}&format=csv", a.root),
            &ta,
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        assert!(h[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/csv"));
        assert!(csv_a.starts_with(b"\xEF\xBB\xBF"), "BOM for Excel");
        let text = String::from_utf8(csv_a.clone()).unwrap();
        assert!(
            text.contains(&id_number("31011819850505001")),
            "full ID numbers"
        );
        assert!(text.contains("13812341234"), "full phone numbers");
        assert!(text.contains("新城置业"));
        // The export is in the audit log with its reason.
        let reason: String = sqlx::query(
            "SELECT reason FROM audit_log WHERE subdistrict_id = $1 AND action = 'registry.export'",
        )
        .bind(a.sid)
        .fetch_one(app.db.read())
        .await
        .unwrap()
        .get(0);
        assert_eq!(reason, "export");
        // Into a second subdistrict: its fixture matches A's, the rest is new.
        let b = app.fixture_named("310118009", "测试街道").await;
        let tb = app.token(&b, "admin").await;
        let (s, v) = import_csv(&app, &tb, b.root, false, &text).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["counts"]["rooms"], 5, "{v}");
        assert_eq!(
            totals(&app, a.sid).await[1..],
            totals(&app, b.sid).await[1..]
        );
        let (_, _, csv_b) = get_raw(
            &app,
            &format!("/api/v1/registry/export?node_id={}&format=csv", b.root),
            &tb,
        )
        .await;
        assert_eq!(data_rows(&csv_a), data_rows(&csv_b));
        // The XLSX export holds the same rows.
        let (s, h, xlsx) = get_raw(
            &app,
            &format!("/api/v1/registry/export?node_id={}&format=xlsx", b.root),
            &tb,
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(h[header::CONTENT_TYPE], XLSX_MIME);
        assert_eq!(data_rows(&xlsx), data_rows(&csv_a));
        // A subtree export holds only that subtree.
        let (_, _, part) = get_raw(
            &app,
            &format!("/api/v1/registry/export?node_id={}&format=csv", a.village),
            &ta,
        )
        .await;
        let rows = data_rows(&part);
        assert!(!rows.is_empty());
        assert!(rows.iter().all(|r| r[0] == "金米村"));
    })
    .await;
}

#[tokio::test]
async fn a_grid_member_can_neither_import_nor_export() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let t = app.token(&f, "gm_a1").await;
        for node in [f.grid_a1, f.root] {
            let (s, _) = import_csv(&app, &t, node, true, &good_csv()).await;
            assert_eq!(s, StatusCode::FORBIDDEN, "import at {node}");
            let (s, _, _) = get_raw(
                &app,
                &format!("/api/v1/registry/export?node_id={node}&format=csv"),
                &t,
            )
            .await;
            assert_eq!(s, StatusCode::FORBIDDEN, "export at {node}");
        }
        let (_, cookies) = app.browser_login("gm_a1", PASSWORD).await;
        let (s, _, _) = app.browser_get("/registry", &cookies).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, _, _) = app
            .browser_get(
                &format!("/registry/export?node_id={}&format=csv", f.grid_a1),
                &cookies,
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    })
    .await;
}

#[tokio::test]
async fn an_xlsx_file_imports() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let t = app.token(&f, "admin").await;
        let (_, table) = read_table(good_csv().as_bytes(), None).unwrap();
        let rows: Vec<Vec<String>> = table.into_iter().skip(1).map(|(_, r)| r).collect();
        let xlsx = export::to_xlsx(&rows).unwrap();
        let (s, _, v) = post_raw(
            &app,
            &format!("/api/v1/registry/import?node_id={}", f.root),
            &t,
            XLSX_MIME,
            xlsx,
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["format"], "xlsx");
        assert_eq!(v["counts"]["rooms"], 5);
        assert_eq!(v["counts"]["persons"], 5);
    })
    .await;
}

#[tokio::test]
async fn a_background_import_reports_progress_then_its_result() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let t = app.token(&f, "admin").await;
        let (s, _, v) = post_raw(
            &app,
            &format!("/api/v1/registry/import?node_id={}&background=true", f.root),
            &t,
            "text/csv",
            good_csv().into_bytes(),
        )
        .await;
        assert_eq!(s, StatusCode::ACCEPTED, "{v}");
        let url = v["status_url"].as_str().unwrap().to_string();
        let deadline = Instant::now() + Duration::from_secs(30);
        let v = loop {
            let (s, v) = app.get_json(&url, &t).await;
            assert_eq!(s, StatusCode::OK, "{v}");
            if v["finished"] == true {
                break v;
            }
            assert!(Instant::now() < deadline, "job did not finish");
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert_eq!(v["report"]["ok"], true, "{v}");
        assert_eq!(v["report"]["counts"]["rooms"], 5);
        // Another user cannot see the job.
        let other = app.token(&f, "gm_a1").await;
        let (s, _) = app.get_json(&url, &other).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
    })
    .await;
}

fn multipart(csrf_free_fields: &[(&str, &str)], file: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----redbutlerboundary7MA4YWxk";
    let mut body = Vec::new();
    for (k, v) in csrf_free_fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"台账.csv\"\r\nContent-Type: text/csv\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn wait_for_job_page(app: &TestApp, location: &str, cookies: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (s, h, body) = app.browser_get(location, cookies).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        if !body.contains("data-refresh") {
            assert!(h.get(header::REFRESH).is_none());
            return body;
        }
        assert_eq!(h[header::REFRESH], "2");
        assert!(body.contains("http-equiv=\"refresh\""));
        assert!(Instant::now() < deadline, "job did not finish");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn the_upload_page_checks_first_then_imports_the_same_upload() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let (_, cookies) = app.browser_login("admin", PASSWORD).await;
        let (s, _, page) = app.browser_get("/registry", &cookies).await;
        assert_eq!(s, StatusCode::OK);
        assert!(page.contains("multipart/form-data"));
        assert!(page.contains("/registry/import?_csrf="));
        assert!(page.contains("name=\"dry_run\" value=\"1\" checked"));
        assert!(page.contains("/registry/template?format=xlsx"));
        assert!(page.contains(&format!(
            "/registry/export?format=csv&amp;node_id={}",
            f.community_a
        )));
        let before = totals(&app, f.sid).await;
        let csrf = "c".repeat(32);
        let root = f.root.to_string();
        let (ct, body) = multipart(
            &[("node_id", root.as_str()), ("dry_run", "1")],
            good_csv().as_bytes(),
        );
        let req = Request::post(format!("/registry/import?_csrf={csrf}"))
            .header(header::COOKIE, &cookies)
            .header(header::CONTENT_TYPE, ct)
            .body(Body::from(body))
            .unwrap();
        let (s, h, _) = app.send(req).await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        let location = h[header::LOCATION].to_str().unwrap().to_string();
        assert!(location.starts_with("/registry/jobs/"));
        let report = wait_for_job_page(&app, &location, &cookies).await;
        assert!(report.contains("没有发现错误"), "{report}");
        assert!(report.contains(&format!("{location}/apply")));
        assert_eq!(
            totals(&app, f.sid).await,
            before,
            "a dry run writes nothing"
        );
        // The real import of the same upload.
        let (s, h, _) = app
            .browser_post(&format!("{location}/apply"), &cookies, "")
            .await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        let location2 = h[header::LOCATION].to_str().unwrap().to_string();
        let report = wait_for_job_page(&app, &location2, &cookies).await;
        assert!(report.contains("导入完成"), "{report}");
        assert_eq!(totals(&app, f.sid).await[1] - before[1], 5);
        // A file with bad rows shows a table of rows, columns and reasons.
        let bad = format!("{HEAD}\n新城居民区,城市,一网格,1号,,101,,85.555,,,,,,,,,,,,\n");
        let (ct, body) = multipart(&[("node_id", root.as_str())], bad.as_bytes());
        let req = Request::post(format!("/registry/import?_csrf={csrf}"))
            .header(header::COOKIE, &cookies)
            .header(header::CONTENT_TYPE, ct)
            .body(Body::from(body))
            .unwrap();
        let (s, h, _) = app.send(req).await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        let report = wait_for_job_page(&app, h[header::LOCATION].to_str().unwrap(), &cookies).await;
        assert!(report.contains("<td>2</td><td>登记面积</td>"), "{report}");
        // Without the CSRF token in the URL the upload is refused.
        let (ct, body) = multipart(&[("node_id", root.as_str())], bad.as_bytes());
        let req = Request::post("/registry/import")
            .header(header::COOKIE, &cookies)
            .header(header::CONTENT_TYPE, ct)
            .body(Body::from(body))
            .unwrap();
        let (s, _, _) = app.send(req).await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
    })
    .await;
}

/// Generates a registry of `n` rooms with one resident each.
fn big_csv(n: usize) -> String {
    let mut s = String::with_capacity(n * 160);
    s.push_str(HEAD);
    s.push('\n');
    for i in 0..n {
        let community = i / 50_000;
        let grid = i / 5_000;
        let building = i / 100;
        let year = 1940 + (i / (12 * 28 * 10)) % 60;
        let month = (i / (28 * 10)) % 12 + 1;
        let day = (i / 10) % 28 + 1;
        let seq = i % 10;
        let id = id_number(&format!("310118{year:04}{month:02}{day:02}00{seq}"));
        let gender = if seq % 2 == 1 { "男" } else { "女" };
        s.push_str(&format!(
            "社区{community},城市,网格{grid},{building}号楼,,{},{},{}.{:02},,,否,,,居民{i},{gender},{id},138{:08},某路{building}号,户主,是\n",
            100 + i % 100,
            (i % 100) / 4 + 1,
            50 + i % 70,
            i % 100,
            i
        ));
    }
    s
}

/// Timing of a 200,000-row import on SQLite:
/// `cargo test --release --test it registry::import_of_200k_rows -- --ignored --nocapture`
#[tokio::test]
#[ignore]
async fn import_of_200k_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.db");
    let db = redbutler::storage::Db::open(path.to_str().unwrap(), &Default::default())
        .await
        .unwrap();
    let state = redbutler::web::AppState::new(
        db.clone(),
        redbutler::pii::Seal::from_key(&crate::harness::KEY),
        false,
    );
    let mut tx = db.begin().await.unwrap();
    let s = redbutler::tree::store::create_subdistrict(&mut tx, "310118999", "大街道")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let actor = redbutler::access::Actor::cli(s.id, &format!("/{}/", s.id));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("redbutler=debug"))
        .try_init();
    let n = std::env::var("ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    let csv = big_csv(n);
    eprintln!("file: {} MB", csv.len() / 1_000_000);
    let upload = std::sync::Arc::new(redbutler::registry::jobs::Upload {
        bytes: csv.into_bytes(),
        format: FileFormat::Csv,
        file_name: "big.csv".into(),
    });
    for dry_run in [true, false, false] {
        let started = Instant::now();
        let r = redbutler::registry::import::run_bytes(
            &db,
            &state.seal,
            &actor,
            s.id,
            upload.clone(),
            dry_run,
            redbutler::registry::import::Hook::NONE,
        )
        .await
        .unwrap();
        assert!(r.ok, "{:?}", r.errors.first());
        eprintln!(
            "dry_run={dry_run}: {} rows in {:.2} s; counts {:?}",
            r.rows,
            started.elapsed().as_secs_f64(),
            r.counts
        );
    }
    let started = Instant::now();
    let node = redbutler::tree::store::node(&db, s.id, s.id).await.unwrap();
    let rows = redbutler::registry::export::rows(&db, &state.seal, s.id, &node)
        .await
        .unwrap();
    eprintln!(
        "export: {} rows in {:.2} s",
        rows.len(),
        started.elapsed().as_secs_f64()
    );
    db.close().await;
}
