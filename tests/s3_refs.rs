//! Reading through the S3 gateway at refs as lakeFS resolves them: a tag (`v1.2`, with a dot), ref
//! expressions (`main~1`, `main@`, `main~1^1`), a commit id prefix; writes to anything but a branch
//! are refused as lakeFS's own S3 gateway refuses them (`NoSuchBucket`).

mod common;

use common::s3::*;
use common::*;
use lakefs_api::dto::CommitCreation;

async fn put(stack: &Stack, path: &str, data: &[u8]) {
    let a = signed(stack, Req::new("PUT", path).body(data)).await;
    assert_eq!(a.status, 200, "{path}: {}", a.text());
}

async fn commit(stack: &Stack, message: &str) -> String {
    let creation = CommitCreation { message: message.into(), ..Default::default() };
    stack.lakefs.client().commit("refs", "main", &creation).await.unwrap().id
}

async fn api(stack: &Stack, method: &str, path: &str, body: Option<serde_json::Value>) -> (u16, serde_json::Value) {
    let auth = basic(&stack.lakefs.access_key_id, &stack.lakefs.secret_access_key);
    call(&stack.lakefs, method, &format!("/repositories/refs{path}"), Some(&auth), body).await
}

async fn get_text(stack: &Stack, path: &str) -> (u16, String) {
    let a = signed(stack, Req::new("GET", path)).await;
    (a.status, a.text())
}

#[tokio::test]
async fn tags_and_ref_expressions_read_through_s3() {
    let stack = Stack::start(false).await;
    stack.lakefs.client().create_repository(&repo_creation("refs")).await.unwrap();
    put(&stack, "/refs/main/a.txt", b"one").await;
    let c1 = commit(&stack, "first").await;
    put(&stack, "/refs/main/a.txt", b"two").await;
    let c2 = commit(&stack, "second").await;
    put(&stack, "/refs/main/a.txt", b"three").await; // staged only

    let (status, tag) = api(&stack, "POST", "/tags", Some(serde_json::json!({"id": "v1.2", "ref": "main~1"}))).await;
    assert_eq!((status, tag["commit_id"].as_str()), (201, Some(c1.as_str())), "{tag}");

    assert_eq!(get_text(&stack, "/refs/main/a.txt").await, (200, "three".into()));
    assert_eq!(get_text(&stack, "/refs/v1.2/a.txt").await, (200, "one".into()));
    assert_eq!(get_text(&stack, "/refs/main~1/a.txt").await, (200, "one".into()));
    assert_eq!(get_text(&stack, "/refs/main@/a.txt").await, (200, "two".into()));
    assert_eq!(get_text(&stack, "/refs/main@~1/a.txt").await.0, 400, "`@` stands alone");
    assert_eq!(get_text(&stack, &format!("/refs/{}/a.txt", &c2[..10])).await, (200, "two".into()));
    assert_eq!(get_text(&stack, &format!("/refs/{c2}~1/a.txt")).await, (200, "one".into()));
    assert_eq!(get_text(&stack, "/refs/main~1%5E1/a.txt").await.0, 404, "main~1^1 is the root commit");
    let head = signed(&stack, Req::new("HEAD", "/refs/v1.2/a.txt")).await;
    assert_eq!((head.status, head.headers["content-length"].to_str().unwrap()), (200, "3"));

    for (prefix, key) in [("v1.2%2F", "v1.2/a.txt"), ("main~1%2F", "main~1/a.txt"), ("main%40%2F", "main@/a.txt")] {
        let a = signed(&stack, Req::new("GET", &format!("/refs?list-type=2&prefix={prefix}"))).await;
        assert_eq!((a.status, tag_values(&a.text(), "Key")), (200, vec![key.to_string()]), "{prefix}");
    }
    let a = signed(&stack, Req::new("GET", "/refs?prefix=v1.2%2F")).await;
    assert_eq!(tag_values(&a.text(), "Key"), ["v1.2/a.txt"], "ListObjects V1");

    // a tag moved by delete + create is read at its new commit
    assert_eq!(api(&stack, "DELETE", "/tags/v1.2", None).await.0, 204);
    let (status, _) = api(&stack, "POST", "/tags", Some(serde_json::json!({"id": "v1.2", "ref": c2}))).await;
    assert_eq!(status, 201);
    assert_eq!(get_text(&stack, "/refs/v1.2/a.txt").await, (200, "two".into()));
    // `main~1` moves with main
    put(&stack, "/refs/main/a.txt", b"four").await;
    commit(&stack, "third").await;
    assert_eq!(get_text(&stack, "/refs/main~1/a.txt").await, (200, "two".into()));

    // unknown refs are missing keys; writes go to branches only
    let a = signed(&stack, Req::new("GET", "/refs/nope~1/a.txt")).await;
    assert_eq!((a.status, a.code().as_str()), (404, "NoSuchKey"));
    for target in ["v1.2", "main~1", "main@"] {
        let a = signed(&stack, Req::new("PUT", &format!("/refs/{target}/b.txt")).body(b"x")).await;
        assert_eq!((a.status, a.code().as_str()), (404, "NoSuchBucket"), "{target}: {}", a.text());
    }
    // a tag name that is also a valid branch name: lakeFS's answer too (the link finds no branch)
    api(&stack, "POST", "/tags", Some(serde_json::json!({"id": "v2", "ref": "main"}))).await;
    let a = signed(&stack, Req::new("PUT", "/refs/v2/b.txt").body(b"x")).await;
    assert_eq!((a.status, a.code().as_str()), (404, "NoSuchBucket"), "{}", a.text());
    assert_eq!(get_text(&stack, "/refs/v2/b.txt").await.0, 404);
}
