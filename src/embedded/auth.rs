//! Authentication of the embedded server's REST API, as lakeFS does it: HTTP basic auth with an
//! access key pair, a bearer JWT from `POST /auth/login`, or the `internal_auth_session` cookie
//! that login sets. Tokens are HS256 JWTs signed with a key generated at first start.

use super::catalog::Meta;
use super::error::{ApiError, ApiResult};
use super::presign::constant_time_eq;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use http::HeaderMap;
use sha2::Sha256;

/// lakeFS's default `auth.login_duration`: 168 hours.
pub const LOGIN_DURATION_SECS: i64 = 168 * 3600;
/// lakeFS's default `auth.login_max_duration`: 336 hours, the longest token an external login gets.
pub const LOGIN_MAX_DURATION_SECS: i64 = 336 * 3600;
/// The cookie lakeFS's login sets.
pub const SESSION_COOKIE: &str = "internal_auth_session";

fn sign(key: &[u8], data: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("hmac accepts any key length");
    mac.update(data.as_bytes());
    URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

/// An HS256 JWT for `user_id`, valid until `exp` (Unix seconds).
pub fn issue_token(key: &[u8], user_id: &str, now: i64, exp: i64) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let claims = serde_json::json!({
        "sub": user_id, "aud": "login", "iat": now, "exp": exp,
        "jti": hex::encode(rand::random::<[u8; 12]>()),
    });
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let signing_input = format!("{header}.{payload}");
    let sig = sign(key, &signing_input);
    format!("{signing_input}.{sig}")
}

/// The user a valid, unexpired token names.
pub fn verify_token(key: &[u8], token: &str, now: i64) -> ApiResult<String> {
    let invalid = || ApiError::Unauthorized("invalid token".into());
    let (signing_input, sig) = token.rsplit_once('.').ok_or_else(invalid)?;
    if !constant_time_eq(sign(key, signing_input).as_bytes(), sig.as_bytes()) {
        return Err(invalid());
    }
    let (header, payload) = signing_input.split_once('.').ok_or_else(invalid)?;
    let header: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).map_err(|_| invalid())?).map_err(|_| invalid())?;
    if header["alg"] != "HS256" {
        return Err(invalid());
    }
    let claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).map_err(|_| invalid())?).map_err(|_| invalid())?;
    let exp = claims["exp"].as_i64().ok_or_else(invalid)?;
    if now >= exp {
        return Err(ApiError::Unauthorized("token expired".into()));
    }
    claims["sub"].as_str().map(str::to_string).ok_or_else(invalid)
}

/// Checks an access key pair; the user id it belongs to.
pub fn check_key_pair(meta: &Meta, access_key_id: &str, secret: &str) -> ApiResult<String> {
    let rec = meta.credential(access_key_id)?;
    match rec {
        Some(r) if constant_time_eq(r.secret_access_key.as_bytes(), secret.as_bytes()) => Ok(r.user_id),
        _ => Err(ApiError::Unauthorized("error authenticating request".into())),
    }
}

/// The authenticated user of a request (401 when it carries no valid credentials).
pub fn authenticate(meta: &Meta, jwt_key: &[u8], headers: &HeaderMap, now: i64) -> ApiResult<String> {
    if let Some(auth) = headers.get(http::header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        let (scheme, value) = auth.split_once(' ').unwrap_or((auth, ""));
        if scheme.eq_ignore_ascii_case("basic") {
            let decoded =
                STANDARD.decode(value.trim()).map_err(|_| ApiError::Unauthorized("invalid basic auth".into()))?;
            let decoded =
                String::from_utf8(decoded).map_err(|_| ApiError::Unauthorized("invalid basic auth".into()))?;
            let (ak, sk) =
                decoded.split_once(':').ok_or_else(|| ApiError::Unauthorized("invalid basic auth".into()))?;
            return check_key_pair(meta, ak, sk);
        }
        if scheme.eq_ignore_ascii_case("bearer") {
            return verify_token(jwt_key, value.trim(), now);
        }
        return Err(ApiError::Unauthorized("unsupported authorization scheme".into()));
    }
    for cookie in headers.get_all(http::header::COOKIE).iter().filter_map(|v| v.to_str().ok()) {
        for pair in cookie.split(';') {
            if let Some((name, value)) = pair.trim().split_once('=')
                && name == SESSION_COOKIE
            {
                return verify_token(jwt_key, value, now);
            }
        }
    }
    Err(ApiError::Unauthorized("missing credentials".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_expire() {
        let t = issue_token(b"key", "admin", 100, 200);
        assert_eq!(verify_token(b"key", &t, 150).unwrap(), "admin");
        assert!(matches!(verify_token(b"key", &t, 200), Err(ApiError::Unauthorized(_))));
        assert!(verify_token(b"other", &t, 150).is_err());
        let mut tampered = t.clone();
        tampered.insert(40, 'x');
        assert!(verify_token(b"key", &tampered, 150).is_err());
        assert!(verify_token(b"key", "a.b", 150).is_err());
    }
}
