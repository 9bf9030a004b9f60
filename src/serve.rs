//! `lakegate serve`: the S3 gateway in front of an existing lakeFS.

use crate::auth::StaticKeys;
use crate::config::ServeArgs;
use crate::gateway::GatewayServer;
use crate::lakefs::LakeFsClient;
use crate::lakefs::client::{ClientConfig, Credentials};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Credentials(#[from] crate::auth::CredentialsFileError),
    #[error("lakeFS client: {0}")]
    LakeFs(#[from] crate::lakefs::LakeFsError),
    #[error(transparent)]
    Gateway(#[from] crate::gateway::GatewayError),
}

/// Runs until Ctrl-C or SIGTERM.
pub async fn run(args: ServeArgs) -> Result<(), ServeError> {
    let keys = StaticKeys::from_file(&args.credentials_file)?;
    let creds = Credentials::Basic {
        access_key_id: args.lakefs_access_key_id.clone(),
        secret_access_key: args.lakefs_secret_access_key.clone(),
    };
    let lakefs = LakeFsClient::new(ClientConfig::new(&args.lakefs_endpoint, creds))?;
    let gateway = GatewayServer::bind(&args.gateway, Arc::new(keys), lakefs).await?;
    tracing::info!(endpoint = %gateway.endpoint(), lakefs = %args.lakefs_endpoint, "lakegate serving S3");
    gateway.serve(crate::dev::shutdown_signal()).await;
    Ok(())
}
