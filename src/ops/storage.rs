//! What a repository's storage can do — presigned URLs, presigned multipart uploads — read from
//! lakeFS's `getConfig` the way lakeFS's own clients (lakectl, the Python wrapper) read it: a
//! lakeFS with one storage answers `storage_config` (and an empty `storage_config_list`); a lakeFS
//! with several lists each in `storage_config_list` under its `blockstore_id`, and a repository
//! names its own with `storage_id` (`pkg/api/controller.go` `getStorageConfigs`).
//!
//! The config is asked once per gateway; a repository's storage id once per repository (and again
//! after [`REPO_TTL`], as a repository may be deleted and created anew on another storage).
//! Concurrent first requests wait for the one `getConfig`.

use super::Ctx;
use super::errors::{Missing, map_lakefs};
use dashmap::DashMap;
use lakefs_api::dto::{Config, StorageConfig};
use lakefs_api::versions::{self, Version};
use s3_wire::{S3Error, S3Result};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// How long a repository's storage id is remembered.
pub const REPO_TTL: Duration = Duration::from_secs(300);

/// What a storage can do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capabilities {
    /// `blockstore_type`: `s3`, `azure`, `gs`, `local`, `mem`…
    pub kind: String,
    pub presign: bool,
    pub multipart: bool,
}

impl From<&StorageConfig> for Capabilities {
    fn from(s: &StorageConfig) -> Capabilities {
        let presign = s.pre_sign_support;
        Capabilities {
            kind: s.blockstore_type.clone(),
            presign,
            multipart: presign && s.pre_sign_multipart_upload == Some(true),
        }
    }
}

/// The storages of one lakeFS: by id (`""` for the single storage of a one-storage lakeFS).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Storages {
    by_id: HashMap<String, Capabilities>,
    /// Whether repositories must be asked for their `storage_id`.
    multi: bool,
    /// The version lakeFS reports (`None`: not a release, taken as having every operation).
    pub version: Option<Version>,
}

impl Storages {
    /// The storages a `getConfig` answer describes.
    pub fn from_config(config: &Config) -> Storages {
        let version = config.version_config.as_ref().and_then(|v| v.version.as_deref()).and_then(Version::parse);
        let mut storages = Storages::of(config);
        storages.version = version;
        if let Some(needed) = versions::missing("uploadPart", version) {
            // presigned multipart needs a presigned URL per part, one at a time
            for c in storages.by_id.values_mut().filter(|c| c.multipart) {
                c.multipart = false;
                tracing::info!(lakefs = %needed, "presigned multipart uploads need lakeFS {needed} or later: parts are spooled");
            }
        }
        storages
    }

    fn of(config: &Config) -> Storages {
        let list = config.storage_config_list.as_deref().unwrap_or_default();
        if list.is_empty() {
            let single = config.storage_config.as_ref().map(Capabilities::from).unwrap_or(Capabilities {
                kind: "unknown".into(),
                presign: false,
                multipart: false,
            });
            return Storages { by_id: HashMap::from([(String::new(), single)]), multi: false, version: None };
        }
        let mut by_id: HashMap<String, Capabilities> =
            list.iter().map(|s| (s.blockstore_id.clone().unwrap_or_default(), Capabilities::from(s))).collect();
        if let Some(default) = &config.storage_config {
            by_id.entry(default.blockstore_id.clone().unwrap_or_default()).or_insert_with(|| default.into());
        }
        Storages { by_id, multi: true, version: None }
    }

    /// The capabilities of storage `id`.
    pub fn get(&self, id: &str) -> Option<&Capabilities> {
        self.by_id.get(id)
    }

    /// A one-line description for logs and `/readyz`: `id=type(presign, multipart)`.
    pub fn describe(&self) -> String {
        let mut ids: Vec<&String> = self.by_id.keys().collect();
        ids.sort();
        let one = |id: &String| {
            let c = &self.by_id[id];
            let name = if id.is_empty() { "default" } else { id };
            format!("{name}={}(presign: {}, presigned multipart: {})", c.kind, c.presign, c.multipart)
        };
        ids.into_iter().map(one).collect::<Vec<_>>().join(", ")
    }
}

/// The gateway's memory of storages and of repositories' storage ids.
#[derive(Default)]
pub struct StorageCache {
    storages: tokio::sync::OnceCell<Storages>,
    repos: DashMap<String, (String, Instant)>,
}

impl StorageCache {
    /// Forgets a repository's storage id (it was deleted).
    pub fn forget(&self, repo: &str) {
        self.repos.remove(repo);
    }
}

/// lakeFS's storages (asked once per gateway).
pub async fn storages<'a>(ctx: &'a Ctx<'_>) -> S3Result<&'a Storages> {
    ctx.gw
        .storage
        .storages
        .get_or_try_init(|| async {
            let config = ctx.lakefs.get_config().await.map_err(|e| map_lakefs(e, Missing::Bucket))?;
            let storages = Storages::from_config(&config);
            tracing::info!(storages = storages.describe(), "lakeFS storage capabilities");
            Ok::<_, S3Error>(storages)
        })
        .await
}

/// Refuses `operation` with `501 NotImplemented` naming the version needed when the lakeFS the
/// gateway talks to is older than the release that introduced it.
pub async fn require(ctx: &Ctx<'_>, operation: &str, what: &str) -> S3Result<()> {
    match versions::missing(operation, storages(ctx).await?.version) {
        None => Ok(()),
        Some(needed) => Err(s3_wire::s3_err!(
            NotImplemented,
            "{what} needs lakeFS {needed} or later (its {operation} operation); this lakeFS is {}",
            storages(ctx).await?.version.map_or_else(|| "older".to_string(), |v| v.to_string())
        )),
    }
}

/// What repository `repo`'s storage can do.
pub async fn capabilities(ctx: &Ctx<'_>, repo: &str) -> S3Result<Capabilities> {
    let storages = storages(ctx).await?;
    if !storages.multi {
        return Ok(storages.get("").cloned().expect("a one-storage lakeFS has the default entry"));
    }
    let cached = ctx.gw.storage.repos.get(repo).filter(|e| e.1.elapsed() < REPO_TTL).map(|e| e.0.clone());
    let id = match cached {
        Some(id) => id,
        None => {
            let r = ctx.lakefs.get_repository(repo).await.map_err(|e| map_lakefs(e, Missing::Bucket))?;
            let id = r.storage_id.unwrap_or_default();
            ctx.gw.storage.repos.insert(repo.to_string(), (id.clone(), Instant::now()));
            id
        }
    };
    storages.get(&id).cloned().ok_or_else(|| {
        S3Error::internal(format!("repository {repo}'s storage {id:?} is not in lakeFS's storage_config_list"))
    })
}

#[cfg(test)]
mod tests;
