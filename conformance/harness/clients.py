"""boto3 for the suites: the client adapter, its cache, and every client's hook into the metrics check.

``Boto3Client`` exposes the operations the round-trip tests run (put, get, head, presign, an
expected failure…) in the same shape as the AWS CLI adapter (``harness.awscli.CliClient``), so a
test can run over (scheme) x (client): ``harness.awscli.make_client(kind, …)``.
Every boto3 client a suite creates goes through ``watch_boto3`` (``metrics_check.watch``): the
session servers' ``/metrics`` are checked against what it sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import boto3
import pytest
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError

from . import metrics_check
from .server import LakegateServer

# every boto3 client the suites create goes through this: /metrics is checked against its counts
watch_boto3 = metrics_check.watch

POLICIES = ["when_supported", "when_required"]  # botocore's request_checksum_calculation values


@dataclass
class S3Failure:
    """A refused request: HTTP status and S3 error code as the client reported them."""
    status: Optional[int]
    code: Optional[str]
    message: str = ""


@dataclass
class GetResult:
    body: bytes
    content_length: Optional[int] = None
    content_type: Optional[str] = None
    content_range: Optional[str] = None
    etag: Optional[str] = None
    metadata: Dict[str, str] = field(default_factory=dict)
    checksum_crc32: Optional[str] = None
    status: Optional[int] = None


class Boto3Client:
    """boto3 with a given ``request_checksum_calculation`` policy: path style, SigV4, no retries."""

    kind = "boto3"

    def __init__(self, server: LakegateServer, checksum_policy: str,
                 access_key: Optional[str] = None, secret_key: Optional[str] = None):
        self.server = server
        self.checksum_policy = checksum_policy
        self.kind_id = f"boto3-{checksum_policy}"
        session = boto3.session.Session(
            aws_access_key_id=server.access_key_id if access_key is None else access_key,
            aws_secret_access_key=server.secret_access_key if secret_key is None else secret_key,
            region_name=server.region,
        )
        self.s3 = session.client(
            "s3",
            endpoint_url=server.s3_endpoint,
            # an explicit path beats AWS_CA_BUNDLE from the environment
            verify=str(server.ca_bundle) if server.ca_bundle is not None else True,
            config=Config(
                signature_version="s3v4",
                s3={"addressing_style": "path"},
                request_checksum_calculation=checksum_policy,
                response_checksum_validation="when_supported",
                retries={"total_max_attempts": 1, "mode": "standard"},  # no retries: see every answer
                connect_timeout=5,
                read_timeout=30,
            ),
        )
        watch_boto3(self.s3)

    @property
    def sends_crc32_by_default(self) -> bool:
        return self.checksum_policy == "when_supported"

    # -- operations -----------------------------------------------------------------

    def list_bucket_names(self) -> List[str]:
        return [b["Name"] for b in self.s3.list_buckets()["Buckets"]]

    def head_bucket(self, bucket: str) -> Dict[str, Any]:
        r = self.s3.head_bucket(Bucket=bucket)
        return {"region": r.get("BucketRegion"), "status": r["ResponseMetadata"]["HTTPStatusCode"]}

    def bucket_location(self, bucket: str) -> Optional[str]:
        return self.s3.get_bucket_location(Bucket=bucket).get("LocationConstraint")

    def put(self, bucket: str, key: str, data: bytes, *, metadata: Optional[Dict[str, str]] = None,
            content_type: Optional[str] = None, if_none_match: Optional[str] = None,
            checksum_algorithm: Optional[str] = None) -> Dict[str, Any]:
        kw: Dict[str, Any] = {"Bucket": bucket, "Key": key, "Body": data}
        if checksum_algorithm is not None:
            kw["ChecksumAlgorithm"] = checksum_algorithm
        if metadata is not None:
            kw["Metadata"] = metadata
        if content_type is not None:
            kw["ContentType"] = content_type
        if if_none_match is not None:
            kw["IfNoneMatch"] = if_none_match
        r = self.s3.put_object(**kw)
        return {"etag": r.get("ETag"), "checksum_crc32": r.get("ChecksumCRC32")}

    def get(self, bucket: str, key: str, *, range_: Optional[str] = None,
            checksum_mode: bool = False) -> GetResult:
        kw: Dict[str, Any] = {"Bucket": bucket, "Key": key}
        if range_ is not None:
            kw["Range"] = range_
        if checksum_mode:
            kw["ChecksumMode"] = "ENABLED"
        r = self.s3.get_object(**kw)
        return GetResult(
            body=r["Body"].read(),
            content_length=r.get("ContentLength"),
            content_type=r.get("ContentType"),
            content_range=r.get("ContentRange"),
            etag=r.get("ETag"),
            metadata=r.get("Metadata", {}),
            checksum_crc32=r.get("ChecksumCRC32"),
            status=r["ResponseMetadata"]["HTTPStatusCode"],
        )

    def head(self, bucket: str, key: str, *, checksum_mode: bool = False) -> Dict[str, Any]:
        kw: Dict[str, Any] = {"Bucket": bucket, "Key": key}
        if checksum_mode:
            kw["ChecksumMode"] = "ENABLED"
        r = self.s3.head_object(**kw)
        return {
            "content_length": r.get("ContentLength"),
            "etag": r.get("ETag"),
            "content_type": r.get("ContentType"),
            "metadata": r.get("Metadata", {}),
            "checksum_crc32": r.get("ChecksumCRC32"),
        }

    def presigned_get_url(self, bucket: str, key: str, expires: int = 300) -> str:
        return self.s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key},
                                              ExpiresIn=expires)

    def failure(self, op: str, **kw) -> S3Failure:
        """Call boto3 operation ``op`` expecting a ClientError; return status and code."""
        try:
            r = getattr(self.s3, op)(**kw)
        except ClientError as e:
            return S3Failure(status=e.response.get("ResponseMetadata", {}).get("HTTPStatusCode"),
                             code=e.response.get("Error", {}).get("Code"),
                             message=str(e))
        body = r.get("Body")
        if body is not None:
            body.close()
        pytest.fail(f"{op}({kw}) unexpectedly succeeded: {r.get('ResponseMetadata')}")

    # -- transfer manager (single part) ---------------------------------------------

    def upload_file(self, path: Path, bucket: str, key: str) -> None:
        self.s3.upload_file(str(path), bucket, key, Config=single_part_transfer())

    def download_file(self, bucket: str, key: str, path: Path) -> None:
        self.s3.download_file(bucket, key, str(path), Config=single_part_transfer())


def single_part_transfer() -> TransferConfig:
    # thresholds above every object the suite writes: no multipart upload, no ranged downloads,
    # no threads (keeps the order of requests deterministic)
    return TransferConfig(multipart_threshold=64 * 1024 * 1024, multipart_chunksize=64 * 1024 * 1024,
                          use_threads=False)


_BOTO3_CLIENTS: Dict[Tuple[int, str, Optional[str], Optional[str]], Boto3Client] = {}


def boto3_client(server: LakegateServer, checksum_policy: str, access_key: Optional[str] = None,
                 secret_key: Optional[str] = None) -> Boto3Client:
    """A cached Boto3Client: building one loads the S3 service model (~0.1 s), so tests share them."""
    k = (id(server), checksum_policy, access_key, secret_key)
    c = _BOTO3_CLIENTS.get(k)
    if c is None or c.server is not server:
        c = _BOTO3_CLIENTS[k] = Boto3Client(server, checksum_policy, access_key, secret_key)
    return c

