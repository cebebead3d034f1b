//! The demo's joint offices (三驾马车合署办公): an office on the first micro-grid of each of
//! the first communities (the estates that have owners' committees), with fixed weekly hours,
//! the last four weeks of sittings with the three parties' check-ins (some late, one party
//! sometimes absent, one leaving early), the visitor log (full names kept as the store keeps
//! them, shown masked; no phone numbers) and matters raised at the office — settled there, still
//! open, or to be raised as cases.
//!
//! [`seed_offices`] writes the rows `store.rs` writes, inside the demo's load transaction.
//! Cases may only be opened through `cases::store::open_case*` (its checks and its group
//! commit), which cannot run inside that transaction, so [`raise_cases`] raises the chosen
//! matters through `store::matter_to_case` once the load has committed.

use serde_json::json;
use sqlx::Row;
use time::{Date, Duration};

use super::rules::{self, Party, Slot, Timing};
use crate::access::Actor;
use crate::audit::{self, Change};
use crate::deliberation::cadence::{DayOfWeek, LocalTime};
use crate::demo::names;
use crate::error::Result;
use crate::storage::bulk::{Cell, Inserter};
use crate::storage::{dialect_of, next_id, Db, Tx};

/// How many estates get an office.
pub const OFFICES: i64 = 6;
/// Weeks of sittings written, back from yesterday.
const WEEKS: i64 = 4;
const TOLERANCE: i64 = 15;

/// A matter written open, to be raised as a case after the load commits.
#[derive(Debug, Clone)]
pub struct ToRaise {
    pub office_id: i64,
    pub matter_id: i64,
    pub category: &'static str,
}

/// What [`seed_offices`] wrote.
#[derive(Debug, Clone, Default)]
pub struct Seeded {
    pub offices: usize,
    pub sessions: usize,
    pub checkins: usize,
    pub visitors: usize,
    pub matters: usize,
    /// Open matters for [`raise_cases`].
    pub to_raise: Vec<ToRaise>,
}

fn slot(weekday: DayOfWeek, start: (u8, u8), end: (u8, u8)) -> Slot {
    Slot {
        weekday,
        start: LocalTime::new(start.0, start.1).expect("a time of day"),
        end: LocalTime::new(end.0, end.1).expect("a time of day"),
    }
}

fn weekday_of(d: DayOfWeek) -> time::Weekday {
    match d {
        DayOfWeek::Monday => time::Weekday::Monday,
        DayOfWeek::Tuesday => time::Weekday::Tuesday,
        DayOfWeek::Wednesday => time::Weekday::Wednesday,
        DayOfWeek::Thursday => time::Weekday::Thursday,
        DayOfWeek::Friday => time::Weekday::Friday,
        DayOfWeek::Saturday => time::Weekday::Saturday,
        DayOfWeek::Sunday => time::Weekday::Sunday,
    }
}

/// A visitor's name, deterministic in `k` (kept in full, as the store keeps it; pages mask it).
fn visitor_name(k: usize) -> String {
    let surname = names::SURNAMES[(k * 29 + 11) % names::SURNAMES.len()];
    let given = if k % 3 == 0 {
        names::YOUNGER_FEMALE[(k * 7 + 1) % names::YOUNGER_FEMALE.len()]
    } else {
        names::OLDER_MALE[(k * 11 + 2) % names::OLDER_MALE.len()]
    };
    format!("{surname}{given}")
}

const PURPOSES: [&str; 6] = [
    "咨询停车位租赁和收费",
    "反映楼道堆物",
    "询问维修资金使用公示",
    "反映电梯噪声",
    "咨询业委会换届安排",
    "反映绿化修剪不及时",
];

/// Matters: (body, party, settled with, category when raised as a case).
const MATTERS: [(&str, Party, &str, &str); 4] = [
    (
        "3号楼楼道堆放杂物,影响消防通道",
        Party::PropertyCompany,
        "",
        "env.clutter",
    ),
    (
        "业主询问公共收益分配方案何时公示",
        Party::OwnersCommittee,
        "业委会当场答复:下月例会审议后公示",
        "",
    ),
    (
        "小区东门门禁损坏,外来车辆随意进出",
        Party::PropertyCompany,
        "",
        "property.access",
    ),
    (
        "独居老人家中无人应答,请社工上门看看",
        Party::ResidentsCommittee,
        "社工当日上门探望,老人安好",
        "",
    ),
];

/// Writes the offices into subdistrict `sid` inside the caller's transaction. Estates that
/// already have an office are skipped.
pub async fn seed_offices(tx: &mut Tx, actor: &Actor, sid: i64, now: i64) -> Result<Seeded> {
    // The first grid of each of the first communities, with its community.
    let places: Vec<(i64, i64, String, String)> = sqlx::query(
        "SELECT n.id, n.parent_id, n.path, n.name FROM nodes n \
         JOIN nodes p ON p.subdistrict_id = n.subdistrict_id AND p.id = n.parent_id \
         WHERE n.subdistrict_id = $1 AND n.kind = 'grid' AND p.kind = 'community' \
         AND n.id = (SELECT MIN(g.id) FROM nodes g WHERE g.subdistrict_id = n.subdistrict_id \
            AND g.parent_id = n.parent_id AND g.kind = 'grid') \
         AND NOT EXISTS (SELECT 1 FROM joint_offices o WHERE o.subdistrict_id = n.subdistrict_id AND o.node_id = n.id) \
         ORDER BY p.path LIMIT $2",
    )
    .bind(sid)
    .bind(OFFICES)
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
    .collect();
    // The parties' organisations, the first of each kind at the community.
    let orgs: Vec<(String, i64, i64, String)> = sqlx::query(
        "SELECT kind, node_id, id, name FROM orgs WHERE subdistrict_id = $1 AND node_id IS NOT NULL \
         AND kind IN ('residents_committee', 'owners_committee', 'property_company') ORDER BY id",
    )
    .bind(sid)
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
    .collect();
    let org = |kind: &str, node: i64| {
        orgs.iter()
            .find(|(k, n, _, _)| k == kind && *n == node)
            .map(|(_, _, id, name)| (*id, name.clone()))
    };
    let d = dialect_of(tx);
    let mut offices = Inserter::for_db(
        d,
        "joint_offices",
        &[
            "subdistrict_id",
            "id",
            "node_id",
            "node_path",
            "name",
            "room",
            "residents_committee_id",
            "owners_committee_id",
            "property_company_id",
            "slots",
            "skip_holidays",
            "tolerance_minutes",
            "created_by",
            "created_at",
            "updated_at",
            "version",
        ],
    );
    let mut sessions = Inserter::for_db(
        d,
        "joint_office_sessions",
        &[
            "subdistrict_id",
            "id",
            "office_id",
            "day",
            "start_min",
            "end_min",
            "start_at",
            "end_at",
            "created_at",
        ],
    );
    let mut checkins = Inserter::for_db(
        d,
        "joint_office_checkins",
        &[
            "subdistrict_id",
            "id",
            "office_id",
            "session_id",
            "party",
            "user_id",
            "at",
            "late_minutes",
            "left_at",
            "left_early",
            "recorded_by",
            "recorded_at",
        ],
    );
    let mut visitors = Inserter::for_db(
        d,
        "joint_office_visitors",
        &[
            "subdistrict_id",
            "id",
            "office_id",
            "session_id",
            "visited_at",
            "name",
            "purpose",
            "recorded_by",
            "recorded_at",
        ],
    );
    let mut matters = Inserter::for_db(
        d,
        "joint_office_matters",
        &[
            "subdistrict_id",
            "id",
            "office_id",
            "session_id",
            "visitor_id",
            "raised_at",
            "body",
            "party",
            "status",
            "resolution",
            "case_id",
            "recorded_by",
            "recorded_at",
            "updated_at",
        ],
    );
    let today = super::super::committees::store::today(now);
    let mut out = Seeded::default();
    let mut k = 0usize;
    for (oi, (node_id, community, path, grid_name)) in places.iter().enumerate() {
        let residents = org("residents_committee", *community);
        let owners = org("owners_committee", *community);
        let company = org("property_company", *community);
        let estate = owners
            .as_ref()
            .map(|(_, n)| n.trim_end_matches("业主委员会").to_string())
            .unwrap_or_else(|| grid_name.clone());
        let slots = if oi % 2 == 0 {
            vec![
                slot(DayOfWeek::Tuesday, (9, 0), (11, 30)),
                slot(DayOfWeek::Thursday, (14, 0), (16, 30)),
            ]
        } else {
            vec![slot(DayOfWeek::Wednesday, (9, 0), (11, 30))]
        };
        let office_id = next_id();
        let created = now - 120 * 86_400_000;
        offices
            .push(
                tx,
                vec![
                    sid.into(),
                    office_id.into(),
                    (*node_id).into(),
                    path.as_str().into(),
                    format!("{estate}三驾马车合署办公室").into(),
                    "物业服务中心二楼会议室".into(),
                    residents.as_ref().map(|o| o.0).into(),
                    owners.as_ref().map(|o| o.0).into(),
                    company.as_ref().map(|o| o.0).into(),
                    serde_json::to_string(&slots)
                        .unwrap_or_else(|_| "[]".into())
                        .into(),
                    1i64.into(),
                    TOLERANCE.into(),
                    Cell::NullInt,
                    created.into(),
                    created.into(),
                    1i64.into(),
                ],
            )
            .await?;
        let parties: Vec<Party> = [
            (Party::ResidentsCommittee, residents.is_some()),
            (Party::OwnersCommittee, owners.is_some()),
            (Party::PropertyCompany, company.is_some()),
        ]
        .into_iter()
        .filter_map(|(p, there)| there.then_some(p))
        .collect();
        // The sittings of the last four weeks, oldest first.
        let mut sittings: Vec<(Date, Slot)> = Vec::new();
        for back in (1..=WEEKS * 7).rev() {
            let day = today - Duration::days(back);
            for s in &slots {
                if day.weekday() == weekday_of(s.weekday) {
                    sittings.push((day, *s));
                }
            }
        }
        let mut matter_sessions = Vec::new();
        for (si, (day, s)) in sittings.iter().enumerate() {
            let sitting = rules::Sitting {
                day: *day,
                start_min: s.start_min(),
                end_min: s.end_min(),
            };
            let (start_at, end_at) = (sitting.start_ms(), sitting.end_ms());
            let session_id = next_id();
            sessions
                .push(
                    tx,
                    vec![
                        sid.into(),
                        session_id.into(),
                        office_id.into(),
                        rules::format_day(*day).into(),
                        s.start_min().into(),
                        s.end_min().into(),
                        start_at.into(),
                        end_at.into(),
                        (start_at - 5 * 60_000).into(),
                    ],
                )
                .await?;
            out.sessions += 1;
            for (pi, party) in parties.iter().enumerate() {
                let salt = oi * 7 + si * 3 + pi;
                // The owners' committee misses one sitting in five.
                if *party == Party::OwnersCommittee && salt % 5 == 0 {
                    continue;
                }
                // Mostly a few minutes early; one in four late, by up to about half an hour.
                let offset_min = (if salt % 4 == 1 {
                    TOLERANCE as usize + 3 + (salt * 7) % 25
                } else {
                    (salt * 3) % 10
                }) as i64;
                let at = start_at - 5 * 60_000 + offset_min * 60_000;
                let late = match rules::check_in_timing(start_at, end_at, TOLERANCE, at) {
                    Timing::Counted { late_minutes } => late_minutes,
                    _ => 0,
                };
                // The property company leaves early now and then.
                let left_at = if *party == Party::PropertyCompany && salt % 6 == 2 {
                    end_at - 50 * 60_000
                } else {
                    end_at + ((salt % 3) as i64) * 60_000
                };
                checkins
                    .push(
                        tx,
                        vec![
                            sid.into(),
                            next_id().into(),
                            office_id.into(),
                            session_id.into(),
                            party.code().into(),
                            Cell::NullInt,
                            at.into(),
                            late.into(),
                            left_at.into(),
                            i64::from(rules::leaves_early(end_at, TOLERANCE, left_at)).into(),
                            Cell::NullInt,
                            at.into(),
                        ],
                    )
                    .await?;
                out.checkins += 1;
            }
            // One to three visitors a sitting.
            for v in 0..(1 + (oi + si) % 3) {
                let visitor_id = next_id();
                let visited_at = start_at + (20 + 35 * v as i64) * 60_000;
                visitors
                    .push(
                        tx,
                        vec![
                            sid.into(),
                            visitor_id.into(),
                            office_id.into(),
                            session_id.into(),
                            visited_at.into(),
                            visitor_name(k).into(),
                            PURPOSES[(k + oi) % PURPOSES.len()].into(),
                            Cell::NullInt,
                            (visited_at + 5 * 60_000).into(),
                        ],
                    )
                    .await?;
                k += 1;
                out.visitors += 1;
                if v == 0 {
                    matter_sessions.push((session_id, visitor_id, visited_at));
                }
            }
        }
        // Matters at the last sittings: the first two offices raise their problems as cases.
        for (mi, (body, party, resolution, category)) in MATTERS.iter().enumerate() {
            let Some(&(session_id, visitor_id, at)) =
                matter_sessions.get(matter_sessions.len().saturating_sub(1 + mi))
            else {
                continue;
            };
            if !parties.contains(party) {
                continue;
            }
            let matter_id = next_id();
            let raised_at = at + 10 * 60_000;
            let done = !resolution.is_empty();
            matters
                .push(
                    tx,
                    vec![
                        sid.into(),
                        matter_id.into(),
                        office_id.into(),
                        session_id.into(),
                        visitor_id.into(),
                        raised_at.into(),
                        (*body).into(),
                        party.code().into(),
                        if done { "done" } else { "open" }.into(),
                        (*resolution).into(),
                        Cell::NullInt,
                        Cell::NullInt,
                        raised_at.into(),
                        (raised_at + if done { 30 * 60_000 } else { 0 }).into(),
                    ],
                )
                .await?;
            out.matters += 1;
            if !done && oi < 3 {
                out.to_raise.push(ToRaise {
                    office_id,
                    matter_id,
                    category,
                });
            }
        }
        out.offices += 1;
    }
    offices.flush(tx).await?;
    sessions.flush(tx).await?;
    checkins.flush(tx).await?;
    visitors.flush(tx).await?;
    matters.flush(tx).await?;
    audit::record(
        tx,
        actor,
        Change::new("office.seed", "subdistrict", Some(sid)).after(json!({
            "offices": out.offices, "sessions": out.sessions, "checkins": out.checkins,
            "visitors": out.visitors, "matters": out.matters })),
    )
    .await?;
    Ok(out)
}

/// Raises the chosen open matters as cases through the office store (after the load's
/// transaction has committed); returns how many were raised. A matter that cannot be raised
/// (say, a category retired from the shipped tree) stays open and is logged, so the demo
/// still starts.
pub async fn raise_cases(db: &Db, actor: &Actor, to_raise: &[ToRaise]) -> Result<usize> {
    let mut n = 0;
    for t in to_raise {
        let raised = super::store::matter_to_case(
            db,
            actor,
            t.office_id,
            t.matter_id,
            super::store::ToCase {
                category: t.category.to_string(),
                ..Default::default()
            },
        )
        .await;
        match raised {
            Ok(_) => n += 1,
            Err(e) => {
                tracing::warn!(matter = t.matter_id, error = %e, "demo: matter not raised as a case")
            }
        }
    }
    Ok(n)
}
