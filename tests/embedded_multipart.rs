//! lakeFS's presigned multipart upload API on the embedded server, on both blockstores: parts PUT
//! to presigned part URLs or copied from other objects, completed into a byte-exact object with an
//! S3-style `-N` checksum; the S3 error cases (order, ETag, size, unknown upload, forged address);
//! abort; and an upload surviving a restart.
//!
//! On the S3 blockstore (the `LAKEGATE_TEST_S3_*` pass, SeaweedFS) the same calls map onto the S3
//! server's multipart API: part URLs point at the S3 object of the physical address, the stored
//! checksum is the S3 object's ETag. SeaweedFS deviates from AWS in one way these tests allow for:
//! its `UploadPartCopy` ETags are not the MD5 of the copied bytes (so neither is the final ETag).

mod common;

use common::*;
use http_body_util::BodyExt;
use lakefs_api::LakeFsClient;
use lakefs_api::dto::*;
use lakefs_embedded::s3store::S3Store;
use md5::Digest;
use std::collections::BTreeMap;

const MIB: usize = 1 << 20;

/// The S3 store the server runs on in the S3 pass, to look at objects behind its back.
fn s3_store() -> Option<S3Store> {
    test_s3().map(|cfg| S3Store::new(cfg).unwrap())
}

/// Whether `UploadPartCopy` ETags are the MD5 of the copied bytes (on AWS and the local blob
/// store; not on SeaweedFS).
fn copy_etags_are_md5() -> bool {
    test_s3().is_none()
}

async fn put_part(url: &str, data: &[u8]) -> String {
    let (status, headers, body) = raw(&raw_client(), "PUT", url, &[], data.to_vec()).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    headers["etag"].to_str().unwrap().to_string()
}

/// The S3 multipart ETag of parts: `hex(md5(concat(md5(part))))-N`.
fn multipart_etag(parts: &[&[u8]]) -> String {
    let mut all = md5::Md5::new();
    for p in parts {
        all.update(md5::Md5::digest(p));
    }
    format!("{}-{}", hex::encode(all.finalize()), parts.len())
}

async fn read_object(c: &LakeFsClient, repo: &str, path: &str) -> Vec<u8> {
    let resp = c.get_object(repo, "main", path, None, false).await.unwrap();
    resp.into_body().collect().await.unwrap().to_bytes().to_vec()
}

/// The HTTP status of a failed call.
fn status<T>(r: Result<T, lakefs_api::LakeFsError>) -> u16 {
    r.map(drop).unwrap_err().status().unwrap().as_u16()
}

fn part(n: i64, etag: &str) -> UploadPart {
    UploadPart { part_number: n, etag: etag.into() }
}

fn complete(address: &str, parts: Vec<UploadPart>) -> CompletePresignMultipartUpload {
    CompletePresignMultipartUpload { physical_address: address.into(), parts, ..Default::default() }
}

/// The `…/staging/pmpu/<upload id>?path=…` URL path of an upload.
fn pmpu_url(repo: &str, branch: &str, path: &str, upload_id: &str) -> String {
    format!("/repositories/{repo}/branches/{branch}/staging/pmpu/{upload_id}?path={path}")
}

/// A JSON call with the admin's basic credentials: `(status, body)`.
async fn call_json(server: &Server, method: &str, url: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
    let auth = basic(&server.access_key_id, &server.secret_access_key);
    call(server, method, url, Some(&auth), Some(body)).await
}

/// `completePresignMultipartUpload` as raw JSON: `(status, body)`.
async fn complete_raw(
    server: &Server,
    (repo, branch, path): (&str, &str, &str),
    upload_id: &str,
    address: &str,
    parts: Vec<UploadPart>,
) -> (u16, serde_json::Value) {
    let body = serde_json::to_value(complete(address, parts)).unwrap();
    call_json(server, "PUT", &pmpu_url(repo, branch, path, upload_id), body).await
}

/// lakeFS's answer when its S3 adapter's call fails: 500, the S3 SDK's error text for
/// `operation` with the store's `status` and `code` (modeled errors print without "api error").
fn store_refused((status, body): (u16, serde_json::Value), operation: &str, store_status: u16, code: &str) {
    let message = body["message"].as_str().unwrap_or_default();
    assert_eq!(status, 500, "{body}");
    let head = format!("operation error S3: {operation}, https response error StatusCode: {store_status}, RequestID: ");
    assert!(message.starts_with(&head), "{message}");
    let modeled = operation == "AbortMultipartUpload" && code == "NoSuchUpload";
    let api = if modeled { format!(", {code}: ") } else { format!(", api error {code}: ") };
    assert!(message.contains(&api), "{message}");
}

#[tokio::test]
async fn parts_round_trip_into_a_byte_exact_object() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path()).await;
    let c = server.client();
    c.create_repository(&repo_creation("mpu")).await.unwrap();
    let up = c.create_presign_multipart_upload("mpu", "main", "big/file.bin", Some(3)).await.unwrap();
    let urls = up.presigned_urls.clone().unwrap();
    assert_eq!(urls.len(), 3);
    assert!(urls[1].contains("partNumber=2") && urls[1].contains(&format!("uploadId={}", up.upload_id)));
    if let Some(cfg) = test_s3() {
        // S3 UploadPart URLs on the object key of the physical address.
        let key = up.physical_address.strip_prefix(&format!("s3://{}/", cfg.bucket)).unwrap();
        let key = key.replace(',', "%2C");
        assert!(urls[0].starts_with(&format!("{}/{}/{key}?", cfg.endpoint, cfg.bucket)), "{}", urls[0]);
    }
    let data: Vec<Vec<u8>> = vec![pattern(5 * MIB, 1), pattern(5 * MIB, 2), pattern(5 * MIB, 3), pattern(1234, 4)];
    // Parts may arrive out of order; part 4 gets its URL from uploadPart.
    let e3 = put_part(&urls[2], &data[2]).await;
    let e1 = put_part(&urls[0], &data[0]).await;
    let e2 = put_part(&urls[1], &data[1]).await;
    let from = UploadPartFrom { physical_address: up.physical_address.clone() };
    let to = c.upload_part("mpu", "main", "big/file.bin", &up.upload_id, 4, &from).await.unwrap();
    let e4 = put_part(&to.presigned_url, &data[3]).await;
    assert_eq!(e1, format!("\"{}\"", md5_hex(&data[0])));
    // A tampered part URL is refused.
    let (status, _, _) =
        raw(&raw_client(), "PUT", &urls[0].replace("partNumber=1", "partNumber=9"), &[], vec![1]).await;
    assert_eq!(status, 403);

    // ETags with or without their quotes (lakectl strips them).
    let e4 = e4.trim_matches('"');
    let mut req = complete(&up.physical_address, vec![part(1, &e1), part(2, &e2), part(3, &e3), part(4, e4)]);
    req.user_metadata = Some(BTreeMap::from([("k".to_string(), "v".to_string())]));
    req.content_type = Some("application/x-test".into());
    let stats = c.complete_presign_multipart_upload("mpu", "main", "big/file.bin", &up.upload_id, &req).await.unwrap();
    // lakeFS answers the address relative to the storage namespace here (unlike link).
    assert_eq!(
        Some(stats.physical_address.as_str()),
        up.physical_address.split_once("/data/").map(|(_, rest)| format!("data/{rest}")).as_deref()
    );
    let refs: Vec<&[u8]> = data.iter().map(Vec::as_slice).collect();
    assert_eq!(stats.checksum, multipart_etag(&refs));
    assert!(stats.checksum.ends_with("-4"));
    assert_eq!(stats.size_bytes, Some((15 * MIB + 1234) as i64));
    let stat = c.stat_object("mpu", "main", "big/file.bin", false).await.unwrap();
    assert_eq!(
        (stat.checksum.as_str(), stat.content_type.as_deref()),
        (stats.checksum.as_str(), Some("application/x-test"))
    );
    assert_eq!(stat.metadata.unwrap()["k"], "v");
    assert!(read_object(&c, "mpu", "big/file.bin").await == data.concat(), "object bytes differ");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    assert!((stats.mtime - now).abs() < 120, "mtime {}", stats.mtime);
    if let Some(store) = s3_store() {
        // The checksum is the S3 object's own ETag; the object is where the address says.
        let head = store.head(&up.physical_address).await.unwrap();
        assert_eq!((head.etag.as_str(), head.size), (stats.checksum.as_str(), (15 * MIB + 1234) as u64));
    }
    // The upload is gone once completed (the store's NoSuchUpload); no part files are left behind.
    let again = c.complete_presign_multipart_upload("mpu", "main", "big/file.bin", &up.upload_id, &req).await;
    let again = again.unwrap_err();
    assert_eq!(again.status().unwrap(), 500, "{again}");
    assert!(again.to_string().contains("api error NoSuchUpload: "), "{again}");
    assert_eq!(std::fs::read_dir(dir.path().join("blobs-tmp/mpu")).unwrap().count(), 0);
    server.stop().await;
}

#[tokio::test]
async fn invalid_requests_are_refused_like_lakefs() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path()).await;
    let c = server.client();
    c.create_repository(&repo_creation("errs")).await.unwrap();
    assert_eq!(status(c.create_presign_multipart_upload("errs", "nope", "p", None).await), 404);
    assert_eq!(status(c.create_presign_multipart_upload("nope", "main", "p", None).await), 404);
    assert_eq!(status(c.create_presign_multipart_upload("errs", "main", "", None).await), 400);
    assert_eq!(status(c.create_presign_multipart_upload("errs", "main", "p", Some(10_001)).await), 400);

    let up = c.create_presign_multipart_upload("errs", "main", "p", None).await.unwrap();
    assert!(up.presigned_urls.is_none());
    let from = UploadPartFrom { physical_address: up.physical_address.clone() };
    let url = |n| c.upload_part("errs", "main", "p", &up.upload_id, n, &from);
    let (small, big) = (pattern(100, 1), pattern(5 * MIB, 2));
    let e1 = put_part(&url(1).await.unwrap().presigned_url, &small).await;
    let e2 = put_part(&url(2).await.unwrap().presigned_url, &big).await;
    let done = |parts: Vec<UploadPart>| {
        complete_raw(&server, ("errs", "main", "p"), &up.upload_id, &up.physical_address, parts)
    };
    // Descending or repeated part numbers, a missing part, a wrong ETag, a too-small non-last part:
    // the store refuses, and lakeFS answers 500 with the S3 SDK's error text.
    store_refused(done(vec![part(2, &e2), part(1, &e1)]).await, "CompleteMultipartUpload", 400, "InvalidPartOrder");
    store_refused(done(vec![part(2, &e2), part(2, &e2)]).await, "CompleteMultipartUpload", 400, "InvalidPartOrder");
    store_refused(done(vec![part(2, &e2), part(3, &e2)]).await, "CompleteMultipartUpload", 400, "InvalidPart");
    store_refused(done(vec![part(1, &e2)]).await, "CompleteMultipartUpload", 400, "InvalidPart");
    store_refused(done(vec![part(1, &e1), part(2, &e2)]).await, "CompleteMultipartUpload", 400, "EntityTooSmall");
    // No parts is lakeFS's own 400.
    assert_eq!(done(vec![]).await, (400, serde_json::json!({"message": "parts are required"})));
    // Unknown upload id: the store's NoSuchUpload (500); forged address: 400; bad part number: 400.
    let abort = AbortPresignMultipartUpload { physical_address: up.physical_address.clone() };
    let unknown =
        call_json(&server, "DELETE", &pmpu_url("errs", "main", "p", "00ff"), serde_json::to_value(&abort).unwrap())
            .await;
    store_refused(unknown, "AbortMultipartUpload", 404, "NoSuchUpload");
    let forged = UploadPartFrom { physical_address: format!("{}x", up.physical_address) };
    assert_eq!(status(c.upload_part("errs", "main", "p", &up.upload_id, 1, &forged).await), 400);
    assert_eq!(status(url(0).await), 400);
    assert_eq!(status(url(10_001).await), 400);
    // Still completes after all that, with any subset of the parts.
    let (code, stats) = done(vec![part(2, &e2)]).await;
    assert_eq!((code, stats["checksum"].as_str()), (200, Some(multipart_etag(&[&big]).as_str())), "{stats}");
    server.stop().await;

    // Without presigning the API is not supported (lakeFS: 501).
    let dir2 = tempfile::tempdir().unwrap();
    let server = Server::start_with(dir2.path(), false).await;
    let c = server.client();
    c.create_repository(&repo_creation("nopre")).await.unwrap();
    assert_eq!(status(c.create_presign_multipart_upload("nopre", "main", "p", None).await), 501);
    server.stop().await;
}

#[tokio::test]
async fn abort_removes_the_parts() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path()).await;
    let c = server.client();
    c.create_repository(&repo_creation("abrt")).await.unwrap();
    let up = c.create_presign_multipart_upload("abrt", "main", "x", Some(1)).await.unwrap();
    let url = up.presigned_urls.clone().unwrap().remove(0);
    let e1 = put_part(&url, b"some bytes").await;
    let mpu_dir = dir.path().join("blobs-tmp/mpu");
    assert_eq!(std::fs::read_dir(&mpu_dir).unwrap().count(), 1);
    let abort = AbortPresignMultipartUpload { physical_address: up.physical_address.clone() };
    c.abort_presign_multipart_upload("abrt", "main", "x", &up.upload_id, &abort).await.unwrap();
    assert_eq!(std::fs::read_dir(&mpu_dir).unwrap().count(), 0);
    let done = complete_raw(&server, ("abrt", "main", "x"), &up.upload_id, &up.physical_address, vec![part(1, &e1)]);
    store_refused(done.await, "CompleteMultipartUpload", 404, "NoSuchUpload");
    let (code, _, body) = raw(&raw_client(), "PUT", &url, &[], b"late".to_vec()).await;
    assert_eq!(code, 404);
    assert!(String::from_utf8_lossy(&body).contains("NoSuchUpload"));
    // uploadPart presigns without looking the upload up, as lakeFS's adapters do: the store
    // refuses the PUT. A second abort is the store's NoSuchUpload.
    let from = UploadPartFrom { physical_address: up.physical_address.clone() };
    let late = c.upload_part("abrt", "main", "x", &up.upload_id, 2, &from).await.unwrap();
    let (code, _, body) = raw(&raw_client(), "PUT", &late.presigned_url, &[], b"late".to_vec()).await;
    assert_eq!(code, 404);
    assert!(String::from_utf8_lossy(&body).contains("NoSuchUpload"));
    let again = call_json(
        &server,
        "DELETE",
        &pmpu_url("abrt", "main", "x", &up.upload_id),
        serde_json::to_value(&abort).unwrap(),
    )
    .await;
    store_refused(again, "AbortMultipartUpload", 404, "NoSuchUpload");
    assert_eq!(std::fs::read_dir(&mpu_dir).unwrap().count(), 0);
    assert!(c.stat_object("abrt", "main", "x", false).await.unwrap_err().is_not_found());
    server.stop().await;
}

#[tokio::test]
async fn upload_part_copy_takes_a_range_of_another_repositorys_object() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path()).await;
    let c = server.client();
    c.create_repository(&repo_creation("src")).await.unwrap();
    c.create_repository(&repo_creation("dst")).await.unwrap();
    let source = pattern(6 * MIB, 9);
    let up = c.create_presign_multipart_upload("src", "main", "s", Some(1)).await.unwrap();
    let e = put_part(&up.presigned_urls.unwrap()[0], &source).await;
    let req = complete(&up.physical_address, vec![part(1, &e)]);
    c.complete_presign_multipart_upload("src", "main", "s", &up.upload_id, &req).await.unwrap();

    let up = c.create_presign_multipart_upload("dst", "main", "d", None).await.unwrap();
    let copy = |range: Option<&str>| UploadPartCopyFrom {
        physical_address: up.physical_address.clone(),
        copy_source: CopyPartSource {
            repository: "src".into(),
            reference: "main".into(),
            path: "s".into(),
            range: range.map(Into::into),
        },
    };
    let range = format!("bytes={}-{}", MIB, 6 * MIB - 1);
    let e1 = c.upload_part_copy("dst", "main", "d", &up.upload_id, 1, &copy(Some(&range))).await.unwrap();
    let e2 = c.upload_part_copy("dst", "main", "d", &up.upload_id, 2, &copy(None)).await.unwrap();
    let e3 = c.upload_part_copy("dst", "main", "d", &up.upload_id, 3, &copy(Some("bytes=0-9"))).await.unwrap();
    for e in [&e1, &e2, &e3] {
        assert!(e.len() > 2 && e.starts_with('"') && e.ends_with('"'), "{e}");
    }
    if copy_etags_are_md5() {
        assert_eq!(e1, format!("\"{}\"", md5_hex(&source[MIB..])));
    }
    let bad = c.upload_part_copy("dst", "main", "d", &up.upload_id, 4, &copy(Some("bytes=0-99999999"))).await;
    let bad = bad.unwrap_err();
    assert_eq!(bad.status().unwrap(), 500);
    assert!(bad.to_string().contains("UploadPartCopy, https response error StatusCode: 400, "), "{bad}");
    assert!(bad.to_string().contains("api error InvalidArgument: Range specified is not valid"), "{bad}");
    // lakeFS reads the range with Sscanf("bytes=%d-%d"): a suffix range fails there (500); one
    // outside the schema's pattern is refused before (400).
    let suffix = c.upload_part_copy("dst", "main", "d", &up.upload_id, 4, &copy(Some("bytes=-5"))).await;
    let suffix = suffix.unwrap_err();
    assert_eq!(suffix.status().unwrap(), 500);
    assert!(suffix.to_string().contains("parse range \"bytes=-5\": unexpected EOF"), "{suffix}");
    let junk = c.upload_part_copy("dst", "main", "d", &up.upload_id, 4, &copy(Some("lines=1-2"))).await;
    assert_eq!(junk.unwrap_err().status().unwrap(), 400);
    let mut missing = copy(None);
    missing.copy_source.path = "nope".into();
    assert!(c.upload_part_copy("dst", "main", "d", &up.upload_id, 4, &missing).await.unwrap_err().is_not_found());
    let unknown = c.upload_part_copy("dst", "main", "d", "00ff", 4, &copy(None)).await.unwrap_err();
    assert_eq!(unknown.status().unwrap(), 500, "{unknown}");
    assert!(unknown.to_string().contains("operation error S3: UploadPartCopy, "), "{unknown}");
    assert!(unknown.to_string().contains("api error NoSuchUpload: "), "{unknown}");
    let req = complete(&up.physical_address, vec![part(1, &e1), part(2, &e2), part(3, &e3)]);
    let stats = c.complete_presign_multipart_upload("dst", "main", "d", &up.upload_id, &req).await.unwrap();
    let expected: [&[u8]; 3] = [&source[MIB..], &source, &source[..10]];
    if copy_etags_are_md5() {
        assert_eq!(stats.checksum, multipart_etag(&expected));
    }
    assert!(stats.checksum.ends_with("-3"), "{}", stats.checksum);
    assert_eq!(stats.size_bytes, Some((11 * MIB + 10) as i64));
    assert!(read_object(&c, "dst", "d").await == expected.concat());
    if let Some(store) = s3_store() {
        assert_eq!(store.head(&up.physical_address).await.unwrap().etag, stats.checksum);
    }
    server.stop().await;
}

#[tokio::test]
async fn an_upload_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path()).await;
    let c = server.client();
    c.create_repository(&repo_creation("rst")).await.unwrap();
    let up = c.create_presign_multipart_upload("rst", "main", "r", Some(1)).await.unwrap();
    let data = pattern(3000, 5);
    let e1 = put_part(&up.presigned_urls.clone().unwrap()[0], &data).await;
    server.stop().await;

    let server = Server::start(dir.path()).await;
    let c = server.client();
    let req = complete(&up.physical_address, vec![part(1, &e1)]);
    let stats = c.complete_presign_multipart_upload("rst", "main", "r", &up.upload_id, &req).await.unwrap();
    assert_eq!(stats.checksum, multipart_etag(&[&data]));
    assert_eq!(read_object(&c, "rst", "r").await, data);
    server.stop().await;
}

#[tokio::test]
async fn upload_addresses_are_bound_as_lakefs_binds_them() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path()).await;
    let c = server.client();
    let (home, other) = (repo_creation("home"), repo_creation("away"));
    c.create_repository(&home).await.unwrap();
    c.create_repository(&other).await.unwrap();
    c.create_branch("home", &BranchCreation { name: "dev".into(), source: "main".into(), ..Default::default() })
        .await
        .unwrap();
    let up = c.create_presign_multipart_upload("home", "main", "m/obj", Some(1)).await.unwrap();
    let data = pattern(1000, 7);
    let e1 = put_part(&up.presigned_urls.clone().unwrap()[0], &data).await;
    let address = up.physical_address.clone();
    let relative = address.strip_prefix(&format!("{}/", home.storage_namespace)).unwrap().to_string();
    let rerooted = format!("{}/{relative}", other.storage_namespace);
    let done = |(repo, branch, path): (&'static str, &'static str, &'static str), address: String| {
        let parts = vec![part(1, &e1)];
        let (server, upload_id) = (&server, up.upload_id.clone());
        async move { complete_raw(server, (repo, branch, path), &upload_id, &address, parts).await }
    };
    let refused = |(status, body): (u16, serde_json::Value), message: &str| {
        assert_eq!((status, body["message"].as_str()), (400, Some(message)), "{body}");
    };
    let bad_signature = "invalid address signature: invalid address";
    // Another path, another branch, the name re-rooted in another repository: not what it was signed for.
    refused(done(("home", "main", "m/other"), address.clone()).await, bad_signature);
    refused(done(("home", "dev", "m/obj"), address.clone()).await, bad_signature);
    refused(done(("away", "main", "m/obj"), rerooted.clone()).await, bad_signature);
    // Another repository's address as is: outside this repository's data prefix.
    refused(
        done(("away", "main", "m/obj"), address.clone()).await,
        "physical address must be relative to the storage namespace",
    );
    // uploadPart and abort check the same way.
    let wrong_path = UploadPartFrom { physical_address: address.clone() };
    let err = c.upload_part("home", "main", "m/other", &up.upload_id, 2, &wrong_path).await.unwrap_err();
    assert_eq!(err.status().unwrap(), 400, "{err}");
    let abort = serde_json::json!({"physical_address": address});
    refused(call_json(&server, "DELETE", &pmpu_url("home", "dev", "m/obj", &up.upload_id), abort).await, bad_signature);
    // A part URL for another object's address under this upload's id: the blob endpoint (or S3)
    // answers the store's 404 NoSuchUpload.
    let second = c.create_presign_multipart_upload("home", "main", "m/second", None).await.unwrap();
    let from = UploadPartFrom { physical_address: second.physical_address.clone() };
    let crossed = c.upload_part("home", "main", "m/second", &up.upload_id, 1, &from).await.unwrap();
    let (code, _, body) = raw(&raw_client(), "PUT", &crossed.presigned_url, &[], data.clone()).await;
    let body = String::from_utf8_lossy(&body);
    assert_eq!((code, body.contains("<Code>NoSuchUpload</Code>")), (404, true), "{body}");
    // The repository, branch and path of the upload.
    let (status, body) = done(("home", "main", "m/obj"), address.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["physical_address"].as_str(), Some(relative.as_str()));
    assert_eq!(read_object(&c, "home", "m/obj").await, data);
    server.stop().await;
}
