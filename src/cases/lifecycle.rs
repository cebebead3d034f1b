//! The case state machine of the closed loop (办事闭环): collect → register (立案) → dispatch →
//! handle → report back → verify on site (核查) → close → evaluate, with the side paths the
//! practice needs: triage of group-chat drafts, rejection with a reason, withdrawal by the
//! reporter, merging of duplicates, transfers and disputed dispatches, pauses while waiting for
//! the resident, rework after a failed verification, re-handling after an unsatisfied rating,
//! administrative closing, reopening and escalation of overdue cases.
//!
//! Pure: a [`Case`], who acts ([`ActorKind`]), what they do ([`Action`]) and the instant (Unix
//! ms) go in; the next case and the [`Event`]s to append to its timeline come out, or a
//! [`Refusal`] that says why not, in both locales. The store persists `next` with optimistic
//! concurrency (`UPDATE … WHERE version = case.version`; `next.version` is exactly one more) and
//! appends the events; two people acting at once: one wins, the other re-reads and is told.
//!
//! What is decided elsewhere:
//! - whether the actor can see the case at all, and reaches its place (`crate::access`): here
//!   only the KIND of actor and its unit are judged;
//! - deadlines: the caller computes due instants with the working-day calendar
//!   (`cases::calendar`) and passes them in the action (`Dispatch`, `Resume`, `Evaluate`); they
//!   are never taken from a request body;
//! - who is the reporter (the caller maps a logged-in resident to [`ActorKind::Reporter`] when
//!   they reported the case or a report merged into it), and notifications.
//!
//! Deadline bookkeeping kept on the case, for the measures (DOMAIN part 10):
//! - `dispatched_ms`: the first dispatch, when the clock starts;
//! - `first_contact_due_ms` / `first_contact_ms`: the response measure;
//! - `due_ms`: the deadline in force — the handling deadline, then the re-handling deadline
//!   after an unsatisfied rating; a resume may extend it by the paused time;
//! - `handled_ms`: the latest report back; `closed_ms` and `closed_on_time` describe the
//!   current closure (both `None` while the case is not closed). "On time" compares the
//!   instant the clock reads at closing (the pause start if closed while paused) with `due_ms`.
//! - `rework_count`, `rehandling_count`, `reopen_count`, `transfer_count`: never decrease.
//!
//! Who acts ("owner" = staff or grid member of the owning unit; "desk" = staff of the owning
//! or first receiving unit; "ops" = the operations centre):
//! - register, reject: any unit's staff or ops (the first receiver is whoever registers);
//! - withdraw (before registration only), rate online: the reporter alone;
//! - merge: staff before registration, desk or ops after;
//! - dispatch: desk or ops; a disputed dispatch is ruled by ops alone;
//! - transfer: owner or ops; dispute, first contact, pause, report back: owner alone;
//! - resume: owner, ops or the system; notes: anyone but the public and the system;
//! - verify: a verifier, or a grid member not of the owning unit (no one verifies their own work);
//! - close without verification: ops; reopen: ops, or desk for a closed case;
//! - return call: ops or any unit's staff except the owner's; escalate: the system, when overdue.

use serde::{Deserialize, Serialize};

use crate::error::{Error, FieldError};
use crate::i18n::Text;

#[cfg(test)]
mod tests;

/// The longest reason, note, summary or comment accepted, in characters.
pub const MAX_TEXT_CHARS: usize = 2000;

/// Ratings from this value up count as satisfied (3 = 基本满意, 4–5 = 满意); 1–2 are
/// unsatisfied (不满意) and open re-handling. The common 12345 reading of a five-point scale.
pub const SATISFIED_FROM: u8 = 3;

/// Where a paused case goes back to when the resident answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resume {
    Dispatched,
    InHandling,
    ReHandling,
}

impl Resume {
    pub fn state(self) -> State {
        match self {
            Resume::Dispatched => State::Dispatched,
            Resume::InHandling => State::InHandling,
            Resume::ReHandling => State::ReHandling,
        }
    }
}

/// Where a case stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// 待分拣: relayed from a group chat; not yet a case, staff-only, awaits triage.
    Draft,
    /// 待立案: reported by a resident, grid member, staff entry or API; awaits registration.
    Submitted,
    /// 不予立案: refused at triage, with a reason. Only the operations centre can reopen it.
    Rejected,
    /// 已撤回: the reporter withdrew it before registration. Final.
    Withdrawn,
    /// 已合并: a duplicate merged into another case (`merged_into`). Final, never deleted: it
    /// stays visible and its reporter follows the target case.
    Merged,
    /// 已立案: registered; the first receiver owns it until it is dispatched.
    Registered,
    /// 已派单: dispatched to the owning unit; the clock runs; awaiting first contact.
    Dispatched,
    /// 派单争议: the unit disputes the dispatch; the subdistrict operations centre (城运中心) rules.
    Disputed,
    /// 处置中: first contact made, the unit is handling it.
    InHandling,
    /// 等待居民: paused while waiting for the resident (the clock stops); returns to `resume_to`.
    WaitingForResident { resume_to: Resume },
    /// 待核查: the unit reported back; awaiting verification on site.
    Handled,
    /// 已结案: closed (verification passed, or closed by the operations centre); may be rated.
    Closed,
    /// 重新办理: an unsatisfied rating sent it back to the unit, with its own deadline.
    ReHandling,
}

/// Every state, each pause target included: the table tests walk this.
pub const ALL_STATES: [State; 15] = [
    State::Draft,
    State::Submitted,
    State::Rejected,
    State::Withdrawn,
    State::Merged,
    State::Registered,
    State::Dispatched,
    State::Disputed,
    State::InHandling,
    State::WaitingForResident {
        resume_to: Resume::Dispatched,
    },
    State::WaitingForResident {
        resume_to: Resume::InHandling,
    },
    State::WaitingForResident {
        resume_to: Resume::ReHandling,
    },
    State::Handled,
    State::Closed,
    State::ReHandling,
];

impl State {
    /// A stable code for a database column.
    pub fn code(self) -> &'static str {
        match self {
            State::Draft => "draft",
            State::Submitted => "submitted",
            State::Rejected => "rejected",
            State::Withdrawn => "withdrawn",
            State::Merged => "merged",
            State::Registered => "registered",
            State::Dispatched => "dispatched",
            State::Disputed => "disputed",
            State::InHandling => "in_handling",
            State::WaitingForResident {
                resume_to: Resume::Dispatched,
            } => "waiting_for_resident.dispatched",
            State::WaitingForResident {
                resume_to: Resume::InHandling,
            } => "waiting_for_resident.in_handling",
            State::WaitingForResident {
                resume_to: Resume::ReHandling,
            } => "waiting_for_resident.re_handling",
            State::Handled => "handled",
            State::Closed => "closed",
            State::ReHandling => "re_handling",
        }
    }

    pub fn from_code(s: &str) -> Option<State> {
        ALL_STATES.into_iter().find(|st| st.code() == s)
    }

    /// The name shown to people; the English reads after "a case that is …".
    pub fn label(self) -> Text {
        match self {
            State::Draft => Text::new("待分拣", "awaiting triage"),
            State::Submitted => Text::new("待立案", "awaiting registration"),
            State::Rejected => Text::new("不予立案", "rejected"),
            State::Withdrawn => Text::new("已撤回", "withdrawn"),
            State::Merged => Text::new("已合并", "merged into another case"),
            State::Registered => Text::new("已立案", "registered"),
            State::Dispatched => Text::new("已派单", "dispatched"),
            State::Disputed => Text::new("派单争议待裁定", "disputed"),
            State::InHandling => Text::new("处置中", "in handling"),
            State::WaitingForResident { .. } => {
                Text::new("等待居民回复", "waiting for the resident")
            }
            State::Handled => Text::new("已办结待核查", "handled, awaiting verification"),
            State::Closed => Text::new("已结案", "closed"),
            State::ReHandling => Text::new("重新办理中", "in re-handling"),
        }
    }

    /// Nothing more happens to the case unless it is reopened (Closed, Rejected) or, for a
    /// closed case, rated unsatisfied. Withdrawn and Merged never change again.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            State::Closed | State::Rejected | State::Withdrawn | State::Merged
        )
    }

    /// Before registration: the reporter may still withdraw, staff triage.
    pub fn is_intake(self) -> bool {
        matches!(self, State::Draft | State::Submitted)
    }

    /// A live case that another report can be merged into (see [`absorb`]).
    pub fn can_absorb(self) -> bool {
        !self.is_terminal()
    }

    /// Whether the state admits an action of this kind at all (who acts, and the action's
    /// data, are checked after this). The one table of the machine.
    pub fn allows(self, kind: ActionKind) -> bool {
        use ActionKind as A;
        use State as S;
        let waiting = matches!(self, S::WaitingForResident { .. });
        match kind {
            A::Register | A::Reject | A::Withdraw => self.is_intake(),
            A::Merge => matches!(
                self,
                S::Draft | S::Submitted | S::Registered | S::Dispatched | S::Disputed
            ),
            A::Dispatch => matches!(self, S::Registered | S::Disputed),
            A::Transfer => matches!(self, S::Dispatched | S::InHandling | S::ReHandling),
            A::Dispute => self == S::Dispatched,
            A::FirstContact => self == S::Dispatched,
            A::Note => !matches!(self, S::Rejected | S::Withdrawn | S::Merged),
            A::Pause => matches!(self, S::Dispatched | S::InHandling | S::ReHandling),
            A::Resume => waiting,
            A::ReportHandled => matches!(self, S::InHandling | S::ReHandling),
            A::Verify => self == S::Handled,
            A::Close => {
                waiting
                    || matches!(
                        self,
                        S::Registered
                            | S::Dispatched
                            | S::Disputed
                            | S::InHandling
                            | S::Handled
                            | S::ReHandling
                    )
            }
            A::Evaluate => self == S::Closed,
            A::Reopen => matches!(self, S::Closed | S::Rejected),
            A::Escalate => matches!(
                self,
                S::Dispatched | S::Disputed | S::InHandling | S::Handled | S::ReHandling
            ),
        }
    }
}

/// Who acts, as far as the rules care. Units are ids of the organisations that can own a case
/// (grid, community or village committee, property company, subdistrict office, pairing unit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum ActorKind {
    /// The resident who reported the case, or a report merged into it.
    Reporter,
    /// Anyone else without a role on the case; can do nothing here.
    Public,
    /// A grid member or grid leader; `unit_id` is their grid's unit.
    GridMember { unit_id: i64 },
    /// Staff of a unit: committee, property company, subdistrict office, pairing unit.
    UnitStaff { unit_id: i64 },
    /// A verifier appointed to check results on site (not tied to a unit).
    Verifier,
    /// The subdistrict operations centre (城运中心): supervises, routes, rules on disputes.
    OpsCentre { unit_id: i64 },
    /// The platform itself: deadline escalation, automatic resumes.
    System,
}

impl ActorKind {
    /// The unit the actor acts for, if any.
    pub fn unit(self) -> Option<i64> {
        match self {
            ActorKind::GridMember { unit_id }
            | ActorKind::UnitStaff { unit_id }
            | ActorKind::OpsCentre { unit_id } => Some(unit_id),
            _ => None,
        }
    }

    fn is_ops(self) -> bool {
        matches!(self, ActorKind::OpsCentre { .. })
    }

    /// Staff who may triage what came in: any unit's staff or the operations centre (the
    /// access layer has already checked that the place is within their reach).
    fn is_intake_staff(self) -> bool {
        matches!(
            self,
            ActorKind::UnitStaff { .. } | ActorKind::OpsCentre { .. }
        )
    }

    /// Acts for the unit that owns the case.
    fn is_owner(self, case: &Case) -> bool {
        case.owner_unit.is_some() && self.unit() == case.owner_unit
    }

    /// Desk staff of the owning or the first receiving unit.
    fn is_case_desk(self, case: &Case) -> bool {
        match self {
            ActorKind::UnitStaff { unit_id } | ActorKind::OpsCentre { unit_id } => {
                case.owner_unit == Some(unit_id) || case.first_receiver == Some(unit_id)
            }
            _ => false,
        }
    }
}

/// A rating from 1 (very unsatisfied) to 5 (very satisfied).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct Rating(u8);

impl Rating {
    pub fn new(v: u8) -> Option<Rating> {
        (1..=5).contains(&v).then_some(Rating(v))
    }
    pub fn value(self) -> u8 {
        self.0
    }
    pub fn is_satisfied(self) -> bool {
        self.0 >= SATISFIED_FROM
    }
    pub fn label(self) -> Text {
        match self.0 {
            1 | 2 => Text::new("不满意", "unsatisfied"),
            3 => Text::new("基本满意", "fairly satisfied"),
            _ => Text::new("满意", "satisfied"),
        }
    }
}

impl TryFrom<u8> for Rating {
    type Error = String;
    fn try_from(v: u8) -> Result<Self, Self::Error> {
        Rating::new(v).ok_or_else(|| format!("rating {v} is not between 1 and 5"))
    }
}

impl From<Rating> for u8 {
    fn from(r: Rating) -> u8 {
        r.0
    }
}

/// How a rating reached us.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvaluationChannel {
    /// The reporter rated it themselves.
    Online,
    /// Staff phoned the resident (回访) and recorded what they said.
    ReturnCall,
}

/// How a case came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Intake {
    /// A report: resident form, grid member report, staff entry of a visit, API, Open311.
    Report,
    /// A group-chat message turned into a draft for staff to triage.
    Draft,
}

/// What someone does to a case, with its data. Deadlines are computed by the caller over the
/// working-day calendar, never copied from a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Accept what came in (立案); the acting unit becomes the first receiver (首接负责).
    Register,
    /// Refuse at triage.
    Reject { reason: String },
    /// The reporter takes it back, before registration.
    Withdraw { reason: Option<String> },
    /// A duplicate: merge into case `into` (the store checks `into` with [`absorb`]).
    Merge { into: i64 },
    /// Send to the owning unit; starts the clock with these deadlines. From a dispute, this is
    /// the operations centre's ruling.
    Dispatch {
        unit_id: i64,
        first_contact_due_ms: i64,
        due_ms: i64,
    },
    /// Hand over to another unit; the deadline does not restart.
    Transfer { unit_id: i64, reason: String },
    /// The dispatched unit says it is not theirs; the operations centre rules.
    Dispute { reason: String },
    /// First contact with the resident, or first response on site for anonymous reports.
    FirstContact { note: Option<String> },
    /// A progress note (photos are attachments linked to the event by the store).
    Note { text: String, public: bool },
    /// Stop the clock while waiting for the resident.
    Pause { reason: String },
    /// The resident answered; the deadlines may be extended by the paused time (never shortened).
    Resume {
        first_contact_due_ms: Option<i64>,
        due_ms: Option<i64>,
    },
    /// Report back: done.
    ReportHandled { summary: String },
    /// On-site verification: pass closes, fail sends it back as rework (a note is required).
    Verify { passed: bool, note: Option<String> },
    /// The operations centre closes without verification (consultation answered, problem gone,
    /// outside any unit's remit), with a reason.
    Close { reason: String },
    /// The rating of the current closure; unsatisfied opens re-handling due at
    /// `rehandling_due_ms`.
    Evaluate {
        rating: Rating,
        comment: Option<String>,
        channel: EvaluationChannel,
        rehandling_due_ms: i64,
    },
    /// Reopen a closed case (back to Registered, to be dispatched again) or a rejected one
    /// (back to Submitted, to be triaged again).
    Reopen { reason: String },
    /// An overdue case is escalated up the tree to `to_unit`, which supervises it.
    Escalate { to_unit: i64 },
}

/// The kinds of [`Action`], without data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    Register,
    Reject,
    Withdraw,
    Merge,
    Dispatch,
    Transfer,
    Dispute,
    FirstContact,
    Note,
    Pause,
    Resume,
    ReportHandled,
    Verify,
    Close,
    Evaluate,
    Reopen,
    Escalate,
}

pub const ALL_ACTION_KINDS: [ActionKind; 17] = [
    ActionKind::Register,
    ActionKind::Reject,
    ActionKind::Withdraw,
    ActionKind::Merge,
    ActionKind::Dispatch,
    ActionKind::Transfer,
    ActionKind::Dispute,
    ActionKind::FirstContact,
    ActionKind::Note,
    ActionKind::Pause,
    ActionKind::Resume,
    ActionKind::ReportHandled,
    ActionKind::Verify,
    ActionKind::Close,
    ActionKind::Evaluate,
    ActionKind::Reopen,
    ActionKind::Escalate,
];

impl ActionKind {
    /// The verb, for buttons and messages.
    pub fn label(self) -> Text {
        match self {
            ActionKind::Register => Text::new("立案", "register"),
            ActionKind::Reject => Text::new("不予立案", "reject"),
            ActionKind::Withdraw => Text::new("撤回", "withdraw"),
            ActionKind::Merge => Text::new("合并", "merge"),
            ActionKind::Dispatch => Text::new("派单", "dispatch"),
            ActionKind::Transfer => Text::new("转办", "transfer"),
            ActionKind::Dispute => Text::new("提出派单异议", "dispute the dispatch"),
            ActionKind::FirstContact => Text::new("首次联系", "make first contact"),
            ActionKind::Note => Text::new("添加记录", "add a note"),
            ActionKind::Pause => Text::new("挂起", "pause"),
            ActionKind::Resume => Text::new("恢复办理", "resume"),
            ActionKind::ReportHandled => Text::new("反馈办结", "report back as handled"),
            ActionKind::Verify => Text::new("现场核查", "verify on site"),
            ActionKind::Close => Text::new("结案", "close"),
            ActionKind::Evaluate => Text::new("评价", "rate"),
            ActionKind::Reopen => Text::new("重新打开", "reopen"),
            ActionKind::Escalate => Text::new("升级督办", "escalate"),
        }
    }

    /// "a case … cannot be <passive>".
    fn passive_en(self) -> &'static str {
        match self {
            ActionKind::Register => "registered",
            ActionKind::Reject => "rejected",
            ActionKind::Withdraw => "withdrawn",
            ActionKind::Merge => "merged",
            ActionKind::Dispatch => "dispatched",
            ActionKind::Transfer => "transferred",
            ActionKind::Dispute => "disputed",
            ActionKind::FirstContact => "marked as first contacted",
            ActionKind::Note => "given a note",
            ActionKind::Pause => "paused",
            ActionKind::Resume => "resumed",
            ActionKind::ReportHandled => "reported as handled",
            ActionKind::Verify => "verified",
            ActionKind::Close => "closed",
            ActionKind::Evaluate => "rated",
            ActionKind::Reopen => "reopened",
            ActionKind::Escalate => "escalated",
        }
    }
}

impl Action {
    pub fn kind(&self) -> ActionKind {
        match self {
            Action::Register => ActionKind::Register,
            Action::Reject { .. } => ActionKind::Reject,
            Action::Withdraw { .. } => ActionKind::Withdraw,
            Action::Merge { .. } => ActionKind::Merge,
            Action::Dispatch { .. } => ActionKind::Dispatch,
            Action::Transfer { .. } => ActionKind::Transfer,
            Action::Dispute { .. } => ActionKind::Dispute,
            Action::FirstContact { .. } => ActionKind::FirstContact,
            Action::Note { .. } => ActionKind::Note,
            Action::Pause { .. } => ActionKind::Pause,
            Action::Resume { .. } => ActionKind::Resume,
            Action::ReportHandled { .. } => ActionKind::ReportHandled,
            Action::Verify { .. } => ActionKind::Verify,
            Action::Close { .. } => ActionKind::Close,
            Action::Evaluate { .. } => ActionKind::Evaluate,
            Action::Reopen { .. } => ActionKind::Reopen,
            Action::Escalate { .. } => ActionKind::Escalate,
        }
    }
}

/// The fields the rules need; the store keeps the rest (category, place, text, reporter).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Case {
    pub id: i64,
    pub state: State,
    /// 1 when opened; exactly one more per accepted action (optimistic concurrency).
    pub version: i64,
    pub reported_ms: i64,
    /// The unit that registered it (首接负责): it routes it and answers for it.
    pub first_receiver: Option<i64>,
    /// The unit that owns it now.
    pub owner_unit: Option<i64>,
    pub registered_ms: Option<i64>,
    /// The first dispatch: the clock starts here and does not restart on transfer.
    pub dispatched_ms: Option<i64>,
    pub first_contact_due_ms: Option<i64>,
    /// The deadline in force: handling, then re-handling.
    pub due_ms: Option<i64>,
    /// The first contact ever made (kept across transfers and rework).
    pub first_contact_ms: Option<i64>,
    /// The latest report back.
    pub handled_ms: Option<i64>,
    /// The current closure; `None` unless the state is Closed.
    pub closed_ms: Option<i64>,
    /// Whether the current closure beat `due_ms`; `None` unless closed with a deadline.
    pub closed_on_time: Option<bool>,
    /// When the current pause began; `Some` exactly while waiting for the resident.
    pub paused_since_ms: Option<i64>,
    /// The sum of all finished pauses.
    pub paused_total_ms: i64,
    /// Failed verifications (返工).
    pub rework_count: u32,
    /// Unsatisfied ratings that opened re-handling.
    pub rehandling_count: u32,
    pub reopen_count: u32,
    pub transfer_count: u32,
    /// Times escalated, and to whom last.
    pub escalation_count: u32,
    pub escalated_to: Option<i64>,
    /// True from an unsatisfied rating until the next closure: handling returns to
    /// ReHandling rather than InHandling.
    pub rehandling: bool,
    /// The rating of the current closure; `None` unless closed and rated.
    pub rating: Option<Rating>,
    /// For a merged case, the case it was merged into.
    pub merged_into: Option<i64>,
    /// Reports merged into this one.
    pub merged_in_count: u32,
}

impl Case {
    /// A new case as it comes in, version 1, with its first event.
    pub fn open(id: i64, intake: Intake, actor: &ActorKind, now_ms: i64) -> Transition {
        let draft = intake == Intake::Draft;
        let next = Case {
            id,
            state: if draft {
                State::Draft
            } else {
                State::Submitted
            },
            version: 1,
            reported_ms: now_ms,
            first_receiver: None,
            owner_unit: None,
            registered_ms: None,
            dispatched_ms: None,
            first_contact_due_ms: None,
            due_ms: None,
            first_contact_ms: None,
            handled_ms: None,
            closed_ms: None,
            closed_on_time: None,
            paused_since_ms: None,
            paused_total_ms: 0,
            rework_count: 0,
            rehandling_count: 0,
            reopen_count: 0,
            transfer_count: 0,
            escalation_count: 0,
            escalated_to: None,
            rehandling: false,
            rating: None,
            merged_into: None,
            merged_in_count: 0,
        };
        let event = Event {
            at_ms: now_ms,
            actor: *actor,
            public: !draft,
            data: EventData::Reported { draft },
        };
        Transition {
            next,
            events: vec![event],
        }
    }

    /// The instant the deadline clock reads: it stands still while paused.
    pub fn clock_ms(&self, now_ms: i64) -> i64 {
        self.paused_since_ms.map_or(now_ms, |p| p.min(now_ms))
    }

    /// Past its deadline in force (never while paused past the pause start).
    pub fn is_overdue(&self, now_ms: i64) -> bool {
        !self.state.is_terminal() && self.due_ms.is_some_and(|d| self.clock_ms(now_ms) > d)
    }

    /// Whether the first contact met its deadline; `None` until both are known.
    pub fn responded_on_time(&self) -> Option<bool> {
        Some(self.first_contact_ms? <= self.first_contact_due_ms?)
    }

    /// The state handling goes back to after first contact or a failed verification.
    pub fn work_state(&self) -> State {
        if self.rehandling {
            State::ReHandling
        } else {
            State::InHandling
        }
    }
}

/// One entry of the case timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub at_ms: i64,
    pub actor: ActorKind,
    /// Shown on the public timeline (the reporter, Open311); staff see every event.
    pub public: bool,
    pub data: EventData,
}

impl Event {
    pub fn kind(&self) -> EventKind {
        self.data.kind()
    }
}

/// What happened, with its data; serialised with a `kind` tag for the store's JSON column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum EventData {
    Reported {
        draft: bool,
    },
    Registered {
        first_receiver: i64,
    },
    Rejected {
        reason: String,
    },
    Withdrawn {
        reason: Option<String>,
    },
    MergedInto {
        into: i64,
    },
    ReportMergedIn {
        from: i64,
    },
    Dispatched {
        unit_id: i64,
        first_contact_due_ms: i64,
        due_ms: i64,
        /// The operations centre's ruling on a dispute.
        ruling: bool,
    },
    Transferred {
        from_unit: Option<i64>,
        to_unit: i64,
        reason: String,
    },
    Disputed {
        unit_id: Option<i64>,
        reason: String,
    },
    FirstContact {
        note: Option<String>,
    },
    Note {
        text: String,
    },
    Paused {
        reason: String,
    },
    Resumed {
        paused_ms: i64,
        first_contact_due_ms: Option<i64>,
        due_ms: Option<i64>,
    },
    ReportedHandled {
        summary: String,
    },
    VerificationPassed {
        note: Option<String>,
    },
    VerificationFailed {
        note: String,
        rework_count: u32,
    },
    Closed {
        on_time: Option<bool>,
        by_verification: bool,
        reason: Option<String>,
    },
    Evaluated {
        rating: Rating,
        comment: Option<String>,
        channel: EvaluationChannel,
    },
    ReHandlingOpened {
        due_ms: i64,
        rehandling_count: u32,
    },
    Reopened {
        reason: String,
        reopen_count: u32,
    },
    Escalated {
        to_unit: i64,
        overdue_ms: i64,
    },
    /// Staff corrected the category or the place at triage, before registration (staff-only).
    Reclassified {
        from_category: String,
        to_category: String,
        from_node: i64,
        to_node: i64,
    },
}

/// The kinds of [`EventData`], for a database column and filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Reported,
    Registered,
    Rejected,
    Withdrawn,
    MergedInto,
    ReportMergedIn,
    Dispatched,
    Transferred,
    Disputed,
    FirstContact,
    Note,
    Paused,
    Resumed,
    ReportedHandled,
    VerificationPassed,
    VerificationFailed,
    Closed,
    Evaluated,
    ReHandlingOpened,
    Reopened,
    Escalated,
    Reclassified,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Reported => "reported",
            EventKind::Registered => "registered",
            EventKind::Rejected => "rejected",
            EventKind::Withdrawn => "withdrawn",
            EventKind::MergedInto => "merged_into",
            EventKind::ReportMergedIn => "report_merged_in",
            EventKind::Dispatched => "dispatched",
            EventKind::Transferred => "transferred",
            EventKind::Disputed => "disputed",
            EventKind::FirstContact => "first_contact",
            EventKind::Note => "note",
            EventKind::Paused => "paused",
            EventKind::Resumed => "resumed",
            EventKind::ReportedHandled => "reported_handled",
            EventKind::VerificationPassed => "verification_passed",
            EventKind::VerificationFailed => "verification_failed",
            EventKind::Closed => "closed",
            EventKind::Evaluated => "evaluated",
            EventKind::ReHandlingOpened => "re_handling_opened",
            EventKind::Reopened => "reopened",
            EventKind::Escalated => "escalated",
            EventKind::Reclassified => "reclassified",
        }
    }

    pub fn label(self) -> Text {
        match self {
            EventKind::Reported => Text::new("收到反映", "reported"),
            EventKind::Registered => Text::new("已立案", "registered"),
            EventKind::Rejected => Text::new("不予立案", "rejected"),
            EventKind::Withdrawn => Text::new("反映人撤回", "withdrawn by the reporter"),
            EventKind::MergedInto => Text::new("已合并到其他事项", "merged into another case"),
            EventKind::ReportMergedIn => {
                Text::new("合并了重复反映", "a duplicate report merged in")
            }
            EventKind::Dispatched => Text::new("已派单", "dispatched"),
            EventKind::Transferred => Text::new("已转办", "transferred"),
            EventKind::Disputed => Text::new("提出派单异议", "dispatch disputed"),
            EventKind::FirstContact => Text::new("已首次联系", "first contact made"),
            EventKind::Note => Text::new("办理记录", "progress note"),
            EventKind::Paused => Text::new("等待居民回复", "waiting for the resident"),
            EventKind::Resumed => Text::new("恢复办理", "resumed"),
            EventKind::ReportedHandled => Text::new("反馈办结", "reported as handled"),
            EventKind::VerificationPassed => Text::new("核查通过", "verification passed"),
            EventKind::VerificationFailed => {
                Text::new("核查未通过,返工", "verification failed, rework")
            }
            EventKind::Closed => Text::new("已结案", "closed"),
            EventKind::Evaluated => Text::new("居民评价", "rated"),
            EventKind::ReHandlingOpened => Text::new("不满意,重新办理", "unsatisfied, re-handling"),
            EventKind::Reopened => Text::new("重新打开", "reopened"),
            EventKind::Escalated => Text::new("超期升级督办", "escalated as overdue"),
            EventKind::Reclassified => Text::new("更正类别或地点", "category or place corrected"),
        }
    }
}

impl EventData {
    pub fn kind(&self) -> EventKind {
        match self {
            EventData::Reported { .. } => EventKind::Reported,
            EventData::Registered { .. } => EventKind::Registered,
            EventData::Rejected { .. } => EventKind::Rejected,
            EventData::Withdrawn { .. } => EventKind::Withdrawn,
            EventData::MergedInto { .. } => EventKind::MergedInto,
            EventData::ReportMergedIn { .. } => EventKind::ReportMergedIn,
            EventData::Dispatched { .. } => EventKind::Dispatched,
            EventData::Transferred { .. } => EventKind::Transferred,
            EventData::Disputed { .. } => EventKind::Disputed,
            EventData::FirstContact { .. } => EventKind::FirstContact,
            EventData::Note { .. } => EventKind::Note,
            EventData::Paused { .. } => EventKind::Paused,
            EventData::Resumed { .. } => EventKind::Resumed,
            EventData::ReportedHandled { .. } => EventKind::ReportedHandled,
            EventData::VerificationPassed { .. } => EventKind::VerificationPassed,
            EventData::VerificationFailed { .. } => EventKind::VerificationFailed,
            EventData::Closed { .. } => EventKind::Closed,
            EventData::Evaluated { .. } => EventKind::Evaluated,
            EventData::ReHandlingOpened { .. } => EventKind::ReHandlingOpened,
            EventData::Reopened { .. } => EventKind::Reopened,
            EventData::Escalated { .. } => EventKind::Escalated,
            EventData::Reclassified { .. } => EventKind::Reclassified,
        }
    }
}

/// An accepted action: the case to store and the events to append, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub next: Case,
    pub events: Vec<Event>,
}

/// Why an action was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefusalKind {
    /// The case's state does not allow it (HTTP 409).
    State,
    /// This actor may not do it (HTTP 403).
    Actor,
    /// The action's data is wrong (HTTP 422), naming the field.
    Input,
}

/// A refused action and its localised reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub kind: RefusalKind,
    /// The offending field of the action, for `Input` refusals.
    pub field: Option<&'static str>,
    pub reason: Text,
}

impl Refusal {
    fn state(reason: Text) -> Refusal {
        Refusal {
            kind: RefusalKind::State,
            field: None,
            reason,
        }
    }
    fn actor(reason: Text) -> Refusal {
        Refusal {
            kind: RefusalKind::Actor,
            field: None,
            reason,
        }
    }
    fn input(field: &'static str, reason: Text) -> Refusal {
        Refusal {
            kind: RefusalKind::Input,
            field: Some(field),
            reason,
        }
    }
}

/// State refusals are conflicts, input refusals name their field. `Forbidden` carries no
/// text, so a page that wants to explain an actor refusal shows `reason` itself.
impl From<Refusal> for Error {
    fn from(r: Refusal) -> Error {
        match r.kind {
            RefusalKind::State => Error::Conflict(r.reason),
            RefusalKind::Actor => Error::Forbidden,
            RefusalKind::Input => {
                Error::Invalid(vec![FieldError::new(r.field.unwrap_or("action"), r.reason)])
            }
        }
    }
}

/// Why the state refuses `kind`: the specific reasons first, then "a case that is X cannot be Y".
fn state_refusal(case: &Case, kind: ActionKind) -> Refusal {
    let s = case.state;
    let specific = match kind {
        ActionKind::Withdraw if !s.is_terminal() => Some(Text::new(
            "立案后不能撤回,如需终止请联系承办单位",
            "a registered case can no longer be withdrawn; ask the handling unit instead",
        )),
        ActionKind::Evaluate if !s.is_terminal() => Some(Text::new(
            "结案后才能评价",
            "a case can be rated only once it is closed",
        )),
        ActionKind::Escalate if matches!(s, State::WaitingForResident { .. }) => Some(Text::new(
            "等待居民回复期间计时暂停,不能升级督办",
            "the clock is paused while waiting for the resident; the case cannot be escalated",
        )),
        ActionKind::Register | ActionKind::Reject if !s.is_terminal() => Some(Text::new(
            "该事项已立案",
            "the case has already been registered",
        )),
        _ => None,
    };
    Refusal::state(specific.unwrap_or_else(|| {
        Text::owned(
            format!("{}的事项不能{}", s.label().zh, kind.label().zh),
            format!(
                "a case that is {} cannot be {}",
                s.label().en,
                kind.passive_en()
            ),
        )
    }))
}

/// Decides who may do what; the state has already admitted the action.
fn check_actor(case: &Case, actor: ActorKind, action: &Action) -> Result<(), Refusal> {
    let ok = match action {
        Action::Register | Action::Reject { .. } => actor.is_intake_staff(),
        Action::Withdraw { .. } => {
            if actor != ActorKind::Reporter {
                return Err(Refusal::actor(Text::new(
                    "只有反映人本人可以撤回",
                    "only the reporter can withdraw the case",
                )));
            }
            true
        }
        Action::Merge { .. } => {
            if case.state.is_intake() {
                actor.is_intake_staff()
            } else {
                actor.is_ops() || actor.is_case_desk(case)
            }
        }
        Action::Dispatch { .. } => {
            if case.state == State::Disputed {
                if !actor.is_ops() {
                    return Err(Refusal::actor(Text::new(
                        "派单争议只能由城运中心裁定",
                        "only the subdistrict operations centre rules on a disputed dispatch",
                    )));
                }
                true
            } else {
                actor.is_ops() || actor.is_case_desk(case)
            }
        }
        Action::Transfer { .. } => actor.is_ops() || actor.is_owner(case),
        Action::Dispute { .. }
        | Action::FirstContact { .. }
        | Action::Pause { .. }
        | Action::ReportHandled { .. } => {
            if !actor.is_owner(case) {
                return Err(Refusal::actor(Text::owned(
                    format!("只有承办单位可以{}", action.kind().label().zh),
                    format!("only the handling unit can {}", action.kind().label().en),
                )));
            }
            true
        }
        Action::Resume { .. } => {
            actor.is_owner(case) || actor.is_ops() || actor == ActorKind::System
        }
        Action::Note { .. } => !matches!(actor, ActorKind::Public | ActorKind::System),
        Action::Verify { .. } => match actor {
            ActorKind::Verifier => true,
            ActorKind::GridMember { .. } if actor.is_owner(case) => {
                return Err(Refusal::actor(Text::new(
                    "承办单位不能核查自己的办理结果",
                    "the handling unit cannot verify its own work",
                )))
            }
            ActorKind::GridMember { .. } => true,
            _ => {
                return Err(Refusal::actor(Text::new(
                    "只有网格员或核查员可以现场核查",
                    "only a grid member or a verifier can verify on site",
                )))
            }
        },
        Action::Close { .. } | Action::Reopen { .. } if actor.is_ops() => true,
        Action::Close { .. } => {
            return Err(Refusal::actor(Text::new(
                "未经核查的结案只能由城运中心办理",
                "only the operations centre can close a case without verification",
            )))
        }
        Action::Reopen { .. } => case.state == State::Closed && actor.is_case_desk(case),
        Action::Evaluate { channel, .. } => match channel {
            EvaluationChannel::Online => {
                if actor != ActorKind::Reporter {
                    return Err(Refusal::actor(Text::new(
                        "只有反映人本人可以评价",
                        "only the reporter can rate the case",
                    )));
                }
                true
            }
            EvaluationChannel::ReturnCall => {
                if actor.is_owner(case) {
                    return Err(Refusal::actor(Text::new(
                        "承办单位不能为自己的办理做回访评价",
                        "the handling unit cannot record the return call on its own work",
                    )));
                }
                actor.is_intake_staff()
            }
        },
        Action::Escalate { .. } => actor == ActorKind::System,
    };
    if ok {
        Ok(())
    } else {
        Err(Refusal::actor(Text::owned(
            format!("您的身份不能对此事项{}", action.kind().label().zh),
            format!("you may not {} this case", action.kind().label().en),
        )))
    }
}

/// A required text: trimmed, not empty, not too long.
fn required(field: &'static str, s: &str) -> Result<String, Refusal> {
    let t = s.trim();
    if t.is_empty() {
        return Err(Refusal::input(
            field,
            match field {
                "reason" => Text::new("请填写理由", "a reason is required"),
                "summary" => Text::new("请填写办理情况", "a summary of what was done is required"),
                _ => Text::new("请填写内容", "this cannot be empty"),
            },
        ));
    }
    optional(field, Some(t)).map(|o| o.unwrap_or_default())
}

/// An optional text: trimmed, empty means none, not too long.
fn optional(field: &'static str, s: Option<&str>) -> Result<Option<String>, Refusal> {
    let Some(t) = s.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if t.chars().count() > MAX_TEXT_CHARS {
        return Err(Refusal::input(
            field,
            Text::owned(
                format!("内容过长,最多 {MAX_TEXT_CHARS} 字"),
                format!("too long: at most {MAX_TEXT_CHARS} characters"),
            ),
        ));
    }
    Ok(Some(t.to_string()))
}

/// Ends a pause if one is running; returns how long it lasted.
fn end_pause(next: &mut Case, now_ms: i64) -> i64 {
    let Some(since) = next.paused_since_ms.take() else {
        return 0;
    };
    let lasted = (now_ms - since).max(0);
    next.paused_total_ms = next.paused_total_ms.saturating_add(lasted);
    lasted
}

/// Moves `next` to Closed and returns whether it was on time.
fn close(next: &mut Case, now_ms: i64) -> Option<bool> {
    let clock = next.clock_ms(now_ms);
    end_pause(next, now_ms);
    let on_time = next.due_ms.map(|d| clock <= d);
    next.state = State::Closed;
    next.closed_ms = Some(now_ms);
    next.closed_on_time = on_time;
    next.rehandling = false;
    next.rating = None;
    on_time
}

/// Leaves Closed: the closure no longer stands (its history stays in the events).
fn unclose(next: &mut Case) {
    next.closed_ms = None;
    next.closed_on_time = None;
    next.rating = None;
}

/// Applies `action` by `actor` to `case` at `now_ms`. Checks, in order: the state admits the
/// action kind, the actor may do it, the action's data is sound.
pub fn apply(
    case: &Case,
    actor: &ActorKind,
    action: &Action,
    now_ms: i64,
) -> Result<Transition, Refusal> {
    let actor = *actor;
    let kind = action.kind();
    if !case.state.allows(kind) {
        return Err(state_refusal(case, kind));
    }
    // Case-level conditions beyond the state.
    match action {
        Action::Evaluate { .. } if case.rating.is_some() => {
            return Err(Refusal::state(Text::new(
                "本次结案已经评价过",
                "this closure has already been rated",
            )))
        }
        Action::Escalate { .. } if !case.is_overdue(now_ms) => {
            return Err(Refusal::state(Text::new(
                "未超期的事项不能升级督办",
                "a case that is not overdue cannot be escalated",
            )))
        }
        _ => {}
    }
    check_actor(case, actor, action)?;

    let mut next = case.clone();
    next.version += 1;
    let mut events = Vec::with_capacity(2);
    let ev = |public: bool, data: EventData| Event {
        at_ms: now_ms,
        actor,
        public,
        data,
    };
    // What happens before registration stays off the public timeline for drafts.
    let public_intake = case.state != State::Draft;

    match action {
        Action::Register => {
            // check_actor admitted only staff, who always act for a unit.
            let unit = actor.unit().unwrap_or_default();
            next.state = State::Registered;
            next.first_receiver = Some(unit);
            next.owner_unit = Some(unit);
            next.registered_ms = Some(now_ms);
            events.push(ev(
                true,
                EventData::Registered {
                    first_receiver: unit,
                },
            ));
        }
        Action::Reject { reason } => {
            let reason = required("reason", reason)?;
            next.state = State::Rejected;
            events.push(ev(public_intake, EventData::Rejected { reason }));
        }
        Action::Withdraw { reason } => {
            let reason = optional("reason", reason.as_deref())?;
            next.state = State::Withdrawn;
            events.push(ev(public_intake, EventData::Withdrawn { reason }));
        }
        Action::Merge { into } => {
            if *into == case.id || *into <= 0 {
                return Err(Refusal::input(
                    "into",
                    Text::new("不能合并到自身", "a case cannot be merged into itself"),
                ));
            }
            end_pause(&mut next, now_ms);
            next.state = State::Merged;
            next.merged_into = Some(*into);
            events.push(ev(public_intake, EventData::MergedInto { into: *into }));
        }
        Action::Dispatch {
            unit_id,
            first_contact_due_ms,
            due_ms,
        } => {
            if *first_contact_due_ms < now_ms || *due_ms < now_ms {
                return Err(Refusal::input(
                    "due_ms",
                    Text::new(
                        "期限不能早于派单时间",
                        "a deadline cannot be before the dispatch",
                    ),
                ));
            }
            if first_contact_due_ms > due_ms {
                return Err(Refusal::input(
                    "first_contact_due_ms",
                    Text::new(
                        "首次联系期限不能晚于办理期限",
                        "the first contact cannot be due after the handling",
                    ),
                ));
            }
            let ruling = case.state == State::Disputed;
            next.state = State::Dispatched;
            next.owner_unit = Some(*unit_id);
            next.dispatched_ms.get_or_insert(now_ms);
            next.first_contact_due_ms = Some(*first_contact_due_ms);
            next.due_ms = Some(*due_ms);
            events.push(ev(
                true,
                EventData::Dispatched {
                    unit_id: *unit_id,
                    first_contact_due_ms: *first_contact_due_ms,
                    due_ms: *due_ms,
                    ruling,
                },
            ));
        }
        Action::Transfer { unit_id, reason } => {
            if Some(*unit_id) == case.owner_unit {
                return Err(Refusal::input(
                    "unit_id",
                    Text::new(
                        "不能转办给当前承办单位",
                        "the case is already with that unit",
                    ),
                ));
            }
            let reason = required("reason", reason)?;
            next.state = State::Dispatched;
            next.owner_unit = Some(*unit_id);
            next.transfer_count += 1;
            events.push(ev(
                true,
                EventData::Transferred {
                    from_unit: case.owner_unit,
                    to_unit: *unit_id,
                    reason,
                },
            ));
        }
        Action::Dispute { reason } => {
            let reason = required("reason", reason)?;
            next.state = State::Disputed;
            events.push(ev(
                false,
                EventData::Disputed {
                    unit_id: case.owner_unit,
                    reason,
                },
            ));
        }
        Action::FirstContact { note } => {
            let note = optional("note", note.as_deref())?;
            next.state = case.work_state();
            next.first_contact_ms.get_or_insert(now_ms);
            events.push(ev(true, EventData::FirstContact { note }));
        }
        Action::Note { text, public } => {
            let text = required("text", text)?;
            // A reporter's addition is theirs to see; a draft has no public timeline yet.
            let public = (*public || actor == ActorKind::Reporter) && public_intake;
            events.push(ev(public, EventData::Note { text }));
        }
        Action::Pause { reason } => {
            let reason = required("reason", reason)?;
            let resume_to = match case.state {
                State::Dispatched => Resume::Dispatched,
                State::ReHandling => Resume::ReHandling,
                _ => Resume::InHandling,
            };
            next.state = State::WaitingForResident { resume_to };
            next.paused_since_ms = Some(now_ms);
            events.push(ev(true, EventData::Paused { reason }));
        }
        Action::Resume {
            first_contact_due_ms,
            due_ms,
        } => {
            let shorter = |new: &Option<i64>, old: Option<i64>| matches!((new, old), (Some(n), Some(o)) if *n < o);
            if shorter(due_ms, case.due_ms) {
                return Err(Refusal::input(
                    "due_ms",
                    Text::new(
                        "恢复办理不能缩短期限",
                        "resuming cannot shorten the deadline",
                    ),
                ));
            }
            if shorter(first_contact_due_ms, case.first_contact_due_ms) {
                return Err(Refusal::input(
                    "first_contact_due_ms",
                    Text::new(
                        "恢复办理不能缩短期限",
                        "resuming cannot shorten the deadline",
                    ),
                ));
            }
            let State::WaitingForResident { resume_to } = case.state else {
                unreachable!("State::allows admits Resume only while waiting");
            };
            let paused_ms = end_pause(&mut next, now_ms);
            next.state = resume_to.state();
            if due_ms.is_some() {
                next.due_ms = *due_ms;
            }
            if first_contact_due_ms.is_some() {
                next.first_contact_due_ms = *first_contact_due_ms;
            }
            events.push(ev(
                true,
                EventData::Resumed {
                    paused_ms,
                    first_contact_due_ms: *first_contact_due_ms,
                    due_ms: *due_ms,
                },
            ));
        }
        Action::ReportHandled { summary } => {
            let summary = required("summary", summary)?;
            next.state = State::Handled;
            next.handled_ms = Some(now_ms);
            events.push(ev(true, EventData::ReportedHandled { summary }));
        }
        Action::Verify { passed: true, note } => {
            let note = optional("note", note.as_deref())?;
            events.push(ev(true, EventData::VerificationPassed { note }));
            let on_time = close(&mut next, now_ms);
            events.push(ev(
                true,
                EventData::Closed {
                    on_time,
                    by_verification: true,
                    reason: None,
                },
            ));
        }
        Action::Verify {
            passed: false,
            note,
        } => {
            let note = required("note", note.as_deref().unwrap_or(""))?;
            next.state = case.work_state();
            next.rework_count += 1;
            events.push(ev(
                false,
                EventData::VerificationFailed {
                    note,
                    rework_count: next.rework_count,
                },
            ));
        }
        Action::Close { reason } => {
            let reason = required("reason", reason)?;
            let on_time = close(&mut next, now_ms);
            events.push(ev(
                true,
                EventData::Closed {
                    on_time,
                    by_verification: false,
                    reason: Some(reason),
                },
            ));
        }
        Action::Evaluate {
            rating,
            comment,
            channel,
            rehandling_due_ms,
        } => {
            let comment = optional("comment", comment.as_deref())?;
            if !rating.is_satisfied() && *rehandling_due_ms <= now_ms {
                return Err(Refusal::input(
                    "rehandling_due_ms",
                    Text::new(
                        "重新办理期限必须晚于现在",
                        "the re-handling must be due later than now",
                    ),
                ));
            }
            next.rating = Some(*rating);
            events.push(ev(
                true,
                EventData::Evaluated {
                    rating: *rating,
                    comment,
                    channel: *channel,
                },
            ));
            if !rating.is_satisfied() {
                unclose(&mut next);
                next.state = State::ReHandling;
                next.rehandling = true;
                next.rehandling_count += 1;
                next.due_ms = Some(*rehandling_due_ms);
                events.push(ev(
                    true,
                    EventData::ReHandlingOpened {
                        due_ms: *rehandling_due_ms,
                        rehandling_count: next.rehandling_count,
                    },
                ));
            }
        }
        Action::Reopen { reason } => {
            let reason = required("reason", reason)?;
            next.reopen_count += 1;
            if case.state == State::Rejected {
                next.state = State::Submitted;
            } else {
                unclose(&mut next);
                next.state = State::Registered;
                next.rehandling = false;
                next.first_contact_due_ms = None;
                next.due_ms = None;
            }
            events.push(ev(
                true,
                EventData::Reopened {
                    reason,
                    reopen_count: next.reopen_count,
                },
            ));
        }
        Action::Escalate { to_unit } => {
            if case.escalated_to == Some(*to_unit) {
                return Err(Refusal::input(
                    "to_unit",
                    Text::new("已升级到该单位", "already escalated to that unit"),
                ));
            }
            let overdue_ms = case.clock_ms(now_ms) - case.due_ms.unwrap_or(now_ms);
            next.escalated_to = Some(*to_unit);
            next.escalation_count += 1;
            events.push(ev(
                false,
                EventData::Escalated {
                    to_unit: *to_unit,
                    overdue_ms,
                },
            ));
        }
    }
    Ok(Transition { next, events })
}

/// The other half of a merge: `target` takes in the report `from_id`. The store applies
/// [`Action::Merge`] to the duplicate and this to the target in one transaction, and from then
/// on informs the duplicate's reporter of the target's public events.
pub fn absorb(
    target: &Case,
    from_id: i64,
    actor: &ActorKind,
    now_ms: i64,
) -> Result<Transition, Refusal> {
    if from_id == target.id {
        return Err(Refusal::input(
            "into",
            Text::new("不能合并到自身", "a case cannot be merged into itself"),
        ));
    }
    if !target.state.can_absorb() {
        return Err(Refusal::state(Text::owned(
            format!("不能合并到{}的事项", target.state.label().zh),
            format!(
                "a report cannot be merged into a case that is {}",
                target.state.label().en
            ),
        )));
    }
    let mut next = target.clone();
    next.version += 1;
    next.merged_in_count += 1;
    Ok(Transition {
        next,
        events: vec![Event {
            at_ms: now_ms,
            actor: *actor,
            public: true,
            data: EventData::ReportMergedIn { from: from_id },
        }],
    })
}
