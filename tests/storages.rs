//! A lakeFS with two storages (`storage_config_list`): the gateway reads each repository's
//! `storage_id` and uses that storage's capabilities — presigned URLs on one, bytes streamed
//! through lakeFS on a storage that cannot presign — as lakeFS's own clients do. One test per
//! binary: it reads the process-wide metrics.

mod common;

use common::Server;
use common::s3::{Req, Stack, signed};
use lakefs_api::dto::RepositoryCreation;
use lakefs_embedded::storage::ExtraStorage;

/// `lakegate_lakefs_calls_total` for `operation`, all statuses.
fn lakefs_calls(operation: &str) -> u64 {
    let text = lakegate::metrics::metrics().encode();
    let needle = format!("lakegate_lakefs_calls_total{{operation=\"{operation}\"");
    text.lines()
        .filter(|l| l.starts_with(&needle))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64
}

#[tokio::test]
async fn each_repository_uses_its_own_storages_capabilities() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = common::config(&dir.path().join("data"), Some(lakefs_embedded::PRESIGN_EXPIRY));
    cfg.extra_storages = vec![ExtraStorage {
        id: "plain".into(),
        description: "a storage that cannot presign".into(),
        presign: false,
        presign_multipart: false,
    }];
    let lakefs = Server::start_config(cfg).await;
    lakefs.client().create_repository(&common::repo_creation("first")).await.unwrap();
    let creation = RepositoryCreation {
        name: "second".into(),
        storage_namespace: "local://second".into(),
        default_branch: Some("main".into()),
        storage_id: Some("plain".into()),
        ..Default::default()
    };
    let created = lakefs.client().create_repository(&creation).await.unwrap();
    assert_eq!(created.storage_id.as_deref(), Some("plain"));
    let stack = Stack::on(lakefs, dir, false, |_| {}).await;

    for (repo, presigned) in [("first", true), ("second", false), ("first", true)] {
        let body = format!("bytes of {repo}");
        let (addresses, uploads) = (lakefs_calls("getPhysicalAddress"), lakefs_calls("uploadObject"));
        let path = format!("/{repo}/main/file.txt");
        let put = signed(&stack, Req::new("PUT", &path).body(body.as_bytes())).await;
        assert_eq!(put.status, 200, "{repo}: {}", put.text());
        let (addresses, uploads) =
            (lakefs_calls("getPhysicalAddress") - addresses, lakefs_calls("uploadObject") - uploads);
        let expected = if presigned { (1, 0) } else { (0, 1) };
        assert_eq!((addresses, uploads), expected, "{repo}: (getPhysicalAddress, uploadObject) calls");
        let get = signed(&stack, Req::new("GET", &path)).await;
        assert_eq!((get.status, get.text()), (200, body), "{repo}");
    }
}
