//! `lakegate serve`: the S3 gateway in front of an existing lakeFS.

use crate::auth::keystore::KeyStore;
use crate::config::ServeArgs;
use crate::gateway::GatewayServer;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Keys(#[from] crate::auth::keystore::KeyFileError),
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("--keys-file (LAKEGATE_KEYS_FILE) is required: the gateway keys clients sign with")]
    NoKeysFile,
    #[error(transparent)]
    Gateway(#[from] crate::gateway::GatewayError),
    #[error("the configuration has {} problem(s):\n  - {}", .0.len(), .0.join("\n  - "))]
    Invalid(Vec<String>),
}

/// Runs until Ctrl-C or SIGTERM, after checking the whole configuration (`--check-config`: only
/// that). `log_level` is the global `--log-level`, checked too.
pub async fn run(args: ServeArgs, log_level: Option<&str>) -> Result<(), ServeError> {
    let (problems, summary) = crate::config::check::serve_problems(&args, log_level);
    if !problems.is_empty() {
        return Err(ServeError::Invalid(problems));
    }
    if args.check_config {
        let g = &args.gateway;
        println!(
            "configuration OK: S3 on {}://{}, admin on {}, lakeFS {}, {} key(s) in {}",
            if g.tls_cert.is_some() { "https" } else { "http" },
            g.listen,
            g.admin_addr(),
            args.lakefs.lakefs_endpoint.as_deref().unwrap_or_default(),
            summary.keys,
            g.identity.keys_file.as_deref().unwrap_or(std::path::Path::new("")).display(),
        );
        return Ok(());
    }
    let identity = &args.gateway.identity;
    let path = identity.keys_file.as_ref().ok_or(ServeError::NoKeysFile)?;
    let keys = KeyStore::open(path, identity.identity_mode)?;
    let lakefs = args.lakefs.client(identity.lakefs_server_id.as_deref())?;
    let gateway = GatewayServer::bind(&args.gateway, Arc::new(keys), lakefs).await?;
    tracing::info!(
        endpoint = %gateway.endpoint(),
        admin = %format!("http://{}", gateway.admin_addr),
        lakefs = %args.lakefs.lakefs_endpoint.as_deref().unwrap_or_default(),
        sts_host = %gateway.sts_host(),
        "lakegate serving S3"
    );
    gateway.serve(crate::shutdown::signal()).await;
    Ok(())
}
