//! Wire types of lakeFS's workflow operations (`api/swagger.yml`, lakeFS v1.84): merge
//! (`Merge`, `MergeResult`, `FindMergeBaseResult`), pull requests (`PullRequest*`) and import
//! (`Import*`), shared by the typed client and the embedded server like [`super::dto`].

use super::dto::{Commit, CommitCreation, Error, Pagination};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `Merge`: body of `mergeIntoBranch`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Merge {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<BTreeMap<String, String>>,
    /// `dest-wins` or `source-wins`; none: a conflict fails the merge (409).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub force: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_empty: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub squash_merge: Option<bool>,
}

/// `MergeResult`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergeResult {
    pub reference: String,
}

/// `FindMergeBaseResult`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindMergeBaseResult {
    pub source_commit_id: String,
    pub destination_commit_id: String,
    pub base_commit_id: String,
}

/// `PullRequestBasic`: body of `updatePullRequest` (every field optional).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullRequestBasic {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// `PullRequest`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullRequest {
    pub id: String,
    /// `open`, `closed` or `merged`.
    pub status: String,
    pub title: String,
    pub description: String,
    /// RFC 3339 date-time.
    pub creation_date: String,
    pub author: String,
    pub source_branch: String,
    pub destination_branch: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_commit_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_date: Option<String>,
}

/// `PullRequestsList`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullRequestsList {
    pub pagination: Pagination,
    pub results: Vec<PullRequest>,
}

/// `PullRequestCreation`: body of `createPullRequest`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullRequestCreation {
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub source_branch: String,
    pub destination_branch: String,
}

/// `PullRequestCreationResponse`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullRequestCreationResponse {
    pub id: String,
}

/// `ImportLocation`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportLocation {
    /// `common_prefix` or `object`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Source URI (`s3://…`, `local://…`), of the blockstore's type.
    pub path: String,
    /// Where on the branch: the prefix (`common_prefix`) or the object's path (`object`).
    pub destination: String,
}

/// `ImportCreation`: body of `importStart`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportCreation {
    pub paths: Vec<ImportLocation>,
    pub commit: CommitCreation,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub force: Option<bool>,
}

/// `ImportCreationResponse`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportCreationResponse {
    pub id: String,
}

/// `ImportStatus`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportStatus {
    pub completed: bool,
    /// RFC 3339 date-time.
    pub update_time: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingested_objects: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metarange_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<Commit>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Error>,
}
