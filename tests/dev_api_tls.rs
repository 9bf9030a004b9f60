//! `lakegate dev --api-tls-cert/--api-tls-key` as a real process: the embedded lakeFS API, and the
//! blob URLs it presigns, served over HTTPS (HTTP/2 or HTTP/1.1 by ALPN) with a certificate a
//! throwaway CA signed (rcgen); the gateway inside `lakegate dev` reaches that API through the
//! outbound client, trusting the CA through `SSL_CERT_FILE`.

mod common;

use common::devproc::{Answer, Dev, plain_request};
use common::tls::{Tls, make_tls};

use bytes::Bytes;
use common::s3::{Req, sign_request};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::ffi::OsStr;
use std::path::Path;
use std::time::{Duration, SystemTime};

/// `lakegate dev` on `dir/data` with its API over TLS, trusting `tls`'s CA; returns once dev.json
/// is written (the gateway reached the API over TLS by then: it made its key there).
fn start_dev(dir: &Path, tls: &Tls) -> Dev {
    let args = [OsStr::new("--api-tls-cert"), tls.cert.as_os_str(), OsStr::new("--api-tls-key"), tls.key.as_os_str()];
    Dev::start(dir, &args, &[("SSL_CERT_FILE", tls.trust.as_os_str())])
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
    let cfg = common::tls::client_config(ca_der, alpn);
    let tcp = tokio::net::TcpStream::connect(authority).await.unwrap();
    let host = authority.rsplit_once(':').unwrap().0.to_string();
    let name = rustls_pki_types::ServerName::try_from(host).unwrap();
    let stream = tokio_rustls::TlsConnector::from(cfg).connect(name, tcp).await.expect("TLS handshake");
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
    let (status, version, headers) = (resp.status().as_u16(), resp.version(), resp.headers().clone());
    let body = resp.into_body().collect().await.unwrap().to_bytes().to_vec();
    Answer { status, version, headers, body }
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
        std::process::Command::new(common::devproc::lakegate_bin())
            .args(["dev", "--data"])
            .arg(dir.path().join("data"))
            .args(["--api-listen", "127.0.0.1:0", "--listen", "127.0.0.1:0"])
            .args(extra)
            .env_remove("LAKEGATE_DEV_API_TLS_CERT")
            .env_remove("LAKEGATE_DEV_API_TLS_KEY")
            .stdin(std::process::Stdio::null())
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
