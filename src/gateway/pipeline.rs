//! The gateway's request pipeline (what runs before and around an S3 operation): limits → SigV4 (before any body byte is read, so `Expect:
//! 100-continue` uploads are refused without sending their body) → addressing → routing →
//! the operation; every answer carries `x-amz-request-id`, every failure is rendered once by
//! `error::error_response`.

use crate::ops::Gateway;
use crate::ops::state::request_id;
use crate::ops::{self, Ctx};
use http::{HeaderValue, Method, Request, Response};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use lakegate_net::body::Body;
use percent_encoding::percent_decode_str;
use s3_wire::addressing::split_bucket_key;
use s3_wire::error::{S3Error, S3Result, error_response};
use s3_wire::router::route;
use s3_wire::s3_err;
use s3_wire::sigv4;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

/// S3's limit on the size of a request's headers.
pub const MAX_HEADER_BYTES: usize = 8 * 1024;

/// Entry point of every S3 request.
pub async fn handle(gw: Arc<Gateway>, req: Request<Incoming>) -> Response<Body> {
    let id = request_id();
    let started = Instant::now();
    let is_head = req.method() == Method::HEAD;
    let (parts, body) = req.into_parts();
    let metrics = crate::metrics::metrics();
    // in flight until the answer's body is sent (or dropped)
    let in_flight = crate::metrics::InFlight::start();
    // the S3 operation, once known (requests no operation matches count as "unrouted")
    let mut operation = "unrouted";
    // one span per request: what every log line of it carries
    let span = tracing::info_span!(
        "s3",
        request_id = %id,
        operation = tracing::field::Empty,
        bucket = tracing::field::Empty,
        key = tracing::field::Empty,
        user = tracing::field::Empty,
    );
    // the request's slot among its key's requests in progress (kept until the answer is sent)
    let mut permit = None;
    let progress = s3_wire::limits::Progress::default();
    let served = serve(&gw, &parts, body, &id, &mut operation, (&progress, &mut permit));
    let answer = s3_wire::limits::within(served, gw.limits.request_timeout, &progress);
    let answer = tracing::Instrument::instrument(answer, span.clone()).await;
    let mut resp = match answer {
        Ok(resp) => resp,
        Err(err) => {
            let level_error = err.status().is_server_error();
            if level_error {
                tracing::warn!(request_id = %id, method = %parts.method, path = %parts.uri.path(), code = err.code.as_str(), message = %err.message, "S3 request failed");
            } else {
                tracing::debug!(request_id = %id, code = err.code.as_str(), message = %err.message, "S3 request refused");
            }
            let err = if err.resource.is_none() { err.with_resource(parts.uri.path()) } else { err };
            let mut resp = error_response(&err, &id, is_head);
            if closes_connection(&parts) {
                // The body may be unread: say the connection ends rather than leave the client
                // writing into a socket we are about to close (RFC 9110 §10.1.1).
                resp.headers_mut().insert(http::header::CONNECTION, HeaderValue::from_static("close"));
            }
            resp
        }
    };
    let h = resp.headers_mut();
    h.insert("x-amz-request-id", HeaderValue::from_str(&id).expect("hex id"));
    h.insert(http::header::SERVER, HeaderValue::from_static("lakegate"));
    let bytes = resp.headers().get(http::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    tracing::info!(
        target: "lakegate::access",
        parent: &span,
        method = %parts.method,
        status = resp.status().as_u16(),
        duration_ms = started.elapsed().as_secs_f64() * 1000.0,
        bytes_in = declared_length(&parts),
        bytes_out = bytes.unwrap_or(0),
        "S3 request"
    );
    metrics.s3_request(operation, resp.status().as_u16(), started.elapsed());
    let (head, body) = resp.into_parts();
    let body = lakegate_net::body::Metered::new(body, &metrics.bytes_out, (in_flight, permit));
    Response::from_parts(head, body.boxed_unsync())
}

/// The answer to each request of a connection beyond `--max-connections` (which then closes).
pub fn busy_response() -> Response<Body> {
    let err = s3_err!(SlowDown, "Please reduce your request rate. (lakegate has its most connections open)")
        .with_header(http::header::RETRY_AFTER, HeaderValue::from_static("1"));
    let id = request_id();
    let mut resp = error_response(&err, &id, false);
    resp.headers_mut().insert("x-amz-request-id", HeaderValue::from_str(&id).expect("hex id"));
    resp
}

/// Entry point of the STS-only listener: `GetCallerIdentity`, and 404 for anything else.
pub async fn handle_sts_only(gw: Arc<Gateway>, req: Request<Incoming>) -> Response<Body> {
    let id = request_id();
    let started = Instant::now();
    let (parts, _body) = req.into_parts();
    if super::sts::is_get_caller_identity(&parts) {
        let resp = super::sts::handle_get_caller_identity(gw.keys.as_ref(), &parts, &id, SystemTime::now());
        crate::metrics::metrics().s3_request("GetCallerIdentity", resp.status().as_u16(), started.elapsed());
        return resp;
    }
    let err =
        s3_err!(InvalidRequest, "this listener answers STS GetCallerIdentity only").with_resource(parts.uri.path());
    let mut resp = error_response(&err, &id, parts.method == Method::HEAD);
    *resp.status_mut() = http::StatusCode::NOT_FOUND;
    resp
}

/// The request body's declared (decoded) length, for the access line.
fn declared_length(parts: &http::request::Parts) -> u64 {
    let h = &parts.headers;
    let value = h.get("x-amz-decoded-content-length").or_else(|| h.get(http::header::CONTENT_LENGTH));
    value.and_then(|v| v.to_str().ok()?.trim().parse().ok()).unwrap_or(0)
}

/// Whether an error answer must close an HTTP/1 connection: the request declared a body, which
/// may not have been read.
fn closes_connection(parts: &http::request::Parts) -> bool {
    let declared = parts.headers.contains_key(http::header::TRANSFER_ENCODING)
        || parts
            .headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() != "0");
    declared && parts.version < http::Version::HTTP_2
}

fn check_header_size(parts: &http::request::Parts) -> S3Result<()> {
    let total: usize = parts.headers.iter().map(|(k, v)| k.as_str().len() + v.len() + 4).sum();
    if total > MAX_HEADER_BYTES {
        return Err(s3_err!(
            RequestHeaderSectionTooLarge,
            "Your request header section exceeds the maximum allowed size ({MAX_HEADER_BYTES} bytes)."
        ));
    }
    Ok(())
}

/// A browser form upload (`POST /bucket`, `multipart/form-data`, signed by a policy in the form
/// rather than by a header): recognised before authentication so it gets 501, not AccessDenied.
fn is_post_object(parts: &http::request::Parts, addressed: &s3_wire::addressing::Addressed) -> bool {
    parts.method == http::Method::POST
        && addressed.bucket.is_some()
        && addressed.key.is_none()
        && parts.uri.query().is_none_or(|q| q.is_empty())
        && parts
            .headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("multipart/form-data"))
}

fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    raw.unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            let dec = |s: &str| percent_decode_str(&s.replace('+', " ")).decode_utf8_lossy().into_owned();
            (dec(k), dec(v))
        })
        .collect()
}

async fn serve(
    gw: &Arc<Gateway>,
    parts: &http::request::Parts,
    body: Incoming,
    request_id: &str,
    operation: &mut &'static str,
    (progress, permit): (&s3_wire::limits::Progress, &mut Option<s3_wire::limits::KeyPermit>),
) -> S3Result<Response<Body>> {
    check_header_size(parts)?;
    if super::oidc_login::is_oidc_login(parts) {
        *operation = "OidcLogin";
        return super::oidc_login::handle(gw, parts, body).await;
    }
    if super::sts::is_get_caller_identity(parts) {
        *operation = "GetCallerIdentity";
        return Ok(super::sts::handle_get_caller_identity(gw.keys.as_ref(), parts, request_id, SystemTime::now()));
    }
    let host = parts
        .headers
        .get(http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .or(parts.uri.authority().map(|a| a.as_str()));
    let addressed = split_bucket_key(host, parts.uri.path(), &gw.base_domains)?;
    if is_post_object(parts, &addressed) {
        *operation = "PostObject";
        return Err(S3Error::not_implemented("POST Object (browser-based upload with an HTML form)"));
    }
    let opts = sigv4::AuthOptions {
        sigv2: gw.allow_sigv2,
        virtual_bucket: addressed.bucket.as_deref().filter(|_| addressed.virtual_host),
        sessions: Some(&gw.session_keys),
    };
    let query = query_pairs(parts.uri.query());
    // the operation's name for logs and metrics even when the signature is refused (checked first)
    let routed = route(&parts.method, &addressed, &query, &parts.headers);
    if let Ok(endpoint) = &routed {
        *operation = endpoint.name();
    }
    let verified = sigv4::verify_with(parts, gw.keys.as_ref(), SystemTime::now(), opts)?;
    *permit = Some(gw.limits.admit(&verified.access_key_id)?);
    let endpoint = routed?;
    let span = tracing::Span::current();
    span.record("operation", endpoint.name());
    span.record("user", verified.access_key_id.as_str());
    if let Some(bucket) = &addressed.bucket {
        span.record("bucket", bucket.as_str());
    }
    if let Some(key) = &addressed.key {
        span.record("key", key.as_str());
    }
    tracing::debug!(request_id, operation = endpoint.name(), access_key = %verified.access_key_id, "S3 operation");
    let lakefs = gw.sessions.client_for(&verified.key).await?;
    let ctx = Ctx { gw, lakefs, parts, verified: &verified, request_id, progress: progress.clone() };
    ops::dispatch(&ctx, endpoint, body).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_pairs_decode_once() {
        assert_eq!(
            query_pairs(Some("acl&prefix=a%2Fb+c&list-type=2&x=")),
            vec![
                ("acl".to_string(), String::new()),
                ("prefix".to_string(), "a/b c".to_string()),
                ("list-type".to_string(), "2".to_string()),
                ("x".to_string(), String::new())
            ]
        );
    }
}
