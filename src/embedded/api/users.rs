//! User and credentials operations of lakeFS's auth API: `listUsers`, `createUser`, `getUser`,
//! `deleteUser`, `listUserCredentials`, `createCredentials`, `getCredentials`, `deleteCredentials`.
//! Credentials created here authenticate as their user (basic auth and `login`).

use super::repos::pagination;
use crate::embedded::Embedded;
use crate::embedded::authz::{Caller, Permission, action, arn};
use crate::embedded::catalog::clamp_amount;
use crate::embedded::catalog::users::valid_user_id;
use crate::embedded::error::{ApiError, ApiResult};
use crate::embedded::http::{Body, Query, json_response, read_json, status_response};
use crate::lakefs::auth_dto::{CredentialsList, UserCreation, UserList};
use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use std::sync::Arc;

/// `prefix`, `after` and the clamped `amount` of a lakeFS list request.
pub fn page_params(req: &Request<Incoming>) -> ApiResult<(String, String, usize)> {
    let q = Query::parse(req.uri().query());
    let amount = clamp_amount(q.amount()?);
    Ok((q.str_or_empty("prefix").to_string(), q.str_or_empty("after").to_string(), amount))
}

pub async fn list_users(s: &Arc<Embedded>, req: Request<Incoming>) -> ApiResult<Response<Body>> {
    let (prefix, after, amount) = page_params(&req)?;
    let (users, more) = s.db(move |m| m.list_users(&prefix, &after, amount)).await?;
    let page = pagination(users.len(), more, users.last().map(|u| u.id.as_str()));
    json_response(StatusCode::OK, &UserList { pagination: page, results: users })
}

pub async fn create_user(s: &Arc<Embedded>, caller: &Caller, req: Request<Incoming>) -> ApiResult<Response<Body>> {
    let body: UserCreation = read_json(req.into_body()).await?;
    if !valid_user_id(&body.id) {
        return Err(ApiError::bad_request(format!("user id: invalid value: {:?}", body.id)));
    }
    caller.require(&[Permission::new(action::CREATE_USER, arn::user(&body.id))])?;
    if body.invite_user == Some(true) {
        return Err(ApiError::NotImplemented("invite_user is not supported by the embedded server".into()));
    }
    let user = s.db(move |m| m.create_user(&body.id)).await?;
    json_response(StatusCode::CREATED, &user)
}

pub async fn get_user(s: &Arc<Embedded>, id: String) -> ApiResult<Response<Body>> {
    let user = s.db(move |m| m.get_user(&id)).await?;
    json_response(StatusCode::OK, &user)
}

pub async fn delete_user(s: &Arc<Embedded>, id: String) -> ApiResult<Response<Body>> {
    s.db(move |m| m.delete_user(&id)).await?;
    Ok(status_response(StatusCode::NO_CONTENT))
}

pub async fn list_credentials(s: &Arc<Embedded>, user: String, req: Request<Incoming>) -> ApiResult<Response<Body>> {
    let (prefix, after, amount) = page_params(&req)?;
    let (creds, more) = s.db(move |m| m.list_credentials(&user, &prefix, &after, amount)).await?;
    let page = pagination(creds.len(), more, creds.last().map(|c| c.access_key_id.as_str()));
    json_response(StatusCode::OK, &CredentialsList { pagination: page, results: creds })
}

pub async fn create_credentials(s: &Arc<Embedded>, user: String) -> ApiResult<Response<Body>> {
    let created = s.db(move |m| m.create_credentials(&user)).await?;
    json_response(StatusCode::CREATED, &created)
}

pub async fn get_credentials(s: &Arc<Embedded>, user: String, key: String) -> ApiResult<Response<Body>> {
    let creds = s.db(move |m| m.get_credentials(&user, &key)).await?;
    json_response(StatusCode::OK, &creds)
}

pub async fn delete_credentials(s: &Arc<Embedded>, user: String, key: String) -> ApiResult<Response<Body>> {
    s.db(move |m| m.delete_credentials(&user, &key)).await?;
    Ok(status_response(StatusCode::NO_CONTENT))
}
