"""Refusals of multipart requests, as boto3 reports them (HTTP status, S3 error code):
CompleteMultipartUpload with parts out of order (InvalidPartOrder), a wrong or unknown part ETag
(InvalidPart), a non-last part under 5 MiB (EntityTooSmall), no parts (MalformedXML); upload ids
that are unknown, tampered with or used on another key (404 NoSuchUpload on every operation);
part numbers outside 1..10000 (InvalidArgument); ``If-None-Match: *`` on Complete over an
existing object (412 PreconditionFailed). A refused Complete leaves the upload usable."""

from __future__ import annotations

import pytest

from harness import BUCKET, md5_etag, random_bytes

from .support import PART, complete, create, fail, mpu_etag, new_key, read, s3, status, upload_parts

pytestmark = pytest.mark.matrix("boto3", "multipart put", "error codes")


@pytest.fixture
def c(server):
    return s3(server)


def _two_part_upload(c, small_first: bool = False):
    key = new_key()
    uid = create(c, BUCKET, key)
    blobs = [random_bytes(1024 if small_first else PART), random_bytes(1000)]
    return key, uid, blobs, upload_parts(c, BUCKET, key, uid, blobs)


def _still_completes(c, key, uid, blobs, parts):
    """The upload survived the refusal: the right list completes it."""
    r = complete(c, BUCKET, key, uid, parts)
    assert r["ETag"] == mpu_etag(blobs)
    assert read(c, BUCKET, key) == b"".join(blobs)


def test_parts_out_of_order_are_invalid_part_order(c):
    key, uid, blobs, parts = _two_part_upload(c)
    assert fail(complete, c, BUCKET, key, uid, [parts[1], parts[0]]) == (400, "InvalidPartOrder")
    # a part listed twice is not ascending either
    assert fail(complete, c, BUCKET, key, uid, [parts[0], parts[0], parts[1]]) == (400, "InvalidPartOrder")
    assert fail(c.head_object, Bucket=BUCKET, Key=key) == (404, "404")
    _still_completes(c, key, uid, blobs, parts)


def test_wrong_or_unknown_part_is_invalid_part(c):
    key, uid, blobs, parts = _two_part_upload(c)
    wrong = [parts[0], {"PartNumber": 2, "ETag": md5_etag(b"something else")}]
    assert fail(complete, c, BUCKET, key, uid, wrong) == (400, "InvalidPart")
    never_uploaded = [parts[0], {"PartNumber": 3, "ETag": md5_etag(b"x")}]
    assert fail(complete, c, BUCKET, key, uid, never_uploaded) == (400, "InvalidPart")
    _still_completes(c, key, uid, blobs, parts)


def test_small_non_last_part_is_entity_too_small(c):
    key, uid, blobs, parts = _two_part_upload(c, small_first=True)
    assert fail(complete, c, BUCKET, key, uid, parts) == (400, "EntityTooSmall")
    assert fail(c.head_object, Bucket=BUCKET, Key=key) == (404, "404")
    # a small part is fine as the last (here: only) one
    r = complete(c, BUCKET, key, uid, parts[:1])
    assert r["ETag"] == mpu_etag(blobs[:1])
    assert read(c, BUCKET, key) == blobs[0]


def test_empty_parts_list_is_malformed_xml(c):
    key, uid, blobs, parts = _two_part_upload(c)
    assert fail(complete, c, BUCKET, key, uid, []) == (400, "MalformedXML")
    # no body at all
    assert fail(c.complete_multipart_upload, Bucket=BUCKET, Key=key, UploadId=uid) == (400, "MalformedXML")
    _still_completes(c, key, uid, blobs, parts)


def _every_operation_is_no_such_upload(c, key: str, uid: str) -> None:
    part = {"PartNumber": 1, "ETag": md5_etag(b"p")}
    assert fail(c.upload_part, Bucket=BUCKET, Key=key, UploadId=uid, PartNumber=1, Body=b"p") == (404, "NoSuchUpload")
    assert fail(c.list_parts, Bucket=BUCKET, Key=key, UploadId=uid) == (404, "NoSuchUpload")
    assert fail(complete, c, BUCKET, key, uid, [part]) == (404, "NoSuchUpload")
    assert fail(c.abort_multipart_upload, Bucket=BUCKET, Key=key, UploadId=uid) == (404, "NoSuchUpload")


def test_unknown_upload_id_is_no_such_upload(c):
    _every_operation_is_no_such_upload(c, new_key(), "bm90LWFuLXVwbG9hZA")
    _every_operation_is_no_such_upload(c, new_key(), "2~kT7BTL4ZmTDA1rTgOYYT8o1Wu1CfY8L")  # S3-shaped


def test_tampered_upload_id_is_no_such_upload(c):
    key, uid, blobs, parts = _two_part_upload(c)
    for i in (len(uid) // 3, len(uid) // 2, len(uid) - 2):  # payload and signature
        flipped = uid[:i] + ("A" if uid[i] != "A" else "B") + uid[i + 1:]
        _every_operation_is_no_such_upload(c, key, flipped)
    _every_operation_is_no_such_upload(c, key, uid[:-1])
    _every_operation_is_no_such_upload(c, key, uid + "A")
    # the genuine id still works and still has both parts
    assert [p["PartNumber"] for p in c.list_parts(Bucket=BUCKET, Key=key, UploadId=uid)["Parts"]] == [1, 2]
    _still_completes(c, key, uid, blobs, parts)


def test_upload_id_on_another_key_is_no_such_upload(c):
    key, uid, blobs, parts = _two_part_upload(c)
    other = new_key()
    _every_operation_is_no_such_upload(c, other, uid)
    _every_operation_is_no_such_upload(c, key + ".other", uid)
    assert fail(c.head_object, Bucket=BUCKET, Key=other) == (404, "404")
    _still_completes(c, key, uid, blobs, parts)


@pytest.mark.parametrize("number", [0, 10001])
def test_part_number_out_of_range_is_invalid_argument(c, number):
    key = new_key()
    uid = create(c, BUCKET, key)
    assert fail(c.upload_part, Bucket=BUCKET, Key=key, UploadId=uid, PartNumber=number,
                Body=b"data") == (400, "InvalidArgument")
    assert fail(complete, c, BUCKET, key, uid, [{"PartNumber": number, "ETag": md5_etag(b"data")}]) == (
        400, "InvalidArgument")
    assert c.list_parts(Bucket=BUCKET, Key=key, UploadId=uid).get("Parts", []) == []
    # the bounds themselves are valid
    parts = upload_parts(c, BUCKET, key, uid, [random_bytes(100)], first=10000)
    assert complete(c, BUCKET, key, uid, parts)["ETag"].endswith('-1"')


def test_reuploaded_part_replaces_the_earlier_one(c):
    key = new_key()
    uid = create(c, BUCKET, key)
    old = upload_parts(c, BUCKET, key, uid, [random_bytes(2000)])
    new_data = random_bytes(3000)
    new = upload_parts(c, BUCKET, key, uid, [new_data])
    listed = c.list_parts(Bucket=BUCKET, Key=key, UploadId=uid)["Parts"]
    assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in listed] == [(1, new[0]["ETag"], 3000)]
    assert fail(complete, c, BUCKET, key, uid, old) == (400, "InvalidPart")
    assert complete(c, BUCKET, key, uid, new)["ETag"] == mpu_etag([new_data])
    assert read(c, BUCKET, key) == new_data


def test_if_none_match_star_on_complete(c):
    # absent object: the condition holds
    key, uid, blobs, parts = _two_part_upload(c)
    r = complete(c, BUCKET, key, uid, parts, IfNoneMatch="*")
    assert (status(r), r["ETag"]) == (200, mpu_etag(blobs))
    # existing object: 412, the object keeps its bytes, the upload can still be completed
    uid2 = create(c, BUCKET, key)
    blobs2 = [random_bytes(4096)]
    parts2 = upload_parts(c, BUCKET, key, uid2, blobs2)
    assert fail(complete, c, BUCKET, key, uid2, parts2, IfNoneMatch="*") == (412, "PreconditionFailed")
    assert c.head_object(Bucket=BUCKET, Key=key)["ETag"] == mpu_etag(blobs)
    assert read(c, BUCKET, key) == b"".join(blobs)
    assert [p["PartNumber"] for p in c.list_parts(Bucket=BUCKET, Key=key, UploadId=uid2)["Parts"]] == [1]
    assert complete(c, BUCKET, key, uid2, parts2)["ETag"] == mpu_etag(blobs2)
    assert read(c, BUCKET, key) == blobs2[0]
