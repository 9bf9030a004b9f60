//! The query-string side of routing: which sub-resource a request names, and the values the router
//! decides on (`partNumber`, `uploadId`, `versionId`), validated as the Amazon S3 API Reference
//! describes them; plus the two headers that change an operation.

use crate::error::S3Result;
use crate::s3_err;
use http::{HeaderMap, header};

/// The highest part number S3 accepts.
pub const MAX_PART_NUMBER: u32 = 10_000;

/// Query keys that select an operation. When a request names several, the first here wins.
pub(super) const SUBRESOURCES: &[&str] = &[
    "abac",
    "accelerate",
    "acl",
    "analytics",
    "annotation",
    "attributes",
    "cors",
    "delete",
    "encryption",
    "intelligent-tiering",
    "inventory",
    "legal-hold",
    "lifecycle",
    "location",
    "logging",
    "metadataAnnotationTable",
    "metadataConfiguration",
    "metadataInventoryTable",
    "metadataJournalTable",
    "metadataTable",
    "metrics",
    "notification",
    "object-lock",
    "ownershipControls",
    "policy",
    "policyStatus",
    "publicAccessBlock",
    "renameObject",
    "replication",
    "requestPayment",
    "restore",
    "retention",
    "select",
    "session",
    "tagging",
    "torrent",
    "uploads",
    "versioning",
    "versions",
    "website",
];

/// The decoded query pairs of a request.
#[derive(Clone, Copy)]
pub(super) struct Query<'a>(pub(super) &'a [(String, String)]);

impl<'a> Query<'a> {
    /// The value of the first `name` parameter.
    pub(super) fn get(self, name: &str) -> Option<&'a str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The sub-resource the request names, if any.
    pub(super) fn subresource(self) -> Option<&'static str> {
        SUBRESOURCES.iter().copied().find(|s| self.get(s).is_some())
    }
}

/// `partNumber`: an integer in 1..=10000 (digits only, no sign).
fn part_number(raw: &str) -> S3Result<u32> {
    Some(raw)
        .filter(|r| r.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|r| r.parse::<u32>().ok())
        .filter(|n| (1..=MAX_PART_NUMBER).contains(n))
        .ok_or_else(|| {
            s3_err!(
                InvalidArgument,
                "Part number must be an integer between 1 and {MAX_PART_NUMBER}, inclusive (got {raw:?})"
            )
        })
}

pub(super) fn optional_part_number(q: Query) -> S3Result<Option<u32>> {
    q.get("partNumber").map(part_number).transpose()
}

/// `uploadId`: any non-empty string (its existence is the handler's business).
pub(super) fn upload_id(raw: &str) -> S3Result<String> {
    if raw.is_empty() {
        return Err(s3_err!(InvalidArgument, "The uploadId query parameter must not be empty"));
    }
    Ok(raw.to_owned())
}

pub(super) fn version_id(q: Query) -> S3Result<Option<String>> {
    match q.get("versionId") {
        Some("") => Err(s3_err!(InvalidArgument, "Version id cannot be the empty string")),
        other => Ok(other.map(str::to_owned)),
    }
}

/// `uploadId` and `partNumber` of an UploadPart(Copy): both or neither.
pub(super) fn upload_part(q: Query) -> S3Result<Option<(String, u32)>> {
    match (q.get("uploadId"), q.get("partNumber")) {
        (None, None) => Ok(None),
        (Some(id), Some(n)) => Ok(Some((upload_id(id)?, part_number(n)?))),
        (Some(_), None) => Err(s3_err!(InvalidArgument, "An upload part needs a partNumber with its uploadId")),
        (None, Some(_)) => Err(s3_err!(InvalidArgument, "An upload part needs an uploadId with its partNumber")),
    }
}

pub(super) fn has_copy_source(headers: &HeaderMap) -> bool {
    headers.contains_key("x-amz-copy-source")
}

pub(super) fn is_form_data(headers: &HeaderMap) -> bool {
    const FORM_DATA: &str = "multipart/form-data";
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|ct| ct.trim_start().get(..FORM_DATA.len()))
        .is_some_and(|prefix| prefix.eq_ignore_ascii_case(FORM_DATA))
}
