//! Decoder tests: the AWS documentation example, bodies as boto3 and Java SDK v2 send them, and
//! the error cases. `encode` and `run` are shared with the property tests.

use super::*;
use crate::checksum::{Checksummer, Expected, PayloadVerifier};
use crate::error::S3ErrorCode;
use sha2::{Digest, Sha256};
use std::ops::Range;
use std::task::Waker;
use std::time::{Duration, SystemTime};

pub(super) const AMZ_DATE: &str = "20130524T000000Z";
pub(super) const SCOPE: &str = "20130524/us-east-1/s3/aws4_request";
/// Seed and chunk signatures of the AWS example ("sigv4-streaming.html", Example: PUT Object).
pub(super) const SEED: &str = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
const SIG1: &str = "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648";
const SIG2: &str = "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497";
const SIG_FINAL: &str = "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9";
/// CRC32 of the example payload and the trailer signature chained from `SIG_FINAL`, computed
/// independently with python3 (`zlib.crc32`, `hmac`/`hashlib` over `AWS4-HMAC-SHA256-TRAILER\n…`
/// with the canonical trailer `x-amz-checksum-crc32:sK4Y7A==\n`).
const EXAMPLE_CRC32: &str = "sK4Y7A==";
const EXAMPLE_TRAILER_SIG: &str = "b7e68777f543fed4632a47c5c6d795bf31c94c73eead74b5d4e94574d26a6b75";

/// The AWS example's signer: the secret `wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY` on 2013-05-24.
pub(super) fn example_signer() -> ChunkSigner {
    let day = SystemTime::UNIX_EPOCH + Duration::from_secs(1_369_353_600);
    let key =
        aws_sigv4::sign::v4::generate_signing_key("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", day, "us-east-1", "s3");
    ChunkSigner {
        signing_key: key.as_ref().try_into().unwrap(),
        amz_date: AMZ_DATE.into(),
        scope: SCOPE.into(),
        seed_signature: SEED.into(),
    }
}

/// An encoded body and where its signatures are (hex digits only).
pub(super) struct Encoded {
    pub body: Vec<u8>,
    pub signatures: Vec<Range<usize>>,
}

/// Encodes `payload` in chunks of `chunk` bytes, signed by `signer` when given, followed by a
/// `name:value` trailer when given (signed when `signer` is given and `trailer_signed`).
pub(super) fn encode(
    payload: &[u8],
    chunk: usize,
    signer: Option<&ChunkSigner>,
    trailer: Option<(&str, &str)>,
    trailer_signed: bool,
) -> Encoded {
    let mut out = Encoded { body: Vec::new(), signatures: Vec::new() };
    let mut previous = signer.map(|s| s.seed_signature.clone());
    for data in payload.chunks(chunk.max(1)).chain([&[][..]]) {
        out.body.extend_from_slice(format!("{:x}", data.len()).as_bytes());
        if let (Some(s), Some(prev)) = (signer, &mut previous) {
            let sts = chunk_string_to_sign(&s.amz_date, &s.scope, prev, &hex::encode(Sha256::digest(data)));
            *prev = sign(&s.signing_key, &sts);
            push_signature(&mut out, ";chunk-signature=", prev);
        }
        out.body.extend_from_slice(b"\r\n");
        if !data.is_empty() {
            out.body.extend_from_slice(data);
            out.body.extend_from_slice(b"\r\n");
        }
    }
    let canonical = trailer.map(|(n, v)| format!("{n}:{v}\n")).unwrap_or_default();
    out.body.extend_from_slice(canonical.replace('\n', "\r\n").as_bytes());
    if let (true, Some(s), Some(prev)) = (trailer_signed, signer, &previous) {
        let sig = sign(&s.signing_key, &trailer_string_to_sign(&s.amz_date, &s.scope, prev, canonical.as_bytes()));
        push_signature(&mut out, "x-amz-trailer-signature:", &sig);
        out.body.extend_from_slice(b"\r\n");
    }
    out.body.extend_from_slice(b"\r\n");
    out
}

fn push_signature(out: &mut Encoded, prefix: &str, signature: &str) {
    out.body.extend_from_slice(prefix.as_bytes());
    out.signatures.push(out.body.len()..out.body.len() + signature.len());
    out.body.extend_from_slice(signature.as_bytes());
}

/// Decodes `reads` (one body split into reads) to the end: the output or the first error, and the
/// trailer slot. Panics if the decoder pends on an in-memory body or yields after an error.
pub(super) fn run(reads: Vec<Bytes>, cfg: ChunkedConfig) -> (S3Result<Vec<u8>>, Option<String>) {
    let input = futures_util::stream::iter(reads.into_iter().map(Ok::<_, std::convert::Infallible>));
    let (mut stream, slot) = decode(input, cfg);
    let mut cx = Context::from_waker(Waker::noop());
    let mut out = Vec::new();
    loop {
        match Pin::new(&mut stream).poll_next(&mut cx) {
            Poll::Ready(Some(Ok(data))) => out.extend_from_slice(&data),
            Poll::Ready(Some(Err(err))) => {
                assert!(matches!(Pin::new(&mut stream).poll_next(&mut cx), Poll::Ready(None)), "fused after an error");
                return (Err(err), slot.get());
            }
            Poll::Ready(None) => return (Ok(out), slot.get()),
            Poll::Pending => panic!("an in-memory body never pends"),
        }
    }
}

fn one_read(body: &[u8]) -> Vec<Bytes> {
    vec![Bytes::copy_from_slice(body)]
}

fn signed(trailer: Option<ChecksumAlgorithm>, decoded_length: Option<u64>) -> ChunkedConfig {
    let trailer_signed = trailer.is_some();
    ChunkedConfig { signing: Some(example_signer()), trailer, trailer_signed, decoded_length }
}

fn unsigned(trailer: Option<ChecksumAlgorithm>) -> ChunkedConfig {
    ChunkedConfig { trailer, ..ChunkedConfig::default() }
}

fn code(result: (S3Result<Vec<u8>>, Option<String>)) -> S3ErrorCode {
    result.0.expect_err("should be rejected").code
}

/// The documented body, written out literally from the AWS page.
fn aws_example_body() -> Vec<u8> {
    let a = |n| "a".repeat(n);
    format!("10000;chunk-signature={SIG1}\r\n{}\r\n400;chunk-signature={SIG2}\r\n{}\r\n0;chunk-signature={SIG_FINAL}\r\n\r\n", a(65536), a(1024))
        .into_bytes()
}

#[test]
fn aws_example_signed_payload_decodes_and_encoder_matches_it() {
    let body = aws_example_body();
    assert_eq!(body.len(), 66824, "the documented Content-Length");
    assert_eq!(encode(&[b'a'; 66560], 65536, Some(&example_signer()), None, false).body, body);
    let (out, trailer) = run(one_read(&body), signed(None, Some(66560)));
    assert_eq!(out.unwrap(), vec![b'a'; 66560]);
    assert_eq!(trailer, None);
}

#[test]
fn aws_example_rejects_any_changed_byte() {
    let body = aws_example_body();
    let data = [88..88 + 65536, 65712..65712 + 1024];
    for r in &data {
        assert_eq!((&body[r.start - 2..r.start], &body[r.end..r.end + 2]), (&b"\r\n"[..], &b"\r\n"[..]));
    }
    // Every framing byte and every 1000th data byte; `^ 1` never just changes a letter's case.
    let positions = (0..body.len()).filter(|i| !data.iter().any(|r| r.contains(i)) || i % 1000 == 0);
    for i in positions {
        let mut changed = body.clone();
        changed[i] ^= 1;
        let (out, _) = run(one_read(&changed), signed(None, Some(66560)));
        assert!(out.is_err(), "byte {i} changed from {:?} was accepted", body[i] as char);
    }
    let mut wrong_seed = signed(None, None);
    wrong_seed.signing.as_mut().unwrap().seed_signature = SIG1.into();
    assert_eq!(code(run(one_read(&body), wrong_seed)), S3ErrorCode::SignatureDoesNotMatch);
}

#[test]
fn signed_data_is_released_only_after_its_signature_checks() {
    let mut body = aws_example_body();
    body[100] = b'b';
    let input = futures_util::stream::iter([Ok::<_, std::convert::Infallible>(Bytes::from(body))]);
    let (mut stream, _) = decode(input, signed(None, None));
    let first = Pin::new(&mut stream).poll_next(&mut Context::from_waker(Waker::noop()));
    assert!(matches!(first, Poll::Ready(Some(Err(ref e))) if e.code == S3ErrorCode::SignatureDoesNotMatch));
}

#[test]
fn unsigned_trailer_body_as_boto3_sends_it() {
    // boto3 ≥1.36 over HTTPS: `hex(len)\r\n<data>\r\n`, `0\r\n`, the checksum trailer, CRLF.
    let body = b"b\r\nhello world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n";
    let verify = |value: Option<String>| {
        let mut v = PayloadVerifier::new(false, Some(ChecksumAlgorithm::Crc32));
        v.update(b"hello world");
        v.finish(&Expected { checksum: value, ..Expected::default() })
    };
    let (out, trailer) = run(one_read(body), unsigned(Some(ChecksumAlgorithm::Crc32)));
    assert_eq!(out.unwrap(), b"hello world");
    assert_eq!(trailer.as_deref(), Some("DUoRhQ=="));
    assert!(verify(trailer).is_ok());
    let wrong = String::from_utf8_lossy(body).replace("DUoRhQ==", "AAAAAA==");
    let (out, trailer) = run(one_read(wrong.as_bytes()), unsigned(Some(ChecksumAlgorithm::Crc32)));
    assert!(out.is_ok(), "the decoder parses; the verifier compares");
    assert_eq!(verify(trailer).unwrap_err().code, S3ErrorCode::BadDigest);
    // Lenient: no final CRLF.
    let (out, trailer) = run(one_read(&body[..body.len() - 2]), unsigned(Some(ChecksumAlgorithm::Crc32)));
    assert_eq!((out.unwrap(), trailer.as_deref()), (b"hello world".to_vec(), Some("DUoRhQ==")));
}

#[test]
fn trailer_must_match_the_declaration() {
    let with = b"b\r\nhello world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n";
    let without = b"b\r\nhello world\r\n0\r\n\r\n";
    assert_eq!(code(run(one_read(without), unsigned(Some(ChecksumAlgorithm::Crc32)))), S3ErrorCode::InvalidRequest);
    assert_eq!(code(run(one_read(with), unsigned(None))), S3ErrorCode::InvalidRequest);
    assert_eq!(code(run(one_read(with), unsigned(Some(ChecksumAlgorithm::Crc32c)))), S3ErrorCode::InvalidRequest);
    assert_eq!(run(one_read(without), unsigned(None)).0.unwrap(), b"hello world", "versitygw#1632");
    let mut big = b"b\r\nhello world\r\n0\r\n".to_vec();
    big.extend(std::iter::repeat_n(b'x', MAX_TRAILER_BYTES + 1));
    assert_eq!(code(run(one_read(&big), unsigned(Some(ChecksumAlgorithm::Crc32)))), S3ErrorCode::InvalidRequest);
}

fn signed_trailer_body(checksum: &str, signature: &str) -> Vec<u8> {
    let mut body = aws_example_body();
    body.truncate(body.len() - 2);
    body.extend_from_slice(
        format!("x-amz-checksum-crc32:{checksum}\r\nx-amz-trailer-signature:{signature}\r\n\r\n").as_bytes(),
    );
    body
}

#[test]
fn signed_trailer_matches_the_independent_vector() {
    let body = signed_trailer_body(EXAMPLE_CRC32, EXAMPLE_TRAILER_SIG);
    let mut crc = Checksummer::new(ChecksumAlgorithm::Crc32);
    crc.update(&[b'a'; 66560]);
    assert_eq!(crc.finalize(), EXAMPLE_CRC32);
    let trailer = Some(("x-amz-checksum-crc32", EXAMPLE_CRC32));
    assert_eq!(encode(&[b'a'; 66560], 65536, Some(&example_signer()), trailer, true).body, body);
    let cfg = || signed(Some(ChecksumAlgorithm::Crc32), Some(66560));
    let (out, slot) = run(one_read(&body), cfg());
    assert_eq!((out.unwrap().len(), slot.as_deref()), (66560, Some(EXAMPLE_CRC32)));
    let flipped = EXAMPLE_TRAILER_SIG.replacen('b', "c", 1);
    assert_eq!(
        code(run(one_read(&signed_trailer_body(EXAMPLE_CRC32, &flipped)), cfg())),
        S3ErrorCode::SignatureDoesNotMatch
    );
    let other = signed_trailer_body("AAAAAA==", EXAMPLE_TRAILER_SIG);
    assert_eq!(code(run(one_read(&other), cfg())), S3ErrorCode::SignatureDoesNotMatch);
    let mut unsigned_trailer = aws_example_body();
    unsigned_trailer.truncate(unsigned_trailer.len() - 2);
    unsigned_trailer.extend_from_slice(format!("x-amz-checksum-crc32:{EXAMPLE_CRC32}\r\n\r\n").as_bytes());
    assert_eq!(code(run(one_read(&unsigned_trailer), cfg())), S3ErrorCode::InvalidRequest);
}

#[test]
fn malformed_framing_is_incomplete_body() {
    for body in [
        &b""[..],
        b"zz\r\nhello\r\n0\r\n\r\n",
        b"5\r\nhelloX\r\n0\r\n\r\n",
        b"5\r\nhel",
        b"5\r\nhello\r\n",
        b"5\r\nhello\r\n0\r\n\r\ngarbage",
        b"11111111111111111\r\n",
        b";chunk-signature=00\r\n",
    ] {
        assert_eq!(
            code(run(one_read(body), unsigned(None))),
            S3ErrorCode::IncompleteBody,
            "{:?}",
            String::from_utf8_lossy(body)
        );
    }
    // A signed variant needs a chunk-signature on every chunk.
    assert_eq!(code(run(one_read(b"5\r\nhello\r\n0\r\n\r\n"), signed(None, None))), S3ErrorCode::IncompleteBody);
    // Other extensions and bare LFs are tolerated on the unsigned variant.
    let (out, _) = run(one_read(b"5;x=y;chunk-signature=00\nhello\n0\n\n"), unsigned(None));
    assert_eq!(out.unwrap(), b"hello");
}

#[test]
fn body_errors_and_wrong_decoded_length_are_incomplete_body() {
    let reads = [Ok(Bytes::from_static(b"5\r\nhel")), Err("connection reset")];
    let (mut stream, _) = decode(futures_util::stream::iter(reads), unsigned(None));
    let mut cx = Context::from_waker(Waker::noop());
    assert!(matches!(Pin::new(&mut stream).poll_next(&mut cx), Poll::Ready(Some(Ok(_)))));
    let second = Pin::new(&mut stream).poll_next(&mut cx);
    assert!(matches!(second, Poll::Ready(Some(Err(ref e))) if e.code == S3ErrorCode::IncompleteBody));
    let body = b"5\r\nhello\r\n0\r\n\r\n";
    for declared in [4, 6] {
        let cfg = ChunkedConfig { decoded_length: Some(declared), ..ChunkedConfig::default() };
        let err = run(one_read(body), cfg).0.unwrap_err();
        assert_eq!(err.code, S3ErrorCode::IncompleteBody);
        assert!(err.message.contains("Content-Length"), "{}", err.message);
    }
}

#[test]
fn oversized_signed_chunks_and_bad_configs_are_refused_up_front() {
    let body = format!("1000001;chunk-signature={SIG1}\r\n");
    assert_eq!(code(run(one_read(body.as_bytes()), signed(None, None))), S3ErrorCode::InvalidRequest);
    let cfg = ChunkedConfig { trailer_signed: true, ..ChunkedConfig::default() };
    assert_eq!(code(run(one_read(b"0\r\n\r\n"), cfg)), S3ErrorCode::InternalError);
}

#[test]
fn unsigned_data_is_yielded_without_copying() {
    let input = Bytes::from_static(b"b\r\nhello world\r\n0\r\n\r\n");
    let range = input.as_ptr_range();
    let stream = futures_util::stream::iter([Ok::<_, std::convert::Infallible>(input.clone())]);
    let (mut stream, _) = decode(stream, unsigned(None));
    let Poll::Ready(Some(Ok(data))) = Pin::new(&mut stream).poll_next(&mut Context::from_waker(Waker::noop())) else {
        panic!("expected data");
    };
    assert_eq!(&data[..], b"hello world");
    assert!(range.contains(&data.as_ptr()), "the yielded data is a slice of the read");
}
