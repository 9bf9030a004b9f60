"""Helpers for the S3 multipart-upload conformance suite.

The server and client machinery (the AWS CLI with its default 8 MiB multipart settings too:
``harness.ObjCli``) is the harness's; this adds:

* fresh keys (``new_rel``), and the expected multipart ETag (``mpu_etag``: MD5 of the
  concatenated binary part MD5s, ``-N``);
* checksums: composite (``composite``: the algorithm over the concatenated binary part
  checksums, ``-N``) and whole-object values, including a table-driven CRC-64/NVME (botocore only
  has one with awscrt, which the venv does not install);
* ``fail()``: run a boto3 call that must be refused → ``(HTTP status, S3 error code)``;
* ``upload_parts()`` / ``complete()``: the plain UploadPart / CompleteMultipartUpload loop;
* ``storage()`` / ``spools()``: what the embedded server's storage offers (its lakeFS
  ``/config/storage``), and ``known_bug()``: a strict xfail for a lakegate bug that shows only
  in some modes (e.g. only when lakegate spools parts, which depends on the storage, not only on
  the dev flags).
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
import zlib
from typing import Any, Dict, List, Optional, Sequence, Tuple

import boto3
import pytest
import urllib3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError

from harness import BRANCH, BUCKET, LakegateServer, MiB, boto3_client, md5_etag, watch_boto3

BRANCH_BUCKET = f"{BUCKET}.{BRANCH}"
PART = 5 * MiB  # S3's minimum size of every part but the last
SPOOL_MAX = 6_000_000  # --spool-max-bytes of the tiny_spool_server fixture: one PART fits, two do not


# --------------------------------------------------------------------------------------
# names
# --------------------------------------------------------------------------------------


def new_rel(name: str = "obj.bin", tag: str = "mpu") -> str:
    """A fresh path on the default branch, without the branch: ``mpu-<hex>/<name>``."""
    return f"{tag}-{uuid.uuid4().hex}/{name}"


def new_key(name: str = "obj.bin", tag: str = "mpu") -> str:
    """A fresh key of bucket ``demo``: ``main/mpu-<hex>/<name>``."""
    return f"{BRANCH}/{new_rel(name, tag)}"


# --------------------------------------------------------------------------------------
# ETags and checksums
# --------------------------------------------------------------------------------------


def mpu_etag(parts: Sequence[bytes]) -> str:
    """The ETag S3 gives a multipart object: ``"<md5 of the concatenated part MD5s>-<N>"``."""
    joined = b"".join(hashlib.md5(p).digest() for p in parts)
    return f'"{hashlib.md5(joined).hexdigest()}-{len(parts)}"'


def _crc64nvme_table() -> List[int]:
    poly = 0x9A6C9329AC4BC9B5  # CRC-64/NVME, reflected
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        table.append(c)
    return table


_CRC64_TABLE = _crc64nvme_table()
_M64 = 0xFFFFFFFFFFFFFFFF


def crc64nvme_update(data: bytes, state: int = _M64) -> int:
    """Feed ``data`` into a CRC-64/NVME register (initial register: all ones)."""
    t, c = _CRC64_TABLE, state
    for b in data:
        c = t[(c ^ b) & 0xFF] ^ (c >> 8)
    return c


def crc64nvme_bytes(state: int) -> bytes:
    return (state ^ _M64).to_bytes(8, "big")


assert crc64nvme_bytes(crc64nvme_update(b"123456789")) == bytes.fromhex("ae8b14860a799888")  # check value


def raw_checksum(algorithm: str, data: bytes) -> bytes:
    a = algorithm.upper()
    if a == "CRC32":
        return (zlib.crc32(data) & 0xFFFFFFFF).to_bytes(4, "big")
    if a == "CRC64NVME":
        return crc64nvme_bytes(crc64nvme_update(data))
    if a in ("SHA1", "SHA256"):
        return hashlib.new(a.lower(), data).digest()
    raise ValueError(algorithm)


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def checksum(algorithm: str, data: bytes) -> str:
    """The base64 ``x-amz-checksum-<algorithm>`` value of ``data``."""
    return b64(raw_checksum(algorithm, data))


def composite(algorithm: str, parts: Sequence[bytes]) -> str:
    """S3's COMPOSITE checksum of a multipart object: the checksum of the concatenated binary
    part checksums, base64, ``-<N>``."""
    joined = b"".join(raw_checksum(algorithm, p) for p in parts)
    return f"{checksum(algorithm, joined)}-{len(parts)}"


# --------------------------------------------------------------------------------------
# clients and calls
# --------------------------------------------------------------------------------------


def s3(server: LakegateServer, policy: str = "when_required"):
    """The (cached) boto3 S3 client of ``server`` with ``policy``: no retries."""
    return boto3_client(server, policy).s3


def fresh_s3(server: LakegateServer, policy: str = "when_required", **config: Any):
    """An uncached boto3 S3 client (a restarted server listens on a new port) with the suite's
    settings (path style, SigV4, no retries), ``config`` overriding them."""
    settings: Dict[str, Any] = dict(
        signature_version="s3v4", s3={"addressing_style": "path"}, request_checksum_calculation=policy,
        response_checksum_validation="when_supported", retries={"total_max_attempts": 1, "mode": "standard"},
        connect_timeout=5, read_timeout=60)
    settings.update(config)
    session = boto3.session.Session(aws_access_key_id=server.access_key_id,
                                    aws_secret_access_key=server.secret_access_key, region_name=server.region)
    return watch_boto3(session.client("s3", endpoint_url=server.s3_endpoint,
                                      verify=str(server.ca_bundle) if server.ca_bundle is not None else True,
                                      config=Config(**settings)))


def fail(call, *args: Any, **kw: Any) -> Tuple[Optional[int], Optional[str]]:
    """Run a boto3 call that must be refused: ``(HTTP status, S3 error code)``."""
    try:
        r = call(*args, **kw)
    except ClientError as e:
        return (e.response.get("ResponseMetadata", {}).get("HTTPStatusCode"),
                e.response.get("Error", {}).get("Code"))
    pytest.fail(f"{getattr(call, '__name__', call)}({kw}) unexpectedly succeeded: {r.get('ResponseMetadata')}")


def status(r: Dict[str, Any]) -> int:
    return r["ResponseMetadata"]["HTTPStatusCode"]


def create(client, bucket: str, key: str, **kw: Any) -> str:
    r = client.create_multipart_upload(Bucket=bucket, Key=key, **kw)
    assert (r["Bucket"], r["Key"]) == (bucket, key), r
    return r["UploadId"]


def upload_parts(client, bucket: str, key: str, upload_id: str, parts: Sequence[bytes],
                 first: int = 1, **kw: Any) -> List[Dict[str, Any]]:
    """UploadPart each of ``parts`` (numbers from ``first``) → CompletedPart dicts (with checksums)."""
    done = []
    for i, data in enumerate(parts, start=first):
        r = client.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=i, Body=data, **kw)
        assert r["ETag"] == md5_etag(data), (i, r)
        part = {"PartNumber": i, "ETag": r["ETag"]}
        for k in ("ChecksumCRC32", "ChecksumCRC32C", "ChecksumCRC64NVME", "ChecksumSHA1", "ChecksumSHA256"):
            if k in r:
                part[k] = r[k]
        done.append(part)
    return done


def complete(client, bucket: str, key: str, upload_id: str, parts: List[Dict[str, Any]], **kw: Any) -> Dict[str, Any]:
    return client.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id,
                                            MultipartUpload={"Parts": parts}, **kw)


def read(client, bucket: str, key: str) -> bytes:
    return client.get_object(Bucket=bucket, Key=key)["Body"].read()


def listed_etag(client, bucket: str, key: str) -> Optional[str]:
    """The ETag ListObjectsV2 shows for ``key`` (None when it is not listed)."""
    for o in client.list_objects_v2(Bucket=bucket, Prefix=key).get("Contents", []):
        if o["Key"] == key:
            return o["ETag"]
    return None


_STORAGE: Dict[Tuple[str, str], Dict[str, Any]] = {}


def storage(server: LakegateServer) -> Dict[str, Any]:
    """The embedded server's lakeFS storage config (``pre_sign_support``, ``pre_sign_multipart_upload``)."""
    k = (str(server.data_dir), server.info["api_endpoint"])
    if k not in _STORAGE:
        auth = urllib3.make_headers(basic_auth=f"{server.info['lakefs_access_key_id']}:{server.info['lakefs_secret_access_key']}")
        r = server.http().request("GET", server.info["api_endpoint"].rstrip("/") + "/config/storage", headers=auth)
        assert r.status == 200, (r.status, r.data[:300])
        _STORAGE[k] = json.loads(r.data)
    return _STORAGE[k]


def spools(server: LakegateServer) -> bool:
    """Whether lakegate spools multipart parts on this server (no presigned multipart uploads)."""
    st = storage(server)
    return not (st.get("pre_sign_support") and st.get("pre_sign_multipart_upload"))


def known_bug(request, applies: bool, reason: str) -> None:
    """Mark the running test as a strict xfail when a lakegate bug applies to its server."""
    if applies:
        request.applymarker(pytest.mark.xfail(strict=True, reason=reason))


# Known deviations (each test asserts S3 behaviour; a strict xfail marks where lakegate differs)
BUG_NO_PRESIGN_ETAG = (
    "known limitation (docs/s3-compatibility.md, Multipart uploads): without presigned URLs "
    "(--no-presign, lakeFS's local blockstore) the spooled object goes through lakeFS uploadObject, which records the plain "
    "MD5 of the whole object as its checksum, so the ETag (Complete, HEAD, GET, ListObjects) is that "
    "MD5 instead of \"<md5 of the concatenated part MD5s>-N\"; lakeFS offers no way to set it")



def transfer_config(chunk: int = PART, concurrency: int = 8) -> TransferConfig:
    return TransferConfig(multipart_threshold=chunk, multipart_chunksize=chunk, max_concurrency=concurrency)
