//! The calculator around every 2025 and 2026 holiday block and make-up working day.
//!
//! Each row: a dispatch date (the day before a holiday block, its first and last day, the day
//! after it; the day before a make-up day, the day itself, the day after), then the last
//! working day of a 1, 3 and 5 working-day period. The expected dates were worked out from
//! DOMAIN.md's lists independently of the shipped texts.

use time::macros::format_description;
use time::{Date, Time};

use super::deadline::{midnight_ms, DayEnd, Deadline, Pause, Period};
use super::Calendar;
use crate::clock::SHANGHAI;

const TABLE: &[(&str, &str, &str, &str)] = &[
    ("2024-12-31", "2025-01-02", "2025-01-06", "2025-01-08"), // Tue: before holiday 2025-01-01
    ("2025-01-01", "2025-01-02", "2025-01-06", "2025-01-08"), // Wed: first day of holiday
    ("2025-01-02", "2025-01-03", "2025-01-07", "2025-01-09"), // Thu: after holiday ending 2025-01-01
    ("2025-01-25", "2025-01-26", "2025-02-05", "2025-02-07"), // Sat: before make-up day 2025-01-26
    ("2025-01-26", "2025-01-27", "2025-02-06", "2025-02-08"), // Sun: make-up day
    ("2025-01-27", "2025-02-05", "2025-02-07", "2025-02-10"), // Mon: after make-up day 2025-01-26; before holiday 2025-01-28
    ("2025-01-28", "2025-02-05", "2025-02-07", "2025-02-10"), // Tue: first day of holiday
    ("2025-02-04", "2025-02-05", "2025-02-07", "2025-02-10"), // Tue: last day of holiday
    ("2025-02-05", "2025-02-06", "2025-02-08", "2025-02-11"), // Wed: after holiday ending 2025-02-04
    ("2025-02-07", "2025-02-08", "2025-02-11", "2025-02-13"), // Fri: before make-up day 2025-02-08
    ("2025-02-08", "2025-02-10", "2025-02-12", "2025-02-14"), // Sat: make-up day
    ("2025-02-09", "2025-02-10", "2025-02-12", "2025-02-14"), // Sun: after make-up day 2025-02-08
    ("2025-04-03", "2025-04-07", "2025-04-09", "2025-04-11"), // Thu: before holiday 2025-04-04
    ("2025-04-04", "2025-04-07", "2025-04-09", "2025-04-11"), // Fri: first day of holiday
    ("2025-04-06", "2025-04-07", "2025-04-09", "2025-04-11"), // Sun: last day of holiday
    ("2025-04-07", "2025-04-08", "2025-04-10", "2025-04-14"), // Mon: after holiday ending 2025-04-06
    ("2025-04-26", "2025-04-27", "2025-04-29", "2025-05-06"), // Sat: before make-up day 2025-04-27
    ("2025-04-27", "2025-04-28", "2025-04-30", "2025-05-07"), // Sun: make-up day
    ("2025-04-28", "2025-04-29", "2025-05-06", "2025-05-08"), // Mon: after make-up day 2025-04-27
    ("2025-04-30", "2025-05-06", "2025-05-08", "2025-05-12"), // Wed: before holiday 2025-05-01
    ("2025-05-01", "2025-05-06", "2025-05-08", "2025-05-12"), // Thu: first day of holiday
    ("2025-05-05", "2025-05-06", "2025-05-08", "2025-05-12"), // Mon: last day of holiday
    ("2025-05-06", "2025-05-07", "2025-05-09", "2025-05-13"), // Tue: after holiday ending 2025-05-05
    ("2025-05-30", "2025-06-03", "2025-06-05", "2025-06-09"), // Fri: before holiday 2025-05-31
    ("2025-05-31", "2025-06-03", "2025-06-05", "2025-06-09"), // Sat: first day of holiday
    ("2025-06-02", "2025-06-03", "2025-06-05", "2025-06-09"), // Mon: last day of holiday
    ("2025-06-03", "2025-06-04", "2025-06-06", "2025-06-10"), // Tue: after holiday ending 2025-06-02
    ("2025-09-27", "2025-09-28", "2025-09-30", "2025-10-10"), // Sat: before make-up day 2025-09-28
    ("2025-09-28", "2025-09-29", "2025-10-09", "2025-10-11"), // Sun: make-up day
    ("2025-09-29", "2025-09-30", "2025-10-10", "2025-10-13"), // Mon: after make-up day 2025-09-28
    ("2025-09-30", "2025-10-09", "2025-10-11", "2025-10-14"), // Tue: before holiday 2025-10-01
    ("2025-10-01", "2025-10-09", "2025-10-11", "2025-10-14"), // Wed: first day of holiday
    ("2025-10-08", "2025-10-09", "2025-10-11", "2025-10-14"), // Wed: last day of holiday
    ("2025-10-09", "2025-10-10", "2025-10-13", "2025-10-15"), // Thu: after holiday ending 2025-10-08
    ("2025-10-10", "2025-10-11", "2025-10-14", "2025-10-16"), // Fri: before make-up day 2025-10-11
    ("2025-10-11", "2025-10-13", "2025-10-15", "2025-10-17"), // Sat: make-up day
    ("2025-10-12", "2025-10-13", "2025-10-15", "2025-10-17"), // Sun: after make-up day 2025-10-11
    ("2025-12-31", "2026-01-04", "2026-01-06", "2026-01-08"), // Wed: before holiday 2026-01-01
    ("2026-01-01", "2026-01-04", "2026-01-06", "2026-01-08"), // Thu: first day of holiday
    ("2026-01-03", "2026-01-04", "2026-01-06", "2026-01-08"), // Sat: before make-up day 2026-01-04; last day of holiday
    ("2026-01-04", "2026-01-05", "2026-01-07", "2026-01-09"), // Sun: after holiday ending 2026-01-03; make-up day
    ("2026-01-05", "2026-01-06", "2026-01-08", "2026-01-12"), // Mon: after make-up day 2026-01-04
    ("2026-02-13", "2026-02-14", "2026-02-25", "2026-02-27"), // Fri: before make-up day 2026-02-14
    ("2026-02-14", "2026-02-24", "2026-02-26", "2026-02-28"), // Sat: before holiday 2026-02-15; make-up day
    ("2026-02-15", "2026-02-24", "2026-02-26", "2026-02-28"), // Sun: after make-up day 2026-02-14; first day of holiday
    ("2026-02-23", "2026-02-24", "2026-02-26", "2026-02-28"), // Mon: last day of holiday
    ("2026-02-24", "2026-02-25", "2026-02-27", "2026-03-02"), // Tue: after holiday ending 2026-02-23
    ("2026-02-27", "2026-02-28", "2026-03-03", "2026-03-05"), // Fri: before make-up day 2026-02-28
    ("2026-02-28", "2026-03-02", "2026-03-04", "2026-03-06"), // Sat: make-up day
    ("2026-03-01", "2026-03-02", "2026-03-04", "2026-03-06"), // Sun: after make-up day 2026-02-28
    ("2026-04-03", "2026-04-07", "2026-04-09", "2026-04-13"), // Fri: before holiday 2026-04-04
    ("2026-04-04", "2026-04-07", "2026-04-09", "2026-04-13"), // Sat: first day of holiday
    ("2026-04-06", "2026-04-07", "2026-04-09", "2026-04-13"), // Mon: last day of holiday
    ("2026-04-07", "2026-04-08", "2026-04-10", "2026-04-14"), // Tue: after holiday ending 2026-04-06
    ("2026-04-30", "2026-05-06", "2026-05-08", "2026-05-11"), // Thu: before holiday 2026-05-01
    ("2026-05-01", "2026-05-06", "2026-05-08", "2026-05-11"), // Fri: first day of holiday
    ("2026-05-05", "2026-05-06", "2026-05-08", "2026-05-11"), // Tue: last day of holiday
    ("2026-05-06", "2026-05-07", "2026-05-09", "2026-05-12"), // Wed: after holiday ending 2026-05-05
    ("2026-05-08", "2026-05-09", "2026-05-12", "2026-05-14"), // Fri: before make-up day 2026-05-09
    ("2026-05-09", "2026-05-11", "2026-05-13", "2026-05-15"), // Sat: make-up day
    ("2026-05-10", "2026-05-11", "2026-05-13", "2026-05-15"), // Sun: after make-up day 2026-05-09
    ("2026-06-18", "2026-06-22", "2026-06-24", "2026-06-26"), // Thu: before holiday 2026-06-19
    ("2026-06-19", "2026-06-22", "2026-06-24", "2026-06-26"), // Fri: first day of holiday
    ("2026-06-21", "2026-06-22", "2026-06-24", "2026-06-26"), // Sun: last day of holiday
    ("2026-06-22", "2026-06-23", "2026-06-25", "2026-06-29"), // Mon: after holiday ending 2026-06-21
    ("2026-09-19", "2026-09-20", "2026-09-22", "2026-09-24"), // Sat: before make-up day 2026-09-20
    ("2026-09-20", "2026-09-21", "2026-09-23", "2026-09-28"), // Sun: make-up day
    ("2026-09-21", "2026-09-22", "2026-09-24", "2026-09-29"), // Mon: after make-up day 2026-09-20
    ("2026-09-24", "2026-09-28", "2026-09-30", "2026-10-09"), // Thu: before holiday 2026-09-25
    ("2026-09-25", "2026-09-28", "2026-09-30", "2026-10-09"), // Fri: first day of holiday
    ("2026-09-27", "2026-09-28", "2026-09-30", "2026-10-09"), // Sun: last day of holiday
    ("2026-09-28", "2026-09-29", "2026-10-08", "2026-10-10"), // Mon: after holiday ending 2026-09-27
    ("2026-09-30", "2026-10-08", "2026-10-10", "2026-10-13"), // Wed: before holiday 2026-10-01
    ("2026-10-01", "2026-10-08", "2026-10-10", "2026-10-13"), // Thu: first day of holiday
    ("2026-10-07", "2026-10-08", "2026-10-10", "2026-10-13"), // Wed: last day of holiday
    ("2026-10-08", "2026-10-09", "2026-10-12", "2026-10-14"), // Thu: after holiday ending 2026-10-07
    ("2026-10-09", "2026-10-10", "2026-10-13", "2026-10-15"), // Fri: before make-up day 2026-10-10
    ("2026-10-10", "2026-10-12", "2026-10-14", "2026-10-16"), // Sat: make-up day
    ("2026-10-11", "2026-10-12", "2026-10-14", "2026-10-16"), // Sun: after make-up day 2026-10-10
];

fn day(s: &str) -> Date {
    Date::parse(s, format_description!("[year]-[month]-[day]")).unwrap()
}

fn at(d: Date, h: u8, m: u8, s: u8, ms: u16) -> i64 {
    let t = Time::from_hms_milli(h, m, s, ms).unwrap();
    d.with_time(t).assume_offset(SHANGHAI).unix_timestamp() * 1000 + i64::from(ms)
}

#[test]
fn every_holiday_and_make_up_day_2025_2026() {
    let cal = Calendar::shipped();
    assert_eq!(TABLE.len(), 79);
    for &(start, d1, d3, d5) in TABLE {
        let start = day(start);
        for (n, expected) in [(1, d1), (3, d3), (5, d5)] {
            let expected = day(expected);
            // The hour of dispatch does not matter: the start day is never counted.
            for start_ms in [
                at(start, 0, 0, 0, 0),
                at(start, 10, 0, 0, 0),
                at(start, 23, 59, 59, 999),
            ] {
                let d = Deadline::new(start_ms, Period::WorkingDays(n), DayEnd::Midnight);
                let due = d.due(&cal, &[], start_ms);
                assert_eq!(due.last_day, Some(expected), "dispatched {start}, {n} days");
                assert_eq!(
                    due.at_ms,
                    midnight_ms(expected.next_day().unwrap()),
                    "dispatched {start}, {n} days: ends at 24:00"
                );
                assert!(due.uncovered_years.is_empty());
                assert!(!due.provisional);
                // Office hours end: the same day, at 17:30.
                let d = Deadline::new(
                    start_ms,
                    Period::WorkingDays(n),
                    DayEnd::office_close(17, 30),
                );
                assert_eq!(
                    d.due(&cal, &[], start_ms).at_ms,
                    at(expected, 17, 30, 0, 0),
                    "dispatched {start}, {n} days, office close"
                );
            }
        }
    }
}

/// A pause over a whole holiday block changes nothing: holidays are not counted anyway.
#[test]
fn pausing_over_a_holiday_block_alone_changes_nothing() {
    let cal = Calendar::shipped();
    for &(start, _, _, d5) in TABLE {
        let start = day(start);
        let start_ms = at(start, 10, 0, 0, 0);
        let d = Deadline::new(start_ms, Period::WorkingDays(5), DayEnd::Midnight);
        // Pause across every rest day between the start and the due, touching no working day.
        let mut pauses = Vec::new();
        let mut x = start.next_day().unwrap();
        while x <= day(d5) {
            if !cal.is_working_day(x) {
                pauses.push(Pause::closed(
                    midnight_ms(x),
                    midnight_ms(x.next_day().unwrap()),
                ));
            }
            x = x.next_day().unwrap();
        }
        assert_eq!(
            d.due(&cal, &pauses, start_ms).last_day,
            Some(day(d5)),
            "{start}"
        );
    }
}
