//! As whom lakegate calls lakeFS for a verified key ([`KeyMode`]): the gateway's service client,
//! a client logging in with the key's own lakeFS key pair, or — for external principals — a
//! per-user session from lakeFS `externalPrincipalLogin` (lakeFS `api/swagger.yml`, tag
//! `external`; `../shared/reference/lakefs-api.md` §1.8).
//!
//! Principal flow: principal id → `getExternalPrincipal` → user id (cached with a TTL, misses
//! cached briefly), then one JWT per user, obtained with an identity token the verified key signs
//! for lakegate's own STS endpoint and renewed shortly before it expires. Concurrent requests wait
//! on one lookup and one login (a tokio mutex per principal and per user; no dashmap guard is held
//! across an `.await`).

use super::{KeyEntry, KeyMode};
use crate::ops::errors::{Missing, map_lakefs};
use dashmap::DashMap;
use lakefs_api::auth_dto::ExternalLoginInformation;
use lakefs_api::aws_iam::IdentitySigner;
use lakefs_api::{Credentials, LakeFsClient, LakeFsError};
use lakegate_net::util::now_unix;
use s3_wire::s3_err;
use s3_wire::{S3Error, S3Result};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

/// How long a principal with no user attached is remembered.
const NEGATIVE_TTL: Duration = Duration::from_secs(5);

/// Settings of principal sessions.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// `host[:port]` at which lakeFS reaches lakegate's STS endpoint (named in identity tokens).
    pub sts_host: String,
    /// Region of the STS signature.
    pub sts_region: String,
    /// The `X-LakeFS-Server-ID` lakeFS requires.
    pub server_id: String,
    /// How long a principal → user mapping is trusted.
    pub principal_ttl: Duration,
}

type Cell<T> = Arc<tokio::sync::Mutex<Option<T>>>;

/// A user's lakeFS session.
#[derive(Clone)]
struct Session {
    client: LakeFsClient,
    /// Unix seconds after which the token is renewed.
    renew_at: i64,
}

/// Per-key lakeFS clients.
pub struct Sessions {
    service: LakeFsClient,
    cfg: SessionConfig,
    /// Principal id → (user id or none, when it was read).
    principals: DashMap<String, Cell<(Option<String>, Instant)>>,
    /// User id → its session.
    users: DashMap<String, Cell<Session>>,
    /// Gateway access key id → (fingerprint of its lakeFS key pair, client).
    lakefs_keys: DashMap<String, (u64, LakeFsClient)>,
    logins: AtomicU64,
}

fn cell<T>(map: &DashMap<String, Cell<T>>, key: &str) -> Cell<T> {
    if let Some(c) = map.get(key) {
        return c.clone();
    }
    map.entry(key.to_string()).or_default().clone()
}

/// A lakeFS refusal of identity calls, said in S3 terms.
fn refusal(err: LakeFsError, what: &str) -> S3Error {
    match err.status().map(|s| s.as_u16()) {
        Some(501) => s3_err!(
            AccessDenied,
            "{what}: this lakeFS has no external principals (501); give the key mode lakefs-key or service"
        ),
        // lakeFS's answers to a refused identity (ledger: externalPrincipalLogin): 400 `invalid
        // request`, 401 `invalid token format`, 403 `session expired`, and 404 `not found` for an
        // identity bound to no lakeFS user; none can succeed on retry
        Some(404) => s3_err!(AccessDenied, "{what}: lakeFS knows no user bound to this identity ({err})"),
        Some(400 | 401 | 403) => s3_err!(AccessDenied, "{what}: lakeFS refused: {err}"),
        _ => map_lakefs(err, Missing::Bucket),
    }
}

impl Sessions {
    pub fn new(service: LakeFsClient, cfg: SessionConfig) -> Sessions {
        Sessions {
            service,
            cfg,
            principals: DashMap::new(),
            users: DashMap::new(),
            lakefs_keys: DashMap::new(),
            logins: AtomicU64::new(0),
        }
    }

    /// The settings (STS host, server id) in use.
    pub fn config(&self) -> &SessionConfig {
        &self.cfg
    }

    /// `externalPrincipalLogin`s made since start.
    pub fn login_count(&self) -> u64 {
        self.logins.load(Ordering::Relaxed)
    }

    /// The lakeFS client for requests signed with `key`.
    pub async fn client_for(&self, key: &KeyEntry) -> S3Result<LakeFsClient> {
        match &key.mode {
            KeyMode::Service => Ok(self.service.clone()),
            KeyMode::LakeFsKey { access_key_id, secret_access_key } => {
                Ok(self.lakefs_key_client(&key.access_key_id, access_key_id, secret_access_key))
            }
            KeyMode::Principal => self.principal_client(key).await,
            KeyMode::Session { lakefs_token, .. } => {
                Ok(self.service.with_credentials(Credentials::Token(lakefs_token.clone())))
            }
        }
    }

    fn lakefs_key_client(&self, gateway_key: &str, ak: &str, sk: &str) -> LakeFsClient {
        use sha2::Digest;
        let digest = sha2::Sha256::new().chain_update(ak).chain_update([0]).chain_update(sk).finalize();
        let print = u64::from_be_bytes(digest[..8].try_into().expect("8 bytes"));
        if let Some(c) = self.lakefs_keys.get(gateway_key).filter(|e| e.0 == print).map(|e| e.1.clone()) {
            return c;
        }
        let creds = Credentials::Login { access_key_id: ak.to_string(), secret_access_key: sk.to_string() };
        let client = self.service.with_credentials(creds);
        self.lakefs_keys.insert(gateway_key.to_string(), (print, client.clone()));
        client
    }

    async fn principal_client(&self, key: &KeyEntry) -> S3Result<LakeFsClient> {
        let user = self.user_of(&key.principal_id).await?;
        let slot = cell(&self.users, &user);
        let mut session = slot.lock().await;
        if let Some(s) = session.as_ref().filter(|s| s.renew_at > now_unix()) {
            return Ok(s.client.clone());
        }
        let fresh = self.login(key, &user).await?;
        *session = Some(fresh.clone());
        Ok(fresh.client)
    }

    /// The user `principal_id` is attached to (`AccessDenied` when none).
    async fn user_of(&self, principal_id: &str) -> S3Result<String> {
        let slot = cell(&self.principals, principal_id);
        let mut cached = slot.lock().await;
        let fresh = |(user, at): &(Option<String>, Instant)| {
            at.elapsed()
                < if user.is_some() { self.cfg.principal_ttl } else { NEGATIVE_TTL.min(self.cfg.principal_ttl) }
        };
        let user = match cached.as_ref().filter(|c| fresh(c)) {
            Some((user, _)) => user.clone(),
            None => {
                let user = match self.service.get_external_principal(principal_id).await {
                    Ok(p) => Some(p.user_id),
                    Err(e) if e.is_not_found() => None,
                    Err(e) => return Err(refusal(e, &format!("looking up external principal {principal_id:?}"))),
                };
                *cached = Some((user.clone(), Instant::now()));
                user
            }
        };
        user.ok_or_else(|| {
            s3_err!(AccessDenied, "The key's principal {principal_id:?} is not attached to any lakeFS user.")
        })
    }

    /// `externalPrincipalLogin` with an identity token `key` signs for lakegate's STS endpoint.
    async fn login(&self, key: &KeyEntry, user: &str) -> S3Result<Session> {
        let signer = IdentitySigner {
            sts_host: &self.cfg.sts_host,
            region: &self.cfg.sts_region,
            server_id: &self.cfg.server_id,
            access_key_id: &key.access_key_id,
            secret_access_key: &key.secret_access_key,
            session_token: None,
        };
        let request = signer.identity_request(SystemTime::now()).map_err(S3Error::internal)?;
        let info = ExternalLoginInformation { identity_request: request, token_expiration_duration: None };
        let what = format!("logging in to lakeFS as principal {:?}", key.principal_id);
        let token = self.service.external_principal_login(&info).await.map_err(|e| refusal(e, &what))?;
        let n = self.logins.fetch_add(1, Ordering::Relaxed) + 1;
        let now = now_unix();
        let expires = token.token_expiration.unwrap_or(now + 3600);
        let margin = ((expires - now) / 4).clamp(0, 300);
        tracing::info!(%user, principal = %key.principal_id, expires, logins = n, "lakeFS session for external principal");
        let client = self.service.with_credentials(Credentials::Token(token.token));
        Ok(Session { client, renew_at: expires - margin })
    }
}
