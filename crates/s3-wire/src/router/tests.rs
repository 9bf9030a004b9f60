//! The routing table as a readable spec: one line per request shape.

use super::query::SUBRESOURCES;
use super::*;
use crate::addressing::split_bucket_key;
use crate::error::S3ErrorCode;
use std::collections::HashSet;

type Headers = &'static [(&'static str, &'static str)];

const NONE: Headers = &[];
const COPY: Headers = &[("x-amz-copy-source", "/src/k")];
const FORM: Headers = &[("content-type", "multipart/form-data; boundary=xyz")];
const LAMBDA: Headers = &[("x-amz-request-route", "r"), ("x-amz-request-token", "t")];

/// (method, path-style target, headers, operation). Every `Endpoint` variant appears at least once.
#[rustfmt::skip]
const CASES: &[(&str, &str, Headers, &str)] = &[
    // Service.
    ("GET", "/", NONE, "ListBuckets"),
    ("GET", "/?x-id=ListBuckets&max-buckets=10&prefix=p", NONE, "ListBuckets"),
    ("POST", "/WriteGetObjectResponse", LAMBDA, "WriteGetObjectResponse"),
    // Buckets.
    ("PUT", "/b", NONE, "CreateBucket"),
    ("PUT", "/b/", NONE, "CreateBucket"),
    ("DELETE", "/b", NONE, "DeleteBucket"),
    ("HEAD", "/b", NONE, "HeadBucket"),
    ("GET", "/b?location", NONE, "GetBucketLocation"),
    ("GET", "/b?location=", NONE, "GetBucketLocation"),
    // Listing.
    ("GET", "/b", NONE, "ListObjects"),
    ("GET", "/b/", NONE, "ListObjects"),
    ("GET", "/b?prefix=a&delimiter=%2F&marker=m&max-keys=10&encoding-type=url", NONE, "ListObjects"),
    ("GET", "/b?list-type=2", NONE, "ListObjectsV2"),
    ("GET", "/b/?list-type=2&prefix=dir%2F&continuation-token=t&start-after=a&fetch-owner=true", NONE, "ListObjectsV2"),
    ("GET", "/b?versions", NONE, "ListObjectVersions"),
    ("GET", "/b?versions&key-marker=k&version-id-marker=v", NONE, "ListObjectVersions"),
    ("GET", "/b?uploads", NONE, "ListMultipartUploads"),
    ("GET", "/b?uploads&prefix=p&key-marker=k&upload-id-marker=u", NONE, "ListMultipartUploads"),
    // Bucket POSTs.
    ("POST", "/b?delete", NONE, "DeleteObjects"),
    ("POST", "/b?delete=", NONE, "DeleteObjects"),
    ("POST", "/b", FORM, "PostObject"),
    ("POST", "/b/", &[("content-type", "Multipart/Form-Data; boundary=xyz")], "PostObject"),
    ("GET", "/b?session", NONE, "CreateSession"),
    // Bucket configuration.
    ("GET", "/b?abac", NONE, "GetBucketAbac"),
    ("PUT", "/b?abac", NONE, "PutBucketAbac"),
    ("GET", "/b?accelerate", NONE, "GetBucketAccelerateConfiguration"),
    ("PUT", "/b?accelerate", NONE, "PutBucketAccelerateConfiguration"),
    ("GET", "/b?acl", NONE, "GetBucketAcl"),
    ("GET", "/b?acl=", NONE, "GetBucketAcl"),
    ("PUT", "/b?acl", NONE, "PutBucketAcl"),
    ("GET", "/b?analytics&id=a1", NONE, "GetBucketAnalyticsConfiguration"),
    ("GET", "/b?analytics", NONE, "ListBucketAnalyticsConfigurations"),
    ("GET", "/b?analytics&continuation-token=t", NONE, "ListBucketAnalyticsConfigurations"),
    ("PUT", "/b?analytics&id=a1", NONE, "PutBucketAnalyticsConfiguration"),
    ("DELETE", "/b?analytics&id=a1", NONE, "DeleteBucketAnalyticsConfiguration"),
    ("GET", "/b?cors", NONE, "GetBucketCors"),
    ("PUT", "/b?cors", NONE, "PutBucketCors"),
    ("DELETE", "/b?cors", NONE, "DeleteBucketCors"),
    ("GET", "/b?encryption", NONE, "GetBucketEncryption"),
    ("PUT", "/b?encryption", NONE, "PutBucketEncryption"),
    ("DELETE", "/b?encryption", NONE, "DeleteBucketEncryption"),
    ("GET", "/b?intelligent-tiering&id=t1", NONE, "GetBucketIntelligentTieringConfiguration"),
    ("GET", "/b?intelligent-tiering", NONE, "ListBucketIntelligentTieringConfigurations"),
    ("PUT", "/b?intelligent-tiering&id=t1", NONE, "PutBucketIntelligentTieringConfiguration"),
    ("DELETE", "/b?intelligent-tiering&id=t1", NONE, "DeleteBucketIntelligentTieringConfiguration"),
    ("GET", "/b?inventory&id=i1", NONE, "GetBucketInventoryConfiguration"),
    ("GET", "/b?inventory", NONE, "ListBucketInventoryConfigurations"),
    ("PUT", "/b?inventory&id=i1", NONE, "PutBucketInventoryConfiguration"),
    ("DELETE", "/b?inventory&id=i1", NONE, "DeleteBucketInventoryConfiguration"),
    ("GET", "/b?lifecycle", NONE, "GetBucketLifecycleConfiguration"),
    ("PUT", "/b?lifecycle", NONE, "PutBucketLifecycleConfiguration"),
    ("DELETE", "/b?lifecycle", NONE, "DeleteBucketLifecycle"),
    ("GET", "/b?logging", NONE, "GetBucketLogging"),
    ("PUT", "/b?logging", NONE, "PutBucketLogging"),
    ("GET", "/b?metadataConfiguration", NONE, "GetBucketMetadataConfiguration"),
    ("POST", "/b?metadataConfiguration", NONE, "CreateBucketMetadataConfiguration"),
    ("DELETE", "/b?metadataConfiguration", NONE, "DeleteBucketMetadataConfiguration"),
    ("GET", "/b?metadataTable", NONE, "GetBucketMetadataTableConfiguration"),
    ("POST", "/b?metadataTable", NONE, "CreateBucketMetadataTableConfiguration"),
    ("DELETE", "/b?metadataTable", NONE, "DeleteBucketMetadataTableConfiguration"),
    ("PUT", "/b?metadataAnnotationTable", NONE, "UpdateBucketMetadataAnnotationTableConfiguration"),
    ("PUT", "/b?metadataInventoryTable", NONE, "UpdateBucketMetadataInventoryTableConfiguration"),
    ("PUT", "/b?metadataJournalTable", NONE, "UpdateBucketMetadataJournalTableConfiguration"),
    ("GET", "/b?metrics&id=m1", NONE, "GetBucketMetricsConfiguration"),
    ("GET", "/b?metrics", NONE, "ListBucketMetricsConfigurations"),
    ("PUT", "/b?metrics&id=m1", NONE, "PutBucketMetricsConfiguration"),
    ("DELETE", "/b?metrics&id=m1", NONE, "DeleteBucketMetricsConfiguration"),
    ("GET", "/b?notification", NONE, "GetBucketNotificationConfiguration"),
    ("PUT", "/b?notification", NONE, "PutBucketNotificationConfiguration"),
    ("GET", "/b?object-lock", NONE, "GetObjectLockConfiguration"),
    ("PUT", "/b?object-lock", NONE, "PutObjectLockConfiguration"),
    ("GET", "/b?ownershipControls", NONE, "GetBucketOwnershipControls"),
    ("PUT", "/b?ownershipControls", NONE, "PutBucketOwnershipControls"),
    ("DELETE", "/b?ownershipControls", NONE, "DeleteBucketOwnershipControls"),
    ("GET", "/b?policy", NONE, "GetBucketPolicy"),
    ("PUT", "/b?policy", NONE, "PutBucketPolicy"),
    ("DELETE", "/b?policy", NONE, "DeleteBucketPolicy"),
    ("GET", "/b?policyStatus", NONE, "GetBucketPolicyStatus"),
    ("GET", "/b?publicAccessBlock", NONE, "GetPublicAccessBlock"),
    ("PUT", "/b?publicAccessBlock", NONE, "PutPublicAccessBlock"),
    ("DELETE", "/b?publicAccessBlock", NONE, "DeletePublicAccessBlock"),
    ("GET", "/b?replication", NONE, "GetBucketReplication"),
    ("PUT", "/b?replication", NONE, "PutBucketReplication"),
    ("DELETE", "/b?replication", NONE, "DeleteBucketReplication"),
    ("GET", "/b?requestPayment", NONE, "GetBucketRequestPayment"),
    ("PUT", "/b?requestPayment", NONE, "PutBucketRequestPayment"),
    ("GET", "/b?tagging", NONE, "GetBucketTagging"),
    ("PUT", "/b?tagging", NONE, "PutBucketTagging"),
    ("DELETE", "/b?tagging", NONE, "DeleteBucketTagging"),
    ("GET", "/b?versioning", NONE, "GetBucketVersioning"),
    ("PUT", "/b?versioning", NONE, "PutBucketVersioning"),
    ("GET", "/b?website", NONE, "GetBucketWebsite"),
    ("PUT", "/b?website", NONE, "PutBucketWebsite"),
    ("DELETE", "/b?website", NONE, "DeleteBucketWebsite"),
    // Objects.
    ("GET", "/b/k", NONE, "GetObject"),
    ("GET", "/b/k?versionId=v1", NONE, "GetObject"),
    ("GET", "/b/k?partNumber=2", NONE, "GetObject"),
    ("GET", "/b/k?x-id=GetObject&response-content-type=text%2Fplain&X-Amz-Signature=s", NONE, "GetObject"),
    ("GET", "/b/acl", NONE, "GetObject"),
    ("GET", "/b/k%3Facl", NONE, "GetObject"),
    ("GET", "/b/k", COPY, "GetObject"),
    ("HEAD", "/b/k", NONE, "HeadObject"),
    ("HEAD", "/b/k?versionId=v1&partNumber=1", NONE, "HeadObject"),
    ("PUT", "/b/k", NONE, "PutObject"),
    ("PUT", "/b/k?x-id=PutObject", NONE, "PutObject"),
    ("PUT", "/b/dir/", NONE, "PutObject"),
    ("PUT", "/b/k", COPY, "CopyObject"),
    ("PUT", "/b/k?x-id=CopyObject", COPY, "CopyObject"),
    ("DELETE", "/b/k", NONE, "DeleteObject"),
    ("DELETE", "/b/k?versionId=v1&x-id=DeleteObject", NONE, "DeleteObject"),
    ("GET", "/b/k?acl", NONE, "GetObjectAcl"),
    ("PUT", "/b/k?acl", NONE, "PutObjectAcl"),
    ("GET", "/b/k?attributes", NONE, "GetObjectAttributes"),
    ("GET", "/b/k?legal-hold", NONE, "GetObjectLegalHold"),
    ("PUT", "/b/k?legal-hold", NONE, "PutObjectLegalHold"),
    ("GET", "/b/k?retention", NONE, "GetObjectRetention"),
    ("PUT", "/b/k?retention", NONE, "PutObjectRetention"),
    ("GET", "/b/k?tagging", NONE, "GetObjectTagging"),
    ("PUT", "/b/k?tagging", NONE, "PutObjectTagging"),
    ("PUT", "/b/k?tagging&versionId=v1", COPY, "PutObjectTagging"),
    ("DELETE", "/b/k?tagging", NONE, "DeleteObjectTagging"),
    ("GET", "/b/k?torrent", NONE, "GetObjectTorrent"),
    ("POST", "/b/k?restore", NONE, "RestoreObject"),
    ("POST", "/b/k?select&select-type=2", NONE, "SelectObjectContent"),
    ("POST", "/b/k?select", NONE, "SelectObjectContent"),
    ("PUT", "/b/k?renameObject", &[("x-amz-rename-source", "/b/old")], "RenameObject"),
    ("PUT", "/b/k?encryption", NONE, "UpdateObjectEncryption"),
    ("GET", "/b/k?annotation&annotationName=n", NONE, "GetObjectAnnotation"),
    ("GET", "/b/k?annotation", NONE, "ListObjectAnnotations"),
    ("PUT", "/b/k?annotation&annotationName=n", NONE, "PutObjectAnnotation"),
    ("DELETE", "/b/k?annotation&annotationName=n", NONE, "DeleteObjectAnnotation"),
    // Multipart.
    ("POST", "/b/k?uploads", NONE, "CreateMultipartUpload"),
    ("POST", "/b/k?uploads=&x-id=CreateMultipartUpload", NONE, "CreateMultipartUpload"),
    ("PUT", "/b/k?partNumber=3&uploadId=u", NONE, "UploadPart"),
    ("PUT", "/b/k?uploadId=u&partNumber=10000&x-id=UploadPart", NONE, "UploadPart"),
    ("PUT", "/b/k?partNumber=3&uploadId=u", COPY, "UploadPartCopy"),
    ("POST", "/b/k?uploadId=u", NONE, "CompleteMultipartUpload"),
    ("DELETE", "/b/k?uploadId=u", NONE, "AbortMultipartUpload"),
    ("DELETE", "/b/k?uploadId=u&x-id=AbortMultipartUpload", NONE, "AbortMultipartUpload"),
    ("GET", "/b/k?uploadId=u", NONE, "ListParts"),
    ("GET", "/b/k?uploadId=u&max-parts=10&part-number-marker=2", NONE, "ListParts"),
];

/// (method, path-style target, headers, error code).
#[rustfmt::skip]
const ERRORS: &[(&str, &str, Headers, S3ErrorCode)] = &[
    // No operation has this method and shape.
    ("PATCH", "/b/k", NONE, S3ErrorCode::MethodNotAllowed),
    ("OPTIONS", "/b/k", NONE, S3ErrorCode::MethodNotAllowed),
    ("DELETE", "/", NONE, S3ErrorCode::MethodNotAllowed),
    ("PUT", "/", NONE, S3ErrorCode::MethodNotAllowed),
    ("HEAD", "/", NONE, S3ErrorCode::MethodNotAllowed),
    ("POST", "/", NONE, S3ErrorCode::MethodNotAllowed),
    ("GET", "/?acl", NONE, S3ErrorCode::MethodNotAllowed),
    ("POST", "/b/k", NONE, S3ErrorCode::MethodNotAllowed),
    ("POST", "/b?uploads", NONE, S3ErrorCode::MethodNotAllowed),
    ("GET", "/b/k?uploads", NONE, S3ErrorCode::MethodNotAllowed),
    ("GET", "/b/k?delete", NONE, S3ErrorCode::MethodNotAllowed),
    ("HEAD", "/b?acl", NONE, S3ErrorCode::MethodNotAllowed),
    ("HEAD", "/b/k?tagging", NONE, S3ErrorCode::MethodNotAllowed),
    ("PUT", "/b?policyStatus", NONE, S3ErrorCode::MethodNotAllowed),
    // A sub-resource the method lacks never falls back to the destructive plain operation.
    ("DELETE", "/b?location", NONE, S3ErrorCode::MethodNotAllowed),
    ("DELETE", "/b?uploads", NONE, S3ErrorCode::MethodNotAllowed),
    ("DELETE", "/b?versioning", NONE, S3ErrorCode::MethodNotAllowed),
    ("DELETE", "/b/k?acl", NONE, S3ErrorCode::MethodNotAllowed),
    ("DELETE", "/b/k?retention", NONE, S3ErrorCode::MethodNotAllowed),
    ("PUT", "/b/k?restore", NONE, S3ErrorCode::MethodNotAllowed),
    ("PUT", "/b/k?location", COPY, S3ErrorCode::MethodNotAllowed),
    // Bad values.
    ("GET", "/b?list-type=1", NONE, S3ErrorCode::InvalidArgument),
    ("GET", "/b?list-type=", NONE, S3ErrorCode::InvalidArgument),
    ("PUT", "/b/k?partNumber=0&uploadId=u", NONE, S3ErrorCode::InvalidArgument),
    ("PUT", "/b/k?partNumber=10001&uploadId=u", NONE, S3ErrorCode::InvalidArgument),
    ("PUT", "/b/k?partNumber=abc&uploadId=u", NONE, S3ErrorCode::InvalidArgument),
    ("PUT", "/b/k?partNumber=-1&uploadId=u", NONE, S3ErrorCode::InvalidArgument),
    ("PUT", "/b/k?partNumber=%2B3&uploadId=u", NONE, S3ErrorCode::InvalidArgument),
    ("PUT", "/b/k?partNumber=&uploadId=u", NONE, S3ErrorCode::InvalidArgument),
    ("PUT", "/b/k?partNumber=4294967297&uploadId=u", NONE, S3ErrorCode::InvalidArgument),
    ("PUT", "/b/k?partNumber=1.5&uploadId=u", COPY, S3ErrorCode::InvalidArgument),
    ("PUT", "/b/k?partNumber=1&uploadId=", NONE, S3ErrorCode::InvalidArgument),
    ("PUT", "/b/k?partNumber=1", NONE, S3ErrorCode::InvalidArgument),
    ("PUT", "/b/k?uploadId=u", NONE, S3ErrorCode::InvalidArgument),
    ("GET", "/b/k?uploadId=", NONE, S3ErrorCode::InvalidArgument),
    ("POST", "/b/k?uploadId=", NONE, S3ErrorCode::InvalidArgument),
    ("DELETE", "/b/k?uploadId", NONE, S3ErrorCode::InvalidArgument),
    ("GET", "/b/k?partNumber=0", NONE, S3ErrorCode::InvalidArgument),
    ("HEAD", "/b/k?partNumber=x", NONE, S3ErrorCode::InvalidArgument),
    ("GET", "/b/k?versionId=", NONE, S3ErrorCode::InvalidArgument),
    ("DELETE", "/b/k?versionId", NONE, S3ErrorCode::InvalidArgument),
    ("POST", "/b/k?select&select-type=1", NONE, S3ErrorCode::InvalidArgument),
    // A bucket POST must be a form upload.
    ("POST", "/b", NONE, S3ErrorCode::PreconditionFailed),
    ("POST", "/b", &[("content-type", "application/x-www-form-urlencoded")], S3ErrorCode::PreconditionFailed),
];

/// Splits `target` into path and query and routes it with `host`.
fn route_target(method: &str, host: Option<&str>, target: &str, headers: Headers) -> S3Result<Endpoint> {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let query: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        map.append(http::HeaderName::from_static(name), http::HeaderValue::from_static(value));
    }
    let method = Method::from_bytes(method.as_bytes()).expect("method");
    let addressed = split_bucket_key(host, path, &["s3.example.com".to_owned()])?;
    route(&method, &addressed, &query, &map)
}

fn route_path(method: &str, target: &str, headers: Headers) -> S3Result<Endpoint> {
    route_target(method, None, target, headers)
}

/// The virtual-hosted form of a path-style target on bucket `b`, if it has one.
fn as_virtual_host(target: &str) -> Option<String> {
    let rest = target.strip_prefix("/b")?;
    match rest.chars().next() {
        None => Some("/".to_owned()),
        Some('?') => Some(format!("/{rest}")),
        Some('/') => Some(rest.to_owned()),
        Some(_) => None,
    }
}

#[test]
fn path_style_table() {
    for (method, target, headers, name) in CASES {
        let endpoint = route_path(method, target, headers).unwrap_or_else(|e| panic!("{method} {target}: {e}"));
        assert_eq!(endpoint.name(), *name, "{method} {target} {headers:?}");
    }
}

#[test]
fn virtual_host_table() {
    let mut checked = 0;
    for (method, target, headers, name) in CASES {
        let Some(vhost_target) = as_virtual_host(target) else {
            continue;
        };
        for host in ["b.s3.example.com", "B.S3.Example.Com:9000"] {
            let endpoint = route_target(method, Some(host), &vhost_target, headers)
                .unwrap_or_else(|e| panic!("{method} {host} {vhost_target}: {e}"));
            assert_eq!(endpoint.name(), *name, "{method} {host} {vhost_target}");
            assert_eq!(endpoint.bucket(), Some("b"));
        }
        checked += 1;
    }
    assert!(checked > 100, "only {checked} cases have a virtual-hosted form");
}

#[test]
fn virtual_host_bucket_with_dots() {
    let endpoint = route_target("PUT", Some("my.repo.s3.example.com"), "/main/a/b?partNumber=1&uploadId=u", COPY);
    assert_eq!(
        endpoint.unwrap(),
        Endpoint::UploadPartCopy {
            bucket: "my.repo".into(),
            key: "main/a/b".into(),
            upload_id: "u".into(),
            part_number: 1
        }
    );
}

#[test]
fn error_table() {
    for (method, target, headers, code) in ERRORS {
        let err = route_path(method, target, headers).expect_err(target);
        assert_eq!(err.code, *code, "{method} {target}: {}", err.message);
    }
}

#[test]
fn every_variant_is_in_the_table() {
    let covered: HashSet<&str> = CASES.iter().map(|(_, _, _, name)| *name).collect();
    let missing: Vec<&str> = Endpoint::NAMES.iter().copied().filter(|n| !covered.contains(n)).collect();
    assert!(missing.is_empty(), "no routing case for {missing:?}");
    let unknown: Vec<&&str> = covered.iter().filter(|n| !Endpoint::NAMES.contains(n)).collect();
    assert!(unknown.is_empty(), "cases name unknown operations {unknown:?}");
}

#[test]
fn names_are_unique_aws_style() {
    let unique: HashSet<&str> = Endpoint::NAMES.iter().copied().collect();
    assert_eq!(unique.len(), Endpoint::NAMES.len());
    for name in Endpoint::NAMES {
        assert!(name.starts_with(|c: char| c.is_ascii_uppercase()), "{name}");
        assert!(name.chars().all(|c| c.is_ascii_alphanumeric()), "{name}");
    }
    assert_eq!(Endpoint::NAMES.len(), 112);
}

#[test]
fn noise_parameters_do_not_change_the_decision() {
    const NOISE: &[&str] = &[
        "x-id=SomethingElse",
        "prefix=p",
        "max-keys=3",
        "response-content-type=text%2Fplain",
        "X-Amz-Signature=abc",
        "encoding-type=url",
        "unknown",
        "Acl",
        "uploadid=x",
    ];
    for (method, target, headers, name) in CASES {
        for noise in NOISE {
            let sep = if target.contains('?') { '&' } else { '?' };
            let noisy = format!("{target}{sep}{noise}");
            let endpoint = route_path(method, &noisy, headers).unwrap_or_else(|e| panic!("{method} {noisy}: {e}"));
            assert_eq!(endpoint.name(), *name, "{method} {noisy}");
        }
    }
}

#[test]
fn decided_values() {
    let cases: &[(&str, &str, Headers, Endpoint)] = &[
        (
            "GET",
            "/b/a%2Fb?versionId=v1&partNumber=7",
            NONE,
            Endpoint::GetObject {
                bucket: "b".into(),
                key: "a/b".into(),
                version_id: Some("v1".into()),
                part_number: Some(7),
            },
        ),
        (
            "HEAD",
            "/b/k",
            NONE,
            Endpoint::HeadObject { bucket: "b".into(), key: "k".into(), version_id: None, part_number: None },
        ),
        (
            "DELETE",
            "/b/k?versionId=null",
            NONE,
            Endpoint::DeleteObject { bucket: "b".into(), key: "k".into(), version_id: Some("null".into()) },
        ),
        (
            "PUT",
            "/b/k?partNumber=0010&uploadId=u%2B1",
            NONE,
            Endpoint::UploadPart { bucket: "b".into(), key: "k".into(), upload_id: "u+1".into(), part_number: 10 },
        ),
        (
            "POST",
            "/b/k?uploadId=u",
            NONE,
            Endpoint::CompleteMultipartUpload { bucket: "b".into(), key: "k".into(), upload_id: "u".into() },
        ),
        (
            "DELETE",
            "/b/k?uploadId=u",
            NONE,
            Endpoint::AbortMultipartUpload { bucket: "b".into(), key: "k".into(), upload_id: "u".into() },
        ),
        (
            "GET",
            "/b/k?uploadId=u&partNumber=3",
            NONE,
            Endpoint::ListParts { bucket: "b".into(), key: "k".into(), upload_id: "u".into() },
        ),
        (
            "GET",
            "/b?metrics&id=EntireBucket",
            NONE,
            Endpoint::GetBucketMetricsConfiguration { bucket: "b".into(), id: "EntireBucket".into() },
        ),
        (
            "GET",
            "/b/k?annotation&annotationName=labels",
            NONE,
            Endpoint::GetObjectAnnotation { bucket: "b".into(), key: "k".into(), annotation_name: "labels".into() },
        ),
    ];
    for (method, target, headers, want) in cases {
        assert_eq!(&route_path(method, target, headers).unwrap(), want, "{method} {target}");
    }
}

#[test]
fn accessors() {
    let list = route_path("GET", "/", NONE).unwrap();
    assert_eq!((list.bucket(), list.key()), (None, None));
    let bucket = route_path("GET", "/b?acl", NONE).unwrap();
    assert_eq!((bucket.bucket(), bucket.key()), (Some("b"), None));
    let object = route_path("PUT", "/b/dir/k%20x", COPY).unwrap();
    assert_eq!((object.name(), object.bucket(), object.key()), ("CopyObject", Some("b"), Some("dir/k x")));
}

#[test]
fn method_not_allowed_names_method_and_resource() {
    let err = route_path("PATCH", "/b/dir/k", NONE).unwrap_err();
    assert_eq!(err.status(), 405);
    assert!(err.message.contains("PATCH /b/dir/k"), "{}", err.message);
    assert_eq!(err.resource.as_deref(), Some("/b/dir/k"));
    assert!(err.headers.is_empty());
    let err = route_path("DELETE", "/", NONE).unwrap_err();
    assert!(err.message.contains("DELETE /"), "{}", err.message);
}

#[test]
fn first_listed_subresource_wins() {
    // Nobody should send two sub-resources; when they do, the choice does not depend on their order.
    for target in ["/b?tagging&acl", "/b?acl&tagging"] {
        assert_eq!(route_path("GET", target, NONE).unwrap().name(), "GetBucketAcl");
    }
}

#[test]
fn subresources_are_sorted_and_unique() {
    let mut sorted = SUBRESOURCES.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted, SUBRESOURCES);
}

proptest::proptest! {
    #[test]
    fn random_noise_never_changes_the_decision(
        case in 0..CASES.len(),
        name in "[a-zA-Z-]{1,16}",
        value in "[a-z0-9]{0,8}",
    ) {
        let reserved = ["uploadId", "partNumber", "versionId", "list-type", "id", "annotationName", "select-type"];
        proptest::prop_assume!(!SUBRESOURCES.contains(&name.as_str()) && !reserved.contains(&name.as_str()));
        let (method, target, headers, op) = CASES[case];
        let sep = if target.contains('?') { '&' } else { '?' };
        let noisy = format!("{target}{sep}{name}={value}");
        proptest::prop_assert_eq!(route_path(method, &noisy, headers).unwrap().name(), op);
    }
}
