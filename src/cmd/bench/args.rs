//! `lakegate bench` flags, and the size and duration syntax they take (`4KiB`, `64MiB`, `10s`).

use clap::ValueEnum;
use std::path::PathBuf;
use std::time::Duration;

/// What each worker does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Workload {
    /// PutObject of `--size` bytes to one of `--objects` keys.
    Put,
    /// GetObject of one of `--objects` seeded keys, body read to the end.
    Get,
    /// HeadObject of one of `--objects` seeded keys.
    Head,
    /// A whole ListObjectsV2 listing (pages of 1,000) of `--objects` seeded keys.
    List,
    /// PUT, GET and HEAD in the proportions of `--mix`.
    Mix,
}

/// Benchmark any S3 endpoint: concurrent workers doing one workload; reports ops/s, MiB/s,
/// latency percentiles and errors, and optionally the CPU and RSS of given processes.
#[derive(Debug, clap::Args)]
// a later flag overrides an earlier one (scripts append to a target's flags)
#[command(args_override_self = true)]
pub struct BenchArgs {
    /// S3 endpoint (http://host:port). Default: the S3 endpoint of `--dev`.
    #[arg(long, env = "AWS_ENDPOINT_URL")]
    pub endpoint: Option<String>,
    /// Data directory of a running `lakegate dev`: endpoint, region and key from its dev.json.
    #[arg(long)]
    pub dev: Option<PathBuf>,
    /// Access key id (default: from --dev).
    #[arg(long, env = "AWS_ACCESS_KEY_ID")]
    pub access_key_id: Option<String>,
    /// Secret access key (default: from --dev).
    #[arg(long, env = "AWS_SECRET_ACCESS_KEY", hide_env_values = true)]
    pub secret_access_key: Option<String>,
    /// Signing region (default: from --dev, else us-east-1).
    #[arg(long, env = "AWS_REGION")]
    pub region: Option<String>,
    /// Bucket to use (it must exist).
    #[arg(long)]
    pub bucket: String,
    /// Key prefix, e.g. `main/bench/` for a lakegate repository bucket.
    #[arg(long, default_value = "")]
    pub prefix: String,
    /// The workload.
    #[arg(long, value_enum, default_value = "put")]
    pub op: Workload,
    /// Proportions for `--op mix`: `put:1,get:3,head:1`.
    #[arg(long, default_value = "put:1,get:3")]
    pub mix: String,
    /// Concurrent workers.
    #[arg(long, short = 'c', default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub concurrency: u32,
    /// Object size (B, KiB, MiB, GiB; KB/MB/GB are powers of ten).
    #[arg(long, default_value = "4KiB", value_parser = parse_size)]
    pub size: u64,
    /// How long to run (e.g. 10s, 2m); the default is 10s unless --ops is given.
    #[arg(long, value_parser = parse_duration)]
    pub duration: Option<Duration>,
    /// Stop after this many operations instead.
    #[arg(long)]
    pub ops: Option<u64>,
    /// Distinct keys written, read or listed.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..))]
    pub objects: u64,
    /// Do not write the objects a GET/HEAD/LIST run reads first (they exist already).
    #[arg(long)]
    pub skip_seed: bool,
    /// Name of the target in the results (default: the endpoint).
    #[arg(long)]
    pub label: Option<String>,
    /// Write the result as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Append the result as a Markdown table row to this file (header written when new).
    #[arg(long)]
    pub markdown: Option<PathBuf>,
    /// Bypass the S3 endpoint (needs --dev): PUT/GET the objects' presigned blob-store URLs,
    /// fetched from lakeFS before the timed phase: the physical limit of lakegate's data path.
    #[arg(long, requires = "dev")]
    pub direct: bool,
    /// lakeFS's Prometheus endpoint (e.g. http://lakefs:8000/metrics), scraped before and after
    /// the run to count lakeFS API calls per operation (default with --dev: the embedded server's).
    #[arg(long)]
    pub lakefs_metrics: Option<String>,
    /// Also report CPU seconds and peak RSS of this process (e.g. the gateway); repeatable.
    #[arg(long)]
    pub pid: Vec<u32>,
}

/// Where the bench sends requests, and as whom.
#[derive(Debug)]
pub struct Target {
    pub endpoint: String,
    pub key: lakegate_net::sigclient::SigV4Key,
    /// lakeFS's `/metrics`, when known.
    pub lakefs_metrics: Option<String>,
}

impl Target {
    /// Flags first, then `--dev DIR/dev.json` (s3_endpoint, region, access_key_id,
    /// secret_access_key).
    pub fn resolve(args: &BenchArgs) -> Result<Target, String> {
        let dev: Option<serde_json::Value> = match &args.dev {
            Some(dir) => {
                let path = dir.join("dev.json");
                let text = std::fs::read(&path).map_err(|e| format!("reading {}: {e}", path.display()))?;
                Some(serde_json::from_slice(&text).map_err(|e| format!("{}: {e}", path.display()))?)
            }
            None => None,
        };
        let from_dev = |name: &str| dev.as_ref().and_then(|d| d[name].as_str()).map(String::from);
        let need = |flag: Option<&String>, name: &str, what: &str| {
            flag.cloned().or_else(|| from_dev(name)).ok_or_else(|| format!("give {what} (or --dev DIR)"))
        };
        let metrics = from_dev("api_endpoint").map(|api| format!("{}/metrics", api.trim_end_matches("/api/v1")));
        Ok(Target {
            lakefs_metrics: args.lakefs_metrics.clone().or(metrics),
            endpoint: need(args.endpoint.as_ref(), "s3_endpoint", "--endpoint")?,
            key: lakegate_net::sigclient::SigV4Key {
                access_key_id: need(args.access_key_id.as_ref(), "access_key_id", "--access-key-id")?,
                secret_access_key: need(args.secret_access_key.as_ref(), "secret_access_key", "--secret-access-key")?,
                region: args.region.clone().or_else(|| from_dev("region")).unwrap_or_else(|| "us-east-1".into()),
            },
        })
    }
}

/// `4096`, `4KiB`, `1MiB`, `64MiB`, `1GiB`, `10KB`, `5MB`.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num.parse().map_err(|_| format!("{s:?} is not a size (e.g. 4KiB, 64MiB)"))?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" => 1 << 10,
        "m" | "mib" => 1 << 20,
        "g" | "gib" => 1 << 30,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        other => return Err(format!("unknown size unit {other:?} (B, KiB, MiB, GiB, KB, MB, GB)")),
    };
    n.checked_mul(mult).filter(|&v| v <= 5 << 30).ok_or_else(|| format!("{s:?} is larger than 5 GiB"))
}

/// `500ms`, `10s`, `2m`, or plain seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let bad = || format!("{s:?} is not a duration (e.g. 10s, 2m, 500ms)");
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num.parse().map_err(|_| bad())?;
    let d = match unit {
        "ms" => Duration::from_millis(n),
        "" | "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n * 60),
        _ => return Err(bad()),
    };
    if d.is_zero() {
        return Err(bad());
    }
    Ok(d)
}

/// `put:1,get:3` → weights for (put, get, head).
pub fn parse_mix(s: &str) -> Result<[u32; 3], String> {
    let mut w = [0u32; 3];
    for part in s.split(',').filter(|p| !p.trim().is_empty()) {
        let (op, n) = part.split_once(':').ok_or_else(|| format!("mix entry {part:?} is not op:weight"))?;
        let n: u32 = n.trim().parse().map_err(|_| format!("mix weight {n:?} is not a number"))?;
        let i = match op.trim() {
            "put" => 0,
            "get" => 1,
            "head" => 2,
            other => return Err(format!("mix takes put, get and head, not {other:?}")),
        };
        w[i] += n;
    }
    if w.iter().all(|&n| n == 0) {
        return Err("the mix needs at least one non-zero weight".into());
    }
    Ok(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_durations_and_mixes() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("4KiB"), Ok(4096));
        assert_eq!(parse_size("64MiB"), Ok(64 << 20));
        assert_eq!(parse_size("5MB"), Ok(5_000_000));
        assert!(parse_size("6GiB").is_err());
        assert!(parse_size("1XB").is_err());
        assert!(parse_size("KiB").is_err());
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("1h").is_err());
        assert_eq!(parse_mix("put:1,get:3"), Ok([1, 3, 0]));
        assert_eq!(parse_mix("head:2"), Ok([0, 0, 2]));
        assert!(parse_mix("put:0").is_err());
        assert!(parse_mix("list:1").is_err());
    }
}
