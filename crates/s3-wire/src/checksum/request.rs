//! Which additional checksum one upload request (PutObject, UploadPart, and the XML operations
//! that carry a body checksum) declares, and the 400s S3 gives for inconsistent declarations.
//!
//! Rules (AWS "Checking object integrity"; the `ChecksumAlgorithm` member docs of PutObject; what
//! versity/versitygw#1664 and its issues #1593, #1598, #1657, #1659 measured against S3):
//! - at most one `x-amz-checksum-<algorithm>` header, of a known algorithm, whose value is padded
//!   base64 of the digest's exact length;
//! - `x-amz-trailer` names exactly one known `x-amz-checksum-*` header; it excludes a checksum header;
//! - `x-amz-sdk-checksum-algorithm` must be known, must match the header or trailer algorithm, and
//!   must come with one of them.
//!
//! Not payload checksums, so skipped here: `x-amz-checksum-type` (FULL_OBJECT | COMPOSITE, sent on
//! CreateMultipartUpload / CompleteMultipartUpload to choose how part checksums combine),
//! `x-amz-checksum-mode` (GetObject / HeadObject asking for the stored checksum back) and
//! `x-amz-checksum-algorithm` (CreateMultipartUpload choosing the parts' algorithm). Their callers
//! read them where those operations are handled.

use super::ChecksumAlgorithm;
use crate::error::S3Result;
use crate::s3_err;
use http::HeaderMap;

const PREFIX: &str = "x-amz-checksum-";
/// `x-amz-checksum-<suffix>` headers that are not payload checksums (see the module docs).
const NOT_PAYLOAD_CHECKSUMS: [&str; 3] = ["type", "mode", "algorithm"];
const TRAILER: &str = "x-amz-trailer";
const SDK_ALGORITHM: &str = "x-amz-sdk-checksum-algorithm";

/// The additional checksum a request declares.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChecksumRequest {
    /// `x-amz-checksum-<alg>: <base64>`, already checked to be well-formed.
    pub header: Option<(ChecksumAlgorithm, String)>,
    /// `x-amz-trailer: x-amz-checksum-<alg>`: the value arrives after an aws-chunked body.
    pub trailer: Option<ChecksumAlgorithm>,
    /// `x-amz-sdk-checksum-algorithm`, already checked to agree with `header` or `trailer`.
    pub sdk_algorithm: Option<ChecksumAlgorithm>,
}

impl ChecksumRequest {
    /// The algorithm to compute while streaming, if the request asked for one.
    pub fn algorithm(&self) -> Option<ChecksumAlgorithm> {
        self.header.as_ref().map(|(alg, _)| *alg).or(self.trailer)
    }
}

/// Reads and cross-checks the checksum headers of an upload request.
///
/// # Errors
/// `InvalidRequest` for every violation of the rules in the module docs, with S3's messages.
pub fn parse_checksum_request(headers: &HeaderMap) -> S3Result<ChecksumRequest> {
    let header = checksum_header(headers)?;
    let trailer = trailer(headers)?;
    if header.is_some() && trailer.is_some() {
        return Err(s3_err!(InvalidRequest, "Expecting a single x-amz-checksum- header"));
    }
    let sdk_algorithm = sdk_algorithm(headers)?;
    if let Some(sdk) = sdk_algorithm {
        match header.as_ref().map(|(alg, _)| *alg).or(trailer) {
            None => {
                return Err(s3_err!(
                    InvalidRequest,
                    "x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or x-amz-trailer \
                     headers were found."
                ));
            }
            Some(alg) if alg != sdk => {
                return Err(s3_err!(InvalidRequest, "Value for x-amz-sdk-checksum-algorithm header is invalid."));
            }
            Some(_) => {}
        }
    }
    Ok(ChecksumRequest { header, trailer, sdk_algorithm })
}

fn checksum_header(headers: &HeaderMap) -> S3Result<Option<(ChecksumAlgorithm, String)>> {
    let mut found = None;
    for (name, value) in headers {
        let name = name.as_str();
        let Some(suffix) = name.strip_prefix(PREFIX) else {
            continue;
        };
        if NOT_PAYLOAD_CHECKSUMS.contains(&suffix) {
            continue;
        }
        let alg = ChecksumAlgorithm::from_header_name(name).ok_or_else(|| {
            s3_err!(InvalidRequest, "The algorithm type you specified in x-amz-checksum- header is invalid.")
        })?;
        if found.is_some() {
            return Err(s3_err!(
                InvalidRequest,
                "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed."
            ));
        }
        let value = value.to_str().ok().filter(|v| alg.decode_value(v).is_some());
        let value = value.ok_or_else(|| s3_err!(InvalidRequest, "Value for {name} header is invalid."))?;
        found = Some((alg, value.trim().to_owned()));
    }
    Ok(found)
}

fn single_value<'a>(headers: &'a HeaderMap, name: &str) -> S3Result<Option<&'a str>> {
    let mut values = headers.get_all(name).iter();
    let Some(first) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(s3_err!(InvalidRequest, "Expecting a single {name} header"));
    }
    let value = first.to_str().map_err(|_| s3_err!(InvalidRequest, "Value for {name} header is invalid."))?;
    Ok(Some(value.trim()))
}

fn trailer(headers: &HeaderMap) -> S3Result<Option<ChecksumAlgorithm>> {
    let Some(value) = single_value(headers, TRAILER)? else {
        return Ok(None);
    };
    // A list (`a, b`) names more than one trailer; S3 only defines checksum trailers, one per request.
    let alg = ChecksumAlgorithm::from_header_name(value)
        .ok_or_else(|| s3_err!(InvalidRequest, "The value specified in the x-amz-trailer header is not supported"))?;
    Ok(Some(alg))
}

fn sdk_algorithm(headers: &HeaderMap) -> S3Result<Option<ChecksumAlgorithm>> {
    let Some(value) = single_value(headers, SDK_ALGORITHM)? else {
        return Ok(None);
    };
    let alg = ChecksumAlgorithm::from_sdk_name(value)
        .ok_or_else(|| s3_err!(InvalidRequest, "Value for x-amz-sdk-checksum-algorithm header is invalid."))?;
    Ok(Some(alg))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::S3ErrorCode;

    fn parse(pairs: &[(&str, &str)]) -> S3Result<ChecksumRequest> {
        let mut headers = HeaderMap::new();
        for (k, v) in pairs {
            headers.append(http::HeaderName::from_bytes(k.as_bytes()).unwrap(), v.parse().unwrap());
        }
        parse_checksum_request(&headers)
    }

    fn rejected(pairs: &[(&str, &str)]) -> String {
        let err = parse(pairs).expect_err("should be rejected");
        assert_eq!(err.code, S3ErrorCode::InvalidRequest, "{pairs:?}");
        err.message
    }

    #[test]
    fn accepts_what_2025_sdks_send() {
        // boto3 over HTTP: a header computed up front.
        let r = parse(&[("x-amz-checksum-crc32", "DUoRhQ=="), ("x-amz-sdk-checksum-algorithm", "CRC32")]).unwrap();
        assert_eq!(r.header, Some((ChecksumAlgorithm::Crc32, "DUoRhQ==".into())));
        assert_eq!(r.algorithm(), Some(ChecksumAlgorithm::Crc32));
        // AWS CLI v2 over HTTPS: a trailer (seaweedfs#6713), algorithm names in either case.
        let r = parse(&[("X-Amz-Trailer", "x-amz-checksum-crc64nvme"), ("x-amz-sdk-checksum-algorithm", "crc64nvme")]);
        assert_eq!(r.unwrap().trailer, Some(ChecksumAlgorithm::Crc64Nvme));
        // Nothing at all, and the non-payload x-amz-checksum-* headers, are fine.
        assert_eq!(parse(&[]).unwrap(), ChecksumRequest::default());
        let r = parse(&[("x-amz-checksum-type", "FULL_OBJECT"), ("x-amz-checksum-mode", "ENABLED")]).unwrap();
        assert_eq!(r.algorithm(), None);
    }

    #[test]
    fn rejects_what_s3_rejects() {
        assert!(
            rejected(&[("x-amz-checksum-crc32", "DUoRhQ=="), ("x-amz-checksum-sha1", "Kq5sNclPz7QV2+lfQIuc6R7oRu0=")])
                .contains("single")
        );
        assert!(
            rejected(&[("x-amz-checksum-crc32", "DUoRhQ=="), ("x-amz-checksum-crc32", "DUoRhQ==")]).contains("single")
        );
        assert!(rejected(&[("x-amz-checksum-md5", "XrY7u+Ae7tCTyyK7j1rNww==")]).contains("algorithm type"));
        assert_eq!(
            rejected(&[("x-amz-checksum-crc32", "DUoRhQ")]),
            "Value for x-amz-checksum-crc32 header is invalid."
        );
        assert_eq!(
            rejected(&[("x-amz-checksum-crc32", "AAAAAAAAAAA=")]),
            "Value for x-amz-checksum-crc32 header is invalid."
        );
        assert!(rejected(&[("x-amz-trailer", "x-amz-meta-foo")]).contains("x-amz-trailer"));
        assert!(rejected(&[("x-amz-trailer", "x-amz-checksum-crc32, x-amz-checksum-sha1")]).contains("x-amz-trailer"));
        assert!(
            rejected(&[("x-amz-checksum-crc32", "DUoRhQ=="), ("x-amz-trailer", "x-amz-checksum-crc32")])
                .contains("single")
        );
        let sdk_invalid = "Value for x-amz-sdk-checksum-algorithm header is invalid.";
        assert_eq!(
            rejected(&[("x-amz-checksum-crc32", "DUoRhQ=="), ("x-amz-sdk-checksum-algorithm", "XXHASH3")]),
            sdk_invalid
        );
        assert_eq!(
            rejected(&[("x-amz-checksum-crc32c", "yZRlqg=="), ("x-amz-sdk-checksum-algorithm", "CRC32")]),
            sdk_invalid
        );
        assert_eq!(
            rejected(&[("x-amz-trailer", "x-amz-checksum-crc64nvme"), ("x-amz-sdk-checksum-algorithm", "SHA1")]),
            sdk_invalid
        );
        assert!(rejected(&[("x-amz-sdk-checksum-algorithm", "CRC32")]).contains("no corresponding"));
    }
}
