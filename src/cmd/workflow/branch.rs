//! `lakegate branch reset --hard REF REPO/BRANCH`: lakeFS `hardResetBranch`, refused — as lakectl
//! does — while the branch has uncommitted changes (lakeFS's server would keep them staged on top
//! of the new head, which is rarely what "hard" means).

use super::{Conn, WorkflowError, split_target};

#[derive(Debug, clap::Subcommand)]
pub enum BranchCommand {
    /// Point a branch at another commit (needs --hard): what the branch had committed after it
    /// is no longer on the branch.
    Reset {
        /// REPOSITORY/BRANCH to move.
        target: String,
        /// The ref (commit id, branch) to point the branch at.
        #[arg(long, value_name = "REF")]
        hard: String,
        #[command(flatten)]
        conn: Conn,
    },
}

/// Runs a `branch` command.
pub async fn run(cmd: BranchCommand) -> Result<(), WorkflowError> {
    let BranchCommand::Reset { target, hard, conn } = cmd;
    let (repo, branch, path) = split_target(&target)?;
    if !path.is_empty() {
        return Err(WorkflowError::Usage(format!("{target:?}: name a branch, not a path")));
    }
    let c = conn.client()?;
    let dirty = c.diff_branch(&repo, &branch, Some(1)).await?;
    if !dirty.results.is_empty() {
        return Err(WorkflowError::Usage(format!(
            "branch {repo}/{branch} has uncommitted changes (e.g. {}): commit or discard them first; a hard reset would leave them staged",
            dirty.results[0].path
        )));
    }
    c.hard_reset_branch(&repo, &branch, &hard).await?;
    let head = c.get_branch(&repo, &branch).await?.commit_id;
    let out = serde_json::json!({"repository": repo, "branch": branch, "commit_id": head});
    conn.emit(&out, || format!("{repo}/{branch} now at {head}"));
    Ok(())
}
