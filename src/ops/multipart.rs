//! Multipart uploads (Amazon S3 API Reference: CreateMultipartUpload, UploadPart, UploadPartCopy,
//! CompleteMultipartUpload, AbortMultipartUpload, ListParts, ListMultipartUploads) on lakeFS's
//! presigned multipart upload API (`…/branches/{branch}/staging/pmpu`): parts go straight to the
//! object store through URLs lakeFS presigns for each part just before it is sent.
//!
//! Upload ids are signed, self-contained tokens ([`token`]), so any replica sharing the key — or a
//! restarted lakegate — serves any upload; the [`registry`] remembers uploads and parts for the
//! two listing operations. Storage without presigned multipart (`pre_sign_multipart_upload: false`)
//! gets its parts [`spool`]ed on local disk and uploaded once on Complete.

pub mod complete;
pub mod keepalive;
pub mod listing;
pub mod part;
mod part_list;
pub mod registry;
pub mod spool;
pub mod sweep;
pub mod token;

use super::datapath::store;
use super::errors::{Missing, map_lakefs};
use super::headers::value;
use super::put::{DEFAULT_CONTENT_TYPE, object_metadata, refuse_unsupported};
use super::target::Target;
use super::{Ctx, split_write_key};
use http::{HeaderMap, Response, StatusCode};
use lakegate_net::body::{Body, empty};
use registry::{Registry, UploadRecord};
use s3_wire::checksum::ChecksumAlgorithm;
use s3_wire::s3_err;
use s3_wire::xml::{XMLNS, to_xml, xml_response};
use s3_wire::{S3Error, S3Result};
use serde::Serialize;
use spool::Spool;
use std::path::Path;
use std::sync::Arc;
use token::{TokenKey, UploadToken, upload_digest};

/// What multipart uploads share across requests.
pub struct Multipart {
    pub key: TokenKey,
    pub registry: Arc<Registry>,
    pub spool: Spool,
}

/// Setting up the multipart state failed.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("state directory {0}: {1}")]
    Io(String, std::io::Error),
    #[error("upload id key file {0}: {1}")]
    Key(String, String),
    #[error(transparent)]
    Registry(#[from] registry::RegistryError),
}

impl Multipart {
    /// Opens the registry and spool under `state_dir`; the upload id key comes from `key_file`,
    /// or from `<state_dir>/upload-id.key` (created on first start).
    pub fn open(state_dir: &Path, key_file: Option<&Path>, spool_max: u64) -> Result<Multipart, StateError> {
        let io = |e| StateError::Io(state_dir.display().to_string(), e);
        std::fs::create_dir_all(state_dir).map_err(io)?;
        let key = match key_file {
            Some(f) => read_key(f)?,
            None => key_or_init(&state_dir.join("upload-id.key"))?,
        };
        let registry = Registry::open(&state_dir.join("uploads.redb"))?;
        let spool = Spool::open(&state_dir.join("spool"), spool_max).map_err(io)?;
        Ok(Multipart { key: TokenKey::new(key), registry: Arc::new(registry), spool })
    }
}

pub(crate) fn read_key(file: &Path) -> Result<Vec<u8>, StateError> {
    let err = |m: String| StateError::Key(file.display().to_string(), m);
    let text = std::fs::read_to_string(file).map_err(|e| err(e.to_string()))?;
    let key = text.trim();
    if key.len() < 32 {
        return Err(err("the key must be at least 32 characters".into()));
    }
    Ok(key.as_bytes().to_vec())
}

fn key_or_init(file: &Path) -> Result<Vec<u8>, StateError> {
    if !file.exists() {
        let key = hex::encode(rand::random::<[u8; 32]>());
        let tmp = file.with_extension("tmp");
        std::fs::write(&tmp, key)
            .and_then(|_| std::fs::rename(&tmp, file))
            .map_err(|e| StateError::Io(file.display().to_string(), e))?;
    }
    read_key(file)
}

/// Runs a registry call on a blocking thread.
pub(crate) async fn registry<T: Send + 'static>(
    ctx: &Ctx<'_>,
    f: impl FnOnce(&Registry) -> registry::Result<T> + Send + 'static,
) -> S3Result<T> {
    let reg = ctx.gw.multipart.registry.clone();
    tokio::task::spawn_blocking(move || f(&reg)).await.map_err(S3Error::internal)?.map_err(S3Error::internal)
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// An upload addressed by bucket, key and upload id: its token and digest, or `NoSuchUpload`
/// when the id is not ours or names another object.
pub(crate) fn open_upload(ctx: &Ctx<'_>, t: &Target, key: &str, upload_id: &str) -> S3Result<(UploadToken, String)> {
    let token = ctx.gw.multipart.key.open(upload_id, now_ms())?;
    if token.repo != t.repo || format!("{}/{}", token.branch, token.path) != t.key(key) {
        return Err(s3_err!(NoSuchUpload, "The specified upload does not exist for this key."));
    }
    Ok((token, upload_digest(upload_id)))
}

/// A spooled upload lives on the lakegate that created it: once its registry record is gone
/// (aborted or completed) its id is spent, whatever the token says.
pub(crate) async fn ensure_spool_open(ctx: &Ctx<'_>, digest: &str) -> S3Result<()> {
    let d = digest.to_string();
    match registry(ctx, move |r| r.parts(&d)).await? {
        Some(_) => Ok(()),
        None => Err(s3_err!(
            NoSuchUpload,
            "The specified upload does not exist (aborted, completed, or created by another lakegate)."
        )),
    }
}

/// The upload's checksum algorithm and type from `x-amz-checksum-algorithm`/`-type`.
fn requested_checksum(h: &HeaderMap) -> S3Result<(Option<ChecksumAlgorithm>, Option<String>)> {
    let text = |n: &str| h.get(n).and_then(|v| v.to_str().ok()).map(str::trim);
    let alg = match text("x-amz-checksum-algorithm") {
        None => None,
        Some(a) => Some(ChecksumAlgorithm::from_sdk_name(a).ok_or_else(|| {
            s3_err!(InvalidRequest, "Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]")
        })?),
    };
    let kind = text("x-amz-checksum-type").map(str::to_ascii_uppercase);
    use ChecksumAlgorithm::*;
    match (alg, kind.as_deref()) {
        (None, None) => Ok((None, None)),
        (None, Some(_)) => Err(s3_err!(
            InvalidRequest,
            "The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header."
        )),
        (Some(Crc64Nvme), None | Some("FULL_OBJECT")) => Ok((alg, Some("FULL_OBJECT".into()))),
        (Some(Sha1 | Sha256 | Crc32 | Crc32c), None | Some("COMPOSITE")) => Ok((alg, Some("COMPOSITE".into()))),
        (Some(Crc32 | Crc32c), Some("FULL_OBJECT")) => Ok((alg, Some("FULL_OBJECT".into()))),
        (Some(a), Some(k)) => Err(s3_err!(InvalidRequest, "The {a} algorithm does not support checksum type {k}.")),
    }
}

#[derive(Serialize)]
struct InitiateMultipartUploadResult<'a> {
    #[serde(rename = "@xmlns")]
    xmlns: &'static str,
    #[serde(rename = "Bucket")]
    bucket: &'a str,
    #[serde(rename = "Key")]
    key: &'a str,
    #[serde(rename = "UploadId")]
    upload_id: &'a str,
}

/// CreateMultipartUpload.
pub async fn handle_create_multipart_upload(
    ctx: &Ctx<'_>,
    t: &Target,
    (bucket, key): (&str, &str),
) -> S3Result<Response<Body>> {
    let full_key = t.key(key);
    let (branch, path) = split_write_key(&full_key)?;
    let h = &ctx.parts.headers;
    refuse_unsupported(h)?;
    let (checksum, checksum_type) = requested_checksum(h)?;
    let content_type = h.get("content-type").and_then(|v| v.to_str().ok()).filter(|c| !c.is_empty());
    let mut token = UploadToken {
        repo: t.repo.clone(),
        branch: branch.to_string(),
        path: path.to_string(),
        lakefs_id: String::new(),
        address: String::new(),
        content_type: content_type.unwrap_or(DEFAULT_CONTENT_TYPE).to_string(),
        metadata: object_metadata(h)?,
        checksum: checksum.map(|a| a.sdk_name().to_string()),
        checksum_type: checksum_type.clone(),
        spool: !store::multipart_supported(ctx, &t.repo).await?,
        initiated_ms: now_ms(),
        nonce: hex::encode(rand::random::<[u8; 8]>()),
    };
    let lakefs = &ctx.lakefs;
    if token.spool {
        lakefs.get_branch(&t.repo, branch).await.map_err(|e| map_lakefs(e, Missing::Bucket))?;
    } else {
        let created = lakefs
            .create_presign_multipart_upload(&t.repo, branch, path, None)
            .await
            .map_err(|e| map_lakefs(e, Missing::Bucket))?;
        (token.lakefs_id, token.address) = (created.upload_id, created.physical_address);
    }
    let upload_id = ctx.gw.multipart.key.seal(&token)?;
    let record = UploadRecord { upload_id: upload_id.clone(), initiated_ms: token.initiated_ms };
    let (repo, digest) = (t.repo.clone(), upload_digest(&upload_id));
    registry(ctx, move |r| r.add_upload(&repo, &full_key, &digest, &record)).await?;
    let xml = InitiateMultipartUploadResult { xmlns: XMLNS, bucket, key, upload_id: &upload_id };
    let mut resp = xml_response(to_xml("InitiateMultipartUploadResult", &xml)?);
    if let (Some(alg), Some(kind)) = (checksum, checksum_type) {
        resp.headers_mut().insert("x-amz-checksum-algorithm", value(alg.sdk_name())?);
        resp.headers_mut().insert("x-amz-checksum-type", value(&kind)?);
    }
    Ok(resp)
}

/// AbortMultipartUpload: the upload and its parts are dropped; nothing becomes visible.
pub async fn handle_abort_multipart_upload(
    ctx: &Ctx<'_>,
    t: &Target,
    key: &str,
    upload_id: &str,
) -> S3Result<Response<Body>> {
    let (token, digest) = open_upload(ctx, t, key, upload_id)?;
    if token.spool {
        ensure_spool_open(ctx, &digest).await?;
        ctx.gw.multipart.spool.remove(&digest).await;
    } else {
        let abort = lakefs_api::dto::AbortPresignMultipartUpload { physical_address: token.address.clone() };
        let aborted = ctx
            .lakefs
            .abort_presign_multipart_upload(&token.repo, &token.branch, &token.path, &token.lakefs_id, &abort)
            .await;
        match aborted {
            Err(e)
                if e.status() == Some(StatusCode::NOT_FOUND)
                    || crate::ops::errors::store_verdict(&e) == Some(s3_wire::S3ErrorCode::NoSuchUpload) =>
            {
                registry(ctx, move |r| r.remove(&digest)).await?;
                return Err(s3_err!(NoSuchUpload, "The specified upload does not exist."));
            }
            other => other.map_err(|e| map_lakefs(e, Missing::Bucket))?,
        }
    }
    registry(ctx, move |r| r.remove(&digest)).await?;
    let mut resp = Response::new(empty());
    *resp.status_mut() = StatusCode::NO_CONTENT;
    Ok(resp)
}
