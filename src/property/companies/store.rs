//! Storage of property companies (migration 19): the registry (an `orgs` row of kind
//! `property_company` with its details), contracts per estate with their notices, selections
//! with bids, fee adjustments with their reports, and the timeline of each. Every write checks
//! access and the rules first, then is one transaction with its audit entry. `now` comes in as
//! a parameter (handlers pass `clock::now_ms()`).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sqlx::any::AnyRow;
use sqlx::Row;
use time::Date;

use super::rules::{
    self, FeeAction, FeeStep, Model, Notice, NoticeKind, Purpose, ReportKind, SelectionAction,
    SelectionStep, Terms, VoteFacts,
};
use crate::access::{allows, Action, Actor, Target};
use crate::audit::{self, Change};
use crate::error::{Error, FieldError, Result};
use crate::i18n::Text;
use crate::storage::{is_unique_violation, next_id, opt_i64, Db, Tx};
use crate::tree::{store as tree, NodeKind};
use crate::votes::desk::store as votes;
use crate::votes::tally::{Counts, Form};

fn fe(field: &str, zh: &'static str, en: &'static str) -> FieldError {
    FieldError::new(field, Text::new(zh, en))
}

fn text_of(r: &AnyRow, c: &str) -> Option<String> {
    r.try_get::<Option<String>, _>(c).ok().flatten()
}

fn d(s: &str) -> Option<Date> {
    rules::parse_date(s)
}

fn conflict(zh: &'static str, en: &'static str) -> Error {
    Error::Conflict(Text::new(zh, en))
}

fn stale() -> Error {
    conflict(
        "该记录刚被他人修改,请刷新后重试",
        "someone changed this just now; reload and try again",
    )
}

fn check_len(field: &str, v: &str, max: usize, required: bool, errors: &mut Vec<FieldError>) {
    let n = v.trim().chars().count();
    if required && n == 0 {
        errors.push(FieldError::new(
            field,
            Text::new("此项必填", "this is required"),
        ));
    } else if n > max {
        errors.push(FieldError::new(
            field,
            Text::owned(
                format!("不超过 {max} 字"),
                format!("at most {max} characters"),
            ),
        ));
    }
}

fn date_field(field: &str, v: &str, errors: &mut Vec<FieldError>) -> Option<Date> {
    let r = d(v);
    if r.is_none() {
        errors.push(fe(
            field,
            "请填写日期(年-月-日)",
            "a date (YYYY-MM-DD) is needed",
        ));
    }
    r
}

// ---------------------------------------------------------------------------------------------
// Access

/// Whether the actor reads anything of the tree (staff, committees, property staff, auditors…):
/// they may browse the company registry.
pub fn reads_registry(actor: &Actor) -> bool {
    actor.grants.iter().any(|g| {
        !g.path.is_empty() && allows(actor, Action::ReadTree, Target::Node { path: &g.path })
    })
}

/// Whether the actor writes somewhere (staff reaching a place).
pub fn writes_any(actor: &Actor) -> bool {
    actor.grants.iter().any(|g| {
        !g.path.is_empty() && allows(actor, Action::EditRegistry, Target::Node { path: &g.path })
    })
}

/// Whether a node kind is an estate (小区): a community or a grid.
pub fn is_estate(kind: NodeKind) -> bool {
    matches!(kind, NodeKind::Community | NodeKind::Grid)
}

/// Loads an estate the actor may `action` on: 404 when it is not an estate, 403 out of reach.
pub async fn estate(db: &Db, actor: &Actor, id: i64, action: Action) -> Result<tree::Node> {
    let n = tree::node(db, actor.subdistrict_id, id).await?;
    if !is_estate(n.kind) {
        return Err(Error::NotFound);
    }
    if !allows(actor, action, Target::Node { path: &n.path }) {
        return Err(Error::Forbidden);
    }
    Ok(n)
}

fn may(actor: &Actor, action: Action, path: &str) -> Result<()> {
    if allows(actor, action, Target::Node { path }) {
        Ok(())
    } else {
        Err(Error::Forbidden)
    }
}

/// Whether an owners' committee re-election period covers the estate now; a step that needs a
/// vote is then refused with [`crate::votes::rules::REELECTION_REFUSAL`].
pub async fn in_reelection(db: &Db, sid: i64, path: &str, now: i64) -> Result<bool> {
    votes::reelection_covers(db, sid, path, now).await
}

async fn refuse_in_reelection(db: &Db, sid: i64, path: &str, now: i64) -> Result<()> {
    if in_reelection(db, sid, path, now).await? {
        return Err(Error::Conflict(crate::votes::rules::REELECTION_REFUSAL));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Timeline and vote links

/// One step in a process's timeline.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    pub id: i64,
    pub step: String,
    pub note: String,
    pub detail: Value,
    pub actor: String,
    pub at: i64,
}

#[allow(clippy::too_many_arguments)]
async fn event(
    tx: &mut Tx,
    actor: &Actor,
    process: &str,
    process_id: i64,
    step: &str,
    note: &str,
    detail: Value,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO property_events (subdistrict_id, id, process, process_id, step, note, detail, \
         actor_user_id, actor, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(actor.subdistrict_id)
    .bind(next_id())
    .bind(process)
    .bind(process_id)
    .bind(step)
    .bind(note)
    .bind(detail.to_string())
    .bind((actor.user_id != 0).then_some(actor.user_id))
    .bind(actor.display_name.clone())
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The timeline of a process, oldest first.
pub async fn events(db: &Db, sid: i64, process: &str, id: i64) -> Result<Vec<Event>> {
    let rows = sqlx::query(
        "SELECT id, step, note, detail, actor, at FROM property_events WHERE subdistrict_id = $1 \
         AND process = $2 AND process_id = $3 ORDER BY at, id",
    )
    .bind(sid)
    .bind(process)
    .bind(id)
    .fetch_all(db.read())
    .await?;
    Ok(rows
        .iter()
        .map(|r| Event {
            id: r.get("id"),
            step: r.get("step"),
            note: r.get("note"),
            detail: serde_json::from_str(&r.get::<String, _>("detail")).unwrap_or(Value::Null),
            actor: r.get("actor"),
            at: r.get("at"),
        })
        .collect())
}

async fn link_vote(
    tx: &mut Tx,
    sid: i64,
    vote_id: i64,
    process: &str,
    process_id: i64,
    purpose: &str,
    now: i64,
) -> Result<()> {
    let r = sqlx::query(
        "INSERT INTO property_vote_links (subdistrict_id, vote_id, process, process_id, purpose, linked_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(sid)
    .bind(vote_id)
    .bind(process)
    .bind(process_id)
    .bind(purpose)
    .bind(now)
    .execute(&mut **tx)
    .await;
    match r {
        Ok(_) => Ok(()),
        Err(e) if is_unique_violation(&e) => Err(Error::field(
            "vote_id",
            Text::new(
                "该表决已用于另一流程步骤",
                "that vote already backs another process step",
            ),
        )),
        Err(e) => Err(e.into()),
    }
}

fn form_kind(f: &Form) -> &'static str {
    match f {
        Form::YesNo => "yes_no",
        Form::Election { .. } => "election",
        Form::Options { .. } => "options",
    }
}

/// What the rules need of a vote.
pub fn facts(v: &votes::Vote) -> VoteFacts {
    let winner = v.result.as_ref().and_then(|t| match &t.counts {
        Counts::Options(o) => o.winner,
        _ => None,
    });
    VoteFacts {
        scope_path: v.scope_path.clone(),
        matter: v.matter,
        is_fee_change: v.is_fee_change,
        form: form_kind(&v.form),
        status: v.status.clone(),
        outcome: v.result.as_ref().map(|t| t.outcome),
        winner,
        opened_on: v.opened_at.map(rules::day_of),
        published_on: v.published_at.map(rules::day_of),
    }
}

/// Loads the vote a step names and checks it for `purpose`; a wrong vote is a field error.
async fn approving_vote(
    db: &Db,
    sid: i64,
    vote_id: Option<i64>,
    purpose: Purpose,
    estate_path: &str,
) -> Result<(votes::Vote, Option<u32>)> {
    let Some(id) = vote_id else {
        return Err(Error::field(
            "vote_id",
            Text::new("请填写业主表决的编号", "name the owners' vote (its id)"),
        ));
    };
    let v = match votes::vote(db, sid, id).await {
        Ok(v) => v,
        Err(Error::NotFound) => {
            return Err(Error::field(
                "vote_id",
                Text::new("没有这个表决", "no such vote"),
            ))
        }
        Err(e) => return Err(e),
    };
    let winner = rules::check_vote(purpose, &facts(&v), estate_path)
        .map_err(|t| Error::Invalid(vec![FieldError::new("vote_id", t)]))?;
    Ok((v, winner))
}

// ---------------------------------------------------------------------------------------------
// Companies

/// A property company of the registry.
#[derive(Debug, Clone, Serialize)]
pub struct Company {
    pub id: i64,
    pub name: String,
    pub node_id: Option<i64>,
    pub credit_code: Option<String>,
    pub licence: String,
    pub contact_name: String,
    pub hotline: String,
    pub address: String,
    pub note: String,
    pub created_at: i64,
}

/// What a request sends to register or correct a company.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewCompany {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub credit_code: String,
    #[serde(default)]
    pub licence: String,
    #[serde(default)]
    pub contact_name: String,
    #[serde(default)]
    pub hotline: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub note: String,
    /// The place it hangs on (default: the subdistrict).
    #[serde(default)]
    pub node_id: Option<i64>,
}

const COMPANY_SELECT: &str = "SELECT o.id, o.name, o.node_id, o.created_at, c.credit_code, \
     c.licence, c.contact_name, c.hotline, c.address, c.note FROM orgs o \
     LEFT JOIN property_companies c ON c.subdistrict_id = o.subdistrict_id AND c.org_id = o.id \
     WHERE o.subdistrict_id = $1 AND o.kind = 'property_company'";

fn company_from(r: &AnyRow) -> Company {
    Company {
        id: r.get("id"),
        name: r.get("name"),
        node_id: opt_i64(r, "node_id"),
        credit_code: text_of(r, "credit_code"),
        licence: text_of(r, "licence").unwrap_or_default(),
        contact_name: text_of(r, "contact_name").unwrap_or_default(),
        hotline: text_of(r, "hotline").unwrap_or_default(),
        address: text_of(r, "address").unwrap_or_default(),
        note: text_of(r, "note").unwrap_or_default(),
        created_at: r.get("created_at"),
    }
}

/// Every company of the subdistrict, by name (no access check: see [`reads_registry`]).
pub async fn companies(db: &Db, sid: i64) -> Result<Vec<Company>> {
    let rows = sqlx::query(&format!("{COMPANY_SELECT} ORDER BY o.name, o.id"))
        .bind(sid)
        .fetch_all(db.read())
        .await?;
    Ok(rows.iter().map(company_from).collect())
}

/// One company (no access check).
pub async fn company(db: &Db, sid: i64, id: i64) -> Result<Company> {
    let r = sqlx::query(&format!("{COMPANY_SELECT} AND o.id = $2"))
        .bind(sid)
        .bind(id)
        .fetch_optional(db.read())
        .await?
        .ok_or(Error::NotFound)?;
    Ok(company_from(&r))
}

/// A company the actor may read.
pub async fn readable_company(db: &Db, actor: &Actor, id: i64) -> Result<Company> {
    let c = company(db, actor.subdistrict_id, id).await?;
    if !reads_registry(actor) {
        return Err(Error::Forbidden);
    }
    Ok(c)
}

async fn company_place(db: &Db, actor: &Actor, node_id: Option<i64>) -> Result<tree::Node> {
    let sid = actor.subdistrict_id;
    match tree::node(db, sid, node_id.unwrap_or(sid)).await {
        Ok(n) => Ok(n),
        Err(Error::NotFound) => Err(Error::field(
            "node_id",
            Text::new("没有这个地点", "no such place"),
        )),
        Err(e) => Err(e),
    }
}

fn check_company(n: &NewCompany) -> (Option<String>, Vec<FieldError>) {
    let mut errors = Vec::new();
    check_len("name", &n.name, 100, true, &mut errors);
    for (f, v, max) in [
        ("licence", &n.licence, 200),
        ("contact_name", &n.contact_name, 50),
        ("hotline", &n.hotline, 30),
        ("address", &n.address, 200),
        ("note", &n.note, 2000),
    ] {
        check_len(f, v, max, false, &mut errors);
    }
    let code = n.credit_code.trim().to_ascii_uppercase();
    if !code.is_empty() && !rules::credit_code_ok(&code) {
        errors.push(fe(
            "credit_code",
            "统一社会信用代码应为 18 位且校验位正确",
            "the unified social credit code has 18 characters and a valid check character",
        ));
    }
    ((!code.is_empty()).then_some(code), errors)
}

fn company_unique(e: &sqlx::Error) -> Option<Error> {
    if !is_unique_violation(e) {
        return None;
    }
    let m = e.to_string();
    Some(if m.contains("credit") {
        Error::field(
            "credit_code",
            Text::new(
                "已有企业使用此信用代码",
                "another company has this credit code",
            ),
        )
    } else {
        Error::field(
            "name",
            Text::new(
                "已有同名物业服务企业",
                "a property company of this name exists",
            ),
        )
    })
}

fn company_json(n: &NewCompany, code: &Option<String>) -> Value {
    json!({ "name": n.name.trim(), "credit_code": code, "licence": n.licence.trim(),
        "contact_name": n.contact_name.trim(), "hotline": n.hotline.trim(),
        "address": n.address.trim(), "node_id": n.node_id })
}

/// Registers a company: staff reaching its place (the subdistrict when none is given).
pub async fn create_company(db: &Db, actor: &Actor, n: NewCompany, now: i64) -> Result<Company> {
    let sid = actor.subdistrict_id;
    let place = company_place(db, actor, n.node_id).await?;
    may(actor, Action::EditRegistry, &place.path)?;
    let (code, errors) = check_company(&n);
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    let id = next_id();
    let mut tx = db.begin().await?;
    let ins = sqlx::query(
        "INSERT INTO orgs (subdistrict_id, id, kind, name, node_id, created_at) \
         VALUES ($1, $2, 'property_company', $3, $4, $5)",
    )
    .bind(sid)
    .bind(id)
    .bind(n.name.trim())
    .bind(place.id)
    .bind(now)
    .execute(&mut *tx)
    .await;
    if let Err(e) = ins {
        return Err(company_unique(&e).unwrap_or_else(|| e.into()));
    }
    let ins = sqlx::query(
        "INSERT INTO property_companies (subdistrict_id, org_id, credit_code, licence, contact_name, \
         hotline, address, note, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
    )
    .bind(sid)
    .bind(id)
    .bind(code.clone())
    .bind(n.licence.trim())
    .bind(n.contact_name.trim())
    .bind(n.hotline.trim())
    .bind(n.address.trim())
    .bind(n.note.trim())
    .bind((actor.user_id != 0).then_some(actor.user_id))
    .bind(now)
    .execute(&mut *tx)
    .await;
    if let Err(e) = ins {
        return Err(company_unique(&e).unwrap_or_else(|| e.into()));
    }
    crate::storage::memo::changed();
    audit::record(
        &mut tx,
        actor,
        Change::new("company.create", "org", Some(id))
            .label(n.name.trim())
            .after(company_json(&n, &code)),
    )
    .await?;
    tx.commit().await?;
    company(db, sid, id).await
}

/// Corrects a company's name and details (staff reaching its place).
pub async fn update_company(
    db: &Db,
    actor: &Actor,
    id: i64,
    n: NewCompany,
    now: i64,
) -> Result<Company> {
    let sid = actor.subdistrict_id;
    let before = company(db, sid, id).await?;
    let place = company_place(db, actor, before.node_id).await?;
    may(actor, Action::EditRegistry, &place.path)?;
    let (code, errors) = check_company(&n);
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    let mut tx = db.begin().await?;
    let r = sqlx::query("UPDATE orgs SET name = $3 WHERE subdistrict_id = $1 AND id = $2")
        .bind(sid)
        .bind(id)
        .bind(n.name.trim())
        .execute(&mut *tx)
        .await;
    if let Err(e) = r {
        return Err(company_unique(&e).unwrap_or_else(|| e.into()));
    }
    let upd = sqlx::query(
        "UPDATE property_companies SET credit_code = $3, licence = $4, contact_name = $5, hotline = $6, \
         address = $7, note = $8, updated_at = $9 WHERE subdistrict_id = $1 AND org_id = $2",
    )
    .bind(sid)
    .bind(id)
    .bind(code.clone())
    .bind(n.licence.trim())
    .bind(n.contact_name.trim())
    .bind(n.hotline.trim())
    .bind(n.address.trim())
    .bind(n.note.trim())
    .bind(now)
    .execute(&mut *tx)
    .await;
    let done = match upd {
        Ok(r) => r.rows_affected(),
        Err(e) => return Err(company_unique(&e).unwrap_or_else(|| e.into())),
    };
    if done == 0 {
        // An organisation registered elsewhere (import, demo) gets its details row now.
        let ins = sqlx::query(
            "INSERT INTO property_companies (subdistrict_id, org_id, credit_code, licence, contact_name, \
             hotline, address, note, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
        )
        .bind(sid)
        .bind(id)
        .bind(code.clone())
        .bind(n.licence.trim())
        .bind(n.contact_name.trim())
        .bind(n.hotline.trim())
        .bind(n.address.trim())
        .bind(n.note.trim())
        .bind((actor.user_id != 0).then_some(actor.user_id))
        .bind(now)
        .execute(&mut *tx)
        .await;
        if let Err(e) = ins {
            return Err(company_unique(&e).unwrap_or_else(|| e.into()));
        }
    }
    crate::storage::memo::changed();
    audit::record(
        &mut tx,
        actor,
        Change::new("company.update", "org", Some(id))
            .label(n.name.trim())
            .before(
                json!({ "name": before.name, "credit_code": before.credit_code,
                "licence": before.licence, "contact_name": before.contact_name,
                "hotline": before.hotline, "address": before.address }),
            )
            .after(company_json(&n, &code)),
    )
    .await?;
    tx.commit().await?;
    company(db, sid, id).await
}

// ---------------------------------------------------------------------------------------------
// Contracts

/// A notice on a contract.
#[derive(Debug, Clone, Serialize)]
pub struct NoticeView {
    pub kind: String,
    pub by: String,
    pub given_on: String,
    pub effective_on: String,
    pub vote_id: Option<i64>,
    pub note: String,
}

/// A contract with where it stands today.
#[derive(Debug, Clone, Serialize)]
pub struct Contract {
    pub id: i64,
    pub node_id: i64,
    pub node_path: String,
    pub node_name: String,
    pub company_id: i64,
    pub company_name: String,
    pub starts_on: String,
    pub ends_on: String,
    /// The contract's own fee standard (fen per m² per month).
    pub fee_standard: i64,
    /// The fee standard in force today, after completed adjustments.
    pub fee_now: i64,
    pub model: String,
    pub commission_bp: Option<i64>,
    pub selection_id: Option<i64>,
    pub note: String,
    pub notice: Option<NoticeView>,
    /// upcoming, active, ended, dismissed or not_renewed (today).
    pub status: String,
    /// The last day the company serves.
    pub last_day: String,
    pub created_at: i64,
    pub version: i64,
}

impl Contract {
    /// The terms as the rules see them (stored dates were checked on the way in).
    pub fn terms(&self) -> Terms {
        Terms {
            starts_on: d(&self.starts_on).unwrap_or(Date::MIN),
            ends_on: d(&self.ends_on).unwrap_or(Date::MIN),
            fee_standard: self.fee_standard,
            model: Model::parse(&self.model).unwrap_or(Model::FixedFee),
            commission_bp: self.commission_bp,
        }
    }

    pub fn rules_notice(&self) -> Option<Notice> {
        let n = self.notice.as_ref()?;
        Some(Notice {
            kind: NoticeKind::parse(&n.kind)?,
            given_on: d(&n.given_on)?,
            effective_on: d(&n.effective_on)?,
        })
    }

    fn settle(&mut self, today: Date, adjustments: &[(Date, i64)]) {
        let t = self.terms();
        let n = self.rules_notice();
        self.status = rules::status_on(&t, n.as_ref(), today).as_str().into();
        self.last_day = rules::fmt_date(rules::last_day(&t, n.as_ref()));
        self.fee_now = rules::fee_on(self.fee_standard, adjustments, today);
    }
}

const CONTRACT_SELECT: &str = "SELECT k.*, o.name AS company_name, n.name AS node_name \
     FROM property_contracts k \
     LEFT JOIN orgs o ON o.subdistrict_id = k.subdistrict_id AND o.id = k.company_id \
     LEFT JOIN nodes n ON n.subdistrict_id = k.subdistrict_id AND n.id = k.node_id \
     WHERE k.subdistrict_id = $1";

fn contract_from(r: &AnyRow) -> Contract {
    let kind: String = r.get("notice_kind");
    Contract {
        id: r.get("id"),
        node_id: r.get("node_id"),
        node_path: r.get("node_path"),
        node_name: text_of(r, "node_name").unwrap_or_default(),
        company_id: r.get("company_id"),
        company_name: text_of(r, "company_name").unwrap_or_default(),
        starts_on: r.get("starts_on"),
        ends_on: r.get("ends_on"),
        fee_standard: r.get("fee_standard"),
        fee_now: r.get("fee_standard"),
        model: r.get("model"),
        commission_bp: opt_i64(r, "commission_bp"),
        selection_id: opt_i64(r, "selection_id"),
        note: r.get("note"),
        notice: (!kind.is_empty()).then(|| NoticeView {
            kind,
            by: r.get("notice_by"),
            given_on: r.get("notice_given_on"),
            effective_on: r.get("notice_effective_on"),
            vote_id: opt_i64(r, "notice_vote_id"),
            note: r.get("notice_note"),
        }),
        status: String::new(),
        last_day: String::new(),
        created_at: r.get("created_at"),
        version: r.get("version"),
    }
}

/// The completed adjustments (effective day, new fee) of each contract of a subtree.
async fn adjustments_under(
    db: &Db,
    sid: i64,
    path: &str,
) -> Result<HashMap<i64, Vec<(Date, i64)>>> {
    let rows = sqlx::query(
        "SELECT contract_id, effective_on, new_fee FROM property_fee_adjustments \
         WHERE subdistrict_id = $1 AND step = 'effective' AND node_path LIKE $2",
    )
    .bind(sid)
    .bind(format!("{path}%"))
    .fetch_all(db.read())
    .await?;
    let mut out: HashMap<i64, Vec<(Date, i64)>> = HashMap::new();
    for r in &rows {
        if let Some(day) = d(&r.get::<String, _>("effective_on")) {
            out.entry(r.get("contract_id"))
                .or_default()
                .push((day, r.get("new_fee")));
        }
    }
    Ok(out)
}

async fn settle_all(db: &Db, sid: i64, path: &str, list: &mut [Contract], now: i64) -> Result<()> {
    let adj = adjustments_under(db, sid, path).await?;
    let today = rules::day_of(now);
    for c in list.iter_mut() {
        c.settle(today, adj.get(&c.id).map_or(&[][..], Vec::as_slice));
    }
    Ok(())
}

/// The contracts of an estate (exactly that node), newest term first.
pub async fn contracts_at(db: &Db, sid: i64, node: &tree::Node, now: i64) -> Result<Vec<Contract>> {
    let rows = sqlx::query(&format!(
        "{CONTRACT_SELECT} AND k.node_id = $2 ORDER BY k.starts_on DESC, k.id DESC"
    ))
    .bind(sid)
    .bind(node.id)
    .fetch_all(db.read())
    .await?;
    let mut list: Vec<Contract> = rows.iter().map(contract_from).collect();
    settle_all(db, sid, &node.path, &mut list, now).await?;
    Ok(list)
}

/// The contracts under a path (every estate of a subtree), or of one company.
pub async fn contracts_under(
    db: &Db,
    sid: i64,
    path: &str,
    company_id: Option<i64>,
    now: i64,
) -> Result<Vec<Contract>> {
    let rows = sqlx::query(&format!(
        "{CONTRACT_SELECT} AND k.node_path LIKE $2 AND ($3 = 0 OR k.company_id = $3) \
         ORDER BY k.node_path, k.starts_on DESC, k.id DESC"
    ))
    .bind(sid)
    .bind(format!("{path}%"))
    .bind(company_id.unwrap_or(0))
    .fetch_all(db.read())
    .await?;
    let mut list: Vec<Contract> = rows.iter().map(contract_from).collect();
    settle_all(db, sid, path, &mut list, now).await?;
    Ok(list)
}

/// One contract (no access check).
pub async fn contract(db: &Db, sid: i64, id: i64, now: i64) -> Result<Contract> {
    let r = sqlx::query(&format!("{CONTRACT_SELECT} AND k.id = $2"))
        .bind(sid)
        .bind(id)
        .fetch_optional(db.read())
        .await?
        .ok_or(Error::NotFound)?;
    let mut c = contract_from(&r);
    settle_all(
        db,
        sid,
        &c.node_path.clone(),
        std::slice::from_mut(&mut c),
        now,
    )
    .await?;
    Ok(c)
}

/// A contract the actor may read (ReadTree at its estate).
pub async fn readable_contract(db: &Db, actor: &Actor, id: i64, now: i64) -> Result<Contract> {
    let c = contract(db, actor.subdistrict_id, id, now).await?;
    may(actor, Action::ReadTree, &c.node_path)?;
    Ok(c)
}

/// The contract in force today at an estate, if any.
pub fn current(list: &[Contract]) -> Option<&Contract> {
    list.iter().find(|c| c.status == "active")
}

/// What a request sends to record a contract.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewContract {
    #[serde(default)]
    pub company_id: Option<i64>,
    #[serde(default)]
    pub starts_on: String,
    #[serde(default)]
    pub ends_on: String,
    /// Fen per m² per month.
    #[serde(default)]
    pub fee_standard: Option<i64>,
    /// `fixed_fee` or `commission`.
    #[serde(default)]
    pub model: String,
    #[serde(default)]
    pub commission_bp: Option<i64>,
    #[serde(default)]
    pub note: String,
}

struct Prepared {
    terms: Terms,
    company: Company,
    note: String,
    seen: Option<i64>,
}

async fn estate_version(db: &Db, sid: i64, node_id: i64) -> Result<Option<i64>> {
    Ok(sqlx::query(
        "SELECT version FROM property_estates WHERE subdistrict_id = $1 AND node_id = $2",
    )
    .bind(sid)
    .bind(node_id)
    .fetch_optional(db.read())
    .await?
    .map(|r| r.get::<i64, _>(0)))
}

/// Moves the estate's version from `seen`: a second writer that read the same version fails.
async fn bump_estate(tx: &mut Tx, sid: i64, node_id: i64, seen: Option<i64>) -> Result<()> {
    let ok = match seen {
        None => match sqlx::query(
            "INSERT INTO property_estates (subdistrict_id, node_id, version) VALUES ($1, $2, 1)",
        )
        .bind(sid)
        .bind(node_id)
        .execute(&mut **tx)
        .await
        {
            Ok(_) => true,
            Err(e) if is_unique_violation(&e) => false,
            Err(e) => return Err(e.into()),
        },
        Some(v) => {
            sqlx::query(
                "UPDATE property_estates SET version = version + 1 \
                 WHERE subdistrict_id = $1 AND node_id = $2 AND version = $3",
            )
            .bind(sid)
            .bind(node_id)
            .bind(v)
            .execute(&mut **tx)
            .await?
            .rows_affected()
                == 1
        }
    };
    if ok {
        Ok(())
    } else {
        Err(stale())
    }
}

async fn company_field(
    db: &Db,
    sid: i64,
    id: Option<i64>,
    errors: &mut Vec<FieldError>,
) -> Result<Option<Company>> {
    let Some(id) = id else {
        errors.push(fe(
            "company_id",
            "请选择物业服务企业",
            "choose the property company",
        ));
        return Ok(None);
    };
    match company(db, sid, id).await {
        Ok(c) => Ok(Some(c)),
        Err(Error::NotFound) => {
            errors.push(fe(
                "company_id",
                "没有这家物业服务企业",
                "no such property company",
            ));
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

fn model_field(s: &str, errors: &mut Vec<FieldError>) -> Option<Model> {
    let m = Model::parse(s);
    if m.is_none() {
        errors.push(fe(
            "model",
            "请选择包干制或酬金制",
            "choose fixed fee or commission",
        ));
    }
    m
}

/// Validates a contract for an estate against the rules and the estate's other contracts.
async fn prepare_contract(
    db: &Db,
    sid: i64,
    node: &tree::Node,
    n: &NewContract,
    now: i64,
) -> Result<Prepared> {
    let mut errors = Vec::new();
    let company = company_field(db, sid, n.company_id, &mut errors).await?;
    let starts = date_field("starts_on", &n.starts_on, &mut errors);
    let ends = date_field("ends_on", &n.ends_on, &mut errors);
    let model = model_field(&n.model, &mut errors);
    check_len("note", &n.note, 2000, false, &mut errors);
    let fee = n.fee_standard.unwrap_or(0);
    let terms = match (starts, ends, model) {
        (Some(starts_on), Some(ends_on), Some(model)) => {
            let t = Terms {
                starts_on,
                ends_on,
                fee_standard: fee,
                model,
                commission_bp: n.commission_bp,
            };
            errors.extend(t.check());
            Some(t)
        }
        _ => {
            if let Some(m) = model {
                errors.extend(rules::check_offer(fee, m, n.commission_bp));
            }
            None
        }
    };
    let seen = estate_version(db, sid, node.id).await?;
    if let Some(t) = &terms {
        for c in contracts_at(db, sid, node, now).await? {
            let ct = c.terms();
            let last = rules::last_day(&ct, c.rules_notice().as_ref());
            if rules::overlaps(t.starts_on, t.ends_on, ct.starts_on, last) {
                errors.push(FieldError::new(
                    "starts_on",
                    Text::owned(
                        format!(
                            "与{}的合同({} 至 {})期限重叠",
                            c.company_name,
                            c.starts_on,
                            rules::fmt_date(last)
                        ),
                        format!(
                            "overlaps the contract of {} ({} to {})",
                            c.company_name,
                            c.starts_on,
                            rules::fmt_date(last)
                        ),
                    ),
                ));
                break;
            }
        }
    }
    match (terms, company, errors.is_empty()) {
        (Some(terms), Some(company), true) => Ok(Prepared {
            terms,
            company,
            note: n.note.trim().to_string(),
            seen,
        }),
        _ => Err(Error::Invalid(errors)),
    }
}

async fn write_contract(
    tx: &mut Tx,
    actor: &Actor,
    node: &tree::Node,
    p: &Prepared,
    selection_id: Option<i64>,
    now: i64,
) -> Result<i64> {
    let sid = actor.subdistrict_id;
    bump_estate(tx, sid, node.id, p.seen).await?;
    let id = next_id();
    let t = &p.terms;
    sqlx::query(
        "INSERT INTO property_contracts (subdistrict_id, id, node_id, node_path, company_id, starts_on, \
         ends_on, fee_standard, model, commission_bp, selection_id, note, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(sid)
    .bind(id)
    .bind(node.id)
    .bind(&node.path)
    .bind(p.company.id)
    .bind(rules::fmt_date(t.starts_on))
    .bind(rules::fmt_date(t.ends_on))
    .bind(t.fee_standard)
    .bind(t.model.as_str())
    .bind(t.commission_bp)
    .bind(selection_id)
    .bind(&p.note)
    .bind((actor.user_id != 0).then_some(actor.user_id))
    .bind(now)
    .execute(&mut **tx)
    .await?;
    let detail = json!({ "company_id": p.company.id, "company": p.company.name,
        "starts_on": rules::fmt_date(t.starts_on), "ends_on": rules::fmt_date(t.ends_on),
        "fee_standard": t.fee_standard, "model": t.model.as_str(), "commission_bp": t.commission_bp,
        "selection_id": selection_id, "node_id": node.id });
    event(
        tx,
        actor,
        "contract",
        id,
        "signed",
        &p.note,
        detail.clone(),
        now,
    )
    .await?;
    audit::record(
        tx,
        actor,
        Change::new("property.contract.create", "property_contract", Some(id))
            .label(&p.company.name)
            .after(detail),
    )
    .await?;
    Ok(id)
}

/// Records a contract at an estate (staff reaching it).
pub async fn create_contract(
    db: &Db,
    actor: &Actor,
    node_id: i64,
    n: NewContract,
    now: i64,
) -> Result<Contract> {
    let sid = actor.subdistrict_id;
    let node = estate(db, actor, node_id, Action::EditRegistry).await?;
    let p = prepare_contract(db, sid, &node, &n, now).await?;
    let mut tx = db.begin().await?;
    let id = write_contract(&mut tx, actor, &node, &p, None, now).await?;
    tx.commit().await?;
    contract(db, sid, id, now).await
}

/// What a request sends to give a notice on a contract.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewNotice {
    /// `dismissal` or `non_renewal`.
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub given_on: String,
    /// Dismissal: the day it takes effect.
    #[serde(default)]
    pub effective_on: String,
    /// Dismissal: the owners' vote (matter 4) that decided it.
    #[serde(default)]
    pub vote_id: Option<i64>,
    /// Non-renewal: who gives it, `company` or `owners`.
    #[serde(default)]
    pub by: String,
    #[serde(default)]
    pub note: String,
}

/// Gives the one notice of a contract: dismissal (with the approving vote, 60 days ahead) or
/// non-renewal (90 days before the term ends).
pub async fn give_notice(
    db: &Db,
    actor: &Actor,
    id: i64,
    n: NewNotice,
    now: i64,
) -> Result<Contract> {
    let sid = actor.subdistrict_id;
    let c = contract(db, sid, id, now).await?;
    may(actor, Action::EditRegistry, &c.node_path)?;
    if c.notice.is_some() {
        return Err(conflict(
            "该合同已有通知",
            "a notice was already given on this contract",
        ));
    }
    if matches!(c.status.as_str(), "ended" | "dismissed" | "not_renewed") {
        return Err(conflict("该合同已终止", "this contract is over"));
    }
    let today = rules::day_of(now);
    let terms = c.terms();
    let mut errors = Vec::new();
    let kind = NoticeKind::parse(&n.kind);
    if kind.is_none() {
        errors.push(fe(
            "kind",
            "请选择解聘或不续聘",
            "choose dismissal or non-renewal",
        ));
    }
    let given = date_field("given_on", &n.given_on, &mut errors);
    check_len("note", &n.note, 2000, false, &mut errors);
    let mut effective = None;
    let mut by = String::new();
    match (kind, given) {
        (Some(NoticeKind::Dismissal), Some(g)) => {
            let e = date_field("effective_on", &n.effective_on, &mut errors);
            if let Some(e) = e {
                errors.extend(rules::check_dismissal(&terms, g, e, today));
                effective = Some(e);
            }
            by = "owners".into();
        }
        (Some(NoticeKind::NonRenewal), Some(g)) => {
            errors.extend(rules::check_non_renewal(&terms, g, today));
            by = match n.by.trim() {
                b @ ("company" | "owners") => b.into(),
                _ => {
                    errors.push(fe(
                        "by",
                        "请选择由物业企业或业主方通知",
                        "choose who gives it: the company or the owners",
                    ));
                    String::new()
                }
            };
        }
        _ => {}
    }
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    let (Some(kind), Some(given)) = (kind, given) else {
        return Err(Error::Invalid(errors));
    };
    let mut vote_id = None;
    if kind == NoticeKind::Dismissal {
        refuse_in_reelection(db, sid, &c.node_path, now).await?;
        let (v, _) = approving_vote(db, sid, n.vote_id, Purpose::Dismissal, &c.node_path).await?;
        vote_id = Some(v.id);
    }
    let notice = rules::notice(kind, &terms, given, effective);
    let mut tx = db.begin().await?;
    let done = sqlx::query(
        "UPDATE property_contracts SET notice_kind = $4, notice_by = $5, notice_given_on = $6, \
         notice_effective_on = $7, notice_vote_id = $8, notice_note = $9, notice_at = $10, \
         version = version + 1 WHERE subdistrict_id = $1 AND id = $2 AND version = $3 AND notice_kind = ''",
    )
    .bind(sid)
    .bind(id)
    .bind(c.version)
    .bind(kind.as_str())
    .bind(&by)
    .bind(rules::fmt_date(notice.given_on))
    .bind(rules::fmt_date(notice.effective_on))
    .bind(vote_id)
    .bind(n.note.trim())
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(stale());
    }
    if let Some(v) = vote_id {
        link_vote(&mut tx, sid, v, "contract", id, kind.as_str(), now).await?;
    }
    let detail = json!({ "kind": kind.as_str(), "by": by, "given_on": rules::fmt_date(notice.given_on),
        "effective_on": rules::fmt_date(notice.effective_on), "vote_id": vote_id });
    event(
        &mut tx,
        actor,
        "contract",
        id,
        kind.as_str(),
        n.note.trim(),
        detail.clone(),
        now,
    )
    .await?;
    audit::record(
        &mut tx,
        actor,
        Change::new("property.contract.notice", "property_contract", Some(id))
            .label(&c.company_name)
            .before(json!({ "status": c.status }))
            .after(detail),
    )
    .await?;
    tx.commit().await?;
    contract(db, sid, id, now).await
}

// ---------------------------------------------------------------------------------------------
// Selections

/// A selection process.
#[derive(Debug, Clone, Serialize)]
pub struct Selection {
    pub id: i64,
    pub node_id: i64,
    pub node_path: String,
    pub node_name: String,
    pub title: String,
    pub plan_summary: String,
    pub step: String,
    pub plan_vote_id: Option<i64>,
    pub invited_on: String,
    pub bids_close_on: String,
    pub selection_vote_id: Option<i64>,
    pub winning_bid_id: Option<i64>,
    pub contract_id: Option<i64>,
    pub cancel_reason: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub completed_at: Option<i64>,
    pub version: i64,
}

impl Selection {
    pub fn step(&self) -> SelectionStep {
        SelectionStep::parse(&self.step).unwrap_or(SelectionStep::Cancelled)
    }
}

/// A bid of a selection.
#[derive(Debug, Clone, Serialize)]
pub struct Bid {
    pub id: i64,
    pub selection_id: i64,
    pub company_id: i64,
    pub company_name: String,
    pub fee_standard: i64,
    pub model: String,
    pub commission_bp: Option<i64>,
    pub plan_summary: String,
    pub received_on: String,
    pub created_at: i64,
}

const SELECTION_SELECT: &str = "SELECT s.*, n.name AS node_name FROM property_selections s \
     LEFT JOIN nodes n ON n.subdistrict_id = s.subdistrict_id AND n.id = s.node_id \
     WHERE s.subdistrict_id = $1";

fn selection_from(r: &AnyRow) -> Selection {
    Selection {
        id: r.get("id"),
        node_id: r.get("node_id"),
        node_path: r.get("node_path"),
        node_name: text_of(r, "node_name").unwrap_or_default(),
        title: r.get("title"),
        plan_summary: r.get("plan_summary"),
        step: r.get("step"),
        plan_vote_id: opt_i64(r, "plan_vote_id"),
        invited_on: r.get("invited_on"),
        bids_close_on: r.get("bids_close_on"),
        selection_vote_id: opt_i64(r, "selection_vote_id"),
        winning_bid_id: opt_i64(r, "winning_bid_id"),
        contract_id: opt_i64(r, "contract_id"),
        cancel_reason: r.get("cancel_reason"),
        created_at: r.get("created_at"),
        updated_at: r.get("updated_at"),
        completed_at: opt_i64(r, "completed_at"),
        version: r.get("version"),
    }
}

/// One selection (no access check).
pub async fn selection(db: &Db, sid: i64, id: i64) -> Result<Selection> {
    let r = sqlx::query(&format!("{SELECTION_SELECT} AND s.id = $2"))
        .bind(sid)
        .bind(id)
        .fetch_optional(db.read())
        .await?
        .ok_or(Error::NotFound)?;
    Ok(selection_from(&r))
}

/// A selection the actor may read.
pub async fn readable_selection(db: &Db, actor: &Actor, id: i64) -> Result<Selection> {
    let s = selection(db, actor.subdistrict_id, id).await?;
    may(actor, Action::ReadTree, &s.node_path)?;
    Ok(s)
}

/// The selections under a path, newest first.
pub async fn selections_under(db: &Db, sid: i64, path: &str) -> Result<Vec<Selection>> {
    let rows = sqlx::query(&format!(
        "{SELECTION_SELECT} AND s.node_path LIKE $2 ORDER BY s.created_at DESC, s.id DESC"
    ))
    .bind(sid)
    .bind(format!("{path}%"))
    .fetch_all(db.read())
    .await?;
    Ok(rows.iter().map(selection_from).collect())
}

/// The bids of a selection, in the order received.
pub async fn bids(db: &Db, sid: i64, selection_id: i64) -> Result<Vec<Bid>> {
    let rows = sqlx::query(
        "SELECT b.*, o.name AS company_name FROM property_bids b \
         LEFT JOIN orgs o ON o.subdistrict_id = b.subdistrict_id AND o.id = b.company_id \
         WHERE b.subdistrict_id = $1 AND b.selection_id = $2 ORDER BY b.received_on, b.created_at, b.id",
    )
    .bind(sid)
    .bind(selection_id)
    .fetch_all(db.read())
    .await?;
    Ok(rows
        .iter()
        .map(|r| Bid {
            id: r.get("id"),
            selection_id: r.get("selection_id"),
            company_id: r.get("company_id"),
            company_name: text_of(r, "company_name").unwrap_or_default(),
            fee_standard: r.get("fee_standard"),
            model: r.get("model"),
            commission_bp: opt_i64(r, "commission_bp"),
            plan_summary: r.get("plan_summary"),
            received_on: r.get("received_on"),
            created_at: r.get("created_at"),
        })
        .collect())
}

/// What a request sends to start a selection.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewSelection {
    #[serde(default)]
    pub title: String,
    /// The selection plan (选聘方案) as drafted: scope, method, criteria.
    #[serde(default)]
    pub plan_summary: String,
}

/// Starts a selection at an estate (staff reaching it): the plan is drafted.
pub async fn create_selection(
    db: &Db,
    actor: &Actor,
    node_id: i64,
    n: NewSelection,
    now: i64,
) -> Result<Selection> {
    let sid = actor.subdistrict_id;
    let node = estate(db, actor, node_id, Action::EditRegistry).await?;
    let mut errors = Vec::new();
    check_len("title", &n.title, 200, true, &mut errors);
    check_len("plan_summary", &n.plan_summary, 5000, true, &mut errors);
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    let id = next_id();
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO property_selections (subdistrict_id, id, node_id, node_path, title, plan_summary, \
         step, created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 'plan_drafted', $7, $8, $8)",
    )
    .bind(sid)
    .bind(id)
    .bind(node.id)
    .bind(&node.path)
    .bind(n.title.trim())
    .bind(n.plan_summary.trim())
    .bind((actor.user_id != 0).then_some(actor.user_id))
    .bind(now)
    .execute(&mut *tx)
    .await?;
    event(
        &mut tx,
        actor,
        "selection",
        id,
        "plan_drafted",
        n.plan_summary.trim(),
        json!({}),
        now,
    )
    .await?;
    audit::record(
        &mut tx,
        actor,
        Change::new("property.selection.create", "property_selection", Some(id))
            .label(n.title.trim())
            .after(json!({ "node_id": node.id, "title": n.title.trim() })),
    )
    .await?;
    tx.commit().await?;
    selection(db, sid, id).await
}

/// What a request sends to record a bid.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewBid {
    #[serde(default)]
    pub company_id: Option<i64>,
    #[serde(default)]
    pub fee_standard: Option<i64>,
    #[serde(default)]
    pub model: String,
    #[serde(default)]
    pub commission_bp: Option<i64>,
    #[serde(default)]
    pub plan_summary: String,
    #[serde(default)]
    pub received_on: String,
}

/// Records a company's bid while bidding is open (one per company).
pub async fn add_bid(db: &Db, actor: &Actor, id: i64, n: NewBid, now: i64) -> Result<Bid> {
    let sid = actor.subdistrict_id;
    let s = selection(db, sid, id).await?;
    may(actor, Action::EditRegistry, &s.node_path)?;
    let mut errors = Vec::new();
    let company = company_field(db, sid, n.company_id, &mut errors).await?;
    let model = model_field(&n.model, &mut errors);
    if let Some(m) = model {
        errors.extend(rules::check_offer(
            n.fee_standard.unwrap_or(0),
            m,
            n.commission_bp,
        ));
    }
    check_len("plan_summary", &n.plan_summary, 5000, false, &mut errors);
    let received = date_field("received_on", &n.received_on, &mut errors);
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    let (Some(company), Some(model), Some(received)) = (company, model, received) else {
        return Err(Error::Invalid(errors));
    };
    let (Some(invited), Some(closes)) = (d(&s.invited_on), d(&s.bids_close_on)) else {
        return Err(conflict(
            "只有招标期间可以登记投标",
            "bids are recorded only while bidding is open",
        ));
    };
    if received > rules::day_of(now) {
        return Err(Error::field(
            "received_on",
            Text::new(
                "收到日期不能晚于今天",
                "a bid cannot be received in the future",
            ),
        ));
    }
    rules::bid_allowed(s.step(), invited, closes, received).map_err(Error::Conflict)?;
    let bid_id = next_id();
    let mut tx = db.begin().await?;
    // The selection must still be taking bids when this commits.
    let held = sqlx::query(
        "UPDATE property_selections SET version = version + 1, updated_at = $4 \
         WHERE subdistrict_id = $1 AND id = $2 AND version = $3 AND step = 'bids_invited'",
    )
    .bind(sid)
    .bind(id)
    .bind(s.version)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if held.rows_affected() == 0 {
        return Err(stale());
    }
    let ins = sqlx::query(
        "INSERT INTO property_bids (subdistrict_id, id, selection_id, company_id, fee_standard, model, \
         commission_bp, plan_summary, received_on, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(sid)
    .bind(bid_id)
    .bind(id)
    .bind(company.id)
    .bind(n.fee_standard.unwrap_or(0))
    .bind(model.as_str())
    .bind(n.commission_bp)
    .bind(n.plan_summary.trim())
    .bind(rules::fmt_date(received))
    .bind((actor.user_id != 0).then_some(actor.user_id))
    .bind(now)
    .execute(&mut *tx)
    .await;
    match ins {
        Ok(_) => {}
        Err(e) if is_unique_violation(&e) => {
            return Err(Error::field(
                "company_id",
                Text::new("该企业已投标", "this company has already bid"),
            ))
        }
        Err(e) => return Err(e.into()),
    }
    let detail = json!({ "bid_id": bid_id, "company_id": company.id, "company": company.name,
        "fee_standard": n.fee_standard, "model": model.as_str(), "commission_bp": n.commission_bp,
        "received_on": rules::fmt_date(received) });
    event(
        &mut tx,
        actor,
        "selection",
        id,
        "bid",
        n.plan_summary.trim(),
        detail.clone(),
        now,
    )
    .await?;
    audit::record(
        &mut tx,
        actor,
        Change::new("property.selection.bid", "property_selection", Some(id))
            .label(&s.title)
            .after(detail),
    )
    .await?;
    tx.commit().await?;
    bids(db, sid, id)
        .await?
        .into_iter()
        .find(|b| b.id == bid_id)
        .ok_or(Error::NotFound)
}

/// What a request sends to move a selection.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SelectionStepIn {
    /// approve_plan, invite_bids, close_bids, select, sign_contract, cancel.
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub vote_id: Option<i64>,
    #[serde(default)]
    pub invited_on: String,
    #[serde(default)]
    pub closes_on: String,
    /// select with a yes / no vote: the bid it approved.
    #[serde(default)]
    pub bid_id: Option<i64>,
    /// sign_contract: the term.
    #[serde(default)]
    pub starts_on: String,
    #[serde(default)]
    pub ends_on: String,
    #[serde(default)]
    pub note: String,
    /// The version the request saw (default: the one loaded now).
    #[serde(default)]
    pub version: Option<i64>,
}

struct Move {
    to: SelectionStep,
    sets: Vec<(&'static str, Value)>,
    link: Option<(i64, &'static str)>,
    detail: Value,
}

fn bind_value<'q>(
    q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    v: &Value,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    match v {
        Value::Number(n) => q.bind(n.as_i64()),
        Value::String(s) => q.bind(s.clone()),
        _ => q.bind(None::<i64>),
    }
}

/// Moves a selection one step; a step the rules refuse is 409 with the reason, a wrong vote or
/// field 422, and a step that needs a vote during a re-election period 409 with that refusal.
pub async fn selection_step(
    db: &Db,
    actor: &Actor,
    id: i64,
    st: SelectionStepIn,
    now: i64,
) -> Result<Selection> {
    let sid = actor.subdistrict_id;
    let s = selection(db, sid, id).await?;
    may(actor, Action::EditRegistry, &s.node_path)?;
    let version = st.version.unwrap_or(s.version);
    let today = rules::day_of(now);
    let step = s.step();
    let note = st.note.trim().to_string();
    if note.chars().count() > 2000 {
        return Err(Error::field(
            "note",
            Text::new("备注不超过 2000 字", "the note is at most 2000 characters"),
        ));
    }
    let mut contract_job: Option<(tree::Node, Prepared)> = None;
    let m = match st.action.trim() {
        "approve_plan" => {
            selection_next(step, SelectionAction::ApprovePlan)?;
            refuse_in_reelection(db, sid, &s.node_path, now).await?;
            let (v, _) =
                approving_vote(db, sid, st.vote_id, Purpose::SelectionPlan, &s.node_path).await?;
            Move {
                to: SelectionStep::PlanApproved,
                sets: vec![("plan_vote_id", json!(v.id))],
                link: Some((v.id, "selection_plan")),
                detail: json!({ "vote_id": v.id, "vote": v.title }),
            }
        }
        "invite_bids" => {
            let mut errors = Vec::new();
            let a = date_field("invited_on", &st.invited_on, &mut errors);
            let b = date_field("closes_on", &st.closes_on, &mut errors);
            let (Some(invited_on), Some(closes_on)) = (a, b) else {
                return Err(Error::Invalid(errors));
            };
            let to = selection_next(
                step,
                SelectionAction::InviteBids {
                    invited_on,
                    closes_on,
                    today,
                },
            )?;
            let (i, c) = (rules::fmt_date(invited_on), rules::fmt_date(closes_on));
            Move {
                to,
                sets: vec![("invited_on", json!(i)), ("bids_close_on", json!(c))],
                link: None,
                detail: json!({ "invited_on": i, "closes_on": c }),
            }
        }
        "close_bids" => {
            let n = bids(db, sid, id).await?.len();
            let closes_on = d(&s.bids_close_on).unwrap_or(Date::MAX);
            let to = selection_next(
                step,
                SelectionAction::CloseBids {
                    bids: n,
                    closes_on,
                    today,
                },
            )?;
            Move {
                to,
                sets: vec![],
                link: None,
                detail: json!({ "bids": n }),
            }
        }
        "select" => {
            selection_next(step, SelectionAction::Select)?;
            refuse_in_reelection(db, sid, &s.node_path, now).await?;
            let (v, winner) =
                approving_vote(db, sid, st.vote_id, Purpose::Selection, &s.node_path).await?;
            let all = bids(db, sid, id).await?;
            let bid = match winner {
                Some(n) => {
                    let label = v.label(n);
                    let pairs: Vec<(i64, String)> =
                        all.iter().map(|b| (b.id, b.company_name.clone())).collect();
                    let Some(b) = rules::bid_for_label(&label, &pairs) else {
                        return Err(Error::field(
                            "vote_id",
                            Text::owned(
                                format!("表决选定的「{label}」不是本次选聘的投标企业"),
                                format!(
                                    "the chosen option “{label}” names no bid of this selection"
                                ),
                            ),
                        ));
                    };
                    b
                }
                None => match st.bid_id.filter(|b| all.iter().any(|x| x.id == *b)) {
                    Some(b) => b,
                    None => {
                        return Err(Error::field(
                            "bid_id",
                            Text::new("请选择表决通过的投标", "choose the bid the vote approved"),
                        ))
                    }
                },
            };
            let company = all
                .iter()
                .find(|b| b.id == bid)
                .map(|b| b.company_name.clone());
            Move {
                to: SelectionStep::Selected,
                sets: vec![
                    ("selection_vote_id", json!(v.id)),
                    ("winning_bid_id", json!(bid)),
                ],
                link: Some((v.id, "selection")),
                detail: json!({ "vote_id": v.id, "vote": v.title, "bid_id": bid, "company": company }),
            }
        }
        "sign_contract" => {
            let to = selection_next(step, SelectionAction::SignContract)?;
            let bid = bids(db, sid, id)
                .await?
                .into_iter()
                .find(|b| Some(b.id) == s.winning_bid_id)
                .ok_or(Error::NotFound)?;
            let node = tree::node(db, sid, s.node_id).await?;
            let nc = NewContract {
                company_id: Some(bid.company_id),
                starts_on: st.starts_on.clone(),
                ends_on: st.ends_on.clone(),
                fee_standard: Some(bid.fee_standard),
                model: bid.model.clone(),
                commission_bp: bid.commission_bp,
                note: note.clone(),
            };
            let p = prepare_contract(db, sid, &node, &nc, now).await?;
            contract_job = Some((node, p));
            Move {
                to,
                sets: vec![("completed_at", json!(now))],
                link: None,
                detail: json!({ "company": bid.company_name, "starts_on": st.starts_on, "ends_on": st.ends_on }),
            }
        }
        "cancel" => {
            let to = selection_next(step, SelectionAction::Cancel)?;
            if note.is_empty() {
                return Err(Error::field(
                    "note",
                    Text::new("请说明终止原因", "give the reason for cancelling"),
                ));
            }
            Move {
                to,
                sets: vec![("cancel_reason", json!(note))],
                link: None,
                detail: json!({}),
            }
        }
        _ => {
            return Err(Error::field(
                "action",
                Text::new("没有这个步骤", "no such step"),
            ));
        }
    };
    let mut tx = db.begin().await?;
    let mut sets = m.sets;
    if let Some((node, p)) = &contract_job {
        let cid = write_contract(&mut tx, actor, node, p, Some(id), now).await?;
        sets.push(("contract_id", json!(cid)));
    }
    let mut sql = String::from(
        "UPDATE property_selections SET step = $4, updated_at = $5, version = version + 1",
    );
    for (i, (col, _)) in sets.iter().enumerate() {
        sql.push_str(&format!(", {col} = ${}", i + 6));
    }
    sql.push_str(" WHERE subdistrict_id = $1 AND id = $2 AND version = $3");
    let mut q = sqlx::query(&sql)
        .bind(sid)
        .bind(id)
        .bind(version)
        .bind(m.to.as_str())
        .bind(now);
    for (_, v) in &sets {
        q = bind_value(q, v);
    }
    if q.execute(&mut *tx).await?.rows_affected() == 0 {
        return Err(stale());
    }
    if let Some((vote, purpose)) = m.link {
        link_vote(&mut tx, sid, vote, "selection", id, purpose, now).await?;
    }
    event(
        &mut tx,
        actor,
        "selection",
        id,
        m.to.as_str(),
        &note,
        m.detail.clone(),
        now,
    )
    .await?;
    audit::record(
        &mut tx,
        actor,
        Change::new("property.selection.step", "property_selection", Some(id))
            .label(&s.title)
            .before(json!({ "step": s.step }))
            .after(json!({ "step": m.to.as_str(), "detail": m.detail })),
    )
    .await?;
    tx.commit().await?;
    selection(db, sid, id).await
}

fn selection_next(step: SelectionStep, a: SelectionAction) -> Result<SelectionStep> {
    rules::selection_next(step, a).map_err(Error::Conflict)
}

// ---------------------------------------------------------------------------------------------
// Fee adjustments

/// A fee adjustment process.
#[derive(Debug, Clone, Serialize)]
pub struct FeeAdjustment {
    pub id: i64,
    pub node_id: i64,
    pub node_path: String,
    pub node_name: String,
    pub contract_id: i64,
    pub company_name: String,
    pub old_fee: i64,
    pub new_fee: i64,
    pub reason: String,
    pub step: String,
    pub report_kind: String,
    pub report_ref: String,
    pub report_file: Option<ReportFile>,
    pub published_on: String,
    pub publicity_days: Option<i64>,
    /// The last day of the report's publicity.
    pub publicity_last_day: String,
    pub vote_id: Option<i64>,
    pub effective_on: String,
    pub cancel_reason: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub completed_at: Option<i64>,
    pub version: i64,
}

/// An uploaded report's description.
#[derive(Debug, Clone, Serialize)]
pub struct ReportFile {
    pub sha256: String,
    pub content_type: String,
    pub size: i64,
}

impl FeeAdjustment {
    pub fn step(&self) -> FeeStep {
        FeeStep::parse(&self.step).unwrap_or(FeeStep::Cancelled)
    }
}

const FEE_SELECT: &str = "SELECT f.*, n.name AS node_name, o.name AS company_name, \
     r.sha256 AS file_sha, r.content_type AS file_type, r.size AS file_size \
     FROM property_fee_adjustments f \
     LEFT JOIN nodes n ON n.subdistrict_id = f.subdistrict_id AND n.id = f.node_id \
     LEFT JOIN property_contracts k ON k.subdistrict_id = f.subdistrict_id AND k.id = f.contract_id \
     LEFT JOIN orgs o ON o.subdistrict_id = k.subdistrict_id AND o.id = k.company_id \
     LEFT JOIN property_fee_reports r ON r.subdistrict_id = f.subdistrict_id AND r.adjustment_id = f.id \
     WHERE f.subdistrict_id = $1";

fn fee_from(r: &AnyRow) -> FeeAdjustment {
    let published_on: String = r.get("published_on");
    let days = opt_i64(r, "publicity_days");
    let last = match (d(&published_on), days) {
        (Some(p), Some(n)) => rules::fmt_date(rules::publicity_last_day(p, n)),
        _ => String::new(),
    };
    FeeAdjustment {
        id: r.get("id"),
        node_id: r.get("node_id"),
        node_path: r.get("node_path"),
        node_name: text_of(r, "node_name").unwrap_or_default(),
        contract_id: r.get("contract_id"),
        company_name: text_of(r, "company_name").unwrap_or_default(),
        old_fee: r.get("old_fee"),
        new_fee: r.get("new_fee"),
        reason: r.get("reason"),
        step: r.get("step"),
        report_kind: r.get("report_kind"),
        report_ref: r.get("report_ref"),
        report_file: text_of(r, "file_sha").map(|sha256| ReportFile {
            sha256,
            content_type: text_of(r, "file_type").unwrap_or_default(),
            size: opt_i64(r, "file_size").unwrap_or(0),
        }),
        published_on,
        publicity_days: days,
        publicity_last_day: last,
        vote_id: opt_i64(r, "vote_id"),
        effective_on: r.get("effective_on"),
        cancel_reason: r.get("cancel_reason"),
        created_at: r.get("created_at"),
        updated_at: r.get("updated_at"),
        completed_at: opt_i64(r, "completed_at"),
        version: r.get("version"),
    }
}

/// One fee adjustment (no access check).
pub async fn fee(db: &Db, sid: i64, id: i64) -> Result<FeeAdjustment> {
    let r = sqlx::query(&format!("{FEE_SELECT} AND f.id = $2"))
        .bind(sid)
        .bind(id)
        .fetch_optional(db.read())
        .await?
        .ok_or(Error::NotFound)?;
    Ok(fee_from(&r))
}

/// A fee adjustment the actor may read.
pub async fn readable_fee(db: &Db, actor: &Actor, id: i64) -> Result<FeeAdjustment> {
    let f = fee(db, actor.subdistrict_id, id).await?;
    may(actor, Action::ReadTree, &f.node_path)?;
    Ok(f)
}

/// The fee adjustments under a path, newest first.
pub async fn fees_under(db: &Db, sid: i64, path: &str) -> Result<Vec<FeeAdjustment>> {
    let rows = sqlx::query(&format!(
        "{FEE_SELECT} AND f.node_path LIKE $2 ORDER BY f.created_at DESC, f.id DESC"
    ))
    .bind(sid)
    .bind(format!("{path}%"))
    .fetch_all(db.read())
    .await?;
    Ok(rows.iter().map(fee_from).collect())
}

/// What a request sends to start a fee adjustment.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewFee {
    /// The proposed fee standard, fen per m² per month.
    #[serde(default)]
    pub new_fee: Option<i64>,
    #[serde(default)]
    pub reason: String,
}

/// Starts a fee adjustment of the contract in force at an estate (one at a time).
pub async fn create_fee(
    db: &Db,
    actor: &Actor,
    node_id: i64,
    n: NewFee,
    now: i64,
) -> Result<FeeAdjustment> {
    let sid = actor.subdistrict_id;
    let node = estate(db, actor, node_id, Action::EditRegistry).await?;
    let list = contracts_at(db, sid, &node, now).await?;
    let Some(c) = current(&list) else {
        return Err(conflict(
            "本小区当前没有履行中的物业服务合同",
            "no contract is in force at this estate",
        ));
    };
    if fees_under(db, sid, &node.path)
        .await?
        .iter()
        .any(|f| f.node_id == node.id && !f.step().done())
    {
        return Err(conflict(
            "本小区已有进行中的调价流程",
            "a fee adjustment is already under way here",
        ));
    }
    let mut errors = Vec::new();
    let new_fee = n.new_fee.unwrap_or(0);
    rules::check_fee("new_fee", new_fee, &mut errors);
    if new_fee == c.fee_now {
        errors.push(fe(
            "new_fee",
            "新标准与现行标准相同",
            "the new fee equals the current one",
        ));
    }
    check_len("reason", &n.reason, 2000, true, &mut errors);
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    let seen = estate_version(db, sid, node.id).await?;
    let id = next_id();
    let mut tx = db.begin().await?;
    bump_estate(&mut tx, sid, node.id, seen).await?;
    sqlx::query(
        "INSERT INTO property_fee_adjustments (subdistrict_id, id, node_id, node_path, contract_id, old_fee, \
         new_fee, reason, step, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'drafted', $9, $10, $10)",
    )
    .bind(sid)
    .bind(id)
    .bind(node.id)
    .bind(&node.path)
    .bind(c.id)
    .bind(c.fee_now)
    .bind(new_fee)
    .bind(n.reason.trim())
    .bind((actor.user_id != 0).then_some(actor.user_id))
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let detail = json!({ "contract_id": c.id, "old_fee": c.fee_now, "new_fee": new_fee });
    event(
        &mut tx,
        actor,
        "fee",
        id,
        "drafted",
        n.reason.trim(),
        detail.clone(),
        now,
    )
    .await?;
    audit::record(
        &mut tx,
        actor,
        Change::new("property.fee.create", "property_fee_adjustment", Some(id))
            .label(&node.name)
            .after(detail),
    )
    .await?;
    tx.commit().await?;
    fee(db, sid, id).await
}

/// What a request sends to move a fee adjustment.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct FeeStepIn {
    /// publish_report, record_vote, take_effect, cancel.
    #[serde(default)]
    pub action: String,
    /// publish_report: `audited_cost_report` or `third_party_assessment`.
    #[serde(default)]
    pub report_kind: String,
    /// publish_report: where the report is (a document number, a link), if no file is sent.
    #[serde(default)]
    pub report_ref: String,
    /// publish_report (API): the report file, base64.
    #[serde(default)]
    pub report_base64: Option<String>,
    #[serde(default)]
    pub published_on: String,
    #[serde(default)]
    pub publicity_days: Option<i64>,
    #[serde(default)]
    pub vote_id: Option<i64>,
    #[serde(default)]
    pub effective_on: String,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub version: Option<i64>,
}

/// Moves a fee adjustment one step (see [`selection_step`] for the answers).
pub async fn fee_step(
    db: &Db,
    actor: &Actor,
    id: i64,
    st: FeeStepIn,
    file: Option<Vec<u8>>,
    now: i64,
) -> Result<FeeAdjustment> {
    let sid = actor.subdistrict_id;
    let f = fee(db, sid, id).await?;
    may(actor, Action::EditRegistry, &f.node_path)?;
    let version = st.version.unwrap_or(f.version);
    let today = rules::day_of(now);
    let step = f.step();
    let note = st.note.trim().to_string();
    if note.chars().count() > 2000 {
        return Err(Error::field(
            "note",
            Text::new("备注不超过 2000 字", "the note is at most 2000 characters"),
        ));
    }
    let mut upload: Option<(Vec<u8>, &'static str)> = None;
    let (to, sets, link, detail): (FeeStep, Vec<(&'static str, Value)>, Option<i64>, Value) =
        match st.action.trim() {
            "publish_report" => {
                let mut errors = Vec::new();
                let kind = ReportKind::parse(&st.report_kind);
                if kind.is_none() {
                    errors.push(fe(
                        "report_kind",
                        "请选择成本报告或第三方评估",
                        "choose an audited cost report or a third-party assessment",
                    ));
                }
                check_len("report_ref", &st.report_ref, 500, false, &mut errors);
                let published = date_field("published_on", &st.published_on, &mut errors);
                let days = st.publicity_days.unwrap_or(rules::DEFAULT_PUBLICITY_DAYS);
                let bytes = match (file, st.report_base64.as_deref()) {
                    (Some(b), _) => Some(b),
                    (None, Some(s)) if !s.trim().is_empty() => {
                        use base64::Engine;
                        match base64::engine::general_purpose::STANDARD.decode(s.trim()) {
                            Ok(b) => Some(b),
                            Err(_) => {
                                errors.push(fe(
                                    "report_base64",
                                    "文件不是有效的 base64",
                                    "the file is not valid base64",
                                ));
                                None
                            }
                        }
                    }
                    _ => None,
                };
                if let Some(b) = bytes {
                    match rules::sniff_report(&b) {
                        Ok(t) => upload = Some((b, t)),
                        Err(t) => errors.push(FieldError::new("report_file", t)),
                    }
                }
                if upload.is_none() && st.report_ref.trim().is_empty() && errors.is_empty() {
                    errors.push(fe(
                        "report_ref",
                        "请上传报告文件或填写报告文号/链接",
                        "upload the report or give its reference",
                    ));
                }
                if !errors.is_empty() {
                    return Err(Error::Invalid(errors));
                }
                let (Some(kind), Some(published_on)) = (kind, published) else {
                    return Err(Error::Invalid(errors));
                };
                let to = rules::fee_next(
                    step,
                    FeeAction::PublishReport {
                        published_on,
                        days,
                        today,
                    },
                )
                .map_err(Error::Conflict)?;
                let p = rules::fmt_date(published_on);
                let last = rules::fmt_date(rules::publicity_last_day(published_on, days));
                (
                    to,
                    vec![
                        ("report_kind", json!(kind.as_str())),
                        ("report_ref", json!(st.report_ref.trim())),
                        ("published_on", json!(p)),
                        ("publicity_days", json!(days)),
                    ],
                    None,
                    json!({ "report_kind": kind.as_str(), "report_ref": st.report_ref.trim(),
                        "published_on": p, "publicity_days": days, "publicity_last_day": last,
                        "file": upload.as_ref().map(|(b, t)| json!({ "type": t, "size": b.len() })) }),
                )
            }
            "record_vote" => {
                if step != FeeStep::ReportPublished {
                    rules::fee_next(
                        step,
                        FeeAction::RecordVote {
                            vote_opened_on: None,
                            publicity_last_day: today,
                        },
                    )
                    .map_err(Error::Conflict)?;
                }
                refuse_in_reelection(db, sid, &f.node_path, now).await?;
                let (v, _) =
                    approving_vote(db, sid, st.vote_id, Purpose::FeeChange, &f.node_path).await?;
                let last = match (d(&f.published_on), f.publicity_days) {
                    (Some(p), Some(n)) => rules::publicity_last_day(p, n),
                    _ => Date::MAX,
                };
                let to = rules::fee_next(
                    step,
                    FeeAction::RecordVote {
                        vote_opened_on: v.opened_at.map(rules::day_of),
                        publicity_last_day: last,
                    },
                )
                .map_err(Error::Conflict)?;
                (
                    to,
                    vec![("vote_id", json!(v.id))],
                    Some(v.id),
                    json!({ "vote_id": v.id, "vote": v.title }),
                )
            }
            "take_effect" => {
                let mut errors = Vec::new();
                let Some(effective_on) = date_field("effective_on", &st.effective_on, &mut errors)
                else {
                    return Err(Error::Invalid(errors));
                };
                let published = match f.vote_id {
                    Some(v) => votes::vote(db, sid, v)
                        .await?
                        .published_at
                        .map(rules::day_of),
                    None => None,
                };
                let to = rules::fee_next(
                    step,
                    FeeAction::TakeEffect {
                        effective_on,
                        vote_published_on: published,
                    },
                )
                .map_err(Error::Conflict)?;
                let e = rules::fmt_date(effective_on);
                (
                    to,
                    vec![("effective_on", json!(e)), ("completed_at", json!(now))],
                    None,
                    json!({ "effective_on": e, "new_fee": f.new_fee }),
                )
            }
            "cancel" => {
                let to = rules::fee_next(step, FeeAction::Cancel).map_err(Error::Conflict)?;
                if note.is_empty() {
                    return Err(Error::field(
                        "note",
                        Text::new("请说明终止原因", "give the reason for cancelling"),
                    ));
                }
                (to, vec![("cancel_reason", json!(note))], None, json!({}))
            }
            _ => {
                return Err(Error::field(
                    "action",
                    Text::new("没有这个步骤", "no such step"),
                ))
            }
        };
    let mut tx = db.begin().await?;
    let mut sql = String::from(
        "UPDATE property_fee_adjustments SET step = $4, updated_at = $5, version = version + 1",
    );
    for (i, (col, _)) in sets.iter().enumerate() {
        sql.push_str(&format!(", {col} = ${}", i + 6));
    }
    sql.push_str(" WHERE subdistrict_id = $1 AND id = $2 AND version = $3");
    let mut q = sqlx::query(&sql)
        .bind(sid)
        .bind(id)
        .bind(version)
        .bind(to.as_str())
        .bind(now);
    for (_, v) in &sets {
        q = bind_value(q, v);
    }
    if q.execute(&mut *tx).await?.rows_affected() == 0 {
        return Err(stale());
    }
    if let Some((bytes, ty)) = &upload {
        use sha2::Digest;
        let sha = hex::encode(sha2::Sha256::digest(bytes));
        sqlx::query(
            "INSERT INTO property_fee_reports (subdistrict_id, adjustment_id, sha256, content_type, size, data, \
             uploaded_by, uploaded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(sid)
        .bind(id)
        .bind(sha)
        .bind(*ty)
        .bind(bytes.len() as i64)
        .bind(bytes.clone())
        .bind((actor.user_id != 0).then_some(actor.user_id))
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    if let Some(v) = link {
        link_vote(&mut tx, sid, v, "fee", id, "fee_change", now).await?;
    }
    event(
        &mut tx,
        actor,
        "fee",
        id,
        to.as_str(),
        &note,
        detail.clone(),
        now,
    )
    .await?;
    audit::record(
        &mut tx,
        actor,
        Change::new("property.fee.step", "property_fee_adjustment", Some(id))
            .label(&f.node_name)
            .before(json!({ "step": f.step }))
            .after(json!({ "step": to.as_str(), "detail": detail })),
    )
    .await?;
    tx.commit().await?;
    fee(db, sid, id).await
}

/// The uploaded report of a fee adjustment the actor may read.
pub async fn report_file(db: &Db, actor: &Actor, id: i64) -> Result<(String, Vec<u8>)> {
    let f = readable_fee(db, actor, id).await?;
    let r = sqlx::query(
        "SELECT content_type, data FROM property_fee_reports WHERE subdistrict_id = $1 AND adjustment_id = $2",
    )
    .bind(actor.subdistrict_id)
    .bind(f.id)
    .fetch_optional(db.read())
    .await?
    .ok_or(Error::NotFound)?;
    Ok((r.get("content_type"), r.get("data")))
}

// ---------------------------------------------------------------------------------------------
// Estates and the dashboard

/// An estate with its contract in force.
#[derive(Debug, Clone, Serialize)]
pub struct EstateRow {
    pub node_id: i64,
    pub name: String,
    pub kind: String,
    pub path: String,
    pub depth: i64,
    pub current: Option<Contract>,
    pub open_selections: i64,
    pub open_fee_adjustments: i64,
}

/// The estates the actor reads that have contracts or processes, and (`all`) every estate
/// the actor writes, in tree order.
pub async fn estates(db: &Db, actor: &Actor, now: i64) -> Result<Vec<EstateRow>> {
    let sid = actor.subdistrict_id;
    let root = format!("/{sid}/");
    let contracts = contracts_under(db, sid, &root, None, now).await?;
    let sels = selections_under(db, sid, &root).await?;
    let fees = fees_under(db, sid, &root).await?;
    let rows = sqlx::query(
        "SELECT id, name, kind, path, depth FROM nodes WHERE subdistrict_id = $1 \
         AND kind IN ('community', 'grid') ORDER BY path",
    )
    .bind(sid)
    .fetch_all(db.read())
    .await?;
    let mut out = Vec::new();
    for r in &rows {
        let id: i64 = r.get("id");
        let path: String = r.get("path");
        if !allows(actor, Action::ReadTree, Target::Node { path: &path }) {
            continue;
        }
        let current = contracts
            .iter()
            .find(|c| c.node_id == id && c.status == "active")
            .cloned();
        let has_any = contracts.iter().any(|c| c.node_id == id)
            || sels.iter().any(|s| s.node_id == id)
            || fees.iter().any(|f| f.node_id == id);
        if !has_any && !allows(actor, Action::EditRegistry, Target::Node { path: &path }) {
            continue;
        }
        out.push(EstateRow {
            node_id: id,
            name: r.get("name"),
            kind: r.get("kind"),
            path,
            depth: r.get("depth"),
            current,
            open_selections: sels
                .iter()
                .filter(|s| s.node_id == id && !s.step().done())
                .count() as i64,
            open_fee_adjustments: fees
                .iter()
                .filter(|f| f.node_id == id && !f.step().done())
                .count() as i64,
        });
    }
    Ok(out)
}

/// What the subdistrict dashboard counts of property governance in a period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct GovernanceCounts {
    /// Fee adjustments whose new fee was set in force (step `effective`) in the period.
    pub fee_adjustments: i64,
    /// Selections that ended with a signed contract in the period.
    pub selections: i64,
}

/// Fee adjustments and company selections completed in `[from_ms, to_ms)` (by the time the
/// last step was recorded), for the subdistrict dashboard. No access check.
pub async fn governance_counts(
    db: &Db,
    sid: i64,
    from_ms: i64,
    to_ms: i64,
) -> Result<GovernanceCounts> {
    let count = |sql: &'static str| async move {
        let r = sqlx::query(sql)
            .bind(sid)
            .bind(from_ms)
            .bind(to_ms)
            .fetch_one(db.read())
            .await?;
        Ok::<i64, Error>(r.get::<i64, _>(0))
    };
    Ok(GovernanceCounts {
        fee_adjustments: count(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM property_fee_adjustments WHERE subdistrict_id = $1 \
             AND step = 'effective' AND completed_at >= $2 AND completed_at < $3",
        )
        .await?,
        selections: count(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM property_selections WHERE subdistrict_id = $1 \
             AND step = 'contract_signed' AND completed_at >= $2 AND completed_at < $3",
        )
        .await?,
    })
}

/// The monthly fee of a room under the contract in force at its estate.
#[derive(Debug, Clone, Serialize)]
pub struct RoomFee {
    pub room_id: i64,
    pub area: Option<i64>,
    pub contract_id: Option<i64>,
    pub fee_standard: Option<i64>,
    pub monthly_fee: Option<i64>,
}

/// A room's monthly fee today: its area that counts × the fee standard in force at the
/// nearest estate above it, rounded half up to the fen. Readers of the room only.
pub async fn room_fee(db: &Db, actor: &Actor, room_id: i64, now: i64) -> Result<RoomFee> {
    let sid = actor.subdistrict_id;
    let room = tree::room(db, sid, room_id).await?;
    let node = tree::node(db, sid, room.node_id).await?;
    if !allows(
        actor,
        Action::ReadTree,
        Target::Room {
            room_id,
            path: &node.path,
        },
    ) {
        return Err(Error::Forbidden);
    }
    let area = room.effective_area();
    let ancestors = tree::ancestors(db, sid, &node.path).await?;
    let mut found = None;
    for a in ancestors.iter().rev().filter(|a| is_estate(a.kind)) {
        let list = contracts_at(db, sid, a, now).await?;
        if let Some(c) = current(&list) {
            found = Some(c.clone());
            break;
        }
    }
    Ok(RoomFee {
        room_id,
        area,
        contract_id: found.as_ref().map(|c| c.id),
        fee_standard: found.as_ref().map(|c| c.fee_now),
        monthly_fee: match (area, found.as_ref()) {
            (Some(a), Some(c)) => Some(rules::monthly_fee(a, c.fee_now)),
            _ => None,
        },
    })
}
