//! The demo's owners' committees (业主委员会) and two years of their re-elections, so the
//! subdistrict dashboard shows what the source reports (21 re-elections completed in two
//! years). Deterministic: the same tree and the same day give the same rows.
//!
//! One committee per community, on its first micro-grid (the first estate, whose committee
//! is the community's first `owners_committee` org of the plan), in tree order:
//! - the first (章浜) is re-electing now: its term ends within 5 months, the renewal group is
//!   formed, the candidates are not yet confirmed — so its re-election period restricts
//!   company and fee votes on the estate;
//! - the next 21 completed a re-election within the last two years, about a month apart, every
//!   step recorded within its deadline, the new term seated with a chair and a vice chair;
//! - the rest have terms ending within 5 months and no re-election yet (the alert shows).
//!
//! The rows are the ones `store.rs` writes (same tables and columns, ids from the allocator),
//! written inside the demo's load transaction. Historical records carry no vote links (the
//! election votes predate the platform) and say so in their notes.

use serde_json::json;
use sqlx::Row;
use time::Date;

use super::rules::{self, add_days, add_months, format_date, term_end, Step, Trigger, STEPS};
use super::store::today;
use crate::access::Actor;
use crate::audit::{self, Change};
use crate::clock::parse_local_date;
use crate::demo::names;
use crate::error::Result;
use crate::storage::bulk::{Cell, Inserter};
use crate::storage::{dialect_of, next_id, Tx};

/// Re-elections completed in the source's two years.
pub const COMPLETED: usize = 21;

const DAY_MS: i64 = 86_400_000;
/// Office hours: steps are recorded at 10:00 Shanghai time on their day.
const TEN_AM_MS: i64 = 10 * 3_600_000;
const NOTE: &str = "历史记录导入";

/// What [`seed_committees`] wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Seeded {
    pub committees: usize,
    pub completed: usize,
    pub running: usize,
    pub ending_soon: usize,
}

/// A committee's part in the demo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Story {
    /// Re-electing now (index 0).
    Running,
    /// Completed re-election number `j` (0-based, oldest first).
    Completed(usize),
    /// The term ends in this many days, no re-election yet.
    EndingIn(i64),
}

fn story(i: usize) -> Story {
    match i {
        0 => Story::Running,
        i if i <= COMPLETED => Story::Completed(i - 1),
        i => Story::EndingIn(40 + 45 * ((i - COMPLETED - 1) as i64 % 3)),
    }
}

/// An announced member's name, deterministic in `k`.
fn member_name(k: usize) -> String {
    let surname = names::SURNAMES[(k * 31 + 7) % names::SURNAMES.len()];
    let given = if k % 2 == 0 {
        names::OLDER_MALE[(k * 17 + 3) % names::OLDER_MALE.len()]
    } else {
        names::OLDER_FEMALE[(k * 13 + 5) % names::OLDER_FEMALE.len()]
    };
    format!("{surname}{given}")
}

fn office(n: usize) -> &'static str {
    match n {
        0 => "chair",
        1 => "vice_chair",
        _ => "member",
    }
}

fn ms_of(d: Date) -> i64 {
    parse_local_date(&format_date(d)).unwrap_or(0)
}

/// The bulk writers, one per table, flushed once at the end.
struct Writers {
    terms: Inserter,
    members: Inserter,
    activities: Inserter,
    reelections: Inserter,
    steps: Inserter,
    periods: Inserter,
}

impl Writers {
    fn new(tx: &mut Tx) -> Writers {
        let d = dialect_of(tx);
        Writers {
            terms: Inserter::for_db(
                d,
                "committee_terms",
                &[
                    "subdistrict_id",
                    "id",
                    "committee_id",
                    "number",
                    "seats",
                    "term_years",
                    "starts_on",
                    "ends_on",
                    "ended_on",
                    "reelection_id",
                    "created_by",
                    "created_at",
                ],
            ),
            members: Inserter::for_db(
                d,
                "committee_members",
                &[
                    "subdistrict_id",
                    "id",
                    "committee_id",
                    "term_id",
                    "person_id",
                    "name",
                    "office",
                    "chair_key",
                    "starts_on",
                    "ends_on",
                    "end_reason",
                    "end_note",
                    "created_by",
                    "created_at",
                    "ended_by",
                    "ended_at",
                ],
            ),
            activities: Inserter::for_db(
                d,
                "committee_activities",
                &[
                    "subdistrict_id",
                    "id",
                    "committee_id",
                    "kind",
                    "held_on",
                    "title",
                    "note",
                    "recorded_by",
                    "recorded_at",
                ],
            ),
            reelections: Inserter::for_db(
                d,
                "committee_reelections",
                &[
                    "subdistrict_id",
                    "id",
                    "committee_id",
                    "trigger_kind",
                    "note",
                    "term_years",
                    "status",
                    "started_on",
                    "period_id",
                    "vote_id",
                    "elected",
                    "seats",
                    "new_term_id",
                    "completed_on",
                    "created_by",
                    "created_at",
                    "completed_at",
                ],
            ),
            steps: Inserter::for_db(
                d,
                "reelection_steps",
                &[
                    "subdistrict_id",
                    "reelection_id",
                    "step",
                    "done_on",
                    "note",
                    "done_by",
                    "done_at",
                ],
            ),
            periods: Inserter::for_db(
                d,
                "reelection_periods",
                &[
                    "subdistrict_id",
                    "id",
                    "node_id",
                    "node_path",
                    "starts_on",
                    "ends_on",
                    "starts_at",
                    "ends_at",
                    "note",
                    "created_by",
                    "created_at",
                    "committee_id",
                    "reelection_id",
                ],
            ),
        }
    }

    async fn flush(&mut self, tx: &mut Tx) -> Result<()> {
        self.terms.flush(tx).await?;
        self.members.flush(tx).await?;
        self.activities.flush(tx).await?;
        self.reelections.flush(tx).await?;
        self.steps.flush(tx).await?;
        self.periods.flush(tx).await?;
        Ok(())
    }
}

/// One committee being written.
struct Place {
    sid: i64,
    committee_id: i64,
    node_id: i64,
    path: String,
    name: String,
}

impl Place {
    #[allow(clippy::too_many_arguments)]
    async fn term(
        &self,
        tx: &mut Tx,
        w: &mut Writers,
        number: i64,
        seats: i64,
        years: i64,
        starts: Date,
        ended_on: Option<Date>,
        reelection_id: Option<i64>,
        at: i64,
    ) -> Result<i64> {
        let id = next_id();
        w.terms
            .push(
                tx,
                vec![
                    self.sid.into(),
                    id.into(),
                    self.committee_id.into(),
                    number.into(),
                    seats.into(),
                    years.into(),
                    format_date(starts).into(),
                    format_date(term_end(starts, years)).into(),
                    ended_on.map(format_date).into(),
                    reelection_id.into(),
                    Cell::NullInt,
                    at.into(),
                ],
            )
            .await?;
        Ok(id)
    }

    /// Seats the `names` on a term from `starts`; members of an ended term leave on `ended`.
    #[allow(clippy::too_many_arguments)]
    async fn members(
        &self,
        tx: &mut Tx,
        w: &mut Writers,
        term_id: i64,
        names: &[String],
        starts: Date,
        ended: Option<(Date, i64)>,
        at: i64,
    ) -> Result<()> {
        for (n, name) in names.iter().enumerate() {
            let sitting_chair = n == 0 && ended.is_none();
            w.members
                .push(
                    tx,
                    vec![
                        self.sid.into(),
                        next_id().into(),
                        self.committee_id.into(),
                        term_id.into(),
                        Cell::NullInt,
                        name.as_str().into(),
                        office(n).into(),
                        if sitting_chair {
                            self.committee_id.into()
                        } else {
                            Cell::NullInt
                        },
                        format_date(starts).into(),
                        ended.map(|(d, _)| format_date(d)).into(),
                        ended.map(|_| "term_ended".to_string()).into(),
                        "".into(),
                        Cell::NullInt,
                        at.into(),
                        Cell::NullInt,
                        ended.map(|(_, at)| at).into(),
                    ],
                )
                .await?;
        }
        Ok(())
    }

    async fn activity(
        &self,
        tx: &mut Tx,
        w: &mut Writers,
        kind: &str,
        on: Date,
        title: &str,
    ) -> Result<()> {
        w.activities
            .push(
                tx,
                vec![
                    self.sid.into(),
                    next_id().into(),
                    self.committee_id.into(),
                    kind.into(),
                    format_date(on).into(),
                    title.into(),
                    "".into(),
                    Cell::NullInt,
                    (ms_of(on) + TEN_AM_MS + 8 * 3_600_000).into(),
                ],
            )
            .await?;
        Ok(())
    }

    /// The re-election row, its steps done so far and its period (open while running).
    #[allow(clippy::too_many_arguments)]
    async fn reelection(
        &self,
        tx: &mut Tx,
        w: &mut Writers,
        rid: i64,
        years: i64,
        started: Date,
        steps: &[(Step, Date)],
        done: Option<(Vec<String>, i64, i64)>,
    ) -> Result<()> {
        let period_id = next_id();
        let filed = steps
            .iter()
            .find(|(s, _)| *s == Step::Filing)
            .map(|(_, d)| *d);
        let created_at = ms_of(started) + TEN_AM_MS;
        let (elected, seats, new_term) = match &done {
            Some((names, seats, term)) => (
                serde_json::to_string(names).unwrap_or_else(|_| "[]".into()),
                Some(*seats),
                Some(*term),
            ),
            None => ("[]".to_string(), None, None),
        };
        let completed_at = filed.map(|d| ms_of(d) + TEN_AM_MS);
        w.reelections
            .push(
                tx,
                vec![
                    self.sid.into(),
                    rid.into(),
                    self.committee_id.into(),
                    Trigger::TermEnd.as_str().into(),
                    if done.is_some() { NOTE } else { "" }.into(),
                    years.into(),
                    if done.is_some() {
                        "completed"
                    } else {
                        "running"
                    }
                    .into(),
                    format_date(started).into(),
                    period_id.into(),
                    Cell::NullInt,
                    elected.into(),
                    seats.into(),
                    new_term.into(),
                    filed.map(format_date).into(),
                    Cell::NullInt,
                    created_at.into(),
                    completed_at.into(),
                ],
            )
            .await?;
        for (step, on) in steps {
            let note = match step {
                Step::Election => format!("选举表决({NOTE},表决早于本平台)"),
                _ if done.is_some() => NOTE.to_string(),
                _ => String::new(),
            };
            w.steps
                .push(
                    tx,
                    vec![
                        self.sid.into(),
                        rid.into(),
                        step.as_str().into(),
                        format_date(*on).into(),
                        note.into(),
                        Cell::NullInt,
                        (ms_of(*on) + TEN_AM_MS).into(),
                    ],
                )
                .await?;
        }
        // A completed period ends with the filing's day, as `store::complete` ends it.
        let (ends_on, ends_at) = match filed {
            Some(d) => (format_date(d), ms_of(d) + DAY_MS),
            None => (String::new(), i64::MAX),
        };
        w.periods
            .push(
                tx,
                vec![
                    self.sid.into(),
                    period_id.into(),
                    self.node_id.into(),
                    self.path.as_str().into(),
                    format_date(started).into(),
                    ends_on.into(),
                    ms_of(started).into(),
                    ends_at.into(),
                    format!("{} · {}", self.name, Trigger::TermEnd.label().zh).into(),
                    Cell::NullInt,
                    created_at.into(),
                    self.committee_id.into(),
                    rid.into(),
                ],
            )
            .await?;
        Ok(())
    }
}

/// Writes the committees and their history into subdistrict `sid` inside the caller's
/// transaction (see the module comment). Writes nothing where a community has no committee
/// org in the plan or already has a committee on its first grid.
pub async fn seed_committees(tx: &mut Tx, actor: &Actor, sid: i64, now: i64) -> Result<Seeded> {
    // (community id, its first grid's id and path), communities in tree order.
    let grids: Vec<(i64, i64, String)> = sqlx::query(
        "SELECT n.parent_id, n.id, n.path FROM nodes n \
         JOIN nodes p ON p.subdistrict_id = n.subdistrict_id AND p.id = n.parent_id \
         WHERE n.subdistrict_id = $1 AND n.kind = 'grid' AND p.kind = 'community' \
         AND NOT EXISTS (SELECT 1 FROM owners_committees c WHERE c.subdistrict_id = n.subdistrict_id AND c.node_id = n.id) \
         ORDER BY p.path, n.id",
    )
    .bind(sid)
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(|r| (r.get::<i64, _>(0), r.get::<i64, _>(1), r.get::<String, _>(2)))
    .collect();
    let orgs: Vec<(i64, i64, String)> = sqlx::query(
        "SELECT o.node_id, o.id, o.name FROM orgs o WHERE o.subdistrict_id = $1 AND o.kind = 'owners_committee' \
         AND o.node_id IS NOT NULL \
         AND NOT EXISTS (SELECT 1 FROM owners_committees c WHERE c.subdistrict_id = o.subdistrict_id AND c.org_id = o.id) \
         ORDER BY o.id",
    )
    .bind(sid)
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(|r| (r.get::<i64, _>(0), r.get::<i64, _>(1), r.get::<String, _>(2)))
    .collect();
    let mut places = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (community, grid, path) in grids {
        if !seen.insert(community) {
            continue;
        }
        if let Some((_, org, name)) = orgs.iter().find(|(node, _, _)| *node == community) {
            places.push((grid, path, *org, name.clone()));
        }
    }
    let day = today(now);
    let mut w = Writers::new(tx);
    let mut out = Seeded::default();
    let mut committees = Inserter::for_db(
        dialect_of(tx),
        "owners_committees",
        &[
            "subdistrict_id",
            "id",
            "org_id",
            "node_id",
            "node_path",
            "name",
            "running_reelection_id",
            "version",
            "created_by",
            "created_at",
        ],
    );
    for (i, (node_id, path, org_id, name)) in places.into_iter().enumerate() {
        let p = Place {
            sid,
            committee_id: next_id(),
            node_id,
            path,
            name,
        };
        let seats: i64 = if i % 3 == 0 { 7 } else { 5 };
        // Names: the first term's members, then the next term's (two of them re-elected).
        let first: Vec<String> = (0..seats as usize)
            .map(|k| member_name(i * 20 + k))
            .collect();
        let story = story(i);
        let (running, after) = match story {
            Story::Running => {
                // Five-year term ending in 70 days; the re-election began 28 days ago.
                let ends = add_days(day, 70);
                let starts = add_months(add_days(ends, 1), -60);
                let at = ms_of(starts) + TEN_AM_MS;
                let term = p
                    .term(tx, &mut w, 1, seats, 5, starts, None, None, at)
                    .await?;
                p.members(tx, &mut w, term, &first, starts, None, at)
                    .await?;
                let rid = next_id();
                let started = add_days(day, -28);
                let steps = [(Step::RenewalGroup, add_days(started, 13))];
                p.reelection(tx, &mut w, rid, 5, started, &steps, None)
                    .await?;
                p.activity(
                    tx,
                    &mut w,
                    "meeting",
                    add_days(started, -6),
                    "业委会会议:讨论换届工作安排",
                )
                .await?;
                p.activity(
                    tx,
                    &mut w,
                    "decision",
                    add_days(started, 13),
                    "成立换届小组",
                )
                .await?;
                out.running += 1;
                (
                    Some(rid),
                    json!({ "running_reelection_id": rid, "term_ends_on": format_date(ends) }),
                )
            }
            Story::Completed(j) => {
                let jj = j as i64;
                let started = add_days(day, -800 + 33 * jj);
                let old_years = 3 + jj % 3;
                let new_years = 5 - jj % 3;
                // The old term was to end about 100 days after the start (inside its alert).
                let old_starts = add_months(add_days(started, 101), -12 * old_years);
                let election = add_days(started, 70);
                let steps: Vec<(Step, Date)> = STEPS
                    .into_iter()
                    .map(|s| {
                        let on = match s {
                            // Within 60 days of the start.
                            Step::RenewalGroup => add_days(started, 25 + 5 * (jj % 5)),
                            Step::Candidates => add_days(started, 50),
                            Step::Election => election,
                            // Within 10 days of the election.
                            Step::Handover => add_days(election, 4 + jj % 6),
                            // Within 30 days of the election.
                            Step::Filing => add_days(election, 15 + jj % 10),
                        };
                        (s, on)
                    })
                    .collect();
                debug_assert!(steps.iter().all(|(s, on)| rules::due_on(
                    *s,
                    started,
                    Some(election)
                )
                .is_none_or(|due| *on <= due)));
                let filed = steps[4].1;
                let filed_at = ms_of(filed) + TEN_AM_MS;
                let old_at = ms_of(old_starts) + TEN_AM_MS;
                let old = p
                    .term(
                        tx,
                        &mut w,
                        1,
                        seats,
                        old_years,
                        old_starts,
                        Some(election),
                        None,
                        old_at,
                    )
                    .await?;
                p.members(
                    tx,
                    &mut w,
                    old,
                    &first,
                    old_starts,
                    Some((election, filed_at)),
                    old_at,
                )
                .await?;
                // The new committee: two of the old members re-elected, the others new.
                let mut elected: Vec<String> = first.iter().skip(1).take(2).cloned().collect();
                elected.extend((2..seats as usize).map(|k| member_name(i * 20 + 10 + k)));
                let rid = next_id();
                let new_term = p
                    .term(
                        tx,
                        &mut w,
                        2,
                        seats,
                        new_years,
                        election,
                        None,
                        Some(rid),
                        filed_at,
                    )
                    .await?;
                p.members(tx, &mut w, new_term, &elected, election, None, filed_at)
                    .await?;
                p.reelection(
                    tx,
                    &mut w,
                    rid,
                    new_years,
                    started,
                    &steps,
                    Some((elected.clone(), seats, new_term)),
                )
                .await?;
                p.activity(
                    tx,
                    &mut w,
                    "meeting",
                    add_days(filed, 10),
                    "新一届业委会第一次会议:推选主任、副主任",
                )
                .await?;
                p.activity(
                    tx,
                    &mut w,
                    "meeting",
                    add_days(day, -20 - 7 * (jj % 5)),
                    "业委会例会",
                )
                .await?;
                p.activity(
                    tx,
                    &mut w,
                    "decision",
                    add_days(day, -75 - 9 * (jj % 4)),
                    "公共收益使用方案",
                )
                .await?;
                out.completed += 1;
                (
                    None,
                    json!({ "reelection_id": rid, "completed_on": format_date(filed) }),
                )
            }
            Story::EndingIn(days) => {
                let ends = add_days(day, days);
                let years = 3 + (i as i64 % 3);
                let starts = add_months(add_days(ends, 1), -12 * years);
                let at = ms_of(starts) + TEN_AM_MS;
                let term = p
                    .term(tx, &mut w, 1, seats, years, starts, None, None, at)
                    .await?;
                p.members(tx, &mut w, term, &first, starts, None, at)
                    .await?;
                p.activity(tx, &mut w, "meeting", add_days(day, -35), "业委会例会")
                    .await?;
                out.ending_soon += 1;
                (None, json!({ "term_ends_on": format_date(ends) }))
            }
        };
        committees
            .push(
                tx,
                vec![
                    sid.into(),
                    p.committee_id.into(),
                    org_id.into(),
                    p.node_id.into(),
                    p.path.as_str().into(),
                    p.name.as_str().into(),
                    running.into(),
                    0i64.into(),
                    Cell::NullInt,
                    (now - 1000 * DAY_MS).into(),
                ],
            )
            .await?;
        audit::record(
            tx,
            actor,
            Change::new("committee.seed", "owners_committee", Some(p.committee_id))
                .label(&p.name)
                .after(json!({ "node_id": p.node_id, "org_id": org_id, "seats": seats, "history": after })),
        )
        .await?;
        out.committees += 1;
    }
    committees.flush(tx).await?;
    w.flush(tx).await?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stories_give_one_running_and_twenty_one_completed() {
        let all: Vec<Story> = (0..24).map(story).collect();
        assert_eq!(all[0], Story::Running);
        let completed = all
            .iter()
            .filter(|s| matches!(s, Story::Completed(_)))
            .count();
        assert_eq!(completed, COMPLETED);
        for s in &all {
            if let Story::EndingIn(d) = s {
                // Within the 5-month alert window, not yet ended.
                assert!((1..150).contains(d), "{d}");
            }
        }
    }

    #[test]
    fn completed_steps_fall_within_two_years_and_their_deadlines() {
        let day = Date::from_calendar_date(2026, time::Month::December, 1).unwrap();
        for j in 0..COMPLETED as i64 {
            let started = add_days(day, -800 + 33 * j);
            let election = add_days(started, 70);
            let filed = add_days(election, 15 + j % 10);
            assert!(filed < add_days(day, -30), "{j}");
            assert!(filed > add_days(day, -725), "{j}");
            assert!(
                add_days(started, 25 + 5 * (j % 5)) <= add_days(started, rules::RENEWAL_GROUP_DAYS)
            );
            assert!(add_days(election, 4 + j % 6) <= add_days(election, rules::HANDOVER_DAYS));
            assert!(filed <= add_days(election, rules::FILING_DAYS));
            // The old term was still running when the re-election began.
            let old_years = 3 + j % 3;
            let old_starts = add_months(add_days(started, 101), -12 * old_years);
            assert!(term_end(old_starts, old_years) > started);
            assert!(rules::alert_on(term_end(old_starts, old_years)) <= started);
        }
    }

    #[test]
    fn member_names_are_two_or_three_characters() {
        for k in 0..500 {
            let n = member_name(k);
            assert!((2..=4).contains(&n.chars().count()), "{n}");
        }
    }
}
