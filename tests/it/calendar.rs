//! The working-day calendar kept by administrators: later years entered as text, checked
//! line by line, stored per subdistrict, replacing the shipped year.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::harness::{for_each_db, PASSWORD};

const Y2027: &str = "year 2027\n2027-01-01..2027-01-03 holiday 元旦\n2027-02-06..2027-02-12 holiday 春节\n2027-02-20 workday 春节调休\n";

#[tokio::test]
async fn an_admin_enters_next_years_calendar_and_deadlines_use_it() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let t = app.token(&f, "admin").await;
        let (s, v) = app.get_json("/api/v1/calendar", &t).await;
        assert_eq!(s, StatusCode::OK);
        let years: Vec<i64> = v["years"]
            .as_array()
            .unwrap()
            .iter()
            .map(|y| y["year"].as_i64().unwrap())
            .collect();
        assert_eq!(years, [2025, 2026], "shipped years");
        // A dry run checks and stores nothing.
        let (s, v) = app
            .json(
                Method::PUT,
                "/api/v1/calendar/2027?dry_run=true",
                &t,
                json!({ "text": Y2027 }),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["entries"].as_array().unwrap().len(), 3 + 7 + 1);
        let (_, v) = app.get_json("/api/v1/calendar", &t).await;
        assert_eq!(v["years"].as_array().unwrap().len(), 2);
        let (s, _) = app
            .json(
                Method::PUT,
                "/api/v1/calendar/2027",
                &t,
                json!({ "text": Y2027 }),
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        let (_, v) = app.get_json("/api/v1/calendar/2027", &t).await;
        assert_eq!(v["source"], "entered");
        let cal = redbutler::cases::calendar_admin::calendar(&app.db, f.sid)
            .await
            .unwrap();
        assert!(cal.covered(2027));
        let sat = time::macros::date!(2027 - 02 - 20);
        assert!(cal.is_working_day(sat), "the make-up Saturday is worked");
        assert!(!cal.is_working_day(time::macros::date!(2027 - 02 - 08)));
        let (_, v) = app.get_json("/api/v1/audit?action=calendar.save", &t).await;
        assert_eq!(v["entries"][0]["subject_label"], "2027");
    })
    .await;
}

#[tokio::test]
async fn a_bad_calendar_text_is_refused_line_by_line_and_nothing_is_stored() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let t = app.token(&f, "admin").await;
        let bad = "year 2027\n2027-01-01 holiday 元旦\n2027-13-01 holiday 错\n2027-01-04 workday 周一不能调休\n";
        let (s, v) = app.json(Method::PUT, "/api/v1/calendar/2027", &t, json!({ "text": bad })).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        let errors = v["errors"].as_array().unwrap();
        assert_eq!(errors.len(), 2, "{v}");
        assert!(errors.iter().all(|e| e["field"] == "text"));
        assert!(errors[0]["message"].as_str().unwrap().contains('3'), "names line 3: {v}");
        let (s, _) = app.get_json("/api/v1/calendar/2027", &t).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        // The text must be for the year it is saved as.
        let (s, _) = app.json(Method::PUT, "/api/v1/calendar/2028", &t, json!({ "text": Y2027 })).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        // Only admins.
        let gm = app.token(&f, "gm_a1").await;
        let (s, _) = app.json(Method::PUT, "/api/v1/calendar/2027", &gm, json!({ "text": Y2027 })).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, _) = app.get_json("/api/v1/calendar", &gm).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    })
    .await;
}

#[tokio::test]
async fn the_calendar_page_previews_keeps_the_text_on_errors_and_saves() {
    for_each_db(|app| async move {
        let _f = app.fixture().await;
        let (_, cookies) = app.browser_login("admin", PASSWORD).await;
        let (s, _, body) = app.browser_get("/admin/calendar?year=2027", &cookies).await;
        assert_eq!(s, StatusCode::OK);
        assert!(body.contains("year 2027"), "a template for a new year");
        let enc = |t: &str| url::form_urlencoded::byte_serialize(t.as_bytes()).collect::<String>();
        let bad = "year 2027\n2027-02-30 holiday x\n";
        let (s, _, body) = app
            .browser_post(
                "/admin/calendar",
                &cookies,
                &format!("year=2027&op=save&text={}", enc(bad)),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body.contains("2027-02-30"), "the typed text is kept");
        let (s, _, body) = app
            .browser_post(
                "/admin/calendar",
                &cookies,
                &format!("year=2027&op=preview&text={}", enc(Y2027)),
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        assert!(body.contains("2027-02-20"));
        let (s, h, _) = app
            .browser_post(
                "/admin/calendar",
                &cookies,
                &format!("year=2027&op=save&text={}", enc(Y2027)),
            )
            .await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        assert!(h["location"].to_str().unwrap().contains("saved=2027"));
        let (_, _, body) = app.browser_get("/admin/calendar", &cookies).await;
        assert!(body.contains("管理员录入"));
        let (_, gm) = app.browser_login("gm_a1", PASSWORD).await;
        let (s, _, _) = app.browser_get("/admin/calendar", &gm).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    })
    .await;
}
