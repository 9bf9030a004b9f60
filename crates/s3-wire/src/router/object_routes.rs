//! Object-level routing (`/{bucket}/{key}`): object, object sub-resource and multipart upload
//! operations of the Amazon S3 API Reference.

use super::Endpoint;
use super::query::{Query, has_copy_source, optional_part_number, upload_id, upload_part, version_id};
use crate::error::S3Result;
use crate::s3_err;
use http::{HeaderMap, Method};

pub(super) fn object_level(
    method: &Method,
    bucket: String,
    key: String,
    sub: Option<&str>,
    q: Query,
    headers: &HeaderMap,
) -> S3Result<Option<Endpoint>> {
    match *method {
        Method::GET => get_object(bucket, key, sub, q),
        Method::HEAD => head_object(bucket, key, sub, q),
        Method::PUT => put_object(bucket, key, sub, q, headers),
        Method::POST => post_object(bucket, key, sub, q),
        Method::DELETE => delete_object(bucket, key, sub, q),
        _ => Ok(None),
    }
}

fn get_object(bucket: String, key: String, sub: Option<&str>, q: Query) -> S3Result<Option<Endpoint>> {
    use Endpoint as E;
    let endpoint = match sub {
        None => match q.get("uploadId") {
            Some(id) => E::ListParts { bucket, key, upload_id: upload_id(id)? },
            None => E::GetObject { bucket, key, version_id: version_id(q)?, part_number: optional_part_number(q)? },
        },
        Some("acl") => E::GetObjectAcl { bucket, key },
        Some("annotation") => match q.get("annotationName") {
            Some(name) => E::GetObjectAnnotation { bucket, key, annotation_name: name.to_owned() },
            None => E::ListObjectAnnotations { bucket, key },
        },
        Some("attributes") => E::GetObjectAttributes { bucket, key },
        Some("legal-hold") => E::GetObjectLegalHold { bucket, key },
        Some("retention") => E::GetObjectRetention { bucket, key },
        Some("tagging") => E::GetObjectTagging { bucket, key },
        Some("torrent") => E::GetObjectTorrent { bucket, key },
        Some(_) => return Ok(None),
    };
    Ok(Some(endpoint))
}

fn head_object(bucket: String, key: String, sub: Option<&str>, q: Query) -> S3Result<Option<Endpoint>> {
    if sub.is_some() {
        return Ok(None);
    }
    let (version_id, part_number) = (version_id(q)?, optional_part_number(q)?);
    Ok(Some(Endpoint::HeadObject { bucket, key, version_id, part_number }))
}

fn put_object(
    bucket: String,
    key: String,
    sub: Option<&str>,
    q: Query,
    headers: &HeaderMap,
) -> S3Result<Option<Endpoint>> {
    use Endpoint as E;
    let endpoint = match sub {
        None => put_object_or_part(bucket, key, q, headers)?,
        Some("acl") => E::PutObjectAcl { bucket, key },
        Some("annotation") => E::PutObjectAnnotation { bucket, key },
        Some("encryption") => E::UpdateObjectEncryption { bucket, key },
        Some("legal-hold") => E::PutObjectLegalHold { bucket, key },
        Some("renameObject") => E::RenameObject { bucket, key },
        Some("retention") => E::PutObjectRetention { bucket, key },
        Some("tagging") => E::PutObjectTagging { bucket, key },
        Some(_) => return Ok(None),
    };
    Ok(Some(endpoint))
}

/// PutObject, CopyObject, UploadPart or UploadPartCopy: `uploadId`+`partNumber` make it a part,
/// `x-amz-copy-source` makes it a copy.
fn put_object_or_part(bucket: String, key: String, q: Query, headers: &HeaderMap) -> S3Result<Endpoint> {
    let copy = has_copy_source(headers);
    Ok(match upload_part(q)? {
        Some((upload_id, part_number)) if copy => Endpoint::UploadPartCopy { bucket, key, upload_id, part_number },
        Some((upload_id, part_number)) => Endpoint::UploadPart { bucket, key, upload_id, part_number },
        None if copy => Endpoint::CopyObject { bucket, key },
        None => Endpoint::PutObject { bucket, key },
    })
}

fn post_object(bucket: String, key: String, sub: Option<&str>, q: Query) -> S3Result<Option<Endpoint>> {
    use Endpoint as E;
    let endpoint = match sub {
        None => match q.get("uploadId") {
            Some(id) => E::CompleteMultipartUpload { bucket, key, upload_id: upload_id(id)? },
            None => return Ok(None),
        },
        Some("uploads") => E::CreateMultipartUpload { bucket, key },
        Some("restore") => E::RestoreObject { bucket, key },
        Some("select") => match q.get("select-type") {
            None | Some("2") => E::SelectObjectContent { bucket, key },
            Some(other) => return Err(s3_err!(InvalidArgument, "Invalid select-type {other:?}: it must be 2")),
        },
        Some(_) => return Ok(None),
    };
    Ok(Some(endpoint))
}

fn delete_object(bucket: String, key: String, sub: Option<&str>, q: Query) -> S3Result<Option<Endpoint>> {
    use Endpoint as E;
    let endpoint = match sub {
        None => match q.get("uploadId") {
            Some(id) => E::AbortMultipartUpload { bucket, key, upload_id: upload_id(id)? },
            None => E::DeleteObject { bucket, key, version_id: version_id(q)? },
        },
        Some("annotation") => E::DeleteObjectAnnotation { bucket, key },
        Some("tagging") => E::DeleteObjectTagging { bucket, key },
        Some(_) => return Ok(None),
    };
    Ok(Some(endpoint))
}
