//! The `lakegate` command line.

use crate::cmd::dev::DevArgs;
use clap::{CommandFactory, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(name = "lakegate", version, about = "An S3-compatible gateway for lakeFS")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Log format on stderr: `human` (default) or `json` (one object per line, for collectors).
    #[arg(long, global = true, env = "LAKEGATE_LOG_FORMAT", default_value = "human", value_parser = ["human", "json"])]
    pub log_format: String,
    /// Log filter (`info`, `debug`, `lakegate=debug,hyper=info`, …); `RUST_LOG` also works.
    #[arg(long, global = true, env = "LAKEGATE_LOG_LEVEL")]
    pub log_level: Option<String>,
    /// TOML configuration file: keys are the long flag names with `_` (`admin_listen = "…"`);
    /// flags and `LAKEGATE_*` variables win over it.
    #[arg(long, global = true, env = "LAKEGATE_CONFIG")]
    pub config: Option<PathBuf>,
    /// PEM file of CA certificates trusted for outbound https (lakeFS, presigned object-store
    /// URLs, STS, OIDC) besides the system's roots (or `SSL_CERT_FILE`); repeatable. Proxies come
    /// from `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY`.
    #[arg(long = "ca-file", global = true, env = "LAKEGATE_CA_FILE", value_delimiter = ',')]
    pub ca_file: Vec<PathBuf>,
}

#[derive(Debug, Subcommand)]
// Parsed once per process: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
pub enum Command {
    /// Run a self-contained development instance: the embedded lakeFS-compatible server with a
    /// local blob store (and, once available, the S3 gateway in front of it).
    Dev(DevArgs),
    /// Run the S3 gateway in front of an existing lakeFS.
    Serve(crate::config::ServeArgs),
    /// Manage gateway keys: create (bound to a lakeFS user), list, show, delete.
    #[command(subcommand)]
    Keys(crate::cmd::keys::KeysCommand),
    /// Benchmark an S3 endpoint (lakegate or any other): PUT/GET/HEAD/LIST or a mix, with
    /// throughput, latency percentiles, and CPU/RSS of watched processes.
    Bench(crate::cmd::bench::BenchArgs),
    /// Import objects from the object store into a branch, zero copy (lakeFS import), with
    /// progress; Ctrl-C cancels the import.
    Import(crate::cmd::workflow::import::ImportArgs),
    /// lakeFS pull requests: create, list, show, update, merge.
    #[command(subcommand)]
    Pr(crate::cmd::workflow::pr::PrCommand),
    /// Branch operations: `reset --hard REF` (refused while the branch has uncommitted changes).
    #[command(subcommand)]
    Branch(crate::cmd::workflow::branch::BranchCommand),
    /// Temporary S3 credentials: `oidc` signs in with OpenID Connect and prints them for the AWS
    /// `credential_process` setting.
    #[command(subcommand)]
    Creds(crate::cmd::creds::CredsCommand),
}

/// Parses the command line and runs it; exits non-zero on failure.
pub fn main() {
    let merged = crate::config::file::merge(&Cli::command(), std::env::args_os().collect());
    let mut cli = match Cli::try_parse_from(merged.argv) {
        Ok(cli) => cli,
        Err(e) if merged.problems.is_empty() => e.exit(),
        Err(e) => {
            let first = e.to_string().lines().next().unwrap_or_default().trim_start_matches("error: ").to_string();
            exit_with_problems(&[merged.problems, vec![first]].concat())
        }
    };
    match &mut cli.command {
        Command::Serve(args) if args.check_config => args.config_problems = merged.problems,
        _ if !merged.problems.is_empty() => exit_with_problems(&merged.problems),
        _ => {}
    }
    init_tracing(&cli.log_format, cli.log_level.as_deref());
    match lakegate_net::outbound::Outbound::new(&cli.ca_file) {
        Ok(outbound) => outbound.install(),
        Err(e) => match &mut cli.command {
            Command::Serve(args) if args.check_config => args.config_problems.push(e.to_string()),
            _ => exit_with_problems(&[e.to_string()]),
        },
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("lakegate: cannot start the runtime: {err}");
            std::process::exit(1);
        }
    };
    let log_level = cli.log_level.clone();
    let result = runtime.block_on(async {
        match cli.command {
            Command::Dev(args) => crate::cmd::dev::run(args).await.map_err(|e| e.to_string()),
            Command::Serve(args) => crate::cmd::serve::run(args, log_level.as_deref()).await.map_err(|e| e.to_string()),
            Command::Keys(cmd) => crate::cmd::keys::run(cmd).await.map_err(|e| e.to_string()),
            Command::Bench(args) => crate::cmd::bench::run(args).await,
            Command::Import(args) => crate::cmd::workflow::import::run(args).await.map_err(|e| e.to_string()),
            Command::Pr(cmd) => crate::cmd::workflow::pr::run(cmd).await.map_err(|e| e.to_string()),
            Command::Branch(cmd) => crate::cmd::workflow::branch::run(cmd).await.map_err(|e| e.to_string()),
            Command::Creds(cmd) => crate::cmd::creds::run(cmd).await,
        }
    });
    if let Err(err) = result {
        eprintln!("lakegate: {err}");
        std::process::exit(1);
    }
}

fn exit_with_problems(problems: &[String]) -> ! {
    eprintln!("lakegate: the configuration has {} problem(s):", problems.len());
    for p in problems {
        eprintln!("  - {p}");
    }
    std::process::exit(1);
}

fn init_tracing(format: &str, level: Option<&str>) {
    let filter = match level {
        Some(level) => tracing_subscriber::EnvFilter::new(level),
        None => tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
    };
    let fmt = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if format == "json" {
        fmt.json().flatten_event(true).with_current_span(true).with_span_list(false).init();
    } else {
        fmt.with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr())).init();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
        let cli = Cli::try_parse_from(["lakegate", "dev", "--data", "/tmp/x", "--api-listen", "127.0.0.1:0"]).unwrap();
        let Command::Dev(args) = cli.command else { panic!("dev") };
        assert_eq!(args.api_listen.port(), 0);
        assert_eq!(args.presign_expiry_secs, 900);
        assert_eq!(args.gateway.listen.port(), 8000);
        assert!(Cli::try_parse_from(["lakegate", "dev", "--api-listen", "nope"]).is_err());
        assert!(Cli::try_parse_from(["lakegate", "dev", "--tls-cert", "c.pem"]).is_err(), "--tls-cert needs --tls-key");
        let serve = Cli::try_parse_from([
            "lakegate",
            "serve",
            "--lakefs-endpoint",
            "http://l/api/v1",
            "--lakefs-access-key-id",
            "a",
            "--lakefs-secret-access-key",
            "s",
            "--keys-file",
            "/c",
            "--domain",
            "s3.a,s3.b",
        ])
        .unwrap();
        let Command::Serve(serve) = serve.command else { panic!("serve") };
        assert_eq!(serve.gateway.domains, ["s3.a", "s3.b"]);
        assert!(Cli::try_parse_from(["lakegate", "dev", "--presign-expiry-secs", "0"]).is_err());
        assert!(Cli::try_parse_from(["lakegate", "dev", "--presign-expiry-secs", "604801"]).is_err());
    }
}
