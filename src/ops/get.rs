//! GetObject and HeadObject: `statObject` on lakeFS (with a presigned GET URL for GetObject), then
//! the bytes stream from the object store to the client. Ranges (one range, as S3), conditional
//! headers, `response-*` overrides, user metadata and stored checksums follow the S3 API Reference.

use super::errors::{Missing, map_lakefs};
use super::headers::{evaluate_conditions, http_date, put_stored_headers, put_user_metadata, stored_checksum, value};
use super::{Ctx, split_key};
use crate::ops::datapath::cache::is_commit_id;
use futures_util::TryStreamExt;
use http::{HeaderMap, HeaderValue, Response, StatusCode, header};
use http_body_util::BodyExt;
use lakefs_api::dto::ObjectStats;
use lakegate_net::body::{Body, empty, full};
use lakegate_net::range::{ByteRange, parse_range};
use s3_wire::s3_err;
use s3_wire::{S3Error, S3Result};

/// `response-*` query parameters and the headers they override.
const OVERRIDES: [(&str, header::HeaderName); 6] = [
    ("response-content-type", header::CONTENT_TYPE),
    ("response-content-language", header::CONTENT_LANGUAGE),
    ("response-expires", header::EXPIRES),
    ("response-cache-control", header::CACHE_CONTROL),
    ("response-content-disposition", header::CONTENT_DISPOSITION),
    ("response-content-encoding", header::CONTENT_ENCODING),
];

fn check_version_and_part(version_id: Option<&str>, part_number: Option<u32>) -> S3Result<()> {
    if version_id.is_some_and(|v| v != "null") {
        return Err(s3_err!(InvalidArgument, "Invalid version id specified (versioning is not enabled)"));
    }
    if part_number.is_some_and(|p| p != 1) {
        return Err(s3_err!(InvalidPartNumber, "The requested partnumber is not satisfiable"));
    }
    Ok(())
}

/// `statObject`, answered from [`crate::ops::datapath::cache::CommitStats`] for objects at a commit id.
async fn stat(ctx: &Ctx<'_>, repo: &str, (reference, path): (&str, &str), presign: bool) -> S3Result<ObjectStats> {
    let (cache, key) = (&ctx.gw.commit_stats, ctx.verified.access_key_id.as_str());
    let cached =
        crate::ops::datapath::cache::is_commit_id(reference).then(|| cache.get(key, repo, reference, path, presign));
    if let Some(cached) = cached {
        crate::metrics::metrics().cache_lookup("commit_stats", cached.is_some());
        if let Some(hit) = cached {
            return Ok(hit);
        }
    }
    let stats =
        ctx.lakefs.stat_object(repo, reference, path, presign).await.map_err(|e| map_lakefs(e, Missing::Key))?;
    cache.put(key, repo, reference, path, presign, &stats);
    Ok(stats)
}

/// GetObject (`with_body`) and HeadObject.
pub async fn handle_get_object(
    ctx: &Ctx<'_>,
    bucket: &str,
    key: &str,
    version_id: Option<&str>,
    part_number: Option<u32>,
    with_body: bool,
) -> S3Result<Response<Body>> {
    check_version_and_part(version_id, part_number)?;
    let (reference, path) = split_key(key)?;
    let presign = with_body && super::datapath::store::presign_supported(ctx, bucket).await?;
    let stats = stat(ctx, bucket, (reference, path), presign).await?;
    let etag = format!("\"{}\"", stats.checksum);
    let mut resp = Response::new(empty());
    let h = resp.headers_mut();
    h.insert(header::ETAG, value(&etag)?);
    h.insert(header::LAST_MODIFIED, value(&http_date(stats.mtime))?);
    if let Some(status) = evaluate_conditions(&ctx.parts.headers, &etag, stats.mtime)? {
        *resp.status_mut() = status;
        return Ok(resp);
    }
    let size = stats.size_bytes.unwrap_or(0).max(0) as u64;
    let range = requested_range(&ctx.parts.headers, size)?;
    object_headers(resp.headers_mut(), &stats, &ctx.parts.headers, range.is_some())?;
    apply_overrides(resp.headers_mut(), ctx.parts.uri.query())?;
    let len = range.map_or(size, |r| r.len());
    resp.headers_mut().insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    if let Some(r) = range {
        *resp.status_mut() = StatusCode::PARTIAL_CONTENT;
        resp.headers_mut().insert(header::CONTENT_RANGE, value(&r.content_range(size))?);
    }
    if with_body && len > 0 {
        if let Some(all) = small_object(ctx, bucket, (reference, path), &stats, presign).await? {
            let r = range.unwrap_or(ByteRange { start: 0, end: size - 1 });
            *resp.body_mut() = full(all.slice(r.start as usize..=r.end as usize));
            return Ok(resp);
        }
        let data = super::datapath::store::read(ctx, bucket, (reference, path), &stats, presign, range).await?;
        let stream = data.into_body().into_data_stream().map_err(std::io::Error::other);
        *resp.body_mut() = http_body_util::StreamBody::new(stream.map_ok(http_body::Frame::data)).boxed_unsync();
    }
    Ok(resp)
}

/// The whole of a small object at a commit id, from [`crate::ops::datapath::cache::SmallObjects`] or read once
/// into it (`None`: not such an object, or the cache is off).
async fn small_object(
    ctx: &Ctx<'_>,
    repo: &str,
    (reference, path): (&str, &str),
    stats: &ObjectStats,
    presign: bool,
) -> S3Result<Option<bytes::Bytes>> {
    let size = stats.size_bytes.unwrap_or(0).max(0) as u64;
    let cache = &ctx.gw.small_objects;
    if !is_commit_id(reference) || !cache.keeps(size) || stats.physical_address.is_empty() {
        return Ok(None);
    }
    let hit = cache.get(&stats.physical_address);
    crate::metrics::metrics().cache_lookup("small_objects", hit.is_some());
    if hit.is_some() {
        return Ok(hit);
    }
    let data = super::datapath::store::read(ctx, repo, (reference, path), stats, presign, None).await?;
    let limited = http_body_util::Limited::new(data.into_body(), size as usize + 1);
    let all = limited.collect().await.map_err(|e| S3Error::internal(format!("reading a small object: {e}")))?;
    let all = all.to_bytes();
    if all.len() as u64 != size {
        return Err(S3Error::internal(format!("the object store returned {} bytes of {size}", all.len())));
    }
    cache.put(&stats.physical_address, all.clone());
    Ok(Some(all))
}

fn requested_range(headers: &HeaderMap, size: u64) -> S3Result<Option<ByteRange>> {
    let header = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    parse_range(header, size).map_err(|_| {
        s3_err!(InvalidRange, "The requested range is not satisfiable")
            .with_header(header::CONTENT_RANGE, HeaderValue::from_str(&format!("bytes */{size}")).expect("ascii"))
    })
}

fn object_headers(
    h: &mut HeaderMap,
    stats: &lakefs_api::dto::ObjectStats,
    req: &HeaderMap,
    ranged: bool,
) -> S3Result<()> {
    let content_type = stats.content_type.as_deref().filter(|c| !c.is_empty()).unwrap_or("application/octet-stream");
    h.insert(header::CONTENT_TYPE, value(content_type)?);
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    put_stored_headers(h, stats);
    let missing = put_user_metadata(h, stats);
    if missing > 0 {
        h.insert("x-amz-missing-meta", HeaderValue::from(missing));
    }
    let checksum_mode = req.get("x-amz-checksum-mode").is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"enabled"));
    if checksum_mode
        && !ranged
        && let Some((name, v)) = stored_checksum(stats)
    {
        h.insert(http::HeaderName::from_bytes(name.as_bytes()).map_err(s3_wire::S3Error::internal)?, value(&v)?);
        // A multipart object's composite checksum is `<base64>-<parts>`.
        let kind = if v.contains('-') { "COMPOSITE" } else { "FULL_OBJECT" };
        h.insert("x-amz-checksum-type", HeaderValue::from_static(kind));
    }
    Ok(())
}

fn apply_overrides(h: &mut HeaderMap, query: Option<&str>) -> S3Result<()> {
    for (k, v) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        if let Some((_, name)) = OVERRIDES.iter().find(|(q, _)| *q == k) {
            h.insert(name.clone(), HeaderValue::from_str(&v).map_err(|_| s3_err!(InvalidArgument, "invalid {k}"))?);
        }
    }
    Ok(())
}
