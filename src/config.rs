//! Configuration of the S3 front door and of `lakegate serve`, from flags or environment
//! variables (same names, `LAKEGATE_` prefix).

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
    #[arg(long = "domain", env = "LAKEGATE_DOMAINS", value_delimiter = ',')]
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
    /// Most bytes of multipart parts spooled at once on storage without presigned multipart.
    #[arg(long, env = "LAKEGATE_SPOOL_MAX_BYTES", default_value_t = 10 << 30)]
    pub spool_max_bytes: u64,
}

/// `lakegate serve`: the gateway in front of an existing lakeFS.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub gateway: GatewayArgs,
    /// lakeFS API endpoint, e.g. http://lakefs:8000/api/v1.
    #[arg(long, env = "LAKEGATE_LAKEFS_ENDPOINT")]
    pub lakefs_endpoint: String,
    /// lakeFS access key id the gateway calls lakeFS with.
    #[arg(long, env = "LAKEGATE_LAKEFS_ACCESS_KEY_ID")]
    pub lakefs_access_key_id: String,
    /// lakeFS secret access key (prefer the environment variable).
    #[arg(long, env = "LAKEGATE_LAKEFS_SECRET_ACCESS_KEY", hide_env_values = true)]
    pub lakefs_secret_access_key: String,
    /// File of S3 keys clients sign with: one `<access key id> <secret access key>` per line.
    #[arg(long, env = "LAKEGATE_CREDENTIALS_FILE")]
    pub credentials_file: PathBuf,
}
