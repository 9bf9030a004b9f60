//! SigV4 header signing for the S3 requests lakegate sends itself (the embedded server's S3
//! blockstore, `lakegate bench`): AWS "Authenticating Requests (AWS Signature Version 4)" with
//! `UNSIGNED-PAYLOAD`, through aws-sigv4, S3's single percent-encoding and no path normalisation.

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SigningSettings, UriPathNormalizationMode,
    sign,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use http::{HeaderName, HeaderValue, Request};
use std::time::SystemTime;

/// Who signs, and for which region.
#[derive(Clone)]
pub struct SigV4Key {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub region: String,
}

impl std::fmt::Debug for SigV4Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigV4Key").field("access_key_id", &self.access_key_id).field("region", &self.region).finish()
    }
}

/// Builds `method url` with `headers`, signed for service `s3` at `now` with `UNSIGNED-PAYLOAD`.
pub fn signed_request<B>(
    key: &SigV4Key,
    method: http::Method,
    url: &str,
    headers: &[(&str, &str)],
    body: B,
    now: SystemTime,
) -> Result<Request<B>, String> {
    let identity: Identity =
        Credentials::new(&key.access_key_id, &key.secret_access_key, None, None, "lakegate").into();
    let mut settings = SigningSettings::default();
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    let params =
        v4::SigningParams::builder().identity(&identity).region(&key.region).name("s3").time(now).settings(settings);
    let params = params.build().map_err(|e| e.to_string())?.into();
    let host = url.split("://").nth(1).and_then(|r| r.split('/').next()).unwrap_or("");
    let all: Vec<(&str, &str)> = std::iter::once(("host", host)).chain(headers.iter().copied()).collect();
    let signable = SignableRequest::new(method.as_str(), url, all.iter().copied(), SignableBody::UnsignedPayload)
        .map_err(|e| e.to_string())?;
    let (instructions, _) = sign(signable, &params).map_err(|e| e.to_string())?.into_parts();
    let mut req = Request::builder().method(method).uri(url).body(body).map_err(|e| e.to_string())?;
    let signed = instructions.headers();
    for (name, value) in headers.iter().copied().chain(signed) {
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|e| e.to_string())?;
        req.headers_mut().insert(name, HeaderValue::from_str(value).map_err(|e| e.to_string())?);
    }
    Ok(req)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_host_date_and_payload_hash() {
        let key = SigV4Key { access_key_id: "AK".into(), secret_access_key: "SK".into(), region: "us-east-1".into() };
        let url = "http://127.0.0.1:9/b/k%20x?list-type=2";
        let req =
            signed_request(&key, http::Method::GET, url, &[("range", "bytes=0-1")], (), SystemTime::now()).unwrap();
        let auth = req.headers()["authorization"].to_str().unwrap();
        assert!(auth.starts_with("AWS4-HMAC-SHA256 Credential=AK/"), "{auth}");
        assert!(auth.contains("SignedHeaders=host;range;x-amz-content-sha256;x-amz-date"), "{auth}");
        assert_eq!(req.headers()["x-amz-content-sha256"], "UNSIGNED-PAYLOAD");
        assert_eq!(req.headers()["range"], "bytes=0-1");
        assert_eq!(req.uri(), url);
    }
}
