//! Lawyer mediation's pure rules: the dispute kinds, the parties' sides, the status machine
//! (filed → assigned → in session → agreement reached | no agreement | withdrawn → follow-up
//! done) and who may take each step. No I/O.

use serde::{Deserialize, Serialize};

use crate::i18n::Text;

/// What the dispute is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    FeeArrears,
    Repairs,
    Noise,
    Parking,
    Leaks,
    Other,
}

pub const KINDS: [Kind; 6] = [
    Kind::FeeArrears,
    Kind::Repairs,
    Kind::Noise,
    Kind::Parking,
    Kind::Leaks,
    Kind::Other,
];

impl Kind {
    pub fn code(self) -> &'static str {
        match self {
            Kind::FeeArrears => "fee_arrears",
            Kind::Repairs => "repairs",
            Kind::Noise => "noise",
            Kind::Parking => "parking",
            Kind::Leaks => "leaks",
            Kind::Other => "other",
        }
    }
    pub fn parse(s: &str) -> Option<Kind> {
        KINDS.into_iter().find(|k| k.code() == s.trim())
    }
    pub fn label(self) -> Text {
        match self {
            Kind::FeeArrears => Text::new("物业费欠缴", "fee arrears"),
            Kind::Repairs => Text::new("维修纠纷", "repairs"),
            Kind::Noise => Text::new("噪声扰邻", "noise"),
            Kind::Parking => Text::new("停车纠纷", "parking"),
            Kind::Leaks => Text::new("渗漏水", "leaks"),
            Kind::Other => Text::new("其他", "other"),
        }
    }
}

/// Which side a party is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Applicant,
    Respondent,
}

impl Side {
    pub fn code(self) -> &'static str {
        match self {
            Side::Applicant => "applicant",
            Side::Respondent => "respondent",
        }
    }
    pub fn parse(s: &str) -> Option<Side> {
        match s.trim() {
            "applicant" => Some(Side::Applicant),
            "respondent" => Some(Side::Respondent),
            _ => None,
        }
    }
    pub fn label(self) -> Text {
        match self {
            Side::Applicant => Text::new("申请人", "applicant"),
            Side::Respondent => Text::new("被申请人", "respondent"),
        }
    }
}

/// Where a mediation case stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Filed,
    Assigned,
    InSession,
    AgreementReached,
    NoAgreement,
    Withdrawn,
    FollowUpDone,
}

pub const STATUSES: [Status; 7] = [
    Status::Filed,
    Status::Assigned,
    Status::InSession,
    Status::AgreementReached,
    Status::NoAgreement,
    Status::Withdrawn,
    Status::FollowUpDone,
];

impl Status {
    pub fn code(self) -> &'static str {
        match self {
            Status::Filed => "filed",
            Status::Assigned => "assigned",
            Status::InSession => "in_session",
            Status::AgreementReached => "agreement_reached",
            Status::NoAgreement => "no_agreement",
            Status::Withdrawn => "withdrawn",
            Status::FollowUpDone => "follow_up_done",
        }
    }
    pub fn parse(s: &str) -> Option<Status> {
        STATUSES.into_iter().find(|x| x.code() == s.trim())
    }
    pub fn label(self) -> Text {
        match self {
            Status::Filed => Text::new("已受理", "filed"),
            Status::Assigned => Text::new("已指派律师", "lawyer assigned"),
            Status::InSession => Text::new("调解中", "in session"),
            Status::AgreementReached => Text::new("达成协议", "agreement reached"),
            Status::NoAgreement => Text::new("未达成协议", "no agreement"),
            Status::Withdrawn => Text::new("已撤回", "withdrawn"),
            Status::FollowUpDone => Text::new("回访完成", "follow-up done"),
        }
    }
    /// Whether the case is finished (nothing more happens).
    pub fn closed(self) -> bool {
        matches!(self, Status::Withdrawn | Status::FollowUpDone)
    }
    /// Whether an outcome is on record and follow-ups are being checked.
    pub fn has_outcome(self) -> bool {
        matches!(self, Status::AgreementReached | Status::NoAgreement)
    }
}

/// A step on a mediation case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Assign (or reassign) the lawyer.
    Assign,
    /// Record a session with the parties.
    Session,
    /// The parties reached an agreement.
    Agree,
    /// They did not.
    NoAgreement,
    /// The applicant withdrew.
    Withdraw,
    /// Add a follow-up, or mark one done or raised as a case.
    FollowUp,
    /// All follow-ups checked: the case is finished.
    FollowUpDone,
}

/// How the actor stands to a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Standing {
    /// Staff reaching the case's place (they manage mediation there).
    pub staff: bool,
    /// The lawyer assigned to the case.
    pub assigned_lawyer: bool,
    /// A lawyer of the case's firm (reads it).
    pub firm_lawyer: bool,
}

impl Standing {
    pub fn reads(self) -> bool {
        self.staff || self.assigned_lawyer || self.firm_lawyer
    }
}

/// Whether `s` may take `step` at all (before the status is considered).
pub fn may(s: Standing, step: Step) -> bool {
    match step {
        Step::Assign | Step::Withdraw => s.staff,
        Step::Session | Step::Agree | Step::NoAgreement | Step::FollowUp | Step::FollowUpDone => {
            s.staff || s.assigned_lawyer
        }
    }
}

/// A refused step: forbidden for this actor, or not possible in this status (with why).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Forbidden,
    Conflict(Text),
}

/// The status after `step`, or why not. `open_followups` is how many follow-ups are neither
/// done nor raised as a case (finishing needs none).
pub fn apply(
    status: Status,
    step: Step,
    s: Standing,
    open_followups: usize,
) -> Result<Status, Refusal> {
    if !may(s, step) {
        return Err(Refusal::Forbidden);
    }
    let no = |zh: &'static str, en: &'static str| Err(Refusal::Conflict(Text::new(zh, en)));
    use Status::*;
    match (step, status) {
        (Step::Assign, Filed) => Ok(Assigned),
        (Step::Assign, Assigned | InSession) => Ok(status),
        (Step::Assign, _) => no(
            "调解已有结果,不能再指派律师",
            "the mediation has an outcome; no reassigning",
        ),
        (Step::Session, Assigned | InSession) => Ok(InSession),
        (Step::Session, Filed) => no("请先指派律师", "assign a lawyer first"),
        (Step::Session, _) => no(
            "调解已有结果,不能再记录调解",
            "the mediation has an outcome; no more sessions",
        ),
        (Step::Agree, InSession) => Ok(AgreementReached),
        (Step::NoAgreement, InSession) => Ok(NoAgreement),
        (Step::Agree | Step::NoAgreement, Filed | Assigned) => no(
            "至少调解一次后才有结果",
            "an outcome needs at least one session",
        ),
        (Step::Agree | Step::NoAgreement, _) => {
            no("调解已有结果", "the mediation already has an outcome")
        }
        (Step::Withdraw, Filed | Assigned | InSession) => Ok(Withdrawn),
        (Step::Withdraw, _) => no(
            "调解已有结果,不能撤回",
            "the mediation has an outcome; it cannot be withdrawn",
        ),
        (Step::FollowUp, AgreementReached | NoAgreement) => Ok(status),
        (Step::FollowUp, _) => no("有调解结果后才能回访", "follow-ups come after the outcome"),
        (Step::FollowUpDone, AgreementReached | NoAgreement) if open_followups == 0 => {
            Ok(FollowUpDone)
        }
        (Step::FollowUpDone, AgreementReached | NoAgreement) => {
            no("还有未完成的回访事项", "some follow-ups are still open")
        }
        (Step::FollowUpDone, _) => no(
            "有调解结果后才能完成回访",
            "follow-ups come after the outcome",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STEPS: [Step; 7] = [
        Step::Assign,
        Step::Session,
        Step::Agree,
        Step::NoAgreement,
        Step::Withdraw,
        Step::FollowUp,
        Step::FollowUpDone,
    ];

    fn staff() -> Standing {
        Standing {
            staff: true,
            ..Default::default()
        }
    }
    fn lawyer() -> Standing {
        Standing {
            assigned_lawyer: true,
            firm_lawyer: true,
            ..Default::default()
        }
    }
    fn firm() -> Standing {
        Standing {
            firm_lawyer: true,
            ..Default::default()
        }
    }

    /// The whole table for staff with no open follow-ups: Some(next) or None (a conflict).
    fn expected(step: Step, st: Status) -> Option<Status> {
        use Status::*;
        match (step, st) {
            (Step::Assign, Filed) => Some(Assigned),
            (Step::Assign, Assigned) => Some(Assigned),
            (Step::Assign, InSession) => Some(InSession),
            (Step::Session, Assigned | InSession) => Some(InSession),
            (Step::Agree, InSession) => Some(AgreementReached),
            (Step::NoAgreement, InSession) => Some(NoAgreement),
            (Step::Withdraw, Filed | Assigned | InSession) => Some(Withdrawn),
            (Step::FollowUp, AgreementReached) => Some(AgreementReached),
            (Step::FollowUp, NoAgreement) => Some(NoAgreement),
            (Step::FollowUpDone, AgreementReached | NoAgreement) => Some(FollowUpDone),
            _ => None,
        }
    }

    #[test]
    fn every_status_and_step_for_staff() {
        for st in STATUSES {
            for step in STEPS {
                let got = apply(st, step, staff(), 0);
                match expected(step, st) {
                    Some(next) => assert_eq!(got, Ok(next), "{st:?} {step:?}"),
                    None => assert!(
                        matches!(got, Err(Refusal::Conflict(_))),
                        "{st:?} {step:?}: {got:?}"
                    ),
                }
            }
        }
    }

    #[test]
    fn the_assigned_lawyer_mediates_but_neither_assigns_nor_withdraws() {
        for st in STATUSES {
            for step in STEPS {
                let got = apply(st, step, lawyer(), 0);
                if matches!(step, Step::Assign | Step::Withdraw) {
                    assert_eq!(got, Err(Refusal::Forbidden), "{st:?} {step:?}");
                } else {
                    assert_eq!(got.ok(), expected(step, st), "{st:?} {step:?}");
                }
            }
        }
    }

    #[test]
    fn other_lawyers_of_the_firm_and_outsiders_only_read() {
        for st in STATUSES {
            for step in STEPS {
                assert_eq!(apply(st, step, firm(), 0), Err(Refusal::Forbidden));
                assert_eq!(
                    apply(st, step, Standing::default(), 0),
                    Err(Refusal::Forbidden)
                );
            }
        }
        assert!(firm().reads());
        assert!(staff().reads());
        assert!(!Standing::default().reads());
    }

    #[test]
    fn finishing_needs_every_follow_up_checked() {
        assert!(matches!(
            apply(Status::AgreementReached, Step::FollowUpDone, staff(), 1),
            Err(Refusal::Conflict(_))
        ));
        assert_eq!(
            apply(Status::NoAgreement, Step::FollowUpDone, lawyer(), 0),
            Ok(Status::FollowUpDone)
        );
    }

    #[test]
    fn a_full_mediation_walks_the_machine() {
        let mut st = Status::Filed;
        for step in [
            Step::Assign,
            Step::Session,
            Step::Session,
            Step::Agree,
            Step::FollowUp,
            Step::FollowUpDone,
        ] {
            st = apply(st, step, staff(), 0).unwrap();
        }
        assert_eq!(st, Status::FollowUpDone);
        assert!(st.closed());
        assert!(Status::AgreementReached.has_outcome());
        assert!(!Status::InSession.has_outcome());
    }

    #[test]
    fn codes_round_trip() {
        for k in KINDS {
            assert_eq!(Kind::parse(k.code()), Some(k));
        }
        for s in STATUSES {
            assert_eq!(Status::parse(s.code()), Some(s));
        }
        for s in [Side::Applicant, Side::Respondent] {
            assert_eq!(Side::parse(s.code()), Some(s));
        }
        assert_eq!(Kind::parse("murder"), None);
        assert_eq!(Status::parse(""), None);
        assert_eq!(Side::parse("judge"), None);
    }
}
