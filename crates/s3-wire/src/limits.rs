//! Per-request limits of the S3 front door: concurrent requests per access key, the request
//! timeout (an answer must start within it of the last request-body byte) and the request-body
//! idle timeout. Refusals are S3 errors: `503 SlowDown` with `Retry-After` (AWS's "reduce your
//! request rate"), or `400 RequestTimeout` for a body that stopped arriving (AWS's wording). The
//! connection limit and idle connections are the listener's ([`lakegate_net::server`]).

use super::error::{S3Error, S3Result};
use crate::s3_err;
use bytes::Bytes;
use dashmap::DashMap;
use futures_util::{Stream, StreamExt};
use http::{HeaderValue, header};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;
use tokio::time::Instant;

/// The limits every S3 request is held to.
pub struct RequestLimits {
    per_key: usize,
    in_progress: DashMap<String, Arc<AtomicUsize>>,
    pub request_timeout: Duration,
    pub body_idle: Duration,
}

fn slow_down(message: String) -> S3Error {
    s3_err!(SlowDown, "Please reduce your request rate. ({message})")
        .with_header(header::RETRY_AFTER, HeaderValue::from_static("1"))
}

impl RequestLimits {
    /// `per_key` requests of one key at once; a request ends within `request_timeout`; a body
    /// that sends nothing for `body_idle` fails.
    pub fn new(per_key: usize, request_timeout: Duration, body_idle: Duration) -> RequestLimits {
        RequestLimits { per_key, in_progress: DashMap::new(), request_timeout, body_idle }
    }

    /// A slot for one more request of `access_key`, or `503 SlowDown` when it has
    /// `max_requests_per_key` in progress. Keys are verified ones, so the map stays bounded.
    pub fn admit(&self, access_key: &str) -> S3Result<KeyPermit> {
        let count = match self.in_progress.get(access_key) {
            Some(c) => c.clone(),
            None => self.in_progress.entry(access_key.to_string()).or_default().clone(),
        };
        if count.fetch_add(1, Ordering::AcqRel) >= self.per_key {
            count.fetch_sub(1, Ordering::AcqRel);
            crate::events::get().limit_hit("requests_per_key");
            return Err(slow_down(format!(
                "this access key has {} requests in progress, the most lakegate serves at once",
                self.per_key
            )));
        }
        Ok(KeyPermit(count))
    }
}

/// One request in progress for its key (released on drop: keep it until the answer is sent).
pub struct KeyPermit(Arc<AtomicUsize>);

impl Drop for KeyPermit {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// When the request body last delivered bytes (the request timeout counts from there).
#[derive(Clone)]
pub struct Progress {
    base: Instant,
    last_ms: Arc<AtomicU64>,
}

impl Default for Progress {
    fn default() -> Progress {
        Progress { base: Instant::now(), last_ms: Arc::default() }
    }
}

impl Progress {
    fn touch(&self) {
        self.last_ms.store(self.base.elapsed().as_millis() as u64, Ordering::Relaxed);
    }

    fn last(&self) -> Instant {
        self.base + Duration::from_millis(self.last_ms.load(Ordering::Relaxed))
    }
}

/// Runs `answer`, failing with `503 SlowDown` when `timeout` passes after the request's last
/// body progress without an answer.
pub async fn within<T>(
    answer: impl Future<Output = S3Result<T>>,
    timeout: Duration,
    progress: &Progress,
) -> S3Result<T> {
    tokio::pin!(answer);
    loop {
        let deadline = progress.last() + timeout;
        tokio::select! {
            done = &mut answer => return done,
            () = tokio::time::sleep_until(deadline) => {
                if progress.last() + timeout <= Instant::now() {
                    crate::events::get().limit_hit("request_timeout");
                    return Err(slow_down(format!("no answer within the request timeout of {} s", timeout.as_secs())));
                }
            }
        }
    }
}

type DataStream = Pin<Box<dyn Stream<Item = S3Result<Bytes>> + Send>>;

/// `body` reporting its progress, ending in `400 RequestTimeout` when no byte arrives for `idle`.
pub fn watch_body(body: DataStream, idle: Duration, progress: Progress) -> DataStream {
    let state = (body, progress, false);
    Box::pin(futures_util::stream::unfold(state, move |(mut body, progress, ended)| async move {
        if ended {
            return None;
        }
        match tokio::time::timeout(idle, body.next()).await {
            Ok(Some(item)) => {
                progress.touch();
                Some((item, (body, progress, false)))
            }
            Ok(None) => None,
            Err(_) => {
                crate::events::get().limit_hit("body_idle");
                let err = s3_err!(
                    RequestTimeout,
                    "Your socket connection to the server was not read from or written to within the timeout period. Idle connections will be closed."
                );
                Some((Err(err), (body, progress, true)))
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::S3ErrorCode;

    fn limits(per_key: u64, timeout: u64) -> RequestLimits {
        RequestLimits::new(per_key as usize, Duration::from_secs(timeout), Duration::from_secs(1))
    }

    #[test]
    fn per_key_slots_are_counted_and_released() {
        let l = limits(2, 1);
        let (a, b) = (l.admit("K1").unwrap(), l.admit("K1").unwrap());
        let refused = l.admit("K1").err().expect("third refused");
        assert_eq!(refused.code, S3ErrorCode::SlowDown);
        assert!(refused.headers.iter().any(|(k, v)| k == header::RETRY_AFTER && v == "1"));
        let _other = l.admit("K2").expect("another key has its own slots");
        drop(a);
        let _c = l.admit("K1").expect("a released slot is reused");
        drop(b);
    }

    #[tokio::test(start_paused = true)]
    async fn the_request_timeout_counts_from_the_last_body_progress() {
        let progress = Progress::default();
        let p = progress.clone();
        // an answer that arrives 3 s in, while body bytes keep arriving every 0.5 s
        let answer = async move {
            for _ in 0..6 {
                tokio::time::sleep(Duration::from_millis(500)).await;
                p.touch();
            }
            Ok::<_, S3Error>(7)
        };
        assert_eq!(within(answer, Duration::from_secs(1), &progress).await.unwrap(), 7);
        let stuck = std::future::pending::<S3Result<()>>();
        let err = within(stuck, Duration::from_secs(1), &Progress::default()).await.unwrap_err();
        assert_eq!(err.code, S3ErrorCode::SlowDown);
    }

    #[tokio::test(start_paused = true)]
    async fn a_stalled_body_ends_in_request_timeout() {
        let chunks = futures_util::stream::iter([Ok(Bytes::from_static(b"ab"))]).chain(futures_util::stream::pending());
        let mut body = watch_body(Box::pin(chunks), Duration::from_secs(2), Progress::default());
        assert_eq!(body.next().await.unwrap().unwrap(), "ab");
        assert_eq!(body.next().await.unwrap().unwrap_err().code, S3ErrorCode::RequestTimeout);
        assert!(body.next().await.is_none(), "ends after the error");
    }
}
