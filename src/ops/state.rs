//! The gateway's shared state, which every operation reads through its [`super::Ctx`]: lakeFS
//! clients and sessions, the data path's client, caches, multipart uploads, publish rules, limits
//! and the settings of the S3 endpoint.

use super::datapath::presigned::DataClient;
use crate::auth::SecretStore;
use lakefs_api::LakeFsClient;
use std::sync::Arc;

/// Shared state of the S3 front door.
pub struct Gateway {
    pub keys: Arc<dyn SecretStore>,
    /// The gateway's own lakeFS identity.
    pub lakefs: LakeFsClient,
    /// The lakeFS client of each verified key.
    pub sessions: crate::auth::sessions::Sessions,
    /// Seal and open the session tokens of temporary credentials (OIDC login).
    pub session_keys: crate::auth::session_token::SessionKeys,
    /// Longest lifetime of temporary credentials, seconds.
    pub session_max_ttl: i64,
    pub data: DataClient,
    /// Base domains for virtual-host addressing (`<bucket>.<domain>`).
    pub base_domains: Vec<String>,
    /// Region reported by GetBucketLocation/HeadBucket.
    pub region: String,
    /// Accept Signature Version 2 header auth.
    pub allow_sigv2: bool,
    /// Bare repository buckets address their default branch with flat keys.
    pub flat_buckets: bool,
    /// Storage namespace for repositories created by CreateBucket (`{repo}` is replaced);
    /// `None`: CreateBucket of a repository answers NotImplemented.
    pub namespace_template: Option<String>,
    /// What lakeFS's storage can do (asked once, on first use, by one request while the others wait).
    pub storage: crate::ops::storage::StorageCache,
    /// `statObject` answers for objects at commit ids (immutable), per key.
    pub commit_stats: crate::ops::datapath::cache::CommitStats,
    /// Bytes of small objects read at commit ids, by physical address.
    pub small_objects: crate::ops::datapath::cache::SmallObjects,
    /// Multipart upload ids, registry and spool.
    pub multipart: crate::ops::multipart::Multipart,
    /// Publish-on-success rules.
    pub publish: crate::publish::PublishRules,
    /// Concurrent requests per key, request and body timeouts.
    pub limits: s3_wire::limits::RequestLimits,
    /// Default branch per repository (flat buckets), with when it was read.
    pub default_branches: std::sync::Mutex<std::collections::HashMap<String, (String, std::time::Instant)>>,
}

/// A request id as S3 writes them (16 upper-case hex digits).
pub fn request_id() -> String {
    format!("{:016X}", rand::random::<u64>())
}
