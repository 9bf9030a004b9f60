//! lakeFS workflow operations of the embedded server: `mergeIntoBranch`, `findMergeBase`,
//! `hardResetBranch`, and the pull requests (`listPullRequests`, `createPullRequest`,
//! `getPullRequest`, `updatePullRequest`, `mergePullRequest`), with lakeFS's shapes: a merge
//! conflict is 409 with a `MergeResult` body whose `reference` is empty (lakeFS's controller
//! answers so), a pull request is merged with lakeFS's default message and stays open when the
//! merge fails.

use super::repos_api::{pagination, refuse_params};
use crate::Embedded;
use crate::authz::{Caller, Permission, action, arn};
use crate::catalog::{MergeOutcome, clamp_amount};
use crate::error::{ApiError, ApiResult};
use crate::http::{Body, Query, json_response, read_json, status_response};
use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use lakefs_api::workflow_dto::{
    FindMergeBaseResult, Merge, MergeResult, PullRequestBasic, PullRequestCreation, PullRequestCreationResponse,
    PullRequestsList,
};
use std::sync::Arc;

/// A merge's answer: 200 with the new commit, or 409 with an empty reference.
fn merge_answer(outcome: &MergeOutcome) -> ApiResult<Response<Body>> {
    match outcome {
        MergeOutcome::Merged(c) => json_response(StatusCode::OK, &MergeResult { reference: c.id.clone() }),
        MergeOutcome::Conflict(_) => json_response(StatusCode::CONFLICT, &MergeResult { reference: String::new() }),
    }
}

/// `mergeIntoBranch`: an empty body is a merge with every default.
pub async fn merge_into_branch(
    s: &Arc<Embedded>,
    (repo, source, dest): (String, String, String),
    c: &Caller,
    req: Request<Incoming>,
) -> ApiResult<Response<Body>> {
    let body: Merge = read_json_or_default(req).await?;
    let user = c.user.clone();
    let outcome = s.db(move |m| m.merge(&repo, &source, &dest, &body, &user)).await?;
    merge_answer(&outcome)
}

async fn read_json_or_default<T: serde::de::DeserializeOwned + Default>(req: Request<Incoming>) -> ApiResult<T> {
    let empty = req.headers().get(http::header::CONTENT_LENGTH).is_some_and(|v| v == "0");
    if empty { Ok(T::default()) } else { read_json(req.into_body()).await }
}

/// `findMergeBase`.
pub async fn find_merge_base(
    s: &Arc<Embedded>,
    (repo, source, dest): (String, String, String),
) -> ApiResult<Response<Body>> {
    let (src, dst, base) = s.db(move |m| m.find_merge_base(&repo, &source, &dest)).await?;
    let result = FindMergeBaseResult { source_commit_id: src, destination_commit_id: dst, base_commit_id: base };
    json_response(StatusCode::OK, &result)
}

/// `hardResetBranch`: `ref` (required) and `force`.
pub async fn hard_reset_branch(
    s: &Arc<Embedded>,
    repo: String,
    branch: String,
    req: Request<Incoming>,
) -> ApiResult<Response<Body>> {
    let q = Query::parse(req.uri().query());
    let reference =
        q.get("ref").filter(|r| !r.is_empty()).ok_or_else(|| ApiError::bad_request("ref: required"))?.to_string();
    let force = q.get("force").is_some_and(|v| v == "true");
    s.db(move |m| m.hard_reset(&repo, &branch, &reference, force)).await?;
    Ok(status_response(StatusCode::NO_CONTENT))
}

/// `listPullRequests`: `prefix`, `after`, `amount`, `status` (`open`, `closed`, `all`).
pub async fn list_pull_requests(s: &Arc<Embedded>, repo: String, req: Request<Incoming>) -> ApiResult<Response<Body>> {
    let q = Query::parse(req.uri().query());
    refuse_params(&q, &[])?;
    let (prefix, after) = (q.str_or_empty("prefix").to_string(), q.str_or_empty("after").to_string());
    let status = q.str_or_empty("status").to_string();
    if !["", "open", "closed", "all"].contains(&status.as_str()) {
        return Err(ApiError::bad_request("status: invalid value: validation error"));
    }
    let amount = clamp_amount(q.amount()?);
    let (pulls, more) = s.db(move |m| m.list_pulls(&repo, (&prefix, &after), &status, amount)).await?;
    let page = pagination(pulls.len(), more, pulls.last().map(|p| p.id.as_str()));
    json_response(StatusCode::OK, &PullRequestsList { pagination: page, results: pulls })
}

/// `createPullRequest`: 201 with the new id.
pub async fn create_pull_request(
    s: &Arc<Embedded>,
    repo: String,
    c: &Caller,
    req: Request<Incoming>,
) -> ApiResult<Response<Body>> {
    let body: PullRequestCreation = read_json(req.into_body()).await?;
    let author = c.user.clone();
    let id = s.db(move |m| m.create_pull(&repo, &body, &author)).await?;
    json_response(StatusCode::CREATED, &PullRequestCreationResponse { id })
}

/// `getPullRequest`.
pub async fn get_pull_request(s: &Arc<Embedded>, repo: String, id: String) -> ApiResult<Response<Body>> {
    let pull = s.db(move |m| m.get_pull(&repo, &id)).await?;
    json_response(StatusCode::OK, &pull)
}

/// `updatePullRequest`: 200 without a body.
pub async fn update_pull_request(
    s: &Arc<Embedded>,
    repo: String,
    id: String,
    req: Request<Incoming>,
) -> ApiResult<Response<Body>> {
    let body: PullRequestBasic = read_json(req.into_body()).await?;
    s.db(move |m| m.update_pull(&repo, &id, &body)).await?;
    Ok(status_response(StatusCode::OK))
}

/// `mergePullRequest`: merges the source branch into the destination with lakeFS's default
/// message; the pull request becomes `merged` only when the merge succeeded. As lakeFS, the pull
/// request is read first (404 before any permission check), then the caller needs
/// `fs:CreateCommit` on the destination branch and `pr:WritePullRequest` on the repository.
pub async fn merge_pull_request(s: &Arc<Embedded>, repo: String, id: String, c: &Caller) -> ApiResult<Response<Body>> {
    let (r, i) = (repo.clone(), id.clone());
    let pull = s.db(move |m| m.get_pull(&r, &i)).await?;
    c.require(&[
        Permission::new(action::CREATE_COMMIT, arn::branch(&repo, &pull.destination_branch)),
        Permission::new(action::WRITE_PULL_REQUEST, arn::repo(&repo)),
    ])?;
    let user = c.user.clone();
    let outcome = s
        .db(move |m| {
            let pull = m.get_pull(&repo, &id)?;
            if pull.status != "open" {
                return Err(ApiError::bad_request("bad pull request status"));
            }
            let outcome = m.merge(&repo, &pull.source_branch, &pull.destination_branch, &Merge::default(), &user)?;
            if let MergeOutcome::Merged(commit) = &outcome {
                m.set_pull_merged(&repo, &id, &commit.id)?;
            }
            Ok(outcome)
        })
        .await?;
    merge_answer(&outcome)
}
