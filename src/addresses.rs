//! A pool of pre-fetched lakeFS staging locations (`getPhysicalAddress(presign=true)` answers) per
//! access key and repository, so a PutObject makes one lakeFS call on its critical path
//! (`linkPhysicalAddress`) instead of two.
//!
//! Why this is allowed: lakeFS binds a link address to its repository only (`SetLinkAddress` /
//! `VerifyLinkAddress` take the repository; the address is `<namespace>/data/<random>`), keeps it
//! linkable for hours, and checks the write permission on the real path when linking. A location is
//! used only while its presigned URL has [`URL_MARGIN`] left and at most [`MAX_AGE`] after it was
//! fetched; an unused one simply expires (lakeFS deletes expired link addresses). Refills run in the
//! background as the key that asked, for the path of the request that triggered them.

use crate::lakefs::dto::StagingLocation;
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A presigned URL is not used when it expires sooner than this.
pub const URL_MARGIN: Duration = Duration::from_secs(60);
/// A location is not used longer than this after it was fetched.
pub const MAX_AGE: Duration = Duration::from_secs(600);
/// Pools kept at most (access key × repository); the least recently used is dropped beyond.
pub const MAX_POOLS: usize = 256;
/// `getPhysicalAddress` calls one refill runs at once.
pub const REFILL_CONCURRENCY: usize = 4;

/// Access key id and repository.
pub type PoolKey = (String, String);

struct Ready {
    location: StagingLocation,
    usable_until: Instant,
}

#[derive(Default)]
struct Pool {
    ready: VecDeque<Ready>,
    refilling: bool,
    used: Option<Instant>,
}

/// The pools; `size` locations kept ready per pool (0: no pooling).
pub struct AddressPool {
    size: usize,
    pools: Mutex<HashMap<PoolKey, Pool>>,
}

impl AddressPool {
    pub fn new(size: usize) -> Arc<AddressPool> {
        Arc::new(AddressPool { size, pools: Mutex::new(HashMap::new()) })
    }

    pub fn enabled(&self) -> bool {
        self.size > 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<PoolKey, Pool>> {
        self.pools.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A usable location of `key`'s pool, if one is ready.
    pub fn take(&self, key: &PoolKey) -> Option<StagingLocation> {
        let mut pools = self.lock();
        let pool = pools.get_mut(key)?;
        pool.used = Some(Instant::now());
        let now = Instant::now();
        while let Some(r) = pool.ready.pop_front() {
            if r.usable_until > now {
                return Some(r.location);
            }
        }
        None
    }

    /// Locations held ready for `key` (for tests and metrics).
    pub fn ready(&self, key: &PoolKey) -> usize {
        self.lock().get(key).map_or(0, |p| p.ready.len())
    }

    /// How many locations to fetch for `key` now, marking a refill as running (`0`: none needed
    /// or one already runs). Call [`AddressPool::refill`] after a non-zero answer.
    fn start_refill(&self, key: &PoolKey) -> usize {
        if self.size == 0 {
            return 0;
        }
        let mut pools = self.lock();
        if !pools.contains_key(key) && pools.len() >= MAX_POOLS {
            let oldest = pools.iter().min_by_key(|(_, p)| p.used).map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                pools.remove(&oldest);
            }
        }
        let pool = pools.entry(key.clone()).or_default();
        pool.used.get_or_insert_with(Instant::now);
        let now = Instant::now();
        pool.ready.retain(|r| r.usable_until > now);
        if pool.refilling || pool.ready.len() > self.size / 2 {
            return 0;
        }
        pool.refilling = true;
        self.size - pool.ready.len()
    }

    /// Adds a fetched location; whether it was usable.
    fn add(&self, key: &PoolKey, location: StagingLocation) -> bool {
        let Some(usable_until) = usable_until(&location, SystemTime::now()) else { return false };
        let mut pools = self.lock();
        let Some(pool) = pools.get_mut(key) else { return false };
        pool.ready.push_back(Ready { location, usable_until });
        true
    }

    /// How many more to fetch after a round: the pool is topped up to `size` again (demand may have
    /// drained it meanwhile); `0` ends the refill.
    fn continue_refill(&self, key: &PoolKey, round_added: bool) -> usize {
        let mut pools = self.lock();
        let Some(pool) = pools.get_mut(key) else { return 0 };
        let missing = self.size.saturating_sub(pool.ready.len());
        if missing == 0 || !round_added {
            pool.refilling = false;
            return 0;
        }
        missing
    }

    /// Tops `key`'s pool up to its size in the background with `fetch` (one `getPhysicalAddress`
    /// per call), at most [`REFILL_CONCURRENCY`] at once, in rounds until it is full; a failure or a
    /// round without a usable location ends the refill (the next PutObject fetches its own location
    /// and starts another).
    pub fn refill<F, Fut, E>(self: &Arc<Self>, key: PoolKey, fetch: F)
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<StagingLocation, E>> + Send + 'static,
        E: std::fmt::Display + Send + 'static,
    {
        let mut wanted = self.start_refill(&key);
        if wanted == 0 {
            return;
        }
        let pool = self.clone();
        tokio::spawn(async move {
            use futures_util::StreamExt;
            while wanted > 0 {
                let round =
                    futures_util::stream::iter((0..wanted).map(|_| fetch())).buffer_unordered(REFILL_CONCURRENCY);
                let mut round = std::pin::pin!(round);
                let (mut added, mut failed) = (false, false);
                while let Some(result) = round.next().await {
                    match result {
                        Ok(location) => added |= pool.add(&key, location),
                        Err(e) => {
                            tracing::debug!(repository = %key.1, error = %e, "physical address pool refill failed");
                            failed = true;
                            break;
                        }
                    }
                }
                wanted = pool.continue_refill(&key, added && !failed);
            }
        });
    }
}

/// Until when a fetched location may be used (`None`: no presigned URL or expiry, or too short).
fn usable_until(location: &StagingLocation, now: SystemTime) -> Option<Instant> {
    location.presigned_url.as_ref()?;
    let expiry = UNIX_EPOCH + Duration::from_secs(u64::try_from(location.presigned_url_expiry?).ok()?);
    let left = expiry.duration_since(now).ok()?.checked_sub(URL_MARGIN)?;
    Some(Instant::now() + left.min(MAX_AGE))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn location(n: usize, expires_in: i64) -> StagingLocation {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
        StagingLocation {
            physical_address: Some(format!("s3://ns/data/{n}")),
            presigned_url: Some(format!("http://store/{n}")),
            presigned_url_expiry: Some(now + expires_in),
        }
    }

    fn key() -> PoolKey {
        ("AKIA".into(), "repo".into())
    }

    async fn settle(pool: &AddressPool, want: usize) {
        for _ in 0..200 {
            if pool.ready(&key()) >= want && !pool.lock()[&key()].refilling {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!("pool holds {} of {want}", pool.ready(&key()));
    }

    #[tokio::test]
    async fn refills_in_the_background_and_hands_out_each_location_once() {
        let pool = AddressPool::new(8);
        assert_eq!(pool.take(&key()), None);
        let calls = Arc::new(AtomicUsize::new(0));
        let c = calls.clone();
        let fetch = move || {
            let n = c.fetch_add(1, Ordering::SeqCst);
            async move { Ok::<_, String>(location(n, 900)) }
        };
        pool.refill(key(), fetch.clone());
        settle(&pool, 8).await;
        assert_eq!(calls.load(Ordering::SeqCst), 8);
        let mut seen = std::collections::HashSet::new();
        for _ in 0..3 {
            assert!(seen.insert(pool.take(&key()).unwrap().physical_address.unwrap()));
        }
        // 5 of 8 left, more than half: no refill
        pool.refill(key(), fetch.clone());
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!((pool.ready(&key()), calls.load(Ordering::SeqCst)), (5, 8));
        assert!(seen.insert(pool.take(&key()).unwrap().physical_address.unwrap()));
        // half: topped up to 8 again, in the background
        pool.refill(key(), fetch);
        settle(&pool, 8).await;
        assert_eq!(calls.load(Ordering::SeqCst), 12);
        while let Some(l) = pool.take(&key()) {
            assert!(seen.insert(l.physical_address.unwrap()));
        }
        assert_eq!(seen.len(), 12);
    }

    #[tokio::test]
    async fn a_refill_tops_up_what_was_taken_meanwhile() {
        let pool = AddressPool::new(8);
        let calls = Arc::new(AtomicUsize::new(0));
        let c = calls.clone();
        let fetch = move || {
            let n = c.fetch_add(1, Ordering::SeqCst);
            async move {
                tokio::time::sleep(Duration::from_millis(2)).await;
                Ok::<_, String>(location(n, 900))
            }
        };
        pool.refill(key(), fetch);
        let mut taken = 0;
        while taken < 5 {
            if pool.take(&key()).is_some() {
                taken += 1;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        settle(&pool, 8).await;
        assert_eq!(calls.load(Ordering::SeqCst), 13);
    }

    #[tokio::test]
    async fn short_lived_and_unpresigned_locations_are_not_kept() {
        let pool = AddressPool::new(4);
        pool.refill(key(), || async { Ok::<_, String>(location(1, 30)) });
        settle(&pool, 0).await;
        assert_eq!(pool.take(&key()), None);
        let no_url = StagingLocation { presigned_url: None, ..location(2, 900) };
        assert_eq!(usable_until(&no_url, SystemTime::now()), None);
        let no_expiry = StagingLocation { presigned_url_expiry: None, ..location(3, 900) };
        assert_eq!(usable_until(&no_expiry, SystemTime::now()), None);
        assert!(usable_until(&location(4, 900), SystemTime::now()).is_some());
    }

    #[tokio::test]
    async fn a_failed_fetch_ends_the_refill_and_a_later_one_retries() {
        let pool = AddressPool::new(4);
        pool.refill(key(), || async { Err::<StagingLocation, _>("403 forbidden") });
        settle(&pool, 0).await;
        assert_eq!(pool.ready(&key()), 0);
        pool.refill(key(), || async { Ok::<_, String>(location(1, 900)) });
        settle(&pool, 4).await;
    }

    #[test]
    fn disabled_pool_never_refills_and_pools_are_bounded() {
        let off = AddressPool::new(0);
        assert!(!off.enabled());
        assert_eq!(off.start_refill(&key()), 0);
        let pool = AddressPool::new(2);
        for i in 0..MAX_POOLS + 10 {
            assert_eq!(pool.start_refill(&(format!("k{i}"), "r".into())), 2);
        }
        assert_eq!(pool.lock().len(), MAX_POOLS);
    }
}
