//! PutObject through lakeFS's staging API: `getPhysicalAddress(presign)` → the decoded, verified
//! body streams to the presigned URL with an exact `Content-Length` → `linkPhysicalAddress`, only
//! after every signature and checksum matched. User metadata, content type, the additional
//! checksum and the representation headers S3 keeps travel as lakeFS metadata.

use super::datapath::store::{self, Finish, NewObject, unfinished};
use super::headers::{CHECKSUM_PREFIX, STORED_HEADERS, STORED_PREFIX, request_metadata, value};
use super::{Ctx, split_write_key};
use futures_util::TryStreamExt;
use http::{HeaderMap, Response};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use lakefs_api::client::ReqBody;
use lakegate_net::body::{Body, empty};
use s3_wire::S3Result;
use s3_wire::body::{Outcome, VerifiedBody, prepare_with};
use s3_wire::s3_err;
use std::collections::BTreeMap;

fn text<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

/// S3's Content-Type for objects uploaded without one.
pub const DEFAULT_CONTENT_TYPE: &str = "binary/octet-stream";

/// Refuses request features lakegate cannot honour (instead of silently dropping them).
pub fn refuse_unsupported(h: &HeaderMap) -> S3Result<()> {
    let unsupported = |what: &str| Err(s3_err!(NotImplemented, "{what} is not supported by lakegate"));
    match text(h, "x-amz-server-side-encryption") {
        None | Some("AES256") => {}
        Some(_) => return unsupported("Server-side encryption with KMS"),
    }
    for name in [
        "x-amz-server-side-encryption-customer-algorithm",
        "x-amz-object-lock-mode",
        "x-amz-object-lock-retain-until-date",
        "x-amz-object-lock-legal-hold",
        "x-amz-tagging",
        "x-amz-website-redirect-location",
        "x-amz-grant-read",
        "x-amz-grant-full-control",
        "x-amz-grant-read-acp",
        "x-amz-grant-write-acp",
        "if-match",
    ] {
        if h.contains_key(name) {
            return unsupported(&format!("The {name} header"));
        }
    }
    if text(h, "x-amz-storage-class").is_some_and(|c| c != "STANDARD") {
        return unsupported("A storage class other than STANDARD");
    }
    if text(h, "x-amz-acl").is_some_and(|a| a != "private" && a != "bucket-owner-full-control") {
        return unsupported("A canned ACL other than private");
    }
    if h.get("if-none-match").is_some_and(|v| v.as_bytes() != b"*") {
        return unsupported("If-None-Match with a value other than *");
    }
    Ok(())
}

/// The lakeFS metadata of a new object: user metadata, stored representation headers.
pub fn object_metadata(h: &HeaderMap) -> S3Result<BTreeMap<String, String>> {
    let mut meta = request_metadata(h)?;
    for name in STORED_HEADERS {
        let Some(v) = text(h, name) else { continue };
        let v = if name == "content-encoding" { strip_aws_chunked(v) } else { v.to_string() };
        if !v.is_empty() {
            meta.insert(format!("{STORED_PREFIX}{name}"), v);
        }
    }
    Ok(meta)
}

fn strip_aws_chunked(v: &str) -> String {
    v.split(',')
        .map(str::trim)
        .filter(|e| !e.eq_ignore_ascii_case("aws-chunked") && !e.is_empty())
        .collect::<Vec<_>>()
        .join(",")
}

/// PutObject.
pub async fn handle_put_object(ctx: &Ctx<'_>, bucket: &str, key: &str, body: Incoming) -> S3Result<Response<Body>> {
    let (branch, path) = split_write_key(key)?;
    let h = &ctx.parts.headers;
    refuse_unsupported(h)?;
    let obj = NewObject {
        metadata: object_metadata(h)?,
        content_type: text(h, "content-type").filter(|c| !c.is_empty()).unwrap_or(DEFAULT_CONTENT_TYPE).to_string(),
        if_absent: h.contains_key("if-none-match"),
    };
    // Through presigned URLs the object store computes the MD5 (its ETag): lakegate hashes only
    // what it must check (Content-MD5, a signed payload hash, a checksum).
    let md5 = !store::presign_supported(ctx, bucket).await?;
    let prepared = prepare_with(ctx.parts, body, ctx.verified, ctx.body_watch(), None, md5)?;
    let (req_body, length, outcome) = into_request_body(prepared).await?;
    let digests = outcome.clone();
    let finish: Finish = Box::new(move || {
        Some(digests.get()?.map(|d| {
            let extra =
                d.checksum.iter().map(|(alg, v)| (format!("{CHECKSUM_PREFIX}{}", alg.sdk_name()), v.clone())).collect();
            (d.md5_hex, extra)
        }))
    });
    let stats = store::write(ctx, bucket, (branch, path), req_body, length, obj, finish).await?;
    crate::publish::after_put(&ctx.gw.publish, &ctx.lakefs, bucket, branch, path);
    let digests = outcome.get().unwrap_or_else(|| Err(unfinished()))?;
    let mut resp = Response::new(empty());
    resp.headers_mut().insert(http::header::ETAG, value(&format!("\"{}\"", stats.checksum))?);
    if let Some((alg, v)) = &digests.checksum {
        resp.headers_mut().insert(alg.header_name(), value(v)?);
    }
    Ok(resp)
}

/// The request body to send on: a stream of the verified body, or — for an empty body, which an
/// HTTP client never polls — an empty body once the request's framing was drained and verified.
pub(crate) async fn into_request_body(body: VerifiedBody) -> S3Result<(ReqBody, u64, Outcome)> {
    let VerifiedBody { mut stream, length, outcome } = body;
    if length == 0 {
        while let Some(chunk) = futures_util::StreamExt::next(&mut stream).await {
            chunk?;
        }
        return Ok((lakefs_api::client::empty_body(), 0, outcome));
    }
    let frames =
        stream.map_ok(http_body::Frame::data).map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>);
    Ok((http_body_util::StreamBody::new(frames).boxed_unsync(), length, outcome))
}

#[cfg(test)]
mod tests {
    use super::*;
    use s3_wire::S3ErrorCode;

    #[test]
    fn aws_chunked_is_not_a_stored_content_encoding() {
        assert_eq!(strip_aws_chunked("aws-chunked"), "");
        assert_eq!(strip_aws_chunked("gzip, aws-chunked"), "gzip");
        assert_eq!(strip_aws_chunked("aws-chunked,br"), "br");
    }

    #[test]
    fn unsupported_features_are_refused() {
        let refused = |k: &str, v: &str| {
            let mut h = HeaderMap::new();
            h.insert(http::HeaderName::from_bytes(k.as_bytes()).unwrap(), v.parse().unwrap());
            refuse_unsupported(&h).map_err(|e| e.code)
        };
        assert_eq!(refused("x-amz-server-side-encryption", "AES256"), Ok(()));
        assert_eq!(refused("x-amz-server-side-encryption", "aws:kms"), Err(S3ErrorCode::NotImplemented));
        assert_eq!(refused("x-amz-storage-class", "STANDARD"), Ok(()));
        assert_eq!(refused("x-amz-storage-class", "GLACIER"), Err(S3ErrorCode::NotImplemented));
        assert_eq!(refused("x-amz-acl", "public-read"), Err(S3ErrorCode::NotImplemented));
        assert_eq!(refused("if-match", "\"x\""), Err(S3ErrorCode::NotImplemented));
        assert_eq!(refused("if-none-match", "*"), Ok(()));
        assert_eq!(refused("if-none-match", "\"x\""), Err(S3ErrorCode::NotImplemented));
    }
}
