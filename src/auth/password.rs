//! Password hashing with argon2id (the crate's default parameters: 19 MiB, 2 passes).

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;

use crate::error::FieldError;
use crate::i18n::Text;

pub fn hash(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 hash")
        .to_string()
}

pub fn verify(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// A hash that no password matches, verified against for unknown users so that both
/// answers take as long.
pub fn dummy_hash() -> &'static str {
    static H: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    H.get_or_init(|| hash("redbutler-no-such-user"))
}

/// The password policy: 8 to 128 characters, letters and digits.
pub fn check_policy(field: &str, p: &str) -> Result<(), FieldError> {
    let n = p.chars().count();
    let letters = p.chars().any(char::is_alphabetic);
    let digits = p.chars().any(|c| c.is_ascii_digit());
    if !(8..=128).contains(&n) || !letters || !digits {
        return Err(FieldError::new(
            field,
            Text::new(
                "密码需8到128位,并同时包含字母和数字",
                "a password has 8 to 128 characters with letters and digits",
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_are_argon2id() {
        let h = hash("Demo-2024");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("Demo-2024", &h));
        assert!(!verify("demo-2024", &h));
        assert!(!verify("x", "not a hash"));
    }

    #[test]
    fn policy() {
        assert!(check_policy("p", "Demo-2024").is_ok());
        assert!(check_policy("p", "short1").is_err());
        assert!(check_policy("p", "onlyletters").is_err());
        assert!(check_policy("p", "1234567890").is_err());
    }
}
