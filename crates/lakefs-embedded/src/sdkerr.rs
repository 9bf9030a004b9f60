//! How lakeFS reports an object store's refusal of a multipart call. lakeFS's S3 block adapter
//! (`pkg/block/s3/adapter.go`) returns aws-sdk-go-v2's error unchanged and the controller answers
//! it through `handleAPIError`'s default branch: status 500, `{"message": err.Error()}`. That text
//! is smithy-go's `OperationError` around aws-sdk-go-v2's `s3shared.ResponseError` around the API
//! error:
//!
//! ```text
//! operation error S3: CompleteMultipartUpload, https response error StatusCode: 400, RequestID: 4B3A5E1C9D2F7A60, HostID: , api error EntityTooSmall: Your proposed upload is smaller than the minimum allowed size
//! ```
//!
//! An error the S3 model declares for the operation (`NoSuchUpload` of `AbortMultipartUpload`,
//! `NotFound` of `HeadObject`) is a typed error and prints `NoSuchUpload: <message>` without
//! `api error`; any other code is a `GenericAPIError`. A 200 answer carrying an `<Error>` document
//! is reported with status 500 (the SDK's 200-error handling). The local blob store, which has no
//! S3 server behind it, reports its refusals in the same shape, with S3's codes and messages.

/// S3's answer when an upload id is unknown (or belongs to another key).
pub const NO_SUCH_UPLOAD: (u16, &str, &str) = (
    404,
    "NoSuchUpload",
    "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
);
/// An object that is not there (the source of a part copy).
pub const NO_SUCH_KEY: (u16, &str, &str) = (404, "NoSuchKey", "The specified key does not exist.");
/// A part other than the last one is under 5 MiB.
pub const ENTITY_TOO_SMALL: (u16, &str, &str) =
    (400, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size");
/// A listed part was not uploaded, or its ETag differs.
pub const INVALID_PART: (u16, &str, &str) = (
    400,
    "InvalidPart",
    "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
);
/// Part numbers not strictly ascending.
pub const INVALID_PART_ORDER: (u16, &str, &str) = (
    400,
    "InvalidPartOrder",
    "The list of parts was not in ascending order. The parts list must be specified in order by part number.",
);
/// A part number outside 1..=10000.
pub const INVALID_PART_NUMBER: (u16, &str, &str) =
    (400, "InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive");
/// A `CompleteMultipartUpload` body without parts.
pub const MALFORMED_XML: (u16, &str, &str) =
    (400, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema");

/// One refused call to the object store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError {
    /// The S3 operation (`CompleteMultipartUpload`…).
    pub operation: &'static str,
    /// The HTTP status the SDK reports (500 for a 200 answer carrying an error).
    pub status: u16,
    pub request_id: String,
    pub host_id: String,
    /// S3's error code (`EntityTooSmall`…).
    pub code: String,
    pub message: String,
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let api = if modeled(self.operation, &self.code) { "" } else { "api error " };
        write!(
            f,
            "operation error S3: {}, https response error StatusCode: {}, RequestID: {}, HostID: {}, {api}{}: {}",
            self.operation, self.status, self.request_id, self.host_id, self.code, self.message
        )
    }
}

/// Whether the S3 model declares `code` for `operation` (aws-sdk-go-v2 then has a typed error).
fn modeled(operation: &str, code: &str) -> bool {
    matches!((operation, code), ("AbortMultipartUpload", "NoSuchUpload") | ("HeadObject", "NotFound"))
}

impl StoreError {
    /// A refusal of the local blob store: S3's `(status, code, message)` and a fresh request id.
    pub fn local(operation: &'static str, (status, code, message): (u16, &str, &str)) -> StoreError {
        StoreError {
            operation,
            status,
            request_id: hex::encode_upper(rand::random::<[u8; 8]>()),
            host_id: String::new(),
            code: code.into(),
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_follow_aws_sdk_go_v2() {
        let e = StoreError {
            operation: "CompleteMultipartUpload",
            status: 400,
            request_id: "R1".into(),
            host_id: "H1".into(),
            code: "EntityTooSmall".into(),
            message: "Your proposed upload is smaller than the minimum allowed size".into(),
        };
        assert_eq!(
            e.to_string(),
            "operation error S3: CompleteMultipartUpload, https response error StatusCode: 400, RequestID: R1, \
             HostID: H1, api error EntityTooSmall: Your proposed upload is smaller than the minimum allowed size"
        );
        let abort = StoreError { operation: "AbortMultipartUpload", code: "NoSuchUpload".into(), ..e.clone() };
        assert!(
            abort
                .to_string()
                .ends_with(", HostID: H1, NoSuchUpload: Your proposed upload is smaller than the minimum allowed size")
        );
        let api = crate::error::ApiError::local_store("CompleteMultipartUpload", INVALID_PART);
        assert_eq!((api.status().as_u16(), api.store_code()), (500, Some("InvalidPart")));
        assert!(api.to_string().starts_with(
            "operation error S3: CompleteMultipartUpload, https response error StatusCode: 400, RequestID: "
        ));
        assert!(api.to_string().contains(", HostID: , api error InvalidPart: One or more of the specified parts"));
    }
}
