//! The chunk and trailer signature math of aws-chunked uploads ("Signature Calculations for the
//! Authorization Header: Transferring Payload in Multiple Chunks (Chunked Upload)" and "…
//! Including Trailing Headers", Amazon S3 API Reference), and the running chain a decoder keeps.
//!
//! chunk string-to-sign = `AWS4-HMAC-SHA256-PAYLOAD\n<amz-date>\n<scope>\n<previous signature>\n
//! <hex sha256("")>\n<hex sha256(chunk data)>`; trailer string-to-sign =
//! `AWS4-HMAC-SHA256-TRAILER\n<amz-date>\n<scope>\n<final chunk's signature>\n<hex sha256(trailer)>`
//! where the trailer is each trailing header as `lowercase-name:value\n`. Signature =
//! hex(HMAC-SHA256(signing key, string-to-sign)). The first chunk's "previous" is the seed
//! signature of the `Authorization` header.

use super::ChunkSigner;
use crate::error::S3Result;
use crate::s3_err;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// hex(sha256("")), the fixed fifth line of every chunk string-to-sign.
const EMPTY_SHA256_HEX: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// The string-to-sign of a chunk whose data hashes to `data_sha256_hex`.
pub fn chunk_string_to_sign(amz_date: &str, scope: &str, previous: &str, data_sha256_hex: &str) -> String {
    format!("AWS4-HMAC-SHA256-PAYLOAD\n{amz_date}\n{scope}\n{previous}\n{EMPTY_SHA256_HEX}\n{data_sha256_hex}")
}

/// The string-to-sign of the trailer block whose canonical form (`name:value\n` lines) is `canonical`.
pub fn trailer_string_to_sign(amz_date: &str, scope: &str, previous: &str, canonical: &[u8]) -> String {
    let hash = hex::encode(Sha256::digest(canonical));
    format!("AWS4-HMAC-SHA256-TRAILER\n{amz_date}\n{scope}\n{previous}\n{hash}")
}

fn mac(key: &[u8; 32], string_to_sign: &str) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts any key length");
    mac.update(string_to_sign.as_bytes());
    mac
}

/// hex(HMAC-SHA256(key, string_to_sign)).
pub fn sign(key: &[u8; 32], string_to_sign: &str) -> String {
    hex::encode(mac(key, string_to_sign).finalize().into_bytes())
}

/// The 32 bytes of a signature written as 64 hex digits (either case), or `None`.
pub fn parse_signature(text: &[u8]) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    (text.len() == 64 && hex::decode_to_slice(text, &mut out).is_ok()).then_some(out)
}

fn mismatch() -> crate::error::S3Error {
    s3_err!(
        SignatureDoesNotMatch,
        "The request signature we calculated does not match the signature you provided. Check your key and signing \
         method."
    )
}

/// The signature chain of one signed upload: hashes the current chunk as it arrives and checks
/// each claimed signature against the chain.
pub(super) struct Chain {
    signer: ChunkSigner,
    /// The last verified signature (lowercase hex); the seed before the first chunk.
    previous: String,
    claimed: [u8; 32],
    hasher: Sha256,
}

impl Chain {
    pub(super) fn new(signer: ChunkSigner) -> Chain {
        let previous = signer.seed_signature.to_ascii_lowercase();
        Chain { signer, previous, claimed: [0; 32], hasher: Sha256::new() }
    }

    /// Starts a chunk whose header claimed `signature`.
    pub(super) fn begin_chunk(&mut self, signature: [u8; 32]) {
        self.claimed = signature;
        self.hasher = Sha256::new();
    }

    pub(super) fn update(&mut self, data: &[u8]) {
        self.hasher.update(data);
    }

    /// Checks the current chunk (constant-time) and advances the chain.
    pub(super) fn finish_chunk(&mut self) -> S3Result<()> {
        let data_hash = hex::encode(std::mem::take(&mut self.hasher).finalize());
        let s = &self.signer;
        let sts = chunk_string_to_sign(&s.amz_date, &s.scope, &self.previous, &data_hash);
        mac(&s.signing_key, &sts).verify_slice(&self.claimed).map_err(|_| mismatch())?;
        self.previous = hex::encode(self.claimed);
        Ok(())
    }

    /// Checks the trailer signature against the final chunk's signature (constant-time).
    pub(super) fn verify_trailer(&self, canonical: &[u8], signature: [u8; 32]) -> S3Result<()> {
        let s = &self.signer;
        let sts = trailer_string_to_sign(&s.amz_date, &s.scope, &self.previous, canonical);
        mac(&s.signing_key, &sts).verify_slice(&signature).map_err(|_| mismatch())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_parse_in_either_case_and_only_at_full_length() {
        let sig = "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648";
        let parsed = parse_signature(sig.as_bytes()).unwrap();
        assert_eq!(hex::encode(parsed), sig);
        assert_eq!(parse_signature(sig.to_uppercase().as_bytes()), Some(parsed));
        assert_eq!(parse_signature(&sig.as_bytes()[..63]), None);
        assert_eq!(parse_signature(format!("{sig}0").as_bytes()), None);
        assert_eq!(parse_signature(sig.replace('a', "g").as_bytes()), None);
    }

    #[test]
    fn empty_hash_constant_is_sha256_of_nothing() {
        assert_eq!(hex::encode(Sha256::digest(b"")), EMPTY_SHA256_HEX);
    }
}
