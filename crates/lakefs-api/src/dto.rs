//! Wire types of the lakeFS REST API (`api/swagger.yml`, lakeFS v1.84), named as lakeFS names them.
//!
//! These structs are shared by the typed client (`lakefs::client`) and the embedded lakeFS-compatible
//! server (`embedded`), so both sides agree on every field name. Optional fields are skipped when
//! absent, as lakeFS's Go server omits them (`omitempty`).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `ObjectUserMetadata`: free-form string map attached to an object.
pub type ObjectUserMetadata = BTreeMap<String, String>;

/// `Error`: the body of every non-2xx lakeFS answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Error {
    pub message: String,
}

/// `Pagination`: page description of every list answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pagination {
    pub has_more: bool,
    pub next_offset: String,
    pub results: u64,
    pub max_per_page: u64,
}

/// `Repository`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Repository {
    pub id: String,
    pub creation_date: i64,
    pub default_branch: String,
    pub storage_namespace: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_only: Option<bool>,
}

/// `RepositoryCreation`: body of `createRepository`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepositoryCreation {
    pub name: String,
    pub storage_namespace: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_branch: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_data: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_only: Option<bool>,
}

/// `RepositoryList`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepositoryList {
    pub pagination: Pagination,
    pub results: Vec<Repository>,
}

/// `Ref`: a branch (or tag) and the commit it points to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ref {
    pub id: String,
    pub commit_id: String,
}

/// `RefList`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefList {
    pub pagination: Pagination,
    pub results: Vec<Ref>,
}

/// `BranchCreation`: body of `createBranch`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BranchCreation {
    pub name: String,
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub force: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hidden: Option<bool>,
}

/// `CommitCreation`: body of `commit`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitCreation {
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_empty: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub force: Option<bool>,
}

/// `Commit`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Commit {
    pub id: String,
    pub parents: Vec<String>,
    pub committer: String,
    pub message: String,
    pub creation_date: i64,
    pub meta_range_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<i32>,
}

/// `CommitList`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitList {
    pub pagination: Pagination,
    pub results: Vec<Commit>,
}

/// `path_type` of an `ObjectStats`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PathType {
    CommonPrefix,
    Object,
}

/// `ObjectStats`: one object (or common prefix, in listings).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectStats {
    pub path: String,
    pub path_type: PathType,
    pub physical_address: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub physical_address_expiry: Option<i64>,
    pub checksum: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<i64>,
    pub mtime: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<ObjectUserMetadata>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
}

/// `ObjectStatsList`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectStatsList {
    pub pagination: Pagination,
    pub results: Vec<ObjectStats>,
}

/// `Diff`: one change (here: an uncommitted change of a branch, `diffBranch`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diff {
    /// `added`, `removed`, `changed`, `conflict` or `prefix_changed`.
    #[serde(rename = "type")]
    pub diff_type: String,
    pub path: String,
    pub path_type: PathType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<i64>,
}

/// `DiffList`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffList {
    pub pagination: Pagination,
    pub results: Vec<Diff>,
}

/// `PathList`: body of `deleteObjects`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PathList {
    pub paths: Vec<String>,
}

/// `ObjectError`: one failed path of `deleteObjects`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectError {
    pub status_code: u16,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// `ObjectErrorList`: answer of `deleteObjects`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectErrorList {
    pub errors: Vec<ObjectError>,
}

/// `ObjectCopyCreation`: body of `copyObject`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectCopyCreation {
    pub src_path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src_ref: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub force: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shallow: Option<bool>,
}

/// `StagingLocation`: where to put bytes before linking them (`getPhysicalAddress`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StagingLocation {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub physical_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presigned_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presigned_url_expiry: Option<i64>,
}

/// `StagingMetadata`: body of `linkPhysicalAddress`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StagingMetadata {
    pub staging: StagingLocation,
    pub checksum: String,
    pub size_bytes: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_metadata: Option<ObjectUserMetadata>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtime: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub force: Option<bool>,
}

/// `StorageConfig`: what the blockstore can do (note lakeFS's capital V in one field name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageConfig {
    pub blockstore_type: String,
    pub blockstore_namespace_example: String,
    #[serde(rename = "blockstore_namespace_ValidityRegex")]
    pub blockstore_namespace_validity_regex: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_namespace_prefix: Option<String>,
    pub pre_sign_support: bool,
    pub pre_sign_support_ui: bool,
    pub import_support: bool,
    pub import_validity_regex: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pre_sign_multipart_upload: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blockstore_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blockstore_description: Option<String>,
}

/// `VersionConfig`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_context: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upgrade_recommended: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upgrade_url: Option<String>,
}

/// `Config`: answer of `getConfig`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_config: Option<VersionConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_config: Option<StorageConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_config_list: Option<Vec<StorageConfig>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capabilities_config: Option<serde_json::Map<String, serde_json::Value>>,
}

/// `LoginInformation`: body of `login`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginInformation {
    pub access_key_id: String,
    pub secret_access_key: String,
}

/// `AuthenticationToken`: answer of `login`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthenticationToken {
    pub token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_expiration: Option<i64>,
}

/// `User`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: String,
    pub creation_date: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub friendly_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// `CurrentUser`: answer of `getCurrentUser`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub user: User,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_config_keeps_lakefs_capital_v() {
        let cfg = StorageConfig {
            blockstore_type: "local".into(),
            blockstore_namespace_example: "local://example".into(),
            blockstore_namespace_validity_regex: "^local://".into(),
            default_namespace_prefix: None,
            pre_sign_support: true,
            pre_sign_support_ui: true,
            import_support: false,
            import_validity_regex: "^local://".into(),
            pre_sign_multipart_upload: Some(true),
            blockstore_id: None,
            blockstore_description: None,
        };
        let json = serde_json::to_value(&cfg).unwrap();
        assert_eq!(json["blockstore_namespace_ValidityRegex"], "^local://");
        assert!(json.get("blockstore_id").is_none());
    }

    #[test]
    fn object_stats_path_type_is_snake_case() {
        let json = r#"{"path":"a/","path_type":"common_prefix","physical_address":"","checksum":"","mtime":0}"#;
        let stats: ObjectStats = serde_json::from_str(json).unwrap();
        assert_eq!(stats.path_type, PathType::CommonPrefix);
        assert_eq!(serde_json::to_string(&stats).unwrap(), json);
    }

    #[test]
    fn staging_metadata_requires_checksum() {
        let err = serde_json::from_str::<StagingMetadata>(r#"{"staging":{},"size_bytes":1}"#);
        assert!(err.unwrap_err().to_string().contains("checksum"));
    }
}

/// `PresignMultipartUpload`: answer of `createPresignMultipartUpload`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresignMultipartUpload {
    pub upload_id: String,
    pub physical_address: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presigned_urls: Option<Vec<String>>,
}

/// `UploadPart`: one part of `CompletePresignMultipartUpload`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadPart {
    pub part_number: i64,
    pub etag: String,
}

/// `CompletePresignMultipartUpload`: body of `completePresignMultipartUpload`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompletePresignMultipartUpload {
    pub physical_address: String,
    pub parts: Vec<UploadPart>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_metadata: Option<ObjectUserMetadata>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
}

/// `AbortPresignMultipartUpload` and `UploadPartFrom`: the upload's physical address.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AbortPresignMultipartUpload {
    pub physical_address: String,
}

/// `UploadPartFrom`: body of `uploadPart`.
pub type UploadPartFrom = AbortPresignMultipartUpload;

/// `CopyPartSource`: an object (in any repository) and optionally a `bytes=a-b` range of it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CopyPartSource {
    pub repository: String,
    #[serde(rename = "ref")]
    pub reference: String,
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<String>,
}

/// `UploadPartCopyFrom`: body of `uploadPartCopy`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadPartCopyFrom {
    pub physical_address: String,
    pub copy_source: CopyPartSource,
}

/// `UploadTo`: a presigned URL to PUT one part to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadTo {
    pub presigned_url: String,
}
