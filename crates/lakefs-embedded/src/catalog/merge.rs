//! Merges and hard resets of the embedded server (lakeFS API: `mergeIntoBranch`,
//! `findMergeBase`, `hardResetBranch`), with lakeFS's semantics (graveler `Merge`/`ResetHard`,
//! `committed/merge.go`): the source's *committed* head is merged; the destination must have no
//! uncommitted changes (400 "uncommitted changes (dirty branch)"); nothing to merge is 400
//! "no changes" unless `allow_empty`/`force`; every merge makes a commit with parents
//! `[destination, source]` (no fast-forward; squash: `[destination]`); per path, a side that did not
//! change since the merge base yields to the one that did, the same change on both sides is no
//! conflict, and anything else is a conflict (409) unless `strategy` says which side wins.

use super::commits::{Tree, commit_id, read_tree, write_tree};
use super::meta::*;
use super::refs::resolve;
use crate::error::{ApiError, ApiResult};
use lakefs_api::dto::{Commit, Repository};
use lakefs_api::workflow_dto::Merge;
use redb::ReadableTable;
use std::collections::{BTreeSet, BinaryHeap, HashMap};

/// What a merge may end in.
#[derive(Debug)]
pub enum MergeOutcome {
    Merged(Commit),
    /// Conflicting paths (the first few): lakeFS answers 409.
    Conflict(Vec<String>),
}

/// The merge base of commits `left` and `right`, as lakeFS's `ref.FindMergeBase` finds it: walk
/// both histories, highest generation first (then latest creation date), marking each parent with
/// the sides it was reached from; the first parent reached from both sides is the base.
fn merge_base(
    commits: &impl ReadableTable<&'static str, &'static [u8]>,
    repo: &str,
    left: &Commit,
    right: &Commit,
) -> ApiResult<Option<Commit>> {
    const LEFT: u8 = 1;
    const RIGHT: u8 = 2;
    if left.id == right.id {
        return Ok(Some(left.clone()));
    }
    let load = |id: &str| -> ApiResult<Commit> {
        get_json(commits, &key2(repo, id))?.ok_or_else(|| ApiError::not_found("commit not found"))
    };
    let mut reached: HashMap<String, u8> = HashMap::from([(left.id.clone(), LEFT), (right.id.clone(), RIGHT)]);
    let mut queue = BinaryHeap::from([ByGeneration(left.clone()), ByGeneration(right.clone())]);
    while let Some(ByGeneration(c)) = queue.pop() {
        let flags = reached.get(&c.id).copied().unwrap_or(0);
        for p in &c.parents {
            if !reached.contains_key(p) {
                queue.push(ByGeneration(load(p)?));
            }
            let marks = reached.entry(p.clone()).or_insert(0);
            *marks |= flags;
            if *marks == LEFT | RIGHT {
                return load(p).map(Some);
            }
        }
    }
    Ok(None)
}

/// lakeFS's `CommitsGenerationPriorityQueue` order (the id only makes ties deterministic).
struct ByGeneration(Commit);

impl ByGeneration {
    fn rank(&self) -> (i64, i64, &str) {
        (self.0.generation.unwrap_or(0), self.0.creation_date, self.0.id.as_str())
    }
}

impl PartialEq for ByGeneration {
    fn eq(&self, other: &Self) -> bool {
        self.rank() == other.rank()
    }
}
impl Eq for ByGeneration {}
impl PartialOrd for ByGeneration {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for ByGeneration {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.rank().cmp(&other.rank())
    }
}

/// Three-way merge of `source` and `dest` trees over `base`: the merged tree, or the conflicts.
pub(crate) fn three_way(base: &Tree, source: &Tree, dest: &Tree, strategy: Option<&str>) -> Result<Tree, Vec<String>> {
    let paths: BTreeSet<&String> = base.keys().chain(source.keys()).chain(dest.keys()).collect();
    let mut merged = Tree::new();
    let mut conflicts = Vec::new();
    for path in paths {
        let (b, s, d) = (base.get(path), source.get(path), dest.get(path));
        let pick = if same(s, d) || same(s, b) {
            d
        } else if same(d, b) {
            s
        } else {
            match strategy {
                Some("source-wins") => s,
                Some("dest-wins") => d,
                _ => {
                    conflicts.push(path.clone());
                    continue;
                }
            }
        };
        if let Some(v) = pick {
            merged.insert(path.clone(), v.clone());
        }
    }
    if conflicts.is_empty() { Ok(merged) } else { Err(conflicts) }
}

/// Whether two tree values are the same version of an object: lakeFS's merge compares value
/// identities (`committed/merge.go`: size, ETag, user metadata, content type), not addresses, so
/// the same content written on both sides merges without a conflict.
fn same(a: Option<&Vec<u8>>, b: Option<&Vec<u8>>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(x), Some(y)) => match (serde_json::from_slice::<Entry>(x), serde_json::from_slice::<Entry>(y)) {
            (Ok(x), Ok(y)) => x.same_identity(&y),
            _ => x == y,
        },
        _ => false,
    }
}

/// Whether `branch` has staged changes.
pub(crate) fn is_dirty(
    staged: &impl ReadableTable<&'static str, &'static [u8]>,
    repo: &str,
    branch: &str,
) -> ApiResult<bool> {
    let prefix = key3(repo, branch, "");
    let first = staged.range::<&str>(prefix.as_str()..)?.next().transpose()?;
    Ok(first.is_some_and(|(k, _)| k.value().starts_with(prefix.as_str())))
}

impl Meta {
    /// `mergeIntoBranch`: merges `source` (any ref; a branch's committed head) into `dest`.
    pub fn merge(&self, repo: &str, source: &str, dest: &str, req: &Merge, committer: &str) -> ApiResult<MergeOutcome> {
        let strategy = req.strategy.as_deref().filter(|s| !s.is_empty());
        if strategy.is_some_and(|s| s != "dest-wins" && s != "source-wins") {
            return Err(ApiError::bad_request("argument strategy: invalid value: validation error"));
        }
        let (repository, src, dst, base, trees) = {
            let txn = self.db.begin_read()?;
            let (repository, src) = resolve(&txn, repo, source)?;
            let (_, dst) = resolve(&txn, repo, dest)?;
            if dst.branch().is_none() {
                return Err(ApiError::not_found("branch not found"));
            }
            let commits = txn.open_table(COMMITS)?;
            let (src, dst) = (src.needs_commit(|| staging_not_commit("ref", source))?.clone(), dst.commit().clone());
            let base = merge_base(&commits, repo, &src, &dst)?;
            let t = txn.open_table(TREES)?;
            let base_tree = base.as_ref().map_or(Ok(Tree::new()), |b| read_tree(&t, repo, &b.meta_range_id))?;
            let trees = (base_tree, read_tree(&t, repo, &src.meta_range_id)?, read_tree(&t, repo, &dst.meta_range_id)?);
            (repository, src, dst, base, trees)
        };
        if repository.read_only == Some(true) && req.force != Some(true) {
            return Err(ApiError::Forbidden("read-only repository".into()));
        }
        let nothing = base.as_ref().is_some_and(|b| b.id == src.id);
        if nothing && req.allow_empty != Some(true) && req.force != Some(true) {
            return Err(ApiError::bad_request(format!("update branch {dest}: no changes")));
        }
        let merged = match three_way(&trees.0, &trees.1, &trees.2, strategy) {
            Ok(tree) => tree,
            Err(conflicts) => return Ok(MergeOutcome::Conflict(conflicts)),
        };
        let message =
            req.message.clone().filter(|m| !m.is_empty()).unwrap_or_else(|| format!("Merge '{source}' into '{dest}'"));
        let mut metadata = req.metadata.clone().unwrap_or_default();
        metadata.insert(".lakefs.merge.strategy".into(), strategy.unwrap_or("default").into());
        let parents =
            if req.squash_merge == Some(true) { vec![dst.id.clone()] } else { vec![dst.id.clone(), src.id.clone()] };
        let generation = dst.generation.unwrap_or(0).max(src.generation.unwrap_or(0)) + 1;
        let draft = Commit {
            id: String::new(),
            parents,
            committer: committer.to_string(),
            message,
            creation_date: now_unix(),
            meta_range_id: String::new(),
            metadata: Some(metadata),
            generation: Some(generation),
            version: Some(1),
        };
        self.commit_tree(repo, dest, &dst.id, merged, draft).map(MergeOutcome::Merged)
    }

    /// Writes `tree` and commits `draft` (its tree id filled in) on `branch`, whose head must still
    /// be `expected_head` and which must have no staged changes.
    pub(crate) fn commit_tree(
        &self,
        repo: &str,
        branch: &str,
        expected_head: &str,
        tree: Tree,
        draft: Commit,
    ) -> ApiResult<Commit> {
        let txn = self.db.begin_write()?;
        let commit = {
            let mut branches = txn.open_table(BRANCHES)?;
            let head_key = key2(repo, branch);
            let head = branches.get(head_key.as_str())?.map(|v| v.value().to_string());
            match head {
                None => return Err(ApiError::not_found("branch not found")),
                Some(h) if h != expected_head => {
                    return Err(ApiError::Conflict(format!("branch {branch} moved during the operation; retry")));
                }
                Some(_) => {}
            }
            if is_dirty(&txn.open_table(STAGED)?, repo, branch)? {
                return Err(ApiError::bad_request("uncommitted changes (dirty branch)"));
            }
            let meta_range_id = write_tree(&mut txn.open_table(TREES)?, repo, &tree)?;
            let commit = Commit { meta_range_id, ..draft };
            let commit = Commit { id: commit_id(repo, &commit), ..commit };
            txn.open_table(COMMITS)?.insert(key2(repo, &commit.id).as_str(), to_json(&commit)?.as_slice())?;
            branches.insert(head_key.as_str(), commit.id.as_str())?;
            commit
        };
        txn.commit()?;
        Ok(commit)
    }

    /// `findMergeBase`: the answer's (`source_commit_id`, `destination_commit_id`,
    /// `base_commit_id`). As lakeFS v1.84.0 fills them: `Catalog.FindMergeBase` returns the
    /// destination's commit first and the controller reads it as the source's, so
    /// `source_commit_id` is the destination's commit and `destination_commit_id` the source's.
    /// The destination is resolved first (`get commit by ref <destination>: …`), then the source
    /// (`get commit by branch <source>: …`); no common ancestor is 500 `no merge base`.
    pub fn find_merge_base(&self, repo: &str, source: &str, dest: &str) -> ApiResult<(String, String, String)> {
        super::validate::repository("repository", repo)?;
        super::validate::reference("destination", dest)?;
        super::validate::reference("source", source)?;
        let txn = self.db.begin_read()?;
        super::meta::ensure_repo(&txn, repo)?;
        let side = |side: &str, reference: &str| -> ApiResult<Commit> {
            let context = format!("get commit by {side} {reference}");
            let (_, resolved) = resolve(&txn, repo, reference).map_err(|e| e.wrapped(&context))?;
            Ok(resolved.needs_commit(|| staging_not_commit(side, reference))?.clone())
        };
        let dst = side("ref", dest)?;
        let src = side("branch", source)?;
        let commits = txn.open_table(COMMITS)?;
        let base =
            merge_base(&commits, repo, &dst, &src)?.ok_or_else(|| ApiError::Unexpected("no merge base".into()))?;
        Ok((dst.id, src.id, base.id))
    }

    /// `hardResetBranch`: points `branch` at `reference`'s commit. As lakeFS's server, staged
    /// changes stay staged (lakectl refuses a dirty branch on the client side, as lakegate does).
    pub fn hard_reset(&self, repo: &str, branch: &str, reference: &str, force: bool) -> ApiResult<()> {
        let target = {
            let txn = self.db.begin_read()?;
            let (repository, _) = resolve(&txn, repo, branch)
                .ok()
                .filter(|(_, r)| r.branch().is_some())
                .ok_or_else(|| ApiError::not_found("branch not found"))?;
            if repository.read_only == Some(true) && !force {
                return Err(ApiError::Forbidden("read-only repository".into()));
            }
            // lakeFS `Graveler.ResetHard`: "hard-reset <branch> to <ref>: " + `dereferenceCommit`'s error
            let context = format!("hard-reset {branch} to {reference}");
            let (_, target) = resolve(&txn, repo, reference).map_err(|e| e.wrapped(&context))?;
            let refused = || {
                ApiError::bad_request(format!(
                    "{context}: reference '{reference}': reference to staging area with $ is not a commit"
                ))
            };
            target.needs_commit(refused)?.id.clone()
        };
        let txn = self.db.begin_write()?;
        {
            let _: Option<Repository> = get_json(&txn.open_table(REPOS)?, repo)?;
            txn.open_table(BRANCHES)?.insert(key2(repo, branch).as_str(), target.as_str())?;
        }
        txn.commit()?;
        Ok(())
    }
}

/// lakeFS `Graveler.FindMergeBase` on a `branch$` ref: `dereferenceCommit`'s
/// `ErrDereferenceCommitWithStaging` wrapped with the side (`ref` for the source, `branch` for the
/// destination); a 400.
fn staging_not_commit(side: &str, reference: &str) -> ApiError {
    ApiError::bad_request(format!(
        "get commit by {side} {reference}: reference '{reference}': reference to staging area with $ is not a commit"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(items: &[(&str, &str)]) -> Tree {
        items.iter().map(|(p, v)| (p.to_string(), v.as_bytes().to_vec())).collect()
    }

    #[test]
    fn three_way_rules() {
        let base = tree(&[
            ("same", "1"),
            ("src-changed", "1"),
            ("dst-changed", "1"),
            ("both", "1"),
            ("del-src", "1"),
            ("del-vs-mod", "1"),
        ]);
        let source = tree(&[
            ("same", "1"),
            ("src-changed", "2"),
            ("dst-changed", "1"),
            ("both", "2"),
            ("del-vs-mod", "1"),
            ("added", "x"),
        ]);
        let dest = tree(&[
            ("same", "1"),
            ("src-changed", "1"),
            ("dst-changed", "3"),
            ("both", "2"),
            ("del-src", "1"),
            ("del-vs-mod", "9"),
        ]);
        let merged = three_way(&base, &source, &dest, None).unwrap();
        assert_eq!(
            merged,
            tree(&[
                ("added", "x"),
                ("both", "2"),
                ("del-vs-mod", "9"),
                ("dst-changed", "3"),
                ("same", "1"),
                ("src-changed", "2")
            ])
        );
        // deleted on one side, modified on the other; changed differently on both: conflicts
        let source = tree(&[("a", "2")]);
        let dest = tree(&[("b", "3")]);
        let base = tree(&[("a", "1"), ("b", "1")]);
        assert_eq!(three_way(&base, &source, &dest, None).unwrap_err(), ["a", "b"]);
        assert_eq!(three_way(&base, &source, &dest, Some("source-wins")).unwrap(), tree(&[("a", "2")]));
        assert_eq!(three_way(&base, &source, &dest, Some("dest-wins")).unwrap(), tree(&[("b", "3")]));
        let both_added = three_way(&Tree::new(), &tree(&[("n", "1")]), &tree(&[("n", "2")]), None);
        assert_eq!(both_added.unwrap_err(), ["n"], "added differently on both sides");
    }
}
