//! Config and auth operations: `getConfig`, `getStorageConfig`, `getLakeFSVersion`, `login`,
//! `getAuthCapabilities`, `getCurrentUser`.

use crate::embedded::Embedded;
use crate::embedded::auth::{LOGIN_DURATION_SECS, SESSION_COOKIE, check_key_pair, issue_token};
use crate::embedded::catalog::now_unix;
use crate::embedded::error::{ApiError, ApiResult};
use crate::embedded::http::{Body, json_response, read_json};
use crate::lakefs::dto::{AuthenticationToken, Config, CurrentUser, LoginInformation, VersionConfig};
use http::{HeaderValue, Request, Response, StatusCode};
use hyper::body::Incoming;
use std::sync::Arc;

/// The lakeFS version whose API the embedded server follows.
pub const EMULATED_LAKEFS_VERSION: &str = "1.84.0";

fn version_config() -> VersionConfig {
    VersionConfig {
        version: Some(EMULATED_LAKEFS_VERSION.into()),
        version_context: Some(format!("lakegate-embedded/{}", env!("CARGO_PKG_VERSION"))),
        latest_version: None,
        upgrade_recommended: Some(false),
        upgrade_url: None,
    }
}

/// `getConfig`: the primary storage as `storage_config`, every storage in `storage_config_list`
/// (empty with the single blockstore), as lakeFS's `getStorageConfigs`.
pub fn get_config(s: &Embedded) -> ApiResult<Response<Body>> {
    let (storage, list) = s.storages.configs();
    let config = Config {
        version_config: Some(version_config()),
        storage_config: Some(storage),
        storage_config_list: Some(list),
        capabilities_config: Some(Default::default()),
    };
    json_response(StatusCode::OK, &config)
}

/// `getStorageConfig` (deprecated): the primary storage.
pub fn get_storage_config(s: &Embedded) -> ApiResult<Response<Body>> {
    json_response(StatusCode::OK, &s.storages.primary().config())
}

pub fn get_version() -> ApiResult<Response<Body>> {
    json_response(StatusCode::OK, &version_config())
}

pub fn get_auth_capabilities() -> ApiResult<Response<Body>> {
    json_response(StatusCode::OK, &serde_json::json!({"invite_user": false, "forgot_password": false}))
}

pub async fn login(s: &Arc<Embedded>, req: Request<Incoming>) -> ApiResult<Response<Body>> {
    let info: LoginInformation = read_json(req.into_body()).await?;
    let user = s.db(move |m| check_key_pair(m, &info.access_key_id, &info.secret_access_key)).await?;
    s.count_login(false);
    let now = now_unix();
    let exp = now + LOGIN_DURATION_SECS;
    let token = issue_token(&s.jwt_key, &user, now, exp);
    let cookie = format!("{SESSION_COOKIE}={token}; Path=/; Expires={}; HttpOnly; SameSite=Lax", http_date(exp));
    let mut resp = json_response(StatusCode::OK, &AuthenticationToken { token, token_expiration: Some(exp) })?;
    let value = HeaderValue::from_str(&cookie).map_err(ApiError::internal)?;
    resp.headers_mut().insert(http::header::SET_COOKIE, value);
    Ok(resp)
}

/// `stsLogin`: an OIDC authorization code for a token of the user its subject maps to (501
/// without an issuer, as lakeFS without an authentication service).
pub async fn sts_login(s: &Arc<Embedded>, req: Request<Incoming>) -> ApiResult<Response<Body>> {
    let body: crate::lakefs::auth_dto::StsAuthRequest = read_json(req.into_body()).await?;
    let Some(oidc) = &s.oidc else {
        return Err(ApiError::NotImplemented(
            "not implemented: no authentication service (start with --oidc-issuer)".into(),
        ));
    };
    for (name, value) in [("code", &body.code), ("state", &body.state), ("redirect_uri", &body.redirect_uri)] {
        if value.is_empty() {
            return Err(ApiError::BadRequest(format!("{name} is required")));
        }
    }
    let ttl = body.ttl_seconds.unwrap_or(STS_DEFAULT_TTL);
    if !(1..=STS_MAX_TTL).contains(&ttl) {
        return Err(ApiError::BadRequest(format!("ttl_seconds must be between 1 and {STS_MAX_TTL}")));
    }
    let now = now_unix();
    let user = oidc.login(&body, now).await?;
    let lookup = user.clone();
    if s.db(move |m| m.user(&lookup)).await?.is_none() {
        return Err(ApiError::Unauthorized(format!("user {user:?} not found")));
    }
    s.count_login(true);
    let exp = now + ttl;
    let token = issue_token(&s.jwt_key, &user, now, exp);
    json_response(StatusCode::OK, &AuthenticationToken { token, token_expiration: Some(exp) })
}

/// `stsLogin`'s default token lifetime (lakeFS: 3600 seconds).
pub const STS_DEFAULT_TTL: i64 = 3600;
/// `stsLogin`'s longest token lifetime (lakeFS: 12 hours).
pub const STS_MAX_TTL: i64 = 43_200;

fn http_date(unix: i64) -> String {
    httpdate::fmt_http_date(std::time::UNIX_EPOCH + std::time::Duration::from_secs(unix.max(0) as u64))
}

pub async fn get_current_user(s: &Arc<Embedded>, user: String) -> ApiResult<Response<Body>> {
    let found = s.db(move |m| m.user(&user)).await?;
    let user = found.ok_or_else(|| ApiError::Unauthorized("user not found".into()))?;
    json_response(StatusCode::OK, &CurrentUser { user })
}
