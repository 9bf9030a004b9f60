"""Invalid bucket names on CreateBucket, and object keys S3 refuses or must keep literally.

AWS's bucket naming rules (general purpose buckets): 3-63 characters of lowercase letters,
digits, dots and hyphens; starting and ending with a letter or digit; no two adjacent dots; not
formatted as an IP address; not starting with ``xn--``. Anything else is ``400 InvalidBucketName``.

Keys: at most 1,024 bytes of UTF-8 (``400 KeyTooLongError``). A path that does not decode to
UTF-8, or whose percent-encoding is broken, cannot be parsed (AWS: ``400 InvalidURI``; lakegate
answers ``InvalidArgument``, also a 400 S3 documents for bad request arguments). S3 does no path
normalisation: ``a/../x`` and ``./x`` are literal keys, never another object. No answer is a 500,
and a refused PUT leaves no object behind.
"""

from __future__ import annotations

import posixpath
import uuid

import pytest

from harness import BUCKET, LakegateServer, boto3_client

from .support import (BUCKET_FORMS, Target, assert_absent, assert_no_object, assert_s3_error, listed,
                      new_target, read_object, send)

BAD_URI = ("InvalidURI", "InvalidArgument")


def _tag() -> str:
    return uuid.uuid4().hex[:10]


def _xfail(reason: str):
    return pytest.mark.xfail(strict=True, reason=f"lakegate bug: {reason}")


BAD_BUCKET_NAMES = [
    pytest.param(lambda: f"S3b-Upper-{_tag()}", id="uppercase"),
    pytest.param(lambda: "ab", id="too-short"),
    pytest.param(lambda: "b" * 64, id="too-long"),
    pytest.param(lambda: f"s3b_{_tag()}", id="underscore"),
    pytest.param(lambda: f"-s3b-{_tag()}", id="leading-hyphen"),
    pytest.param(lambda: f"s3b-{_tag()}%00", id="nul"),
    pytest.param(lambda: f"s3b..{_tag()}", id="adjacent-dots"),
    pytest.param(lambda: "192.168.7.1", id="ip-address"),
    pytest.param(lambda: f".s3b-{_tag()}", id="leading-dot"),
    pytest.param(lambda: f"s3b-{_tag()}-", id="trailing-hyphen"),
    pytest.param(lambda: f"xn--s3b{_tag()}", id="xn-prefix"),
    pytest.param(lambda: f"{BUCKET}.S3b-{_tag()}", id="uppercase-branch"),
    pytest.param(lambda: f"{BUCKET}.s3b..{_tag()}", id="adjacent-dots-branch"),
]


def _drop_bucket(server: LakegateServer, name: str) -> None:
    """Remove a bucket a buggy CreateBucket made, so the session server stays clean."""
    boto3_client(server, "when_required").s3.delete_bucket(Bucket=name)


@pytest.mark.parametrize("make_name", BAD_BUCKET_NAMES)
def test_create_bucket_invalid_name(server, make_name):
    name = make_name()
    resp = send(server, "PUT", "/" + name)
    try:
        assert_s3_error(resp, "InvalidBucketName")
    finally:
        if resp is not None and resp.status == 200:
            _drop_bucket(server, name)


def _key_path(t: Target, raw_tail: str) -> str:
    """The request path of ``t``'s directory followed by ``raw_tail`` exactly as given (already
    percent-encoded, possibly wrongly)."""
    return t.path.rsplit("/", 1)[0] + "/" + raw_tail


@pytest.mark.parametrize("form", BUCKET_FORMS)
@pytest.mark.parametrize("tail", ["a%FFb", "a%C3", "%C0%AF", "%ED%A0%80"],
                         ids=["ff-byte", "truncated-sequence", "overlong-slash", "surrogate"])
def test_key_not_utf8_once_decoded(server, form, tail):
    t = new_target(form)
    assert_s3_error(send(server, "PUT", _key_path(t, tail), body=b"v"), *BAD_URI)
    assert_absent(server, t)


@pytest.mark.parametrize("tail", ["a%G1", "a%", "a%2"], ids=["non-hex", "bare-percent", "one-digit"])
def test_key_with_broken_percent_encoding(server, tail):
    t = new_target()
    resp = send(server, "PUT", _key_path(t, tail), body=b"v")
    try:
        assert_s3_error(resp, *BAD_URI)
    finally:
        assert_absent(server, t)


@pytest.mark.parametrize("form", BUCKET_FORMS)
def test_key_with_nul_byte(server, form):
    """``%00`` in a key: refused with a 400 S3 error (lakeFS cannot store it), nothing written."""
    t = new_target(form)
    assert_s3_error(send(server, "PUT", _key_path(t, "a%00b"), body=b"v"), *BAD_URI, "InvalidRequest")
    assert_absent(server, t)


@_xfail("raw 0xFF in the request target is refused by the HTTP layer with an empty 400 "
        "(no S3 error document, no x-amz-request-id)")
def test_raw_non_utf8_bytes_in_path(server):
    t = new_target()
    wire = _key_path(t, "a").encode() + b"\xffb"
    resp = send(server, "PUT", _key_path(t, "a%FFb"), body=b"v", wire_path=wire)
    try:
        assert_s3_error(resp, *BAD_URI)
    finally:
        assert_absent(server, t)


def test_raw_utf8_bytes_in_path_are_the_key(server):
    """The control: raw (unencoded) UTF-8 in the path is the key it spells."""
    t = new_target(name="é")
    resp = send(server, "PUT", t.path, body=b"v", wire_path=t.path.replace("%C3%A9", "é").encode())
    assert resp is not None and resp.status == 200, resp
    assert read_object(server, t) == b"v"


@pytest.mark.parametrize("form", BUCKET_FORMS)
@pytest.mark.parametrize("length", [1025, 4096])
def test_key_too_long(server, form, length):
    t = new_target(form)
    long_target = Target(t.bucket, t.prefix + "k" * (length - len(t.prefix)))
    assert len(long_target.key.encode()) == length
    assert_s3_error(send(server, "PUT", long_target.path, body=b"v"), "KeyTooLongError")
    assert listed(server, long_target) == []  # (HeadObject of such a key is itself a 400)


def test_key_of_1024_bytes_is_allowed(server):
    t = new_target()
    full = Target(t.bucket, t.prefix + "k" * (1024 - len(t.prefix)))
    resp = send(server, "PUT", full.path, body=b"v")
    assert resp is not None and resp.status == 200, resp
    assert read_object(server, full) == b"v"


@pytest.mark.parametrize("form", BUCKET_FORMS)
@pytest.mark.parametrize("tail", ["a/../x", "../x", "./x", "a/./x", ".."])
def test_dot_segments_are_literal_keys(server, form, tail):
    """S3 normalises nothing: the object lands at the literal key, not where ``..`` points."""
    t = new_target(form)
    resp = send(server, "PUT", _key_path(t, tail), body=b"dots")
    assert resp is not None and resp.status == 200, resp
    literal = Target(t.bucket, t.prefix + tail)
    assert listed(server, t) == [literal.key]
    assert read_object(server, literal) == b"dots"
    normalised = posixpath.normpath(literal.key)
    if normalised != literal.key and not normalised.startswith(".."):
        assert_no_object(server, Target(t.bucket, normalised))
