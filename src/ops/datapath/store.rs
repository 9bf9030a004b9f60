//! Where object bytes go. When lakeFS's storage presigns (`storage_config.pre_sign_support`), bytes
//! move between lakegate and the object store through presigned URLs: `getPhysicalAddress`, a PUT,
//! then `linkPhysicalAddress` to write; `statObject(presign)` and a GET to read. When it cannot
//! (lakeFS's local or mem blockstores), lakegate streams through lakeFS instead (`uploadObject`,
//! `getObject`). Either way nothing is buffered, and an object exists only once its body checked out.

use crate::ops::Ctx;
use crate::ops::errors::map_link_error;
use crate::ops::errors::{Missing, map_lakefs};
use http::{Response, StatusCode};
use hyper::body::Incoming;
use lakefs_api::client::{ReqBody, Upload};
use lakefs_api::dto::{ObjectStats, StagingLocation, StagingMetadata};
use lakegate_net::range::ByteRange;
use s3_wire::s3_err;
use s3_wire::{S3Error, S3Result};
use std::collections::BTreeMap;

/// Whether repository `repo`'s storage presigns.
pub async fn presign_supported(ctx: &Ctx<'_>, repo: &str) -> S3Result<bool> {
    Ok(crate::ops::storage::capabilities(ctx, repo).await?.presign)
}

/// Whether repository `repo`'s storage offers presigned multipart uploads.
pub async fn multipart_supported(ctx: &Ctx<'_>, repo: &str) -> S3Result<bool> {
    Ok(crate::ops::storage::capabilities(ctx, repo).await?.multipart)
}

/// Opens an object's bytes: `stats` came from `statObject` with `presign` as given.
pub async fn read(
    ctx: &Ctx<'_>,
    repo: &str,
    (reference, path): (&str, &str),
    stats: &ObjectStats,
    presign: bool,
    range: Option<ByteRange>,
) -> S3Result<Response<Incoming>> {
    if presign {
        return ctx.gw.data.get(&stats.physical_address, range).await;
    }
    let range = range.map(|r| format!("bytes={}-{}", r.start, r.end));
    let resp = ctx
        .lakefs
        .get_object(repo, reference, path, range.as_deref(), false)
        .await
        .map_err(|e| map_lakefs(e, Missing::Key))?;
    match resp.status() {
        StatusCode::OK | StatusCode::PARTIAL_CONTENT => Ok(resp),
        s => Err(S3Error::internal(format!("lakeFS getObject answered {s}"))),
    }
}

/// A new object's attributes.
pub struct NewObject {
    pub content_type: String,
    pub metadata: BTreeMap<String, String>,
    pub if_absent: bool,
}

/// What the body turned out to be, known once it was sent: its MD5 hex (`None` when it was not
/// computed: the object store's ETag is the checksum then, as lakeFS itself records it) and
/// metadata to add (the additional checksum), or the error that ended it; `None` while the body
/// was not read to its end.
pub type Finish = Box<dyn FnOnce() -> Option<S3Result<(Option<String>, BTreeMap<String, String>)>> + Send>;

/// Whose fault a write's failure is, once the body and the store both had their say: the client's
/// when its body failed (cut short, bad signature or checksum); the store's when it failed before
/// the body was read to its end (an outage is a retryable 503, not `IncompleteBody`); and
/// `IncompleteBody` when the store accepted a body that was not read to its end.
pub fn blame<T, U>(client: Option<S3Result<T>>, store: S3Result<U>) -> S3Result<(T, U)> {
    match (client, store) {
        (Some(Err(client_side)), _) => Err(client_side),
        (_, Err(store_side)) => Err(store_side),
        (None, Ok(_)) => Err(unfinished()),
        (Some(Ok(c)), Ok(s)) => Ok((c, s)),
    }
}

/// Writes exactly `length` bytes of `body` as `repo/branch/path`.
pub async fn write(
    ctx: &Ctx<'_>,
    repo: &str,
    (branch, path): (&str, &str),
    body: ReqBody,
    length: u64,
    obj: NewObject,
    finish: Finish,
) -> S3Result<ObjectStats> {
    let lakefs = &ctx.lakefs;
    if !presign_supported(ctx, repo).await? {
        let upload = Upload {
            body,
            length,
            content_type: obj.content_type,
            metadata: obj.metadata.clone(),
            if_absent: obj.if_absent,
        };
        if s3_wire::checksum::parse_checksum_request(&ctx.parts.headers)?.algorithm().is_some() {
            // the checksum is kept as metadata set after the upload: refuse before writing anything
            crate::ops::storage::require(
                ctx,
                "updateObjectUserMetadata",
                "An additional checksum without presigned URLs",
            )
            .await?;
        }
        let uploaded = lakefs.upload_object(repo, branch, path, upload).await;
        let ((_, extra), _) = blame(finish(), uploaded.map_err(map_link_error))?;
        if !extra.is_empty() {
            let mut metadata = obj.metadata;
            metadata.extend(extra);
            lakefs
                .update_object_user_metadata(repo, branch, path, &metadata)
                .await
                .map_err(|e| map_lakefs(e, Missing::Bucket))?;
        }
        return lakefs.stat_object(repo, branch, path, false).await.map_err(|e| map_lakefs(e, Missing::Bucket));
    }
    let loc = physical_address(ctx, repo, branch, path).await?;
    let url = loc.presigned_url.clone().ok_or_else(|| S3Error::internal("lakeFS did not return a presigned URL"))?;
    let stored = ctx.gw.data.put(&url, body, length).await;
    let (checksum, extra) = match blame(finish(), stored)? {
        ((None, _), etag) if etag.is_empty() => {
            return Err(S3Error::internal("the object store answered the upload without an ETag"));
        }
        ((None, extra), etag) => (etag, extra),
        ((Some(md5), extra), etag) => {
            if !etag.is_empty() && etag != md5 {
                tracing::warn!(request_id = ctx.request_id, store_etag = %etag, %md5, "object store ETag differs from the body's MD5");
            }
            (md5, extra)
        }
    };
    let mut metadata = obj.metadata;
    metadata.extend(extra);
    let meta = StagingMetadata {
        staging: loc,
        checksum,
        size_bytes: length as i64,
        user_metadata: Some(metadata),
        content_type: Some(obj.content_type),
        mtime: None,
        force: None,
    };
    lakefs.link_physical_address(repo, branch, path, &meta, obj.if_absent).await.map_err(map_link_error)
}

/// A staging location for a new object: `getPhysicalAddress` for exactly this repository, branch
/// and path (lakeFS signs the address over the three and refuses it for any other at link time).
async fn physical_address(ctx: &Ctx<'_>, repo: &str, branch: &str, path: &str) -> S3Result<StagingLocation> {
    ctx.lakefs.get_physical_address(repo, branch, path, true).await.map_err(|e| map_lakefs(e, Missing::Bucket))
}

/// `s3_err!` for a body whose outcome is missing (the stream was never driven to its end).
pub fn unfinished() -> S3Error {
    s3_err!(IncompleteBody, "The request body terminated unexpectedly")
}
