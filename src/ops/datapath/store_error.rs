//! What an object store's refusal of a presigned request means to the S3 client, in one table.
//!
//! S3 (and GCS's XML API, and Azure Blob) answer errors with an XML body
//! `<Error><Code/><Message/></Error>`. A refusal the client can do something about is relayed with
//! the store's code and message (AWS "Error responses": 400 `EntityTooLarge`, `EntityTooSmall`,
//! `InvalidDigest`…; 403 → `AccessDenied` naming the reason, e.g. an expired presigned URL); one
//! that no retry can fix and that is the deployment's, not the client's, is `500 InternalError`
//! naming the store's answer; only a store that is down, overloaded or unreachable is a retryable
//! `503 SlowDown` with `Retry-After`.

use bytes::Bytes;
use http::{HeaderValue, StatusCode, header};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use s3_wire::s3_err;
use s3_wire::{S3Error, S3ErrorCode};
use std::time::Duration;

/// The most of an error body read.
const MAX_ERROR_BODY: usize = 64 << 10;
/// How long reading an error body may take.
const ERROR_BODY_TIMEOUT: Duration = Duration::from_secs(5);

/// The presigned request that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreOp {
    /// GET of an object's bytes.
    Get,
    /// PUT of a whole object.
    Put,
    /// PUT of one part of a multipart upload.
    PutPart,
}

/// Codes a store may answer that S3 clients know and can act on: relayed as they are.
const RELAYED: &[S3ErrorCode] = {
    use S3ErrorCode::*;
    &[
        BadDigest,
        EntityTooLarge,
        EntityTooSmall,
        InvalidArgument,
        InvalidDigest,
        InvalidPart,
        InvalidPartOrder,
        InvalidRange,
        InvalidRequest,
        KeyTooLongError,
        MetadataTooLarge,
        MissingContentLength,
        PreconditionFailed,
        RequestTimeout,
        XAmzContentSHA256Mismatch,
    ]
};

/// A store that cannot serve now: `503 SlowDown` with `Retry-After`.
pub fn unavailable(detail: impl std::fmt::Display) -> S3Error {
    s3_err!(SlowDown, "The object store is unavailable: {detail}")
        .with_header(header::RETRY_AFTER, HeaderValue::from_static("1"))
}

/// The text of `<tag>…</tag>` in an XML error body (entities decoded).
fn element(xml: &str, tag: &str) -> Option<String> {
    let start = xml.find(&format!("<{tag}>"))? + tag.len() + 2;
    let end = start + xml[start..].find(&format!("</{tag}>"))?;
    let raw = &xml[start..end];
    Some(quick_xml::escape::unescape(raw).map_or_else(|_| raw.to_string(), |s| s.into_owned()))
}

/// The S3 error for a store's non-2xx answer to `op` with error body `body`.
pub fn map_store_error(op: StoreOp, status: StatusCode, body: &[u8]) -> S3Error {
    let xml = String::from_utf8_lossy(body);
    let code = element(&xml, "Code").unwrap_or_default();
    let message = element(&xml, "Message").unwrap_or_default();
    let said = match (code.is_empty(), message.is_empty()) {
        (true, true) => format!("{status}"),
        (false, true) => format!("{status} {code}"),
        _ => format!("{status} {code}: {message}"),
    };
    let s = status.as_u16();
    if s == 429 || s >= 500 {
        return unavailable(format!("it answered {said}"));
    }
    match (status, op) {
        (StatusCode::FORBIDDEN, _) => s3_err!(AccessDenied, "The object store refused the presigned request ({said})"),
        (StatusCode::NOT_FOUND, StoreOp::Get) => {
            s3_err!(NoSuchVersion, "The object's data is missing from the object store ({said})")
        }
        (StatusCode::NOT_FOUND, StoreOp::PutPart) => {
            s3_err!(NoSuchUpload, "The specified multipart upload does not exist ({said})")
        }
        (StatusCode::RANGE_NOT_SATISFIABLE, _) => s3_err!(InvalidRange, "The requested range is not satisfiable"),
        (StatusCode::PRECONDITION_FAILED, _) => {
            s3_err!(PreconditionFailed, "At least one of the pre-conditions you specified did not hold")
        }
        _ => match RELAYED.iter().find(|c| c.as_str() == code) {
            Some(&c) => S3Error::new(c, format!("The object store refused the request: {}", or_code(&message, &code))),
            None if status.is_client_error() && status != StatusCode::NOT_FOUND => {
                s3_err!(InvalidRequest, "The object store refused the request ({said})")
            }
            None => S3Error::internal(format!("the object store answered {said}")),
        },
    }
}

fn or_code<'a>(message: &'a str, code: &'a str) -> &'a str {
    if message.is_empty() { code } else { message }
}

/// Reads a failed answer's error body (bounded in size and time) and maps it.
pub async fn from_response(op: StoreOp, resp: http::Response<Incoming>) -> S3Error {
    let status = resp.status();
    let body = tokio::time::timeout(ERROR_BODY_TIMEOUT, Limited::new(resp.into_body(), MAX_ERROR_BODY).collect())
        .await
        .ok()
        .and_then(Result::ok)
        .map_or_else(Bytes::new, |c| c.to_bytes());
    map_store_error(op, status, &body)
}

#[cfg(test)]
mod tests;
