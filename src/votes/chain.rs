//! The tamper-evident ballot box: each ballot is a record whose hash covers the record
//! before it, starting from a genesis hash that binds the vote's header. Anyone holding the
//! export can recompute every hash; changing, removing, inserting or reordering a ballot
//! breaks the chain at that place. Pure: no clock, no storage.
//!
//! A ballot is final: there are no corrections (no `supersedes`). A voter unit casts at
//! most one ballot per vote.
//!
//! # Canonical encoding, version 1
//!
//! Hashes are SHA-256, written as 64 lowercase hexadecimal characters. The hashed bytes
//! are a concatenation of fields in the fixed order given below, each encoded as:
//!
//! - `u64(n)`: 8 bytes, unsigned, big-endian.
//! - `i64(n)`: 8 bytes, two's complement, big-endian.
//! - `str(s)`: `u64(byte length of s)` followed by the UTF-8 bytes of `s` (no terminator,
//!   no normalisation).
//! - `opt_str(o)`: one byte `0x00` for none, or one byte `0x01` followed by `str(s)`.
//! - `opt_u64(o)`: one byte `0x00` for none, or one byte `0x01` followed by `u64(n)`.
//!
//! **Electorate digest** = SHA-256 of
//! `str("redbutler-electorate/1")`, `u64(number of voters)`, then for each voter, sorted by
//! (key bytes, area, sorted room ids) ascending: `str(key)`, `u64(area in hundredths of
//! m²)`, `u64(number of rooms)`, and `i64(room id)` for each room id in ascending order.
//!
//! **Header digest** (the genesis hash, the `prev_hash` of ballot 1) = SHA-256 of
//! `str("redbutler-vote-header/1")`, `i64(vote id)`, `str(title)`, `str(matter code)`,
//! `str(thresholds canonical text)`, `str(record date, YYYY-MM-DD)`,
//! `str(electorate digest, hex)`. The matter codes are `rules_of_procedure`,
//! `management_covenant`, `owners_committee`, `property_company`, `use_fund`, `raise_fund`,
//! `rebuild`, `change_use`, `other_major` (Civil Code art. 278 items 1–9 in order).
//!
//! **Ballot hash** = SHA-256 of
//! `str("redbutler-ballot/1")`, `u64(seq)`, `i64(vote id)`, `str(voter key)`, the choice,
//! `str(channel)`, `str(cast by)`, `opt_str(confirmed by)`, `opt_str(proxy attachment
//! sha256)`, `i64(cast at, Unix ms)`, `str(prev hash, hex)`.
//! The channel is `online`, `paper` or `proxy`. The choice is one of:
//! `str("yes")`; `str("no")`; `str("abstain")`;
//! `str("candidates")`, `u64(count)`, `u64(id)` for each id in the ballot's order;
//! `str("option")`, `opt_u64(id)`.
//!
//! The chain: ballot `seq` runs 1, 2, 3, … without gaps; ballot 1's `prev_hash` is the
//! header digest and each later ballot's `prev_hash` is the `hash` of the one before it. The
//! head hash is the last ballot's hash (the header digest when there is no ballot).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::i18n::Text;
use crate::votes::model::{Choice, Matter};

const BALLOT_TAG: &str = "redbutler-ballot/1";
const HEADER_TAG: &str = "redbutler-vote-header/1";
const ELECTORATE_TAG: &str = "redbutler-electorate/1";

/// How a ballot reached the box.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BallotChannel {
    /// Cast by the owner through the app or site.
    Online,
    /// A paper ballot entered by staff and checked by a second person.
    Paper,
    /// Cast by a holder of a written proxy (the scanned proxy is attached).
    Proxy,
}

impl BallotChannel {
    /// The code used in the canonical encoding and in JSON.
    pub fn code(self) -> &'static str {
        match self {
            BallotChannel::Online => "online",
            BallotChannel::Paper => "paper",
            BallotChannel::Proxy => "proxy",
        }
    }

    /// The channel's name in both languages.
    pub fn label(self) -> Text {
        match self {
            BallotChannel::Online => Text::new("线上", "online"),
            BallotChannel::Paper => Text::new("纸质", "paper"),
            BallotChannel::Proxy => Text::new("委托", "proxy"),
        }
    }
}

/// The stable code of a matter in the canonical encoding (same as its JSON name).
pub fn matter_code(m: Matter) -> &'static str {
    match m {
        Matter::RulesOfProcedure => "rules_of_procedure",
        Matter::ManagementCovenant => "management_covenant",
        Matter::OwnersCommittee => "owners_committee",
        Matter::PropertyCompany => "property_company",
        Matter::UseFund => "use_fund",
        Matter::RaiseFund => "raise_fund",
        Matter::Rebuild => "rebuild",
        Matter::ChangeUse => "change_use",
        Matter::OtherMajor => "other_major",
    }
}

/// What a ballot says and who cast it, before it takes its place in the chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewBallot {
    pub vote_id: i64,
    /// The owner unit that casts one ballot (e.g. `p:12+p:40`, `developer`).
    pub voter_key: String,
    pub choice: Choice,
    pub channel: BallotChannel,
    /// Who cast it: the owner, the proxy holder, or the staff member who entered a paper ballot.
    pub cast_by: String,
    /// The second person who checked a paper ballot.
    pub confirmed_by: Option<String>,
    /// SHA-256 (hex) of the scanned written proxy.
    pub proxy_attachment_sha256: Option<String>,
    pub cast_at_ms: i64,
}

/// One ballot in the box, with its place in the chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BallotRecord {
    /// 1, 2, 3, … in the order ballots were cast.
    pub seq: u64,
    pub vote_id: i64,
    pub voter_key: String,
    pub choice: Choice,
    pub channel: BallotChannel,
    pub cast_by: String,
    pub confirmed_by: Option<String>,
    pub proxy_attachment_sha256: Option<String>,
    pub cast_at_ms: i64,
    /// The previous ballot's hash, or the header digest for ballot 1 (hex).
    pub prev_hash: String,
    /// SHA-256 of this record's canonical encoding (hex).
    pub hash: String,
}

impl BallotRecord {
    /// The canonical bytes this record's hash covers (every field except `hash`).
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut e = Enc::new(BALLOT_TAG);
        e.u64(self.seq);
        e.i64(self.vote_id);
        e.str(&self.voter_key);
        match &self.choice {
            Choice::Yes => e.str("yes"),
            Choice::No => e.str("no"),
            Choice::Abstain => e.str("abstain"),
            Choice::Candidates { ids } => {
                e.str("candidates");
                e.u64(ids.len() as u64);
                for id in ids {
                    e.u64(u64::from(*id));
                }
            }
            Choice::Option { id } => {
                e.str("option");
                e.opt_u64(id.map(u64::from));
            }
        }
        e.str(self.channel.code());
        e.str(&self.cast_by);
        e.opt_str(self.confirmed_by.as_deref());
        e.opt_str(self.proxy_attachment_sha256.as_deref());
        e.i64(self.cast_at_ms);
        e.str(&self.prev_hash);
        e.0
    }

    /// The hash this record should carry, recomputed from its fields.
    pub fn compute_hash(&self) -> String {
        sha256_hex(&self.canonical_bytes())
    }
}

/// What the genesis hash binds: the vote as it was put to the owners.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainHeader {
    pub vote_id: i64,
    pub title: String,
    pub matter: Matter,
    /// The thresholds in their canonical text form (produced by the rules; opaque here).
    pub thresholds: String,
    /// The record date (权益登记日) as `YYYY-MM-DD`.
    pub record_date: String,
    /// `electorate_digest` of the voters on the record date.
    pub electorate_digest: String,
}

impl ChainHeader {
    /// The canonical bytes of the header (see the module doc).
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut e = Enc::new(HEADER_TAG);
        e.i64(self.vote_id);
        e.str(&self.title);
        e.str(matter_code(self.matter));
        e.str(&self.thresholds);
        e.str(&self.record_date);
        e.str(&self.electorate_digest);
        e.0
    }

    /// The header digest: the genesis hash, `prev_hash` of ballot 1.
    pub fn digest(&self) -> String {
        sha256_hex(&self.canonical_bytes())
    }
}

/// The canonical digest of the electorate: voters as (key, area in hundredths of m², room
/// ids). The order the voters and rooms come in does not matter.
pub fn electorate_digest<'a>(voters: impl Iterator<Item = (&'a str, u64, &'a [i64])>) -> String {
    let mut list: Vec<(&str, u64, Vec<i64>)> = voters
        .map(|(key, area, rooms)| {
            let mut rooms = rooms.to_vec();
            rooms.sort_unstable();
            (key, area, rooms)
        })
        .collect();
    list.sort();
    let mut e = Enc::new(ELECTORATE_TAG);
    e.u64(list.len() as u64);
    for (key, area, rooms) in &list {
        e.str(key);
        e.u64(*area);
        e.u64(rooms.len() as u64);
        for r in rooms {
            e.i64(*r);
        }
    }
    sha256_hex(&e.0)
}

/// Seal a new ballot as ballot `seq` after `prev_hash` (the header digest for seq 1).
pub fn append(prev_hash: &str, seq: u64, ballot: NewBallot) -> BallotRecord {
    let mut r = BallotRecord {
        seq,
        vote_id: ballot.vote_id,
        voter_key: ballot.voter_key,
        choice: ballot.choice,
        channel: ballot.channel,
        cast_by: ballot.cast_by,
        confirmed_by: ballot.confirmed_by,
        proxy_attachment_sha256: ballot.proxy_attachment_sha256,
        cast_at_ms: ballot.cast_at_ms,
        prev_hash: prev_hash.to_owned(),
        hash: String::new(),
    };
    r.hash = r.compute_hash();
    r
}

/// Seal a new ballot after `last` (the box's current last ballot, `None` when empty).
pub fn append_after(
    header: &ChainHeader,
    last: Option<&BallotRecord>,
    ballot: NewBallot,
) -> BallotRecord {
    match last {
        Some(l) => append(&l.hash, l.seq.saturating_add(1), ballot),
        None => append(&header.digest(), 1, ballot),
    }
}

/// The head hash: the last ballot's stored hash, or the header digest for an empty box.
pub fn head(header: &ChainHeader, records: &[BallotRecord]) -> String {
    match records.last() {
        Some(r) => r.hash.clone(),
        None => header.digest(),
    }
}

/// Which check of the chain failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BreakKind {
    /// The record belongs to another vote.
    WrongVoteId { expected: i64, found: i64 },
    /// The sequence number is not the one that should come next.
    SeqGap { expected: u64, found: u64 },
    /// `prev_hash` is not the hash of the record before (or the header digest).
    PrevHashMismatch { expected: String, found: String },
    /// The stored hash is not the hash of the record's fields.
    HashMismatch { computed: String, stored: String },
    /// The voter unit already cast a ballot earlier in the chain.
    DuplicateVoterKey { key: String, first_seq: u64 },
}

/// Where and how the chain breaks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainBreak {
    /// Position of the record in the list, from 0.
    pub index: usize,
    /// The sequence number the record carries.
    pub seq: u64,
    pub kind: BreakKind,
}

impl ChainBreak {
    /// The check's machine name.
    pub fn check(&self) -> &'static str {
        match self.kind {
            BreakKind::WrongVoteId { .. } => "wrong_vote_id",
            BreakKind::SeqGap { .. } => "seq_gap",
            BreakKind::PrevHashMismatch { .. } => "prev_hash_mismatch",
            BreakKind::HashMismatch { .. } => "hash_mismatch",
            BreakKind::DuplicateVoterKey { .. } => "duplicate_voter_key",
        }
    }

    /// A localised sentence saying where and what.
    pub fn message(&self) -> Text {
        let pos = self.index + 1;
        let seq = self.seq;
        let (zh, en) = match &self.kind {
            BreakKind::WrongVoteId { expected, found } => (
                format!("属于另一次表决（表决编号 {found}，应为 {expected}）"),
                format!("belongs to another vote (vote id {found}, expected {expected})"),
            ),
            BreakKind::SeqGap { expected, found } => (
                format!("序号不连续（应为 {expected}，实为 {found}），可能有选票被删除、插入或调换"),
                format!(
                    "sequence gap (expected {expected}, found {found}): a ballot may have been removed, inserted or moved"
                ),
            ),
            BreakKind::PrevHashMismatch { expected, found } => (
                format!(
                    "前一哈希不符（应为 {}，实为 {}），链条在此断开",
                    short(expected),
                    short(found)
                ),
                format!(
                    "previous hash does not match (expected {}, found {}): the chain breaks here",
                    short(expected),
                    short(found)
                ),
            ),
            BreakKind::HashMismatch { computed, stored } => (
                format!(
                    "哈希与内容不符（重算 {}，记载 {}），该选票内容已被改动",
                    short(computed),
                    short(stored)
                ),
                format!(
                    "hash does not match the content (recomputed {}, stored {}): this ballot was altered",
                    short(computed),
                    short(stored)
                ),
            ),
            BreakKind::DuplicateVoterKey { key, first_seq } => (
                format!("投票单位 {key} 重复投票（已于第 {first_seq} 号选票投过）"),
                format!("voter unit {key} voted twice (first in ballot {first_seq})"),
            ),
        };
        Text::owned(
            format!("第 {pos} 张选票（序号 {seq}）：{zh}"),
            format!("Ballot {pos} (seq {seq}): {en}"),
        )
    }
}

impl std::fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message().en)
    }
}

/// Check the chain from the header; the first break, if any.
pub fn verify_chain(header: &ChainHeader, records: &[BallotRecord]) -> Result<(), ChainBreak> {
    match chain_breaks(header, records).into_iter().next() {
        Some(b) => Err(b),
        None => Ok(()),
    }
}

/// Every break in the chain, in order. After a break the check carries on from the
/// record as stored (its seq and hash), so each later tampering is reported at its own place.
pub fn chain_breaks(header: &ChainHeader, records: &[BallotRecord]) -> Vec<ChainBreak> {
    let mut breaks = Vec::new();
    let mut expected_prev = header.digest();
    let mut expected_seq: u64 = 1;
    let mut seen: HashMap<&str, u64> = HashMap::new();
    for (index, r) in records.iter().enumerate() {
        let mut at = |kind| {
            breaks.push(ChainBreak {
                index,
                seq: r.seq,
                kind,
            })
        };
        if r.vote_id != header.vote_id {
            at(BreakKind::WrongVoteId {
                expected: header.vote_id,
                found: r.vote_id,
            });
        }
        if r.seq != expected_seq {
            at(BreakKind::SeqGap {
                expected: expected_seq,
                found: r.seq,
            });
        }
        if r.prev_hash != expected_prev {
            at(BreakKind::PrevHashMismatch {
                expected: expected_prev.clone(),
                found: r.prev_hash.clone(),
            });
        }
        let computed = r.compute_hash();
        if computed != r.hash {
            at(BreakKind::HashMismatch {
                computed,
                stored: r.hash.clone(),
            });
        }
        if let Some(first) = seen.get(r.voter_key.as_str()) {
            at(BreakKind::DuplicateVoterKey {
                key: r.voter_key.clone(),
                first_seq: *first,
            });
        } else {
            seen.insert(&r.voter_key, r.seq);
        }
        expected_prev = r.hash.clone();
        expected_seq = r.seq.saturating_add(1);
    }
    breaks
}

/// What a voter keeps after casting, to find their ballot on the public list of receipts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    pub vote_id: i64,
    pub seq: u64,
    /// The ballot's full hash (hex).
    pub hash: String,
    /// The short code a person can read out and compare, e.g. `ab12-cd34-ef`.
    pub code: String,
    pub cast_at_ms: i64,
}

/// The receipt of a ballot.
pub fn receipt(record: &BallotRecord) -> Receipt {
    Receipt {
        vote_id: record.vote_id,
        seq: record.seq,
        hash: record.hash.clone(),
        code: receipt_code(&record.hash),
        cast_at_ms: record.cast_at_ms,
    }
}

/// The public list of receipts (no voter, no choice), in ballot order.
pub fn receipts(records: &[BallotRecord]) -> Vec<Receipt> {
    records.iter().map(receipt).collect()
}

/// The short human code of a hash: its first 10 hex characters grouped 4-4-2
/// (`ab12-cd34-ef`), 40 bits.
pub fn receipt_code(hash: &str) -> String {
    let head: Vec<char> = hash
        .chars()
        .take(10)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let mut out = String::with_capacity(12);
    for (i, c) in head.iter().enumerate() {
        if i == 4 || i == 8 {
            out.push('-');
        }
        out.push(*c);
    }
    out
}

/// Whether `s` looks like a SHA-256 in the form this module writes (64 lowercase hex).
pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// SHA-256 of `bytes`, lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The first 12 characters of a hash, for messages.
fn short(h: &str) -> String {
    let s: String = h.chars().take(12).collect();
    if h.chars().count() > 12 {
        format!("{s}…")
    } else if s.is_empty() {
        "∅".to_owned()
    } else {
        s
    }
}

/// The canonical encoder: starts with the domain tag, then appends fields.
struct Enc(Vec<u8>);

impl Enc {
    fn new(tag: &str) -> Enc {
        let mut e = Enc(Vec::with_capacity(256));
        e.str(tag);
        e
    }

    fn u64(&mut self, n: u64) {
        self.0.extend_from_slice(&n.to_be_bytes());
    }

    fn i64(&mut self, n: i64) {
        self.0.extend_from_slice(&n.to_be_bytes());
    }

    fn str(&mut self, s: &str) {
        self.u64(s.len() as u64);
        self.0.extend_from_slice(s.as_bytes());
    }

    fn opt_str(&mut self, o: Option<&str>) {
        match o {
            None => self.0.push(0),
            Some(s) => {
                self.0.push(1);
                self.str(s);
            }
        }
    }

    fn opt_u64(&mut self, o: Option<u64>) {
        match o {
            None => self.0.push(0),
            Some(n) => {
                self.0.push(1);
                self.u64(n);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // Pinned vectors, computed outside Rust from the encoding in the module doc (Python
    // `struct.pack('>Q'/'>q')` + hashlib, and `printf … | sha256sum` for ballot 1).
    const ELECTORATE: &str = "741812535ee0274335e28f2899208acabd2f34208fc35aa7e89df9d600340c6a";
    const GENESIS: &str = "ac0fe12b31b8be73879e23060887b13f145c5a89d39ea03fb1356bb00533dbc1";
    const H1: &str = "08083037b6f836fefc8ae6a247aee26d9aee6ebf3c71e20718f471e10d14b415";
    const H2: &str = "d0e004c6ff56d0fcf1bfbdb99bd886c8910bf00077aee1ea0848d78613dfd551";
    const H3: &str = "1afb3a6001069b2d51d4405de7ff781c3d39c06c0de11dd787851b601498f081";

    fn vector_header() -> ChainHeader {
        let rooms_dev = [103_i64, 102];
        let voters: [(&str, u64, &[i64]); 3] = [
            ("p:2", 10000, &[104]),
            ("developer", 12000, &rooms_dev),
            ("p:1", 8950, &[101]),
        ];
        ChainHeader {
            vote_id: 7,
            title: "电梯加装".into(),
            matter: Matter::Rebuild,
            thresholds: "quorum>=2/3;approve>=3/4".into(),
            record_date: "2026-11-01".into(),
            electorate_digest: electorate_digest(voters.into_iter()),
        }
    }

    fn vector_ballots() -> [NewBallot; 3] {
        [
            NewBallot {
                vote_id: 7,
                voter_key: "p:1".into(),
                choice: Choice::Yes,
                channel: BallotChannel::Online,
                cast_by: "p:1".into(),
                confirmed_by: None,
                proxy_attachment_sha256: None,
                cast_at_ms: 1_767_225_600_000,
            },
            NewBallot {
                vote_id: 7,
                voter_key: "developer".into(),
                choice: Choice::Candidates { ids: vec![3, 1] },
                channel: BallotChannel::Paper,
                cast_by: "staff:5".into(),
                confirmed_by: Some("staff:9".into()),
                proxy_attachment_sha256: None,
                cast_at_ms: 1_767_225_660_000,
            },
            NewBallot {
                vote_id: 7,
                voter_key: "p:2".into(),
                choice: Choice::Option { id: Some(2) },
                channel: BallotChannel::Proxy,
                cast_by: "p:77".into(),
                confirmed_by: None,
                proxy_attachment_sha256: Some("ab".repeat(32)),
                cast_at_ms: -5,
            },
        ]
    }

    #[test]
    fn canonical_encoding_matches_pinned_vectors() {
        let header = vector_header();
        assert_eq!(header.electorate_digest, ELECTORATE);
        assert_eq!(header.digest(), GENESIS);
        let [b1, b2, b3] = vector_ballots();
        let r1 = append_after(&header, None, b1);
        assert_eq!(r1.canonical_bytes().len(), 171);
        assert_eq!(r1.prev_hash, GENESIS);
        assert_eq!(r1.hash, H1);
        let r2 = append_after(&header, Some(&r1), b2);
        assert_eq!((r2.seq, r2.hash.as_str()), (2, H2));
        let r3 = append_after(&header, Some(&r2), b3);
        assert_eq!((r3.seq, r3.hash.as_str()), (3, H3));
        assert_eq!(verify_chain(&header, &[r1, r2, r3.clone()]), Ok(()));
        assert_eq!(head(&header, &[r3]), H3);
        assert_eq!(head(&header, &[]), GENESIS);
    }

    #[test]
    fn electorate_digest_ignores_order_but_not_content() {
        let a = electorate_digest([("b", 5, &[2_i64, 1][..]), ("a", 7, &[3][..])].into_iter());
        let b = electorate_digest([("a", 7, &[3_i64][..]), ("b", 5, &[1, 2][..])].into_iter());
        assert_eq!(a, b);
        let c = electorate_digest([("a", 7, &[3_i64][..]), ("b", 6, &[1, 2][..])].into_iter());
        assert_ne!(a, c);
        let d = electorate_digest([("a", 7, &[3_i64][..]), ("b", 5, &[1][..])].into_iter());
        assert_ne!(a, d);
        // Length prefixes keep ("ab","c") apart from ("a","bc").
        let e = electorate_digest([("ab", 1, &[][..]), ("c", 1, &[][..])].into_iter());
        let f = electorate_digest([("a", 1, &[][..]), ("bc", 1, &[][..])].into_iter());
        assert_ne!(e, f);
    }

    fn header(vote_id: i64) -> ChainHeader {
        ChainHeader {
            vote_id,
            title: "更换物业服务企业".into(),
            matter: Matter::PropertyCompany,
            thresholds: "t".into(),
            record_date: "2026-10-01".into(),
            electorate_digest: "0".repeat(64),
        }
    }

    fn nth_ballot(vote_id: i64, i: u64) -> NewBallot {
        let choice = match i % 6 {
            0 => Choice::Yes,
            1 => Choice::No,
            2 => Choice::Abstain,
            3 => Choice::Candidates {
                ids: vec![1, (i % 5) as u32 + 2],
            },
            4 => Choice::Option {
                id: Some((i % 3) as u32 + 1),
            },
            _ => Choice::Option { id: None },
        };
        let channel = match i % 3 {
            0 => BallotChannel::Online,
            1 => BallotChannel::Paper,
            _ => BallotChannel::Proxy,
        };
        NewBallot {
            vote_id,
            voter_key: format!("p:{i}"),
            choice,
            channel,
            cast_by: if channel == BallotChannel::Paper {
                "staff:1".into()
            } else {
                format!("p:{i}")
            },
            confirmed_by: (channel == BallotChannel::Paper).then(|| "staff:2".into()),
            proxy_attachment_sha256: (channel == BallotChannel::Proxy)
                .then(|| sha256_hex(format!("proxy {i}").as_bytes())),
            cast_at_ms: 1_767_000_000_000 + i as i64 * 1000,
        }
    }

    fn chain(header: &ChainHeader, n: u64) -> Vec<BallotRecord> {
        let mut out: Vec<BallotRecord> = Vec::with_capacity(n as usize);
        for i in 0..n {
            let r = append_after(header, out.last(), nth_ballot(header.vote_id, i));
            out.push(r);
        }
        out
    }

    #[test]
    fn a_chain_of_1000_ballots_verifies() {
        let h = header(42);
        let c = chain(&h, 1000);
        assert_eq!(c[999].seq, 1000);
        assert_eq!(verify_chain(&h, &c), Ok(()));
        assert!(chain_breaks(&h, &c).is_empty());
    }

    #[test]
    fn an_empty_box_verifies() {
        assert_eq!(verify_chain(&header(1), &[]), Ok(()));
    }

    #[test]
    fn swapping_two_records_is_found_at_the_first_of_them() {
        let h = header(3);
        let mut c = chain(&h, 30);
        c.swap(10, 17);
        let b = verify_chain(&h, &c).unwrap_err();
        assert_eq!(b.index, 10);
        assert_eq!(b.seq, 18);
        assert!(matches!(
            b.kind,
            BreakKind::SeqGap {
                expected: 11,
                found: 18
            }
        ));
    }

    #[test]
    fn deleting_a_record_is_found_where_it_was() {
        let h = header(3);
        let mut c = chain(&h, 30);
        c.remove(12);
        let all = chain_breaks(&h, &c);
        assert!(all.iter().all(|b| b.index == 12), "{all:?}");
        let kinds: Vec<_> = all.iter().map(ChainBreak::check).collect();
        assert_eq!(kinds, ["seq_gap", "prev_hash_mismatch"]);
        let m = all[0].message();
        assert!(m.zh.contains("第 13 张选票（序号 14）"), "{}", m.zh);
        assert!(m.en.contains("Ballot 13 (seq 14)"), "{}", m.en);
    }

    #[test]
    fn deleting_the_first_or_last_record() {
        let h = header(3);
        let c = chain(&h, 5);
        let b = verify_chain(&h, &c[1..]).unwrap_err();
        assert_eq!((b.index, b.check()), (0, "seq_gap"));
        // Dropping the tail keeps a valid chain: the head hash (kept in the export and
        // published) is what catches it.
        assert_eq!(verify_chain(&h, &c[..4]), Ok(()));
        assert_ne!(head(&h, &c[..4]), head(&h, &c));
    }

    #[test]
    fn a_second_ballot_from_the_same_voter_is_refused() {
        let h = header(9);
        let mut c = chain(&h, 4);
        let mut again = nth_ballot(9, 1);
        again.choice = Choice::Yes;
        let r = append_after(&h, c.last(), again);
        c.push(r);
        let b = verify_chain(&h, &c).unwrap_err();
        assert_eq!(b.index, 4);
        assert_eq!(
            b.kind,
            BreakKind::DuplicateVoterKey {
                key: "p:1".into(),
                first_seq: 2
            }
        );
        assert!(b.message().zh.contains("重复投票"));
    }

    #[test]
    fn a_ballot_of_another_vote_is_refused() {
        let h = header(9);
        let c = chain(&h, 2);
        let r = append_after(&h, c.last(), nth_ballot(10, 2));
        let all = [c, vec![r]].concat();
        let b = verify_chain(&h, &all).unwrap_err();
        assert_eq!(
            (b.index, b.kind),
            (
                2,
                BreakKind::WrongVoteId {
                    expected: 9,
                    found: 10
                }
            )
        );
    }

    #[test]
    fn a_chain_from_another_header_breaks_at_the_first_ballot() {
        let h = header(9);
        let c = chain(&h, 3);
        let mut other = h.clone();
        other.title.push('!');
        let b = verify_chain(&other, &c).unwrap_err();
        assert_eq!((b.index, b.check()), (0, "prev_hash_mismatch"));
    }

    #[test]
    fn receipts_carry_a_short_code() {
        let h = header(9);
        let c = chain(&h, 2);
        let r = receipt(&c[1]);
        assert_eq!(r.seq, 2);
        assert_eq!(r.vote_id, 9);
        assert_eq!(r.hash, c[1].hash);
        assert_eq!(r.code.len(), 12);
        assert_eq!(r.code.replace('-', ""), c[1].hash[..10]);
        assert_eq!(receipt_code("ab12cd34ef5678"), "ab12-cd34-ef");
        assert_eq!(receipt_code("AB1"), "ab1");
        assert_eq!(receipts(&c).len(), 2);
        assert!(is_sha256_hex(&c[0].hash));
        assert!(!is_sha256_hex("AB"));
    }

    /// Change one byte (by `mask`, non-zero) of field `field` of `r`.
    fn tamper(r: &mut BallotRecord, field: usize, pos: usize, mask: u8) {
        fn flip_str(s: &mut String, pos: usize, mask: u8) {
            let mut b = std::mem::take(s).into_bytes();
            if b.is_empty() {
                b.push(mask);
            } else {
                let i = pos % b.len();
                b[i] ^= mask;
            }
            *s = String::from_utf8_lossy(&b).into_owned();
        }
        fn flip_opt(o: &mut Option<String>, pos: usize, mask: u8) {
            match o {
                Some(s) if pos % 5 == 0 => {
                    let _ = s;
                    *o = None;
                }
                Some(s) => flip_str(s, pos, mask),
                None => *o = Some(String::new()),
            }
        }
        let byte = (pos % 8) as u32 * 8;
        let m64 = u64::from(mask) << byte;
        match field {
            0 => r.seq ^= m64,
            1 => r.vote_id ^= m64 as i64,
            2 => flip_str(&mut r.voter_key, pos, mask),
            3 => {
                r.choice = match &r.choice {
                    Choice::Yes => Choice::No,
                    Choice::No => Choice::Abstain,
                    Choice::Abstain => Choice::Yes,
                    Choice::Candidates { ids } if ids.is_empty() => {
                        Choice::Candidates { ids: vec![1] }
                    }
                    Choice::Candidates { ids } => {
                        let mut ids = ids.clone();
                        let i = pos % ids.len();
                        ids[i] ^= u32::from(mask) << ((pos % 4) * 8);
                        Choice::Candidates { ids }
                    }
                    Choice::Option { id: None } => Choice::Option { id: Some(1) },
                    Choice::Option { id: Some(x) } => Choice::Option {
                        id: Some(x ^ (u32::from(mask) << ((pos % 4) * 8))),
                    },
                }
            }
            4 => {
                r.channel = match r.channel {
                    BallotChannel::Online => BallotChannel::Paper,
                    BallotChannel::Paper => BallotChannel::Proxy,
                    BallotChannel::Proxy => BallotChannel::Online,
                }
            }
            5 => flip_str(&mut r.cast_by, pos, mask),
            6 => flip_opt(&mut r.confirmed_by, pos, mask),
            7 => flip_opt(&mut r.proxy_attachment_sha256, pos, mask),
            8 => r.cast_at_ms ^= m64 as i64,
            9 => flip_str(&mut r.prev_hash, pos, mask),
            _ => flip_str(&mut r.hash, pos, mask),
        }
    }

    const FIELDS: usize = 11;

    proptest! {
        #[test]
        fn any_single_byte_change_is_found_at_that_record_or_the_next(
            index in 0usize..40,
            field in 0usize..FIELDS,
            pos in 0usize..200,
            mask in 1u8..=255,
        ) {
            let h = header(77);
            let mut c = chain(&h, 40);
            let before = c[index].clone();
            tamper(&mut c[index], field, pos, mask);
            prop_assume!(c[index] != before);
            let b = verify_chain(&h, &c);
            prop_assert!(b.is_err(), "field {} not detected", field);
            let b = b.unwrap_err();
            prop_assert!(b.index == index || b.index == index + 1, "{:?}", b);
        }
    }
}
