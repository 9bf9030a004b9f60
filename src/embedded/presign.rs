//! Presigned URLs of the embedded blob store, and lakeFS's signed staging addresses.
//!
//! Blob URLs are SigV4 query-presigned exactly as S3's are (`X-Amz-Algorithm`, `X-Amz-Credential`,
//! `X-Amz-Date`, `X-Amz-Expires`, `X-Amz-SignedHeaders=host`, `X-Amz-Signature`; AWS "Authenticating
//! Requests: Using Query Parameters"), made and checked with `aws-sigv4`: a check re-signs the request
//! as received and compares signatures in constant time.
//!
//! Staging addresses follow lakeFS's `getPhysicalAddress`: `<namespace>/data/<id>,<sig>`, where `<id>`
//! starts with the creation time and `<sig>` is an HMAC-SHA256 binding the address to one
//! repository (lakeFS's rule: `SetLinkAddress`/`VerifyLinkAddress` take the repository only, so an
//! address may be linked at any branch and path of it); `linkPhysicalAddress` accepts it for 24 hours.

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PercentEncodingMode, SignableBody, SignableRequest, SignatureLocation, SigningSettings, UriPathNormalizationMode,
    sign,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub use crate::util::{constant_time_eq, parse_amz_date};

/// S3's upper bound for `X-Amz-Expires`: seven days.
pub const MAX_EXPIRES: Duration = Duration::from_secs(7 * 24 * 3600);
/// How long a signed staging address may be linked (lakeFS `LinkAddressTime`).
pub const LINK_ADDRESS_TTL: Duration = Duration::from_secs(24 * 3600);
const REGION: &str = "us-east-1";
const SERVICE: &str = "s3";
const PRESIGN_PARAMS: [&str; 6] =
    ["X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Signature"];

/// Why a presigned request was refused (all answered 403, as S3 does).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PresignError {
    #[error(
        "query-string authentication requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders and X-Amz-Signature parameters"
    )]
    Missing,
    #[error("invalid presign parameter {0}")]
    Malformed(&'static str),
    #[error("the access key id does not exist in our records")]
    UnknownKey,
    #[error("request has expired")]
    Expired,
    #[error("request is not yet valid")]
    NotYetValid,
    #[error("the request signature we calculated does not match the signature you provided")]
    SignatureMismatch,
}

/// Signs and checks blob URLs with the blob store's own key pair.
#[derive(Clone)]
pub struct Presigner {
    access_key_id: String,
    secret: String,
    region: String,
}

impl Presigner {
    pub fn new(access_key_id: String, secret: String) -> Presigner {
        Presigner::with_region(access_key_id, secret, REGION.to_string())
    }

    /// A presigner for another store (an S3 endpoint in `region`).
    pub fn with_region(access_key_id: String, secret: String, region: String) -> Presigner {
        Presigner { access_key_id, secret, region }
    }

    /// `X-Amz-*` query parameters (already encoded, `&`-joined) presigning `method host path?query`.
    fn signed_params(
        &self,
        method: &str,
        host: &str,
        path_and_query: &str,
        time: SystemTime,
        expires: Duration,
    ) -> Result<Vec<(&'static str, String)>, String> {
        let identity: Identity = Credentials::new(&self.access_key_id, &self.secret, None, None, "lakegate").into();
        let mut settings = SigningSettings::default();
        settings.signature_location = SignatureLocation::QueryParams;
        settings.expires_in = Some(expires);
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name(SERVICE)
            .time(time)
            .settings(settings)
            .build()
            .map_err(|e| e.to_string())?
            .into();
        let url = format!("http://{host}{path_and_query}");
        let request = SignableRequest::new(method, url, std::iter::once(("host", host)), SignableBody::UnsignedPayload)
            .map_err(|e| e.to_string())?;
        let (instructions, _) = sign(request, &params).map_err(|e| e.to_string())?.into_parts();
        let (_, query) = instructions.into_parts();
        Ok(query.into_iter().map(|(k, v)| (k, v.into_owned())).collect())
    }

    /// A presigned URL for `method` on `base` (scheme + host) + `path_and_query`, valid `expires`.
    pub fn presign(&self, method: &str, base: &str, path_and_query: &str, expires: Duration) -> Result<String, String> {
        let host = base.split_once("://").map_or(base, |(_, h)| h);
        let params = self.signed_params(method, host, path_and_query, SystemTime::now(), expires)?;
        let mut url = format!("{base}{path_and_query}");
        let mut sep = if path_and_query.contains('?') { '&' } else { '?' };
        for (k, v) in params {
            url.push(sep);
            sep = '&';
            url.push_str(k);
            url.push('=');
            url.push_str(&percent_encoding::utf8_percent_encode(&v, crate::embedded::http::QUERY_VALUE).to_string());
        }
        Ok(url)
    }

    /// Checks a presigned request as received (`path` and `query` raw from the request line).
    pub fn verify(
        &self,
        method: &str,
        host: &str,
        path: &str,
        query: &str,
        now: SystemTime,
    ) -> Result<(), PresignError> {
        let mut given: std::collections::HashMap<String, String> = Default::default();
        let mut rest = Vec::new();
        for (k, v) in form_urlencoded::parse(query.as_bytes()) {
            if PRESIGN_PARAMS.contains(&k.as_ref()) {
                given.insert(k.into_owned(), v.into_owned());
            } else {
                rest.push(format!(
                    "{}={}",
                    percent_encoding::utf8_percent_encode(&k, crate::embedded::http::QUERY_VALUE),
                    percent_encoding::utf8_percent_encode(&v, crate::embedded::http::QUERY_VALUE)
                ));
            }
        }
        let get = |k: &str| given.get(k).map(String::as_str).ok_or(PresignError::Missing);
        if get("X-Amz-Algorithm")? != "AWS4-HMAC-SHA256" {
            return Err(PresignError::Malformed("X-Amz-Algorithm"));
        }
        let credential: Vec<&str> = get("X-Amz-Credential")?.split('/').collect();
        if credential.len() != 5 || credential[3] != SERVICE || credential[4] != "aws4_request" {
            return Err(PresignError::Malformed("X-Amz-Credential"));
        }
        if credential[0] != self.access_key_id {
            return Err(PresignError::UnknownKey);
        }
        if get("X-Amz-SignedHeaders")? != "host" {
            return Err(PresignError::Malformed("X-Amz-SignedHeaders"));
        }
        let date = parse_amz_date(get("X-Amz-Date")?).ok_or(PresignError::Malformed("X-Amz-Date"))?;
        let expires: u64 = get("X-Amz-Expires")?.parse().map_err(|_| PresignError::Malformed("X-Amz-Expires"))?;
        let expires = Duration::from_secs(expires);
        if expires > MAX_EXPIRES {
            return Err(PresignError::Malformed("X-Amz-Expires"));
        }
        if now > date + expires {
            return Err(PresignError::Expired);
        }
        if date > now + Duration::from_secs(15 * 60) {
            return Err(PresignError::NotYetValid);
        }
        let path_and_query = if rest.is_empty() { path.to_string() } else { format!("{path}?{}", rest.join("&")) };
        let expected = self
            .signed_params(method, host, &path_and_query, date, expires)
            .map_err(|_| PresignError::SignatureMismatch)?;
        let expected = expected.iter().find(|(k, _)| *k == "X-Amz-Signature").map(|(_, v)| v.as_str()).unwrap_or("");
        if constant_time_eq(expected.as_bytes(), get("X-Amz-Signature")?.as_bytes()) {
            Ok(())
        } else {
            Err(PresignError::SignatureMismatch)
        }
    }
}

/// Signs staging addresses (lakeFS's `VerifyLinkAddress` scheme).
#[derive(Clone)]
pub struct AddressSigner {
    key: Vec<u8>,
}

/// Why a link address was refused (400 in lakeFS).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AddressError {
    #[error("link address invalid")]
    Invalid,
    #[error("link address expired")]
    Expired,
}

impl AddressSigner {
    pub fn new(key: Vec<u8>) -> AddressSigner {
        AddressSigner { key }
    }

    fn mac(&self, repo: &str, base: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("hmac accepts any key length");
        mac.update(serde_json::json!([repo, base]).to_string().as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// A fresh address under `namespace` bound to repository `repo`.
    pub fn new_address(&self, namespace: &str, repo: &str) -> String {
        let base = format!("{}/data/{}", namespace.trim_end_matches('/'), new_object_id());
        let sig = self.mac(repo, &base);
        format!("{base},{sig}")
    }

    /// Checks an address inside `namespace`'s data prefix for repository `repo` at `now`.
    pub fn verify(&self, address: &str, repo: &str, now: SystemTime) -> Result<(), AddressError> {
        let (base, sig) = address.rsplit_once(',').ok_or(AddressError::Invalid)?;
        let expected = self.mac(repo, base);
        if !constant_time_eq(expected.as_bytes(), sig.as_bytes()) {
            return Err(AddressError::Invalid);
        }
        let id = base.rsplit('/').next().unwrap_or_default();
        let created = id.get(..8).and_then(|h| u64::from_str_radix(h, 16).ok()).ok_or(AddressError::Invalid)?;
        if now > UNIX_EPOCH + Duration::from_secs(created) + LINK_ADDRESS_TTL {
            return Err(AddressError::Expired);
        }
        Ok(())
    }
}

/// A unique object id: 8 hex digits of creation time, then 24 random hex digits.
pub fn new_object_id() -> String {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    format!("{:08x}{:024x}", secs as u32, rand::random::<u128>() & ((1u128 << 96) - 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn presigner() -> Presigner {
        Presigner::new("AKIDBLOB".into(), "secret-secret".into())
    }

    fn split(url: &str) -> (&str, &str, &str) {
        let rest = url.strip_prefix("http://").unwrap();
        let (host, pq) = rest.split_at(rest.find('/').unwrap());
        let (path, query) = pq.split_once('?').unwrap();
        (host, path, query)
    }

    #[test]
    fn presigned_url_verifies_and_rejects_tampering() {
        let p = presigner();
        let url = p.presign("PUT", "http://127.0.0.1:9", "/blob/ns/data/x%2Cy", Duration::from_secs(60)).unwrap();
        let (host, path, query) = split(&url);
        let now = SystemTime::now();
        assert_eq!(p.verify("PUT", host, path, query, now), Ok(()));
        assert_eq!(p.verify("GET", host, path, query, now), Err(PresignError::SignatureMismatch));
        assert_eq!(p.verify("PUT", host, "/blob/ns/data/other", query, now), Err(PresignError::SignatureMismatch));
        assert_eq!(p.verify("PUT", "127.0.0.1:10", path, query, now), Err(PresignError::SignatureMismatch));
        let later = now + Duration::from_secs(120);
        assert_eq!(p.verify("PUT", host, path, query, later), Err(PresignError::Expired));
        let other = Presigner::new("AKIDBLOB".into(), "other".into());
        assert_eq!(other.verify("PUT", host, path, query, now), Err(PresignError::SignatureMismatch));
        let no_sig = query.split('&').filter(|kv| !kv.starts_with("X-Amz-Signature")).collect::<Vec<_>>().join("&");
        assert_eq!(p.verify("PUT", host, path, &no_sig, now), Err(PresignError::Missing));
    }

    #[test]
    fn extra_query_parameters_are_signed() {
        let p = presigner();
        let url =
            p.presign("PUT", "http://h:1", "/blob/a?partNumber=3&uploadId=u%2B1", Duration::from_secs(60)).unwrap();
        let (host, path, query) = split(&url);
        assert_eq!(p.verify("PUT", host, path, query, SystemTime::now()), Ok(()));
        let changed = query.replace("partNumber=3", "partNumber=4");
        assert_eq!(p.verify("PUT", host, path, &changed, SystemTime::now()), Err(PresignError::SignatureMismatch));
    }

    #[test]
    fn addresses_bind_the_repository_and_expire() {
        let s = AddressSigner::new(b"k".to_vec());
        let a = s.new_address("local://ns/", "r");
        assert!(a.starts_with("local://ns/data/"));
        let now = SystemTime::now();
        assert_eq!(s.verify(&a, "r", now), Ok(()));
        assert_eq!(s.verify(&a, "r2", now), Err(AddressError::Invalid));
        assert_eq!(s.verify(&a, "r", now + Duration::from_secs(25 * 3600)), Err(AddressError::Expired));
        assert_eq!(s.verify("local://ns/data/x", "r", now), Err(AddressError::Invalid));
        assert_eq!(AddressSigner::new(b"other".to_vec()).verify(&a, "r", now), Err(AddressError::Invalid));
    }
}
