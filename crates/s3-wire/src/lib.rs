//! The S3 wire protocol, knowing nothing of lakeFS: S3 errors (rendered in one place), addressing
//! and routing to an `Endpoint`, SigV4/SigV2 verification against any key store (`keys`),
//! aws-chunked bodies, checksums, XML, and the limits a request and its body are held to (Amazon
//! S3 API Reference; "Authenticating Requests (AWS Signature Version 4)"). What it observes goes
//! out through `events`.

pub mod addressing;
pub mod body;
pub mod checksum;
pub mod chunked;
pub mod error;
pub mod events;
pub mod keys;
pub mod limits;
pub mod router;
pub mod signed;
pub mod sigv2;
pub mod sigv4;
pub mod xml;

pub use error::{S3Error, S3ErrorCode, S3Result};
