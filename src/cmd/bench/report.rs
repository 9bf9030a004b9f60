//! The bench's result: one JSON document per run, one Markdown table row per run (appended to a
//! file that gets its header when new), and the human summary printed at the end.

use super::args::Workload;
use super::stats::OpSummary;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

/// Everything one run measured.
#[derive(Debug, Serialize)]
pub struct BenchResult {
    pub label: String,
    pub endpoint: String,
    pub workload: Workload,
    pub size_bytes: u64,
    pub concurrency: u32,
    pub objects: u64,
    pub elapsed_secs: f64,
    /// All operations together.
    pub total: OpSummary,
    /// Per operation kind (`put`, `get`, `head`, `list`).
    pub by_op: BTreeMap<&'static str, OpSummary>,
    /// Keys seen by LIST runs (per listing).
    pub keys_per_listing: Option<u64>,
    /// The first distinct errors (status and S3 code).
    pub error_samples: Vec<String>,
    /// Watched processes: CPU seconds used during the run, CPU seconds per GiB moved, peak RSS.
    pub processes: Vec<ProcReport>,
    /// lakeFS API calls during the timed phase, per operation (from lakeFS's metrics), and per
    /// S3 operation on average.
    pub lakefs_calls: Option<BTreeMap<String, u64>>,
    pub lakefs_calls_per_op: Option<f64>,
}

/// CPU and memory of one watched process during the measured phase.
#[derive(Debug, Serialize)]
pub struct ProcReport {
    pub pid: u32,
    pub cpu_secs: f64,
    pub cpu_secs_per_gib: Option<f64>,
    pub peak_rss_mib: f64,
}

const HEADER: &str = "| target | workload | size | conc. | ops/s | MiB/s | p50 ms | p90 ms | p99 ms | errors | lakeFS calls/op | CPU s/GiB | RSS MiB |\n\
                      |---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";

/// `4 KiB`, `64 MiB`, `1000 B`.
pub fn human_size(n: u64) -> String {
    match n {
        n if n >= 1 << 30 && n % (1 << 30) == 0 => format!("{} GiB", n >> 30),
        n if n >= 1 << 20 && n % (1 << 20) == 0 => format!("{} MiB", n >> 20),
        n if n >= 1 << 10 && n % (1 << 10) == 0 => format!("{} KiB", n >> 10),
        n => format!("{n} B"),
    }
}

impl BenchResult {
    /// One Markdown row.
    pub fn markdown_row(&self) -> String {
        let t = &self.total;
        let proc = self.processes.first();
        let cpu = proc.and_then(|p| p.cpu_secs_per_gib).map_or("—".to_string(), |v| format!("{v:.2}"));
        let rss = proc.map_or("—".to_string(), |p| format!("{:.0}", p.peak_rss_mib));
        let workload = serde_json::to_value(self.workload).ok().and_then(|v| v.as_str().map(String::from));
        let calls = self.lakefs_calls_per_op.map_or("—".to_string(), |v| format!("{v:.2}"));
        format!(
            "| {} | {} | {} | {} | {:.0} | {:.1} | {:.2} | {:.2} | {:.2} | {} | {calls} | {cpu} | {rss} |\n",
            self.label,
            workload.unwrap_or_default(),
            human_size(self.size_bytes),
            self.concurrency,
            t.ops_per_sec,
            t.mib_per_sec,
            t.p50_ms,
            t.p90_ms,
            t.p99_ms,
            t.errors
        )
    }

    /// Appends the row to `path`, writing the table header first when the file is new or empty.
    pub fn append_markdown(&self, path: &Path) -> std::io::Result<()> {
        let fresh = std::fs::metadata(path).map(|m| m.len() == 0).unwrap_or(true);
        let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
        if fresh {
            f.write_all(HEADER.as_bytes())?;
        }
        f.write_all(self.markdown_row().as_bytes())
    }

    pub fn write_json(&self, path: &Path) -> std::io::Result<()> {
        let text = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        std::fs::write(path, text + "\n")
    }

    /// The summary printed when the run ends.
    pub fn print(&self) {
        println!("{HEADER}{}", self.markdown_row().trim_end());
        for (op, s) in &self.by_op {
            println!(
                "  {op:<5} {:>8} ops {:>10.1} ops/s {:>9.1} MiB/s  p50 {:.2} ms  p99 {:.2} ms  errors {}",
                s.ops, s.ops_per_sec, s.mib_per_sec, s.p50_ms, s.p99_ms, s.errors
            );
        }
        if let Some(k) = self.keys_per_listing {
            println!("  keys per listing: {k}");
        }
        if let Some(calls) = &self.lakefs_calls {
            let list: Vec<String> = calls.iter().map(|(op, n)| format!("{op} {n}")).collect();
            println!("  lakeFS calls: {}", if list.is_empty() { "none".to_string() } else { list.join(", ") });
        }
        for p in &self.processes {
            println!("  pid {}: {:.2} CPU s, peak RSS {:.1} MiB", p.pid, p.cpu_secs, p.peak_rss_mib);
        }
        for e in &self.error_samples {
            println!("  error: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::stats::Samples;
    use super::*;
    use std::time::Duration;

    #[test]
    fn rows_json_and_sizes() {
        let mut s = Samples::default();
        s.record(Duration::from_millis(2), 4096, true);
        let total = s.summary(Duration::from_secs(1));
        let r = BenchResult {
            label: "lakegate".into(),
            endpoint: "http://x".into(),
            workload: Workload::Put,
            size_bytes: 4096,
            concurrency: 16,
            objects: 10,
            elapsed_secs: 1.0,
            by_op: BTreeMap::from([("put", total.clone())]),
            total,
            keys_per_listing: None,
            error_samples: vec![],
            processes: vec![ProcReport { pid: 1, cpu_secs: 0.5, cpu_secs_per_gib: Some(0.25), peak_rss_mib: 20.4 }],
            lakefs_calls: Some(BTreeMap::from([("getPhysicalAddress".to_string(), 1)])),
            lakefs_calls_per_op: Some(2.0),
        };
        assert_eq!(
            r.markdown_row(),
            "| lakegate | put | 4 KiB | 16 | 1 | 0.0 | 2.00 | 2.00 | 2.00 | 0 | 2.00 | 0.25 | 20 |\n"
        );
        let dir = tempfile::tempdir().unwrap();
        let md = dir.path().join("t.md");
        r.append_markdown(&md).unwrap();
        r.append_markdown(&md).unwrap();
        let text = std::fs::read_to_string(&md).unwrap();
        assert_eq!(text.matches("| target |").count(), 1);
        assert_eq!(text.matches("| lakegate |").count(), 2);
        r.write_json(&dir.path().join("r.json")).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.path().join("r.json")).unwrap()).unwrap();
        assert_eq!(v["workload"], "put");
        assert_eq!(v["by_op"]["put"]["ops"], 1);
        assert_eq!(
            (human_size(64 << 20), human_size(1000), human_size(1 << 30)),
            ("64 MiB".into(), "1000 B".into(), "1 GiB".into())
        );
    }
}
