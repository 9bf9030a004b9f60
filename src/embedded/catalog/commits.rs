//! Commits of the embedded server (lakeFS API: `commit`, `getCommit`, `logCommits`).
//!
//! A commit turns a branch's staged changes into a new tree ("meta range") identified by the SHA-256
//! of its entries, and a commit id that is the SHA-256 of the commit's content, both 64 hex digits
//! like lakeFS's. The whole commit is one write transaction: links racing with it either land in
//! the commit or stay staged after it, never lost.

use super::meta::*;
use super::repos::{get_json, resolve};
use crate::embedded::error::{ApiError, ApiResult};
use crate::lakefs::dto::{Commit, CommitCreation, Repository};
use redb::{ReadableTable, Table};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BinaryHeap, HashSet};

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
    /// `commit`: commits `branch`'s staged changes; 400 "commit: no changes" when there are none
    /// (unless `allow_empty`).
    pub fn commit(&self, repo: &str, branch: &str, req: &CommitCreation, committer: &str) -> ApiResult<Commit> {
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
            if changes.is_empty() && req.allow_empty != Some(true) {
                return Err(ApiError::bad_request("commit: no changes"));
            }
            let mut trees = txn.open_table(TREES)?;
            let meta_range_id = apply_changes(&mut trees, repo, &parent.meta_range_id, &changes)?;
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
            let commit = Commit { id: commit_id(repo, &commit), ..commit };
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
        let txn = self.db.begin_read()?;
        let (_, resolved) = resolve(&txn, repo, id).map_err(|e| match e {
            ApiError::NotFound(m) if m == "repository not found" => ApiError::NotFound(m),
            ApiError::NotFound(_) => ApiError::not_found("commit not found"),
            ApiError::BadRequest(m) => ApiError::Unexpected(m),
            other => other,
        })?;
        Ok(resolved.commit().clone())
    }

    /// `logCommits`: ancestors of `reference`, newest first (by generation, then date).
    pub fn log_commits(
        &self,
        repo: &str,
        reference: &str,
        after: &str,
        amount: usize,
    ) -> ApiResult<(Vec<Commit>, bool)> {
        let txn = self.db.begin_read()?;
        let (_, resolved) = resolve(&txn, repo, reference)?;
        let commits = txn.open_table(COMMITS)?;
        let mut heap = BinaryHeap::new();
        let mut seen = HashSet::new();
        let start = resolved.commit().clone();
        seen.insert(start.id.clone());
        heap.push(Ordered(start));
        let mut out = Vec::new();
        let mut skipping = !after.is_empty();
        while let Some(Ordered(c)) = heap.pop() {
            for p in &c.parents {
                if seen.insert(p.clone())
                    && let Some(pc) = get_json::<_, Commit>(&commits, &key2(repo, p))?
                {
                    heap.push(Ordered(pc));
                }
            }
            if skipping {
                skipping = c.id != after;
                continue;
            }
            out.push(c);
            if out.len() > amount {
                break;
            }
        }
        let more = out.len() > amount;
        out.truncate(amount);
        Ok((out, more))
    }
}

/// Orders commits newest first for the log walk.
struct Ordered(Commit);

impl Ordered {
    fn rank(&self) -> (i64, i64, &str) {
        (self.0.generation.unwrap_or(0), self.0.creation_date, self.0.id.as_str())
    }
}

impl PartialEq for Ordered {
    fn eq(&self, other: &Self) -> bool {
        self.rank() == other.rank()
    }
}
impl Eq for Ordered {}
impl PartialOrd for Ordered {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Ordered {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.rank().cmp(&other.rank())
    }
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

/// Writes the tree `base` + `changes` and returns its meta range id ("" for an empty tree).
fn apply_changes(
    trees: &mut Table<&'static str, &'static [u8]>,
    repo: &str,
    base: &str,
    changes: &BTreeMap<String, Option<Entry>>,
) -> ApiResult<String> {
    if changes.is_empty() {
        return Ok(base.to_string());
    }
    let base_prefix = key3(repo, base, "");
    let mut merged: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for item in trees.range::<&str>(base_prefix.as_str()..)? {
        let (k, v) = item?;
        let Some(path) = k.value().strip_prefix(base_prefix.as_str()) else {
            break;
        };
        merged.insert(path.to_string(), v.value().to_vec());
    }
    for (path, change) in changes {
        match change {
            Some(entry) => merged.insert(path.clone(), to_json(entry)?),
            None => merged.remove(path),
        };
    }
    if merged.is_empty() {
        return Ok(String::new());
    }
    let mut hasher = Sha256::new();
    for (path, value) in &merged {
        hasher.update((path.len() as u64).to_be_bytes());
        hasher.update(path.as_bytes());
        hasher.update((value.len() as u64).to_be_bytes());
        hasher.update(value);
    }
    let id = hex::encode(hasher.finalize());
    let new_prefix = key3(repo, &id, "");
    let exists = trees
        .range::<&str>(new_prefix.as_str()..)?
        .next()
        .transpose()?
        .is_some_and(|(k, _)| k.value().starts_with(new_prefix.as_str()));
    if !exists {
        for (path, value) in &merged {
            trees.insert(format!("{new_prefix}{path}").as_str(), value.as_slice())?;
        }
    }
    Ok(id)
}
