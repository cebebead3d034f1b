//! Mediation in the database (migration 18): law firm engagements, mediation cases with their
//! parties, the assigned lawyer, sessions, the outcome and follow-ups (done, or raised as a
//! case through `cases::store::open_case`). Every write checks access and the status machine
//! (`rules::apply`) first and is one transaction with its audit entry; a step moves the case
//! with `UPDATE … WHERE version = expected`, so of two steps at once one wins and the other
//! gets 409.
//!
//! Who may: staff whose roles reach the case's place (`allows(EditRegistry)`) manage and read
//! every case there; lawyers read the cases of their firm and mediate the ones assigned to them.

use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::rules::{self, Kind, Refusal, Side, Standing, Status, Step};
use crate::access::{allows, Action, Actor, Role, Target};
use crate::audit::{self, Change};
use crate::cases::store::{self as cases, CaseRecord, NewCase};
use crate::error::{Error, FieldError, Result};
use crate::i18n::Text;
use crate::property::office::rules::{check_text, format_day, parse_day};
use crate::storage::{next_id, opt_i64, Db, Tx};
use crate::tree::{store as tree, NodeKind};

/// The channel a case raised from a follow-up comes in by (staff at a desk, through the web).
pub const FOLLOW_UP_CASE_CHANNEL: &str = "web";

fn by(actor: &Actor) -> Option<i64> {
    (actor.user_id != 0).then_some(actor.user_id)
}

fn s(r: &AnyRow, c: &str) -> String {
    r.try_get::<Option<String>, _>(c)
        .ok()
        .flatten()
        .unwrap_or_default()
}

/// Whether the actor manages mediation at `path`.
pub fn manages(actor: &Actor, path: &str) -> bool {
    allows(actor, Action::EditRegistry, Target::Node { path })
}

/// The law firms the actor is a lawyer of.
pub fn firms_of(actor: &Actor) -> Vec<i64> {
    actor
        .grants
        .iter()
        .filter(|g| g.role == Role::Lawyer)
        .filter_map(|g| g.org_id)
        .collect()
}

fn today() -> String {
    format_day(crate::clock::to_local(crate::clock::now_ms()).date())
}

// ---------------------------------------------------------------- engagements

/// A law firm engaged for a place and a period.
#[derive(Debug, Clone, Serialize)]
pub struct Engagement {
    pub id: i64,
    pub firm_id: i64,
    pub firm_name: String,
    pub node_id: i64,
    pub node_path: String,
    pub node_name: String,
    pub starts_on: String,
    pub ends_on: String,
    pub note: String,
}

const ENGAGEMENTS: &str = "SELECT e.id, e.firm_id, e.node_id, e.node_path, e.starts_on, e.ends_on, e.note, \
    o.name AS firm_name, n.name AS node_name FROM law_firm_engagements e \
    LEFT JOIN orgs o ON o.subdistrict_id = e.subdistrict_id AND o.id = e.firm_id \
    LEFT JOIN nodes n ON n.subdistrict_id = e.subdistrict_id AND n.id = e.node_id WHERE e.subdistrict_id = $1";

fn engagement_from(r: &AnyRow) -> Engagement {
    Engagement {
        id: r.get("id"),
        firm_id: r.get("firm_id"),
        firm_name: s(r, "firm_name"),
        node_id: r.get("node_id"),
        node_path: r.get("node_path"),
        node_name: s(r, "node_name"),
        starts_on: r.get("starts_on"),
        ends_on: r.get("ends_on"),
        note: s(r, "note"),
    }
}

/// The engagements the actor may see: at places they manage, or of their own firm.
pub async fn engagements(db: &Db, actor: &Actor) -> Result<Vec<Engagement>> {
    let rows = sqlx::query(&format!(
        "{ENGAGEMENTS} ORDER BY e.starts_on DESC, e.id DESC LIMIT 1000"
    ))
    .bind(actor.subdistrict_id)
    .fetch_all(db.read())
    .await?;
    let firms = firms_of(actor);
    Ok(rows
        .iter()
        .map(engagement_from)
        .filter(|e| manages(actor, &e.node_path) || firms.contains(&e.firm_id))
        .collect())
}

/// What a request sends to engage a firm.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewEngagement {
    #[serde(default)]
    pub firm_id: Option<i64>,
    #[serde(default)]
    pub node_id: Option<i64>,
    #[serde(default)]
    pub starts_on: String,
    #[serde(default)]
    pub ends_on: String,
    #[serde(default)]
    pub note: String,
}

async fn org_kind(db: &Db, sid: i64, id: i64) -> Result<Option<(String, String)>> {
    Ok(
        sqlx::query("SELECT kind, name FROM orgs WHERE subdistrict_id = $1 AND id = $2")
            .bind(sid)
            .bind(id)
            .fetch_optional(db.read())
            .await?
            .map(|r| (r.get("kind"), r.get("name"))),
    )
}

/// Engages a law firm for a place the actor manages.
pub async fn engage(db: &Db, actor: &Actor, e: NewEngagement) -> Result<Engagement> {
    let sid = actor.subdistrict_id;
    let mut errors = Vec::new();
    let node = match e.node_id {
        Some(id) => match tree::node(db, sid, id).await {
            Ok(n) => Some(n),
            Err(Error::NotFound) => None,
            Err(err) => return Err(err),
        },
        None => None,
    };
    match &node {
        None => errors.push(FieldError::new(
            "node_id",
            Text::new("请选择服务的地点", "choose the place served"),
        )),
        Some(n) if !manages(actor, &n.path) => return Err(Error::Forbidden),
        Some(_) => {}
    }
    let firm_ok = match e.firm_id {
        Some(id) => org_kind(db, sid, id)
            .await?
            .is_some_and(|(k, _)| k == "law_firm"),
        None => false,
    };
    if !firm_ok {
        errors.push(FieldError::new(
            "firm_id",
            Text::new("请选择一家律师事务所", "choose a law firm"),
        ));
    }
    let from = parse_day(&e.starts_on);
    let to = parse_day(&e.ends_on);
    if from.is_none() {
        errors.push(FieldError::new(
            "starts_on",
            Text::new("日期格式为 2026-01-01", "the date is written 2026-01-01"),
        ));
    }
    match (from, to) {
        (_, None) => errors.push(FieldError::new(
            "ends_on",
            Text::new("日期格式为 2026-12-31", "the date is written 2026-12-31"),
        )),
        (Some(a), Some(b)) if b < a => errors.push(FieldError::new(
            "ends_on",
            Text::new(
                "结束日期不能早于开始日期",
                "the end cannot be before the start",
            ),
        )),
        _ => {}
    }
    check_text("note", &e.note, 500, false, &mut errors);
    let (Some(node), Some(firm_id), Some(from), Some(to), true) =
        (node, e.firm_id, from, to, errors.is_empty())
    else {
        return Err(Error::Invalid(errors));
    };
    let id = next_id();
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO law_firm_engagements (subdistrict_id, id, firm_id, node_id, node_path, starts_on, ends_on, note, \
         created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(sid)
    .bind(id)
    .bind(firm_id)
    .bind(node.id)
    .bind(&node.path)
    .bind(format_day(from))
    .bind(format_day(to))
    .bind(e.note.trim())
    .bind(by(actor))
    .bind(crate::clock::now_ms())
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        actor,
        Change::new("mediation.engage", "law_firm_engagement", Some(id))
            .label(&node.name)
            .after(json!({ "firm_id": firm_id, "node_id": node.id, "starts_on": format_day(from), "ends_on": format_day(to) })),
    )
    .await?;
    tx.commit().await?;
    let r = sqlx::query(&format!("{ENGAGEMENTS} AND e.id = $2"))
        .bind(sid)
        .bind(id)
        .fetch_one(db.read())
        .await?;
    Ok(engagement_from(&r))
}

/// The engagements covering a place on a day.
async fn covering(db: &Db, sid: i64, path: &str, day: &str) -> Result<Vec<Engagement>> {
    let rows = sqlx::query(&format!(
        "{ENGAGEMENTS} AND e.starts_on <= $2 AND e.ends_on >= $2"
    ))
    .bind(sid)
    .bind(day)
    .fetch_all(db.read())
    .await?;
    Ok(rows
        .iter()
        .map(engagement_from)
        .filter(|e| crate::tree::model::within(path, &e.node_path))
        .collect())
}

/// A lawyer who may be assigned.
#[derive(Debug, Clone, Serialize)]
pub struct Lawyer {
    pub user_id: i64,
    pub name: String,
    pub firm_id: i64,
    pub firm_name: String,
    pub engagement_id: i64,
}

/// The lawyers of the firms engaged for `path` today.
pub async fn assignable(db: &Db, sid: i64, path: &str) -> Result<Vec<Lawyer>> {
    let mut out = Vec::new();
    for e in covering(db, sid, path, &today()).await? {
        let rows = sqlx::query(
            "SELECT DISTINCT u.id, u.display_name FROM role_grants g JOIN users u ON u.subdistrict_id = g.subdistrict_id \
             AND u.id = g.user_id WHERE g.subdistrict_id = $1 AND g.role = 'lawyer' AND g.org_id = $2 AND u.disabled = 0 \
             ORDER BY u.display_name",
        )
        .bind(sid)
        .bind(e.firm_id)
        .fetch_all(db.read())
        .await?;
        for r in &rows {
            let uid: i64 = r.get("id");
            if !out
                .iter()
                .any(|l: &Lawyer| l.user_id == uid && l.firm_id == e.firm_id)
            {
                out.push(Lawyer {
                    user_id: uid,
                    name: r.get("display_name"),
                    firm_id: e.firm_id,
                    firm_name: e.firm_name.clone(),
                    engagement_id: e.id,
                });
            }
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------- cases

/// A party to a dispute.
#[derive(Debug, Clone, Serialize)]
pub struct Party {
    pub id: i64,
    pub side: Side,
    pub person_id: Option<i64>,
    pub org_id: Option<i64>,
    /// Masked (`张**`) for a person unless the reader runs or mediates the case.
    pub name: String,
}

/// A mediation case.
#[derive(Debug, Clone, Serialize)]
pub struct Mediation {
    pub id: i64,
    pub node_id: i64,
    pub node_path: String,
    pub node_name: String,
    pub kind: Kind,
    pub summary: String,
    pub status: Status,
    pub firm_id: Option<i64>,
    pub firm_name: String,
    pub engagement_id: Option<i64>,
    pub lawyer_user_id: Option<i64>,
    pub lawyer_name: String,
    pub outcome: String,
    pub filed_at: i64,
    pub updated_at: i64,
    pub version: i64,
}

const CASES: &str = "SELECT m.id, m.node_id, m.node_path, m.kind, m.summary, m.status, m.firm_id, m.engagement_id, \
    m.lawyer_user_id, m.outcome, m.filed_at, m.updated_at, m.version, n.name AS node_name, o.name AS firm_name, \
    u.display_name AS lawyer_name FROM mediation_cases m \
    LEFT JOIN nodes n ON n.subdistrict_id = m.subdistrict_id AND n.id = m.node_id \
    LEFT JOIN orgs o ON o.subdistrict_id = m.subdistrict_id AND o.id = m.firm_id \
    LEFT JOIN users u ON u.subdistrict_id = m.subdistrict_id AND u.id = m.lawyer_user_id WHERE m.subdistrict_id = $1";

fn case_from(r: &AnyRow) -> Mediation {
    Mediation {
        id: r.get("id"),
        node_id: r.get("node_id"),
        node_path: r.get("node_path"),
        node_name: s(r, "node_name"),
        kind: Kind::parse(&s(r, "kind")).unwrap_or(Kind::Other),
        summary: r.get("summary"),
        status: Status::parse(&s(r, "status")).unwrap_or(Status::Filed),
        firm_id: opt_i64(r, "firm_id"),
        firm_name: s(r, "firm_name"),
        engagement_id: opt_i64(r, "engagement_id"),
        lawyer_user_id: opt_i64(r, "lawyer_user_id"),
        lawyer_name: s(r, "lawyer_name"),
        outcome: s(r, "outcome"),
        filed_at: r.get("filed_at"),
        updated_at: r.get("updated_at"),
        version: r.get("version"),
    }
}

/// How the actor stands to a case.
pub fn standing(actor: &Actor, m: &Mediation) -> Standing {
    let lawyer = actor.has_role(Role::Lawyer);
    Standing {
        staff: manages(actor, &m.node_path),
        assigned_lawyer: lawyer && m.lawyer_user_id == Some(actor.user_id) && actor.user_id != 0,
        firm_lawyer: m.firm_id.is_some_and(|f| firms_of(actor).contains(&f)),
    }
}

/// The cases the actor may read, newest first, optionally in one status.
pub async fn list(db: &Db, actor: &Actor, status: Option<Status>) -> Result<Vec<Mediation>> {
    let rows = sqlx::query(&format!(
        "{CASES} AND ($2 = '' OR m.status = $2) ORDER BY m.filed_at DESC, m.id DESC LIMIT 2000"
    ))
    .bind(actor.subdistrict_id)
    .bind(status.map_or("", Status::code))
    .fetch_all(db.read())
    .await?;
    Ok(rows
        .iter()
        .map(case_from)
        .filter(|m| standing(actor, m).reads())
        .take(500)
        .collect())
}

async fn load(db: &Db, sid: i64, id: i64) -> Result<Mediation> {
    let r = sqlx::query(&format!("{CASES} AND m.id = $2"))
        .bind(sid)
        .bind(id)
        .fetch_optional(db.read())
        .await?
        .ok_or(Error::NotFound)?;
    Ok(case_from(&r))
}

/// A case the actor may read, with their standing.
pub async fn readable(db: &Db, actor: &Actor, id: i64) -> Result<(Mediation, Standing)> {
    let m = load(db, actor.subdistrict_id, id).await?;
    let st = standing(actor, &m);
    if st.reads() {
        Ok((m, st))
    } else {
        Err(Error::Forbidden)
    }
}

/// The parties of a case, names masked unless `full`.
pub async fn parties(db: &Db, sid: i64, case_id: i64, full: bool) -> Result<Vec<Party>> {
    let rows = sqlx::query(
        "SELECT id, side, person_id, org_id, name FROM mediation_parties WHERE subdistrict_id = $1 AND case_id = $2 ORDER BY side, id",
    )
    .bind(sid)
    .bind(case_id)
    .fetch_all(db.read())
    .await?;
    Ok(rows
        .iter()
        .map(|r| {
            let org_id = opt_i64(r, "org_id");
            let name: String = r.get("name");
            Party {
                id: r.get("id"),
                side: Side::parse(&s(r, "side")).unwrap_or(Side::Applicant),
                person_id: opt_i64(r, "person_id"),
                org_id,
                name: if full || org_id.is_some() {
                    name
                } else {
                    crate::pii::mask::name(&name)
                },
            }
        })
        .collect())
}

/// A party as a request sends it: a person, an organisation, or a name.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewParty {
    #[serde(default)]
    pub side: String,
    #[serde(default)]
    pub person_id: Option<i64>,
    #[serde(default)]
    pub org_id: Option<i64>,
    #[serde(default)]
    pub name: String,
}

/// What a request sends to file a case.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewMediation {
    #[serde(default)]
    pub node_id: Option<i64>,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub parties: Vec<NewParty>,
}

/// Files a dispute at a place the actor manages.
pub async fn file(db: &Db, actor: &Actor, n: NewMediation) -> Result<Mediation> {
    let sid = actor.subdistrict_id;
    let mut errors = Vec::new();
    let node = match n.node_id {
        Some(id) => match tree::node(db, sid, id).await {
            Ok(x) if x.kind != NodeKind::Subdistrict => Some(x),
            Ok(_) | Err(Error::NotFound) => None,
            Err(e) => return Err(e),
        },
        None => None,
    };
    match &node {
        None => errors.push(FieldError::new(
            "node_id",
            Text::new("请选择纠纷发生的地点", "choose where the dispute is"),
        )),
        Some(x) if !manages(actor, &x.path) => return Err(Error::Forbidden),
        Some(_) => {}
    }
    let kind = Kind::parse(&n.kind);
    if kind.is_none() {
        errors.push(FieldError::new(
            "kind",
            Text::new("请选择纠纷类型", "choose the kind of dispute"),
        ));
    }
    check_text("summary", &n.summary, 4000, true, &mut errors);
    let mut resolved: Vec<(Side, Option<i64>, Option<i64>, String)> = Vec::new();
    for p in &n.parties {
        let Some(side) = Side::parse(&p.side) else {
            errors.push(FieldError::new(
                "parties",
                Text::new(
                    "当事人须为申请人或被申请人",
                    "a party is an applicant or a respondent",
                ),
            ));
            continue;
        };
        let mut name = p.name.trim().to_string();
        if let Some(pid) = p.person_id {
            match sqlx::query("SELECT name FROM persons WHERE subdistrict_id = $1 AND id = $2")
                .bind(sid)
                .bind(pid)
                .fetch_optional(db.read())
                .await?
            {
                Some(r) => name = r.get("name"),
                None => errors.push(FieldError::new(
                    "parties",
                    Text::new("没有这个人", "no such person"),
                )),
            }
        } else if let Some(oid) = p.org_id {
            match org_kind(db, sid, oid).await? {
                Some((_, org_name)) => name = org_name,
                None => errors.push(FieldError::new(
                    "parties",
                    Text::new("没有这个组织", "no such organisation"),
                )),
            }
        }
        if name.is_empty() || name.chars().count() > 100 {
            errors.push(FieldError::new(
                "parties",
                Text::new(
                    "请填写当事人名称(最多 100 字)",
                    "name each party (at most 100 characters)",
                ),
            ));
        }
        resolved.push((
            side,
            p.person_id,
            if p.person_id.is_some() {
                None
            } else {
                p.org_id
            },
            name,
        ));
    }
    for side in [Side::Applicant, Side::Respondent] {
        if !resolved.iter().any(|r| r.0 == side) {
            let l = side.label();
            errors.push(FieldError::new(
                "parties",
                Text::owned(
                    format!("至少一位{}", l.zh),
                    format!("at least one {}", l.en),
                ),
            ));
        }
    }
    if resolved.len() > 20 {
        errors.push(FieldError::new(
            "parties",
            Text::new("最多 20 位当事人", "at most 20 parties"),
        ));
    }
    let (Some(node), Some(kind), true) = (node, kind, errors.is_empty()) else {
        return Err(Error::Invalid(errors));
    };
    let id = next_id();
    let now = crate::clock::now_ms();
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO mediation_cases (subdistrict_id, id, node_id, node_path, kind, summary, status, filed_by, filed_at, \
         updated_at) VALUES ($1, $2, $3, $4, $5, $6, 'filed', $7, $8, $8)",
    )
    .bind(sid)
    .bind(id)
    .bind(node.id)
    .bind(&node.path)
    .bind(kind.code())
    .bind(n.summary.trim())
    .bind(by(actor))
    .bind(now)
    .execute(&mut *tx)
    .await?;
    for (side, person, org, name) in &resolved {
        sqlx::query(
            "INSERT INTO mediation_parties (subdistrict_id, id, case_id, side, person_id, org_id, name) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(sid)
        .bind(next_id())
        .bind(id)
        .bind(side.code())
        .bind(*person)
        .bind(*org)
        .bind(name)
        .execute(&mut *tx)
        .await?;
    }
    // Party names only by mask in the audit log.
    audit::record(
        &mut tx,
        actor,
        Change::new("mediation.file", "mediation_case", Some(id))
            .label(&node.name)
            .after(json!({ "kind": kind.code(), "node_id": node.id,
                "parties": resolved.iter().map(|(side, p, o, name)| json!({ "side": side.code(), "person_id": p, "org_id": o,
                    "name": if o.is_some() { name.clone() } else { crate::pii::mask::name(name) } })).collect::<Vec<_>>() })),
    )
    .await?;
    tx.commit().await?;
    load(db, sid, id).await
}

fn refused(r: Refusal) -> Error {
    match r {
        Refusal::Forbidden => Error::Forbidden,
        Refusal::Conflict(t) => Error::Conflict(t),
    }
}

fn stale() -> Error {
    Error::Conflict(Text::new(
        "调解案件已被他人更新,请刷新后重试",
        "the case was changed meanwhile; reload and try again",
    ))
}

/// Moves the case to `to` with the optional extra columns, if still at `version`.
async fn move_case(
    tx: &mut Tx,
    sid: i64,
    m: &Mediation,
    to: Status,
    set: &str,
    binds: &[Option<i64>],
    text: Option<&str>,
) -> Result<()> {
    let sql = format!(
        "UPDATE mediation_cases SET status = $3, updated_at = $4, version = version + 1{set} \
         WHERE subdistrict_id = $1 AND id = $2 AND version = $5"
    );
    let mut q = sqlx::query(&sql)
        .bind(sid)
        .bind(m.id)
        .bind(to.code())
        .bind(crate::clock::now_ms())
        .bind(m.version);
    for b in binds {
        q = q.bind(*b);
    }
    if let Some(t) = text {
        q = q.bind(t.to_string());
    }
    if q.execute(&mut **tx).await?.rows_affected() == 0 {
        return Err(stale());
    }
    Ok(())
}

/// Assigns (or reassigns) a lawyer of a firm engaged for the place today.
pub async fn assign(
    db: &Db,
    actor: &Actor,
    id: i64,
    lawyer_user_id: Option<i64>,
) -> Result<Mediation> {
    let sid = actor.subdistrict_id;
    let (m, st) = readable(db, actor, id).await?;
    let to = rules::apply(m.status, Step::Assign, st, 0).map_err(refused)?;
    let choice = match lawyer_user_id {
        Some(u) => assignable(db, sid, &m.node_path)
            .await?
            .into_iter()
            .find(|l| l.user_id == u),
        None => None,
    };
    let Some(l) = choice else {
        return Err(Error::field(
            "lawyer_user_id",
            Text::new(
                "请选择本地受聘律师事务所的律师",
                "choose a lawyer of a firm engaged here",
            ),
        ));
    };
    let mut tx = db.begin().await?;
    move_case(
        &mut tx,
        sid,
        &m,
        to,
        ", firm_id = $6, engagement_id = $7, lawyer_user_id = $8",
        &[Some(l.firm_id), Some(l.engagement_id), Some(l.user_id)],
        None,
    )
    .await?;
    audit::record(
        &mut tx,
        actor,
        Change::new("mediation.assign", "mediation_case", Some(id))
            .label(&l.name)
            .before(json!({ "lawyer_user_id": m.lawyer_user_id, "firm_id": m.firm_id }))
            .after(json!({ "lawyer_user_id": l.user_id, "firm_id": l.firm_id, "engagement_id": l.engagement_id })),
    )
    .await?;
    // The lawyer hears of it in their inbox, in the same transaction.
    if m.lawyer_user_id != Some(l.user_id) {
        let kind = m.kind.label();
        let notice = crate::notify::Notice {
            kind: "mediation.assigned".into(),
            case_id: None,
            title_zh: format!("新的调解案件:{}({})", kind.zh, m.node_name),
            title_en: format!("A mediation case for you: {} ({})", kind.en, m.node_name),
            body_zh: m.summary.chars().take(200).collect(),
            body_en: m.summary.chars().take(200).collect(),
            link: format!("/mediation/{}", m.id),
        };
        crate::notify::notify_users(&mut tx, sid, &[l.user_id], &notice).await?;
    }
    tx.commit().await?;
    load(db, sid, id).await
}

/// A session with the parties.
#[derive(Debug, Clone, Serialize)]
pub struct Session {
    pub id: i64,
    pub held_at: i64,
    pub place: String,
    pub attendees: String,
    pub notes: String,
    pub recorded_by: Option<i64>,
}

/// The sessions of a case, in order.
pub async fn sessions(db: &Db, sid: i64, case_id: i64) -> Result<Vec<Session>> {
    let rows = sqlx::query(
        "SELECT id, held_at, place, attendees, notes, recorded_by FROM mediation_sessions WHERE subdistrict_id = $1 \
         AND case_id = $2 ORDER BY held_at, id",
    )
    .bind(sid)
    .bind(case_id)
    .fetch_all(db.read())
    .await?;
    Ok(rows
        .iter()
        .map(|r| Session {
            id: r.get("id"),
            held_at: r.get("held_at"),
            place: s(r, "place"),
            attendees: s(r, "attendees"),
            notes: s(r, "notes"),
            recorded_by: opt_i64(r, "recorded_by"),
        })
        .collect())
}

/// What a request sends to record a session.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewSession {
    /// Unix ms; none means now.
    #[serde(default)]
    pub held_at: Option<i64>,
    #[serde(default)]
    pub place: String,
    #[serde(default)]
    pub attendees: String,
    #[serde(default)]
    pub notes: String,
}

/// Records a session (the assigned lawyer or staff): the case is then in session.
pub async fn add_session(db: &Db, actor: &Actor, id: i64, n: NewSession) -> Result<Session> {
    let sid = actor.subdistrict_id;
    let (m, st) = readable(db, actor, id).await?;
    let to = rules::apply(m.status, Step::Session, st, 0).map_err(refused)?;
    let now = crate::clock::now_ms();
    let at = n.held_at.unwrap_or(now);
    let mut errors = Vec::new();
    if at > now + 300_000 {
        errors.push(FieldError::new(
            "held_at",
            Text::new("时间不能在将来", "the time cannot be in the future"),
        ));
    } else if at < m.filed_at - cases::MAX_BACKDATE_MS {
        errors.push(FieldError::new(
            "held_at",
            Text::new("时间早于受理太多", "too long before the case was filed"),
        ));
    }
    check_text("place", &n.place, 200, false, &mut errors);
    check_text("attendees", &n.attendees, 1000, true, &mut errors);
    check_text("notes", &n.notes, 8000, false, &mut errors);
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    let sess = next_id();
    let mut tx = db.begin().await?;
    move_case(&mut tx, sid, &m, to, "", &[], None).await?;
    sqlx::query(
        "INSERT INTO mediation_sessions (subdistrict_id, id, case_id, held_at, place, attendees, notes, recorded_by, recorded_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(sid)
    .bind(sess)
    .bind(id)
    .bind(at)
    .bind(n.place.trim())
    .bind(n.attendees.trim())
    .bind(n.notes.trim())
    .bind(by(actor))
    .bind(now)
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        actor,
        Change::new("mediation.session", "mediation_case", Some(id))
            .after(json!({ "session_id": sess, "held_at": at })),
    )
    .await?;
    tx.commit().await?;
    sessions(db, sid, id)
        .await?
        .into_iter()
        .find(|x| x.id == sess)
        .ok_or(Error::NotFound)
}

/// What a request sends for an outcome or a withdrawal.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewOutcome {
    /// `agreement_reached`, `no_agreement` or `withdrawn`.
    #[serde(default)]
    pub status: String,
    /// The agreement's text, or why none was reached, or why withdrawn.
    #[serde(default)]
    pub text: String,
}

/// Records the outcome (agreement or not) or a withdrawal.
pub async fn outcome(db: &Db, actor: &Actor, id: i64, o: NewOutcome) -> Result<Mediation> {
    let sid = actor.subdistrict_id;
    let (m, st) = readable(db, actor, id).await?;
    let step = match Status::parse(&o.status) {
        Some(Status::AgreementReached) => Step::Agree,
        Some(Status::NoAgreement) => Step::NoAgreement,
        Some(Status::Withdrawn) => Step::Withdraw,
        _ => {
            return Err(Error::field(
                "status",
                Text::new(
                    "结果须为达成协议、未达成协议或撤回",
                    "the outcome is agreement_reached, no_agreement or withdrawn",
                ),
            ))
        }
    };
    let to = rules::apply(m.status, step, st, 0).map_err(refused)?;
    let mut errors = Vec::new();
    check_text("text", &o.text, 8000, true, &mut errors);
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    let mut tx = db.begin().await?;
    move_case(
        &mut tx,
        sid,
        &m,
        to,
        ", outcome = $6",
        &[],
        Some(o.text.trim()),
    )
    .await?;
    audit::record(
        &mut tx,
        actor,
        Change::new("mediation.outcome", "mediation_case", Some(id))
            .before(json!({ "status": m.status.code() }))
            .after(json!({ "status": to.code() })),
    )
    .await?;
    tx.commit().await?;
    load(db, sid, id).await
}

/// A follow-up after the outcome.
#[derive(Debug, Clone, Serialize)]
pub struct FollowUp {
    pub id: i64,
    pub due_on: String,
    pub what: String,
    /// `open`, `done` or `case`.
    pub status: String,
    pub note: String,
    pub raised_case_id: Option<i64>,
    pub raised_case_number: Option<String>,
    pub done_at: Option<i64>,
}

/// The follow-ups of a case, by due date.
pub async fn followups(db: &Db, sid: i64, case_id: i64) -> Result<Vec<FollowUp>> {
    let rows = sqlx::query(
        "SELECT f.id, f.due_on, f.what, f.status, f.note, f.raised_case_id, f.done_at, c.number AS case_number \
         FROM mediation_followups f LEFT JOIN cases c ON c.subdistrict_id = f.subdistrict_id AND c.id = f.raised_case_id \
         WHERE f.subdistrict_id = $1 AND f.case_id = $2 ORDER BY f.due_on, f.id",
    )
    .bind(sid)
    .bind(case_id)
    .fetch_all(db.read())
    .await?;
    Ok(rows
        .iter()
        .map(|r| FollowUp {
            id: r.get("id"),
            due_on: r.get("due_on"),
            what: r.get("what"),
            status: r.get("status"),
            note: s(r, "note"),
            raised_case_id: opt_i64(r, "raised_case_id"),
            raised_case_number: r.try_get::<Option<String>, _>("case_number").ok().flatten(),
            done_at: opt_i64(r, "done_at"),
        })
        .collect())
}

/// What a request sends to add a follow-up.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewFollowUp {
    #[serde(default)]
    pub due_on: String,
    #[serde(default)]
    pub what: String,
}

/// Adds a follow-up to a case with an outcome.
pub async fn add_followup(db: &Db, actor: &Actor, id: i64, f: NewFollowUp) -> Result<FollowUp> {
    let sid = actor.subdistrict_id;
    let (m, st) = readable(db, actor, id).await?;
    rules::apply(m.status, Step::FollowUp, st, 0).map_err(refused)?;
    let mut errors = Vec::new();
    let due = parse_day(&f.due_on);
    if due.is_none() {
        errors.push(FieldError::new(
            "due_on",
            Text::new("日期格式为 2026-12-31", "the date is written 2026-12-31"),
        ));
    }
    check_text("what", &f.what, 1000, true, &mut errors);
    let (Some(due), true) = (due, errors.is_empty()) else {
        return Err(Error::Invalid(errors));
    };
    let fid = next_id();
    let mut tx = db.begin().await?;
    // The version guard: a follow-up is only added while the case still has its outcome.
    move_case(&mut tx, sid, &m, m.status, "", &[], None).await?;
    sqlx::query(
        "INSERT INTO mediation_followups (subdistrict_id, id, case_id, due_on, what, status, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, 'open', $6, $7)",
    )
    .bind(sid)
    .bind(fid)
    .bind(id)
    .bind(format_day(due))
    .bind(f.what.trim())
    .bind(by(actor))
    .bind(crate::clock::now_ms())
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        actor,
        Change::new("mediation.follow_up", "mediation_case", Some(id))
            .after(json!({ "follow_up_id": fid, "due_on": format_day(due) })),
    )
    .await?;
    tx.commit().await?;
    followups(db, sid, id)
        .await?
        .into_iter()
        .find(|x| x.id == fid)
        .ok_or(Error::NotFound)
}

/// Marks an open follow-up done, with a note.
pub async fn followup_done(
    db: &Db,
    actor: &Actor,
    id: i64,
    fid: i64,
    note: &str,
) -> Result<FollowUp> {
    let sid = actor.subdistrict_id;
    let (m, st) = readable(db, actor, id).await?;
    rules::apply(m.status, Step::FollowUp, st, 0).map_err(refused)?;
    let mut errors = Vec::new();
    check_text("note", note, 2000, true, &mut errors);
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    let mut tx = db.begin().await?;
    let done = sqlx::query(
        "UPDATE mediation_followups SET status = 'done', note = $4, done_at = $5 WHERE subdistrict_id = $1 \
         AND case_id = $2 AND id = $3 AND status = 'open'",
    )
    .bind(sid)
    .bind(id)
    .bind(fid)
    .bind(note.trim())
    .bind(crate::clock::now_ms())
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(Error::Conflict(Text::new(
            "该回访事项已不在待办状态",
            "the follow-up is no longer open",
        )));
    }
    audit::record(
        &mut tx,
        actor,
        Change::new("mediation.follow_up_done", "mediation_case", Some(id))
            .after(json!({ "follow_up_id": fid })),
    )
    .await?;
    tx.commit().await?;
    followups(db, sid, id)
        .await?
        .into_iter()
        .find(|x| x.id == fid)
        .ok_or(Error::NotFound)
}

/// Raises a case from an open follow-up (say, a repair promised in the agreement not done):
/// through the case store (channel [`FOLLOW_UP_CASE_CHANNEL`]), then links the follow-up.
pub async fn followup_to_case(
    db: &Db,
    actor: &Actor,
    id: i64,
    fid: i64,
    t: crate::property::office::store::ToCase,
) -> Result<(FollowUp, CaseRecord)> {
    let sid = actor.subdistrict_id;
    let (m, st) = readable(db, actor, id).await?;
    rules::apply(m.status, Step::FollowUp, st, 0).map_err(refused)?;
    let f = followups(db, sid, id)
        .await?
        .into_iter()
        .find(|x| x.id == fid)
        .ok_or(Error::NotFound)?;
    if f.status != "open" {
        return Err(Error::Conflict(Text::new(
            "该回访事项已不在待办状态",
            "the follow-up is no longer open",
        )));
    }
    let title = if t.title.trim().is_empty() {
        f.what.chars().take(30).collect()
    } else {
        t.title.trim().to_string()
    };
    let description = if t.description.trim().is_empty() {
        format!(
            "{}调解({}):{}\n回访事项:{}(应于 {})",
            m.kind.label().zh,
            m.status.label().zh,
            m.outcome,
            f.what,
            f.due_on
        )
    } else {
        t.description.trim().to_string()
    };
    let new = NewCase {
        category: t.category.trim().to_string(),
        node_id: t.node_id.unwrap_or(m.node_id),
        title: title.chars().take(cases::MAX_TITLE_CHARS).collect(),
        description,
        source_ref: format!("mediation:{}:follow_up:{}", m.id, f.id),
        attributes: t.attributes,
        ..Default::default()
    };
    let key = format!("mediation-follow-up-{}", f.id);
    let opened = cases::open_case(db, actor, new, FOLLOW_UP_CASE_CHANNEL, Some(&key)).await?;
    let c = opened.case().clone();
    let mut tx = db.begin().await?;
    let done = sqlx::query(
        "UPDATE mediation_followups SET status = 'case', raised_case_id = $4 WHERE subdistrict_id = $1 AND case_id = $2 \
         AND id = $3 AND status = 'open' AND raised_case_id IS NULL",
    )
    .bind(sid)
    .bind(id)
    .bind(fid)
    .bind(c.id)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() > 0 {
        audit::record(
            &mut tx,
            actor,
            Change::new("mediation.follow_up_case", "mediation_case", Some(id))
                .label(&c.number)
                .after(json!({ "follow_up_id": fid, "case_id": c.id, "case_number": c.number })),
        )
        .await?;
        tx.commit().await?;
    }
    let f = followups(db, sid, id)
        .await?
        .into_iter()
        .find(|x| x.id == fid)
        .ok_or(Error::NotFound)?;
    Ok((f, c))
}

/// Finishes a case once every follow-up is done or raised as a case.
pub async fn finish(db: &Db, actor: &Actor, id: i64) -> Result<Mediation> {
    let sid = actor.subdistrict_id;
    let (m, st) = readable(db, actor, id).await?;
    let open = followups(db, sid, id)
        .await?
        .iter()
        .filter(|f| f.status == "open")
        .count();
    let to = rules::apply(m.status, Step::FollowUpDone, st, open).map_err(refused)?;
    let mut tx = db.begin().await?;
    move_case(&mut tx, sid, &m, to, "", &[], None).await?;
    audit::record(
        &mut tx,
        actor,
        Change::new("mediation.finish", "mediation_case", Some(id))
            .before(json!({ "status": m.status.code() }))
            .after(json!({ "status": to.code() })),
    )
    .await?;
    tx.commit().await?;
    load(db, sid, id).await
}

/// Law firms (for the forms).
pub async fn law_firms(db: &Db, sid: i64) -> Result<Vec<(i64, String)>> {
    crate::property::office::store::orgs_of_kind(db, sid, "law_firm").await
}

/// Places the actor manages where disputes may be filed or firms engaged (communities,
/// villages, grids, buildings), in tree order.
pub async fn places(db: &Db, actor: &Actor) -> Result<Vec<tree::Node>> {
    let rows = sqlx::query(
        "SELECT id, path FROM nodes WHERE subdistrict_id = $1 AND kind IN ('subdistrict', 'community', 'village', 'grid', 'building') ORDER BY path",
    )
    .bind(actor.subdistrict_id)
    .fetch_all(db.read())
    .await?;
    let mut out = Vec::new();
    for r in &rows {
        let path: String = r.get("path");
        if manages(actor, &path) {
            out.push(tree::node(db, actor.subdistrict_id, r.get("id")).await?);
        }
        if out.len() >= 500 {
            break;
        }
    }
    Ok(out)
}
