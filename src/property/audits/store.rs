//! Third-party audit engagements in the database (migration 24): engagements with their named
//! auditors, findings and responses, and the report. (Not the audit log: every write here, and
//! every read by an auditor, is *recorded in* the audit log through `crate::audit`.)
//!
//! Who may:
//! - staff of the place (`allows(EditRegistry)` at the estate's path) engage firms, publish
//!   reports and read everything of an engagement, at any time;
//! - a named auditor reads the engagement's scope (`rules::auditor_may_read`) and records
//!   findings and the report, only inside the engagement's dates. Their ordinary role grant
//!   gives them nothing here: the scope comes from the engagement alone;
//! - the estate's owners' committee members (a committee-member grant for the `orgs` row of an
//!   owners' committee whose place contains the estate or lies inside it) and the staff of a
//!   property company with a contract at such a place overlapping the audited period (or in
//!   force today) read the engagement and its findings and respond;
//! - owners of rooms under the estate read a published report for 30 days
//!   (`rules::publicly_visible`).
//!
//! Every write is one transaction with its audit entry; steps on a finding move its `version`
//! (`UPDATE … WHERE version = seen`), so of two racing steps one wins and the other gets 409.
//! `now` (Unix ms) comes in as a parameter.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::Row;
use time::Date;

use super::rules::{self, Account, Denial, FindingStatus, Kind, Record, Scope, Severity, Status};
use crate::access::{allows, Action, Actor, Role, Target};
use crate::audit::{self, Change};
use crate::error::{Error, FieldError, Result};
use crate::i18n::Text;
use crate::property::office::rules::{check_text, format_day, parse_day};
use crate::storage::{is_unique_violation, next_id, opt_i64, Db};
use crate::tree::model::within;
use crate::tree::{store as tree, NodeKind};

/// The org kind of audit firms.
pub const AUDIT_FIRM: &str = "audit_firm";

fn by(actor: &Actor) -> Option<i64> {
    (actor.user_id != 0).then_some(actor.user_id)
}

fn s(r: &AnyRow, c: &str) -> String {
    r.try_get::<Option<String>, _>(c)
        .ok()
        .flatten()
        .unwrap_or_default()
}

/// The Shanghai date of `now`.
pub fn today(now: i64) -> Date {
    crate::clock::to_local(now).date()
}

fn day(s: &str) -> Date {
    parse_day(s).unwrap_or(Date::MIN)
}

/// Whether the actor is staff of the place at `path` (engages, publishes, reads all).
pub fn manages(actor: &Actor, path: &str) -> bool {
    allows(actor, Action::EditRegistry, Target::Node { path })
}

/// Whether a node kind may be audited as an estate.
pub fn is_estate(kind: NodeKind) -> bool {
    matches!(
        kind,
        NodeKind::Community | NodeKind::Grid | NodeKind::Building
    )
}

fn overlaps(a: &str, b: &str) -> bool {
    !a.is_empty() && !b.is_empty() && (within(a, b) || within(b, a))
}

/// A denial of the scope rule is a plain 403 (the problem JSON or the localised page): which
/// condition failed is not told, so probing the scope learns nothing.
fn forbidden(_: Denial) -> Error {
    Error::Forbidden
}

// ---------------------------------------------------------------- engagements

/// A named auditor.
#[derive(Debug, Clone, Serialize)]
pub struct Auditor {
    pub user_id: i64,
    pub name: String,
}

/// The report's facts (its document's bytes are fetched on their own).
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub summary: String,
    pub doc_name: String,
    pub doc_type: String,
    pub doc_size: i64,
    pub doc_sha256: String,
    pub submitted_by: i64,
    pub submitted_by_name: String,
    pub submitted_at: i64,
    pub published_at: Option<i64>,
    pub published_on: Option<String>,
    /// The last day owners read it (`published_on` + 30).
    pub public_until: Option<String>,
}

/// An engagement of an audit firm.
#[derive(Debug, Clone, Serialize)]
pub struct Engagement {
    pub id: i64,
    pub firm_id: i64,
    pub firm_name: String,
    pub kind: Kind,
    pub title: String,
    pub node_id: i64,
    pub node_path: String,
    pub node_name: String,
    pub accounts: Vec<Account>,
    pub period_from: String,
    pub period_to: String,
    pub starts_on: String,
    pub ends_on: String,
    pub note: String,
    pub auditors: Vec<Auditor>,
    pub report: Option<Report>,
    pub status: Status,
    pub version: i64,
    pub created_at: i64,
}

impl Engagement {
    fn auditor_ids(&self) -> Vec<i64> {
        self.auditors.iter().map(|a| a.user_id).collect()
    }

    /// The scope rule's view of this engagement (`ids` from [`Engagement::auditor_ids`]).
    pub fn scope<'a>(&'a self, ids: &'a [i64]) -> Scope<'a> {
        Scope {
            auditors: ids,
            estate_path: &self.node_path,
            accounts: &self.accounts,
            period_from: day(&self.period_from),
            period_to: day(&self.period_to),
            starts_on: day(&self.starts_on),
            ends_on: day(&self.ends_on),
        }
    }

    pub fn is_published(&self) -> bool {
        self.report
            .as_ref()
            .is_some_and(|r| r.published_on.is_some())
    }
}

const ENGAGEMENTS: &str = "SELECT e.id, e.firm_id, e.kind, e.title, e.node_id, e.node_path, e.accounts, \
    e.period_from, e.period_to, e.starts_on, e.ends_on, e.note, e.version, e.created_at, \
    o.name AS firm_name, n.name AS node_name FROM audit_engagements e \
    LEFT JOIN orgs o ON o.subdistrict_id = e.subdistrict_id AND o.id = e.firm_id \
    LEFT JOIN nodes n ON n.subdistrict_id = e.subdistrict_id AND n.id = e.node_id WHERE e.subdistrict_id = $1";

const REPORT_COLS: &str = "p.engagement_id, p.summary, p.doc_name, p.doc_type, p.doc_size, p.doc_sha256, \
    p.submitted_by, p.submitted_at, p.published_at, p.published_on, u.display_name AS submitted_by_name";

fn report_from(r: &AnyRow) -> Report {
    let published_on = r
        .try_get::<Option<String>, _>("published_on")
        .ok()
        .flatten();
    Report {
        summary: r.get("summary"),
        doc_name: s(r, "doc_name"),
        doc_type: s(r, "doc_type"),
        doc_size: r.get("doc_size"),
        doc_sha256: s(r, "doc_sha256"),
        submitted_by: r.get("submitted_by"),
        submitted_by_name: s(r, "submitted_by_name"),
        submitted_at: r.get("submitted_at"),
        published_at: opt_i64(r, "published_at"),
        public_until: published_on
            .as_deref()
            .and_then(parse_day)
            .map(|d| format_day(rules::last_public_day(d))),
        published_on,
    }
}

/// Loads engagements (`filter` is SQL appended after the subdistrict's condition, binding from
/// `$2`) with their auditors and reports.
async fn load_many(
    db: &Db,
    sid: i64,
    filter: &str,
    id: Option<i64>,
    now: i64,
) -> Result<Vec<Engagement>> {
    let sql = format!("{ENGAGEMENTS} {filter} ORDER BY e.starts_on DESC, e.id DESC LIMIT 1000");
    let mut q = sqlx::query(&sql).bind(sid);
    if let Some(id) = id {
        q = q.bind(id);
    }
    let rows = q.fetch_all(db.read()).await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let mut auditors: HashMap<i64, Vec<Auditor>> = HashMap::new();
    let mut reports: HashMap<i64, Report> = HashMap::new();
    let one = id.is_some();
    let (a_sql, r_sql) = if one {
        (
            "SELECT a.engagement_id, a.user_id, u.display_name FROM audit_engagement_auditors a \
             LEFT JOIN users u ON u.subdistrict_id = a.subdistrict_id AND u.id = a.user_id \
             WHERE a.subdistrict_id = $1 AND a.engagement_id = $2 ORDER BY u.display_name, a.user_id"
                .to_string(),
            format!(
                "SELECT {REPORT_COLS} FROM audit_engagement_reports p LEFT JOIN users u ON u.subdistrict_id = p.subdistrict_id \
                 AND u.id = p.submitted_by WHERE p.subdistrict_id = $1 AND p.engagement_id = $2"
            ),
        )
    } else {
        (
            "SELECT a.engagement_id, a.user_id, u.display_name FROM audit_engagement_auditors a \
             LEFT JOIN users u ON u.subdistrict_id = a.subdistrict_id AND u.id = a.user_id \
             WHERE a.subdistrict_id = $1 ORDER BY u.display_name, a.user_id"
                .to_string(),
            format!(
                "SELECT {REPORT_COLS} FROM audit_engagement_reports p LEFT JOIN users u ON u.subdistrict_id = p.subdistrict_id \
                 AND u.id = p.submitted_by WHERE p.subdistrict_id = $1"
            ),
        )
    };
    let mut q = sqlx::query(&a_sql).bind(sid);
    if let Some(id) = id {
        q = q.bind(id);
    }
    for r in q.fetch_all(db.read()).await? {
        auditors
            .entry(r.get("engagement_id"))
            .or_default()
            .push(Auditor {
                user_id: r.get("user_id"),
                name: s(&r, "display_name"),
            });
    }
    let mut q = sqlx::query(&r_sql).bind(sid);
    if let Some(id) = id {
        q = q.bind(id);
    }
    for r in q.fetch_all(db.read()).await? {
        reports.insert(r.get("engagement_id"), report_from(&r));
    }
    let t = today(now);
    Ok(rows
        .iter()
        .map(|r| {
            let id: i64 = r.get("id");
            let report = reports.remove(&id);
            let starts_on: String = r.get("starts_on");
            let ends_on: String = r.get("ends_on");
            Engagement {
                id,
                firm_id: r.get("firm_id"),
                firm_name: s(r, "firm_name"),
                kind: Kind::parse(&s(r, "kind")).unwrap_or(Kind::Special),
                title: r.get("title"),
                node_id: r.get("node_id"),
                node_path: r.get("node_path"),
                node_name: s(r, "node_name"),
                accounts: rules::parse_accounts(&s(r, "accounts")),
                period_from: r.get("period_from"),
                period_to: r.get("period_to"),
                status: rules::status(
                    day(&starts_on),
                    day(&ends_on),
                    report.is_some(),
                    report.as_ref().is_some_and(|p| p.published_on.is_some()),
                    t,
                ),
                starts_on,
                ends_on,
                note: s(r, "note"),
                auditors: auditors.remove(&id).unwrap_or_default(),
                report,
                version: r.get("version"),
                created_at: r.get("created_at"),
            }
        })
        .collect())
}

async fn load(db: &Db, sid: i64, id: i64, now: i64) -> Result<Engagement> {
    load_many(db, sid, "AND e.id = $2", Some(id), now)
        .await?
        .pop()
        .ok_or(Error::NotFound)
}

/// In what capacity a responder answers a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// A member of the estate's owners' committee.
    Committee,
    /// Staff of the property company contracted for the estate.
    Company,
    /// Staff of the place.
    Staff,
}

impl Side {
    pub fn code(self) -> &'static str {
        match self {
            Side::Committee => "committee",
            Side::Company => "company",
            Side::Staff => "staff",
        }
    }
    pub fn parse(s: &str) -> Option<Side> {
        [Side::Committee, Side::Company, Side::Staff]
            .into_iter()
            .find(|x| x.code() == s)
    }
    pub fn label(self) -> Text {
        match self {
            Side::Committee => Text::new("业主委员会", "owners' committee"),
            Side::Company => Text::new("物业服务企业", "property company"),
            Side::Staff => Text::new("街道/社区", "subdistrict / community"),
        }
    }
}

/// How the actor stands to one engagement.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Standing {
    /// Staff of the place: read all, publish.
    pub staff: bool,
    /// Named on the engagement (whatever the date).
    pub named: bool,
    /// Named, and today is inside the engagement's dates: reads the scope, records findings.
    pub auditing: bool,
    /// Answers findings, as what (committee and company before staff).
    pub responder: Option<Side>,
    /// Owns a room under the estate.
    pub owner: bool,
}

impl Standing {
    /// Reads the engagement's page (scope, findings, responses).
    pub fn reads(&self) -> bool {
        self.staff || self.auditing || self.responder.is_some()
    }
}

/// The org ids the actor holds `role` for.
fn orgs_of(actor: &Actor, role: Role) -> Vec<i64> {
    actor
        .grants
        .iter()
        .filter(|g| g.role == role)
        .filter_map(|g| g.org_id)
        .collect()
}

/// The owners' committees (their `orgs` ids) of places overlapping the estate.
async fn committee_orgs(db: &Db, sid: i64, estate_path: &str) -> Result<Vec<i64>> {
    let rows =
        sqlx::query("SELECT org_id, node_path FROM owners_committees WHERE subdistrict_id = $1")
            .bind(sid)
            .fetch_all(db.read())
            .await?;
    Ok(rows
        .iter()
        .filter(|r| overlaps(&r.get::<String, _>("node_path"), estate_path))
        .map(|r| r.get("org_id"))
        .collect())
}

/// The property companies with a contract at a place overlapping the estate, during the
/// audited period or in force today.
async fn company_orgs(db: &Db, sid: i64, e: &Engagement, now: i64) -> Result<Vec<i64>> {
    let t = format_day(today(now));
    let rows = sqlx::query(
        "SELECT company_id, node_path FROM property_contracts WHERE subdistrict_id = $1 \
         AND ((starts_on <= $2 AND ends_on >= $3) OR (starts_on <= $4 AND ends_on >= $4))",
    )
    .bind(sid)
    .bind(&e.period_to)
    .bind(&e.period_from)
    .bind(&t)
    .fetch_all(db.read())
    .await?;
    Ok(rows
        .iter()
        .filter(|r| overlaps(&r.get::<String, _>("node_path"), &e.node_path))
        .map(|r| r.get("company_id"))
        .collect())
}

/// How the actor stands to `e` on the day of `now`.
pub async fn standing(db: &Db, actor: &Actor, e: &Engagement, now: i64) -> Result<Standing> {
    let ids = e.auditor_ids();
    let named = actor.user_id != 0 && ids.contains(&actor.user_id);
    let auditing = rules::in_window(&e.scope(&ids), actor.user_id, today(now)).is_ok();
    let staff = manages(actor, &e.node_path);
    let mut responder = None;
    let committees = orgs_of(actor, Role::OwnersCommitteeMember);
    if !committees.is_empty()
        && committee_orgs(db, actor.subdistrict_id, &e.node_path)
            .await?
            .iter()
            .any(|o| committees.contains(o))
    {
        responder = Some(Side::Committee);
    }
    let companies = orgs_of(actor, Role::PropertyStaff);
    if responder.is_none()
        && !companies.is_empty()
        && company_orgs(db, actor.subdistrict_id, e, now)
            .await?
            .iter()
            .any(|o| companies.contains(o))
    {
        responder = Some(Side::Company);
    }
    if responder.is_none() && staff {
        responder = Some(Side::Staff);
    }
    Ok(Standing {
        staff,
        named,
        auditing,
        responder,
        owner: crate::property::fund::store::owns_under(db, actor, &e.node_path).await?,
    })
}

/// An engagement the actor may read, with their standing; 403 otherwise (an auditor outside
/// the engagement's dates included).
pub async fn readable(db: &Db, actor: &Actor, id: i64, now: i64) -> Result<(Engagement, Standing)> {
    let e = load(db, actor.subdistrict_id, id, now).await?;
    let st = standing(db, actor, &e, now).await?;
    if st.reads() {
        Ok((e, st))
    } else {
        Err(Error::Forbidden)
    }
}

/// The engagements the actor may see: staff those of their places, an auditor the ones they
/// are named on (whatever the date, so they see what is coming and what is over), responders
/// those of their estates, owners those whose report they may read now.
pub async fn list(db: &Db, actor: &Actor, now: i64) -> Result<Vec<(Engagement, Standing)>> {
    let all = load_many(db, actor.subdistrict_id, "", None, now).await?;
    let t = today(now);
    let mut out = Vec::new();
    for e in all {
        let st = standing(db, actor, &e, now).await?;
        let public = st.owner
            && e.report
                .as_ref()
                .and_then(|r| r.published_on.as_deref())
                .and_then(parse_day)
                .is_some_and(|d| rules::publicly_visible(d, t));
        if st.staff || st.named || st.responder.is_some() || public {
            out.push((e, st));
        }
    }
    Ok(out)
}

/// The places where the actor may engage a firm (estates they manage), for the form.
pub async fn places(db: &Db, actor: &Actor) -> Result<Vec<tree::Node>> {
    let rows = sqlx::query(
        "SELECT id, path FROM nodes WHERE subdistrict_id = $1 AND kind IN ('community', 'grid', 'building') \
         ORDER BY path LIMIT 5000",
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

/// The audit firms of the subdistrict.
pub async fn firms(db: &Db, sid: i64) -> Result<Vec<(i64, String)>> {
    crate::property::office::store::orgs_of_kind(db, sid, AUDIT_FIRM).await
}

/// The users who may be named for `firm_id`: enabled users holding the auditor role for it.
pub async fn firm_auditors(db: &Db, sid: i64, firm_id: i64) -> Result<Vec<Auditor>> {
    let rows = sqlx::query(
        "SELECT DISTINCT u.id, u.display_name FROM role_grants g JOIN users u ON u.subdistrict_id = g.subdistrict_id \
         AND u.id = g.user_id WHERE g.subdistrict_id = $1 AND g.role = 'auditor' AND g.org_id = $2 AND u.disabled = 0 \
         ORDER BY u.display_name",
    )
    .bind(sid)
    .bind(firm_id)
    .fetch_all(db.read())
    .await?;
    Ok(rows
        .iter()
        .map(|r| Auditor {
            user_id: r.get("id"),
            name: r.get("display_name"),
        })
        .collect())
}

/// What a request sends to engage an audit firm.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewEngagement {
    #[serde(default)]
    pub firm_id: Option<i64>,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub node_id: Option<i64>,
    #[serde(default)]
    pub accounts: Vec<String>,
    #[serde(default)]
    pub period_from: String,
    #[serde(default)]
    pub period_to: String,
    #[serde(default)]
    pub starts_on: String,
    #[serde(default)]
    pub ends_on: String,
    #[serde(default)]
    pub auditor_ids: Vec<i64>,
    #[serde(default)]
    pub note: String,
}

fn date_pair(
    from_field: &str,
    from: &str,
    to_field: &str,
    to: &str,
    errors: &mut Vec<FieldError>,
) -> Option<(Date, Date)> {
    let a = parse_day(from);
    let b = parse_day(to);
    if a.is_none() {
        errors.push(FieldError::new(
            from_field,
            Text::new("日期格式为 2026-01-01", "the date is written 2026-01-01"),
        ));
    }
    if b.is_none() {
        errors.push(FieldError::new(
            to_field,
            Text::new("日期格式为 2026-12-31", "the date is written 2026-12-31"),
        ));
    }
    let (a, b) = (a?, b?);
    if !rules::dates_ok(a, b) {
        errors.push(FieldError::new(
            to_field,
            Text::new(
                "结束日期不能早于开始日期",
                "the end cannot be before the start",
            ),
        ));
        return None;
    }
    Some((a, b))
}

/// Engages an audit firm for an estate the actor manages, naming its auditors (each told in
/// their inbox). One transaction with its audit entry.
pub async fn engage(db: &Db, actor: &Actor, n: NewEngagement, now: i64) -> Result<Engagement> {
    let sid = actor.subdistrict_id;
    let mut errors = Vec::new();
    let node = match n.node_id {
        Some(id) => match tree::node(db, sid, id).await {
            Ok(x) if is_estate(x.kind) => Some(x),
            Ok(_) | Err(Error::NotFound) => None,
            Err(e) => return Err(e),
        },
        None => None,
    };
    match &node {
        None => errors.push(FieldError::new(
            "node_id",
            Text::new(
                "请选择审计的小区(社区、网格或楼栋)",
                "choose the estate audited (a community, grid or building)",
            ),
        )),
        Some(x) if !manages(actor, &x.path) => return Err(Error::Forbidden),
        Some(_) => {}
    }
    let firm = match n.firm_id {
        Some(id) => {
            sqlx::query("SELECT kind, name FROM orgs WHERE subdistrict_id = $1 AND id = $2")
                .bind(sid)
                .bind(id)
                .fetch_optional(db.read())
                .await?
                .filter(|r| r.get::<String, _>("kind") == AUDIT_FIRM)
                .map(|r| (id, r.get::<String, _>("name")))
        }
        None => None,
    };
    if firm.is_none() {
        errors.push(FieldError::new(
            "firm_id",
            Text::new("请选择一家审计机构", "choose an audit firm"),
        ));
    }
    let kind = Kind::parse(&n.kind);
    if kind.is_none() {
        errors.push(FieldError::new(
            "kind",
            Text::new("请选择审计类型", "choose the kind of audit"),
        ));
    }
    let mut accounts = Vec::new();
    for a in &n.accounts {
        match Account::parse(a) {
            Some(a) => accounts.push(a),
            None => errors.push(FieldError::new(
                "accounts",
                Text::new("没有这个账目", "no such account"),
            )),
        }
    }
    if n.accounts.is_empty() {
        errors.push(FieldError::new(
            "accounts",
            Text::new(
                "至少选择一个审计的账目",
                "choose at least one account to audit",
            ),
        ));
    }
    let period = date_pair(
        "period_from",
        &n.period_from,
        "period_to",
        &n.period_to,
        &mut errors,
    );
    let window = date_pair(
        "starts_on",
        &n.starts_on,
        "ends_on",
        &n.ends_on,
        &mut errors,
    );
    check_text("title", &n.title, 200, false, &mut errors);
    check_text("note", &n.note, 1000, false, &mut errors);
    // The auditors: users holding the auditor role for this very firm.
    let mut named: Vec<Auditor> = Vec::new();
    if n.auditor_ids.is_empty() {
        errors.push(FieldError::new(
            "auditor_ids",
            Text::new("至少指定一名审计人员", "name at least one auditor"),
        ));
    } else if n.auditor_ids.len() > 20 {
        errors.push(FieldError::new(
            "auditor_ids",
            Text::new("最多指定 20 名审计人员", "name at most 20 auditors"),
        ));
    } else if let Some((firm_id, firm_name)) = &firm {
        let of_firm = firm_auditors(db, sid, *firm_id).await?;
        for uid in &n.auditor_ids {
            match of_firm.iter().find(|a| a.user_id == *uid) {
                Some(a) => {
                    if !named.iter().any(|x| x.user_id == a.user_id) {
                        named.push(a.clone());
                    }
                }
                None => {
                    let who: Option<String> = sqlx::query(
                        "SELECT display_name FROM users WHERE subdistrict_id = $1 AND id = $2",
                    )
                    .bind(sid)
                    .bind(uid)
                    .fetch_optional(db.read())
                    .await?
                    .map(|r| r.get(0));
                    errors.push(FieldError::new(
                        "auditor_ids",
                        match who {
                            Some(w) => Text::owned(
                                format!("{w} 不是{firm_name}的审计人员"),
                                format!("{w} is not an auditor of {firm_name}"),
                            ),
                            None => Text::new("没有这个用户", "no such user"),
                        },
                    ));
                }
            }
        }
    }
    let (Some(node), Some((firm_id, firm_name)), Some(kind), Some((pf, pt)), Some((so, eo)), true) =
        (node, firm, kind, period, window, errors.is_empty())
    else {
        return Err(Error::Invalid(errors));
    };
    let title = if n.title.trim().is_empty() {
        format!("{}{}", node.name, kind.label().zh)
    } else {
        n.title.trim().to_string()
    };
    let id = next_id();
    let codes = rules::accounts_code(&accounts);
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO audit_engagements (subdistrict_id, id, firm_id, kind, title, node_id, node_path, accounts, \
         period_from, period_to, starts_on, ends_on, note, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
    )
    .bind(sid)
    .bind(id)
    .bind(firm_id)
    .bind(kind.code())
    .bind(&title)
    .bind(node.id)
    .bind(&node.path)
    .bind(&codes)
    .bind(format_day(pf))
    .bind(format_day(pt))
    .bind(format_day(so))
    .bind(format_day(eo))
    .bind(n.note.trim())
    .bind(by(actor))
    .bind(now)
    .execute(&mut *tx)
    .await?;
    for a in &named {
        sqlx::query(
            "INSERT INTO audit_engagement_auditors (subdistrict_id, engagement_id, user_id) VALUES ($1, $2, $3)",
        )
        .bind(sid)
        .bind(id)
        .bind(a.user_id)
        .execute(&mut *tx)
        .await?;
    }
    audit::record(
        &mut tx,
        actor,
        Change::new("audit_engagement.create", "audit_engagement", Some(id))
            .label(&title)
            .after(json!({
                "firm_id": firm_id, "kind": kind.code(), "node_id": node.id, "accounts": codes,
                "period_from": format_day(pf), "period_to": format_day(pt),
                "starts_on": format_day(so), "ends_on": format_day(eo),
                "auditor_ids": named.iter().map(|a| a.user_id).collect::<Vec<_>>(),
            })),
    )
    .await?;
    let notice = crate::notify::Notice {
        kind: "audit_engagement.named".into(),
        case_id: None,
        title_zh: format!("您被指定为审计人员:{title}"),
        title_en: format!("You are named as an auditor: {title}"),
        body_zh: format!(
            "{firm_name} · {} · 审计期间 {} 至 {} · 查阅期限 {} 至 {}",
            node.name,
            format_day(pf),
            format_day(pt),
            format_day(so),
            format_day(eo)
        ),
        body_en: format!(
            "{firm_name} · {} · period {} to {} · access {} to {}",
            node.name,
            format_day(pf),
            format_day(pt),
            format_day(so),
            format_day(eo)
        ),
        link: format!("/audits/{id}"),
    };
    let ids: Vec<i64> = named.iter().map(|a| a.user_id).collect();
    crate::notify::notify_users(&mut tx, sid, &ids, &notice).await?;
    tx.commit().await?;
    load(db, sid, id, now).await
}

/// Writes what an auditor read into the audit log (its own transaction: a read changes nothing
/// else). Staff reads are not logged here: they read these records on the ordinary pages too.
async fn log_read(
    db: &Db,
    actor: &Actor,
    e: &Engagement,
    st: &Standing,
    what: serde_json::Value,
) -> Result<()> {
    if st.staff || !st.auditing {
        return Ok(());
    }
    let mut tx = db.begin().await?;
    audit::record(
        &mut tx,
        actor,
        Change::new("audit_engagement.read", "audit_engagement", Some(e.id))
            .label(&e.title)
            .after(what),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The engagement's page as the actor reads it, logging an auditor's read.
pub async fn show(
    db: &Db,
    actor: &Actor,
    id: i64,
    now: i64,
) -> Result<(Engagement, Standing, Vec<Finding>)> {
    let (e, st) = readable(db, actor, id, now).await?;
    let f = findings(db, actor.subdistrict_id, id).await?;
    log_read(
        db,
        actor,
        &e,
        &st,
        json!({ "view": "engagement", "findings": f.len() }),
    )
    .await?;
    Ok((e, st, f))
}

/// The engagement and the actor's standing for a scoped read of `account` at `path`: staff of
/// the place, or a named auditor inside the rule; else 403.
async fn scoped(
    db: &Db,
    actor: &Actor,
    id: i64,
    account: Account,
    path: Option<&str>,
    now: i64,
) -> Result<(Engagement, Standing)> {
    let e = load(db, actor.subdistrict_id, id, now).await?;
    let st = standing(db, actor, &e, now).await?;
    let p = path.unwrap_or(&e.node_path).to_string();
    if st.staff {
        // Staff read all of the engagement, but the scoped view still shows only its scope.
        if !e.accounts.contains(&account) || !within(&p, &e.node_path) {
            return Err(Error::Forbidden);
        }
        return Ok((e, st));
    }
    let ids = e.auditor_ids();
    rules::auditor_may_read(
        &e.scope(&ids),
        actor.user_id,
        &Record {
            account,
            path: &p,
            value_date: None,
        },
        today(now),
    )
    .map_err(forbidden)?;
    Ok((e, st))
}

// ---------------------------------------------------------------- the fund in scope

/// One building's maintenance fund over the audited period.
#[derive(Debug, Clone, Serialize)]
pub struct FundSummary {
    pub building_id: i64,
    pub building_name: String,
    pub building_path: String,
    /// The balance from every posting valued before the period.
    pub opening: i64,
    /// The balance from every posting valued up to the period's end.
    pub closing: i64,
    pub postings_in_period: usize,
    pub deposits: i64,
    pub withdrawals: i64,
}

/// A posting as the scoped view shows it.
#[derive(Debug, Clone, Serialize)]
pub struct PostingView {
    pub seq: u64,
    pub kind: String,
    pub kind_zh: String,
    pub kind_en: String,
    pub amount: i64,
    pub value_date: String,
    pub memo: String,
    pub reverses: Option<u64>,
    pub posted_by: String,
    pub lines: Vec<(i64, i64)>,
}

/// A room's account over the period.
#[derive(Debug, Clone, Serialize)]
pub struct RoomPeriod {
    pub room_id: i64,
    pub label: String,
    pub opening: i64,
    pub movement: i64,
    pub closing: i64,
}

/// A building's fund in the audited period: what the postings in it did.
#[derive(Debug, Clone, Serialize)]
pub struct FundPeriod {
    pub summary: FundSummary,
    pub postings: Vec<PostingView>,
    pub rooms: Vec<RoomPeriod>,
}

async fn buildings_under(db: &Db, sid: i64, path: &str) -> Result<Vec<tree::Node>> {
    let end = crate::cases::web::subtree_end(path);
    let rows = sqlx::query(
        "SELECT id FROM nodes WHERE subdistrict_id = $1 AND kind = 'building' AND path >= $2 AND path < $3 ORDER BY path",
    )
    .bind(sid)
    .bind(path)
    .bind(&end)
    .fetch_all(db.read())
    .await?;
    let mut out = Vec::new();
    for r in &rows {
        out.push(tree::node(db, sid, r.get("id")).await?);
    }
    Ok(out)
}

fn period_of(
    e: &Engagement,
    b: &tree::Node,
    all: &[crate::property::fund::chain::Posting],
) -> (FundSummary, Vec<PostingView>) {
    let ids = e.auditor_ids();
    let sc = e.scope(&ids);
    let (mut opening, mut closing, mut dep, mut wd) = (0i64, 0i64, 0i64, 0i64);
    let mut shown = Vec::new();
    for p in all {
        let d = day(&p.value_date);
        if d < sc.period_from {
            opening += p.amount;
        }
        if d <= sc.period_to {
            closing += p.amount;
        }
        if !rules::in_period(&sc, d) {
            continue;
        }
        if p.amount >= 0 {
            dep += p.amount;
        } else {
            wd += -p.amount;
        }
        let l = p.kind.label();
        shown.push(PostingView {
            seq: p.seq,
            kind: p.kind.code().to_string(),
            kind_zh: l.zh.to_string(),
            kind_en: l.en.to_string(),
            amount: p.amount,
            value_date: p.value_date.clone(),
            memo: p.memo.clone(),
            reverses: p.reverses,
            posted_by: p.posted_by.clone(),
            lines: p.lines.iter().map(|x| (x.room_id, x.amount)).collect(),
        });
    }
    (
        FundSummary {
            building_id: b.id,
            building_name: b.name.clone(),
            building_path: b.path.clone(),
            opening,
            closing,
            postings_in_period: shown.len(),
            deposits: dep,
            withdrawals: wd,
        },
        shown,
    )
}

/// The maintenance fund of every building within the estate, over the period.
pub async fn fund_overview(
    db: &Db,
    actor: &Actor,
    id: i64,
    now: i64,
) -> Result<(Engagement, Vec<FundSummary>)> {
    let sid = actor.subdistrict_id;
    let (e, st) = scoped(db, actor, id, Account::MaintenanceFund, None, now).await?;
    let mut out = Vec::new();
    for b in buildings_under(db, sid, &e.node_path).await? {
        let all = crate::property::fund::store::postings(db, sid, b.id).await?;
        out.push(period_of(&e, &b, &all).0);
    }
    log_read(db, actor, &e, &st, json!({ "view": "fund", "buildings": out.iter().map(|b| b.building_id).collect::<Vec<_>>() })).await?;
    Ok((e, out))
}

/// One building's fund over the period: its postings valued in the period with their lines,
/// and each room's opening, movement and closing. 403 for a building outside the estate.
pub async fn fund_building(
    db: &Db,
    actor: &Actor,
    id: i64,
    building_id: i64,
    now: i64,
) -> Result<(Engagement, FundPeriod)> {
    let sid = actor.subdistrict_id;
    let b = crate::property::fund::store::building(db, sid, building_id).await?;
    let (e, st) = scoped(db, actor, id, Account::MaintenanceFund, Some(&b.path), now).await?;
    let all = crate::property::fund::store::postings(db, sid, b.id).await?;
    // Each posting passes the scope rule on its own (for staff: the period filter).
    let ids = e.auditor_ids();
    let sc = e.scope(&ids);
    let t = today(now);
    let visible: Vec<_> = all
        .iter()
        .filter(|p| {
            let d = day(&p.value_date);
            if st.staff {
                rules::in_period(&sc, d)
            } else {
                rules::auditor_may_read(
                    &sc,
                    actor.user_id,
                    &Record {
                        account: Account::MaintenanceFund,
                        path: &b.path,
                        value_date: Some(d),
                    },
                    t,
                )
                .is_ok()
            }
        })
        .map(|p| p.seq)
        .collect();
    let (summary, postings) = period_of(&e, &b, &all);
    let postings: Vec<PostingView> = postings
        .into_iter()
        .filter(|p| visible.contains(&p.seq))
        .collect();
    let mut per_room: BTreeMap<i64, (i64, i64)> = BTreeMap::new();
    for p in &all {
        let d = day(&p.value_date);
        for l in &p.lines {
            let x = per_room.entry(l.room_id).or_default();
            if d < sc.period_from {
                x.0 += l.amount;
            } else if d <= sc.period_to {
                x.1 += l.amount;
            }
        }
    }
    let labels: HashMap<i64, String> = crate::property::fund::store::rooms(db, sid, &b)
        .await?
        .into_iter()
        .map(|r| (r.room_id, r.label))
        .collect();
    let mut rooms: Vec<RoomPeriod> = labels
        .iter()
        .map(|(id, label)| {
            let (o, m) = per_room.get(id).copied().unwrap_or_default();
            RoomPeriod {
                room_id: *id,
                label: label.clone(),
                opening: o,
                movement: m,
                closing: o + m,
            }
        })
        .collect();
    rooms.sort_by(|a, b| a.label.cmp(&b.label).then(a.room_id.cmp(&b.room_id)));
    log_read(
        db,
        actor,
        &e,
        &st,
        json!({ "view": "fund_building", "building_id": b.id, "postings": postings.iter().map(|p| p.seq).collect::<Vec<_>>() }),
    )
    .await?;
    Ok((
        e,
        FundPeriod {
            summary,
            postings,
            rooms,
        },
    ))
}

// ---------------------------------------------------------------- public income in scope

/// One estate's public income account over the audited period.
#[derive(Debug, Clone, Serialize)]
pub struct IncomePeriod {
    pub estate_id: i64,
    pub estate_name: String,
    pub estate_path: String,
    /// The balance from every entry valued before the period.
    pub opening: i64,
    /// The balance from every entry valued up to the period's end.
    pub closing: i64,
    /// The entries valued in the period (`income::store::entries_between`).
    pub entries: Vec<crate::property::income::store::Entry>,
}

/// The public income accounts of the estates within the engagement's estate, with their
/// entries in the period and the balances at its start and end.
pub async fn income(
    db: &Db,
    actor: &Actor,
    id: i64,
    now: i64,
) -> Result<(Engagement, Vec<IncomePeriod>)> {
    use crate::property::income::store as income;
    let sid = actor.subdistrict_id;
    let (e, st) = scoped(db, actor, id, Account::PublicIncome, None, now).await?;
    let end = crate::cases::web::subtree_end(&e.node_path);
    let heads = sqlx::query(
        "SELECT estate_id, estate_path FROM income_heads WHERE subdistrict_id = $1 AND estate_path >= $2 \
         AND estate_path < $3 ORDER BY estate_path",
    )
    .bind(sid)
    .bind(&e.node_path)
    .bind(&end)
    .fetch_all(db.read())
    .await?;
    let ids = e.auditor_ids();
    let sc = e.scope(&ids);
    let t = today(now);
    let mut out = Vec::new();
    for h in &heads {
        let estate_id: i64 = h.get("estate_id");
        let path: String = h.get("estate_path");
        let node = tree::node(db, sid, estate_id).await?;
        let all = income::entries(db, sid, estate_id).await?;
        let (mut opening, mut closing) = (0i64, 0i64);
        for x in &all {
            let d = day(&x.value_date);
            if d < sc.period_from {
                opening += x.effect;
            }
            if d <= sc.period_to {
                closing += x.effect;
            }
        }
        // Each entry passes the scope rule on its own.
        let entries: Vec<_> =
            income::entries_between(db, sid, estate_id, &e.period_from, &e.period_to)
                .await?
                .into_iter()
                .filter(|x| {
                    let d = day(&x.value_date);
                    if st.staff {
                        rules::in_period(&sc, d)
                    } else {
                        rules::auditor_may_read(
                            &sc,
                            actor.user_id,
                            &Record {
                                account: Account::PublicIncome,
                                path: &path,
                                value_date: Some(d),
                            },
                            t,
                        )
                        .is_ok()
                    }
                })
                .collect();
        out.push(IncomePeriod {
            estate_id,
            estate_name: node.name,
            estate_path: path,
            opening,
            closing,
            entries,
        });
    }
    log_read(
        db,
        actor,
        &e,
        &st,
        json!({ "view": "income", "estates": out.iter().map(|x| json!({ "estate_id": x.estate_id,
            "entries": x.entries.iter().map(|y| y.seq).collect::<Vec<_>>() })).collect::<Vec<_>>() }),
    )
    .await?;
    Ok((e, out))
}

// ---------------------------------------------------------------- findings

/// A response to a finding.
#[derive(Debug, Clone, Serialize)]
pub struct Response {
    pub id: i64,
    pub side: Side,
    pub body: String,
    pub user_id: i64,
    pub user_name: String,
    pub created_at: i64,
}

/// A finding, with its responses.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub id: i64,
    pub engagement_id: i64,
    pub title: String,
    pub detail: String,
    pub severity: Severity,
    pub account: Account,
    pub building_id: Option<i64>,
    pub posting_seq: Option<i64>,
    pub status: FindingStatus,
    pub close_note: String,
    pub created_by: i64,
    pub created_by_name: String,
    pub created_at: i64,
    pub closed_at: Option<i64>,
    pub version: i64,
    pub responses: Vec<Response>,
}

const FINDINGS: &str = "SELECT f.id, f.engagement_id, f.title, f.detail, f.severity, f.account, f.building_id, \
    f.posting_seq, f.status, f.close_note, f.created_by, f.created_at, f.closed_at, f.version, \
    u.display_name AS created_by_name FROM audit_engagement_findings f \
    LEFT JOIN users u ON u.subdistrict_id = f.subdistrict_id AND u.id = f.created_by WHERE f.subdistrict_id = $1";

fn finding_from(r: &AnyRow) -> Finding {
    Finding {
        id: r.get("id"),
        engagement_id: r.get("engagement_id"),
        title: r.get("title"),
        detail: r.get("detail"),
        severity: Severity::parse(&s(r, "severity")).unwrap_or(Severity::Advisory),
        account: Account::parse(&s(r, "account")).unwrap_or(Account::MaintenanceFund),
        building_id: opt_i64(r, "building_id"),
        posting_seq: opt_i64(r, "posting_seq"),
        status: FindingStatus::parse(&s(r, "status")).unwrap_or(FindingStatus::Open),
        close_note: s(r, "close_note"),
        created_by: r.get("created_by"),
        created_by_name: s(r, "created_by_name"),
        created_at: r.get("created_at"),
        closed_at: opt_i64(r, "closed_at"),
        version: r.get("version"),
        responses: Vec::new(),
    }
}

/// The findings of an engagement, oldest first, with their responses (no access check).
pub async fn findings(db: &Db, sid: i64, engagement_id: i64) -> Result<Vec<Finding>> {
    let rows = sqlx::query(&format!(
        "{FINDINGS} AND f.engagement_id = $2 ORDER BY f.created_at, f.id"
    ))
    .bind(sid)
    .bind(engagement_id)
    .fetch_all(db.read())
    .await?;
    let mut out: Vec<Finding> = rows.iter().map(finding_from).collect();
    let resp = sqlx::query(
        "SELECT r.id, r.finding_id, r.side, r.body, r.user_id, r.created_at, u.display_name FROM audit_engagement_responses r \
         LEFT JOIN users u ON u.subdistrict_id = r.subdistrict_id AND u.id = r.user_id \
         WHERE r.subdistrict_id = $1 AND r.engagement_id = $2 ORDER BY r.created_at, r.id",
    )
    .bind(sid)
    .bind(engagement_id)
    .fetch_all(db.read())
    .await?;
    for r in &resp {
        let fid: i64 = r.get("finding_id");
        if let Some(f) = out.iter_mut().find(|f| f.id == fid) {
            f.responses.push(Response {
                id: r.get("id"),
                side: Side::parse(&s(r, "side")).unwrap_or(Side::Staff),
                body: r.get("body"),
                user_id: r.get("user_id"),
                user_name: s(r, "display_name"),
                created_at: r.get("created_at"),
            });
        }
    }
    Ok(out)
}

async fn finding(db: &Db, sid: i64, engagement_id: i64, id: i64) -> Result<Finding> {
    findings(db, sid, engagement_id)
        .await?
        .into_iter()
        .find(|f| f.id == id)
        .ok_or(Error::NotFound)
}

/// What a request sends to record a finding.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewFinding {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub detail: String,
    #[serde(default)]
    pub severity: String,
    #[serde(default)]
    pub account: String,
    /// The fund posting concerned: its building and sequence number.
    #[serde(default)]
    pub building_id: Option<i64>,
    #[serde(default)]
    pub posting_seq: Option<i64>,
}

fn not_auditing() -> Error {
    Error::Forbidden
}

/// Records a finding: a named auditor, inside the engagement's dates, before the report is
/// published. A posting named must be one the auditor may read.
pub async fn add_finding(
    db: &Db,
    actor: &Actor,
    id: i64,
    n: NewFinding,
    now: i64,
) -> Result<Finding> {
    let sid = actor.subdistrict_id;
    let (e, st) = readable(db, actor, id, now).await?;
    if !st.auditing {
        return Err(not_auditing());
    }
    if e.is_published() {
        return Err(Error::Conflict(Text::new(
            "报告已公示,不能再添加审计发现",
            "the report is published; no more findings",
        )));
    }
    let mut errors = Vec::new();
    check_text("title", &n.title, 200, true, &mut errors);
    check_text("detail", &n.detail, 4000, true, &mut errors);
    let severity = Severity::parse(&n.severity);
    if severity.is_none() {
        errors.push(FieldError::new(
            "severity",
            Text::new("请选择严重程度", "choose the severity"),
        ));
    }
    let account = Account::parse(&n.account).filter(|a| e.accounts.contains(a));
    if account.is_none() {
        errors.push(FieldError::new(
            "account",
            Text::new(
                "请选择审计范围内的账目",
                "choose an account in the engagement's scope",
            ),
        ));
    }
    let mut posting: Option<(i64, i64)> = None;
    match (n.building_id, n.posting_seq) {
        (None, None) => {}
        (Some(b), Some(seq)) if account == Some(Account::MaintenanceFund) => {
            let ok = match crate::property::fund::store::building(db, sid, b).await {
                Ok(node) => {
                    let ids = e.auditor_ids();
                    let all = crate::property::fund::store::postings(db, sid, b).await?;
                    all.iter()
                        .find(|p| i64::try_from(p.seq).ok() == Some(seq))
                        .is_some_and(|p| {
                            rules::auditor_may_read(
                                &e.scope(&ids),
                                actor.user_id,
                                &Record {
                                    account: Account::MaintenanceFund,
                                    path: &node.path,
                                    value_date: parse_day(&p.value_date),
                                },
                                today(now),
                            )
                            .is_ok()
                        })
                }
                Err(Error::NotFound) => false,
                Err(x) => return Err(x),
            };
            if ok {
                posting = Some((b, seq));
            } else {
                errors.push(FieldError::new(
                    "posting_seq",
                    Text::new(
                        "该记账不在审计范围或审计期间内",
                        "that posting is not in the engagement's scope or period",
                    ),
                ));
            }
        }
        _ => errors.push(FieldError::new(
            "posting_seq",
            Text::new(
                "请同时给出维修资金的楼栋和记账序号",
                "give both the building and the sequence number of a maintenance fund posting",
            ),
        )),
    }
    let (Some(severity), Some(account), true) = (severity, account, errors.is_empty()) else {
        return Err(Error::Invalid(errors));
    };
    let fid = next_id();
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO audit_engagement_findings (subdistrict_id, id, engagement_id, title, detail, severity, account, building_id, \
         posting_seq, status, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'open', $10, $11)",
    )
    .bind(sid)
    .bind(fid)
    .bind(id)
    .bind(n.title.trim())
    .bind(n.detail.trim())
    .bind(severity.code())
    .bind(account.code())
    .bind(posting.map(|p| p.0))
    .bind(posting.map(|p| p.1))
    .bind(actor.user_id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        actor,
        Change::new("audit_finding.create", "audit_engagement", Some(id))
            .label(n.title.trim())
            .after(
                json!({ "finding_id": fid, "severity": severity.code(), "account": account.code(),
                "building_id": posting.map(|p| p.0), "posting_seq": posting.map(|p| p.1) }),
            ),
    )
    .await?;
    tx.commit().await?;
    finding(db, sid, id, fid).await
}

fn stale() -> Error {
    Error::Conflict(Text::new(
        "审计发现已被他人更新,请刷新后重试",
        "the finding was changed meanwhile; reload and try again",
    ))
}

/// What a request sends to respond to a finding.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewResponse {
    #[serde(default)]
    pub body: String,
    /// The finding's version the responder saw; a stale one gets 409.
    #[serde(default)]
    pub version: Option<i64>,
}

/// Responds to a finding: the estate's owners' committee members, the contracted property
/// company's staff, or staff of the place. An open finding becomes responded.
pub async fn respond(
    db: &Db,
    actor: &Actor,
    id: i64,
    fid: i64,
    n: NewResponse,
    now: i64,
) -> Result<Finding> {
    let sid = actor.subdistrict_id;
    let (e, st) = readable(db, actor, id, now).await?;
    let Some(side) = st.responder else {
        return Err(Error::Forbidden);
    };
    let f = finding(db, sid, id, fid).await?;
    let mut errors = Vec::new();
    check_text("body", &n.body, 4000, true, &mut errors);
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    if !f.status.takes_responses() {
        return Err(Error::Conflict(Text::new(
            "审计发现已关闭,不能再回应",
            "the finding is closed; it takes no more responses",
        )));
    }
    if n.version.is_some_and(|v| v != f.version) {
        return Err(stale());
    }
    let mut tx = db.begin().await?;
    let moved = sqlx::query(
        "UPDATE audit_engagement_findings SET status = $4, version = version + 1 WHERE subdistrict_id = $1 AND id = $2 AND version = $3",
    )
    .bind(sid)
    .bind(fid)
    .bind(f.version)
    .bind(FindingStatus::Responded.code())
    .execute(&mut *tx)
    .await?;
    if moved.rows_affected() == 0 {
        return Err(stale());
    }
    let rid = next_id();
    sqlx::query(
        "INSERT INTO audit_engagement_responses (subdistrict_id, id, finding_id, engagement_id, side, body, user_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(sid)
    .bind(rid)
    .bind(fid)
    .bind(id)
    .bind(side.code())
    .bind(n.body.trim())
    .bind(actor.user_id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        actor,
        Change::new("audit_finding.respond", "audit_engagement", Some(id))
            .label(&f.title)
            .before(json!({ "finding_id": fid, "status": f.status.code() }))
            .after(json!({ "finding_id": fid, "response_id": rid, "side": side.code(), "status": "responded" })),
    )
    .await?;
    let notice = crate::notify::Notice {
        kind: "audit_finding.responded".into(),
        case_id: None,
        title_zh: format!("审计发现有回应:{}", f.title),
        title_en: format!("A finding was answered: {}", f.title),
        body_zh: n.body.trim().chars().take(200).collect(),
        body_en: n.body.trim().chars().take(200).collect(),
        link: format!("/audits/{id}"),
    };
    crate::notify::notify_users(&mut tx, sid, &e.auditor_ids(), &notice).await?;
    tx.commit().await?;
    finding(db, sid, id, fid).await
}

/// What a request sends to close a finding.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CloseFinding {
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub version: Option<i64>,
}

/// Closes a finding: a named auditor, inside the engagement's dates.
pub async fn close_finding(
    db: &Db,
    actor: &Actor,
    id: i64,
    fid: i64,
    c: CloseFinding,
    now: i64,
) -> Result<Finding> {
    let sid = actor.subdistrict_id;
    let (_, st) = readable(db, actor, id, now).await?;
    if !st.auditing {
        return Err(not_auditing());
    }
    let f = finding(db, sid, id, fid).await?;
    let mut errors = Vec::new();
    check_text("note", &c.note, 2000, false, &mut errors);
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    if f.status == FindingStatus::Closed {
        return Err(Error::Conflict(Text::new(
            "审计发现已关闭",
            "the finding is already closed",
        )));
    }
    if c.version.is_some_and(|v| v != f.version) {
        return Err(stale());
    }
    let mut tx = db.begin().await?;
    let moved = sqlx::query(
        "UPDATE audit_engagement_findings SET status = 'closed', close_note = $4, closed_by = $5, closed_at = $6, version = version + 1 \
         WHERE subdistrict_id = $1 AND id = $2 AND version = $3",
    )
    .bind(sid)
    .bind(fid)
    .bind(f.version)
    .bind(c.note.trim())
    .bind(actor.user_id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if moved.rows_affected() == 0 {
        return Err(stale());
    }
    audit::record(
        &mut tx,
        actor,
        Change::new("audit_finding.close", "audit_engagement", Some(id))
            .label(&f.title)
            .before(json!({ "finding_id": fid, "status": f.status.code() }))
            .after(json!({ "finding_id": fid, "status": "closed" })),
    )
    .await?;
    tx.commit().await?;
    finding(db, sid, id, fid).await
}

// ---------------------------------------------------------------- the report

/// What a request sends to submit the report: a summary and optionally a document.
#[derive(Debug, Clone, Default)]
pub struct NewReport {
    pub summary: String,
    /// The uploaded file's name and bytes, if any.
    pub document: Option<(String, Vec<u8>)>,
}

/// Submits the engagement's report: a named auditor inside the dates, once (a second
/// submission, racing or not, is 409). The document's type is sniffed from its bytes.
pub async fn submit_report(
    db: &Db,
    actor: &Actor,
    id: i64,
    n: NewReport,
    now: i64,
) -> Result<Report> {
    use sha2::{Digest, Sha256};
    let sid = actor.subdistrict_id;
    let (e, st) = readable(db, actor, id, now).await?;
    if !st.auditing {
        return Err(not_auditing());
    }
    let mut errors = Vec::new();
    check_text("summary", &n.summary, 20_000, true, &mut errors);
    let mut doc: Option<(String, &'static str, Vec<u8>)> = None;
    if let Some((name, bytes)) = n.document {
        if !bytes.is_empty() || !name.trim().is_empty() {
            let name = crate::deliberation::halls::documents::clean_name(&name);
            let kind =
                crate::deliberation::halls::documents::sniff(&bytes, name.as_deref().unwrap_or(""));
            match (name, kind) {
                (Ok(n), Ok(k)) => doc = Some((n, k, bytes)),
                (Err(Error::Invalid(mut v)), _) | (_, Err(Error::Invalid(mut v))) => {
                    errors.append(&mut v)
                }
                (Err(x), _) | (_, Err(x)) => return Err(x),
            }
        }
    }
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    if e.report.is_some() {
        return Err(already_submitted());
    }
    let (doc_name, doc_type, bytes) = doc
        .map(|(n, k, b)| (n, k.to_string(), b))
        .unwrap_or_default();
    let sha = if bytes.is_empty() {
        String::new()
    } else {
        hex::encode(Sha256::digest(&bytes))
    };
    let mut tx = db.begin().await?;
    let made = sqlx::query(
        "INSERT INTO audit_engagement_reports (subdistrict_id, engagement_id, summary, doc_name, doc_type, doc_size, doc_sha256, \
         doc_bytes, submitted_by, submitted_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(sid)
    .bind(id)
    .bind(n.summary.trim())
    .bind(&doc_name)
    .bind(&doc_type)
    .bind(bytes.len() as i64)
    .bind(&sha)
    .bind(bytes.as_slice())
    .bind(actor.user_id)
    .bind(now)
    .execute(&mut *tx)
    .await;
    match made {
        Ok(_) => {}
        Err(x) if is_unique_violation(&x) => return Err(already_submitted()),
        Err(x) => return Err(x.into()),
    }
    audit::record(
        &mut tx,
        actor,
        Change::new("audit_report.submit", "audit_engagement", Some(id))
            .label(&e.title)
            .after(json!({ "doc_name": doc_name, "doc_type": doc_type, "doc_size": bytes.len(), "doc_sha256": sha })),
    )
    .await?;
    if let Some(creator) = sqlx::query(
        "SELECT created_by FROM audit_engagements WHERE subdistrict_id = $1 AND id = $2",
    )
    .bind(sid)
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?
    .and_then(|r| opt_i64(&r, "created_by"))
    {
        let notice = crate::notify::Notice {
            kind: "audit_report.submitted".into(),
            case_id: None,
            title_zh: format!("审计报告已提交,待公示:{}", e.title),
            title_en: format!("Audit report submitted, to be published: {}", e.title),
            body_zh: n.summary.trim().chars().take(200).collect(),
            body_en: n.summary.trim().chars().take(200).collect(),
            link: format!("/audits/{id}"),
        };
        crate::notify::notify_users(&mut tx, sid, &[creator], &notice).await?;
    }
    tx.commit().await?;
    load(db, sid, id, now).await?.report.ok_or(Error::NotFound)
}

fn already_submitted() -> Error {
    Error::Conflict(Text::new(
        "审计报告已提交",
        "the report has already been submitted",
    ))
}

/// The users owning rooms under `path` (owner grants at rooms there).
async fn owners_under(tx: &mut crate::storage::Tx, sid: i64, path: &str) -> Result<Vec<i64>> {
    let end = crate::cases::web::subtree_end(path);
    let rows = sqlx::query(
        "SELECT DISTINCT g.user_id FROM role_grants g JOIN rooms r ON r.subdistrict_id = g.subdistrict_id AND r.id = g.room_id \
         JOIN nodes n ON n.subdistrict_id = r.subdistrict_id AND n.id = r.node_id \
         WHERE g.subdistrict_id = $1 AND g.role = 'owner' AND n.path >= $2 AND n.path < $3 ORDER BY g.user_id",
    )
    .bind(sid)
    .bind(path)
    .bind(&end)
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows.iter().map(|r| r.get::<i64, _>(0)).collect())
}

/// Publishes the submitted report (staff of the place), once; the estate's owners are told in
/// their inbox and read it for 30 days.
pub async fn publish_report(db: &Db, actor: &Actor, id: i64, now: i64) -> Result<Report> {
    let sid = actor.subdistrict_id;
    let e = load(db, sid, id, now).await?;
    if !manages(actor, &e.node_path) {
        return Err(Error::Forbidden);
    }
    let Some(r) = &e.report else {
        return Err(Error::Conflict(Text::new(
            "审计报告尚未提交",
            "the report has not been submitted yet",
        )));
    };
    if r.published_on.is_some() {
        return Err(already_published());
    }
    let on = format_day(today(now));
    let mut tx = db.begin().await?;
    let moved = sqlx::query(
        "UPDATE audit_engagement_reports SET published_by = $3, published_at = $4, published_on = $5 \
         WHERE subdistrict_id = $1 AND engagement_id = $2 AND published_at IS NULL",
    )
    .bind(sid)
    .bind(id)
    .bind(by(actor))
    .bind(now)
    .bind(&on)
    .execute(&mut *tx)
    .await?;
    if moved.rows_affected() == 0 {
        return Err(already_published());
    }
    let until = format_day(rules::last_public_day(today(now)));
    audit::record(
        &mut tx,
        actor,
        Change::new("audit_report.publish", "audit_engagement", Some(id))
            .label(&e.title)
            .after(json!({ "published_on": on, "public_until": until })),
    )
    .await?;
    let owners = owners_under(&mut tx, sid, &e.node_path).await?;
    let notice = crate::notify::Notice {
        kind: "audit_report.published".into(),
        case_id: None,
        title_zh: format!("审计报告公示:{}", e.title),
        title_en: format!("Audit report published: {}", e.title),
        body_zh: format!("{} · 公示至 {until}", e.firm_name),
        body_en: format!("{} · published until {until}", e.firm_name),
        link: format!("/audits/{id}/report"),
    };
    crate::notify::notify_users(&mut tx, sid, &owners, &notice).await?;
    tx.commit().await?;
    load(db, sid, id, now).await?.report.ok_or(Error::NotFound)
}

fn already_published() -> Error {
    Error::Conflict(Text::new(
        "审计报告已公示",
        "the report is already published",
    ))
}

/// The report as the actor may read it: staff always; named auditors inside the dates;
/// responders once submitted; owners of the estate only while published and for 30 days after
/// (`rules::publicly_visible`). 404 before a report exists, 403 otherwise.
pub async fn report(db: &Db, actor: &Actor, id: i64, now: i64) -> Result<(Engagement, Report)> {
    let e = load(db, actor.subdistrict_id, id, now).await?;
    let st = standing(db, actor, &e, now).await?;
    let Some(r) = e.report.clone() else {
        return if st.reads() {
            Err(Error::NotFound)
        } else {
            Err(Error::Forbidden)
        };
    };
    let public = st.owner
        && r.published_on
            .as_deref()
            .and_then(parse_day)
            .is_some_and(|d| rules::publicly_visible(d, today(now)));
    if st.reads() || public {
        log_read(db, actor, &e, &st, json!({ "view": "report" })).await?;
        Ok((e, r))
    } else {
        Err(Error::Forbidden)
    }
}

/// The report's document (whoever may read the report).
pub async fn report_document(
    db: &Db,
    actor: &Actor,
    id: i64,
    now: i64,
) -> Result<(Report, Vec<u8>)> {
    let (_, r) = report(db, actor, id, now).await?;
    if r.doc_size == 0 {
        return Err(Error::NotFound);
    }
    let row = sqlx::query("SELECT doc_bytes FROM audit_engagement_reports WHERE subdistrict_id = $1 AND engagement_id = $2")
        .bind(actor.subdistrict_id)
        .bind(id)
        .fetch_one(db.read())
        .await?;
    Ok((r, row.get::<Vec<u8>, _>("doc_bytes")))
}
