//! What the bench measures: live counters for the progress line, per-operation latency samples
//! (exact percentiles by sorting, microsecond resolution), and the CPU time and resident memory of
//! watched processes read from `/proc/<pid>/stat` and `/proc/<pid>/status`.

use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Counters every worker adds to; read by the progress line.
#[derive(Default)]
pub struct Live {
    pub ops: AtomicU64,
    pub bytes: AtomicU64,
    pub errors: AtomicU64,
}

impl Live {
    pub fn add(&self, bytes: u64, ok: bool) {
        self.ops.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
        if !ok {
            self.errors.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn snapshot(&self) -> (u64, u64, u64) {
        (self.ops.load(Ordering::Relaxed), self.bytes.load(Ordering::Relaxed), self.errors.load(Ordering::Relaxed))
    }
}

/// Latency samples of one operation kind.
#[derive(Debug, Default, Clone)]
pub struct Samples {
    pub micros: Vec<u32>,
    pub bytes: u64,
    pub errors: u64,
}

impl Samples {
    pub fn record(&mut self, took: Duration, bytes: u64, ok: bool) {
        self.micros.push(u32::try_from(took.as_micros()).unwrap_or(u32::MAX));
        self.bytes += bytes;
        self.errors += u64::from(!ok);
    }

    pub fn merge(&mut self, other: Samples) {
        self.micros.extend(other.micros);
        self.bytes += other.bytes;
        self.errors += other.errors;
    }

    /// ops/s, MiB/s and percentiles over `elapsed`.
    pub fn summary(mut self, elapsed: Duration) -> OpSummary {
        self.micros.sort_unstable();
        let secs = elapsed.as_secs_f64().max(1e-9);
        let pct = |p: f64| -> f64 {
            if self.micros.is_empty() {
                return 0.0;
            }
            let rank = ((p / 100.0) * self.micros.len() as f64).ceil() as usize;
            f64::from(self.micros[rank.clamp(1, self.micros.len()) - 1]) / 1000.0
        };
        OpSummary {
            ops: self.micros.len() as u64,
            errors: self.errors,
            ops_per_sec: self.micros.len() as f64 / secs,
            mib_per_sec: self.bytes as f64 / secs / f64::from(1 << 20),
            p50_ms: pct(50.0),
            p90_ms: pct(90.0),
            p99_ms: pct(99.0),
            max_ms: pct(100.0),
        }
    }
}

/// The figures of one operation kind.
#[derive(Debug, Clone, Serialize)]
pub struct OpSummary {
    pub ops: u64,
    pub errors: u64,
    pub ops_per_sec: f64,
    pub mib_per_sec: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

/// CPU time (user + system) and resident memory of a process.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct ProcSample {
    pub cpu_secs: f64,
    pub rss_mib: f64,
}

/// Linux's USER_HZ, the unit of `/proc/<pid>/stat` times (100 on every mainstream architecture).
const CLOCK_TICKS: f64 = 100.0;

/// Reads `/proc/<pid>`; `None` when the process is gone or the files are unreadable.
pub fn proc_sample(pid: u32) -> Option<ProcSample> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let rss_kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0);
    Some(ProcSample { cpu_secs: ticks / CLOCK_TICKS, rss_mib: rss_kib / 1024.0 })
}

/// lakeFS's API call counter (`api_request_duration_seconds_count`), summed per operation over
/// every status code, from a Prometheus text page.
pub fn lakefs_calls(page: &str) -> BTreeMap<String, u64> {
    let mut calls = BTreeMap::new();
    for line in page.lines().filter(|l| l.starts_with("api_request_duration_seconds_count{")) {
        let Some((labels, value)) = line.rsplit_once(' ') else { continue };
        let op = labels.split("operation=\"").nth(1).and_then(|r| r.split('"').next()).unwrap_or("");
        let n = value.parse::<f64>().unwrap_or(0.0) as u64;
        *calls.entry(op.to_string()).or_default() += n;
    }
    calls
}

/// `after - before`, per operation, leaving out operations that did not move.
pub fn calls_between(before: &BTreeMap<String, u64>, after: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    after
        .iter()
        .map(|(op, n)| (op.clone(), n.saturating_sub(before.get(op).copied().unwrap_or(0))))
        .filter(|(_, n)| *n > 0)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_rates_and_errors() {
        let mut s = Samples::default();
        for ms in 1..=100u64 {
            s.record(Duration::from_millis(ms), 1 << 20, ms != 7);
        }
        let sum = s.summary(Duration::from_secs(10));
        assert_eq!((sum.ops, sum.errors), (100, 1));
        assert!((sum.ops_per_sec - 10.0).abs() < 1e-9);
        assert!((sum.mib_per_sec - 10.0).abs() < 1e-9);
        assert_eq!((sum.p50_ms, sum.p90_ms, sum.p99_ms, sum.max_ms), (50.0, 90.0, 99.0, 100.0));
        let empty = Samples::default().summary(Duration::from_secs(1));
        assert_eq!((empty.ops, empty.p99_ms), (0, 0.0));
    }

    #[test]
    fn lakefs_call_counts() {
        let before = lakefs_calls(
            "# TYPE x counter\napi_request_duration_seconds_count{operation=\"statObject\",code=\"200\"} 3\n",
        );
        let page = "api_request_duration_seconds_count{operation=\"statObject\",code=\"200\"} 10\n\
                    api_request_duration_seconds_count{operation=\"statObject\",code=\"404\"} 2\n\
                    api_request_duration_seconds_count{code=\"200\",operation=\"getBranch\"} 1.0\n\
                    api_request_duration_seconds_sum{operation=\"statObject\",code=\"200\"} 0.5\n";
        let after = lakefs_calls(page);
        assert_eq!(after["statObject"], 12);
        let delta = calls_between(&before, &after);
        assert_eq!(delta.into_iter().collect::<Vec<_>>(), vec![("getBranch".into(), 1), ("statObject".into(), 9)]);
    }

    #[test]
    fn reads_its_own_process() {
        let me = proc_sample(std::process::id()).expect("/proc/self");
        assert!(me.rss_mib > 1.0, "{me:?}");
        assert!(me.cpu_secs >= 0.0);
        assert!(proc_sample(u32::MAX).is_none());
    }
}
