//! A branch's uncommitted changes (lakeFS API `diffBranch`), as lakeFS v1.84.0 lists them
//! (`pkg/catalog/catalog.go` `DiffUncommitted`, `listDiffHelper`, `GetStartPos`;
//! `pkg/graveler/uncommitted_diff_iterator.go`).
//!
//! Each staged path is compared with the branch's head commit by entry identity: a staged entry
//! of the same identity is no change, a tombstone over nothing committed is none either. With a
//! `delimiter`, the paths past `prefix` that contain it collapse into one `prefix_changed` common
//! prefix each; with `after` and a delimiter, the listing resumes past everything starting with
//! `after`.

use super::meta::*;
use super::validate;
use crate::error::{ApiError, ApiResult};
use redb::ReadableTable;

/// A `diffBranch` request.
pub struct DiffQuery<'a> {
    pub prefix: &'a str,
    pub delimiter: &'a str,
    pub after: &'a str,
    pub amount: usize,
}

/// One row of `diffBranch`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// An object: path, `added`/`removed`/`changed`, and its size (0 when removed).
    Object(String, &'static str, i64),
    /// A common prefix (always `prefix_changed`).
    CommonPrefix(String),
}

impl Change {
    pub fn path(&self) -> &str {
        match self {
            Change::Object(p, ..) | Change::CommonPrefix(p) => p,
        }
    }
}

/// A cursor past every key starting with `prefix` (lakeFS `graveler.UpperBoundForPrefix`).
fn past(prefix: &str) -> Cursor {
    Cursor::From(format!("{prefix}{}", char::MAX))
}

/// Where the listing starts (lakeFS `GetStartPos`): `prefix`, or `after` when greater; past
/// everything starting with `after` when there is a delimiter.
fn start(q: &DiffQuery<'_>) -> Cursor {
    match (q.after, q.delimiter) {
        ("", _) => Cursor::From(q.prefix.to_string()),
        (after, _) if after < q.prefix => Cursor::From(q.prefix.to_string()),
        (after, "") => Cursor::From(after.to_string()),
        (after, _) => past(after),
    }
}

impl Meta {
    /// `diffBranch`: a page of `branch`'s uncommitted changes and whether more follow.
    pub fn diff_branch(&self, repo: &str, branch: &str, q: &DiffQuery<'_>) -> ApiResult<(Vec<Change>, bool)> {
        validate::repository("repository", repo)?;
        validate::branch("branch", branch)?;
        let txn = self.db.begin_read()?;
        ensure_repo(&txn, repo)?;
        let head = txn.open_table(BRANCHES)?.get(key2(repo, branch).as_str())?.map(|v| v.value().to_string());
        let head = head.ok_or_else(|| ApiError::not_found("branch not found"))?;
        let head: lakefs_api::dto::Commit = super::meta::get_json(&txn.open_table(COMMITS)?, &key2(repo, &head))?
            .ok_or_else(|| ApiError::internal("branch head missing"))?;
        let staged = txn.open_table(STAGED)?;
        let trees = txn.open_table(TREES)?;
        let uncommitted = Uncommitted { staged: &staged, trees: &trees, repo, branch, tree: &head.meta_range_id };
        let mut cursor = start(q);
        let mut out = Vec::new();
        while out.len() <= q.amount {
            let Some((path, kind, size)) = uncommitted.next(&cursor)? else { break };
            cursor = Cursor::After(path.clone());
            if path == q.after {
                continue;
            }
            if !path.starts_with(q.prefix) {
                break;
            }
            let rest = &path[q.prefix.len()..];
            match rest.find(q.delimiter).filter(|_| !q.delimiter.is_empty()) {
                Some(i) => {
                    let common = path[..q.prefix.len() + i + q.delimiter.len()].to_string();
                    cursor = past(&common);
                    out.push(Change::CommonPrefix(common));
                }
                None => out.push(Change::Object(path, kind, size)),
            }
        }
        let more = out.len() > q.amount;
        out.truncate(q.amount);
        Ok((out, more))
    }
}

/// The staged entries of a branch that differ from its head commit, in path order.
struct Uncommitted<'t, S, T> {
    staged: &'t S,
    trees: &'t T,
    repo: &'t str,
    branch: &'t str,
    tree: &'t str,
}

impl<S, T> Uncommitted<'_, S, T>
where
    S: ReadableTable<&'static str, &'static [u8]>,
    T: ReadableTable<&'static str, &'static [u8]>,
{
    /// The first change at or after `cursor`: path, kind and size.
    fn next(&self, cursor: &Cursor) -> ApiResult<Option<(String, &'static str, i64)>> {
        let key_prefix = key3(self.repo, self.branch, "");
        let mut cursor = cursor.clone();
        loop {
            let Some((path, value)) = first_under(self.staged, &key_prefix, "", &cursor)? else { return Ok(None) };
            let staged: Option<Entry> = from_json(&value)?;
            let committed: Option<Entry> = super::meta::get_json(self.trees, &key3(self.repo, self.tree, &path))?;
            let change = match (&staged, &committed) {
                (None, None) => None,
                (None, Some(_)) => Some(("removed", 0)),
                (Some(s), None) => Some(("added", s.size_bytes)),
                (Some(s), Some(c)) if s.same_identity(c) => None,
                (Some(s), Some(_)) => Some(("changed", s.size_bytes)),
            };
            if let Some((kind, size)) = change {
                return Ok(Some((path, kind, size)));
            }
            cursor = Cursor::After(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::WriteCondition;
    use lakefs_api::dto::{CommitCreation, Repository};

    fn entry(tag: &str) -> Entry {
        Entry {
            physical_address: format!("local://ns/{tag}"),
            checksum: tag.into(),
            size_bytes: tag.len() as i64,
            mtime: 1,
            content_type: "application/octet-stream".into(),
            metadata: Default::default(),
        }
    }

    fn diff(meta: &Meta, prefix: &str, delimiter: &str, after: &str, amount: usize) -> (Vec<Change>, bool) {
        meta.diff_branch("repo", "main", &DiffQuery { prefix, delimiter, after, amount }).unwrap()
    }

    /// Commits `same`, `gone`, `edit`, `d/keep`; then stages `same` again (same identity),
    /// changes `edit`, adds `d/new`, `d/e/f`, `new`, deletes `gone`.
    fn dirty(meta: &Meta) {
        let repo = Repository {
            id: "repo".into(),
            creation_date: 1,
            default_branch: "main".into(),
            storage_namespace: "local://repo".into(),
            storage_id: None,
            read_only: Some(false),
        };
        meta.create_repository(repo).unwrap();
        let stage = |p: &str, e: Entry| meta.stage("repo", "main", p, &e, WriteCondition::None, false).unwrap();
        for p in ["same", "gone", "edit", "d/keep"] {
            stage(p, entry(p));
        }
        meta.commit("repo", "main", &CommitCreation { message: "c".into(), ..Default::default() }, "u").unwrap();
        // the same identity at another address is no change
        stage("same", Entry { physical_address: "local://ns/elsewhere".into(), mtime: 9, ..entry("same") });
        stage("edit", entry("edited"));
        stage("d/new", entry("d/new"));
        stage("d/e/f", entry("x"));
        stage("new", entry("new"));
        meta.delete_entries("repo", "main", &["gone".into()], false).unwrap();
    }

    #[test]
    fn changes_compare_by_identity_and_group_by_delimiter() {
        let dir = tempfile::tempdir().unwrap();
        let meta = Meta::open(&dir.path().join("m.redb")).unwrap();
        dirty(&meta);
        let all = diff(&meta, "", "", "", 100).0;
        let expected = vec![
            Change::Object("d/e/f".into(), "added", 1),
            Change::Object("d/new".into(), "added", 5),
            Change::Object("edit".into(), "changed", 6),
            Change::Object("gone".into(), "removed", 0),
            Change::Object("new".into(), "added", 3),
        ];
        assert_eq!(all, expected);
        let grouped = diff(&meta, "", "/", "", 100).0;
        assert_eq!(grouped[0], Change::CommonPrefix("d/".into()));
        assert_eq!(grouped.len(), 4);
        assert_eq!(diff(&meta, "d/", "/", "", 100).0, [Change::CommonPrefix("d/e/".into()), expected[1].clone()]);
        // after a path inside a common prefix, the prefix comes again (lakeFS seeks past `after`)
        assert_eq!(diff(&meta, "", "/", "d/e/f", 1), (vec![Change::CommonPrefix("d/".into())], true));
        assert_eq!(diff(&meta, "", "/", "d/", 100).0.len(), 3);
        assert_eq!(diff(&meta, "", "", "edit", 2), (vec![expected[3].clone(), expected[4].clone()], false));
        let e = meta.diff_branch("repo", "nope", &DiffQuery { prefix: "", delimiter: "", after: "", amount: 1 });
        assert_eq!(e.unwrap_err().to_string(), "branch not found");
        let e = meta.diff_branch("repo", "a.b", &DiffQuery { prefix: "", delimiter: "", after: "", amount: 1 });
        assert_eq!(e.unwrap_err().to_string(), "argument branch: branch id: invalid value: validation error");
    }
}
