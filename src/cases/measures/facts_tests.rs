use super::*;
use crate::cases::lifecycle::{
    apply, Action, ActorKind, EvaluationChannel, Intake, Rating, ALL_STATES,
};

const H: i64 = 3_600_000;
const OPS: ActorKind = ActorKind::OpsCentre { unit_id: 1 };
const UNIT: ActorKind = ActorKind::UnitStaff { unit_id: 7 };

fn opened() -> Case {
    Case::open(1, Intake::Report, &ActorKind::Reporter, 0).next
}

fn step(c: &Case, actor: ActorKind, action: Action, at: i64) -> Case {
    apply(c, &actor, &action, at)
        .unwrap_or_else(|r| panic!("{:?} refused: {}", action, r.reason.en))
        .next
}

fn dispatched(at: i64) -> Case {
    let c = step(&opened(), OPS, Action::Register, at);
    step(
        &c,
        OPS,
        Action::Dispatch {
            unit_id: 7,
            first_contact_due_ms: at + 24 * H,
            due_ms: at + 120 * H,
        },
        at,
    )
}

fn contacted(at: i64) -> Case {
    step(
        &dispatched(0),
        UNIT,
        Action::FirstContact { note: None },
        at,
    )
}

fn handled(at: i64) -> Case {
    step(
        &contacted(H),
        UNIT,
        Action::ReportHandled {
            summary: "done".into(),
        },
        at,
    )
}

fn verified(c: &Case, at: i64) -> Case {
    step(
        c,
        ActorKind::Verifier,
        Action::Verify {
            passed: true,
            note: None,
        },
        at,
    )
}

fn rate(c: &Case, v: u8, at: i64) -> Case {
    step(
        c,
        ActorKind::Reporter,
        Action::Evaluate {
            rating: Rating::new(v).unwrap(),
            comment: None,
            channel: EvaluationChannel::Online,
            rehandling_due_ms: at + 72 * H,
        },
        at,
    )
}

#[test]
fn a_draft_counts_for_nothing_and_a_report_only_as_reported() {
    let draft = Case::open(1, Intake::Draft, &UNIT, 0).next;
    assert!(Facts::of(&draft).is_zero());
    let f = Facts::of(&opened());
    assert_eq!(
        f,
        Facts {
            reported: 1,
            ..Facts::default()
        }
    );
    // Every measure has a zero denominator: "—", never NaN.
    for m in f.measures() {
        assert_eq!(m.ratio.denominator, 0, "{:?}", m.kind);
        assert_eq!(m.value_text(), "—");
        assert_eq!(m.tenths(), None);
    }
}

#[test]
fn a_dispatched_case_is_due_and_awaits_a_response() {
    let f = Facts::of(&dispatched(0));
    assert_eq!(
        f,
        Facts {
            reported: 1,
            dispatched: 1,
            due: 1,
            resolvable: 1,
            ..Facts::default()
        }
    );
}

#[test]
fn first_contact_on_time_or_late() {
    let on_time = Facts::of(&contacted(24 * H));
    assert_eq!((on_time.responded, on_time.responded_on_time), (1, 1));
    let late = Facts::of(&contacted(24 * H + 1));
    assert_eq!((late.responded, late.responded_on_time), (1, 0));
}

#[test]
fn a_verified_case_is_closed_resolved_and_timed_without_its_pauses() {
    let c = contacted(H);
    let c = step(
        &c,
        UNIT,
        Action::Pause {
            reason: "等居民".into(),
        },
        2 * H,
    );
    let c = step(
        &c,
        UNIT,
        Action::Resume {
            first_contact_due_ms: None,
            due_ms: None,
        },
        12 * H,
    );
    let c = step(
        &c,
        UNIT,
        Action::ReportHandled {
            summary: "done".into(),
        },
        30 * H,
    );
    let f = Facts::of(&c);
    assert_eq!(f.handled, 1);
    assert_eq!((f.handling_ms, f.handling_count), (20 * H, 1));
    let closed = verified(&c, 31 * H);
    let f = Facts::of(&closed);
    assert_eq!(
        f,
        Facts {
            reported: 1,
            dispatched: 1,
            responded: 1,
            responded_on_time: 1,
            due: 1,
            closed: 1,
            closed_on_time: 1,
            resolvable: 1,
            resolved: 1,
            handled: 1,
            with_rework: 0,
            rated: 0,
            satisfied: 0,
            handling_ms: 20 * H,
            handling_count: 1,
        }
    );
    let late = verified(&c, 120 * H + 1);
    let f = Facts::of(&late);
    assert_eq!((f.closed, f.closed_on_time), (1, 0));
}

#[test]
fn a_failed_verification_is_rework_and_stops_the_handling_time_until_the_next_report() {
    let c = handled(10 * H);
    let c = step(
        &c,
        ActorKind::Verifier,
        Action::Verify {
            passed: false,
            note: Some("没修好".into()),
        },
        11 * H,
    );
    let f = Facts::of(&c);
    assert_eq!((f.handled, f.with_rework), (1, 1));
    assert_eq!(
        (f.handling_ms, f.handling_count),
        (0, 0),
        "in handling again"
    );
    let c = step(
        &c,
        UNIT,
        Action::ReportHandled {
            summary: "again".into(),
        },
        20 * H,
    );
    let f = Facts::of(&verified(&c, 21 * H));
    assert_eq!((f.handling_ms, f.handling_count), (20 * H, 1));
    assert_eq!((f.resolved, f.with_rework, f.closed_on_time), (1, 1, 1));
}

#[test]
fn ratings_count_each_one_given_and_an_unsatisfied_one_undoes_the_resolution() {
    let closed = verified(&handled(10 * H), 11 * H);
    let happy = Facts::of(&rate(&closed, 5, 12 * H));
    assert_eq!((happy.rated, happy.satisfied, happy.resolved), (1, 1, 1));
    let fair = Facts::of(&rate(&closed, SATISFIED_FROM_U8, 12 * H));
    assert_eq!((fair.rated, fair.satisfied), (1, 1));
    let unhappy = rate(&closed, 2, 12 * H);
    let f = Facts::of(&unhappy);
    assert_eq!(unhappy.state, State::ReHandling);
    assert_eq!((f.rated, f.satisfied), (1, 0));
    assert_eq!((f.closed, f.resolved, f.due, f.resolvable), (0, 0, 1, 1));
    // Re-handled, closed again and then rated satisfied: two ratings, one satisfied; closed,
    // but not resolved at the first attempt.
    let c = step(
        &unhappy,
        UNIT,
        Action::ReportHandled {
            summary: "重办".into(),
        },
        20 * H,
    );
    let c = verified(&c, 21 * H);
    let c = rate(&c, 4, 22 * H);
    let f = Facts::of(&c);
    assert_eq!((f.rated, f.satisfied), (2, 1));
    assert_eq!((f.closed, f.closed_on_time, f.resolved), (1, 1, 0));
    let m = f.measures();
    assert_eq!(m[2].kind, MeasureKind::Satisfaction);
    assert_eq!(m[2].value_text(), "50.0%");
}

const SATISFIED_FROM_U8: u8 = lifecycle::SATISFIED_FROM;

#[test]
fn an_administrative_closure_without_a_deadline_is_resolvable_but_not_due() {
    let registered = step(&opened(), OPS, Action::Register, H);
    let c = step(
        &registered,
        OPS,
        Action::Close {
            reason: "咨询已答复".into(),
        },
        2 * H,
    );
    let f = Facts::of(&c);
    assert_eq!((f.due, f.closed, f.closed_on_time), (0, 0, 0));
    assert_eq!((f.resolvable, f.resolved), (1, 1));
    assert_eq!((f.handled, f.handling_count), (0, 0));
}

#[test]
fn a_reopened_case_is_neither_due_nor_resolved_until_dispatched_again() {
    let closed = verified(&handled(10 * H), 11 * H);
    let c = step(
        &closed,
        OPS,
        Action::Reopen {
            reason: "又坏了".into(),
        },
        12 * H,
    );
    let f = Facts::of(&c);
    assert_eq!((f.due, f.closed, f.resolvable, f.resolved), (0, 0, 0, 0));
    assert_eq!((f.dispatched, f.handled), (1, 1));
}

#[test]
fn a_merged_duplicate_is_only_reported() {
    let c = dispatched(0);
    let c = step(&c, OPS, Action::Merge { into: 99 }, H);
    assert_eq!(
        Facts::of(&c),
        Facts {
            reported: 1,
            ..Facts::default()
        }
    );
}

#[test]
fn counters_stay_consistent_in_every_state() {
    // However a case stands, numerators never exceed their denominators.
    let mut samples = vec![opened(), dispatched(0), contacted(H), handled(3 * H)];
    samples.push(verified(&handled(3 * H), 4 * H));
    samples.push(rate(&verified(&handled(3 * H), 4 * H), 1, 5 * H));
    for st in ALL_STATES {
        let mut c = handled(3 * H);
        c.state = st;
        samples.push(c);
    }
    for c in &samples {
        let f = Facts::of(c);
        for m in f.measures() {
            if m.kind.is_rate() {
                assert!(
                    m.ratio.numerator <= m.ratio.denominator,
                    "{:?} in {:?}: {:?}",
                    m.kind,
                    c.state,
                    m.ratio
                );
            }
        }
        assert!(f.responded_on_time <= f.responded && f.responded <= f.dispatched);
        assert!(f.closed_on_time <= f.closed && f.closed <= f.due);
        assert!(f.resolved <= f.resolvable);
        assert!(f.handling_ms >= 0);
    }
}

#[test]
fn sums_and_differences_are_per_counter() {
    let a = Facts::of(&verified(&handled(10 * H), 11 * H));
    let b = Facts::of(&dispatched(0));
    let s = a.plus(b);
    assert_eq!(s.reported, 2);
    assert_eq!(s.due, 2);
    assert_eq!(s.closed, 1);
    assert_eq!(s.minus(b), a);
    assert!(a.minus(a).is_zero());
    assert_eq!(Facts::from_array(s.to_array()), s);
    assert_eq!(COUNTERS.len(), s.to_array().len());
}

#[test]
fn percentages_round_half_up_with_one_decimal() {
    assert_eq!(Ratio::new(1, 3).percent_text(), "33.3%");
    assert_eq!(Ratio::new(2, 3).percent_text(), "66.7%");
    assert_eq!(Ratio::new(1, 8).percent_text(), "12.5%");
    // 1/16 = 6.25 % → 6.3 % (half up, not to even).
    assert_eq!(Ratio::new(1, 16).percent_text(), "6.3%");
    // 1/2000 = 0.05 % → 0.1 %; 1/2001 → 0.0 %.
    assert_eq!(Ratio::new(1, 2000).percent_text(), "0.1%");
    assert_eq!(Ratio::new(1, 2001).percent_text(), "0.0%");
    assert_eq!(Ratio::new(7, 7).percent_text(), "100.0%");
    assert_eq!(Ratio::new(0, 5).percent_text(), "0.0%");
    assert_eq!(Ratio::new(0, 0).percent_text(), "—");
    assert_eq!(Ratio::new(3, 0).percent_tenths(), None);
    assert_eq!(Ratio::new(i64::MAX, i64::MAX).percent_tenths(), Some(1000));
    assert_eq!(Ratio::new(5, 2).rounded(), Some(3));
    assert_eq!(Ratio::new(7, 3).rounded(), Some(2));
}

#[test]
fn handling_time_shows_in_hours_with_one_decimal() {
    assert_eq!(hours_text(0), "0.0");
    assert_eq!(hours_text(20 * H), "20.0");
    assert_eq!(hours_text(H / 20), "0.1", "3 minutes round up to 0.1 h");
    assert_eq!(hours_text(H / 20 - 1), "0.0");
    let f = Facts {
        handling_ms: 3 * H,
        handling_count: 2,
        ..Facts::default()
    };
    let m = f.measures()[6];
    assert_eq!(m.kind, MeasureKind::HandlingTime);
    assert_eq!(m.value_text(), "1.5");
    assert_eq!(m.tenths(), Some(15));
}

#[test]
fn measure_codes_round_trip() {
    for m in ALL_MEASURES {
        assert_eq!(MeasureKind::from_code(m.code()), Some(m));
        assert!(!m.label().zh.is_empty() && !m.definition().en.is_empty());
    }
    assert!(!MeasureKind::Rework.higher_is_better());
    assert!(MeasureKind::Response.higher_is_better());
}
