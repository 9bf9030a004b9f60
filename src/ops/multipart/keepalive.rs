//! Long completions answered the way S3 answers them: if the work is not done within a short
//! wait, the response starts at once with `200 OK` and the XML declaration, a space follows every
//! few seconds so no proxy or client times the connection out, and the document (the result, or
//! an `<Error>` — SDKs look for one in a 200 Complete answer) ends it.

use bytes::Bytes;
use http::Response;
use http_body_util::BodyExt;
use lakegate_net::body::Body;
use s3_wire::error::error_xml;
use s3_wire::xml::xml_response;
use s3_wire::{S3Error, S3Result};
use std::time::Duration;
use tokio::task::JoinHandle;

/// How long a completion may take before the answer starts.
pub const FIRST_WAIT: Duration = Duration::from_secs(1);
/// Time between keep-alive spaces.
pub const INTERVAL: Duration = Duration::from_secs(5);
const DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

/// Waits for `task`; renders its result with `render`, in a normal answer or a kept-alive one.
pub async fn respond<T: Send + 'static>(
    task: JoinHandle<S3Result<T>>,
    request_id: String,
    render: impl FnOnce(T) -> S3Result<String> + Send + 'static,
) -> S3Result<Response<Body>> {
    respond_after(task, request_id, render, FIRST_WAIT, INTERVAL).await
}

fn joined<T>(r: Result<S3Result<T>, tokio::task::JoinError>) -> S3Result<T> {
    r.map_err(S3Error::internal)?
}

pub(crate) async fn respond_after<T: Send + 'static>(
    mut task: JoinHandle<S3Result<T>>,
    request_id: String,
    render: impl FnOnce(T) -> S3Result<String> + Send + 'static,
    wait: Duration,
    interval: Duration,
) -> S3Result<Response<Body>> {
    if let Ok(r) = tokio::time::timeout(wait, &mut task).await {
        return Ok(xml_response(render(joined(r)?)?));
    }
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(4);
    tokio::spawn(async move {
        let _ = tx.send(Bytes::from_static(DECLARATION.as_bytes())).await;
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
        let doc = loop {
            tokio::select! {
                r = &mut task => break joined(r).and_then(render).unwrap_or_else(|e| error_xml(&e, &request_id)),
                _ = tick.tick() => { let _ = tx.send(Bytes::from_static(b" ")).await; }
            }
        };
        let body = doc.strip_prefix(DECLARATION).unwrap_or(&doc).to_string();
        let _ = tx.send(Bytes::from(body)).await;
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<_, std::io::Error>(http_body::Frame::data(b)), rx))
    });
    let mut resp = xml_response(String::new());
    *resp.body_mut() = http_body_util::StreamBody::new(stream).boxed_unsync();
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use s3_wire::s3_err;

    async fn body_of(resp: Response<Body>) -> String {
        String::from_utf8(resp.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap()
    }

    #[tokio::test]
    async fn quick_results_answer_normally_and_errors_keep_their_status() {
        let ok = tokio::spawn(async { Ok::<_, S3Error>("e".to_string()) });
        let resp = respond_after(
            ok,
            "r".into(),
            |e| Ok(format!("{DECLARATION}<R>{e}</R>")),
            Duration::from_secs(5),
            Duration::from_millis(10),
        )
        .await
        .unwrap();
        assert_eq!(body_of(resp).await, format!("{DECLARATION}<R>e</R>"));
        let failed = tokio::spawn(async { Err::<String, _>(s3_err!(InvalidPart, "bad")) });
        let err =
            respond_after(failed, "r".into(), Ok, Duration::from_secs(5), Duration::from_millis(10)).await.unwrap_err();
        assert_eq!(err.code, s3_wire::S3ErrorCode::InvalidPart);
    }

    #[tokio::test]
    async fn slow_results_stream_spaces_then_the_document_or_an_error() {
        let slow = tokio::spawn(async {
            tokio::time::sleep(Duration::from_millis(120)).await;
            Ok::<_, S3Error>("e".to_string())
        });
        let resp = respond_after(
            slow,
            "r".into(),
            |e| Ok(format!("{DECLARATION}<R>{e}</R>")),
            Duration::ZERO,
            Duration::from_millis(20),
        )
        .await
        .unwrap();
        assert_eq!(resp.status(), http::StatusCode::OK);
        let text = body_of(resp).await;
        let rest = text.strip_prefix(DECLARATION).unwrap();
        assert!(rest.starts_with("  "), "{text:?}");
        assert_eq!(rest.trim_start(), "<R>e</R>");
        let slow_err = tokio::spawn(async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            Err::<String, _>(s3_err!(InvalidPart, "bad part"))
        });
        let resp = respond_after(slow_err, "req1".into(), Ok, Duration::ZERO, Duration::from_millis(10)).await.unwrap();
        let text = body_of(resp).await;
        assert!(
            text.trim_start_matches(DECLARATION).trim_start().starts_with("<Error><Code>InvalidPart</Code>"),
            "{text}"
        );
        assert!(text.contains("<RequestId>req1</RequestId>"));
    }
}
