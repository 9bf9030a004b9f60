//! `lakegate bench` (the binary) against a gateway and embedded server on 127.0.0.1:0: every
//! workload with an operation budget writes a JSON result whose counts match what the store saw,
//! and a wrong secret is counted as errors with the S3 code, not as throughput.

mod common;

use common::s3::*;
use common::*;
use lakefs_api::dto::CommitCreation;
use std::path::Path;

fn commit_creation(message: &str) -> CommitCreation {
    CommitCreation { message: message.into(), ..Default::default() }
}
use std::process::Command;

/// Runs `lakegate bench` with `extra` flags against `stack` and returns its JSON result.
fn bench(stack: &Stack, dir: &Path, secret: &str, extra: &[&str]) -> serde_json::Value {
    let json = dir.join(format!("r-{}.json", extra.join("_").replace(['/', ' '], "-")));
    let md = dir.join("table.md");
    let out = Command::new(env!("CARGO_BIN_EXE_lakegate"))
        .args(["bench", "--endpoint", &format!("http://{}", stack.host()), "--bucket", "bench"])
        .args(["--access-key-id", &stack.access_key_id, "--secret-access-key", secret])
        .args(["--json", json.to_str().unwrap(), "--markdown", md.to_str().unwrap(), "--label", "lakegate"])
        .args(["--pid", &std::process::id().to_string()])
        .args(["--lakefs-metrics", &format!("{}/metrics", stack.lakefs.api_endpoint.trim_end_matches("/api/v1"))])
        .args(extra)
        .env_remove("AWS_ENDPOINT_URL")
        .output()
        .unwrap();
    assert!(out.status.success(), "bench failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workloads_count_what_they_did() {
    let stack = Stack::start(false).await;
    stack.lakefs.client().create_repository(&repo_creation("bench")).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (s, d, sk) = (&stack, dir.path(), stack.secret_access_key.as_str());
    let run = |extra: &[&str]| tokio::task::block_in_place(|| bench(s, d, sk, extra));
    // Each PUT makes exactly two lakeFS calls: getPhysicalAddress for its own path (lakeFS binds the
    // address to repository, branch and path), then linkPhysicalAddress. A first PUT warms the
    // gateway up (its one getConfig).
    run(&["--op", "put", "--ops", "1", "-c", "1", "--size", "1KiB", "--objects", "1", "--prefix", "main/w/"]);
    let puts =
        run(&["--op", "put", "--ops", "7", "-c", "1", "--size", "1KiB", "--objects", "7", "--prefix", "main/q/"]);
    assert_eq!(puts["total"]["errors"].as_u64(), Some(0), "{puts}");
    assert_eq!(puts["lakefs_calls"], serde_json::json!({"getPhysicalAddress": 7, "linkPhysicalAddress": 7}), "{puts}");
    let put =
        run(&["--op", "put", "--ops", "40", "-c", "4", "--size", "10KiB", "--objects", "5", "--prefix", "main/p/"]);
    assert_eq!((put["total"]["ops"].as_u64(), put["total"]["errors"].as_u64()), (Some(40), Some(0)), "{put}");
    assert_eq!(put["size_bytes"], 10240);
    assert!(put["processes"][0]["peak_rss_mib"].as_f64().unwrap() > 1.0, "{put}");
    // lakeFS calls counted from the embedded server's /metrics: one address and one link per PUT.
    let calls = &put["lakefs_calls"];
    assert_eq!(calls["linkPhysicalAddress"].as_u64(), Some(40), "{put}");
    assert_eq!(calls["getPhysicalAddress"].as_u64(), Some(40), "{put}");
    // 40 PUTs over 5 keys: exactly the 5 keys exist, each 10 KiB.
    let listed = signed(s, Req::new("GET", "/bench?list-type=2&prefix=main/p/")).await;
    assert_eq!(listed.text().matches("<Size>10240</Size>").count(), 5, "{}", listed.text());

    let get =
        run(&["--op", "get", "--ops", "30", "-c", "3", "--size", "3000", "--objects", "4", "--prefix", "main/g/"]);
    assert_eq!((get["by_op"]["get"]["ops"].as_u64(), get["total"]["errors"].as_u64()), (Some(30), Some(0)), "{get}");
    assert_eq!(get["lakefs_calls"], serde_json::json!({"statObject": 30}), "{get}");
    let mib = get["by_op"]["get"]["mib_per_sec"].as_f64().unwrap() * get["elapsed_secs"].as_f64().unwrap();
    assert!((mib * 1048576.0 - 90_000.0).abs() < 1.0, "30 GETs of 3000 bytes: {get}");

    // GetObject at a commit id: statObject once per object, then answered from the cache (0 calls)
    let commit = s.lakefs.client().commit("bench", "main", &commit_creation("bench")).await.unwrap().id;
    let prefix = format!("{commit}/g/");
    let at_commit = ["--op", "get", "--skip-seed", "--ops", "30", "-c", "1", "--size", "3000", "--objects", "4"];
    let first = run(&[&at_commit[..], &["--prefix", &prefix]].concat());
    assert_eq!(first["total"]["errors"].as_u64(), Some(0), "{first}");
    assert!(first["lakefs_calls"]["statObject"].as_u64().unwrap() <= 4, "{first}");
    let again = run(&[&at_commit[..], &["--prefix", &prefix]].concat());
    assert_eq!(
        (again["lakefs_calls"].clone(), again["total"]["errors"].as_u64()),
        (serde_json::json!({}), Some(0)),
        "{again}"
    );

    let head = run(&["--op", "head", "--ops", "10", "--objects", "2", "--prefix", "main/h/", "--size", "1"]);
    assert_eq!(head["by_op"]["head"]["ops"], 10, "{head}");
    let list = run(&["--op", "list", "--ops", "3", "-c", "1", "--objects", "1234", "--prefix", "main/l/"]);
    assert_eq!((list["keys_per_listing"].as_u64(), list["total"]["errors"].as_u64()), (Some(1234), Some(0)), "{list}");
    // 3 listings of 1,234 keys: 2 pages each, one lakeFS call per page and nothing else
    assert_eq!(list["lakefs_calls"], serde_json::json!({"listObjects": 6}), "{list}");
    let mix = run(&["--op", "mix", "--mix", "put:1,get:1,head:1", "--ops", "60", "--prefix", "main/m/"]);
    let kinds = ["put", "get", "head"].map(|k| mix["by_op"][k]["ops"].as_u64().unwrap_or(0));
    assert_eq!(kinds.iter().sum::<u64>(), 60, "{mix}");
    assert!(kinds.iter().all(|&n| n > 0), "{mix}");
    let table = std::fs::read_to_string(d.join("table.md")).unwrap();
    assert_eq!(table.lines().filter(|l| l.starts_with("| lakegate |")).count(), 9, "{table}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_requests_are_errors() {
    let stack = Stack::start(false).await;
    stack.lakefs.client().create_repository(&repo_creation("bench")).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let r = tokio::task::block_in_place(|| {
        bench(&stack, dir.path(), "wrong-secret", &["--op", "put", "--ops", "8", "-c", "2", "--prefix", "main/x/"])
    });
    assert_eq!((r["total"]["ops"].as_u64(), r["total"]["errors"].as_u64()), (Some(8), Some(8)), "{r}");
    assert_eq!(r["error_samples"][0], "403 SignatureDoesNotMatch", "{r}");
    assert_eq!(r["total"]["mib_per_sec"], 0.0);
}

/// The embedded lakeFS's API calls so far, per operation.
async fn lakefs_calls(stack: &Stack) -> std::collections::BTreeMap<String, u64> {
    let url = format!("{}/metrics", stack.lakefs.api_endpoint.trim_end_matches("/api/v1"));
    let (status, _, body) = raw(&raw_client(), "GET", &url, &[], Vec::new()).await;
    assert_eq!(status, 200);
    lakegate::cmd::bench::stats::lakefs_calls(&String::from_utf8_lossy(&body))
}

/// lakeFS binds each staging address to its repository, branch and path: 1,000 PutObjects of
/// 1,000 distinct keys on four branches, eight at a time, all link, each with exactly its two
/// lakeFS calls.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_puts_on_four_branches_make_two_lakefs_calls_each() {
    use futures_util::StreamExt;
    let stack = Stack::start(false).await;
    let lakefs = stack.lakefs.client();
    lakefs.create_repository(&repo_creation("bench")).await.unwrap();
    let branches = ["main", "b1", "b2", "b3"];
    for b in &branches[1..] {
        let creation =
            lakefs_api::dto::BranchCreation { name: b.to_string(), source: "main".into(), ..Default::default() };
        lakefs.create_branch("bench", &creation).await.unwrap();
    }
    let warm = signed(&stack, Req::new("PUT", "/bench/main/warm").body(b"w")).await;
    assert_eq!(warm.status, 200, "{}", warm.text());
    let before = lakefs_calls(&stack).await;
    let keys: Vec<String> =
        branches.iter().flat_map(|b| (0..250).map(move |i| format!("/bench/{b}/t/{i:04}"))).collect();
    let statuses: Vec<u16> = futures_util::stream::iter(keys.iter())
        .map(|k| async { signed(&stack, Req::new("PUT", k).body(k.as_bytes())).await.status })
        .buffer_unordered(8)
        .collect()
        .await;
    assert!(statuses.iter().all(|s| *s == 200), "{:?}", statuses.iter().filter(|s| **s != 200).collect::<Vec<_>>());
    let calls = lakegate::cmd::bench::stats::calls_between(&before, &lakefs_calls(&stack).await);
    let expected: std::collections::BTreeMap<String, u64> =
        [("getPhysicalAddress".to_string(), 1000), ("linkPhysicalAddress".to_string(), 1000)].into();
    assert_eq!(calls, expected);
    for b in branches {
        let listed = signed(&stack, Req::new("GET", &format!("/bench?list-type=2&prefix={b}/t/"))).await;
        assert_eq!(listed.text().matches("<Key>").count(), 250, "{b}: {} keys listed", listed.text().len());
    }
    let back = signed(&stack, Req::new("GET", "/bench/b2/t/0123")).await;
    assert_eq!(back.text(), "/bench/b2/t/0123");
}
