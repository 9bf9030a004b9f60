//! The SigV4 canonical request and string to sign, written for S3's rules ("Authenticating
//! Requests (AWS Signature Version 4)" → "Signature Calculations for the Authorization Header"):
//! the canonical URI is the path URI-encoded once (no double encoding, no normalisation), the
//! canonical query sorts re-encoded `name=value` pairs (empty values kept as `name=`), and each
//! signed header's values are trimmed, whitespace-collapsed and comma-joined.

use http::HeaderMap;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use sha2::{Digest, Sha256};

/// Everything but RFC 3986 unreserved characters is encoded (AWS `UriEncode`).
const URI_ENCODE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// AWS `UriEncode` of a decoded string (`/` encoded too).
pub fn uri_encode(s: &str) -> String {
    utf8_percent_encode(s, URI_ENCODE).to_string()
}

fn decode(s: &str) -> std::borrow::Cow<'_, str> {
    percent_decode_str(s).decode_utf8_lossy()
}

/// The canonical URI of a raw request path: each segment decoded, then encoded once.
pub fn canonical_uri(raw_path: &str) -> String {
    if raw_path.is_empty() {
        return "/".to_string();
    }
    raw_path.split('/').map(|seg| uri_encode(&decode(seg))).collect::<Vec<_>>().join("/")
}

/// The canonical query string of a raw query, leaving out `skip` (e.g. `X-Amz-Signature`).
pub fn canonical_query(raw_query: Option<&str>, skip: Option<&str>) -> String {
    let mut pairs: Vec<(String, String)> = raw_query
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (uri_encode(&decode(k)), uri_encode(&decode(v)))
        })
        .filter(|(k, _)| Some(k.as_str()) != skip)
        .collect();
    pairs.sort();
    pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&")
}

/// One header's canonical value: every value trimmed, inner runs of spaces collapsed, joined by `,`.
fn header_value(headers: &HeaderMap, name: &str, authority: Option<&str>) -> String {
    let values: Vec<String> = headers
        .get_all(name)
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    if values.is_empty() && name == "host" {
        return authority.unwrap_or_default().to_string();
    }
    values.join(",")
}

/// The canonical request.
pub struct CanonicalRequest<'a> {
    pub method: &'a str,
    pub raw_path: &'a str,
    pub raw_query: Option<&'a str>,
    pub skip_query: Option<&'a str>,
    pub headers: &'a HeaderMap,
    /// The request target's authority (HTTP/2 has no `Host` header).
    pub authority: Option<&'a str>,
    pub signed_headers: &'a [String],
    pub payload_hash: &'a str,
    /// Use the path exactly as received instead of re-encoding it (a fallback for clients that
    /// sign an unencoded character such as `+` as they send it).
    pub verbatim_path: bool,
}

impl CanonicalRequest<'_> {
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(512);
        out.push_str(self.method);
        out.push('\n');
        if self.verbatim_path {
            out.push_str(if self.raw_path.is_empty() { "/" } else { self.raw_path });
        } else {
            out.push_str(&canonical_uri(self.raw_path));
        }
        out.push('\n');
        out.push_str(&canonical_query(self.raw_query, self.skip_query));
        out.push('\n');
        for name in self.signed_headers {
            out.push_str(name);
            out.push(':');
            out.push_str(&header_value(self.headers, name, self.authority));
            out.push('\n');
        }
        out.push('\n');
        out.push_str(&self.signed_headers.join(";"));
        out.push('\n');
        out.push_str(self.payload_hash);
        out
    }
}

/// The SigV4 string to sign for a canonical request.
pub fn string_to_sign(amz_date: &str, scope: &str, canonical_request: &str) -> String {
    format!("AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}", hex::encode(Sha256::digest(canonical_request.as_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_is_encoded_once_without_normalisation() {
        assert_eq!(canonical_uri("/test.txt"), "/test.txt");
        assert_eq!(canonical_uri("/test%24file.text"), "/test%24file.text");
        assert_eq!(canonical_uri("/test$file.text"), "/test%24file.text");
        assert_eq!(canonical_uri("/a%20b/c+d//./../e~"), "/a%20b/c%2Bd//./../e~");
        assert_eq!(canonical_uri("/caf%C3%A9"), "/caf%C3%A9");
        assert_eq!(canonical_uri(""), "/");
    }

    #[test]
    fn query_is_sorted_and_reencoded() {
        assert_eq!(canonical_query(Some("prefix=J&max-keys=2"), None), "max-keys=2&prefix=J");
        assert_eq!(canonical_query(Some("lifecycle"), None), "lifecycle=");
        assert_eq!(canonical_query(Some("acl="), None), "acl=");
        assert_eq!(canonical_query(Some("a=2&a=1&b=x%2Fy&c=x/y"), None), "a=1&a=2&b=x%2Fy&c=x%2Fy");
        assert_eq!(canonical_query(Some("X-Amz-Signature=abc&z=1"), Some("X-Amz-Signature")), "z=1");
        assert_eq!(canonical_query(None, None), "");
    }

    #[test]
    fn repeated_and_multi_space_headers() {
        let mut h = HeaderMap::new();
        h.append("x-amz-meta-a", "  one   two ".parse().unwrap());
        h.append("x-amz-meta-a", "three".parse().unwrap());
        assert_eq!(header_value(&h, "x-amz-meta-a", None), "one two,three");
        assert_eq!(header_value(&h, "host", Some("example.com:8000")), "example.com:8000");
    }
}
