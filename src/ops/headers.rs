//! Object headers between S3 and lakeFS: user metadata (`x-amz-meta-*` ↔ lakeFS metadata keys
//! `X-Amz-Meta-<lower-case name>`, the convention of lakeFS's own S3 gateway), stored checksums,
//! and the conditional-request headers of GetObject/HeadObject (RFC 9110 §13, as S3 applies them).

use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use lakefs_api::dto::ObjectStats;
use s3_wire::S3Result;
use s3_wire::s3_err;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// lakeFS metadata key prefix for S3 user metadata.
pub const META_PREFIX: &str = "X-Amz-Meta-";
/// lakeFS metadata key prefix for the additional checksum of an object.
pub const CHECKSUM_PREFIX: &str = "X-Amz-Checksum-";
/// lakeFS metadata key prefix for representation headers S3 stores with an object.
pub const STORED_PREFIX: &str = "X-Lakegate-Header-";
/// Representation headers S3 stores at upload and returns on GET/HEAD.
pub const STORED_HEADERS: [&str; 5] =
    ["cache-control", "content-disposition", "content-encoding", "content-language", "expires"];
/// S3's limit on user metadata (names and values, UTF-8 bytes).
pub const MAX_USER_METADATA: usize = 2048;

/// The lakeFS metadata for a request's `x-amz-meta-*` headers (`MetadataTooLarge` over 2 KiB).
pub fn request_metadata(headers: &HeaderMap) -> S3Result<std::collections::BTreeMap<String, String>> {
    let mut out = std::collections::BTreeMap::new();
    let mut size = 0;
    for (k, v) in headers {
        let Some(name) = k.as_str().strip_prefix("x-amz-meta-") else {
            continue;
        };
        let v =
            std::str::from_utf8(v.as_bytes()).map_err(|_| s3_err!(InvalidArgument, "metadata values must be UTF-8"))?;
        size += name.len() + v.len();
        let entry: &mut String = out.entry(format!("{META_PREFIX}{name}")).or_default();
        if !entry.is_empty() {
            entry.push(',');
        }
        entry.push_str(v);
    }
    if size > MAX_USER_METADATA {
        return Err(s3_err!(
            MetadataTooLarge,
            "Your metadata headers exceed the maximum allowed metadata size ({MAX_USER_METADATA} bytes)."
        ));
    }
    Ok(out)
}

/// Writes the stored representation headers of an object.
pub fn put_stored_headers(headers: &mut HeaderMap, stats: &ObjectStats) {
    for (k, v) in stats.metadata.iter().flatten() {
        let stored = k.get(..STORED_PREFIX.len()).is_some_and(|p| p.eq_ignore_ascii_case(STORED_PREFIX));
        let Some(name) = stored.then(|| &k[STORED_PREFIX.len()..]) else {
            continue;
        };
        if let (Ok(n), Ok(v)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(v)) {
            headers.insert(n, v);
        }
    }
}

/// `Last-Modified` of a Unix time.
pub fn http_date(unix: i64) -> String {
    httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(unix.max(0) as u64))
}

pub fn value(v: &str) -> S3Result<HeaderValue> {
    HeaderValue::from_str(v).map_err(|_| s3_wire::S3Error::internal(format!("invalid header value {v:?}")))
}

/// Writes `x-amz-meta-*` headers from lakeFS metadata; returns how many could not be represented.
pub fn put_user_metadata(headers: &mut HeaderMap, stats: &ObjectStats) -> usize {
    let mut missing = 0;
    for (k, v) in stats.metadata.iter().flatten() {
        let Some(name) =
            k.get(..META_PREFIX.len()).filter(|p| p.eq_ignore_ascii_case(META_PREFIX)).map(|_| &k[META_PREFIX.len()..])
        else {
            continue;
        };
        let header = HeaderName::from_bytes(format!("x-amz-meta-{}", name.to_ascii_lowercase()).as_bytes());
        match (header, HeaderValue::from_str(&rfc2047(v))) {
            (Ok(h), Ok(v)) => {
                headers.append(h, v);
            }
            _ => missing += 1,
        }
    }
    missing
}

/// A metadata value as S3 returns it: printable ASCII as is, anything else RFC 2047-encoded
/// (`=?UTF-8?B?…?=`), as the S3 User Guide documents for user-defined metadata.
pub fn rfc2047(v: &str) -> std::borrow::Cow<'_, str> {
    if v.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return std::borrow::Cow::Borrowed(v);
    }
    use base64::Engine;
    std::borrow::Cow::Owned(format!("=?UTF-8?B?{}?=", base64::engine::general_purpose::STANDARD.encode(v.as_bytes())))
}

/// The stored additional checksum (`x-amz-checksum-<alg>`, value), if any.
pub fn stored_checksum(stats: &ObjectStats) -> Option<(String, String)> {
    stats.metadata.iter().flatten().find_map(|(k, v)| {
        let alg = k.get(..CHECKSUM_PREFIX.len()).filter(|p| p.eq_ignore_ascii_case(CHECKSUM_PREFIX))?;
        Some((format!("x-amz-checksum-{}", k[alg.len()..].to_ascii_lowercase()), v.clone()))
    })
}

/// Whether an `If-Match`-style list names `etag`. As S3 does, quotes (and a weak `W/` prefix) do
/// not matter: clients such as minio-py send ETags unquoted.
fn etag_matches(list: &str, etag: &str) -> bool {
    let bare = |t: &str| t.trim().trim_start_matches("W/").trim_matches('"').to_string();
    let etag = bare(etag);
    list.split(',').map(str::trim).any(|t| t == "*" || bare(t) == etag)
}

fn header_date(headers: &HeaderMap, name: &str) -> Option<SystemTime> {
    headers.get(name)?.to_str().ok().and_then(|v| httpdate::parse_http_date(v).ok())
}

/// Evaluates `If-Match`, `If-Unmodified-Since`, `If-None-Match`, `If-Modified-Since`:
/// `Ok(Some(304))` when the client's copy is current, `Err(PreconditionFailed)` when a
/// precondition fails, `Ok(None)` to proceed.
pub fn evaluate_conditions(headers: &HeaderMap, etag: &str, mtime: i64) -> S3Result<Option<StatusCode>> {
    let modified = UNIX_EPOCH + Duration::from_secs(mtime.max(0) as u64);
    let text = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
    let failed = || Err(s3_err!(PreconditionFailed, "At least one of the pre-conditions you specified did not hold"));
    match text("if-match") {
        Some(list) if !etag_matches(list, etag) => return failed(),
        Some(_) => {}
        None => {
            if header_date(headers, "if-unmodified-since").is_some_and(|d| modified > d) {
                return failed();
            }
        }
    }
    match text("if-none-match") {
        Some(list) if etag_matches(list, etag) => Ok(Some(StatusCode::NOT_MODIFIED)),
        Some(_) => Ok(None),
        None if header_date(headers, "if-modified-since").is_some_and(|d| modified <= d) => {
            Ok(Some(StatusCode::NOT_MODIFIED))
        }
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lakefs_api::dto::PathType;

    fn stats(meta: &[(&str, &str)]) -> ObjectStats {
        ObjectStats {
            path: "p".into(),
            path_type: PathType::Object,
            physical_address: String::new(),
            physical_address_expiry: None,
            checksum: "abc".into(),
            size_bytes: Some(1),
            mtime: 1000,
            metadata: Some(meta.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()),
            content_type: None,
        }
    }

    #[test]
    fn request_metadata_is_bounded() {
        let mut h = HeaderMap::new();
        h.insert("x-amz-meta-color", "red".parse().unwrap());
        h.insert("content-type", "x".parse().unwrap());
        let m = request_metadata(&h).unwrap();
        assert_eq!(m.into_iter().collect::<Vec<_>>(), [("X-Amz-Meta-color".to_string(), "red".to_string())]);
        h.insert("x-amz-meta-big", "v".repeat(2040).parse().unwrap());
        assert_eq!(request_metadata(&h).unwrap_err().code, s3_wire::S3ErrorCode::MetadataTooLarge);
    }

    #[test]
    fn user_metadata_round_trips_lakefs_gateway_keys() {
        let mut h = HeaderMap::new();
        let s =
            stats(&[("X-Amz-Meta-color", "red"), ("x-amz-meta-Size", "L"), ("other", "x"), ("X-Amz-Meta-bad", "a\nb")]);
        assert_eq!(put_user_metadata(&mut h, &s), 0);
        assert_eq!(h["x-amz-meta-bad"], "=?UTF-8?B?YQpi?=");
        assert_eq!(h["x-amz-meta-color"], "red");
        assert_eq!(h["x-amz-meta-size"], "L");
        assert_eq!(h.len(), 3);
        assert_eq!(rfc2047("Zürich"), "=?UTF-8?B?WsO8cmljaA==?=");
        assert_eq!(rfc2047("plain ascii"), "plain ascii");
        assert_eq!(
            stored_checksum(&stats(&[("X-Amz-Checksum-Crc32", "AAAA")])),
            Some(("x-amz-checksum-crc32".into(), "AAAA".into()))
        );
    }

    #[test]
    fn conditional_headers() {
        let etag = "\"abc\"";
        let h = |pairs: &[(&str, &str)]| {
            let mut m = HeaderMap::new();
            for (k, v) in pairs {
                m.insert(HeaderName::from_bytes(k.as_bytes()).unwrap(), v.parse().unwrap());
            }
            m
        };
        let old = "Thu, 01 Jan 1970 00:00:00 GMT";
        let new = "Sat, 21 Nov 2026 00:00:00 GMT";
        assert_eq!(evaluate_conditions(&h(&[]), etag, 1000).unwrap(), None);
        assert_eq!(
            evaluate_conditions(&h(&[("if-none-match", "\"abc\"")]), etag, 1000).unwrap(),
            Some(StatusCode::NOT_MODIFIED)
        );
        assert_eq!(evaluate_conditions(&h(&[("if-none-match", "\"x\"")]), etag, 1000).unwrap(), None);
        assert!(evaluate_conditions(&h(&[("if-match", "\"x\"")]), etag, 1000).is_err());
        assert_eq!(evaluate_conditions(&h(&[("if-match", "\"x\", \"abc\"")]), etag, 1000).unwrap(), None);
        assert_eq!(evaluate_conditions(&h(&[("if-match", "abc")]), etag, 1000).unwrap(), None, "unquoted, as S3");
        assert_eq!(
            evaluate_conditions(&h(&[("if-none-match", "abc")]), etag, 1000).unwrap(),
            Some(StatusCode::NOT_MODIFIED)
        );
        assert!(evaluate_conditions(&h(&[("if-match", "ab")]), etag, 1000).is_err());
        assert!(evaluate_conditions(&h(&[("if-unmodified-since", old)]), etag, 1000).is_err());
        assert_eq!(
            evaluate_conditions(&h(&[("if-match", "*"), ("if-unmodified-since", old)]), etag, 1000).unwrap(),
            None
        );
        assert_eq!(
            evaluate_conditions(&h(&[("if-modified-since", new)]), etag, 1000).unwrap(),
            Some(StatusCode::NOT_MODIFIED)
        );
        assert_eq!(evaluate_conditions(&h(&[("if-modified-since", old)]), etag, 1000).unwrap(), None);
    }
}
