//! Routing of the embedded server: the lakeFS REST API under `/api/v1` (operation names as in
//! lakeFS's `api/swagger.yml`) and the blob store's presigned URLs under `/blob/`.

mod auth_routes;
mod blob_urls;
mod config;
mod imports;
pub mod metrics;
mod multipart;
mod objects_api;
mod permissions;
mod policies_api;
mod principals_api;
mod repos_api;
mod staging;
mod tags;
mod users_api;
mod workflow;

use super::Embedded;
use super::authz::Caller;
use super::error::{ApiError, ApiResult};
use super::http::{Body, Query, error_response, status_response};
use http::{Request, Response};
use hyper::body::Incoming;
use lakefs_api::operations::is_lakefs_path;
pub use lakefs_api::operations::{AuthRoute, Route};
use std::sync::Arc;

/// Entry point of every request to the embedded server.
pub async fn handle(state: Arc<Embedded>, req: Request<Incoming>) -> Response<Body> {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let result = if path.starts_with("/blob/") {
        blob_urls::handle(&state, req).await
    } else if path == "/metrics" && method == http::Method::GET {
        Ok(metrics_response(&state))
    } else {
        api(&state, req).await
    };
    let status = result.as_ref().map_or_else(|e| e.status(), |r| r.status());
    tracing::debug!(%method, %path, status = status.as_u16(), "embedded lakeFS request");
    match result {
        Ok(resp) => resp,
        Err(err) => {
            if err.status() == http::StatusCode::INTERNAL_SERVER_ERROR {
                tracing::error!(%method, %path, %err, "embedded lakeFS request failed");
            }
            if path.starts_with("/blob/") { blob_urls::error_response(&err) } else { error_response(&err) }
        }
    }
}

/// `GET /metrics` (unauthenticated, as lakeFS's own): API calls by operation and status.
fn metrics_response(state: &Embedded) -> Response<Body> {
    let mut resp = Response::new(lakegate_net::body::full(state.api_calls.render()));
    resp.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("text/plain; version=0.0.4"));
    resp
}

/// The authenticated caller of a request and its policies' statements (401 when it carries no
/// valid credentials or its user is gone).
async fn caller(state: &Arc<Embedded>, req: &Request<Incoming>) -> ApiResult<Caller> {
    let headers = req.headers().clone();
    let now = super::catalog::now_unix();
    let key = state.jwt_key.clone();
    state
        .db(move |meta| {
            let user = super::auth::authenticate(meta, &key, &headers, now)?;
            let statements =
                // a valid token of a deleted user: lakeFS's middleware masks the cause too
                meta.user_statements(&user)?.ok_or_else(|| ApiError::Unauthorized(super::auth::AUTH_FAILED.into()))?;
            Ok(Caller::new(user, statements))
        })
        .await
}

async fn api(state: &Arc<Embedded>, req: Request<Incoming>) -> ApiResult<Response<Body>> {
    let route = Route::parse(req.method(), req.uri().path());
    if route.is_none() && !is_lakefs_path(req.uri().path()) {
        // lakeFS `serve.go`: no route of the API matched, so no middleware (authentication
        // included) ran; `InvalidAPIEndpointHandler` answers
        return Err(ApiError::not_found("invalid API endpoint"));
    }
    let caller = match &route {
        Some(r) if r.is_public() => Caller::default(),
        // lakeFS `GetCurrentUser` runs without `authorize`: no credentials → an empty user
        Some(Route::GetCurrentUser) if !super::auth::carries_credentials(req.headers()) => Caller::default(),
        _ => caller(state, &req).await?,
    };
    let Some(route) = route else {
        return Err(ApiError::NotImplemented(format!(
            "{} {} is not implemented by lakegate's embedded lakeFS server",
            req.method(),
            req.uri().path()
        )));
    };
    // lakeFS's headObject answers its denial and its errors with the status alone
    // (`authorizeCallback` / `handleApiErrorCallback` → `writeResponse(w, r, code, nil)`)
    let head_object = matches!(route, Route::HeadObject(..));
    if let Err(e) = caller.require(&permissions::required(&route, &Query::parse(req.uri().query()))) {
        return if head_object { Ok(status_response(e.status())) } else { Err(e) };
    }
    let operation = route.operation_id();
    let result = dispatch(state, route, &caller, req).await;
    state.api_calls.record(operation, result.as_ref().map_or_else(|e| e.status(), |r| r.status()).as_u16());
    match result {
        Err(e) if head_object => {
            if e.status() == http::StatusCode::INTERNAL_SERVER_ERROR {
                tracing::error!(%e, "embedded lakeFS headObject failed");
            }
            Ok(status_response(e.status()))
        }
        result => result,
    }
}

async fn dispatch(s: &Arc<Embedded>, route: Route, c: &Caller, req: Request<Incoming>) -> ApiResult<Response<Body>> {
    use Route::*;
    match route {
        HealthCheck => Ok(super::http::status_response(http::StatusCode::NO_CONTENT)),
        GetConfig => config::get_config(s),
        GetStorageConfig => config::get_storage_config(s),
        GetLakeFsVersion => config::get_version(),
        Login => config::login(s, req).await,
        StsLogin => config::sts_login(s, req).await,
        GetAuthCapabilities => config::get_auth_capabilities(),
        GetCurrentUser => config::get_current_user(s, c.user.clone()).await,
        ListRepositories => repos_api::list_repositories(s, c, req).await,
        CreateRepository => repos_api::create_repository(s, c, req).await,
        GetRepository(r) => repos_api::get_repository(s, r).await,
        DeleteRepository(r) => repos_api::delete_repository(s, r, req).await,
        ListBranches(r) => repos_api::list_branches(s, r, req).await,
        CreateBranch(r) => repos_api::create_branch(s, r, c, req).await,
        GetBranch(r, b) => repos_api::get_branch(s, r, b).await,
        DeleteBranch(r, b) => repos_api::delete_branch(s, r, b, req).await,
        DiffBranch(r, b) => repos_api::diff_branch(s, r, b, req).await,
        Commit(r, b) => repos_api::commit(s, r, b, c.user.clone(), req).await,
        GetCommit(r, c) => repos_api::get_commit(s, r, c).await,
        LogCommits(r, x) => repos_api::log_commits(s, r, x, req).await,
        GetObject(r, x) => objects_api::get_object(s, r, x, req, true).await,
        HeadObject(r, x) => objects_api::get_object(s, r, x, req, false).await,
        StatObject(r, x) => objects_api::stat_object(s, r, x, req).await,
        ListObjects(r, x) => objects_api::list_objects(s, r, x, req).await,
        UploadObject(r, b) => objects_api::upload_object(s, r, b, req).await,
        DeleteObject(r, b) => objects_api::delete_object(s, r, b, req).await,
        DeleteObjects(r, b) => objects_api::delete_objects(s, r, b, c, req).await,
        CopyObject(r, b) => objects_api::copy_object(s, r, b, c, req).await,
        GetPhysicalAddress(r, b) => staging::get_physical_address(s, r, b, req).await,
        LinkPhysicalAddress(r, b) => staging::link_physical_address(s, r, b, req).await,
        UpdateObjectUserMetadata(r, b) => objects_api::update_object_user_metadata(s, r, b, req).await,
        CreatePresignMultipartUpload(r, b) => multipart::create(s, r, b, req).await,
        CompletePresignMultipartUpload(r, b, u) => multipart::complete(s, (r, b, u), req).await,
        AbortPresignMultipartUpload(r, b, u) => multipart::abort(s, (r, b, u), req).await,
        UploadPart(r, b, u, n) => multipart::upload_part(s, (r, b, u, n), req).await,
        UploadPartCopy(r, b, u, n) => multipart::upload_part_copy(s, (r, b, u, n), c, req).await,
        MergeIntoBranch(r, x, b) => workflow::merge_into_branch(s, (r, x, b), c, req).await,
        FindMergeBase(r, x, b) => workflow::find_merge_base(s, (r, x, b)).await,
        HardResetBranch(r, b) => workflow::hard_reset_branch(s, r, b, req).await,
        ListPullRequests(r) => workflow::list_pull_requests(s, r, req).await,
        CreatePullRequest(r) => workflow::create_pull_request(s, r, c, req).await,
        GetPullRequest(r, p) => workflow::get_pull_request(s, r, p).await,
        UpdatePullRequest(r, p) => workflow::update_pull_request(s, r, p, req).await,
        MergePullRequest(r, p) => workflow::merge_pull_request(s, r, p, c).await,
        ImportStart(r, b) => imports::import_start(s, (r, b), c, req).await,
        ImportStatus(r, _) => imports::import_status(s, r, req).await,
        ImportCancel(r, _) => imports::import_cancel(s, r, req).await,
        ListTags(r) => tags::list_tags(s, r, req).await,
        CreateTag(r) => tags::create_tag(s, r, c, req).await,
        GetTag(r, t) => tags::get_tag(s, r, t).await,
        DeleteTag(r, t) => tags::delete_tag(s, r, t, req).await,
        Auth(a) => auth_routes::dispatch(s, a, c, req).await,
    }
}
