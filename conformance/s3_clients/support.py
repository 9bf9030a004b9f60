"""Helpers of the S3 client conformance suite (the server, TLS and client adapters are the harness's).

Real S3 clients (boto3 with both request-checksum policies, and the AWS CLI v1 from PyPI) talk to
the S3 gateway of ``lakegate dev`` over plain HTTP and over HTTPS; buckets are lakeFS repositories
(``demo`` exists on first start), object keys ``<branch>/<path>``. Each test writes under a fresh
uuid prefix (``unique_key``), so tests are parallel-safe.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
import zlib

from harness import BRANCH


def crc32_b64(data: bytes) -> str:
    return base64.b64encode((zlib.crc32(data) & 0xFFFFFFFF).to_bytes(4, "big")).decode()


def b64_digest(algo: str, data: bytes) -> str:
    return base64.b64encode(hashlib.new(algo, data).digest()).decode()


def unique_key(name: str = "obj.bin") -> str:
    """A fresh object key on the default branch: ``main/s3c-<uuid>/<name>``."""
    return f"{BRANCH}/s3c-{uuid.uuid4().hex}/{name}"
