//! `lakegate pr create|list|show|update|merge`: lakeFS's pull requests (experimental API).

use super::{Conn, WorkflowError};
use lakefs_api::LakeFsError;
use lakefs_api::workflow_dto::{PullRequest, PullRequestBasic, PullRequestCreation};

#[derive(Debug, clap::Subcommand)]
pub enum PrCommand {
    /// Open a pull request from SOURCE into DEST.
    Create {
        repository: String,
        #[arg(long)]
        source: String,
        #[arg(long, alias = "destination")]
        dest: String,
        #[arg(long)]
        title: String,
        #[arg(long, default_value = "")]
        description: String,
        #[command(flatten)]
        conn: Conn,
    },
    /// List pull requests (newest first).
    List {
        repository: String,
        /// open, closed (closed and merged) or all.
        #[arg(long, default_value = "all", value_parser = ["open", "closed", "all"])]
        status: String,
        #[command(flatten)]
        conn: Conn,
    },
    /// Show one pull request.
    Show {
        repository: String,
        id: String,
        #[command(flatten)]
        conn: Conn,
    },
    /// Change a pull request's title or description, or close it.
    Update {
        repository: String,
        id: String,
        #[arg(long)]
        title: Option<String>,
        #[arg(long)]
        description: Option<String>,
        /// Close it (a closed pull request is not reopened).
        #[arg(long)]
        close: bool,
        #[command(flatten)]
        conn: Conn,
    },
    /// Merge a pull request (its source branch into its destination).
    Merge {
        repository: String,
        id: String,
        #[command(flatten)]
        conn: Conn,
    },
}

fn line(p: &PullRequest) -> String {
    format!("{}  {:<6}  {} → {}  {}", p.id, p.status, p.source_branch, p.destination_branch, p.title)
}

/// Runs a `pr` command.
pub async fn run(cmd: PrCommand) -> Result<(), WorkflowError> {
    match cmd {
        PrCommand::Create { repository, source, dest, title, description, conn } => {
            let creation = PullRequestCreation {
                title,
                description: Some(description),
                source_branch: source,
                destination_branch: dest,
            };
            let created = conn.client()?.create_pull_request(&repository, &creation).await?;
            conn.emit(&created, || format!("pull request {} opened", created.id));
        }
        PrCommand::List { repository, status, conn } => {
            let list = conn.client()?.list_pull_requests(&repository, &status, "", Some(1000)).await?;
            conn.emit(&list.results, || list.results.iter().map(line).collect::<Vec<_>>().join("\n"));
        }
        PrCommand::Show { repository, id, conn } => {
            let p = conn.client()?.get_pull_request(&repository, &id).await?;
            conn.emit(&p, || {
                let merged = p.merged_commit_id.as_deref().map(|c| format!("\nmerged as {c}")).unwrap_or_default();
                format!("{}\nby {} on {}\n{}{merged}", line(&p), p.author, p.creation_date, p.description)
            });
        }
        PrCommand::Update { repository, id, title, description, close, conn } => {
            let update = PullRequestBasic { status: close.then(|| "closed".to_string()), title, description };
            let c = conn.client()?;
            c.update_pull_request(&repository, &id, &update).await?;
            let p = c.get_pull_request(&repository, &id).await?;
            conn.emit(&p, || line(&p));
        }
        PrCommand::Merge { repository, id, conn } => {
            let result = conn.client()?.merge_pull_request(&repository, &id).await.map_err(|e| match e {
                LakeFsError::Api { status, .. } if status == http::StatusCode::CONFLICT => WorkflowError::Usage(format!(
                    "pull request {id} conflicts with its destination: not merged, it stays open and the source branch is untouched"
                )),
                other => other.into(),
            })?;
            conn.emit(&result, || format!("pull request {id} merged as {}", result.reference));
        }
    }
    Ok(())
}
