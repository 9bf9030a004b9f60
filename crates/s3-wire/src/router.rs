//! Routing: which S3 operation a request is, decided once from method, bucket/key presence, the
//! query sub-resource (`?acl`, `?uploads`, `?uploadId=`…) and a few headers (`x-amz-copy-source`,
//! `Content-Type`), following the "Request Syntax" section of each operation in the Amazon S3 API
//! Reference ("Actions" → "Amazon S3"). Handlers never look at routing again.
//!
//! Rules worth knowing:
//! - Query parameters that are not sub-resources (`x-id`, `prefix`, `max-keys`, `response-*`,
//!   `versionId`, presigning parameters…) never change the decision.
//! - A sub-resource that the method does not support at that level (`DELETE /b?location`,
//!   `DELETE /b/k?acl`) is `MethodNotAllowed`, never the plain operation: a misread sub-resource must
//!   not turn into DeleteBucket or DeleteObject.
//! - `partNumber` must be an integer in 1..=10000 and `uploadId` non-empty (`InvalidArgument`).

mod bucket_routes;
mod endpoint;
mod object_routes;
mod query;
#[cfg(test)]
mod tests;

pub use endpoint::Endpoint;
pub use query::MAX_PART_NUMBER;

use crate::addressing::Addressed;
use crate::error::{S3Error, S3Result};
use crate::s3_err;
use http::{HeaderMap, Method};
use query::Query;

/// Decides the operation of a request.
///
/// `query` holds the decoded query pairs in request order (`?acl` and `?acl=` both give `("acl", "")`).
///
/// # Errors
/// `MethodNotAllowed` when no operation has this method and shape; `InvalidArgument` for a bad
/// `partNumber`, an empty `uploadId` or `versionId`, a `list-type` other than 2 or a `select-type`
/// other than 2; `PreconditionFailed` for a bucket POST that is not `multipart/form-data`.
pub fn route(
    method: &Method,
    addressed: &Addressed,
    query: &[(String, String)],
    headers: &HeaderMap,
) -> S3Result<Endpoint> {
    let q = Query(query);
    let sub = q.subresource();
    let routed = match (&addressed.bucket, &addressed.key) {
        (None, _) => service(method, sub),
        (Some(bucket), None) => bucket_routes::bucket_level(method, bucket.clone(), sub, q, headers)?,
        (Some(bucket), Some(key)) => object_routes::object_level(method, bucket.clone(), key.clone(), sub, q, headers)?,
    };
    routed.ok_or_else(|| method_not_allowed(method, addressed))
}

fn method_not_allowed(method: &Method, addressed: &Addressed) -> S3Error {
    let resource = match (&addressed.bucket, &addressed.key) {
        (None, _) => "/".to_owned(),
        (Some(bucket), None) => format!("/{bucket}"),
        (Some(bucket), Some(key)) => format!("/{bucket}/{key}"),
    };
    s3_err!(MethodNotAllowed, "The specified method is not allowed against this resource: {method} {resource}")
        .with_resource(resource)
}

// === service level ===

fn service(method: &Method, sub: Option<&str>) -> Option<Endpoint> {
    (*method == Method::GET && sub.is_none()).then_some(Endpoint::ListBuckets)
}
