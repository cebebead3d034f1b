//! Hall storage (migration 12): halls, members, contributions (`hall_items`) and their answers
//! and steps (`hall_replies`). Every write asks the rules first, and is one transaction with
//! its audit entry. Pages and the API both call these.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::rules::{self, Channel, Function, MemberRole, Op, Refusal, Stance, Standing};
use crate::access::{allows, Action, Actor, Role, Target};
use crate::audit::{self, Change};
use crate::error::{Error, FieldError, Result};
use crate::i18n::Text;
use crate::storage::{next_id, opt_i64, Db, Tx};
use crate::tree::model::within;
use crate::tree::{store as tree, NodeKind};

/// A hall as lists and pages show it.
#[derive(Debug, Clone, Serialize)]
pub struct Hall {
    pub id: i64,
    pub name: String,
    pub topic: String,
    pub node_id: i64,
    pub node_path: String,
    pub node_name: Option<String>,
    pub host_unit_id: Option<i64>,
    pub host_unit_name: Option<String>,
    pub status: String,
    pub outcome: String,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub closed_at: Option<i64>,
    pub counts: Counts,
}

/// What is waiting in a hall, by function.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Counts {
    pub consultation_open: i64,
    pub consultation_total: i64,
    pub feedback_unanswered: i64,
    pub feedback_total: i64,
    pub mediation_pending: i64,
    pub mediation_total: i64,
    pub publicity_total: i64,
    pub errand_open: i64,
    pub errand_total: i64,
}

/// A member of a hall.
#[derive(Debug, Clone, Serialize)]
pub struct Member {
    pub id: i64,
    pub hall_id: i64,
    pub user_id: Option<i64>,
    pub org_id: Option<i64>,
    pub name: String,
    pub role: String,
    pub label: String,
    pub added_at: i64,
}

/// An answer to a consultation or feedback, or a step of an errand or mediation.
#[derive(Debug, Clone, Serialize)]
pub struct Reply {
    pub id: i64,
    pub item_id: i64,
    pub kind: String,
    pub status_to: String,
    pub body: String,
    pub member_id: Option<i64>,
    pub member_name: Option<String>,
    pub channel: String,
    pub speaker: String,
    pub author_user_id: Option<i64>,
    pub recorded_by: Option<i64>,
    pub occurred_at: i64,
    pub recorded_at: i64,
}

/// A contribution to one of the five functions (see the migration for which fields apply).
#[derive(Debug, Clone, Serialize)]
pub struct Item {
    pub id: i64,
    pub hall_id: i64,
    pub function: String,
    pub status: String,
    pub stance: String,
    pub title: String,
    pub body: String,
    pub link: String,
    pub parties: Vec<String>,
    pub mediator_member_id: Option<i64>,
    pub mediator_name: String,
    pub scheduled_at: Option<i64>,
    pub venue: String,
    pub agreement: String,
    pub on_behalf_of: String,
    pub channel: String,
    pub speaker: String,
    pub author_user_id: Option<i64>,
    pub recorded_by: Option<i64>,
    pub occurred_at: i64,
    pub recorded_at: i64,
    pub version: i64,
    pub replies: Vec<Reply>,
    /// Publicity only: the files published with it.
    pub documents: Vec<super::documents::Document>,
}

impl Item {
    /// A short title: the item's own, else the start of its text.
    pub fn headline(&self) -> String {
        if !self.title.trim().is_empty() {
            return self.title.clone();
        }
        let mut s: String = self.body.chars().take(40).collect();
        if self.body.chars().count() > 40 {
            s.push('…');
        }
        s
    }
}

const HALL_SELECT: &str =
    "SELECT h.id, h.name, h.topic, h.node_id, h.node_path, h.host_unit_id, h.status, \
     h.outcome, h.created_by, h.created_at, h.closed_at, n.name AS node_name, \
     COALESCE(hn.name, ho.name) AS host_unit_name \
     FROM deliberation_halls h \
     LEFT JOIN nodes n ON n.subdistrict_id = h.subdistrict_id AND n.id = h.node_id \
     LEFT JOIN nodes hn ON hn.subdistrict_id = h.subdistrict_id AND hn.id = h.host_unit_id \
     LEFT JOIN orgs ho ON ho.subdistrict_id = h.subdistrict_id AND ho.id = h.host_unit_id \
     WHERE h.subdistrict_id = $1";

fn text(r: &AnyRow, c: &str) -> Option<String> {
    r.try_get::<Option<String>, _>(c).ok().flatten()
}

fn hall_from(r: &AnyRow) -> Hall {
    Hall {
        id: r.get("id"),
        name: r.get("name"),
        topic: r.get("topic"),
        node_id: r.get("node_id"),
        node_path: r.get("node_path"),
        node_name: text(r, "node_name"),
        host_unit_id: opt_i64(r, "host_unit_id"),
        host_unit_name: text(r, "host_unit_name"),
        status: r.get("status"),
        outcome: r.get("outcome"),
        created_by: opt_i64(r, "created_by"),
        created_at: r.get("created_at"),
        closed_at: opt_i64(r, "closed_at"),
        counts: Counts::default(),
    }
}

/// The counts of every hall of the subdistrict (or one hall), by hall id.
async fn counts(db: &Db, sid: i64, hall: Option<i64>) -> Result<HashMap<i64, Counts>> {
    let rows = sqlx::query(
        "SELECT hall_id, func, status, CAST(COUNT(*) AS BIGINT) AS n FROM hall_items \
         WHERE subdistrict_id = $1 AND ($2 = 0 OR hall_id = $2) GROUP BY hall_id, func, status",
    )
    .bind(sid)
    .bind(hall.unwrap_or(0))
    .fetch_all(db.read())
    .await?;
    let mut out: HashMap<i64, Counts> = HashMap::new();
    for r in &rows {
        let c = out.entry(r.get("hall_id")).or_default();
        let n: i64 = r.get("n");
        let status: String = r.get("status");
        match r.get::<String, _>("func").as_str() {
            "consultation" => {
                c.consultation_total += n;
                if status == "open" {
                    c.consultation_open += n;
                }
            }
            "feedback" => {
                c.feedback_total += n;
                if status == "open" {
                    c.feedback_unanswered += n;
                }
            }
            "mediation" => {
                c.mediation_total += n;
                if matches!(status.as_str(), "pending" | "adjourned") {
                    c.mediation_pending += n;
                }
            }
            "publicity" => c.publicity_total += n,
            "errand" => {
                c.errand_total += n;
                if matches!(status.as_str(), "requested" | "accepted" | "in_progress") {
                    c.errand_open += n;
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

/// One hall of the subdistrict, with its counts (no access check: see [`readable`]).
pub async fn hall(db: &Db, sid: i64, id: i64) -> Result<Hall> {
    let row = sqlx::query(&format!("{HALL_SELECT} AND h.id = $2"))
        .bind(sid)
        .bind(id)
        .fetch_optional(db.read())
        .await?
        .ok_or(Error::NotFound)?;
    let mut h = hall_from(&row);
    h.counts = counts(db, sid, Some(id))
        .await?
        .remove(&id)
        .unwrap_or_default();
    Ok(h)
}

/// The paths of the homes of the actor's person (households they belong to).
async fn homes(db: &Db, actor: &Actor) -> Result<Vec<String>> {
    let Some(person_id) = actor.person_id else {
        return Ok(Vec::new());
    };
    if !actor.has_role(Role::Resident) {
        return Ok(Vec::new());
    }
    crate::people::store::homes(db, actor.subdistrict_id, person_id).await
}

/// The halls the actor's user is a current member of.
async fn member_halls(db: &Db, actor: &Actor) -> Result<Vec<i64>> {
    if actor.user_id == 0 {
        return Ok(Vec::new());
    }
    Ok(sqlx::query(
        "SELECT hall_id FROM hall_members WHERE subdistrict_id = $1 AND user_id = $2 AND removed_at IS NULL",
    )
    .bind(actor.subdistrict_id)
    .bind(actor.user_id)
    .fetch_all(db.read())
    .await?
    .iter()
    .map(|r| r.get::<i64, _>(0))
    .collect())
}

fn standing_with(actor: &Actor, h: &Hall, homes: &[String], member_of: &[i64]) -> Standing {
    let place = Target::Node { path: &h.node_path };
    Standing {
        staff: allows(actor, Action::ReadPeople, place),
        member: member_of.contains(&h.id),
        resident: homes.iter().any(|home| within(home, &h.node_path)),
        observer: allows(actor, Action::ReadTree, place),
    }
}

/// What the actor is in a hall.
pub async fn standing(db: &Db, actor: &Actor, h: &Hall) -> Result<Standing> {
    let homes = homes(db, actor).await?;
    let member_of = member_halls(db, actor).await?;
    Ok(standing_with(actor, h, &homes, &member_of))
}

/// Loads a hall the actor may read: 404 when it does not exist, 403 when out of reach.
pub async fn readable(db: &Db, actor: &Actor, id: i64) -> Result<(Hall, Standing)> {
    let h = hall(db, actor.subdistrict_id, id).await?;
    let s = standing(db, actor, &h).await?;
    if !rules::may(s, Op::Read) {
        return Err(Error::Forbidden);
    }
    Ok((h, s))
}

fn require(s: Standing, op: Op) -> Result<()> {
    if rules::may(s, op) {
        Ok(())
    } else {
        Err(Error::Forbidden)
    }
}

/// The halls the actor may read, newest first; `status` 'open' or 'closed' filters.
pub async fn list(db: &Db, actor: &Actor, status: Option<&str>) -> Result<Vec<Hall>> {
    let sid = actor.subdistrict_id;
    let rows = sqlx::query(&format!(
        "{HALL_SELECT} AND ($2 = '' OR h.status = $2) ORDER BY h.created_at DESC, h.id DESC"
    ))
    .bind(sid)
    .bind(status.unwrap_or(""))
    .fetch_all(db.read())
    .await?;
    let homes = homes(db, actor).await?;
    let member_of = member_halls(db, actor).await?;
    let mut counts = counts(db, sid, None).await?;
    Ok(rows
        .iter()
        .map(hall_from)
        .filter(|h| rules::may(standing_with(actor, h, &homes, &member_of), Op::Read))
        .map(|mut h| {
            h.counts = counts.remove(&h.id).unwrap_or_default();
            h
        })
        .collect())
}

/// The places where the actor may start a hall (communities, villages, grids, buildings,
/// units, village groups their staff roles reach), in tree order.
pub async fn places(db: &Db, actor: &Actor) -> Result<Vec<tree::Node>> {
    let rows = sqlx::query(
        "SELECT id, depth, path FROM nodes WHERE subdistrict_id = $1 AND kind <> 'subdistrict' ORDER BY path",
    )
    .bind(actor.subdistrict_id)
    .fetch_all(db.read())
    .await?;
    let mut out = Vec::new();
    for r in rows.iter().take(2000) {
        let path: String = r.get("path");
        if allows(actor, Action::ReadPeople, Target::Node { path: &path }) {
            out.push(tree::node(db, actor.subdistrict_id, r.get("id")).await?);
        }
    }
    Ok(out)
}

/// What a request sends to open a hall.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewHall {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub topic: String,
    pub node_id: Option<i64>,
    #[serde(default)]
    pub host_unit_id: Option<i64>,
}

fn is_hall_place(kind: NodeKind) -> bool {
    !matches!(kind, NodeKind::Subdistrict)
}

/// Opens a hall at a place the actor's staff roles reach. The host unit, when given, is
/// added as the first member (role host). One transaction with its audit entries.
pub async fn create(db: &Db, actor: &Actor, new: NewHall) -> Result<Hall> {
    let sid = actor.subdistrict_id;
    let mut errors = Vec::new();
    rules::check_text("name", &new.name, 100, true, &mut errors);
    rules::check_text("topic", &new.topic, 2000, true, &mut errors);
    let node = match new.node_id {
        None => None,
        Some(id) => match tree::node(db, sid, id).await {
            Ok(n) if is_hall_place(n.kind) => Some(n),
            Ok(_) | Err(Error::NotFound) => None,
            Err(e) => return Err(e),
        },
    };
    if node.is_none() {
        errors.push(FieldError::new(
            "node_id",
            Text::new(
                "请选择议事厅所在的居民区、村、网格、楼栋或单元",
                "choose the community, village, grid, building or unit of the hall",
            ),
        ));
    }
    let host = match new.host_unit_id {
        None => None,
        Some(id) => {
            let u = crate::cases::routing::store::unit(db, sid, id).await?;
            if u.is_none() {
                errors.push(FieldError::new(
                    "host_unit_id",
                    Text::new("没有这个主持单位", "no such hosting unit"),
                ));
            }
            u
        }
    };
    if let Some(n) = &node {
        if !allows(actor, Action::ReadPeople, Target::Node { path: &n.path }) {
            return Err(Error::Forbidden);
        }
    }
    let node = match (node, errors.is_empty()) {
        (Some(n), true) => n,
        _ => return Err(Error::Invalid(errors)),
    };
    let id = next_id();
    let now = crate::clock::now_ms();
    let name = new.name.trim().to_string();
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO deliberation_halls (subdistrict_id, id, name, topic, node_id, node_path, host_unit_id, \
         status, outcome, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'open', '', $8, $9)",
    )
    .bind(sid)
    .bind(id)
    .bind(&name)
    .bind(new.topic.trim())
    .bind(node.id)
    .bind(&node.path)
    .bind(host.as_ref().map(|u| u.id))
    .bind((actor.user_id != 0).then_some(actor.user_id))
    .bind(now)
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        actor,
        Change::new("hall.create", "deliberation_hall", Some(id))
            .label(&name)
            .after(json!({ "name": name, "node_id": node.id,
                "host_unit_id": host.as_ref().map(|u| u.id) })),
    )
    .await?;
    if let Some(u) = &host {
        let is_org = NodeKind::parse(&u.kind).is_none();
        insert_member(
            &mut tx,
            actor,
            id,
            &NewMember {
                user_id: None,
                org_id: is_org.then_some(u.id),
                name: u.name.clone(),
                role: MemberRole::Host.as_str().into(),
                label: String::new(),
            },
            now,
        )
        .await?;
    }
    tx.commit().await?;
    hall(db, sid, id).await
}

/// Closes an open hall with its outcome summary.
pub async fn close(db: &Db, actor: &Actor, id: i64, outcome: &str) -> Result<Hall> {
    let (h, s) = readable(db, actor, id).await?;
    require(s, Op::Run)?;
    let mut errors = Vec::new();
    rules::check_text("outcome", outcome, 4000, true, &mut errors);
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    let now = crate::clock::now_ms();
    let mut tx = db.begin().await?;
    let done = sqlx::query(
        "UPDATE deliberation_halls SET status = 'closed', outcome = $3, closed_by = $4, closed_at = $5 \
         WHERE subdistrict_id = $1 AND id = $2 AND status = 'open'",
    )
    .bind(actor.subdistrict_id)
    .bind(id)
    .bind(outcome.trim())
    .bind((actor.user_id != 0).then_some(actor.user_id))
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(closed_conflict());
    }
    audit::record(
        &mut tx,
        actor,
        Change::new("hall.close", "deliberation_hall", Some(id))
            .label(&h.name)
            .before(json!({ "status": h.status }))
            .after(json!({ "status": "closed", "outcome": outcome.trim() })),
    )
    .await?;
    tx.commit().await?;
    hall(db, actor.subdistrict_id, id).await
}

fn closed_conflict() -> Error {
    Error::Conflict(Text::new(
        "议事厅已结束,不能再变更",
        "the hall is closed and cannot change",
    ))
}

/// The current members of a hall, hosts first.
pub async fn members(db: &Db, sid: i64, hall_id: i64) -> Result<Vec<Member>> {
    let rows = sqlx::query(
        "SELECT id, hall_id, user_id, org_id, name, role, label, added_at FROM hall_members \
         WHERE subdistrict_id = $1 AND hall_id = $2 AND removed_at IS NULL ORDER BY added_at, id",
    )
    .bind(sid)
    .bind(hall_id)
    .fetch_all(db.read())
    .await?;
    let mut out: Vec<Member> = rows
        .iter()
        .map(|r| Member {
            id: r.get("id"),
            hall_id: r.get("hall_id"),
            user_id: opt_i64(r, "user_id"),
            org_id: opt_i64(r, "org_id"),
            name: r.get("name"),
            role: r.get("role"),
            label: r.get("label"),
            added_at: r.get("added_at"),
        })
        .collect();
    out.sort_by_key(|m| m.role != MemberRole::Host.as_str());
    Ok(out)
}

/// What a request sends to add a member: a user, an organisation, or only a name.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewMember {
    #[serde(default)]
    pub user_id: Option<i64>,
    #[serde(default)]
    pub org_id: Option<i64>,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub role: String,
    #[serde(default)]
    pub label: String,
}

async fn insert_member(
    tx: &mut Tx,
    actor: &Actor,
    hall_id: i64,
    m: &NewMember,
    now: i64,
) -> Result<i64> {
    let id = next_id();
    sqlx::query(
        "INSERT INTO hall_members (subdistrict_id, id, hall_id, user_id, org_id, name, role, label, added_by, added_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(actor.subdistrict_id)
    .bind(id)
    .bind(hall_id)
    .bind(m.user_id)
    .bind(m.org_id)
    .bind(m.name.trim())
    .bind(&m.role)
    .bind(m.label.trim())
    .bind((actor.user_id != 0).then_some(actor.user_id))
    .bind(now)
    .execute(&mut **tx)
    .await?;
    audit::record(
        tx,
        actor,
        Change::new("hall.member_add", "deliberation_hall", Some(hall_id))
            .label(m.name.trim())
            .after(
                json!({ "member_id": id, "user_id": m.user_id, "org_id": m.org_id,
                "role": m.role, "label": m.label.trim() }),
            ),
    )
    .await?;
    Ok(id)
}

/// Adds a member (staff running the hall).
pub async fn add_member(db: &Db, actor: &Actor, hall_id: i64, mut m: NewMember) -> Result<Member> {
    let sid = actor.subdistrict_id;
    let (h, s) = readable(db, actor, hall_id).await?;
    require(s, Op::Run)?;
    if h.status != "open" {
        return Err(closed_conflict());
    }
    let mut errors = Vec::new();
    if MemberRole::parse(&m.role).is_none() {
        errors.push(FieldError::new(
            "role",
            Text::new("请选择成员角色", "choose the member's role"),
        ));
    }
    m.role = m.role.trim().to_string();
    rules::check_text("label", &m.label, 50, false, &mut errors);
    let mut known_name = None;
    if let Some(u) = m.user_id {
        match crate::auth::users::by_id(db, sid, u).await {
            Ok(user) => known_name = Some(user.display_name),
            Err(Error::NotFound) => errors.push(FieldError::new(
                "user_id",
                Text::new("没有这个用户", "no such user"),
            )),
            Err(e) => return Err(e),
        }
    }
    if let Some(o) = m.org_id {
        let row = sqlx::query("SELECT name FROM orgs WHERE subdistrict_id = $1 AND id = $2")
            .bind(sid)
            .bind(o)
            .fetch_optional(db.read())
            .await?;
        match row {
            Some(r) => known_name = known_name.or(Some(r.get::<String, _>(0))),
            None => errors.push(FieldError::new(
                "org_id",
                Text::new("没有这个单位", "no such organisation"),
            )),
        }
    }
    if m.name.trim().is_empty() {
        match known_name {
            Some(n) => m.name = n,
            None if errors.is_empty() => errors.push(FieldError::new(
                "name",
                Text::new(
                    "请填写成员名称,或选择用户或单位",
                    "name the member, or pick a user or organisation",
                ),
            )),
            None => {}
        }
    }
    rules::check_text("name", &m.name, 100, false, &mut errors);
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    let now = crate::clock::now_ms();
    let mut tx = db.begin().await?;
    let id = insert_member(&mut tx, actor, hall_id, &m, now).await?;
    tx.commit().await?;
    members(db, sid, hall_id)
        .await?
        .into_iter()
        .find(|x| x.id == id)
        .ok_or(Error::NotFound)
}

/// Removes a member (their row stays, marked removed, so their answers keep their name).
pub async fn remove_member(db: &Db, actor: &Actor, hall_id: i64, member_id: i64) -> Result<()> {
    let (h, s) = readable(db, actor, hall_id).await?;
    require(s, Op::Run)?;
    let before = members(db, actor.subdistrict_id, hall_id)
        .await?
        .into_iter()
        .find(|m| m.id == member_id)
        .ok_or(Error::NotFound)?;
    let mut tx = db.begin().await?;
    sqlx::query(
        "UPDATE hall_members SET removed_at = $4 WHERE subdistrict_id = $1 AND hall_id = $2 AND id = $3",
    )
    .bind(actor.subdistrict_id)
    .bind(hall_id)
    .bind(member_id)
    .bind(crate::clock::now_ms())
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        actor,
        Change::new("hall.member_remove", "deliberation_hall", Some(h.id))
            .label(&before.name)
            .before(serde_json::to_value(&before).unwrap_or_default()),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Who spoke and how, as a request sends it (for contributions, answers and steps).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Provenance {
    /// `online` (default) or an offline way: counter, visit, phone, meeting.
    #[serde(default)]
    pub channel: String,
    /// Offline: the person it is recorded for.
    #[serde(default)]
    pub speaker: String,
    /// Offline: when it really happened (Unix ms).
    #[serde(default)]
    pub occurred_at: Option<i64>,
}

/// Checked provenance, ready to store.
struct Said {
    channel: Channel,
    speaker: String,
    author_user_id: Option<i64>,
    recorded_by: Option<i64>,
    occurred_at: i64,
}

fn check_said(
    p: &Provenance,
    actor: &Actor,
    s: Standing,
    now: i64,
    errors: &mut Vec<FieldError>,
) -> Said {
    let channel = if p.channel.trim().is_empty() {
        Channel::Online
    } else {
        match Channel::parse(&p.channel) {
            Some(c) => c,
            None => {
                errors.push(FieldError::new(
                    "channel",
                    Text::new("请选择渠道", "choose a channel"),
                ));
                Channel::Online
            }
        }
    };
    let occurred_at = rules::check_provenance(
        channel,
        rules::may(s, Op::RecordOffline),
        &p.speaker,
        p.occurred_at,
        now,
        errors,
    );
    rules::check_text("speaker", &p.speaker, 50, false, errors);
    let user = (actor.user_id != 0).then_some(actor.user_id);
    if channel.offline() {
        Said {
            channel,
            speaker: p.speaker.trim().to_string(),
            author_user_id: None,
            recorded_by: user,
            occurred_at,
        }
    } else {
        Said {
            channel,
            speaker: actor.display_name.clone(),
            author_user_id: user,
            recorded_by: None,
            occurred_at,
        }
    }
}

/// What a request sends to add a contribution; which fields count depends on `function`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewItem {
    #[serde(default)]
    pub function: String,
    #[serde(default)]
    pub stance: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub link: String,
    #[serde(default)]
    pub parties: Vec<String>,
    #[serde(default)]
    pub mediator_member_id: Option<i64>,
    #[serde(default)]
    pub mediator_name: String,
    #[serde(default)]
    pub scheduled_at: Option<i64>,
    #[serde(default)]
    pub venue: String,
    #[serde(default)]
    pub on_behalf_of: String,
    #[serde(flatten)]
    pub said: Provenance,
}

/// Adds a contribution to one of the five functions: residents ask, give feedback and request
/// errands; staff also publish, schedule mediation and record offline contributions.
pub async fn add_item(db: &Db, actor: &Actor, hall_id: i64, new: NewItem) -> Result<Item> {
    let sid = actor.subdistrict_id;
    let (h, s) = readable(db, actor, hall_id).await?;
    let Some(function) = Function::parse(&new.function) else {
        return Err(Error::field(
            "function",
            Text::new("请选择功能", "choose a function"),
        ));
    };
    require(s, Op::Contribute(function))?;
    if h.status != "open" {
        return Err(closed_conflict());
    }
    let now = crate::clock::now_ms();
    let mut errors = Vec::new();
    let said = check_said(&new.said, actor, s, now, &mut errors);
    let mut stance = String::new();
    let mut parties: Vec<String> = Vec::new();
    let mut mediator_name = new.mediator_name.trim().to_string();
    let mut on_behalf_of = new.on_behalf_of.trim().to_string();
    match function {
        Function::Consultation => {
            rules::check_text("title", &new.title, 100, false, &mut errors);
            rules::check_text("body", &new.body, 2000, true, &mut errors);
        }
        Function::Feedback => {
            match Stance::parse(&new.stance) {
                Some(x) => stance = x.as_str().to_string(),
                None => errors.push(FieldError::new(
                    "stance",
                    Text::new(
                        "请选择支持、反对或建议",
                        "choose support, oppose or suggestion",
                    ),
                )),
            }
            rules::check_text("body", &new.body, 2000, true, &mut errors);
        }
        Function::Publicity => {
            rules::check_text("title", &new.title, 100, true, &mut errors);
            rules::check_text("body", &new.body, 10000, false, &mut errors);
            rules::check_link(&new.link, &mut errors);
        }
        Function::Mediation => {
            rules::check_text("title", &new.title, 100, true, &mut errors);
            rules::check_text("body", &new.body, 2000, false, &mut errors);
            rules::check_text("venue", &new.venue, 100, false, &mut errors);
            parties = new
                .parties
                .iter()
                .map(|p| p.trim().to_string())
                .filter(|p| !p.is_empty())
                .collect();
            if parties.is_empty() {
                errors.push(FieldError::new(
                    "parties",
                    Text::new("请填写调处的当事各方", "name the parties"),
                ));
            } else if parties.len() > 20 || parties.iter().any(|p| p.chars().count() > 50) {
                errors.push(FieldError::new(
                    "parties",
                    Text::new(
                        "当事方最多20个,每个不超过50字",
                        "at most 20 parties of 50 characters",
                    ),
                ));
            }
            if let Some(mid) = new.mediator_member_id {
                match members(db, sid, hall_id)
                    .await?
                    .into_iter()
                    .find(|m| m.id == mid)
                {
                    Some(m) if mediator_name.is_empty() => mediator_name = m.name,
                    Some(_) => {}
                    None => errors.push(FieldError::new(
                        "mediator_member_id",
                        Text::new(
                            "调解员须是本议事厅成员",
                            "the mediator must be a member of the hall",
                        ),
                    )),
                }
            }
            if mediator_name.is_empty() {
                errors.push(FieldError::new(
                    "mediator_name",
                    Text::new("请填写调解员", "name the mediator"),
                ));
            }
            rules::check_text("mediator_name", &mediator_name, 50, false, &mut errors);
        }
        Function::Errand => {
            rules::check_text("body", &new.body, 2000, true, &mut errors);
            if on_behalf_of.is_empty() {
                if said.channel.offline() {
                    on_behalf_of = said.speaker.clone();
                } else if !s.staff {
                    on_behalf_of = actor.display_name.clone();
                }
            }
            if on_behalf_of.is_empty() {
                errors.push(FieldError::new(
                    "on_behalf_of",
                    Text::new("请填写为谁代办", "name the person it is done for"),
                ));
            }
            rules::check_text("on_behalf_of", &on_behalf_of, 50, false, &mut errors);
        }
    }
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    let id = next_id();
    let title = new.title.trim().to_string();
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO hall_items (subdistrict_id, id, hall_id, func, status, stance, title, body, link, parties, \
         mediator_member_id, mediator_name, scheduled_at, venue, agreement, on_behalf_of, channel, speaker, \
         author_user_id, recorded_by, occurred_at, recorded_at, updated_at, version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, '', $15, $16, $17, $18, $19, $20, $21, $21, 1)",
    )
    .bind(sid)
    .bind(id)
    .bind(hall_id)
    .bind(function.as_str())
    .bind(function.initial_status())
    .bind(&stance)
    .bind(&title)
    .bind(new.body.trim())
    .bind(new.link.trim())
    .bind(serde_json::to_string(&parties).unwrap_or_else(|_| "[]".into()))
    .bind(new.mediator_member_id)
    .bind(&mediator_name)
    .bind(new.scheduled_at)
    .bind(new.venue.trim())
    .bind(&on_behalf_of)
    .bind(said.channel.as_str())
    .bind(&said.speaker)
    .bind(said.author_user_id)
    .bind(said.recorded_by)
    .bind(said.occurred_at)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        actor,
        Change::new("hall.item_add", "hall_item", Some(id))
            .label(&h.name)
            .after(json!({ "hall_id": hall_id, "function": function.as_str(),
                "status": function.initial_status(), "channel": said.channel.as_str(),
                "occurred_at": said.occurred_at, "title": title })),
    )
    .await?;
    tx.commit().await?;
    item(db, sid, hall_id, id).await
}

const ITEM_COLS: &str = "id, hall_id, func, status, stance, title, body, link, parties, mediator_member_id, \
     mediator_name, scheduled_at, venue, agreement, on_behalf_of, channel, speaker, author_user_id, \
     recorded_by, occurred_at, recorded_at, version";

fn item_from(r: &AnyRow) -> Item {
    Item {
        id: r.get("id"),
        hall_id: r.get("hall_id"),
        function: r.get("func"),
        status: r.get("status"),
        stance: r.get("stance"),
        title: r.get("title"),
        body: r.get("body"),
        link: r.get("link"),
        parties: serde_json::from_str(&r.get::<String, _>("parties")).unwrap_or_default(),
        mediator_member_id: opt_i64(r, "mediator_member_id"),
        mediator_name: r.get("mediator_name"),
        scheduled_at: opt_i64(r, "scheduled_at"),
        venue: r.get("venue"),
        agreement: r.get("agreement"),
        on_behalf_of: r.get("on_behalf_of"),
        channel: r.get("channel"),
        speaker: r.get("speaker"),
        author_user_id: opt_i64(r, "author_user_id"),
        recorded_by: opt_i64(r, "recorded_by"),
        occurred_at: r.get("occurred_at"),
        recorded_at: r.get("recorded_at"),
        version: r.get("version"),
        replies: Vec::new(),
        documents: Vec::new(),
    }
}

async fn replies(db: &Db, sid: i64, hall_id: i64) -> Result<HashMap<i64, Vec<Reply>>> {
    let rows = sqlx::query(
        "SELECT r.id, r.item_id, r.kind, r.status_to, r.body, r.member_id, r.channel, r.speaker, \
         r.author_user_id, r.recorded_by, r.occurred_at, r.recorded_at, m.name AS member_name \
         FROM hall_replies r LEFT JOIN hall_members m ON m.subdistrict_id = r.subdistrict_id AND m.id = r.member_id \
         WHERE r.subdistrict_id = $1 AND r.hall_id = $2 ORDER BY r.recorded_at, r.id",
    )
    .bind(sid)
    .bind(hall_id)
    .fetch_all(db.read())
    .await?;
    let mut out: HashMap<i64, Vec<Reply>> = HashMap::new();
    for r in &rows {
        let reply = Reply {
            id: r.get("id"),
            item_id: r.get("item_id"),
            kind: r.get("kind"),
            status_to: r.get("status_to"),
            body: r.get("body"),
            member_id: opt_i64(r, "member_id"),
            member_name: text(r, "member_name"),
            channel: r.get("channel"),
            speaker: r.get("speaker"),
            author_user_id: opt_i64(r, "author_user_id"),
            recorded_by: opt_i64(r, "recorded_by"),
            occurred_at: r.get("occurred_at"),
            recorded_at: r.get("recorded_at"),
        };
        out.entry(reply.item_id).or_default().push(reply);
    }
    Ok(out)
}

/// The contributions of a hall (of one function, or all), newest first, each with its replies.
pub async fn items(
    db: &Db,
    sid: i64,
    hall_id: i64,
    function: Option<Function>,
) -> Result<Vec<Item>> {
    let rows = sqlx::query(&format!(
        "SELECT {ITEM_COLS} FROM hall_items WHERE subdistrict_id = $1 AND hall_id = $2 \
         AND ($3 = '' OR func = $3) ORDER BY recorded_at DESC, id DESC"
    ))
    .bind(sid)
    .bind(hall_id)
    .bind(function.map_or("", Function::as_str))
    .fetch_all(db.read())
    .await?;
    let mut replies = replies(db, sid, hall_id).await?;
    let mut out: Vec<Item> = rows
        .iter()
        .map(item_from)
        .map(|mut i| {
            i.replies = replies.remove(&i.id).unwrap_or_default();
            i
        })
        .collect();
    if function.is_none_or(|f| f == Function::Publicity) {
        let docs = super::documents::of_hall(db, sid, hall_id).await?;
        super::documents::attach(&mut out, docs);
    }
    Ok(out)
}

/// One contribution of a hall with its replies.
pub async fn item(db: &Db, sid: i64, hall_id: i64, id: i64) -> Result<Item> {
    let row = sqlx::query(&format!(
        "SELECT {ITEM_COLS} FROM hall_items WHERE subdistrict_id = $1 AND hall_id = $2 AND id = $3"
    ))
    .bind(sid)
    .bind(hall_id)
    .bind(id)
    .fetch_optional(db.read())
    .await?
    .ok_or(Error::NotFound)?;
    let mut i = item_from(&row);
    i.replies = replies(db, sid, hall_id)
        .await?
        .remove(&id)
        .unwrap_or_default();
    if i.function == Function::Publicity.as_str() {
        let docs = super::documents::of_hall(db, sid, hall_id).await?;
        super::documents::attach(std::slice::from_mut(&mut i), docs);
    }
    Ok(i)
}

/// What a request sends to answer a consultation or feedback.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewAnswer {
    #[serde(default)]
    pub body: String,
    /// The member the answer speaks for (default: the actor's own membership).
    #[serde(default)]
    pub member_id: Option<i64>,
    #[serde(flatten)]
    pub said: Provenance,
}

async fn insert_reply(
    tx: &mut Tx,
    sid: i64,
    item: &Item,
    kind: &str,
    status_to: &str,
    body: &str,
    member_id: Option<i64>,
    said: &Said,
    now: i64,
) -> Result<i64> {
    let id = next_id();
    sqlx::query(
        "INSERT INTO hall_replies (subdistrict_id, id, hall_id, item_id, kind, status_to, body, member_id, channel, \
         speaker, author_user_id, recorded_by, occurred_at, recorded_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(sid)
    .bind(id)
    .bind(item.hall_id)
    .bind(item.id)
    .bind(kind)
    .bind(status_to)
    .bind(body)
    .bind(member_id)
    .bind(said.channel.as_str())
    .bind(&said.speaker)
    .bind(said.author_user_id)
    .bind(said.recorded_by)
    .bind(said.occurred_at)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(id)
}

/// Moves an item from `from` (at `version`) to `status`; 409 when someone moved it first.
async fn move_item(
    tx: &mut Tx,
    sid: i64,
    item: &Item,
    status: &str,
    agreement: Option<&str>,
    now: i64,
) -> Result<()> {
    let done = sqlx::query(
        "UPDATE hall_items SET status = $4, agreement = $5, updated_at = $6, \
         version = version + 1 WHERE subdistrict_id = $1 AND id = $2 AND version = $3",
    )
    .bind(sid)
    .bind(item.id)
    .bind(item.version)
    .bind(status)
    .bind(agreement.unwrap_or(&item.agreement))
    .bind(now)
    .execute(&mut **tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(Error::Conflict(Text::new(
            "该记录刚被他人修改,请刷新后重试",
            "someone changed this just now; reload and try again",
        )));
    }
    Ok(())
}

/// Gives an official answer to a consultation or feedback (staff, or a member of the hall);
/// the question is answered from then on.
pub async fn answer(
    db: &Db,
    actor: &Actor,
    hall_id: i64,
    item_id: i64,
    a: NewAnswer,
) -> Result<Item> {
    let sid = actor.subdistrict_id;
    let (h, s) = readable(db, actor, hall_id).await?;
    require(s, Op::Answer)?;
    if h.status != "open" {
        return Err(closed_conflict());
    }
    let it = item(db, sid, hall_id, item_id).await?;
    if !Function::parse(&it.function).is_some_and(Function::answered) {
        return Err(Error::Conflict(Text::new(
            "只有咨询和意见可以答复",
            "only consultations and feedback are answered",
        )));
    }
    let now = crate::clock::now_ms();
    let mut errors = Vec::new();
    rules::check_text("body", &a.body, 4000, true, &mut errors);
    let said = check_said(&a.said, actor, s, now, &mut errors);
    let current = members(db, sid, hall_id).await?;
    let member_id = match a.member_id {
        Some(mid) if current.iter().any(|m| m.id == mid) => Some(mid),
        Some(_) => {
            errors.push(FieldError::new(
                "member_id",
                Text::new(
                    "须以本议事厅成员的名义答复",
                    "answer as a member of the hall",
                ),
            ));
            None
        }
        None => current
            .iter()
            .find(|m| actor.user_id != 0 && m.user_id == Some(actor.user_id))
            .map(|m| m.id),
    };
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    let mut tx = db.begin().await?;
    let id = insert_reply(
        &mut tx,
        sid,
        &it,
        "answer",
        "answered",
        a.body.trim(),
        member_id,
        &said,
        now,
    )
    .await?;
    move_item(&mut tx, sid, &it, "answered", None, now).await?;
    audit::record(
        &mut tx,
        actor,
        Change::new("hall.answer", "hall_item", Some(it.id))
            .label(&h.name)
            .before(json!({ "status": it.status }))
            .after(
                json!({ "status": "answered", "reply_id": id, "member_id": member_id,
                "channel": said.channel.as_str() }),
            ),
    )
    .await?;
    tx.commit().await?;
    item(db, sid, hall_id, item_id).await
}

/// What a request sends to move an errand or record a mediation outcome.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewStep {
    /// Errands: the next status. Mediation: the outcome (agreed, not_agreed, adjourned).
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub note: String,
    /// Mediation: the agreement reached.
    #[serde(default)]
    pub agreement: String,
    #[serde(flatten)]
    pub said: Provenance,
}

fn refused(r: Refusal) -> Error {
    match r {
        Refusal::Conflict(t) => Error::Conflict(t),
        Refusal::Invalid(f) => Error::Invalid(vec![f]),
    }
}

/// Moves an errand one step (staff) or records a mediation session's outcome, with a note.
/// A step the rules refuse is 409 with the reason.
pub async fn step(db: &Db, actor: &Actor, hall_id: i64, item_id: i64, st: NewStep) -> Result<Item> {
    let sid = actor.subdistrict_id;
    let (h, s) = readable(db, actor, hall_id).await?;
    require(s, Op::Run)?;
    if h.status != "open" {
        return Err(closed_conflict());
    }
    let it = item(db, sid, hall_id, item_id).await?;
    let to = st.status.trim().to_string();
    let mut agreement = None;
    match it.function.as_str() {
        "errand" => {
            if to.is_empty() {
                return Err(Error::field(
                    "status",
                    Text::new("请选择办理状态", "choose the next status"),
                ));
            }
            rules::errand_step(&it.status, &to).map_err(Error::Conflict)?;
        }
        "mediation" => {
            rules::mediation_outcome(&it.status, &to, &st.agreement).map_err(refused)?;
            if to == "agreed" {
                agreement = Some(st.agreement.trim().to_string());
            }
        }
        _ => {
            return Err(Error::Conflict(Text::new(
                "只有代办和调处有办理步骤",
                "only errands and mediation sessions take steps",
            )))
        }
    }
    let now = crate::clock::now_ms();
    let mut errors = Vec::new();
    rules::check_text("note", &st.note, 2000, false, &mut errors);
    rules::check_text("agreement", &st.agreement, 4000, false, &mut errors);
    let said = check_said(&st.said, actor, s, now, &mut errors);
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    let mut tx = db.begin().await?;
    let id = insert_reply(
        &mut tx,
        sid,
        &it,
        "step",
        &to,
        st.note.trim(),
        None,
        &said,
        now,
    )
    .await?;
    move_item(&mut tx, sid, &it, &to, agreement.as_deref(), now).await?;
    audit::record(
        &mut tx,
        actor,
        Change::new(
            if it.function == "errand" {
                "hall.errand_step"
            } else {
                "hall.mediation_outcome"
            },
            "hall_item",
            Some(it.id),
        )
        .label(&h.name)
        .before(json!({ "status": it.status }))
        .after(json!({ "status": to, "reply_id": id })),
    )
    .await?;
    tx.commit().await?;
    item(db, sid, hall_id, item_id).await
}

/// A topic awaiting a decision in a hall, for meeting agendas: an open hall itself, or one of
/// its open consultations, unanswered feedback, pending or adjourned mediation sessions, and
/// errands not yet done.
#[derive(Debug, Clone, Serialize)]
pub struct PendingTopic {
    pub hall_id: i64,
    pub hall_name: String,
    pub node_id: i64,
    pub node_path: String,
    /// `hall`, or the function of the item.
    pub kind: String,
    pub item_id: Option<i64>,
    pub title: String,
    pub status: String,
    /// When it started waiting (the hall's creation, or when it really happened).
    pub since: i64,
}

/// Every topic awaiting a decision in the open halls whose place lies under
/// `node_path_prefix` (a materialised path such as `/1/10/`; `""` for the whole subdistrict),
/// halls first, then their items oldest first. No access check: callers show these only to
/// actors who may read the place (see `access::allows`).
pub async fn pending_topics(
    db: &Db,
    sid: i64,
    node_path_prefix: &str,
) -> Result<Vec<PendingTopic>> {
    let halls = sqlx::query(
        "SELECT id, name, node_id, node_path, topic, created_at FROM deliberation_halls \
         WHERE subdistrict_id = $1 AND status = 'open' AND node_path LIKE $2 ORDER BY created_at, id",
    )
    .bind(sid)
    .bind(format!("{node_path_prefix}%"))
    .fetch_all(db.read())
    .await?;
    let items = sqlx::query(
        "SELECT i.id, i.hall_id, i.func, i.status, i.title, i.body, i.occurred_at FROM hall_items i \
         JOIN deliberation_halls h ON h.subdistrict_id = i.subdistrict_id AND h.id = i.hall_id \
         WHERE i.subdistrict_id = $1 AND h.status = 'open' AND h.node_path LIKE $2 AND ( \
           (i.func IN ('consultation', 'feedback') AND i.status = 'open') \
           OR (i.func = 'mediation' AND i.status IN ('pending', 'adjourned')) \
           OR (i.func = 'errand' AND i.status IN ('requested', 'accepted', 'in_progress'))) \
         ORDER BY i.occurred_at, i.id",
    )
    .bind(sid)
    .bind(format!("{node_path_prefix}%"))
    .fetch_all(db.read())
    .await?;
    let mut out = Vec::new();
    let mut by_id: HashMap<i64, (String, i64, String)> = HashMap::new();
    for r in &halls {
        let t = PendingTopic {
            hall_id: r.get("id"),
            hall_name: r.get("name"),
            node_id: r.get("node_id"),
            node_path: r.get("node_path"),
            kind: "hall".into(),
            item_id: None,
            title: r.get("topic"),
            status: "open".into(),
            since: r.get("created_at"),
        };
        by_id.insert(
            t.hall_id,
            (t.hall_name.clone(), t.node_id, t.node_path.clone()),
        );
        out.push(t);
    }
    for r in &items {
        let hall_id: i64 = r.get("hall_id");
        let Some((hall_name, node_id, node_path)) = by_id.get(&hall_id).cloned() else {
            continue;
        };
        let title: String = r.get("title");
        let body: String = r.get("body");
        out.push(PendingTopic {
            hall_id,
            hall_name,
            node_id,
            node_path,
            kind: r.get("func"),
            item_id: Some(r.get("id")),
            title: if title.trim().is_empty() {
                body.chars().take(40).collect()
            } else {
                title
            },
            status: r.get("status"),
            since: r.get("occurred_at"),
        });
    }
    Ok(out)
}

/// Hides the names of residents from readers who are not staff of the hall's place: each
/// contribution's speaker and the person an errand is for show masked (`张**`), except the
/// reader's own. Official answers keep the names of who gave them.
pub fn mask_for(items: &mut [Item], actor: &Actor, s: Standing) {
    if s.staff {
        return;
    }
    for i in items.iter_mut() {
        if actor.user_id != 0 && i.author_user_id == Some(actor.user_id) {
            continue;
        }
        i.speaker = crate::pii::mask::name(&i.speaker);
        i.on_behalf_of = crate::pii::mask::name(&i.on_behalf_of);
    }
}
