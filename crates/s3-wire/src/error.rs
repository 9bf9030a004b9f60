//! S3 errors: the codes and HTTP statuses AWS documents ("Error responses", Amazon S3 API
//! Reference), one `S3Error` type for the whole S3 layer, and the one place that renders it as
//! `<Error><Code/><Message/><Resource/><RequestId/></Error>` (no body on HEAD).

use http::{HeaderName, HeaderValue, Response, StatusCode, header};
use lakegate_net::body::{Body, empty, full};

macro_rules! codes {
    ($($name:ident => $status:expr),* $(,)?) => {
        /// An S3 error code (`<Code>`), named exactly as AWS names it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum S3ErrorCode { $($name),* }

        impl S3ErrorCode {
            /// The code as it appears on the wire.
            pub fn as_str(self) -> &'static str {
                match self { $(S3ErrorCode::$name => stringify!($name)),* }
            }

            /// The HTTP status AWS answers with this code.
            pub fn status(self) -> StatusCode {
                match self { $(S3ErrorCode::$name => StatusCode::from_u16($status).expect("valid status")),* }
            }

            /// Every code (for tests and documentation).
            pub const ALL: &'static [S3ErrorCode] = &[$(S3ErrorCode::$name),*];
        }
    };
}

codes! {
    AccessDenied => 403,
    AuthorizationHeaderMalformed => 400,
    AuthorizationQueryParametersError => 400,
    BadDigest => 400,
    BucketAlreadyExists => 409,
    BucketAlreadyOwnedByYou => 409,
    BucketNotEmpty => 409,
    EntityTooLarge => 400,
    EntityTooSmall => 400,
    ErrReadOnlyRepository => 403,
    ExpiredToken => 400,
    IncompleteBody => 400,
    InternalError => 500,
    InvalidAccessKeyId => 403,
    InvalidArgument => 400,
    InvalidBucketName => 400,
    InvalidURI => 400,
    InvalidDigest => 400,
    InvalidPart => 400,
    InvalidPartNumber => 416,
    InvalidPartOrder => 400,
    InvalidRange => 416,
    InvalidRequest => 400,
    InvalidToken => 400,
    KeyTooLongError => 400,
    MalformedXML => 400,
    MaxMessageLengthExceeded => 400,
    MetadataTooLarge => 400,
    MethodNotAllowed => 405,
    MissingContentLength => 411,
    MissingRequestBodyError => 400,
    MissingSecurityHeader => 400,
    NoSuchBucket => 404,
    NoSuchKey => 404,
    NoSuchUpload => 404,
    NoSuchVersion => 404,
    NotImplemented => 501,
    PreconditionFailed => 412,
    RequestHeaderSectionTooLarge => 400,
    RequestTimeTooSkewed => 403,
    RequestTimeout => 400,
    ServiceUnavailable => 503,
    SignatureDoesNotMatch => 403,
    SlowDown => 503,
    XAmzContentSHA256Mismatch => 400,
}

/// An S3 error answer.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{code:?}: {message}")]
pub struct S3Error {
    pub code: S3ErrorCode,
    pub message: String,
    /// `<Resource>`: the bucket or object the request named, when known.
    pub resource: Option<String>,
    /// Extra response headers (`Retry-After`, `Content-Range` on `InvalidRange`, `Allow`…).
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

impl S3Error {
    pub fn new(code: S3ErrorCode, message: impl Into<String>) -> S3Error {
        S3Error { code, message: message.into(), resource: None, headers: Vec::new() }
    }

    pub fn with_resource(mut self, resource: impl Into<String>) -> S3Error {
        self.resource = Some(resource.into());
        self
    }

    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> S3Error {
        self.headers.push((name, value));
        self
    }

    /// `501 NotImplemented` naming the operation.
    pub fn not_implemented(operation: &str) -> S3Error {
        S3Error::new(S3ErrorCode::NotImplemented, format!("{operation} is not implemented by lakegate"))
    }

    pub fn internal(err: impl std::fmt::Display) -> S3Error {
        S3Error::new(S3ErrorCode::InternalError, format!("We encountered an internal error: {err}"))
    }

    pub fn status(&self) -> StatusCode {
        self.code.status()
    }
}

/// Shorthand: `s3_err!(Code, "fmt", args…)`.
#[macro_export]
macro_rules! s3_err {
    ($code:ident, $($fmt:tt)+) => {
        $crate::error::S3Error::new($crate::error::S3ErrorCode::$code, format!($($fmt)+))
    };
}

pub type S3Result<T> = Result<T, S3Error>;

fn escape(s: &str) -> std::borrow::Cow<'_, str> {
    quick_xml::escape::escape(s)
}

/// The XML body of `err` for request `request_id`.
pub fn error_xml(err: &S3Error, request_id: &str) -> String {
    let mut xml = String::with_capacity(256);
    xml.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>");
    xml.push_str(err.code.as_str());
    xml.push_str("</Code><Message>");
    xml.push_str(&escape(&err.message));
    xml.push_str("</Message>");
    if let Some(r) = &err.resource {
        xml.push_str("<Resource>");
        xml.push_str(&escape(r));
        xml.push_str("</Resource>");
    }
    xml.push_str("<RequestId>");
    xml.push_str(&escape(request_id));
    xml.push_str("</RequestId></Error>");
    xml
}

/// The response for `err`: the only place S3 errors are rendered. HEAD answers carry no body.
pub fn error_response(err: &S3Error, request_id: &str, is_head: bool) -> Response<Body> {
    let body = if is_head { empty() } else { full(error_xml(err, request_id)) };
    let mut resp = Response::new(body);
    *resp.status_mut() = err.status();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/xml"));
    for (k, v) in &err.headers {
        h.insert(k.clone(), v.clone());
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_error_xml() {
        let err = S3Error::new(S3ErrorCode::NoSuchKey, "The specified key does not exist.").with_resource("/b/k&<x>");
        assert_eq!(
            error_xml(&err, "4442587FB7D0A2F9"),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code>\
             <Message>The specified key does not exist.</Message><Resource>/b/k&amp;&lt;x&gt;</Resource>\
             <RequestId>4442587FB7D0A2F9</RequestId></Error>"
        );
    }

    #[test]
    fn statuses_follow_aws() {
        use S3ErrorCode::*;
        for (code, status) in [
            (AccessDenied, 403),
            (SignatureDoesNotMatch, 403),
            (RequestTimeTooSkewed, 403),
            (InvalidAccessKeyId, 403),
            (NoSuchBucket, 404),
            (InvalidRange, 416),
            (MissingContentLength, 411),
            (NotImplemented, 501),
            (SlowDown, 503),
            (XAmzContentSHA256Mismatch, 400),
            (MethodNotAllowed, 405),
        ] {
            assert_eq!(code.status(), status, "{code:?}");
        }
        assert_eq!(S3ErrorCode::ALL.len(), 45);
    }

    #[test]
    fn head_errors_have_no_body_but_keep_status_and_headers() {
        let err =
            s3_err!(InvalidRange, "bad").with_header(header::CONTENT_RANGE, HeaderValue::from_static("bytes */10"));
        let resp = error_response(&err, "id", true);
        assert_eq!(resp.status(), 416);
        assert_eq!(resp.headers()["content-range"], "bytes */10");
        assert_eq!(http_body::Body::size_hint(resp.body()).exact(), Some(0));
        let resp = error_response(&err, "id", false);
        assert!(http_body::Body::size_hint(resp.body()).exact().unwrap() > 0);
    }
}
