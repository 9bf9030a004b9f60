//! Temporary credentials over sockets: requests signed with a session token minted under the
//! gateway's session key file act with the lakeFS token it carries (header and presigned auth);
//! expired, altered and foreign tokens are refused with S3's codes; the OIDC login endpoint's
//! refusals when lakeFS has no STS login or the request is malformed. (The OIDC sign-in itself,
//! with a real identity provider and third-party clients, is in conformance/oidc.)

mod common;

use common::s3::{EMPTY_SHA, Req, Stack, send, sign_request};
use lakegate::auth::session_token::{SessionClaims, SessionKeys, TempCredentials};
use std::time::{Duration, SystemTime};

fn now_unix() -> i64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs() as i64
}

/// The gateway's own session keys (the file it created on start), after creating repository `demo`.
async fn gateway_keys(stack: &Stack) -> SessionKeys {
    stack.lakefs.client().create_repository(&common::repo_creation("demo")).await.unwrap();
    SessionKeys::load(&stack.lakefs.data_dir.join("gateway").join("session.keys")).unwrap()
}

/// Credentials for the lakeFS admin's token, valid `secs` more seconds.
async fn admin_credentials(stack: &Stack, keys: &SessionKeys, secs: i64) -> TempCredentials {
    let l = &stack.lakefs;
    let token = l.client().login(&l.access_key_id, &l.secret_access_key).await.unwrap().token;
    keys.mint(&SessionClaims { lakefs_token: token, user: "admin".into(), expires: now_unix() + secs }).unwrap()
}

/// Sends `req` signed with (`ak`, `sk`) and `x-amz-security-token: token` (signed too).
async fn with_token(stack: &Stack, (ak, sk, token): (&str, &str, &str), req: Req<'_>) -> common::s3::Answer {
    let req = req.header("x-amz-security-token", token);
    let hash = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&req.body));
    let (path, headers) = sign_request(&req, &stack.host(), ak, sk, SystemTime::now(), &hash, None);
    send(stack, &path, req.method, &headers, req.body.clone()).await
}

fn parts(c: &TempCredentials) -> (&str, &str, &str) {
    (&c.access_key_id, &c.secret_access_key, &c.session_token)
}

#[tokio::test]
async fn session_credentials_act_with_the_token_they_carry() {
    let stack = Stack::start(false).await;
    let keys = gateway_keys(&stack).await;
    let creds = admin_credentials(&stack, &keys, 600).await;
    let put = with_token(&stack, parts(&creds), Req::new("PUT", "/demo/main/sso.txt").body(b"hello")).await;
    assert_eq!(put.status, 200, "{}", put.text());
    let get = with_token(&stack, parts(&creds), Req::new("GET", "/demo/main/sso.txt")).await;
    assert_eq!((get.status, get.body.as_slice()), (200, b"hello".as_slice()));
    // a presigned URL carries the token in its (signed) query
    let q = format!(
        "/demo/main/sso.txt?X-Amz-Security-Token={}",
        percent_encoding::utf8_percent_encode(&creds.session_token, percent_encoding::NON_ALPHANUMERIC)
    );
    let (path, headers) = sign_request(
        &Req::new("GET", &q),
        &stack.host(),
        &creds.access_key_id,
        &creds.secret_access_key,
        SystemTime::now(),
        EMPTY_SHA,
        Some(Duration::from_secs(60)),
    );
    let got = send(&stack, &path, "GET", &headers, Vec::new()).await;
    assert_eq!((got.status, got.body.as_slice()), (200, b"hello".as_slice()), "{}", got.text());
}

#[tokio::test]
async fn expired_altered_and_foreign_tokens_are_refused() {
    let stack = Stack::start(false).await;
    let keys = gateway_keys(&stack).await;
    let list = || Req::new("GET", "/demo?list-type=2");
    let expired = admin_credentials(&stack, &keys, -1).await;
    let a = with_token(&stack, parts(&expired), list()).await;
    assert_eq!((a.status, a.code()), (400, "ExpiredToken".to_string()), "{}", a.text());
    assert!(a.text().contains("<RequestId>"), "{}", a.text());

    let good = admin_credentials(&stack, &keys, 600).await;
    let mut chars: Vec<char> = good.session_token.chars().collect();
    let mid = chars.len() / 2;
    chars[mid] = if chars[mid] == 'A' { 'B' } else { 'A' };
    let altered: String = chars.into_iter().collect();
    let a = with_token(&stack, (&good.access_key_id, &good.secret_access_key, &altered), list()).await;
    assert_eq!((a.status, a.code()), (400, "InvalidToken".to_string()), "{}", a.text());

    let other = SessionKeys::from_text("k1 ffffffffffffffffffffffffffffffffffffffff\n").unwrap();
    let foreign = admin_credentials(&stack, &other, 600).await;
    let a = with_token(&stack, parts(&foreign), list()).await;
    assert_eq!(a.code(), "InvalidToken", "{}", a.text());

    let a = with_token(&stack, (&good.access_key_id, "not-the-secret", &good.session_token), list()).await;
    assert_eq!((a.status, a.code()), (403, "SignatureDoesNotMatch".to_string()), "{}", a.text());
    // a long-term key with a session token it was not issued with
    let (ak, sk) = (stack.access_key_id.clone(), stack.secret_access_key.clone());
    let a = with_token(&stack, (&ak, &sk, &good.session_token), list()).await;
    assert_eq!((a.status, a.code()), (403, "InvalidAccessKeyId".to_string()), "{}", a.text());
    // and the good one works
    let a = with_token(&stack, parts(&good), list()).await;
    assert_eq!(a.status, 200, "{}", a.text());
}

#[tokio::test]
async fn the_login_endpoint_refuses_what_it_cannot_serve() {
    let stack = Stack::start(false).await;
    let stack = &stack;
    let post = |body: &str| {
        let body = body.as_bytes().to_vec();
        let headers = vec![("host".to_string(), stack.host()), ("content-type".to_string(), "application/json".into())];
        async move { send(stack, "/_lakegate/sts/oidc", "POST", &headers, body).await }
    };
    let ok_shape = r#"{"code":"c","state":"s","redirect_uri":"http://127.0.0.1:1/callback"}"#;
    // this lakeFS has no authentication service: stsLogin answers 501, so does the endpoint
    let a = post(ok_shape).await;
    assert_eq!((a.status, a.code()), (501, "NotImplemented".to_string()), "{}", a.text());
    assert!(a.text().contains("<RequestId>"));
    for (body, code) in [
        ("not json", "InvalidRequest"),
        (r#"{"code":"c","state":"s"}"#, "InvalidRequest"),
        (r#"{"code":"","state":"s","redirect_uri":"r"}"#, "InvalidRequest"),
        (r#"{"code":"c","state":"s","redirect_uri":"r","surprise":1}"#, "InvalidRequest"),
        (r#"{"code":"c","state":"s","redirect_uri":"r","ttl_seconds":0}"#, "InvalidArgument"),
        (r#"{"code":"c","state":"s","redirect_uri":"r","ttl_seconds":43201}"#, "InvalidArgument"),
    ] {
        let a = post(body).await;
        assert_eq!((a.status, a.code()), (400, code.to_string()), "{body}: {}", a.text());
    }
    let big = format!(r#"{{"code":"{}","state":"s","redirect_uri":"r"}}"#, "x".repeat(20_000));
    assert_eq!(post(&big).await.code(), "MaxMessageLengthExceeded");
    let headers = vec![("host".to_string(), stack.host())];
    let a = send(stack, "/_lakegate/sts/oidc", "GET", &headers, Vec::new()).await;
    assert_eq!((a.status, a.code()), (405, "MethodNotAllowed".to_string()), "{}", a.text());
}

#[tokio::test]
async fn sigv2_requests_carry_the_token_as_an_amz_header() {
    use base64::Engine;
    use hmac::Mac;
    let stack = Stack::start(false).await; // the tests' gateway accepts SigV2
    let keys = gateway_keys(&stack).await;
    let creds = admin_credentials(&stack, &keys, 600).await;
    let date = httpdate::fmt_http_date(SystemTime::now());
    let send_v2 = |secret: &str| {
        let sts = format!("GET\n\n\n{date}\nx-amz-security-token:{}\n/demo?location", creds.session_token);
        let mut mac = hmac::Hmac::<sha1::Sha1>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(sts.as_bytes());
        let sig = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
        let headers = vec![
            ("host".to_string(), stack.host()),
            ("date".to_string(), date.clone()),
            ("x-amz-security-token".to_string(), creds.session_token.clone()),
            ("authorization".to_string(), format!("AWS {}:{sig}", creds.access_key_id)),
        ];
        let stack = &stack;
        async move { send(stack, "/demo?location", "GET", &headers, vec![]).await }
    };
    let a = send_v2(&creds.secret_access_key).await;
    assert_eq!(a.status, 200, "{}", a.text());
    let a = send_v2("wrong").await;
    assert_eq!((a.status, a.code().as_str()), (403, "SignatureDoesNotMatch"));
}
