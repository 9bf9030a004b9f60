//! TLS for lakegate's listeners: rustls from PEM certificate-chain and private-key files, offering
//! HTTP/2 and HTTP/1.1 by ALPN. The files are **reloaded on change** (certificate rotation without
//! a restart): a handshake looks at the files' identity (inode, size, mtime) at most every
//! [`RELOAD_CHECK`] and loads them again when it changed; a pair that does not load (half-written,
//! key not matching the certificate) keeps the previous one in service and is retried.

use rustls::ServerConfig;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};
use tokio_rustls::TlsAcceptor;

/// How often a handshake may look at the PEM files for a change.
pub const RELOAD_CHECK: Duration = Duration::from_secs(1);

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("reading certificates from {path}: {reason}")]
    Certificates { path: String, reason: String },
    #[error("reading the private key from {path}: {reason}")]
    Key { path: String, reason: String },
    #[error("TLS configuration: {0}")]
    Config(#[from] rustls::Error),
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The certificate chain of `cert` (leaf first) with the private key of `key`, checked to match.
pub fn load(cert: &Path, key: &Path) -> Result<CertifiedKey, TlsError> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .and_then(|it| it.collect::<Result<_, _>>())
        .map_err(|e| TlsError::Certificates { path: cert.display().to_string(), reason: e.to_string() })?;
    if certs.is_empty() {
        return Err(TlsError::Certificates { path: cert.display().to_string(), reason: "no certificate found".into() });
    }
    let der = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| TlsError::Key { path: key.display().to_string(), reason: e.to_string() })?;
    let certified = CertifiedKey::from_der(certs, der, &provider())
        .map_err(|e| TlsError::Key { path: key.display().to_string(), reason: e.to_string() })?;
    Ok(certified)
}

/// A TLS acceptor for the PEM files `cert` and `key`, reloaded when they change.
pub fn acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor, TlsError> {
    let resolver = Reloading::new(cert, key)?;
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(resolver));
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// What identifies a version of a file.
type Stamp = Option<(u64, u64, SystemTime)>;

fn stamp(path: &Path) -> Stamp {
    let meta = std::fs::metadata(path).ok()?;
    Some((std::os::unix::fs::MetadataExt::ino(&meta), meta.len(), meta.modified().ok()?))
}

struct Current {
    key: Arc<CertifiedKey>,
    stamps: (Stamp, Stamp),
    checked: Instant,
}

/// The certificate resolver that follows the PEM files.
struct Reloading {
    paths: (PathBuf, PathBuf),
    current: Mutex<Current>,
}

impl std::fmt::Debug for Reloading {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reloading").field("cert", &self.paths.0).field("key", &self.paths.1).finish()
    }
}

impl Reloading {
    fn new(cert: &Path, key: &Path) -> Result<Reloading, TlsError> {
        let stamps = (stamp(cert), stamp(key));
        let key_now = Arc::new(load(cert, key)?);
        let current = Current { key: key_now, stamps, checked: Instant::now() };
        Ok(Reloading { paths: (cert.to_path_buf(), key.to_path_buf()), current: Mutex::new(current) })
    }

    /// The certificate to present, after loading the files again if they changed.
    fn certified(&self) -> Arc<CertifiedKey> {
        let mut cur = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        if cur.checked.elapsed() < RELOAD_CHECK {
            return cur.key.clone();
        }
        cur.checked = Instant::now();
        let stamps = (stamp(&self.paths.0), stamp(&self.paths.1));
        if stamps != cur.stamps {
            match load(&self.paths.0, &self.paths.1) {
                Ok(key) => {
                    (cur.key, cur.stamps) = (Arc::new(key), stamps);
                    super::events::get().tls_reloaded(true);
                    tracing::info!(cert = %self.paths.0.display(), "TLS certificate reloaded");
                }
                Err(e) => {
                    super::events::get().tls_reloaded(false);
                    tracing::warn!(error = %e, "TLS files changed but do not load; keeping the previous certificate");
                }
            }
        }
        cur.key.clone()
    }
}

impl ResolvesServerCert for Reloading {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.certified())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_pair(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
        let cert = rcgen::generate_simple_self_signed(vec![name.into()]).unwrap();
        let (c, k) = (dir.join("cert.pem"), dir.join("key.pem"));
        std::fs::write(&c, cert.cert.pem()).unwrap();
        std::fs::write(&k, cert.key_pair.serialize_pem()).unwrap();
        (c, k)
    }

    #[test]
    fn loads_pem_files_and_reports_bad_ones() {
        let dir = tempfile::tempdir().unwrap();
        let (c, k) = write_pair(dir.path(), "localhost");
        acceptor(&c, &k).unwrap();
        std::fs::write(&k, "not a key").unwrap();
        assert!(matches!(acceptor(&c, &k), Err(TlsError::Key { .. })));
        assert!(matches!(acceptor(&dir.path().join("missing"), &k), Err(TlsError::Certificates { .. })));
        // a key of another certificate
        let other = tempfile::tempdir().unwrap();
        let (_, k2) = write_pair(other.path(), "elsewhere");
        let (c, _) = write_pair(dir.path(), "localhost");
        assert!(matches!(load(&c, &k2), Err(TlsError::Key { .. })), "mismatched key refused");
    }

    #[test]
    fn follows_the_files_and_keeps_the_last_good_pair() {
        let dir = tempfile::tempdir().unwrap();
        let (c, k) = write_pair(dir.path(), "one.test");
        let r = Reloading::new(&c, &k).unwrap();
        let first = r.certified().cert[0].clone();
        write_pair(dir.path(), "two.test");
        assert_eq!(r.certified().cert[0], first, "not looked at again within RELOAD_CHECK");
        r.current.lock().unwrap().checked -= RELOAD_CHECK;
        let second = r.certified().cert[0].clone();
        assert_ne!(second, first, "rotated");
        std::fs::write(&k, "half-written").unwrap();
        r.current.lock().unwrap().checked -= RELOAD_CHECK;
        assert_eq!(r.certified().cert[0], second, "a broken pair keeps the previous certificate");
    }
}
