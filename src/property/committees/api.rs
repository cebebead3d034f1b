//! The committees' API under `/api/v1`.
//!
//! - `GET /committees` → `{"committees": [overview…]}` (each with its current term, estate
//!   area, sitting members' count, last activity, alerts and running re-election);
//!   `POST /committees` `{node_id, name, seats, term_years, starts_on}` → 201.
//! - `GET /committees/reelection-counts?from=YYYY-MM-DD&to=YYYY-MM-DD` (both days included;
//!   default: the last two years) → `{started, completed, running}` (subdistrict-wide readers).
//! - `GET /committees/{id}` → the overview, members (sitting and past), activities,
//!   re-elections with their steps, and what the actor may do.
//! - `POST /committees/{id}/members` `{person_id?, name?, office, starts_on?}` → 201;
//!   `POST /committees/{id}/members/{member_id}/end` `{reason, ends_on?, note?}`;
//!   `POST /committees/{id}/members/{member_id}/office` `{office}`.
//! - `POST /committees/{id}/activities` `{kind, held_on?, title, note?}` → 201.
//! - `POST /committees/{id}/reelections` `{trigger, started_on?, term_years?, note?}` → 201:
//!   starts a re-election and opens its re-election period.
//! - `POST /committees/{id}/reelection/steps` `{step, done_on?, note?, vote_id?, elected?}`:
//!   records the running re-election's next step; `filing` completes it.
//! - `POST /committees/{id}/reelection/cancel` `{reason}`: cancels it (the period ends now).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::rules::{self, SIZE_RULE};
use super::store::{self, EndMember, NewActivity, NewCommittee, NewMember, NewReelection, NewStep};
use crate::access::{allows, Action, Actor, Target};
use crate::clock::{now_ms, parse_local_date};
use crate::error::{Error, Result};
use crate::i18n::Text;
use crate::web::errors::Json as Body;
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/committees", get(list).post(create))
        .route("/committees/reelection-counts", get(counts))
        .route("/committees/{id}", get(show))
        .route("/committees/{id}/members", post(add_member))
        .route("/committees/{id}/members/{member_id}/end", post(end_member))
        .route(
            "/committees/{id}/members/{member_id}/office",
            post(set_office),
        )
        .route("/committees/{id}/activities", post(add_activity))
        .route("/committees/{id}/reelections", post(start_reelection))
        .route("/committees/{id}/reelection/steps", post(record_step))
        .route(
            "/committees/{id}/reelection/cancel",
            post(cancel_reelection),
        )
}

fn to_json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or_default()
}

/// The alerts with their text in both languages.
pub fn alerts_json(alerts: &[rules::Alert]) -> Value {
    Value::Array(
        alerts
            .iter()
            .map(|a| {
                let mut v = to_json(a);
                let t = a.text();
                v["text"] = json!({ "zh": t.zh, "en": t.en });
                v
            })
            .collect(),
    )
}

fn overview_json(o: &store::Overview) -> Value {
    let mut v = to_json(o);
    v["alerts"] = alerts_json(&o.alerts);
    v
}

async fn list(State(st): State<AppState>, actor: Actor) -> Result<Json<Value>> {
    let list = store::list(&st.db, &actor, now_ms()).await?;
    Ok(Json(json!({
        "committees": list.iter().map(overview_json).collect::<Vec<_>>(),
        "size_rule": SIZE_RULE,
    })))
}

async fn create(
    State(st): State<AppState>,
    actor: Actor,
    Body(n): Body<NewCommittee>,
) -> Result<(StatusCode, Json<Value>)> {
    let c = store::create(&st.db, &actor, n, now_ms()).await?;
    Ok((StatusCode::CREATED, Json(to_json(&c))))
}

#[derive(Deserialize, Default)]
struct CountsQ {
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
}

async fn counts(
    State(st): State<AppState>,
    actor: Actor,
    Query(q): Query<CountsQ>,
) -> Result<Json<Value>> {
    let sid = actor.subdistrict_id;
    let root = format!("/{sid}/");
    if !allows(&actor, Action::ReadTree, Target::Node { path: &root }) {
        return Err(Error::Forbidden);
    }
    let now = now_ms();
    let today = store::today(now);
    let day = |s: Option<&str>, name: &str, default: time::Date| -> Result<i64> {
        let d = match s.map(str::trim).filter(|s| !s.is_empty()) {
            None => default,
            Some(s) => rules::parse_date(s).ok_or_else(|| {
                Error::field(
                    name,
                    Text::new("日期格式为 YYYY-MM-DD", "a date is YYYY-MM-DD"),
                )
            })?,
        };
        parse_local_date(&rules::format_date(d))
            .ok_or_else(|| Error::field(name, Text::new("日期有误", "not a valid date")))
    };
    let from = day(q.from.as_deref(), "from", rules::add_months(today, -24))?;
    let to = day(q.to.as_deref(), "to", today)? + 86_400_000;
    let c = store::reelection_counts(&st.db, sid, from, to).await?;
    Ok(Json(to_json(&c)))
}

async fn show(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Json<Value>> {
    let (c, s) = store::readable(&st.db, &actor, id).await?;
    let sid = actor.subdistrict_id;
    let today = store::today(now_ms());
    let members = store::members(&st.db, sid, id, true).await?;
    let activities = store::activities(&st.db, sid, id).await?;
    let reelections = store::reelections(&st.db, sid, id, today).await?;
    let o = store::overview(&st.db, sid, c, today).await?;
    Ok(Json(json!({
        "committee": overview_json(&o),
        "members": members,
        "activities": activities,
        "reelections": reelections,
        "may": { "write": s.staff },
    })))
}

async fn add_member(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
    Body(n): Body<NewMember>,
) -> Result<(StatusCode, Json<Value>)> {
    let m = store::add_member(&st.db, &actor, id, n, now_ms()).await?;
    Ok((StatusCode::CREATED, Json(to_json(&m))))
}

async fn end_member(
    State(st): State<AppState>,
    actor: Actor,
    Path((id, member_id)): Path<(i64, i64)>,
    Body(n): Body<EndMember>,
) -> Result<Json<Value>> {
    let m = store::end_member(&st.db, &actor, id, member_id, n, now_ms()).await?;
    Ok(Json(to_json(&m)))
}

#[derive(Deserialize, Default)]
struct OfficeBody {
    #[serde(default)]
    office: String,
}

async fn set_office(
    State(st): State<AppState>,
    actor: Actor,
    Path((id, member_id)): Path<(i64, i64)>,
    Body(b): Body<OfficeBody>,
) -> Result<Json<Value>> {
    let m = store::set_office(&st.db, &actor, id, member_id, &b.office).await?;
    Ok(Json(to_json(&m)))
}

async fn add_activity(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
    Body(n): Body<NewActivity>,
) -> Result<(StatusCode, Json<Value>)> {
    let a = store::add_activity(&st.db, &actor, id, n, now_ms()).await?;
    Ok((StatusCode::CREATED, Json(to_json(&a))))
}

async fn start_reelection(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
    Body(n): Body<NewReelection>,
) -> Result<(StatusCode, Json<Value>)> {
    let r = store::start_reelection(&st.db, &actor, id, n, now_ms()).await?;
    Ok((StatusCode::CREATED, Json(to_json(&r))))
}

async fn record_step(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
    Body(n): Body<NewStep>,
) -> Result<Json<Value>> {
    let r = store::record_step(&st.db, &actor, id, n, now_ms()).await?;
    Ok(Json(to_json(&r)))
}

#[derive(Deserialize, Default)]
struct CancelBody {
    #[serde(default)]
    reason: String,
}

async fn cancel_reelection(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
    Body(b): Body<CancelBody>,
) -> Result<Json<Value>> {
    let r = store::cancel_reelection(&st.db, &actor, id, &b.reason, now_ms()).await?;
    Ok(Json(to_json(&r)))
}

/// The OpenAPI entries.
pub fn openapi_paths() -> Value {
    use crate::api::openapi::{op, path_id, query};
    let tag = "committees";
    let obj = |props: Value| json!({ "type": "object", "properties": props });
    json!({
        "/committees": {
            "get": op("Owners' committees in reach, with their alerts", tag, json!([]), None),
            "post": op("Set up an owners' committee for an estate", tag, json!([]), Some(obj(json!({
                "node_id": { "type": "integer" }, "name": { "type": "string" },
                "seats": { "type": "integer" }, "term_years": { "type": "integer" },
                "starts_on": { "type": "string", "format": "date" } })))),
        },
        "/committees/reelection-counts": {
            "get": op("Re-elections started and completed in a period", tag,
                json!([query("from", "string"), query("to", "string")]), None),
        },
        "/committees/{id}": {
            "get": op("A committee: members, terms, activity, re-elections", tag, json!([path_id("id")]), None),
        },
        "/committees/{id}/members": {
            "post": op("Add a member to the current term", tag, json!([path_id("id")]), Some(obj(json!({
                "person_id": { "type": "integer" }, "name": { "type": "string" },
                "office": { "type": "string", "enum": ["chair", "vice_chair", "member"] },
                "starts_on": { "type": "string", "format": "date" } })))),
        },
        "/committees/{id}/members/{member_id}/end": {
            "post": op("A member leaves", tag, json!([path_id("id"), path_id("member_id")]), Some(obj(json!({
                "reason": { "type": "string", "enum": ["resigned", "removed", "died", "term_ended", "other"] },
                "ends_on": { "type": "string", "format": "date" }, "note": { "type": "string" } })))),
        },
        "/committees/{id}/members/{member_id}/office": {
            "post": op("Change a member's office", tag, json!([path_id("id"), path_id("member_id")]), Some(obj(json!({
                "office": { "type": "string", "enum": ["chair", "vice_chair", "member"] } })))),
        },
        "/committees/{id}/activities": {
            "post": op("Record a meeting or decision", tag, json!([path_id("id")]), Some(obj(json!({
                "kind": { "type": "string", "enum": ["meeting", "decision", "other"] },
                "held_on": { "type": "string", "format": "date" }, "title": { "type": "string" },
                "note": { "type": "string" } })))),
        },
        "/committees/{id}/reelections": {
            "post": op("Start a re-election (opens its re-election period)", tag, json!([path_id("id")]), Some(obj(json!({
                "trigger": { "type": "string", "enum": ["term_end", "few_members", "inactive", "other"] },
                "started_on": { "type": "string", "format": "date" }, "term_years": { "type": "integer" },
                "note": { "type": "string" } })))),
        },
        "/committees/{id}/reelection/cancel": {
            "post": op("Cancel the running re-election (its period ends)", tag, json!([path_id("id")]),
                Some(obj(json!({ "reason": { "type": "string" } })))),
        },
        "/committees/{id}/reelection/steps": {
            "post": op("Record the running re-election's next step", tag, json!([path_id("id")]), Some(obj(json!({
                "step": { "type": "string", "enum": ["renewal_group", "candidates", "election", "handover", "filing"] },
                "done_on": { "type": "string", "format": "date" }, "note": { "type": "string" },
                "vote_id": { "type": "integer" }, "elected": { "type": "array", "items": { "type": "string" } } })))),
        },
    })
}
