//! External principal operations of lakeFS's auth API (tags `auth`, `external`, `experimental`):
//! `createUserExternalPrincipal`, `deleteUserExternalPrincipal`, `listUserExternalPrincipals`,
//! `getExternalPrincipal`, and `externalPrincipalLogin`, which turns an AWS identity proven by a
//! presigned STS `GetCallerIdentity` request ([`crate::sts`]) into a lakeFS JWT for the
//! user that identity is bound to (as `login` does for an access key pair). Answers follow lakeFS
//! v1.84.0 with an auth service (see [`super::users_api`]): `not found`, `Already exists`.

use super::users_api::{auth_pagination, conflict_as_lakefs, not_found_as, page_params};
use crate::Embedded;
use crate::auth::{LOGIN_DURATION_SECS, LOGIN_MAX_DURATION_SECS, issue_token};
use crate::catalog::now_unix;
use crate::catalog::principals::valid_principal_id;
use crate::error::{ApiError, ApiResult};
use crate::http::{Body, MAX_JSON_BODY, Query, json_response, read_json, status_response};
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use lakefs_api::auth_dto::{ExternalLoginInformation, ExternalPrincipalCreation, ExternalPrincipalList};
use lakefs_api::dto::AuthenticationToken;
use std::sync::Arc;
use std::time::SystemTime;

/// The required `principalId` query parameter.
fn principal_id(req: &Request<Incoming>) -> ApiResult<String> {
    let q = Query::parse(req.uri().query());
    let id = q.required("principalId")?;
    if !valid_principal_id(id) {
        return Err(ApiError::bad_request(format!("principalId: invalid value {id:?}")));
    }
    Ok(id.to_string())
}

/// The optional `ExternalPrincipalCreation` body (empty is fine; bad JSON is 400).
async fn optional_creation(req: Request<Incoming>) -> ApiResult<ExternalPrincipalCreation> {
    let bytes = Limited::new(req.into_body(), MAX_JSON_BODY)
        .collect()
        .await
        .map_err(|e| ApiError::bad_request(format!("reading request body: {e}")))?
        .to_bytes();
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(ExternalPrincipalCreation::default());
    }
    serde_json::from_slice(&bytes).map_err(|e| ApiError::bad_request(format!("invalid request body: {e}")))
}

/// `createUserExternalPrincipal`: 201 without a body; `settings` are accepted and not kept (lakeFS
/// keeps only the id and the user).
pub async fn create(s: &Arc<Embedded>, user: String, req: Request<Incoming>) -> ApiResult<Response<Body>> {
    let id = principal_id(&req)?;
    optional_creation(req).await?;
    let created = conflict_as_lakefs(s.db(move |m| m.create_principal(&user, &id)).await);
    not_found_as(created, "not found")?;
    Ok(status_response(StatusCode::CREATED))
}

pub async fn delete(s: &Arc<Embedded>, user: String, req: Request<Incoming>) -> ApiResult<Response<Body>> {
    let id = principal_id(&req)?;
    not_found_as(s.db(move |m| m.delete_principal(&user, &id)).await, "not found")?;
    Ok(status_response(StatusCode::NO_CONTENT))
}

pub async fn list(s: &Arc<Embedded>, user: String, req: Request<Incoming>) -> ApiResult<Response<Body>> {
    let (prefix, after, amount) = page_params(&req)?;
    let listed = s.db(move |m| m.list_user_principals(&user, &prefix, &after, amount)).await;
    let (principals, more) = not_found_as(listed, "not found")?;
    let page = auth_pagination(principals.len(), more, principals.last().map(|p| p.id.as_str()));
    json_response(StatusCode::OK, &ExternalPrincipalList { pagination: page, results: principals })
}

pub async fn get(s: &Arc<Embedded>, req: Request<Incoming>) -> ApiResult<Response<Body>> {
    let id = principal_id(&req)?;
    let principal = not_found_as(s.db(move |m| m.get_principal(&id)).await, "not found")?;
    json_response(StatusCode::OK, &principal)
}

/// The lifetime of an external login's token: as requested, else lakeFS's `auth.login_duration`,
/// at most `auth.login_max_duration`.
pub fn token_lifetime(requested: Option<i64>) -> i64 {
    requested.filter(|d| *d > 0).unwrap_or(LOGIN_DURATION_SECS).min(LOGIN_MAX_DURATION_SECS)
}

/// `externalPrincipalLogin`: every refusal (bad token, host not allowed, STS refusal, principal
/// bound to no user) is 401.
pub async fn login(s: &Arc<Embedded>, req: Request<Incoming>) -> ApiResult<Response<Body>> {
    let info: ExternalLoginInformation = read_json(req.into_body()).await?;
    let arn = s.sts.caller_arn(&info.identity_request, SystemTime::now()).await.map_err(as_lakefs_refusal)?;
    let bound = arn.clone();
    // lakeFS: `Auth.GetExternalPrincipal` of an identity bound to no user → 404 `not found`
    let user = s.db(move |m| m.principal_user(&bound)).await?.ok_or_else(|| {
        tracing::info!(principal = %arn, "external principal login: not bound to a lakeFS user");
        ApiError::not_found("not found")
    })?;
    let now = now_unix();
    let exp = now + token_lifetime(info.token_expiration_duration);
    let token = issue_token(&s.jwt_key, &user, now, exp);
    s.count_login(true);
    tracing::info!(%user, principal = %arn, expires = exp, "external principal login");
    json_response(StatusCode::OK, &AuthenticationToken { token, token_expiration: Some(exp) })
}

/// The verifier's refusal as lakeFS answers it: its authentication service's 400/401/403 become
/// 400 `invalid request`, 401 `invalid token format`, 403 `session expired`
/// (`pkg/authentication/service.go` `APIService.ExternalPrincipalLogin`, `controller.go`
/// `handleApiErrorCallback`); the cause is only logged.
fn as_lakefs_refusal(err: ApiError) -> ApiError {
    match err {
        ApiError::Unauthorized(cause) => {
            tracing::info!(%cause, "external principal login refused");
            if cause == "identity token expired" {
                ApiError::Forbidden("session expired".into())
            } else {
                ApiError::Unauthorized("invalid token format".into())
            }
        }
        ApiError::BadRequest(cause) => {
            tracing::info!(%cause, "external principal login refused");
            ApiError::bad_request("invalid request")
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_lifetime_is_capped() {
        assert_eq!(token_lifetime(None), LOGIN_DURATION_SECS);
        assert_eq!(token_lifetime(Some(0)), LOGIN_DURATION_SECS);
        assert_eq!(token_lifetime(Some(60)), 60);
        assert_eq!(token_lifetime(Some(i64::MAX)), LOGIN_MAX_DURATION_SECS);
    }
}
