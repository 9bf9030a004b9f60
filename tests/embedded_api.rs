//! The embedded lakeFS-compatible server driven through lakegate's own typed lakeFS client, over
//! real sockets: lifecycle, the presigned data path, auth, persistence across restarts, and
//! concurrency (no lost writes).

mod common;

use common::*;
use lakefs_api::LakeFsError;
use lakefs_api::client::{Credentials, ListObjectsParams};
use lakefs_api::dto::*;
use std::collections::BTreeMap;

async fn upload_presigned(
    server_client: &lakefs_api::LakeFsClient,
    repo: &str,
    branch: &str,
    path: &str,
    data: &[u8],
) -> ObjectStats {
    let loc = server_client.get_physical_address(repo, branch, path, true).await.unwrap();
    let url = loc.presigned_url.clone().expect("presigned url");
    assert!(loc.presigned_url_expiry.unwrap() > 0);
    let (status, headers, _) = raw(&raw_client(), "PUT", &url, &[], data.to_vec()).await;
    assert_eq!(status, 200);
    let etag = headers["etag"].to_str().unwrap().to_string();
    assert_eq!(etag, format!("\"{}\"", md5_hex(data)));
    let meta = StagingMetadata {
        staging: loc,
        checksum: etag,
        size_bytes: data.len() as i64,
        user_metadata: Some(BTreeMap::from([("owner".to_string(), "tests".to_string())])),
        content_type: Some("text/plain".into()),
        mtime: None,
        force: None,
    };
    server_client.link_physical_address(repo, branch, path, &meta, false).await.unwrap()
}

#[tokio::test]
async fn repository_branch_commit_lifecycle() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path()).await;
    let c = server.client();
    c.health_check().await.unwrap();
    let repo = c.create_repository(&repo_creation("life")).await.unwrap();
    assert_eq!((repo.id.as_str(), repo.default_branch.as_str()), ("life", "main"));
    let dup = c.create_repository(&repo_creation("life")).await.unwrap_err();
    assert_eq!(dup.status().unwrap(), 409);

    let main = c.get_branch("life", "main").await.unwrap();
    let head = c
        .create_branch("life", &BranchCreation { name: "dev".into(), source: "main".into(), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(head, main.commit_id);
    let stats = upload_presigned(&c, "life", "dev", "data/one.txt", b"one").await;
    assert_eq!(stats.checksum, md5_hex(b"one"));
    let commit =
        c.commit("life", "dev", &CommitCreation { message: "add one".into(), ..Default::default() }).await.unwrap();
    assert_eq!(commit.parents, vec![main.commit_id.clone()]);
    assert_eq!(c.get_branch("life", "dev").await.unwrap().commit_id, commit.id);
    assert_eq!(c.get_commit("life", &commit.id).await.unwrap(), commit);
    let log = c.log_commits("life", "dev", "", None).await.unwrap();
    assert_eq!(log.results.iter().map(|c| c.message.as_str()).collect::<Vec<_>>(), ["add one", "Repository created"]);

    // main does not see dev's commit; the commit id does.
    assert!(c.stat_object("life", "main", "data/one.txt", false).await.unwrap_err().is_not_found());
    assert_eq!(c.stat_object("life", &commit.id, "data/one.txt", false).await.unwrap().size_bytes, Some(3));

    let branches = c.list_branches("life", "", "", Some(1)).await.unwrap();
    assert_eq!(
        (branches.results.len(), branches.pagination.has_more, branches.pagination.next_offset.as_str()),
        (1, true, "dev")
    );
    c.delete_branch("life", "dev").await.unwrap();
    assert!(c.get_branch("life", "dev").await.unwrap_err().is_not_found());
    assert_eq!(c.delete_branch("life", "main").await.unwrap_err().status().unwrap(), 403);
    c.delete_repository("life").await.unwrap();
    assert!(c.get_repository("life").await.unwrap_err().is_not_found());
    server.stop().await;
}

#[tokio::test]
async fn presigned_data_path_round_trips_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path()).await;
    let c = server.client();
    c.create_repository(&repo_creation("bytes")).await.unwrap();
    let data = pattern(3 * 1024 * 1024 + 17, 3);
    upload_presigned(&c, "bytes", "main", "big/blob.bin", &data).await;

    let stat = c.stat_object("bytes", "main", "big/blob.bin", true).await.unwrap();
    // the embedded blob store (http), or the test command's SeaweedFS (https)
    let url = &stat.physical_address;
    assert!(url.starts_with("http://127.0.0.1:") || url.starts_with("https://127.0.0.1:"), "{url}");
    assert!(stat.physical_address_expiry.unwrap() > 0);
    assert_eq!(stat.metadata.unwrap()["owner"], "tests");
    assert_eq!(stat.content_type.as_deref(), Some("text/plain"));
    let raw_c = raw_client();
    let (status, _, body) = raw(&raw_c, "GET", &stat.physical_address, &[], vec![]).await;
    assert_eq!((status, body.len()), (200, data.len()));
    assert!(body == data);
    let (status, headers, body) =
        raw(&raw_c, "GET", &stat.physical_address, &[("range", "bytes=1000-1999")], vec![]).await;
    assert_eq!(status, 206);
    assert_eq!(headers["content-range"], format!("bytes 1000-1999/{}", data.len()));
    assert_eq!(body, &data[1000..2000]);
    let (status, _, _) = raw(&raw_c, "GET", &stat.physical_address, &[("range", "bytes=99999999-")], vec![]).await;
    assert_eq!(status, 416);
    let tampered = stat.physical_address.replace("X-Amz-Signature=", "X-Amz-Signature=0");
    assert_eq!(raw(&raw_c, "GET", &tampered, &[], vec![]).await.0, 403);

    // getObject through the API, whole and ranged; presign=true redirects.
    let resp = c.get_object("bytes", "main", "big/blob.bin", Some("bytes=-10"), false).await.unwrap();
    assert_eq!(resp.status(), 206);
    use http_body_util::BodyExt;
    let tail = resp.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&tail[..], &data[data.len() - 10..]);
    let resp = c.get_object("bytes", "main", "big/blob.bin", None, true).await.unwrap();
    assert_eq!(resp.status(), 302);
    assert!(resp.headers()["location"].to_str().unwrap().contains("X-Amz-Signature="));
    server.stop().await;
}

#[tokio::test]
async fn link_rules_follow_lakefs() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path()).await;
    let c = server.client();
    c.create_repository(&repo_creation("links")).await.unwrap();
    upload_presigned(&c, "links", "main", "exists", b"x").await;
    let loc = c.get_physical_address("links", "main", "exists", false).await.unwrap();
    assert!(loc.presigned_url.is_none());
    let meta = StagingMetadata {
        staging: loc.clone(),
        checksum: "abc".into(),
        size_bytes: 1,
        user_metadata: None,
        content_type: None,
        mtime: Some(1_700_000_000),
        force: None,
    };
    let err = c.link_physical_address("links", "main", "exists", &meta, true).await.unwrap_err();
    assert_eq!(err.status().unwrap(), 412);
    let linked = c.link_physical_address("links", "main", "exists", &meta, false).await.unwrap();
    assert_eq!((linked.mtime, linked.checksum.as_str()), (1_700_000_000, "abc"));
    // The linked address never received bytes: reading it is lakeFS's 410 "No data".
    let err = c.get_object("links", "main", "exists", None, false).await.unwrap_err();
    assert_eq!(err.status().unwrap(), 410, "{err}");
    // lakeFS hands out addresses for any branch name; linking on a missing branch is 404.
    let loc = c.get_physical_address("links", "nobranch", "p", false).await.unwrap();
    let meta = StagingMetadata { staging: loc, ..meta };
    assert!(c.link_physical_address("links", "nobranch", "p", &meta, false).await.unwrap_err().is_not_found());
    server.stop().await;
}

/// `linkPhysicalAddress` body for `address` (checksum and size of `data`).
fn link_body(address: &str, data: &[u8]) -> serde_json::Value {
    serde_json::json!({
        "staging": {"physical_address": address},
        "checksum": md5_hex(data),
        "size_bytes": data.len(),
    })
}

#[tokio::test]
async fn staging_addresses_are_bound_as_lakefs_binds_them() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path()).await;
    let c = server.client();
    let auth = basic(&server.access_key_id, &server.secret_access_key);
    let (bind, other) = (repo_creation("bind"), repo_creation("bind2"));
    c.create_repository(&bind).await.unwrap();
    c.create_repository(&other).await.unwrap();
    c.create_branch("bind", &BranchCreation { name: "dev".into(), source: "main".into(), ..Default::default() })
        .await
        .unwrap();
    let data = b"bound bytes";
    let loc = c.get_physical_address("bind", "main", "a/x", true).await.unwrap();
    let address = loc.physical_address.clone().unwrap();
    // lakeFS's shape: <namespace>/data/<partition xid>/<xid>,<signature>
    let relative = address.strip_prefix(&format!("{}/", bind.storage_namespace)).unwrap();
    let (name, _) = relative.rsplit_once(',').unwrap();
    let segments: Vec<&str> = name.split('/').collect();
    assert_eq!((segments.len(), segments[0], segments[1].len(), segments[2].len()), (3, "data", 20, 20), "{address}");
    let (status, _, _) = raw(&raw_client(), "PUT", loc.presigned_url.as_ref().unwrap(), &[], data.to_vec()).await;
    assert_eq!(status, 200);

    let link = |repo: &str, branch: &str, path: &str, address: &str| {
        let url = format!("/repositories/{repo}/branches/{branch}/staging/backing?path={path}");
        let body = link_body(address, data);
        let (server, auth) = (&server, auth.clone());
        async move { call(server, "PUT", &url, Some(&auth), Some(body)).await }
    };
    let refused = |(status, body): (u16, serde_json::Value), message: &str| {
        assert_eq!((status, body["message"].as_str()), (400, Some(message)), "{body}");
    };
    // Another path, another branch: the signature does not cover them.
    let bad_signature = "invalid address signature: invalid address";
    refused(link("bind", "main", "a/other", &address).await, bad_signature);
    refused(link("bind", "dev", "a/x", &address).await, bad_signature);
    // The same object name inside another repository's namespace: signed for another repository.
    let rerooted = format!("{}/{relative}", other.storage_namespace);
    refused(link("bind2", "main", "a/x", &rerooted).await, bad_signature);
    // Unsigned, or with a signature that is not base64url, inside the data prefix.
    refused(
        link("bind", "main", "a/x", &format!("{}/{name}", bind.storage_namespace)).await,
        "address is not signed: link address invalid",
    );
    let (status, body) = link("bind", "main", "a/x", &format!("{address}*")).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("malformed address signature: {\"Repository\":\"bind\",\"Branch\":\"main\",\"Path\":\"a/x\""),
        "{body}"
    );
    assert!(c.stat_object("bind", "main", "a/other", false).await.unwrap_err().is_not_found());
    assert!(c.stat_object("bind", "dev", "a/x", false).await.unwrap_err().is_not_found());

    // Outside the repository's data prefix an address is a "full" address: lakeFS links it
    // without a signature check, even one handed out for another repository.
    let (status, body) = link("bind2", "main", "borrowed", &address).await;
    assert_eq!((status, body["physical_address"].as_str()), (200, Some(address.as_str())), "{body}");
    let resp = c.get_object("bind2", "main", "borrowed", None, false).await.unwrap();
    use http_body_util::BodyExt;
    assert_eq!(&resp.into_body().collect().await.unwrap().to_bytes()[..], data);

    // The repository, branch and path it was issued for.
    let (status, body) = link("bind", "main", "a/x", &address).await;
    assert_eq!((status, body["physical_address"].as_str()), (200, Some(address.as_str())), "{body}");
    assert_eq!(c.stat_object("bind", "main", "a/x", false).await.unwrap().checksum, md5_hex(data));
    server.stop().await;
}

#[tokio::test]
async fn listing_pages_with_delimiter_and_after() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path()).await;
    let c = server.client();
    c.create_repository(&repo_creation("lists")).await.unwrap();
    for p in ["a/1", "a/2", "b", "c/d/e", "f"] {
        upload_presigned(&c, "lists", "main", p, p.as_bytes()).await;
    }
    let params = ListObjectsParams { delimiter: "/", amount: Some(2), user_metadata: true, ..Default::default() };
    let page = c.list_objects("lists", "main", &params).await.unwrap();
    let paths: Vec<_> = page.results.iter().map(|o| (o.path.as_str(), o.path_type)).collect();
    assert_eq!(paths, [("a/", PathType::CommonPrefix), ("b", PathType::Object)]);
    assert!(page.pagination.has_more);
    let params = ListObjectsParams { after: &page.pagination.next_offset, ..params };
    let page = c.list_objects("lists", "main", &params).await.unwrap();
    assert_eq!(page.results.iter().map(|o| o.path.as_str()).collect::<Vec<_>>(), ["c/", "f"]);
    assert!(!page.pagination.has_more);
    server.stop().await;
}

#[tokio::test]
async fn auth_basic_login_and_refusals() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path()).await;
    let jwt = server.client_with(Credentials::Login {
        access_key_id: server.access_key_id.clone(),
        secret_access_key: server.secret_access_key.clone(),
    });
    assert_eq!(jwt.get_current_user().await.unwrap().user.id, "admin");
    let bad = server.client_with(Credentials::Basic {
        access_key_id: server.access_key_id.clone(),
        secret_access_key: "wrong".into(),
    });
    assert_eq!(bad.list_repositories("", "", None).await.unwrap_err().status().unwrap(), 401);
    let bad_login =
        server.client_with(Credentials::Login { access_key_id: "nope".into(), secret_access_key: "nope".into() });
    assert_eq!(bad_login.get_config().await.unwrap_err().status().unwrap(), 401);
    let forged = server.client_with(Credentials::Token("e30.e30.AAAA".into()));
    assert_eq!(forged.get_current_user().await.unwrap_err().status().unwrap(), 401);
    let cfg = server.client().get_config().await.unwrap();
    let storage = cfg.storage_config.unwrap();
    assert_eq!(
        (storage.blockstore_type.as_str(), storage.pre_sign_support, storage.pre_sign_multipart_upload),
        match test_s3() {
            Some(_) => ("s3", true, Some(true)),
            None => ("local", true, Some(true)),
        }
    );
    server.stop().await;
}

#[tokio::test]
async fn metadata_and_bytes_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path()).await;
    let c = server.client();
    let (ak, sk) = (server.access_key_id.clone(), server.secret_access_key.clone());
    c.create_repository(&repo_creation("keep")).await.unwrap();
    upload_presigned(&c, "keep", "main", "committed", b"old").await;
    let commit =
        c.commit("keep", "main", &CommitCreation { message: "c1".into(), ..Default::default() }).await.unwrap();
    upload_presigned(&c, "keep", "main", "staged", b"new bytes").await;
    server.stop().await;

    let server = Server::start(dir.path()).await;
    assert_eq!((server.access_key_id.as_str(), server.secret_access_key.as_str()), (ak.as_str(), sk.as_str()));
    let c = server.client();
    assert_eq!(c.get_branch("keep", "main").await.unwrap().commit_id, commit.id);
    let stat = c.stat_object("keep", "main", "staged", true).await.unwrap();
    let (status, _, body) = raw(&raw_client(), "GET", &stat.physical_address, &[], vec![]).await;
    assert_eq!((status, body.as_slice()), (200, b"new bytes".as_slice()));
    assert!(c.stat_object("keep", &commit.id, "staged", false).await.unwrap_err().is_not_found());
    assert_eq!(c.stat_object("keep", &commit.id, "committed", false).await.unwrap().size_bytes, Some(3));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_links_and_commits_lose_no_write() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path()).await;
    let c = server.client();
    c.create_repository(&repo_creation("race")).await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..40 {
        let c = c.clone();
        tasks.push(tokio::spawn(async move {
            let path = format!("k/{i:03}");
            upload_presigned(&c, "race", "main", &path, path.as_bytes()).await;
            if i % 5 == 0 {
                let req = CommitCreation { message: format!("c{i}"), allow_empty: Some(true), ..Default::default() };
                c.commit("race", "main", &req).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    c.commit(
        "race",
        "main",
        &CommitCreation { message: "final".into(), allow_empty: Some(true), ..Default::default() },
    )
    .await
    .unwrap();
    let head = c.get_branch("race", "main").await.unwrap().commit_id;
    let params = ListObjectsParams { amount: Some(1000), ..Default::default() };
    let listed = c.list_objects("race", &head, &params).await.unwrap();
    let expected: Vec<String> = (0..40).map(|i| format!("k/{i:03}")).collect();
    assert_eq!(listed.results.iter().map(|o| o.path.clone()).collect::<Vec<_>>(), expected);
    server.stop().await;
}

#[tokio::test]
async fn client_times_out_and_reports_connection_errors() {
    use lakefs_api::client::ClientConfig;
    use std::time::Duration;
    // A listener that accepts but never answers.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = silent.local_addr().unwrap();
    let _hold = tokio::spawn(async move {
        let mut conns = Vec::new();
        while let Ok((s, _)) = silent.accept().await {
            conns.push(s);
        }
    });
    let mut cfg = ClientConfig::new(format!("http://{addr}/api/v1"), Credentials::Token("t".into()));
    cfg.timeout = Duration::from_millis(200);
    let c = lakefs_api::LakeFsClient::new(cfg.clone()).unwrap();
    assert!(matches!(c.get_config().await, Err(LakeFsError::Timeout(_))));

    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
    cfg.endpoint = format!("http://{closed}/api/v1");
    cfg.backoff = Duration::from_millis(1);
    let c = lakefs_api::LakeFsClient::new(cfg).unwrap();
    assert!(matches!(c.get_config().await, Err(LakeFsError::Connect(_))));
}

#[tokio::test]
async fn one_storage_is_lakefs_oss_single_blockstore() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path()).await;
    let auth = basic(&server.access_key_id, &server.secret_access_key);
    let (status, cfg) = call(&server, "GET", "/config", Some(&auth), None).await;
    assert_eq!(status, 200);
    // lakeFS OSS: the single blockstore's id is "", and the list is emptied.
    assert_eq!(cfg["storage_config"]["blockstore_id"], "", "{cfg}");
    assert_eq!(cfg["storage_config_list"], serde_json::json!([]), "{cfg}");
    assert_eq!(cfg["storage_config"]["pre_sign_support_ui"], false, "{cfg}");
    let kind = cfg["storage_config"]["blockstore_type"].as_str().unwrap().to_string();
    assert_eq!(cfg["storage_config"]["blockstore_namespace_example"], format!("{kind}://example-bucket/"));
    let creation = repo_creation("single");
    let body = serde_json::json!({"name": "single", "storage_namespace": creation.storage_namespace});
    let (status, repo) = call(&server, "POST", "/repositories", Some(&auth), Some(body.clone())).await;
    assert_eq!((status, repo["storage_id"].as_str()), (201, Some("")), "{repo}");
    let (_, got) = call(&server, "GET", "/repositories/single", Some(&auth), None).await;
    assert_eq!(got["storage_id"], "", "{got}");
    // An existing repository is 409 before anything else is looked at.
    let again = serde_json::json!({"name": "single", "storage_namespace": "ftp://x", "storage_id": "nope"});
    let (status, err) = call(&server, "POST", "/repositories", Some(&auth), Some(again)).await;
    assert_eq!((status, err["message"].as_str()), (409, Some("error creating repository: not unique")));
    let other = serde_json::json!({"name": "single2", "storage_namespace": namespace("single2"), "storage_id": "nope"});
    let (status, err) = call(&server, "POST", "/repositories", Some(&auth), Some(other)).await;
    assert_eq!((status, err["message"].as_str()), (400, Some("storage id: invalid value: validation error")));
    server.stop().await;
}

#[tokio::test]
async fn a_second_storage_is_chosen_by_storage_id() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path(), Some(lakefs_embedded::PRESIGN_EXPIRY));
    cfg.extra_storages = vec![lakefs_embedded::storage::ExtraStorage {
        id: "plain".into(),
        description: "local, no presigning".into(),
        presign: false,
        presign_multipart: false,
    }];
    let server = Server::start_config(cfg.clone()).await;
    let c = server.client();
    let auth = basic(&server.access_key_id, &server.secret_access_key);
    let (_, config) = call(&server, "GET", "/config", Some(&auth), None).await;
    let list = config["storage_config_list"].as_array().unwrap();
    let ids: Vec<&str> = list.iter().map(|s| s["blockstore_id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["", "plain"], "{config}");
    assert_eq!(config["storage_config"]["blockstore_id"], "", "{config}");
    assert_eq!(
        (list[0]["pre_sign_support"].as_bool(), list[0]["pre_sign_multipart_upload"].as_bool()),
        (Some(true), Some(true))
    );
    assert_eq!(list[1]["blockstore_type"], "local");
    assert_eq!(list[1]["blockstore_description"], "local, no presigning");
    assert_eq!(
        (list[1]["pre_sign_support"].as_bool(), list[1]["pre_sign_multipart_upload"].as_bool()),
        (Some(false), Some(false))
    );

    // createRepository with storage_id picks the storage; its namespaces are the storage's.
    let body = serde_json::json!({"name": "cold", "storage_namespace": "local://cold", "storage_id": "plain"});
    let (status, repo) = call(&server, "POST", "/repositories", Some(&auth), Some(body)).await;
    assert_eq!((status, repo["storage_id"].as_str()), (201, Some("plain")), "{repo}");
    assert_eq!(c.get_repository("cold").await.unwrap().storage_id.as_deref(), Some("plain"));
    let listed = c.list_repositories("", "", None).await.unwrap();
    assert_eq!(listed.results.iter().find(|r| r.id == "cold").unwrap().storage_id.as_deref(), Some("plain"));
    let s3_ns = serde_json::json!({"name": "cold2", "storage_namespace": "s3://b/cold2", "storage_id": "plain"});
    assert_eq!(call(&server, "POST", "/repositories", Some(&auth), Some(s3_ns)).await.0, 400);
    c.create_repository(&repo_creation("warm")).await.unwrap();
    assert_eq!(c.get_repository("warm").await.unwrap().storage_id.as_deref(), Some(""));

    // Each repository is served by its own storage's abilities.
    let (status, err) =
        call(&server, "GET", "/repositories/cold/branches/main/staging/backing?path=p&presign=true", Some(&auth), None)
            .await;
    assert_eq!((status, err["message"].as_str()), (500, Some("local adapter presigned URL: operation not supported")));
    let loc = c.get_physical_address("cold", "main", "p", false).await.unwrap();
    assert!(loc.physical_address.unwrap().starts_with("local://cold/data/"));
    assert!(c.get_physical_address("warm", "main", "p", true).await.unwrap().presigned_url.is_some());
    let (status, err) =
        call(&server, "POST", "/repositories/cold/branches/main/staging/pmpu?path=p", Some(&auth), None).await;
    assert_eq!((status, err["message"].as_str()), (501, Some("presign multipart upload API is not supported")));
    assert!(c.create_presign_multipart_upload("warm", "main", "p", None).await.is_ok());
    // Bytes go through the API on the storage that cannot presign.
    let url = format!("{}/repositories/cold/branches/main/objects?path=o", server.api_endpoint);
    let headers = [("authorization", auth.as_str()), ("content-type", "application/octet-stream")];
    assert_eq!(raw(&raw_client(), "POST", &url, &headers, b"cold bytes".to_vec()).await.0, 201);
    let resp = c.get_object("cold", "main", "o", None, false).await.unwrap();
    use http_body_util::BodyExt;
    assert_eq!(&resp.into_body().collect().await.unwrap().to_bytes()[..], b"cold bytes");
    let err = c.stat_object("cold", "main", "o", true).await.unwrap_err();
    assert_eq!(err.status().unwrap(), 400, "{err}");
    server.stop().await;

    // As lakeFS, the server does not start while a repository's storage is not configured.
    cfg.extra_storages.clear();
    let Err(err) = lakefs_embedded::Embedded::start(&cfg).await else { panic!("started without storage plain") };
    assert!(err.to_string().contains("repository cold is on storage \"plain\", which is not configured"), "{err}");
}

/// Failure answers the S3 gateway depends on, as lakeFS v1.84.0 gives them (status and message;
/// `pkg/api/controller.go` `handleApiErrorCallback`, the errors of `pkg/graveler/errors.go`). One
/// row per (operation, failure); see docs/lakefs-fidelity.md "Failure statuses".
#[tokio::test]
async fn failure_statuses_follow_lakefs() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path()).await;
    let c = server.client();
    let auth = basic(&server.access_key_id, &server.secret_access_key);
    c.create_repository(&repo_creation("fail")).await.unwrap();
    let ro = serde_json::json!({"name": "rdo", "storage_namespace": namespace("rdo"), "read_only": true});
    assert_eq!(call(&server, "POST", "/repositories", Some(&auth), Some(ro)).await.0, 201);
    let dev = BranchCreation { name: "dev".into(), source: "main".into(), ..Default::default() };
    c.create_branch("fail", &dev).await.unwrap();
    upload_presigned(&c, "fail", "dev", "a", b"a").await;
    c.commit("fail", "dev", &CommitCreation { message: "a".into(), ..Default::default() }).await.unwrap();
    let tag = serde_json::json!({"id": "v1", "ref": "main"});
    assert_eq!(call(&server, "POST", "/repositories/fail/tags", Some(&auth), Some(tag)).await.0, 201);
    upload_presigned(&c, "fail", "main", "dirty", b"d").await;
    let many: Vec<String> = (0..1001).map(|i| format!("p{i}")).collect();
    let branch = |name: &str, source: &str| Some(serde_json::json!({"name": name, "source": source}));
    let rows: Vec<(&str, &str, Option<serde_json::Value>, u16, &str)> = vec![
        ("GET", "/repositories/nope", None, 404, "repository not found"),
        ("DELETE", "/repositories/nope", None, 404, "repository not found"),
        ("DELETE", "/repositories/rdo", None, 403, "read-only repository"),
        ("POST", "/repositories/nope/branches", branch("x", "main"), 404, "repository not found"),
        ("POST", "/repositories/fail/branches", branch("dev", "main"), 409, "branch already exists: not unique"),
        ("POST", "/repositories/fail/branches", branch("v1", "main"), 409, "tag ID v1: conflict found"),
        ("POST", "/repositories/fail/branches", branch("x", "nope"), 404, "source reference 'nope': not found"),
        ("POST", "/repositories/rdo/branches", branch("x", "main"), 403, "read-only repository"),
        ("DELETE", "/repositories/fail/branches/main", None, 403, "cannot delete repository default branch"),
        ("DELETE", "/repositories/fail/branches/nope", None, 404, "branch not found"),
        ("DELETE", "/repositories/rdo/branches/main", None, 403, "read-only repository"),
        ("GET", "/repositories/nope/refs/main/objects/stat?path=a", None, 404, "repository not found"),
        ("GET", "/repositories/fail/refs/nope/objects/stat?path=a", None, 404, "not found"),
        ("GET", "/repositories/fail/refs/main/objects/stat?path=missing", None, 404, "not found"),
        ("GET", "/repositories/nope/refs/main/objects/ls", None, 404, "repository not found"),
        ("GET", "/repositories/fail/refs/nope/objects/ls", None, 404, "not found"),
        ("DELETE", "/repositories/fail/branches/nope/objects?path=a", None, 404, "branch not found"),
        ("DELETE", "/repositories/rdo/branches/main/objects?path=a", None, 403, "read-only repository"),
        (
            "POST",
            "/repositories/fail/branches/main/objects/delete",
            Some(serde_json::json!({"paths": many})),
            400,
            "request size exceeded, max paths is set to 1000",
        ),
        (
            "POST",
            "/repositories/fail/branches/nope/objects/copy?dest_path=b",
            Some(serde_json::json!({"src_path": "a"})),
            404,
            "branch 'nope' not found",
        ),
        (
            "POST",
            "/repositories/fail/branches/main/objects/copy?dest_path=b",
            Some(serde_json::json!({"src_path": "missing"})),
            404,
            "not found",
        ),
        (
            "POST",
            "/repositories/fail/refs/dev/merge/main",
            Some(serde_json::json!({})),
            400,
            "uncommitted changes (dirty branch)",
        ),
        ("POST", "/repositories/rdo/refs/main/merge/main", Some(serde_json::json!({})), 403, "read-only repository"),
        ("PUT", "/repositories/rdo/branches/main/hard_reset?ref=main", None, 403, "read-only repository"),
    ];
    let mut wrong = Vec::new();
    for (method, path, body, status, message) in rows {
        let (got, err) = call(&server, method, path, Some(&auth), body).await;
        if (got, err["message"].as_str()) != (status, Some(message)) {
            wrong.push(format!("{method} {path}: {got} {err} (lakeFS: {status} {message:?})"));
        }
    }
    // deleteObjects reports a read-only repository per path (200, 403 entries).
    let body = serde_json::json!({"paths": ["a"]});
    let (got, list) =
        call(&server, "POST", "/repositories/rdo/branches/main/objects/delete", Some(&auth), Some(body)).await;
    assert_eq!(
        (got, &list["errors"][0]["status_code"], &list["errors"][0]["message"]),
        (200, &serde_json::json!(403), &serde_json::json!("read-only repository")),
        "{list}"
    );
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    server.stop().await;
}
