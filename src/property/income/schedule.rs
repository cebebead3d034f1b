//! When accounts must be published: public income quarterly (`2026Q3`), the maintenance fund
//! half-yearly (`2026-H1` = January–June, `2026-H2` = July–December). A period's publication
//! is due within [`DUE_DAYS`] days after its last day: the due date itself is still on time,
//! the day after it the period is overdue while unpublished. Pure: dates come in as text
//! (`YYYY-MM-DD`, Asia/Shanghai), no clock.

use serde::Serialize;
use time::{Date, Duration, Month};

/// Days after a period's last day within which its publication is due.
pub const DUE_DAYS: i64 = 30;

/// A publication period.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Period {
    /// Year and quarter 1–4.
    Quarter(i32, u8),
    /// Year and half 1–2.
    Half(i32, u8),
}

fn date(s: &str) -> Option<Date> {
    Date::parse(
        s.trim(),
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()
}

fn show(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

fn ymd(y: i32, m: u8, d: u8) -> Option<Date> {
    Date::from_calendar_date(y, Month::try_from(m).ok()?, d).ok()
}

impl Period {
    /// The quarter a date falls in.
    pub fn quarter_of(d: &str) -> Option<Period> {
        let d = date(d)?;
        Some(Period::Quarter(d.year(), (u8::from(d.month()) - 1) / 3 + 1))
    }

    /// The half-year a date falls in.
    pub fn half_of(d: &str) -> Option<Period> {
        let d = date(d)?;
        Some(Period::Half(
            d.year(),
            if u8::from(d.month()) <= 6 { 1 } else { 2 },
        ))
    }

    /// Parses `2026Q3` or `2026-H1`.
    pub fn parse(s: &str) -> Option<Period> {
        let s = s.trim();
        let (y, rest, half) = if let Some((y, q)) = s.split_once('Q') {
            (y, q, false)
        } else if let Some((y, h)) = s.split_once("-H") {
            (y, h, true)
        } else {
            return None;
        };
        if y.len() != 4 || !y.bytes().all(|b| b.is_ascii_digit()) || rest.len() != 1 {
            return None;
        }
        let y: i32 = y.parse().ok()?;
        let n: u8 = rest.parse().ok()?;
        match (half, n) {
            (false, 1..=4) => Some(Period::Quarter(y, n)),
            (true, 1..=2) => Some(Period::Half(y, n)),
            _ => None,
        }
    }

    /// The code: `2026Q3` or `2026-H1`.
    pub fn code(self) -> String {
        match self {
            Period::Quarter(y, q) => format!("{y:04}Q{q}"),
            Period::Half(y, h) => format!("{y:04}-H{h}"),
        }
    }

    fn months(self) -> (i32, u8, u8) {
        match self {
            Period::Quarter(y, q) => (y, (q - 1) * 3 + 1, (q - 1) * 3 + 3),
            Period::Half(y, h) => (y, (h - 1) * 6 + 1, (h - 1) * 6 + 6),
        }
    }

    fn first_date(self) -> Option<Date> {
        let (y, m, _) = self.months();
        ymd(y, m, 1)
    }

    fn last_date(self) -> Option<Date> {
        let (y, _, m) = self.months();
        let next = if m == 12 {
            ymd(y + 1, 1, 1)
        } else {
            ymd(y, m + 1, 1)
        }?;
        next.previous_day()
    }

    /// The first day, `YYYY-MM-DD`.
    pub fn first_day(self) -> String {
        self.first_date().map(show).unwrap_or_default()
    }

    /// The last day, `YYYY-MM-DD`.
    pub fn last_day(self) -> String {
        self.last_date().map(show).unwrap_or_default()
    }

    /// The last day the publication is on time: [`DUE_DAYS`] after the last day.
    pub fn due_on(self) -> String {
        self.last_date()
            .map(|d| show(d + Duration::days(DUE_DAYS)))
            .unwrap_or_default()
    }

    /// Whether the date lies in the period.
    pub fn contains(self, d: &str) -> bool {
        match self {
            Period::Quarter(..) => Period::quarter_of(d) == Some(self),
            Period::Half(..) => Period::half_of(d) == Some(self),
        }
    }

    /// The period before this one.
    pub fn previous(self) -> Period {
        match self {
            Period::Quarter(y, 1) => Period::Quarter(y - 1, 4),
            Period::Quarter(y, q) => Period::Quarter(y, q - 1),
            Period::Half(y, 1) => Period::Half(y - 1, 2),
            Period::Half(y, _) => Period::Half(y, 1),
        }
    }
}

/// Where a period's publication stands on a day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Published.
    Published,
    /// The period has not ended yet.
    Running,
    /// Ended, unpublished, still within the days allowed.
    Due,
    /// Ended more than [`DUE_DAYS`] days ago and unpublished.
    Overdue,
}

/// The state of `period` on `today` (`YYYY-MM-DD`).
pub fn state(period: Period, published: bool, today: &str) -> State {
    if published {
        return State::Published;
    }
    let today = today.trim();
    if today <= period.last_day().as_str() {
        State::Running
    } else if today <= period.due_on().as_str() {
        State::Due
    } else {
        State::Overdue
    }
}

/// What the flag on a page says: the latest ended period that the account had entries for
/// (its first entry dated on or before that period's last day), its due date and state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Flag {
    pub period: String,
    pub due_on: String,
    pub state: State,
    /// Unpublished after its due date.
    pub overdue: bool,
}

/// The flag for an account whose first entry is dated `first_entry` (none: no flag), given
/// the periods already published (codes) and today. It looks at the latest ended period and,
/// when that one is still within its days, also at the one before (an older period left
/// unpublished stays overdue).
pub fn flag(
    current: Period,
    first_entry: Option<&str>,
    published: &[String],
    today: &str,
) -> Option<Flag> {
    let first = first_entry?;
    let is_pub = |p: Period| published.iter().any(|c| *c == p.code());
    let last = current.previous();
    let before = last.previous();
    let mut out = None;
    for p in [before, last] {
        if first > p.last_day().as_str() {
            continue;
        }
        let s = state(p, is_pub(p), today);
        let f = Flag {
            period: p.code(),
            due_on: p.due_on(),
            state: s,
            overdue: s == State::Overdue,
        };
        // An overdue older period outranks a younger one that is merely due or published.
        match &out {
            Some(Flag { overdue: true, .. }) => {}
            _ => out = Some(f),
        }
    }
    out
}

/// The current quarter on `today`.
pub fn quarter_now(today: &str) -> Option<Period> {
    Period::quarter_of(today)
}

/// The current half-year on `today`.
pub fn half_now(today: &str) -> Option<Period> {
    Period::half_of(today)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(y: i32, n: u8) -> Period {
        Period::Quarter(y, n)
    }

    #[test]
    fn quarter_boundaries() {
        assert_eq!(Period::quarter_of("2026-01-01"), Some(q(2026, 1)));
        assert_eq!(Period::quarter_of("2026-03-31"), Some(q(2026, 1)));
        assert_eq!(Period::quarter_of("2026-04-01"), Some(q(2026, 2)));
        assert_eq!(Period::quarter_of("2026-06-30"), Some(q(2026, 2)));
        assert_eq!(Period::quarter_of("2026-07-01"), Some(q(2026, 3)));
        assert_eq!(Period::quarter_of("2026-09-30"), Some(q(2026, 3)));
        assert_eq!(Period::quarter_of("2026-10-01"), Some(q(2026, 4)));
        assert_eq!(Period::quarter_of("2026-12-31"), Some(q(2026, 4)));
        assert_eq!(Period::quarter_of("2026-02-30"), None);
        assert_eq!(q(2026, 1).last_day(), "2026-03-31");
        assert_eq!(q(2026, 2).last_day(), "2026-06-30");
        assert_eq!(q(2026, 3).last_day(), "2026-09-30");
        assert_eq!(q(2026, 4).last_day(), "2026-12-31");
        assert_eq!(q(2026, 4).first_day(), "2026-10-01");
    }

    #[test]
    fn half_year_boundaries() {
        assert_eq!(Period::half_of("2026-06-30"), Some(Period::Half(2026, 1)));
        assert_eq!(Period::half_of("2026-07-01"), Some(Period::Half(2026, 2)));
        assert_eq!(Period::Half(2026, 1).last_day(), "2026-06-30");
        assert_eq!(Period::Half(2026, 2).last_day(), "2026-12-31");
        assert_eq!(Period::Half(2026, 1).due_on(), "2026-07-30");
        assert_eq!(Period::Half(2026, 2).due_on(), "2027-01-30");
    }

    #[test]
    fn due_dates_cross_months_and_leap_years() {
        // Q1 ends on 31 March in every year; 30 days later is 30 April.
        assert_eq!(q(2028, 1).due_on(), "2028-04-30");
        assert_eq!(q(2026, 2).due_on(), "2026-07-30");
        assert_eq!(q(2026, 3).due_on(), "2026-10-30");
        assert_eq!(q(2026, 4).due_on(), "2027-01-30");
        // A leap February inside the 30 days: none of our periods ends in January, so check
        // the arithmetic through the leap day directly.
        assert_eq!(
            ymd(2028, 1, 31).map(|d| show(d + Duration::days(DUE_DAYS))),
            Some("2028-03-01".to_owned())
        );
        assert_eq!(
            ymd(2027, 1, 31).map(|d| show(d + Duration::days(DUE_DAYS))),
            Some("2027-03-02".to_owned())
        );
        assert_eq!(Period::quarter_of("2028-02-29"), Some(q(2028, 1)));
        assert_eq!(Period::quarter_of("2027-02-29"), None);
    }

    #[test]
    fn the_thirtieth_day_is_still_on_time() {
        let p = q(2026, 3);
        assert_eq!(state(p, false, "2026-09-30"), State::Running);
        assert_eq!(state(p, false, "2026-10-01"), State::Due);
        assert_eq!(state(p, false, "2026-10-30"), State::Due);
        assert_eq!(state(p, false, "2026-10-31"), State::Overdue);
        assert_eq!(state(p, true, "2027-10-31"), State::Published);
        let h = Period::Half(2026, 1);
        assert_eq!(state(h, false, "2026-07-30"), State::Due);
        assert_eq!(state(h, false, "2026-07-31"), State::Overdue);
    }

    #[test]
    fn codes_round_trip() {
        for p in [
            q(2026, 1),
            q(2026, 4),
            Period::Half(2026, 1),
            Period::Half(1999, 2),
        ] {
            assert_eq!(Period::parse(&p.code()), Some(p));
        }
        for bad in [
            "", "2026Q0", "2026Q5", "2026-H3", "2026-H0", "26Q1", "2026Q12", "2026-Q1", "2026H1",
            "abcdQ1",
        ] {
            assert_eq!(Period::parse(bad), None, "{bad}");
        }
        assert_eq!(q(2026, 1).previous(), q(2025, 4));
        assert_eq!(q(2026, 3).previous(), q(2026, 2));
        assert_eq!(Period::Half(2026, 1).previous(), Period::Half(2025, 2));
        assert_eq!(Period::Half(2026, 2).previous(), Period::Half(2026, 1));
        assert!(q(2026, 3).contains("2026-08-15"));
        assert!(!q(2026, 3).contains("2026-10-01"));
        assert!(Period::Half(2026, 2).contains("2026-10-01"));
    }

    #[test]
    fn the_flag_names_the_latest_ended_period() {
        let cur = q(2026, 4);
        // No entries: nothing to publish.
        assert_eq!(flag(cur, None, &[], "2026-12-01"), None);
        // Entries from July: Q3 ended 30 Sep, due 30 Oct; on 1 Dec it is overdue.
        let f = flag(cur, Some("2026-07-05"), &[], "2026-12-01").unwrap();
        assert_eq!((f.period.as_str(), f.overdue), ("2026Q3", true));
        assert_eq!(f.due_on, "2026-10-30");
        // Published: no longer overdue.
        let f = flag(cur, Some("2026-07-05"), &["2026Q3".into()], "2026-12-01").unwrap();
        assert_eq!(f.state, State::Published);
        // Entries only since October: Q3 is not this account's business.
        assert_eq!(flag(cur, Some("2026-10-02"), &[], "2026-12-01"), None);
        // Early in a quarter the one just ended is due; an older unpublished one stays overdue.
        let f = flag(
            q(2027, 1),
            Some("2026-07-05"),
            &["2026Q3".into()],
            "2027-01-10",
        )
        .unwrap();
        assert_eq!((f.period.as_str(), f.state), ("2026Q4", State::Due));
        let f = flag(q(2027, 1), Some("2026-07-05"), &[], "2027-01-10").unwrap();
        assert_eq!((f.period.as_str(), f.state), ("2026Q3", State::Overdue));
        // The half-year flag the same way.
        let f = flag(Period::Half(2026, 2), Some("2026-03-01"), &[], "2026-07-31").unwrap();
        assert_eq!((f.period.as_str(), f.overdue), ("2026-H1", true));
        let f = flag(Period::Half(2026, 2), Some("2026-03-01"), &[], "2026-07-30").unwrap();
        assert_eq!((f.period.as_str(), f.overdue), ("2026-H1", false));
    }
}
