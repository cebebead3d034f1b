//! Masks for lists (DOMAIN.md): phone `138****1234`, ID number first 6 and last 4,
//! name `张**`, address up to the first house number.

/// `13812341234` → `138****1234`.
pub fn phone(p: &str) -> String {
    let chars: Vec<char> = p.chars().collect();
    if chars.len() < 7 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}****{tail}")
}

/// First 6 and last 4 characters shown, the rest starred.
pub fn id_number(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    if chars.len() < 10 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..6].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 10))
}

/// `张三丰` → `张**`; one star at least.
pub fn name(n: &str) -> String {
    let mut chars = n.trim().chars();
    match chars.next() {
        None => String::new(),
        Some(first) => {
            let rest = chars.count().max(1);
            format!("{first}{}", "*".repeat(rest))
        }
    }
}

/// Keeps the address up to its first digit (road, estate), hides the rest.
pub fn address(a: &str) -> String {
    let a = a.trim();
    if a.is_empty() {
        return String::new();
    }
    let keep: String = a.chars().take_while(|c| !c.is_ascii_digit()).collect();
    let keep: String = if keep.chars().count() == a.chars().count() {
        a.chars().take(a.chars().count() / 2).collect()
    } else {
        keep
    };
    format!("{keep}****")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_follow_the_brief() {
        assert_eq!(phone("13812341234"), "138****1234");
        assert_eq!(id_number("31011819900307123X"), "310118********123X");
        assert_eq!(name("张三丰"), "张**");
        assert_eq!(name("张三"), "张*");
        assert_eq!(name("张"), "张*");
        assert_eq!(address("城中东路311号3单元502室"), "城中东路****");
        assert_eq!(address("夏阳村"), "夏****");
    }

    #[test]
    fn short_values_are_fully_starred() {
        assert_eq!(phone("123"), "***");
        assert_eq!(id_number("12345"), "*****");
        assert_eq!(name(""), "");
    }
}
