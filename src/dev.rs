//! `lakegate dev`: starts the embedded lakeFS-compatible server on a data directory, creates the
//! demo repository on first start, prints how to connect, and writes the same facts to
//! `<data>/dev.json` for scripts and tests.

use crate::auth::StaticKeys;
use crate::cli::DevArgs;
use crate::embedded::catalog::now_unix;
use crate::embedded::s3store::S3Config;
use crate::embedded::{Embedded, EmbeddedConfig, Running};
use crate::gateway::GatewayServer;
use crate::lakefs::LakeFsClient;
use crate::lakefs::client::{ClientConfig, Credentials};
use crate::lakefs::dto::Repository;
use serde::Serialize;
use std::path::Path;
use std::sync::Arc;

/// The repository `lakegate dev` creates on first start.
pub const DEMO_REPOSITORY: &str = "demo";

/// What `dev.json` holds.
#[derive(Debug, Serialize)]
pub struct DevInfo {
    pub api_endpoint: String,
    pub s3_endpoint: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    pub data_dir: String,
}

#[derive(Debug, thiserror::Error)]
pub enum DevError {
    #[error("embedded server: {0}")]
    Embedded(#[from] crate::embedded::error::ApiError),
    #[error("configuration: {0}")]
    Config(String),
    #[error("S3 endpoint: {0}")]
    Gateway(#[from] crate::gateway::GatewayError),
    #[error("writing {path}: {source}")]
    Write { path: String, source: std::io::Error },
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
    };
    let running = Embedded::start(&cfg).await?;
    if running.admin.created {
        create_demo(&running, &scheme_prefix).await?;
    }
    let keys = StaticKeys::new([(running.admin.access_key_id.clone(), running.admin.secret_access_key.clone())]);
    let creds = Credentials::Basic {
        access_key_id: running.admin.access_key_id.clone(),
        secret_access_key: running.admin.secret_access_key.clone(),
    };
    let lakefs = LakeFsClient::new(ClientConfig::new(running.api_endpoint(), creds))
        .map_err(|e| DevError::Embedded(crate::embedded::error::ApiError::internal(e)))?;
    let mut gateway_args = args.gateway.clone();
    gateway_args.namespace_template.get_or_insert_with(|| format!("{scheme_prefix}{{repo}}"));
    gateway_args.state_dir.get_or_insert_with(|| args.data.join("gateway"));
    let gateway = GatewayServer::bind(&gateway_args, Arc::new(keys), lakefs).await?;
    let data_dir = std::fs::canonicalize(&args.data).unwrap_or(args.data.clone());
    let info = DevInfo {
        api_endpoint: running.api_endpoint(),
        s3_endpoint: gateway.endpoint(),
        region: args.gateway.region.clone(),
        access_key_id: running.admin.access_key_id.clone(),
        secret_access_key: running.admin.secret_access_key.clone(),
        data_dir: data_dir.display().to_string(),
    };
    write_dev_json(&args.data, &info)?;
    print_banner(&info, running.admin.created);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let wait = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let api = tokio::spawn(running.serve(wait(stop_rx.clone())));
    let s3 = tokio::spawn(gateway.serve(wait(stop_rx)));
    shutdown_signal().await;
    let _ = stop_tx.send(true);
    let _ = tokio::join!(api, s3);
    tracing::info!("lakegate dev stopped");
    Ok(())
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

async fn create_demo(running: &Running, scheme_prefix: &str) -> Result<(), DevError> {
    let repo = Repository {
        id: DEMO_REPOSITORY.into(),
        creation_date: now_unix(),
        default_branch: "main".into(),
        storage_namespace: format!("{scheme_prefix}{DEMO_REPOSITORY}"),
        storage_id: None,
        read_only: Some(false),
    };
    running.state.db(move |m| m.create_repository(repo)).await?;
    Ok(())
}

/// Writes `dev.json` atomically with owner-only permissions (it holds a secret).
fn write_dev_json(dir: &Path, info: &DevInfo) -> Result<(), DevError> {
    let path = dir.join("dev.json");
    let tmp = dir.join(".dev.json.tmp");
    let err = |source| DevError::Write { path: path.display().to_string(), source };
    let body = serde_json::to_vec_pretty(info).map_err(|e| err(std::io::Error::other(e)))?;
    {
        use std::io::Write;
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let mut f = opts.open(&tmp).map_err(err)?;
        f.write_all(&body).map_err(err)?;
        f.sync_all().map_err(err)?;
    }
    std::fs::rename(&tmp, &path).map_err(err)
}

fn print_banner(info: &DevInfo, first_start: bool) {
    let first = if first_start { " (created on this first start; keep them)" } else { "" };
    println!(
        "lakegate dev is running\n\
         \n  S3 endpoint:            {s3}   (region {region})\
         \n  lakeFS API (embedded):  {api}\
         \n  access key id:          {ak}\
         \n  secret access key:      {sk}{first}\
         \n  data directory:         {dir}\
         \n  (also written to {dir}/dev.json)\
         \n\nTry it:\n  AWS_ACCESS_KEY_ID={ak} AWS_SECRET_ACCESS_KEY={sk} aws --endpoint-url {s3} s3 ls\
         \n  python3 -c \"import boto3; s3 = boto3.client('s3', endpoint_url='{s3}', aws_access_key_id='{ak}', aws_secret_access_key='{sk}', region_name='{region}'); print(s3.list_buckets()['Buckets'])\"\
         \n  curl -u '{ak}:{sk}' {api}/repositories\n\
         \nKeys are <branch>/<path> inside a bucket (= repository). Press Ctrl-C to stop.",
        api = info.api_endpoint,
        s3 = info.s3_endpoint,
        region = info.region,
        ak = info.access_key_id,
        sk = info.secret_access_key,
        dir = info.data_dir,
    );
}

pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
