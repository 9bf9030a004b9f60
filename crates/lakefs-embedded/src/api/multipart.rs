//! Presigned multipart upload (lakeFS `experimental` API): `createPresignMultipartUpload`,
//! `uploadPart`, `uploadPartCopy`, `completePresignMultipartUpload`, `abortPresignMultipartUpload`
//! (lakeFS `api/swagger.yml`, `pkg/api/controller.go`).
//!
//! On the local blob store parts are kept by [`crate::mpu`]; on the S3 blockstore every
//! call maps onto the S3 server's multipart API ([`crate::s3mpu`]), as lakeFS's S3
//! adapter does, the S3 `UploadId` being the lakeFS upload id. On both, an `upload.json` records the
//! upload with its physical address (an upload id presented with another address is the store's
//! `NoSuchUpload`, as S3 answers an upload id of another key). When the repository's storage does
//! not offer presigned multipart, create/complete/abort answer 501 as lakeFS does. The physical
//! address is a signed staging address bound to the repository, branch and path of `create`, and
//! must be presented (unchanged, within 24 h) on every later call: outside the repository's data
//! prefix, or signed for another branch or path, it is 400 (lakeFS `VerifyLinkAddress`). The
//! store's own refusals are lakeFS's 500 with the S3 SDK's text ([`crate::sdkerr`]).

use super::objects_api::stats;
use crate::Embedded;
use crate::authz::{Caller, Permission, action, arn};
use crate::catalog::{Entry, WriteCondition, now_unix};
use crate::error::{ApiError, ApiResult};
use crate::http::{Body, Query, json_response, read_json, status_response};
use crate::mpu::{Assembled, MAX_PARTS, UploadState, Uploads, check_part_list, copy_span};
use crate::presign::{full_address, new_object_id, relative_address};
use crate::sdkerr::{NO_SUCH_KEY, NO_SUCH_UPLOAD};
use crate::storage::Storage;
use http::{HeaderValue, Request, Response, StatusCode, header};
use hyper::body::Incoming;
use lakefs_api::dto::{
    AbortPresignMultipartUpload, CompletePresignMultipartUpload, PresignMultipartUpload, Repository, UploadPart,
    UploadPartCopyFrom, UploadPartFrom, UploadTo,
};
use std::sync::Arc;
use std::time::SystemTime;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

/// lakeFS's answer when the repository's storage cannot do presigned multipart uploads.
fn supported(storage: &Storage) -> ApiResult<()> {
    if !storage.presign_multipart_upload() {
        return Err(ApiError::NotImplemented("presign multipart upload API is not supported".into()));
    }
    Ok(())
}

/// The `path` query parameter: absent is refused as lakeFS's request validation does; empty is
/// left to the handler ("path is required", after lakeFS's earlier checks).
fn path_param(q: &Query) -> ApiResult<String> {
    let path = q.get("path").ok_or_else(|| ApiError::bad_request("parameter \"path\" is required"))?;
    if path.contains('\0') {
        return Err(ApiError::bad_request("invalid path"));
    }
    Ok(path.to_string())
}

fn require_path(path: &str) -> ApiResult<()> {
    if path.is_empty() {
        return Err(ApiError::bad_request("path is required"));
    }
    Ok(())
}

fn part_number(raw: &str) -> ApiResult<i64> {
    raw.parse::<i64>()
        .ok()
        .filter(|n| (1..=MAX_PARTS).contains(n))
        .ok_or_else(|| ApiError::bad_request(format!("partNumber {raw:?}: must be an integer between 1 and 10000")))
}

/// The repository and its storage.
async fn repository(s: &Embedded, repo: &str) -> ApiResult<(Repository, Storage)> {
    let r = repo.to_string();
    let repository = s.db(move |m| m.get_repository(&r)).await?;
    let storage = s.storage_of(&repository)?.clone();
    Ok((repository, storage))
}

/// lakeFS's checks of the physical address a call presents: it must lie in the repository's data
/// prefix (400 "physical address must be relative to the storage namespace") and carry the
/// signature it was created with for this repository, branch and path (`VerifyLinkAddress`: 400).
fn check_address(s: &Embedded, repository: &Repository, branch: &str, path: &str, address: &str) -> ApiResult<()> {
    let relative = relative_address(&repository.storage_namespace, address)
        .ok_or_else(|| ApiError::bad_request("physical address must be relative to the storage namespace"))?;
    s.addresses.verify(&repository.id, branch, path, relative, SystemTime::now())?;
    Ok(())
}

/// The upload `upload_id` of the object at `address`. Unknown, or for another object, it is the
/// store's `NoSuchUpload` (reported for S3 `operation`, as lakeFS reports its S3 adapter's errors).
async fn open_upload(s: &Embedded, upload_id: &str, address: &str, operation: &'static str) -> ApiResult<UploadState> {
    match Uploads::new(&s.blobs).load(upload_id).await {
        Ok(st) if st.physical_address == address => Ok(st),
        Ok(_) | Err(ApiError::NotFound(_)) => Err(ApiError::local_store(operation, NO_SUCH_UPLOAD)),
        Err(e) => Err(e),
    }
}

/// Starts the upload `st` (S3 `CreateMultipartUpload` on the S3 blockstore, whose `UploadId` is the
/// upload id) and records it.
async fn start_upload(s: &Embedded, mut st: UploadState) -> ApiResult<UploadState> {
    let store = s.s3_for(&st.physical_address)?;
    st.upload_id = match store {
        Some(s3) => s3.create_multipart(&st.physical_address).await?,
        None => new_object_id(),
    };
    if let Err(e) = Uploads::new(&s.blobs).save(&st).await {
        if let Some(s3) = store {
            let _ = s3.abort_multipart(&st.physical_address, &st.upload_id).await;
        }
        return Err(e);
    }
    Ok(st)
}

/// `createPresignMultipartUpload`, in lakeFS's order: repository (404), storage support (501),
/// branch (404), path (400), parts (400).
pub async fn create(
    s: &Arc<Embedded>,
    repo: String,
    branch: String,
    req: Request<Incoming>,
) -> ApiResult<Response<Body>> {
    let q = Query::parse(req.uri().query());
    let path = path_param(&q)?;
    let parts = q.int("parts")?;
    let (repository, storage) = repository(s, &repo).await?;
    supported(&storage)?;
    let (r, b) = (repo.clone(), branch.clone());
    match s.db(move |m| m.get_branch(&r, &b)).await {
        Err(ApiError::NotFound(_)) => return Err(ApiError::not_found(format!("branch '{branch}' not found"))),
        other => other.map(drop)?,
    }
    require_path(&path)?;
    let parts = parts.unwrap_or(0);
    if !(0..=MAX_PARTS).contains(&parts) {
        return Err(ApiError::bad_request(format!("parts can be between 0 and {MAX_PARTS}")));
    }
    let address = full_address(&repository.storage_namespace, &s.addresses.new_address(&repo, &branch, &path));
    let st =
        UploadState { upload_id: String::new(), repo, branch, path, physical_address: address, created: now_unix() };
    let UploadState { upload_id, physical_address: address, .. } = start_upload(s, st).await?;
    let presigned_urls = if parts > 0 {
        let urls = (1..=parts).map(|n| s.presign_part(&storage, &address, &upload_id, n));
        Some(urls.collect::<ApiResult<Vec<_>>>()?)
    } else {
        None
    };
    json_response(StatusCode::CREATED, &PresignMultipartUpload { upload_id, physical_address: address, presigned_urls })
}

/// `uploadPart`: a fresh presigned URL for one part. Like lakeFS it checks the address, not the
/// upload (the store refuses the PUT of an unknown upload), nor the storage's multipart flag.
pub async fn upload_part(
    s: &Arc<Embedded>,
    (repo, branch, upload_id, part): (String, String, String, String),
    req: Request<Incoming>,
) -> ApiResult<Response<Body>> {
    let q = Query::parse(req.uri().query());
    let path = path_param(&q)?;
    let n = part_number(&part)?;
    let body: UploadPartFrom = read_json(req.into_body()).await?;
    let (repository, storage) = repository(s, &repo).await?;
    check_address(s, &repository, &branch, &path, &body.physical_address)?;
    let presigned_url = s.presign_part(&storage, &body.physical_address, &upload_id, n)?;
    json_response(StatusCode::OK, &UploadTo { presigned_url })
}

/// `uploadPartCopy`, in lakeFS's order: read permission on the source, both repositories (404),
/// the destination address (400), the source entry (404), the range, then the store's copy.
pub async fn upload_part_copy(
    s: &Arc<Embedded>,
    (repo, branch, upload_id, part): (String, String, String, String),
    caller: &Caller,
    req: Request<Incoming>,
) -> ApiResult<Response<Body>> {
    let q = Query::parse(req.uri().query());
    let path = path_param(&q)?;
    let n = part_number(&part)?;
    let body: UploadPartCopyFrom = read_json(req.into_body()).await?;
    let src = body.copy_source;
    caller.require(&[Permission::new(action::READ_OBJECT, arn::object(&src.repository, &src.path))])?;
    if src.repository.is_empty() || src.reference.is_empty() || src.path.is_empty() {
        return Err(ApiError::bad_request("copy_source: repository, ref and path are required"));
    }
    let (repository, _) = repository(s, &repo).await?;
    let sr = src.repository.clone();
    s.db(move |m| m.get_repository(&sr)).await?;
    check_address(s, &repository, &branch, &path, &body.physical_address)?;
    let (sr, sref, sp) = (src.repository.clone(), src.reference.clone(), src.path.clone());
    let (_, entry) = s.db(move |m| m.stat_entry(&sr, &sref, &sp)).await?;
    let range = src.range.as_deref().filter(|r| !r.is_empty()).map(copy_range).transpose()?;
    let st = open_upload(s, &upload_id, &body.physical_address, "UploadPartCopy").await?;
    let size = u64::try_from(entry.size_bytes).unwrap_or(0);
    let etag = match s.s3_for(&st.physical_address)? {
        Some(s3) => {
            let range =
                range.map(|r| copy_span(Some(r), size).map(|(start, len)| (start, start + len - 1))).transpose()?;
            s3.upload_part_copy(&st.physical_address, &upload_id, n, &entry.physical_address, range).await?
        }
        None => copy_part_local(s, &upload_id, n, &entry.physical_address, copy_span(range, size)?).await?,
    };
    let mut resp = status_response(StatusCode::NO_CONTENT);
    resp.headers_mut().insert(header::ETAG, HeaderValue::from_str(&etag).map_err(ApiError::internal)?);
    Ok(resp)
}

/// `copy_source.range` as lakeFS reads it: the schema's pattern `^bytes=((\d*-\d*,? ?)+)$` (else
/// 400), then Go's `fmt.Sscanf(range, "bytes=%d-%d")` (else 500 `parse range "…": <scan error>`).
/// Anything after the second number is ignored, as `Sscanf` does.
fn copy_range(range: &str) -> ApiResult<(i64, i64)> {
    if !matches_range_pattern(range) {
        return Err(ApiError::bad_request(format!("copy_source.range {range:?}: does not match the pattern")));
    }
    let spec = &range["bytes=".len()..];
    let scanned = scan_int(spec).and_then(|(a, rest)| match rest.strip_prefix('-') {
        Some(rest) => scan_int(rest).map(|(b, _)| (a, b)),
        None if rest.is_empty() => Err("unexpected EOF"),
        None => Err("input does not match format"),
    });
    scanned.map_err(|e| ApiError::Unexpected(format!("parse range \"{range}\": {e}")))
}

/// `^bytes=((\d*-\d*,? ?)+)$`.
fn matches_range_pattern(range: &str) -> bool {
    let Some(mut rest) = range.strip_prefix("bytes=") else { return false };
    let digits = |t: &str| t.len() - t.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    if rest.is_empty() {
        return false;
    }
    while !rest.is_empty() {
        rest = &rest[digits(rest)..];
        let Some(after) = rest.strip_prefix('-') else { return false };
        rest = &after[digits(after)..];
        rest = rest.strip_prefix(',').unwrap_or(rest);
        rest = rest.strip_prefix(' ').unwrap_or(rest);
    }
    true
}

/// Go's `%d` verb: an optional sign and decimal digits.
fn scan_int(s: &str) -> Result<(i64, &str), &'static str> {
    if s.is_empty() {
        return Err("unexpected EOF");
    }
    let signed = s.strip_prefix(['+', '-']).map_or(0, |_| 1);
    let end = signed + s[signed..].len() - s[signed..].trim_start_matches(|c: char| c.is_ascii_digit()).len();
    if end == signed {
        return Err("expected integer");
    }
    s[..end].parse().map(|n| (n, &s[end..])).map_err(|_| "value out of range")
}

/// Copies bytes `[start, start + len)` of the local object at `src` into part `n`; its ETag,
/// quoted. Refusals are the store's, as S3 words them.
async fn copy_part_local(
    s: &Embedded,
    upload_id: &str,
    n: i64,
    src: &str,
    (start, len): (u64, u64),
) -> ApiResult<String> {
    let file = s.blobs.path_of(src)?;
    let (mut f, _) = s.blobs.open_read(&file).await.map_err(|e| match e {
        ApiError::NotFound(_) => ApiError::local_store("UploadPartCopy", NO_SUCH_KEY),
        e => e,
    })?;
    f.seek(std::io::SeekFrom::Start(start)).await?;
    let stream = tokio_util::io::ReaderStream::with_capacity(f.take(len), 256 * 1024);
    Uploads::new(&s.blobs).write_part(&s.blobs, upload_id, n, stream).await.map_err(|e| match e {
        ApiError::NotFound(_) => ApiError::local_store("UploadPartCopy", NO_SUCH_UPLOAD),
        e => e,
    })
}

/// Assembles the object from `parts`: S3-style checksum, size and mtime.
async fn assemble(s: &Embedded, st: &UploadState, parts: &[UploadPart]) -> ApiResult<(Assembled, i64)> {
    let uploads = Uploads::new(&s.blobs);
    let Some(s3) = s.s3_for(&st.physical_address)? else {
        let dest = s.blobs.path_for_write(&st.physical_address)?;
        return Ok((uploads.assemble(&s.blobs, &st.upload_id, parts, &dest).await?, now_unix()));
    };
    // S3 rules some S3 servers do not enforce (SeaweedFS accepts repeated part numbers).
    check_part_list(parts)?;
    let completed = s3.complete_multipart(&st.physical_address, &st.upload_id, parts).await;
    // Once completed (or unknown to the S3 store) the S3 upload is gone, whatever happens next.
    if completed.as_ref().map_or_else(|e| e.store_code() == Some("NoSuchUpload"), |_| true) {
        uploads.remove(&st.upload_id).await?;
    }
    let etag = completed?;
    let head = s3.head(&st.physical_address).await?;
    let checksum = if etag.is_empty() { head.etag } else { etag };
    Ok((Assembled { checksum, size: head.size }, head.mtime.unwrap_or_else(now_unix)))
}

/// The checks `completePresignMultipartUpload` and `abortPresignMultipartUpload` share, in
/// lakeFS's order: repository (404), storage support (501), upload id, path and physical address
/// present (400), the address in the data prefix and signed for this branch and path (400).
async fn finishing(s: &Embedded, (repo, upload_id): (&str, &str), path: &str, address: &str) -> ApiResult<Repository> {
    let (repository, storage) = repository(s, repo).await?;
    supported(&storage)?;
    if upload_id.is_empty() {
        return Err(ApiError::bad_request("upload_id is required"));
    }
    require_path(path)?;
    if address.is_empty() {
        return Err(ApiError::bad_request("physical_address is required"));
    }
    Ok(repository)
}

/// `completePresignMultipartUpload`. The store's refusal of the parts (S3 `InvalidPart`,
/// `InvalidPartOrder`, `EntityTooSmall`, `NoSuchUpload`…) is lakeFS's 500 with the S3 SDK's error
/// text (see [`crate::sdkerr`]). The answer's `physical_address` is relative to the
/// storage namespace, as lakeFS answers it.
pub async fn complete(
    s: &Arc<Embedded>,
    (repo, branch, upload_id): (String, String, String),
    req: Request<Incoming>,
) -> ApiResult<Response<Body>> {
    let q = Query::parse(req.uri().query());
    let path = path_param(&q)?;
    let body: CompletePresignMultipartUpload = read_json(req.into_body()).await?;
    let repository = finishing(s, (&repo, &upload_id), &path, &body.physical_address).await?;
    if body.parts.is_empty() {
        return Err(ApiError::bad_request("parts are required"));
    }
    check_address(s, &repository, &branch, &path, &body.physical_address)?;
    let st = open_upload(s, &upload_id, &body.physical_address, "CompleteMultipartUpload").await?;
    let (assembled, mtime) = assemble(s, &st, &body.parts).await?;
    let entry = Entry {
        physical_address: st.physical_address.clone(),
        checksum: assembled.checksum,
        size_bytes: assembled.size as i64,
        mtime,
        content_type: body.content_type.filter(|c| !c.is_empty()).unwrap_or_else(|| "application/octet-stream".into()),
        metadata: body.user_metadata.unwrap_or_default(),
    };
    let (p, e) = (path.clone(), entry.clone());
    let staged = s.db(move |m| m.stage(&repo, &branch, &p, &e, WriteCondition::None, false)).await;
    if let Err(err) = staged {
        s.remove_data(&st.physical_address).await;
        return Err(err);
    }
    Uploads::new(&s.blobs).remove(&upload_id).await?;
    let relative = relative_address(&repository.storage_namespace, &entry.physical_address).map(str::to_string);
    let mut answer = stats(path, entry, true, None);
    answer.physical_address = relative.unwrap_or(answer.physical_address);
    json_response(StatusCode::OK, &answer)
}

/// `abortPresignMultipartUpload`: the store's `AbortMultipartUpload` (an unknown upload is its
/// `NoSuchUpload`, lakeFS's 500).
pub async fn abort(
    s: &Arc<Embedded>,
    (repo, branch, upload_id): (String, String, String),
    req: Request<Incoming>,
) -> ApiResult<Response<Body>> {
    let q = Query::parse(req.uri().query());
    let path = path_param(&q)?;
    let body: AbortPresignMultipartUpload = read_json(req.into_body()).await?;
    let repository = finishing(s, (&repo, &upload_id), &path, &body.physical_address).await?;
    check_address(s, &repository, &branch, &path, &body.physical_address)?;
    let st = open_upload(s, &upload_id, &body.physical_address, "AbortMultipartUpload").await?;
    let aborted = match s.s3_for(&st.physical_address)? {
        Some(s3) => s3.abort_multipart(&st.physical_address, &upload_id).await,
        None => Ok(()),
    };
    // An upload the S3 store no longer knows is gone here too.
    if aborted.as_ref().map_or_else(|e| e.store_code() == Some("NoSuchUpload"), |_| true) {
        Uploads::new(&s.blobs).remove(&upload_id).await?;
    }
    aborted?;
    Ok(status_response(StatusCode::NO_CONTENT))
}
