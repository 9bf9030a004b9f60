//! Config and auth operations: `getConfig`, `getStorageConfig`, `getLakeFSVersion`, `login`,
//! `stsLogin`, `getAuthCapabilities`, `getCurrentUser` (lakeFS v1.84.0 `pkg/api/controller.go`).

use crate::Embedded;
use crate::auth::{AUTH_FAILED, LOGIN_DURATION_SECS, SESSION_COOKIE, check_key_pair, issue_token};
use crate::catalog::now_unix;
use crate::error::{ApiError, ApiResult};
use crate::http::{Body, json_response, read_json};
use http::{HeaderValue, Request, Response, StatusCode};
use hyper::body::Incoming;
use lakefs_api::dto::{AuthenticationToken, Config, CurrentUser, LoginInformation, VersionConfig};
use std::sync::Arc;

/// The lakeFS version whose API the embedded server follows.
pub const EMULATED_LAKEFS_VERSION: &str = "1.84.0";

/// lakeFS's `getVersionConfig` with no audit or latest-version answer (offline): the version and
/// the context `lakeFS` (OSS's `GetVersionContext`; lakectl warns of an Enterprise server on any
/// other value), no upgrade fields.
fn version_config() -> VersionConfig {
    VersionConfig {
        version: Some(EMULATED_LAKEFS_VERSION.into()),
        version_context: Some("lakeFS".into()),
        latest_version: None,
        upgrade_recommended: None,
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

/// `getAuthCapabilities`: lakeFS sets `invite_user` only (true when its auth service can invite
/// by email; the embedded server cannot), and never `forgot_password`.
pub fn get_auth_capabilities() -> ApiResult<Response<Body>> {
    json_response(StatusCode::OK, &serde_json::json!({"invite_user": false}))
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

/// `stsLogin`: an OIDC authorization code for a token of the user its subject maps to. As lakeFS's
/// `StsLogin`: 501 `Not Implemented` without an authentication service (here: an issuer), 401
/// `Unauthorized` for a refused code or token, 404 `not found` when no user has that external id,
/// and the lifetime `min(ttl_seconds, 12 h)`, default 1 h, never refused.
pub async fn sts_login(s: &Arc<Embedded>, req: Request<Incoming>) -> ApiResult<Response<Body>> {
    let body: lakefs_api::auth_dto::StsAuthRequest = read_json(req.into_body()).await?;
    let Some(oidc) = &s.oidc else {
        return Err(ApiError::NotImplemented("Not Implemented".into()));
    };
    if [&body.code, &body.state, &body.redirect_uri].iter().any(|v| v.is_empty()) {
        return Err(ApiError::BadRequest("invalid authentication response: invalid request".into()));
    }
    let now = now_unix();
    let user = oidc.login(&body, now).await.map_err(|e| match e {
        ApiError::Unauthorized(why) => {
            tracing::debug!(%why, "stsLogin refused");
            ApiError::Unauthorized("Unauthorized".into())
        }
        e => e,
    })?;
    let lookup = user.clone();
    if s.db(move |m| m.user(&lookup)).await?.is_none() {
        tracing::debug!(%user, "stsLogin: the external id's user does not exist");
        return Err(ApiError::not_found("not found"));
    }
    s.count_login(true);
    let exp = now + body.ttl_seconds.map_or(STS_DEFAULT_TTL, |t| t.min(STS_MAX_TTL));
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

/// `getCurrentUser`: the caller, its `friendly_name` defaulting to its id (lakeFS `GetCurrentUser`).
pub async fn get_current_user(s: &Arc<Embedded>, user: String) -> ApiResult<Response<Body>> {
    if user.is_empty() {
        let user = lakefs_api::dto::User { id: String::new(), creation_date: 0, friendly_name: None, email: None };
        return json_response(StatusCode::OK, &CurrentUser { user });
    }
    let found = s.db(move |m| m.user(&user)).await?;
    let mut user = found.ok_or_else(|| ApiError::Unauthorized(AUTH_FAILED.into()))?;
    user.friendly_name.get_or_insert_with(|| user.id.clone());
    json_response(StatusCode::OK, &CurrentUser { user })
}
