//! Small in-memory caches of what every request reads and almost nothing changes: who a token
//! is, the category tree's head, a place's kind and path. Each cache lives in its [`Db`]
//! (`Db::memo`), so two databases in one process never share entries.
//!
//! A cache is kept true by one process-wide [`Generation`]: every write that could change a
//! cached answer calls [`changed`] inside its transaction. An entry holds the generation read
//! before its database read began and counts only while that is still the current one; and
//! for [`QUIET`] after a change nothing new is cached, so a read that saw the state before the
//! change committed is never kept. Entries also expire after [`TTL`], which bounds how long
//! another server process's change (on a shared PostgreSQL) can go unseen here.
//!
//! [`Db`]: super::Db

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

/// How long an entry counts at most.
pub const TTL: Duration = Duration::from_secs(5);
/// How long after a change nothing is cached (longer than any writing transaction lasts).
pub const QUIET: Duration = Duration::from_secs(10);

static GENERATION: AtomicU64 = AtomicU64::new(1);
static CHANGED_AT_MS: AtomicI64 = AtomicI64::new(i64::MIN);

fn mono_ms() -> i64 {
    use std::sync::OnceLock;
    use std::time::Instant;
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_millis() as i64
}

/// Records that something cached may have changed: call it inside the writing transaction.
pub fn changed() {
    CHANGED_AT_MS.store(mono_ms(), Ordering::SeqCst);
    GENERATION.fetch_add(1, Ordering::SeqCst);
}

/// A point in the cache's time: take one before a database read, and use it to keep and to
/// check the entry made from that read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Generation {
    gen: u64,
    at_ms: i64,
}

impl Generation {
    pub fn now() -> Generation {
        Generation {
            gen: GENERATION.load(Ordering::SeqCst),
            at_ms: mono_ms(),
        }
    }

    /// Whether an entry made at `self` still counts.
    pub fn fresh(&self) -> bool {
        self.gen == GENERATION.load(Ordering::SeqCst)
            && mono_ms().saturating_sub(self.at_ms) < TTL.as_millis() as i64
    }

    /// Whether a read begun at `self` may be kept (no change since, and none just before).
    pub fn keepable(&self) -> bool {
        self.gen == GENERATION.load(Ordering::SeqCst)
            && self
                .at_ms
                .saturating_sub(CHANGED_AT_MS.load(Ordering::SeqCst))
                >= QUIET.as_millis() as i64
    }
}

/// A bounded map of cached answers.
pub struct Cache<K, V> {
    map: std::sync::Mutex<std::collections::HashMap<K, (Generation, V)>>,
    max: usize,
}

impl<K: std::hash::Hash + Eq, V: Clone> Cache<K, V> {
    pub fn new(max: usize) -> Self {
        Cache {
            map: Default::default(),
            max,
        }
    }

    pub fn get(&self, k: &K) -> Option<V> {
        let map = self.map.lock().ok()?;
        let (g, v) = map.get(k)?;
        g.fresh().then(|| v.clone())
    }

    /// Keeps `v`, read from the database after `read_began`, if that read may be kept.
    pub fn put(&self, read_began: Generation, k: K, v: V) {
        if !read_began.keepable() {
            return;
        }
        if let Ok(mut map) = self.map.lock() {
            if map.len() >= self.max {
                map.retain(|_, (g, _)| g.fresh());
                if map.len() >= self.max {
                    map.clear();
                }
            }
            map.insert(k, (read_began, v));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_invalidates_and_quiets() {
        let c: Cache<u32, u32> = Cache::new(4);
        // A change just now: nothing is kept.
        changed();
        let g = Generation::now();
        c.put(g, 1, 1);
        assert_eq!(c.get(&1), None);
    }

    #[test]
    fn an_entry_older_than_a_change_does_not_count() {
        let g = Generation {
            gen: GENERATION.load(Ordering::SeqCst),
            at_ms: mono_ms(),
        };
        assert!(g.fresh());
        changed();
        assert!(!g.fresh());
        assert!(!g.keepable());
    }

    #[test]
    fn the_map_stays_bounded() {
        let c: Cache<u32, u32> = Cache::new(3);
        // Keep entries even right after other tests' changes: build a keepable generation.
        let g = Generation {
            gen: GENERATION.load(Ordering::SeqCst),
            at_ms: i64::MAX / 2,
        };
        for i in 0..10 {
            c.put(g, i, i);
        }
        assert!(c.map.lock().unwrap().len() <= 3);
    }
}
