//! The public income account's hash chain, one per estate, the way the fund chains each
//! building (`fund::chain`, whose `Hash32` it reuses). Pure.
//!
//! # Canonical encoding, version 1
//!
//! Same field encodings as `fund::chain` (`u64`/`i64` 8 bytes big-endian, `str` = length
//! then UTF-8 bytes, optional ids as one byte `0`, or `1` then `i64`).
//!
//! **Genesis** = SHA-256 of `str("redbutler-income-genesis/1")`, `str(subdistrict code)`,
//! `i64(estate id)`.
//!
//! **Entry hash** = SHA-256 of `str("redbutler-income-entry/1")`, `u64(seq)`, `str(kind)`,
//! `str(source)`, `i64(amount)`, `i64(effect)`, `str(counterparty)`, `str(note)`,
//! `opt(vote id)`, `opt(decision id)`, `str(for quarter)`, `opt(reversed seq)`,
//! `str(value date)`, `str(posted by)`, `i64(posted at ms)`, `hash(prev hash)`.

use sha2::{Digest, Sha256};

use crate::property::fund::chain::Hash32;

const GENESIS_TAG: &str = "redbutler-income-genesis/1";
const ENTRY_TAG: &str = "redbutler-income-entry/1";

/// The fields an entry's hash covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sealed<'a> {
    pub seq: u64,
    pub kind: &'a str,
    pub source: &'a str,
    pub amount: i64,
    pub effect: i64,
    pub counterparty: &'a str,
    pub note: &'a str,
    pub vote_id: Option<i64>,
    pub decision_id: Option<i64>,
    pub for_quarter: &'a str,
    pub reverses: Option<i64>,
    pub value_date: &'a str,
    pub posted_by: &'a str,
    pub posted_at_ms: i64,
    pub prev_hash: Hash32,
}

fn str_(buf: &mut Vec<u8>, s: &str) {
    buf.extend_from_slice(&(s.len() as u64).to_be_bytes());
    buf.extend_from_slice(s.as_bytes());
}

fn opt(buf: &mut Vec<u8>, v: Option<i64>) {
    match v {
        None => buf.push(0),
        Some(v) => {
            buf.push(1);
            buf.extend_from_slice(&v.to_be_bytes());
        }
    }
}

/// The genesis hash of an estate's account.
pub fn genesis(subdistrict_code: &str, estate_id: i64) -> Hash32 {
    let mut buf = Vec::new();
    str_(&mut buf, GENESIS_TAG);
    str_(&mut buf, subdistrict_code);
    buf.extend_from_slice(&estate_id.to_be_bytes());
    Hash32(Sha256::digest(&buf).into())
}

/// The hash an entry carries.
pub fn hash(e: &Sealed<'_>) -> Hash32 {
    let mut buf = Vec::with_capacity(256);
    str_(&mut buf, ENTRY_TAG);
    buf.extend_from_slice(&e.seq.to_be_bytes());
    str_(&mut buf, e.kind);
    str_(&mut buf, e.source);
    buf.extend_from_slice(&e.amount.to_be_bytes());
    buf.extend_from_slice(&e.effect.to_be_bytes());
    str_(&mut buf, e.counterparty);
    str_(&mut buf, e.note);
    opt(&mut buf, e.vote_id);
    opt(&mut buf, e.decision_id);
    str_(&mut buf, e.for_quarter);
    opt(&mut buf, e.reverses);
    str_(&mut buf, e.value_date);
    str_(&mut buf, e.posted_by);
    buf.extend_from_slice(&e.posted_at_ms.to_be_bytes());
    buf.extend_from_slice(&e.prev_hash.0);
    Hash32(Sha256::digest(&buf).into())
}

/// Where a chain first breaks: the position (from 0) and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Break {
    pub at: usize,
    pub what: &'static str,
}

/// Checks entries `(sealed fields, stored hash)` in seq order from `genesis`; the head hash.
pub fn check(genesis: Hash32, entries: &[(Sealed<'_>, Hash32)]) -> Result<Hash32, Break> {
    let mut prev = genesis;
    for (at, (e, stored)) in entries.iter().enumerate() {
        if e.seq != at as u64 + 1 {
            return Err(Break { at, what: "seq" });
        }
        if e.prev_hash != prev {
            return Err(Break {
                at,
                what: "prev_hash",
            });
        }
        if hash(e) != *stored {
            return Err(Break { at, what: "hash" });
        }
        prev = *stored;
    }
    Ok(prev)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(seq: u64, prev: Hash32, note: &str) -> Sealed<'_> {
        Sealed {
            seq,
            kind: "income",
            source: "parking",
            amount: 100,
            effect: 100,
            counterparty: "停车公司",
            note,
            vote_id: None,
            decision_id: None,
            for_quarter: "",
            reverses: None,
            value_date: "2026-07-01",
            posted_by: "user:1",
            posted_at_ms: 1,
            prev_hash: prev,
        }
    }

    #[test]
    fn chains_check_and_break() {
        let g = genesis("x", 7);
        assert_ne!(g, genesis("x", 8));
        let a = e(1, g, "a");
        let ha = hash(&a);
        let b = e(2, ha, "b");
        let hb = hash(&b);
        assert_eq!(check(g, &[(a.clone(), ha), (b.clone(), hb)]), Ok(hb));
        assert_eq!(check(g, &[]), Ok(g));
        let mut a2 = a.clone();
        a2.amount = 101;
        assert_eq!(
            check(g, &[(a2, ha), (b.clone(), hb)]),
            Err(Break {
                at: 0,
                what: "hash"
            })
        );
        assert_eq!(check(g, &[(b, hb)]), Err(Break { at: 0, what: "seq" }));
        let mut v = a.clone();
        v.vote_id = Some(0);
        assert_ne!(hash(&v), ha, "an absent id differs from id 0");
    }
}
