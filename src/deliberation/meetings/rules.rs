//! The five-step method's small pure rules: meeting and attendance statuses, text and tag
//! checks, the feed token's shape, how late an overdue case is, and which period a quarterly
//! review or an annual evaluation looks back on. No clock, no I/O.

use time::{Date, Month};

use crate::cases::measures::facts::Ratio;
use crate::cases::measures::period::day_int;
use crate::error::FieldError;
use crate::i18n::Text;

/// A meeting's status.
pub const MEETING_STATUSES: [&str; 3] = ["planned", "held", "cancelled"];

/// The label of a meeting status code.
pub fn meeting_status_label(code: &str) -> Text {
    match code {
        "planned" => Text::new("计划中", "planned"),
        "held" => Text::new("已召开", "held"),
        "cancelled" => Text::new("已取消", "cancelled"),
        _ => Text::owned(code.to_string(), code.to_string()),
    }
}

/// Attendance: present, absent, excused.
pub const ATTENDANCE: [&str; 3] = ["present", "absent", "excused"];

pub fn attendance_label(code: &str) -> Text {
    match code {
        "present" => Text::new("出席", "present"),
        "absent" => Text::new("缺席", "absent"),
        "excused" => Text::new("请假", "excused"),
        _ => Text::owned(code.to_string(), code.to_string()),
    }
}

/// A follow-up action's status: open, done, or turned into a case.
pub fn action_status_label(code: &str) -> Text {
    match code {
        "open" => Text::new("待办", "open"),
        "done" => Text::new("已完成", "done"),
        "case" => Text::new("已转为事项", "turned into a case"),
        _ => Text::owned(code.to_string(), code.to_string()),
    }
}

/// Checks a text field: trimmed length at most `max` characters, and not blank if required.
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

/// Most tags on one contact, and the longest tag.
pub const MAX_TAGS: usize = 10;
pub const MAX_TAG_CHARS: usize = 20;

/// Reads tags separated by commas (also full-width), semicolons, 、 or spaces; blanks and
/// repeats dropped, order kept. Too many or too long is an error on `tags`.
pub fn parse_tags(s: &str) -> Result<Vec<String>, FieldError> {
    let mut out: Vec<String> = Vec::new();
    for t in s.split([',', '，', ';', '；', '、', ' ', '\n', '\t']) {
        let t = t.trim();
        if t.is_empty() || out.iter().any(|x| x == t) {
            continue;
        }
        if t.chars().count() > MAX_TAG_CHARS {
            return Err(FieldError::new(
                "tags",
                Text::owned(
                    format!("每个标签最多 {MAX_TAG_CHARS} 个字"),
                    format!("a tag has at most {MAX_TAG_CHARS} characters"),
                ),
            ));
        }
        out.push(t.to_string());
    }
    if out.len() > MAX_TAGS {
        return Err(FieldError::new(
            "tags",
            Text::owned(
                format!("最多 {MAX_TAGS} 个标签"),
                format!("at most {MAX_TAGS} tags"),
            ),
        ));
    }
    Ok(out)
}

/// The feed token shown in a URL: `rbf_<subdistrict>_<secret>`.
pub fn feed_token(sid: i64, secret: &str) -> String {
    format!("rbf_{sid}_{secret}")
}

/// Splits a feed token into its subdistrict and secret.
pub fn parse_feed_token(token: &str) -> Option<(i64, &str)> {
    let rest = token.strip_prefix("rbf_")?;
    let (sid, secret) = rest.split_once('_')?;
    let sid = sid.parse::<i64>().ok()?;
    (secret.len() >= 16 && secret.bytes().all(|b| b.is_ascii_alphanumeric()))
        .then_some((sid, secret))
}

const DAY_MS: i64 = 86_400_000;

/// Whole days a case is late, counting a started day as one (0 when not late).
pub fn days_overdue(due_ms: i64, now_ms: i64) -> u32 {
    if now_ms <= due_ms {
        return 0;
    }
    let late = now_ms - due_ms;
    u32::try_from((late + DAY_MS - 1) / DAY_MS).unwrap_or(u32::MAX)
}

fn quarter_start(year: i32, q: u8) -> Option<Date> {
    Date::from_calendar_date(year, Month::try_from(q * 3 - 2).ok()?, 1).ok()
}

fn day_before(d: Date) -> Option<Date> {
    d.previous_day()
}

/// The period a meeting on `date` reviews, as inclusive `yyyymmdd` days and a label:
/// a quarterly review the quarter before the one it is held in; an annual evaluation its own
/// year, or the previous year when held in the first quarter (evaluations held in January
/// judge the year just ended).
pub fn review_period(annual: bool, date: Date) -> Option<(i64, i64, Text)> {
    let y = date.year();
    let q = (u8::from(date.month()) - 1) / 3 + 1;
    if annual {
        let year = if q == 1 { y - 1 } else { y };
        return Some(year_period(year));
    }
    let (py, pq) = if q == 1 { (y - 1, 4) } else { (y, q - 1) };
    let from = quarter_start(py, pq)?;
    let to = day_before(if pq == 4 {
        quarter_start(py + 1, 1)?
    } else {
        quarter_start(py, pq + 1)?
    })?;
    Some((
        day_int(from),
        day_int(to),
        Text::owned(format!("{py}年第{pq}季度"), format!("Q{pq} {py}")),
    ))
}

/// A calendar year as inclusive `yyyymmdd` days and a label.
pub fn year_period(year: i32) -> (i64, i64, Text) {
    let y = i64::from(year);
    (
        y * 10_000 + 101,
        y * 10_000 + 1231,
        Text::owned(format!("{year}年"), format!("{year}")),
    )
}

/// "87.5%" and its hover text "7/8" (or "—" and "0/0").
pub fn percent_with_fraction(r: Ratio) -> (String, String) {
    (
        r.percent_text(),
        format!("{}/{}", r.numerator, r.denominator),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    #[test]
    fn tags_split_on_any_separator_and_drop_repeats() {
        assert_eq!(
            parse_tags("加装电梯，停车 ; 停车、噪音").unwrap(),
            vec!["加装电梯", "停车", "噪音"]
        );
        assert!(parse_tags("").unwrap().is_empty());
        assert_eq!(parse_tags(&"长".repeat(21)).unwrap_err().field, "tags");
        let many: Vec<String> = (0..11).map(|i| format!("t{i}")).collect();
        assert!(parse_tags(&many.join(",")).is_err());
    }

    #[test]
    fn feed_tokens_round_trip_and_refuse_junk() {
        let t = feed_token(7, "abcdefghijklmnop1234");
        assert_eq!(parse_feed_token(&t), Some((7, "abcdefghijklmnop1234")));
        assert_eq!(parse_feed_token("rbf_7_short"), None);
        assert_eq!(parse_feed_token("rbt_7_abcdefghijklmnop1234"), None);
        assert_eq!(parse_feed_token("rbf_x_abcdefghijklmnop1234"), None);
        assert_eq!(parse_feed_token("rbf_7_abcdefghijklmnop12/4"), None);
    }

    #[test]
    fn a_started_day_of_lateness_counts() {
        assert_eq!(days_overdue(1000, 1000), 0);
        assert_eq!(days_overdue(1000, 999), 0);
        assert_eq!(days_overdue(0, 1), 1);
        assert_eq!(days_overdue(0, DAY_MS), 1);
        assert_eq!(days_overdue(0, DAY_MS + 1), 2);
    }

    #[test]
    fn reviews_look_back_on_the_quarter_or_year_before() {
        let (f, t, l) = review_period(false, date!(2026 - 04 - 10)).unwrap();
        assert_eq!((f, t), (20260101, 20260331));
        assert_eq!(l.en, "Q1 2026");
        let (f, t, _) = review_period(false, date!(2026 - 01 - 15)).unwrap();
        assert_eq!((f, t), (20251001, 20251231));
        let (f, t, _) = review_period(false, date!(2026 - 12 - 31)).unwrap();
        assert_eq!((f, t), (20260701, 20260930));
        let (f, t, _) = review_period(true, date!(2026 - 12 - 20)).unwrap();
        assert_eq!((f, t), (20260101, 20261231));
        let (f, t, _) = review_period(true, date!(2027 - 01 - 20)).unwrap();
        assert_eq!((f, t), (20260101, 20261231));
    }

    #[test]
    fn percentages_carry_their_fraction() {
        assert_eq!(
            percent_with_fraction(Ratio::new(7, 8)),
            ("87.5%".to_string(), "7/8".to_string())
        );
        assert_eq!(percent_with_fraction(Ratio::new(0, 0)).0, "—");
    }

    proptest! {
        #[test]
        fn parsed_tags_are_unique_short_and_trimmed(s in "[a-z，, 、]{0,60}") {
            if let Ok(tags) = parse_tags(&s) {
                prop_assert!(tags.len() <= MAX_TAGS);
                for (i, t) in tags.iter().enumerate() {
                    prop_assert!(!t.is_empty());
                    prop_assert_eq!(t.trim(), t.as_str());
                    prop_assert!(!tags[..i].contains(t));
                }
            }
        }

        #[test]
        fn review_periods_end_before_the_meeting(d in 0i64..3650) {
            let day = date!(2024 - 01 - 01) + time::Duration::days(d);
            for annual in [false, true] {
                let (f, t, _) = review_period(annual, day).unwrap();
                prop_assert!(f <= t);
                if !annual {
                    prop_assert!(t < day_int(day));
                }
            }
        }
    }
}
