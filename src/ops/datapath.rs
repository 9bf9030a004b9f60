//! The data path: object bytes between S3 clients and the object store, never through lakeFS and
//! never collected in memory. `store` writes (getPhysicalAddress → presigned PUT → link) and reads
//! (statObject → presigned GET); `presigned` is the HTTP client for presigned URLs; `store_error`
//! maps the store's answers to S3 errors; `cache` keeps what is immutable (stats and small objects
//! at commit ids).

pub mod cache;
pub mod presigned;
pub mod store;
pub mod store_error;
