//! `getObject` and `headObject`, as lakeFS v1.84.0 answers them (`pkg/api/controller.go`
//! `GetObject`, `HeadObject`; `pkg/httputil` `ParseRange`, `KeepPrivate`, `ETag`).
//!
//! `getObject`: `If-None-Match` equal to the ETag is a bare 304, checked before `presign` (302 to
//! a presigned URL); the answer carries `ETag`, `Last-Modified`, `Content-Type`, the private
//! caching headers and `Content-Disposition` (`inline` for a few safe types, else `attachment`).
//! `headObject` has `Accept-Ranges` instead, no caching-safety headers but `Cache-Control` and
//! `Expires`, and answers every failure with its status alone.

use super::range::{self, RangeError};
use super::{http_date, object_path};
use crate::Embedded;
use crate::catalog::{Entry, validate};
use crate::error::{ApiError, ApiResult};
use crate::http::{Body, ByteRange, Query, error_response, status_response};
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode, header};
use hyper::body::Incoming;
use std::sync::Arc;

/// Content types lakeFS serves `inline` (`safeContentTypesForInline`).
const INLINE_TYPES: &[&str] = &[
    "image/jpeg",
    "image/jpg",
    "image/png",
    "image/gif",
    "image/webp",
    "image/svg+xml",
    "application/pdf",
    "text/plain",
    "text/markdown",
    "text/x-markdown",
    "text/html",
    "text/css",
    "text/javascript",
    "application/javascript",
    "application/json",
    "application/xml",
    "text/xml",
    "video/mp4",
    "video/webm",
    "audio/mpeg",
    "audio/wav",
    "audio/webm",
];

fn value(v: &str) -> ApiResult<HeaderValue> {
    HeaderValue::from_str(v).map_err(ApiError::internal)
}

/// lakeFS `httputil.ETag`: the checksum quoted, unless it already starts with a quote.
fn etag(checksum: &str) -> String {
    if checksum.starts_with('"') { checksum.to_string() } else { format!("\"{checksum}\"") }
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
    let presign = with_body && q.bool("presign", false)?;
    validate::repository("repository", &repo)?;
    validate::reference("ref", &reference)?;
    validate::path("path", &path)?;
    let (repository, entry) = s.db(move |m| m.stat_entry(&repo, &reference, &path)).await?;
    let tag = etag(&entry.checksum);
    let headers = req.headers();
    if with_body && headers.get(header::IF_NONE_MATCH).is_some_and(|v| v.as_bytes() == tag.as_bytes()) {
        return Ok(status_response(StatusCode::NOT_MODIFIED));
    }
    if presign {
        let (url, _) = s.presign_address(s.storage_of(&repository)?, "GET", &entry.physical_address)?;
        let mut resp = status_response(StatusCode::FOUND);
        resp.headers_mut().insert(header::LOCATION, value(&url)?);
        return Ok(resp);
    }
    let range_header = headers.get(header::RANGE).map(|v| v.to_str().unwrap_or("").to_string());
    serve(s, &entry, &tag, range_header.as_deref(), with_body).await
}

/// The object's answer: its headers, then the whole object or the `Range` asked for.
async fn serve(
    s: &Arc<Embedded>,
    entry: &Entry,
    tag: &str,
    range_header: Option<&str>,
    with_body: bool,
) -> ApiResult<Response<Body>> {
    let mut h = HeaderMap::new();
    answer_headers(&mut h, entry, tag, with_body)?;
    let size = entry.size_bytes;
    let (status, range) = match range_header.map(|spec| range::parse(spec, size)) {
        None => (StatusCode::OK, None),
        Some(Ok(r)) => (StatusCode::PARTIAL_CONTENT, Some(r)),
        Some(Err(e)) => return Ok(refuse_range(h, e, size, with_body)),
    };
    if with_body {
        s.check_data(&entry.physical_address).await?;
    }
    let count = range.map_or(size, |(start, end)| end - start + 1);
    if let Some((start, end)) = range {
        h.insert(header::CONTENT_RANGE, value(&format!("bytes {start}-{end}/{size}"))?);
    }
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(count.max(0)));
    let mut resp = status_response(status);
    if with_body && count > 0 {
        let byte_range = range.map(|(start, end)| ByteRange { start: start as u64, end: end as u64 });
        *resp.body_mut() = s.read_data(&entry.physical_address, size.max(0) as u64, byte_range).await?;
    }
    resp.headers_mut().extend(h);
    Ok(resp)
}

/// The headers lakeFS sets before it looks at the range.
fn answer_headers(h: &mut HeaderMap, entry: &Entry, tag: &str, get: bool) -> ApiResult<()> {
    h.insert(header::ETAG, value(tag)?);
    h.insert(header::LAST_MODIFIED, value(&http_date(entry.mtime))?);
    if !get {
        h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    }
    h.insert(header::CONTENT_TYPE, value(&entry.content_type)?);
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store, must-revalidate"));
    h.insert(header::EXPIRES, HeaderValue::from_static("0"));
    if get {
        h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("SAMEORIGIN"));
        h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'"));
        let inline = INLINE_TYPES.contains(&entry.content_type.as_str());
        h.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static(if inline { "inline" } else { "attachment" }));
    }
    Ok(())
}

/// 416: `getObject` answers `{"message":"Requested Range Not Satisfiable"}` (with
/// `Content-Range: bytes */<size>` when the range starts past the end), `headObject` the status
/// alone; both keep the headers already set.
fn refuse_range(mut h: HeaderMap, e: RangeError, size: i64, get: bool) -> Response<Body> {
    let mut resp = if get {
        if e == RangeError::Unsatisfiable
            && let Ok(v) = HeaderValue::from_str(&format!("bytes */{size}"))
        {
            h.insert(header::CONTENT_RANGE, v);
        }
        h.remove(header::CONTENT_TYPE);
        error_response(&ApiError::RangeNotSatisfiable("Requested Range Not Satisfiable".into()))
    } else {
        status_response(StatusCode::RANGE_NOT_SATISFIABLE)
    };
    resp.headers_mut().extend(h);
    resp
}
