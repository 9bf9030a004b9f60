//! `logCommits` of the embedded server, as lakeFS v1.84.0 walks history (`pkg/catalog/catalog.go`
//! `ListCommits`, `listCommitsWithPaths`, `checkPathListInCommit`, `foundAllCommits`;
//! `pkg/graveler/ref/commit_iterator.go`).
//!
//! The walk starts at the commit the ref resolves to and pops the newest commit of a queue of
//! reached commits (by creation date, then commit id, both descending), queuing its parents (only
//! the first with `first_parent`; commits older than `since` are neither listed nor followed).
//! `after` names a commit (any ref) the page resumes past; `objects`/`prefixes` keep only
//! single-parent commits that changed one of those objects, or something under one of those
//! prefixes, against their parent (by entry identity); the log stops after `amount` + 1 results
//! (`amount` with `limit`, which therefore never reports more) or at the `stop_at` commit.

use super::meta::*;
use super::refs::INVALID_REF;
use super::refs::resolve;
use crate::error::{ApiError, ApiResult};
use lakefs_api::dto::Commit;
use redb::{ReadTransaction, ReadableTable};
use std::collections::{BinaryHeap, HashSet};

/// A `logCommits` request (lakeFS `catalog.LogParams`).
#[derive(Debug, Clone, Default)]
pub struct LogQuery {
    /// A ref; the page resumes past the commit it resolves to (nothing, if the log never
    /// reaches it).
    pub after: String,
    pub amount: usize,
    pub limit: bool,
    pub first_parent: bool,
    /// Commits created before this Unix second are left out, and not followed.
    pub since: Option<i64>,
    /// A ref; the log ends with the commit it resolves to.
    pub stop_at: String,
    pub objects: Vec<String>,
    pub prefixes: Vec<String>,
}

/// A path the log filters on: an object, or a prefix (lakeFS `catalog.PathRecord`).
enum PathRecord<'a> {
    Object(&'a str),
    Prefix(&'a str),
}

/// The commit `reference` names, its errors prefixed with `context` as lakeFS wraps
/// `dereferenceCommitID`'s (`ref`, `stop_at`, `from ref`).
fn commit_of(txn: &ReadTransaction, repo: &str, reference: &str, context: &str) -> ApiResult<Commit> {
    let (_, resolved) = resolve(txn, repo, reference).map_err(|e| e.wrapped(context))?;
    let refused = || ApiError::bad_request(format!("{context}: {INVALID_REF}: should point to a commit"));
    Ok(resolved.needs_commit(refused)?.clone())
}

impl Meta {
    /// `logCommits`: a page of `reference`'s history and whether more follows.
    pub fn log_commits(&self, repo: &str, reference: &str, q: &LogQuery) -> ApiResult<(Vec<Commit>, bool)> {
        super::validate::repository("repository", repo)?;
        super::validate::reference("ref", reference)?;
        let txn = self.db.begin_read()?;
        ensure_repo(&txn, repo)?;
        let start = commit_of(&txn, repo, reference, "ref")?;
        let stop_at = match q.stop_at.as_str() {
            "" => None,
            s => Some(commit_of(&txn, repo, s, "stop_at")?.id),
        };
        let commits = txn.open_table(COMMITS)?;
        let trees = txn.open_table(TREES)?;
        let mut walk = Walk::new(&commits, repo, start, q);
        if !q.after.is_empty() {
            let from = commit_of(&txn, repo, &q.after, "from ref")?.id;
            while let Some(c) = walk.next()? {
                if c.id == from {
                    break;
                }
            }
        }
        let paths: Vec<PathRecord> = (q.objects.iter().filter(|p| !p.is_empty()).map(|p| PathRecord::Object(p)))
            .chain(q.prefixes.iter().filter(|p| !p.is_empty()).map(|p| PathRecord::Prefix(p)))
            .collect();
        let mut out: Vec<Commit> = Vec::new();
        while let Some(c) = walk.next()? {
            if !paths.is_empty() && (c.parents.len() != 1 || !touches(&commits, &trees, repo, &c, &paths)?) {
                continue;
            }
            out.push(c);
            let at_stop = stop_at.as_deref().is_some_and(|s| out.last().is_some_and(|c| c.id == s));
            if (q.limit && out.len() >= q.amount) || out.len() > q.amount || at_stop {
                break;
            }
        }
        let more = out.len() > q.amount;
        out.truncate(q.amount);
        Ok((out, more))
    }
}

/// Whether `c` changed one of `paths` against its (single) parent.
fn touches<C, T>(commits: &C, trees: &T, repo: &str, c: &Commit, paths: &[PathRecord]) -> ApiResult<bool>
where
    C: ReadableTable<&'static str, &'static [u8]>,
    T: ReadableTable<&'static str, &'static [u8]>,
{
    let parent: Commit =
        get_json(commits, &key2(repo, &c.parents[0]))?.ok_or_else(|| ApiError::not_found("commit not found"))?;
    let (left, right) = (parent.meta_range_id.as_str(), c.meta_range_id.as_str());
    if left == right {
        return Ok(false);
    }
    for p in paths {
        let changed = match p {
            PathRecord::Object(path) => {
                let l: Option<Entry> = get_json(trees, &key3(repo, left, path))?;
                let r: Option<Entry> = get_json(trees, &key3(repo, right, path))?;
                !matches!((&l, &r), (None, None)) && !matches!((&l, &r), (Some(a), Some(b)) if a.same_identity(b))
            }
            PathRecord::Prefix(prefix) => prefix_changed(trees, repo, (left, right), prefix)?,
        };
        if changed {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Whether the trees `left` and `right` differ (by entry identity) under `prefix`.
fn prefix_changed<T>(trees: &T, repo: &str, (left, right): (&str, &str), prefix: &str) -> ApiResult<bool>
where
    T: ReadableTable<&'static str, &'static [u8]>,
{
    let mut l = Under::new(trees, repo, left, prefix)?;
    let mut r = Under::new(trees, repo, right, prefix)?;
    let (mut a, mut b) = (l.next()?, r.next()?);
    loop {
        match (&a, &b) {
            (None, None) => return Ok(false),
            (Some((pa, ea)), Some((pb, eb))) if pa == pb => {
                if !ea.same_identity(eb) {
                    return Ok(true);
                }
                (a, b) = (l.next()?, r.next()?);
            }
            _ => return Ok(true),
        }
    }
}

/// The entries of one tree under a prefix, in path order.
struct Under<'t> {
    range: redb::Range<'t, &'static str, &'static [u8]>,
    tree_prefix: String,
    key_prefix: String,
}

impl<'t> Under<'t> {
    fn new<T>(trees: &'t T, repo: &str, tree: &str, prefix: &str) -> ApiResult<Under<'t>>
    where
        T: ReadableTable<&'static str, &'static [u8]>,
    {
        let key_prefix = key3(repo, tree, prefix);
        let range = trees.range::<&str>(key_prefix.as_str()..)?;
        Ok(Under { range, tree_prefix: key3(repo, tree, ""), key_prefix })
    }

    fn next(&mut self) -> ApiResult<Option<(String, Entry)>> {
        let Some(item) = self.range.next() else { return Ok(None) };
        let (k, v) = item?;
        let key = k.value();
        if !key.starts_with(self.key_prefix.as_str()) {
            return Ok(None);
        }
        Ok(Some((key[self.tree_prefix.len()..].to_string(), from_json(v.value())?)))
    }
}

/// lakeFS's `CommitIterator`: reached commits, newest first.
struct Walk<'t, C> {
    commits: &'t C,
    repo: &'t str,
    start: Option<Commit>,
    queue: BinaryHeap<Newest>,
    visited: HashSet<String>,
    first_parent: bool,
    since: Option<i64>,
}

impl<'t, C: ReadableTable<&'static str, &'static [u8]>> Walk<'t, C> {
    fn new(commits: &'t C, repo: &'t str, start: Commit, q: &LogQuery) -> Self {
        let (first_parent, since) = (q.first_parent, q.since);
        Walk {
            commits,
            repo,
            start: Some(start),
            queue: BinaryHeap::new(),
            visited: HashSet::new(),
            first_parent,
            since,
        }
    }

    fn too_old(&self, c: &Commit) -> bool {
        self.since.is_some_and(|s| c.creation_date < s)
    }

    fn next(&mut self) -> ApiResult<Option<Commit>> {
        if let Some(start) = self.start.take()
            && !self.too_old(&start)
        {
            self.queue.push(Newest(start));
        }
        let Some(Newest(c)) = self.queue.pop() else { return Ok(None) };
        let parents = if self.first_parent { &c.parents[..c.parents.len().min(1)] } else { &c.parents[..] };
        for p in parents {
            if !self.visited.insert(p.clone()) {
                continue;
            }
            let parent: Commit =
                get_json(self.commits, &key2(self.repo, p))?.ok_or_else(|| ApiError::not_found("commit not found"))?;
            if !self.too_old(&parent) {
                self.queue.push(Newest(parent));
            }
        }
        Ok(Some(c))
    }
}

/// Orders the walk's queue: the latest creation date first, then (the embedded server keeps
/// whole seconds, lakeFS nanoseconds) the higher generation, then the greater commit id.
struct Newest(Commit);

impl Newest {
    fn rank(&self) -> (i64, i64, &str) {
        (self.0.creation_date, self.0.generation.unwrap_or(0), self.0.id.as_str())
    }
}

impl PartialEq for Newest {
    fn eq(&self, other: &Self) -> bool {
        self.rank() == other.rank()
    }
}
impl Eq for Newest {}
impl PartialOrd for Newest {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Newest {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.rank().cmp(&other.rank())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{MergeOutcome, WriteCondition};
    use lakefs_api::dto::{CommitCreation, Repository};
    use lakefs_api::workflow_dto::Merge;

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

    /// `initial ← c1 ← c2 ← m ← c4` on main, `c1 ← c3` on `b` merged as `m`; returns the ids
    /// `[c4, m, c3, c2, c1, initial]` (dates 500, now, 300, 200, 100, 1).
    fn history(meta: &Meta) -> Vec<String> {
        let repo = Repository {
            id: "repo".into(),
            creation_date: 1,
            default_branch: "main".into(),
            storage_namespace: "local://repo".into(),
            storage_id: None,
            read_only: Some(false),
        };
        meta.create_repository(repo).unwrap();
        let commit = |branch: &str, path: &str, tag: &str, date: i64| {
            meta.stage("repo", branch, path, &entry(tag), WriteCondition::None, false).unwrap();
            let req = CommitCreation { message: tag.into(), date: Some(date), ..Default::default() };
            meta.commit("repo", branch, &req, "u").unwrap().id
        };
        let c1 = commit("main", "a/1", "c1", 100);
        meta.create_branch("repo", "b", "main", false).unwrap();
        let c2 = commit("main", "a/2", "c2", 200);
        let c3 = commit("b", "b/1", "c3", 300);
        let MergeOutcome::Merged(m) = meta.merge("repo", "b", "main", &Merge::default(), "u").unwrap() else {
            panic!("conflict")
        };
        let c4 = commit("main", "a/1", "c4", 500);
        let initial = meta.log_commits("repo", &c1, &LogQuery { amount: 5, ..Default::default() }).unwrap().0;
        vec![c4, m.id, c3, c2, c1, initial[1].id.clone()]
    }

    fn ids(meta: &Meta, q: LogQuery) -> (Vec<String>, bool) {
        let (log, more) = meta.log_commits("repo", "main", &LogQuery { amount: q.amount.max(1), ..q }).unwrap();
        (log.into_iter().map(|c| c.id).collect(), more)
    }

    #[test]
    fn the_log_walks_filters_and_pages_as_lakefs() {
        let dir = tempfile::tempdir().unwrap();
        let meta = Meta::open(&dir.path().join("m.redb")).unwrap();
        let h = history(&meta);
        let q = |amount: usize| LogQuery { amount, ..Default::default() };
        assert_eq!(ids(&meta, q(100)), (h.clone(), false));
        assert_eq!(ids(&meta, q(2)), (h[..2].to_vec(), true));
        let first = LogQuery { first_parent: true, ..q(100) };
        assert_eq!(ids(&meta, first).0, [h[0].as_str(), &h[1], &h[3], &h[4], &h[5]]);
        // paths: single-parent commits that changed them (the merge and the first commit never)
        let objects = LogQuery { objects: vec!["a/1".into(), "".into()], ..q(100) };
        assert_eq!(ids(&meta, objects).0, [h[0].as_str(), &h[4]]);
        let prefixes = LogQuery { prefixes: vec!["b/".into()], ..q(100) };
        assert_eq!(ids(&meta, prefixes).0, [h[2].as_str()]);
        let page = LogQuery { prefixes: vec!["a/".into()], ..q(1) };
        assert_eq!(ids(&meta, page.clone()), (vec![h[0].clone()], true));
        assert_eq!(ids(&meta, LogQuery { limit: true, ..page }), (vec![h[0].clone()], false));
        assert_eq!(ids(&meta, LogQuery { stop_at: h[3].clone(), ..q(100) }), (h[..4].to_vec(), false));
        // `since` leaves older commits out and does not walk through them
        assert_eq!(ids(&meta, LogQuery { since: Some(250), ..q(100) }).0, h[..3].to_vec());
        // `after` is a ref: the page resumes past its commit
        assert_eq!(ids(&meta, LogQuery { after: "main~1".into(), ..q(2) }), (h[2..4].to_vec(), true));
        assert_eq!(ids(&meta, LogQuery { after: h[5].clone(), ..q(2) }), (vec![], false));
        let err = |q: LogQuery, r: &str| meta.log_commits("repo", r, &q).unwrap_err().to_string();
        assert_eq!(err(LogQuery { after: "nope".into(), ..q(1) }, "main"), "from ref: not found");
        assert_eq!(err(LogQuery { stop_at: "nope".into(), ..q(1) }, "main"), "stop_at: not found");
        assert_eq!(err(q(1), "nope"), "ref: not found");
        assert_eq!(err(q(1), "a b"), "argument ref: ref: invalid value: validation error");
        assert_eq!(meta.log_commits("nope", "main", &q(1)).unwrap_err().to_string(), "repository not found");
    }

    #[test]
    fn merge_base_is_found_as_lakefs_finds_it() {
        let dir = tempfile::tempdir().unwrap();
        let meta = Meta::open(&dir.path().join("m.redb")).unwrap();
        let h = history(&meta);
        // lakeFS answers the destination's commit as `source_commit_id` (and the other way round)
        let (source_answer, dest_answer, base) = meta.find_merge_base("repo", "b", "main~1^1").unwrap();
        assert_eq!((source_answer, dest_answer, base), (h[3].clone(), h[2].clone(), h[4].clone()));
        assert_eq!(meta.find_merge_base("repo", "b", "main").unwrap().2, h[2]);
        let err = meta.find_merge_base("repo", "b", "nope").unwrap_err().to_string();
        assert_eq!(err, "get commit by ref nope: not found");
        let err = meta.find_merge_base("repo", "nope", "main").unwrap_err().to_string();
        assert_eq!(err, "get commit by branch nope: not found");
    }
}
