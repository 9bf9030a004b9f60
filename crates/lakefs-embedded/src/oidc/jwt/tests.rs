use super::*;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use serde_json::json;

const ISS: &str = "http://127.0.0.1:1/oidc";

fn key() -> (EcdsaKeyPair, Value) {
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap();
    let public = pair.public_key().as_ref();
    let jwk = json!({"kty": "EC", "crv": "P-256", "kid": "k1", "use": "sig",
        "x": B64.encode(&public[1..33]), "y": B64.encode(&public[33..])});
    (pair, jwk)
}

fn sign(pair: &EcdsaKeyPair, header: Value, claims: Value) -> String {
    let input = format!("{}.{}", B64.encode(header.to_string()), B64.encode(claims.to_string()));
    let sig = pair.sign(&SystemRandom::new(), input.as_bytes()).unwrap();
    format!("{input}.{}", B64.encode(sig.as_ref()))
}

fn claims(now: i64) -> Value {
    json!({"iss": ISS, "aud": "lakegate", "sub": "alice", "exp": now + 300, "iat": now, "groups": ["data-eng", "x"]})
}

#[test]
fn es256_tokens_verify_against_their_jwks_only() {
    let (pair, jwk) = key();
    let (_, other) = key();
    let token = sign(&pair, json!({"alg": "ES256", "kid": "k1"}), claims(1000));
    let jws = decode(&token).unwrap();
    assert!(check_signature(&jws, &json!({"keys": [jwk.clone()]})).unwrap());
    // another key under the same kid: a bad signature
    let mut wrong = other.clone();
    wrong["kid"] = json!("k1");
    assert!(matches!(check_signature(&jws, &json!({"keys": [wrong]})), Err(ApiError::Unauthorized(_))));
    // an unknown kid: not found (the caller refetches the JWKS)
    let mut elsewhere = jwk.clone();
    elsewhere["kid"] = json!("k2");
    assert!(!check_signature(&jws, &json!({"keys": [elsewhere]})).unwrap());
    // a payload altered after signing
    let (h, rest) = token.split_once('.').unwrap();
    let (_, sig) = rest.split_once('.').unwrap();
    let mut forged = claims(1000);
    forged["sub"] = json!("admin");
    let forged = format!("{h}.{}.{sig}", B64.encode(forged.to_string()));
    assert!(check_signature(&decode(&forged).unwrap(), &json!({"keys": [jwk]})).is_err());
}

#[test]
fn none_and_hmac_algorithms_are_refused() {
    let (pair, jwk) = key();
    for alg in ["none", "HS256", "RS512"] {
        let token = sign(&pair, json!({"alg": alg, "kid": "k1"}), claims(1000));
        let err = check_signature(&decode(&token).unwrap(), &json!({"keys": [jwk.clone()]})).unwrap_err();
        assert!(err.to_string().contains("not accepted"), "{alg}: {err}");
    }
    assert!(decode("a.b").is_err());
    assert!(decode("a.b.c.d").is_err());
}

#[test]
fn claims_are_checked() {
    let now = 1000;
    let req = vec![("groups".to_string(), "data-eng".to_string())];
    assert_eq!(check_claims(&claims(now), ISS, "lakegate", &req, now).unwrap(), "alice");
    let bad = |f: &dyn Fn(&mut Value), want: &str| {
        let mut c = claims(now);
        f(&mut c);
        let err = check_claims(&c, ISS, "lakegate", &req, now).unwrap_err().to_string();
        assert!(err.contains(want), "{err} (want {want})");
    };
    bad(&|c| c["iss"] = json!("http://evil"), "issuer");
    bad(&|c| c["aud"] = json!("other-client"), "audience");
    bad(&|c| c["exp"] = json!(now - LEEWAY_SECS), "expired");
    bad(&|c| c["iat"] = json!(now + 2 * LEEWAY_SECS), "future");
    bad(&|c| c["groups"] = json!(["other"]), "groups");
    bad(&|c| c.as_object_mut().unwrap().remove("groups").map(drop).unwrap_or(()), "groups");
    bad(&|c| c["sub"] = json!(""), "no sub");
    // several audiences: azp must be this client when present
    let mut c = claims(now);
    c["aud"] = json!(["other", "lakegate"]);
    c["azp"] = json!("other");
    assert!(check_claims(&c, ISS, "lakegate", &req, now).unwrap_err().to_string().contains("azp"));
    c["azp"] = json!("lakegate");
    assert_eq!(check_claims(&c, ISS, "lakegate", &req, now).unwrap(), "alice");
}
