//! What a presigned URL allows, on the blockstore under test (the local blob store, or SeaweedFS in
//! the test command's second pass): a presigned PUT carrying an unsigned `x-amz-*` header, a body
//! shorter than its `Content-Length`, or an expired URL stores nothing.

mod common;

use common::*;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// A connection to the host of `url` (TLS for https, trusting the system's roots or the CA file
/// `SSL_CERT_FILE` names, as the test command's SeaweedFS pass sets) and the rest of the URL.
async fn connect(url: &str) -> (Box<dyn Stream>, String, String) {
    let (tls, rest) = match url.strip_prefix("https://") {
        Some(rest) => (true, rest),
        None => (false, url.strip_prefix("http://").unwrap()),
    };
    let (host, path) = rest.split_at(rest.find('/').unwrap());
    let tcp = tokio::net::TcpStream::connect(host).await.unwrap();
    if !tls {
        return (Box::new(tcp), host.to_string(), path.to_string());
    }
    let mut roots = rustls::RootCertStore::empty();
    roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    let cfg =
        rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
    let name =
        rustls_pki_types::ServerName::try_from(host.rsplit_once(':').map_or(host, |(h, _)| h).to_string()).unwrap();
    let stream = tokio_rustls::TlsConnector::from(std::sync::Arc::new(cfg)).connect(name, tcp).await.unwrap();
    (Box::new(stream), host.to_string(), path.to_string())
}

async fn presigned_put(server: &Server, path: &str) -> (String, lakefs_api::dto::StagingLocation) {
    let c = server.client();
    let loc = c.get_physical_address("store", "main", path, true).await.unwrap();
    (loc.presigned_url.clone().unwrap(), loc)
}

async fn readable(server: &Server, loc: lakefs_api::dto::StagingLocation, path: &str) -> bool {
    let meta = lakefs_api::dto::StagingMetadata {
        staging: loc,
        checksum: "x".into(),
        size_bytes: 5,
        user_metadata: None,
        content_type: None,
        mtime: None,
        force: None,
    };
    let c = server.client();
    c.link_physical_address("store", "main", path, &meta, false).await.unwrap();
    c.get_object("store", "main", path, None, false).await.is_ok()
}

#[tokio::test]
async fn presigned_puts_refuse_unsigned_amz_headers() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path()).await;
    server.client().create_repository(&repo_creation("store")).await.unwrap();
    let (url, loc) = presigned_put(&server, "meta").await;
    let (status, _, body) = raw(&raw_client(), "PUT", &url, &[("x-amz-meta-color", "red")], b"hello".to_vec()).await;
    assert_eq!(status, 403, "{}", String::from_utf8_lossy(&body));
    assert!(!readable(&server, loc, "meta").await, "nothing was stored");
    let (url, _) = presigned_put(&server, "ok").await;
    assert_eq!(raw(&raw_client(), "PUT", &url, &[], b"hello".to_vec()).await.0, 200);
}

#[tokio::test]
async fn a_truncated_presigned_put_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path()).await;
    server.client().create_repository(&repo_creation("store")).await.unwrap();
    let (url, loc) = presigned_put(&server, "short").await;
    let (mut tcp, host, path) = connect(&url).await;
    let head = format!("PUT {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 10\r\n\r\nhello");
    tcp.write_all(head.as_bytes()).await.unwrap();
    tcp.shutdown().await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), tcp.read_to_end(&mut answer)).await;
    assert!(!String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200"), "a short body is not accepted");
    assert!(!readable(&server, loc, "short").await, "nothing was stored");
}

#[tokio::test]
async fn expired_presigned_urls_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_opts(dir.path(), Some(Duration::from_secs(1))).await;
    server.client().create_repository(&repo_creation("store")).await.unwrap();
    let (url, loc) = presigned_put(&server, "late").await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (status, _, _) = raw(&raw_client(), "PUT", &url, &[], b"hello".to_vec()).await;
    assert_eq!(status, 403);
    assert!(!readable(&server, loc, "late").await, "nothing was stored");
}
