//! The fund's API under `/api/v1`. Money in integer fen (signed: a withdrawal's lines are
//! negative), areas in hundredths of m², times Unix ms, dates `YYYY-MM-DD` (Shanghai).
//!
//! - `GET /fund/buildings` → `{"funds": [...]}`: the buildings in reach with balance, first
//!   deposits and the low-balance flag.
//! - `GET /fund/buildings/{id}` → the fund, its room accounts, postings, emergency approvals
//!   and what the actor may do.
//! - `POST /fund/buildings/{id}/postings` `{kind, amount?, rate_fen_per_m2?, over_node_id?,
//!   vote_id?, emergency_id?, cost_review?, memo?, reverses?, value_date?}` → 201 with the
//!   posting; 422 with the reason for an unbalanced, unauthorised or malformed entry; 409 when
//!   the rooms charged do not have enough (which rooms, by how much) or an entry was already
//!   reversed.
//! - `POST /fund/buildings/{id}/preview` (same body) → `{"lines": [...]}`: the apportionment,
//!   nothing written.
//! - `POST /fund/buildings/{id}/emergencies` `{approver, reason, approved_on}` → 201.
//! - `GET /fund/buildings/{id}/export` → `redbutler-fund-export/2`, JSON Lines (re-check it
//!   with `redbutler ledger verify FILE`).
//! - `POST /fund/buildings/{id}/publications` `{period?}` → 201: the half-year's notice and
//!   XLSX (409 when that period is published already); `GET /fund/publications/{id}` and
//!   `/fund/publications/{id}/xlsx` (readers of the building and the owners of its rooms).
//! - `GET /fund/rooms/{id}` → the room's statement (its owners, or readers of the place).

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use super::export;
use super::store::{self, NewEmergency, NewEntry};
use crate::access::Actor;
use crate::clock::now_ms;
use crate::error::Result;
use crate::web::errors::Json as Body;
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/fund/buildings", get(list))
        .route("/fund/buildings/{id}", get(show))
        .route("/fund/buildings/{id}/postings", post(create))
        .route("/fund/buildings/{id}/preview", post(preview))
        .route("/fund/buildings/{id}/emergencies", post(emergency))
        .route("/fund/buildings/{id}/export", get(export_doc))
        .route("/fund/buildings/{id}/publications", post(publish))
        .route("/fund/publications/{id}", get(publication))
        .route("/fund/publications/{id}/xlsx", get(publication_xlsx))
        .route("/fund/rooms/{id}", get(room))
}

#[derive(serde::Deserialize, Default)]
struct PublishReq {
    #[serde(default)]
    period: Option<String>,
}

async fn publish(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
    Body(r): Body<PublishReq>,
) -> Result<(StatusCode, Json<Value>)> {
    let p = store::publish(&st.db, &actor, id, r.period.as_deref(), now_ms()).await?;
    Ok((StatusCode::CREATED, Json(to_json(&p))))
}

async fn publication(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Json<Value>> {
    let (p, _) = store::publication(&st.db, &actor, id).await?;
    Ok(Json(to_json(&p)))
}

/// The XLSX of a publication.
pub async fn xlsx_response(st: &AppState, actor: &Actor, id: i64) -> Result<Response> {
    let (p, file) = store::publication(&st.db, actor, id).await?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_owned(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"fund-{}-{}.xlsx\"",
                    p.building_id, p.period
                ),
            ),
        ],
        file,
    )
        .into_response())
}

async fn publication_xlsx(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Response> {
    xlsx_response(&st, &actor, id).await
}

fn to_json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or_default()
}

async fn list(State(st): State<AppState>, actor: Actor) -> Result<Json<Value>> {
    let funds = store::funds(&st.db, &actor).await?;
    Ok(Json(json!({ "funds": funds })))
}

async fn show(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Json<Value>> {
    let (b, s) = store::readable(&st.db, &actor, id).await?;
    let sid = actor.subdistrict_id;
    let fund = store::fund(&st.db, sid, &b).await?;
    let rooms = store::rooms(&st.db, sid, &b).await?;
    let postings = store::postings(&st.db, sid, b.id).await?;
    let emergencies = store::emergencies(&st.db, sid, b.id).await?;
    Ok(Json(json!({
        "fund": fund, "rooms": rooms, "postings": postings, "emergencies": emergencies,
        "may": { "post": s.staff, "read": s.reader },
    })))
}

async fn create(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
    Body(n): Body<NewEntry>,
) -> Result<(StatusCode, Json<Value>)> {
    let p = store::post(&st.db, &actor, id, n, now_ms()).await?;
    Ok((StatusCode::CREATED, Json(to_json(&p))))
}

async fn preview(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
    Body(n): Body<NewEntry>,
) -> Result<Json<Value>> {
    let lines = store::preview(&st.db, &actor, id, &n, now_ms()).await?;
    let total: i64 = lines.iter().map(|l| l.amount).sum();
    Ok(Json(json!({ "lines": lines, "total": total })))
}

async fn emergency(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
    Body(n): Body<NewEmergency>,
) -> Result<(StatusCode, Json<Value>)> {
    let e = store::record_emergency(&st.db, &actor, id, n, now_ms()).await?;
    Ok((StatusCode::CREATED, Json(to_json(&e))))
}

async fn export_doc(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Response> {
    let x = store::export(&st.db, &actor, id, now_ms()).await?;
    let name = format!("attachment; filename=\"fund-{id}.jsonl\"");
    Ok((
        [
            (header::CONTENT_TYPE, export::CONTENT_TYPE.to_owned()),
            (header::CONTENT_DISPOSITION, name),
        ],
        export::to_json(&x),
    )
        .into_response())
}

async fn room(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Json<Value>> {
    let s = store::statement(&st.db, &actor, id).await?;
    Ok(Json(to_json(&s)))
}

/// The OpenAPI entries.
pub fn openapi_paths() -> Value {
    use crate::api::openapi::{op, path_id};
    let tag = "fund";
    let entry = json!({ "type": "object", "properties": {
        "kind": { "type": "string", "enum": ["first_deposit", "deposit", "interest", "top_up", "withdrawal", "reversal"] },
        "amount": { "type": "integer", "description": "fen, positive" },
        "rate_fen_per_m2": { "type": "integer" },
        "over_node_id": { "type": "integer", "description": "the building or one of its units" },
        "vote_id": { "type": "integer" }, "emergency_id": { "type": "integer" },
        "cost_review": { "type": "string" }, "memo": { "type": "string" },
        "reverses": { "type": "integer", "description": "seq of the entry a reversal undoes" },
        "value_date": { "type": "string", "format": "date" } } });
    json!({
        "/fund/buildings": {
            "get": op("Maintenance funds of the buildings in reach (balance, first deposits, low-balance flag)", tag, json!([]), None),
        },
        "/fund/buildings/{id}": {
            "get": op("A building's fund: room accounts, postings, emergency approvals", tag, json!([path_id("id")]), None),
        },
        "/fund/buildings/{id}/postings": {
            "post": op("Post an entry (deposit, interest, top-up, withdrawal against a vote or emergency, reversal)", tag, json!([path_id("id")]), Some(entry.clone())),
        },
        "/fund/buildings/{id}/preview": {
            "post": op("Preview an entry's room lines (apportionment by area), writing nothing", tag, json!([path_id("id")]), Some(entry)),
        },
        "/fund/buildings/{id}/emergencies": {
            "post": op("Record an emergency repair approval (usable for 7 days)", tag, json!([path_id("id")]), Some(json!({ "type": "object", "properties": {
                "approver": { "type": "string" }, "reason": { "type": "string" },
                "approved_on": { "type": "string", "format": "date" } } }))),
        },
        "/fund/buildings/{id}/export": {
            "get": op("The fund as redbutler-fund-export/2: a JSON header line, then one JSON array per posting (check with `redbutler ledger verify`)", tag, json!([path_id("id")]), None),
        },
        "/fund/buildings/{id}/publications": {
            "post": op("Publish the half-year's accounts (notice and XLSX), once per period", tag, json!([path_id("id")]), Some(json!({ "type": "object", "properties": {
                "period": { "type": "string", "description": "2026-H1 or 2026-H2; default the current half-year" } } }))),
        },
        "/fund/publications/{id}": {
            "get": op("A publication's notice", tag, json!([path_id("id")]), None),
        },
        "/fund/publications/{id}/xlsx": {
            "get": op("A publication's XLSX file", tag, json!([path_id("id")]), None),
        },
        "/fund/rooms/{id}": {
            "get": op("A room's fund statement", tag, json!([path_id("id")]), None),
        },
    })
}
