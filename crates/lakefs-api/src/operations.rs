//! The lakeFS REST operations under `/api/v1`, named by their operation ids in lakeFS's
//! `api/swagger.yml`: [`Route::parse`] turns a method and path into the operation and its path
//! parameters. The typed client labels its metrics with it; the embedded server routes with it.

mod auth;
mod paths;

pub use auth::AuthRoute;
pub use paths::is_lakefs_path;

use http::Method;
use percent_encoding::percent_decode_str;
use std::collections::BTreeMap;
use std::sync::Mutex;

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

impl Route {
    /// The operation id as lakeFS's spec spells it (`statObject`, `getUser`), as a `'static` name for
    /// metric labels.
    pub fn operation_id(&self) -> &'static str {
        let debug = format!("{self:?}");
        let debug = debug.strip_prefix("Auth(").unwrap_or(&debug);
        let name = debug.split(['(', ')']).next().unwrap_or(debug);
        let mut id = String::with_capacity(name.len());
        let mut chars = name.chars();
        if let Some(first) = chars.next() {
            id.push(first.to_ascii_lowercase());
            id.extend(chars);
        }
        intern(id)
    }
}

/// A `'static` copy of `id`, leaked once per distinct operation name (a fixed, small set).
fn intern(id: String) -> &'static str {
    static NAMES: Mutex<BTreeMap<String, &'static str>> = Mutex::new(BTreeMap::new());
    let Ok(mut names) = NAMES.lock() else { return "unknown" };
    if let Some(name) = names.get(&id) {
        return name;
    }
    let leaked: &'static str = Box::leak(id.clone().into_boxed_str());
    names.insert(id, leaked);
    leaked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_ids_are_the_specs() {
        assert_eq!(Route::StatObject("r".into(), "b".into()).operation_id(), "statObject");
        assert_eq!(Route::HealthCheck.operation_id(), "healthCheck");
        assert_eq!(Route::Auth(AuthRoute::CreateUser).operation_id(), "createUser");
        assert_eq!(Route::Auth(AuthRoute::GetUser("u".into())).operation_id(), "getUser");
    }

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
