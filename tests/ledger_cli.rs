//! `redbutler ledger verify FILE`, run as the real binary on exports built with the library:
//! a sound export passes with exit status 0; tampered ones fail, non-zero, naming the entry
//! and what differs.

use std::path::Path;
use std::process::{Command, Output};

use redbutler::property::fund::chain::{append, genesis, NewPosting, Posting};
use redbutler::property::fund::export::{self, Approval, Export, FundHeader};
use redbutler::property::fund::ledger::{negated, Kind, Line, Reference};

fn np(kind: Kind, lines: &[(i64, i64)]) -> NewPosting {
    let lines: Vec<Line> = lines.iter().map(|&p| Line::from(p)).collect();
    NewPosting {
        kind,
        amount: lines.iter().map(|l| l.amount).sum(),
        reference: None,
        reverses: None,
        cost_review: String::new(),
        memo: "归集".into(),
        value_date: "2026-03-01".into(),
        posted_by: "user:1".into(),
        posted_at_ms: 1_772_000_000_000,
        lines,
    }
}

/// Three rooms: first deposits, interest, a withdrawal against vote 7, its reversal, a top-up.
fn sound() -> Export {
    let g = genesis("310118003", 42);
    let mut ps: Vec<Posting> = Vec::new();
    let mut push = |n: NewPosting| {
        let prev = ps.last().map_or(g, |p| p.hash);
        let seq = ps.len() as u64 + 1;
        ps.push(append(prev, seq, n));
    };
    push(np(
        Kind::FirstDeposit,
        &[(301, 1_051_650), (302, 738_000), (303, 900_000)],
    ));
    push(np(Kind::Interest, &[(301, 1_052), (302, 738), (303, 900)]));
    let mut w = np(
        Kind::Withdrawal,
        &[(301, -41_569), (302, -29_171), (303, -35_573)],
    );
    w.reference = Some(Reference::Vote(7));
    w.cost_review = "审价报告 2026-031".into();
    push(w.clone());
    let mut r = np(Kind::Reversal, &[]);
    r.lines = negated(&w.lines);
    r.amount = -w.amount;
    r.reverses = Some(3);
    r.memo = "重复登记".into();
    push(r);
    push(np(Kind::TopUp, &[(301, 5_000), (302, 3_500), (303, 4_300)]));
    export::seal(
        FundHeader {
            subdistrict_code: "310118003".into(),
            building_id: 42,
            building_name: "城中东路311号".into(),
            genesis_hash: g,
            exported_at_ms: 1_772_000_000_000,
        },
        vec![
            (301, "1单元502".into(), 8_550),
            (302, "1单元601".into(), 6_000),
            (303, "1单元602".into(), 7_317),
        ],
        vec![Approval {
            reference: Reference::Vote(7),
            title: "使用维修资金更换水泵".into(),
            date: "2026-02-20".into(),
        }],
        ps,
    )
}

fn run(dir: &Path, name: &str, content: &[u8], args: &[&str]) -> Output {
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap_or_else(|e| panic!("write {name}: {e}"));
    let mut c = Command::new(env!("CARGO_BIN_EXE_redbutler"));
    c.args(["ledger", "verify"])
        .arg(&path)
        .args(args)
        .env_remove("REDBUTLER_DATABASE")
        .env_remove("REDBUTLER_CONFIG")
        .env("REDBUTLER_LOG", "warn")
        .env("LANG", "C.UTF-8")
        .current_dir(dir);
    c.output().unwrap_or_else(|e| panic!("run redbutler: {e}"))
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn a_sound_ledger_verifies_with_status_zero() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let o = run(
        dir.path(),
        "good.json",
        export::to_json(&sound()).as_bytes(),
        &[],
    );
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}\n{err}");
    assert!(out.contains("核验通过"), "{out}");
    assert!(out.contains("Verified: every check passed."), "{out}");
    assert_eq!(out.matches("[ OK ]").count(), 18, "{out}");
    assert!(!out.contains("[FAIL]"), "{out}");
}

#[test]
fn a_changed_line_fails_and_names_the_entry_and_both_hashes() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut x = sound();
    x.postings[2].lines[1].amount = -9_171;
    x.postings[2].amount += 20_000;
    let stored = x.postings[2].hash.hex();
    let o = run(
        dir.path(),
        "tampered.json",
        export::to_json(&x).as_bytes(),
        &["--lang", "en"],
    );
    let (out, err) = text(&o);
    assert_ne!(o.status.code(), Some(0), "{out}\n{err}");
    assert!(
        out.contains("[FAIL] entry hash chain: entry 3: its content does not match its hash"),
        "{out}"
    );
    assert!(out.contains(&format!("stored {stored}")), "{out}");
    // The reversal no longer mirrors the changed withdrawal.
    assert!(out.contains("[FAIL] entry rules"), "{out}");
    assert!(
        out.contains("entry 4: a reversal has exactly the negated lines of entry 3"),
        "{out}"
    );
    assert!(!out.contains("核验"), "English only: {out}");
    assert!(
        err.contains("fund ledger NOT verified: ")
            && err.contains("first: entry hash chain (entry 3)"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn a_deleted_entry_and_a_changed_balance_fail_in_chinese() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut x = sound();
    x.postings.remove(1);
    x.rooms[0].balance += 100;
    let o = run(
        dir.path(),
        "deleted.json",
        export::to_json(&x).as_bytes(),
        &["--lang", "zh"],
    );
    let (out, err) = text(&o);
    assert_ne!(o.status.code(), Some(0));
    assert!(
        out.contains("[FAIL] 分录哈希链：第 2 个位置应为第 2 笔分录,实为第 3 笔"),
        "{out}"
    );
    assert!(out.contains("[FAIL] 分户余额：房屋 301"), "{out}");
    assert!(err.contains("维修资金账核验未通过"), "{err}");
    assert!(err.contains("第 2 笔分录"), "{err}");
}

#[test]
fn unreadable_and_malformed_files_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let o = run(
        dir.path(),
        "bad.json",
        b"{\n  \"format\": \"redbutler-fund-export/1\",\n  \"fund\": [\n",
        &["--lang", "en"],
    );
    let (out, err) = text(&o);
    assert_ne!(o.status.code(), Some(0));
    assert!(out.is_empty(), "{out}");
    assert!(err.contains("malformed export at line 4, column"), "{err}");

    let o = Command::new(env!("CARGO_BIN_EXE_redbutler"))
        .args(["ledger", "verify", "--lang", "en"])
        .arg(dir.path().join("missing.json"))
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let (_, err) = text(&o);
    assert_ne!(o.status.code(), Some(0));
    assert!(err.contains("cannot read"), "{err}");
    assert!(err.contains("missing.json"), "{err}");
}

#[test]
fn an_old_format_file_still_verifies_and_names_a_changed_entry() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let old = export::to_json_v1(&sound());
    assert!(old.starts_with("{\"format\":\"redbutler-fund-export/1\""));
    let o = run(dir.path(), "old.json", old.as_bytes(), &["--lang", "en"]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}\n{err}");
    assert!(
        out.contains("[ OK ] format version: redbutler-fund-export/1"),
        "{out}"
    );
    assert!(out.contains("5 entries"), "{out}");

    let mut x = sound();
    x.postings[1].amount += 1;
    x.postings[1].lines[0].amount += 1;
    let o = run(
        dir.path(),
        "old-tampered.json",
        export::to_json_v1(&x).as_bytes(),
        &["--lang", "en"],
    );
    let (out, err) = text(&o);
    assert_ne!(o.status.code(), Some(0), "{out}\n{err}");
    assert!(err.contains("first: entry hash chain (entry 2)"), "{err}");
}

#[test]
fn a_truncated_reordered_or_garbled_file_names_the_entry_or_the_line() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let good = export::to_json(&sound());
    let lines: Vec<&str> = good.lines().collect();
    assert_eq!(lines.len(), 6, "a header and five postings");

    // Cut after a whole line: the header says five entries.
    let cut: String = lines[..5].iter().map(|l| format!("{l}\n")).collect();
    let o = run(dir.path(), "cut.jsonl", cut.as_bytes(), &["--lang", "en"]);
    let (out, err) = text(&o);
    assert_ne!(o.status.code(), Some(0), "{out}\n{err}");
    assert!(
        out.contains("[FAIL] entry hash chain: the export states 5 entries but holds 4: entry 5 on is missing"),
        "{out}"
    );
    assert!(err.contains("first: entry hash chain (entry 5)"), "{err}");

    // Cut inside a line: a clear error naming the line, no report, no panic.
    let o = run(
        dir.path(),
        "cut-mid.jsonl",
        &good.as_bytes()[..good.len() - 40],
        &["--lang", "en"],
    );
    let (out, err) = text(&o);
    assert_ne!(o.status.code(), Some(0));
    assert!(out.is_empty(), "{out}");
    assert!(err.contains("malformed export at line 6, column "), "{err}");
    assert!(!err.contains("panicked"), "{err}");

    // Two entries swapped.
    let mut swapped = lines.clone();
    swapped.swap(2, 3);
    let o = run(
        dir.path(),
        "swapped.jsonl",
        swapped.join("\n").as_bytes(),
        &["--lang", "en"],
    );
    let (out, err) = text(&o);
    assert_ne!(o.status.code(), Some(0));
    assert!(
        out.contains("[FAIL] entry hash chain: position 2 should hold entry 2 but holds entry 3"),
        "{out}"
    );
    assert!(err.contains("(entry 2)"), "{err}");

    // A garbled posting line.
    let garbled = good.replacen("[4,\"reversal\",", "[4,\"reversal\"", 1);
    let o = run(
        dir.path(),
        "garbled.jsonl",
        garbled.as_bytes(),
        &["--lang", "zh"],
    );
    let (out, err) = text(&o);
    assert_ne!(o.status.code(), Some(0));
    assert!(out.is_empty(), "{out}");
    assert!(err.contains("导出文件格式错误,第 5 行第 "), "{err}");
}
