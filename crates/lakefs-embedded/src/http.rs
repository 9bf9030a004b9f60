//! HTTP plumbing shared by the embedded server's handlers: the response body type, JSON and error
//! responses (`{"message": …}` like lakeFS), query parameters and bounded JSON bodies; and the
//! bounded outbound call the server makes to STS hosts and OIDC issuers.

use super::error::{ApiError, ApiResult};
use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::{BodyExt, Limited};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC};
use std::collections::HashMap;

pub use lakegate_net::body::{Body, empty, full};
pub use lakegate_net::range::{ByteRange, Unsatisfiable, parse_range};
/// The largest JSON request body accepted (a 1000-path `PathList` fits comfortably).
pub const MAX_JSON_BODY: usize = 4 << 20;

/// Characters left unescaped in query values and path segments (RFC 3986 unreserved).
pub const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// The embedded server's outbound HTTP(S) client (STS hosts, OIDC issuers), on the process's
/// outbound settings.
pub type OutboundClient = lakegate_net::outbound::HttpClient<http_body_util::Full<Bytes>>;

/// A new [`OutboundClient`].
pub fn outbound_client() -> OutboundClient {
    lakegate_net::outbound::Outbound::global().client()
}

/// Sends `req`: the answer's status and at most `max` bytes of body, within `timeout`.
pub async fn call_bounded(
    client: &OutboundClient,
    req: http::Request<http_body_util::Full<Bytes>>,
    max: usize,
    timeout: std::time::Duration,
) -> Result<(StatusCode, Bytes), String> {
    let exchange = async {
        let resp = client.request(req).await.map_err(|e| e.to_string())?;
        let status = resp.status();
        let body = Limited::new(resp.into_body(), max).collect().await.map_err(|e| e.to_string())?;
        Ok::<_, String>((status, body.to_bytes()))
    };
    tokio::time::timeout(timeout, exchange).await.unwrap_or_else(|_| Err(format!("no answer within {timeout:?}")))
}

pub fn json_response<T: serde::Serialize>(status: StatusCode, value: &T) -> ApiResult<Response<Body>> {
    let body = serde_json::to_vec(value)?;
    let mut resp = Response::new(full(body));
    *resp.status_mut() = status;
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
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
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

/// Decoded query parameters (the last value wins for a repeated name).
pub struct Query(HashMap<String, String>);

impl Query {
    pub fn parse(raw: Option<&str>) -> Query {
        Query(form_urlencoded::parse(raw.unwrap_or("").as_bytes()).into_owned().collect())
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
            Some(v) => Err(ApiError::bad_request(format!("invalid boolean {v:?} for parameter \"{name}\""))),
        }
    }

    /// lakeFS's `amount` (`PaginationAmount`: -1..=1000, enforced by lakeFS's OpenAPI request
    /// validator; -1 and 0 mean the default).
    pub fn amount(&self) -> ApiResult<Option<i64>> {
        let amount = self.int("amount")?;
        if amount.is_some_and(|a| !(-1..=1000).contains(&a)) {
            return Err(ApiError::bad_request("parameter \"amount\": number must be between -1 and 1000"));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_helpers() {
        let q = Query::parse(Some("path=a%2Fb&presign=true&amount=5&bad=maybe&empty="));
        assert_eq!(q.required("path").unwrap(), "a/b");
        assert!(q.required("empty").is_err());
        assert!(q.bool("presign", false).unwrap());
        assert!(!q.bool("missing", false).unwrap());
        assert!(q.bool("bad", false).is_err());
        let py = Query::parse(Some("a=True&b=False&c=1&d=F"));
        assert_eq!((py.bool("a", false).unwrap(), py.bool("b", true).unwrap()), (true, false));
        assert_eq!((py.bool("c", false).unwrap(), py.bool("d", true).unwrap()), (true, false));
        assert_eq!(q.int("amount").unwrap(), Some(5));
        assert!(q.int("path").is_err());
        assert_eq!(Query::parse(Some("amount=1000")).amount().unwrap(), Some(1000));
        assert!(Query::parse(Some("amount=1001")).amount().is_err());
        assert!(Query::parse(Some("amount=-2")).amount().is_err());
    }
}
