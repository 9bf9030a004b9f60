//! Bucket-level routing (`/{bucket}` with no key): the bucket operations and the bucket
//! configuration sub-resources of the Amazon S3 API Reference.

use super::Endpoint;
use super::query::{Query, is_form_data};
use crate::error::S3Result;
use crate::s3_err;
use http::{HeaderMap, Method};

/// The path of WriteGetObjectResponse (S3 Object Lambda), which path-style addressing reads as a bucket.
const WRITE_GET_OBJECT_RESPONSE: &str = "WriteGetObjectResponse";

pub(super) fn bucket_level(
    method: &Method,
    bucket: String,
    sub: Option<&str>,
    q: Query,
    headers: &HeaderMap,
) -> S3Result<Option<Endpoint>> {
    match *method {
        Method::GET => get_bucket(bucket, sub, q),
        Method::HEAD => Ok(sub.is_none().then_some(Endpoint::HeadBucket { bucket })),
        Method::PUT => Ok(put_bucket(bucket, sub)),
        Method::POST => post_bucket(bucket, sub, headers),
        Method::DELETE => Ok(delete_bucket(bucket, sub)),
        _ => Ok(None),
    }
}

fn get_bucket(bucket: String, sub: Option<&str>, q: Query) -> S3Result<Option<Endpoint>> {
    use Endpoint as E;
    let id = q.get("id").map(str::to_owned);
    let endpoint = match sub {
        None => list_objects(bucket, q)?,
        Some("abac") => E::GetBucketAbac { bucket },
        Some("accelerate") => E::GetBucketAccelerateConfiguration { bucket },
        Some("acl") => E::GetBucketAcl { bucket },
        Some("analytics") => match id {
            Some(id) => E::GetBucketAnalyticsConfiguration { bucket, id },
            None => E::ListBucketAnalyticsConfigurations { bucket },
        },
        Some("cors") => E::GetBucketCors { bucket },
        Some("encryption") => E::GetBucketEncryption { bucket },
        Some("intelligent-tiering") => match id {
            Some(id) => E::GetBucketIntelligentTieringConfiguration { bucket, id },
            None => E::ListBucketIntelligentTieringConfigurations { bucket },
        },
        Some("inventory") => match id {
            Some(id) => E::GetBucketInventoryConfiguration { bucket, id },
            None => E::ListBucketInventoryConfigurations { bucket },
        },
        Some("lifecycle") => E::GetBucketLifecycleConfiguration { bucket },
        Some("location") => E::GetBucketLocation { bucket },
        Some("logging") => E::GetBucketLogging { bucket },
        Some("metadataConfiguration") => E::GetBucketMetadataConfiguration { bucket },
        Some("metadataTable") => E::GetBucketMetadataTableConfiguration { bucket },
        Some("metrics") => match id {
            Some(id) => E::GetBucketMetricsConfiguration { bucket, id },
            None => E::ListBucketMetricsConfigurations { bucket },
        },
        Some("notification") => E::GetBucketNotificationConfiguration { bucket },
        Some("object-lock") => E::GetObjectLockConfiguration { bucket },
        Some("ownershipControls") => E::GetBucketOwnershipControls { bucket },
        Some("policy") => E::GetBucketPolicy { bucket },
        Some("policyStatus") => E::GetBucketPolicyStatus { bucket },
        Some("publicAccessBlock") => E::GetPublicAccessBlock { bucket },
        Some("replication") => E::GetBucketReplication { bucket },
        Some("requestPayment") => E::GetBucketRequestPayment { bucket },
        Some("session") => E::CreateSession { bucket },
        Some("tagging") => E::GetBucketTagging { bucket },
        Some("uploads") => E::ListMultipartUploads { bucket },
        Some("versioning") => E::GetBucketVersioning { bucket },
        Some("versions") => E::ListObjectVersions { bucket },
        Some("website") => E::GetBucketWebsite { bucket },
        Some(_) => return Ok(None),
    };
    Ok(Some(endpoint))
}

/// `GET /{bucket}`: ListObjectsV2 with `list-type=2`, ListObjects without `list-type`.
fn list_objects(bucket: String, q: Query) -> S3Result<Endpoint> {
    match q.get("list-type") {
        None => Ok(Endpoint::ListObjects { bucket }),
        Some("2") => Ok(Endpoint::ListObjectsV2 { bucket }),
        Some(other) => Err(s3_err!(InvalidArgument, "Invalid list-type {other:?}: the only list type is 2")),
    }
}

fn put_bucket(bucket: String, sub: Option<&str>) -> Option<Endpoint> {
    use Endpoint as E;
    Some(match sub {
        None => E::CreateBucket { bucket },
        Some("abac") => E::PutBucketAbac { bucket },
        Some("accelerate") => E::PutBucketAccelerateConfiguration { bucket },
        Some("acl") => E::PutBucketAcl { bucket },
        Some("analytics") => E::PutBucketAnalyticsConfiguration { bucket },
        Some("cors") => E::PutBucketCors { bucket },
        Some("encryption") => E::PutBucketEncryption { bucket },
        Some("intelligent-tiering") => E::PutBucketIntelligentTieringConfiguration { bucket },
        Some("inventory") => E::PutBucketInventoryConfiguration { bucket },
        Some("lifecycle") => E::PutBucketLifecycleConfiguration { bucket },
        Some("logging") => E::PutBucketLogging { bucket },
        Some("metadataAnnotationTable") => E::UpdateBucketMetadataAnnotationTableConfiguration { bucket },
        Some("metadataInventoryTable") => E::UpdateBucketMetadataInventoryTableConfiguration { bucket },
        Some("metadataJournalTable") => E::UpdateBucketMetadataJournalTableConfiguration { bucket },
        Some("metrics") => E::PutBucketMetricsConfiguration { bucket },
        Some("notification") => E::PutBucketNotificationConfiguration { bucket },
        Some("object-lock") => E::PutObjectLockConfiguration { bucket },
        Some("ownershipControls") => E::PutBucketOwnershipControls { bucket },
        Some("policy") => E::PutBucketPolicy { bucket },
        Some("publicAccessBlock") => E::PutPublicAccessBlock { bucket },
        Some("replication") => E::PutBucketReplication { bucket },
        Some("requestPayment") => E::PutBucketRequestPayment { bucket },
        Some("tagging") => E::PutBucketTagging { bucket },
        Some("versioning") => E::PutBucketVersioning { bucket },
        Some("website") => E::PutBucketWebsite { bucket },
        Some(_) => return None,
    })
}

fn post_bucket(bucket: String, sub: Option<&str>, headers: &HeaderMap) -> S3Result<Option<Endpoint>> {
    use Endpoint as E;
    let endpoint = match sub {
        Some("delete") => E::DeleteObjects { bucket },
        Some("metadataConfiguration") => E::CreateBucketMetadataConfiguration { bucket },
        Some("metadataTable") => E::CreateBucketMetadataTableConfiguration { bucket },
        Some(_) => return Ok(None),
        None if bucket == WRITE_GET_OBJECT_RESPONSE => E::WriteGetObjectResponse,
        None if is_form_data(headers) => E::PostObject { bucket },
        // What S3 answers a bucket POST that is not a form upload.
        None => {
            return Err(s3_err!(
                PreconditionFailed,
                "At least one of the pre-conditions you specified did not hold: \
                 Bucket POST must be of the enclosure-type multipart/form-data"
            )
            .with_resource(format!("/{bucket}")));
        }
    };
    Ok(Some(endpoint))
}

fn delete_bucket(bucket: String, sub: Option<&str>) -> Option<Endpoint> {
    use Endpoint as E;
    Some(match sub {
        None => E::DeleteBucket { bucket },
        Some("analytics") => E::DeleteBucketAnalyticsConfiguration { bucket },
        Some("cors") => E::DeleteBucketCors { bucket },
        Some("encryption") => E::DeleteBucketEncryption { bucket },
        Some("intelligent-tiering") => E::DeleteBucketIntelligentTieringConfiguration { bucket },
        Some("inventory") => E::DeleteBucketInventoryConfiguration { bucket },
        Some("lifecycle") => E::DeleteBucketLifecycle { bucket },
        Some("metadataConfiguration") => E::DeleteBucketMetadataConfiguration { bucket },
        Some("metadataTable") => E::DeleteBucketMetadataTableConfiguration { bucket },
        Some("metrics") => E::DeleteBucketMetricsConfiguration { bucket },
        Some("ownershipControls") => E::DeleteBucketOwnershipControls { bucket },
        Some("policy") => E::DeleteBucketPolicy { bucket },
        Some("publicAccessBlock") => E::DeletePublicAccessBlock { bucket },
        Some("replication") => E::DeleteBucketReplication { bucket },
        Some("tagging") => E::DeleteBucketTagging { bucket },
        Some("website") => E::DeleteBucketWebsite { bucket },
        Some(_) => return None,
    })
}
