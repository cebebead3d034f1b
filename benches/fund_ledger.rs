//! The maintenance fund ledger: apportioning one repair over 10,000 rooms (target: under
//! 10 ms) and verifying a 1,000,000-entry ledger (target: under 1 s).
//!
//! Builds a building fund of 500 rooms (areas 40–160 m² in hundredths, from a fixed seed)
//! and a chain of postings: first deposits, then a mix of deposits, interest, top-ups,
//! withdrawals against a vote and reversals, each touching 1–3 rooms. Times
//! `apportion` over 10,000 rooms (20 runs after a warm-up, median and maximum, checking the
//! parts add up), then `export::verify` on the ledger in memory (every hash, every rule and
//! every balance), and last the whole `redbutler ledger verify FILE` path exactly as the
//! command runs it (`cli::verify_path`: read the export file from disk, parse, verify, render
//! the report), 7 runs after a warm-up, then once on a tampered copy (the entry must be named).
//!
//! Run: `cargo bench --bench fund_ledger` (optionally `FUND_BENCH_ENTRIES=100000`;
//! `FUND_BENCH_KEEP=/path/fund.jsonl` keeps the export file there, to time the real binary on
//! it; `FUND_BENCH_V1=1` also times an old-format file).

use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use redbutler::property::fund::apportion::{apportion, Weight};
use redbutler::property::fund::chain::{append, genesis, NewPosting, Posting};
use redbutler::property::fund::cli::{verify_path, ReportLang};
use redbutler::property::fund::export::{self, Approval, FundHeader};
use redbutler::property::fund::ledger::{negated, Kind, Line, Reference};

const ROOMS: i64 = 500;

fn median(mut v: Vec<Duration>) -> (Duration, Duration) {
    v.sort();
    (v[v.len() / 2], v[v.len() - 1])
}

fn np(kind: Kind, lines: Vec<Line>, at: i64) -> NewPosting {
    NewPosting {
        kind,
        amount: lines.iter().map(|l| l.amount).sum(),
        reference: None,
        reverses: None,
        cost_review: String::new(),
        memo: String::new(),
        value_date: "2026-03-01".into(),
        posted_by: "user:1".into(),
        posted_at_ms: at,
        lines,
    }
}

/// A ledger of `n` postings that follows every rule.
fn ledger(rng: &mut ChaCha8Rng, n: usize) -> Vec<Posting> {
    let g = genesis("bench", 1);
    let mut ps: Vec<Posting> = Vec::with_capacity(n);
    let mut balance = vec![0i64; ROOMS as usize];
    let mut reversed = vec![false; n];
    let push = |ps: &mut Vec<Posting>, p: NewPosting| {
        let prev = ps.last().map_or(g, |x: &Posting| x.hash);
        let seq = ps.len() as u64 + 1;
        ps.push(append(prev, seq, p));
    };
    for r in 0..ROOMS.min(n as i64) {
        let amt = rng.gen_range(400_000..1_600_000);
        balance[r as usize] += amt;
        push(
            &mut ps,
            np(
                Kind::FirstDeposit,
                vec![Line {
                    room_id: r,
                    amount: amt,
                }],
                r,
            ),
        );
    }
    while ps.len() < n {
        let at = ps.len() as i64;
        let k: u32 = rng.gen_range(0..100);
        let rooms: Vec<i64> = {
            let a = rng.gen_range(0..ROOMS);
            let c = rng.gen_range(1..=3);
            (0..c).map(|i| (a + i * 7) % ROOMS).collect()
        };
        if k < 10 && ps.len() > ROOMS as usize {
            // Reverse a recent adding posting not reversed yet (never drives a room below 0
            // because its money is still there when balances stay high).
            let i = rng.gen_range(ps.len() - 50..ps.len());
            let t = &ps[i];
            if !reversed[i]
                && t.kind != Kind::Reversal
                && t.kind != Kind::FirstDeposit
                && t.lines
                    .iter()
                    .all(|l| balance[l.room_id as usize] - l.amount >= 0)
            {
                for l in &t.lines {
                    balance[l.room_id as usize] -= l.amount;
                }
                let mut p = np(Kind::Reversal, negated(&t.lines), at);
                p.reverses = Some(t.seq);
                p.memo = "录入有误".into();
                reversed[i] = true;
                push(&mut ps, p);
            }
            continue;
        }
        let (kind, sign) = match k {
            10..=49 => (Kind::Deposit, 1),
            50..=69 => (Kind::Interest, 1),
            70..=79 => (Kind::TopUp, 1),
            _ => (Kind::Withdrawal, -1),
        };
        let lines: Vec<Line> = rooms
            .iter()
            .map(|&r| {
                let amt = if sign > 0 {
                    rng.gen_range(1..50_000)
                } else {
                    rng.gen_range(1..=balance[r as usize].clamp(1, 50_000))
                };
                Line {
                    room_id: r,
                    amount: sign * amt,
                }
            })
            .collect();
        if lines
            .iter()
            .any(|l| balance[l.room_id as usize] + l.amount < 0)
        {
            continue;
        }
        for l in &lines {
            balance[l.room_id as usize] += l.amount;
        }
        let mut p = np(kind, lines, at);
        if kind == Kind::Withdrawal {
            p.reference = Some(Reference::Vote(7));
            p.cost_review = "审价".into();
        }
        push(&mut ps, p);
    }
    ps
}

fn main() {
    // `cargo test --all-targets` runs bench targets too, without `--bench`: only check that it
    // builds then; the measurement runs under `cargo bench`.
    if !std::env::args().any(|a| a == "--bench") {
        println!("fund_ledger: run with `cargo bench --bench fund_ledger`");
        return;
    }
    let entries: usize = std::env::var("FUND_BENCH_ENTRIES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let mut rng = ChaCha8Rng::seed_from_u64(2026);

    // Apportion one repair over 10,000 rooms.
    let rooms: Vec<Weight> = (0..10_000)
        .map(|i| Weight {
            room_id: 100_000 + i,
            weight: rng.gen_range(4_000..16_000),
        })
        .collect();
    let cost = 123_456_789i64;
    let mut times = Vec::new();
    for run in 0..21 {
        let t = Instant::now();
        let parts = apportion(cost, &rooms).unwrap_or_default();
        let d = t.elapsed();
        assert_eq!(parts.iter().sum::<i64>(), cost, "the parts add up");
        if run > 0 {
            times.push(d);
        }
    }
    let (med, max) = median(times);
    println!(
        "apportion {cost} fen over {} rooms: median {:.3} ms, max {:.3} ms (target < 10 ms) {}",
        rooms.len(),
        med.as_secs_f64() * 1e3,
        max.as_secs_f64() * 1e3,
        if max < Duration::from_millis(10) {
            "OK"
        } else {
            "SLOW"
        }
    );

    // Verify a ledger.
    let t = Instant::now();
    let ps = ledger(&mut rng, entries);
    println!(
        "built {} postings in {:.2} s",
        ps.len(),
        t.elapsed().as_secs_f64()
    );
    let x = export::seal(
        FundHeader {
            subdistrict_code: "bench".into(),
            building_id: 1,
            building_name: "1号楼".into(),
            genesis_hash: genesis("bench", 1),
            exported_at_ms: 0,
        },
        (0..ROOMS).map(|r| (r, format!("{r}"), 10_000)).collect(),
        vec![Approval {
            reference: Reference::Vote(7),
            title: "维修".into(),
            date: "2026-01-01".into(),
        }],
        ps,
    );
    let mut times = Vec::new();
    for run in 0..6 {
        let t = Instant::now();
        let r = export::verify(&x);
        let d = t.elapsed();
        assert!(r.ok, "{:?}", r.first_failure());
        if run > 0 {
            times.push(d);
        }
    }
    let (med, max) = median(times);
    println!(
        "verify {} entries in memory: median {:.3} s, max {:.3} s (target < 1 s) {}",
        x.postings.len(),
        med.as_secs_f64(),
        max.as_secs_f64(),
        if max < Duration::from_secs(1) {
            "OK"
        } else {
            "SLOW"
        }
    );
    // The `redbutler ledger verify FILE` path, exactly as the command runs it: read the file,
    // parse it, check everything, render the report.
    let keep = std::env::var_os("FUND_BENCH_KEEP").map(std::path::PathBuf::from);
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = keep
        .clone()
        .unwrap_or_else(|| dir.path().join("fund-export.jsonl"));
    let t = Instant::now();
    let text = export::to_json(&x);
    std::fs::write(&path, text.as_bytes()).unwrap_or_else(|e| panic!("write {path:?}: {e}"));
    let size = text.len();
    drop(text);
    println!(
        "wrote the export ({}, {} entries): {:.1} MB in {:.2} s",
        export::FORMAT,
        x.postings.len(),
        size as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );
    let mut times = Vec::new();
    for run in 0..8 {
        let t = Instant::now();
        let (lines, outcome) = verify_path(&path, ReportLang::En).unwrap_or_else(|e| panic!("{e}"));
        let d = t.elapsed();
        assert!(outcome.is_ok(), "{lines:?}");
        assert!(
            lines[0].contains(&format!("{} entries", x.postings.len())),
            "{lines:?}"
        );
        if run > 0 {
            times.push(d);
        }
    }
    let (med, max) = median(times);
    println!(
        "redbutler ledger verify FILE ({:.1} MB on disk, read + parse + verify + report): median {:.3} s, max {:.3} s (target < 1 s) {}",
        size as f64 / 1e6,
        med.as_secs_f64(),
        max.as_secs_f64(),
        if max < Duration::from_secs(1) {
            "OK"
        } else {
            "SLOW"
        }
    );

    // A tampered file still names its entry, at the same cost: one changed amount in the
    // middle of the chain.
    let mid = x.postings.len() / 2;
    let mut bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{e}"));
    let seq = x.postings[mid].seq;
    let needle = format!("[{seq},\"");
    let at = find(&bytes, needle.as_bytes()).unwrap_or_else(|| panic!("no line {seq}"));
    let line_end = at + bytes[at..].iter().position(|&b| b == b'\n').unwrap_or(0);
    // The posted_at_ms digit before the lines array: change its last digit.
    let digit = at + find(&bytes[at..line_end], b",[[").unwrap_or(0) - 1;
    bytes[digit] = if bytes[digit] == b'1' { b'2' } else { b'1' };
    let tampered = dir.path().join("tampered.jsonl");
    std::fs::write(&tampered, &bytes).unwrap_or_else(|e| panic!("{e}"));
    drop(bytes);
    let t = Instant::now();
    let (lines, outcome) = verify_path(&tampered, ReportLang::En).unwrap_or_else(|e| panic!("{e}"));
    let d = t.elapsed();
    let err = outcome.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(
        err.contains(&format!("first: entry hash chain (entry {seq})")),
        "{err}\n{lines:?}"
    );
    println!(
        "the same file with entry {seq} changed: named in {:.3} s",
        d.as_secs_f64()
    );
    let _ = std::fs::remove_file(&tampered);

    // The old single-object format, still read (slower: it cannot be split by lines).
    if std::env::var_os("FUND_BENCH_V1").is_some() {
        let old = dir.path().join("fund-export-v1.json");
        let text = export::to_json_v1(&x);
        std::fs::write(&old, text.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        let t = Instant::now();
        let (_, outcome) = verify_path(&old, ReportLang::En).unwrap_or_else(|e| panic!("{e}"));
        assert!(outcome.is_ok());
        println!(
            "the same ledger as an old {} file ({:.1} MB): {:.3} s",
            export::FORMAT_V1,
            text.len() as f64 / 1e6,
            t.elapsed().as_secs_f64()
        );
    }
    if let Some(p) = keep {
        println!("kept the export at {}", p.display());
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
