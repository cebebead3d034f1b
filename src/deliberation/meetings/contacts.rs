//! The daily contact log (日常联系): grid members and staff record whom they met, where, and
//! what they heard; a case can be raised from an entry. Access: recording and reading need
//! `allows(ReadPeople)` at the entry's place. Every write is one transaction with its audit
//! entry; raising a case goes through `cases::store::open_case` and then links the entry.

use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::rules::{self, check_text};
use super::store::{link_case, staff, ToCase};
use crate::access::Actor;
use crate::audit::{self, Change};
use crate::cases::store::{self as cases, CaseRecord, NewCase, MAX_BACKDATE_MS};
use crate::error::{Error, FieldError, Result};
use crate::i18n::Text;
use crate::storage::{next_id, opt_i64, Db};
use crate::tree::{store as tree, NodeKind};

/// The channel a case raised from a contact comes in by: a grid member's home visit.
pub const CONTACT_CASE_CHANNEL: &str = "visit_home";
/// How far back a contact may be dated.
pub const MAX_CONTACT_BACKDATE_MS: i64 = 30 * 86_400_000;

#[derive(Debug, Clone, Serialize)]
pub struct Contact {
    pub id: i64,
    pub node_id: i64,
    pub node_path: String,
    pub node_name: String,
    pub occurred_at: i64,
    pub whom: String,
    pub household_id: Option<i64>,
    pub person_id: Option<i64>,
    pub place: String,
    pub heard: String,
    pub tags: Vec<String>,
    pub recorded_by: Option<i64>,
    pub recorder_name: String,
    pub recorded_at: i64,
    pub case_id: Option<i64>,
    pub case_number: Option<String>,
}

const SELECT: &str =
    "SELECT l.id, l.node_id, l.node_path, l.occurred_at, l.whom, l.household_id, l.person_id, \
     l.place, l.heard, l.tags, l.recorded_by, l.recorded_at, l.case_id, n.name AS node_name, \
     u.display_name AS recorder_name, c.number AS case_number FROM contact_logs l \
     LEFT JOIN nodes n ON n.subdistrict_id = l.subdistrict_id AND n.id = l.node_id \
     LEFT JOIN users u ON u.subdistrict_id = l.subdistrict_id AND u.id = l.recorded_by \
     LEFT JOIN cases c ON c.subdistrict_id = l.subdistrict_id AND c.id = l.case_id \
     WHERE l.subdistrict_id = $1";

fn s(r: &AnyRow, c: &str) -> String {
    r.try_get::<Option<String>, _>(c)
        .ok()
        .flatten()
        .unwrap_or_default()
}

fn contact_from(r: &AnyRow) -> Contact {
    let tags = s(r, "tags");
    Contact {
        id: r.get("id"),
        node_id: r.get("node_id"),
        node_path: r.get("node_path"),
        node_name: s(r, "node_name"),
        occurred_at: r.get("occurred_at"),
        whom: r.get("whom"),
        household_id: opt_i64(r, "household_id"),
        person_id: opt_i64(r, "person_id"),
        place: r.get("place"),
        heard: r.get("heard"),
        tags: tags
            .split(',')
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect(),
        recorded_by: opt_i64(r, "recorded_by"),
        recorder_name: s(r, "recorder_name"),
        recorded_at: r.get("recorded_at"),
        case_id: opt_i64(r, "case_id"),
        case_number: r.try_get::<Option<String>, _>("case_number").ok().flatten(),
    }
}

/// One entry the actor may read.
pub async fn readable(db: &Db, actor: &Actor, id: i64) -> Result<Contact> {
    let r = sqlx::query(&format!("{SELECT} AND l.id = $2"))
        .bind(actor.subdistrict_id)
        .bind(id)
        .fetch_optional(db.read())
        .await?
        .ok_or(Error::NotFound)?;
    let c = contact_from(&r);
    if !staff(actor, &c.node_path) {
        return Err(Error::Forbidden);
    }
    Ok(c)
}

/// A list's filters: a place (its subtree), who recorded, and a time range.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ContactFilter {
    #[serde(default)]
    pub node_id: Option<i64>,
    #[serde(default)]
    pub user_id: Option<i64>,
    /// Unix ms, inclusive.
    #[serde(default)]
    pub from: Option<i64>,
    /// Unix ms, exclusive.
    #[serde(default)]
    pub to: Option<i64>,
}

/// The entries the actor may read, newest first (at most 500).
pub async fn list(db: &Db, actor: &Actor, f: &ContactFilter) -> Result<Vec<Contact>> {
    let sid = actor.subdistrict_id;
    let path = match f.node_id {
        Some(id) => {
            let n = tree::node(db, sid, id).await?;
            if !staff(actor, &n.path) {
                return Err(Error::Forbidden);
            }
            n.path
        }
        None => String::new(),
    };
    let rows = sqlx::query(&format!(
        "{SELECT} AND l.node_path LIKE $2 AND ($3 = 0 OR l.recorded_by = $3) AND l.occurred_at >= $4 \
         AND l.occurred_at < $5 ORDER BY l.occurred_at DESC, l.id DESC LIMIT 2000"
    ))
    .bind(sid)
    .bind(format!("{path}%"))
    .bind(f.user_id.unwrap_or(0))
    .bind(f.from.unwrap_or(0))
    .bind(f.to.unwrap_or(i64::MAX))
    .fetch_all(db.read())
    .await?;
    Ok(rows
        .iter()
        .map(contact_from)
        .filter(|c| staff(actor, &c.node_path))
        .take(500)
        .collect())
}

/// What a request sends to record a contact.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewContact {
    #[serde(default)]
    pub node_id: Option<i64>,
    /// When it happened (Unix ms); none means now.
    #[serde(default)]
    pub occurred_at: Option<i64>,
    #[serde(default)]
    pub whom: String,
    #[serde(default)]
    pub household_id: Option<i64>,
    #[serde(default)]
    pub person_id: Option<i64>,
    #[serde(default)]
    pub place: String,
    #[serde(default)]
    pub heard: String,
    #[serde(default)]
    pub tags: Vec<String>,
}

async fn exists(db: &Db, sid: i64, table: &str, id: i64) -> Result<bool> {
    Ok(sqlx::query(&format!(
        "SELECT 1 FROM {table} WHERE subdistrict_id = $1 AND id = $2"
    ))
    .bind(sid)
    .bind(id)
    .fetch_optional(db.read())
    .await?
    .is_some())
}

/// Records a contact at a place the actor's staff or grid roles reach.
pub async fn create(db: &Db, actor: &Actor, c: NewContact) -> Result<Contact> {
    let sid = actor.subdistrict_id;
    let now = crate::clock::now_ms();
    let mut errors: Vec<FieldError> = Vec::new();
    let node = match c.node_id {
        None => None,
        Some(id) => match tree::node(db, sid, id).await {
            Ok(n) if n.kind != NodeKind::Subdistrict => Some(n),
            Ok(_) | Err(Error::NotFound) => None,
            Err(e) => return Err(e),
        },
    };
    match &node {
        None => errors.push(FieldError::new(
            "node_id",
            Text::new(
                "请选择联系的地点(网格、楼栋等)",
                "choose where the contact was (a grid, building, …)",
            ),
        )),
        Some(n) if !staff(actor, &n.path) => return Err(Error::Forbidden),
        Some(_) => {}
    }
    let at = c.occurred_at.unwrap_or(now);
    if at > now + 300_000 {
        errors.push(FieldError::new(
            "occurred_at",
            Text::new("时间不能在将来", "the time cannot be in the future"),
        ));
    } else if now - at > MAX_CONTACT_BACKDATE_MS {
        errors.push(FieldError::new(
            "occurred_at",
            Text::new("最多补记 30 天内的联系", "contacts up to 30 days back only"),
        ));
    }
    check_text("whom", &c.whom, 100, true, &mut errors);
    check_text("place", &c.place, 200, false, &mut errors);
    check_text("heard", &c.heard, 4000, true, &mut errors);
    let tags = match rules::parse_tags(&c.tags.join(",")) {
        Ok(t) => t,
        Err(e) => {
            errors.push(e);
            Vec::new()
        }
    };
    if let Some(h) = c.household_id {
        if !exists(db, sid, "households", h).await? {
            errors.push(FieldError::new(
                "household_id",
                Text::new("没有这个住户", "no such household"),
            ));
        }
    }
    if let Some(p) = c.person_id {
        if !exists(db, sid, "persons", p).await? {
            errors.push(FieldError::new(
                "person_id",
                Text::new("没有这个人", "no such person"),
            ));
        }
    }
    let node = match (node, errors.is_empty()) {
        (Some(n), true) => n,
        _ => return Err(Error::Invalid(errors)),
    };
    let id = next_id();
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO contact_logs (subdistrict_id, id, node_id, node_path, occurred_at, whom, household_id, \
         person_id, place, heard, tags, recorded_by, recorded_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(sid)
    .bind(id)
    .bind(node.id)
    .bind(&node.path)
    .bind(at)
    .bind(c.whom.trim())
    .bind(c.household_id)
    .bind(c.person_id)
    .bind(c.place.trim())
    .bind(c.heard.trim())
    .bind(tags.join(","))
    .bind((actor.user_id != 0).then_some(actor.user_id))
    .bind(now)
    .execute(&mut *tx)
    .await?;
    // The audit entry names whom only by mask: the log is personal data.
    audit::record(
        &mut tx,
        actor,
        Change::new("contact.create", "contact_log", Some(id))
            .label(&node.name)
            .after(json!({ "node_id": node.id, "occurred_at": at,
                "whom": crate::pii::mask::name(c.whom.trim()),
                "household_id": c.household_id, "person_id": c.person_id, "tags": tags })),
    )
    .await?;
    tx.commit().await?;
    readable(db, actor, id).await
}

/// Raises a case from a contact: opens it through the case store (channel
/// [`CONTACT_CASE_CHANNEL`], the contact's time and person as the case's offline contact),
/// then links the entry to it.
pub async fn raise_case(
    db: &Db,
    actor: &Actor,
    id: i64,
    t: ToCase,
) -> Result<(Contact, CaseRecord)> {
    let c = readable(db, actor, id).await?;
    if c.case_id.is_some() {
        return Err(Error::Conflict(Text::new(
            "已由此联系记录提出过事项",
            "a case was already raised from this contact",
        )));
    }
    let now = crate::clock::now_ms();
    let title = if t.title.trim().is_empty() {
        c.heard.chars().take(30).collect::<String>()
    } else {
        t.title.trim().to_string()
    };
    let description = if t.description.trim().is_empty() {
        c.heard.clone()
    } else {
        t.description.trim().to_string()
    };
    let new = NewCase {
        category: t.category.trim().to_string(),
        node_id: t.node_id.unwrap_or(c.node_id),
        title: title.chars().take(cases::MAX_TITLE_CHARS).collect(),
        description,
        address: c.place.chars().take(cases::MAX_ADDRESS_CHARS).collect(),
        occurred_at: (now - c.occurred_at < MAX_BACKDATE_MS && c.occurred_at <= now)
            .then_some(c.occurred_at),
        contact_name: c.whom.chars().take(cases::MAX_ADDRESS_CHARS).collect(),
        source_ref: format!("contact:{}", c.id),
        ..Default::default()
    };
    let key = format!("five-step-contact-{}", c.id);
    let opened = cases::open_case(db, actor, new, CONTACT_CASE_CHANNEL, Some(&key)).await?;
    let case = opened.case().clone();
    link_case(db, actor, "contact_logs", false, id, &case, "contact.case").await?;
    Ok((readable(db, actor, id).await?, case))
}
