//! HTTP plumbing shared by lakegate's crates, knowing nothing of S3 or lakeFS.
//!
//! # Layout
//! - `outbound`: the one client for every connection lakegate opens (TLS roots, private CAs,
//!   proxies, a bounded connect).
//! - `body`: the boxed response body every HTTP surface answers with, and its byte counter.
//! - `range`: single-range `Range` headers as S3 and lakeFS read them.
//! - `server`: the accept loop shared by every listener (HTTP/1.1 and h2, TLS, connection limits,
//!   graceful shutdown).
//! - `sigclient`: SigV4 header signing for the S3 requests lakegate sends itself.
//! - `util`: SigV4 time formats and constant-time comparison.

pub mod body;
pub mod outbound;
pub mod range;
pub mod server;
pub mod sigclient;
pub mod util;
