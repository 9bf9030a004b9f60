//! ID token checks (OpenID Connect Core 1.0 §3.1.3.7 "ID Token Validation"; JWS RFC 7515, JWK
//! RFC 7517/7518): the signature against the issuer's JWKS (RS256 or ES256; `none` and HMAC
//! algorithms are refused), `iss`, `aud` (and `azp` when several audiences), `exp`, `nbf`, `iat`,
//! and the configured required claims.

use crate::error::{ApiError, ApiResult};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use ring::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey};
use serde_json::Value;

/// Clock skew allowed on `exp`, `nbf` and `iat`.
pub const LEEWAY_SECS: i64 = 60;

fn refused(msg: impl Into<String>) -> ApiError {
    ApiError::Unauthorized(msg.into())
}

/// A decoded, not yet verified, compact JWS.
pub struct Jws<'a> {
    pub header: Value,
    pub claims: Value,
    signing_input: &'a str,
    signature: Vec<u8>,
}

fn decode_json(part: &str, what: &str) -> ApiResult<Value> {
    let bytes = B64.decode(part).map_err(|_| refused(format!("id_token: {what} is not base64url")))?;
    serde_json::from_slice(&bytes).map_err(|_| refused(format!("id_token: {what} is not JSON")))
}

/// Splits and decodes `header.payload.signature`.
pub fn decode(token: &str) -> ApiResult<Jws<'_>> {
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(refused("id_token is not a compact JWS"));
    };
    let signature = B64.decode(s).map_err(|_| refused("id_token: signature is not base64url"))?;
    Ok(Jws {
        header: decode_json(h, "header")?,
        claims: decode_json(p, "payload")?,
        signing_input: &token[..h.len() + 1 + p.len()],
        signature,
    })
}

fn b64_field(jwk: &Value, name: &str) -> Option<Vec<u8>> {
    B64.decode(jwk.get(name)?.as_str()?).ok()
}

/// Whether `jwk` verifies `jws` (its `alg` must be RS256 or ES256 and match the key type).
fn verifies(jwk: &Value, jws: &Jws<'_>, alg: &str) -> bool {
    let msg = jws.signing_input.as_bytes();
    match (alg, jwk.get("kty").and_then(Value::as_str)) {
        ("RS256", Some("RSA")) => {
            let (Some(n), Some(e)) = (b64_field(jwk, "n"), b64_field(jwk, "e")) else { return false };
            RsaPublicKeyComponents { n: &n, e: &e }
                .verify(&signature::RSA_PKCS1_2048_8192_SHA256, msg, &jws.signature)
                .is_ok()
        }
        ("ES256", Some("EC")) if jwk.get("crv").and_then(Value::as_str) == Some("P-256") => {
            let (Some(x), Some(y)) = (b64_field(jwk, "x"), b64_field(jwk, "y")) else { return false };
            let mut point = vec![4u8];
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point).verify(msg, &jws.signature).is_ok()
        }
        _ => false,
    }
}

/// Checks the signature against the keys of a JWKS (`{"keys": [...]}`): the key named by the
/// header's `kid`, or any key of a matching type when it names none. `Ok(false)`: no key
/// matched the `kid` (the caller may fetch the JWKS again).
pub fn check_signature(jws: &Jws<'_>, jwks: &Value) -> ApiResult<bool> {
    let alg = jws.header.get("alg").and_then(Value::as_str).unwrap_or("");
    if alg != "RS256" && alg != "ES256" {
        return Err(refused(format!("id_token: algorithm {alg:?} is not accepted (RS256, ES256)")));
    }
    let kid = jws.header.get("kid").and_then(Value::as_str);
    let keys = jwks.get("keys").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let candidates: Vec<&Value> = keys
        .iter()
        .filter(|k| kid.is_none() || k.get("kid").and_then(Value::as_str) == kid)
        .filter(|k| k.get("use").and_then(Value::as_str).is_none_or(|u| u == "sig"))
        .collect();
    if candidates.is_empty() {
        return Ok(false);
    }
    if candidates.iter().any(|k| verifies(k, jws, alg)) { Ok(true) } else { Err(refused("id_token: bad signature")) }
}

fn claim_matches(value: Option<&Value>, expected: &str) -> bool {
    match value {
        Some(Value::String(s)) => s == expected,
        Some(Value::Array(items)) => items.iter().any(|v| v.as_str() == Some(expected)),
        Some(Value::Bool(b)) => b.to_string() == expected,
        Some(Value::Number(n)) => n.to_string() == expected,
        _ => false,
    }
}

/// The claim checks of a verified token; its subject.
pub fn check_claims(
    claims: &Value,
    issuer: &str,
    client_id: &str,
    required: &[(String, String)],
    now: i64,
) -> ApiResult<String> {
    let s = |k: &str| claims.get(k).and_then(Value::as_str);
    let n = |k: &str| claims.get(k).and_then(Value::as_i64);
    if s("iss") != Some(issuer) {
        return Err(refused(format!("id_token: issuer {:?} is not {issuer:?}", s("iss").unwrap_or(""))));
    }
    let audiences: Vec<&str> = match claims.get("aud") {
        Some(Value::String(a)) => vec![a.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    if !audiences.contains(&client_id) {
        return Err(refused(format!("id_token: audience {audiences:?} does not include {client_id:?}")));
    }
    if audiences.len() > 1 && s("azp").is_some_and(|azp| azp != client_id) {
        return Err(refused("id_token: authorized party (azp) is another client"));
    }
    let exp = n("exp").ok_or_else(|| refused("id_token: no exp"))?;
    if now >= exp + LEEWAY_SECS {
        return Err(refused("id_token: expired"));
    }
    if n("nbf").is_some_and(|nbf| nbf > now + LEEWAY_SECS) || n("iat").is_some_and(|iat| iat > now + LEEWAY_SECS) {
        return Err(refused("id_token: issued in the future"));
    }
    for (name, expected) in required {
        if !claim_matches(claims.get(name), expected) {
            return Err(refused(format!("id_token: claim {name:?} does not have the required value")));
        }
    }
    s("sub").filter(|v| !v.is_empty()).map(str::to_string).ok_or_else(|| refused("id_token: no sub"))
}

#[cfg(test)]
mod tests;
