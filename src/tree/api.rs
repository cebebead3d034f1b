//! Tree API: nodes, their children and rooms.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::store::{self, NewRoom};
use super::NodeKind;
use crate::access::{allows, Action, Actor, Target};
use crate::audit::{self, Change};
use crate::error::{Error, Result};
use crate::i18n::Text;
use crate::web::errors::Json as Body;
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/nodes/{id}", get(node).patch(rename))
        .route("/nodes/{id}/children", axum::routing::post(create_child))
        .route("/nodes/{id}/rooms", get(rooms).post(create_room))
        .route("/rooms/{id}", get(room).put(update_room))
}

/// Loads a node and checks the actor may do `action` there.
pub async fn authorised_node(
    st: &AppState,
    actor: &Actor,
    id: i64,
    action: Action,
) -> Result<store::Node> {
    let node = store::node(&st.db, actor.subdistrict_id, id).await?;
    if !allows(actor, action, Target::Node { path: &node.path }) {
        return Err(Error::Forbidden);
    }
    Ok(node)
}

async fn node(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Json<Value>> {
    let node = authorised_node(&st, &actor, id, Action::ReadTree).await?;
    let sid = actor.subdistrict_id;
    let children = store::children(&st.db, sid, id).await?;
    let ancestors = store::ancestors(&st.db, sid, &node.path).await?;
    let mut counts = serde_json::to_value(store::subtree_counts(&st.db, sid, &node.path).await?)
        .unwrap_or_default();
    if !allows(
        &actor,
        Action::ReadPeople,
        Target::Node { path: &node.path },
    ) {
        if let Some(o) = counts.as_object_mut() {
            o.remove("households");
            o.remove("residents");
        }
    }
    Ok(Json(
        json!({ "node": node, "ancestors": ancestors, "children": children, "counts": counts }),
    ))
}

#[derive(Deserialize)]
struct NewChild {
    kind: String,
    name: String,
    #[serde(default)]
    code: Option<String>,
}

/// Parses a node kind named in a request.
pub fn parse_kind(s: &str) -> Result<NodeKind> {
    NodeKind::parse(s.trim()).ok_or_else(|| {
        Error::field(
            "kind",
            Text::new(
                "类型应为 community、village、grid、building、unit 或 village_group",
                "kind is one of community, village, grid, building, unit, village_group",
            ),
        )
    })
}

/// Creates a child node with its audit entry, in one transaction.
pub async fn create_child_node(
    st: &AppState,
    actor: &Actor,
    parent: i64,
    kind: NodeKind,
    name: &str,
    code: Option<&str>,
) -> Result<store::Node> {
    authorised_node(st, actor, parent, Action::EditRegistry).await?;
    let mut tx = st.db.begin().await?;
    let node = store::create_node(
        &mut tx,
        actor.subdistrict_id,
        parent,
        kind,
        name,
        code.filter(|c| !c.trim().is_empty()),
    )
    .await?;
    audit::record(
        &mut tx,
        actor,
        Change::new("node.create", "node", Some(node.id))
            .label(&node.name)
            .after(json!(node)),
    )
    .await?;
    tx.commit().await?;
    Ok(node)
}

async fn create_child(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
    Body(b): Body<NewChild>,
) -> Result<(StatusCode, Json<Value>)> {
    let kind = parse_kind(&b.kind)?;
    let node = create_child_node(&st, &actor, id, kind, &b.name, b.code.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(json!(node))))
}

async fn rooms(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Json<Value>> {
    authorised_node(&st, &actor, id, Action::ReadTree).await?;
    let rooms = store::rooms_on(&st.db, actor.subdistrict_id, id).await?;
    Ok(Json(json!({ "rooms": rooms })))
}

/// Creates a room with its audit entry, in one transaction.
pub async fn create_room_at(
    st: &AppState,
    actor: &Actor,
    node_id: i64,
    new: &NewRoom,
) -> Result<store::Room> {
    authorised_node(st, actor, node_id, Action::EditRegistry).await?;
    let mut tx = st.db.begin().await?;
    let room = store::create_room(&mut tx, actor.subdistrict_id, node_id, new).await?;
    audit::record(
        &mut tx,
        actor,
        Change::new("room.create", "room", Some(room.id))
            .label(&room.number)
            .after(json!(room)),
    )
    .await?;
    tx.commit().await?;
    Ok(room)
}

async fn create_room(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
    Body(b): Body<NewRoom>,
) -> Result<(StatusCode, Json<Value>)> {
    let room = create_room_at(&st, &actor, id, &b).await?;
    Ok((StatusCode::CREATED, Json(json!(room))))
}

async fn room(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Json<Value>> {
    let sid = actor.subdistrict_id;
    let room = store::room(&st.db, sid, id).await?;
    let node = store::node(&st.db, sid, room.node_id).await?;
    let target = Target::Room {
        room_id: room.id,
        path: &node.path,
    };
    if !allows(&actor, Action::ReadTree, target) {
        return Err(Error::Forbidden);
    }
    let mut v = json!({ "room": room, "effective_area": room.effective_area(), "node": node });
    if allows(&actor, Action::ReadPeople, target) {
        v["owners"] = json!(crate::people::store::owners_of_room(&st.db, sid, id).await?);
        v["households"] = json!(crate::people::store::households_of_room(&st.db, sid, id).await?);
    }
    Ok(Json(v))
}

#[derive(Deserialize)]
struct Rename {
    name: String,
    #[serde(default)]
    code: Option<String>,
}

/// Renames a node with its audit entry (before and after), in one transaction.
pub async fn rename_node(
    st: &AppState,
    actor: &Actor,
    id: i64,
    name: &str,
    code: Option<&str>,
) -> Result<store::Node> {
    authorised_node(st, actor, id, Action::EditRegistry).await?;
    let mut tx = st.db.begin().await?;
    let (before, after) = store::rename_node(&mut tx, actor.subdistrict_id, id, name, code).await?;
    audit::record(
        &mut tx,
        actor,
        Change::new("node.update", "node", Some(id))
            .label(&after.name)
            .before(json!(before))
            .after(json!(after)),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

async fn rename(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
    Body(b): Body<Rename>,
) -> Result<Json<Value>> {
    Ok(Json(json!(
        rename_node(&st, &actor, id, &b.name, b.code.as_deref()).await?
    )))
}

/// Corrects a room with its audit entry (before and after), in one transaction.
pub async fn update_room_at(
    st: &AppState,
    actor: &Actor,
    id: i64,
    new: &NewRoom,
) -> Result<store::Room> {
    let sid = actor.subdistrict_id;
    let room = store::room(&st.db, sid, id).await?;
    authorised_node(st, actor, room.node_id, Action::EditRegistry).await?;
    let mut tx = st.db.begin().await?;
    let (before, after) = store::update_room(&mut tx, sid, id, new).await?;
    audit::record(
        &mut tx,
        actor,
        Change::new("room.update", "room", Some(id))
            .label(&after.number)
            .before(json!(before))
            .after(json!(after)),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

async fn update_room(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
    Body(b): Body<NewRoom>,
) -> Result<Json<Value>> {
    Ok(Json(json!(update_room_at(&st, &actor, id, &b).await?)))
}
