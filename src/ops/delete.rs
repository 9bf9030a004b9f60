//! DeleteObject (`deleteObject`; 204 also when the key is absent) and DeleteObjects (`Delete` XML of
//! at most 1000 keys, integrity by `Content-MD5` or an `x-amz-checksum-*`, keys grouped per branch
//! into one `deleteObjects` call each, per-key errors, quiet mode).

use super::delete_xml::parse_delete;
use super::errors::{Missing, map_lakefs};
use super::target::Target;
use super::{Ctx, split_write_key};
use futures_util::StreamExt;
use http::{Response, StatusCode};
use hyper::body::Incoming;
use lakefs_api::dto::PathList;
use lakegate_net::body::{Body, empty};
use s3_wire::body::prepare;
use s3_wire::s3_err;
use s3_wire::xml::{MAX_XML_BODY, XMLNS, to_xml, xml_response};
use s3_wire::{S3Error, S3Result};
use serde::Serialize;
use std::collections::BTreeMap;

/// S3's limit of keys per DeleteObjects request.
pub const MAX_DELETE_KEYS: usize = 1000;

/// DeleteObject.
pub async fn handle_delete_object(
    ctx: &Ctx<'_>,
    bucket: &str,
    key: &str,
    version_id: Option<&str>,
) -> S3Result<Response<Body>> {
    if version_id.is_some_and(|v| v != "null") {
        return Err(s3_err!(InvalidArgument, "Invalid version id specified (versioning is not enabled)"));
    }
    let (branch, path) = split_write_key(key)?;
    ctx.lakefs.delete_object(bucket, branch, path).await.map_err(|e| map_lakefs(e, Missing::Bucket))?;
    let mut resp = Response::new(empty());
    *resp.status_mut() = StatusCode::NO_CONTENT;
    Ok(resp)
}

#[derive(Debug, Serialize)]
struct DeleteResult {
    #[serde(rename = "@xmlns")]
    xmlns: &'static str,
    #[serde(rename = "Deleted")]
    deleted: Vec<Deleted>,
    #[serde(rename = "Error")]
    errors: Vec<KeyError>,
}

#[derive(Debug, Serialize)]
struct Deleted {
    #[serde(rename = "Key")]
    key: String,
}

#[derive(Debug, Serialize)]
struct KeyError {
    #[serde(rename = "Key")]
    key: String,
    #[serde(rename = "Code")]
    code: String,
    #[serde(rename = "Message")]
    message: String,
}

/// Reads the request body through the verifying pipeline (so `Content-MD5` or the checksum is
/// checked), bounded to [`MAX_XML_BODY`].
async fn verified_xml(ctx: &Ctx<'_>, body: Incoming) -> S3Result<Vec<u8>> {
    let h = &ctx.parts.headers;
    let has_checksum = h.contains_key("content-md5")
        || h.keys().any(|k| k.as_str().starts_with("x-amz-checksum-"))
        || h.contains_key("x-amz-trailer");
    if !has_checksum {
        return Err(s3_err!(
            InvalidRequest,
            "Missing required header for this request: Content-MD5 (or an x-amz-checksum-* header)"
        ));
    }
    let body = prepare(ctx.parts, body, ctx.verified, ctx.body_watch())?;
    if body.length as usize > MAX_XML_BODY {
        return Err(s3_err!(MaxMessageLengthExceeded, "Your request was too big."));
    }
    let mut stream = body.stream;
    let mut bytes = Vec::with_capacity(body.length as usize);
    while let Some(chunk) = stream.next().await {
        bytes.extend_from_slice(&chunk?);
    }
    match body.outcome.get() {
        Some(Ok(_)) => Ok(bytes),
        Some(Err(e)) => Err(e),
        None => Err(S3Error::internal("request body did not finish")),
    }
}

/// DeleteObjects.
pub async fn handle_delete_objects(ctx: &Ctx<'_>, t: &Target, body: Incoming) -> S3Result<Response<Body>> {
    let bucket = t.repo.as_str();
    let strip = t.strip();
    let request = parse_delete(&verified_xml(ctx, body).await?)?;
    if request.objects.is_empty() || request.objects.len() > MAX_DELETE_KEYS {
        return Err(s3_err!(MalformedXML, "A Delete request names 1 to {MAX_DELETE_KEYS} keys."));
    }
    match &t.branch {
        Some(b) => ctx.lakefs.get_branch(bucket, b).await.map(drop),
        None => ctx.lakefs.get_repository(bucket).await.map(drop),
    }
    .map_err(|e| map_lakefs(e, Missing::Bucket))?;
    let mut result = DeleteResult { xmlns: XMLNS, deleted: vec![], errors: vec![] };
    let mut by_branch: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for o in request.objects {
        let error =
            |code: &str, message: &str| KeyError { key: o.key.clone(), code: code.into(), message: message.into() };
        if o.version_id.as_deref().is_some_and(|v| v != "null") {
            result.errors.push(error("NoSuchVersion", "The specified version does not exist."));
            continue;
        }
        let full = t.key(&o.key);
        match split_write_key(&full) {
            Ok((branch, _)) => by_branch.entry(branch.to_string()).or_default().push(full.clone()),
            Err(e) => result.errors.push(error(e.code.as_str(), &e.message)),
        }
    }
    for (branch, keys) in by_branch {
        // lakeFS's deleteObjects ignores a missing branch (200, no entries): a repository bucket's
        // keys name their branch, so it is checked here (a branch bucket's was checked above).
        if t.branch.is_none()
            && let Err(e) = ctx.lakefs.get_branch(bucket, &branch).await
        {
            let err = map_lakefs(e, Missing::Bucket);
            for key in keys {
                result.errors.push(KeyError { key, code: err.code.as_str().into(), message: err.message.clone() });
            }
            continue;
        }
        delete_branch_keys(ctx, bucket, &branch, keys, &mut result).await;
    }
    for d in &mut result.deleted {
        d.key = d.key.strip_prefix(&strip).unwrap_or(&d.key).to_string();
    }
    for e in &mut result.errors {
        e.key = e.key.strip_prefix(&strip).unwrap_or(&e.key).to_string();
    }
    if request.quiet {
        result.deleted.clear();
    }
    Ok(xml_response(to_xml("DeleteResult", &result)?))
}

/// The S3 code of one `deleteObjects` error entry: lakeFS reports the batch's error per path
/// (`controller.go` `DeleteObjects`: 401 denied, 403 `read-only repository`, 500 otherwise, e.g.
/// `branch is currently locked, try again later`), read as any other lakeFS answer.
fn entry_code(status: u16, message: &str) -> s3_wire::S3ErrorCode {
    let status = http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    map_lakefs(lakefs_api::LakeFsError::Api { status, message: message.into() }, Missing::Bucket).code
}

async fn delete_branch_keys(ctx: &Ctx<'_>, bucket: &str, branch: &str, keys: Vec<String>, result: &mut DeleteResult) {
    let prefix = format!("{branch}/");
    let paths = PathList { paths: keys.iter().map(|k| k[prefix.len()..].to_string()).collect() };
    match ctx.lakefs.delete_objects(bucket, branch, &paths).await {
        Ok(list) => {
            let failed: BTreeMap<String, (u16, String)> = list
                .errors
                .into_iter()
                .filter_map(|e| Some((format!("{prefix}{}", e.path?), (e.status_code, e.message))))
                .collect();
            for key in keys {
                match failed.get(&key) {
                    None => result.deleted.push(Deleted { key }),
                    Some((status, message)) => {
                        let code = entry_code(*status, message);
                        result.errors.push(KeyError { key, code: code.as_str().into(), message: message.clone() });
                    }
                }
            }
        }
        Err(e) => {
            let err = map_lakefs(e, Missing::Bucket);
            for key in keys {
                result.errors.push(KeyError { key, code: err.code.as_str().into(), message: err.message.clone() });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use s3_wire::S3ErrorCode::*;

    #[test]
    fn delete_objects_entries_map_like_lakefs_answers() {
        assert_eq!(entry_code(401, "Unauthorized"), AccessDenied);
        assert_eq!(entry_code(403, "read-only repository"), ErrReadOnlyRepository);
        assert_eq!(entry_code(403, "cannot write to protected branch"), AccessDenied);
        assert_eq!(entry_code(500, "branch is currently locked, try again later"), SlowDown);
        assert_eq!(entry_code(500, "boom"), InternalError);
    }
}
