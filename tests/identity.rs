//! Gateway identity end to end over real sockets: gateway keys from the key file, bound to lakeFS
//! users as external principals (`lakegate::cmd::keys::create`, what `lakegate keys create` runs),
//! per-user lakeFS sessions through `externalPrincipalLogin` verified at lakegate's own STS
//! endpoint, lakeFS's permission decisions surfacing as S3 `AccessDenied`, key rotation by file
//! edit, one login under concurrency, the `lakefs-key` and `service` modes, the gateway's own
//! AWS IAM login, and the `lakegate keys` command line.

mod common;

use common::s3::{Req, Stack, gateway_args, send, sign_request, signed_as, tag_values};
use common::*;
use lakefs_api::client::{AwsIamLogin, Credentials};
use lakegate::auth::keystore::{self, KeyStore, ModeName};
use lakegate::cmd::keys::CreatedKey;
use lakegate::gateway::GatewayServer;
use serde_json::json;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

const REPO: &str = "idrepo";

/// A stack whose gateway keys are principals of `alice` (FSFullAccess) and `bob` (FSReadAll).
struct Ids {
    stack: Stack,
    keys_file: PathBuf,
    alice: CreatedKey,
    bob: CreatedKey,
}

impl Ids {
    fn key(k: &CreatedKey) -> (&str, &str) {
        (&k.access_key_id, &k.secret_access_key)
    }

    fn srv(&self) -> &Server {
        &self.stack.lakefs
    }
}

async fn user_with_policy(srv: &Server, user: &str, policy: &str) {
    let admin = basic(&srv.access_key_id, &srv.secret_access_key);
    assert_eq!(call(srv, "POST", "/auth/users", Some(&admin), Some(json!({ "id": user }))).await.0, 201);
    let attach = format!("/auth/users/{user}/policies/{policy}");
    assert_eq!(call(srv, "PUT", &attach, Some(&admin), None).await.0, 201);
}

/// Starts the stack; `trust_sts`: whether lakeFS lists the gateway as an allowed STS host.
async fn start(principal_cache_secs: u64, trust_sts: bool) -> Ids {
    let dir = tempfile::tempdir().unwrap();
    let srv = Server::start(&dir.path().join("data")).await;
    let admin = srv.client();
    admin.create_repository(&repo_creation(REPO)).await.unwrap();
    user_with_policy(&srv, "alice", "FSFullAccess").await;
    user_with_policy(&srv, "bob", "FSReadAll").await;
    let keys_file = dir.path().join("keys.toml");
    let create =
        |user: &'static str| lakegate::cmd::keys::create(&admin, &keys_file, ModeName::Principal, user, None, None);
    let alice = create("alice").await.unwrap();
    let bob = create("bob").await.unwrap();
    let (mut args, der) = gateway_args(&srv, dir.path(), false);
    args.identity.principal_cache_secs = principal_cache_secs;
    let store = KeyStore::open(&keys_file, ModeName::Principal).unwrap();
    let gw = GatewayServer::bind(&args, Arc::new(store), admin).await.unwrap();
    if trust_sts {
        srv.state.allow_sts_host(gw.sts_host());
    }
    let key = (alice.access_key_id.clone(), alice.secret_access_key.clone());
    Ids { stack: Stack::around(srv, gw, der, key, dir), keys_file, alice, bob }
}

async fn put(ids: &Ids, key: (&str, &str), path: &str, body: &[u8]) -> common::s3::Answer {
    signed_as(&ids.stack, key, Req::new("PUT", path).body(body)).await
}

async fn get(ids: &Ids, key: (&str, &str), path: &str) -> common::s3::Answer {
    signed_as(&ids.stack, key, Req::new("GET", path)).await
}

#[tokio::test]
async fn the_read_only_users_writes_are_denied_by_lakefs_and_its_reads_work() {
    let ids = start(30, true).await;
    let (alice, bob) = (Ids::key(&ids.alice), Ids::key(&ids.bob));
    assert_eq!(put(&ids, alice, "/idrepo/main/a.txt", b"from alice").await.status, 200);
    let got = get(&ids, bob, "/idrepo/main/a.txt").await;
    assert_eq!((got.status, got.body.as_slice()), (200, &b"from alice"[..]));
    let listed = get(&ids, bob, "/idrepo?list-type=2&prefix=main/").await;
    assert_eq!(listed.status, 200, "{}", listed.text());
    assert!(listed.text().contains("<Key>main/a.txt</Key>"));
    let denied = [
        put(&ids, bob, "/idrepo/main/b.txt", b"from bob").await,
        signed_as(&ids.stack, bob, Req::new("DELETE", "/idrepo/main/a.txt")).await,
        signed_as(
            &ids.stack,
            bob,
            Req::new("PUT", "/idrepo/main/c.txt").header("x-amz-copy-source", "/idrepo/main/a.txt"),
        )
        .await,
    ];
    for d in denied {
        assert_eq!((d.status, d.code()), (403, "AccessDenied".to_string()), "{}", d.text());
        assert!(d.text().contains("lakeFS"), "the denial is lakeFS's decision: {}", d.text());
    }
    // DeleteObjects: lakeFS answers 401 with the batch's error list after one message per denial
    // (ledger: deleteObjects); each denied key is an AccessDenied entry of a 200 answer.
    let xml = "<Delete><Object><Key>main/a.txt</Key></Object><Object><Key>main/zz</Key></Object></Delete>";
    let md5 = {
        use base64::Engine;
        use md5::Digest;
        base64::engine::general_purpose::STANDARD.encode(md5::Md5::digest(xml.as_bytes()))
    };
    let batch =
        signed_as(&ids.stack, bob, Req::new("POST", "/idrepo?delete").header("content-md5", &md5).body(xml.as_bytes()))
            .await;
    assert_eq!(batch.status, 200, "{}", batch.text());
    assert_eq!(tag_values(&batch.text(), "Code"), ["AccessDenied", "AccessDenied"], "{}", batch.text());
    assert_eq!(tag_values(&batch.text(), "Key"), ["main/a.txt", "main/zz"], "{}", batch.text());
    assert_eq!(get(&ids, alice, "/idrepo/main/a.txt").await.status, 200, "nothing was deleted");
    assert_eq!(get(&ids, bob, "/idrepo/main/b.txt").await.status, 404, "nothing was written");
    // Each user logged in once, through lakegate's STS endpoint.
    assert_eq!(ids.srv().state.external_login_count(), 2);
}

/// A batch delete where lakeFS denies some keys: the allowed ones are deleted and say so, the
/// denied ones are AccessDenied (lakeFS's 401 carries the batch's error list, ledger: deleteObjects).
#[tokio::test]
async fn a_batch_delete_partly_denied_reports_each_key_as_lakefs_decided() {
    let ids = start(30, true).await;
    let admin = basic(&ids.srv().access_key_id, &ids.srv().secret_access_key);
    let policy = json!({"id": "DeleteKeep", "statement": [
        {"effect": "allow", "action": ["fs:DeleteObject"], "resource": "arn:lakefs:fs:::repository/idrepo/object/keep/*"}]});
    assert_eq!(call(ids.srv(), "POST", "/auth/policies", Some(&admin), Some(policy)).await.0, 201);
    user_with_policy(ids.srv(), "carol", "DeleteKeep").await;
    let read_all = "/auth/users/carol/policies/FSReadAll";
    assert_eq!(call(ids.srv(), "PUT", read_all, Some(&admin), None).await.0, 201);
    let keys = &ids.keys_file;
    let carol =
        lakegate::cmd::keys::create(&ids.srv().client(), keys, ModeName::Principal, "carol", None, None).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await; // the key file is re-read at most once a second
    let alice = Ids::key(&ids.alice);
    for k in ["main/keep/1", "main/other"] {
        assert_eq!(put(&ids, alice, &format!("/idrepo/{k}"), b"x").await.status, 200);
    }
    let xml = "<Delete><Object><Key>main/keep/1</Key></Object><Object><Key>main/other</Key></Object></Delete>";
    let md5 = {
        use base64::Engine;
        use md5::Digest;
        base64::engine::general_purpose::STANDARD.encode(md5::Md5::digest(xml.as_bytes()))
    };
    let req = Req::new("POST", "/idrepo?delete").header("content-md5", &md5).body(xml.as_bytes());
    let batch = signed_as(&ids.stack, Ids::key(&carol), req).await;
    let text = batch.text();
    assert_eq!(batch.status, 200, "{text}");
    assert_eq!(tag_values(&text, "Key"), ["main/keep/1", "main/other"], "{text}");
    assert_eq!(tag_values(&text, "Code"), ["AccessDenied"], "{text}");
    assert!(text.contains("<Deleted><Key>main/keep/1</Key>"), "{text}");
    assert_eq!(get(&ids, alice, "/idrepo/main/keep/1").await.status, 404);
    assert_eq!(get(&ids, alice, "/idrepo/main/other").await.status, 200);
}

#[tokio::test]
async fn unknown_keys_wrong_secrets_detached_principals_and_expired_urls_get_their_codes() {
    let ids = start(0, true).await;
    let (alice, bob) = (Ids::key(&ids.alice), Ids::key(&ids.bob));
    let unknown = get(&ids, ("LGNOSUCHKEY000000000", "whatever-secret-000"), "/idrepo/main/a.txt").await;
    assert_eq!((unknown.status, unknown.code()), (403, "InvalidAccessKeyId".to_string()));
    let wrong = get(&ids, (alice.0, "not-the-secret-0000"), "/idrepo?list-type=2").await;
    assert_eq!((wrong.status, wrong.code()), (403, "SignatureDoesNotMatch".to_string()));
    assert_eq!(get(&ids, bob, "/idrepo?list-type=2").await.status, 200);
    ids.srv().client().delete_user_external_principal("bob", &ids.bob.principal_id).await.unwrap();
    let detached = get(&ids, bob, "/idrepo?list-type=2").await;
    assert_eq!((detached.status, detached.code()), (403, "AccessDenied".to_string()));
    assert!(detached.text().contains("not attached"), "{}", detached.text());
    let req = Req::new("GET", "/idrepo?list-type=2");
    let past = SystemTime::now() - Duration::from_secs(3600);
    let (path, headers) =
        sign_request(&req, &ids.stack.host(), alice.0, alice.1, past, "", Some(Duration::from_secs(60)));
    let expired = send(&ids.stack, &path, "GET", &headers, vec![]).await;
    assert_eq!((expired.status, expired.code()), (403, "AccessDenied".to_string()));
    assert!(expired.text().contains("expired"), "{}", expired.text());
}

#[tokio::test]
async fn a_secret_rotated_in_the_key_file_takes_effect_without_restart() {
    let ids = start(30, true).await;
    let alice = Ids::key(&ids.alice);
    assert_eq!(get(&ids, alice, "/idrepo?list-type=2").await.status, 200);
    let mut file = keystore::read(&ids.keys_file, ModeName::Principal).unwrap();
    let entry = file.keys.iter_mut().find(|k| k.access_key_id == ids.alice.access_key_id).unwrap();
    entry.secret_access_key = "alice-rotated-secret-0123456789".into();
    keystore::write(&ids.keys_file, &file).unwrap();
    let rotated = (alice.0, "alice-rotated-secret-0123456789");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while get(&ids, rotated, "/idrepo?list-type=2").await.status != 200 {
        assert!(tokio::time::Instant::now() < deadline, "the new secret never took effect");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let old = get(&ids, alice, "/idrepo?list-type=2").await;
    assert_eq!((old.status, old.code()), (403, "SignatureDoesNotMatch".to_string()));
    // Removing the key from the file refuses it.
    file.keys.retain(|k| k.access_key_id != ids.alice.access_key_id);
    keystore::write(&ids.keys_file, &file).unwrap();
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let gone = get(&ids, rotated, "/idrepo?list-type=2").await;
    assert_eq!((gone.status, gone.code()), (403, "InvalidAccessKeyId".to_string()));
}

#[tokio::test]
async fn two_hundred_concurrent_requests_share_one_login() {
    let ids = Arc::new(start(30, true).await);
    let before = ids.srv().state.external_login_count();
    let mut tasks = Vec::new();
    for _ in 0..200 {
        let ids = ids.clone();
        tasks.push(tokio::spawn(async move {
            let key = Ids::key(&ids.alice);
            signed_as(&ids.stack, key, Req::new("HEAD", "/idrepo")).await.status
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 200);
    }
    assert_eq!(ids.srv().state.external_login_count() - before, 1, "one externalPrincipalLogin for 200 requests");
    assert_eq!(get(&ids, Ids::key(&ids.alice), "/idrepo?list-type=2").await.status, 200);
    assert_eq!(ids.srv().state.external_login_count() - before, 1, "the token is reused");
}

#[tokio::test]
async fn lakefs_refuses_sts_hosts_outside_its_allow_list_and_bad_signatures() {
    let ids = start(30, false).await;
    let refused = get(&ids, Ids::key(&ids.alice), "/idrepo?list-type=2").await;
    assert_eq!((refused.status, refused.code()), (403, "AccessDenied".to_string()));
    assert!(
        refused.text().contains("lakeFS refused: lakeFS answered 401 Unauthorized: invalid token format"),
        "{}",
        refused.text()
    );
    assert_eq!(ids.srv().state.external_login_count(), 0);

    // lakegate's STS endpoint refuses a GetCallerIdentity signed with a wrong secret…
    let sts_host = ids.stack.host();
    let signer = |secret: &'static str| lakefs_api::aws_iam::IdentitySigner {
        sts_host: Box::leak(sts_host.clone().into_boxed_str()),
        region: "us-east-1",
        server_id: "any",
        access_key_id: Box::leak(ids.alice.access_key_id.clone().into_boxed_str()),
        secret_access_key: secret,
        session_token: None,
    };
    let bad = signer("wrong-secret-0123456").token_info(SystemTime::now()).unwrap();
    let path = format!("/?{}", lakefs_embedded::sts::presigned_query(&bad));
    let headers = [("x-lakefs-server-id".to_string(), "any".to_string()), ("host".to_string(), sts_host.clone())];
    let answer = send(&ids.stack, &path, "POST", &headers, vec![]).await;
    assert_eq!(answer.status, 403);
    assert!(answer.text().contains("<Code>SignatureDoesNotMatch</Code>"), "{}", answer.text());
    // …and answers the principal id for a good one.
    let secret: &'static str = Box::leak(ids.alice.secret_access_key.clone().into_boxed_str());
    let good = signer(secret).token_info(SystemTime::now()).unwrap();
    let path = format!("/?{}", lakefs_embedded::sts::presigned_query(&good));
    let answer = send(&ids.stack, &path, "POST", &headers, vec![]).await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert!(answer.text().contains(&format!("<Arn>{}</Arn>", ids.alice.principal_id)));
}

#[tokio::test]
async fn lakefs_key_and_service_modes_for_a_lakefs_without_external_principals() {
    let ids = start(30, true).await;
    let admin = ids.srv().client();
    let lakefs_key = lakegate::cmd::keys::create(
        &admin,
        &ids.keys_file,
        ModeName::Principal,
        "bob",
        None,
        Some(ModeName::LakefsKey),
    )
    .await
    .unwrap();
    let service =
        lakegate::cmd::keys::create(&admin, &ids.keys_file, ModeName::Principal, "bob", None, Some(ModeName::Service))
            .await
            .unwrap();
    let file = keystore::read(&ids.keys_file, ModeName::Principal).unwrap();
    let record = file.keys.iter().find(|k| k.access_key_id == lakefs_key.access_key_id).unwrap();
    assert!(record.lakefs_access_key_id.is_some(), "lakefs-key mode stores bob's new lakeFS key pair");
    let logins = ids.srv().state.login_count();
    // lakefs-key: lakeFS decides as bob (reads yes, writes no), with a login JWT.
    let k = Ids::key(&lakefs_key);
    let listed = get(&ids, k, "/idrepo?list-type=2").await;
    assert_eq!(listed.status, 200, "{}", listed.text());
    assert_eq!(put(&ids, k, "/idrepo/main/x.txt", b"x").await.code(), "AccessDenied");
    assert_eq!(ids.srv().state.login_count() - logins, 1, "one login for the lakeFS key pair");
    assert_eq!(ids.srv().state.external_login_count(), 0, "no external principal involved");
    // service: the gateway's own identity (the admin here) whatever user the key was made for.
    assert_eq!(put(&ids, Ids::key(&service), "/idrepo/main/x.txt", b"x").await.status, 200);
}

#[tokio::test]
async fn the_gateway_can_log_in_to_lakefs_with_aws_credentials() {
    let ids = start(30, true).await;
    let login = AwsIamLogin {
        sts_host: ids.stack.host(),
        region: "us-east-1".into(),
        server_id: ids.srv().state.server_id().to_string(),
        keys: Some((ids.alice.access_key_id.clone(), ids.alice.secret_access_key.clone(), None)),
    };
    let client = ids.srv().client_with(Credentials::AwsIam(login.clone()));
    assert_eq!(client.get_current_user().await.unwrap().user.id, "alice");
    let other_server = AwsIamLogin { server_id: "another-lakefs".into(), ..login };
    let refused = ids.srv().client_with(Credentials::AwsIam(other_server)).get_current_user().await;
    assert_eq!(refused.err().and_then(|e| e.status()).map(|s| s.as_u16()), Some(401));
}

/// Runs `lakegate keys …` against a dev-style data dir; its stdout.
fn keys_cli(dir: &std::path::Path, args: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_lakegate"))
        .arg("keys")
        .args(args)
        .args(["--dev", dir.to_str().unwrap()])
        .env_remove("LAKEGATE_KEYS_FILE")
        .output()
        .unwrap();
    assert!(out.status.success(), "lakegate keys {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test]
async fn the_keys_command_creates_lists_shows_and_deletes() {
    let dir = tempfile::tempdir().unwrap();
    let srv = Server::start(&dir.path().join("data")).await;
    user_with_policy(&srv, "carol", "FSReadAll").await;
    let dev_json = json!({
        "api_endpoint": srv.api_endpoint,
        "lakefs_access_key_id": srv.access_key_id,
        "lakefs_secret_access_key": srv.secret_access_key,
    });
    std::fs::write(dir.path().join("dev.json"), dev_json.to_string()).unwrap();
    let d = dir.path().to_path_buf();
    let created: serde_json::Value = serde_json::from_str(
        &tokio::task::spawn_blocking({
            let d = d.clone();
            move || keys_cli(&d, &["create", "--user", "carol", "--json"])
        })
        .await
        .unwrap(),
    )
    .unwrap();
    let ak = created["access_key_id"].as_str().unwrap().to_string();
    assert_eq!(created["user_id"], "carol");
    assert_eq!(created["principal_id"], format!("arn:lakegate:iam::key/{ak}"));
    assert_eq!(created["secret_access_key"].as_str().unwrap().len(), 40);
    let principals = srv.client().list_user_external_principals("carol", "", None).await.unwrap();
    assert_eq!(principals.results[0].id, created["principal_id"]);
    let (d2, ak2) = (d.clone(), ak.clone());
    let (listed, shown) = tokio::task::spawn_blocking(move || {
        (keys_cli(&d2, &["list", "--json"]), keys_cli(&d2, &["show", &ak2, "--json"]))
    })
    .await
    .unwrap();
    let secret = created["secret_access_key"].as_str().unwrap();
    assert!(!listed.contains(secret) && !shown.contains(secret), "secrets are never shown again");
    let listed: serde_json::Value = serde_json::from_str(&listed).unwrap();
    assert_eq!((listed[0]["access_key_id"].as_str(), listed[0]["attached"].as_bool()), (Some(ak.as_str()), Some(true)));
    let shown: serde_json::Value = serde_json::from_str(&shown).unwrap();
    assert_eq!((shown["mode"].as_str(), shown["user_id"].as_str()), (Some("principal"), Some("carol")));
    let d3 = d.clone();
    let ak3 = ak.clone();
    tokio::task::spawn_blocking(move || keys_cli(&d3, &["delete", &ak3])).await.unwrap();
    assert!(srv.client().list_user_external_principals("carol", "", None).await.unwrap().results.is_empty());
    assert!(keystore::read(&d.join("keys.toml"), ModeName::Principal).unwrap().keys.is_empty());
}
