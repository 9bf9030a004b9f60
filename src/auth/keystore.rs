//! The gateway key file: a TOML list of S3 keys (`[[keys]]` with `access_key_id`,
//! `secret_access_key`, optional `principal_id`, `user_id`, `mode`, `lakefs_access_key_id`,
//! `lakefs_secret_access_key`), read by `lakegate serve`/`dev` and written by `lakegate keys`.
//!
//! The file must not be readable by others (nor writable by group or others): it holds secrets.
//! A running gateway notices edits (checked at most once a second, on lookup) and swaps the whole
//! key set in; a file that no longer parses keeps the previous keys and logs why. Secrets never
//! reach a log line or a `Debug` output.

use super::{KeyEntry, KeyMode, default_principal_id};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime};

/// How often a lookup may look at the file for changes.
const RELOAD_CHECK: Duration = Duration::from_secs(1);
/// How often a lookup of an unknown key may look (a key just added by `lakegate keys create`):
/// always — a `stat` is cheap, and the file is read again only when it changed.
const MISS_RECHECK: Duration = Duration::ZERO;

/// The modes a key (or the gateway, for keys naming none) can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum ModeName {
    Principal,
    LakefsKey,
    Service,
}

/// One `[[keys]]` entry as written in the file.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyRecord {
    pub access_key_id: String,
    pub secret_access_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal_id: Option<String>,
    /// The lakeFS user the principal was attached to by `lakegate keys create` (informational).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<ModeName>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lakefs_access_key_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lakefs_secret_access_key: Option<String>,
    /// RFC 3339 creation time (informational).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
}

impl std::fmt::Debug for KeyRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRecord")
            .field("access_key_id", &self.access_key_id)
            .field("principal_id", &self.principal_id)
            .field("user_id", &self.user_id)
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

impl KeyRecord {
    /// The principal id this key stands for.
    pub fn principal(&self) -> String {
        self.principal_id.clone().unwrap_or_else(|| default_principal_id(&self.access_key_id))
    }

    /// The key's mode, or `default` when it names none.
    pub fn mode_name(&self, default: ModeName) -> ModeName {
        self.mode.unwrap_or(default)
    }
}

/// The whole file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeysFile {
    #[serde(default)]
    pub keys: Vec<KeyRecord>,
}

#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("key file {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error(
        "key file {path} is accessible by others (mode {mode:o}); it holds secrets: `chmod 600 {path}` (group read is allowed)"
    )]
    Permissions { path: String, mode: u32 },
    #[error("key file {path}: {message}")]
    Syntax { path: String, message: String },
    #[error("key file {path}: {}", problems.join("; "))]
    Invalid { path: String, problems: Vec<String> },
}

fn valid_access_key_id(ak: &str) -> bool {
    (3..=128).contains(&ak.len())
        && ak.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
}

fn valid_secret(sk: &str) -> bool {
    (8..=256).contains(&sk.len()) && sk.bytes().all(|b| b.is_ascii_graphic())
}

/// Every problem of a parsed file (empty: usable).
pub fn problems(file: &KeysFile, default: ModeName) -> Vec<String> {
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, k) in file.keys.iter().enumerate() {
        let at = format!("keys[{i}] ({})", k.access_key_id);
        if !valid_access_key_id(&k.access_key_id) {
            out.push(format!("{at}: access_key_id must be 3-128 characters of A-Z a-z 0-9 . _ -"));
        }
        if !valid_secret(&k.secret_access_key) {
            out.push(format!("{at}: secret_access_key must be 8-256 printable ASCII characters"));
        }
        if !seen.insert(k.access_key_id.as_str()) {
            out.push(format!("{at}: access_key_id appears twice"));
        }
        if k.principal_id.as_deref().is_some_and(|p| p.is_empty() || p.len() > 2048 || p.chars().any(char::is_control))
        {
            out.push(format!("{at}: principal_id must be 1-2048 characters without control characters"));
        }
        let lakefs = (k.lakefs_access_key_id.is_some(), k.lakefs_secret_access_key.is_some());
        if lakefs.0 != lakefs.1 {
            out.push(format!("{at}: lakefs_access_key_id and lakefs_secret_access_key go together"));
        }
        if k.mode_name(default) == ModeName::LakefsKey && !lakefs.0 {
            out.push(format!("{at}: mode lakefs-key needs lakefs_access_key_id and lakefs_secret_access_key"));
        }
    }
    out
}

/// The entries of a valid file.
fn entries(file: &KeysFile, default: ModeName) -> HashMap<String, KeyEntry> {
    let entry = |k: &KeyRecord| {
        let mode = match k.mode_name(default) {
            ModeName::Principal => KeyMode::Principal,
            ModeName::Service => KeyMode::Service,
            ModeName::LakefsKey => KeyMode::LakeFsKey {
                access_key_id: k.lakefs_access_key_id.clone().unwrap_or_default(),
                secret_access_key: k.lakefs_secret_access_key.clone().unwrap_or_default(),
            },
        };
        let e = KeyEntry {
            access_key_id: k.access_key_id.clone(),
            secret_access_key: k.secret_access_key.clone(),
            principal_id: k.principal(),
            mode,
        };
        (k.access_key_id.clone(), e)
    };
    file.keys.iter().map(entry).collect()
}

/// Reads and checks a key file (permissions, syntax, every entry).
pub fn read(path: &Path, default: ModeName) -> Result<KeysFile, KeyFileError> {
    let name = path.display().to_string();
    let io = |source| KeyFileError::Io { path: name.clone(), source };
    let meta = std::fs::metadata(path).map_err(io)?;
    check_permissions(&name, &meta)?;
    let text = std::fs::read_to_string(path).map_err(io)?;
    let file: KeysFile =
        toml::from_str(&text).map_err(|e| KeyFileError::Syntax { path: name.clone(), message: e.to_string() })?;
    let problems = problems(&file, default);
    if !problems.is_empty() {
        return Err(KeyFileError::Invalid { path: name, problems });
    }
    Ok(file)
}

#[cfg(unix)]
fn check_permissions(name: &str, meta: &std::fs::Metadata) -> Result<(), KeyFileError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o027 != 0 {
        return Err(KeyFileError::Permissions { path: name.to_string(), mode });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_permissions(_: &str, _: &std::fs::Metadata) -> Result<(), KeyFileError> {
    Ok(())
}

/// Writes `file` atomically (temp file + rename) with mode 0600.
pub fn write(path: &Path, file: &KeysFile) -> Result<(), KeyFileError> {
    use std::io::Write;
    let name = path.display().to_string();
    let io = |source| KeyFileError::Io { path: name.clone(), source };
    let text =
        toml::to_string(file).map_err(|e| KeyFileError::Syntax { path: name.clone(), message: e.to_string() })?;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(&tmp).map_err(io)?;
    let header = "# lakegate gateway keys (written by `lakegate keys`; keep it mode 0600)\n";
    f.write_all(header.as_bytes()).and_then(|()| f.write_all(text.as_bytes())).map_err(io)?;
    f.sync_all().map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

/// What identifies one version of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    modified: Option<SystemTime>,
    len: u64,
    #[cfg(unix)]
    ino: u64,
}

fn stamp(path: &Path) -> Option<Stamp> {
    let meta = std::fs::metadata(path).ok()?;
    Some(Stamp {
        modified: meta.modified().ok(),
        len: meta.len(),
        #[cfg(unix)]
        ino: std::os::unix::fs::MetadataExt::ino(&meta),
    })
}

struct Loaded {
    keys: Arc<HashMap<String, KeyEntry>>,
    stamp: Option<Stamp>,
    checked: Instant,
}

/// The key file of a running gateway, reloaded when it changes.
pub struct KeyStore {
    path: PathBuf,
    default: ModeName,
    loaded: RwLock<Loaded>,
}

impl KeyStore {
    /// Loads `path` (it must exist and be valid).
    pub fn open(path: &Path, default: ModeName) -> Result<KeyStore, KeyFileError> {
        let stamp = stamp(path);
        let file = read(path, default)?;
        let keys = Arc::new(entries(&file, default));
        if keys.is_empty() {
            tracing::warn!(path = %path.display(), "the key file holds no keys yet: every request is refused");
        }
        let loaded = Loaded { keys, stamp, checked: Instant::now() };
        Ok(KeyStore { path: path.to_path_buf(), default, loaded: RwLock::new(loaded) })
    }

    /// How many keys the file holds now.
    pub fn len(&self) -> usize {
        self.current(RELOAD_CHECK).len()
    }

    /// Whether the file holds no key.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The mode of keys that name none.
    pub fn default_mode(&self) -> ModeName {
        self.default
    }

    /// The current keys, after looking at the file when the last look is older than `max_age`.
    fn current(&self, max_age: Duration) -> Arc<HashMap<String, KeyEntry>> {
        {
            let l = self.loaded.read().unwrap_or_else(|p| p.into_inner());
            if l.checked.elapsed() < max_age {
                return l.keys.clone();
            }
        }
        let mut l = self.loaded.write().unwrap_or_else(|p| p.into_inner());
        if l.checked.elapsed() >= max_age {
            l.checked = Instant::now();
            let now = stamp(&self.path);
            if now != l.stamp {
                l.stamp = now;
                self.reload(&mut l);
            }
        }
        l.keys.clone()
    }

    fn reload(&self, l: &mut Loaded) {
        match read(&self.path, self.default) {
            Ok(file) => {
                l.keys = Arc::new(entries(&file, self.default));
                tracing::info!(path = %self.path.display(), keys = l.keys.len(), "key file reloaded");
            }
            Err(e) => tracing::warn!(error = %e, "key file changed but cannot be used; keeping the previous keys"),
        }
    }
}

impl s3_wire::keys::SecretStore<KeyEntry> for KeyStore {
    fn lookup(&self, access_key_id: &str) -> Option<KeyEntry> {
        let found = self.current(RELOAD_CHECK).get(access_key_id).cloned();
        found.or_else(|| self.current(MISS_RECHECK).get(access_key_id).cloned())
    }
}

/// A fresh key pair: an access key id `LG` + 18 characters and a 40-character secret.
pub fn generate_key_pair() -> (String, String) {
    use rand::Rng;
    const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rngs::OsRng;
    let mut pick = |set: &[u8], n: usize| (0..n).map(|_| set[rng.gen_range(0..set.len())] as char).collect::<String>();
    (format!("LG{}", pick(UPPER, 18)), pick(ALNUM, 40))
}

#[cfg(test)]
mod tests;
