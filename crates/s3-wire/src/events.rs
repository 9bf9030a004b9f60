//! What the S3 wire layer reports to the process (the gateway's metrics count it): request bytes
//! received and limits hit. One observer per process, installed once; without one, nothing is
//! reported.

use std::sync::OnceLock;

/// The wire layer's events. Every method defaults to doing nothing.
pub trait WireEvents: Send + Sync {
    /// Bytes of request bodies received.
    fn bytes_in(&self, _bytes: u64) {}
    /// A limit refused work: `requests_per_key`, `request_timeout`, `body_idle`.
    fn limit_hit(&self, _limit: &'static str) {}
}

struct Silent;
impl WireEvents for Silent {}

static OBSERVER: OnceLock<&'static dyn WireEvents> = OnceLock::new();

/// Installs the process's observer; the first one installed stays.
pub fn install(observer: &'static dyn WireEvents) {
    let _ = OBSERVER.set(observer);
}

pub(crate) fn get() -> &'static dyn WireEvents {
    OBSERVER.get().copied().unwrap_or(&Silent)
}
