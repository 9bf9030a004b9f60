//! Presigned multipart uploads on the local blob store (lakeFS `createPresignMultipartUpload` &c.,
//! answered the way S3's multipart upload API would answer them: Amazon S3 API Reference,
//! `UploadPart`/`CompleteMultipartUpload`), and the upload records of both blockstores.
//!
//! Each upload lives in its own directory under `<data>/blobs-tmp/mpu/`: `upload.json` (which
//! repository, branch, path and physical address it belongs to) and, on the local blob store, one
//! file per part version, `part-NNNNN.<md5 hex>`, written atomically by the blob endpoint (on the
//! S3 blockstore the S3 server keeps the parts: see [`super::s3mpu`]). Everything is on disk, so an
//! upload survives a restart. Completing picks the part file each listed ETag names (so a wrong ETag
//! is `InvalidPart`), copies them in order into a temporary file, then renames it into place: the
//! object is absent or complete.

use super::blob::BlobStore;
use super::error::{ApiError, ApiResult};
use super::sdkerr::{ENTITY_TOO_SMALL, INVALID_PART, INVALID_PART_NUMBER, INVALID_PART_ORDER, MALFORMED_XML};
use lakefs_api::dto::UploadPart;
use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::path::{Path, PathBuf};

/// S3's smallest part size (every part but the last).
pub const MIN_PART_SIZE: u64 = 5 << 20;
/// S3's largest part number (and part count).
pub const MAX_PARTS: i64 = 10_000;
const STATE_FILE: &str = "upload.json";
/// The S3 operation the store's refusals of a part list are reported for.
const COMPLETE: &str = "CompleteMultipartUpload";

/// What an upload is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadState {
    pub upload_id: String,
    pub repo: String,
    pub branch: String,
    pub path: String,
    pub physical_address: String,
    /// Unix seconds.
    pub created: i64,
}

/// The in-progress uploads of one blob store.
pub struct Uploads {
    root: PathBuf,
}

/// The assembled object: S3-style multipart ETag (`hex(md5(part md5s))-N`) and size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assembled {
    pub checksum: String,
    pub size: u64,
}

fn no_such_upload() -> ApiError {
    ApiError::not_found("NoSuchUpload: the specified multipart upload does not exist")
}

impl Uploads {
    pub fn new(blobs: &BlobStore) -> Uploads {
        Uploads { root: blobs.tmp_dir().join("mpu") }
    }

    /// The upload's directory (named by a hash, so any upload id is a safe file name).
    fn dir(&self, upload_id: &str) -> PathBuf {
        self.root.join(&hex::encode(Sha256::digest(upload_id.as_bytes()))[..32])
    }

    /// The file holding part `n` whose MD5 is `md5_hex`: parts are named by content, so completing
    /// finds the part an ETag names without hashing it again.
    pub fn part_path(&self, upload_id: &str, n: i64, md5_hex: &str) -> PathBuf {
        self.dir(upload_id).join(format!("part-{n:05}.{md5_hex}"))
    }

    /// Writes part `n` from `body`; its ETag (quoted MD5).
    pub async fn write_part<S, E>(&self, blobs: &BlobStore, upload_id: &str, n: i64, body: S) -> ApiResult<String>
    where
        S: futures_util::Stream<Item = Result<bytes::Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let (tmp, written) = blobs.write_temp(body, super::blob::MAX_PUT_SIZE).await?;
        let dest = self.part_path(upload_id, n, &written.md5_hex);
        if let Err(e) = tokio::fs::rename(&tmp, &dest).await {
            let _ = tokio::fs::remove_file(&tmp).await;
            // The upload's directory is gone: it was aborted or completed meanwhile.
            return Err(if e.kind() == std::io::ErrorKind::NotFound { no_such_upload() } else { e.into() });
        }
        Ok(format!("\"{}\"", written.md5_hex))
    }

    /// Records a new upload (atomically, durably).
    pub async fn save(&self, st: &UploadState) -> ApiResult<()> {
        let dir = self.dir(&st.upload_id);
        tokio::fs::create_dir_all(&dir).await?;
        let tmp = dir.join(format!("{STATE_FILE}.tmp"));
        let mut file = tokio::fs::File::create(&tmp).await?;
        tokio::io::AsyncWriteExt::write_all(&mut file, &serde_json::to_vec(st)?).await?;
        file.sync_all().await?;
        tokio::fs::rename(&tmp, dir.join(STATE_FILE)).await?;
        Ok(())
    }

    /// The upload `upload_id`; 404 (S3 `NoSuchUpload`) when unknown.
    pub async fn load(&self, upload_id: &str) -> ApiResult<UploadState> {
        let bytes = match tokio::fs::read(self.dir(upload_id).join(STATE_FILE)).await {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(no_such_upload()),
            Err(e) => return Err(e.into()),
        };
        let st: UploadState = serde_json::from_slice(&bytes)?;
        if st.upload_id != upload_id {
            return Err(no_such_upload());
        }
        Ok(st)
    }

    /// Drops the upload and its parts.
    pub async fn remove(&self, upload_id: &str) -> ApiResult<()> {
        match tokio::fs::remove_dir_all(self.dir(upload_id)).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }

    /// Checks `parts` (1..=10000 of them, ascending, existing, all but the last ≥ 5 MiB) and streams
    /// them into `dest` atomically, verifying each part's ETag. Refusals are S3's, in the shape
    /// lakeFS reports its S3 adapter's errors ([`crate::sdkerr`]).
    pub async fn assemble(
        &self,
        blobs: &BlobStore,
        upload_id: &str,
        parts: &[UploadPart],
        dest: &Path,
    ) -> ApiResult<Assembled> {
        check_part_list(parts)?;
        let mut files = Vec::with_capacity(parts.len());
        for (i, part) in parts.iter().enumerate() {
            let etag = part.etag.trim().trim_matches('"').to_ascii_lowercase();
            let valid = etag.len() == 32 && etag.bytes().all(|b| b.is_ascii_hexdigit());
            let path = self.part_path(upload_id, part.part_number, &etag);
            let len = match tokio::fs::metadata(&path).await {
                Ok(m) if valid => m.len(),
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
                _ => return Err(ApiError::local_store(COMPLETE, INVALID_PART)),
            };
            if i + 1 < parts.len() && len < MIN_PART_SIZE {
                return Err(ApiError::local_store(COMPLETE, ENTITY_TOO_SMALL));
            }
            files.push((path, etag));
        }
        let tmp = blobs.tmp_dir().join(format!("mpu-{}", super::presign::new_object_id()));
        let dest = dest.to_path_buf();
        let tmp2 = tmp.clone();
        let result = tokio::task::spawn_blocking(move || concat_parts(&files, &tmp2, &dest)).await?;
        if result.is_err() {
            let _ = tokio::fs::remove_file(&tmp).await;
        }
        result
    }
}

/// S3's rules for a `CompleteMultipartUpload` part list: 1..=10000 parts, numbered 1..=10000 in
/// strictly ascending order. Refusals are the store's (`MalformedXML`, `InvalidArgument`,
/// `InvalidPartOrder`; see [`crate::sdkerr`]).
pub fn check_part_list(parts: &[UploadPart]) -> ApiResult<()> {
    if parts.is_empty() || parts.len() as i64 > MAX_PARTS {
        return Err(ApiError::local_store(COMPLETE, MALFORMED_XML));
    }
    let mut prev = 0;
    for p in parts {
        if !(1..=MAX_PARTS).contains(&p.part_number) {
            return Err(ApiError::local_store(COMPLETE, INVALID_PART_NUMBER));
        }
        if p.part_number <= prev {
            return Err(ApiError::local_store(COMPLETE, INVALID_PART_ORDER));
        }
        prev = p.part_number;
    }
    Ok(())
}

/// Blocking: copies the parts one after another into `tmp` (in the kernel where it can), fsyncs,
/// renames to `dest`. Each part's MD5 is its file name's, recorded when it was written.
fn concat_parts(files: &[(PathBuf, String)], tmp: &Path, dest: &Path) -> ApiResult<Assembled> {
    let mut out = std::fs::File::create(tmp)?;
    let mut digests = Md5::new();
    let mut size = 0u64;
    for (path, md5_hex) in files {
        let mut input = std::fs::File::open(path)?;
        size += std::io::copy(&mut input, &mut out)?;
        digests.update(hex::decode(md5_hex).map_err(ApiError::internal)?);
    }
    out.sync_all()?;
    if let Some(parent) = dest.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::rename(tmp, dest)?;
    Ok(Assembled { checksum: format!("{}-{}", hex::encode(digests.finalize()), files.len()), size })
}

/// The bytes `(first, last)` (inclusive; all of it without a range) of an object of `size` bytes
/// as `(start, len)`. S3 refuses an inverted range or one past the end (`InvalidArgument`).
pub fn copy_span(range: Option<(i64, i64)>, size: u64) -> ApiResult<(u64, u64)> {
    let Some((a, b)) = range else {
        return Ok((0, size));
    };
    if a < 0 || b < a {
        let message = "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last \
                       are the zero-based offsets of the first and last bytes to copy";
        return Err(ApiError::local_store("UploadPartCopy", (400, "InvalidArgument", message)));
    }
    let (a, b) = (a as u64, b as u64);
    if b >= size {
        let message = format!("Range specified is not valid for source object of size: {size}");
        return Err(ApiError::local_store("UploadPartCopy", (400, "InvalidArgument", &message)));
    }
    Ok((a, b - a + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(n: i64) -> UploadPart {
        UploadPart { part_number: n, etag: String::new() }
    }

    #[test]
    fn part_lists_must_be_ascending_and_bounded() {
        let code = |parts: &[UploadPart]| check_part_list(parts).unwrap_err().store_code().map(str::to_string);
        assert!(check_part_list(&[part(1), part(2), part(5)]).is_ok());
        assert_eq!(code(&[]).as_deref(), Some("MalformedXML"));
        assert_eq!(code(&[part(2), part(1)]).as_deref(), Some("InvalidPartOrder"));
        assert_eq!(code(&[part(1), part(1)]).as_deref(), Some("InvalidPartOrder"));
        assert_eq!(code(&[part(0)]).as_deref(), Some("InvalidArgument"));
        assert_eq!(code(&[part(10_001)]).as_deref(), Some("InvalidArgument"));
    }

    #[test]
    fn copy_spans_stay_inside_the_source() {
        assert_eq!(copy_span(None, 10).unwrap(), (0, 10));
        assert_eq!(copy_span(Some((2, 4)), 10).unwrap(), (2, 3));
        let past = copy_span(Some((2, 10)), 10).unwrap_err();
        assert_eq!((past.status().as_u16(), past.store_code()), (500, Some("InvalidArgument")));
        assert!(past.to_string().ends_with("Range specified is not valid for source object of size: 10"), "{past}");
        assert!(copy_span(Some((5, 2)), 10).is_err());
        assert!(copy_span(Some((-2, 4)), 10).is_err());
    }
}
