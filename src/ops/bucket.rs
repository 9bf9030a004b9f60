//! Bucket operations: ListBuckets (`listRepositories`, all pages), HeadBucket and
//! GetBucketLocation (`getRepository`/`getBranch`), CreateBucket (`createRepository` or
//! `createBranch`) and DeleteBucket (`deleteRepository` or `deleteBranch`, refused when not empty).

use super::Ctx;
use super::errors::{Missing, map_lakefs};
use super::target::{self, Target};
use http::{Response, StatusCode, header};
use lakefs_api::client::ListObjectsParams;
use lakefs_api::dto::{BranchCreation, RepositoryCreation};
use lakegate_net::body::{Body, empty};
use lakegate_net::util::format_iso8601;
use s3_wire::S3Error;
use s3_wire::S3Result;
use s3_wire::s3_err;
use s3_wire::xml::{
    BucketEntry, Buckets, ListAllMyBucketsResult, LocationConstraint, Owner, XMLNS, to_xml, xml_response,
};
use std::time::{Duration, UNIX_EPOCH};

/// ListBuckets: every repository, paging through lakeFS.
pub async fn handle_list_buckets(ctx: &Ctx<'_>) -> S3Result<Response<Body>> {
    let mut buckets = Vec::new();
    let mut after = String::new();
    loop {
        let page =
            ctx.lakefs.list_repositories("", &after, Some(1000)).await.map_err(|e| map_lakefs(e, Missing::Bucket))?;
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

/// 404 `NoSuchBucket` unless the repository (and, for branch buckets, the branch) exists.
async fn ensure_exists(ctx: &Ctx<'_>, t: &Target) -> S3Result<()> {
    let lakefs = &ctx.lakefs;
    match &t.branch {
        Some(b) => lakefs.get_branch(&t.repo, b).await.map(drop),
        None => lakefs.get_repository(&t.repo).await.map(drop),
    }
    .map_err(|e| map_lakefs(e, Missing::Bucket))
}

/// HeadBucket: 200 when the bucket exists.
pub async fn handle_head_bucket(ctx: &Ctx<'_>, t: &Target) -> S3Result<Response<Body>> {
    ensure_exists(ctx, t).await?;
    let mut resp = Response::new(empty());
    resp.headers_mut().insert("x-amz-bucket-region", super::headers::value(&ctx.gw.region)?);
    Ok(resp)
}

/// GetBucketLocation: the configured region (empty for us-east-1, as S3 answers).
pub async fn handle_get_bucket_location(ctx: &Ctx<'_>, t: &Target) -> S3Result<Response<Body>> {
    ensure_exists(ctx, t).await?;
    let region = if ctx.gw.region == "us-east-1" { String::new() } else { ctx.gw.region.clone() };
    Ok(xml_response(to_xml("LocationConstraint", &LocationConstraint { xmlns: XMLNS, region })?))
}

/// CreateBucket's lakeFS errors. lakeFS answers 409 for a branch or repository that exists
/// (`branch already exists: not unique`, `error creating repository: not unique`): the caller owns
/// it. A tag or commit id of the branch's name is 409 `tag ID <n>: conflict found` /
/// `commit ID <n>: conflict found` (`Catalog.CreateBranch`): the name is taken by something that
/// is not a bucket, S3's `BucketAlreadyExists`.
fn already_owned(err: lakefs_api::LakeFsError) -> S3Error {
    if err.status() == Some(StatusCode::CONFLICT) && err.to_string().contains("conflict found") {
        s3_err!(BucketAlreadyExists, "The requested bucket name is not available: {err}")
    } else if err.status() == Some(StatusCode::CONFLICT) {
        s3_err!(
            BucketAlreadyOwnedByYou,
            "Your previous request to create the named bucket succeeded and you already own it."
        )
    } else if err.status() == Some(StatusCode::BAD_REQUEST) {
        s3_err!(InvalidBucketName, "The specified bucket is not valid: {err}")
    } else {
        map_lakefs(err, Missing::Bucket)
    }
}

/// CreateBucket: `repo.branch` creates the branch from the default branch; `repo` creates a
/// repository in the configured namespace template.
pub async fn handle_create_bucket(ctx: &Ctx<'_>, bucket: &str) -> S3Result<Response<Body>> {
    let h = &ctx.parts.headers;
    // rclone and boto3 send `x-amz-bucket-object-lock-enabled: false`: that asks for nothing.
    let lock = h.get("x-amz-bucket-object-lock-enabled").is_some_and(|v| !v.as_bytes().eq_ignore_ascii_case(b"false"));
    if h.get("x-amz-acl").is_some_and(|a| a != "private") || lock {
        return Err(s3_err!(NotImplemented, "Bucket ACLs and object lock are not supported by lakegate"));
    }
    target::check_new_bucket_name(bucket)?;
    let lakefs = &ctx.lakefs;
    match target::parse(bucket) {
        Target { repo, branch: Some(branch) } => {
            let repository = lakefs.get_repository(&repo).await.map_err(|e| map_lakefs(e, Missing::Bucket))?;
            let creation = BranchCreation { name: branch, source: repository.default_branch, ..Default::default() };
            lakefs.create_branch(&repo, &creation).await.map_err(already_owned)?;
        }
        Target { repo, branch: None } => {
            let template = ctx.gw.namespace_template.as_deref().ok_or_else(|| {
                s3_err!(
                    NotImplemented,
                    "Creating repositories needs a storage namespace template (--namespace-template)"
                )
            })?;
            if !lakefs_api::names::valid_repo_name(&repo) {
                return Err(s3_err!(InvalidBucketName, "Repository names match ^[a-z0-9][a-z0-9-]{{2,62}}$"));
            }
            let creation = RepositoryCreation {
                name: repo.clone(),
                storage_namespace: template.replace("{repo}", &repo),
                default_branch: Some("main".into()),
                ..Default::default()
            };
            lakefs.create_repository(&creation).await.map_err(already_owned)?;
        }
    }
    let mut resp = Response::new(empty());
    resp.headers_mut().insert(header::LOCATION, super::headers::value(&format!("/{bucket}"))?);
    Ok(resp)
}

/// DeleteBucket: a branch bucket deletes the branch unless it has uncommitted changes; a repository
/// bucket deletes the repository only when its default branch is its only branch and is empty
/// (`BucketNotEmpty` otherwise, as S3).
pub async fn handle_delete_bucket(ctx: &Ctx<'_>, bucket: &str) -> S3Result<Response<Body>> {
    let lakefs = &ctx.lakefs;
    let not_empty = || s3_err!(BucketNotEmpty, "The bucket you tried to delete is not empty");
    let lake = |e| map_lakefs(e, Missing::Bucket);
    match target::parse(bucket) {
        Target { repo, branch: Some(branch) } => {
            if crate::publish::on_delete_bucket(&ctx.gw.publish, lakefs, &repo, &branch).await.map_err(lake)? {
                let mut resp = Response::new(empty());
                *resp.status_mut() = StatusCode::NO_CONTENT;
                return Ok(resp);
            }
            let diff = lakefs.diff_branch(&repo, &branch, Some(1)).await.map_err(lake)?;
            if !diff.results.is_empty() {
                return Err(not_empty());
            }
            lakefs.delete_branch(&repo, &branch).await.map_err(lake)?;
        }
        Target { repo, branch: None } => {
            let repository = lakefs.get_repository(&repo).await.map_err(lake)?;
            let branches = lakefs.list_branches(&repo, "", "", Some(2)).await.map_err(lake)?;
            let params = ListObjectsParams { amount: Some(1), ..Default::default() };
            let objects = lakefs.list_objects(&repo, &repository.default_branch, &params).await.map_err(lake)?;
            if branches.results.len() > 1 || !objects.results.is_empty() {
                return Err(not_empty());
            }
            lakefs.delete_repository(&repo).await.map_err(lake)?;
            ctx.gw.storage.forget(&repo);
        }
    }
    let mut resp = Response::new(empty());
    *resp.status_mut() = StatusCode::NO_CONTENT;
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use s3_wire::S3ErrorCode::*;

    #[test]
    fn create_bucket_conflicts_follow_lakefs_texts() {
        let api = |s: u16, m: &str| lakefs_api::LakeFsError::Api {
            status: StatusCode::from_u16(s).unwrap(),
            message: m.into(),
        };
        let rows = [
            (api(409, "branch already exists: not unique"), BucketAlreadyOwnedByYou),
            (api(409, "error creating repository: not unique"), BucketAlreadyOwnedByYou),
            (api(409, "tag ID v1: conflict found"), BucketAlreadyExists),
            (api(409, "commit ID abc: conflict found"), BucketAlreadyExists),
            (api(400, "branch: invalid value"), InvalidBucketName),
            (api(403, "read-only repository"), ErrReadOnlyRepository),
            (api(404, "source reference 'main': not found"), NoSuchBucket),
            (api(404, "repository not found"), NoSuchBucket),
            (api(500, "branch is currently locked, try again later"), SlowDown),
        ];
        for (e, code) in rows {
            let text = e.to_string();
            assert_eq!(already_owned(e).code, code, "{text}");
        }
    }
}
