//! S3 operations on lakeFS: one file per operation group (`handle_<operation>`), dispatched from
//! the router's [`Endpoint`]. Bucket = lakeFS repository; key = `<ref>/<path>`. An operation we do
//! not implement answers `501 NotImplemented` naming it.

pub mod bucket;
pub mod copy;
pub mod datapath;
pub mod delete;
pub mod delete_xml;
pub mod errors;
pub mod get;
pub mod headers;
pub mod list;
pub(crate) mod list_xml;
pub mod multipart;
pub mod put;
pub mod state;
pub mod storage;
pub mod target;

use crate::auth::Verified;
use http::Response;
use hyper::body::Incoming;
use lakegate_net::body::Body;
use s3_wire::router::Endpoint;
use s3_wire::s3_err;
use s3_wire::{S3Error, S3Result};
pub use state::Gateway;

/// What every operation handler gets.
pub struct Ctx<'a> {
    pub gw: &'a std::sync::Arc<Gateway>,
    /// lakeFS as the identity of the key that signed the request.
    pub lakefs: lakefs_api::LakeFsClient,
    pub parts: &'a http::request::Parts,
    pub verified: &'a Verified,
    pub request_id: &'a str,
    /// The request body's progress (the request timeout counts from it).
    pub progress: s3_wire::limits::Progress,
}

impl Ctx<'_> {
    /// How a request body is watched: idle timeout and progress.
    pub fn body_watch(&self) -> s3_wire::body::Watch {
        s3_wire::body::Watch { idle: self.gw.limits.body_idle, progress: self.progress.clone() }
    }
}

/// An owned copy of a [`Ctx`], for work that outlives the handler (a spawned task).
pub struct OwnedCtx {
    gw: std::sync::Arc<Gateway>,
    lakefs: lakefs_api::LakeFsClient,
    parts: http::request::Parts,
    verified: Verified,
    request_id: String,
    progress: s3_wire::limits::Progress,
}

impl OwnedCtx {
    pub fn of(ctx: &Ctx<'_>) -> OwnedCtx {
        let p = ctx.parts;
        let mut req = http::Request::new(());
        *req.method_mut() = p.method.clone();
        *req.uri_mut() = p.uri.clone();
        *req.version_mut() = p.version;
        *req.headers_mut() = p.headers.clone();
        let parts = req.into_parts().0;
        OwnedCtx {
            gw: ctx.gw.clone(),
            lakefs: ctx.lakefs.clone(),
            parts,
            verified: ctx.verified.clone(),
            request_id: ctx.request_id.to_string(),
            progress: ctx.progress.clone(),
        }
    }

    pub fn ctx(&self) -> Ctx<'_> {
        Ctx {
            gw: &self.gw,
            lakefs: self.lakefs.clone(),
            parts: &self.parts,
            verified: &self.verified,
            request_id: &self.request_id,
            progress: self.progress.clone(),
        }
    }
}

/// Runs the operation `endpoint` names. Bucket names are resolved first (`repo` or `repo.branch`,
/// see [`target`]), so handlers see a repository and a `<ref>/<path>` key.
pub async fn dispatch(ctx: &Ctx<'_>, endpoint: Endpoint, body: Incoming) -> S3Result<Response<Body>> {
    use Endpoint::*;
    let t = match (&endpoint, endpoint.bucket()) {
        (CreateBucket { .. } | DeleteBucket { .. }, Some(b)) => target::parse(b),
        (_, Some(b)) => target::resolve(ctx, b).await?,
        (_, None) => target::Target { repo: String::new(), branch: None },
    };
    match endpoint {
        ListBuckets => bucket::handle_list_buckets(ctx).await,
        CreateBucket { bucket } => bucket::handle_create_bucket(ctx, &bucket).await,
        DeleteBucket { bucket } => bucket::handle_delete_bucket(ctx, &bucket).await,
        HeadBucket { .. } => bucket::handle_head_bucket(ctx, &t).await,
        GetBucketLocation { .. } => bucket::handle_get_bucket_location(ctx, &t).await,
        GetObject { key, version_id, part_number, .. } => {
            let r = get::handle_get_object(ctx, &t.repo, &t.key(&key), version_id.as_deref(), part_number, true).await;
            missing_branch_bucket(ctx, &t, r).await
        }
        HeadObject { key, version_id, part_number, .. } => {
            let r = get::handle_get_object(ctx, &t.repo, &t.key(&key), version_id.as_deref(), part_number, false).await;
            missing_branch_bucket(ctx, &t, r).await
        }
        ListObjectsV2 { bucket } => list::handle_list_objects_v2(ctx, &t, &bucket).await,
        ListObjects { bucket } => list::handle_list_objects_v1(ctx, &t, &bucket).await,
        DeleteObject { key, version_id, .. } => {
            delete::handle_delete_object(ctx, &t.repo, &t.key(&key), version_id.as_deref()).await
        }
        DeleteObjects { .. } => delete::handle_delete_objects(ctx, &t, body).await,
        CopyObject { key, .. } => copy::handle_copy_object(ctx, &t.repo, &t.key(&key)).await,
        PutObject { key, .. } => put::handle_put_object(ctx, &t.repo, &t.key(&key), body).await,
        CreateMultipartUpload { bucket, key } => {
            multipart::handle_create_multipart_upload(ctx, &t, (&bucket, &key)).await
        }
        UploadPart { key, upload_id, part_number, .. } => {
            multipart::part::handle_upload_part(ctx, &t, &key, (&upload_id, part_number), body).await
        }
        UploadPartCopy { key, upload_id, part_number, .. } => {
            multipart::part::handle_upload_part_copy(ctx, &t, &key, (&upload_id, part_number)).await
        }
        CompleteMultipartUpload { bucket, key, upload_id } => {
            multipart::complete::handle_complete_multipart_upload(ctx, &t, (&bucket, &key), &upload_id, body).await
        }
        AbortMultipartUpload { key, upload_id, .. } => {
            multipart::handle_abort_multipart_upload(ctx, &t, &key, &upload_id).await
        }
        ListParts { bucket, key, upload_id } => {
            multipart::listing::handle_list_parts(ctx, &t, (&bucket, &key), &upload_id).await
        }
        ListMultipartUploads { bucket } => multipart::listing::handle_list_multipart_uploads(ctx, &t, &bucket).await,
        other => Err(S3Error::not_implemented(other.name())),
    }
}

/// For a branch bucket, a `NoSuchKey` whose branch does not exist is `NoSuchBucket`.
async fn missing_branch_bucket(
    ctx: &Ctx<'_>,
    t: &target::Target,
    r: S3Result<Response<Body>>,
) -> S3Result<Response<Body>> {
    match (r, &t.branch) {
        (Err(e), Some(branch)) if e.code == s3_wire::S3ErrorCode::NoSuchKey => {
            match ctx.lakefs.get_branch(&t.repo, branch).await {
                Err(lake) if lake.is_not_found() => Err(s3_err!(NoSuchBucket, "The specified bucket does not exist")),
                _ => Err(e),
            }
        }
        (r, _) => r,
    }
}

/// Splits an object key into `(ref, path)`; a key without a path is no object.
pub fn split_key(key: &str) -> S3Result<(&str, &str)> {
    match key.split_once('/') {
        Some((reference, path)) if !reference.is_empty() && !path.is_empty() => Ok((reference, path)),
        _ => Err(s3_err!(NoSuchKey, "The specified key does not exist (keys are <ref>/<path>).")),
    }
}

/// Splits a key to write into `(branch, path)`. A first segment that cannot be a lakeFS branch
/// name (`^\w[-\w]*$`: a tag such as `v1.2`, a ref expression such as `main~1` or `main@`) is
/// refused before any lakeFS call with `NoSuchBucket`, the code lakeFS's own S3 gateway answers
/// for a write to anything but a branch (`pkg/gateway/operations/putobject.go`: `BranchExists`).
pub fn split_write_key(key: &str) -> S3Result<(&str, &str)> {
    match key.split_once('/') {
        Some((branch, path)) if !branch.is_empty() && !path.is_empty() => {
            let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
            let mut chars = branch.chars();
            if !(chars.next().is_some_and(word) && chars.all(|c| word(c) || c == '-')) {
                return Err(s3_err!(
                    NoSuchBucket,
                    "The specified bucket does not exist: writes go to a branch, and {branch:?} is no branch name \
                     (tags and ref expressions are read-only)"
                ));
            }
            Ok((branch, path))
        }
        _ => Err(s3_err!(InvalidArgument, "Object keys are <branch>/<path>; {key:?} names no path")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_split_into_ref_and_path() {
        assert_eq!(split_key("main/a/b.txt").unwrap(), ("main", "a/b.txt"));
        assert_eq!(split_key("main/dir/").unwrap(), ("main", "dir/"));
        for bad in ["main", "main/", "/x"] {
            assert_eq!(split_key(bad).unwrap_err().code, s3_wire::S3ErrorCode::NoSuchKey, "{bad}");
        }
    }

    #[test]
    fn writes_go_to_branch_names_only() {
        assert_eq!(split_write_key("feature-1_x/a/b").unwrap(), ("feature-1_x", "a/b"));
        for read_only in ["v1.2/a", "main~1/a", "main@/a", "main^2/a", "-x/a", "main$/a"] {
            let e = split_write_key(read_only).unwrap_err();
            assert_eq!(e.code, s3_wire::S3ErrorCode::NoSuchBucket, "{read_only}");
        }
        assert_eq!(split_write_key("main").unwrap_err().code, s3_wire::S3ErrorCode::InvalidArgument);
    }
}
