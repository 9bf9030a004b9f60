//! The workflow commands end to end against a real `lakegate dev` process: `lakegate import` of a
//! directory of 1,000 files read back through S3; `lakegate pr create|list|update|merge` after S3
//! writes on a branch, the merged objects read on main, a conflicting pull request left open;
//! `lakegate branch reset --hard` refused with uncommitted data and working after a commit.

mod common;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use lakefs_api::client::{ClientConfig, Credentials, LakeFsClient};
use lakefs_api::dto::{BranchCreation, CommitCreation};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

struct Dev {
    child: Child,
    data: std::path::PathBuf,
    info: serde_json::Value,
}

impl Drop for Dev {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// The child is owned by `Dev`, whose `Drop` kills and waits for it.
#[allow(clippy::zombie_processes)]
fn start_dev(dir: &Path, import_root: &Path) -> Dev {
    let data = dir.join("data");
    let child = Command::new(env!("CARGO_BIN_EXE_lakegate"))
        .args(["dev", "--api-listen", "127.0.0.1:0", "--listen", "127.0.0.1:0", "--data"])
        .arg(&data)
        .arg("--import-root")
        .arg(import_root)
        // the local blob store in both passes of the test command: imports read local:// sources
        .env_remove("LAKEGATE_DEV_BLOCKSTORE")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(bytes) = std::fs::read(data.join("dev.json")) {
            let info = serde_json::from_slice(&bytes).unwrap();
            return Dev { child, data, info };
        }
        assert!(Instant::now() < deadline, "dev.json did not appear");
        std::thread::sleep(Duration::from_millis(50));
    }
}

impl Dev {
    /// Runs `lakegate ARGS --dev DATA --json`.
    fn cli(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_lakegate"))
            .args(args)
            .arg("--dev")
            .arg(&self.data)
            .arg("--json")
            .output()
            .unwrap()
    }

    fn cli_json(&self, args: &[&str]) -> serde_json::Value {
        let out = self.cli(args);
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
    }

    fn lakefs(&self) -> LakeFsClient {
        let creds = Credentials::Basic {
            access_key_id: self.info["lakefs_access_key_id"].as_str().unwrap().into(),
            secret_access_key: self.info["lakefs_secret_access_key"].as_str().unwrap().into(),
        };
        LakeFsClient::new(ClientConfig::new(self.info["api_endpoint"].as_str().unwrap(), creds)).unwrap()
    }

    /// A signed S3 request through the gateway: (status, body).
    async fn s3(&self, method: &str, path: &str, body: &[u8]) -> (u16, Vec<u8>) {
        let key = lakegate_net::sigclient::SigV4Key {
            access_key_id: self.info["access_key_id"].as_str().unwrap().into(),
            secret_access_key: self.info["secret_access_key"].as_str().unwrap().into(),
            region: self.info["region"].as_str().unwrap().into(),
        };
        let url = format!("{}{path}", self.info["s3_endpoint"].as_str().unwrap());
        let len = body.len().to_string();
        let method = http::Method::from_bytes(method.as_bytes()).unwrap();
        let headers: &[(&str, &str)] = if body.is_empty() { &[] } else { &[("content-length", &len)] };
        let req = lakegate_net::sigclient::signed_request(
            &key,
            method,
            &url,
            headers,
            Full::new(Bytes::from(body.to_vec())),
            std::time::SystemTime::now(),
        )
        .unwrap();
        let resp = common::raw_client().request(req).await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.into_body().collect().await.unwrap().to_bytes().to_vec())
    }
}

fn keys_in(xml: &[u8]) -> usize {
    String::from_utf8_lossy(xml).matches("<Key>").count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_pull_requests_and_hard_reset_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("landing");
    for i in 0..1000 {
        let sub = source.join(format!("day={:02}", i % 20));
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::write(sub.join(format!("event-{i:04}.json")), format!("{{\"n\":{i}}}")).unwrap();
    }
    let dev = start_dev(dir.path(), &source);

    // import 1,000 files, then read them through S3
    let imported = dev.cli_json(&[
        "import",
        &format!("{}/", source.display()),
        "demo/main/landing/",
        "--commit-message",
        "landing zone",
    ]);
    assert_eq!(imported["ingested_objects"], 1000, "{imported}");
    let (status, body) = dev.s3("GET", "/demo/main/landing/day=07/event-0427.json", b"").await;
    assert_eq!((status, body.as_slice()), (200, b"{\"n\":427}".as_slice()));
    let (status, listing) = dev.s3("GET", "/demo?list-type=2&prefix=main/landing/&max-keys=1000", b"").await;
    assert_eq!((status, keys_in(&listing)), (200, 1000));

    // S3 writes on a job branch, committed, then a pull request into main
    let c = dev.lakefs();
    c.create_branch("demo", &BranchCreation { name: "job-1".into(), source: "main".into(), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(dev.s3("PUT", "/demo/job-1/out/part-0000.csv", b"a,b\n1,2\n").await.0, 200);
    c.commit("demo", "job-1", &CommitCreation { message: "job output".into(), ..Default::default() }).await.unwrap();
    let created = dev.cli_json(&["pr", "create", "demo", "--source", "job-1", "--dest", "main", "--title", "job-1"]);
    let id = created["id"].as_str().unwrap().to_string();
    let open = dev.cli_json(&["pr", "list", "demo", "--status", "open"]);
    assert_eq!(open.as_array().unwrap().len(), 1);
    let updated = dev.cli_json(&["pr", "update", "demo", &id, "--title", "job-1: output"]);
    assert_eq!(updated["title"], "job-1: output");
    let merged = dev.cli_json(&["pr", "merge", "demo", &id]);
    assert_eq!(merged["reference"].as_str().unwrap().len(), 64);
    let (status, body) = dev.s3("GET", "/demo/main/out/part-0000.csv", b"").await;
    assert_eq!((status, body.as_slice()), (200, b"a,b\n1,2\n".as_slice()));
    assert_eq!(dev.cli_json(&["pr", "show", "demo", &id])["status"], "merged");

    // a conflicting pull request stays open, its branch untouched
    c.create_branch("demo", &BranchCreation { name: "job-2".into(), source: "main".into(), ..Default::default() })
        .await
        .unwrap();
    dev.s3("PUT", "/demo/job-2/out/part-0000.csv", b"job-2").await;
    c.commit("demo", "job-2", &CommitCreation { message: "job-2".into(), ..Default::default() }).await.unwrap();
    dev.s3("PUT", "/demo/main/out/part-0000.csv", b"hotfix").await;
    c.commit("demo", "main", &CommitCreation { message: "hotfix".into(), ..Default::default() }).await.unwrap();
    let pr2 = dev.cli_json(&["pr", "create", "demo", "--source", "job-2", "--dest", "main", "--title", "job-2"]);
    let id2 = pr2["id"].as_str().unwrap().to_string();
    let refused = dev.cli(&["pr", "merge", "demo", &id2]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("conflicts"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    assert_eq!(dev.cli_json(&["pr", "show", "demo", &id2])["status"], "open");
    assert_eq!(dev.s3("GET", "/demo/job-2/out/part-0000.csv", b"").await.1, b"job-2");

    // hard reset: refused with uncommitted data, done after a commit
    dev.s3("PUT", "/demo/job-2/scratch.txt", b"uncommitted").await;
    let dirty = dev.cli(&["branch", "reset", "demo/job-2", "--hard", "main"]);
    assert_eq!(dirty.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&dirty.stderr).contains("uncommitted changes"),
        "{}",
        String::from_utf8_lossy(&dirty.stderr)
    );
    c.commit("demo", "job-2", &CommitCreation { message: "scratch".into(), ..Default::default() }).await.unwrap();
    let reset = dev.cli_json(&["branch", "reset", "demo/job-2", "--hard", "main"]);
    assert_eq!(reset["commit_id"], c.get_branch("demo", "main").await.unwrap().commit_id);
    assert_eq!(dev.s3("GET", "/demo/job-2/out/part-0000.csv", b"").await.1, b"hotfix");

    // lakeFS errors exit 1 with the status and message
    let missing = dev.cli(&["pr", "show", "demo", "00000000000000000000"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("404"), "{}", String::from_utf8_lossy(&missing.stderr));
}
