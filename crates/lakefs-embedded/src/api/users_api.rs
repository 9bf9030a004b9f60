//! User and credentials operations of lakeFS's auth API: `listUsers`, `createUser`, `getUser`,
//! `deleteUser`, `listUserCredentials`, `createCredentials`, `getCredentials`, `deleteCredentials`.
//! Credentials created here authenticate as their user (basic auth and `login`).
//!
//! The answers are lakeFS v1.84.0's with an auth service (`pkg/api/controller.go`,
//! `pkg/auth/service.go` `APIAuthService.validateResponse`): the service's 404 reaches the client
//! as `not found` (or the controller's own `user not found`, `credentials not found`), its 409 as
//! `Already exists`, its 400 as `invalid request`.

use super::repos_api::pagination;
use crate::Embedded;
use crate::authz::{Caller, Permission, action, arn};
use crate::catalog::clamp_amount;
use crate::catalog::users::valid_user_id;
use crate::error::{ApiError, ApiResult};
use crate::http::{Body, Query, json_response, read_json, status_response};
use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use lakefs_api::auth_dto::{CredentialsList, UserCreation, UserList};
use lakefs_api::dto::Pagination;
use std::sync::Arc;

/// `prefix`, `after` and the clamped `amount` of a lakeFS list request.
pub fn page_params(req: &Request<Incoming>) -> ApiResult<(String, String, usize)> {
    let q = Query::parse(req.uri().query());
    let amount = clamp_amount(q.amount()?);
    Ok((q.str_or_empty("prefix").to_string(), q.str_or_empty("after").to_string(), amount))
}

/// The pagination of an auth list: lakeFS's controller copies the auth service's `has_more`,
/// `next_offset` and `results` and leaves `max_per_page` at 0.
pub fn auth_pagination(count: usize, has_more: bool, last: Option<&str>) -> Pagination {
    Pagination { max_per_page: 0, ..pagination(count, has_more, last) }
}

/// A not-found answer with lakeFS's text for it.
pub fn not_found_as<T>(result: ApiResult<T>, text: &str) -> ApiResult<T> {
    result.map_err(|e| match e {
        ApiError::NotFound(_) => ApiError::not_found(text),
        e => e,
    })
}

/// lakeFS's 409 for anything the auth service already has (`auth.ErrAlreadyExists`).
pub fn conflict_as_lakefs<T>(result: ApiResult<T>) -> ApiResult<T> {
    result.map_err(|e| match e {
        ApiError::Conflict(_) => ApiError::Conflict("Already exists".into()),
        e => e,
    })
}

pub async fn list_users(s: &Arc<Embedded>, req: Request<Incoming>) -> ApiResult<Response<Body>> {
    let (prefix, after, amount) = page_params(&req)?;
    let (users, more) = s.db(move |m| m.list_users(&prefix, &after, amount)).await?;
    let page = auth_pagination(users.len(), more, users.last().map(|u| u.id.as_str()));
    json_response(StatusCode::OK, &UserList { pagination: page, results: users })
}

/// The address of an invitation, as Go's `mail.ParseAddress` reads `a@b` or `Name <a@b>`.
fn invite_address(id: &str) -> Option<&str> {
    let addr = match id.trim().strip_suffix('>') {
        Some(named) => named.rsplit_once('<')?.1,
        None => id.trim(),
    };
    let (local, domain) = addr.split_once('@')?;
    let ok = |p: &str| !p.is_empty() && !p.contains(['@', ' ', '<', '>', ',', ';']);
    (ok(local) && ok(domain)).then_some(addr)
}

/// `createUser`, in lakeFS's order: `%` in the id (400), an invitation's address (400), the
/// caller's `auth:CreateUser` (401), invitations (501: the embedded server cannot send them), the
/// id (400 `invalid request`), an existing user (409).
pub async fn create_user(s: &Arc<Embedded>, caller: &Caller, req: Request<Incoming>) -> ApiResult<Response<Body>> {
    let body: UserCreation = read_json(req.into_body()).await?;
    if body.id.contains('%') {
        return Err(ApiError::bad_request("User name cannot contain '%'"));
    }
    let invite = body.invite_user == Some(true);
    let mut id = body.id;
    if invite {
        id = invite_address(&id).ok_or_else(|| ApiError::bad_request("Invalid email format"))?.to_lowercase();
    }
    caller.require(&[Permission::new(action::CREATE_USER, arn::user(&id))])?;
    if invite {
        return Err(ApiError::NotImplemented("Not Implemented".into()));
    }
    // the auth service's check (`model.ValidateAuthEntityID`: not empty, no `/`) and ours
    if !valid_user_id(&id) || id.contains('/') {
        return Err(ApiError::bad_request("invalid request"));
    }
    let user = s.db(move |m| m.create_user(&id)).await?;
    json_response(StatusCode::CREATED, &user)
}

pub async fn get_user(s: &Arc<Embedded>, id: String) -> ApiResult<Response<Body>> {
    let user = not_found_as(s.db(move |m| m.get_user(&id)).await, "user not found")?;
    json_response(StatusCode::OK, &user)
}

pub async fn delete_user(s: &Arc<Embedded>, id: String) -> ApiResult<Response<Body>> {
    not_found_as(s.db(move |m| m.delete_user(&id)).await, "user not found")?;
    Ok(status_response(StatusCode::NO_CONTENT))
}

/// A list of what a user has, empty for an unknown user: the auth service lists the user's keys
/// without looking the user up (`contrib/auth/acl/service.go` `ListUserCredentials`,
/// `ListUserPolicies`).
pub fn empty_if_unknown<T>(listed: ApiResult<(Vec<T>, bool)>) -> ApiResult<(Vec<T>, bool)> {
    match listed {
        Err(ApiError::NotFound(_)) => Ok((Vec::new(), false)),
        listed => listed,
    }
}

pub async fn list_credentials(s: &Arc<Embedded>, user: String, req: Request<Incoming>) -> ApiResult<Response<Body>> {
    let (prefix, after, amount) = page_params(&req)?;
    let listed = s.db(move |m| m.list_credentials(&user, &prefix, &after, amount)).await;
    let (creds, more) = empty_if_unknown(listed)?;
    let page = auth_pagination(creds.len(), more, creds.last().map(|c| c.access_key_id.as_str()));
    json_response(StatusCode::OK, &CredentialsList { pagination: page, results: creds })
}

pub async fn create_credentials(s: &Arc<Embedded>, user: String) -> ApiResult<Response<Body>> {
    let created = not_found_as(s.db(move |m| m.create_credentials(&user)).await, "not found")?;
    json_response(StatusCode::CREATED, &created)
}

pub async fn get_credentials(s: &Arc<Embedded>, user: String, key: String) -> ApiResult<Response<Body>> {
    let creds = not_found_as(s.db(move |m| m.get_credentials(&user, &key)).await, "credentials not found")?;
    json_response(StatusCode::OK, &creds)
}

pub async fn delete_credentials(s: &Arc<Embedded>, user: String, key: String) -> ApiResult<Response<Body>> {
    not_found_as(s.db(move |m| m.delete_credentials(&user, &key)).await, "credentials not found")?;
    Ok(status_response(StatusCode::NO_CONTENT))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invitations_take_an_address_as_go_parses_it() {
        assert_eq!(invite_address("Bob@Example.com"), Some("Bob@Example.com"));
        assert_eq!(invite_address("Bob Smith <bob@example.com>"), Some("bob@example.com"));
        for bad in ["bob", "@example.com", "bob@", "a b@c", "a@b@c"] {
            assert_eq!(invite_address(bad), None, "{bad}");
        }
        assert_eq!(auth_pagination(2, true, Some("b")).max_per_page, 0);
    }
}
