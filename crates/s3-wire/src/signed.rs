//! What a verified signature yields, whichever version signed it (SigV4 in `sigv4`, SigV2 in
//! `sigv2`): the key, how the payload is to be checked while streaming, the chunk-signature seed.

use crate::error::S3Error;
use crate::s3_err;
use std::time::Duration;

/// The largest clock difference S3 tolerates.
pub const MAX_SKEW: Duration = Duration::from_secs(15 * 60);

/// What the signature says about the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayloadMode {
    /// `UNSIGNED-PAYLOAD` (and presigned URLs).
    Unsigned,
    /// A hex SHA-256 the body must hash to (`XAmzContentSHA256Mismatch` otherwise).
    Sha256(String),
    /// `aws-chunked`: `STREAMING-[UNSIGNED|AWS4-HMAC-SHA256]-PAYLOAD[-TRAILER]`.
    Streaming { signed: bool, trailer: bool },
}

/// What chunk signatures are chained from (signed streaming uploads).
#[derive(Clone)]
pub struct ChunkSeed {
    pub signing_key: Vec<u8>,
    pub amz_date: String,
    pub scope: String,
    pub seed_signature: String,
}

impl std::fmt::Debug for ChunkSeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChunkSeed")
            .field("amz_date", &self.amz_date)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

/// A request whose signature checked out.
#[derive(Debug, Clone)]
pub struct Verified<K> {
    pub access_key_id: String,
    /// The key that signed, as the key store or the session token gave it.
    pub key: K,
    pub payload: PayloadMode,
    pub seed: ChunkSeed,
    pub presigned: bool,
}

pub fn signature_mismatch() -> S3Error {
    s3_err!(
        SignatureDoesNotMatch,
        "The request signature we calculated does not match the signature you provided. Check your key and signing method."
    )
}
