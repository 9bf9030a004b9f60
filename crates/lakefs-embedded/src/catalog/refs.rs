//! Ref expressions and tags of the embedded server, as lakeFS v1.84.0 resolves them
//! (`pkg/graveler/ref/parse_ref.go` `ParseRef`, `resolve_ref.go` `ResolveRawRef`, `revResolve`;
//! tags: `pkg/catalog/catalog.go` `CreateTag`/`GetTag`/`ListTags`/`DeleteTag`,
//! `pkg/graveler/graveler.go` `CreateTag`/`DeleteTag`, `pkg/graveler/validate.go` `ValidateTagID`).
//!
//! A ref is a base followed by modifiers: `~N` (N-th first-parent ancestor, N defaults to 1), `^N`
//! (N-th parent, `^0` the commit itself), `@` (a branch's committed state, alone only) and `$` (a
//! branch's staging area). The base is tried as a full commit id, a branch, a tag, then a commit id
//! prefix of any length (1–64 hex digits, case-sensitive, unique).

use super::meta::*;
use crate::error::{ApiError, ApiResult};
use lakefs_api::dto::{Commit, Ref, Repository};
use redb::{ReadTransaction, ReadableTable};

/// lakeFS's `graveler.ErrInvalidRef` text.
pub const INVALID_REF: &str = "ref: invalid value: validation error";

/// One ref modifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Modifier {
    Tilde(i64),
    Caret(i64),
    At,
    Dollar,
}

/// A parsed ref: the base name and its modifiers, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawRef {
    pub base: String,
    pub modifiers: Vec<Modifier>,
}

fn is_modifier(c: char) -> bool {
    matches!(c, '~' | '^' | '@' | '$')
}

fn invalid_ref() -> ApiError {
    ApiError::bad_request(INVALID_REF)
}

/// lakeFS's `ParseRef`: the parts of `(^|[~^@$])[^^~@$]*`, the first being the base.
pub fn parse_ref(reference: &str) -> ApiResult<RawRef> {
    let base_end = reference.find(is_modifier).unwrap_or(reference.len());
    if base_end == 0 {
        return Err(invalid_ref());
    }
    let mut modifiers = Vec::new();
    let mut rest = &reference[base_end..];
    while let Some(kind) = rest.chars().next() {
        let end = rest[1..].find(is_modifier).map_or(rest.len(), |i| i + 1);
        let (part, tail) = rest.split_at(end);
        rest = tail;
        let digits = &part[1..];
        let modifier = match kind {
            '@' | '$' if !digits.is_empty() => return Err(invalid_ref()),
            '@' => Modifier::At,
            '$' => Modifier::Dollar,
            _ => {
                let amount = if digits.is_empty() {
                    1
                } else {
                    go_atoi(digits).ok_or_else(|| {
                        ApiError::bad_request(format!("could not parse modifier {part}: {INVALID_REF}"))
                    })?
                };
                if kind == '~' { Modifier::Tilde(amount) } else { Modifier::Caret(amount) }
            }
        };
        modifiers.push(modifier);
    }
    Ok(RawRef { base: reference[..base_end].to_string(), modifiers })
}

/// Go's `strconv.Atoi`: an optional sign and decimal digits, in range of a 64-bit int.
fn go_atoi(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// lakeFS's `ValidateTagID` (git's check-ref-format, `~` allowed): `None` when valid, else the
/// message lakeFS answers.
pub fn tag_id_error(tag: &str) -> Option<String> {
    if tag.is_empty() {
        return Some("argument tagID: required value: validation error".into());
    }
    let bad = tag == "@"
        || tag.ends_with('.')
        || tag.ends_with(".lock")
        || tag.contains("..")
        || tag.contains('/')
        || tag.contains("@{")
        || tag.contains(['^', ':', '?', '*', '[', '\\'])
        || tag.chars().any(|c| (c as u32) <= 0x20);
    bad.then(|| "argument tagID: tag id: invalid value: validation error".into())
}

/// What a ref names: a branch (reads see its staged changes), a branch's staging area (`branch$`:
/// reads as the branch, but no commit where one is needed) or a bare commit.
#[derive(Debug, Clone)]
pub enum Resolved {
    Branch { name: String, commit: Commit },
    Staging { name: String, commit: Commit },
    Commit(Commit),
}

impl Resolved {
    pub fn commit(&self) -> &Commit {
        match self {
            Resolved::Branch { commit, .. } | Resolved::Staging { commit, .. } | Resolved::Commit(commit) => commit,
        }
    }

    pub fn branch(&self) -> Option<&str> {
        match self {
            Resolved::Branch { name, .. } | Resolved::Staging { name, .. } => Some(name),
            Resolved::Commit(_) => None,
        }
    }

    /// The commit, or `refused` for a staging area (`branch$`), as lakeFS's `dereferenceCommit`
    /// and `dereferenceCommitID` refuse it wherever a commit is needed.
    pub fn needs_commit(&self, refused: impl FnOnce() -> ApiError) -> ApiResult<&Commit> {
        match self {
            Resolved::Staging { .. } => Err(refused()),
            _ => Ok(self.commit()),
        }
    }
}

/// The base of a ref as lakeFS's `revResolve` finds it.
enum Base {
    Branch(String, String),
    Tag(String),
    Commit(String),
}

impl Base {
    fn commit_id(&self) -> &str {
        match self {
            Base::Branch(_, c) | Base::Tag(c) | Base::Commit(c) => c,
        }
    }
}

fn is_hash(s: &str) -> bool {
    (1..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// lakeFS's `revResolve`: full commit id, then branch, tag, and a unique commit id prefix.
fn rev_resolve(txn: &ReadTransaction, repo: &str, rev: &str) -> ApiResult<Base> {
    let commits = txn.open_table(COMMITS)?;
    if rev.len() == 64 && is_hash(rev) && commits.get(key2(repo, rev).as_str())?.is_some() {
        return Ok(Base::Commit(rev.to_string()));
    }
    if let Some(head) = txn.open_table(BRANCHES)?.get(key2(repo, rev).as_str())? {
        return Ok(Base::Branch(rev.to_string(), head.value().to_string()));
    }
    if let Some(commit) = txn.open_table(TAGS)?.get(key2(repo, rev).as_str())? {
        return Ok(Base::Tag(commit.value().to_string()));
    }
    if is_hash(rev) && rev.len() < 64 {
        let prefix = key2(repo, rev);
        let mut found = None;
        for item in commits.range::<&str>(prefix.as_str()..)? {
            let (k, _) = item?;
            let Some(id) = k.value().strip_prefix(prefix.as_str()).map(|s| format!("{rev}{s}")) else {
                break;
            };
            if found.is_some() {
                // lakeFS: more than one commit starts with the prefix → not found
                return Err(ApiError::not_found("not found"));
            }
            found = Some(id);
        }
        if let Some(id) = found {
            return Ok(Base::Commit(id));
        }
    }
    Err(ApiError::not_found("not found"))
}

fn load_commit(txn: &ReadTransaction, repo: &str, id: &str) -> ApiResult<Commit> {
    get_json(&txn.open_table(COMMITS)?, &key2(repo, id))?.ok_or_else(|| ApiError::not_found("commit not found"))
}

/// Resolves the ref expression `reference` in `repo` as lakeFS's `Dereference` does. A plain
/// branch resolves to the branch (reads see its staged changes); everything else, `branch@`
/// included, to a commit.
pub(crate) fn resolve(txn: &ReadTransaction, repo: &str, reference: &str) -> ApiResult<(Repository, Resolved)> {
    let repository = ensure_repo(txn, repo)?;
    let raw = parse_ref(reference)?;
    let base = rev_resolve(txn, repo, &raw.base)?;
    if raw.modifiers.is_empty() {
        let commit = load_commit(txn, repo, base.commit_id())?;
        let resolved = match base {
            Base::Branch(name, _) => Resolved::Branch { name, commit },
            _ => Resolved::Commit(commit),
        };
        return Ok((repository, resolved));
    }
    let mut current = base.commit_id().to_string();
    for m in &raw.modifiers {
        match *m {
            Modifier::At | Modifier::Dollar => {
                if !matches!(base, Base::Branch(..)) || raw.modifiers.len() != 1 {
                    return Err(invalid_ref());
                }
                if let (Modifier::Dollar, Base::Branch(name, head)) = (m, &base) {
                    // lakeFS `ResolveRawRef`: the branch's staging token over its head commit
                    let commit = load_commit(txn, repo, head)?;
                    return Ok((repository, Resolved::Staging { name: name.clone(), commit }));
                }
            }
            Modifier::Tilde(n) => {
                for _ in 0..n.max(0) {
                    let commit = load_commit(txn, repo, &current)?;
                    current = commit.parents.first().cloned().ok_or_else(|| ApiError::not_found("not found"))?;
                }
            }
            Modifier::Caret(0) => {}
            Modifier::Caret(n) => {
                let commit = load_commit(txn, repo, &current)?;
                let i = usize::try_from(n - 1).map_err(|_| invalid_ref())?;
                current = commit.parents.get(i).cloned().ok_or_else(invalid_ref)?;
            }
        }
    }
    Ok((repository, Resolved::Commit(load_commit(txn, repo, &current)?)))
}

fn check_repo_id(repo: &str) -> ApiResult<()> {
    if super::valid_repo_name(repo) {
        Ok(())
    } else {
        Err(ApiError::bad_request("argument repository: repository id: invalid value: validation error"))
    }
}

fn check_tag_id(tag: &str) -> ApiResult<()> {
    tag_id_error(tag).map_or(Ok(()), |m| Err(ApiError::bad_request(m)))
}

fn tag_not_found() -> ApiError {
    ApiError::not_found("tag not found")
}

impl Meta {
    /// `createTag`: the tag points at the commit `reference` resolves to; returns that commit id.
    /// lakeFS's order: ids (400), repository (404), a branch of that name (409), a commit with that
    /// id (409), the ref (400/404), read-only (403), an existing tag (409).
    pub fn create_tag(&self, repo: &str, tag: &str, reference: &str, force: bool) -> ApiResult<String> {
        check_repo_id(repo)?;
        check_tag_id(tag)?;
        let txn = self.db.begin_write()?;
        let commit_id = {
            let repository: Repository =
                get_json(&txn.open_table(REPOS)?, repo)?.ok_or_else(|| ApiError::not_found("repository not found"))?;
            if txn.open_table(BRANCHES)?.get(key2(repo, tag).as_str())?.is_some() {
                return Err(ApiError::Conflict(format!("branch name {tag}: conflict found")));
            }
            if txn.open_table(COMMITS)?.get(key2(repo, tag).as_str())?.is_some() {
                return Err(ApiError::Conflict(format!("commit ID {tag}: conflict found")));
            }
            let commit_id = {
                let read = self.db.begin_read()?;
                let refused = || ApiError::bad_request(format!("{INVALID_REF}: should point to a commit"));
                resolve(&read, repo, reference)?.1.needs_commit(refused)?.id.clone()
            };
            if repository.read_only == Some(true) && !force {
                return Err(ApiError::Forbidden("read-only repository".into()));
            }
            let mut tags = txn.open_table(TAGS)?;
            if tags.get(key2(repo, tag).as_str())?.is_some() {
                return Err(ApiError::Conflict("tag already exists: not unique".into()));
            }
            tags.insert(key2(repo, tag).as_str(), commit_id.as_str())?;
            commit_id
        };
        txn.commit()?;
        Ok(commit_id)
    }

    /// `getTag`.
    pub fn get_tag(&self, repo: &str, tag: &str) -> ApiResult<Ref> {
        check_repo_id(repo)?;
        check_tag_id(tag)?;
        let txn = self.db.begin_read()?;
        ensure_repo(&txn, repo)?;
        let commit = txn.open_table(TAGS)?.get(key2(repo, tag).as_str())?.map(|v| v.value().to_string());
        Ok(Ref { id: tag.to_string(), commit_id: commit.ok_or_else(tag_not_found)? })
    }

    /// `listTags`: `(page, has_more)`, by tag id.
    pub fn list_tags(&self, repo: &str, prefix: &str, after: &str, amount: usize) -> ApiResult<(Vec<Ref>, bool)> {
        check_repo_id(repo)?;
        let txn = self.db.begin_read()?;
        ensure_repo(&txn, repo)?;
        let table = txn.open_table(TAGS)?;
        let key_prefix = key2(repo, "");
        let start = key2(repo, prefix.max(after));
        let mut out = Vec::new();
        for item in table.range::<&str>(start.as_str()..)? {
            let (k, v) = item?;
            let Some(id) = k.value().strip_prefix(key_prefix.as_str()) else { break };
            if id == after {
                continue;
            }
            if !id.starts_with(prefix) {
                break;
            }
            out.push(Ref { id: id.to_string(), commit_id: v.value().to_string() });
            if out.len() > amount {
                break;
            }
        }
        let more = out.len() > amount;
        out.truncate(amount);
        Ok((out, more))
    }

    /// `deleteTag`: ids (400), repository (404), read-only (403), the tag (404).
    pub fn delete_tag(&self, repo: &str, tag: &str, force: bool) -> ApiResult<()> {
        check_repo_id(repo)?;
        check_tag_id(tag)?;
        let txn = self.db.begin_write()?;
        {
            let repository: Repository =
                get_json(&txn.open_table(REPOS)?, repo)?.ok_or_else(|| ApiError::not_found("repository not found"))?;
            if repository.read_only == Some(true) && !force {
                return Err(ApiError::Forbidden("read-only repository".into()));
            }
            let mut tags = txn.open_table(TAGS)?;
            if tags.remove(key2(repo, tag).as_str())?.is_none() {
                return Err(tag_not_found());
            }
        }
        txn.commit()?;
        Ok(())
    }
}

/// Whether `repo` has a tag `tag` (a new branch may not take its name).
pub(crate) fn tag_exists(txn: &ReadTransaction, repo: &str, tag: &str) -> ApiResult<bool> {
    Ok(txn.open_table(TAGS)?.get(key2(repo, tag).as_str())?.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use Modifier::*;

    fn parsed(r: &str) -> (String, Vec<Modifier>) {
        let raw = parse_ref(r).unwrap();
        (raw.base, raw.modifiers)
    }

    #[test]
    fn expressions_parse_as_lakefs_parses_them() {
        assert_eq!(parsed("main"), ("main".into(), vec![]));
        assert_eq!(parsed("v1.2"), ("v1.2".into(), vec![]));
        assert_eq!(parsed("main~"), ("main".into(), vec![Tilde(1)]));
        assert_eq!(parsed("main~2^2"), ("main".into(), vec![Tilde(2), Caret(2)]));
        assert_eq!(parsed("main^^"), ("main".into(), vec![Caret(1), Caret(1)]));
        assert_eq!(parsed("main^0"), ("main".into(), vec![Caret(0)]));
        assert_eq!(parsed("main@"), ("main".into(), vec![At]));
        assert_eq!(parsed("main$"), ("main".into(), vec![Dollar]));
        assert_eq!(parsed("abc123~+3"), ("abc123".into(), vec![Tilde(3)]));
        assert_eq!(parsed("main~-1"), ("main".into(), vec![Tilde(-1)]));
        assert_eq!(parsed("a@~1"), ("a".into(), vec![At, Tilde(1)]));
    }

    #[test]
    fn malformed_expressions_are_invalid_refs() {
        for bad in ["", "~1", "^", "@", "main@1", "main$x", "main~x", "main~1x", "main^-", "main~99999999999999999999"]
        {
            let e = parse_ref(bad).unwrap_err();
            assert!(matches!(e, ApiError::BadRequest(_)), "{bad}");
            assert!(e.to_string().ends_with(INVALID_REF), "{bad}: {e}");
        }
        assert_eq!(parse_ref("main~x").unwrap_err().to_string(), format!("could not parse modifier ~x: {INVALID_REF}"));
    }

    #[test]
    fn tag_ids_follow_git_check_ref_format() {
        for good in ["v1.2", "v1", "release-2024_01", "a~b", "x@y", "ünï"] {
            assert_eq!(tag_id_error(good), None, "{good}");
        }
        for bad in
            ["@", "v1.", "a.lock", "a..b", "a/b", "a@{b", "a^b", "a:b", "a?b", "a*b", "a[b", "a\\b", "a b", "a\tb"]
        {
            assert_eq!(tag_id_error(bad).as_deref(), Some("argument tagID: tag id: invalid value: validation error"));
        }
        assert_eq!(tag_id_error("").as_deref(), Some("argument tagID: required value: validation error"));
    }
}
