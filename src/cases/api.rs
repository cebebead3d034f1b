//! The case API under `/api/v1`: open a case (safe to retry with an `Idempotency-Key`), read
//! it with its timeline, and act on it through the state machine with the version last read.
//!
//! - `POST /cases` `{category, node_id, title, description}` → 201 with the case; a replay
//!   with the same key and body → 200 with the same case; the key with another body → 422.
//! - `GET /cases/{id}` → the case and its timeline (staff and grid roles at the place see
//!   every event, the reporter and others only the public ones).
//! - `POST /cases/{id}/actions` `{"version": n, "action": {"kind": "register"}}` → 200 with
//!   the new case; 409 when the version is stale or the state refuses, 403 when the actor may
//!   not, 422 when the data is wrong. Deadlines are never taken from the request.
//!
//! How a user maps to the rules' actor kind is [`super::store::actor_kind`].

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::Value;

use super::store::{self, CaseAction, NewCase, Opened, Visibility, IDEMPOTENCY_KEY};
use crate::access::Actor;
use crate::error::{Error, Result};
use crate::i18n::Text;
use crate::web::errors::Json as Body;
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/cases", post(open))
        .route("/cases/{id}", get(read))
        .route("/cases/{id}/actions", post(act))
}

/// `?channel=` names the intake channel when a page's script posts here (e.g. `grid_quick`).
#[derive(Debug, serde::Deserialize)]
struct OpenQuery {
    channel: Option<String>,
}

async fn open(
    State(st): State<AppState>,
    actor: Actor,
    headers: HeaderMap,
    Query(q): Query<OpenQuery>,
    Body(new): Body<NewCase>,
) -> Result<(StatusCode, Json<Value>)> {
    let key = match headers.get(IDEMPOTENCY_KEY) {
        None => None,
        Some(v) => Some(v.to_str().map_err(|_| {
            Error::field(
                IDEMPOTENCY_KEY,
                Text::new(
                    "幂等键须为可见 ASCII 字符",
                    "must be visible ASCII characters",
                ),
            )
        })?),
    };
    let channel = match q.channel.as_deref() {
        None | Some("") => "api",
        Some(c) => store::CHANNELS
            .iter()
            .copied()
            .find(|k| *k == c)
            .ok_or_else(|| {
                Error::field(
                    "channel",
                    Text::new("没有这个受理渠道", "no such intake channel"),
                )
            })?,
    };
    let opened = store::open_case_sealed(&st.db, Some(&st.seal), &actor, new, channel, key).await?;
    let status = match opened {
        Opened::Created(_) => StatusCode::CREATED,
        Opened::Replayed(_) => StatusCode::OK,
    };
    let c = opened.case();
    // Whoever just filed the case may read it (the store checked the place); only whether they
    // see staff-only events is left to decide, from the place's path the record carries.
    let vis = match &opened {
        Opened::Created(c) if !c.node_path.is_empty() => store::visibility_at(&actor, &c.node_path),
        _ => store::readable(&st.db, &actor, c.id).await?.2,
    };
    let public_only = vis != Visibility::Staff;
    let timeline = match &opened {
        Opened::Created(c) if !c.node_path.is_empty() => {
            store::opening_timeline(&actor, c, public_only)
        }
        _ => store::timeline(&st.db, actor.subdistrict_id, c.id, public_only).await?,
    };
    Ok((status, Json(store::view(c, &timeline))))
}

async fn read(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Json<Value>> {
    let (c, _, vis) = store::readable(&st.db, &actor, id).await?;
    let timeline =
        store::timeline(&st.db, actor.subdistrict_id, id, vis != Visibility::Staff).await?;
    Ok(Json(store::view(&c, &timeline)))
}

#[derive(Deserialize)]
struct ActRequest {
    version: i64,
    action: CaseAction,
}

async fn act(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
    Body(req): Body<ActRequest>,
) -> Result<Json<Value>> {
    let c = store::act(&st.db, &actor, id, req.version, req.action).await?;
    let (_, _, vis) = store::readable(&st.db, &actor, id).await?;
    let timeline =
        store::timeline(&st.db, actor.subdistrict_id, id, vis != Visibility::Staff).await?;
    Ok(Json(store::view(&c, &timeline)))
}
