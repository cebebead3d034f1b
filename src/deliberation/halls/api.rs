//! The halls' API under `/api/v1`.
//!
//! - `GET /halls?status=open|closed` → `{"halls": [...]}` (the halls the actor may read);
//!   `POST /halls` `{name, topic, node_id, host_unit_id?}` → 201 with the hall.
//! - `GET /halls/{id}` → the hall, its members, its contributions with their replies, and what
//!   the actor may do; `POST /halls/{id}/close` `{outcome}`.
//! - `POST /halls/{id}/members` `{user_id?, org_id?, name?, role, label?}` → 201;
//!   `DELETE /halls/{id}/members/{member_id}` → 204.
//! - `GET /halls/{id}/items?function=…`; `POST /halls/{id}/items` `{function, …, channel?,
//!   speaker?, occurred_at?}` → 201.
//! - `POST /halls/{id}/items/{item_id}/answers` `{body, member_id?, channel?…}` → 201.
//! - `POST /halls/{id}/items/{item_id}/steps` `{status, note?, agreement?}`: an errand's next
//!   status or a mediation's outcome; a refused step is 409 with the reason.
//! - `GET /halls/pending?node_id=` → the topics awaiting a decision under a place.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::rules::{self, Function, Op};
use super::store::{self, NewAnswer, NewHall, NewItem, NewMember, NewStep};
use crate::access::{allows, Action, Actor, Target};
use crate::error::{Error, Result};
use crate::i18n::Text;
use crate::web::errors::Json as Body;
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/halls", get(list).post(create))
        .route("/halls/pending", get(pending))
        .route("/halls/{id}", get(show))
        .route("/halls/{id}/close", post(close))
        .route("/halls/{id}/members", post(add_member))
        .route("/halls/{id}/members/{member_id}", delete(remove_member))
        .route("/halls/{id}/items", get(items).post(add_item))
        .route("/halls/{id}/items/{item_id}/answers", post(answer))
        .route("/halls/{id}/items/{item_id}/steps", post(step))
        .route(
            "/halls/{id}/items/{item_id}/documents",
            post(add_document).layer(axum::extract::DefaultBodyLimit::max(DOCUMENT_JSON_LIMIT)),
        )
        .route("/halls/{id}/documents/{doc_id}", get(document))
}

fn to_json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or_default()
}

#[derive(Deserialize, Default)]
struct ListQ {
    #[serde(default)]
    status: Option<String>,
}

fn status_filter(s: Option<&str>) -> Result<Option<&str>> {
    match s.map(str::trim) {
        None | Some("") | Some("all") => Ok(None),
        Some(v @ ("open" | "closed")) => Ok(Some(v)),
        Some(_) => Err(Error::field(
            "status",
            Text::new("状态须为 open 或 closed", "status is open or closed"),
        )),
    }
}

async fn list(
    State(st): State<AppState>,
    actor: Actor,
    Query(q): Query<ListQ>,
) -> Result<Json<Value>> {
    let status = status_filter(q.status.as_deref())?;
    let halls = store::list(&st.db, &actor, status).await?;
    Ok(Json(json!({ "halls": halls })))
}

async fn create(
    State(st): State<AppState>,
    actor: Actor,
    Body(new): Body<NewHall>,
) -> Result<(StatusCode, Json<Value>)> {
    let h = store::create(&st.db, &actor, new).await?;
    Ok((StatusCode::CREATED, Json(to_json(&h))))
}

async fn show(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Json<Value>> {
    let (h, s) = store::readable(&st.db, &actor, id).await?;
    let sid = actor.subdistrict_id;
    let members = store::members(&st.db, sid, id).await?;
    let mut items = store::items(&st.db, sid, id, None).await?;
    store::mask_for(&mut items, &actor, s);
    Ok(Json(json!({
        "hall": h,
        "members": members,
        "items": items,
        "may": {
            "run": rules::may(s, Op::Run),
            "answer": rules::may(s, Op::Answer),
            "record_offline": rules::may(s, Op::RecordOffline),
            "contribute": rules::FUNCTIONS.iter()
                .filter(|f| rules::may(s, Op::Contribute(**f)))
                .map(|f| f.as_str()).collect::<Vec<_>>(),
        },
    })))
}

#[derive(Deserialize, Default)]
struct CloseBody {
    #[serde(default)]
    outcome: String,
}

async fn close(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
    Body(b): Body<CloseBody>,
) -> Result<Json<Value>> {
    let h = store::close(&st.db, &actor, id, &b.outcome).await?;
    Ok(Json(to_json(&h)))
}

async fn add_member(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
    Body(m): Body<NewMember>,
) -> Result<(StatusCode, Json<Value>)> {
    let m = store::add_member(&st.db, &actor, id, m).await?;
    Ok((StatusCode::CREATED, Json(to_json(&m))))
}

async fn remove_member(
    State(st): State<AppState>,
    actor: Actor,
    Path((id, member_id)): Path<(i64, i64)>,
) -> Result<StatusCode> {
    store::remove_member(&st.db, &actor, id, member_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, Default)]
struct ItemsQ {
    #[serde(default)]
    function: Option<String>,
}

async fn items(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
    Query(q): Query<ItemsQ>,
) -> Result<Json<Value>> {
    let (_, s) = store::readable(&st.db, &actor, id).await?;
    let function = match q.function.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(f) => Some(Function::parse(f).ok_or_else(|| {
            Error::field("function", Text::new("没有这个功能", "no such function"))
        })?),
    };
    let mut items = store::items(&st.db, actor.subdistrict_id, id, function).await?;
    store::mask_for(&mut items, &actor, s);
    Ok(Json(json!({ "items": items })))
}

async fn add_item(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
    Body(new): Body<NewItem>,
) -> Result<(StatusCode, Json<Value>)> {
    let it = store::add_item(&st.db, &actor, id, new).await?;
    Ok((StatusCode::CREATED, Json(to_json(&it))))
}

async fn answer(
    State(st): State<AppState>,
    actor: Actor,
    Path((id, item_id)): Path<(i64, i64)>,
    Body(a): Body<NewAnswer>,
) -> Result<(StatusCode, Json<Value>)> {
    let it = store::answer(&st.db, &actor, id, item_id, a).await?;
    Ok((StatusCode::CREATED, Json(to_json(&it))))
}

async fn step(
    State(st): State<AppState>,
    actor: Actor,
    Path((id, item_id)): Path<(i64, i64)>,
    Body(s): Body<NewStep>,
) -> Result<Json<Value>> {
    let it = store::step(&st.db, &actor, id, item_id, s).await?;
    Ok(Json(to_json(&it)))
}

#[derive(Deserialize, Default)]
struct PendingQ {
    #[serde(default)]
    node_id: Option<i64>,
}

/// The topics awaiting a decision under a place the actor may read (default: the
/// subdistrict's root).
async fn pending(
    State(st): State<AppState>,
    actor: Actor,
    Query(q): Query<PendingQ>,
) -> Result<Json<Value>> {
    let sid = actor.subdistrict_id;
    let node = crate::tree::store::node(&st.db, sid, q.node_id.unwrap_or(sid)).await?;
    if !allows(&actor, Action::ReadTree, Target::Node { path: &node.path }) {
        return Err(Error::Forbidden);
    }
    let topics = store::pending_topics(&st.db, sid, &node.path).await?;
    Ok(Json(json!({ "node_id": node.id, "topics": topics })))
}

/// A document sent as JSON: base64 grows a file by a third.
const DOCUMENT_JSON_LIMIT: usize = super::documents::MAX_BYTES / 3 * 4 + 64 * 1024;

#[derive(Debug, serde::Deserialize)]
struct NewDocument {
    #[serde(default)]
    file_name: String,
    #[serde(default)]
    file_base64: String,
}

/// `POST /halls/{id}/items/{item_id}/documents` `{file_name, file_base64}`: 201 with the document.
async fn add_document(
    State(st): State<AppState>,
    actor: Actor,
    Path((id, item_id)): Path<(i64, i64)>,
    Body(b): Body<NewDocument>,
) -> Result<(StatusCode, Json<Value>)> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b.file_base64.trim())
        .map_err(|_| {
            Error::field(
                "file_base64",
                crate::i18n::Text::new("文件不是有效的 base64", "the file is not valid base64"),
            )
        })?;
    let d = super::documents::add(&st.db, &actor, id, item_id, &b.file_name, bytes).await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::to_value(d).unwrap_or_default()),
    ))
}

/// `GET /halls/{id}/documents/{doc_id}`: the file itself.
async fn document(
    State(st): State<AppState>,
    actor: Actor,
    Path((id, doc_id)): Path<(i64, i64)>,
) -> Result<axum::response::Response> {
    let (d, bytes) = super::documents::file(&st.db, &actor, id, doc_id).await?;
    Ok(super::documents::response(&d, bytes))
}
