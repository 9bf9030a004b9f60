//! Object operations: `statObject`, `listObjects`, `deleteObject`, `deleteObjects`, `copyObject`,
//! `updateObjectUserMetadata`; `getObject`/`headObject` are in `get` (their `Range` parser in
//! `range`), `uploadObject` in `upload`.

use super::repos_api::{pagination, refuse_params};
use crate::Embedded;
use crate::authz::{Caller, Permission, action, arn};
use crate::catalog::{Entry, ListQuery, Listed, WriteCondition, clamp_amount, now_unix, validate};
use crate::error::{ApiError, ApiResult};
use crate::http::{Body, Query, full, json_response, read_json, status_response};
use crate::presign::full_address;
use crate::storage::Storage;
use crate::xid::new_data_path;
use http::{HeaderMap, Request, Response, StatusCode, header};
use hyper::body::Incoming;
use lakefs_api::dto::{
    ObjectCopyCreation, ObjectError, ObjectErrorList, ObjectStats, ObjectStatsList, PathList, PathType,
};
use std::collections::BTreeMap;
use std::sync::Arc;

mod get;
mod range;
mod upload;
pub use get::get_object;
pub use upload::upload_object;

/// The most paths one `deleteObjects` call may name (lakeFS `DefaultMaxDeleteObjects`).
pub const MAX_DELETE_OBJECTS: usize = 1000;

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
    // lakeFS always answers `metadata`: `{}` when `user_metadata=false`
    let mut answer = stats(path, entry, true, presigned);
    if !with_metadata {
        answer.metadata = Some(Default::default());
    }
    json_response(StatusCode::OK, &answer)
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
    // lakeFS: `Catalog.GetRepository` (id 400, 404), then `ListEntries` (ref, prefix, delimiter)
    validate::repository("repository", &repo)?;
    let (repository, (rows, more)) = s
        .db(move |m| {
            let repository = m.get_repository(&repo)?;
            validate::reference("ref", &reference)?;
            validate::optional_path("prefix", &prefix)?;
            validate::optional_path("delimiter", &delimiter)?;
            let q = ListQuery { prefix: &prefix, after: &after, delimiter: &delimiter, amount };
            Ok((repository, m.list_entries(&repo, &reference, &q)?))
        })
        .await?;
    let storage = if presign { Some(s.storage_of(&repository)?) } else { None };
    let page = pagination(rows.len(), more, rows.last().map(Listed::path));
    let results = rows.into_iter().map(|row| listed_stats(s, row, with_metadata, storage)).collect::<ApiResult<_>>()?;
    json_response(StatusCode::OK, &ObjectStatsList { pagination: page, results })
}

/// One `listObjects` row: an object (presigned when `storage` is given) or a common prefix.
fn listed_stats(s: &Embedded, row: Listed, with_metadata: bool, storage: Option<&Storage>) -> ApiResult<ObjectStats> {
    Ok(match row {
        Listed::Object(path, e) => {
            let presigned = presigned_get(s, &e, storage)?;
            // lakeFS leaves `metadata` out when asked to, and for an object without any
            let with_metadata = with_metadata && !e.metadata.is_empty();
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
    })
}

pub fn http_date(unix: i64) -> String {
    httpdate::fmt_http_date(std::time::UNIX_EPOCH + std::time::Duration::from_secs(unix.max(0) as u64))
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
    let denials = denied.len();
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
    if denials == 0 {
        return json_response(StatusCode::OK, &ObjectErrorList { errors });
    }
    denied_answer(denials, &ObjectErrorList { errors })
}

/// lakeFS's wire answer when some paths were denied: each denial's `authorize` already wrote a
/// 401 `{"message":"insufficient permissions"}` (Go keeps the first status and appends every
/// body), and the final `ObjectErrorList` follows it, one JSON value per line. The allowed paths
/// are deleted all the same.
fn denied_answer(denials: usize, list: &ObjectErrorList) -> ApiResult<Response<Body>> {
    let mut body = b"{\"message\":\"insufficient permissions\"}\n".repeat(denials);
    body.extend(serde_json::to_vec(list)?);
    body.push(b'\n');
    let mut resp = Response::new(full(body));
    *resp.status_mut() = StatusCode::UNAUTHORIZED;
    resp.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
    Ok(resp)
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
/// answers 204 as lakeFS's implementation does (see `Meta::update_user_metadata`).
pub async fn update_object_user_metadata(
    s: &Arc<Embedded>,
    repo: String,
    branch: String,
    req: Request<Incoming>,
) -> ApiResult<Response<Body>> {
    let q = Query::parse(req.uri().query());
    let path = object_path(&q, "path")?;
    let body: UpdateObjectUserMetadata = read_json(req.into_body()).await?;
    s.db(move |m| m.update_user_metadata(&repo, &branch, &path, body.set)).await?;
    Ok(status_response(StatusCode::NO_CONTENT))
}
