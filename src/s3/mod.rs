//! The S3 front door: S3 errors, addressing and routing, SigV4 verification, aws-chunked bodies
//! and checksums (Amazon S3 API Reference; "Authenticating Requests (AWS Signature Version 4)").

pub mod error;
pub mod sigv4;

pub use error::{S3Error, S3ErrorCode, S3Result};
