//! The response body type shared by every HTTP surface of lakegate: a boxed stream of bytes.

use bytes::Bytes;
use http_body_util::{BodyExt, Full, combinators::UnsyncBoxBody};

/// Response body of every handler.
pub type Body = UnsyncBoxBody<Bytes, std::io::Error>;

pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).map_err(|never| match never {}).boxed_unsync()
}

pub fn empty() -> Body {
    full(Bytes::new())
}

/// A request body that reports when it has been sent completely (or failed), so a client can
/// time the *answer* without timing the upload: a large body may take any time to stream.
pub struct EndSignal<B> {
    inner: B,
    done: Option<tokio::sync::oneshot::Sender<()>>,
}

impl<B: http_body::Body + Unpin> EndSignal<B> {
    /// Wraps `inner`; the receiver resolves once the body ended (at once for an empty body).
    pub fn new(inner: B) -> (EndSignal<B>, tokio::sync::oneshot::Receiver<()>) {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let mut body = EndSignal { inner, done: Some(tx) };
        if body.inner.is_end_stream() {
            body.finish();
        }
        (body, rx)
    }

    fn finish(&mut self) {
        if let Some(tx) = self.done.take() {
            let _ = tx.send(());
        }
    }
}

impl<B: http_body::Body + Unpin> http_body::Body for EndSignal<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let polled = std::pin::Pin::new(&mut self.inner).poll_frame(cx);
        if matches!(&polled, std::task::Poll::Ready(None | Some(Err(_)))) || self.inner.is_end_stream() {
            self.finish();
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// Waits for `answer` (a request being sent with an [`EndSignal`] body) at most `timeout` after
/// the body ended; `None` on timeout.
pub async fn answer_within<F: std::future::Future>(
    answer: F,
    ended: tokio::sync::oneshot::Receiver<()>,
    timeout: std::time::Duration,
) -> Option<F::Output> {
    tokio::pin!(answer);
    let deadline = async {
        // A dropped sender (body dropped unsent) counts as ended too.
        let _ = ended.await;
        tokio::time::sleep(timeout).await;
    };
    tokio::select! {
        out = &mut answer => Some(out),
        _ = deadline => None,
    }
}

/// A response body that counts the bytes it sends into `sent` and keeps `guard` (in-flight
/// gauges, a per-key slot) alive until it is sent or dropped — with its size hint intact, so hyper
/// still sends `Content-Length` for bodies of known size.
pub struct Metered<G> {
    inner: Body,
    sent: &'static prometheus_client::metrics::counter::Counter,
    _guard: G,
}

impl<G> Metered<G> {
    pub fn new(inner: Body, sent: &'static prometheus_client::metrics::counter::Counter, guard: G) -> Metered<G> {
        Metered { inner, sent, _guard: guard }
    }
}

impl<G: Unpin> http_body::Body for Metered<G> {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, std::io::Error>>> {
        let polled = std::pin::Pin::new(&mut self.inner).poll_frame(cx);
        if let std::task::Poll::Ready(Some(Ok(frame))) = &polled
            && let Some(data) = frame.data_ref()
        {
            self.sent.inc_by(data.len() as u64);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn metered_bodies_count_and_keep_their_size() {
        static SENT: std::sync::LazyLock<prometheus_client::metrics::counter::Counter> =
            std::sync::LazyLock::new(Default::default);
        let body = Metered::new(full("hello"), &SENT, ());
        assert_eq!(http_body::Body::size_hint(&body).exact(), Some(5), "Content-Length stays known");
        assert_eq!(body.collect().await.unwrap().to_bytes(), "hello");
        assert_eq!(SENT.get(), 5);
    }
    use std::time::Duration;

    #[tokio::test]
    async fn the_answer_is_timed_from_the_end_of_the_body() {
        let (body, ended) = EndSignal::new(full("abc"));
        let send = async move {
            tokio::time::sleep(Duration::from_millis(50)).await; // a slow upload
            body.collect().await.map(|c| c.to_bytes().len()).ok()
        };
        assert_eq!(answer_within(send, ended, Duration::from_millis(200)).await, Some(Some(3)));
        let (body, ended) = EndSignal::new(full("abc"));
        let stuck = async move {
            let _ = body.collect().await;
            std::future::pending::<()>().await
        };
        assert_eq!(answer_within(stuck, ended, Duration::from_millis(20)).await, None);
    }
}
