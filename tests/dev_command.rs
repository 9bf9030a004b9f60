//! `lakegate dev` as a real process: it writes dev.json, creates the demo repository on first start
//! only, keeps its admin credentials across restarts, and stops cleanly on SIGTERM.

mod common;

use lakefs_api::client::{ClientConfig, Credentials, LakeFsClient};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Dev {
    child: Child,
    info: serde_json::Value,
}

// The child is owned by `Dev`, whose `Drop` kills and waits for it.
#[allow(clippy::zombie_processes)]
fn start_dev(data: &Path) -> Dev {
    start_dev_with(data, &[], Stdio::null())
}

#[allow(clippy::zombie_processes)]
fn start_dev_with(data: &Path, extra: &[&str], stderr: Stdio) -> Dev {
    let _ = std::fs::remove_file(data.join("dev.json"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_lakegate"))
        .args(["dev", "--data"])
        .arg(data)
        .args(["--api-listen", "127.0.0.1:0"])
        .args(if extra.contains(&"--listen") { &[][..] } else { &["--listen", "127.0.0.1:0"][..] })
        .args(extra)
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .expect("spawn lakegate dev");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(bytes) = std::fs::read(data.join("dev.json")) {
            return Dev { child, info: serde_json::from_slice(&bytes).expect("dev.json is JSON") };
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("dev.json did not appear");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

impl Drop for Dev {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Dev {
    fn client(&self) -> LakeFsClient {
        let creds = Credentials::Basic {
            access_key_id: self.info["lakefs_access_key_id"].as_str().unwrap().into(),
            secret_access_key: self.info["lakefs_secret_access_key"].as_str().unwrap().into(),
        };
        LakeFsClient::new(ClientConfig::new(self.info["api_endpoint"].as_str().unwrap(), creds)).unwrap()
    }

    fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "lakegate dev did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

#[tokio::test]
async fn dev_writes_dev_json_creates_demo_and_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let dev = start_dev(dir.path());
    assert!(dev.info["api_endpoint"].as_str().unwrap().starts_with("http://127.0.0.1:"));
    assert!(dev.info["api_endpoint"].as_str().unwrap().ends_with("/api/v1"));
    assert!(dev.info["s3_endpoint"].as_str().unwrap().starts_with("http://127.0.0.1:"));
    assert_ne!(dev.info["s3_endpoint"].as_str().unwrap(), "http://127.0.0.1:8000", "port 0 picks a free port");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("dev.json")).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "dev.json holds a secret: owner-only");
    }
    let c = dev.client();
    c.health_check().await.unwrap();
    // The S3 key is a gateway key from the key file, its principal attached to admin in lakeFS.
    let ak = dev.info["access_key_id"].as_str().unwrap();
    assert!(ak.starts_with("LG"), "{ak}");
    assert_ne!(dev.info["access_key_id"], dev.info["lakefs_access_key_id"]);
    let keys = std::fs::read_to_string(dir.path().join("keys.toml")).unwrap();
    assert!(keys.contains(ak) && keys.contains(dev.info["secret_access_key"].as_str().unwrap()));
    let principal = c.get_external_principal(dev.info["principal_id"].as_str().unwrap()).await.unwrap();
    assert_eq!((principal.user_id.as_str(), dev.info["user_id"].as_str()), ("admin", Some("admin")));
    let demo = c.get_repository("demo").await.unwrap();
    // `lakegate dev` reads LAKEGATE_DEV_BLOCKSTORE=s3 in the test command's SeaweedFS pass.
    let expected = match std::env::var("LAKEGATE_DEV_BLOCKSTORE").as_deref() {
        Ok("s3") => format!("s3://{}/demo", std::env::var("LAKEGATE_DEV_S3_BUCKET").unwrap()),
        _ => "local://demo".to_string(),
    };
    assert_eq!((demo.default_branch.as_str(), demo.storage_namespace.as_str()), ("main", expected.as_str()));
    c.delete_repository("demo").await.unwrap();
    let first = dev.info.clone();
    assert!(dev.terminate().success());

    let dev = start_dev(dir.path());
    assert_eq!(dev.info["access_key_id"], first["access_key_id"]);
    assert_eq!(dev.info["secret_access_key"], first["secret_access_key"]);
    let c = dev.client();
    assert!(c.get_repository("demo").await.unwrap_err().is_not_found(), "demo is only created on first start");
    assert!(dev.terminate().success());
}

/// A signed S3 request as raw HTTP/1.1 bytes (UNSIGNED-PAYLOAD), for a socket the test controls.
fn raw_signed(info: &serde_json::Value, method: &str, path: &str, body_len: usize) -> Vec<u8> {
    let key = lakegate_net::sigclient::SigV4Key {
        access_key_id: info["access_key_id"].as_str().unwrap().into(),
        secret_access_key: info["secret_access_key"].as_str().unwrap().into(),
        region: info["region"].as_str().unwrap().into(),
    };
    let url = format!("{}{path}", info["s3_endpoint"].as_str().unwrap());
    let len = body_len.to_string();
    let headers: &[(&str, &str)] = if body_len > 0 { &[("content-length", &len)] } else { &[] };
    let method = http::Method::from_bytes(method.as_bytes()).unwrap();
    let req =
        lakegate_net::sigclient::signed_request(&key, method, &url, headers, (), std::time::SystemTime::now()).unwrap();
    let host = req.uri().authority().unwrap().to_string();
    let mut head = format!("{} {path} HTTP/1.1\r\nhost: {host}\r\n", req.method());
    for (k, v) in req.headers() {
        head.push_str(&format!("{k}: {}\r\n", v.to_str().unwrap()));
    }
    head.push_str("\r\n");
    head.into_bytes()
}

/// Reads an HTTP/1.1 response head; returns (status, content-length) and any body bytes read past it.
fn read_head(stream: &mut std::net::TcpStream) -> (u16, usize, Vec<u8>) {
    use std::io::Read;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk).unwrap();
        assert!(n > 0, "connection closed before the head");
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let status = head[9..12].parse().unwrap();
            let len = head.lines().find_map(|l| l.strip_prefix("content-length: ")).map_or(0, |v| v.parse().unwrap());
            return (status, len, buf[end + 4..].to_vec());
        }
    }
}

fn admin_get(info: &serde_json::Value, path: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let addr = info["admin_endpoint"].as_str().unwrap().trim_start_matches("http://").to_string();
    let mut s = std::net::TcpStream::connect(&addr).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out[9..12].parse().unwrap();
    (status, out.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default())
}

/// SIGTERM while a download is in flight: the gateway stops accepting, `/readyz` turns 503, the
/// download completes byte-exact, then the process exits 0.
#[test]
fn sigterm_lets_an_inflight_download_finish() {
    use std::io::{Read, Write};
    let dir = tempfile::tempdir().unwrap();
    let dev = start_dev(dir.path());
    let info = dev.info.clone();
    assert_eq!(admin_get(&info, "/healthz").0, 200);
    let (status, ready) = admin_get(&info, "/readyz");
    assert_eq!(status, 200, "{ready}");
    // the detail names what lakegate talks to: lakeFS's version and its storage
    assert!(ready.starts_with("ready\nlakeFS ") && ready.contains("storage default="), "{ready}");
    let s3 = info["s3_endpoint"].as_str().unwrap().trim_start_matches("http://").to_string();
    let data = common::pattern(24 << 20, 9);
    let mut put = std::net::TcpStream::connect(&s3).unwrap();
    put.write_all(&raw_signed(&info, "PUT", "/demo/main/big.bin", data.len())).unwrap();
    put.write_all(&data).unwrap();
    assert_eq!(read_head(&mut put).0, 200);

    let mut get = std::net::TcpStream::connect(&s3).unwrap();
    get.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    get.write_all(&raw_signed(&info, "GET", "/demo/main/big.bin", 0)).unwrap();
    let (status, len, mut body) = read_head(&mut get);
    assert_eq!((status, len), (200, data.len()));
    let metrics = admin_get(&info, "/metrics").1;
    assert!(metrics.contains("lakegate_s3_requests_total{operation=\"PutObject\",status=\"200\"} 1"), "{metrics}");
    assert!(metrics.contains("lakegate_s3_requests_in_flight 1"), "{metrics}");

    let pid = dev.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    std::thread::sleep(Duration::from_millis(500));
    assert!(std::net::TcpStream::connect(&s3).is_err(), "no new connections while draining");
    assert_eq!(admin_get(&info, "/readyz").0, 503);
    let mut chunk = vec![0u8; 256 << 10];
    while body.len() < len {
        let n = get.read(&mut chunk).unwrap();
        assert!(n > 0, "download cut at {} of {len} bytes", body.len());
        body.extend_from_slice(&chunk[..n]);
        std::thread::sleep(Duration::from_millis(2));
    }
    assert!(body == data, "the download is byte-exact");
    drop(get);
    assert!(dev.terminate().success());
}

/// `--log-format json --log-level debug`: one JSON object per line; every S3 request's access line
/// carries its span (request id, operation, bucket, key, user) and status, duration and bytes; the
/// secret key and the request signatures appear nowhere in the log.
#[test]
fn json_logs_carry_request_spans_and_never_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("stderr.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let data = dir.path().join("data");
    let dev = start_dev_with(&data, &["--log-format", "json", "--log-level", "debug"], Stdio::from(log));
    let out = Command::new(env!("CARGO_BIN_EXE_lakegate"))
        .args(["bench", "--dev"])
        .arg(&data)
        .args(["--bucket", "demo", "--op", "put", "--ops", "5", "-c", "1", "--prefix", "main/logs/"])
        .args(["--json", dir.path().join("r.json").to_str().unwrap()])
        .env_remove("AWS_ENDPOINT_URL")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let secret = dev.info["secret_access_key"].as_str().unwrap().to_string();
    let lakefs_secret = dev.info["lakefs_secret_access_key"].as_str().unwrap().to_string();
    let user = dev.info["access_key_id"].clone();
    assert_eq!(dev.terminate().code(), Some(0));
    let text = std::fs::read_to_string(&log_path).unwrap();
    let lines: Vec<serde_json::Value> =
        text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"))).collect();
    let access: Vec<&serde_json::Value> =
        lines.iter().filter(|l| l["target"] == "lakegate::access" && l["span"]["operation"] == "PutObject").collect();
    assert_eq!(access.len(), 5, "one access line per PutObject:\n{text}");
    for line in access {
        assert_eq!(line["status"], 200, "{line}");
        assert_eq!(line["span"]["bucket"], "demo", "{line}");
        assert!(line["span"]["key"].as_str().unwrap().starts_with("main/logs/"), "{line}");
        assert_eq!(line["span"]["user"], user, "{line}");
        assert_eq!(line["span"]["request_id"].as_str().unwrap().len(), 16, "{line}");
        assert!(line["duration_ms"].as_f64().is_some() && line["bytes_in"].as_u64().is_some(), "{line}");
    }
    for needle in [secret.as_str(), lakefs_secret.as_str(), "Signature=", "X-Amz-Signature", "authorization"] {
        assert!(!text.to_lowercase().contains(&needle.to_lowercase()), "{needle:?} in the log:\n{text}");
    }
}

/// A port nobody listens on right now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A second `lakegate dev` finds the default admin port (9090) taken: it takes a free port, names
/// it in dev.json and the banner, and serves `/healthz` there.
#[test]
fn a_busy_default_admin_port_is_replaced_by_a_free_one() {
    // 9090 is busy during the test either way: held here, or by whoever holds it already
    let _held = std::net::TcpListener::bind("127.0.0.1:9090");
    let dir = tempfile::tempdir().unwrap();
    let s3 = format!("127.0.0.1:{}", free_port());
    let dev = start_dev_with(dir.path(), &["--listen", &s3], Stdio::null());
    let admin = dev.info["admin_endpoint"].as_str().unwrap();
    assert!(admin.starts_with("http://127.0.0.1:") && !admin.ends_with(":9090"), "{admin}");
    assert_eq!(admin_get(&dev.info, "/healthz").0, 200);
}

/// Every bind error names its listener: an `--admin-listen` port in use fails the start with
/// "binding the admin listener to …", not a message about the S3 endpoint.
#[test]
fn a_bind_error_names_the_listener() {
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let busy = held.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_lakegate"))
        .args(["dev", "--data"])
        .arg(dir.path())
        .args(["--api-listen", "127.0.0.1:0", "--listen", "127.0.0.1:0", "--admin-listen", &busy])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains(&format!("binding the admin listener to {busy}")), "{stderr}");
}
