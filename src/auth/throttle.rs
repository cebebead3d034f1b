//! The growing delay and lock after failed logins. Pure: counts and times in, a wait out.
//! Three attempts are free; then each failure doubles the wait from 1 s up to 64 s; at
//! ten failures the name is locked for 15 minutes. A quiet 15 minutes forgets the count.

pub const FREE_ATTEMPTS: i64 = 3;
pub const LOCK_AT: i64 = 10;
pub const LOCK_MS: i64 = 15 * 60 * 1000;
pub const MAX_DELAY_MS: i64 = 64 * 1000;

/// The failures that still count at `now`.
pub fn effective_failures(failures: i64, last_failure_at: i64, now: i64) -> i64 {
    if now - last_failure_at >= LOCK_MS {
        0
    } else {
        failures
    }
}

/// How long after the last failure the next attempt must wait.
pub fn delay_ms(failures: i64) -> i64 {
    if failures < FREE_ATTEMPTS {
        0
    } else if failures >= LOCK_AT {
        LOCK_MS
    } else {
        (1000_i64 << (failures - FREE_ATTEMPTS)).min(MAX_DELAY_MS)
    }
}

/// Milliseconds still to wait before an attempt is heard, or `None` to go ahead.
pub fn wait(failures: i64, last_failure_at: i64, now: i64) -> Option<i64> {
    let f = effective_failures(failures, last_failure_at, now);
    let until = last_failure_at + delay_ms(f);
    (f >= FREE_ATTEMPTS && now < until).then(|| until - now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_free_then_doubling_then_lock() {
        assert_eq!(delay_ms(0), 0);
        assert_eq!(delay_ms(2), 0);
        assert_eq!(delay_ms(3), 1_000);
        assert_eq!(delay_ms(4), 2_000);
        assert_eq!(delay_ms(9), 64_000);
        assert_eq!(delay_ms(10), LOCK_MS);
        assert_eq!(delay_ms(50), LOCK_MS);
    }

    #[test]
    fn waits_are_measured_from_the_last_failure() {
        let t = 1_000_000;
        assert_eq!(wait(2, t, t), None);
        assert_eq!(wait(3, t, t + 400), Some(600));
        assert_eq!(wait(3, t, t + 1_000), None);
        assert_eq!(wait(10, t, t + 60_000), Some(LOCK_MS - 60_000));
        assert_eq!(
            wait(10, t, t + LOCK_MS),
            None,
            "the lock ends and the count is forgotten"
        );
        assert_eq!(effective_failures(10, t, t + LOCK_MS), 0);
    }

    #[test]
    fn delay_never_shrinks_as_failures_grow() {
        for f in 0..40 {
            assert!(delay_ms(f + 1) >= delay_ms(f));
        }
    }
}
