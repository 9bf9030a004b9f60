//! Authentication of the embedded server's REST API, as lakeFS does it
//! (`pkg/api/auth_middleware.go` `checkSecurityRequirements`, in the order of the spec's global
//! `security`): a bearer JWT, then HTTP basic auth with an access key pair, then the
//! `internal_auth_session` cookie that `login` sets. Tokens are HS256 JWTs signed with a key
//! generated at first start, with lakeFS's login claims (`pkg/auth/token.go`). Every failure is
//! 401 `error authenticating request`: lakeFS's middleware masks the cause (`writeAuthError`), and
//! a request with no credentials reaches a controller that answers the same.

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
/// lakeFS's answer to any failed authentication (`auth.ErrAuthenticatingRequest`).
pub const AUTH_FAILED: &str = "error authenticating request";

fn failed() -> ApiError {
    ApiError::Unauthorized(AUTH_FAILED.into())
}

fn sign(key: &[u8], data: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("hmac accepts any key length");
    mac.update(data.as_bytes());
    URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

/// An HS256 JWT for `user_id`, valid until `exp` (Unix seconds), with lakeFS's login claims
/// (`GenerateJWTLogin`: issuer `auth`, audience `login`, a unique id).
pub fn issue_token(key: &[u8], user_id: &str, now: i64, exp: i64) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let claims = serde_json::json!({
        "jti": hex::encode(rand::random::<[u8; 16]>()), "iss": "auth", "sub": user_id,
        "aud": "login", "iat": now, "exp": exp,
    });
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let signing_input = format!("{header}.{payload}");
    let sig = sign(key, &signing_input);
    format!("{signing_input}.{sig}")
}

fn decode_part(part: &str) -> ApiResult<serde_json::Value> {
    let bytes = URL_SAFE_NO_PAD.decode(part).map_err(|_| failed())?;
    serde_json::from_slice(&bytes).map_err(|_| failed())
}

/// The user a valid, unexpired login token names (lakeFS `VerifyToken`: an expiry is required,
/// the audience is `login` or absent).
pub fn verify_token(key: &[u8], token: &str, now: i64) -> ApiResult<String> {
    let (signing_input, sig) = token.rsplit_once('.').ok_or_else(failed)?;
    if !constant_time_eq(sign(key, signing_input).as_bytes(), sig.as_bytes()) {
        return Err(failed());
    }
    let (header, payload) = signing_input.split_once('.').ok_or_else(failed)?;
    if decode_part(header)?["alg"] != "HS256" {
        return Err(failed());
    }
    let claims = decode_part(payload)?;
    let exp = claims["exp"].as_i64().ok_or_else(failed)?;
    let audience_ok = matches!(claims.get("aud").and_then(|a| a.as_str()), None | Some("") | Some("login"));
    if now >= exp || !audience_ok {
        return Err(failed());
    }
    claims["sub"].as_str().map(str::to_string).ok_or_else(failed)
}

/// Checks an access key pair; the user id it belongs to.
pub fn check_key_pair(meta: &Meta, access_key_id: &str, secret: &str) -> ApiResult<String> {
    let rec = meta.credential(access_key_id)?;
    match rec {
        Some(r) if constant_time_eq(r.secret_access_key.as_bytes(), secret.as_bytes()) => Ok(r.user_id),
        _ => Err(failed()),
    }
}

/// The token of `Authorization: Bearer <token>` (two fields, the scheme in any case).
fn bearer(auth: &str) -> Option<&str> {
    let mut fields = auth.split_ascii_whitespace();
    match (fields.next(), fields.next(), fields.next()) {
        (Some(scheme), Some(token), None) if scheme.eq_ignore_ascii_case("bearer") => Some(token),
        _ => None,
    }
}

/// The key pair of `Authorization: Basic <base64 id:secret>`, read as Go's `Request.BasicAuth`
/// does: a value it cannot read is no basic auth at all.
fn basic_pair(auth: &str) -> Option<(String, String)> {
    let prefix = auth.get(..6).filter(|p| p.eq_ignore_ascii_case("basic "))?;
    let decoded = STANDARD.decode(&auth[prefix.len()..]).ok()?;
    let (ak, sk) = std::str::from_utf8(&decoded).ok()?.split_once(':')?;
    Some((ak.to_string(), sk.to_string()))
}

/// The value of the `internal_auth_session` cookie, if sent.
fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    let cookies = headers.get_all(http::header::COOKIE).into_iter().filter_map(|v| v.to_str().ok());
    cookies.flat_map(|c| c.split(';')).find_map(|pair| {
        let (name, value) = pair.trim().split_once('=')?;
        (name == SESSION_COOKIE && !value.is_empty()).then_some(value)
    })
}

/// Whether the request carries credentials of a scheme lakeFS reads (bearer, basic, session
/// cookie). Without any, lakeFS's middleware lets the request through with no user
/// (`checkSecurityRequirements` answers nil, nil) and each operation's `authorize` refuses it.
pub fn carries_credentials(headers: &HeaderMap) -> bool {
    let auth = headers.get(http::header::AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or("");
    bearer(auth).is_some() || basic_pair(auth).is_some() || session_cookie(headers).is_some()
}

/// The authenticated user of a request: 401 `error authenticating request` when the first
/// credentials it carries fail, or when it carries none.
pub fn authenticate(meta: &Meta, jwt_key: &[u8], headers: &HeaderMap, now: i64) -> ApiResult<String> {
    let auth = headers.get(http::header::AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or("");
    if let Some(token) = bearer(auth) {
        return verify_token(jwt_key, token, now);
    }
    if let Some((ak, sk)) = basic_pair(auth) {
        return check_key_pair(meta, &ak, &sk);
    }
    match session_cookie(headers) {
        Some(token) => verify_token(jwt_key, token, now),
        None => Err(failed()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unauthorized(r: ApiResult<String>) -> bool {
        matches!(r, Err(ApiError::Unauthorized(m)) if m == AUTH_FAILED)
    }

    #[test]
    fn tokens_round_trip_and_expire() {
        let t = issue_token(b"key", "admin", 100, 200);
        assert_eq!(verify_token(b"key", &t, 150).unwrap(), "admin");
        assert!(unauthorized(verify_token(b"key", &t, 200)));
        assert!(unauthorized(verify_token(b"other", &t, 150)));
        let mut tampered = t.clone();
        tampered.insert(40, 'x');
        assert!(unauthorized(verify_token(b"key", &tampered, 150)));
        assert!(unauthorized(verify_token(b"key", "a.b", 150)));
        let claims = decode_part(t.split('.').nth(1).unwrap()).unwrap();
        assert_eq!((claims["iss"].as_str(), claims["aud"].as_str()), (Some("auth"), Some("login")));
    }

    #[test]
    fn tokens_for_another_audience_are_refused() {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        let token = |claims: serde_json::Value| {
            let input = format!("{header}.{}", URL_SAFE_NO_PAD.encode(claims.to_string()));
            format!("{input}.{}", sign(b"k", &input))
        };
        let reset = token(serde_json::json!({"sub": "admin", "aud": "reset_password", "exp": 200}));
        assert!(unauthorized(verify_token(b"k", &reset, 100)));
        let bare = token(serde_json::json!({"sub": "admin", "exp": 200}));
        assert_eq!(verify_token(b"k", &bare, 100).unwrap(), "admin");
        let no_expiry = token(serde_json::json!({"sub": "admin"}));
        assert!(unauthorized(verify_token(b"k", &no_expiry, 100)));
    }

    #[test]
    fn credentials_are_read_as_lakefs_reads_them() {
        assert_eq!(bearer("bearer  abc"), Some("abc"));
        assert_eq!(bearer("Bearer a b"), None);
        assert_eq!(basic_pair("bAsIc YTpiOmM="), Some(("a".into(), "b:c".into())));
        assert_eq!(basic_pair("Basic %%%"), None);
        assert_eq!(basic_pair("Basic YWJj"), None, "no colon");
        let mut h = HeaderMap::new();
        h.insert(http::header::COOKIE, "x=1; internal_auth_session=tok".parse().unwrap());
        assert_eq!(session_cookie(&h), Some("tok"));
    }
}
