"""boto3's transfer manager: ``upload_file`` of 40 MiB with 5 MiB parts and 8 threads (an 8-part
upload, parts in parallel and out of order) in both request-checksum modes, over HTTP and over
HTTPS (where boto3 sends each part aws-chunked with a trailing CRC32), read back byte for byte
(``download_file``, ranged and threaded). The multipart ETag ``"<md5 of the part MD5s>-N"`` is
the same in CompleteMultipartUpload, HeadObject, GetObject, ListObjectsV2 and ListObjects, on
every server mode; the transfer manager's round trip works on every mode too."""

from __future__ import annotations

import hashlib

import pytest

from harness import BRANCH, BUCKET, MiB, random_bytes, sha256

from .support import (BRANCH_BUCKET, BUG_NO_PRESIGN_ETAG, PART, complete, create, known_bug, listed_etag,
                      mpu_etag, new_rel, s3, storage, transfer_config, upload_parts)

pytestmark = pytest.mark.matrix("boto3", "multipart put")

SIZE = 40 * MiB


@pytest.fixture(scope="module")
def blob() -> bytes:
    return random_bytes(SIZE)


def _file_sha256(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(MiB), b""):
            h.update(block)
    return h.hexdigest()


def _chunks(data: bytes, size: int = PART):
    return [data[i:i + size] for i in range(0, len(data), size)]


@pytest.mark.parametrize("policy", ["when_supported", "when_required"])
@pytest.mark.parametrize("scheme", ["http", "https"])
def test_upload_file_40mib(request, scheme, policy, blob, tmp_path):
    srv = request.getfixturevalue("server" if scheme == "http" else "https_server")
    assert srv.scheme == scheme
    c = s3(srv, policy)
    src = tmp_path / "up.bin"
    src.write_bytes(blob)
    rel = new_rel("forty.bin")
    c.upload_file(str(src), BRANCH_BUCKET, rel, Config=transfer_config())

    want = mpu_etag(_chunks(blob))
    assert want.endswith('-8"')
    h = c.head_object(Bucket=BUCKET, Key=f"{BRANCH}/{rel}", ChecksumMode="ENABLED")
    assert (h["ContentLength"], h["ETag"]) == (SIZE, want)
    if policy == "when_supported":  # boto3 asked for CRC32 on create and sent every part's value
        assert h.get("ChecksumCRC32", "").endswith("-8"), h
    assert listed_etag(c, BUCKET, f"{BRANCH}/{rel}") == want

    dst = tmp_path / "down.bin"
    c.download_file(BUCKET, f"{BRANCH}/{rel}", str(dst), Config=transfer_config())
    assert dst.stat().st_size == SIZE
    assert _file_sha256(dst) == sha256(blob)
    assert c.get_object(Bucket=BRANCH_BUCKET, Key=rel, Range="bytes=0-0")["ETag"] == want


def test_upload_file_on_every_mode(mode_server, tmp_path):
    """A 4-part transfer-manager upload (20 MiB) and download, byte for byte, per server mode;
    the ETag agrees across HEAD, GET and listing."""
    c = s3(mode_server, "when_supported")
    data = random_bytes(4 * PART - 12345)
    src = tmp_path / "up.bin"
    src.write_bytes(data)
    rel = new_rel("twenty.bin")
    c.upload_file(str(src), BUCKET, f"{BRANCH}/{rel}", Config=transfer_config(concurrency=4))
    dst = tmp_path / "down.bin"
    c.download_file(BRANCH_BUCKET, rel, str(dst), Config=transfer_config(concurrency=4))
    assert _file_sha256(dst) == sha256(data)
    h = c.head_object(Bucket=BRANCH_BUCKET, Key=rel)
    assert h["ContentLength"] == len(data)
    assert listed_etag(c, BRANCH_BUCKET, rel) == h["ETag"]
    assert c.get_object(Bucket=BRANCH_BUCKET, Key=rel, Range="bytes=-1")["ETag"] == h["ETag"]


def test_multipart_etag_everywhere(mode_server, request):
    known_bug(request, not storage(mode_server).get("pre_sign_support"), BUG_NO_PRESIGN_ETAG)
    c = s3(mode_server)
    rel = new_rel()
    key = f"{BRANCH}/{rel}"
    uid = create(c, BUCKET, key)
    blobs = [random_bytes(PART), random_bytes(PART), random_bytes(5)]
    done = complete(c, BUCKET, key, uid, upload_parts(c, BUCKET, key, uid, blobs))
    want = mpu_etag(blobs)
    seen = {
        "complete": done["ETag"],
        "head": c.head_object(Bucket=BUCKET, Key=key)["ETag"],
        "get": c.get_object(Bucket=BRANCH_BUCKET, Key=rel, Range="bytes=0-9")["ETag"],
        "list-v2": listed_etag(c, BUCKET, key),
        "list-v1": [o["ETag"] for o in c.list_objects(Bucket=BRANCH_BUCKET, Prefix=rel)["Contents"]],
    }
    assert seen == {"complete": want, "head": want, "get": want, "list-v2": want, "list-v1": [want]}
    # If-Match / If-None-Match take the multipart ETag
    assert c.get_object(Bucket=BUCKET, Key=key, IfMatch=want, Range="bytes=0-0")["ETag"] == want
