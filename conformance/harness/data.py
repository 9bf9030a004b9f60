"""Test data the suites share: sizes, digests in the forms S3 shows them, random bytes, fresh names.

Every test writes under fresh names (a uuid), so tests are independent of each other and of their
order, and suites may share a server.
"""

from __future__ import annotations

import hashlib
import os
import uuid

KiB = 1024
MiB = 1024 * KiB


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def md5_etag(data: bytes) -> str:
    """The ETag S3 gives a single-part object: its MD5 in hex, quoted."""
    return '"' + hashlib.md5(data).hexdigest() + '"'


def random_bytes(n: int) -> bytes:
    return os.urandom(n)


def new_repo_name(tag: str = "s3o") -> str:
    """A fresh repository (bucket) name matching ^[a-z0-9][a-z0-9-]{2,62}$."""
    return f"{tag}-{uuid.uuid4().hex[:20]}"


def new_branch_name(tag: str = "br") -> str:
    return f"{tag}-{uuid.uuid4().hex[:12]}"
