//! The count of an owners' vote: the frozen electorate, the form, the thresholds and the
//! counted ballots in; an exact, reproducible result out. No I/O.
//!
//! Rules (Civil Code art. 278 para. 2; thresholds in [`crate::votes::rules`]):
//! - everyone who returned a ballot takes part, whatever it says: abstentions, blank and
//!   invalid ballots count in the participating totals, so they weigh against approval;
//! - the quorum compares the participating area and owner count with the electorate's totals;
//! - approval compares the supporting area and owner count with the participating totals;
//! - nothing is approved, elected or chosen without the quorum.
//!
//! The result never depends on the order of the ballots.

use std::cmp::Reverse;

use rustc_hash::FxHashMap;

use serde::{Deserialize, Serialize};

use crate::error::FieldError;
use crate::i18n::Text;
use crate::tree::area;
use crate::votes::electorate::{Electorate, Voter};
use crate::votes::model::Choice;
use crate::votes::rules::{Bound, Thresholds};

/// The most candidates or options a vote may have.
pub const MAX_CHOICES: u32 = 1_000;

/// What kind of question is put to the owners.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Form {
    /// For, against or abstain ([`Choice::Yes`], [`Choice::No`], [`Choice::Abstain`]).
    YesNo,
    /// Candidates numbered `1..=candidates`; a ballot supports up to `seats` of them
    /// ([`Choice::Candidates`]).
    Election { seats: u32, candidates: u32 },
    /// One of the options numbered `1..=count`, or abstain ([`Choice::Option`]).
    Options { count: u32 },
}

impl Form {
    /// Checks the form's numbers; errors name the fields `seats`, `candidates`, `count`.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        match *self {
            Form::YesNo => {}
            Form::Election { seats, candidates } => {
                if candidates == 0 || candidates > MAX_CHOICES {
                    errors.push(FieldError::new(
                        "candidates",
                        Text::new(
                            "候选人数应在 1 到 1000 之间",
                            "there must be 1 to 1000 candidates",
                        ),
                    ));
                }
                if seats == 0 || seats > candidates {
                    errors.push(FieldError::new(
                        "seats",
                        Text::new(
                            "应选名额至少为 1,且不超过候选人数",
                            "there must be at least 1 seat and no more seats than candidates",
                        ),
                    ));
                }
            }
            Form::Options { count } => {
                if !(2..=MAX_CHOICES).contains(&count) {
                    errors.push(FieldError::new(
                        "count",
                        Text::new(
                            "选项数应在 2 到 1000 之间",
                            "there must be 2 to 1000 options",
                        ),
                    ));
                }
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

/// An exclusive area (hundredths of m²) and an owner count, measured together.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Amount {
    pub area: u64,
    pub owners: u64,
}

impl Amount {
    fn add(&mut self, v: &Voter) {
        self.area += v.area;
        self.owners += 1;
    }
}

/// The smallest amounts still missing for a pair of bounds; `Some(0)` when met, `None`
/// when it can no longer be reached. Area and owners are computed each on its own.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Needed {
    pub area: Option<u64>,
    pub owners: Option<u64>,
}

/// Whether enough owners took part.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quorum {
    pub area_met: bool,
    pub owners_met: bool,
    /// Both.
    pub met: bool,
    /// The area / number of owners that must still take part (for a live tracker).
    pub still_needed: Needed,
}

/// Whether one proposal, candidate or option has enough support among the participants.
/// These flags look at the support only; whether the quorum was met is in [`Quorum`] and in
/// the [`Outcome`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    pub area_met: bool,
    pub owners_met: bool,
    /// Both.
    pub met: bool,
    /// The supporting area / owners still needed if they come from owners who have not
    /// taken part yet and join in favour (each adds to the support and to the participating
    /// total alike); `None` if all who have not taken part would not suffice.
    pub still_needed: Needed,
}

/// The count of a yes / no vote.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct YesNoCount {
    pub yes: Amount,
    pub no: Amount,
    pub abstain: Amount,
    /// Ballots that took part but said nothing countable (conflicting or of another form).
    pub invalid: Amount,
    pub approval: Approval,
}

/// One candidate's count.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CandidateCount {
    pub candidate: u32,
    pub support: Amount,
    pub approval: Approval,
    /// 1 for the best; equal support gives an equal rank (1, 2, 2, 4).
    pub rank: u32,
}

/// The count of an election.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ElectionCount {
    pub seats: u32,
    /// Every candidate, by number.
    pub candidates: Vec<CandidateCount>,
    /// Every candidate, best first: by supporting owners, then area, then number (the
    /// number orders equals for display only; equal support is a tie).
    pub ranking: Vec<u32>,
    /// Elected for sure: best-ranked candidates meeting the approval bounds, up to the
    /// seats, not counting those tied for the last seat. Empty without the quorum.
    pub elected: Vec<u32>,
    /// Passing candidates tied for the last seat(s): these seats are undecided.
    pub tied: Vec<u32>,
    /// Seats left to the tied candidates.
    pub undecided_seats: u32,
    /// Seats no passing candidate is left for.
    pub unfilled_seats: u32,
    /// Blank ballots (took part, supported nobody).
    pub blank: Amount,
    /// Invalid ballots (took part, supported nobody).
    pub invalid: Amount,
}

/// One option's count.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptionCount {
    pub option: u32,
    pub support: Amount,
    pub approval: Approval,
}

/// The count of a choice among options.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptionsCount {
    /// Every option, by number.
    pub options: Vec<OptionCount>,
    pub abstain: Amount,
    pub invalid: Amount,
    /// The chosen option. Empty without the quorum.
    pub winner: Option<u32>,
    /// Passing options with equal best support (then there is no winner).
    pub tied: Vec<u32>,
}

/// The count, by form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "form", rename_all = "snake_case")]
pub enum Counts {
    YesNo(YesNoCount),
    Election(ElectionCount),
    Options(OptionsCount),
}

/// The result in one word.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Not enough owners took part: nothing was decided.
    NoQuorum,
    /// Yes / no: approved.
    Approved,
    /// Yes / no: not approved.
    Rejected,
    /// Election: at least one candidate elected, no tie.
    Elected,
    /// Election: a tie for the last seat(s), which stay undecided.
    Tied,
    /// Options: one option chosen.
    Chosen,
    /// Election or options: nobody / nothing passed, or options tied.
    NoWinner,
}

/// A ballot the count could not take as it came.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Issue {
    /// No such voter in the electorate: ignored.
    UnknownVoter,
    /// A voter nobody of record can cast for (`room:<id>`): ignored.
    Uncastable,
    /// Several identical ballots from one voter: counted once.
    Duplicate,
    /// Several different ballots from one voter: takes part, supports nothing.
    Conflicting,
    /// A choice of another form (e.g. `Yes` in an election): takes part, supports nothing.
    WrongKind,
    /// More candidates than seats: takes part, supports nobody.
    TooManyCandidates,
    /// A candidate number outside `1..=candidates`: takes part, supports nobody.
    UnknownCandidate,
    /// The same candidate twice: takes part, supports nobody.
    RepeatedCandidate,
    /// An option number outside `1..=count`: takes part, supports nothing.
    UnknownOption,
}

/// One flagged ballot (or voter).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct BallotIssue {
    pub voter_key: String,
    pub issue: Issue,
}

/// The whole result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    pub thresholds: Thresholds,
    /// The electorate's totals.
    pub total: Amount,
    pub participating: Amount,
    pub quorum: Quorum,
    pub counts: Counts,
    pub outcome: Outcome,
    /// Sorted by voter key, then issue; one entry per voter and issue.
    pub issues: Vec<BallotIssue>,
}

/// Counts the ballots. Each ballot is `(voter key, choice)`; the caller records one per
/// voter, but the count stays exact if not (see [`Issue`]). Runs in time linear in the
/// electorate, the ballots and the candidates named.
pub fn tally<K: AsRef<str>>(
    electorate: &Electorate,
    form: &Form,
    thresholds: &Thresholds,
    ballots: &[(K, Choice)],
) -> Tally {
    // Keys are the registry's own (no adversary picks them), so a fast hash is safe here.
    let mut index: FxHashMap<&str, usize> =
        FxHashMap::with_capacity_and_hasher(electorate.voters.len(), Default::default());
    for (i, v) in electorate.voters.iter().enumerate() {
        index.insert(v.key.as_str(), i);
    }
    let mut issues = Vec::new();
    // Per voter: the first ballot seen, how many, whether all were equal to the first.
    // "All equal" does not depend on which came first, so nor does the count.
    let mut slots: Vec<Option<(usize, u32, bool)>> = vec![None; electorate.voters.len()];
    for (b, (key, choice)) in ballots.iter().enumerate() {
        let key = key.as_ref();
        let Some(&i) = index.get(key) else {
            issues.push(issue(key, Issue::UnknownVoter));
            continue;
        };
        if !electorate.voters[i].castable() {
            issues.push(issue(key, Issue::Uncastable));
            continue;
        }
        slots[i] = match slots[i] {
            None => Some((b, 1, true)),
            Some((first, n, same)) => Some((first, n + 1, same && ballots[first].1 == *choice)),
        };
    }

    let total = Amount {
        area: electorate.total_area,
        owners: electorate.total_owners,
    };
    let mut participating = Amount::default();
    let mut counter = Counter::new(form);
    for (voter, slot) in electorate.voters.iter().zip(&slots) {
        let Some((first, n, same)) = *slot else {
            continue;
        };
        participating.add(voter);
        if n > 1 {
            let kind = if same {
                Issue::Duplicate
            } else {
                Issue::Conflicting
            };
            issues.push(issue(&voter.key, kind));
            if !same {
                counter.invalid.add(voter);
                continue;
            }
        }
        if let Err(kind) = counter.count(voter, &ballots[first].1) {
            issues.push(issue(&voter.key, kind));
            counter.invalid.add(voter);
        }
    }
    issues.sort();
    issues.dedup();

    let quorum = Quorum {
        area_met: thresholds.quorum_area.met(participating.area, total.area),
        owners_met: thresholds
            .quorum_owners
            .met(participating.owners, total.owners),
        met: false,
        still_needed: Needed {
            area: thresholds
                .quorum_area
                .shortfall(participating.area, total.area),
            owners: thresholds
                .quorum_owners
                .shortfall(participating.owners, total.owners),
        },
    };
    let quorum = Quorum {
        met: quorum.area_met && quorum.owners_met,
        ..quorum
    };
    let judge = Judge {
        thresholds,
        participating,
        total,
    };
    let (counts, outcome) = counter.finish(form, &judge, quorum.met);
    Tally {
        thresholds: *thresholds,
        total,
        participating,
        quorum,
        counts,
        outcome,
        issues,
    }
}

fn issue(key: &str, issue: Issue) -> BallotIssue {
    BallotIssue {
        voter_key: key.to_string(),
        issue,
    }
}

/// Whether a candidate is named twice: pairwise for the few names a ballot usually holds,
/// else through a sorted copy.
fn repeats(ids: &[u32]) -> bool {
    if ids.len() <= 16 {
        return ids
            .iter()
            .enumerate()
            .any(|(i, a)| ids[i + 1..].contains(a));
    }
    let mut sorted = ids.to_vec();
    sorted.sort_unstable();
    sorted.windows(2).any(|w| w[0] == w[1])
}

/// Judges support against the approval bounds.
struct Judge<'a> {
    thresholds: &'a Thresholds,
    participating: Amount,
    total: Amount,
}

impl Judge<'_> {
    fn approval(&self, support: Amount) -> Approval {
        let (t, p) = (self.thresholds, self.participating);
        let area_met = t.approve_area.met(support.area, p.area);
        let owners_met = t.approve_owners.met(support.owners, p.owners);
        let joining = |b: &Bound, s: u64, part: u64, total: u64| {
            b.shortfall_joining(s, part, total.saturating_sub(part))
        };
        Approval {
            area_met,
            owners_met,
            met: area_met && owners_met,
            still_needed: Needed {
                area: joining(&t.approve_area, support.area, p.area, self.total.area),
                owners: joining(
                    &t.approve_owners,
                    support.owners,
                    p.owners,
                    self.total.owners,
                ),
            },
        }
    }
}

/// Running sums while the voters are walked once.
struct Counter {
    form: Form,
    /// Yes/no: yes, no, abstain. Options: one per option. Election: one per candidate.
    support: Vec<Amount>,
    abstain: Amount,
    blank: Amount,
    invalid: Amount,
}

impl Counter {
    fn new(form: &Form) -> Counter {
        let n = match *form {
            Form::YesNo => 3,
            Form::Election { candidates, .. } => candidates.min(MAX_CHOICES),
            Form::Options { count } => count.min(MAX_CHOICES),
        };
        Counter {
            form: *form,
            support: vec![Amount::default(); n as usize],
            abstain: Amount::default(),
            blank: Amount::default(),
            invalid: Amount::default(),
        }
    }

    /// Adds one voter's ballot, or says why it supports nothing.
    fn count(&mut self, voter: &Voter, choice: &Choice) -> Result<(), Issue> {
        let choices = self.support.len();
        match (self.form, choice) {
            (Form::YesNo, Choice::Yes) => self.support[0].add(voter),
            (Form::YesNo, Choice::No) => self.support[1].add(voter),
            (Form::YesNo, Choice::Abstain) => self.support[2].add(voter),
            (Form::Election { seats, .. }, Choice::Candidates { ids }) => {
                if ids.len() > seats as usize {
                    return Err(Issue::TooManyCandidates);
                }
                if ids.iter().any(|&c| c == 0 || c as usize > choices) {
                    return Err(Issue::UnknownCandidate);
                }
                if repeats(ids) {
                    return Err(Issue::RepeatedCandidate);
                }
                if ids.is_empty() {
                    self.blank.add(voter);
                }
                for &c in ids {
                    self.support[(c - 1) as usize].add(voter);
                }
            }
            (Form::Options { .. }, Choice::Option { id: None }) => self.abstain.add(voter),
            (Form::Options { .. }, Choice::Option { id: Some(o) }) => {
                if *o == 0 || *o as usize > choices {
                    return Err(Issue::UnknownOption);
                }
                self.support[(*o - 1) as usize].add(voter);
            }
            _ => return Err(Issue::WrongKind),
        }
        Ok(())
    }

    fn finish(self, form: &Form, judge: &Judge, quorum: bool) -> (Counts, Outcome) {
        match *form {
            Form::YesNo => {
                let yes = self.support[0];
                let approval = judge.approval(yes);
                let outcome = if !quorum {
                    Outcome::NoQuorum
                } else if approval.met {
                    Outcome::Approved
                } else {
                    Outcome::Rejected
                };
                let counts = YesNoCount {
                    yes,
                    no: self.support[1],
                    abstain: self.support[2],
                    invalid: self.invalid,
                    approval,
                };
                (Counts::YesNo(counts), outcome)
            }
            Form::Election { seats, .. } => self.finish_election(seats, judge, quorum),
            Form::Options { .. } => self.finish_options(judge, quorum),
        }
    }

    fn finish_election(self, seats: u32, judge: &Judge, quorum: bool) -> (Counts, Outcome) {
        let strength = |a: &Amount| Reverse((a.owners, a.area));
        let mut order: Vec<usize> = (0..self.support.len()).collect();
        order.sort_by_key(|&i| (strength(&self.support[i]), i));
        let mut ranks = vec![0u32; self.support.len()];
        for (pos, &i) in order.iter().enumerate() {
            let tied_with_previous = pos > 0 && {
                let prev = order[pos - 1];
                strength(&self.support[prev]) == strength(&self.support[i])
            };
            ranks[i] = if tied_with_previous {
                ranks[order[pos - 1]]
            } else {
                pos as u32 + 1
            };
        }
        let candidates: Vec<CandidateCount> = self
            .support
            .iter()
            .enumerate()
            .map(|(i, s)| CandidateCount {
                candidate: i as u32 + 1,
                support: *s,
                approval: judge.approval(*s),
                rank: ranks[i],
            })
            .collect();
        let passing: Vec<usize> = if quorum {
            order
                .iter()
                .copied()
                .filter(|&i| candidates[i].approval.met)
                .collect()
        } else {
            Vec::new()
        };
        let seats_n = seats as usize;
        let (mut elected, mut tied) = (Vec::new(), Vec::new());
        if passing.len() <= seats_n {
            elected = passing.clone();
        } else if seats_n > 0 {
            let last = strength(&self.support[passing[seats_n - 1]]);
            let first_out = strength(&self.support[passing[seats_n]]);
            if last == first_out {
                for &i in &passing {
                    let s = strength(&self.support[i]);
                    if s < last {
                        elected.push(i);
                    } else if s == last {
                        tied.push(i);
                    }
                }
            } else {
                elected = passing[..seats_n].to_vec();
            }
        }
        let number = |v: Vec<usize>| v.into_iter().map(|i| i as u32 + 1).collect::<Vec<u32>>();
        let undecided = if tied.is_empty() {
            0
        } else {
            seats.saturating_sub(elected.len() as u32)
        };
        let unfilled = seats.saturating_sub(elected.len() as u32 + undecided);
        let outcome = if !quorum {
            Outcome::NoQuorum
        } else if !tied.is_empty() {
            Outcome::Tied
        } else if !elected.is_empty() {
            Outcome::Elected
        } else {
            Outcome::NoWinner
        };
        let counts = ElectionCount {
            seats,
            candidates,
            ranking: number(order),
            elected: number(elected),
            tied: number(tied),
            undecided_seats: undecided,
            unfilled_seats: unfilled,
            blank: self.blank,
            invalid: self.invalid,
        };
        (Counts::Election(counts), outcome)
    }

    fn finish_options(self, judge: &Judge, quorum: bool) -> (Counts, Outcome) {
        let options: Vec<OptionCount> = self
            .support
            .iter()
            .enumerate()
            .map(|(i, s)| OptionCount {
                option: i as u32 + 1,
                support: *s,
                approval: judge.approval(*s),
            })
            .collect();
        let mut passing: Vec<&OptionCount> = options.iter().filter(|o| o.approval.met).collect();
        // Two options can both pass only under thresholds below "more than half"; then the
        // best by owners, then area, wins, and equals at the top mean no winner.
        passing.sort_by_key(|o| (Reverse((o.support.owners, o.support.area)), o.option));
        let top = passing.first().map(|o| (o.support.owners, o.support.area));
        let tied: Vec<u32> = match top {
            Some(t)
                if passing.len() > 1
                    && (passing[1].support.owners, passing[1].support.area) == t =>
            {
                passing
                    .iter()
                    .filter(|o| (o.support.owners, o.support.area) == t)
                    .map(|o| o.option)
                    .collect()
            }
            _ => Vec::new(),
        };
        let winner = if quorum && tied.is_empty() {
            passing.first().map(|o| o.option)
        } else {
            None
        };
        let outcome = match (quorum, winner) {
            (false, _) => Outcome::NoQuorum,
            (true, Some(_)) => Outcome::Chosen,
            (true, None) => Outcome::NoWinner,
        };
        let counts = OptionsCount {
            abstain: self.abstain,
            invalid: self.invalid,
            winner,
            tied,
            options,
        };
        (Counts::Options(counts), outcome)
    }
}

fn m2(hundredths: u64) -> String {
    area::format(i64::try_from(hundredths).unwrap_or(i64::MAX))
}

fn list(ids: &[u32]) -> String {
    ids.iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

impl Tally {
    /// One line for the result notice, in both languages.
    pub fn summary(&self) -> Text {
        let (p, t) = (self.participating, self.total);
        let zh_part = format!(
            "参与 {}/{} 户,面积 {}/{} ㎡",
            p.owners,
            t.owners,
            m2(p.area),
            m2(t.area)
        );
        let en_part = format!(
            "{} of {} owners took part, {} of {} m²",
            p.owners,
            t.owners,
            m2(p.area),
            m2(t.area)
        );
        let (zh, en) = match (self.outcome, &self.counts) {
            (Outcome::NoQuorum, _) => {
                let n = self.quorum.still_needed;
                let owners = n.owners.map_or("-".to_string(), |v| v.to_string());
                let area = n.area.map_or("-".to_string(), m2);
                (
                    format!("未达到参与表决的法定人数:{zh_part};尚差 {owners} 户、{area} ㎡"),
                    format!("no quorum: {en_part}; {owners} owners and {area} m² still needed"),
                )
            }
            (_, Counts::YesNo(c)) => {
                let (zh_word, en_word) = if self.outcome == Outcome::Approved {
                    ("通过", "approved")
                } else {
                    ("未通过", "rejected")
                };
                (
                    format!(
                        "{zh_word}:{zh_part};同意 {} 户、{} ㎡,反对 {} 户,弃权 {} 户",
                        c.yes.owners,
                        m2(c.yes.area),
                        c.no.owners,
                        c.abstain.owners
                    ),
                    format!(
                        "{en_word}: {en_part}; {} in favour ({} m²), {} against, {} abstaining",
                        c.yes.owners,
                        m2(c.yes.area),
                        c.no.owners,
                        c.abstain.owners
                    ),
                )
            }
            (_, Counts::Election(c)) => {
                let mut zh = format!(
                    "{zh_part};当选:{}",
                    if c.elected.is_empty() {
                        "无".to_string()
                    } else {
                        list(&c.elected)
                    }
                );
                let mut en = format!(
                    "{en_part}; elected: {}",
                    if c.elected.is_empty() {
                        "none".to_string()
                    } else {
                        list(&c.elected)
                    }
                );
                if !c.tied.is_empty() {
                    zh += &format!(
                        ";{} 个名额因 {} 号候选人票数相同未定",
                        c.undecided_seats,
                        list(&c.tied)
                    );
                    en += &format!(
                        "; {} seat(s) undecided, candidates {} tied",
                        c.undecided_seats,
                        list(&c.tied)
                    );
                }
                (zh, en)
            }
            (_, Counts::Options(c)) => match c.winner {
                Some(w) => (
                    format!("{zh_part};选定第 {w} 项"),
                    format!("{en_part}; option {w} chosen"),
                ),
                None => (
                    format!("{zh_part};没有选项获得通过"),
                    format!("{en_part}; no option passed"),
                ),
            },
        };
        Text::owned(zh, en)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::votes::electorate::{OwnerRef, RoomInput};
    use crate::votes::model::Matter;
    use crate::votes::rules::Fraction;
    use proptest::prelude::*;
    use std::cmp::Ordering;

    #[test]
    fn repeats_finds_a_twice_named_candidate_short_or_long() {
        assert!(!repeats(&[]));
        assert!(!repeats(&[1, 2, 3]));
        assert!(repeats(&[3, 1, 3]));
        let long: Vec<u32> = (1..=40).collect();
        assert!(!repeats(&long));
        let mut twice = long.clone();
        twice.push(17);
        assert!(repeats(&twice));
    }

    /// `n` rooms of `area` each, owned by persons 1..=n: keys `p:1`…`p:n`.
    fn uniform(n: i64, area: i64) -> Electorate {
        let rooms: Vec<RoomInput> = (1..=n)
            .map(|i| room(i, area, &[OwnerRef::Person(i)]))
            .collect();
        Electorate::freeze(&rooms)
    }

    fn room(id: i64, area: i64, owners: &[OwnerRef]) -> RoomInput {
        RoomInput {
            room_id: id,
            registered_area: Some(area),
            surveyed_area: None,
            contract_area: None,
            developer_unsold: false,
            owners: owners.to_vec(),
        }
    }

    fn p(i: i64) -> String {
        format!("p:{i}")
    }

    /// Persons `from..=to` all vote `choice`.
    fn votes(from: i64, to: i64, choice: Choice) -> Vec<(String, Choice)> {
        (from..=to).map(|i| (p(i), choice.clone())).collect()
    }

    fn concat(parts: &[Vec<(String, Choice)>]) -> Vec<(String, Choice)> {
        parts.concat()
    }

    fn yes_no(e: &Electorate, matter: Matter, ballots: &[(String, Choice)]) -> Tally {
        tally(e, &Form::YesNo, &Thresholds::for_matter(matter), ballots)
    }

    fn yn(t: &Tally) -> &YesNoCount {
        match &t.counts {
            Counts::YesNo(c) => c,
            other => panic!("not a yes/no count: {other:?}"),
        }
    }

    #[test]
    fn exactly_two_thirds_taking_part_meets_the_quorum() {
        let e = uniform(12, 100);
        let t = yes_no(&e, Matter::OtherMajor, &votes(1, 8, Choice::Yes));
        assert!(t.quorum.area_met && t.quorum.owners_met && t.quorum.met);
        assert_eq!(
            t.quorum.still_needed,
            Needed {
                area: Some(0),
                owners: Some(0)
            }
        );
        assert_eq!(t.outcome, Outcome::Approved);
    }

    #[test]
    fn two_thirds_minus_one_owner_fails_the_quorum() {
        let e = uniform(12, 100);
        let t = yes_no(&e, Matter::OtherMajor, &votes(1, 7, Choice::Yes));
        assert!(!t.quorum.met && !t.quorum.owners_met && !t.quorum.area_met);
        assert_eq!(t.outcome, Outcome::NoQuorum);
        // 800 of 1200 hundredths is exactly 2/3; one owner more is 8.
        assert_eq!(
            t.quorum.still_needed,
            Needed {
                area: Some(100),
                owners: Some(1)
            }
        );
        assert!(t.summary().en.starts_with("no quorum"));
        assert!(t.summary().zh.contains("尚差 1 户"));
    }

    #[test]
    fn exactly_two_thirds_of_area_but_not_of_owners() {
        // 6 owners; owner 1 holds 400 of 900: owners 1 and 2 hold 500, owners 1–3 hold 600.
        let mut rooms = vec![room(1, 400, &[OwnerRef::Person(1)])];
        rooms.extend((2..=6).map(|i| room(i, 100, &[OwnerRef::Person(i)])));
        let e = Electorate::freeze(&rooms);
        assert_eq!((e.total_area, e.total_owners), (900, 6));
        let t = yes_no(&e, Matter::OtherMajor, &votes(1, 3, Choice::Yes));
        assert_eq!(
            t.participating,
            Amount {
                area: 600,
                owners: 3
            }
        );
        assert!(t.quorum.area_met, "600/900 is exactly 2/3");
        assert!(!t.quorum.owners_met, "3/6 is not 2/3");
        assert_eq!(t.outcome, Outcome::NoQuorum);
        assert_eq!(
            t.quorum.still_needed,
            Needed {
                area: Some(0),
                owners: Some(1)
            }
        );
    }

    #[test]
    fn exactly_three_quarters_approves_matters_six_to_eight() {
        let e = uniform(8, 100);
        for m in [Matter::RaiseFund, Matter::Rebuild, Matter::ChangeUse] {
            let b = concat(&[votes(1, 6, Choice::Yes), votes(7, 8, Choice::No)]);
            let t = yes_no(&e, m, &b);
            assert_eq!(t.outcome, Outcome::Approved, "{m:?}: 6/8 is exactly 3/4");
            let b = concat(&[votes(1, 5, Choice::Yes), votes(6, 8, Choice::No)]);
            let t = yes_no(&e, m, &b);
            assert_eq!(t.outcome, Outcome::Rejected, "{m:?}: 5/8 is 3/4 minus one");
            // One more in favour among the (here: none) absent would be needed; none are left.
            assert_eq!(yn(&t).approval.still_needed.owners, None);
        }
    }

    #[test]
    fn exactly_half_is_not_more_than_half() {
        let e = uniform(10, 100);
        for m in Matter::ALL {
            if matches!(m, Matter::RaiseFund | Matter::Rebuild | Matter::ChangeUse) {
                continue;
            }
            let half = concat(&[votes(1, 4, Choice::Yes), votes(5, 8, Choice::No)]);
            let t = yes_no(&e, m, &half);
            assert_eq!(t.outcome, Outcome::Rejected, "{m:?}: 4/8 is exactly half");
            // Two owners not yet voting: one more in favour makes 5/9; by area, any amount
            // joining in favour tips 400/800 over half (amounts, not rooms).
            assert_eq!(
                yn(&t).approval.still_needed,
                Needed {
                    area: Some(1),
                    owners: Some(1)
                }
            );
            let more = concat(&[votes(1, 5, Choice::Yes), votes(6, 8, Choice::No)]);
            assert_eq!(
                yes_no(&e, m, &more).outcome,
                Outcome::Approved,
                "{m:?}: half plus one"
            );
        }
    }

    #[test]
    fn abstentions_take_part_and_count_against() {
        let e = uniform(10, 100);
        let b = concat(&[
            votes(1, 4, Choice::Yes),
            votes(5, 5, Choice::No),
            votes(6, 8, Choice::Abstain),
        ]);
        let t = yes_no(&e, Matter::OtherMajor, &b);
        assert_eq!(t.participating.owners, 8);
        assert_eq!(
            yn(&t).abstain,
            Amount {
                area: 300,
                owners: 3
            }
        );
        assert_eq!(t.outcome, Outcome::Rejected, "4 of 8 taking part");
    }

    #[test]
    fn area_met_but_owners_not_is_rejected() {
        // One big owner in favour, three small ones against.
        let e = Electorate::freeze(&[
            room(1, 1000, &[OwnerRef::Person(1)]),
            room(2, 100, &[OwnerRef::Person(2)]),
            room(3, 100, &[OwnerRef::Person(3)]),
            room(4, 100, &[OwnerRef::Person(4)]),
        ]);
        let b = concat(&[votes(1, 1, Choice::Yes), votes(2, 4, Choice::No)]);
        let t = yes_no(&e, Matter::OtherMajor, &b);
        assert!(t.quorum.met);
        let a = yn(&t).approval;
        assert!(a.area_met && !a.owners_met && !a.met);
        assert_eq!(t.outcome, Outcome::Rejected);
        // And the other way round: owners met, area not.
        let b = concat(&[votes(1, 1, Choice::No), votes(2, 4, Choice::Yes)]);
        let a = yn(&yes_no(&e, Matter::OtherMajor, &b)).approval;
        assert!(!a.area_met && a.owners_met && !a.met);
    }

    /// The elevator retrofit of one stairway unit (加装电梯), worked by hand.
    ///
    /// Rooms 101, 102: 60.00 m² each; 201–602: 75.50 m² each (10 rooms). Total area
    /// 2 × 6000 + 10 × 7550 = 87,500 hundredths (875.00 m²). Rooms 601 and 602 have one
    /// buyer, so there are 11 owners (SPC interpretation art. 9).
    /// Quorum (2/3): area ≥ 58,334 (2 × 87,500 / 3 = 58,333.3…), owners ≥ 8 (22 / 3 = 7.3…).
    /// Room 501 does not vote: 10 owners take part with 87,500 − 7,550 = 79,950.
    /// The ground floor (101, 102) votes against: 2 owners, 12,000.
    /// In favour: 201, 202, 301, 302, 401, 402, 502 and the buyer of 601+602 — 8 owners and
    /// 9 rooms × 7,550 = 67,950.
    /// Approval (Rebuild, 3/4 of participants): owners 8 × 4 = 32 ≥ 3 × 10 = 30 ✓; area
    /// 67,950 × 4 = 271,800 ≥ 3 × 79,950 = 239,850 ✓ → approved.
    /// If 402 votes against instead: owners 7 × 4 = 28 < 30 ✗ while area 60,400 × 4 =
    /// 241,600 ≥ 239,850 ✓ → rejected on the owner count alone.
    #[test]
    fn elevator_retrofit_of_one_stairway_unit() {
        let mut rooms = vec![
            room(101, 6000, &[OwnerRef::Person(101)]),
            room(102, 6000, &[OwnerRef::Person(102)]),
        ];
        for floor in 2..=6 {
            for n in 1..=2 {
                let id = floor * 100 + n;
                let owner = if floor == 6 { 600 } else { id };
                rooms.push(room(id, 7550, &[OwnerRef::Person(owner)]));
            }
        }
        let e = Electorate::freeze(&rooms);
        assert_eq!((e.total_area, e.total_owners), (87_500, 11));
        assert_eq!(e.voter("p:600").map(|v| v.area), Some(15_100));

        let thresholds = Thresholds::for_matter(Matter::Rebuild);
        let in_favour = [
            "p:201", "p:202", "p:301", "p:302", "p:401", "p:402", "p:502", "p:600",
        ];
        let mut ballots: Vec<(String, Choice)> =
            vec![("p:101".into(), Choice::No), ("p:102".into(), Choice::No)];
        ballots.extend(in_favour.iter().map(|k| (k.to_string(), Choice::Yes)));
        let t = tally(&e, &Form::YesNo, &thresholds, &ballots);
        assert_eq!(
            t.participating,
            Amount {
                area: 79_950,
                owners: 10
            }
        );
        assert!(t.quorum.met);
        assert_eq!(
            yn(&t).yes,
            Amount {
                area: 67_950,
                owners: 8
            }
        );
        assert_eq!(t.outcome, Outcome::Approved);
        assert!(t.summary().zh.starts_with("通过"));

        let flip: Vec<(String, Choice)> = ballots
            .iter()
            .map(|(k, c)| {
                if k == "p:402" {
                    (k.clone(), Choice::No)
                } else {
                    (k.clone(), c.clone())
                }
            })
            .collect();
        let t = tally(&e, &Form::YesNo, &thresholds, &flip);
        let a = yn(&t).approval;
        assert_eq!(
            yn(&t).yes,
            Amount {
                area: 60_400,
                owners: 7
            }
        );
        assert!(a.area_met && !a.owners_met);
        assert_eq!(t.outcome, Outcome::Rejected);
        // If 501 joins in favour: 8 of 11 owners, 8 × 4 = 32 < 33 — still short; no one is left.
        assert_eq!(a.still_needed.owners, None);
        assert_eq!(a.still_needed.area, Some(0));
    }

    #[test]
    fn developer_and_multi_room_buyer_cast_one_ballot_each() {
        let mut rooms: Vec<RoomInput> = (1..=4)
            .map(|i| RoomInput {
                developer_unsold: true,
                ..room(i, 100, &[OwnerRef::Org(9)])
            })
            .collect();
        rooms.push(room(5, 100, &[OwnerRef::Person(1)]));
        rooms.push(room(6, 100, &[OwnerRef::Person(1)]));
        rooms.push(room(7, 100, &[OwnerRef::Person(2)]));
        let e = Electorate::freeze(&rooms);
        assert_eq!(e.total_owners, 3);
        let b = vec![
            ("developer".to_string(), Choice::No),
            (p(1), Choice::Yes),
            (p(2), Choice::Yes),
        ];
        let t = yes_no(&e, Matter::OtherMajor, &b);
        // Owners 2 of 3 in favour, but area 300 of 700 is not more than half.
        assert_eq!(
            yn(&t).yes,
            Amount {
                area: 300,
                owners: 2
            }
        );
        assert_eq!(t.outcome, Outcome::Rejected);
    }

    #[test]
    fn unknown_uncastable_duplicate_and_conflicting_ballots() {
        let mut rooms: Vec<RoomInput> = (1..=4)
            .map(|i| room(i, 100, &[OwnerRef::Person(i)]))
            .collect();
        rooms.push(room(5, 100, &[]));
        let e = Electorate::freeze(&rooms);
        let b = vec![
            (p(1), Choice::Yes),
            (p(1), Choice::Yes),
            (p(2), Choice::Yes),
            (p(2), Choice::No),
            (p(3), Choice::Candidates { ids: vec![1] }),
            ("p:99".to_string(), Choice::Yes),
            ("room:5".to_string(), Choice::Yes),
        ];
        let t = yes_no(&e, Matter::OtherMajor, &b);
        assert_eq!(t.participating.owners, 3);
        assert_eq!(yn(&t).yes.owners, 1);
        assert_eq!(yn(&t).invalid.owners, 2);
        let issues: Vec<(&str, Issue)> = t
            .issues
            .iter()
            .map(|i| (i.voter_key.as_str(), i.issue))
            .collect();
        assert_eq!(
            issues,
            [
                ("p:1", Issue::Duplicate),
                ("p:2", Issue::Conflicting),
                ("p:3", Issue::WrongKind),
                ("p:99", Issue::UnknownVoter),
                ("room:5", Issue::Uncastable),
            ]
        );
    }

    fn election(
        e: &Electorate,
        seats: u32,
        candidates: u32,
        ballots: &[(String, Choice)],
    ) -> (ElectionCount, Outcome) {
        let t = tally(
            e,
            &Form::Election { seats, candidates },
            &Thresholds::for_matter(Matter::OwnersCommittee),
            ballots,
        );
        match t.counts {
            Counts::Election(c) => (c, t.outcome),
            other => panic!("{other:?}"),
        }
    }

    fn cands(ids: &[u32]) -> Choice {
        Choice::Candidates { ids: ids.to_vec() }
    }

    #[test]
    fn election_elects_the_best_passing_candidates() {
        let e = uniform(10, 100);
        let b = concat(&[
            votes(1, 6, cands(&[1, 2])),
            votes(7, 7, cands(&[2, 3])),
            votes(8, 8, cands(&[3])),
            votes(9, 9, cands(&[])),
        ]);
        let (c, outcome) = election(&e, 2, 3, &b);
        assert_eq!(outcome, Outcome::Elected);
        assert_eq!(c.ranking, [2, 1, 3]);
        assert_eq!(c.elected, [2, 1]);
        assert!(c.tied.is_empty());
        assert_eq!(c.candidates[1].support.owners, 7);
        assert!(
            !c.candidates[2].approval.met,
            "2 of 9 is not more than half"
        );
        assert_eq!(c.blank.owners, 1);
        assert_eq!(c.unfilled_seats, 0);
        assert_eq!(
            c.candidates.iter().map(|x| x.rank).collect::<Vec<_>>(),
            [2, 1, 3]
        );
    }

    #[test]
    fn election_tie_at_the_last_seat_leaves_it_undecided() {
        let e = uniform(10, 100);
        // Candidates 1, 2, 3 each get 6 of 10; 2 seats.
        let b = concat(&[
            votes(1, 2, cands(&[1, 2])),
            votes(3, 4, cands(&[2, 3])),
            votes(5, 6, cands(&[1, 3])),
            votes(7, 8, cands(&[1, 2])),
            votes(9, 10, cands(&[3])),
        ]);
        let (c, outcome) = election(&e, 2, 3, &b);
        // 1: 6, 2: 6, 3: 6.
        assert_eq!(outcome, Outcome::Tied);
        assert!(c.elected.is_empty());
        assert_eq!(c.tied, [1, 2, 3]);
        assert_eq!(c.undecided_seats, 2);
        assert_eq!(
            c.candidates.iter().map(|x| x.rank).collect::<Vec<_>>(),
            [1, 1, 1]
        );
    }

    #[test]
    fn election_tie_below_a_sure_seat() {
        let e = uniform(10, 100);
        let b = concat(&[
            votes(1, 3, cands(&[1, 2])),
            votes(4, 6, cands(&[1, 3])),
            votes(7, 8, cands(&[2, 3])),
            votes(9, 9, cands(&[1])),
            votes(10, 10, cands(&[2, 3])),
        ]);
        // 1: 7, 2: 6, 3: 6 of 10 — all more than half.
        let (c, outcome) = election(&e, 2, 3, &b);
        assert_eq!(outcome, Outcome::Tied);
        assert_eq!(c.elected, [1]);
        assert_eq!(c.tied, [2, 3]);
        assert_eq!((c.undecided_seats, c.unfilled_seats), (1, 0));
        assert!(Tally::summary(&tally(
            &e,
            &Form::Election {
                seats: 2,
                candidates: 3
            },
            &Thresholds::for_matter(Matter::OwnersCommittee),
            &b
        ))
        .en
        .contains("undecided"));
        // With 3 seats everyone fits: no tie matters.
        let (c, outcome) = election(&e, 3, 3, &b);
        assert_eq!((c.elected, outcome), (vec![1, 2, 3], Outcome::Elected));
    }

    #[test]
    fn election_leaves_seats_unfilled_when_too_few_pass() {
        let e = uniform(10, 100);
        let b = concat(&[votes(1, 6, cands(&[1])), votes(7, 10, cands(&[2]))]);
        let (c, outcome) = election(&e, 2, 3, &b);
        assert_eq!(outcome, Outcome::Elected);
        assert_eq!(c.elected, [1]);
        assert_eq!((c.undecided_seats, c.unfilled_seats), (0, 1));
        // Without the quorum nobody is elected, whatever the support.
        let (c, outcome) = election(&e, 2, 3, &votes(1, 6, cands(&[1])));
        assert_eq!(outcome, Outcome::NoQuorum);
        assert!(c.elected.is_empty());
    }

    #[test]
    fn invalid_election_ballots_take_part_and_support_nobody() {
        let e = uniform(6, 100);
        let b = vec![
            (p(1), cands(&[1, 2, 3])),
            (p(2), cands(&[4])),
            (p(3), cands(&[0])),
            (p(4), cands(&[1, 1])),
            (p(5), Choice::Yes),
            (p(6), cands(&[1])),
        ];
        let t = tally(
            &e,
            &Form::Election {
                seats: 2,
                candidates: 3,
            },
            &Thresholds::for_matter(Matter::OwnersCommittee),
            &b,
        );
        assert_eq!(t.participating.owners, 6);
        let issues: Vec<Issue> = t.issues.iter().map(|i| i.issue).collect();
        assert_eq!(
            issues,
            [
                Issue::TooManyCandidates,
                Issue::UnknownCandidate,
                Issue::UnknownCandidate,
                Issue::RepeatedCandidate,
                Issue::WrongKind
            ]
        );
        let Counts::Election(c) = &t.counts else {
            panic!()
        };
        assert_eq!(c.invalid.owners, 5);
        assert_eq!(c.candidates[0].support.owners, 1);
        assert_eq!(t.outcome, Outcome::NoWinner);
    }

    fn options(
        e: &Electorate,
        count: u32,
        th: &Thresholds,
        b: &[(String, Choice)],
    ) -> (OptionsCount, Outcome) {
        let t = tally(e, &Form::Options { count }, th, b);
        match t.counts {
            Counts::Options(c) => (c, t.outcome),
            other => panic!("{other:?}"),
        }
    }

    fn opt(id: Option<u32>) -> Choice {
        Choice::Option { id }
    }

    #[test]
    fn options_need_a_single_passing_option() {
        let e = uniform(10, 100);
        let th = Thresholds::for_matter(Matter::PropertyCompany);
        let b = concat(&[
            votes(1, 6, opt(Some(1))),
            votes(7, 8, opt(Some(2))),
            votes(9, 9, opt(None)),
        ]);
        let (c, outcome) = options(&e, 3, &th, &b);
        assert_eq!((c.winner, outcome), (Some(1), Outcome::Chosen));
        assert_eq!(c.abstain.owners, 1);
        let b = concat(&[votes(1, 4, opt(Some(1))), votes(5, 8, opt(Some(2)))]);
        let (c, outcome) = options(&e, 3, &th, &b);
        assert_eq!((c.winner, outcome), (None, Outcome::NoWinner));
        let b = concat(&[votes(1, 7, opt(Some(4)))]);
        let (c, _) = options(&e, 3, &th, &b);
        assert_eq!(c.invalid.owners, 7);
    }

    #[test]
    fn options_under_low_thresholds_pick_the_best_or_nobody_on_a_tie() {
        let e = uniform(10, 100);
        let low = Thresholds {
            approve_area: Bound::AtLeast(Fraction::new(1, 3)),
            approve_owners: Bound::AtLeast(Fraction::new(1, 3)),
            ..Thresholds::for_matter(Matter::OtherMajor)
        };
        let b = concat(&[votes(1, 5, opt(Some(1))), votes(6, 9, opt(Some(2)))]);
        let (c, outcome) = options(&e, 2, &low, &b);
        assert!(c.options.iter().all(|o| o.approval.met));
        assert_eq!((c.winner, outcome), (Some(1), Outcome::Chosen));
        let b = concat(&[votes(1, 4, opt(Some(1))), votes(5, 8, opt(Some(2)))]);
        let (c, outcome) = options(&e, 2, &low, &b);
        assert_eq!(
            (c.winner, outcome, c.tied.clone()),
            (None, Outcome::NoWinner, vec![1, 2])
        );
    }

    #[test]
    fn form_validation() {
        assert_eq!(Form::YesNo.validate(), Ok(()));
        assert_eq!(
            Form::Election {
                seats: 5,
                candidates: 7
            }
            .validate(),
            Ok(())
        );
        assert!(Form::Election {
            seats: 0,
            candidates: 7
        }
        .validate()
        .is_err());
        assert!(Form::Election {
            seats: 8,
            candidates: 7
        }
        .validate()
        .is_err());
        assert!(Form::Options { count: 1 }.validate().is_err());
        assert!(Form::Options {
            count: MAX_CHOICES + 1
        }
        .validate()
        .is_err());
        let json = serde_json::to_string(&Form::Election {
            seats: 5,
            candidates: 7,
        })
        .unwrap();
        assert_eq!(json, r#"{"kind":"election","seats":5,"candidates":7}"#);
    }

    #[test]
    fn an_empty_electorate_decides_nothing() {
        let e = Electorate::freeze(&[]);
        let t = yes_no(&e, Matter::OtherMajor, &[]);
        assert_eq!(t.outcome, Outcome::NoQuorum);
        assert_eq!(
            t.quorum.still_needed,
            Needed {
                area: None,
                owners: None
            }
        );
    }

    #[test]
    fn tally_round_trips_through_json() {
        let e = uniform(4, 100);
        let t = yes_no(&e, Matter::OtherMajor, &votes(1, 3, Choice::Yes));
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(serde_json::from_str::<Tally>(&json).unwrap(), t);
    }

    #[test]
    fn a_hundred_thousand_voters_are_counted_quickly() {
        let n = 100_000i64;
        let e = uniform(n, 8_000);
        let ballots: Vec<(String, Choice)> = (1..=n * 3 / 4)
            .map(|i| (p(i), if i % 3 == 0 { Choice::No } else { Choice::Yes }))
            .collect();
        let th = Thresholds::for_matter(Matter::OtherMajor);
        let start = std::time::Instant::now();
        let t = tally(&e, &Form::YesNo, &th, &ballots);
        let took = start.elapsed();
        assert_eq!(t.participating.owners, 75_000);
        assert_eq!(t.outcome, Outcome::Approved);
        // The budget is for release builds; debug builds only report.
        if !cfg!(debug_assertions) {
            assert!(took.as_millis() < 50, "took {took:?}");
        }
    }

    // ---- properties ----

    /// a/b against c/d by continued fractions (no products), as an independent oracle.
    fn cmp_fraction(mut a: u64, mut b: u64, mut c: u64, mut d: u64) -> Ordering {
        loop {
            let (qa, ra, qc, rc) = (a / b, a % b, c / d, c % d);
            if qa != qc {
                return qa.cmp(&qc);
            }
            match (ra == 0, rc == 0) {
                (true, true) => return Ordering::Equal,
                (true, false) => return Ordering::Less,
                (false, true) => return Ordering::Greater,
                (false, false) => {}
            }
            // ra/b vs rc/d is d/rc vs b/ra.
            (a, b, c, d) = (d, rc, b, ra);
        }
    }

    fn oracle_met(bound: &Bound, part: u64, whole: u64) -> bool {
        if whole == 0 {
            return false;
        }
        let f = bound.fraction();
        let o = cmp_fraction(part, whole, f.num, f.den);
        match bound {
            Bound::AtLeast(_) => o != Ordering::Less,
            Bound::MoreThan(_) => o == Ordering::Greater,
        }
    }

    fn electorate() -> impl Strategy<Value = Electorate> {
        let one = (1i64..50_000, 0i64..12, proptest::bool::weighted(0.1));
        proptest::collection::vec(one, 1..40).prop_map(|rs| {
            let rooms: Vec<RoomInput> = rs
                .into_iter()
                .enumerate()
                .map(|(i, (area, owner, dev))| RoomInput {
                    developer_unsold: dev,
                    ..room(i as i64, area, &[OwnerRef::Person(owner)])
                })
                .collect();
            Electorate::freeze(&rooms)
        })
    }

    fn choice() -> impl Strategy<Value = Choice> {
        prop_oneof![Just(Choice::Yes), Just(Choice::No), Just(Choice::Abstain)]
    }

    fn thresholds() -> impl Strategy<Value = Thresholds> {
        let bound = (1u64..10, 1u64..10, any::<bool>()).prop_map(|(a, b, strict)| {
            let f = Fraction::new(a.min(b), a.max(b));
            if strict && f.num < f.den {
                Bound::MoreThan(f)
            } else {
                Bound::AtLeast(f)
            }
        });
        (bound.clone(), bound.clone(), bound.clone(), bound).prop_map(|(a, b, c, d)| Thresholds {
            quorum_area: a,
            quorum_owners: b,
            approve_area: c,
            approve_owners: d,
        })
    }

    /// An electorate and ballots from a random subset of its voters.
    fn case() -> impl Strategy<Value = (Electorate, Vec<(String, Choice)>, Thresholds)> {
        (electorate(), thresholds()).prop_flat_map(|(e, th)| {
            let n = e.voters.len();
            let keys: Vec<String> = e.voters.iter().map(|v| v.key.clone()).collect();
            (
                Just(e),
                proptest::collection::vec((any::<bool>(), choice()), n).prop_map(move |picks| {
                    keys.iter()
                        .zip(picks)
                        .filter(|(_, (take, _))| *take)
                        .map(|(k, (_, c))| (k.clone(), c))
                        .collect::<Vec<_>>()
                }),
                Just(th),
            )
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn tally_does_not_depend_on_ballot_order(
            (e, b, th) in case(), extra in proptest::collection::vec((0usize..40, choice()), 0..5),
            seed in any::<u64>()
        ) {
            // Add some duplicates and conflicts too.
            let mut b = b;
            for (i, c) in extra {
                if let Some(v) = e.voters.get(i) {
                    b.push((v.key.clone(), c));
                }
            }
            let mut shuffled = b.clone();
            let len = shuffled.len().max(1);
            shuffled.rotate_left((seed as usize) % len);
            shuffled.reverse();
            prop_assert_eq!(tally(&e, &Form::YesNo, &th, &b), tally(&e, &Form::YesNo, &th, &shuffled));
        }

        #[test]
        fn shuffled_ballots_give_the_same_election(
            (e, b, th) in case(), perm in Just(()).prop_perturb(|_, mut rng| rng.next_u64())
        ) {
            let b: Vec<(String, Choice)> = b.into_iter().enumerate().map(|(i, (k, _))| {
                (k, cands(&[(i % 3) as u32 + 1, ((i + 1) % 3) as u32 + 1]))
            }).collect();
            let mut other = b.clone();
            let len = other.len().max(1);
            other.rotate_left((perm as usize) % len);
            let form = Form::Election { seats: 2, candidates: 3 };
            prop_assert_eq!(tally(&e, &form, &th, &b), tally(&e, &form, &th, &other));
        }

        #[test]
        fn an_abstention_never_reduces_participation((e, b, th) in case(), who in 0usize..40) {
            let before = tally(&e, &Form::YesNo, &th, &b);
            let Some(v) = e.voters.get(who) else { return Ok(()); };
            let mut more = b.clone();
            more.push((v.key.clone(), Choice::Abstain));
            let after = tally(&e, &Form::YesNo, &th, &more);
            prop_assert!(after.participating.owners >= before.participating.owners);
            prop_assert!(after.participating.area >= before.participating.area);
            prop_assert!(!after.quorum.met || before.quorum.met || after.participating.owners > before.participating.owners);
        }

        #[test]
        fn approved_implies_quorum((e, b, th) in case()) {
            let t = tally(&e, &Form::YesNo, &th, &b);
            if matches!(t.outcome, Outcome::Approved | Outcome::Rejected) {
                prop_assert!(t.quorum.met);
            } else {
                prop_assert!(!t.quorum.met);
            }
        }

        #[test]
        fn integer_comparisons_agree_with_the_rational_oracle((e, b, th) in case()) {
            let t = tally(&e, &Form::YesNo, &th, &b);
            // Sums recomputed independently.
            let mut part = Amount::default();
            let mut yes = Amount::default();
            for (k, c) in &b {
                let v = e.voter(k).unwrap();
                part.area += v.area;
                part.owners += 1;
                if *c == Choice::Yes {
                    yes.area += v.area;
                    yes.owners += 1;
                }
            }
            prop_assert_eq!(t.participating, part);
            prop_assert_eq!(t.quorum.area_met, oracle_met(&th.quorum_area, part.area, e.total_area));
            prop_assert_eq!(t.quorum.owners_met, oracle_met(&th.quorum_owners, part.owners, e.total_owners));
            let a = yn(&t).approval;
            prop_assert_eq!(a.area_met, oracle_met(&th.approve_area, yes.area, part.area));
            prop_assert_eq!(a.owners_met, oracle_met(&th.approve_owners, yes.owners, part.owners));
            // The still-needed amounts are the smallest that meet the bound.
            if let Some(k) = t.quorum.still_needed.owners {
                prop_assert!(oracle_met(&th.quorum_owners, part.owners + k, e.total_owners));
                prop_assert!(k == 0 || !oracle_met(&th.quorum_owners, part.owners + k - 1, e.total_owners));
            }
            if let Some(k) = a.still_needed.area {
                prop_assert!(oracle_met(&th.approve_area, yes.area + k, part.area + k));
                prop_assert!(k == 0 || !oracle_met(&th.approve_area, yes.area + k - 1, part.area + k - 1));
            }
        }

        #[test]
        fn the_oracle_agrees_with_cross_multiplication(a in 0u64..1000, b in 1u64..1000, c in 0u64..1000, d in 1u64..1000) {
            prop_assert_eq!(cmp_fraction(a, b, c, d), (a * d).cmp(&(c * b)));
        }
    }
}
