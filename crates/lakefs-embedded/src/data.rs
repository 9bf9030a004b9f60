//! Object bytes of the embedded server, on whichever blockstore it runs: the local blob store
//! (`local://…`, files under the data dir) or the S3 blockstore (`s3://…`). The REST handlers
//! (`uploadObject`, `getObject`, `copyObject`) and presigning go through here.

use super::Embedded;
use super::blob::{MAX_PUT_SIZE, Written, data_gone, file_body};
use super::error::{ApiError, ApiResult};
use super::http::Body;
use super::storage::Storage;
use bytes::Bytes;
use futures_util::{Stream, TryStreamExt};
use http_body_util::BodyExt;
use lakegate_net::range::ByteRange;

impl Embedded {
    /// The physical-address scheme of this server's primary storage.
    pub fn scheme(&self) -> &'static str {
        self.storages.primary().scheme()
    }

    /// The storage of `repo` (404 "no storage config" when it is not configured).
    pub(crate) fn storage_of(&self, repo: &lakefs_api::dto::Repository) -> ApiResult<&Storage> {
        self.storages.of(repo)
    }

    /// The S3 store for an `s3://` address of this server's S3 blockstore; `None` for a `local://`
    /// address (the local blob store, of the primary or an extra storage); an error otherwise.
    pub(crate) fn s3_for(&self, address: &str) -> ApiResult<Option<&super::s3store::S3Store>> {
        match &self.s3 {
            Some(s3) if address.starts_with(super::s3store::SCHEME) => Ok(Some(s3)),
            _ if address.starts_with(super::blob::SCHEME) => Ok(None),
            _ => Err(ApiError::bad_request(format!("{address:?} is not on this server's blockstore"))),
        }
    }

    /// A presigned URL for `method` on `address` of `storage`, and its expiry (Unix seconds); 400
    /// with the adapter's text when the storage does not presign (lakeFS `GetPreSignedURL`).
    pub(crate) fn presign_address(&self, storage: &Storage, method: &str, address: &str) -> ApiResult<(String, i64)> {
        if !storage.presign {
            return Err(ApiError::bad_request(storage.no_presign()));
        }
        let expiry = self.presign_expiry;
        let url = match self.s3_for(address)? {
            Some(s3) => s3.presign(method, address, expiry)?,
            None => self
                .presigner
                .presign(method, &self.base_url, &blob_path(address), expiry)
                .map_err(ApiError::Internal)?,
        };
        Ok((url, super::catalog::now_unix() + expiry.as_secs() as i64))
    }

    /// A presigned PUT URL for part `part_number` of multipart upload `upload_id` to `address`
    /// (S3 `UploadPart` on the S3 blockstore; the part number and upload id are signed). Like
    /// lakeFS's adapters it does not look the upload up, and refuses (400 "operation not
    /// supported") only when the storage does not presign.
    pub(crate) fn presign_part(
        &self,
        storage: &Storage,
        address: &str,
        upload_id: &str,
        part_number: i64,
    ) -> ApiResult<String> {
        if !storage.presign {
            return Err(ApiError::bad_request("operation not supported"));
        }
        let expiry = self.presign_expiry;
        if let Some(s3) = self.s3_for(address)? {
            return s3.presign_part(address, upload_id, part_number, expiry);
        }
        let id = percent_encoding::utf8_percent_encode(upload_id, super::http::QUERY_VALUE);
        let path = format!("{}?partNumber={part_number}&uploadId={id}", blob_path(address));
        self.presigner.presign("PUT", &self.base_url, &path, expiry).map_err(ApiError::Internal)
    }

    /// Streams `body` into a new object at `address`.
    pub(crate) async fn write_data<S, E>(&self, address: &str, body: S) -> ApiResult<Written>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let Some(s3) = self.s3_for(address)? else {
            return self.blobs.write(&self.blobs.path_for_write(address)?, body, MAX_PUT_SIZE).await;
        };
        // S3 needs the length up front: spool to a temporary file first.
        let (tmp, written) = self.blobs.write_temp(body, MAX_PUT_SIZE).await?;
        let result = async {
            let file = tokio::fs::File::open(&tmp).await?;
            let stream = tokio_util::io::ReaderStream::new(file)
                .map_ok(http_body::Frame::data)
                .map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>);
            s3.put(address, http_body_util::StreamBody::new(stream).boxed_unsync(), written.size).await
        }
        .await;
        let _ = tokio::fs::remove_file(&tmp).await;
        result.map(|_| written)
    }

    /// The bytes `[start, start + count)` of the object at `address` (`size` bytes long).
    pub(crate) async fn read_data(&self, address: &str, size: u64, range: Option<ByteRange>) -> ApiResult<Body> {
        let Some(s3) = self.s3_for(address)? else {
            let (file, _) = self.blobs.open_read(&self.blobs.path_of(address)?).await.map_err(data_gone)?;
            let (start, count) = range.map_or((0, size), |r| (r.start, r.len()));
            return file_body(file, start, count).await;
        };
        let resp = s3.get(address, range).await.map_err(data_gone)?;
        Ok(resp.into_body().map_err(std::io::Error::other).boxed_unsync())
    }

    /// Whether the object's data exists (local store only; S3 is asked when read).
    pub(crate) async fn check_data(&self, address: &str) -> ApiResult<()> {
        if self.s3_for(address)?.is_none() {
            self.blobs.open_read(&self.blobs.path_of(address)?).await.map_err(data_gone)?;
        }
        Ok(())
    }

    /// Deletes an object's bytes (best effort: used to clean up after a failed write).
    pub(crate) async fn remove_data(&self, address: &str) {
        match self.s3_for(address) {
            Ok(Some(s3)) => {
                if let Err(e) = s3.delete(address).await {
                    tracing::warn!(%address, err = %e, "could not delete orphaned object data");
                }
            }
            Ok(None) => {
                if let Ok(path) = self.blobs.path_for_write(address) {
                    let _ = tokio::fs::remove_file(path).await;
                }
            }
            Err(_) => {}
        }
    }

    /// Copies an object's bytes to a new address (S3 CopyObject on the S3 blockstore).
    pub(crate) async fn copy_data(&self, src: &str, dst: &str) -> ApiResult<()> {
        match self.s3_for(dst)? {
            Some(s3) => s3.copy(src, dst).await.map_err(data_gone),
            None => {
                self.blobs
                    .copy(&self.blobs.path_of(src)?, &self.blobs.path_for_write(dst)?)
                    .await
                    .map_err(data_gone)?;
                Ok(())
            }
        }
    }
}

/// The `/blob/…` URL path of a `local://…` address (each segment encoded once).
fn blob_path(address: &str) -> String {
    let rel = address.strip_prefix(super::blob::SCHEME).unwrap_or(address);
    let encoded: Vec<String> = rel
        .split('/')
        .map(|seg| percent_encoding::utf8_percent_encode(seg, super::http::QUERY_VALUE).to_string())
        .collect();
    format!("/blob/{}", encoded.join("/"))
}
