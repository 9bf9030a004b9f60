//! lakegate: an S3-compatible gateway for lakeFS (the lakeFS contract is the `lakefs-api` crate, the
//! embedded lakeFS-compatible server `lakefs-embedded`, HTTP plumbing `lakegate-net`; see
//! docs/architecture.md).
//!
//! # Layout
//! - `s3`: the S3 wire protocol: addressing and routing, SigV4/SigV2, aws-chunked bodies, checksums,
//!   XML, S3 errors.
//! - `gateway`: binding and serving the S3 endpoint; the request pipeline around every operation;
//!   lakegate's STS endpoint and the OIDC login.
//! - `ops`: the S3 operations on lakeFS, one file per group, with the gateway's shared state;
//!   `ops::datapath` moves the bytes (presigned URLs, caches).
//! - `auth`: gateway keys (the key file behind SigV4), per-key lakeFS sessions, session tokens.
//! - `config`: the gateway's configuration (flags, environment, file) and its reference.
//! - `admin`, `metrics`, `publish`, `shutdown`: the admin listener, Prometheus metrics,
//!   publish-on-success rules, the shutdown signal.
//! - `cmd`: the command line and its commands (`dev`, `serve`, `keys`, `import`/`pr`/`branch`,
//!   `creds`, `bench`).

pub mod admin;
pub mod auth;
pub mod cmd;
pub mod config;
pub mod gateway;
pub mod metrics;
pub mod ops;
pub mod publish;
pub mod shutdown;
