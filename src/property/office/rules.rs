//! The joint office's pure rules: the three parties, the weekly slots, which sessions a period
//! has (holidays skipped by the working-day calendar when the office says so), when a check-in
//! counts and whether it is late or a check-out early, who checks in for which party, and the
//! monthly report's arithmetic in exact integers. No I/O, no clock: time comes in as arguments.

use serde::{Deserialize, Serialize};
use time::{Date, Duration, Month, PrimitiveDateTime};

use crate::access::{Grant, Role};
use crate::cases::calendar::{Calendar, DayKind};
use crate::deliberation::cadence::{local_to_ms, DayOfWeek, LocalTime};
use crate::error::FieldError;
use crate::i18n::Text;
use crate::tree::model::within;

/// A required or optional text of at most `max` characters, as a field error.
pub fn check_text(field: &str, s: &str, max: usize, required: bool, errors: &mut Vec<FieldError>) {
    let t = s.trim();
    if required && t.is_empty() {
        errors.push(FieldError::new(
            field,
            Text::new("此项必填", "this is required"),
        ));
    } else if t.chars().count() > max {
        errors.push(FieldError::new(
            field,
            Text::owned(
                format!("最多 {max} 个字"),
                format!("at most {max} characters"),
            ),
        ));
    }
}

/// Most weekly slots one office may have.
pub const MAX_SLOTS: usize = 14;
/// Most minutes of check-in tolerance.
pub const MAX_TOLERANCE_MINUTES: i64 = 120;

/// The troika: the three parties that sit in the joint office.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Party {
    ResidentsCommittee,
    OwnersCommittee,
    PropertyCompany,
}

pub const PARTIES: [Party; 3] = [
    Party::ResidentsCommittee,
    Party::OwnersCommittee,
    Party::PropertyCompany,
];

impl Party {
    pub fn code(self) -> &'static str {
        match self {
            Party::ResidentsCommittee => "residents_committee",
            Party::OwnersCommittee => "owners_committee",
            Party::PropertyCompany => "property_company",
        }
    }

    pub fn parse(s: &str) -> Option<Party> {
        PARTIES.into_iter().find(|p| p.code() == s.trim())
    }

    pub fn label(self) -> Text {
        match self {
            Party::ResidentsCommittee => Text::new("居委会", "residents' committee"),
            Party::OwnersCommittee => Text::new("业委会", "owners' committee"),
            Party::PropertyCompany => Text::new("物业公司", "property company"),
        }
    }

    /// The `orgs.kind` an office's party must be.
    pub fn org_kind(self) -> &'static str {
        self.code()
    }

    /// The role whose holders check in for this party.
    pub fn role(self) -> Role {
        match self {
            Party::ResidentsCommittee => Role::CommunityStaff,
            Party::OwnersCommittee => Role::OwnersCommitteeMember,
            Party::PropertyCompany => Role::PropertyStaff,
        }
    }
}

/// Whether a grant lets its holder check in for `party` at an office on `office_path` whose
/// party organisation is `org_id`: the party's role, granted for that organisation, or at a
/// place on the office's line (reaching the office, or inside its estate).
pub fn checks_in_for(grant: &Grant, party: Party, office_path: &str, org_id: Option<i64>) -> bool {
    if grant.role != party.role() {
        return false;
    }
    if let (Some(g), Some(o)) = (grant.org_id, org_id) {
        if g == o {
            return true;
        }
        // A grant for another organisation of the same kind never speaks for this one.
        return false;
    }
    !grant.path.is_empty() && (within(office_path, &grant.path) || within(&grant.path, office_path))
}

/// One fixed weekly sitting: a weekday and its hours (Asia/Shanghai).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Slot {
    pub weekday: DayOfWeek,
    pub start: LocalTime,
    pub end: LocalTime,
}

fn minutes(t: LocalTime) -> i64 {
    i64::from(t.hour()) * 60 + i64::from(t.minute())
}

impl Slot {
    pub fn start_min(&self) -> i64 {
        minutes(self.start)
    }
    pub fn end_min(&self) -> i64 {
        minutes(self.end)
    }
    pub fn describe(&self) -> Text {
        let l = self.weekday.label();
        Text::owned(
            format!("{} {}–{}", l.zh, self.start, self.end),
            format!("{} {}–{}", l.en, self.start, self.end),
        )
    }
}

/// Checks a list of slots: each ends after it starts, none overlaps another on its weekday,
/// at most [`MAX_SLOTS`]. Errors are on the field `slots`.
pub fn check_slots(slots: &[Slot]) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if slots.len() > MAX_SLOTS {
        errors.push(FieldError::new(
            "slots",
            Text::owned(
                format!("每周最多 {MAX_SLOTS} 个时段"),
                format!("at most {MAX_SLOTS} weekly slots"),
            ),
        ));
    }
    for (i, s) in slots.iter().enumerate() {
        if s.end_min() <= s.start_min() {
            errors.push(FieldError::new(
                "slots",
                Text::owned(
                    format!("{}:结束时间须晚于开始时间", s.describe().zh),
                    format!("{}: the end must be after the start", s.describe().en),
                ),
            ));
            continue;
        }
        let overlaps = slots[..i].iter().any(|o| {
            o.weekday == s.weekday && o.start_min() < s.end_min() && s.start_min() < o.end_min()
        });
        if overlaps {
            errors.push(FieldError::new(
                "slots",
                Text::owned(
                    format!("{}与同一天的另一时段重叠", s.describe().zh),
                    format!("{} overlaps another slot that day", s.describe().en),
                ),
            ));
        }
    }
    errors
}

/// Reads slots typed one a line as `周二 09:00-11:30` / `tuesday 9:00-11:30` (also `二`,
/// `tue`, full-width colons and dashes `–`, `~`, `至`).
pub fn parse_slots(text: &str) -> Result<Vec<Slot>, FieldError> {
    let mut out = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        let bad = || {
            FieldError::new(
                "slots",
                Text::owned(
                    format!("第 {} 行“{line}”看不懂(格式:周二 09:00-11:30)", n + 1),
                    format!(
                        "line {}: `{line}` is not a slot (format: tuesday 09:00-11:30)",
                        n + 1
                    ),
                ),
            )
        };
        let (day, hours) = line.split_once(char::is_whitespace).ok_or_else(bad)?;
        let weekday = parse_weekday(day).ok_or_else(bad)?;
        let hours = hours.trim().replace(['–', '—', '~', '～', '至'], "-");
        let (a, b) = hours.split_once('-').ok_or_else(bad)?;
        let start = LocalTime::parse(a).map_err(|_| bad())?;
        let end = LocalTime::parse(b).map_err(|_| bad())?;
        out.push(Slot {
            weekday,
            start,
            end,
        });
    }
    Ok(out)
}

/// Slots as the form shows them, one a line.
pub fn render_slots(slots: &[Slot]) -> String {
    slots
        .iter()
        .map(|s| format!("{} {}-{}", weekday_code(s.weekday), s.start, s.end))
        .collect::<Vec<_>>()
        .join("\n")
}

fn weekday_code(d: DayOfWeek) -> &'static str {
    match d {
        DayOfWeek::Monday => "monday",
        DayOfWeek::Tuesday => "tuesday",
        DayOfWeek::Wednesday => "wednesday",
        DayOfWeek::Thursday => "thursday",
        DayOfWeek::Friday => "friday",
        DayOfWeek::Saturday => "saturday",
        DayOfWeek::Sunday => "sunday",
    }
}

fn parse_weekday(s: &str) -> Option<DayOfWeek> {
    let s = s.trim().to_lowercase();
    let s = s
        .trim_start_matches("星期")
        .trim_start_matches("周")
        .to_string();
    let all = [
        (DayOfWeek::Monday, ["monday", "mon", "一", "1"]),
        (DayOfWeek::Tuesday, ["tuesday", "tue", "二", "2"]),
        (DayOfWeek::Wednesday, ["wednesday", "wed", "三", "3"]),
        (DayOfWeek::Thursday, ["thursday", "thu", "四", "4"]),
        (DayOfWeek::Friday, ["friday", "fri", "五", "5"]),
        (DayOfWeek::Saturday, ["saturday", "sat", "六", "6"]),
        (DayOfWeek::Sunday, ["sunday", "sun", "日", "7"]),
    ];
    all.into_iter()
        .find(|(_, names)| names.contains(&s.as_str()) || (s == "天" && names[0] == "sunday"))
        .map(|(d, _)| d)
}

/// One sitting of the office: a day and the slot's hours. Ordered by day, then start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Sitting {
    #[serde(with = "day_text")]
    pub day: Date,
    pub start_min: i64,
    pub end_min: i64,
}

mod day_text {
    use time::Date;
    pub fn serialize<S: serde::Serializer>(d: &Date, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format_day(*d))
    }
}

fn at_minutes(day: Date, m: i64) -> i64 {
    local_to_ms(PrimitiveDateTime::new(day, time::Time::MIDNIGHT)) + m * 60_000
}

impl Sitting {
    pub fn start_ms(&self) -> i64 {
        at_minutes(self.day, self.start_min)
    }
    pub fn end_ms(&self) -> i64 {
        at_minutes(self.day, self.end_min)
    }
    /// `2026-11-03 09:00–11:30`.
    pub fn label(&self) -> String {
        format!(
            "{} {:02}:{:02}–{:02}:{:02}",
            format_day(self.day),
            self.start_min / 60,
            self.start_min % 60,
            self.end_min / 60,
            self.end_min % 60
        )
    }
}

/// `YYYY-MM-DD`.
pub fn format_day(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// Reads `YYYY-MM-DD`.
pub fn parse_day(s: &str) -> Option<Date> {
    let s = s.trim();
    let mut it = s.split('-');
    let (y, m, d) = (it.next()?, it.next()?, it.next()?);
    if it.next().is_some() || y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let month = Month::try_from(m.parse::<u8>().ok()?).ok()?;
    Date::from_calendar_date(y.parse().ok()?, month, d.parse().ok()?).ok()
}

/// Whether the office sits on `day` at all: skipped when `skip_holidays` and the calendar
/// marks the day a holiday (a plain weekend is not a holiday: a Saturday slot sits).
pub fn sits_on(day: Date, calendar: &Calendar, skip_holidays: bool) -> bool {
    !(skip_holidays && matches!(calendar.entry(day), Some((DayKind::Holiday, _))))
}

/// The sittings from `from` to `to` (both included), in order.
pub fn sittings(
    slots: &[Slot],
    calendar: &Calendar,
    skip_holidays: bool,
    from: Date,
    to: Date,
) -> Vec<Sitting> {
    let mut out = Vec::new();
    let mut day = from;
    while day <= to {
        if sits_on(day, calendar, skip_holidays) {
            for s in slots.iter().filter(|s| s.weekday == DayOfWeek::of(day)) {
                out.push(Sitting {
                    day,
                    start_min: s.start_min(),
                    end_min: s.end_min(),
                });
            }
        }
        match day.checked_add(Duration::days(1)) {
            Some(d) => day = d,
            None => break,
        }
    }
    out.sort();
    out.dedup();
    out
}

/// A month `YYYY-MM`: its first and last day.
pub fn parse_month(s: &str) -> Option<(Date, Date)> {
    let (y, m) = s.trim().split_once('-')?;
    if y.len() != 4 || m.len() != 2 {
        return None;
    }
    let year: i32 = y.parse().ok()?;
    let month = Month::try_from(m.parse::<u8>().ok()?).ok()?;
    let first = Date::from_calendar_date(year, month, 1).ok()?;
    let last = Date::from_calendar_date(year, month, month.length(year)).ok()?;
    Some((first, last))
}

/// The Monday of the week holding `d`.
pub fn week_start(d: Date) -> Date {
    d - Duration::days(i64::from(d.weekday().number_days_from_monday()))
}

/// How a check-in at `at` stands against a sitting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timing {
    /// Counted; `late_minutes` past the start plus the tolerance (0 when on time).
    Counted { late_minutes: i64 },
    /// Before the start minus the tolerance: not yet open.
    TooEarly,
    /// After the end plus the tolerance: the sitting is over.
    Over,
}

/// A check-in counts when it falls within the sitting's window widened by the tolerance on
/// both sides; past the start plus the tolerance it is late (by whole minutes, rounded up).
pub fn check_in_timing(start_ms: i64, end_ms: i64, tolerance_minutes: i64, at: i64) -> Timing {
    let tol = tolerance_minutes * 60_000;
    if at < start_ms - tol {
        return Timing::TooEarly;
    }
    if at > end_ms + tol {
        return Timing::Over;
    }
    let past = at - (start_ms + tol);
    let late_minutes = if past > 0 {
        (past + 59_999) / 60_000
    } else {
        0
    };
    Timing::Counted { late_minutes }
}

/// A check-out before the end minus the tolerance is leaving early.
pub fn leaves_early(end_ms: i64, tolerance_minutes: i64, at: i64) -> bool {
    at < end_ms - tolerance_minutes * 60_000
}

/// An exact fraction, shown as `3/4` and as a per-mille rounded half up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Ratio {
    pub num: i64,
    pub den: i64,
}

impl Ratio {
    /// Parts per thousand, rounded half up; `None` for an empty denominator.
    pub fn per_mille(self) -> Option<i64> {
        (self.den > 0).then(|| (self.num * 2000 + self.den) / (self.den * 2))
    }

    /// `75.0%`, or `—` with nothing to count.
    pub fn percent(self) -> String {
        match self.per_mille() {
            None => "—".into(),
            Some(p) => format!("{}.{}%", p / 10, p % 10),
        }
    }

    /// `3/4`.
    pub fn fraction(self) -> String {
        format!("{}/{}", self.num, self.den)
    }
}

/// One stored check-in as the report counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckInFact {
    pub sitting: Sitting,
    pub party: Party,
    pub late: bool,
    pub left_early: bool,
}

/// One matter as the report counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MatterFact {
    pub party: Party,
    /// `open`, `case` or `done`.
    pub status: &'static str,
}

/// One party's line of the monthly report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartyLine {
    pub party: Party,
    /// Sittings attended of the sittings due.
    pub attendance: Ratio,
    pub late: i64,
    pub left_early: i64,
    pub matters_taken: i64,
    pub matters_open: i64,
    pub matters_case: i64,
    pub matters_done: i64,
}

/// The monthly report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The sittings due so far in the month (started by `now`), plus any held outside the
    /// current slots (a slot changed mid-month).
    pub sittings_due: i64,
    /// Sittings at which all the office's parties checked in.
    pub full_attendance: Ratio,
    pub parties: Vec<PartyLine>,
    pub visitors: i64,
    pub matters: i64,
    pub matters_case: i64,
    pub matters_done: i64,
    /// Matters settled there or raised as cases, of all raised.
    pub handled: Ratio,
}

/// The monthly report: `planned` the month's sittings by the current slots, `held` the
/// sittings stored for the month, `now` the instant that decides which are due.
pub fn report(
    parties: &[Party],
    planned: &[Sitting],
    held: &[Sitting],
    checkins: &[CheckInFact],
    visitors: i64,
    matters: &[MatterFact],
    now: i64,
) -> Report {
    let mut due: Vec<Sitting> = planned
        .iter()
        .filter(|s| s.start_ms() <= now)
        .chain(held.iter())
        .copied()
        .collect();
    due.sort();
    due.dedup();
    let n = i64::try_from(due.len()).unwrap_or(i64::MAX);
    let counted: Vec<&CheckInFact> = checkins
        .iter()
        .filter(|c| due.binary_search(&c.sitting).is_ok())
        .collect();
    let count = |f: &dyn Fn(&CheckInFact) -> bool| {
        i64::try_from(counted.iter().filter(|c| f(c)).count()).unwrap_or(0)
    };
    let lines = parties
        .iter()
        .map(|&p| {
            let mine = |s: &'static str| {
                i64::try_from(
                    matters
                        .iter()
                        .filter(|m| m.party == p && m.status == s)
                        .count(),
                )
                .unwrap_or(0)
            };
            let (o, c, d) = (mine("open"), mine("case"), mine("done"));
            PartyLine {
                party: p,
                attendance: Ratio {
                    num: count(&|c| c.party == p),
                    den: n,
                },
                late: count(&|c| c.party == p && c.late),
                left_early: count(&|c| c.party == p && c.left_early),
                matters_taken: o + c + d,
                matters_open: o,
                matters_case: c,
                matters_done: d,
            }
        })
        .collect();
    let full = due
        .iter()
        .filter(|s| {
            !parties.is_empty()
                && parties
                    .iter()
                    .all(|p| counted.iter().any(|c| c.sitting == **s && c.party == *p))
        })
        .count();
    let by_status =
        |s: &str| i64::try_from(matters.iter().filter(|m| m.status == s).count()).unwrap_or(0);
    let total = i64::try_from(matters.len()).unwrap_or(0);
    Report {
        sittings_due: n,
        full_attendance: Ratio {
            num: i64::try_from(full).unwrap_or(0),
            den: n,
        },
        parties: lines,
        visitors,
        matters: total,
        matters_case: by_status("case"),
        matters_done: by_status("done"),
        handled: Ratio {
            num: by_status("case") + by_status("done"),
            den: total,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn slot(d: DayOfWeek, a: &str, b: &str) -> Slot {
        Slot {
            weekday: d,
            start: LocalTime::parse(a).unwrap(),
            end: LocalTime::parse(b).unwrap(),
        }
    }

    fn cal() -> Calendar {
        Calendar::shipped()
    }

    #[test]
    fn slots_parse_in_both_languages_and_round_trip() {
        let s =
            parse_slots("周二 09:00-11:30\n\nthursday 14:00–16:00\n星期六 9：00~10：00").unwrap();
        assert_eq!(
            s,
            vec![
                slot(DayOfWeek::Tuesday, "09:00", "11:30"),
                slot(DayOfWeek::Thursday, "14:00", "16:00"),
                slot(DayOfWeek::Saturday, "09:00", "10:00"),
            ]
        );
        assert_eq!(parse_slots(&render_slots(&s)).unwrap(), s);
        assert!(parse_slots("someday 9:00-10:00").is_err());
        assert!(parse_slots("周二 9:00").is_err());
        assert!(parse_slots("周二 25:00-26:00").is_err());
        assert_eq!(parse_slots("").unwrap(), vec![]);
    }

    #[test]
    fn slots_must_end_after_start_and_not_overlap() {
        assert!(check_slots(&[slot(DayOfWeek::Monday, "09:00", "11:00")]).is_empty());
        assert_eq!(
            check_slots(&[slot(DayOfWeek::Monday, "11:00", "11:00")]).len(),
            1
        );
        let overlap = [
            slot(DayOfWeek::Monday, "09:00", "11:00"),
            slot(DayOfWeek::Monday, "10:59", "12:00"),
        ];
        assert_eq!(check_slots(&overlap).len(), 1);
        // Back to back is fine, and the same hours on another day too.
        let ok = [
            slot(DayOfWeek::Monday, "09:00", "11:00"),
            slot(DayOfWeek::Monday, "11:00", "12:00"),
            slot(DayOfWeek::Tuesday, "09:00", "11:00"),
        ];
        assert!(check_slots(&ok).is_empty());
        let many = vec![slot(DayOfWeek::Monday, "09:00", "09:01"); MAX_SLOTS + 1];
        assert!(!check_slots(&many).is_empty());
    }

    #[test]
    fn sittings_skip_holidays_only_when_configured() {
        // October 2026: Oct 1–7 are holidays; Tuesdays are the 6th, 13th, 20th, 27th.
        let slots = [slot(DayOfWeek::Tuesday, "09:00", "11:30")];
        let (from, to) = parse_month("2026-10").unwrap();
        let skip = sittings(&slots, &cal(), true, from, to);
        assert_eq!(
            skip.iter().map(|s| s.day.day()).collect::<Vec<_>>(),
            vec![13, 20, 27]
        );
        let keep = sittings(&slots, &cal(), false, from, to);
        assert_eq!(keep.len(), 4);
        // A Saturday slot sits on a plain Saturday (not a holiday) and on a make-up day.
        let sat = [slot(DayOfWeek::Saturday, "09:00", "10:00")];
        let oct = sittings(&sat, &cal(), true, from, to);
        assert_eq!(
            oct.iter().map(|s| s.day.day()).collect::<Vec<_>>(),
            vec![10, 17, 24, 31]
        );
    }

    #[test]
    fn sittings_are_ordered_and_unique() {
        let slots = [
            slot(DayOfWeek::Thursday, "14:00", "16:00"),
            slot(DayOfWeek::Tuesday, "09:00", "11:00"),
            slot(DayOfWeek::Tuesday, "09:00", "11:00"),
        ];
        let s = sittings(
            &slots,
            &cal(),
            true,
            date!(2026 - 11 - 02),
            date!(2026 - 11 - 08),
        );
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].day, date!(2026 - 11 - 03));
        assert_eq!(s[1].day, date!(2026 - 11 - 05));
        assert_eq!(s[0].label(), "2026-11-03 09:00–11:00");
        assert!(s[0].start_ms() < s[0].end_ms());
        assert_eq!(s[0].end_ms() - s[0].start_ms(), 2 * 3_600_000);
    }

    #[test]
    fn sitting_times_are_shanghai_wall_clock() {
        let s = Sitting {
            day: date!(2026 - 11 - 03),
            start_min: 9 * 60,
            end_min: 11 * 60,
        };
        // 2026-11-03 09:00 +08:00 = 01:00 UTC.
        assert_eq!(s.start_ms(), 1_793_667_600_000);
    }

    #[test]
    fn months_and_days_parse() {
        assert_eq!(
            parse_month("2026-02"),
            Some((date!(2026 - 02 - 01), date!(2026 - 02 - 28)))
        );
        assert_eq!(
            parse_month("2028-02").map(|m| m.1),
            Some(date!(2028 - 02 - 29))
        );
        assert_eq!(parse_month("2026-13"), None);
        assert_eq!(parse_month("2026-1"), None);
        assert_eq!(parse_month("x"), None);
        assert_eq!(parse_day("2026-11-03"), Some(date!(2026 - 11 - 03)));
        assert_eq!(parse_day("2026-02-30"), None);
        assert_eq!(format_day(date!(2026 - 01 - 05)), "2026-01-05");
        assert_eq!(week_start(date!(2026 - 11 - 05)), date!(2026 - 11 - 02));
        assert_eq!(week_start(date!(2026 - 11 - 02)), date!(2026 - 11 - 02));
        assert_eq!(week_start(date!(2026 - 11 - 08)), date!(2026 - 11 - 02));
    }

    #[test]
    fn check_in_window_and_lateness() {
        let (s, e, tol) = (1_000_000_000i64, 1_000_000_000 + 7_200_000, 15);
        let m = 60_000;
        assert_eq!(check_in_timing(s, e, tol, s - 15 * m - 1), Timing::TooEarly);
        assert_eq!(
            check_in_timing(s, e, tol, s - 15 * m),
            Timing::Counted { late_minutes: 0 }
        );
        assert_eq!(
            check_in_timing(s, e, tol, s + 15 * m),
            Timing::Counted { late_minutes: 0 }
        );
        assert_eq!(
            check_in_timing(s, e, tol, s + 15 * m + 1),
            Timing::Counted { late_minutes: 1 }
        );
        assert_eq!(
            check_in_timing(s, e, tol, s + 45 * m),
            Timing::Counted { late_minutes: 30 }
        );
        assert!(matches!(
            check_in_timing(s, e, tol, e + 15 * m),
            Timing::Counted { .. }
        ));
        assert_eq!(check_in_timing(s, e, tol, e + 15 * m + 1), Timing::Over);
        assert_eq!(
            check_in_timing(s, e, 0, s),
            Timing::Counted { late_minutes: 0 }
        );
        assert!(leaves_early(e, tol, e - 15 * m - 1));
        assert!(!leaves_early(e, tol, e - 15 * m));
        assert!(!leaves_early(e, 0, e));
    }

    #[test]
    fn ratios_are_exact() {
        let r = Ratio { num: 3, den: 4 };
        assert_eq!(r.fraction(), "3/4");
        assert_eq!(r.per_mille(), Some(750));
        assert_eq!(r.percent(), "75.0%");
        let third = Ratio { num: 1, den: 3 };
        assert_eq!(third.per_mille(), Some(333));
        let two_thirds = Ratio { num: 2, den: 3 };
        assert_eq!(two_thirds.per_mille(), Some(667));
        assert_eq!(two_thirds.percent(), "66.7%");
        // 1/8 = 125 exactly; 1/16 = 62.5 → 63 (half up).
        assert_eq!(Ratio { num: 1, den: 16 }.per_mille(), Some(63));
        assert_eq!(Ratio { num: 0, den: 0 }.percent(), "—");
        assert_eq!(Ratio { num: 0, den: 0 }.per_mille(), None);
        assert_eq!(Ratio { num: 5, den: 5 }.percent(), "100.0%");
    }

    fn g(role: Role, path: &str, org: Option<i64>) -> Grant {
        Grant {
            id: 1,
            role,
            node_id: None,
            path: path.into(),
            room_id: None,
            org_id: org,
        }
    }

    #[test]
    fn who_checks_in_for_which_party() {
        let office = "/1/2/";
        let pc = Party::PropertyCompany;
        assert!(checks_in_for(
            &g(Role::PropertyStaff, "/1/2/", None),
            pc,
            office,
            Some(9)
        ));
        assert!(checks_in_for(
            &g(Role::PropertyStaff, "/1/2/3/", None),
            pc,
            office,
            Some(9)
        ));
        assert!(checks_in_for(
            &g(Role::PropertyStaff, "/1/", Some(9)),
            pc,
            office,
            Some(9)
        ));
        // Another company's staff, or staff of another estate, do not.
        assert!(!checks_in_for(
            &g(Role::PropertyStaff, "/1/2/", Some(8)),
            pc,
            office,
            Some(9)
        ));
        assert!(!checks_in_for(
            &g(Role::PropertyStaff, "/1/5/", None),
            pc,
            office,
            Some(9)
        ));
        // The role must match the party.
        assert!(!checks_in_for(
            &g(Role::OwnersCommitteeMember, "/1/2/", None),
            pc,
            office,
            Some(9)
        ));
        assert!(checks_in_for(
            &g(Role::OwnersCommitteeMember, "/1/2/", None),
            Party::OwnersCommittee,
            office,
            None
        ));
        assert!(checks_in_for(
            &g(Role::CommunityStaff, "/1/", None),
            Party::ResidentsCommittee,
            office,
            Some(7)
        ));
        assert!(!checks_in_for(
            &g(Role::PropertyStaff, "", None),
            pc,
            office,
            None
        ));
    }

    #[test]
    fn parties_round_trip() {
        for p in PARTIES {
            assert_eq!(Party::parse(p.code()), Some(p));
        }
        assert_eq!(Party::parse("developer"), None);
    }

    fn sit(d: Date, h: i64) -> Sitting {
        Sitting {
            day: d,
            start_min: h * 60,
            end_min: h * 60 + 120,
        }
    }

    #[test]
    fn monthly_report_counts_due_sittings_attendance_and_matters() {
        let a = sit(date!(2026 - 11 - 03), 9);
        let b = sit(date!(2026 - 11 - 10), 9);
        let c = sit(date!(2026 - 11 - 17), 9);
        let future = sit(date!(2026 - 11 - 24), 9);
        // An extra sitting held under an old slot.
        let old = sit(date!(2026 - 11 - 05), 14);
        let now = c.start_ms() + 1;
        let ci = |s: Sitting, p: Party, late: bool| CheckInFact {
            sitting: s,
            party: p,
            late,
            left_early: false,
        };
        let rc = Party::ResidentsCommittee;
        let oc = Party::OwnersCommittee;
        let pc = Party::PropertyCompany;
        let checkins = [
            ci(a, rc, false),
            ci(a, oc, false),
            ci(a, pc, true),
            ci(b, rc, false),
            ci(b, pc, false),
            ci(c, rc, false),
            ci(old, rc, false),
            // A check-in on a sitting not due is not counted.
            ci(future, pc, false),
        ];
        let matters = [
            MatterFact {
                party: pc,
                status: "case",
            },
            MatterFact {
                party: pc,
                status: "open",
            },
            MatterFact {
                party: oc,
                status: "done",
            },
        ];
        let r = report(
            &PARTIES,
            &[a, b, c, future],
            &[old],
            &checkins,
            7,
            &matters,
            now,
        );
        assert_eq!(r.sittings_due, 4);
        assert_eq!(r.parties[0].attendance, Ratio { num: 4, den: 4 });
        assert_eq!(r.parties[1].attendance, Ratio { num: 1, den: 4 });
        assert_eq!(r.parties[2].attendance, Ratio { num: 2, den: 4 });
        assert_eq!(r.parties[2].late, 1);
        assert_eq!(r.parties[2].matters_taken, 2);
        assert_eq!(r.parties[2].matters_case, 1);
        assert_eq!(r.parties[2].matters_open, 1);
        assert_eq!(r.parties[1].matters_done, 1);
        assert_eq!(r.full_attendance, Ratio { num: 1, den: 4 });
        assert_eq!(r.visitors, 7);
        assert_eq!(r.matters, 3);
        assert_eq!(r.handled, Ratio { num: 2, den: 3 });
    }

    #[test]
    fn an_empty_month_reports_dashes_not_zero_division() {
        let r = report(&PARTIES, &[], &[], &[], 0, &[], 0);
        assert_eq!(r.sittings_due, 0);
        assert_eq!(r.parties[0].attendance.percent(), "—");
        assert_eq!(r.handled.percent(), "—");
        assert_eq!(r.full_attendance.num, 0);
    }

    #[test]
    fn full_attendance_needs_every_party_of_the_office() {
        let a = sit(date!(2026 - 11 - 03), 9);
        let checkins = [CheckInFact {
            sitting: a,
            party: Party::ResidentsCommittee,
            late: false,
            left_early: false,
        }];
        // An office with only a residents' committee so far: full when it came.
        let r = report(
            &[Party::ResidentsCommittee],
            &[a],
            &[],
            &checkins,
            0,
            &[],
            a.end_ms(),
        );
        assert_eq!(r.full_attendance, Ratio { num: 1, den: 1 });
        let r = report(&PARTIES, &[a], &[], &checkins, 0, &[], a.end_ms());
        assert_eq!(r.full_attendance, Ratio { num: 0, den: 1 });
    }
}
