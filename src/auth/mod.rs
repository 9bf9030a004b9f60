//! Who may sign S3 requests: the secret store behind SigV4 verification.
//!
//! lakegate verifies signatures itself (lakeFS never reveals secrets), so it needs the secret of
//! each access key. For now keys come from a static credentials file; the identity model (keys as
//! lakeFS external principals) plugs in behind the same [`SecretStore`] trait later.

use std::collections::HashMap;
use std::path::Path;

/// A signing identity found for an access key id.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyEntry {
    pub access_key_id: String,
    pub secret_access_key: String,
}

impl std::fmt::Debug for KeyEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyEntry").field("access_key_id", &self.access_key_id).finish_non_exhaustive()
    }
}

/// Looks up the secret of an access key id.
pub trait SecretStore: Send + Sync {
    fn lookup(&self, access_key_id: &str) -> Option<KeyEntry>;
}

/// Keys held in memory, typically read from a credentials file.
#[derive(Default, Clone)]
pub struct StaticKeys {
    keys: HashMap<String, String>,
}

#[derive(Debug, thiserror::Error)]
pub enum CredentialsFileError {
    #[error("reading {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{path}:{line}: expected `<access key id> <secret access key>`")]
    Syntax { path: String, line: usize },
    #[error("{path}: no keys")]
    Empty { path: String },
}

impl StaticKeys {
    pub fn new(pairs: impl IntoIterator<Item = (String, String)>) -> StaticKeys {
        StaticKeys { keys: pairs.into_iter().collect() }
    }

    /// Parses a credentials file: one `<access key id> <secret access key>` per line; blank lines
    /// and lines starting with `#` are ignored.
    pub fn from_file(path: &Path) -> Result<StaticKeys, CredentialsFileError> {
        let name = path.display().to_string();
        let text =
            std::fs::read_to_string(path).map_err(|source| CredentialsFileError::Io { path: name.clone(), source })?;
        let mut keys = HashMap::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut parts = line.split_whitespace();
            match (parts.next(), parts.next(), parts.next()) {
                (Some(ak), Some(sk), None) => keys.insert(ak.to_string(), sk.to_string()),
                _ => {
                    return Err(CredentialsFileError::Syntax { path: name, line: i + 1 });
                }
            };
        }
        if keys.is_empty() {
            return Err(CredentialsFileError::Empty { path: name });
        }
        Ok(StaticKeys { keys })
    }
}

impl SecretStore for StaticKeys {
    fn lookup(&self, access_key_id: &str) -> Option<KeyEntry> {
        self.keys
            .get(access_key_id)
            .map(|s| KeyEntry { access_key_id: access_key_id.to_string(), secret_access_key: s.clone() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_file_parses_and_rejects_garbage() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("creds");
        std::fs::write(&p, "# keys\nAKID1 secret1\n\n  AKID2   secret2  \n").unwrap();
        let keys = StaticKeys::from_file(&p).unwrap();
        assert_eq!(keys.lookup("AKID2").unwrap().secret_access_key, "secret2");
        assert!(keys.lookup("nope").is_none());
        assert!(!format!("{:?}", keys.lookup("AKID1").unwrap()).contains("secret1"));
        std::fs::write(&p, "AKID1 secret1 extra\n").unwrap();
        assert!(matches!(StaticKeys::from_file(&p), Err(CredentialsFileError::Syntax { line: 1, .. })));
        std::fs::write(&p, "# nothing\n").unwrap();
        assert!(matches!(StaticKeys::from_file(&p), Err(CredentialsFileError::Empty { .. })));
    }
}
