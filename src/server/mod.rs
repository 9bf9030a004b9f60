//! The accept loop shared by lakegate's HTTP listeners: hyper 1 over tokio, HTTP/1.1 and HTTP/2
//! (h2 negotiated by ALPN under TLS, or prior knowledge in clear text), optional TLS with rustls,
//! one task per connection, and graceful shutdown that stops accepting and lets in-flight requests
//! finish (bounded by a grace period). `Expect: 100-continue` is answered by hyper only when a
//! handler starts reading the body, so a request refused before that never uploads its body.

pub mod admin;
pub mod tls;

use bytes::Bytes;
use http::{Request, Response};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use std::convert::Infallible;
use std::future::Future;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// How long shutdown waits for in-flight requests unless configured (`--shutdown-grace-secs`).
pub const GRACE_PERIOD: Duration = Duration::from_secs(30);
/// Longest TLS handshake we wait for.
pub const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Upper bound of a request head (request line + headers) we buffer. Heads above the S3 layer's
/// own limit (8 KiB) and below this get an S3 `RequestHeaderSectionTooLarge` document; hyper
/// answers a bare 431 only beyond it.
pub const MAX_HEAD_BYTES: usize = 256 * 1024;
/// Upper bound of the number of request headers (hyper's bare 431 beyond it).
pub const MAX_HEADERS: usize = 2000;

/// Serves `handler` on `listener` (TLS when `tls` is set) until `shutdown` resolves, then stops
/// accepting and lets in-flight requests finish for up to `grace`.
pub async fn serve<F, Fut, B>(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    handler: F,
    shutdown: impl Future<Output = ()>,
    grace: Duration,
) where
    F: Fn(Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Response<B>> + Send + 'static,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let graceful = GracefulShutdown::new();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .max_buf_size(MAX_HEAD_BYTES)
        .max_headers(MAX_HEADERS)
        // A client that half-closes after sending its whole request still gets the answer.
        .half_close(true)
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(Duration::from_secs(30));
    builder.http2().timer(hyper_util::rt::TokioTimer::new());
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(err) => {
                    tracing::warn!(%err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let handler = handler.clone();
        let service = hyper::service::service_fn(move |req| {
            let handler = handler.clone();
            async move { Ok::<_, Infallible>(handler(req).await) }
        });
        match &tls {
            None => {
                let conn = builder.serve_connection(TokioIo::new(stream), service).into_owned();
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    if let Err(err) = conn.await {
                        tracing::debug!(%peer, %err, "connection ended with an error");
                    }
                });
            }
            Some(acceptor) => {
                let acceptor = acceptor.clone();
                let builder = builder.clone();
                let watcher = graceful.watcher();
                tokio::spawn(async move {
                    let stream = match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                        Ok(Ok(s)) => s,
                        Ok(Err(err)) => return tracing::debug!(%peer, %err, "TLS handshake failed"),
                        Err(_) => return tracing::debug!(%peer, "TLS handshake timed out"),
                    };
                    let conn = builder.serve_connection(TokioIo::new(stream), service).into_owned();
                    if let Err(err) = watcher.watch(conn).await {
                        tracing::debug!(%peer, %err, "connection ended with an error");
                    }
                });
            }
        }
    }
    // Stop accepting at once: connection attempts during the drain are refused, not queued.
    drop(listener);
    tracing::info!(grace_secs = grace.as_secs(), "draining in-flight requests");
    if tokio::time::timeout(grace, graceful.shutdown()).await.is_err() {
        tracing::warn!("grace period over: dropping remaining connections");
    }
}
