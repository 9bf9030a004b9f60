//! The S3 listener's limits and TLS rotation, over real sockets: connections beyond
//! `--max-connections` and requests beyond `--max-requests-per-key` get `503 SlowDown` with
//! `Retry-After`; a request body that stops arriving gets `400 RequestTimeout` and leaves no
//! object; idle connections are closed; a lakeFS that never answers yields `503 SlowDown` after
//! `--request-timeout-secs`; a rotated certificate is served to new connections without a restart.

mod common;

use common::s3::{EMPTY_SHA, Req, Stack, sign_request, signed};
use lakegate::auth::StaticKeys;
use lakegate::gateway::GatewayServer;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn stack(adjust: impl FnOnce(&mut lakegate::config::GatewayArgs)) -> Stack {
    let stack = Stack::start_adjusted(false, true, adjust).await;
    stack.lakefs.client().create_repository(&common::repo_creation("limits")).await.unwrap();
    stack
}

/// The complete head (ending in the blank line) of `req`, signed with the stack's key for
/// `payload_hash`, to write on a raw socket.
fn signed_head(stack: &Stack, req: &Req<'_>, payload_hash: &str) -> String {
    let (ak, sk) = (&stack.access_key_id, &stack.secret_access_key);
    let (path, headers) = sign_request(req, &stack.host(), ak, sk, SystemTime::now(), payload_hash, None);
    let mut head = format!("{} {path} HTTP/1.1\r\n", req.method);
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head + "\r\n"
}

/// The head of a signed request with an unsigned body of `length` bytes (sent separately).
fn upload_head(stack: &Stack, path: &str, length: usize) -> String {
    signed_head(stack, &Req::new("PUT", path).header("content-length", &length.to_string()), "UNSIGNED-PAYLOAD")
}

/// Reads one HTTP/1.1 answer (head + Content-Length body): status, head text, body text.
async fn read_answer(conn: &mut TcpStream) -> (u16, String, String) {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        assert_eq!(conn.read(&mut byte).await.unwrap(), 1, "connection closed inside the head: {buf:?}");
        buf.push(byte[0]);
    }
    let head = String::from_utf8(buf).unwrap();
    let status = head[9..12].parse().unwrap();
    let len = head
        .lines()
        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap()))
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    conn.read_exact(&mut body).await.unwrap();
    (status, head, String::from_utf8_lossy(&body).into_owned())
}

fn metric(name_and_labels: &str) -> f64 {
    let text = lakegate::metrics::metrics().encode();
    text.lines().find_map(|l| l.strip_prefix(name_and_labels).and_then(|v| v.trim().parse().ok())).unwrap_or(0.0)
}

#[tokio::test]
async fn connections_beyond_the_limit_get_slow_down() {
    let stack = stack(|a| a.limits.max_connections = 2).await;
    let mut held =
        vec![TcpStream::connect(stack.s3_addr).await.unwrap(), TcpStream::connect(stack.s3_addr).await.unwrap()];
    tokio::time::sleep(Duration::from_millis(300)).await;
    let refused = signed(&stack, Req::new("GET", "/")).await;
    let headers = format!("{:?}", refused.headers);
    assert_eq!(refused.code(), "SlowDown", "{}", refused.text());
    assert_eq!(refused.status, 503);
    assert_eq!(refused.headers["retry-after"], "1", "{headers}");
    assert_eq!(refused.headers["connection"], "close", "{headers}");
    assert!(refused.headers.contains_key("x-amz-request-id"));
    assert!(metric("lakegate_limit_hits_total{kind=\"connections\"}") >= 1.0);
    // a connection that closes frees its place
    held.pop();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(signed(&stack, Req::new("GET", "/")).await.status, 200);
}

#[tokio::test]
async fn requests_per_key_beyond_the_limit_get_slow_down() {
    let stack = stack(|a| a.limits.max_requests_per_key = 1).await;
    let data = vec![7u8; 100_000];
    let mut upload = TcpStream::connect(stack.s3_addr).await.unwrap();
    upload.write_all(upload_head(&stack, "/limits/main/slow.bin", data.len()).as_bytes()).await.unwrap();
    upload.write_all(&data[..1000]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let refused = signed(&stack, Req::new("GET", "/")).await;
    assert_eq!((refused.status, refused.code().as_str()), (503, "SlowDown"), "{}", refused.text());
    assert_eq!(refused.headers["retry-after"], "1");
    assert!(metric("lakegate_limit_hits_total{kind=\"requests_per_key\"}") >= 1.0);
    upload.write_all(&data[1000..]).await.unwrap();
    let (status, head, body) = read_answer(&mut upload).await;
    assert_eq!(status, 200, "{head}{body}");
    assert_eq!(signed(&stack, Req::new("GET", "/")).await.status, 200, "the slot is free again");
}

#[tokio::test]
async fn stalled_bodies_get_request_timeout_and_silent_connections_close() {
    let stack = stack(|a| a.limits.idle_timeout_secs = 1).await;
    let mut upload = TcpStream::connect(stack.s3_addr).await.unwrap();
    upload.write_all(upload_head(&stack, "/limits/main/stalled.bin", 1000).as_bytes()).await.unwrap();
    upload.write_all(&[1u8; 10]).await.unwrap();
    let started = Instant::now();
    let (status, head, body) = read_answer(&mut upload).await;
    assert_eq!(status, 400, "{head}{body}");
    assert!(body.contains("<Code>RequestTimeout</Code>"), "{head}{body}");
    assert!(head.to_ascii_lowercase().contains("connection: close"), "{head}");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(metric("lakegate_limit_hits_total{kind=\"body_idle\"}") >= 1.0);
    let head_req =
        signed(&stack, Req::new("HEAD", "/limits/main/stalled.bin").header("x-amz-content-sha256", EMPTY_SHA)).await;
    assert_eq!(head_req.status, 404, "no object from a stalled upload");

    // a connection that never sends a request, and one idle after a request, are closed
    let mut silent = TcpStream::connect(stack.s3_addr).await.unwrap();
    let mut after = TcpStream::connect(stack.s3_addr).await.unwrap();
    after.write_all(signed_head(&stack, &Req::new("GET", "/"), EMPTY_SHA).as_bytes()).await.unwrap();
    assert_eq!(read_answer(&mut after).await.0, 200);
    for conn in [&mut silent, &mut after] {
        let mut rest = Vec::new();
        let closed = tokio::time::timeout(Duration::from_secs(10), conn.read_to_end(&mut rest)).await;
        assert!(matches!(closed, Ok(Ok(0))), "closed by the server without a byte: {closed:?}");
    }
}

#[tokio::test]
async fn a_lakefs_that_never_answers_yields_slow_down_after_the_request_timeout() {
    // lakeFS stand-in: accepts connections, never answers
    let hang = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}/api/v1", hang.local_addr().unwrap());
    let held = tokio::spawn(async move {
        let mut conns = Vec::new();
        while let Ok((c, _)) = hang.accept().await {
            conns.push(c);
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let lakefs_stub = common::Server::start(&dir.path().join("data")).await; // only for the args helper
    let (mut args, _) = common::s3::gateway_args(&lakefs_stub, dir.path(), false);
    args.limits.request_timeout_secs = 1;
    let creds = lakefs_api::client::Credentials::Basic { access_key_id: "AK".into(), secret_access_key: "SK".into() };
    let client = lakefs_api::LakeFsClient::new(lakefs_api::client::ClientConfig::new(endpoint, creds)).unwrap();
    let keys = StaticKeys::new([("AKHANG".to_string(), "secret-hang".to_string())]);
    let gw = GatewayServer::bind(&args, Arc::new(keys), client).await.unwrap();
    let stack = Stack::around(lakefs_stub, gw, None, ("AKHANG".into(), "secret-hang".into()), dir);
    let started = Instant::now();
    let answer = signed(&stack, Req::new("GET", "/")).await;
    assert_eq!((answer.status, answer.code().as_str()), (503, "SlowDown"), "{}", answer.text());
    assert_eq!(answer.headers["retry-after"], "1");
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(900) && took < Duration::from_secs(10), "{took:?}");
    assert!(metric("lakegate_limit_hits_total{kind=\"request_timeout\"}") >= 1.0);
    held.abort();
}

/// Whether a TLS handshake with `addr` succeeds when only `der` is trusted.
async fn trusts(addr: std::net::SocketAddr, der: &[u8]) -> bool {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(rustls_pki_types::CertificateDer::from(der.to_vec())).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tcp = TcpStream::connect(addr).await.unwrap();
    let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
    tokio_rustls::TlsConnector::from(Arc::new(cfg)).connect(name, tcp).await.is_ok()
}

#[tokio::test]
async fn a_rotated_certificate_is_served_without_a_restart() {
    let mut stack = Stack::start_adjusted(true, true, |_| {}).await;
    let first = stack.tls_cert_der.clone().unwrap();
    assert!(trusts(stack.s3_addr, &first).await);
    let next = rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    // rotate as operators (and cert-manager) do: write aside, rename over
    for (name, pem) in [("key.pem", next.key_pair.serialize_pem()), ("cert.pem", next.cert.pem())] {
        let tmp = stack.dir().join(format!("{name}.new"));
        std::fs::write(&tmp, pem).unwrap();
        std::fs::rename(&tmp, stack.dir().join(name)).unwrap();
    }
    tokio::time::sleep(lakegate_net::server::tls::RELOAD_CHECK + Duration::from_millis(200)).await;
    let second = next.cert.der().to_vec();
    assert!(trusts(stack.s3_addr, &second).await, "the new certificate is served");
    assert!(!trusts(stack.s3_addr, &first).await, "the old one is not");
    stack.tls_cert_der = Some(second);
    assert_eq!(signed(&stack, Req::new("GET", "/")).await.status, 200);
    assert!(metric("lakegate_tls_certificate_reloads_total{kind=\"ok\"}") >= 1.0);
}
