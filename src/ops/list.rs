//! ListObjects (V1) and ListObjectsV2 on lakeFS. A prefix with a `/` lists `listObjects` of the ref
//! before the first `/`; an empty prefix, or one without `/`, lists the repository's branches as
//! common prefixes `<branch>/` (as lakeFS's own S3 gateway does). Keys come back as `<ref>/<path>`.
//! Continuation tokens are opaque (base64url of the last key returned).

use super::Ctx;
use super::errors::{Missing, map_lakefs};
use super::list_xml::{CommonPrefix, Contents, ListV1, ListV2};
use super::target::Target;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::Response;
use lakefs_api::client::ListObjectsParams;
use lakefs_api::dto::PathType;
use lakegate_net::body::Body;
use lakegate_net::util::format_iso8601;
use s3_wire::S3Result;
use s3_wire::s3_err;
use s3_wire::xml::{Owner, XMLNS, to_xml, xml_response};
use std::collections::HashMap;
use std::time::{Duration, UNIX_EPOCH};

/// S3's largest page.
pub const MAX_KEYS: usize = 1000;

/// One listing request, in either version's terms.
struct Listing {
    /// Full (`<ref>/…`) prefix.
    prefix: String,
    /// What client-visible keys lack (`"<branch>/"` for branch buckets).
    strip: String,
    delimiter: String,
    /// Full key to list after (exclusive).
    after: String,
    max_keys: usize,
    url_encoding: bool,
    fetch_owner: bool,
}

/// One page: rows in key order and whether more follow.
struct Page {
    contents: Vec<Contents>,
    prefixes: Vec<CommonPrefix>,
    last_key: Option<String>,
    truncated: bool,
}

pub(crate) fn query(ctx: &Ctx<'_>) -> HashMap<String, String> {
    form_urlencoded::parse(ctx.parts.uri.query().unwrap_or("").as_bytes()).into_owned().collect()
}

fn max_keys(q: &HashMap<String, String>) -> S3Result<usize> {
    match q.get("max-keys") {
        None => Ok(MAX_KEYS),
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .map(|n| (n as usize).min(MAX_KEYS))
            .ok_or_else(|| s3_err!(InvalidArgument, "max-keys must be a non-negative integer")),
    }
}

pub(crate) fn url_encoding(q: &HashMap<String, String>) -> S3Result<bool> {
    match q.get("encoding-type").map(String::as_str) {
        None => Ok(false),
        Some("url") => Ok(true),
        Some(_) => Err(s3_err!(InvalidArgument, "Invalid Encoding Method specified in Request")),
    }
}

pub(crate) fn encode(s: &str, on: bool) -> String {
    if on {
        const SET: &percent_encoding::AsciiSet =
            &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~').remove(b'/');
        percent_encoding::utf8_percent_encode(s, SET).to_string()
    } else {
        s.to_string()
    }
}

fn token_of(key: &str) -> String {
    URL_SAFE_NO_PAD.encode(key)
}

fn key_of_token(token: &str) -> S3Result<String> {
    URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| s3_err!(InvalidArgument, "The continuation token provided is incorrect"))
}

/// ListObjectsV2.
pub async fn handle_list_objects_v2(ctx: &Ctx<'_>, t: &Target, bucket: &str) -> S3Result<Response<Body>> {
    let q = query(ctx);
    let strip = t.strip();
    let token = q.get("continuation-token").cloned();
    let start_after = q.get("start-after").cloned();
    let after = match (&token, &start_after) {
        (Some(tok), _) => key_of_token(tok)?,
        (None, Some(s)) if !s.is_empty() => format!("{strip}{s}"),
        _ => String::new(),
    };
    let prefix = q.get("prefix").cloned().unwrap_or_default();
    let l = Listing {
        prefix: format!("{strip}{prefix}"),
        strip,
        delimiter: q.get("delimiter").cloned().unwrap_or_default(),
        after,
        max_keys: max_keys(&q)?,
        url_encoding: url_encoding(&q)?,
        fetch_owner: q.get("fetch-owner").is_some_and(|v| v == "true"),
    };
    let page = list(ctx, t, &l).await?;
    let e = |s: &str| encode(s, l.url_encoding);
    let result = ListV2 {
        xmlns: XMLNS,
        name: bucket.to_string(),
        prefix: e(&prefix),
        key_count: page.contents.len() + page.prefixes.len(),
        max_keys: l.max_keys,
        delimiter: (!l.delimiter.is_empty()).then(|| e(&l.delimiter)),
        is_truncated: page.truncated,
        continuation_token: token,
        next_continuation_token: page.truncated.then(|| page.last_key.as_deref().map(token_of)).flatten(),
        start_after: start_after.map(|s| e(&s)),
        encoding_type: l.url_encoding.then_some("url"),
        contents: page.contents,
        common_prefixes: page.prefixes,
    };
    Ok(xml_response(to_xml("ListBucketResult", &result)?))
}

/// ListObjects (V1).
pub async fn handle_list_objects_v1(ctx: &Ctx<'_>, t: &Target, bucket: &str) -> S3Result<Response<Body>> {
    let q = query(ctx);
    let strip = t.strip();
    let marker = q.get("marker").cloned().unwrap_or_default();
    let prefix = q.get("prefix").cloned().unwrap_or_default();
    let l = Listing {
        prefix: format!("{strip}{prefix}"),
        strip: strip.clone(),
        delimiter: q.get("delimiter").cloned().unwrap_or_default(),
        after: if marker.is_empty() { String::new() } else { format!("{strip}{marker}") },
        max_keys: max_keys(&q)?,
        url_encoding: url_encoding(&q)?,
        fetch_owner: true,
    };
    let page = list(ctx, t, &l).await?;
    let e = |s: &str| encode(s, l.url_encoding);
    let shown = |k: &str| e(k.strip_prefix(&strip).unwrap_or(k));
    let next_marker =
        (page.truncated && !l.delimiter.is_empty()).then(|| page.last_key.as_deref().map(shown)).flatten();
    let result = ListV1 {
        xmlns: XMLNS,
        name: bucket.to_string(),
        prefix: e(&prefix),
        marker: e(&marker),
        next_marker,
        max_keys: l.max_keys,
        delimiter: (!l.delimiter.is_empty()).then(|| e(&l.delimiter)),
        is_truncated: page.truncated,
        encoding_type: l.url_encoding.then_some("url"),
        contents: page.contents,
        common_prefixes: page.prefixes,
    };
    Ok(xml_response(to_xml("ListBucketResult", &result)?))
}

/// One page of the listing: one lakeFS call per page. Whether the bucket exists is asked only
/// when the listing itself cannot tell (an empty answer for a ref that is not there).
async fn list(ctx: &Ctx<'_>, t: &Target, l: &Listing) -> S3Result<Page> {
    let found = match (l.max_keys, l.prefix.split_once('/')) {
        (0, _) => None,
        (_, None) => Some(list_branches(ctx, &t.repo, l).await?),
        (_, Some((reference, path_prefix))) => list_ref(ctx, &t.repo, reference, path_prefix, l).await?,
    };
    match found {
        Some(page) => Ok(page),
        None => {
            ensure_bucket(ctx, t).await?;
            Ok(Page { contents: vec![], prefixes: vec![], last_key: None, truncated: false })
        }
    }
}

/// `NoSuchBucket` unless the bucket's repository (and branch) exist.
async fn ensure_bucket(ctx: &Ctx<'_>, t: &Target) -> S3Result<()> {
    match &t.branch {
        Some(b) => ctx.lakefs.get_branch(&t.repo, b).await.map(drop),
        None => ctx.lakefs.get_repository(&t.repo).await.map(drop),
    }
    .map_err(|e| map_lakefs(e, Missing::Bucket))
}

async fn list_branches(ctx: &Ctx<'_>, bucket: &str, l: &Listing) -> S3Result<Page> {
    let after = l.after.strip_suffix('/').unwrap_or(&l.after);
    let after = if after < l.prefix.as_str() { "" } else { after };
    let refs = ctx
        .lakefs
        .list_branches(bucket, &l.prefix, after, Some(l.max_keys as u32))
        .await
        .map_err(|e| map_lakefs(e, Missing::Bucket))?;
    let prefixes: Vec<CommonPrefix> =
        refs.results.iter().map(|r| CommonPrefix { prefix: encode(&format!("{}/", r.id), l.url_encoding) }).collect();
    let last_key = refs.results.last().map(|r| format!("{}/", r.id));
    Ok(Page { contents: vec![], prefixes, last_key, truncated: refs.pagination.has_more })
}

/// A page of objects under `reference`; `None` when there is nothing to list there (the ref does
/// not exist, or the listing already passed it).
async fn list_ref(
    ctx: &Ctx<'_>,
    bucket: &str,
    reference: &str,
    path_prefix: &str,
    l: &Listing,
) -> S3Result<Option<Page>> {
    let ref_prefix = format!("{reference}/");
    let after = match l.after.strip_prefix(&ref_prefix) {
        Some(a) => a.to_string(),
        None if l.after.is_empty() || l.after.as_str() < ref_prefix.as_str() => String::new(),
        None => return Ok(None),
    };
    let params = ListObjectsParams {
        prefix: path_prefix,
        after: &after,
        delimiter: &l.delimiter,
        amount: Some(l.max_keys as u32),
        presign: false,
        user_metadata: false,
    };
    let listed = match ctx.lakefs.list_objects(bucket, reference, &params).await {
        Ok(listed) => listed,
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => return Err(map_lakefs(e, Missing::Bucket)),
    };
    let owner = l
        .fetch_owner
        .then(|| Owner { id: ctx.verified.access_key_id.clone(), display_name: ctx.verified.access_key_id.clone() });
    let mut page = Page { contents: vec![], prefixes: vec![], last_key: None, truncated: listed.pagination.has_more };
    for o in listed.results {
        let key = format!("{ref_prefix}{}", o.path);
        let shown = encode(key.strip_prefix(&l.strip).unwrap_or(&key), l.url_encoding);
        match o.path_type {
            PathType::CommonPrefix => page.prefixes.push(CommonPrefix { prefix: shown }),
            PathType::Object => page.contents.push(Contents {
                key: shown,
                last_modified: format_iso8601(UNIX_EPOCH + Duration::from_secs(o.mtime.max(0) as u64)),
                etag: format!("\"{}\"", o.checksum),
                size: o.size_bytes.unwrap_or(0),
                storage_class: "STANDARD",
                owner: owner.clone(),
            }),
        }
        page.last_key = Some(key);
    }
    Ok(Some(page))
}
