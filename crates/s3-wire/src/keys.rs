//! Where the secrets behind signatures come from. The wire layer verifies SigV4/SigV2 with a key's
//! secret and hands back the key it found; what else a key carries (whom it stands for) is the
//! caller's business, so keys are any type implementing [`SigningKey`].

use crate::error::S3Result;
use std::collections::HashMap;

/// A key the wire layer can verify signatures with.
pub trait SigningKey: Clone + Send + Sync + 'static {
    fn access_key_id(&self) -> &str;
    fn secret_access_key(&self) -> &str;
}

/// Finds the key of an access key id.
pub trait SecretStore<K>: Send + Sync {
    fn lookup(&self, access_key_id: &str) -> Option<K>;
}

/// Opens session tokens (`x-amz-security-token`): the temporary key a token stands for, or the
/// S3 error that refuses it.
pub trait SessionTokens<K>: Send + Sync {
    fn open_token(&self, token: &str, now_unix: i64) -> S3Result<K>;
}

/// An access key id and its secret, nothing more.
#[derive(Clone, PartialEq, Eq)]
pub struct PlainKey {
    pub access_key_id: String,
    pub secret_access_key: String,
}

impl std::fmt::Debug for PlainKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlainKey").field("access_key_id", &self.access_key_id).finish_non_exhaustive()
    }
}

impl SigningKey for PlainKey {
    fn access_key_id(&self) -> &str {
        &self.access_key_id
    }
    fn secret_access_key(&self) -> &str {
        &self.secret_access_key
    }
}

/// Plain keys held in memory.
#[derive(Default, Clone)]
pub struct PlainKeys(HashMap<String, PlainKey>);

impl PlainKeys {
    pub fn new(pairs: impl IntoIterator<Item = (String, String)>) -> PlainKeys {
        let keys = pairs.into_iter().map(|(a, s)| (a.clone(), PlainKey { access_key_id: a, secret_access_key: s }));
        PlainKeys(keys.collect())
    }
}

impl SecretStore<PlainKey> for PlainKeys {
    fn lookup(&self, access_key_id: &str) -> Option<PlainKey> {
        self.0.get(access_key_id).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_keys_are_found_and_never_print_their_secret() {
        let keys = PlainKeys::new([("AK".to_string(), "sk-secret".to_string())]);
        let k = keys.lookup("AK").unwrap();
        assert_eq!((k.access_key_id(), k.secret_access_key()), ("AK", "sk-secret"));
        assert!(!format!("{k:?}").contains("sk-secret"));
        assert!(keys.lookup("other").is_none());
    }
}
