//! The `lakegate` binary's configuration: a TOML file (`--config` / `LAKEGATE_CONFIG`), the
//! environment and flags with the same names and that precedence; `serve --check-config` reports
//! every problem at once (exit 1) or a summary (exit 0); `serve` refuses to start with a problem.

use std::path::Path;
use std::process::{Command, Output};

const KEYS: &str = r#"
[[keys]]
access_key_id = "LGEXAMPLEKEY00000000"
secret_access_key = "example-secret-change-me-0000000000000000"
user_id = "admin"
mode = "lakefs-key"
lakefs_access_key_id = "AKIAIOSFOLKFSSAMPLES"
lakefs_secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
"#;

/// `lakegate serve --check-config` with `args` and `env`, no inherited `LAKEGATE_*` variables.
fn check(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lakegate"));
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("LAKEGATE_")) {
        cmd.env_remove(k);
    }
    cmd.current_dir(dir).args(["serve", "--check-config"]).args(args).envs(env.iter().copied());
    cmd.output().unwrap()
}

fn good_config(dir: &Path) -> std::path::PathBuf {
    std::fs::write(dir.join("keys.toml"), KEYS).unwrap();
    std::fs::set_permissions(dir.join("keys.toml"), std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let cfg = format!(
        r#"
listen = "127.0.0.1:1111"
admin_listen = "127.0.0.1:1112"
state_dir = "{state}"
keys_file = "{keys}"
identity_mode = "lakefs-key"
lakefs_endpoint = "http://127.0.0.1:1/api/v1"
lakefs_access_key_id = "AKIAIOSFOLKFSSAMPLES"
lakefs_secret_access_key = "secret"
domain = ["s3.example.test"]
max_requests_per_key = 64
log_format = "json"
"#,
        state = dir.join("state").display(),
        keys = dir.join("keys.toml").display()
    );
    let path = dir.join("lakegate.toml");
    std::fs::write(&path, cfg).unwrap();
    path
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

#[test]
fn a_good_file_checks_and_flags_beat_env_beat_file() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = good_config(dir.path());
    let cfg = cfg.to_str().unwrap();
    let out = check(dir.path(), &["--config", cfg], &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("configuration OK: S3 on http://127.0.0.1:1111, admin on 127.0.0.1:1112"),
        "{}",
        text(&out)
    );
    assert!(text(&out).contains("1 key(s)"), "{}", text(&out));
    let by_env = check(dir.path(), &[], &[("LAKEGATE_CONFIG", cfg), ("LAKEGATE_LISTEN", "127.0.0.1:2222")]);
    assert!(text(&by_env).contains("S3 on http://127.0.0.1:2222"), "env beats the file: {}", text(&by_env));
    let by_flag = check(
        dir.path(),
        &["--listen", "127.0.0.1:3333"],
        &[("LAKEGATE_CONFIG", cfg), ("LAKEGATE_LISTEN", "127.0.0.1:2222")],
    );
    assert!(text(&by_flag).contains("S3 on http://127.0.0.1:3333"), "the flag beats env: {}", text(&by_flag));
}

#[test]
fn every_problem_is_reported_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = good_config(dir.path());
    let mut bad = std::fs::read_to_string(&cfg).unwrap();
    bad = bad.replace("127.0.0.1:1112", "127.0.0.1:1111"); // admin on the S3 address
    bad = bad.replace("max_requests_per_key = 64", "max_requests_per_key = \"lots\"\nsmal_object_cache = 4");
    bad = bad.replace(&dir.path().join("keys.toml").display().to_string(), "/nonexistent/keys.toml");
    bad.push_str("tls_cert = \"/nonexistent/cert.pem\"\ntls_key = \"/nonexistent/key.pem\"\nnamespace_template = \"local://x\"\n");
    std::fs::write(&cfg, bad).unwrap();
    let out = check(
        dir.path(),
        &["--config", cfg.to_str().unwrap(), "--log-level", "lakegate=loud"],
        &[("LAKEGATE_IDLE_TIMEOUT_SECS", "0")],
    );
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    for needle in [
        "max_requests_per_key = \"lots\"",
        "unknown key `smal_object_cache` (did you mean `small_object_cache`?)",
        "LAKEGATE_IDLE_TIMEOUT_SECS=\"0\"",
        "/nonexistent/keys.toml",
        "/nonexistent/cert.pem",
        "is the S3 listen address too",
        "must contain {repo}",
        "log_level \"lakegate=loud\"",
    ] {
        assert!(t.contains(needle), "missing {needle:?} in:\n{t}");
    }
    assert!(t.contains("the configuration has 8 problem(s)"), "{t}");
}

#[test]
fn serve_refuses_to_start_with_a_problem() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = good_config(dir.path());
    std::fs::write(&cfg, std::fs::read_to_string(&cfg).unwrap() + "lisen = \"x\"\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_lakegate"))
        .args(["serve", "--config", cfg.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("unknown key `lisen` (did you mean `listen`?)"), "{}", text(&out));
}
