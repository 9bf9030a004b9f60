//! The gateway's outbound connections as real deployments have them: `lakegate serve` in front of
//! a lakeFS API served over https (the embedded one, `lakegate dev --api-tls-cert`), trusting its
//! CA with `--ca-file`; the same gateway without that CA answers `503` naming the host, within the
//! connect timeout, instead of hanging; and every outbound call through an HTTP(S) proxy taken
//! from `HTTPS_PROXY`/`HTTP_PROXY`, as corporate networks and Kubernetes egress proxies need.

mod common;

use common::devproc::{Answer, Dev, Serve, plain_request};
use common::s3::{EMPTY_SHA, Req, sign_request};
use common::tls::make_tls;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

const KEY_ID: &str = "AKIAOUTBOUNDTEST0001";
const SECRET: &str = "outbound-test-secret-0123456789abcdef";

/// A key file with one key that acts as the gateway's own lakeFS identity.
fn service_keys(dir: &Path) -> PathBuf {
    let path = dir.join("serve-keys.toml");
    let text =
        format!("[[keys]]\naccess_key_id = \"{KEY_ID}\"\nsecret_access_key = \"{SECRET}\"\nmode = \"service\"\n");
    std::fs::write(&path, text).unwrap();
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    path
}

/// `lakegate serve` in front of `dev`'s lakeFS API with `extra` arguments and environment.
fn serve(dir: &Path, dev: &Dev, extra: &[&OsStr], env: &[(&str, &OsStr)]) -> Serve {
    let keys = service_keys(dir);
    let mut args: Vec<&OsStr> = vec![
        OsStr::new("--lakefs-endpoint"),
        OsStr::new(dev.field("api_endpoint")),
        OsStr::new("--lakefs-access-key-id"),
        OsStr::new(dev.field("lakefs_access_key_id")),
        OsStr::new("--lakefs-secret-access-key"),
        OsStr::new(dev.field("lakefs_secret_access_key")),
        OsStr::new("--keys-file"),
        keys.as_os_str(),
        OsStr::new("--identity-mode"),
        OsStr::new("service"),
    ];
    args.extend_from_slice(extra);
    Serve::start(dir, &args, env)
}

/// A request signed with `(key id, secret)` to the S3 endpoint `s3` (`host:port`).
async fn s3_request(s3: &str, key: (&str, &str), method: &str, path: &str, body: &[u8]) -> Answer {
    let hash =
        if body.is_empty() { EMPTY_SHA.to_string() } else { hex::encode(<sha2::Sha256 as sha2::Digest>::digest(body)) };
    let req = Req::new(method, path).body(body);
    let (pq, headers) = sign_request(&req, s3, key.0, key.1, SystemTime::now(), &hash, None);
    plain_request(s3, method, &pq, &headers, body.to_vec()).await.expect("the gateway answers")
}

#[tokio::test]
async fn serve_reaches_an_https_lakefs_and_names_the_host_it_cannot_trust() {
    let dir = tempfile::tempdir().unwrap();
    let tls = make_tls(dir.path());
    let api_tls =
        [OsStr::new("--api-tls-cert"), tls.cert.as_os_str(), OsStr::new("--api-tls-key"), tls.key.as_os_str()];
    let dev = Dev::start(dir.path(), &api_tls, &[("SSL_CERT_FILE", tls.trust.as_os_str())]);
    assert!(dev.field("api_endpoint").starts_with("https://"), "{}", dev.field("api_endpoint"));

    // trusted through --ca-file: objects go through
    let ok_dir = dir.path().join("trusted");
    std::fs::create_dir_all(&ok_dir).unwrap();
    let ok = serve(&ok_dir, &dev, &[OsStr::new("--ca-file"), tls.ca.as_os_str()], &[]);
    let data = common::pattern(200_000, 3);
    let put = s3_request(&ok.s3, (KEY_ID, SECRET), "PUT", "/demo/main/outbound/a.bin", &data).await;
    assert_eq!(put.status, 200, "{}\n{}", put.text(), ok.log_tail());
    let get = s3_request(&ok.s3, (KEY_ID, SECRET), "GET", "/demo/main/outbound/a.bin", b"").await;
    assert_eq!(get.status, 200, "{}", get.text());
    assert!(get.body == data, "the bytes put come back ({} bytes)", get.body.len());

    // another CA only: 503 with Retry-After naming lakeFS's host and the certificate problem
    let other = tempfile::tempdir().unwrap();
    let wrong_ca = make_tls(other.path()).ca;
    let bad_dir = dir.path().join("untrusted");
    std::fs::create_dir_all(&bad_dir).unwrap();
    let bad = serve(&bad_dir, &dev, &[], &[("SSL_CERT_FILE", wrong_ca.as_os_str())]);
    let started = Instant::now();
    let refused = s3_request(&bad.s3, (KEY_ID, SECRET), "GET", "/demo/main/outbound/a.bin", b"").await;
    let elapsed = started.elapsed();
    assert_eq!(refused.status, 503, "{}\n{}", refused.text(), bad.log_tail());
    assert!(refused.headers.contains_key("retry-after"), "{:?}", refused.headers);
    let text = refused.text();
    assert!(text.contains(&dev.api_authority()), "names lakeFS's host: {text}");
    assert!(text.to_lowercase().contains("certificate"), "says why: {text}");
    assert!(elapsed < Duration::from_secs(15), "answered within the connect timeout: {elapsed:?}");
    let log = std::fs::read_to_string(&bad.log).unwrap();
    assert!(log.contains("outbound connection failed") && log.contains(&dev.api_authority()), "{log}");
}

// multi-threaded: the proxy's tasks run while the test waits for dev.json synchronously
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbound_calls_go_through_the_proxy_the_environment_names() {
    for https in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let tls = make_tls(dir.path());
        let proxy = common::proxy::start().await;
        let url = proxy.url();
        let mut args: Vec<&OsStr> = Vec::new();
        let mut env: Vec<(&str, &OsStr)> = vec![("SSL_CERT_FILE", tls.trust.as_os_str())];
        if https {
            args = vec![
                OsStr::new("--api-tls-cert"),
                tls.cert.as_os_str(),
                OsStr::new("--api-tls-key"),
                tls.key.as_os_str(),
            ];
            env.push(("HTTPS_PROXY", OsStr::new(&url)));
        } else {
            env.push(("HTTP_PROXY", OsStr::new(&url)));
        }
        let dev = Dev::start(dir.path(), &args, &env);
        let s3 = dev.field("s3_endpoint").strip_prefix("http://").unwrap().to_string();
        let key = (dev.field("access_key_id"), dev.field("secret_access_key"));
        let put = s3_request(&s3, key, "PUT", "/demo/main/proxied.txt", b"through the proxy").await;
        assert_eq!(put.status, 200, "{}\n{}", put.text(), dev.log_tail());
        let get = s3_request(&s3, key, "GET", "/demo/main/proxied.txt", b"").await;
        assert_eq!((get.status, get.body.as_slice()), (200, &b"through the proxy"[..]), "{}", get.text());
        let api = dev.api_authority();
        let seen = proxy.seen();
        // the lakeFS API and the presigned data path both went through it: CONNECT tunnels to https,
        // absolute-form requests for http
        // (on the SeaweedFS pass the presigned URLs are the store's, https)
        let store = std::env::var("LAKEGATE_DEV_S3_ENDPOINT")
            .ok()
            .filter(|_| std::env::var("LAKEGATE_DEV_BLOCKSTORE").as_deref() == Ok("s3"));
        let store =
            store.as_deref().and_then(|e| e.strip_prefix("https://")).map(|r| r.trim_end_matches('/').to_string());
        let expected: Vec<String> = match (https, store) {
            (true, Some(store)) => vec![format!("CONNECT {api} "), format!("CONNECT {store} ")],
            (true, None) => vec![format!("CONNECT {api} ")],
            (false, Some(_)) => vec![format!(" http://{api}/api/v1/")],
            (false, None) => vec![format!(" http://{api}/api/v1/"), format!("PUT http://{api}/blob/")],
        };
        for e in expected {
            assert!(seen.iter().any(|l| l.contains(&e)), "https {https}: no {e:?} in what the proxy saw: {seen:?}");
        }
    }
}
