//! The fund's rules around a posting that are not about balances: what authorises a
//! withdrawal (an approved owners' vote on matter 5 whose scope covers the rooms charged, or
//! an emergency approval used within its 7 days), how a form's request becomes room lines, and
//! the half-yearly publication periods. Pure: no I/O, dates as `YYYY-MM-DD` text.

use time::{Date, Duration};

use super::apportion::{apportion, first_deposit, Weight};
use super::ledger::{Kind, Line};
use crate::i18n::Text;
use crate::votes::model::Matter;

/// Days an emergency approval stays usable after the day it was given (the day itself counts
/// as day 0: approved on the 1st, usable up to and including the 8th).
pub const EMERGENCY_DAYS: i64 = 7;

/// What a withdrawal needs to know of the vote it names.
#[derive(Clone, Copy, Debug)]
pub struct VoteFacts<'a> {
    pub matter: Matter,
    pub status: &'a str,
    /// The final tally's outcome is `Approved`.
    pub approved: bool,
    pub scope_path: &'a str,
}

/// Whether a vote authorises charging the rooms under `over_path`.
pub fn vote_authorises(v: &VoteFacts<'_>, over_path: &str) -> Result<(), Text> {
    if v.matter != Matter::UseFund {
        return Err(Text::new(
            "所引用的表决不是关于使用维修资金的事项",
            "the vote named is not on using the maintenance fund (matter 5)",
        ));
    }
    if !matches!(v.status, "closed" | "published") {
        return Err(Text::new(
            "所引用的表决尚未结束",
            "the vote named has not been closed",
        ));
    }
    if !v.approved {
        return Err(Text::new(
            "所引用的表决未获通过",
            "the vote named was not approved",
        ));
    }
    if !over_path.starts_with(v.scope_path) {
        return Err(Text::new(
            "所引用的表决范围不包括分摊的房屋",
            "the vote's scope does not cover the rooms charged",
        ));
    }
    Ok(())
}

fn date(s: &str) -> Option<Date> {
    Date::parse(
        s.trim(),
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()
}

/// Whether `s` is a date `YYYY-MM-DD`.
pub fn is_date(s: &str) -> bool {
    date(s).is_some()
}

/// Whether an emergency approved on `approved_on` may be used on `value_date`.
pub fn emergency_usable(approved_on: &str, value_date: &str) -> Result<(), Text> {
    let (Some(a), Some(v)) = (date(approved_on), date(value_date)) else {
        return Err(Text::new("日期格式应为 YYYY-MM-DD", "dates are YYYY-MM-DD"));
    };
    if v < a {
        return Err(Text::new(
            "使用日期早于应急审批日期",
            "the withdrawal is dated before the emergency approval",
        ));
    }
    if v > a + Duration::days(EMERGENCY_DAYS) {
        return Err(Text::owned(
            format!("应急维修审批({approved_on})已超过 {EMERGENCY_DAYS} 日时限"),
            format!("the emergency approval of {approved_on} is older than {EMERGENCY_DAYS} days"),
        ));
    }
    Ok(())
}

/// The half-year a date falls in: `2026-H1` (January–June) or `2026-H2`.
pub fn half_year(d: &str) -> Option<String> {
    let d = date(d)?;
    let h = if u8::from(d.month()) <= 6 { 1 } else { 2 };
    Some(format!("{}-H{h}", d.year()))
}

/// Whether `p` names a half-year (`2026-H1`).
pub fn is_period(p: &str) -> bool {
    let Some((y, h)) = p.split_once("-H") else {
        return false;
    };
    y.len() == 4 && y.bytes().all(|b| b.is_ascii_digit()) && matches!(h, "1" | "2")
}

/// One room as the planner sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoomFacts {
    pub room_id: i64,
    /// The area that counts (hundredths of m²; 0 when unknown).
    pub area: i64,
    /// The path of the room's node (building or unit), to pick the rooms under a node.
    pub path: String,
    pub balance: i64,
    pub first_deposit: i64,
}

/// Turns a request into room lines (not yet checked by the ledger rules):
/// - a first deposit: each room under `over` without one gets area × rate (half up);
/// - a deposit or top-up: `amount` by area; interest: `amount` by the rooms' balances;
/// - a withdrawal: `amount` by area, as negative lines.
///
/// Rooms whose share is zero get no line. The rule of [`apportion`] makes the lines add up.
pub fn plan(
    kind: Kind,
    amount: i64,
    rate_fen_per_m2: i64,
    over: &str,
    rooms: &[RoomFacts],
) -> Result<Vec<Line>, Text> {
    let scope: Vec<&RoomFacts> = rooms.iter().filter(|r| r.path.starts_with(over)).collect();
    if scope.is_empty() {
        return Err(Text::new("所选范围内没有房屋", "there are no rooms there"));
    }
    let lines: Vec<Line> = match kind {
        Kind::FirstDeposit => {
            if rate_fen_per_m2 <= 0 {
                return Err(Text::new(
                    "交存标准应为正数(分/平方米)",
                    "the rate is a positive number of fen per m²",
                ));
            }
            let mut v = Vec::new();
            for r in scope.iter().filter(|r| r.first_deposit == 0 && r.area > 0) {
                let fen = first_deposit(r.area, rate_fen_per_m2)
                    .ok_or_else(|| Text::new("金额过大", "the amount is too large"))?;
                v.push(Line {
                    room_id: r.room_id,
                    amount: fen,
                });
            }
            v
        }
        Kind::Reversal => {
            return Err(Text::new(
                "冲正按原分录生成",
                "a reversal is made from the entry it undoes",
            ))
        }
        _ => {
            if amount <= 0 {
                return Err(Text::new("金额应为正数", "the amount must be positive"));
            }
            let weights: Vec<Weight> = scope
                .iter()
                .map(|r| Weight {
                    room_id: r.room_id,
                    weight: if kind == Kind::Interest {
                        r.balance.max(0)
                    } else {
                        r.area
                    },
                })
                .collect();
            let parts = apportion(amount, &weights)?;
            let sign = if kind == Kind::Withdrawal { -1 } else { 1 };
            weights
                .iter()
                .zip(parts)
                .filter(|(_, p)| *p != 0)
                .map(|(w, p)| Line {
                    room_id: w.room_id,
                    amount: sign * p,
                })
                .collect()
        }
    };
    if lines.is_empty() {
        return Err(Text::new(
            "没有需要记账的房屋(已全部交存,或面积为零)",
            "no room to post to (all have their first deposit, or no area)",
        ));
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(vote_matter: Matter, status: &str, approved: bool) -> VoteFacts<'_> {
        VoteFacts {
            matter: vote_matter,
            status,
            approved,
            scope_path: "/1/10/100/",
        }
    }

    #[test]
    fn only_an_approved_closed_matter_five_vote_over_the_rooms_authorises() {
        let b = "/1/10/100/1000/";
        assert!(vote_authorises(&facts(Matter::UseFund, "closed", true), b).is_ok());
        assert!(vote_authorises(&facts(Matter::UseFund, "published", true), b).is_ok());
        assert!(vote_authorises(&facts(Matter::UseFund, "open", true), b).is_err());
        assert!(vote_authorises(&facts(Matter::UseFund, "closed", false), b).is_err());
        assert!(vote_authorises(&facts(Matter::RaiseFund, "closed", true), b).is_err());
        assert!(vote_authorises(&facts(Matter::UseFund, "closed", true), "/1/10/101/").is_err());
    }

    #[test]
    fn an_emergency_approval_lasts_seven_days() {
        assert!(emergency_usable("2026-03-01", "2026-03-01").is_ok());
        assert!(emergency_usable("2026-03-01", "2026-03-08").is_ok());
        let late = emergency_usable("2026-03-01", "2026-03-09").err();
        assert!(late.is_some_and(|t| t.en.contains("older than 7 days")));
        assert!(emergency_usable("2026-03-02", "2026-03-01").is_err());
        assert!(emergency_usable("2026-3-1", "2026-03-01").is_err());
    }

    #[test]
    fn half_years() {
        assert_eq!(half_year("2026-06-30").as_deref(), Some("2026-H1"));
        assert_eq!(half_year("2026-07-01").as_deref(), Some("2026-H2"));
        assert!(is_period("2026-H2"));
        assert!(!is_period("2026-H3"));
        assert!(!is_period("26-H1"));
    }

    fn rooms() -> Vec<RoomFacts> {
        let r = |id: i64, area: i64, path: &str, balance: i64, first: i64| RoomFacts {
            room_id: id,
            area,
            path: path.into(),
            balance,
            first_deposit: first,
        };
        vec![
            r(1, 8_555, "/1/b/u1/", 100, 100),
            r(2, 7_001, "/1/b/u1/", 300, 0),
            r(3, 0, "/1/b/u2/", 0, 0),
            r(4, 9_000, "/1/b/u2/", 0, 0),
        ]
    }

    #[test]
    fn first_deposits_go_to_rooms_without_one() {
        let l = plan(Kind::FirstDeposit, 0, 12_000, "/1/b/", &rooms()).unwrap_or_default();
        // 70.01 m² × 120 yuan = 8,401.20 yuan; 90 m² × 120 = 10,800 yuan.
        assert_eq!(
            l,
            vec![
                Line {
                    room_id: 2,
                    amount: 840_120
                },
                Line {
                    room_id: 4,
                    amount: 1_080_000
                }
            ]
        );
        assert!(plan(Kind::FirstDeposit, 0, 0, "/1/b/", &rooms()).is_err());
    }

    #[test]
    fn a_withdrawal_over_a_unit_is_shared_by_its_rooms_area() {
        let l = plan(Kind::Withdrawal, 10_001, 0, "/1/b/u1/", &rooms()).unwrap_or_default();
        assert_eq!(l.iter().map(|l| l.amount).sum::<i64>(), -10_001);
        assert!(l.iter().all(|l| l.room_id <= 2));
        let l = plan(Kind::Withdrawal, 9_000, 0, "/1/b/u2/", &rooms()).unwrap_or_default();
        assert_eq!(
            l,
            vec![Line {
                room_id: 4,
                amount: -9_000
            }]
        );
        assert!(plan(Kind::Withdrawal, 1, 0, "/1/x/", &rooms()).is_err());
        assert!(plan(Kind::Withdrawal, 0, 0, "/1/b/", &rooms()).is_err());
    }

    #[test]
    fn interest_follows_balances() {
        let l = plan(Kind::Interest, 4, 0, "/1/b/", &rooms()).unwrap_or_default();
        assert_eq!(
            l,
            vec![
                Line {
                    room_id: 1,
                    amount: 1
                },
                Line {
                    room_id: 2,
                    amount: 3
                }
            ]
        );
    }
}
