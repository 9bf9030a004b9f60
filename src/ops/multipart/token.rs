//! Upload ids as signed tokens. The `UploadId` lakegate hands out is `<payload>.<mac>`: the payload
//! (base64url JSON) carries everything later calls need — lakeFS's upload id and physical address,
//! repository/branch/path, content type, user metadata, checksum algorithm and type — and the MAC
//! is HMAC-SHA256 (truncated to 128 bits) under a gateway key. Any replica holding the key, or a
//! restarted gateway, can serve UploadPart/Complete/Abort; a forged or altered id is `NoSuchUpload`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, Mac};
use lakegate_net::util::constant_time_eq;
use s3_wire::s3_err;
use s3_wire::{S3Error, S3Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// How long an upload stays usable: lakeFS's window for linking a physical address (24 h).
pub const UPLOAD_WINDOW_SECS: i64 = 24 * 3600;
const MAC_LEN: usize = 16;

/// What an upload id carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadToken {
    #[serde(rename = "r")]
    pub repo: String,
    #[serde(rename = "b")]
    pub branch: String,
    #[serde(rename = "p")]
    pub path: String,
    /// lakeFS's upload id; empty for a spooled upload.
    #[serde(rename = "u", default)]
    pub lakefs_id: String,
    /// The physical address from `createPresignMultipartUpload`; empty for a spooled upload.
    #[serde(rename = "a", default)]
    pub address: String,
    #[serde(rename = "t")]
    pub content_type: String,
    #[serde(rename = "m", default)]
    pub metadata: BTreeMap<String, String>,
    /// `x-amz-checksum-algorithm` of the upload (`CRC32`, …).
    #[serde(rename = "c", default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<String>,
    /// `x-amz-checksum-type`: `COMPOSITE` or `FULL_OBJECT`.
    #[serde(rename = "k", default, skip_serializing_if = "Option::is_none")]
    pub checksum_type: Option<String>,
    /// Parts are spooled by lakegate (storage without presigned multipart).
    #[serde(rename = "s", default)]
    pub spool: bool,
    /// Initiation time, Unix milliseconds.
    #[serde(rename = "i")]
    pub initiated_ms: i64,
    /// Makes every id unique.
    #[serde(rename = "n")]
    pub nonce: String,
}

/// Signs and checks upload ids.
#[derive(Clone)]
pub struct TokenKey(Vec<u8>);

fn no_such_upload() -> S3Error {
    s3_err!(
        NoSuchUpload,
        "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed."
    )
}

impl TokenKey {
    pub fn new(key: Vec<u8>) -> TokenKey {
        TokenKey(key)
    }

    fn mac(&self, payload: &str) -> Vec<u8> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(payload.as_bytes());
        mac.finalize().into_bytes()[..MAC_LEN].to_vec()
    }

    /// The upload id for `token`.
    pub fn seal(&self, token: &UploadToken) -> S3Result<String> {
        let json = serde_json::to_vec(token).map_err(S3Error::internal)?;
        let payload = B64.encode(json);
        let mac = B64.encode(self.mac(&payload));
        Ok(format!("{payload}.{mac}"))
    }

    /// The token an upload id carries, if this key signed it and it is still in its window.
    pub fn open(&self, upload_id: &str, now_ms: i64) -> S3Result<UploadToken> {
        let token = self.open_any(upload_id)?;
        if now_ms - token.initiated_ms > UPLOAD_WINDOW_SECS * 1000 {
            return Err(no_such_upload());
        }
        Ok(token)
    }

    /// The token an upload id carries, if this key signed it, however old it is.
    pub fn open_any(&self, upload_id: &str) -> S3Result<UploadToken> {
        let (payload, mac) = upload_id.split_once('.').ok_or_else(no_such_upload)?;
        let mac = B64.decode(mac).map_err(|_| no_such_upload())?;
        if !constant_time_eq(&mac, &self.mac(payload)) {
            return Err(no_such_upload());
        }
        let json = B64.decode(payload).map_err(|_| no_such_upload())?;
        serde_json::from_slice(&json).map_err(|_| no_such_upload())
    }
}

/// A short, file-name-safe digest of an upload id (registry and spool keys).
pub fn upload_digest(upload_id: &str) -> String {
    hex::encode(&Sha256::digest(upload_id.as_bytes())[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token() -> UploadToken {
        UploadToken {
            repo: "repo".into(),
            branch: "main".into(),
            path: "a/b.bin".into(),
            lakefs_id: "lakefs-upload".into(),
            address: "s3://bucket/data/x".into(),
            content_type: "text/plain".into(),
            metadata: [("X-Amz-Meta-K".to_string(), "v".to_string())].into(),
            checksum: Some("CRC32".into()),
            checksum_type: None,
            spool: false,
            initiated_ms: 1_000_000,
            nonce: "n1".into(),
        }
    }

    #[test]
    fn sealed_ids_open_with_the_same_key_only() {
        let key = TokenKey::new(b"k1".to_vec());
        let id = key.seal(&token()).unwrap();
        assert_eq!(key.open(&id, 1_000_000).unwrap(), token());
        let other = TokenKey::new(b"k2".to_vec());
        assert_eq!(other.open(&id, 1_000_000).unwrap_err().code, s3_wire::S3ErrorCode::NoSuchUpload);
    }

    #[test]
    fn altered_garbage_and_expired_ids_are_no_such_upload() {
        let key = TokenKey::new(b"k1".to_vec());
        let id = key.seal(&token()).unwrap();
        let (payload, mac) = id.split_once('.').unwrap();
        let mut forged = token();
        forged.repo = "other".into();
        let forged_payload = B64.encode(serde_json::to_vec(&forged).unwrap());
        let late = 1_000_000 + UPLOAD_WINDOW_SECS * 1000 + 1;
        for bad in [
            format!("{forged_payload}.{mac}"),
            format!("{payload}.{}", B64.encode([0u8; 16])),
            "nodot".to_string(),
            "a.b".to_string(),
            String::new(),
        ] {
            assert_eq!(key.open(&bad, 1_000_000).unwrap_err().code, s3_wire::S3ErrorCode::NoSuchUpload, "{bad}");
        }
        assert_eq!(key.open(&id, late).unwrap_err().code, s3_wire::S3ErrorCode::NoSuchUpload);
    }

    #[test]
    fn digests_are_stable_and_short() {
        assert_eq!(upload_digest("x"), upload_digest("x"));
        assert_eq!(upload_digest("x").len(), 32);
        assert_ne!(upload_digest("x"), upload_digest("y"));
    }
}
