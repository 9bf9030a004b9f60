//! Object operations: `statObject`, `listObjects`, `getObject`, `headObject`, `uploadObject`,
//! `deleteObject`, `deleteObjects`, `copyObject`.

use super::repos::{pagination, refuse_params};
use crate::embedded::Embedded;
use crate::embedded::authz::{Caller, Permission, action, arn};
use crate::embedded::catalog::{Entry, ListQuery, Listed, WriteCondition, clamp_amount, now_unix};
use crate::embedded::error::{ApiError, ApiResult};
use crate::embedded::http::{Body, Query, json_response, parse_range, read_json, status_response};
use crate::embedded::presign::full_address;
use crate::embedded::storage::Storage;
use crate::embedded::xid::new_data_path;
use crate::lakefs::dto::{
    ObjectCopyCreation, ObjectError, ObjectErrorList, ObjectStats, ObjectStatsList, PathList, PathType,
};
use futures_util::TryStreamExt;
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode, header};
use http_body_util::BodyDataStream;
use hyper::body::Incoming;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The most paths one `deleteObjects` call may name (lakeFS `DefaultMaxDeleteObjects`).
pub const MAX_DELETE_OBJECTS: usize = 1000;
/// Request header prefix carrying user metadata on `uploadObject`.
const META_HEADER_PREFIX: &str = "x-lakefs-meta-";

/// The required `path` parameter (non-empty, without NUL).
pub fn object_path(q: &Query, name: &str) -> ApiResult<String> {
    let path = q.required(name)?;
    if path.contains('\0') {
        return Err(ApiError::bad_request(format!("invalid {name}")));
    }
    Ok(path.to_string())
}

/// The write condition of `If-None-Match` / `If-Match` (only `If-None-Match: *` is supported, as in lakeFS).
pub fn write_condition(headers: &HeaderMap) -> ApiResult<WriteCondition> {
    let inm = headers.get(header::IF_NONE_MATCH);
    if headers.contains_key(header::IF_MATCH) || inm.is_some_and(|v| v.as_bytes() != b"*") {
        return Err(ApiError::NotImplemented("only If-None-Match: * is supported".into()));
    }
    Ok(if inm.is_some() { WriteCondition::IfAbsent } else { WriteCondition::None })
}

/// `ObjectStats` of an entry; `presigned` replaces the address with a GET URL.
pub fn stats(path: String, e: Entry, with_metadata: bool, presigned: Option<(String, i64)>) -> ObjectStats {
    let (physical_address, physical_address_expiry) = match presigned {
        Some((url, exp)) => (url, Some(exp)),
        None => (e.physical_address, None),
    };
    ObjectStats {
        path,
        path_type: PathType::Object,
        physical_address,
        physical_address_expiry,
        checksum: e.checksum,
        size_bytes: Some(e.size_bytes),
        mtime: e.mtime,
        metadata: with_metadata.then_some(e.metadata),
        content_type: Some(e.content_type),
    }
}

/// A presigned GET of `e` when asked for (`storage`: the repository's, when presigning).
fn presigned_get(s: &Embedded, e: &Entry, storage: Option<&Storage>) -> ApiResult<Option<(String, i64)>> {
    storage.map(|st| s.presign_address(st, "GET", &e.physical_address)).transpose()
}

pub async fn stat_object(
    s: &Arc<Embedded>,
    repo: String,
    reference: String,
    req: Request<Incoming>,
) -> ApiResult<Response<Body>> {
    let q = Query::parse(req.uri().query());
    let path = object_path(&q, "path")?;
    let (with_metadata, presign) = (q.bool("user_metadata", true)?, q.bool("presign", false)?);
    let p = path.clone();
    let (repository, entry) = s.db(move |m| m.stat_entry(&repo, &reference, &p)).await?;
    let storage = if presign { Some(s.storage_of(&repository)?) } else { None };
    let presigned = presigned_get(s, &entry, storage)?;
    json_response(StatusCode::OK, &stats(path, entry, with_metadata, presigned))
}

pub async fn list_objects(
    s: &Arc<Embedded>,
    repo: String,
    reference: String,
    req: Request<Incoming>,
) -> ApiResult<Response<Body>> {
    let q = Query::parse(req.uri().query());
    let (with_metadata, presign) = (q.bool("user_metadata", true)?, q.bool("presign", false)?);
    let (prefix, after, delimiter) = (
        q.str_or_empty("prefix").to_string(),
        q.str_or_empty("after").to_string(),
        q.str_or_empty("delimiter").to_string(),
    );
    let amount = clamp_amount(q.amount()?);
    let storage = if presign {
        let r = repo.clone();
        Some(s.storage_of(&s.db(move |m| m.get_repository(&r)).await?)?.clone())
    } else {
        None
    };
    let (rows, more) = s
        .db(move |m| {
            m.list_entries(
                &repo,
                &reference,
                &ListQuery { prefix: &prefix, after: &after, delimiter: &delimiter, amount },
            )
        })
        .await?;
    let page = pagination(rows.len(), more, rows.last().map(Listed::path));
    let mut results = Vec::with_capacity(rows.len());
    for row in rows {
        results.push(match row {
            Listed::Object(path, e) => {
                let presigned = presigned_get(s, &e, storage.as_ref())?;
                stats(path, e, with_metadata, presigned)
            }
            Listed::CommonPrefix(path) => ObjectStats {
                path,
                path_type: PathType::CommonPrefix,
                physical_address: String::new(),
                physical_address_expiry: None,
                checksum: String::new(),
                size_bytes: None,
                mtime: 0,
                metadata: None,
                content_type: None,
            },
        });
    }
    json_response(StatusCode::OK, &ObjectStatsList { pagination: page, results })
}

fn header_value(v: &str) -> ApiResult<HeaderValue> {
    HeaderValue::from_str(v).map_err(ApiError::internal)
}

/// `getObject` (with a body) and `headObject` (without).
pub async fn get_object(
    s: &Arc<Embedded>,
    repo: String,
    reference: String,
    req: Request<Incoming>,
    with_body: bool,
) -> ApiResult<Response<Body>> {
    let q = Query::parse(req.uri().query());
    let path = object_path(&q, "path")?;
    let presign = q.bool("presign", false)?;
    let (repository, entry) = s.db(move |m| m.stat_entry(&repo, &reference, &path)).await?;
    if presign && with_body {
        let (url, _) = s.presign_address(s.storage_of(&repository)?, "GET", &entry.physical_address)?;
        let mut resp = status_response(StatusCode::FOUND);
        resp.headers_mut().insert(header::LOCATION, header_value(&url)?);
        return Ok(resp);
    }
    let etag = format!("\"{}\"", entry.checksum);
    let mut resp = status_response(StatusCode::OK);
    let h = resp.headers_mut();
    h.insert(header::ETAG, header_value(&etag)?);
    h.insert(header::LAST_MODIFIED, header_value(&http_date(entry.mtime))?);
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(header::CONTENT_TYPE, header_value(&entry.content_type)?);
    if with_body && req.headers().get(header::IF_NONE_MATCH).is_some_and(|v| v.as_bytes() == etag.as_bytes()) {
        *resp.status_mut() = StatusCode::NOT_MODIFIED;
        return Ok(resp);
    }
    s.check_data(&entry.physical_address).await?;
    let len = entry.size_bytes.max(0) as u64;
    let range_header = req.headers().get(header::RANGE).and_then(|v| v.to_str().ok());
    let range = parse_range(range_header, len)
        .map_err(|_| ApiError::RangeNotSatisfiable("requested range not satisfiable".into()))?;
    let count = match range {
        Some(r) => {
            *resp.status_mut() = StatusCode::PARTIAL_CONTENT;
            resp.headers_mut().insert(header::CONTENT_RANGE, header_value(&r.content_range(len))?);
            r.len()
        }
        None => len,
    };
    resp.headers_mut().insert(header::CONTENT_LENGTH, HeaderValue::from(count));
    if with_body && count > 0 {
        *resp.body_mut() = s.read_data(&entry.physical_address, len, range).await?;
    }
    Ok(resp)
}

pub fn http_date(unix: i64) -> String {
    httpdate::fmt_http_date(std::time::UNIX_EPOCH + std::time::Duration::from_secs(unix.max(0) as u64))
}

fn user_metadata(headers: &HeaderMap) -> BTreeMap<String, String> {
    headers
        .iter()
        .filter_map(|(k, v)| {
            Some((k.as_str().strip_prefix(META_HEADER_PREFIX)?.to_string(), v.to_str().ok()?.to_string()))
        })
        .collect()
}

pub async fn upload_object(
    s: &Arc<Embedded>,
    repo: String,
    branch: String,
    req: Request<Incoming>,
) -> ApiResult<Response<Body>> {
    let q = Query::parse(req.uri().query());
    refuse_params(&q, &["storageClass"])?;
    let path = object_path(&q, "path")?;
    let force = q.bool("force", false)?;
    let cond = write_condition(req.headers())?;
    let (r, b) = (repo.clone(), branch.clone());
    let repository = s.db(move |m| m.get_branch(&r, &b).and_then(|_| m.get_repository(&r))).await?;
    let address = full_address(&repository.storage_namespace, &new_data_path());
    let metadata = user_metadata(req.headers());
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let (written, content_type) = if content_type.starts_with("multipart/form-data") {
        let boundary = multer::parse_boundary(&content_type).map_err(|e| ApiError::bad_request(e.to_string()))?;
        let mut form = multer::Multipart::new(BodyDataStream::new(req.into_body()), boundary);
        loop {
            let field = form.next_field().await.map_err(|e| ApiError::bad_request(format!("multipart body: {e}")))?;
            let Some(field) = field else {
                return Err(ApiError::bad_request("multipart body has no \"content\" part"));
            };
            if field.name() == Some("content") {
                let ct = field.content_type().map(|m| m.to_string()).unwrap_or_default();
                break (s.write_data(&address, field.map_err(|e| e.to_string())).await?, ct);
            }
        }
    } else {
        (s.write_data(&address, BodyDataStream::new(req.into_body())).await?, content_type)
    };
    let entry = Entry {
        physical_address: address,
        checksum: written.md5_hex,
        size_bytes: written.size as i64,
        mtime: now_unix(),
        content_type: if content_type.is_empty() { "application/octet-stream".into() } else { content_type },
        metadata,
    };
    stage_and_respond(s, repo, branch, path, entry, cond, force).await
}

/// Stages a freshly written object; removes its data again when staging fails.
async fn stage_and_respond(
    s: &Arc<Embedded>,
    repo: String,
    branch: String,
    path: String,
    entry: Entry,
    cond: WriteCondition,
    force: bool,
) -> ApiResult<Response<Body>> {
    let (p, e) = (path.clone(), entry.clone());
    if let Err(err) = s.db(move |m| m.stage(&repo, &branch, &p, &e, cond, force)).await {
        s.remove_data(&entry.physical_address).await;
        return Err(err);
    }
    json_response(StatusCode::CREATED, &stats(path, entry, true, None))
}

pub async fn delete_object(
    s: &Arc<Embedded>,
    repo: String,
    branch: String,
    req: Request<Incoming>,
) -> ApiResult<Response<Body>> {
    let q = Query::parse(req.uri().query());
    refuse_params(&q, &["no_tombstone"])?;
    let path = object_path(&q, "path")?;
    let force = q.bool("force", false)?;
    s.db(move |m| m.delete_entries(&repo, &branch, &[path], force)).await?;
    Ok(status_response(StatusCode::NO_CONTENT))
}

/// `deleteObjects`: each path needs `fs:DeleteObject`; a denied one is reported as a 401 entry
/// and left alone, as lakeFS does.
pub async fn delete_objects(
    s: &Arc<Embedded>,
    repo: String,
    branch: String,
    caller: &Caller,
    req: Request<Incoming>,
) -> ApiResult<Response<Body>> {
    let q = Query::parse(req.uri().query());
    refuse_params(&q, &["no_tombstone"])?;
    let force = q.bool("force", false)?;
    let body: PathList = read_json(req.into_body()).await?;
    if body.paths.len() > MAX_DELETE_OBJECTS {
        return Err(ApiError::bad_request(format!("request size exceeded, max paths is set to {MAX_DELETE_OBJECTS}")));
    }
    let (paths, denied): (Vec<String>, Vec<String>) = body
        .paths
        .into_iter()
        .filter(|p| !p.is_empty() && !p.contains('\0'))
        .partition(|p| caller.allowed(&[Permission::new(action::DELETE_OBJECT, arn::object(&repo, p))]));
    let listed = paths.clone();
    let outcome = s.db(move |m| m.delete_entries(&repo, &branch, &paths, force)).await;
    let mut errors: Vec<ObjectError> = denied
        .into_iter()
        .map(|p| ObjectError { status_code: 401, message: "Unauthorized".into(), path: Some(p) })
        .collect();
    // lakeFS reports the batch's error per path: not found (repository or branch) is ignored,
    // a read-only repository is 403, anything else 500 (`controller.go` `DeleteObjects`).
    let status = match &outcome {
        Ok(()) | Err(ApiError::NotFound(_)) => None,
        Err(ApiError::Forbidden(_)) => Some(403),
        Err(_) => Some(500),
    };
    if let (Some(status_code), Err(e)) = (status, outcome) {
        let message = e.to_string();
        errors.extend(listed.into_iter().map(|p| ObjectError { status_code, message: message.clone(), path: Some(p) }));
    }
    json_response(StatusCode::OK, &ObjectErrorList { errors })
}

/// `copyObject`: needs `fs:ReadObject` on the source besides `fs:WriteObject` on the destination.
pub async fn copy_object(
    s: &Arc<Embedded>,
    repo: String,
    branch: String,
    caller: &Caller,
    req: Request<Incoming>,
) -> ApiResult<Response<Body>> {
    let q = Query::parse(req.uri().query());
    let dest_path = object_path(&q, "dest_path")?;
    let body: ObjectCopyCreation = read_json(req.into_body()).await?;
    if body.shallow == Some(true) {
        return Err(ApiError::NotImplemented("shallow copy is not supported".into()));
    }
    if body.src_path.is_empty() || body.src_path.contains('\0') {
        return Err(ApiError::bad_request("src_path: invalid value"));
    }
    caller.require(&[Permission::new(action::READ_OBJECT, arn::object(&repo, &body.src_path))])?;
    let src_ref = body.src_ref.clone().filter(|r| !r.is_empty()).unwrap_or_else(|| branch.clone());
    let (r, b, sp) = (repo.clone(), branch.clone(), body.src_path.clone());
    let (repository, src) = s
        .db(move |m| {
            // lakeFS `CopyObject`: repository (404), then "branch '<b>' not found" for the destination
            m.get_branch(&r, &b).map_err(|e| match e {
                ApiError::NotFound(m) if m == "branch not found" => {
                    ApiError::not_found(format!("branch '{b}' not found"))
                }
                e => e,
            })?;
            m.stat_entry(&r, &src_ref, &sp)
        })
        .await?;
    let address = full_address(&repository.storage_namespace, &new_data_path());
    s.copy_data(&src.physical_address, &address).await?;
    let entry = Entry { physical_address: address, mtime: now_unix(), ..src };
    stage_and_respond(s, repo, branch, dest_path, entry, WriteCondition::None, body.force.unwrap_or(false)).await
}

#[derive(serde::Deserialize)]
struct UpdateObjectUserMetadata {
    set: BTreeMap<String, String>,
}

/// `updateObjectUserMetadata`: replaces the user metadata of an object on a branch (same data);
/// answers 204 as lakeFS's implementation does.
pub async fn update_object_user_metadata(
    s: &Arc<Embedded>,
    repo: String,
    branch: String,
    req: Request<Incoming>,
) -> ApiResult<Response<Body>> {
    let q = Query::parse(req.uri().query());
    let path = object_path(&q, "path")?;
    let body: UpdateObjectUserMetadata = read_json(req.into_body()).await?;
    s.db(move |m| {
        let (_, entry) = m.stat_entry(&repo, &branch, &path)?;
        let entry = Entry { metadata: body.set, ..entry };
        m.stage(&repo, &branch, &path, &entry, WriteCondition::None, false)
    })
    .await?;
    Ok(status_response(StatusCode::NO_CONTENT))
}
