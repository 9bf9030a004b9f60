//! Explicit mapping of lakeFS answers to S3 errors: 404 → `NoSuchBucket` when the repository is
//! missing, else `NoSuchKey`; 401/403 → `AccessDenied` (a read-only repository →
//! `ErrReadOnlyRepository`, as lakeFS's gateway answers); 409 → conflict codes by context;
//! 412 → `PreconditionFailed`; 410 → `NoSuchVersion` (data gone, as lakeFS's gateway answers);
//! 429, 502–504, a locked branch (lakeFS's `500 branch is currently locked, try again later`),
//! timeouts and unreachable lakeFS → `503 SlowDown` with `Retry-After`; any other 500 is
//! `500 InternalError` with lakeFS's message (`pkg/api/controller.go` `handleApiErrorCallback`
//! answers 500 for errors it does not classify, which a retry does not fix).

use http::{HeaderValue, StatusCode, header};
use lakefs_api::LakeFsError;
use s3_wire::s3_err;
use s3_wire::{S3Error, S3ErrorCode};

/// What a lakeFS 404 means for the operation at hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// Object reads and writes: a missing repository is `NoSuchBucket`, anything else `NoSuchKey`.
    Key,
    /// Bucket operations: any 404 is `NoSuchBucket`.
    Bucket,
}

fn slow_down(detail: &str) -> S3Error {
    s3_err!(SlowDown, "Please reduce your request rate. ({detail})")
        .with_header(header::RETRY_AFTER, HeaderValue::from_static("1"))
}

/// Maps a lakeFS client error to the S3 error a client should see.
pub fn map_lakefs(err: LakeFsError, missing: Missing) -> S3Error {
    match err {
        LakeFsError::Api { status, message } => map_status(status, &message, missing),
        LakeFsError::Timeout(d) => slow_down(&format!("lakeFS did not answer within {d:?}")),
        LakeFsError::Connect(e) => slow_down(&format!("lakeFS is unreachable: {e}")),
        LakeFsError::Decode(e) => S3Error::internal(format!("unexpected lakeFS answer: {e}")),
        LakeFsError::Request(e) => S3Error::internal(e),
    }
}

/// Object-store codes a lakeFS error may carry for a multipart upload, most specific first.
const STORE_VERDICTS: [S3ErrorCode; 7] = [
    S3ErrorCode::InvalidPartOrder,
    S3ErrorCode::InvalidPart,
    S3ErrorCode::EntityTooSmall,
    S3ErrorCode::EntityTooLarge,
    S3ErrorCode::NoSuchUpload,
    S3ErrorCode::NoSuchKey,
    S3ErrorCode::InvalidRange,
];

/// The object store's verdict inside a lakeFS error: lakeFS passes a block adapter's error it does
/// not classify through as `500` with the store SDK's text (`… api error EntityTooSmall: …`,
/// `… NoSuchUpload: The specified upload does not exist …`; `pkg/api/controller.go`
/// `handleApiErrorCallback`, default case).
pub fn store_verdict(err: &LakeFsError) -> Option<S3ErrorCode> {
    let LakeFsError::Api { status, message } = err else { return None };
    if !matches!(status.as_u16(), 400 | 500) {
        return None;
    }
    STORE_VERDICTS.into_iter().find(|c| message.contains(c.as_str()))
}

fn map_status(status: StatusCode, message: &str, missing: Missing) -> S3Error {
    use S3ErrorCode::*;
    let code = match status.as_u16() {
        404 if missing == Missing::Bucket || message.contains("repository") => NoSuchBucket,
        404 => NoSuchKey,
        400 => InvalidRequest,
        // lakeFS's own S3 gateway names this one; other denials are AccessDenied.
        403 if message.contains("read-only") => ErrReadOnlyRepository,
        401 | 403 => AccessDenied,
        409 => InvalidRequest,
        410 => NoSuchVersion,
        412 => PreconditionFailed,
        416 => InvalidRange,
        501 => NotImplemented,
        429 | 502..=504 => return slow_down(&format!("lakeFS answered {status}: {message}")),
        500 if message.contains("currently locked") => return slow_down(&format!("lakeFS: {message}")),
        500 => InternalError,
        _ => InternalError,
    };
    let text = match code {
        NoSuchBucket => "The specified bucket does not exist".to_string(),
        NoSuchKey => "The specified key does not exist.".to_string(),
        PreconditionFailed => "At least one of the pre-conditions you specified did not hold".to_string(),
        _ => format!("lakeFS: {message}"),
    };
    S3Error::new(code, text)
}

/// Maps a failed `linkPhysicalAddress`: a 409 means the upload lost a race with a commit (lakeFS
/// answers with a fresh staging location); the body cannot be re-sent from here, so the client is
/// told to retry (`503 SlowDown`), which every S3 SDK does.
pub fn map_link_error(err: lakefs_api::LakeFsError) -> S3Error {
    if err.status() == Some(http::StatusCode::CONFLICT) {
        return s3_err!(SlowDown, "The upload raced with a commit on its branch; please retry.")
            .with_header(http::header::RETRY_AFTER, http::HeaderValue::from_static("1"));
    }
    map_lakefs(err, Missing::Bucket)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn store_verdicts_are_read_from_lakefs_500s() {
        use S3ErrorCode::*;
        let sdk = "operation error S3: CompleteMultipartUpload, https response error StatusCode: 400, RequestID: 1, HostID: , api error";
        let rows = [
            (api(500, &format!("{sdk} EntityTooSmall: small")), Some(EntityTooSmall)),
            (api(500, &format!("{sdk} InvalidPartOrder: order")), Some(InvalidPartOrder)),
            (api(500, &format!("{sdk} InvalidPart: part")), Some(InvalidPart)),
            (api(500, "HostID: , NoSuchUpload: The specified upload does not exist."), Some(NoSuchUpload)),
            (api(400, "EntityTooLarge"), Some(EntityTooLarge)),
            (api(500, &format!("{sdk} InvalidRange: The requested range is not satisfiable")), Some(InvalidRange)),
            (api(500, "operation error S3: UploadPartCopy, StatusCode: 404, NoSuchKey: gone"), Some(NoSuchKey)),
            (api(500, "boom"), None),
            (api(404, "NoSuchUpload"), None),
            (LakeFsError::Connect("EntityTooSmall".into()), None),
        ];
        for (e, code) in rows {
            assert_eq!(store_verdict(&e), code, "{e}");
        }
    }

    fn api(status: u16, message: &str) -> LakeFsError {
        LakeFsError::Api { status: StatusCode::from_u16(status).unwrap(), message: message.into() }
    }

    #[test]
    fn every_lakefs_status_is_mapped_explicitly() {
        use S3ErrorCode::*;
        let cases = [
            (api(404, "repository not found"), Missing::Key, NoSuchBucket),
            (api(404, "object not found"), Missing::Key, NoSuchKey),
            (api(404, "branch not found"), Missing::Key, NoSuchKey),
            (api(404, "anything"), Missing::Bucket, NoSuchBucket),
            (api(401, "error authenticating request"), Missing::Key, AccessDenied),
            (api(403, "read-only repository"), Missing::Key, ErrReadOnlyRepository),
            (api(403, "denied"), Missing::Key, AccessDenied),
            (api(412, "Precondition failed"), Missing::Key, PreconditionFailed),
            (api(410, "No data"), Missing::Key, NoSuchVersion),
            (api(429, "slow"), Missing::Key, SlowDown),
            (api(503, "kv"), Missing::Key, SlowDown),
            (api(500, "boom"), Missing::Key, InternalError),
            (api(500, "branch is currently locked, try again later"), Missing::Key, SlowDown),
            (api(502, "bad gateway"), Missing::Key, SlowDown),
            (api(504, "gateway timeout"), Missing::Key, SlowDown),
            (api(501, "not implemented"), Missing::Key, NotImplemented),
            (api(400, "bad"), Missing::Key, InvalidRequest),
            (LakeFsError::Timeout(Duration::from_secs(1)), Missing::Key, SlowDown),
            (LakeFsError::Connect("refused".into()), Missing::Key, SlowDown),
            (LakeFsError::Decode("json".into()), Missing::Key, InternalError),
        ];
        for (err, missing, code) in cases {
            let text = err.to_string();
            let s3 = map_lakefs(err, missing);
            assert_eq!(s3.code, code, "{text}");
            if code == SlowDown {
                assert!(s3.headers.iter().any(|(k, _)| k == header::RETRY_AFTER));
            }
        }
    }

    #[test]
    fn link_conflicts_ask_the_client_to_retry() {
        let api = |s: u16| LakeFsError::Api { status: http::StatusCode::from_u16(s).unwrap(), message: "x".into() };
        let e = map_link_error(api(409));
        assert_eq!(e.code, S3ErrorCode::SlowDown);
        assert!(e.headers.iter().any(|(k, _)| k == http::header::RETRY_AFTER));
        assert_eq!(map_link_error(api(412)).code, S3ErrorCode::PreconditionFailed);
        assert_eq!(map_link_error(api(404)).code, S3ErrorCode::NoSuchBucket);
    }
}
