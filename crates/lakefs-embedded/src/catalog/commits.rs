//! Commits of the embedded server (lakeFS API: `commit`, `getCommit`; `logCommits` is in `log`).
//!
//! A commit turns a branch's staged changes into a new tree ("meta range") identified by the SHA-256
//! of its entries, and a commit id that is the SHA-256 of the commit's content, both 64 hex digits
//! like lakeFS's. The whole commit is one write transaction: links racing with it either land in
//! the commit or stay staged after it, never lost.

use super::meta::*;
use super::refs::INVALID_REF;
use super::refs::resolve;
use crate::error::{ApiError, ApiResult};
use lakefs_api::dto::{Commit, CommitCreation, Repository};
use redb::{ReadableTable, Table};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The id of `commit` in `repo`: SHA-256 over its content (the `id` field itself excluded).
pub(crate) fn commit_id(repo: &str, commit: &Commit) -> String {
    let content = serde_json::json!([
        repo,
        commit.parents,
        commit.committer,
        commit.message,
        commit.creation_date,
        commit.meta_range_id,
        commit.metadata,
        commit.generation,
    ]);
    hex::encode(Sha256::digest(content.to_string().as_bytes()))
}

impl Meta {
    /// `commit`: commits `branch`'s staged changes. As lakeFS (`Catalog.Commit`,
    /// `Graveler.Commit`, `committed.Commit`): ids (400), repository (404), read-only (403 unless
    /// `force`), branch (404), then 400 "commit: no changes" when no staged entry differs by
    /// identity from the committed one (unless `allow_empty`); the staged changes then stay staged.
    pub fn commit(&self, repo: &str, branch: &str, req: &CommitCreation, committer: &str) -> ApiResult<Commit> {
        super::validate::repository("repository", repo)?;
        super::validate::branch("branch", branch)?;
        let txn = self.db.begin_write()?;
        let commit = {
            let repository: Repository =
                get_json(&txn.open_table(REPOS)?, repo)?.ok_or_else(|| ApiError::not_found("repository not found"))?;
            if repository.read_only == Some(true) && req.force != Some(true) {
                return Err(ApiError::Forbidden("read-only repository".into()));
            }
            let mut branches = txn.open_table(BRANCHES)?;
            let head_key = key2(repo, branch);
            let head = branches.get(head_key.as_str())?.map(|v| v.value().to_string());
            let head = head.ok_or_else(|| ApiError::not_found("branch not found"))?;
            let mut commits = txn.open_table(COMMITS)?;
            let parent: Commit =
                get_json(&commits, &key2(repo, &head))?.ok_or_else(|| ApiError::internal("branch head missing"))?;
            let mut staged = txn.open_table(STAGED)?;
            let changes = take_staged(&mut staged, repo, branch)?;
            let mut trees = txn.open_table(TREES)?;
            let meta_range_id = apply_changes(&mut trees, repo, &parent.meta_range_id, &changes)?;
            let meta_range_id = match meta_range_id {
                Some(id) => id,
                None if req.allow_empty == Some(true) => parent.meta_range_id.clone(),
                None => return Err(ApiError::bad_request("commit: no changes")),
            };
            let commit = new_commit(repo, &parent, req, committer, meta_range_id);
            commits.insert(key2(repo, &commit.id).as_str(), to_json(&commit)?.as_slice())?;
            branches.insert(head_key.as_str(), commit.id.as_str())?;
            commit
        };
        txn.commit()?;
        Ok(commit)
    }

    /// `getCommit`: the commit any ref expression resolves to (a branch: its head). As lakeFS's
    /// controller: any not-found but the repository's is 404 "commit not found", any other
    /// failure (an invalid ref) 500 with its text.
    pub fn get_commit(&self, repo: &str, id: &str) -> ApiResult<Commit> {
        let as_lakefs = |e| match e {
            ApiError::NotFound(m) if m == "repository not found" => ApiError::NotFound(m),
            ApiError::NotFound(_) => ApiError::not_found("commit not found"),
            ApiError::BadRequest(m) => ApiError::Unexpected(m),
            other => other,
        };
        super::validate::repository("repository", repo).map_err(as_lakefs)?;
        let txn = self.db.begin_read()?;
        let (_, resolved) = resolve(&txn, repo, id).map_err(as_lakefs)?;
        // lakeFS `dereferenceCommitID` on `branch$`
        let refused = || ApiError::Unexpected(format!("{INVALID_REF}: should point to a commit"));
        Ok(resolved.needs_commit(refused)?.clone())
    }
}

/// The commit `req` makes on top of `parent`, its id computed.
fn new_commit(repo: &str, parent: &Commit, req: &CommitCreation, committer: &str, meta_range_id: String) -> Commit {
    let commit = Commit {
        id: String::new(),
        parents: vec![parent.id.clone()],
        committer: committer.to_string(),
        message: req.message.clone(),
        creation_date: req.date.unwrap_or_else(now_unix),
        meta_range_id,
        metadata: Some(req.metadata.clone().unwrap_or_default()),
        generation: Some(parent.generation.unwrap_or(0) + 1),
        version: Some(1),
    };
    Commit { id: commit_id(repo, &commit), ..commit }
}

/// Removes and returns a branch's staged changes, in path order.
fn take_staged(
    staged: &mut Table<&'static str, &'static [u8]>,
    repo: &str,
    branch: &str,
) -> ApiResult<BTreeMap<String, Option<Entry>>> {
    let prefix = key3(repo, branch, "");
    let keys = keys_with_prefix(&*staged, &prefix)?;
    let mut changes = BTreeMap::new();
    for k in keys {
        if let Some(v) = staged.remove(k.as_str())? {
            let entry: Option<Entry> = from_json(v.value())?;
            changes.insert(k[prefix.len()..].to_string(), entry);
        }
    }
    Ok(changes)
}

/// Writes the tree `base` + `changes` and returns its meta range id ("" for an empty tree), or
/// `None` when no change differs from `base` (lakeFS's committer keeps the base entry of a key
/// whose identity did not change, and counts only real additions, changes and removals).
fn apply_changes(
    trees: &mut Table<&'static str, &'static [u8]>,
    repo: &str,
    base: &str,
    changes: &BTreeMap<String, Option<Entry>>,
) -> ApiResult<Option<String>> {
    let mut merged = read_tree(trees, repo, base)?;
    if apply(&mut merged, changes)? == 0 {
        return Ok(None);
    }
    write_tree(trees, repo, &merged).map(Some)
}

/// Applies `changes` to `tree`; how many changed it (an entry of the same identity, or a
/// tombstone over nothing, does not).
fn apply(tree: &mut BTreeMap<String, Vec<u8>>, changes: &BTreeMap<String, Option<Entry>>) -> ApiResult<usize> {
    let mut changed = 0;
    for (path, change) in changes {
        let unchanged = match (change, tree.get(path)) {
            (Some(entry), Some(old)) => from_json::<Entry>(old)?.same_identity(entry),
            (None, old) => old.is_none(),
            (Some(_), None) => false,
        };
        if unchanged {
            continue;
        }
        changed += 1;
        match change {
            Some(entry) => tree.insert(path.clone(), to_json(entry)?),
            None => tree.remove(path),
        };
    }
    Ok(changed)
}

/// A tree (a meta range): path → entry JSON, stored once under its content hash.
pub(crate) type Tree = BTreeMap<String, Vec<u8>>;

/// Reads the tree `meta_range_id` of `repo`.
pub(crate) fn read_tree(
    trees: &impl ReadableTable<&'static str, &'static [u8]>,
    repo: &str,
    id: &str,
) -> ApiResult<Tree> {
    let mut tree = Tree::new();
    if id.is_empty() {
        return Ok(tree);
    }
    let prefix = key3(repo, id, "");
    for item in trees.range::<&str>(prefix.as_str()..)? {
        let (k, v) = item?;
        let Some(path) = k.value().strip_prefix(prefix.as_str()) else { break };
        tree.insert(path.to_string(), v.value().to_vec());
    }
    Ok(tree)
}

/// Writes `tree` (if not there yet) and returns its meta range id ("" for an empty tree).
pub(crate) fn write_tree(trees: &mut Table<&'static str, &'static [u8]>, repo: &str, tree: &Tree) -> ApiResult<String> {
    if tree.is_empty() {
        return Ok(String::new());
    }
    let id = tree_id(tree);
    let prefix = key3(repo, &id, "");
    let exists = trees
        .range::<&str>(prefix.as_str()..)?
        .next()
        .transpose()?
        .is_some_and(|(k, _)| k.value().starts_with(prefix.as_str()));
    if !exists {
        for (path, value) in tree {
            trees.insert(format!("{prefix}{path}").as_str(), value.as_slice())?;
        }
    }
    Ok(id)
}

/// The meta range id of a tree: SHA-256 over its (path, entry) pairs.
pub(crate) fn tree_id(tree: &Tree) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    for (path, value) in tree {
        hasher.update((path.len() as u64).to_be_bytes());
        hasher.update(path.as_bytes());
        hasher.update((value.len() as u64).to_be_bytes());
        hasher.update(value);
    }
    hex::encode(hasher.finalize())
}
