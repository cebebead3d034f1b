//! The fund export `redbutler-fund-export/1` and its verification. Pure: no I/O.
//!
//! The export is one building's fund: its header (subdistrict, building, genesis), the room
//! accounts with the balances the system states, the approvals the withdrawals rest on, every
//! posting in chain order, the stated totals and the head hash. `verify` recomputes every hash
//! and every balance from the postings alone and names the first entry where anything differs.

use serde::{Deserialize, Serialize};

use super::chain::{self, Break, Hash32, Posting};
use super::ledger::{self, yuan, Accounts, Kind, Reference, Undone};
use crate::i18n::{Lang, Text};

/// The format name.
pub const FORMAT: &str = "redbutler-fund-export/1";

/// Which fund this is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FundHeader {
    pub subdistrict_code: String,
    pub building_id: i64,
    pub building_name: String,
    pub genesis_hash: Hash32,
    pub exported_at_ms: i64,
}

/// One room account as the system states it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomAccount {
    pub room_id: i64,
    pub label: String,
    /// The area that counts, hundredths of m² (0 when the registry has none).
    pub area: i64,
    pub balance: i64,
    pub first_deposit: i64,
}

/// An authority a withdrawal names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    pub reference: Reference,
    /// The vote's title or the emergency's reason.
    pub title: String,
    /// The vote's close date or the emergency approval's date (YYYY-MM-DD).
    pub date: String,
}

/// A whole fund.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Export {
    pub format: String,
    pub fund: FundHeader,
    pub rooms: Vec<RoomAccount>,
    pub approvals: Vec<Approval>,
    pub postings: Vec<Posting>,
    /// The stated building balance and first-deposit total (fen).
    pub balance: i64,
    pub first_deposit_total: i64,
    /// Whether the stated balance is below 30 % of the first deposits.
    pub low_balance: bool,
    pub head_hash: Hash32,
}

/// One check's outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    pub name: &'static str,
    pub label: Text,
    pub ok: bool,
    pub detail: Text,
    /// The seq of the entry where the failure lies.
    pub at: Option<u64>,
}

/// Every check, in a fixed order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    pub ok: bool,
    pub checks: Vec<Check>,
}

impl Report {
    pub fn first_failure(&self) -> Option<&Check> {
        self.checks.iter().find(|c| !c.ok)
    }

    /// One line per check, then a summary line.
    pub fn render(&self, lang: Lang) -> Vec<String> {
        let mut lines: Vec<String> = self
            .checks
            .iter()
            .map(|c| {
                let mark = if c.ok { "[ OK ]" } else { "[FAIL]" };
                let sep = lang.pick("：", ": ");
                format!("{mark} {}{sep}{}", c.label.get(lang), c.detail.get(lang))
            })
            .collect();
        let failed = self.checks.iter().filter(|c| !c.ok).count();
        lines.push(if failed == 0 {
            lang.pick(
                "核验通过：全部检查项一致。",
                "Verified: every check passed.",
            )
            .to_owned()
        } else {
            match lang {
                Lang::Zh => format!("核验未通过：{failed} 项检查不一致。"),
                Lang::En => format!("NOT verified: {failed} check(s) failed."),
            }
        });
        lines
    }
}

type Outcome = (bool, Text, Option<u64>);

fn pass(zh: String, en: String) -> Outcome {
    (true, Text::owned(zh, en), None)
}

fn fail(at: Option<u64>, zh: String, en: String) -> Outcome {
    (false, Text::owned(zh, en), at)
}

fn check(name: &'static str, label: Text, o: Outcome) -> Check {
    Check {
        name,
        label,
        ok: o.0,
        detail: o.1,
        at: o.2,
    }
}

/// Replays the postings through the ledger rules: the accounts they add up to, or the first
/// posting the rules refuse (its seq and the reason). Runs in one pass, allocating nothing per
/// posting beyond the reversal marks.
pub fn replay(room_ids: Vec<i64>, postings: &[Posting]) -> Result<Accounts, (u64, Text)> {
    let mut acc = Accounts::new(room_ids);
    let mut reversed = vec![false; postings.len()];
    for p in postings {
        let e = p.entry();
        let target = match (p.kind, p.reverses) {
            (Kind::Reversal, Some(s)) if s >= 1 && s < p.seq => {
                let i = (s - 1) as usize;
                postings.get(i).filter(|t| t.seq == s).map(|t| (i, t))
            }
            _ => None,
        };
        let undone = target.map(|(i, t)| Undone {
            seq: t.seq,
            kind: t.kind,
            amount: t.amount,
            lines: &t.lines,
            already_reversed: reversed[i],
        });
        acc.check(&e, undone.as_ref())
            .map_err(|r| (p.seq, r.text))?;
        acc.apply(&e, target.map(|(_, t)| t.kind));
        if let Some((i, _)) = target {
            reversed[i] = true;
        }
    }
    Ok(acc)
}

/// The balances the lines add up to, whatever the rules say (so a stated balance is checked
/// against its entries even when an entry is refused).
pub fn sum_lines(room_ids: Vec<i64>, postings: &[Posting]) -> Accounts {
    let mut acc = Accounts::new(room_ids);
    for p in postings {
        let undone_kind = p
            .reverses
            .and_then(|s| postings.get(usize::try_from(s).ok()?.checked_sub(1)?))
            .filter(|t| Some(t.seq) == p.reverses)
            .map(|t| t.kind);
        acc.apply(&p.entry(), undone_kind);
    }
    acc
}

/// Runs every check.
pub fn verify(x: &Export) -> Report {
    let genesis = chain::genesis(&x.fund.subdistrict_code, x.fund.building_id);
    let chain_result = chain::check(genesis, &x.postings);
    let room_ids: Vec<i64> = x.rooms.iter().map(|r| r.room_id).collect();
    let sums = sum_lines(room_ids.clone(), &x.postings);
    let replayed = replay(room_ids, &x.postings);
    let checks = vec![
        check(
            "format",
            Text::new("格式版本", "format version"),
            if x.format == FORMAT {
                pass(FORMAT.into(), FORMAT.into())
            } else {
                fail(
                    None,
                    format!("应为 {FORMAT},实为 {}", x.format),
                    format!("expected {FORMAT}, found {}", x.format),
                )
            },
        ),
        check(
            "genesis",
            Text::new("创世哈希", "genesis hash"),
            if x.fund.genesis_hash == genesis {
                pass(
                    format!("与楼栋 {} 一致", x.fund.building_id),
                    format!("matches building {}", x.fund.building_id),
                )
            } else {
                fail(
                    None,
                    format!("记载 {},重算 {}", x.fund.genesis_hash, genesis),
                    format!("stated {}, recomputed {}", x.fund.genesis_hash, genesis),
                )
            },
        ),
        check(
            "chain",
            Text::new("分录哈希链", "entry hash chain"),
            chain_outcome(&x.postings, &chain_result),
        ),
        check(
            "head_hash",
            Text::new("链尾哈希", "head hash"),
            match chain_result {
                Ok(h) if h == x.head_hash => pass(format!("{h}"), format!("{h}")),
                Ok(h) => fail(
                    None,
                    format!("记载 {},重算 {h}", x.head_hash),
                    format!("stated {}, recomputed {h}", x.head_hash),
                ),
                Err(_) => fail(
                    None,
                    "哈希链断开,无法核对".into(),
                    "the chain is broken, so the head cannot be checked".into(),
                ),
            },
        ),
        check(
            "rooms",
            Text::new("分户账户", "room accounts"),
            rooms_outcome(x),
        ),
        check(
            "rules",
            Text::new(
                "分录规则(平衡、授权、不透支、冲正)",
                "entry rules (balanced, authorised, covered, reversals)",
            ),
            match &replayed {
                Ok(_) => pass(
                    format!("{} 笔分录均符合规则", x.postings.len()),
                    format!("all {} entries follow the rules", x.postings.len()),
                ),
                Err((seq, why)) => fail(
                    Some(*seq),
                    format!("第 {seq} 笔分录:{}", why.zh),
                    format!("entry {seq}: {}", why.en),
                ),
            },
        ),
        check(
            "approvals",
            Text::new("使用依据", "withdrawal authorities"),
            approvals_outcome(x),
        ),
        check(
            "balances",
            Text::new("分户余额", "room balances"),
            balances_outcome(x, &sums),
        ),
        check(
            "totals",
            Text::new("账户合计与低余额提示", "totals and the low-balance flag"),
            totals_outcome(x, &sums),
        ),
    ];
    Report {
        ok: checks.iter().all(|c| c.ok),
        checks,
    }
}

fn chain_outcome(ps: &[Posting], r: &Result<Hash32, Break>) -> Outcome {
    match r {
        Ok(_) => pass(
            format!("{} 笔分录环环相扣", ps.len()),
            format!("{} entries, every link holds", ps.len()),
        ),
        Err(Break::Seq {
            at,
            expected,
            found,
        }) => fail(
            Some(*expected),
            format!("第 {} 个位置应为第 {expected} 笔分录,实为第 {found} 笔(缺失、插入或顺序被改)", at + 1),
            format!("position {} should hold entry {expected} but holds entry {found} (missing, inserted or reordered)", at + 1),
        ),
        Err(Break::Prev {
            at,
            expected,
            found,
        }) => {
            let seq = ps[*at].seq;
            fail(
                Some(seq),
                format!("第 {seq} 笔分录的前一哈希为 {found},应为 {expected}(此前的分录被改动或顺序被改)"),
                format!("entry {seq}: prev_hash is {found}, expected {expected} (an earlier entry was changed or moved)"),
            )
        }
        Err(Break::Hash {
            at,
            stored,
            computed,
        }) => {
            let seq = ps[*at].seq;
            fail(
                Some(seq),
                format!("第 {seq} 笔分录的内容与其哈希不符:记载 {stored},按内容重算 {computed}(此分录被改动)"),
                format!("entry {seq}: its content does not match its hash: stored {stored}, recomputed {computed} (this entry was changed)"),
            )
        }
    }
}

fn rooms_outcome(x: &Export) -> Outcome {
    let mut ids: Vec<i64> = x.rooms.iter().map(|r| r.room_id).collect();
    ids.sort_unstable();
    if let Some(w) = ids.windows(2).find(|w| w[0] == w[1]) {
        return fail(
            None,
            format!("房屋 {} 列出两次", w[0]),
            format!("room {} is listed twice", w[0]),
        );
    }
    pass(
        format!("{} 户", x.rooms.len()),
        format!("{} rooms", x.rooms.len()),
    )
}

fn approvals_outcome(x: &Export) -> Outcome {
    let mut n = 0;
    for p in &x.postings {
        if let Some(r) = p.reference {
            n += 1;
            if !x.approvals.iter().any(|a| a.reference == r) {
                let (zh, en) = match r {
                    Reference::Vote(id) => (format!("表决 {id}"), format!("vote {id}")),
                    Reference::Emergency(id) => {
                        (format!("应急审批 {id}"), format!("emergency approval {id}"))
                    }
                };
                return fail(
                    Some(p.seq),
                    format!("第 {} 笔分录引用的{zh}不在导出的依据中", p.seq),
                    format!("entry {} names {en}, which the export does not list", p.seq),
                );
            }
        }
    }
    pass(
        format!("{n} 笔使用均有依据"),
        format!("{n} withdrawal(s), each with its authority"),
    )
}

fn balances_outcome(x: &Export, acc: &Accounts) -> Outcome {
    for r in &x.rooms {
        let b = acc.balance(r.room_id).unwrap_or(0);
        let f = acc.first_deposit(r.room_id).unwrap_or(0);
        if b != r.balance || f != r.first_deposit {
            return fail(
                None,
                format!(
                    "房屋 {}({}):记载余额 {} 元、首期 {} 元,分录合计余额 {} 元、首期 {} 元",
                    r.room_id,
                    r.label,
                    yuan(r.balance),
                    yuan(r.first_deposit),
                    yuan(b),
                    yuan(f)
                ),
                format!(
                    "room {} ({}): stated balance {}, first deposit {}; the entries add up to {} and {}",
                    r.room_id,
                    r.label,
                    yuan(r.balance),
                    yuan(r.first_deposit),
                    yuan(b),
                    yuan(f)
                ),
            );
        }
    }
    pass(
        format!("{} 户余额等于其分录之和", x.rooms.len()),
        format!(
            "each of {} rooms equals the sum of its lines",
            x.rooms.len()
        ),
    )
}

fn totals_outcome(x: &Export, acc: &Accounts) -> Outcome {
    let (b, f) = (acc.total(), acc.first_total());
    let low = ledger::low_balance(b, f);
    if b != x.balance || f != x.first_deposit_total || low != x.low_balance {
        return fail(
            None,
            format!(
                "记载余额 {} 元、首期 {} 元、低余额 {};分录合计 {} 元、{} 元、{}",
                yuan(x.balance),
                yuan(x.first_deposit_total),
                x.low_balance,
                yuan(b),
                yuan(f),
                low
            ),
            format!(
                "stated balance {}, first deposits {}, low {}; the entries give {}, {}, {}",
                yuan(x.balance),
                yuan(x.first_deposit_total),
                x.low_balance,
                yuan(b),
                yuan(f),
                low
            ),
        );
    }
    let note = if low {
        Text::new(
            ",低于首期 30%,须续筹",
            ", below 30% of the first deposits: must be topped up",
        )
    } else {
        Text::new("", "")
    };
    pass(
        format!("余额 {} 元,首期 {} 元{}", yuan(b), yuan(f), note.zh),
        format!("balance {}, first deposits {}{}", yuan(b), yuan(f), note.en),
    )
}

/// The export as pretty JSON is too big for a million entries: one line per posting.
pub fn to_json(x: &Export) -> String {
    serde_json::to_string(x).unwrap_or_default()
}

/// Reads an export; the error names the line and column.
pub fn from_slice(bytes: &[u8]) -> Result<Export, Text> {
    serde_json::from_slice(bytes).map_err(|e| {
        Text::owned(
            format!(
                "导出文件格式错误,第 {} 行第 {} 列:{e}",
                e.line(),
                e.column()
            ),
            format!(
                "malformed export at line {}, column {}: {e}",
                e.line(),
                e.column()
            ),
        )
    })
}

/// Builds a sound export from postings already chained (for tests, benches and the store):
/// fills the stated balances and totals from a replay. Postings the rules refuse are still
/// included; the stated figures are then those of the postings before them.
pub fn seal(
    fund: FundHeader,
    rooms: Vec<(i64, String, i64)>,
    approvals: Vec<Approval>,
    postings: Vec<Posting>,
) -> Export {
    let ids: Vec<i64> = rooms.iter().map(|r| r.0).collect();
    let acc = replay(ids.clone(), &postings).unwrap_or_else(|_| Accounts::new(ids));
    let head = postings.last().map_or(fund.genesis_hash, |p| p.hash);
    Export {
        format: FORMAT.into(),
        rooms: rooms
            .into_iter()
            .map(|(room_id, label, area)| RoomAccount {
                room_id,
                label,
                area,
                balance: acc.balance(room_id).unwrap_or(0),
                first_deposit: acc.first_deposit(room_id).unwrap_or(0),
            })
            .collect(),
        approvals,
        balance: acc.total(),
        first_deposit_total: acc.first_total(),
        low_balance: ledger::low_balance(acc.total(), acc.first_total()),
        head_hash: head,
        postings,
        fund,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::property::fund::chain::{append, genesis, NewPosting};
    use crate::property::fund::ledger::{negated, Line};

    fn np(kind: Kind, lines: &[(i64, i64)]) -> NewPosting {
        let lines: Vec<Line> = lines.iter().map(|&p| Line::from(p)).collect();
        NewPosting {
            kind,
            amount: lines.iter().map(|l| l.amount).sum(),
            reference: None,
            reverses: None,
            cost_review: String::new(),
            memo: String::new(),
            value_date: "2026-03-01".into(),
            posted_by: "user:1".into(),
            posted_at_ms: 1_772_000_000_000,
            lines,
        }
    }

    pub(crate) fn sound() -> Export {
        let g = genesis("xiayang", 42);
        let mut ps: Vec<Posting> = Vec::new();
        let mut push = |n: NewPosting| {
            let prev = ps.last().map_or(g, |p| p.hash);
            let seq = ps.len() as u64 + 1;
            ps.push(append(prev, seq, n));
        };
        push(np(
            Kind::FirstDeposit,
            &[(1, 10_000), (2, 20_000), (3, 30_000)],
        ));
        push(np(Kind::Interest, &[(1, 10), (2, 20), (3, 30)]));
        let mut w = np(Kind::Withdrawal, &[(1, -5_000), (2, -10_000), (3, -15_000)]);
        w.reference = Some(Reference::Vote(7));
        w.cost_review = "审价 2026-01".into();
        push(w.clone());
        let mut r = np(Kind::Reversal, &[]);
        r.lines = negated(&w.lines);
        r.amount = 30_000;
        r.reverses = Some(3);
        r.memo = "重复登记".into();
        push(r);
        seal(
            FundHeader {
                subdistrict_code: "xiayang".into(),
                building_id: 42,
                building_name: "1号楼".into(),
                genesis_hash: g,
                exported_at_ms: 1_772_000_000_000,
            },
            vec![
                (1, "101".into(), 8_000),
                (2, "102".into(), 9_000),
                (3, "103".into(), 10_000),
            ],
            vec![Approval {
                reference: Reference::Vote(7),
                title: "更换水泵".into(),
                date: "2026-02-20".into(),
            }],
            ps,
        )
    }

    #[test]
    fn a_sound_export_passes_every_check() {
        let x = sound();
        let r = verify(&x);
        assert!(r.ok, "{:?}", r.render(Lang::En));
        assert_eq!(x.balance, 60_060);
        let back = from_slice(to_json(&x).as_bytes()).unwrap_or_else(|e| panic!("{}", e.en));
        assert_eq!(back, x);
    }

    #[test]
    fn a_changed_amount_names_the_entry_and_what_differs() {
        let mut x = sound();
        x.postings[1].lines[0].amount = 11;
        x.postings[1].amount = 61;
        let r = verify(&x);
        let f = r
            .first_failure()
            .cloned()
            .unwrap_or_else(|| panic!("passed"));
        assert_eq!(f.name, "chain");
        assert_eq!(f.at, Some(2));
        assert!(
            f.detail
                .en
                .contains("entry 2: its content does not match its hash"),
            "{}",
            f.detail.en
        );
        assert!(
            f.detail.en.contains(&x.postings[1].hash.hex()),
            "{}",
            f.detail.en
        );
        let bal = r.checks.iter().find(|c| c.name == "balances").map(|c| c.ok);
        assert_eq!(bal, Some(false));
    }

    #[test]
    fn a_deleted_entry_and_a_rehashed_unbalanced_entry_are_found() {
        let mut x = sound();
        x.postings.remove(1);
        let f = verify(&x)
            .first_failure()
            .cloned()
            .unwrap_or_else(|| panic!("passed"));
        assert_eq!((f.name, f.at), ("chain", Some(2)));

        // Someone who rehashes the whole chain still cannot hide an unbalanced entry.
        let mut x = sound();
        x.postings[1].amount = 999;
        let g = x.fund.genesis_hash;
        let mut prev = g;
        for p in &mut x.postings {
            p.prev_hash = prev;
            p.hash = p.compute_hash();
            prev = p.hash;
        }
        x.head_hash = prev;
        let r = verify(&x);
        let f = r
            .first_failure()
            .cloned()
            .unwrap_or_else(|| panic!("passed"));
        assert_eq!((f.name, f.at), ("rules", Some(2)));
        assert!(f.detail.en.contains("unbalanced"), "{}", f.detail.en);
    }

    #[test]
    fn a_stated_balance_that_differs_names_the_room() {
        let mut x = sound();
        x.rooms[1].balance += 1;
        let f = verify(&x)
            .first_failure()
            .cloned()
            .unwrap_or_else(|| panic!("passed"));
        assert_eq!(f.name, "balances");
        assert!(f.detail.en.contains("room 2 (102)"), "{}", f.detail.en);
        let mut x = sound();
        x.low_balance = true;
        assert_eq!(verify(&x).first_failure().map(|c| c.name), Some("totals"));
        let mut x = sound();
        x.approvals.clear();
        let f = verify(&x)
            .first_failure()
            .cloned()
            .unwrap_or_else(|| panic!("passed"));
        assert_eq!((f.name, f.at), ("approvals", Some(3)));
    }

    #[test]
    fn a_malformed_file_names_line_and_column() {
        let e = from_slice(b"{\n \"format\": [")
            .err()
            .unwrap_or_else(|| panic!("parsed"));
        assert!(e.en.contains("malformed export at line 2"), "{}", e.en);
    }
}
