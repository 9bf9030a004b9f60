"""AbortMultipartUpload (204), on every server mode (default, ``--no-presign-multipart``
spooling, ``--no-presign``): afterwards the upload is in no ListMultipartUploads, nothing is in
ListObjectsV2, the object is absent (404), and ListParts / a second Abort / UploadPart /
Complete answer 404 NoSuchUpload (a late part or Complete creates nothing). Aborting one upload
leaves another upload of the same key intact, and aborting an upload of an existing key leaves
the object as it was. A completed upload's id is spent the same way."""

from __future__ import annotations

import pytest

from harness import BRANCH, BUCKET, md5_etag, random_bytes

from .support import (BRANCH_BUCKET, PART, complete, create, fail, new_rel, read, s3, spools, status,
                      upload_parts)

pytestmark = pytest.mark.matrix("boto3", "multipart put")


def test_abort_leaves_nothing(mode_server):
    c = s3(mode_server, "when_supported")
    rel = new_rel()
    key = f"{BRANCH}/{rel}"
    uid = create(c, BUCKET, key)
    parts = upload_parts(c, BUCKET, key, uid, [random_bytes(PART), random_bytes(1000)])
    assert [u["UploadId"] for u in c.list_multipart_uploads(Bucket=BUCKET, Prefix=key).get("Uploads", [])] == [uid]

    r = c.abort_multipart_upload(Bucket=BUCKET, Key=key, UploadId=uid)
    assert status(r) == 204

    for bucket, k in ((BUCKET, key), (BRANCH_BUCKET, rel)):
        assert c.list_multipart_uploads(Bucket=bucket, Prefix=k).get("Uploads", []) == []
        assert c.list_objects_v2(Bucket=bucket, Prefix=k)["KeyCount"] == 0
        assert fail(c.head_object, Bucket=bucket, Key=k) == (404, "404")
        assert fail(c.get_object, Bucket=bucket, Key=k) == (404, "NoSuchKey")
    assert fail(c.list_parts, Bucket=BUCKET, Key=key, UploadId=uid) == (404, "NoSuchUpload")
    assert fail(c.abort_multipart_upload, Bucket=BUCKET, Key=key, UploadId=uid) == (404, "NoSuchUpload")


def test_aborted_upload_takes_no_part_and_cannot_complete(mode_server, request):
    c = s3(mode_server, "when_required")
    key = f"{BRANCH}/{new_rel()}"
    uid = create(c, BUCKET, key)
    parts = upload_parts(c, BUCKET, key, uid, [random_bytes(1000)])
    assert status(c.abort_multipart_upload(Bucket=BUCKET, Key=key, UploadId=uid)) == 204
    assert fail(complete, c, BUCKET, key, uid, parts) == (404, "NoSuchUpload")
    assert fail(c.head_object, Bucket=BUCKET, Key=key) == (404, "404")
    assert fail(c.upload_part, Bucket=BUCKET, Key=key, UploadId=uid, PartNumber=2,
                Body=b"late") == (404, "NoSuchUpload")
    late = [{"PartNumber": 2, "ETag": md5_etag(b"late")}]
    assert fail(complete, c, BUCKET, key, uid, late) == (404, "NoSuchUpload")
    assert fail(c.head_object, Bucket=BUCKET, Key=key) == (404, "404")
    assert c.list_multipart_uploads(Bucket=BUCKET, Prefix=key).get("Uploads", []) == []


def test_abort_one_of_two_uploads_of_a_key(mode_server):
    c = s3(mode_server, "when_required")
    rel = new_rel()
    old = random_bytes(3000)
    c.put_object(Bucket=BRANCH_BUCKET, Key=rel, Body=old)
    gone = create(c, BRANCH_BUCKET, rel)
    kept = create(c, BRANCH_BUCKET, rel)
    assert gone != kept
    upload_parts(c, BRANCH_BUCKET, rel, gone, [random_bytes(10)])
    blobs = [random_bytes(2000)]
    parts = upload_parts(c, BRANCH_BUCKET, rel, kept, blobs)

    assert status(c.abort_multipart_upload(Bucket=BRANCH_BUCKET, Key=rel, UploadId=gone)) == 204
    # the object is untouched and the other upload still listed, with its part
    assert c.head_object(Bucket=BRANCH_BUCKET, Key=rel)["ETag"] == md5_etag(old)
    assert [u["UploadId"] for u in c.list_multipart_uploads(Bucket=BRANCH_BUCKET, Prefix=rel)["Uploads"]] == [kept]
    assert [p["ETag"] for p in c.list_parts(Bucket=BRANCH_BUCKET, Key=rel, UploadId=kept)["Parts"]] == [parts[0]["ETag"]]

    etag = complete(c, BRANCH_BUCKET, rel, kept, parts)["ETag"]
    got = c.get_object(Bucket=BUCKET, Key=f"{BRANCH}/{rel}")
    assert (got["Body"].read(), got["ETag"]) == (blobs[0], etag)  # the ETag's form: test_etags.py


def test_completed_upload_id_is_spent(mode_server, request):
    """After Complete the id takes no part and completes nothing else: the object stays."""
    c = s3(mode_server, "when_required")
    key = f"{BRANCH}/{new_rel()}"
    uid = create(c, BUCKET, key)
    first = random_bytes(2000)
    complete(c, BUCKET, key, uid, upload_parts(c, BUCKET, key, uid, [first]))
    assert fail(c.list_parts, Bucket=BUCKET, Key=key, UploadId=uid) == (404, "NoSuchUpload")
    assert fail(c.upload_part, Bucket=BUCKET, Key=key, UploadId=uid, PartNumber=1,
                Body=b"again") == (404, "NoSuchUpload")
    assert fail(complete, c, BUCKET, key, uid, [{"PartNumber": 1, "ETag": md5_etag(b"again")}]) == (
        404, "NoSuchUpload")
    assert read(c, BUCKET, key) == first
