//! Bucket and key from the request target: path-style (`/bucket/key`) and virtual-hosted style
//! (`bucket.<base domain>/key`), as described in "Virtual hosting of buckets" (Amazon S3 User Guide)
//! and the `Bucket`/`Key` URI parameters of the Amazon S3 API Reference.
//!
//! S3 does no path normalisation: `a//b`, `./x`, `../x` and a trailing `/` are literal key bytes, and
//! the path is percent-decoded exactly once (`%2F` is a `/` in the key, `+` stays a plus). Bucket names
//! are not validated here beyond being non-empty; repository naming is the lakeFS layer's job.

use crate::error::S3Result;
use crate::s3_err;
use percent_encoding::percent_decode_str;
use std::borrow::Cow;
use std::net::{Ipv4Addr, Ipv6Addr};

/// S3's limit on the UTF-8 length of an object key.
pub const MAX_KEY_BYTES: usize = 1024;

/// Where a request points: the service (no bucket), a bucket, or an object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Addressed {
    /// The bucket (lakeFS repository), decoded; `None` for service-level requests (`GET /`).
    pub bucket: Option<String>,
    /// The object key, decoded once; `None` when the path stops at the bucket.
    pub key: Option<String>,
    /// Whether the bucket came from the Host header rather than the path.
    pub virtual_host: bool,
}

/// Splits a request into bucket and key.
///
/// `host` is the Host header (or `:authority`), `raw_path` the still-encoded path without the query
/// string, `base_domains` the configured endpoint names (e.g. `s3.example.com`) under which
/// `<bucket>.<base domain>` selects virtual-hosted style. Any other host, an IP literal or a missing
/// host means path-style.
///
/// # Errors
/// `InvalidArgument` when the path does not start with `/` or does not decode to UTF-8,
/// `InvalidBucketName` for an empty bucket segment (`//key`), `KeyTooLongError` for keys over
/// 1024 bytes.
pub fn split_bucket_key(host: Option<&str>, raw_path: &str, base_domains: &[String]) -> S3Result<Addressed> {
    let path = match raw_path {
        "" => "/",
        p if p.starts_with('/') => p,
        _ => return Err(s3_err!(InvalidArgument, "Invalid URI: the path must start with '/'")),
    };
    match host.and_then(|h| bucket_from_host(h, base_domains)) {
        Some(bucket) => Ok(Addressed { bucket: Some(bucket), key: key_from(&path[1..])?, virtual_host: true }),
        None => path_style(&path[1..]),
    }
}

/// `bucket[/key]` (the path without its leading `/`).
fn path_style(rest: &str) -> S3Result<Addressed> {
    if rest.is_empty() {
        return Ok(Addressed::default());
    }
    let (bucket, key) = match rest.split_once('/') {
        Some((bucket, key)) => (bucket, key),
        None => (rest, ""),
    };
    if bucket.is_empty() {
        return Err(s3_err!(InvalidBucketName, "The specified bucket is not valid: it is empty"));
    }
    Ok(Addressed { bucket: Some(decode(bucket)?.into_owned()), key: key_from(key)?, virtual_host: false })
}

/// The decoded key, `None` when empty.
fn key_from(encoded: &str) -> S3Result<Option<String>> {
    if encoded.is_empty() {
        return Ok(None);
    }
    let key = decode(encoded)?;
    if key.len() > MAX_KEY_BYTES {
        return Err(s3_err!(
            KeyTooLongError,
            "Your key is too long: {} bytes, the maximum is {MAX_KEY_BYTES}",
            key.len()
        ));
    }
    Ok(Some(key.into_owned()))
}

/// Percent-decodes once; `+` is a literal plus in a path. A `%` not followed by two hex digits
/// is `InvalidURI` (the path cannot be parsed), not a literal `%`.
fn decode(encoded: &str) -> S3Result<Cow<'_, str>> {
    let b = encoded.as_bytes();
    let bad_escape = b.iter().enumerate().any(|(i, &c)| {
        c == b'%'
            && !(b.get(i + 1).is_some_and(u8::is_ascii_hexdigit) && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
    });
    if bad_escape {
        return Err(s3_err!(InvalidURI, "Couldn't parse the specified URI: a '%' is not followed by two hex digits."));
    }
    percent_decode_str(encoded)
        .decode_utf8()
        .map_err(|_| s3_err!(InvalidArgument, "Invalid URI: the path is not valid UTF-8 once decoded"))
}

/// The bucket named by a virtual-hosted style Host, or `None` for path-style.
///
/// A host equal to a base domain is path-style even when it also ends with another base domain; with
/// several matching base domains the longest wins (`b.s3.example.com` under `s3.example.com` and
/// `example.com` is bucket `b`).
fn bucket_from_host(host: &str, base_domains: &[String]) -> Option<String> {
    let host = normalize_host(host)?;
    let bases: Vec<String> = base_domains.iter().filter_map(|b| normalize_host(b)).collect();
    if bases.contains(&host) {
        return None;
    }
    bases
        .iter()
        .filter_map(|base| {
            let label = host.strip_suffix(base.as_str())?.strip_suffix('.')?;
            (!label.is_empty()).then_some((base.len(), label))
        })
        .max_by_key(|(len, _)| *len)
        .map(|(_, label)| label.to_owned())
}

/// Lower-cased host without port or trailing dot; `None` for IP literals and empty hosts.
fn normalize_host(host: &str) -> Option<String> {
    let host = host.trim();
    if host.starts_with('[') || host.parse::<Ipv6Addr>().is_ok() {
        return None;
    }
    let host = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    let host = host.trim_start_matches('.').trim_end_matches('.');
    if host.is_empty() || host.parse::<Ipv4Addr>().is_ok() {
        return None;
    }
    Some(host.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::S3ErrorCode;

    fn bases() -> Vec<String> {
        vec!["s3.example.com".into(), "Example.COM".into(), "localhost".into()]
    }

    /// (host, raw path, bucket, key, virtual host)
    type Case = (Option<&'static str>, &'static str, Option<&'static str>, Option<&'static str>, bool);

    const CASES: &[Case] = &[
        // Path-style: base domain, IPs, localhost, unknown or missing host.
        (Some("s3.example.com"), "/", None, None, false),
        (Some("s3.example.com"), "", None, None, false),
        (Some("s3.example.com"), "/b", Some("b"), None, false),
        (Some("s3.example.com"), "/b/", Some("b"), None, false),
        (Some("s3.example.com"), "/b/k", Some("b"), Some("k"), false),
        (Some("S3.Example.Com:9000"), "/b/k", Some("b"), Some("k"), false),
        (Some("example.com"), "/b/k", Some("b"), Some("k"), false),
        (Some("127.0.0.1"), "/b/k", Some("b"), Some("k"), false),
        (Some("127.0.0.1:8000"), "/b/k", Some("b"), Some("k"), false),
        (Some("[::1]:8000"), "/b/k", Some("b"), Some("k"), false),
        (Some("[2001:db8::1]"), "/b/k", Some("b"), Some("k"), false),
        (Some("localhost:8000"), "/b/k", Some("b"), Some("k"), false),
        (Some("other.host.org"), "/b/k", Some("b"), Some("k"), false),
        (Some(""), "/b/k", Some("b"), Some("k"), false),
        (None, "/b/k", Some("b"), Some("k"), false),
        (None, "/", None, None, false),
        // Keys are literal bytes: no normalisation, one decoding.
        (None, "/b/a//b", Some("b"), Some("a//b"), false),
        (None, "/b/./x", Some("b"), Some("./x"), false),
        (None, "/b/../x", Some("b"), Some("../x"), false),
        (None, "/b/dir/", Some("b"), Some("dir/"), false),
        (None, "/b//", Some("b"), Some("/"), false),
        (None, "/b/a%2Fb", Some("b"), Some("a/b"), false),
        (None, "/b/a%252F", Some("b"), Some("a%2F"), false),
        (None, "/b/with%20space", Some("b"), Some("with space"), false),
        (None, "/b/with space", Some("b"), Some("with space"), false),
        (None, "/b/a+b", Some("b"), Some("a+b"), false),
        (None, "/b/a%2Bb", Some("b"), Some("a+b"), false),
        (None, "/b/%C3%A9t%C3%A9/%E2%9C%93", Some("b"), Some("été/✓"), false),
        (None, "/b/été", Some("b"), Some("été"), false),
        (None, "/my%2Erepo/k", Some("my.repo"), Some("k"), false),
        // Virtual-hosted style.
        (Some("b.s3.example.com"), "/", Some("b"), None, true),
        (Some("b.s3.example.com"), "", Some("b"), None, true),
        (Some("b.s3.example.com"), "/k", Some("b"), Some("k"), true),
        (Some("b.s3.example.com:9000"), "/k/x", Some("b"), Some("k/x"), true),
        (Some("B.S3.EXAMPLE.COM"), "/Key", Some("b"), Some("Key"), true),
        (Some("b.s3.example.com."), "/k", Some("b"), Some("k"), true),
        (Some("a.b.s3.example.com"), "/k", Some("a.b"), Some("k"), true),
        (Some("b.example.com"), "/k", Some("b"), Some("k"), true),
        (Some("b.localhost:8000"), "/k", Some("b"), Some("k"), true),
        (Some("b.s3.example.com"), "//k", Some("b"), Some("/k"), true),
        (Some("b.s3.example.com"), "/b2/k", Some("b"), Some("b2/k"), true),
        (Some("b.s3.example.com"), "/a%2Fb+c%20d", Some("b"), Some("a/b+c d"), true),
        (Some("s3.example.com.evil.org"), "/b/k", Some("b"), Some("k"), false),
        (Some("xs3.example.com"), "/b/k", Some("xs3"), Some("b/k"), true),
    ];

    #[test]
    fn addressing_table() {
        let bases = bases();
        for (host, path, bucket, key, vhost) in CASES {
            let got = split_bucket_key(*host, path, &bases).unwrap_or_else(|e| panic!("{host:?} {path}: {e}"));
            let want = Addressed { bucket: bucket.map(String::from), key: key.map(String::from), virtual_host: *vhost };
            assert_eq!(got, want, "host {host:?} path {path:?}");
        }
    }

    #[test]
    fn longest_base_domain_wins() {
        let bases = vec!["example.com".to_owned(), "s3.example.com".to_owned()];
        let got = split_bucket_key(Some("b.s3.example.com"), "/k", &bases).unwrap();
        assert_eq!(got.bucket.as_deref(), Some("b"));
        // A host that is itself a base domain is path-style, not bucket "s3" under "example.com".
        let got = split_bucket_key(Some("s3.example.com"), "/b/k", &bases).unwrap();
        assert_eq!((got.bucket.as_deref(), got.virtual_host), (Some("b"), false));
    }

    #[test]
    fn no_base_domains_means_path_style() {
        let got = split_bucket_key(Some("b.s3.example.com"), "/b2/k", &[]).unwrap();
        assert_eq!((got.bucket.as_deref(), got.key.as_deref()), (Some("b2"), Some("k")));
    }

    #[test]
    fn errors() {
        let bases = bases();
        let long = format!("/b/{}", "k".repeat(MAX_KEY_BYTES + 1));
        let long_encoded = format!("/b/{}", "%C3%A9".repeat(MAX_KEY_BYTES / 2 + 1));
        for (host, path, code) in [
            (None, "/b/%FF", S3ErrorCode::InvalidArgument),
            (None, "/b/%C3", S3ErrorCode::InvalidArgument),
            (Some("b.s3.example.com"), "/%FF", S3ErrorCode::InvalidArgument),
            (None, "/%FF/k", S3ErrorCode::InvalidArgument),
            (None, "/b/a%G1", S3ErrorCode::InvalidURI),
            (None, "/b/a%", S3ErrorCode::InvalidURI),
            (None, "/b/a%2", S3ErrorCode::InvalidURI),
            (None, "/b/100%", S3ErrorCode::InvalidURI),
            (None, "/b%zz/k", S3ErrorCode::InvalidURI),
            (None, "b/k", S3ErrorCode::InvalidArgument),
            (None, "*", S3ErrorCode::InvalidArgument),
            (None, "//k", S3ErrorCode::InvalidBucketName),
            (None, "//", S3ErrorCode::InvalidBucketName),
            (None, long.as_str(), S3ErrorCode::KeyTooLongError),
            (None, long_encoded.as_str(), S3ErrorCode::KeyTooLongError),
            (Some("b.s3.example.com"), &long[2..], S3ErrorCode::KeyTooLongError),
        ] {
            let err = split_bucket_key(host, path, &bases).expect_err(path);
            assert_eq!(err.code, code, "{host:?} {path}");
        }
    }

    #[test]
    fn key_of_exactly_1024_bytes_is_accepted() {
        let path = format!("/b/{}", "k".repeat(MAX_KEY_BYTES));
        let got = split_bucket_key(None, &path, &[]).unwrap();
        assert_eq!(got.key.map(|k| k.len()), Some(MAX_KEY_BYTES));
    }

    proptest::proptest! {
        #[test]
        fn any_key_survives_one_encoding(key in "\\PC{1,200}") {
            use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
            let encoded = utf8_percent_encode(&key, NON_ALPHANUMERIC).to_string();
            let vhost = (Some("b.s3.example.com"), format!("/{encoded}"));
            for (host, path) in [(None, format!("/b/{encoded}")), vhost] {
                let got = split_bucket_key(host, &path, &bases()).unwrap();
                proptest::prop_assert_eq!(got.bucket.as_deref(), Some("b"));
                proptest::prop_assert_eq!(got.key.as_deref(), Some(key.as_str()));
            }
        }
    }
}
