//! Presigned URLs of the embedded blob store, and lakeFS's signed staging addresses.
//!
//! Blob URLs are SigV4 query-presigned exactly as S3's are (`X-Amz-Algorithm`, `X-Amz-Credential`,
//! `X-Amz-Date`, `X-Amz-Expires`, `X-Amz-SignedHeaders=host`, `X-Amz-Signature`; AWS "Authenticating
//! Requests: Using Query Parameters"), made and checked with `aws-sigv4`: a check re-signs the request
//! as received and compares signatures in constant time.
//!
//! Staging addresses follow lakeFS's `getPhysicalAddress`: `<namespace>/data/<partition>/<xid>,<sig>`,
//! where the xid carries the creation time and `<sig>` is an HMAC-SHA256 (base64url) over the JSON
//! `{"Repository":…,"Branch":…,"Path":…,"PhysicalAddress":"data/<partition>/<xid>"}`: an address
//! may be linked (or its presigned multipart upload completed) only by the repository, branch and
//! path it was issued for, within 24 hours (`LinkAddressTime`).

use super::error::ApiError;
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PercentEncodingMode, SignableBody, SignableRequest, SignatureLocation, SigningSettings, UriPathNormalizationMode,
    sign,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub use lakegate_net::util::{constant_time_eq, parse_amz_date};

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
            url.push_str(&percent_encoding::utf8_percent_encode(&v, crate::http::QUERY_VALUE).to_string());
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
                    percent_encoding::utf8_percent_encode(&k, crate::http::QUERY_VALUE),
                    percent_encoding::utf8_percent_encode(&v, crate::http::QUERY_VALUE)
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

/// Signs staging addresses as lakeFS's catalog does (`GetAddressWithSignature`,
/// `VerifyLinkAddress`, `getAddressJSON` in `pkg/catalog/catalog.go`).
#[derive(Clone)]
pub struct AddressSigner {
    key: Vec<u8>,
}

/// Why a link address was refused, with lakeFS's error text. All are 400 in lakeFS
/// (`graveler.ErrLinkAddressInvalid`/`ErrLinkAddressExpired`, `block.ErrInvalidAddress`) except
/// [`AddressError::BadId`], which falls to `handleAPIError`'s default branch (500).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AddressError {
    #[error("address is not signed: link address invalid")]
    NotSigned,
    /// The signature is not base64url; carries the JSON that would have been verified.
    #[error("malformed address signature: {0}: link address invalid")]
    Malformed(String),
    #[error("invalid address signature: invalid address")]
    BadSignature,
    #[error("link address expired")]
    Expired,
    /// A correctly signed address whose last segment is not an xid (lakeFS cannot produce one).
    #[error("xid: invalid ID")]
    BadId,
}

impl From<AddressError> for ApiError {
    fn from(e: AddressError) -> ApiError {
        match e {
            AddressError::BadId => ApiError::Unexpected(e.to_string()),
            e => ApiError::BadRequest(e.to_string()),
        }
    }
}

/// A string as Go's `json.Marshal` writes it (`<`, `>`, `&`, U+2028 and U+2029 escaped).
fn go_json_string(s: &str) -> String {
    let json = serde_json::Value::from(s).to_string();
    json.replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

/// lakeFS `getAddressJSON`: what a signature covers.
fn address_json(repo: &str, branch: &str, path: &str, relative: &str) -> String {
    format!(
        "{{\"Repository\":{},\"Branch\":{},\"Path\":{},\"PhysicalAddress\":{}}}",
        go_json_string(repo),
        go_json_string(branch),
        go_json_string(path),
        go_json_string(relative)
    )
}

/// Go's `base64.RawURLEncoding` decoder: no padding, non-zero trailing bits tolerated.
const RAW_URL_LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone)
        .with_decode_allow_trailing_bits(true),
);

impl AddressSigner {
    pub fn new(key: Vec<u8>) -> AddressSigner {
        AddressSigner { key }
    }

    fn mac(&self, json: &str) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("hmac accepts any key length");
        mac.update(json.as_bytes());
        mac
    }

    /// A fresh address relative to the storage namespace, `data/<partition>/<xid>,<signature>`,
    /// bound to `repo`, `branch` and `path` (lakeFS `GetAddressWithSignature`).
    pub fn new_address(&self, repo: &str, branch: &str, path: &str) -> String {
        let relative = super::xid::new_data_path();
        let sig =
            URL_SAFE_NO_PAD.encode(self.mac(&address_json(repo, branch, path, &relative)).finalize().into_bytes());
        format!("{relative},{sig}")
    }

    /// Checks a relative address (see [`relative_address`]) presented to link `path` on `branch`
    /// of `repo` at `now` (lakeFS `VerifyLinkAddress`: signature first, then the 24 h window).
    pub fn verify(
        &self,
        repo: &str,
        branch: &str,
        path: &str,
        address: &str,
        now: SystemTime,
    ) -> Result<(), AddressError> {
        let (relative, sig) = address.rsplit_once(',').ok_or(AddressError::NotSigned)?;
        let json = address_json(repo, branch, path, relative);
        let sig = RAW_URL_LENIENT.decode(sig).map_err(|_| AddressError::Malformed(json.clone()))?;
        self.mac(&json).verify_slice(&sig).map_err(|_| AddressError::BadSignature)?;
        let created = super::xid::path_time(relative).ok_or(AddressError::BadId)?;
        if now > UNIX_EPOCH + Duration::from_secs(created) + LINK_ADDRESS_TTL {
            return Err(AddressError::Expired);
        }
        Ok(())
    }
}

/// lakeFS `normalizePhysicalAddress`: the address relative to `namespace` when it lies in the
/// namespace's data prefix (`<namespace>/data/…`), which is when lakeFS checks its signature;
/// `None` for any other ("full") address.
pub fn relative_address<'a>(namespace: &str, address: &'a str) -> Option<&'a str> {
    let prefix = if namespace.ends_with('/') { namespace.to_string() } else { format!("{namespace}/") };
    let data_prefix = format!("{prefix}{}/", super::xid::DATA_PREFIX);
    address.starts_with(&data_prefix).then(|| &address[prefix.len()..])
}

/// The full address of `relative` under `namespace` (what lakeFS answers as `physical_address`).
pub fn full_address(namespace: &str, relative: &str) -> String {
    format!("{}/{relative}", namespace.trim_end_matches('/'))
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
    fn addresses_bind_repository_branch_and_path_and_expire() {
        let s = AddressSigner::new(b"k".to_vec());
        let a = s.new_address("r", "main", "dir/obj");
        assert!(a.starts_with("data/") && a.split('/').count() == 3, "{a}");
        let now = SystemTime::now();
        assert_eq!(s.verify("r", "main", "dir/obj", &a, now), Ok(()));
        // Linked for another path, branch or repository, or with another key: lakeFS's 400s.
        assert_eq!(s.verify("r", "main", "dir/other", &a, now), Err(AddressError::BadSignature));
        assert_eq!(s.verify("r", "dev", "dir/obj", &a, now), Err(AddressError::BadSignature));
        assert_eq!(s.verify("r2", "main", "dir/obj", &a, now), Err(AddressError::BadSignature));
        let other_key = AddressSigner::new(b"other".to_vec());
        assert_eq!(other_key.verify("r", "main", "dir/obj", &a, now), Err(AddressError::BadSignature));
        // The 24 h window (lakeFS LinkAddressTime), counted from the xid's time.
        let late = now + LINK_ADDRESS_TTL + Duration::from_secs(5);
        assert_eq!(s.verify("r", "main", "dir/obj", &a, late), Err(AddressError::Expired));
        // Unsigned, a signature that is not base64url, another object id under the same signature.
        assert_eq!(s.verify("r", "main", "p", "data/x/y", now), Err(AddressError::NotSigned));
        let malformed = s.verify("r", "main", "p", "data/x/y,***", now).unwrap_err();
        assert_eq!(
            malformed.to_string(),
            "malformed address signature: {\"Repository\":\"r\",\"Branch\":\"main\",\"Path\":\"p\",\
             \"PhysicalAddress\":\"data/x/y\"}: link address invalid"
        );
        let (_, sig) = a.rsplit_once(',').unwrap();
        let moved = format!("data/x/{},{sig}", crate::xid::Xid::with_time(0));
        assert_eq!(s.verify("r", "main", "dir/obj", &moved, now), Err(AddressError::BadSignature));
        // Messages and statuses as lakeFS's handleAPIError gives them.
        assert_eq!(AddressError::BadSignature.to_string(), "invalid address signature: invalid address");
        assert_eq!(AddressError::NotSigned.to_string(), "address is not signed: link address invalid");
        assert_eq!(ApiError::from(AddressError::Expired).status(), 400);
        assert_eq!(ApiError::from(AddressError::BadId).status(), 500);
    }

    #[test]
    fn signed_json_is_gos() {
        assert_eq!(
            address_json("r", "b", "a<b>&c\u{2028}\"", "data/p/x"),
            "{\"Repository\":\"r\",\"Branch\":\"b\",\"Path\":\"a\\u003cb\\u003e\\u0026c\\u2028\\\"\",\
             \"PhysicalAddress\":\"data/p/x\"}"
        );
    }

    #[test]
    fn only_addresses_in_the_data_prefix_are_relative() {
        assert_eq!(relative_address("local://ns", "local://ns/data/p/x,s"), Some("data/p/x,s"));
        assert_eq!(relative_address("local://ns/", "local://ns/data/p/x,s"), Some("data/p/x,s"));
        assert_eq!(relative_address("s3://b/ns", "s3://b/ns/data/p/x"), Some("data/p/x"));
        assert_eq!(relative_address("local://ns", "local://ns/other/x"), None);
        assert_eq!(relative_address("local://ns", "local://ns2/data/p/x,s"), None);
        assert_eq!(relative_address("local://ns", "local://ns/data"), None);
        assert_eq!(full_address("local://ns/", "data/p/x,s"), "local://ns/data/p/x,s");
    }
}
