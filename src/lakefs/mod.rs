//! lakeFS REST API (`/api/v1`): wire types and a typed async client.

pub mod auth_dto;
pub mod aws_creds;
pub mod aws_iam;
pub mod client;
pub mod dto;
pub mod error;
pub mod versions;
pub mod workflow_dto;

pub use client::{Credentials, LakeFsClient};
pub use error::LakeFsError;
