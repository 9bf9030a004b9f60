//! Staging operations: `getPhysicalAddress` (a signed address, optionally with a presigned PUT URL)
//! and `linkPhysicalAddress` (turns uploaded bytes into an uncommitted object), as lakeFS v1.84's
//! `GetPhysicalAddress`/`LinkPhysicalAddress` (`pkg/api/controller.go`).

use super::objects_api::{object_path, stats, write_condition};
use crate::Embedded;
use crate::catalog::{Entry, now_unix};
use crate::error::{ApiError, ApiResult};
use crate::http::{Body, Query, json_response, read_json};
use crate::presign::{full_address, relative_address};
use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use lakefs_api::dto::{StagingLocation, StagingMetadata};
use std::sync::Arc;
use std::time::SystemTime;

/// An address bound to `repo`, `branch` and `path`. Like lakeFS it does not look at the branch
/// (linking does); with `presign=true` on a storage that cannot presign it answers 500 with the
/// adapter's text.
pub async fn get_physical_address(
    s: &Arc<Embedded>,
    repo: String,
    branch: String,
    req: Request<Incoming>,
) -> ApiResult<Response<Body>> {
    let q = Query::parse(req.uri().query());
    let path = object_path(&q, "path")?;
    let presign = q.bool("presign", false)?;
    let r = repo.clone();
    let repository = s.db(move |m| m.get_repository(&r)).await?;
    let storage = s.storage_of(&repository)?;
    let address = full_address(&repository.storage_namespace, &s.addresses.new_address(&repo, &branch, &path));
    let mut location = StagingLocation { physical_address: Some(address.clone()), ..Default::default() };
    if presign {
        if !storage.presign {
            return Err(ApiError::Unexpected(storage.no_presign()));
        }
        let (url, expiry) = s.presign_address(storage, "PUT", &address)?;
        location.presigned_url = Some(url);
        location.presigned_url_expiry = Some(expiry);
    }
    json_response(StatusCode::OK, &location)
}

/// Links uploaded bytes at `path`. An address inside the repository's data prefix
/// (`<namespace>/data/…`) must carry the signature `getPhysicalAddress` gave it for this
/// repository, branch and path, within 24 hours (400 otherwise); any other address is linked as a
/// "full" address without a check, as lakeFS does.
pub async fn link_physical_address(
    s: &Arc<Embedded>,
    repo: String,
    branch: String,
    req: Request<Incoming>,
) -> ApiResult<Response<Body>> {
    let q = Query::parse(req.uri().query());
    let path = object_path(&q, "path")?;
    let cond = write_condition(req.headers());
    let body: StagingMetadata = read_json(req.into_body()).await?;
    let r = repo.clone();
    let repository = s.db(move |m| m.get_repository(&r)).await?;
    let address = body.staging.physical_address.clone().filter(|a| !a.is_empty());
    let address = address.ok_or_else(|| ApiError::bad_request("staging.physical_address: required"))?;
    if let Some(relative) = relative_address(&repository.storage_namespace, &address) {
        s.addresses.verify(&repo, &branch, &path, relative, SystemTime::now())?;
    }
    let checksum = body.checksum.trim_matches(|c| c == '"' || c == ' ').to_string();
    if checksum.is_empty() {
        return Err(ApiError::bad_request("checksum is required"));
    }
    if body.size_bytes < 0 {
        return Err(ApiError::bad_request("size_bytes: must not be negative"));
    }
    let cond = cond?;
    let entry = Entry {
        physical_address: address,
        checksum,
        size_bytes: body.size_bytes,
        mtime: body.mtime.unwrap_or_else(now_unix),
        content_type: body.content_type.filter(|c| !c.is_empty()).unwrap_or_else(|| "application/octet-stream".into()),
        metadata: body.user_metadata.unwrap_or_default(),
    };
    let (p, e, force) = (path.clone(), entry.clone(), body.force.unwrap_or(false));
    s.db(move |m| m.stage(&repo, &branch, &p, &e, cond, force)).await?;
    json_response(StatusCode::OK, &stats(path, entry, true, None))
}
