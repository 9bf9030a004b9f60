//! Real `lakegate` processes for tests: `lakegate dev` on free ports (read back from dev.json) and
//! `lakegate serve` (its endpoint read from its log), each killed when dropped, with their stderr
//! kept in a file for failure messages; and a clear-text HTTP/1.1 request helper.

#![allow(dead_code)]

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The lakegate binary under test.
pub fn lakegate_bin() -> String {
    std::env::var("LAKEGATE_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_lakegate").to_string())
}

/// Environment variables a test process must not inherit from the test command's environment
/// (its own TLS and proxy settings are set explicitly).
const ISOLATED_ENV: [&str; 9] = [
    "LAKEGATE_DEV_API_TLS_CERT",
    "LAKEGATE_DEV_API_TLS_KEY",
    "SSL_CERT_DIR",
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "NO_PROXY",
    "no_proxy",
];

/// A running `lakegate dev`.
pub struct Dev {
    child: Child,
    pub info: serde_json::Value,
    pub log: PathBuf,
}

impl Drop for Dev {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn tail(path: &Path, what: &str) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let start = text.len().saturating_sub(4000);
    format!("---- {what} log (tail) ----\n{}", text.get(start..).unwrap_or(&text))
}

impl Dev {
    /// `lakegate dev --data dir/data` on free ports with `args` and `env` (besides the isolated
    /// variables removed); returns once dev.json is written.
    // The child is owned by `Dev`, whose `Drop` kills and waits for it.
    #[allow(clippy::zombie_processes)]
    pub fn start(dir: &Path, args: &[&OsStr], env: &[(&str, &OsStr)]) -> Dev {
        let data = dir.join("data");
        let log = dir.join("lakegate-dev.log");
        let mut cmd = Command::new(lakegate_bin());
        cmd.args(["dev", "--data"]).arg(&data).args(["--api-listen", "127.0.0.1:0", "--listen", "127.0.0.1:0"]);
        cmd.args(args);
        for name in ISOLATED_ENV {
            cmd.env_remove(name);
        }
        cmd.envs(env.iter().map(|(k, v)| (k, v)));
        let stderr = std::fs::File::create(&log).unwrap();
        let mut child = cmd.stdout(Stdio::null()).stderr(stderr).spawn().expect("spawn lakegate dev");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(bytes) = std::fs::read(data.join("dev.json")) {
                return Dev { child, info: serde_json::from_slice(&bytes).expect("dev.json is JSON"), log };
            }
            let exited = child.try_wait().unwrap();
            if exited.is_some() || Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("lakegate dev wrote no dev.json ({exited:?})\n{}", tail(&log, "lakegate dev"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn field(&self, name: &str) -> &str {
        self.info[name].as_str().unwrap_or_else(|| panic!("dev.json has no {name}: {}", self.info))
    }

    /// `host:port` of the lakeFS API.
    pub fn api_authority(&self) -> String {
        let api = self.field("api_endpoint");
        api.split_once("://").unwrap().1.split('/').next().unwrap().to_string()
    }

    pub fn log_tail(&self) -> String {
        tail(&self.log, "lakegate dev")
    }
}

/// A running `lakegate serve`.
pub struct Serve {
    child: Child,
    /// `host:port` of its S3 endpoint (clear text).
    pub s3: String,
    pub log: PathBuf,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Serve {
    /// `lakegate serve` on free ports with `args` and `env`; returns once it logged its endpoint.
    #[allow(clippy::zombie_processes)]
    pub fn start(dir: &Path, args: &[&OsStr], env: &[(&str, &OsStr)]) -> Serve {
        let log = dir.join("lakegate-serve.log");
        let mut cmd = Command::new(lakegate_bin());
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0", "--state-dir"]);
        cmd.arg(dir.join("serve-state")).args(args).env_remove("LAKEGATE_CONFIG");
        for name in ISOLATED_ENV {
            cmd.env_remove(name);
        }
        cmd.envs(env.iter().map(|(k, v)| (k, v))).env("NO_COLOR", "1");
        let stderr = std::fs::File::create(&log).unwrap();
        let mut child = cmd.stdout(Stdio::null()).stderr(stderr).spawn().expect("spawn lakegate serve");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            if let Some(at) = text.find("endpoint=http://") {
                let rest = &text[at + "endpoint=http://".len()..];
                let s3 = rest.split(|c: char| c.is_whitespace()).next().unwrap().to_string();
                return Serve { child, s3, log };
            }
            let exited = child.try_wait().unwrap();
            if exited.is_some() || Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("lakegate serve did not start ({exited:?})\n{text}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn log_tail(&self) -> String {
        tail(&self.log, "lakegate serve")
    }
}

/// The answer to a request.
pub struct Answer {
    pub status: u16,
    pub version: http::Version,
    pub headers: http::HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One clear-text HTTP/1.1 request to `authority`.
pub async fn plain_request(
    authority: &str,
    method: &str,
    path_and_query: &str,
    headers: &[(String, String)],
    body: Vec<u8>,
) -> Result<Answer, String> {
    let tcp = tokio::net::TcpStream::connect(authority).await.map_err(|e| e.to_string())?;
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(TokioIo::new(tcp)).await.map_err(|e| e.to_string())?;
    tokio::spawn(conn);
    let mut b = http::Request::builder().method(method).uri(path_and_query);
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        b = b.header("host", authority);
    }
    for (k, v) in headers {
        b = b.header(k.as_str(), v.as_str());
    }
    let resp = sender.send_request(b.body(Full::new(Bytes::from(body))).unwrap()).await.map_err(|e| e.to_string())?;
    let (status, version, headers) = (resp.status().as_u16(), resp.version(), resp.headers().clone());
    let body = resp.into_body().collect().await.map_err(|e| e.to_string())?.to_bytes().to_vec();
    Ok(Answer { status, version, headers, body })
}
