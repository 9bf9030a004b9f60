//! SigV2 header authentication of incoming S3 requests, as AWS documents it in "Signing and
//! authenticating REST requests (AWS signature version 2)" (Amazon S3 User Guide,
//! `RESTAuthentication.html`):
//!
//! ```text
//! Authorization = "AWS" + " " + AWSAccessKeyId + ":" + Base64(HMAC-SHA1(secret, StringToSign))
//! StringToSign  = HTTP-Verb "\n" Content-MD5 "\n" Content-Type "\n" Date "\n"
//!                 CanonicalizedAmzHeaders CanonicalizedResource
//! ```
//!
//! When `x-amz-date` is sent it is the request time, the Date line is empty and `x-amz-date`
//! is signed among the other `x-amz-*` headers. The canonical resource is `/bucket` (virtual-hosted
//! requests only), the path exactly as received, then the listed sub-resources (values decoded).
//!
//! SigV2 signs neither the payload nor its length, so a verified request is
//! [`PayloadMode::Unsigned`]; a `Content-MD5`, when sent, is signed here and checked by the body
//! layer. Query-string (presigned) SigV2 is not handled here.

use crate::error::S3Result;
use crate::keys::{SecretStore, SigningKey};
use crate::s3_err;
use crate::signed::{ChunkSeed, MAX_SKEW, PayloadMode, Verified, signature_mismatch};
use base64::Engine;
use hmac::{Hmac, Mac};
use http::HeaderMap;
use lakegate_net::util::{constant_time_eq, parse_amz_date};
use percent_encoding::percent_decode_str;
use sha1::Sha1;
use std::time::{Duration, SystemTime};

/// The query parameters that are part of the CanonicalizedResource: the AWS page's list (acl …
/// website, the six `response-*` overrides, `delete`), plus those botocore and minio-go also sign
/// (cors, restore, select, select-type, tagging, torrent). Every other parameter is left out.
pub const SUB_RESOURCES: &[&str] = &[
    "acl",
    "cors",
    "delete",
    "lifecycle",
    "location",
    "logging",
    "notification",
    "partNumber",
    "policy",
    "requestPayment",
    "response-cache-control",
    "response-content-disposition",
    "response-content-encoding",
    "response-content-language",
    "response-content-type",
    "response-expires",
    "restore",
    "select",
    "select-type",
    "tagging",
    "torrent",
    "uploadId",
    "uploads",
    "versionId",
    "versioning",
    "versions",
    "website",
];

/// Verifies the SigV2 `authorization` (`AWS <AccessKeyId>:<Signature>`) of a request.
///
/// `bucket_from_host` is the bucket of a virtual-hosted request (`None` when path-style or
/// bucket-less); it prefixes the CanonicalizedResource as `/bucket`.
pub fn verify_v2<K: SigningKey>(
    parts: &http::request::Parts,
    authorization: &str,
    store: &dyn SecretStore<K>,
    now: SystemTime,
    bucket_from_host: Option<&str>,
) -> S3Result<Verified<K>> {
    let (access_key_id, signature) = parse_authorization(authorization)?;
    check_skew(request_time(&parts.headers)?, now)?;
    if header_str(&parts.headers, "x-amz-content-sha256").is_some_and(|v| v.starts_with("STREAMING-")) {
        return Err(s3_err!(InvalidRequest, "aws-chunked (STREAMING-…) payloads require Signature Version 4"));
    }
    let key = store.lookup(access_key_id).ok_or_else(|| {
        s3_err!(InvalidAccessKeyId, "The AWS Access Key Id you provided does not exist in our records.")
    })?;
    let date_line = match parts.headers.contains_key("x-amz-date") {
        true => &[][..],
        false => header_bytes(&parts.headers, "date"),
    };
    check_signature(parts, date_line, bucket_from_host, key.secret_access_key(), signature)?;
    Ok(unsigned(key))
}

/// Verifies a SigV2 presigned URL (`AWSAccessKeyId`, `Signature`, `Expires` query parameters):
/// the string to sign carries `Expires` on its Date line.
pub fn verify_v2_presigned<K: SigningKey>(
    parts: &http::request::Parts,
    store: &dyn SecretStore<K>,
    now: SystemTime,
    bucket_from_host: Option<&str>,
) -> S3Result<Verified<K>> {
    let param = |name: &str| {
        form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    let (Some(access_key_id), Some(signature), Some(expires)) =
        (param("AWSAccessKeyId"), param("Signature"), param("Expires"))
    else {
        return Err(s3_err!(
            AccessDenied,
            "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters"
        ));
    };
    let deadline: u64 = expires
        .parse()
        .map_err(|_| s3_err!(AccessDenied, "Invalid date (should be seconds since epoch): {expires}"))?;
    if now > std::time::UNIX_EPOCH + std::time::Duration::from_secs(deadline) {
        return Err(s3_err!(AccessDenied, "Request has expired"));
    }
    let key = store.lookup(&access_key_id).ok_or_else(|| {
        s3_err!(InvalidAccessKeyId, "The AWS Access Key Id you provided does not exist in our records.")
    })?;
    check_signature(parts, expires.as_bytes(), bucket_from_host, key.secret_access_key(), &signature)?;
    Ok(unsigned(key))
}

/// Compares `signature` with the one computed for the request. A path-style request for a bucket
/// alone (`/bucket`, no key) is also accepted when signed for `/bucket/`: botocore's SigV2 signer
/// signs that resource while sending `/bucket`, and both name the same bucket.
fn check_signature(
    parts: &http::request::Parts,
    date_line: &[u8],
    bucket_from_host: Option<&str>,
    secret: &str,
    signature: &str,
) -> S3Result<()> {
    let sts = string_to_sign(parts, date_line, bucket_from_host);
    if constant_time_eq(sign(secret, &sts).as_bytes(), signature.as_bytes()) {
        return Ok(());
    }
    let path = parts.uri.path();
    if bucket_from_host.is_none() && path.len() > 1 && !path[1..].contains('/') {
        let res = canonical_resource(path, parts.uri.query(), None);
        let with_slash = string_to_sign_with_resource(parts, date_line, &with_trailing_slash(&res, path.len()));
        if constant_time_eq(sign(secret, &with_slash).as_bytes(), signature.as_bytes()) {
            return Ok(());
        }
    }
    tracing::debug!(string_to_sign = %String::from_utf8_lossy(&sts), "SigV2 signature mismatch");
    Err(signature_mismatch())
}

/// `resource` with `/` inserted after its first `path_len` bytes (the path, before any `?`).
fn with_trailing_slash(resource: &[u8], path_len: usize) -> Vec<u8> {
    let mut out = resource[..path_len].to_vec();
    out.push(b'/');
    out.extend_from_slice(&resource[path_len..]);
    out
}

/// What a good SigV2 signature establishes: who signed, and nothing about the body.
fn unsigned<K: SigningKey>(key: K) -> Verified<K> {
    Verified {
        access_key_id: key.access_key_id().to_string(),
        key,
        payload: PayloadMode::Unsigned,
        // SigV2 has no chunk-signature chain (signed aws-chunked bodies exist only in SigV4), and
        // with an unsigned payload the body layer never builds a chunk signer from the seed; the
        // empty key would fail its 32-byte length check rather than verify anything.
        seed: ChunkSeed {
            signing_key: Vec::new(),
            amz_date: String::new(),
            scope: String::new(),
            seed_signature: String::new(),
        },
        presigned: false,
    }
}

/// Splits `AWS <AccessKeyId>:<Signature>`; S3 answers a malformed one with 400 InvalidArgument.
fn parse_authorization(authorization: &str) -> S3Result<(&str, &str)> {
    let credentials = authorization.strip_prefix("AWS ").unwrap_or_default();
    match credentials.split_once(':') {
        Some((ak, sig)) if !ak.is_empty() && !sig.is_empty() && !credentials.contains(char::is_whitespace) => {
            Ok((ak, sig))
        }
        _ => Err(s3_err!(InvalidArgument, "AWS authorization header is invalid.  Expected AwsAccessKeyId:signature")),
    }
}

/// The request time: `x-amz-date` when present (even if invalid), else `Date`.
fn request_time(headers: &HeaderMap) -> S3Result<SystemTime> {
    let value = match headers.contains_key("x-amz-date") {
        true => header_str(headers, "x-amz-date"),
        false => header_str(headers, "date"),
    };
    value
        .and_then(parse_date)
        .ok_or_else(|| s3_err!(AccessDenied, "AWS authentication requires a valid Date or x-amz-date header"))
}

fn check_skew(time: SystemTime, now: SystemTime) -> S3Result<()> {
    let skew = time.duration_since(now).or_else(|_| now.duration_since(time)).unwrap_or_default();
    if skew > MAX_SKEW {
        return Err(s3_err!(
            RequestTimeTooSkewed,
            "The difference between the request time and the current time is too large."
        ));
    }
    Ok(())
}

/// Parses an RFC 2616 date (IMF-fixdate, RFC 850, asctime), also with a numeric zone as in
/// `Tue, 27 Mar 2007 19:36:42 +0000` (the form AWS's examples use). Times before 1970 are `None`.
pub fn parse_date(s: &str) -> Option<SystemTime> {
    httpdate::parse_http_date(s).ok().or_else(|| parse_rfc1123_zoned(s))
}

fn parse_rfc1123_zoned(s: &str) -> Option<SystemTime> {
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let words: Vec<&str> = s.split_ascii_whitespace().collect();
    let rest = match words.as_slice() {
        [weekday, rest @ ..] if weekday.ends_with(',') => rest,
        all => all,
    };
    let &[day, month, year, time, zone] = rest else {
        return None;
    };
    let month = MONTHS.iter().position(|m| m.eq_ignore_ascii_case(month))? + 1;
    let t = time.as_bytes();
    if day.len() > 2 || year.len() != 4 || t.len() != 8 || t[2] != b':' || t[5] != b':' {
        return None;
    }
    let basic = format!("{year}{month:02}{day:0>2}T{}{}{}Z", &time[..2], &time[3..5], &time[6..]);
    if !basic.bytes().enumerate().all(|(i, b)| i == 8 || i == 15 || b.is_ascii_digit()) {
        return None;
    }
    let utc = parse_amz_date(&basic)?;
    let offset = zone_offset(zone)?;
    match offset >= 0 {
        true => utc.checked_sub(Duration::from_secs(offset.unsigned_abs())),
        false => utc.checked_add(Duration::from_secs(offset.unsigned_abs())),
    }
}

/// Seconds east of UTC of `GMT`, `UT`, `UTC`, `Z` or `±hhmm`.
fn zone_offset(zone: &str) -> Option<i64> {
    if ["GMT", "UT", "UTC", "Z"].iter().any(|z| z.eq_ignore_ascii_case(zone)) {
        return Some(0);
    }
    let (sign, digits) = match zone.as_bytes().first()? {
        b'+' => (1, &zone[1..]),
        b'-' => (-1, &zone[1..]),
        _ => return None,
    };
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (h, m): (i64, i64) = (digits[..2].parse().ok()?, digits[2..].parse().ok()?);
    (h < 24 && m < 60).then_some(sign * (h * 3600 + m * 60))
}

/// The StringToSign; `date_line` is the Date element (empty when `x-amz-date` is sent; the
/// `Expires` value for query-string auth).
pub fn string_to_sign(parts: &http::request::Parts, date_line: &[u8], bucket_from_host: Option<&str>) -> Vec<u8> {
    let resource = canonical_resource(parts.uri.path(), parts.uri.query(), bucket_from_host);
    string_to_sign_with_resource(parts, date_line, &resource)
}

/// The StringToSign for a given CanonicalizedResource.
fn string_to_sign_with_resource(parts: &http::request::Parts, date_line: &[u8], resource: &[u8]) -> Vec<u8> {
    let h = &parts.headers;
    let mut sts = Vec::with_capacity(256);
    for line in
        [parts.method.as_str().as_bytes(), header_bytes(h, "content-md5"), header_bytes(h, "content-type"), date_line]
    {
        sts.extend_from_slice(line.trim_ascii());
        sts.push(b'\n');
    }
    sts.extend(canonical_amz_headers(h));
    sts.extend_from_slice(resource);
    sts
}

/// `name:value[,value…]\n` for every `x-amz-*` header, by lower-case name; values trimmed and
/// unfolded, repeated headers joined by commas in the order received.
pub fn canonical_amz_headers(headers: &HeaderMap) -> Vec<u8> {
    let mut names: Vec<&str> = headers.keys().map(|n| n.as_str()).filter(|n| n.starts_with("x-amz-")).collect();
    names.sort_unstable();
    let mut out = Vec::new();
    for name in names {
        out.extend_from_slice(name.as_bytes());
        out.push(b':');
        for (i, value) in headers.get_all(name).iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend(unfold(value.as_bytes()));
        }
        out.push(b'\n');
    }
    out
}

/// Trims a header value and replaces each line fold (newline plus surrounding blanks) by one
/// space. (`http` refuses CR/LF in values, so only the trim matters for requests it parsed.)
fn unfold(value: &[u8]) -> Vec<u8> {
    let lines: Vec<&[u8]> = value.split(|&b| b == b'\n').map(<[u8]>::trim_ascii).collect();
    lines.join(&b' ')
}

/// `[/bucket]` + the undecoded path + `?` and the listed sub-resources sorted by name
/// (`name` or `name=decoded value`, `&`-separated). An empty value signs as the bare name.
pub fn canonical_resource(raw_path: &str, raw_query: Option<&str>, bucket_from_host: Option<&str>) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw_path.len() + 32);
    if let Some(bucket) = bucket_from_host {
        out.push(b'/');
        out.extend_from_slice(bucket.as_bytes());
    }
    out.extend_from_slice(raw_path.as_bytes());
    let mut subs: Vec<(&str, &str)> = raw_query
        .into_iter()
        .flat_map(|q| q.split('&'))
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .filter(|(k, _)| SUB_RESOURCES.contains(k))
        .collect();
    subs.sort_by_key(|&(k, _)| k);
    for (i, (k, v)) in subs.into_iter().enumerate() {
        out.push(if i == 0 { b'?' } else { b'&' });
        out.extend_from_slice(k.as_bytes());
        if !v.is_empty() {
            out.push(b'=');
            out.extend(percent_decode_str(v));
        }
    }
    out
}

/// Base64(HMAC-SHA1(secret, string_to_sign)).
pub fn sign(secret_access_key: &str, string_to_sign: &[u8]) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(secret_access_key.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(string_to_sign);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// The first value of `name`, as bytes (empty when absent).
fn header_bytes<'a>(headers: &'a HeaderMap, name: &str) -> &'a [u8] {
    headers.get(name).map_or(&[][..], |v| v.as_bytes())
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

#[cfg(test)]
mod tests;
