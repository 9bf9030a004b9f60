//! A throwaway CA and a server certificate it signed for 127.0.0.1 and localhost (rcgen), for
//! tests of TLS on both sides of the gateway.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// A CA and a server certificate it signed for 127.0.0.1 and localhost.
pub struct Tls {
    pub ca_der: Vec<u8>,
    pub cert: PathBuf,
    pub key: PathBuf,
    /// The CA, plus the CA file the environment already trusts (the SeaweedFS pass's), for the child.
    pub trust: PathBuf,
    /// The CA alone (PEM).
    pub ca: PathBuf,
}

pub fn make_tls(dir: &Path) -> Tls {
    use rcgen::{BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.distinguished_name.push(DnType::CommonName, "lakegate dev_api_tls CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()]).unwrap();
    params.distinguished_name.push(DnType::CommonName, "127.0.0.1");
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let cert = params.signed_by(&key, &ca, &ca_key).unwrap();
    let (cert_path, key_path, trust) = (dir.join("api.pem"), dir.join("api.key"), dir.join("trust.pem"));
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    let mut bundle = ca.pem();
    if let Some(inherited) = std::env::var_os("SSL_CERT_FILE").and_then(|f| std::fs::read_to_string(f).ok()) {
        bundle.push('\n');
        bundle.push_str(&inherited);
    }
    std::fs::write(&trust, bundle).unwrap();
    let ca_path = dir.join("ca.pem");
    std::fs::write(&ca_path, ca.pem()).unwrap();
    Tls { ca_der: ca.der().to_vec(), cert: cert_path, key: key_path, trust, ca: ca_path }
}

/// A TLS client configuration trusting only `ca_der`, offering `alpn`.
pub fn client_config(ca_der: &[u8], alpn: &[u8]) -> std::sync::Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(rustls_pki_types::CertificateDer::from(ca_der.to_vec())).unwrap();
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    cfg.alpn_protocols = vec![alpn.to_vec()];
    std::sync::Arc::new(cfg)
}
