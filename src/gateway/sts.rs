//! lakegate's own STS endpoint: `GetCallerIdentity` (AWS STS API reference, "GetCallerIdentity"),
//! answered on the S3 listener for presigned requests (`POST /?Action=GetCallerIdentity&…` with
//! SigV4 for service `sts` in the query), the shape lakeFS's AWS IAM external-principal login
//! replays. The `Arn` of the answer is the signing key's principal id, so a lakeFS that trusts
//! lakegate as an STS host maps each gateway key to the user its principal is attached to.
//!
//! Errors use STS's `ErrorResponse` XML (not S3's `Error`), as STS clients expect.

use crate::auth::{KeyEntry, SecretStore};
use http::{HeaderValue, Method, Response, StatusCode, header};
use lakegate_net::body::{Body, full};
use quick_xml::escape::escape;
use s3_wire::{S3Error, S3ErrorCode};
use std::time::SystemTime;

const NS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

/// Whether a request is an STS `GetCallerIdentity` (checked before S3 routing).
pub fn is_get_caller_identity(parts: &http::request::Parts) -> bool {
    parts.method == Method::POST
        && parts.uri.path() == "/"
        && form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes())
            .any(|(k, v)| k == "Action" && v == "GetCallerIdentity")
}

/// Answers a presigned `GetCallerIdentity` with the signing key's principal id.
pub fn handle_get_caller_identity(
    store: &dyn SecretStore,
    parts: &http::request::Parts,
    request_id: &str,
    now: SystemTime,
) -> Response<Body> {
    let version = form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes())
        .find(|(k, _)| k == "Version")
        .map(|(_, v)| v.into_owned());
    if version.as_deref() != Some("2011-06-15") {
        let err = S3Error::new(S3ErrorCode::InvalidArgument, "Version must be 2011-06-15");
        return error(&err, "InvalidParameterValue", request_id);
    }
    let has_query_auth = form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes())
        .any(|(k, _)| k == "X-Amz-Signature" || k == "X-Amz-Algorithm");
    if !has_query_auth {
        let err = S3Error::new(
            S3ErrorCode::AccessDenied,
            "lakegate's STS endpoint answers presigned GetCallerIdentity requests only",
        );
        return error(&err, "MissingAuthenticationToken", request_id);
    }
    match s3_wire::sigv4::verify_sts_presigned(parts, store, now) {
        Ok(key) => {
            tracing::debug!(access_key = %key.access_key_id, principal = %key.principal_id, "STS GetCallerIdentity");
            identity_response(&key, request_id)
        }
        Err(err) => {
            tracing::debug!(code = err.code.as_str(), message = %err.message, "STS GetCallerIdentity refused");
            let code = match err.code {
                S3ErrorCode::InvalidAccessKeyId => "InvalidClientTokenId",
                other => other.as_str(),
            };
            error(&err, code, request_id)
        }
    }
}

fn xml(status: StatusCode, body: String) -> Response<Body> {
    let mut resp = Response::new(full(body));
    *resp.status_mut() = status;
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/xml"));
    resp
}

fn identity_response(key: &KeyEntry, request_id: &str) -> Response<Body> {
    xml(
        StatusCode::OK,
        format!(
            "<GetCallerIdentityResponse xmlns=\"{NS}\"><GetCallerIdentityResult><Arn>{}</Arn><UserId>{}</UserId>\
             <Account>000000000000</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>{request_id}\
             </RequestId></ResponseMetadata></GetCallerIdentityResponse>",
            escape(&key.principal_id),
            escape(&key.access_key_id)
        ),
    )
}

/// STS's error document with the status of the S3 error it stands for.
fn error(err: &S3Error, code: &str, request_id: &str) -> Response<Body> {
    let status = if err.status().is_client_error() { StatusCode::FORBIDDEN } else { err.status() };
    let status = if code == "InvalidParameterValue" { StatusCode::BAD_REQUEST } else { status };
    xml(
        status,
        format!(
            "<ErrorResponse xmlns=\"{NS}\"><Error><Type>Sender</Type><Code>{}</Code><Message>{}</Message></Error>\
             <RequestId>{request_id}</RequestId></ErrorResponse>",
            escape(code),
            escape(&err.message)
        ),
    )
}

#[cfg(test)]
mod tests;
