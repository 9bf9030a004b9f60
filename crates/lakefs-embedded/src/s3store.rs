//! The embedded server's S3 blockstore, working the way lakeFS's S3 adapter does: storage
//! namespaces are `s3://<bucket>/<prefix>`; bytes written through the staging API go to URLs
//! presigned against the S3 server (SigV4 query presigning, only `host` signed); reads presign
//! GETs; copies are S3 CopyObject; `uploadObject`/`getObject` stream through this server with
//! header-signed requests. A small client on hyper and aws-sigv4 (Amazon S3 API Reference).

use super::error::{ApiError, ApiResult};
use super::presign::Presigner;
use http::{Method, Response, StatusCode, header};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use lakefs_api::client::ReqBody;
use lakegate_net::range::ByteRange;
use lakegate_net::sigclient::{SigV4Key, signed_request};
use percent_encoding::utf8_percent_encode;
use std::time::{Duration, SystemTime};

/// The scheme of S3 storage namespaces and physical addresses.
pub const SCHEME: &str = "s3://";

/// Where the S3 blockstore keeps objects.
#[derive(Debug, Clone)]
pub struct S3Config {
    /// `http://host:port` of the S3 server (path-style addressing).
    pub endpoint: String,
    pub bucket: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
}

/// Client of one S3 bucket.
pub struct S3Store {
    cfg: S3Config,
    presigner: Presigner,
    http: lakegate_net::outbound::HttpClient<ReqBody>,
}

pub(super) fn store_error(what: &str, status: StatusCode, body: &[u8]) -> ApiError {
    let text = String::from_utf8_lossy(body);
    let code = text.split("<Code>").nth(1).and_then(|r| r.split("</Code>").next()).unwrap_or("");
    match status {
        StatusCode::NOT_FOUND => ApiError::not_found(format!("{what}: object data not found")),
        _ => ApiError::Internal(format!("{what}: the S3 store answered {status} {code}")),
    }
}

impl S3Store {
    pub fn new(cfg: S3Config) -> ApiResult<S3Store> {
        if !cfg.endpoint.starts_with("http://") && !cfg.endpoint.starts_with("https://") {
            return Err(ApiError::bad_request("the S3 blockstore endpoint must be an http:// or https:// URL"));
        }
        let presigner =
            Presigner::with_region(cfg.access_key_id.clone(), cfg.secret_access_key.clone(), cfg.region.clone());
        let http = lakegate_net::outbound::Outbound::global().client();
        let cfg = S3Config { endpoint: cfg.endpoint.trim_end_matches('/').to_string(), ..cfg };
        Ok(S3Store { cfg, presigner, http })
    }

    pub fn bucket(&self) -> &str {
        &self.cfg.bucket
    }

    /// The object key of an `s3://<bucket>/<key>` address in our bucket.
    pub fn key_of<'a>(&self, address: &'a str) -> ApiResult<&'a str> {
        let rest = address
            .strip_prefix(SCHEME)
            .ok_or_else(|| ApiError::bad_request(format!("{address:?} is not an s3:// address")))?;
        match rest.split_once('/') {
            Some((bucket, key)) if bucket == self.cfg.bucket && !key.is_empty() => Ok(key),
            _ => Err(ApiError::bad_request(format!("{address:?} is not in bucket {}", self.cfg.bucket))),
        }
    }

    /// `/<bucket>/<key>` with every key segment encoded once.
    pub(super) fn path_of(&self, key: &str) -> String {
        let encoded: Vec<String> =
            key.split('/').map(|seg| utf8_percent_encode(seg, super::http::QUERY_VALUE).to_string()).collect();
        format!("/{}/{}", self.cfg.bucket, encoded.join("/"))
    }

    /// A presigned URL for `method` on `address`, valid `expires`.
    pub fn presign(&self, method: &str, address: &str, expires: Duration) -> ApiResult<String> {
        self.presign_path(method, &self.path_of(self.key_of(address)?), expires)
    }

    /// A presigned URL for `method` on `path_and_query` (query values already encoded).
    pub(super) fn presign_path(&self, method: &str, path_and_query: &str, expires: Duration) -> ApiResult<String> {
        self.presigner.presign(method, &self.cfg.endpoint, path_and_query, expires).map_err(ApiError::Internal)
    }

    /// Sends a header-signed request (`UNSIGNED-PAYLOAD`).
    pub(super) async fn send(
        &self,
        method: Method,
        path: &str,
        headers: Vec<(String, String)>,
        body: ReqBody,
    ) -> ApiResult<Response<Incoming>> {
        let key = SigV4Key {
            access_key_id: self.cfg.access_key_id.clone(),
            secret_access_key: self.cfg.secret_access_key.clone(),
            region: self.cfg.region.clone(),
        };
        let url = format!("{}{path}", self.cfg.endpoint);
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let req = signed_request(&key, method, &url, &headers, body, SystemTime::now()).map_err(ApiError::Internal)?;
        self.http.request(req).await.map_err(|e| ApiError::Internal(format!("S3 store unreachable: {e}")))
    }

    pub(super) async fn expect_ok(&self, what: &str, resp: Response<Incoming>) -> ApiResult<Response<Incoming>> {
        if resp.status().is_success() {
            return Ok(resp);
        }
        let status = resp.status();
        let body = resp.into_body().collect().await.map(|c| c.to_bytes()).unwrap_or_default();
        Err(store_error(what, status, &body))
    }

    /// PUTs `len` bytes of `body` at `address`; the store's ETag (unquoted).
    pub async fn put(&self, address: &str, body: ReqBody, len: u64) -> ApiResult<String> {
        let path = self.path_of(self.key_of(address)?);
        let resp = self.send(Method::PUT, &path, vec![("content-length".into(), len.to_string())], body).await?;
        let resp = self.expect_ok("PUT", resp).await?;
        Ok(resp.headers().get(header::ETAG).and_then(|v| v.to_str().ok()).unwrap_or("").trim_matches('"').to_string())
    }

    /// GETs `address` (a byte range of it); the answer streams the bytes.
    pub async fn get(&self, address: &str, range: Option<ByteRange>) -> ApiResult<Response<Incoming>> {
        let path = self.path_of(self.key_of(address)?);
        let headers =
            range.map(|r| vec![("range".to_string(), format!("bytes={}-{}", r.start, r.end))]).unwrap_or_default();
        let resp = self.send(Method::GET, &path, headers, lakefs_api::client::empty_body()).await?;
        self.expect_ok("GET", resp).await
    }

    /// DeleteObject.
    pub async fn delete(&self, address: &str) -> ApiResult<()> {
        let path = self.path_of(self.key_of(address)?);
        let resp = self.send(Method::DELETE, &path, vec![], lakefs_api::client::empty_body()).await?;
        self.expect_ok("DELETE", resp).await.map(drop)
    }

    /// Server-side copy (S3 CopyObject).
    pub async fn copy(&self, src: &str, dst: &str) -> ApiResult<()> {
        let source = self.path_of(self.key_of(src)?);
        let path = self.path_of(self.key_of(dst)?);
        let resp = self
            .send(Method::PUT, &path, vec![("x-amz-copy-source".into(), source)], lakefs_api::client::empty_body())
            .await?;
        let resp = self.expect_ok("CopyObject", resp).await?;
        // CopyObject can fail after a 200 status: the error is then in the body.
        let body = resp.into_body().collect().await.map(|c| c.to_bytes()).unwrap_or_default();
        if String::from_utf8_lossy(&body).contains("<Error>") {
            return Err(store_error("CopyObject", StatusCode::INTERNAL_SERVER_ERROR, &body));
        }
        Ok(())
    }
}
