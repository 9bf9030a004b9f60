//! Errors of the lakeFS client: every non-2xx answer keeps lakeFS's status and `message`;
//! transport failures and timeouts are told apart so callers can map them (e.g. to S3 `SlowDown`).

use http::StatusCode;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum LakeFsError {
    /// lakeFS answered with a non-2xx status.
    #[error("lakeFS answered {status}: {message}")]
    Api { status: StatusCode, message: String },
    /// No answer within the call's timeout.
    #[error("lakeFS did not answer within {0:?}")]
    Timeout(Duration),
    /// The connection failed (refused, reset, DNS…).
    #[error("cannot reach lakeFS: {0}")]
    Connect(String),
    /// A 2xx answer whose body is not what the API specifies.
    #[error("unexpected lakeFS response: {0}")]
    Decode(String),
    /// The request could not be built (bad endpoint, unsupported scheme…).
    #[error("invalid lakeFS request: {0}")]
    Request(String),
}

impl LakeFsError {
    /// lakeFS's HTTP status, when it answered.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            LakeFsError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    pub fn is_not_found(&self) -> bool {
        self.status() == Some(StatusCode::NOT_FOUND)
    }

    /// Worth retrying (for idempotent calls): throttling, unavailability, lost connections.
    pub fn is_retryable(&self) -> bool {
        match self {
            LakeFsError::Api { status, .. } => {
                *status == StatusCode::TOO_MANY_REQUESTS || *status == StatusCode::SERVICE_UNAVAILABLE
            }
            LakeFsError::Connect(_) => true,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_only_on_throttling_and_connection_errors() {
        let api = |s: u16| LakeFsError::Api { status: StatusCode::from_u16(s).unwrap(), message: String::new() };
        assert!(api(429).is_retryable());
        assert!(api(503).is_retryable());
        assert!(!api(500).is_retryable());
        assert!(!api(404).is_retryable());
        assert!(api(404).is_not_found());
        assert!(LakeFsError::Connect("refused".into()).is_retryable());
        assert!(!LakeFsError::Timeout(Duration::from_secs(1)).is_retryable());
    }
}
