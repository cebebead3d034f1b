//! The triage API under `/api/v1`:
//!
//! - `GET /triage` → `{"items": [...]}`: drafts and submitted cases in the caller's triage
//!   reach, oldest first, each with `suggestions` (id, number, score, reasons with labels).
//! - `GET /cases/{id}/duplicates` → `{"case_id", "suggestions": [...]}` for staff of the place.
//! - `POST /cases/{id}/reclassify` `{"version", "category"?, "node_id"?}` → the case.
//!
//! Registering, rejecting and merging are actions: `POST /cases/{id}/actions` with
//! `{"kind": "register"}`, `{"kind": "reject", "reason"}` or `{"kind": "merge", "into": id}`.

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{Duplicate, QueueItem};
use crate::access::Actor;
use crate::cases::store::{self, Visibility};
use crate::error::Result;
use crate::web::errors::Json as Body;
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/triage", get(queue))
        .route("/cases/{id}/duplicates", get(duplicates))
        .route("/cases/{id}/reclassify", post(reclassify))
}

/// A suggestion as JSON: its fields and each reason with its labels.
pub fn duplicate_json(d: &Duplicate) -> Value {
    let mut v = serde_json::to_value(d).unwrap_or_default();
    let reasons: Vec<Value> = d
        .reasons
        .iter()
        .map(|r| {
            let mut rv = serde_json::to_value(r).unwrap_or_default();
            let l = r.label();
            rv["label"] = json!({ "zh": l.zh, "en": l.en });
            rv
        })
        .collect();
    v["reasons"] = Value::Array(reasons);
    v
}

fn item_json(i: &QueueItem) -> Value {
    let mut v = serde_json::to_value(&i.entry).unwrap_or_default();
    v["suggestions"] = Value::Array(i.suggestions.iter().map(duplicate_json).collect());
    v
}

async fn queue(State(st): State<AppState>, actor: Actor) -> Result<Json<Value>> {
    let items = super::queue(&st.db, &actor).await?;
    Ok(Json(
        json!({ "items": items.iter().map(item_json).collect::<Vec<_>>() }),
    ))
}

async fn duplicates(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Json<Value>> {
    let found = super::duplicates(&st.db, &actor, id).await?;
    Ok(Json(json!({
        "case_id": id,
        "suggestions": found.iter().map(duplicate_json).collect::<Vec<_>>(),
    })))
}

#[derive(Deserialize)]
struct ReclassifyRequest {
    version: i64,
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    node_id: Option<i64>,
}

async fn reclassify(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
    Body(req): Body<ReclassifyRequest>,
) -> Result<Json<Value>> {
    let c = super::reclassify(
        &st.db,
        &actor,
        id,
        req.version,
        req.category.as_deref(),
        req.node_id,
    )
    .await?;
    let (_, _, vis) = store::readable(&st.db, &actor, id).await?;
    let timeline =
        store::timeline(&st.db, actor.subdistrict_id, id, vis != Visibility::Staff).await?;
    Ok(Json(store::view(&c, &timeline)))
}
