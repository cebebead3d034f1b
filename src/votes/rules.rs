//! The thresholds of an owners' vote, as data. Civil Code art. 278 sets the defaults
//! ([`Thresholds::for_matter`]); a city's local rule (for example an elevator-retrofit rule)
//! is just another [`Thresholds`] value, checked by [`Thresholds::validate`] and stored with
//! the vote. Every comparison is exact integer arithmetic (u128 products), never floats.
//! No I/O.

use serde::{Deserialize, Serialize};

use crate::error::FieldError;
use crate::i18n::Text;
use crate::votes::model::Matter;

/// A non-negative fraction `num / den`. Only meaningful with `den > 0` and `num <= den`
/// (see [`Thresholds::validate`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Fraction {
    pub num: u64,
    pub den: u64,
}

impl Fraction {
    pub const fn new(num: u64, den: u64) -> Fraction {
        Fraction { num, den }
    }

    /// 1/2, the base of "过半数" (more than half).
    pub const HALF: Fraction = Fraction::new(1, 2);
    /// 2/3, the quorum of Civil Code art. 278 para. 2.
    pub const TWO_THIRDS: Fraction = Fraction::new(2, 3);
    /// 3/4, the approval of matters (6)–(8), Civil Code art. 278 para. 2.
    pub const THREE_QUARTERS: Fraction = Fraction::new(3, 4);
}

/// One threshold: how large a part of a whole must be.
///
/// Chinese statutes say "以上" for "at least" (the boundary is included) and "过半数" for
/// "more than half" (the boundary is excluded); the two variants keep that difference.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Bound {
    /// `part / whole >= fraction` ("以上").
    AtLeast(Fraction),
    /// `part / whole > fraction` ("过半数" is `MoreThan(1/2)`).
    MoreThan(Fraction),
}

impl Bound {
    pub fn fraction(&self) -> Fraction {
        match *self {
            Bound::AtLeast(f) | Bound::MoreThan(f) => f,
        }
    }

    /// Whether `part` of `whole` meets the bound, compared exactly as
    /// `part * den` against `num * whole` in u128 (no overflow for any u64 inputs).
    ///
    /// A `whole` of 0 is **never** met: a vote with nobody entitled (or, for approval,
    /// nobody taking part) decides nothing, whatever the fraction. A zero denominator
    /// (refused by [`Thresholds::validate`]) is never met either.
    pub fn met(&self, part: u64, whole: u64) -> bool {
        let f = self.fraction();
        if whole == 0 || f.den == 0 {
            return false;
        }
        let lhs = u128::from(part) * u128::from(f.den);
        let rhs = u128::from(f.num) * u128::from(whole);
        match self {
            Bound::AtLeast(_) => lhs >= rhs,
            Bound::MoreThan(_) => lhs > rhs,
        }
    }

    /// The smallest `k` such that `part + k` of a fixed `whole` meets the bound, with
    /// `part + k <= whole`; `None` if no such `k` exists (the whole is too small or 0).
    /// `Some(0)` when already met. Used for the quorum ("still needed to take part").
    pub fn shortfall(&self, part: u64, whole: u64) -> Option<u64> {
        let room = whole.checked_sub(part)?;
        smallest(room, |k| self.met(part + k, whole))
    }

    /// The smallest `k <= available` such that `part + k` of `whole + k` meets the bound:
    /// how much more support is needed if it comes from people joining in favour (each new
    /// participant adds to both the part and the whole). `None` if even `available` is not
    /// enough. Used for approval ("still needed in favour").
    pub fn shortfall_joining(&self, part: u64, whole: u64, available: u64) -> Option<u64> {
        // Guard the sums; areas and owner counts are far below u64::MAX in practice.
        let available = available.min(u64::MAX - part.max(whole));
        smallest(available, |k| self.met(part + k, whole + k))
    }

    /// Whether every (part, whole) meeting `self` also meets `other`, i.e. `self` is at
    /// least as strict. Used to warn when a configured threshold is below the statute.
    pub fn at_least_as_strict_as(&self, other: &Bound) -> bool {
        let (a, b) = (self.fraction(), other.fraction());
        let a_vs_b =
            (u128::from(a.num) * u128::from(b.den)).cmp(&(u128::from(b.num) * u128::from(a.den)));
        match (self, other) {
            (Bound::AtLeast(_), Bound::AtLeast(_))
            | (Bound::MoreThan(_), Bound::MoreThan(_))
            | (Bound::MoreThan(_), Bound::AtLeast(_)) => a_vs_b.is_ge(),
            (Bound::AtLeast(_), Bound::MoreThan(_)) => a_vs_b.is_gt(),
        }
    }

    fn check(&self, field: &str, errors: &mut Vec<FieldError>) {
        let f = self.fraction();
        let message = if f.den == 0 {
            Some(Text::new(
                "分母必须大于 0",
                "the denominator must be greater than 0",
            ))
        } else if f.num > f.den {
            Some(Text::new(
                "比例不能大于 1",
                "the fraction cannot be greater than 1",
            ))
        } else if f.num == 0 {
            Some(Text::new(
                "比例必须大于 0,否则无人参与或同意也算通过",
                "the fraction must be greater than 0, or nobody taking part or agreeing would suffice",
            ))
        } else if matches!(self, Bound::MoreThan(_)) && f.num == f.den {
            Some(Text::new(
                "“超过全部”永远无法达到;全体一致请用“不少于 1/1”",
                "“more than all” can never be met; for unanimity use “at least 1/1”",
            ))
        } else {
            None
        };
        if let Some(m) = message {
            errors.push(FieldError::new(field, m));
        }
    }
}

/// The smallest `k` in `0..=max` with `ok(k)`, for a monotone `ok` (false…false true…true).
fn smallest(max: u64, ok: impl Fn(u64) -> bool) -> Option<u64> {
    if !ok(max) {
        return None;
    }
    let (mut lo, mut hi) = (0u64, max);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if ok(mid) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    Some(lo)
}

/// The four thresholds of one vote. Quorum bounds compare the participating area / owner
/// count with the electorate's totals; approval bounds compare the supporting area / owner
/// count with the **participating** totals (Civil Code art. 278 para. 2: "参与表决").
/// Both bounds of a pair must be met.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Thresholds {
    pub quorum_area: Bound,
    pub quorum_owners: Bound,
    pub approve_area: Bound,
    pub approve_owners: Bound,
}

impl Thresholds {
    /// The statutory thresholds (Civil Code art. 278 para. 2):
    /// - quorum for every matter: owners holding at least 2/3 of the exclusive area AND at
    ///   least 2/3 of the owner count take part;
    /// - matters (6) raising the fund, (7) rebuilding, (8) changing the use of common parts:
    ///   at least 3/4 of the participating area AND at least 3/4 of participating owners;
    /// - every other matter: more than 1/2 of the participating area AND more than 1/2 of
    ///   participating owners.
    pub fn for_matter(matter: Matter) -> Thresholds {
        let quorum = Bound::AtLeast(Fraction::TWO_THIRDS);
        let approve = match matter {
            Matter::RaiseFund | Matter::Rebuild | Matter::ChangeUse => {
                Bound::AtLeast(Fraction::THREE_QUARTERS)
            }
            Matter::RulesOfProcedure
            | Matter::ManagementCovenant
            | Matter::OwnersCommittee
            | Matter::PropertyCompany
            | Matter::UseFund
            | Matter::OtherMajor => Bound::MoreThan(Fraction::HALF),
        };
        Thresholds {
            quorum_area: quorum,
            quorum_owners: quorum,
            approve_area: approve,
            approve_owners: approve,
        }
    }

    /// Checks a configured set of thresholds; each error names its field
    /// (`quorum_area`, `quorum_owners`, `approve_area`, `approve_owners`).
    ///
    /// Refused: a zero denominator; a fraction above 1; a fraction of 0 (for a quorum it
    /// would let a vote with no participants stand, for approval it would pass with no
    /// support — neither is a decision); "more than 1/1" (never met). Thresholds below the
    /// statute are *not* refused here, because a local rule may be the caller's business;
    /// see [`Thresholds::below_statute`] to warn about them.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        self.quorum_area.check("quorum_area", &mut errors);
        self.quorum_owners.check("quorum_owners", &mut errors);
        self.approve_area.check("approve_area", &mut errors);
        self.approve_owners.check("approve_owners", &mut errors);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// The fields whose bound is less strict than the statutory one for `matter` (empty
    /// when the configuration is at least as strict as Civil Code art. 278 everywhere).
    pub fn below_statute(&self, matter: Matter) -> Vec<&'static str> {
        let law = Thresholds::for_matter(matter);
        let pairs = [
            ("quorum_area", self.quorum_area, law.quorum_area),
            ("quorum_owners", self.quorum_owners, law.quorum_owners),
            ("approve_area", self.approve_area, law.approve_area),
            ("approve_owners", self.approve_owners, law.approve_owners),
        ];
        pairs
            .into_iter()
            .filter(|(_, mine, law)| !mine.at_least_as_strict_as(law))
            .map(|(name, _, _)| name)
            .collect()
    }
}

/// Whether a vote must be refused because the owners' committee is in its re-election
/// period (换届期间): the committee may not put property-company selection (matter (4),
/// [`Matter::PropertyCompany`]) or a fee change to a vote (DOMAIN.md, "Owners' votes").
///
/// A fee change (物业费调价) is not a matter of its own in art. 278 — in practice it is
/// voted as [`Matter::OtherMajor`] or as part of the [`Matter::ManagementCovenant`] — so the
/// caller says so with `is_fee_change`, a flag the vote carries whatever its matter.
pub fn refused_during_reelection(matter: Matter, is_fee_change: bool) -> bool {
    matter == Matter::PropertyCompany || is_fee_change
}

/// The reason shown when [`refused_during_reelection`] says no.
pub const REELECTION_REFUSAL: Text = Text::new(
    "业委会换届期间不得表决选聘物业服务企业或调整物业费",
    "during the owners' committee re-election period, property-company selection and fee changes cannot be put to a vote",
);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const AT_2_3: Bound = Bound::AtLeast(Fraction::TWO_THIRDS);
    const AT_3_4: Bound = Bound::AtLeast(Fraction::THREE_QUARTERS);
    const OVER_HALF: Bound = Bound::MoreThan(Fraction::HALF);

    #[test]
    fn at_least_includes_the_boundary() {
        assert!(AT_2_3.met(2, 3));
        assert!(AT_2_3.met(8, 12));
        assert!(!AT_2_3.met(7, 12));
        assert!(AT_3_4.met(9, 12));
        assert!(!AT_3_4.met(8, 12));
        assert!(AT_3_4.met(3, 4));
        assert!(!AT_3_4.met(2, 4));
    }

    #[test]
    fn more_than_half_excludes_exactly_half() {
        assert!(!OVER_HALF.met(5, 10));
        assert!(OVER_HALF.met(6, 10));
        assert!(OVER_HALF.met(3, 5));
        assert!(!OVER_HALF.met(2, 5));
        assert!(OVER_HALF.met(1, 1));
    }

    #[test]
    fn a_whole_of_zero_is_never_met() {
        for b in [
            AT_2_3,
            AT_3_4,
            OVER_HALF,
            Bound::AtLeast(Fraction::new(0, 1)),
        ] {
            assert!(!b.met(0, 0));
            assert!(!b.met(5, 0));
        }
        assert!(!Bound::AtLeast(Fraction::new(1, 0)).met(1, 1));
    }

    #[test]
    fn no_overflow_at_the_extremes() {
        assert!(AT_2_3.met(u64::MAX, u64::MAX));
        assert!(!Bound::MoreThan(Fraction::new(u64::MAX - 1, u64::MAX)).met(u64::MAX - 1, u64::MAX));
        assert!(Bound::AtLeast(Fraction::new(u64::MAX - 1, u64::MAX)).met(u64::MAX - 1, u64::MAX));
    }

    #[test]
    fn statutory_defaults_per_matter() {
        for m in Matter::ALL {
            let t = Thresholds::for_matter(m);
            assert_eq!(t.quorum_area, AT_2_3);
            assert_eq!(t.quorum_owners, AT_2_3);
            let special = matches!(m, Matter::RaiseFund | Matter::Rebuild | Matter::ChangeUse);
            let expected = if special { AT_3_4 } else { OVER_HALF };
            assert_eq!(t.approve_area, expected, "{m:?}");
            assert_eq!(t.approve_owners, expected, "{m:?}");
            assert_eq!(t.validate(), Ok(()));
            assert!(t.below_statute(m).is_empty());
        }
    }

    #[test]
    fn thresholds_round_trip_through_json() {
        let t = Thresholds::for_matter(Matter::Rebuild);
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(
            json,
            r#"{"quorum_area":{"at_least":{"num":2,"den":3}},"quorum_owners":{"at_least":{"num":2,"den":3}},"approve_area":{"at_least":{"num":3,"den":4}},"approve_owners":{"at_least":{"num":3,"den":4}}}"#
        );
        assert_eq!(serde_json::from_str::<Thresholds>(&json).unwrap(), t);
    }

    #[test]
    fn validation_refuses_nonsense_with_field_names() {
        let t = Thresholds {
            quorum_area: Bound::AtLeast(Fraction::new(1, 0)),
            quorum_owners: Bound::AtLeast(Fraction::new(0, 3)),
            approve_area: Bound::AtLeast(Fraction::new(5, 4)),
            approve_owners: Bound::MoreThan(Fraction::new(2, 2)),
        };
        let errors = t.validate().unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "quorum_area",
                "quorum_owners",
                "approve_area",
                "approve_owners"
            ]
        );
        assert!(errors
            .iter()
            .all(|e| !e.message.zh.is_empty() && !e.message.en.is_empty()));
        let unanimity = Thresholds {
            approve_area: Bound::AtLeast(Fraction::new(1, 1)),
            ..Thresholds::for_matter(Matter::OtherMajor)
        };
        assert_eq!(unanimity.validate(), Ok(()));
    }

    #[test]
    fn below_statute_names_the_weaker_bounds() {
        // A local rule asking 2/3 approval for a lift retrofit is below the 3/4 of art. 278.
        let local = Thresholds {
            approve_area: Bound::AtLeast(Fraction::TWO_THIRDS),
            approve_owners: Bound::AtLeast(Fraction::TWO_THIRDS),
            ..Thresholds::for_matter(Matter::Rebuild)
        };
        assert_eq!(local.validate(), Ok(()));
        assert_eq!(
            local.below_statute(Matter::Rebuild),
            ["approve_area", "approve_owners"]
        );
        assert!(local.below_statute(Matter::OtherMajor).is_empty());
        // "at least 1/2" lets exactly half through, so it is weaker than "more than 1/2".
        assert!(!Bound::AtLeast(Fraction::HALF).at_least_as_strict_as(&OVER_HALF));
        assert!(OVER_HALF.at_least_as_strict_as(&Bound::AtLeast(Fraction::HALF)));
    }

    #[test]
    fn reelection_period_refuses_company_selection_and_fee_changes() {
        for m in Matter::ALL {
            assert_eq!(
                refused_during_reelection(m, false),
                m == Matter::PropertyCompany,
                "{m:?}"
            );
            assert!(refused_during_reelection(m, true), "{m:?}");
        }
        assert!(!REELECTION_REFUSAL.zh.is_empty());
    }

    #[test]
    fn shortfalls_are_the_smallest_amounts() {
        // 12 owners: 8 is exactly 2/3.
        assert_eq!(AT_2_3.shortfall(5, 12), Some(3));
        assert_eq!(AT_2_3.shortfall(8, 12), Some(0));
        assert_eq!(AT_2_3.shortfall(0, 0), None);
        assert_eq!(Bound::MoreThan(Fraction::new(1, 1)).shortfall(3, 3), None);
        // 10 taking part, 4 in favour: "more than half" needs 3 more joining in favour (7/13).
        assert_eq!(OVER_HALF.shortfall_joining(4, 10, 100), Some(3));
        assert_eq!(OVER_HALF.shortfall_joining(4, 10, 2), None);
        assert_eq!(OVER_HALF.shortfall_joining(0, 0, 5), Some(1));
    }

    fn bound() -> impl Strategy<Value = Bound> {
        (1u64..20, 1u64..20).prop_flat_map(|(a, b)| {
            let (num, den) = (a.min(b), a.max(b));
            prop_oneof![
                Just(Bound::AtLeast(Fraction::new(num, den))),
                Just(Bound::MoreThan(Fraction::new(num, den))),
            ]
        })
    }

    proptest! {
        #[test]
        fn shortfall_matches_a_linear_search(b in bound(), part in 0u64..60, extra in 0u64..60) {
            let whole = part + extra;
            let linear = (0..=extra).find(|&k| b.met(part + k, whole));
            prop_assert_eq!(b.shortfall(part, whole), linear);
        }

        #[test]
        fn shortfall_joining_matches_a_linear_search(
            b in bound(), part in 0u64..60, extra in 0u64..60, available in 0u64..80
        ) {
            let whole = part + extra;
            let linear = (0..=available).find(|&k| b.met(part + k, whole + k));
            prop_assert_eq!(b.shortfall_joining(part, whole, available), linear);
        }

        #[test]
        fn strictness_agrees_with_brute_force(a in bound(), b in bound()) {
            let implied = (1u64..=60).all(|w| (0..=w).all(|p| !a.met(p, w) || b.met(p, w)));
            // Denominators below 20 are distinguished by wholes up to 60 (differences of
            // fractions are at least 1/361, and 60 > 2 * 20 covers strict/inclusive cases).
            prop_assert_eq!(a.at_least_as_strict_as(&b), implied);
        }
    }
}
