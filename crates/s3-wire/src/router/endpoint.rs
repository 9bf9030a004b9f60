//! The `Endpoint` enum: one variant per S3 operation, named exactly as the Amazon S3 API Reference
//! ("Actions" → "Amazon S3") names it, carrying what the router decided (bucket, key, upload id…).
//!
//! Variants are declared through `endpoints!` so that `name()`, `bucket()`, `key()` and
//! [`Endpoint::NAMES`] can never drift from the enum. Each variant's doc gives its wire shape.

/// Declares `Endpoint` from three groups: service-level variants (no fields), bucket-level
/// variants (`bucket` plus the listed fields) and object-level variants (`bucket`, `key` plus the
/// listed fields).
macro_rules! endpoints {
    (
        service { $( $(#[$sm:meta])* $svc:ident ),* $(,)? }
        bucket { $( $(#[$bm:meta])* $b:ident $({ $($bf:ident : $bt:ty),* $(,)? })? ),* $(,)? }
        object { $( $(#[$om:meta])* $o:ident $({ $($of:ident : $ot:ty),* $(,)? })? ),* $(,)? }
    ) => {
        /// An S3 operation, decided from method, bucket/key presence, sub-resource and headers.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum Endpoint {
            $( $(#[$sm])* $svc, )*
            $( $(#[$bm])* $b { bucket: String, $($($bf: $bt,)*)? }, )*
            $( $(#[$om])* $o { bucket: String, key: String, $($($of: $ot,)*)? }, )*
        }

        impl Endpoint {
            /// Every operation name, in declaration order.
            pub const NAMES: &'static [&'static str] =
                &[$(stringify!($svc),)* $(stringify!($b),)* $(stringify!($o),)*];

            /// The AWS operation name (`"ListObjectsV2"`, `"UploadPartCopy"`…), for logs and metrics.
            pub fn name(&self) -> &'static str {
                match self {
                    $( Endpoint::$svc => stringify!($svc), )*
                    $( Endpoint::$b { .. } => stringify!($b), )*
                    $( Endpoint::$o { .. } => stringify!($o), )*
                }
            }

            /// The bucket the operation acts on; `None` for service-level operations.
            pub fn bucket(&self) -> Option<&str> {
                match self {
                    $( Endpoint::$svc => None, )*
                    $( Endpoint::$b { bucket, .. } => Some(bucket), )*
                    $( Endpoint::$o { bucket, .. } => Some(bucket), )*
                }
            }

            /// The object key; `None` for service- and bucket-level operations.
            pub fn key(&self) -> Option<&str> {
                match self {
                    $( Endpoint::$o { key, .. } => Some(key), )*
                    _ => None,
                }
            }
        }
    };
}

endpoints! {
    service {
        /// `GET /`
        ListBuckets,
        /// `POST /WriteGetObjectResponse` (S3 Object Lambda; path-style only).
        WriteGetObjectResponse,
    }
    bucket {
        /// `PUT /{bucket}`
        CreateBucket,
        /// `DELETE /{bucket}`
        DeleteBucket,
        /// `HEAD /{bucket}`
        HeadBucket,
        /// `GET /{bucket}?location`
        GetBucketLocation,
        /// `GET /{bucket}` without `list-type`
        ListObjects,
        /// `GET /{bucket}?list-type=2`
        ListObjectsV2,
        /// `GET /{bucket}?versions`
        ListObjectVersions,
        /// `GET /{bucket}?uploads`
        ListMultipartUploads,
        /// `POST /{bucket}?delete`
        DeleteObjects,
        /// `POST /{bucket}` with a `multipart/form-data` body (browser form upload).
        PostObject,
        /// `GET /{bucket}?session` (directory buckets).
        CreateSession,
        /// `GET /{bucket}?abac`
        GetBucketAbac,
        /// `PUT /{bucket}?abac`
        PutBucketAbac,
        /// `GET /{bucket}?accelerate`
        GetBucketAccelerateConfiguration,
        /// `PUT /{bucket}?accelerate`
        PutBucketAccelerateConfiguration,
        /// `GET /{bucket}?acl`
        GetBucketAcl,
        /// `PUT /{bucket}?acl`
        PutBucketAcl,
        /// `GET /{bucket}?analytics&id=…`
        GetBucketAnalyticsConfiguration { id: String },
        /// `GET /{bucket}?analytics` without `id`
        ListBucketAnalyticsConfigurations,
        /// `PUT /{bucket}?analytics`
        PutBucketAnalyticsConfiguration,
        /// `DELETE /{bucket}?analytics`
        DeleteBucketAnalyticsConfiguration,
        /// `GET /{bucket}?cors`
        GetBucketCors,
        /// `PUT /{bucket}?cors`
        PutBucketCors,
        /// `DELETE /{bucket}?cors`
        DeleteBucketCors,
        /// `GET /{bucket}?encryption`
        GetBucketEncryption,
        /// `PUT /{bucket}?encryption`
        PutBucketEncryption,
        /// `DELETE /{bucket}?encryption`
        DeleteBucketEncryption,
        /// `GET /{bucket}?intelligent-tiering&id=…`
        GetBucketIntelligentTieringConfiguration { id: String },
        /// `GET /{bucket}?intelligent-tiering` without `id`
        ListBucketIntelligentTieringConfigurations,
        /// `PUT /{bucket}?intelligent-tiering`
        PutBucketIntelligentTieringConfiguration,
        /// `DELETE /{bucket}?intelligent-tiering`
        DeleteBucketIntelligentTieringConfiguration,
        /// `GET /{bucket}?inventory&id=…`
        GetBucketInventoryConfiguration { id: String },
        /// `GET /{bucket}?inventory` without `id`
        ListBucketInventoryConfigurations,
        /// `PUT /{bucket}?inventory`
        PutBucketInventoryConfiguration,
        /// `DELETE /{bucket}?inventory`
        DeleteBucketInventoryConfiguration,
        /// `GET /{bucket}?lifecycle` (also the deprecated GetBucketLifecycle, same wire shape).
        GetBucketLifecycleConfiguration,
        /// `PUT /{bucket}?lifecycle` (also the deprecated PutBucketLifecycle, same wire shape).
        PutBucketLifecycleConfiguration,
        /// `DELETE /{bucket}?lifecycle`
        DeleteBucketLifecycle,
        /// `GET /{bucket}?logging`
        GetBucketLogging,
        /// `PUT /{bucket}?logging`
        PutBucketLogging,
        /// `GET /{bucket}?metadataConfiguration`
        GetBucketMetadataConfiguration,
        /// `POST /{bucket}?metadataConfiguration`
        CreateBucketMetadataConfiguration,
        /// `DELETE /{bucket}?metadataConfiguration`
        DeleteBucketMetadataConfiguration,
        /// `GET /{bucket}?metadataTable`
        GetBucketMetadataTableConfiguration,
        /// `POST /{bucket}?metadataTable`
        CreateBucketMetadataTableConfiguration,
        /// `DELETE /{bucket}?metadataTable`
        DeleteBucketMetadataTableConfiguration,
        /// `PUT /{bucket}?metadataAnnotationTable`
        UpdateBucketMetadataAnnotationTableConfiguration,
        /// `PUT /{bucket}?metadataInventoryTable`
        UpdateBucketMetadataInventoryTableConfiguration,
        /// `PUT /{bucket}?metadataJournalTable`
        UpdateBucketMetadataJournalTableConfiguration,
        /// `GET /{bucket}?metrics&id=…`
        GetBucketMetricsConfiguration { id: String },
        /// `GET /{bucket}?metrics` without `id`
        ListBucketMetricsConfigurations,
        /// `PUT /{bucket}?metrics`
        PutBucketMetricsConfiguration,
        /// `DELETE /{bucket}?metrics`
        DeleteBucketMetricsConfiguration,
        /// `GET /{bucket}?notification` (also the deprecated GetBucketNotification).
        GetBucketNotificationConfiguration,
        /// `PUT /{bucket}?notification` (also the deprecated PutBucketNotification).
        PutBucketNotificationConfiguration,
        /// `GET /{bucket}?object-lock`
        GetObjectLockConfiguration,
        /// `PUT /{bucket}?object-lock`
        PutObjectLockConfiguration,
        /// `GET /{bucket}?ownershipControls`
        GetBucketOwnershipControls,
        /// `PUT /{bucket}?ownershipControls`
        PutBucketOwnershipControls,
        /// `DELETE /{bucket}?ownershipControls`
        DeleteBucketOwnershipControls,
        /// `GET /{bucket}?policy`
        GetBucketPolicy,
        /// `PUT /{bucket}?policy`
        PutBucketPolicy,
        /// `DELETE /{bucket}?policy`
        DeleteBucketPolicy,
        /// `GET /{bucket}?policyStatus`
        GetBucketPolicyStatus,
        /// `GET /{bucket}?publicAccessBlock`
        GetPublicAccessBlock,
        /// `PUT /{bucket}?publicAccessBlock`
        PutPublicAccessBlock,
        /// `DELETE /{bucket}?publicAccessBlock`
        DeletePublicAccessBlock,
        /// `GET /{bucket}?replication`
        GetBucketReplication,
        /// `PUT /{bucket}?replication`
        PutBucketReplication,
        /// `DELETE /{bucket}?replication`
        DeleteBucketReplication,
        /// `GET /{bucket}?requestPayment`
        GetBucketRequestPayment,
        /// `PUT /{bucket}?requestPayment`
        PutBucketRequestPayment,
        /// `GET /{bucket}?tagging`
        GetBucketTagging,
        /// `PUT /{bucket}?tagging`
        PutBucketTagging,
        /// `DELETE /{bucket}?tagging`
        DeleteBucketTagging,
        /// `GET /{bucket}?versioning`
        GetBucketVersioning,
        /// `PUT /{bucket}?versioning`
        PutBucketVersioning,
        /// `GET /{bucket}?website`
        GetBucketWebsite,
        /// `PUT /{bucket}?website`
        PutBucketWebsite,
        /// `DELETE /{bucket}?website`
        DeleteBucketWebsite,
    }
    object {
        /// `GET /{bucket}/{key}` (optionally `versionId`, `partNumber`).
        GetObject { version_id: Option<String>, part_number: Option<u32> },
        /// `HEAD /{bucket}/{key}` (optionally `versionId`, `partNumber`).
        HeadObject { version_id: Option<String>, part_number: Option<u32> },
        /// `PUT /{bucket}/{key}`
        PutObject,
        /// `PUT /{bucket}/{key}` with `x-amz-copy-source`
        CopyObject,
        /// `DELETE /{bucket}/{key}` (optionally `versionId`).
        DeleteObject { version_id: Option<String> },
        /// `GET /{bucket}/{key}?acl`
        GetObjectAcl,
        /// `PUT /{bucket}/{key}?acl`
        PutObjectAcl,
        /// `GET /{bucket}/{key}?attributes`
        GetObjectAttributes,
        /// `GET /{bucket}/{key}?legal-hold`
        GetObjectLegalHold,
        /// `PUT /{bucket}/{key}?legal-hold`
        PutObjectLegalHold,
        /// `GET /{bucket}/{key}?retention`
        GetObjectRetention,
        /// `PUT /{bucket}/{key}?retention`
        PutObjectRetention,
        /// `GET /{bucket}/{key}?tagging`
        GetObjectTagging,
        /// `PUT /{bucket}/{key}?tagging`
        PutObjectTagging,
        /// `DELETE /{bucket}/{key}?tagging`
        DeleteObjectTagging,
        /// `GET /{bucket}/{key}?torrent`
        GetObjectTorrent,
        /// `POST /{bucket}/{key}?restore`
        RestoreObject,
        /// `POST /{bucket}/{key}?select&select-type=2`
        SelectObjectContent,
        /// `PUT /{bucket}/{key}?renameObject` (directory buckets).
        RenameObject,
        /// `PUT /{bucket}/{key}?encryption`
        UpdateObjectEncryption,
        /// `GET /{bucket}/{key}?annotation&annotationName=…`
        GetObjectAnnotation { annotation_name: String },
        /// `GET /{bucket}/{key}?annotation` without `annotationName`
        ListObjectAnnotations,
        /// `PUT /{bucket}/{key}?annotation&annotationName=…`
        PutObjectAnnotation,
        /// `DELETE /{bucket}/{key}?annotation&annotationName=…`
        DeleteObjectAnnotation,
        /// `POST /{bucket}/{key}?uploads`
        CreateMultipartUpload,
        /// `PUT /{bucket}/{key}?partNumber=N&uploadId=U`
        UploadPart { upload_id: String, part_number: u32 },
        /// `PUT /{bucket}/{key}?partNumber=N&uploadId=U` with `x-amz-copy-source`
        UploadPartCopy { upload_id: String, part_number: u32 },
        /// `POST /{bucket}/{key}?uploadId=U`
        CompleteMultipartUpload { upload_id: String },
        /// `DELETE /{bucket}/{key}?uploadId=U`
        AbortMultipartUpload { upload_id: String },
        /// `GET /{bucket}/{key}?uploadId=U`
        ListParts { upload_id: String },
    }
}
