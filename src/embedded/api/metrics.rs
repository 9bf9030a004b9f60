//! The embedded server's `GET /metrics`: how many lakeFS API calls it answered, per operation and
//! status, in the Prometheus text format under lakeFS's own metric name
//! (`api_request_duration_seconds_count{operation="statObject",code="200"}`), so a tool counting
//! lakeFS calls (`lakegate bench`) reads real lakeFS and the embedded server alike.

use super::Route;
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

impl Route {
    /// lakeFS's `operationId` of the route (`StatObject` → `statObject`, `Auth(CreateUser)` →
    /// `createUser`).
    pub fn operation_id(&self) -> &'static str {
        let debug = format!("{self:?}");
        let debug = debug.strip_prefix("Auth(").unwrap_or(&debug);
        let name = debug.split(['(', ')']).next().unwrap_or(debug);
        let mut id = String::with_capacity(name.len());
        let mut chars = name.chars();
        if let Some(first) = chars.next() {
            id.push(first.to_ascii_lowercase());
            id.extend(chars);
        }
        intern(id)
    }
}

/// A `'static` copy of `id`, leaked once per distinct operation name (a fixed, small set).
fn intern(id: String) -> &'static str {
    static NAMES: Mutex<BTreeMap<String, &'static str>> = Mutex::new(BTreeMap::new());
    let Ok(mut names) = NAMES.lock() else { return "unknown" };
    if let Some(name) = names.get(&id) {
        return name;
    }
    let leaked: &'static str = Box::leak(id.clone().into_boxed_str());
    names.insert(id, leaked);
    leaked
}

#[cfg(test)]
mod tests {
    use super::super::auth_routes::AuthRoute;
    use super::*;

    #[test]
    fn operation_ids_and_exposition() {
        assert_eq!(Route::StatObject("r".into(), "b".into()).operation_id(), "statObject");
        assert_eq!(Route::HealthCheck.operation_id(), "healthCheck");
        assert_eq!(Route::Auth(AuthRoute::CreateUser).operation_id(), "createUser");
        assert_eq!(Route::Auth(AuthRoute::GetUser("u".into())).operation_id(), "getUser");
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
