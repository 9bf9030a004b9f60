//! Errors of the embedded lakeFS-compatible server, each with the HTTP status lakeFS answers for it
//! (`pkg/api/controller.go` `handleApiErrorCallback`) and rendered as lakeFS's `{"message": …}` body.

use http::StatusCode;

/// Every failure a handler of the embedded server can report.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PreconditionFailed(String),
    /// The entry exists but its data is gone (lakeFS `block.ErrDataNotFound` → 410 "No data").
    #[error("{0}")]
    Gone(String),
    #[error("{0}")]
    RangeNotSatisfiable(String),
    #[error("{0}")]
    NotImplemented(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("internal error: {0}")]
    Internal(String),
    /// An error lakeFS answers through `handleAPIError`'s default branch: 500 with the error's
    /// own text as the message (a block adapter's error, say "local adapter presigned URL:
    /// operation not supported").
    #[error("{0}")]
    Unexpected(String),
    /// The object store refused a call, reported as lakeFS reports its S3 adapter's errors: 500
    /// with aws-sdk-go-v2's error text (see [`crate::sdkerr`]).
    #[error("{0}")]
    Store(Box<crate::sdkerr::StoreError>),
}

impl ApiError {
    /// The HTTP status lakeFS uses for this kind of failure.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            ApiError::Gone(_) => StatusCode::GONE,
            ApiError::RangeNotSatisfiable(_) => StatusCode::RANGE_NOT_SATISFIABLE,
            ApiError::NotImplemented(_) => StatusCode::NOT_IMPLEMENTED,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Internal(_) | ApiError::Unexpected(_) | ApiError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn bad_request(msg: impl Into<String>) -> Self {
        ApiError::BadRequest(msg.into())
    }

    pub fn not_found(msg: impl Into<String>) -> Self {
        ApiError::NotFound(msg.into())
    }

    pub fn internal(err: impl std::fmt::Display) -> Self {
        ApiError::Internal(err.to_string())
    }

    /// The same failure with `context: ` before its message, as Go's `fmt.Errorf("context: %w", err)`
    /// keeps the wrapped error's status.
    pub fn wrapped(self, context: &str) -> ApiError {
        let w = |m: String| format!("{context}: {m}");
        match self {
            ApiError::BadRequest(m) => ApiError::BadRequest(w(m)),
            ApiError::NotFound(m) => ApiError::NotFound(w(m)),
            ApiError::Conflict(m) => ApiError::Conflict(w(m)),
            ApiError::Forbidden(m) => ApiError::Forbidden(w(m)),
            ApiError::Unexpected(m) => ApiError::Unexpected(w(m)),
            other => other,
        }
    }

    /// A refusal of the local blob store, as lakeFS answers a store's: 500 with aws-sdk-go-v2's
    /// text (see [`crate::sdkerr::StoreError::local`]).
    pub fn local_store(operation: &'static str, refusal: (u16, &str, &str)) -> ApiError {
        crate::sdkerr::StoreError::local(operation, refusal).into()
    }

    /// The S3 error code of a store refusal (`NoSuchUpload`, `EntityTooSmall`…), if this is one.
    pub fn store_code(&self) -> Option<&str> {
        match self {
            ApiError::Store(e) => Some(&e.code),
            _ => None,
        }
    }
}

macro_rules! internal_from {
    ($($t:ty),*) => {$(
        impl From<$t> for ApiError {
            fn from(e: $t) -> Self {
                ApiError::Internal(e.to_string())
            }
        }
    )*};
}

internal_from!(
    redb::Error,
    redb::DatabaseError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError,
    std::io::Error,
    serde_json::Error,
    tokio::task::JoinError
);

/// A store refusal as lakeFS answers it: 500 with the SDK's text.
impl From<crate::sdkerr::StoreError> for ApiError {
    fn from(e: crate::sdkerr::StoreError) -> Self {
        ApiError::Store(Box::new(e))
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_lakefs() {
        assert_eq!(ApiError::NotFound("x".into()).status(), 404);
        assert_eq!(ApiError::Unauthorized("x".into()).status(), 401);
        assert_eq!(ApiError::NotImplemented("x".into()).status(), 501);
        assert_eq!(ApiError::PreconditionFailed("x".into()).status(), 412);
        let io = std::io::Error::other("disk");
        assert_eq!(ApiError::from(io).status(), 500);
    }
}
