//! Meetings in the database (migration 13): schedules per community or village and meeting
//! kind, the meetings they materialise, each meeting's agenda (a snapshot of
//! `agenda::draft`, then edited), attendance, minutes, decisions and their follow-up actions.
//! Every write checks access first and is one transaction with its audit entry; turning an
//! action into a case goes through `cases::store::open_case`, which writes the case in its own
//! transaction (the group commit), then links it here (see [`action_to_case`]).
//!
//! Who may: staff whose roles reach the community (`allows(ReadPeople)` at its path) run its
//! meetings; a user listed in a meeting's attendance may read that meeting. Nobody else.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::Row;
use time::Date;

use super::rules::{self, check_text};
use crate::access::{allows, Action, Actor, Target};
use crate::audit::{self, Change};
use crate::cases::calendar::deadline::local_date;
use crate::cases::measures::facts::{Facts, MeasureKind};
use crate::cases::measures::period::{date_of, day_int, day_text};
use crate::cases::measures::store::{self as measures, Filter};
use crate::cases::store::{self as cases, CaseRecord, NewCase};
use crate::deliberation::agenda::{
    self, AgendaInput, GridLine, HallTopic, ItemKind, Limits, Measures, OpenAction, OverdueCase,
    Rates, SourceRef,
};
use crate::deliberation::cadence::{self, MeetingKind, Rule};
use crate::error::{Error, FieldError, Result};
use crate::i18n::Text;
use crate::storage::{next_id, opt_i64, Db, Tx};
use crate::tree::{store as tree, NodeKind};

/// The channel a case raised from a meeting's action comes in by. There is no meeting
/// channel in `cases::store::CHANNELS`; staff enter it at a desk through the web.
pub const ACTION_CASE_CHANNEL: &str = "web";
/// How far ahead one plan request may materialise meetings.
pub const MAX_PLAN_DAYS: i64 = 400;

/// Whether staff reach a place (they run its meetings and see its contacts).
pub fn staff(actor: &Actor, path: &str) -> bool {
    allows(actor, Action::ReadPeople, Target::Node { path })
}

/// Communities and villages hold the five-step meetings.
pub fn is_meeting_place(kind: NodeKind) -> bool {
    matches!(kind, NodeKind::Community | NodeKind::Village)
}

fn by(actor: &Actor) -> Option<i64> {
    (actor.user_id != 0).then_some(actor.user_id)
}

fn text(r: &AnyRow, c: &str) -> Option<String> {
    r.try_get::<Option<String>, _>(c).ok().flatten()
}

fn conflict(zh: &'static str, en: &'static str) -> Error {
    Error::Conflict(Text::new(zh, en))
}

/// A community or village the actor's staff roles reach: 404 if absent, 403 out of reach,
/// 422 (`node_id`) when it is not a community or village.
pub async fn running_node(db: &Db, actor: &Actor, node_id: i64) -> Result<tree::Node> {
    let n = tree::node(db, actor.subdistrict_id, node_id).await?;
    if !staff(actor, &n.path) {
        return Err(Error::Forbidden);
    }
    if !is_meeting_place(n.kind) {
        return Err(Error::field(
            "node_id",
            Text::new(
                "五步工作法的会议由居民区或村召开",
                "five-step meetings are held by a community or village",
            ),
        ));
    }
    Ok(n)
}

/// The communities and villages the actor runs, in tree order.
pub async fn my_places(db: &Db, actor: &Actor) -> Result<Vec<tree::Node>> {
    let rows = sqlx::query(
        "SELECT id, path FROM nodes WHERE subdistrict_id = $1 AND kind IN ('community', 'village') ORDER BY path",
    )
    .bind(actor.subdistrict_id)
    .fetch_all(db.read())
    .await?;
    let mut out = Vec::new();
    for r in &rows {
        let path: String = r.get("path");
        if staff(actor, &path) {
            out.push(tree::node(db, actor.subdistrict_id, r.get("id")).await?);
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------- schedules

/// A community's rule for one meeting kind.
#[derive(Debug, Clone, Serialize)]
pub struct Schedule {
    pub node_id: i64,
    pub kind: String,
    pub rule: Rule,
    pub place: String,
    pub updated_at: i64,
}

/// The schedules of a node, in the kinds' order.
pub async fn schedules(db: &Db, sid: i64, node_id: i64) -> Result<Vec<Schedule>> {
    let rows = sqlx::query(
        "SELECT node_id, kind, rule_json, place, updated_at FROM meeting_schedules \
         WHERE subdistrict_id = $1 AND node_id = $2",
    )
    .bind(sid)
    .bind(node_id)
    .fetch_all(db.read())
    .await?;
    let mut out = Vec::new();
    for r in &rows {
        let rule: Rule = serde_json::from_str(&r.get::<String, _>("rule_json"))
            .map_err(|e| Error::Internal(anyhow::anyhow!("stored rule does not parse: {e}")))?;
        out.push(Schedule {
            node_id: r.get("node_id"),
            kind: r.get("kind"),
            rule,
            place: r.get("place"),
            updated_at: r.get("updated_at"),
        });
    }
    let order = |k: &str| {
        cadence::ALL_MEETING_KINDS
            .iter()
            .position(|x| x.code() == k)
            .unwrap_or(9)
    };
    out.sort_by_key(|s| order(&s.kind));
    Ok(out)
}

/// What a request sends to set a schedule.
#[derive(Debug, Clone, Deserialize)]
pub struct NewSchedule {
    pub kind: String,
    pub rule: Rule,
    #[serde(default)]
    pub place: String,
}

fn kind_of(code: &str) -> Result<MeetingKind> {
    MeetingKind::from_code(code.trim()).ok_or_else(|| {
        Error::field(
            "kind",
            Text::new("请选择会议类型", "choose the kind of meeting"),
        )
    })
}

/// Sets the rule of one meeting kind at a community. Planned meetings of that kind still to
/// come that the new rule no longer produces (and that have no agenda yet) are cancelled, so
/// calendars follow the change.
pub async fn save_schedule(
    db: &Db,
    actor: &Actor,
    node_id: i64,
    s: NewSchedule,
) -> Result<Schedule> {
    let node = running_node(db, actor, node_id).await?;
    let kind = kind_of(&s.kind)?;
    let mut errors = match s.rule.check_for(kind) {
        Ok(()) => Vec::new(),
        Err(Error::Invalid(e)) => e,
        Err(e) => return Err(e),
    };
    check_text("place", &s.place, 200, false, &mut errors);
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    let sid = actor.subdistrict_id;
    let before = schedules(db, sid, node_id)
        .await?
        .into_iter()
        .find(|x| x.kind == kind.code());
    let cal = crate::cases::calendar_admin::calendar(db, sid).await?;
    let now = crate::clock::now_ms();
    let today = local_date(now);
    let rule_json = serde_json::to_string(&s.rule).map_err(|e| Error::Internal(e.into()))?;
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO meeting_schedules (subdistrict_id, node_id, kind, rule_json, place, updated_by, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (subdistrict_id, node_id, kind) DO UPDATE SET \
         rule_json = excluded.rule_json, place = excluded.place, updated_by = excluded.updated_by, \
         updated_at = excluded.updated_at",
    )
    .bind(sid)
    .bind(node_id)
    .bind(kind.code())
    .bind(&rule_json)
    .bind(s.place.trim())
    .bind(by(actor))
    .bind(now)
    .execute(&mut *tx)
    .await?;
    // Planned meetings still to come that the new rule does not produce.
    let future = sqlx::query(
        "SELECT id, occurs_on, start_ms, end_ms FROM meetings WHERE subdistrict_id = $1 AND node_id = $2 AND kind = $3 \
         AND status = 'planned' AND start_ms > $4 AND agenda_drafted_at IS NULL",
    )
    .bind(sid)
    .bind(node_id)
    .bind(kind.code())
    .bind(now)
    .fetch_all(&mut *tx)
    .await?;
    let last = future
        .iter()
        .map(|r| r.get::<i64, _>("occurs_on"))
        .max()
        .and_then(date_of);
    let (mut dropped, mut moved) = (Vec::new(), Vec::new());
    if let Some(last) = last {
        let keep: HashMap<i64, (i64, i64)> = cadence::occurrences(&s.rule, &cal, today, last)
            .iter()
            .map(|o| (day_int(o.date), (o.start_ms(), o.end_ms())))
            .collect();
        for r in &future {
            let (id, on): (i64, i64) = (r.get("id"), r.get("occurs_on"));
            let was = (r.get::<i64, _>("start_ms"), r.get::<i64, _>("end_ms"));
            if let Some(&(start, end)) = keep.get(&on) {
                // Same day, maybe a new time: follow the rule.
                if (start, end) != was {
                    sqlx::query(
                        "UPDATE meetings SET start_ms = $3, end_ms = $4, sequence = sequence + 1, \
                         updated_at = $5 WHERE subdistrict_id = $1 AND id = $2",
                    )
                    .bind(sid)
                    .bind(id)
                    .bind(start)
                    .bind(end)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                    moved.push(id);
                }
            } else {
                sqlx::query(
                    "UPDATE meetings SET status = 'cancelled', cancel_reason = $3, sequence = sequence + 1, \
                     updated_at = $4 WHERE subdistrict_id = $1 AND id = $2",
                )
                .bind(sid)
                .bind(id)
                .bind("日程已调整 / the schedule changed")
                .bind(now)
                .execute(&mut *tx)
                .await?;
                dropped.push(id);
            }
        }
    }
    audit::record(
        &mut tx,
        actor,
        Change::new("meeting_schedule.save", "node", Some(node_id))
            .label(&node.name)
            .before(json!(before.map(
                |b| json!({ "kind": b.kind, "rule": b.rule, "place": b.place })
            )))
            .after(
                json!({ "kind": kind.code(), "rule": s.rule, "place": s.place.trim(),
                "cancelled_meetings": dropped, "rescheduled_meetings": moved }),
            ),
    )
    .await?;
    tx.commit().await?;
    schedules(db, sid, node_id)
        .await?
        .into_iter()
        .find(|x| x.kind == kind.code())
        .ok_or(Error::NotFound)
}

/// What a plan request created, and the meetings of the range.
#[derive(Debug, Clone, Serialize)]
pub struct Planned {
    pub created: usize,
    pub meetings: Vec<Meeting>,
}

/// Materialises every schedule's meetings from `from` to `to` (inclusive) at a community.
/// Idempotent: the unique key (node, kind, date) makes a second or concurrent request add
/// nothing.
pub async fn plan(db: &Db, actor: &Actor, node_id: i64, from: Date, to: Date) -> Result<Planned> {
    let node = running_node(db, actor, node_id).await?;
    if to < from || (to - from).whole_days() > MAX_PLAN_DAYS {
        return Err(Error::field(
            "to",
            Text::owned(
                format!("结束日期须在开始日期之后,且最多 {MAX_PLAN_DAYS} 天"),
                format!("the end is after the start, at most {MAX_PLAN_DAYS} days on"),
            ),
        ));
    }
    let sid = actor.subdistrict_id;
    let list = schedules(db, sid, node_id).await?;
    let cal = crate::cases::calendar_admin::calendar(db, sid).await?;
    let now = crate::clock::now_ms();
    let mut created = 0usize;
    if !list.is_empty() {
        let mut tx = db.begin().await?;
        for s in &list {
            for o in cadence::occurrences(&s.rule, &cal, from, to) {
                let done = sqlx::query(
                    "INSERT INTO meetings (subdistrict_id, id, node_id, node_path, kind, occurs_on, start_ms, \
                     end_ms, place, status, created_by, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'planned', $10, $11, $11) \
                     ON CONFLICT (subdistrict_id, node_id, kind, occurs_on) DO NOTHING",
                )
                .bind(sid)
                .bind(next_id())
                .bind(node_id)
                .bind(&node.path)
                .bind(&s.kind)
                .bind(day_int(o.date))
                .bind(o.start_ms())
                .bind(o.end_ms())
                .bind(&s.place)
                .bind(by(actor))
                .bind(now)
                .execute(&mut *tx)
                .await?;
                created += usize::try_from(done.rows_affected()).unwrap_or(0);
            }
        }
        if created > 0 {
            audit::record(
                &mut tx,
                actor,
                Change::new("meeting.plan", "node", Some(node_id))
                    .label(&node.name)
                    .after(json!({ "from": day_int(from), "to": day_int(to), "created": created })),
            )
            .await?;
        }
        tx.commit().await?;
    }
    let meetings = list_meetings(
        db,
        sid,
        Some(&node.path),
        cadence::local_to_ms(from.midnight()),
        cadence::local_to_ms(to.midnight()) + 86_400_000,
    )
    .await?;
    Ok(Planned { created, meetings })
}

// ---------------------------------------------------------------- meetings

/// A meeting as pages, the API and feeds show it.
#[derive(Debug, Clone, Serialize)]
pub struct Meeting {
    pub id: i64,
    pub node_id: i64,
    pub node_path: String,
    pub node_name: String,
    pub kind: String,
    /// `yyyy-mm-dd`, local.
    pub occurs_on: String,
    pub start_ms: i64,
    pub end_ms: i64,
    pub place: String,
    pub status: String,
    pub cancel_reason: String,
    pub minutes: String,
    pub sequence: i64,
    pub agenda_drafted_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Meeting {
    pub fn kind(&self) -> Option<MeetingKind> {
        MeetingKind::from_code(&self.kind)
    }

    pub fn kind_label(&self) -> Text {
        self.kind().map_or_else(
            || Text::owned(self.kind.clone(), self.kind.clone()),
            |k| k.label(),
        )
    }

    pub fn date(&self) -> Date {
        local_date(self.start_ms)
    }
}

const MEETING_SELECT: &str =
    "SELECT m.id, m.node_id, m.node_path, m.kind, m.occurs_on, m.start_ms, m.end_ms, \
     m.place, m.status, m.cancel_reason, m.minutes, m.sequence, m.agenda_drafted_at, m.created_at, \
     m.updated_at, n.name AS node_name FROM meetings m \
     LEFT JOIN nodes n ON n.subdistrict_id = m.subdistrict_id AND n.id = m.node_id \
     WHERE m.subdistrict_id = $1";

fn meeting_from(r: &AnyRow) -> Meeting {
    Meeting {
        id: r.get("id"),
        node_id: r.get("node_id"),
        node_path: r.get("node_path"),
        node_name: text(r, "node_name").unwrap_or_default(),
        kind: r.get("kind"),
        occurs_on: day_text(r.get("occurs_on")),
        start_ms: r.get("start_ms"),
        end_ms: r.get("end_ms"),
        place: r.get("place"),
        status: r.get("status"),
        cancel_reason: r.get("cancel_reason"),
        minutes: r.get("minutes"),
        sequence: r.get("sequence"),
        agenda_drafted_at: opt_i64(r, "agenda_drafted_at"),
        created_at: r.get("created_at"),
        updated_at: r.get("updated_at"),
    }
}

/// One meeting (no access check).
pub async fn meeting(db: &Db, sid: i64, id: i64) -> Result<Meeting> {
    let r = sqlx::query(&format!("{MEETING_SELECT} AND m.id = $2"))
        .bind(sid)
        .bind(id)
        .fetch_optional(db.read())
        .await?
        .ok_or(Error::NotFound)?;
    Ok(meeting_from(&r))
}

/// Meetings starting in `[from_ms, to_ms)`, under a path prefix if given, by start.
pub async fn list_meetings(
    db: &Db,
    sid: i64,
    path: Option<&str>,
    from_ms: i64,
    to_ms: i64,
) -> Result<Vec<Meeting>> {
    let rows = sqlx::query(&format!(
        "{MEETING_SELECT} AND m.start_ms >= $2 AND m.start_ms < $3 AND m.node_path LIKE $4 \
         ORDER BY m.start_ms, m.id LIMIT 2000"
    ))
    .bind(sid)
    .bind(from_ms)
    .bind(to_ms)
    .bind(format!("{}%", path.unwrap_or("")))
    .fetch_all(db.read())
    .await?;
    Ok(rows.iter().map(meeting_from).collect())
}

/// The meetings where the user is listed in the attendance.
pub async fn attended_ids(db: &Db, sid: i64, user_id: i64) -> Result<Vec<i64>> {
    if user_id == 0 {
        return Ok(Vec::new());
    }
    Ok(sqlx::query(
        "SELECT DISTINCT meeting_id FROM meeting_attendance WHERE subdistrict_id = $1 AND user_id = $2",
    )
    .bind(sid)
    .bind(user_id)
    .fetch_all(db.read())
    .await?
    .iter()
    .map(|r| r.get::<i64, _>(0))
    .collect())
}

/// The meetings of the actor's calendar: those of every community their staff roles reach,
/// and those they are listed as attending, from `from_ms` on.
pub async fn my_meetings(db: &Db, actor: &Actor, from_ms: i64, to_ms: i64) -> Result<Vec<Meeting>> {
    let sid = actor.subdistrict_id;
    let mine = attended_ids(db, sid, actor.user_id).await?;
    Ok(list_meetings(db, sid, None, from_ms, to_ms)
        .await?
        .into_iter()
        .filter(|m| staff(actor, &m.node_path) || mine.contains(&m.id))
        .collect())
}

/// A meeting the actor may read, and whether they run it.
pub async fn readable(db: &Db, actor: &Actor, id: i64) -> Result<(Meeting, bool)> {
    let m = meeting(db, actor.subdistrict_id, id).await?;
    if staff(actor, &m.node_path) {
        return Ok((m, true));
    }
    if attended_ids(db, actor.subdistrict_id, actor.user_id)
        .await?
        .contains(&id)
    {
        return Ok((m, false));
    }
    Err(Error::Forbidden)
}

/// A meeting the actor runs.
pub async fn runnable(db: &Db, actor: &Actor, id: i64) -> Result<Meeting> {
    let m = meeting(db, actor.subdistrict_id, id).await?;
    if !staff(actor, &m.node_path) {
        return Err(Error::Forbidden);
    }
    Ok(m)
}

fn not_cancelled(m: &Meeting) -> Result<()> {
    if m.status == "cancelled" {
        return Err(conflict(
            "会议已取消,不能再变更",
            "the meeting is cancelled and cannot change",
        ));
    }
    Ok(())
}

/// What a request may change on a meeting (absent fields stay).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct MeetingPatch {
    #[serde(default)]
    pub place: Option<String>,
    #[serde(default)]
    pub start_ms: Option<i64>,
    #[serde(default)]
    pub end_ms: Option<i64>,
    #[serde(default)]
    pub minutes: Option<String>,
}

/// Changes place, time or minutes. A time change raises the calendar sequence.
pub async fn update(db: &Db, actor: &Actor, id: i64, p: MeetingPatch) -> Result<Meeting> {
    let m = runnable(db, actor, id).await?;
    not_cancelled(&m)?;
    let place = p.place.clone().unwrap_or_else(|| m.place.clone());
    let minutes = p.minutes.clone().unwrap_or_else(|| m.minutes.clone());
    let start = p.start_ms.unwrap_or(m.start_ms);
    let end = p.end_ms.unwrap_or(m.end_ms);
    let mut errors: Vec<FieldError> = Vec::new();
    check_text("place", &place, 200, false, &mut errors);
    check_text("minutes", &minutes, 20_000, false, &mut errors);
    if end < start || end - start > 12 * 3_600_000 {
        errors.push(FieldError::new(
            "end_ms",
            Text::new(
                "结束时间须在开始之后,且不超过 12 小时",
                "the end is after the start, within 12 hours",
            ),
        ));
    }
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    let moved = start != m.start_ms || end != m.end_ms;
    let now = crate::clock::now_ms();
    let mut tx = db.begin().await?;
    sqlx::query(
        "UPDATE meetings SET place = $3, minutes = $4, start_ms = $5, end_ms = $6, \
         sequence = sequence + $7, updated_at = $8 WHERE subdistrict_id = $1 AND id = $2",
    )
    .bind(actor.subdistrict_id)
    .bind(id)
    .bind(place.trim())
    .bind(minutes.trim())
    .bind(start)
    .bind(end)
    .bind(i64::from(moved))
    .bind(now)
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        actor,
        Change::new("meeting.update", "meeting", Some(id))
            .label(&m.node_name)
            .before(
                json!({ "place": m.place, "start_ms": m.start_ms, "end_ms": m.end_ms,
                "minutes_chars": m.minutes.chars().count() }),
            )
            .after(
                json!({ "place": place.trim(), "start_ms": start, "end_ms": end,
                "minutes_chars": minutes.trim().chars().count() }),
            ),
    )
    .await?;
    tx.commit().await?;
    meeting(db, actor.subdistrict_id, id).await
}

/// Marks a meeting held or cancelled (with a reason), or back to planned from cancelled.
pub async fn set_status(
    db: &Db,
    actor: &Actor,
    id: i64,
    status: &str,
    reason: &str,
) -> Result<Meeting> {
    let m = runnable(db, actor, id).await?;
    let status = status.trim();
    if !rules::MEETING_STATUSES.contains(&status) {
        return Err(Error::field(
            "status",
            Text::new(
                "状态须为 planned、held 或 cancelled",
                "status is planned, held or cancelled",
            ),
        ));
    }
    let allowed = matches!(
        (m.status.as_str(), status),
        ("planned", "held")
            | ("planned", "cancelled")
            | ("cancelled", "planned")
            | ("held", "planned")
    );
    if !allowed {
        return Err(Error::Conflict(Text::owned(
            format!(
                "会议{}时不能改为{}",
                rules::meeting_status_label(&m.status).zh,
                rules::meeting_status_label(status).zh
            ),
            format!(
                "a {} meeting cannot become {}",
                rules::meeting_status_label(&m.status).en,
                rules::meeting_status_label(status).en
            ),
        )));
    }
    let mut errors = Vec::new();
    check_text("reason", reason, 500, status == "cancelled", &mut errors);
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    // Calendars must see a cancellation and its undoing as changes.
    let bump = i64::from(status == "cancelled" || m.status == "cancelled");
    let reason = if status == "cancelled" {
        reason.trim()
    } else {
        ""
    };
    let mut tx = db.begin().await?;
    let done = sqlx::query(
        "UPDATE meetings SET status = $3, cancel_reason = $4, sequence = sequence + $5, updated_at = $6 \
         WHERE subdistrict_id = $1 AND id = $2 AND status = $7",
    )
    .bind(actor.subdistrict_id)
    .bind(id)
    .bind(status)
    .bind(reason)
    .bind(bump)
    .bind(crate::clock::now_ms())
    .bind(&m.status)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(conflict(
            "会议刚被他人更改,请刷新",
            "someone changed the meeting; reload",
        ));
    }
    audit::record(
        &mut tx,
        actor,
        Change::new(&format!("meeting.{status}"), "meeting", Some(id))
            .label(&m.node_name)
            .before(json!({ "status": m.status }))
            .after(json!({ "status": status, "reason": reason })),
    )
    .await?;
    tx.commit().await?;
    meeting(db, actor.subdistrict_id, id).await
}

// ---------------------------------------------------------------- agenda

/// One stored agenda item.
#[derive(Debug, Clone, Serialize)]
pub struct AgendaRow {
    pub id: i64,
    pub position: i64,
    pub section: String,
    pub item_kind: String,
    pub title_zh: String,
    pub title_en: String,
    pub detail_zh: String,
    pub detail_en: String,
    /// `case`, `hall_topic`, `action`, `grid`, or empty.
    pub source_kind: String,
    pub source_id: Option<i64>,
    pub source_id2: Option<i64>,
}

impl AgendaRow {
    pub fn title(&self) -> Text {
        Text::owned(self.title_zh.clone(), self.title_en.clone())
    }
    pub fn detail(&self) -> Text {
        Text::owned(self.detail_zh.clone(), self.detail_en.clone())
    }
}

/// A meeting's agenda in order.
pub async fn agenda_items(db: &Db, sid: i64, meeting_id: i64) -> Result<Vec<AgendaRow>> {
    let rows = sqlx::query(
        "SELECT id, position, section, item_kind, title_zh, title_en, detail_zh, detail_en, source_kind, \
         source_id, source_id2 FROM meeting_agenda_items WHERE subdistrict_id = $1 AND meeting_id = $2 \
         ORDER BY position, id",
    )
    .bind(sid)
    .bind(meeting_id)
    .fetch_all(db.read())
    .await?;
    Ok(rows
        .iter()
        .map(|r| AgendaRow {
            id: r.get("id"),
            position: r.get("position"),
            section: r.get("section"),
            item_kind: r.get("item_kind"),
            title_zh: r.get("title_zh"),
            title_en: r.get("title_en"),
            detail_zh: r.get("detail_zh"),
            detail_en: r.get("detail_en"),
            source_kind: r.get("source_kind"),
            source_id: opt_i64(r, "source_id"),
            source_id2: opt_i64(r, "source_id2"),
        })
        .collect())
}

const LIVE_STATES: &str = "'dispatched', 'disputed', 'in_handling', 're_handling'";

/// The community's cases past their due instant at `now_ms`, from the case rows (the
/// lifecycle's `due_ms`; a case waiting for the resident has its clock stopped and is left out).
pub async fn overdue_cases(db: &Db, sid: i64, path: &str, now_ms: i64) -> Result<Vec<OverdueCase>> {
    let rows = sqlx::query(&format!(
        "SELECT {} FROM cases WHERE subdistrict_id = $1 AND node_path LIKE $2 AND state IN ({LIVE_STATES})",
        cases::CASE_COLS
    ))
    .bind(sid)
    .bind(format!("{path}%"))
    .fetch_all(db.read())
    .await?;
    let mut units: HashMap<i64, String> = HashMap::new();
    let mut out = Vec::new();
    for r in &rows {
        let c = cases::case_from(r)?;
        let Some(due) = c.lifecycle.due_ms.filter(|d| *d < now_ms) else {
            continue;
        };
        let owner = match c.lifecycle.owner_unit {
            None => String::new(),
            Some(u) => match units.get(&u) {
                Some(n) => n.clone(),
                None => {
                    let n = crate::cases::routing::store::unit(db, sid, u)
                        .await?
                        .map(|x| x.name)
                        .unwrap_or_default();
                    units.insert(u, n.clone());
                    n
                }
            },
        };
        out.push(OverdueCase {
            case_id: c.id,
            number: c.number,
            title: c.title,
            days_overdue: rules::days_overdue(due, now_ms),
            owner_unit: owner,
        });
    }
    Ok(out)
}

fn rates(f: &Facts) -> Rates {
    Rates {
        response: MeasureKind::Response.ratio(f),
        resolution: MeasureKind::Resolution.ratio(f),
        satisfaction: MeasureKind::Satisfaction.ratio(f),
    }
}

/// The community's and its grids' counters over inclusive `yyyymmdd` days.
pub async fn community_facts(
    db: &Db,
    sid: i64,
    path: &str,
    from: i64,
    to: i64,
) -> Result<(Facts, Vec<(measures::GridInfo, Facts)>)> {
    let f = Filter {
        scope_path: Some(path.to_string()),
        below_grid: false,
        category: None,
        owner_unit: None,
        from,
        to,
    };
    let total = measures::totals(db, sid, &f).await?;
    let by = measures::by_grid(db, sid, &f).await?;
    let grids = measures::grids_under(db, sid, path, false)
        .await?
        .into_iter()
        .map(|g| {
            let x = by.get(&g.id).copied().unwrap_or_default();
            (g, x)
        })
        .collect();
    Ok((total, grids))
}

/// Everything live the agenda of `m` is drafted from, at `now_ms`.
pub async fn agenda_input(db: &Db, sid: i64, m: &Meeting, now_ms: i64) -> Result<AgendaInput> {
    let kind = m.kind().ok_or(Error::NotFound)?;
    let overdue = overdue_cases(db, sid, &m.node_path, now_ms).await?;
    let hall_topics = crate::deliberation::halls::pending_topics(db, sid, &m.node_path)
        .await?
        .into_iter()
        .map(|t| HallTopic {
            hall_id: t.hall_id,
            topic_id: t.item_id.unwrap_or(0),
            hall_name: t.hall_name,
            topic: t.title,
            since: local_date(t.since),
        })
        .collect();
    let today = day_int(local_date(now_ms));
    let open_actions = sqlx::query(
        "SELECT a.id, a.title, a.owner_name, a.due_on FROM meeting_actions a \
         JOIN meetings m ON m.subdistrict_id = a.subdistrict_id AND m.id = a.meeting_id \
         WHERE a.subdistrict_id = $1 AND a.node_id = $2 AND a.kind = $3 AND a.status = 'open' \
         AND m.start_ms < $4 AND a.meeting_id <> $5",
    )
    .bind(sid)
    .bind(m.node_id)
    .bind(&m.kind)
    .bind(m.start_ms)
    .bind(m.id)
    .fetch_all(db.read())
    .await?
    .iter()
    .map(|r| {
        let due = opt_i64(r, "due_on");
        OpenAction {
            action_id: r.get("id"),
            title: r.get("title"),
            owner: r.get("owner_name"),
            due: due.and_then(date_of),
            overdue: due.is_some_and(|d| d < today),
        }
    })
    .collect();
    let measures = match kind {
        MeetingKind::QuarterlyReview | MeetingKind::AnnualEvaluation => {
            let annual = kind == MeetingKind::AnnualEvaluation;
            match rules::review_period(annual, m.date()) {
                None => None,
                Some((from, to, label)) => {
                    let (total, grids) = community_facts(db, sid, &m.node_path, from, to).await?;
                    Some(Measures {
                        period: label,
                        community: rates(&total),
                        grids: grids
                            .iter()
                            .map(|(g, f)| GridLine {
                                grid_id: g.id,
                                grid_name: g.name.clone(),
                                rates: rates(f),
                                cases: f.reported,
                            })
                            .collect(),
                    })
                }
            }
        }
        _ => None,
    };
    Ok(AgendaInput {
        kind,
        overdue_cases: overdue,
        hall_topics,
        open_actions,
        measures,
    })
}

fn item_kind_code(k: ItemKind) -> &'static str {
    match k {
        ItemKind::OpenAction => "open_action",
        ItemKind::OverdueCase => "overdue_case",
        ItemKind::HallTopic => "hall_topic",
        ItemKind::Measures => "measures",
        ItemKind::GridScore { .. } => "grid_score",
        ItemKind::More { .. } => "more",
        ItemKind::OtherBusiness => "other_business",
    }
}

fn source_cols(s: Option<SourceRef>) -> (&'static str, Option<i64>, Option<i64>) {
    match s {
        None => ("", None, None),
        Some(SourceRef::Case(id)) => ("case", Some(id), None),
        Some(SourceRef::HallTopic { hall_id, topic_id }) => {
            ("hall_topic", Some(hall_id), Some(topic_id))
        }
        Some(SourceRef::Action(id)) => ("action", Some(id), None),
        Some(SourceRef::Grid(id)) => ("grid", Some(id), None),
    }
}

#[allow(clippy::too_many_arguments)]
async fn insert_item(
    tx: &mut Tx,
    sid: i64,
    meeting_id: i64,
    position: i64,
    section: &str,
    kind: &str,
    title: &Text,
    detail: &Text,
    source: (&str, Option<i64>, Option<i64>),
) -> Result<i64> {
    let id = next_id();
    sqlx::query(
        "INSERT INTO meeting_agenda_items (subdistrict_id, id, meeting_id, position, section, item_kind, \
         title_zh, title_en, detail_zh, detail_en, source_kind, source_id, source_id2) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(sid)
    .bind(id)
    .bind(meeting_id)
    .bind(position)
    .bind(section)
    .bind(kind)
    .bind(title.zh.as_ref())
    .bind(title.en.as_ref())
    .bind(detail.zh.as_ref())
    .bind(detail.en.as_ref())
    .bind(source.0)
    .bind(source.1)
    .bind(source.2)
    .execute(&mut **tx)
    .await?;
    Ok(id)
}

/// Drafts the agenda from live data now, replacing the stored one (a snapshot).
pub async fn draft_agenda(db: &Db, actor: &Actor, id: i64) -> Result<Vec<AgendaRow>> {
    let m = runnable(db, actor, id).await?;
    not_cancelled(&m)?;
    let sid = actor.subdistrict_id;
    let now = crate::clock::now_ms();
    let input = agenda_input(db, sid, &m, now).await?;
    let items = agenda::draft(&input, &Limits::default());
    let mut tx = db.begin().await?;
    sqlx::query("DELETE FROM meeting_agenda_items WHERE subdistrict_id = $1 AND meeting_id = $2")
        .bind(sid)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    for (i, it) in items.iter().enumerate() {
        insert_item(
            &mut tx,
            sid,
            id,
            i64::try_from(i).unwrap_or(i64::MAX) * 10,
            it.section.code(),
            item_kind_code(it.kind),
            &it.title,
            &it.detail,
            source_cols(it.source),
        )
        .await?;
    }
    sqlx::query("UPDATE meetings SET agenda_drafted_at = $3, updated_at = $3 WHERE subdistrict_id = $1 AND id = $2")
        .bind(sid)
        .bind(id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        actor,
        Change::new("meeting.agenda_draft", "meeting", Some(id))
            .label(&m.node_name)
            .after(
                json!({ "items": items.len(), "overdue_cases": input.overdue_cases.len(),
                "hall_topics": input.hall_topics.len(), "open_actions": input.open_actions.len() }),
            ),
    )
    .await?;
    tx.commit().await?;
    agenda_items(db, sid, id).await
}

/// Adds an item at the end of the agenda.
pub async fn add_agenda_item(
    db: &Db,
    actor: &Actor,
    id: i64,
    title: &str,
    detail: &str,
) -> Result<AgendaRow> {
    let m = runnable(db, actor, id).await?;
    not_cancelled(&m)?;
    let mut errors = Vec::new();
    check_text("title", title, 200, true, &mut errors);
    check_text("detail", detail, 2000, false, &mut errors);
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    let sid = actor.subdistrict_id;
    let last = agenda_items(db, sid, id)
        .await?
        .last()
        .map_or(0, |x| x.position);
    let (t, d) = (title.trim().to_string(), detail.trim().to_string());
    let mut tx = db.begin().await?;
    let item = insert_item(
        &mut tx,
        sid,
        id,
        last + 10,
        "other_business",
        "custom",
        &Text::owned(t.clone(), t.clone()),
        &Text::owned(d.clone(), d.clone()),
        ("", None, None),
    )
    .await?;
    sqlx::query("UPDATE meetings SET updated_at = $3 WHERE subdistrict_id = $1 AND id = $2")
        .bind(sid)
        .bind(id)
        .bind(crate::clock::now_ms())
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        actor,
        Change::new("meeting.agenda_add", "meeting", Some(id))
            .label(&t)
            .after(json!({ "item_id": item, "title": t, "detail": d })),
    )
    .await?;
    tx.commit().await?;
    agenda_items(db, sid, id)
        .await?
        .into_iter()
        .find(|x| x.id == item)
        .ok_or(Error::NotFound)
}

/// Removes an agenda item.
pub async fn remove_agenda_item(db: &Db, actor: &Actor, id: i64, item_id: i64) -> Result<()> {
    let m = runnable(db, actor, id).await?;
    not_cancelled(&m)?;
    let sid = actor.subdistrict_id;
    let before = agenda_items(db, sid, id)
        .await?
        .into_iter()
        .find(|x| x.id == item_id)
        .ok_or(Error::NotFound)?;
    let mut tx = db.begin().await?;
    sqlx::query("DELETE FROM meeting_agenda_items WHERE subdistrict_id = $1 AND meeting_id = $2 AND id = $3")
        .bind(sid)
        .bind(id)
        .bind(item_id)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        actor,
        Change::new("meeting.agenda_remove", "meeting", Some(id))
            .label(&before.title_zh)
            .before(serde_json::to_value(&before).unwrap_or_default()),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Moves an agenda item one place up or down (swaps positions with its neighbour).
pub async fn move_agenda_item(
    db: &Db,
    actor: &Actor,
    id: i64,
    item_id: i64,
    up: bool,
) -> Result<()> {
    let m = runnable(db, actor, id).await?;
    not_cancelled(&m)?;
    let sid = actor.subdistrict_id;
    let items = agenda_items(db, sid, id).await?;
    let i = items
        .iter()
        .position(|x| x.id == item_id)
        .ok_or(Error::NotFound)?;
    let j = if up {
        i.checked_sub(1)
    } else {
        Some(i + 1).filter(|j| *j < items.len())
    };
    let Some(j) = j else { return Ok(()) };
    let (a, b) = (&items[i], &items[j]);
    // Equal positions cannot swap; spread them by index.
    let (pa, pb) = if a.position == b.position {
        (
            i64::try_from(j).unwrap_or(0) * 10,
            i64::try_from(i).unwrap_or(0) * 10,
        )
    } else {
        (b.position, a.position)
    };
    let mut tx = db.begin().await?;
    for (item, pos) in [(a.id, pa), (b.id, pb)] {
        sqlx::query("UPDATE meeting_agenda_items SET position = $4 WHERE subdistrict_id = $1 AND meeting_id = $2 AND id = $3")
            .bind(sid)
            .bind(id)
            .bind(item)
            .bind(pos)
            .execute(&mut *tx)
            .await?;
    }
    audit::record(
        &mut tx,
        actor,
        Change::new("meeting.agenda_move", "meeting", Some(id))
            .label(&a.title_zh)
            .after(json!({ "item_id": item_id, "up": up })),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------- attendance

#[derive(Debug, Clone, Serialize)]
pub struct Attendee {
    pub id: i64,
    pub user_id: Option<i64>,
    pub name: String,
    pub status: String,
}

pub async fn attendance(db: &Db, sid: i64, meeting_id: i64) -> Result<Vec<Attendee>> {
    Ok(sqlx::query(
        "SELECT id, user_id, name, status FROM meeting_attendance WHERE subdistrict_id = $1 AND meeting_id = $2 \
         ORDER BY name, id",
    )
    .bind(sid)
    .bind(meeting_id)
    .fetch_all(db.read())
    .await?
    .iter()
    .map(|r| Attendee {
        id: r.get("id"),
        user_id: opt_i64(r, "user_id"),
        name: r.get("name"),
        status: r.get("status"),
    })
    .collect())
}

/// Whom a request lists: a user, or a free name, and how they attended.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewAttendee {
    #[serde(default)]
    pub user_id: Option<i64>,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub status: String,
}

/// Records one person's attendance (a second record for the same name updates it).
pub async fn set_attendance(
    db: &Db,
    actor: &Actor,
    meeting_id: i64,
    mut a: NewAttendee,
) -> Result<Attendee> {
    let m = runnable(db, actor, meeting_id).await?;
    not_cancelled(&m)?;
    let sid = actor.subdistrict_id;
    let mut errors = Vec::new();
    if !rules::ATTENDANCE.contains(&a.status.trim()) {
        errors.push(FieldError::new(
            "status",
            Text::new(
                "请选择出席、缺席或请假",
                "choose present, absent or excused",
            ),
        ));
    }
    if let Some(u) = a.user_id {
        match crate::auth::users::by_id(db, sid, u).await {
            Ok(user) if a.name.trim().is_empty() => a.name = user.display_name,
            Ok(_) => {}
            Err(Error::NotFound) => errors.push(FieldError::new(
                "user_id",
                Text::new("没有这个用户", "no such user"),
            )),
            Err(e) => return Err(e),
        }
    }
    check_text(
        "name",
        &a.name,
        100,
        errors.iter().all(|e| e.field != "user_id"),
        &mut errors,
    );
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    let (name, status) = (a.name.trim().to_string(), a.status.trim().to_string());
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO meeting_attendance (subdistrict_id, id, meeting_id, user_id, name, status) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (subdistrict_id, meeting_id, name) DO UPDATE SET \
         status = excluded.status, user_id = COALESCE(excluded.user_id, meeting_attendance.user_id)",
    )
    .bind(sid)
    .bind(next_id())
    .bind(meeting_id)
    .bind(a.user_id)
    .bind(&name)
    .bind(&status)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE meetings SET updated_at = $3 WHERE subdistrict_id = $1 AND id = $2")
        .bind(sid)
        .bind(meeting_id)
        .bind(crate::clock::now_ms())
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        actor,
        Change::new("meeting.attendance", "meeting", Some(meeting_id))
            .label(&name)
            .after(json!({ "user_id": a.user_id, "name": name, "status": status })),
    )
    .await?;
    tx.commit().await?;
    attendance(db, sid, meeting_id)
        .await?
        .into_iter()
        .find(|x| x.name == name)
        .ok_or(Error::NotFound)
}

/// Removes one line of the attendance.
pub async fn remove_attendee(
    db: &Db,
    actor: &Actor,
    meeting_id: i64,
    attendee_id: i64,
) -> Result<()> {
    let m = runnable(db, actor, meeting_id).await?;
    not_cancelled(&m)?;
    let sid = actor.subdistrict_id;
    let before = attendance(db, sid, meeting_id)
        .await?
        .into_iter()
        .find(|x| x.id == attendee_id)
        .ok_or(Error::NotFound)?;
    let mut tx = db.begin().await?;
    sqlx::query(
        "DELETE FROM meeting_attendance WHERE subdistrict_id = $1 AND meeting_id = $2 AND id = $3",
    )
    .bind(sid)
    .bind(meeting_id)
    .bind(attendee_id)
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        actor,
        Change::new("meeting.attendance_remove", "meeting", Some(meeting_id))
            .label(&before.name)
            .before(serde_json::to_value(&before).unwrap_or_default()),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------- decisions and actions

#[derive(Debug, Clone, Serialize)]
pub struct FollowUp {
    pub id: i64,
    pub meeting_id: i64,
    pub decision_id: i64,
    pub node_id: i64,
    pub kind: String,
    pub title: String,
    pub owner_unit_id: Option<i64>,
    pub owner_user_id: Option<i64>,
    pub owner_name: String,
    /// `yyyy-mm-dd`.
    pub due_on: Option<String>,
    pub status: String,
    pub case_id: Option<i64>,
    pub case_number: Option<String>,
    pub done_at: Option<i64>,
    pub created_at: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Decision {
    pub id: i64,
    pub meeting_id: i64,
    pub body: String,
    pub created_at: i64,
    pub actions: Vec<FollowUp>,
}

const ACTION_SELECT: &str = "SELECT a.id, a.meeting_id, a.decision_id, a.node_id, a.kind, a.title, a.owner_unit_id, \
     a.owner_user_id, a.owner_name, a.due_on, a.status, a.case_id, a.done_at, a.created_at, c.number AS case_number \
     FROM meeting_actions a LEFT JOIN cases c ON c.subdistrict_id = a.subdistrict_id AND c.id = a.case_id \
     WHERE a.subdistrict_id = $1";

fn action_from(r: &AnyRow) -> FollowUp {
    FollowUp {
        id: r.get("id"),
        meeting_id: r.get("meeting_id"),
        decision_id: r.get("decision_id"),
        node_id: r.get("node_id"),
        kind: r.get("kind"),
        title: r.get("title"),
        owner_unit_id: opt_i64(r, "owner_unit_id"),
        owner_user_id: opt_i64(r, "owner_user_id"),
        owner_name: r.get("owner_name"),
        due_on: opt_i64(r, "due_on").map(day_text),
        status: r.get("status"),
        case_id: opt_i64(r, "case_id"),
        case_number: text(r, "case_number"),
        done_at: opt_i64(r, "done_at"),
        created_at: r.get("created_at"),
    }
}

/// One action (no access check).
pub async fn action(db: &Db, sid: i64, id: i64) -> Result<FollowUp> {
    let r = sqlx::query(&format!("{ACTION_SELECT} AND a.id = $2"))
        .bind(sid)
        .bind(id)
        .fetch_optional(db.read())
        .await?
        .ok_or(Error::NotFound)?;
    Ok(action_from(&r))
}

/// A meeting's decisions with their actions.
pub async fn decisions(db: &Db, sid: i64, meeting_id: i64) -> Result<Vec<Decision>> {
    let rows = sqlx::query(
        "SELECT id, meeting_id, body, created_at FROM meeting_decisions WHERE subdistrict_id = $1 \
         AND meeting_id = $2 ORDER BY created_at, id",
    )
    .bind(sid)
    .bind(meeting_id)
    .fetch_all(db.read())
    .await?;
    let acts: Vec<FollowUp> = sqlx::query(&format!(
        "{ACTION_SELECT} AND a.meeting_id = $2 ORDER BY a.created_at, a.id"
    ))
    .bind(sid)
    .bind(meeting_id)
    .fetch_all(db.read())
    .await?
    .iter()
    .map(action_from)
    .collect();
    Ok(rows
        .iter()
        .map(|r| {
            let id: i64 = r.get("id");
            Decision {
                id,
                meeting_id: r.get("meeting_id"),
                body: r.get("body"),
                created_at: r.get("created_at"),
                actions: acts
                    .iter()
                    .filter(|a| a.decision_id == id)
                    .cloned()
                    .collect(),
            }
        })
        .collect())
}

/// The open actions of every community the actor runs, oldest due first.
pub async fn my_open_actions(
    db: &Db,
    actor: &Actor,
    limit: usize,
) -> Result<Vec<(FollowUp, String)>> {
    let rows = sqlx::query(&format!(
        "{ACTION_SELECT} AND a.status = 'open' ORDER BY a.due_on IS NULL, a.due_on, a.created_at LIMIT 1000"
    ))
    .bind(actor.subdistrict_id)
    .fetch_all(db.read())
    .await?;
    let mut paths: HashMap<i64, (String, String)> = HashMap::new();
    let mut out = Vec::new();
    for r in &rows {
        let a = action_from(r);
        let (path, name) = match paths.get(&a.node_id) {
            Some(x) => x.clone(),
            None => {
                let n = tree::node(db, actor.subdistrict_id, a.node_id).await?;
                paths.insert(a.node_id, (n.path.clone(), n.name.clone()));
                (n.path, n.name)
            }
        };
        if staff(actor, &path) {
            out.push((a, name));
        }
        if out.len() >= limit {
            break;
        }
    }
    Ok(out)
}

/// Records a decision of a meeting.
pub async fn add_decision(db: &Db, actor: &Actor, meeting_id: i64, body: &str) -> Result<Decision> {
    let m = runnable(db, actor, meeting_id).await?;
    not_cancelled(&m)?;
    let mut errors = Vec::new();
    check_text("body", body, 4000, true, &mut errors);
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    let sid = actor.subdistrict_id;
    let id = next_id();
    let now = crate::clock::now_ms();
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO meeting_decisions (subdistrict_id, id, meeting_id, body, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(sid)
    .bind(id)
    .bind(meeting_id)
    .bind(body.trim())
    .bind(by(actor))
    .bind(now)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE meetings SET updated_at = $3 WHERE subdistrict_id = $1 AND id = $2")
        .bind(sid)
        .bind(meeting_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        actor,
        Change::new("meeting.decision", "meeting", Some(meeting_id))
            .label(&m.node_name)
            .after(json!({ "decision_id": id, "body": body.trim() })),
    )
    .await?;
    tx.commit().await?;
    decisions(db, sid, meeting_id)
        .await?
        .into_iter()
        .find(|d| d.id == id)
        .ok_or(Error::NotFound)
}

/// A follow-up action as a request sends it. The owner is a unit, a user, or a free name.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewAction {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub owner_unit_id: Option<i64>,
    #[serde(default)]
    pub owner_user_id: Option<i64>,
    #[serde(default)]
    pub owner_name: String,
    /// `yyyy-mm-dd`, optional.
    #[serde(default)]
    pub due_on: String,
}

/// Adds a follow-up action to a decision.
pub async fn add_action(
    db: &Db,
    actor: &Actor,
    meeting_id: i64,
    decision_id: i64,
    mut a: NewAction,
) -> Result<FollowUp> {
    let m = runnable(db, actor, meeting_id).await?;
    not_cancelled(&m)?;
    let sid = actor.subdistrict_id;
    if !decisions(db, sid, meeting_id)
        .await?
        .iter()
        .any(|d| d.id == decision_id)
    {
        return Err(Error::NotFound);
    }
    let mut errors = Vec::new();
    check_text("title", &a.title, 200, true, &mut errors);
    let mut known = None;
    if let Some(u) = a.owner_unit_id {
        match crate::cases::routing::store::unit(db, sid, u).await? {
            Some(unit) => known = Some(unit.name),
            None => errors.push(FieldError::new(
                "owner_unit_id",
                Text::new("没有这个单位", "no such unit"),
            )),
        }
    }
    if let Some(u) = a.owner_user_id {
        match crate::auth::users::by_id(db, sid, u).await {
            Ok(user) => known = known.or(Some(user.display_name)),
            Err(Error::NotFound) => errors.push(FieldError::new(
                "owner_user_id",
                Text::new("没有这个用户", "no such user"),
            )),
            Err(e) => return Err(e),
        }
    }
    if a.owner_name.trim().is_empty() {
        match known {
            Some(n) => a.owner_name = n,
            None if errors.is_empty() => errors.push(FieldError::new(
                "owner_name",
                Text::new(
                    "请指定责任单位、责任人或填写名称",
                    "choose the owning unit or user, or type a name",
                ),
            )),
            None => {}
        }
    }
    check_text("owner_name", &a.owner_name, 100, false, &mut errors);
    let due = if a.due_on.trim().is_empty() {
        None
    } else {
        match crate::clock::parse_local_date(&a.due_on) {
            Some(ms) => Some(day_int(local_date(ms))),
            None => {
                errors.push(FieldError::new(
                    "due_on",
                    Text::new("日期格式应为 2026-03-01", "a date like 2026-03-01"),
                ));
                None
            }
        }
    };
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    let id = next_id();
    let now = crate::clock::now_ms();
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO meeting_actions (subdistrict_id, id, meeting_id, decision_id, node_id, kind, title, \
         owner_unit_id, owner_user_id, owner_name, due_on, status, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'open', $12, $13, $13)",
    )
    .bind(sid)
    .bind(id)
    .bind(meeting_id)
    .bind(decision_id)
    .bind(m.node_id)
    .bind(&m.kind)
    .bind(a.title.trim())
    .bind(a.owner_unit_id)
    .bind(a.owner_user_id)
    .bind(a.owner_name.trim())
    .bind(due)
    .bind(by(actor))
    .bind(now)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE meetings SET updated_at = $3 WHERE subdistrict_id = $1 AND id = $2")
        .bind(sid)
        .bind(meeting_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        actor,
        Change::new("meeting.action_add", "meeting_action", Some(id))
            .label(a.title.trim())
            .after(json!({ "meeting_id": meeting_id, "decision_id": decision_id, "title": a.title.trim(),
                "owner_unit_id": a.owner_unit_id, "owner_user_id": a.owner_user_id,
                "owner_name": a.owner_name.trim(), "due_on": due })),
    )
    .await?;
    tx.commit().await?;
    action(db, sid, id).await
}

/// The action and its meeting, for staff running that meeting.
async fn runnable_action(db: &Db, actor: &Actor, id: i64) -> Result<(FollowUp, Meeting)> {
    let a = action(db, actor.subdistrict_id, id).await?;
    let m = runnable(db, actor, a.meeting_id).await?;
    Ok((a, m))
}

fn not_open() -> Error {
    conflict(
        "此事项已完成或已转为事项",
        "the action is already done or turned into a case",
    )
}

/// Marks an open action done.
pub async fn action_done(db: &Db, actor: &Actor, id: i64) -> Result<FollowUp> {
    let (a, _) = runnable_action(db, actor, id).await?;
    if a.status != "open" {
        return Err(not_open());
    }
    let now = crate::clock::now_ms();
    let mut tx = db.begin().await?;
    let done = sqlx::query(
        "UPDATE meeting_actions SET status = 'done', done_at = $3, updated_at = $3 \
         WHERE subdistrict_id = $1 AND id = $2 AND status = 'open'",
    )
    .bind(actor.subdistrict_id)
    .bind(id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(not_open());
    }
    audit::record(
        &mut tx,
        actor,
        Change::new("meeting.action_done", "meeting_action", Some(id))
            .label(&a.title)
            .before(json!({ "status": a.status }))
            .after(json!({ "status": "done" })),
    )
    .await?;
    tx.commit().await?;
    action(db, actor.subdistrict_id, id).await
}

/// What a request sends to raise a case (from an action or a contact).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ToCase {
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub node_id: Option<i64>,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub description: String,
}

/// Links a case to a row in one transaction with its audit entry; false when the row was
/// already linked (someone else did it first).
pub(super) async fn link_case(
    db: &Db,
    actor: &Actor,
    table: &str,
    set_status: bool,
    id: i64,
    c: &CaseRecord,
    audit_action: &str,
) -> Result<bool> {
    let status = if set_status { ", status = 'case'" } else { "" };
    let updated = if table == "meeting_actions" {
        ", updated_at = $4"
    } else {
        ""
    };
    let sql = format!(
        "UPDATE {table} SET case_id = $3{status}{updated} WHERE subdistrict_id = $1 AND id = $2 AND case_id IS NULL"
    );
    let mut tx = db.begin().await?;
    let q = sqlx::query(&sql)
        .bind(actor.subdistrict_id)
        .bind(id)
        .bind(c.id);
    let q = if updated.is_empty() {
        q
    } else {
        q.bind(crate::clock::now_ms())
    };
    let done = q.execute(&mut *tx).await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    audit::record(
        &mut tx,
        actor,
        Change::new(audit_action, table, Some(id))
            .label(&c.number)
            .after(json!({ "case_id": c.id, "case_number": c.number })),
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Turns an open action into a case: opens it through the case store (which checks the
/// category and the place — a grid or below, in the actor's reach — and writes the case with
/// its own audit entry), then links the action to it. The idempotency key is the action's,
/// so a retry after a failed link finds the same case.
pub async fn action_to_case(
    db: &Db,
    actor: &Actor,
    id: i64,
    t: ToCase,
) -> Result<(FollowUp, CaseRecord)> {
    let (a, m) = runnable_action(db, actor, id).await?;
    if a.status != "open" {
        return Err(not_open());
    }
    let decision = decisions(db, actor.subdistrict_id, m.id)
        .await?
        .into_iter()
        .find(|d| d.id == a.decision_id)
        .map(|d| d.body)
        .unwrap_or_default();
    let title = if t.title.trim().is_empty() {
        a.title.clone()
    } else {
        t.title.trim().to_string()
    };
    let description = if t.description.trim().is_empty() {
        format!(
            "{}{}({})决定:{}\n跟进事项:{}(责任:{})",
            m.node_name,
            m.kind_label().zh,
            m.occurs_on,
            decision,
            a.title,
            a.owner_name
        )
    } else {
        t.description.trim().to_string()
    };
    let new = NewCase {
        category: t.category.trim().to_string(),
        node_id: t.node_id.unwrap_or(0),
        title: title.chars().take(cases::MAX_TITLE_CHARS).collect(),
        description,
        source_ref: format!("meeting:{}:action:{}", m.id, a.id),
        ..Default::default()
    };
    let key = format!("five-step-action-{}", a.id);
    let opened = cases::open_case(db, actor, new, ACTION_CASE_CHANNEL, Some(&key)).await?;
    let c = opened.case().clone();
    link_case(
        db,
        actor,
        "meeting_actions",
        true,
        id,
        &c,
        "meeting.action_case",
    )
    .await?;
    Ok((action(db, actor.subdistrict_id, id).await?, c))
}

// ---------------------------------------------------------------- scorecard

/// One line of the annual scorecard.
#[derive(Debug, Clone, Serialize)]
pub struct ScoreLine {
    pub id: i64,
    pub name: String,
    pub facts: Facts,
}

/// The community's and each grid's counters for a calendar year.
pub async fn scorecard(
    db: &Db,
    actor: &Actor,
    node_id: i64,
    year: i32,
) -> Result<(tree::Node, ScoreLine, Vec<ScoreLine>)> {
    let node = running_node(db, actor, node_id).await?;
    let (from, to, _) = rules::year_period(year);
    let (total, grids) = community_facts(db, actor.subdistrict_id, &node.path, from, to).await?;
    let community = ScoreLine {
        id: node.id,
        name: node.name.clone(),
        facts: total,
    };
    let lines = grids
        .into_iter()
        .map(|(g, f)| ScoreLine {
            id: g.id,
            name: g.name,
            facts: f,
        })
        .collect();
    Ok((node, community, lines))
}
