//! Property tests of the decoder over all three variants: any payload, chunk size and split of the
//! body into reads decodes to the payload; any truncation is an error (never a panic or a hang);
//! any changed signature digit is `SignatureDoesNotMatch`; arbitrary bytes never panic.

use super::tests::{Encoded, encode, example_signer, run};
use super::*;
use crate::checksum::Checksummer;
use crate::error::S3ErrorCode;
use proptest::prelude::*;
use proptest::sample::Index;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Variant {
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`
    Signed,
    /// `STREAMING-UNSIGNED-PAYLOAD-TRAILER`
    UnsignedTrailer,
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER`
    SignedTrailer,
}

struct Case {
    payload: Vec<u8>,
    encoded: Encoded,
    cfg: ChunkedConfig,
    trailer: Option<String>,
}

/// Deterministic pseudo-random bytes (xorshift64), so a case is fully described by its seed.
fn bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// Splits `body` into reads of 1..=`max_read` bytes (at least 64 once the body is large, to
/// keep the suite fast), sizes drawn from `seed`.
fn split(body: &[u8], max_read: usize, seed: u64) -> Vec<Bytes> {
    let max_read = if body.len() > 32 * 1024 { max_read.max(64) } else { max_read };
    let sizes = bytes(body.len(), seed.rotate_left(17));
    let (mut reads, mut at, mut i) = (Vec::new(), 0, 0);
    while at < body.len() {
        let n = (1 + usize::from(sizes[i]) * 257 % max_read).min(body.len() - at);
        reads.push(Bytes::copy_from_slice(&body[at..at + n]));
        (at, i) = (at + n, i + 1);
    }
    reads
}

fn build(variant: Variant, len: usize, chunk: usize, seed: u64) -> Case {
    let payload = bytes(len, seed);
    // Bound the number of chunks so small chunk sizes on large payloads stay fast.
    let chunk = chunk.max(len / 2048 + 1);
    let mut crc = Checksummer::new(ChecksumAlgorithm::Crc32);
    crc.update(&payload);
    let crc = crc.finalize();
    let signer = example_signer();
    let (signing, trailer) = match variant {
        Variant::Signed => (Some(&signer), None),
        Variant::UnsignedTrailer => (None, Some(crc)),
        Variant::SignedTrailer => (Some(&signer), Some(crc)),
    };
    let trailer_line = trailer.as_deref().map(|v| ("x-amz-checksum-crc32", v));
    let trailer_signed = variant == Variant::SignedTrailer;
    let encoded = encode(&payload, chunk, signing, trailer_line, trailer_signed);
    let cfg = ChunkedConfig {
        signing: signing.cloned(),
        trailer: trailer.as_ref().map(|_| ChecksumAlgorithm::Crc32),
        trailer_signed,
        decoded_length: Some(len as u64),
    };
    Case { payload, encoded, cfg, trailer }
}

fn variant() -> impl Strategy<Value = Variant> {
    prop_oneof![Just(Variant::Signed), Just(Variant::UnsignedTrailer), Just(Variant::SignedTrailer)]
}

fn max_read() -> impl Strategy<Value = usize> {
    proptest::sample::select(vec![1usize, 3, 64, 1500, 65536])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn decodes_every_variant_under_any_split(
        variant in variant(), len in 0usize..300 * 1024, chunk in 1usize..=131_072, seed: u64, max_read in max_read(),
    ) {
        let case = build(variant, len, chunk, seed);
        let (out, trailer) = run(split(&case.encoded.body, max_read, seed), case.cfg);
        let out = out.map_err(|e| TestCaseError::fail(format!("{e}")))?;
        prop_assert!(out == case.payload, "decoded {} bytes, expected {}", out.len(), case.payload.len());
        prop_assert_eq!(trailer, case.trailer);
    }

    #[test]
    fn truncation_is_an_error(
        variant in variant(), len in 0usize..48 * 1024, chunk in 1usize..=20_000, seed: u64, max_read in max_read(),
        cut: Index,
    ) {
        let case = build(variant, len, chunk, seed);
        let body = &case.encoded.body;
        let cut = cut.index(body.len());
        let (out, _) = run(split(&body[..cut], max_read, seed), case.cfg);
        // The final CRLF may be missing (module docs); nothing else may be.
        match out {
            Ok(out) => prop_assert!(cut >= body.len() - 2 && out == case.payload, "accepted a cut at {cut}"),
            Err(err) => prop_assert!(cut < body.len() - 2, "rejected a cut at {cut}: {err}"),
        }
    }

    #[test]
    fn changed_signature_digit_is_signature_does_not_match(
        trailer: bool, len in 0usize..48 * 1024, chunk in 1usize..=20_000, seed: u64, max_read in max_read(),
        which: Index, at: Index, digit: Index,
    ) {
        let variant = if trailer { Variant::SignedTrailer } else { Variant::Signed };
        let mut case = build(variant, len, chunk, seed);
        let span = case.encoded.signatures[which.index(case.encoded.signatures.len())].clone();
        let i = span.start + at.index(span.len());
        let old = case.encoded.body[i];
        let digits: Vec<u8> = b"0123456789abcdef".iter().copied().filter(|&d| d != old).collect();
        case.encoded.body[i] = digits[digit.index(digits.len())];
        let (out, _) = run(split(&case.encoded.body, max_read, seed), case.cfg);
        prop_assert_eq!(out.map(|_| ()).map_err(|e| e.code), Err(S3ErrorCode::SignatureDoesNotMatch));
    }

    #[test]
    fn arbitrary_bytes_never_panic(variant in variant(), body in proptest::collection::vec(any::<u8>(), 0..512), seed: u64) {
        let case = build(variant, 0, 1, seed);
        let mut prefixed = b"0".to_vec();
        prefixed.extend_from_slice(&body);
        for input in [&body, &prefixed] {
            let _ = run(split(input, 7, seed), case.cfg.clone());
        }
    }
}
