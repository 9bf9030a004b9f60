//! [`SmallObjects`]: the bytes of small objects read at a commit id, by physical address, so a
//! repeated GetObject at a commit (the read path of jobs that pin a commit) costs neither a lakeFS
//! call (see [`super::CommitStats`]) nor an object-store round trip.
//!
//! Safe because a lakeFS physical address is written once and never rewritten (new writes get new
//! addresses) and a commit never changes. Only objects of at most [`MAX_OBJECT`] bytes are kept —
//! the one place lakegate holds object bytes in memory — within a byte budget (oldest dropped
//! first). Access is still authorised per key: an entry is used only after the key's `statObject`
//! (answered by lakeFS or by the per-key stats cache) named the physical address.

use bytes::Bytes;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// Largest object kept.
pub const MAX_OBJECT: u64 = 64 * 1024;

#[derive(Default)]
struct Inner {
    entries: HashMap<String, Bytes>,
    order: VecDeque<String>,
    bytes: usize,
}

/// Small object bytes by physical address, within `budget` bytes (0: off).
pub struct SmallObjects {
    budget: usize,
    inner: Mutex<Inner>,
}

impl SmallObjects {
    pub fn new(budget: usize) -> SmallObjects {
        SmallObjects { budget, inner: Mutex::default() }
    }

    /// Whether an object of `size` bytes is worth keeping.
    pub fn keeps(&self, size: u64) -> bool {
        self.budget > 0 && size <= MAX_OBJECT && size as usize <= self.budget
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn get(&self, physical_address: &str) -> Option<Bytes> {
        self.lock().entries.get(physical_address).cloned()
    }

    /// Keeps `data` (ignored when too large), dropping the oldest entries beyond the budget.
    pub fn put(&self, physical_address: &str, data: Bytes) {
        if !self.keeps(data.len() as u64) {
            return;
        }
        let mut inner = self.lock();
        if inner.entries.contains_key(physical_address) {
            return;
        }
        while inner.bytes + data.len() > self.budget {
            let Some(oldest) = inner.order.pop_front() else { break };
            if let Some(gone) = inner.entries.remove(&oldest) {
                inner.bytes -= gone.len();
            }
        }
        inner.bytes += data.len();
        inner.order.push_back(physical_address.to_string());
        inner.entries.insert(physical_address.to_string(), data);
    }

    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.lock().bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_small_objects_within_the_budget_oldest_out_first() {
        let c = SmallObjects::new(10_000);
        c.put("a", Bytes::from(vec![1u8; 4000]));
        c.put("b", Bytes::from(vec![2u8; 4000]));
        assert_eq!(c.bytes(), 8000);
        c.put("c", Bytes::from(vec![3u8; 4000]));
        assert_eq!((c.get("a"), c.bytes()), (None, 8000));
        assert_eq!(c.get("b").unwrap()[0], 2);
        assert_eq!(c.get("c").unwrap().len(), 4000);
        // same address again: kept once
        c.put("c", Bytes::from(vec![9u8; 10]));
        assert_eq!((c.get("c").unwrap()[0], c.bytes()), (3, 8000));
    }

    #[test]
    fn large_objects_and_a_zero_budget_are_not_kept() {
        let c = SmallObjects::new(1 << 20);
        c.put("big", Bytes::from(vec![0u8; MAX_OBJECT as usize + 1]));
        assert_eq!((c.get("big"), c.bytes()), (None, 0));
        assert!(c.keeps(MAX_OBJECT) && !c.keeps(MAX_OBJECT + 1));
        let off = SmallObjects::new(0);
        off.put("a", Bytes::from_static(b"x"));
        assert_eq!(off.get("a"), None);
        assert!(!off.keeps(1));
    }
}
