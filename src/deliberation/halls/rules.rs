//! The halls' pure rules: the five functions, member roles, channels, who may do what in a
//! hall, and the status transitions of halls, errands and mediation sessions. No I/O, no
//! clock: `now` comes in as an argument.

use crate::error::FieldError;
use crate::i18n::Text;

/// The five functions of a deliberation hall (五项功能).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Function {
    Consultation,
    Mediation,
    Feedback,
    Publicity,
    Errand,
}

pub const FUNCTIONS: [Function; 5] = [
    Function::Consultation,
    Function::Mediation,
    Function::Feedback,
    Function::Publicity,
    Function::Errand,
];

impl Function {
    pub fn as_str(self) -> &'static str {
        match self {
            Function::Consultation => "consultation",
            Function::Mediation => "mediation",
            Function::Feedback => "feedback",
            Function::Publicity => "publicity",
            Function::Errand => "errand",
        }
    }

    pub fn parse(s: &str) -> Option<Function> {
        FUNCTIONS.into_iter().find(|f| f.as_str() == s.trim())
    }

    pub fn label(self) -> Text {
        match self {
            Function::Consultation => Text::new("接待咨询", "Consultation"),
            Function::Mediation => Text::new("矛盾调处", "Mediation"),
            Function::Feedback => Text::new("意见反馈", "Feedback"),
            Function::Publicity => Text::new("政策宣传", "Policy publicity"),
            Function::Errand => Text::new("代办跑腿", "Errand proxy"),
        }
    }

    /// The status a new contribution starts in.
    pub fn initial_status(self) -> &'static str {
        match self {
            Function::Consultation | Function::Feedback => "open",
            Function::Publicity => "published",
            Function::Mediation => "pending",
            Function::Errand => "requested",
        }
    }

    /// Whether a resident may bring this in themselves (ask, give feedback, request an errand).
    pub fn residents_may_open(self) -> bool {
        matches!(
            self,
            Function::Consultation | Function::Feedback | Function::Errand
        )
    }

    /// Whether contributions of this function are answered (consultation and feedback).
    pub fn answered(self) -> bool {
        matches!(self, Function::Consultation | Function::Feedback)
    }
}

/// A member's role in a hall: a small fixed set, with a free label beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberRole {
    Host,
    ParticipantUnit,
    ResidentRep,
    Mediator,
    Lawyer,
    Expert,
    Other,
}

pub const MEMBER_ROLES: [MemberRole; 7] = [
    MemberRole::Host,
    MemberRole::ParticipantUnit,
    MemberRole::ResidentRep,
    MemberRole::Mediator,
    MemberRole::Lawyer,
    MemberRole::Expert,
    MemberRole::Other,
];

impl MemberRole {
    pub fn as_str(self) -> &'static str {
        match self {
            MemberRole::Host => "host",
            MemberRole::ParticipantUnit => "participant_unit",
            MemberRole::ResidentRep => "resident_rep",
            MemberRole::Mediator => "mediator",
            MemberRole::Lawyer => "lawyer",
            MemberRole::Expert => "expert",
            MemberRole::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<MemberRole> {
        MEMBER_ROLES.into_iter().find(|r| r.as_str() == s.trim())
    }

    pub fn label(self) -> Text {
        match self {
            MemberRole::Host => Text::new("主持单位", "Host"),
            MemberRole::ParticipantUnit => Text::new("参与单位", "Participant unit"),
            MemberRole::ResidentRep => Text::new("居民代表", "Resident representative"),
            MemberRole::Mediator => Text::new("调解员", "Mediator"),
            MemberRole::Lawyer => Text::new("律师", "Lawyer"),
            MemberRole::Expert => Text::new("专业人员", "Expert"),
            MemberRole::Other => Text::new("其他", "Other"),
        }
    }
}

/// How a contribution came in: online by the person themselves, or offline, entered by staff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Online,
    Counter,
    Visit,
    Phone,
    Meeting,
}

pub const CHANNELS: [Channel; 5] = [
    Channel::Online,
    Channel::Counter,
    Channel::Visit,
    Channel::Phone,
    Channel::Meeting,
];

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Online => "online",
            Channel::Counter => "counter",
            Channel::Visit => "visit",
            Channel::Phone => "phone",
            Channel::Meeting => "meeting",
        }
    }

    pub fn parse(s: &str) -> Option<Channel> {
        CHANNELS.into_iter().find(|c| c.as_str() == s.trim())
    }

    pub fn label(self) -> Text {
        match self {
            Channel::Online => Text::new("线上", "Online"),
            Channel::Counter => Text::new("窗口接待", "At the counter"),
            Channel::Visit => Text::new("走访", "Home visit"),
            Channel::Phone => Text::new("电话", "Phone"),
            Channel::Meeting => Text::new("会议", "Meeting"),
        }
    }

    pub fn offline(self) -> bool {
        self != Channel::Online
    }
}

/// A feedback's stance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stance {
    Support,
    Oppose,
    Suggestion,
}

pub const STANCES: [Stance; 3] = [Stance::Support, Stance::Oppose, Stance::Suggestion];

impl Stance {
    pub fn as_str(self) -> &'static str {
        match self {
            Stance::Support => "support",
            Stance::Oppose => "oppose",
            Stance::Suggestion => "suggestion",
        }
    }

    pub fn parse(s: &str) -> Option<Stance> {
        STANCES.into_iter().find(|x| x.as_str() == s.trim())
    }

    pub fn label(self) -> Text {
        match self {
            Stance::Support => Text::new("支持", "Support"),
            Stance::Oppose => Text::new("反对", "Oppose"),
            Stance::Suggestion => Text::new("建议", "Suggestion"),
        }
    }
}

/// The label of any stored status code.
pub fn status_label(code: &str) -> Text {
    match code {
        "open" => Text::new("待答复", "Awaiting answer"),
        "answered" => Text::new("已答复", "Answered"),
        "published" => Text::new("已发布", "Published"),
        "pending" => Text::new("待调处", "Pending"),
        "agreed" => Text::new("达成一致", "Agreed"),
        "not_agreed" => Text::new("未达成一致", "Not agreed"),
        "adjourned" => Text::new("延期再议", "Adjourned"),
        "requested" => Text::new("已申请", "Requested"),
        "accepted" => Text::new("已受理", "Accepted"),
        "in_progress" => Text::new("办理中", "In progress"),
        "done" => Text::new("已办结", "Done"),
        "declined" => Text::new("不予受理", "Declined"),
        "closed" => Text::new("已结束", "Closed"),
        other => Text::owned(other.to_string(), other.to_string()),
    }
}

/// The statuses of an errand, in the order they are walked.
pub const ERRAND_STATUSES: [&str; 5] = ["requested", "accepted", "in_progress", "done", "declined"];

/// Whether an errand may move from `from` to `to`; the refusal says why.
/// requested → accepted | declined; accepted → in_progress | declined; in_progress → done.
pub fn errand_step(from: &str, to: &str) -> Result<(), Text> {
    if !ERRAND_STATUSES.contains(&to) {
        return Err(Text::new("没有这个办理状态", "no such errand status"));
    }
    let ok = matches!(
        (from, to),
        ("requested", "accepted" | "declined")
            | ("accepted", "in_progress" | "declined")
            | ("in_progress", "done")
    );
    if ok {
        return Ok(());
    }
    if matches!(from, "done" | "declined") {
        return Err(Text::owned(
            format!("代办已{},不能再变更", status_label(from).zh),
            format!(
                "the errand is {} and cannot change",
                status_label(from).en.to_lowercase()
            ),
        ));
    }
    Err(Text::owned(
        format!(
            "“{}”的代办不能直接改为“{}”",
            status_label(from).zh,
            status_label(to).zh
        ),
        format!(
            "an errand that is {} cannot become {}",
            status_label(from).en.to_lowercase(),
            status_label(to).en.to_lowercase()
        ),
    ))
}

/// The outcomes a mediation session may record.
pub const MEDIATION_OUTCOMES: [&str; 3] = ["agreed", "not_agreed", "adjourned"];

/// Why a step was refused: it conflicts with the record's state (409), or a field is wrong (422).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Conflict(Text),
    Invalid(FieldError),
}

/// Whether a session in `from` may record the outcome `to` (with `agreement` text): a pending or
/// adjourned session takes any outcome, an agreed one needs its agreement, a settled one
/// (agreed / not agreed) takes none.
pub fn mediation_outcome(from: &str, to: &str, agreement: &str) -> Result<(), Refusal> {
    if !matches!(from, "pending" | "adjourned") {
        return Err(Refusal::Conflict(Text::owned(
            format!("本次调处已{},不能再变更", status_label(from).zh),
            format!(
                "the session is settled ({}) and cannot change",
                status_label(from).en.to_lowercase()
            ),
        )));
    }
    if !MEDIATION_OUTCOMES.contains(&to) {
        return Err(Refusal::Invalid(FieldError::new(
            "outcome",
            Text::new("请选择调处结果", "choose an outcome"),
        )));
    }
    if to == "agreed" && agreement.trim().is_empty() {
        return Err(Refusal::Invalid(FieldError::new(
            "agreement",
            Text::new("达成一致时请填写协议内容", "write the agreement reached"),
        )));
    }
    Ok(())
}

/// What an actor is in one hall, as the store found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Standing {
    /// A staff role reaches the hall's place (`access::allows(ReadPeople)` there).
    pub staff: bool,
    /// The actor's user is a current member of the hall.
    pub member: bool,
    /// A resident whose home lies under the hall's place.
    pub resident: bool,
    /// A role that may see the place's tree but no people (auditors, lawyers, …).
    pub observer: bool,
}

/// What one may do in a hall.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// See the hall, its contributions and answers.
    Read,
    /// Edit the hall: members, closing, publicity, mediation sessions, errand steps.
    Run,
    /// Give an official answer to a consultation or a feedback.
    Answer,
    /// Bring in a contribution of one's own, online.
    Contribute(Function),
    /// Record an offline contribution on behalf of a named person.
    RecordOffline,
}

/// Whether `s` may do `op`.
pub fn may(s: Standing, op: Op) -> bool {
    match op {
        Op::Read => s.staff || s.member || s.resident || s.observer,
        Op::Run | Op::RecordOffline => s.staff,
        Op::Answer => s.staff || s.member,
        Op::Contribute(f) => s.staff || ((s.resident || s.member) && f.residents_may_open()),
    }
}

/// How far back an offline contribution may be dated.
pub const MAX_BACKDATE_MS: i64 = 180 * 24 * 3600 * 1000;

/// Checks who spoke and when: online is the actor themselves, now; offline needs staff, the
/// named person and the time it really happened (not in the future, at most
/// [`MAX_BACKDATE_MS`] ago). Returns the instant to store.
pub fn check_provenance(
    channel: Channel,
    staff: bool,
    speaker: &str,
    occurred_at: Option<i64>,
    now: i64,
    errors: &mut Vec<FieldError>,
) -> i64 {
    if !channel.offline() {
        return now;
    }
    if !staff {
        errors.push(FieldError::new(
            "channel",
            Text::new(
                "只有工作人员可以代为登记线下意见",
                "only staff may record offline contributions",
            ),
        ));
    }
    if speaker.trim().is_empty() {
        errors.push(FieldError::new(
            "speaker",
            Text::new(
                "请填写代为登记的是谁的意见",
                "name the person this is recorded for",
            ),
        ));
    }
    match occurred_at {
        None => {
            errors.push(FieldError::new(
                "occurred_at",
                Text::new("请填写实际发生的时间", "give the time it really happened"),
            ));
            now
        }
        // A minute of slack for the clocks of desks and phones.
        Some(at) if at > now + 60_000 => {
            errors.push(FieldError::new(
                "occurred_at",
                Text::new("发生时间不能晚于现在", "cannot be in the future"),
            ));
            now
        }
        Some(at) if at < now - MAX_BACKDATE_MS => {
            errors.push(FieldError::new(
                "occurred_at",
                Text::new("发生时间不能早于180天前", "at most 180 days back"),
            ));
            now
        }
        Some(at) => at.min(now),
    }
}

/// Checks a required text of at most `max` characters.
pub fn check_text(
    field: &str,
    value: &str,
    max: usize,
    required: bool,
    errors: &mut Vec<FieldError>,
) {
    let n = value.trim().chars().count();
    if required && n == 0 {
        errors.push(FieldError::new(field, Text::new("此项必填", "required")));
    } else if n > max {
        errors.push(FieldError::new(
            field,
            Text::owned(
                format!("不能超过{max}个字"),
                format!("at most {max} characters"),
            ),
        ));
    }
}

/// A link is empty or an http(s) address.
pub fn check_link(value: &str, errors: &mut Vec<FieldError>) {
    let v = value.trim();
    if v.is_empty() {
        return;
    }
    let ok = (v.starts_with("https://") || v.starts_with("http://"))
        && v.len() <= 500
        && !v.chars().any(char::is_whitespace);
    if !ok {
        errors.push(FieldError::new(
            "link",
            Text::new(
                "链接须以 http:// 或 https:// 开头",
                "a link starts with http:// or https://",
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const NOW: i64 = 1_780_000_000_000;

    #[test]
    fn codes_round_trip() {
        for f in FUNCTIONS {
            assert_eq!(Function::parse(f.as_str()), Some(f));
        }
        for r in MEMBER_ROLES {
            assert_eq!(MemberRole::parse(r.as_str()), Some(r));
        }
        for c in CHANNELS {
            assert_eq!(Channel::parse(c.as_str()), Some(c));
        }
        for s in STANCES {
            assert_eq!(Stance::parse(s.as_str()), Some(s));
        }
        assert_eq!(Function::parse("vote"), None);
        assert_eq!(Channel::parse(""), None);
    }

    #[test]
    fn errand_walks_forward_only() {
        let ok = [
            ("requested", "accepted"),
            ("requested", "declined"),
            ("accepted", "in_progress"),
            ("accepted", "declined"),
            ("in_progress", "done"),
        ];
        for from in ERRAND_STATUSES {
            for to in ERRAND_STATUSES {
                assert_eq!(
                    errand_step(from, to).is_ok(),
                    ok.contains(&(from, to)),
                    "{from} → {to}"
                );
            }
        }
        assert!(errand_step("requested", "teleported").is_err());
        let why = errand_step("requested", "done").unwrap_err();
        assert!(why.zh.contains("已申请") && why.en.contains("requested"));
        let why = errand_step("done", "accepted").unwrap_err();
        assert!(why.en.contains("cannot change"));
    }

    #[test]
    fn mediation_settles_once() {
        for from in ["pending", "adjourned"] {
            assert!(mediation_outcome(from, "agreed", "各方同意").is_ok());
            assert!(mediation_outcome(from, "not_agreed", "").is_ok());
            assert!(mediation_outcome(from, "adjourned", "").is_ok());
            let field = |r: Result<(), Refusal>| match r {
                Err(Refusal::Invalid(f)) => f.field,
                other => panic!("{other:?}"),
            };
            assert_eq!(field(mediation_outcome(from, "agreed", " ")), "agreement");
            assert_eq!(field(mediation_outcome(from, "x", "")), "outcome");
        }
        for from in ["agreed", "not_agreed"] {
            for to in MEDIATION_OUTCOMES {
                assert!(matches!(
                    mediation_outcome(from, to, "text"),
                    Err(Refusal::Conflict(_))
                ));
            }
        }
    }

    #[test]
    fn who_may_what() {
        let staff = Standing {
            staff: true,
            ..Default::default()
        };
        let member = Standing {
            member: true,
            ..Default::default()
        };
        let resident = Standing {
            resident: true,
            ..Default::default()
        };
        let observer = Standing {
            observer: true,
            ..Default::default()
        };
        let nobody = Standing::default();
        for f in FUNCTIONS {
            assert!(may(staff, Op::Contribute(f)));
            assert_eq!(may(resident, Op::Contribute(f)), f.residents_may_open());
            assert!(!may(observer, Op::Contribute(f)));
            assert!(!may(nobody, Op::Contribute(f)));
        }
        assert!(may(staff, Op::Run) && may(staff, Op::RecordOffline) && may(staff, Op::Answer));
        assert!(may(member, Op::Answer) && !may(member, Op::Run));
        assert!(!may(resident, Op::Answer) && !may(resident, Op::RecordOffline));
        assert!(may(resident, Op::Read) && may(observer, Op::Read) && may(member, Op::Read));
        assert!(!may(nobody, Op::Read));
    }

    #[test]
    fn offline_needs_staff_speaker_and_a_real_time() {
        let mut e = Vec::new();
        assert_eq!(
            check_provenance(Channel::Online, false, "", Some(1), NOW, &mut e),
            NOW
        );
        assert!(e.is_empty());
        let past = NOW - 3 * 24 * 3600 * 1000;
        assert_eq!(
            check_provenance(Channel::Counter, true, "张三丰", Some(past), NOW, &mut e),
            past
        );
        assert!(e.is_empty());
        check_provenance(Channel::Phone, false, " ", None, NOW, &mut e);
        let fields: Vec<&str> = e.iter().map(|x| x.field.as_str()).collect();
        assert_eq!(fields, ["channel", "speaker", "occurred_at"]);
        let mut e = Vec::new();
        check_provenance(Channel::Visit, true, "a", Some(NOW + 120_000), NOW, &mut e);
        check_provenance(
            Channel::Visit,
            true,
            "a",
            Some(NOW - MAX_BACKDATE_MS - 1),
            NOW,
            &mut e,
        );
        assert_eq!(e.len(), 2);
    }

    #[test]
    fn texts_and_links() {
        let mut e = Vec::new();
        check_text("title", "  ", 10, true, &mut e);
        check_text("title", "一二三四五六七八九十一", 10, false, &mut e);
        check_text("title", "一二三四五六七八九十", 10, true, &mut e);
        assert_eq!(e.len(), 2);
        let mut e = Vec::new();
        check_link("", &mut e);
        check_link("https://example.org/policy.pdf", &mut e);
        assert!(e.is_empty());
        check_link("javascript:alert(1)", &mut e);
        check_link("https://a b", &mut e);
        assert_eq!(e.len(), 2);
    }

    proptest! {
        /// Any sequence of steps the rules accept ends within four steps, never returns to
        /// "requested", and stops at done or declined.
        #[test]
        fn accepted_errand_walks_terminate(steps in proptest::collection::vec(0usize..5, 0..12)) {
            let mut status = "requested";
            let mut taken = 0;
            for i in steps {
                let to = ERRAND_STATUSES[i];
                if errand_step(status, to).is_ok() {
                    prop_assert_ne!(to, "requested");
                    status = to;
                    taken += 1;
                }
            }
            prop_assert!(taken <= 3);
            if matches!(status, "done" | "declined") {
                for to in ERRAND_STATUSES {
                    prop_assert!(errand_step(status, to).is_err());
                }
            }
        }

        /// An offline time that is accepted is never in the future nor beyond the window.
        #[test]
        fn accepted_offline_times_are_in_the_window(delta in -(MAX_BACKDATE_MS * 2)..(MAX_BACKDATE_MS)) {
            let mut e = Vec::new();
            let at = check_provenance(Channel::Counter, true, "x", Some(NOW + delta), NOW, &mut e);
            if e.is_empty() {
                prop_assert!(at <= NOW && at >= NOW - MAX_BACKDATE_MS);
            }
        }
    }
}
