//! Streaming decoder for aws-chunked request bodies (`Content-Encoding: aws-chunked`): strips the
//! framing, verifies chunk signatures before releasing a chunk's data, and parses the trailer.
//! Implements "Signature Calculations for the Authorization Header: Transferring Payload in
//! Multiple Chunks (Chunked Upload)" and "Signature calculations for trailing headers (chunked
//! uploads)" (Amazon S3 API Reference, `sigv4-streaming.html`, `sigv4-streaming-trailers.html`).
//!
//! Variants, by `x-amz-content-sha256`, and the [`ChunkedConfig`] each needs:
//! - `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`: `signing: Some`, no trailer;
//! - `STREAMING-UNSIGNED-PAYLOAD-TRAILER`: `signing: None`, `trailer` from `x-amz-trailer`;
//! - `STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER`: `signing: Some`, `trailer`, `trailer_signed`.
//!
//! Wire format: `hex-size[;chunk-signature=<64 hex>]\r\n<data>\r\n` per chunk, a final
//! `0[;chunk-signature=…]\r\n`, then trailer lines `name:value\r\n` and an empty line.
//!
//! Choices where clients or docs differ:
//! - Line ends may be CRLF or a bare LF; chunk extensions other than `chunk-signature` are ignored,
//!   and so is a `chunk-signature` on an unsigned variant.
//! - The final empty line may be missing (or cut to a lone CR) when the body ends right after the
//!   final chunk or a complete trailer line: everything before it is already verified.
//! - Chunks of any size are accepted (S3's 8 KiB minimum for non-final signed chunks is not
//!   enforced); a signed chunk is held until its signature checks, so it may be at most
//!   [`MAX_SIGNED_CHUNK`] bytes. Unsigned chunks stream through as they arrive, without copying.
//! - Malformed framing, a short body, a body error and a decoded length other than
//!   `x-amz-decoded-content-length` are `IncompleteBody`, as S3 answers (versitygw#1666); trailer
//!   problems are `InvalidRequest` (see `trailer`); a wrong signature is `SignatureDoesNotMatch`.
//!
//! The stream ends (`None`) only after the body ended and everything checked out; data already
//! yielded must be discarded when the stream yields an error instead.

mod sig;
mod trailer;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

pub use sig::{chunk_string_to_sign, parse_signature, sign, trailer_string_to_sign};
pub use trailer::MAX_TRAILER_BYTES;

use crate::checksum::ChecksumAlgorithm;
use crate::error::{S3Error, S3Result};
use crate::s3_err;
use bytes::{Bytes, BytesMut};
use futures_util::Stream;
use sig::Chain;
use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, ready};
use trailer::Trailers;

/// The largest signed chunk accepted (its data is held in memory until its signature checks).
pub const MAX_SIGNED_CHUNK: u64 = 16 * 1024 * 1024;
/// The longest chunk header line accepted.
const MAX_HEADER_LINE: usize = 4096;

/// What verifies a signed upload's chunks: the request's SigV4 signing key and scope, and the
/// seed signature (the `Signature=` of the `Authorization` header).
#[derive(Clone)]
pub struct ChunkSigner {
    pub signing_key: [u8; 32],
    /// `x-amz-date`, e.g. `20130524T000000Z`.
    pub amz_date: String,
    /// Credential scope, e.g. `20130524/us-east-1/s3/aws4_request`.
    pub scope: String,
    pub seed_signature: String,
}

impl std::fmt::Debug for ChunkSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChunkSigner")
            .field("amz_date", &self.amz_date)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

/// How to decode one body; see the module docs for each variant's settings.
#[derive(Debug, Clone, Default)]
pub struct ChunkedConfig {
    /// Chunk signatures to verify (the two `STREAMING-AWS4-HMAC-SHA256-*` variants).
    pub signing: Option<ChunkSigner>,
    /// The checksum `x-amz-trailer` declared; the trailer must then carry it.
    pub trailer: Option<ChecksumAlgorithm>,
    /// The trailer ends with `x-amz-trailer-signature` (needs `signing`).
    pub trailer_signed: bool,
    /// `x-amz-decoded-content-length`: the decoded total must equal it.
    pub decoded_length: Option<u64>,
}

/// Where the decoder leaves the trailer checksum value (base64, as sent) once the stream has
/// ended successfully; `None` before that or when no trailer was declared.
#[derive(Debug, Clone, Default)]
pub struct TrailerSlot(Arc<Mutex<Option<String>>>);

impl TrailerSlot {
    pub fn get(&self) -> Option<String> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    fn set(&self, value: Option<String>) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = value;
    }
}

/// Decodes `body` as aws-chunked; returns the decoded data stream and the trailer's slot.
pub fn decode<S, E>(body: S, cfg: ChunkedConfig) -> (ChunkedStream<S>, TrailerSlot)
where
    S: Stream<Item = Result<Bytes, E>> + Send + Unpin + 'static,
    E: std::fmt::Display,
{
    let slot = TrailerSlot::default();
    let init_error = (cfg.trailer_signed && cfg.signing.is_none())
        .then(|| S3Error::internal("a signed trailer needs chunk signing"));
    let stream = ChunkedStream {
        body,
        pending: Bytes::new(),
        line: BytesMut::new(),
        state: State::Header,
        chain: cfg.signing.map(Chain::new),
        held: Vec::new(),
        ready: VecDeque::new(),
        trailers: Trailers::new(cfg.trailer, cfg.trailer_signed),
        trailer_value: None,
        decoded: 0,
        decoded_length: cfg.decoded_length,
        slot: slot.clone(),
        init_error,
    };
    (stream, slot)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reading a `size[;ext]` line.
    Header,
    /// Inside a chunk's data.
    Data { remaining: u64 },
    /// Expecting the empty line after a chunk's data.
    DataEnd,
    /// Reading trailer lines after the final chunk.
    Trailer,
    /// Past the final empty line; only the end of the body may follow.
    Done,
    /// Ended or failed; yields nothing more.
    Finished,
}

/// The decoded data of an aws-chunked body (see [`decode`]).
pub struct ChunkedStream<S> {
    body: S,
    /// Received bytes not yet consumed.
    pending: Bytes,
    /// A header or trailer line received in pieces.
    line: BytesMut,
    state: State,
    chain: Option<Chain>,
    /// The current signed chunk's data, released once its signature checks.
    held: Vec<Bytes>,
    /// Data ready to yield.
    ready: VecDeque<Bytes>,
    trailers: Trailers,
    trailer_value: Option<String>,
    decoded: u64,
    decoded_length: Option<u64>,
    slot: TrailerSlot,
    init_error: Option<S3Error>,
}

fn malformed(detail: &str) -> S3Error {
    tracing::debug!(detail, "malformed aws-chunked body");
    s3_err!(IncompleteBody, "The request body terminated unexpectedly")
}

fn wrong_length() -> S3Error {
    s3_err!(IncompleteBody, "You did not provide the number of bytes specified by the Content-Length HTTP header")
}

/// Parses `size[;name[=value]]*`; returns the size and the `chunk-signature`, if any.
fn parse_chunk_header(line: &[u8]) -> S3Result<(u64, Option<[u8; 32]>)> {
    let mut parts = line.split(|&b| b == b';');
    let size = parts.next().unwrap_or_default();
    if size.is_empty() || size.len() > 16 || !size.iter().all(u8::is_ascii_hexdigit) {
        return Err(malformed("bad chunk size"));
    }
    let size = std::str::from_utf8(size).ok().and_then(|s| u64::from_str_radix(s, 16).ok());
    let size = size.ok_or_else(|| malformed("bad chunk size"))?;
    let mut signature = None;
    for ext in parts {
        if let Some(value) = ext.strip_prefix(b"chunk-signature=") {
            // A value that is not 64 hex digits cannot match: all zeros fails verification.
            if signature.replace(parse_signature(value).unwrap_or([0; 32])).is_some() {
                return Err(malformed("two chunk-signature extensions"));
            }
        }
    }
    Ok((size, signature))
}

impl<S> ChunkedStream<S> {
    /// Moves `pending` into `line` up to the next LF; returns the whole line without its line end.
    fn take_line(&mut self, limit: usize, too_long: impl FnOnce() -> S3Error) -> S3Result<Option<BytesMut>> {
        let end = self.pending.iter().position(|&b| b == b'\n');
        let part = self.pending.split_to(end.map_or(self.pending.len(), |i| i + 1));
        if self.line.len() + part.len() > limit {
            return Err(too_long());
        }
        self.line.extend_from_slice(&part);
        if end.is_none() {
            return Ok(None);
        }
        let mut line = self.line.split();
        line.truncate(line.len() - 1);
        if line.last() == Some(&b'\r') {
            line.truncate(line.len() - 1);
        }
        Ok(Some(line))
    }

    /// Consumes some of `pending`; `Ok(false)` when it needs more input.
    fn step(&mut self) -> S3Result<bool> {
        if self.pending.is_empty() {
            return Ok(false);
        }
        match self.state {
            State::Header => self.step_header(),
            State::Data { remaining } => self.step_data(remaining),
            State::DataEnd => self.step_data_end(),
            State::Trailer => self.step_trailer(),
            State::Done => Err(malformed("data after the end of the body")),
            State::Finished => Ok(false),
        }
    }

    fn step_header(&mut self) -> S3Result<bool> {
        let Some(line) = self.take_line(MAX_HEADER_LINE, || malformed("chunk header too long"))? else {
            return Ok(false);
        };
        let (size, signature) = parse_chunk_header(&line)?;
        if let Some(chain) = &mut self.chain {
            chain.begin_chunk(signature.ok_or_else(|| malformed("missing chunk-signature"))?);
            if size > MAX_SIGNED_CHUNK {
                return Err(s3_err!(InvalidRequest, "Signed chunks larger than 16 MiB are not supported"));
            }
        }
        if self.decoded_length.is_some_and(|total| size > total - self.decoded) {
            return Err(wrong_length());
        }
        self.state = if size > 0 {
            State::Data { remaining: size }
        } else {
            if let Some(chain) = &mut self.chain {
                chain.finish_chunk()?;
            }
            State::Trailer
        };
        Ok(true)
    }

    fn step_data(&mut self, remaining: u64) -> S3Result<bool> {
        let n = remaining.min(self.pending.len() as u64);
        let data = self.pending.split_to(n as usize);
        self.decoded += n;
        match &mut self.chain {
            Some(chain) => {
                chain.update(&data);
                self.held.push(data);
            }
            None => self.ready.push_back(data),
        }
        self.state = match remaining - n {
            0 => State::DataEnd,
            remaining => State::Data { remaining },
        };
        Ok(true)
    }

    fn step_data_end(&mut self) -> S3Result<bool> {
        let Some(line) = self.take_line(2, || malformed("no CRLF after chunk data"))? else {
            return Ok(false);
        };
        if !line.is_empty() {
            return Err(malformed("no CRLF after chunk data"));
        }
        if let Some(chain) = &mut self.chain {
            chain.finish_chunk()?;
            self.ready.extend(self.held.drain(..));
        }
        self.state = State::Header;
        Ok(true)
    }

    fn step_trailer(&mut self) -> S3Result<bool> {
        let room = self.trailers.room();
        let Some(line) = self.take_line(room, || s3_err!(InvalidRequest, "The trailer block is larger than 16 KiB"))?
        else {
            return Ok(false);
        };
        if !line.is_empty() {
            self.trailers.push_line(&line)?;
            return Ok(true);
        }
        self.end_trailer()?;
        Ok(true)
    }

    fn end_trailer(&mut self) -> S3Result<()> {
        let trailers = std::mem::replace(&mut self.trailers, Trailers::new(None, false));
        self.trailer_value = trailers.finish(self.chain.as_ref())?;
        self.state = State::Done;
        Ok(())
    }

    /// The body ended: fine only after the final chunk (see the module docs), then final checks.
    fn on_body_end(&mut self) -> S3Result<()> {
        if self.state == State::Trailer && matches!(&self.line[..], b"" | b"\r") {
            self.end_trailer()?;
        }
        if self.state != State::Done {
            return Err(malformed("the body ended inside the chunk framing"));
        }
        if self.decoded_length.is_some_and(|total| total != self.decoded) {
            return Err(wrong_length());
        }
        self.slot.set(self.trailer_value.take());
        self.state = State::Finished;
        Ok(())
    }
}

impl<S, E> Stream for ChunkedStream<S>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    type Item = S3Result<Bytes>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let result = this.advance(cx);
        if let Poll::Ready(Some(Err(_))) = &result {
            this.state = State::Finished;
            this.ready.clear();
        }
        result
    }
}

impl<S, E> ChunkedStream<S>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    fn advance(&mut self, cx: &mut Context<'_>) -> Poll<Option<S3Result<Bytes>>> {
        if let Some(err) = self.init_error.take() {
            return Poll::Ready(Some(Err(err)));
        }
        loop {
            if let Some(data) = self.ready.pop_front() {
                return Poll::Ready(Some(Ok(data)));
            }
            if self.state == State::Finished {
                return Poll::Ready(None);
            }
            match self.step() {
                Ok(true) => continue,
                Ok(false) => {}
                Err(err) => return Poll::Ready(Some(Err(err))),
            }
            match ready!(Pin::new(&mut self.body).poll_next(cx)) {
                Some(Ok(bytes)) => self.pending = bytes,
                Some(Err(err)) => return Poll::Ready(Some(Err(malformed(&format!("reading the body failed: {err}"))))),
                None => {
                    if let Err(err) = self.on_body_end() {
                        return Poll::Ready(Some(Err(err)));
                    }
                }
            }
        }
    }
}
