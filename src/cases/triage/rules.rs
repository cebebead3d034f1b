//! The pure rules of triage: who may correct a report's category and place and when, where a
//! place lies for duplicate detection, which stored cases are merge candidates, and how a
//! typed case reference reads. No I/O; time comes in as an argument.

use crate::cases::lifecycle::{
    ActorKind, Case, Event, EventData, Refusal, RefusalKind, Transition,
};
use crate::i18n::Text;
use crate::tree::model::path_ids;
use crate::tree::NodeKind;

/// How long after its closing a closed case still counts as a merge candidate (a resident who
/// reports the same thing again soon after is following it up, not reporting a new problem).
pub const RECENTLY_CLOSED_MS: i64 = 30 * 86_400_000;

/// Staff who triage: any unit's staff or the operations centre (the lifecycle's rule).
pub fn is_triage_staff(actor: &ActorKind) -> bool {
    matches!(
        actor,
        ActorKind::UnitStaff { .. } | ActorKind::OpsCentre { .. }
    )
}

fn refusal(kind: RefusalKind, field: Option<&'static str>, reason: Text) -> Refusal {
    Refusal {
        kind,
        field,
        reason,
    }
}

/// Whether `actor` may correct the category or place of `case` now: only before
/// registration, and only triage staff.
pub fn may_reclassify(case: &Case, actor: &ActorKind) -> Result<(), Refusal> {
    if !case.state.is_intake() {
        return Err(refusal(
            RefusalKind::State,
            None,
            Text::owned(
                format!("{}的事项不能再更正类别或地点", case.state.label().zh),
                format!(
                    "the category and place of a case that is {} can no longer be corrected",
                    case.state.label().en
                ),
            ),
        ));
    }
    if !is_triage_staff(actor) {
        return Err(refusal(
            RefusalKind::Actor,
            None,
            Text::new(
                "只有工作人员可以更正类别或地点",
                "only staff can correct the category or place",
            ),
        ));
    }
    Ok(())
}

/// A correction of the category and/or place before registration: the next case (one
/// version more) and its staff-only event. Nothing changed is refused naming `category`.
pub fn reclassify(
    case: &Case,
    actor: &ActorKind,
    from: (&str, i64),
    to: (&str, i64),
    now_ms: i64,
) -> Result<Transition, Refusal> {
    may_reclassify(case, actor)?;
    if from == to {
        return Err(refusal(
            RefusalKind::Input,
            Some("category"),
            Text::new(
                "类别和地点都没有变化",
                "neither the category nor the place changed",
            ),
        ));
    }
    let mut next = case.clone();
    next.version += 1;
    Ok(Transition {
        next,
        events: vec![Event {
            at_ms: now_ms,
            actor: *actor,
            public: false,
            data: EventData::Reclassified {
                from_category: from.0.to_string(),
                to_category: to.0.to_string(),
                from_node: from.1,
                to_node: to.1,
            },
        }],
    })
}

/// The grid and building of a case's place, from the place's kind and path (a building
/// always sits on a grid, a unit on a building, a village group on a grid). `None` for a
/// place above the grid, which cases never have.
pub fn grid_and_building(kind: NodeKind, path: &str) -> Option<(i64, Option<i64>)> {
    let ids = path_ids(path);
    let back = |n: usize| {
        ids.len()
            .checked_sub(n + 1)
            .and_then(|i| ids.get(i))
            .copied()
    };
    match kind {
        NodeKind::Grid => Some((back(0)?, None)),
        NodeKind::Building => Some((back(1)?, Some(back(0)?))),
        NodeKind::Unit => Some((back(2)?, Some(back(1)?))),
        NodeKind::VillageGroup => Some((back(1)?, None)),
        _ => None,
    }
}

/// Whether a stored case (by its state code and last change) may absorb a duplicate and so
/// be suggested: any live case, and a closed one for [`RECENTLY_CLOSED_MS`] (a merge into it
/// is then refused with its reason, but staff see the earlier report).
pub fn is_candidate(state: &str, updated_at_ms: i64, now_ms: i64) -> bool {
    match state {
        "rejected" | "withdrawn" | "merged" => false,
        "closed" => now_ms.saturating_sub(updated_at_ms) <= RECENTLY_CLOSED_MS,
        _ => true,
    }
}

/// A case as staff type it: its number (`2026-000123`) or its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseRef {
    Number(String),
    Id(i64),
}

/// Reads a typed case reference; `None` when it is neither a number nor an id.
pub fn parse_case_ref(s: &str) -> Option<CaseRef> {
    let s = s.trim();
    if let Some((year, seq)) = s.split_once('-') {
        let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
        return (year.len() == 4 && digits(year) && digits(seq) && seq.len() <= 12)
            .then(|| CaseRef::Number(s.to_string()));
    }
    s.parse::<i64>().ok().filter(|id| *id > 0).map(CaseRef::Id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cases::lifecycle::{Intake, State, ALL_STATES};

    const T0: i64 = 1_767_225_600_000;

    fn case(state: State) -> Case {
        let mut c = Case::open(7, Intake::Report, &ActorKind::Reporter, T0).next;
        c.state = state;
        c
    }

    const STAFF: ActorKind = ActorKind::UnitStaff { unit_id: 3 };
    const OPS: ActorKind = ActorKind::OpsCentre { unit_id: 1 };

    #[test]
    fn staff_reclassify_drafts_and_submitted_cases_only() {
        for s in ALL_STATES {
            for actor in [STAFF, OPS] {
                let r = reclassify(&case(s), &actor, ("a.b", 1), ("a.c", 1), T0 + 5);
                if s.is_intake() {
                    let t = r.unwrap();
                    assert_eq!(t.next.version, 2);
                    assert_eq!(t.next.state, s);
                    assert_eq!(t.events.len(), 1);
                    assert!(!t.events[0].public, "staff-only");
                    assert_eq!(t.events[0].at_ms, T0 + 5);
                    assert_eq!(
                        t.events[0].data,
                        EventData::Reclassified {
                            from_category: "a.b".into(),
                            to_category: "a.c".into(),
                            from_node: 1,
                            to_node: 1,
                        }
                    );
                } else {
                    let e = r.unwrap_err();
                    assert_eq!(e.kind, RefusalKind::State, "{s:?}");
                    assert!(e.reason.zh.contains("不能再更正"), "{}", e.reason.zh);
                }
            }
        }
    }

    #[test]
    fn only_staff_reclassify() {
        for actor in [
            ActorKind::Reporter,
            ActorKind::Public,
            ActorKind::GridMember { unit_id: 3 },
            ActorKind::Verifier,
            ActorKind::System,
        ] {
            let e = reclassify(&case(State::Draft), &actor, ("a", 1), ("b", 2), T0).unwrap_err();
            assert_eq!(e.kind, RefusalKind::Actor, "{actor:?}");
        }
    }

    #[test]
    fn a_correction_that_changes_nothing_is_refused() {
        let e = reclassify(&case(State::Submitted), &STAFF, ("a", 1), ("a", 1), T0).unwrap_err();
        assert_eq!(e.kind, RefusalKind::Input);
        assert_eq!(e.field, Some("category"));
        // Only the place changing is a correction.
        let t = reclassify(&case(State::Submitted), &STAFF, ("a", 1), ("a", 2), T0).unwrap();
        assert!(matches!(
            t.events[0].data,
            EventData::Reclassified { to_node: 2, .. }
        ));
    }

    #[test]
    fn grid_and_building_come_from_the_path() {
        let p = "/1/2/3/";
        assert_eq!(grid_and_building(NodeKind::Grid, p), Some((3, None)));
        assert_eq!(grid_and_building(NodeKind::Building, p), Some((2, Some(3))));
        assert_eq!(
            grid_and_building(NodeKind::Unit, "/1/2/3/4/5/"),
            Some((3, Some(4)))
        );
        assert_eq!(
            grid_and_building(NodeKind::VillageGroup, p),
            Some((2, None))
        );
        assert_eq!(grid_and_building(NodeKind::Community, p), None);
        assert_eq!(grid_and_building(NodeKind::Subdistrict, p), None);
        // A path too short for its kind is no place.
        assert_eq!(grid_and_building(NodeKind::Unit, "/5/"), None);
        assert_eq!(grid_and_building(NodeKind::Grid, "/"), None);
    }

    #[test]
    fn candidates_are_live_or_recently_closed() {
        let now = T0 + 100 * 86_400_000;
        for s in ALL_STATES {
            let code = s.code();
            let expect = !matches!(s, State::Rejected | State::Withdrawn | State::Merged);
            assert_eq!(is_candidate(code, now - 1, now), expect, "{code}");
        }
        assert!(is_candidate("closed", now - RECENTLY_CLOSED_MS, now));
        assert!(!is_candidate("closed", now - RECENTLY_CLOSED_MS - 1, now));
        assert!(
            is_candidate("registered", 0, now),
            "live cases never age out"
        );
    }

    #[test]
    fn case_references_read_as_numbers_or_ids() {
        assert_eq!(
            parse_case_ref(" 2026-000123 "),
            Some(CaseRef::Number("2026-000123".into()))
        );
        assert_eq!(parse_case_ref("42"), Some(CaseRef::Id(42)));
        for bad in [
            "", "0", "-3", "abc", "2026-", "26-0001", "2026-12a", "2026-1-2", "一二",
        ] {
            assert_eq!(parse_case_ref(bad), None, "{bad}");
        }
    }
}
