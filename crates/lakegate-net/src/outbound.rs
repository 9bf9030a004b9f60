//! Every outbound HTTP connection lakegate opens — the lakeFS API, presigned object-store URLs, the
//! embedded server's S3 blockstore, STS and OIDC calls — goes through one client built here.
//!
//! - TLS with rustls (ring) through hyper-rustls; HTTP/1.1 and HTTP/2 chosen by ALPN (plain `http://`
//!   stays HTTP/1.1).
//! - Trusted roots: the system's (`rustls-native-certs`, which reads `SSL_CERT_FILE` /
//!   `SSL_CERT_DIR` instead when they are set, as OpenSSL does) plus every PEM file given with
//!   `--ca-file` (private CAs).
//! - Proxies as the AWS SDKs and curl take them: `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`,
//!   `NO_PROXY` (and their lower-case forms). https targets are tunnelled with `CONNECT`; http targets
//!   are sent to the proxy in absolute form. Proxy credentials come from the proxy URL's userinfo.
//! - Connecting (TCP, proxy tunnel, TLS handshake) is bounded by one timeout; a failure names the
//!   host and the reason (an unknown certificate issuer, say) and is logged once.

mod connector;

use connector::{Connector, ProxyTcp};
use http::{Request, Response, header};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::proxy::matcher::Matcher;
use hyper_util::rt::TokioExecutor;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

pub use connector::ConnectError;

/// How long connecting (TCP, proxy tunnel and TLS handshake together) may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long an idle pooled connection is kept.
pub const POOL_IDLE: Duration = Duration::from_secs(60);

/// Why the outbound settings could not be built.
#[derive(Debug, thiserror::Error)]
pub enum OutboundError {
    #[error("--ca-file {path}: {reason}")]
    CaFile { path: String, reason: String },
    #[error("TLS settings: {0}")]
    Tls(String),
}

/// The settings every outbound client shares: trusted roots and proxies (cheap to clone).
#[derive(Clone)]
pub struct Outbound {
    tls: Arc<rustls::ClientConfig>,
    proxies: Arc<Matcher>,
    connect_timeout: Duration,
}

impl std::fmt::Debug for Outbound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbound")
            .field("proxies", &self.proxies)
            .field("connect_timeout", &self.connect_timeout)
            .finish()
    }
}

static GLOBAL: OnceLock<Outbound> = OnceLock::new();

/// Reads the certificates of a PEM file (for `--ca-file` and its checks).
pub fn read_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, OutboundError> {
    let err = |reason: String| OutboundError::CaFile { path: path.display().to_string(), reason };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
        .and_then(|it| it.collect::<Result<_, _>>())
        .map_err(|e| err(e.to_string()))?;
    if certs.is_empty() {
        return Err(err("no certificate in the file".into()));
    }
    Ok(certs)
}

impl Outbound {
    /// System roots (or `SSL_CERT_FILE`/`SSL_CERT_DIR`), the given CA files, proxies from the
    /// environment.
    pub fn new(ca_files: &[PathBuf]) -> Result<Outbound, OutboundError> {
        let mut roots = rustls::RootCertStore::empty();
        let native = rustls_native_certs::load_native_certs();
        for e in &native.errors {
            tracing::debug!(error = %e, "a system root certificate could not be loaded");
        }
        roots.add_parsable_certificates(native.certs);
        for path in ca_files {
            for cert in read_ca_file(path)? {
                roots
                    .add(cert)
                    .map_err(|e| OutboundError::CaFile { path: path.display().to_string(), reason: e.to_string() })?;
            }
        }
        if roots.is_empty() {
            tracing::warn!(
                "no trusted root certificate found (system store, SSL_CERT_FILE, --ca-file): https calls will fail"
            );
        }
        Outbound::trusting(roots)
    }

    /// Settings trusting exactly `roots`, proxies from the environment.
    fn trusting(roots: rustls::RootCertStore) -> Result<Outbound, OutboundError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| OutboundError::Tls(e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Outbound { tls: Arc::new(tls), proxies: Arc::new(Matcher::from_env()), connect_timeout: CONNECT_TIMEOUT })
    }

    /// Makes `self` the settings [`Outbound::global`] returns (the first call wins; later calls
    /// are ignored, as the clients built before would not see them).
    pub fn install(self) {
        if GLOBAL.set(self).is_err() {
            tracing::debug!("outbound settings were installed already");
        }
    }

    /// The process's settings: those installed at start, else the system's roots and the
    /// environment's proxies.
    pub fn global() -> Outbound {
        GLOBAL
            .get_or_init(|| {
                Outbound::new(&[]).unwrap_or_else(|e| {
                    tracing::error!(error = %e, "outbound TLS settings failed; https calls will fail");
                    Outbound::trusting(rustls::RootCertStore::empty()).expect("ring has the default protocol versions")
                })
            })
            .clone()
    }

    /// The same settings with another connect timeout.
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Outbound {
        self.connect_timeout = timeout;
        self
    }

    /// A pooled keep-alive client for bodies of type `B`.
    pub fn client<B>(&self) -> HttpClient<B>
    where
        B: http_body::Body + Send + 'static + Unpin,
        B::Data: Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let tcp = ProxyTcp::new(self.proxies.clone(), self.connect_timeout);
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config((*self.tls).clone())
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .wrap_connector(tcp);
        let connector = Connector::new(https, self.connect_timeout);
        let http = Client::builder(TokioExecutor::new()).pool_idle_timeout(POOL_IDLE).build(connector);
        HttpClient { http, proxies: self.proxies.clone() }
    }
}

/// A pooled HTTP(S) client on the [`Outbound`] settings (cheap to clone; clones share the pool).
pub struct HttpClient<B> {
    http: Client<Connector, B>,
    proxies: Arc<Matcher>,
}

impl<B> Clone for HttpClient<B> {
    fn clone(&self) -> Self {
        HttpClient { http: self.http.clone(), proxies: self.proxies.clone() }
    }
}

/// Why a request got no answer.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SendError(String);

impl<B> HttpClient<B>
where
    B: http_body::Body + Send + 'static + Unpin,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    /// Sends `req`; an error's text names the host and the cause (whole error chain).
    pub async fn request(&self, mut req: Request<B>) -> Result<Response<Incoming>, SendError> {
        let host = req.uri().authority().map(|a| a.to_string()).unwrap_or_default();
        if req.uri().scheme_str() == Some("http")
            && let Some(auth) = self.proxies.intercept(req.uri()).and_then(|i| i.basic_auth().cloned())
        {
            req.headers_mut().insert(header::PROXY_AUTHORIZATION, auth);
        }
        self.http.request(req).await.map_err(|e| SendError(describe(&host, &e)))
    }
}

/// `host: error: cause: cause…` (the host once, the chain without repeats).
pub fn describe(host: &str, err: &(dyn std::error::Error + 'static)) -> String {
    let text = connector::chain(err);
    if text.contains(host) { text } else { format!("{host}: {text}") }
}

#[cfg(test)]
mod tests;
