//! The embedded lakeFS-compatible server: lakeFS's REST API (`/api/v1`, lakeFS v1.84's
//! `api/swagger.yml`) over on-disk metadata (redb) and a local blob store whose presigned URLs it
//! answers itself (`/blob/…`), the way S3 answers the URLs real lakeFS hands out.
//!
//! `lakegate dev` runs it for users; the tests run it as their lakeFS. Unlike real lakeFS's `local`
//! blockstore, this one presigns on purpose: lakegate's data path needs presigned URLs.
//! `docs/lakefs-fidelity.md` lists the behaviours checked against lakeFS's source.

pub mod api;
pub mod auth;
pub mod authz;
pub mod blob;
pub mod catalog;
mod data;
pub mod error;
pub mod http;
pub mod mpu;
pub mod oidc;
pub mod presign;
pub mod s3mpu;
pub mod s3store;
pub mod sdkerr;
pub mod storage;
pub mod sts;
pub mod xid;

use blob::BlobStore;
use catalog::Meta;
use error::{ApiError, ApiResult};
use presign::{AddressSigner, Presigner};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// lakeFS's default presigned URL lifetime (`blockstore.s3.pre_signed_expiry`).
pub const PRESIGN_EXPIRY: Duration = Duration::from_secs(15 * 60);

/// How to run the embedded server.
#[derive(Debug, Clone)]
pub struct EmbeddedConfig {
    /// Directory for metadata (`meta.redb`) and blobs.
    pub data_dir: PathBuf,
    /// Address of the REST API and blob listener (port 0 picks a free port).
    pub listen: SocketAddr,
    /// Lifetime of the URLs it presigns (lakeFS `blockstore.*.pre_signed_expiry`, default 15 min);
    /// `None` turns presigning off, as on lakeFS's own local blockstore.
    pub presign_expiry: Option<Duration>,
    /// Offer lakeFS's presigned multipart upload API (`pre_sign_multipart_upload`); off, the
    /// server behaves like lakeFS on GCS or Azure (presigned single PUTs only).
    pub presign_multipart: bool,
    /// Keep object bytes in this S3 bucket instead of the local blob store.
    pub s3: Option<s3store::S3Config>,
    /// STS hosts (`host[:port]`, reached over `http://`) that `externalPrincipalLogin` may send
    /// identity tokens to; empty refuses every external login.
    pub sts_allowed_hosts: Vec<String>,
    /// The `X-LakeFS-Server-ID` value identity tokens must be signed with; `None` means this
    /// server's `host:port`, as lakeFS clients send by default.
    pub server_id: Option<String>,
    /// Directories `importStart` may import from (`local:///abs/path` sources, zero copy); empty
    /// refuses every import (lakeFS: `blockstore.local.allowed_external_prefixes`).
    pub import_roots: Vec<PathBuf>,
    /// The OpenID Connect issuer `stsLogin` exchanges codes with; `None` answers it 501, as
    /// lakeFS without an authentication service.
    pub oidc: Option<oidc::OidcSettings>,
    /// Storages beside the primary one (local blob stores with their own ids and abilities), as
    /// lakeFS Enterprise's multiple storage backends; empty (the default) is lakeFS OSS's single
    /// blockstore. See [`storage`].
    pub extra_storages: Vec<storage::ExtraStorage>,
}

/// The state every request handler shares.
pub struct Embedded {
    pub(crate) meta: Arc<Meta>,
    pub(crate) blobs: BlobStore,
    pub(crate) presigner: Presigner,
    pub(crate) addresses: AddressSigner,
    pub(crate) jwt_key: Vec<u8>,
    /// `http://host:port` (`https://` when the API is served over TLS) of this server, the base
    /// of the URLs it presigns.
    pub(crate) base_url: String,
    /// Lifetime of presigned URLs, on the storages that presign.
    pub(crate) presign_expiry: Duration,
    /// The primary storage (id `""`) and any extra ones.
    pub(crate) storages: storage::Storages,
    /// The S3 blockstore, when the server runs on one.
    pub(crate) s3: Option<s3store::S3Store>,
    /// Verifies `externalPrincipalLogin`'s identity tokens.
    pub(crate) sts: sts::StsVerifier,
    /// Successful `login`s and `externalPrincipalLogin`s since start.
    pub(crate) logins: AtomicU64,
    /// Successful `externalPrincipalLogin`s since start.
    pub(crate) external_logins: AtomicU64,
    /// lakeFS API calls answered, for `GET /metrics`.
    pub(crate) api_calls: api::metrics::ApiCalls,
    /// Imports started since start (`importStatus`).
    pub(crate) imports: catalog::import::Imports,
    /// Where imports may read from (canonical paths).
    pub(crate) import_roots: Vec<PathBuf>,
    /// `stsLogin`'s identity provider.
    pub(crate) oidc: Option<oidc::OidcLogin>,
}

/// Refuses to start when a repository names a storage that is not configured, as lakeFS does.
fn check_repository_storages(meta: &Meta, storages: &storage::Storages) -> ApiResult<()> {
    let mut after = String::new();
    loop {
        let (page, more) = meta.list_repositories("", &after, "", 1000, |_| true)?;
        for repo in &page {
            if storages.of(repo).is_err() {
                return Err(ApiError::Internal(format!(
                    "repository {} is on storage {:?}, which is not configured",
                    repo.id,
                    repo.storage_id.as_deref().unwrap_or_default()
                )));
            }
        }
        match page.last() {
            Some(last) if more => after = last.id.clone(),
            _ => return Ok(()),
        }
    }
}

/// Credentials of the admin user.
#[derive(Debug, Clone)]
pub struct AdminCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    /// Whether they were created by this start (first start of a data dir).
    pub created: bool,
}

/// A started server.
pub struct Running {
    pub addr: SocketAddr,
    pub state: Arc<Embedded>,
    pub admin: AdminCredentials,
    listener: TcpListener,
    /// TLS for the listener (the API and the `/blob/…` URLs then are `https://`).
    tls: Option<TlsAcceptor>,
}

fn random_hex(bytes: usize) -> String {
    let v: Vec<u8> = (0..bytes).map(|_| rand::random::<u8>()).collect();
    hex::encode(v)
}

impl Running {
    /// The REST API base URL (`…/api/v1`).
    pub fn api_endpoint(&self) -> String {
        format!("{}/api/v1", self.state.base_url)
    }

    /// Serves until `shutdown` resolves, then drains in-flight requests. Over TLS, HTTP/2 or
    /// HTTP/1.1 by ALPN.
    pub async fn serve(self, shutdown: impl std::future::Future<Output = ()>) {
        let state = self.state;
        let handler = move |mut req: ::http::Request<hyper::body::Incoming>| {
            let state = state.clone();
            host_from_authority(&mut req);
            async move { api::handle(state, req).await }
        };
        let opts = lakegate_net::server::Options {
            max_connections: 16_384,
            tls: self.tls,
            ..lakegate_net::server::Options::plain(lakegate_net::server::GRACE_PERIOD)
        };
        lakegate_net::server::serve(self.listener, handler, shutdown, opts).await;
    }
}

/// An HTTP/2 request names its host in the `:authority` (the URI), not in a `Host` header; the
/// handlers (the presigned `/blob/…` URLs' signatures cover the host) read `Host`, so it is set from
/// the authority when missing.
fn host_from_authority<B>(req: &mut ::http::Request<B>) {
    if req.headers().contains_key(::http::header::HOST) {
        return;
    }
    if let Some(value) = req.uri().authority().and_then(|a| ::http::HeaderValue::from_str(a.as_str()).ok()) {
        req.headers_mut().insert(::http::header::HOST, value);
    }
}

impl Embedded {
    /// Opens the data dir (creating the admin user on first start) and binds the listener.
    pub async fn start(cfg: &EmbeddedConfig) -> ApiResult<Running> {
        Embedded::start_tls(cfg, None).await
    }

    /// [`Embedded::start`], serving the API (and the `/blob/…` URLs it presigns) over TLS with
    /// `tls` when given (e.g. [`lakegate_net::server::tls::acceptor`]).
    pub async fn start_tls(cfg: &EmbeddedConfig, tls: Option<TlsAcceptor>) -> ApiResult<Running> {
        std::fs::create_dir_all(&cfg.data_dir)?;
        let db_path = cfg.data_dir.join("meta.redb");
        let meta = tokio::task::spawn_blocking(move || Meta::open(&db_path)).await??;
        let jwt_key = meta.setting_or_init("jwt_secret", || random_hex(32))?;
        let address_key = meta.setting_or_init("address_secret", || random_hex(32))?;
        let blob_key =
            meta.setting_or_init("blob_access_key_id", || format!("LGBLOB{}", random_hex(7).to_uppercase()))?;
        let blob_secret = meta.setting_or_init("blob_secret_access_key", || random_hex(20))?;
        let (access_key_id, secret_access_key, created) = meta.ensure_admin()?;
        meta.ensure_builtin_policies()?;
        for (sub, user) in cfg.oidc.iter().flat_map(|o| &o.users) {
            if meta.user(user)?.is_none() {
                meta.create_user(user)?;
                tracing::info!(%user, external_id = %sub, "created the lakeFS user of an OIDC subject (no policies attached)");
            }
        }
        let listener = TcpListener::bind(cfg.listen).await?;
        let addr = listener.local_addr()?;
        let server_id = cfg.server_id.clone().unwrap_or_else(|| addr.to_string());
        let import_roots = cfg.import_roots.iter().map(|r| r.canonicalize()).collect::<std::io::Result<Vec<_>>>()?;
        let primary = storage::Storage {
            id: storage::SINGLE_BLOCKSTORE_ID.into(),
            description: String::new(),
            kind: match &cfg.s3 {
                Some(s3) => storage::Kind::S3 { bucket: s3.bucket.clone() },
                None => storage::Kind::Local,
            },
            presign: cfg.presign_expiry.is_some(),
            presign_multipart: cfg.presign_multipart,
            import: cfg.s3.is_none() && !import_roots.is_empty(),
        };
        let storages = storage::Storages::new(primary, &cfg.extra_storages)?;
        check_repository_storages(&meta, &storages)?;
        let state = Embedded {
            meta: Arc::new(meta),
            blobs: BlobStore::open(&cfg.data_dir)?.with_import_roots(import_roots.clone()),
            presigner: Presigner::new(blob_key, blob_secret),
            addresses: AddressSigner::new(address_key.into_bytes()),
            jwt_key: jwt_key.into_bytes(),
            base_url: format!("{}://{addr}", if tls.is_some() { "https" } else { "http" }),
            presign_expiry: cfg.presign_expiry.unwrap_or(PRESIGN_EXPIRY),
            storages,
            s3: cfg.s3.clone().map(s3store::S3Store::new).transpose()?,
            sts: sts::StsVerifier::new(cfg.sts_allowed_hosts.clone(), server_id),
            logins: AtomicU64::new(0),
            external_logins: AtomicU64::new(0),
            api_calls: Default::default(),
            imports: Default::default(),
            import_roots,
            oidc: cfg.oidc.clone().map(oidc::OidcLogin::new),
        };
        let admin = AdminCredentials { access_key_id, secret_access_key, created };
        Ok(Running { addr, state: Arc::new(state), admin, listener, tls })
    }

    /// Successful logins (`login` and `externalPrincipalLogin`) since start: each one mints a token.
    pub fn login_count(&self) -> u64 {
        self.logins.load(Ordering::Relaxed)
    }

    /// Successful `externalPrincipalLogin`s since start.
    pub fn external_login_count(&self) -> u64 {
        self.external_logins.load(Ordering::Relaxed)
    }

    /// Lets `externalPrincipalLogin` verify identity tokens with the STS endpoint at `host`.
    pub fn allow_sts_host(&self, host: &str) {
        self.sts.allow_host(host);
    }

    /// The `X-LakeFS-Server-ID` value identity tokens must be signed with.
    pub fn server_id(&self) -> &str {
        self.sts.server_id()
    }

    /// Counts a successful login.
    pub(crate) fn count_login(&self, external: bool) {
        let n = self.logins.fetch_add(1, Ordering::Relaxed) + 1;
        if external {
            self.external_logins.fetch_add(1, Ordering::Relaxed);
        }
        tracing::debug!(logins = n, external, "embedded lakeFS login");
    }

    /// Creates a repository directly in the catalog, without a caller or a namespace check (the
    /// demo repository `lakegate dev` makes on first start).
    pub async fn seed_repository(&self, repo: lakefs_api::dto::Repository) -> ApiResult<()> {
        self.db(move |m| m.create_repository(repo)).await.map(drop)
    }

    /// Runs `f` on the metadata store on a blocking thread.
    pub(crate) async fn db<T, F>(&self, f: F) -> ApiResult<T>
    where
        F: FnOnce(&Meta) -> ApiResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let meta = self.meta.clone();
        tokio::task::spawn_blocking(move || f(&meta)).await.map_err(ApiError::from)?
    }
}
