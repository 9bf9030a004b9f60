//! Publish on success over real sockets: a Spark-like job (part files, then `_SUCCESS`) on
//! `repo.job-1` becomes a merged commit on main; a conflicting job leaves its pull request open and
//! its data intact; DeleteBucket of a failed job's `repo.job-x` deletes its branch.

mod common;

use common::s3::{EMPTY_SHA, Req, Stack, signed};
use lakefs_api::LakeFsClient;
use lakefs_api::dto::{BranchCreation, CommitCreation};
use std::time::{Duration, Instant};

fn metric(series: &str) -> f64 {
    let text = lakegate::metrics::metrics().encode();
    text.lines().find_map(|l| l.strip_prefix(series).and_then(|v| v.trim().parse().ok())).unwrap_or(0.0)
}

async fn wait_for(what: &str, mut done: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !done().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn branch(c: &LakeFsClient, name: &str) {
    c.create_branch("publish", &BranchCreation { name: name.into(), source: "main".into(), ..Default::default() })
        .await
        .unwrap();
}

async fn put(stack: &Stack, path: &str, data: &[u8]) {
    let answer = signed(stack, Req::new("PUT", path).body(data)).await;
    assert_eq!(answer.status, 200, "{path}: {}", answer.text());
}

async fn get(stack: &Stack, path: &str) -> (u16, Vec<u8>) {
    let a = signed(stack, Req::new("GET", path).header("x-amz-content-sha256", EMPTY_SHA)).await;
    (a.status, a.body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_publish_on_success_and_failed_jobs_are_cleaned_up() {
    let rule = "repo=publish,branch=job-*,into=main,merge=auto,on_failure=delete".parse().unwrap();
    let stack = Stack::start_adjusted(false, true, |a| a.publish_rules = vec![rule]).await;
    let c = stack.lakefs.client();
    c.create_repository(&common::repo_creation("publish")).await.unwrap();

    // a Spark-like job: part files, then the committer's _SUCCESS marker
    branch(&c, "job-1").await;
    put(&stack, "/publish/job-1/out/part-00000.parquet", b"rows 0").await;
    put(&stack, "/publish/job-1/out/part-00001.parquet", b"rows 1").await;
    put(&stack, "/publish/job-1/out/_SUCCESS", b"").await;
    wait_for("the job's output on main", async || get(&stack, "/publish/main/out/part-00001.parquet").await.0 == 200)
        .await;
    assert_eq!(get(&stack, "/publish/main/out/part-00000.parquet").await.1, b"rows 0");
    let pulls = c.list_pull_requests("publish", "closed", "", None).await.unwrap().results;
    assert_eq!((pulls.len(), pulls[0].status.as_str(), pulls[0].source_branch.as_str()), (1, "merged", "job-1"));
    let head = c.get_commit("publish", pulls[0].merged_commit_id.as_deref().unwrap()).await.unwrap();
    assert_eq!(head.parents.len(), 2, "a merge commit on main");
    assert!(metric("lakegate_publish_actions_total{action=\"merge\",result=\"ok\"}") >= 1.0);

    // a job whose output conflicts with main: the pull request stays open, the branch keeps its data
    branch(&c, "job-2").await;
    put(&stack, "/publish/job-2/out/part-00000.parquet", b"job-2 rows").await;
    put(&stack, "/publish/main/out/part-00000.parquet", b"hotfix rows").await;
    c.commit("publish", "main", &CommitCreation { message: "hotfix".into(), ..Default::default() }).await.unwrap();
    put(&stack, "/publish/job-2/out/_SUCCESS", b"").await;
    wait_for("the conflicting merge", async || {
        metric("lakegate_publish_actions_total{action=\"merge\",result=\"conflict\"}") >= 1.0
    })
    .await;
    let open = c.list_pull_requests("publish", "open", "", None).await.unwrap().results;
    assert_eq!((open.len(), open[0].source_branch.as_str()), (1, "job-2"));
    assert_eq!(get(&stack, "/publish/job-2/out/part-00000.parquet").await.1, b"job-2 rows");
    assert_eq!(get(&stack, "/publish/main/out/part-00000.parquet").await.1, b"hotfix rows");

    // a failed job: S3 cleanup deletes its bucket; the rule deletes the branch, uncommitted data and all
    branch(&c, "job-3").await;
    put(&stack, "/publish/job-3/_temporary/0/part-00000", b"half").await;
    let deleted = signed(&stack, Req::new("DELETE", "/publish.job-3").header("x-amz-content-sha256", EMPTY_SHA)).await;
    assert_eq!(deleted.status, 204, "{}", deleted.text());
    assert_eq!(c.get_branch("publish", "job-3").await.unwrap_err().status().map(|s| s.as_u16()), Some(404));
    // a branch no rule covers keeps S3's behaviour
    c.create_branch("publish", &BranchCreation { name: "adhoc".into(), source: "main".into(), ..Default::default() })
        .await
        .unwrap();
    put(&stack, "/publish/adhoc/x", b"x").await;
    let refused = signed(&stack, Req::new("DELETE", "/publish.adhoc").header("x-amz-content-sha256", EMPTY_SHA)).await;
    assert_eq!(refused.code(), "BucketNotEmpty");
}
