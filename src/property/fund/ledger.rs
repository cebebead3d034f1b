//! The fund's ledger rules: what a posting is, when one is refused, and the balances the
//! postings add up to. Pure: no clock, no storage; integers only.
//!
//! A fund is one building's account (楼幢账), split into one account per room (分户账). A
//! posting is one journal entry: a kind, a signed amount in fen (its effect on the building's
//! balance), and one line per room it touches (each line's signed effect on that room). The
//! building's balance is the sum of its rooms' balances, which are the sums of their lines.
//!
//! Rules (each refusal says why, in both languages):
//! - the lines add up to the posting's amount (else "unbalanced"); one line per room, no zero
//!   lines, only rooms of this fund;
//! - first deposits, deposits, interest and top-ups only add (every line > 0); a room has one
//!   first deposit (unless it was reversed);
//! - a withdrawal only takes (every line < 0), names its authority (an owners' vote or a
//!   recorded emergency approval) and its cost review, and never takes a room below zero
//!   (the refusal lists the rooms that fall short);
//! - entries are never edited or deleted: a mistake is undone by a reversal, which names the
//!   posting it undoes and a reason, has exactly the negated lines, and may undo a posting
//!   only once; a reversal is not itself reversed (post the right entry again instead). A
//!   reversal may not take a room below zero either.
//! - low balance: a fund (or room) whose balance is below 30 % of its first deposit must be
//!   topped up (`balance × 10 < first × 3`, strictly below).

use serde::{Deserialize, Serialize};

use crate::i18n::Text;

/// What a posting records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// The first deposit (首期归集): area × rate, once per room.
    FirstDeposit,
    /// A further deposit (续筹) by the owners.
    Deposit,
    /// Interest credited (利息).
    Interest,
    /// A top-up from public income (公共收益补充).
    TopUp,
    /// A use for a repair (使用), against an owners' vote or an emergency approval.
    Withdrawal,
    /// The reversal (冲正) of one earlier posting.
    Reversal,
}

impl Kind {
    pub const ALL: [Kind; 6] = [
        Kind::FirstDeposit,
        Kind::Deposit,
        Kind::Interest,
        Kind::TopUp,
        Kind::Withdrawal,
        Kind::Reversal,
    ];

    /// The stable code (JSON, SQL, the canonical encoding).
    pub fn code(self) -> &'static str {
        match self {
            Kind::FirstDeposit => "first_deposit",
            Kind::Deposit => "deposit",
            Kind::Interest => "interest",
            Kind::TopUp => "top_up",
            Kind::Withdrawal => "withdrawal",
            Kind::Reversal => "reversal",
        }
    }

    pub fn from_code(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.code() == s)
    }

    pub fn label(self) -> Text {
        match self {
            Kind::FirstDeposit => Text::new("首期归集", "first deposit"),
            Kind::Deposit => Text::new("续筹", "deposit"),
            Kind::Interest => Text::new("利息", "interest"),
            Kind::TopUp => Text::new("公共收益补充", "top-up from public income"),
            Kind::Withdrawal => Text::new("维修使用", "withdrawal for a repair"),
            Kind::Reversal => Text::new("冲正", "reversal"),
        }
    }

    /// Whether this kind adds money (every line positive).
    pub fn adds(self) -> bool {
        matches!(
            self,
            Kind::FirstDeposit | Kind::Deposit | Kind::Interest | Kind::TopUp
        )
    }
}

/// The authority for a withdrawal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Reference {
    /// An owners' vote on matter 5 (using the maintenance fund), approved.
    Vote(i64),
    /// An emergency repair approval recorded by staff (used within its 7 days).
    Emergency(i64),
}

/// One room's share of a posting, in fen (signed: its effect on the room's balance).
/// Serialised as `[room_id, amount]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "(i64, i64)", into = "(i64, i64)")]
pub struct Line {
    pub room_id: i64,
    pub amount: i64,
}

impl From<(i64, i64)> for Line {
    fn from((room_id, amount): (i64, i64)) -> Line {
        Line { room_id, amount }
    }
}

impl From<Line> for (i64, i64) {
    fn from(l: Line) -> (i64, i64) {
        (l.room_id, l.amount)
    }
}

/// What the rules look at in a posting.
#[derive(Clone, Copy, Debug)]
pub struct Entry<'a> {
    pub kind: Kind,
    pub amount: i64,
    pub reference: Option<Reference>,
    pub reverses: Option<u64>,
    pub cost_review: &'a str,
    pub memo: &'a str,
    pub lines: &'a [Line],
}

/// The posting a reversal undoes, as the rules need it.
#[derive(Clone, Copy, Debug)]
pub struct Undone<'a> {
    pub seq: u64,
    pub kind: Kind,
    pub amount: i64,
    pub lines: &'a [Line],
    /// Whether a reversal of it exists already.
    pub already_reversed: bool,
}

/// Why a posting is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// A stable code (`unbalanced`, `short`, …).
    pub code: &'static str,
    pub text: Text,
}

fn refuse(code: &'static str, zh: String, en: String) -> Refusal {
    Refusal {
        code,
        text: Text::owned(zh, en),
    }
}

/// `123456` → `1234.56` (yuan, as owners read it).
pub fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let a = fen.unsigned_abs();
    format!("{sign}{}.{:02}", a / 100, a % 100)
}

/// Whether `balance` is below 30 % of `first` (strictly; none when there was no first deposit).
pub fn low_balance(balance: i64, first: i64) -> bool {
    first > 0 && i128::from(balance) * 10 < i128::from(first) * 3
}

/// The fen needed to bring `balance` back to 30 % of `first` (rounded up), 0 when not low.
pub fn top_up_needed(balance: i64, first: i64) -> i64 {
    if !low_balance(balance, first) {
        return 0;
    }
    let target = (i128::from(first) * 3 + 9) / 10;
    i64::try_from(target - i128::from(balance)).unwrap_or(i64::MAX)
}

/// The room accounts of one fund: balances and first deposits, by room id (kept sorted, so a
/// look-up is a binary search and nothing is allocated per posting).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Accounts {
    room_ids: Vec<i64>,
    balance: Vec<i64>,
    first: Vec<i64>,
}

impl Accounts {
    /// Empty accounts (balance 0) for these rooms; duplicates are kept once.
    pub fn new(mut room_ids: Vec<i64>) -> Accounts {
        room_ids.sort_unstable();
        room_ids.dedup();
        let n = room_ids.len();
        Accounts {
            room_ids,
            balance: vec![0; n],
            first: vec![0; n],
        }
    }

    /// Accounts with known balances: `(room id, balance, first deposit)`.
    pub fn with_balances(rows: &[(i64, i64, i64)]) -> Accounts {
        let mut a = Accounts::new(rows.iter().map(|r| r.0).collect());
        for &(room, b, f) in rows {
            if let Some(i) = a.index(room) {
                a.balance[i] = b;
                a.first[i] = f;
            }
        }
        a
    }

    fn index(&self, room_id: i64) -> Option<usize> {
        self.room_ids.binary_search(&room_id).ok()
    }

    pub fn room_ids(&self) -> &[i64] {
        &self.room_ids
    }

    /// A room's balance (None for a room not in this fund).
    pub fn balance(&self, room_id: i64) -> Option<i64> {
        self.index(room_id).map(|i| self.balance[i])
    }

    /// A room's first deposit.
    pub fn first_deposit(&self, room_id: i64) -> Option<i64> {
        self.index(room_id).map(|i| self.first[i])
    }

    /// The fund's balance: the sum of its rooms'.
    pub fn total(&self) -> i64 {
        self.balance.iter().sum()
    }

    /// The sum of the rooms' first deposits.
    pub fn first_total(&self) -> i64 {
        self.first.iter().sum()
    }

    /// `(room id, balance, first deposit)` in room order.
    pub fn rows(&self) -> impl Iterator<Item = (i64, i64, i64)> + '_ {
        (0..self.room_ids.len()).map(|i| (self.room_ids[i], self.balance[i], self.first[i]))
    }

    /// The rooms below 30 % of their first deposit.
    pub fn low_rooms(&self) -> Vec<i64> {
        self.rows()
            .filter(|&(_, b, f)| low_balance(b, f))
            .map(|r| r.0)
            .collect()
    }

    /// Checks a posting against the rules and these balances (see the module doc).
    /// `undone` is the posting a reversal names (None if it names none or it does not exist).
    pub fn check(&self, e: &Entry<'_>, undone: Option<&Undone<'_>>) -> Result<(), Refusal> {
        check_shape(e)?;
        let mut sum: i128 = 0;
        for (n, l) in e.lines.iter().enumerate() {
            if self.index(l.room_id).is_none() {
                return Err(refuse(
                    "unknown_room",
                    format!("房屋 {} 不属于本账户", l.room_id),
                    format!("room {} has no account in this fund", l.room_id),
                ));
            }
            if l.amount == 0 {
                return Err(refuse(
                    "zero_line",
                    format!("房屋 {} 的金额为零", l.room_id),
                    format!("the line of room {} is zero", l.room_id),
                ));
            }
            // Lines are few per posting in practice, but a withdrawal may carry 10,000: check
            // duplicates against the lines before only while that stays cheap.
            if n < 64 && e.lines[..n].iter().any(|o| o.room_id == l.room_id) {
                return Err(dup(l.room_id));
            }
            sum += i128::from(l.amount);
        }
        if e.lines.len() >= 64 {
            let mut ids: Vec<i64> = e.lines.iter().map(|l| l.room_id).collect();
            ids.sort_unstable();
            if let Some(w) = ids.windows(2).find(|w| w[0] == w[1]) {
                return Err(dup(w[0]));
            }
        }
        if sum != i128::from(e.amount) {
            return Err(refuse(
                "unbalanced",
                format!(
                    "分录不平衡:各户合计 {} 元,分录金额 {} 元",
                    yuan_wide(sum),
                    yuan(e.amount)
                ),
                format!(
                    "unbalanced: the lines add up to {} yuan, the entry says {} yuan",
                    yuan_wide(sum),
                    yuan(e.amount)
                ),
            ));
        }
        for l in e.lines {
            let ok = if e.kind.adds() {
                l.amount > 0
            } else if e.kind == Kind::Withdrawal {
                l.amount < 0
            } else {
                true
            };
            if !ok {
                return Err(refuse(
                    "wrong_sign",
                    format!(
                        "{}的每一户金额方向不对(房屋 {})",
                        e.kind.label().zh,
                        l.room_id
                    ),
                    format!(
                        "a {} line has the wrong sign (room {})",
                        e.kind.label().en,
                        l.room_id
                    ),
                ));
            }
        }
        if e.kind == Kind::FirstDeposit {
            if let Some(l) = e
                .lines
                .iter()
                .find(|l| self.first_deposit(l.room_id).unwrap_or(0) != 0)
            {
                return Err(refuse(
                    "first_deposit_exists",
                    format!("房屋 {} 已有首期归集", l.room_id),
                    format!("room {} already has its first deposit", l.room_id),
                ));
            }
        }
        if e.kind == Kind::Reversal {
            check_reversal(e, undone)?;
        }
        self.check_cover(e.lines)
    }

    /// No room goes below zero.
    fn check_cover(&self, lines: &[Line]) -> Result<(), Refusal> {
        let mut short = Vec::new();
        for l in lines.iter().filter(|l| l.amount < 0) {
            let b = self.balance(l.room_id).unwrap_or(0);
            if i128::from(b) + i128::from(l.amount) < 0 {
                short.push((l.room_id, b, -l.amount));
            }
        }
        if short.is_empty() {
            return Ok(());
        }
        let n = short.len();
        let shown: Vec<&(i64, i64, i64)> = short.iter().take(10).collect();
        let zh: Vec<String> = shown
            .iter()
            .map(|(r, b, need)| format!("房屋 {r} 余额 {} 元,需 {} 元", yuan(*b), yuan(*need)))
            .collect();
        let en: Vec<String> = shown
            .iter()
            .map(|(r, b, need)| format!("room {r} has {}, needs {}", yuan(*b), yuan(*need)))
            .collect();
        let more = |zh: bool| {
            if n > 10 {
                if zh {
                    format!(" 等 {n} 户")
                } else {
                    format!(" and more ({n} rooms)")
                }
            } else {
                String::new()
            }
        };
        Err(refuse(
            "short",
            format!("余额不足:{}{}", zh.join(";"), more(true)),
            format!("not enough in the fund: {}{}", en.join("; "), more(false)),
        ))
    }

    /// Applies a posting already checked. `undone_kind` is the kind of the posting a reversal
    /// undoes (so reversing a first deposit lowers the first-deposit figure too).
    pub fn apply(&mut self, e: &Entry<'_>, undone_kind: Option<Kind>) {
        let touches_first = e.kind == Kind::FirstDeposit
            || (e.kind == Kind::Reversal && undone_kind == Some(Kind::FirstDeposit));
        for l in e.lines {
            if let Some(i) = self.index(l.room_id) {
                self.balance[i] += l.amount;
                if touches_first {
                    self.first[i] += l.amount;
                }
            }
        }
    }
}

fn dup(room: i64) -> Refusal {
    refuse(
        "duplicate_room",
        format!("房屋 {room} 在同一分录中出现两次"),
        format!("room {room} appears twice in one entry"),
    )
}

fn yuan_wide(v: i128) -> String {
    i64::try_from(v).map_or_else(|_| v.to_string(), yuan)
}

/// What can be said of a posting without balances.
fn check_shape(e: &Entry<'_>) -> Result<(), Refusal> {
    if e.lines.is_empty() {
        return Err(refuse(
            "no_lines",
            "分录没有分户金额".into(),
            "the entry has no room lines".into(),
        ));
    }
    match e.kind {
        Kind::Withdrawal => {
            if e.reference.is_none() {
                return Err(refuse(
                    "unauthorised",
                    "使用维修资金须有业主大会表决通过的决定或已登记的应急维修审批".into(),
                    "a withdrawal needs an approved owners' vote or a recorded emergency approval"
                        .into(),
                ));
            }
            if e.cost_review.trim().is_empty() {
                return Err(refuse(
                    "no_cost_review",
                    "使用维修资金须有费用审核(审价)记录".into(),
                    "a withdrawal needs its cost review".into(),
                ));
            }
        }
        _ if e.reference.is_some() => {
            return Err(refuse(
                "reference_not_allowed",
                "只有维修使用分录引用表决或应急审批".into(),
                "only a withdrawal names a vote or an emergency approval".into(),
            ));
        }
        _ => {}
    }
    match (e.kind, e.reverses) {
        (Kind::Reversal, None) => Err(refuse(
            "reversal_target",
            "冲正须指明被冲正的分录".into(),
            "a reversal names the entry it reverses".into(),
        )),
        (Kind::Reversal, Some(_)) if e.memo.trim().is_empty() => Err(refuse(
            "no_reason",
            "冲正须写明原因".into(),
            "a reversal needs a reason".into(),
        )),
        (k, Some(_)) if k != Kind::Reversal => Err(refuse(
            "reversal_target",
            "只有冲正分录指向被冲正的分录".into(),
            "only a reversal names an entry to reverse".into(),
        )),
        _ => Ok(()),
    }
}

fn check_reversal(e: &Entry<'_>, undone: Option<&Undone<'_>>) -> Result<(), Refusal> {
    let want = e.reverses.unwrap_or(0);
    let Some(u) = undone.filter(|u| u.seq == want) else {
        return Err(refuse(
            "reversal_target",
            format!("被冲正的分录 {want} 不存在"),
            format!("entry {want} to reverse does not exist"),
        ));
    };
    if u.kind == Kind::Reversal {
        return Err(refuse(
            "reversal_of_reversal",
            format!("分录 {want} 本身是冲正,不能再冲正;请重新登记正确的分录"),
            format!("entry {want} is itself a reversal; post the right entry instead"),
        ));
    }
    if u.already_reversed {
        return Err(refuse(
            "already_reversed",
            format!("分录 {want} 已被冲正过"),
            format!("entry {want} has already been reversed"),
        ));
    }
    let mirrors = u.amount.checked_neg() == Some(e.amount)
        && u.lines.len() == e.lines.len()
        && u.lines
            .iter()
            .zip(e.lines)
            .all(|(a, b)| a.room_id == b.room_id && a.amount.checked_neg() == Some(b.amount));
    if !mirrors {
        return Err(refuse(
            "reversal_mismatch",
            format!("冲正的分户金额须与分录 {want} 完全相反"),
            format!("a reversal has exactly the negated lines of entry {want}"),
        ));
    }
    Ok(())
}

/// The lines a reversal of `lines` carries.
pub fn negated(lines: &[Line]) -> Vec<Line> {
    lines
        .iter()
        .map(|l| Line {
            room_id: l.room_id,
            amount: -l.amount,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn lines(v: &[(i64, i64)]) -> Vec<Line> {
        v.iter().map(|&p| Line::from(p)).collect()
    }

    fn entry<'a>(kind: Kind, amount: i64, l: &'a [Line]) -> Entry<'a> {
        Entry {
            kind,
            amount,
            reference: None,
            reverses: None,
            cost_review: "",
            memo: "",
            lines: l,
        }
    }

    fn funded() -> Accounts {
        let mut a = Accounts::new(vec![1, 2, 3]);
        let l = lines(&[(1, 10_000), (2, 20_000), (3, 30_000)]);
        let e = entry(Kind::FirstDeposit, 60_000, &l);
        assert_eq!(a.check(&e, None), Ok(()));
        a.apply(&e, None);
        a
    }

    #[test]
    fn balances_are_the_sums_of_lines() {
        let a = funded();
        assert_eq!(a.total(), 60_000);
        assert_eq!(a.first_total(), 60_000);
        assert_eq!(a.balance(2), Some(20_000));
        assert_eq!(a.balance(9), None);
    }

    #[test]
    fn an_unbalanced_entry_is_refused_with_both_sums() {
        let a = funded();
        let l = lines(&[(1, 100), (2, 200)]);
        let r = a.check(&entry(Kind::Deposit, 301, &l), None).err();
        let r = r.unwrap_or_else(|| panic!("accepted"));
        assert_eq!(r.code, "unbalanced");
        assert!(
            r.text.en.contains("3.00") && r.text.en.contains("3.01"),
            "{}",
            r.text.en
        );
    }

    #[test]
    fn a_withdrawal_without_authority_or_review_is_refused() {
        let a = funded();
        let l = lines(&[(1, -100)]);
        let mut e = entry(Kind::Withdrawal, -100, &l);
        assert_eq!(a.check(&e, None).map_err(|r| r.code), Err("unauthorised"));
        e.reference = Some(Reference::Vote(7));
        assert_eq!(a.check(&e, None).map_err(|r| r.code), Err("no_cost_review"));
        e.cost_review = "审价报告 2026-031";
        assert_eq!(a.check(&e, None), Ok(()));
        let d = lines(&[(1, 100)]);
        let mut dep = entry(Kind::Deposit, 100, &d);
        dep.reference = Some(Reference::Emergency(1));
        assert_eq!(
            a.check(&dep, None).map_err(|r| r.code),
            Err("reference_not_allowed")
        );
    }

    #[test]
    fn a_withdrawal_names_every_room_that_falls_short() {
        let a = funded();
        let l = lines(&[(1, -10_001), (2, -5), (3, -30_001)]);
        let mut e = entry(Kind::Withdrawal, -40_007, &l);
        e.reference = Some(Reference::Vote(7));
        e.cost_review = "review";
        let r = a
            .check(&e, None)
            .err()
            .unwrap_or_else(|| panic!("accepted"));
        assert_eq!(r.code, "short");
        assert!(
            r.text.en.contains("room 1 has 100.00, needs 100.01"),
            "{}",
            r.text.en
        );
        assert!(
            r.text.en.contains("room 3 has 300.00, needs 300.01"),
            "{}",
            r.text.en
        );
        assert!(!r.text.en.contains("room 2"), "{}", r.text.en);
        assert!(r.text.zh.contains("房屋 1 余额 100.00 元"), "{}", r.text.zh);
    }

    #[test]
    fn signs_rooms_and_duplicates_are_checked() {
        let a = funded();
        let neg = lines(&[(1, -1)]);
        assert_eq!(
            a.check(&entry(Kind::Interest, -1, &neg), None)
                .map_err(|r| r.code),
            Err("wrong_sign")
        );
        let unknown = lines(&[(9, 1)]);
        assert_eq!(
            a.check(&entry(Kind::Deposit, 1, &unknown), None)
                .map_err(|r| r.code),
            Err("unknown_room")
        );
        let twice = lines(&[(1, 1), (1, 1)]);
        assert_eq!(
            a.check(&entry(Kind::Deposit, 2, &twice), None)
                .map_err(|r| r.code),
            Err("duplicate_room")
        );
        let zero = lines(&[(1, 0)]);
        assert_eq!(
            a.check(&entry(Kind::Deposit, 0, &zero), None)
                .map_err(|r| r.code),
            Err("zero_line")
        );
        assert_eq!(
            a.check(&entry(Kind::Deposit, 0, &[]), None)
                .map_err(|r| r.code),
            Err("no_lines")
        );
        let again = lines(&[(1, 5)]);
        assert_eq!(
            a.check(&entry(Kind::FirstDeposit, 5, &again), None)
                .map_err(|r| r.code),
            Err("first_deposit_exists")
        );
    }

    #[test]
    fn a_reversal_negates_exactly_one_posting_once() {
        let mut a = funded();
        let orig = lines(&[(1, 10_000), (2, 20_000), (3, 30_000)]);
        let back = negated(&orig);
        let mut e = entry(Kind::Reversal, -60_000, &back);
        e.reverses = Some(1);
        assert_eq!(a.check(&e, None).map_err(|r| r.code), Err("no_reason"));
        e.memo = "面积录错";
        let u = Undone {
            seq: 1,
            kind: Kind::FirstDeposit,
            amount: 60_000,
            lines: &orig,
            already_reversed: false,
        };
        assert_eq!(
            a.check(&e, None).map_err(|r| r.code),
            Err("reversal_target")
        );
        assert_eq!(a.check(&e, Some(&u)), Ok(()));
        let done = Undone {
            already_reversed: true,
            ..u
        };
        assert_eq!(
            a.check(&e, Some(&done)).map_err(|r| r.code),
            Err("already_reversed")
        );
        let partial = lines(&[(1, -10_000), (2, -20_000), (3, -29_999)]);
        let mut p = e;
        p.lines = &partial;
        p.amount = -59_999;
        assert_eq!(
            a.check(&p, Some(&u)).map_err(|r| r.code),
            Err("reversal_mismatch")
        );
        let rev = Undone {
            kind: Kind::Reversal,
            ..u
        };
        assert_eq!(
            a.check(&e, Some(&rev)).map_err(|r| r.code),
            Err("reversal_of_reversal")
        );
        a.apply(&e, Some(Kind::FirstDeposit));
        assert_eq!(a.total(), 0);
        assert_eq!(a.first_total(), 0);
        // Once reversed, a room may receive its first deposit again.
        let l = lines(&[(1, 5)]);
        assert_eq!(a.check(&entry(Kind::FirstDeposit, 5, &l), None), Ok(()));
    }

    #[test]
    fn low_balance_is_strictly_below_thirty_percent() {
        assert!(!low_balance(3_000, 10_000));
        assert!(low_balance(2_999, 10_000));
        assert!(!low_balance(0, 0));
        assert_eq!(top_up_needed(2_999, 10_000), 1);
        assert_eq!(top_up_needed(0, 1), 1);
        assert_eq!(top_up_needed(3_000, 10_000), 0);
        let mut a = funded();
        let l = lines(&[(3, -21_001)]);
        let mut e = entry(Kind::Withdrawal, -21_001, &l);
        e.reference = Some(Reference::Emergency(2));
        e.cost_review = "r";
        a.apply(&e, None);
        assert_eq!(a.low_rooms(), vec![3]);
    }

    #[test]
    fn yuan_shows_fen_exactly() {
        assert_eq!(yuan(0), "0.00");
        assert_eq!(yuan(5), "0.05");
        assert_eq!(yuan(-123_456), "-1234.56");
    }

    proptest! {
        #[test]
        fn accepted_postings_keep_every_balance_equal_to_its_lines(
            ops in proptest::collection::vec((0usize..3, 0i64..4, 1i64..50_000), 1..80)
        ) {
            let rooms = [11i64, 12, 13, 14];
            let mut a = Accounts::new(rooms.to_vec());
            let mut sums = [0i64; 4];
            for (op, room, amt) in ops {
                let r = room as usize;
                let (kind, sign) = match op { 0 => (Kind::Deposit, 1), 1 => (Kind::Interest, 1), _ => (Kind::Withdrawal, -1) };
                let l = [Line { room_id: rooms[r], amount: sign * amt }];
                let mut e = entry(kind, sign * amt, &l);
                if kind == Kind::Withdrawal { e.reference = Some(Reference::Vote(1)); e.cost_review = "r"; }
                if a.check(&e, None).is_ok() {
                    a.apply(&e, None);
                    sums[r] += sign * amt;
                } else {
                    prop_assert!(kind == Kind::Withdrawal && sums[r] < amt);
                }
                prop_assert!(a.rows().all(|(_, b, _)| b >= 0));
            }
            for (i, room) in rooms.iter().enumerate() {
                prop_assert_eq!(a.balance(*room), Some(sums[i]));
            }
            prop_assert_eq!(a.total(), sums.iter().sum::<i64>());
        }
    }
}
