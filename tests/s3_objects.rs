//! Listing, deleting and copying through the S3 front door (raw harness): pagination with tokens,
//! delimiters, branches as common prefixes, DeleteObjects with per-key errors, CopyObject within
//! and across repositories, empty objects and `dir/` markers.

mod common;

use common::s3::*;
use common::*;
use md5::Digest;

async fn stack() -> Stack {
    let s = Stack::start(false).await;
    for repo in ["objs", "other"] {
        s.lakefs.client().create_repository(&repo_creation(repo)).await.unwrap();
    }
    s
}

async fn put(stack: &Stack, path: &str, data: &[u8]) {
    let a = signed(stack, Req::new("PUT", path).body(data)).await;
    assert_eq!(a.status, 200, "{path}: {}", a.text());
}

#[tokio::test]
async fn list_v2_pages_with_tokens_and_delimiters() {
    let stack = stack().await;
    let mut keys: Vec<String> = (0..25).map(|i| format!("main/d{}/k{i:02}", i % 2)).collect();
    keys.push("main/top".into());
    keys.push("main/dir/".into());
    for k in &keys {
        put(&stack, &format!("/objs/{k}"), b"v").await;
    }
    keys.sort();
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let q = match &token {
            Some(t) => format!("/objs?list-type=2&prefix=main%2F&max-keys=10&continuation-token={t}"),
            None => "/objs?list-type=2&prefix=main%2F&max-keys=10".to_string(),
        };
        let a = signed(&stack, Req::new("GET", &q)).await;
        assert_eq!(a.status, 200, "{}", a.text());
        let xml = a.text();
        seen.extend(tag_values(&xml, "Key"));
        pages += 1;
        match tag_values(&xml, "NextContinuationToken").pop() {
            Some(t) => token = Some(t),
            None => break,
        }
    }
    assert_eq!((seen, pages), (keys, 3));
    let a = signed(&stack, Req::new("GET", "/objs?list-type=2&prefix=main%2F&delimiter=%2F")).await;
    let xml = a.text();
    assert_eq!(
        tag_values(&xml, "Prefix").into_iter().skip(1).collect::<Vec<_>>(),
        ["main/d0/", "main/d1/", "main/dir/"]
    );
    assert_eq!(tag_values(&xml, "Key"), ["main/top"]);
    assert_eq!(tag_values(&xml, "KeyCount"), ["4"]);
    // The bucket root lists branches.
    let a = signed(&stack, Req::new("GET", "/objs?list-type=2")).await;
    assert!(a.text().contains("<CommonPrefixes><Prefix>main/</Prefix></CommonPrefixes>"), "{}", a.text());
    // V1 with a marker, and url encoding.
    put(&stack, "/objs/main/sp%20ace+plus", b"v").await;
    let a = signed(&stack, Req::new("GET", "/objs?prefix=main%2Fsp&encoding-type=url")).await;
    assert_eq!(tag_values(&a.text(), "Key"), ["main/sp%20ace%2Bplus"]);
    let a = signed(&stack, Req::new("GET", "/objs?prefix=main%2F&marker=main%2Fd1%2Fk23")).await;
    assert_eq!(tag_values(&a.text(), "Key"), ["main/dir/", "main/sp ace+plus", "main/top"]);
    let a = signed(&stack, Req::new("GET", "/objs?list-type=2&max-keys=-1")).await;
    assert_eq!((a.status, a.code().as_str()), (400, "InvalidArgument"));
    let a = signed(&stack, Req::new("GET", "/nope?list-type=2")).await;
    assert_eq!((a.status, a.code().as_str()), (404, "NoSuchBucket"));
}

#[tokio::test]
async fn delete_object_and_delete_objects() {
    let stack = stack().await;
    for i in 0..5 {
        put(&stack, &format!("/objs/main/del/{i}"), b"x").await;
    }
    let a = signed(&stack, Req::new("DELETE", "/objs/main/del/0")).await;
    assert_eq!(a.status, 204);
    let a = signed(&stack, Req::new("DELETE", "/objs/main/del/0")).await;
    assert_eq!(a.status, 204, "deleting an absent key is not an error");
    let xml = "<Delete><Object><Key>main/del/1</Key></Object><Object><Key>main/del/2</Key></Object>\
               <Object><Key>main/absent</Key></Object><Object><Key>nobranch/x</Key></Object></Delete>";
    let md5 = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(md5::Md5::digest(xml.as_bytes()))
    };
    let a = signed(&stack, Req::new("POST", "/objs?delete").header("content-md5", &md5).body(xml.as_bytes())).await;
    assert_eq!(a.status, 200, "{}", a.text());
    let text = a.text();
    assert_eq!(tag_values(&text, "Key"), ["main/del/1", "main/del/2", "main/absent", "nobranch/x"]);
    assert_eq!(tag_values(&text, "Code"), ["NoSuchBucket"]);
    let a = signed(&stack, Req::new("POST", "/objs?delete").body(xml.as_bytes())).await;
    assert_eq!((a.status, a.code().as_str()), (400, "InvalidRequest"), "an integrity header is required");
    let quiet = "<Delete><Quiet>true</Quiet><Object><Key>main/del/3</Key></Object></Delete>";
    let a = signed(
        &stack,
        Req::new("POST", "/objs?delete")
            .header("x-amz-checksum-crc32", &crc32_b64(quiet.as_bytes()))
            .body(quiet.as_bytes()),
    )
    .await;
    assert_eq!(a.status, 200);
    assert!(tag_values(&a.text(), "Key").is_empty(), "quiet mode lists no successes");
    let a = signed(
        &stack,
        Req::new("POST", "/objs?delete").header("x-amz-checksum-crc32", &crc32_b64(b"x")).body(quiet.as_bytes()),
    )
    .await;
    assert_eq!((a.status, a.code().as_str()), (400, "BadDigest"));
    let bad = "<Delete><Object>";
    let a = signed(
        &stack,
        Req::new("POST", "/objs?delete")
            .header("x-amz-checksum-crc32", &crc32_b64(bad.as_bytes()))
            .body(bad.as_bytes()),
    )
    .await;
    assert_eq!((a.status, a.code().as_str()), (400, "MalformedXML"));
    let listing = signed(&stack, Req::new("GET", "/objs?list-type=2&prefix=main%2Fdel%2F")).await;
    assert_eq!(tag_values(&listing.text(), "Key"), ["main/del/4"]);
}

#[tokio::test]
async fn copy_object_within_and_across_repositories() {
    let stack = stack().await;
    let data = pattern(100_000, 7);
    let a = signed(
        &stack,
        Req::new("PUT", "/objs/main/src.bin").header("x-amz-meta-k", "v").header("content-type", "text/x").body(&data),
    )
    .await;
    assert_eq!(a.status, 200);
    let etag = format!("\"{}\"", md5_hex(&data));
    let a =
        signed(&stack, Req::new("PUT", "/objs/main/copy.bin").header("x-amz-copy-source", "/objs/main/src.bin")).await;
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(tag_values(&a.text(), "ETag"), [etag.as_str()]);
    let back = signed(&stack, Req::new("GET", "/objs/main/copy.bin")).await;
    assert!(back.body == data);
    assert_eq!(
        (back.headers["x-amz-meta-k"].to_str().unwrap(), back.headers["content-type"].to_str().unwrap()),
        ("v", "text/x")
    );
    let a = signed(
        &stack,
        Req::new("PUT", "/other/main/x.bin")
            .header("x-amz-copy-source", "objs/main/src.bin")
            .header("x-amz-metadata-directive", "REPLACE")
            .header("x-amz-meta-n", "2"),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.text());
    let back = signed(&stack, Req::new("GET", "/other/main/x.bin")).await;
    assert!(back.body == data);
    assert_eq!(back.headers["etag"], etag.as_str());
    assert!(back.headers.get("x-amz-meta-k").is_none());
    assert_eq!(back.headers["x-amz-meta-n"], "2");
    let a =
        signed(&stack, Req::new("PUT", "/objs/main/src.bin").header("x-amz-copy-source", "objs/main/src.bin")).await;
    assert_eq!((a.status, a.code().as_str()), (400, "InvalidRequest"));
    let a = signed(
        &stack,
        Req::new("PUT", "/objs/main/y")
            .header("x-amz-copy-source", "objs/main/src.bin")
            .header("x-amz-copy-source-if-none-match", &etag),
    )
    .await;
    assert_eq!((a.status, a.code().as_str()), (412, "PreconditionFailed"));
    let a = signed(&stack, Req::new("PUT", "/objs/main/y").header("x-amz-copy-source", "objs/main/missing")).await;
    assert_eq!((a.status, a.code().as_str()), (404, "NoSuchKey"));
}

#[tokio::test]
async fn empty_objects_and_directory_markers() {
    let stack = stack().await;
    put(&stack, "/objs/main/empty", b"").await;
    put(&stack, "/objs/main/folder/", b"").await;
    let a = put_chunked(
        &stack,
        "/objs/main/empty-chunked",
        b"",
        "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        Some(("x-amz-checksum-crc32", crc32_b64(b""))),
        &[],
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.text());
    for k in ["empty", "folder/", "empty-chunked"] {
        let a = signed(&stack, Req::new("GET", &format!("/objs/main/{k}"))).await;
        assert_eq!((a.status, a.body.len()), (200, 0), "{k}");
        assert_eq!(a.headers["etag"], "\"d41d8cd98f00b204e9800998ecf8427e\"");
    }
    let a = signed(&stack, Req::new("GET", "/objs?list-type=2&prefix=main%2Ffolder%2F")).await;
    assert_eq!(tag_values(&a.text(), "Key"), ["main/folder/"]);
}

#[tokio::test]
async fn without_presigning_bytes_stream_through_lakefs() {
    let stack = Stack::start_opts(false, false, false).await;
    stack.lakefs.client().create_repository(&repo_creation("nopre")).await.unwrap();
    let cfg = stack.lakefs.client().get_config().await.unwrap();
    assert!(!cfg.storage_config.unwrap().pre_sign_support, "the embedded blockstore behaves like lakeFS's local one");
    let data = pattern(250_000, 11);
    let crc = crc32_b64(&data);
    let a = put_chunked(
        &stack,
        "/nopre/main/a.bin",
        &data,
        "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        Some(("x-amz-checksum-crc32", crc.clone())),
        &[("x-amz-meta-color", "green"), ("cache-control", "no-cache")],
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.text());
    let back = signed(&stack, Req::new("GET", "/nopre/main/a.bin").header("x-amz-checksum-mode", "ENABLED")).await;
    assert!(back.body == data);
    assert_eq!(back.headers["etag"], format!("\"{}\"", md5_hex(&data)));
    assert_eq!(
        (back.headers["x-amz-meta-color"].to_str().unwrap(), back.headers["cache-control"].to_str().unwrap()),
        ("green", "no-cache")
    );
    assert_eq!(back.headers["x-amz-checksum-crc32"], crc.as_str());
    let ranged = signed(&stack, Req::new("GET", "/nopre/main/a.bin").header("range", "bytes=10-19")).await;
    assert_eq!((ranged.status, &ranged.body[..]), (206, &data[10..20]));
    // A bad checksum stores nothing here either.
    let a = put_chunked(
        &stack,
        "/nopre/main/bad.bin",
        &data,
        "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        Some(("x-amz-checksum-crc32", crc32_b64(b"no"))),
        &[],
    )
    .await;
    assert_eq!((a.status, a.code().as_str()), (400, "BadDigest"));
    assert_eq!(signed(&stack, Req::new("HEAD", "/nopre/main/bad.bin")).await.status, 404);
    // Streamed copy (REPLACE) and an empty object.
    let a = signed(
        &stack,
        Req::new("PUT", "/nopre/main/b.bin")
            .header("x-amz-copy-source", "nopre/main/a.bin")
            .header("x-amz-metadata-directive", "REPLACE"),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.text());
    assert!(signed(&stack, Req::new("GET", "/nopre/main/b.bin")).await.body == data);
    assert_eq!(signed(&stack, Req::new("PUT", "/nopre/main/empty").body(b"")).await.status, 200);
    assert_eq!(signed(&stack, Req::new("GET", "/nopre/main/empty")).await.body.len(), 0);
}

#[tokio::test]
async fn replace_onto_itself_updates_metadata_only() {
    let stack = stack().await;
    let a = signed(
        &stack,
        Req::new("PUT", "/objs/main/self")
            .header("content-type", "text/plain")
            .header("x-amz-meta-v", "1")
            .body(b"same bytes"),
    )
    .await;
    assert_eq!(a.status, 200);
    let before = stack.lakefs.client().stat_object("objs", "main", "self", false).await.unwrap();
    let a = signed(
        &stack,
        Req::new("PUT", "/objs/main/self")
            .header("x-amz-copy-source", "objs/main/self")
            .header("x-amz-metadata-directive", "REPLACE")
            .header("content-type", "text/plain")
            .header("x-amz-meta-v", "2"),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.text());
    let after = stack.lakefs.client().stat_object("objs", "main", "self", false).await.unwrap();
    assert_eq!(after.physical_address, before.physical_address, "no data copy");
    let back = signed(&stack, Req::new("GET", "/objs/main/self")).await;
    assert_eq!((back.body.as_slice(), back.headers["x-amz-meta-v"].to_str().unwrap()), (b"same bytes".as_slice(), "2"));
    // A new content type needs a new object.
    let a = signed(
        &stack,
        Req::new("PUT", "/objs/main/self")
            .header("x-amz-copy-source", "objs/main/self")
            .header("x-amz-metadata-directive", "REPLACE")
            .header("content-type", "text/csv"),
    )
    .await;
    assert_eq!(a.status, 200);
    let back = signed(&stack, Req::new("GET", "/objs/main/self")).await;
    assert_eq!(
        (back.body.as_slice(), back.headers["content-type"].to_str().unwrap()),
        (b"same bytes".as_slice(), "text/csv")
    );
}

/// GetObject at a commit id: objects of at most 64 KiB are served from memory once read (ranges
/// too), larger ones always from the store. On the local blob store the test removes the blob files
/// after the first read to prove it; on an S3 store it checks the bytes only.
#[tokio::test]
async fn small_objects_at_a_commit_are_served_from_memory() {
    let stack = stack().await;
    let (small, large) = (pattern(40_000, 3), pattern(70_000, 4));
    put(&stack, "/objs/main/c/small", &small).await;
    put(&stack, "/objs/main/c/large", &large).await;
    let creation = lakefs_api::dto::CommitCreation { message: "pin".into(), ..Default::default() };
    let commit = stack.lakefs.client().commit("objs", "main", &creation).await.unwrap().id;
    let get = |path: &'static str, range: Option<&'static str>| {
        let (stack, commit) = (&stack, commit.clone());
        async move {
            let p = format!("/objs/{commit}/c/{path}");
            let req = Req::new("GET", &p);
            let req = match range {
                Some(r) => req.header("range", r),
                None => req,
            };
            signed(stack, req).await
        }
    };
    for name in ["small", "large"] {
        assert_eq!(get(name, None).await.status, 200);
    }
    let local = test_s3().is_none();
    if local {
        for name in ["small", "large"] {
            let stats = stack.lakefs.client().stat_object("objs", &commit, &format!("c/{name}"), false).await.unwrap();
            let rel = stats.physical_address.strip_prefix("local://").unwrap().to_string();
            std::fs::remove_file(stack.lakefs.data_dir.join("blobs").join(rel)).unwrap();
        }
    }
    let again = get("small", None).await;
    assert_eq!((again.status, again.body.as_slice() == small.as_slice()), (200, true));
    let part = get("small", Some("bytes=100-199")).await;
    assert_eq!((part.status, part.body.as_slice()), (206, &small[100..200]));
    assert_eq!(part.headers["content-range"], "bytes 100-199/40000");
    let large_again = get("large", None).await;
    if local {
        assert_ne!(large_again.status, 200, "a 70,000-byte object is not kept in memory");
    } else {
        assert_eq!((large_again.status, large_again.body == large), (200, true));
    }
    // on a branch the bytes always come from the store
    if local {
        assert_ne!(signed(&stack, Req::new("GET", "/objs/main/c/small")).await.status, 200);
    }
}
