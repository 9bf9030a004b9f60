//! ListParts and ListMultipartUploads (Amazon S3 API Reference), answered from this lakegate's
//! upload registry: uploads in key order, then initiation order; `prefix`, `delimiter`,
//! `key-marker`/`upload-id-marker`, `max-uploads`, `encoding-type=url`; parts with
//! `part-number-marker` and `max-parts`. Uploads past lakeFS's 24 h window are not listed.

use super::registry::{Listed, PartRecord};
use super::token::UPLOAD_WINDOW_SECS;
use super::{now_ms, open_upload, part::upload_algorithm, registry};
use crate::ops::Ctx;
use crate::ops::list::{encode, query, url_encoding};
use crate::ops::list_xml::CommonPrefix;
use crate::ops::target::Target;
use http::Response;
use lakegate_net::body::Body;
use lakegate_net::util::format_iso8601;
use s3_wire::S3Result;
use s3_wire::checksum::ChecksumAlgorithm;
use s3_wire::s3_err;
use s3_wire::xml::{Owner, XMLNS, to_xml, xml_response};
use serde::Serialize;
use std::collections::HashMap;
use std::time::{Duration, UNIX_EPOCH};

const MAX_LIST: usize = 1000;

fn iso(ms: i64) -> String {
    format_iso8601(UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64))
}

fn limit(q: &HashMap<String, String>, name: &str) -> S3Result<usize> {
    match q.get(name) {
        None => Ok(MAX_LIST),
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .map(|n| (n as usize).min(MAX_LIST))
            .ok_or_else(|| s3_err!(InvalidArgument, "Provided {name} not an integer or within integer range")),
    }
}

fn owner(ctx: &Ctx<'_>) -> Owner {
    Owner { id: ctx.verified.access_key_id.clone(), display_name: ctx.verified.access_key_id.clone() }
}

/// The five `Checksum*` elements, of which at most one is set.
#[derive(Debug, Default, Serialize)]
pub(crate) struct Checksums {
    #[serde(rename = "ChecksumCRC32", skip_serializing_if = "Option::is_none")]
    crc32: Option<String>,
    #[serde(rename = "ChecksumCRC32C", skip_serializing_if = "Option::is_none")]
    crc32c: Option<String>,
    #[serde(rename = "ChecksumCRC64NVME", skip_serializing_if = "Option::is_none")]
    crc64nvme: Option<String>,
    #[serde(rename = "ChecksumSHA1", skip_serializing_if = "Option::is_none")]
    sha1: Option<String>,
    #[serde(rename = "ChecksumSHA256", skip_serializing_if = "Option::is_none")]
    sha256: Option<String>,
}

impl Checksums {
    pub(crate) fn of(alg: Option<ChecksumAlgorithm>, value: Option<String>) -> Checksums {
        let mut c = Checksums::default();
        let slot = match alg {
            Some(ChecksumAlgorithm::Crc32) => &mut c.crc32,
            Some(ChecksumAlgorithm::Crc32c) => &mut c.crc32c,
            Some(ChecksumAlgorithm::Crc64Nvme) => &mut c.crc64nvme,
            Some(ChecksumAlgorithm::Sha1) => &mut c.sha1,
            Some(ChecksumAlgorithm::Sha256) => &mut c.sha256,
            None => return c,
        };
        *slot = value;
        c
    }
}

#[derive(Serialize)]
struct PartXml {
    #[serde(rename = "PartNumber")]
    part_number: u32,
    #[serde(rename = "LastModified")]
    last_modified: String,
    #[serde(rename = "ETag")]
    etag: String,
    #[serde(rename = "Size")]
    size: u64,
    #[serde(flatten)]
    checksums: Checksums,
}

#[derive(Serialize)]
struct ListPartsResult {
    #[serde(rename = "@xmlns")]
    xmlns: &'static str,
    #[serde(rename = "Bucket")]
    bucket: String,
    #[serde(rename = "Key")]
    key: String,
    #[serde(rename = "UploadId")]
    upload_id: String,
    #[serde(rename = "PartNumberMarker")]
    part_number_marker: u32,
    #[serde(rename = "NextPartNumberMarker")]
    next_part_number_marker: u32,
    #[serde(rename = "MaxParts")]
    max_parts: usize,
    #[serde(rename = "IsTruncated")]
    is_truncated: bool,
    #[serde(rename = "Part")]
    parts: Vec<PartXml>,
    #[serde(rename = "Initiator")]
    initiator: Owner,
    #[serde(rename = "Owner")]
    owner: Owner,
    #[serde(rename = "StorageClass")]
    storage_class: &'static str,
    #[serde(rename = "ChecksumAlgorithm", skip_serializing_if = "Option::is_none")]
    checksum_algorithm: Option<&'static str>,
    #[serde(rename = "ChecksumType", skip_serializing_if = "Option::is_none")]
    checksum_type: Option<String>,
}

/// ListParts.
pub async fn handle_list_parts(
    ctx: &Ctx<'_>,
    t: &Target,
    (bucket, key): (&str, &str),
    upload_id: &str,
) -> S3Result<Response<Body>> {
    let (token, digest) = open_upload(ctx, t, key, upload_id)?;
    let q = query(ctx);
    let max = limit(&q, "max-parts")?;
    let marker: u32 = match q.get("part-number-marker") {
        None => 0,
        Some(v) => v.parse().map_err(|_| {
            s3_err!(InvalidArgument, "Provided part-number-marker not an integer or within integer range")
        })?,
    };
    let parts = registry(ctx, move |r| r.parts(&digest)).await?.ok_or_else(|| {
        s3_err!(NoSuchUpload, "The specified upload does not exist (or was created through another lakegate replica).")
    })?;
    let alg = upload_algorithm(&token);
    let mut after: Vec<PartRecord> = parts.into_iter().filter(|p| p.part_number > marker).collect();
    let truncated = after.len() > max;
    after.truncate(max);
    let next = after.last().map_or(0, |p| p.part_number);
    let result = ListPartsResult {
        xmlns: XMLNS,
        bucket: bucket.to_string(),
        key: key.to_string(),
        upload_id: upload_id.to_string(),
        part_number_marker: marker,
        next_part_number_marker: next,
        max_parts: max,
        is_truncated: truncated,
        parts: after
            .into_iter()
            .map(|p| PartXml {
                part_number: p.part_number,
                last_modified: iso(p.last_modified_ms),
                etag: format!("\"{}\"", p.etag),
                size: p.size,
                checksums: Checksums::of(alg, p.checksum),
            })
            .collect(),
        initiator: owner(ctx),
        owner: owner(ctx),
        storage_class: "STANDARD",
        checksum_algorithm: alg.map(ChecksumAlgorithm::sdk_name),
        checksum_type: alg.and(token.checksum_type.clone()),
    };
    Ok(xml_response(to_xml("ListPartsResult", &result)?))
}

/// What ListMultipartUploads was asked.
#[derive(Debug, Clone, Default)]
pub(crate) struct UploadsQuery {
    /// The prefix registry keys have and client keys lack (`<branch>/` for branch buckets).
    pub strip: String,
    pub prefix: String,
    pub delimiter: Option<String>,
    pub key_marker: Option<String>,
    /// `(initiated ms, upload id)` of the upload-id-marker, when it is one of ours.
    pub upload_marker: Option<(i64, String)>,
    pub max: usize,
    pub not_before_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Item {
    Upload { key: String, upload_id: String, initiated_ms: i64 },
    Prefix(String),
}

/// Selects one page of uploads from a scan in registry order; `true` when more follow.
pub(crate) fn select(q: &UploadsQuery, scan: impl FnOnce(&mut dyn FnMut(Listed) -> bool)) -> (Vec<Item>, bool) {
    let mut items: Vec<Item> = Vec::new();
    let mut more = false;
    scan(&mut |l: Listed| {
        let Some(key) = l.key.strip_prefix(q.strip.as_str()) else { return false };
        if !key.starts_with(&q.prefix) {
            return key < q.prefix.as_str();
        }
        if l.record.initiated_ms < q.not_before_ms || before_marker(q, key, &l) {
            return true;
        }
        let item = match q.delimiter.as_deref().filter(|d| !d.is_empty()) {
            Some(d) => match key[q.prefix.len()..].find(d) {
                Some(i) => Item::Prefix(key[..q.prefix.len() + i + d.len()].to_string()),
                None => upload_item(key, &l),
            },
            None => upload_item(key, &l),
        };
        if let Item::Prefix(p) = &item
            && (items.last() == Some(&item) || q.key_marker.as_deref().is_some_and(|m| p.as_str() <= m))
        {
            return true;
        }
        if items.len() == q.max {
            more = true;
            return false;
        }
        items.push(item);
        true
    });
    (items, more)
}

fn upload_item(key: &str, l: &Listed) -> Item {
    Item::Upload { key: key.to_string(), upload_id: l.record.upload_id.clone(), initiated_ms: l.record.initiated_ms }
}

/// Whether an upload comes at or before the key/upload-id markers.
fn before_marker(q: &UploadsQuery, key: &str, l: &Listed) -> bool {
    match q.key_marker.as_deref() {
        None => false,
        Some(m) if key != m => key < m,
        Some(_) => match &q.upload_marker {
            None => true,
            Some((at, id)) => (l.record.initiated_ms, &l.record.upload_id) <= (*at, id),
        },
    }
}

#[derive(Serialize)]
struct UploadXml {
    #[serde(rename = "Key")]
    key: String,
    #[serde(rename = "UploadId")]
    upload_id: String,
    #[serde(rename = "Initiator")]
    initiator: Owner,
    #[serde(rename = "Owner")]
    owner: Owner,
    #[serde(rename = "StorageClass")]
    storage_class: &'static str,
    #[serde(rename = "Initiated")]
    initiated: String,
}

#[derive(Serialize)]
struct ListMultipartUploadsResult {
    #[serde(rename = "@xmlns")]
    xmlns: &'static str,
    #[serde(rename = "Bucket")]
    bucket: String,
    #[serde(rename = "KeyMarker")]
    key_marker: String,
    #[serde(rename = "UploadIdMarker")]
    upload_id_marker: String,
    #[serde(rename = "NextKeyMarker")]
    next_key_marker: String,
    #[serde(rename = "NextUploadIdMarker")]
    next_upload_id_marker: String,
    #[serde(rename = "Delimiter", skip_serializing_if = "Option::is_none")]
    delimiter: Option<String>,
    #[serde(rename = "Prefix")]
    prefix: String,
    #[serde(rename = "MaxUploads")]
    max_uploads: usize,
    #[serde(rename = "IsTruncated")]
    is_truncated: bool,
    #[serde(rename = "Upload")]
    uploads: Vec<UploadXml>,
    #[serde(rename = "CommonPrefixes")]
    prefixes: Vec<CommonPrefix>,
    #[serde(rename = "EncodingType", skip_serializing_if = "Option::is_none")]
    encoding_type: Option<&'static str>,
}

/// ListMultipartUploads.
pub async fn handle_list_multipart_uploads(ctx: &Ctx<'_>, t: &Target, bucket: &str) -> S3Result<Response<Body>> {
    let q = query(ctx);
    let url = url_encoding(&q)?;
    let text = |n: &str| q.get(n).cloned();
    let key_marker = text("key-marker").filter(|m| !m.is_empty());
    let upload_marker = match (&key_marker, text("upload-id-marker")) {
        (Some(_), Some(id)) => ctx.gw.multipart.key.open(&id, i64::MIN / 2).ok().map(|tk| (tk.initiated_ms, id)),
        _ => None,
    };
    let uq = UploadsQuery {
        strip: t.strip(),
        prefix: text("prefix").unwrap_or_default(),
        delimiter: text("delimiter"),
        key_marker: key_marker.clone(),
        upload_marker,
        max: limit(&q, "max-uploads")?,
        not_before_ms: now_ms() - UPLOAD_WINDOW_SECS * 1000,
    };
    let (repo, scan_q) = (t.repo.clone(), uq.clone());
    let (items, more) = registry(ctx, move |r| {
        let from =
            format!("{}{}", scan_q.strip, scan_q.prefix.as_str().max(scan_q.key_marker.as_deref().unwrap_or("")));
        let mut res = Ok(());
        let page = select(&scan_q, |visit| res = r.scan(&repo, &from, visit));
        res.map(|_| page)
    })
    .await?;
    Ok(xml_response(to_xml("ListMultipartUploadsResult", &uploads_result(ctx, bucket, &uq, &q, items, more, url))?))
}

fn uploads_result(
    ctx: &Ctx<'_>,
    bucket: &str,
    uq: &UploadsQuery,
    q: &HashMap<String, String>,
    items: Vec<Item>,
    more: bool,
    url: bool,
) -> ListMultipartUploadsResult {
    let e = |s: &str| encode(s, url);
    let (next_key, next_id) = match items.last() {
        Some(Item::Upload { key, upload_id, .. }) if more => (e(key), upload_id.clone()),
        Some(Item::Prefix(p)) if more => (e(p), String::new()),
        _ => (String::new(), String::new()),
    };
    let (mut uploads, mut prefixes) = (Vec::new(), Vec::new());
    for item in items {
        match item {
            Item::Upload { key, upload_id, initiated_ms } => uploads.push(UploadXml {
                key: e(&key),
                upload_id,
                initiator: owner(ctx),
                owner: owner(ctx),
                storage_class: "STANDARD",
                initiated: iso(initiated_ms),
            }),
            Item::Prefix(p) => prefixes.push(CommonPrefix { prefix: e(&p) }),
        }
    }
    ListMultipartUploadsResult {
        xmlns: XMLNS,
        bucket: bucket.to_string(),
        key_marker: e(uq.key_marker.as_deref().unwrap_or("")),
        upload_id_marker: q.get("upload-id-marker").cloned().unwrap_or_default(),
        next_key_marker: next_key,
        next_upload_id_marker: next_id,
        delimiter: uq.delimiter.as_deref().map(e),
        prefix: e(&uq.prefix),
        max_uploads: uq.max,
        is_truncated: more,
        uploads,
        prefixes,
        encoding_type: url.then_some("url"),
    }
}

#[cfg(test)]
mod tests {
    use super::super::registry::UploadRecord;
    use super::*;

    fn listed(entries: &[(&str, i64, &str)]) -> Vec<Listed> {
        entries
            .iter()
            .map(|(k, at, id)| Listed {
                key: k.to_string(),
                record: UploadRecord { upload_id: id.to_string(), initiated_ms: *at },
            })
            .collect()
    }

    fn run(q: &UploadsQuery, all: &[Listed]) -> (Vec<Item>, bool) {
        select(q, |visit| {
            for l in all {
                if !visit(l.clone()) {
                    break;
                }
            }
        })
    }

    fn keys(items: &[Item]) -> Vec<String> {
        items
            .iter()
            .map(|i| match i {
                Item::Upload { key, upload_id, .. } => format!("{key}#{upload_id}"),
                Item::Prefix(p) => format!("{p}/"),
            })
            .collect()
    }

    #[test]
    fn pages_follow_key_and_upload_markers() {
        let all = listed(&[("main/a", 1, "u1"), ("main/b", 1, "u2"), ("main/b", 2, "u3"), ("main/c", 1, "u4")]);
        let q = UploadsQuery { strip: "main/".into(), max: 2, ..Default::default() };
        let (items, more) = run(&q, &all);
        assert_eq!((keys(&items), more), (vec!["a#u1".to_string(), "b#u2".to_string()], true));
        let q2 = UploadsQuery { key_marker: Some("b".into()), upload_marker: Some((1, "u2".into())), ..q.clone() };
        let (items, more) = run(&q2, &all);
        assert_eq!((keys(&items), more), (vec!["b#u3".to_string(), "c#u4".to_string()], false));
        let q3 = UploadsQuery { key_marker: Some("b".into()), ..q.clone() };
        assert_eq!(keys(&run(&q3, &all).0), ["c#u4"]);
    }

    #[test]
    fn delimiters_roll_up_prefixes_and_old_uploads_are_hidden() {
        let all =
            listed(&[("x/d/1", 5, "u1"), ("x/d/2", 5, "u2"), ("x/e", 5, "u3"), ("x/f/1", 0, "u4"), ("y", 5, "u5")]);
        let q = UploadsQuery {
            prefix: "x/".into(),
            delimiter: Some("/".into()),
            max: 10,
            not_before_ms: 1,
            ..Default::default()
        };
        let (items, more) = run(&q, &all);
        assert_eq!(keys(&items), ["x/d//", "x/e#u3"]);
        assert!(!more);
        let after_prefix = UploadsQuery { key_marker: Some("x/d/".into()), ..q };
        assert_eq!(keys(&run(&after_prefix, &all).0), ["x/e#u3"]);
    }
}
