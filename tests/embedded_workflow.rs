//! The embedded server's lakeFS workflow operations through the typed client, over HTTP:
//! merges (lakeFS's statuses for no changes, conflicts, a dirty destination), pull requests,
//! hard reset, and zero-copy import of 1,000 files with progress and cancel rules.

mod common;

use common::*;
use lakefs_api::LakeFsClient;
use lakefs_api::client::Upload;
use lakefs_api::dto::{BranchCreation, CommitCreation};
use lakefs_api::workflow_dto::*;

fn upload_of(data: &[u8]) -> Upload {
    use http_body_util::BodyExt;
    let body =
        http_body_util::Full::new(bytes::Bytes::from(data.to_vec())).map_err(|never| match never {}).boxed_unsync();
    Upload {
        body,
        length: data.len() as u64,
        content_type: "text/plain".into(),
        metadata: Default::default(),
        if_absent: false,
    }
}

fn status<T>(r: Result<T, lakefs_api::LakeFsError>) -> u16 {
    r.err().and_then(|e| e.status()).map_or(0, |s| s.as_u16())
}

async fn put_commit(c: &LakeFsClient, repo: &str, branch: &str, path: &str, data: &[u8]) -> String {
    c.upload_object(repo, branch, path, upload_of(data)).await.unwrap();
    let msg = CommitCreation { message: format!("write {path}"), ..Default::default() };
    c.commit(repo, branch, &msg).await.unwrap().id
}

async fn read(c: &LakeFsClient, repo: &str, reference: &str, path: &str) -> Option<Vec<u8>> {
    use http_body_util::BodyExt;
    let resp = c.get_object(repo, reference, path, None, false).await.ok()?;
    Some(resp.into_body().collect().await.unwrap().to_bytes().to_vec())
}

async fn setup(name: &str) -> (Server, LakeFsClient, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data")).await;
    let c = server.client();
    c.create_repository(&repo_creation(name)).await.unwrap();
    c.create_branch(name, &BranchCreation { name: "feature".into(), source: "main".into(), ..Default::default() })
        .await
        .unwrap();
    (server, c, dir)
}

#[tokio::test]
async fn merges_follow_lakefs() {
    let (_server, c, _dir) = setup("merges").await;
    let r = "merges";
    let src_commit = put_commit(&c, r, "feature", "a.txt", b"from feature").await;
    let merged = c.merge_into_branch(r, "feature", "main", &Merge::default()).await.unwrap();
    assert_eq!(read(&c, r, "main", "a.txt").await.unwrap(), b"from feature");
    let commit = c.get_commit(r, &merged.reference).await.unwrap();
    assert_eq!(commit.message, "Merge 'feature' into 'main'");
    assert_eq!(commit.parents.len(), 2);
    assert_eq!(commit.parents[1], src_commit, "parents: destination, then source");
    assert_eq!(commit.metadata.unwrap()[".lakefs.merge.strategy"], "default");
    // nothing new: 400 no changes
    assert_eq!(status(c.merge_into_branch(r, "feature", "main", &Merge::default()).await), 400);
    // both sides change a.txt: 409, then source-wins resolves it
    put_commit(&c, r, "feature", "a.txt", b"feature v2").await;
    put_commit(&c, r, "main", "a.txt", b"main v2").await;
    assert_eq!(status(c.merge_into_branch(r, "feature", "main", &Merge::default()).await), 409);
    let wins = Merge { strategy: Some("source-wins".into()), ..Default::default() };
    c.merge_into_branch(r, "feature", "main", &wins).await.unwrap();
    assert_eq!(read(&c, r, "main", "a.txt").await.unwrap(), b"feature v2");
    let bad = Merge { strategy: Some("mine".into()), ..Default::default() };
    assert_eq!(status(c.merge_into_branch(r, "feature", "main", &bad).await), 400);
    // a destination with uncommitted changes: 400
    put_commit(&c, r, "feature", "b.txt", b"b").await;
    c.upload_object(r, "main", "dirty.txt", upload_of(b"d")).await.unwrap();
    let err = c.merge_into_branch(r, "feature", "main", &Merge::default()).await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(400));
    assert!(err.to_string().contains("uncommitted changes"), "{err}");
}

#[tokio::test]
async fn pull_requests_and_hard_reset() {
    let (_server, c, _dir) = setup("pulls").await;
    let r = "pulls";
    let before = c.get_branch(r, "main").await.unwrap().commit_id;
    put_commit(&c, r, "feature", "report.csv", b"1,2,3").await;
    let create = |title: &str| PullRequestCreation {
        title: title.into(),
        description: Some("numbers".into()),
        source_branch: "feature".into(),
        destination_branch: "main".into(),
    };
    let id = c.create_pull_request(r, &create("add report")).await.unwrap().id;
    assert_eq!(id.len(), 20);
    let same = PullRequestCreation { destination_branch: "feature".into(), ..create("x") };
    assert_eq!(status(c.create_pull_request(r, &same).await), 400);
    let missing = PullRequestCreation { destination_branch: "nope".into(), ..create("x") };
    assert_eq!(status(c.create_pull_request(r, &missing).await), 404);
    let upd = PullRequestBasic { title: Some("add the report".into()), ..Default::default() };
    c.update_pull_request(r, &id, &upd).await.unwrap();
    let open = c.list_pull_requests(r, "open", "", None).await.unwrap();
    assert_eq!(open.results.len(), 1);
    assert_eq!((open.results[0].title.as_str(), open.results[0].status.as_str()), ("add the report", "open"));
    let merged = c.merge_pull_request(r, &id).await.unwrap();
    let pull = c.get_pull_request(r, &id).await.unwrap();
    assert_eq!((pull.status.as_str(), pull.merged_commit_id.as_deref()), ("merged", Some(merged.reference.as_str())));
    assert!(pull.closed_date.is_some());
    assert_eq!(read(&c, r, "main", "report.csv").await.unwrap(), b"1,2,3");
    assert_eq!(status(c.merge_pull_request(r, &id).await), 400, "merged already");
    assert!(c.list_pull_requests(r, "open", "", None).await.unwrap().results.is_empty());
    assert_eq!(c.list_pull_requests(r, "closed", "", None).await.unwrap().results.len(), 1);
    assert_eq!(status(c.get_pull_request(r, "00000000000000000000").await), 404);

    // hard reset main back to before the merge
    c.hard_reset_branch(r, "main", &before).await.unwrap();
    assert_eq!(c.get_branch(r, "main").await.unwrap().commit_id, before);
    assert!(read(&c, r, "main", "report.csv").await.is_none());
    assert_eq!(status(c.hard_reset_branch(r, "main", "no-such-ref").await), 404);
}

#[tokio::test]
async fn zero_copy_import_of_a_thousand_files() {
    if test_s3().is_some() {
        return; // imports read local:// sources: the local blob store's pass covers it
    }
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source");
    for i in 0..1000 {
        let sub = source.join(format!("part-{}", i % 10));
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::write(sub.join(format!("f{i:04}.txt")), format!("file {i}")).unwrap();
    }
    let mut cfg = config(&dir.path().join("data"), Some(lakefs_embedded::PRESIGN_EXPIRY));
    cfg.import_roots = vec![source.clone()];
    let server = Server::start_config(cfg).await;
    let c = server.client();
    c.create_repository(&repo_creation("imports")).await.unwrap();
    let root = source.canonicalize().unwrap();
    let creation = |path: String, dest: &str| ImportCreation {
        paths: vec![ImportLocation { kind: "common_prefix".into(), path, destination: dest.into() }],
        commit: CommitCreation { message: String::new(), ..Default::default() },
        force: None,
    };
    let id =
        c.import_start("imports", "main", &creation(format!("local://{}/", root.display()), "raw/")).await.unwrap().id;
    let done = loop {
        let s = c.import_status("imports", "main", &id).await.unwrap();
        assert!(s.error.is_none(), "{s:?}");
        if s.completed {
            break s;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(done.ingested_objects, Some(1000));
    let commit = done.commit.unwrap();
    assert_eq!(commit.message, "Import objects");
    assert_eq!(c.get_branch("imports", "main").await.unwrap().commit_id, commit.id);
    assert_eq!(read(&c, "imports", "main", "raw/part-3/f0423.txt").await.unwrap(), b"file 423");
    let params = lakefs_api::client::ListObjectsParams {
        prefix: "raw/part-7/",
        after: "",
        delimiter: "",
        amount: Some(1000),
        presign: false,
        user_metadata: false,
    };
    let listed = c.list_objects("imports", "main", &params).await.unwrap();
    assert_eq!(listed.results.len(), 100);
    assert_eq!(status(c.import_cancel("imports", "main", &id).await), 409, "completed");
    assert_eq!(status(c.import_status("imports", "main", "nope").await), 404);
    // the source stays the only copy: the blob store holds nothing of it
    let blobs = walkdir_count(&dir.path().join("data").join("blobs"));
    assert!(blobs < 10, "zero copy: {blobs} files in the blob store");
    // outside the import roots: the import fails, in its status
    let outside = c.import_start("imports", "main", &creation("local:///etc/".into(), "etc/")).await.unwrap().id;
    let failed = loop {
        let s = c.import_status("imports", "main", &outside).await.unwrap();
        if s.error.is_some() {
            break s;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert!(failed.error.unwrap().message.contains("not under an allowed import root"));
    assert!(!failed.completed);
}

fn walkdir_count(dir: &std::path::Path) -> usize {
    let mut n = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            if e.path().is_dir() {
                stack.push(e.path());
            } else {
                n += 1;
            }
        }
    }
    n
}

/// Pull requests and import statuses live in the catalog, as lakeFS keeps them in its KV store:
/// after a restart on the same data directory they read back with the same fields, and the
/// operations on them follow the stored state.
#[tokio::test]
async fn pull_requests_and_imports_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source");
    std::fs::create_dir_all(source.join("sub")).unwrap();
    std::fs::write(source.join("a.txt"), "a").unwrap();
    std::fs::write(source.join("sub/b.txt"), "bb").unwrap();
    let mut cfg = config(&dir.path().join("data"), Some(lakefs_embedded::PRESIGN_EXPIRY));
    cfg.import_roots = vec![source.clone()];
    let server = Server::start_config(cfg.clone()).await;
    let c = server.client();
    let r = "durable";
    c.create_repository(&repo_creation(r)).await.unwrap();
    c.create_branch(r, &BranchCreation { name: "feature".into(), source: "main".into(), ..Default::default() })
        .await
        .unwrap();
    put_commit(&c, r, "feature", "report.csv", b"1,2,3").await;
    let create = |title: &str| PullRequestCreation {
        title: title.into(),
        description: Some(format!("about {title}")),
        source_branch: "feature".into(),
        destination_branch: "main".into(),
    };
    let open_id = c.create_pull_request(r, &create("to merge")).await.unwrap().id;
    let closed_id = c.create_pull_request(r, &create("to close")).await.unwrap().id;
    let close = PullRequestBasic { status: Some("closed".into()), ..Default::default() };
    c.update_pull_request(r, &closed_id, &close).await.unwrap();
    let pulls_before = c.list_pull_requests(r, "all", "", None).await.unwrap().results;
    assert_eq!(pulls_before.len(), 2);

    // imports (local:// sources): one completed, one failed
    let mut imports = Vec::new();
    if test_s3().is_none() {
        let root = source.canonicalize().unwrap();
        for (path, dest) in [(format!("local://{}/", root.display()), "in/"), ("local:///etc/".into(), "etc/")] {
            let creation = ImportCreation {
                paths: vec![ImportLocation { kind: "common_prefix".into(), path, destination: dest.into() }],
                commit: CommitCreation::default(),
                force: None,
            };
            let id = c.import_start(r, "main", &creation).await.unwrap().id;
            let ended = loop {
                let s = c.import_status(r, "main", &id).await.unwrap();
                if s.completed || s.error.is_some() {
                    break s;
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            };
            imports.push((id, ended));
        }
        assert!(imports[0].1.completed && imports[0].1.commit.is_some(), "{:?}", imports[0].1);
        assert!(imports[1].1.error.as_ref().unwrap().message.contains("not under an allowed import root"));
        // the import's background task holds the server's state (and its database) until it ends
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    server.stop().await;

    let server = Server::start_config(cfg).await;
    let c = server.client();
    assert_eq!(c.list_pull_requests(r, "all", "", None).await.unwrap().results, pulls_before);
    for pull in &pulls_before {
        assert_eq!(&c.get_pull_request(r, &pull.id).await.unwrap(), pull);
    }
    for (id, status) in &imports {
        assert_eq!(&c.import_status(r, "main", id).await.unwrap(), status);
    }
    // still open: it merges; still closed: it does not
    let merged = c.merge_pull_request(r, &open_id).await.unwrap();
    let pull = c.get_pull_request(r, &open_id).await.unwrap();
    assert_eq!((pull.status.as_str(), pull.merged_commit_id.as_deref()), ("merged", Some(merged.reference.as_str())));
    assert_eq!(status(c.merge_pull_request(r, &closed_id).await), 400);
    if let [(done, _), (failed, _)] = imports.as_slice() {
        // completed: 409; failed (not completed): cancelling writes lakeFS's `Canceled`
        assert_eq!(status(c.import_cancel(r, "main", done).await), 409);
        c.import_cancel(r, "main", failed).await.unwrap();
        let s = c.import_status(r, "main", failed).await.unwrap();
        assert_eq!((s.completed, s.error.map(|e| e.message)), (false, Some("Canceled".to_string())));
    }
    // lakeFS drops a deleted repository's pull requests and imports with it
    c.delete_repository(r).await.unwrap();
    c.create_repository(&repo_creation(r)).await.unwrap();
    assert!(c.list_pull_requests(r, "all", "", None).await.unwrap().results.is_empty());
    assert_eq!(status(c.get_pull_request(r, &open_id).await), 404);
    if let Some((id, _)) = imports.first() {
        assert_eq!(status(c.import_status(r, "main", id).await), 404);
    }
    server.stop().await;
}
