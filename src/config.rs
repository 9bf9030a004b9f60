//! Configuration of the S3 front door and of `lakegate serve`: flags, environment variables
//! (`LAKEGATE_` + the flag's name) and a TOML file (`--config`, keys = the flags' names with `_`);
//! a flag beats the environment, which beats the file, which beats the default. [`file`] merges
//! the file, [`check`] validates a whole configuration (`serve --check-config`), [`reference`]
//! renders the configuration reference in docs/operations.md from these definitions.

pub mod check;
pub mod file;
pub mod reference;

use std::net::SocketAddr;
use std::path::PathBuf;

/// Settings of the S3 listener (shared by `serve` and `dev`).
#[derive(Debug, Clone, clap::Args)]
pub struct GatewayArgs {
    /// Address of the S3 endpoint (port 0 picks a free port).
    #[arg(long, env = "LAKEGATE_LISTEN", default_value = "127.0.0.1:8000")]
    pub listen: SocketAddr,
    /// PEM certificate chain: serve HTTPS (with HTTP/2 by ALPN). Needs --tls-key.
    #[arg(long, env = "LAKEGATE_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for --tls-cert.
    #[arg(long, env = "LAKEGATE_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Base domain for virtual-host-style buckets (`<bucket>.<domain>`); repeatable.
    #[arg(long = "domain", env = "LAKEGATE_DOMAIN", value_delimiter = ',')]
    pub domains: Vec<String>,
    /// Region reported to clients (GetBucketLocation, HeadBucket).
    #[arg(long, env = "LAKEGATE_REGION", default_value = "us-east-1")]
    pub region: String,
    /// Also accept Signature Version 2 header auth (legacy clients; SigV4 is always accepted).
    #[arg(long, env = "LAKEGATE_ALLOW_SIGV2")]
    pub allow_sigv2: bool,
    /// Bare repository buckets address the default branch with flat keys (instead of `<ref>/<path>`).
    #[arg(long, env = "LAKEGATE_FLAT_BUCKETS")]
    pub flat_buckets: bool,
    /// Storage namespace of repositories created by CreateBucket, `{repo}` replaced by the name
    /// (e.g. `s3://my-bucket/lakefs/{repo}`); without it CreateBucket of a repository is refused.
    #[arg(long, env = "LAKEGATE_NAMESPACE_TEMPLATE")]
    pub namespace_template: Option<String>,
    /// Directory for lakegate's own state: the multipart upload registry and spool
    /// (default: `lakegate-state`, or `<data>/gateway` under `lakegate dev`).
    #[arg(long, env = "LAKEGATE_STATE_DIR")]
    pub state_dir: Option<PathBuf>,
    /// File holding the key that signs multipart upload ids (at least 32 characters); replicas
    /// that share it serve each other's uploads. Default: `<state dir>/upload-id.key`, created
    /// on first start.
    #[arg(long, env = "LAKEGATE_UPLOAD_ID_KEY_FILE")]
    pub upload_id_key_file: Option<PathBuf>,
    /// File of the keys that seal the session tokens of temporary credentials (OIDC login): one
    /// `ID SECRET` line per key (secret ≥ 32 characters), the first seals, all open; reloaded on
    /// change. Replicas that share it accept each other's credentials. Default:
    /// `<state dir>/session.keys`, created on first start.
    #[arg(long, env = "LAKEGATE_SESSION_KEY_FILE")]
    pub session_key_file: Option<PathBuf>,
    /// Longest lifetime, in seconds, of temporary credentials from the OIDC login endpoint
    /// (lakeFS's `stsLogin` allows 12 hours).
    #[arg(long, env = "LAKEGATE_SESSION_MAX_TTL_SECS", default_value_t = 43_200,
          value_parser = clap::value_parser!(u64).range(1..=43_200))]
    pub session_max_ttl_secs: u64,
    /// Most bytes of multipart parts spooled at once on storage without presigned multipart.
    #[arg(long, env = "LAKEGATE_SPOOL_MAX_BYTES", default_value_t = 10 << 30)]
    pub spool_max_bytes: u64,
    /// Bytes of memory for small objects (≤ 64 KiB) read at commit ids, served again without a
    /// lakeFS call or an object-store read (0: off).
    #[arg(long, env = "LAKEGATE_SMALL_OBJECT_CACHE", default_value_t = 16 << 20)]
    pub small_object_cache: u64,
    /// Address of the admin listener (`/healthz`, `/readyz`, `/metrics`). Default: port 9090 on
    /// the S3 listen address's IP (port 0 — a free port — when the S3 port is 0).
    #[arg(long, env = "LAKEGATE_ADMIN_LISTEN")]
    pub admin_listen: Option<SocketAddr>,
    /// On SIGTERM/Ctrl-C: stop accepting, answer `/readyz` 503, and let in-flight requests
    /// (uploads, downloads) finish for up to this many seconds before exiting.
    #[arg(long, env = "LAKEGATE_SHUTDOWN_GRACE_SECS", default_value_t = 30)]
    pub shutdown_grace_secs: u64,
    /// Publish on success: `repo=R,branch=GLOB,into=BRANCH[,merge=auto|manual][,on_failure=keep|delete|reset]`
    /// — a `_SUCCESS` object written on a matching branch commits it and opens a pull request into
    /// `into` (merged with `merge=auto`); DeleteBucket of `R.<branch>` deletes or resets the branch
    /// (`on_failure`). Repeatable (a list in the config file).
    #[arg(long = "publish-rule", env = "LAKEGATE_PUBLISH_RULE", value_name = "RULE")]
    pub publish_rules: Vec<crate::publish::PublishRule>,
    #[command(flatten)]
    pub limits: LimitArgs,
    #[command(flatten)]
    pub identity: IdentityArgs,
}

/// What the S3 listener accepts before it answers `503 SlowDown` (with `Retry-After`) or closes.
#[derive(Debug, Clone, clap::Args)]
pub struct LimitArgs {
    /// Most client connections open at once; a connection beyond it gets one `503 SlowDown`
    /// answer (`Retry-After`, `Connection: close`) instead of service.
    #[arg(long, env = "LAKEGATE_MAX_CONNECTIONS", default_value_t = 4096,
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_connections: u64,
    /// Most requests in progress at once per access key (a download counts until its body is
    /// sent); beyond it `503 SlowDown` with `Retry-After`.
    #[arg(long, env = "LAKEGATE_MAX_REQUESTS_PER_KEY", default_value_t = 512,
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_requests_per_key: u64,
    /// Seconds a request may take to start its answer, counted from the last request-body byte
    /// received (an upload is not limited by its size); beyond it `503 SlowDown`.
    #[arg(long, env = "LAKEGATE_REQUEST_TIMEOUT_SECS", default_value_t = 300,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub request_timeout_secs: u64,
    /// Seconds a connection may stay silent: an idle keep-alive connection is closed, a request
    /// body that stops arriving gets `400 RequestTimeout`, a download the client stops reading is
    /// dropped.
    #[arg(long, env = "LAKEGATE_IDLE_TIMEOUT_SECS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub idle_timeout_secs: u64,
}

impl Default for LimitArgs {
    /// The flags' defaults.
    fn default() -> LimitArgs {
        LimitArgs { max_connections: 4096, max_requests_per_key: 512, request_timeout_secs: 300, idle_timeout_secs: 60 }
    }
}

impl GatewayArgs {
    /// The admin listener's address (see `--admin-listen`).
    pub fn admin_addr(&self) -> SocketAddr {
        let port = if self.listen.port() == 0 { 0 } else { 9090 };
        self.admin_listen.unwrap_or(SocketAddr::new(self.listen.ip(), port))
    }
}

/// Gateway keys and how their requests reach lakeFS (shared by `serve`, `dev` and `keys`).
#[derive(Debug, Clone, clap::Args)]
pub struct IdentityArgs {
    /// The gateway key file (TOML, mode 0600; reloaded on change). Default under `lakegate dev`:
    /// `<data>/keys.toml`.
    #[arg(long, env = "LAKEGATE_KEYS_FILE")]
    pub keys_file: Option<PathBuf>,
    /// Mode of keys that name none: `principal` (lakeFS external principal login), `lakefs-key`
    /// (the key's own lakeFS key pair) or `service` (the gateway's lakeFS identity).
    #[arg(long, env = "LAKEGATE_IDENTITY_MODE", value_enum, default_value = "principal")]
    pub identity_mode: crate::auth::keystore::ModeName,
    /// `host[:port]` at which lakeFS reaches this gateway's STS endpoint (identity tokens name it;
    /// lakeFS must list it among its allowed STS hosts). Default: the S3 listen address.
    #[arg(long, env = "LAKEGATE_STS_HOST")]
    pub sts_host: Option<String>,
    /// Region identity tokens are signed for.
    #[arg(long, env = "LAKEGATE_STS_REGION", default_value = "us-east-1")]
    pub sts_region: String,
    /// The `X-LakeFS-Server-ID` lakeFS requires in identity tokens. Default: the host of the
    /// lakeFS endpoint.
    #[arg(long, env = "LAKEGATE_LAKEFS_SERVER_ID")]
    pub lakefs_server_id: Option<String>,
    /// Seconds a principal → lakeFS user mapping is cached (unattached principals: at most 5).
    #[arg(long, env = "LAKEGATE_PRINCIPAL_CACHE_SECS", default_value_t = 30)]
    pub principal_cache_secs: u64,
}

impl Default for IdentityArgs {
    /// The flags' defaults.
    fn default() -> IdentityArgs {
        IdentityArgs {
            keys_file: None,
            identity_mode: crate::auth::keystore::ModeName::Principal,
            sts_host: None,
            sts_region: "us-east-1".into(),
            lakefs_server_id: None,
            principal_cache_secs: 30,
        }
    }
}

/// How the gateway itself authenticates to lakeFS (`serve`, `keys`).
#[derive(Debug, Clone, clap::Args)]
pub struct LakeFsArgs {
    /// lakeFS API endpoint, e.g. http://lakefs:8000/api/v1.
    #[arg(long, env = "LAKEGATE_LAKEFS_ENDPOINT")]
    pub lakefs_endpoint: Option<String>,
    /// lakeFS access key id the gateway calls lakeFS with.
    #[arg(long, env = "LAKEGATE_LAKEFS_ACCESS_KEY_ID")]
    pub lakefs_access_key_id: Option<String>,
    /// lakeFS secret access key (prefer the environment variable).
    #[arg(long, env = "LAKEGATE_LAKEFS_SECRET_ACCESS_KEY", hide_env_values = true)]
    pub lakefs_secret_access_key: Option<String>,
    /// Log in to lakeFS with `externalPrincipalLogin` instead of a lakeFS key pair, signed with AWS
    /// credentials from the AWS SDK's default chain: environment (`AWS_ACCESS_KEY_ID`, …), shared
    /// config/credentials files and `AWS_PROFILE`, web identity token file (EKS IRSA), container
    /// credentials endpoint (ECS, EKS Pod Identity), EC2 instance metadata (IMDSv2).
    #[arg(long, env = "LAKEGATE_LAKEFS_AWS_IAM", conflicts_with_all = ["lakefs_access_key_id", "lakefs_secret_access_key"])]
    pub lakefs_aws_iam: bool,
    /// STS host lakeFS verifies the gateway's AWS identity with (`--lakefs-aws-iam`).
    #[arg(long, env = "LAKEGATE_LAKEFS_AWS_STS_HOST", default_value = "sts.amazonaws.com")]
    pub lakefs_aws_sts_host: String,
    /// Region of the gateway's AWS identity token (`--lakefs-aws-iam`).
    #[arg(long, env = "LAKEGATE_LAKEFS_AWS_REGION", default_value = "us-east-1")]
    pub lakefs_aws_region: String,
}

/// `lakegate serve`: the gateway in front of an existing lakeFS.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Check the configuration (flags, environment, `--config` file, the files it names), print
    /// every problem found and exit (0: usable, 1: not) without serving.
    #[arg(long)]
    pub check_config: bool,
    #[command(flatten)]
    pub gateway: GatewayArgs,
    #[command(flatten)]
    pub lakefs: LakeFsArgs,
    /// Problems found in the configuration file and environment (reported by `--check-config`).
    #[arg(skip)]
    pub config_problems: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0}")]
    Missing(String),
    #[error("lakeFS client: {0}")]
    LakeFs(#[from] lakefs_api::LakeFsError),
}

impl LakeFsArgs {
    /// The lakeFS endpoint and admin key of a running `lakegate dev` (its `DIR/dev.json`).
    pub fn from_dev_dir(dir: &std::path::Path) -> Result<LakeFsArgs, String> {
        let path = dir.join("dev.json");
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("--dev: reading {}: {e} (is lakegate dev running there?)", path.display()))?;
        let info: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| format!("--dev: {}: {e}", path.display()))?;
        let field = |k: &str| info.get(k).and_then(|v| v.as_str()).map(str::to_string);
        Ok(LakeFsArgs {
            lakefs_endpoint: field("api_endpoint"),
            lakefs_access_key_id: field("lakefs_access_key_id"),
            lakefs_secret_access_key: field("lakefs_secret_access_key"),
            lakefs_aws_iam: false,
            lakefs_aws_sts_host: "sts.amazonaws.com".into(),
            lakefs_aws_region: "us-east-1".into(),
        })
    }

    /// The gateway's own lakeFS client.
    pub fn client(&self, server_id: Option<&str>) -> Result<lakefs_api::LakeFsClient, ConfigError> {
        use lakefs_api::client::{AwsIamLogin, ClientConfig, Credentials};
        let endpoint = self
            .lakefs_endpoint
            .clone()
            .ok_or_else(|| ConfigError::Missing("--lakefs-endpoint (LAKEGATE_LAKEFS_ENDPOINT) is required".into()))?;
        let creds = match (self.lakefs_aws_iam, &self.lakefs_access_key_id, &self.lakefs_secret_access_key) {
            (true, _, _) => {
                let host = endpoint.split_once("://").map_or(endpoint.as_str(), |(_, r)| r);
                Credentials::AwsIam(AwsIamLogin {
                    sts_host: self.lakefs_aws_sts_host.clone(),
                    region: self.lakefs_aws_region.clone(),
                    server_id: server_id
                        .map_or_else(|| host.split('/').next().unwrap_or("").to_string(), str::to_string),
                    keys: None,
                })
            }
            (false, Some(ak), Some(sk)) => {
                Credentials::Basic { access_key_id: ak.clone(), secret_access_key: sk.clone() }
            }
            _ => {
                return Err(ConfigError::Missing(
                    "the gateway's lakeFS identity: --lakefs-access-key-id and --lakefs-secret-access-key, or --lakefs-aws-iam".into(),
                ));
            }
        };
        Ok(lakefs_api::LakeFsClient::new(ClientConfig::new(endpoint, creds))?)
    }
}
