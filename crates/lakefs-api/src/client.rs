//! Typed async client for the lakeFS REST API (`/api/v1`, lakeFS's `api/swagger.yml`) on a pooled
//! keep-alive hyper-util client.
//!
//! Auth is HTTP basic (access key pair) or a bearer JWT obtained from `POST /auth/login` and renewed
//! before it expires. Every call has a timeout; idempotent calls are retried with exponential
//! backoff on 429, 503 and connection errors only.

use super::dto::*;
use super::error::LakeFsError;
use base64::Engine;
use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, header};
use http_body_util::{BodyExt, Full, combinators::UnsyncBoxBody};
use hyper::body::Incoming;
use lakegate_net::util::now_unix;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;

/// Request body type: any stream of bytes (JSON bodies are one chunk).
pub type ReqBody = UnsyncBoxBody<Bytes, Box<dyn std::error::Error + Send + Sync>>;
type Result<T> = std::result::Result<T, LakeFsError>;

/// Characters escaped in path segments and query values.
const ESCAPE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');
/// Renew a login token this long before it expires.
const TOKEN_RENEW_MARGIN: i64 = 5 * 60;

/// How the client authenticates.
#[derive(Clone)]
pub enum Credentials {
    /// HTTP basic auth with a lakeFS access key pair.
    Basic { access_key_id: String, secret_access_key: String },
    /// A JWT from `login` with this key pair, renewed before expiry.
    Login { access_key_id: String, secret_access_key: String },
    /// A fixed bearer token.
    Token(String),
    /// A JWT from `externalPrincipalLogin` with an identity token signed by AWS credentials
    /// (lakeFS's AWS IAM login), renewed before it expires.
    AwsIam(AwsIamLogin),
}

/// Where [`Credentials::AwsIam`] signs its identity tokens.
#[derive(Clone)]
pub struct AwsIamLogin {
    /// The STS `host[:port]` lakeFS verifies the token with (e.g. `sts.amazonaws.com`).
    pub sts_host: String,
    pub region: String,
    /// The `X-LakeFS-Server-ID` lakeFS requires (by default the host of its endpoint).
    pub server_id: String,
    /// `(access key id, secret, session token)`; `None`: the AWS SDK's default credentials chain
    /// ([`super::aws_creds`]: environment, shared files and profiles, web identity token file,
    /// container credentials endpoint, instance metadata), asked at each login and cached until
    /// shortly before the credentials expire.
    pub keys: Option<(String, String, Option<String>)>,
}

impl AwsIamLogin {
    /// The AWS credentials to sign with: the explicit keys, else the default chain's.
    async fn credentials(&self) -> Result<aws_credential_types::Credentials> {
        if let Some((ak, sk, token)) = &self.keys {
            return Ok(aws_credential_types::Credentials::new(ak, sk, token.clone(), None, "lakegate"));
        }
        let chain = super::aws_creds::AwsCredentialChain::process(&self.region).await;
        chain.credentials().await.map_err(|e| LakeFsError::Request(format!("AWS IAM login: {e}")))
    }

    /// The `externalPrincipalLogin` body, signed now.
    async fn login_information(&self) -> Result<super::auth_dto::ExternalLoginInformation> {
        let creds = self.credentials().await?;
        let signer = super::aws_iam::IdentitySigner {
            sts_host: &self.sts_host,
            region: &self.region,
            server_id: &self.server_id,
            access_key_id: creds.access_key_id(),
            secret_access_key: creds.secret_access_key(),
            session_token: creds.session_token(),
        };
        let request =
            signer.identity_request(std::time::SystemTime::now()).map_err(|e| LakeFsError::Request(e.to_string()))?;
        Ok(super::auth_dto::ExternalLoginInformation { identity_request: request, token_expiration_duration: None })
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::Basic { access_key_id, .. } => write!(f, "Basic({access_key_id})"),
            Credentials::Login { access_key_id, .. } => write!(f, "Login({access_key_id})"),
            Credentials::Token(_) => write!(f, "Token(…)"),
            Credentials::AwsIam(l) => write!(f, "AwsIam(sts {}, server id {})", l.sts_host, l.server_id),
        }
    }
}

/// Client settings.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Base URL ending in `/api/v1`.
    pub endpoint: String,
    pub credentials: Credentials,
    /// Per-attempt limit for receiving the answer's headers.
    pub timeout: Duration,
    /// Extra attempts for retryable failures of idempotent calls.
    pub retries: u32,
    /// First backoff delay (doubled each retry).
    pub backoff: Duration,
}

impl ClientConfig {
    pub fn new(endpoint: impl Into<String>, credentials: Credentials) -> ClientConfig {
        ClientConfig {
            endpoint: endpoint.into().trim_end_matches('/').to_string(),
            credentials,
            timeout: Duration::from_secs(30),
            retries: 3,
            backoff: Duration::from_millis(100),
        }
    }
}

/// `listObjects` parameters.
#[derive(Debug, Clone, Default)]
pub struct ListObjectsParams<'a> {
    pub prefix: &'a str,
    pub after: &'a str,
    pub delimiter: &'a str,
    pub amount: Option<u32>,
    pub presign: bool,
    pub user_metadata: bool,
}

/// An `uploadObject` request: the body streams through lakeFS (used when the storage cannot presign).
pub struct Upload {
    pub body: ReqBody,
    /// Exact body length (sent as `Content-Length`).
    pub length: u64,
    pub content_type: String,
    /// User metadata, sent as `x-lakefs-meta-<key>` headers.
    pub metadata: ObjectUserMetadata,
    /// `If-None-Match: *`.
    pub if_absent: bool,
}

/// The lakeFS client (cheap to clone; clones share the connection pool and token).
#[derive(Clone)]
pub struct LakeFsClient {
    http: lakegate_net::outbound::HttpClient<ReqBody>,
    cfg: Arc<ClientConfig>,
    token: Arc<Mutex<Option<(String, i64)>>>,
}

fn seg(s: &str) -> String {
    utf8_percent_encode(s, ESCAPE).to_string()
}

fn json_body<T: Serialize>(value: &T) -> Result<ReqBody> {
    let bytes = serde_json::to_vec(value).map_err(|e| LakeFsError::Request(e.to_string()))?;
    Ok(Full::new(Bytes::from(bytes)).map_err(|never| match never {}).boxed_unsync())
}

/// An empty request body.
pub fn empty_body() -> ReqBody {
    Full::new(Bytes::new()).map_err(|never| match never {}).boxed_unsync()
}

/// A query string from `(name, value)` pairs, skipping `None` values.
fn query(pairs: &[(&str, Option<String>)]) -> String {
    let parts: Vec<String> = pairs.iter().filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={}", seg(v)))).collect();
    if parts.is_empty() { String::new() } else { format!("?{}", parts.join("&")) }
}

fn nonempty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

/// The lakeFS operation id (as in its OpenAPI spec) of a call, for metrics.
fn operation_id(method: &Method, path_and_query: &str) -> String {
    let path = path_and_query.split('?').next().unwrap_or_default();
    crate::operations::Route::parse(method, &format!("/api/v1{path}"))
        .map_or_else(|| "other".to_string(), |r| r.operation_id().to_string())
}

/// Whether a call may be retried.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Idempotent {
    Yes,
    No,
    /// Not idempotent, and lakeFS may take long to answer (assembling a multipart object).
    Slow,
}

/// How long lakeFS may take to answer a [`Idempotent::Slow`] call.
pub const SLOW_CALL_TIMEOUT: Duration = Duration::from_secs(30 * 60);

impl LakeFsClient {
    /// A client on the process's outbound settings ([`lakegate_net::outbound::Outbound::global`]).
    pub fn new(cfg: ClientConfig) -> Result<LakeFsClient> {
        LakeFsClient::with_outbound(cfg, &lakegate_net::outbound::Outbound::global())
    }

    /// A client on the given outbound settings (trusted roots, proxies).
    pub fn with_outbound(cfg: ClientConfig, outbound: &lakegate_net::outbound::Outbound) -> Result<LakeFsClient> {
        let scheme_ok = cfg.endpoint.starts_with("http://") || cfg.endpoint.starts_with("https://");
        if !scheme_ok || cfg.endpoint.parse::<http::Uri>().is_err() {
            return Err(LakeFsError::Request(format!("endpoint {} must be an http:// or https:// URL", cfg.endpoint)));
        }
        let http =
            outbound.clone().with_connect_timeout(cfg.timeout.min(lakegate_net::outbound::CONNECT_TIMEOUT)).client();
        Ok(LakeFsClient { http, cfg: Arc::new(cfg), token: Arc::new(Mutex::new(None)) })
    }

    /// The `Authorization` header for the next call (logging in when needed).
    async fn authorization(&self) -> Result<Option<HeaderValue>> {
        let value = match &self.cfg.credentials {
            Credentials::Basic { access_key_id, secret_access_key } => {
                let raw = format!("{access_key_id}:{secret_access_key}");
                format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(raw))
            }
            Credentials::Token(t) => format!("Bearer {t}"),
            Credentials::Login { .. } | Credentials::AwsIam(_) => {
                let mut guard = self.token.lock().await;
                let fresh = guard.as_ref().is_some_and(|(_, exp)| *exp - TOKEN_RENEW_MARGIN > now_unix());
                if !fresh {
                    let t = self.log_in().await?;
                    *guard = Some((t.token, t.token_expiration.unwrap_or(i64::MAX)));
                }
                format!("Bearer {}", guard.as_ref().map(|(t, _)| t.as_str()).unwrap_or_default())
            }
        };
        HeaderValue::from_str(&value).map(Some).map_err(|e| LakeFsError::Request(e.to_string()))
    }

    /// A fresh token for the login credentials.
    async fn log_in(&self) -> Result<AuthenticationToken> {
        match &self.cfg.credentials {
            Credentials::Login { access_key_id, secret_access_key } => {
                self.login(access_key_id, secret_access_key).await
            }
            Credentials::AwsIam(l) => self.external_principal_login(&l.login_information().await?).await,
            _ => Err(LakeFsError::Request("these credentials do not log in".into())),
        }
    }

    /// A client calling the same lakeFS over the same connection pool with other credentials.
    pub fn with_credentials(&self, credentials: Credentials) -> LakeFsClient {
        let cfg = ClientConfig { credentials, ..(*self.cfg).clone() };
        LakeFsClient { http: self.http.clone(), cfg: Arc::new(cfg), token: Arc::new(Mutex::new(None)) }
    }

    /// The host (`host[:port]`) of the lakeFS endpoint: lakeFS's default server id.
    pub fn endpoint_host(&self) -> String {
        let rest = self.cfg.endpoint.split_once("://").map_or(self.cfg.endpoint.as_str(), |(_, r)| r);
        rest.split('/').next().unwrap_or_default().to_string()
    }

    /// Sends one request (with retries when idempotent) and returns the raw answer, 2xx or 3xx.
    async fn send(
        &self,
        method: Method,
        path_and_query: &str,
        body: impl Fn() -> Result<ReqBody>,
        headers: &[(header::HeaderName, HeaderValue)],
        idempotent: Idempotent,
        authenticated: bool,
    ) -> Result<Response<Incoming>> {
        let mut attempt = 0;
        loop {
            let auth = if authenticated { self.authorization().await? } else { None };
            let timeout = if idempotent == Idempotent::Slow { SLOW_CALL_TIMEOUT } else { self.cfg.timeout };
            let result = self.send_once(method.clone(), path_and_query, body()?, headers, auth, timeout).await;
            match result {
                Err(e) if idempotent == Idempotent::Yes && attempt < self.cfg.retries && e.is_retryable() => {
                    tokio::time::sleep(self.cfg.backoff * 2u32.pow(attempt)).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    async fn send_once(
        &self,
        method: Method,
        path_and_query: &str,
        body: ReqBody,
        headers: &[(header::HeaderName, HeaderValue)],
        auth: Option<HeaderValue>,
        timeout: Duration,
    ) -> Result<Response<Incoming>> {
        let uri = format!("{}{path_and_query}", self.cfg.endpoint);
        let method_name = method.clone();
        // The answer is timed from the end of the body: an upload may stream for any time.
        let (body, ended) = lakegate_net::body::EndSignal::new(body);
        let body = body.boxed_unsync();
        let mut req =
            Request::builder().method(method).uri(&uri).body(body).map_err(|e| LakeFsError::Request(e.to_string()))?;
        if let Some(auth) = auth {
            req.headers_mut().insert(header::AUTHORIZATION, auth);
        }
        for (k, v) in headers {
            req.headers_mut().insert(k.clone(), v.clone());
        }
        let started = std::time::Instant::now();
        let answer = lakegate_net::body::answer_within(self.http.request(req), ended, timeout).await;
        let status = match &answer {
            Some(Ok(resp)) => resp.status().as_u16(),
            _ => 0,
        };
        crate::observe::call(&operation_id(&method_name, path_and_query), status, started.elapsed());
        let resp = match answer {
            None => return Err(LakeFsError::Timeout(timeout)),
            Some(Err(e)) => return Err(LakeFsError::Connect(e.to_string())),
            Some(Ok(resp)) => resp,
        };
        let status = resp.status();
        if status.is_success() || status.is_redirection() {
            return Ok(resp);
        }
        let bytes = self.collect(resp).await.unwrap_or_default();
        let message = serde_json::from_slice::<Error>(&bytes)
            .map(|e| e.message)
            .unwrap_or_else(|_| String::from_utf8_lossy(&bytes).trim().to_string());
        Err(LakeFsError::Api { status, message })
    }

    async fn collect(&self, resp: Response<Incoming>) -> Result<Bytes> {
        let body = tokio::time::timeout(self.cfg.timeout, resp.into_body().collect()).await;
        match body {
            Err(_) => Err(LakeFsError::Timeout(self.cfg.timeout)),
            Ok(Err(e)) => Err(LakeFsError::Connect(e.to_string())),
            Ok(Ok(c)) => Ok(c.to_bytes()),
        }
    }

    async fn decode<T: DeserializeOwned>(&self, resp: Response<Incoming>) -> Result<T> {
        let bytes = self.collect(resp).await?;
        serde_json::from_slice(&bytes).map_err(|e| LakeFsError::Decode(e.to_string()))
    }

    async fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        let resp = self.send(Method::GET, path, || Ok(empty_body()), &[], Idempotent::Yes, true).await?;
        self.decode(resp).await
    }

    async fn send_json<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: &B,
        idem: Idempotent,
    ) -> Result<T> {
        let resp = self.send(method, path, || json_body(body), &[json_header()], idem, true).await?;
        self.decode(resp).await
    }

    async fn send_empty(&self, method: Method, path: &str) -> Result<()> {
        let resp = self.send(method, path, || Ok(empty_body()), &[], Idempotent::Yes, true).await?;
        self.collect(resp).await.map(drop)
    }

    fn repo_path(repo: &str) -> String {
        format!("/repositories/{}", seg(repo))
    }

    fn branch_path(repo: &str, branch: &str) -> String {
        format!("/repositories/{}/branches/{}", seg(repo), seg(branch))
    }

    fn ref_path(repo: &str, reference: &str) -> String {
        format!("/repositories/{}/refs/{}", seg(repo), seg(reference))
    }
}

fn json_header() -> (header::HeaderName, HeaderValue) {
    (header::CONTENT_TYPE, HeaderValue::from_static("application/json"))
}

mod ops;
mod workflow;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_escape_values_and_skip_missing() {
        assert_eq!(query(&[("path", Some("a b/c&d".into())), ("x", None)]), "?path=a%20b%2Fc%26d");
        assert_eq!(query(&[("x", None)]), "");
        assert_eq!(LakeFsClient::branch_path("r", "a/b"), "/repositories/r/branches/a%2Fb");
    }

    #[test]
    fn endpoints_are_http_or_https_urls() {
        let client = |e: &str| LakeFsClient::new(ClientConfig::new(e, Credentials::Token("t".into())));
        assert!(client("https://lakefs.example.com/api/v1").is_ok());
        assert!(client("http://127.0.0.1:8000/api/v1").is_ok());
        assert!(matches!(client("ftp://lakefs.example.com/api/v1"), Err(LakeFsError::Request(_))));
        assert!(matches!(client("lakefs.example.com"), Err(LakeFsError::Request(_))));
    }

    #[test]
    fn credentials_never_print_secrets() {
        let c = Credentials::Basic { access_key_id: "AK".into(), secret_access_key: "SECRET".into() };
        assert!(!format!("{c:?}").contains("SECRET"));
    }
}
