//! Tag operations (`pkg/api/controller.go` `ListTags`, `CreateTag`, `GetTag`, `DeleteTag`):
//! `listTags` (`fs:ListTags` on the repository), `createTag` (201 `Ref`; `fs:CreateTag` on the new
//! tag), `getTag` (`fs:ReadTag`), `deleteTag` (204; `fs:DeleteTag`; `force` for a read-only
//! repository).

use super::repos_api::pagination;
use crate::Embedded;
use crate::authz::{Caller, Permission, action, arn};
use crate::catalog::clamp_amount;
use crate::error::ApiResult;
use crate::http::{Body, Query, json_response, read_json, status_response};
use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use lakefs_api::dto::{Ref, RefList};
use serde::Deserialize;
use std::sync::Arc;

/// `TagCreation`.
#[derive(Debug, Deserialize)]
struct TagCreation {
    id: String,
    #[serde(rename = "ref")]
    reference: String,
    #[serde(default)]
    force: Option<bool>,
}

pub async fn list_tags(s: &Arc<Embedded>, repo: String, req: Request<Incoming>) -> ApiResult<Response<Body>> {
    let q = Query::parse(req.uri().query());
    let (prefix, after) = (q.str_or_empty("prefix").to_string(), q.str_or_empty("after").to_string());
    let amount = clamp_amount(q.amount()?);
    let (refs, more) = s.db(move |m| m.list_tags(&repo, &prefix, &after, amount)).await?;
    let page = pagination(refs.len(), more, refs.last().map(|r| r.id.as_str()));
    json_response(StatusCode::OK, &RefList { pagination: page, results: refs })
}

pub async fn create_tag(
    s: &Arc<Embedded>,
    repo: String,
    caller: &Caller,
    req: Request<Incoming>,
) -> ApiResult<Response<Body>> {
    let body: TagCreation = read_json(req.into_body()).await?;
    caller.require(&[Permission::new(action::CREATE_TAG, arn::tag(&repo, &body.id))])?;
    let force = body.force == Some(true);
    let id = body.id.clone();
    let commit_id = s.db(move |m| m.create_tag(&repo, &body.id, &body.reference, force)).await?;
    json_response(StatusCode::CREATED, &Ref { id, commit_id })
}

pub async fn get_tag(s: &Arc<Embedded>, repo: String, tag: String) -> ApiResult<Response<Body>> {
    let found = s.db(move |m| m.get_tag(&repo, &tag)).await?;
    json_response(StatusCode::OK, &found)
}

pub async fn delete_tag(
    s: &Arc<Embedded>,
    repo: String,
    tag: String,
    req: Request<Incoming>,
) -> ApiResult<Response<Body>> {
    let force = Query::parse(req.uri().query()).bool("force", false)?;
    s.db(move |m| m.delete_tag(&repo, &tag, force)).await?;
    Ok(status_response(StatusCode::NO_CONTENT))
}
