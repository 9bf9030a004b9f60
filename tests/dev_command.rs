//! `lakegate dev` as a real process: it writes dev.json, creates the demo repository on first start
//! only, keeps its admin credentials across restarts, and stops cleanly on SIGTERM.

mod common;

use lakegate::lakefs::client::{ClientConfig, Credentials, LakeFsClient};
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
    let _ = std::fs::remove_file(data.join("dev.json"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_lakegate"))
        .args(["dev", "--data"])
        .arg(data)
        .args(["--api-listen", "127.0.0.1:0", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
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
