//! Who may sign S3 requests, and as whom lakegate then calls lakeFS.
//!
//! lakegate verifies signatures itself (lakeFS never reveals secrets), so it holds the secret of
//! each gateway key ([`keystore`], a TOML file reloaded on change). Each key names how its
//! requests reach lakeFS ([`KeyMode`]): as the lakeFS user its **external principal** is attached
//! to (lakeFS `externalPrincipalLogin`, see [`sessions`]), with a lakeFS access key pair of its
//! own, or as the gateway's service identity. lakegate's own STS `GetCallerIdentity` endpoint, which
//! lakeFS verifies the principal logins with, is `crate::gateway::sts`. [`session_token`] mints and
//! checks the temporary credentials `crate::gateway::oidc_login` hands out for an OIDC sign-in
//! (lakeFS `stsLogin`).

pub mod keystore;
pub mod session_token;
pub mod sessions;

use std::collections::HashMap;

/// The principal id of a key that names none: `arn:lakegate:iam::key/<access key id>`.
pub fn default_principal_id(access_key_id: &str) -> String {
    format!("arn:lakegate:iam::key/{access_key_id}")
}

/// How requests signed with a key reach lakeFS.
#[derive(Clone, PartialEq, Eq)]
pub enum KeyMode {
    /// As the lakeFS user the key's principal id is attached to (`externalPrincipalLogin`).
    Principal,
    /// With the key's own lakeFS access key pair (`login` → JWT).
    LakeFsKey { access_key_id: String, secret_access_key: String },
    /// With the gateway's own lakeFS identity.
    Service,
    /// Temporary credentials: with the lakeFS token their session token carries.
    Session { lakefs_token: String, user: String },
}

impl KeyMode {
    /// The mode's name, as the key file and `lakegate keys show` spell it.
    pub fn name(&self) -> &'static str {
        match self {
            KeyMode::Principal => "principal",
            KeyMode::LakeFsKey { .. } => "lakefs-key",
            KeyMode::Service => "service",
            KeyMode::Session { .. } => "session",
        }
    }
}

impl std::fmt::Debug for KeyMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyMode::LakeFsKey { access_key_id, .. } => write!(f, "LakeFsKey({access_key_id})"),
            KeyMode::Session { user, .. } => write!(f, "Session({user})"),
            other => f.write_str(other.name()),
        }
    }
}

/// A signing identity found for an access key id.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyEntry {
    pub access_key_id: String,
    pub secret_access_key: String,
    /// The external principal id the key stands for in lakeFS.
    pub principal_id: String,
    pub mode: KeyMode,
}

impl KeyEntry {
    /// A key of the gateway's service identity (the dev admin key, tests' static keys).
    pub fn service(access_key_id: &str, secret_access_key: &str) -> KeyEntry {
        KeyEntry {
            access_key_id: access_key_id.to_string(),
            secret_access_key: secret_access_key.to_string(),
            principal_id: default_principal_id(access_key_id),
            mode: KeyMode::Service,
        }
    }
}

impl std::fmt::Debug for KeyEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyEntry")
            .field("access_key_id", &self.access_key_id)
            .field("principal_id", &self.principal_id)
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

/// Looks up the secret of an access key id.
pub trait SecretStore: s3_wire::keys::SecretStore<KeyEntry> {}

impl<T: s3_wire::keys::SecretStore<KeyEntry> + ?Sized> SecretStore for T {}

/// A request whose signature checked out, with the gateway key that signed it.
pub type Verified = s3_wire::signed::Verified<KeyEntry>;

impl s3_wire::keys::SigningKey for KeyEntry {
    fn access_key_id(&self) -> &str {
        &self.access_key_id
    }
    fn secret_access_key(&self) -> &str {
        &self.secret_access_key
    }
}

/// Keys held in memory, all calling lakeFS as the gateway's service identity.
#[derive(Default, Clone)]
pub struct StaticKeys {
    keys: HashMap<String, KeyEntry>,
}

impl StaticKeys {
    pub fn new(pairs: impl IntoIterator<Item = (String, String)>) -> StaticKeys {
        StaticKeys { keys: pairs.into_iter().map(|(ak, sk)| (ak.clone(), KeyEntry::service(&ak, &sk))).collect() }
    }

    /// Keys with their own modes and principals.
    pub fn of(entries: impl IntoIterator<Item = KeyEntry>) -> StaticKeys {
        StaticKeys { keys: entries.into_iter().map(|e| (e.access_key_id.clone(), e)).collect() }
    }
}

impl s3_wire::keys::SecretStore<KeyEntry> for StaticKeys {
    fn lookup(&self, access_key_id: &str) -> Option<KeyEntry> {
        self.keys.get(access_key_id).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use s3_wire::keys::SecretStore as _;

    #[test]
    fn entries_never_print_secrets() {
        let keys = StaticKeys::new([("AKID1".to_string(), "secret1".to_string())]);
        let e = keys.lookup("AKID1").unwrap();
        assert_eq!(e.principal_id, "arn:lakegate:iam::key/AKID1");
        assert_eq!(e.mode, KeyMode::Service);
        assert!(!format!("{e:?}").contains("secret1"));
        let m = KeyMode::LakeFsKey { access_key_id: "LK".into(), secret_access_key: "lsecret".into() };
        assert!(!format!("{m:?}").contains("lsecret"));
        let s = KeyMode::Session { lakefs_token: "jwt-secret".into(), user: "alice".into() };
        assert_eq!(format!("{s:?}"), "Session(alice)");
        assert!(keys.lookup("nope").is_none());
    }
}
