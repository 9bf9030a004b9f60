//! `stsLogin` as lakeFS does it with an external authentication service (lakeFS
//! `pkg/authentication`, `ValidateSTS`; `../shared/reference/lakefs-api.md` §3.3): the
//! authorization code is exchanged at the configured OpenID Connect issuer's token endpoint
//! (OpenID Connect Core 1.0 §3.1.3, discovery §4 of OpenID Connect Discovery 1.0), the ID token is
//! validated ([`jwt`]: signature from the issuer's JWKS, issuer, audience, expiry, required
//! claims), and its `sub` — the external user id — names the lakeFS user.
//!
//! Beyond lakeFS: a PKCE `code_verifier` in the request (lakegate's extension of
//! `StsAuthRequest`) is sent along with the code. The issuer is reached over plain `http://`
//! (the embedded server is for development and tests).

pub mod jwt;

use super::error::{ApiError, ApiResult};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http_body_util::Full;
use lakefs_api::auth_dto::StsAuthRequest;
use serde_json::Value;
use std::time::{Duration, Instant};

/// How long an issuer may take to answer.
const TIMEOUT: Duration = Duration::from_secs(10);
/// The largest answer read from the issuer.
const MAX_ANSWER: usize = 256 << 10;
/// How long discovery and JWKS answers are reused (an unknown `kid` refetches the JWKS sooner).
const METADATA_TTL: Duration = Duration::from_secs(300);

/// The identity provider `stsLogin` trusts, and how its subjects map to lakeFS users.
#[derive(Debug, Clone, Default)]
pub struct OidcSettings {
    /// Issuer URL (`iss` of its ID tokens; discovery at `<issuer>/.well-known/openid-configuration`).
    pub issuer: String,
    pub client_id: String,
    /// Client secret (HTTP basic at the token endpoint); `None`: a public client.
    pub client_secret: Option<String>,
    /// Claims the ID token must carry with these values (lakeFS
    /// `auth.cookie_auth_verification.validate_id_token_claims`).
    pub required_claims: Vec<(String, String)>,
    /// External user id (`sub`) → lakeFS user id.
    pub users: Vec<(String, String)>,
}

/// What discovery says, with the JWKS.
struct Provider {
    token_endpoint: String,
    jwks: Value,
    read_at: Instant,
}

/// The relying party of `stsLogin`.
pub struct OidcLogin {
    pub settings: OidcSettings,
    http: super::http::OutboundClient,
    provider: tokio::sync::Mutex<Option<Provider>>,
}

fn refused(msg: impl Into<String>) -> ApiError {
    ApiError::Unauthorized(msg.into())
}

fn form_encode(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}

impl OidcLogin {
    pub fn new(settings: OidcSettings) -> OidcLogin {
        let http = super::http::outbound_client();
        OidcLogin { settings, http, provider: tokio::sync::Mutex::new(None) }
    }

    /// Sends a request to the issuer: `(status, body)`.
    async fn call(&self, req: http::Request<Full<Bytes>>) -> ApiResult<(http::StatusCode, Bytes)> {
        let what = req.uri().to_string();
        super::http::call_bounded(&self.http, req, MAX_ANSWER, TIMEOUT)
            .await
            .map_err(|e| ApiError::Internal(format!("OIDC issuer ({what}): {e}")))
    }

    async fn get_json(&self, url: &str) -> ApiResult<Value> {
        let req = http::Request::get(url)
            .header(http::header::ACCEPT, "application/json")
            .body(Full::new(Bytes::new()))
            .map_err(|e| ApiError::Internal(format!("OIDC issuer URL {url:?}: {e}")))?;
        let (status, body) = self.call(req).await?;
        if !status.is_success() {
            return Err(ApiError::Internal(format!("OIDC issuer: GET {url} answered {status}")));
        }
        serde_json::from_slice(&body).map_err(|e| ApiError::Internal(format!("OIDC issuer: GET {url}: {e}")))
    }

    /// Discovery and JWKS, read again when older than [`METADATA_TTL`] or when `refresh`.
    async fn provider(&self, refresh: bool) -> ApiResult<(String, Value)> {
        let mut cached = self.provider.lock().await;
        if let Some(p) = cached.as_ref().filter(|p| !refresh && p.read_at.elapsed() < METADATA_TTL) {
            return Ok((p.token_endpoint.clone(), p.jwks.clone()));
        }
        let issuer = self.settings.issuer.trim_end_matches('/');
        let doc = self.get_json(&format!("{issuer}/.well-known/openid-configuration")).await?;
        let field = |k: &str| doc.get(k).and_then(Value::as_str).map(str::to_string);
        if field("issuer").as_deref() != Some(self.settings.issuer.as_str()) {
            return Err(ApiError::Internal(format!(
                "OIDC discovery names issuer {:?}, not the configured {:?}",
                field("issuer").unwrap_or_default(),
                self.settings.issuer
            )));
        }
        let (Some(token_endpoint), Some(jwks_uri)) = (field("token_endpoint"), field("jwks_uri")) else {
            return Err(ApiError::Internal("OIDC discovery lacks token_endpoint or jwks_uri".into()));
        };
        let jwks = self.get_json(&jwks_uri).await?;
        *cached =
            Some(Provider { token_endpoint: token_endpoint.clone(), jwks: jwks.clone(), read_at: Instant::now() });
        Ok((token_endpoint, jwks))
    }

    /// Exchanges the code: the ID token.
    async fn exchange(&self, token_endpoint: &str, req: &StsAuthRequest) -> ApiResult<String> {
        let s = &self.settings;
        let mut pairs =
            vec![("grant_type", "authorization_code"), ("code", &req.code), ("redirect_uri", &req.redirect_uri)];
        if s.client_secret.is_none() {
            pairs.push(("client_id", &s.client_id));
        }
        if let Some(v) = &req.code_verifier {
            pairs.push(("code_verifier", v));
        }
        let mut builder = http::Request::post(token_endpoint)
            .header(http::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(http::header::ACCEPT, "application/json");
        if let Some(secret) = &s.client_secret {
            let enc = |v: &str| form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>();
            let basic = STANDARD.encode(format!("{}:{}", enc(&s.client_id), enc(secret)));
            builder = builder.header(http::header::AUTHORIZATION, format!("Basic {basic}"));
        }
        let body = Full::new(Bytes::from(form_encode(&pairs)));
        let request = builder.body(body).map_err(|e| ApiError::Internal(format!("token endpoint: {e}")))?;
        let (status, body) = self.call(request).await?;
        let answer: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        if !status.is_success() {
            let error = answer.get("error").and_then(Value::as_str).unwrap_or("");
            let detail = answer.get("error_description").and_then(Value::as_str).unwrap_or("");
            tracing::debug!(%status, error, detail, "OIDC code exchange refused");
            return Err(match status.as_u16() {
                400 | 401 => refused(format!("failed to authenticate user: code exchange refused ({error}: {detail})")),
                _ => ApiError::Internal(format!("OIDC token endpoint answered {status}")),
            });
        }
        answer
            .get("id_token")
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| refused("failed to authenticate user: the token answer has no id_token (scope openid?)"))
    }

    /// Validates a login request: the lakeFS user it signs in (401 when the code or its ID token is
    /// refused, 404 when no user has the token's subject as external id).
    pub async fn login(&self, req: &StsAuthRequest, now: i64) -> ApiResult<String> {
        let (token_endpoint, mut jwks) = self.provider(false).await?;
        let id_token = self.exchange(&token_endpoint, req).await?;
        let jws = jwt::decode(&id_token)?;
        if !jwt::check_signature(&jws, &jwks)? {
            jwks = self.provider(true).await?.1;
            if !jwt::check_signature(&jws, &jwks)? {
                return Err(refused("id_token: signed with a key the issuer's JWKS does not have"));
            }
        }
        let s = &self.settings;
        let sub = jwt::check_claims(&jws.claims, &s.issuer, &s.client_id, &s.required_claims, now)?;
        let user = s.users.iter().find(|(ext, _)| *ext == sub).map(|(_, u)| u.clone());
        // lakeFS's `GetUserByExternalID` finds no user: `auth.ErrNotFound`, 404 `not found`
        user.ok_or_else(|| {
            tracing::debug!(%sub, "stsLogin: no lakeFS user has this external id");
            ApiError::not_found("not found")
        })
    }
}
