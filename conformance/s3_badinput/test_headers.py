"""Headers S3 refuses: huge user metadata, oversized header sections, wrong digests.

AWS documents (Error responses; "Working with object metadata"):
* user-defined metadata is at most 2 KB, measured as the sum of the UTF-8 bytes of every key
  (after ``x-amz-meta-``) and value: beyond it ``400 MetadataTooLarge``, on PutObject and on
  CreateMultipartUpload alike;
* a request header section over 8 KB is ``400 RequestHeaderSectionTooLarge``;
* ``Content-MD5`` that does not match the body is ``400 BadDigest``, one that is not a base64
  MD5 ``400 InvalidDigest``;
* ``x-amz-content-sha256`` that does not match the body is ``400 XAmzContentSHA256Mismatch``, one
  that is neither a SHA-256 nor a known marker ``400 InvalidArgument``.
No refused request leaves an object behind.
"""

from __future__ import annotations

import hashlib
from typing import Dict
from urllib.parse import quote

import pytest

from harness import boto3_client

from .support import BUCKET_FORMS, UNSIGNED, assert_absent, assert_s3_error, md5_b64, new_target, send

BODY = b"the body the digests are about"
META_LIMIT = 2048


def _metadata(total: int, pairs: int = 1) -> Dict[str, str]:
    """``pairs`` x-amz-meta-* headers whose names (after the prefix) and values add up to
    ``total`` bytes."""
    names = [f"m{i:03d}" for i in range(pairs)]
    room = total - sum(map(len, names))
    sizes = [room // pairs + (1 if i < room % pairs else 0) for i in range(pairs)]
    return {f"x-amz-meta-{n}": "v" * size for n, size in zip(names, sizes)}


@pytest.mark.parametrize("form", BUCKET_FORMS)
@pytest.mark.parametrize("total,pairs", [(META_LIMIT + 1, 1), (META_LIMIT + 1, 40), (64 * 1024 // 10, 1)],
                         ids=["2049-in-one", "2049-in-40", "6k"])
def test_put_metadata_too_large(server, form, total, pairs):
    t = new_target(form)
    resp = send(server, "PUT", t.path, body=BODY, headers=_metadata(total, pairs))
    assert_s3_error(resp, "MetadataTooLarge")
    assert_absent(server, t)


def test_put_metadata_at_the_limit_is_stored(server):
    t = new_target()
    meta = _metadata(META_LIMIT, 8)
    resp = send(server, "PUT", t.path, body=BODY, headers=meta)
    assert resp is not None and resp.status == 200, resp
    head = boto3_client(server, "when_required").s3.head_object(Bucket=t.bucket, Key=t.key)
    assert head["Metadata"] == {k[len("x-amz-meta-"):]: v for k, v in meta.items()}


def test_create_multipart_upload_metadata_too_large(server):
    t = new_target()
    resp = send(server, "POST", t.path, query="uploads=", headers=_metadata(META_LIMIT + 1, 3))
    assert_s3_error(resp, "MetadataTooLarge")
    ups = boto3_client(server, "when_required").s3.list_multipart_uploads(Bucket=t.bucket, Prefix=t.prefix)
    assert ups.get("Uploads", []) == []


def test_header_section_over_8k(server):
    """Just over S3's 8 KB: the S3 error, as an XML document."""
    t = new_target()
    assert_s3_error(send(server, "PUT", t.path, body=BODY, headers={"x-s3b-pad": "p" * 9000}),
                    "RequestHeaderSectionTooLarge")
    assert_absent(server, t)


@pytest.mark.parametrize("headers", [
    pytest.param({"x-s3b-pad": "p" * 70_000}, id="one-70k-header"),
    pytest.param({f"x-s3b-pad-{i}": "p" * 8 for i in range(1000)}, id="1000-headers"),
])
def test_header_section_far_over_8k(server, headers):
    t = new_target()
    resp = send(server, "PUT", t.path, body=BODY, headers=headers)
    try:
        assert_s3_error(resp, "RequestHeaderSectionTooLarge")
    finally:
        assert_absent(server, t)


@pytest.mark.parametrize("form", BUCKET_FORMS)
@pytest.mark.parametrize("payload", ["signed", UNSIGNED])
def test_content_md5_mismatch(server, form, payload):
    t = new_target(form)
    resp = send(server, "PUT", t.path, body=BODY, headers={"Content-MD5": md5_b64(BODY + b"!")},
                payload_hash=UNSIGNED if payload == UNSIGNED else None)
    assert_s3_error(resp, "BadDigest")
    assert_absent(server, t)


@pytest.mark.parametrize("value", ["not base64!", "AAAA", md5_b64(BODY)[:-4]], ids=["garbage", "3-bytes", "short"])
def test_content_md5_invalid(server, value):
    t = new_target()
    assert_s3_error(send(server, "PUT", t.path, body=BODY, headers={"Content-MD5": value}), "InvalidDigest")
    assert_absent(server, t)


@pytest.mark.parametrize("form", BUCKET_FORMS)
@pytest.mark.parametrize("size", [0, 1, 256 * 1024])
def test_content_sha256_mismatch(server, form, size):
    """A signed payload hash that is not the body's: the signature is right, the body is not."""
    t = new_target(form)
    body = b"s" * size
    resp = send(server, "PUT", t.path, body=body, payload_hash=hashlib.sha256(body + b"!").hexdigest())
    assert_s3_error(resp, "XAmzContentSHA256Mismatch")
    assert_absent(server, t)


@pytest.mark.parametrize("value", ["nothex", "g" * 64, "UNSIGNED-PAYLOAD-X"])
def test_content_sha256_invalid_value(server, value):
    t = new_target()
    assert_s3_error(send(server, "PUT", t.path, body=BODY, payload_hash=value), "InvalidArgument")
    assert_absent(server, t)


def test_upload_part_content_md5_mismatch(server):
    """A part with a wrong Content-MD5 is refused and not recorded; the upload stays usable."""
    t = new_target()
    s3 = boto3_client(server, "when_required").s3
    uid = s3.create_multipart_upload(Bucket=t.bucket, Key=t.key)["UploadId"]
    resp = send(server, "PUT", t.path, query=f"partNumber=1&uploadId={quote(uid, safe='')}", body=BODY,
                headers={"Content-MD5": md5_b64(b"other")})
    assert_s3_error(resp, "BadDigest")
    assert s3.list_parts(Bucket=t.bucket, Key=t.key, UploadId=uid).get("Parts", []) == []
    s3.abort_multipart_upload(Bucket=t.bucket, Key=t.key, UploadId=uid)
    assert_absent(server, t)
