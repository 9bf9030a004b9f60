//! `lakegate dev --api-tls-cert/--api-tls-key` as a real process: the embedded lakeFS API, and the
//! blob URLs it presigns, served over HTTPS (HTTP/2 or HTTP/1.1 by ALPN) with a certificate a
//! throwaway CA signed (rcgen); the gateway inside `lakegate dev` reaches that API through the
//! outbound client, trusting the CA through `SSL_CERT_FILE`.

mod common;

use bytes::Bytes;
use common::s3::{Req, sign_request};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// A CA and a server certificate it signed for 127.0.0.1 and localhost.
struct Tls {
    ca_der: Vec<u8>,
    cert: PathBuf,
    key: PathBuf,
    /// The CA, plus the CA file the environment already trusts (the SeaweedFS pass's), for the child.
    trust: PathBuf,
}

fn make_tls(dir: &Path) -> Tls {
    use rcgen::{BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.distinguished_name.push(DnType::CommonName, "lakegate dev_api_tls CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()]).unwrap();
    params.distinguished_name.push(DnType::CommonName, "127.0.0.1");
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let cert = params.signed_by(&key, &ca, &ca_key).unwrap();
    let (cert_path, key_path, trust) = (dir.join("api.pem"), dir.join("api.key"), dir.join("trust.pem"));
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    let mut bundle = ca.pem();
    if let Some(inherited) = std::env::var_os("SSL_CERT_FILE").and_then(|f| std::fs::read_to_string(f).ok()) {
        bundle.push('\n');
        bundle.push_str(&inherited);
    }
    std::fs::write(&trust, bundle).unwrap();
    Tls { ca_der: ca.der().to_vec(), cert: cert_path, key: key_path, trust }
}

struct Dev {
    child: Child,
    info: serde_json::Value,
    log: PathBuf,
}

impl Drop for Dev {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Dev {
    fn field(&self, name: &str) -> &str {
        self.info[name].as_str().unwrap_or_else(|| panic!("dev.json has no {name}: {}", self.info))
    }

    /// `host:port` of the lakeFS API.
    fn api_authority(&self) -> String {
        let api = self.field("api_endpoint");
        api.split_once("://").unwrap().1.split('/').next().unwrap().to_string()
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let start = text.len().saturating_sub(4000);
        format!("---- lakegate dev log (tail) ----\n{}", text.get(start..).unwrap_or(&text))
    }
}

fn lakegate_bin() -> String {
    std::env::var("LAKEGATE_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_lakegate").to_string())
}

/// `lakegate dev` on `data` with its API over TLS, trusting `tls`'s CA; returns once dev.json is
/// written (the gateway reached the API over TLS by then: it made its key there).
// The child is owned by `Dev`, whose `Drop` kills and waits for it.
#[allow(clippy::zombie_processes)]
fn start_dev(dir: &Path, tls: &Tls) -> Dev {
    let data = dir.join("data");
    let log = dir.join("lakegate.log");
    let mut child = Command::new(lakegate_bin())
        .args(["dev", "--data"])
        .arg(&data)
        .args(["--api-listen", "127.0.0.1:0", "--listen", "127.0.0.1:0", "--api-tls-cert"])
        .arg(&tls.cert)
        .arg("--api-tls-key")
        .arg(&tls.key)
        .env("SSL_CERT_FILE", &tls.trust)
        .env_remove("SSL_CERT_DIR")
        .env_remove("LAKEGATE_DEV_API_TLS_CERT")
        .env_remove("LAKEGATE_DEV_API_TLS_KEY")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("spawn lakegate dev");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(bytes) = std::fs::read(data.join("dev.json")) {
            return Dev { child, info: serde_json::from_slice(&bytes).expect("dev.json is JSON"), log };
        }
        let exited = child.try_wait().unwrap();
        if exited.is_some() || Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "lakegate dev wrote no dev.json ({exited:?})\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The answer to a request.
struct Answer {
    status: u16,
    version: http::Version,
    body: Vec<u8>,
}

/// One request over TLS to `authority`, trusting only `ca_der`, offering `alpn` (`h2` or
/// `http/1.1`); `path_and_query` is origin-form.
async fn tls_request(
    authority: &str,
    ca_der: &[u8],
    alpn: &[u8],
    method: &str,
    path_and_query: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> Answer {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(rustls_pki_types::CertificateDer::from(ca_der.to_vec())).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    cfg.alpn_protocols = vec![alpn.to_vec()];
    let tcp = tokio::net::TcpStream::connect(authority).await.unwrap();
    let host = authority.rsplit_once(':').unwrap().0.to_string();
    let name = rustls_pki_types::ServerName::try_from(host).unwrap();
    let stream = tokio_rustls::TlsConnector::from(Arc::new(cfg)).connect(name, tcp).await.expect("TLS handshake");
    assert_eq!(
        stream.get_ref().1.alpn_protocol(),
        Some(alpn),
        "the server agrees to {}",
        String::from_utf8_lossy(alpn)
    );
    let io = TokioIo::new(stream);
    let h2 = alpn == b"h2";
    let mut b = if h2 {
        http::Request::builder().uri(format!("https://{authority}{path_and_query}")).version(http::Version::HTTP_2)
    } else {
        http::Request::builder().uri(path_and_query).header("host", authority)
    };
    b = b.method(method);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let req = b.body(Full::new(Bytes::from(body))).unwrap();
    let resp = if h2 {
        let (mut sender, conn) = hyper::client::conn::http2::handshake(TokioExecutor::new(), io).await.unwrap();
        tokio::spawn(conn);
        sender.send_request(req).await.unwrap()
    } else {
        let (mut sender, conn) = hyper::client::conn::http1::handshake(io).await.unwrap();
        tokio::spawn(conn);
        sender.send_request(req).await.unwrap()
    };
    let (status, version) = (resp.status().as_u16(), resp.version());
    let body = resp.into_body().collect().await.unwrap().to_bytes().to_vec();
    Answer { status, version, body }
}

/// One clear-text HTTP/1.1 request to `authority`.
async fn plain_request(
    authority: &str,
    method: &str,
    path_and_query: &str,
    headers: &[(String, String)],
    body: Vec<u8>,
) -> Result<Answer, String> {
    let tcp = tokio::net::TcpStream::connect(authority).await.map_err(|e| e.to_string())?;
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(TokioIo::new(tcp)).await.map_err(|e| e.to_string())?;
    tokio::spawn(conn);
    let mut b = http::Request::builder().method(method).uri(path_and_query);
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        b = b.header("host", authority);
    }
    for (k, v) in headers {
        b = b.header(k.as_str(), v.as_str());
    }
    let resp = sender.send_request(b.body(Full::new(Bytes::from(body))).unwrap()).await.map_err(|e| e.to_string())?;
    let (status, version) = (resp.status().as_u16(), resp.version());
    let body = resp.into_body().collect().await.map_err(|e| e.to_string())?.to_bytes().to_vec();
    Ok(Answer { status, version, body })
}

fn basic(dev: &Dev) -> String {
    common::basic(dev.field("lakefs_access_key_id"), dev.field("lakefs_secret_access_key"))
}

#[tokio::test]
async fn dev_serves_its_lakefs_api_over_https() {
    let dir = tempfile::tempdir().unwrap();
    let tls = make_tls(dir.path());
    let dev = start_dev(dir.path(), &tls);
    let api = dev.field("api_endpoint");
    assert!(api.starts_with("https://127.0.0.1:") && api.ends_with("/api/v1"), "{api}");
    let at = dev.api_authority();

    for alpn in [&b"http/1.1"[..], b"h2"] {
        let health = tls_request(&at, &tls.ca_der, alpn, "GET", "/api/v1/healthcheck", &[], vec![]).await;
        assert_eq!(health.status, 204, "healthcheck over {alpn:?}\n{}", dev.log_tail());
        let expected = if alpn == b"h2" { http::Version::HTTP_2 } else { http::Version::HTTP_11 };
        assert_eq!(health.version, expected);
        let auth = basic(&dev);
        let repos =
            tls_request(&at, &tls.ca_der, alpn, "GET", "/api/v1/repositories", &[("authorization", &auth)], vec![])
                .await;
        assert_eq!(repos.status, 200, "{}", String::from_utf8_lossy(&repos.body));
        let doc: serde_json::Value = serde_json::from_slice(&repos.body).unwrap();
        let ids: Vec<&str> = doc["results"].as_array().unwrap().iter().filter_map(|r| r["id"].as_str()).collect();
        assert!(ids.contains(&"demo"), "{doc}");
        let anonymous = tls_request(&at, &tls.ca_der, alpn, "GET", "/api/v1/repositories", &[], vec![]).await;
        assert_eq!(anonymous.status, 401);
    }

    // Clear text to the TLS port gets no HTTP answer.
    let plain =
        tokio::time::timeout(Duration::from_secs(10), plain_request(&at, "GET", "/api/v1/healthcheck", &[], vec![]))
            .await
            .expect("the TLS port closes a clear-text connection");
    if let Ok(answer) = plain {
        panic!("clear-text HTTP to the TLS port was answered {} {:?}", answer.status, answer.body);
    }
}

#[tokio::test]
async fn s3_put_and_get_through_the_https_lakefs_api() {
    let dir = tempfile::tempdir().unwrap();
    let tls = make_tls(dir.path());
    let dev = start_dev(dir.path(), &tls);
    let s3 = dev.field("s3_endpoint").strip_prefix("http://").expect("the S3 endpoint is clear text").to_string();
    let (ak, sk) = (dev.field("access_key_id").to_string(), dev.field("secret_access_key").to_string());
    let data = common::pattern(300_000, 7);
    let path = "/demo/main/tls/hello.bin";

    let hash = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&data));
    let put = Req::new("PUT", path).body(&data);
    let (pq, headers) = sign_request(&put, &s3, &ak, &sk, SystemTime::now(), &hash, None);
    let answer = plain_request(&s3, "PUT", &pq, &headers, data.clone()).await.unwrap();
    assert_eq!(answer.status, 200, "PutObject: {}\n{}", String::from_utf8_lossy(&answer.body), dev.log_tail());

    let get = Req::new("GET", path);
    let (pq, headers) = sign_request(&get, &s3, &ak, &sk, SystemTime::now(), common::s3::EMPTY_SHA, None);
    let answer = plain_request(&s3, "GET", &pq, &headers, vec![]).await.unwrap();
    assert_eq!(answer.status, 200, "GetObject: {}\n{}", String::from_utf8_lossy(&answer.body), dev.log_tail());
    assert!(answer.body == data, "GetObject returns the bytes put ({} bytes back)", answer.body.len());

    // The URLs the API presigns are https too (on the local blob store: the API's own /blob/…).
    let auth = basic(&dev);
    let at = dev.api_authority();
    let stat_path = "/api/v1/repositories/demo/refs/main/objects/stat?path=tls%2Fhello.bin&presign=true";
    let stat = tls_request(&at, &tls.ca_der, b"h2", "GET", stat_path, &[("authorization", &auth)], vec![]).await;
    assert_eq!(stat.status, 200, "{}", String::from_utf8_lossy(&stat.body));
    let stat: serde_json::Value = serde_json::from_slice(&stat.body).unwrap();
    let url = stat["physical_address"].as_str().unwrap();
    if std::env::var("LAKEGATE_DEV_BLOCKSTORE").as_deref() == Ok("s3") {
        let store = std::env::var("LAKEGATE_DEV_S3_ENDPOINT").unwrap();
        assert!(url.starts_with(store.trim_end_matches('/')), "{url}");
    } else {
        let rest = url.strip_prefix(&format!("https://{at}")).unwrap_or_else(|| panic!("{url} is on the https API"));
        assert!(rest.starts_with("/blob/"), "{url}");
        // fetched over HTTP/2: the host the signature covers is the :authority
        let blob = tls_request(&at, &tls.ca_der, b"h2", "GET", rest, &[], vec![]).await;
        assert_eq!(blob.status, 200, "{}", String::from_utf8_lossy(&blob.body));
        assert!(blob.body == data, "the presigned URL returns the bytes put");
    }
}

#[test]
fn api_tls_files_that_do_not_load_stop_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let tls = make_tls(dir.path());
    let other = tempfile::tempdir().unwrap();
    let wrong_key = make_tls(other.path()).key;
    let run = |extra: &[&std::ffi::OsStr]| {
        Command::new(lakegate_bin())
            .args(["dev", "--data"])
            .arg(dir.path().join("data"))
            .args(["--api-listen", "127.0.0.1:0", "--listen", "127.0.0.1:0"])
            .args(extra)
            .env_remove("LAKEGATE_DEV_API_TLS_CERT")
            .env_remove("LAKEGATE_DEV_API_TLS_KEY")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    // a key of another certificate
    let out = run(&["--api-tls-cert".as_ref(), tls.cert.as_os_str(), "--api-tls-key".as_ref(), wrong_key.as_os_str()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("--api-tls-cert"), "{err}");
    // the certificate without its key
    let out = run(&["--api-tls-cert".as_ref(), tls.cert.as_os_str()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("--api-tls-key"), "{err}");
    assert!(!dir.path().join("data").join("dev.json").exists(), "nothing started");
}
