//! A raw S3 request harness for the integration tests: an in-process embedded lakeFS plus the S3
//! gateway on `127.0.0.1:0` (optionally over TLS with a per-run self-signed certificate), and a
//! SigV4 signer of our own (on `aws-sigv4`) for the edge cases real clients do not send.
#![allow(dead_code)]

use super::Server;
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PercentEncodingMode, SignableBody, SignableRequest, SignatureLocation, SigningSettings, UriPathNormalizationMode,
    sign,
};
use aws_sigv4::sign::v4;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use lakegate::auth::StaticKeys;
use lakegate::config::GatewayArgs;
use lakegate::gateway::GatewayServer;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::sync::oneshot;

/// The lakeFS embedded server plus the S3 gateway in front of it.
pub struct Stack {
    pub lakefs: Server,
    pub s3_addr: std::net::SocketAddr,
    pub tls_cert_der: Option<Vec<u8>>,
    pub access_key_id: String,
    pub secret_access_key: String,
    stop: Option<oneshot::Sender<()>>,
    _dir: tempfile::TempDir,
}

impl Stack {
    pub async fn start(tls: bool) -> Stack {
        Stack::start_with(tls, false).await
    }

    /// A stack whose bare repository buckets address the default branch (`--flat-buckets`).
    pub async fn start_with(tls: bool, flat_buckets: bool) -> Stack {
        Stack::start_opts(tls, flat_buckets, true).await
    }

    /// A stack whose lakeFS blockstore presigns or not (then bytes stream through lakeFS).
    pub async fn start_opts(tls: bool, flat_buckets: bool, presign: bool) -> Stack {
        Stack::start_adjusted(tls, presign, |args| args.flat_buckets = flat_buckets).await
    }

    /// A stack whose gateway settings `adjust` changes first (limits, timeouts…).
    pub async fn start_adjusted(tls: bool, presign: bool, adjust: impl FnOnce(&mut GatewayArgs)) -> Stack {
        let dir = tempfile::tempdir().unwrap();
        let lakefs = Server::start_with(&dir.path().join("data"), presign).await;
        Stack::on(lakefs, dir, tls, adjust).await
    }

    /// A gateway (settings changed by `adjust`) in front of a running embedded server whose files
    /// are in `dir`.
    pub async fn on(lakefs: Server, dir: tempfile::TempDir, tls: bool, adjust: impl FnOnce(&mut GatewayArgs)) -> Stack {
        let (ak, sk) = (lakefs.access_key_id.clone(), lakefs.secret_access_key.clone());
        let keys = StaticKeys::new([(ak.clone(), sk.clone())]);
        let (mut args, der) = gateway_args(&lakefs, dir.path(), tls);
        adjust(&mut args);
        let gw = GatewayServer::bind(&args, Arc::new(keys), lakefs.client()).await.unwrap();
        Stack::around(lakefs, gw, der, (ak, sk), dir)
    }

    /// A stack serving an already bound gateway (tests that build their own key store), signing
    /// with `key` by default.
    pub fn around(
        lakefs: Server,
        gw: GatewayServer,
        tls_cert_der: Option<Vec<u8>>,
        key: (String, String),
        dir: tempfile::TempDir,
    ) -> Stack {
        let s3_addr = gw.addr;
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(gw.serve(async move {
            let _ = stopped.await;
        }));
        Stack {
            lakefs,
            s3_addr,
            tls_cert_der,
            access_key_id: key.0,
            secret_access_key: key.1,
            stop: Some(stop),
            _dir: dir,
        }
    }

    pub fn host(&self) -> String {
        self.s3_addr.to_string()
    }

    /// The directory holding the stack's files (`cert.pem`, `key.pem` under TLS).
    pub fn dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    /// Starts the S3 listener's graceful shutdown.
    pub fn shutdown(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

/// The tests' gateway settings on `lakefs` (HTTPS with a fresh self-signed certificate when
/// `tls`; its DER is returned), in `dir`.
pub fn gateway_args(lakefs: &Server, dir: &std::path::Path, tls: bool) -> (GatewayArgs, Option<Vec<u8>>) {
    let (mut tls_cert, mut tls_key, mut der) = (None, None, None);
    if tls {
        let cert = rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
        let (c, k) = (dir.join("cert.pem"), dir.join("key.pem"));
        std::fs::write(&c, cert.cert.pem()).unwrap();
        std::fs::write(&k, cert.key_pair.serialize_pem()).unwrap();
        der = Some(cert.cert.der().to_vec());
        (tls_cert, tls_key) = (Some(c), Some(k));
    }
    let args = GatewayArgs {
        listen: "127.0.0.1:0".parse().unwrap(),
        tls_cert,
        tls_key,
        domains: vec!["s3.local.test".into()],
        region: "us-east-1".into(),
        allow_sigv2: true,
        flat_buckets: false,
        namespace_template: Some(match super::test_s3() {
            Some(s3) => format!("s3://{}/{{repo}}-{}", s3.bucket, hex::encode(rand::random::<[u8; 4]>())),
            None => "local://{repo}".into(),
        }),
        state_dir: Some(lakefs.data_dir.join("gateway")),
        upload_id_key_file: None,
        session_key_file: None,
        session_max_ttl_secs: 43_200,
        spool_max_bytes: 1 << 30,
        small_object_cache: 16 << 20,
        admin_listen: None,
        shutdown_grace_secs: 5,
        limits: Default::default(),
        publish_rules: Vec::new(),
        identity: Default::default(),
    };
    (args, der)
}

/// A request to send: method, path+query, extra headers, body.
pub struct Req<'a> {
    pub method: &'a str,
    pub path_and_query: &'a str,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl<'a> Req<'a> {
    pub fn new(method: &'a str, path_and_query: &'a str) -> Req<'a> {
        Req { method, path_and_query, headers: Vec::new(), body: Vec::new() }
    }

    pub fn header(mut self, k: &str, v: &str) -> Self {
        self.headers.push((k.to_string(), v.to_string()));
        self
    }

    pub fn body(mut self, b: &[u8]) -> Self {
        self.body = b.to_vec();
        self
    }
}

/// SigV4-signs `req` for `host` (header auth with `payload_hash`, or a presigned URL when
/// `presign` is set); returns the final path+query and headers.
pub fn sign_request(
    req: &Req<'_>,
    host: &str,
    ak: &str,
    sk: &str,
    time: SystemTime,
    payload_hash: &str,
    presign: Option<Duration>,
) -> (String, Vec<(String, String)>) {
    let identity = Credentials::new(ak, sk, None, None, "test").into();
    let mut settings = SigningSettings::default();
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    let mut headers: Vec<(String, String)> = vec![("host".into(), host.into())];
    headers.extend(req.headers.iter().cloned());
    if let Some(expires) = presign {
        settings.signature_location = SignatureLocation::QueryParams;
        settings.expires_in = Some(expires);
    } else {
        headers.push(("x-amz-content-sha256".into(), payload_hash.into()));
    }
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("s3")
        .time(time)
        .settings(settings)
        .build()
        .unwrap()
        .into();
    let body =
        if presign.is_some() { SignableBody::UnsignedPayload } else { SignableBody::Precomputed(payload_hash.into()) };
    let url = format!("http://{host}{}", req.path_and_query);
    let signable =
        SignableRequest::new(req.method, url, headers.iter().map(|(k, v)| (k.as_str(), v.as_str())), body).unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let (extra_headers, params) = instructions.into_parts();
    for h in extra_headers {
        headers.push((h.name().to_string(), h.value().to_string()));
    }
    let mut path = req.path_and_query.to_string();
    for (i, (k, v)) in params.iter().enumerate() {
        let sep = if i == 0 && !path.contains('?') { '?' } else { '&' };
        path.push(sep);
        path.push_str(&format!("{k}={}", percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC)));
    }
    (path, headers)
}

/// The answer to a raw request.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// `<Code>` of an S3 error body.
    pub fn code(&self) -> String {
        let t = self.text();
        t.split("<Code>").nth(1).and_then(|r| r.split("</Code>").next()).unwrap_or("").to_string()
    }
}

/// Sends one request on a fresh connection (TLS when the stack has a certificate).
pub async fn send(
    stack: &Stack,
    path_and_query: &str,
    method: &str,
    headers: &[(String, String)],
    body: Vec<u8>,
) -> Answer {
    let tcp = tokio::net::TcpStream::connect(stack.s3_addr).await.unwrap();
    let mut b = http::Request::builder().method(method).uri(path_and_query);
    for (k, v) in headers {
        b = b.header(k.as_str(), v.as_str());
    }
    let req = b.body(Full::new(Bytes::from(body))).unwrap();
    let resp = match &stack.tls_cert_der {
        None => {
            let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp)).await.unwrap();
            tokio::spawn(conn);
            sender.send_request(req).await.unwrap()
        }
        Some(der) => {
            let connector = tokio_rustls::TlsConnector::from(super::tls::client_config(der, b"http/1.1"));
            let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
            let tls = connector.connect(name, tcp).await.unwrap();
            let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls)).await.unwrap();
            tokio::spawn(conn);
            sender.send_request(req).await.unwrap()
        }
    };
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.into_body().collect().await.unwrap().to_bytes().to_vec();
    Answer { status, headers, body }
}

pub const EMPTY_SHA: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Signs (header auth, hashed payload) and sends.
pub async fn signed(stack: &Stack, req: Req<'_>) -> Answer {
    signed_as(stack, (&stack.access_key_id, &stack.secret_access_key), req).await
}

/// [`signed`] with another key pair.
pub async fn signed_as(stack: &Stack, (ak, sk): (&str, &str), req: Req<'_>) -> Answer {
    let hash = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&req.body));
    let (path, headers) = sign_request(&req, &stack.host(), ak, sk, SystemTime::now(), &hash, None);
    send(stack, &path, req.method, &headers, req.body.clone()).await
}

/// How to frame an aws-chunked body.
pub struct Chunking<'a> {
    pub chunk_size: usize,
    /// `(signing key, amz date, scope, seed signature)` for signed chunks.
    pub signer: Option<(Vec<u8>, String, String, String)>,
    /// `(header name, value)` of a trailing checksum.
    pub trailer: Option<(&'a str, String)>,
}

fn hmac_hex(key: &[u8], data: &str) -> String {
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
    mac.update(data.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

fn sha_hex(data: &[u8]) -> String {
    hex::encode(<sha2::Sha256 as sha2::Digest>::digest(data))
}

/// Frames `data` as aws-chunked (AWS "Transferring payload in multiple chunks"), signing chunks
/// and the trailer when a signer is given.
pub fn chunked_body(data: &[u8], c: &Chunking<'_>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut prev = c.signer.as_ref().map(|s| s.3.clone()).unwrap_or_default();
    let mut chunks: Vec<&[u8]> = data.chunks(c.chunk_size.max(1)).collect();
    chunks.push(&[]);
    for chunk in chunks {
        match &c.signer {
            Some((key, date, scope, _)) => {
                let sts = format!("AWS4-HMAC-SHA256-PAYLOAD\n{date}\n{scope}\n{prev}\n{EMPTY_SHA}\n{}", sha_hex(chunk));
                prev = hmac_hex(key, &sts);
                out.extend_from_slice(format!("{:x};chunk-signature={prev}\r\n", chunk.len()).as_bytes());
            }
            None => out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes()),
        }
        out.extend_from_slice(chunk);
        if !chunk.is_empty() || c.trailer.is_none() {
            out.extend_from_slice(b"\r\n");
        }
    }
    if let Some((name, value)) = &c.trailer {
        let line = format!("{name}:{value}\n");
        out.extend_from_slice(format!("{name}:{value}\r\n").as_bytes());
        if let Some((key, date, scope, _)) = &c.signer {
            let sts = format!("AWS4-HMAC-SHA256-TRAILER\n{date}\n{scope}\n{prev}\n{}", sha_hex(line.as_bytes()));
            out.extend_from_slice(format!("x-amz-trailer-signature:{}\r\n", hmac_hex(key, &sts)).as_bytes());
        }
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Sends a streaming (aws-chunked) PutObject: `mode` is the `x-amz-content-sha256` value.
pub async fn put_chunked(
    stack: &Stack,
    key_path: &str,
    data: &[u8],
    mode: &str,
    trailer: Option<(&str, String)>,
    extra: &[(&str, &str)],
) -> Answer {
    let mut req = Req::new("PUT", key_path)
        .header("content-encoding", "aws-chunked")
        .header("x-amz-decoded-content-length", &data.len().to_string());
    if let Some((name, _)) = &trailer {
        req = req.header("x-amz-trailer", name);
    }
    for (k, v) in extra {
        req = req.header(k, v);
    }
    let now = SystemTime::now();
    let (path, headers) =
        sign_request(&req, &stack.host(), &stack.access_key_id, &stack.secret_access_key, now, mode, None);
    let signer = mode.starts_with("STREAMING-AWS4-HMAC-SHA256").then(|| {
        let auth = headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("authorization")).unwrap().1.clone();
        let seed = auth.rsplit("Signature=").next().unwrap().to_string();
        let date = headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("x-amz-date")).unwrap().1.clone();
        let key = aws_sigv4::sign::v4::generate_signing_key(&stack.secret_access_key, now, "us-east-1", "s3")
            .as_ref()
            .to_vec();
        (key, date.clone(), format!("{}/us-east-1/s3/aws4_request", &date[..8]), seed)
    });
    let body = chunked_body(data, &Chunking { chunk_size: 64 * 1024, signer, trailer });
    let mut headers = headers;
    headers.push(("content-length".into(), body.len().to_string()));
    send(stack, &path, "PUT", &headers, body).await
}

/// S3's CRC32 value (base64 of the big-endian CRC-32/ISO-HDLC).
pub fn crc32_b64(data: &[u8]) -> String {
    use base64::Engine;
    let crc = crc_fast::checksum(crc_fast::CrcAlgorithm::Crc32IsoHdlc, data) as u32;
    base64::engine::general_purpose::STANDARD.encode(crc.to_be_bytes())
}

/// Sends one request over HTTP/2 (TLS with ALPN `h2`); `host` becomes the `:authority`.
pub async fn send_h2(
    stack: &Stack,
    path_and_query: &str,
    method: &str,
    headers: &[(String, String)],
    body: Vec<u8>,
) -> (Answer, http::Version) {
    let der = stack.tls_cert_der.clone().expect("a TLS stack");
    let tcp = tokio::net::TcpStream::connect(stack.s3_addr).await.unwrap();
    let cfg = super::tls::client_config(&der, b"h2");
    let tls = tokio_rustls::TlsConnector::from(cfg)
        .connect(rustls_pki_types::ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .unwrap();
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]), "server must offer h2 by ALPN");
    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(hyper_util::rt::TokioExecutor::new(), TokioIo::new(tls)).await.unwrap();
    tokio::spawn(conn);
    let uri = format!("https://{}{path_and_query}", stack.host());
    let mut b = http::Request::builder().method(method).uri(uri).version(http::Version::HTTP_2);
    for (k, v) in headers.iter().filter(|(k, _)| !k.eq_ignore_ascii_case("host")) {
        b = b.header(k.as_str(), v.as_str());
    }
    let resp = sender.send_request(b.body(Full::new(Bytes::from(body))).unwrap()).await.unwrap();
    let version = resp.version();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.into_body().collect().await.unwrap().to_bytes().to_vec();
    (Answer { status, headers, body }, version)
}

/// The text of every `<tag>…</tag>` in an XML document, in order.
pub fn tag_values(xml: &str, tag: &str) -> Vec<String> {
    xml.split(&format!("<{tag}>"))
        .skip(1)
        .filter_map(|r| r.split(&format!("</{tag}>")).next())
        .map(str::to_string)
        .collect()
}
