//! Shared harness of the integration tests: a real embedded server on `127.0.0.1:0` in a temp
//! data dir, the typed lakeFS client pointed at it, and a raw HTTP client for presigned URLs.
#![allow(dead_code)]

pub mod devproc;
pub mod proxy;
pub mod s3;
pub mod sts_stub;
pub mod tls;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use lakefs_api::client::{ClientConfig, Credentials, LakeFsClient};
use lakefs_embedded::{Embedded, EmbeddedConfig};
use std::path::{Path, PathBuf};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A running embedded server.
pub struct Server {
    pub api_endpoint: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    pub data_dir: PathBuf,
    /// The server's shared state (login counters, server id).
    pub state: std::sync::Arc<Embedded>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Server {
    pub async fn start(data_dir: &Path) -> Server {
        Server::start_with(data_dir, true).await
    }

    /// A server whose blockstore presigns (`true`) or not, like lakeFS's local blockstore.
    pub async fn start_with(data_dir: &Path, presign: bool) -> Server {
        Server::start_opts(data_dir, presign.then_some(lakefs_embedded::PRESIGN_EXPIRY)).await
    }

    /// A server presigning URLs valid `expiry` (`None`: no presigning).
    pub async fn start_opts(data_dir: &Path, expiry: Option<std::time::Duration>) -> Server {
        Server::start_config(config(data_dir, expiry)).await
    }

    /// A server started with `cfg` (see [`config`] for the tests' defaults).
    pub async fn start_config(cfg: EmbeddedConfig) -> Server {
        let running = Embedded::start(&cfg).await.expect("embedded server starts");
        let (stop, stopped) = oneshot::channel::<()>();
        let api_endpoint = running.api_endpoint();
        let (access_key_id, secret_access_key) =
            (running.admin.access_key_id.clone(), running.admin.secret_access_key.clone());
        let state = running.state.clone();
        let task = tokio::spawn(running.serve(async move {
            let _ = stopped.await;
        }));
        Server {
            api_endpoint,
            access_key_id,
            secret_access_key,
            data_dir: cfg.data_dir.clone(),
            state,
            stop: Some(stop),
            task: Some(task),
        }
    }

    pub fn client(&self) -> LakeFsClient {
        let creds = Credentials::Basic {
            access_key_id: self.access_key_id.clone(),
            secret_access_key: self.secret_access_key.clone(),
        };
        LakeFsClient::new(ClientConfig::new(&self.api_endpoint, creds)).unwrap()
    }

    pub fn client_with(&self, creds: Credentials) -> LakeFsClient {
        LakeFsClient::new(ClientConfig::new(&self.api_endpoint, creds)).unwrap()
    }

    /// Stops the server and waits for it to drain.
    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            t.await.unwrap();
        }
    }
}

/// The tests' server settings: `127.0.0.1:0`, presigned multipart on, no STS host allowed.
pub fn config(data_dir: &Path, expiry: Option<std::time::Duration>) -> EmbeddedConfig {
    EmbeddedConfig {
        data_dir: data_dir.to_path_buf(),
        listen: "127.0.0.1:0".parse().unwrap(),
        presign_expiry: expiry,
        presign_multipart: true,
        s3: test_s3(),
        sts_allowed_hosts: Vec::new(),
        server_id: None,
        import_roots: Vec::new(),
        oidc: None,
        extra_storages: Vec::new(),
    }
}

/// The S3 blockstore the tests run on when `LAKEGATE_TEST_S3_*` is set (SeaweedFS in the test
/// command's second pass); the local blob store otherwise.
pub fn test_s3() -> Option<lakefs_embedded::s3store::S3Config> {
    let var = |n: &str| std::env::var(format!("LAKEGATE_TEST_S3_{n}")).ok();
    Some(lakefs_embedded::s3store::S3Config {
        endpoint: var("ENDPOINT")?,
        bucket: var("BUCKET")?,
        region: var("REGION").unwrap_or_else(|| "us-east-1".into()),
        access_key_id: var("ACCESS_KEY_ID")?,
        secret_access_key: var("SECRET_ACCESS_KEY")?,
    })
}

/// The storage namespace for a repository `name` on the tests' blockstore.
pub fn namespace(name: &str) -> String {
    match test_s3() {
        Some(s3) => format!("s3://{}/{name}-{}", s3.bucket, hex::encode(rand::random::<[u8; 4]>())),
        None => format!("local://{name}"),
    }
}

/// A repository creation for `name` in its own namespace.
pub fn repo_creation(name: &str) -> lakefs_api::dto::RepositoryCreation {
    lakefs_api::dto::RepositoryCreation { name: name.into(), storage_namespace: namespace(name), ..Default::default() }
}

/// lakegate's own outbound client: http and https (presigned URLs of an https object store, such as
/// the test command's SeaweedFS, whose CA `SSL_CERT_FILE` names).
pub type RawClient = lakegate_net::outbound::HttpClient<Full<Bytes>>;

pub fn raw_client() -> RawClient {
    lakegate_net::outbound::Outbound::global().client()
}

/// Sends a request and collects `(status, headers, body)`.
pub async fn raw(
    client: &RawClient,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> (u16, http::HeaderMap, Vec<u8>) {
    let mut req = http::Request::builder().method(method).uri(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = client.request(req.body(Full::new(Bytes::from(body))).unwrap()).await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.into_body().collect().await.unwrap().to_bytes().to_vec();
    (status, headers, body)
}

/// Deterministic pseudo-random bytes.
pub fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| ((i * 31 + seed as usize * 7) % 251) as u8).collect()
}

pub fn md5_hex(data: &[u8]) -> String {
    use md5::Digest;
    hex::encode(md5::Md5::digest(data))
}

/// An HTTP basic `Authorization` value.
pub fn basic(ak: &str, sk: &str) -> String {
    use base64::Engine;
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{ak}:{sk}")))
}

/// A JSON call to the embedded lakeFS API: `(status, body as JSON or Null)`.
pub async fn call(
    srv: &Server,
    method: &str,
    path: &str,
    auth: Option<&str>,
    body: Option<serde_json::Value>,
) -> (u16, serde_json::Value) {
    let mut headers = vec![("content-type", "application/json")];
    if let Some(a) = auth {
        headers.push(("authorization", a));
    }
    let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
    let url = format!("{}{path}", srv.api_endpoint);
    let (status, _, out) = raw(&raw_client(), method, &url, &headers, bytes).await;
    (status, serde_json::from_slice(&out).unwrap_or(serde_json::Value::Null))
}
