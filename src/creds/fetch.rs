//! The few HTTP(S) requests `lakegate creds` makes (OIDC discovery, the login endpoint): one
//! HTTP/1.1 request per connection, TLS with the system's trusted roots (plus `--ca-bundle`).

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::rt::TokioIo;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};

/// How long one request may take.
const TIMEOUT: Duration = Duration::from_secs(30);
/// The largest answer read.
const MAX_ANSWER: usize = 1 << 20;

/// An answer.
pub struct Answer {
    pub status: http::StatusCode,
    pub body: Bytes,
}

fn tls_config(ca_bundle: Option<&Path>) -> Result<rustls::ClientConfig, String> {
    let mut roots = rustls::RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    roots.add_parsable_certificates(native.certs);
    if let Some(file) = ca_bundle {
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(file)
            .and_then(|it| it.collect::<Result<_, _>>())
            .map_err(|e| format!("--ca-bundle {}: {e}", file.display()))?;
        for c in certs {
            roots.add(c).map_err(|e| format!("--ca-bundle {}: {e}", file.display()))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

async fn exchange<S>(io: S, req: http::Request<Full<Bytes>>) -> Result<Answer, String>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(TokioIo::new(io)).await.map_err(|e| e.to_string())?;
    tokio::spawn(conn);
    let resp = sender.send_request(req).await.map_err(|e| e.to_string())?;
    let status = resp.status();
    let body = Limited::new(resp.into_body(), MAX_ANSWER).collect().await.map_err(|e| e.to_string())?.to_bytes();
    Ok(Answer { status, body })
}

/// Sends `method url` with `body` (JSON when `json`).
pub async fn fetch(
    method: http::Method,
    url: &str,
    body: Option<Vec<u8>>,
    ca_bundle: Option<&Path>,
) -> Result<Answer, String> {
    let uri: http::Uri = url.parse().map_err(|e| format!("{url:?}: {e}"))?;
    let https = match uri.scheme_str() {
        Some("https") => true,
        Some("http") => false,
        _ => return Err(format!("{url:?}: only http:// and https:// URLs")),
    };
    let host = uri.host().ok_or_else(|| format!("{url:?}: no host"))?.trim_matches(['[', ']']).to_string();
    let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
    let mut builder = http::Request::builder()
        .method(method)
        .uri(uri.path_and_query().map_or("/", |p| p.as_str()))
        .header(http::header::HOST, uri.authority().map_or(host.as_str(), |a| a.as_str()))
        .header(http::header::ACCEPT, "application/json")
        .header(http::header::USER_AGENT, concat!("lakegate/", env!("CARGO_PKG_VERSION")));
    if body.is_some() {
        builder = builder.header(http::header::CONTENT_TYPE, "application/json");
    }
    let req = builder.body(Full::new(Bytes::from(body.unwrap_or_default()))).map_err(|e| e.to_string())?;
    let work = async {
        let tcp = tokio::net::TcpStream::connect((host.as_str(), port)).await.map_err(|e| e.to_string())?;
        if !https {
            return exchange(tcp, req).await;
        }
        let connector = tokio_rustls::TlsConnector::from(Arc::new(tls_config(ca_bundle)?));
        let name = ServerName::try_from(host.clone()).map_err(|e| e.to_string())?;
        let tls = connector.connect(name, tcp).await.map_err(|e| e.to_string())?;
        exchange(tls, req).await
    };
    match tokio::time::timeout(TIMEOUT, work).await {
        Ok(answer) => answer.map_err(|e| format!("{url}: {e}")),
        Err(_) => Err(format!("{url}: no answer within {TIMEOUT:?}")),
    }
}
