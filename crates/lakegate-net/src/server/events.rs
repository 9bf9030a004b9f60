//! What the accept loop reports to the process (the gateway's metrics count it): limits hit,
//! connections opened and closed, TLS certificate reloads. One observer per process, installed
//! once; without one, nothing is reported.

use std::sync::OnceLock;

/// The accept loop's events. Every method defaults to doing nothing.
pub trait ServerEvents: Send + Sync {
    /// A limit refused work: `connections` (over the connection limit), `connection_idle`.
    fn limit_hit(&self, _limit: &'static str) {}
    fn connection_opened(&self) {}
    fn connection_closed(&self) {}
    /// The TLS certificate was reloaded from disk (`false`: the new files did not load).
    fn tls_reloaded(&self, _ok: bool) {}
}

struct Silent;
impl ServerEvents for Silent {}

static OBSERVER: OnceLock<&'static dyn ServerEvents> = OnceLock::new();

/// Installs the process's observer; the first one installed stays.
pub fn install(observer: &'static dyn ServerEvents) {
    let _ = OBSERVER.set(observer);
}

pub(crate) fn get() -> &'static dyn ServerEvents {
    OBSERVER.get().copied().unwrap_or(&Silent)
}
