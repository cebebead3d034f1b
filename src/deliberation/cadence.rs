//! The five-step method's cadence (五步工作法): when each recurring meeting takes place.
//!
//! The method has five steps: daily contact (日联, a log, not a meeting), the weekly meeting
//! (周会), the monthly consultation (月商), the quarterly review (季研) and the annual evaluation
//! (年评). A community stores one [`Rule`] per meeting kind; [`occurrences`] expands it over a
//! date range against the working-day calendar (`crate::cases::calendar`), so a meeting that
//! falls on a public holiday can be kept, or moved to the next or the previous working day
//! (make-up working days count as working days, as the State Council notice says).
//!
//! Pure: no clock, no I/O. Local times are Asia/Shanghai wall-clock times (no DST), converted to
//! Unix ms with [`local_to_ms`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::{Date, Duration, Month, PrimitiveDateTime, Time};

use crate::cases::calendar::Calendar;
use crate::clock::SHANGHAI;
use crate::error::{Error, FieldError};
use crate::i18n::Text;

/// How far a meeting may be moved to find a working day. Real holiday blocks are at most nine
/// days; past this the meeting is kept on its day (a calendar that has no working day in two
/// months is a data error, not a reason to loop).
pub const MAX_MOVE_DAYS: i64 = 62;

/// The longest meeting, in minutes.
pub const MAX_DURATION_MINUTES: u32 = 720;

/// The five steps of the method, for labels (only four are meetings: see [`MeetingKind`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    DailyContact,
    WeeklyMeeting,
    MonthlyConsultation,
    QuarterlyReview,
    AnnualEvaluation,
}

pub const ALL_STEPS: [Step; 5] = [
    Step::DailyContact,
    Step::WeeklyMeeting,
    Step::MonthlyConsultation,
    Step::QuarterlyReview,
    Step::AnnualEvaluation,
];

impl Step {
    pub fn code(self) -> &'static str {
        match self {
            Step::DailyContact => "daily_contact",
            Step::WeeklyMeeting => "weekly_meeting",
            Step::MonthlyConsultation => "monthly_consultation",
            Step::QuarterlyReview => "quarterly_review",
            Step::AnnualEvaluation => "annual_evaluation",
        }
    }

    pub fn from_code(s: &str) -> Option<Step> {
        ALL_STEPS.into_iter().find(|k| k.code() == s)
    }

    /// The full name: 日常联系 / daily contact, ….
    pub fn label(self) -> Text {
        match self {
            Step::DailyContact => Text::new("日常联系", "Daily contact"),
            Step::WeeklyMeeting => Text::new("每周例会", "Weekly meeting"),
            Step::MonthlyConsultation => Text::new("每月协商", "Monthly consultation"),
            Step::QuarterlyReview => Text::new("每季评议", "Quarterly review"),
            Step::AnnualEvaluation => Text::new("年度考评", "Annual evaluation"),
        }
    }

    /// The method's short name (日联, 周会, 月商, 季研, 年评).
    pub fn short_label(self) -> Text {
        match self {
            Step::DailyContact => Text::new("日联", "Daily contact"),
            Step::WeeklyMeeting => Text::new("周会", "Weekly meeting"),
            Step::MonthlyConsultation => Text::new("月商", "Monthly consultation"),
            Step::QuarterlyReview => Text::new("季研", "Quarterly review"),
            Step::AnnualEvaluation => Text::new("年评", "Annual evaluation"),
        }
    }

    /// The meeting of this step (`None` for daily contact, which is a log).
    pub fn meeting(self) -> Option<MeetingKind> {
        match self {
            Step::DailyContact => None,
            Step::WeeklyMeeting => Some(MeetingKind::WeeklyMeeting),
            Step::MonthlyConsultation => Some(MeetingKind::MonthlyConsultation),
            Step::QuarterlyReview => Some(MeetingKind::QuarterlyReview),
            Step::AnnualEvaluation => Some(MeetingKind::AnnualEvaluation),
        }
    }
}

/// The four meetings of the method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MeetingKind {
    WeeklyMeeting,
    MonthlyConsultation,
    QuarterlyReview,
    AnnualEvaluation,
}

pub const ALL_MEETING_KINDS: [MeetingKind; 4] = [
    MeetingKind::WeeklyMeeting,
    MeetingKind::MonthlyConsultation,
    MeetingKind::QuarterlyReview,
    MeetingKind::AnnualEvaluation,
];

impl MeetingKind {
    pub fn step(self) -> Step {
        match self {
            MeetingKind::WeeklyMeeting => Step::WeeklyMeeting,
            MeetingKind::MonthlyConsultation => Step::MonthlyConsultation,
            MeetingKind::QuarterlyReview => Step::QuarterlyReview,
            MeetingKind::AnnualEvaluation => Step::AnnualEvaluation,
        }
    }

    pub fn code(self) -> &'static str {
        self.step().code()
    }

    pub fn from_code(s: &str) -> Option<MeetingKind> {
        ALL_MEETING_KINDS.into_iter().find(|k| k.code() == s)
    }

    pub fn label(self) -> Text {
        self.step().label()
    }

    /// Whether a rule's repetition fits this meeting (a weekly meeting repeats weekly, …).
    pub fn fits(self, repeat: &Repeat) -> bool {
        matches!(
            (self, repeat),
            (MeetingKind::WeeklyMeeting, Repeat::Weekly { .. })
                | (MeetingKind::MonthlyConsultation, Repeat::Monthly { .. })
                | (MeetingKind::QuarterlyReview, Repeat::Quarterly { .. })
                | (MeetingKind::AnnualEvaluation, Repeat::Annual { .. })
        )
    }
}

/// A day of the week (serialised `monday` … `sunday`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayOfWeek {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

pub const ALL_DAYS_OF_WEEK: [DayOfWeek; 7] = [
    DayOfWeek::Monday,
    DayOfWeek::Tuesday,
    DayOfWeek::Wednesday,
    DayOfWeek::Thursday,
    DayOfWeek::Friday,
    DayOfWeek::Saturday,
    DayOfWeek::Sunday,
];

impl DayOfWeek {
    pub fn to_time(self) -> time::Weekday {
        match self {
            DayOfWeek::Monday => time::Weekday::Monday,
            DayOfWeek::Tuesday => time::Weekday::Tuesday,
            DayOfWeek::Wednesday => time::Weekday::Wednesday,
            DayOfWeek::Thursday => time::Weekday::Thursday,
            DayOfWeek::Friday => time::Weekday::Friday,
            DayOfWeek::Saturday => time::Weekday::Saturday,
            DayOfWeek::Sunday => time::Weekday::Sunday,
        }
    }

    pub fn of(date: Date) -> DayOfWeek {
        ALL_DAYS_OF_WEEK[usize::from(date.weekday().number_days_from_monday())]
    }

    pub fn is_weekend(self) -> bool {
        matches!(self, DayOfWeek::Saturday | DayOfWeek::Sunday)
    }

    pub fn label(self) -> Text {
        match self {
            DayOfWeek::Monday => Text::new("星期一", "Monday"),
            DayOfWeek::Tuesday => Text::new("星期二", "Tuesday"),
            DayOfWeek::Wednesday => Text::new("星期三", "Wednesday"),
            DayOfWeek::Thursday => Text::new("星期四", "Thursday"),
            DayOfWeek::Friday => Text::new("星期五", "Friday"),
            DayOfWeek::Saturday => Text::new("星期六", "Saturday"),
            DayOfWeek::Sunday => Text::new("星期日", "Sunday"),
        }
    }
}

/// Which weekday of a month: the first … fourth, or the last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WeekOfMonth {
    First,
    Second,
    Third,
    Fourth,
    Last,
}

impl WeekOfMonth {
    fn label(self) -> (&'static str, &'static str) {
        match self {
            WeekOfMonth::First => ("第一个", "first"),
            WeekOfMonth::Second => ("第二个", "second"),
            WeekOfMonth::Third => ("第三个", "third"),
            WeekOfMonth::Fourth => ("第四个", "fourth"),
            WeekOfMonth::Last => ("最后一个", "last"),
        }
    }
}

/// Which day of a month a meeting falls on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum DayRule {
    /// A fixed day, 1..=28 (every month has it; use [`DayRule::LastDay`] for month ends).
    DayOfMonth { day: u8 },
    /// The last day of the month.
    LastDay,
    /// The n-th (or last) given weekday, e.g. the second Tuesday or the last Friday.
    NthWeekday {
        week: WeekOfMonth,
        weekday: DayOfWeek,
    },
}

impl DayRule {
    /// The day in `year`/`month`; `None` for a day the month lacks (only an invalid rule).
    pub fn resolve(self, year: i32, month: Month) -> Option<Date> {
        let last = month.length(year);
        match self {
            DayRule::DayOfMonth { day } => {
                if day == 0 || day > last {
                    return None;
                }
                Date::from_calendar_date(year, month, day).ok()
            }
            DayRule::LastDay => Date::from_calendar_date(year, month, last).ok(),
            DayRule::NthWeekday { week, weekday } => {
                let want = weekday.to_time();
                if week == WeekOfMonth::Last {
                    let end = Date::from_calendar_date(year, month, last).ok()?;
                    let back = (i64::from(end.weekday().number_days_from_monday()) + 7
                        - i64::from(want.number_days_from_monday()))
                        % 7;
                    end.checked_sub(Duration::days(back))
                } else {
                    let first = Date::from_calendar_date(year, month, 1).ok()?;
                    let ahead = (i64::from(want.number_days_from_monday()) + 7
                        - i64::from(first.weekday().number_days_from_monday()))
                        % 7;
                    let n = match week {
                        WeekOfMonth::First => 0,
                        WeekOfMonth::Second => 1,
                        WeekOfMonth::Third => 2,
                        _ => 3,
                    };
                    first.checked_add(Duration::days(ahead + 7 * n))
                }
            }
        }
    }

    fn describe(self) -> (String, String) {
        match self {
            DayRule::DayOfMonth { day } => (format!("{day} 日"), format!("day {day}")),
            DayRule::LastDay => ("最后一天".into(), "the last day".into()),
            DayRule::NthWeekday { week, weekday } => {
                let (wzh, wen) = week.label();
                let l = weekday.label();
                (format!("{wzh}{}", l.zh), format!("the {wen} {}", l.en))
            }
        }
    }

    fn validate(self, errors: &mut Vec<FieldError>) {
        if let DayRule::DayOfMonth { day } = self {
            if !(1..=28).contains(&day) {
                errors.push(FieldError::new(
                    "day",
                    Text::owned(
                        format!("每月 {day} 日不是每个月都有：请选 1–28 日，或“最后一天”"),
                        format!(
                            "day {day} is not in every month: choose 1–28, or \"the last day\""
                        ),
                    ),
                ));
            }
        }
    }
}

/// How a meeting repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "every", rename_all = "snake_case")]
pub enum Repeat {
    Weekly {
        weekday: DayOfWeek,
    },
    Monthly {
        day: DayRule,
    },
    /// In the given month (1..=3) of each quarter: 1 = January, April, July, October.
    Quarterly {
        month_of_quarter: u8,
        day: DayRule,
    },
    Annual {
        month: u8,
        day: DayRule,
    },
}

/// What happens to a meeting that falls on a non-working day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayPolicy {
    /// It stays on its day.
    Keep,
    /// It moves to the next working day.
    #[default]
    NextWorkingDay,
    /// It moves to the previous working day.
    PreviousWorkingDay,
}

impl DayPolicy {
    pub fn label(self) -> Text {
        match self {
            DayPolicy::Keep => Text::new("遇节假日照常举行", "held on holidays too"),
            DayPolicy::NextWorkingDay => Text::new(
                "遇节假日顺延至下一个工作日",
                "moved to the next working day on holidays",
            ),
            DayPolicy::PreviousWorkingDay => Text::new(
                "遇节假日提前至上一个工作日",
                "moved to the previous working day on holidays",
            ),
        }
    }
}

/// A wall-clock time of day in Asia/Shanghai, to the minute (serialised `"14:30"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LocalTime {
    hour: u8,
    minute: u8,
}

impl LocalTime {
    pub fn new(hour: u8, minute: u8) -> Option<LocalTime> {
        (hour < 24 && minute < 60).then_some(LocalTime { hour, minute })
    }

    pub fn hour(self) -> u8 {
        self.hour
    }

    pub fn minute(self) -> u8 {
        self.minute
    }

    /// Reads `H:MM` or `HH:MM` (also with a full-width colon, as a Chinese input method types).
    pub fn parse(s: &str) -> Result<LocalTime, FieldError> {
        let bad = || {
            FieldError::new(
                "start",
                Text::owned(
                    format!("“{}”不是有效的时间（格式：14:30）", s.trim()),
                    format!("`{}` is not a valid time (format: 14:30)", s.trim()),
                ),
            )
        };
        let t = s.trim().replace('：', ":");
        let (h, m) = t.split_once(':').ok_or_else(bad)?;
        let digits = |x: &str, max_len: usize| {
            !x.is_empty() && x.len() <= max_len && x.bytes().all(|b| b.is_ascii_digit())
        };
        if !digits(h, 2) || !digits(m, 2) || m.len() != 2 {
            return Err(bad());
        }
        let (h, m) = (
            h.parse::<u8>().map_err(|_| bad())?,
            m.parse::<u8>().map_err(|_| bad())?,
        );
        LocalTime::new(h, m).ok_or_else(bad)
    }

    pub fn to_time(self) -> Time {
        Time::from_hms(self.hour, self.minute, 0).unwrap_or(Time::MIDNIGHT)
    }
}

impl std::fmt::Display for LocalTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:02}:{:02}", self.hour, self.minute)
    }
}

impl From<LocalTime> for String {
    fn from(t: LocalTime) -> String {
        t.to_string()
    }
}

impl TryFrom<String> for LocalTime {
    type Error = String;
    fn try_from(s: String) -> Result<LocalTime, String> {
        LocalTime::parse(&s).map_err(|e| e.message.en.into_owned())
    }
}

/// A community's schedule for one meeting kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Rule {
    pub repeat: Repeat,
    /// Local (Shanghai) start time.
    pub start: LocalTime,
    pub duration_minutes: u32,
    #[serde(default)]
    pub non_working_day: DayPolicy,
}

impl Rule {
    /// Every problem of the rule, each by its form field (`day`, `month`, `month_of_quarter`,
    /// `weekday`, `duration_minutes`).
    pub fn problems(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let moves = self.non_working_day != DayPolicy::Keep;
        let weekend_moves = |weekday: DayOfWeek, errors: &mut Vec<FieldError>| {
            if moves && weekday.is_weekend() {
                errors.push(FieldError::new(
                    "weekday",
                    Text::new(
                        "会议定在周末又设为遇休息日挪动，每次都会被挪开：请改为“照常举行”或选工作日",
                        "a weekend meeting set to move off rest days would always move: choose \"held on holidays too\" or a weekday",
                    ),
                ));
            }
        };
        let day_rule = |day: DayRule, errors: &mut Vec<FieldError>| {
            day.validate(errors);
            if let DayRule::NthWeekday { weekday, .. } = day {
                weekend_moves(weekday, errors);
            }
        };
        match self.repeat {
            Repeat::Weekly { weekday } => weekend_moves(weekday, &mut errors),
            Repeat::Monthly { day } => day_rule(day, &mut errors),
            Repeat::Quarterly {
                month_of_quarter,
                day,
            } => {
                if !(1..=3).contains(&month_of_quarter) {
                    errors.push(FieldError::new(
                        "month_of_quarter",
                        Text::new(
                            "季度内的月份应为第 1、2 或 3 个月",
                            "the month of the quarter must be 1, 2 or 3",
                        ),
                    ));
                }
                day_rule(day, &mut errors);
            }
            Repeat::Annual { month, day } => {
                if !(1..=12).contains(&month) {
                    errors.push(FieldError::new(
                        "month",
                        Text::new("月份应为 1–12", "the month must be 1–12"),
                    ));
                }
                day_rule(day, &mut errors);
            }
        }
        if !(1..=MAX_DURATION_MINUTES).contains(&self.duration_minutes) {
            errors.push(FieldError::new(
                "duration_minutes",
                Text::owned(
                    format!("会议时长应为 1–{MAX_DURATION_MINUTES} 分钟"),
                    format!("the duration must be 1–{MAX_DURATION_MINUTES} minutes"),
                ),
            ));
        }
        errors
    }

    /// The rule, or `Error::Invalid` with every problem.
    pub fn check(&self) -> Result<(), Error> {
        let errors = self.problems();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Error::Invalid(errors))
        }
    }

    /// Like [`Rule::check`], and also that the repetition fits the meeting kind.
    pub fn check_for(&self, kind: MeetingKind) -> Result<(), Error> {
        let mut errors = self.problems();
        if !kind.fits(&self.repeat) {
            let l = kind.label();
            errors.insert(
                0,
                FieldError::new(
                    "repeat",
                    Text::owned(
                        format!("{}的周期与会议类型不符", l.zh),
                        format!("the repetition does not fit a {}", l.en.to_lowercase()),
                    ),
                ),
            );
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Error::Invalid(errors))
        }
    }

    /// One line for the page: "每月第二个星期二 14:00，90 分钟；遇节假日顺延至下一个工作日".
    pub fn describe(&self) -> Text {
        let (zh, en) = match self.repeat {
            Repeat::Weekly { weekday } => {
                let l = weekday.label();
                (format!("每周{}", l.zh), format!("every {}", l.en))
            }
            Repeat::Monthly { day } => {
                let (zh, en) = day.describe();
                (format!("每月{zh}"), format!("monthly on {en}"))
            }
            Repeat::Quarterly {
                month_of_quarter,
                day,
            } => {
                let (zh, en) = day.describe();
                (
                    format!("每季度第 {month_of_quarter} 个月的{zh}"),
                    format!("quarterly, month {month_of_quarter} of the quarter, on {en}"),
                )
            }
            Repeat::Annual { month, day } => {
                let (zh, en) = day.describe();
                let en_month = Month::try_from(month)
                    .map(|m| m.to_string())
                    .unwrap_or_else(|_| format!("month {month}"));
                (
                    format!("每年 {month} 月{zh}"),
                    format!("yearly in {en_month}, on {en}"),
                )
            }
        };
        let p = self.non_working_day.label();
        Text::owned(
            format!(
                "{zh} {}，{} 分钟；{}",
                self.start, self.duration_minutes, p.zh
            ),
            format!(
                "{en} at {}, {} minutes; {}",
                self.start, self.duration_minutes, p.en
            ),
        )
    }
}

/// One meeting of a schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Occurrence {
    /// The day it takes place (after any move).
    pub date: Date,
    /// Local (Shanghai) start and end.
    pub start: PrimitiveDateTime,
    pub end: PrimitiveDateTime,
    /// The day the rule names; differs from `date` when the meeting was moved.
    pub nominal: Date,
}

impl Occurrence {
    pub fn moved(&self) -> bool {
        self.date != self.nominal
    }

    pub fn start_ms(&self) -> i64 {
        local_to_ms(self.start)
    }

    pub fn end_ms(&self) -> i64 {
        local_to_ms(self.end)
    }
}

/// A Shanghai wall-clock time as Unix ms.
pub fn local_to_ms(t: PrimitiveDateTime) -> i64 {
    let nanos = t.assume_offset(SHANGHAI).unix_timestamp_nanos();
    i64::try_from(nanos.div_euclid(1_000_000)).unwrap_or(i64::MAX)
}

/// Unix ms as a Shanghai wall-clock time.
pub fn ms_to_local(ms: i64) -> PrimitiveDateTime {
    let t = crate::clock::to_local(ms);
    PrimitiveDateTime::new(t.date(), t.time())
}

fn add_days(d: Date, n: i64) -> Option<Date> {
    d.checked_add(Duration::days(n))
}

/// The day a meeting nominally on `date` takes place.
fn apply_policy(date: Date, policy: DayPolicy, calendar: &Calendar) -> Date {
    let step = match policy {
        DayPolicy::Keep => return date,
        DayPolicy::NextWorkingDay => 1,
        DayPolicy::PreviousWorkingDay => -1,
    };
    if calendar.is_working_day(date) {
        return date;
    }
    (1..=MAX_MOVE_DAYS)
        .filter_map(|i| add_days(date, i * step))
        .find(|d| calendar.is_working_day(*d))
        .unwrap_or(date)
}

fn months_between(from: Date, to: Date) -> impl Iterator<Item = (i32, Month)> {
    let start = from.year() * 12 + i32::from(u8::from(from.month())) - 1;
    let end = to.year() * 12 + i32::from(u8::from(to.month())) - 1;
    (start..=end).filter_map(|ym| {
        let month = u8::try_from(ym.rem_euclid(12) + 1).ok()?;
        Some((ym.div_euclid(12), Month::try_from(month).ok()?))
    })
}

/// The nominal days of `repeat` from `from` to `to` (inclusive), ascending.
fn nominal_days(repeat: Repeat, from: Date, to: Date) -> Vec<Date> {
    let mut days = Vec::new();
    match repeat {
        Repeat::Weekly { weekday } => {
            let want = weekday.to_time();
            let ahead = (i64::from(want.number_days_from_monday()) + 7
                - i64::from(from.weekday().number_days_from_monday()))
                % 7;
            let mut d = add_days(from, ahead);
            while let Some(day) = d.filter(|d| *d <= to) {
                days.push(day);
                d = add_days(day, 7);
            }
        }
        Repeat::Monthly { day } => {
            days.extend(months_between(from, to).filter_map(|(y, m)| day.resolve(y, m)));
        }
        Repeat::Quarterly {
            month_of_quarter,
            day,
        } => {
            days.extend(
                months_between(from, to)
                    .filter(|(_, m)| (u8::from(*m) - 1) % 3 + 1 == month_of_quarter)
                    .filter_map(|(y, m)| day.resolve(y, m)),
            );
        }
        Repeat::Annual { month, day } => {
            if let Ok(m) = Month::try_from(month) {
                days.extend((from.year()..=to.year()).filter_map(|y| day.resolve(y, m)));
            }
        }
    }
    days.retain(|d| *d >= from && *d <= to);
    days
}

/// The meetings of `rule` whose (moved) day lies from `from` to `to`, both inclusive, in order.
///
/// A meeting moved onto the day of another meeting of the same rule (a weekly meeting pushed
/// past a seven-day holiday) is held once: the unmoved one is kept. Years the calendar does not
/// cover fall back to plain weekdays (ask `calendar.uncovered_years(from, to)` to warn).
pub fn occurrences(rule: &Rule, calendar: &Calendar, from: Date, to: Date) -> Vec<Occurrence> {
    if from > to {
        return Vec::new();
    }
    let scan_from = add_days(from, -MAX_MOVE_DAYS).unwrap_or(from);
    let scan_to = add_days(to, MAX_MOVE_DAYS).unwrap_or(to);
    let start = rule.start.to_time();
    let length = Duration::minutes(i64::from(rule.duration_minutes));
    let mut by_day: BTreeMap<Date, Occurrence> = BTreeMap::new();
    for nominal in nominal_days(rule.repeat, scan_from, scan_to) {
        let date = apply_policy(nominal, rule.non_working_day, calendar);
        if date < from || date > to {
            continue;
        }
        let begin = PrimitiveDateTime::new(date, start);
        let occ = Occurrence {
            date,
            start: begin,
            end: begin.checked_add(length).unwrap_or(begin),
            nominal,
        };
        by_day
            .entry(date)
            .and_modify(|kept| {
                // The unmoved meeting wins; between moved ones, the earlier nominal day.
                let better = (occ.moved(), occ.nominal) < (kept.moved(), kept.nominal);
                if better {
                    *kept = occ;
                }
            })
            .or_insert(occ);
    }
    by_day.into_values().collect()
}

/// The first meeting of `rule` starting strictly after `after` (local time).
pub fn next_after(
    rule: &Rule,
    calendar: &Calendar,
    after: PrimitiveDateTime,
) -> Option<Occurrence> {
    let mut from = after.date();
    // An annual rule has a meeting in every 366 + 2 × MAX_MOVE_DAYS days; look a little further.
    for _ in 0..4 {
        let to = add_days(from, 180)?;
        if let Some(o) = occurrences(rule, calendar, from, to)
            .into_iter()
            .find(|o| o.start > after)
        {
            return Some(o);
        }
        from = add_days(to, 1)?;
    }
    None
}

/// [`next_after`] an instant given in Unix ms.
pub fn next_after_ms(rule: &Rule, calendar: &Calendar, after_ms: i64) -> Option<Occurrence> {
    next_after(rule, calendar, ms_to_local(after_ms))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::{date, datetime};

    fn cal() -> Calendar {
        Calendar::shipped()
    }

    fn rule(repeat: Repeat, policy: DayPolicy) -> Rule {
        Rule {
            repeat,
            start: LocalTime::new(14, 0).unwrap(),
            duration_minutes: 90,
            non_working_day: policy,
        }
    }

    fn days(r: &Rule, from: Date, to: Date) -> Vec<Date> {
        occurrences(r, &cal(), from, to)
            .into_iter()
            .map(|o| o.date)
            .collect()
    }

    fn year_2026(r: &Rule) -> Vec<Date> {
        days(r, date!(2026 - 01 - 01), date!(2026 - 12 - 31))
    }

    const THURSDAY: Repeat = Repeat::Weekly {
        weekday: DayOfWeek::Thursday,
    };

    #[test]
    fn weekly_meeting_on_national_day_moves_forward_and_collapses_into_the_next() {
        let r = rule(THURSDAY, DayPolicy::NextWorkingDay);
        let occ = occurrences(&r, &cal(), date!(2026 - 09 - 20), date!(2026 - 10 - 20));
        let got: Vec<_> = occ.iter().map(|o| (o.date, o.nominal)).collect();
        // Oct 1 (holiday) would move to Oct 8, the next Thursday: held once, unmoved.
        assert_eq!(
            got,
            vec![
                (date!(2026 - 09 - 24), date!(2026 - 09 - 24)),
                (date!(2026 - 10 - 08), date!(2026 - 10 - 08)),
                (date!(2026 - 10 - 15), date!(2026 - 10 - 15)),
            ]
        );
        assert!(occ.iter().all(|o| !o.moved()));
    }

    #[test]
    fn weekly_meeting_on_national_day_moves_back_or_stays() {
        let back = rule(THURSDAY, DayPolicy::PreviousWorkingDay);
        assert_eq!(
            days(&back, date!(2026 - 09 - 28), date!(2026 - 10 - 09)),
            vec![date!(2026 - 09 - 30), date!(2026 - 10 - 08)]
        );
        let keep = rule(THURSDAY, DayPolicy::Keep);
        assert_eq!(
            days(&keep, date!(2026 - 09 - 28), date!(2026 - 10 - 09)),
            vec![date!(2026 - 10 - 01), date!(2026 - 10 - 08)]
        );
    }

    #[test]
    fn weekly_friday_in_golden_week() {
        let fri = Repeat::Weekly {
            weekday: DayOfWeek::Friday,
        };
        // Oct 2 is a holiday: moved to Thu Oct 8, and Fri Oct 9 is held as usual.
        let occ = occurrences(
            &rule(fri, DayPolicy::NextWorkingDay),
            &cal(),
            date!(2026 - 10 - 01),
            date!(2026 - 10 - 10),
        );
        assert_eq!(
            occ.iter().map(|o| (o.date, o.moved())).collect::<Vec<_>>(),
            vec![
                (date!(2026 - 10 - 08), true),
                (date!(2026 - 10 - 09), false)
            ]
        );
        assert_eq!(occ[0].nominal, date!(2026 - 10 - 02));
        // Previous working day: Sep 30 lies before the range, so only Oct 9.
        assert_eq!(
            days(
                &rule(fri, DayPolicy::PreviousWorkingDay),
                date!(2026 - 10 - 01),
                date!(2026 - 10 - 10)
            ),
            vec![date!(2026 - 10 - 09)]
        );
    }

    #[test]
    fn weekly_over_2026_has_one_meeting_a_week() {
        let keep = rule(THURSDAY, DayPolicy::Keep);
        let all = year_2026(&keep);
        assert_eq!(all.len(), 53); // 2026 starts and ends on a Thursday
        assert_eq!(all[0], date!(2026 - 01 - 01));
        assert_eq!(all[52], date!(2026 - 12 - 31));
        let next = year_2026(&rule(THURSDAY, DayPolicy::NextWorkingDay));
        // Jan 1 → Jan 5? No: Jan 1–3 holiday, Sun Jan 4 is a make-up working day.
        assert_eq!(next[0], date!(2026 - 01 - 04));
        // Feb 19 (Spring Festival) → Feb 24; Oct 1 collapses into Oct 8.
        assert!(next.contains(&date!(2026 - 02 - 24)));
        assert!(!next.contains(&date!(2026 - 02 - 19)));
        assert_eq!(next.len(), 52);
        assert!(next.iter().all(|d| cal().is_working_day(*d)));
    }

    #[test]
    fn saturday_keep_includes_make_up_saturday() {
        let sat = rule(
            Repeat::Weekly {
                weekday: DayOfWeek::Saturday,
            },
            DayPolicy::Keep,
        );
        assert!(sat.check().is_ok());
        let all = year_2026(&sat);
        assert!(all.contains(&date!(2026 - 10 - 10)));
        assert_eq!(all.len(), 52);
    }

    #[test]
    fn monthly_on_the_15th_with_each_policy() {
        let m15 = Repeat::Monthly {
            day: DayRule::DayOfMonth { day: 15 },
        };
        assert_eq!(
            year_2026(&rule(m15, DayPolicy::NextWorkingDay)),
            vec![
                date!(2026 - 01 - 15),
                date!(2026 - 02 - 24), // Spring Festival Feb 15–23
                date!(2026 - 03 - 16), // a Sunday
                date!(2026 - 04 - 15),
                date!(2026 - 05 - 15),
                date!(2026 - 06 - 15),
                date!(2026 - 07 - 15),
                date!(2026 - 08 - 17), // a Saturday
                date!(2026 - 09 - 15),
                date!(2026 - 10 - 15),
                date!(2026 - 11 - 16), // a Sunday
                date!(2026 - 12 - 15),
            ]
        );
        let back = year_2026(&rule(m15, DayPolicy::PreviousWorkingDay));
        // Sat Feb 14 is a make-up working day.
        assert_eq!(back[1], date!(2026 - 02 - 14));
        assert_eq!(back[2], date!(2026 - 03 - 13));
        assert_eq!(back[7], date!(2026 - 08 - 14));
        let keep = year_2026(&rule(m15, DayPolicy::Keep));
        assert_eq!(keep[1], date!(2026 - 02 - 15));
        assert_eq!(keep.len(), 12);
    }

    #[test]
    fn monthly_last_day_crosses_into_the_next_month_when_moved() {
        let last = Repeat::Monthly {
            day: DayRule::LastDay,
        };
        let next = year_2026(&rule(last, DayPolicy::NextWorkingDay));
        // Sat Jan 31 → Mon Feb 2; Sat Feb 28 is a make-up working day and stays.
        assert_eq!(
            &next[..3],
            &[
                date!(2026 - 02 - 02),
                date!(2026 - 02 - 28),
                date!(2026 - 03 - 31)
            ]
        );
        assert_eq!(next.len(), 12);
        assert_eq!(next[11], date!(2026 - 12 - 31));
        let back = year_2026(&rule(last, DayPolicy::PreviousWorkingDay));
        assert_eq!(back[0], date!(2026 - 01 - 30));
        assert_eq!(back[1], date!(2026 - 02 - 28));
        let keep = year_2026(&rule(last, DayPolicy::Keep));
        assert_eq!(keep[0], date!(2026 - 01 - 31));
        assert_eq!(keep[3], date!(2026 - 04 - 30));
    }

    #[test]
    fn last_friday_of_each_month() {
        let lf = Repeat::Monthly {
            day: DayRule::NthWeekday {
                week: WeekOfMonth::Last,
                weekday: DayOfWeek::Friday,
            },
        };
        let keep = year_2026(&rule(lf, DayPolicy::Keep));
        assert_eq!(
            keep,
            vec![
                date!(2026 - 01 - 30),
                date!(2026 - 02 - 27),
                date!(2026 - 03 - 27),
                date!(2026 - 04 - 24),
                date!(2026 - 05 - 29),
                date!(2026 - 06 - 26),
                date!(2026 - 07 - 31),
                date!(2026 - 08 - 28),
                date!(2026 - 09 - 25),
                date!(2026 - 10 - 30),
                date!(2026 - 11 - 27),
                date!(2026 - 12 - 25),
            ]
        );
        // Sep 25 is the Mid-Autumn holiday (Sep 25–27).
        assert_eq!(
            year_2026(&rule(lf, DayPolicy::NextWorkingDay))[8],
            date!(2026 - 09 - 28)
        );
        assert_eq!(
            year_2026(&rule(lf, DayPolicy::PreviousWorkingDay))[8],
            date!(2026 - 09 - 24)
        );
    }

    #[test]
    fn nth_weekday_of_each_month() {
        let second_tue = Repeat::Monthly {
            day: DayRule::NthWeekday {
                week: WeekOfMonth::Second,
                weekday: DayOfWeek::Tuesday,
            },
        };
        let got = year_2026(&rule(second_tue, DayPolicy::NextWorkingDay));
        let want = [13, 10, 10, 14, 12, 9, 14, 11, 8, 13, 10, 8];
        assert_eq!(got.len(), 12);
        for (i, (d, day)) in got.iter().zip(want).enumerate() {
            assert_eq!(usize::from(u8::from(d.month())), i + 1);
            assert_eq!(d.day(), day);
            assert_eq!(d.weekday(), time::Weekday::Tuesday);
        }
        // The first Thursday of October is Oct 1: moved to Oct 8.
        let first_thu = Repeat::Monthly {
            day: DayRule::NthWeekday {
                week: WeekOfMonth::First,
                weekday: DayOfWeek::Thursday,
            },
        };
        assert_eq!(
            days(
                &rule(first_thu, DayPolicy::NextWorkingDay),
                date!(2026 - 10 - 01),
                date!(2026 - 10 - 31)
            ),
            vec![date!(2026 - 10 - 08)]
        );
        // Fourth weekday: always exists.
        let fourth_mon = DayRule::NthWeekday {
            week: WeekOfMonth::Fourth,
            weekday: DayOfWeek::Monday,
        };
        assert_eq!(
            fourth_mon.resolve(2026, Month::February),
            Some(date!(2026 - 02 - 23))
        );
    }

    #[test]
    fn quarterly_on_the_first_day_of_each_quarter() {
        let q = Repeat::Quarterly {
            month_of_quarter: 1,
            day: DayRule::DayOfMonth { day: 1 },
        };
        // Jan 1 → Sun Jan 4 (make-up working day); Oct 1 → Oct 8.
        assert_eq!(
            year_2026(&rule(q, DayPolicy::NextWorkingDay)),
            vec![
                date!(2026 - 01 - 04),
                date!(2026 - 04 - 01),
                date!(2026 - 07 - 01),
                date!(2026 - 10 - 08),
            ]
        );
        // Previous working day of Jan 1 lies in 2025 (Dec 31, a Wednesday).
        assert_eq!(
            days(
                &rule(q, DayPolicy::PreviousWorkingDay),
                date!(2025 - 12 - 01),
                date!(2026 - 12 - 31)
            ),
            vec![
                date!(2025 - 12 - 31),
                date!(2026 - 04 - 01),
                date!(2026 - 07 - 01),
                date!(2026 - 09 - 30),
            ]
        );
    }

    #[test]
    fn quarterly_month_boundaries() {
        let end = Repeat::Quarterly {
            month_of_quarter: 3,
            day: DayRule::LastDay,
        };
        assert_eq!(
            year_2026(&rule(end, DayPolicy::Keep)),
            vec![
                date!(2026 - 03 - 31),
                date!(2026 - 06 - 30),
                date!(2026 - 09 - 30),
                date!(2026 - 12 - 31),
            ]
        );
        let mid = Repeat::Quarterly {
            month_of_quarter: 2,
            day: DayRule::NthWeekday {
                week: WeekOfMonth::Third,
                weekday: DayOfWeek::Wednesday,
            },
        };
        assert_eq!(
            year_2026(&rule(mid, DayPolicy::Keep)),
            vec![
                date!(2026 - 02 - 18),
                date!(2026 - 05 - 20),
                date!(2026 - 08 - 19),
                date!(2026 - 11 - 18),
            ]
        );
        // Feb 18 is in the Spring Festival: moved to Feb 24.
        assert_eq!(
            year_2026(&rule(mid, DayPolicy::NextWorkingDay))[0],
            date!(2026 - 02 - 24)
        );
        // A range that starts mid-quarter sees only the later quarters.
        assert_eq!(
            days(
                &rule(end, DayPolicy::Keep),
                date!(2026 - 07 - 01),
                date!(2026 - 09 - 30)
            ),
            vec![date!(2026 - 09 - 30)]
        );
    }

    #[test]
    fn annual_evaluation_each_year() {
        let a = Repeat::Annual {
            month: 1,
            day: DayRule::NthWeekday {
                week: WeekOfMonth::Last,
                weekday: DayOfWeek::Friday,
            },
        };
        assert_eq!(
            days(
                &rule(a, DayPolicy::NextWorkingDay),
                date!(2025 - 01 - 01),
                date!(2027 - 12 - 31)
            ),
            // Fri Jan 31 2025 fell in that year's Spring Festival (Jan 28 – Feb 4).
            vec![
                date!(2025 - 02 - 05),
                date!(2026 - 01 - 30),
                date!(2027 - 01 - 29),
            ]
        );
        let dec = Repeat::Annual {
            month: 12,
            day: DayRule::DayOfMonth { day: 28 },
        };
        assert_eq!(
            year_2026(&rule(dec, DayPolicy::Keep)),
            vec![date!(2026 - 12 - 28)]
        );
        // Oct 1 annual: moved to Oct 8.
        let national = Repeat::Annual {
            month: 10,
            day: DayRule::DayOfMonth { day: 1 },
        };
        assert_eq!(
            year_2026(&rule(national, DayPolicy::NextWorkingDay)),
            vec![date!(2026 - 10 - 08)]
        );
    }

    #[test]
    fn day_31_is_refused_and_last_day_offered() {
        for day in [0u8, 29, 30, 31] {
            let r = rule(
                Repeat::Monthly {
                    day: DayRule::DayOfMonth { day },
                },
                DayPolicy::Keep,
            );
            let p = r.problems();
            assert_eq!(p.len(), 1, "day {day}");
            assert_eq!(p[0].field, "day");
            assert!(p[0].message.zh.contains("最后一天"));
            assert!(p[0].message.en.contains("last day"));
            assert!(matches!(r.check(), Err(Error::Invalid(v)) if v.len() == 1));
        }
        // An unchecked day 31 is simply absent from the months that lack it.
        let r31 = rule(
            Repeat::Monthly {
                day: DayRule::DayOfMonth { day: 31 },
            },
            DayPolicy::Keep,
        );
        assert_eq!(year_2026(&r31).len(), 7);
        for day in 1..=28u8 {
            let r = rule(
                Repeat::Monthly {
                    day: DayRule::DayOfMonth { day },
                },
                DayPolicy::NextWorkingDay,
            );
            assert!(r.check().is_ok());
            assert_eq!(year_2026(&r).len(), 12, "day {day}");
        }
    }

    #[test]
    fn invalid_rules_name_every_field() {
        let mut r = rule(
            Repeat::Quarterly {
                month_of_quarter: 4,
                day: DayRule::DayOfMonth { day: 30 },
            },
            DayPolicy::Keep,
        );
        r.duration_minutes = 0;
        let fields: Vec<_> = r.problems().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, vec!["month_of_quarter", "day", "duration_minutes"]);
        let mut r = rule(
            Repeat::Annual {
                month: 13,
                day: DayRule::LastDay,
            },
            DayPolicy::Keep,
        );
        r.duration_minutes = MAX_DURATION_MINUTES + 1;
        let fields: Vec<_> = r.problems().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, vec!["month", "duration_minutes"]);
        assert!(year_2026(&r).is_empty());
        // A weekend meeting set to move would always move.
        let sun = rule(
            Repeat::Weekly {
                weekday: DayOfWeek::Sunday,
            },
            DayPolicy::NextWorkingDay,
        );
        assert_eq!(sun.problems()[0].field, "weekday");
        let last_sat = rule(
            Repeat::Monthly {
                day: DayRule::NthWeekday {
                    week: WeekOfMonth::Last,
                    weekday: DayOfWeek::Saturday,
                },
            },
            DayPolicy::PreviousWorkingDay,
        );
        assert_eq!(last_sat.problems()[0].field, "weekday");
        // The kind must fit.
        let weekly = rule(THURSDAY, DayPolicy::Keep);
        assert!(weekly.check_for(MeetingKind::WeeklyMeeting).is_ok());
        match weekly.check_for(MeetingKind::AnnualEvaluation) {
            Err(Error::Invalid(v)) => {
                assert_eq!(v[0].field, "repeat");
                assert!(v[0].message.zh.contains("年度考评"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn rules_serialise_as_readable_json() {
        let r = rule(
            Repeat::Monthly {
                day: DayRule::NthWeekday {
                    week: WeekOfMonth::Second,
                    weekday: DayOfWeek::Tuesday,
                },
            },
            DayPolicy::NextWorkingDay,
        );
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(
            json,
            r#"{"repeat":{"every":"monthly","day":{"by":"nth_weekday","week":"second","weekday":"tuesday"}},"start":"14:00","duration_minutes":90,"non_working_day":"next_working_day"}"#
        );
        assert_eq!(serde_json::from_str::<Rule>(&json).unwrap(), r);
        let weekly = r#"{"repeat":{"every":"weekly","weekday":"friday"},"start":"9:05","duration_minutes":60}"#;
        let w: Rule = serde_json::from_str(weekly).unwrap();
        assert_eq!(w.start, LocalTime::new(9, 5).unwrap());
        assert_eq!(w.non_working_day, DayPolicy::NextWorkingDay);
        let bad = weekly.replace("9:05", "24:00");
        assert!(serde_json::from_str::<Rule>(&bad).is_err());
        let q = r#"{"repeat":{"every":"quarterly","month_of_quarter":1,"day":{"by":"last_day"}},"start":"15:30","duration_minutes":120,"non_working_day":"keep"}"#;
        let q: Rule = serde_json::from_str(q).unwrap();
        assert!(q.check_for(MeetingKind::QuarterlyReview).is_ok());
    }

    #[test]
    fn local_times_parse() {
        assert_eq!(LocalTime::parse("14:30").unwrap().to_string(), "14:30");
        assert_eq!(LocalTime::parse(" 8：05 ").unwrap().to_string(), "08:05");
        for bad in ["", "14", "24:00", "12:60", "1:5", "a:00", "123:00", "-1:00"] {
            let e = LocalTime::parse(bad).unwrap_err();
            assert_eq!(e.field, "start");
        }
    }

    #[test]
    fn describe_reads_in_both_languages() {
        let r = rule(
            Repeat::Monthly {
                day: DayRule::NthWeekday {
                    week: WeekOfMonth::Second,
                    weekday: DayOfWeek::Tuesday,
                },
            },
            DayPolicy::NextWorkingDay,
        );
        let d = r.describe();
        assert_eq!(
            d.zh,
            "每月第二个星期二 14:00，90 分钟；遇节假日顺延至下一个工作日"
        );
        assert_eq!(
            d.en,
            "monthly on the second Tuesday at 14:00, 90 minutes; moved to the next working day on holidays"
        );
        let a = rule(
            Repeat::Annual {
                month: 12,
                day: DayRule::LastDay,
            },
            DayPolicy::Keep,
        );
        assert!(a
            .describe()
            .en
            .starts_with("yearly in December, on the last day"));
    }

    #[test]
    fn local_times_convert_to_shanghai_ms_without_dst() {
        let r = rule(THURSDAY, DayPolicy::NextWorkingDay);
        let all = occurrences(&r, &cal(), date!(2026 - 01 - 01), date!(2026 - 12 - 31));
        let first = all[0];
        assert_eq!(first.start, datetime!(2026-01-04 14:00));
        // 14:00 in Shanghai is 06:00 UTC.
        assert_eq!(
            first.start_ms(),
            (datetime!(2026-01-04 06:00).assume_utc().unix_timestamp()) * 1000
        );
        for o in &all {
            assert_eq!(o.start_ms().rem_euclid(86_400_000), 6 * 3_600_000);
            assert_eq!(o.end_ms() - o.start_ms(), 90 * 60_000);
            assert_eq!(ms_to_local(o.start_ms()), o.start);
        }
        // A late meeting ends after midnight.
        let mut late = r;
        late.start = LocalTime::new(23, 30).unwrap();
        let o = occurrences(&late, &cal(), date!(2026 - 03 - 05), date!(2026 - 03 - 05))[0];
        assert_eq!(o.end, datetime!(2026-03-06 01:00));
    }

    #[test]
    fn next_after_skips_holidays_and_the_current_start() {
        let r = rule(THURSDAY, DayPolicy::NextWorkingDay);
        let c = cal();
        let n = next_after(&r, &c, datetime!(2026-09-30 12:00)).unwrap();
        assert_eq!(n.date, date!(2026 - 10 - 08));
        let n2 = next_after(&r, &c, n.start).unwrap();
        assert_eq!(n2.date, date!(2026 - 10 - 15));
        let just_before = next_after(&r, &c, datetime!(2026-10-15 13:59)).unwrap();
        assert_eq!(just_before.date, date!(2026 - 10 - 15));
        let a = rule(
            Repeat::Annual {
                month: 1,
                day: DayRule::DayOfMonth { day: 10 },
            },
            DayPolicy::Keep,
        );
        assert_eq!(
            next_after(&a, &c, datetime!(2026-01-10 14:00))
                .unwrap()
                .date,
            date!(2027 - 01 - 10)
        );
        let ms = local_to_ms(datetime!(2026-01-10 13:00));
        assert_eq!(
            next_after_ms(&a, &c, ms).unwrap().date,
            date!(2026 - 01 - 10)
        );
        let never = rule(
            Repeat::Annual {
                month: 2,
                day: DayRule::DayOfMonth { day: 30 },
            },
            DayPolicy::Keep,
        );
        assert_eq!(next_after(&never, &c, datetime!(2026-01-01 00:00)), None);
    }

    #[test]
    fn labels_follow_the_glossary() {
        assert_eq!(Step::DailyContact.label().zh, "日常联系");
        assert_eq!(Step::QuarterlyReview.short_label().zh, "季研");
        assert_eq!(
            MeetingKind::AnnualEvaluation.label().en,
            "Annual evaluation"
        );
        assert_eq!(Step::DailyContact.meeting(), None);
        for k in ALL_MEETING_KINDS {
            assert_eq!(MeetingKind::from_code(k.code()), Some(k));
            assert_eq!(k.step().meeting(), Some(k));
        }
        for s in ALL_STEPS {
            assert_eq!(Step::from_code(s.code()), Some(s));
        }
    }

    fn any_weekday() -> impl Strategy<Value = DayOfWeek> {
        (0usize..7).prop_map(|i| ALL_DAYS_OF_WEEK[i])
    }

    fn any_day_rule() -> impl Strategy<Value = DayRule> {
        let week = prop_oneof![
            Just(WeekOfMonth::First),
            Just(WeekOfMonth::Second),
            Just(WeekOfMonth::Third),
            Just(WeekOfMonth::Fourth),
            Just(WeekOfMonth::Last),
        ];
        prop_oneof![
            (1u8..=31).prop_map(|day| DayRule::DayOfMonth { day }),
            Just(DayRule::LastDay),
            (week, any_weekday()).prop_map(|(week, weekday)| DayRule::NthWeekday { week, weekday }),
        ]
    }

    fn any_rule() -> impl Strategy<Value = Rule> {
        let repeat = prop_oneof![
            any_weekday().prop_map(|weekday| Repeat::Weekly { weekday }),
            any_day_rule().prop_map(|day| Repeat::Monthly { day }),
            (1u8..=3, any_day_rule()).prop_map(|(month_of_quarter, day)| Repeat::Quarterly {
                month_of_quarter,
                day
            }),
            (1u8..=12, any_day_rule()).prop_map(|(month, day)| Repeat::Annual { month, day }),
        ];
        let policy = prop_oneof![
            Just(DayPolicy::Keep),
            Just(DayPolicy::NextWorkingDay),
            Just(DayPolicy::PreviousWorkingDay),
        ];
        (repeat, 0u8..24, 0u8..60, 1u32..=720, policy).prop_map(|(repeat, h, m, d, p)| Rule {
            repeat,
            start: LocalTime::new(h, m).unwrap_or(LocalTime { hour: 0, minute: 0 }),
            duration_minutes: d,
            non_working_day: p,
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn occurrences_are_ordered_unique_in_range_and_split_cleanly(
            r in any_rule(),
            start in 0i64..900,
            len in 0i64..400,
            cut in 0i64..400,
        ) {
            let c = cal();
            let from = date!(2025 - 01 - 01) + Duration::days(start);
            let to = from + Duration::days(len);
            let occ = occurrences(&r, &c, from, to);
            for w in occ.windows(2) {
                prop_assert!(w[0].date < w[1].date);
                prop_assert!(w[0].start < w[1].start);
            }
            for o in &occ {
                prop_assert!(o.date >= from && o.date <= to);
                prop_assert_eq!(o.start.date(), o.date);
                prop_assert_eq!(o.start.time(), r.start.to_time());
                prop_assert_eq!(
                    o.end - o.start,
                    Duration::minutes(i64::from(r.duration_minutes))
                );
                match r.non_working_day {
                    DayPolicy::Keep => prop_assert_eq!(o.date, o.nominal),
                    DayPolicy::NextWorkingDay => {
                        prop_assert!(o.date >= o.nominal);
                        prop_assert!(c.is_working_day(o.date));
                    }
                    DayPolicy::PreviousWorkingDay => {
                        prop_assert!(o.date <= o.nominal);
                        prop_assert!(c.is_working_day(o.date));
                    }
                }
            }
            // Splitting the range changes nothing.
            let mid = from + Duration::days(cut.min(len));
            let mut joined = occurrences(&r, &c, from, mid);
            if mid < to {
                joined.extend(occurrences(&r, &c, mid + Duration::days(1), to));
            }
            prop_assert_eq!(&joined, &occ);
            // The next meeting after any instant is the first one that starts later.
            let probe = PrimitiveDateTime::new(from, Time::from_hms(12, 0, 0).unwrap());
            if let Some(first) = occ.iter().find(|o| o.start > probe) {
                prop_assert_eq!(next_after(&r, &c, probe), Some(*first));
            }
        }
    }
}
