//! lakegate: an S3-compatible gateway for lakeFS.
//!
//! # Layout
//! - `lakefs`: the typed lakeFS REST client and the DTOs it shares with the embedded server.
//! - `embedded`: the embedded lakeFS-compatible server (`lakegate dev`, and the tests' lakeFS).
//! - `s3`: the S3 front door: addressing and routing, SigV4, aws-chunked bodies, checksums, S3 errors.
//! - `server`: the HTTP accept loop with graceful shutdown.
//! - `outbound`: the one client for every connection lakegate opens (TLS roots, proxies).
//! - `ops`: S3 operations on lakeFS, one file per group.
//! - `gateway`, `config`: running the S3 endpoint.
//! - `auth`: gateway keys (the key file behind SigV4), per-key lakeFS sessions, lakegate's STS endpoint.
//! - `cli`, `keys`: the `lakegate` command line (`dev`, `serve`, `keys`).

pub mod admin;
pub mod auth;
pub mod bench;
pub mod cli;
pub mod config;
pub mod creds;
pub mod dev;
pub mod gateway;
pub mod keys;
pub mod metrics;
pub mod ops;
pub mod publish;
pub mod s3;
pub mod serve;
pub mod shutdown;
pub mod workflow;
