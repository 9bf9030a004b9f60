//! The embedded server's local blob store: object bytes as files under `<data>/blobs`, addressed by
//! `local://<namespace path>/…` physical addresses.
//!
//! Writes stream into a temporary file while computing MD5 (the S3-style ETag), are fsynced and then
//! renamed into place, so a blob is either absent or complete. Reads stream from the file, never
//! holding an object in memory.

use super::error::{ApiError, ApiResult};
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use md5::{Digest, Md5};
use std::path::{Path, PathBuf};
use tokio::io::AsyncWriteExt;

/// The URI scheme of our physical addresses (lakeFS's `local` blockstore type).
pub const SCHEME: &str = "local://";
/// S3's limit for one PUT, enforced on presigned PUTs too.
pub const MAX_PUT_SIZE: u64 = 5 << 30;

/// Files under one root directory.
#[derive(Clone)]
pub struct BlobStore {
    root: PathBuf,
    tmp: PathBuf,
    /// Directories whose files imported objects reference (`local:///abs/path`, read only).
    import_roots: Vec<PathBuf>,
}

/// What a completed write produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub md5_hex: String,
    pub size: u64,
}

impl BlobStore {
    pub fn open(data_dir: &Path) -> std::io::Result<BlobStore> {
        let root = data_dir.join("blobs");
        let tmp = data_dir.join("blobs-tmp");
        std::fs::create_dir_all(&root)?;
        std::fs::create_dir_all(&tmp)?;
        Ok(BlobStore { root, tmp, import_roots: Vec::new() })
    }

    /// Lets reads reach imported files under `roots` (canonical paths).
    pub fn with_import_roots(mut self, roots: Vec<PathBuf>) -> BlobStore {
        self.import_roots = roots;
        self
    }

    /// The file behind a `local://…` address for writing or removing: never an imported file.
    pub fn path_for_write(&self, address: &str) -> ApiResult<PathBuf> {
        if address.strip_prefix(SCHEME).is_some_and(|rel| rel.starts_with('/')) {
            return Err(ApiError::bad_request(format!("{address:?} is an imported object's source: read only")));
        }
        self.path_of(address)
    }

    /// The directory of temporary files (same file system as the blobs, so renames are atomic).
    pub fn tmp_dir(&self) -> &Path {
        &self.tmp
    }

    /// The file behind a `local://…` address; refuses anything that could escape the root.
    pub fn path_of(&self, address: &str) -> ApiResult<PathBuf> {
        let rel = address
            .strip_prefix(SCHEME)
            .ok_or_else(|| ApiError::bad_request(format!("address {address:?} is not on the local blockstore")))?;
        self.path_of_relative(rel)
    }

    /// The file behind a path relative to the root (as used in blob URLs), or, for an absolute
    /// path (an imported object's source), that file when it lies under an import root.
    pub fn path_of_relative(&self, rel: &str) -> ApiResult<PathBuf> {
        if rel.starts_with('/') {
            let path = std::path::Path::new(rel);
            let clean = !rel.split('/').skip(1).any(|p| p.is_empty() || p == "." || p == ".." || p.contains('\0'));
            if clean && self.import_roots.iter().any(|r| path.starts_with(r)) {
                return Ok(path.to_path_buf());
            }
            return Err(ApiError::bad_request(format!("invalid physical address path {rel:?}")));
        }
        let mut path = self.root.clone();
        let mut parts = 0;
        for part in rel.split('/') {
            if part.is_empty() || part == "." || part == ".." || part.contains(['\\', '\0']) {
                return Err(ApiError::bad_request(format!("invalid physical address path {rel:?}")));
            }
            path.push(part);
            parts += 1;
        }
        if parts < 2 {
            return Err(ApiError::bad_request(format!("invalid physical address path {rel:?}")));
        }
        Ok(path)
    }

    /// Streams `body` into the blob at `dest`, atomically; fails without leaving anything visible
    /// when the stream fails or exceeds `max_size`.
    pub async fn write<S, E>(&self, dest: &Path, mut body: S, max_size: u64) -> ApiResult<Written>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let tmp = self.tmp.join(super::presign::new_object_id());
        let result = async {
            let mut file = tokio::fs::File::create(&tmp).await?;
            let mut md5 = Md5::new();
            let mut size = 0u64;
            while let Some(chunk) = body.next().await {
                let chunk = chunk.map_err(|e| ApiError::bad_request(format!("reading request body: {e}")))?;
                size += chunk.len() as u64;
                if size > max_size {
                    return Err(ApiError::PayloadTooLarge(format!("object larger than {max_size} bytes")));
                }
                md5.update(&chunk);
                file.write_all(&chunk).await?;
            }
            file.sync_all().await?;
            if let Some(parent) = dest.parent() {
                tokio::fs::create_dir_all(parent).await?;
            }
            tokio::fs::rename(&tmp, dest).await?;
            Ok(Written { md5_hex: hex::encode(md5.finalize()), size })
        }
        .await;
        if result.is_err() {
            let _ = tokio::fs::remove_file(&tmp).await;
        }
        result
    }

    /// Streams `body` into a temporary file (the caller moves or deletes it).
    pub async fn write_temp<S, E>(&self, body: S, max_size: u64) -> ApiResult<(PathBuf, Written)>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let dest = self.tmp.join(format!("spool-{}", super::presign::new_object_id()));
        let written = self.write(&dest, body, max_size).await?;
        Ok((dest, written))
    }

    /// Copies the blob at `src` to `dest` (atomically at `dest`).
    pub async fn copy(&self, src: &Path, dest: &Path) -> ApiResult<u64> {
        let tmp = self.tmp.join(super::presign::new_object_id());
        let result = async {
            let size = tokio::fs::copy(src, &tmp).await.map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => ApiError::not_found("object data not found"),
                _ => ApiError::from(e),
            })?;
            if let Some(parent) = dest.parent() {
                tokio::fs::create_dir_all(parent).await?;
            }
            tokio::fs::rename(&tmp, dest).await?;
            Ok(size)
        }
        .await;
        if result.is_err() {
            let _ = tokio::fs::remove_file(&tmp).await;
        }
        result
    }

    /// Opens a blob for reading: the file and its length; 404 when absent (see [`data_gone`]).
    pub async fn open_read(&self, path: &Path) -> ApiResult<(tokio::fs::File, u64)> {
        let file = tokio::fs::File::open(path).await.map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => ApiError::not_found("object data not found"),
            _ => ApiError::from(e),
        })?;
        let len = file.metadata().await?.len();
        Ok((file, len))
    }
}

/// Maps a missing blob behind an existing entry to lakeFS's 410 "No data".
pub fn data_gone(err: ApiError) -> ApiError {
    match err {
        ApiError::NotFound(_) => ApiError::Gone("No data".into()),
        other => other,
    }
}

/// A response body streaming `len` bytes of `file` from `start`.
pub async fn file_body(mut file: tokio::fs::File, start: u64, len: u64) -> ApiResult<super::http::Body> {
    use http_body_util::BodyExt;
    use tokio::io::{AsyncReadExt, AsyncSeekExt};
    if start > 0 {
        file.seek(std::io::SeekFrom::Start(start)).await?;
    }
    let stream = tokio_util::io::ReaderStream::with_capacity(file.take(len), 64 * 1024);
    let frames = stream.map(|r| r.map(http_body::Frame::data));
    Ok(http_body_util::StreamBody::new(frames).boxed_unsync())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn write_is_atomic_and_md5_is_computed() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path()).unwrap();
        let dest = store.path_of("local://ns/data/x").unwrap();
        let chunks: Vec<Result<Bytes, std::io::Error>> = vec![Ok(Bytes::from("hello ")), Ok(Bytes::from("world"))];
        let w = store.write(&dest, futures_util::stream::iter(chunks), 100).await.unwrap();
        assert_eq!(w.md5_hex, "5eb63bbbe01eeed093cb22bb8f5acdc3");
        assert_eq!(w.size, 11);
        assert_eq!(std::fs::read(&dest).unwrap(), b"hello world");

        let failing: Vec<Result<Bytes, std::io::Error>> =
            vec![Ok(Bytes::from("part")), Err(std::io::Error::other("cut"))];
        let dest2 = store.path_of("local://ns/data/y").unwrap();
        assert!(store.write(&dest2, futures_util::stream::iter(failing), 100).await.is_err());
        assert!(!dest2.exists());
        let too_big: Vec<Result<Bytes, std::io::Error>> = vec![Ok(Bytes::from(vec![0u8; 101]))];
        assert!(matches!(
            store.write(&dest2, futures_util::stream::iter(too_big), 100).await,
            Err(ApiError::PayloadTooLarge(_))
        ));
        assert!(!dest2.exists());
        assert_eq!(std::fs::read_dir(dir.path().join("blobs-tmp")).unwrap().count(), 0);
    }

    #[test]
    fn addresses_cannot_escape_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path()).unwrap();
        assert!(store.path_of("local://ns/../../etc/passwd").is_err());
        assert!(store.path_of("local:///abs").is_err());
        assert!(store.path_of("s3://bucket/key").is_err());
        assert!(store.path_of("local://onlyone").is_err());
        assert!(store.path_of("local://ns/data/a,b").unwrap().starts_with(dir.path()));
    }
}
