//! lakeFS workflow commands (`lakegate import`, `lakegate pr …`, `lakegate branch reset --hard`):
//! thin, scriptable front ends to lakeFS's import, pull request and hard-reset APIs, against any
//! lakeFS (`--lakefs-endpoint` + key) or a running `lakegate dev` (`--dev DIR`). Every command has
//! `--json`; a lakeFS error exits 1 with its status and message.

pub mod branch;
pub mod import;
pub mod pr;

use crate::config::LakeFsArgs;
use lakefs_api::{LakeFsClient, LakeFsError};
use std::path::PathBuf;

/// Which lakeFS to talk to.
#[derive(Debug, Clone, clap::Args)]
pub struct Conn {
    /// A `lakegate dev` data dir: its lakeFS endpoint and admin key (dev.json).
    #[arg(long, value_name = "DIR", conflicts_with = "lakefs_endpoint")]
    pub dev: Option<PathBuf>,
    /// Print the result as JSON (one object) instead of text.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub lakefs: LakeFsArgs,
}

#[derive(Debug, thiserror::Error)]
pub enum WorkflowError {
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("lakeFS: {0}")]
    LakeFs(#[from] LakeFsError),
}

impl Conn {
    /// The lakeFS client these flags name.
    pub fn client(&self) -> Result<LakeFsClient, WorkflowError> {
        let args = match &self.dev {
            Some(dir) => LakeFsArgs::from_dev_dir(dir).map_err(WorkflowError::Usage)?,
            None => self.lakefs.clone(),
        };
        Ok(args.client(None)?)
    }

    /// Prints `value` as JSON with `--json`, else `text`.
    pub fn emit(&self, value: &impl serde::Serialize, text: impl FnOnce() -> String) {
        if self.json {
            println!("{}", serde_json::to_string_pretty(value).unwrap_or_default());
        } else {
            println!("{}", text());
        }
    }
}

/// `repo/branch[/path]` → (repo, branch, path).
pub fn split_target(target: &str) -> Result<(String, String, String), WorkflowError> {
    let t = target.strip_prefix("lakefs://").unwrap_or(target);
    let mut parts = t.splitn(3, '/');
    match (parts.next(), parts.next()) {
        (Some(r), Some(b)) if !r.is_empty() && !b.is_empty() => {
            Ok((r.to_string(), b.to_string(), parts.next().unwrap_or("").to_string()))
        }
        _ => Err(WorkflowError::Usage(format!("{target:?}: expected REPOSITORY/BRANCH[/PATH]"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        assert_eq!(split_target("demo/main/in/").unwrap(), ("demo".into(), "main".into(), "in/".into()));
        assert_eq!(split_target("lakefs://demo/job-1").unwrap(), ("demo".into(), "job-1".into(), String::new()));
        assert!(split_target("demo").is_err());
        assert!(split_target("/main").is_err());
    }
}
