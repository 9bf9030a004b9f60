//! Running the S3 front door: binds the listener (TLS when configured), builds the shared
//! [`Gateway`] state and serves it until shutdown.

use crate::auth::SecretStore;
use crate::config::GatewayArgs;
use crate::lakefs::LakeFsClient;
use crate::ops::data::DataClient;
use crate::ops::multipart::Multipart;
use crate::s3::service::{Gateway, handle};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("binding {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error(transparent)]
    Tls(#[from] crate::server::tls::TlsError),
    #[error(transparent)]
    State(#[from] crate::ops::multipart::StateError),
}

/// A bound, not yet serving, S3 endpoint.
pub struct GatewayServer {
    pub addr: SocketAddr,
    pub tls: bool,
    listener: TcpListener,
    acceptor: Option<TlsAcceptor>,
    state: Arc<Gateway>,
}

impl GatewayServer {
    pub async fn bind(
        args: &GatewayArgs,
        keys: Arc<dyn SecretStore>,
        lakefs: LakeFsClient,
    ) -> Result<GatewayServer, GatewayError> {
        let acceptor = match (&args.tls_cert, &args.tls_key) {
            (Some(cert), Some(key)) => Some(crate::server::tls::acceptor(cert, key)?),
            _ => None,
        };
        let state_dir = args.state_dir.clone().unwrap_or_else(|| "lakegate-state".into());
        let multipart = Multipart::open(&state_dir, args.upload_id_key_file.as_deref(), args.spool_max_bytes)?;
        let listener =
            TcpListener::bind(args.listen).await.map_err(|source| GatewayError::Bind { addr: args.listen, source })?;
        let addr = listener.local_addr().map_err(|source| GatewayError::Bind { addr: args.listen, source })?;
        let state = Gateway {
            keys,
            lakefs,
            data: DataClient::default(),
            base_domains: args
                .domains
                .iter()
                .map(|d| d.trim().to_ascii_lowercase())
                .filter(|d| !d.is_empty())
                .collect(),
            region: args.region.clone(),
            allow_sigv2: args.allow_sigv2,
            flat_buckets: args.flat_buckets,
            namespace_template: args.namespace_template.clone(),
            default_branches: Default::default(),
            storage: Default::default(),
            multipart,
        };
        Ok(GatewayServer { addr, tls: acceptor.is_some(), listener, acceptor, state: Arc::new(state) })
    }

    /// `http(s)://addr` of the endpoint.
    pub fn endpoint(&self) -> String {
        format!("{}://{}", if self.tls { "https" } else { "http" }, self.addr)
    }

    /// Serves until `shutdown` resolves, then drains in-flight requests.
    pub async fn serve(self, shutdown: impl std::future::Future<Output = ()>) {
        let state = self.state;
        tokio::spawn(crate::ops::multipart::sweep::run(Arc::downgrade(&state)));
        let handler = move |req| {
            let state = state.clone();
            async move { handle(state, req).await }
        };
        crate::server::serve(self.listener, self.acceptor, handler, shutdown).await;
    }
}
