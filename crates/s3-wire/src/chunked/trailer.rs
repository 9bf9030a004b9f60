//! The trailing-header block after the final zero-length chunk: which lines may appear, the
//! canonical form that is signed, and the 400s for a trailer that breaks the request's declaration
//! ("Signature calculations for trailing headers (chunked uploads)", Amazon S3 API Reference).
//!
//! Only the checksum named by `x-amz-trailer` may appear (plus `x-amz-trailer-signature` on the
//! signed-trailer variant), each at most once, and the block is capped at [`MAX_TRAILER_BYTES`].
//! S3 answers trailer problems with `MalformedTrailerError`, which lakegate does not model; they
//! are `InvalidRequest` here. A wrong trailer signature is `SignatureDoesNotMatch`.

use super::sig::{Chain, parse_signature};
use crate::checksum::ChecksumAlgorithm;
use crate::error::{S3Error, S3Result};
use crate::s3_err;

/// The largest trailer block accepted (all lines with their line ends).
pub const MAX_TRAILER_BYTES: usize = 16 * 1024;
const SIGNATURE_HEADER: &str = "x-amz-trailer-signature";

/// Trailer lines read so far.
pub(super) struct Trailers {
    declared: Option<ChecksumAlgorithm>,
    signed: bool,
    /// Bytes of the block so far, line ends included.
    size: usize,
    checksum: Option<String>,
    /// `x-amz-trailer-signature`: `Some(None)` when present but not 64 hex digits.
    signature: Option<Option<[u8; 32]>>,
    /// `name:value\n` of every line but the signature, in arrival order.
    canonical: Vec<u8>,
}

fn malformed(detail: &str) -> S3Error {
    s3_err!(InvalidRequest, "The request contained trailing data that was not well-formed: {detail}")
}

impl Trailers {
    pub(super) fn new(declared: Option<ChecksumAlgorithm>, signed: bool) -> Trailers {
        Trailers { declared, signed, size: 0, checksum: None, signature: None, canonical: Vec::new() }
    }

    /// How many more bytes the block may hold.
    pub(super) fn room(&self) -> usize {
        MAX_TRAILER_BYTES.saturating_sub(self.size)
    }

    /// Takes one non-empty trailer line (without its line end).
    pub(super) fn push_line(&mut self, line: &[u8]) -> S3Result<()> {
        self.size += line.len() + 2;
        if self.size > MAX_TRAILER_BYTES {
            return Err(malformed("the trailer block is larger than 16 KiB"));
        }
        let line = std::str::from_utf8(line).map_err(|_| malformed("a trailer line is not UTF-8"))?;
        let (name, value) = line.split_once(':').ok_or_else(|| malformed("a trailer line has no ':'"))?;
        let (name, value) = (name.trim().to_ascii_lowercase(), value.trim());
        if name == SIGNATURE_HEADER && self.signed {
            if self.signature.replace(parse_signature(value.as_bytes())).is_some() {
                return Err(malformed("x-amz-trailer-signature appears twice"));
            }
            return Ok(());
        }
        let alg = self.declared.filter(|alg| alg.header_name() == name);
        let alg =
            alg.ok_or_else(|| s3_err!(InvalidRequest, "The trailing header {name} was not declared in x-amz-trailer"))?;
        if alg.decode_value(value).is_none() {
            return Err(s3_err!(InvalidRequest, "Value for {name} trailing header is invalid."));
        }
        if self.checksum.replace(value.to_owned()).is_some() {
            return Err(malformed(&format!("{name} appears twice")));
        }
        self.canonical.extend_from_slice(format!("{name}:{value}\n").as_bytes());
        Ok(())
    }

    /// Checks the complete block and returns the trailer checksum value, if one was declared.
    ///
    /// `chain` is the signature chain of a signed upload, positioned after the final chunk.
    pub(super) fn finish(self, chain: Option<&Chain>) -> S3Result<Option<String>> {
        if let Some(alg) = self.declared
            && self.checksum.is_none()
        {
            let name = alg.header_name();
            return Err(s3_err!(InvalidRequest, "The x-amz-trailer header named {name}, but the trailer lacks it"));
        }
        if self.signed {
            let chain = chain.ok_or_else(|| S3Error::internal("a signed trailer needs chunk signing"))?;
            match self.signature {
                Some(Some(signature)) => chain.verify_trailer(&self.canonical, signature)?,
                // Not 64 hex digits: it cannot match whatever we compute.
                Some(None) => chain.verify_trailer(&self.canonical, [0; 32])?,
                None if self.checksum.is_some() => return Err(malformed("x-amz-trailer-signature is missing")),
                None => {}
            }
        }
        Ok(self.checksum)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::S3ErrorCode;

    fn code(r: S3Result<()>) -> S3ErrorCode {
        r.expect_err("should be rejected").code
    }

    #[test]
    fn accepts_the_declared_checksum_once() {
        let mut t = Trailers::new(Some(ChecksumAlgorithm::Crc32), false);
        t.push_line(b"X-Amz-Checksum-Crc32: DUoRhQ==").unwrap();
        assert_eq!(t.canonical, b"x-amz-checksum-crc32:DUoRhQ==\n");
        assert_eq!(code(t.push_line(b"x-amz-checksum-crc32:DUoRhQ==")), S3ErrorCode::InvalidRequest);
        let mut t = Trailers::new(Some(ChecksumAlgorithm::Crc32), false);
        t.push_line(b"x-amz-checksum-crc32:DUoRhQ==").unwrap();
        assert_eq!(t.finish(None).unwrap().as_deref(), Some("DUoRhQ=="));
    }

    #[test]
    fn rejects_undeclared_malformed_missing_and_oversized_trailers() {
        let crc32 = Some(ChecksumAlgorithm::Crc32);
        let mut t = Trailers::new(crc32, false);
        assert_eq!(code(t.push_line(b"x-amz-checksum-sha1:Kq5sNclPz7QV2+lfQIuc6R7oRu0=")), S3ErrorCode::InvalidRequest);
        assert_eq!(code(t.push_line(b"x-amz-trailer-signature:00")), S3ErrorCode::InvalidRequest, "unsigned variant");
        assert_eq!(code(t.push_line(b"x-amz-checksum-crc32:DUoRhQ")), S3ErrorCode::InvalidRequest);
        assert_eq!(code(t.push_line(b"no colon")), S3ErrorCode::InvalidRequest);
        assert_eq!(
            code(Trailers::new(None, false).push_line(b"x-amz-checksum-crc32:DUoRhQ==")),
            S3ErrorCode::InvalidRequest
        );
        assert_eq!(Trailers::new(crc32, false).finish(None).unwrap_err().code, S3ErrorCode::InvalidRequest);
        assert_eq!(Trailers::new(None, false).finish(None).unwrap(), None);
        let mut t = Trailers::new(crc32, false);
        let long = vec![b'x'; MAX_TRAILER_BYTES];
        assert_eq!(code(t.push_line(&long)), S3ErrorCode::InvalidRequest);
    }
}
