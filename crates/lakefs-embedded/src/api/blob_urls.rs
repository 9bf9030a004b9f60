//! The blob store's presigned-URL endpoint (`/blob/<namespace path>/…`): `PUT` stores a blob
//! (answering `ETag: "<md5 hex>"` like S3), or with `?partNumber=N&uploadId=U` one part of a presigned
//! multipart upload; `GET`/`HEAD` read it with `Range` support. Each request
//! must carry a valid, unexpired SigV4 query signature for its method, host and path; errors are S3
//! XML bodies (AWS S3 API Reference, "Error responses").

use crate::Embedded;
use crate::blob::{MAX_PUT_SIZE, SCHEME, file_body};
use crate::error::{ApiError, ApiResult};
use crate::http::{Body, Query, full, parse_range, status_response};
use crate::mpu::{MAX_PARTS, Uploads};
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::BodyDataStream;
use hyper::body::Incoming;
use percent_encoding::percent_decode_str;
use std::sync::Arc;
use std::time::SystemTime;

pub async fn handle(s: &Arc<Embedded>, req: Request<Incoming>) -> ApiResult<Response<Body>> {
    let method = req.method().clone();
    if !matches!(method, Method::GET | Method::HEAD | Method::PUT) {
        return Err(ApiError::NotImplemented(format!("{method} is not supported on blob URLs")));
    }
    let host = req.headers().get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    let raw_path = req.uri().path();
    let query = req.uri().query().unwrap_or("");
    s.presigner
        .verify(method.as_str(), host, raw_path, query, SystemTime::now())
        .map_err(|e| ApiError::Forbidden(e.to_string()))?;
    refuse_unsigned_amz_headers(req.headers())?;
    let rel = raw_path.strip_prefix("/blob/").unwrap_or("");
    let rel =
        percent_decode_str(rel).decode_utf8().map_err(|_| ApiError::bad_request("invalid blob path"))?.into_owned();
    let file = s.blobs.path_of_relative(&rel)?;
    let q = Query::parse(req.uri().query());
    if q.get("uploadId").is_some() || q.get("partNumber").is_some() {
        if method != Method::PUT {
            return Err(ApiError::NotImplemented(format!("{method} is not supported on multipart part URLs")));
        }
        return put_part(s, req, &q, &rel).await;
    }
    if method == Method::PUT && rel.starts_with('/') {
        return Err(ApiError::Forbidden("an imported object's source is read only".into()));
    }
    if method == Method::PUT { put(s, req, &file).await } else { get(s, req, &file, method == Method::GET).await }
}

/// As S3: a presigned request may not carry `x-amz-*` headers its signature does not cover (ours
/// sign `host` only), so metadata and checksums cannot ride along a presigned PUT.
fn refuse_unsigned_amz_headers(headers: &http::HeaderMap) -> ApiResult<()> {
    let unsigned: Vec<&str> = headers.keys().map(|k| k.as_str()).filter(|k| k.starts_with("x-amz-")).collect();
    if unsigned.is_empty() {
        return Ok(());
    }
    Err(ApiError::Forbidden(format!(
        "There were headers present in the request which were not signed: {}",
        unsigned.join(", ")
    )))
}

async fn put(s: &Arc<Embedded>, req: Request<Incoming>, file: &std::path::Path) -> ApiResult<Response<Body>> {
    let declared =
        req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_PUT_SIZE) {
        return Err(ApiError::PayloadTooLarge("Your proposed upload exceeds the maximum allowed size".into()));
    }
    let written = s.blobs.write(file, BodyDataStream::new(req.into_body()), MAX_PUT_SIZE).await?;
    let mut resp = status_response(StatusCode::OK);
    let etag = HeaderValue::from_str(&format!("\"{}\"", written.md5_hex)).map_err(ApiError::internal)?;
    resp.headers_mut().insert(header::ETAG, etag);
    Ok(resp)
}

/// A part of a presigned multipart upload (`?partNumber=N&uploadId=U`, both signed): stored
/// atomically with the upload, answering `ETag: "<md5 hex>"` like S3's UploadPart.
async fn put_part(s: &Arc<Embedded>, req: Request<Incoming>, q: &Query, rel: &str) -> ApiResult<Response<Body>> {
    let upload_id = q.required("uploadId")?.to_string();
    let n = q.int("partNumber")?.filter(|n| (1..=MAX_PARTS).contains(n));
    let n = n.ok_or_else(|| ApiError::bad_request("partNumber must be an integer between 1 and 10000"))?;
    let uploads = Uploads::new(&s.blobs);
    let st = uploads.load(&upload_id).await?;
    if st.physical_address != format!("{SCHEME}{rel}") {
        // S3 answers an upload id of another key as unknown.
        return Err(ApiError::not_found("NoSuchUpload: the specified multipart upload does not exist"));
    }
    let etag = uploads.write_part(&s.blobs, &upload_id, n, BodyDataStream::new(req.into_body())).await?;
    // An abort racing this write may have removed the upload meanwhile: do not resurrect it.
    if uploads.load(&upload_id).await.is_err() {
        let _ = uploads.remove(&upload_id).await;
        return Err(ApiError::not_found("NoSuchUpload: the specified multipart upload does not exist"));
    }
    let mut resp = status_response(StatusCode::OK);
    let etag = HeaderValue::from_str(&etag).map_err(ApiError::internal)?;
    resp.headers_mut().insert(header::ETAG, etag);
    Ok(resp)
}

async fn get(
    s: &Arc<Embedded>,
    req: Request<Incoming>,
    file: &std::path::Path,
    with_body: bool,
) -> ApiResult<Response<Body>> {
    let (f, len) = s.blobs.open_read(file).await?;
    let modified = f.metadata().await?.modified().ok();
    let range_header = req.headers().get(header::RANGE).and_then(|v| v.to_str().ok());
    let range = parse_range(range_header, len).map_err(|_| ApiError::RangeNotSatisfiable(format!("bytes */{len}")))?;
    let mut resp = status_response(StatusCode::OK);
    let h = resp.headers_mut();
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
    if let Some(t) = modified {
        let v = HeaderValue::from_str(&httpdate::fmt_http_date(t)).map_err(ApiError::internal)?;
        h.insert(header::LAST_MODIFIED, v);
    }
    let (start, count) = match range {
        Some(r) => {
            *resp.status_mut() = StatusCode::PARTIAL_CONTENT;
            let v = HeaderValue::from_str(&r.content_range(len)).map_err(ApiError::internal)?;
            resp.headers_mut().insert(header::CONTENT_RANGE, v);
            (r.start, r.len())
        }
        None => (0, len),
    };
    resp.headers_mut().insert(header::CONTENT_LENGTH, HeaderValue::from(count));
    if with_body {
        *resp.body_mut() = file_body(f, start, count).await?;
    }
    Ok(resp)
}

/// An S3-style XML error for a blob URL request.
pub fn error_response(err: &ApiError) -> Response<Body> {
    let (status, code) = match err {
        ApiError::Forbidden(m) if m.contains("signature") => (StatusCode::FORBIDDEN, "SignatureDoesNotMatch"),
        ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "AccessDenied"),
        ApiError::NotFound(m) if m.starts_with("NoSuchUpload") => (StatusCode::NOT_FOUND, "NoSuchUpload"),
        ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "NoSuchKey"),
        ApiError::RangeNotSatisfiable(_) => (StatusCode::RANGE_NOT_SATISFIABLE, "InvalidRange"),
        ApiError::PayloadTooLarge(_) => (StatusCode::BAD_REQUEST, "EntityTooLarge"),
        ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "InvalidRequest"),
        ApiError::NotImplemented(_) => (StatusCode::NOT_IMPLEMENTED, "NotImplemented"),
        _ => (StatusCode::INTERNAL_SERVER_ERROR, "InternalError"),
    };
    let message = err.to_string().replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    );
    let mut resp = Response::new(full(body));
    *resp.status_mut() = status;
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/xml"));
    if let ApiError::RangeNotSatisfiable(m) = err
        && let Ok(v) = HeaderValue::from_str(m)
    {
        resp.headers_mut().insert(header::CONTENT_RANGE, v);
    }
    resp
}
