//! TLS for lakegate's listeners: a rustls server configuration from PEM certificate-chain and
//! private-key files, offering HTTP/2 and HTTP/1.1 by ALPN.

use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::path::Path;
use std::sync::Arc;
use tokio_rustls::TlsAcceptor;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("reading certificates from {path}: {reason}")]
    Certificates { path: String, reason: String },
    #[error("reading the private key from {path}: {reason}")]
    Key { path: String, reason: String },
    #[error("TLS configuration: {0}")]
    Config(#[from] rustls::Error),
}

/// A TLS acceptor for the PEM files `cert` (chain, leaf first) and `key`.
pub fn acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor, TlsError> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .and_then(|it| it.collect::<Result<_, _>>())
        .map_err(|e| TlsError::Certificates { path: cert.display().to_string(), reason: e.to_string() })?;
    if certs.is_empty() {
        return Err(TlsError::Certificates { path: cert.display().to_string(), reason: "no certificate found".into() });
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| TlsError::Key { path: key.display().to_string(), reason: e.to_string() })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_pem_files_and_reports_bad_ones() {
        let dir = tempfile::tempdir().unwrap();
        let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let (c, k) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
        std::fs::write(&c, cert.cert.pem()).unwrap();
        std::fs::write(&k, cert.key_pair.serialize_pem()).unwrap();
        acceptor(&c, &k).unwrap();
        std::fs::write(&k, "not a key").unwrap();
        assert!(matches!(acceptor(&c, &k), Err(TlsError::Key { .. })));
        assert!(matches!(acceptor(&dir.path().join("missing"), &k), Err(TlsError::Certificates { .. })));
    }
}
