//! Caches that save lakeFS round trips. [`CommitStats`]: `statObject` answers for objects read at a
//! commit id (lakeFS commits are immutable, so the answer cannot change), kept per verified access
//! key (lakeFS authorised that key's user for the object) until shortly before the presigned URL
//! they carry expires, and at most [`MAX_AGE`] (a revoked permission stops applying at the latest
//! then, as a presigned URL already handed out would). GetObject and HeadObject on a commit id then
//! cost no lakeFS call.

pub mod blobs;
pub use blobs::SmallObjects;

use dashmap::DashMap;
use lakefs_api::dto::ObjectStats;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Longest time an entry is used.
pub const MAX_AGE: Duration = Duration::from_secs(300);
/// A presigned URL is not handed out when it expires sooner than this.
pub const URL_MARGIN: Duration = Duration::from_secs(60);
/// Entries kept at most; a full cache drops its expired entries, then everything.
pub const CAPACITY: usize = 10_000;

/// Who asked for what: access key, repository, commit id, path, whether with a presigned URL.
type Key = (String, String, String, String, bool);

#[derive(Default)]
pub struct CommitStats {
    entries: DashMap<Key, (ObjectStats, Instant)>,
}

/// Whether `reference` is a lakeFS commit id (64 lowercase hex digits: a SHA-256).
pub fn is_commit_id(reference: &str) -> bool {
    reference.len() == 64 && reference.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl CommitStats {
    /// The cached answer, when still usable.
    pub fn get(&self, access_key: &str, repo: &str, commit: &str, path: &str, presign: bool) -> Option<ObjectStats> {
        let key = (access_key.to_string(), repo.to_string(), commit.to_string(), path.to_string(), presign);
        let hit = self.entries.get(&key).filter(|e| e.1 > Instant::now()).map(|e| e.0.clone());
        if hit.is_none() {
            self.entries.remove_if(&key, |_, e| e.1 <= Instant::now());
        }
        hit
    }

    /// Remembers `stats` of an object at commit id `commit` (ignored for other refs).
    pub fn put(&self, access_key: &str, repo: &str, commit: &str, path: &str, presign: bool, stats: &ObjectStats) {
        if !is_commit_id(commit) {
            return;
        }
        let Some(until) = usable_until(stats, presign, SystemTime::now()) else { return };
        if self.entries.len() >= CAPACITY {
            let now = Instant::now();
            self.entries.retain(|_, e| e.1 > now);
            if self.entries.len() >= CAPACITY {
                self.entries.clear();
            }
        }
        let key = (access_key.to_string(), repo.to_string(), commit.to_string(), path.to_string(), presign);
        self.entries.insert(key, (stats.clone(), until));
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Until when an answer may be used: [`MAX_AGE`], and for a presigned URL [`URL_MARGIN`] before it
/// expires (`None`: not worth caching, or the expiry is unknown).
fn usable_until(stats: &ObjectStats, presign: bool, now: SystemTime) -> Option<Instant> {
    let mut age = MAX_AGE;
    if presign {
        let expiry = UNIX_EPOCH + Duration::from_secs(u64::try_from(stats.physical_address_expiry?).ok()?);
        age = age.min(expiry.duration_since(now).ok()?.checked_sub(URL_MARGIN)?);
    }
    Some(Instant::now() + age)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lakefs_api::dto::PathType;

    const COMMIT: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn stats(expiry_in: Option<i64>) -> ObjectStats {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
        ObjectStats {
            path: "p".into(),
            path_type: PathType::Object,
            physical_address: "http://store/p?sig".into(),
            physical_address_expiry: expiry_in.map(|s| now + s),
            checksum: "c".into(),
            size_bytes: Some(1),
            mtime: 0,
            metadata: None,
            content_type: None,
        }
    }

    #[test]
    fn commit_ids_only_per_key_and_presign() {
        assert!(is_commit_id(COMMIT));
        assert!(!is_commit_id("main") && !is_commit_id(&COMMIT.to_uppercase()) && !is_commit_id(&COMMIT[1..]));
        let c = CommitStats::default();
        c.put("ak", "r", "main", "p", false, &stats(None));
        assert!(c.is_empty(), "branches are not cached");
        c.put("ak", "r", COMMIT, "p", false, &stats(None));
        assert_eq!(c.get("ak", "r", COMMIT, "p", false).map(|s| s.checksum), Some("c".into()));
        assert!(c.get("other", "r", COMMIT, "p", false).is_none(), "another key asks lakeFS itself");
        assert!(c.get("ak", "r", COMMIT, "p", true).is_none(), "a HEAD answer has no URL for a GET");
        assert_eq!(c.len(), 1);
    }

    #[test]
    fn presigned_answers_expire_before_their_url() {
        let c = CommitStats::default();
        c.put("ak", "r", COMMIT, "soon", true, &stats(Some(30)));
        c.put("ak", "r", COMMIT, "unknown", true, &stats(None));
        assert!(c.is_empty(), "URLs expiring within the margin, or of unknown expiry, are not kept");
        c.put("ak", "r", COMMIT, "later", true, &stats(Some(900)));
        assert!(c.get("ak", "r", COMMIT, "later", true).is_some());
        let until = usable_until(&stats(Some(900)), true, SystemTime::now()).unwrap();
        assert!(until <= Instant::now() + MAX_AGE);
        let until = usable_until(&stats(Some(120)), true, SystemTime::now()).unwrap();
        assert!(until <= Instant::now() + Duration::from_secs(61), "expiry minus the margin");
    }
}
