//! `redbutler vote verify FILE`, run as the real binary on exports built with the library:
//! a sound export passes with exit status 0; tampered ones fail, non-zero, naming where.

use std::path::Path;
use std::process::{Command, Output};

use redbutler::votes::chain::{self, BallotChannel, NewBallot};
use redbutler::votes::electorate::{Electorate, OwnerRef, RoomInput};
use redbutler::votes::export::{self, Export, ExportHeader};
use redbutler::votes::model::{Choice, Matter};
use redbutler::votes::rules::Thresholds;
use redbutler::votes::tally::{self, Form};
use redbutler::votes::verify::export_voters;
use serde_json::{json, Value};

/// Twelve rooms, eleven voters (one buyer of two rooms), nine ballots.
fn sound() -> Export {
    let rooms: Vec<RoomInput> = (1..=12)
        .map(|i| RoomInput {
            room_id: 300 + i,
            registered_area: Some(8_000 + i * 137),
            surveyed_area: None,
            contract_area: None,
            developer_unsold: false,
            owners: vec![OwnerRef::Person(if i == 12 { 11 } else { i })],
        })
        .collect();
    let e = Electorate::freeze(&rooms);
    let form = Form::YesNo;
    let thresholds = Thresholds::for_matter(Matter::UseFund);
    let mut x = Export {
        format: export::FORMAT.into(),
        header: ExportHeader {
            vote_id: 7,
            subdistrict_code: "xiayang".into(),
            title: "使用维修资金更换水泵".into(),
            matter: Matter::UseFund,
            form: serde_json::to_value(form).unwrap_or_default(),
            thresholds: serde_json::to_value(thresholds).unwrap_or_default(),
            thresholds_canonical: serde_json::to_string(&thresholds).unwrap_or_default(),
            scope: json!({"node": 3}),
            record_date: "2026-05-01".into(),
            period_start_ms: 1_777_000_000_000,
            period_end_ms: 1_778_000_000_000,
            electorate_digest: String::new(),
            published_result: Value::Null,
        },
        electorate: export_voters(&e),
        ballots: Vec::new(),
        head_hash: String::new(),
    };
    x.header.electorate_digest = x.computed_electorate_digest();
    let h = x.header.chain_header();
    let mut cast = Vec::new();
    for i in 1..=9 {
        let key = format!("p:{i}");
        let choice = if i % 4 == 0 { Choice::No } else { Choice::Yes };
        let r = chain::append_after(
            &h,
            x.ballots.last(),
            NewBallot {
                vote_id: 7,
                voter_key: key.clone(),
                choice: choice.clone(),
                channel: BallotChannel::Online,
                cast_by: key.clone(),
                confirmed_by: None,
                proxy_attachment_sha256: None,
                cast_at_ms: 1_777_000_100_000 + i,
            },
        );
        x.ballots.push(r);
        cast.push((key, choice));
    }
    x.head_hash = chain::head(&h, &x.ballots);
    let t = tally::tally(&e, &form, &thresholds, &cast);
    x.header.published_result = serde_json::to_value(&t).unwrap_or_default();
    x
}

fn run(dir: &Path, name: &str, content: &[u8], args: &[&str]) -> Output {
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap_or_else(|e| panic!("write {name}: {e}"));
    let mut c = Command::new(env!("CARGO_BIN_EXE_redbutler"));
    c.args(["vote", "verify"])
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
fn a_sound_export_verifies_with_status_zero() {
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
fn a_changed_ballot_fails_and_names_it() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut x = sound();
    x.ballots[3].choice = Choice::Yes;
    let o = run(
        dir.path(),
        "tampered.json",
        export::to_json(&x).as_bytes(),
        &["--lang", "en"],
    );
    let (out, err) = text(&o);
    assert_ne!(o.status.code(), Some(0), "{out}\n{err}");
    assert!(
        out.contains("[FAIL] ballot hash chain: Ballot 4 (seq 4)"),
        "{out}"
    );
    assert!(
        out.contains("[FAIL] recount against the published result"),
        "{out}"
    );
    assert!(!out.contains("核验"), "English only: {out}");
    assert!(
        err.contains("NOT verified: 2 check(s) failed, first: ballot hash chain (ballot 4)"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn a_changed_published_result_fails_in_chinese_with_its_path() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut x = sound();
    x.header.published_result["outcome"] = json!("rejected");
    let o = run(
        dir.path(),
        "result.json",
        export::to_json(&x).as_bytes(),
        &["--lang", "zh"],
    );
    let (out, err) = text(&o);
    assert_ne!(o.status.code(), Some(0));
    assert!(out.contains("[FAIL] 重新计票与公布结果"), "{out}");
    assert!(out.contains("在 /outcome"), "{out}");
    assert!(err.contains("核验未通过"), "{err}");
}

#[test]
fn unreadable_and_malformed_files_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let o = run(
        dir.path(),
        "bad.json",
        b"{\n  \"format\": \"redbutler-vote-export/1\",\n  \"header\": [\n",
        &["--lang", "en"],
    );
    let (out, err) = text(&o);
    assert_ne!(o.status.code(), Some(0));
    assert!(out.is_empty(), "{out}");
    assert!(err.contains("malformed export at line 4, column"), "{err}");

    let mut c = Command::new(env!("CARGO_BIN_EXE_redbutler"));
    let o = c
        .args(["vote", "verify", "--lang", "en"])
        .arg(dir.path().join("missing.json"))
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let (_, err) = text(&o);
    assert_ne!(o.status.code(), Some(0));
    assert!(err.contains("cannot read"), "{err}");
    assert!(err.contains("missing.json"), "{err}");
}
