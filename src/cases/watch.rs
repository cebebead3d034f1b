//! The deadline watcher: warnings before the due time, escalation of overdue cases up the tree.
//!
//! [`spawn`] runs [`sweep`] every minute. One sweep looks at every open case with a deadline
//! (dispatched, disputed, in handling, re-handling; a case waiting for the resident has its
//! clock stopped and is left alone) and asks `calendar::deadline` where it stands — the
//! handling clock from the first dispatch, or the re-handling clock from the unsatisfied
//! return call, moved by the pauses in its timeline:
//! - due soon (the deadline module's [`WarningWindow`]: the due day itself for working-day
//!   periods, the last quarter of an hour period) → a `case.due_soon` notice to the owning unit;
//! - overdue → for each escalation level reached (1: the community or village, 2: the
//!   subdistrict, after one further working day), [`lifecycle::Action::Escalate`] by the
//!   `System` actor to that level's unit (`routing::rules::escalation_target`), written like
//!   `store::act` writes (versioned update, timeline events, audit, measures), with a
//!   `case.escalated` notice to the unit above and `case.overdue` to the owner.
//!
//! Each warning and escalation is remembered in `case_alerts` (migration 9), keyed by case,
//! kind, level and the instant the clock started, and written in the same transaction as the
//! case and the notices: a restart neither repeats nor skips one, and of two watchers racing,
//! the primary key lets one win.

use axum::Router;
use serde_json::json;
use sqlx::Row;

use super::calendar::deadline::{EscalationRule, Stage, Status, WarningWindow};
use super::lifecycle::{self, ActorKind, State};
use super::routing::rules::{escalation_target, PlaceNode};
use super::store::{self, CaseRecord};
use crate::access::{Actor, Via};
use crate::audit::{self, Change};
use crate::error::Result;
use crate::notify::{self, Notice};
use crate::storage::{is_unique_violation, Db, Tx};
use crate::web::AppState;

/// How often the watcher sweeps.
pub const EVERY_MS: u64 = 60_000;

/// The states in which a case's clock runs.
const WATCHED: [State; 4] = [
    State::Dispatched,
    State::Disputed,
    State::InHandling,
    State::ReHandling,
];

/// What one sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    pub checked: usize,
    /// First-contact reminders (`case.first_contact_late`).
    pub reminded: usize,
    pub warned: usize,
    pub escalated: usize,
}

/// Pages (merged into the site router).
pub fn routes() -> Router<AppState> {
    Router::new()
}

/// JSON API routes (nested under `/api/v1`).
pub fn api_routes() -> Router<AppState> {
    Router::new()
}

/// Starts the background deadline watcher (called once by `serve`).
pub fn spawn(state: AppState) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_millis(EVERY_MS));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match sweep(&state.db, crate::clock::now_ms()).await {
                Ok(s) if s.warned + s.escalated > 0 => tracing::info!(
                    checked = s.checked,
                    warned = s.warned,
                    escalated = s.escalated,
                    "deadline sweep"
                ),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "deadline sweep failed"),
            }
        }
    });
}

/// The platform acting on its own in subdistrict `sid`.
fn system(sid: i64) -> Actor {
    Actor {
        subdistrict_id: sid,
        user_id: 0,
        username: "system".into(),
        display_name: "系统 system".into(),
        person_id: None,
        grants: Vec::new(),
        via: Via::Cli,
    }
}

/// One pass over every subdistrict's open cases at `now_ms`. A case that fails (or that
/// someone changed meanwhile) is logged and tried again on the next pass.
pub async fn sweep(db: &Db, now_ms: i64) -> Result<Swept> {
    let mut out = Swept::default();
    for s in crate::tree::store::subdistricts(db).await? {
        let cal = super::calendar_admin::calendar(db, s.id).await?;
        let categories = super::category_store::tree(db, s.id).await?;
        let states: Vec<String> = WATCHED.iter().map(|s| format!("'{}'", s.code())).collect();
        let rows = sqlx::query(&format!(
            "SELECT {} FROM cases WHERE subdistrict_id = $1 AND state IN ({}) ORDER BY id",
            store::CASE_COLS,
            states.join(", ")
        ))
        .bind(s.id)
        .fetch_all(db.read())
        .await?;
        for row in &rows {
            let c = store::case_from(row)?;
            out.checked += 1;
            match first_contact_late(db, s.id, &c, now_ms).await {
                Ok(sent) => out.reminded += usize::from(sent),
                Err(e) => {
                    tracing::warn!(subdistrict = s.id, error = %e, "first-contact check failed")
                }
            }
            match check_case(db, s.id, &cal, &categories, c, now_ms).await {
                Ok((w, e)) => {
                    out.warned += w;
                    out.escalated += e;
                }
                Err(e) => tracing::warn!(subdistrict = s.id, error = %e, "deadline check failed"),
            }
        }
    }
    Ok(out)
}

/// The clock in force: its stage and start.
async fn clock(
    db: &Db,
    sid: i64,
    c: &CaseRecord,
    now_ms: i64,
) -> Result<Option<(Stage, i64, Vec<super::calendar::deadline::Pause>)>> {
    let (pauses, rehandling_start) = store::pauses(db, sid, c.id, now_ms).await?;
    let l = &c.lifecycle;
    let clock = if l.rehandling {
        rehandling_start.map(|s| (Stage::Rehandling, s))
    } else {
        l.dispatched_ms.map(|s| (Stage::Handling, s))
    };
    Ok(clock.map(|(stage, start)| (stage, start, pauses)))
}

/// Warns and escalates one case as needed; returns (warnings, escalations) made.
async fn check_case(
    db: &Db,
    sid: i64,
    cal: &super::calendar::Calendar,
    categories: &super::category::CategoryTree,
    c: CaseRecord,
    now_ms: i64,
) -> Result<(usize, usize)> {
    if c.lifecycle.due_ms.is_none() {
        return Ok((0, 0));
    }
    let mut warned = 0;
    let Some(profile) = categories.resolve(&c.category).map(|r| r.deadlines) else {
        return Ok((0, 0));
    };
    let Some((stage, start, pauses)) = clock(db, sid, &c, now_ms).await? else {
        return Ok((0, 0));
    };
    let a = profile.deadline(stage, start).assess(
        cal,
        &pauses,
        now_ms,
        &WarningWindow::default(),
        &EscalationRule::default(),
    );
    let mut escalated = 0;
    if a.status == Status::DueSoon && warn(db, sid, &c, start, a.due.at_ms, now_ms).await? {
        warned += 1;
    }
    let level = a.escalation.level();
    if level == 0 {
        return Ok((warned, escalated));
    }
    let node = crate::tree::store::node(db, sid, c.node_id).await?;
    let place = super::routing::store::place(db, sid, &node.path).await?;
    let mut current = c;
    for lvl in 1..=level {
        if let Some(next) = escalate(db, sid, &place, &current, start, lvl, now_ms).await? {
            escalated += 1;
            current = next;
        }
    }
    Ok((warned, escalated))
}

/// Records an alert; false when it was already recorded (the unique key).
#[allow(clippy::too_many_arguments)]
async fn remember(
    tx: &mut Tx,
    sid: i64,
    case_id: i64,
    kind: &str,
    level: u8,
    clock_start: i64,
    unit_id: Option<i64>,
    now_ms: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO case_alerts (subdistrict_id, case_id, kind, level, clock_start, unit_id, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(sid)
    .bind(case_id)
    .bind(kind)
    .bind(i64::from(level))
    .bind(clock_start)
    .bind(unit_id)
    .bind(now_ms)
    .execute(&mut **tx)
    .await;
    match done {
        Ok(_) => Ok(true),
        Err(e) if is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

async fn already(
    db: &Db,
    sid: i64,
    case_id: i64,
    kind: &str,
    level: u8,
    clock_start: i64,
) -> Result<bool> {
    Ok(sqlx::query(
        "SELECT 1 FROM case_alerts WHERE subdistrict_id = $1 AND case_id = $2 AND kind = $3 \
         AND level = $4 AND clock_start = $5",
    )
    .bind(sid)
    .bind(case_id)
    .bind(kind)
    .bind(i64::from(level))
    .bind(clock_start)
    .fetch_optional(db.read())
    .await?
    .is_some())
}

fn notice(kind: &str, c: &CaseRecord, title: (String, String), body: (String, String)) -> Notice {
    Notice {
        kind: kind.to_string(),
        case_id: Some(c.id),
        title_zh: title.0,
        title_en: title.1,
        body_zh: body.0,
        body_en: body.1,
        link: format!("/cases/{}", c.id),
    }
}

/// The `case.first_contact_late` reminder, once per dispatch: the first-contact deadline has
/// passed and nobody has contacted the reporter yet. (Escalation follows the handling clock.)
async fn first_contact_late(db: &Db, sid: i64, c: &CaseRecord, now_ms: i64) -> Result<bool> {
    let l = &c.lifecycle;
    let (Some(due), Some(start)) = (l.first_contact_due_ms, l.dispatched_ms) else {
        return Ok(false);
    };
    if l.first_contact_ms.is_some()
        || l.state != super::lifecycle::State::Dispatched
        || now_ms <= due
    {
        return Ok(false);
    }
    if already(db, sid, c.id, "first_contact_late", 0, start).await? {
        return Ok(false);
    }
    let owner = l.owner_unit;
    let mut tx = db.begin().await?;
    if !remember(
        &mut tx,
        sid,
        c.id,
        "first_contact_late",
        0,
        start,
        owner,
        now_ms,
    )
    .await?
    {
        return Ok(false);
    }
    if let Some(unit) = owner {
        let at = crate::clock::format_local(due);
        let n = notice(
            "case.first_contact_late",
            c,
            (
                format!("首次联系已超时:{}", c.number),
                format!("First contact overdue: {}", c.number),
            ),
            (
                format!("“{}”应在 {at} 前首次联系反映人,请尽快联系。", c.title),
                format!(
                    "“{}” needed first contact by {at}; contact the reporter now.",
                    c.title
                ),
            ),
        );
        notify::notify_unit(&mut tx, sid, unit, &n).await?;
    }
    tx.commit().await?;
    Ok(true)
}

/// The `case.due_soon` warning, once per clock.
async fn warn(
    db: &Db,
    sid: i64,
    c: &CaseRecord,
    start: i64,
    due_ms: i64,
    now_ms: i64,
) -> Result<bool> {
    if already(db, sid, c.id, "due_soon", 0, start).await? {
        return Ok(false);
    }
    let owner = c.lifecycle.owner_unit;
    let mut tx = db.begin().await?;
    if !remember(&mut tx, sid, c.id, "due_soon", 0, start, owner, now_ms).await? {
        return Ok(false);
    }
    if let Some(unit) = owner {
        let due = crate::clock::format_local(due_ms);
        let n = notice(
            "case.due_soon",
            c,
            (
                format!("事项即将到期:{}", c.number),
                format!("Case due soon: {}", c.number),
            ),
            (
                format!("“{}”的办理时限为 {due},请抓紧办理。", c.title),
                format!("“{}” is due at {due}; please finish it in time.", c.title),
            ),
        );
        notify::notify_unit(&mut tx, sid, unit, &n).await?;
    }
    tx.commit().await?;
    Ok(true)
}

/// Escalation level `lvl`, once per clock; returns the case as written when the case itself
/// changed (an escalation to a new unit), `None` otherwise.
async fn escalate(
    db: &Db,
    sid: i64,
    place: &[PlaceNode],
    c: &CaseRecord,
    start: i64,
    lvl: u8,
    now_ms: i64,
) -> Result<Option<CaseRecord>> {
    if already(db, sid, c.id, "escalated", lvl, start).await? {
        return Ok(None);
    }
    let owner = c.lifecycle.owner_unit;
    let target =
        escalation_target(place, owner, lvl).filter(|t| c.lifecycle.escalated_to != Some(*t));
    let actor = system(sid);
    let mut tx = db.begin().await?;
    if !remember(&mut tx, sid, c.id, "escalated", lvl, start, target, now_ms).await? {
        return Ok(None);
    }
    let mut written = None;
    if let Some(to_unit) = target {
        let t = match lifecycle::apply(
            &c.lifecycle,
            &ActorKind::System,
            &lifecycle::Action::Escalate { to_unit },
            now_ms,
        ) {
            Ok(t) => t,
            // The rules disagree (e.g. the stored due moved on): nothing is written, the
            // next sweep looks again.
            Err(r) => {
                tracing::info!(case = c.id, reason = %r.reason.en, "escalation refused");
                return Ok(None);
            }
        };
        let next = write(&mut tx, &actor, c, &t, now_ms, to_unit).await?;
        let overdue = (
            format!("事项已超期并升级督办:{}", c.number),
            format!("Case overdue, escalated: {}", c.number),
        );
        let body = (
            format!("“{}”已超过办理时限,升级至上级督办。", c.title),
            format!("“{}” is past its deadline and has been escalated.", c.title),
        );
        notify::notify_unit(
            &mut tx,
            sid,
            to_unit,
            &notice("case.escalated", c, overdue.clone(), body.clone()),
        )
        .await?;
        if let Some(o) = owner {
            notify::notify_unit(&mut tx, sid, o, &notice("case.overdue", c, overdue, body)).await?;
        }
        written = Some(next);
    } else if let Some(o) = owner {
        let n = notice(
            "case.overdue",
            c,
            (
                format!("事项已超期:{}", c.number),
                format!("Case overdue: {}", c.number),
            ),
            (
                format!("“{}”已超过办理时限。", c.title),
                format!("“{}” is past its deadline.", c.title),
            ),
        );
        notify::notify_unit(&mut tx, sid, o, &n).await?;
    }
    tx.commit().await?;
    Ok(written)
}

/// Writes a transition the way `store::act` does: the versioned update (a concurrent change
/// makes it a conflict and nothing is written), the events, the audit entry and the measures.
async fn write(
    tx: &mut Tx,
    actor: &Actor,
    c: &CaseRecord,
    t: &lifecycle::Transition,
    now_ms: i64,
    to_unit: i64,
) -> Result<CaseRecord> {
    let sid = actor.subdistrict_id;
    let next = CaseRecord {
        state: t.next.state.code().to_string(),
        version: t.next.version,
        lifecycle: t.next.clone(),
        updated_at: now_ms,
        ..c.clone()
    };
    let done = sqlx::query(
        "UPDATE cases SET state = $1, version = $2, lifecycle_json = $3, updated_at = $4 \
         WHERE subdistrict_id = $5 AND id = $6 AND version = $7",
    )
    .bind(&next.state)
    .bind(next.version)
    .bind(serde_json::to_string(&next.lifecycle).unwrap_or_default())
    .bind(now_ms)
    .bind(sid)
    .bind(c.id)
    .bind(c.version)
    .execute(&mut **tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(store::conflict());
    }
    let last_seq: i64 = sqlx::query(
        "SELECT CAST(COALESCE(MAX(seq), 0) AS BIGINT) FROM case_events \
         WHERE subdistrict_id = $1 AND case_id = $2",
    )
    .bind(sid)
    .bind(c.id)
    .fetch_one(&mut **tx)
    .await?
    .get(0);
    store::append_events(tx, actor, c.id, last_seq, &t.events).await?;
    audit::record(
        tx,
        actor,
        Change::new("case.escalate", "case", Some(c.id))
            .label(&c.number)
            .before(json!({ "state": c.state, "version": c.version }))
            .after(json!({ "state": next.state, "version": next.version,
                "action": { "kind": "escalate", "to_unit": to_unit } })),
    )
    .await?;
    super::measures::record_change(tx, sid, Some(c), &next).await?;
    Ok(next)
}
