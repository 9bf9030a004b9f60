//! The connector under [`super::HttpClient`]: TCP to the target, or through the proxy the
//! environment names for it (a `CONNECT` tunnel for https targets, the proxy itself for http
//! targets), then TLS by hyper-rustls for https; the whole of it bounded by one timeout.

use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_rustls::{HttpsConnector, MaybeHttpsStream};
use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::client::proxy::matcher::Matcher;
use hyper_util::rt::TokioIo;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::net::TcpStream;
use tower_service::Service;

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type BoxFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

/// A connection that failed: the host it was for and why.
#[derive(Debug, thiserror::Error)]
#[error("cannot connect to {host}: {reason}")]
pub struct ConnectError {
    pub host: String,
    pub reason: String,
}

/// TCP to the target or to its proxy.
#[derive(Clone)]
pub struct ProxyTcp {
    http: HttpConnector,
    proxies: Arc<Matcher>,
}

impl ProxyTcp {
    pub fn new(proxies: Arc<Matcher>, timeout: Duration) -> ProxyTcp {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(timeout));
        ProxyTcp { http, proxies }
    }
}

impl Service<http::Uri> for ProxyTcp {
    type Response = ProxyStream;
    type Error = BoxError;
    type Future = BoxFuture<ProxyStream, BoxError>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, dst: http::Uri) -> Self::Future {
        let mut http = self.http.clone();
        let Some(proxy) = self.proxies.intercept(&dst) else {
            return Box::pin(async move { Ok(ProxyStream { io: http.call(dst).await?, proxied: false }) });
        };
        let proxy_uri = proxy.uri().clone();
        if dst.scheme_str() == Some("https") {
            let mut tunnel = Tunnel::new(proxy_uri, http);
            if let Some(auth) = proxy.basic_auth() {
                tunnel = tunnel.with_auth(auth.clone());
            }
            return Box::pin(async move { Ok(ProxyStream { io: tunnel.call(dst).await?, proxied: false }) });
        }
        Box::pin(async move { Ok(ProxyStream { io: http.call(proxy_uri).await?, proxied: true }) })
    }
}

/// A TCP stream, marked when it leads to a proxy that takes absolute-form requests.
pub struct ProxyStream {
    io: TokioIo<TcpStream>,
    proxied: bool,
}

impl Connection for ProxyStream {
    fn connected(&self) -> Connected {
        self.io.connected().proxy(self.proxied)
    }
}

impl Read for ProxyStream {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: ReadBufCursor<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl Write for ProxyStream {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }
}

/// hyper-rustls over [`ProxyTcp`], bounded by a timeout, with errors that name the host.
#[derive(Clone)]
pub struct Connector {
    inner: HttpsConnector<ProxyTcp>,
    timeout: Duration,
}

impl Connector {
    pub fn new(inner: HttpsConnector<ProxyTcp>, timeout: Duration) -> Connector {
        Connector { inner, timeout }
    }
}

impl Service<http::Uri> for Connector {
    type Response = MaybeHttpsStream<ProxyStream>;
    type Error = ConnectError;
    type Future = BoxFuture<Self::Response, ConnectError>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), ConnectError>> {
        self.inner.poll_ready(cx).map_err(|e| ConnectError { host: String::new(), reason: chain(e.as_ref()) })
    }

    fn call(&mut self, dst: http::Uri) -> Self::Future {
        let host = dst.authority().map(|a| a.to_string()).unwrap_or_default();
        let tls = dst.scheme_str() == Some("https");
        let (connecting, timeout) = (self.inner.call(dst), self.timeout);
        Box::pin(async move {
            let reason = match tokio::time::timeout(timeout, connecting).await {
                Ok(Ok(stream)) => return Ok(stream),
                Ok(Err(e)) => chain(e.as_ref()),
                Err(_) => format!("no connection within {timeout:?}"),
            };
            let over = if tls { "https" } else { "http" };
            tracing::warn!(host, over, reason, "outbound connection failed");
            Err(ConnectError { host, reason })
        })
    }
}

/// The error and its causes, `: `-joined, without repeats.
pub(super) fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(err);
    while let Some(e) = next {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ")
}
