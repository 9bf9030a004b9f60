//! The upload registry: lakeFS has no endpoint to list multipart uploads or their parts, so each
//! lakegate keeps its own record (one redb file under its state directory) of the uploads it
//! created and of every part it received, for ListMultipartUploads and ListParts. The upload ids
//! themselves are self-contained (see `token`), so a replica that lacks a record can still serve
//! UploadPart, Complete and Abort; it just cannot list what another replica registered.
//!
//! Keys join their parts with `\0`: uploads are `repo\0<branch>/<path>\0<initiated ms>\0<digest>`
//! (so a scan yields S3's order: by key, then by initiation), parts `<digest>\0<part number>`.

use redb::{Database, Durability, ReadableTable, ReadableTableMetadata, TableDefinition};
use serde::{Deserialize, Serialize};
use std::path::Path;

const UPLOADS: TableDefinition<&str, &[u8]> = TableDefinition::new("uploads");
/// Upload digest → its key in `UPLOADS`.
const INDEX: TableDefinition<&str, &str> = TableDefinition::new("upload_index");
const PARTS: TableDefinition<&str, &[u8]> = TableDefinition::new("parts");

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("upload registry: {0}")]
    Db(String),
    #[error("upload registry record: {0}")]
    Decode(#[from] serde_json::Error),
}

macro_rules! db_errors {
    ($($t:ty),*) => {$(impl From<$t> for RegistryError {
        fn from(e: $t) -> Self { RegistryError::Db(e.to_string()) }
    })*};
}
db_errors!(redb::DatabaseError, redb::TransactionError, redb::TableError, redb::StorageError, redb::CommitError);

pub type Result<T> = std::result::Result<T, RegistryError>;

/// A registered upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadRecord {
    pub upload_id: String,
    pub initiated_ms: i64,
}

/// One received part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartRecord {
    pub part_number: u32,
    /// MD5 hex (no quotes).
    pub etag: String,
    pub size: u64,
    pub last_modified_ms: i64,
    /// The part's additional checksum (base64), when the upload has an algorithm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<String>,
}

/// A listed upload: repository, key inside it (`<branch>/<path>`) and record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub key: String,
    pub record: UploadRecord,
}

pub struct Registry {
    db: Database,
}

fn upload_key(repo: &str, key: &str, initiated_ms: i64, digest: &str) -> String {
    format!("{repo}\0{key}\0{initiated_ms:020}\0{digest}")
}

fn part_key(digest: &str, n: u32) -> String {
    format!("{digest}\0{n:05}")
}

impl Registry {
    pub fn open(path: &Path) -> Result<Registry> {
        let db = Database::create(path)?;
        let txn = db.begin_write()?;
        txn.open_table(UPLOADS)?;
        txn.open_table(INDEX)?;
        txn.open_table(PARTS)?;
        txn.commit()?;
        Ok(Registry { db })
    }

    /// Records a new upload of `repo`/`key`.
    pub fn add_upload(&self, repo: &str, key: &str, digest: &str, record: &UploadRecord) -> Result<()> {
        let k = upload_key(repo, key, record.initiated_ms, digest);
        let txn = self.db.begin_write()?;
        txn.open_table(UPLOADS)?.insert(k.as_str(), serde_json::to_vec(record)?.as_slice())?;
        txn.open_table(INDEX)?.insert(digest, k.as_str())?;
        txn.commit()?;
        Ok(())
    }

    /// Records a part (replacing an earlier one with its number). Parts of uploads this registry
    /// does not know are not recorded: `false`.
    pub fn put_part(&self, digest: &str, part: &PartRecord) -> Result<bool> {
        let mut txn = self.db.begin_write()?;
        // A lost part record only hides the part from ListParts; completion does not need it.
        txn.set_durability(Durability::Eventual);
        if txn.open_table(INDEX)?.get(digest)?.is_none() {
            return Ok(false);
        }
        let value = serde_json::to_vec(part)?;
        txn.open_table(PARTS)?.insert(part_key(digest, part.part_number).as_str(), value.as_slice())?;
        txn.commit()?;
        Ok(true)
    }

    /// The parts of an upload in part-number order; `None` when the upload is not registered here.
    pub fn parts(&self, digest: &str) -> Result<Option<Vec<PartRecord>>> {
        let txn = self.db.begin_read()?;
        if txn.open_table(INDEX)?.get(digest)?.is_none() {
            return Ok(None);
        }
        let table = txn.open_table(PARTS)?;
        let (from, to) = (format!("{digest}\0"), format!("{digest}\x01"));
        let mut out = Vec::new();
        for row in table.range(from.as_str()..to.as_str())? {
            let (_, v) = row?;
            out.push(serde_json::from_slice(v.value())?);
        }
        Ok(Some(out))
    }

    /// Forgets an upload and its parts.
    pub fn remove(&self, digest: &str) -> Result<()> {
        let txn = self.db.begin_write()?;
        {
            let mut index = txn.open_table(INDEX)?;
            let key = index.remove(digest)?.map(|k| k.value().to_string());
            if let Some(k) = key {
                txn.open_table(UPLOADS)?.remove(k.as_str())?;
            }
            let mut parts = txn.open_table(PARTS)?;
            let (from, to) = (format!("{digest}\0"), format!("{digest}\x01"));
            parts.retain_in(from.as_str()..to.as_str(), |_, _| false)?;
        }
        txn.commit()?;
        Ok(())
    }

    /// How many uploads are registered (created, not yet completed or aborted).
    pub fn open_uploads(&self) -> Result<u64> {
        let txn = self.db.begin_read()?;
        Ok(txn.open_table(INDEX)?.len()?)
    }

    /// Upload ids initiated before `before_ms`, at most `limit` of them (any repository).
    pub fn initiated_before(&self, before_ms: i64, limit: usize) -> Result<Vec<String>> {
        let txn = self.db.begin_read()?;
        let mut out = Vec::new();
        for row in txn.open_table(UPLOADS)?.iter()? {
            let (_, v) = row?;
            let rec: UploadRecord = serde_json::from_slice(v.value())?;
            if rec.initiated_ms < before_ms {
                out.push(rec.upload_id);
                if out.len() == limit {
                    break;
                }
            }
        }
        Ok(out)
    }

    /// Calls `visit` with the uploads of `repo` whose key is ≥ `from_key`, in key then initiation
    /// order, until it returns `false`.
    pub fn scan(&self, repo: &str, from_key: &str, mut visit: impl FnMut(Listed) -> bool) -> Result<()> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(UPLOADS)?;
        let (from, to) = (format!("{repo}\0{from_key}"), format!("{repo}\x01"));
        for row in table.range(from.as_str()..to.as_str())? {
            let (k, v) = row?;
            let key = k.value().split('\0').nth(1).unwrap_or_default().to_string();
            if !visit(Listed { key, record: serde_json::from_slice(v.value())? }) {
                break;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(id: &str, at: i64) -> UploadRecord {
        UploadRecord { upload_id: id.into(), initiated_ms: at }
    }

    fn part(n: u32) -> PartRecord {
        PartRecord { part_number: n, etag: format!("e{n}"), size: n as u64, last_modified_ms: 1, checksum: None }
    }

    #[test]
    fn uploads_list_by_key_then_initiation_and_forget_their_parts() {
        let dir = tempfile::tempdir().unwrap();
        let reg = Registry::open(&dir.path().join("r.redb")).unwrap();
        reg.add_upload("repo", "main/b", "d1", &rec("u1", 20)).unwrap();
        reg.add_upload("repo", "main/a", "d2", &rec("u2", 30)).unwrap();
        reg.add_upload("repo", "main/b", "d3", &rec("u3", 10)).unwrap();
        reg.add_upload("repo2", "main/a", "d4", &rec("u4", 1)).unwrap();
        assert!(reg.put_part("d1", &part(2)).unwrap());
        assert!(reg.put_part("d1", &part(1)).unwrap());
        assert!(!reg.put_part("unknown", &part(1)).unwrap());
        let mut seen = Vec::new();
        reg.scan("repo", "", |l| {
            seen.push((l.key, l.record.upload_id));
            true
        })
        .unwrap();
        let ids: Vec<_> = seen.iter().map(|(k, id)| format!("{k}:{id}")).collect();
        assert_eq!(ids, ["main/a:u2", "main/b:u3", "main/b:u1"]);
        let parts = reg.parts("d1").unwrap().unwrap();
        assert_eq!(parts.iter().map(|p| p.part_number).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(reg.parts("d2").unwrap(), Some(vec![]));
        reg.remove("d1").unwrap();
        assert_eq!(reg.parts("d1").unwrap(), None);
        let mut n = 0;
        reg.scan("repo", "main/b", |_| {
            n += 1;
            true
        })
        .unwrap();
        assert_eq!(n, 1);
        assert_eq!(reg.initiated_before(25, 10).unwrap(), ["u3", "u4"]);
        assert_eq!(reg.initiated_before(25, 1).unwrap().len(), 1);
    }
}
