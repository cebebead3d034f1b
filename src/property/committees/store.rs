//! Committee storage (migration 16): committees per estate node with their terms, members,
//! activity records and re-election processes with their steps. Every write asks who the
//! actor is first, validates, and is one transaction with its audit entry; the pages and the
//! API both call these. `now` comes in as a parameter (the handlers pass `clock::now_ms()`).
//!
//! A re-election drives the votes' `reelection_periods` (migration 14): starting one inserts
//! its period (open-ended: `ends_on` '' and `ends_at` the largest instant), and recording the
//! filing ends it, so company-selection and fee votes are refused exactly while it runs.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::Row;
use time::Date;

use super::rules::{self, ActivityKind, Alert, EndReason, Facts, Office, Step, Trigger, SIZE_RULE};
use crate::access::{allows, Action, Actor, Role, Target};
use crate::audit::{self, Change};
use crate::clock::parse_local_date;
use crate::error::{Error, FieldError, Result};
use crate::i18n::Text;
use crate::storage::{is_unique_violation, next_id, opt_i64, Db, Tx};
use crate::tree::{store as tree, NodeKind};
use crate::votes::desk::store as votes;
use crate::votes::model::Matter;
use crate::votes::tally::{Counts, Form, Outcome};

const DAY_MS: i64 = 86_400_000;

/// A committee with its current term.
#[derive(Debug, Clone, Serialize)]
pub struct Committee {
    pub id: i64,
    pub org_id: i64,
    pub node_id: i64,
    pub node_path: String,
    pub node_name: String,
    pub name: String,
    pub running_reelection_id: Option<i64>,
    pub created_at: i64,
    pub term: Term,
}

/// One term (届).
#[derive(Debug, Clone, Serialize)]
pub struct Term {
    pub id: i64,
    pub number: i64,
    pub seats: i64,
    pub term_years: i64,
    pub starts_on: String,
    pub ends_on: String,
    pub alert_on: String,
    pub ended_on: Option<String>,
    pub reelection_id: Option<i64>,
}

/// A member of a term.
#[derive(Debug, Clone, Serialize)]
pub struct Member {
    pub id: i64,
    pub term_id: i64,
    pub person_id: Option<i64>,
    pub name: String,
    pub office: String,
    pub starts_on: String,
    pub ends_on: Option<String>,
    pub end_reason: Option<String>,
    pub end_note: String,
}

/// A recorded activity.
#[derive(Debug, Clone, Serialize)]
pub struct Activity {
    pub id: i64,
    pub kind: String,
    pub held_on: String,
    pub title: String,
    pub note: String,
    pub recorded_at: i64,
}

/// A step of a re-election as the timeline shows it.
#[derive(Debug, Clone, Serialize)]
pub struct StepRow {
    pub step: Step,
    pub due_on: Option<String>,
    pub done_on: Option<String>,
    pub note: String,
    pub done_by: Option<i64>,
    pub late: bool,
    pub overdue: bool,
}

/// A re-election process.
#[derive(Debug, Clone, Serialize)]
pub struct Reelection {
    pub id: i64,
    pub committee_id: i64,
    pub trigger: String,
    pub note: String,
    pub term_years: i64,
    pub status: String,
    pub started_on: String,
    pub period_id: i64,
    pub vote_id: Option<i64>,
    pub elected: Vec<String>,
    pub seats: Option<i64>,
    pub new_term_id: Option<i64>,
    pub completed_on: Option<String>,
    pub cancel_reason: String,
    pub created_at: i64,
    pub steps: Vec<StepRow>,
    /// The next step to record while it runs.
    pub next_step: Option<Step>,
}

/// What the actor is for one committee.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Standing {
    /// Staff reaching the estate: they write.
    pub staff: bool,
    /// Observers reaching the estate (`ReadTree`).
    pub observer: bool,
    /// A member of this committee (its grant names the committee, or a sitting member).
    pub member: bool,
}

impl Standing {
    pub fn reads(&self) -> bool {
        rules::may_read(self.staff, self.observer, self.member)
    }
}

/// A committee with what the alerts need.
#[derive(Debug, Clone, Serialize)]
pub struct Overview {
    pub committee: Committee,
    pub estate_area: i64,
    pub filled: i64,
    pub last_activity: String,
    pub alerts: Vec<Alert>,
    pub reelection: Option<Reelection>,
}

fn text(r: &AnyRow, c: &str) -> Option<String> {
    r.try_get::<Option<String>, _>(c).ok().flatten()
}

fn field(f: &str, zh: &'static str, en: &'static str) -> FieldError {
    FieldError::new(f, Text::new(zh, en))
}

/// The Shanghai date of an instant.
pub fn today(now: i64) -> Date {
    rules::parse_date(&votes::local_date(now)).unwrap_or(Date::MIN)
}

fn date_of(s: &str) -> Date {
    rules::parse_date(s).unwrap_or(Date::MIN)
}

/// A typed date: blank is `default`; a bad one is a field error.
fn date_field(s: &str, name: &str, default: Date, errors: &mut Vec<FieldError>) -> Date {
    if s.trim().is_empty() {
        return default;
    }
    match rules::parse_date(s) {
        Some(d) => d,
        None => {
            errors.push(field(name, "日期格式为 YYYY-MM-DD", "a date is YYYY-MM-DD"));
            default
        }
    }
}

fn user(actor: &Actor) -> Option<i64> {
    (actor.user_id != 0).then_some(actor.user_id)
}

const COMMITTEE_SELECT: &str =
    "SELECT c.id, c.org_id, c.node_id, c.node_path, c.name, c.running_reelection_id, c.created_at, \
     n.name AS node_name, t.id AS term_id, t.number, t.seats, t.term_years, t.starts_on, t.ends_on, \
     t.ended_on, t.reelection_id \
     FROM owners_committees c \
     LEFT JOIN nodes n ON n.subdistrict_id = c.subdistrict_id AND n.id = c.node_id \
     JOIN committee_terms t ON t.subdistrict_id = c.subdistrict_id AND t.committee_id = c.id \
     AND t.number = (SELECT MAX(t2.number) FROM committee_terms t2 \
        WHERE t2.subdistrict_id = c.subdistrict_id AND t2.committee_id = c.id) \
     WHERE c.subdistrict_id = $1";

fn committee_from(r: &AnyRow) -> Committee {
    let ends_on: String = r.get("ends_on");
    Committee {
        id: r.get("id"),
        org_id: r.get("org_id"),
        node_id: r.get("node_id"),
        node_path: r.get("node_path"),
        node_name: text(r, "node_name").unwrap_or_default(),
        name: r.get("name"),
        running_reelection_id: opt_i64(r, "running_reelection_id"),
        created_at: r.get("created_at"),
        term: Term {
            id: r.get("term_id"),
            number: r.get("number"),
            seats: r.get("seats"),
            term_years: r.get("term_years"),
            starts_on: r.get("starts_on"),
            alert_on: rules::format_date(rules::alert_on(date_of(&ends_on))),
            ends_on,
            ended_on: text(r, "ended_on"),
            reelection_id: opt_i64(r, "reelection_id"),
        },
    }
}

/// One committee with its current term (no access check: see [`readable`]).
pub async fn committee(db: &Db, sid: i64, id: i64) -> Result<Committee> {
    let r = sqlx::query(&format!("{COMMITTEE_SELECT} AND c.id = $2"))
        .bind(sid)
        .bind(id)
        .fetch_optional(db.read())
        .await?
        .ok_or(Error::NotFound)?;
    Ok(committee_from(&r))
}

/// The committees the actor's person sits on now.
async fn sitting_on(db: &Db, actor: &Actor) -> Result<Vec<i64>> {
    let Some(pid) = actor.person_id else {
        return Ok(Vec::new());
    };
    Ok(sqlx::query(
        "SELECT committee_id FROM committee_members WHERE subdistrict_id = $1 AND person_id = $2 \
         AND ends_on IS NULL",
    )
    .bind(actor.subdistrict_id)
    .bind(pid)
    .fetch_all(db.read())
    .await?
    .iter()
    .map(|r| r.get::<i64, _>(0))
    .collect())
}

fn standing_with(actor: &Actor, c: &Committee, sitting: &[i64]) -> Standing {
    let place = Target::Node { path: &c.node_path };
    let by_grant = actor
        .grants
        .iter()
        .any(|g| g.role == Role::OwnersCommitteeMember && g.org_id == Some(c.org_id));
    Standing {
        staff: allows(actor, Action::EditRegistry, place),
        observer: allows(actor, Action::ReadTree, place),
        member: by_grant || sitting.contains(&c.id),
    }
}

/// What the actor is for a committee.
pub async fn standing(db: &Db, actor: &Actor, c: &Committee) -> Result<Standing> {
    Ok(standing_with(actor, c, &sitting_on(db, actor).await?))
}

/// Loads a committee the actor may read: 404 when it does not exist, 403 when out of reach.
pub async fn readable(db: &Db, actor: &Actor, id: i64) -> Result<(Committee, Standing)> {
    let c = committee(db, actor.subdistrict_id, id).await?;
    let s = standing(db, actor, &c).await?;
    if !s.reads() {
        return Err(Error::Forbidden);
    }
    Ok((c, s))
}

async fn writable(db: &Db, actor: &Actor, id: i64) -> Result<Committee> {
    let (c, s) = readable(db, actor, id).await?;
    if !s.staff {
        return Err(Error::Forbidden);
    }
    Ok(c)
}

/// The area that counts (hundredths of m²) of the rooms under a path.
pub async fn estate_area(db: &Db, sid: i64, path: &str) -> Result<i64> {
    Ok(votes::rooms_in_scope(db, sid, path)
        .await?
        .iter()
        .filter_map(|r| {
            crate::tree::area::effective(r.registered_area, r.surveyed_area, r.contract_area)
        })
        .sum())
}

/// The members of a committee, sitting first (chair, vice chairs, members), then those who
/// left, latest first; `all` false gives the sitting ones only.
pub async fn members(db: &Db, sid: i64, committee_id: i64, all: bool) -> Result<Vec<Member>> {
    let rows = sqlx::query(
        "SELECT id, term_id, person_id, name, office, starts_on, ends_on, end_reason, end_note \
         FROM committee_members WHERE subdistrict_id = $1 AND committee_id = $2 \
         AND ($3 = 1 OR ends_on IS NULL) ORDER BY created_at, id",
    )
    .bind(sid)
    .bind(committee_id)
    .bind(i64::from(all))
    .fetch_all(db.read())
    .await?;
    let mut out: Vec<Member> = rows
        .iter()
        .map(|r| Member {
            id: r.get("id"),
            term_id: r.get("term_id"),
            person_id: opt_i64(r, "person_id"),
            name: r.get("name"),
            office: r.get("office"),
            starts_on: r.get("starts_on"),
            ends_on: text(r, "ends_on"),
            end_reason: text(r, "end_reason"),
            end_note: r.get("end_note"),
        })
        .collect();
    let rank = |m: &Member| {
        let office = match Office::parse(&m.office) {
            Some(Office::Chair) => 0,
            Some(Office::ViceChair) => 1,
            _ => 2,
        };
        (m.ends_on.is_some(), office)
    };
    out.sort_by(|a, b| {
        rank(a)
            .cmp(&rank(b))
            .then_with(|| b.ends_on.cmp(&a.ends_on))
    });
    Ok(out)
}

/// The recorded activities, latest first.
pub async fn activities(db: &Db, sid: i64, committee_id: i64) -> Result<Vec<Activity>> {
    let rows = sqlx::query(
        "SELECT id, kind, held_on, title, note, recorded_at FROM committee_activities \
         WHERE subdistrict_id = $1 AND committee_id = $2 ORDER BY held_on DESC, id DESC",
    )
    .bind(sid)
    .bind(committee_id)
    .fetch_all(db.read())
    .await?;
    Ok(rows
        .iter()
        .map(|r| Activity {
            id: r.get("id"),
            kind: r.get("kind"),
            held_on: r.get("held_on"),
            title: r.get("title"),
            note: r.get("note"),
            recorded_at: r.get("recorded_at"),
        })
        .collect())
}

/// The last activity day: the latest recorded, else the current term's start.
async fn last_activity(db: &Db, sid: i64, c: &Committee) -> Result<Date> {
    let r = sqlx::query(
        "SELECT MAX(held_on) FROM committee_activities WHERE subdistrict_id = $1 AND committee_id = $2",
    )
    .bind(sid)
    .bind(c.id)
    .fetch_one(db.read())
    .await?;
    let latest = r.try_get::<Option<String>, _>(0).ok().flatten();
    let start = date_of(&c.term.starts_on);
    Ok(latest.map_or(start, |s| date_of(&s).max(start)))
}

const REELECTION_COLS: &str =
    "id, committee_id, trigger_kind, note, term_years, status, started_on, period_id, vote_id, \
     elected, seats, new_term_id, completed_on, cancel_reason, created_at";

async fn steps_done(db: &Db, sid: i64, rid: i64) -> Result<Vec<(Step, Date, String, Option<i64>)>> {
    let rows = sqlx::query(
        "SELECT step, done_on, note, done_by FROM reelection_steps WHERE subdistrict_id = $1 AND reelection_id = $2",
    )
    .bind(sid)
    .bind(rid)
    .fetch_all(db.read())
    .await?;
    Ok(rows
        .iter()
        .filter_map(|r| {
            let step = Step::parse(&r.get::<String, _>("step"))?;
            Some((
                step,
                date_of(&r.get::<String, _>("done_on")),
                r.get("note"),
                opt_i64(r, "done_by"),
            ))
        })
        .collect())
}

async fn reelection_from(db: &Db, sid: i64, r: &AnyRow, today: Date) -> Result<Reelection> {
    let id: i64 = r.get("id");
    let started_on: String = r.get("started_on");
    let status: String = r.get("status");
    let done = steps_done(db, sid, id).await?;
    let pairs: Vec<(Step, Date)> = done.iter().map(|(s, d, _, _)| (*s, *d)).collect();
    let steps = rules::timeline(date_of(&started_on), &pairs, today)
        .into_iter()
        .map(|v| {
            let rec = done.iter().find(|(s, ..)| *s == v.step);
            StepRow {
                step: v.step,
                due_on: v.due_on.map(rules::format_date),
                done_on: v.done_on.map(rules::format_date),
                note: rec.map(|x| x.2.clone()).unwrap_or_default(),
                done_by: rec.and_then(|x| x.3),
                late: v.late,
                // Only a running process can still be late to do something.
                overdue: v.overdue && status == "running",
            }
        })
        .collect();
    let elected: String = r.get("elected");
    Ok(Reelection {
        id,
        committee_id: r.get("committee_id"),
        trigger: r.get("trigger_kind"),
        note: r.get("note"),
        term_years: r.get("term_years"),
        next_step: if status == "running" {
            rules::next_step(&pairs)
        } else {
            None
        },
        status,
        started_on,
        period_id: r.get("period_id"),
        vote_id: opt_i64(r, "vote_id"),
        elected: serde_json::from_str(&elected).unwrap_or_default(),
        seats: opt_i64(r, "seats"),
        new_term_id: opt_i64(r, "new_term_id"),
        completed_on: text(r, "completed_on"),
        cancel_reason: r.get("cancel_reason"),
        created_at: r.get("created_at"),
        steps,
    })
}

/// One re-election (no access check).
pub async fn reelection(db: &Db, sid: i64, id: i64, today: Date) -> Result<Reelection> {
    let r = sqlx::query(&format!(
        "SELECT {REELECTION_COLS} FROM committee_reelections WHERE subdistrict_id = $1 AND id = $2"
    ))
    .bind(sid)
    .bind(id)
    .fetch_optional(db.read())
    .await?
    .ok_or(Error::NotFound)?;
    reelection_from(db, sid, &r, today).await
}

/// A committee's re-elections, latest first.
pub async fn reelections(
    db: &Db,
    sid: i64,
    committee_id: i64,
    today: Date,
) -> Result<Vec<Reelection>> {
    let rows = sqlx::query(&format!(
        "SELECT {REELECTION_COLS} FROM committee_reelections WHERE subdistrict_id = $1 \
         AND committee_id = $2 ORDER BY created_at DESC, id DESC"
    ))
    .bind(sid)
    .bind(committee_id)
    .fetch_all(db.read())
    .await?;
    let mut out = Vec::new();
    for r in &rows {
        out.push(reelection_from(db, sid, r, today).await?);
    }
    Ok(out)
}

/// A committee with its alerts today.
pub async fn overview(db: &Db, sid: i64, c: Committee, today: Date) -> Result<Overview> {
    let estate_area = estate_area(db, sid, &c.node_path).await?;
    let filled = members(db, sid, c.id, false).await?.len() as i64;
    let last = last_activity(db, sid, &c).await?;
    let running = match c.running_reelection_id {
        Some(rid) => Some(reelection(db, sid, rid, today).await?),
        None => None,
    };
    let facts = Facts {
        seats: c.term.seats,
        filled,
        estate_area,
        term_ends_on: date_of(&c.term.ends_on),
        last_activity: last,
        running: running.as_ref().map(|r| {
            r.steps
                .iter()
                .map(|s| rules::StepView {
                    step: s.step,
                    due_on: s.due_on.as_deref().and_then(rules::parse_date),
                    done_on: s.done_on.as_deref().and_then(rules::parse_date),
                    late: s.late,
                    overdue: s.overdue,
                })
                .collect()
        }),
    };
    Ok(Overview {
        alerts: rules::alerts(&facts, &SIZE_RULE, today),
        committee: c,
        estate_area,
        filled,
        last_activity: rules::format_date(last),
        reelection: running,
    })
}

/// The committees the actor may read, with their alerts, in tree order.
pub async fn list(db: &Db, actor: &Actor, now: i64) -> Result<Vec<Overview>> {
    let sid = actor.subdistrict_id;
    let rows = sqlx::query(&format!("{COMMITTEE_SELECT} ORDER BY c.node_path, c.id"))
        .bind(sid)
        .fetch_all(db.read())
        .await?;
    let sitting = sitting_on(db, actor).await?;
    let day = today(now);
    let mut out = Vec::new();
    for r in &rows {
        let c = committee_from(r);
        if standing_with(actor, &c, &sitting).reads() {
            out.push(overview(db, sid, c, day).await?);
        }
    }
    Ok(out)
}

/// The places where the actor may set up a committee (communities, grids, buildings their
/// staff roles reach), in tree order.
pub async fn places(db: &Db, actor: &Actor) -> Result<Vec<(i64, String, String, i64)>> {
    let rows = sqlx::query(
        "SELECT id, kind, name, path, depth FROM nodes WHERE subdistrict_id = $1 \
         AND kind IN ('community', 'grid', 'building') ORDER BY path",
    )
    .bind(actor.subdistrict_id)
    .fetch_all(db.read())
    .await?;
    Ok(rows
        .iter()
        .filter(|r| {
            let path: String = r.get("path");
            allows(actor, Action::EditRegistry, Target::Node { path: &path })
        })
        .take(2000)
        .map(|r| (r.get("id"), r.get("kind"), r.get("name"), r.get("depth")))
        .collect())
}

/// Whether the actor may set up a committee anywhere.
pub fn runs_any(actor: &Actor) -> bool {
    actor.grants.iter().any(|g| {
        !g.path.is_empty() && allows(actor, Action::EditRegistry, Target::Node { path: &g.path })
    })
}

/// A new committee and its current term, as typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewCommittee {
    #[serde(default)]
    pub node_id: Option<i64>,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub seats: Option<i64>,
    #[serde(default)]
    pub term_years: Option<i64>,
    /// The current term's first day, `YYYY-MM-DD`.
    #[serde(default)]
    pub starts_on: String,
}

/// Sets up a committee for an estate node with its current term (the number of the term is
/// 1; earlier terms are not recorded). Also creates its `orgs` row.
pub async fn create(db: &Db, actor: &Actor, n: NewCommittee, now: i64) -> Result<Committee> {
    let sid = actor.subdistrict_id;
    let mut errors = Vec::new();
    let name = n.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 100 {
        errors.push(field(
            "name",
            "请填写名称(不超过 100 字)",
            "a name of up to 100 characters is needed",
        ));
    }
    let node = match n.node_id {
        Some(id) => match tree::node(db, sid, id).await {
            Ok(node)
                if matches!(
                    node.kind,
                    NodeKind::Community | NodeKind::Grid | NodeKind::Building
                ) =>
            {
                Some(node)
            }
            Ok(_) | Err(Error::NotFound) => None,
            Err(e) => return Err(e),
        },
        None => None,
    };
    if node.is_none() {
        errors.push(field(
            "node_id",
            "请选择小区(居民区、网格或楼栋)",
            "choose the estate (a community, grid or building)",
        ));
    }
    if let Some(node) = &node {
        if !allows(
            actor,
            Action::EditRegistry,
            Target::Node { path: &node.path },
        ) {
            return Err(Error::Forbidden);
        }
    }
    let years = n.term_years.unwrap_or(0);
    if let Err(t) = rules::check_term_years(years) {
        errors.push(FieldError::new("term_years", t));
    }
    let starts = match rules::parse_date(&n.starts_on) {
        Some(d) => Some(d),
        None => {
            errors.push(field(
                "starts_on",
                "日期格式为 YYYY-MM-DD",
                "a date is YYYY-MM-DD",
            ));
            None
        }
    };
    let seats = n.seats.unwrap_or(0);
    if let Some(node) = &node {
        let area = estate_area(db, sid, &node.path).await?;
        if let Err(t) = SIZE_RULE.check(seats, area) {
            errors.push(FieldError::new("seats", t));
        }
    }
    let (Some(node), Some(starts), true) = (node, starts, errors.is_empty()) else {
        return Err(Error::Invalid(errors));
    };
    let ends = rules::term_end(starts, years);
    let id = next_id();
    let term_id = next_id();
    let mut tx = db.begin().await?;
    let org = match tree::create_org(&mut tx, sid, "owners_committee", &name, Some(node.id)).await {
        Ok(o) => o,
        Err(Error::Internal(e))
            if e.downcast_ref::<sqlx::Error>()
                .is_some_and(is_unique_violation) =>
        {
            return Err(Error::field(
                "name",
                Text::new(
                    "已有同名的业委会",
                    "an owners' committee of this name exists",
                ),
            ));
        }
        Err(e) => return Err(e),
    };
    let ins = sqlx::query(
        "INSERT INTO owners_committees (subdistrict_id, id, org_id, node_id, node_path, name, \
         running_reelection_id, version, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, NULL, 0, $7, $8)",
    )
    .bind(sid)
    .bind(id)
    .bind(org.id)
    .bind(node.id)
    .bind(&node.path)
    .bind(&name)
    .bind(user(actor))
    .bind(now)
    .execute(&mut *tx)
    .await;
    match ins {
        Ok(_) => {}
        Err(e) if is_unique_violation(&e) => {
            return Err(Error::field(
                "node_id",
                Text::new(
                    "这个小区已有业委会",
                    "this estate already has an owners' committee",
                ),
            ))
        }
        Err(e) => return Err(e.into()),
    }
    insert_term(
        &mut tx, sid, id, term_id, 1, seats, years, starts, None, actor, now,
    )
    .await?;
    audit::record(
        &mut tx,
        actor,
        Change::new("committee.create", "owners_committee", Some(id))
            .label(&name)
            .after(
                json!({ "node_id": node.id, "org_id": org.id, "seats": seats, "term_years": years,
                "starts_on": rules::format_date(starts), "ends_on": rules::format_date(ends) }),
            ),
    )
    .await?;
    tx.commit().await?;
    committee(db, sid, id).await
}

#[allow(clippy::too_many_arguments)]
async fn insert_term(
    tx: &mut Tx,
    sid: i64,
    committee_id: i64,
    term_id: i64,
    number: i64,
    seats: i64,
    years: i64,
    starts: Date,
    reelection_id: Option<i64>,
    actor: &Actor,
    now: i64,
) -> Result<()> {
    let r = sqlx::query(
        "INSERT INTO committee_terms (subdistrict_id, id, committee_id, number, seats, term_years, \
         starts_on, ends_on, ended_on, reelection_id, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, $9, $10, $11)",
    )
    .bind(sid)
    .bind(term_id)
    .bind(committee_id)
    .bind(number)
    .bind(seats)
    .bind(years)
    .bind(rules::format_date(starts))
    .bind(rules::format_date(rules::term_end(starts, years)))
    .bind(reelection_id)
    .bind(user(actor))
    .bind(now)
    .execute(&mut **tx)
    .await;
    match r {
        Ok(_) => Ok(()),
        Err(e) if is_unique_violation(&e) => Err(changed_meanwhile()),
        Err(e) => Err(e.into()),
    }
}

fn changed_meanwhile() -> Error {
    Error::Conflict(Text::new(
        "业委会刚被他人修改,请刷新后重试",
        "the committee was changed meanwhile; reload and try again",
    ))
}

/// Locks the committee row for a membership change (bumps its version).
async fn lock(tx: &mut Tx, sid: i64, id: i64) -> Result<()> {
    let done = sqlx::query(
        "UPDATE owners_committees SET version = version + 1 WHERE subdistrict_id = $1 AND id = $2",
    )
    .bind(sid)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(Error::NotFound);
    }
    Ok(())
}

async fn sitting_in_tx(tx: &mut Tx, sid: i64, id: i64) -> Result<i64> {
    Ok(sqlx::query(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM committee_members WHERE subdistrict_id = $1 \
         AND committee_id = $2 AND ends_on IS NULL",
    )
    .bind(sid)
    .bind(id)
    .fetch_one(&mut **tx)
    .await?
    .get::<i64, _>(0))
}

fn chair_taken() -> Error {
    Error::field(
        "office",
        Text::new(
            "已有在任主任,请先变更原主任的职务",
            "there is a sitting chair; change their office first",
        ),
    )
}

/// A member as typed: a registry person (`person_id`) or a name.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewMember {
    #[serde(default)]
    pub person_id: Option<i64>,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub office: String,
    /// Blank: the current term's start, or today if later.
    #[serde(default)]
    pub starts_on: String,
}

/// Adds a member to the current term, within its seats; one chair at a time.
pub async fn add_member(db: &Db, actor: &Actor, id: i64, n: NewMember, now: i64) -> Result<Member> {
    let sid = actor.subdistrict_id;
    let c = writable(db, actor, id).await?;
    let mut errors = Vec::new();
    let office = Office::parse(if n.office.trim().is_empty() {
        "member"
    } else {
        &n.office
    });
    if office.is_none() {
        errors.push(field("office", "请选择职务", "choose the office"));
    }
    let mut name = n.name.trim().to_string();
    if let Some(pid) = n.person_id {
        match crate::people::store::person(db, sid, pid).await {
            Ok(p) if name.is_empty() => name = p.name,
            Ok(_) => {}
            Err(Error::NotFound) => errors.push(field("person_id", "没有这个人", "no such person")),
            Err(e) => return Err(e),
        }
    }
    if name.is_empty() || name.chars().count() > 50 {
        errors.push(field(
            "name",
            "请填写姓名(不超过 50 字)",
            "a name of up to 50 characters is needed",
        ));
    }
    let term_start = date_of(&c.term.starts_on);
    // The latest a member may start: today, or the term's first day if that is later.
    let latest = today(now).max(term_start);
    let starts = date_field(&n.starts_on, "starts_on", latest, &mut errors);
    if starts < term_start || starts > latest {
        errors.push(field(
            "starts_on",
            "日期应在本届任期开始之后、不晚于今天",
            "the date is within the current term and not after today",
        ));
    }
    let Some(office) = office.filter(|_| errors.is_empty()) else {
        return Err(Error::Invalid(errors));
    };
    let mid = next_id();
    let mut tx = db.begin().await?;
    lock(&mut tx, sid, id).await?;
    let filled = sitting_in_tx(&mut tx, sid, id).await?;
    if filled >= c.term.seats {
        return Err(Error::Conflict(Text::owned(
            format!("本届 {} 个席位已满", c.term.seats),
            format!("all {} seats of the term are filled", c.term.seats),
        )));
    }
    let r = sqlx::query(
        "INSERT INTO committee_members (subdistrict_id, id, committee_id, term_id, person_id, name, office, \
         chair_key, starts_on, ends_on, end_reason, end_note, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, NULL, '', $10, $11)",
    )
    .bind(sid)
    .bind(mid)
    .bind(id)
    .bind(c.term.id)
    .bind(n.person_id)
    .bind(&name)
    .bind(office.as_str())
    .bind((office == Office::Chair).then_some(id))
    .bind(rules::format_date(starts))
    .bind(user(actor))
    .bind(now)
    .execute(&mut *tx)
    .await;
    match r {
        Ok(_) => {}
        Err(e) if is_unique_violation(&e) => return Err(chair_taken()),
        Err(e) => return Err(e.into()),
    }
    audit::record(
        &mut tx,
        actor,
        Change::new("committee.member_add", "owners_committee", Some(id))
            .label(&c.name)
            .after(
                json!({ "member_id": mid, "person_id": n.person_id, "name": name,
                "office": office.as_str(), "starts_on": rules::format_date(starts) }),
            ),
    )
    .await?;
    tx.commit().await?;
    members(db, sid, id, true)
        .await?
        .into_iter()
        .find(|m| m.id == mid)
        .ok_or(Error::NotFound)
}

async fn member_of(db: &Db, sid: i64, id: i64, member_id: i64) -> Result<Member> {
    members(db, sid, id, true)
        .await?
        .into_iter()
        .find(|m| m.id == member_id)
        .ok_or(Error::NotFound)
}

/// How a member leaves, as typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct EndMember {
    #[serde(default)]
    pub reason: String,
    /// Blank: today.
    #[serde(default)]
    pub ends_on: String,
    #[serde(default)]
    pub note: String,
}

/// Records that a sitting member left (resigned, removed, died, …).
pub async fn end_member(
    db: &Db,
    actor: &Actor,
    id: i64,
    member_id: i64,
    n: EndMember,
    now: i64,
) -> Result<Member> {
    let sid = actor.subdistrict_id;
    let c = writable(db, actor, id).await?;
    let m = member_of(db, sid, id, member_id).await?;
    let mut errors = Vec::new();
    let reason = EndReason::parse(&n.reason);
    if reason.is_none() {
        errors.push(field(
            "reason",
            "请选择离任原因",
            "choose why the member left",
        ));
    }
    let day = today(now);
    let ends = date_field(&n.ends_on, "ends_on", day, &mut errors);
    if ends > day || ends < date_of(&m.starts_on) {
        errors.push(field(
            "ends_on",
            "离任日期应在任职之后、不晚于今天",
            "the date is after the member started and not after today",
        ));
    }
    if reason == Some(EndReason::Other) && n.note.trim().is_empty() {
        errors.push(field("note", "请说明原因", "give the reason"));
    }
    let Some(reason) = reason.filter(|_| errors.is_empty()) else {
        return Err(Error::Invalid(errors));
    };
    let note: String = n.note.trim().chars().take(500).collect();
    let mut tx = db.begin().await?;
    lock(&mut tx, sid, id).await?;
    let done = sqlx::query(
        "UPDATE committee_members SET ends_on = $4, end_reason = $5, end_note = $6, chair_key = NULL, \
         ended_by = $7, ended_at = $8 WHERE subdistrict_id = $1 AND committee_id = $2 AND id = $3 AND ends_on IS NULL",
    )
    .bind(sid)
    .bind(id)
    .bind(member_id)
    .bind(rules::format_date(ends))
    .bind(reason.as_str())
    .bind(&note)
    .bind(user(actor))
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(Error::Conflict(Text::new(
            "该成员已离任",
            "this member has already left",
        )));
    }
    audit::record(
        &mut tx,
        actor,
        Change::new("committee.member_end", "owners_committee", Some(id))
            .label(&c.name)
            .before(json!({ "member_id": member_id, "name": m.name, "office": m.office }))
            .after(json!({ "ends_on": rules::format_date(ends), "reason": reason.as_str(), "note": note })),
    )
    .await?;
    tx.commit().await?;
    member_of(db, sid, id, member_id).await
}

/// Changes a sitting member's office (the committee elects its chair and vice chairs).
pub async fn set_office(
    db: &Db,
    actor: &Actor,
    id: i64,
    member_id: i64,
    office: &str,
) -> Result<Member> {
    let sid = actor.subdistrict_id;
    let c = writable(db, actor, id).await?;
    let m = member_of(db, sid, id, member_id).await?;
    let Some(office) = Office::parse(office) else {
        return Err(Error::field(
            "office",
            Text::new("请选择职务", "choose the office"),
        ));
    };
    let mut tx = db.begin().await?;
    lock(&mut tx, sid, id).await?;
    let r = sqlx::query(
        "UPDATE committee_members SET office = $4, chair_key = $5 \
         WHERE subdistrict_id = $1 AND committee_id = $2 AND id = $3 AND ends_on IS NULL",
    )
    .bind(sid)
    .bind(id)
    .bind(member_id)
    .bind(office.as_str())
    .bind((office == Office::Chair).then_some(id))
    .execute(&mut *tx)
    .await;
    match r {
        Ok(d) if d.rows_affected() == 0 => {
            return Err(Error::Conflict(Text::new(
                "该成员已离任",
                "this member has already left",
            )))
        }
        Ok(_) => {}
        Err(e) if is_unique_violation(&e) => return Err(chair_taken()),
        Err(e) => return Err(e.into()),
    }
    audit::record(
        &mut tx,
        actor,
        Change::new("committee.member_office", "owners_committee", Some(id))
            .label(&c.name)
            .before(json!({ "member_id": member_id, "office": m.office }))
            .after(json!({ "office": office.as_str() })),
    )
    .await?;
    tx.commit().await?;
    member_of(db, sid, id, member_id).await
}

/// An activity as typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewActivity {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub held_on: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub note: String,
}

/// Records a meeting held or a decision taken (what the inactivity trigger looks at).
pub async fn add_activity(
    db: &Db,
    actor: &Actor,
    id: i64,
    n: NewActivity,
    now: i64,
) -> Result<Activity> {
    let sid = actor.subdistrict_id;
    let c = writable(db, actor, id).await?;
    let mut errors = Vec::new();
    let kind = ActivityKind::parse(&n.kind);
    if kind.is_none() {
        errors.push(field("kind", "请选择类型", "choose the kind"));
    }
    let day = today(now);
    let held = date_field(&n.held_on, "held_on", day, &mut errors);
    if held > day {
        errors.push(field(
            "held_on",
            "日期不能晚于今天",
            "the date cannot be after today",
        ));
    }
    let title = n.title.trim().to_string();
    if title.is_empty() || title.chars().count() > 200 {
        errors.push(field(
            "title",
            "请填写事由(不超过 200 字)",
            "a title of up to 200 characters is needed",
        ));
    }
    let Some(kind) = kind.filter(|_| errors.is_empty()) else {
        return Err(Error::Invalid(errors));
    };
    let aid = next_id();
    let note: String = n.note.trim().chars().take(2000).collect();
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO committee_activities (subdistrict_id, id, committee_id, kind, held_on, title, note, \
         recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(sid)
    .bind(aid)
    .bind(id)
    .bind(kind.as_str())
    .bind(rules::format_date(held))
    .bind(&title)
    .bind(&note)
    .bind(user(actor))
    .bind(now)
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        actor,
        Change::new("committee.activity", "owners_committee", Some(id))
            .label(&c.name)
            .after(json!({ "activity_id": aid, "kind": kind.as_str(), "held_on": rules::format_date(held), "title": title })),
    )
    .await?;
    tx.commit().await?;
    Ok(Activity {
        id: aid,
        kind: kind.as_str().into(),
        held_on: rules::format_date(held),
        title,
        note,
        recorded_at: now,
    })
}

/// A re-election start, as typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewReelection {
    #[serde(default)]
    pub trigger: String,
    /// Blank: today.
    #[serde(default)]
    pub started_on: String,
    /// The new term's length; blank: the current term's.
    #[serde(default)]
    pub term_years: Option<i64>,
    #[serde(default)]
    pub note: String,
}

/// Starts a re-election (an early trigger must hold) and opens its re-election period on the
/// estate, which refuses company-selection and fee votes until the filing is recorded.
pub async fn start_reelection(
    db: &Db,
    actor: &Actor,
    id: i64,
    n: NewReelection,
    now: i64,
) -> Result<Reelection> {
    let sid = actor.subdistrict_id;
    let c = writable(db, actor, id).await?;
    if c.running_reelection_id.is_some() {
        return Err(already_running());
    }
    let mut errors = Vec::new();
    let trigger = Trigger::parse(&n.trigger);
    let day = today(now);
    let started = date_field(&n.started_on, "started_on", day, &mut errors);
    if started > day || started < date_of(&c.term.starts_on) {
        errors.push(field(
            "started_on",
            "开始日期应在本届任期内、不晚于今天",
            "the start is within the current term and not after today",
        ));
    }
    let years = n.term_years.unwrap_or(c.term.term_years);
    if let Err(t) = rules::check_term_years(years) {
        errors.push(FieldError::new("term_years", t));
    }
    match trigger {
        None => errors.push(field(
            "trigger",
            "请选择换届原因",
            "choose why the re-election starts",
        )),
        Some(t) => {
            let filled = members(db, sid, id, false).await?.len() as i64;
            let last = last_activity(db, sid, &c).await?;
            if let Err(msg) = rules::check_trigger(t, c.term.seats, filled, last, day, &n.note) {
                errors.push(FieldError::new("trigger", msg));
            }
        }
    }
    let Some(trigger) = trigger.filter(|_| errors.is_empty()) else {
        return Err(Error::Invalid(errors));
    };
    let note: String = n.note.trim().chars().take(500).collect();
    let rid = next_id();
    let period_id = next_id();
    let started_s = rules::format_date(started);
    let starts_at = parse_local_date(&started_s).unwrap_or(now);
    let mut tx = db.begin().await?;
    let claimed = sqlx::query(
        "UPDATE owners_committees SET running_reelection_id = $3, version = version + 1 \
         WHERE subdistrict_id = $1 AND id = $2 AND running_reelection_id IS NULL",
    )
    .bind(sid)
    .bind(id)
    .bind(rid)
    .execute(&mut *tx)
    .await?;
    if claimed.rows_affected() == 0 {
        return Err(already_running());
    }
    sqlx::query(
        "INSERT INTO committee_reelections (subdistrict_id, id, committee_id, trigger_kind, note, term_years, \
         status, started_on, period_id, vote_id, elected, seats, new_term_id, completed_on, created_by, \
         created_at, completed_at) VALUES ($1, $2, $3, $4, $5, $6, 'running', $7, $8, NULL, '[]', NULL, NULL, \
         NULL, $9, $10, NULL)",
    )
    .bind(sid)
    .bind(rid)
    .bind(id)
    .bind(trigger.as_str())
    .bind(&note)
    .bind(years)
    .bind(&started_s)
    .bind(period_id)
    .bind(user(actor))
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let period_note = format!("{} · {}", c.name, trigger.label().zh);
    sqlx::query(
        "INSERT INTO reelection_periods (subdistrict_id, id, node_id, node_path, starts_on, ends_on, \
         starts_at, ends_at, note, created_by, created_at, committee_id, reelection_id) \
         VALUES ($1, $2, $3, $4, $5, '', $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(sid)
    .bind(period_id)
    .bind(c.node_id)
    .bind(&c.node_path)
    .bind(&started_s)
    .bind(starts_at)
    .bind(i64::MAX)
    .bind(&period_note)
    .bind(user(actor))
    .bind(now)
    .bind(id)
    .bind(rid)
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        actor,
        Change::new("committee.reelection_start", "owners_committee", Some(id))
            .label(&c.name)
            .after(
                json!({ "reelection_id": rid, "trigger": trigger.as_str(), "started_on": started_s,
                "term_years": years, "period_id": period_id, "note": note }),
            ),
    )
    .await?;
    tx.commit().await?;
    reelection(db, sid, rid, day).await
}

fn already_running() -> Error {
    Error::Conflict(Text::new(
        "该业委会正在换届",
        "a re-election of this committee is already running",
    ))
}

/// A step as typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewStep {
    #[serde(default)]
    pub step: String,
    /// Blank: today (the election's day is the vote's closing day).
    #[serde(default)]
    pub done_on: String,
    #[serde(default)]
    pub note: String,
    /// The election vote (step `election`).
    #[serde(default)]
    pub vote_id: Option<i64>,
    /// The elected names, when the vote approved a slate (a yes/no vote).
    #[serde(default)]
    pub elected: Vec<String>,
}

/// What the election vote gave: its day, the elected names and the seats.
struct Elected {
    on: Date,
    names: Vec<String>,
    seats: i64,
}

async fn check_election(
    db: &Db,
    sid: i64,
    c: &Committee,
    n: &NewStep,
    area: i64,
) -> Result<Elected> {
    let Some(vid) = n.vote_id else {
        return Err(Error::field(
            "vote_id",
            Text::new("请填写选举表决的编号", "give the election vote's id"),
        ));
    };
    let v = match votes::vote(db, sid, vid).await {
        Ok(v) => v,
        Err(Error::NotFound) => {
            return Err(Error::field(
                "vote_id",
                Text::new("没有这个表决", "no such vote"),
            ))
        }
        Err(e) => return Err(e),
    };
    let bad = |zh: &'static str, en: &'static str| Err(Error::field("vote_id", Text::new(zh, en)));
    if v.matter != Matter::OwnersCommittee {
        return bad(
            "该表决不是选举业委会的表决",
            "the vote is not an owners' committee election",
        );
    }
    if v.scope_node_id != c.node_id {
        return bad(
            "该表决不是本小区的表决",
            "the vote is not on this committee's estate",
        );
    }
    let (Some(result), Some(closed_at), true) = (
        v.result.as_ref(),
        v.closed_at,
        matches!(v.status.as_str(), "closed" | "published"),
    ) else {
        return bad("该表决尚未计票", "the vote has not been counted yet");
    };
    let (names, seats) = match (&v.form, &result.counts) {
        (Form::Election { seats, .. }, Counts::Election(count)) => {
            if result.outcome != Outcome::Elected {
                return bad(
                    "该选举没有产生结果(未达法定人数、并列或无人当选)",
                    "the election elected nobody for sure (no quorum, a tie, or nobody passed)",
                );
            }
            (
                count
                    .elected
                    .iter()
                    .map(|n| v.label(*n))
                    .collect::<Vec<_>>(),
                i64::from(*seats),
            )
        }
        (Form::YesNo, _) => {
            if result.outcome != Outcome::Approved {
                return bad("该表决未获通过", "the vote was not approved");
            }
            let names: Vec<String> = n
                .elected
                .iter()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect();
            if names.is_empty() {
                return Err(Error::field(
                    "elected",
                    Text::new(
                        "请填写当选成员名单(每行一人)",
                        "list the elected members, one a line",
                    ),
                ));
            }
            let k = names.len() as i64;
            (names, k)
        }
        _ => {
            return bad(
                "该表决不是选举或通过名单的表决",
                "the vote is neither an election nor a slate approval",
            )
        }
    };
    if names.iter().any(|s| s.chars().count() > 50) {
        return Err(Error::field(
            "elected",
            Text::new("姓名不超过 50 字", "a name has up to 50 characters"),
        ));
    }
    if let Err(t) = SIZE_RULE.check(seats, area) {
        return Err(Error::field("vote_id", t));
    }
    Ok(Elected {
        on: today(closed_at),
        names,
        seats,
    })
}

/// Records the next step of the committee's running re-election. The election step links the
/// owners' vote (an owners' committee election on the estate, counted, with its members
/// elected); the filing completes the re-election: the new term starts on the election's day
/// with the elected members, the old members' term ends, and the re-election period ends.
pub async fn record_step(
    db: &Db,
    actor: &Actor,
    id: i64,
    n: NewStep,
    now: i64,
) -> Result<Reelection> {
    let sid = actor.subdistrict_id;
    let c = writable(db, actor, id).await?;
    let Some(rid) = c.running_reelection_id else {
        return Err(not_running());
    };
    let day = today(now);
    let r = reelection(db, sid, rid, day).await?;
    let Some(step) = Step::parse(&n.step) else {
        return Err(Error::field(
            "step",
            Text::new("请选择步骤", "choose the step"),
        ));
    };
    let mut errors = Vec::new();
    let elected = if step == Step::Election {
        let area = estate_area(db, sid, &c.node_path).await?;
        Some(check_election(db, sid, &c, &n, area).await?)
    } else {
        None
    };
    let on = match &elected {
        Some(e) => e.on,
        None => date_field(&n.done_on, "done_on", day, &mut errors),
    };
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    let done: Vec<(Step, Date)> = r
        .steps
        .iter()
        .filter_map(|s| Some((s.step, rules::parse_date(s.done_on.as_deref()?)?)))
        .collect();
    if let Err(t) = rules::check_record(step, on, date_of(&r.started_on), &done, day) {
        return Err(Error::field(
            if step == Step::Election {
                "vote_id"
            } else {
                "done_on"
            },
            t,
        ));
    }
    let note: String = n.note.trim().chars().take(1000).collect();
    let on_s = rules::format_date(on);
    let mut tx = db.begin().await?;
    let ins = sqlx::query(
        "INSERT INTO reelection_steps (subdistrict_id, reelection_id, step, done_on, note, done_by, done_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(sid)
    .bind(rid)
    .bind(step.as_str())
    .bind(&on_s)
    .bind(&note)
    .bind(user(actor))
    .bind(now)
    .execute(&mut *tx)
    .await;
    match ins {
        Ok(_) => {}
        Err(e) if is_unique_violation(&e) => {
            return Err(Error::Conflict(Text::new(
                "这一步已经登记过",
                "this step is already recorded",
            )))
        }
        Err(e) => return Err(e.into()),
    }
    if let Some(e) = &elected {
        let names = serde_json::to_string(&e.names).unwrap_or_else(|_| "[]".into());
        sqlx::query(
            "UPDATE committee_reelections SET vote_id = $3, elected = $4, seats = $5 \
             WHERE subdistrict_id = $1 AND id = $2 AND status = 'running'",
        )
        .bind(sid)
        .bind(rid)
        .bind(n.vote_id)
        .bind(&names)
        .bind(e.seats)
        .execute(&mut *tx)
        .await?;
    }
    let mut after =
        json!({ "reelection_id": rid, "step": step.as_str(), "done_on": on_s, "note": note });
    if step == Step::Filing {
        let new_term = complete(&mut tx, actor, &c, &r, on, now).await?;
        after["new_term_id"] = json!(new_term);
    }
    if let Some(e) = &elected {
        after["vote_id"] = json!(n.vote_id);
        after["elected"] = json!(e.names);
    }
    audit::record(
        &mut tx,
        actor,
        Change::new("committee.reelection_step", "owners_committee", Some(id))
            .label(&c.name)
            .after(after),
    )
    .await?;
    tx.commit().await?;
    reelection(db, sid, rid, day).await
}

/// The filing: completes the process in the caller's transaction; returns the new term's id.
async fn complete(
    tx: &mut Tx,
    actor: &Actor,
    c: &Committee,
    r: &Reelection,
    filed_on: Date,
    now: i64,
) -> Result<i64> {
    let sid = actor.subdistrict_id;
    let election_on = r
        .steps
        .iter()
        .find(|s| s.step == Step::Election)
        .and_then(|s| s.done_on.as_deref())
        .and_then(rules::parse_date)
        .ok_or_else(|| {
            Error::Conflict(Text::new("尚未登记选举", "the election is not recorded"))
        })?;
    let seats = r.seats.unwrap_or(c.term.seats);
    let election_s = rules::format_date(election_on);
    let done = sqlx::query(
        "UPDATE committee_reelections SET status = 'completed', completed_on = $3, completed_at = $4 \
         WHERE subdistrict_id = $1 AND id = $2 AND status = 'running'",
    )
    .bind(sid)
    .bind(r.id)
    .bind(rules::format_date(filed_on))
    .bind(now)
    .execute(&mut **tx)
    .await?;
    let released = sqlx::query(
        "UPDATE owners_committees SET running_reelection_id = NULL, version = version + 1 \
         WHERE subdistrict_id = $1 AND id = $2 AND running_reelection_id = $3",
    )
    .bind(sid)
    .bind(c.id)
    .bind(r.id)
    .execute(&mut **tx)
    .await?;
    if done.rows_affected() == 0 || released.rows_affected() == 0 {
        return Err(changed_meanwhile());
    }
    // The old term and its sitting members end on the election's day.
    sqlx::query(
        "UPDATE committee_terms SET ended_on = $3 WHERE subdistrict_id = $1 AND committee_id = $2 AND ended_on IS NULL",
    )
    .bind(sid)
    .bind(c.id)
    .bind(&election_s)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "UPDATE committee_members SET ends_on = $3, end_reason = 'term_ended', chair_key = NULL, \
         ended_by = $4, ended_at = $5 WHERE subdistrict_id = $1 AND committee_id = $2 AND ends_on IS NULL",
    )
    .bind(sid)
    .bind(c.id)
    .bind(&election_s)
    .bind(user(actor))
    .bind(now)
    .execute(&mut **tx)
    .await?;
    let term_id = next_id();
    insert_term(
        tx,
        sid,
        c.id,
        term_id,
        c.term.number + 1,
        seats,
        r.term_years,
        election_on,
        Some(r.id),
        actor,
        now,
    )
    .await?;
    for name in &r.elected {
        sqlx::query(
            "INSERT INTO committee_members (subdistrict_id, id, committee_id, term_id, person_id, name, office, \
             chair_key, starts_on, ends_on, end_reason, end_note, created_by, created_at) \
             VALUES ($1, $2, $3, $4, NULL, $5, 'member', NULL, $6, NULL, NULL, '', $7, $8)",
        )
        .bind(sid)
        .bind(next_id())
        .bind(c.id)
        .bind(term_id)
        .bind(name)
        .bind(&election_s)
        .bind(user(actor))
        .bind(now)
        .execute(&mut **tx)
        .await?;
    }
    sqlx::query(
        "UPDATE committee_terms SET reelection_id = $3 WHERE subdistrict_id = $1 AND id = $2",
    )
    .bind(sid)
    .bind(term_id)
    .bind(r.id)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "UPDATE committee_reelections SET new_term_id = $3 WHERE subdistrict_id = $1 AND id = $2",
    )
    .bind(sid)
    .bind(r.id)
    .bind(term_id)
    .execute(&mut **tx)
    .await?;
    // The re-election period ends with the filing (at the end of the filing's day at the
    // latest, when it is recorded late), so the refused votes are allowed again.
    let filed_s = rules::format_date(filed_on);
    let ends_at = parse_local_date(&filed_s).map_or(now, |d| now.min(d + DAY_MS));
    sqlx::query(
        "UPDATE reelection_periods SET ends_on = $3, ends_at = $4 WHERE subdistrict_id = $1 AND id = $2",
    )
    .bind(sid)
    .bind(r.period_id)
    .bind(&filed_s)
    .bind(ends_at)
    .execute(&mut **tx)
    .await?;
    Ok(term_id)
}

/// Cancels the running re-election (started by mistake, or stopped by the owners' general
/// meeting) with its reason; its re-election period ends now.
pub async fn cancel_reelection(
    db: &Db,
    actor: &Actor,
    id: i64,
    reason: &str,
    now: i64,
) -> Result<Reelection> {
    let sid = actor.subdistrict_id;
    let c = writable(db, actor, id).await?;
    let Some(rid) = c.running_reelection_id else {
        return Err(not_running());
    };
    let reason: String = reason.trim().chars().take(500).collect();
    if reason.is_empty() {
        return Err(Error::field(
            "reason",
            Text::new("请说明取消原因", "give the reason for cancelling"),
        ));
    }
    let day = today(now);
    let r = reelection(db, sid, rid, day).await?;
    let mut tx = db.begin().await?;
    let done = sqlx::query(
        "UPDATE committee_reelections SET status = 'cancelled', cancel_reason = $3, cancelled_at = $4 \
         WHERE subdistrict_id = $1 AND id = $2 AND status = 'running'",
    )
    .bind(sid)
    .bind(rid)
    .bind(&reason)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let released = sqlx::query(
        "UPDATE owners_committees SET running_reelection_id = NULL, version = version + 1 \
         WHERE subdistrict_id = $1 AND id = $2 AND running_reelection_id = $3",
    )
    .bind(sid)
    .bind(id)
    .bind(rid)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 || released.rows_affected() == 0 {
        return Err(changed_meanwhile());
    }
    sqlx::query(
        "UPDATE reelection_periods SET ends_on = $3, ends_at = $4 WHERE subdistrict_id = $1 AND id = $2",
    )
    .bind(sid)
    .bind(r.period_id)
    .bind(rules::format_date(day))
    .bind(now)
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        actor,
        Change::new("committee.reelection_cancel", "owners_committee", Some(id))
            .label(&c.name)
            .before(json!({ "reelection_id": rid, "status": "running" }))
            .after(json!({ "status": "cancelled" }))
            .reason(&reason),
    )
    .await?;
    tx.commit().await?;
    reelection(db, sid, rid, day).await
}

fn not_running() -> Error {
    Error::Conflict(Text::new(
        "该业委会没有进行中的换届",
        "no re-election of this committee is running",
    ))
}

/// Re-elections started and completed in a period (for the subdistrict's dashboard).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ReelectionCounts {
    /// Started with `from_ms ≤ start day's first instant < to_ms`.
    pub started: i64,
    /// Completed (filing recorded) with `from_ms ≤ recorded at < to_ms`.
    pub completed: i64,
    /// Running now.
    pub running: i64,
}

/// How many re-elections of the subdistrict started and were completed in `[from_ms, to_ms)`.
pub async fn reelection_counts(
    db: &Db,
    sid: i64,
    from_ms: i64,
    to_ms: i64,
) -> Result<ReelectionCounts> {
    let rows = sqlx::query(
        "SELECT r.status, r.completed_at, p.starts_at FROM committee_reelections r \
         JOIN reelection_periods p ON p.subdistrict_id = r.subdistrict_id AND p.id = r.period_id \
         WHERE r.subdistrict_id = $1",
    )
    .bind(sid)
    .fetch_all(db.read())
    .await?;
    let mut out = ReelectionCounts::default();
    for r in &rows {
        let starts: i64 = r.get("starts_at");
        if from_ms <= starts && starts < to_ms {
            out.started += 1;
        }
        if let Some(at) = opt_i64(r, "completed_at") {
            if from_ms <= at && at < to_ms {
                out.completed += 1;
            }
        }
        if r.get::<String, _>("status") == "running" {
            out.running += 1;
        }
    }
    Ok(out)
}

/// The alerts of every committee the actor may read, by committee id (for dashboards).
pub async fn alerts(db: &Db, actor: &Actor, now: i64) -> Result<HashMap<i64, Vec<Alert>>> {
    Ok(list(db, actor, now)
        .await?
        .into_iter()
        .map(|o| (o.committee.id, o.alerts))
        .collect())
}

/// Tells the subdistrict (its root node's users and webhooks) of every term whose alert day
/// (5 months before its end) has come and that was not told yet: one `committee.term_ending`
/// notice per term, remembered in `committee_terms.alerted_at` in the same transaction, so a
/// restart or a second process never repeats one. Returns how many were sent. Meant to run
/// periodically (e.g. daily) for each subdistrict.
pub async fn sweep_term_alerts(db: &Db, sid: i64, now: i64) -> Result<usize> {
    let rows = sqlx::query(&format!(
        "{COMMITTEE_SELECT} AND t.alerted_at IS NULL AND t.ended_on IS NULL"
    ))
    .bind(sid)
    .fetch_all(db.read())
    .await?;
    let day = today(now);
    let mut sent = 0;
    for r in &rows {
        let c = committee_from(r);
        if day < date_of(&c.term.alert_on) {
            continue;
        }
        let mut tx = db.begin().await?;
        let claimed = sqlx::query(
            "UPDATE committee_terms SET alerted_at = $3 WHERE subdistrict_id = $1 AND id = $2 AND alerted_at IS NULL",
        )
        .bind(sid)
        .bind(c.term.id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if claimed.rows_affected() == 0 {
            continue;
        }
        let notice = crate::notify::Notice {
            kind: "committee.term_ending".into(),
            case_id: None,
            title_zh: format!("{}任期将届满", c.name),
            title_en: format!("{}: the term is ending", c.name),
            body_zh: format!(
                "{}(第 {} 届)任期至 {} 届满,请指导启动换届。",
                c.name, c.term.number, c.term.ends_on
            ),
            body_en: format!(
                "The term {} of {} ends on {}: please see that the re-election starts.",
                c.term.number, c.name, c.term.ends_on
            ),
            link: format!("/committees/{}", c.id),
        };
        crate::notify::notify_unit(&mut tx, sid, sid, &notice).await?;
        audit::record_as(
            &mut tx,
            sid,
            None,
            "system",
            Change::new("committee.term_alert", "owners_committee", Some(c.id))
                .label(&c.name)
                .after(json!({ "term_id": c.term.id, "ends_on": c.term.ends_on, "alert_on": c.term.alert_on })),
        )
        .await?;
        tx.commit().await?;
        sent += 1;
    }
    Ok(sent)
}
