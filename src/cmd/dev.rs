//! `lakegate dev`: starts the embedded lakeFS-compatible server on a data directory, creates the
//! demo repository on first start, prints how to connect, and writes the same facts to
//! `<data>/dev.json` for scripts and tests.

use crate::auth::keystore::{self, KeyRecord, KeyStore, ModeName};
use crate::gateway::GatewayServer;
use lakefs_api::LakeFsClient;
use lakefs_api::client::{ClientConfig, Credentials};
use lakefs_api::dto::Repository;
use lakefs_embedded::catalog::now_unix;
use lakefs_embedded::s3store::S3Config;
use lakefs_embedded::{Embedded, EmbeddedConfig, Running};
use serde::Serialize;
use std::net::SocketAddr;
use std::path::Path;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, clap::Args)]
pub struct DevArgs {
    /// Directory for metadata, blobs and dev.json (created if missing).
    #[arg(long, env = "LAKEGATE_DEV_DATA", default_value = "lakegate-data")]
    pub data: PathBuf,
    /// Address of the embedded lakeFS REST API (port 0 picks a free port).
    #[arg(long, env = "LAKEGATE_DEV_API_LISTEN", default_value = "127.0.0.1:8001")]
    pub api_listen: SocketAddr,
    /// PEM certificate chain: serve the embedded lakeFS API (and the blob URLs it presigns) over
    /// HTTPS, HTTP/2 by ALPN; reloaded on change. Needs --api-tls-key. The gateway must trust
    /// its issuer (system roots, SSL_CERT_FILE or --ca-file).
    #[arg(long, env = "LAKEGATE_DEV_API_TLS_CERT", requires = "api_tls_key")]
    pub api_tls_cert: Option<PathBuf>,
    /// PEM private key for --api-tls-cert.
    #[arg(long, env = "LAKEGATE_DEV_API_TLS_KEY", requires = "api_tls_cert")]
    pub api_tls_key: Option<PathBuf>,
    /// Lifetime in seconds of the blob URLs the embedded server presigns (1 to 604800).
    #[arg(long, env = "LAKEGATE_DEV_PRESIGN_EXPIRY_SECS", default_value_t = 900,
          value_parser = clap::value_parser!(u64).range(1..=604_800))]
    pub presign_expiry_secs: u64,
    /// Turn presigned URLs off, as lakeFS's own local blockstore has them (exercises lakegate's
    /// fallback to lakeFS uploadObject/getObject streaming).
    #[arg(long, env = "LAKEGATE_DEV_NO_PRESIGN")]
    pub no_presign: bool,
    /// Report no presigned multipart upload support, as lakeFS on GCS or Azure does (exercises
    /// lakegate's spooling of multipart uploads).
    #[arg(long, env = "LAKEGATE_DEV_NO_PRESIGN_MULTIPART")]
    pub no_presign_multipart: bool,
    /// Where object bytes live: `local` (files under --data) or `s3` (a bucket on an S3 server,
    /// as lakeFS's S3 blockstore; credentials from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY).
    #[arg(long, env = "LAKEGATE_DEV_BLOCKSTORE", default_value = "local", value_parser = ["local", "s3"])]
    pub blockstore: String,
    /// S3 blockstore: the server's endpoint, e.g. http://127.0.0.1:8333.
    #[arg(long, env = "LAKEGATE_DEV_S3_ENDPOINT", required_if_eq("blockstore", "s3"))]
    pub s3_endpoint: Option<String>,
    /// S3 blockstore: the bucket holding every repository's storage namespace.
    #[arg(long, env = "LAKEGATE_DEV_S3_BUCKET", required_if_eq("blockstore", "s3"))]
    pub s3_bucket: Option<String>,
    /// S3 blockstore: the bucket's region.
    #[arg(long, env = "LAKEGATE_DEV_S3_REGION", default_value = "us-east-1")]
    pub s3_region: String,
    /// STS host (`host:port`, reached over http://) that the embedded server's
    /// externalPrincipalLogin may verify identity tokens with; repeatable. None: external logins
    /// are refused.
    #[arg(long = "sts-allowed-host", env = "LAKEGATE_DEV_STS_ALLOWED_HOSTS", value_delimiter = ',')]
    pub sts_allowed_hosts: Vec<String>,
    /// The X-LakeFS-Server-ID value identity tokens must be signed with (default: the embedded
    /// API's host:port).
    #[arg(long, env = "LAKEGATE_DEV_SERVER_ID")]
    pub server_id: Option<String>,
    /// Directory `lakegate import` (lakeFS `importStart`) may import from, zero copy (objects
    /// reference its files); repeatable. None: imports are refused.
    #[arg(long = "import-root", env = "LAKEGATE_DEV_IMPORT_ROOTS", value_delimiter = ',')]
    pub import_roots: Vec<PathBuf>,
    #[command(flatten)]
    pub oidc: DevOidcArgs,
    /// The S3 endpoint (listen address, TLS, domains, region).
    #[command(flatten)]
    pub gateway: crate::config::GatewayArgs,
}

/// The embedded server's `stsLogin` identity provider (what lakeFS's authentication service does).
#[derive(Debug, Clone, clap::Args)]
pub struct DevOidcArgs {
    /// OpenID Connect issuer URL (http://) whose authorization codes `stsLogin` exchanges — what
    /// `lakegate creds oidc` signs in with. None: `stsLogin` answers 501, as OSS lakeFS.
    #[arg(long, env = "LAKEGATE_DEV_OIDC_ISSUER", requires = "oidc_client_id")]
    pub oidc_issuer: Option<String>,
    /// The OAuth client id registered at the issuer (the ID token's audience).
    #[arg(long, env = "LAKEGATE_DEV_OIDC_CLIENT_ID")]
    pub oidc_client_id: Option<String>,
    /// The client's secret (a confidential client); none: a public client.
    #[arg(long, env = "LAKEGATE_DEV_OIDC_CLIENT_SECRET", hide_env_values = true)]
    pub oidc_client_secret: Option<String>,
    /// `CLAIM=VALUE` the ID token must carry (a list claim must contain VALUE); repeatable.
    #[arg(long = "oidc-required-claim", env = "LAKEGATE_DEV_OIDC_REQUIRED_CLAIMS", value_delimiter = ',', value_parser = key_value)]
    pub oidc_required_claims: Vec<(String, String)>,
    /// `SUBJECT=USER`: the lakeFS user (created when missing, without policies) an ID token's
    /// `sub` signs in as; repeatable. A subject not listed is refused.
    #[arg(long = "oidc-user", env = "LAKEGATE_DEV_OIDC_USERS", value_delimiter = ',', value_parser = key_value)]
    pub oidc_users: Vec<(String, String)>,
}

impl DevOidcArgs {
    /// The embedded server's settings, when an issuer is given.
    pub fn settings(&self) -> Option<lakefs_embedded::oidc::OidcSettings> {
        Some(lakefs_embedded::oidc::OidcSettings {
            issuer: self.oidc_issuer.clone()?,
            client_id: self.oidc_client_id.clone().unwrap_or_default(),
            client_secret: self.oidc_client_secret.clone(),
            required_claims: self.oidc_required_claims.clone(),
            users: self.oidc_users.clone(),
        })
    }
}

/// The repository `lakegate dev` creates on first start.
pub const DEMO_REPOSITORY: &str = "demo";

/// What `dev.json` holds.
#[derive(Debug, Serialize)]
pub struct DevInfo {
    pub api_endpoint: String,
    pub s3_endpoint: String,
    /// The admin listener: `/metrics`, `/healthz`, `/readyz`.
    pub admin_endpoint: String,
    pub region: String,
    /// The gateway key S3 clients sign with (created like `lakegate keys create --user admin`).
    pub access_key_id: String,
    pub secret_access_key: String,
    /// The external principal the key stands for, and its lakeFS user.
    pub principal_id: String,
    pub user_id: String,
    /// The admin's lakeFS key pair, for the lakeFS API (lakefs-sdk, lakectl, curl).
    pub lakefs_access_key_id: String,
    pub lakefs_secret_access_key: String,
    /// The gateway key file (`lakegate keys --dev DIR` edits it; the gateway reloads it).
    pub keys_file: String,
    pub data_dir: String,
}

#[derive(Debug, thiserror::Error)]
pub enum DevError {
    #[error("embedded server: {0}")]
    Embedded(#[from] lakefs_embedded::error::ApiError),
    #[error("configuration: {0}")]
    Config(String),
    #[error("gateway: {0}")]
    Gateway(#[from] crate::gateway::GatewayError),
    #[error("gateway keys: {0}")]
    Keys(String),
    #[error("writing {path}: {source}")]
    Write { path: String, source: std::io::Error },
}

/// The lakeFS user `lakegate dev`'s own gateway key acts as.
pub const DEV_USER: &str = "admin";

/// A `NAME=VALUE` flag value.
fn key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() && !v.trim().is_empty() => {
            Ok((k.trim().to_string(), v.trim().to_string()))
        }
        _ => Err(format!("expected NAME=VALUE, got {s:?}")),
    }
}

/// Runs until Ctrl-C or SIGTERM.
pub async fn run(args: DevArgs) -> Result<(), DevError> {
    let s3 = s3_config(&args)?;
    let scheme_prefix = match &s3 {
        Some(c) => format!("s3://{}/", c.bucket),
        None => "local://".to_string(),
    };
    let cfg = EmbeddedConfig {
        data_dir: args.data.clone(),
        listen: args.api_listen,
        presign_expiry: (!args.no_presign).then(|| std::time::Duration::from_secs(args.presign_expiry_secs)),
        presign_multipart: !args.no_presign_multipart,
        s3,
        sts_allowed_hosts: args.sts_allowed_hosts.clone(),
        server_id: args.server_id.clone(),
        import_roots: args.import_roots.clone(),
        oidc: args.oidc.settings(),
        extra_storages: Vec::new(),
    };
    // The API over TLS: the gateway below reaches it (and the blob URLs it presigns) through the
    // process's outbound client, which must trust the certificate's issuer (SSL_CERT_FILE,
    // --ca-file or the system roots).
    let api_tls = match (&args.api_tls_cert, &args.api_tls_key) {
        (Some(cert), Some(key)) => Some(
            lakegate_net::server::tls::acceptor(cert, key)
                .map_err(|e| DevError::Config(format!("--api-tls-cert/--api-tls-key: {e}")))?,
        ),
        _ => None,
    };
    let running = Embedded::start_tls(&cfg, api_tls).await?;
    if running.admin.created {
        create_demo(&running, &scheme_prefix).await?;
    }
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let wait = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let (api_endpoint, embedded, admin) = (running.api_endpoint(), running.state.clone(), running.admin.clone());
    // the embedded server stops after the gateway drained (in-flight requests still need it)
    let (api_stop_tx, api_stop_rx) = tokio::sync::watch::channel(false);
    let api = tokio::spawn(running.serve(wait(api_stop_rx)));
    let creds = Credentials::Basic {
        access_key_id: admin.access_key_id.clone(),
        secret_access_key: admin.secret_access_key.clone(),
    };
    let lakefs = LakeFsClient::new(ClientConfig::new(&api_endpoint, creds))
        .map_err(|e| DevError::Embedded(lakefs_embedded::error::ApiError::internal(e)))?;
    let mut gateway_args = args.gateway.clone();
    gateway_args.admin_listen = Some(admin_listen(&gateway_args).await);
    gateway_args.namespace_template.get_or_insert_with(|| format!("{scheme_prefix}{{repo}}"));
    gateway_args.state_dir.get_or_insert_with(|| args.data.join("gateway"));
    let keys_file = gateway_args.identity.keys_file.get_or_insert_with(|| args.data.join("keys.toml")).clone();
    let mode = gateway_args.identity.identity_mode;
    let key = dev_key(&lakefs, &keys_file, mode).await?;
    // Over TLS, the embedded server (an http:// STS client) reaches the STS endpoint on a
    // loopback clear-text listener that answers nothing else.
    let sts_listener = match (&gateway_args.tls_cert, &gateway_args.identity.sts_host) {
        (Some(_), None) => {
            let l = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .map_err(|e| DevError::Config(format!("binding the STS listener: {e}")))?;
            gateway_args.identity.sts_host = l.local_addr().ok().map(|a| a.to_string());
            Some(l)
        }
        _ => None,
    };
    let store = KeyStore::open(&keys_file, mode).map_err(|e| DevError::Keys(e.to_string()))?;
    let gateway = GatewayServer::bind(&gateway_args, Arc::new(store), lakefs).await?;
    embedded.allow_sts_host(gateway.sts_host());
    let sts = sts_listener.map(|l| tokio::spawn(gateway.serve_sts_only(l, wait(stop_rx.clone()))));
    let data_dir = std::fs::canonicalize(&args.data).unwrap_or(args.data.clone());
    let info = DevInfo {
        api_endpoint,
        s3_endpoint: gateway.endpoint(),
        admin_endpoint: format!("http://{}", gateway.admin_addr),
        region: args.gateway.region.clone(),
        access_key_id: key.access_key_id.clone(),
        secret_access_key: key.secret_access_key.clone(),
        principal_id: key.principal(),
        user_id: key.user_id.clone().unwrap_or_else(|| DEV_USER.to_string()),
        lakefs_access_key_id: admin.access_key_id.clone(),
        lakefs_secret_access_key: admin.secret_access_key.clone(),
        keys_file: std::fs::canonicalize(&keys_file).unwrap_or(keys_file).display().to_string(),
        data_dir: data_dir.display().to_string(),
    };
    write_dev_json(&args.data, &info)?;
    print_banner(&info, admin.created, key.mode_name(mode));
    let s3 = tokio::spawn(gateway.serve(wait(stop_rx)));
    crate::shutdown::signal().await;
    let _ = stop_tx.send(true);
    let _ = s3.await;
    let _ = api_stop_tx.send(true);
    let _ = api.await;
    if let Some(sts) = sts {
        let _ = sts.await;
    }
    tracing::info!("lakegate dev stopped");
    Ok(())
}

/// The gateway key `lakegate dev` advertises: the first key of the admin user in the key file,
/// created (as `lakegate keys create --user admin` does) when there is none.
async fn dev_key(lakefs: &LakeFsClient, keys_file: &Path, mode: ModeName) -> Result<KeyRecord, DevError> {
    let err = |e: String| DevError::Keys(e);
    if keys_file.exists() {
        let file = keystore::read(keys_file, mode).map_err(|e| err(e.to_string()))?;
        if let Some(k) = file.keys.iter().find(|k| k.user_id.as_deref() == Some(DEV_USER)).or(file.keys.first()) {
            return Ok(k.clone());
        }
    }
    let created = crate::cmd::keys::create(lakefs, keys_file, mode, DEV_USER, None, None)
        .await
        .map_err(|e| err(e.to_string()))?;
    tracing::info!(access_key = %created.access_key_id, principal = %created.principal_id, "created the dev gateway key");
    let file = keystore::read(keys_file, mode).map_err(|e| err(e.to_string()))?;
    file.keys.into_iter().find(|k| k.access_key_id == created.access_key_id).ok_or_else(|| err("key vanished".into()))
}

/// The S3 blockstore settings of `--blockstore s3` (keys from the standard AWS variables).
fn s3_config(args: &DevArgs) -> Result<Option<S3Config>, DevError> {
    if args.blockstore != "s3" {
        return Ok(None);
    }
    // LAKEGATE_DEV_S3_* first, so the store's keys need not be the process's AWS identity.
    let env = |own: &str, aws: &str| {
        std::env::var(own)
            .or_else(|_| std::env::var(aws))
            .map_err(|_| DevError::Config(format!("--blockstore s3 needs {own} (or {aws}) in the environment")))
    };
    Ok(Some(S3Config {
        endpoint: args.s3_endpoint.clone().unwrap_or_default(),
        bucket: args.s3_bucket.clone().unwrap_or_default(),
        region: args.s3_region.clone(),
        access_key_id: env("LAKEGATE_DEV_S3_ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID")?,
        secret_access_key: env("LAKEGATE_DEV_S3_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY")?,
    }))
}

/// Where `lakegate dev`'s admin listener binds: `--admin-listen` when given; else the default
/// port, or a free one when another process (a second `lakegate dev`, say) holds the default.
async fn admin_listen(args: &crate::config::GatewayArgs) -> std::net::SocketAddr {
    let default = args.admin_addr();
    if args.admin_listen.is_some() || default.port() == 0 {
        return default;
    }
    match tokio::net::TcpListener::bind(default).await {
        Ok(_) => default,
        Err(e) => {
            tracing::warn!(%default, %e, "admin port busy: the admin listener takes a free port (see the banner)");
            std::net::SocketAddr::new(default.ip(), 0)
        }
    }
}

async fn create_demo(running: &Running, scheme_prefix: &str) -> Result<(), DevError> {
    let repo = Repository {
        id: DEMO_REPOSITORY.into(),
        creation_date: now_unix(),
        default_branch: "main".into(),
        storage_namespace: format!("{scheme_prefix}{DEMO_REPOSITORY}"),
        storage_id: None,
        read_only: Some(false),
    };
    running.state.seed_repository(repo).await?;
    Ok(())
}

/// Writes `dev.json` atomically with owner-only permissions (it holds a secret).
fn write_dev_json(dir: &Path, info: &DevInfo) -> Result<(), DevError> {
    let path = dir.join("dev.json");
    let tmp = dir.join(".dev.json.tmp");
    let err = |source| DevError::Write { path: path.display().to_string(), source };
    let body = serde_json::to_vec_pretty(info).map_err(|e| err(std::io::Error::other(e)))?;
    lakegate_net::util::write_private(&tmp, &body).map_err(err)?;
    std::fs::rename(&tmp, &path).map_err(err)
}

fn print_banner(info: &DevInfo, first_start: bool, mode: ModeName) {
    let first = if first_start { " (created on this first start; keep them)" } else { "" };
    let mode = serde_json::to_value(mode).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
    println!(
        "lakegate dev is running\n\
         \n  S3 endpoint:            {s3}   (region {region})\
         \n  access key id:          {ak}\
         \n  secret access key:      {sk}\
         \n    (a gateway key, mode {mode}: principal {principal} of lakeFS user {user}; key file {keys})\
         \n  admin (metrics/health): {adm}/metrics  {adm}/healthz  {adm}/readyz\
         \n  lakeFS API (embedded):  {api}\
         \n  lakeFS admin key:       {lak} / {lsk}{first}\
         \n  data directory:         {dir}   (all of this is in {dir}/dev.json)\
         \n\nTry it:\n  AWS_ACCESS_KEY_ID={ak} AWS_SECRET_ACCESS_KEY={sk} aws --endpoint-url {s3} s3 ls\
         \n  python3 -c \"import boto3; s3 = boto3.client('s3', endpoint_url='{s3}', aws_access_key_id='{ak}', aws_secret_access_key='{sk}', region_name='{region}'); print(s3.list_buckets()['Buckets'])\"\
         \n  curl -u '{lak}:{lsk}' {api}/repositories\
         \n  lakegate keys create --dev {dir} --user admin     (another key; see `lakegate keys --help`)\n\
         \nKeys are <branch>/<path> inside a bucket (= repository). Press Ctrl-C to stop.",
        api = info.api_endpoint,
        adm = info.admin_endpoint,
        s3 = info.s3_endpoint,
        region = info.region,
        ak = info.access_key_id,
        sk = info.secret_access_key,
        principal = info.principal_id,
        user = info.user_id,
        keys = info.keys_file,
        lak = info.lakefs_access_key_id,
        lsk = info.lakefs_secret_access_key,
        dir = info.data_dir,
    );
}
