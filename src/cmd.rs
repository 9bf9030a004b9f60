//! The `lakegate` command line (`cli`) and its commands: `dev` (the gateway on an embedded
//! lakeFS), `serve` (the gateway on a real lakeFS), `keys` (gateway keys), `workflow` (`import`,
//! `pr`, `branch reset`), `creds` (credentials for SDKs, OIDC sign-in) and `bench`.

pub mod bench;
pub mod cli;
pub mod creds;
pub mod dev;
pub mod keys;
pub mod serve;
pub mod workflow;
