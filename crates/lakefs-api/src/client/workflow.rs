//! The workflow operations of [`LakeFsClient`] (lakeFS `api/swagger.yml`: `mergeIntoBranch`,
//! `hardResetBranch`, the pull request operations, `importStart`/`importStatus`/`importCancel`).

use super::*;
use crate::workflow_dto::*;

impl LakeFsClient {
    /// `mergeIntoBranch` (a conflict is `LakeFsError::Api` with status 409).
    pub async fn merge_into_branch(&self, repo: &str, source: &str, dest: &str, merge: &Merge) -> Result<MergeResult> {
        let path = format!("{}/merge/{}", Self::ref_path(repo, source), seg(dest));
        self.send_json(Method::POST, &path, merge, Idempotent::No).await
    }

    /// `hardResetBranch`: points `branch` at `reference` (lakeFS keeps staged changes: callers
    /// that must not lose them check `diff_branch` first).
    pub async fn hard_reset_branch(&self, repo: &str, branch: &str, reference: &str) -> Result<()> {
        let q = query(&[("ref", Some(reference.to_string()))]);
        self.send_empty(Method::PUT, &format!("{}/hard_reset{q}", Self::branch_path(repo, branch))).await
    }

    /// `listPullRequests` (`status`: `open`, `closed` or `all`).
    pub async fn list_pull_requests(
        &self,
        repo: &str,
        status: &str,
        after: &str,
        amount: Option<u32>,
    ) -> Result<PullRequestsList> {
        let q = query(&[
            ("status", nonempty(status)),
            ("after", nonempty(after)),
            ("amount", amount.map(|a| a.to_string())),
        ]);
        self.get_json(&format!("{}/pulls{q}", Self::repo_path(repo))).await
    }

    pub async fn create_pull_request(
        &self,
        repo: &str,
        creation: &PullRequestCreation,
    ) -> Result<PullRequestCreationResponse> {
        let path = format!("{}/pulls", Self::repo_path(repo));
        self.send_json(Method::POST, &path, creation, Idempotent::No).await
    }

    pub async fn get_pull_request(&self, repo: &str, id: &str) -> Result<PullRequest> {
        self.get_json(&format!("{}/pulls/{}", Self::repo_path(repo), seg(id))).await
    }

    /// `updatePullRequest` (200 without a body).
    pub async fn update_pull_request(&self, repo: &str, id: &str, update: &PullRequestBasic) -> Result<()> {
        let path = format!("{}/pulls/{}", Self::repo_path(repo), seg(id));
        let resp =
            self.send(Method::PATCH, &path, || json_body(update), &[json_header()], Idempotent::No, true).await?;
        self.collect(resp).await.map(drop)
    }

    pub async fn merge_pull_request(&self, repo: &str, id: &str) -> Result<MergeResult> {
        let path = format!("{}/pulls/{}/merge", Self::repo_path(repo), seg(id));
        let resp = self.send(Method::PUT, &path, || Ok(empty_body()), &[], Idempotent::No, true).await?;
        self.decode(resp).await
    }

    pub async fn import_start(
        &self,
        repo: &str,
        branch: &str,
        creation: &ImportCreation,
    ) -> Result<ImportCreationResponse> {
        let path = format!("{}/import", Self::branch_path(repo, branch));
        self.send_json(Method::POST, &path, creation, Idempotent::No).await
    }

    pub async fn import_status(&self, repo: &str, branch: &str, id: &str) -> Result<ImportStatus> {
        let q = query(&[("id", Some(id.to_string()))]);
        self.get_json(&format!("{}/import{q}", Self::branch_path(repo, branch))).await
    }

    pub async fn import_cancel(&self, repo: &str, branch: &str, id: &str) -> Result<()> {
        let q = query(&[("id", Some(id.to_string()))]);
        self.send_empty(Method::DELETE, &format!("{}/import{q}", Self::branch_path(repo, branch))).await
    }
}
