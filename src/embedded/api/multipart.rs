//! Presigned multipart upload (lakeFS `experimental` API): `createPresignMultipartUpload`,
//! `uploadPart`, `uploadPartCopy`, `completePresignMultipartUpload`, `abortPresignMultipartUpload`
//! (lakeFS `api/swagger.yml`, `pkg/api/controller.go`).
//!
//! On the local blob store parts are kept by [`crate::embedded::mpu`]; on the S3 blockstore every
//! call maps onto the S3 server's multipart API ([`crate::embedded::s3mpu`]), as lakeFS's S3
//! adapter does, the S3 `UploadId` being the lakeFS upload id. On both, an `upload.json` binds the
//! upload id to its repository, branch, path and physical address. With presigning (or presigned
//! multipart) off, create/complete/abort answer 501 as lakeFS does. The physical address is a
//! signed staging address, as `getPhysicalAddress`'s, and must be presented (unchanged, within
//! 24 h) on every later call.

use super::objects::{object_path, stats};
use crate::embedded::Embedded;
use crate::embedded::authz::{Caller, Permission, action, arn};
use crate::embedded::catalog::{Entry, WriteCondition, now_unix};
use crate::embedded::error::{ApiError, ApiResult};
use crate::embedded::http::{Body, Query, json_response, read_json, status_response};
use crate::embedded::mpu::{Assembled, MAX_PARTS, UploadState, Uploads, check_part_list, parse_copy_range};
use crate::embedded::presign::new_object_id;
use crate::lakefs::dto::{
    AbortPresignMultipartUpload, CompletePresignMultipartUpload, PresignMultipartUpload, UploadPart,
    UploadPartCopyFrom, UploadPartFrom, UploadTo,
};
use http::{HeaderValue, Request, Response, StatusCode, header};
use hyper::body::Incoming;
use std::sync::Arc;
use std::time::SystemTime;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

/// lakeFS's answer when the blockstore cannot do presigned multipart uploads.
fn unsupported(s: &Embedded) -> ApiResult<()> {
    if s.presign_expiry.is_none() || !s.presign_multipart {
        return Err(ApiError::NotImplemented("presign multipart upload API is not supported".into()));
    }
    Ok(())
}

fn part_number(raw: &str) -> ApiResult<i64> {
    raw.parse::<i64>()
        .ok()
        .filter(|n| (1..=MAX_PARTS).contains(n))
        .ok_or_else(|| ApiError::bad_request(format!("partNumber {raw:?}: must be an integer between 1 and 10000")))
}

/// The upload `upload_id` of `repo/branch/path`, checked against the address the caller presents.
async fn open_upload(
    s: &Embedded,
    repo: &str,
    branch: &str,
    upload_id: &str,
    path: &str,
    address: &str,
) -> ApiResult<UploadState> {
    if address.is_empty() {
        return Err(ApiError::bad_request("physical_address: required"));
    }
    let st = Uploads::new(&s.blobs).load(upload_id).await?;
    if st.repo != repo || st.branch != branch {
        return Err(ApiError::not_found("NoSuchUpload: the specified multipart upload does not exist"));
    }
    s.addresses.verify(address, repo, SystemTime::now()).map_err(|e| ApiError::bad_request(e.to_string()))?;
    if st.physical_address != address || st.path != path {
        return Err(ApiError::bad_request("physical_address does not belong to this upload"));
    }
    Ok(st)
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

pub async fn create(
    s: &Arc<Embedded>,
    repo: String,
    branch: String,
    req: Request<Incoming>,
) -> ApiResult<Response<Body>> {
    let q = Query::parse(req.uri().query());
    let (r, b) = (repo.clone(), branch.clone());
    let repository = s.db(move |m| m.get_branch(&r, &b).and_then(|_| m.get_repository(&r))).await?;
    unsupported(s)?;
    let path = object_path(&q, "path")?;
    let parts = q.int("parts")?.unwrap_or(0);
    if !(0..=MAX_PARTS).contains(&parts) {
        return Err(ApiError::bad_request(format!("parts: must be between 0 and {MAX_PARTS}")));
    }
    let address = s.addresses.new_address(&repository.storage_namespace, &repo);
    let st =
        UploadState { upload_id: String::new(), repo, branch, path, physical_address: address, created: now_unix() };
    let UploadState { upload_id, physical_address: address, .. } = start_upload(s, st).await?;
    let presigned_urls = if parts > 0 {
        Some((1..=parts).map(|n| s.presign_part(&address, &upload_id, n)).collect::<ApiResult<Vec<_>>>()?)
    } else {
        None
    };
    json_response(StatusCode::CREATED, &PresignMultipartUpload { upload_id, physical_address: address, presigned_urls })
}

pub async fn upload_part(
    s: &Arc<Embedded>,
    (repo, branch, upload_id, part): (String, String, String, String),
    req: Request<Incoming>,
) -> ApiResult<Response<Body>> {
    let q = Query::parse(req.uri().query());
    let path = object_path(&q, "path")?;
    let n = part_number(&part)?;
    let body: UploadPartFrom = read_json(req.into_body()).await?;
    let st = open_upload(s, &repo, &branch, &upload_id, &path, &body.physical_address).await?;
    let presigned_url = s.presign_part(&st.physical_address, &upload_id, n)?;
    json_response(StatusCode::OK, &UploadTo { presigned_url })
}

pub async fn upload_part_copy(
    s: &Arc<Embedded>,
    (repo, branch, upload_id, part): (String, String, String, String),
    caller: &Caller,
    req: Request<Incoming>,
) -> ApiResult<Response<Body>> {
    let q = Query::parse(req.uri().query());
    let path = object_path(&q, "path")?;
    let n = part_number(&part)?;
    let body: UploadPartCopyFrom = read_json(req.into_body()).await?;
    let st = open_upload(s, &repo, &branch, &upload_id, &path, &body.physical_address).await?;
    let src = body.copy_source;
    if src.repository.is_empty() || src.reference.is_empty() || src.path.is_empty() {
        return Err(ApiError::bad_request("copy_source: repository, ref and path are required"));
    }
    caller.require(&[Permission::new(action::READ_OBJECT, arn::object(&src.repository, &src.path))])?;
    let (sr, sref, sp) = (src.repository.clone(), src.reference.clone(), src.path.clone());
    let (_, entry) = s.db(move |m| m.stat_entry(&sr, &sref, &sp)).await?;
    let size = u64::try_from(entry.size_bytes).unwrap_or(0);
    let (start, len) = parse_copy_range(src.range.as_deref(), size)?;
    let etag = match s.s3_for(&st.physical_address)? {
        Some(s3) => {
            let range = src.range.as_deref().filter(|r| !r.is_empty()).map(|_| (start, start + len - 1));
            s3.upload_part_copy(&st.physical_address, &upload_id, n, &entry.physical_address, range).await?
        }
        None => copy_part_local(s, &upload_id, n, &entry.physical_address, (start, len)).await?,
    };
    let mut resp = status_response(StatusCode::NO_CONTENT);
    resp.headers_mut().insert(header::ETAG, HeaderValue::from_str(&etag).map_err(ApiError::internal)?);
    Ok(resp)
}

/// Copies bytes `[start, start + len)` of the local object at `src` into part `n`; its ETag, quoted.
async fn copy_part_local(
    s: &Embedded,
    upload_id: &str,
    n: i64,
    src: &str,
    (start, len): (u64, u64),
) -> ApiResult<String> {
    let file = s.blobs.path_of(src)?;
    let (mut f, _) = s.blobs.open_read(&file).await.map_err(crate::embedded::blob::data_gone)?;
    f.seek(std::io::SeekFrom::Start(start)).await?;
    let stream = tokio_util::io::ReaderStream::with_capacity(f.take(len), 256 * 1024);
    Uploads::new(&s.blobs).write_part(&s.blobs, upload_id, n, stream).await
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
    if matches!(completed, Ok(_) | Err(ApiError::NotFound(_))) {
        uploads.remove(&st.upload_id).await?;
    }
    let etag = completed?;
    let head = s3.head(&st.physical_address).await?;
    let checksum = if etag.is_empty() { head.etag } else { etag };
    Ok((Assembled { checksum, size: head.size }, head.mtime.unwrap_or_else(now_unix)))
}

pub async fn complete(
    s: &Arc<Embedded>,
    (repo, branch, upload_id): (String, String, String),
    req: Request<Incoming>,
) -> ApiResult<Response<Body>> {
    unsupported(s)?;
    let q = Query::parse(req.uri().query());
    let path = object_path(&q, "path")?;
    let body: CompletePresignMultipartUpload = read_json(req.into_body()).await?;
    let st = open_upload(s, &repo, &branch, &upload_id, &path, &body.physical_address).await?;
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
    json_response(StatusCode::OK, &stats(path, entry, true, None))
}

pub async fn abort(
    s: &Arc<Embedded>,
    (repo, branch, upload_id): (String, String, String),
    req: Request<Incoming>,
) -> ApiResult<Response<Body>> {
    unsupported(s)?;
    let q = Query::parse(req.uri().query());
    let path = object_path(&q, "path")?;
    let body: AbortPresignMultipartUpload = read_json(req.into_body()).await?;
    let st = open_upload(s, &repo, &branch, &upload_id, &path, &body.physical_address).await?;
    let aborted = match s.s3_for(&st.physical_address)? {
        Some(s3) => s3.abort_multipart(&st.physical_address, &upload_id).await,
        None => Ok(()),
    };
    // An upload the S3 store no longer knows is gone here too.
    if matches!(aborted, Ok(()) | Err(ApiError::NotFound(_))) {
        Uploads::new(&s.blobs).remove(&upload_id).await?;
    }
    aborted?;
    Ok(status_response(StatusCode::NO_CONTENT))
}
