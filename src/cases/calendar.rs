//! The working-day calendar (工作日历) and, in [`deadline`], the case deadline calculator.
//!
//! Case deadlines count working days, and which days are worked in China is decided each year
//! by the State Council's notice: public holidays (法定节假日) and the weekend make-up working
//! days (调休上班) that pay for the longer breaks. So the calendar is data, not code: one text a
//! year, typed by an administrator when the notice is published (2025 and 2026 are shipped):
//!
//! ```text
//! # comments start with `#`, anywhere on a line
//! year 2026
//! 2026-01-01..2026-01-03 holiday 元旦
//! 2026-01-04             workday 元旦调休上班
//! ```
//!
//! - `year YYYY` (or `年份 YYYY`) says which year the text covers; exactly one such line.
//! - An entry is a date or an inclusive range (`..`, `~`, `～` or `至` between the dates), a kind
//!   (`holiday`, `休` or `假`; `workday`, `班` or `调休上班`) and an optional name. Full-width digits and dashes in
//!   dates are accepted, as typed by a Chinese input method.
//! - Entries lie in the text's year, or in the December before / the January after it: a notice
//!   sometimes places a New Year holiday or make-up day across the year boundary.
//!
//! The rule of a day: a weekday is a working day unless it is a holiday; a Saturday or Sunday is
//! a rest day unless it is a make-up working day. A holiday on a weekend is allowed (ranges run
//! through weekends); a make-up working day on a weekday is refused, as is any date entered twice.
//! Errors carry the line number and a message in both locales, so the admin page can point at
//! the line to fix.
//!
//! Years without a text are not guessed at: [`Calendar::is_working_day`] falls back to plain
//! weekdays there, and [`Calendar::covered`] (and [`deadline::Due::uncovered_years`]) say so, so
//! callers can warn "the 2027 calendar has not been entered yet".

use std::collections::{BTreeMap, BTreeSet};

use time::{Date, Month, Weekday};

use crate::error::{Error, FieldError};
use crate::i18n::Text;

pub mod deadline;
#[cfg(test)]
mod holiday_tests;

pub use deadline::{
    approved_extension, DayEnd, Deadline, DeadlineProfile, Due, EscalationLevel, EscalationRule,
    Pause, Period, Stage, Status, WarningWindow,
};

/// The shipped text of 2025.
pub const SHIPPED_2025: &str = include_str!("calendar/cn-2025.txt");
/// The shipped text of 2026.
pub const SHIPPED_2026: &str = include_str!("calendar/cn-2026.txt");
/// The shipped year texts, by year. An administrator's text for one of these years replaces it
/// (the storage layer decides which text is current; [`Calendar::from_texts`] refuses two).
pub const SHIPPED: &[(i32, &str)] = &[(2025, SHIPPED_2025), (2026, SHIPPED_2026)];

/// The longest range one entry may span. Real holiday blocks are at most 9 days; a longer
/// range is almost certainly a typo (`2026-02-15..2026-12-23`), so it is refused.
pub const MAX_RANGE_DAYS: i64 = 31;

/// What an entry says about a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayKind {
    /// A public holiday (or a day of a holiday block): not worked.
    Holiday,
    /// A Saturday or Sunday that is worked (调休上班).
    Workday,
}

impl DayKind {
    pub fn label(self) -> Text {
        match self {
            DayKind::Holiday => Text::new("休", "holiday"),
            DayKind::Workday => Text::new("班", "make-up working day"),
        }
    }
}

/// One day of a year text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub date: Date,
    pub kind: DayKind,
    /// The holiday's name as typed (may be empty).
    pub name: String,
    /// The line of the text it came from (1-based).
    pub line: usize,
}

/// One year's parsed text: the year it covers and its days, in date order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YearText {
    pub year: i32,
    /// The line of the `year` line.
    pub year_line: usize,
    pub entries: Vec<Entry>,
}

/// What is wrong with a line of a year text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CalendarErrorKind {
    /// No `year YYYY` line.
    MissingYear,
    /// A second `year` line.
    YearRepeated { first_line: usize },
    /// The `year` line does not hold a plausible year.
    BadYear(String),
    /// Not a date `YYYY-MM-DD` (or not a real day).
    BadDate(String),
    /// A range ending before it starts.
    RangeBackwards,
    /// A range longer than [`MAX_RANGE_DAYS`].
    RangeTooLong { days: i64 },
    /// A date without `holiday` / `workday`.
    MissingKind,
    /// A word where `holiday` / `workday` should be.
    UnknownKind(String),
    /// A date outside the text's year and its neighbouring December / January.
    OutsideYear { date: Date, year: i32 },
    /// A date already entered (in this text, or in the text of `first_year`).
    DuplicateDate {
        date: Date,
        first_line: usize,
        first_year: i32,
    },
    /// A make-up working day on a Monday–Friday.
    WorkdayNotWeekend { date: Date },
    /// A text with a `year` line and no entry.
    NoEntries,
    /// Two texts for the same year.
    DuplicateYear { year: i32 },
}

/// A refused line: which text (by year, when known), which line (1-based), and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarError {
    pub year: Option<i32>,
    pub line: usize,
    pub kind: CalendarErrorKind,
}

fn weekday_label(w: Weekday) -> (&'static str, &'static str) {
    match w {
        Weekday::Monday => ("星期一", "Monday"),
        Weekday::Tuesday => ("星期二", "Tuesday"),
        Weekday::Wednesday => ("星期三", "Wednesday"),
        Weekday::Thursday => ("星期四", "Thursday"),
        Weekday::Friday => ("星期五", "Friday"),
        Weekday::Saturday => ("星期六", "Saturday"),
        Weekday::Sunday => ("星期日", "Sunday"),
    }
}

/// `2026-01-04`.
pub fn format_date(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

impl CalendarError {
    /// The message for the admin page, with the line (and year) it is about.
    pub fn message(&self) -> Text {
        use CalendarErrorKind::*;
        let (zh, en) = match &self.kind {
            MissingYear => (
                "缺少年份行，请在开头写“year 2026”这样的一行".to_string(),
                "no year line: start the text with a line such as `year 2026`".to_string(),
            ),
            YearRepeated { first_line } => (
                format!("年份行重复（第 {first_line} 行已写过）"),
                format!("a second year line (the first is line {first_line})"),
            ),
            BadYear(s) => (
                format!("“{s}”不是有效的年份（应为 2000–2200 之间的四位数）"),
                format!("`{s}` is not a valid year (four digits, 2000–2200)"),
            ),
            BadDate(s) => (
                format!("“{s}”不是有效的日期（格式：2026-01-01）"),
                format!("`{s}` is not a valid date (format: 2026-01-01)"),
            ),
            RangeBackwards => (
                "日期范围的结束早于开始".to_string(),
                "the range ends before it starts".to_string(),
            ),
            RangeTooLong { days } => (
                format!("日期范围共 {days} 天，超过 {MAX_RANGE_DAYS} 天，请检查是否输错"),
                format!("the range spans {days} days, more than {MAX_RANGE_DAYS}: check for a typo"),
            ),
            MissingKind => (
                "日期后缺少类型：holiday（休）或 workday（班）".to_string(),
                "the date needs a kind after it: holiday (休) or workday (班)".to_string(),
            ),
            UnknownKind(s) => (
                format!("“{s}”不是类型，应为 holiday（休）或 workday（班）"),
                format!("`{s}` is not a kind: write holiday (休) or workday (班)"),
            ),
            OutsideYear { date, year } => (
                format!(
                    "{} 不在 {year} 年内（只允许 {year} 年及前一年 12 月、后一年 1 月）",
                    format_date(*date)
                ),
                format!(
                    "{} is outside {year} (only {year}, the December before and the January after are allowed)",
                    format_date(*date)
                ),
            ),
            DuplicateDate {
                date,
                first_line,
                first_year,
            } => {
                let same_text = self.year == Some(*first_year);
                if same_text {
                    (
                        format!("{} 重复（第 {first_line} 行已写过）", format_date(*date)),
                        format!(
                            "{} is entered twice (already on line {first_line})",
                            format_date(*date)
                        ),
                    )
                } else {
                    (
                        format!(
                            "{} 重复（{first_year} 年日历第 {first_line} 行已写过）",
                            format_date(*date)
                        ),
                        format!(
                            "{} is entered twice (already in the {first_year} calendar, line {first_line})",
                            format_date(*date)
                        ),
                    )
                }
            }
            WorkdayNotWeekend { date } => {
                let (wzh, wen) = weekday_label(date.weekday());
                (
                    format!(
                        "{} 是{wzh}：调休上班日只能是星期六或星期日",
                        format_date(*date)
                    ),
                    format!(
                        "{} is a {wen}: a make-up working day must be a Saturday or Sunday",
                        format_date(*date)
                    ),
                )
            }
            NoEntries => (
                "没有任何节假日或调休上班日".to_string(),
                "the text has no holiday or make-up working day".to_string(),
            ),
            DuplicateYear { year } => (
                format!("{year} 年的日历已有一份"),
                format!("there is already a calendar for {year}"),
            ),
        };
        let (pzh, pen) = match self.year {
            Some(y) => (
                format!("{y} 年日历第 {} 行：", self.line),
                format!("{y} calendar, line {}: ", self.line),
            ),
            None => (
                format!("第 {} 行：", self.line),
                format!("line {}: ", self.line),
            ),
        };
        Text::owned(pzh + &zh, pen + &en)
    }
}

impl std::fmt::Display for CalendarError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message().en)
    }
}

impl std::error::Error for CalendarError {}

/// The errors of a refused text as the one error policy's invalid-input error, all on the
/// form field `field` (the text area), one message per error, in line order.
pub fn invalid(field: &str, errors: &[CalendarError]) -> Error {
    Error::Invalid(
        errors
            .iter()
            .map(|e| FieldError::new(field, e.message()))
            .collect(),
    )
}

/// Maps full-width digits and punctuation typed by Chinese input methods to ASCII, so
/// `２０２６－０１－０１` reads as `2026-01-01`.
fn ascii_date_chars(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '０'..='９' => char::from(b'0' + (c as u32 - '０' as u32) as u8),
            '－' | '—' | '–' => '-',
            '／' => '/',
            '．' => '.',
            c => c,
        })
        .collect()
}

fn parse_date(token: &str) -> Option<Date> {
    let s = ascii_date_chars(token);
    let parts: Vec<&str> = s.split(['-', '/']).collect();
    if parts.len() != 3
        || parts[0].len() != 4
        || !(1..=2).contains(&parts[1].len())
        || !(1..=2).contains(&parts[2].len())
        || !parts.iter().all(|p| p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let y: i32 = parts[0].parse().ok()?;
    let m: u8 = parts[1].parse().ok()?;
    let d: u8 = parts[2].parse().ok()?;
    Date::from_calendar_date(y, Month::try_from(m).ok()?, d).ok()
}

fn parse_kind(token: &str) -> Option<DayKind> {
    match token.to_ascii_lowercase().as_str() {
        "holiday" | "休" | "假" => Some(DayKind::Holiday),
        "workday" | "班" | "调休上班" => Some(DayKind::Workday),
        _ => None,
    }
}

const RANGE_SEPARATORS: &[&str] = &["..", "~", "～", "至"];

/// Splits `a..b` (or with another separator) into its two halves.
fn split_range(token: &str) -> Option<(&str, &str)> {
    RANGE_SEPARATORS
        .iter()
        .find_map(|sep| token.split_once(sep))
}

/// The content of a line without its comment.
fn strip_comment(line: &str) -> &str {
    let cut = line.find(['#', '＃']).unwrap_or(line.len());
    line[..cut].trim()
}

/// Whether a date may appear in the text of `year`.
fn within_year_text(date: Date, year: i32) -> bool {
    date.year() == year
        || (date.year() == year - 1 && date.month() == Month::December)
        || (date.year() == year + 1 && date.month() == Month::January)
}

fn is_weekend(d: Date) -> bool {
    matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday)
}

impl YearText {
    /// Parses one year's text. All errors are reported, in line order, not just the first.
    pub fn parse(text: &str) -> Result<YearText, Vec<CalendarError>> {
        let mut errors = Vec::new();
        // First pass: the year line, so that every later error can name the year.
        let mut year: Option<(i32, usize)> = None;
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let content = strip_comment(raw);
            let mut words = content.split_whitespace();
            let Some(first) = words.next() else { continue };
            if !(first.eq_ignore_ascii_case("year") || first == "年份") {
                continue;
            }
            let rest: Vec<&str> = words.collect();
            let value = rest.join(" ");
            let parsed = ascii_date_chars(value.trim_end_matches('年'))
                .parse::<i32>()
                .ok()
                .filter(|y| (2000..=2200).contains(y) && rest.len() == 1);
            match (parsed, year) {
                (_, Some((y, first_line))) => errors.push(CalendarError {
                    year: Some(y),
                    line,
                    kind: CalendarErrorKind::YearRepeated { first_line },
                }),
                (Some(y), None) => year = Some((y, line)),
                (None, None) => errors.push(CalendarError {
                    year: None,
                    line,
                    kind: CalendarErrorKind::BadYear(value),
                }),
            }
        }
        let Some((year, year_line)) = year else {
            if errors.is_empty() {
                errors.push(CalendarError {
                    year: None,
                    line: 1,
                    kind: CalendarErrorKind::MissingYear,
                });
            }
            return Err(errors);
        };
        let err = |line: usize, kind: CalendarErrorKind| CalendarError {
            year: Some(year),
            line,
            kind,
        };

        let mut entries: Vec<Entry> = Vec::new();
        let mut seen: BTreeMap<Date, usize> = BTreeMap::new();
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let content = strip_comment(raw);
            let words: Vec<&str> = content.split_whitespace().collect();
            let Some(&first) = words.first() else {
                continue;
            };
            if first.eq_ignore_ascii_case("year") || first == "年份" {
                continue;
            }
            // `A..B`, or `A .. B` with the separator standing alone.
            let (from_s, to_s, rest) = if let Some((a, b)) = split_range(first) {
                (a, Some(b), &words[1..])
            } else if words.len() >= 3 && RANGE_SEPARATORS.contains(&words[1]) {
                (first, Some(words[2]), &words[3..])
            } else {
                (first, None, &words[1..])
            };
            let Some(from) = parse_date(from_s) else {
                errors.push(err(line, CalendarErrorKind::BadDate(from_s.to_string())));
                continue;
            };
            let to = match to_s {
                None => from,
                Some(s) => match parse_date(s) {
                    Some(d) => d,
                    None => {
                        errors.push(err(line, CalendarErrorKind::BadDate(s.to_string())));
                        continue;
                    }
                },
            };
            if to < from {
                errors.push(err(line, CalendarErrorKind::RangeBackwards));
                continue;
            }
            let days = (to - from).whole_days() + 1;
            if days > MAX_RANGE_DAYS {
                errors.push(err(line, CalendarErrorKind::RangeTooLong { days }));
                continue;
            }
            let Some(&kind_s) = rest.first() else {
                errors.push(err(line, CalendarErrorKind::MissingKind));
                continue;
            };
            let Some(kind) = parse_kind(kind_s) else {
                errors.push(err(
                    line,
                    CalendarErrorKind::UnknownKind(kind_s.to_string()),
                ));
                continue;
            };
            let name = rest[1..].join(" ");
            let mut date = from;
            loop {
                if !within_year_text(date, year) {
                    errors.push(err(line, CalendarErrorKind::OutsideYear { date, year }));
                } else if let Some(&first_line) = seen.get(&date) {
                    errors.push(err(
                        line,
                        CalendarErrorKind::DuplicateDate {
                            date,
                            first_line,
                            first_year: year,
                        },
                    ));
                } else if kind == DayKind::Workday && !is_weekend(date) {
                    errors.push(err(line, CalendarErrorKind::WorkdayNotWeekend { date }));
                } else {
                    seen.insert(date, line);
                    entries.push(Entry {
                        date,
                        kind,
                        name: name.clone(),
                        line,
                    });
                }
                if date == to {
                    break;
                }
                date = date.next_day().expect("bounded by year range");
            }
        }
        if errors.is_empty() && entries.is_empty() {
            errors.push(err(year_line, CalendarErrorKind::NoEntries));
        }
        if !errors.is_empty() {
            errors.sort_by_key(|e| e.line);
            return Err(errors);
        }
        entries.sort_by_key(|e| e.date);
        Ok(YearText {
            year,
            year_line,
            entries,
        })
    }

    /// The text back, in canonical form: the year line, then one line per run of consecutive
    /// days of the same kind and name (so a holiday block is one range line).
    pub fn render(&self) -> String {
        let mut out = format!("year {}\n", self.year);
        let mut i = 0;
        while i < self.entries.len() {
            let first = &self.entries[i];
            let mut j = i;
            while j + 1 < self.entries.len() {
                let next = &self.entries[j + 1];
                if next.kind == first.kind
                    && next.name == first.name
                    && self.entries[j].date.next_day() == Some(next.date)
                {
                    j += 1;
                } else {
                    break;
                }
            }
            let last = &self.entries[j];
            let dates = if j == i {
                format_date(first.date)
            } else {
                format!("{}..{}", format_date(first.date), format_date(last.date))
            };
            let kind = match first.kind {
                DayKind::Holiday => "holiday",
                DayKind::Workday => "workday",
            };
            let line = format!("{dates} {kind} {}", first.name);
            out.push_str(line.trim_end());
            out.push('\n');
            i = j + 1;
        }
        out
    }
}

/// A day's entry, with the year of the text it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Day {
    kind: DayKind,
    name: String,
    year: i32,
    line: usize,
}

/// The working-day calendar: the union of one or more year texts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Calendar {
    days: BTreeMap<Date, Day>,
    years: BTreeSet<i32>,
}

impl Calendar {
    /// A calendar with no year entered: every year falls back to plain weekdays.
    pub fn empty() -> Calendar {
        Calendar::default()
    }

    /// The shipped calendar: 2025 and 2026.
    pub fn shipped() -> Calendar {
        Calendar::from_texts(&SHIPPED.iter().map(|(_, t)| *t).collect::<Vec<_>>())
            .expect("the shipped calendar texts are valid (tested)")
    }

    /// Parses and joins year texts. Refuses (with every error found) a text that does not
    /// parse, two texts for one year, and a date entered in two texts.
    pub fn from_texts(texts: &[&str]) -> Result<Calendar, Vec<CalendarError>> {
        let mut errors = Vec::new();
        let mut years = Vec::new();
        for t in texts {
            match YearText::parse(t) {
                Ok(y) => years.push(y),
                Err(e) => errors.extend(e),
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Calendar::from_years(years)
    }

    /// Joins parsed year texts (see [`Calendar::from_texts`]).
    pub fn from_years(texts: Vec<YearText>) -> Result<Calendar, Vec<CalendarError>> {
        let mut cal = Calendar::default();
        let mut errors = Vec::new();
        for t in texts {
            if !cal.years.insert(t.year) {
                errors.push(CalendarError {
                    year: Some(t.year),
                    line: t.year_line,
                    kind: CalendarErrorKind::DuplicateYear { year: t.year },
                });
                continue;
            }
            for e in t.entries {
                if let Some(first) = cal.days.get(&e.date) {
                    errors.push(CalendarError {
                        year: Some(t.year),
                        line: e.line,
                        kind: CalendarErrorKind::DuplicateDate {
                            date: e.date,
                            first_line: first.line,
                            first_year: first.year,
                        },
                    });
                    continue;
                }
                cal.days.insert(
                    e.date,
                    Day {
                        kind: e.kind,
                        name: e.name,
                        year: t.year,
                        line: e.line,
                    },
                );
            }
        }
        if errors.is_empty() {
            Ok(cal)
        } else {
            Err(errors)
        }
    }

    /// Whether a text for `year` was entered. When it was not, working days of that year are
    /// plain Monday–Friday, which is wrong around its holidays: callers should warn.
    pub fn covered(&self, year: i32) -> bool {
        self.years.contains(&year)
    }

    /// The years entered, ascending.
    pub fn years(&self) -> impl Iterator<Item = i32> + '_ {
        self.years.iter().copied()
    }

    /// The entry for a date, if any: its kind and name.
    pub fn entry(&self, date: Date) -> Option<(DayKind, &str)> {
        self.days.get(&date).map(|d| (d.kind, d.name.as_str()))
    }

    /// Whether `date` is worked: weekdays unless a holiday, weekends only as make-up days.
    /// Outside the covered years this is plain weekdays (entries that a neighbouring year's
    /// notice placed there still count).
    pub fn is_working_day(&self, date: Date) -> bool {
        match self.days.get(&date).map(|d| d.kind) {
            Some(DayKind::Holiday) => false,
            Some(DayKind::Workday) => true,
            None => !is_weekend(date),
        }
    }

    /// The first working day strictly after `date`.
    pub fn next_working_day(&self, date: Date) -> Date {
        let mut d = date;
        loop {
            d = d.next_day().expect("dates stay far from the end of time");
            if self.is_working_day(d) {
                return d;
            }
        }
    }

    /// The `n`-th working day strictly after `date` (`date` itself for `n == 0`).
    pub fn add_working_days(&self, date: Date, n: u32) -> Date {
        (0..n).fold(date, |d, _| self.next_working_day(d))
    }

    /// The years from `from` to `to` (inclusive) that have no text.
    pub fn uncovered_years(&self, from: Date, to: Date) -> Vec<i32> {
        (from.year()..=to.year())
            .filter(|y| !self.covered(*y))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn errs(text: &str) -> Vec<(usize, CalendarErrorKind)> {
        YearText::parse(text)
            .unwrap_err()
            .into_iter()
            .map(|e| (e.line, e.kind))
            .collect()
    }

    #[test]
    fn shipped_texts_parse_and_cover_their_years() {
        let cal = Calendar::shipped();
        assert!(cal.covered(2025) && cal.covered(2026));
        assert!(!cal.covered(2024) && !cal.covered(2027));
        assert_eq!(cal.years().collect::<Vec<_>>(), vec![2025, 2026]);
        for (year, text) in SHIPPED {
            assert_eq!(YearText::parse(text).unwrap().year, *year);
        }
    }

    /// The shipped data, day by day, against DOMAIN.md ("Case deadlines").
    #[test]
    fn shipped_days_match_the_notices() {
        let cal = Calendar::shipped();
        let holidays_2026: &[(Date, Date)] = &[
            (date!(2026 - 01 - 01), date!(2026 - 01 - 03)),
            (date!(2026 - 02 - 15), date!(2026 - 02 - 23)),
            (date!(2026 - 04 - 04), date!(2026 - 04 - 06)),
            (date!(2026 - 05 - 01), date!(2026 - 05 - 05)),
            (date!(2026 - 06 - 19), date!(2026 - 06 - 21)),
            (date!(2026 - 09 - 25), date!(2026 - 09 - 27)),
            (date!(2026 - 10 - 01), date!(2026 - 10 - 07)),
        ];
        let workdays_2026 = [
            date!(2026 - 01 - 04),
            date!(2026 - 02 - 14),
            date!(2026 - 02 - 28),
            date!(2026 - 05 - 09),
            date!(2026 - 09 - 20),
            date!(2026 - 10 - 10),
        ];
        let holidays_2025: &[(Date, Date)] = &[
            (date!(2025 - 01 - 01), date!(2025 - 01 - 01)),
            (date!(2025 - 01 - 28), date!(2025 - 02 - 04)),
            (date!(2025 - 04 - 04), date!(2025 - 04 - 06)),
            (date!(2025 - 05 - 01), date!(2025 - 05 - 05)),
            (date!(2025 - 05 - 31), date!(2025 - 06 - 02)),
            (date!(2025 - 10 - 01), date!(2025 - 10 - 08)),
        ];
        let workdays_2025 = [
            date!(2025 - 01 - 26),
            date!(2025 - 02 - 08),
            date!(2025 - 04 - 27),
            date!(2025 - 09 - 28),
            date!(2025 - 10 - 11),
        ];
        let in_blocks =
            |d: Date, blocks: &[(Date, Date)]| blocks.iter().any(|(a, b)| *a <= d && d <= *b);
        let mut d = date!(2025 - 01 - 01);
        while d <= date!(2026 - 12 - 31) {
            let holiday = in_blocks(d, holidays_2025) || in_blocks(d, holidays_2026);
            let workday = workdays_2025.contains(&d) || workdays_2026.contains(&d);
            let expected = if holiday {
                false
            } else if workday {
                true
            } else {
                !is_weekend(d)
            };
            assert_eq!(cal.is_working_day(d), expected, "{d}");
            assert_eq!(
                cal.entry(d).map(|e| e.0),
                if holiday {
                    Some(DayKind::Holiday)
                } else if workday {
                    Some(DayKind::Workday)
                } else {
                    None
                },
                "{d}"
            );
            d = d.next_day().unwrap();
        }
        // Every make-up day really is a weekend day.
        for w in workdays_2025.iter().chain(&workdays_2026) {
            assert!(is_weekend(*w), "{w}");
        }
        assert_eq!(
            cal.entry(date!(2026 - 02 - 17)),
            Some((DayKind::Holiday, "春节"))
        );
    }

    #[test]
    fn uncovered_years_fall_back_to_weekdays() {
        let cal = Calendar::shipped();
        // 2027-01-01 is a Friday: a holiday in reality, a working day until 2027 is entered.
        assert!(!cal.covered(2027));
        assert!(cal.is_working_day(date!(2027 - 01 - 01)));
        assert!(!cal.is_working_day(date!(2027 - 01 - 02)));
        assert_eq!(
            cal.uncovered_years(date!(2026 - 12 - 30), date!(2027 - 01 - 05)),
            vec![2027]
        );
        assert!(cal
            .uncovered_years(date!(2025 - 12 - 30), date!(2026 - 01 - 05))
            .is_empty());
        let empty = Calendar::empty();
        assert!(!empty.covered(2026));
        assert!(empty.is_working_day(date!(2026 - 01 - 01)));
    }

    #[test]
    fn working_day_steps() {
        let cal = Calendar::shipped();
        assert_eq!(
            cal.next_working_day(date!(2026 - 01 - 01)),
            date!(2026 - 01 - 04)
        );
        assert_eq!(
            cal.next_working_day(date!(2026 - 02 - 13)),
            date!(2026 - 02 - 14)
        );
        assert_eq!(
            cal.next_working_day(date!(2026 - 02 - 14)),
            date!(2026 - 02 - 24)
        );
        assert_eq!(
            cal.add_working_days(date!(2025 - 12 - 31), 2),
            date!(2026 - 01 - 05)
        );
        assert_eq!(
            cal.add_working_days(date!(2025 - 12 - 31), 0),
            date!(2025 - 12 - 31)
        );
    }

    #[test]
    fn parses_the_accepted_spellings() {
        let text = "\
# a comment line
年份 2027
２０２７－０１－０１  休  元旦   # inline comment
2027-01-02 .. 2027-01-03 holiday 元旦
2027-02-06~2027-02-07 HOLIDAY
2027-01-09 班 元旦 调休
2026-12-31 holiday 跨年
2028-01-01 至 2028-01-02 holiday 次年元旦
";
        let y = YearText::parse(text).unwrap();
        assert_eq!(y.year, 2027);
        assert_eq!(y.year_line, 2);
        let dates: Vec<_> = y.entries.iter().map(|e| (e.date, e.kind, e.line)).collect();
        assert_eq!(
            dates,
            vec![
                (date!(2026 - 12 - 31), DayKind::Holiday, 7),
                (date!(2027 - 01 - 01), DayKind::Holiday, 3),
                (date!(2027 - 01 - 02), DayKind::Holiday, 4),
                (date!(2027 - 01 - 03), DayKind::Holiday, 4),
                (date!(2027 - 01 - 09), DayKind::Workday, 6),
                (date!(2027 - 02 - 06), DayKind::Holiday, 5),
                (date!(2027 - 02 - 07), DayKind::Holiday, 5),
                (date!(2028 - 01 - 01), DayKind::Holiday, 8),
                (date!(2028 - 01 - 02), DayKind::Holiday, 8),
            ]
        );
        assert_eq!(y.entries[1].name, "元旦");
        assert_eq!(y.entries[4].name, "元旦 调休");
        assert_eq!(y.entries[5].name, "");
    }

    #[test]
    fn render_round_trips() {
        for (_, text) in SHIPPED {
            let y = YearText::parse(text).unwrap();
            let again = YearText::parse(&y.render()).unwrap();
            assert_eq!(
                y.entries
                    .iter()
                    .map(|e| (e.date, e.kind, e.name.clone()))
                    .collect::<Vec<_>>(),
                again
                    .entries
                    .iter()
                    .map(|e| (e.date, e.kind, e.name.clone()))
                    .collect::<Vec<_>>()
            );
        }
        let y = YearText::parse(SHIPPED_2026).unwrap();
        assert!(y.render().contains("2026-02-15..2026-02-23 holiday 春节\n"));
        assert!(y
            .render()
            .starts_with("year 2026\n2026-01-01..2026-01-03 holiday 元旦\n"));
    }

    #[test]
    fn parse_errors_name_their_lines() {
        use CalendarErrorKind::*;
        assert_eq!(errs(""), vec![(1, MissingYear)]);
        assert_eq!(errs("2026-01-01 holiday\n"), vec![(1, MissingYear)]);
        assert_eq!(errs("year twenty\n"), vec![(1, BadYear("twenty".into()))]);
        assert_eq!(errs("year 1999\n"), vec![(1, BadYear("1999".into()))]);
        assert_eq!(
            errs("year 2026\n\nyear 2027\n2026-01-01 holiday\n"),
            vec![(3, YearRepeated { first_line: 1 })]
        );
        assert_eq!(errs("# only\nyear 2026\n"), vec![(2, NoEntries)]);
        let text = "\
year 2026
2026-13-01 holiday 坏月份
2026-02-30 holiday 坏日子
2026-01-01 假日
2026-01-01
2026-02-23..2026-02-15 holiday
2026-01-01..2026-03-01 holiday
2025-11-30 holiday
2026-01-05 workday 星期一
2026-01-01 holiday 元旦
2026-01-01 holiday 又一次
2026-01-01..bad holiday
";
        assert_eq!(
            errs(text),
            vec![
                (2, BadDate("2026-13-01".into())),
                (3, BadDate("2026-02-30".into())),
                (4, UnknownKind("假日".into())),
                (5, MissingKind),
                (6, RangeBackwards),
                (7, RangeTooLong { days: 60 }),
                (
                    8,
                    OutsideYear {
                        date: date!(2025 - 11 - 30),
                        year: 2026
                    }
                ),
                (
                    9,
                    WorkdayNotWeekend {
                        date: date!(2026 - 01 - 05)
                    }
                ),
                (
                    11,
                    DuplicateDate {
                        date: date!(2026 - 01 - 01),
                        first_line: 10,
                        first_year: 2026
                    }
                ),
                (12, BadDate("bad".into())),
            ]
        );
    }

    #[test]
    fn a_range_overlapping_an_earlier_one_names_each_repeated_day() {
        use CalendarErrorKind::*;
        let text = "year 2026\n2026-02-15..2026-02-17 holiday\n2026-02-17..2026-02-18 holiday\n";
        assert_eq!(
            errs(text),
            vec![(
                3,
                DuplicateDate {
                    date: date!(2026 - 02 - 17),
                    first_line: 2,
                    first_year: 2026
                }
            )]
        );
        // A holiday on a weekend is fine: 2026-02-15 is a Sunday.
        assert!(YearText::parse("year 2026\n2026-02-15 holiday\n").is_ok());
    }

    #[test]
    fn joining_texts_refuses_conflicts() {
        use CalendarErrorKind::*;
        let e = Calendar::from_texts(&[SHIPPED_2026, SHIPPED_2026]).unwrap_err();
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].kind, DuplicateYear { year: 2026 });
        assert_eq!(e[0].line, 4);
        // 2027's text reaching back into a date 2026 already has.
        let e = Calendar::from_texts(&[
            SHIPPED_2026,
            "year 2027\n\n2026-12-31 holiday\n2026-10-01 holiday\n",
        ])
        .unwrap_err();
        // 2026-10-01 is outside 2027's reach; 2026-12-31 is within it and new: only one error.
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].line, 4);
        let e = Calendar::from_texts(&[SHIPPED_2026, "year 2027\n2026-12-31 holiday\n"])
            .map(|c| c.is_working_day(date!(2026 - 12 - 31)));
        assert_eq!(e, Ok(false));
        // A 2025 text reaching forward into 2026-01-01, which 2026 already has.
        let e =
            Calendar::from_texts(&[SHIPPED_2026, "year 2025\n2026-01-01 holiday\n"]).unwrap_err();
        assert_eq!(
            e[0].kind,
            DuplicateDate {
                date: date!(2026 - 01 - 01),
                first_line: 6,
                first_year: 2026
            }
        );
        assert_eq!(e[0].line, 2);
        // Parse errors of several texts come back together.
        let e = Calendar::from_texts(&["year 2027\nbad\n", "year 2028\n2028-01-03 workday\n"])
            .unwrap_err();
        assert_eq!(e.len(), 2);
        assert_eq!((e[0].year, e[0].line), (Some(2027), 2));
        assert_eq!((e[1].year, e[1].line), (Some(2028), 2));
    }

    #[test]
    fn messages_are_localised_and_carry_the_line() {
        let e = YearText::parse("year 2026\n2026-01-05 workday\n").unwrap_err();
        let m = e[0].message();
        assert_eq!(
            m.zh,
            "2026 年日历第 2 行：2026-01-05 是星期一：调休上班日只能是星期六或星期日"
        );
        assert_eq!(
            m.en,
            "2026 calendar, line 2: 2026-01-05 is a Monday: a make-up working day must be a Saturday or Sunday"
        );
        let e = YearText::parse("").unwrap_err();
        assert!(e[0].message().zh.starts_with("第 1 行："));
        assert!(e[0].to_string().starts_with("line 1: no year line"));
        let e =
            Calendar::from_texts(&[SHIPPED_2026, "year 2025\n2026-01-01 holiday\n"]).unwrap_err();
        assert_eq!(
            e[0].message().en,
            "2025 calendar, line 2: 2026-01-01 is entered twice (already in the 2026 calendar, line 6)"
        );
        match invalid("text", &e) {
            Error::Invalid(fields) => {
                assert_eq!(fields.len(), 1);
                assert_eq!(fields[0].field, "text");
                assert_eq!(fields[0].message, e[0].message());
            }
            other => panic!("{other:?}"),
        }
    }
}
