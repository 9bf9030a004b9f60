//! The bench's S3 client: PutObject, GetObject (body drained and counted), HeadObject and
//! ListObjectsV2 pages, SigV4-signed (`UNSIGNED-PAYLOAD`) on one pooled keep-alive hyper client
//! with TCP_NODELAY. PUT bodies are one shared `Bytes` (no per-request copy).

use bytes::Bytes;
use http::{Method, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::{Client, connect::HttpConnector};
use hyper_util::rt::TokioExecutor;
use lakegate_net::sigclient::{SigV4Key, signed_request};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use std::time::{Duration, SystemTime};

/// Characters left unescaped in a path segment: S3's unreserved set plus `/`.
const PATH: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~').remove(b'/');

/// A failed operation: HTTP status (0 when no answer) and a short description.
#[derive(Debug, Clone)]
pub struct OpError {
    pub status: u16,
    pub detail: String,
}

impl OpError {
    fn transport(e: impl std::fmt::Display) -> OpError {
        OpError { status: 0, detail: e.to_string() }
    }
}

/// One endpoint, bucket and key.
#[derive(Clone)]
pub struct S3 {
    http: Client<HttpConnector, Full<Bytes>>,
    endpoint: String,
    bucket: String,
    key: SigV4Key,
}

impl S3 {
    pub fn new(endpoint: &str, bucket: &str, key: SigV4Key, pool: usize) -> Result<S3, String> {
        if !endpoint.starts_with("http://") {
            return Err(format!("bench talks plain http:// only, not {endpoint}"));
        }
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(Duration::from_secs(10)));
        let http = Client::builder(TokioExecutor::new()).pool_max_idle_per_host(pool).build(connector);
        Ok(S3 { http, endpoint: endpoint.trim_end_matches('/').to_string(), bucket: bucket.to_string(), key })
    }

    fn url(&self, key: &str, query: &str) -> String {
        let path = utf8_percent_encode(key, PATH);
        let q = if query.is_empty() { String::new() } else { format!("?{query}") };
        format!("{}/{}/{path}{q}", self.endpoint, self.bucket)
    }

    /// Sends one signed request; a non-2xx answer is an error carrying its S3 code.
    async fn send(&self, method: Method, url: &str, body: Bytes) -> Result<Response<Incoming>, OpError> {
        let req = signed_request(&self.key, method, url, &[], Full::new(body), SystemTime::now())
            .map_err(OpError::transport)?;
        self.exchange(req).await
    }

    /// Sends `req` as it is (a presigned URL needs no signature); a non-2xx answer is an error.
    async fn exchange(&self, req: http::Request<Full<Bytes>>) -> Result<Response<Incoming>, OpError> {
        let resp = self.http.request(req).await.map_err(OpError::transport)?;
        if resp.status().is_success() {
            return Ok(resp);
        }
        let status = resp.status();
        let body = resp.into_body().collect().await.map(|c| c.to_bytes()).unwrap_or_default();
        Err(OpError { status: status.as_u16(), detail: error_code(status, &body) })
    }

    /// PutObject; returns the bytes sent.
    pub async fn put(&self, key: &str, data: &Bytes) -> Result<u64, OpError> {
        self.send(Method::PUT, &self.url(key, ""), data.clone()).await?.into_body().collect().await.ok();
        Ok(data.len() as u64)
    }

    /// PUT of `data` to a presigned URL.
    pub async fn put_url(&self, url: &str, data: &Bytes) -> Result<u64, OpError> {
        let req = http::Request::put(url).body(Full::new(data.clone())).map_err(OpError::transport)?;
        self.exchange(req).await?.into_body().collect().await.ok();
        Ok(data.len() as u64)
    }

    /// GetObject; reads the whole body and returns its length.
    pub async fn get(&self, key: &str) -> Result<u64, OpError> {
        drain(self.send(Method::GET, &self.url(key, ""), Bytes::new()).await?.into_body()).await
    }

    /// GET of a presigned URL; reads the whole body and returns its length.
    pub async fn get_url(&self, url: &str) -> Result<u64, OpError> {
        let req = http::Request::get(url).body(Full::new(Bytes::new())).map_err(OpError::transport)?;
        drain(self.exchange(req).await?.into_body()).await
    }

    /// The text at `url` (unsigned GET; a metrics page).
    pub async fn fetch_text(&self, url: &str) -> Result<String, OpError> {
        let req = http::Request::get(url).body(Full::new(Bytes::new())).map_err(OpError::transport)?;
        let body = self.exchange(req).await?.into_body().collect().await.map_err(OpError::transport)?;
        Ok(String::from_utf8_lossy(&body.to_bytes()).into_owned())
    }

    /// HeadObject; returns the Content-Length.
    pub async fn head(&self, key: &str) -> Result<u64, OpError> {
        let resp = self.send(Method::HEAD, &self.url(key, ""), Bytes::new()).await?;
        let len = resp.headers().get(http::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok());
        Ok(len.and_then(|v| v.parse().ok()).unwrap_or(0))
    }

    /// Lists every key under `prefix` (ListObjectsV2, pages of 1,000); returns the key count and
    /// the number of requests.
    pub async fn list_all(&self, prefix: &str) -> Result<(u64, u64), OpError> {
        let (mut keys, mut pages, mut token) = (0u64, 0u64, None::<String>);
        loop {
            let query = list_query(prefix, token.as_deref());
            let resp = self.send(Method::GET, &self.url("", &query), Bytes::new()).await?;
            let body = resp.into_body().collect().await.map_err(OpError::transport)?.to_bytes();
            let text = String::from_utf8_lossy(&body);
            pages += 1;
            keys += text.matches("<Key>").count() as u64;
            token = element(&text, "NextContinuationToken");
            if element(&text, "IsTruncated").as_deref() != Some("true") || token.is_none() {
                return Ok((keys, pages));
            }
        }
    }
}

/// Reads a body to its end without keeping it; returns its length.
async fn drain(mut body: Incoming) -> Result<u64, OpError> {
    let mut n = 0u64;
    while let Some(frame) = body.frame().await {
        if let Some(d) = frame.map_err(OpError::transport)?.data_ref() {
            n += d.len() as u64;
        }
    }
    Ok(n)
}

/// `list-type=2&max-keys=1000&prefix=…[&continuation-token=…]`, spaces as `%20`.
fn list_query(prefix: &str, token: Option<&str>) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    q.append_pair("list-type", "2").append_pair("max-keys", "1000").append_pair("prefix", prefix);
    if let Some(t) = token {
        q.append_pair("continuation-token", t);
    }
    q.finish().replace('+', "%20")
}

/// The text of the first `<name>` element (no entity decoding: tokens are base64-ish).
fn element(xml: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find("</")? + start;
    Some(xml[start..end].replace("&amp;", "&"))
}

/// `<status> <Code>` of an error answer.
fn error_code(status: StatusCode, body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    match element(&text, "Code") {
        Some(code) => format!("{} {code}", status.as_u16()),
        None => status.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_elements_and_codes() {
        let key = SigV4Key { access_key_id: "a".into(), secret_access_key: "s".into(), region: "r".into() };
        let s3 = S3::new("http://127.0.0.1:9/", "b", key.clone(), 4).unwrap();
        assert_eq!(s3.url("main/a b+c", ""), "http://127.0.0.1:9/b/main/a%20b%2Bc");
        assert_eq!(s3.url("", "list-type=2"), "http://127.0.0.1:9/b/?list-type=2");
        assert!(S3::new("https://x", "b", key, 1).is_err());
        let xml = "<R><IsTruncated>true</IsTruncated><NextContinuationToken>a&amp;b</NextContinuationToken></R>";
        assert_eq!(element(xml, "IsTruncated").as_deref(), Some("true"));
        assert_eq!(element(xml, "NextContinuationToken").as_deref(), Some("a&b"));
        assert_eq!(element(xml, "Missing"), None);
        assert_eq!(error_code(StatusCode::NOT_FOUND, b"<Error><Code>NoSuchKey</Code></Error>"), "404 NoSuchKey");
        assert_eq!(error_code(StatusCode::BAD_GATEWAY, b""), "502 Bad Gateway");
    }
}
