//! Areas in integer hundredths of a square metre, parsed and shown exactly.

use crate::i18n::Text;

/// The largest area accepted for one room: 100,000 m².
pub const MAX: i64 = 10_000_000;

/// Parses `85`, `85.5` or `85.55` (m²) into hundredths; refuses more decimals, signs and junk.
pub fn parse(s: &str) -> Result<i64, Text> {
    let s = s
        .trim()
        .trim_end_matches("m²")
        .trim_end_matches("㎡")
        .trim();
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, f),
        None => (s, ""),
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || (!frac.is_empty() && !digits(frac)) || (s.contains('.') && frac.is_empty()) {
        return Err(Text::new(
            "面积应为数字,如 85.50",
            "an area is a number such as 85.50",
        ));
    }
    if frac.len() > 2 {
        return Err(Text::new(
            "面积最多两位小数",
            "an area has at most two decimals",
        ));
    }
    if int.len() > 7 {
        return Err(Text::new("面积过大", "the area is too large"));
    }
    let whole: i64 = int
        .parse()
        .map_err(|_| Text::new("面积过大", "the area is too large"))?;
    let mut hundredths: i64 = if frac.is_empty() {
        0
    } else {
        frac.parse().unwrap_or(0)
    };
    if frac.len() == 1 {
        hundredths *= 10;
    }
    let v = whole * 100 + hundredths;
    if v > MAX {
        return Err(Text::new("面积过大", "the area is too large"));
    }
    Ok(v)
}

/// `8550` → `85.50`.
pub fn format(v: i64) -> String {
    let sign = if v < 0 { "-" } else { "" };
    let a = v.unsigned_abs();
    format!("{sign}{}.{:02}", a / 100, a % 100)
}

/// The area that counts (DOMAIN.md): registered, else surveyed, else contract.
pub fn effective(
    registered: Option<i64>,
    surveyed: Option<i64>,
    contract: Option<i64>,
) -> Option<i64> {
    registered.or(surveyed).or(contract)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_exactly() {
        assert_eq!(parse("85"), Ok(8500));
        assert_eq!(parse("85.5"), Ok(8550));
        assert_eq!(parse(" 85.55 "), Ok(8555));
        assert_eq!(parse("0.01"), Ok(1));
        assert_eq!(parse("85.50㎡"), Ok(8550));
        for bad in [
            "",
            "-1",
            "85.555",
            "8,5",
            "1e3",
            "85.",
            ".5",
            "abc",
            "100000.01",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn effective_area_prefers_registered_then_surveyed() {
        assert_eq!(effective(Some(1), Some(2), Some(3)), Some(1));
        assert_eq!(effective(None, Some(2), Some(3)), Some(2));
        assert_eq!(effective(None, None, Some(3)), Some(3));
        assert_eq!(effective(None, None, None), None);
    }

    proptest! {
        #[test]
        fn format_then_parse_round_trips(v in 0i64..=MAX) {
            prop_assert_eq!(parse(&format(v)), Ok(v));
        }
    }
}
