//! What each lakeFS operation needs the caller to be allowed to do: the action and resource ARN
//! lakeFS's controller (`pkg/api/controller.go`, `c.authorize(…)` at the top of each operation)
//! checks, known from the path and query.
//!
//! Operations whose resource comes from the body are checked by their handlers:
//! `createRepository` (repository and storage namespace), `createBranch` (the new branch),
//! `createTag` (the new tag),
//! `copyObject` and `uploadPartCopy` (reading the source), `deleteObjects` (each path; denied
//! paths are reported as 401 entries, as lakeFS does), `createUser`, `createPolicy`,
//! `importStart` (each source and destination) and `mergePullRequest` (the pull request's
//! destination branch, known once it is read: an unknown pull request is 404 before any check).

use super::Route;
use crate::authz::{Permission, action as a, arn};
use crate::http::Query;

/// The permissions `route` needs before it runs.
pub fn required(route: &Route, q: &Query) -> Vec<Permission> {
    use Route::*;
    let one = |action, resource: String| vec![Permission::new(action, resource)];
    let object = |r: &str, param: &str| arn::object(r, q.str_or_empty(param));
    match route {
        HealthCheck | Login | StsLogin | GetAuthCapabilities | GetCurrentUser | GetConfig | GetLakeFsVersion => vec![],
        CreateRepository | CreateBranch(_) | CreateTag(_) | DeleteObjects(..) | ImportStart(..)
        | MergePullRequest(..) | ListRepositories => vec![],
        GetStorageConfig => one(a::READ_CONFIG, arn::ALL.into()),
        GetRepository(r) => one(a::READ_REPOSITORY, arn::repo(r)),
        DeleteRepository(r) => one(a::DELETE_REPOSITORY, arn::repo(r)),
        ListBranches(r) => one(a::LIST_BRANCHES, arn::repo(r)),
        GetBranch(r, b) | LogCommits(r, b) => one(a::READ_BRANCH, arn::branch(r, b)),
        DeleteBranch(r, b) => one(a::DELETE_BRANCH, arn::branch(r, b)),
        DiffBranch(r, _) | ListObjects(r, _) => one(a::LIST_OBJECTS, arn::repo(r)),
        Commit(r, b) => one(a::CREATE_COMMIT, arn::branch(r, b)),
        GetCommit(r, _) => one(a::READ_COMMIT, arn::repo(r)),
        GetObject(r, _) | HeadObject(r, _) | StatObject(r, _) => one(a::READ_OBJECT, object(r, "path")),
        UploadObject(r, _)
        | GetPhysicalAddress(r, _)
        | LinkPhysicalAddress(r, _)
        | UpdateObjectUserMetadata(r, _)
        | CreatePresignMultipartUpload(r, _)
        | CompletePresignMultipartUpload(r, ..)
        | AbortPresignMultipartUpload(r, ..)
        | UploadPart(r, ..)
        | UploadPartCopy(r, ..) => one(a::WRITE_OBJECT, object(r, "path")),
        CopyObject(r, _) => one(a::WRITE_OBJECT, object(r, "dest_path")),
        DeleteObject(r, _) => one(a::DELETE_OBJECT, object(r, "path")),
        MergeIntoBranch(r, _, b) => one(a::CREATE_COMMIT, arn::branch(r, b)),
        FindMergeBase(r, ..) => one(a::LIST_COMMITS, arn::repo(r)),
        HardResetBranch(r, b) => one(a::REVERT_BRANCH, arn::branch(r, b)),
        ListPullRequests(r) => one(a::LIST_PULL_REQUESTS, arn::repo(r)),
        CreatePullRequest(r) => one(a::WRITE_PULL_REQUEST, arn::repo(r)),
        GetPullRequest(r, _) => one(a::READ_PULL_REQUEST, arn::repo(r)),
        UpdatePullRequest(r, _) => one(a::WRITE_PULL_REQUEST, arn::repo(r)),
        ListTags(r) => one(a::LIST_TAGS, arn::repo(r)),
        GetTag(r, t) => one(a::READ_TAG, arn::tag(r, t)),
        DeleteTag(r, t) => one(a::DELETE_TAG, arn::tag(r, t)),
        ImportStatus(r, b) => one(a::READ_BRANCH, arn::branch(r, b)),
        ImportCancel(r, b) => one(a::IMPORT_CANCEL, arn::branch(r, b)),
        Auth(route) => super::auth_routes::permissions(route, q),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_operations_name_the_object() {
        let q = Query::parse(Some("path=a%2Fb.txt&dest_path=c"));
        let need = |r: Route| required(&r, &q);
        assert_eq!(
            need(Route::StatObject("r".into(), "main".into())),
            vec![Permission::new(a::READ_OBJECT, "arn:lakefs:fs:::repository/r/object/a/b.txt")]
        );
        assert_eq!(need(Route::UploadObject("r".into(), "main".into()))[0].action, a::WRITE_OBJECT);
        assert_eq!(
            need(Route::CopyObject("r".into(), "main".into()))[0].resource,
            "arn:lakefs:fs:::repository/r/object/c"
        );
        assert_eq!(need(Route::DeleteObject("r".into(), "main".into()))[0].action, a::DELETE_OBJECT);
        assert_eq!(
            need(Route::Commit("r".into(), "main".into())),
            vec![Permission::new(a::CREATE_COMMIT, "arn:lakefs:fs:::repository/r/branch/main")]
        );
        assert_eq!(need(Route::ListObjects("r".into(), "main".into()))[0].resource, "arn:lakefs:fs:::repository/r");
        assert!(need(Route::HealthCheck).is_empty() && need(Route::GetCurrentUser).is_empty());
        let base = need(Route::FindMergeBase("r".into(), "a".into(), "b".into()));
        assert_eq!(base, vec![Permission::new(a::LIST_COMMITS, "arn:lakefs:fs:::repository/r")]);
        // checked by their handlers, once the body or the pull request is read
        assert!(need(Route::MergePullRequest("r".into(), "p".into())).is_empty());
        assert!(need(Route::ImportStart("r".into(), "main".into())).is_empty());
    }
}
