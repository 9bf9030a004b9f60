//! One client connection: hyper serving it, with the socket's activity tracked so that a
//! connection silent for the idle timeout — an idle keep-alive connection, or a download whose
//! client stopped reading — is closed, and a drain (shutdown) closes it gracefully.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// When the connection last moved a byte, and how many of its requests are being handled.
#[derive(Clone)]
pub struct Activity {
    base: Instant,
    last_ms: Arc<AtomicU64>,
    handling: Arc<AtomicUsize>,
}

impl Default for Activity {
    fn default() -> Activity {
        Activity { base: Instant::now(), last_ms: Arc::default(), handling: Arc::default() }
    }
}

impl Activity {
    fn touch(&self) {
        self.last_ms.store(self.base.elapsed().as_millis() as u64, Ordering::Relaxed);
    }

    /// How long no byte moved.
    pub fn silent_for(&self) -> Duration {
        self.base.elapsed().saturating_sub(Duration::from_millis(self.last_ms.load(Ordering::Relaxed)))
    }

    /// Whether a handler is working on one of the connection's requests (it may legitimately
    /// wait on lakeFS without any byte moving).
    pub fn handling(&self) -> bool {
        self.handling.load(Ordering::Relaxed) > 0
    }

    /// Marks a request as being handled until the guard drops.
    pub fn handle(&self) -> Handling {
        self.handling.fetch_add(1, Ordering::Relaxed);
        Handling(self.handling.clone())
    }
}

/// A request being handled (see [`Activity::handle`]).
pub struct Handling(Arc<AtomicUsize>);

impl Drop for Handling {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A socket that records its activity.
pub struct Tracked<I> {
    inner: I,
    activity: Activity,
}

impl<I> Tracked<I> {
    pub fn new(inner: I, activity: Activity) -> Tracked<I> {
        activity.touch();
        Tracked { inner, activity }
    }
}

impl<I: AsyncRead + Unpin> AsyncRead for Tracked<I> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.touch();
        }
        polled
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for Tracked<I> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, data);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Drives `conn` to its end: closes it gracefully when `stop` fires or when it has been silent
/// for `idle` with no request being handled, and drops it if it is still silent a second later
/// (a client that stopped reading a download never lets a graceful close finish).
pub async fn drive<C, E>(
    conn: C,
    graceful_shutdown: impl Fn(Pin<&mut C>),
    activity: Activity,
    idle: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
    peer: std::net::SocketAddr,
) where
    C: std::future::Future<Output = Result<(), E>>,
    E: std::fmt::Display,
{
    tokio::pin!(conn);
    let mut closing: Option<&str> = None;
    let mut tick = tokio::time::interval((idle / 4).clamp(Duration::from_millis(100), Duration::from_secs(1)));
    loop {
        tokio::select! {
            ended = conn.as_mut() => {
                if let Err(err) = ended {
                    tracing::debug!(%peer, %err, "connection ended with an error");
                }
                return;
            }
            _ = stop.changed(), if closing.is_none() => {
                closing = Some("drain");
                graceful_shutdown(conn.as_mut());
            }
            _ = tick.tick() => {
                let silent = activity.silent_for();
                if activity.handling() || silent < idle {
                    continue;
                }
                if closing.is_none() {
                    closing = Some("idle");
                    graceful_shutdown(conn.as_mut());
                } else if silent >= idle + Duration::from_secs(1) {
                    super::events::get().limit_hit("connection_idle");
                    tracing::debug!(%peer, silent_secs = silent.as_secs(), "silent connection dropped");
                    return;
                }
            }
        }
    }
}
