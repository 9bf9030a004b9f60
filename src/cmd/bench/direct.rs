//! `lakegate bench --direct`: the same workload without the gateway. Before the timed phase the
//! objects' presigned blob-store URLs are fetched from lakeFS (`getPhysicalAddress` with presign
//! for PUT, `statObject` with presign for GET, as lakegate itself does per request), so the timed
//! requests go straight to the object store: the physical limit of lakegate's data path.

use super::args::Workload;
use futures_util::{StreamExt, TryStreamExt};
use lakefs_api::LakeFsClient;
use lakefs_api::client::{ClientConfig, Credentials};
use std::path::Path;

/// Presigned URLs of `keys` (`<ref>/<path>` in repository `bucket`) for `op`, in order.
pub async fn presigned_urls(dev: &Path, bucket: &str, keys: &[String], op: Workload) -> Result<Vec<String>, String> {
    if !matches!(op, Workload::Put | Workload::Get) {
        return Err("--direct measures put and get only (presigned URLs are per method)".into());
    }
    let path = dev.join("dev.json");
    let text = std::fs::read(&path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    let info: serde_json::Value = serde_json::from_slice(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let field = |name: &str| info[name].as_str().map(String::from).ok_or(format!("{} has no {name}", path.display()));
    let credentials = Credentials::Basic {
        access_key_id: field("lakefs_access_key_id")?,
        secret_access_key: field("lakefs_secret_access_key")?,
    };
    let lakefs =
        LakeFsClient::new(ClientConfig::new(field("api_endpoint")?, credentials)).map_err(|e| e.to_string())?;
    let lakefs = &lakefs;
    futures_util::stream::iter(keys)
        .map(|key| async move {
            let (reference, path) = key.split_once('/').ok_or(format!("key {key} has no <ref>/ prefix"))?;
            let url = match op {
                Workload::Put => {
                    lakefs.get_physical_address(bucket, reference, path, true).await.map(|s| s.presigned_url)
                }
                _ => lakefs.stat_object(bucket, reference, path, true).await.map(|s| Some(s.physical_address)),
            };
            let url = url.map_err(|e| format!("lakeFS, for {key}: {e}"))?;
            url.filter(|u| u.starts_with("http://")).ok_or(format!("lakeFS gave no http:// presigned URL for {key}"))
        })
        .buffered(16)
        .try_collect()
        .await
}
