//! Validation of resident ID numbers (GB 11643: 18 characters, birth date, check digit)
//! and mainland mobile numbers.

use crate::i18n::Text;

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];
const PROVINCES: [u32; 34] = [
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52,
    53, 54, 61, 62, 63, 64, 65, 71, 81, 82,
];

/// The check character for the first 17 digits.
pub fn id_check_char(first17: &[u32; 17]) -> char {
    let sum: u32 = first17.iter().zip(WEIGHTS).map(|(d, w)| d * w).sum();
    CHECK[(sum % 11) as usize]
}

/// Normalises (trim, upper-case x) and validates an 18-character ID number.
pub fn id_number(raw: &str) -> Result<String, Text> {
    let s: String = raw.trim().to_uppercase();
    let chars: Vec<char> = s.chars().collect();
    if chars.len() != 18 {
        return Err(Text::new(
            "身份证号应为18位",
            "an ID number has 18 characters",
        ));
    }
    let mut digits = [0u32; 17];
    for (i, c) in chars[..17].iter().enumerate() {
        digits[i] = c.to_digit(10).ok_or(Text::new(
            "身份证号前17位应为数字",
            "the first 17 characters must be digits",
        ))?;
    }
    let last = chars[17];
    if !(last.is_ascii_digit() || last == 'X') {
        return Err(Text::new(
            "身份证号末位应为数字或X",
            "the last character must be a digit or X",
        ));
    }
    if !PROVINCES.contains(&(digits[0] * 10 + digits[1])) {
        return Err(Text::new(
            "身份证号的地区码无效",
            "the region code is not valid",
        ));
    }
    let year = digits[6..10].iter().fold(0, |a, d| a * 10 + d) as i32;
    let month = (digits[10] * 10 + digits[11]) as u8;
    let day = (digits[12] * 10 + digits[13]) as u8;
    let birth = time::Month::try_from(month)
        .ok()
        .and_then(|m| time::Date::from_calendar_date(year, m, day).ok())
        .filter(|_| (1900..=2100).contains(&year));
    if birth.is_none() {
        return Err(Text::new(
            "身份证号中的出生日期无效",
            "the birth date in the ID number is not valid",
        ));
    }
    if id_check_char(&digits) != last {
        return Err(Text::new(
            "身份证号校验位不正确",
            "the check digit of the ID number is wrong",
        ));
    }
    Ok(s)
}

/// Birth year from a valid ID number.
pub fn birth_year(id: &str) -> Option<i64> {
    id.get(6..10)?.parse().ok()
}

/// Gender from a valid ID number: the 17th digit, odd for men.
pub fn gender(id: &str) -> Option<&'static str> {
    let d = id.chars().nth(16)?.to_digit(10)?;
    Some(if d % 2 == 1 { "M" } else { "F" })
}

/// Normalises (drops spaces, dashes and a +86 prefix) and validates a mobile number.
pub fn mobile(raw: &str) -> Result<String, Text> {
    let mut s: String = raw
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '(' | ')'))
        .collect();
    if let Some(rest) = s.strip_prefix("+86").or_else(|| s.strip_prefix("0086")) {
        s = rest.to_string();
    }
    let b = s.as_bytes();
    let ok = b.len() == 11
        && b[0] == b'1'
        && (b'3'..=b'9').contains(&b[1])
        && b.iter().all(u8::is_ascii_digit);
    if ok {
        Ok(s)
    } else {
        Err(Text::new(
            "手机号应为以1开头的11位数字",
            "a mobile number has 11 digits starting with 1",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Builds a valid ID number from its first 17 digits.
    fn with_check(first17: &str) -> String {
        let mut d = [0u32; 17];
        for (i, c) in first17.chars().enumerate() {
            d[i] = c.to_digit(10).unwrap();
        }
        format!("{first17}{}", id_check_char(&d))
    }

    #[test]
    fn accepts_the_standard_example() {
        // The example number from GB 11643.
        assert_eq!(
            id_number("11010519491231002x").unwrap(),
            "11010519491231002X"
        );
        assert_eq!(birth_year("11010519491231002X"), Some(1949));
        assert_eq!(gender("11010519491231002X"), Some("F"));
    }

    #[test]
    fn refuses_bad_id_numbers_with_a_reason() {
        assert!(id_number("1101051949123100").unwrap_err().en.contains("18"));
        assert!(id_number("110105194912310021")
            .unwrap_err()
            .en
            .contains("check digit"));
        assert!(id_number(&with_check("11010519491331002"))
            .unwrap_err()
            .en
            .contains("birth date"));
        assert!(id_number(&with_check("99010519491231002"))
            .unwrap_err()
            .en
            .contains("region"));
        assert!(id_number("11010519491231002Y").is_err());
        assert!(id_number("1101051949123100a1").is_err());
    }

    #[test]
    fn mobile_numbers() {
        assert_eq!(mobile("138 1234 1234").unwrap(), "13812341234");
        assert_eq!(mobile("+86 13812341234").unwrap(), "13812341234");
        assert!(mobile("12812341234").is_err());
        assert!(mobile("1381234123").is_err());
        assert!(mobile("1381234123a").is_err());
    }

    proptest! {
        #[test]
        fn every_single_digit_change_breaks_the_check(body in "[1-6][1-5][0-9]{4}(19[5-9][0-9]|200[0-9])(0[1-9]|1[0-2])(0[1-9]|1[0-9]|2[0-8])[0-9]{3}", pos in 0usize..17, delta in 1u32..10) {
            let id = with_check(&body);
            prop_assume!(id_number(&id).is_ok());
            let mut chars: Vec<char> = id.chars().collect();
            let d = chars[pos].to_digit(10).unwrap();
            chars[pos] = char::from_digit((d + delta) % 10, 10).unwrap();
            let changed: String = chars.into_iter().collect();
            // Weights are all non-zero mod 11, so any single substitution changes the sum.
            let r = id_number(&changed);
            prop_assert!(r.is_err());
        }
    }
}
