//! On-disk metadata of the embedded lakeFS-compatible server, kept in one redb database.
//!
//! Owns the tables and the key layout; the lakeFS semantics built on them (repositories, branches,
//! commits, staging) live in `repos`, `commits` and `objects`. Keys join their parts with `\0`, which
//! no repository, branch, commit id or accepted object path contains, so a branch's keys never mix
//! with another branch's and byte order equals lakeFS's lexicographic path order.
//!
//! Every write is one redb write transaction (serialised, fsynced on commit), so concurrent links and
//! commits on one branch never lose a write.

use crate::error::{ApiError, ApiResult};
use redb::{Database, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::ops::Bound;
use std::path::Path;

/// Server-wide settings: secrets generated on first start.
pub(crate) const SETTINGS: TableDefinition<&str, &str> = TableDefinition::new("settings");
/// User id → `User` JSON.
pub(crate) const USERS: TableDefinition<&str, &[u8]> = TableDefinition::new("users");
/// Access key id → `CredentialRecord` JSON.
pub(crate) const CREDENTIALS: TableDefinition<&str, &[u8]> = TableDefinition::new("credentials");
/// Policy id → `Policy` JSON.
pub(crate) const POLICIES: TableDefinition<&str, &[u8]> = TableDefinition::new("policies");
/// `user\0policy id` → "": the policies attached to a user.
pub(crate) const USER_POLICIES: TableDefinition<&str, &str> = TableDefinition::new("user_policies");
/// External principal id (e.g. an AWS role ARN) → `ExternalPrincipal` JSON.
pub(crate) const PRINCIPALS: TableDefinition<&str, &[u8]> = TableDefinition::new("external_principals");
/// Repository id → `Repository` JSON.
pub(crate) const REPOS: TableDefinition<&str, &[u8]> = TableDefinition::new("repositories");
/// `repo\0branch` → head commit id.
pub(crate) const BRANCHES: TableDefinition<&str, &str> = TableDefinition::new("branches");
/// `repo\0commit id` → `Commit` JSON.
pub(crate) const COMMITS: TableDefinition<&str, &[u8]> = TableDefinition::new("commits");
/// `repo\0branch\0path` → staged `Option<Entry>` JSON (`null` is a tombstone).
pub(crate) const STAGED: TableDefinition<&str, &[u8]> = TableDefinition::new("staged");
/// `repo\0meta range id\0path` → committed `Entry` JSON.
pub(crate) const TREES: TableDefinition<&str, &[u8]> = TableDefinition::new("trees");
/// `repo\0tag id` → commit id.
pub(crate) const TAGS: TableDefinition<&str, &str> = TableDefinition::new("tags");
/// `repo\0pull request id` → `PullRequest` JSON.
pub(crate) const PULLS: TableDefinition<&str, &[u8]> = TableDefinition::new("pulls");
/// `repo\0import id` → `ImportStatus` JSON, as last written (lakeFS keeps it in its KV store).
pub(crate) const IMPORTS: TableDefinition<&str, &[u8]> = TableDefinition::new("imports");

/// One object version as the catalog stores it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub physical_address: String,
    pub checksum: String,
    pub size_bytes: i64,
    pub mtime: i64,
    pub content_type: String,
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
}

impl Entry {
    /// Whether two entries have the same lakeFS identity (`catalog.EntryToValue`: size, ETag, user
    /// metadata and content type; not the address or mtime). Commits, diffs and the log's path
    /// filter treat entries of equal identity as unchanged.
    pub fn same_identity(&self, other: &Entry) -> bool {
        self.size_bytes == other.size_bytes
            && self.checksum == other.checksum
            && self.metadata == other.metadata
            && self.content_type == other.content_type
    }
}

/// A lakeFS access key and the user it belongs to.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CredentialRecord {
    pub secret_access_key: String,
    pub user_id: String,
    pub creation_date: i64,
}

/// The metadata database.
pub struct Meta {
    pub(crate) db: Database,
}

impl Meta {
    /// Opens (or creates) the database file and makes sure every table exists.
    pub fn open(path: &Path) -> ApiResult<Meta> {
        let db = Database::create(path)?;
        let txn = db.begin_write()?;
        txn.open_table(SETTINGS)?;
        txn.open_table(USERS)?;
        txn.open_table(CREDENTIALS)?;
        txn.open_table(POLICIES)?;
        txn.open_table(USER_POLICIES)?;
        txn.open_table(PRINCIPALS)?;
        txn.open_table(REPOS)?;
        txn.open_table(BRANCHES)?;
        txn.open_table(COMMITS)?;
        txn.open_table(STAGED)?;
        txn.open_table(TREES)?;
        txn.open_table(PULLS)?;
        txn.open_table(TAGS)?;
        txn.open_table(IMPORTS)?;
        txn.commit()?;
        Ok(Meta { db })
    }

    /// Returns the setting `key`, storing `init()` first if it is not set yet.
    pub fn setting_or_init(&self, key: &str, init: impl FnOnce() -> String) -> ApiResult<String> {
        let txn = self.db.begin_write()?;
        let value = {
            let mut table = txn.open_table(SETTINGS)?;
            let existing = table.get(key)?.map(|v| v.value().to_string());
            match existing {
                Some(v) => v,
                None => {
                    let v = init();
                    table.insert(key, v.as_str())?;
                    v
                }
            }
        };
        txn.commit()?;
        Ok(value)
    }

    /// Reads a setting.
    pub fn setting(&self, key: &str) -> ApiResult<Option<String>> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(SETTINGS)?;
        Ok(table.get(key)?.map(|v| v.value().to_string()))
    }
}

/// `a\0b`.
pub(crate) fn key2(a: &str, b: &str) -> String {
    format!("{a}\0{b}")
}

/// `a\0b\0c`.
pub(crate) fn key3(a: &str, b: &str, c: &str) -> String {
    format!("{a}\0{b}\0{c}")
}

pub(crate) fn to_json<T: Serialize>(value: &T) -> ApiResult<Vec<u8>> {
    Ok(serde_json::to_vec(value)?)
}

pub(crate) fn from_json<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> ApiResult<T> {
    serde_json::from_slice(bytes).map_err(|e| ApiError::Internal(format!("corrupt metadata: {e}")))
}

/// Where a scan over keys under a common key prefix starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Cursor {
    /// The first key at or after this suffix.
    From(String),
    /// The first key strictly after this suffix.
    After(String),
}

/// The first `(suffix, value)` with key `key_prefix + suffix`, the suffix starting with
/// `suffix_prefix` and lying at or after `cursor`.
pub(crate) fn first_under<T>(
    table: &T,
    key_prefix: &str,
    suffix_prefix: &str,
    cursor: &Cursor,
) -> ApiResult<Option<(String, Vec<u8>)>>
where
    T: ReadableTable<&'static str, &'static [u8]>,
{
    let (start, bound) = match cursor {
        Cursor::From(s) => (format!("{key_prefix}{s}"), true),
        Cursor::After(s) => (format!("{key_prefix}{s}"), false),
    };
    let lower = if bound { Bound::Included(start.as_str()) } else { Bound::Excluded(start.as_str()) };
    let mut iter = table.range::<&str>((lower, Bound::Unbounded))?;
    let Some(item) = iter.next() else {
        return Ok(None);
    };
    let (k, v) = item?;
    let key = k.value();
    let Some(suffix) = key.strip_prefix(key_prefix) else {
        return Ok(None);
    };
    if !suffix.starts_with(suffix_prefix) {
        return Ok(None);
    }
    Ok(Some((suffix.to_string(), v.value().to_vec())))
}

/// One page of a JSON table: the `(key, value)` rows whose key starts with `prefix` and lies after
/// `after` (lakeFS's `prefix`/`after` pagination) and that `keep` accepts, at most `amount` of them,
/// and whether more follow.
pub(crate) fn json_page<T, V>(
    table: &T,
    prefix: &str,
    after: &str,
    amount: usize,
    mut keep: impl FnMut(&V) -> bool,
) -> ApiResult<(Vec<(String, V)>, bool)>
where
    T: ReadableTable<&'static str, &'static [u8]>,
    V: for<'de> Deserialize<'de>,
{
    let lower = if !after.is_empty() && after >= prefix { Bound::Excluded(after) } else { Bound::Included(prefix) };
    let mut rows = Vec::new();
    for item in table.range::<&str>((lower, Bound::Unbounded))? {
        let (k, v) = item?;
        let key = k.value();
        if !key.starts_with(prefix) {
            break;
        }
        let value: V = from_json(v.value())?;
        if !keep(&value) {
            continue;
        }
        if rows.len() == amount {
            return Ok((rows, true));
        }
        rows.push((key.to_string(), value));
    }
    Ok((rows, false))
}

/// All keys starting with `prefix` (collected, so the caller may then mutate the table).
pub(crate) fn keys_with_prefix<K, T>(table: &T, prefix: &str) -> ApiResult<Vec<String>>
where
    K: redb::Value + 'static,
    T: ReadableTable<&'static str, K>,
{
    let mut keys = Vec::new();
    for item in table.range::<&str>(prefix..)? {
        let (k, _) = item?;
        let key = k.value();
        if !key.starts_with(prefix) {
            break;
        }
        keys.push(key.to_string());
    }
    Ok(keys)
}

/// Seconds since the Unix epoch.
pub use lakegate_net::util::now_unix;

/// Clamp a lakeFS `amount` parameter: ≤ 0 means the default 100, above 1000 means 1000.
pub fn clamp_amount(amount: Option<i64>) -> usize {
    match amount {
        Some(a) if a > 1000 => 1000,
        Some(a) if a > 0 => a as usize,
        _ => 100,
    }
}

/// A JSON value of a table, if the key is there.
pub(crate) fn get_json<T, V>(table: &T, key: &str) -> ApiResult<Option<V>>
where
    T: ReadableTable<&'static str, &'static [u8]>,
    V: for<'de> serde::Deserialize<'de>,
{
    match table.get(key)? {
        Some(v) => Ok(Some(from_json(v.value())?)),
        None => Ok(None),
    }
}

pub(crate) fn repo_not_found() -> ApiError {
    ApiError::not_found("repository not found")
}

/// The repository, or 404.
pub(crate) fn ensure_repo(txn: &redb::ReadTransaction, repo: &str) -> ApiResult<lakefs_api::dto::Repository> {
    get_json(&txn.open_table(REPOS)?, repo)?.ok_or_else(repo_not_found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amount_is_clamped_like_lakefs() {
        assert_eq!(clamp_amount(None), 100);
        assert_eq!(clamp_amount(Some(-1)), 100);
        assert_eq!(clamp_amount(Some(0)), 100);
        assert_eq!(clamp_amount(Some(7)), 7);
        assert_eq!(clamp_amount(Some(5000)), 1000);
    }

    #[test]
    fn first_under_respects_prefixes_and_cursor() {
        let dir = tempfile::tempdir().unwrap();
        let meta = Meta::open(&dir.path().join("m.redb")).unwrap();
        let txn = meta.db.begin_write().unwrap();
        {
            let mut t = txn.open_table(TREES).unwrap();
            for k in ["r\0x\0a", "r\0x\0b/1", "r\0x\0b/2", "r\0y\0a"] {
                t.insert(k, b"1".as_slice()).unwrap();
            }
        }
        txn.commit().unwrap();
        let txn = meta.db.begin_read().unwrap();
        let t = txn.open_table(TREES).unwrap();
        let first = |p: &str, c: Cursor| first_under(&t, "r\0x\0", p, &c).unwrap().map(|x| x.0);
        assert_eq!(first("", Cursor::From(String::new())), Some("a".into()));
        assert_eq!(first("", Cursor::After("a".into())), Some("b/1".into()));
        assert_eq!(first("b/", Cursor::After("b/1".into())), Some("b/2".into()));
        assert_eq!(first("", Cursor::After("b/2".into())), None);
        assert_eq!(first("c", Cursor::From("c".into())), None);
    }
}
