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

mod contracts;
mod fees;
mod selections;

pub use contracts::*;
pub use fees::*;
pub use selections::*;

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
