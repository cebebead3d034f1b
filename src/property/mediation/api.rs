//! Mediation's API under `/api/v1`.
//!
//! - `GET /mediation/engagements`; `POST /mediation/engagements` `{firm_id, node_id,
//!   starts_on, ends_on, note?}` → 201.
//! - `GET /mediation/cases?status=`; `POST /mediation/cases` `{node_id, kind, summary,
//!   parties: [{side, person_id? | org_id? | name}]}` → 201.
//! - `GET /mediation/cases/{id}` → the case, parties, sessions, follow-ups, lawyers assignable
//!   and what the actor may do.
//! - `POST /mediation/cases/{id}/assign` `{lawyer_user_id}`; `POST …/sessions` `{held_at?,
//!   place?, attendees, notes?}` → 201; `POST …/outcome` `{status: agreement_reached |
//!   no_agreement | withdrawn, text}`; `POST …/followups` `{due_on, what}` → 201;
//!   `POST …/followups/{fid}/done` `{note}`; `POST …/followups/{fid}/case` `{category,
//!   node_id?, title?, description?}` → 201; `POST …/finish`. A step the status does not allow
//!   is 409 with the reason.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::rules::{self, Status, Step};
use super::store::{self, NewEngagement, NewFollowUp, NewMediation, NewOutcome, NewSession};
use crate::access::Actor;
use crate::error::{Error, Result};
use crate::i18n::Text;
use crate::property::office::store::ToCase;
use crate::web::errors::Json as Body;
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/mediation/engagements", get(engagements).post(engage))
        .route("/mediation/cases", get(list).post(file))
        .route("/mediation/cases/{id}", get(show))
        .route("/mediation/cases/{id}/assign", post(assign))
        .route("/mediation/cases/{id}/sessions", post(add_session))
        .route("/mediation/cases/{id}/outcome", post(outcome))
        .route("/mediation/cases/{id}/followups", post(add_followup))
        .route(
            "/mediation/cases/{id}/followups/{fid}/done",
            post(followup_done),
        )
        .route(
            "/mediation/cases/{id}/followups/{fid}/case",
            post(followup_case),
        )
        .route("/mediation/cases/{id}/finish", post(finish))
}

fn to_json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or_default()
}

async fn engagements(State(st): State<AppState>, actor: Actor) -> Result<Json<Value>> {
    Ok(Json(
        json!({ "engagements": store::engagements(&st.db, &actor).await? }),
    ))
}

async fn engage(
    State(st): State<AppState>,
    actor: Actor,
    Body(e): Body<NewEngagement>,
) -> Result<(StatusCode, Json<Value>)> {
    let e = store::engage(&st.db, &actor, e).await?;
    Ok((StatusCode::CREATED, Json(to_json(&e))))
}

#[derive(Deserialize, Default)]
struct ListQ {
    #[serde(default)]
    status: Option<String>,
}

pub(super) fn status_filter(s: Option<&str>) -> Result<Option<Status>> {
    match s.map(str::trim) {
        None | Some("") | Some("all") => Ok(None),
        Some(v) => Status::parse(v)
            .map(Some)
            .ok_or_else(|| Error::field("status", Text::new("没有这个状态", "no such status"))),
    }
}

async fn list(
    State(st): State<AppState>,
    actor: Actor,
    Query(q): Query<ListQ>,
) -> Result<Json<Value>> {
    let status = status_filter(q.status.as_deref())?;
    Ok(Json(
        json!({ "cases": store::list(&st.db, &actor, status).await? }),
    ))
}

async fn file(
    State(st): State<AppState>,
    actor: Actor,
    Body(n): Body<NewMediation>,
) -> Result<(StatusCode, Json<Value>)> {
    let m = store::file(&st.db, &actor, n).await?;
    Ok((StatusCode::CREATED, Json(to_json(&m))))
}

async fn show(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Json<Value>> {
    let db = &st.db;
    let sid = actor.subdistrict_id;
    let (m, s) = store::readable(db, &actor, id).await?;
    let full = s.staff || s.assigned_lawyer;
    let may = |step| rules::apply(m.status, step, s, 0).is_ok();
    Ok(Json(json!({
        "case": m,
        "parties": store::parties(db, sid, id, full).await?,
        "sessions": store::sessions(db, sid, id).await?,
        "followups": store::followups(db, sid, id).await?,
        "lawyers": if s.staff { to_json(&store::assignable(db, sid, &m.node_path).await?) } else { json!([]) },
        "may": {
            "assign": may(Step::Assign), "session": may(Step::Session), "agree": may(Step::Agree),
            "withdraw": may(Step::Withdraw), "follow_up": may(Step::FollowUp),
            "finish": rules::may(s, Step::FollowUpDone) && m.status.has_outcome(),
        },
    })))
}

#[derive(Deserialize, Default)]
struct AssignBody {
    #[serde(default)]
    lawyer_user_id: Option<i64>,
}

async fn assign(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
    Body(b): Body<AssignBody>,
) -> Result<Json<Value>> {
    Ok(Json(to_json(
        &store::assign(&st.db, &actor, id, b.lawyer_user_id).await?,
    )))
}

async fn add_session(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
    Body(n): Body<NewSession>,
) -> Result<(StatusCode, Json<Value>)> {
    let s = store::add_session(&st.db, &actor, id, n).await?;
    Ok((StatusCode::CREATED, Json(to_json(&s))))
}

async fn outcome(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
    Body(o): Body<NewOutcome>,
) -> Result<Json<Value>> {
    Ok(Json(to_json(&store::outcome(&st.db, &actor, id, o).await?)))
}

async fn add_followup(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
    Body(f): Body<NewFollowUp>,
) -> Result<(StatusCode, Json<Value>)> {
    let f = store::add_followup(&st.db, &actor, id, f).await?;
    Ok((StatusCode::CREATED, Json(to_json(&f))))
}

#[derive(Deserialize, Default)]
struct NoteBody {
    #[serde(default)]
    note: String,
}

async fn followup_done(
    State(st): State<AppState>,
    actor: Actor,
    Path((id, fid)): Path<(i64, i64)>,
    Body(b): Body<NoteBody>,
) -> Result<Json<Value>> {
    Ok(Json(to_json(
        &store::followup_done(&st.db, &actor, id, fid, &b.note).await?,
    )))
}

async fn followup_case(
    State(st): State<AppState>,
    actor: Actor,
    Path((id, fid)): Path<(i64, i64)>,
    Body(t): Body<ToCase>,
) -> Result<(StatusCode, Json<Value>)> {
    let (f, c) = store::followup_to_case(&st.db, &actor, id, fid, t).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "follow_up": f, "case": { "id": c.id, "number": c.number } })),
    ))
}

async fn finish(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Json<Value>> {
    Ok(Json(to_json(&store::finish(&st.db, &actor, id).await?)))
}
