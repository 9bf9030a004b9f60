//! Repository, branch and commit operations: `listRepositories`, `createRepository`,
//! `getRepository`, `deleteRepository`, `listBranches`, `createBranch`, `getBranch`,
//! `deleteBranch`, `diffBranch`, `commit`, `getCommit`, `logCommits` (its parameters: `log`).

use crate::Embedded;
use crate::authz::{Caller, Permission, action, action as a, arn};
use crate::catalog::diff::{Change, DiffQuery};
use crate::catalog::validate;
use crate::catalog::{clamp_amount, now_unix, valid_branch_name, valid_repo_name};
use crate::error::{ApiError, ApiResult};
use crate::http::{Body, Query, full, json_response, read_json, status_response};
use http::{HeaderValue, Request, Response, StatusCode};
use hyper::body::Incoming;
use lakefs_api::dto::{
    BranchCreation, CommitCreation, Diff, DiffList, Pagination, PathType, RefList, Repository, RepositoryCreation,
    RepositoryList,
};
use std::sync::Arc;

mod log_commits;
pub use log_commits::log_commits;

/// lakeFS reports 1000 as every listing's `max_per_page`.
pub const MAX_PER_PAGE: u64 = 1000;

/// A `Pagination` for a page whose last id is `last`.
pub fn pagination(count: usize, has_more: bool, last: Option<&str>) -> Pagination {
    Pagination {
        has_more,
        next_offset: if has_more { last.unwrap_or_default().to_string() } else { String::new() },
        results: count as u64,
        max_per_page: MAX_PER_PAGE,
    }
}

/// Rejects parameters we do not implement instead of silently ignoring them.
pub fn refuse_params(q: &Query, names: &[&str]) -> ApiResult<()> {
    for name in names {
        if q.get(name).is_some_and(|v| !v.is_empty() && v != "false") {
            return Err(ApiError::NotImplemented(format!(
                "parameter \"{name}\" is not supported by the embedded server"
            )));
        }
    }
    Ok(())
}

/// `listRepositories`, as lakeFS v1.84's `Controller.ListRepositories`: no `authorize`; 401 unless
/// some policy allows `fs:ListRepositories` on any resource, then only the repositories whose ARN
/// the caller may list (`catalog.WithListReposPermissionFilter`), filtered before paging.
pub async fn list_repositories(
    s: &Arc<Embedded>,
    caller: &Caller,
    req: Request<Incoming>,
) -> ApiResult<Response<Body>> {
    if !caller.has_action_on_any_resource(a::LIST_REPOSITORIES) {
        return Err(ApiError::Unauthorized("insufficient permissions".into()));
    }
    let caller = caller.clone();
    let visible = move |id: &str| caller.allowed(&[Permission::new(a::LIST_REPOSITORIES, arn::repo(id))]);
    let q = Query::parse(req.uri().query());
    let (prefix, after, search) = (
        q.str_or_empty("prefix").to_string(),
        q.str_or_empty("after").to_string(),
        q.str_or_empty("search").to_string(),
    );
    let amount = clamp_amount(q.amount()?);
    let (repos, more) = s.db(move |m| m.list_repositories(&prefix, &after, &search, amount, visible)).await?;
    let page = pagination(repos.len(), more, repos.last().map(|r| r.id.as_str()));
    let results = repos.into_iter().map(answer).collect();
    json_response(StatusCode::OK, &RepositoryList { pagination: page, results })
}

/// A repository as lakeFS answers it: `storage_id` always present (`""` on the single blockstore).
fn answer(mut repo: Repository) -> Repository {
    repo.storage_id.get_or_insert_with(String::new);
    repo
}

/// `createRepository`: needs `fs:CreateRepository` on the repository and
/// `fs:AttachStorageNamespace` on its storage namespace, as lakeFS.
pub async fn create_repository(
    s: &Arc<Embedded>,
    caller: &Caller,
    req: Request<Incoming>,
) -> ApiResult<Response<Body>> {
    let q = Query::parse(req.uri().query());
    refuse_params(&q, &["bare"])?;
    let body: RepositoryCreation = read_json(req.into_body()).await?;
    if !valid_repo_name(&body.name) {
        return Err(ApiError::bad_request(format!("repository id: invalid value: {:?}", body.name)));
    }
    caller.require(&[
        Permission::new(action::CREATE_REPOSITORY, arn::repo(&body.name)),
        Permission::new(action::ATTACH_STORAGE_NAMESPACE, arn::namespace(&body.storage_namespace)),
    ])?;
    // lakeFS answers an existing repository 409 before looking at the storage.
    let name = body.name.clone();
    if s.db(move |m| m.get_repository(&name)).await.is_ok() {
        return Err(ApiError::Conflict("error creating repository: not unique".into()));
    }
    // lakeFS `GetActualStorageID` (no id: the single or backward-compatible storage), then
    // "storage id: invalid value: validation error" (`graveler.ErrInvalidStorageID`) for an unknown one.
    let storage_id = body.storage_id.clone().unwrap_or_default();
    let storage = s
        .storages
        .by_id(&storage_id)
        .ok_or_else(|| ApiError::bad_request("storage id: invalid value: validation error"))?;
    storage.validate_namespace(&body.storage_namespace)?;
    let default_branch = body.default_branch.clone().filter(|b| !b.is_empty()).unwrap_or_else(|| "main".into());
    if !valid_branch_name(&default_branch) {
        return Err(ApiError::bad_request(format!("branch id: invalid value: {default_branch:?}")));
    }
    if body.sample_data == Some(true) {
        return Err(ApiError::NotImplemented("sample_data is not supported by the embedded server".into()));
    }
    let repo = Repository {
        id: body.name,
        creation_date: now_unix(),
        default_branch,
        storage_namespace: body.storage_namespace,
        storage_id: Some(storage_id),
        read_only: Some(body.read_only.unwrap_or(false)),
    };
    let created = s.db(move |m| m.create_repository(repo)).await?;
    json_response(StatusCode::CREATED, &answer(created))
}

/// `getRepository`: the id is validated first (400), as lakeFS's `Catalog.GetRepository`.
pub async fn get_repository(s: &Arc<Embedded>, repo: String) -> ApiResult<Response<Body>> {
    validate::repository("repository", &repo)?;
    let found = s.db(move |m| m.get_repository(&repo)).await?;
    json_response(StatusCode::OK, &answer(found))
}

pub async fn delete_repository(s: &Arc<Embedded>, repo: String, req: Request<Incoming>) -> ApiResult<Response<Body>> {
    let force = Query::parse(req.uri().query()).bool("force", false)?;
    s.db(move |m| m.delete_repository(&repo, force)).await?;
    Ok(status_response(StatusCode::NO_CONTENT))
}

/// `listBranches`: `prefix`, `after`, `amount` (`show_hidden` has nothing to show: the embedded
/// server creates no hidden branches).
pub async fn list_branches(s: &Arc<Embedded>, repo: String, req: Request<Incoming>) -> ApiResult<Response<Body>> {
    let q = Query::parse(req.uri().query());
    q.bool("show_hidden", false)?;
    validate::repository("repository", &repo)?;
    let (prefix, after) = (q.str_or_empty("prefix").to_string(), q.str_or_empty("after").to_string());
    let amount = clamp_amount(q.amount()?);
    let (refs, more) = s.db(move |m| m.list_branches(&repo, &prefix, &after, amount)).await?;
    let page = pagination(refs.len(), more, refs.last().map(|r| r.id.as_str()));
    json_response(StatusCode::OK, &RefList { pagination: page, results: refs })
}

pub async fn create_branch(
    s: &Arc<Embedded>,
    repo: String,
    caller: &Caller,
    req: Request<Incoming>,
) -> ApiResult<Response<Body>> {
    let body: BranchCreation = read_json(req.into_body()).await?;
    if !valid_branch_name(&body.name) {
        return Err(ApiError::bad_request(format!("branch id: invalid value: {:?}", body.name)));
    }
    caller.require(&[Permission::new(action::CREATE_BRANCH, arn::branch(&repo, &body.name))])?;
    if body.hidden == Some(true) {
        return Err(ApiError::NotImplemented("hidden branches are not supported by the embedded server".into()));
    }
    if body.source.is_empty() {
        return Err(ApiError::bad_request("source: required"));
    }
    let force = body.force == Some(true);
    let commit_id = s.db(move |m| m.create_branch(&repo, &body.name, &body.source, force)).await?;
    let mut resp = Response::new(full(commit_id));
    *resp.status_mut() = StatusCode::CREATED;
    resp.headers_mut().insert(http::header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
    Ok(resp)
}

/// `getBranch`: ids validated first (400), as lakeFS's `Catalog.GetBranchReference`.
pub async fn get_branch(s: &Arc<Embedded>, repo: String, branch: String) -> ApiResult<Response<Body>> {
    validate::repository("repository", &repo)?;
    validate::branch("branch", &branch)?;
    let found = s.db(move |m| m.get_branch(&repo, &branch)).await?;
    json_response(StatusCode::OK, &found)
}

pub async fn delete_branch(
    s: &Arc<Embedded>,
    repo: String,
    branch: String,
    req: Request<Incoming>,
) -> ApiResult<Response<Body>> {
    let force = Query::parse(req.uri().query()).bool("force", false)?;
    s.db(move |m| m.delete_branch(&repo, &branch, force)).await?;
    Ok(status_response(StatusCode::NO_CONTENT))
}

/// `diffBranch`: a page of a branch's uncommitted changes (`prefix`, `delimiter`, `after`,
/// `amount`), as lakeFS's `Catalog.DiffUncommitted`.
pub async fn diff_branch(
    s: &Arc<Embedded>,
    repo: String,
    branch: String,
    req: Request<Incoming>,
) -> ApiResult<Response<Body>> {
    let q = Query::parse(req.uri().query());
    let amount = clamp_amount(q.amount()?);
    let (prefix, delimiter, after) = (
        q.str_or_empty("prefix").to_string(),
        q.str_or_empty("delimiter").to_string(),
        q.str_or_empty("after").to_string(),
    );
    let (changes, more) = s
        .db(move |m| {
            let q = DiffQuery { prefix: &prefix, delimiter: &delimiter, after: &after, amount };
            m.diff_branch(&repo, &branch, &q)
        })
        .await?;
    let page = pagination(changes.len(), more, changes.last().map(Change::path));
    let results = changes
        .into_iter()
        .map(|c| match c {
            Change::Object(path, kind, size) => {
                Diff { diff_type: kind.into(), path, path_type: PathType::Object, size_bytes: Some(size) }
            }
            Change::CommonPrefix(path) => {
                Diff { diff_type: "prefix_changed".into(), path, path_type: PathType::CommonPrefix, size_bytes: None }
            }
        })
        .collect();
    json_response(StatusCode::OK, &DiffList { pagination: page, results })
}

/// `commit`: the body (`message` required, `metadata`, `date`, `allow_empty`, `force`) goes to
/// `Meta::commit`; `source_metarange` is not supported (501).
pub async fn commit(
    s: &Arc<Embedded>,
    repo: String,
    branch: String,
    user: String,
    req: Request<Incoming>,
) -> ApiResult<Response<Body>> {
    refuse_params(&Query::parse(req.uri().query()), &["source_metarange"])?;
    let body: CommitCreation = read_json(req.into_body()).await?;
    let commit = s
        .db(move |m| {
            // lakeFS `User.Committer`: the user's email when it has one, else the name
            let email = m.user(&user)?.and_then(|u| u.email).filter(|e| !e.is_empty());
            m.commit(&repo, &branch, &body, email.as_deref().unwrap_or(&user))
        })
        .await?;
    json_response(StatusCode::CREATED, &commit)
}

pub async fn get_commit(s: &Arc<Embedded>, repo: String, id: String) -> ApiResult<Response<Body>> {
    let commit = s.db(move |m| m.get_commit(&repo, &id)).await?;
    json_response(StatusCode::OK, &commit)
}
