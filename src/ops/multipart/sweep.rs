//! Abandoned uploads: an upload past lakeFS's 24 h window can never complete, so lakegate aborts it
//! (`abortPresignMultipartUpload`, which frees its parts in the object store), drops its spooled
//! parts and forgets it. Runs at start and then every [`SWEEP_INTERVAL`], for the uploads this
//! lakegate registered.

use super::now_ms;
use super::token::{UPLOAD_WINDOW_SECS, upload_digest};
use crate::ops::Gateway;
use lakefs_api::dto::AbortPresignMultipartUpload;
use std::sync::Arc;
use std::time::Duration;

pub const SWEEP_INTERVAL: Duration = Duration::from_secs(600);
const BATCH: usize = 100;

/// Sweeps until the gateway's last other reference is gone.
pub async fn run(gw: std::sync::Weak<Gateway>) {
    loop {
        let Some(g) = gw.upgrade() else { return };
        let swept = sweep_once(&g).await;
        if swept > 0 {
            tracing::info!(swept, "aborted multipart uploads past lakeFS's 24 h window");
        }
        drop(g);
        tokio::time::sleep(SWEEP_INTERVAL).await;
    }
}

/// Aborts up to one batch of expired uploads; how many were dropped.
pub async fn sweep_once(gw: &Arc<Gateway>) -> usize {
    let reg = gw.multipart.registry.clone();
    let before = now_ms() - UPLOAD_WINDOW_SECS * 1000;
    let ids = match tokio::task::spawn_blocking(move || reg.initiated_before(before, BATCH)).await {
        Ok(Ok(ids)) => ids,
        other => {
            tracing::warn!(?other, "could not read the upload registry");
            return 0;
        }
    };
    let mut swept = 0;
    for id in ids {
        let digest = upload_digest(&id);
        match gw.multipart.key.open_any(&id) {
            Ok(t) if t.spool => gw.multipart.spool.remove(&digest).await,
            Ok(t) => {
                let abort = AbortPresignMultipartUpload { physical_address: t.address.clone() };
                let r =
                    gw.lakefs.abort_presign_multipart_upload(&t.repo, &t.branch, &t.path, &t.lakefs_id, &abort).await;
                if let Some(e) = r.as_ref().err().filter(|e| !e.is_not_found()) {
                    tracing::warn!(%e, repo = t.repo, path = t.path, "aborting an expired upload failed; retrying later");
                    continue;
                }
            }
            Err(_) => {}
        }
        let reg = gw.multipart.registry.clone();
        if let Ok(Ok(())) = tokio::task::spawn_blocking(move || reg.remove(&digest)).await {
            swept += 1;
        }
    }
    swept
}
