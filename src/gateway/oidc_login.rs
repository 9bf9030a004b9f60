//! The OIDC login endpoint: `POST /_lakegate/sts/oidc` with JSON `{code, state, redirect_uri,
//! ttl_seconds?, code_verifier?}` exchanges an authorization code, through lakeFS's `stsLogin`
//! (`POST /sts/login`, lakeFS `api/swagger.yml`; `../shared/reference/lakefs-api.md` §1.7, §3.3),
//! for temporary S3 credentials, answered in the AWS `credential_process` JSON shape
//! (`Version`, `AccessKeyId`, `SecretAccessKey`, `SessionToken`, `Expiration`).
//!
//! Like `stsLogin` it is authenticated by nothing but the code: lakeFS (its authentication
//! service) exchanges the code at the identity provider and maps the ID token's subject to a
//! lakeFS user. The credentials are stateless ([`crate::auth::session_token`]): requests signed with
//! them reach lakeFS with the lakeFS token their session token carries. Failures are S3 error
//! documents like every other answer of the S3 listener.

use crate::ops::Gateway;
use crate::ops::errors::{Missing, map_lakefs};
use http::{HeaderValue, Method, Response, header};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use lakefs_api::auth_dto::StsAuthRequest;
use lakefs_api::{Credentials, LakeFsError};
use lakegate_net::body::{Body, full};
use lakegate_net::util::now_unix;
use s3_wire::s3_err;
use s3_wire::{S3Error, S3Result};
use serde::Deserialize;

/// Where the endpoint answers (no bucket is named `_lakegate`: bucket names cannot hold `_`).
pub const PATH: &str = "/_lakegate/sts/oidc";
/// lakeFS's default token lifetime for `stsLogin`.
pub const DEFAULT_TTL: i64 = 3600;
/// lakeFS's longest `stsLogin` token (12 hours).
pub const MAX_TTL: i64 = 43_200;
/// The largest request body read.
const MAX_BODY: usize = 16 << 10;

/// The request body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginRequest {
    code: String,
    state: String,
    redirect_uri: String,
    #[serde(default)]
    ttl_seconds: Option<i64>,
    #[serde(default)]
    code_verifier: Option<String>,
}

/// Whether a request is for this endpoint (checked before S3 addressing).
pub fn is_oidc_login(parts: &http::request::Parts) -> bool {
    parts.uri.path() == PATH && parts.uri.query().is_none_or(str::is_empty)
}

async fn read_request(body: Incoming) -> S3Result<LoginRequest> {
    let bytes = Limited::new(body, MAX_BODY).collect().await.map_err(|e| {
        if e.is::<http_body_util::LengthLimitError>() {
            s3_err!(MaxMessageLengthExceeded, "the login request is larger than {MAX_BODY} bytes")
        } else {
            s3_err!(IncompleteBody, "reading the login request: {e}")
        }
    })?;
    let req: LoginRequest = serde_json::from_slice(&bytes.to_bytes()).map_err(|e| {
        s3_err!(
            InvalidRequest,
            "the login request must be JSON {{code, state, redirect_uri, ttl_seconds?, code_verifier?}}: {e}"
        )
    })?;
    for (name, value) in [("code", &req.code), ("state", &req.state), ("redirect_uri", &req.redirect_uri)] {
        if value.is_empty() {
            return Err(s3_err!(InvalidRequest, "{name} must not be empty"));
        }
    }
    Ok(req)
}

/// A lakeFS refusal of the login, said in S3 terms.
fn refusal(err: LakeFsError) -> S3Error {
    let message = err.to_string();
    match err.status().map(|s| s.as_u16()) {
        Some(401 | 403 | 404) => s3_err!(AccessDenied, "lakeFS refused the sign-in: {message}"),
        Some(501) => s3_err!(
            NotImplemented,
            "this lakeFS has no STS login (stsLogin needs an authentication service: lakeFS Enterprise, or `lakegate dev --oidc-issuer`)"
        ),
        _ => map_lakefs(err, Missing::Bucket),
    }
}

/// Answers a login: temporary credentials, or an S3 error.
pub async fn handle(gw: &Gateway, parts: &http::request::Parts, body: Incoming) -> S3Result<Response<Body>> {
    if parts.method != Method::POST {
        return Err(s3_err!(MethodNotAllowed, "the OIDC login endpoint takes POST"));
    }
    let req = read_request(body).await?;
    let ttl = req.ttl_seconds.unwrap_or(DEFAULT_TTL.min(gw.session_max_ttl));
    if !(1..=gw.session_max_ttl).contains(&ttl) {
        return Err(s3_err!(InvalidArgument, "ttl_seconds must be between 1 and {}", gw.session_max_ttl));
    }
    let sts = StsAuthRequest {
        code: req.code,
        state: req.state,
        redirect_uri: req.redirect_uri,
        ttl_seconds: Some(ttl),
        code_verifier: req.code_verifier,
    };
    let started = now_unix();
    let token = gw.lakefs.sts_login(&sts).await.map_err(refusal)?;
    let client = gw.lakefs.with_credentials(Credentials::Token(token.token.clone()));
    let user = client.get_current_user().await.map_err(refusal)?.user.id;
    let expires = token.token_expiration.unwrap_or(started + ttl).min(started + ttl);
    let claims = crate::auth::session_token::SessionClaims { lakefs_token: token.token, user: user.clone(), expires };
    let creds = gw.session_keys.mint(&claims)?;
    tracing::info!(%user, access_key = %creds.access_key_id, expiration = %creds.expiration, "temporary credentials from an OIDC sign-in");
    let json = serde_json::to_vec(&creds).map_err(S3Error::internal)?;
    let mut resp = Response::new(full(json));
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}
