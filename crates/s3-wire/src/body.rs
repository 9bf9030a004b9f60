//! Request bodies as operations consume them: the raw body, or the aws-chunked decoder for
//! `STREAMING-*` payloads, then a verifying stream that hashes every byte (MD5 for the ETag, the
//! declared SHA-256, `Content-MD5`, the additional checksum from a header or the trailer) and
//! **holds back the last chunk until everything matches**, so a store behind a presigned URL
//! never receives a complete object whose checksum failed. The outcome is readable afterwards.

use super::checksum::{
    ChecksumAlgorithm, Digests, Expected, PayloadVerifier, parse_checksum_request, parse_content_md5,
};
use super::chunked::{ChunkSigner, ChunkedConfig, TrailerSlot, decode};
use super::error::{S3Error, S3Result};
use super::sigv4::{PayloadMode, Verified};
use crate::s3_err;
use bytes::Bytes;
use futures_util::{Stream, StreamExt, TryStreamExt};
use http_body_util::BodyDataStream;
use hyper::body::Incoming;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

/// S3's largest single PUT.
pub const MAX_PUT_BYTES: u64 = 5 << 30;

type DataStream = Pin<Box<dyn Stream<Item = S3Result<Bytes>> + Send>>;

/// How a verified body ended.
#[derive(Debug, Clone, Default)]
pub struct Outcome(Arc<Mutex<Option<S3Result<Digests>>>>);

impl Outcome {
    fn set(&self, r: S3Result<Digests>) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(r);
    }

    /// `None` until the stream ended; then the digests or the error that ended it.
    pub fn get(&self) -> Option<S3Result<Digests>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

/// A request body being decoded and verified.
pub struct VerifiedBody {
    pub stream: Verifying,
    /// The exact decoded length.
    pub length: u64,
    pub outcome: Outcome,
}

fn header<'a>(parts: &'a http::request::Parts, name: &str) -> Option<&'a str> {
    parts.headers.get(name).and_then(|v| v.to_str().ok())
}

fn declared_length(parts: &http::request::Parts, name: &str) -> S3Result<u64> {
    let value =
        header(parts, name).ok_or_else(|| s3_err!(MissingContentLength, "You must provide the {name} HTTP header."))?;
    let n =
        value.trim().parse::<u64>().map_err(|_| s3_err!(InvalidArgument, "{name} must be a non-negative integer"))?;
    if n > MAX_PUT_BYTES {
        return Err(s3_err!(EntityTooLarge, "Your proposed upload exceeds the maximum allowed size"));
    }
    Ok(n)
}

/// How a request body is watched while it streams in: `400 RequestTimeout` after `idle` without
/// a byte, and each chunk's arrival recorded in `progress` (see [`super::limits`]).
#[derive(Clone)]
pub struct Watch {
    pub idle: std::time::Duration,
    pub progress: super::limits::Progress,
}

/// Sets up decoding and verification of `body` as the signature `verified` declared it.
pub fn prepare<K>(
    parts: &http::request::Parts,
    body: Incoming,
    verified: &Verified<K>,
    watch: Watch,
) -> S3Result<VerifiedBody> {
    prepare_with(parts, body, verified, watch, None, true)
}

/// [`prepare`], also computing `default_checksum` when the request declares no checksum (a part
/// of a multipart upload created with `x-amz-checksum-algorithm`), and the body's MD5 only when
/// `md5` is set or the request sends `Content-MD5`.
pub fn prepare_with<K>(
    parts: &http::request::Parts,
    body: Incoming,
    verified: &Verified<K>,
    watch: Watch,
    default_checksum: Option<ChecksumAlgorithm>,
    md5: bool,
) -> S3Result<VerifiedBody> {
    let checksums = parse_checksum_request(&parts.headers)?;
    let content_md5 = header(parts, "content-md5").map(str::to_string);
    if let Some(md5) = &content_md5 {
        parse_content_md5(md5)?;
    }
    let exact_hint = http_body::Body::size_hint(&body).exact();
    let events = crate::events::get();
    let raw = BodyDataStream::new(body).inspect_ok(move |b: &Bytes| events.bytes_in(b.len() as u64));
    let (stream, length, trailer): (DataStream, u64, Option<TrailerSlot>) = match &verified.payload {
        PayloadMode::Streaming { signed, trailer } => {
            let length = declared_length(parts, "x-amz-decoded-content-length")?;
            if !trailer && checksums.trailer.is_some() {
                return Err(s3_err!(InvalidRequest, "x-amz-trailer is only valid with a STREAMING-…-TRAILER payload"));
            }
            let signing = signed.then(|| chunk_signer(verified)).transpose()?;
            let cfg = ChunkedConfig {
                signing,
                trailer: checksums.trailer,
                trailer_signed: *signed && *trailer,
                decoded_length: Some(length),
            };
            let (decoded, slot) = decode(raw, cfg);
            (Box::pin(decoded), length, Some(slot))
        }
        _ => {
            if checksums.trailer.is_some() {
                return Err(s3_err!(InvalidRequest, "x-amz-trailer needs an aws-chunked STREAMING-…-TRAILER payload"));
            }
            // No Content-Length: a body of known size (none at all, or HTTP/2 with a known length) is
            // fine; only an unsized body (Transfer-Encoding: chunked) is MissingContentLength.
            let length = match (header(parts, "content-length"), exact_hint) {
                (None, Some(exact)) if exact <= MAX_PUT_BYTES => exact,
                _ => declared_length(parts, "content-length")?,
            };
            let raw =
                raw.map(|r| r.map_err(|e| s3_err!(IncompleteBody, "The request body terminated unexpectedly: {e}")));
            (Box::pin(raw), length, None)
        }
    };
    let stream = super::limits::watch_body(stream, watch.idle, watch.progress);
    let sha = match &verified.payload {
        PayloadMode::Sha256(h) => Some(h.clone()),
        _ => None,
    };
    let verifier = PayloadVerifier::new(sha.is_some(), checksums.algorithm().or(default_checksum));
    let verifier = if md5 || content_md5.is_some() { verifier } else { verifier.without_md5() };
    let expected = Expected { content_sha256: sha, content_md5, checksum: checksums.header.map(|(_, v)| v) };
    let outcome = Outcome::default();
    let stream = Verifying {
        inner: stream,
        verifier: Some(verifier),
        expected,
        trailer,
        held: None,
        length,
        seen: 0,
        outcome: outcome.clone(),
    };
    Ok(VerifiedBody { stream, length, outcome })
}

/// A verifying stream over bytes lakegate reads itself (an object it copies): exactly `length`
/// bytes expected, MD5 and `checksum` computed, nothing to compare against.
pub fn verify_stream(body: Incoming, length: u64, checksum: Option<ChecksumAlgorithm>) -> (Verifying, Outcome) {
    let raw = BodyDataStream::new(body)
        .map(|r| r.map_err(|e| s3_err!(ServiceUnavailable, "reading from the object store failed: {e}")));
    let outcome = Outcome::default();
    let stream = Verifying {
        inner: Box::pin(raw),
        verifier: Some(PayloadVerifier::new(false, checksum)),
        expected: Expected::default(),
        trailer: None,
        held: None,
        length,
        seen: 0,
        outcome: outcome.clone(),
    };
    (stream, outcome)
}

fn chunk_signer<K>(verified: &Verified<K>) -> S3Result<ChunkSigner> {
    let key: [u8; 32] =
        verified.seed.signing_key.as_slice().try_into().map_err(|_| S3Error::internal("signing key length"))?;
    Ok(ChunkSigner {
        signing_key: key,
        amz_date: verified.seed.amz_date.clone(),
        scope: verified.seed.scope.clone(),
        seed_signature: verified.seed.seed_signature.clone(),
    })
}

/// The verifying stream: yields every chunk but the last as it comes, the last one only after
/// the whole body verified; on failure it ends with the error instead.
pub struct Verifying {
    inner: DataStream,
    verifier: Option<PayloadVerifier>,
    expected: Expected,
    trailer: Option<TrailerSlot>,
    held: Option<Bytes>,
    length: u64,
    seen: u64,
    outcome: Outcome,
}

impl Verifying {
    fn fail(&mut self, err: S3Error) -> Poll<Option<S3Result<Bytes>>> {
        self.verifier = None;
        self.held = None;
        self.outcome.set(Err(err.clone()));
        Poll::Ready(Some(Err(err)))
    }

    fn finish(&mut self) -> Poll<Option<S3Result<Bytes>>> {
        let Some(verifier) = self.verifier.take() else {
            return Poll::Ready(None);
        };
        if self.seen != self.length {
            return self.fail(s3_err!(
                IncompleteBody,
                "You did not provide the number of bytes specified by the Content-Length HTTP header."
            ));
        }
        let mut expected = self.expected.clone();
        if let Some(slot) = &self.trailer
            && let Some(v) = slot.get()
        {
            expected.checksum = Some(v);
        }
        match verifier.finish(&expected) {
            Ok(d) => {
                self.outcome.set(Ok(d));
                Poll::Ready(self.held.take().map(Ok))
            }
            Err(e) => self.fail(e),
        }
    }
}

impl Stream for Verifying {
    type Item = S3Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            if self.verifier.is_none() {
                return Poll::Ready(None);
            }
            match self.inner.as_mut().poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Err(e))) => return self.fail(e),
                Poll::Ready(None) => return self.finish(),
                Poll::Ready(Some(Ok(chunk))) if chunk.is_empty() => continue,
                Poll::Ready(Some(Ok(chunk))) => {
                    self.seen += chunk.len() as u64;
                    if self.seen > self.length {
                        return self.fail(s3_err!(IncompleteBody, "The body is longer than its declared length."));
                    }
                    if let Some(v) = self.verifier.as_mut() {
                        v.update(&chunk);
                    }
                    if let Some(previous) = self.held.replace(chunk) {
                        return Poll::Ready(Some(Ok(previous)));
                    }
                }
            }
        }
    }
}
