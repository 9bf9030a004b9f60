//! HTTP plumbing shared by the embedded server's handlers: the response body type, JSON and error
//! responses (`{"message": …}` like lakeFS), query parameters, bounded JSON bodies, and single
//! `Range` headers (RFC 9110 §14).

use super::error::{ApiError, ApiResult};
use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::{BodyExt, Limited};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC};
use std::collections::HashMap;

pub use crate::body::{Body, empty, full};
/// The largest JSON request body accepted (a 1000-path `PathList` fits comfortably).
pub const MAX_JSON_BODY: usize = 4 << 20;

/// Characters left unescaped in query values and path segments (RFC 3986 unreserved).
pub const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

pub fn json_response<T: serde::Serialize>(status: StatusCode, value: &T) -> ApiResult<Response<Body>> {
    let body = serde_json::to_vec(value)?;
    let mut resp = Response::new(full(body));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Ok(resp)
}

pub fn status_response(status: StatusCode) -> Response<Body> {
    let mut resp = Response::new(empty());
    *resp.status_mut() = status;
    resp
}

/// lakeFS's error body for `err`.
pub fn error_response(err: &ApiError) -> Response<Body> {
    let body = serde_json::json!({ "message": err.to_string() }).to_string();
    let mut resp = Response::new(full(body));
    *resp.status_mut() = err.status();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

/// Decoded query parameters (the last value wins for a repeated name).
pub struct Query(HashMap<String, String>);

impl Query {
    pub fn parse(raw: Option<&str>) -> Query {
        Query(
            form_urlencoded::parse(raw.unwrap_or("").as_bytes())
                .into_owned()
                .collect(),
        )
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    pub fn str_or_empty(&self, name: &str) -> &str {
        self.get(name).unwrap_or("")
    }

    /// A required, non-empty parameter.
    pub fn required(&self, name: &str) -> ApiResult<&str> {
        match self.get(name) {
            Some(v) if !v.is_empty() => Ok(v),
            _ => Err(ApiError::bad_request(format!("parameter \"{name}\" is required"))),
        }
    }

    pub fn bool(&self, name: &str, default: bool) -> ApiResult<bool> {
        match self.get(name) {
            None | Some("") => Ok(default),
            // Go's strconv.ParseBool, which lakeFS's generated server uses (the Python SDK sends "True").
            Some("1" | "t" | "T" | "TRUE" | "true" | "True") => Ok(true),
            Some("0" | "f" | "F" | "FALSE" | "false" | "False") => Ok(false),
            Some(v) => Err(ApiError::bad_request(format!(
                "invalid boolean {v:?} for parameter \"{name}\""
            ))),
        }
    }

    /// lakeFS's `amount` (`PaginationAmount`: -1..=1000, enforced by lakeFS's OpenAPI request
    /// validator; -1 and 0 mean the default).
    pub fn amount(&self) -> ApiResult<Option<i64>> {
        let amount = self.int("amount")?;
        if amount.is_some_and(|a| !(-1..=1000).contains(&a)) {
            return Err(ApiError::bad_request(
                "parameter \"amount\": number must be between -1 and 1000",
            ));
        }
        Ok(amount)
    }

    pub fn int(&self, name: &str) -> ApiResult<Option<i64>> {
        match self.get(name) {
            None | Some("") => Ok(None),
            Some(v) => v
                .parse()
                .map(Some)
                .map_err(|_| ApiError::bad_request(format!("invalid integer {v:?} for parameter \"{name}\""))),
        }
    }
}

/// Reads a JSON request body of at most [`MAX_JSON_BODY`] bytes into `T` (400 on bad JSON or a
/// missing required field, 413 when too large).
pub async fn read_json<B, T>(body: B) -> ApiResult<T>
where
    B: http_body::Body<Data = Bytes>,
    B::Error: std::error::Error + Send + Sync + 'static,
    T: for<'de> serde::Deserialize<'de>,
{
    let collected = Limited::new(body, MAX_JSON_BODY).collect().await.map_err(|e| {
        if e.is::<http_body_util::LengthLimitError>() {
            ApiError::PayloadTooLarge(format!("request body larger than {MAX_JSON_BODY} bytes"))
        } else {
            ApiError::bad_request(format!("reading request body: {e}"))
        }
    })?;
    serde_json::from_slice(&collected.to_bytes())
        .map_err(|e| ApiError::bad_request(format!("invalid request body: {e}")))
}

/// A satisfiable byte range `[start, end]` (inclusive) of an object of `total` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    pub start: u64,
    pub end: u64,
}

impl ByteRange {
    pub fn len(&self) -> u64 {
        self.end - self.start + 1
    }

    pub fn is_empty(&self) -> bool {
        false
    }

    pub fn content_range(&self, total: u64) -> String {
        format!("bytes {}-{}/{}", self.start, self.end, total)
    }
}

/// A `Range` that no byte of the object satisfies (answered 416).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("requested range not satisfiable")]
pub struct Unsatisfiable;

/// Interprets a `Range` header for an object of `total` bytes: `Ok(None)` means serve it whole
/// (no header, or one we ignore as RFC 9110 allows: other units, several ranges, bad syntax);
/// `Err` means 416.
pub fn parse_range(header: Option<&str>, total: u64) -> Result<Option<ByteRange>, Unsatisfiable> {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((a, b)) = spec.trim().split_once('-') else {
        return Ok(None);
    };
    let (a, b) = (a.trim(), b.trim());
    let range = match (a.parse::<u64>(), b.parse::<u64>()) {
        (Ok(start), Ok(end)) if start <= end => (start, end.min(total.saturating_sub(1))),
        (Ok(_), Ok(_)) => return Ok(None),
        (Ok(start), Err(_)) if b.is_empty() => (start, total.saturating_sub(1)),
        (Err(_), Ok(suffix)) if a.is_empty() => {
            if suffix == 0 {
                return Err(Unsatisfiable);
            }
            (total.saturating_sub(suffix), total.saturating_sub(1))
        }
        _ => return Ok(None),
    };
    if range.0 >= total {
        return Err(Unsatisfiable);
    }
    Ok(Some(ByteRange {
        start: range.0,
        end: range.1,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        let r = |h: &str, t| parse_range(Some(h), t);
        assert_eq!(r("bytes=0-4", 10), Ok(Some(ByteRange { start: 0, end: 4 })));
        assert_eq!(r("bytes=5-", 10), Ok(Some(ByteRange { start: 5, end: 9 })));
        assert_eq!(r("bytes=-3", 10), Ok(Some(ByteRange { start: 7, end: 9 })));
        assert_eq!(r("bytes=-30", 10), Ok(Some(ByteRange { start: 0, end: 9 })));
        assert_eq!(r("bytes=8-100", 10), Ok(Some(ByteRange { start: 8, end: 9 })));
        assert_eq!(r("bytes=10-", 10), Err(Unsatisfiable));
        assert_eq!(r("bytes=-0", 10), Err(Unsatisfiable));
        assert_eq!(r("bytes=0-0", 0), Err(Unsatisfiable));
        assert_eq!(r("bytes=4-2", 10), Ok(None));
        assert_eq!(r("bytes=0-1,3-4", 10), Ok(None));
        assert_eq!(r("items=0-1", 10), Ok(None));
        assert_eq!(r("bytes=x-1", 10), Ok(None));
        assert_eq!(parse_range(None, 10), Ok(None));
        assert_eq!(ByteRange { start: 2, end: 5 }.content_range(10), "bytes 2-5/10");
    }

    #[test]
    fn query_helpers() {
        let q = Query::parse(Some("path=a%2Fb&presign=true&amount=5&bad=maybe&empty="));
        assert_eq!(q.required("path").unwrap(), "a/b");
        assert!(q.required("empty").is_err());
        assert!(q.bool("presign", false).unwrap());
        assert!(!q.bool("missing", false).unwrap());
        assert!(q.bool("bad", false).is_err());
        let py = Query::parse(Some("a=True&b=False&c=1&d=F"));
        assert_eq!(
            (py.bool("a", false).unwrap(), py.bool("b", true).unwrap()),
            (true, false)
        );
        assert_eq!(
            (py.bool("c", false).unwrap(), py.bool("d", true).unwrap()),
            (true, false)
        );
        assert_eq!(q.int("amount").unwrap(), Some(5));
        assert!(q.int("path").is_err());
        assert_eq!(Query::parse(Some("amount=1000")).amount().unwrap(), Some(1000));
        assert!(Query::parse(Some("amount=1001")).amount().is_err());
        assert!(Query::parse(Some("amount=-2")).amount().is_err());
    }
}
