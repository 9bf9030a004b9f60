//! Bucket operations and the bucket forms: `repo` (keys `<ref>/<path>`), `repo.branch` (keys
//! relative to the branch), and flat repository buckets on the default branch.

mod common;

use common::s3::*;

#[tokio::test]
async fn create_and_delete_repositories_and_branches() {
    let stack = Stack::start(false).await;
    let a = signed(&stack, Req::new("PUT", "/newrepo")).await;
    assert_eq!(a.status, 200, "{}", a.text());
    let repo = stack.lakefs.client().get_repository("newrepo").await.unwrap();
    let expected_ns = match common::test_s3() {
        Some(s3) => format!("s3://{}/newrepo-", s3.bucket),
        None => "local://newrepo".to_string(),
    };
    assert!(repo.storage_namespace.starts_with(&expected_ns), "{} from the namespace template", repo.storage_namespace);
    assert_eq!(repo.default_branch, "main");
    let a = signed(&stack, Req::new("PUT", "/newrepo")).await;
    assert_eq!((a.status, a.code().as_str()), (409, "BucketAlreadyOwnedByYou"));
    let a = signed(&stack, Req::new("PUT", "/Bad_Name")).await;
    assert_eq!((a.status, a.code().as_str()), (400, "InvalidBucketName"));

    let a = signed(&stack, Req::new("PUT", "/newrepo.feature")).await;
    assert_eq!(a.status, 200, "{}", a.text());
    let a = signed(&stack, Req::new("PUT", "/newrepo.feature/at-root.txt").body(b"root")).await;
    assert_eq!(a.status, 200, "{}", a.text());
    let a = signed(&stack, Req::new("GET", "/newrepo/feature/at-root.txt")).await;
    assert_eq!(a.body, b"root", "the branch bucket writes on branch feature");
    let a = signed(&stack, Req::new("GET", "/newrepo.feature?list-type=2")).await;
    assert_eq!(tag_values(&a.text(), "Key"), ["at-root.txt"]);
    assert_eq!(tag_values(&a.text(), "Name"), ["newrepo.feature"]);
    let a = signed(
        &stack,
        Req::new("PUT", "/newrepo.feature/copy.txt").header("x-amz-copy-source", "newrepo.feature/at-root.txt"),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.text());

    // Uncommitted objects keep a branch bucket from being deleted.
    let a = signed(&stack, Req::new("DELETE", "/newrepo.feature")).await;
    assert_eq!((a.status, a.code().as_str()), (409, "BucketNotEmpty"));
    for k in ["at-root.txt", "copy.txt"] {
        assert_eq!(signed(&stack, Req::new("DELETE", &format!("/newrepo.feature/{k}"))).await.status, 204);
    }
    assert_eq!(signed(&stack, Req::new("DELETE", "/newrepo.feature")).await.status, 204);
    assert_eq!(signed(&stack, Req::new("HEAD", "/newrepo.feature")).await.status, 404);
    let a = signed(&stack, Req::new("DELETE", "/newrepo.nobranch")).await;
    assert_eq!((a.status, a.code().as_str()), (404, "NoSuchBucket"));

    // A repository with objects is not empty.
    assert_eq!(signed(&stack, Req::new("PUT", "/newrepo/main/x").body(b"x")).await.status, 200);
    let a = signed(&stack, Req::new("DELETE", "/newrepo")).await;
    assert_eq!((a.status, a.code().as_str()), (409, "BucketNotEmpty"));
    assert_eq!(signed(&stack, Req::new("DELETE", "/newrepo/main/x")).await.status, 204);
    assert_eq!(signed(&stack, Req::new("DELETE", "/newrepo")).await.status, 204);
    let a = signed(&stack, Req::new("GET", "/newrepo?location")).await;
    assert_eq!((a.status, a.code().as_str()), (404, "NoSuchBucket"));
}

#[tokio::test]
async fn flat_buckets_address_the_default_branch() {
    let stack = Stack::start_with(false, true).await;
    assert_eq!(signed(&stack, Req::new("PUT", "/flatrepo")).await.status, 200);
    assert_eq!(signed(&stack, Req::new("PUT", "/flatrepo/a/b.txt").body(b"flat")).await.status, 200);
    assert_eq!(signed(&stack, Req::new("PUT", "/flatrepo/top.txt").body(b"t")).await.status, 200);
    let c = stack.lakefs.client();
    assert_eq!(c.stat_object("flatrepo", "main", "a/b.txt", false).await.unwrap().size_bytes, Some(4));
    let a = signed(&stack, Req::new("GET", "/flatrepo?list-type=2")).await;
    assert_eq!(tag_values(&a.text(), "Key"), ["a/b.txt", "top.txt"]);
    let a = signed(&stack, Req::new("GET", "/flatrepo?list-type=2&delimiter=%2F")).await;
    assert!(a.text().contains("<CommonPrefixes><Prefix>a/</Prefix></CommonPrefixes>"), "{}", a.text());
    let xml = "<Delete><Object><Key>a/b.txt</Key></Object><Object><Key>top.txt</Key></Object></Delete>";
    let a = signed(
        &stack,
        Req::new("POST", "/flatrepo?delete")
            .header("x-amz-checksum-crc32", &crc32_b64(xml.as_bytes()))
            .body(xml.as_bytes()),
    )
    .await;
    assert_eq!(tag_values(&a.text(), "Key"), ["a/b.txt", "top.txt"], "{}", a.text());
    assert_eq!(signed(&stack, Req::new("DELETE", "/flatrepo")).await.status, 204);
}

#[tokio::test]
async fn writes_to_read_only_repositories_and_commit_ids_are_refused() {
    let stack = Stack::start(false).await;
    let c = stack.lakefs.client();
    let mut creation = common::repo_creation("frozen");
    creation.read_only = Some(true);
    c.create_repository(&creation).await.unwrap();
    let a = signed(&stack, Req::new("PUT", "/frozen/main/x").body(b"x")).await;
    assert_eq!((a.status, a.code().as_str()), (403, "ErrReadOnlyRepository"), "{}", a.text());
    assert_eq!(signed(&stack, Req::new("HEAD", "/frozen/main/x")).await.status, 404);
    c.create_repository(&common::repo_creation("live")).await.unwrap();
    let head = c.get_branch("live", "main").await.unwrap().commit_id;
    let a = signed(&stack, Req::new("PUT", &format!("/live/{head}/x")).body(b"x")).await;
    assert_eq!((a.status, a.code().as_str()), (404, "NoSuchBucket"), "a commit id is not a branch to write to");
}
