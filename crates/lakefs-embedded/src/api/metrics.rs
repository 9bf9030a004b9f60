//! The embedded server's `GET /metrics`: how many lakeFS API calls it answered, per operation and
//! status, in the Prometheus text format under lakeFS's own metric name
//! (`api_request_duration_seconds_count{operation="statObject",code="200"}`), so a tool counting
//! lakeFS calls (`lakegate bench`) reads real lakeFS and the embedded server alike.

use std::collections::BTreeMap;
use std::sync::Mutex;

/// The metric lakeFS exports for its API (a histogram; only its `_count` series is kept here).
pub const METRIC: &str = "api_request_duration_seconds_count";

/// Calls answered, by (operation id, HTTP status).
#[derive(Debug, Default)]
pub struct ApiCalls {
    counts: Mutex<BTreeMap<(&'static str, u16), u64>>,
}

impl ApiCalls {
    pub fn record(&self, operation: &'static str, status: u16) {
        if let Ok(mut c) = self.counts.lock() {
            *c.entry((operation, status)).or_default() += 1;
        }
    }

    /// Prometheus text exposition of the counts.
    pub fn render(&self) -> String {
        let mut out = format!("# TYPE {METRIC} counter\n");
        if let Ok(c) = self.counts.lock() {
            for ((op, code), n) in c.iter() {
                out.push_str(&format!("{METRIC}{{operation=\"{op}\",code=\"{code}\"}} {n}\n"));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_counts_by_operation_and_status() {
        let calls = ApiCalls::default();
        calls.record("statObject", 200);
        calls.record("statObject", 200);
        calls.record("statObject", 404);
        let text = calls.render();
        assert!(
            text.contains("api_request_duration_seconds_count{operation=\"statObject\",code=\"200\"} 2\n"),
            "{text}"
        );
        assert!(text.contains("{operation=\"statObject\",code=\"404\"} 1\n"), "{text}");
    }
}
