//! The accept loop shared by lakegate's HTTP listeners: hyper 1 over tokio, HTTP/1.1 and HTTP/2
//! (h2 negotiated by ALPN under TLS, or prior knowledge in clear text), optional TLS with rustls,
//! one task per connection ([`conn`]: idle connections closed), a connection limit (connections
//! beyond it get one `busy` answer, then close), and graceful shutdown that stops accepting and
//! lets in-flight requests finish (bounded by a grace period). `Expect: 100-continue` is answered by hyper only when a
//! handler starts reading the body, so a request refused before that never uploads its body.

pub mod conn;
pub mod events;
pub mod tls;

use crate::body::Body;
use http::{Request, Response};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use std::convert::Infallible;
use std::future::Future;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

/// How long shutdown waits for in-flight requests unless configured (`--shutdown-grace-secs`).
pub const GRACE_PERIOD: Duration = Duration::from_secs(30);
/// Longest wait for a request head once its first byte arrived (hyper's header read timeout).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest a connection beyond the connection limit is kept to answer it.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest TLS handshake we wait for.
pub const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Upper bound of a request head (request line + headers) we buffer. Heads above the S3 layer's
/// own limit (8 KiB) and below this get an S3 `RequestHeaderSectionTooLarge` document; hyper
/// answers a bare 431 only beyond it.
pub const MAX_HEAD_BYTES: usize = 256 * 1024;
/// Upper bound of the number of request headers (hyper's bare 431 beyond it).
pub const MAX_HEADERS: usize = 2000;

/// Connections beyond `max_connections` being answered `busy` at once; more are dropped unanswered.
const MAX_BUSY: usize = 64;

/// How a listener serves.
#[derive(Clone)]
pub struct Options {
    /// TLS (HTTP/2 by ALPN) when set.
    pub tls: Option<TlsAcceptor>,
    /// How long shutdown lets in-flight requests finish.
    pub grace: Duration,
    /// Most connections open at once.
    pub max_connections: usize,
    /// A connection silent this long with no request being handled is closed.
    pub idle_timeout: Duration,
    /// The answer to each request of a connection beyond `max_connections` (which is then closed).
    pub busy: fn() -> Response<Body>,
    /// Whether this listener's connections show in the `connections_open` metric.
    pub counted: bool,
}

impl Options {
    /// Clear text, 1,024 connections, a 60 s idle timeout, a bare 503 beyond the limit.
    pub fn plain(grace: Duration) -> Options {
        Options {
            tls: None,
            grace,
            max_connections: 1024,
            idle_timeout: Duration::from_secs(60),
            busy: plain_busy,
            counted: false,
        }
    }
}

fn plain_busy() -> Response<Body> {
    let mut resp = Response::new(crate::body::full("too many connections; retry later\n"));
    *resp.status_mut() = http::StatusCode::SERVICE_UNAVAILABLE;
    resp.headers_mut().insert(http::header::RETRY_AFTER, http::HeaderValue::from_static("1"));
    resp
}

fn builder() -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .max_buf_size(MAX_HEAD_BYTES)
        .max_headers(MAX_HEADERS)
        // A client that half-closes after sending its whole request still gets the answer.
        .half_close(true)
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    builder.http2().timer(hyper_util::rt::TokioTimer::new());
    builder
}

/// Serves `handler` on `listener` until `shutdown` resolves, then stops accepting and lets
/// in-flight requests finish for up to `opts.grace`.
pub async fn serve<F, Fut>(listener: TcpListener, handler: F, shutdown: impl Future<Output = ()>, opts: Options)
where
    F: Fn(Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Response<Body>> + Send + 'static,
{
    let builder = builder();
    let (stop, _) = tokio::sync::watch::channel(false);
    let (mut conns, mut busy) = (JoinSet::new(), JoinSet::new());
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
        while conns.try_join_next().is_some() {}
        while busy.try_join_next().is_some() {}
        let _ = stream.set_nodelay(true);
        let conn = Connection { stream, peer, builder: builder.clone(), tls: opts.tls.clone(), stop: stop.subscribe() };
        if conns.len() >= opts.max_connections {
            events::get().limit_hit("connections");
            if busy.len() < MAX_BUSY {
                let answer = opts.busy;
                let refuse = move |_req| std::future::ready(closing(answer()));
                busy.spawn(tokio::time::timeout(BUSY_TIMEOUT, conn.run(refuse, BUSY_TIMEOUT / 2, false)));
            }
            continue;
        }
        conns.spawn(conn.run(handler.clone(), opts.idle_timeout, opts.counted));
    }
    // Stop accepting at once: connection attempts during the drain are refused, not queued.
    drop(listener);
    let _ = stop.send(true);
    busy.abort_all();
    tracing::info!(grace_secs = opts.grace.as_secs(), "draining in-flight requests");
    let drained = tokio::time::timeout(opts.grace, async { while conns.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        tracing::warn!("grace period over: dropping remaining connections");
        conns.abort_all();
    }
}

fn closing(mut resp: Response<Body>) -> Response<Body> {
    resp.headers_mut().insert(http::header::CONNECTION, http::HeaderValue::from_static("close"));
    resp
}

/// An accepted connection, before its TLS handshake.
struct Connection {
    stream: tokio::net::TcpStream,
    peer: std::net::SocketAddr,
    builder: auto::Builder<TokioExecutor>,
    tls: Option<TlsAcceptor>,
    stop: tokio::sync::watch::Receiver<bool>,
}

impl Connection {
    /// Serves the connection with `handler` until it ends (see [`conn::drive`]).
    async fn run<F, Fut>(self, handler: F, idle: Duration, counted: bool)
    where
        F: Fn(Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
        Fut: Future<Output = Response<Body>> + Send + 'static,
    {
        let _open = counted.then(OpenConnection::start);
        let activity = conn::Activity::default();
        let tracked = conn::Tracked::new(self.stream, activity.clone());
        let service = {
            let activity = activity.clone();
            hyper::service::service_fn(move |req| {
                let (handler, handling) = (handler.clone(), activity.handle());
                async move {
                    let resp = handler(req).await;
                    drop(handling);
                    Ok::<_, Infallible>(resp)
                }
            })
        };
        let (peer, stop) = (self.peer, self.stop);
        let Some(acceptor) = self.tls else {
            let conn = self.builder.serve_connection(TokioIo::new(tracked), service).into_owned();
            return conn::drive(conn, |c| c.graceful_shutdown(), activity, idle, stop, peer).await;
        };
        let stream = match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(tracked)).await {
            Ok(Ok(s)) => s,
            Ok(Err(err)) => return tracing::debug!(%peer, %err, "TLS handshake failed"),
            Err(_) => return tracing::debug!(%peer, "TLS handshake timed out"),
        };
        let conn = self.builder.serve_connection(TokioIo::new(stream), service).into_owned();
        conn::drive(conn, |c| c.graceful_shutdown(), activity, idle, stop, peer).await
    }
}

/// One open connection in the `connections_open` gauge.
struct OpenConnection;

impl OpenConnection {
    fn start() -> OpenConnection {
        events::get().connection_opened();
        OpenConnection
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        events::get().connection_closed();
    }
}
