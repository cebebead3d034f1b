//! Re-checking a vote export end to end: [`verify_file`] reads the document and runs every
//! check of [`export::verify`], with [`recount`] — the real tally over the export's own
//! electorate, form, thresholds and ballots — as the recount the published result is compared
//! with. Pure: bytes in, a report out.
//!
//! The export contract (what storage writes and this module reads back):
//! - `header.form` is `serde_json::to_value(&tally::Form)`;
//! - `header.thresholds` is `serde_json::to_value(&rules::Thresholds)` and
//!   `header.thresholds_canonical` is `serde_json::to_string(&thresholds)` (the text the
//!   chain's genesis hash binds);
//! - `header.published_result` is `serde_json::to_value(&tally::Tally)` of the final count;
//! - `electorate` lists every voter of the frozen electorate (key, area, rooms), and each
//!   counts as one owner;
//! - `ballots` are the chain records, in chain order.
//!
//! The export does not carry who may cast each voter's ballot (`electorate::Voter::persons`
//! and `orgs`). The recount needs that only for `Voter::castable`, which it derives from the
//! key (see [`electorate_of`]).

use std::collections::HashSet;

use serde_json::Value;

use crate::votes::electorate::{self, Electorate};
use crate::votes::export::{self, Export, ExportError, Report, VoterRoom};
use crate::votes::model::Choice;
use crate::votes::rules::Thresholds;
use crate::votes::tally::{self, Form};

/// Stands for "someone of record may cast" when the key names nobody (the developer): the
/// export does not say who represents the developer, and no id is needed to count.
const CASTABLE_MARKER: i64 = 0;

/// The export's voter list for a frozen electorate (the mapping storage uses).
pub fn export_voters(e: &Electorate) -> Vec<export::Voter> {
    e.voters
        .iter()
        .map(|v| export::Voter {
            key: v.key.clone(),
            area: v.area,
            rooms: v
                .rooms
                .iter()
                .map(|&(room_id, area)| VoterRoom { room_id, area })
                .collect(),
        })
        .collect()
}

/// Rebuilds the frozen electorate from an export's voters: each voter counts as one owner,
/// the totals are the sums over all of them, and there are no registry problems (those
/// were settled before the vote opened).
///
/// Castability is derived from the key, since the export does not list who may cast:
/// `room:<id>` (a room without an owner of record) is not castable; an owner set
/// (`p:12+o:3`) gets those persons and organisations; `developer` and any other key are
/// castable. Refuses a key listed twice.
pub fn electorate_of(voters: &[export::Voter]) -> Result<Electorate, String> {
    let mut seen: HashSet<&str> = HashSet::new();
    for v in voters {
        if !seen.insert(v.key.as_str()) {
            return Err(format!(
                "投票单位 {k} 重复列出 / voter unit {k} is listed twice",
                k = v.key
            ));
        }
    }
    let mut out: Vec<electorate::Voter> = voters
        .iter()
        .map(|v| {
            let mut rooms: Vec<(i64, u64)> = v.rooms.iter().map(|r| (r.room_id, r.area)).collect();
            rooms.sort_unstable();
            let (persons, orgs) = casters_of(&v.key);
            electorate::Voter {
                key: v.key.clone(),
                rooms,
                area: v.area,
                persons,
                orgs,
            }
        })
        .collect();
    out.sort_unstable_by(|a, b| a.key.cmp(&b.key));
    let total_area = out
        .iter()
        .try_fold(0u64, |acc, v| acc.checked_add(v.area))
        .ok_or_else(|| "名册面积合计溢出 / the electorate's total area overflows".to_owned())?;
    Ok(Electorate {
        total_owners: out.len() as u64,
        total_area,
        voters: out,
        problems: Vec::new(),
    })
}

/// Who may cast, as far as the key tells: see [`electorate_of`].
fn casters_of(key: &str) -> (Vec<i64>, Vec<i64>) {
    if key.starts_with("room:") {
        return (Vec::new(), Vec::new());
    }
    let (mut persons, mut orgs) = (Vec::new(), Vec::new());
    for part in key.split('+') {
        if let Some(id) = part.strip_prefix("p:").and_then(|s| s.parse().ok()) {
            persons.push(id);
        } else if let Some(id) = part.strip_prefix("o:").and_then(|s| s.parse().ok()) {
            orgs.push(id);
        }
    }
    if persons.is_empty() && orgs.is_empty() {
        orgs.push(CASTABLE_MARKER);
    }
    persons.sort_unstable();
    persons.dedup();
    orgs.sort_unstable();
    orgs.dedup();
    (persons, orgs)
}

/// The form and thresholds from the header, with the thresholds checked against their
/// canonical text (the one the chain binds).
pub fn form_and_thresholds(export: &Export) -> Result<(Form, Thresholds), String> {
    let form: Form = serde_json::from_value(export.header.form.clone())
        .map_err(|e| format!("表头的表决形式无法读取 / the header's form cannot be read: {e}"))?;
    let thresholds: Thresholds =
        serde_json::from_value(export.header.thresholds.clone()).map_err(|e| {
            format!("表头的表决门槛无法读取 / the header's thresholds cannot be read: {e}")
        })?;
    let canonical = serde_json::to_string(&thresholds)
        .map_err(|e| format!("表决门槛无法序列化 / the thresholds cannot be serialised: {e}"))?;
    if canonical != export.header.thresholds_canonical {
        return Err(format!(
            "表头的表决门槛 {canonical} 与链条绑定的规范文本 {} 不一致 / \
             the header's thresholds {canonical} differ from the canonical text {} bound into the chain",
            export.header.thresholds_canonical, export.header.thresholds_canonical
        ));
    }
    Ok((form, thresholds))
}

/// Recounts a vote from its export alone: the electorate rebuilt from its voters, the form
/// and thresholds from its header, and every ballot in the box, through [`tally::tally`].
/// Returns the tally as the JSON that is published (`serde_json::to_value(&Tally)`).
pub fn recount(export: &Export) -> Result<Value, String> {
    let electorate = electorate_of(&export.electorate)?;
    let (form, thresholds) = form_and_thresholds(export)?;
    let ballots: Vec<(&str, Choice)> = export
        .ballots
        .iter()
        .map(|b| (b.voter_key.as_str(), b.choice.clone()))
        .collect();
    let t = tally::tally(&electorate, &form, &thresholds, &ballots);
    serde_json::to_value(&t)
        .map_err(|e| format!("计票结果无法序列化 / the tally cannot be serialised: {e}"))
}

/// Reads an export from its bytes (UTF-8 JSON); errors carry their line and column.
pub fn read_export(bytes: &[u8]) -> Result<Export, ExportError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let (line, column) = position_of(bytes, e.valid_up_to());
        ExportError::Malformed {
            line,
            column,
            message: format!("invalid UTF-8: {e}"),
        }
    })?;
    export::from_json(text)
}

/// Reads an export (UTF-8 JSON) and verifies it with the real recount.
pub fn verify_file(bytes: &[u8]) -> Result<Report, ExportError> {
    let export = read_export(bytes)?;
    Ok(export::verify(&export, &recount))
}

/// Line and column (from 1, column in characters) of a byte offset in valid UTF-8 text.
fn position_of(bytes: &[u8], offset: usize) -> (usize, usize) {
    let valid = bytes.get(..offset).unwrap_or(bytes);
    let text = String::from_utf8_lossy(valid);
    let line = text.matches('\n').count() + 1;
    let column = text.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;
    use crate::votes::chain::{self, append_after, BallotChannel, NewBallot};
    use crate::votes::electorate::{OwnerRef, RoomInput};
    use crate::votes::model::Matter;
    use crate::votes::tally::{Counts, Outcome, Tally};
    use serde_json::json;

    fn room(id: i64, area: i64, owners: &[OwnerRef], unsold: bool) -> RoomInput {
        RoomInput {
            room_id: id,
            registered_area: Some(area),
            surveyed_area: None,
            contract_area: None,
            developer_unsold: unsold,
            owners: owners.to_vec(),
        }
    }

    /// Ten rooms: the developer's two unsold ones, a buyer of two rooms, co-owners, and
    /// single owners.
    fn estate() -> Electorate {
        use OwnerRef::{Org, Person};
        Electorate::freeze(&[
            room(101, 8_950, &[Org(900)], true),
            room(102, 8_950, &[Org(900)], true),
            room(103, 12_000, &[Person(1)], false),
            room(104, 12_000, &[Person(1)], false),
            room(105, 9_530, &[Person(2), Person(3)], false),
            room(106, 7_725, &[Person(4)], false),
            room(107, 10_010, &[Person(5)], false),
            room(108, 6_400, &[Person(6), Org(7)], false),
            room(109, 11_111, &[Person(8)], false),
            room(110, 9_999, &[Person(9)], false),
        ])
    }

    fn sealed(
        e: &Electorate,
        form: Form,
        matter: Matter,
        choices: &[(&str, Choice)],
    ) -> (Export, Tally) {
        let thresholds = Thresholds::for_matter(matter);
        let mut x = Export {
            format: export::FORMAT.into(),
            header: export::ExportHeader {
                vote_id: 42,
                subdistrict_code: "xiayang".into(),
                title: "选聘物业服务企业".into(),
                matter,
                form: serde_json::to_value(form).unwrap_or_default(),
                thresholds: serde_json::to_value(thresholds).unwrap_or_default(),
                thresholds_canonical: serde_json::to_string(&thresholds).unwrap_or_default(),
                scope: json!({"node": 7}),
                record_date: "2026-03-01".into(),
                period_start_ms: 1_772_000_000_000,
                period_end_ms: 1_773_000_000_000,
                electorate_digest: String::new(),
                published_result: Value::Null,
            },
            electorate: export_voters(e),
            ballots: Vec::new(),
            head_hash: String::new(),
        };
        x.header.electorate_digest = x.computed_electorate_digest();
        let h = x.header.chain_header();
        for (i, (key, choice)) in choices.iter().enumerate() {
            let paper = i % 3 == 1;
            let b = NewBallot {
                vote_id: 42,
                voter_key: (*key).into(),
                choice: choice.clone(),
                channel: if paper {
                    BallotChannel::Paper
                } else {
                    BallotChannel::Online
                },
                cast_by: if paper {
                    "staff:3".into()
                } else {
                    (*key).into()
                },
                confirmed_by: paper.then(|| "staff:4".into()),
                proxy_attachment_sha256: None,
                cast_at_ms: 1_772_000_100_000 + i as i64,
            };
            let r = append_after(&h, x.ballots.last(), b);
            x.ballots.push(r);
        }
        x.head_hash = chain::head(&h, &x.ballots);
        let ballots: Vec<(&str, Choice)> = choices.to_vec();
        let t = tally::tally(e, &form, &thresholds, &ballots);
        x.header.published_result = serde_json::to_value(&t).unwrap_or_default();
        (x, t)
    }

    fn yes_no() -> (Export, Tally) {
        let e = estate();
        sealed(
            &e,
            Form::YesNo,
            Matter::PropertyCompany,
            &[
                ("developer", Choice::Yes),
                ("p:1", Choice::Yes),
                ("p:2+p:3", Choice::No),
                ("p:4", Choice::Yes),
                ("p:5", Choice::Abstain),
                ("p:6+o:7", Choice::Yes),
                ("p:8", Choice::Yes),
            ],
        )
    }

    fn failed(r: &Report) -> Vec<&'static str> {
        r.checks.iter().filter(|c| !c.ok).map(|c| c.name).collect()
    }

    fn detail(r: &Report, name: &str) -> String {
        r.checks
            .iter()
            .find(|c| c.name == name)
            .map(|c| format!("{} | {}", c.detail.zh, c.detail.en))
            .unwrap_or_default()
    }

    fn verify_json(x: &Export) -> Report {
        match verify_file(export::to_json(x).as_bytes()) {
            Ok(r) => r,
            Err(e) => panic!("unreadable: {e}"),
        }
    }

    #[test]
    fn the_rebuilt_electorate_equals_the_frozen_one_but_for_who_may_cast() {
        let e = estate();
        assert!(e.is_clean());
        let back = electorate_of(&export_voters(&e)).unwrap_or_else(|m| panic!("{m}"));
        assert_eq!(back.total_area, e.total_area);
        assert_eq!(back.total_owners, e.total_owners);
        assert!(back.problems.is_empty());
        assert_eq!(back.voters.len(), e.voters.len());
        for (a, b) in back.voters.iter().zip(&e.voters) {
            assert_eq!((&a.key, &a.rooms, a.area), (&b.key, &b.rooms, b.area));
            assert!(a.castable());
            if a.key != electorate::DEVELOPER_KEY {
                assert_eq!((&a.persons, &a.orgs), (&b.persons, &b.orgs));
            }
        }
    }

    #[test]
    fn keys_decide_who_may_cast() {
        assert_eq!(casters_of("p:12+p:40"), (vec![12, 40], vec![]));
        assert_eq!(casters_of("p:1+o:3"), (vec![1], vec![3]));
        assert_eq!(casters_of("room:77"), (vec![], vec![]));
        assert_eq!(casters_of("developer"), (vec![], vec![CASTABLE_MARKER]));
    }

    #[test]
    fn an_ownerless_room_stays_in_the_totals_and_cannot_vote() {
        let e = Electorate::freeze(&[
            room(1, 10_000, &[OwnerRef::Person(1)], false),
            room(2, 10_000, &[], false),
        ]);
        let (x, t) = sealed(
            &e,
            Form::YesNo,
            Matter::OtherMajor,
            &[("p:1", Choice::Yes), ("room:2", Choice::Yes)],
        );
        assert_eq!(t.total.owners, 2);
        assert_eq!(recount(&x), Ok(x.header.published_result.clone()));
    }

    #[test]
    fn duplicate_keys_are_not_recounted() {
        let (mut x, _) = yes_no();
        let first = x.electorate[0].clone();
        x.electorate.push(first);
        let err = recount(&x).err().unwrap_or_default();
        assert!(err.contains("listed twice"), "{err}");
    }

    #[test]
    fn a_sound_yes_no_export_verifies() {
        let (x, t) = yes_no();
        assert_eq!(t.outcome, Outcome::Approved);
        let r = verify_json(&x);
        assert!(r.ok, "{:#?}", r.render(Lang::En));
        assert_eq!(r.checks.len(), 9);
        assert!(r
            .render(Lang::Zh)
            .last()
            .is_some_and(|l| l.contains("核验通过")));
    }

    #[test]
    fn sound_election_and_options_exports_verify() {
        let e = estate();
        let (x, t) = sealed(
            &e,
            Form::Election {
                seats: 2,
                candidates: 3,
            },
            Matter::OwnersCommittee,
            &[
                ("developer", Choice::Candidates { ids: vec![1, 2] }),
                ("p:1", Choice::Candidates { ids: vec![2, 3] }),
                ("p:2+p:3", Choice::Candidates { ids: vec![2] }),
                ("p:4", Choice::Candidates { ids: vec![] }),
                ("p:5", Choice::Candidates { ids: vec![1, 2, 3] }),
                ("p:6+o:7", Choice::Candidates { ids: vec![1, 2] }),
                ("p:8", Choice::Candidates { ids: vec![2, 1] }),
            ],
        );
        assert!(matches!(t.counts, Counts::Election(_)));
        assert!(verify_json(&x).ok);
        let (x, t) = sealed(
            &e,
            Form::Options { count: 3 },
            Matter::PropertyCompany,
            &[
                ("developer", Choice::Option { id: Some(1) }),
                ("p:1", Choice::Option { id: Some(1) }),
                ("p:2+p:3", Choice::Option { id: Some(2) }),
                ("p:4", Choice::Option { id: None }),
                ("p:5", Choice::Option { id: Some(1) }),
                ("p:6+o:7", Choice::Option { id: Some(1) }),
                ("p:8", Choice::Yes),
            ],
        );
        assert!(matches!(t.counts, Counts::Options(_)));
        assert!(verify_json(&x).ok);
    }

    #[test]
    fn an_empty_box_verifies_with_no_quorum() {
        let (x, t) = sealed(&estate(), Form::YesNo, Matter::UseFund, &[]);
        assert_eq!(t.outcome, Outcome::NoQuorum);
        assert!(verify_json(&x).ok);
    }

    #[test]
    fn a_changed_choice_breaks_the_chain_at_that_ballot() {
        let (mut x, _) = yes_no();
        x.ballots[2].choice = Choice::Yes;
        let r = verify_json(&x);
        assert!(!r.ok);
        // The count changes too, so the published result no longer matches.
        assert_eq!(failed(&r), vec!["chain", "result"]);
        let chain = r.checks.iter().find(|c| c.name == "chain");
        assert_eq!(chain.and_then(|c| c.at), Some(2));
        assert_eq!(r.first_failure.as_ref().map(|c| c.name), Some("chain"));
        let d = detail(&r, "chain");
        assert!(d.contains("第 3 张选票（序号 3）"), "{d}");
        assert!(d.contains("Ballot 3 (seq 3)"), "{d}");
        let d = detail(&r, "result");
        assert!(d.contains("/counts/"), "{d}");
    }

    #[test]
    fn a_changed_area_fails_the_digest() {
        let (mut x, _) = yes_no();
        let i = x
            .electorate
            .iter()
            .position(|v| v.key == "p:1")
            .unwrap_or_default();
        x.electorate[i].area += 100;
        x.electorate[i].rooms[0].area += 100;
        let r = verify_json(&x);
        assert!(!r.ok);
        assert_eq!(failed(&r), vec!["electorate_digest", "result"]);
        assert!(detail(&r, "electorate_digest").contains("the electorate was changed"));
        let d = detail(&r, "result");
        assert!(d.contains("/counts/yes/area"), "{d}");
    }

    #[test]
    fn a_changed_published_result_names_the_json_path() {
        let (mut x, _) = yes_no();
        x.header.published_result["counts"]["yes"]["owners"] = json!(99);
        let r = verify_json(&x);
        assert_eq!(failed(&r), vec!["result"]);
        let d = detail(&r, "result");
        assert!(d.contains("/counts/yes/owners"), "{d}");
        assert!(d.contains("published 99"), "{d}");
    }

    #[test]
    fn a_published_outcome_flipped_is_caught() {
        let (mut x, _) = yes_no();
        x.header.published_result["outcome"] = json!("rejected");
        let r = verify_json(&x);
        assert_eq!(failed(&r), vec!["result"]);
        assert!(detail(&r, "result").contains("/outcome"));
    }

    #[test]
    fn a_deleted_ballot_breaks_the_chain_where_it_was() {
        let (mut x, _) = yes_no();
        x.ballots.remove(3);
        let r = verify_json(&x);
        assert_eq!(failed(&r), vec!["chain", "result"]);
        let chain = r.checks.iter().find(|c| c.name == "chain");
        assert_eq!(chain.and_then(|c| c.at), Some(3));
        let d = detail(&r, "chain");
        assert!(d.contains("Ballot 4 (seq 5)"), "{d}");
    }

    #[test]
    fn a_cut_off_last_ballot_fails_the_head_hash() {
        let (mut x, _) = yes_no();
        x.ballots.pop();
        let r = verify_json(&x);
        assert_eq!(failed(&r), vec!["head_hash", "result"]);
        let head = r.checks.iter().find(|c| c.name == "head_hash");
        assert_eq!(head.and_then(|c| c.at), Some(5));
    }

    #[test]
    fn thresholds_that_disagree_with_their_canonical_text_fail_the_recount() {
        let (mut x, _) = yes_no();
        // Loosened in the readable JSON only: the chain still binds the canonical text.
        x.header.thresholds =
            serde_json::to_value(Thresholds::for_matter(Matter::OtherMajor)).unwrap_or_default();
        x.header.thresholds["approve_area"] = json!({"more_than": {"num": 1, "den": 3}});
        let r = verify_json(&x);
        assert_eq!(failed(&r), vec!["result"]);
        let d = detail(&r, "result");
        assert!(d.contains("canonical text"), "{d}");
        assert!(d.contains("could not recount"), "{d}");
    }

    #[test]
    fn changed_canonical_thresholds_break_the_genesis() {
        let (mut x, _) = yes_no();
        let loose = Thresholds {
            approve_area: crate::votes::rules::Bound::MoreThan(crate::votes::rules::Fraction::new(
                1, 3,
            )),
            ..Thresholds::for_matter(Matter::PropertyCompany)
        };
        x.header.thresholds = serde_json::to_value(loose).unwrap_or_default();
        x.header.thresholds_canonical = serde_json::to_string(&loose).unwrap_or_default();
        let r = verify_json(&x);
        assert_eq!(failed(&r), vec!["chain", "result"]);
        assert_eq!(
            r.checks
                .iter()
                .find(|c| c.name == "chain")
                .and_then(|c| c.at),
            Some(0)
        );
    }

    #[test]
    fn an_unreadable_form_fails_the_recount() {
        let (mut x, _) = yes_no();
        x.header.form = json!({"kind": "ranked"});
        let r = verify_json(&x);
        assert_eq!(failed(&r), vec!["result"]);
        assert!(detail(&r, "result").contains("form cannot be read"));
    }

    #[test]
    fn bad_bytes_are_reported_with_their_place() {
        match verify_file(b"{\n  \"format\": 3,\n") {
            Err(ExportError::Malformed { line, .. }) => assert_eq!(line, 3),
            other => panic!("{other:?}"),
        }
        match verify_file(b"{\n  \"format\": \"x\xff\"\n}") {
            Err(ExportError::Malformed { line, column, .. }) => assert_eq!((line, column), (2, 15)),
            other => panic!("{other:?}"),
        }
        let (x, _) = yes_no();
        let mut text = export::to_json(&x);
        text = text.replacen("\"seq\": 2", "\"seq\": \"two\"", 1);
        match verify_file(text.as_bytes()) {
            Err(ExportError::Malformed { line, .. }) => assert!(line > 1),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            verify_file(b"{\"ballots\": []}").err(),
            Some(ExportError::MissingFormat)
        );
    }
}
