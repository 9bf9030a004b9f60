//! Multipart uploads on the S3 blockstore, the way lakeFS's S3 adapter maps its presigned
//! multipart API onto the S3 server's own calls (Amazon S3 API Reference: `CreateMultipartUpload`,
//! `UploadPart` presigned, `UploadPartCopy`, `CompleteMultipartUpload`, `AbortMultipartUpload`,
//! `HeadObject`). The S3 `UploadId` is the lakeFS `upload_id`.
//!
//! The S3 server's error answers are reported as lakeFS reports its S3 adapter's errors: 500 with
//! aws-sdk-go-v2's error text naming the operation, status, request ids, S3 code and message
//! ([`super::sdkerr`]). `CompleteMultipartUpload` and `UploadPartCopy` may fail after a 200 status
//! with an `<Error>` body: that is an error too (reported with status 500, as the SDK does).

use super::error::{ApiError, ApiResult};
use super::s3store::S3Store;
use super::sdkerr::StoreError;
use bytes::Bytes;
use http::{Method, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use lakefs_api::client::{ReqBody, empty_body};
use lakefs_api::dto::UploadPart;
use percent_encoding::utf8_percent_encode;
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use std::time::Duration;

/// The S3 XML namespace of the request bodies sent to the S3 blockstore.
const S3_XMLNS: &str = "http://s3.amazonaws.com/doc/2006-03-01/";

/// The largest S3 answer body read (the XML answers of these calls are tiny).
const MAX_ANSWER: usize = 1 << 20;

/// What `HeadObject` tells about an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectHead {
    pub size: u64,
    /// Unix seconds (`Last-Modified`), if the store sent it.
    pub mtime: Option<i64>,
    /// Without quotes.
    pub etag: String,
}

#[derive(Debug, Deserialize)]
struct InitiateResult {
    #[serde(rename = "UploadId", default)]
    upload_id: String,
}

/// `CopyPartResult` and `CompleteMultipartUploadResult`: only the ETag matters here.
#[derive(Debug, Deserialize)]
struct EtagResult {
    #[serde(rename = "ETag", default)]
    etag: String,
}

#[derive(Debug, Deserialize, Default)]
struct ErrorDoc {
    #[serde(rename = "Code", default)]
    code: String,
    #[serde(rename = "Message", default)]
    message: String,
    #[serde(rename = "RequestId", default)]
    request_id: String,
    #[serde(rename = "HostId", default)]
    host_id: String,
}

#[derive(Serialize)]
struct CompleteBody {
    #[serde(rename = "@xmlns")]
    xmlns: &'static str,
    #[serde(rename = "Part")]
    parts: Vec<PartXml>,
}

#[derive(Serialize)]
struct PartXml {
    #[serde(rename = "PartNumber")]
    part_number: i64,
    #[serde(rename = "ETag")]
    etag: String,
}

/// The request ids of an S3 answer: `x-amz-request-id` and `x-amz-id-2`.
#[derive(Debug, Clone, Default)]
struct AnswerIds {
    request_id: String,
    host_id: String,
}

impl AnswerIds {
    fn of(headers: &http::HeaderMap) -> AnswerIds {
        let get = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        AnswerIds { request_id: get("x-amz-request-id"), host_id: get("x-amz-id-2") }
    }
}

/// An S3 error answer (`status`, body `text`) to `operation`, as lakeFS reports it: 500 with the
/// S3 SDK's error text ([`crate::sdkerr`]). A body-less answer is named after its status
/// (`NotFound`: `Not Found`); a 200 answer carrying an `<Error>` is reported with status 500.
fn mpu_error(operation: &'static str, status: StatusCode, ids: AnswerIds, text: &str) -> ApiError {
    let doc: ErrorDoc = quick_xml::de::from_str(text).unwrap_or_default();
    let (code, message) = if doc.code.is_empty() {
        let reason = status.canonical_reason().unwrap_or("");
        (reason.replace(' ', ""), reason.to_string())
    } else {
        (doc.code, doc.message)
    };
    let pick = |body: String, header: String| if body.is_empty() { header } else { body };
    StoreError {
        operation,
        status: if status.is_success() { 500 } else { status.as_u16() },
        request_id: pick(doc.request_id, ids.request_id),
        host_id: pick(doc.host_id, ids.host_id),
        code,
        message,
    }
    .into()
}

/// Parses an S3 XML answer into `T`; error statuses and `<Error>` documents become errors.
fn parse_answer<T: DeserializeOwned>(
    operation: &'static str,
    status: StatusCode,
    ids: AnswerIds,
    body: &[u8],
) -> ApiResult<T> {
    let text = String::from_utf8_lossy(body);
    if !status.is_success() || text.contains("<Error>") {
        return Err(mpu_error(operation, status, ids, &text));
    }
    quick_xml::de::from_str(&text).map_err(|e| ApiError::Internal(format!("{operation}: unexpected S3 answer: {e}")))
}

async fn read_answer<T: DeserializeOwned>(operation: &'static str, resp: Response<Incoming>) -> ApiResult<T> {
    let (status, ids) = (resp.status(), AnswerIds::of(resp.headers()));
    let body = Limited::new(resp.into_body(), MAX_ANSWER)
        .collect()
        .await
        .map_err(|e| ApiError::Internal(format!("{operation}: reading the S3 answer: {e}")))?
        .to_bytes();
    parse_answer(operation, status, ids, &body)
}

/// The `CompleteMultipartUpload` request body, parts as given (quoted ETags).
fn complete_body(parts: &[UploadPart]) -> ApiResult<String> {
    let parts = parts
        .iter()
        .map(|p| PartXml { part_number: p.part_number, etag: format!("\"{}\"", p.etag.trim().trim_matches('"')) })
        .collect();
    let body = CompleteBody { xmlns: S3_XMLNS, parts };
    quick_xml::se::to_string_with_root("CompleteMultipartUpload", &body).map_err(ApiError::internal)
}

fn quoted(etag: &str) -> String {
    format!("\"{}\"", etag.trim().trim_matches('"'))
}

impl S3Store {
    /// `/<bucket>/<key>?<query>` of `address`.
    fn upload_path(&self, address: &str, query: &str) -> ApiResult<String> {
        Ok(format!("{}?{query}", self.path_of(self.key_of(address)?)))
    }

    /// `partNumber=n&uploadId=…` (encoded).
    fn part_query(upload_id: &str, n: i64) -> String {
        format!("partNumber={n}&uploadId={}", utf8_percent_encode(upload_id, super::http::QUERY_VALUE))
    }

    /// `CreateMultipartUpload` on `address`'s key; the S3 `UploadId`.
    pub async fn create_multipart(&self, address: &str) -> ApiResult<String> {
        let path = self.upload_path(address, "uploads")?;
        let resp = self.send(Method::POST, &path, vec![], empty_body()).await?;
        let result: InitiateResult = read_answer("CreateMultipartUpload", resp).await?;
        if result.upload_id.is_empty() {
            return Err(ApiError::Internal("CreateMultipartUpload: the S3 store sent no UploadId".into()));
        }
        Ok(result.upload_id)
    }

    /// A presigned `UploadPart` URL (`PUT ?partNumber=n&uploadId=…`), valid `expires`.
    pub fn presign_part(&self, address: &str, upload_id: &str, n: i64, expires: Duration) -> ApiResult<String> {
        let path = self.upload_path(address, &Self::part_query(upload_id, n))?;
        self.presign_path("PUT", &path, expires)
    }

    /// `UploadPartCopy` of `src` (bytes `range` = `(first, last)`, or all) as part `n`; its ETag, quoted.
    pub async fn upload_part_copy(
        &self,
        address: &str,
        upload_id: &str,
        n: i64,
        src: &str,
        range: Option<(u64, u64)>,
    ) -> ApiResult<String> {
        let path = self.upload_path(address, &Self::part_query(upload_id, n))?;
        let mut headers = vec![("x-amz-copy-source".to_string(), self.path_of(self.key_of(src)?))];
        if let Some((first, last)) = range {
            headers.push(("x-amz-copy-source-range".into(), format!("bytes={first}-{last}")));
        }
        let resp = self.send(Method::PUT, &path, headers, empty_body()).await?;
        let result: EtagResult = read_answer("UploadPartCopy", resp).await?;
        Ok(quoted(&result.etag))
    }

    /// `CompleteMultipartUpload` with `parts`; the object's ETag without quotes (may be empty).
    pub async fn complete_multipart(&self, address: &str, upload_id: &str, parts: &[UploadPart]) -> ApiResult<String> {
        let id = utf8_percent_encode(upload_id, super::http::QUERY_VALUE).to_string();
        let path = self.upload_path(address, &format!("uploadId={id}"))?;
        let xml = complete_body(parts)?;
        let headers = vec![("content-type".to_string(), "application/xml".to_string())];
        let body: ReqBody = Full::new(Bytes::from(xml)).map_err(|never| match never {}).boxed_unsync();
        let resp = self.send(Method::POST, &path, headers, body).await?;
        let result: EtagResult = read_answer("CompleteMultipartUpload", resp).await?;
        Ok(result.etag.trim().trim_matches('"').to_string())
    }

    /// `AbortMultipartUpload`.
    pub async fn abort_multipart(&self, address: &str, upload_id: &str) -> ApiResult<()> {
        let id = utf8_percent_encode(upload_id, super::http::QUERY_VALUE).to_string();
        let path = self.upload_path(address, &format!("uploadId={id}"))?;
        let resp = self.send(Method::DELETE, &path, vec![], empty_body()).await?;
        if resp.status().is_success() {
            return Ok(());
        }
        let (status, ids) = (resp.status(), AnswerIds::of(resp.headers()));
        let body = Limited::new(resp.into_body(), MAX_ANSWER).collect().await.map(|c| c.to_bytes()).unwrap_or_default();
        Err(mpu_error("AbortMultipartUpload", status, ids, &String::from_utf8_lossy(&body)))
    }

    /// `HeadObject`: size, modification time and ETag.
    pub async fn head(&self, address: &str) -> ApiResult<ObjectHead> {
        let path = self.path_of(self.key_of(address)?);
        let resp = self.send(Method::HEAD, &path, vec![], empty_body()).await?;
        if !resp.status().is_success() {
            return Err(mpu_error("HeadObject", resp.status(), AnswerIds::of(resp.headers()), ""));
        }
        let h = resp.headers();
        let text = |name: header::HeaderName| h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        let size = text(header::CONTENT_LENGTH)
            .parse()
            .map_err(|_| ApiError::Internal("HEAD: the S3 store sent no Content-Length".into()))?;
        let mtime = httpdate::parse_http_date(&text(header::LAST_MODIFIED))
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_secs() as i64);
        Ok(ObjectHead { size, mtime, etag: text(header::ETAG).trim_matches('"').to_string() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn complete_body_lists_parts_with_quoted_etags() {
        let parts =
            [UploadPart { part_number: 1, etag: "\"abc\"".into() }, UploadPart { part_number: 2, etag: "d<e".into() }];
        let xml = complete_body(&parts).unwrap();
        assert!(xml.starts_with("<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"));
        assert!(xml.contains("<Part><PartNumber>1</PartNumber><ETag>"), "{xml}");
        assert!(xml.contains("abc") && xml.contains("d&lt;e"), "{xml}");
        assert!(xml.ends_with("</Part></CompleteMultipartUpload>"), "{xml}");
    }

    #[test]
    fn answers_parse_and_errors_read_as_lakefs_reports_them() {
        let ids = || AnswerIds { request_id: "R".into(), host_id: "H".into() };
        let ok = b"<?xml version=\"1.0\"?><InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key>\
                   <UploadId>u-1</UploadId></InitiateMultipartUploadResult>";
        let r: InitiateResult = parse_answer("CreateMultipartUpload", StatusCode::OK, ids(), ok).unwrap();
        assert_eq!(r.upload_id, "u-1");
        let err = |op: &'static str, status: StatusCode, code: &str| {
            let body = format!("<?xml version=\"1.0\"?><Error><Code>{code}</Code><Message>m</Message></Error>");
            parse_answer::<EtagResult>(op, status, ids(), body.as_bytes()).unwrap_err()
        };
        let small = err("CompleteMultipartUpload", StatusCode::BAD_REQUEST, "EntityTooSmall");
        assert_eq!((small.status().as_u16(), small.store_code()), (500, Some("EntityTooSmall")));
        assert_eq!(
            small.to_string(),
            "operation error S3: CompleteMultipartUpload, https response error StatusCode: 400, RequestID: R, \
             HostID: H, api error EntityTooSmall: m"
        );
        let gone = err("CompleteMultipartUpload", StatusCode::NOT_FOUND, "NoSuchUpload");
        assert!(gone.to_string().ends_with("StatusCode: 404, RequestID: R, HostID: H, api error NoSuchUpload: m"));
        // NoSuchUpload is a modeled error of AbortMultipartUpload: no "api error".
        let abort = err("AbortMultipartUpload", StatusCode::NOT_FOUND, "NoSuchUpload");
        assert!(abort.to_string().ends_with("HostID: H, NoSuchUpload: m"), "{abort}");
        // Ids in the error document win over the headers.
        let body = b"<Error><Code>InvalidPart</Code><Message>m</Message><RequestId>BR</RequestId></Error>";
        let e = parse_answer::<EtagResult>("CompleteMultipartUpload", StatusCode::BAD_REQUEST, ids(), body);
        assert!(e.unwrap_err().to_string().contains("RequestID: BR, HostID: H,"));
        // A 200 answer carrying an <Error> document is an error, reported with status 500.
        let late = err("CompleteMultipartUpload", StatusCode::OK, "InternalError");
        assert!(late.to_string().contains("StatusCode: 500,"), "{late}");
        // A body-less answer is named after its status.
        let head = mpu_error("HeadObject", StatusCode::NOT_FOUND, ids(), "");
        assert!(head.to_string().ends_with("StatusCode: 404, RequestID: R, HostID: H, NotFound: Not Found"), "{head}");
        assert_eq!(
            parse_answer::<EtagResult>("x", StatusCode::BAD_GATEWAY, ids(), b"not xml").unwrap_err().status(),
            500
        );
        let done: EtagResult = parse_answer("x", StatusCode::OK, ids(), b"<R><ETag>\"e-2\"</ETag></R>").unwrap();
        assert_eq!(done.etag, "\"e-2\"");
    }
}
