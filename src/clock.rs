//! Time: stored as Unix milliseconds (UTC), shown in Asia/Shanghai (UTC+8 all year, no DST).

use time::{macros::format_description, OffsetDateTime, UtcOffset};

/// Asia/Shanghai.
pub const SHANGHAI: UtcOffset = match UtcOffset::from_hms(8, 0, 0) {
    Ok(o) => o,
    Err(_) => panic!("offset"),
};

pub fn now_ms() -> i64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

pub fn to_local(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        .to_offset(SHANGHAI)
}

/// `2026-12-01 14:05:09`, Shanghai time.
pub fn format_local(ms: i64) -> String {
    let f = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    to_local(ms).format(&f).unwrap_or_default()
}

/// Parses a Shanghai-time date `YYYY-MM-DD` into the millisecond at its start.
pub fn parse_local_date(s: &str) -> Option<i64> {
    let f = format_description!("[year]-[month]-[day]");
    let d = time::Date::parse(s.trim(), &f).ok()?;
    let t = d.midnight().assume_offset(SHANGHAI);
    Some((t.unix_timestamp_nanos() / 1_000_000) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_shanghai_time() {
        // 2026-01-01T00:00:00Z is 08:00 in Shanghai.
        assert_eq!(format_local(1_767_225_600_000), "2026-01-01 08:00:00");
    }

    #[test]
    fn local_dates_start_at_shanghai_midnight() {
        assert_eq!(
            parse_local_date("2026-01-01"),
            Some(1_767_225_600_000 - 8 * 3_600_000)
        );
        assert_eq!(parse_local_date("2026-13-01"), None);
    }
}
