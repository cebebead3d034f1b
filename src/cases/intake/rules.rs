//! The intake rules that need no I/O: the staff's contact types and their channel codes,
//! reading a `datetime-local` value as Shanghai time, decimal degrees into integer
//! microdegrees (no floats), the category's extra fields out of posted form pairs, and the
//! title of a one-line quick report. Time comes in as an argument.

use std::collections::BTreeMap;

use time::macros::format_description;

use crate::i18n::Text;

/// Most photos one report carries.
pub const MAX_PHOTOS: usize = 9;

/// How an offline contact reached the staff (接访 / 走访 / 窗口 / 电话).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactType {
    ReceptionVisit,
    HomeVisit,
    CounterVisit,
    PhoneCall,
}

pub const CONTACT_TYPES: [ContactType; 4] = [
    ContactType::ReceptionVisit,
    ContactType::HomeVisit,
    ContactType::CounterVisit,
    ContactType::PhoneCall,
];

impl ContactType {
    /// The case's channel code (`store::CHANNELS`).
    pub fn channel(self) -> &'static str {
        match self {
            ContactType::ReceptionVisit => "visit_reception",
            ContactType::HomeVisit => "visit_home",
            ContactType::CounterVisit => "visit_counter",
            ContactType::PhoneCall => "phone",
        }
    }

    pub fn from_channel(s: &str) -> Option<ContactType> {
        CONTACT_TYPES.into_iter().find(|c| c.channel() == s.trim())
    }

    pub fn label(self) -> Text {
        match self {
            ContactType::ReceptionVisit => Text::new("接访(来访接待)", "Reception visit"),
            ContactType::HomeVisit => Text::new("走访(上门)", "Home visit"),
            ContactType::CounterVisit => Text::new("窗口来访", "Counter visit"),
            ContactType::PhoneCall => Text::new("来电", "Phone call"),
        }
    }
}

/// The label of any intake channel code, for lists and case pages.
pub fn channel_label(code: &str) -> Text {
    if let Some(c) = ContactType::from_channel(code) {
        return c.label();
    }
    match code {
        "web" => Text::new("网页", "Web"),
        "mobile" => Text::new("居民手机上报", "Resident mobile form"),
        "grid_quick" => Text::new("网格员随手拍", "Grid member quick report"),
        "chat" => Text::new("群聊转报", "Group chat relay"),
        "api" => Text::new("接口", "API"),
        "open311" => Text::new("Open311", "Open311"),
        _ => Text::owned(code.to_string(), code.to_string()),
    }
}

/// Reads a `datetime-local` value (`2026-03-01T09:30`, seconds optional; a space instead of
/// the `T` is accepted) as Shanghai time, into Unix ms.
pub fn parse_local_datetime(s: &str) -> Option<i64> {
    let s = s.trim().replacen(' ', "T", 1);
    let long = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    let short = format_description!("[year]-[month]-[day]T[hour]:[minute]");
    let t = time::PrimitiveDateTime::parse(&s, &long)
        .or_else(|_| time::PrimitiveDateTime::parse(&s, &short))
        .ok()?;
    let at = t.assume_offset(crate::clock::SHANGHAI);
    Some((at.unix_timestamp_nanos() / 1_000_000) as i64)
}

/// The `datetime-local` value (minutes) of an instant, in Shanghai time.
pub fn local_datetime_value(ms: i64) -> String {
    let f = format_description!("[year]-[month]-[day]T[hour]:[minute]");
    crate::clock::to_local(ms).format(&f).unwrap_or_default()
}

/// Decimal degrees (`31.1234567`, `-121.5`) into integer microdegrees, rounded half away
/// from zero at the seventh decimal, without floats. Blank is `None`; anything else that is
/// not a plain decimal number within `±max_degrees` is an error.
pub fn parse_degrees(s: &str, max_degrees: i64) -> Result<Option<i64>, Text> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let bad = || {
        Text::new(
            "请填写十进制度数,例如 31.1234",
            "enter decimal degrees, e.g. 31.1234",
        )
    };
    let (negative, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (whole, frac) = match digits.split_once('.') {
        Some((w, f)) => (w, f),
        None => (digits, ""),
    };
    if (whole.is_empty() && frac.is_empty())
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || whole.len() > 3
    {
        return Err(bad());
    }
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| bad())?
    };
    let mut micro: i64 = 0;
    for (i, b) in frac.bytes().take(6).enumerate() {
        micro += i64::from(b - b'0') * 10_i64.pow(5 - i as u32);
    }
    if frac.len() > 6 && frac.as_bytes()[6] >= b'5' {
        micro += 1;
    }
    let value = whole * 1_000_000 + micro;
    if value > max_degrees * 1_000_000 {
        return Err(Text::owned(
            format!("须在 ±{max_degrees} 度以内"),
            format!("must be within ±{max_degrees} degrees"),
        ));
    }
    Ok(Some(if negative { -value } else { value }))
}

/// Microdegrees shown as decimal degrees with six places.
pub fn format_degrees(e6: i64) -> String {
    let sign = if e6 < 0 { "-" } else { "" };
    let a = e6.unsigned_abs();
    format!("{sign}{}.{:06}", a / 1_000_000, a % 1_000_000)
}

/// The category's extra fields out of posted pairs: `{prefix}[code]` (one value) and
/// `{prefix}[code][]` (several, joined by `,` as `NewCase::attributes` wants). Blank values
/// are left out; other names are ignored.
pub fn attributes_from_pairs(pairs: &[(String, String)], prefix: &str) -> BTreeMap<String, String> {
    let mut lists: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, v) in pairs {
        let Some(rest) = k.strip_prefix(prefix).and_then(|r| r.strip_prefix('[')) else {
            continue;
        };
        let code = rest.strip_suffix("][]").or_else(|| rest.strip_suffix(']'));
        let Some(code) = code.filter(|c| !c.is_empty() && !c.contains(['[', ']'])) else {
            continue;
        };
        let v = v.trim();
        if v.is_empty() {
            continue;
        }
        lists
            .entry(code.to_string())
            .or_default()
            .push(v.to_string());
    }
    lists.into_iter().map(|(k, v)| (k, v.join(","))).collect()
}

/// The form name of a category field under a prefix.
pub fn attribute_name(prefix: &str, code: &str, list: bool) -> String {
    if list {
        format!("{prefix}[{code}][]")
    } else {
        format!("{prefix}[{code}]")
    }
}

/// A quick report's title: its first non-blank line, at most `max` characters.
pub fn quick_title(text: &str, max: usize) -> String {
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    line.chars().take(max).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn every_contact_type_has_its_channel_and_back() {
        let codes: Vec<&str> = CONTACT_TYPES.iter().map(|c| c.channel()).collect();
        assert_eq!(
            codes,
            ["visit_reception", "visit_home", "visit_counter", "phone"]
        );
        for c in CONTACT_TYPES {
            assert_eq!(ContactType::from_channel(c.channel()), Some(c));
            assert!(crate::cases::store::CHANNELS.contains(&c.channel()));
            assert!(!c.label().zh.is_empty() && !c.label().en.is_empty());
        }
        assert_eq!(ContactType::from_channel("web"), None);
        assert_eq!(ContactType::from_channel(""), None);
    }

    #[test]
    fn every_channel_has_a_label() {
        for code in crate::cases::store::CHANNELS {
            let l = channel_label(code);
            assert!(!l.zh.is_empty() && !l.en.is_empty(), "{code}");
        }
        assert_eq!(channel_label("grid_quick").en, "Grid member quick report");
    }

    #[test]
    fn datetime_local_is_read_as_shanghai_time() {
        // 2026-01-01T08:00 Shanghai is midnight UTC.
        assert_eq!(
            parse_local_datetime("2026-01-01T08:00"),
            Some(1_767_225_600_000)
        );
        assert_eq!(
            parse_local_datetime("2026-01-01T08:00:30"),
            Some(1_767_225_630_000)
        );
        assert_eq!(
            parse_local_datetime(" 2026-01-01 08:00 "),
            Some(1_767_225_600_000)
        );
        for bad in [
            "",
            "2026-01-01",
            "2026-13-01T08:00",
            "08:00",
            "2026-01-01T25:00",
            "yesterday",
        ] {
            assert_eq!(parse_local_datetime(bad), None, "{bad}");
        }
    }

    #[test]
    fn datetime_local_value_round_trips_to_the_minute() {
        let ms = 1_767_225_600_000 + 5 * 60_000 + 17_000;
        assert_eq!(local_datetime_value(ms), "2026-01-01T08:05");
        assert_eq!(
            parse_local_datetime(&local_datetime_value(ms)),
            Some(ms - 17_000)
        );
    }

    #[test]
    fn degrees_become_microdegrees_without_floats() {
        let ok = |s: &str| parse_degrees(s, 90).unwrap();
        assert_eq!(ok(""), None);
        assert_eq!(ok("  "), None);
        assert_eq!(ok("31"), Some(31_000_000));
        assert_eq!(ok("31.1"), Some(31_100_000));
        assert_eq!(ok("31.123456"), Some(31_123_456));
        assert_eq!(ok("31.1234564"), Some(31_123_456));
        assert_eq!(ok("31.1234565"), Some(31_123_457));
        assert_eq!(ok("31.9999995"), Some(32_000_000));
        assert_eq!(ok("-31.5"), Some(-31_500_000));
        assert_eq!(ok("+0.000001"), Some(1));
        assert_eq!(ok(".5"), Some(500_000));
        assert_eq!(ok("90"), Some(90_000_000));
        assert_eq!(ok("-90.0"), Some(-90_000_000));
        assert_eq!(parse_degrees("121.473701", 180).unwrap(), Some(121_473_701));
        for bad in [
            "90.000001",
            "-91",
            "1e5",
            "31,5",
            "abc",
            "-",
            ".",
            "1.2.3",
            "1234",
            "NaN",
            "∞",
        ] {
            assert!(parse_degrees(bad, 90).is_err(), "{bad}");
        }
    }

    #[test]
    fn microdegrees_show_as_six_places() {
        assert_eq!(format_degrees(31_123_456), "31.123456");
        assert_eq!(format_degrees(-500_000), "-0.500000");
        assert_eq!(format_degrees(0), "0.000000");
        for v in [1, -1, 121_473_701, -90_000_000, 180_000_000] {
            assert_eq!(parse_degrees(&format_degrees(v), 180).unwrap(), Some(v));
        }
    }

    #[test]
    fn attributes_are_read_by_prefix_and_lists_joined() {
        let got = attributes_from_pairs(
            &pairs(&[
                ("attribute[garbage_kind]", " bulky "),
                ("attribute[noise_time][]", "night"),
                ("attribute[noise_time][]", "weekend"),
                ("attribute[blank]", "  "),
                ("attribute[]", "x"),
                ("attribute[a][b]", "x"),
                ("title", "not an attribute"),
                ("q.env[x]", "other prefix"),
            ]),
            "attribute",
        );
        let want: BTreeMap<String, String> = [
            ("garbage_kind".to_string(), "bulky".to_string()),
            ("noise_time".to_string(), "night,weekend".to_string()),
        ]
        .into_iter()
        .collect();
        assert_eq!(got, want);
        let other = attributes_from_pairs(&pairs(&[("q.env[x]", "1")]), "q.env");
        assert_eq!(other.get("x").map(String::as_str), Some("1"));
        assert_eq!(attribute_name("attribute", "a", false), "attribute[a]");
        assert_eq!(attribute_name("attribute", "a", true), "attribute[a][]");
    }

    #[test]
    fn a_quick_title_is_the_first_line_cut_to_length() {
        assert_eq!(quick_title("  \n 垃圾桶满了 \n第二行", 100), "垃圾桶满了");
        assert_eq!(quick_title("", 100), "");
        assert_eq!(quick_title("一二三四五", 3), "一二三");
    }
}
