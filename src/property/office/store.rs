//! The joint office in the database (migration 17): offices per estate place with their three
//! parties and weekly slots, sessions materialised idempotently per (office, day, start),
//! check-ins per party, the visitor log, and the matters raised there (settled there, or
//! raised as a case through `cases::store::open_case`). Every write checks access first and is
//! one transaction with its audit entry.
//!
//! Who may: staff whose roles reach the office's place (`allows(EditRegistry)`) manage it;
//! users who check in for one of its parties (`rules::checks_in_for`) check in, log visitors
//! and raise matters; whoever may read the place's tree (`allows(ReadTree)`) reads it.

use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::Row;
use time::Date;

use super::rules::{
    self, check_text, CheckInFact, MatterFact, Party, Report, Sitting, Slot, Timing, PARTIES,
};
use crate::access::{allows, Action, Actor, Target};
use crate::audit::{self, Change};
use crate::cases::store::{self as cases, CaseRecord, NewCase, MAX_BACKDATE_MS};
use crate::error::{Error, FieldError, Result};
use crate::i18n::Text;
use crate::storage::{is_unique_violation, next_id, opt_i64, Db};
use crate::tree::{store as tree, NodeKind};

/// The channel a case raised from a matter comes in by: a counter visit.
pub const MATTER_CASE_CHANNEL: &str = "visit_counter";

/// Whether the actor manages offices at `path`.
pub fn manages(actor: &Actor, path: &str) -> bool {
    allows(actor, Action::EditRegistry, Target::Node { path })
}

fn by(actor: &Actor) -> Option<i64> {
    (actor.user_id != 0).then_some(actor.user_id)
}

fn s(r: &AnyRow, c: &str) -> String {
    r.try_get::<Option<String>, _>(c)
        .ok()
        .flatten()
        .unwrap_or_default()
}

fn conflict(zh: &'static str, en: &'static str) -> Error {
    Error::Conflict(Text::new(zh, en))
}

/// Places an office may sit at: a community, a grid or a building (an estate).
pub fn is_office_place(kind: NodeKind) -> bool {
    matches!(
        kind,
        NodeKind::Community | NodeKind::Grid | NodeKind::Building
    )
}

/// One of the office's parties and the organisation sitting for it.
#[derive(Debug, Clone, Serialize)]
pub struct Seat {
    pub party: Party,
    pub org_id: Option<i64>,
    pub org_name: String,
}

/// An office as pages and the API show it.
#[derive(Debug, Clone, Serialize)]
pub struct Office {
    pub id: i64,
    pub node_id: i64,
    pub node_path: String,
    pub node_name: String,
    pub name: String,
    pub room: String,
    pub seats: Vec<Seat>,
    pub slots: Vec<Slot>,
    pub skip_holidays: bool,
    pub tolerance_minutes: i64,
    pub version: i64,
}

impl Office {
    pub fn org_of(&self, p: Party) -> Option<i64> {
        self.seats
            .iter()
            .find(|s| s.party == p)
            .and_then(|s| s.org_id)
    }

    /// The parties that sit (have an organisation), in order.
    pub fn parties(&self) -> Vec<Party> {
        self.seats
            .iter()
            .filter(|s| s.org_id.is_some())
            .map(|s| s.party)
            .collect()
    }

    /// The parties the actor checks in for.
    pub fn parties_of(&self, actor: &Actor) -> Vec<Party> {
        PARTIES
            .into_iter()
            .filter(|&p| {
                actor
                    .grants
                    .iter()
                    .any(|g| rules::checks_in_for(g, p, &self.node_path, self.org_of(p)))
            })
            .collect()
    }

    /// Whether the actor sits here for a party or manages the office.
    pub fn takes_part(&self, actor: &Actor) -> bool {
        manages(actor, &self.node_path) || !self.parties_of(actor).is_empty()
    }
}

const SELECT: &str = "SELECT o.id, o.node_id, o.node_path, o.name, o.room, o.residents_committee_id, \
    o.owners_committee_id, o.property_company_id, o.slots, o.skip_holidays, o.tolerance_minutes, o.version, \
    n.name AS node_name, rc.name AS rc_name, oc.name AS oc_name, pc.name AS pc_name FROM joint_offices o \
    LEFT JOIN nodes n ON n.subdistrict_id = o.subdistrict_id AND n.id = o.node_id \
    LEFT JOIN orgs rc ON rc.subdistrict_id = o.subdistrict_id AND rc.id = o.residents_committee_id \
    LEFT JOIN orgs oc ON oc.subdistrict_id = o.subdistrict_id AND oc.id = o.owners_committee_id \
    LEFT JOIN orgs pc ON pc.subdistrict_id = o.subdistrict_id AND pc.id = o.property_company_id \
    WHERE o.subdistrict_id = $1";

fn office_from(r: &AnyRow) -> Office {
    let seat = |party, id: &str, name: &str| Seat {
        party,
        org_id: opt_i64(r, id),
        org_name: s(r, name),
    };
    Office {
        id: r.get("id"),
        node_id: r.get("node_id"),
        node_path: r.get("node_path"),
        node_name: s(r, "node_name"),
        name: r.get("name"),
        room: s(r, "room"),
        seats: vec![
            seat(
                Party::ResidentsCommittee,
                "residents_committee_id",
                "rc_name",
            ),
            seat(Party::OwnersCommittee, "owners_committee_id", "oc_name"),
            seat(Party::PropertyCompany, "property_company_id", "pc_name"),
        ],
        slots: serde_json::from_str(&s(r, "slots")).unwrap_or_default(),
        skip_holidays: r.get::<i64, _>("skip_holidays") != 0,
        tolerance_minutes: r.get("tolerance_minutes"),
        version: r.get("version"),
    }
}

async fn load(db: &Db, sid: i64, id: i64) -> Result<Office> {
    let r = sqlx::query(&format!("{SELECT} AND o.id = $2"))
        .bind(sid)
        .bind(id)
        .fetch_optional(db.read())
        .await?
        .ok_or(Error::NotFound)?;
    Ok(office_from(&r))
}

/// An office the actor may read: 404 if absent, 403 out of reach.
pub async fn readable(db: &Db, actor: &Actor, id: i64) -> Result<Office> {
    let o = load(db, actor.subdistrict_id, id).await?;
    if allows(actor, Action::ReadTree, Target::Node { path: &o.node_path }) || o.takes_part(actor) {
        Ok(o)
    } else {
        Err(Error::Forbidden)
    }
}

/// An office the actor manages.
pub async fn managed(db: &Db, actor: &Actor, id: i64) -> Result<Office> {
    let o = readable(db, actor, id).await?;
    if manages(actor, &o.node_path) {
        Ok(o)
    } else {
        Err(Error::Forbidden)
    }
}

/// An office where the actor takes part (manages it or sits for a party).
pub async fn taking_part(db: &Db, actor: &Actor, id: i64) -> Result<Office> {
    let o = readable(db, actor, id).await?;
    if o.takes_part(actor) {
        Ok(o)
    } else {
        Err(Error::Forbidden)
    }
}

/// The offices the actor may read, in tree order.
pub async fn list(db: &Db, actor: &Actor) -> Result<Vec<Office>> {
    let rows = sqlx::query(&format!("{SELECT} ORDER BY o.node_path, o.name"))
        .bind(actor.subdistrict_id)
        .fetch_all(db.read())
        .await?;
    Ok(rows
        .iter()
        .map(office_from)
        .filter(|o| {
            allows(actor, Action::ReadTree, Target::Node { path: &o.node_path })
                || o.takes_part(actor)
        })
        .collect())
}

/// The estate places where the actor may open an office.
pub async fn places(db: &Db, actor: &Actor) -> Result<Vec<tree::Node>> {
    let rows = sqlx::query(
        "SELECT id, path FROM nodes WHERE subdistrict_id = $1 AND kind IN ('community', 'grid', 'building') ORDER BY path",
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

/// Organisations of one kind (for the forms' lists).
pub async fn orgs_of_kind(db: &Db, sid: i64, kind: &str) -> Result<Vec<(i64, String)>> {
    let rows = sqlx::query(
        "SELECT id, name FROM orgs WHERE subdistrict_id = $1 AND kind = $2 ORDER BY name",
    )
    .bind(sid)
    .bind(kind)
    .fetch_all(db.read())
    .await?;
    Ok(rows.iter().map(|r| (r.get("id"), r.get("name"))).collect())
}

/// What a request sends to open or change an office.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewOffice {
    #[serde(default)]
    pub node_id: Option<i64>,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub room: String,
    #[serde(default)]
    pub residents_committee_id: Option<i64>,
    #[serde(default)]
    pub owners_committee_id: Option<i64>,
    #[serde(default)]
    pub property_company_id: Option<i64>,
    #[serde(default)]
    pub slots: Vec<Slot>,
    /// Default true.
    #[serde(default)]
    pub skip_holidays: Option<bool>,
    /// Default 15.
    #[serde(default)]
    pub tolerance_minutes: Option<i64>,
    /// For a change: the version it was made on.
    #[serde(default)]
    pub version: Option<i64>,
}

async fn check_office(
    db: &Db,
    sid: i64,
    o: &NewOffice,
    errors: &mut Vec<FieldError>,
) -> Result<()> {
    check_text("name", &o.name, 100, true, errors);
    check_text("room", &o.room, 200, false, errors);
    errors.extend(rules::check_slots(&o.slots));
    let tol = o.tolerance_minutes.unwrap_or(15);
    if !(0..=rules::MAX_TOLERANCE_MINUTES).contains(&tol) {
        errors.push(FieldError::new(
            "tolerance_minutes",
            Text::owned(
                format!("容差为 0 到 {} 分钟", rules::MAX_TOLERANCE_MINUTES),
                format!(
                    "the tolerance is 0 to {} minutes",
                    rules::MAX_TOLERANCE_MINUTES
                ),
            ),
        ));
    }
    for (party, field, id) in [
        (
            Party::ResidentsCommittee,
            "residents_committee_id",
            o.residents_committee_id,
        ),
        (
            Party::OwnersCommittee,
            "owners_committee_id",
            o.owners_committee_id,
        ),
        (
            Party::PropertyCompany,
            "property_company_id",
            o.property_company_id,
        ),
    ] {
        let Some(id) = id else { continue };
        let kind = sqlx::query("SELECT kind FROM orgs WHERE subdistrict_id = $1 AND id = $2")
            .bind(sid)
            .bind(id)
            .fetch_optional(db.read())
            .await?
            .map(|r| r.get::<String, _>("kind"));
        if kind.as_deref() != Some(party.org_kind()) {
            let l = party.label();
            errors.push(FieldError::new(
                field,
                Text::owned(format!("请选择一个{}", l.zh), format!("choose a {}", l.en)),
            ));
        }
    }
    Ok(())
}

fn office_json(o: &NewOffice) -> serde_json::Value {
    json!({
        "name": o.name.trim(), "room": o.room.trim(),
        "residents_committee_id": o.residents_committee_id,
        "owners_committee_id": o.owners_committee_id,
        "property_company_id": o.property_company_id,
        "slots": o.slots, "skip_holidays": o.skip_holidays.unwrap_or(true),
        "tolerance_minutes": o.tolerance_minutes.unwrap_or(15),
    })
}

fn name_taken(e: &sqlx::Error) -> Option<Error> {
    is_unique_violation(e).then(|| {
        Error::field(
            "name",
            Text::new(
                "此地已有同名的合署办公点",
                "an office of that name is already there",
            ),
        )
    })
}

/// Opens an office at an estate place the actor manages.
pub async fn create(db: &Db, actor: &Actor, o: NewOffice) -> Result<Office> {
    let sid = actor.subdistrict_id;
    let mut errors = Vec::new();
    let node = match o.node_id {
        None => None,
        Some(id) => match tree::node(db, sid, id).await {
            Ok(n) => Some(n),
            Err(Error::NotFound) => None,
            Err(e) => return Err(e),
        },
    };
    match &node {
        None => errors.push(FieldError::new(
            "node_id",
            Text::new(
                "请选择小区(居民区、网格或楼栋)",
                "choose the estate (a community, grid or building)",
            ),
        )),
        Some(n) if !manages(actor, &n.path) => return Err(Error::Forbidden),
        Some(n) if !is_office_place(n.kind) => errors.push(FieldError::new(
            "node_id",
            Text::new(
                "合署办公设在居民区、网格或楼栋",
                "an office sits at a community, grid or building",
            ),
        )),
        Some(_) => {}
    }
    check_office(db, sid, &o, &mut errors).await?;
    let node = match (node, errors.is_empty()) {
        (Some(n), true) => n,
        _ => return Err(Error::Invalid(errors)),
    };
    let id = next_id();
    let now = crate::clock::now_ms();
    let mut tx = db.begin().await?;
    let done = sqlx::query(
        "INSERT INTO joint_offices (subdistrict_id, id, node_id, node_path, name, room, residents_committee_id, \
         owners_committee_id, property_company_id, slots, skip_holidays, tolerance_minutes, created_by, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)",
    )
    .bind(sid)
    .bind(id)
    .bind(node.id)
    .bind(&node.path)
    .bind(o.name.trim())
    .bind(o.room.trim())
    .bind(o.residents_committee_id)
    .bind(o.owners_committee_id)
    .bind(o.property_company_id)
    .bind(serde_json::to_string(&o.slots).unwrap_or_else(|_| "[]".into()))
    .bind(i64::from(o.skip_holidays.unwrap_or(true)))
    .bind(o.tolerance_minutes.unwrap_or(15))
    .bind(by(actor))
    .bind(now)
    .execute(&mut *tx)
    .await;
    if let Err(e) = done {
        return Err(name_taken(&e).unwrap_or_else(|| e.into()));
    }
    audit::record(
        &mut tx,
        actor,
        Change::new("office.create", "joint_office", Some(id))
            .label(o.name.trim())
            .after(office_json(&o)),
    )
    .await?;
    tx.commit().await?;
    load(db, sid, id).await
}

/// Changes an office's name, room, parties, slots or tolerance (not its place). A stale
/// `version` is 409.
pub async fn update(db: &Db, actor: &Actor, id: i64, o: NewOffice) -> Result<Office> {
    let sid = actor.subdistrict_id;
    let old = managed(db, actor, id).await?;
    let mut errors = Vec::new();
    check_office(db, sid, &o, &mut errors).await?;
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    let version = o.version.unwrap_or(old.version);
    let mut tx = db.begin().await?;
    let done = sqlx::query(
        "UPDATE joint_offices SET name = $3, room = $4, residents_committee_id = $5, owners_committee_id = $6, \
         property_company_id = $7, slots = $8, skip_holidays = $9, tolerance_minutes = $10, updated_at = $11, \
         version = version + 1 WHERE subdistrict_id = $1 AND id = $2 AND version = $12",
    )
    .bind(sid)
    .bind(id)
    .bind(o.name.trim())
    .bind(o.room.trim())
    .bind(o.residents_committee_id)
    .bind(o.owners_committee_id)
    .bind(o.property_company_id)
    .bind(serde_json::to_string(&o.slots).unwrap_or_else(|_| "[]".into()))
    .bind(i64::from(o.skip_holidays.unwrap_or(true)))
    .bind(o.tolerance_minutes.unwrap_or(15))
    .bind(crate::clock::now_ms())
    .bind(version)
    .execute(&mut *tx)
    .await;
    match done {
        Err(e) => return Err(name_taken(&e).unwrap_or_else(|| e.into())),
        Ok(d) if d.rows_affected() == 0 => {
            return Err(conflict(
                "合署办公点已被他人修改,请刷新后重试",
                "the office was changed meanwhile; reload and try again",
            ))
        }
        Ok(_) => {}
    }
    audit::record(
        &mut tx,
        actor,
        Change::new("office.update", "joint_office", Some(id))
            .label(o.name.trim())
            .before(
                json!({ "name": old.name, "room": old.room, "slots": old.slots,
                "seats": old.seats.iter().map(|s| s.org_id).collect::<Vec<_>>(),
                "skip_holidays": old.skip_holidays, "tolerance_minutes": old.tolerance_minutes }),
            )
            .after(office_json(&o)),
    )
    .await?;
    tx.commit().await?;
    load(db, sid, id).await
}

// ---------------------------------------------------------------- sessions and check-ins

/// A stored check-in.
#[derive(Debug, Clone, Serialize)]
pub struct CheckIn {
    pub id: i64,
    pub session_id: i64,
    pub day: String,
    pub start_min: i64,
    pub end_min: i64,
    pub party: Party,
    pub user_id: Option<i64>,
    pub user_name: String,
    pub at: i64,
    pub late_minutes: i64,
    pub left_at: Option<i64>,
    pub left_early: bool,
    pub recorded_by: Option<i64>,
}

impl CheckIn {
    pub fn sitting(&self) -> Option<Sitting> {
        Some(Sitting {
            day: rules::parse_day(&self.day)?,
            start_min: self.start_min,
            end_min: self.end_min,
        })
    }
}

const CHECKINS: &str = "SELECT c.id, c.session_id, c.party, c.user_id, c.at, c.late_minutes, c.left_at, \
    c.left_early, c.recorded_by, s.day, s.start_min, s.end_min, u.display_name AS user_name \
    FROM joint_office_checkins c JOIN joint_office_sessions s ON s.subdistrict_id = c.subdistrict_id \
    AND s.id = c.session_id LEFT JOIN users u ON u.subdistrict_id = c.subdistrict_id AND u.id = c.user_id \
    WHERE c.subdistrict_id = $1";

fn checkin_from(r: &AnyRow) -> CheckIn {
    CheckIn {
        id: r.get("id"),
        session_id: r.get("session_id"),
        day: r.get("day"),
        start_min: r.get("start_min"),
        end_min: r.get("end_min"),
        party: Party::parse(&s(r, "party")).unwrap_or(Party::ResidentsCommittee),
        user_id: opt_i64(r, "user_id"),
        user_name: s(r, "user_name"),
        at: r.get("at"),
        late_minutes: r.get("late_minutes"),
        left_at: opt_i64(r, "left_at"),
        left_early: r.get::<i64, _>("left_early") != 0,
        recorded_by: opt_i64(r, "recorded_by"),
    }
}

/// The office's check-ins on sessions from `from` to `to` (days, both included).
pub async fn checkins(
    db: &Db,
    sid: i64,
    office_id: i64,
    from: Date,
    to: Date,
) -> Result<Vec<CheckIn>> {
    let rows = sqlx::query(&format!(
        "{CHECKINS} AND c.office_id = $2 AND s.day >= $3 AND s.day <= $4 ORDER BY s.day, s.start_min, c.party"
    ))
    .bind(sid)
    .bind(office_id)
    .bind(rules::format_day(from))
    .bind(rules::format_day(to))
    .fetch_all(db.read())
    .await?;
    Ok(rows.iter().map(checkin_from).collect())
}

/// The sessions stored for an office from `from` to `to`.
pub async fn held(db: &Db, sid: i64, office_id: i64, from: Date, to: Date) -> Result<Vec<Sitting>> {
    let rows = sqlx::query(
        "SELECT day, start_min, end_min FROM joint_office_sessions WHERE subdistrict_id = $1 AND office_id = $2 \
         AND day >= $3 AND day <= $4 ORDER BY day, start_min",
    )
    .bind(sid)
    .bind(office_id)
    .bind(rules::format_day(from))
    .bind(rules::format_day(to))
    .fetch_all(db.read())
    .await?;
    Ok(rows
        .iter()
        .filter_map(|r| {
            Some(Sitting {
                day: rules::parse_day(&s(r, "day"))?,
                start_min: r.get("start_min"),
                end_min: r.get("end_min"),
            })
        })
        .collect())
}

/// The sittings the office's slots plan from `from` to `to`.
pub async fn planned(db: &Db, sid: i64, o: &Office, from: Date, to: Date) -> Result<Vec<Sitting>> {
    let cal = crate::cases::calendar_admin::calendar(db, sid).await?;
    Ok(rules::sittings(&o.slots, &cal, o.skip_holidays, from, to))
}

/// What a request sends to check in.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewCheckIn {
    /// The sitting's day, `YYYY-MM-DD`.
    #[serde(default)]
    pub day: String,
    /// The sitting's start, `09:00`.
    #[serde(default)]
    pub start: String,
    #[serde(default)]
    pub party: String,
    /// Staff recording for a party: when it really checked in (Unix ms). Others check in now.
    #[serde(default)]
    pub at: Option<i64>,
}

/// Checks a party in at one of the office's sittings: the party's own people at the moment,
/// or staff managing the office for them with the real time. The session is materialised
/// on the way (idempotent by its unique key); a second check-in of the party is 409.
pub async fn check_in(db: &Db, actor: &Actor, office_id: i64, c: NewCheckIn) -> Result<CheckIn> {
    let sid = actor.subdistrict_id;
    let o = taking_part(db, actor, office_id).await?;
    let now = crate::clock::now_ms();
    let mut errors = Vec::new();
    let day = rules::parse_day(&c.day);
    if day.is_none() {
        errors.push(FieldError::new(
            "day",
            Text::new("日期格式不对", "not a valid date"),
        ));
    }
    let start = crate::deliberation::cadence::LocalTime::parse(&c.start).ok();
    if start.is_none() {
        errors.push(FieldError::new(
            "start",
            Text::new("时间格式不对", "not a valid time"),
        ));
    }
    let party = Party::parse(&c.party);
    match party {
        None => errors.push(FieldError::new(
            "party",
            Text::new("请选择签到方", "choose the party"),
        )),
        Some(p) if o.org_of(p).is_none() => errors.push(FieldError::new(
            "party",
            Text::new(
                "该方未在此合署办公",
                "that party does not sit at this office",
            ),
        )),
        Some(_) => {}
    }
    let staff = manages(actor, &o.node_path);
    if let Some(p) = party {
        if !staff && !o.parties_of(actor).contains(&p) {
            return Err(Error::Forbidden);
        }
    }
    let at = match c.at {
        Some(t) if staff => {
            if t > now + 300_000 {
                errors.push(FieldError::new(
                    "at",
                    Text::new("时间不能在将来", "the time cannot be in the future"),
                ));
            } else if now - t > MAX_BACKDATE_MS {
                errors.push(FieldError::new(
                    "at",
                    Text::new(
                        "最多补记 30 天内的签到",
                        "check-ins up to 30 days back only",
                    ),
                ));
            }
            t
        }
        _ => now,
    };
    let (Some(day), Some(start), Some(party), true) = (day, start, party, errors.is_empty()) else {
        return Err(Error::Invalid(errors));
    };
    let start_min = i64::from(start.hour()) * 60 + i64::from(start.minute());
    // The sitting: planned by the current slots, or already stored (a slot changed since).
    let mut sitting = planned(db, sid, &o, day, day)
        .await?
        .into_iter()
        .find(|x| x.start_min == start_min);
    if sitting.is_none() {
        sitting = held(db, sid, o.id, day, day)
            .await?
            .into_iter()
            .find(|x| x.start_min == start_min);
    }
    let Some(sitting) = sitting else {
        return Err(Error::field(
            "start",
            Text::new("这一天这个时间没有合署办公", "the office does not sit then"),
        ));
    };
    let late_minutes = match rules::check_in_timing(
        sitting.start_ms(),
        sitting.end_ms(),
        o.tolerance_minutes,
        at,
    ) {
        Timing::Counted { late_minutes } => late_minutes,
        Timing::TooEarly => return Err(conflict("尚未到签到时间", "check-in is not open yet")),
        Timing::Over => return Err(conflict("本次合署办公已结束", "this sitting is over")),
    };
    let id = next_id();
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO joint_office_sessions (subdistrict_id, id, office_id, day, start_min, end_min, start_at, \
         end_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (subdistrict_id, office_id, day, start_min) DO NOTHING",
    )
    .bind(sid)
    .bind(next_id())
    .bind(o.id)
    .bind(rules::format_day(day))
    .bind(sitting.start_min)
    .bind(sitting.end_min)
    .bind(sitting.start_ms())
    .bind(sitting.end_ms())
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let session_id: i64 = sqlx::query(
        "SELECT id FROM joint_office_sessions WHERE subdistrict_id = $1 AND office_id = $2 AND day = $3 AND start_min = $4",
    )
    .bind(sid)
    .bind(o.id)
    .bind(rules::format_day(day))
    .bind(sitting.start_min)
    .fetch_one(&mut *tx)
    .await?
    .get("id");
    let done = sqlx::query(
        "INSERT INTO joint_office_checkins (subdistrict_id, id, office_id, session_id, party, user_id, at, \
         late_minutes, recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(sid)
    .bind(id)
    .bind(o.id)
    .bind(session_id)
    .bind(party.code())
    .bind((!staff || c.at.is_none()).then_some(by(actor)).flatten())
    .bind(at)
    .bind(late_minutes)
    .bind(by(actor))
    .bind(now)
    .execute(&mut *tx)
    .await;
    if let Err(e) = done {
        if is_unique_violation(&e) {
            return Err(conflict(
                "该方本次已签到",
                "that party has already checked in for this sitting",
            ));
        }
        return Err(e.into());
    }
    audit::record(
        &mut tx,
        actor,
        Change::new("office.check_in", "joint_office", Some(o.id))
            .label(&o.name)
            .after(
                json!({ "checkin_id": id, "sitting": sitting.label(), "party": party.code(),
                "at": at, "late_minutes": late_minutes }),
            ),
    )
    .await?;
    tx.commit().await?;
    checkin(db, sid, id).await
}

async fn checkin(db: &Db, sid: i64, id: i64) -> Result<CheckIn> {
    let r = sqlx::query(&format!("{CHECKINS} AND c.id = $2"))
        .bind(sid)
        .bind(id)
        .fetch_optional(db.read())
        .await?
        .ok_or(Error::NotFound)?;
    Ok(checkin_from(&r))
}

/// Checks a party out (once): leaving before the end minus the tolerance is leaving early.
pub async fn check_out(db: &Db, actor: &Actor, office_id: i64, checkin_id: i64) -> Result<CheckIn> {
    let sid = actor.subdistrict_id;
    let o = taking_part(db, actor, office_id).await?;
    let c = checkin(db, sid, checkin_id).await?;
    let staff = manages(actor, &o.node_path);
    if !staff && !o.parties_of(actor).contains(&c.party) {
        return Err(Error::Forbidden);
    }
    let sitting = c.sitting().ok_or(Error::NotFound)?;
    let now = crate::clock::now_ms();
    let at = now.max(c.at);
    let early = rules::leaves_early(sitting.end_ms(), o.tolerance_minutes, at);
    let mut tx = db.begin().await?;
    let done = sqlx::query(
        "UPDATE joint_office_checkins SET left_at = $4, left_early = $5 WHERE subdistrict_id = $1 AND id = $2 \
         AND office_id = $3 AND left_at IS NULL",
    )
    .bind(sid)
    .bind(checkin_id)
    .bind(o.id)
    .bind(at)
    .bind(i64::from(early))
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(conflict("已签退", "already checked out"));
    }
    audit::record(
        &mut tx,
        actor,
        Change::new("office.check_out", "joint_office", Some(o.id))
            .label(&o.name)
            .after(json!({ "checkin_id": checkin_id, "at": at, "left_early": early })),
    )
    .await?;
    tx.commit().await?;
    checkin(db, sid, checkin_id).await
}

// ---------------------------------------------------------------- visitors

/// A visitor log entry. `name` is masked unless the reader manages the office.
#[derive(Debug, Clone, Serialize)]
pub struct Visitor {
    pub id: i64,
    pub office_id: i64,
    pub visited_at: i64,
    pub name: String,
    pub purpose: String,
    pub recorded_by: Option<i64>,
    pub recorder_name: String,
}

/// What a request sends to log a visitor.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewVisitor {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub purpose: String,
    /// When they came (Unix ms); none means now.
    #[serde(default)]
    pub visited_at: Option<i64>,
}

fn check_when(field: &str, at: i64, now: i64, errors: &mut Vec<FieldError>) {
    if at > now + 300_000 {
        errors.push(FieldError::new(
            field,
            Text::new("时间不能在将来", "the time cannot be in the future"),
        ));
    } else if now - at > MAX_BACKDATE_MS {
        errors.push(FieldError::new(
            field,
            Text::new("最多补记 30 天内的记录", "up to 30 days back only"),
        ));
    }
}

/// The office's visitors from `from_ms` (inclusive) to `to_ms` (exclusive), newest first,
/// names masked in the list (PIPL: lists show `张**`).
pub async fn visitors(
    db: &Db,
    sid: i64,
    office_id: i64,
    from_ms: i64,
    to_ms: i64,
) -> Result<Vec<Visitor>> {
    let rows = sqlx::query(
        "SELECT v.id, v.office_id, v.visited_at, v.name, v.purpose, v.recorded_by, u.display_name AS recorder_name \
         FROM joint_office_visitors v LEFT JOIN users u ON u.subdistrict_id = v.subdistrict_id AND u.id = v.recorded_by \
         WHERE v.subdistrict_id = $1 AND v.office_id = $2 AND v.visited_at >= $3 AND v.visited_at < $4 \
         ORDER BY v.visited_at DESC, v.id DESC LIMIT 500",
    )
    .bind(sid)
    .bind(office_id)
    .bind(from_ms)
    .bind(to_ms)
    .fetch_all(db.read())
    .await?;
    Ok(rows
        .iter()
        .map(|r| Visitor {
            id: r.get("id"),
            office_id: r.get("office_id"),
            visited_at: r.get("visited_at"),
            name: crate::pii::mask::name(&s(r, "name")),
            purpose: s(r, "purpose"),
            recorded_by: opt_i64(r, "recorded_by"),
            recorder_name: s(r, "recorder_name"),
        })
        .collect())
}

/// The clear name of a visitor (for a case's contact), or none.
async fn visitor_name(db: &Db, sid: i64, office_id: i64, id: i64) -> Result<Option<String>> {
    Ok(sqlx::query("SELECT name FROM joint_office_visitors WHERE subdistrict_id = $1 AND office_id = $2 AND id = $3")
        .bind(sid)
        .bind(office_id)
        .bind(id)
        .fetch_optional(db.read())
        .await?
        .map(|r| r.get::<String, _>("name")))
}

/// Logs a visitor at an office where the actor takes part.
pub async fn add_visitor(db: &Db, actor: &Actor, office_id: i64, v: NewVisitor) -> Result<Visitor> {
    let sid = actor.subdistrict_id;
    let o = taking_part(db, actor, office_id).await?;
    let now = crate::clock::now_ms();
    let at = v.visited_at.unwrap_or(now);
    let mut errors = Vec::new();
    check_text("name", &v.name, 50, true, &mut errors);
    check_text("purpose", &v.purpose, 1000, false, &mut errors);
    check_when("visited_at", at, now, &mut errors);
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    let id = next_id();
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO joint_office_visitors (subdistrict_id, id, office_id, visited_at, name, purpose, recorded_by, \
         recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(sid)
    .bind(id)
    .bind(o.id)
    .bind(at)
    .bind(v.name.trim())
    .bind(v.purpose.trim())
    .bind(by(actor))
    .bind(now)
    .execute(&mut *tx)
    .await?;
    // The audit entry names the visitor only by mask.
    audit::record(
        &mut tx,
        actor,
        Change::new("office.visitor", "joint_office", Some(o.id))
            .label(&o.name)
            .after(json!({ "visitor_id": id, "visited_at": at, "name": crate::pii::mask::name(v.name.trim()) })),
    )
    .await?;
    tx.commit().await?;
    visitors(db, sid, o.id, at, at + 1)
        .await?
        .into_iter()
        .find(|x| x.id == id)
        .ok_or(Error::NotFound)
}

// ---------------------------------------------------------------- matters

/// A matter raised at the office.
#[derive(Debug, Clone, Serialize)]
pub struct Matter {
    pub id: i64,
    pub office_id: i64,
    pub visitor_id: Option<i64>,
    pub raised_at: i64,
    pub body: String,
    pub party: Party,
    /// `open`, `case` (raised as a case) or `done` (settled at the office).
    pub status: String,
    pub resolution: String,
    pub case_id: Option<i64>,
    pub case_number: Option<String>,
    pub recorded_by: Option<i64>,
}

const MATTERS: &str = "SELECT m.id, m.office_id, m.visitor_id, m.raised_at, m.body, m.party, m.status, \
    m.resolution, m.case_id, m.recorded_by, c.number AS case_number FROM joint_office_matters m \
    LEFT JOIN cases c ON c.subdistrict_id = m.subdistrict_id AND c.id = m.case_id WHERE m.subdistrict_id = $1";

fn matter_from(r: &AnyRow) -> Matter {
    Matter {
        id: r.get("id"),
        office_id: r.get("office_id"),
        visitor_id: opt_i64(r, "visitor_id"),
        raised_at: r.get("raised_at"),
        body: r.get("body"),
        party: Party::parse(&s(r, "party")).unwrap_or(Party::ResidentsCommittee),
        status: r.get("status"),
        resolution: s(r, "resolution"),
        case_id: opt_i64(r, "case_id"),
        case_number: r.try_get::<Option<String>, _>("case_number").ok().flatten(),
        recorded_by: opt_i64(r, "recorded_by"),
    }
}

/// The office's matters raised from `from_ms` to `to_ms`, newest first.
pub async fn matters(
    db: &Db,
    sid: i64,
    office_id: i64,
    from_ms: i64,
    to_ms: i64,
) -> Result<Vec<Matter>> {
    let rows = sqlx::query(&format!(
        "{MATTERS} AND m.office_id = $2 AND m.raised_at >= $3 AND m.raised_at < $4 ORDER BY m.raised_at DESC, m.id DESC LIMIT 1000"
    ))
    .bind(sid)
    .bind(office_id)
    .bind(from_ms)
    .bind(to_ms)
    .fetch_all(db.read())
    .await?;
    Ok(rows.iter().map(matter_from).collect())
}

/// The open matters of an office (any date).
pub async fn open_matters(db: &Db, sid: i64, office_id: i64) -> Result<Vec<Matter>> {
    let rows = sqlx::query(&format!(
        "{MATTERS} AND m.office_id = $2 AND m.status = 'open' ORDER BY m.raised_at DESC, m.id DESC LIMIT 500"
    ))
    .bind(sid)
    .bind(office_id)
    .fetch_all(db.read())
    .await?;
    Ok(rows.iter().map(matter_from).collect())
}

async fn matter(db: &Db, sid: i64, office_id: i64, id: i64) -> Result<Matter> {
    let r = sqlx::query(&format!("{MATTERS} AND m.office_id = $2 AND m.id = $3"))
        .bind(sid)
        .bind(office_id)
        .bind(id)
        .fetch_optional(db.read())
        .await?
        .ok_or(Error::NotFound)?;
    Ok(matter_from(&r))
}

/// What a request sends to record a matter.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewMatter {
    #[serde(default)]
    pub body: String,
    /// The party that takes it.
    #[serde(default)]
    pub party: String,
    #[serde(default)]
    pub visitor_id: Option<i64>,
    #[serde(default)]
    pub raised_at: Option<i64>,
}

/// Records a matter raised at the office, taken by one of its parties.
pub async fn add_matter(db: &Db, actor: &Actor, office_id: i64, m: NewMatter) -> Result<Matter> {
    let sid = actor.subdistrict_id;
    let o = taking_part(db, actor, office_id).await?;
    let now = crate::clock::now_ms();
    let at = m.raised_at.unwrap_or(now);
    let mut errors = Vec::new();
    check_text("body", &m.body, 4000, true, &mut errors);
    check_when("raised_at", at, now, &mut errors);
    let party = Party::parse(&m.party);
    match party {
        None => errors.push(FieldError::new(
            "party",
            Text::new("请选择承接方", "choose the party that takes it"),
        )),
        Some(p) if o.org_of(p).is_none() => errors.push(FieldError::new(
            "party",
            Text::new(
                "该方未在此合署办公",
                "that party does not sit at this office",
            ),
        )),
        Some(_) => {}
    }
    if let Some(v) = m.visitor_id {
        if visitor_name(db, sid, o.id, v).await?.is_none() {
            errors.push(FieldError::new(
                "visitor_id",
                Text::new("来访记录不存在", "no such visitor"),
            ));
        }
    }
    let (Some(party), true) = (party, errors.is_empty()) else {
        return Err(Error::Invalid(errors));
    };
    let id = next_id();
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO joint_office_matters (subdistrict_id, id, office_id, visitor_id, raised_at, body, party, status, \
         recorded_by, recorded_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'open', $8, $9, $9)",
    )
    .bind(sid)
    .bind(id)
    .bind(o.id)
    .bind(m.visitor_id)
    .bind(at)
    .bind(m.body.trim())
    .bind(party.code())
    .bind(by(actor))
    .bind(now)
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        actor,
        Change::new("office.matter", "joint_office", Some(o.id))
            .label(&o.name)
            .after(
                json!({ "matter_id": id, "party": party.code(), "raised_at": at,
                "visitor_id": m.visitor_id }),
            ),
    )
    .await?;
    tx.commit().await?;
    matter(db, sid, o.id, id).await
}

fn may_handle(o: &Office, actor: &Actor, m: &Matter) -> bool {
    manages(actor, &o.node_path) || o.parties_of(actor).contains(&m.party)
}

/// Marks an open matter settled at the office, with how.
pub async fn matter_done(
    db: &Db,
    actor: &Actor,
    office_id: i64,
    id: i64,
    resolution: &str,
) -> Result<Matter> {
    let sid = actor.subdistrict_id;
    let o = taking_part(db, actor, office_id).await?;
    let m = matter(db, sid, o.id, id).await?;
    if !may_handle(&o, actor, &m) {
        return Err(Error::Forbidden);
    }
    let mut errors = Vec::new();
    check_text("resolution", resolution, 2000, true, &mut errors);
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    let mut tx = db.begin().await?;
    let done = sqlx::query(
        "UPDATE joint_office_matters SET status = 'done', resolution = $4, updated_at = $5 \
         WHERE subdistrict_id = $1 AND office_id = $2 AND id = $3 AND status = 'open'",
    )
    .bind(sid)
    .bind(o.id)
    .bind(id)
    .bind(resolution.trim())
    .bind(crate::clock::now_ms())
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(conflict(
            "该事项已不在待办状态",
            "the matter is no longer open",
        ));
    }
    audit::record(
        &mut tx,
        actor,
        Change::new("office.matter_done", "joint_office_matter", Some(id))
            .label(&o.name)
            .after(json!({ "resolution": resolution.trim() })),
    )
    .await?;
    tx.commit().await?;
    matter(db, sid, o.id, id).await
}

/// What a request sends to raise a case from a record.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ToCase {
    #[serde(default)]
    pub category: String,
    /// The case's place (a grid or below); default the office's place when it is one.
    #[serde(default)]
    pub node_id: Option<i64>,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// The category's extra fields, by code (as `POST /api/v1/cases` takes them).
    #[serde(default)]
    pub attributes: std::collections::BTreeMap<String, String>,
}

/// Raises a case from an open matter: opens it through the case store (channel
/// [`MATTER_CASE_CHANNEL`], the visitor as the contact; the store checks category and place),
/// then links the matter (status `case`). The idempotency key is the matter's, so a retry
/// after a failed link finds the same case.
pub async fn matter_to_case(
    db: &Db,
    actor: &Actor,
    office_id: i64,
    id: i64,
    t: ToCase,
) -> Result<(Matter, CaseRecord)> {
    let sid = actor.subdistrict_id;
    let o = taking_part(db, actor, office_id).await?;
    let m = matter(db, sid, o.id, id).await?;
    if !may_handle(&o, actor, &m) {
        return Err(Error::Forbidden);
    }
    if m.status != "open" {
        return Err(conflict(
            "该事项已不在待办状态",
            "the matter is no longer open",
        ));
    }
    let now = crate::clock::now_ms();
    let contact = match m.visitor_id {
        Some(v) => visitor_name(db, sid, o.id, v).await?.unwrap_or_default(),
        None => String::new(),
    };
    let title = if t.title.trim().is_empty() {
        m.body.chars().take(30).collect::<String>()
    } else {
        t.title.trim().to_string()
    };
    let description = if t.description.trim().is_empty() {
        format!(
            "{}合署办公({})提出,{}承接:\n{}",
            o.name,
            o.node_name,
            m.party.label().zh,
            m.body
        )
    } else {
        t.description.trim().to_string()
    };
    let node_id = t.node_id.unwrap_or(o.node_id);
    let new = NewCase {
        category: t.category.trim().to_string(),
        node_id,
        title: title.chars().take(cases::MAX_TITLE_CHARS).collect(),
        description,
        address: o.room.chars().take(cases::MAX_ADDRESS_CHARS).collect(),
        occurred_at: (now - m.raised_at < MAX_BACKDATE_MS && m.raised_at <= now)
            .then_some(m.raised_at),
        contact_name: contact.chars().take(cases::MAX_ADDRESS_CHARS).collect(),
        source_ref: format!("joint_office:{}:matter:{}", o.id, m.id),
        attributes: t.attributes,
        ..Default::default()
    };
    let key = format!("joint-office-matter-{}", m.id);
    let opened = cases::open_case(db, actor, new, MATTER_CASE_CHANNEL, Some(&key)).await?;
    let c = opened.case().clone();
    let mut tx = db.begin().await?;
    let done = sqlx::query(
        "UPDATE joint_office_matters SET status = 'case', case_id = $4, updated_at = $5 \
         WHERE subdistrict_id = $1 AND office_id = $2 AND id = $3 AND case_id IS NULL AND status = 'open'",
    )
    .bind(sid)
    .bind(o.id)
    .bind(id)
    .bind(c.id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() > 0 {
        audit::record(
            &mut tx,
            actor,
            Change::new("office.matter_case", "joint_office_matter", Some(id))
                .label(&c.number)
                .after(json!({ "case_id": c.id, "case_number": c.number })),
        )
        .await?;
        tx.commit().await?;
    }
    Ok((matter(db, sid, o.id, id).await?, c))
}

// ---------------------------------------------------------------- report

/// The monthly report of an office, with what it was computed from.
#[derive(Debug, Clone, Serialize)]
pub struct MonthReport {
    pub month: String,
    pub report: Report,
    /// The sittings counted as due, in order.
    pub sittings: Vec<Sitting>,
    pub checkins: Vec<CheckIn>,
    pub matters: Vec<Matter>,
}

/// The office's report for a month `YYYY-MM`.
pub async fn month_report(
    db: &Db,
    actor: &Actor,
    office_id: i64,
    month: &str,
    now: i64,
) -> Result<(Office, MonthReport)> {
    let o = readable(db, actor, office_id).await?;
    let sid = actor.subdistrict_id;
    let Some((from, to)) = rules::parse_month(month) else {
        return Err(Error::field(
            "month",
            Text::new("月份格式为 2026-11", "the month is written 2026-11"),
        ));
    };
    let plan = planned(db, sid, &o, from, to).await?;
    let stored = held(db, sid, o.id, from, to).await?;
    let ci = checkins(db, sid, o.id, from, to).await?;
    let from_ms = Sitting {
        day: from,
        start_min: 0,
        end_min: 0,
    }
    .start_ms();
    let to_ms = Sitting {
        day: to,
        start_min: 24 * 60,
        end_min: 0,
    }
    .start_ms();
    let vs = visitors_count(db, sid, o.id, from_ms, to_ms).await?;
    let ms = matters(db, sid, o.id, from_ms, to_ms).await?;
    let facts: Vec<CheckInFact> = ci
        .iter()
        .filter_map(|c| {
            Some(CheckInFact {
                sitting: c.sitting()?,
                party: c.party,
                late: c.late_minutes > 0,
                left_early: c.left_early,
            })
        })
        .collect();
    let mfacts: Vec<MatterFact> = ms
        .iter()
        .map(|m| MatterFact {
            party: m.party,
            status: match m.status.as_str() {
                "case" => "case",
                "done" => "done",
                _ => "open",
            },
        })
        .collect();
    let report = rules::report(&o.parties(), &plan, &stored, &facts, vs, &mfacts, now);
    let mut sittings: Vec<Sitting> = plan
        .iter()
        .filter(|s| s.start_ms() <= now)
        .chain(stored.iter())
        .copied()
        .collect();
    sittings.sort();
    sittings.dedup();
    Ok((
        o,
        MonthReport {
            month: month.trim().to_string(),
            report,
            sittings,
            checkins: ci,
            matters: ms,
        },
    ))
}

async fn visitors_count(
    db: &Db,
    sid: i64,
    office_id: i64,
    from_ms: i64,
    to_ms: i64,
) -> Result<i64> {
    Ok(sqlx::query(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM joint_office_visitors WHERE subdistrict_id = $1 AND office_id = $2 \
         AND visited_at >= $3 AND visited_at < $4",
    )
    .bind(sid)
    .bind(office_id)
    .bind(from_ms)
    .bind(to_ms)
    .fetch_one(db.read())
    .await?
    .get::<i64, _>(0))
}

/// Places under an office's place where a case may be placed (a grid or below), in tree order.
pub async fn case_places(db: &Db, sid: i64, path: &str) -> Result<Vec<(i64, String, i64)>> {
    let rows = sqlx::query(
        "SELECT id, name, depth FROM nodes WHERE subdistrict_id = $1 AND path LIKE $2 \
         AND kind IN ('grid', 'building', 'unit', 'village_group') ORDER BY path LIMIT 300",
    )
    .bind(sid)
    .bind(format!("{path}%"))
    .fetch_all(db.read())
    .await?;
    Ok(rows
        .iter()
        .map(|r| (r.get("id"), r.get("name"), r.get("depth")))
        .collect())
}
