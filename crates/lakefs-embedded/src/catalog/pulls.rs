//! Pull requests of the embedded server (lakeFS API, experimental: `createPullRequest`,
//! `getPullRequest`, `listPullRequests`, `updatePullRequest`; merging is `mergePullRequest` in the
//! API layer, on top of [`super::merge`]). As lakeFS (`pkg/catalog`): ids decrease with time (a
//! listing is newest first), both branches must exist and differ, `status` filters `open` (open
//! only), `closed` (closed and merged) or all; a closed or merged pull request is not reopened,
//! and `closed_date` is set when one closes or merges.

use super::meta::*;
use crate::error::{ApiError, ApiResult};
use lakefs_api::workflow_dto::{PullRequest, PullRequestBasic, PullRequestCreation};
use redb::ReadableTable;

fn not_found() -> ApiError {
    ApiError::not_found("pull request not found")
}

/// A 20-character id (base32hex, like lakeFS's xids) that sorts newest first.
pub(crate) fn new_xid() -> String {
    const DIGITS: &[u8; 32] = b"0123456789abcdefghijklmnopqrstuv";
    let year_3000 = 32_503_680_000u64;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let countdown = (year_3000 * 1000).saturating_sub(now.as_millis() as u64);
    let mut bytes = [0u8; 12];
    bytes[..6].copy_from_slice(&countdown.to_be_bytes()[2..]);
    bytes[6..].copy_from_slice(&rand::random::<[u8; 6]>());
    let mut bits: u128 = 0;
    for b in bytes {
        bits = bits << 8 | u128::from(b);
    }
    (0..20).rev().map(|i| DIGITS[((bits << 4 >> (i * 5)) & 31) as usize] as char).collect()
}

/// RFC 3339 of now (`2026-11-21T20:49:53Z`).
pub(crate) fn now_rfc3339() -> String {
    let s = lakegate_net::util::format_iso8601(std::time::SystemTime::now());
    format!("{}Z", &s[..19])
}

impl Meta {
    /// `createPullRequest`: the new pull request's id.
    pub fn create_pull(&self, repo: &str, req: &PullRequestCreation, author: &str) -> ApiResult<String> {
        if req.source_branch == req.destination_branch {
            return Err(ApiError::bad_request("source and destination branches are the same"));
        }
        if req.title.is_empty() {
            return Err(ApiError::bad_request("title: required"));
        }
        let txn = self.db.begin_write()?;
        let id = new_xid();
        {
            ensure_repo_write(&txn, repo)?;
            let branches = txn.open_table(BRANCHES)?;
            for b in [&req.source_branch, &req.destination_branch] {
                if branches.get(key2(repo, b).as_str())?.is_none() {
                    return Err(ApiError::not_found("branch not found"));
                }
            }
            let pull = PullRequest {
                id: id.clone(),
                status: "open".into(),
                title: req.title.clone(),
                description: req.description.clone().unwrap_or_default(),
                creation_date: now_rfc3339(),
                author: author.to_string(),
                source_branch: req.source_branch.clone(),
                destination_branch: req.destination_branch.clone(),
                merged_commit_id: None,
                closed_date: None,
            };
            txn.open_table(PULLS)?.insert(key2(repo, &id).as_str(), to_json(&pull)?.as_slice())?;
        }
        txn.commit()?;
        Ok(id)
    }

    /// `getPullRequest`.
    pub fn get_pull(&self, repo: &str, id: &str) -> ApiResult<PullRequest> {
        let txn = self.db.begin_read()?;
        ensure_repo(&txn, repo)?;
        get_json(&txn.open_table(PULLS)?, &key2(repo, id))?.ok_or_else(not_found)
    }

    /// `listPullRequests`: newest first, ids after `after` starting with `prefix`, by `status`.
    pub fn list_pulls(
        &self,
        repo: &str,
        (prefix, after): (&str, &str),
        status: &str,
        amount: usize,
    ) -> ApiResult<(Vec<PullRequest>, bool)> {
        let txn = self.db.begin_read()?;
        ensure_repo(&txn, repo)?;
        let pulls = txn.open_table(PULLS)?;
        let start = key2(repo, prefix.max(after));
        let mut out = Vec::new();
        for item in pulls.range::<&str>(start.as_str()..)? {
            let (k, v) = item?;
            let Some(id) = k.value().strip_prefix(key2(repo, "").as_str()) else { break };
            if !id.starts_with(prefix) {
                break;
            }
            if id <= after {
                continue;
            }
            let pull: PullRequest = from_json(v.value())?;
            let wanted = match status {
                "open" => pull.status == "open",
                "closed" => pull.status != "open",
                _ => true,
            };
            if wanted {
                out.push(pull);
                if out.len() > amount {
                    break;
                }
            }
        }
        let more = out.len() > amount;
        out.truncate(amount);
        Ok((out, more))
    }

    /// `updatePullRequest`: title, description, and closing (`status: closed`).
    pub fn update_pull(&self, repo: &str, id: &str, upd: &PullRequestBasic) -> ApiResult<()> {
        self.change_pull(repo, id, |pull| {
            match upd.status.as_deref() {
                None => {}
                Some(s) if s == pull.status => {}
                Some("closed") if pull.status == "open" => {
                    pull.status = "closed".into();
                    pull.closed_date = Some(now_rfc3339());
                }
                Some("open") => {
                    return Err(ApiError::bad_request(
                        "bad pull request status: a closed pull request is not reopened",
                    ));
                }
                Some("merged") => {
                    return Err(ApiError::bad_request("bad pull request status: merge it with mergePullRequest"));
                }
                Some(other) => return Err(ApiError::bad_request(format!("bad pull request status: {other}"))),
            }
            if let Some(t) = &upd.title {
                pull.title = t.clone();
            }
            if let Some(d) = &upd.description {
                pull.description = d.clone();
            }
            Ok(())
        })
    }

    /// Marks an open pull request merged as `commit_id`.
    pub fn set_pull_merged(&self, repo: &str, id: &str, commit_id: &str) -> ApiResult<()> {
        self.change_pull(repo, id, |pull| {
            if pull.status != "open" {
                return Err(ApiError::bad_request("bad pull request status"));
            }
            pull.status = "merged".into();
            pull.merged_commit_id = Some(commit_id.to_string());
            pull.closed_date = Some(now_rfc3339());
            Ok(())
        })
    }

    fn change_pull(&self, repo: &str, id: &str, f: impl FnOnce(&mut PullRequest) -> ApiResult<()>) -> ApiResult<()> {
        let txn = self.db.begin_write()?;
        {
            ensure_repo_write(&txn, repo)?;
            let mut pulls = txn.open_table(PULLS)?;
            let key = key2(repo, id);
            let mut pull: PullRequest = get_json(&pulls, &key)?.ok_or_else(not_found)?;
            f(&mut pull)?;
            pulls.insert(key.as_str(), to_json(&pull)?.as_slice())?;
        }
        txn.commit()?;
        Ok(())
    }
}

fn ensure_repo_write(txn: &redb::WriteTransaction, repo: &str) -> ApiResult<()> {
    let found: Option<lakefs_api::dto::Repository> = get_json(&txn.open_table(REPOS)?, repo)?;
    found.map(|_| ()).ok_or_else(|| ApiError::not_found("repository not found"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_xid_shaped_and_newer_sort_first() {
        let a = new_xid();
        std::thread::sleep(std::time::Duration::from_millis(5));
        let b = new_xid();
        assert_eq!(a.len(), 20);
        assert!(a.chars().all(|c| c.is_ascii_digit() || ('a'..='v').contains(&c)), "{a}");
        assert!(b < a, "newer first: {b} < {a}");
        assert!(now_rfc3339().ends_with('Z') && now_rfc3339().len() == 20);
    }
}
