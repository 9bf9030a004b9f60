//! Publish on success (opt-in, per repository): when a job's output committer writes `_SUCCESS`
//! (Hadoop's and Spark's marker of a committed job) on a branch matching a rule, lakegate commits
//! the branch, opens a pull request into the rule's destination and, with `merge=auto`, merges
//! it — in the background, as the identity that wrote the marker. A merge that fails (conflict)
//! leaves the pull request open and the job's branch untouched. A failed job — `DeleteBucket` of
//! `repo.<branch>` (what S3 cleanup of a job's bucket looks like) — with `on_failure=delete`
//! deletes the branch even with uncommitted data, with `on_failure=reset` puts it back at the
//! destination's head with nothing staged. Every action is logged (target `lakegate::publish`) and
//! counted (`lakegate_publish_actions_total{action,result}`).
//!
//! Rules: `--publish-rule "repo=demo,branch=job-*,into=main,merge=auto,on_failure=delete"`
//! (repeatable; a list in the config file).

use lakefs_api::dto::CommitCreation;
use lakefs_api::workflow_dto::PullRequestCreation;
use lakefs_api::{LakeFsClient, LakeFsError};

/// The marker Hadoop/Spark output committers write when a job commits.
pub const SUCCESS_MARKER: &str = "_SUCCESS";

/// What a failed job's branch becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnFailure {
    /// S3's own behaviour: `BucketNotEmpty` while the branch has uncommitted data.
    Keep,
    Delete,
    Reset,
}

/// One `--publish-rule`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishRule {
    pub repo: String,
    /// Branch glob (`*` matches any run of characters).
    pub branch: String,
    pub into: String,
    pub auto_merge: bool,
    pub on_failure: OnFailure,
}

impl std::str::FromStr for PublishRule {
    type Err = String;

    fn from_str(s: &str) -> Result<PublishRule, String> {
        let mut rule = PublishRule {
            repo: String::new(),
            branch: String::new(),
            into: String::new(),
            auto_merge: false,
            on_failure: OnFailure::Keep,
        };
        for field in s.split(',').map(str::trim).filter(|f| !f.is_empty()) {
            let (k, v) = field.split_once('=').ok_or_else(|| format!("{field:?}: expected key=value"))?;
            match (k.trim(), v.trim()) {
                ("repo", v) => rule.repo = v.into(),
                ("branch", v) => rule.branch = v.into(),
                ("into", v) => rule.into = v.into(),
                ("merge", "auto") => rule.auto_merge = true,
                ("merge", "manual") => rule.auto_merge = false,
                ("on_failure", "keep") => rule.on_failure = OnFailure::Keep,
                ("on_failure", "delete") => rule.on_failure = OnFailure::Delete,
                ("on_failure", "reset") => rule.on_failure = OnFailure::Reset,
                (k, v) => {
                    return Err(format!(
                        "{k}={v}: unknown (repo, branch, into, merge=auto|manual, on_failure=keep|delete|reset)"
                    ));
                }
            }
        }
        for (name, value) in [("repo", &rule.repo), ("branch", &rule.branch), ("into", &rule.into)] {
            if value.is_empty() {
                return Err(format!("{name}= is required"));
            }
        }
        if glob(&rule.branch, &rule.into) {
            return Err(format!(
                "branch={} matches into={}: a rule must not publish its destination",
                rule.branch, rule.into
            ));
        }
        Ok(rule)
    }
}

/// Whether `name` matches `pattern` (`*` = any run of characters).
pub fn glob(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((head, rest)) => {
            let Some(tail) = name.strip_prefix(head) else { return false };
            (0..=tail.len()).filter(|i| tail.is_char_boundary(*i)).any(|i| glob(rest, &tail[i..]))
        }
    }
}

/// The rules of a gateway.
#[derive(Debug, Clone, Default)]
pub struct PublishRules(pub Vec<PublishRule>);

impl PublishRules {
    /// The rule for `repo`'s `branch`, if any.
    pub fn find(&self, repo: &str, branch: &str) -> Option<&PublishRule> {
        self.0.iter().find(|r| (r.repo == repo || r.repo == "*") && glob(&r.branch, branch))
    }
}

fn count(action: &str, result: &str) {
    crate::metrics::metrics().publish_action(action, result);
}

/// After a successful PutObject of `path` on `repo`/`branch`: publishes when it is a `_SUCCESS`
/// marker on a branch with a rule (in a background task; the PUT answers at once).
pub fn after_put(rules: &PublishRules, lakefs: &LakeFsClient, repo: &str, branch: &str, path: &str) {
    let is_marker = path.rsplit('/').next() == Some(SUCCESS_MARKER);
    let Some(rule) = rules.find(repo, branch).filter(|_| is_marker) else { return };
    let (rule, lakefs, repo, branch, path) =
        (rule.clone(), lakefs.clone(), repo.to_string(), branch.to_string(), path.to_string());
    tokio::spawn(async move {
        if let Err(e) = publish(&rule, &lakefs, &repo, &branch, &path).await {
            tracing::warn!(target: "lakegate::publish", repo, branch, error = %e, "publish on success failed; the branch keeps the job's data");
        }
    });
}

async fn publish(
    rule: &PublishRule,
    c: &LakeFsClient,
    repo: &str,
    branch: &str,
    marker: &str,
) -> Result<(), LakeFsError> {
    let message = format!("{branch}: job output ({marker} written)");
    let mut metadata = std::collections::BTreeMap::new();
    metadata.insert("lakegate.publish.marker".to_string(), marker.to_string());
    let creation = CommitCreation { message, metadata: Some(metadata), ..Default::default() };
    match c.commit(repo, branch, &creation).await {
        Ok(commit) => {
            count("commit", "ok");
            tracing::info!(target: "lakegate::publish", repo, branch, commit = %commit.id, "job branch committed");
        }
        Err(e) if e.status() == Some(http::StatusCode::BAD_REQUEST) => count("commit", "nothing_to_commit"),
        Err(e) => {
            count("commit", "error");
            return Err(e);
        }
    }
    let pr = PullRequestCreation {
        title: format!("Publish {branch}"),
        description: Some(format!("Opened by lakegate when {marker} was written on {branch}.")),
        source_branch: branch.to_string(),
        destination_branch: rule.into.clone(),
    };
    let id = c.create_pull_request(repo, &pr).await.inspect_err(|_| count("pull_request", "error"))?.id;
    count("pull_request", "ok");
    tracing::info!(target: "lakegate::publish", repo, branch, pull_request = %id, into = %rule.into, "pull request opened");
    if !rule.auto_merge {
        return Ok(());
    }
    match c.merge_pull_request(repo, &id).await {
        Ok(merged) => {
            count("merge", "ok");
            tracing::info!(target: "lakegate::publish", repo, branch, pull_request = %id, commit = %merged.reference, "pull request merged");
            Ok(())
        }
        Err(e) => {
            count("merge", if e.status() == Some(http::StatusCode::CONFLICT) { "conflict" } else { "error" });
            tracing::warn!(target: "lakegate::publish", repo, branch, pull_request = %id, error = %e, "merge failed: the pull request stays open");
            Ok(())
        }
    }
}

/// DeleteBucket of `repo.<branch>`: what the failed-job rule does instead, if one applies (`true`:
/// handled, answer 204).
pub async fn on_delete_bucket(
    rules: &PublishRules,
    c: &LakeFsClient,
    repo: &str,
    branch: &str,
) -> Result<bool, LakeFsError> {
    let Some(rule) = rules.find(repo, branch) else { return Ok(false) };
    match rule.on_failure {
        OnFailure::Keep => return Ok(false),
        OnFailure::Delete => {
            c.delete_branch(repo, branch).await.inspect_err(|_| count("delete_branch", "error"))?;
            count("delete_branch", "ok");
            tracing::info!(target: "lakegate::publish", repo, branch, "failed job: branch deleted");
        }
        OnFailure::Reset => {
            // discard uncommitted data and point the branch at the destination: recreate it there
            let head = c.get_branch(repo, &rule.into).await?.commit_id;
            c.delete_branch(repo, branch).await?;
            let creation = lakefs_api::dto::BranchCreation {
                name: branch.to_string(),
                source: head.clone(),
                ..Default::default()
            };
            c.create_branch(repo, &creation).await.inspect_err(|_| count("reset_branch", "error"))?;
            count("reset_branch", "ok");
            tracing::info!(target: "lakegate::publish", repo, branch, commit = %head, "failed job: branch reset to its destination");
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_parse_and_match() {
        let r: PublishRule = "repo=demo, branch=job-*, into=main, merge=auto, on_failure=reset".parse().unwrap();
        assert_eq!((r.repo.as_str(), r.branch.as_str(), r.into.as_str()), ("demo", "job-*", "main"));
        assert!(r.auto_merge && r.on_failure == OnFailure::Reset);
        assert!("repo=demo,branch=*,into=main".parse::<PublishRule>().unwrap_err().contains("must not publish"));
        assert!("repo=demo,into=main".parse::<PublishRule>().unwrap_err().contains("branch="));
        assert!("repo=demo,branch=j*,into=main,merge=later".parse::<PublishRule>().is_err());
        let rules = PublishRules(vec![r]);
        assert!(rules.find("demo", "job-1").is_some());
        assert!(rules.find("demo", "main").is_none() && rules.find("other", "job-1").is_none());
        assert!(glob("a*b*c", "axxbyyc") && !glob("a*b", "ab-") && glob("*", "") && glob("job-*", "job-"));
    }
}
