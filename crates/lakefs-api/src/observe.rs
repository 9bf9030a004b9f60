//! How the process learns of every call the typed client makes: one observer, installed once (the
//! gateway's metrics count lakeFS calls by operation id and status through it). Without an
//! observer, calls are not counted.

use std::sync::OnceLock;
use std::time::Duration;

/// Called after each lakeFS call with its operation id (as in lakeFS's spec, `other` when the path
/// is none of them), the HTTP status (0 when no answer came) and how long it took.
pub type CallObserver = fn(operation: &str, status: u16, elapsed: Duration);

static OBSERVER: OnceLock<CallObserver> = OnceLock::new();

/// Installs the process's observer; the first one installed stays.
pub fn install(observer: CallObserver) {
    let _ = OBSERVER.set(observer);
}

/// Reports one call to the installed observer, if any.
pub(crate) fn call(operation: &str, status: u16, elapsed: Duration) {
    if let Some(observe) = OBSERVER.get() {
        observe(operation, status, elapsed);
    }
}
