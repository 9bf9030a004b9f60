//! Routing of the embedded server: the lakeFS REST API under `/api/v1` (operation names as in
//! lakeFS's `api/swagger.yml`) and the blob store's presigned URLs under `/blob/`.

mod auth_routes;
mod blob;
mod config;
mod imports;
pub mod metrics;
mod multipart;
mod objects;
mod paths;
mod permissions;
mod policies;
mod principals;
mod repos;
mod staging;
mod tags;
mod users;
mod workflow;

use super::Embedded;
use super::authz::Caller;
use super::error::{ApiError, ApiResult};
use super::http::{Body, Query, error_response, status_response};
pub use auth_routes::AuthRoute;
use http::{Method, Request, Response};
use hyper::body::Incoming;
use paths::is_lakefs_path;
use percent_encoding::percent_decode_str;
use std::sync::Arc;

/// A lakeFS REST operation with its path parameters (repository, branch, ref, commit id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    HealthCheck,
    GetConfig,
    GetStorageConfig,
    GetLakeFsVersion,
    Login,
    StsLogin,
    GetAuthCapabilities,
    GetCurrentUser,
    ListRepositories,
    CreateRepository,
    GetRepository(String),
    DeleteRepository(String),
    ListBranches(String),
    CreateBranch(String),
    GetBranch(String, String),
    DeleteBranch(String, String),
    DiffBranch(String, String),
    Commit(String, String),
    GetCommit(String, String),
    LogCommits(String, String),
    GetObject(String, String),
    HeadObject(String, String),
    StatObject(String, String),
    ListObjects(String, String),
    UploadObject(String, String),
    DeleteObject(String, String),
    DeleteObjects(String, String),
    CopyObject(String, String),
    GetPhysicalAddress(String, String),
    LinkPhysicalAddress(String, String),
    UpdateObjectUserMetadata(String, String),
    CreatePresignMultipartUpload(String, String),
    /// Repository, branch, upload id.
    CompletePresignMultipartUpload(String, String, String),
    AbortPresignMultipartUpload(String, String, String),
    /// Repository, branch, upload id, part number (as given).
    UploadPart(String, String, String, String),
    UploadPartCopy(String, String, String, String),
    /// Repository, source ref, destination branch.
    MergeIntoBranch(String, String, String),
    FindMergeBase(String, String, String),
    HardResetBranch(String, String),
    ListPullRequests(String),
    CreatePullRequest(String),
    /// Repository, pull request id.
    GetPullRequest(String, String),
    UpdatePullRequest(String, String),
    MergePullRequest(String, String),
    ImportStart(String, String),
    ImportStatus(String, String),
    ImportCancel(String, String),
    ListTags(String),
    CreateTag(String),
    /// Repository, tag id.
    GetTag(String, String),
    DeleteTag(String, String),
    /// Users, credentials, policies and external principals (`/auth/…`).
    Auth(AuthRoute),
}

impl Route {
    /// The operation `method path` names, if it is one we serve.
    pub fn parse(method: &Method, path: &str) -> Option<Route> {
        let rest = path.strip_prefix("/api/v1/")?;
        let segs: Vec<String> = rest
            .split('/')
            .map(|s| percent_decode_str(s).decode_utf8().map(|c| c.into_owned()))
            .collect::<Result<_, _>>()
            .ok()?;
        let s: Vec<&str> = segs.iter().map(String::as_str).collect();
        let m = method.as_str();
        let o = |a: &str, b: &str| (a.to_string(), b.to_string());
        use Route::*;
        Some(match (m, s.as_slice()) {
            ("GET", ["healthcheck"]) => HealthCheck,
            ("GET", ["config"]) => GetConfig,
            ("GET", ["config", "storage"]) => GetStorageConfig,
            ("GET", ["config", "version"]) => GetLakeFsVersion,
            ("POST", ["auth", "login"]) => Login,
            ("POST", ["sts", "login"]) => StsLogin,
            ("GET", ["auth", "capabilities"]) => GetAuthCapabilities,
            ("GET", ["user"]) => GetCurrentUser,
            ("GET", ["repositories"]) => ListRepositories,
            ("POST", ["repositories"]) => CreateRepository,
            ("GET", ["repositories", r]) => GetRepository(r.to_string()),
            ("DELETE", ["repositories", r]) => DeleteRepository(r.to_string()),
            ("GET", ["repositories", r, "branches"]) => ListBranches(r.to_string()),
            ("POST", ["repositories", r, "branches"]) => CreateBranch(r.to_string()),
            ("GET", ["repositories", r, "branches", b]) => {
                let (r, b) = o(r, b);
                GetBranch(r, b)
            }
            ("DELETE", ["repositories", r, "branches", b]) => {
                let (r, b) = o(r, b);
                DeleteBranch(r, b)
            }
            ("GET", ["repositories", r, "branches", b, "diff"]) => {
                let (r, b) = o(r, b);
                DiffBranch(r, b)
            }
            ("POST", ["repositories", r, "branches", b, "commits"]) => {
                let (r, b) = o(r, b);
                Commit(r, b)
            }
            ("GET", ["repositories", r, "commits", c]) => {
                let (r, c) = o(r, c);
                GetCommit(r, c)
            }
            ("GET", ["repositories", r, "refs", x, "commits"]) => {
                let (r, x) = o(r, x);
                LogCommits(r, x)
            }
            ("GET", ["repositories", r, "refs", x, "objects"]) => {
                let (r, x) = o(r, x);
                GetObject(r, x)
            }
            ("HEAD", ["repositories", r, "refs", x, "objects"]) => {
                let (r, x) = o(r, x);
                HeadObject(r, x)
            }
            ("GET", ["repositories", r, "refs", x, "objects", "stat"]) => {
                let (r, x) = o(r, x);
                StatObject(r, x)
            }
            ("GET", ["repositories", r, "refs", x, "objects", "ls"]) => {
                let (r, x) = o(r, x);
                ListObjects(r, x)
            }
            ("POST", ["repositories", r, "branches", b, "objects"]) => {
                let (r, b) = o(r, b);
                UploadObject(r, b)
            }
            ("DELETE", ["repositories", r, "branches", b, "objects"]) => {
                let (r, b) = o(r, b);
                DeleteObject(r, b)
            }
            ("POST", ["repositories", r, "branches", b, "objects", "delete"]) => {
                let (r, b) = o(r, b);
                DeleteObjects(r, b)
            }
            ("POST", ["repositories", r, "branches", b, "objects", "copy"]) => {
                let (r, b) = o(r, b);
                CopyObject(r, b)
            }
            ("GET", ["repositories", r, "branches", b, "staging", "backing"]) => {
                let (r, b) = o(r, b);
                GetPhysicalAddress(r, b)
            }
            ("PUT", ["repositories", r, "branches", b, "objects", "stat", "user_metadata"]) => {
                let (r, b) = o(r, b);
                UpdateObjectUserMetadata(r, b)
            }
            ("PUT", ["repositories", r, "branches", b, "staging", "backing"]) => {
                let (r, b) = o(r, b);
                LinkPhysicalAddress(r, b)
            }
            ("POST", ["repositories", r, "branches", b, "staging", "pmpu"]) => {
                let (r, b) = o(r, b);
                CreatePresignMultipartUpload(r, b)
            }
            ("PUT", ["repositories", r, "branches", b, "staging", "pmpu", u]) => {
                CompletePresignMultipartUpload(r.to_string(), b.to_string(), u.to_string())
            }
            ("DELETE", ["repositories", r, "branches", b, "staging", "pmpu", u]) => {
                AbortPresignMultipartUpload(r.to_string(), b.to_string(), u.to_string())
            }
            ("PUT", ["repositories", r, "branches", b, "staging", "pmpu", u, "parts", n]) => {
                UploadPart(r.to_string(), b.to_string(), u.to_string(), n.to_string())
            }
            ("PUT", ["repositories", r, "branches", b, "staging", "pmpu", u, "parts", n, "copy"]) => {
                UploadPartCopy(r.to_string(), b.to_string(), u.to_string(), n.to_string())
            }
            ("POST", ["repositories", r, "refs", x, "merge", b]) => {
                MergeIntoBranch(r.to_string(), x.to_string(), b.to_string())
            }
            ("GET", ["repositories", r, "refs", x, "merge", b]) => {
                FindMergeBase(r.to_string(), x.to_string(), b.to_string())
            }
            ("PUT", ["repositories", r, "branches", b, "hard_reset"]) => {
                let (r, b) = o(r, b);
                HardResetBranch(r, b)
            }
            ("GET", ["repositories", r, "pulls"]) => ListPullRequests(r.to_string()),
            ("POST", ["repositories", r, "pulls"]) => CreatePullRequest(r.to_string()),
            ("GET", ["repositories", r, "pulls", p]) => {
                let (r, p) = o(r, p);
                GetPullRequest(r, p)
            }
            ("PATCH", ["repositories", r, "pulls", p]) => {
                let (r, p) = o(r, p);
                UpdatePullRequest(r, p)
            }
            ("PUT", ["repositories", r, "pulls", p, "merge"]) => {
                let (r, p) = o(r, p);
                MergePullRequest(r, p)
            }
            ("POST", ["repositories", r, "branches", b, "import"]) => {
                let (r, b) = o(r, b);
                ImportStart(r, b)
            }
            ("GET", ["repositories", r, "branches", b, "import"]) => {
                let (r, b) = o(r, b);
                ImportStatus(r, b)
            }
            ("GET", ["repositories", r, "tags"]) => ListTags(r.to_string()),
            ("POST", ["repositories", r, "tags"]) => CreateTag(r.to_string()),
            ("GET", ["repositories", r, "tags", t]) => {
                let (r, t) = o(r, t);
                GetTag(r, t)
            }
            ("DELETE", ["repositories", r, "tags", t]) => {
                let (r, t) = o(r, t);
                DeleteTag(r, t)
            }
            ("DELETE", ["repositories", r, "branches", b, "import"]) => {
                let (r, b) = o(r, b);
                ImportCancel(r, b)
            }
            _ => return AuthRoute::parse(m, s.as_slice()).map(Auth),
        })
    }

    /// Operations lakeFS serves without credentials (`security: []`).
    pub fn is_public(&self) -> bool {
        match self {
            Route::HealthCheck | Route::Login | Route::StsLogin | Route::GetAuthCapabilities => true,
            Route::Auth(a) => a.is_public(),
            _ => false,
        }
    }
}

/// Entry point of every request to the embedded server.
pub async fn handle(state: Arc<Embedded>, req: Request<Incoming>) -> Response<Body> {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let result = if path.starts_with("/blob/") {
        blob::handle(&state, req).await
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
            if path.starts_with("/blob/") { blob::error_response(&err) } else { error_response(&err) }
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
        ListRepositories => repos::list_repositories(s, c, req).await,
        CreateRepository => repos::create_repository(s, c, req).await,
        GetRepository(r) => repos::get_repository(s, r).await,
        DeleteRepository(r) => repos::delete_repository(s, r, req).await,
        ListBranches(r) => repos::list_branches(s, r, req).await,
        CreateBranch(r) => repos::create_branch(s, r, c, req).await,
        GetBranch(r, b) => repos::get_branch(s, r, b).await,
        DeleteBranch(r, b) => repos::delete_branch(s, r, b, req).await,
        DiffBranch(r, b) => repos::diff_branch(s, r, b, req).await,
        Commit(r, b) => repos::commit(s, r, b, c.user.clone(), req).await,
        GetCommit(r, c) => repos::get_commit(s, r, c).await,
        LogCommits(r, x) => repos::log_commits(s, r, x, req).await,
        GetObject(r, x) => objects::get_object(s, r, x, req, true).await,
        HeadObject(r, x) => objects::get_object(s, r, x, req, false).await,
        StatObject(r, x) => objects::stat_object(s, r, x, req).await,
        ListObjects(r, x) => objects::list_objects(s, r, x, req).await,
        UploadObject(r, b) => objects::upload_object(s, r, b, req).await,
        DeleteObject(r, b) => objects::delete_object(s, r, b, req).await,
        DeleteObjects(r, b) => objects::delete_objects(s, r, b, c, req).await,
        CopyObject(r, b) => objects::copy_object(s, r, b, c, req).await,
        GetPhysicalAddress(r, b) => staging::get_physical_address(s, r, b, req).await,
        LinkPhysicalAddress(r, b) => staging::link_physical_address(s, r, b, req).await,
        UpdateObjectUserMetadata(r, b) => objects::update_object_user_metadata(s, r, b, req).await,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_follow_the_lakefs_spec() {
        let p = |m: &str, path: &str| Route::parse(&Method::from_bytes(m.as_bytes()).unwrap(), path);
        assert_eq!(p("GET", "/api/v1/healthcheck"), Some(Route::HealthCheck));
        assert_eq!(
            p("GET", "/api/v1/repositories/r/refs/main/objects/stat"),
            Some(Route::StatObject("r".into(), "main".into()))
        );
        assert_eq!(
            p("HEAD", "/api/v1/repositories/r/refs/c1/objects"),
            Some(Route::HeadObject("r".into(), "c1".into()))
        );
        assert_eq!(
            p("PUT", "/api/v1/repositories/r/branches/b%2Dx/staging/backing"),
            Some(Route::LinkPhysicalAddress("r".into(), "b-x".into()))
        );
        assert_eq!(
            p("POST", "/api/v1/repositories/r/branches/main/objects/delete"),
            Some(Route::DeleteObjects("r".into(), "main".into()))
        );
        assert_eq!(p("GET", "/api/v1/repositories/r/commits/abc"), Some(Route::GetCommit("r".into(), "abc".into())));
        assert_eq!(
            p("PUT", "/api/v1/repositories/r/branches/main/staging/pmpu/u1/parts/3/copy"),
            Some(Route::UploadPartCopy("r".into(), "main".into(), "u1".into(), "3".into()))
        );
        assert_eq!(
            p("DELETE", "/api/v1/repositories/r/branches/main/staging/pmpu/u1"),
            Some(Route::AbortPresignMultipartUpload("r".into(), "main".into(), "u1".into()))
        );
        assert_eq!(p("PATCH", "/api/v1/repositories/r"), None);
        assert_eq!(p("GET", "/api/v2/repositories"), None);
        assert_eq!(p("GET", "/api/v1/repositories/%FF"), None);
        assert!(Route::Login.is_public());
        assert!(is_lakefs_path("/api/v1/repositories/r/refs/a/merge/b"));
        assert!(is_lakefs_path("/api/v1/repositories/r/branches/b/staging/pmpu/u/parts/1/copy"));
        assert!(!is_lakefs_path("/api/v1/repositories/r/nothing"));
        assert!(!is_lakefs_path("/api/v1/repositories//tags"));
        assert!(!is_lakefs_path("/no/such/route"));
        assert!(!Route::ListRepositories.is_public());
    }
}
