//! The embedded server's catalog: lakeFS's data model (repositories, branches, commits, staged and
//! committed entries) on the redb metadata store. Synchronous; callers run it on blocking threads.

pub mod commits;
pub mod diff;
pub mod import;
pub mod log;
pub mod merge;
pub mod meta;
pub mod objects;
pub mod policies;
pub mod principals;
pub mod pulls;
pub mod refs;
pub mod repos;
pub mod users;
pub mod validate;

pub use lakefs_api::names::{valid_branch_name, valid_repo_name};
pub use log::LogQuery;
pub use merge::MergeOutcome;
pub use meta::{Entry, Meta, clamp_amount, now_unix};
pub use objects::{ListQuery, Listed, WriteCondition};
pub use refs::Resolved;
