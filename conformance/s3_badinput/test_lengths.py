"""Bodies that do not match their Content-Length, and clients that go away mid-request, over HTTP
and HTTPS (where the end of the stream is a TCP FIN without TLS close_notify, a truncation).

AWS: a body shorter than ``Content-Length`` is ``400 IncompleteBody`` ("You did not provide the
number of bytes specified by the Content-Length HTTP header"). A body longer than declared is,
by HTTP framing, the declared bytes plus the start of a next request: a signed payload hash or a
Content-MD5 then catches the difference (``XAmzContentSHA256Mismatch`` / ``BadDigest``);
unsigned, the object is exactly the declared bytes. A client that closes the connection
mid-body gets nothing, and must leave nothing: no object, no part, and the gateway serves on.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest

from harness import LakegateServer, boto3_client

from .support import (UNSIGNED, Target, assert_absent, assert_s3_error, exchange, md5_b64, new_target,
                      read_object, signed_request)

BODY = bytes(range(256)) * 64  # 16 KiB
SETTLE_S = 0.3


def _put_short(server: LakegateServer, t: Target, *, payload: str, close: str, missing: int = 5000):
    """PUT declaring ``len(BODY) + missing`` bytes, sending ``BODY``, then closing as told."""
    sig = signed_request(server, "PUT", t.path, body=BODY + b"\0" * missing,
                         payload_hash=UNSIGNED if payload == UNSIGNED else None,
                         content_length=len(BODY) + missing)
    return exchange(server, sig.head, BODY, close=close)


@pytest.mark.parametrize("payload", ["signed", UNSIGNED])
def test_body_shorter_than_content_length_then_half_close(any_server, payload):
    t = new_target()
    assert_s3_error(_put_short(any_server, t, payload=payload, close="half"), "IncompleteBody")
    assert_absent(any_server, t, settle=SETTLE_S)


@pytest.mark.parametrize("payload", ["signed", UNSIGNED])
def test_body_shorter_than_content_length_then_close(any_server, payload):
    t = new_target()
    assert _put_short(any_server, t, payload=payload, close="full") is None
    assert_absent(any_server, t, settle=SETTLE_S)


def test_body_one_byte_short(any_server):
    t = new_target()
    assert_s3_error(_put_short(any_server, t, payload="signed", close="half", missing=1), "IncompleteBody")
    assert_absent(any_server, t, settle=SETTLE_S)


def test_headers_only_then_close(any_server):
    """The client sends the head of a PUT and vanishes before the first body byte."""
    t = new_target()
    sig = signed_request(any_server, "PUT", t.path, body=BODY)
    assert exchange(any_server, sig.head, b"", close="full") is None
    assert_absent(any_server, t, settle=SETTLE_S)


def _put_long(server: LakegateServer, t: Target, *, declared: int, headers=None, payload=None):
    """PUT declaring ``declared`` bytes but sending all of ``BODY`` (the connection stays open: the
    surplus is the start of a next request); the payload hash (unless ``payload``) is the whole
    BODY's, as a client that miscounted would sign."""
    sig = signed_request(server, "PUT", t.path, body=BODY, headers=headers, payload_hash=payload,
                         content_length=declared)
    return exchange(server, sig.head, BODY)


def test_body_longer_than_content_length_signed(server):
    t = new_target()
    assert_s3_error(_put_long(server, t, declared=len(BODY) // 2), "XAmzContentSHA256Mismatch")
    assert_absent(server, t, settle=SETTLE_S)


def test_body_longer_than_content_length_with_md5(server):
    t = new_target()
    resp = _put_long(server, t, declared=len(BODY) // 2, headers={"Content-MD5": md5_b64(BODY)}, payload=UNSIGNED)
    assert_s3_error(resp, "BadDigest")
    assert_absent(server, t, settle=SETTLE_S)


def test_body_longer_than_content_length_unsigned_is_the_declared_bytes(server):
    """HTTP framing decides: the object is the declared bytes; the rest is a next request."""
    t = new_target()
    sig = signed_request(server, "PUT", t.path, payload_hash=UNSIGNED, content_length=100)
    trailing = b"GARBAGE / HTTP/1.1\r\n\r\n"
    resp = exchange(server, sig.head, BODY[:100] + trailing)
    assert resp is not None and resp.status == 200, resp
    assert read_object(server, t) == BODY[:100]


def test_complete_request_then_half_close_is_answered(any_server):
    """A correct PUT whose client shuts down its sending side right after the body: the answer
    still comes (HTTP/1.1 allows half-closing a connection), and so does the object."""
    t = new_target()
    sig = signed_request(any_server, "PUT", t.path, body=BODY)
    resp = exchange(any_server, sig.head, BODY, close="half")
    assert resp is not None and resp.status == 200, resp
    assert read_object(any_server, t) == BODY


def _upload_with_one_part(server: LakegateServer):
    s3 = boto3_client(server, "when_required").s3
    t = new_target()
    uid = s3.create_multipart_upload(Bucket=t.bucket, Key=t.key)["UploadId"]
    etag = s3.upload_part(Bucket=t.bucket, Key=t.key, UploadId=uid, PartNumber=1, Body=BODY)["ETag"]
    return s3, t, uid, etag


@pytest.mark.parametrize("close", ["half", "full"])
def test_upload_part_cut_short(any_server, close):
    """UploadPart 2 loses its connection mid-body: no part 2, and the upload completes with part 1."""
    s3, t, uid, etag = _upload_with_one_part(any_server)
    sig = signed_request(any_server, "PUT", t.path, query=f"partNumber=2&uploadId={quote(uid, safe='')}",
                         body=BODY * 2, content_length=len(BODY) * 2)
    resp = exchange(any_server, sig.head, BODY, close=close)
    if close == "half":
        assert_s3_error(resp, "IncompleteBody")
    assert [p["PartNumber"] for p in s3.list_parts(Bucket=t.bucket, Key=t.key, UploadId=uid).get("Parts", [])] == [1]
    assert_absent(any_server, t)
    s3.complete_multipart_upload(Bucket=t.bucket, Key=t.key, UploadId=uid,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    assert read_object(any_server, t) == BODY
