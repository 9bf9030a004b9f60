//! The gateway's Prometheus metrics (`prometheus-client`, OpenMetrics text on the admin listener's
//! `/metrics`): S3 requests by operation and status with latency histograms, bytes in and out,
//! requests in flight, lakeFS calls by operation id (as in lakeFS's OpenAPI spec) and status with
//! latency, cache hits and misses, and open multipart uploads.
//!
//! One registry per process ([`metrics()`]): every gateway in the process counts into it.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::LazyLock;
use std::time::Duration;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub operation: String,
    pub status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OperationLabels {
    pub operation: String,
}

/// Which limit refused or ended a request (`connections`, `requests_per_key`, `request_timeout`,
/// `body_idle`, `connection_idle`), or how a TLS certificate reload went (`ok`, `error`).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabels {
    pub kind: String,
}

/// A publish-on-success action (`commit`, `pull_request`, `merge`, `delete_branch`,
/// `reset_branch`) and how it went.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ActionLabels {
    pub action: String,
    pub result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CacheLabels {
    pub cache: String,
    pub result: String,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

fn latency() -> Histogram {
    // 1 ms … ~33 s
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

/// Every metric of the gateway.
pub struct Metrics {
    registry: Registry,
    pub s3_requests: Family<RequestLabels, Counter>,
    pub s3_duration: Histograms<OperationLabels>,
    pub bytes_in: Counter,
    pub bytes_out: Counter,
    pub in_flight: Gauge,
    pub lakefs_calls: Family<RequestLabels, Counter>,
    pub lakefs_duration: Histograms<OperationLabels>,
    pub cache: Family<CacheLabels, Counter>,
    pub multipart_open: Gauge,
    pub connections: Gauge,
    pub limited: Family<KindLabels, Counter>,
    pub tls_reloads: Family<KindLabels, Counter>,
    pub publish: Family<ActionLabels, Counter>,
}

impl Metrics {
    fn new() -> Metrics {
        let mut registry = Registry::with_prefix("lakegate");
        let m = Metrics {
            s3_requests: Family::default(),
            s3_duration: Family::new_with_constructor(latency),
            bytes_in: Counter::default(),
            bytes_out: Counter::default(),
            in_flight: Gauge::default(),
            lakefs_calls: Family::default(),
            lakefs_duration: Family::new_with_constructor(latency),
            cache: Family::default(),
            multipart_open: Gauge::default(),
            connections: Gauge::default(),
            limited: Family::default(),
            tls_reloads: Family::default(),
            publish: Family::default(),
            registry: Registry::default(),
        };
        let r = &mut registry;
        r.register("s3_requests", "S3 requests by operation and HTTP status", m.s3_requests.clone());
        r.register("s3_request_duration_seconds", "S3 request latency to the answer's head", m.s3_duration.clone());
        r.register("s3_received_bytes", "S3 request body bytes received (as sent on the wire)", m.bytes_in.clone());
        r.register("s3_sent_bytes", "S3 response body bytes sent", m.bytes_out.clone());
        r.register("s3_requests_in_flight", "S3 requests being served", m.in_flight.clone());
        r.register(
            "lakefs_calls",
            "lakeFS API calls by operation id and status (0: no answer)",
            m.lakefs_calls.clone(),
        );
        r.register("lakefs_call_duration_seconds", "lakeFS API call latency", m.lakefs_duration.clone());
        r.register("cache_lookups", "Cache lookups by cache and result (hit, miss)", m.cache.clone());
        r.register(
            "multipart_uploads_open",
            "Multipart uploads created and not yet completed or aborted",
            m.multipart_open.clone(),
        );
        r.register("connections_open", "Client connections open on the S3 listener", m.connections.clone());
        r.register(
            "limit_hits",
            "Requests refused or connections ended by a limit (connections, requests_per_key, request_timeout, body_idle, connection_idle)",
            m.limited.clone(),
        );
        r.register("tls_certificate_reloads", "TLS certificate reloads by result (ok, error)", m.tls_reloads.clone());
        r.register("publish_actions", "Publish-on-success actions by action and result", m.publish.clone());
        Metrics { registry, ..m }
    }

    /// The OpenMetrics text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry).expect("writing to a String");
        out
    }

    /// Counts one refusal by the limit `kind`.
    pub fn limit_hit(&self, kind: &str) {
        self.limited.get_or_create(&KindLabels { kind: kind.to_string() }).inc();
    }

    /// Counts one TLS certificate reload (`ok` or `error`).
    pub fn tls_reload(&self, ok: bool) {
        let kind = if ok { "ok" } else { "error" };
        self.tls_reloads.get_or_create(&KindLabels { kind: kind.to_string() }).inc();
    }

    /// Counts one publish-on-success action.
    pub fn publish_action(&self, action: &str, result: &str) {
        self.publish.get_or_create(&ActionLabels { action: action.into(), result: result.into() }).inc();
    }

    /// Counts one answered S3 request.
    pub fn s3_request(&self, operation: &str, status: u16, elapsed: Duration) {
        let op = operation.to_string();
        self.s3_requests.get_or_create(&RequestLabels { operation: op.clone(), status: status.to_string() }).inc();
        self.s3_duration.get_or_create(&OperationLabels { operation: op }).observe(elapsed.as_secs_f64());
    }

    /// Counts one lakeFS call (`status` 0: no answer — timeout or connection failure).
    pub fn lakefs_call(&self, operation: &str, status: u16, elapsed: Duration) {
        let op = operation.to_string();
        self.lakefs_calls.get_or_create(&RequestLabels { operation: op.clone(), status: status.to_string() }).inc();
        self.lakefs_duration.get_or_create(&OperationLabels { operation: op }).observe(elapsed.as_secs_f64());
    }

    /// Counts a lookup in `cache`.
    pub fn cache_lookup(&self, cache: &str, hit: bool) {
        let result = if hit { "hit" } else { "miss" };
        self.cache.get_or_create(&CacheLabels { cache: cache.into(), result: result.into() }).inc();
    }
}

/// One S3 request in flight while this lives.
pub struct InFlight(());

impl InFlight {
    pub fn start() -> InFlight {
        metrics().in_flight.inc();
        InFlight(())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        metrics().in_flight.dec();
    }
}

static METRICS: LazyLock<Metrics> = LazyLock::new(|| {
    lakefs_api::observe::install(|operation, status, elapsed| metrics().lakefs_call(operation, status, elapsed));
    lakegate_net::server::events::install(&AcceptLoop);
    s3_wire::events::install(&AcceptLoop);
    Metrics::new()
});

/// The accept loop's and the S3 wire layer's events, counted in the process's metrics.
struct AcceptLoop;

impl s3_wire::events::WireEvents for AcceptLoop {
    fn bytes_in(&self, bytes: u64) {
        metrics().bytes_in.inc_by(bytes);
    }
    fn limit_hit(&self, limit: &'static str) {
        metrics().limit_hit(limit);
    }
}

impl lakegate_net::server::events::ServerEvents for AcceptLoop {
    fn limit_hit(&self, limit: &'static str) {
        metrics().limit_hit(limit);
    }
    fn connection_opened(&self) {
        metrics().connections.inc();
    }
    fn connection_closed(&self) {
        metrics().connections.dec();
    }
    fn tls_reloaded(&self, ok: bool) {
        metrics().tls_reload(ok);
    }
}

/// The process's metrics; the first call also makes them count the lakeFS client's calls.
pub fn metrics() -> &'static Metrics {
    &METRICS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_names_and_labels() {
        let m = Metrics::new();
        m.s3_request("PutObject", 200, Duration::from_millis(3));
        m.lakefs_call("statObject", 404, Duration::from_millis(1));
        m.cache_lookup("commit_stats", true);
        m.bytes_in.inc_by(10);
        m.bytes_out.inc_by(7);
        m.in_flight.inc();
        m.multipart_open.set(2);
        let text = m.encode();
        for line in [
            "lakegate_s3_requests_total{operation=\"PutObject\",status=\"200\"} 1",
            "lakegate_lakefs_calls_total{operation=\"statObject\",status=\"404\"} 1",
            "lakegate_cache_lookups_total{cache=\"commit_stats\",result=\"hit\"} 1",
            "lakegate_s3_received_bytes_total 10",
            "lakegate_s3_sent_bytes_total 7",
            "lakegate_s3_requests_in_flight 1",
            "lakegate_multipart_uploads_open 2",
            "lakegate_s3_request_duration_seconds_count{operation=\"PutObject\"} 1",
            "lakegate_lakefs_call_duration_seconds_bucket{le=\"0.002\",operation=\"statObject\"} 1",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line:?} in\n{text}");
        }
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}
