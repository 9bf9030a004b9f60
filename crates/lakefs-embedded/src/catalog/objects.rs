//! Object entries of the embedded server: reads at a ref (a branch sees its staged changes over its
//! head commit; a commit sees only itself), ordered listings with prefix/delimiter/after, staging
//! (link, upload, copy) and deletion (lakeFS API: `statObject`, `listObjects`, `linkPhysicalAddress`,
//! `deleteObject`, `deleteObjects`).

use super::meta::*;
use super::refs::resolve;
use crate::error::{ApiError, ApiResult};
use lakefs_api::dto::{Commit, Repository};
use redb::{ReadableTable, WriteTransaction};
use std::collections::BTreeMap;

/// One row of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listed {
    Object(String, Entry),
    CommonPrefix(String),
}

impl Listed {
    pub fn path(&self) -> &str {
        match self {
            Listed::Object(p, _) | Listed::CommonPrefix(p) => p,
        }
    }
}

/// A listing request.
pub struct ListQuery<'a> {
    pub prefix: &'a str,
    pub after: &'a str,
    pub delimiter: &'a str,
    pub amount: usize,
}

/// How a write to an existing path is conditioned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteCondition {
    None,
    /// `If-None-Match: *`: only when the path has no object.
    IfAbsent,
}

/// A key past every path starting with `prefix` (for skipping a common prefix).
fn past_prefix(prefix: &str) -> String {
    format!("{prefix}{}", char::MAX)
}

impl Meta {
    /// The object at `path` in `reference`, or 404 `not found` (lakeFS `graveler.ErrNotFound`).
    pub fn stat_entry(&self, repo: &str, reference: &str, path: &str) -> ApiResult<(Repository, Entry)> {
        let txn = self.db.begin_read()?;
        let (repository, resolved) = resolve(&txn, repo, reference)?;
        let staged = txn.open_table(STAGED)?;
        let trees = txn.open_table(TREES)?;
        let entry = lookup(&staged, &trees, repo, resolved.branch(), resolved.commit(), path)?;
        entry.map(|e| (repository, e)).ok_or_else(|| ApiError::not_found("not found"))
    }

    /// A page of `reference`'s entries; `(page, has_more)`.
    pub fn list_entries(&self, repo: &str, reference: &str, q: &ListQuery<'_>) -> ApiResult<(Vec<Listed>, bool)> {
        let txn = self.db.begin_read()?;
        let (_, resolved) = resolve(&txn, repo, reference)?;
        let staged = txn.open_table(STAGED)?;
        let trees = txn.open_table(TREES)?;
        let layers = Layers {
            staged: resolved.branch().map(|b| (&staged, key3(repo, b, ""))),
            tree: (&trees, key3(repo, &resolved.commit().meta_range_id, "")),
        };
        let mut cursor =
            if q.after >= q.prefix { Cursor::After(q.after.to_string()) } else { Cursor::From(q.prefix.to_string()) };
        let mut out: Vec<Listed> = Vec::new();
        while out.len() <= q.amount {
            let Some((path, entry)) = layers.next(q.prefix, &cursor)? else {
                break;
            };
            let rest = &path[q.prefix.len()..];
            match rest.find(q.delimiter).filter(|_| !q.delimiter.is_empty()) {
                Some(i) => {
                    let cp = path[..q.prefix.len() + i + q.delimiter.len()].to_string();
                    cursor = Cursor::From(past_prefix(&cp));
                    // lakeFS skips only a row equal to `after`: after a path inside a common
                    // prefix, that prefix is listed again (`entryListingIterator` seeks to `after`)
                    if cp != q.after {
                        out.push(Listed::CommonPrefix(cp));
                    }
                }
                None => {
                    cursor = Cursor::After(path.clone());
                    out.push(Listed::Object(path, entry));
                }
            }
        }
        let more = out.len() > q.amount;
        out.truncate(q.amount);
        Ok((out, more))
    }

    /// Stages `entry` at `path` on `branch` (link, upload, copy).
    pub fn stage(
        &self,
        repo: &str,
        branch: &str,
        path: &str,
        entry: &Entry,
        cond: WriteCondition,
        force: bool,
    ) -> ApiResult<()> {
        let txn = self.db.begin_write()?;
        let head = writable_branch(&txn, repo, branch, force)?;
        {
            let mut staged = txn.open_table(STAGED)?;
            if cond == WriteCondition::IfAbsent {
                let trees = txn.open_table(TREES)?;
                if lookup(&staged, &trees, repo, Some(branch), &head, path)?.is_some() {
                    return Err(ApiError::PreconditionFailed("Precondition failed".into()));
                }
            }
            staged.insert(key3(repo, branch, path).as_str(), to_json(&Some(entry))?.as_slice())?;
        }
        txn.commit()?;
        Ok(())
    }

    /// `updateObjectUserMetadata`: replaces the user metadata of the object `path` reads as on
    /// `branch` (staged over committed), staging the result. lakeFS's order
    /// (`Catalog.UpdateEntryUserMetadata`, `Graveler.Update`): ids and path (400), repository,
    /// read-only (403, no `force`), branch (404), the object (404 `update user metadata on
    /// <repo>/<branch>/<path>: not found`).
    pub fn update_user_metadata(
        &self,
        repo: &str,
        branch: &str,
        path: &str,
        metadata: BTreeMap<String, String>,
    ) -> ApiResult<()> {
        super::validate::repository("repository", repo)?;
        super::validate::branch("branch", branch)?;
        super::validate::path("path", path)?;
        let txn = self.db.begin_write()?;
        let head = writable_branch(&txn, repo, branch, false)?;
        {
            let mut staged = txn.open_table(STAGED)?;
            let trees = txn.open_table(TREES)?;
            let current = lookup(&staged, &trees, repo, Some(branch), &head, path)?.ok_or_else(|| {
                ApiError::not_found(format!("update user metadata on {repo}/{branch}/{path}: not found"))
            })?;
            let entry = Entry { metadata, ..current };
            staged.insert(key3(repo, branch, path).as_str(), to_json(&Some(entry))?.as_slice())?;
        }
        txn.commit()?;
        Ok(())
    }

    /// Deletes `paths` on `branch`: a tombstone hides a committed object, a staged-only object is
    /// dropped; an absent path is not an error (as lakeFS).
    pub fn delete_entries(&self, repo: &str, branch: &str, paths: &[String], force: bool) -> ApiResult<()> {
        let txn = self.db.begin_write()?;
        let head = writable_branch(&txn, repo, branch, force)?;
        {
            let mut staged = txn.open_table(STAGED)?;
            let trees = txn.open_table(TREES)?;
            for path in paths {
                let key = key3(repo, branch, path);
                let committed = trees.get(key3(repo, &head.meta_range_id, path).as_str())?.is_some();
                if committed {
                    staged.insert(key.as_str(), to_json(&None::<Entry>)?.as_slice())?;
                } else {
                    staged.remove(key.as_str())?;
                }
            }
        }
        txn.commit()?;
        Ok(())
    }
}

/// The head commit of a branch that may be written, checking the repository and read-only flag.
fn writable_branch(txn: &WriteTransaction, repo: &str, branch: &str, force: bool) -> ApiResult<Commit> {
    let repository: Repository =
        get_json(&txn.open_table(REPOS)?, repo)?.ok_or_else(|| ApiError::not_found("repository not found"))?;
    if repository.read_only == Some(true) && !force {
        return Err(ApiError::Forbidden("read-only repository".into()));
    }
    let head = txn.open_table(BRANCHES)?.get(key2(repo, branch).as_str())?.map(|v| v.value().to_string());
    let head = head.ok_or_else(|| ApiError::not_found("branch not found"))?;
    get_json(&txn.open_table(COMMITS)?, &key2(repo, &head))?.ok_or_else(|| ApiError::internal("branch head missing"))
}

/// The entry at `path`: staged (when reading a branch) over committed.
fn lookup<S, T>(
    staged: &S,
    trees: &T,
    repo: &str,
    branch: Option<&str>,
    commit: &Commit,
    path: &str,
) -> ApiResult<Option<Entry>>
where
    S: ReadableTable<&'static str, &'static [u8]>,
    T: ReadableTable<&'static str, &'static [u8]>,
{
    if let Some(b) = branch
        && let Some(v) = staged.get(key3(repo, b, path).as_str())?
    {
        return from_json(v.value());
    }
    get_json(trees, &key3(repo, &commit.meta_range_id, path))
}

/// The staged layer (for a branch) over the committed tree, merged in path order.
struct Layers<'t, S, T> {
    staged: Option<(&'t S, String)>,
    tree: (&'t T, String),
}

impl<S, T> Layers<'_, S, T>
where
    S: ReadableTable<&'static str, &'static [u8]>,
    T: ReadableTable<&'static str, &'static [u8]>,
{
    /// The first visible object under `prefix` at or after `cursor`.
    fn next(&self, prefix: &str, cursor: &Cursor) -> ApiResult<Option<(String, Entry)>> {
        let mut cursor = cursor.clone();
        loop {
            let committed = first_under(self.tree.0, &self.tree.1, prefix, &cursor)?;
            let staged = match &self.staged {
                Some((t, kp)) => first_under(*t, kp, prefix, &cursor)?,
                None => None,
            };
            let (path, value) = match (staged, committed) {
                (None, None) => return Ok(None),
                (Some(s), None) => (s.0, Some(s.1)),
                (None, Some(c)) => return Ok(Some((c.0, from_json(&c.1)?))),
                (Some(s), Some(c)) if c.0 < s.0 => return Ok(Some((c.0, from_json(&c.1)?))),
                (Some(s), Some(_)) => (s.0, Some(s.1)),
            };
            let staged_entry: Option<Entry> = match value {
                Some(v) => from_json(&v)?,
                None => None,
            };
            match staged_entry {
                Some(e) => return Ok(Some((path, e))),
                None => cursor = Cursor::After(path),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lakefs_api::dto::CommitCreation;

    fn entry(tag: &str) -> Entry {
        Entry {
            physical_address: format!("local://ns/{tag}"),
            checksum: tag.into(),
            size_bytes: 1,
            mtime: 1,
            content_type: "application/octet-stream".into(),
            metadata: Default::default(),
        }
    }

    fn setup() -> (tempfile::TempDir, Meta) {
        let dir = tempfile::tempdir().unwrap();
        let meta = Meta::open(&dir.path().join("m.redb")).unwrap();
        let repo = Repository {
            id: "repo".into(),
            creation_date: 1,
            default_branch: "main".into(),
            storage_namespace: "local://repo".into(),
            storage_id: None,
            read_only: Some(false),
        };
        meta.create_repository(repo).unwrap();
        (dir, meta)
    }

    fn paths(
        meta: &Meta,
        reference: &str,
        prefix: &str,
        after: &str,
        delimiter: &str,
        amount: usize,
    ) -> (Vec<String>, bool) {
        let q = ListQuery { prefix, after, delimiter, amount };
        let (rows, more) = meta.list_entries("repo", reference, &q).unwrap();
        (rows.iter().map(|r| r.path().to_string()).collect(), more)
    }

    #[test]
    fn staged_over_committed_and_commit_snapshots() {
        let (_d, meta) = setup();
        for p in ["a", "b/1", "b/2", "c"] {
            meta.stage("repo", "main", p, &entry(p), WriteCondition::None, false).unwrap();
        }
        let req = CommitCreation { message: "one".into(), ..Default::default() };
        let c1 = meta.commit("repo", "main", &req, "admin").unwrap();
        meta.delete_entries("repo", "main", &["b/1".into(), "zzz".into()], false).unwrap();
        meta.stage("repo", "main", "b/3", &entry("b3"), WriteCondition::None, false).unwrap();
        meta.stage("repo", "main", "a", &entry("a2"), WriteCondition::None, false).unwrap();
        assert_eq!(paths(&meta, "main", "", "", "", 100).0, ["a", "b/2", "b/3", "c"]);
        assert_eq!(paths(&meta, &c1.id, "", "", "", 100).0, ["a", "b/1", "b/2", "c"]);
        assert_eq!(meta.stat_entry("repo", "main", "a").unwrap().1.checksum, "a2");
        assert_eq!(meta.stat_entry("repo", &c1.id, "a").unwrap().1.checksum, "a");
        assert!(matches!(meta.stat_entry("repo", "main", "b/1"), Err(ApiError::NotFound(_))));
        let q = crate::catalog::diff::DiffQuery { prefix: "", delimiter: "", after: "", amount: 10 };
        let (changes, more) = meta.diff_branch("repo", "main", &q).unwrap();
        let kinds: Vec<_> = changes.iter().map(|c| c.path()).collect();
        assert_eq!((kinds, more), (vec!["a", "b/1", "b/3"], false));
        let err = meta.stage("repo", "main", "c", &entry("c2"), WriteCondition::IfAbsent, false);
        assert!(matches!(err, Err(ApiError::PreconditionFailed(_))));
    }

    #[test]
    fn delimiter_after_and_paging() {
        let (_d, meta) = setup();
        for p in ["a/1", "a/2", "b", "c/x/y", "d"] {
            meta.stage("repo", "main", p, &entry(p), WriteCondition::None, false).unwrap();
        }
        assert_eq!(paths(&meta, "main", "", "", "/", 100).0, ["a/", "b", "c/", "d"]);
        assert_eq!(paths(&meta, "main", "", "a/", "/", 100).0, ["b", "c/", "d"]);
        // after a path inside a common prefix, lakeFS lists that prefix again
        assert_eq!(paths(&meta, "main", "", "a/1", "/", 100).0, ["a/", "b", "c/", "d"]);
        assert_eq!(paths(&meta, "main", "", "", "/", 2), (vec!["a/".to_string(), "b".to_string()], true));
        assert_eq!(paths(&meta, "main", "c/", "", "/", 100).0, ["c/x/"]);
        assert_eq!(paths(&meta, "main", "a/", "a/1", "", 100).0, ["a/2"]);
        assert_eq!(
            paths(&meta, "main", "", "", "", 5),
            (vec!["a/1", "a/2", "b", "c/x/y", "d"].into_iter().map(String::from).collect(), false)
        );
    }

    #[test]
    fn no_changes_commit_is_refused() {
        let (_d, meta) = setup();
        let req = CommitCreation { message: "empty".into(), ..Default::default() };
        let refused = meta.commit("repo", "main", &req, "admin").unwrap_err();
        assert_eq!((refused.status().as_u16(), refused.to_string()), (400, "commit: no changes".into()));
        // an entry of the same identity (size, checksum, metadata, content type) is no change,
        // and stays staged after the refusal
        meta.stage("repo", "main", "x", &entry("x"), WriteCondition::None, false).unwrap();
        let c1 = meta.commit("repo", "main", &req, "admin").unwrap();
        let moved = Entry { physical_address: "local://ns/other".into(), mtime: 7, ..entry("x") };
        meta.stage("repo", "main", "x", &moved, WriteCondition::None, false).unwrap();
        assert!(matches!(meta.commit("repo", "main", &req, "admin"), Err(ApiError::BadRequest(_))));
        assert_eq!(meta.stat_entry("repo", "main", "x").unwrap().1.physical_address, "local://ns/other");
        let req = CommitCreation { allow_empty: Some(true), ..req };
        let c2 = meta.commit("repo", "main", &req, "admin").unwrap();
        assert_eq!((c2.id.len(), c2.meta_range_id.as_str()), (64, c1.meta_range_id.as_str()));
        // the committed entry is the base one (lakeFS keeps a key whose identity did not change)
        assert_eq!(meta.stat_entry("repo", "main", "x").unwrap().1.physical_address, "local://ns/x");
        let q = crate::catalog::LogQuery { amount: 10, ..Default::default() };
        let (log, more) = meta.log_commits("repo", "main", &q).unwrap();
        assert_eq!((log.len(), more), (3, false));
        assert_eq!(log[2].message, "Repository created");
    }
}
