//! Multipart uploads through the S3 front door, signed by our own harness for what SDKs will not
//! send: raw part bodies (hashed and aws-chunked), tampered and misplaced upload ids, bad part
//! lists, copy ranges; on presigning storage (lakeFS's presigned multipart API) and on storage
//! that cannot presign (parts spooled by lakegate, object sent through lakeFS `uploadObject`).

mod common;

use common::s3::*;
use common::*;
use md5::Digest;

const MIB: usize = 1 << 20;

async fn stack(presign: bool) -> Stack {
    let s = Stack::start_opts(false, false, presign).await;
    s.lakefs.client().create_repository(&repo_creation("mpu")).await.unwrap();
    s
}

async fn create(stack: &Stack, key: &str, headers: &[(&str, &str)]) -> String {
    let path = format!("/mpu/{key}?uploads");
    let mut req = Req::new("POST", &path);
    for (k, v) in headers {
        req = req.header(k, v);
    }
    let a = signed(stack, req).await;
    assert_eq!(a.status, 200, "{}", a.text());
    tag_values(&a.text(), "UploadId").remove(0)
}

fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

async fn part(stack: &Stack, key: &str, id: &str, n: u32, data: &[u8]) -> Answer {
    signed(stack, Req::new("PUT", &format!("/mpu/{key}?partNumber={n}&uploadId={}", enc(id))).body(data)).await
}

fn complete_xml(parts: &[(u32, &str)]) -> Vec<u8> {
    let mut x = String::from("<CompleteMultipartUpload>");
    for (n, etag) in parts {
        x.push_str(&format!("<Part><PartNumber>{n}</PartNumber><ETag>{etag}</ETag></Part>"));
    }
    x.push_str("</CompleteMultipartUpload>");
    x.into_bytes()
}

async fn complete(stack: &Stack, key: &str, id: &str, parts: &[(u32, &str)]) -> Answer {
    let path = format!("/mpu/{key}?uploadId={}", enc(id));
    signed(stack, Req::new("POST", &path).body(&complete_xml(parts))).await
}

fn multipart_etag(parts: &[&[u8]]) -> String {
    let mut all = Vec::new();
    for p in parts {
        all.extend(md5::Md5::digest(p));
    }
    format!("\"{}-{}\"", hex::encode(md5::Md5::digest(&all)), parts.len())
}

async fn round_trip(presign: bool) {
    let stack = stack(presign).await;
    let key = "main/dir/obj.bin";
    let id = create(&stack, key, &[("content-type", "text/x-test"), ("x-amz-meta-color", "blue")]).await;
    let (p1, p2) = (pattern(5 * MIB, 1), pattern(1234, 2));
    let a1 = part(&stack, key, &id, 1, &p1).await;
    assert_eq!((a1.status, &a1.headers["etag"]), (200, &format!("\"{}\"", md5_hex(&p1)).parse().unwrap()));
    let a2 = part(&stack, key, &id, 2, &p2).await;
    assert_eq!(a2.status, 200, "{}", a2.text());
    let listed = signed(&stack, Req::new("GET", &format!("/mpu/{key}?uploadId={}", enc(&id)))).await;
    assert_eq!(tag_values(&listed.text(), "PartNumber"), ["1", "2"]);
    assert_eq!(tag_values(&listed.text(), "Size"), [(5 * MIB).to_string(), "1234".to_string()]);
    let uploads = signed(&stack, Req::new("GET", "/mpu?uploads&prefix=main/dir/")).await;
    assert_eq!(tag_values(&uploads.text(), "Key"), [key]);
    let (e1, e2) = (format!("\"{}\"", md5_hex(&p1)), format!("\"{}\"", md5_hex(&p2)));
    let done = complete(&stack, key, &id, &[(1, &e1), (2, &e2)]).await;
    assert_eq!(done.status, 200, "{}", done.text());
    let etag = tag_values(&done.text(), "ETag").remove(0).replace("&quot;", "\"");
    let got = signed(&stack, Req::new("GET", &format!("/mpu/{key}"))).await;
    assert_eq!(got.body.len(), p1.len() + p2.len());
    assert!(got.body[..p1.len()] == p1[..] && got.body[p1.len()..] == p2[..], "bytes differ");
    assert_eq!(got.headers["etag"], etag.as_str());
    assert_eq!(got.headers["content-type"], "text/x-test");
    assert_eq!(got.headers["x-amz-meta-color"], "blue");
    if presign {
        assert_eq!(etag, multipart_etag(&[&p1, &p2]));
    }
    let after = signed(&stack, Req::new("GET", "/mpu?uploads")).await;
    assert!(tag_values(&after.text(), "Key").is_empty(), "{}", after.text());
}

#[tokio::test]
async fn round_trip_on_presigned_multipart() {
    round_trip(true).await;
}

#[tokio::test]
async fn round_trip_spooled_through_lakefs() {
    round_trip(false).await;
}

#[tokio::test]
async fn tampered_and_misplaced_upload_ids_are_no_such_upload() {
    let stack = stack(true).await;
    let id = create(&stack, "main/a", &[]).await;
    let mut tampered = id.clone().into_bytes();
    tampered[5] = if tampered[5] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    for (key, upload) in [("main/a", tampered.as_str()), ("main/b", id.as_str()), ("main/a", "nonsense")] {
        let a = part(&stack, key, upload, 1, b"x").await;
        assert_eq!((a.status, a.code()), (404, "NoSuchUpload".to_string()), "{key} {upload}");
    }
    let other_branch = part(&stack, "other/a", &id, 1, b"x").await;
    assert_eq!(other_branch.code(), "NoSuchUpload");
    let aborted = signed(&stack, Req::new("DELETE", &format!("/mpu/main/a?uploadId={}", enc(&id)))).await;
    assert_eq!(aborted.status, 204, "{}", aborted.text());
    for a in [
        part(&stack, "main/a", &id, 1, b"x").await,
        signed(&stack, Req::new("GET", &format!("/mpu/main/a?uploadId={}", enc(&id)))).await,
        signed(&stack, Req::new("DELETE", &format!("/mpu/main/a?uploadId={}", enc(&id)))).await,
    ] {
        assert_eq!((a.status, a.code()), (404, "NoSuchUpload".to_string()), "{}", a.text());
    }
}

#[tokio::test]
async fn bad_part_lists_get_s3_codes_and_leave_no_object() {
    for presign in [true, false] {
        let stack = stack(presign).await;
        let id = create(&stack, "main/bad", &[]).await;
        let (small, last) = (pattern(1000, 3), pattern(10, 4));
        assert_eq!(part(&stack, "main/bad", &id, 1, &small).await.status, 200);
        assert_eq!(part(&stack, "main/bad", &id, 2, &last).await.status, 200);
        let (e1, e2) = (format!("\"{}\"", md5_hex(&small)), format!("\"{}\"", md5_hex(&last)));
        let cases: Vec<(Vec<(u32, &str)>, &str)> = vec![
            (vec![(2, &e2), (1, &e1)], "InvalidPartOrder"),
            (vec![(1, "\"00000000000000000000000000000000\""), (2, &e2)], "InvalidPart"),
            (vec![(1, &e1), (2, "\"00000000000000000000000000000000\"")], "InvalidPart"),
            (vec![(3, &e2)], "InvalidPart"),
            (vec![(1, &e1), (2, &e2)], "EntityTooSmall"),
            (vec![], "MalformedXML"),
        ];
        for (parts, code) in cases {
            let a = complete(&stack, "main/bad", &id, &parts).await;
            assert_eq!((a.status, a.code()), (400, code.to_string()), "presign={presign} {parts:?}: {}", a.text());
        }
        let head = signed(&stack, Req::new("HEAD", "/mpu/main/bad")).await;
        assert_eq!(head.status, 404);
        // The upload is intact: a valid list (one small part is also the last) completes.
        let ok = complete(&stack, "main/bad", &id, &[(1, &e1)]).await;
        assert_eq!(ok.status, 200, "{}", ok.text());
        assert_eq!(signed(&stack, Req::new("GET", "/mpu/main/bad")).await.body, small);
    }
}

#[tokio::test]
async fn chunked_parts_are_verified_before_they_count() {
    let stack = stack(true).await;
    let key = "main/chunked";
    let id = create(&stack, key, &[("x-amz-checksum-algorithm", "CRC32")]).await;
    let data = pattern(300_000, 5);
    let path = format!("/mpu/{key}?partNumber=1&uploadId={}", enc(&id));
    let mode = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";
    let bad = put_chunked(&stack, &path, &data, mode, Some(("x-amz-checksum-crc32", crc32_b64(b"other"))), &[]).await;
    assert_eq!((bad.status, bad.code()), (400, "BadDigest".to_string()), "{}", bad.text());
    let listed = signed(&stack, Req::new("GET", &format!("/mpu/{key}?uploadId={}", enc(&id)))).await;
    assert!(tag_values(&listed.text(), "PartNumber").is_empty(), "{}", listed.text());
    let good = put_chunked(&stack, &path, &data, mode, Some(("x-amz-checksum-crc32", crc32_b64(&data))), &[]).await;
    assert_eq!(good.status, 200, "{}", good.text());
    assert_eq!(good.headers["x-amz-checksum-crc32"], crc32_b64(&data).as_str());
    let wrong_alg = part(&stack, key, &id, 2, b"x").await;
    assert_eq!(wrong_alg.status, 200, "a part without a checksum gets the upload's computed");
    let crc32c = signed(
        &stack,
        Req::new("PUT", &format!("/mpu/{key}?partNumber=3&uploadId={}", enc(&id)))
            .header("x-amz-checksum-crc32c", "AAAAAA==")
            .body(b""),
    )
    .await;
    assert_eq!((crc32c.status, crc32c.code()), (400, "InvalidRequest".to_string()), "{}", crc32c.text());
    let etag = format!("\"{}\"", md5_hex(&data));
    let done = complete(&stack, key, &id, &[(1, &etag)]).await;
    assert_eq!(done.status, 200, "{}", done.text());
    let composite = tag_values(&done.text(), "ChecksumCRC32").remove(0);
    assert!(composite.ends_with("-1"), "{composite}");
    let head = signed(&stack, Req::new("HEAD", &format!("/mpu/{key}")).header("x-amz-checksum-mode", "ENABLED")).await;
    assert_eq!(head.headers["x-amz-checksum-crc32"], composite.as_str());
}

#[tokio::test]
async fn copied_parts_take_ranges_of_other_objects() {
    let stack = stack(true).await;
    let src = pattern(6 * MIB, 6);
    let put = signed(&stack, Req::new("PUT", "/mpu/main/src.bin").body(&src)).await;
    assert_eq!(put.status, 200);
    let id = create(&stack, "main/copy", &[]).await;
    let mut etags = Vec::new();
    for (n, range) in [(1, "bytes=0-5242879"), (2, "bytes=6291455-6291455")] {
        let path = format!("/mpu/main/copy?partNumber={n}&uploadId={}", enc(&id));
        let req = Req::new("PUT", &path)
            .header("x-amz-copy-source", "/mpu/main/src.bin")
            .header("x-amz-copy-source-range", range);
        let a = signed(&stack, req).await;
        assert_eq!(a.status, 200, "{}", a.text());
        etags.push(tag_values(&a.text(), "ETag").remove(0).replace("&quot;", "\""));
    }
    for bad in ["bytes=5-1", "bytes=0-6291456", "items=0-1", "bytes=1-"] {
        let path = format!("/mpu/main/copy?partNumber=3&uploadId={}", enc(&id));
        let req = Req::new("PUT", &path)
            .header("x-amz-copy-source", "/mpu/main/src.bin")
            .header("x-amz-copy-source-range", bad);
        let a = signed(&stack, req).await;
        assert_eq!((a.status, a.code()), (400, "InvalidArgument".to_string()), "{bad}: {}", a.text());
    }
    let done = complete(&stack, "main/copy", &id, &[(1, &etags[0]), (2, &etags[1])]).await;
    assert_eq!(done.status, 200, "{}", done.text());
    let got = signed(&stack, Req::new("GET", "/mpu/main/copy")).await;
    let mut want = src[..5 * MIB].to_vec();
    want.push(src[src.len() - 1]);
    assert!(got.body == want, "copied bytes differ");
}
