//! Where object bytes go. When lakeFS's storage presigns (`storage_config.pre_sign_support`), bytes
//! move between lakegate and the object store through presigned URLs: `getPhysicalAddress`, a PUT,
//! then `linkPhysicalAddress` to write; `statObject(presign)` and a GET to read. When it cannot
//! (lakeFS's local or mem blockstores), lakegate streams through lakeFS instead (`uploadObject`,
//! `getObject`). Either way nothing is buffered, and an object exists only once its body checked out.

use super::Ctx;
use super::errors::{Missing, map_lakefs};
use super::put::map_link_error;
use crate::lakefs::client::{ReqBody, Upload};
use crate::lakefs::dto::{ObjectStats, StagingLocation, StagingMetadata};
use crate::range::ByteRange;
use crate::s3::{S3Error, S3Result};
use crate::s3_err;
use http::{Response, StatusCode};
use hyper::body::Incoming;
use std::collections::BTreeMap;
use std::sync::Arc;

/// What lakeFS's storage can do: presigned URLs, presigned multipart uploads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    pub presign: bool,
    pub multipart: bool,
}

/// lakeFS's storage capabilities (asked once per gateway, then remembered; concurrent first
/// requests wait for the one `getConfig`).
pub async fn capabilities(ctx: &Ctx<'_>) -> S3Result<Capabilities> {
    ctx.gw.storage.get_or_try_init(|| ask_capabilities(ctx)).await.copied()
}

async fn ask_capabilities(ctx: &Ctx<'_>) -> S3Result<Capabilities> {
    let config = ctx.lakefs.get_config().await.map_err(|e| map_lakefs(e, Missing::Bucket))?;
    let storage = config.storage_config.as_ref();
    let presign = storage.is_some_and(|s| s.pre_sign_support);
    let multipart = presign && storage.is_some_and(|s| s.pre_sign_multipart_upload == Some(true));
    if !presign {
        tracing::info!("lakeFS storage cannot presign: object bytes will stream through lakeFS");
    }
    if !multipart {
        tracing::info!("lakeFS storage has no presigned multipart upload: multipart parts are spooled by lakegate");
    }
    Ok(Capabilities { presign, multipart })
}

/// Whether lakeFS presigns.
pub async fn presign_supported(ctx: &Ctx<'_>) -> S3Result<bool> {
    Ok(capabilities(ctx).await?.presign)
}

/// Whether lakeFS offers presigned multipart uploads.
pub async fn multipart_supported(ctx: &Ctx<'_>) -> S3Result<bool> {
    Ok(capabilities(ctx).await?.multipart)
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
/// metadata to add (the additional checksum), or the error that ended it.
pub type Finish = Box<dyn FnOnce() -> S3Result<(Option<String>, BTreeMap<String, String>)> + Send>;

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
    if !presign_supported(ctx).await? {
        let upload = Upload {
            body,
            length,
            content_type: obj.content_type,
            metadata: obj.metadata.clone(),
            if_absent: obj.if_absent,
        };
        let uploaded = lakefs.upload_object(repo, branch, path, upload).await;
        let (_, extra) = match (finish(), uploaded) {
            (Err(client_side), _) => return Err(client_side),
            (Ok(_), Err(e)) => return Err(map_link_error(e)),
            (Ok(done), Ok(_)) => done,
        };
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
    let (checksum, extra) = match (finish(), stored) {
        (Err(client_side), _) => return Err(client_side),
        (Ok(_), Err(store)) => return Err(store),
        (Ok((None, _)), Ok(etag)) if etag.is_empty() => {
            return Err(S3Error::internal("the object store answered the upload without an ETag"));
        }
        (Ok((None, extra)), Ok(etag)) => (etag, extra),
        (Ok((Some(md5), extra)), Ok(etag)) => {
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

/// A staging location for a new object: one from the key's pool when ready (no lakeFS call), else
/// `getPhysicalAddress`; either way the pool is topped up in the background.
async fn physical_address(ctx: &Ctx<'_>, repo: &str, branch: &str, path: &str) -> S3Result<StagingLocation> {
    let pool = &ctx.gw.addresses;
    let key = (ctx.verified.access_key_id.clone(), repo.to_string());
    let pooled = pool.take(&key);
    if pool.enabled() {
        crate::metrics::metrics().cache_lookup("address_pool", pooled.is_some());
        let (lakefs, target) = (ctx.lakefs.clone(), Arc::new((repo.to_string(), branch.to_string(), path.to_string())));
        pool.refill(key, move || {
            let (lakefs, target) = (lakefs.clone(), target.clone());
            async move { lakefs.get_physical_address(&target.0, &target.1, &target.2, true).await }
        });
    }
    match pooled {
        Some(loc) => Ok(loc),
        None => {
            ctx.lakefs.get_physical_address(repo, branch, path, true).await.map_err(|e| map_lakefs(e, Missing::Bucket))
        }
    }
}

/// `s3_err!` for a body whose outcome is missing (the stream was never driven to its end).
pub fn unfinished() -> S3Error {
    s3_err!(IncompleteBody, "The request body terminated unexpectedly")
}
