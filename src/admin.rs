//! The admin listener (separate from the S3 endpoint, so probes and scrapes never compete with S3
//! clients or need S3 signatures): `GET /healthz` (the process serves: 200), `GET /readyz` (lakeFS
//! answers its health check and accepts the gateway's own credentials (`getCurrentUser`): 200 with
//! lakeFS's version and storages (`getConfig`) as detail, else 503 with the reason; the answer is
//! kept [`READY_TTL`]), and `GET /metrics` (Prometheus /
//! OpenMetrics text, see [`crate::metrics`]).

use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use hyper::body::Incoming;
use lakefs_api::LakeFsClient;
use lakegate_net::body::{Body, full};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a readiness answer is reused.
pub const READY_TTL: Duration = Duration::from_secs(3);
/// How long one readiness check may take.
pub const READY_TIMEOUT: Duration = Duration::from_secs(5);

/// `lakeFS <version>; storage <id>=<type>(…), …`: what lakegate talks to.
pub fn describe_lakefs(config: &lakefs_api::dto::Config) -> String {
    let version =
        config.version_config.as_ref().and_then(|v| v.version.clone()).unwrap_or_else(|| "(version unknown)".into());
    let storages = crate::ops::storage::Storages::from_config(config).describe();
    format!("lakeFS {version}; storage {storages}")
}

/// What the admin endpoints look at.
pub struct Admin {
    lakefs: LakeFsClient,
    uploads: Arc<crate::ops::multipart::registry::Registry>,
    ready: tokio::sync::Mutex<Option<(Instant, Result<String, String>)>>,
    /// Set once shutdown began: `/readyz` answers 503 so load balancers stop sending.
    draining: Mutex<bool>,
}

impl Admin {
    pub fn new(lakefs: LakeFsClient, uploads: Arc<crate::ops::multipart::registry::Registry>) -> Arc<Admin> {
        Arc::new(Admin { lakefs, uploads, ready: Default::default(), draining: Mutex::new(false) })
    }

    /// Marks the gateway as draining (shutdown began).
    pub fn drain(&self) {
        *self.draining.lock().unwrap_or_else(|e| e.into_inner()) = true;
    }

    async fn readiness(&self) -> Result<String, String> {
        if *self.draining.lock().unwrap_or_else(|e| e.into_inner()) {
            return Err("shutting down".into());
        }
        // One check at a time; the others wait for its answer.
        let mut cached = self.ready.lock().await;
        if let Some((at, answer)) = cached.as_ref()
            && at.elapsed() < READY_TTL
        {
            return answer.clone();
        }
        let answer = match tokio::time::timeout(READY_TIMEOUT, self.check()).await {
            Ok(answer) => answer,
            Err(_) => Err(format!("lakeFS did not answer within {READY_TIMEOUT:?}")),
        };
        *cached = Some((Instant::now(), answer.clone()));
        answer
    }

    async fn check(&self) -> Result<String, String> {
        self.lakefs.health_check().await.map_err(|e| format!("lakeFS health check: {e}"))?;
        self.lakefs.get_current_user().await.map_err(|e| format!("lakeFS credentials: {e}"))?;
        Ok(match self.lakefs.get_config().await {
            Ok(config) => describe_lakefs(&config),
            Err(e) => format!("lakeFS config unavailable: {e}"),
        })
    }

    /// Answers one admin request.
    pub async fn handle(&self, req: Request<Incoming>) -> Response<Body> {
        let text = |status: StatusCode, body: String| {
            let mut resp = Response::new(full(body));
            *resp.status_mut() = status;
            resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
            resp
        };
        if req.method() != Method::GET && req.method() != Method::HEAD {
            return text(StatusCode::METHOD_NOT_ALLOWED, "GET only\n".into());
        }
        match req.uri().path() {
            "/healthz" => text(StatusCode::OK, "ok\n".into()),
            "/readyz" => match self.readiness().await {
                Ok(detail) => text(StatusCode::OK, format!("ready\n{detail}\n")),
                Err(why) => text(StatusCode::SERVICE_UNAVAILABLE, format!("not ready: {why}\n")),
            },
            "/metrics" => {
                let metrics = crate::metrics::metrics();
                match self.uploads.open_uploads() {
                    Ok(n) => drop(metrics.multipart_open.set(n as i64)),
                    Err(e) => tracing::warn!(error = %e, "counting open multipart uploads"),
                }
                let mut resp = text(StatusCode::OK, metrics.encode());
                resp.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
                );
                resp
            }
            _ => text(StatusCode::NOT_FOUND, "not found: /healthz, /readyz, /metrics\n".into()),
        }
    }
}
