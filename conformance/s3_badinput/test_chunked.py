"""aws-chunked bodies (``STREAMING-AWS4-HMAC-SHA256-PAYLOAD``) that are cut short, mis-signed or
mis-declared.

AWS (Signature Version 4, "Transferring payload in multiple chunks"): every chunk carries the
signature chained from the previous one (the first from the ``Authorization`` header's seed
signature) and the body ends with a signed zero-length chunk. A wrong chunk signature is
``403 SignatureDoesNotMatch``; a body that ends before its final chunk, or whose decoded length
differs from ``x-amz-decoded-content-length``, is ``400 IncompleteBody``; a missing
``x-amz-decoded-content-length`` is ``411 MissingContentLength``. The chunk signatures here are
computed by ``support.aws_chunked`` on top of botocore's seed signature; the well-formed
control proves them right. Nothing refused leaves an object or a part behind.
"""

from __future__ import annotations

from typing import List, Optional

import pytest

from harness import LakegateServer

from .support import (BUCKET_FORMS, STREAMING, RawResponse, Target, Upload, assert_absent, assert_s3_error,
                      chunked_request, encoded_length, exchange, new_target, read_object, signed_request)

CHUNKS: List[bytes] = [b"a" * 65536, b"b" * 65536, b"c" * 1000]
DATA = b"".join(CHUNKS)
ENCODED_LEN = encoded_length(CHUNKS)
SETTLE_S = 0.3


def _put(server: LakegateServer, t: Target, *, close: str = "", **kw) -> Optional[RawResponse]:
    sig, body = chunked_request(server, "PUT", t.path, CHUNKS, **kw)
    return exchange(server, sig.head, body, close=close)


@pytest.mark.parametrize("form", BUCKET_FORMS)
def test_well_formed_control(any_server, form):
    t = new_target(form)
    resp = _put(any_server, t)
    assert resp is not None and resp.status == 200, resp
    assert read_object(any_server, t) == DATA


@pytest.mark.parametrize("form", BUCKET_FORMS)
@pytest.mark.parametrize("corrupt", [0, 1, 3], ids=["first-chunk", "middle-chunk", "final-chunk"])
def test_bad_chunk_signature(server, form, corrupt):
    t = new_target(form)
    assert_s3_error(_put(server, t, corrupt=corrupt), "SignatureDoesNotMatch")
    assert_absent(server, t)


@pytest.mark.parametrize("cut", [10, 100, 30_000, 65_700, ENCODED_LEN - 90, ENCODED_LEN - 3],
                         ids=["in-size-line", "in-first-chunk", "mid-first-chunk", "after-first-chunk",
                              "before-final-chunk", "in-final-chunk"])
def test_truncated_body(any_server, cut):
    """The HTTP framing is complete (Content-Length = bytes sent); the aws-chunked body is not."""
    assert cut < ENCODED_LEN
    t = new_target()
    assert_s3_error(_put(any_server, t, cut=cut), "IncompleteBody")
    assert_absent(any_server, t, settle=SETTLE_S)


@pytest.mark.parametrize("close", ["half", "full"])
def test_connection_lost_mid_body(any_server, close):
    """Content-Length promises the whole encoded body; the client sends half and goes away."""
    t = new_target()
    resp = _put(any_server, t, cut=ENCODED_LEN // 2, extra_length=ENCODED_LEN - ENCODED_LEN // 2, close=close)
    if close == "half":
        assert_s3_error(resp, "IncompleteBody")
    assert_absent(any_server, t, settle=SETTLE_S)


def test_truncated_body_then_half_close(any_server):
    """Truncated and half-closed: IncompleteBody, or (see test_lengths' half-close bug) a closed
    connection; either way no object."""
    t = new_target()
    resp = _put(any_server, t, cut=30_000, close="half")
    if resp is not None:
        assert_s3_error(resp, "IncompleteBody")
    assert_absent(any_server, t, settle=SETTLE_S)


def test_missing_final_chunk(server):
    t = new_target()
    assert_s3_error(_put(server, t, final=False), "IncompleteBody")
    assert_absent(server, t)


@pytest.mark.parametrize("delta", [-1, 1, 100_000])
def test_decoded_length_mismatch(server, delta):
    t = new_target()
    assert_s3_error(_put(server, t, decoded=len(DATA) + delta), "IncompleteBody")
    assert_absent(server, t)


def test_decoded_length_missing(server):
    t = new_target()
    assert_s3_error(_put(server, t, decoded=-1), "MissingContentLength")
    assert_absent(server, t)


@pytest.mark.parametrize("body,codes", [
    pytest.param(b"zz;chunk-signature=" + b"0" * 64 + b"\r\nxx\r\n", ["IncompleteBody"], id="non-hex-size"),
    pytest.param(b"%x\r\n" % len(DATA) + DATA + b"\r\n0\r\n\r\n", ["IncompleteBody", "SignatureDoesNotMatch"],
                 id="no-chunk-signature"),
    pytest.param(b"ffffffffffffffff;chunk-signature=" + b"0" * 64 + b"\r\n", ["IncompleteBody", "InvalidRequest"],
                 id="huge-size"),
])
def test_malformed_chunk_framing(server, body, codes):
    """Chunk framing that cannot be decoded: refused, never a 500 or a hang. (A missing chunk
    signature may be reported as a signature error; a chunk size beyond the gateway's limit as
    InvalidRequest, before the body proves too short.)"""
    t = new_target()
    sig = signed_request(server, "PUT", t.path, payload_hash=STREAMING, content_length=len(body),
                         headers={"Content-Encoding": "aws-chunked", "x-amz-decoded-content-length": str(len(DATA))})
    assert_s3_error(exchange(server, sig.head, body), *codes)
    assert_absent(server, t)


@pytest.mark.parametrize("case", ["bad-signature", "truncated"])
def test_upload_part(server, case):
    """A bad aws-chunked part is refused and not recorded; the upload still completes."""
    up = Upload.start(server)
    kw = {"corrupt": 1} if case == "bad-signature" else {"cut": 30_000}
    sig, body = chunked_request(server, "PUT", up.target.path, CHUNKS, query=f"partNumber=3&{up.query}", **kw)
    code = "SignatureDoesNotMatch" if case == "bad-signature" else "IncompleteBody"
    assert_s3_error(exchange(server, sig.head, body), code)
    up.assert_pending(parts=(1, 2))
    up.complete_for_real()
