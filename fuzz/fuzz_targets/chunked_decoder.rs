//! Fuzz target: arbitrary bytes, split arbitrarily into reads, through the aws-chunked decoder
//! (`s3_wire::chunked::decode`) for each of the three variants. The decoder must never panic
//! and never pend on a body that is already in memory (every poll consumes input or ends).
//!
//! Run (`cargo install cargo-fuzz`; `RUSTC_BOOTSTRAP=1` lets it use nightly-only flags on stable):
//!
//! ```text
//! cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run chunked_decoder
//! ```
//!
//! The first input byte picks the variant, whether `x-amz-decoded-content-length` is set, and the
//! read sizes; the rest is the body. The target uses only the crate's public API and the same
//! poll-to-completion loop as the unit tests (`src/s3/chunked/tests.rs`), so it stays
//! compile-correct whenever those do; `cargo check` in this directory is enough to confirm it on
//! stable Rust.

#![no_main]

use bytes::Bytes;
use futures_util::Stream;
use s3_wire::checksum::ChecksumAlgorithm;
use s3_wire::chunked::{ChunkSigner, ChunkedConfig, decode};
use libfuzzer_sys::fuzz_target;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

fuzz_target!(|data: &[u8]| {
    let Some((&control, body)) = data.split_first() else {
        return;
    };
    drain(split(body, control), config(control));
});

/// Variant from `control % 3`; a decoded length when bit 4 is set.
fn config(control: u8) -> ChunkedConfig {
    let signer = ChunkSigner {
        signing_key: [7; 32],
        amz_date: "20130524T000000Z".into(),
        scope: "20130524/us-east-1/s3/aws4_request".into(),
        seed_signature: "0".repeat(64),
    };
    let decoded_length = (control & 0x10 != 0).then_some(u64::from(control >> 5));
    let (signing, trailer, trailer_signed) = match control % 3 {
        0 => (Some(signer), None, false),
        1 => (None, Some(ChecksumAlgorithm::Crc32), false),
        _ => (Some(signer), Some(ChecksumAlgorithm::Crc64Nvme), true),
    };
    ChunkedConfig {
        signing,
        trailer,
        trailer_signed,
        decoded_length,
    }
}

/// Reads of 1..=97 bytes in a pattern chosen by `control`.
fn split(body: &[u8], control: u8) -> Vec<Bytes> {
    let step = usize::from(control >> 2) | 1;
    let (mut reads, mut at, mut i) = (Vec::new(), 0, 0);
    while at < body.len() {
        let n = (1 + i * step % 97).min(body.len() - at);
        reads.push(Bytes::copy_from_slice(&body[at..at + n]));
        (at, i) = (at + n, i + 1);
    }
    reads
}

/// Polls the decoder to its end; an error ends it too.
fn drain(reads: Vec<Bytes>, cfg: ChunkedConfig) {
    let input = futures_util::stream::iter(reads.into_iter().map(Ok::<_, std::convert::Infallible>));
    let (mut stream, slot) = decode(input, cfg);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        match Pin::new(&mut stream).poll_next(&mut cx) {
            Poll::Ready(Some(Ok(_))) => {}
            Poll::Ready(Some(Err(_)) | None) => break,
            Poll::Pending => panic!("the decoder pended on an in-memory body"),
        }
    }
    let _ = slot.get();
}
