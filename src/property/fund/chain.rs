//! The fund's hash chain: one chain per building fund. Each posting's hash covers the posting
//! before it, starting from a genesis hash that binds the fund (its subdistrict and building),
//! so changing, removing, inserting or reordering an entry breaks the chain at that place.
//! Pure: no clock, no storage.
//!
//! Why per building: the building is the account (楼幢账) that the rules keep and publish,
//! so its chain can be exported, published and re-checked alone, and postings to different
//! buildings never wait for each other.
//!
//! # Canonical encoding, version 1
//!
//! SHA-256, written as 64 lowercase hexadecimal characters. Fields are encoded as
//! `u64(n)`/`i64(n)`: 8 bytes big-endian (two's complement for i64); `str(s)`: `u64(byte
//! length)` then the UTF-8 bytes; `hash(h)`: the 32 raw bytes.
//!
//! **Genesis** (the `prev_hash` of posting 1) = SHA-256 of `str("redbutler-fund-genesis/1")`,
//! `str(subdistrict code)`, `i64(building id)`.
//!
//! **Posting hash** = SHA-256 of `str("redbutler-fund-posting/1")`, `u64(seq)`, `str(kind
//! code)`, `i64(amount)`, the reference (one byte `0` for none; `1` then `i64(vote id)`; `2`
//! then `i64(emergency approval id)`), the reversed entry (one byte `0`, or `1` then
//! `u64(seq)`), `str(cost review)`, `str(memo)`, `str(value date YYYY-MM-DD)`,
//! `str(posted by)`, `i64(posted at, Unix ms)`, `u64(number of lines)`, then per line in the
//! posting's order `i64(room id)`, `i64(amount)`, and last `hash(prev hash)`.
//!
//! Kind codes: `first_deposit`, `deposit`, `interest`, `top_up`, `withdrawal`, `reversal`.
//! Posting `seq` runs 1, 2, 3, … without gaps; the head is the last posting's hash (the
//! genesis when there is none).

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

use super::ledger::{Entry, Kind, Line, Reference};

const GENESIS_TAG: &str = "redbutler-fund-genesis/1";
const POSTING_TAG: &str = "redbutler-fund-posting/1";

/// A SHA-256 value, serialised as 64 lowercase hex characters.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Hash32(pub [u8; 32]);

impl Hash32 {
    pub fn hex(&self) -> String {
        hex::encode(self.0)
    }

    pub fn parse(s: &str) -> Option<Hash32> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).ok()?;
        if s.bytes().any(|b| b.is_ascii_uppercase()) {
            return None;
        }
        Some(Hash32(out))
    }
}

impl fmt::Debug for Hash32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.hex())
    }
}

impl fmt::Display for Hash32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.hex())
    }
}

impl Serialize for Hash32 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut buf = [0u8; 64];
        // Cannot fail: the buffer is exactly twice the input.
        let _ = hex::encode_to_slice(self.0, &mut buf);
        s.serialize_str(std::str::from_utf8(&buf).unwrap_or_default())
    }
}

impl<'de> Deserialize<'de> for Hash32 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Hash32, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Hash32;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a SHA-256 hash as 64 lowercase hex characters")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Hash32, E> {
                Hash32::parse(v).ok_or_else(|| E::invalid_value(de::Unexpected::Str(v), &self))
            }
        }
        d.deserialize_str(V)
    }
}

/// A posting before it takes its place in the chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewPosting {
    pub kind: Kind,
    /// Signed fen: the posting's effect on the building's balance.
    pub amount: i64,
    pub reference: Option<Reference>,
    pub reverses: Option<u64>,
    /// The cost review (审价) of a withdrawal: report number or reviewer; empty otherwise.
    pub cost_review: String,
    /// What the entry is for; a reversal's reason.
    pub memo: String,
    /// The value date, `YYYY-MM-DD` (Asia/Shanghai).
    pub value_date: String,
    /// Who posted it (e.g. `user:12 王**`).
    pub posted_by: String,
    pub posted_at_ms: i64,
    pub lines: Vec<Line>,
}

/// One posting in the chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Posting {
    pub seq: u64,
    pub kind: Kind,
    pub amount: i64,
    pub reference: Option<Reference>,
    pub reverses: Option<u64>,
    pub cost_review: String,
    pub memo: String,
    pub value_date: String,
    pub posted_by: String,
    pub posted_at_ms: i64,
    pub lines: Vec<Line>,
    pub prev_hash: Hash32,
    pub hash: Hash32,
}

impl Posting {
    /// What the ledger rules look at.
    pub fn entry(&self) -> Entry<'_> {
        Entry {
            kind: self.kind,
            amount: self.amount,
            reference: self.reference,
            reverses: self.reverses,
            cost_review: &self.cost_review,
            memo: &self.memo,
            lines: &self.lines,
        }
    }

    /// The fields the hash covers, borrowed.
    pub fn fields(&self) -> Fields<'_> {
        Fields {
            seq: self.seq,
            kind: self.kind,
            amount: self.amount,
            reference: self.reference,
            reverses: self.reverses,
            cost_review: &self.cost_review,
            memo: &self.memo,
            value_date: &self.value_date,
            posted_by: &self.posted_by,
            posted_at_ms: self.posted_at_ms,
            lines: &self.lines,
            prev_hash: self.prev_hash,
        }
    }

    /// Appends this posting's canonical bytes (everything but `hash`) to `buf`.
    pub fn encode_into(&self, buf: &mut Vec<u8>) {
        self.fields().encode_into(buf);
    }

    /// The hash this posting should carry, recomputed; `buf` is scratch space (reused so a
    /// long chain is checked without allocating per entry).
    pub fn compute_hash_with(&self, buf: &mut Vec<u8>) -> Hash32 {
        buf.clear();
        self.encode_into(buf);
        Hash32(Sha256::digest(buf.as_slice()).into())
    }

    pub fn compute_hash(&self) -> Hash32 {
        self.compute_hash_with(&mut Vec::new())
    }
}

/// Everything a posting's hash covers, borrowed from wherever the posting was read (so an
/// export can be checked without building a `Posting` per entry). Same encoding as
/// [`Posting::encode_into`]: see the module doc.
#[derive(Clone, Copy, Debug)]
pub struct Fields<'a> {
    pub seq: u64,
    pub kind: Kind,
    pub amount: i64,
    pub reference: Option<Reference>,
    pub reverses: Option<u64>,
    pub cost_review: &'a str,
    pub memo: &'a str,
    pub value_date: &'a str,
    pub posted_by: &'a str,
    pub posted_at_ms: i64,
    pub lines: &'a [Line],
    pub prev_hash: Hash32,
}

impl Fields<'_> {
    /// Appends the canonical bytes (version 1, see the module doc) to `buf`.
    pub fn encode_into(&self, buf: &mut Vec<u8>) {
        str_(buf, POSTING_TAG);
        buf.extend_from_slice(&self.seq.to_be_bytes());
        str_(buf, self.kind.code());
        buf.extend_from_slice(&self.amount.to_be_bytes());
        match self.reference {
            None => buf.push(0),
            Some(Reference::Vote(id)) => {
                buf.push(1);
                buf.extend_from_slice(&id.to_be_bytes());
            }
            Some(Reference::Emergency(id)) => {
                buf.push(2);
                buf.extend_from_slice(&id.to_be_bytes());
            }
        }
        match self.reverses {
            None => buf.push(0),
            Some(s) => {
                buf.push(1);
                buf.extend_from_slice(&s.to_be_bytes());
            }
        }
        str_(buf, self.cost_review);
        str_(buf, self.memo);
        str_(buf, self.value_date);
        str_(buf, self.posted_by);
        buf.extend_from_slice(&self.posted_at_ms.to_be_bytes());
        buf.extend_from_slice(&(self.lines.len() as u64).to_be_bytes());
        for l in self.lines {
            buf.extend_from_slice(&l.room_id.to_be_bytes());
            buf.extend_from_slice(&l.amount.to_be_bytes());
        }
        buf.extend_from_slice(&self.prev_hash.0);
    }

    /// The hash of these fields; `buf` is scratch space, reused across entries.
    pub fn hash_with(&self, buf: &mut Vec<u8>) -> Hash32 {
        buf.clear();
        self.encode_into(buf);
        Hash32(Sha256::digest(buf.as_slice()).into())
    }
}

fn str_(buf: &mut Vec<u8>, s: &str) {
    buf.extend_from_slice(&(s.len() as u64).to_be_bytes());
    buf.extend_from_slice(s.as_bytes());
}

/// The genesis hash of a building's fund.
pub fn genesis(subdistrict_code: &str, building_id: i64) -> Hash32 {
    let mut buf = Vec::new();
    str_(&mut buf, GENESIS_TAG);
    str_(&mut buf, subdistrict_code);
    buf.extend_from_slice(&building_id.to_be_bytes());
    Hash32(Sha256::digest(&buf).into())
}

/// Seals a new posting as number `seq` after `prev`.
pub fn append(prev: Hash32, seq: u64, n: NewPosting) -> Posting {
    let mut p = Posting {
        seq,
        kind: n.kind,
        amount: n.amount,
        reference: n.reference,
        reverses: n.reverses,
        cost_review: n.cost_review,
        memo: n.memo,
        value_date: n.value_date,
        posted_by: n.posted_by,
        posted_at_ms: n.posted_at_ms,
        lines: n.lines,
        prev_hash: prev,
        hash: Hash32::default(),
    };
    p.hash = p.compute_hash();
    p
}

/// What is wrong at the first bad link of a chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Break {
    /// The entry at this position (from 0) has seq `found`, expected `expected`.
    Seq {
        at: usize,
        expected: u64,
        found: u64,
    },
    /// Its `prev_hash` is not the hash before it.
    Prev {
        at: usize,
        expected: Hash32,
        found: Hash32,
    },
    /// Its stored hash is not the hash of its content.
    Hash {
        at: usize,
        stored: Hash32,
        computed: Hash32,
    },
}

impl Break {
    pub fn at(&self) -> usize {
        match self {
            Break::Seq { at, .. } | Break::Prev { at, .. } | Break::Hash { at, .. } => *at,
        }
    }
}

/// Checks the chain from `genesis`; the first break, or the head hash.
pub fn check(genesis: Hash32, postings: &[Posting]) -> Result<Hash32, Break> {
    let mut buf = Vec::with_capacity(512);
    let mut prev = genesis;
    for (at, p) in postings.iter().enumerate() {
        let expected = at as u64 + 1;
        if p.seq != expected {
            return Err(Break::Seq {
                at,
                expected,
                found: p.seq,
            });
        }
        if p.prev_hash != prev {
            return Err(Break::Prev {
                at,
                expected: prev,
                found: p.prev_hash,
            });
        }
        let computed = p.compute_hash_with(&mut buf);
        if computed != p.hash {
            return Err(Break::Hash {
                at,
                stored: p.hash,
                computed,
            });
        }
        prev = p.hash;
    }
    Ok(prev)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn new(kind: Kind, lines: &[(i64, i64)]) -> NewPosting {
        let lines: Vec<Line> = lines.iter().map(|&p| Line::from(p)).collect();
        NewPosting {
            kind,
            amount: lines.iter().map(|l| l.amount).sum(),
            reference: None,
            reverses: None,
            cost_review: String::new(),
            memo: "首期".into(),
            value_date: "2026-03-01".into(),
            posted_by: "user:1".into(),
            posted_at_ms: 1_772_000_000_000,
            lines,
        }
    }

    fn chain3() -> (Hash32, Vec<Posting>) {
        let g = genesis("xiayang", 42);
        let a = append(g, 1, new(Kind::FirstDeposit, &[(1, 100), (2, 200)]));
        let b = append(a.hash, 2, new(Kind::Interest, &[(1, 1)]));
        let c = append(b.hash, 3, new(Kind::Deposit, &[(2, 5)]));
        (g, vec![a, b, c])
    }

    #[test]
    fn a_sound_chain_checks_to_its_head() {
        let (g, ps) = chain3();
        assert_eq!(check(g, &ps), Ok(ps[2].hash));
        assert_eq!(check(g, &[]), Ok(g));
        assert_ne!(genesis("xiayang", 42), genesis("xiayang", 43));
        assert_ne!(genesis("xiayang", 42), genesis("other", 42));
    }

    #[test]
    fn a_changed_line_breaks_the_hash_of_that_entry() {
        let (g, mut ps) = chain3();
        ps[1].lines[0].amount = 2;
        match check(g, &ps) {
            Err(Break::Hash { at, stored, .. }) => {
                assert_eq!(at, 1);
                assert_eq!(stored, ps[1].hash);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn removed_or_reordered_entries_break_the_seq() {
        let (g, mut ps) = chain3();
        ps.remove(1);
        assert!(matches!(
            check(g, &ps),
            Err(Break::Seq {
                at: 1,
                expected: 2,
                found: 3
            })
        ));
        let (g, mut ps) = chain3();
        ps[1].seq = 3;
        ps[2].seq = 2;
        ps.swap(1, 2);
        assert!(matches!(check(g, &ps), Err(Break::Prev { at: 1, .. })));
    }

    #[test]
    fn a_rehashed_edit_still_breaks_the_next_link() {
        let (g, mut ps) = chain3();
        ps[0].memo = "changed".into();
        ps[0].hash = ps[0].compute_hash();
        assert!(matches!(check(g, &ps), Err(Break::Prev { at: 1, .. })));
    }

    #[test]
    fn hashes_round_trip_as_lowercase_hex() {
        let (_, ps) = chain3();
        let j = serde_json::to_string(&ps[0]).unwrap_or_default();
        assert!(
            j.contains(&format!("\"hash\":\"{}\"", ps[0].hash.hex())),
            "{j}"
        );
        assert!(j.contains("\"lines\":[[1,100],[2,200]]"), "{j}");
        let back: Posting = serde_json::from_str(&j).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, ps[0]);
        assert!(Hash32::parse(&ps[0].hash.hex().to_uppercase()).is_none());
        assert!(Hash32::parse("abc").is_none());
    }
}
