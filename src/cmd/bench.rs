//! `lakegate bench`: a load generator for any S3 endpoint (lakegate, SeaweedFS, s3s-fs, AWS).
//! N workers run PUT, GET, HEAD, LIST or a mix for a duration or an operation count, with a
//! progress line; the result (ops/s, MiB/s, p50/p90/p99 latency, errors, and the CPU and RSS of
//! watched processes) is printed and optionally written as JSON and as a Markdown table row.

pub mod args;
pub mod client;
pub mod direct;
pub mod report;
pub mod stats;

pub use args::{BenchArgs, Workload};

use bytes::Bytes;
use client::{OpError, S3};
use rand::Rng;
use report::{BenchResult, ProcReport};
use stats::{Live, Samples, proc_sample};
use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Operation kinds, in the order of [`Samples`] arrays.
const KINDS: [&str; 4] = ["put", "get", "head", "list"];
/// Distinct error descriptions kept for the report.
const MAX_ERROR_SAMPLES: usize = 10;

/// What every worker shares.
struct Plan {
    s3: S3,
    data: Bytes,
    keys: Vec<String>,
    /// `--direct`: the presigned URL of each key.
    urls: Vec<String>,
    list_prefix: String,
    weights: [u32; 3],
    workload: Workload,
    deadline: Option<Instant>,
    max_ops: Option<u64>,
    issued: AtomicU64,
    listed_keys: AtomicU64,
    live: Live,
    errors: Mutex<Vec<String>>,
}

/// Runs the benchmark the flags describe.
pub async fn run(args: BenchArgs) -> Result<(), String> {
    let target = args::Target::resolve(&args)?;
    let s3 = S3::new(&target.endpoint, &args.bucket, target.key.clone(), args.concurrency as usize)?;
    let mut data = vec![0u8; args.size as usize];
    rand::thread_rng().fill(&mut data[..]);
    let base = format!("{}lgbench-{}", args.prefix, report::human_size(args.size).replace(' ', ""));
    let (keys, list_prefix): (Vec<String>, String) = match args.op {
        Workload::List => {
            let p = format!("{}lgbench-list-{}/", args.prefix, args.objects);
            ((0..args.objects).map(|i| format!("{p}{i:07}")).collect(), p)
        }
        _ => ((0..args.objects).map(|i| format!("{base}/{i:07}")).collect(), String::new()),
    };
    let weights = match args.op {
        Workload::Mix => args::parse_mix(&args.mix)?,
        _ => [0; 3],
    };
    let data = Bytes::from(data);
    if args.op != Workload::Put && !args.skip_seed {
        let body = if args.op == Workload::List { Bytes::new() } else { data.clone() };
        seed(&s3, &keys, &body, args.concurrency).await?;
    }
    let urls = match (&args.dev, args.direct) {
        (Some(dev), true) => direct::presigned_urls(dev, &args.bucket, &keys, args.op).await?,
        _ => vec![],
    };
    let duration = args.duration.or(args.ops.is_none().then_some(Duration::from_secs(10)));
    let plan = Arc::new(Plan {
        s3,
        data,
        keys,
        urls,
        list_prefix,
        weights,
        workload: args.op,
        deadline: duration.map(|d| Instant::now() + d),
        max_ops: args.ops,
        issued: AtomicU64::new(0),
        listed_keys: AtomicU64::new(0),
        live: Live::default(),
        errors: Mutex::new(vec![]),
    });
    let result = measure(plan, &args, &target).await?;
    result.print();
    if let Some(p) = &args.json {
        result.write_json(p).map_err(|e| format!("writing {}: {e}", p.display()))?;
    }
    if let Some(p) = &args.markdown {
        result.append_markdown(p).map_err(|e| format!("writing {}: {e}", p.display()))?;
    }
    Ok(())
}

/// Writes `keys` (the objects GET, HEAD and LIST read) with `concurrency` workers.
async fn seed(s3: &S3, keys: &[String], data: &Bytes, concurrency: u32) -> Result<(), String> {
    let next = Arc::new(AtomicU64::new(0));
    let keys: Arc<Vec<String>> = Arc::new(keys.to_vec());
    let mut tasks: tokio::task::JoinSet<Result<(), String>> = tokio::task::JoinSet::new();
    for _ in 0..concurrency.clamp(16, 64) {
        let (s3, next, keys, data) = (s3.clone(), next.clone(), keys.clone(), data.clone());
        tasks.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                let Some(key) = keys.get(i) else { return Ok(()) };
                s3.put(key, &data).await.map_err(|e| format!("seeding {key}: {}", e.detail))?;
            }
        });
    }
    eprintln!("seeding {} objects of {}", keys.len(), report::human_size(data.len() as u64));
    while let Some(r) = tasks.join_next().await {
        r.map_err(|e| e.to_string())??;
    }
    Ok(())
}

/// Runs the workers and the progress line, samples the watched processes, and builds the result.
async fn measure(plan: Arc<Plan>, args: &BenchArgs, target: &args::Target) -> Result<BenchResult, String> {
    let endpoint = target.endpoint.as_str();
    let before: Vec<_> = args.pid.iter().map(|&p| proc_sample(p).ok_or(format!("no process {p}"))).collect();
    let before = before.into_iter().collect::<Result<Vec<_>, _>>()?;
    let calls_before = scrape_calls(&plan.s3, target.lakefs_metrics.as_deref()).await?;
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..args.concurrency {
        let plan = plan.clone();
        tasks.spawn(async move { worker(&plan).await });
    }
    let mut peak_rss: Vec<f64> = before.iter().map(|s| s.rss_mib).collect();
    let progress = Progress::new();
    let mut merged: [Samples; 4] = Default::default();
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    while !tasks.is_empty() {
        tokio::select! {
            done = tasks.join_next() => {
                if let Some(r) = done {
                    for (m, s) in merged.iter_mut().zip(r.map_err(|e| e.to_string())?) { m.merge(s); }
                }
            }
            _ = tick.tick() => {
                for (peak, &pid) in peak_rss.iter_mut().zip(&args.pid) {
                    *peak = peak.max(proc_sample(pid).map_or(0.0, |s| s.rss_mib));
                }
                progress.show(&plan.live, start.elapsed());
            }
        }
    }
    let elapsed = start.elapsed();
    progress.finish();
    let calls_after = scrape_calls(&plan.s3, target.lakefs_metrics.as_deref()).await?;
    let lakefs_calls = calls_before.zip(calls_after).map(|(b, a)| stats::calls_between(&b, &a));
    let moved_gib = merged.iter().map(|s| s.bytes).sum::<u64>() as f64 / f64::from(1 << 30);
    let processes = args.pid.iter().zip(before).zip(peak_rss).map(|((&pid, b), peak)| {
        let after = proc_sample(pid).unwrap_or(b);
        let cpu = after.cpu_secs - b.cpu_secs;
        ProcReport {
            pid,
            cpu_secs: cpu,
            cpu_secs_per_gib: (moved_gib > 0.0).then(|| cpu / moved_gib),
            peak_rss_mib: peak.max(after.rss_mib),
        }
    });
    let mut total = Samples::default();
    let mut by_op = BTreeMap::new();
    for (kind, s) in KINDS.iter().zip(merged) {
        if !s.micros.is_empty() {
            total.merge(s.clone());
            by_op.insert(*kind, s.summary(elapsed));
        }
    }
    let error_samples = plan.errors.lock().map(|e| e.clone()).unwrap_or_default();
    let ops = total.micros.len() as f64;
    let calls_per_op = lakefs_calls.as_ref().map(|c| c.values().sum::<u64>() as f64 / ops.max(1.0));
    Ok(BenchResult {
        label: args.label.clone().unwrap_or_else(|| endpoint.to_string()),
        endpoint: endpoint.to_string(),
        workload: args.op,
        size_bytes: if args.op == Workload::List { 0 } else { args.size },
        concurrency: args.concurrency,
        objects: args.objects,
        elapsed_secs: elapsed.as_secs_f64(),
        total: total.summary(elapsed),
        by_op,
        keys_per_listing: (args.op == Workload::List).then(|| plan.listed_keys.load(Ordering::Relaxed)),
        error_samples,
        processes: processes.collect(),
        lakefs_calls_per_op: calls_per_op,
        lakefs_calls,
    })
}

/// lakeFS API calls so far, per operation, from its metrics page (`None` without one).
async fn scrape_calls(s3: &S3, url: Option<&str>) -> Result<Option<BTreeMap<String, u64>>, String> {
    let Some(url) = url else { return Ok(None) };
    let page = s3.fetch_text(url).await.map_err(|e| format!("reading lakeFS metrics at {url}: {}", e.detail))?;
    Ok(Some(stats::lakefs_calls(&page)))
}

/// One worker: runs operations until the deadline or the operation budget; returns its samples.
async fn worker(plan: &Plan) -> [Samples; 4] {
    let mut samples: [Samples; 4] = Default::default();
    loop {
        if plan.deadline.is_some_and(|d| Instant::now() >= d) {
            return samples;
        }
        let n = plan.issued.fetch_add(1, Ordering::Relaxed);
        if plan.max_ops.is_some_and(|max| n >= max) {
            return samples;
        }
        let kind = pick(plan);
        let i = rand::thread_rng().gen_range(0..plan.keys.len());
        let (key, url) = (&plan.keys[i], plan.urls.get(i));
        let started = Instant::now();
        let outcome = match (kind, url) {
            (0, Some(url)) => plan.s3.put_url(url, &plan.data).await,
            (1, Some(url)) => plan.s3.get_url(url).await.and_then(|n| expect_len(n, plan.data.len() as u64)),
            (0, None) => plan.s3.put(key, &plan.data).await,
            (1, None) => plan.s3.get(key).await.and_then(|n| expect_len(n, plan.data.len() as u64)),
            (2, _) => plan.s3.head(key).await.and_then(|n| expect_len(n, plan.data.len() as u64)).map(|_| 0),
            _ => plan.s3.list_all(&plan.list_prefix).await.map(|(keys, _)| {
                plan.listed_keys.store(keys, Ordering::Relaxed);
                0
            }),
        };
        let took = started.elapsed();
        let (bytes, ok) = match outcome {
            Ok(b) => (b, true),
            Err(e) => (0, note_error(plan, e)),
        };
        samples[kind].record(took, bytes, ok);
        plan.live.add(bytes, ok);
    }
}

/// The operation kind (index into [`KINDS`]) of the next request.
fn pick(plan: &Plan) -> usize {
    match plan.workload {
        Workload::Put => 0,
        Workload::Get => 1,
        Workload::Head => 2,
        Workload::List => 3,
        Workload::Mix => {
            let [p, g, h] = plan.weights;
            let r = rand::thread_rng().gen_range(0..p + g + h);
            if r < p {
                0
            } else if r < p + g {
                1
            } else {
                2
            }
        }
    }
}

fn expect_len(got: u64, want: u64) -> Result<u64, OpError> {
    match got == want {
        true => Ok(got),
        false => Err(OpError { status: 200, detail: format!("object has {got} bytes, expected {want}") }),
    }
}

/// Keeps the first distinct error descriptions; returns `false` (the operation failed).
fn note_error(plan: &Plan, e: OpError) -> bool {
    if let Ok(mut seen) = plan.errors.lock()
        && seen.len() < MAX_ERROR_SAMPLES
        && !seen.contains(&e.detail)
    {
        seen.push(e.detail);
    }
    false
}

/// The progress line: rewritten in place on a terminal, one line every 5 s otherwise.
struct Progress {
    tty: bool,
    last: Mutex<Instant>,
}

impl Progress {
    fn new() -> Progress {
        Progress { tty: std::io::stderr().is_terminal(), last: Mutex::new(Instant::now()) }
    }

    fn show(&self, live: &Live, elapsed: Duration) {
        let Ok(mut last) = self.last.lock() else { return };
        if !self.tty && last.elapsed() < Duration::from_secs(5) {
            return;
        }
        *last = Instant::now();
        let (ops, bytes, errors) = live.snapshot();
        let secs = elapsed.as_secs_f64().max(1e-9);
        let line = format!(
            "[{:>6.1}s] {ops} ops  {:.1} ops/s  {:.1} MiB/s  errors {errors}",
            secs,
            ops as f64 / secs,
            bytes as f64 / secs / f64::from(1 << 20)
        );
        let mut err = std::io::stderr();
        let _ = if self.tty { write!(err, "\r{line}\x1b[K") } else { writeln!(err, "{line}") };
    }

    fn finish(&self) {
        if self.tty {
            eprintln!();
        }
    }
}
