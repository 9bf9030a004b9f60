//! `lakegate import SOURCE REPO/BRANCH/DEST/`: lakeFS `importStart`, then `importStatus` polled
//! with a live progress line on a terminal (objects ingested, rate, elapsed; plain lines
//! otherwise); Ctrl-C sends `importCancel` and says so. SOURCE is a URI of lakeFS's blockstore
//! (`s3://bucket/prefix/`, `local:///dir/`) or, for `lakegate dev`, a local path. A SOURCE
//! ending in `/` imports everything under it (`common_prefix`), else one object.

use super::{Conn, WorkflowError, split_target};
use lakefs_api::LakeFsClient;
use lakefs_api::dto::CommitCreation;
use lakefs_api::workflow_dto::{ImportCreation, ImportLocation, ImportStatus};
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// What to import: `s3://bucket/prefix/`, `local:///abs/dir/`, or a local path (`lakegate
    /// dev` with `--import-root`). Ending in `/`: everything under it; else one object.
    pub source: String,
    /// Where: REPOSITORY/BRANCH/DESTINATION (a prefix ending in `/`, or an object's path).
    pub target: String,
    /// The import commit's message (lakeFS's default: "Import objects").
    #[arg(long)]
    pub commit_message: Option<String>,
    #[command(flatten)]
    pub conn: Conn,
}

/// The source as lakeFS takes it: a URI; a plain path becomes `local://` + its absolute form.
fn source_uri(source: &str) -> Result<String, WorkflowError> {
    if source.contains("://") {
        return Ok(source.to_string());
    }
    let abs =
        std::path::Path::new(source).canonicalize().map_err(|e| WorkflowError::Usage(format!("{source}: {e}")))?;
    let dir = source.ends_with('/') || abs.is_dir();
    Ok(format!("local://{}{}", abs.display(), if dir { "/" } else { "" }))
}

/// The `importStart` body for `args`.
fn creation(args: &ImportArgs) -> Result<(String, String, ImportCreation), WorkflowError> {
    let (repo, branch, dest) = split_target(&args.target)?;
    let path = source_uri(&args.source)?;
    let prefix = path.ends_with('/');
    let destination = match (prefix, dest.is_empty() || dest.ends_with('/')) {
        (true, _) if dest.is_empty() || dest.ends_with('/') => dest,
        (true, _) => format!("{dest}/"),
        (false, true) => format!("{dest}{}", path.rsplit('/').next().unwrap_or_default()),
        (false, false) => dest,
    };
    let kind = if prefix { "common_prefix" } else { "object" };
    let location = ImportLocation { kind: kind.into(), path, destination };
    let commit = CommitCreation { message: args.commit_message.clone().unwrap_or_default(), ..Default::default() };
    Ok((repo, branch, ImportCreation { paths: vec![location], commit, force: None }))
}

/// Runs `lakegate import`.
pub async fn run(args: ImportArgs) -> Result<(), WorkflowError> {
    let (repo, branch, body) = creation(&args)?;
    let c = args.conn.client()?;
    let started = c.import_start(&repo, &branch, &body).await?;
    let progress = Progress::new(args.conn.json);
    let status = tokio::select! {
        status = poll(&c, (&repo, &branch, &started.id), &progress) => status?,
        _ = tokio::signal::ctrl_c() => {
            c.import_cancel(&repo, &branch, &started.id).await?;
            progress.finish();
            return Err(WorkflowError::Usage(format!("interrupted: import {} cancelled (importCancel sent)", started.id)));
        }
    };
    progress.finish();
    if let Some(err) = &status.error {
        return Err(WorkflowError::Usage(format!("import {} failed: {}", started.id, err.message)));
    }
    let commit = status.commit.as_ref().map(|c| c.id.clone()).unwrap_or_default();
    let n = status.ingested_objects.unwrap_or(0);
    let out = serde_json::json!({"id": started.id, "repository": repo, "branch": branch, "commit_id": commit,
        "ingested_objects": n, "metarange_id": status.metarange_id});
    args.conn.emit(&out, || format!("imported {n} objects into {repo}/{branch}: commit {commit}"));
    Ok(())
}

async fn poll(
    c: &LakeFsClient,
    (repo, branch, id): (&str, &str, &str),
    progress: &Progress,
) -> Result<ImportStatus, WorkflowError> {
    loop {
        let status = c.import_status(repo, branch, id).await?;
        progress.show(status.ingested_objects.unwrap_or(0));
        if status.completed || status.error.is_some() {
            return Ok(status);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The progress display: a rewritten line on a terminal, a plain line per second otherwise.
struct Progress {
    started: Instant,
    terminal: bool,
    quiet: bool,
    last: std::sync::Mutex<(Instant, i64)>,
}

impl Progress {
    fn new(quiet: bool) -> Progress {
        let now = Instant::now();
        Progress {
            started: now,
            terminal: std::io::stderr().is_terminal(),
            quiet,
            last: std::sync::Mutex::new((now, -1)),
        }
    }

    fn show(&self, ingested: i64) {
        let mut last = self.last.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let due = self.terminal || last.0.elapsed() >= Duration::from_secs(1) || last.1 < 0;
        if self.quiet || !due || (ingested == last.1 && !self.terminal) {
            return;
        }
        *last = (Instant::now(), ingested);
        let secs = self.started.elapsed().as_secs_f64();
        let rate = if secs > 0.0 { ingested as f64 / secs } else { 0.0 };
        let text = format!("importing: {ingested} objects, {rate:.0} objects/s, {secs:.1} s");
        let mut err = std::io::stderr();
        if self.terminal {
            let _ = write!(err, "\r{text}\x1b[K");
        } else {
            let _ = writeln!(err, "{text}");
        }
        let _ = err.flush();
    }

    fn finish(&self) {
        if self.terminal && !self.quiet {
            eprintln!();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct T {
        #[command(flatten)]
        a: ImportArgs,
    }

    fn body(args: &[&str]) -> ImportCreation {
        let t = T::try_parse_from([&["t"], args].concat()).unwrap();
        creation(&t.a).unwrap().2
    }

    #[test]
    fn sources_and_destinations() {
        let p = body(&["s3://b/in/", "demo/main/raw"]);
        assert_eq!((p.paths[0].kind.as_str(), p.paths[0].destination.as_str()), ("common_prefix", "raw/"));
        let o = body(&["s3://b/in/x.csv", "demo/main/raw/"]);
        assert_eq!((o.paths[0].kind.as_str(), o.paths[0].destination.as_str()), ("object", "raw/x.csv"));
        let named = body(&["s3://b/in/x.csv", "demo/main/y.csv", "--commit-message", "m"]);
        assert_eq!((named.paths[0].destination.as_str(), named.commit.message.as_str()), ("y.csv", "m"));
        let dir = tempfile::tempdir().unwrap();
        let local = body(&[dir.path().to_str().unwrap(), "demo/main/"]);
        assert!(local.paths[0].path.starts_with("local:///") && local.paths[0].path.ends_with('/'));
    }
}
