//! The case deadline calculator: Xiayang's 12345 handling rule on the working-day calendar.
//!
//! # Working-day periods (Civil Code arts. 201 and 203)
//! The clock starts at an instant (dispatch, or the unsatisfied return call for re-handling),
//! read in Asia/Shanghai time. The day on which it starts is not counted, whatever the hour;
//! counting begins with the next working day; a period of N working days ends at 24:00 of its
//! N-th working day, or, when the profile says so, at the end of office hours of that day
//! ([`DayEnd::OfficeClose`]). So a case dispatched on the Friday before a make-up Saturday has
//! that Saturday as its first working day.
//!
//! # Hour periods (urgent categories)
//! Counted in plain clock hours from the start instant, nights, weekends and holidays included:
//! a gas leak does not wait for Monday.
//!
//! # Pauses (the clock stops while the case waits for the resident)
//! - A pause is an interval `[from, until)`; pauses before the start are cut at the start,
//!   overlapping pauses are merged.
//! - Working-day periods: a working day after the start day is *not counted* when any pause
//!   touches its counting window, which runs from 00:00 to the day's end ([`DayEnd`]). In other
//!   words, the deadline moves on by one working day for each working day that was wholly or
//!   partly paused before it was reached. Paused rest days change nothing (they were not counted
//!   anyway), nor does a pause on the start day alone, nor a pause begun after the deadline had
//!   passed: a late case stays late.
//! - Hour periods: the deadline moves on by the paused duration that began before it.
//! - An open pause (the case is still waiting) lasts, for the calculation, until the evaluation
//!   instant `as_of`; for working-day periods it covers the whole of `as_of`'s day. The result
//!   is then [`Due::provisional`]: it moves on while the pause lasts.
//!
//! # Status and escalation
//! [`Status`] at an instant: overdue strictly after the due instant (exactly at it is still in
//! time); paused while a pause is running; due soon inside the [`WarningWindow`] — for
//! working-day periods from 00:00 of the last `working_days` counted working days (default: on
//! the due day itself), for hour periods in the last `hours_percent` of the period (default: the
//! last quarter); on time otherwise. [`EscalationLevel`]: none up to the due instant, the
//! community once overdue, the subdistrict once overdue past the end of a further
//! [`EscalationRule::further_working_days`] working days (default 1). Pauses do not hold back
//! escalation: they can only start before the due to matter, and then they moved the due.
//!
//! Everything here is pure: instants are Unix milliseconds passed in, never read from a clock.

use serde::{Deserialize, Serialize};
use time::Date;

use super::Calendar;
use crate::clock::SHANGHAI;
use crate::error::FieldError;
use crate::i18n::Text;

pub const MS_PER_MINUTE: i64 = 60_000;
pub const MS_PER_HOUR: i64 = 3_600_000;
/// The longest working-day period: complex cases, with approval (15 working days).
pub const MAX_WORKING_DAYS: u32 = 15;
/// The longest hour period a profile may hold (30 days).
pub const MAX_HOURS: u32 = 720;
/// Working-day periods beyond this are computed as this (a guard against a corrupt value
/// walking the calendar for billions of days; valid profiles never get near it).
const COMPUTE_CAP_DAYS: u32 = 1_000;

/// The local (Shanghai) date of an instant.
pub fn local_date(ms: i64) -> Date {
    crate::clock::to_local(ms).date()
}

/// The instant of 00:00 Shanghai time on `d`.
pub fn midnight_ms(d: Date) -> i64 {
    d.midnight().assume_offset(SHANGHAI).unix_timestamp() * 1000
}

/// A deadline's length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    /// N working days, counted from the day after the start (`{"working_days": 5}`).
    WorkingDays(u32),
    /// N clock hours from the start instant (`{"hours": 24}`).
    Hours(u32),
}

impl Period {
    /// Refuses empty periods and periods longer than [`MAX_WORKING_DAYS`] / [`MAX_HOURS`].
    pub fn validate(self) -> Result<(), Text> {
        match self {
            Period::WorkingDays(n) if (1..=MAX_WORKING_DAYS).contains(&n) => Ok(()),
            Period::WorkingDays(_) => Err(Text::owned(
                format!("工作日期限应为 1 到 {MAX_WORKING_DAYS} 个工作日"),
                format!("a working-day period must be 1 to {MAX_WORKING_DAYS} working days"),
            )),
            Period::Hours(n) if (1..=MAX_HOURS).contains(&n) => Ok(()),
            Period::Hours(_) => Err(Text::owned(
                format!("小时期限应为 1 到 {MAX_HOURS} 小时"),
                format!("an hour period must be 1 to {MAX_HOURS} hours"),
            )),
        }
    }

    /// `5 个工作日` / `5 working days`.
    pub fn label(self) -> Text {
        match self {
            Period::WorkingDays(n) => Text::owned(
                format!("{n} 个工作日"),
                format!("{n} working day{}", if n == 1 { "" } else { "s" }),
            ),
            Period::Hours(n) => Text::owned(
                format!("{n} 小时"),
                format!("{n} hour{}", if n == 1 { "" } else { "s" }),
            ),
        }
    }
}

/// Where a working day ends for deadlines: 24:00 (the Civil Code's default) or the end of
/// office hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayEnd {
    /// 24:00, i.e. 00:00 of the next day (`"midnight"`).
    #[default]
    Midnight,
    /// The end of office hours (`{"office_close": {"hour": 17, "minute": 30}}`).
    OfficeClose { hour: u8, minute: u8 },
}

impl DayEnd {
    pub const fn office_close(hour: u8, minute: u8) -> DayEnd {
        DayEnd::OfficeClose { hour, minute }
    }

    /// Minutes after midnight at which the day ends (1..=1440). An out-of-range office close
    /// (refused by [`DayEnd::validate`]) is clamped rather than trusted.
    pub fn minutes(self) -> i64 {
        match self {
            DayEnd::Midnight => 1440,
            DayEnd::OfficeClose { hour, minute } => {
                (i64::from(hour) * 60 + i64::from(minute)).clamp(1, 1440)
            }
        }
    }

    /// The instant at which `d` ends.
    pub fn end_ms(self, d: Date) -> i64 {
        midnight_ms(d) + self.minutes() * MS_PER_MINUTE
    }

    pub fn validate(self) -> Result<(), Text> {
        match self {
            DayEnd::Midnight => Ok(()),
            DayEnd::OfficeClose { hour, minute }
                if hour < 24 && minute < 60 && hour + minute > 0 =>
            {
                Ok(())
            }
            DayEnd::OfficeClose { .. } => Err(Text::new(
                "下班时间应在 00:01 到 23:59 之间",
                "office hours must end between 00:01 and 23:59",
            )),
        }
    }
}

/// The three clocks of a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// From dispatch to the first contact with the resident.
    FirstContact,
    /// From dispatch to the "handled" report.
    Handling,
    /// From an unsatisfied return call to the new "handled" report.
    Rehandling,
}

/// A category's deadlines. Plain data, stored with the category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DeadlineProfile {
    pub first_contact: Period,
    pub handling: Period,
    pub rehandling: Period,
    /// Where the last working day ends; 24:00 when absent.
    #[serde(default)]
    pub day_end: DayEnd,
}

impl DeadlineProfile {
    /// Xiayang's 12345 rule: first contact within 1 working day, handling within 5, re-handling
    /// after an unsatisfied return call within 3.
    pub const STANDARD: DeadlineProfile = DeadlineProfile {
        first_contact: Period::WorkingDays(1),
        handling: Period::WorkingDays(5),
        rehandling: Period::WorkingDays(3),
        day_end: DayEnd::Midnight,
    };
    /// Consultations (policy questions): answered within 1 working day.
    pub const CONSULTATION: DeadlineProfile = DeadlineProfile {
        first_contact: Period::WorkingDays(1),
        handling: Period::WorkingDays(1),
        rehandling: Period::WorkingDays(1),
        day_end: DayEnd::Midnight,
    };
    /// Urgent categories (safety hazards, threats), handled at once: contact within 1 hour,
    /// handled within 24 hours, re-handled within 24 hours. Categories may tune the hours.
    pub const URGENT: DeadlineProfile = DeadlineProfile {
        first_contact: Period::Hours(1),
        handling: Period::Hours(24),
        rehandling: Period::Hours(24),
        day_end: DayEnd::Midnight,
    };

    pub fn period(&self, stage: Stage) -> Period {
        match stage {
            Stage::FirstContact => self.first_contact,
            Stage::Handling => self.handling,
            Stage::Rehandling => self.rehandling,
        }
    }

    /// The deadline of `stage` for a clock started at `start_ms`.
    pub fn deadline(&self, stage: Stage, start_ms: i64) -> Deadline {
        Deadline {
            start_ms,
            period: self.period(stage),
            day_end: self.day_end,
        }
    }

    /// Every field's problem, for the category form: each period valid, the day end valid, and
    /// first contact not later than handling when both count in the same unit.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        for (field, p) in [
            ("first_contact", self.first_contact),
            ("handling", self.handling),
            ("rehandling", self.rehandling),
        ] {
            if let Err(t) = p.validate() {
                errors.push(FieldError::new(field, t));
            }
        }
        if let Err(t) = self.day_end.validate() {
            errors.push(FieldError::new("day_end", t));
        }
        let later = match (self.first_contact, self.handling) {
            (Period::WorkingDays(a), Period::WorkingDays(b))
            | (Period::Hours(a), Period::Hours(b)) => a > b,
            _ => false,
        };
        if later {
            errors.push(FieldError::new(
                "first_contact",
                Text::new(
                    "首次联系期限不能长于办理期限",
                    "first contact cannot take longer than handling",
                ),
            ));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

/// The handling period of a complex case after an approved extension to `days` working days:
/// longer than the current period and at most [`MAX_WORKING_DAYS`]. Hour periods (urgent
/// cases) are not extended.
pub fn approved_extension(current: Period, days: u32) -> Result<Period, Text> {
    match current {
        Period::Hours(_) => Err(Text::new(
            "按小时计的紧急期限不能延期",
            "an urgent hour period cannot be extended",
        )),
        Period::WorkingDays(c) if days > c && days <= MAX_WORKING_DAYS => {
            Ok(Period::WorkingDays(days))
        }
        Period::WorkingDays(c) => Err(Text::owned(
            format!("延期后应长于现有的 {c} 个工作日，且不超过 {MAX_WORKING_DAYS} 个工作日"),
            format!(
                "an extension must be longer than the current {c} working days and at most {MAX_WORKING_DAYS}"
            ),
        )),
    }
}

/// A time the case waited for the resident: `[from_ms, until_ms)`, open while still waiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Pause {
    pub from_ms: i64,
    pub until_ms: Option<i64>,
}

impl Pause {
    pub fn closed(from_ms: i64, until_ms: i64) -> Pause {
        Pause {
            from_ms,
            until_ms: Some(until_ms),
        }
    }

    pub fn open(from_ms: i64) -> Pause {
        Pause {
            from_ms,
            until_ms: None,
        }
    }

    /// Whether the clock is stopped at `ms`.
    pub fn contains(&self, ms: i64) -> bool {
        self.from_ms <= ms && self.until_ms.is_none_or(|u| ms < u)
    }

    /// Refuses a pause that ends before it starts.
    pub fn validate(&self) -> Result<(), Text> {
        match self.until_ms {
            Some(u) if u < self.from_ms => Err(Text::new(
                "暂停的结束早于开始",
                "the pause ends before it starts",
            )),
            _ => Ok(()),
        }
    }
}

/// When warnings start (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct WarningWindow {
    /// Working-day periods: due soon from 00:00 of the last this many counted working days
    /// (1 = on the due day; 0 = never warn).
    pub working_days: u32,
    /// Hour periods: due soon in the last this percentage of the period (0 = never warn).
    pub hours_percent: u8,
}

impl Default for WarningWindow {
    fn default() -> Self {
        WarningWindow {
            working_days: 1,
            hours_percent: 25,
        }
    }
}

/// When an overdue case goes up to the subdistrict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct EscalationRule {
    /// Overdue past the end of this many further working days after the due day
    /// (0 = straight to the subdistrict).
    pub further_working_days: u32,
}

impl Default for EscalationRule {
    fn default() -> Self {
        EscalationRule {
            further_working_days: 1,
        }
    }
}

/// Where a case is in its deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Status {
    OnTime,
    DueSoon,
    /// The clock is stopped (waiting for the resident) and the case was not late.
    Paused,
    /// Late by this many milliseconds of clock time.
    Overdue {
        by_ms: i64,
    },
}

impl Status {
    pub fn label(self) -> Text {
        match self {
            Status::OnTime => Text::new("正常", "on time"),
            Status::DueSoon => Text::new("即将到期", "due soon"),
            Status::Paused => Text::new("暂停计时", "paused"),
            Status::Overdue { .. } => Text::new("已超期", "overdue"),
        }
    }
}

/// How far up the tree an overdue case has gone: the owner (grid) alone, the community, the
/// subdistrict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EscalationLevel {
    /// Level 0: not overdue.
    None,
    /// Level 1: overdue; the community is told.
    Community,
    /// Level 2: overdue by more than the rule's further working days; the subdistrict is told.
    Subdistrict,
}

impl EscalationLevel {
    pub fn level(self) -> u8 {
        match self {
            EscalationLevel::None => 0,
            EscalationLevel::Community => 1,
            EscalationLevel::Subdistrict => 2,
        }
    }

    pub fn label(self) -> Text {
        match self {
            EscalationLevel::None => Text::new("未升级", "not escalated"),
            EscalationLevel::Community => Text::new("已升级至社区", "escalated to the community"),
            EscalationLevel::Subdistrict => {
                Text::new("已升级至街道", "escalated to the subdistrict")
            }
        }
    }
}

/// The computed due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    /// The instant the period ends (for 24:00, the next day's 00:00).
    pub at_ms: i64,
    /// Working-day periods: the last counted working day (what pages show as "due on").
    pub last_day: Option<Date>,
    /// An open pause moved the due: it moves on while the pause lasts.
    pub provisional: bool,
    /// Years the count ran through that have no calendar text (plain weekdays were assumed):
    /// the caller should warn that the result may be wrong around their holidays.
    pub uncovered_years: Vec<i32>,
}

/// Due, status and escalation at one instant, computed together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessment {
    pub due: Due,
    pub status: Status,
    pub escalation: EscalationLevel,
}

/// One clock: when it started, how long it runs, where its days end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Deadline {
    pub start_ms: i64,
    pub period: Period,
    #[serde(default)]
    pub day_end: DayEnd,
}

impl Deadline {
    pub fn new(start_ms: i64, period: Period, day_end: DayEnd) -> Deadline {
        Deadline {
            start_ms,
            period,
            day_end,
        }
    }

    /// The pauses as sorted, merged, non-empty `[from, until)` intervals from the start on;
    /// an open pause ends at `open_until(from)`.
    fn intervals(&self, pauses: &[Pause], open_until: impl Fn(i64) -> i64) -> Vec<(i64, i64)> {
        let mut v: Vec<(i64, i64)> = pauses
            .iter()
            .filter_map(|p| {
                let until = p.until_ms.unwrap_or_else(|| open_until(p.from_ms));
                let from = p.from_ms.max(self.start_ms);
                (until > from).then_some((from, until))
            })
            .collect();
        v.sort_unstable();
        let mut merged: Vec<(i64, i64)> = Vec::with_capacity(v.len());
        for (f, u) in v {
            match merged.last_mut() {
                Some(last) if f <= last.1 => last.1 = last.1.max(u),
                _ => merged.push((f, u)),
            }
        }
        merged
    }

    /// The due and, for working-day periods, the counted working days in order.
    fn compute(&self, cal: &Calendar, pauses: &[Pause], as_of_ms: i64) -> (Due, Vec<Date>) {
        match self.period {
            Period::Hours(h) => {
                let iv = self.intervals(pauses, |from| from.max(as_of_ms));
                let mut at = self.start_ms + i64::from(h) * MS_PER_HOUR;
                for (f, u) in iv {
                    if f < at {
                        at += u - f;
                    }
                }
                let provisional = pauses
                    .iter()
                    .any(|p| p.until_ms.is_none() && p.from_ms.max(self.start_ms) < at);
                let due = Due {
                    at_ms: at,
                    last_day: None,
                    provisional,
                    uncovered_years: Vec::new(),
                };
                (due, Vec::new())
            }
            Period::WorkingDays(n) => {
                let n = n.min(COMPUTE_CAP_DAYS) as usize;
                let iv = self.intervals(pauses, |from| {
                    let day = local_date(from.max(as_of_ms));
                    midnight_ms(day.next_day().expect("far from the end of time"))
                });
                let start_day = local_date(self.start_ms);
                let mut counted = Vec::with_capacity(n);
                let mut d = start_day;
                while counted.len() < n {
                    d = d.next_day().expect("far from the end of time");
                    if !cal.is_working_day(d) {
                        continue;
                    }
                    let (a, b) = (midnight_ms(d), self.day_end.end_ms(d));
                    if iv.iter().any(|&(f, u)| f < b && u > a) {
                        continue;
                    }
                    counted.push(d);
                }
                let (at, last_day, uncovered) = match counted.last() {
                    Some(&last) => (
                        self.day_end.end_ms(last),
                        Some(last),
                        cal.uncovered_years(start_day.next_day().unwrap_or(start_day), last),
                    ),
                    None => (self.start_ms, None, Vec::new()),
                };
                let provisional = pauses
                    .iter()
                    .any(|p| p.until_ms.is_none() && p.from_ms.max(self.start_ms) < at);
                let due = Due {
                    at_ms: at,
                    last_day,
                    provisional,
                    uncovered_years: uncovered,
                };
                (due, counted)
            }
        }
    }

    /// The due instant, the pauses taken into account, open ones as lasting until `as_of_ms`.
    pub fn due(&self, cal: &Calendar, pauses: &[Pause], as_of_ms: i64) -> Due {
        self.compute(cal, pauses, as_of_ms).0
    }

    /// Due, status and escalation at `as_of_ms`.
    pub fn assess(
        &self,
        cal: &Calendar,
        pauses: &[Pause],
        as_of_ms: i64,
        warning: &WarningWindow,
        escalation: &EscalationRule,
    ) -> Assessment {
        let (due, counted) = self.compute(cal, pauses, as_of_ms);
        let status = if as_of_ms > due.at_ms {
            Status::Overdue {
                by_ms: as_of_ms - due.at_ms,
            }
        } else if pauses.iter().any(|p| p.contains(as_of_ms)) {
            Status::Paused
        } else {
            let warn_from = match self.period {
                Period::Hours(h) if warning.hours_percent > 0 => {
                    let window =
                        i64::from(h) * MS_PER_HOUR * i64::from(warning.hours_percent.min(100))
                            / 100;
                    Some(due.at_ms - window)
                }
                Period::WorkingDays(_) if warning.working_days > 0 => {
                    let k = warning.working_days as usize;
                    Some(if k > counted.len() {
                        self.start_ms
                    } else {
                        midnight_ms(counted[counted.len() - k])
                    })
                }
                _ => None,
            };
            match warn_from {
                Some(w) if as_of_ms >= w => Status::DueSoon,
                _ => Status::OnTime,
            }
        };
        let level = if as_of_ms <= due.at_ms {
            EscalationLevel::None
        } else {
            let k = escalation.further_working_days;
            let threshold = if k == 0 {
                due.at_ms
            } else {
                let base = local_date(due.at_ms - 1);
                self.day_end.end_ms(cal.add_working_days(base, k))
            };
            if as_of_ms > threshold {
                EscalationLevel::Subdistrict
            } else {
                EscalationLevel::Community
            }
        };
        Assessment {
            due,
            status,
            escalation: level,
        }
    }

    /// The status at `as_of_ms` (see [`Deadline::assess`]).
    pub fn status(
        &self,
        cal: &Calendar,
        pauses: &[Pause],
        as_of_ms: i64,
        warning: &WarningWindow,
    ) -> Status {
        self.assess(cal, pauses, as_of_ms, warning, &EscalationRule::default())
            .status
    }

    /// The escalation level at `as_of_ms` (see [`Deadline::assess`]).
    pub fn escalation(
        &self,
        cal: &Calendar,
        pauses: &[Pause],
        as_of_ms: i64,
        rule: &EscalationRule,
    ) -> EscalationLevel {
        self.assess(cal, pauses, as_of_ms, &WarningWindow::default(), rule)
            .escalation
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::{date, datetime};
    use time::PrimitiveDateTime;

    fn ms(t: PrimitiveDateTime) -> i64 {
        let o = t.assume_offset(SHANGHAI);
        o.unix_timestamp() * 1000 + i64::from(o.millisecond())
    }

    /// 24:00 of `d`.
    fn end(d: Date) -> i64 {
        midnight_ms(d.next_day().unwrap())
    }

    fn cal() -> Calendar {
        Calendar::shipped()
    }

    fn days(start: PrimitiveDateTime, n: u32) -> Deadline {
        Deadline::new(ms(start), Period::WorkingDays(n), DayEnd::Midnight)
    }

    fn hours(start: PrimitiveDateTime, n: u32) -> Deadline {
        Deadline::new(ms(start), Period::Hours(n), DayEnd::Midnight)
    }

    const H: i64 = MS_PER_HOUR;

    #[test]
    fn friday_before_a_make_up_saturday() {
        let cal = cal();
        // 2026-02-13 is a Friday, 2026-02-14 a make-up Saturday, then the Spring Festival.
        let d = days(datetime!(2026-02-13 16:00), 1);
        assert_eq!(
            d.due(&cal, &[], d.start_ms).last_day,
            Some(date!(2026 - 02 - 14))
        );
        assert_eq!(
            d.due(&cal, &[], d.start_ms).at_ms,
            end(date!(2026 - 02 - 14))
        );
        let d = days(datetime!(2026-02-13 16:00), 3);
        assert_eq!(
            d.due(&cal, &[], d.start_ms).last_day,
            Some(date!(2026 - 02 - 25))
        );
        // The same in 2025: Friday 2025-10-10, make-up Saturday 2025-10-11.
        let d = days(datetime!(2025-10-10 09:00), 1);
        assert_eq!(
            d.due(&cal, &[], d.start_ms).last_day,
            Some(date!(2025 - 10 - 11))
        );
        // An ordinary Friday: the first working day is Monday.
        let d = days(datetime!(2026-03-06 09:00), 1);
        assert_eq!(
            d.due(&cal, &[], d.start_ms).last_day,
            Some(date!(2026 - 03 - 09))
        );
    }

    #[test]
    fn year_boundary_2025_to_2026() {
        let cal = cal();
        // Dispatched 2025-12-31: 2026-01-01..03 are holidays, 2026-01-04 (Sunday) is worked.
        for (n, last) in [
            (1, date!(2026 - 01 - 04)),
            (2, date!(2026 - 01 - 05)),
            (5, date!(2026 - 01 - 08)),
            (15, date!(2026 - 01 - 22)),
        ] {
            let d = days(datetime!(2025-12-31 18:00), n);
            let due = d.due(&cal, &[], d.start_ms);
            assert_eq!(due.last_day, Some(last), "{n}");
            assert!(due.uncovered_years.is_empty());
        }
    }

    #[test]
    fn uncovered_years_are_reported() {
        let cal = cal();
        // 2026-12-31 is a Thursday; 2027 has no text, so 2027-01-01 (Friday) counts as worked.
        let d = days(datetime!(2026-12-31 10:00), 1);
        let due = d.due(&cal, &[], d.start_ms);
        assert_eq!(due.last_day, Some(date!(2027 - 01 - 01)));
        assert_eq!(due.uncovered_years, vec![2027]);
        // A count that stays in 2026 warns of nothing.
        let d = days(datetime!(2026-12-30 10:00), 1);
        assert!(d.due(&cal, &[], d.start_ms).uncovered_years.is_empty());
        // With no calendar at all, every year is reported.
        let d = days(datetime!(2026-12-30 10:00), 5);
        let due = d.due(&Calendar::empty(), &[], d.start_ms);
        assert_eq!(due.last_day, Some(date!(2027 - 01 - 06)));
        assert_eq!(due.uncovered_years, vec![2026, 2027]);
        // Hour periods do not use the calendar.
        let d = hours(datetime!(2027-01-01 10:00), 2);
        assert!(d.due(&cal, &[], d.start_ms).uncovered_years.is_empty());
    }

    #[test]
    fn office_hours_end_rule() {
        let cal = cal();
        let close = DayEnd::office_close(17, 30);
        // Dispatched Monday 2026-03-09 after office hours: Tuesday is still day 1.
        let d = Deadline::new(
            ms(datetime!(2026-03-09 20:00)),
            Period::WorkingDays(1),
            close,
        );
        let due = d.due(&cal, &[], d.start_ms);
        assert_eq!(due.at_ms, ms(datetime!(2026-03-10 17:30)));
        assert_eq!(due.last_day, Some(date!(2026 - 03 - 10)));
        // Overdue from 17:30:00.001.
        let w = WarningWindow::default();
        assert_eq!(d.status(&cal, &[], due.at_ms, &w), Status::DueSoon);
        assert_eq!(
            d.status(&cal, &[], due.at_ms + 1, &w),
            Status::Overdue { by_ms: 1 }
        );
        // The profile carries the rule.
        let p = DeadlineProfile {
            day_end: close,
            ..DeadlineProfile::STANDARD
        };
        let d = p.deadline(Stage::Handling, ms(datetime!(2026-03-09 08:00)));
        assert_eq!(
            d.due(&cal, &[], d.start_ms).at_ms,
            ms(datetime!(2026-03-16 17:30))
        );
        assert_eq!(DayEnd::Midnight.minutes(), 1440);
        assert_eq!(DayEnd::office_close(30, 0).minutes(), 1440);
    }

    #[test]
    fn hour_periods_run_through_holidays() {
        let cal = cal();
        // Spring Festival 2026: 24 hours from the first holiday's afternoon.
        let d = hours(datetime!(2026-02-15 15:00), 24);
        assert_eq!(
            d.due(&cal, &[], d.start_ms).at_ms,
            ms(datetime!(2026-02-16 15:00))
        );
        let d =
            DeadlineProfile::URGENT.deadline(Stage::FirstContact, ms(datetime!(2026-10-01 23:30)));
        let due = d.due(&cal, &[], d.start_ms);
        assert_eq!(due.at_ms, ms(datetime!(2026-10-02 00:30)));
        assert_eq!(due.last_day, None);
    }

    #[test]
    fn pauses_extend_working_day_periods() {
        let cal = cal();
        // Monday 2026-03-09 10:00, 5 working days: due Monday 2026-03-16 24:00.
        let d = days(datetime!(2026-03-09 10:00), 5);
        let base = d.due(&cal, &[], d.start_ms);
        assert_eq!(base.last_day, Some(date!(2026 - 03 - 16)));
        // Paused Wednesday 11:00 to 15:00: Wednesday is partly paused, +1 working day.
        let p = [Pause::closed(
            ms(datetime!(2026-03-11 11:00)),
            ms(datetime!(2026-03-11 15:00)),
        )];
        assert_eq!(
            d.due(&cal, &p, d.start_ms).last_day,
            Some(date!(2026 - 03 - 17))
        );
        // Paused Thursday 16:00 to Monday 09:00: Thursday, Friday, Monday touched, +3.
        let p = [Pause::closed(
            ms(datetime!(2026-03-12 16:00)),
            ms(datetime!(2026-03-16 09:00)),
        )];
        assert_eq!(
            d.due(&cal, &p, d.start_ms).last_day,
            Some(date!(2026 - 03 - 19))
        );
        // Ending exactly at midnight does not touch the next day.
        let p = [Pause::closed(
            ms(datetime!(2026-03-11 11:00)),
            ms(datetime!(2026-03-12 00:00)),
        )];
        assert_eq!(
            d.due(&cal, &p, d.start_ms).last_day,
            Some(date!(2026 - 03 - 17))
        );
        // Two overlapping pauses on one day count that day once.
        let p = [
            Pause::closed(
                ms(datetime!(2026-03-11 11:00)),
                ms(datetime!(2026-03-11 15:00)),
            ),
            Pause::closed(
                ms(datetime!(2026-03-11 14:00)),
                ms(datetime!(2026-03-11 16:00)),
            ),
        ];
        assert_eq!(
            d.due(&cal, &p, d.start_ms).last_day,
            Some(date!(2026 - 03 - 17))
        );
        // A pause on the start day only: that day is not counted anyway.
        let p = [Pause::closed(
            ms(datetime!(2026-03-09 11:00)),
            ms(datetime!(2026-03-09 18:00)),
        )];
        assert_eq!(d.due(&cal, &p, d.start_ms), base);
        // A pause before the start is cut at the start.
        let p = [Pause::closed(
            ms(datetime!(2026-03-01 11:00)),
            ms(datetime!(2026-03-09 12:00)),
        )];
        assert_eq!(d.due(&cal, &p, d.start_ms), base);
        // A pause begun after the due changes nothing: a late case stays late.
        let p = [Pause::closed(
            ms(datetime!(2026-03-17 09:00)),
            ms(datetime!(2026-03-20 09:00)),
        )];
        assert_eq!(d.due(&cal, &p, d.start_ms), base);
        // An empty or backwards pause is ignored (and refused by validate).
        let bad = Pause::closed(
            ms(datetime!(2026-03-11 11:00)),
            ms(datetime!(2026-03-11 10:00)),
        );
        assert!(bad.validate().is_err());
        assert_eq!(d.due(&cal, &[bad], d.start_ms), base);
    }

    #[test]
    fn pauses_with_office_hours_use_the_day_window() {
        let cal = cal();
        let close = DayEnd::office_close(17, 30);
        let d = Deadline::new(
            ms(datetime!(2026-03-09 10:00)),
            Period::WorkingDays(1),
            close,
        );
        // Due Tuesday 17:30; a pause on Tuesday evening, after the due, changes nothing.
        let p = [Pause::closed(
            ms(datetime!(2026-03-10 18:00)),
            ms(datetime!(2026-03-10 20:00)),
        )];
        assert_eq!(
            d.due(&cal, &p, d.start_ms).at_ms,
            ms(datetime!(2026-03-10 17:30))
        );
        // A pause from Monday 18:00 to Tuesday 08:00 touches Tuesday's window.
        let p = [Pause::closed(
            ms(datetime!(2026-03-09 18:00)),
            ms(datetime!(2026-03-10 08:00)),
        )];
        assert_eq!(
            d.due(&cal, &p, d.start_ms).at_ms,
            ms(datetime!(2026-03-11 17:30))
        );
    }

    #[test]
    fn pauses_spanning_a_holiday() {
        let cal = cal();
        // Wednesday 2026-09-30, 5 days: Oct 8, 9, 10 (make-up Saturday), 12, 13.
        let d = days(datetime!(2026-09-30 10:00), 5);
        assert_eq!(
            d.due(&cal, &[], d.start_ms).last_day,
            Some(date!(2026 - 10 - 13))
        );
        // Paused from the afternoon through the National Day holiday into Oct 8 morning: only
        // Oct 8 is a paused working day, so +1.
        let p = [Pause::closed(
            ms(datetime!(2026-09-30 15:00)),
            ms(datetime!(2026-10-08 09:00)),
        )];
        assert_eq!(
            d.due(&cal, &p, d.start_ms).last_day,
            Some(date!(2026 - 10 - 14))
        );
        // Paused on the make-up Saturday: it is a working day, so +1 too.
        let p = [Pause::closed(
            ms(datetime!(2026-10-10 09:00)),
            ms(datetime!(2026-10-10 10:00)),
        )];
        assert_eq!(
            d.due(&cal, &p, d.start_ms).last_day,
            Some(date!(2026 - 10 - 14))
        );
        // Paused on Sunday Oct 11 (rest): nothing.
        let p = [Pause::closed(
            ms(datetime!(2026-10-11 09:00)),
            ms(datetime!(2026-10-11 10:00)),
        )];
        assert_eq!(
            d.due(&cal, &p, d.start_ms).last_day,
            Some(date!(2026 - 10 - 13))
        );
    }

    #[test]
    fn open_pauses_are_provisional() {
        let cal = cal();
        let w = WarningWindow::default();
        let d = days(datetime!(2026-03-09 10:00), 1);
        // Waiting since Monday 15:00 (the start day).
        let p = [Pause::open(ms(datetime!(2026-03-09 15:00)))];
        // Seen on Monday evening: nothing paused yet that counts, but the due may still move.
        let due = d.due(&cal, &p, ms(datetime!(2026-03-09 20:00)));
        assert_eq!(due.last_day, Some(date!(2026 - 03 - 10)));
        assert!(due.provisional);
        // Seen on Tuesday: Tuesday is paused, so the due is Wednesday for now.
        let now = ms(datetime!(2026-03-10 23:00));
        let due = d.due(&cal, &p, now);
        assert_eq!(due.last_day, Some(date!(2026 - 03 - 11)));
        assert_eq!(d.status(&cal, &p, now, &w), Status::Paused);
        // Seen the Friday after: Tue–Fri paused, due Monday.
        let due = d.due(&cal, &p, ms(datetime!(2026-03-13 09:00)));
        assert_eq!(due.last_day, Some(date!(2026 - 03 - 16)));
        // Once closed on Friday 09:00 the due is fixed and no longer provisional.
        let closed = [Pause::closed(
            ms(datetime!(2026-03-09 15:00)),
            ms(datetime!(2026-03-13 09:00)),
        )];
        let due2 = d.due(&cal, &closed, ms(datetime!(2026-03-20 09:00)));
        assert_eq!(due2.last_day, Some(date!(2026 - 03 - 16)));
        assert!(!due2.provisional);
        // An open pause begun after the due is not provisional and the case is overdue.
        let late = [Pause::open(ms(datetime!(2026-03-11 09:00)))];
        let now = ms(datetime!(2026-03-11 10:00));
        assert!(!d.due(&cal, &late, now).provisional);
        assert_eq!(
            d.status(&cal, &late, now, &w),
            Status::Overdue {
                by_ms: now - end(date!(2026 - 03 - 10))
            }
        );
        // Over a holiday: waiting from 2026-09-30 and still waiting on Oct 9.
        let d = days(datetime!(2026-09-30 10:00), 1);
        let p = [Pause::open(ms(datetime!(2026-09-30 12:00)))];
        let due = d.due(&cal, &p, ms(datetime!(2026-10-09 12:00)));
        assert_eq!(due.last_day, Some(date!(2026 - 10 - 10)));
    }

    #[test]
    fn pauses_extend_hour_periods_by_their_duration() {
        let cal = cal();
        let d = hours(datetime!(2026-02-16 10:00), 24);
        // Two hours paused (overlapping pauses merged), then another hour after the first
        // extension, right at the extended due edge.
        let p = [
            Pause::closed(
                ms(datetime!(2026-02-16 12:00)),
                ms(datetime!(2026-02-16 13:30)),
            ),
            Pause::closed(
                ms(datetime!(2026-02-16 13:00)),
                ms(datetime!(2026-02-16 14:00)),
            ),
            Pause::closed(
                ms(datetime!(2026-02-17 11:00)),
                ms(datetime!(2026-02-17 12:00)),
            ),
        ];
        // 10:00 + 24 h = 17th 10:00; +2 h = 12:00; the pause at 11:00 began before it: +1 h.
        assert_eq!(
            d.due(&cal, &p, d.start_ms).at_ms,
            ms(datetime!(2026-02-17 13:00))
        );
        // A pause after the due does nothing.
        let p = [Pause::closed(
            ms(datetime!(2026-02-17 10:00)),
            ms(datetime!(2026-02-17 12:00)),
        )];
        assert_eq!(
            d.due(&cal, &p, d.start_ms).at_ms,
            ms(datetime!(2026-02-17 10:00))
        );
        // Open: lasts until as_of.
        let p = [Pause::open(ms(datetime!(2026-02-16 20:00)))];
        let now = ms(datetime!(2026-02-17 09:00));
        let due = d.due(&cal, &p, now);
        assert_eq!(due.at_ms, ms(datetime!(2026-02-17 23:00)));
        assert!(due.provisional);
        assert_eq!(
            d.status(&cal, &p, now, &WarningWindow::default()),
            Status::Paused
        );
    }

    #[test]
    fn status_boundaries_for_day_periods() {
        let cal = cal();
        let w = WarningWindow::default();
        let d = days(datetime!(2026-03-09 10:00), 5);
        let due = end(date!(2026 - 03 - 16));
        let warn = midnight_ms(date!(2026 - 03 - 16));
        assert_eq!(d.status(&cal, &[], d.start_ms, &w), Status::OnTime);
        assert_eq!(d.status(&cal, &[], warn - 1, &w), Status::OnTime);
        assert_eq!(d.status(&cal, &[], warn, &w), Status::DueSoon);
        assert_eq!(d.status(&cal, &[], due, &w), Status::DueSoon);
        assert_eq!(
            d.status(&cal, &[], due + 1, &w),
            Status::Overdue { by_ms: 1 }
        );
        // Two warning days: from 00:00 of the second-to-last counted day (Friday 2026-03-13,
        // since the weekend is not counted).
        let w2 = WarningWindow {
            working_days: 2,
            ..w
        };
        let warn2 = midnight_ms(date!(2026 - 03 - 13));
        assert_eq!(d.status(&cal, &[], warn2 - 1, &w2), Status::OnTime);
        assert_eq!(d.status(&cal, &[], warn2, &w2), Status::DueSoon);
        assert_eq!(
            d.status(&cal, &[], ms(datetime!(2026-03-14 12:00)), &w2),
            Status::DueSoon
        );
        // A window longer than the period warns from the start; 0 never warns.
        let w9 = WarningWindow {
            working_days: 9,
            ..w
        };
        assert_eq!(d.status(&cal, &[], d.start_ms, &w9), Status::DueSoon);
        let w0 = WarningWindow {
            working_days: 0,
            ..w
        };
        assert_eq!(d.status(&cal, &[], due, &w0), Status::OnTime);
        // A closed pause in force: paused; right after it ends, the warning logic again.
        let p = [Pause::closed(
            ms(datetime!(2026-03-16 09:00)),
            ms(datetime!(2026-03-16 10:00)),
        )];
        assert_eq!(
            d.status(&cal, &p, ms(datetime!(2026-03-16 09:30)), &w),
            Status::Paused
        );
        // The due moved to Tuesday 17th, so Monday 10:00 is on time again.
        assert_eq!(
            d.status(&cal, &p, ms(datetime!(2026-03-16 10:00)), &w),
            Status::OnTime
        );
    }

    #[test]
    fn status_boundaries_for_hour_periods() {
        let cal = cal();
        let d = hours(datetime!(2026-05-01 08:00), 24);
        let due = ms(datetime!(2026-05-02 08:00));
        let w = WarningWindow::default();
        assert_eq!(d.status(&cal, &[], due - 6 * H - 1, &w), Status::OnTime);
        assert_eq!(d.status(&cal, &[], due - 6 * H, &w), Status::DueSoon);
        assert_eq!(d.status(&cal, &[], due, &w), Status::DueSoon);
        assert_eq!(
            d.status(&cal, &[], due + 1, &w),
            Status::Overdue { by_ms: 1 }
        );
        let w0 = WarningWindow {
            hours_percent: 0,
            ..w
        };
        assert_eq!(d.status(&cal, &[], due, &w0), Status::OnTime);
    }

    #[test]
    fn escalation_boundaries() {
        let cal = cal();
        let r = EscalationRule::default();
        // Due Friday 2026-02-13 24:00 (dispatched Thursday, 1 day). The next working day is the
        // make-up Saturday 2026-02-14: level 2 after its 24:00.
        let d = days(datetime!(2026-02-12 10:00), 1);
        let due = end(date!(2026 - 02 - 13));
        assert_eq!(
            d.escalation(&cal, &[], d.start_ms, &r),
            EscalationLevel::None
        );
        assert_eq!(d.escalation(&cal, &[], due, &r), EscalationLevel::None);
        assert_eq!(
            d.escalation(&cal, &[], due + 1, &r),
            EscalationLevel::Community
        );
        let l2 = end(date!(2026 - 02 - 14));
        assert_eq!(d.escalation(&cal, &[], l2, &r), EscalationLevel::Community);
        assert_eq!(
            d.escalation(&cal, &[], l2 + 1, &r),
            EscalationLevel::Subdistrict
        );
        // Two further days run over the Spring Festival: Feb 14, then Feb 24.
        let r2 = EscalationRule {
            further_working_days: 2,
        };
        let l2 = end(date!(2026 - 02 - 24));
        assert_eq!(d.escalation(&cal, &[], l2, &r2), EscalationLevel::Community);
        assert_eq!(
            d.escalation(&cal, &[], l2 + 1, &r2),
            EscalationLevel::Subdistrict
        );
        // Zero further days: straight up.
        let r0 = EscalationRule {
            further_working_days: 0,
        };
        assert_eq!(
            d.escalation(&cal, &[], due + 1, &r0),
            EscalationLevel::Subdistrict
        );
        // Hour periods: due Saturday 2026-03-14 15:00, level 2 after Monday 24:00.
        let d = hours(datetime!(2026-03-13 15:00), 24);
        let l2 = end(date!(2026 - 03 - 16));
        assert_eq!(d.escalation(&cal, &[], l2, &r), EscalationLevel::Community);
        assert_eq!(
            d.escalation(&cal, &[], l2 + 1, &r),
            EscalationLevel::Subdistrict
        );
        assert_eq!(EscalationLevel::Subdistrict.level(), 2);
        assert!(EscalationLevel::None < EscalationLevel::Community);
        // Office hours: level 2 after the next working day's office close.
        let close = DayEnd::office_close(17, 30);
        let d = Deadline::new(
            ms(datetime!(2026-03-09 10:00)),
            Period::WorkingDays(1),
            close,
        );
        let l2 = ms(datetime!(2026-03-11 17:30));
        assert_eq!(d.escalation(&cal, &[], l2, &r), EscalationLevel::Community);
        assert_eq!(
            d.escalation(&cal, &[], l2 + 1, &r),
            EscalationLevel::Subdistrict
        );
    }

    #[test]
    fn assess_matches_the_single_answers() {
        let cal = cal();
        let d = days(datetime!(2026-03-09 10:00), 1);
        let now = ms(datetime!(2026-03-12 09:00));
        let a = d.assess(
            &cal,
            &[],
            now,
            &WarningWindow::default(),
            &EscalationRule::default(),
        );
        assert_eq!(a.due, d.due(&cal, &[], now));
        assert_eq!(
            a.status,
            Status::Overdue {
                by_ms: now - end(date!(2026 - 03 - 10))
            }
        );
        assert_eq!(a.escalation, EscalationLevel::Subdistrict);
    }

    #[test]
    fn profiles_are_plain_serialisable_data() {
        let p = DeadlineProfile::STANDARD;
        let json = serde_json::to_value(p).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "first_contact": {"working_days": 1},
                "handling": {"working_days": 5},
                "rehandling": {"working_days": 3},
                "day_end": "midnight"
            })
        );
        let urgent: DeadlineProfile = serde_json::from_value(serde_json::json!({
            "first_contact": {"hours": 1},
            "handling": {"hours": 24},
            "rehandling": {"hours": 24}
        }))
        .unwrap();
        assert_eq!(urgent, DeadlineProfile::URGENT);
        let close = DeadlineProfile {
            day_end: DayEnd::office_close(17, 30),
            ..DeadlineProfile::CONSULTATION
        };
        let back: DeadlineProfile =
            serde_json::from_str(&serde_json::to_string(&close).unwrap()).unwrap();
        assert_eq!(back, close);
        assert_eq!(
            serde_json::to_value(DayEnd::office_close(17, 30)).unwrap(),
            serde_json::json!({"office_close": {"hour": 17, "minute": 30}})
        );
        assert_eq!(
            serde_json::to_value(Status::Overdue { by_ms: 5 }).unwrap(),
            serde_json::json!({"status": "overdue", "by_ms": 5})
        );
        assert_eq!(
            DeadlineProfile::STANDARD.period(Stage::Rehandling),
            Period::WorkingDays(3)
        );
        assert_eq!(Period::WorkingDays(5).label().zh, "5 个工作日");
        assert_eq!(Period::Hours(1).label().en, "1 hour");
    }

    #[test]
    fn profile_validation() {
        for p in [
            DeadlineProfile::STANDARD,
            DeadlineProfile::CONSULTATION,
            DeadlineProfile::URGENT,
        ] {
            assert_eq!(p.validate(), Ok(()));
        }
        let bad = DeadlineProfile {
            first_contact: Period::WorkingDays(6),
            handling: Period::WorkingDays(5),
            rehandling: Period::WorkingDays(0),
            day_end: DayEnd::office_close(24, 0),
        };
        let fields: Vec<String> = bad
            .validate()
            .unwrap_err()
            .into_iter()
            .map(|f| f.field)
            .collect();
        assert_eq!(fields, vec!["rehandling", "day_end", "first_contact"]);
        assert!(Period::WorkingDays(16).validate().is_err());
        assert!(Period::WorkingDays(15).validate().is_ok());
        assert!(Period::Hours(0).validate().is_err());
        assert!(Period::Hours(MAX_HOURS + 1).validate().is_err());
        // Mixed units are not compared.
        let mixed = DeadlineProfile {
            first_contact: Period::Hours(48),
            ..DeadlineProfile::STANDARD
        };
        assert_eq!(mixed.validate(), Ok(()));
    }

    #[test]
    fn complex_case_extensions() {
        assert_eq!(
            approved_extension(Period::WorkingDays(5), 15),
            Ok(Period::WorkingDays(15))
        );
        assert_eq!(
            approved_extension(Period::WorkingDays(5), 10),
            Ok(Period::WorkingDays(10))
        );
        assert!(approved_extension(Period::WorkingDays(5), 16).is_err());
        assert!(approved_extension(Period::WorkingDays(5), 5).is_err());
        assert!(approved_extension(Period::Hours(24), 10).is_err());
    }

    #[test]
    fn zero_periods_are_due_at_once() {
        let cal = cal();
        let d = days(datetime!(2026-03-09 10:00), 0);
        assert_eq!(d.due(&cal, &[], d.start_ms).at_ms, d.start_ms);
        let d = hours(datetime!(2026-03-09 10:00), 0);
        assert_eq!(d.due(&cal, &[], d.start_ms).at_ms, d.start_ms);
    }

    // 2025-01-01 00:00 to 2027-01-01 00:00 Shanghai time, in ms.
    const FROM: i64 = 1_735_660_800_000;
    const TO: i64 = 1_798_732_800_000;

    fn pause_strategy() -> impl Strategy<Value = Pause> {
        (FROM..TO, prop::option::of(0i64..20 * 24 * H)).prop_map(|(f, len)| Pause {
            from_ms: f,
            until_ms: len.map(|l| f + l),
        })
    }

    fn day_end_strategy() -> impl Strategy<Value = DayEnd> {
        prop_oneof![
            Just(DayEnd::Midnight),
            (1u8..24, 0u8..60).prop_map(|(h, m)| DayEnd::office_close(h, m)),
        ]
    }

    proptest! {
        #[test]
        fn due_is_monotone_in_n(start in FROM..TO, n in 0u32..15, end_ in day_end_strategy(),
                                pauses in prop::collection::vec(pause_strategy(), 0..3), as_of in FROM..TO) {
            let cal = cal();
            let a = Deadline::new(start, Period::WorkingDays(n), end_).due(&cal, &pauses, as_of);
            let b = Deadline::new(start, Period::WorkingDays(n + 1), end_).due(&cal, &pauses, as_of);
            prop_assert!(a.at_ms < b.at_ms);
            let a = Deadline::new(start, Period::Hours(n), end_).due(&cal, &pauses, as_of);
            let b = Deadline::new(start, Period::Hours(n + 1), end_).due(&cal, &pauses, as_of);
            prop_assert!(a.at_ms < b.at_ms);
        }

        #[test]
        fn due_is_monotone_in_the_start(s1 in FROM..TO, gap in 0i64..40 * 24 * H, n in 0u32..15,
                                        end_ in day_end_strategy()) {
            let cal = cal();
            for p in [Period::WorkingDays(n), Period::Hours(n)] {
                let a = Deadline::new(s1, p, end_).due(&cal, &[], s1);
                let b = Deadline::new(s1 + gap, p, end_).due(&cal, &[], s1);
                prop_assert!(a.at_ms <= b.at_ms);
            }
        }

        #[test]
        fn day_periods_end_at_the_end_of_a_working_day(start in FROM..TO, n in 1u32..16,
                end_ in day_end_strategy(), pauses in prop::collection::vec(pause_strategy(), 0..3),
                as_of in FROM..TO) {
            let cal = cal();
            let d = Deadline::new(start, Period::WorkingDays(n), end_);
            let due = d.due(&cal, &pauses, as_of);
            let last = due.last_day.unwrap();
            prop_assert!(cal.is_working_day(last));
            prop_assert!(last > local_date(start));
            prop_assert_eq!(due.at_ms, end_.end_ms(last));
            prop_assert!(due.at_ms > start);
            // Without pauses, exactly n working days lie after the start day up to the last.
            let plain = d.due(&cal, &[], as_of).last_day.unwrap();
            prop_assert_eq!(cal.add_working_days(local_date(start), n), plain);
        }

        #[test]
        fn a_pause_never_makes_the_due_earlier(start in FROM..TO, n in 0u32..15, end_ in day_end_strategy(),
                pauses in prop::collection::vec(pause_strategy(), 0..3), extra in pause_strategy(),
                as_of in FROM..TO) {
            let cal = cal();
            let mut more = pauses.clone();
            more.push(extra);
            for p in [Period::WorkingDays(n), Period::Hours(n)] {
                let d = Deadline::new(start, p, end_);
                let before = d.due(&cal, &pauses, as_of).at_ms;
                let after = d.due(&cal, &more, as_of).at_ms;
                prop_assert!(before <= after);
                prop_assert!(d.due(&cal, &[], as_of).at_ms <= before);
            }
        }

        #[test]
        fn an_open_pause_keeps_a_case_that_was_on_time_from_being_overdue(start in FROM..TO,
                n in 1u32..6, end_ in day_end_strategy(), frac in 0i64..1000, wait in 0i64..30 * 24 * H) {
            let cal = cal();
            for p in [Period::WorkingDays(n), Period::Hours(n)] {
                let d = Deadline::new(start, p, end_);
                let plain = d.due(&cal, &[], start).at_ms;
                // Paused somewhere between the start and the plain due.
                let from = start + (plain - start) * frac / 1000;
                let pauses = [Pause::open(from)];
                let now = from + wait;
                let a = d.assess(&cal, &pauses, now, &WarningWindow::default(), &EscalationRule::default());
                prop_assert_eq!(a.status, Status::Paused);
                prop_assert_eq!(a.escalation, EscalationLevel::None);
                prop_assert!(a.due.provisional);
            }
        }

        #[test]
        fn status_and_escalation_agree(start in FROM..TO, n in 1u32..6, as_of in FROM..TO,
                                       end_ in day_end_strategy()) {
            let cal = cal();
            let d = Deadline::new(start, Period::WorkingDays(n), end_);
            let a = d.assess(&cal, &[], as_of, &WarningWindow::default(), &EscalationRule::default());
            let overdue = matches!(a.status, Status::Overdue { .. });
            prop_assert_eq!(overdue, a.escalation != EscalationLevel::None);
            prop_assert_eq!(overdue, as_of > a.due.at_ms);
        }
    }
}
