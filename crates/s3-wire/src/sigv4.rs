//! SigV4 verification of incoming S3 requests ("Authenticating Requests (AWS Signature Version 4)"):
//! header auth and presigned-query auth, with S3's URI rules, clock-skew and expiry checks, and the
//! classification of the payload (`x-amz-content-sha256`) that the body decoders then enforce while
//! streaming. Key derivation and HMAC come from `aws-sigv4`; the canonicaliser is ours
//! (`canonical`), since we verify requests as received rather than sign requests we build.

pub mod canonical;
pub mod parse;

use crate::error::S3Result;
use crate::keys::{SecretStore, SessionTokens, SigningKey};
use crate::s3_err;
pub use crate::signed::{ChunkSeed, MAX_SKEW, PayloadMode, Verified, signature_mismatch};
use canonical::{CanonicalRequest, string_to_sign};
use lakegate_net::util::{constant_time_eq, format_amz_date, parse_amz_date, parse_scope_date};
use parse::{ALGORITHM, ALGORITHM_V4A, AuthParams, parse_authorization, parse_presigned};
use percent_encoding::percent_decode_str;
use std::time::{Duration, SystemTime};

/// Classifies `x-amz-content-sha256`.
pub fn payload_mode(value: &str) -> S3Result<PayloadMode> {
    Ok(match value {
        "UNSIGNED-PAYLOAD" => PayloadMode::Unsigned,
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD" => PayloadMode::Streaming { signed: true, trailer: false },
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER" => PayloadMode::Streaming { signed: true, trailer: true },
        "STREAMING-UNSIGNED-PAYLOAD-TRAILER" => PayloadMode::Streaming { signed: false, trailer: true },
        v if v.starts_with("STREAMING-AWS4-ECDSA-P256-SHA256") => {
            return Err(s3_err!(
                NotImplemented,
                "SigV4A (AWS4-ECDSA-P256-SHA256) streaming payloads are not supported"
            ));
        }
        v if v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()) => PayloadMode::Sha256(v.to_ascii_lowercase()),
        v => {
            return Err(s3_err!(
                InvalidArgument,
                "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-…, or a valid sha256 value (got {v:?})"
            ));
        }
    })
}

fn query_param(raw: Option<&str>, name: &str) -> Option<String> {
    raw?.split('&').find_map(|p| {
        let (k, v) = p.split_once('=').unwrap_or((p, ""));
        (percent_decode_str(k).decode_utf8_lossy() == name)
            .then(|| percent_decode_str(v).decode_utf8_lossy().into_owned())
    })
}

fn header<'a>(parts: &'a http::request::Parts, name: &str) -> Option<&'a str> {
    parts.headers.get(name).and_then(|v| v.to_str().ok())
}

/// Which legacy authentication a gateway accepts besides SigV4.
pub struct AuthOptions<'a, K> {
    /// Accept Signature Version 2 header auth (`Authorization: AWS <key>:<signature>`).
    pub sigv2: bool,
    /// The bucket named by a virtual-host request (part of SigV2's canonical resource).
    pub virtual_bucket: Option<&'a str>,
    /// The keys that open session tokens (temporary credentials); `None`: tokens are refused.
    pub sessions: Option<&'a dyn SessionTokens<K>>,
}

impl<K> Default for AuthOptions<'_, K> {
    fn default() -> Self {
        AuthOptions { sigv2: false, virtual_bucket: None, sessions: None }
    }
}

impl<K> Clone for AuthOptions<'_, K> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<K> Copy for AuthOptions<'_, K> {}

/// The key of a request carrying a session token (`x-amz-security-token` or, presigned,
/// `X-Amz-Security-Token`): the temporary credentials it stands for.
fn session_key<K: SigningKey>(
    parts: &http::request::Parts,
    opts: &AuthOptions<'_, K>,
    now: SystemTime,
) -> S3Result<Option<K>> {
    let token = query_param(parts.uri.query(), "X-Amz-Security-Token")
        .or_else(|| header(parts, "x-amz-security-token").map(str::to_string));
    let Some(token) = token else { return Ok(None) };
    let keys = opts.sessions.ok_or_else(|| {
        s3_err!(
            InvalidToken,
            "The provided token is malformed or otherwise invalid (this gateway issues no session tokens)."
        )
    })?;
    let now = now.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
    keys.open_token(&token, now).map(Some)
}

/// A store of one key (the temporary credentials of a session token).
struct OneKey<K>(K);

impl<K: SigningKey> SecretStore<K> for OneKey<K> {
    fn lookup(&self, access_key_id: &str) -> Option<K> {
        (self.0.access_key_id() == access_key_id).then(|| self.0.clone())
    }
}

/// Verifies the SigV4 signature of a request (before its body is read).
pub fn verify<K: SigningKey>(
    parts: &http::request::Parts,
    store: &dyn SecretStore<K>,
    now: SystemTime,
) -> S3Result<Verified<K>> {
    verify_with(parts, store, now, AuthOptions::default())
}

/// [`verify`], also accepting SigV2 when `opts` allow it.
pub fn verify_with<K: SigningKey>(
    parts: &http::request::Parts,
    store: &dyn SecretStore<K>,
    now: SystemTime,
    opts: AuthOptions<'_, K>,
) -> S3Result<Verified<K>> {
    let query = parts.uri.query();
    let presigned = query_param(query, "X-Amz-Algorithm").is_some() || query_param(query, "X-Amz-Credential").is_some();
    let authorization = match parts.headers.get("authorization") {
        Some(v) => Some(
            v.to_str().map_err(|_| s3_err!(AuthorizationHeaderMalformed, "the Authorization header is not ASCII"))?,
        ),
        None => None,
    };
    if presigned && authorization.is_some() {
        return Err(s3_err!(
            InvalidArgument,
            "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified"
        ));
    }
    let session = session_key(parts, &opts, now)?.map(OneKey);
    let store: &dyn SecretStore<K> = match &session {
        Some(one) => one,
        None => store,
    };
    if presigned {
        return verify_presigned(parts, store, now);
    }
    if query_param(query, "AWSAccessKeyId").is_some() && query_param(query, "Signature").is_some() {
        if !opts.sigv2 {
            return Err(s3_err!(
                AccessDenied,
                "Signature Version 2 presigned URLs are not enabled on this gateway; use SigV4"
            ));
        }
        if authorization.is_some() {
            return Err(s3_err!(InvalidArgument, "Only one auth mechanism allowed"));
        }
        return crate::sigv2::verify_v2_presigned(parts, store, now, opts.virtual_bucket);
    }
    match authorization {
        Some(a) if a.starts_with(ALGORITHM) => verify_header(parts, a, store, now),
        Some(a) if a.starts_with(ALGORITHM_V4A) => {
            Err(s3_err!(NotImplemented, "SigV4A (AWS4-ECDSA-P256-SHA256) signatures are not supported; use SigV4"))
        }
        Some(a) if a.starts_with("AWS ") && opts.sigv2 => {
            crate::sigv2::verify_v2(parts, a, store, now, opts.virtual_bucket)
        }
        Some(a) if a.starts_with("AWS ") => {
            Err(s3_err!(AccessDenied, "Signature Version 2 is not enabled on this gateway; use SigV4"))
        }
        Some(_) => Err(s3_err!(InvalidArgument, "Unsupported Authorization Type")),
        None => Err(s3_err!(AccessDenied, "Anonymous access is not allowed; sign requests with SigV4")),
    }
}

fn verify_header<K: SigningKey>(
    parts: &http::request::Parts,
    authorization: &str,
    store: &dyn SecretStore<K>,
    now: SystemTime,
) -> S3Result<Verified<K>> {
    let auth = parse_authorization(authorization)?;
    let amz_date = match (header(parts, "x-amz-date"), header(parts, "date")) {
        (Some(d), _) => d.to_string(),
        (None, Some(d)) => httpdate::parse_http_date(d)
            .map(format_amz_date)
            .map_err(|_| s3_err!(AccessDenied, "AWS authentication requires a valid Date or x-amz-date header"))?,
        (None, None) => {
            return Err(s3_err!(AccessDenied, "AWS authentication requires a valid Date or x-amz-date header"));
        }
    };
    let time = parse_amz_date(&amz_date)
        .ok_or_else(|| s3_err!(AccessDenied, "AWS authentication requires a valid Date or x-amz-date header"))?;
    check_skew(time, now)?;
    if !amz_date.starts_with(&auth.credential.date) {
        return Err(s3_err!(
            AuthorizationHeaderMalformed,
            "Invalid credential date {:?}: it is not the same as X-Amz-Date",
            auth.credential.date
        ));
    }
    let sha = header(parts, "x-amz-content-sha256")
        .ok_or_else(|| s3_err!(InvalidRequest, "Missing required header for this request: x-amz-content-sha256"))?;
    let payload = payload_mode(sha)?;
    let (seed, key) = check_signature(parts, &auth, &amz_date, &[sha], None, store)?;
    Ok(Verified { access_key_id: auth.credential.access_key_id, key, payload, seed, presigned: false })
}

fn verify_presigned<K: SigningKey>(
    parts: &http::request::Parts,
    store: &dyn SecretStore<K>,
    now: SystemTime,
) -> S3Result<Verified<K>> {
    let query = parts.uri.query();
    let auth = parse_presigned(|name| query_param(query, name))?;
    let amz_date = check_presigned_time(&auth, now)?;
    let sha = query_param(query, "X-Amz-Content-Sha256").unwrap_or_else(|| "UNSIGNED-PAYLOAD".to_string());
    let payload = payload_mode(&sha)?;
    if matches!(payload, PayloadMode::Streaming { .. }) {
        return Err(s3_err!(InvalidRequest, "aws-chunked payloads cannot be sent with presigned URLs"));
    }
    let (seed, key) = check_signature(parts, &auth, &amz_date, &[&sha], Some("X-Amz-Signature"), store)?;
    Ok(Verified { access_key_id: auth.credential.access_key_id, key, payload, seed, presigned: true })
}

/// Verifies a presigned STS request (service `sts`, empty body: its payload hash is that of no
/// bytes, or `UNSIGNED-PAYLOAD`); the key that signed it.
pub fn verify_sts_presigned<K: SigningKey>(
    parts: &http::request::Parts,
    store: &dyn SecretStore<K>,
    now: SystemTime,
) -> S3Result<K> {
    let query = parts.uri.query();
    let auth = parse::parse_presigned_for(|name| query_param(query, name), "sts")?;
    let amz_date = check_presigned_time(&auth, now)?;
    let hashes = ["e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "UNSIGNED-PAYLOAD"];
    check_signature(parts, &auth, &amz_date, &hashes, Some("X-Amz-Signature"), store).map(|(_, key)| key)
}

/// Checks a presigned request's date and expiry; its `X-Amz-Date`.
fn check_presigned_time(auth: &AuthParams, now: SystemTime) -> S3Result<String> {
    let (amz_date, expires) = auth.presigned.clone().expect("presigned params");
    let time = parse_amz_date(&amz_date).ok_or_else(|| {
        s3_err!(
            AuthorizationQueryParametersError,
            "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\""
        )
    })?;
    if !amz_date.starts_with(&auth.credential.date) {
        return Err(s3_err!(
            AuthorizationQueryParametersError,
            "Invalid credential date {:?}: it is not the same as X-Amz-Date",
            auth.credential.date
        ));
    }
    if time > now + MAX_SKEW {
        return Err(s3_err!(AccessDenied, "Request is not valid yet"));
    }
    if now > time + Duration::from_secs(expires) {
        return Err(s3_err!(AccessDenied, "Request has expired"));
    }
    Ok(amz_date)
}

fn check_skew(time: SystemTime, now: SystemTime) -> S3Result<()> {
    let skew = time.duration_since(now).or_else(|_| now.duration_since(time)).unwrap_or_default();
    if skew > MAX_SKEW {
        return Err(s3_err!(
            RequestTimeTooSkewed,
            "The difference between the request time and the server's time is too large."
        ));
    }
    Ok(())
}

/// Recomputes the signature (with any of `payload_hashes`); the seed for chunk signatures and
/// the signing key when it matches.
fn check_signature<K: SigningKey>(
    parts: &http::request::Parts,
    auth: &AuthParams,
    amz_date: &str,
    payload_hashes: &[&str],
    skip_query: Option<&str>,
    store: &dyn SecretStore<K>,
) -> S3Result<(ChunkSeed, K)> {
    if !auth.signed_headers.iter().any(|h| h == "host") {
        return Err(s3_err!(AccessDenied, "SignedHeaders must include host"));
    }
    let key = store.lookup(&auth.credential.access_key_id).ok_or_else(|| {
        s3_err!(InvalidAccessKeyId, "The AWS Access Key Id you provided does not exist in our records.")
    })?;
    let request = |verbatim_path, payload_hash| {
        CanonicalRequest {
            method: parts.method.as_str(),
            raw_path: parts.uri.path(),
            raw_query: parts.uri.query(),
            skip_query,
            headers: &parts.headers,
            authority: parts.uri.authority().map(|a| a.as_str()),
            signed_headers: &auth.signed_headers,
            payload_hash,
            verbatim_path,
        }
        .render()
    };
    let scope = auth.credential.scope();
    let day = parse_scope_date(&auth.credential.date)
        .ok_or_else(|| s3_err!(AuthorizationHeaderMalformed, "invalid credential date"))?;
    let signing_key = aws_sigv4::sign::v4::generate_signing_key(
        key.secret_access_key(),
        day,
        &auth.credential.region,
        &auth.credential.service,
    );
    let matches = |canonical: &str| {
        let sts = string_to_sign(amz_date, &scope, canonical);
        let expected = aws_sigv4::sign::v4::calculate_signature(signing_key.as_ref(), sts.as_bytes());
        constant_time_eq(expected.as_bytes(), auth.signature.as_bytes())
    };
    let canonical = request(false, payload_hashes[0]);
    let reencoded = canonical::canonical_uri(parts.uri.path()) != parts.uri.path();
    let accepted = payload_hashes.iter().any(|h| {
        (*h == payload_hashes[0] && matches(&canonical))
            || (*h != payload_hashes[0] && matches(&request(false, h)))
            || (reencoded && matches(&request(true, h)))
    });
    if !accepted {
        tracing::debug!(canonical_request = %canonical, "SigV4 signature mismatch");
        return Err(signature_mismatch());
    }
    let seed = ChunkSeed {
        signing_key: signing_key.as_ref().to_vec(),
        amz_date: amz_date.to_string(),
        scope,
        seed_signature: auth.signature.clone(),
    };
    Ok((seed, key))
}

#[cfg(test)]
mod tests;
