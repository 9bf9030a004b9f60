use super::*;
use crate::auth::{KeyEntry, KeyMode, StaticKeys};
use http_body_util::BodyExt;
use lakefs_api::aws_iam::IdentitySigner;
use std::time::Duration;

const HOST: &str = "127.0.0.1:9000";

fn store() -> StaticKeys {
    StaticKeys::of([KeyEntry {
        access_key_id: "LGALICE".into(),
        secret_access_key: "alice-secret-0123".into(),
        principal_id: "arn:lakegate:iam::key/<alice>".into(),
        mode: KeyMode::Principal,
    }])
}

/// The request lakeFS sends for a token signed with `(ak, sk)` for `server_id`, carrying `sent_id`.
fn replayed(ak: &str, sk: &str, server_id: &str, sent_id: &str, at: SystemTime) -> http::request::Parts {
    let signer = IdentitySigner {
        sts_host: HOST,
        region: "us-east-1",
        server_id,
        access_key_id: ak,
        secret_access_key: sk,
        session_token: None,
    };
    let token = signer.token_info(at).unwrap();
    let uri = format!("/?{}", lakefs_embedded::sts::presigned_query(&token));
    let req = http::Request::post(uri).header("host", HOST).header("x-lakefs-server-id", sent_id).body(()).unwrap();
    req.into_parts().0
}

async fn answer(parts: &http::request::Parts, now: SystemTime) -> (StatusCode, String) {
    assert!(is_get_caller_identity(parts));
    let resp = handle_get_caller_identity(&store(), parts, "REQ1", now);
    let status = resp.status();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn a_token_signed_by_a_gateway_key_proves_its_principal() {
    let now = SystemTime::now();
    let (status, body) = answer(&replayed("LGALICE", "alice-secret-0123", "lakefs-1", "lakefs-1", now), now).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("<Arn>arn:lakegate:iam::key/&lt;alice&gt;</Arn>"), "{body}");
    assert!(body.contains("<UserId>LGALICE</UserId>") && body.contains("<RequestId>REQ1"));
}

#[tokio::test]
async fn bad_signatures_unknown_keys_other_servers_and_old_tokens_are_refused() {
    let now = SystemTime::now();
    let cases = [
        (replayed("LGALICE", "wrong-secret-0123", "lakefs-1", "lakefs-1", now), now, "SignatureDoesNotMatch"),
        (replayed("LGNOBODY", "alice-secret-0123", "lakefs-1", "lakefs-1", now), now, "InvalidClientTokenId"),
        (replayed("LGALICE", "alice-secret-0123", "lakefs-1", "lakefs-2", now), now, "SignatureDoesNotMatch"),
        (
            replayed("LGALICE", "alice-secret-0123", "lakefs-1", "lakefs-1", now - Duration::from_secs(3600)),
            now,
            "AccessDenied",
        ),
    ];
    for (parts, at, code) in cases {
        let (status, body) = answer(&parts, at).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        assert!(body.starts_with("<ErrorResponse") && body.contains(&format!("<Code>{code}</Code>")), "{body}");
    }
    let unsigned = http::Request::post("/?Action=GetCallerIdentity&Version=2011-06-15").body(()).unwrap();
    let (status, body) = answer(&unsigned.into_parts().0, now).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("MissingAuthenticationToken"));
    let s3_get = http::Request::get("/?Action=GetCallerIdentity").body(()).unwrap();
    assert!(!is_get_caller_identity(&s3_get.into_parts().0));
}
