//! Running the S3 front door: binds the listeners (TLS when configured), builds the shared
//! [`Gateway`] state and serves it until shutdown.
//!
//! - `pipeline`: what runs around every S3 operation (limits, signature, addressing, routing,
//!   error rendering, access log).
//! - `sts`, `oidc_login`: the endpoints on the S3 listener that are not S3 operations: lakegate's
//!   STS `GetCallerIdentity` (lakeFS verifies principal logins with it) and the OIDC sign-in.

pub mod oidc_login;
pub mod pipeline;
pub mod sts;

use crate::auth::SecretStore;
use crate::auth::session_token::SessionKeys;
use crate::auth::sessions::{SessionConfig, Sessions};
use crate::config::GatewayArgs;
use crate::config::IdentityArgs;
use crate::ops::Gateway;
use crate::ops::datapath::presigned::DataClient;
use crate::ops::multipart::Multipart;
use lakefs_api::LakeFsClient;
use pipeline::handle;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// `listener` names which one: "S3 endpoint" or "admin listener".
    #[error("binding the {listener} to {addr}: {source}")]
    Bind { listener: &'static str, addr: SocketAddr, source: std::io::Error },
    #[error(transparent)]
    Tls(#[from] lakegate_net::server::tls::TlsError),
    #[error(transparent)]
    State(#[from] crate::ops::multipart::StateError),
    #[error("session keys: {0}")]
    SessionKeys(String),
}

/// Binds one of the gateway's listeners; an error names it.
async fn bind(listener: &'static str, addr: SocketAddr) -> Result<(TcpListener, SocketAddr), GatewayError> {
    let bound = TcpListener::bind(addr).await.map_err(|source| GatewayError::Bind { listener, addr, source })?;
    let local = bound.local_addr().map_err(|source| GatewayError::Bind { listener, addr, source })?;
    Ok((bound, local))
}

/// Where identity tokens point (lakegate's STS endpoint) and which lakeFS they are for.
fn session_config(args: &IdentityArgs, addr: SocketAddr, lakefs: &LakeFsClient) -> SessionConfig {
    let sts_host = args.sts_host.clone().unwrap_or_else(|| {
        let ip = if addr.ip().is_unspecified() { std::net::Ipv4Addr::LOCALHOST.into() } else { addr.ip() };
        SocketAddr::new(ip, addr.port()).to_string()
    });
    SessionConfig {
        sts_host,
        sts_region: args.sts_region.clone(),
        server_id: args.lakefs_server_id.clone().unwrap_or_else(|| lakefs.endpoint_host()),
        principal_ttl: std::time::Duration::from_secs(args.principal_cache_secs),
    }
}

/// A bound, not yet serving, S3 endpoint.
pub struct GatewayServer {
    pub addr: SocketAddr,
    pub tls: bool,
    /// The admin listener's address (`/healthz`, `/readyz`, `/metrics`).
    pub admin_addr: SocketAddr,
    admin_listener: TcpListener,
    admin: Arc<crate::admin::Admin>,
    grace: std::time::Duration,
    limits: crate::config::LimitArgs,
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
        crate::metrics::metrics(); // from now on the lakeFS client's calls are counted
        let acceptor = match (&args.tls_cert, &args.tls_key) {
            (Some(cert), Some(key)) => Some(lakegate_net::server::tls::acceptor(cert, key)?),
            _ => None,
        };
        let state_dir = args.state_dir.clone().unwrap_or_else(|| "lakegate-state".into());
        let multipart = Multipart::open(&state_dir, args.upload_id_key_file.as_deref(), args.spool_max_bytes)?;
        let session_keys = match &args.session_key_file {
            Some(f) => SessionKeys::load(f),
            None => SessionKeys::load_or_init(&state_dir.join("session.keys")),
        }
        .map_err(GatewayError::SessionKeys)?;
        let (listener, addr) = bind("S3 endpoint", args.listen).await?;
        let (admin_listener, admin_addr) = bind("admin listener", args.admin_addr()).await?;
        let admin = crate::admin::Admin::new(lakefs.clone(), multipart.registry.clone());
        let sessions = Sessions::new(lakefs.clone(), session_config(&args.identity, addr, &lakefs));
        let state = Gateway {
            sessions,
            session_keys,
            session_max_ttl: args.session_max_ttl_secs as i64,
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
            commit_stats: Default::default(),
            small_objects: crate::ops::datapath::cache::SmallObjects::new(args.small_object_cache as usize),
            limits: s3_wire::limits::RequestLimits::new(
                args.limits.max_requests_per_key as usize,
                std::time::Duration::from_secs(args.limits.request_timeout_secs),
                std::time::Duration::from_secs(args.limits.idle_timeout_secs),
            ),
            publish: crate::publish::PublishRules(args.publish_rules.clone()),
            multipart,
        };
        Ok(GatewayServer {
            addr,
            tls: acceptor.is_some(),
            admin_addr,
            admin_listener,
            admin,
            grace: std::time::Duration::from_secs(args.shutdown_grace_secs),
            limits: args.limits.clone(),
            listener,
            acceptor,
            state: Arc::new(state),
        })
    }

    /// The STS host identity tokens name (lakeFS must allow it).
    pub fn sts_host(&self) -> &str {
        &self.state.sessions.config().sts_host
    }

    /// The shared state (for tests and `lakegate dev`).
    pub fn state(&self) -> &Arc<Gateway> {
        &self.state
    }

    /// `http(s)://addr` of the endpoint.
    pub fn endpoint(&self) -> String {
        format!("{}://{}", if self.tls { "https" } else { "http" }, self.addr)
    }

    /// Serves lakegate's STS endpoint alone, in clear text, on `listener` (`lakegate dev` over
    /// TLS: the embedded server reaches STS hosts over `http://`). Every other request gets 404.
    pub fn serve_sts_only(
        &self,
        listener: TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> impl std::future::Future<Output = ()> + Send + 'static {
        let state = self.state.clone();
        let handler = move |req| {
            let state = state.clone();
            async move { crate::gateway::pipeline::handle_sts_only(state, req).await }
        };
        lakegate_net::server::serve(
            listener,
            handler,
            shutdown,
            lakegate_net::server::Options::plain(lakegate_net::server::GRACE_PERIOD),
        )
    }

    /// Serves until `shutdown` resolves, then drains in-flight requests for up to the grace
    /// period; the admin listener answers throughout (`/readyz` 503 while draining) and stops last.
    pub async fn serve(self, shutdown: impl std::future::Future<Output = ()>) {
        let state = self.state;
        tokio::spawn(crate::ops::multipart::sweep::run(Arc::downgrade(&state)));
        tokio::spawn(log_lakefs(state.lakefs.clone()));
        let handler = move |req| {
            let state = state.clone();
            async move { handle(state, req).await }
        };
        let admin = self.admin.clone();
        let admin_handler = move |req| {
            let admin = admin.clone();
            async move { admin.handle(req).await }
        };
        let (s3_done, admin_stop) = tokio::sync::oneshot::channel::<()>();
        let admin_server = tokio::spawn(lakegate_net::server::serve(
            self.admin_listener,
            admin_handler,
            async move {
                let _ = admin_stop.await;
            },
            lakegate_net::server::Options::plain(std::time::Duration::from_secs(1)),
        ));
        let admin = self.admin.clone();
        let shutdown = async move {
            shutdown.await;
            admin.drain();
            tracing::info!("shutting down: no new connections; /readyz answers 503");
        };
        let opts = lakegate_net::server::Options {
            tls: self.acceptor,
            grace: self.grace,
            max_connections: self.limits.max_connections as usize,
            idle_timeout: std::time::Duration::from_secs(self.limits.idle_timeout_secs),
            busy: crate::gateway::pipeline::busy_response,
            counted: true,
        };
        lakegate_net::server::serve(self.listener, handler, shutdown, opts).await;
        drop(s3_done);
        let _ = admin_server.await;
    }
}

/// Logs which lakeFS the gateway talks to: its version and storages (`getConfig`).
async fn log_lakefs(lakefs: LakeFsClient) {
    match lakefs.get_config().await {
        Ok(config) => tracing::info!(lakefs = crate::admin::describe_lakefs(&config), "lakeFS"),
        Err(e) => tracing::warn!(error = %e, "lakeFS's version and storages are unknown (getConfig failed)"),
    }
}
