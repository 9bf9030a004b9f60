//! CopyObject. Within one repository with the COPY metadata directive: lakeFS `copyObject`
//! (server side, source metadata and content type kept). Otherwise — another repository, or
//! `x-amz-metadata-directive: REPLACE` — the bytes stream from the source's presigned GET URL to a
//! new presigned PUT URL inside lakegate (never buffered) and are linked with the new metadata.
//! `x-amz-copy-source-if-*` conditions are evaluated on the source first.

use super::datapath::store;
use super::errors::{Missing, map_lakefs};
use super::headers::CHECKSUM_PREFIX;
use super::put::{object_metadata, refuse_unsupported};
use super::{Ctx, split_key, split_write_key};
use futures_util::{StreamExt, TryStreamExt};
use http::{HeaderMap, Response, header};
use http_body_util::BodyExt;
use lakefs_api::dto::{ObjectCopyCreation, ObjectStats};
use lakegate_net::body::Body;
use lakegate_net::util::format_iso8601;
use md5::{Digest, Md5};
use percent_encoding::percent_decode_str;
use s3_wire::S3Result;
use s3_wire::body::MAX_PUT_BYTES;
use s3_wire::s3_err;
use s3_wire::xml::{XMLNS, to_xml, xml_response};
use serde::Serialize;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, UNIX_EPOCH};

#[derive(Debug, Serialize)]
struct CopyObjectResult {
    #[serde(rename = "@xmlns")]
    xmlns: &'static str,
    #[serde(rename = "LastModified")]
    last_modified: String,
    #[serde(rename = "ETag")]
    etag: String,
}

/// `x-amz-copy-source` → `(bucket, key)`: URL-decoded once, leading `/` optional, `?versionId=null` allowed.
pub fn parse_copy_source(h: &HeaderMap) -> S3Result<(String, String)> {
    let raw = h.get("x-amz-copy-source").and_then(|v| v.to_str().ok()).unwrap_or("");
    let (path, version) = raw.split_once("?versionId=").map_or((raw, None), |(p, v)| (p, Some(v)));
    if version.is_some_and(|v| v != "null") {
        return Err(s3_err!(NoSuchVersion, "The specified version does not exist."));
    }
    let decoded =
        percent_decode_str(path).decode_utf8().map_err(|_| s3_err!(InvalidArgument, "Invalid copy source encoding"))?;
    match decoded.trim_start_matches('/').split_once('/') {
        Some((b, k)) if !b.is_empty() && !k.is_empty() => Ok((b.to_string(), k.to_string())),
        _ => {
            Err(s3_err!(InvalidArgument, "Copy Source must mention the source bucket and key: sourcebucket/sourcekey"))
        }
    }
}

/// Evaluates `x-amz-copy-source-if-*` against the source (412 when one fails).
pub(crate) fn source_conditions(h: &HeaderMap, src: &ObjectStats) -> S3Result<()> {
    let mut renamed = HeaderMap::new();
    for (from, to) in [
        ("x-amz-copy-source-if-match", "if-match"),
        ("x-amz-copy-source-if-none-match", "if-none-match"),
        ("x-amz-copy-source-if-modified-since", "if-modified-since"),
        ("x-amz-copy-source-if-unmodified-since", "if-unmodified-since"),
    ] {
        if let Some(v) = h.get(from) {
            renamed.insert(to, v.clone());
        }
    }
    match super::headers::evaluate_conditions(&renamed, &format!("\"{}\"", src.checksum), src.mtime)? {
        None => Ok(()),
        Some(_) => Err(s3_err!(PreconditionFailed, "At least one of the pre-conditions you specified did not hold")),
    }
}

/// CopyObject.
pub async fn handle_copy_object(ctx: &Ctx<'_>, bucket: &str, key: &str) -> S3Result<Response<Body>> {
    let h = &ctx.parts.headers;
    let (dst_branch, dst_path) = split_write_key(key)?;
    refuse_unsupported(h)?;
    for name in ["x-amz-tagging-directive", "x-amz-checksum-algorithm"] {
        if h.contains_key(name) {
            return Err(s3_err!(NotImplemented, "The {name} header is not supported on CopyObject by lakegate"));
        }
    }
    let replace = match h.get("x-amz-metadata-directive").map(|v| v.as_bytes()) {
        None | Some(b"COPY") => false,
        Some(b"REPLACE") => true,
        Some(_) => return Err(s3_err!(InvalidArgument, "Unknown metadata directive.")),
    };
    let (src_bucket, src_key) = parse_copy_source(h)?;
    let src_target = super::target::resolve(ctx, &src_bucket).await?;
    let (src_bucket, src_key) = (src_target.repo.clone(), src_target.key(&src_key));
    let (src_ref, src_path) = split_key(&src_key)?;
    let presign = store::presign_supported(ctx, &src_bucket).await?;
    let src = ctx
        .lakefs
        .stat_object(&src_bucket, src_ref, src_path, presign)
        .await
        .map_err(|e| map_lakefs(e, Missing::Key))?;
    source_conditions(h, &src)?;
    if src.size_bytes.unwrap_or(0) as u64 > MAX_PUT_BYTES {
        return Err(s3_err!(
            InvalidRequest,
            "The specified copy source is larger than the maximum allowable size for a copy source: {MAX_PUT_BYTES}"
        ));
    }
    let onto_itself = src_bucket == bucket && src_key == key;
    if onto_itself && !replace {
        return Err(s3_err!(
            InvalidRequest,
            "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes."
        ));
    }
    let new_type = replace.then(|| requested_content_type(h));
    let (etag, mtime) = if onto_itself && new_type.as_deref() == src.content_type.as_deref() {
        replace_metadata(ctx, bucket, (dst_branch, dst_path), &src).await?
    } else if src_bucket == bucket && !replace {
        let creation = ObjectCopyCreation {
            src_path: src_path.to_string(),
            src_ref: Some(src_ref.to_string()),
            ..Default::default()
        };
        let new = ctx
            .lakefs
            .copy_object(bucket, dst_branch, dst_path, &creation)
            .await
            .map_err(|e| map_lakefs(e, Missing::Bucket))?;
        (new.checksum, new.mtime)
    } else {
        let source = Source { repo: &src_bucket, reference: src_ref, path: src_path, stats: &src, presign };
        stream_copy(ctx, source, bucket, (dst_branch, dst_path), new_type).await?
    };
    let result = CopyObjectResult {
        xmlns: XMLNS,
        last_modified: format_iso8601(UNIX_EPOCH + Duration::from_secs(mtime.max(0) as u64)),
        etag: format!("\"{etag}\""),
    };
    Ok(xml_response(to_xml("CopyObjectResult", &result)?))
}

fn requested_content_type(h: &HeaderMap) -> String {
    h.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or(super::put::DEFAULT_CONTENT_TYPE).to_string()
}

/// REPLACE onto itself with the same content type: `updateObjectUserMetadata`, no data copy.
/// The stored checksum stays (the bytes are the same).
async fn replace_metadata(
    ctx: &Ctx<'_>,
    repo: &str,
    (branch, path): (&str, &str),
    src: &ObjectStats,
) -> S3Result<(String, i64)> {
    let mut metadata = object_metadata(&ctx.parts.headers)?;
    metadata.extend(
        src.metadata
            .iter()
            .flatten()
            .filter(|(k, _)| k.starts_with(CHECKSUM_PREFIX))
            .map(|(k, v)| (k.clone(), v.clone())),
    );
    super::storage::require(ctx, "updateObjectUserMetadata", "Replacing an object's metadata in place").await?;
    let lakefs = &ctx.lakefs;
    lakefs
        .update_object_user_metadata(repo, branch, path, &metadata)
        .await
        .map_err(|e| map_lakefs(e, Missing::Bucket))?;
    let new = lakefs.stat_object(repo, branch, path, false).await.map_err(|e| map_lakefs(e, Missing::Key))?;
    Ok((new.checksum, new.mtime))
}

/// A copy source, resolved.
struct Source<'a> {
    repo: &'a str,
    reference: &'a str,
    path: &'a str,
    stats: &'a ObjectStats,
    presign: bool,
}

/// Copies bytes source → destination through lakegate; `(md5 hex, mtime)` of the new object.
/// `new_type` is the REPLACE directive's content type (`None`: keep the source's attributes).
async fn stream_copy(
    ctx: &Ctx<'_>,
    src: Source<'_>,
    repo: &str,
    dest: (&str, &str),
    new_type: Option<String>,
) -> S3Result<(String, i64)> {
    let (metadata, content_type) = match new_type {
        Some(ct) => (object_metadata(&ctx.parts.headers)?, ct),
        None => {
            let mut m = src.stats.metadata.clone().unwrap_or_default();
            m.retain(|k, _| !k.starts_with(CHECKSUM_PREFIX));
            (m, src.stats.content_type.clone().unwrap_or_else(|| super::put::DEFAULT_CONTENT_TYPE.into()))
        }
    };
    let size = src.stats.size_bytes.unwrap_or(0).max(0) as u64;
    let source = match size {
        0 => None,
        _ => Some(store::read(ctx, src.repo, (src.reference, src.path), src.stats, src.presign, None).await?),
    };
    let md5 = Arc::new(Mutex::new(Md5::new()));
    let hashing = md5.clone();
    let stream =
        futures_util::stream::iter(source).flat_map(|r| r.into_body().into_data_stream()).map_ok(move |chunk| {
            hashing.lock().unwrap_or_else(PoisonError::into_inner).update(&chunk);
            http_body::Frame::data(chunk)
        });
    let body =
        http_body_util::StreamBody::new(stream.map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>))
            .boxed_unsync();
    let finish: store::Finish = Box::new(move || {
        let digest = std::mem::take(&mut *md5.lock().unwrap_or_else(PoisonError::into_inner)).finalize();
        Some(Ok((Some(hex::encode(digest)), Default::default())))
    });
    let obj = store::NewObject { content_type, metadata, if_absent: false };
    let new = store::write(ctx, repo, dest, body, size, obj, finish).await?;
    Ok((new.checksum, new.mtime))
}
