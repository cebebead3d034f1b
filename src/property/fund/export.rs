//! The fund export and its verification. Pure: no I/O (the CLI reads the file).
//!
//! The export is one building's fund: its header (subdistrict, building, genesis), the room
//! accounts with the balances the system states, the approvals the withdrawals rest on, every
//! posting in chain order, the stated totals and the head hash. `verify` recomputes every hash
//! and every balance from the postings alone and names the first entry where anything differs.
//!
//! # Format `redbutler-fund-export/2` (written from 2026-12 on)
//!
//! UTF-8 text, one JSON value per line ("JSON Lines"), every line ending in `\n`:
//!
//! 1. **The header**, one JSON object on the first line, with `format` as its first key:
//!    `{"format":"redbutler-fund-export/2","fund":{…},"rooms":[…],"approvals":[…],`
//!    `"postings":N,"balance":…,"first_deposit_total":…,"low_balance":…,"head_hash":"…"}`.
//!    `fund`, `rooms` and `approvals` are as in version 1 (the fields of [`FundHeader`],
//!    [`RoomAccount`], [`Approval`]); `postings` is how many posting lines follow, so a file
//!    cut at the end of a line is found too; then the stated totals and the head hash.
//! 2. **One posting per line**, in chain order, as a JSON array of 13 values:
//!    `[seq,"kind",amount,reference,reverses,"cost_review","memo","value_date","posted_by",`
//!    `posted_at_ms,[[room_id,amount],…],"prev_hash","hash"]`, where `reference` is `null`,
//!    `{"vote":ID}` or `{"emergency":ID}`, `reverses` is `null` or the seq reversed, and the
//!    hashes are 64 lowercase hexadecimal characters (what they cover: [`super::chain`]).
//!
//! For example (a header cut short, then two postings):
//!
//! ```text
//! {"format":"redbutler-fund-export/2","fund":{"subdistrict_code":"310118003",…},…,"postings":2,…}
//! [1,"first_deposit",1789650,null,null,"","首期","2026-03-01","user:1",1772000000000,[[301,1051650],[302,738000]],"4f…","9a…"]
//! [2,"withdrawal",-70740,{"vote":7},null,"审价报告 2026-031","","2026-03-02","user:1",1772000000000,[[301,-41569],[302,-29171]],"9a…","c3…"]
//! ```
//!
//! Why this shape: a million postings as JSON objects took longer to parse than the whole
//! budget for verifying them (issue 5: under 1 s). Each posting line stands alone and states
//! its `prev_hash`, so readers split the lines across cores, recompute each entry's hash
//! against its stated predecessor in parallel, and then check the links, the seq numbers,
//! the rules and the balances in one cheap pass in chain order (the first bad entry is the
//! lowest seq, whichever core read it). JSON is kept so any tool can still read a line.
//!
//! # Format `redbutler-fund-export/1` (still read, no longer written)
//!
//! One JSON object: `format`, `fund`, `rooms`, `approvals`, `postings` (an array of objects
//! with the fields of [`Posting`], `reference` as `{"kind":"vote","id":ID}`), `balance`,
//! `first_deposit_total`, `low_balance`, `head_hash`. A file is read as version 2 when it
//! starts with `{"format":"redbutler-fund-export/2"` (spaces allowed), else as version 1.

use std::borrow::Cow;

use rustc_hash::FxHashSet;
use serde::{Deserialize, Serialize};

use super::chain::{self, Break, Fields, Hash32, Posting};
use super::ledger::{self, yuan, Accounts, Entry, Kind, Line, Reference, Undone};
use crate::i18n::{Lang, Text};

/// The format written: version 2, one posting per line.
pub const FORMAT: &str = "redbutler-fund-export/2";

/// The first format, one JSON object; still read.
pub const FORMAT_V1: &str = "redbutler-fund-export/1";

/// The media type the export is served with (JSON Lines).
pub const CONTENT_TYPE: &str = "application/x-ndjson; charset=utf-8";

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

/// A whole fund. Its serde form is the version 1 layout; [`to_json`] writes version 2.
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
    /// How many postings the export states it holds (the version 2 header's `postings`;
    /// None for a version 1 file, which does not say). `verify` compares it with `postings`.
    #[serde(default, skip_serializing)]
    pub entries: Option<u64>,
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

/// What verifying an export file found: which fund it is, and the report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileReport {
    pub fund: FundHeader,
    pub rooms: usize,
    /// The postings the file holds.
    pub entries: usize,
    pub report: Report,
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

// ---------------------------------------------------------------------------------------
// The checks, over postings borrowed from an `Export` or straight from a file's bytes.

/// One posting as the checks need it: borrowed, its lines in its chunk's arena, and the hash
/// recomputed from its content and its stated `prev_hash`.
struct Rec<'a> {
    seq: u64,
    kind: Kind,
    amount: i64,
    reference: Option<Reference>,
    reverses: Option<u64>,
    cost_review: Cow<'a, str>,
    memo: Cow<'a, str>,
    /// `start..end` in its chunk's `lines`.
    lines: (usize, usize),
    prev_hash: Hash32,
    hash: Hash32,
    computed: Hash32,
}

/// A run of consecutive postings (one per core that read them) and their lines.
struct Chunk<'a> {
    recs: Vec<Rec<'a>>,
    lines: Vec<Line>,
}

/// All postings in chain order, over one or more chunks.
struct Ledger<'a> {
    chunks: Vec<Chunk<'a>>,
    /// The index of each chunk's first posting.
    starts: Vec<usize>,
    len: usize,
}

impl<'a> Ledger<'a> {
    fn new(chunks: Vec<Chunk<'a>>) -> Ledger<'a> {
        let chunks: Vec<Chunk<'a>> = chunks.into_iter().filter(|c| !c.recs.is_empty()).collect();
        let mut starts = Vec::with_capacity(chunks.len());
        let mut len = 0;
        for c in &chunks {
            starts.push(len);
            len += c.recs.len();
        }
        Ledger {
            chunks,
            starts,
            len,
        }
    }

    fn get(&self, i: usize) -> Option<(&Rec<'a>, &[Line])> {
        let c = self.starts.partition_point(|&s| s <= i).checked_sub(1)?;
        let ch = &self.chunks[c];
        let r = ch.recs.get(i - self.starts[c])?;
        Some((r, &ch.lines[r.lines.0..r.lines.1]))
    }

    fn iter(&self) -> impl Iterator<Item = (&Rec<'a>, &[Line])> + '_ {
        self.chunks.iter().flat_map(|c| {
            c.recs
                .iter()
                .map(move |r| (r, &c.lines[r.lines.0..r.lines.1]))
        })
    }
}

fn entry<'s>(r: &'s Rec<'_>, lines: &'s [Line]) -> Entry<'s> {
    Entry {
        kind: r.kind,
        amount: r.amount,
        reference: r.reference,
        reverses: r.reverses,
        cost_review: &r.cost_review,
        memo: &r.memo,
        lines,
    }
}

/// Everything but the postings: what the export states.
struct Facts<'x> {
    format: &'x str,
    fund: &'x FundHeader,
    rooms: &'x [RoomAccount],
    approvals: &'x [Approval],
    balance: i64,
    first_deposit_total: i64,
    low_balance: bool,
    head_hash: Hash32,
    entries: Option<u64>,
}

fn facts(x: &Export) -> Facts<'_> {
    Facts {
        format: &x.format,
        fund: &x.fund,
        rooms: &x.rooms,
        approvals: &x.approvals,
        balance: x.balance,
        first_deposit_total: x.first_deposit_total,
        low_balance: x.low_balance,
        head_hash: x.head_hash,
        entries: x.entries,
    }
}

/// How many threads to read and hash with.
fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().clamp(1, 8))
}

/// Borrows an export's postings for the checks, hashing them on every core.
fn ledger_of(ps: &[Posting]) -> Ledger<'_> {
    let per = ps.len().div_ceil(threads()).max(4096);
    fn chunk_of(part: &[Posting]) -> Chunk<'_> {
        let mut buf = Vec::with_capacity(512);
        let mut lines = Vec::with_capacity(part.len() * 2);
        let recs = part
            .iter()
            .map(|p| {
                let start = lines.len();
                lines.extend_from_slice(&p.lines);
                Rec {
                    seq: p.seq,
                    kind: p.kind,
                    amount: p.amount,
                    reference: p.reference,
                    reverses: p.reverses,
                    cost_review: Cow::Borrowed(&p.cost_review),
                    memo: Cow::Borrowed(&p.memo),
                    lines: (start, lines.len()),
                    prev_hash: p.prev_hash,
                    hash: p.hash,
                    computed: p.fields().hash_with(&mut buf),
                }
            })
            .collect();
        Chunk { recs, lines }
    }
    let chunks = std::thread::scope(|s| {
        let handles: Vec<_> = ps
            .chunks(per)
            .map(|part| s.spawn(move || chunk_of(part)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    Ledger::new(chunks)
}

/// Runs every check.
pub fn verify(x: &Export) -> Report {
    run_checks(&facts(x), &ledger_of(&x.postings))
}

/// The chain from `genesis`: the first break, or the head hash (as [`chain::check`], over
/// hashes already recomputed).
fn check_chain(genesis: Hash32, l: &Ledger<'_>) -> Result<Hash32, Break> {
    let mut prev = genesis;
    for (at, (r, _)) in l.iter().enumerate() {
        let expected = at as u64 + 1;
        if r.seq != expected {
            return Err(Break::Seq {
                at,
                expected,
                found: r.seq,
            });
        }
        if r.prev_hash != prev {
            return Err(Break::Prev {
                at,
                expected: prev,
                found: r.prev_hash,
            });
        }
        if r.computed != r.hash {
            return Err(Break::Hash {
                at,
                stored: r.hash,
                computed: r.computed,
            });
        }
        prev = r.hash;
    }
    Ok(prev)
}

/// What one pass over the postings in chain order finds.
struct Replayed {
    /// The balances the lines add up to, whatever the rules say.
    sums: Accounts,
    /// The first posting the rules refuse.
    refused: Option<(u64, Text)>,
    /// How many postings name an authority, and the first whose authority is not listed.
    references: usize,
    unlisted: Option<(u64, Reference)>,
}

/// Replays the rules (as [`replay`]), sums the lines (as [`sum_lines`]) and looks up each
/// withdrawal's authority, in one pass.
fn replay_all(rooms: &[RoomAccount], approvals: &[Approval], l: &Ledger<'_>) -> Replayed {
    let room_ids: Vec<i64> = rooms.iter().map(|r| r.room_id).collect();
    let mut acc = Accounts::new(room_ids.clone());
    let mut sums = Accounts::new(room_ids);
    let listed: FxHashSet<Reference> = approvals.iter().map(|a| a.reference).collect();
    let mut reversed = vec![false; l.len];
    let mut refused = None;
    let mut references = 0;
    let mut unlisted = None;
    for (r, lines) in l.iter() {
        let e = entry(r, lines);
        // The posting a reversal names, if it is where its seq says.
        let named = r.reverses.and_then(|s| {
            let i = usize::try_from(s).ok()?.checked_sub(1)?;
            l.get(i)
                .filter(|(t, _)| t.seq == s)
                .map(|(t, tl)| (i, t, tl))
        });
        if refused.is_none() {
            let target = match (r.kind, r.reverses) {
                (Kind::Reversal, Some(s)) if s < r.seq => named,
                _ => None,
            };
            let undone = target.map(|(i, t, tl)| Undone {
                seq: t.seq,
                kind: t.kind,
                amount: t.amount,
                lines: tl,
                already_reversed: reversed[i],
            });
            match acc.check(&e, undone.as_ref()) {
                Err(why) => refused = Some((r.seq, why.text)),
                Ok(()) => {
                    acc.apply(&e, target.map(|(_, t, _)| t.kind));
                    if let Some((i, _, _)) = target {
                        reversed[i] = true;
                    }
                }
            }
        }
        sums.apply(&e, named.map(|(_, t, _)| t.kind));
        if let Some(rf) = r.reference {
            references += 1;
            if unlisted.is_none() && !listed.contains(&rf) {
                unlisted = Some((r.seq, rf));
            }
        }
    }
    Replayed {
        sums,
        refused,
        references,
        unlisted,
    }
}

fn run_checks(x: &Facts<'_>, l: &Ledger<'_>) -> Report {
    let genesis = chain::genesis(&x.fund.subdistrict_code, x.fund.building_id);
    let chain_result = check_chain(genesis, l);
    let replayed = replay_all(x.rooms, x.approvals, l);
    let n = l.len;
    let checks = vec![
        check(
            "format",
            Text::new("格式版本", "format version"),
            if x.format == FORMAT || x.format == FORMAT_V1 {
                pass(x.format.into(), x.format.into())
            } else {
                fail(
                    None,
                    format!("应为 {FORMAT}(或 {FORMAT_V1}),实为 {}", x.format),
                    format!("expected {FORMAT} (or {FORMAT_V1}), found {}", x.format),
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
            chain_outcome(n, x.entries, &chain_result),
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
            rooms_outcome(x.rooms),
        ),
        check(
            "rules",
            Text::new(
                "分录规则(平衡、授权、不透支、冲正)",
                "entry rules (balanced, authorised, covered, reversals)",
            ),
            match &replayed.refused {
                None => pass(
                    format!("{n} 笔分录均符合规则"),
                    format!("all {n} entries follow the rules"),
                ),
                Some((seq, why)) => fail(
                    Some(*seq),
                    format!("第 {seq} 笔分录:{}", why.zh),
                    format!("entry {seq}: {}", why.en),
                ),
            },
        ),
        check(
            "approvals",
            Text::new("使用依据", "withdrawal authorities"),
            approvals_outcome(&replayed),
        ),
        check(
            "balances",
            Text::new("分户余额", "room balances"),
            balances_outcome(x.rooms, &replayed.sums),
        ),
        check(
            "totals",
            Text::new("账户合计与低余额提示", "totals and the low-balance flag"),
            totals_outcome(x, &replayed.sums),
        ),
    ];
    Report {
        ok: checks.iter().all(|c| c.ok),
        checks,
    }
}

fn chain_outcome(n: usize, stated: Option<u64>, r: &Result<Hash32, Break>) -> Outcome {
    match r {
        Ok(_) => match stated {
            Some(s) if s > n as u64 => {
                let first = n as u64 + 1;
                fail(
                    Some(first),
                    format!("导出声明 {s} 笔分录,只含 {n} 笔:自第 {first} 笔起缺失(文件被截断?)"),
                    format!("the export states {s} entries but holds {n}: entry {first} on is missing (a truncated file?)"),
                )
            }
            Some(s) if s < n as u64 => {
                let first = s + 1;
                fail(
                    Some(first),
                    format!("导出声明 {s} 笔分录,却含 {n} 笔:自第 {first} 笔起为多出的分录"),
                    format!("the export states {s} entries but holds {n}: entry {first} on was added"),
                )
            }
            _ => pass(
                format!("{n} 笔分录环环相扣"),
                format!("{n} entries, every link holds"),
            ),
        },
        Err(Break::Seq {
            at,
            expected,
            found,
        }) => fail(
            Some(*expected),
            format!("第 {} 个位置应为第 {expected} 笔分录,实为第 {found} 笔(缺失、插入或顺序被改)", at + 1),
            format!("position {} should hold entry {expected} but holds entry {found} (missing, inserted or reordered)", at + 1),
        ),
        // Past the seq check, the entry at position `at` is entry `at + 1`.
        Err(Break::Prev {
            at,
            expected,
            found,
        }) => {
            let seq = *at as u64 + 1;
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
            let seq = *at as u64 + 1;
            fail(
                Some(seq),
                format!("第 {seq} 笔分录的内容与其哈希不符:记载 {stored},按内容重算 {computed}(此分录被改动)"),
                format!("entry {seq}: its content does not match its hash: stored {stored}, recomputed {computed} (this entry was changed)"),
            )
        }
    }
}

fn rooms_outcome(rooms: &[RoomAccount]) -> Outcome {
    let mut ids: Vec<i64> = rooms.iter().map(|r| r.room_id).collect();
    ids.sort_unstable();
    if let Some(w) = ids.windows(2).find(|w| w[0] == w[1]) {
        return fail(
            None,
            format!("房屋 {} 列出两次", w[0]),
            format!("room {} is listed twice", w[0]),
        );
    }
    pass(
        format!("{} 户", rooms.len()),
        format!("{} rooms", rooms.len()),
    )
}

fn approvals_outcome(r: &Replayed) -> Outcome {
    if let Some((seq, rf)) = r.unlisted {
        let (zh, en) = match rf {
            Reference::Vote(id) => (format!("表决 {id}"), format!("vote {id}")),
            Reference::Emergency(id) => {
                (format!("应急审批 {id}"), format!("emergency approval {id}"))
            }
        };
        return fail(
            Some(seq),
            format!("第 {seq} 笔分录引用的{zh}不在导出的依据中"),
            format!("entry {seq} names {en}, which the export does not list"),
        );
    }
    let n = r.references;
    pass(
        format!("{n} 笔使用均有依据"),
        format!("{n} withdrawal(s), each with its authority"),
    )
}

fn balances_outcome(rooms: &[RoomAccount], acc: &Accounts) -> Outcome {
    for r in rooms {
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
        format!("{} 户余额等于其分录之和", rooms.len()),
        format!("each of {} rooms equals the sum of its lines", rooms.len()),
    )
}

fn totals_outcome(x: &Facts<'_>, acc: &Accounts) -> Outcome {
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

// ---------------------------------------------------------------------------------------
// Writing.

/// The header line of version 2.
#[derive(Serialize)]
struct HeaderOut<'x> {
    format: &'static str,
    fund: &'x FundHeader,
    rooms: &'x [RoomAccount],
    approvals: &'x [Approval],
    postings: u64,
    balance: i64,
    first_deposit_total: i64,
    low_balance: bool,
    head_hash: Hash32,
}

#[derive(Deserialize)]
struct HeaderIn {
    format: String,
    fund: FundHeader,
    rooms: Vec<RoomAccount>,
    approvals: Vec<Approval>,
    postings: u64,
    balance: i64,
    first_deposit_total: i64,
    low_balance: bool,
    head_hash: Hash32,
}

/// A withdrawal's authority in version 2: `{"vote":ID}` or `{"emergency":ID}`.
#[derive(Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum RefV2 {
    Vote(i64),
    Emergency(i64),
}

impl From<Reference> for RefV2 {
    fn from(r: Reference) -> RefV2 {
        match r {
            Reference::Vote(id) => RefV2::Vote(id),
            Reference::Emergency(id) => RefV2::Emergency(id),
        }
    }
}

impl From<RefV2> for Reference {
    fn from(r: RefV2) -> Reference {
        match r {
            RefV2::Vote(id) => Reference::Vote(id),
            RefV2::Emergency(id) => Reference::Emergency(id),
        }
    }
}

/// A posting line of version 2, as written.
#[derive(Serialize)]
struct RowOut<'x>(
    u64,
    Kind,
    i64,
    Option<RefV2>,
    Option<u64>,
    &'x str,
    &'x str,
    &'x str,
    &'x str,
    i64,
    &'x [Line],
    Hash32,
    Hash32,
);

/// A posting line of version 2 as serde reads it (the careful path, for lines the fast
/// reader does not take: escapes in strings, spaces, or an error to report).
#[derive(Deserialize)]
struct RowIn<'a>(
    u64,
    Kind,
    i64,
    Option<RefV2>,
    Option<u64>,
    #[serde(borrow)] Cow<'a, str>,
    #[serde(borrow)] Cow<'a, str>,
    #[serde(borrow)] Cow<'a, str>,
    #[serde(borrow)] Cow<'a, str>,
    i64,
    Vec<Line>,
    Hash32,
    Hash32,
);

/// Writes the export in version 2 (see the module doc): a header line, then one line per
/// posting. The `postings` count states the postings written.
pub fn write(x: &Export, out: &mut Vec<u8>) {
    let h = HeaderOut {
        format: FORMAT,
        fund: &x.fund,
        rooms: &x.rooms,
        approvals: &x.approvals,
        postings: x.postings.len() as u64,
        balance: x.balance,
        first_deposit_total: x.first_deposit_total,
        low_balance: x.low_balance,
        head_hash: x.head_hash,
    };
    // Writing plain data into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, &h);
    out.push(b'\n');
    for p in &x.postings {
        let row = RowOut(
            p.seq,
            p.kind,
            p.amount,
            p.reference.map(RefV2::from),
            p.reverses,
            &p.cost_review,
            &p.memo,
            &p.value_date,
            &p.posted_by,
            p.posted_at_ms,
            &p.lines,
            p.prev_hash,
            p.hash,
        );
        let _ = serde_json::to_writer(&mut *out, &row);
        out.push(b'\n');
    }
}

/// The export as text, version 2 (JSON Lines).
pub fn to_json(x: &Export) -> String {
    let mut out = Vec::with_capacity(4096 + x.postings.len() * 240);
    write(x, &mut out);
    // serde_json writes UTF-8.
    String::from_utf8(out).unwrap_or_default()
}

/// The export in the old version 1 layout (one JSON object), as older exports were written:
/// for tests and benches that check old files are still read.
pub fn to_json_v1(x: &Export) -> String {
    #[derive(Serialize)]
    struct V1<'x> {
        format: &'static str,
        fund: &'x FundHeader,
        rooms: &'x [RoomAccount],
        approvals: &'x [Approval],
        postings: &'x [Posting],
        balance: i64,
        first_deposit_total: i64,
        low_balance: bool,
        head_hash: Hash32,
    }
    serde_json::to_string(&V1 {
        format: FORMAT_V1,
        fund: &x.fund,
        rooms: &x.rooms,
        approvals: &x.approvals,
        postings: &x.postings,
        balance: x.balance,
        first_deposit_total: x.first_deposit_total,
        low_balance: x.low_balance,
        head_hash: x.head_hash,
    })
    .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------
// Reading.

/// A malformed file: the line (from 1) and column, and serde's words without its own
/// position (which, for a posting line, would count from that line).
fn malformed(line: usize, column: usize, e: &serde_json::Error) -> Text {
    let msg = e.to_string();
    let own = format!(" at line {} column {}", e.line(), e.column());
    let msg = msg.strip_suffix(&own).unwrap_or(&msg);
    Text::owned(
        format!("导出文件格式错误,第 {line} 行第 {column} 列:{msg}"),
        format!("malformed export at line {line}, column {column}: {msg}"),
    )
}

/// Whether the bytes start as a version 2 header.
fn is_v2(bytes: &[u8]) -> bool {
    let mut c = Cur { b: bytes, i: 0 };
    c.ws();
    if !c.eat(b'{') {
        return false;
    }
    c.ws();
    if !c.lit(b"\"format\"") {
        return false;
    }
    c.ws();
    if !c.eat(b':') {
        return false;
    }
    c.ws();
    c.lit(b"\"redbutler-fund-export/2\"")
}

/// Reads an export of either version; the error names the line and column.
pub fn from_slice(bytes: &[u8]) -> Result<Export, Text> {
    if !is_v2(bytes) {
        return serde_json::from_slice(bytes).map_err(|e| malformed(e.line(), e.column(), &e));
    }
    let (h, body) = header(bytes)?;
    let parts = read_rows(bytes, body, None, |r, lines, _| Posting {
        seq: r.seq,
        kind: r.kind,
        amount: r.amount,
        reference: r.reference,
        reverses: r.reverses,
        cost_review: r.cost_review.into_owned(),
        memo: r.memo.into_owned(),
        value_date: r.value_date.into_owned(),
        posted_by: r.posted_by.into_owned(),
        posted_at_ms: r.posted_at_ms,
        lines: lines.to_vec(),
        prev_hash: r.prev_hash,
        hash: r.hash,
    })?;
    let mut postings = Vec::with_capacity(parts.iter().map(|p| p.0.len()).sum());
    for (ps, _) in parts {
        postings.extend(ps);
    }
    Ok(Export {
        format: h.format,
        fund: h.fund,
        rooms: h.rooms,
        approvals: h.approvals,
        postings,
        balance: h.balance,
        first_deposit_total: h.first_deposit_total,
        low_balance: h.low_balance,
        head_hash: h.head_hash,
        entries: Some(h.postings),
    })
}

/// Reads and verifies an export file's bytes (either version). For version 2 nothing is
/// built per posting: the lines are read on every core straight from the bytes, each entry
/// hashed as it is read, then checked in chain order. A malformed file is an error naming
/// its line and column.
pub fn verify_bytes(bytes: &[u8]) -> Result<FileReport, Text> {
    verify_bytes_on(bytes, None)
}

/// [`verify_bytes`] reading in `parts` runs (tests split small files this way).
fn verify_bytes_on(bytes: &[u8], parts: Option<usize>) -> Result<FileReport, Text> {
    if !is_v2(bytes) {
        let x = from_slice(bytes)?;
        let report = verify(&x);
        return Ok(FileReport {
            rooms: x.rooms.len(),
            entries: x.postings.len(),
            report,
            fund: x.fund,
        });
    }
    let (h, body) = header(bytes)?;
    let parts = read_rows(bytes, body, parts, |r, lines, buf| {
        let computed = Fields {
            seq: r.seq,
            kind: r.kind,
            amount: r.amount,
            reference: r.reference,
            reverses: r.reverses,
            cost_review: &r.cost_review,
            memo: &r.memo,
            value_date: &r.value_date,
            posted_by: &r.posted_by,
            posted_at_ms: r.posted_at_ms,
            lines,
            prev_hash: r.prev_hash,
        }
        .hash_with(buf);
        Rec {
            seq: r.seq,
            kind: r.kind,
            amount: r.amount,
            reference: r.reference,
            reverses: r.reverses,
            cost_review: r.cost_review,
            memo: r.memo,
            lines: (0, 0),
            prev_hash: r.prev_hash,
            hash: r.hash,
            computed,
        }
    })?;
    let ledger = Ledger::new(
        parts
            .into_iter()
            .map(|(recs, lines)| Chunk { recs, lines })
            .collect(),
    );
    let facts = Facts {
        format: &h.format,
        fund: &h.fund,
        rooms: &h.rooms,
        approvals: &h.approvals,
        balance: h.balance,
        first_deposit_total: h.first_deposit_total,
        low_balance: h.low_balance,
        head_hash: h.head_hash,
        entries: Some(h.postings),
    };
    let report = run_checks(&facts, &ledger);
    Ok(FileReport {
        rooms: h.rooms.len(),
        entries: ledger.len,
        report,
        fund: h.fund,
    })
}

/// The header line, and where the posting lines start.
fn header(bytes: &[u8]) -> Result<(HeaderIn, usize), Text> {
    let end = bytes
        .iter()
        .position(|&b| b == b'\n')
        .unwrap_or(bytes.len());
    let h: HeaderIn =
        serde_json::from_slice(&bytes[..end]).map_err(|e| malformed(1, e.column(), &e))?;
    Ok((h, (end + 1).min(bytes.len())))
}

/// A posting line as read, strings borrowed from the file where they hold no escapes.
struct Row<'a> {
    seq: u64,
    kind: Kind,
    amount: i64,
    reference: Option<Reference>,
    reverses: Option<u64>,
    cost_review: Cow<'a, str>,
    memo: Cow<'a, str>,
    value_date: Cow<'a, str>,
    posted_by: Cow<'a, str>,
    posted_at_ms: i64,
    prev_hash: Hash32,
    hash: Hash32,
}

/// A parse failure: the byte offset where its line starts, and serde's error on that line.
type RowError = (usize, serde_json::Error);

/// Reads the posting lines of `bytes[body..]` in `parts` runs (by default one per core, for
/// large files): per run of lines, what
/// `keep` made of each posting and the run's lines (each `T` made by `keep` is given the
/// `start..end` of its lines through [`Keep::span`]). The error is the first in the file.
fn read_rows<'a, T, F>(
    bytes: &'a [u8],
    body: usize,
    parts: Option<usize>,
    keep: F,
) -> Result<Vec<(Vec<T>, Vec<Line>)>, Text>
where
    T: Send + Spanned,
    F: Fn(Row<'a>, &[Line], &mut Vec<u8>) -> T + Sync,
{
    // Trailing spaces and newlines end the file; they are no posting.
    let mut end = bytes.len();
    while end > body && bytes[end - 1].is_ascii_whitespace() {
        end -= 1;
    }
    // Below 256 KiB per core, threads cost more than they save.
    let parts = parts.unwrap_or_else(|| threads().min(1 + (end - body) / (256 << 10)));
    let ranges = split(bytes, body, end, parts);
    let work = |(a, b): (usize, usize)| -> Result<(Vec<T>, Vec<Line>), RowError> {
        let mut lines = Vec::with_capacity((b - a) / 64);
        let mut buf = Vec::with_capacity(512);
        let mut out = Vec::with_capacity((b - a) / 160 + 1);
        rows(bytes, a, b, &mut lines, |row, span, ls| {
            let mut t = keep(row, &ls[span.0..span.1], &mut buf);
            t.set_span(span);
            out.push(t);
        })?;
        Ok((out, lines))
    };
    let work = &work;
    let results: Vec<Result<(Vec<T>, Vec<Line>), RowError>> = std::thread::scope(|s| {
        let handles: Vec<_> = ranges
            .iter()
            .skip(1)
            .map(|&r| s.spawn(move || work(r)))
            .collect();
        let mut all = Vec::with_capacity(ranges.len());
        if let Some(&r) = ranges.first() {
            all.push(work(r));
        }
        for h in handles {
            all.push(h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)));
        }
        all
    });
    results
        .into_iter()
        .collect::<Result<Vec<_>, RowError>>()
        .map_err(|(at, e)| {
            let line = 1 + bytes[..at].iter().filter(|&&b| b == b'\n').count();
            malformed(line, e.column(), &e)
        })
}

/// Something that records where its lines are (a [`Rec`]); owned postings carry theirs.
trait Spanned {
    fn set_span(&mut self, span: (usize, usize));
}

impl Spanned for Rec<'_> {
    fn set_span(&mut self, span: (usize, usize)) {
        self.lines = span;
    }
}

impl Spanned for Posting {
    fn set_span(&mut self, _: (usize, usize)) {}
}

/// `parts` runs of whole lines covering `start..end`.
fn split(bytes: &[u8], start: usize, end: usize, parts: usize) -> Vec<(usize, usize)> {
    let mut cuts = vec![start];
    for k in 1..parts {
        let guess = start + (end - start) / parts * k;
        let from = guess.max(cuts[cuts.len() - 1]);
        let at = bytes[from..end]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(end, |n| from + n + 1);
        cuts.push(at);
    }
    cuts.push(end);
    cuts.windows(2)
        .map(|w| (w[0], w[1]))
        .filter(|(a, b)| a < b)
        .collect()
}

/// Reads the posting lines in `bytes[start..end]` (whole lines), pushing each posting's lines
/// onto `lines` and handing the posting and where its lines are to `each`. A line the fast
/// reader does not take is read by serde, which also words the error.
fn rows<'a>(
    bytes: &'a [u8],
    start: usize,
    end: usize,
    lines: &mut Vec<Line>,
    mut each: impl FnMut(Row<'a>, (usize, usize), &[Line]),
) -> Result<(), RowError> {
    let text = &bytes[..end];
    let mut pos = start;
    while pos < end {
        let mark = lines.len();
        let mut c = Cur { b: text, i: pos };
        let fast = fast_row(&mut c, lines).and_then(|r| match text.get(c.i) {
            None => Some((r, end)),
            Some(b'\n') => Some((r, c.i + 1)),
            Some(b'\r') if text.get(c.i + 1) == Some(&b'\n') => Some((r, c.i + 2)),
            _ => None,
        });
        let row = match fast {
            Some((r, next)) => {
                pos = next;
                r
            }
            None => {
                lines.truncate(mark);
                let stop = text[pos..]
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(end, |n| pos + n);
                let r: RowIn<'a> =
                    serde_json::from_slice(&text[pos..stop]).map_err(|e| (pos, e))?;
                pos = stop + 1;
                lines.extend_from_slice(&r.10);
                Row {
                    seq: r.0,
                    kind: r.1,
                    amount: r.2,
                    reference: r.3.map(Reference::from),
                    reverses: r.4,
                    cost_review: r.5,
                    memo: r.6,
                    value_date: r.7,
                    posted_by: r.8,
                    posted_at_ms: r.9,
                    prev_hash: r.11,
                    hash: r.12,
                }
            }
        };
        each(row, (mark, lines.len()), lines);
    }
    Ok(())
}

/// Hex digit values; 0xff for anything else (uppercase too: hashes are lowercase).
const HEX: [u8; 256] = {
    let mut t = [0xffu8; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};

/// A cursor for the fast reader: it takes only the compact form this module writes (no
/// spaces, no escapes, integers only) and gives up (None) on anything else, leaving that
/// line to serde.
struct Cur<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Cur<'a> {
    #[inline]
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    #[inline]
    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    #[inline]
    fn need(&mut self, c: u8) -> Option<()> {
        self.eat(c).then_some(())
    }

    fn lit(&mut self, s: &[u8]) -> bool {
        if self.b[self.i.min(self.b.len())..].starts_with(s) {
            self.i += s.len();
            true
        } else {
            false
        }
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    /// A JSON integer without sign: no leading zeros, no fraction, no exponent.
    #[inline]
    fn u64(&mut self) -> Option<u64> {
        let start = self.i;
        let mut v: u64 = 0;
        while let Some(d @ b'0'..=b'9') = self.peek() {
            v = v.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
            self.i += 1;
        }
        let n = self.i - start;
        if n == 0 || (n > 1 && self.b[start] == b'0') {
            return None;
        }
        Some(v)
    }

    #[inline]
    fn i64(&mut self) -> Option<i64> {
        if self.eat(b'-') {
            let v = self.u64()?;
            if v == 1 << 63 {
                Some(i64::MIN)
            } else {
                i64::try_from(v).ok().map(|v| -v)
            }
        } else {
            i64::try_from(self.u64()?).ok()
        }
    }

    /// A string without escapes or control characters, borrowed.
    #[inline]
    fn str(&mut self) -> Option<&'a str> {
        self.need(b'"')?;
        let rest = &self.b[self.i..];
        let n = rest
            .iter()
            .position(|&c| c == b'"' || c == b'\\' || c < 0x20)?;
        if rest[n] != b'"' {
            return None;
        }
        let s = std::str::from_utf8(&rest[..n]).ok()?;
        self.i += n + 1;
        Some(s)
    }

    /// A hash: `"` 64 lowercase hex digits `"`.
    #[inline]
    fn hash(&mut self) -> Option<Hash32> {
        let s = self.b.get(self.i..self.i + 66)?;
        if s[0] != b'"' || s[65] != b'"' {
            return None;
        }
        let mut out = [0u8; 32];
        let mut bad = 0u8;
        for (o, pair) in out.iter_mut().zip(s[1..65].chunks_exact(2)) {
            let (hi, lo) = (HEX[pair[0] as usize], HEX[pair[1] as usize]);
            bad |= hi | lo;
            *o = (hi << 4) | (lo & 0x0f);
        }
        if bad & 0xf0 != 0 {
            return None;
        }
        self.i += 66;
        Some(Hash32(out))
    }
}

/// The fast reader of one posting line (see [`Cur`]); its lines are pushed onto `lines`.
fn fast_row<'a>(c: &mut Cur<'a>, lines: &mut Vec<Line>) -> Option<Row<'a>> {
    c.need(b'[')?;
    let seq = c.u64()?;
    c.need(b',')?;
    let kind = Kind::from_code(c.str()?)?;
    c.need(b',')?;
    let amount = c.i64()?;
    c.need(b',')?;
    let reference = if c.lit(b"null") {
        None
    } else if c.lit(b"{\"vote\":") {
        let id = c.i64()?;
        c.need(b'}')?;
        Some(Reference::Vote(id))
    } else if c.lit(b"{\"emergency\":") {
        let id = c.i64()?;
        c.need(b'}')?;
        Some(Reference::Emergency(id))
    } else {
        return None;
    };
    c.need(b',')?;
    let reverses = if c.lit(b"null") { None } else { Some(c.u64()?) };
    c.need(b',')?;
    let cost_review = c.str()?;
    c.need(b',')?;
    let memo = c.str()?;
    c.need(b',')?;
    let value_date = c.str()?;
    c.need(b',')?;
    let posted_by = c.str()?;
    c.need(b',')?;
    let posted_at_ms = c.i64()?;
    c.need(b',')?;
    c.need(b'[')?;
    if !c.eat(b']') {
        loop {
            c.need(b'[')?;
            let room_id = c.i64()?;
            c.need(b',')?;
            let amount = c.i64()?;
            c.need(b']')?;
            lines.push(Line { room_id, amount });
            if c.eat(b']') {
                break;
            }
            c.need(b',')?;
        }
    }
    c.need(b',')?;
    let prev_hash = c.hash()?;
    c.need(b',')?;
    let hash = c.hash()?;
    c.need(b']')?;
    Some(Row {
        seq,
        kind,
        amount,
        reference,
        reverses,
        cost_review: Cow::Borrowed(cost_review),
        memo: Cow::Borrowed(memo),
        value_date: Cow::Borrowed(value_date),
        posted_by: Cow::Borrowed(posted_by),
        posted_at_ms,
        prev_hash,
        hash,
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
        entries: Some(postings.len() as u64),
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

    /// A longer sound chain: first deposits for three rooms, then `n` deposits.
    fn long(n: usize) -> Export {
        let mut x = sound();
        let mut prev = x.postings.last().map(|p| p.hash).unwrap_or_default();
        for i in 0..n {
            let seq = x.postings.len() as u64 + 1;
            let mut d = np(Kind::Deposit, &[(1 + (i as i64 % 3), 100 + i as i64)]);
            d.memo = format!("续筹 {i}");
            let p = append(prev, seq, d);
            prev = p.hash;
            x.postings.push(p);
        }
        let (fund, approvals, ps) = (x.fund.clone(), x.approvals.clone(), x.postings);
        let rooms = x
            .rooms
            .iter()
            .map(|r| (r.room_id, r.label.clone(), r.area))
            .collect();
        seal(fund, rooms, approvals, ps)
    }

    fn file_report(text: &str, parts: Option<usize>) -> Report {
        verify_bytes_on(text.as_bytes(), parts)
            .unwrap_or_else(|e| panic!("{}", e.en))
            .report
    }

    #[test]
    fn version_2_is_a_header_line_then_one_line_per_posting() {
        let x = sound();
        let text = to_json(&x);
        assert!(
            text.starts_with("{\"format\":\"redbutler-fund-export/2\""),
            "{text}"
        );
        assert_eq!(text.lines().count(), 1 + x.postings.len());
        let w = text.lines().nth(3).unwrap_or_default();
        assert!(
            w.starts_with("[3,\"withdrawal\",-30000,{\"vote\":7},null,\"审价 2026-01\",\"\","),
            "{w}"
        );
        assert!(text.ends_with(&format!("\"{}\"]\n", x.head_hash)), "{text}");
        let back = from_slice(text.as_bytes()).unwrap_or_else(|e| panic!("{}", e.en));
        assert_eq!(back, x);
        let r = verify_bytes(text.as_bytes()).unwrap_or_else(|e| panic!("{}", e.en));
        assert!(r.report.ok, "{:?}", r.report.render(Lang::En));
        assert_eq!((r.rooms, r.entries), (3, 4));
        assert_eq!(r.report, verify(&x));
    }

    #[test]
    fn version_1_files_are_still_read() {
        let x = sound();
        let old = to_json_v1(&x);
        assert!(
            old.starts_with("{\"format\":\"redbutler-fund-export/1\""),
            "{old}"
        );
        assert!(
            old.contains("\"reference\":{\"kind\":\"vote\",\"id\":7}"),
            "{old}"
        );
        let back = from_slice(old.as_bytes()).unwrap_or_else(|e| panic!("{}", e.en));
        assert_eq!((back.format.as_str(), back.entries), (FORMAT_V1, None));
        assert_eq!(back.postings, x.postings);
        let r = verify_bytes(old.as_bytes()).unwrap_or_else(|e| panic!("{}", e.en));
        assert!(r.report.ok, "{:?}", r.report.render(Lang::En));
        // A tampered old file names the entry as before.
        let mut t = x.clone();
        t.postings[1].lines[0].amount = 11;
        t.postings[1].amount = 61;
        let f = verify_bytes(to_json_v1(&t).as_bytes())
            .unwrap_or_else(|e| panic!("{}", e.en))
            .report;
        assert_eq!(
            f.first_failure().map(|c| (c.name, c.at)),
            Some(("chain", Some(2)))
        );
        let mut t = x;
        t.format = "redbutler-fund-export/9".into();
        assert_eq!(verify(&t).first_failure().map(|c| c.name), Some("format"));
    }

    #[test]
    fn every_split_of_the_lines_names_the_same_first_bad_entry() {
        let x = long(3_000);
        let text = to_json(&x);
        for parts in [1, 2, 3, 7] {
            let r = file_report(&text, Some(parts));
            assert!(r.ok, "{parts}: {:?}", r.render(Lang::En));
        }
        // Two changed entries, far apart: the lower seq is named, whoever read it.
        let mut t = x.clone();
        for i in [1_700, 2_900] {
            t.postings[i].memo = "改过".into();
        }
        let text = to_json(&t);
        let want = verify(&t);
        assert_eq!(
            want.first_failure().map(|c| (c.name, c.at)),
            Some(("chain", Some(1_701)))
        );
        for parts in [1, 2, 3, 7] {
            assert_eq!(file_report(&text, Some(parts)), want, "{parts}");
        }
        // Two lines swapped in the file.
        let mut lines: Vec<&str> = text.lines().collect();
        lines.swap(101, 102);
        let swapped = lines.join("\n");
        for parts in [1, 2, 5] {
            let f = file_report(&swapped, Some(parts));
            let f = f
                .first_failure()
                .cloned()
                .unwrap_or_else(|| panic!("passed"));
            assert_eq!(
                (f.name, f.at),
                ("chain", Some(101)),
                "{parts}: {}",
                f.detail.en
            );
        }
    }

    #[test]
    fn a_file_cut_at_a_line_end_names_the_first_missing_entry() {
        let x = sound();
        let text = to_json(&x);
        let cut: String = text.lines().take(4).map(|l| format!("{l}\n")).collect();
        let r = file_report(&cut, None);
        let f = r
            .first_failure()
            .cloned()
            .unwrap_or_else(|| panic!("passed"));
        assert_eq!((f.name, f.at), ("chain", Some(4)), "{}", f.detail.en);
        assert!(
            f.detail.en.contains("states 4 entries but holds 3"),
            "{}",
            f.detail.en
        );
        // And one line too many (a copy of the last) is refused too.
        let last = text.lines().last().unwrap_or_default();
        let r = file_report(&format!("{text}{last}\n"), None);
        assert_eq!(
            r.first_failure().map(|c| (c.name, c.at)),
            Some(("chain", Some(5)))
        );
    }

    #[test]
    fn a_file_cut_inside_a_line_or_garbled_names_line_and_column() {
        let text = to_json(&sound());
        let cut = &text[..text.len() - 30];
        for parts in [None, Some(2)] {
            let e = verify_bytes_on(cut.as_bytes(), parts)
                .err()
                .unwrap_or_else(|| panic!("verified"));
            assert!(
                e.en.starts_with("malformed export at line 5, column "),
                "{}",
                e.en
            );
            assert!(e.en.contains("EOF"), "{}", e.en);
            assert!(!e.en.contains("at line 1 column"), "{}", e.en);
        }
        let garbled = text.replacen("[2,\"interest\",60,", "[2,\"interest\",6x,", 1);
        let e = verify_bytes(garbled.as_bytes())
            .err()
            .unwrap_or_else(|| panic!("verified"));
        assert!(
            e.en.starts_with("malformed export at line 3, column 16: "),
            "{}",
            e.en
        );
        assert!(
            e.zh.starts_with("导出文件格式错误,第 3 行第 16 列"),
            "{}",
            e.zh
        );
        let e = from_slice(garbled.as_bytes())
            .err()
            .unwrap_or_else(|| panic!("read"));
        assert!(
            e.en.starts_with("malformed export at line 3, column 16: "),
            "{}",
            e.en
        );
        let e = verify_bytes(b"{\"format\":\"redbutler-fund-export/2\",\"fund\":1}\n")
            .err()
            .unwrap_or_else(|| panic!("verified"));
        assert!(
            e.en.starts_with("malformed export at line 1, column "),
            "{}",
            e.en
        );
        let e = verify_bytes(b"")
            .err()
            .unwrap_or_else(|| panic!("verified"));
        assert!(e.en.starts_with("malformed export at line 1"), "{}", e.en);
    }

    #[test]
    fn escapes_spaces_and_crlf_take_the_careful_path_and_still_verify() {
        let g = genesis("xiayang", 42);
        let mut x = sound();
        // Rebuild the chain with memos that need escaping.
        let mut prev = g;
        for (i, p) in x.postings.iter_mut().enumerate() {
            p.memo = match i {
                0 => "首期 \"A\" 栋\n第二行\\ \u{1}".into(),
                _ => p.memo.clone(),
            };
            p.prev_hash = prev;
            p.hash = p.compute_hash();
            prev = p.hash;
        }
        x.head_hash = prev;
        let text = to_json(&x);
        assert!(text.contains("\\\"A\\\""), "{text}");
        assert_eq!(text.lines().count(), 5);
        assert!(file_report(&text, None).ok);
        assert_eq!(from_slice(text.as_bytes()).ok(), Some(x.clone()));
        let crlf = text.replace('\n', "\r\n");
        assert!(file_report(&crlf, Some(2)).ok);
        let spaced = text.replacen(",\"interest\",", " , \"interest\" ,", 1);
        assert!(file_report(&spaced, None).ok);
        let upper = text.replacen(
            &x.postings[1].hash.hex(),
            &x.postings[1].hash.hex().to_uppercase(),
            1,
        );
        let e = verify_bytes(upper.as_bytes())
            .err()
            .unwrap_or_else(|| panic!("verified"));
        assert!(e.en.contains("line 3"), "{}", e.en);
        assert!(e.en.contains("lowercase hex"), "{}", e.en);
    }

    #[test]
    fn the_fast_reader_takes_exactly_the_compact_form() {
        let mut lines = Vec::new();
        let mut ok = |s: &str| {
            let mut c = Cur {
                b: s.as_bytes(),
                i: 0,
            };
            lines.clear();
            fast_row(&mut c, &mut lines).map(|r| (r.seq, r.amount, c.i == s.len()))
        };
        let h = "0".repeat(64);
        let row = |amount: &str| {
            format!("[1,\"deposit\",{amount},null,null,\"\",\"\",\"2026-03-01\",\"u\",0,[[1,{amount}]],\"{h}\",\"{h}\"]")
        };
        assert_eq!(ok(&row("5")), Some((1, 5, true)));
        assert_eq!(ok(&row("-9223372036854775808")), Some((1, i64::MIN, true)));
        for bad in ["05", "1.0", "1e3", "9223372036854775808", "-", "+1", " 1"] {
            assert_eq!(ok(&row(bad)), None, "{bad}");
        }
        assert_eq!(ok(&row("1").replace("deposit", "gift")), None);
        assert_eq!(ok(&row("1").replacen(&h, &"g".repeat(64), 1)), None);
    }
}
