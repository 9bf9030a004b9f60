//! Test fixture: a stand-in for an STS endpoint (lakegate's own STS endpoint comes later) that
//! answers `GetCallerIdentity` with a fixed ARN, either for any request or, given a key pair, only
//! for requests whose SigV4 query signature it can reproduce (so a token signed for another
//! `X-LakeFS-Server-ID` fails there, as at AWS). Plus the client side: lakeFS's identity token
//! (`AWSIdentityTokenInfo`) for a presigned `GetCallerIdentity`, built with `aws-sigv4`.
#![allow(dead_code)]

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign};
use aws_sigv4::sign::v4;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http_body_util::Full;
use hyper_util::rt::TokioIo;
use lakefs_api::auth_dto::AwsIdentityTokenInfo;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// One request the stub received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub query: String,
    pub server_id: Option<String>,
}

/// A running STS stand-in on `127.0.0.1:0`.
pub struct StsStub {
    /// `127.0.0.1:<port>`, the host identity tokens name.
    pub host: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for StsStub {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The query parameters of a presigned `GetCallerIdentity` for `host`, signed at `time`.
fn presign(
    host: &str,
    server_id: Option<&str>,
    (ak, sk): (&str, &str),
    time: SystemTime,
    expires: u64,
) -> Vec<(String, String)> {
    let identity = Credentials::new(ak, sk, None, None, "test").into();
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(Duration::from_secs(expires));
    let params =
        v4::SigningParams::builder().identity(&identity).region("us-east-1").name("sts").time(time).settings(settings);
    let params = params.build().unwrap().into();
    let mut headers = vec![("host", host)];
    if let Some(id) = server_id {
        headers.push(("x-lakefs-server-id", id));
    }
    let url = format!("http://{host}/?Action=GetCallerIdentity&Version=2011-06-15");
    let signable = SignableRequest::new("POST", url, headers.into_iter(), SignableBody::Bytes(b"")).unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let (_, query) = instructions.into_parts();
    let mut out = vec![("Action".into(), "GetCallerIdentity".into()), ("Version".into(), "2011-06-15".into())];
    out.extend(query.into_iter().map(|(k, v)| (k.to_string(), v.to_string())));
    out
}

/// lakeFS's `identityRequest` for a `GetCallerIdentity` presigned now for `host` with `key`,
/// signing `X-LakeFS-Server-ID: <server_id>` when given (as lakeFS's `ParsePresignedURL` does).
pub fn identity_request(host: &str, server_id: Option<&str>, key: (&str, &str)) -> serde_json::Value {
    let q: HashMap<String, String> = presign(host, server_id, key, SystemTime::now(), 900).into_iter().collect();
    let credential: Vec<&str> = q["X-Amz-Credential"].split('/').collect();
    let info = AwsIdentityTokenInfo {
        method: "POST".into(),
        host: host.into(),
        region: credential[2].into(),
        action: q["Action"].clone(),
        date: q["X-Amz-Date"].clone(),
        expiration_duration: q["X-Amz-Expires"].clone(),
        access_key_id: credential[0].into(),
        signature: q["X-Amz-Signature"].clone(),
        signed_headers: q["X-Amz-SignedHeaders"].split(';').map(str::to_string).collect(),
        version: q["Version"].clone(),
        algorithm: q["X-Amz-Algorithm"].clone(),
        security_token: String::new(),
    };
    serde_json::json!({ "identity_token": STANDARD.encode(serde_json::to_vec(&info).unwrap()) })
}

/// The same `identityRequest` with its signature replaced.
pub fn with_signature(request: serde_json::Value, signature: &str) -> serde_json::Value {
    let raw = STANDARD.decode(request["identity_token"].as_str().unwrap()).unwrap();
    let mut info: AwsIdentityTokenInfo = serde_json::from_slice(&raw).unwrap();
    info.signature = signature.into();
    serde_json::json!({ "identity_token": STANDARD.encode(serde_json::to_vec(&info).unwrap()) })
}

/// Whether the stub can reproduce the request's signature with `key`.
fn signature_matches(host: &str, query: &HashMap<String, String>, server_id: Option<&str>, key: (&str, &str)) -> bool {
    let get = |k: &str| query.get(k).map(String::as_str).unwrap_or("");
    let Some(time) = lakegate_net::util::parse_amz_date(get("X-Amz-Date")) else { return false };
    let Ok(expires) = get("X-Amz-Expires").parse() else { return false };
    let expected = presign(host, server_id, key, time, expires);
    expected.iter().any(|(k, v)| k == "X-Amz-Signature" && v == get("X-Amz-Signature"))
}

fn answer(status: u16, body: String) -> http::Response<Full<Bytes>> {
    let mut resp = http::Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = http::StatusCode::from_u16(status).unwrap();
    resp
}

/// What the stub answers and checks.
#[derive(Clone)]
struct Config {
    host: String,
    arn: String,
    key: Option<(String, String)>,
    log: Arc<Mutex<Vec<Seen>>>,
}

/// Records `req` and answers it: the ARN, or 403 when a key is set and the signature fails.
fn respond(cfg: &Config, req: &http::Request<hyper::body::Incoming>) -> http::Response<Full<Bytes>> {
    let raw_query = req.uri().query().unwrap_or("");
    let query: HashMap<String, String> = form_urlencoded::parse(raw_query.as_bytes()).into_owned().collect();
    let server_id = req.headers().get("x-lakefs-server-id").and_then(|v| v.to_str().ok()).map(str::to_string);
    let seen = Seen { method: req.method().to_string(), query: raw_query.to_string(), server_id: server_id.clone() };
    cfg.log.lock().unwrap().push(seen);
    let verified = |(a, s): &(String, String)| signature_matches(&cfg.host, &query, server_id.as_deref(), (a, s));
    if !cfg.key.as_ref().is_none_or(verified) {
        let body =
            "<ErrorResponse><Error><Type>Sender</Type><Code>SignatureDoesNotMatch</Code></Error></ErrorResponse>";
        return answer(403, body.into());
    }
    let result = format!("<Arn>{}</Arn><UserId>AROA:s</UserId><Account>1</Account>", cfg.arn);
    let ns = "https://sts.amazonaws.com/doc/2011-06-15/";
    answer(
        200,
        format!(
            "<GetCallerIdentityResponse xmlns=\"{ns}\"><GetCallerIdentityResult>{result}</GetCallerIdentityResult></GetCallerIdentityResponse>"
        ),
    )
}

impl StsStub {
    /// Starts the stub answering `arn`; with `key`, only for requests it can verify.
    pub async fn start(arn: &str, key: Option<(&str, &str)>) -> StsStub {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let host = listener.local_addr().unwrap().to_string();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let cfg = Config {
            host: host.clone(),
            arn: arn.to_string(),
            key: key.map(|(a, s)| (a.to_string(), s.to_string())),
            log: seen.clone(),
        };
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let cfg = cfg.clone();
                let service = hyper::service::service_fn(move |req| {
                    let resp = respond(&cfg, &req);
                    async move { Ok::<_, std::convert::Infallible>(resp) }
                });
                tokio::spawn(
                    hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service),
                );
            }
        });
        StsStub { host, seen, task }
    }

    /// The requests received so far.
    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}
