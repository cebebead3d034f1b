//! What one case contributes to the measures, and the measures themselves (DOMAIN part 10,
//! read the way the 12345 hotline counts them). Pure: a [`Case`] in, integer counters out;
//! counters in, exact fractions out.
//!
//! Every measure is a fraction of two counters summed over the cases of a scope and period
//! (the period is the day a case was reported, Shanghai time, so a case belongs to one cohort
//! for ever and the rollup never has to move it):
//!
//! | measure | numerator | denominator |
//! |---|---|---|
//! | response rate (响应率) | `responded_on_time` | `dispatched` |
//! | resolution rate (解决率) | `resolved` | `resolvable` |
//! | satisfaction rate (满意率) | `satisfied` | `rated` |
//! | closure rate (办结率) | `closed` | `due` |
//! | on-time closure rate (按期办结率) | `closed_on_time` | `due` |
//! | rework rate (返工率) | `with_rework` | `handled` |
//! | average handling time (平均办理时长) | `handling_ms` | `handling_count` |
//!
//! The counters of one case ([`Facts::of`]), each 0 or 1 unless said otherwise:
//! - `reported`: every case but a draft (a group-chat draft is not a case until triaged).
//! - A merged duplicate counts as reported and nothing else: its work is the target's.
//! - `dispatched`: it has been dispatched at least once (`dispatched_ms`).
//! - `responded`: first contact was made; `responded_on_time`: no later than the first-contact
//!   deadline on the case (a reopened case judged by the deadline of its new dispatch).
//! - `due`: a handling deadline is in force (`due_ms`): dispatched and not reopened since.
//! - `closed`: closed while a deadline was in force; `closed_on_time`: that closure beat it.
//!   So closure and on-time closure never exceed 100 %. A case closed without ever being due
//!   (the operations centre answered a consultation at registration) is in neither.
//! - `resolvable`: closed, or due. `resolved`: closed now at the first attempt — never
//!   reopened and never sent back by an unsatisfied rating. A case that needed re-handling
//!   or a reopening is closed, but was not resolved.
//! - `rated` (a count): every rating given — each unsatisfied one opened a re-handling
//!   (`rehandling_count`), plus the rating of the current closure; `satisfied`: the current
//!   closure's rating is at least [`lifecycle::SATISFIED_FROM`] (an unsatisfied rating
//!   reopens the case, so the current one, if any, is satisfied). A rating of a closure that
//!   was later reopened by the operations centre is not counted.
//! - `handled`: it was reported back at least once; `with_rework`: it failed a verification at
//!   least once (返工).
//! - `handling_ms` (a sum) and `handling_count`: for a case reported back and standing at
//!   that report (handled, awaiting verification, or closed), the time from the first dispatch
//!   to the latest report back less the time spent waiting for the resident (the clock
//!   stopped), never below zero.
//!
//! Rates are shown as percentages with one decimal, rounded half up in integers; a zero
//! denominator shows "—", never NaN.

use serde::Serialize;

use crate::cases::lifecycle::{self, Case, State};
use crate::i18n::Text;

/// The counter columns, in the order of [`Facts::to_array`] (also the rollup's columns).
pub const COUNTERS: [&str; 15] = [
    "reported",
    "dispatched",
    "responded",
    "responded_on_time",
    "due",
    "closed",
    "closed_on_time",
    "resolvable",
    "resolved",
    "handled",
    "with_rework",
    "rated",
    "satisfied",
    "handling_ms",
    "handling_count",
];

/// Summable counters: of one case, or of many.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Facts {
    pub reported: i64,
    pub dispatched: i64,
    pub responded: i64,
    pub responded_on_time: i64,
    pub due: i64,
    pub closed: i64,
    pub closed_on_time: i64,
    pub resolvable: i64,
    pub resolved: i64,
    pub handled: i64,
    pub with_rework: i64,
    pub rated: i64,
    pub satisfied: i64,
    pub handling_ms: i64,
    pub handling_count: i64,
}

fn b(v: bool) -> i64 {
    i64::from(v)
}

impl Facts {
    /// What `case` contributes (see the module documentation for each counter).
    pub fn of(case: &Case) -> Facts {
        match case.state {
            State::Draft => return Facts::default(),
            State::Merged => {
                return Facts {
                    reported: 1,
                    ..Facts::default()
                }
            }
            _ => {}
        }
        let dispatched = case.dispatched_ms.is_some();
        let closed_now = case.state == State::Closed;
        let due = case.due_ms.is_some();
        let handled = case.handled_ms.is_some();
        let standing_report = matches!(case.state, State::Handled | State::Closed);
        let handling = match (standing_report, case.dispatched_ms, case.handled_ms) {
            (true, Some(d), Some(h)) => Some(
                h.saturating_sub(d)
                    .saturating_sub(case.paused_total_ms)
                    .max(0),
            ),
            _ => None,
        };
        let current_rating = case.rating.filter(|_| closed_now);
        Facts {
            reported: 1,
            dispatched: b(dispatched),
            responded: b(dispatched && case.first_contact_ms.is_some()),
            responded_on_time: b(dispatched && case.responded_on_time() == Some(true)),
            due: b(due),
            closed: b(closed_now && due),
            closed_on_time: b(closed_now && due && case.closed_on_time == Some(true)),
            resolvable: b(closed_now || due),
            resolved: b(closed_now && case.reopen_count == 0 && case.rehandling_count == 0),
            handled: b(handled),
            with_rework: b(handled && case.rework_count > 0),
            rated: i64::from(case.rehandling_count) + b(current_rating.is_some()),
            satisfied: b(current_rating.is_some_and(|r| r.value() >= lifecycle::SATISFIED_FROM)),
            handling_ms: handling.unwrap_or(0),
            handling_count: b(handling.is_some()),
        }
    }

    pub fn to_array(&self) -> [i64; 15] {
        [
            self.reported,
            self.dispatched,
            self.responded,
            self.responded_on_time,
            self.due,
            self.closed,
            self.closed_on_time,
            self.resolvable,
            self.resolved,
            self.handled,
            self.with_rework,
            self.rated,
            self.satisfied,
            self.handling_ms,
            self.handling_count,
        ]
    }

    pub fn from_array(a: [i64; 15]) -> Facts {
        Facts {
            reported: a[0],
            dispatched: a[1],
            responded: a[2],
            responded_on_time: a[3],
            due: a[4],
            closed: a[5],
            closed_on_time: a[6],
            resolvable: a[7],
            resolved: a[8],
            handled: a[9],
            with_rework: a[10],
            rated: a[11],
            satisfied: a[12],
            handling_ms: a[13],
            handling_count: a[14],
        }
    }

    fn zip(self, other: Facts, f: impl Fn(i64, i64) -> i64) -> Facts {
        let (x, y) = (self.to_array(), other.to_array());
        Facts::from_array(std::array::from_fn(|i| f(x[i], y[i])))
    }

    pub fn plus(self, other: Facts) -> Facts {
        self.zip(other, i64::saturating_add)
    }

    pub fn minus(self, other: Facts) -> Facts {
        self.zip(other, i64::saturating_sub)
    }

    pub fn is_zero(&self) -> bool {
        self.to_array().iter().all(|v| *v == 0)
    }

    /// The seven measures of these counters.
    pub fn measures(&self) -> [Measure; 7] {
        ALL_MEASURES.map(|kind| Measure {
            kind,
            ratio: kind.ratio(self),
        })
    }
}

/// An exact fraction; the denominator may be 0 (nothing to measure).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Ratio {
    pub numerator: i64,
    pub denominator: i64,
}

impl Ratio {
    pub fn new(numerator: i64, denominator: i64) -> Ratio {
        Ratio {
            numerator,
            denominator,
        }
    }

    /// The percentage in tenths (875 = 87.5 %), rounded half up; `None` without a denominator.
    pub fn percent_tenths(&self) -> Option<i64> {
        if self.denominator <= 0 {
            return None;
        }
        let (n, d) = (
            i128::from(self.numerator.max(0)),
            i128::from(self.denominator),
        );
        i64::try_from((n * 2000 + d) / (2 * d)).ok()
    }

    /// The quotient rounded half up (the average of a sum over a count).
    pub fn rounded(&self) -> Option<i64> {
        if self.denominator <= 0 {
            return None;
        }
        let (n, d) = (
            i128::from(self.numerator.max(0)),
            i128::from(self.denominator),
        );
        i64::try_from((n * 2 + d) / (2 * d)).ok()
    }

    /// "87.5%", or "—".
    pub fn percent_text(&self) -> String {
        match self.percent_tenths() {
            Some(t) => format!("{}.{}%", t / 10, t % 10),
            None => "—".into(),
        }
    }
}

/// Milliseconds as hours with one decimal, rounded half up: "26.5".
pub fn hours_text(ms: i64) -> String {
    let tenths = Ratio::new(ms, 360_000).rounded().unwrap_or(0);
    format!("{}.{}", tenths / 10, tenths % 10)
}

/// The seven measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MeasureKind {
    Response,
    Resolution,
    Satisfaction,
    Closure,
    OnTimeClosure,
    Rework,
    HandlingTime,
}

pub const ALL_MEASURES: [MeasureKind; 7] = [
    MeasureKind::Response,
    MeasureKind::Resolution,
    MeasureKind::Satisfaction,
    MeasureKind::Closure,
    MeasureKind::OnTimeClosure,
    MeasureKind::Rework,
    MeasureKind::HandlingTime,
];

impl MeasureKind {
    pub fn code(self) -> &'static str {
        match self {
            MeasureKind::Response => "response",
            MeasureKind::Resolution => "resolution",
            MeasureKind::Satisfaction => "satisfaction",
            MeasureKind::Closure => "closure",
            MeasureKind::OnTimeClosure => "on_time_closure",
            MeasureKind::Rework => "rework",
            MeasureKind::HandlingTime => "handling_time",
        }
    }

    pub fn from_code(s: &str) -> Option<MeasureKind> {
        ALL_MEASURES.into_iter().find(|m| m.code() == s)
    }

    pub fn label(self) -> Text {
        match self {
            MeasureKind::Response => Text::new("响应率", "Response rate"),
            MeasureKind::Resolution => Text::new("解决率", "Resolution rate"),
            MeasureKind::Satisfaction => Text::new("满意率", "Satisfaction rate"),
            MeasureKind::Closure => Text::new("办结率", "Closure rate"),
            MeasureKind::OnTimeClosure => Text::new("按期办结率", "On-time closure rate"),
            MeasureKind::Rework => Text::new("返工率", "Rework rate"),
            MeasureKind::HandlingTime => Text::new("平均办理时长", "Average handling time"),
        }
    }

    /// What the fraction counts, for the page and the export.
    pub fn definition(self) -> Text {
        match self {
            MeasureKind::Response => Text::new(
                "按期首次联系 / 已派单",
                "first contact on time / dispatched",
            ),
            MeasureKind::Resolution => Text::new(
                "一次办结(未重办、未重开)/ 已结案或有期限",
                "closed at the first attempt / closed or due",
            ),
            MeasureKind::Satisfaction => {
                Text::new("满意评价 / 全部评价", "satisfied ratings / all ratings")
            }
            MeasureKind::Closure => Text::new("已结案 / 有期限", "closed / due"),
            MeasureKind::OnTimeClosure => Text::new("按期结案 / 有期限", "closed on time / due"),
            MeasureKind::Rework => Text::new(
                "有返工的事项 / 已反馈办结",
                "cases with rework / reported back",
            ),
            MeasureKind::HandlingTime => Text::new(
                "派单到反馈办结,扣除等待居民时间(小时)",
                "dispatch to report back, less waiting for the resident (hours)",
            ),
        }
    }

    /// Whether a higher value is better (the rework rate and handling time are not).
    pub fn higher_is_better(self) -> bool {
        !matches!(self, MeasureKind::Rework | MeasureKind::HandlingTime)
    }

    pub fn is_rate(self) -> bool {
        self != MeasureKind::HandlingTime
    }

    pub fn ratio(self, f: &Facts) -> Ratio {
        match self {
            MeasureKind::Response => Ratio::new(f.responded_on_time, f.dispatched),
            MeasureKind::Resolution => Ratio::new(f.resolved, f.resolvable),
            MeasureKind::Satisfaction => Ratio::new(f.satisfied, f.rated),
            MeasureKind::Closure => Ratio::new(f.closed, f.due),
            MeasureKind::OnTimeClosure => Ratio::new(f.closed_on_time, f.due),
            MeasureKind::Rework => Ratio::new(f.with_rework, f.handled),
            MeasureKind::HandlingTime => Ratio::new(f.handling_ms, f.handling_count),
        }
    }
}

/// One measure's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Measure {
    pub kind: MeasureKind,
    pub ratio: Ratio,
}

impl Measure {
    /// "87.5%", "26.5 h"-style value without a unit for the time ("26.5"), or "—".
    pub fn value_text(&self) -> String {
        if self.kind.is_rate() {
            self.ratio.percent_text()
        } else {
            match self.ratio.rounded() {
                Some(ms) => hours_text(ms),
                None => "—".into(),
            }
        }
    }

    /// A comparable score in tenths (of a percent, or of an hour), `None` without data.
    pub fn tenths(&self) -> Option<i64> {
        if self.kind.is_rate() {
            self.ratio.percent_tenths()
        } else {
            self.ratio
                .rounded()
                .and_then(|ms| Ratio::new(ms, 360_000).rounded())
        }
    }
}

#[cfg(test)]
#[path = "facts_tests.rs"]
mod tests;
