//! `uploadObject`, as lakeFS v1.84.0 answers it (`pkg/api/controller.go` `UploadObject`,
//! `extractLakeFSMetadata`; `pkg/api/apiutil/conditions.go` `BuildConditionFromParams`).
//!
//! Order: repository (400 id, 404), branch (400 id, 404 `branch '<b>' not found`), `If-None-Match:
//! *` on an existing path (412 `path already exists`, before any byte is read), the other
//! conditions (501 `Not Implemented`), the body (raw, or the first `content` part of a
//! `multipart/form-data` body; a malformed one is 500), then staging (path 400, read-only 403, a
//! path that appeared meanwhile 412).

use super::{object_path, stats};
use crate::Embedded;
use crate::catalog::{Entry, WriteCondition, now_unix, validate};
use crate::error::{ApiError, ApiResult};
use crate::http::{Body, Query, json_response};
use crate::presign::full_address;
use crate::xid::new_data_path;
use futures_util::TryStreamExt;
use http::{HeaderMap, Request, Response, StatusCode, header};
use http_body_util::BodyDataStream;
use hyper::body::Incoming;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Headers carrying user metadata (`apiutil.LakeFSHeaderMetadataPrefix`).
const META_HEADER_PREFIX: &str = "x-lakefs-meta-";
/// Headers carrying lakeFS's own metadata, kept under `::lakefs::` (`LakeFSHeaderInternalPrefix`).
const INTERNAL_HEADER_PREFIX: &str = "x-lakefs-internal-";
/// lakeFS `catalog.DefaultContentType`.
const DEFAULT_CONTENT_TYPE: &str = "application/octet-stream";

/// lakeFS `extractLakeFSMetadata`: the first value of each `x-lakefs-meta-*` header under its
/// lower-cased rest, and of each `x-lakefs-internal-*` header under `::lakefs::<rest>`.
pub fn user_metadata(headers: &HeaderMap) -> BTreeMap<String, String> {
    let mut meta = BTreeMap::new();
    for name in headers.keys() {
        let key = match name.as_str() {
            n if n.starts_with(META_HEADER_PREFIX) => n[META_HEADER_PREFIX.len()..].to_string(),
            n if n.starts_with(INTERNAL_HEADER_PREFIX) => format!("::lakefs::{}", &n[INTERNAL_HEADER_PREFIX.len()..]),
            _ => continue,
        };
        if let Some(v) = headers.get(name).and_then(|v| v.to_str().ok()) {
            meta.insert(key, v.to_string());
        }
    }
    meta
}

/// lakeFS `BuildConditionFromParams`: only `If-None-Match: *`; anything else is 501.
fn condition(headers: &HeaderMap) -> ApiResult<WriteCondition> {
    let not_implemented = || ApiError::NotImplemented("Not Implemented".into());
    let inm = headers.get(header::IF_NONE_MATCH);
    if headers.contains_key(header::IF_MATCH) || inm.is_some_and(|v| v.as_bytes() != b"*") {
        return Err(not_implemented());
    }
    Ok(if inm.is_some() { WriteCondition::IfAbsent } else { WriteCondition::None })
}

fn server_error(msg: impl std::fmt::Display) -> ApiError {
    ApiError::Unexpected(msg.to_string())
}

pub async fn upload_object(
    s: &Arc<Embedded>,
    repo: String,
    branch: String,
    req: Request<Incoming>,
) -> ApiResult<Response<Body>> {
    let q = Query::parse(req.uri().query());
    super::super::repos_api::refuse_params(&q, &["storageClass"])?;
    let path = object_path(&q, "path")?;
    let force = q.bool("force", false)?;
    let target = (repo, branch, path);
    let namespace = check_target(s, &target, req.headers()).await?;
    let cond = condition(req.headers())?;
    let address = full_address(&namespace, &new_data_path());
    let metadata = user_metadata(req.headers());
    let (written, content_type) = write_body(s, &address, req).await?;
    let stored_type = if content_type.is_empty() { DEFAULT_CONTENT_TYPE } else { &content_type }.to_string();
    let entry = Entry {
        physical_address: address,
        checksum: written.md5_hex,
        size_bytes: written.size as i64,
        mtime: now_unix(),
        content_type: stored_type,
        metadata,
    };
    let path = target.2.clone();
    stage(s, target, &entry, cond, force).await?;
    // lakeFS answers the content type it read: `""` for a `content` part without one
    let mut answer = stats(path, entry, true, None);
    answer.content_type = Some(content_type);
    json_response(StatusCode::CREATED, &answer)
}

/// The checks before the upload: repository, branch, and `If-None-Match: *` on an existing path;
/// the repository's storage namespace.
async fn check_target(s: &Arc<Embedded>, (repo, branch, path): &Target, headers: &HeaderMap) -> ApiResult<String> {
    validate::repository("repository", repo)?;
    let (r, b, p) = (repo.clone(), branch.clone(), path.clone());
    let if_absent = headers.get(header::IF_NONE_MATCH).is_some_and(|v| v.as_bytes() == b"*");
    s.db(move |m| {
        let repository = m.get_repository(&r)?;
        validate::branch("name", &b)?;
        m.get_branch(&r, &b).map_err(|_| ApiError::not_found(format!("branch '{b}' not found")))?;
        if if_absent && m.stat_entry(&r, &b, &p).is_ok() {
            return Err(path_exists());
        }
        Ok(repository.storage_namespace)
    })
    .await
}

/// Stages the written `entry` (lakeFS `Catalog.CreateEntry`); removes its data when that fails.
async fn stage(
    s: &Arc<Embedded>,
    (r, b, p): Target,
    entry: &Entry,
    cond: WriteCondition,
    force: bool,
) -> ApiResult<()> {
    let e = entry.clone();
    let staged = match validate::path("path", &p) {
        Ok(()) => s.db(move |m| m.stage(&r, &b, &p, &e, cond, force)).await,
        Err(invalid) => Err(invalid),
    };
    if let Err(err) = staged {
        s.remove_data(&entry.physical_address).await;
        return Err(match err {
            ApiError::PreconditionFailed(_) => path_exists(),
            err => err,
        });
    }
    Ok(())
}

/// Repository, branch and path of an upload.
type Target = (String, String, String);

fn path_exists() -> ApiError {
    ApiError::PreconditionFailed("path already exists".into())
}

/// Writes the request's data to `address`: the raw body (its `Content-Type`, or
/// `application/octet-stream`), or the first `content` part of a form (the part's own type).
async fn write_body(
    s: &Arc<Embedded>,
    address: &str,
    req: Request<Incoming>,
) -> ApiResult<(crate::blob::Written, String)> {
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let content_type = if content_type.is_empty() { DEFAULT_CONTENT_TYPE } else { content_type }.to_string();
    let media_type = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if media_type != "multipart/form-data" {
        return Ok((s.write_data(address, BodyDataStream::new(req.into_body())).await?, content_type));
    }
    let boundary = multer::parse_boundary(&content_type)
        .map_err(|_| server_error("no multipart boundary param in Content-Type"))?;
    let mut form = multer::Multipart::new(BodyDataStream::new(req.into_body()), boundary);
    loop {
        let Some(field) = form.next_field().await.map_err(server_error)? else {
            return Err(server_error("multipart upload missing key 'content': http: no such file"));
        };
        if field.name() == Some("content") {
            let ct = field.content_type().map(|m| m.to_string()).unwrap_or_default();
            return Ok((s.write_data(address, field.map_err(|e| e.to_string())).await?, ct));
        }
    }
}
