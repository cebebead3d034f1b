//! Apportioning an amount in fen over rooms by weight (the area that counts, in hundredths of
//! m², or a balance), exactly. Pure: no I/O.
//!
//! # The rounding rule (largest remainder, ties by room id)
//!
//! For an amount `C` fen over rooms with weights `w_i` (total `W > 0`):
//! 1. each room first gets `floor(C × w_i / W)` fen (computed in 128-bit integers);
//! 2. the fen left over, `L = C − Σ floor(…)`, is always fewer than the number of rooms with a
//!    non-zero remainder `C × w_i mod W`; one more fen goes to each of the `L` rooms with the
//!    largest remainders, and among equal remainders to the lower room id first.
//!
//! So the parts add up to `C` exactly, no part differs from its exact share by a fen or more,
//! a room of zero weight gets zero, and the result does not depend on the order rooms are
//! given in. A positive amount over a total weight of zero is refused.

use crate::i18n::Text;

/// One room's weight: its id and its area (hundredths of m²) or balance (fen); never negative.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Weight {
    pub room_id: i64,
    pub weight: i64,
}

/// Splits `amount` fen (≥ 0) over `rooms` by weight; the parts come back in the rooms' order.
pub fn apportion(amount: i64, rooms: &[Weight]) -> Result<Vec<i64>, Text> {
    if amount < 0 {
        return Err(Text::new(
            "分摊金额不能为负",
            "the amount to apportion cannot be negative",
        ));
    }
    if rooms.iter().any(|r| r.weight < 0) {
        return Err(Text::new("分摊权重不能为负", "a weight cannot be negative"));
    }
    let total: i128 = rooms.iter().map(|r| i128::from(r.weight)).sum();
    if total == 0 {
        if amount == 0 {
            return Ok(vec![0; rooms.len()]);
        }
        return Err(Text::new(
            "分摊范围内的房屋面积合计为零,无法分摊",
            "the rooms to share the cost have no area in total",
        ));
    }
    let c = i128::from(amount);
    let mut parts = Vec::with_capacity(rooms.len());
    // (remainder, room id, index) of the rooms with a non-zero remainder.
    let mut rest: Vec<(i128, i64, usize)> = Vec::new();
    let mut given: i128 = 0;
    for (i, r) in rooms.iter().enumerate() {
        let p = c * i128::from(r.weight);
        let base = p / total;
        let rem = p % total;
        given += base;
        // `base ≤ amount`, so it fits.
        parts.push(i64::try_from(base).unwrap_or(i64::MAX));
        if rem != 0 {
            rest.push((rem, r.room_id, i));
        }
    }
    let left = usize::try_from(c - given).unwrap_or(0);
    if left > 0 {
        let order = |a: &(i128, i64, usize), b: &(i128, i64, usize)| {
            b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2))
        };
        if left < rest.len() {
            rest.select_nth_unstable_by(left - 1, order);
        }
        for &(_, _, i) in rest.iter().take(left) {
            parts[i] += 1;
        }
    }
    Ok(parts)
}

/// A first deposit: `area` (hundredths of m²) × `rate` (fen per m²) ÷ 100, rounded half up to
/// the fen. Both must be non-negative; `None` if the product overflows.
pub fn first_deposit(area: i64, rate_fen_per_m2: i64) -> Option<i64> {
    if area < 0 || rate_fen_per_m2 < 0 {
        return None;
    }
    let p = i128::from(area) * i128::from(rate_fen_per_m2);
    i64::try_from((p + 50) / 100).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn w(pairs: &[(i64, i64)]) -> Vec<Weight> {
        pairs
            .iter()
            .map(|&(room_id, weight)| Weight { room_id, weight })
            .collect()
    }

    #[test]
    fn three_equal_rooms_share_a_fen_by_room_id() {
        let rooms = w(&[(30, 100), (10, 100), (20, 100)]);
        assert_eq!(apportion(100, &rooms), Ok(vec![33, 34, 33]));
        assert_eq!(apportion(101, &rooms), Ok(vec![33, 34, 34]));
        assert_eq!(apportion(2, &rooms), Ok(vec![0, 1, 1]));
    }

    #[test]
    fn largest_remainder_wins_before_room_id() {
        // Exact shares 1000 × (1/6, 2/6, 3/6) = 166.67, 333.33, 500.
        let rooms = w(&[(1, 1), (2, 2), (3, 3)]);
        assert_eq!(apportion(1000, &rooms), Ok(vec![167, 333, 500]));
    }

    #[test]
    fn zero_area_rooms_get_nothing() {
        let rooms = w(&[(1, 0), (2, 8555), (3, 0), (4, 7001)]);
        let parts = apportion(999_999, &rooms).unwrap_or_default();
        assert_eq!(parts[0], 0);
        assert_eq!(parts[2], 0);
        assert_eq!(parts.iter().sum::<i64>(), 999_999);
    }

    #[test]
    fn no_area_at_all_is_refused_unless_nothing_is_shared() {
        assert!(apportion(1, &w(&[(1, 0), (2, 0)])).is_err());
        assert_eq!(apportion(0, &w(&[(1, 0)])), Ok(vec![0]));
        assert_eq!(apportion(0, &[]), Ok(vec![]));
        assert!(apportion(5, &[]).is_err());
        assert!(apportion(-1, &w(&[(1, 1)])).is_err());
        assert!(apportion(1, &w(&[(1, -1), (2, 5)])).is_err());
    }

    #[test]
    fn huge_amounts_do_not_overflow() {
        let rooms = w(&[(1, 10_000_000), (2, 3), (3, 9_999_999)]);
        let parts = apportion(i64::MAX / 2, &rooms).unwrap_or_default();
        assert_eq!(parts.iter().sum::<i64>(), i64::MAX / 2);
    }

    #[test]
    fn first_deposit_rounds_half_up() {
        // 85.55 m² × 123 fen/m² = 10,522.65 fen → 10,523.
        assert_eq!(first_deposit(8555, 123), Some(10_523));
        // 0.50 m² × 1 fen = 0.5 fen → 1; 0.49 → 0.
        assert_eq!(first_deposit(50, 1), Some(1));
        assert_eq!(first_deposit(49, 1), Some(0));
        assert_eq!(first_deposit(-1, 1), None);
    }

    proptest! {
        #[test]
        fn parts_sum_exactly_and_stay_within_a_fen(
            amount in 0i64..10_000_000_000,
            areas in proptest::collection::vec(0i64..10_000_000, 1..60),
        ) {
            let rooms: Vec<Weight> = areas.iter().enumerate()
                .map(|(i, &a)| Weight { room_id: 1_000 + i as i64 * 7 % 61, weight: a })
                .collect();
            let total: i128 = areas.iter().map(|&a| i128::from(a)).sum();
            match apportion(amount, &rooms) {
                Ok(parts) => {
                    prop_assert_eq!(parts.iter().sum::<i64>(), amount);
                    for (p, r) in parts.iter().zip(&rooms) {
                        let exact_num = i128::from(amount) * i128::from(r.weight);
                        let lo = exact_num / total;
                        prop_assert!(i128::from(*p) == lo || i128::from(*p) == lo + 1);
                        if r.weight == 0 { prop_assert_eq!(*p, 0); }
                    }
                }
                Err(_) => prop_assert!(total == 0 && amount > 0),
            }
        }

        #[test]
        fn the_result_does_not_depend_on_room_order(
            amount in 0i64..1_000_000,
            areas in proptest::collection::vec(0i64..20_000, 1..40),
            seed in 0usize..1000,
        ) {
            let rooms: Vec<Weight> = areas.iter().enumerate()
                .map(|(i, &a)| Weight { room_id: i as i64, weight: a })
                .collect();
            let mut shuffled = rooms.clone();
            shuffled.rotate_left(seed % rooms.len());
            shuffled.reverse();
            let a = apportion(amount, &rooms);
            let b = apportion(amount, &shuffled);
            if let (Ok(a), Ok(b)) = (a, b) {
                for (r, p) in rooms.iter().zip(&a) {
                    let j = shuffled.iter().position(|s| s.room_id == r.room_id).unwrap_or(0);
                    prop_assert_eq!(*p, b[j]);
                }
            }
        }
    }
}
