//! Ids that do not collide across processes or nodes: a millisecond clock, a random node
//! number chosen at start-up, and a sequence within the millisecond. They grow with time and
//! sort by creation, and stay below 2^53 so that JavaScript (`JSON.parse`, whose numbers are
//! doubles) reads them exactly: 41 bits of milliseconds since 2024-01-01 (until 2093), 5 of
//! node, 7 of sequence. A process that needs more than 128 ids in a millisecond borrows the
//! next millisecond's.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

const SEQ_BITS: u32 = 7;
const NODE_BITS: u32 = 5;
/// 2024-01-01T00:00:00Z in Unix milliseconds.
const EPOCH_MS: u64 = 1_704_067_200_000;
/// The largest integer a JavaScript number holds exactly.
pub const MAX_SAFE: i64 = (1 << 53) - 1;

static STATE: AtomicU64 = AtomicU64::new(0);
static NODE: OnceLock<u64> = OnceLock::new();

fn node() -> u64 {
    *NODE.get_or_init(|| rand::random::<u64>() & ((1 << NODE_BITS) - 1))
}

/// A new id, unique within this process and, with high probability, across processes.
pub fn next_id() -> i64 {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| (d.as_millis() as u64).saturating_sub(EPOCH_MS))
        .unwrap_or(0);
    let floor = now << SEQ_BITS;
    let mut cur = STATE.load(Ordering::Relaxed);
    loop {
        let next = (cur + 1).max(floor);
        match STATE.compare_exchange_weak(cur, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => {
                let ms = next >> SEQ_BITS;
                let seq = next & ((1 << SEQ_BITS) - 1);
                return ((ms << (SEQ_BITS + NODE_BITS)) | (node() << SEQ_BITS) | seq) as i64;
            }
            Err(actual) => cur = actual,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_positive_unique_and_increasing() {
        let mut last = 0;
        for _ in 0..100_000 {
            let id = next_id();
            assert!(id > last, "{id} after {last}");
            assert!(id <= MAX_SAFE, "{id} does not fit a JavaScript number");
            last = id;
        }
    }
}
