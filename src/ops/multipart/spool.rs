//! The spool: parts of multipart uploads on storage without presigned multipart (lakeFS on GCS,
//! Azure or its local blockstore) are kept in a bounded local directory, one directory per upload
//! (`<digest>/part-NNNNN` plus a `.json` record of its ETag, size and checksum), and sent as one
//! object on Complete. Each part file is written to a temporary name and renamed once its body
//! verified, so a part is either absent or whole. When the spool is full an UploadPart answers
//! `503 SlowDown` instead of filling the disk.

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use s3_wire::body::Verifying;
use s3_wire::s3_err;
use s3_wire::{S3Error, S3Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::io::AsyncWriteExt;

/// What the spool keeps about a part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpooledPart {
    pub part_number: u32,
    pub etag: String,
    pub size: u64,
    #[serde(default)]
    pub checksum: Option<String>,
}

pub struct Spool {
    dir: PathBuf,
    max: u64,
    used: AtomicU64,
}

fn spool_error(e: std::io::Error) -> S3Error {
    S3Error::internal(format!("spool: {e}"))
}

fn dir_size(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_size(&e.path()),
            _ => e.metadata().map_or(0, |m| m.len()),
        })
        .sum()
}

impl Spool {
    /// Opens the spool directory, counting what earlier runs left there against `max` bytes.
    pub fn open(dir: &Path, max: u64) -> std::io::Result<Spool> {
        std::fs::create_dir_all(dir)?;
        Ok(Spool { dir: dir.to_path_buf(), max, used: AtomicU64::new(dir_size(dir)) })
    }

    fn upload_dir(&self, digest: &str) -> PathBuf {
        self.dir.join(digest)
    }

    fn part_path(&self, digest: &str, n: u32) -> PathBuf {
        self.upload_dir(digest).join(format!("part-{n:05}"))
    }

    fn reserve(&self, len: u64) -> S3Result<()> {
        let reserved = self.used.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |u| {
            u.checked_add(len).filter(|total| *total <= self.max)
        });
        reserved.map(drop).map_err(|_| {
            s3_err!(SlowDown, "lakegate's multipart spool is full ({} bytes); retry later", self.max)
                .with_header(http::header::RETRY_AFTER, http::HeaderValue::from_static("5"))
        })
    }

    fn release(&self, len: u64) {
        let _ = self.used.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |u| Some(u.saturating_sub(len)));
    }

    /// Writes part `n` from a verified body of `length` bytes; it replaces an earlier part `n` only
    /// once the whole body verified.
    pub async fn write_part(&self, digest: &str, n: u32, mut body: Verifying, length: u64) -> S3Result<()> {
        self.reserve(length)?;
        let dir = self.upload_dir(digest);
        let tmp = dir.join(format!("part-{n:05}.{:016x}.tmp", rand::random::<u64>()));
        let written = async {
            tokio::fs::create_dir_all(&dir).await.map_err(spool_error)?;
            let mut file = tokio::fs::File::create(&tmp).await.map_err(spool_error)?;
            while let Some(chunk) = body.next().await {
                file.write_all(&chunk?).await.map_err(spool_error)?;
            }
            file.sync_all().await.map_err(spool_error)
        }
        .await;
        if let Err(e) = written {
            let _ = tokio::fs::remove_file(&tmp).await;
            self.release(length);
            return Err(e);
        }
        let dest = self.part_path(digest, n);
        let old = tokio::fs::metadata(&dest).await.map_or(0, |m| m.len());
        tokio::fs::rename(&tmp, &dest).await.map_err(spool_error)?;
        self.release(old);
        Ok(())
    }

    /// Records a written part's ETag, size and checksum beside it.
    pub async fn record(&self, digest: &str, part: &SpooledPart) -> S3Result<()> {
        let path = self.part_path(digest, part.part_number).with_extension("json");
        let tmp = path.with_extension("json.tmp");
        tokio::fs::write(&tmp, serde_json::to_vec(part).map_err(S3Error::internal)?).await.map_err(spool_error)?;
        tokio::fs::rename(&tmp, &path).await.map_err(spool_error)
    }

    /// The record of part `n`, if it was spooled.
    pub async fn part(&self, digest: &str, n: u32) -> S3Result<Option<SpooledPart>> {
        let path = self.part_path(digest, n).with_extension("json");
        match tokio::fs::read(&path).await {
            Ok(b) => Ok(Some(serde_json::from_slice(&b).map_err(S3Error::internal)?)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(spool_error(e)),
        }
    }

    /// The parts `numbers`, in that order, as one stream of bytes.
    pub fn read_parts(
        &self,
        digest: &str,
        numbers: Vec<u32>,
    ) -> impl Stream<Item = std::io::Result<Bytes>> + Send + 'static {
        let paths: Vec<PathBuf> = numbers.into_iter().map(|n| self.part_path(digest, n)).collect();
        futures_util::stream::iter(paths)
            .then(|p| async move { tokio::fs::File::open(p).await.map(tokio_util::io::ReaderStream::new) })
            .map(|opened| match opened {
                Ok(s) => s.left_stream(),
                Err(e) => futures_util::stream::once(async move { Err(e) }).right_stream(),
            })
            .flatten()
    }

    /// Drops an upload's parts and gives their space back.
    pub async fn remove(&self, digest: &str) {
        let dir = self.upload_dir(digest);
        let size = tokio::task::spawn_blocking({
            let dir = dir.clone();
            move || dir_size(&dir)
        })
        .await
        .unwrap_or(0);
        if tokio::fs::remove_dir_all(&dir).await.is_ok() {
            self.release(size);
        }
    }

    /// Whether the upload has a spool directory.
    pub async fn exists(&self, digest: &str) -> bool {
        tokio::fs::metadata(self.upload_dir(digest)).await.is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservations_stop_at_the_limit_and_come_back() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path(), 10).unwrap();
        spool.reserve(6).unwrap();
        assert_eq!(spool.reserve(5).unwrap_err().code, s3_wire::S3ErrorCode::SlowDown);
        spool.release(6);
        spool.reserve(10).unwrap();
    }

    #[test]
    fn leftovers_count_against_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("d")).unwrap();
        std::fs::write(dir.path().join("d/part-00001"), [0u8; 8]).unwrap();
        let spool = Spool::open(dir.path(), 10).unwrap();
        assert!(spool.reserve(3).is_err());
        spool.reserve(2).unwrap();
    }
}
