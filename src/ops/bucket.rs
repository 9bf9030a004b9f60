//! Bucket operations on lakeFS repositories: ListBuckets (`listRepositories`, all pages),
//! HeadBucket and GetBucketLocation (`getRepository`).

use super::Ctx;
use super::errors::{Missing, map_lakefs};
use crate::body::{Body, empty, full};
use crate::s3::S3Result;
use crate::s3::xml::{BucketEntry, Buckets, ListAllMyBucketsResult, LocationConstraint, Owner, XMLNS, to_xml};
use crate::util::format_iso8601;
use http::{HeaderValue, Response, header};
use std::time::{Duration, UNIX_EPOCH};

fn xml_response(xml: String) -> Response<Body> {
    let mut resp = Response::new(full(xml));
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/xml"));
    resp
}

/// ListBuckets: every repository, paging through lakeFS.
pub async fn handle_list_buckets(ctx: &Ctx<'_>) -> S3Result<Response<Body>> {
    let mut buckets = Vec::new();
    let mut after = String::new();
    loop {
        let page = ctx
            .gw
            .lakefs
            .list_repositories("", &after, Some(1000))
            .await
            .map_err(|e| map_lakefs(e, Missing::Bucket))?;
        for repo in page.results {
            let created = UNIX_EPOCH + Duration::from_secs(repo.creation_date.max(0) as u64);
            buckets.push(BucketEntry { name: repo.id, creation_date: format_iso8601(created) });
        }
        if !page.pagination.has_more || page.pagination.next_offset.is_empty() {
            break;
        }
        after = page.pagination.next_offset;
    }
    let owner = Owner { id: ctx.verified.access_key_id.clone(), display_name: ctx.verified.access_key_id.clone() };
    let result = ListAllMyBucketsResult { xmlns: XMLNS, owner, buckets: Buckets { bucket: buckets } };
    Ok(xml_response(to_xml("ListAllMyBucketsResult", &result)?))
}

/// HeadBucket: 200 when the repository exists.
pub async fn handle_head_bucket(ctx: &Ctx<'_>, bucket: &str) -> S3Result<Response<Body>> {
    ctx.gw.lakefs.get_repository(bucket).await.map_err(|e| map_lakefs(e, Missing::Bucket))?;
    let mut resp = Response::new(empty());
    resp.headers_mut().insert("x-amz-bucket-region", super::headers::value(&ctx.gw.region)?);
    Ok(resp)
}

/// GetBucketLocation: the configured region (empty for us-east-1, as S3 answers).
pub async fn handle_get_bucket_location(ctx: &Ctx<'_>, bucket: &str) -> S3Result<Response<Body>> {
    ctx.gw.lakefs.get_repository(bucket).await.map_err(|e| map_lakefs(e, Missing::Bucket))?;
    let region = if ctx.gw.region == "us-east-1" { String::new() } else { ctx.gw.region.clone() };
    Ok(xml_response(to_xml("LocationConstraint", &LocationConstraint { xmlns: XMLNS, region })?))
}
