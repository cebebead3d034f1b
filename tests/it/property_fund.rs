//! The special maintenance fund (专项维修资金) through the API on both databases: first
//! deposits from area × rate, a withdrawal refused without an approved owners' vote and
//! accepted with one, apportioned by area to the fen; refusals that say why; reversals once;
//! emergency approvals within their 7 days; two withdrawals racing for the last of a balance;
//! statements for the room's owner; the export verifying, and failing once a line is changed
//! behind the ledger's back.

use axum::http::StatusCode;
use redbutler::access::Role;
use redbutler::property::fund::export;
use redbutler::tree::store as tree;
use serde_json::{json, Value};

use crate::harness::{at_node, for_each_db, Fixture, TestApp};

fn now() -> i64 {
    redbutler::clock::now_ms()
}

async fn room(app: &TestApp, f: &Fixture, number: &str, area: i64) -> i64 {
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
    // The fixture's resident owns every room of building A1, so their vote decides.
    redbutler::people::store::add_owner(
        &mut tx,
        f.sid,
        r.id,
        redbutler::people::store::OwnerRef::Person(f.person_a1),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    r.id
}

/// An approved matter-5 vote on building A1: the resident (owner of 502) votes yes, and the
/// vote is closed after its period.
async fn approved_vote(app: &TestApp, f: &Fixture, admin: &str, resident: &str) -> i64 {
    let closes = now() + 3_600_000;
    let (s, v) = app
        .post_json(
            "/api/v1/votes",
            admin,
            json!({ "scope_node_id": f.building_a1, "title": "使用维修资金更换水泵",
                "matter": "use_fund", "closes_at": closes }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v["id"].as_i64().unwrap();
    let (s, v) = app
        .post_json(&format!("/api/v1/votes/{id}/open"), admin, json!({}))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = app
        .post_json(
            &format!("/api/v1/votes/{id}/ballots"),
            resident,
            json!({ "choice": { "kind": "yes" } }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    id
}

async fn close_vote(app: &TestApp, f: &Fixture, id: i64) {
    redbutler::votes::desk::store::close(&app.db, &f.admin, id, now() + 7_200_000)
        .await
        .unwrap();
}

async fn post(app: &TestApp, token: &str, building: i64, body: Value) -> (StatusCode, Value) {
    app.post_json(
        &format!("/api/v1/fund/buildings/{building}/postings"),
        token,
        body,
    )
    .await
}

/// The sums of `fund_lines` per room must equal the room accounts and the head.
async fn balances_equal_the_sum_of_entries(app: &TestApp, f: &Fixture, building: i64) {
    use sqlx::Row;
    let rows = sqlx::query(
        "SELECT a.room_id, a.balance, (SELECT CAST(COALESCE(SUM(l.amount), 0) AS BIGINT) FROM fund_lines l \
         WHERE l.subdistrict_id = a.subdistrict_id AND l.room_id = a.room_id) AS s \
         FROM fund_rooms a WHERE a.subdistrict_id = $1 AND a.building_id = $2",
    )
    .bind(f.sid)
    .bind(building)
    .fetch_all(app.db.read())
    .await
    .unwrap();
    let mut total = 0;
    for r in &rows {
        assert_eq!(r.get::<i64, _>("balance"), r.get::<i64, _>("s"));
        total += r.get::<i64, _>("balance");
    }
    let head = app
        .count_sql(
            &format!(
                "SELECT balance FROM fund_heads WHERE subdistrict_id = $1 AND building_id = {building}"
            ),
            f.sid,
        )
        .await;
    assert_eq!(head, total);
}

#[tokio::test]
async fn deposits_a_voted_withdrawal_reversals_and_statements() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let admin = app.token(&f, "admin").await;
        let resident = app.token(&f, "resident").await;
        let auditor = app.token(&f, "auditor").await;
        // A grid member of the place reads the fund; an auditor only through an engagement.
        let reader = app.token(&f, "gm_a1").await;
        let b = f.building_a1;
        let r503 = room(&app, &f, "503", 9_001).await;
        let r504 = room(&app, &f, "504", 7_317).await;

        // First deposits: area × 123.45 yuan per m², half up. 85.50 × 12345 = 1,055,497.5.
        let (s, p) = post(&app, &admin, b, json!({ "kind": "first_deposit", "rate_fen_per_m2": 12_345, "memo": "首期归集" })).await;
        assert_eq!(s, StatusCode::CREATED, "{p}");
        assert_eq!(p["seq"], 1);
        let lines = p["lines"].as_array().unwrap();
        assert!(lines.contains(&json!([f.room_a1, 1_055_498])), "{p}");
        assert!(lines.contains(&json!([r503, 1_111_173])), "{p}");
        assert!(lines.contains(&json!([r504, 903_284])), "{p}");
        let first_total = 1_055_498 + 1_111_173 + 903_284;
        assert_eq!(p["amount"], first_total);
        // A second first deposit finds no room without one.
        let (s, e) = post(&app, &admin, b, json!({ "kind": "first_deposit", "rate_fen_per_m2": 100 })).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");

        // A withdrawal without an approved decision is refused with the reason.
        let (s, e) = post(&app, &admin, b, json!({ "kind": "withdrawal", "amount": 100_000, "cost_review": "审价 1" })).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        assert!(e.to_string().contains("业主大会表决通过"), "{e}");
        let vote = approved_vote(&app, &f, &admin, &resident).await;
        let (s, e) = post(&app, &admin, b, json!({ "kind": "withdrawal", "amount": 100_000, "vote_id": vote, "cost_review": "审价 1" })).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        assert!(e.to_string().contains("尚未结束"), "{e}");
        close_vote(&app, &f, vote).await;
        // Not for another building's rooms, and never without a cost review.
        let (s, e) = post(&app, &admin, f.building_a2, json!({ "kind": "withdrawal", "amount": 1, "vote_id": vote, "cost_review": "x" })).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        let (s, e) = post(&app, &admin, b, json!({ "kind": "withdrawal", "amount": 100_000, "vote_id": vote })).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        assert!(e.to_string().contains("cost review") || e.to_string().contains("费用审核"), "{e}");

        // The preview shows the apportionment; the withdrawal posts exactly that.
        let body = json!({ "kind": "withdrawal", "amount": 100_001, "vote_id": vote, "cost_review": "审价报告 2026-031", "memo": "更换水泵" });
        let (s, pv) = app.post_json(&format!("/api/v1/fund/buildings/{b}/preview"), &admin, body.clone()).await;
        assert_eq!(s, StatusCode::OK, "{pv}");
        assert_eq!(pv["total"], -100_001);
        let (s, w) = post(&app, &admin, b, body).await;
        assert_eq!(s, StatusCode::CREATED, "{w}");
        assert_eq!(w["lines"], pv["lines"]);
        assert_eq!(w["reference"], json!({ "kind": "vote", "id": vote }));
        // 85.50 : 90.01 : 73.17 of 100,001 fen: floors 34,381 + 36,195 + 29,423 leave 2 fen, which go
        // to the two largest remainders (502 and 504).
        assert_eq!(w["lines"], json!([[f.room_a1, -34_382], [r503, -36_195], [r504, -29_424]]));
        balances_equal_the_sum_of_entries(&app, &f, b).await;

        // More than a room holds: refused, naming the rooms short.
        let (s, e) = post(&app, &admin, b, json!({ "kind": "withdrawal", "amount": 4_000_000, "vote_id": vote, "cost_review": "x" })).await;
        assert_eq!(s, StatusCode::CONFLICT, "{e}");
        assert!(e.to_string().contains(&format!("房屋 {}", f.room_a1)), "{e}");

        // Reversal: once, with a reason; a reversal is not reversed.
        let (s, e) = post(&app, &admin, b, json!({ "kind": "reversal", "reverses": 2 })).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        let (s, r) = post(&app, &admin, b, json!({ "kind": "reversal", "reverses": 2, "memo": "审价金额有误" })).await;
        assert_eq!(s, StatusCode::CREATED, "{r}");
        assert_eq!(r["amount"], 100_001);
        let (s, e) = post(&app, &admin, b, json!({ "kind": "reversal", "reverses": 2, "memo": "again" })).await;
        assert_eq!(s, StatusCode::CONFLICT, "{e}");
        let (s, e) = post(&app, &admin, b, json!({ "kind": "reversal", "reverses": 3, "memo": "x" })).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        let (s, e) = post(&app, &admin, b, json!({ "kind": "reversal", "reverses": 99, "memo": "x" })).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        // Interest by balance, a top-up by area.
        let (s, i) = post(&app, &admin, b, json!({ "kind": "interest", "amount": 3_071 })).await;
        assert_eq!(s, StatusCode::CREATED, "{i}");
        let (s, _) = post(&app, &admin, b, json!({ "kind": "top_up", "amount": 50_000, "memo": "2026 Q1 公共收益" })).await;
        assert_eq!(s, StatusCode::CREATED);
        balances_equal_the_sum_of_entries(&app, &f, b).await;

        // Who may do what.
        let (s, _) = post(&app, &reader, b, json!({ "kind": "deposit", "amount": 1 })).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, d) = app.get_json(&format!("/api/v1/fund/buildings/{b}"), &auditor).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{d}");
        let (s, d) = app.get_json(&format!("/api/v1/fund/buildings/{b}"), &reader).await;
        assert_eq!(s, StatusCode::OK, "{d}");
        assert_eq!(d["fund"]["seq"], 5);
        assert_eq!(d["fund"]["first_deposit_total"], first_total);
        assert_eq!(d["may"]["post"], false);
        let (s, _) = app.get_json(&format!("/api/v1/fund/buildings/{b}"), &resident).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, st) = app.get_json(&format!("/api/v1/fund/rooms/{}", f.room_a1), &resident).await;
        assert_eq!(s, StatusCode::OK, "{st}");
        assert_eq!(st["lines"].as_array().unwrap().len(), 5, "{st}");
        assert_eq!(st["first_deposit"], 1_055_498);
        // Another owner's room is not theirs to read.
        let (s, _) = app.get_json(&format!("/api/v1/fund/rooms/{}", f.room_a2), &resident).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, list) = app.get_json("/api/v1/fund/buildings", &admin).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(list["funds"].as_array().unwrap().len(), 2, "{list}");

        // Half-yearly publication: a notice and an XLSX the owner can download; once per period.
        let (s, pb) = app
            .post_json(&format!("/api/v1/fund/buildings/{b}/publications"), &admin, json!({ "period": "2026-H1" }))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{pb}");
        assert!(pb["notice"].as_str().unwrap().contains("专项维修资金账目公示(2026-H1)"), "{pb}");
        assert_eq!(pb["through_seq"], 5);
        let (s, e) = app
            .post_json(&format!("/api/v1/fund/buildings/{b}/publications"), &admin, json!({ "period": "2026-H1" }))
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "{e}");
        let (s, e) = app
            .post_json(&format!("/api/v1/fund/buildings/{b}/publications"), &admin, json!({ "period": "2026-Q1" }))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        let pid = pb["id"].as_i64().unwrap();
        let (s, h, file) = app
            .send(
                axum::http::Request::get(format!("/api/v1/fund/publications/{pid}/xlsx"))
                    .header("authorization", format!("Bearer {resident}"))
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        assert!(h["content-type"].to_str().unwrap().contains("spreadsheetml"));
        {
            use calamine::{Reader, Xlsx};
            let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(file)).unwrap();
            let rooms = wb.worksheet_range("分户账").unwrap();
            let cells: Vec<String> = rooms.cells().map(|(_, _, c)| c.to_string()).collect();
            assert!(cells.iter().any(|c| c == "1单元 502"), "{cells:?}");
            let entries = wb.worksheet_range("分录").unwrap();
            assert_eq!(entries.height(), 6);
        }

        // The export verifies; a line changed behind the ledger's back is found.
        let (s, _, body) = app
            .send(
                axum::http::Request::get(format!("/api/v1/fund/buildings/{b}/export"))
                    .header("authorization", format!("Bearer {reader}"))
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        let x = export::from_slice(&body).unwrap();
        let report = export::verify(&x);
        assert!(report.ok, "{:?}", report.render(redbutler::i18n::Lang::En));
        assert_eq!(x.approvals.len(), 1);
        // The database itself refuses to change or delete an entry...
        let tamper = "UPDATE fund_lines SET amount = amount - 1 WHERE subdistrict_id = $1 AND seq = 2 AND room_id = $2";
        let refused = sqlx::query(tamper).bind(f.sid).bind(r503).execute(app.db.write()).await;
        assert!(refused.unwrap_err().to_string().contains("append-only"));
        let refused = sqlx::query("DELETE FROM fund_postings WHERE subdistrict_id = $1")
            .bind(f.sid)
            .execute(app.db.write())
            .await;
        assert!(refused.unwrap_err().to_string().contains("append-only"));
        // ...so only someone who first drops its guard can, and the chain still tells.
        let drop = if app.backend == "sqlite" {
            "DROP TRIGGER fund_lines_no_update"
        } else {
            "DROP TRIGGER fund_lines_no_update ON fund_lines"
        };
        sqlx::query(drop).execute(app.db.write()).await.unwrap();
        sqlx::query(tamper)
            .bind(f.sid)
            .bind(r503)
            .execute(app.db.write())
            .await
            .unwrap();
        let x = store_export(&app, &f, b).await;
        let report = export::verify(&x);
        let bad = report.first_failure().unwrap();
        assert_eq!((bad.name, bad.at), ("chain", Some(2)), "{:?}", bad);
    })
    .await;
}

async fn store_export(app: &TestApp, f: &Fixture, b: i64) -> export::Export {
    redbutler::property::fund::store::export(&app.db, &f.admin, b, now())
        .await
        .unwrap()
}

#[tokio::test]
async fn two_withdrawals_racing_for_the_last_of_a_balance_cannot_both_succeed() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let staff = app
            .user_token(&f, "staff_c", Role::CommunityStaff, at_node(f.community_a))
            .await;
        let b = f.building_a2;
        let (s, _) = post(&app, &staff, b, json!({ "kind": "deposit", "amount": 10_000 })).await;
        assert_eq!(s, StatusCode::CREATED);
        let today = redbutler::votes::desk::store::local_date(now());
        let mut ids = Vec::new();
        for who in ["物业经理甲", "业委会主任乙"] {
            let (s, e) = app
                .post_json(
                    &format!("/api/v1/fund/buildings/{b}/emergencies"),
                    &staff,
                    json!({ "approver": who, "reason": "水管爆裂", "approved_on": today }),
                )
                .await;
            assert_eq!(s, StatusCode::CREATED, "{e}");
            ids.push(e["id"].as_i64().unwrap());
        }
        let w = |id: i64| {
            json!({ "kind": "withdrawal", "amount": 6_000, "emergency_id": id, "cost_review": "应急审价" })
        };
        let (a, c) = tokio::join!(post(&app, &staff, b, w(ids[0])), post(&app, &staff, b, w(ids[1])));
        let mut codes = [a.0, c.0];
        codes.sort();
        assert_eq!(codes, [StatusCode::CREATED, StatusCode::CONFLICT], "{} / {}", a.1, c.1);
        let loser = if a.0 == StatusCode::CONFLICT { &a.1 } else { &c.1 };
        assert!(loser.to_string().contains("余额不足") || loser.to_string().contains("not enough"), "{loser}");
        balances_equal_the_sum_of_entries(&app, &f, b).await;
        let (_, d) = app.get_json(&format!("/api/v1/fund/buildings/{b}"), &staff).await;
        assert_eq!(d["fund"]["balance"], 4_000);
        // The used approval cannot be used again.
        let winner = if a.0 == StatusCode::CREATED { ids[0] } else { ids[1] };
        let (s, e) = post(&app, &staff, b, json!({ "kind": "withdrawal", "amount": 1, "emergency_id": winner, "cost_review": "x" })).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        // An old approval is refused: 7 days at most.
        let (s, e) = app
            .post_json(
                &format!("/api/v1/fund/buildings/{b}/emergencies"),
                &staff,
                json!({ "approver": "甲", "reason": "漏水", "approved_on": "2026-01-01" }),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{e}");
        let old = e["id"].as_i64().unwrap();
        let (s, e) = post(&app, &staff, b, json!({ "kind": "withdrawal", "amount": 1, "emergency_id": old, "cost_review": "x" })).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        assert!(e.to_string().contains("7"), "{e}");
    })
    .await;
}

#[tokio::test]
async fn a_balance_below_thirty_percent_of_the_first_deposit_raises_the_alert() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let admin = app.token(&f, "admin").await;
        let b = f.building_a2;
        let (s, p) = post(&app, &admin, b, json!({ "kind": "first_deposit", "rate_fen_per_m2": 10_000 })).await;
        assert_eq!(s, StatusCode::CREATED, "{p}");
        // 60.00 m² × 100 yuan = 6,000 yuan; 30 % is 1,800 yuan.
        assert_eq!(p["amount"], 600_000);
        let today = redbutler::votes::desk::store::local_date(now());
        let (_, e) = app
            .post_json(
                &format!("/api/v1/fund/buildings/{b}/emergencies"),
                &admin,
                json!({ "approver": "甲", "reason": "电梯故障", "approved_on": today }),
            )
            .await;
        let id = e["id"].as_i64().unwrap();
        let (s, _) = post(&app, &admin, b, json!({ "kind": "withdrawal", "amount": 420_000, "emergency_id": id, "cost_review": "审价" })).await;
        assert_eq!(s, StatusCode::CREATED);
        let (_, d) = app.get_json(&format!("/api/v1/fund/buildings/{b}"), &admin).await;
        assert_eq!(d["fund"]["balance"], 180_000);
        assert_eq!(d["fund"]["low_balance"], false, "exactly 30 % is not below");
        let (s, _) = post(&app, &admin, b, json!({ "kind": "reversal", "reverses": 2, "memo": "x" })).await;
        assert_eq!(s, StatusCode::CREATED);
        let (_, e) = app
            .post_json(
                &format!("/api/v1/fund/buildings/{b}/emergencies"),
                &admin,
                json!({ "approver": "乙", "reason": "电梯故障", "approved_on": today }),
            )
            .await;
        let id = e["id"].as_i64().unwrap();
        let (s, _) = post(&app, &admin, b, json!({ "kind": "withdrawal", "amount": 420_001, "emergency_id": id, "cost_review": "审价" })).await;
        assert_eq!(s, StatusCode::CREATED);
        let (_, list) = app.get_json("/api/v1/fund/buildings", &admin).await;
        let f2 = list["funds"].as_array().unwrap().iter().find(|x| x["building_id"] == b).cloned().unwrap();
        assert_eq!(f2["low_balance"], true, "{f2}");
        assert_eq!(f2["top_up_needed"], 1);
    })
    .await;
}

#[tokio::test]
async fn the_desk_pages_post_preview_and_show_statements() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let b = f.building_a1;
        let (_, admin) = app.browser_login("admin", crate::harness::PASSWORD).await;
        let (s, _, body) = app.browser_get("/fund", &admin).await;
        assert_eq!(s, StatusCode::OK);
        assert!(body.contains("城中东路311号"), "{body}");
        // A first deposit at 100.00 yuan per m², then a top-up previewed and posted.
        let (s, _, body) = app
            .browser_post(
                &format!("/fund/buildings/{b}/postings"),
                &admin,
                "kind=first_deposit&rate_yuan=100&action=post",
            )
            .await;
        assert_eq!(s, StatusCode::SEE_OTHER, "{body}");
        let (s, _, body) = app
            .browser_post(
                &format!("/fund/buildings/{b}/postings"),
                &admin,
                "kind=top_up&amount_yuan=12.34&action=preview",
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        assert!(body.contains("分摊预览"), "{body}");
        assert!(body.contains("12.34"), "{body}");
        // A withdrawal with no decision re-renders with the reason.
        let (s, _, body) = app
            .browser_post(
                &format!("/fund/buildings/{b}/postings"),
                &admin,
                "kind=withdrawal&amount_yuan=10&cost_review=x&action=post",
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(body.contains("业主大会表决通过"), "{body}");
        let (s, _, body) = app
            .browser_post(
                &format!("/fund/buildings/{b}/postings"),
                &admin,
                "kind=deposit&amount_yuan=1.2.3&action=post",
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let (s, _, body) = app
            .browser_get(&format!("/fund/buildings/{b}"), &admin)
            .await;
        assert_eq!(s, StatusCode::OK);
        assert!(body.contains("8550.00"), "{body}");
        // The owner reads their room's statement on a phone.
        let (_, res) = app
            .browser_login("resident", crate::harness::PASSWORD)
            .await;
        let (s, _, body) = app
            .browser_get(&format!("/fund/rooms/{}", f.room_a1), &res)
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        assert!(body.contains("首期归集"), "{body}");
        assert!(body.contains("8550.00"), "{body}");
        let (s, _, _) = app.browser_get(&format!("/fund/buildings/{b}"), &res).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    })
    .await;
}
