//! PutObject through the S3 front door with every payload variant, signed by our own harness:
//! accepted bodies read back byte-exact; a bad signature or checksum is refused with the S3 code
//! and leaves no object behind.

mod common;

use common::s3::*;
use common::*;
use md5::Digest;

async fn stack(tls: bool) -> Stack {
    let s = Stack::start(tls).await;
    s.lakefs.client().create_repository(&repo_creation("puts")).await.unwrap();
    s
}

async fn read_back(stack: &Stack, path: &str) -> Answer {
    signed(stack, Req::new("GET", path)).await
}

async fn assert_absent(stack: &Stack, path: &str) {
    let a = signed(stack, Req::new("HEAD", path)).await;
    assert_eq!(a.status, 404, "{path} must not exist");
}

async fn variants(tls: bool) {
    let stack = stack(tls).await;
    let data = pattern(200_000, 1);
    let crc = crc32_b64(&data);
    let cases: Vec<(&str, Option<(&str, String)>)> = vec![
        ("STREAMING-AWS4-HMAC-SHA256-PAYLOAD", None),
        ("STREAMING-UNSIGNED-PAYLOAD-TRAILER", Some(("x-amz-checksum-crc32", crc.clone()))),
        ("STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", Some(("x-amz-checksum-crc32", crc.clone()))),
    ];
    for (i, (mode, trailer)) in cases.into_iter().enumerate() {
        let path = format!("/puts/main/v{i}");
        let a = put_chunked(&stack, &path, &data, mode, trailer, &[]).await;
        assert_eq!(a.status, 200, "{mode}: {}", a.text());
        assert_eq!(a.headers["etag"], format!("\"{}\"", md5_hex(&data)), "{mode}");
        let back = read_back(&stack, &path).await;
        assert!(back.body == data, "{mode}: bytes differ");
    }
    // Hashed payload with an additional checksum header, as boto3 sends over HTTP.
    let a = signed(&stack, Req::new("PUT", "/puts/main/hashed").header("x-amz-checksum-crc32", &crc).body(&data)).await;
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(a.headers["x-amz-checksum-crc32"], crc.as_str());
    let back = signed(&stack, Req::new("GET", "/puts/main/hashed").header("x-amz-checksum-mode", "ENABLED")).await;
    assert_eq!(back.headers["x-amz-checksum-crc32"], crc.as_str());
    assert!(back.body == data);
}

#[tokio::test]
async fn every_payload_variant_round_trips_over_http() {
    variants(false).await;
}

#[tokio::test]
async fn every_payload_variant_round_trips_over_https() {
    variants(true).await;
}

#[tokio::test]
async fn bad_checksums_and_signatures_link_nothing() {
    let stack = stack(false).await;
    let data = pattern(150_000, 2);
    let wrong = crc32_b64(b"something else");
    let a = put_chunked(
        &stack,
        "/puts/main/t1",
        &data,
        "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        Some(("x-amz-checksum-crc32", wrong.clone())),
        &[],
    )
    .await;
    assert_eq!((a.status, a.code().as_str()), (400, "BadDigest"), "{}", a.text());
    assert_absent(&stack, "/puts/main/t1").await;

    let a = signed(&stack, Req::new("PUT", "/puts/main/t2").header("x-amz-checksum-crc32", &wrong).body(&data)).await;
    assert_eq!((a.status, a.code().as_str()), (400, "BadDigest"));
    assert_absent(&stack, "/puts/main/t2").await;

    // A signed payload hash that is not the body's.
    let req = Req::new("PUT", "/puts/main/t3");
    let fake = hex::encode(<sha2::Sha256 as Digest>::digest(b"other"));
    let (path, mut headers) = sign_request(
        &req,
        &stack.host(),
        &stack.access_key_id,
        &stack.secret_access_key,
        std::time::SystemTime::now(),
        &fake,
        None,
    );
    headers.push(("content-length".into(), data.len().to_string()));
    let a = send(&stack, &path, "PUT", &headers, data.clone()).await;
    assert_eq!((a.status, a.code().as_str()), (400, "XAmzContentSHA256Mismatch"), "{}", a.text());
    assert_absent(&stack, "/puts/main/t3").await;

    // Content-MD5: wrong, then malformed.
    let md5_other = base64_of(&md5::Md5::digest(b"x"));
    let a = signed(&stack, Req::new("PUT", "/puts/main/t4").header("content-md5", &md5_other).body(&data)).await;
    assert_eq!((a.status, a.code().as_str()), (400, "BadDigest"));
    assert_absent(&stack, "/puts/main/t4").await;
    let a = signed(&stack, Req::new("PUT", "/puts/main/t4").header("content-md5", "nope").body(&data)).await;
    assert_eq!((a.status, a.code().as_str()), (400, "InvalidDigest"));
    let good_md5 = base64_of(&md5::Md5::digest(&data));
    let a = signed(&stack, Req::new("PUT", "/puts/main/t4").header("content-md5", &good_md5).body(&data)).await;
    assert_eq!(a.status, 200, "{}", a.text());

    // A chunk signature that does not chain from the seed.
    let a = put_chunked(&stack, "/puts/main/t5", &data, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", None, &[]).await;
    assert_eq!(a.status, 200);
    let body = chunked_body(
        &data,
        &Chunking {
            chunk_size: 65536,
            signer: Some((vec![0; 32], "20260101T000000Z".into(), "s".into(), "0".repeat(64))),
            trailer: None,
        },
    );
    let req = Req::new("PUT", "/puts/main/t6")
        .header("content-encoding", "aws-chunked")
        .header("x-amz-decoded-content-length", &data.len().to_string());
    let (path, mut headers) = sign_request(
        &req,
        &stack.host(),
        &stack.access_key_id,
        &stack.secret_access_key,
        std::time::SystemTime::now(),
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        None,
    );
    headers.push(("content-length".into(), body.len().to_string()));
    let a = send(&stack, &path, "PUT", &headers, body).await;
    assert_eq!((a.status, a.code().as_str()), (403, "SignatureDoesNotMatch"));
    assert_absent(&stack, "/puts/main/t6").await;
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[tokio::test]
async fn lengths_limits_and_conditions() {
    let stack = stack(false).await;
    let data = pattern(10_000, 3);
    // The decoded length must match the declared one.
    let a = put_chunked(&stack, "/puts/main/len", &data, "STREAMING-UNSIGNED-PAYLOAD-TRAILER", None, &[]).await;
    assert_eq!(a.status, 200, "{}", a.text());
    let mut req = Req::new("PUT", "/puts/main/len2")
        .header("content-encoding", "aws-chunked")
        .header("x-amz-decoded-content-length", "10001");
    req.body = chunked_body(&data, &Chunking { chunk_size: 4096, signer: None, trailer: None });
    let (path, mut headers) = sign_request(
        &req,
        &stack.host(),
        &stack.access_key_id,
        &stack.secret_access_key,
        std::time::SystemTime::now(),
        "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        None,
    );
    headers.push(("content-length".into(), req.body.len().to_string()));
    let a = send(&stack, &path, "PUT", &headers, req.body.clone()).await;
    assert_eq!((a.status, a.code().as_str()), (400, "IncompleteBody"));
    assert_absent(&stack, "/puts/main/len2").await;

    let big_meta = "m".repeat(2100);
    let a = signed(&stack, Req::new("PUT", "/puts/main/meta").header("x-amz-meta-big", &big_meta).body(b"x")).await;
    assert_eq!((a.status, a.code().as_str()), (400, "MetadataTooLarge"));
    let a = signed(&stack, Req::new("PUT", "/puts/main/tagged").header("x-amz-tagging", "a=b").body(b"x")).await;
    assert_eq!((a.status, a.code().as_str()), (501, "NotImplemented"));

    let a = signed(&stack, Req::new("PUT", "/puts/main/once").header("if-none-match", "*").body(b"first")).await;
    assert_eq!(a.status, 200);
    let a = signed(&stack, Req::new("PUT", "/puts/main/once").header("if-none-match", "*").body(b"second")).await;
    assert_eq!((a.status, a.code().as_str()), (412, "PreconditionFailed"));
    assert_eq!(read_back(&stack, "/puts/main/once").await.body, b"first");

    let a = signed(&stack, Req::new("PUT", "/puts/nobranch/x").body(b"x")).await;
    assert_eq!((a.status, a.code().as_str()), (404, "NoSuchBucket"));
    let a = signed(&stack, Req::new("PUT", "/puts/main").body(b"x")).await;
    assert_eq!((a.status, a.code().as_str()), (400, "InvalidArgument"));

    let a = signed(
        &stack,
        Req::new("PUT", "/puts/main/typed")
            .header("content-type", "text/csv")
            .header("cache-control", "max-age=5")
            .header("x-amz-meta-owner", "me")
            .body(b"a,b"),
    )
    .await;
    assert_eq!(a.status, 200);
    let back = read_back(&stack, "/puts/main/typed").await;
    assert_eq!(
        (back.headers["content-type"].to_str().unwrap(), back.headers["cache-control"].to_str().unwrap()),
        ("text/csv", "max-age=5")
    );
    assert_eq!(back.headers["x-amz-meta-owner"], "me");
}
