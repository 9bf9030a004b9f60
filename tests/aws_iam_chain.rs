//! `lakegate serve --lakefs-aws-iam` with the gateway's AWS credentials from the AWS SDK's default
//! chain, end to end over sockets with the real binary: a loopback container credentials endpoint
//! (what ECS and EKS Pod Identity expose: `AWS_CONTAINER_CREDENTIALS_FULL_URI` +
//! `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`) hands out a key pair of the gateway's own key file;
//! lakegate signs the `externalPrincipalLogin` identity token with it; the embedded lakeFS replays
//! the token to lakegate's own STS endpoint (in its allow-list), which answers the key's principal,
//! attached to `alice`. Also: a refused authorization token and no source at all give a one-line
//! reason on `/readyz`.

mod common;

use bytes::Bytes;
use common::*;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use lakegate::auth::keystore::ModeName;
use lakegate::cmd::keys::CreatedKey;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

const REPO: &str = "chainrepo";
const AUTH_TOKEN: &str = "pod-identity-token-0123456789";

/// What the credentials endpoint saw.
#[derive(Default)]
struct Hits {
    /// Requests with the right `Authorization` (answered with the credentials).
    served: AtomicUsize,
    /// Requests without it (answered 401).
    refused: AtomicUsize,
}

/// A loopback container credentials endpoint answering `GET /v1/credentials` with `key` (and a
/// session token) to callers presenting [`AUTH_TOKEN`].
async fn credentials_endpoint(key: &CreatedKey) -> (String, Arc<Hits>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1/credentials", listener.local_addr().unwrap());
    let hits = Arc::new(Hits::default());
    let body = json!({
        "AccessKeyId": key.access_key_id,
        "SecretAccessKey": key.secret_access_key,
        "Token": "container-session-token",
        "Expiration": "2099-01-01T00:00:00Z",
    })
    .to_string();
    let seen = hits.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (seen, body) = (seen.clone(), body.clone());
            let svc = hyper::service::service_fn(move |req: http::Request<Incoming>| {
                let authorized = req.headers().get("authorization").is_some_and(|v| v == AUTH_TOKEN)
                    && req.uri().path() == "/v1/credentials";
                let counter = if authorized { &seen.served } else { &seen.refused };
                counter.fetch_add(1, Ordering::SeqCst);
                let (status, text) = if authorized { (200, body.clone()) } else { (401, "{}".to_string()) };
                let resp = http::Response::builder()
                    .status(status)
                    .header("content-type", "application/json")
                    .body(Full::new(Bytes::from(text)))
                    .unwrap();
                async move { Ok::<_, std::convert::Infallible>(resp) }
            });
            tokio::spawn(hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(tcp), svc));
        }
    });
    (url, hits)
}

/// The embedded lakeFS with a repository, `alice` (FSFullAccess), and a key file holding alice's
/// principal key (the AWS identity the endpoint hands out) and a `service`-mode key.
struct Setup {
    _dir: tempfile::TempDir,
    dir: PathBuf,
    srv: Server,
    keys_file: PathBuf,
    alice: CreatedKey,
    service: CreatedKey,
}

async fn setup() -> Setup {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let srv = Server::start(&dir.join("data")).await;
    let admin = srv.client();
    admin.create_repository(&repo_creation(REPO)).await.unwrap();
    let auth = basic(&srv.access_key_id, &srv.secret_access_key);
    assert_eq!(call(&srv, "POST", "/auth/users", Some(&auth), Some(json!({ "id": "alice" }))).await.0, 201);
    assert_eq!(call(&srv, "PUT", "/auth/users/alice/policies/FSFullAccess", Some(&auth), None).await.0, 201);
    let keys_file = dir.join("keys.toml");
    let create = |mode| lakegate::cmd::keys::create(&admin, &keys_file, ModeName::Principal, "alice", None, mode);
    let alice = create(None).await.unwrap();
    let service = create(Some(ModeName::Service)).await.unwrap();
    Setup { _dir: tmp, dir, srv, keys_file, alice, service }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A `lakegate serve` process (killed on drop); its stderr goes to a file shown on failure.
struct Gateway {
    child: Child,
    s3: String,
    admin: String,
    log: PathBuf,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Gateway {
    /// Starts `lakegate serve --lakefs-aws-iam` with only `env` (plus a private HOME, a region and
    /// IMDS off) in its environment, so no credentials of the machine running the tests leak in.
    fn start(s: &Setup, name: &str, env: &[(&str, &str)]) -> Gateway {
        let s3 = format!("127.0.0.1:{}", free_port());
        let admin = format!("127.0.0.1:{}", free_port());
        s.srv.state.allow_sts_host(&s3);
        let home = s.dir.join(format!("home-{name}"));
        std::fs::create_dir_all(&home).unwrap();
        let log = s.dir.join(format!("{name}.log"));
        let bin = std::env::var("LAKEGATE_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_lakegate").to_string());
        // the CA that the object store of the test command's SeaweedFS pass is signed by
        let trust: Vec<(&str, std::ffi::OsString)> =
            std::env::var_os("SSL_CERT_FILE").map(|f| ("SSL_CERT_FILE", f)).into_iter().collect();
        #[allow(clippy::zombie_processes)] // waited for in `Drop`
        let child = Command::new(bin)
            .current_dir(&home)
            .env_clear()
            .envs(trust)
            .env("HOME", &home)
            .env("AWS_REGION", "us-east-1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .envs(env.iter().copied())
            .args(["serve", "--listen", &s3, "--admin-listen", &admin, "--keys-file"])
            .arg(&s.keys_file)
            .arg("--state-dir")
            .arg(home.join("state"))
            .args(["--lakefs-endpoint", &s.srv.api_endpoint, "--lakefs-aws-iam", "--lakefs-aws-sts-host", &s3])
            .args(["--lakefs-server-id", s.srv.state.server_id()])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("spawn lakegate serve");
        Gateway { child, s3, admin, log }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// `/readyz` once the admin listener answers: (status, body).
    async fn readyz(&mut self) -> (u16, String) {
        let client = raw_client();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let req =
                http::Request::get(format!("http://{}/readyz", self.admin)).body(Full::new(Bytes::new())).unwrap();
            if let Ok(resp) = client.request(req).await {
                let status = resp.status().as_u16();
                let body = http_body_util::BodyExt::collect(resp.into_body()).await.unwrap().to_bytes();
                return (status, String::from_utf8_lossy(&body).into_owned());
            }
            assert!(self.child.try_wait().unwrap().is_none(), "lakegate exited: {}", self.log());
            assert!(Instant::now() < deadline, "lakegate did not listen: {}", self.log());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// An S3 request signed with `key`: (status, body).
    async fn s3(&self, key: &CreatedKey, method: &str, path: &str, body: &[u8]) -> (u16, Vec<u8>) {
        let req = common::s3::Req::new(method, path).body(body);
        let hash = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(body));
        let (path, headers) = common::s3::sign_request(
            &req,
            &self.s3,
            &key.access_key_id,
            &key.secret_access_key,
            SystemTime::now(),
            &hash,
            None,
        );
        let headers: Vec<(&str, &str)> =
            headers.iter().filter(|(k, _)| k != "host").map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let url = format!("http://{}{path}", self.s3);
        let (status, _, out) = raw(&raw_client(), method, &url, &headers, body.to_vec()).await;
        (status, out)
    }
}

fn token_file(dir: &Path, token: &str) -> String {
    let path = dir.join(format!("token-{}", token.len()));
    std::fs::write(&path, token).unwrap();
    path.to_str().unwrap().to_string()
}

#[tokio::test]
async fn the_gateway_logs_in_with_credentials_from_the_container_endpoint() {
    let s = setup().await;
    let (url, hits) = credentials_endpoint(&s.alice).await;
    let token = token_file(&s.dir, AUTH_TOKEN);
    let env =
        [("AWS_CONTAINER_CREDENTIALS_FULL_URI", url.as_str()), ("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", &token)];
    let mut gw = Gateway::start(&s, "pod", &env);

    let (status, body) = gw.readyz().await;
    assert_eq!(status, 200, "{body}\n{}", gw.log());
    assert_eq!(hits.served.load(Ordering::SeqCst), 1, "the endpoint was asked once");
    assert_eq!(hits.refused.load(Ordering::SeqCst), 0, "with the authorization token");
    assert_eq!(s.srv.state.external_login_count(), 1, "one externalPrincipalLogin, verified at lakegate's STS");

    // The gateway's identity (a service-mode key acts as it) is alice: she may write.
    let path = format!("/{REPO}/main/from-the-pod.txt");
    let (status, out) = gw.s3(&s.service, "PUT", &path, b"signed by the pod's role").await;
    assert_eq!(status, 200, "{}\n{}", String::from_utf8_lossy(&out), gw.log());
    let (status, out) = gw.s3(&s.service, "GET", &path, b"").await;
    assert_eq!((status, out.as_slice()), (200, &b"signed by the pod's role"[..]));
    assert_eq!(s.srv.state.external_login_count(), 1, "the lakeFS token is reused");
    assert_eq!(hits.served.load(Ordering::SeqCst), 1, "and so are the credentials");
}

#[tokio::test]
async fn a_refused_endpoint_or_no_source_at_all_is_a_one_line_reason() {
    let s = setup().await;
    let (url, hits) = credentials_endpoint(&s.alice).await;
    let wrong = token_file(&s.dir, "not-the-token");
    let env =
        [("AWS_CONTAINER_CREDENTIALS_FULL_URI", url.as_str()), ("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", &wrong)];
    let mut refused = Gateway::start(&s, "refused", &env);
    let mut nothing = Gateway::start(&s, "nothing", &[]);

    let (status, body) = refused.readyz().await;
    assert_eq!(status, 503, "{body}");
    assert!(hits.refused.load(Ordering::SeqCst) >= 1, "the endpoint was asked");
    assert_eq!(hits.served.load(Ordering::SeqCst), 0);
    assert!(body.contains("AWS credentials from the default chain: "), "{body}");
    assert_eq!(body.trim_end().lines().count(), 1, "{body}");

    let (status, body) = nothing.readyz().await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("no AWS credentials found; tried, in order: environment"), "{body}");
    assert!(body.contains("AWS_CONTAINER_CREDENTIALS_FULL_URI") && body.contains("IMDSv2"), "{body}");
    assert_eq!(body.trim_end().lines().count(), 1, "{body}");
    assert_eq!(s.srv.state.external_login_count(), 0);
}
