//! The notifications API under `/api/v1`.
//!
//! - `GET /inbox?unread=true&limit=&offset=` → `{unread, items}`, the caller's notices,
//!   newest first; `POST /inbox/{id}/read`, `POST /inbox/read-all`.
//! - Subdistrict admins: `GET|POST /webhooks`, `PUT /webhooks/{id}` (a missing URL or secret
//!   keeps the stored one; URLs and secrets are shown masked), `POST /webhooks/{id}/test`,
//!   `GET /outbox?state=failed&webhook_id=`, `POST /outbox/{id}/retry`.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::store::{self, WebhookInput};
use crate::access::Actor;
use crate::error::{Error, Result};
use crate::i18n::Text;
use crate::web::errors::Json as Body;
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/inbox", get(inbox))
        .route("/inbox/read-all", post(read_all))
        .route("/inbox/{id}/read", post(read_one))
        .route("/webhooks", get(list_webhooks).post(create_webhook))
        .route("/webhooks/{id}", put(update_webhook))
        .route("/webhooks/{id}/test", post(test_webhook))
        .route("/outbox", get(outbox))
        .route("/outbox/{id}/retry", post(retry))
}

/// Reads an id from the path; a malformed one is a field error, not a routing failure.
pub fn parse_id(s: &str) -> Result<i64> {
    s.trim()
        .parse::<i64>()
        .map_err(|_| Error::field("id", Text::new("编号须为整数", "the id must be an integer")))
}

#[derive(Deserialize, Default)]
struct InboxQ {
    #[serde(default)]
    unread: bool,
    limit: Option<i64>,
    offset: Option<i64>,
}

async fn inbox(
    State(st): State<AppState>,
    actor: Actor,
    Query(q): Query<InboxQ>,
) -> Result<Json<Value>> {
    let sid = actor.subdistrict_id;
    let items = store::inbox(
        &st.db,
        sid,
        actor.user_id,
        q.unread,
        q.limit.unwrap_or(50),
        q.offset.unwrap_or(0),
    )
    .await?;
    let unread = store::unread_count(&st.db, sid, actor.user_id).await?;
    Ok(Json(json!({ "unread": unread, "items": items })))
}

async fn read_one(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    let id = parse_id(&id)?;
    let at = store::mark_read(
        &st.db,
        actor.subdistrict_id,
        actor.user_id,
        id,
        crate::clock::now_ms(),
    )
    .await?;
    Ok(Json(json!({ "id": id, "read_at": at })))
}

async fn read_all(State(st): State<AppState>, actor: Actor) -> Result<Json<Value>> {
    let n = store::mark_all_read(
        &st.db,
        actor.subdistrict_id,
        actor.user_id,
        crate::clock::now_ms(),
    )
    .await?;
    Ok(Json(json!({ "marked": n })))
}

async fn list_webhooks(State(st): State<AppState>, actor: Actor) -> Result<Json<Value>> {
    store::require_admin(&actor)?;
    let list: Vec<Value> = store::webhooks(&st.db, actor.subdistrict_id)
        .await?
        .iter()
        .map(store::Webhook::view)
        .collect();
    Ok(Json(json!({ "webhooks": list })))
}

async fn create_webhook(
    State(st): State<AppState>,
    actor: Actor,
    Body(input): Body<WebhookInput>,
) -> Result<(StatusCode, Json<Value>)> {
    let w = store::create(&st.db, &actor, &input).await?;
    Ok((StatusCode::CREATED, Json(w.view())))
}

async fn update_webhook(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    Body(input): Body<WebhookInput>,
) -> Result<Json<Value>> {
    store::require_admin(&actor)?;
    let id = parse_id(&id)?;
    let w = store::update(&st.db, &actor, id, &input).await?;
    Ok(Json(w.view()))
}

async fn test_webhook(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Value>)> {
    store::require_admin(&actor)?;
    let id = parse_id(&id)?;
    let out = store::send_test(&st.db, &actor, id).await?;
    let d = store::delivery(&st.db, actor.subdistrict_id, out).await?;
    Ok((StatusCode::ACCEPTED, Json(json!(d))))
}

#[derive(Deserialize, Default)]
struct OutboxQ {
    #[serde(default)]
    state: String,
    webhook_id: Option<i64>,
    limit: Option<i64>,
    offset: Option<i64>,
}

async fn outbox(
    State(st): State<AppState>,
    actor: Actor,
    Query(q): Query<OutboxQ>,
) -> Result<Json<Value>> {
    store::require_admin(&actor)?;
    let state = q.state.trim();
    if !state.is_empty() && !store::STATES.contains(&state) {
        return Err(Error::field(
            "state",
            Text::new(
                "状态须为 pending、delivered 或 failed",
                "state must be pending, delivered or failed",
            ),
        ));
    }
    let sid = actor.subdistrict_id;
    let items = store::deliveries(
        &st.db,
        sid,
        state,
        q.webhook_id,
        q.limit.unwrap_or(50),
        q.offset.unwrap_or(0),
    )
    .await?;
    let counts: serde_json::Map<String, Value> = store::state_counts(&st.db, sid)
        .await?
        .into_iter()
        .map(|(s, n)| (s, json!(n)))
        .collect();
    Ok(Json(json!({ "counts": counts, "items": items })))
}

async fn retry(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    store::require_admin(&actor)?;
    let id = parse_id(&id)?;
    let d = store::retry(&st.db, &actor, id).await?;
    Ok(Json(json!(d)))
}
