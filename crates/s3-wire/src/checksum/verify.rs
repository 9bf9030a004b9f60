//! Verifying an upload while it streams: [`PayloadVerifier`] hashes every byte once (MD5 always,
//! because the MD5 hex is the object's ETag; SHA-256 only when `x-amz-content-sha256` carries a
//! real hash; the one additional checksum the request declared) and [`PayloadVerifier::finish`]
//! compares at end of stream. Callers must commit the object only after `finish` succeeds.
//!
//! Errors follow "Error responses" (Amazon S3 API Reference) and what S3 answers on the wire:
//! `XAmzContentSHA256Mismatch`, `BadDigest` (Content-MD5 or checksum mismatch, "The CRC32 you
//! specified did not match the calculated checksum."), `InvalidDigest` (malformed Content-MD5).

use super::{ChecksumAlgorithm, Checksummer};
use crate::error::{S3Error, S3Result};
use crate::s3_err;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use md5::{Digest as _, Md5};
use sha2::Sha256;

/// What the request said the payload hashes to; every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expected {
    /// `x-amz-content-sha256` when it is a hex SHA-256 (not `UNSIGNED-PAYLOAD`/`STREAMING-*`).
    pub content_sha256: Option<String>,
    /// `Content-MD5`: base64 of the 16 MD5 bytes.
    pub content_md5: Option<String>,
    /// The additional checksum value (base64), from its header or the aws-chunked trailer.
    pub checksum: Option<String>,
}

/// What the payload hashed to, for the response and the object's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digests {
    /// Lowercase hex MD5: the S3 ETag of a single-part object (without quotes); `None` when the
    /// verifier was told to skip it (the object store reports it).
    pub md5_hex: Option<String>,
    /// Lowercase hex SHA-256, when it was computed.
    pub sha256_hex: Option<String>,
    /// The additional checksum and its value as S3 returns it in `x-amz-checksum-*`.
    pub checksum: Option<(ChecksumAlgorithm, String)>,
}

/// Hashes a payload as it streams; see the module docs.
#[derive(Clone)]
pub struct PayloadVerifier {
    md5: Option<Md5>,
    sha256: Option<Sha256>,
    checksum: Option<Checksummer>,
}

/// The 16 bytes of a `Content-MD5` value.
///
/// # Errors
/// `InvalidDigest` when it is not base64 of exactly 16 bytes (check it before streaming).
pub fn parse_content_md5(value: &str) -> S3Result<[u8; 16]> {
    let bytes = BASE64.decode(value.trim()).ok().and_then(|b| <[u8; 16]>::try_from(b).ok());
    bytes.ok_or_else(|| s3_err!(InvalidDigest, "The Content-MD5 you specified was invalid."))
}

impl PayloadVerifier {
    /// A verifier computing SHA-256 when `sha256` is set and `checksum` when given.
    pub fn new(sha256: bool, checksum: Option<ChecksumAlgorithm>) -> PayloadVerifier {
        PayloadVerifier {
            md5: Some(Md5::new()),
            sha256: sha256.then(Sha256::new),
            checksum: checksum.map(Checksummer::new),
        }
    }

    /// The same verifier without MD5 (the costliest hash: ~70 % of a PUT's CPU), for a body whose
    /// MD5 nobody asked to check and the object store computes anyway.
    pub fn without_md5(self) -> PayloadVerifier {
        PayloadVerifier { md5: None, ..self }
    }

    /// The additional checksum being computed, if any.
    pub fn checksum_algorithm(&self) -> Option<ChecksumAlgorithm> {
        self.checksum.as_ref().map(Checksummer::algorithm)
    }

    pub fn update(&mut self, data: &[u8]) {
        if let Some(md5) = &mut self.md5 {
            md5.update(data);
        }
        if let Some(sha) = &mut self.sha256 {
            sha.update(data);
        }
        if let Some(c) = &mut self.checksum {
            c.update(data);
        }
    }

    /// Finishes every hash and checks each expectation: SHA-256 first, then Content-MD5, then the
    /// additional checksum.
    ///
    /// # Errors
    /// `XAmzContentSHA256Mismatch`, `InvalidDigest`, `BadDigest` as in the module docs;
    /// `InvalidRequest` for a malformed checksum value; `InternalError` when an expectation names
    /// a hash this verifier was not asked to compute (a caller bug).
    pub fn finish(self, expected: &Expected) -> S3Result<Digests> {
        let sha256 = self.sha256.map(|s| s.finalize().to_vec());
        check_sha256(sha256.as_deref(), expected.content_sha256.as_deref())?;
        let md5 = self.md5.map(|m| m.finalize());
        if let Some(want) = &expected.content_md5 {
            let md5 = md5.as_ref().ok_or_else(|| S3Error::internal("Content-MD5 expected but MD5 not computed"))?;
            if parse_content_md5(want)? != md5.as_slice() {
                return Err(s3_err!(BadDigest, "The Content-MD5 you specified did not match what we received."));
            }
        }
        let checksum = self.checksum.map(|c| (c.algorithm(), c.finalize_bytes()));
        let checksum = check_checksum(checksum, expected.checksum.as_deref())?;
        Ok(Digests { md5_hex: md5.map(hex::encode), sha256_hex: sha256.map(hex::encode), checksum })
    }
}

fn check_sha256(computed: Option<&[u8]>, expected: Option<&str>) -> S3Result<()> {
    let Some(want) = expected else {
        return Ok(());
    };
    let computed = computed.ok_or_else(|| S3Error::internal("x-amz-content-sha256 expected but not computed"))?;
    // A value that is not hex cannot match; compare decoded bytes so hex case does not matter.
    if hex::decode(want.trim()).ok().as_deref() != Some(computed) {
        return Err(s3_err!(
            XAmzContentSHA256Mismatch,
            "The provided 'x-amz-content-sha256' header does not match what was computed."
        ));
    }
    Ok(())
}

fn check_checksum(
    computed: Option<(ChecksumAlgorithm, Vec<u8>)>,
    expected: Option<&str>,
) -> S3Result<Option<(ChecksumAlgorithm, String)>> {
    let Some((alg, bytes)) = computed else {
        return match expected {
            Some(_) => Err(S3Error::internal("a checksum value was expected but no algorithm was computed")),
            None => Ok(None),
        };
    };
    if let Some(want) = expected {
        let want = alg
            .decode_value(want)
            .ok_or_else(|| s3_err!(InvalidRequest, "Value for {} header is invalid.", alg.header_name()))?;
        if want != bytes {
            return Err(s3_err!(BadDigest, "The {alg} you specified did not match the calculated checksum."));
        }
    }
    Ok(Some((alg, BASE64.encode(bytes))))
}

impl std::fmt::Debug for PayloadVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PayloadVerifier")
            .field("sha256", &self.sha256.is_some())
            .field("checksum", &self.checksum_algorithm())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::S3ErrorCode;

    // "hello world": MD5, SHA-256 and CRC32 from python3 hashlib / zlib (see checksum.rs tests).
    const MD5_HEX: &str = "5eb63bbbe01eeed093cb22bb8f5acdc3";
    const MD5_B64: &str = "XrY7u+Ae7tCTyyK7j1rNww==";
    const SHA256_HEX: &str = "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9";

    fn verify(sha256: bool, alg: Option<ChecksumAlgorithm>, expected: Expected) -> S3Result<Digests> {
        let mut v = PayloadVerifier::new(sha256, alg);
        v.update(b"hello ");
        v.update(b"world");
        v.finish(&expected)
    }

    fn code(r: S3Result<Digests>) -> S3ErrorCode {
        r.expect_err("should fail").code
    }

    #[test]
    fn matching_expectations_pass_and_report_digests() {
        let expected = Expected {
            content_sha256: Some(SHA256_HEX.to_uppercase()),
            content_md5: Some(MD5_B64.into()),
            checksum: Some("DUoRhQ==".into()),
        };
        let d = verify(true, Some(ChecksumAlgorithm::Crc32), expected).unwrap();
        assert_eq!(d.md5_hex.as_deref(), Some(MD5_HEX));
        assert_eq!(d.sha256_hex.as_deref(), Some(SHA256_HEX));
        assert_eq!(d.checksum, Some((ChecksumAlgorithm::Crc32, "DUoRhQ==".into())));
        // Nothing expected: MD5 only.
        let d = verify(false, None, Expected::default()).unwrap();
        assert_eq!((d.md5_hex.as_deref(), d.sha256_hex, d.checksum), (Some(MD5_HEX), None, None));
    }

    #[test]
    fn md5_can_be_skipped_unless_content_md5_is_expected() {
        let mut v = PayloadVerifier::new(false, Some(ChecksumAlgorithm::Crc32)).without_md5();
        v.update(b"hello world");
        let d = v.clone().finish(&Expected::default()).unwrap();
        assert_eq!((d.md5_hex, d.checksum), (None, Some((ChecksumAlgorithm::Crc32, "DUoRhQ==".into()))));
        let want = Expected { content_md5: Some(MD5_B64.into()), ..Expected::default() };
        assert_eq!(v.finish(&want).unwrap_err().code, S3ErrorCode::InternalError);
    }

    #[test]
    fn mismatches_use_s3_codes_and_messages() {
        let sha = |v: &str| Expected { content_sha256: Some(v.into()), ..Expected::default() };
        assert_eq!(code(verify(true, None, sha(&"0".repeat(64)))), S3ErrorCode::XAmzContentSHA256Mismatch);
        assert_eq!(code(verify(true, None, sha("zz"))), S3ErrorCode::XAmzContentSHA256Mismatch);
        let md5 = |v: &str| Expected { content_md5: Some(v.into()), ..Expected::default() };
        assert_eq!(code(verify(false, None, md5("1B2M2Y8AsgTpgAmY7PhCfg=="))), S3ErrorCode::BadDigest);
        assert_eq!(code(verify(false, None, md5("not base64"))), S3ErrorCode::InvalidDigest);
        assert_eq!(code(verify(false, None, md5("AAAA"))), S3ErrorCode::InvalidDigest);
        let sum = |v: &str| Expected { checksum: Some(v.into()), ..Expected::default() };
        let err = verify(false, Some(ChecksumAlgorithm::Crc32), sum("AAAAAA==")).unwrap_err();
        assert_eq!(err.code, S3ErrorCode::BadDigest);
        assert_eq!(err.message, "The CRC32 you specified did not match the calculated checksum.");
        assert_eq!(code(verify(false, Some(ChecksumAlgorithm::Crc32), sum("AAAA"))), S3ErrorCode::InvalidRequest);
        assert_eq!(code(verify(false, None, sum("AAAAAA=="))), S3ErrorCode::InternalError);
        assert_eq!(code(verify(false, None, sha(SHA256_HEX))), S3ErrorCode::InternalError);
    }
}
