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
}

/// Runs until Ctrl-C or SIGTERM.
pub async fn run(args: ServeArgs) -> Result<(), ServeError> {
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
    gateway.serve(crate::dev::shutdown_signal()).await;
    Ok(())
}
