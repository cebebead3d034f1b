//! The joint office's API under `/api/v1`.
//!
//! - `GET /offices` → `{"offices": [...]}`; `POST /offices` `{node_id, name, room?,
//!   residents_committee_id?, owners_committee_id?, property_company_id?, slots: [{weekday,
//!   start, end}], skip_holidays?, tolerance_minutes?}` → 201.
//! - `GET /offices/{id}?week=YYYY-MM-DD` → the office, the week's sittings with their
//!   check-ins, open matters, and what the actor may do; `PUT /offices/{id}` (same body, with
//!   `version`).
//! - `POST /offices/{id}/checkins` `{day, start, party, at?}` → 201;
//!   `POST /offices/{id}/checkins/{checkin_id}/checkout`.
//! - `GET|POST /offices/{id}/visitors` (names masked in the list).
//! - `GET|POST /offices/{id}/matters`; `POST /offices/{id}/matters/{matter_id}/done`
//!   `{resolution}`; `POST /offices/{id}/matters/{matter_id}/case` `{category, node_id?,
//!   title?, description?}` → 201 with the matter and the case.
//! - `GET /offices/{id}/report?month=YYYY-MM` → the monthly report.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use time::Duration;

use super::rules;
use super::store::{self, NewCheckIn, NewMatter, NewOffice, NewVisitor, ToCase};
use crate::access::Actor;
use crate::error::{Error, Result};
use crate::i18n::Text;
use crate::web::errors::Json as Body;
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/offices", get(list).post(create))
        .route("/offices/{id}", get(show).put(update))
        .route("/offices/{id}/checkins", post(check_in))
        .route(
            "/offices/{id}/checkins/{checkin_id}/checkout",
            post(check_out),
        )
        .route("/offices/{id}/visitors", get(visitors).post(add_visitor))
        .route("/offices/{id}/matters", get(matters).post(add_matter))
        .route("/offices/{id}/matters/{matter_id}/done", post(matter_done))
        .route("/offices/{id}/matters/{matter_id}/case", post(matter_case))
        .route("/offices/{id}/report", get(report))
}

fn to_json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or_default()
}

async fn list(State(st): State<AppState>, actor: Actor) -> Result<Json<Value>> {
    Ok(Json(
        json!({ "offices": store::list(&st.db, &actor).await? }),
    ))
}

async fn create(
    State(st): State<AppState>,
    actor: Actor,
    Body(o): Body<NewOffice>,
) -> Result<(StatusCode, Json<Value>)> {
    let o = store::create(&st.db, &actor, o).await?;
    Ok((StatusCode::CREATED, Json(to_json(&o))))
}

async fn update(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
    Body(o): Body<NewOffice>,
) -> Result<Json<Value>> {
    Ok(Json(to_json(&store::update(&st.db, &actor, id, o).await?)))
}

#[derive(Deserialize, Default)]
struct WeekQ {
    #[serde(default)]
    week: Option<String>,
}

/// The Monday of the asked week (default: this week).
pub(super) fn week_of(q: Option<&str>) -> Result<time::Date> {
    let today = crate::clock::to_local(crate::clock::now_ms()).date();
    match q.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(rules::week_start(today)),
        Some(s) => rules::parse_day(s).map(rules::week_start).ok_or_else(|| {
            Error::field(
                "week",
                Text::new("日期格式为 2026-11-03", "the date is written 2026-11-03"),
            )
        }),
    }
}

async fn show(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
    Query(q): Query<WeekQ>,
) -> Result<Json<Value>> {
    let db = &st.db;
    let sid = actor.subdistrict_id;
    let o = store::readable(db, &actor, id).await?;
    let from = week_of(q.week.as_deref())?;
    let to = from + Duration::days(6);
    let plan = store::planned(db, sid, &o, from, to).await?;
    let checkins = store::checkins(db, sid, o.id, from, to).await?;
    let sittings: Vec<Value> = plan
        .iter()
        .map(|s| {
            json!({
                "day": rules::format_day(s.day), "start_min": s.start_min, "end_min": s.end_min,
                "start_at": s.start_ms(), "end_at": s.end_ms(),
                "checkins": checkins.iter().filter(|c| c.sitting() == Some(*s)).collect::<Vec<_>>(),
            })
        })
        .collect();
    Ok(Json(json!({
        "office": o,
        "week": rules::format_day(from),
        "sittings": sittings,
        "open_matters": store::open_matters(db, sid, o.id).await?,
        "may": {
            "manage": store::manages(&actor, &o.node_path),
            "take_part": o.takes_part(&actor),
            "check_in_for": o.parties_of(&actor),
        },
    })))
}

async fn check_in(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
    Body(c): Body<NewCheckIn>,
) -> Result<(StatusCode, Json<Value>)> {
    let c = store::check_in(&st.db, &actor, id, c).await?;
    Ok((StatusCode::CREATED, Json(to_json(&c))))
}

async fn check_out(
    State(st): State<AppState>,
    actor: Actor,
    Path((id, checkin_id)): Path<(i64, i64)>,
) -> Result<Json<Value>> {
    Ok(Json(to_json(
        &store::check_out(&st.db, &actor, id, checkin_id).await?,
    )))
}

#[derive(Deserialize, Default)]
struct RangeQ {
    /// Unix ms, inclusive.
    #[serde(default)]
    from: Option<i64>,
    /// Unix ms, exclusive.
    #[serde(default)]
    to: Option<i64>,
}

async fn visitors(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
    Query(q): Query<RangeQ>,
) -> Result<Json<Value>> {
    let o = store::readable(&st.db, &actor, id).await?;
    let v = store::visitors(
        &st.db,
        actor.subdistrict_id,
        o.id,
        q.from.unwrap_or(0),
        q.to.unwrap_or(i64::MAX),
    )
    .await?;
    Ok(Json(json!({ "visitors": v })))
}

async fn add_visitor(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
    Body(v): Body<NewVisitor>,
) -> Result<(StatusCode, Json<Value>)> {
    let v = store::add_visitor(&st.db, &actor, id, v).await?;
    Ok((StatusCode::CREATED, Json(to_json(&v))))
}

async fn matters(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
    Query(q): Query<RangeQ>,
) -> Result<Json<Value>> {
    let o = store::readable(&st.db, &actor, id).await?;
    let m = store::matters(
        &st.db,
        actor.subdistrict_id,
        o.id,
        q.from.unwrap_or(0),
        q.to.unwrap_or(i64::MAX),
    )
    .await?;
    Ok(Json(json!({ "matters": m })))
}

async fn add_matter(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
    Body(m): Body<NewMatter>,
) -> Result<(StatusCode, Json<Value>)> {
    let m = store::add_matter(&st.db, &actor, id, m).await?;
    Ok((StatusCode::CREATED, Json(to_json(&m))))
}

#[derive(Deserialize, Default)]
struct DoneBody {
    #[serde(default)]
    resolution: String,
}

async fn matter_done(
    State(st): State<AppState>,
    actor: Actor,
    Path((id, matter_id)): Path<(i64, i64)>,
    Body(b): Body<DoneBody>,
) -> Result<Json<Value>> {
    Ok(Json(to_json(
        &store::matter_done(&st.db, &actor, id, matter_id, &b.resolution).await?,
    )))
}

async fn matter_case(
    State(st): State<AppState>,
    actor: Actor,
    Path((id, matter_id)): Path<(i64, i64)>,
    Body(t): Body<ToCase>,
) -> Result<(StatusCode, Json<Value>)> {
    let (m, c) = store::matter_to_case(&st.db, &actor, id, matter_id, t).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "matter": m, "case": { "id": c.id, "number": c.number } })),
    ))
}

#[derive(Deserialize, Default)]
struct MonthQ {
    #[serde(default)]
    month: Option<String>,
}

/// The asked month, default the current one (`YYYY-MM`).
pub(super) fn month_or_now(q: Option<&str>) -> String {
    match q.map(str::trim).filter(|s| !s.is_empty()) {
        Some(m) => m.to_string(),
        None => {
            let d = crate::clock::to_local(crate::clock::now_ms()).date();
            format!("{:04}-{:02}", d.year(), u8::from(d.month()))
        }
    }
}

async fn report(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
    Query(q): Query<MonthQ>,
) -> Result<Json<Value>> {
    let month = month_or_now(q.month.as_deref());
    let (o, r) = store::month_report(&st.db, &actor, id, &month, crate::clock::now_ms()).await?;
    let parties: Vec<Value> = r
        .report
        .parties
        .iter()
        .map(|l| {
            json!({
                "party": l.party, "attended": l.attendance.num, "due": l.attendance.den,
                "attendance": l.attendance.fraction(), "attendance_per_mille": l.attendance.per_mille(),
                "late": l.late, "left_early": l.left_early, "matters_taken": l.matters_taken,
                "matters_open": l.matters_open, "matters_case": l.matters_case, "matters_done": l.matters_done,
            })
        })
        .collect();
    Ok(Json(json!({
        "office": { "id": o.id, "name": o.name, "node_id": o.node_id },
        "month": r.month,
        "sittings_due": r.report.sittings_due,
        "full_attendance": r.report.full_attendance.fraction(),
        "full_attendance_per_mille": r.report.full_attendance.per_mille(),
        "parties": parties,
        "visitors": r.report.visitors,
        "matters": r.report.matters,
        "matters_case": r.report.matters_case,
        "matters_done": r.report.matters_done,
        "handled": r.report.handled.fraction(),
        "handled_per_mille": r.report.handled.per_mille(),
    })))
}
