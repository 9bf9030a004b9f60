//! `lakegate serve --check-config`: validates a whole configuration — the values (already parsed
//! by the flags' parsers, file and environment problems collected by [`super::file`]) and what
//! they name: the key file, TLS PEM files, the upload id key, the state directory, the lakeFS
//! client settings — and reports every problem at once. `serve` runs the same checks at start.

use super::ServeArgs;
use std::path::Path;

/// What a usable configuration amounts to (printed by `--check-config`).
pub struct Summary {
    pub keys: usize,
}

/// Every problem of `args` (empty: usable), and a summary.
pub fn serve_problems(args: &ServeArgs, log_level: Option<&str>) -> (Vec<String>, Summary) {
    let g = &args.gateway;
    let mut problems = args.config_problems.clone();
    if let Err(e) = args.lakefs.client(g.identity.lakefs_server_id.as_deref()) {
        problems.push(e.to_string());
    }
    let keys = match &g.identity.keys_file {
        None => {
            problems.push(
                "keys_file (--keys-file, LAKEGATE_KEYS_FILE) is required: the gateway keys clients sign with".into(),
            );
            0
        }
        Some(path) => match crate::auth::keystore::KeyStore::open(path, g.identity.identity_mode) {
            Ok(store) => store.len(),
            Err(e) => {
                problems.push(e.to_string());
                0
            }
        },
    };
    if let (Some(cert), Some(key)) = (&g.tls_cert, &g.tls_key)
        && let Err(e) = lakegate_net::server::tls::load(cert, key)
    {
        problems.push(e.to_string());
    }
    if let Some(f) = &g.upload_id_key_file
        && let Err(e) = crate::ops::multipart::read_key(f)
    {
        problems.push(e.to_string());
    }
    if let Some(f) = &g.session_key_file
        && let Err(e) = crate::auth::session_token::SessionKeys::load(f)
    {
        problems.push(format!("session_key_file: {e}"));
    }
    problems.extend(state_dir_problem(g.state_dir.as_deref().unwrap_or(Path::new("lakegate-state"))));
    problems.extend(value_problems(g, log_level));
    (problems, Summary { keys })
}

/// Settings that parse but cannot work together.
fn value_problems(g: &super::GatewayArgs, log_level: Option<&str>) -> Vec<String> {
    let mut problems = Vec::new();
    let admin = g.admin_addr();
    if admin.port() != 0 && admin == g.listen {
        problems.push(format!("admin_listen {admin} is the S3 listen address too: give them different ports"));
    }
    if let Some(t) = &g.namespace_template
        && !t.contains("{repo}")
    {
        problems
            .push(format!("namespace_template {t:?} must contain {{repo}} (each repository needs its own namespace)"));
    }
    if let Some(h) = &g.identity.sts_host
        && (h.contains("://") || h.contains('/'))
    {
        problems.push(format!("sts_host {h:?} must be host[:port], not a URL"));
    }
    if let Some(level) = log_level
        && let Err(e) = tracing_subscriber::EnvFilter::try_new(level)
    {
        problems.push(format!("log_level {level:?}: {e}"));
    }
    problems
}

/// The state directory must be a writable directory (or creatable).
fn state_dir_problem(dir: &Path) -> Option<String> {
    let shown = dir.display();
    if !dir.exists() {
        let parent = dir.ancestors().skip(1).find(|a| a.as_os_str().is_empty() || a.exists())?;
        return (!parent.as_os_str().is_empty() && !parent.is_dir())
            .then(|| format!("state_dir {shown} cannot be created: {} is not a directory", parent.display()));
    }
    if !dir.is_dir() {
        return Some(format!("state_dir {shown} is not a directory"));
    }
    let probe = dir.join(format!(".lakegate-check-{}", std::process::id()));
    match std::fs::write(&probe, b"") {
        Ok(()) => {
            let _ = std::fs::remove_file(&probe);
            None
        }
        Err(e) => Some(format!("state_dir {shown} is not writable: {e}")),
    }
}
