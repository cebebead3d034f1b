//! Periods of the measures: days as `yyyymmdd` integers (Shanghai time), months as `yyyymm`,
//! the presets of the dashboard, and the split of a day range into whole months (read from
//! the monthly rollup) and the days at its edges (read from the daily one). Pure.

use time::{Date, Duration, Month};

use crate::i18n::Text;

/// The Shanghai day of an instant, as `yyyymmdd`.
pub fn day_of(ms: i64) -> i64 {
    day_int(crate::clock::to_local(ms).date())
}

pub fn day_int(d: Date) -> i64 {
    i64::from(d.year()) * 10_000 + i64::from(u8::from(d.month())) * 100 + i64::from(d.day())
}

/// The date of a `yyyymmdd` integer, if it is one.
pub fn date_of(day: i64) -> Option<Date> {
    let y = i32::try_from(day / 10_000).ok()?;
    let m = Month::try_from(u8::try_from(day / 100 % 100).ok()?).ok()?;
    Date::from_calendar_date(y, m, u8::try_from(day % 100).ok()?).ok()
}

/// `yyyy-mm-dd` of a day integer.
pub fn day_text(day: i64) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        day / 10_000,
        day / 100 % 100,
        day % 100
    )
}

/// Parses `yyyy-mm-dd` into a day integer.
pub fn parse_day(s: &str) -> Option<i64> {
    let f = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s.trim(), &f).ok().map(day_int)
}

fn first_of_month(d: Date) -> Date {
    d.replace_day(1).unwrap_or(d)
}

fn last_of_month(d: Date) -> Date {
    let first = first_of_month(d);
    let next = first.checked_add(Duration::days(32)).unwrap_or(first);
    first_of_month(next).previous_day().unwrap_or(d)
}

/// The dashboard's period presets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    ThisMonth,
    LastMonth,
    ThisQuarter,
    ThisYear,
    Custom,
}

pub const ALL_PRESETS: [Preset; 5] = [
    Preset::ThisMonth,
    Preset::LastMonth,
    Preset::ThisQuarter,
    Preset::ThisYear,
    Preset::Custom,
];

impl Preset {
    pub fn code(self) -> &'static str {
        match self {
            Preset::ThisMonth => "this_month",
            Preset::LastMonth => "last_month",
            Preset::ThisQuarter => "this_quarter",
            Preset::ThisYear => "this_year",
            Preset::Custom => "custom",
        }
    }

    pub fn from_code(s: &str) -> Option<Preset> {
        ALL_PRESETS.into_iter().find(|p| p.code() == s)
    }

    pub fn label(self) -> Text {
        match self {
            Preset::ThisMonth => Text::new("本月", "This month"),
            Preset::LastMonth => Text::new("上月", "Last month"),
            Preset::ThisQuarter => Text::new("本季度", "This quarter"),
            Preset::ThisYear => Text::new("本年", "This year"),
            Preset::Custom => Text::new("自定义", "Custom"),
        }
    }

    /// The day range of a preset, for a given today; `None` for Custom.
    pub fn range(self, today: Date) -> Option<(i64, i64)> {
        let (from, to) = match self {
            Preset::ThisMonth => (first_of_month(today), last_of_month(today)),
            Preset::LastMonth => {
                let prev = first_of_month(today).previous_day()?;
                (first_of_month(prev), last_of_month(prev))
            }
            Preset::ThisQuarter => {
                let q0 = (u8::from(today.month()) - 1) / 3 * 3 + 1;
                let from =
                    Date::from_calendar_date(today.year(), Month::try_from(q0).ok()?, 1).ok()?;
                let last = Date::from_calendar_date(today.year(), Month::try_from(q0 + 2).ok()?, 1)
                    .ok()?;
                (from, last_of_month(last))
            }
            Preset::ThisYear => (
                Date::from_calendar_date(today.year(), Month::January, 1).ok()?,
                Date::from_calendar_date(today.year(), Month::December, 31).ok()?,
            ),
            Preset::Custom => return None,
        };
        Some((day_int(from), day_int(to)))
    }
}

/// A day range split for the monthly and daily rollups: whole months `months` (inclusive `yyyymm`), and
/// up to two runs of days before and after them (inclusive `yyyymmdd`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Split {
    pub months: Option<(i64, i64)>,
    pub head: Option<(i64, i64)>,
    pub tail: Option<(i64, i64)>,
}

/// Splits `from..=to` (day integers of real dates, `from <= to`).
pub fn split(from: i64, to: i64) -> Split {
    let (Some(f), Some(t)) = (date_of(from), date_of(to)) else {
        return Split {
            months: None,
            head: Some((from, to)),
            tail: None,
        };
    };
    // The first whole month starts at `f` or the month after; the last ends at `t` or before.
    let first_full = if f.day() == 1 {
        f
    } else {
        last_of_month(f).next_day().unwrap_or(f)
    };
    let last_full_end = if t == last_of_month(t) {
        t
    } else {
        first_of_month(t).previous_day().unwrap_or(t)
    };
    if first_full > last_full_end {
        return Split {
            months: None,
            head: Some((from, to)),
            tail: None,
        };
    }
    let month = |d: Date| day_int(d) / 100;
    let head = (first_full > f).then(|| (from, day_int(first_full.previous_day().unwrap_or(f))));
    let tail = (last_full_end < t).then(|| (day_int(last_full_end.next_day().unwrap_or(t)), to));
    Split {
        months: Some((month(first_full), month(last_full_end))),
        head,
        tail,
    }
}

/// The `yyyymm` months from `from` to `to` inclusive.
pub fn months_between(from: i64, to: i64) -> Vec<i64> {
    let mut out = Vec::new();
    let (mut y, mut m) = (from / 100, from % 100);
    while y * 100 + m <= to && out.len() < 1200 {
        out.push(y * 100 + m);
        m += 1;
        if m > 12 {
            m = 1;
            y += 1;
        }
    }
    out
}

/// The month `n` months before `yyyymm`.
pub fn month_minus(month: i64, n: i64) -> i64 {
    let idx = month / 100 * 12 + (month % 100 - 1) - n;
    idx / 12 * 100 + idx % 12 + 1
}

/// The Monday (as `yyyymmdd`) of the ISO week holding `day`.
pub fn week_start(day: i64) -> i64 {
    match date_of(day) {
        Some(d) => {
            let back = i64::from(d.weekday().number_days_from_monday());
            day_int(d.checked_sub(Duration::days(back)).unwrap_or(d))
        }
        None => day,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn days_are_shanghai_dates() {
        // 2026-01-01T00:00:00Z is 08:00 in Shanghai; 16:00Z the day before is 00:00 there.
        assert_eq!(day_of(1_767_225_600_000), 20260101);
        assert_eq!(day_of(1_767_225_600_000 - 8 * 3_600_000), 20260101);
        assert_eq!(day_of(1_767_225_600_000 - 8 * 3_600_000 - 1), 20251231);
        assert_eq!(date_of(20260229), None);
        assert_eq!(date_of(20240229), Some(date!(2024 - 02 - 29)));
        assert_eq!(parse_day("2026-03-05"), Some(20260305));
        assert_eq!(parse_day("2026-3-5x"), None);
        assert_eq!(day_text(20260305), "2026-03-05");
    }

    #[test]
    fn presets_cover_their_calendar_span() {
        let today = date!(2026 - 12 - 01);
        assert_eq!(Preset::ThisMonth.range(today), Some((20261201, 20261231)));
        assert_eq!(Preset::LastMonth.range(today), Some((20261101, 20261130)));
        assert_eq!(Preset::ThisQuarter.range(today), Some((20261001, 20261231)));
        assert_eq!(Preset::ThisYear.range(today), Some((20260101, 20261231)));
        assert_eq!(Preset::Custom.range(today), None);
        let jan = date!(2026 - 01 - 15);
        assert_eq!(Preset::LastMonth.range(jan), Some((20251201, 20251231)));
        assert_eq!(Preset::ThisQuarter.range(jan), Some((20260101, 20260331)));
        let feb = date!(2024 - 02 - 10);
        assert_eq!(Preset::ThisMonth.range(feb), Some((20240201, 20240229)));
        for p in ALL_PRESETS {
            assert_eq!(Preset::from_code(p.code()), Some(p));
        }
    }

    #[test]
    fn a_range_splits_into_whole_months_and_edge_days() {
        assert_eq!(
            split(20260101, 20261231),
            Split {
                months: Some((202601, 202612)),
                head: None,
                tail: None
            }
        );
        assert_eq!(
            split(20260115, 20260320),
            Split {
                months: Some((202602, 202602)),
                head: Some((20260115, 20260131)),
                tail: Some((20260301, 20260320))
            }
        );
        // Inside one month: days only.
        assert_eq!(
            split(20260102, 20260130),
            Split {
                months: None,
                head: Some((20260102, 20260130)),
                tail: None
            }
        );
        // Across a month boundary without a whole month.
        assert_eq!(
            split(20260215, 20260310),
            Split {
                months: None,
                head: Some((20260215, 20260310)),
                tail: None
            }
        );
        assert_eq!(
            split(20260201, 20260228),
            Split {
                months: Some((202602, 202602)),
                head: None,
                tail: None
            }
        );
        assert_eq!(
            split(20251231, 20260131),
            Split {
                months: Some((202601, 202601)),
                head: Some((20251231, 20251231)),
                tail: None
            }
        );
    }

    #[test]
    fn months_and_weeks() {
        assert_eq!(
            months_between(202511, 202602),
            [202511, 202512, 202601, 202602]
        );
        assert_eq!(month_minus(202601, 1), 202512);
        assert_eq!(month_minus(202612, 11), 202601);
        assert_eq!(month_minus(202603, 15), 202412);
        // 2026-12-01 is a Tuesday.
        assert_eq!(week_start(20261201), 20261130);
        assert_eq!(week_start(20261130), 20261130);
        assert_eq!(week_start(20260101), 20251229);
    }
}
