//! The S3 front door: S3 errors, addressing and routing, SigV4 verification, aws-chunked bodies
//! and checksums (Amazon S3 API Reference; "Authenticating Requests (AWS Signature Version 4)").

pub mod addressing;
pub mod body;
pub mod checksum;
pub mod chunked;
pub mod error;
pub mod limits;
pub mod router;
pub mod signed;
pub mod sigv2;
pub mod sigv4;
pub mod xml;

pub use error::{S3Error, S3ErrorCode, S3Result};
