//! Third-party audit's API under `/api/v1` (the pages' mirror):
//!
//! - `GET /audits`; `POST /audits` `{firm_id, kind, title?, node_id, accounts: [..],
//!   period_from, period_to, starts_on, ends_on, auditor_ids: [..], note?}` → 201.
//! - `GET /audits/{id}` → the engagement, its findings with responses, the caller's standing.
//! - `GET /audits/{id}/fund`, `GET /audits/{id}/fund/{building_id}`: the maintenance fund in
//!   scope over the period (read-only). `GET /audits/{id}/income`: public income in the period.
//! - `POST /audits/{id}/findings` `{title, detail, severity, account, building_id?,
//!   posting_seq?}` → 201; `POST …/findings/{fid}/responses` `{body, version?}` → 201;
//!   `POST …/findings/{fid}/close` `{note?, version?}`.
//! - `GET /audits/{id}/report`; `POST /audits/{id}/report` `{summary, file_name?,
//!   file_base64?}` → 201; `POST …/report/publish`; `GET …/report/document`.
//!
//! Out of scope, out of the dates, or not one's engagement: 403 problem JSON.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::store::{self, CloseFinding, NewEngagement, NewFinding, NewReport, NewResponse};
use crate::access::Actor;
use crate::error::{Error, Result};
use crate::i18n::Text;
use crate::web::errors::Json as Body;
use crate::web::AppState;

/// A report's document sent as JSON: base64 grows a file by a third.
const REPORT_JSON_LIMIT: usize =
    crate::deliberation::halls::documents::MAX_BYTES / 3 * 4 + 128 * 1024;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/audits", get(list).post(engage))
        .route("/audits/{id}", get(show))
        .route("/audits/{id}/fund", get(fund))
        .route("/audits/{id}/fund/{building_id}", get(fund_building))
        .route("/audits/{id}/income", get(income))
        .route("/audits/{id}/findings", post(add_finding))
        .route("/audits/{id}/findings/{fid}/responses", post(respond))
        .route("/audits/{id}/findings/{fid}/close", post(close))
        .route(
            "/audits/{id}/report",
            get(report)
                .post(submit)
                .layer(axum::extract::DefaultBodyLimit::max(REPORT_JSON_LIMIT)),
        )
        .route("/audits/{id}/report/publish", post(publish))
        .route("/audits/{id}/report/document", get(document))
}

fn to_json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or_default()
}

fn now() -> i64 {
    crate::clock::now_ms()
}

async fn list(State(st): State<AppState>, actor: Actor) -> Result<Json<Value>> {
    let list = store::list(&st.db, &actor, now()).await?;
    Ok(Json(json!({ "engagements": list.iter().map(|(e, s)| {
        let mut v = to_json(e);
        v["standing"] = to_json(s);
        v
    }).collect::<Vec<_>>() })))
}

async fn engage(
    State(st): State<AppState>,
    actor: Actor,
    Body(n): Body<NewEngagement>,
) -> Result<(StatusCode, Json<Value>)> {
    let e = store::engage(&st.db, &actor, n, now()).await?;
    Ok((StatusCode::CREATED, Json(to_json(&e))))
}

async fn show(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Json<Value>> {
    let (e, s, findings) = store::show(&st.db, &actor, id, now()).await?;
    Ok(Json(json!({
        "engagement": e,
        "standing": s,
        "findings": findings,
        "may": {
            "read_scope": s.staff || s.auditing,
            "add_finding": s.auditing && !e.is_published(),
            "respond": s.responder.is_some(),
            "submit_report": s.auditing && e.report.is_none(),
            "publish_report": s.staff && e.report.as_ref().is_some_and(|r| r.published_on.is_none()),
        },
    })))
}

async fn fund(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Json<Value>> {
    let (e, buildings) = store::fund_overview(&st.db, &actor, id, now()).await?;
    Ok(Json(json!({
        "engagement_id": e.id, "period_from": e.period_from, "period_to": e.period_to,
        "buildings": buildings,
    })))
}

async fn fund_building(
    State(st): State<AppState>,
    actor: Actor,
    Path((id, building_id)): Path<(i64, i64)>,
) -> Result<Json<Value>> {
    let (e, f) = store::fund_building(&st.db, &actor, id, building_id, now()).await?;
    let mut v = to_json(&f);
    v["engagement_id"] = json!(e.id);
    v["period_from"] = json!(e.period_from);
    v["period_to"] = json!(e.period_to);
    Ok(Json(v))
}

async fn income(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Json<Value>> {
    let (e, accounts) = store::income(&st.db, &actor, id, now()).await?;
    Ok(Json(json!({
        "engagement_id": e.id, "period_from": e.period_from, "period_to": e.period_to,
        "accounts": accounts,
    })))
}

async fn add_finding(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
    Body(n): Body<NewFinding>,
) -> Result<(StatusCode, Json<Value>)> {
    let f = store::add_finding(&st.db, &actor, id, n, now()).await?;
    Ok((StatusCode::CREATED, Json(to_json(&f))))
}

async fn respond(
    State(st): State<AppState>,
    actor: Actor,
    Path((id, fid)): Path<(i64, i64)>,
    Body(n): Body<NewResponse>,
) -> Result<(StatusCode, Json<Value>)> {
    let f = store::respond(&st.db, &actor, id, fid, n, now()).await?;
    Ok((StatusCode::CREATED, Json(to_json(&f))))
}

async fn close(
    State(st): State<AppState>,
    actor: Actor,
    Path((id, fid)): Path<(i64, i64)>,
    Body(c): Body<CloseFinding>,
) -> Result<Json<Value>> {
    Ok(Json(to_json(
        &store::close_finding(&st.db, &actor, id, fid, c, now()).await?,
    )))
}

async fn report(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Json<Value>> {
    let (e, r) = store::report(&st.db, &actor, id, now()).await?;
    Ok(Json(json!({
        "engagement_id": e.id, "title": e.title, "firm_name": e.firm_name, "node_name": e.node_name,
        "kind": e.kind, "period_from": e.period_from, "period_to": e.period_to, "report": r,
    })))
}

#[derive(Debug, Default, Deserialize)]
struct ReportBody {
    #[serde(default)]
    summary: String,
    #[serde(default)]
    file_name: String,
    #[serde(default)]
    file_base64: String,
}

async fn submit(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
    Body(b): Body<ReportBody>,
) -> Result<(StatusCode, Json<Value>)> {
    use base64::Engine;
    let document = if b.file_base64.trim().is_empty() {
        None
    } else {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b.file_base64.trim())
            .map_err(|_| {
                Error::field(
                    "file_base64",
                    Text::new("文件不是有效的 base64", "the file is not valid base64"),
                )
            })?;
        Some((b.file_name, bytes))
    };
    let r = store::submit_report(
        &st.db,
        &actor,
        id,
        NewReport {
            summary: b.summary,
            document,
        },
        now(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(to_json(&r))))
}

async fn publish(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Json<Value>> {
    Ok(Json(to_json(
        &store::publish_report(&st.db, &actor, id, now()).await?,
    )))
}

async fn document(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<axum::response::Response> {
    let (r, bytes) = store::report_document(&st.db, &actor, id, now()).await?;
    Ok(super::web::document_response(id, &r, bytes))
}
