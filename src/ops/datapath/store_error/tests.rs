use super::*;
use S3ErrorCode::*;

fn xml(code: &str, message: &str) -> Vec<u8> {
    format!(
        "<?xml version=\"1.0\"?><Error><Code>{code}</Code><Message>{message}</Message><RequestId>r</RequestId></Error>"
    )
    .into_bytes()
}

fn map(op: StoreOp, status: u16, body: &[u8]) -> S3Error {
    map_store_error(op, StatusCode::from_u16(status).unwrap(), body)
}

/// One row per mapping: (operation, store status, store body) → (S3 code, text the message holds).
#[test]
fn every_store_answer_is_mapped_explicitly() {
    let azure_header =
        xml("MissingRequiredHeader", "An HTTP header that&apos;s mandatory for this request is not specified.");
    let rows: Vec<(StoreOp, u16, Vec<u8>, S3ErrorCode, &str)> = vec![
        (StoreOp::Put, 403, xml("AccessDenied", "Request has expired"), AccessDenied, "Request has expired"),
        (StoreOp::Get, 403, xml("SignatureDoesNotMatch", "bad sig"), AccessDenied, "SignatureDoesNotMatch: bad sig"),
        (StoreOp::Put, 403, b"".to_vec(), AccessDenied, "403 Forbidden"),
        (
            StoreOp::Put,
            400,
            xml("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size"),
            EntityTooLarge,
            "exceeds",
        ),
        (StoreOp::PutPart, 400, xml("EntityTooSmall", "too small"), EntityTooSmall, "too small"),
        (
            StoreOp::Put,
            400,
            xml("BadDigest", "The Content-MD5 you specified did not match"),
            BadDigest,
            "did not match",
        ),
        (StoreOp::Put, 400, xml("InvalidDigest", ""), InvalidDigest, "InvalidDigest"),
        (StoreOp::Put, 400, xml("RequestTimeout", "idle"), RequestTimeout, "idle"),
        (StoreOp::Put, 400, azure_header, InvalidRequest, "header that's mandatory"),
        (StoreOp::Put, 411, xml("MissingContentLength", "length"), MissingContentLength, "length"),
        (StoreOp::Put, 412, xml("PreconditionFailed", "x"), PreconditionFailed, "pre-conditions"),
        (StoreOp::Put, 409, xml("OperationAborted", "conflict"), InvalidRequest, "OperationAborted"),
        (StoreOp::Get, 404, xml("NoSuchKey", "gone"), NoSuchVersion, "missing from the object store"),
        (StoreOp::PutPart, 404, xml("NoSuchUpload", "gone"), NoSuchUpload, "does not exist"),
        (StoreOp::Put, 404, xml("NoSuchBucket", "no bucket"), InternalError, "NoSuchBucket"),
        (StoreOp::Get, 416, xml("InvalidRange", "r"), InvalidRange, "not satisfiable"),
        (StoreOp::Put, 429, b"".to_vec(), SlowDown, "429"),
        (StoreOp::Put, 500, xml("InternalError", "boom"), SlowDown, "boom"),
        (StoreOp::Get, 502, b"<html>bad gateway</html>".to_vec(), SlowDown, "502"),
        (StoreOp::Put, 503, xml("SlowDown", "Please reduce your request rate."), SlowDown, "reduce"),
    ];
    for (op, status, body, code, text) in rows {
        let e = map(op, status, &body);
        assert_eq!(e.code, code, "{op:?} {status} {}", String::from_utf8_lossy(&body));
        assert!(e.message.contains(text), "{op:?} {status}: {:?} lacks {text:?}", e.message);
        let retry_after = e.headers.iter().any(|(k, _)| k == header::RETRY_AFTER);
        assert_eq!(retry_after, code == SlowDown, "{op:?} {status}");
        assert!(code == SlowDown || code == InternalError || e.status().is_client_error(), "{op:?} {status}");
    }
}
