//! The data path: bytes move between the S3 client and the object store through the URLs lakeFS
//! presigns, on a pooled keep-alive HTTP client. Nothing here buffers an object.

use crate::lakefs::client::ReqBody;
use crate::range::ByteRange;
use crate::s3::{S3Error, S3Result};
use crate::s3_err;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use hyper::body::Incoming;
use hyper_util::client::legacy::{Client, connect::HttpConnector};
use hyper_util::rt::TokioExecutor;
use std::time::Duration;

/// Time allowed for the object store to start answering once the request was sent.
pub const DATA_TIMEOUT: Duration = Duration::from_secs(60);

/// HTTP client for presigned object-store URLs.
#[derive(Clone)]
pub struct DataClient {
    http: Client<HttpConnector, ReqBody>,
}

impl Default for DataClient {
    fn default() -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(Duration::from_secs(10)));
        let http = Client::builder(TokioExecutor::new()).pool_idle_timeout(Duration::from_secs(60)).build(connector);
        DataClient { http }
    }
}

fn store_unavailable(detail: impl std::fmt::Display) -> S3Error {
    s3_err!(ServiceUnavailable, "The object store is unavailable: {detail}")
        .with_header(header::RETRY_AFTER, HeaderValue::from_static("1"))
}

impl DataClient {
    async fn send(&self, req: Request<ReqBody>) -> S3Result<Response<Incoming>> {
        if req.uri().scheme_str() != Some("http") {
            return Err(S3Error::internal(format!(
                "presigned URLs over {:?} are not supported yet",
                req.uri().scheme_str()
            )));
        }
        // The answer is timed from the end of the body: an upload may stream for any time.
        let (parts, body) = req.into_parts();
        let (body, ended) = crate::body::EndSignal::new(body);
        let req = Request::from_parts(parts, http_body_util::BodyExt::boxed_unsync(body));
        match crate::body::answer_within(self.http.request(req), ended, DATA_TIMEOUT).await {
            None => Err(store_unavailable("timed out")),
            Some(Err(e)) => Err(store_unavailable(e)),
            Some(Ok(resp)) => Ok(resp),
        }
    }

    /// GETs `url` (optionally a byte range); the answer's body streams the object.
    pub async fn get(&self, url: &str, range: Option<ByteRange>) -> S3Result<Response<Incoming>> {
        let mut req = Request::builder().method(Method::GET).uri(url);
        if let Some(r) = range {
            req = req.header(header::RANGE, format!("bytes={}-{}", r.start, r.end));
        }
        let req = req.body(crate::lakefs::client::empty_body()).map_err(S3Error::internal)?;
        let resp = self.send(req).await?;
        match resp.status() {
            StatusCode::OK | StatusCode::PARTIAL_CONTENT => Ok(resp),
            StatusCode::NOT_FOUND => Err(s3_err!(NoSuchVersion, "The object's data is missing from the object store.")),
            StatusCode::RANGE_NOT_SATISFIABLE => Err(s3_err!(InvalidRange, "The requested range is not satisfiable")),
            s => Err(store_unavailable(format!("GET answered {s}"))),
        }
    }

    /// PUTs `len` bytes of `body` to `url`; the object store's ETag (quotes removed).
    pub async fn put(&self, url: &str, body: ReqBody, len: u64) -> S3Result<String> {
        self.put_to(url, body, len, false).await
    }

    /// PUTs one part of a multipart upload to its presigned URL; a 404 means the upload is gone.
    pub async fn put_part(&self, url: &str, body: ReqBody, len: u64) -> S3Result<String> {
        self.put_to(url, body, len, true).await
    }

    async fn put_to(&self, url: &str, body: ReqBody, len: u64, part: bool) -> S3Result<String> {
        let req = Request::builder()
            .method(Method::PUT)
            .uri(url)
            .header(header::CONTENT_LENGTH, len)
            .body(body)
            .map_err(S3Error::internal)?;
        let resp = self.send(req).await?;
        match resp.status() {
            s if s.is_success() => {}
            StatusCode::NOT_FOUND if part => {
                return Err(s3_err!(NoSuchUpload, "The specified multipart upload does not exist."));
            }
            s => return Err(store_unavailable(format!("PUT answered {s}"))),
        }
        let etag = resp.headers().get(header::ETAG).and_then(|v| v.to_str().ok()).unwrap_or("");
        Ok(etag.trim_matches('"').to_string())
    }
}
