//! The S3 front door over real sockets, plain and TLS: requests signed by our own harness are
//! accepted or refused with the right S3 error; bytes written through lakeFS read back through S3.

mod common;

use common::s3::*;
use common::*;
use lakefs_api::dto::StagingMetadata;
use std::time::{Duration, SystemTime};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn stack_with_repo(tls: bool) -> Stack {
    let stack = Stack::start(tls).await;
    stack.lakefs.client().create_repository(&repo_creation("front")).await.unwrap();
    stack
}

async fn put_via_lakefs(stack: &Stack, path: &str, data: &[u8]) {
    let c = stack.lakefs.client();
    let loc = c.get_physical_address("front", "main", path, true).await.unwrap();
    let (status, headers, _) =
        raw(&raw_client(), "PUT", loc.presigned_url.as_deref().unwrap(), &[], data.to_vec()).await;
    assert_eq!(status, 200);
    let meta = StagingMetadata {
        staging: loc,
        checksum: headers["etag"].to_str().unwrap().into(),
        size_bytes: data.len() as i64,
        user_metadata: Some([("X-Amz-Meta-color".to_string(), "blue".to_string())].into()),
        content_type: Some("text/plain".into()),
        mtime: None,
        force: None,
    };
    c.link_physical_address("front", "main", path, &meta, false).await.unwrap();
}

async fn accepted_and_refused(tls: bool) {
    let stack = stack_with_repo(tls).await;
    let ok = signed(&stack, Req::new("GET", "/")).await;
    assert_eq!(ok.status, 200, "{}", ok.text());
    assert!(ok.text().contains("<Name>front</Name>"));
    assert_eq!(ok.headers["x-amz-request-id"].len(), 16);

    let host = stack.host();
    let (ak, sk) = (stack.access_key_id.clone(), stack.secret_access_key.clone());
    let now = SystemTime::now();
    let cases: Vec<(&str, String, SystemTime, u16, &str)> = vec![
        ("wrong secret", "nope".into(), now, 403, "SignatureDoesNotMatch"),
        ("clock skew", sk.clone(), now - Duration::from_secs(20 * 60), 403, "RequestTimeTooSkewed"),
        ("future", sk.clone(), now + Duration::from_secs(20 * 60), 403, "RequestTimeTooSkewed"),
    ];
    for (what, secret, time, status, code) in cases {
        let (path, headers) = sign_request(&Req::new("GET", "/"), &host, &ak, &secret, time, EMPTY_SHA, None);
        let a = send(&stack, &path, "GET", &headers, vec![]).await;
        assert_eq!((a.status, a.code().as_str()), (status, code), "{what}: {}", a.text());
        assert!(a.text().contains("<RequestId>"), "{what}");
    }
    let (path, headers) = sign_request(&Req::new("GET", "/"), &host, "UNKNOWNKEY", &sk, now, EMPTY_SHA, None);
    assert_eq!(send(&stack, &path, "GET", &headers, vec![]).await.code(), "InvalidAccessKeyId");
    let anonymous = send(&stack, "/", "GET", &[("host".into(), host.clone())], vec![]).await;
    assert_eq!((anonymous.status, anonymous.code().as_str()), (403, "AccessDenied"));

    // Presigned URLs: valid, expired.
    let (path, headers) =
        sign_request(&Req::new("GET", "/front?location"), &host, &ak, &sk, now, "", Some(Duration::from_secs(60)));
    let a = send(&stack, &path, "GET", &headers, vec![]).await;
    assert_eq!(a.status, 200, "{}", a.text());
    let old = now - Duration::from_secs(3600);
    let (path, headers) =
        sign_request(&Req::new("GET", "/front?location"), &host, &ak, &sk, old, "", Some(Duration::from_secs(60)));
    let a = send(&stack, &path, "GET", &headers, vec![]).await;
    assert_eq!((a.status, a.code().as_str()), (403, "AccessDenied"));
    assert!(a.text().contains("Request has expired"));
}

#[tokio::test]
async fn signatures_accepted_and_refused_over_http() {
    accepted_and_refused(false).await;
}

#[tokio::test]
async fn signatures_accepted_and_refused_over_https() {
    accepted_and_refused(true).await;
}

#[tokio::test]
async fn routing_and_limits() {
    let stack = stack_with_repo(false).await;
    let a = signed(&stack, Req::new("GET", "/front?acl")).await;
    assert_eq!((a.status, a.code().as_str()), (501, "NotImplemented"));
    assert!(a.text().contains("GetBucketAcl"));
    let a = signed(&stack, Req::new("PATCH", "/front/main/x")).await;
    assert_eq!((a.status, a.code().as_str()), (405, "MethodNotAllowed"));
    let a = signed(&stack, Req::new("HEAD", "/missing")).await;
    assert_eq!((a.status, a.body.len()), (404, 0));
    let a = signed(&stack, Req::new("GET", "/missing?location")).await;
    assert_eq!((a.status, a.code().as_str()), (404, "NoSuchBucket"));
    let big = "x".repeat(9000);
    let a = signed(&stack, Req::new("GET", "/").header("x-amz-meta-big", &big)).await;
    assert_eq!((a.status, a.code().as_str()), (400, "RequestHeaderSectionTooLarge"));
    let long_key = format!("/front/main/{}", "k".repeat(1100));
    let a = signed(&stack, Req::new("GET", &long_key)).await;
    assert_eq!((a.status, a.code().as_str()), (400, "KeyTooLongError"));
    let v4a = send(&stack, "/", "GET", &[("host".into(), stack.host()), ("authorization".into(), "AWS4-ECDSA-P256-SHA256 Credential=a/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00".into())], vec![]).await;
    assert_eq!((v4a.status, v4a.code().as_str()), (501, "NotImplemented"));
}

#[tokio::test]
async fn virtual_host_addressing() {
    let stack = stack_with_repo(false).await;
    let req = Req::new("GET", "/?location");
    let host = "front.s3.local.test";
    let (path, headers) =
        sign_request(&req, host, &stack.access_key_id, &stack.secret_access_key, SystemTime::now(), EMPTY_SHA, None);
    let a = send(&stack, &path, "GET", &headers, vec![]).await;
    assert_eq!(a.status, 200, "{}", a.text());
    assert!(a.text().contains("LocationConstraint"));
}

#[tokio::test]
async fn expect_continue_is_refused_before_the_body() {
    let stack = stack_with_repo(false).await;
    let mut tcp = tokio::net::TcpStream::connect(stack.s3_addr).await.unwrap();
    let head = format!(
        "PUT /front/main/big HTTP/1.1\r\nHost: {}\r\nContent-Length: 100000000\r\nExpect: 100-continue\r\nx-amz-content-sha256: UNSIGNED-PAYLOAD\r\n\r\n",
        stack.host()
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(10), tcp.read(&mut buf))
        .await
        .expect("answer without the body")
        .unwrap();
    let text = String::from_utf8_lossy(&buf[..n]);
    assert!(text.starts_with("HTTP/1.1 403"), "{text}");
    assert!(!text.contains("100 Continue"), "{text}");
}

#[tokio::test]
async fn get_and_head_object_stream_from_the_store() {
    let stack = stack_with_repo(false).await;
    let data = pattern(300_000, 9);
    put_via_lakefs(&stack, "dir/obj.bin", &data).await;
    let a = signed(&stack, Req::new("GET", "/front/main/dir/obj.bin")).await;
    assert_eq!(a.status, 200, "{}", a.text());
    assert!(a.body == data);
    assert_eq!(a.headers["etag"], format!("\"{}\"", md5_hex(&data)));
    assert_eq!(a.headers["x-amz-meta-color"], "blue");
    assert_eq!(a.headers["content-type"], "text/plain");
    let a = signed(&stack, Req::new("GET", "/front/main/dir/obj.bin").header("range", "bytes=100-199")).await;
    assert_eq!((a.status, &a.body[..]), (206, &data[100..200]));
    assert_eq!(a.headers["content-range"], format!("bytes 100-199/{}", data.len()));
    let a = signed(&stack, Req::new("GET", "/front/main/dir/obj.bin").header("range", "bytes=999999-")).await;
    assert_eq!((a.status, a.code().as_str()), (416, "InvalidRange"));
    let etag = format!("\"{}\"", md5_hex(&data));
    let a = signed(&stack, Req::new("GET", "/front/main/dir/obj.bin").header("if-none-match", &etag)).await;
    assert_eq!((a.status, a.body.len()), (304, 0));
    let a = signed(&stack, Req::new("GET", "/front/main/dir/obj.bin").header("if-match", "\"other\"")).await;
    assert_eq!((a.status, a.code().as_str()), (412, "PreconditionFailed"));
    let a = signed(&stack, Req::new("HEAD", "/front/main/dir/obj.bin")).await;
    assert_eq!((a.status, a.headers["content-length"].to_str().unwrap()), (200, "300000"));
    assert!(a.body.is_empty());
    let a = signed(&stack, Req::new("GET", "/front/main/missing")).await;
    assert_eq!((a.status, a.code().as_str()), (404, "NoSuchKey"));
    let a = signed(&stack, Req::new("GET", "/nobucket/main/x")).await;
    assert_eq!((a.status, a.code().as_str()), (404, "NoSuchBucket"));
    let a = signed(&stack, Req::new("GET", "/front/main/dir/obj.bin?response-content-type=application%2Fx-test")).await;
    assert_eq!(a.headers["content-type"], "application/x-test");
}

#[tokio::test]
async fn http2_by_alpn_with_authority_instead_of_host() {
    let stack = stack_with_repo(true).await;
    let data = pattern(70_000, 4);
    put_via_lakefs(&stack, "h2.bin", &data).await;
    let (path, headers) = sign_request(
        &Req::new("GET", "/front/main/h2.bin"),
        &stack.host(),
        &stack.access_key_id,
        &stack.secret_access_key,
        SystemTime::now(),
        EMPTY_SHA,
        None,
    );
    let (a, version) = send_h2(&stack, &path, "GET", &headers, vec![]).await;
    assert_eq!(version, http::Version::HTTP_2);
    assert_eq!(a.status, 200, "{}", a.text());
    assert!(a.body == data);
}

#[tokio::test]
async fn unsized_plain_bodies_need_a_content_length() {
    let stack = stack_with_repo(false).await;
    let req = Req::new("PUT", "/front/main/unsized");
    let (path, headers) = sign_request(
        &req,
        &stack.host(),
        &stack.access_key_id,
        &stack.secret_access_key,
        SystemTime::now(),
        "UNSIGNED-PAYLOAD",
        None,
    );
    let mut tcp = tokio::net::TcpStream::connect(stack.s3_addr).await.unwrap();
    let mut head = format!("PUT {path} HTTP/1.1\r\nTransfer-Encoding: chunked\r\n");
    for (k, v) in &headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n5\r\nhello\r\n0\r\n\r\n");
    tcp.write_all(head.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(10), tcp.read(&mut buf)).await.unwrap().unwrap();
    let text = String::from_utf8_lossy(&buf[..n]);
    assert!(text.starts_with("HTTP/1.1 411"), "{text}");
    assert!(text.contains("<Code>MissingContentLength</Code>"), "{text}");
}

#[tokio::test]
async fn shutdown_lets_in_flight_downloads_finish() {
    use http_body_util::BodyExt;
    let mut stack = stack_with_repo(false).await;
    let data = pattern(8 * 1024 * 1024, 5);
    put_via_lakefs(&stack, "slow.bin", &data).await;
    let (path, headers) = sign_request(
        &Req::new("GET", "/front/main/slow.bin"),
        &stack.host(),
        &stack.access_key_id,
        &stack.secret_access_key,
        SystemTime::now(),
        EMPTY_SHA,
        None,
    );
    let tcp = tokio::net::TcpStream::connect(stack.s3_addr).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tcp)).await.unwrap();
    tokio::spawn(conn);
    let mut b = http::Request::builder().method("GET").uri(&path);
    for (k, v) in &headers {
        b = b.header(k.as_str(), v.as_str());
    }
    let resp = sender.send_request(b.body(http_body_util::Empty::<bytes::Bytes>::new()).unwrap()).await.unwrap();
    assert_eq!(resp.status(), 200);
    let mut body = resp.into_body();
    let first = body.frame().await.unwrap().unwrap().into_data().unwrap();
    stack.shutdown();
    tokio::time::sleep(Duration::from_millis(200)).await;
    // New connections are no longer accepted…
    assert!(tokio::net::TcpStream::connect(stack.s3_addr).await.is_err());
    // …but the download in flight completes.
    let mut got = first.to_vec();
    while let Some(frame) = body.frame().await {
        if let Ok(d) = frame.unwrap().into_data() {
            got.extend_from_slice(&d);
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    assert!(got == data, "in-flight body complete ({} of {} bytes)", got.len(), data.len());
}

#[tokio::test]
async fn sigv2_header_auth_when_enabled() {
    use base64::Engine;
    use hmac::Mac;
    let stack = stack_with_repo(false).await;
    let date = httpdate::fmt_http_date(SystemTime::now());
    let sign = |secret: &str| {
        let sts = format!("GET\n\n\n{date}\n/front?location");
        let mut mac = hmac::Hmac::<sha1::Sha1>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(sts.as_bytes());
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    };
    let headers = |sig: String| {
        vec![
            ("host".to_string(), stack.host()),
            ("date".to_string(), date.clone()),
            ("authorization".to_string(), format!("AWS {}:{sig}", stack.access_key_id)),
        ]
    };
    let a = send(&stack, "/front?location", "GET", &headers(sign(&stack.secret_access_key)), vec![]).await;
    assert_eq!(a.status, 200, "{}", a.text());
    let a = send(&stack, "/front?location", "GET", &headers(sign("wrong")), vec![]).await;
    assert_eq!((a.status, a.code().as_str()), (403, "SignatureDoesNotMatch"));
}
