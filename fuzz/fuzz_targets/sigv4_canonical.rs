//! Fuzz target: the SigV4 canonicaliser and credential parsers on arbitrary input — raw paths and
//! queries (`canonical_uri`, `canonical_query`), `Authorization` header values
//! (`parse_authorization`), and whole requests through `verify`. Nothing may panic.
//!
//! Run: `cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run sigv4_canonical` (cargo-fuzz from crates.io;
//! `RUSTC_BOOTSTRAP=1` lets it use the nightly-only sanitizer flags on the stable toolchain).

#![no_main]

use s3_wire::keys::PlainKeys;
use s3_wire::sigv4::{canonical, parse, verify};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(3, '\n');
    let (path, query, auth) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let _ = canonical::canonical_uri(path);
    let _ = canonical::canonical_query(Some(query), Some("X-Amz-Signature"));
    let _ = parse::parse_authorization(auth);
    let uri = format!("/{}?{}", path.trim_start_matches('/'), query);
    let Ok(mut req) = http::Request::builder().uri(uri.as_str()).body(()) else { return };
    if let Ok(v) = http::HeaderValue::from_str(auth) {
        req.headers_mut().insert("authorization", v);
    }
    req.headers_mut().insert("x-amz-date", http::HeaderValue::from_static("20130524T000000Z"));
    req.headers_mut().insert("x-amz-content-sha256", http::HeaderValue::from_static("UNSIGNED-PAYLOAD"));
    let keys = PlainKeys::new([("AKIAIOSFODNN7EXAMPLE".to_string(), "secret".to_string())]);
    let (parts, ()) = req.into_parts();
    let _ = verify(&parts, &keys, std::time::UNIX_EPOCH + std::time::Duration::from_secs(1369353600));
});
