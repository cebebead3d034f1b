//! iCalendar (RFC 5545) feeds of meetings, per community and per person.
//!
//! Pure: a [`Calendar`] in, the `.ics` text out. Lines end with CRLF and are folded at 75
//! octets without splitting a UTF-8 character (Chinese titles are three octets a character).
//! Meeting times are written as Shanghai local time with `TZID=Asia/Shanghai` and a VTIMEZONE
//! (CST, +08:00, no daylight saving); the stamps are UTC. The output depends only on the input
//! (DTSTAMP is the event's last change), so a feed's ETag can be its digest.

use crate::clock::SHANGHAI;

/// Our product identifier.
pub const PRODID: &str = "-//Red Butler//Red Butler 红管家//ZH";

/// The time zone of every meeting.
pub const TZID: &str = "Asia/Shanghai";

/// The longest physical line, in octets, without its CRLF.
pub const MAX_LINE_OCTETS: usize = 75;

/// An event's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Status {
    #[default]
    Confirmed,
    Cancelled,
}

impl Status {
    pub fn code(self) -> &'static str {
        match self {
            Status::Confirmed => "CONFIRMED",
            Status::Cancelled => "CANCELLED",
        }
    }
}

/// One meeting in a feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Stable across updates, e.g. `meeting-123@<host>`.
    pub uid: String,
    pub start_ms: i64,
    /// Written as `start_ms` when earlier than the start.
    pub end_ms: i64,
    pub summary: String,
    /// Omitted when empty.
    pub description: String,
    /// Omitted when empty.
    pub location: String,
    pub status: Status,
    /// Raised each time the meeting changes in a way attendees should see (RFC 5545 §3.8.7.4).
    pub sequence: u32,
    /// Also written as DTSTAMP.
    pub last_modified_ms: i64,
    /// The meeting's page; omitted when empty.
    pub url: String,
}

/// A feed: one community's or one person's meetings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    /// Shown by clients as the calendar's name (X-WR-CALNAME).
    pub name: String,
    pub events: Vec<Event>,
}

/// `20261202T140000`, Shanghai wall-clock time.
fn local_stamp(ms: i64) -> String {
    let t = crate::clock::to_local(ms).to_offset(SHANGHAI);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// `20261202T060000Z`.
fn utc_stamp(ms: i64) -> String {
    let t = crate::clock::to_local(ms).to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Escapes a TEXT value (RFC 5545 §3.3.11): `\` `;` `,` and newlines (CRLF, CR or LF become
/// `\n`). Other control characters, which TEXT may not hold, are dropped.
pub fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            '\t' => out.push('\t'),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// The inverse of [`escape_text`] (for tests and for reading back our own feeds).
pub fn unescape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') | Some('N') => out.push('\n'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

/// A value that is not TEXT (a URI, an id): only control characters are dropped, so the line
/// cannot be broken.
fn plain(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).collect()
}

/// Folds one content line (no CR or LF in it) into physical lines of at most
/// [`MAX_LINE_OCTETS`] octets, each continuation starting with one space; the result has no
/// trailing CRLF. A fold never splits a UTF-8 character.
pub fn fold_line(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + line.len() / 64 * 3);
    let mut used = 0;
    for c in line.chars() {
        let n = c.len_utf8();
        if used + n > MAX_LINE_OCTETS {
            out.push_str("\r\n ");
            used = 1;
        }
        out.push(c);
        used += n;
    }
    out
}

/// Removes the folds of RFC 5545 §3.1 (a CRLF followed by one space or tab).
pub fn unfold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("\r\n") {
        let after = &rest[i + 2..];
        if after.starts_with(' ') || after.starts_with('\t') {
            out.push_str(&rest[..i]);
            rest = &after[1..];
        } else {
            out.push_str(&rest[..i + 2]);
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

struct Writer {
    out: String,
}

impl Writer {
    fn line(&mut self, content: &str) {
        self.out.push_str(&fold_line(content));
        self.out.push_str("\r\n");
    }

    fn prop(&mut self, name: &str, value: &str) {
        self.line(&format!("{name}:{value}"));
    }

    fn text(&mut self, name: &str, value: &str) {
        self.prop(name, &escape_text(value));
    }
}

/// The `.ics` text of a feed.
pub fn write(calendar: &Calendar) -> String {
    let mut w = Writer { out: String::new() };
    w.line("BEGIN:VCALENDAR");
    w.prop("VERSION", "2.0");
    w.text("PRODID", PRODID);
    w.prop("CALSCALE", "GREGORIAN");
    w.prop("METHOD", "PUBLISH");
    w.text("X-WR-CALNAME", &calendar.name);
    w.prop("X-WR-TIMEZONE", TZID);
    w.line("BEGIN:VTIMEZONE");
    w.prop("TZID", TZID);
    w.line("BEGIN:STANDARD");
    w.prop("DTSTART", "19700101T000000");
    w.prop("TZOFFSETFROM", "+0800");
    w.prop("TZOFFSETTO", "+0800");
    w.prop("TZNAME", "CST");
    w.line("END:STANDARD");
    w.line("END:VTIMEZONE");
    for e in &calendar.events {
        w.line("BEGIN:VEVENT");
        w.text("UID", &plain(&e.uid));
        w.prop("DTSTAMP", &utc_stamp(e.last_modified_ms));
        w.prop("LAST-MODIFIED", &utc_stamp(e.last_modified_ms));
        w.prop("SEQUENCE", &e.sequence.to_string());
        w.prop(&format!("DTSTART;TZID={TZID}"), &local_stamp(e.start_ms));
        w.prop(
            &format!("DTEND;TZID={TZID}"),
            &local_stamp(e.end_ms.max(e.start_ms)),
        );
        w.text("SUMMARY", &e.summary);
        if !e.description.is_empty() {
            w.text("DESCRIPTION", &e.description);
        }
        if !e.location.is_empty() {
            w.text("LOCATION", &e.location);
        }
        w.prop("STATUS", e.status.code());
        if !e.url.is_empty() {
            w.prop("URL", &plain(&e.url));
        }
        w.line("END:VEVENT");
    }
    w.line("END:VCALENDAR");
    w.out
}

#[cfg(test)]
mod tests {
    use super::*;
    use icalendar::{CalendarDateTime, Component, DatePerhapsTime, EventLike, EventStatus};
    use proptest::prelude::*;
    use time::macros::datetime;

    fn shanghai_ms(t: time::PrimitiveDateTime) -> i64 {
        crate::deliberation::cadence::local_to_ms(t)
    }

    fn utc_ms(t: time::PrimitiveDateTime) -> i64 {
        t.assume_utc().unix_timestamp() * 1000
    }

    const LONG_SUMMARY: &str =
        "每周例会：夏阳街道东方社区第三网格，关于加装电梯；停车位划线与垃圾分类的协商（第二次）";
    const DESCRIPTION: &str =
        "议程：\n1. 上次待办, 共 3 项;\n2. 超期事项\\逾期 5 天\r\n3. 其他事项\n\nAgenda: actions; cases, topics \\ more";

    fn sample() -> Calendar {
        Calendar {
            name: "东方社区 · 五步工作法, 会议".into(),
            events: vec![
                Event {
                    uid: "meeting-1001@redbutler".into(),
                    start_ms: shanghai_ms(datetime!(2026-12-03 14:00)),
                    end_ms: shanghai_ms(datetime!(2026-12-03 15:30)),
                    summary: LONG_SUMMARY.into(),
                    description: DESCRIPTION.into(),
                    location: "党群服务中心 2 楼, 议事厅; 201 室".into(),
                    status: Status::Confirmed,
                    sequence: 3,
                    last_modified_ms: utc_ms(datetime!(2026-12-01 03:04:05)),
                    url: "https://rb.example.org/meetings/1001?lang=zh-CN,en".into(),
                },
                Event {
                    uid: "meeting-1002@redbutler".into(),
                    start_ms: shanghai_ms(datetime!(2026-10-01 09:00)),
                    end_ms: shanghai_ms(datetime!(2026-10-01 08:00)),
                    summary: "Monthly consultation".into(),
                    description: String::new(),
                    location: String::new(),
                    status: Status::Cancelled,
                    sequence: 0,
                    last_modified_ms: utc_ms(datetime!(2026-09-30 16:00)),
                    url: String::new(),
                },
            ],
        }
    }

    #[test]
    fn every_field_reads_back_with_an_independent_parser() {
        let cal = sample();
        let text = write(&cal);
        let parsed: icalendar::Calendar = text.parse().expect("parses");
        let events: Vec<_> = parsed
            .components
            .iter()
            .filter_map(|c| c.as_event())
            .collect();
        assert_eq!(events.len(), 2);
        for (e, want) in events.iter().zip(&cal.events) {
            assert_eq!(e.get_uid(), Some(want.uid.as_str()));
            assert_eq!(e.get_summary(), Some(want.summary.as_str()));
            let empty = |s: &str| (!s.is_empty()).then(|| s.replace("\r\n", "\n"));
            assert_eq!(
                e.get_description().map(str::to_string),
                empty(&want.description)
            );
            assert_eq!(e.get_location().map(str::to_string), empty(&want.location));
            assert_eq!(e.get_url().map(str::to_string), empty(&want.url));
            assert_eq!(e.get_sequence(), Some(want.sequence));
            assert_eq!(
                e.get_status(),
                Some(match want.status {
                    Status::Confirmed => EventStatus::Confirmed,
                    Status::Cancelled => EventStatus::Cancelled,
                })
            );
            assert_eq!(
                e.get_timestamp().map(|t| t.timestamp_millis()),
                Some(want.last_modified_ms)
            );
            assert_eq!(
                e.get_last_modified().map(|t| t.timestamp_millis()),
                Some(want.last_modified_ms)
            );
            for (got, ms) in [
                (e.get_start(), want.start_ms),
                (e.get_end(), want.end_ms.max(want.start_ms)),
            ] {
                match got {
                    Some(DatePerhapsTime::DateTime(CalendarDateTime::WithTimezone {
                        date_time,
                        tzid,
                    })) => {
                        assert_eq!(tzid, "Asia/Shanghai");
                        // Local wall-clock + 8 h = UTC.
                        let utc = date_time.and_utc().timestamp_millis() - 8 * 3_600_000;
                        assert_eq!(utc, ms);
                    }
                    other => panic!("{other:?}"),
                }
            }
        }
        assert_eq!(
            events[0].get_start(),
            Some(DatePerhapsTime::DateTime(CalendarDateTime::WithTimezone {
                date_time: "2026-12-03T14:00:00".parse().unwrap(),
                tzid: "Asia/Shanghai".into(),
            }))
        );
    }

    #[test]
    fn calendar_properties_and_time_zone_read_back() {
        let text = write(&sample());
        let unfolded = icalendar::parser::unfold(&text);
        let cal = icalendar::parser::read_calendar(&unfolded).expect("parses");
        let prop = |name: &str| {
            cal.properties
                .iter()
                .find(|p| p.name.as_str() == name)
                .map(|p| p.val.as_str().to_string())
        };
        assert_eq!(prop("VERSION").as_deref(), Some("2.0"));
        assert_eq!(prop("PRODID").as_deref(), Some(PRODID));
        assert_eq!(prop("CALSCALE").as_deref(), Some("GREGORIAN"));
        assert_eq!(prop("METHOD").as_deref(), Some("PUBLISH"));
        // X-WR-CALNAME has no value type for the parser: it comes back escaped.
        assert_eq!(
            prop("X-WR-CALNAME").map(|v| unescape_text(&v)).as_deref(),
            Some("东方社区 · 五步工作法, 会议")
        );
        let names: Vec<_> = cal.components.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, vec!["VTIMEZONE", "VEVENT", "VEVENT"]);
        let tz = &cal.components[0];
        assert_eq!(tz.find_prop("TZID").map(|p| p.val.as_str()), Some(TZID));
        let std = &tz.components[0];
        assert_eq!(std.name.as_str(), "STANDARD");
        for (k, v) in [
            ("TZOFFSETFROM", "+0800"),
            ("TZOFFSETTO", "+0800"),
            ("TZNAME", "CST"),
        ] {
            assert_eq!(std.find_prop(k).map(|p| p.val.as_str()), Some(v));
        }
        assert_eq!(tz.components.len(), 1, "no daylight saving");
        let ev = &cal.components[1];
        let start = ev.find_prop("DTSTART").expect("DTSTART");
        assert_eq!(start.val.as_str(), "20261203T140000");
        let tzid = start
            .params
            .iter()
            .find(|p| p.key.as_str() == "TZID")
            .and_then(|p| p.val.as_ref())
            .map(|v| v.as_str());
        assert_eq!(tzid, Some(TZID));
        assert_eq!(
            ev.find_prop("DTSTAMP").map(|p| p.val.as_str()),
            Some("20261201T030405Z")
        );
    }

    #[test]
    fn lines_end_in_crlf_and_fold_within_75_octets() {
        let text = write(&sample());
        assert!(text.ends_with("END:VCALENDAR\r\n"));
        assert!(!text.replace("\r\n", "").contains('\n'));
        assert!(!text.replace("\r\n", "").contains('\r'));
        let lines: Vec<_> = text.split("\r\n").collect();
        assert!(lines.iter().all(|l| l.len() <= MAX_LINE_OCTETS));
        // The long Chinese summary was folded.
        let summary_lines = lines
            .iter()
            .skip_while(|l| !l.starts_with("SUMMARY:"))
            .take_while(|l| l.starts_with("SUMMARY:") || l.starts_with(' '))
            .count();
        assert!(summary_lines >= 2, "{summary_lines}");
        assert!(escape_text(LONG_SUMMARY).len() + "SUMMARY:".len() > 75);
    }

    #[test]
    fn golden_small_calendar() {
        let cal = Calendar {
            name: "测试社区".into(),
            events: vec![Event {
                uid: "m-1@rb".into(),
                start_ms: shanghai_ms(datetime!(2026-03-10 14:00)),
                end_ms: shanghai_ms(datetime!(2026-03-10 15:30)),
                summary: "每月协商, 第一次; 议题\\待定".into(),
                description: "第一行\n第二行".into(),
                location: "议事厅".into(),
                status: Status::Confirmed,
                sequence: 1,
                last_modified_ms: utc_ms(datetime!(2026-03-01 00:00)),
                url: "https://rb.example.org/m/1".into(),
            }],
        };
        let want = concat!(
            "BEGIN:VCALENDAR\r\n",
            "VERSION:2.0\r\n",
            "PRODID:-//Red Butler//Red Butler 红管家//ZH\r\n",
            "CALSCALE:GREGORIAN\r\n",
            "METHOD:PUBLISH\r\n",
            "X-WR-CALNAME:测试社区\r\n",
            "X-WR-TIMEZONE:Asia/Shanghai\r\n",
            "BEGIN:VTIMEZONE\r\n",
            "TZID:Asia/Shanghai\r\n",
            "BEGIN:STANDARD\r\n",
            "DTSTART:19700101T000000\r\n",
            "TZOFFSETFROM:+0800\r\n",
            "TZOFFSETTO:+0800\r\n",
            "TZNAME:CST\r\n",
            "END:STANDARD\r\n",
            "END:VTIMEZONE\r\n",
            "BEGIN:VEVENT\r\n",
            "UID:m-1@rb\r\n",
            "DTSTAMP:20260301T000000Z\r\n",
            "LAST-MODIFIED:20260301T000000Z\r\n",
            "SEQUENCE:1\r\n",
            "DTSTART;TZID=Asia/Shanghai:20260310T140000\r\n",
            "DTEND;TZID=Asia/Shanghai:20260310T153000\r\n",
            "SUMMARY:每月协商\\, 第一次\\; 议题\\\\待定\r\n",
            "DESCRIPTION:第一行\\n第二行\r\n",
            "LOCATION:议事厅\r\n",
            "STATUS:CONFIRMED\r\n",
            "URL:https://rb.example.org/m/1\r\n",
            "END:VEVENT\r\n",
            "END:VCALENDAR\r\n",
        );
        assert_eq!(write(&cal), want);
    }

    #[test]
    fn folding_never_splits_a_character() {
        let line = format!("SUMMARY:{}", "议".repeat(60));
        let folded = fold_line(&line);
        let parts: Vec<_> = folded.split("\r\n").collect();
        // "SUMMARY:" is 8 octets; 22 characters fit beside it (74), 24 on each next line (73).
        assert_eq!(parts[0].len(), 8 + 22 * 3);
        assert_eq!(parts[1].len(), 1 + 24 * 3);
        assert!(parts.iter().all(|p| p.len() <= 75));
        assert_eq!(unfold(&folded), line);
        // An ASCII line of exactly 75 octets is not folded; 76 is.
        assert!(!fold_line(&"a".repeat(75)).contains("\r\n"));
        assert_eq!(
            fold_line(&"a".repeat(76)),
            format!("{}\r\n a", "a".repeat(75))
        );
    }

    #[test]
    fn escaping_round_trips_and_drops_control_characters() {
        let s = "a\\b;c,d\ne\r\nf\rg\tk\u{0}\u{7}";
        assert_eq!(escape_text(s), "a\\\\b\\;c\\,d\\ne\\nf\\ng\tk");
        assert_eq!(unescape_text(&escape_text(s)), "a\\b;c,d\ne\nf\ng\tk");
    }

    proptest! {
        #[test]
        fn fold_then_unfold_is_identity_and_lines_stay_short(s in any::<String>()) {
            let line: String = s.chars().filter(|c| *c != '\r' && *c != '\n').collect();
            let folded = fold_line(&line);
            for physical in folded.split("\r\n") {
                prop_assert!(physical.len() <= MAX_LINE_OCTETS);
            }
            prop_assert_eq!(unfold(&folded), line.clone());
            prop_assert_eq!(icalendar::parser::unfold(&folded), line);
        }

        #[test]
        fn escaped_values_survive_the_whole_trip(s in "(\\PC|\n|\t)*") {
            let folded = fold_line(&format!("SUMMARY:{}", escape_text(&s)));
            prop_assert!(folded.split("\r\n").all(|l| l.len() <= MAX_LINE_OCTETS));
            let back = unfold(&folded);
            prop_assert_eq!(unescape_text(&back["SUMMARY:".len()..]), s);
        }

        #[test]
        fn any_summary_reads_back_through_the_parser(s in "[^\\r\\p{Cc}]{0,120}") {
            let mut cal = sample();
            cal.events[0].summary = s.clone();
            let parsed: icalendar::Calendar = write(&cal).parse().expect("parses");
            let e = parsed.components.iter().find_map(|c| c.as_event()).expect("event");
            prop_assert_eq!(e.get_summary().unwrap_or(""), s.as_str());
        }
    }
}
