use super::*;
use proptest::prelude::*;

const T0: i64 = 1_750_000_000_000;
const HOUR: i64 = 3_600_000;
const DAY: i64 = 86_400_000;

/// The subdistrict operations centre.
const OPS: i64 = 1;
/// The community committee that registers (first receiver).
const DESK: i64 = 10;
/// The property company the case is dispatched to.
const UNIT: i64 = 20;
/// Another unit, for transfers.
const OTHER: i64 = 30;
/// The grid the case lies in (not the owner).
const GRID: i64 = 40;

fn ops() -> ActorKind {
    ActorKind::OpsCentre { unit_id: OPS }
}
fn desk() -> ActorKind {
    ActorKind::UnitStaff { unit_id: DESK }
}
fn owner() -> ActorKind {
    ActorKind::UnitStaff { unit_id: UNIT }
}
fn grid() -> ActorKind {
    ActorKind::GridMember { unit_id: GRID }
}
const REPORTER: ActorKind = ActorKind::Reporter;

fn rating(v: u8) -> Rating {
    Rating::new(v).unwrap()
}

fn step(case: &Case, actor: ActorKind, action: Action, now: i64) -> Transition {
    match apply(case, &actor, &action, now) {
        Ok(t) => t,
        Err(r) => panic!(
            "{action:?} by {actor:?} in {:?} refused: {}",
            case.state, r.reason.en
        ),
    }
}

fn go(case: &Case, actor: ActorKind, action: Action, now: i64) -> Case {
    step(case, actor, action, now).next
}

fn refused(case: &Case, actor: ActorKind, action: Action, now: i64) -> Refusal {
    match apply(case, &actor, &action, now) {
        Ok(t) => panic!(
            "{action:?} by {actor:?} in {:?} accepted → {:?}",
            case.state, t.next.state
        ),
        Err(r) => r,
    }
}

fn dispatch(unit_id: i64, now: i64) -> Action {
    Action::Dispatch {
        unit_id,
        first_contact_due_ms: now + DAY,
        due_ms: now + 5 * DAY,
    }
}

fn reason(s: &str) -> String {
    s.to_string()
}

fn evaluate(v: u8, now: i64) -> Action {
    Action::Evaluate {
        rating: rating(v),
        comment: Some("谢谢".into()),
        channel: EvaluationChannel::Online,
        rehandling_due_ms: now + 3 * DAY,
    }
}

fn submitted() -> Case {
    Case::open(1, Intake::Report, &REPORTER, T0).next
}

/// A case in `state`, reached by real transitions, all before T0 + 5 days.
fn reach(state: State) -> Case {
    let t = |h: i64| T0 + h * HOUR;
    let registered = || go(&submitted(), desk(), Action::Register, t(1));
    let dispatched = || go(&registered(), desk(), dispatch(UNIT, t(2)), t(2));
    let in_handling = || {
        go(
            &dispatched(),
            owner(),
            Action::FirstContact { note: None },
            t(3),
        )
    };
    let handled = || {
        go(
            &in_handling(),
            owner(),
            Action::ReportHandled {
                summary: reason("已清理"),
            },
            t(20),
        )
    };
    let closed = || {
        go(
            &handled(),
            grid(),
            Action::Verify {
                passed: true,
                note: None,
            },
            t(24),
        )
    };
    let rehandling = || go(&closed(), REPORTER, evaluate(1, t(30)), t(30));
    let pause = || Action::Pause {
        reason: reason("居民外出"),
    };
    match state {
        State::Draft => Case::open(1, Intake::Draft, &ActorKind::System, T0).next,
        State::Submitted => submitted(),
        State::Rejected => go(
            &submitted(),
            desk(),
            Action::Reject {
                reason: reason("不属于受理范围"),
            },
            t(1),
        ),
        State::Withdrawn => go(
            &submitted(),
            REPORTER,
            Action::Withdraw { reason: None },
            t(1),
        ),
        State::Merged => go(&submitted(), desk(), Action::Merge { into: 99 }, t(1)),
        State::Registered => registered(),
        State::Dispatched => dispatched(),
        State::Disputed => go(
            &dispatched(),
            owner(),
            Action::Dispute {
                reason: reason("非本单位职责"),
            },
            t(3),
        ),
        State::InHandling => in_handling(),
        State::WaitingForResident {
            resume_to: Resume::Dispatched,
        } => go(&dispatched(), owner(), pause(), t(3)),
        State::WaitingForResident {
            resume_to: Resume::InHandling,
        } => go(&in_handling(), owner(), pause(), t(4)),
        State::WaitingForResident {
            resume_to: Resume::ReHandling,
        } => go(&rehandling(), owner(), pause(), t(31)),
        State::Handled => handled(),
        State::Closed => closed(),
        State::ReHandling => rehandling(),
    }
}

/// For each action kind, an actor that may do it whenever the state admits it, and sound data.
fn sample(kind: ActionKind, now: i64) -> (ActorKind, Action) {
    match kind {
        ActionKind::Register => (ops(), Action::Register),
        ActionKind::Reject => (
            ops(),
            Action::Reject {
                reason: reason("重复"),
            },
        ),
        ActionKind::Withdraw => (REPORTER, Action::Withdraw { reason: None }),
        ActionKind::Merge => (ops(), Action::Merge { into: 99 }),
        ActionKind::Dispatch => (ops(), dispatch(OTHER, now)),
        ActionKind::Transfer => (
            ops(),
            Action::Transfer {
                unit_id: OTHER,
                reason: reason("属物业职责"),
            },
        ),
        ActionKind::Dispute => (
            owner(),
            Action::Dispute {
                reason: reason("非本单位"),
            },
        ),
        ActionKind::FirstContact => (owner(), Action::FirstContact { note: None }),
        ActionKind::Note => (
            ops(),
            Action::Note {
                text: reason("已电话联系"),
                public: false,
            },
        ),
        ActionKind::Pause => (
            owner(),
            Action::Pause {
                reason: reason("等待居民提供照片"),
            },
        ),
        ActionKind::Resume => (
            owner(),
            Action::Resume {
                first_contact_due_ms: None,
                due_ms: None,
            },
        ),
        ActionKind::ReportHandled => (
            owner(),
            Action::ReportHandled {
                summary: reason("已修复"),
            },
        ),
        ActionKind::Verify => (
            ActorKind::Verifier,
            Action::Verify {
                passed: true,
                note: None,
            },
        ),
        ActionKind::Close => (
            ops(),
            Action::Close {
                reason: reason("政策咨询已当场答复"),
            },
        ),
        ActionKind::Evaluate => (REPORTER, evaluate(5, now)),
        ActionKind::Reopen => (
            ops(),
            Action::Reopen {
                reason: reason("问题复发"),
            },
        ),
        ActionKind::Escalate => (ActorKind::System, Action::Escalate { to_unit: 50 }),
    }
}

/// The table, written out independently of `State::allows`: for each action kind, the states
/// (by code) that admit it.
fn expected_states(kind: ActionKind) -> &'static [&'static str] {
    const W_D: &str = "waiting_for_resident.dispatched";
    const W_I: &str = "waiting_for_resident.in_handling";
    const W_R: &str = "waiting_for_resident.re_handling";
    match kind {
        ActionKind::Register | ActionKind::Reject | ActionKind::Withdraw => &["draft", "submitted"],
        ActionKind::Merge => &["draft", "submitted", "registered", "dispatched", "disputed"],
        ActionKind::Dispatch => &["registered", "disputed"],
        ActionKind::Transfer => &["dispatched", "in_handling", "re_handling"],
        ActionKind::Dispute => &["dispatched"],
        ActionKind::FirstContact => &["dispatched"],
        ActionKind::Note => &[
            "draft",
            "submitted",
            "registered",
            "dispatched",
            "disputed",
            "in_handling",
            W_D,
            W_I,
            W_R,
            "handled",
            "closed",
            "re_handling",
        ],
        ActionKind::Pause => &["dispatched", "in_handling", "re_handling"],
        ActionKind::Resume => &[W_D, W_I, W_R],
        ActionKind::ReportHandled => &["in_handling", "re_handling"],
        ActionKind::Verify => &["handled"],
        ActionKind::Close => &[
            "registered",
            "dispatched",
            "disputed",
            "in_handling",
            W_D,
            W_I,
            W_R,
            "handled",
            "re_handling",
        ],
        ActionKind::Evaluate => &["closed"],
        ActionKind::Reopen => &["closed", "rejected"],
        ActionKind::Escalate => &[
            "dispatched",
            "disputed",
            "in_handling",
            "handled",
            "re_handling",
        ],
    }
}

#[test]
fn every_state_reaches_itself() {
    for s in ALL_STATES {
        assert_eq!(reach(s).state, s);
    }
}

#[test]
fn table_every_state_every_action() {
    // Late enough that every case with a deadline is overdue, so Escalate is decided by state.
    let now = T0 + 30 * DAY;
    let mut allowed = 0;
    for state in ALL_STATES {
        let case = reach(state);
        for kind in ALL_ACTION_KINDS {
            let expect = expected_states(kind).contains(&state.code());
            assert_eq!(state.allows(kind), expect, "{state:?} × {kind:?}");
            let (actor, action) = sample(kind, now);
            assert_eq!(action.kind(), kind);
            match apply(&case, &actor, &action, now) {
                Ok(t) => {
                    assert!(expect, "{state:?} × {kind:?} should be refused");
                    assert_eq!(t.next.version, case.version + 1);
                    assert!(!t.events.is_empty());
                    allowed += 1;
                }
                Err(r) => {
                    assert!(!expect, "{state:?} × {kind:?} refused: {}", r.reason.en);
                    assert_eq!(r.kind, RefusalKind::State, "{state:?} × {kind:?}");
                    assert!(!r.reason.zh.is_empty() && !r.reason.en.is_empty());
                }
            }
        }
    }
    assert_eq!(allowed, 56);
}

#[test]
fn state_refusals_say_why() {
    let now = T0 + 6 * DAY;
    let check = |state: State, kind: ActionKind, zh: &str, en: &str| {
        let (actor, action) = sample(kind, now);
        let r = refused(&reach(state), actor, action, now);
        assert_eq!(r.kind, RefusalKind::State);
        assert_eq!(r.reason.zh, zh);
        assert_eq!(r.reason.en, en);
    };
    check(
        State::Closed,
        ActionKind::Dispatch,
        "已结案的事项不能派单",
        "a case that is closed cannot be dispatched",
    );
    check(
        State::Merged,
        ActionKind::Reopen,
        "已合并的事项不能重新打开",
        "a case that is merged into another case cannot be reopened",
    );
    check(
        State::Dispatched,
        ActionKind::Withdraw,
        "立案后不能撤回,如需终止请联系承办单位",
        "a registered case can no longer be withdrawn; ask the handling unit instead",
    );
    check(
        State::Handled,
        ActionKind::Evaluate,
        "结案后才能评价",
        "a case can be rated only once it is closed",
    );
    check(
        State::WaitingForResident {
            resume_to: Resume::InHandling,
        },
        ActionKind::Escalate,
        "等待居民回复期间计时暂停,不能升级督办",
        "the clock is paused while waiting for the resident; the case cannot be escalated",
    );
    check(
        State::Dispatched,
        ActionKind::Register,
        "该事项已立案",
        "the case has already been registered",
    );
    check(
        State::Dispatched,
        ActionKind::ReportHandled,
        "已派单的事项不能反馈办结",
        "a case that is dispatched cannot be reported as handled",
    );
}

#[test]
fn happy_path_end_to_end() {
    let opened = Case::open(7, Intake::Report, &REPORTER, T0);
    assert_eq!(opened.next.version, 1);
    assert_eq!(opened.events[0].kind(), EventKind::Reported);
    assert!(opened.events[0].public);
    let mut case = opened.next;
    let mut kinds = vec![EventKind::Reported];
    let mut run = |case: &mut Case, actor: ActorKind, action: Action, at: i64| {
        let t = step(case, actor, action, at);
        assert_eq!(t.next.version, case.version + 1);
        for e in &t.events {
            assert_eq!(e.at_ms, at);
            assert_eq!(e.actor, actor);
            assert!(e.public, "{:?} should be public", e.kind());
            kinds.push(e.kind());
        }
        *case = t.next;
    };
    run(&mut case, desk(), Action::Register, T0 + HOUR);
    assert_eq!(case.first_receiver, Some(DESK));
    assert_eq!(case.owner_unit, Some(DESK));
    run(
        &mut case,
        desk(),
        dispatch(UNIT, T0 + 2 * HOUR),
        T0 + 2 * HOUR,
    );
    assert_eq!(case.owner_unit, Some(UNIT));
    assert_eq!(case.first_receiver, Some(DESK));
    assert_eq!(case.dispatched_ms, Some(T0 + 2 * HOUR));
    assert_eq!(case.due_ms, Some(T0 + 2 * HOUR + 5 * DAY));
    run(
        &mut case,
        owner(),
        Action::FirstContact {
            note: Some("已电话联系居民".into()),
        },
        T0 + 5 * HOUR,
    );
    assert_eq!(case.first_contact_ms, Some(T0 + 5 * HOUR));
    assert_eq!(case.responded_on_time(), Some(true));
    run(
        &mut case,
        owner(),
        Action::Note {
            text: "已派维修工".into(),
            public: true,
        },
        T0 + 6 * HOUR,
    );
    run(
        &mut case,
        owner(),
        Action::ReportHandled {
            summary: "路灯已更换".into(),
        },
        T0 + 2 * DAY,
    );
    assert_eq!(case.state, State::Handled);
    assert_eq!(case.handled_ms, Some(T0 + 2 * DAY));
    run(
        &mut case,
        grid(),
        Action::Verify {
            passed: true,
            note: Some("现场查看已亮".into()),
        },
        T0 + 3 * DAY,
    );
    assert_eq!(case.state, State::Closed);
    assert_eq!(case.closed_ms, Some(T0 + 3 * DAY));
    assert_eq!(case.closed_on_time, Some(true));
    run(&mut case, REPORTER, evaluate(5, T0 + 4 * DAY), T0 + 4 * DAY);
    assert_eq!(case.state, State::Closed);
    assert_eq!(case.rating, Some(rating(5)));
    assert_eq!(case.version, 8);
    assert_eq!(case.rework_count, 0);
    assert_eq!(case.rehandling_count, 0);
    assert_eq!(
        kinds,
        vec![
            EventKind::Reported,
            EventKind::Registered,
            EventKind::Dispatched,
            EventKind::FirstContact,
            EventKind::Note,
            EventKind::ReportedHandled,
            EventKind::VerificationPassed,
            EventKind::Closed,
            EventKind::Evaluated,
        ]
    );
    // Rated once per closure.
    let r = refused(&case, REPORTER, evaluate(4, T0 + 5 * DAY), T0 + 5 * DAY);
    assert_eq!(r.reason.en, "this closure has already been rated");
}

#[test]
fn late_closure_and_late_first_contact_are_recorded() {
    let d = reach(State::Dispatched);
    let late = d.first_contact_due_ms.unwrap() + 1;
    let c = go(&d, owner(), Action::FirstContact { note: None }, late);
    assert_eq!(c.responded_on_time(), Some(false));
    let due = c.due_ms.unwrap();
    let h = go(
        &c,
        owner(),
        Action::ReportHandled {
            summary: "ok".into(),
        },
        due - HOUR,
    );
    let closed = go(
        &h,
        grid(),
        Action::Verify {
            passed: true,
            note: None,
        },
        due + HOUR,
    );
    assert_eq!(closed.closed_on_time, Some(false));
}

#[test]
fn rework_loop_is_counted() {
    let mut case = reach(State::Handled);
    let now = T0 + DAY;
    // A failed verification needs a note saying what is wrong.
    let r = refused(
        &case,
        grid(),
        Action::Verify {
            passed: false,
            note: Some("  ".into()),
        },
        now,
    );
    assert_eq!((r.kind, r.field), (RefusalKind::Input, Some("note")));
    for round in 1..=3u32 {
        let t = step(
            &case,
            grid(),
            Action::Verify {
                passed: false,
                note: Some("垃圾未清运完".into()),
            },
            now,
        );
        assert_eq!(t.next.state, State::InHandling);
        assert_eq!(t.next.rework_count, round);
        assert_eq!(t.events.len(), 1);
        assert_eq!(t.events[0].kind(), EventKind::VerificationFailed);
        assert!(!t.events[0].public, "rework is staff-only");
        case = go(
            &t.next,
            owner(),
            Action::ReportHandled {
                summary: "已再次清运".into(),
            },
            now,
        );
    }
    let closed = go(
        &case,
        ActorKind::Verifier,
        Action::Verify {
            passed: true,
            note: None,
        },
        now,
    );
    assert_eq!(closed.state, State::Closed);
    assert_eq!(closed.rework_count, 3);
}

#[test]
fn unsatisfied_rating_opens_rehandling_and_closes_again() {
    let closed = reach(State::Closed);
    let now = T0 + 2 * DAY;
    let t = step(&closed, REPORTER, evaluate(2, now), now);
    let case = t.next;
    assert_eq!(case.state, State::ReHandling);
    assert_eq!(case.rehandling_count, 1);
    assert!(case.rehandling);
    assert_eq!(case.due_ms, Some(now + 3 * DAY));
    assert_eq!(
        (case.closed_ms, case.closed_on_time, case.rating),
        (None, None, None)
    );
    assert_eq!(
        t.events.iter().map(Event::kind).collect::<Vec<_>>(),
        vec![EventKind::Evaluated, EventKind::ReHandlingOpened]
    );
    assert!(t.events.iter().all(|e| e.public));
    // The re-handling deadline must lie ahead.
    let mut bad = evaluate(1, now);
    if let Action::Evaluate {
        rehandling_due_ms, ..
    } = &mut bad
    {
        *rehandling_due_ms = now;
    }
    let r = refused(&closed, REPORTER, bad, now);
    assert_eq!(r.field, Some("rehandling_due_ms"));

    // Handled again; a failed verification returns to re-handling, not first handling.
    let handled = go(
        &case,
        owner(),
        Action::ReportHandled {
            summary: "重新处理".into(),
        },
        now + DAY,
    );
    let back = go(
        &handled,
        grid(),
        Action::Verify {
            passed: false,
            note: Some("仍有异味".into()),
        },
        now + DAY,
    );
    assert_eq!(back.state, State::ReHandling);
    assert_eq!(back.rework_count, 1);
    let handled = go(
        &back,
        owner(),
        Action::ReportHandled {
            summary: "彻底处理".into(),
        },
        now + 2 * DAY,
    );
    let closed2 = go(
        &handled,
        grid(),
        Action::Verify {
            passed: true,
            note: None,
        },
        now + 2 * DAY,
    );
    assert_eq!(closed2.state, State::Closed);
    assert!(!closed2.rehandling);
    assert_eq!(closed2.closed_on_time, Some(true));
    // The new closure can be rated again; a return call records it for the resident.
    let t = step(
        &closed2,
        ops(),
        Action::Evaluate {
            rating: rating(4),
            comment: None,
            channel: EvaluationChannel::ReturnCall,
            rehandling_due_ms: 0,
        },
        now + 3 * DAY,
    );
    assert_eq!(t.next.state, State::Closed);
    assert_eq!(t.next.rating, Some(rating(4)));
    assert_eq!(t.next.rehandling_count, 1);
}

#[test]
fn reopen() {
    let closed = reach(State::Closed);
    let now = T0 + 10 * DAY;
    let r = refused(
        &closed,
        REPORTER,
        Action::Reopen {
            reason: "又坏了".into(),
        },
        now,
    );
    assert_eq!(r.kind, RefusalKind::Actor);
    let r = refused(&closed, desk(), Action::Reopen { reason: " ".into() }, now);
    assert_eq!(r.field, Some("reason"));
    let t = step(
        &closed,
        desk(),
        Action::Reopen {
            reason: "问题复发".into(),
        },
        now,
    );
    let case = t.next;
    assert_eq!(case.state, State::Registered);
    assert_eq!(case.reopen_count, 1);
    assert_eq!(
        (case.closed_ms, case.due_ms, case.rating),
        (None, None, None)
    );
    assert!(t.events[0].public);
    let again = go(&case, desk(), dispatch(OTHER, now), now);
    assert_eq!(again.owner_unit, Some(OTHER));
    assert_eq!(
        again.dispatched_ms, closed.dispatched_ms,
        "the first dispatch is kept"
    );
    assert_eq!(again.due_ms, Some(now + 5 * DAY));

    // A rejection is overturned only by the operations centre, back to triage.
    let rejected = reach(State::Rejected);
    let r = refused(
        &rejected,
        desk(),
        Action::Reopen {
            reason: "误驳回".into(),
        },
        now,
    );
    assert_eq!(r.kind, RefusalKind::Actor);
    let back = go(
        &rejected,
        ops(),
        Action::Reopen {
            reason: "误驳回".into(),
        },
        now,
    );
    assert_eq!(back.state, State::Submitted);
    assert_eq!(back.reopen_count, 1);
}

#[test]
fn merge_keeps_both_and_links_them() {
    let dup = submitted();
    let r = refused(&dup, desk(), Action::Merge { into: 1 }, T0);
    assert_eq!((r.kind, r.field), (RefusalKind::Input, Some("into")));
    let r = refused(&dup, REPORTER, Action::Merge { into: 5 }, T0);
    assert_eq!(r.kind, RefusalKind::Actor);
    let t = step(&dup, desk(), Action::Merge { into: 5 }, T0 + HOUR);
    assert_eq!(t.next.state, State::Merged);
    assert_eq!(t.next.merged_into, Some(5));
    assert_eq!(t.events[0].data, EventData::MergedInto { into: 5 });
    assert!(
        t.events[0].public,
        "the reporter sees where their report went"
    );
    // Nothing more happens to a merged case.
    for kind in ALL_ACTION_KINDS {
        let (actor, action) = sample(kind, T0);
        assert!(apply(&t.next, &actor, &action, T0).is_err());
    }

    // The target takes it in.
    let mut target = reach(State::InHandling);
    target.id = 5;
    let a = absorb(&target, 1, &desk(), T0 + HOUR).unwrap();
    assert_eq!(a.next.version, target.version + 1);
    assert_eq!(a.next.merged_in_count, 1);
    assert_eq!(a.next.state, State::InHandling);
    assert_eq!(a.events[0].data, EventData::ReportMergedIn { from: 1 });
    assert!(a.events[0].public);
    assert!(absorb(&target, 5, &desk(), T0).is_err());
    for dead in [
        State::Closed,
        State::Merged,
        State::Rejected,
        State::Withdrawn,
    ] {
        let r = absorb(&reach(dead), 2, &desk(), T0).unwrap_err();
        assert_eq!(r.kind, RefusalKind::State);
    }

    // A merged draft stays off the public timeline; after registration only the case's desks merge.
    let draft = reach(State::Draft);
    let t = step(&draft, desk(), Action::Merge { into: 5 }, T0);
    assert!(!t.events[0].public);
    let reg = reach(State::Registered);
    let r = refused(
        &reg,
        ActorKind::UnitStaff { unit_id: OTHER },
        Action::Merge { into: 5 },
        T0,
    );
    assert_eq!(r.kind, RefusalKind::Actor);
    assert_eq!(
        go(&reg, desk(), Action::Merge { into: 5 }, T0).state,
        State::Merged
    );
}

#[test]
fn transfer_needs_a_reason_and_keeps_the_clock() {
    let case = reach(State::InHandling);
    let now = T0 + DAY;
    let r = refused(
        &case,
        owner(),
        Action::Transfer {
            unit_id: OTHER,
            reason: "   ".into(),
        },
        now,
    );
    assert_eq!((r.kind, r.field), (RefusalKind::Input, Some("reason")));
    assert_eq!(r.reason.en, "a reason is required");
    let r = refused(
        &case,
        owner(),
        Action::Transfer {
            unit_id: UNIT,
            reason: "x".into(),
        },
        now,
    );
    assert_eq!(r.field, Some("unit_id"));
    let r = refused(
        &case,
        ActorKind::UnitStaff { unit_id: OTHER },
        Action::Transfer {
            unit_id: OTHER,
            reason: "抢单".into(),
        },
        now,
    );
    assert_eq!(r.kind, RefusalKind::Actor);
    let t = step(
        &case,
        owner(),
        Action::Transfer {
            unit_id: OTHER,
            reason: "属于市政设施".into(),
        },
        now,
    );
    let moved = t.next;
    assert_eq!(moved.state, State::Dispatched);
    assert_eq!(moved.owner_unit, Some(OTHER));
    assert_eq!(moved.first_receiver, Some(DESK));
    assert_eq!(moved.transfer_count, 1);
    assert_eq!(
        moved.due_ms, case.due_ms,
        "a transfer does not restart the clock"
    );
    assert!(t.events[0].public);
    assert_eq!(
        t.events[0].data,
        EventData::Transferred {
            from_unit: Some(UNIT),
            to_unit: OTHER,
            reason: "属于市政设施".into(),
        }
    );
    // The old owner no longer acts; the new one does, and the first contact time stays the first.
    let r = refused(&moved, owner(), Action::FirstContact { note: None }, now);
    assert_eq!(r.kind, RefusalKind::Actor);
    assert_eq!(r.reason.zh, "只有承办单位可以首次联系");
    let c = go(
        &moved,
        ActorKind::UnitStaff { unit_id: OTHER },
        Action::FirstContact { note: None },
        now + HOUR,
    );
    assert_eq!(c.state, State::InHandling);
    assert_eq!(c.first_contact_ms, case.first_contact_ms);
}

#[test]
fn disputed_dispatch_goes_to_the_operations_centre() {
    let case = reach(State::Dispatched);
    let now = T0 + 3 * HOUR;
    let r = refused(
        &case,
        owner(),
        Action::Dispute {
            reason: String::new(),
        },
        now,
    );
    assert_eq!(r.field, Some("reason"));
    let r = refused(&case, ops(), Action::Dispute { reason: "x".into() }, now);
    assert_eq!(r.kind, RefusalKind::Actor);
    let t = step(
        &case,
        owner(),
        Action::Dispute {
            reason: "该楼不在我司管理范围".into(),
        },
        now,
    );
    assert_eq!(t.next.state, State::Disputed);
    assert!(!t.events[0].public, "disputes are internal");
    let disputed = t.next;
    let r = refused(&disputed, desk(), dispatch(OTHER, now), now);
    assert_eq!(r.kind, RefusalKind::Actor);
    assert_eq!(r.reason.zh, "派单争议只能由城运中心裁定");
    let t = step(&disputed, ops(), dispatch(OTHER, now + HOUR), now + HOUR);
    assert_eq!(t.next.state, State::Dispatched);
    assert_eq!(t.next.owner_unit, Some(OTHER));
    assert_eq!(t.next.dispatched_ms, case.dispatched_ms);
    match &t.events[0].data {
        EventData::Dispatched { ruling, .. } => assert!(ruling),
        other => panic!("{other:?}"),
    }
}

#[test]
fn dispatch_deadlines_are_checked() {
    let reg = reach(State::Registered);
    let now = T0 + DAY;
    let bad = Action::Dispatch {
        unit_id: UNIT,
        first_contact_due_ms: now - 1,
        due_ms: now + DAY,
    };
    assert_eq!(refused(&reg, desk(), bad, now).field, Some("due_ms"));
    let bad = Action::Dispatch {
        unit_id: UNIT,
        first_contact_due_ms: now + 2 * DAY,
        due_ms: now + DAY,
    };
    assert_eq!(
        refused(&reg, desk(), bad, now).field,
        Some("first_contact_due_ms")
    );
    let r = refused(&reg, owner(), dispatch(UNIT, now), now);
    assert_eq!(r.kind, RefusalKind::Actor);
}

#[test]
fn pause_and_resume_return_to_the_previous_state() {
    for (from, to) in [
        (State::Dispatched, Resume::Dispatched),
        (State::InHandling, Resume::InHandling),
        (State::ReHandling, Resume::ReHandling),
    ] {
        let case = reach(from);
        let now = T0 + 2 * DAY;
        let r = refused(&case, owner(), Action::Pause { reason: "".into() }, now);
        assert_eq!(r.field, Some("reason"));
        let t = step(
            &case,
            owner(),
            Action::Pause {
                reason: "等待居民在家时上门".into(),
            },
            now,
        );
        assert!(t.events[0].public);
        let paused = t.next;
        assert_eq!(paused.state, State::WaitingForResident { resume_to: to });
        assert_eq!(paused.paused_since_ms, Some(now));
        // The clock stands still.
        assert_eq!(paused.clock_ms(now + 9 * DAY), now);
        assert!(!paused.is_overdue(now + 99 * DAY) || paused.due_ms.unwrap() < now);
        let old_due = paused.due_ms.unwrap();
        let r = refused(
            &paused,
            owner(),
            Action::Resume {
                first_contact_due_ms: None,
                due_ms: Some(old_due - 1),
            },
            now + DAY,
        );
        assert_eq!(r.field, Some("due_ms"));
        let r = refused(
            &paused,
            REPORTER,
            Action::Resume {
                first_contact_due_ms: None,
                due_ms: None,
            },
            now + DAY,
        );
        assert_eq!(r.kind, RefusalKind::Actor);
        let t = step(
            &paused,
            ActorKind::System,
            Action::Resume {
                first_contact_due_ms: None,
                due_ms: Some(old_due + 2 * DAY),
            },
            now + 2 * DAY,
        );
        let resumed = t.next;
        assert_eq!(resumed.state, from);
        assert_eq!(resumed.paused_since_ms, None);
        assert_eq!(resumed.paused_total_ms, 2 * DAY);
        assert_eq!(resumed.due_ms, Some(old_due + 2 * DAY));
        assert_eq!(
            t.events[0].data,
            EventData::Resumed {
                paused_ms: 2 * DAY,
                first_contact_due_ms: None,
                due_ms: Some(old_due + 2 * DAY),
            }
        );
    }
}

#[test]
fn closing_while_paused_reads_the_stopped_clock() {
    let paused = reach(State::WaitingForResident {
        resume_to: Resume::InHandling,
    });
    let since = paused.paused_since_ms.unwrap();
    let late = paused.due_ms.unwrap() + 10 * DAY;
    let t = step(
        &paused,
        ops(),
        Action::Close {
            reason: "居民表示已自行解决".into(),
        },
        late,
    );
    assert_eq!(t.next.state, State::Closed);
    assert_eq!(t.next.closed_on_time, Some(true));
    assert_eq!(t.next.paused_since_ms, None);
    assert_eq!(t.next.paused_total_ms, late - since);
    let r = refused(&paused, desk(), Action::Close { reason: "x".into() }, late);
    assert_eq!(r.kind, RefusalKind::Actor);
}

#[test]
fn escalation_only_when_overdue_and_by_the_system() {
    let case = reach(State::InHandling);
    let due = case.due_ms.unwrap();
    let r = refused(
        &case,
        ActorKind::System,
        Action::Escalate { to_unit: 50 },
        due,
    );
    assert_eq!(
        r.reason.en,
        "a case that is not overdue cannot be escalated"
    );
    let r = refused(&case, ops(), Action::Escalate { to_unit: 50 }, due + 1);
    assert_eq!(r.kind, RefusalKind::Actor);
    let t = step(
        &case,
        ActorKind::System,
        Action::Escalate { to_unit: 50 },
        due + HOUR,
    );
    assert_eq!(t.next.escalated_to, Some(50));
    assert_eq!(t.next.escalation_count, 1);
    assert_eq!(t.next.state, State::InHandling);
    assert!(!t.events[0].public);
    assert_eq!(
        t.events[0].data,
        EventData::Escalated {
            to_unit: 50,
            overdue_ms: HOUR
        }
    );
    let r = refused(
        &t.next,
        ActorKind::System,
        Action::Escalate { to_unit: 50 },
        due + DAY,
    );
    assert_eq!(r.field, Some("to_unit"));
    let up = go(
        &t.next,
        ActorKind::System,
        Action::Escalate { to_unit: OPS },
        due + DAY,
    );
    assert_eq!(up.escalation_count, 2);
}

#[test]
fn who_may_act() {
    let now = T0 + 2 * DAY;
    // Only the reporter withdraws, before registration.
    let sub = submitted();
    let r = refused(&sub, desk(), Action::Withdraw { reason: None }, now);
    assert_eq!(r.reason.en, "only the reporter can withdraw the case");
    // Residents and the public do not triage.
    for a in [REPORTER, ActorKind::Public, grid(), ActorKind::System] {
        assert_eq!(
            refused(&sub, a, Action::Register, now).kind,
            RefusalKind::Actor
        );
    }
    // Only the reporter rates online; a return call is not recorded by the handling unit.
    let closed = reach(State::Closed);
    let r = refused(&closed, ops(), evaluate(5, now), now);
    assert_eq!(r.reason.en, "only the reporter can rate the case");
    let call = |v| Action::Evaluate {
        rating: rating(v),
        comment: None,
        channel: EvaluationChannel::ReturnCall,
        rehandling_due_ms: now + DAY,
    };
    let r = refused(&closed, owner(), call(5), now);
    assert_eq!(
        r.reason.en,
        "the handling unit cannot record the return call on its own work"
    );
    assert_eq!(
        refused(&closed, REPORTER, call(5), now).kind,
        RefusalKind::Actor
    );
    assert_eq!(go(&closed, desk(), call(1), now).state, State::ReHandling);
    // Only a grid member (not of the owning unit) or a verifier verifies.
    let handled = reach(State::Handled);
    let pass = || Action::Verify {
        passed: true,
        note: None,
    };
    for a in [REPORTER, ops(), owner(), desk(), ActorKind::System] {
        let r = refused(&handled, a, pass(), now);
        assert_eq!(r.kind, RefusalKind::Actor);
    }
    assert_eq!(
        refused(&handled, owner(), pass(), now).reason.en,
        "only a grid member or a verifier can verify on site"
    );
    let mut grid_owned = handled.clone();
    grid_owned.owner_unit = Some(GRID);
    assert_eq!(
        refused(&grid_owned, grid(), pass(), now).reason.en,
        "the handling unit cannot verify its own work"
    );
    // Handling belongs to the owner; a grid member of the owning grid handles too.
    let d = reach(State::Dispatched);
    for a in [desk(), ops(), grid(), REPORTER] {
        let r = refused(&d, a, Action::FirstContact { note: None }, now);
        assert_eq!(r.kind, RefusalKind::Actor);
    }
    let mut grid_case = d.clone();
    grid_case.owner_unit = Some(GRID);
    assert!(apply(
        &grid_case,
        &grid(),
        &Action::FirstContact { note: None },
        now
    )
    .is_ok());
    // Notes: not the public nor the system; a reporter's note is always public.
    let ih = reach(State::InHandling);
    let note = |public| Action::Note {
        text: "补充:漏水在北侧".into(),
        public,
    };
    assert!(apply(&ih, &ActorKind::Public, &note(true), now).is_err());
    assert!(apply(&ih, &ActorKind::System, &note(true), now).is_err());
    assert!(step(&ih, REPORTER, note(false), now).events[0].public);
    assert!(!step(&ih, owner(), note(false), now).events[0].public);
    assert!(step(&ih, owner(), note(true), now).events[0].public);
}

#[test]
fn drafts_stay_off_the_public_timeline() {
    let opened = Case::open(3, Intake::Draft, &ActorKind::System, T0);
    assert_eq!(opened.next.state, State::Draft);
    assert!(!opened.events[0].public);
    let d = opened.next;
    let note = Action::Note {
        text: "群聊转来".into(),
        public: true,
    };
    assert!(!step(&d, desk(), note, T0).events[0].public);
    let t = step(
        &d,
        desk(),
        Action::Reject {
            reason: "闲聊,非诉求".into(),
        },
        T0,
    );
    assert!(!t.events[0].public);
    // Accepted drafts become public cases from registration on.
    let t = step(&d, desk(), Action::Register, T0);
    assert!(t.events[0].public);
    assert_eq!(t.next.first_receiver, Some(DESK));
}

#[test]
fn texts_are_bounded() {
    let sub = submitted();
    let long = "长".repeat(MAX_TEXT_CHARS + 1);
    let r = refused(&sub, desk(), Action::Reject { reason: long }, T0);
    assert_eq!(r.field, Some("reason"));
    let ok = "长".repeat(MAX_TEXT_CHARS);
    let t = step(&sub, desk(), Action::Reject { reason: ok.clone() }, T0);
    assert_eq!(t.events[0].data, EventData::Rejected { reason: ok });
    // Reasons are stored trimmed.
    let t = step(
        &sub,
        desk(),
        Action::Reject {
            reason: "  重复 ".into(),
        },
        T0,
    );
    assert_eq!(
        t.events[0].data,
        EventData::Rejected {
            reason: "重复".into()
        }
    );
}

#[test]
fn codes_labels_and_serde() {
    for s in ALL_STATES {
        assert_eq!(State::from_code(s.code()), Some(s));
        assert!(!s.label().zh.is_empty());
    }
    assert_eq!(State::from_code("nope"), None);
    assert_eq!(State::Closed.label().zh, "已结案");
    assert_eq!(Rating::new(0), None);
    assert_eq!(Rating::new(6), None);
    assert!(!rating(2).is_satisfied());
    assert!(rating(3).is_satisfied());
    assert!(serde_json::from_str::<Rating>("9").is_err());
    let case = reach(State::ReHandling);
    let json = serde_json::to_string(&case).unwrap();
    assert_eq!(serde_json::from_str::<Case>(&json).unwrap(), case);
    let t = step(
        &reach(State::Closed),
        REPORTER,
        evaluate(1, T0 + DAY),
        T0 + DAY,
    );
    for e in &t.events {
        let v = serde_json::to_value(e).unwrap();
        assert_eq!(v["data"]["kind"], e.kind().as_str());
        assert_eq!(serde_json::from_value::<Event>(v).unwrap(), *e);
    }
}

#[test]
fn refusals_map_to_errors() {
    let e: Error = refused(&reach(State::Closed), ops(), dispatch(UNIT, T0), T0).into();
    assert!(matches!(e, Error::Conflict(_)));
    let e: Error = refused(&submitted(), REPORTER, Action::Register, T0).into();
    assert!(matches!(e, Error::Forbidden));
    let e: Error = refused(
        &submitted(),
        desk(),
        Action::Reject { reason: "".into() },
        T0,
    )
    .into();
    match e {
        Error::Invalid(f) => assert_eq!(f[0].field, "reason"),
        other => panic!("{other:?}"),
    }
}

// ---- random sequences ----

const UNITS: [i64; 5] = [OPS, DESK, UNIT, OTHER, GRID];

fn any_actor() -> impl Strategy<Value = ActorKind> {
    let unit = proptest::sample::select(UNITS.to_vec());
    prop_oneof![
        Just(ActorKind::Reporter),
        Just(ActorKind::Public),
        Just(ActorKind::Verifier),
        Just(ActorKind::System),
        Just(ops()),
        unit.clone()
            .prop_map(|unit_id| ActorKind::GridMember { unit_id }),
        unit.prop_map(|unit_id| ActorKind::UnitStaff { unit_id }),
    ]
}

/// A random step: a kind, whether to use its sample actor (so runs get deep), a random actor,
/// and random data.
#[derive(Debug, Clone)]
struct Step {
    kind: usize,
    use_sample: bool,
    actor: ActorKind,
    unit: i64,
    text: &'static str,
    flag: bool,
    offset: i64,
    offset2: i64,
    rating: u8,
    into: i64,
    dt: i64,
}

fn any_step() -> impl Strategy<Value = Step> {
    (
        0..ALL_ACTION_KINDS.len(),
        proptest::bool::weighted(0.7),
        any_actor(),
        proptest::sample::select(UNITS.to_vec()),
        proptest::sample::select(vec!["", " ", "理由"]),
        any::<bool>(),
        (-DAY..8 * DAY, -DAY..8 * DAY),
        1u8..=5,
        proptest::sample::select(vec![0i64, 1, 2, 99]),
        0..3 * DAY,
    )
        .prop_map(
            |(kind, use_sample, actor, unit, text, flag, (offset, offset2), rating, into, dt)| {
                Step {
                    kind,
                    use_sample,
                    actor,
                    unit,
                    text,
                    flag,
                    offset,
                    offset2,
                    rating,
                    into,
                    dt,
                }
            },
        )
}

fn build(s: &Step, case: &Case, now: i64) -> (ActorKind, Action) {
    let kind = ALL_ACTION_KINDS[s.kind];
    let text = s.text.to_string();
    let opt = (!s.text.is_empty()).then(|| text.clone());
    let action = match kind {
        ActionKind::Register => Action::Register,
        ActionKind::Reject => Action::Reject { reason: text },
        ActionKind::Withdraw => Action::Withdraw { reason: opt },
        ActionKind::Merge => Action::Merge { into: s.into },
        ActionKind::Dispatch => Action::Dispatch {
            unit_id: s.unit,
            first_contact_due_ms: now + s.offset.min(s.offset2),
            due_ms: now + s.offset.max(s.offset2),
        },
        ActionKind::Transfer => Action::Transfer {
            unit_id: s.unit,
            reason: text,
        },
        ActionKind::Dispute => Action::Dispute { reason: text },
        ActionKind::FirstContact => Action::FirstContact { note: opt },
        ActionKind::Note => Action::Note {
            text,
            public: s.flag,
        },
        ActionKind::Pause => Action::Pause { reason: text },
        ActionKind::Resume => Action::Resume {
            first_contact_due_ms: s.flag.then(|| now + s.offset2),
            due_ms: s.flag.then(|| now + s.offset),
        },
        ActionKind::ReportHandled => Action::ReportHandled { summary: text },
        ActionKind::Verify => Action::Verify {
            passed: s.flag,
            note: opt,
        },
        ActionKind::Close => Action::Close { reason: text },
        ActionKind::Evaluate => Action::Evaluate {
            rating: rating(s.rating),
            comment: opt,
            channel: if s.flag {
                EvaluationChannel::Online
            } else {
                EvaluationChannel::ReturnCall
            },
            rehandling_due_ms: now + s.offset,
        },
        ActionKind::Reopen => Action::Reopen { reason: text },
        ActionKind::Escalate => Action::Escalate { to_unit: s.unit },
    };
    let actor = if s.use_sample {
        let (a, _) = sample(kind, now);
        // The owner-only sample actor acts for whoever owns the case now.
        match (a, case.owner_unit) {
            (ActorKind::UnitStaff { unit_id: UNIT }, Some(u)) => {
                ActorKind::UnitStaff { unit_id: u }
            }
            _ => a,
        }
    } else {
        s.actor
    };
    (actor, action)
}

fn check_invariants(c: &Case) {
    assert_eq!(c.closed_ms.is_some(), c.state == State::Closed, "{c:?}");
    if c.closed_on_time.is_some() || c.rating.is_some() {
        assert_eq!(c.state, State::Closed, "{c:?}");
    }
    assert_eq!(
        c.paused_since_ms.is_some(),
        matches!(c.state, State::WaitingForResident { .. }),
        "{c:?}"
    );
    assert_eq!(c.merged_into.is_some(), c.state == State::Merged, "{c:?}");
    if c.state == State::ReHandling {
        assert!(c.rehandling);
    }
    if !c.state.is_intake()
        && !matches!(c.state, State::Rejected | State::Withdrawn | State::Merged)
    {
        assert!(
            c.first_receiver.is_some() && c.owner_unit.is_some(),
            "{c:?}"
        );
    }
    assert!(c.paused_total_ms >= 0);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_sequences_keep_the_rules(
        draft in any::<bool>(),
        steps in proptest::collection::vec(any_step(), 1..60),
    ) {
        let intake = if draft { Intake::Draft } else { Intake::Report };
        let mut case = Case::open(1, intake, &ActorKind::Reporter, T0).next;
        let mut now = T0;
        for s in &steps {
            now += s.dt;
            let (actor, action) = build(s, &case, now);
            match apply(&case, &actor, &action, now) {
                Ok(t) => {
                    let next = &t.next;
                    prop_assert_eq!(next.version, case.version + 1);
                    prop_assert!(next.rework_count >= case.rework_count);
                    prop_assert!(next.rehandling_count >= case.rehandling_count);
                    prop_assert!(next.reopen_count >= case.reopen_count);
                    prop_assert!(next.transfer_count >= case.transfer_count);
                    prop_assert!(next.escalation_count >= case.escalation_count);
                    prop_assert!(next.paused_total_ms >= case.paused_total_ms);
                    prop_assert_eq!(next.id, case.id);
                    prop_assert_eq!(next.reported_ms, case.reported_ms);
                    prop_assert!(!t.events.is_empty());
                    prop_assert!(t.events.iter().all(|e| e.at_ms == now && e.actor == actor));
                    // Withdrawn and merged cases never change; the other terminal states
                    // leave only by reopening, or a closed case by an unsatisfied rating.
                    prop_assert!(!matches!(case.state, State::Withdrawn | State::Merged));
                    if case.state.is_terminal() && next.state != case.state {
                        let kind = action.kind();
                        let rated_down = case.state == State::Closed
                            && kind == ActionKind::Evaluate
                            && next.state == State::ReHandling;
                        prop_assert!(kind == ActionKind::Reopen || rated_down,
                            "{:?} left {:?} by {:?}", next.state, case.state, kind);
                    }
                    // Once dispatched, the clock's start never moves.
                    if case.dispatched_ms.is_some() {
                        prop_assert_eq!(next.dispatched_ms, case.dispatched_ms);
                    }
                    if case.first_contact_ms.is_some() {
                        prop_assert_eq!(next.first_contact_ms, case.first_contact_ms);
                    }
                    check_invariants(next);
                    case = t.next;
                }
                Err(r) => {
                    prop_assert!(!r.reason.zh.is_empty() && !r.reason.en.is_empty());
                    prop_assert_eq!(r.field.is_some(), r.kind == RefusalKind::Input);
                }
            }
        }
    }
}

/// The random walks above are only worth something if they get deep: with a fixed seed, every
/// state is visited and every action kind accepted somewhere.
#[test]
fn random_walks_reach_every_state() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, TestRng, TestRunner};
    use std::collections::HashSet;
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::deterministic_rng(proptest::test_runner::RngAlgorithm::ChaCha),
    );
    let steps = proptest::collection::vec(any_step(), 60);
    let mut seen = HashSet::new();
    let mut accepted = HashSet::new();
    for _ in 0..400 {
        let walk = steps.new_tree(&mut runner).unwrap().current();
        let mut case = submitted();
        let mut now = T0;
        seen.insert(case.state);
        for s in &walk {
            now += s.dt;
            let (actor, action) = build(s, &case, now);
            if let Ok(t) = apply(&case, &actor, &action, now) {
                accepted.insert(action.kind());
                case = t.next;
                seen.insert(case.state);
            }
        }
    }
    for s in ALL_STATES {
        if s != State::Draft {
            assert!(seen.contains(&s), "never reached {s:?}");
        }
    }
    assert_eq!(accepted.len(), ALL_ACTION_KINDS.len(), "{accepted:?}");
}
