//! Stateless temporary S3 credentials (the shape of AWS STS's `Credentials`: access key id,
//! secret, session token, expiration), minted by the OIDC login endpoint ([`super::oidc_login`]).
//!
//! The session token is sealed with AES-256-GCM under a gateway session key and carries the
//! lakeFS token, the lakeFS user and the expiry; the access key id and the secret are HMACs of
//! the token under the same key. Any replica holding the key verifies a request signed with such
//! credentials (`x-amz-security-token`, or `X-Amz-Security-Token` in a presigned URL): it opens
//! the token, derives the secret, checks the signature, and calls lakeFS with the carried token.
//! An expired token is `ExpiredToken`; one that does not open (altered, unknown key) `InvalidToken`.
//!
//! Session keys live in a file (`--session-key-file`), one `ID SECRET` per line (`#` comments):
//! the first line seals new tokens, every line opens them, so a key is rotated by putting a new
//! line first and dropping the old one once its tokens have expired (12 hours at most). The file
//! is re-read when it changes (checked at most once a second).

use super::{KeyEntry, KeyMode};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD as B64};
use hmac::{Hmac, Mac};
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use s3_wire::s3_err;
use s3_wire::{S3Error, S3Result};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

/// Format byte of sealed tokens.
const VERSION: u8 = 1;
/// How often a token check may look at the key file for changes.
const RELOAD_CHECK: Duration = Duration::from_secs(1);
/// The shortest session key secret accepted.
pub const MIN_SECRET_LEN: usize = 32;

/// What a session token carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionClaims {
    /// The lakeFS token requests are made with.
    #[serde(rename = "t")]
    pub lakefs_token: String,
    /// The lakeFS user (for logs).
    #[serde(rename = "u")]
    pub user: String,
    /// Unix seconds after which the credentials are refused.
    #[serde(rename = "e")]
    pub expires: i64,
}

/// Temporary credentials, as `credential_process` prints them.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TempCredentials {
    pub version: u8,
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
    /// RFC 3339.
    pub expiration: String,
}

impl std::fmt::Debug for TempCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TempCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("expiration", &self.expiration)
            .finish_non_exhaustive()
    }
}

/// One session key.
struct SessionKey {
    id: String,
    aead: LessSafeKey,
    /// Derives access key ids and secrets from tokens.
    derive: Vec<u8>,
}

fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

impl SessionKey {
    fn new(id: &str, secret: &[u8]) -> SessionKey {
        let enc = hmac(secret, &[b"lakegate session token: seal"]);
        let aead = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &enc).expect("32-byte AES key"));
        SessionKey { id: id.to_string(), aead, derive: hmac(secret, &[b"lakegate session token: derive"]).to_vec() }
    }

    fn header(&self) -> Vec<u8> {
        let mut h = vec![VERSION, self.id.len() as u8];
        h.extend_from_slice(self.id.as_bytes());
        h
    }

    /// `ASIA` + 16 base32 characters, as AWS's temporary access key ids.
    fn access_key_id(&self, token: &str) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        let mac = hmac(&self.derive, &[b"akid\0", token.as_bytes()]);
        let mut bits = u128::from_be_bytes(mac[..16].try_into().expect("16 bytes"));
        let mut id = String::from("ASIA");
        for _ in 0..16 {
            id.push(ALPHABET[(bits >> 123) as usize] as char);
            bits <<= 5;
        }
        id
    }

    fn secret(&self, token: &str) -> String {
        STANDARD.encode(&hmac(&self.derive, &[b"secret\0", token.as_bytes()])[..30])
    }

    fn seal(&self, claims: &SessionClaims) -> S3Result<String> {
        let mut data = serde_json::to_vec(claims).map_err(S3Error::internal)?;
        let nonce_bytes: [u8; NONCE_LEN] = rand::random();
        let header = self.header();
        let nonce = Nonce::assume_unique_for_key(nonce_bytes);
        self.aead.seal_in_place_append_tag(nonce, Aad::from(&header), &mut data).map_err(S3Error::internal)?;
        let mut out = header;
        out.extend_from_slice(&nonce_bytes);
        out.extend_from_slice(&data);
        Ok(B64.encode(out))
    }
}

fn invalid_token() -> S3Error {
    s3_err!(InvalidToken, "The provided token is malformed or otherwise invalid.")
}

/// The key id a sealed token names, and the rest after it.
fn split_token(raw: &[u8]) -> Option<(&str, &[u8], &[u8])> {
    let (&version, rest) = raw.split_first()?;
    let (&len, rest) = rest.split_first()?;
    if version != VERSION || rest.len() < len as usize + NONCE_LEN {
        return None;
    }
    let (id, rest) = rest.split_at(len as usize);
    let header = &raw[..2 + len as usize];
    Some((std::str::from_utf8(id).ok()?, header, rest))
}

/// The parsed key file.
fn parse_keys(text: &str) -> Result<Vec<SessionKey>, String> {
    let mut keys: Vec<SessionKey> = Vec::new();
    for (n, line) in text.lines().enumerate().map(|(n, l)| (n + 1, l.trim())) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (id, secret) = line.split_once(char::is_whitespace).ok_or(format!("line {n}: expected `ID SECRET`"))?;
        let secret = secret.trim();
        if id.is_empty() || id.len() > 32 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            return Err(format!("line {n}: the key id must be 1-32 characters of A-Z a-z 0-9 - _"));
        }
        if secret.len() < MIN_SECRET_LEN {
            return Err(format!("line {n}: the secret of key {id:?} must be at least {MIN_SECRET_LEN} characters"));
        }
        if keys.iter().any(|k| k.id == id) {
            return Err(format!("line {n}: key id {id:?} appears twice"));
        }
        keys.push(SessionKey::new(id, secret.as_bytes()));
    }
    if keys.is_empty() {
        return Err("no key in the file (expected lines `ID SECRET`)".into());
    }
    Ok(keys)
}

type Stamp = Option<(u64, u64, Option<std::time::SystemTime>)>;

fn stamp(path: &Path) -> Stamp {
    let meta = std::fs::metadata(path).ok()?;
    Some((std::os::unix::fs::MetadataExt::ino(&meta), meta.len(), meta.modified().ok()))
}

/// The session keys of a gateway (from a file, reloaded on change).
pub struct SessionKeys {
    keys: RwLock<Arc<Vec<SessionKey>>>,
    file: Option<PathBuf>,
    checked: Mutex<(Instant, Stamp)>,
}

impl std::fmt::Debug for SessionKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<String> = self.current().iter().map(|k| k.id.clone()).collect();
        f.debug_struct("SessionKeys").field("ids", &ids).field("file", &self.file).finish()
    }
}

impl SessionKeys {
    /// Keys from `ID SECRET` lines (tests, and the file's first read).
    pub fn from_text(text: &str) -> Result<SessionKeys, String> {
        Ok(SessionKeys {
            keys: RwLock::new(Arc::new(parse_keys(text)?)),
            file: None,
            checked: Mutex::new((Instant::now(), None)),
        })
    }

    /// Keys from `file`.
    pub fn load(file: &Path) -> Result<SessionKeys, String> {
        let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
        let mut keys = SessionKeys::from_text(&text).map_err(|e| format!("{}: {e}", file.display()))?;
        keys.file = Some(file.to_path_buf());
        keys.checked = Mutex::new((Instant::now(), stamp(file)));
        Ok(keys)
    }

    /// Keys from `file`, which is created with one random key when it does not exist.
    pub fn load_or_init(file: &Path) -> Result<SessionKeys, String> {
        if !file.exists() {
            let text = format!(
                "# lakegate session keys: `ID SECRET` per line; the first seals, all open.\nk1 {}\n",
                hex::encode(rand::random::<[u8; 32]>())
            );
            let tmp = file.with_extension("tmp");
            lakegate_net::util::write_private(&tmp, text.as_bytes())
                .and_then(|_| std::fs::rename(&tmp, file))
                .map_err(|e| format!("{}: {e}", file.display()))?;
        }
        SessionKeys::load(file)
    }

    fn current(&self) -> Arc<Vec<SessionKey>> {
        self.maybe_reload();
        self.keys.read().expect("session keys lock").clone()
    }

    fn maybe_reload(&self) {
        let Some(file) = &self.file else { return };
        let mut checked = self.checked.lock().expect("session keys check lock");
        if checked.0.elapsed() < RELOAD_CHECK {
            return;
        }
        checked.0 = Instant::now();
        let now = stamp(file);
        if now == checked.1 {
            return;
        }
        checked.1 = now;
        match std::fs::read_to_string(file).map_err(|e| e.to_string()).and_then(|t| parse_keys(&t)) {
            Ok(keys) => {
                tracing::info!(file = %file.display(), keys = keys.len(), sealing = %keys[0].id, "session keys reloaded");
                *self.keys.write().expect("session keys lock") = Arc::new(keys);
            }
            Err(e) => {
                tracing::warn!(file = %file.display(), error = %e, "session key file not reloaded; keeping the previous keys")
            }
        }
    }

    /// Mints credentials for `claims` with the first key.
    pub fn mint(&self, claims: &SessionClaims) -> S3Result<TempCredentials> {
        let keys = self.current();
        let key = &keys[0];
        let token = key.seal(claims)?;
        let expiration = lakegate_net::util::format_rfc3339(claims.expires);
        Ok(TempCredentials {
            version: 1,
            access_key_id: key.access_key_id(&token),
            secret_access_key: key.secret(&token),
            session_token: token,
            expiration,
        })
    }

    /// The claims of a session token (`InvalidToken` when it does not open, `ExpiredToken` past
    /// its expiry).
    pub fn open(&self, token: &str, now_unix: i64) -> S3Result<(SessionClaims, KeyEntry)> {
        let raw = B64.decode(token.trim()).map_err(|_| invalid_token())?;
        let (id, header, rest) = split_token(&raw).ok_or_else(invalid_token)?;
        let keys = self.current();
        let key = keys.iter().find(|k| k.id == id).ok_or_else(invalid_token)?;
        let (nonce, sealed) = rest.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| invalid_token())?;
        let mut data = sealed.to_vec();
        let plain = key.aead.open_in_place(nonce, Aad::from(header), &mut data).map_err(|_| invalid_token())?;
        let claims: SessionClaims = serde_json::from_slice(plain).map_err(|_| invalid_token())?;
        if now_unix >= claims.expires {
            return Err(s3_err!(ExpiredToken, "The provided token has expired."));
        }
        let token = token.trim();
        let entry = KeyEntry {
            access_key_id: key.access_key_id(token),
            secret_access_key: key.secret(token),
            principal_id: format!("arn:lakegate:sts::session/{}", claims.user),
            mode: KeyMode::Session { lakefs_token: claims.lakefs_token.clone(), user: claims.user.clone() },
        };
        Ok((claims, entry))
    }
}

/// Session tokens as the wire layer opens them: the temporary key a token stands for.
impl s3_wire::keys::SessionTokens<KeyEntry> for SessionKeys {
    fn open_token(&self, token: &str, now_unix: i64) -> S3Result<KeyEntry> {
        self.open(token, now_unix).map(|(_, entry)| entry)
    }
}

#[cfg(test)]
mod tests;
