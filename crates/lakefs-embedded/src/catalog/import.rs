//! Import of the embedded server (lakeFS API: `importStart`, `importStatus`, `importCancel`),
//! zero copy: the imported objects' physical addresses are the source files themselves
//! (`local:///abs/path`), which must lie under one of the server's configured import roots (as
//! lakeFS's local blockstore allows only `allowed_external_prefixes`). As lakeFS (`pkg/catalog/
//! import.go`): the import runs in the background and is committed directly on the branch
//! (message "Import objects" by default, metadata `.lakefs.merge.strategy: source-wins`),
//! replacing what was under each destination; `ingested_objects` grows while it runs; failures
//! show as the status's `error`; cancelling a finished import is 409 "conflict found".
//! The status lives in the catalog (`IMPORTS`), as lakeFS keeps it in its KV store: written when
//! the import starts, about every second while it runs (progress), and when it ends; a write never
//! replaces a status that is already completed or failed, so a cancel (which writes `Canceled`)
//! wins. `importStatus` answers what was last written, so an import that was running when the
//! server stopped keeps its last status (not completed, no error) after a restart, as on lakeFS.

use super::commits::{Tree, read_tree};
use super::meta::*;
use super::refs::resolve;
use crate::error::{ApiError, ApiResult};
use lakefs_api::dto::{Commit, CommitCreation, Error};
use lakefs_api::workflow_dto::{ImportLocation, ImportStatus};
use redb::ReadableTable;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// lakeFS's error text of a cancelled import (`catalog.ImportCanceled`).
pub const IMPORT_CANCELED: &str = "Canceled";

/// One running import's progress (in memory while it runs; its status is in the catalog).
#[derive(Default)]
pub struct ImportJob {
    pub ingested: AtomicI64,
    pub cancelled: AtomicBool,
    done: Mutex<Option<Result<Commit, String>>>,
}

impl ImportJob {
    /// Records how the import ended.
    pub fn finish(&self, result: Result<Commit, String>) {
        *self.done.lock().unwrap_or_else(PoisonError::into_inner) = Some(result);
    }

    /// The status to write now (`update_time` is now).
    pub fn status(&self) -> ImportStatus {
        let done = self.done.lock().unwrap_or_else(PoisonError::into_inner).clone();
        let mut status = ImportStatus {
            completed: matches!(done, Some(Ok(_))),
            update_time: super::pulls::now_rfc3339(),
            ingested_objects: Some(self.ingested.load(Ordering::Relaxed)),
            metarange_id: None,
            commit: None,
            error: None,
        };
        match done {
            Some(Ok(commit)) => {
                status.metarange_id = Some(commit.meta_range_id.clone());
                status.commit = Some(commit);
            }
            Some(Err(message)) => status.error = Some(Error { message }),
            None => {}
        }
        status
    }
}

/// The imports running in this process, by id.
#[derive(Default)]
pub struct Imports(dashmap::DashMap<String, Arc<ImportJob>>);

impl Imports {
    /// A new job and its id.
    pub fn start(&self) -> (String, Arc<ImportJob>) {
        let id = super::pulls::new_xid();
        let job = Arc::new(ImportJob::default());
        self.0.insert(id.clone(), job.clone());
        (id, job)
    }

    /// The running job `id`, if it runs in this process.
    pub fn running(&self, id: &str) -> Option<Arc<ImportJob>> {
        self.0.get(id).map(|j| j.clone())
    }

    /// Forgets a job that ended (its status stays in the catalog).
    pub fn remove(&self, id: &str) {
        self.0.remove(id);
    }
}

impl Meta {
    /// Stores a new import's first status (before `importStart` answers, as lakeFS).
    pub fn create_import(&self, repo: &str, id: &str, status: &ImportStatus) -> ApiResult<()> {
        let txn = self.db.begin_write()?;
        {
            if txn.open_table(REPOS)?.get(repo)?.is_none() {
                return Err(ApiError::not_found("repository not found"));
            }
            txn.open_table(IMPORTS)?.insert(key2(repo, id).as_str(), to_json(status)?.as_slice())?;
        }
        txn.commit()?;
        Ok(())
    }

    /// Writes a running import's status unless the stored one is already completed or failed
    /// (cancelled) or gone; `false` then, and the import should stop (lakeFS's
    /// `importStatusAsync`).
    pub fn write_import_status(&self, repo: &str, id: &str, status: &ImportStatus) -> ApiResult<bool> {
        let txn = self.db.begin_write()?;
        let written = {
            let mut table = txn.open_table(IMPORTS)?;
            let key = key2(repo, id);
            let stored: Option<ImportStatus> = get_json(&table, &key)?;
            match stored {
                Some(s) if !s.completed && s.error.is_none() => {
                    table.insert(key.as_str(), to_json(status)?.as_slice())?;
                    true
                }
                _ => false,
            }
        };
        txn.commit()?;
        Ok(written)
    }

    /// `importStatus`: the status as last written (404 "not found" for an unknown id).
    pub fn import_status(&self, repo: &str, id: &str) -> ApiResult<ImportStatus> {
        let txn = self.db.begin_read()?;
        ensure_repo(&txn, repo)?;
        get_json(&txn.open_table(IMPORTS)?, &key2(repo, id))?.ok_or_else(|| ApiError::not_found("not found"))
    }

    /// `importCancel`: 409 "conflict found" once completed; otherwise the status's error becomes
    /// `Canceled` (also for an import that already failed, or that was running when the server
    /// stopped), as lakeFS's `CancelImport`.
    pub fn cancel_import(&self, repo: &str, id: &str) -> ApiResult<()> {
        let txn = self.db.begin_write()?;
        {
            if txn.open_table(REPOS)?.get(repo)?.is_none() {
                return Err(ApiError::not_found("repository not found"));
            }
            let mut table = txn.open_table(IMPORTS)?;
            let key = key2(repo, id);
            let mut status: ImportStatus = get_json(&table, &key)?.ok_or_else(|| ApiError::not_found("not found"))?;
            if status.completed {
                return Err(ApiError::Conflict("conflict found".into()));
            }
            status.error = Some(Error { message: IMPORT_CANCELED.into() });
            status.update_time = super::pulls::now_rfc3339();
            table.insert(key.as_str(), to_json(&status)?.as_slice())?;
        }
        txn.commit()?;
        Ok(())
    }
}

/// Checks an `importStart` request before it is accepted (400 for a bad location type).
pub fn validate(paths: &[ImportLocation]) -> ApiResult<()> {
    if paths.is_empty() {
        return Err(ApiError::bad_request("paths: required"));
    }
    if paths.iter().any(|p| p.kind != "common_prefix" && p.kind != "object") {
        return Err(ApiError::bad_request("invalid import type: invalid value: validation error"));
    }
    Ok(())
}

/// The file system path of an import source `local:///abs/path…`, if under one of `roots`.
pub fn source_path(uri: &str, roots: &[PathBuf]) -> Result<String, String> {
    let path = uri.strip_prefix("local://").ok_or_else(|| format!("{uri}: not on the local blockstore (local://…)"))?;
    if !path.starts_with('/') || path.split('/').any(|s| s == ".." || s == ".") || path.contains('\0') {
        return Err(format!("{uri}: bad path traversal blocked"));
    }
    if !roots.iter().any(|r| Path::new(path).starts_with(r)) {
        return Err(format!("{uri}: not under an allowed import root"));
    }
    Ok(path.to_string())
}

/// The files of one location, as (destination path, entry), walking the file system.
pub fn walk(location: &ImportLocation, source: &str, job: &ImportJob) -> Result<Vec<(String, Entry)>, String> {
    let mut out = Vec::new();
    if location.kind == "object" {
        let meta = std::fs::metadata(source).map_err(|e| format!("{source}: {e}"))?;
        out.push((location.destination.clone(), entry(source, &meta)));
        job.ingested.fetch_add(1, Ordering::Relaxed);
        return Ok(out);
    }
    let dir = if source.ends_with('/') {
        PathBuf::from(source)
    } else {
        Path::new(source).parent().unwrap_or(Path::new("/")).to_path_buf()
    };
    let mut stack = vec![dir];
    while let Some(d) = stack.pop() {
        if job.cancelled.load(Ordering::Relaxed) {
            return Err("Canceled".into());
        }
        let read = match std::fs::read_dir(&d) {
            Ok(r) => r,
            Err(e) if out.is_empty() && stack.is_empty() => return Err(format!("{}: {e}", d.display())),
            Err(_) => continue,
        };
        for item in read.flatten() {
            let Ok(meta) = std::fs::symlink_metadata(item.path()) else { continue };
            let path = item.path().to_string_lossy().into_owned();
            if meta.is_dir() {
                stack.push(item.path());
            } else if meta.is_file()
                && let Some(rest) = path.strip_prefix(source)
            {
                out.push((format!("{}{rest}", location.destination), entry(&path, &meta)));
                job.ingested.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// The entry of an imported file: its bytes stay where they are.
fn entry(path: &str, meta: &std::fs::Metadata) -> Entry {
    use sha2::{Digest, Sha256};
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs() as i64);
    // what identifies this version of the file (the bytes are not read: zero copy, as lakeFS's
    // import takes the store's ETag without reading the object)
    let checksum = hex::encode(&Sha256::digest(format!("{path}\0{}\0{mtime}", meta.len()))[..16]);
    Entry {
        physical_address: format!("local://{path}"),
        checksum,
        size_bytes: meta.len() as i64,
        mtime,
        content_type: "application/octet-stream".into(),
        metadata: Default::default(),
    }
}

impl Meta {
    /// Commits `imported` on `branch`: what was under each location's destination is replaced.
    pub fn import_commit(
        &self,
        repo: &str,
        branch: &str,
        (locations, imported): (&[ImportLocation], Vec<(String, Entry)>),
        req: &CommitCreation,
        committer: &str,
    ) -> ApiResult<Commit> {
        let (head, mut tree): (Commit, Tree) = {
            let txn = self.db.begin_read()?;
            let (_, resolved) = resolve(&txn, repo, branch)?;
            if resolved.branch().is_none() {
                return Err(ApiError::not_found("branch not found"));
            }
            let head = resolved.commit().clone();
            let tree = read_tree(&txn.open_table(TREES)?, repo, &head.meta_range_id)?;
            (head, tree)
        };
        for loc in locations {
            if loc.kind == "object" {
                tree.remove(&loc.destination);
            } else {
                tree.retain(|path, _| !path.starts_with(&loc.destination));
            }
        }
        for (path, e) in imported {
            tree.insert(path, to_json(&e)?);
        }
        let mut metadata = req.metadata.clone().unwrap_or_default();
        metadata.insert(".lakefs.merge.strategy".into(), "source-wins".into());
        let message = if req.message.is_empty() { "Import objects".to_string() } else { req.message.clone() };
        let draft = Commit {
            id: String::new(),
            parents: vec![head.id.clone()],
            committer: committer.to_string(),
            message,
            creation_date: req.date.unwrap_or_else(now_unix),
            meta_range_id: String::new(),
            metadata: Some(metadata),
            generation: Some(head.generation.unwrap_or(0) + 1),
            version: Some(1),
        };
        self.commit_tree(repo, branch, &head.id, tree, draft).map_err(|e| match e {
            ApiError::BadRequest(m) => ApiError::BadRequest(format!("merge import: {m}")),
            other => other,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_must_be_absolute_and_under_a_root() {
        let roots = [PathBuf::from("/data/in")];
        assert_eq!(source_path("local:///data/in/a/", &roots).unwrap(), "/data/in/a/");
        assert!(source_path("local:///data/other/", &roots).unwrap_err().contains("not under"));
        assert!(source_path("local:///data/in/../x", &roots).unwrap_err().contains("traversal"));
        assert!(source_path("s3://b/x", &roots).unwrap_err().contains("local://"));
        assert!(source_path("local://rel/x", &roots).unwrap_err().contains("traversal"));
    }

    /// An import that was running when the server stopped: lakeFS's status stays as its
    /// `importStatusAsync` last wrote it (not completed, no error, the progress of then) and can
    /// still be cancelled; a write after a cancel or after the end is refused.
    #[test]
    fn a_status_stays_as_last_written_across_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("meta.redb");
        let job = ImportJob::default();
        {
            let meta = Meta::open(&path).unwrap();
            let txn = meta.db.begin_write().unwrap();
            let repo = br#"{"id":"r","creation_date":0,"default_branch":"main","storage_namespace":"local://r"}"#;
            txn.open_table(REPOS).unwrap().insert("r", repo.as_slice()).unwrap();
            txn.commit().unwrap();
            meta.create_import("r", "id1", &job.status()).unwrap();
            job.ingested.store(7, Ordering::Relaxed);
            assert!(meta.write_import_status("r", "id1", &job.status()).unwrap());
            assert!(matches!(meta.import_status("r", "nope"), Err(ApiError::NotFound(_))));
            assert!(matches!(meta.import_status("other", "id1"), Err(ApiError::NotFound(_))));
        }
        let meta = Meta::open(&path).unwrap();
        let status = meta.import_status("r", "id1").unwrap();
        assert_eq!((status.completed, status.error, status.ingested_objects), (false, None, Some(7)));
        meta.cancel_import("r", "id1").unwrap();
        let status = meta.import_status("r", "id1").unwrap();
        assert_eq!(status.error.map(|e| e.message), Some(IMPORT_CANCELED.to_string()));
        assert!(!meta.write_import_status("r", "id1", &job.status()).unwrap(), "a cancel wins");
        meta.create_import("r", "id2", &job.status()).unwrap();
        let commit = Commit {
            id: "c".into(),
            parents: vec![],
            committer: "u".into(),
            message: "m".into(),
            creation_date: 0,
            meta_range_id: "mr".into(),
            metadata: None,
            generation: None,
            version: None,
        };
        job.finish(Ok(commit));
        assert!(meta.write_import_status("r", "id2", &job.status()).unwrap());
        assert!(meta.import_status("r", "id2").unwrap().completed);
        assert!(matches!(meta.cancel_import("r", "id2"), Err(ApiError::Conflict(_))));
    }

    #[test]
    fn walks_a_prefix_and_maps_destinations() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("in/sub")).unwrap();
        std::fs::write(dir.path().join("in/a.txt"), "a").unwrap();
        std::fs::write(dir.path().join("in/sub/b.txt"), "bb").unwrap();
        std::fs::write(dir.path().join("other.txt"), "x").unwrap();
        let src = format!("{}/in/", dir.path().display());
        let loc = ImportLocation {
            kind: "common_prefix".into(),
            path: format!("local://{src}"),
            destination: "imported/".into(),
        };
        let job = ImportJob::default();
        let files = walk(&loc, &src, &job).unwrap();
        let names: Vec<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(names, ["imported/a.txt", "imported/sub/b.txt"]);
        assert_eq!(files[1].1.size_bytes, 2);
        assert_eq!(files[1].1.physical_address, format!("local://{src}sub/b.txt"));
        assert_eq!(job.ingested.load(Ordering::Relaxed), 2);
        job.finish(Err("boom".into()));
        assert_eq!(job.status().error.unwrap().message, "boom");
        assert!(!job.status().completed);
    }
}
