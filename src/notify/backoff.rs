//! When a failed delivery is tried again, pure: capped exponential backoff with jitter.
//! The first retry comes after about 30 s, each next one after twice as long, never more
//! than 6 h; after [`MAX_ATTEMPTS`] attempts the delivery is marked failed (kept, shown to
//! admins, and retried only when one asks).

/// Attempts before a delivery is marked failed.
pub const MAX_ATTEMPTS: i64 = 12;
/// The delay after the first failure.
pub const BASE_MS: i64 = 30_000;
/// The longest delay.
pub const CAP_MS: i64 = 6 * 3_600_000;
/// Jitter takes up to this share (per mille) off a delay, so robots that failed together
/// are not all retried in the same second.
pub const JITTER_PERMILLE: i64 = 200;

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Try again this many milliseconds from now.
    RetryIn(i64),
    /// Give up until an admin retries it.
    Fail,
}

/// The delay before the next attempt after `attempts` failed attempts (1 after the first),
/// without jitter.
pub fn delay_ms(attempts: i64) -> i64 {
    let exp = attempts.saturating_sub(1).clamp(0, 30) as u32;
    BASE_MS.saturating_mul(1_i64 << exp).min(CAP_MS)
}

/// What follows `attempts` failed attempts; `jitter` is a number in `0..=1000` (per mille of
/// [`JITTER_PERMILLE`] taken off), chosen at random by the caller.
pub fn after_failure(attempts: i64, jitter: i64) -> Next {
    if attempts >= MAX_ATTEMPTS {
        return Next::Fail;
    }
    let d = delay_ms(attempts);
    let j = jitter.clamp(0, 1000);
    Next::RetryIn(d - d * JITTER_PERMILLE * j / 1_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_from_30_seconds_to_6_hours() {
        assert_eq!(delay_ms(1), 30_000);
        assert_eq!(delay_ms(2), 60_000);
        assert_eq!(delay_ms(3), 120_000);
        assert_eq!(delay_ms(10), 30_000 * 512);
        assert_eq!(delay_ms(11), CAP_MS);
        assert_eq!(delay_ms(1000), CAP_MS);
        assert_eq!(delay_ms(0), 30_000);
        assert_eq!(delay_ms(-5), 30_000);
        for a in 1..200 {
            assert!(delay_ms(a + 1) >= delay_ms(a));
        }
    }

    #[test]
    fn jitter_takes_at_most_a_fifth_off() {
        for a in 1..MAX_ATTEMPTS {
            let d = delay_ms(a);
            assert_eq!(after_failure(a, 0), Next::RetryIn(d));
            assert_eq!(after_failure(a, 1000), Next::RetryIn(d - d / 5));
            for j in [-10, 1, 500, 999, 5000] {
                let Next::RetryIn(x) = after_failure(a, j) else {
                    panic!("retry expected")
                };
                assert!(x <= d && x >= d - d / 5, "{a} {j} {x}");
            }
        }
    }

    #[test]
    fn the_twelfth_failure_marks_it_failed() {
        assert!(matches!(
            after_failure(MAX_ATTEMPTS - 1, 0),
            Next::RetryIn(_)
        ));
        assert_eq!(after_failure(MAX_ATTEMPTS, 0), Next::Fail);
        assert_eq!(after_failure(MAX_ATTEMPTS + 7, 0), Next::Fail);
    }

    #[test]
    fn all_retries_fit_in_a_day() {
        let total: i64 = (1..MAX_ATTEMPTS).map(delay_ms).sum();
        assert!(total > 12 * 3_600_000 && total < 24 * 3_600_000, "{total}");
    }
}
