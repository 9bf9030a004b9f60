//! Staging operations: `getPhysicalAddress` (a signed address, optionally with a presigned PUT URL)
//! and `linkPhysicalAddress` (turns uploaded bytes into an uncommitted object).

use super::objects::{object_path, stats, write_condition};
use crate::embedded::Embedded;
use crate::embedded::catalog::{Entry, now_unix};
use crate::embedded::error::{ApiError, ApiResult};
use crate::embedded::http::{Body, Query, json_response, read_json};
use crate::lakefs::dto::{StagingLocation, StagingMetadata};
use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use std::sync::Arc;
use std::time::SystemTime;

pub async fn get_physical_address(
    s: &Arc<Embedded>,
    repo: String,
    branch: String,
    req: Request<Incoming>,
) -> ApiResult<Response<Body>> {
    let q = Query::parse(req.uri().query());
    object_path(&q, "path")?; // required, though the address binds the repository only (as lakeFS)
    let presign = q.bool("presign", false)?;
    let (r, b) = (repo.clone(), branch.clone());
    let repository = s.db(move |m| m.get_branch(&r, &b).and_then(|_| m.get_repository(&r))).await?;
    let address = s.addresses.new_address(&repository.storage_namespace, &repo);
    let mut location = StagingLocation { physical_address: Some(address.clone()), ..Default::default() };
    if presign {
        if s.presign_expiry.is_none() {
            // lakeFS answers 500 here when its blockstore cannot presign.
            return Err(ApiError::Internal("presigned URLs are not supported by this blockstore".into()));
        }
        let (url, expiry) = s.presign_address("PUT", &address)?;
        location.presigned_url = Some(url);
        location.presigned_url_expiry = Some(expiry);
    }
    json_response(StatusCode::OK, &location)
}

pub async fn link_physical_address(
    s: &Arc<Embedded>,
    repo: String,
    branch: String,
    req: Request<Incoming>,
) -> ApiResult<Response<Body>> {
    let q = Query::parse(req.uri().query());
    let path = object_path(&q, "path")?;
    let cond = write_condition(req.headers())?;
    let body: StagingMetadata = read_json(req.into_body()).await?;
    let checksum = body.checksum.trim_matches(|c| c == '"' || c == ' ').to_string();
    if checksum.is_empty() {
        return Err(ApiError::bad_request("checksum: required"));
    }
    if body.size_bytes < 0 {
        return Err(ApiError::bad_request("size_bytes: must not be negative"));
    }
    let address = body.staging.physical_address.clone().filter(|a| !a.is_empty());
    let address = address.ok_or_else(|| ApiError::bad_request("staging.physical_address: required"))?;
    let r = repo.clone();
    let repository = s.db(move |m| m.get_repository(&r)).await?;
    let data_prefix = format!("{}/data/", repository.storage_namespace.trim_end_matches('/'));
    // an address this server issued (`…/data/<id>,<sig>`), for this repository or another one
    let issued = address.split_once("/data/").is_some_and(|(_, id)| id.contains(','));
    if address.starts_with(&data_prefix) || issued {
        s.addresses.verify(&address, &repo, SystemTime::now()).map_err(|e| ApiError::bad_request(e.to_string()))?;
    } else if !address.starts_with(s.scheme()) {
        return Err(ApiError::bad_request(format!("invalid address {address:?}: not on the local blockstore")));
    }
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
