//! The owners' committee rules, pure: size (odd, at least 5; 3 for small estates), terms
//! (3–5 years, the last day by Civil Code art. 202), the alert to the subdistrict 5 months
//! before a term ends, the steps of a re-election with their deadlines, and the early
//! re-election triggers. No I/O, no clock: "today" comes in as an argument.
//!
//! Periods count in calendar days and months (the rules give no working-day periods here).
//! Counting follows the Civil Code: the day a period starts is not counted (art. 201), so
//! "within 60 days of the start" ends on start + 60 days, included; a period in months or
//! years ends on the corresponding day, or the month's last day when there is none (art. 202).

use serde::Serialize;
use time::{Date, Duration, Month};

use crate::i18n::Text;

/// The shortest and longest term, in years.
pub const MIN_TERM_YEARS: i64 = 3;
pub const MAX_TERM_YEARS: i64 = 5;
/// The subdistrict is told this many months before a term ends.
pub const ALERT_MONTHS: i64 = 5;
/// No recorded activity for this many months is an early re-election trigger.
pub const INACTIVE_MONTHS: i64 = 6;
/// Deadlines of the re-election steps, in calendar days.
pub const RENEWAL_GROUP_DAYS: i64 = 60;
pub const HANDOVER_DAYS: i64 = 10;
pub const FILING_DAYS: i64 = 30;

/// The size rule (local practice: kept as data).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SizeRule {
    /// The fewest members an estate's committee has (odd).
    pub min_members: i64,
    /// The fewest a small estate's committee has.
    pub small_min_members: i64,
    /// A small estate: an area (hundredths of m²) up to this, included.
    pub small_area_limit: i64,
}

/// DOMAIN.md: 5 or more, an odd number; 3 allowed up to 10,000 m².
pub const SIZE_RULE: SizeRule = SizeRule {
    min_members: 5,
    small_min_members: 3,
    small_area_limit: 1_000_000,
};

impl SizeRule {
    /// The fewest seats allowed for an estate of this area (hundredths of m²).
    pub fn min_for(&self, estate_area: i64) -> i64 {
        if estate_area <= self.small_area_limit {
            self.small_min_members
        } else {
            self.min_members
        }
    }

    /// Whether `seats` is allowed for an estate of `estate_area`; the reason when not.
    pub fn check(&self, seats: i64, estate_area: i64) -> Result<(), Text> {
        let min = self.min_for(estate_area);
        if seats < min {
            return Err(Text::owned(
                format!("业委会至少 {min} 人(建筑面积 1 万平方米以下的小区可为 3 人)"),
                format!(
                    "an owners' committee has at least {min} members (3 allowed up to 10,000 m²)"
                ),
            ));
        }
        if seats % 2 == 0 {
            return Err(Text::new(
                "业委会成员人数应为单数",
                "an owners' committee has an odd number of members",
            ));
        }
        Ok(())
    }
}

/// Checks a term length in years.
pub fn check_term_years(years: i64) -> Result<(), Text> {
    if (MIN_TERM_YEARS..=MAX_TERM_YEARS).contains(&years) {
        Ok(())
    } else {
        Err(Text::new("任期为 3 至 5 年", "a term is 3 to 5 years"))
    }
}

/// `YYYY-MM-DD` → a date.
pub fn parse_date(s: &str) -> Option<Date> {
    let f = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s.trim(), &f).ok()
}

/// A date as `YYYY-MM-DD`.
pub fn format_date(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// `d` moved by `months` calendar months (either way); a day the target month lacks becomes
/// its last day (31 Aug + 6 months → 28 or 29 Feb).
pub fn add_months(d: Date, months: i64) -> Date {
    let index = i64::from(d.year()) * 12 + i64::from(u8::from(d.month())) - 1 + months;
    let year = index.div_euclid(12) as i32;
    let month = Month::try_from((index.rem_euclid(12) + 1) as u8).unwrap_or(Month::January);
    let last = month.length(year);
    Date::from_calendar_date(year, month, d.day().min(last)).unwrap_or(d)
}

/// `d` plus `days` calendar days.
pub fn add_days(d: Date, days: i64) -> Date {
    d.checked_add(Duration::days(days)).unwrap_or(d)
}

/// The last day of a term of `years` starting on `start` (art. 202: the corresponding day,
/// else the month's last day).
pub fn term_end(start: Date, years: i64) -> Date {
    add_months(start, years * 12)
}

/// The day the subdistrict is told: 5 calendar months before the term's last day.
pub fn alert_on(term_end: Date) -> Date {
    add_months(term_end, -ALERT_MONTHS)
}

/// An office on the committee.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Office {
    Chair,
    ViceChair,
    Member,
}

pub const OFFICES: [Office; 3] = [Office::Chair, Office::ViceChair, Office::Member];

impl Office {
    pub fn as_str(self) -> &'static str {
        match self {
            Office::Chair => "chair",
            Office::ViceChair => "vice_chair",
            Office::Member => "member",
        }
    }
    pub fn parse(s: &str) -> Option<Office> {
        OFFICES.into_iter().find(|o| o.as_str() == s.trim())
    }
    pub fn label(self) -> Text {
        match self {
            Office::Chair => Text::new("主任", "chair"),
            Office::ViceChair => Text::new("副主任", "vice chair"),
            Office::Member => Text::new("委员", "member"),
        }
    }
}

/// Why a member left.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    Resigned,
    Removed,
    Died,
    TermEnded,
    Other,
}

pub const END_REASONS: [EndReason; 5] = [
    EndReason::Resigned,
    EndReason::Removed,
    EndReason::Died,
    EndReason::TermEnded,
    EndReason::Other,
];

impl EndReason {
    pub fn as_str(self) -> &'static str {
        match self {
            EndReason::Resigned => "resigned",
            EndReason::Removed => "removed",
            EndReason::Died => "died",
            EndReason::TermEnded => "term_ended",
            EndReason::Other => "other",
        }
    }
    pub fn parse(s: &str) -> Option<EndReason> {
        END_REASONS.into_iter().find(|o| o.as_str() == s.trim())
    }
    pub fn label(self) -> Text {
        match self {
            EndReason::Resigned => Text::new("辞职", "resigned"),
            EndReason::Removed => Text::new("罢免", "removed"),
            EndReason::Died => Text::new("去世", "died"),
            EndReason::TermEnded => Text::new("任期届满", "term ended"),
            EndReason::Other => Text::new("其他", "other"),
        }
    }
}

/// A kind of recorded activity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ActivityKind {
    Meeting,
    Decision,
    Other,
}

pub const ACTIVITY_KINDS: [ActivityKind; 3] = [
    ActivityKind::Meeting,
    ActivityKind::Decision,
    ActivityKind::Other,
];

impl ActivityKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActivityKind::Meeting => "meeting",
            ActivityKind::Decision => "decision",
            ActivityKind::Other => "other",
        }
    }
    pub fn parse(s: &str) -> Option<ActivityKind> {
        ACTIVITY_KINDS.into_iter().find(|o| o.as_str() == s.trim())
    }
    pub fn label(self) -> Text {
        match self {
            ActivityKind::Meeting => Text::new("召开会议", "meeting held"),
            ActivityKind::Decision => Text::new("作出决定", "decision taken"),
            ActivityKind::Other => Text::new("其他履职", "other activity"),
        }
    }
}

/// What started a re-election.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// The term is ending.
    TermEnd,
    /// Early: fewer than half the seats are filled.
    FewMembers,
    /// Early: no recorded activity for six months.
    Inactive,
    /// Another reason, given in the note.
    Other,
}

pub const TRIGGERS: [Trigger; 4] = [
    Trigger::TermEnd,
    Trigger::FewMembers,
    Trigger::Inactive,
    Trigger::Other,
];

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::TermEnd => "term_end",
            Trigger::FewMembers => "few_members",
            Trigger::Inactive => "inactive",
            Trigger::Other => "other",
        }
    }
    pub fn parse(s: &str) -> Option<Trigger> {
        TRIGGERS.into_iter().find(|o| o.as_str() == s.trim())
    }
    pub fn label(self) -> Text {
        match self {
            Trigger::TermEnd => Text::new("任期届满换届", "term ending"),
            Trigger::FewMembers => Text::new(
                "提前换届:成员不足半数",
                "early: fewer than half the members left",
            ),
            Trigger::Inactive => {
                Text::new("提前换届:连续六个月未履职", "early: six months inactive")
            }
            Trigger::Other => Text::new("其他原因", "other reason"),
        }
    }
}

/// Early trigger: fewer than half of the seats are filled (`filled / seats < 1/2`, exact).
pub fn few_members(seats: i64, filled: i64) -> bool {
    filled * 2 < seats
}

/// Early trigger: no recorded activity for six months — today is past the day six calendar
/// months after the last activity (that day itself is still within the six months).
pub fn inactive(last_activity: Date, today: Date) -> bool {
    today > add_months(last_activity, INACTIVE_MONTHS)
}

/// Whether staff may start a re-election for this reason now: an early trigger must hold.
pub fn check_trigger(
    t: Trigger,
    seats: i64,
    filled: i64,
    last_activity: Date,
    today: Date,
    note: &str,
) -> Result<(), Text> {
    match t {
        Trigger::TermEnd => Ok(()),
        Trigger::FewMembers if few_members(seats, filled) => Ok(()),
        Trigger::FewMembers => Err(Text::owned(
            format!("在任成员 {filled} 人,未少于应选 {seats} 人的半数,不能以此提前换届"),
            format!(
                "{filled} of {seats} seats are filled, not fewer than half: not an early trigger"
            ),
        )),
        Trigger::Inactive if inactive(last_activity, today) => Ok(()),
        Trigger::Inactive => Err(Text::owned(
            format!(
                "最近一次履职记录为 {},未满六个月",
                format_date(last_activity)
            ),
            format!(
                "the last recorded activity was on {}, less than six months ago",
                format_date(last_activity)
            ),
        )),
        Trigger::Other if note.trim().is_empty() => {
            Err(Text::new("请说明换届原因", "give the reason in the note"))
        }
        Trigger::Other => Ok(()),
    }
}

/// A step of the re-election, in the order they are done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// The renewal group (换届小组) is formed: within 60 days of the start.
    RenewalGroup,
    /// The candidates are confirmed and announced.
    Candidates,
    /// The owners elect the new committee (an owners' vote).
    Election,
    /// The old committee hands over its records and seal: within 10 days of the election.
    Handover,
    /// The new committee is filed with the subdistrict: within 30 days of the election.
    /// Recording it completes the re-election.
    Filing,
}

pub const STEPS: [Step; 5] = [
    Step::RenewalGroup,
    Step::Candidates,
    Step::Election,
    Step::Handover,
    Step::Filing,
];

impl Step {
    pub fn as_str(self) -> &'static str {
        match self {
            Step::RenewalGroup => "renewal_group",
            Step::Candidates => "candidates",
            Step::Election => "election",
            Step::Handover => "handover",
            Step::Filing => "filing",
        }
    }
    pub fn parse(s: &str) -> Option<Step> {
        STEPS.into_iter().find(|o| o.as_str() == s.trim())
    }
    pub fn label(self) -> Text {
        match self {
            Step::RenewalGroup => Text::new("成立换届小组", "renewal group formed"),
            Step::Candidates => Text::new("确定候选人", "candidates confirmed"),
            Step::Election => Text::new("业主大会选举", "election vote"),
            Step::Handover => Text::new("移交资料和印章", "records and seal handed over"),
            Step::Filing => Text::new("备案", "filing"),
        }
    }
    /// What the deadline says, for the timeline.
    pub fn rule(self) -> Text {
        match self {
            Step::RenewalGroup => Text::new("换届开始后 60 日内", "within 60 days of the start"),
            Step::Candidates | Step::Election => Text::new("无法定期限", "no set deadline"),
            Step::Handover => Text::new("选举后 10 日内", "within 10 days of the election"),
            Step::Filing => Text::new("选举后 30 日内", "within 30 days of the election"),
        }
    }
    fn index(self) -> usize {
        STEPS.iter().position(|s| *s == self).unwrap_or(0)
    }
}

/// A step's last allowed day, when known: the renewal group counts from the start, the
/// hand-over and the filing from the election's day (unknown until it is recorded).
pub fn due_on(step: Step, started_on: Date, election_on: Option<Date>) -> Option<Date> {
    match step {
        Step::RenewalGroup => Some(add_days(started_on, RENEWAL_GROUP_DAYS)),
        Step::Candidates | Step::Election => None,
        Step::Handover => election_on.map(|e| add_days(e, HANDOVER_DAYS)),
        Step::Filing => election_on.map(|e| add_days(e, FILING_DAYS)),
    }
}

/// The next step to record, given those done (in order); `None` when all are.
pub fn next_step(done: &[(Step, Date)]) -> Option<Step> {
    STEPS
        .into_iter()
        .find(|s| !done.iter().any(|(d, _)| d == s))
}

/// Whether `step` may be recorded as done on `on`: steps go in order, a step's day is not
/// before the start or the previous step's day, and not after today.
pub fn check_record(
    step: Step,
    on: Date,
    started_on: Date,
    done: &[(Step, Date)],
    today: Date,
) -> Result<(), Text> {
    if done.iter().any(|(d, _)| *d == step) {
        return Err(Text::new(
            "这一步已经登记过",
            "this step is already recorded",
        ));
    }
    match next_step(done) {
        Some(n) if n == step => {}
        Some(n) => {
            return Err(Text::owned(
                format!("请先完成“{}”", n.label().zh),
                format!("record “{}” first", n.label().en),
            ))
        }
        None => return Err(Text::new("换届各步骤已完成", "every step is done")),
    }
    if on > today {
        return Err(Text::new(
            "日期不能晚于今天",
            "the date cannot be after today",
        ));
    }
    let floor = done
        .iter()
        .filter(|(s, _)| s.index() < step.index())
        .map(|(_, d)| *d)
        .max()
        .unwrap_or(started_on)
        .max(started_on);
    if on < floor {
        return Err(Text::owned(
            format!(
                "日期不能早于 {}(换届开始或上一步的日期)",
                format_date(floor)
            ),
            format!(
                "the date cannot be before {} (the start or the previous step)",
                format_date(floor)
            ),
        ));
    }
    Ok(())
}

/// A step as the timeline shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepView {
    pub step: Step,
    pub due_on: Option<Date>,
    pub done_on: Option<Date>,
    /// Done after its deadline.
    pub late: bool,
    /// Not done and its deadline has passed.
    pub overdue: bool,
}

/// Every step with its deadline and state, in order.
pub fn timeline(started_on: Date, done: &[(Step, Date)], today: Date) -> Vec<StepView> {
    let election_on = done
        .iter()
        .find(|(s, _)| *s == Step::Election)
        .map(|(_, d)| *d);
    STEPS
        .into_iter()
        .map(|step| {
            let due = due_on(step, started_on, election_on);
            let done_on = done.iter().find(|(s, _)| *s == step).map(|(_, d)| *d);
            StepView {
                step,
                due_on: due,
                done_on,
                late: matches!((done_on, due), (Some(d), Some(u)) if d > u),
                overdue: done_on.is_none() && matches!(due, Some(u) if today > u),
            }
        })
        .collect()
}

/// What a committee looks like to the alerts.
#[derive(Debug, Clone)]
pub struct Facts {
    pub seats: i64,
    pub filled: i64,
    pub estate_area: i64,
    pub term_ends_on: Date,
    /// The latest recorded activity, else the term's start.
    pub last_activity: Date,
    /// The running re-election's timeline, if any.
    pub running: Option<Vec<StepView>>,
}

/// Something the subdistrict should act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Alert {
    /// The term ends within 5 months (from the alert day to the last day).
    TermEnding { ends_on: String, alert_on: String },
    /// The term has ended and no re-election runs.
    TermExpired { ends_on: String },
    /// The seats break the size rule (e.g. the estate grew past 10,000 m² with 3 seats).
    SizeRule { seats: i64 },
    /// Early trigger: fewer than half the seats filled.
    FewMembers { seats: i64, filled: i64 },
    /// Early trigger: six months without recorded activity.
    Inactive { since: String },
    /// A re-election step is past its deadline.
    StepOverdue { step: Step, due_on: String },
}

impl Alert {
    pub fn text(&self) -> Text {
        match self {
            Alert::TermEnding { ends_on, .. } => Text::owned(
                format!("任期将于 {ends_on} 届满,请告知街道并启动换届"),
                format!("the term ends on {ends_on}: tell the subdistrict and start the re-election"),
            ),
            Alert::TermExpired { ends_on } => Text::owned(
                format!("任期已于 {ends_on} 届满,尚未启动换届"),
                format!("the term ended on {ends_on} and no re-election has started"),
            ),
            Alert::SizeRule { seats } => Text::owned(
                format!("应选 {seats} 人,不符合人数规定(单数,至少 5 人;1 万平方米以下可为 3 人)"),
                format!("{seats} seats break the size rule (odd, at least 5; 3 allowed up to 10,000 m²)"),
            ),
            Alert::FewMembers { seats, filled } => Text::owned(
                format!("在任成员 {filled} 人,不足应选 {seats} 人的半数:应提前换届"),
                format!("{filled} of {seats} seats filled, fewer than half: an early re-election is due"),
            ),
            Alert::Inactive { since } => Text::owned(
                format!("自 {since} 起连续六个月无履职记录:应提前换届"),
                format!("no recorded activity since {since} for six months: an early re-election is due"),
            ),
            Alert::StepOverdue { step, due_on } => Text::owned(
                format!("“{}”已超过期限 {due_on}", step.label().zh),
                format!("“{}” is past its deadline of {due_on}", step.label().en),
            ),
        }
    }
}

/// The alerts of one committee today. Term and early-trigger alerts stop once a re-election
/// runs; then its overdue steps are shown instead.
pub fn alerts(f: &Facts, rule: &SizeRule, today: Date) -> Vec<Alert> {
    let mut out = Vec::new();
    if rule.check(f.seats, f.estate_area).is_err() {
        out.push(Alert::SizeRule { seats: f.seats });
    }
    match &f.running {
        Some(steps) => {
            for s in steps.iter().filter(|s| s.overdue) {
                if let Some(d) = s.due_on {
                    out.push(Alert::StepOverdue {
                        step: s.step,
                        due_on: format_date(d),
                    });
                }
            }
        }
        None => {
            let alert = alert_on(f.term_ends_on);
            if today > f.term_ends_on {
                out.push(Alert::TermExpired {
                    ends_on: format_date(f.term_ends_on),
                });
            } else if today >= alert {
                out.push(Alert::TermEnding {
                    ends_on: format_date(f.term_ends_on),
                    alert_on: format_date(alert),
                });
            }
            if few_members(f.seats, f.filled) {
                out.push(Alert::FewMembers {
                    seats: f.seats,
                    filled: f.filled,
                });
            }
            if inactive(f.last_activity, today) {
                out.push(Alert::Inactive {
                    since: format_date(f.last_activity),
                });
            }
        }
    }
    out
}

/// Who may read a committee: staff and observers reaching its estate, and its own members.
pub fn may_read(staff: bool, observer: bool, member: bool) -> bool {
    staff || observer || member
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        parse_date(s).unwrap()
    }

    #[test]
    fn size_rule_is_odd_and_at_least_five_or_three_for_small_estates() {
        let r = SIZE_RULE;
        let big = 1_000_001;
        let small = 1_000_000;
        for seats in [5, 7, 9, 11, 21] {
            assert!(r.check(seats, big).is_ok(), "{seats}");
            assert!(r.check(seats, small).is_ok(), "{seats}");
        }
        for seats in [0, 1, 2, 3, 4, 6, 8] {
            assert!(r.check(seats, big).is_err(), "{seats}");
        }
        // 10,000.00 m² exactly is still small; one hundredth more is not.
        assert!(r.check(3, small).is_ok());
        assert!(r.check(3, 0).is_ok());
        assert!(r.check(3, big).is_err());
        for seats in [0, 1, 2, 4, 6] {
            assert!(r.check(seats, small).is_err(), "{seats}");
        }
        assert_eq!(r.min_for(small), 3);
        assert_eq!(r.min_for(big), 5);
        assert!(r.check(4, big).unwrap_err().en.contains("at least 5"));
        assert!(r.check(6, big).unwrap_err().en.contains("odd"));
    }

    #[test]
    fn terms_are_three_to_five_years() {
        for y in [3, 4, 5] {
            assert!(check_term_years(y).is_ok());
        }
        for y in [-1, 0, 1, 2, 6, 10] {
            assert!(check_term_years(y).is_err());
        }
    }

    #[test]
    fn months_clamp_to_the_month_end() {
        assert_eq!(add_months(d("2026-08-31"), 6), d("2027-02-28"));
        assert_eq!(add_months(d("2027-08-31"), 6), d("2028-02-29"));
        assert_eq!(add_months(d("2026-01-31"), 1), d("2026-02-28"));
        assert_eq!(add_months(d("2026-03-31"), -1), d("2026-02-28"));
        assert_eq!(add_months(d("2026-01-15"), -1), d("2025-12-15"));
        assert_eq!(add_months(d("2026-12-15"), 1), d("2027-01-15"));
        assert_eq!(add_months(d("2026-05-20"), 0), d("2026-05-20"));
        assert_eq!(add_months(d("2026-05-20"), -17), d("2024-12-20"));
    }

    #[test]
    fn a_term_ends_on_the_corresponding_day() {
        assert_eq!(term_end(d("2026-03-01"), 5), d("2031-03-01"));
        assert_eq!(term_end(d("2026-12-31"), 3), d("2029-12-31"));
        // No 29 February in 2031: the month's last day.
        assert_eq!(term_end(d("2028-02-29"), 3), d("2031-02-28"));
        assert_eq!(term_end(d("2028-02-29"), 4), d("2032-02-29"));
    }

    #[test]
    fn the_alert_is_five_calendar_months_before_the_end() {
        assert_eq!(alert_on(d("2031-03-01")), d("2030-10-01"));
        assert_eq!(alert_on(d("2031-07-31")), d("2031-02-28"));
        assert_eq!(alert_on(d("2032-07-31")), d("2032-02-29"));
        assert_eq!(alert_on(d("2031-05-15")), d("2030-12-15"));
        assert_eq!(alert_on(d("2031-01-31")), d("2030-08-31"));
    }

    #[test]
    fn fewer_than_half_is_exact() {
        assert!(few_members(5, 2));
        assert!(!few_members(5, 3));
        assert!(few_members(7, 3));
        assert!(!few_members(7, 4));
        assert!(few_members(3, 1));
        assert!(!few_members(3, 2));
        assert!(!few_members(6, 3), "exactly half is not fewer than half");
        assert!(few_members(6, 2));
        assert!(few_members(5, 0));
    }

    #[test]
    fn six_months_inactive_starts_the_day_after() {
        let last = d("2026-01-15");
        assert!(!inactive(last, d("2026-07-14")));
        assert!(
            !inactive(last, d("2026-07-15")),
            "the sixth month's corresponding day"
        );
        assert!(inactive(last, d("2026-07-16")));
        let last = d("2026-08-31");
        assert!(!inactive(last, d("2027-02-28")));
        assert!(inactive(last, d("2027-03-01")));
    }

    #[test]
    fn early_triggers_must_hold() {
        let t = d("2026-12-01");
        let recent = d("2026-11-01");
        let old = d("2026-05-31");
        assert!(check_trigger(Trigger::TermEnd, 5, 5, recent, t, "").is_ok());
        assert!(check_trigger(Trigger::FewMembers, 5, 2, recent, t, "").is_ok());
        assert!(check_trigger(Trigger::FewMembers, 5, 3, recent, t, "").is_err());
        assert!(check_trigger(Trigger::Inactive, 5, 5, old, t, "").is_ok());
        assert!(check_trigger(Trigger::Inactive, 5, 5, d("2026-06-01"), t, "").is_err());
        assert!(check_trigger(Trigger::Other, 5, 5, recent, t, " ").is_err());
        assert!(check_trigger(Trigger::Other, 5, 5, recent, t, "业主大会决定").is_ok());
    }

    #[test]
    fn codes_round_trip() {
        for s in STEPS {
            assert_eq!(Step::parse(s.as_str()), Some(s));
        }
        for o in OFFICES {
            assert_eq!(Office::parse(o.as_str()), Some(o));
        }
        for r in END_REASONS {
            assert_eq!(EndReason::parse(r.as_str()), Some(r));
        }
        for k in ACTIVITY_KINDS {
            assert_eq!(ActivityKind::parse(k.as_str()), Some(k));
        }
        for t in TRIGGERS {
            assert_eq!(Trigger::parse(t.as_str()), Some(t));
        }
        assert_eq!(Step::parse("vote"), None);
        assert_eq!(Office::parse("boss"), None);
    }

    #[test]
    fn deadlines_count_calendar_days_from_the_start_and_the_election() {
        let start = d("2026-01-01");
        assert_eq!(
            due_on(Step::RenewalGroup, start, None),
            Some(d("2026-03-02"))
        );
        assert_eq!(due_on(Step::Candidates, start, None), None);
        assert_eq!(due_on(Step::Election, start, None), None);
        assert_eq!(due_on(Step::Handover, start, None), None);
        assert_eq!(due_on(Step::Filing, start, None), None);
        let e = Some(d("2026-05-25"));
        assert_eq!(due_on(Step::Handover, start, e), Some(d("2026-06-04")));
        assert_eq!(due_on(Step::Filing, start, e), Some(d("2026-06-24")));
    }

    #[test]
    fn steps_go_in_order_and_not_backwards_in_time() {
        let start = d("2026-01-01");
        let today = d("2026-06-30");
        let mut done: Vec<(Step, Date)> = Vec::new();
        assert_eq!(next_step(&done), Some(Step::RenewalGroup));
        assert!(check_record(Step::Candidates, d("2026-02-01"), start, &done, today).is_err());
        assert!(check_record(Step::RenewalGroup, d("2025-12-31"), start, &done, today).is_err());
        assert!(check_record(Step::RenewalGroup, d("2026-07-01"), start, &done, today).is_err());
        assert!(check_record(Step::RenewalGroup, start, start, &done, today).is_ok());
        done.push((Step::RenewalGroup, d("2026-02-01")));
        assert!(check_record(Step::RenewalGroup, d("2026-02-02"), start, &done, today).is_err());
        assert!(check_record(Step::Candidates, d("2026-01-31"), start, &done, today).is_err());
        assert!(check_record(Step::Candidates, d("2026-02-01"), start, &done, today).is_ok());
        done.push((Step::Candidates, d("2026-03-01")));
        done.push((Step::Election, d("2026-05-25")));
        assert_eq!(next_step(&done), Some(Step::Handover));
        assert!(check_record(Step::Filing, d("2026-06-01"), start, &done, today).is_err());
        assert!(check_record(Step::Handover, d("2026-05-24"), start, &done, today).is_err());
        done.push((Step::Handover, d("2026-06-01")));
        done.push((Step::Filing, d("2026-06-10")));
        assert_eq!(next_step(&done), None);
        assert!(check_record(Step::Filing, d("2026-06-11"), start, &done, today).is_err());
    }

    #[test]
    fn the_timeline_marks_late_and_overdue_steps_at_the_boundary() {
        let start = d("2026-01-01");
        // Day 60 is the last day: not overdue on it, overdue the day after.
        let t = timeline(start, &[], d("2026-03-02"));
        assert!(!t[0].overdue);
        let t = timeline(start, &[], d("2026-03-03"));
        assert!(t[0].overdue && !t[0].late);
        assert!(t[1..].iter().all(|s| !s.overdue), "no deadline yet");
        // Done on the last day is on time; a day later is late.
        let t = timeline(
            start,
            &[(Step::RenewalGroup, d("2026-03-02"))],
            d("2026-12-01"),
        );
        assert!(!t[0].late && !t[0].overdue);
        let t = timeline(
            start,
            &[(Step::RenewalGroup, d("2026-03-03"))],
            d("2026-12-01"),
        );
        assert!(t[0].late && !t[0].overdue);
        let done = [
            (Step::RenewalGroup, d("2026-02-01")),
            (Step::Candidates, d("2026-03-01")),
            (Step::Election, d("2026-05-25")),
        ];
        let t = timeline(start, &done, d("2026-06-04"));
        assert_eq!(t[3].due_on, Some(d("2026-06-04")));
        assert!(!t[3].overdue && !t[4].overdue);
        let t = timeline(start, &done, d("2026-06-05"));
        assert!(t[3].overdue && !t[4].overdue);
        let t = timeline(start, &done, d("2026-06-25"));
        assert!(t[3].overdue && t[4].overdue);
    }

    fn facts(today_end: &str) -> Facts {
        Facts {
            seats: 5,
            filled: 5,
            estate_area: 2_000_000,
            term_ends_on: d(today_end),
            last_activity: d("2026-11-01"),
            running: None,
        }
    }

    #[test]
    fn term_alerts_start_five_months_before_the_end() {
        let f = facts("2027-05-01");
        assert!(alerts(&f, &SIZE_RULE, d("2026-11-30")).is_empty());
        let a = alerts(&f, &SIZE_RULE, d("2026-12-01"));
        assert_eq!(
            a,
            vec![Alert::TermEnding {
                ends_on: "2027-05-01".into(),
                alert_on: "2026-12-01".into()
            }]
        );
        let f = Facts {
            last_activity: d("2027-04-01"),
            ..facts("2027-05-01")
        };
        assert!(matches!(
            alerts(&f, &SIZE_RULE, d("2027-05-01"))[..],
            [Alert::TermEnding { .. }]
        ));
        assert!(matches!(
            alerts(&f, &SIZE_RULE, d("2027-05-02"))[..],
            [Alert::TermExpired { .. }]
        ));
    }

    #[test]
    fn a_running_reelection_replaces_term_and_trigger_alerts_with_overdue_steps() {
        let mut f = Facts {
            filled: 1,
            last_activity: d("2025-01-01"),
            ..facts("2026-12-31")
        };
        let today = d("2026-12-01");
        let a = alerts(&f, &SIZE_RULE, today);
        assert_eq!(a.len(), 3, "{a:?}");
        assert!(a.contains(&Alert::FewMembers {
            seats: 5,
            filled: 1
        }));
        assert!(a.contains(&Alert::Inactive {
            since: "2025-01-01".into()
        }));
        f.running = Some(timeline(d("2026-09-01"), &[], today));
        let a = alerts(&f, &SIZE_RULE, today);
        assert_eq!(
            a,
            vec![Alert::StepOverdue {
                step: Step::RenewalGroup,
                due_on: "2026-10-31".into()
            }]
        );
        f.running = Some(timeline(d("2026-10-02"), &[], today));
        assert!(alerts(&f, &SIZE_RULE, today).is_empty());
    }

    #[test]
    fn size_breaches_alert_whatever_runs() {
        let f = Facts {
            seats: 3,
            filled: 3,
            estate_area: 1_000_001,
            ..facts("2030-01-01")
        };
        let a = alerts(&f, &SIZE_RULE, d("2026-12-01"));
        assert_eq!(a, vec![Alert::SizeRule { seats: 3 }]);
        assert!(!a[0].text().zh.is_empty());
    }

    #[test]
    fn members_read_their_own_committee() {
        assert!(may_read(true, false, false));
        assert!(may_read(false, true, false));
        assert!(may_read(false, false, true));
        assert!(!may_read(false, false, false));
    }

    proptest::proptest! {
        #[test]
        fn add_months_lands_in_the_target_month_and_clamps(
            y in 1990i32..2100, m in 1u8..=12, dd in 1u8..=31, k in -120i64..120,
        ) {
            let month = Month::try_from(m).unwrap();
            let start = Date::from_calendar_date(y, month, dd.min(month.length(y))).unwrap();
            let r = add_months(start, k);
            let index = |x: Date| i64::from(x.year()) * 12 + i64::from(u8::from(x.month()));
            proptest::prop_assert_eq!(index(r) - index(start), k);
            proptest::prop_assert_eq!(r.day(), start.day().min(r.month().length(r.year())));
        }

        #[test]
        fn a_step_is_overdue_only_past_its_deadline_and_undone(
            offset in 0i64..400, done_at in proptest::option::of(0i64..400),
        ) {
            let start = d("2026-01-01");
            let today = add_days(start, offset);
            let done: Vec<(Step, Date)> = done_at
                .map(|x| (Step::RenewalGroup, add_days(start, x)))
                .into_iter()
                .collect();
            let v = timeline(start, &done, today)[0];
            proptest::prop_assert_eq!(v.overdue, done_at.is_none() && offset > RENEWAL_GROUP_DAYS);
            proptest::prop_assert_eq!(v.late, done_at.is_some_and(|x| x > RENEWAL_GROUP_DAYS));
        }
    }

    #[test]
    fn dates_round_trip() {
        assert_eq!(format_date(d("2026-02-03")), "2026-02-03");
        assert_eq!(parse_date("2026-02-30"), None);
        assert_eq!(parse_date("nonsense"), None);
    }
}
