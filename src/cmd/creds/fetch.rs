//! The few HTTP(S) requests `lakegate creds` makes (OIDC discovery, the login endpoint), on
//! lakegate's outbound client: TLS with the system's trusted roots (plus `--ca-bundle`), proxies
//! from the environment.

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use lakegate_net::outbound::Outbound;
use std::path::Path;
use std::time::Duration;

/// How long one request may take.
const TIMEOUT: Duration = Duration::from_secs(30);
/// The largest answer read.
const MAX_ANSWER: usize = 1 << 20;

/// An answer.
pub struct Answer {
    pub status: http::StatusCode,
    pub body: Bytes,
}

/// Sends `method url` with `body` (JSON when `json`), on lakegate's outbound client (system roots
/// or `SSL_CERT_FILE`, plus `--ca-bundle`; proxies from the environment).
pub async fn fetch(
    method: http::Method,
    url: &str,
    body: Option<Vec<u8>>,
    ca_bundle: Option<&Path>,
) -> Result<Answer, String> {
    let uri: http::Uri = url.parse().map_err(|e| format!("{url:?}: {e}"))?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.host().is_none() {
        return Err(format!("{url:?}: only http:// and https:// URLs"));
    }
    let outbound = match ca_bundle {
        Some(file) => {
            Outbound::new(&[file.to_path_buf()]).map_err(|e| e.to_string().replace("--ca-file", "--ca-bundle"))?
        }
        None => Outbound::global(),
    };
    let mut builder = http::Request::builder()
        .method(method)
        .uri(uri)
        .header(http::header::ACCEPT, "application/json")
        .header(http::header::USER_AGENT, concat!("lakegate/", env!("CARGO_PKG_VERSION")));
    if body.is_some() {
        builder = builder.header(http::header::CONTENT_TYPE, "application/json");
    }
    let req = builder.body(Full::new(Bytes::from(body.unwrap_or_default()))).map_err(|e| e.to_string())?;
    let work = async {
        let resp = outbound.client().request(req).await.map_err(|e| e.to_string())?;
        let status = resp.status();
        let body = Limited::new(resp.into_body(), MAX_ANSWER).collect().await.map_err(|e| e.to_string())?.to_bytes();
        Ok::<_, String>(Answer { status, body })
    };
    match tokio::time::timeout(TIMEOUT, work).await {
        Ok(answer) => answer.map_err(|e| format!("{url}: {e}")),
        Err(_) => Err(format!("{url}: no answer within {TIMEOUT:?}")),
    }
}
