//! Repositories, branches and ref resolution of the embedded server, with lakeFS's rules:
//! repository names `^[a-z0-9][a-z0-9-]{2,62}$`, branch names `^\w[-\w]*$`, a repository starts with
//! an empty "Repository created" commit on its default branch, the default branch cannot be deleted,
//! and a ref is an expression over branches, tags and commit ids (see `refs`).
//! (lakeFS API: `createRepository`, `listRepositories`, `getRepository`, `deleteRepository`,
//! `createBranch`, `listBranches`, `getBranch`, `deleteBranch`.)

use super::meta::*;
use super::refs::resolve;
use crate::error::{ApiError, ApiResult};
use lakefs_api::dto::{Commit, Ref, Repository};
use redb::ReadableTable;
use std::collections::BTreeMap;

impl Meta {
    /// `createRepository`: stores the repository, its initial commit and default branch.
    pub fn create_repository(&self, repo: Repository) -> ApiResult<Repository> {
        let initial = Commit {
            id: String::new(),
            parents: vec![],
            committer: String::new(),
            message: "Repository created".into(),
            creation_date: repo.creation_date,
            meta_range_id: String::new(),
            metadata: Some(BTreeMap::new()),
            generation: Some(1),
            version: Some(1),
        };
        let initial = Commit { id: super::commits::commit_id(&repo.id, &initial), ..initial };
        let txn = self.db.begin_write()?;
        {
            let mut repos = txn.open_table(REPOS)?;
            if repos.get(repo.id.as_str())?.is_some() {
                return Err(ApiError::Conflict("repository already exists".into()));
            }
            for item in repos.iter()? {
                let (_, v) = item?;
                let other: Repository = from_json(v.value())?;
                if other.storage_namespace.trim_end_matches('/') == repo.storage_namespace.trim_end_matches('/') {
                    return Err(ApiError::bad_request(format!(
                        "storage namespace {} already in use by repository {}",
                        repo.storage_namespace, other.id
                    )));
                }
            }
            repos.insert(repo.id.as_str(), to_json(&repo)?.as_slice())?;
            let mut commits = txn.open_table(COMMITS)?;
            commits.insert(key2(&repo.id, &initial.id).as_str(), to_json(&initial)?.as_slice())?;
            let mut branches = txn.open_table(BRANCHES)?;
            branches.insert(key2(&repo.id, &repo.default_branch).as_str(), initial.id.as_str())?;
        }
        txn.commit()?;
        Ok(repo)
    }

    /// `getRepository`.
    pub fn get_repository(&self, id: &str) -> ApiResult<Repository> {
        let txn = self.db.begin_read()?;
        get_json(&txn.open_table(REPOS)?, id)?.ok_or_else(repo_not_found)
    }

    /// `listRepositories`: `(page, has_more)` of the repositories `visible` keeps (filtered
    /// before paging, as lakeFS's `Catalog.ListRepositories`).
    pub fn list_repositories(
        &self,
        prefix: &str,
        after: &str,
        search: &str,
        amount: usize,
        visible: impl Fn(&str) -> bool,
    ) -> ApiResult<(Vec<Repository>, bool)> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(REPOS)?;
        let mut out = Vec::new();
        for item in table.range::<&str>(prefix.max(after)..)? {
            let (k, v) = item?;
            let id = k.value();
            if !id.starts_with(prefix) {
                break;
            }
            if id <= after || !id.contains(search) || !visible(id) {
                continue;
            }
            out.push(from_json(v.value())?);
            if out.len() > amount {
                break;
            }
        }
        let more = out.len() > amount;
        out.truncate(amount);
        Ok((out, more))
    }

    /// `deleteRepository`: removes the repository and every branch, commit and entry of it.
    /// Object bytes stay in the blob store (lakeFS leaves them to garbage collection too).
    pub fn delete_repository(&self, id: &str, force: bool) -> ApiResult<()> {
        let txn = self.db.begin_write()?;
        {
            let mut repos = txn.open_table(REPOS)?;
            let repo: Repository = get_json(&repos, id)?.ok_or_else(repo_not_found)?;
            if repo.read_only == Some(true) && !force {
                return Err(ApiError::Forbidden("read-only repository".into()));
            }
            repos.remove(id)?;
            let prefix = format!("{id}\0");
            let mut branches = txn.open_table(BRANCHES)?;
            for k in keys_with_prefix(&branches, &prefix)? {
                branches.remove(k.as_str())?;
            }
            let mut tags = txn.open_table(TAGS)?;
            for k in keys_with_prefix(&tags, &prefix)? {
                tags.remove(k.as_str())?;
            }
            // lakeFS drops the repository's KV partition, pull requests and imports included
            for def in [COMMITS, STAGED, TREES, PULLS, IMPORTS] {
                let mut t = txn.open_table(def)?;
                for k in keys_with_prefix(&t, &prefix)? {
                    t.remove(k.as_str())?;
                }
            }
        }
        txn.commit()?;
        Ok(())
    }

    /// `createBranch`: the new branch points at the commit `source` resolves to; returns its id.
    /// lakeFS's order (`Catalog.CreateBranch`, `Graveler.CreateBranch`): repository, a commit id or
    /// tag of that name (409), read-only (403), the source (404), an existing branch (409
    /// `branch already exists: not unique`, `graveler.ErrBranchExists`).
    pub fn create_branch(&self, repo: &str, name: &str, source: &str, force: bool) -> ApiResult<String> {
        let commit_id = {
            let read = self.db.begin_read()?;
            // lakeFS `Catalog.CreateBranch`: a commit id or a tag of that name is a conflict
            let repository = ensure_repo(&read, repo)?;
            if read.open_table(COMMITS)?.get(key2(repo, name).as_str())?.is_some() {
                return Err(ApiError::Conflict(format!("commit ID {name}: conflict found")));
            }
            if super::refs::tag_exists(&read, repo, name)? {
                return Err(ApiError::Conflict(format!("tag ID {name}: conflict found")));
            }
            if repository.read_only == Some(true) && !force {
                return Err(ApiError::Forbidden("read-only repository".into()));
            }
            // lakeFS `Graveler.CreateBranch`: "source reference '<ref>': not found"
            let resolved = resolve(&read, repo, source).map_err(|e| match e {
                ApiError::NotFound(m) => ApiError::not_found(format!("source reference '{source}': {m}")),
                e => e,
            })?;
            // lakeFS `Graveler.CreateBranch`: `ErrCreateBranchNoCommit` has no status of its own (500)
            let no_commit =
                || ApiError::Unexpected(format!("source reference '{source}': can't create a branch without commit"));
            resolved.1.needs_commit(no_commit)?.id.clone()
        };
        let txn = self.db.begin_write()?;
        {
            if txn.open_table(REPOS)?.get(repo)?.is_none() {
                return Err(repo_not_found());
            }
            let mut branches = txn.open_table(BRANCHES)?;
            let key = key2(repo, name);
            if branches.get(key.as_str())?.is_some() {
                return Err(ApiError::Conflict("branch already exists: not unique".into()));
            }
            branches.insert(key.as_str(), commit_id.as_str())?;
        }
        txn.commit()?;
        Ok(commit_id)
    }

    /// `getBranch`.
    pub fn get_branch(&self, repo: &str, name: &str) -> ApiResult<Ref> {
        let txn = self.db.begin_read()?;
        ensure_repo(&txn, repo)?;
        let branches = txn.open_table(BRANCHES)?;
        let head = branches.get(key2(repo, name).as_str())?.map(|v| v.value().to_string());
        let commit_id = head.ok_or_else(|| ApiError::not_found("branch not found"))?;
        Ok(Ref { id: name.to_string(), commit_id })
    }

    /// `listBranches`: `(page, has_more)`.
    pub fn list_branches(&self, repo: &str, prefix: &str, after: &str, amount: usize) -> ApiResult<(Vec<Ref>, bool)> {
        let txn = self.db.begin_read()?;
        ensure_repo(&txn, repo)?;
        let table = txn.open_table(BRANCHES)?;
        let key_prefix = key2(repo, "");
        let start = key2(repo, prefix.max(after));
        let mut out = Vec::new();
        for item in table.range::<&str>(start.as_str()..)? {
            let (k, v) = item?;
            let Some(name) = k.value().strip_prefix(key_prefix.as_str()) else {
                break;
            };
            if !name.starts_with(prefix) {
                break;
            }
            if name <= after {
                continue;
            }
            out.push(Ref { id: name.to_string(), commit_id: v.value().to_string() });
            if out.len() > amount {
                break;
            }
        }
        let more = out.len() > amount;
        out.truncate(amount);
        Ok((out, more))
    }

    /// `deleteBranch`: drops the branch and its uncommitted changes. lakeFS's order
    /// (`Graveler.DeleteBranch`): repository (404), read-only (403 unless `force`), the default
    /// branch (403), the branch (404).
    pub fn delete_branch(&self, repo: &str, name: &str, force: bool) -> ApiResult<()> {
        let txn = self.db.begin_write()?;
        {
            let repos = txn.open_table(REPOS)?;
            let repository: Repository = get_json(&repos, repo)?.ok_or_else(repo_not_found)?;
            if repository.read_only == Some(true) && !force {
                return Err(ApiError::Forbidden("read-only repository".into()));
            }
            if repository.default_branch == name {
                return Err(ApiError::Forbidden("cannot delete repository default branch".into()));
            }
            let mut branches = txn.open_table(BRANCHES)?;
            if branches.get(key2(repo, name).as_str())?.is_none() {
                return Err(ApiError::not_found("branch not found"));
            }
            branches.remove(key2(repo, name).as_str())?;
            let mut staged = txn.open_table(STAGED)?;
            for k in keys_with_prefix(&staged, &key3(repo, name, ""))? {
                staged.remove(k.as_str())?;
            }
        }
        txn.commit()?;
        Ok(())
    }
}
