"""Additional checksums of multipart uploads (``ChecksumAlgorithm`` on CreateMultipartUpload):
per-part values in UploadPart responses and ListParts; the object's COMPOSITE value
(``<checksum of the part checksums>-N``) for CRC32 / SHA1 / SHA256, FULL_OBJECT values equal to
the checksum of the whole object for CRC64NVME (its default type) and for CRC32 with
``ChecksumType=FULL_OBJECT``, as Complete, HeadObject and GetObject (``ChecksumMode=ENABLED``)
report them. A part whose checksum does not match its bytes is BadDigest, a part checksum of
another algorithm InvalidRequest, a wrong whole-object value on Complete BadDigest.

CRC64NVME parts carry values this suite computes (botocore computes CRC64NVME only with awscrt).
"""

from __future__ import annotations

import hashlib

import pytest

from harness import BUCKET, POLICIES, random_bytes

from .support import (BRANCH_BUCKET, PART, b64, checksum, complete, composite, crc64nvme_bytes,
                      crc64nvme_update, create, fail, mpu_etag, new_key, new_rel, read, s3, upload_parts)

pytestmark = pytest.mark.matrix("boto3", "multipart put", "checksums")

FIELD = {"CRC32": "ChecksumCRC32", "SHA1": "ChecksumSHA1", "SHA256": "ChecksumSHA256",
         "CRC64NVME": "ChecksumCRC64NVME"}


def _check_reported(c, bucket: str, key: str, field: str, value: str) -> None:
    """HEAD and GET with ``ChecksumMode=ENABLED`` show the value Complete answered (their
    ``x-amz-checksum-type``: test_head_and_get_report_the_checksum_type)."""
    h = c.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    assert h.get(field) == value, h
    g = c.get_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    g["Body"].read()
    assert g.get(field) == value, g


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("algorithm", ["CRC32", "SHA1", "SHA256"])
def test_composite_checksum(server, policy, algorithm):
    c = s3(server, policy)
    field = FIELD[algorithm]
    key = new_key()
    r = c.create_multipart_upload(Bucket=BUCKET, Key=key, ChecksumAlgorithm=algorithm)
    assert (r.get("ChecksumAlgorithm"), r.get("ChecksumType")) == (algorithm, "COMPOSITE"), r
    uid = r["UploadId"]
    blobs = [random_bytes(PART), random_bytes(PART), random_bytes(12345)]
    parts = upload_parts(c, BUCKET, key, uid, blobs, ChecksumAlgorithm=algorithm)
    assert [p.get(field) for p in parts] == [checksum(algorithm, b) for b in blobs]
    listed = c.list_parts(Bucket=BUCKET, Key=key, UploadId=uid)
    assert [p.get(field) for p in listed["Parts"]] == [checksum(algorithm, b) for b in blobs]
    assert listed.get("ChecksumAlgorithm") == algorithm

    done = complete(c, BUCKET, key, uid, parts)
    want = composite(algorithm, blobs)
    assert want.endswith("-3")
    assert (done.get(field), done.get("ChecksumType"), done["ETag"]) == (want, "COMPOSITE", mpu_etag(blobs)), done
    _check_reported(c, BUCKET, key, field, want)
    assert read(c, BUCKET, key) == b"".join(blobs)


@pytest.mark.parametrize("where", ["default", "https", "no-presign-multipart", "no-presign"])
def test_crc32_composite_on_every_mode(request, where):
    """boto3's default (when_supported: CRC32 per part; over HTTPS aws-chunked with a trailer)."""
    srv = request.getfixturevalue({"default": "server", "https": "https_server",
                                   "no-presign-multipart": "spool_server", "no-presign": "nopresign_server"}[where])
    c = s3(srv, "when_supported")
    key = new_key()
    uid = create(c, BUCKET, key, ChecksumAlgorithm="CRC32")
    blobs = [random_bytes(PART), random_bytes(999)]
    parts = upload_parts(c, BUCKET, key, uid, blobs, ChecksumAlgorithm="CRC32")
    assert [p["ChecksumCRC32"] for p in parts] == [checksum("CRC32", b) for b in blobs]
    done = complete(c, BUCKET, key, uid, parts)
    assert (done.get("ChecksumCRC32"), done.get("ChecksumType")) == (composite("CRC32", blobs), "COMPOSITE")
    _check_reported(c, BUCKET, key, "ChecksumCRC32", composite("CRC32", blobs))
    assert read(c, BUCKET, key) == b"".join(blobs)


def test_crc32_composite_through_branch_bucket_without_part_values(server):
    """Parts sent without a checksum (when_required client, no ChecksumAlgorithm on UploadPart):
    lakegate computes each part's CRC32 for the upload's algorithm itself."""
    c = s3(server, "when_required")
    rel = new_rel()
    uid = create(c, BRANCH_BUCKET, rel, ChecksumAlgorithm="CRC32")
    blobs = [random_bytes(PART), random_bytes(777)]
    parts = upload_parts(c, BRANCH_BUCKET, rel, uid, blobs)
    assert [p.get("ChecksumCRC32") for p in parts] == [checksum("CRC32", b) for b in blobs]
    bare = [{"PartNumber": p["PartNumber"], "ETag": p["ETag"]} for p in parts]
    done = complete(c, BRANCH_BUCKET, rel, uid, bare)
    assert done.get("ChecksumCRC32") == composite("CRC32", blobs)
    _check_reported(c, BUCKET, f"main/{rel}", "ChecksumCRC32", composite("CRC32", blobs))


@pytest.mark.parametrize("policy", POLICIES)
def test_crc64nvme_is_full_object(server, policy):
    c = s3(server, policy)
    key = new_key()
    r = c.create_multipart_upload(Bucket=BUCKET, Key=key, ChecksumAlgorithm="CRC64NVME")
    assert (r.get("ChecksumAlgorithm"), r.get("ChecksumType")) == ("CRC64NVME", "FULL_OBJECT"), r
    uid = r["UploadId"]
    blobs = [random_bytes(PART), random_bytes(40_000)]
    # one pass over the data: the first part's register continues into the second's bytes
    first = crc64nvme_update(blobs[0])
    whole = b64(crc64nvme_bytes(crc64nvme_update(blobs[1], first)))
    values = [b64(crc64nvme_bytes(first)), checksum("CRC64NVME", blobs[1])]
    parts = []
    for n, (data, value) in enumerate(zip(blobs, values), start=1):
        p = c.upload_part(Bucket=BUCKET, Key=key, UploadId=uid, PartNumber=n, Body=data, ChecksumCRC64NVME=value)
        assert p.get("ChecksumCRC64NVME") == value, p
        parts.append({"PartNumber": n, "ETag": p["ETag"], "ChecksumCRC64NVME": value})

    # a wrong whole-object value is refused, the right one accepted
    wrong = b64(crc64nvme_bytes(crc64nvme_update(b"not the object")))
    assert fail(complete, c, BUCKET, key, uid, parts, ChecksumCRC64NVME=wrong,
                ChecksumType="FULL_OBJECT") == (400, "BadDigest")
    done = complete(c, BUCKET, key, uid, parts, ChecksumCRC64NVME=whole, ChecksumType="FULL_OBJECT")
    assert (done.get("ChecksumCRC64NVME"), done.get("ChecksumType")) == (whole, "FULL_OBJECT"), done
    assert done["ETag"] == mpu_etag(blobs)
    _check_reported(c, BUCKET, key, "ChecksumCRC64NVME", whole)
    assert read(c, BUCKET, key) == b"".join(blobs)


@pytest.mark.parametrize("policy", POLICIES)
def test_crc32_full_object(server, policy):
    c = s3(server, policy)
    key = new_key()
    r = c.create_multipart_upload(Bucket=BUCKET, Key=key, ChecksumAlgorithm="CRC32", ChecksumType="FULL_OBJECT")
    assert (r.get("ChecksumAlgorithm"), r.get("ChecksumType")) == ("CRC32", "FULL_OBJECT"), r
    uid = r["UploadId"]
    blobs = [random_bytes(PART), random_bytes(PART + 3), random_bytes(1)]
    parts = upload_parts(c, BUCKET, key, uid, blobs, ChecksumAlgorithm="CRC32")
    done = complete(c, BUCKET, key, uid, parts, ChecksumType="FULL_OBJECT")
    whole = checksum("CRC32", b"".join(blobs))
    assert (done.get("ChecksumCRC32"), done.get("ChecksumType")) == (whole, "FULL_OBJECT"), done
    _check_reported(c, BUCKET, key, "ChecksumCRC32", whole)


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.matrix("boto3", "multipart put", "checksums", "error codes")
def test_wrong_part_checksum_is_bad_digest(server, policy):
    c = s3(server, policy)
    key = new_key()
    uid = create(c, BUCKET, key, ChecksumAlgorithm="CRC32")
    data = random_bytes(100_000)
    assert fail(c.upload_part, Bucket=BUCKET, Key=key, UploadId=uid, PartNumber=1, Body=data,
                ChecksumCRC32=checksum("CRC32", data + b"!")) == (400, "BadDigest")
    assert fail(c.upload_part, Bucket=BUCKET, Key=key, UploadId=uid, PartNumber=1, Body=data,
                ChecksumSHA256=checksum("SHA256", data)) == (400, "InvalidRequest")
    # nothing was recorded; a correct part then completes
    assert c.list_parts(Bucket=BUCKET, Key=key, UploadId=uid).get("Parts", []) == []
    parts = upload_parts(c, BUCKET, key, uid, [data], ChecksumCRC32=checksum("CRC32", data))
    assert complete(c, BUCKET, key, uid, parts)["ChecksumCRC32"] == composite("CRC32", [data])
    assert read(c, BUCKET, key) == data


@pytest.mark.matrix("boto3", "multipart put", "checksums", "error codes")
def test_wrong_content_md5_on_part_is_bad_digest(server):
    c = s3(server, "when_required")
    key = new_key()
    uid = create(c, BUCKET, key)
    data = random_bytes(5000)
    bad_md5 = b64(hashlib.md5(data + b"!").digest())
    assert fail(c.upload_part, Bucket=BUCKET, Key=key, UploadId=uid, PartNumber=1, Body=data,
                ContentMD5=bad_md5) == (400, "BadDigest")
    c.abort_multipart_upload(Bucket=BUCKET, Key=key, UploadId=uid)


@pytest.mark.parametrize("kind", ["COMPOSITE", "FULL_OBJECT"])
def test_head_and_get_report_the_checksum_type(server, kind):
    c = s3(server, "when_supported")
    key = new_key()
    uid = create(c, BUCKET, key, ChecksumAlgorithm="CRC32", ChecksumType=kind)
    blobs = [random_bytes(PART), random_bytes(10)]
    parts = upload_parts(c, BUCKET, key, uid, blobs, ChecksumAlgorithm="CRC32")
    done = complete(c, BUCKET, key, uid, parts, **({"ChecksumType": kind} if kind == "FULL_OBJECT" else {}))
    assert done.get("ChecksumType") == kind, done
    h = c.head_object(Bucket=BUCKET, Key=key, ChecksumMode="ENABLED")
    g = c.get_object(Bucket=BUCKET, Key=key, ChecksumMode="ENABLED")
    g["Body"].read()
    assert (h.get("ChecksumType"), g.get("ChecksumType")) == (kind, kind), (h["ResponseMetadata"], g["ResponseMetadata"])
