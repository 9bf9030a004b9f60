//! S3 operations on lakeFS: one file per operation group (`handle_<operation>`), dispatched from
//! the router's [`Endpoint`]. Bucket = lakeFS repository; key = `<ref>/<path>`. An operation we do
//! not implement answers `501 NotImplemented` naming it.

pub mod bucket;
pub mod copy;
pub mod data;
pub mod delete;
pub mod errors;
pub mod get;
pub mod headers;
pub mod list;
mod list_xml;
pub mod put;

use crate::body::Body;
use crate::s3::router::Endpoint;
use crate::s3::service::Gateway;
use crate::s3::sigv4::Verified;
use crate::s3::{S3Error, S3Result};
use crate::s3_err;
use http::Response;
use hyper::body::Incoming;

/// What every operation handler gets.
pub struct Ctx<'a> {
    pub gw: &'a Gateway,
    pub parts: &'a http::request::Parts,
    pub verified: &'a Verified,
    pub request_id: &'a str,
}

/// Runs the operation `endpoint` names.
pub async fn dispatch(ctx: &Ctx<'_>, endpoint: Endpoint, body: Incoming) -> S3Result<Response<Body>> {
    use Endpoint::*;
    match endpoint {
        ListBuckets => bucket::handle_list_buckets(ctx).await,
        HeadBucket { bucket } => bucket::handle_head_bucket(ctx, &bucket).await,
        GetBucketLocation { bucket } => bucket::handle_get_bucket_location(ctx, &bucket).await,
        GetObject { bucket, key, version_id, part_number } => {
            get::handle_get_object(ctx, &bucket, &key, version_id.as_deref(), part_number, true).await
        }
        HeadObject { bucket, key, version_id, part_number } => {
            get::handle_get_object(ctx, &bucket, &key, version_id.as_deref(), part_number, false).await
        }
        ListObjectsV2 { bucket } => list::handle_list_objects_v2(ctx, &bucket).await,
        ListObjects { bucket } => list::handle_list_objects_v1(ctx, &bucket).await,
        DeleteObject { bucket, key, version_id } => {
            delete::handle_delete_object(ctx, &bucket, &key, version_id.as_deref()).await
        }
        DeleteObjects { bucket } => delete::handle_delete_objects(ctx, &bucket, body).await,
        CopyObject { bucket, key } => copy::handle_copy_object(ctx, &bucket, &key).await,
        PutObject { bucket, key } => put::handle_put_object(ctx, &bucket, &key, body).await,
        other => Err(S3Error::not_implemented(other.name())),
    }
}

/// Splits an object key into `(ref, path)`; a key without a path is no object.
pub fn split_key(key: &str) -> S3Result<(&str, &str)> {
    match key.split_once('/') {
        Some((reference, path)) if !reference.is_empty() && !path.is_empty() => Ok((reference, path)),
        _ => Err(s3_err!(NoSuchKey, "The specified key does not exist (keys are <ref>/<path>).")),
    }
}

/// Splits a key to write into `(branch, path)`.
pub fn split_write_key(key: &str) -> S3Result<(&str, &str)> {
    match key.split_once('/') {
        Some((branch, path)) if !branch.is_empty() && !path.is_empty() => Ok((branch, path)),
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
            assert_eq!(split_key(bad).unwrap_err().code, crate::s3::S3ErrorCode::NoSuchKey, "{bad}");
        }
    }
}
