//! UploadPart and UploadPartCopy. A part's body is decoded and verified as PutObject's is (aws-chunked,
//! SigV4 chunk signatures, Content-MD5, the additional checksum) and streams to a presigned part URL
//! lakeFS hands out just before it is sent (`uploadPart`), or into the spool. UploadPartCopy is
//! lakeFS's server-side `uploadPartCopy`; no byte passes through lakegate (except when spooling).

use super::registry::PartRecord;
use super::spool::SpooledPart;
use super::token::UploadToken;
use super::{ensure_spool_open, now_ms, open_upload, registry};
use crate::ops::copy::{parse_copy_source, source_conditions};
use crate::ops::datapath::store::{self, unfinished};
use crate::ops::errors::{Missing, map_lakefs};
use crate::ops::headers::value;
use crate::ops::put::into_request_body;
use crate::ops::target::{Target, resolve};
use crate::ops::{Ctx, split_key};
use http::{HeaderMap, Response, StatusCode};
use hyper::body::Incoming;
use lakefs_api::dto::{CopyPartSource, UploadPartCopyFrom, UploadPartFrom};
use lakegate_net::body::{Body, empty};
use lakegate_net::range::ByteRange;
use lakegate_net::util::format_iso8601;
use s3_wire::body::{MAX_PUT_BYTES, prepare_with};
use s3_wire::checksum::{ChecksumAlgorithm, Digests, parse_checksum_request};
use s3_wire::s3_err;
use s3_wire::xml::{XMLNS, to_xml, xml_response};
use s3_wire::{S3Error, S3Result};
use serde::Serialize;
use std::time::{Duration, UNIX_EPOCH};

/// The upload's checksum algorithm.
pub(crate) fn upload_algorithm(token: &UploadToken) -> Option<ChecksumAlgorithm> {
    token.checksum.as_deref().and_then(ChecksumAlgorithm::from_sdk_name)
}

/// A lakeFS error on an upload's part: 404, or the store's `NoSuchUpload`, means the upload is
/// gone; the store's other verdicts (a range past the source's end, a missing source) keep their
/// S3 code.
pub(crate) fn map_upload_error(e: lakefs_api::LakeFsError) -> S3Error {
    match crate::ops::errors::store_verdict(&e) {
        Some(s3_wire::S3ErrorCode::NoSuchUpload) => {}
        Some(code) => return S3Error::new(code, format!("The object store refused the part: {e}")),
        None if e.status() != Some(StatusCode::NOT_FOUND) => return map_lakefs(e, Missing::Bucket),
        None => {}
    }
    s3_err!(NoSuchUpload, "The specified multipart upload does not exist.")
}

/// A part checksum of another algorithm than the upload's is refused, as S3 does.
fn check_part_algorithm(h: &HeaderMap, upload: Option<ChecksumAlgorithm>) -> S3Result<()> {
    let declared = parse_checksum_request(h)?.algorithm();
    match (declared, upload) {
        (Some(d), Some(u)) if d != u => Err(s3_err!(
            InvalidRequest,
            "Checksum Type mismatch occurred, expected checksum Type: {}, actual checksum Type: {}",
            u.sdk_name().to_ascii_lowercase(),
            d.sdk_name().to_ascii_lowercase()
        )),
        _ => Ok(()),
    }
}

/// UploadPart.
pub async fn handle_upload_part(
    ctx: &Ctx<'_>,
    t: &Target,
    key: &str,
    (upload_id, n): (&str, u32),
    body: Incoming,
) -> S3Result<Response<Body>> {
    let (token, digest) = open_upload(ctx, t, key, upload_id)?;
    let alg = upload_algorithm(&token);
    check_part_algorithm(&ctx.parts.headers, alg)?;
    let verified = prepare_with(ctx.parts, body, ctx.verified, ctx.body_watch(), alg, true)?;
    let (length, outcome) = (verified.length, verified.outcome.clone());
    let etag = if token.spool {
        ensure_spool_open(ctx, &digest).await?;
        ctx.gw.multipart.spool.write_part(&digest, n, verified.stream, length).await?;
        None
    } else {
        let from = UploadPartFrom { physical_address: token.address.clone() };
        let to = ctx
            .lakefs
            .upload_part(&token.repo, &token.branch, &token.path, &token.lakefs_id, n, &from)
            .await
            .map_err(map_upload_error)?;
        let (body, length, _) = into_request_body(verified).await?;
        let stored = ctx.gw.data.put_part(&to.presigned_url, body, length).await;
        Some(store::blame(outcome.get(), stored)?)
    };
    let d: Digests = outcome.get().unwrap_or_else(|| Err(unfinished()))?;
    // The object store's part ETag is what completion needs; it is the part's MD5 on S3.
    let etag = match etag {
        Some((_, store)) if !store.is_empty() => store,
        _ => d.md5_hex.clone().ok_or_else(|| S3Error::internal("part MD5 not computed"))?,
    };
    let checksum = d.checksum.as_ref().filter(|(a, _)| Some(*a) == alg).map(|(_, v)| v.clone());
    let part = PartRecord { part_number: n, etag: etag.clone(), size: length, last_modified_ms: now_ms(), checksum };
    record_part(ctx, &token, &digest, part).await?;
    let mut resp = Response::new(empty());
    resp.headers_mut().insert(http::header::ETAG, value(&format!("\"{etag}\""))?);
    if let Some((a, v)) = &d.checksum {
        resp.headers_mut().insert(a.header_name(), value(v)?);
    }
    Ok(resp)
}

/// Remembers a part for ListParts (and, when spooling, for Complete).
async fn record_part(ctx: &Ctx<'_>, token: &UploadToken, digest: &str, part: PartRecord) -> S3Result<()> {
    if token.spool {
        // An abort or completion that raced this part must not see it come back.
        if let Err(e) = ensure_spool_open(ctx, digest).await {
            ctx.gw.multipart.spool.remove(digest).await;
            return Err(e);
        }
        let spooled = SpooledPart {
            part_number: part.part_number,
            etag: part.etag.clone(),
            size: part.size,
            checksum: part.checksum.clone(),
        };
        ctx.gw.multipart.spool.record(digest, &spooled).await?;
    }
    let digest = digest.to_string();
    registry(ctx, move |r| r.put_part(&digest, &part)).await.map(drop)
}

#[derive(Serialize)]
struct CopyPartResult {
    #[serde(rename = "@xmlns")]
    xmlns: &'static str,
    #[serde(rename = "LastModified")]
    last_modified: String,
    #[serde(rename = "ETag")]
    etag: String,
}

/// `x-amz-copy-source-range: bytes=first-last` within a source of `size` bytes.
fn copy_range(h: &HeaderMap, size: u64) -> S3Result<Option<ByteRange>> {
    let Some(raw) = h.get("x-amz-copy-source-range") else { return Ok(None) };
    let bad = || {
        s3_err!(
            InvalidArgument,
            "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy"
        )
    };
    let spec = raw.to_str().ok().and_then(|v| v.trim().strip_prefix("bytes=")).ok_or_else(bad)?;
    let (a, b) = spec.split_once('-').ok_or_else(bad)?;
    let (start, end) = (a.parse::<u64>().map_err(|_| bad())?, b.parse::<u64>().map_err(|_| bad())?);
    if start > end || end >= size {
        return Err(s3_err!(InvalidArgument, "Range specified is not valid for source object of size: {size}"));
    }
    Ok(Some(ByteRange { start, end }))
}

/// UploadPartCopy.
pub async fn handle_upload_part_copy(
    ctx: &Ctx<'_>,
    t: &Target,
    key: &str,
    (upload_id, n): (&str, u32),
) -> S3Result<Response<Body>> {
    let h = &ctx.parts.headers;
    let (token, digest) = open_upload(ctx, t, key, upload_id)?;
    let (src_bucket, src_key) = parse_copy_source(h)?;
    let src_target = resolve(ctx, &src_bucket).await?;
    let src_key = src_target.key(&src_key);
    let (src_ref, src_path) = split_key(&src_key)?;
    let src = ctx
        .lakefs
        .stat_object(
            &src_target.repo,
            src_ref,
            src_path,
            token.spool && crate::ops::datapath::store::presign_supported(ctx, &src_target.repo).await?,
        )
        .await
        .map_err(|e| map_lakefs(e, Missing::Key))?;
    source_conditions(h, &src)?;
    let size = src.size_bytes.unwrap_or(0).max(0) as u64;
    let range = copy_range(h, size)?;
    let length = range.map_or(size, |r| r.len());
    if length > MAX_PUT_BYTES {
        return Err(s3_err!(InvalidRequest, "The specified copy range is larger than the maximum part size (5 GiB)."));
    }
    let (etag, checksum) = if token.spool {
        ensure_spool_open(ctx, &digest).await?;
        copy_into_spool(ctx, &token, &digest, n, (&src_target.repo, src_ref, src_path), &src, range).await?
    } else {
        let from = UploadPartCopyFrom {
            physical_address: token.address.clone(),
            copy_source: CopyPartSource {
                repository: src_target.repo.clone(),
                reference: src_ref.to_string(),
                path: src_path.to_string(),
                range: range.map(|r| format!("bytes={}-{}", r.start, r.end)),
            },
        };
        let etag = ctx
            .lakefs
            .upload_part_copy(&token.repo, &token.branch, &token.path, &token.lakefs_id, n, &from)
            .await
            .map_err(map_upload_error)?;
        (etag.trim_matches('"').to_string(), None)
    };
    let now = now_ms();
    let part = PartRecord { part_number: n, etag: etag.clone(), size: length, last_modified_ms: now, checksum };
    record_part(ctx, &token, &digest, part).await?;
    let at = UNIX_EPOCH + Duration::from_millis(now as u64);
    let xml = CopyPartResult { xmlns: XMLNS, last_modified: format_iso8601(at), etag: format!("\"{etag}\"") };
    Ok(xml_response(to_xml("CopyPartResult", &xml)?))
}

/// UploadPartCopy into the spool: the source's bytes stream through lakegate; the part's ETag
/// and checksum.
async fn copy_into_spool(
    ctx: &Ctx<'_>,
    token: &UploadToken,
    digest: &str,
    n: u32,
    (repo, reference, path): (&str, &str, &str),
    src: &lakefs_api::dto::ObjectStats,
    range: Option<ByteRange>,
) -> S3Result<(String, Option<String>)> {
    let presign = crate::ops::datapath::store::presign_supported(ctx, repo).await?;
    let resp = crate::ops::datapath::store::read(ctx, repo, (reference, path), src, presign, range).await?;
    let length = range.map_or(src.size_bytes.unwrap_or(0).max(0) as u64, |r| r.len());
    let alg = upload_algorithm(token);
    let (stream, outcome) = s3_wire::body::verify_stream(resp.into_body(), length, alg);
    ctx.gw.multipart.spool.write_part(digest, n, stream, length).await?;
    let d = outcome.get().unwrap_or_else(|| Err(unfinished()))?;
    let md5 = d.md5_hex.ok_or_else(|| S3Error::internal("part MD5 not computed"))?;
    Ok((md5, d.checksum.map(|(_, v)| v)))
}
