//! The measures on a known data set: cases driven through the store's real operations, then
//! every measure checked exactly through the store, the API, the dashboard and the XLSX
//! export; the incrementally kept rollup equals a full recomputation from the cases.

use axum::http::{header, StatusCode};
use redbutler::access::Actor;
use redbutler::cases::lifecycle::{EvaluationChannel, Rating};
use redbutler::cases::measures::facts::{Facts, MeasureKind};
use redbutler::cases::measures::store::{self as mstore, Bucket, Filter};
use redbutler::cases::measures::{self, period};
use redbutler::cases::store::{self, CaseAction, CaseRecord, NewCase};
use serde_json::{json, Value};
use sqlx::Row;

use crate::harness::{for_each_db, Fixture, TestApp, PASSWORD};

async fn actor(app: &TestApp, f: &Fixture, user: &str) -> Actor {
    redbutler::auth::tokens::actor(&app.db, &app.token(f, user).await)
        .await
        .unwrap()
        .unwrap()
}

async fn open(app: &TestApp, who: &Actor, category: &str, node_id: i64) -> CaseRecord {
    let new: NewCase = serde_json::from_value(json!({
        "category": category, "node_id": node_id,
        "title": "测试事项", "description": "用于指标测试的事项",
    }))
    .unwrap();
    store::open_case(&app.db, who, new, "api", None)
        .await
        .unwrap()
        .case()
        .clone()
}

async fn act(app: &TestApp, who: &Actor, c: &CaseRecord, action: CaseAction) -> CaseRecord {
    store::act(&app.db, who, c.id, c.version, action.clone())
        .await
        .unwrap_or_else(|e| panic!("{action:?} on {}: {e:?}", c.state))
}

fn verify(passed: bool) -> CaseAction {
    CaseAction::Verify {
        passed,
        note: (!passed).then(|| "没有修好".to_string()),
    }
}

fn evaluate(v: u8) -> CaseAction {
    CaseAction::Evaluate {
        rating: Rating::new(v).unwrap(),
        comment: None,
        channel: EvaluationChannel::Online,
    }
}

fn handled() -> CaseAction {
    CaseAction::ReportHandled {
        summary: "已处理".into(),
    }
}

/// The known data set; returns the cases as they stand.
///
/// | case | place | category | path | counts as |
/// |---|---|---|---|---|
/// | A | unit A1 (resident) | env.clutter | dispatched, contacted, handled, verified, rated 5 | resolved |
/// | B | unit A1 (resident) | env.pests | …, rework, rated 2, re-handled, rated 4 | closed, not resolved |
/// | C | building A1 | env.clutter | dispatched only | due |
/// | D | building A2 | property.access | registered, closed by ops | resolved, not due |
/// | E | building A1 (grid member) | env.greenery | submitted | reported |
/// | F | village group V1 | env.sewage | rejected | reported |
async fn known_data_set(app: &TestApp, f: &Fixture) -> Vec<CaseRecord> {
    let admin = f.admin.clone();
    let gm = actor(app, f, "gm_a1").await;
    let resident = actor(app, f, "resident").await;
    let dispatch = CaseAction::Dispatch { unit_id: f.root };
    let contact = CaseAction::FirstContact { note: None };

    let a = open(app, &resident, "env.clutter", f.unit_a1).await;
    let a = act(app, &admin, &a, CaseAction::Register).await;
    let a = act(app, &admin, &a, dispatch.clone()).await;
    let a = act(app, &admin, &a, contact.clone()).await;
    let a = act(app, &admin, &a, handled()).await;
    let a = act(app, &gm, &a, verify(true)).await;
    let a = act(app, &resident, &a, evaluate(5)).await;

    let b = open(app, &resident, "env.pests", f.unit_a1).await;
    let b = act(app, &admin, &b, CaseAction::Register).await;
    let b = act(app, &admin, &b, dispatch.clone()).await;
    let b = act(app, &admin, &b, contact.clone()).await;
    let b = act(app, &admin, &b, handled()).await;
    let b = act(app, &gm, &b, verify(false)).await;
    let b = act(app, &admin, &b, handled()).await;
    let b = act(app, &gm, &b, verify(true)).await;
    let b = act(app, &resident, &b, evaluate(2)).await;
    assert_eq!(b.state, "re_handling");
    let b = act(app, &admin, &b, handled()).await;
    let b = act(app, &gm, &b, verify(true)).await;
    let b = act(app, &resident, &b, evaluate(4)).await;

    let c = open(app, &admin, "env.clutter", f.building_a1).await;
    let c = act(app, &admin, &c, CaseAction::Register).await;
    let c = act(app, &admin, &c, dispatch.clone()).await;

    let d = open(app, &admin, "property.access", f.building_a2).await;
    let d = act(app, &admin, &d, CaseAction::Register).await;
    let d = act(
        app,
        &admin,
        &d,
        CaseAction::Close {
            reason: "物业当场修复".into(),
        },
    )
    .await;

    let e = open(app, &gm, "env.greenery", f.building_a1).await;

    let x = open(app, &admin, "env.sewage", f.group_v1).await;
    let x = act(
        app,
        &admin,
        &x,
        CaseAction::Reject {
            reason: "不属于受理范围".into(),
        },
    )
    .await;
    vec![a, b, c, d, e, x]
}

fn today_filter() -> Filter {
    let (from, to) = period::Preset::ThisMonth
        .range(period::date_of(measures::today()).unwrap())
        .unwrap();
    Filter::whole(from, to)
}

fn handling_of(cases: &[CaseRecord]) -> i64 {
    cases
        .iter()
        .filter(|c| matches!(c.state.as_str(), "handled" | "closed"))
        .filter_map(|c| {
            let l = &c.lifecycle;
            Some(l.handled_ms? - l.dispatched_ms? - l.paused_total_ms)
        })
        .sum()
}

/// Every rollup row with a non-zero counter, in key order.
async fn rollup_rows(app: &TestApp, sid: i64) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for (table, key) in [
        ("case_rollup", "day, node_id, category, owner_unit, grid_id"),
        ("case_rollup_month", "month, grid_id, category, owner_unit"),
        ("case_rollup_grid", "grid_id, day"),
        ("case_rollup_grid_month", "grid_id, month"),
        ("case_rollup_whole", "day, category"),
    ] {
        let cols = measures::facts::COUNTERS.join(", ");
        let nonzero = measures::facts::COUNTERS
            .iter()
            .map(|c| format!("{c} <> 0"))
            .collect::<Vec<_>>()
            .join(" OR ");
        let rows = sqlx::query(&format!(
            "SELECT {key}, {cols} FROM {table} WHERE subdistrict_id = $1 AND ({nonzero}) ORDER BY {key}"
        ))
        .bind(sid)
        .fetch_all(app.db.read())
        .await
        .unwrap();
        let n = key.split(", ").count() + measures::facts::COUNTERS.len();
        for r in rows {
            let mut v = vec![table.to_string()];
            for i in 0..n {
                v.push(match r.try_get::<i64, _>(i) {
                    Ok(x) => x.to_string(),
                    Err(_) => r.get::<String, _>(i),
                });
            }
            out.push(v);
        }
    }
    out
}

#[tokio::test]
async fn the_measures_of_a_known_data_set_are_exact_and_equal_a_recomputation() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let cases = known_data_set(&app, &f).await;
        let whole = today_filter();
        let t = mstore::totals(&app.db, f.sid, &whole).await.unwrap();
        let handling_ms = handling_of(&cases);
        assert!(handling_ms >= 0);
        assert_eq!(
            t,
            Facts {
                reported: 6,
                dispatched: 3,
                responded: 2,
                responded_on_time: 2,
                due: 3,
                closed: 2,
                closed_on_time: 2,
                resolvable: 4,
                resolved: 2,
                handled: 2,
                with_rework: 1,
                rated: 3,
                satisfied: 2,
                handling_ms,
                handling_count: 2,
            }
        );
        let text: Vec<String> = t.measures().iter().map(|m| m.value_text()).collect();
        assert_eq!(
            &text[..6],
            ["66.7%", "50.0%", "66.7%", "66.7%", "66.7%", "50.0%"]
        );

        // Scopes, categories and units.
        let scoped = |path: &str, below: bool| Filter {
            scope_path: Some(path.to_string()),
            below_grid: below,
            ..whole.clone()
        };
        let sid = f.sid;
        let path_of = |id: i64| {
            let db = app.db.clone();
            async move {
                redbutler::tree::store::node(&db, sid, id)
                    .await
                    .unwrap()
                    .path
            }
        };
        let community = path_of(f.community_a).await;
        let grid_a1 = path_of(f.grid_a1).await;
        let village = path_of(f.village).await;
        let building = path_of(f.building_a1).await;
        let reported = |f: Facts| f.reported;
        let q = |fl: Filter| {
            let db = app.db.clone();
            async move { mstore::totals(&db, sid, &fl).await.unwrap() }
        };
        assert_eq!(reported(q(scoped(&community, false)).await), 5);
        assert_eq!(reported(q(scoped(&grid_a1, false)).await), 4);
        assert_eq!(reported(q(scoped(&village, false)).await), 1);
        let in_building = q(scoped(&building, true)).await;
        assert_eq!(
            (in_building.reported, in_building.due),
            (4, 3),
            "A, B (in its unit), C, E"
        );
        let cat = |c: &str| Filter {
            category: Some(c.to_string()),
            ..whole.clone()
        };
        assert_eq!(reported(q(cat("env")).await), 5);
        assert_eq!(reported(q(cat("env.clutter")).await), 2);
        assert_eq!(reported(q(cat("property")).await), 1);
        assert_eq!(reported(q(cat("en")).await), 0, "a prefix is a whole code");
        let unit = Filter {
            owner_unit: Some(f.root),
            ..whole.clone()
        };
        assert_eq!(reported(q(unit).await), 4);
        // Another month holds nothing; a range with whole months and edges sums the same.
        let last_month = Filter::whole(
            period::month_minus(whole.from / 100, 1) * 100 + 1,
            period::month_minus(whole.from / 100, 1) * 100 + 28,
        );
        assert!(q(last_month).await.is_zero());
        let wide = Filter::whole(
            period::month_minus(whole.from / 100, 2) * 100 + 15,
            whole.to,
        );
        assert_eq!(q(wide).await, t);

        // Series and grids.
        let months = mstore::series(&app.db, f.sid, &whole, Bucket::Month)
            .await
            .unwrap();
        assert_eq!(months, vec![(whole.from / 100, t)]);
        let weeks = mstore::series(&app.db, f.sid, &whole, Bucket::Week)
            .await
            .unwrap();
        assert!(weeks.len() >= 5);
        let sum = weeks.iter().fold(Facts::default(), |a, (_, x)| a.plus(*x));
        assert_eq!(sum, t);
        let grids = mstore::by_grid(&app.db, f.sid, &whole).await.unwrap();
        assert_eq!(grids[&f.grid_a1].reported, 4);
        assert_eq!(grids[&f.grid_a2].reported, 1);
        assert_eq!(grids[&f.grid_v1].reported, 1);

        // The rollup kept on every write equals one rebuilt from the cases.
        let kept = rollup_rows(&app, f.sid).await;
        assert!(!kept.is_empty());
        assert_eq!(measures::recompute(&app.db, f.sid).await.unwrap(), 6);
        assert_eq!(rollup_rows(&app, f.sid).await, kept);
        assert_eq!(mstore::totals(&app.db, f.sid, &whole).await.unwrap(), t);
        // A lost rollup is repaired by the recomputation.
        sqlx::query("DELETE FROM case_rollup_whole WHERE subdistrict_id = $1")
            .bind(f.sid)
            .execute(app.db.write())
            .await
            .unwrap();
        assert!(mstore::totals(&app.db, f.sid, &whole)
            .await
            .unwrap()
            .is_zero());
        measures::recompute(&app.db, f.sid).await.unwrap();
        assert_eq!(rollup_rows(&app, f.sid).await, kept);
        // Another subdistrict sees none of it.
        let other = app.fixture_named("310118004", "另一街道").await;
        assert!(mstore::totals(&app.db, other.sid, &whole)
            .await
            .unwrap()
            .is_zero());
    })
    .await;
}

#[tokio::test]
async fn the_api_answers_each_measure_as_an_exact_fraction() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        known_data_set(&app, &f).await;
        let admin = app.token(&f, "admin").await;
        let (s, v) = app.get_json("/api/v1/measures", &admin).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["scope"]["node_id"], f.root);
        assert_eq!(v["period"]["preset"], "this_month");
        assert_eq!(v["counters"]["reported"], 6);
        let m = &v["measures"];
        assert_eq!(m["response"]["numerator"], 2);
        assert_eq!(m["response"]["denominator"], 3);
        assert_eq!(m["response"]["percent"], "66.7");
        assert_eq!(m["resolution"]["percent"], "50.0");
        assert_eq!(m["satisfaction"]["percent"], "66.7");
        assert_eq!(m["closure"]["percent"], "66.7");
        assert_eq!(m["on_time_closure"]["percent"], "66.7");
        assert_eq!(m["rework"]["percent"], "50.0");
        assert_eq!(m["handling_time"]["denominator"], 2);
        assert!(m["handling_time"]["average_ms"].is_i64());

        // Filters: a community, a category, custom days.
        let (s, v) = app
            .get_json(
                &format!("/api/v1/measures?node_id={}&category=env", f.grid_a1),
                &admin,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(
            v["counters"]["reported"], 4,
            "A, B, C, E in grid A1 and env"
        );
        let today = period::day_text(measures::today());
        let (_, v) = app
            .get_json(&format!("/api/v1/measures?from={today}&to={today}"), &admin)
            .await;
        assert_eq!(v["counters"]["reported"], 6);
        assert_eq!(v["period"]["preset"], Value::Null);
        // Nothing to measure shows null, never NaN.
        let (_, v) = app
            .get_json("/api/v1/measures?from=2025-01-01&to=2025-01-31", &admin)
            .await;
        assert_eq!(v["measures"]["response"]["percent"], Value::Null);
        assert_eq!(v["measures"]["response"]["denominator"], 0);

        // Series and grids.
        let (s, v) = app
            .get_json("/api/v1/measures/series?period=this_year", &admin)
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let points = v["points"].as_array().unwrap();
        assert_eq!(points.len(), 12);
        assert_eq!(
            points
                .iter()
                .map(|p| p["counters"]["reported"].as_i64().unwrap())
                .sum::<i64>(),
            6
        );
        let (s, v) = app
            .get_json("/api/v1/measures/series?bucket=week", &admin)
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["bucket"], "week");
        let (s, v) = app.get_json("/api/v1/measures/grids", &admin).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let grids = v["grids"].as_array().unwrap();
        assert_eq!(grids.len(), 3);
        let a1 = grids.iter().find(|g| g["grid"]["id"] == f.grid_a1).unwrap();
        assert_eq!(a1["counters"]["reported"], 4);
        assert_eq!(a1["grid"]["parent_name"], "章浜居民区");

        // Bad filters name their fields.
        let (s, v) = app
            .get_json(
                "/api/v1/measures?node_id=x&from=2026-13-01&category=nope&bucket=day",
                &admin,
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        let fields: Vec<&str> = v["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert_eq!(fields, ["node_id", "category", "from", "to"]);
        let (s, v) = app
            .get_json("/api/v1/measures/series?bucket=day", &admin)
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        let (s, _) = app
            .get_json("/api/v1/measures?from=2026-02-01&to=2026-01-01", &admin)
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);

        // Who: an auditor at community A sees it, not the subdistrict; a resident sees none.
        let auditor = app.token(&f, "auditor").await;
        let (s, v) = app.get_json("/api/v1/measures", &auditor).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["scope"]["node_id"], f.community_a);
        assert_eq!(v["counters"]["reported"], 5);
        let (s, _) = app
            .get_json(&format!("/api/v1/measures?node_id={}", f.root), &auditor)
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let gm = app.token(&f, "gm_a1").await;
        let (s, _) = app
            .get_json(&format!("/api/v1/measures?node_id={}", f.grid_a2), &gm)
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let resident = app.token(&f, "resident").await;
        let (s, _) = app.get_json("/api/v1/measures", &resident).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    })
    .await;
}

#[tokio::test]
async fn the_dashboard_and_its_export_show_the_same_figures() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        known_data_set(&app, &f).await;
        let (_, cookies) = app.browser_login("admin", PASSWORD).await;
        let (s, _, page) = app.browser_get("/measures", &cookies).await;
        assert_eq!(s, StatusCode::OK, "{page}");
        assert!(page.contains("响应率") && page.contains("66.7%"), "{page}");
        assert!(page.contains("2 / 3"));
        assert!(page.contains("<svg"), "the trend is drawn on the server");
        assert!(!page.contains("NaN"));
        assert!(
            page.contains("章浜一网格") && page.contains("金米一网格"),
            "grid tiles"
        );
        assert!(page.contains("/measures.xlsx"));
        // Coloured by another measure, filtered to a grid.
        let (s, _, page) = app
            .browser_get(
                &format!(
                    "/measures?node_id={}&measure=rework&period=this_year",
                    f.grid_a1
                ),
                &cookies,
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        assert!(page.contains("返工率"));
        assert!(page.contains("50.0%"));
        // Bad filters re-render the form with the message by its field.
        let (s, _, page) = app
            .browser_get("/measures?period=custom&from=2026-01-01&to=bad", &cookies)
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.contains("请填写日期"), "{page}");
        // The export.
        let (s, h, _) = app.browser_get("/measures.xlsx", &cookies).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(
            h[header::CONTENT_TYPE],
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        );
        let req = axum::http::Request::get("/measures.xlsx")
            .header(header::COOKIE, &cookies)
            .body(axum::body::Body::empty())
            .unwrap();
        let (_, _, bytes) = app.send(req).await;
        use calamine::{open_workbook_from_rs, Reader, Xlsx};
        let mut wb: Xlsx<_> = open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
        assert_eq!(wb.sheet_names(), ["总计", "网格", "月度"]);
        let totals = wb.worksheet_range("总计").unwrap();
        let cell = |r: u32, c: u32| {
            totals
                .get_value((r, c))
                .map(|v| v.to_string())
                .unwrap_or_default()
        };
        assert_eq!(cell(6, 0), MeasureKind::Response.label().zh);
        assert_eq!(
            (cell(6, 1), cell(6, 2), cell(6, 3)),
            ("2".into(), "3".into(), "0.667".into())
        );
        let grids = wb.worksheet_range("网格").unwrap();
        assert_eq!(grids.height(), 4, "a header and three grids");
        // A resident has no dashboard.
        let (_, rc) = app.browser_login("resident", PASSWORD).await;
        let (s, _, _) = app.browser_get("/measures", &rc).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    })
    .await;
}
