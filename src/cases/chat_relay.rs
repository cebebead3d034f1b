//! The group-chat relay: an inbound webhook that turns messages relayed by a group-chat bot
//! into draft cases for staff to triage (state `draft`, staff-only, channel `chat`).
//!
//! - Authentication: the bot calls `POST /api/v1/relay/messages` with an ordinary API token
//!   (`Authorization: Bearer rbt_…`) of a user who may read people across the whole
//!   subdistrict (`ReadPeople` at the root: a subdistrict staff or admin grant). The intended
//!   set-up is a dedicated bot user with the `subdistrict_staff` role; revoking its token stops
//!   the relay. No shared secrets to rotate, and every draft names the bot as its reporter.
//! - Every message is kept in the relay log (`chat_messages`), never dropped: a message from a
//!   group not bound to a place is kept as `unbound` and shown on `/admin/relay`; chit-chat
//!   (emoji, "收到", "好的"…, see [`rules::triage`]) as `chit_chat`; the rest become drafts with a
//!   category guessed from the category keywords and the first 30 characters as the title.
//! - A re-sent message (same group and message id) makes nothing new: the log's unique key
//!   finds it, and the draft is opened with the idempotency key `chat:<digest of group and
//!   message id>`, so even two deliveries racing make one case. The case is opened first (its
//!   own transaction), then the log row is written: a crash in between is healed by the
//!   bot's retry, which replays the same case.
//! - Binding a group (`/admin/relay`, `PUT /api/v1/relay/groups/{group_id}`) to a grid, building,
//!   unit or village group (where cases are placed) also turns the group's kept `unbound`
//!   messages into drafts, reported by the administrator who bound it.

pub mod rules;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use maud::{html, Markup};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;
use sqlx::Row;

pub use rules::{RelayMessage, Triage};

use super::store::{self, NewCase};
use crate::access::{allows, Action, Actor, Target};
use crate::audit::{self, Change};
use crate::error::{Error, Result};
use crate::i18n::Text;
use crate::storage::{is_unique_violation, next_id, opt_i64, Db};
use crate::tree::NodeKind;
use crate::web::errors::{Form, Json as Body};
use crate::web::layout::{self, csrf};
use crate::web::{AppState, Ctx, Page};

/// The channel code of relayed drafts.
pub const CHANNEL: &str = "chat";
/// Most rows a list answers.
pub const MAX_LIST: i64 = 500;

/// What became of a relayed message.
pub const OUTCOMES: &[&str] = &["draft", "chit_chat", "unbound", "failed"];

fn outcome_label(o: &str) -> Text {
    match o {
        "draft" => Text::new("已转待分拣", "drafted"),
        "chit_chat" => Text::new("闲聊,仅留存", "chit-chat, kept"),
        "unbound" => Text::new("群未绑定,待处理", "group not bound, kept"),
        _ => Text::new("未能转为事项", "could not be drafted"),
    }
}

/// A chat group the relay has heard from, and its binding.
#[derive(Debug, Clone, Serialize)]
pub struct Group {
    pub group_id: String,
    pub group_name: String,
    pub node_id: Option<i64>,
    pub node_name: Option<String>,
    pub bound_at: Option<i64>,
    pub first_seen_at: i64,
    pub last_seen_at: i64,
    pub messages: i64,
    pub unbound_messages: i64,
}

/// One row of the relay log.
#[derive(Debug, Clone, Serialize)]
pub struct LoggedMessage {
    pub id: i64,
    pub group_id: String,
    pub message_id: String,
    pub sender_id: String,
    pub sender_name: String,
    pub text: String,
    pub images: Vec<String>,
    pub sent_at: i64,
    pub received_at: i64,
    pub outcome: String,
    pub category: String,
    pub case_id: Option<i64>,
    pub case_number: Option<String>,
    pub note: String,
}

/// The root path of the actor's subdistrict.
fn root_path(sid: i64) -> String {
    format!("/{sid}/")
}

/// Whether `actor` may relay messages (see the module documentation).
pub fn may_relay(actor: &Actor) -> bool {
    allows(
        actor,
        Action::ReadPeople,
        Target::Node {
            path: &root_path(actor.subdistrict_id),
        },
    )
}

fn require_admin(actor: &Actor) -> Result<()> {
    if allows(actor, Action::Configure, Target::Subdistrict) {
        Ok(())
    } else {
        Err(Error::Forbidden)
    }
}

/// Where cases are placed, so where a group may be bound.
fn bindable(kind: NodeKind) -> bool {
    matches!(
        kind,
        NodeKind::Grid | NodeKind::Building | NodeKind::Unit | NodeKind::VillageGroup
    )
}

/// The idempotency key of the draft of a message: ASCII whatever the ids are.
pub fn idempotency_key(group_id: &str, message_id: &str) -> String {
    let mut h = Sha256::new();
    h.update(group_id.as_bytes());
    h.update([0u8]);
    h.update(message_id.as_bytes());
    format!("chat:{}", &hex::encode(h.finalize())[..40])
}

const MSG_COLS: &str = "m.id, m.group_id, m.message_id, m.sender_id, m.sender_name, m.text, \
    m.images_json, m.sent_at, m.received_at, m.outcome, m.category, m.case_id, m.note, c.number";

const MSG_FROM: &str = "FROM chat_messages m LEFT JOIN cases c \
    ON c.subdistrict_id = m.subdistrict_id AND c.id = m.case_id";

fn message_from(r: &AnyRow) -> LoggedMessage {
    LoggedMessage {
        id: r.get("id"),
        group_id: r.get("group_id"),
        message_id: r.get("message_id"),
        sender_id: r.get("sender_id"),
        sender_name: r.get("sender_name"),
        text: r.get("text"),
        images: serde_json::from_str(&r.get::<String, _>("images_json")).unwrap_or_default(),
        sent_at: r.get("sent_at"),
        received_at: r.get("received_at"),
        outcome: r.get("outcome"),
        category: r.get("category"),
        case_id: opt_i64(r, "case_id"),
        case_number: r.try_get::<Option<String>, _>("number").ok().flatten(),
        note: r.get("note"),
    }
}

/// The logged message of a group and message id, if it came before.
pub async fn logged(
    db: &Db,
    sid: i64,
    group_id: &str,
    message_id: &str,
) -> Result<Option<LoggedMessage>> {
    let row = sqlx::query(&format!(
        "SELECT {MSG_COLS} {MSG_FROM} WHERE m.subdistrict_id = $1 AND m.group_id = $2 AND m.message_id = $3"
    ))
    .bind(sid)
    .bind(group_id)
    .bind(message_id)
    .fetch_optional(db.write())
    .await?;
    Ok(row.as_ref().map(message_from))
}

/// The relay log, newest first: of one group and/or one outcome when given.
pub async fn messages(
    db: &Db,
    sid: i64,
    group_id: Option<&str>,
    outcome: Option<&str>,
    limit: i64,
) -> Result<Vec<LoggedMessage>> {
    let rows = sqlx::query(&format!(
        "SELECT {MSG_COLS} {MSG_FROM} WHERE m.subdistrict_id = $1 \
         AND ($2 = '' OR m.group_id = $2) AND ($3 = '' OR m.outcome = $3) \
         ORDER BY m.received_at DESC, m.id DESC LIMIT $4"
    ))
    .bind(sid)
    .bind(group_id.unwrap_or(""))
    .bind(outcome.unwrap_or(""))
    .bind(limit.clamp(1, MAX_LIST))
    .fetch_all(db.read())
    .await?;
    Ok(rows.iter().map(message_from).collect())
}

/// The groups heard from, unbound ones first, then by name.
pub async fn groups(db: &Db, sid: i64) -> Result<Vec<Group>> {
    let rows = sqlx::query(
        "SELECT g.group_id, g.group_name, g.node_id, n.name AS node_name, g.bound_at, \
         g.first_seen_at, g.last_seen_at, \
         (SELECT COUNT(*) FROM chat_messages m WHERE m.subdistrict_id = g.subdistrict_id AND m.group_id = g.group_id) AS messages, \
         (SELECT COUNT(*) FROM chat_messages m WHERE m.subdistrict_id = g.subdistrict_id AND m.group_id = g.group_id AND m.outcome = 'unbound') AS unbound_messages \
         FROM chat_groups g LEFT JOIN nodes n ON n.subdistrict_id = g.subdistrict_id AND n.id = g.node_id \
         WHERE g.subdistrict_id = $1 \
         ORDER BY CASE WHEN g.node_id IS NULL THEN 0 ELSE 1 END, g.group_name, g.group_id",
    )
    .bind(sid)
    .fetch_all(db.read())
    .await?;
    Ok(rows
        .iter()
        .map(|r| Group {
            group_id: r.get("group_id"),
            group_name: r.get("group_name"),
            node_id: opt_i64(r, "node_id"),
            node_name: r.try_get::<Option<String>, _>("node_name").ok().flatten(),
            bound_at: opt_i64(r, "bound_at"),
            first_seen_at: r.get("first_seen_at"),
            last_seen_at: r.get("last_seen_at"),
            messages: r.get("messages"),
            unbound_messages: r.get("unbound_messages"),
        })
        .collect())
}

async fn group(db: &Db, sid: i64, group_id: &str) -> Result<Option<Group>> {
    Ok(groups(db, sid)
        .await?
        .into_iter()
        .find(|g| g.group_id == group_id))
}

/// Opens the draft of a message at `node_id` as `actor`: `Ok(Ok(case))`, or `Ok(Err(note))`
/// when the case store refuses it (kept as `failed` with the reason).
async fn open_draft(
    db: &Db,
    actor: &Actor,
    m: &RelayMessage,
    node_id: i64,
    category: &str,
) -> Result<std::result::Result<store::CaseRecord, String>> {
    let new = NewCase {
        category: category.to_string(),
        node_id,
        title: rules::title(&m.text),
        description: rules::description(m, super::lifecycle::MAX_TEXT_CHARS),
        contact_name: m
            .sender_name
            .chars()
            .take(store::MAX_ADDRESS_CHARS)
            .collect(),
        draft: true,
        source_ref: format!("{}:{}", m.group_id, m.message_id),
        ..Default::default()
    };
    let key = idempotency_key(&m.group_id, &m.message_id);
    match store::open_case(db, actor, new, CHANNEL, Some(&key)).await {
        Ok(opened) => Ok(Ok(opened.case().clone())),
        Err(Error::Internal(e)) => Err(Error::Internal(e)),
        Err(Error::Invalid(errors)) => Ok(Err(errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message.en))
            .collect::<Vec<_>>()
            .join("; "))),
        Err(e) => Ok(Err(e.to_string())),
    }
}

/// The log's note for a draft filed under the fallback while the keywords pointed elsewhere.
fn suggested_note(code: &str) -> String {
    format!("建议类别 / suggested category: {code}")
}

/// Receives one relayed message: keeps it in the log and, when its group is bound and it is
/// not chit-chat, opens its draft. Returns the log row and whether it had come before.
pub async fn receive(db: &Db, actor: &Actor, m: RelayMessage) -> Result<(LoggedMessage, bool)> {
    if !may_relay(actor) {
        return Err(Error::Forbidden);
    }
    let sid = actor.subdistrict_id;
    let m = rules::check(&m).map_err(Error::Invalid)?;
    if let Some(found) = logged(db, sid, &m.group_id, &m.message_id).await? {
        return Ok((found, true));
    }
    let node_id: Option<i64> =
        sqlx::query("SELECT node_id FROM chat_groups WHERE subdistrict_id = $1 AND group_id = $2")
            .bind(sid)
            .bind(&m.group_id)
            .fetch_optional(db.write())
            .await?
            .and_then(|r| opt_i64(&r, "node_id"));
    let tree = super::category_store::offered(db, sid).await?;
    let triage = rules::triage(&tree, &m.text, !m.images.is_empty());
    let suggestion = match &triage {
        Triage::Draft {
            suggested: Some(code),
            ..
        } => suggested_note(code),
        _ => String::new(),
    };
    let (outcome, category, case_id, note) = match (&triage, node_id) {
        (Triage::ChitChat, _) => ("chit_chat", String::new(), None, String::new()),
        (Triage::Draft { category, .. }, None) => ("unbound", category.clone(), None, suggestion),
        (Triage::Draft { category, .. }, Some(node)) => {
            match open_draft(db, actor, &m, node, category).await? {
                Ok(c) => ("draft", category.clone(), Some(c.id), suggestion),
                Err(note) => ("failed", category.clone(), None, note),
            }
        }
    };
    let now = crate::clock::now_ms();
    let mut tx = db.begin().await?;
    let written: std::result::Result<(), sqlx::Error> = async {
        sqlx::query(
            "INSERT INTO chat_groups (subdistrict_id, group_id, group_name, first_seen_at, last_seen_at) \
             VALUES ($1, $2, $3, $4, $4) \
             ON CONFLICT (subdistrict_id, group_id) DO UPDATE SET last_seen_at = excluded.last_seen_at, \
             group_name = CASE WHEN excluded.group_name = '' THEN chat_groups.group_name ELSE excluded.group_name END",
        )
        .bind(sid)
        .bind(&m.group_id)
        .bind(&m.group_name)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO chat_messages (subdistrict_id, id, group_id, message_id, sender_id, sender_name, \
             text, images_json, sent_at, received_at, outcome, category, case_id, note) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .bind(sid)
        .bind(next_id())
        .bind(&m.group_id)
        .bind(&m.message_id)
        .bind(&m.sender_id)
        .bind(&m.sender_name)
        .bind(&m.text)
        .bind(serde_json::to_string(&m.images).unwrap_or_else(|_| "[]".into()))
        .bind(m.sent_at)
        .bind(now)
        .bind(outcome)
        .bind(&category)
        .bind(case_id)
        .bind(&note)
        .execute(&mut *tx)
        .await?;
        Ok(())
    }
    .await;
    match written {
        Ok(()) => tx.commit().await?,
        Err(e) if is_unique_violation(&e) => {
            // A concurrent delivery of the same message won; answer as it did.
            drop(tx);
            if let Some(found) = logged(db, sid, &m.group_id, &m.message_id).await? {
                return Ok((found, true));
            }
            return Err(e.into());
        }
        Err(e) => return Err(e.into()),
    }
    let row = logged(db, sid, &m.group_id, &m.message_id)
        .await?
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("relayed message vanished")))?;
    Ok((row, false))
}

/// What binding a group did.
#[derive(Debug, Clone, Serialize)]
pub struct Bound {
    pub group: Group,
    /// Kept messages of the group turned into drafts now.
    pub drafted: usize,
}

/// Binds a group to a node (a grid or below), or unbinds it (`None`); audited. Binding turns
/// the group's kept `unbound` messages into drafts reported by `actor`.
pub async fn bind(db: &Db, actor: &Actor, group_id: &str, node_id: Option<i64>) -> Result<Bound> {
    require_admin(actor)?;
    let sid = actor.subdistrict_id;
    let before = group(db, sid, group_id).await?.ok_or(Error::NotFound)?;
    if let Some(id) = node_id {
        let node = match crate::tree::store::node(db, sid, id).await {
            Ok(n) => n,
            Err(Error::NotFound) => {
                return Err(Error::field(
                    "node_id",
                    Text::new("没有这个地点", "no such place"),
                ))
            }
            Err(e) => return Err(e),
        };
        if !bindable(node.kind) {
            return Err(Error::field(
                "node_id",
                Text::new(
                    "请选择网格、楼栋、单元或村民小组",
                    "choose a grid, building, unit or village group",
                ),
            ));
        }
    }
    let now = crate::clock::now_ms();
    let mut tx = db.begin().await?;
    sqlx::query(
        "UPDATE chat_groups SET node_id = $1, bound_by = $2, bound_at = $3 \
         WHERE subdistrict_id = $4 AND group_id = $5",
    )
    .bind(node_id)
    .bind(node_id.map(|_| actor.user_id).filter(|u| *u != 0))
    .bind(node_id.map(|_| now))
    .bind(sid)
    .bind(group_id)
    .execute(&mut *tx)
    .await?;
    let label = if before.group_name.is_empty() {
        group_id.to_string()
    } else {
        before.group_name.clone()
    };
    audit::record(
        &mut tx,
        actor,
        Change::new(
            if node_id.is_some() {
                "chat.bind"
            } else {
                "chat.unbind"
            },
            "chat_group",
            None,
        )
        .label(&label)
        .before(json!({ "group_id": group_id, "node_id": before.node_id }))
        .after(json!({ "group_id": group_id, "node_id": node_id })),
    )
    .await?;
    tx.commit().await?;
    let mut drafted = 0;
    if let Some(node) = node_id {
        drafted = draft_kept(db, actor, group_id, node).await?;
    }
    let group = group(db, sid, group_id).await?.ok_or(Error::NotFound)?;
    Ok(Bound { group, drafted })
}

/// Turns a group's kept `unbound` messages into drafts at `node`.
async fn draft_kept(db: &Db, actor: &Actor, group_id: &str, node: i64) -> Result<usize> {
    let sid = actor.subdistrict_id;
    let kept = messages(db, sid, Some(group_id), Some("unbound"), MAX_LIST).await?;
    let mut drafted = 0;
    for k in kept.iter().rev() {
        let m = RelayMessage {
            group_id: k.group_id.clone(),
            group_name: String::new(),
            sender_id: k.sender_id.clone(),
            sender_name: k.sender_name.clone(),
            text: k.text.clone(),
            sent_at: k.sent_at,
            message_id: k.message_id.clone(),
            images: k.images.clone(),
        };
        let (outcome, case_id, note) = match open_draft(db, actor, &m, node, &k.category).await? {
            Ok(c) => ("draft", Some(c.id), k.note.clone()),
            Err(note) => ("failed", None, note),
        };
        let done = sqlx::query(
            "UPDATE chat_messages SET outcome = $1, case_id = $2, note = $3 \
             WHERE subdistrict_id = $4 AND id = $5 AND outcome = 'unbound'",
        )
        .bind(outcome)
        .bind(case_id)
        .bind(&note)
        .bind(sid)
        .bind(k.id)
        .execute(db.write())
        .await?;
        if outcome == "draft" && done.rows_affected() == 1 {
            drafted += 1;
        }
    }
    Ok(drafted)
}

/// The places a group can be bound to in the page's list: grids and village groups.
async fn bind_targets(db: &Db, sid: i64) -> Result<Vec<(i64, String)>> {
    let rows = sqlx::query(
        "SELECT n.id, n.name, p.name AS parent_name FROM nodes n \
         LEFT JOIN nodes p ON p.subdistrict_id = n.subdistrict_id AND p.id = n.parent_id \
         WHERE n.subdistrict_id = $1 AND n.kind IN ('grid', 'village_group') ORDER BY n.path LIMIT 3000",
    )
    .bind(sid)
    .fetch_all(db.read())
    .await?;
    Ok(rows
        .iter()
        .map(|r| {
            let parent: Option<String> = r.try_get("parent_name").ok().flatten();
            let name: String = r.get("name");
            let label = match parent {
                Some(p) => format!("{p} / {name}"),
                None => name,
            };
            (r.get::<i64, _>("id"), label)
        })
        .collect())
}

// ---------------------------------------------------------------------------------------
// HTTP

/// Pages (merged into the site router).
pub fn routes() -> Router<AppState> {
    Router::new().route("/admin/relay", get(page).post(submit))
}

/// JSON API routes (nested under `/api/v1`). Open311's settings API rides along here, as
/// the Open311 endpoints themselves live outside `/api/v1`.
pub fn api_routes() -> Router<AppState> {
    Router::new()
        .route("/relay/messages", post(api_receive).get(api_messages))
        .route("/relay/groups", get(api_groups))
        .route("/relay/groups/{group_id}", put(api_bind))
        .merge(super::open311::api_routes())
}

async fn api_receive(
    State(st): State<AppState>,
    actor: Actor,
    Body(m): Body<RelayMessage>,
) -> Result<(StatusCode, Json<Value>)> {
    let (row, replayed) = receive(&st.db, &actor, m).await?;
    let status = if replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((
        status,
        Json(json!({ "message": row, "replayed": replayed })),
    ))
}

#[derive(Deserialize, Default)]
struct LogQuery {
    group_id: Option<String>,
    outcome: Option<String>,
    limit: Option<i64>,
}

async fn api_messages(
    State(st): State<AppState>,
    actor: Actor,
    Query(q): Query<LogQuery>,
) -> Result<Json<Value>> {
    require_admin(&actor)?;
    if let Some(o) = q.outcome.as_deref().filter(|o| !o.is_empty()) {
        if !OUTCOMES.contains(&o) {
            return Err(Error::field(
                "outcome",
                Text::new(
                    "须为 draft、chit_chat、unbound 或 failed",
                    "must be draft, chit_chat, unbound or failed",
                ),
            ));
        }
    }
    let list = messages(
        &st.db,
        actor.subdistrict_id,
        q.group_id.as_deref(),
        q.outcome.as_deref(),
        q.limit.unwrap_or(100),
    )
    .await?;
    Ok(Json(json!({ "messages": list })))
}

async fn api_groups(State(st): State<AppState>, actor: Actor) -> Result<Json<Value>> {
    require_admin(&actor)?;
    Ok(Json(
        json!({ "groups": groups(&st.db, actor.subdistrict_id).await? }),
    ))
}

async fn api_bind(
    State(st): State<AppState>,
    actor: Actor,
    Path(group_id): Path<String>,
    Body(body): Body<Value>,
) -> Result<Json<Value>> {
    require_admin(&actor)?;
    let node_id = match body.get("node_id") {
        Some(Value::Null) => None,
        Some(v) => Some(v.as_i64().ok_or_else(|| {
            Error::field("node_id", Text::new("须为地点编号", "must be a node id"))
        })?),
        None => {
            return Err(Error::field(
                "node_id",
                Text::new(
                    "请填写地点编号(null 为解除绑定)",
                    "is required (null unbinds the group)",
                ),
            ))
        }
    };
    let b = bind(&st.db, &actor, &group_id, node_id).await?;
    Ok(Json(json!(b)))
}

#[derive(Deserialize, Default)]
struct PageQuery {
    group: Option<String>,
    bound: Option<String>,
    drafted: Option<usize>,
}

async fn render(
    ctx: &Ctx,
    actor: &Actor,
    q: &PageQuery,
    errors: &[crate::error::FieldError],
) -> Result<Markup> {
    let db = &ctx.state.db;
    let sid = actor.subdistrict_id;
    let list = groups(db, sid).await?;
    let targets = bind_targets(db, sid).await?;
    let group_filter = q.group.as_deref().filter(|g| !g.is_empty());
    let kept = messages(db, sid, group_filter, Some("unbound"), 100).await?;
    let recent = messages(db, sid, group_filter, None, 50).await?;
    let when = |ms: i64| crate::clock::format_local(ms);
    let body = html! {
        h1 { (ctx.t("群聊转办", "Group-chat relay")) }
        p.muted { (ctx.t(
            "居民群里的消息由群机器人转来:已绑定地点的群,消息自动转为待分拣事项;未绑定的群,消息留存在这里,绑定后即转为待分拣。闲聊只留存,不转办。",
            "A group-chat bot relays messages here. Messages of a group bound to a place become drafts for triage; those of unbound groups are kept here and become drafts once the group is bound. Chit-chat is kept, not drafted."
        )) }
        @if let Some(g) = &q.bound {
            p.success role="status" { (ctx.t("已保存群的绑定:", "Binding saved: ")) (g)
                @if let Some(n) = q.drafted { @if n > 0 { " · " (n) " " (ctx.t("条留存消息已转为待分拣。", "kept messages drafted.")) } } }
        }
        @if !errors.is_empty() {
            ul.field-errors role="alert" { @for e in errors { li { (ctx.text(&e.message)) } } }
        }
        h2 { (ctx.t("群", "Groups")) }
        @if list.is_empty() {
            p.muted { (ctx.t("还没有收到任何群消息。", "No group messages received yet.")) }
        } @else {
            div.table-wrap { table {
                tr { th { (ctx.t("群", "Group")) } th { (ctx.t("绑定地点", "Bound to")) } th { (ctx.t("消息", "Messages")) } th { (ctx.t("绑定", "Bind")) } }
                @for g in &list {
                    tr {
                        td { a href={ "/admin/relay?group=" (urlenc(&g.group_id)) } {
                                @if g.group_name.is_empty() { (g.group_id) } @else { (g.group_name) } }
                             br; span.muted { (g.group_id) } }
                        td { @match &g.node_name { Some(n) => (n), None => span.tag { (ctx.t("未绑定", "not bound")) } } }
                        td { (g.messages) @if g.unbound_messages > 0 { " · " span.tag { (g.unbound_messages) " " (ctx.t("条待处理", "kept")) } } }
                        td {
                            form.inline method="post" action="/admin/relay" {
                                (csrf(ctx))
                                input type="hidden" name="group_id" value=(g.group_id);
                                select name="node_id" aria-label=(ctx.t("绑定地点", "Bound to")) {
                                    option value="" selected[g.node_id.is_none()] { (ctx.t("(不绑定)", "(not bound)")) }
                                    @for (id, label) in &targets {
                                        option value=(id) selected[g.node_id == Some(*id)] { (label) }
                                    }
                                }
                                button type="submit" { (ctx.t("保存", "Save")) }
                            }
                        }
                    }
                }
            } }
        }
        h2 { (ctx.t("未绑定群的留存消息", "Kept messages of unbound groups")) }
        (message_table(ctx, &kept, &when))
        h2 { (ctx.t("最近收到的消息", "Recently received")) }
        (message_table(ctx, &recent, &when))
    };
    Ok(layout::page(
        ctx,
        ctx.t("群聊转办", "Group-chat relay"),
        body,
    ))
}

fn urlenc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn message_table(ctx: &Ctx, list: &[LoggedMessage], when: &dyn Fn(i64) -> String) -> Markup {
    html! {
        @if list.is_empty() {
            p.muted { (ctx.t("没有。", "None.")) }
        } @else {
            div.table-wrap { table {
                tr { th { (ctx.t("时间", "Sent")) } th { (ctx.t("群 / 发送人", "Group / sender")) } th { (ctx.t("内容", "Text")) } th { (ctx.t("处理", "Outcome")) } }
                @for m in list {
                    tr {
                        td { (when(m.sent_at)) }
                        td { (m.group_id) br; span.muted { (m.sender_name) } }
                        td { (m.text) @for u in &m.images { br; a href=(u) rel="noopener noreferrer nofollow" { (ctx.t("图片", "image")) } } }
                        td { (ctx.text(&outcome_label(&m.outcome)))
                             @if let (Some(id), Some(n)) = (m.case_id, &m.case_number) { br; a href={ "/cases/" (id) } { (n) } }
                             @if !m.note.is_empty() { br; span.muted { (m.note) } } }
                    }
                }
            } }
        }
    }
}

async fn page(p: Page, Query(q): Query<PageQuery>) -> Result<Markup> {
    require_admin(&p.actor)?;
    render(&p.ctx, &p.actor, &q, &[]).await
}

#[derive(Deserialize)]
struct BindForm {
    group_id: String,
    #[serde(default)]
    node_id: String,
}

async fn submit(p: Page, Form(f): Form<BindForm>) -> Result<Response> {
    require_admin(&p.actor)?;
    let node_id = match f.node_id.trim() {
        "" => None,
        s => match s.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                let e = crate::error::FieldError::new(
                    "node_id",
                    Text::new("须为地点编号", "must be a node id"),
                );
                let page = render(&p.ctx, &p.actor, &PageQuery::default(), &[e]).await?;
                return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
            }
        },
    };
    match bind(&p.ctx.state.db, &p.actor, &f.group_id, node_id).await {
        Ok(b) => Ok(Redirect::to(&format!(
            "/admin/relay?bound={}&drafted={}",
            urlenc(&f.group_id),
            b.drafted
        ))
        .into_response()),
        Err(Error::Invalid(errors)) => {
            let page = render(&p.ctx, &p.actor, &PageQuery::default(), &errors).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e),
    }
}
