//! The data path: bytes move between the S3 client and the object store through the URLs lakeFS
//! presigns, on a pooled keep-alive HTTP client. Nothing here buffers an object.

use super::store_error::{StoreOp, from_response, unavailable};
use http::{Method, Request, Response, StatusCode, header};
use hyper::body::Incoming;
use lakefs_api::client::ReqBody;
use lakegate_net::range::ByteRange;
use s3_wire::{S3Error, S3Result};
use std::time::Duration;

/// Time allowed for the object store to start answering once the request was sent.
pub const DATA_TIMEOUT: Duration = Duration::from_secs(60);

/// HTTP client for presigned object-store URLs.
#[derive(Clone)]
pub struct DataClient {
    http: lakegate_net::outbound::HttpClient<ReqBody>,
}

impl Default for DataClient {
    fn default() -> Self {
        DataClient::new(&lakegate_net::outbound::Outbound::global())
    }
}

impl DataClient {
    /// A data client on the given outbound settings.
    pub fn new(outbound: &lakegate_net::outbound::Outbound) -> DataClient {
        DataClient { http: outbound.client() }
    }
}

impl DataClient {
    async fn send(&self, req: Request<ReqBody>) -> S3Result<Response<Incoming>> {
        if !matches!(req.uri().scheme_str(), Some("http" | "https")) {
            return Err(S3Error::internal(format!("lakeFS presigned a URL lakegate cannot use: {}", req.uri())));
        }
        // The answer is timed from the end of the body: an upload may stream for any time.
        let (parts, body) = req.into_parts();
        let (body, ended) = lakegate_net::body::EndSignal::new(body);
        let req = Request::from_parts(parts, http_body_util::BodyExt::boxed_unsync(body));
        match lakegate_net::body::answer_within(self.http.request(req), ended, DATA_TIMEOUT).await {
            None => Err(unavailable(format!("no answer within {DATA_TIMEOUT:?}"))),
            Some(Err(e)) => Err(unavailable(e)),
            Some(Ok(resp)) => Ok(resp),
        }
    }

    /// GETs `url` (optionally a byte range); the answer's body streams the object.
    pub async fn get(&self, url: &str, range: Option<ByteRange>) -> S3Result<Response<Incoming>> {
        let mut req = Request::builder().method(Method::GET).uri(url);
        if let Some(r) = range {
            req = req.header(header::RANGE, format!("bytes={}-{}", r.start, r.end));
        }
        let req = req.body(lakefs_api::client::empty_body()).map_err(S3Error::internal)?;
        let resp = self.send(req).await?;
        match resp.status() {
            StatusCode::OK | StatusCode::PARTIAL_CONTENT => Ok(resp),
            _ => Err(from_response(StoreOp::Get, resp).await),
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
        if !resp.status().is_success() {
            return Err(from_response(if part { StoreOp::PutPart } else { StoreOp::Put }, resp).await);
        }
        let etag = resp.headers().get(header::ETAG).and_then(|v| v.to_str().ok()).unwrap_or("");
        Ok(etag.trim_matches('"').to_string())
    }
}
