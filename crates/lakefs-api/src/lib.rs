//! The lakeFS REST contract (`/api/v1`, lakeFS v1.84's `api/swagger.yml`), knowing nothing of S3.
//!
//! # Layout
//! - `dto`, `auth_dto`, `workflow_dto`: the wire types, named as in lakeFS's spec; the typed client
//!   and the embedded server share them.
//! - `operations`: the operation table (method and path → operation id and path parameters).
//! - `names`: lakeFS's rules for repository and branch names.
//! - `client`: the typed async client (auth, retries, timeouts), `error` its failures.
//! - `versions`: which lakeFS version introduced which operation.
//! - `aws_iam`, `aws_creds`: logging in to lakeFS with AWS credentials (external principals).
//! - `observe`: the hook through which the process counts the client's calls.

pub mod auth_dto;
pub mod aws_creds;
pub mod aws_iam;
pub mod client;
pub mod dto;
pub mod error;
pub mod names;
pub mod observe;
pub mod operations;
pub mod versions;
pub mod workflow_dto;

pub use client::{Credentials, LakeFsClient};
pub use error::LakeFsError;
