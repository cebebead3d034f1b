//! The public income account's rules. Pure: no I/O, dates as `YYYY-MM-DD` text.
//!
//! - the kinds of entry and their effect on the balance (income +; an expense and a top-up of
//!   the maintenance fund −; a reversal the opposite of the entry it undoes, once);
//! - the refusals (amount, balance never negative, the authority of an expense, reversals);
//! - the quarterly rule: the top-ups attributed to a quarter must be strictly more than half
//!   of the quarter's income (公共收益每季度以超过50%补充维修资金), and the shortfall.
//!
//! A reversal counts in the quarter of the entry it undoes (an income reversed corrects that
//! quarter's income; a top-up reversed takes back from the quarter it was for).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::schedule::Period;
use crate::i18n::Text;
use crate::votes::model::Matter;

/// What an entry records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Income from the common parts (收入).
    Income,
    /// A use of the income for a stated purpose, with its authority (支出).
    Expense,
    /// A transfer to the estate's maintenance funds (补充维修资金).
    TopUp,
    /// The reversal (冲正) of one earlier entry.
    Reversal,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Income, Kind::Expense, Kind::TopUp, Kind::Reversal];

    pub fn code(self) -> &'static str {
        match self {
            Kind::Income => "income",
            Kind::Expense => "expense",
            Kind::TopUp => "top_up",
            Kind::Reversal => "reversal",
        }
    }

    pub fn from_code(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.code() == s.trim())
    }

    pub fn label(self) -> Text {
        match self {
            Kind::Income => Text::new("收入", "income"),
            Kind::Expense => Text::new("支出", "expense"),
            Kind::TopUp => Text::new("补充维修资金", "top-up of the maintenance fund"),
            Kind::Reversal => Text::new("冲正", "reversal"),
        }
    }

    /// The sign of a non-reversal entry's effect on the balance.
    pub fn sign(self) -> i64 {
        match self {
            Kind::Income => 1,
            Kind::Expense | Kind::TopUp => -1,
            Kind::Reversal => 0,
        }
    }
}

/// Where income comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// 广告
    Advertising,
    /// 停车
    Parking,
    /// 场地
    Venue,
    /// 其他
    Other,
}

impl Source {
    pub const ALL: [Source; 4] = [
        Source::Advertising,
        Source::Parking,
        Source::Venue,
        Source::Other,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Source::Advertising => "advertising",
            Source::Parking => "parking",
            Source::Venue => "venue",
            Source::Other => "other",
        }
    }

    pub fn from_code(s: &str) -> Option<Source> {
        Source::ALL.into_iter().find(|k| k.code() == s.trim())
    }

    pub fn label(self) -> Text {
        match self {
            Source::Advertising => Text::new("广告", "advertising"),
            Source::Parking => Text::new("停车", "parking"),
            Source::Venue => Text::new("场地", "venue"),
            Source::Other => Text::new("其他", "other"),
        }
    }
}

/// A refusal: a stable code (the field it concerns follows from it) and the reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub code: &'static str,
    pub text: Text,
}

fn no(code: &'static str, zh: &str, en: &str) -> Refusal {
    Refusal {
        code,
        text: Text::owned(zh.to_owned(), en.to_owned()),
    }
}

/// Largest amount of one entry: 10^12 fen (ten billion yuan), far beyond any estate.
pub const MAX_AMOUNT: i64 = 1_000_000_000_000;

/// Checks the amount of a new (non-reversal) entry.
pub fn check_amount(amount: i64) -> Result<(), Refusal> {
    if amount <= 0 {
        return Err(no("amount", "金额应为正数", "the amount must be positive"));
    }
    if amount > MAX_AMOUNT {
        return Err(no("amount", "金额过大", "the amount is too large"));
    }
    Ok(())
}

/// The balance after an entry of `effect`, refused when it would go below zero.
pub fn balance_after(balance: i64, effect: i64) -> Result<i64, Refusal> {
    let after = balance
        .checked_add(effect)
        .ok_or_else(|| no("amount", "金额过大", "the amount is too large"))?;
    if after < 0 {
        return Err(Refusal {
            code: "short",
            text: Text::owned(
                format!(
                    "公共收益余额不足:余额 {} 元,本笔需 {} 元",
                    crate::property::fund::ledger::yuan(balance),
                    crate::property::fund::ledger::yuan(-effect)
                ),
                format!(
                    "the public income balance is {} yuan; this entry needs {} yuan",
                    crate::property::fund::ledger::yuan(balance),
                    crate::property::fund::ledger::yuan(-effect)
                ),
            ),
        });
    }
    Ok(after)
}

/// What an expense's vote looks like to the rules.
#[derive(Clone, Copy, Debug)]
pub struct VoteFacts<'a> {
    pub matter: Matter,
    pub status: &'a str,
    pub approved: bool,
    pub scope_path: &'a str,
}

/// Whether an owners' vote authorises using the estate's public income: matter 8 (changing
/// the use of common parts or running a business on them) or 9 (other major matters of common
/// ownership), closed, approved, and its scope covering the estate.
pub fn vote_authorises(v: &VoteFacts<'_>, estate_path: &str) -> Result<(), Refusal> {
    if !matches!(v.matter, Matter::ChangeUse | Matter::OtherMajor) {
        return Err(no(
            "vote_id",
            "所引用的表决不是关于共有部分经营或其他重大事项的表决",
            "the vote named is not on the use of common parts or another major matter (matters 8–9)",
        ));
    }
    if !matches!(v.status, "closed" | "published") {
        return Err(no(
            "vote_id",
            "所引用的表决尚未结束",
            "the vote named has not been closed",
        ));
    }
    if !v.approved {
        return Err(no(
            "vote_id",
            "所引用的表决未获通过",
            "the vote named was not approved",
        ));
    }
    if !estate_path.starts_with(v.scope_path) {
        return Err(no(
            "vote_id",
            "所引用的表决范围不包括本小区",
            "the vote's scope does not cover this estate",
        ));
    }
    Ok(())
}

/// What an expense's committee decision looks like to the rules.
#[derive(Clone, Debug)]
pub struct DecisionFacts<'a> {
    /// The activity's kind (`decision` for a decision taken).
    pub kind: &'a str,
    /// The committee's estate path.
    pub committee_path: &'a str,
    pub held_on: &'a str,
}

/// Whether a recorded committee decision authorises an expense of the estate dated
/// `value_date`: a decision (not a meeting or other activity) of a committee whose estate
/// covers this one, taken on or before the value date.
pub fn decision_authorises(
    d: &DecisionFacts<'_>,
    estate_path: &str,
    value_date: &str,
) -> Result<(), Refusal> {
    if d.kind != "decision" {
        return Err(no(
            "decision_id",
            "所引用的业委会记录不是一项决定",
            "the committee record named is not a decision",
        ));
    }
    if !estate_path.starts_with(d.committee_path) {
        return Err(no(
            "decision_id",
            "所引用的决定不是本小区业委会作出的",
            "the decision named is not of this estate's committee",
        ));
    }
    if d.held_on > value_date {
        return Err(no(
            "decision_id",
            "支出日期早于业委会决定日期",
            "the expense is dated before the committee's decision",
        ));
    }
    Ok(())
}

/// The entry a reversal undoes, as the rules need it.
#[derive(Clone, Copy, Debug)]
pub struct Undone {
    pub kind: Kind,
    pub effect: i64,
    pub already_reversed: bool,
}

/// A reversal's effect, or why it is refused.
pub fn reversal_effect(u: &Undone, reason: &str) -> Result<i64, Refusal> {
    if reason.trim().is_empty() {
        return Err(no("note", "冲正须写明原因", "a reversal needs its reason"));
    }
    if u.kind == Kind::Reversal {
        return Err(no(
            "reverses",
            "冲正分录不能再冲正",
            "a reversal cannot itself be reversed",
        ));
    }
    if u.already_reversed {
        return Err(no(
            "already_reversed",
            "该分录已冲正过",
            "this entry has been reversed already",
        ));
    }
    Ok(-u.effect)
}

/// One entry as the quarterly rule sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flow {
    pub seq: u64,
    pub kind: Kind,
    /// Positive fen.
    pub amount: i64,
    /// The quarter of the value date.
    pub quarter: Period,
    /// A top-up: the quarter it is for.
    pub for_quarter: Option<Period>,
    /// A reversal: the seq it undoes.
    pub reverses: Option<u64>,
}

/// A quarter's figures.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Quarter {
    pub quarter: String,
    /// Income of the quarter, net of reversals.
    pub income: i64,
    /// Expenses of the quarter, net of reversals.
    pub expense: i64,
    /// Top-ups attributed to the quarter, net of reversals.
    pub top_up: i64,
    /// 2 × top-up > income (or no income).
    pub compliant: bool,
    /// The least further top-up that makes it compliant.
    pub shortfall: i64,
}

/// Strictly more than half: `2 × top_up > income`; a quarter without income complies.
pub fn compliant(income: i64, top_up: i64) -> bool {
    income <= 0 || 2 * i128::from(top_up) > i128::from(income)
}

/// The least fen `x ≥ 0` with `compliant(income, top_up + x)`.
pub fn shortfall(income: i64, top_up: i64) -> i64 {
    if compliant(income, top_up) {
        0
    } else {
        // 2(t + x) > I ⇔ t + x ≥ ⌊I/2⌋ + 1.
        income / 2 + 1 - top_up
    }
}

/// The figures per quarter (in quarter order) from the entries of an account.
pub fn quarters(flows: &[Flow]) -> Vec<Quarter> {
    #[derive(Default)]
    struct Sums {
        income: i64,
        expense: i64,
        top_up: i64,
    }
    let by_seq: BTreeMap<u64, &Flow> = flows.iter().map(|f| (f.seq, f)).collect();
    let mut sums: BTreeMap<Period, Sums> = BTreeMap::new();
    let mut add = |kind: Kind, quarter: Period, for_quarter: Option<Period>, amount: i64| match kind
    {
        Kind::Income => sums.entry(quarter).or_default().income += amount,
        Kind::Expense => sums.entry(quarter).or_default().expense += amount,
        Kind::TopUp => {
            sums.entry(for_quarter.unwrap_or(quarter))
                .or_default()
                .top_up += amount
        }
        Kind::Reversal => {}
    };
    for f in flows {
        match f.kind {
            Kind::Reversal => {
                if let Some(u) = f.reverses.and_then(|s| by_seq.get(&s)) {
                    add(u.kind, u.quarter, u.for_quarter, -u.amount);
                }
            }
            k => add(k, f.quarter, f.for_quarter, f.amount),
        }
    }
    sums.into_iter()
        .map(|(q, s)| Quarter {
            quarter: q.code(),
            income: s.income,
            expense: s.expense,
            top_up: s.top_up,
            compliant: compliant(s.income, s.top_up),
            shortfall: shortfall(s.income, s.top_up),
        })
        .collect()
}

/// Checks a top-up's `for_quarter`: a quarter code, not later than the value date's quarter.
pub fn check_for_quarter(s: &str, value_date: &str) -> Result<Period, Refusal> {
    let p = match Period::parse(s) {
        Some(p @ Period::Quarter(..)) => p,
        _ => {
            return Err(no(
                "for_quarter",
                "季度格式应为 2026Q3",
                "a quarter is written 2026Q3",
            ))
        }
    };
    if Period::quarter_of(value_date).is_some_and(|v| p > v) {
        return Err(no(
            "for_quarter",
            "不能为尚未开始的季度补充",
            "a top-up cannot be for a quarter that has not begun",
        ));
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn q(y: i32, n: u8) -> Period {
        Period::Quarter(y, n)
    }

    fn flow(seq: u64, kind: Kind, amount: i64, quarter: Period) -> Flow {
        Flow {
            seq,
            kind,
            amount,
            quarter,
            for_quarter: None,
            reverses: None,
        }
    }

    #[test]
    fn strictly_more_than_half() {
        assert!(compliant(0, 0));
        assert!(compliant(-5, 0));
        assert!(!compliant(100, 50));
        assert!(compliant(100, 51));
        assert!(!compliant(101, 50));
        assert!(compliant(101, 51));
        assert!(!compliant(1, 0));
        assert!(compliant(1, 1));
        assert!(compliant(i64::MAX, i64::MAX / 2 + 1));
        assert!(!compliant(i64::MAX, i64::MAX / 2));
    }

    #[test]
    fn shortfalls_are_the_least_fen() {
        assert_eq!(shortfall(100, 0), 51);
        assert_eq!(shortfall(100, 50), 1);
        assert_eq!(shortfall(100, 51), 0);
        assert_eq!(shortfall(101, 0), 51);
        assert_eq!(shortfall(1, 0), 1);
        assert_eq!(shortfall(0, 0), 0);
        assert_eq!(shortfall(100, 200), 0);
    }

    #[test]
    fn kinds_and_sources_round_trip() {
        for k in Kind::ALL {
            assert_eq!(Kind::from_code(k.code()), Some(k));
        }
        for s in Source::ALL {
            assert_eq!(Source::from_code(s.code()), Some(s));
        }
        assert_eq!(Kind::from_code("withdrawal"), None);
        assert_eq!(Source::from_code(""), None);
        assert_eq!(Kind::Income.sign(), 1);
        assert_eq!(Kind::Expense.sign(), -1);
        assert_eq!(Kind::TopUp.sign(), -1);
    }

    #[test]
    fn amounts_and_balances() {
        assert!(check_amount(1).is_ok());
        assert_eq!(check_amount(0).map_err(|r| r.code), Err("amount"));
        assert_eq!(check_amount(-1).map_err(|r| r.code), Err("amount"));
        assert_eq!(
            check_amount(MAX_AMOUNT + 1).map_err(|r| r.code),
            Err("amount")
        );
        assert_eq!(balance_after(100, -100), Ok(0));
        assert_eq!(balance_after(100, 5), Ok(105));
        let r = balance_after(100, -101).unwrap_err();
        assert_eq!(r.code, "short");
        assert!(
            r.text.zh.contains("1.00") && r.text.zh.contains("1.01"),
            "{}",
            r.text.zh
        );
        assert!(balance_after(i64::MAX, 1).is_err());
    }

    #[test]
    fn votes_that_authorise_and_those_that_do_not() {
        let ok = VoteFacts {
            matter: Matter::ChangeUse,
            status: "closed",
            approved: true,
            scope_path: "/1/2/",
        };
        assert!(vote_authorises(&ok, "/1/2/").is_ok());
        assert!(vote_authorises(&ok, "/1/2/3/").is_ok());
        assert!(vote_authorises(
            &VoteFacts {
                matter: Matter::OtherMajor,
                status: "published",
                ..ok
            },
            "/1/2/"
        )
        .is_ok());
        for bad in [
            VoteFacts {
                matter: Matter::UseFund,
                ..ok
            },
            VoteFacts {
                status: "open",
                ..ok
            },
            VoteFacts {
                approved: false,
                ..ok
            },
            VoteFacts {
                scope_path: "/1/2/3/",
                ..ok
            },
        ] {
            assert_eq!(
                vote_authorises(&bad, "/1/2/").map_err(|r| r.code),
                Err("vote_id")
            );
        }
    }

    #[test]
    fn decisions_that_authorise_and_those_that_do_not() {
        let d = DecisionFacts {
            kind: "decision",
            committee_path: "/1/2/",
            held_on: "2026-07-01",
        };
        assert!(decision_authorises(&d, "/1/2/", "2026-07-01").is_ok());
        assert!(decision_authorises(&d, "/1/2/5/", "2026-08-01").is_ok());
        assert!(decision_authorises(&d, "/1/2/", "2026-06-30").is_err());
        assert!(decision_authorises(&d, "/1/3/", "2026-08-01").is_err());
        let m = DecisionFacts {
            kind: "meeting",
            ..d.clone()
        };
        assert!(decision_authorises(&m, "/1/2/", "2026-08-01").is_err());
    }

    #[test]
    fn reversals() {
        let u = Undone {
            kind: Kind::Income,
            effect: 500,
            already_reversed: false,
        };
        assert_eq!(reversal_effect(&u, "录错"), Ok(-500));
        assert_eq!(reversal_effect(&u, " ").map_err(|r| r.code), Err("note"));
        assert_eq!(
            reversal_effect(
                &Undone {
                    already_reversed: true,
                    ..u
                },
                "x"
            )
            .map_err(|r| r.code),
            Err("already_reversed")
        );
        assert_eq!(
            reversal_effect(
                &Undone {
                    kind: Kind::Reversal,
                    ..u
                },
                "x"
            )
            .map_err(|r| r.code),
            Err("reverses")
        );
        assert_eq!(
            reversal_effect(
                &Undone {
                    kind: Kind::TopUp,
                    effect: -70,
                    ..u
                },
                "x"
            ),
            Ok(70)
        );
    }

    #[test]
    fn for_quarter_checks() {
        assert_eq!(check_for_quarter("2026Q3", "2026-10-05"), Ok(q(2026, 3)));
        assert_eq!(check_for_quarter("2026Q4", "2026-10-05"), Ok(q(2026, 4)));
        assert!(check_for_quarter("2027Q1", "2026-10-05").is_err());
        assert!(check_for_quarter("2026-H1", "2026-10-05").is_err());
        assert!(check_for_quarter("", "2026-10-05").is_err());
    }

    #[test]
    fn quarters_attribute_top_ups_and_reversals() {
        let mut t = flow(4, Kind::TopUp, 600, q(2026, 4));
        t.for_quarter = Some(q(2026, 3));
        let mut r = flow(5, Kind::Reversal, 200, q(2026, 4));
        r.reverses = Some(2);
        let flows = vec![
            flow(1, Kind::Income, 1_000, q(2026, 3)),
            flow(2, Kind::Income, 200, q(2026, 3)),
            flow(3, Kind::Expense, 100, q(2026, 3)),
            t,
            r,
            flow(6, Kind::Income, 300, q(2026, 4)),
        ];
        let qs = quarters(&flows);
        assert_eq!(
            qs,
            vec![
                Quarter {
                    quarter: "2026Q3".into(),
                    income: 1_000,
                    expense: 100,
                    top_up: 600,
                    compliant: true,
                    shortfall: 0
                },
                Quarter {
                    quarter: "2026Q4".into(),
                    income: 300,
                    expense: 0,
                    top_up: 0,
                    compliant: false,
                    shortfall: 151
                },
            ]
        );
        // Exactly half is not enough.
        let mut t = flow(2, Kind::TopUp, 500, q(2026, 3));
        t.for_quarter = Some(q(2026, 3));
        let qs = quarters(&[flow(1, Kind::Income, 1_000, q(2026, 3)), t.clone()]);
        assert_eq!((qs[0].compliant, qs[0].shortfall), (false, 1));
        // A reversed top-up takes back from the quarter it was for.
        let mut r = flow(3, Kind::Reversal, 500, q(2026, 4));
        r.reverses = Some(2);
        let qs = quarters(&[flow(1, Kind::Income, 1_000, q(2026, 3)), t, r]);
        assert_eq!((qs[0].top_up, qs[0].shortfall), (0, 501));
        assert_eq!(qs.len(), 1, "{qs:?}");
        assert!(quarters(&[]).is_empty());
    }

    proptest! {
        #[test]
        fn shortfall_is_least_and_sufficient(income in -10i64..1_000_000_000_000, top in 0i64..1_000_000_000_000) {
            let s = shortfall(income, top);
            prop_assert!(s >= 0);
            prop_assert!(compliant(income, top + s));
            if s > 0 {
                prop_assert!(!compliant(income, top + s - 1));
            }
            prop_assert_eq!(compliant(income, top), s == 0);
        }

        #[test]
        fn quarter_sums_match_the_entries(
            amounts in proptest::collection::vec((0u8..3, 1i64..1_000_000, 1u8..5), 0..40),
            reverse_every in 2usize..6,
        ) {
            let mut flows = Vec::new();
            let mut seq = 0u64;
            for (k, a, qn) in &amounts {
                seq += 1;
                let kind = [Kind::Income, Kind::Expense, Kind::TopUp][*k as usize];
                let mut f = flow(seq, kind, *a, q(2026, *qn));
                if kind == Kind::TopUp { f.for_quarter = Some(q(2026, 1)); }
                flows.push(f);
            }
            let originals = flows.clone();
            for (i, o) in originals.iter().enumerate() {
                if i % reverse_every == 0 {
                    seq += 1;
                    let mut r = flow(seq, Kind::Reversal, o.amount, q(2026, 4));
                    r.reverses = Some(o.seq);
                    flows.push(r);
                }
            }
            let qs = quarters(&flows);
            let kept = |k: Kind| -> i64 {
                originals.iter().enumerate()
                    .filter(|(i, f)| f.kind == k && i % reverse_every != 0)
                    .map(|(_, f)| f.amount).sum()
            };
            prop_assert_eq!(qs.iter().map(|x| x.income).sum::<i64>(), kept(Kind::Income));
            prop_assert_eq!(qs.iter().map(|x| x.expense).sum::<i64>(), kept(Kind::Expense));
            prop_assert_eq!(qs.iter().map(|x| x.top_up).sum::<i64>(), kept(Kind::TopUp));
            for x in &qs {
                prop_assert_eq!(x.compliant, compliant(x.income, x.top_up));
                prop_assert_eq!(x.shortfall, shortfall(x.income, x.top_up));
            }
        }
    }
}
