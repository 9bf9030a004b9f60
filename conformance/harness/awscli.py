"""The AWS CLI (v1, from PyPI) for the suites, and the one factory over every client adapter.

* ``CliClient``: ``aws`` run as a subprocess with an isolated config and environment, exposing the
  same operations as ``harness.clients.Boto3Client`` (64 MB multipart thresholds: single requests).
* ``ObjCli``: the same with the CLI's default transfer settings (8 MB multipart threshold and
  chunk size), ``s3()`` for the high-level commands and ``s3_bytes()`` for binary stdin/stdout.
* ``make_client(kind, …)``: the adapter for a kind of ``CLIENT_KINDS`` (the values of the
  ``client`` parameters README's client × operation table maps, ``matrix_plugin.CLIENT_OF_PARAM``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple, Union

import pytest

from .clients import Boto3Client, GetResult, S3Failure, boto3_client
from .server import LakegateServer

# The CLI entry point installed next to this interpreter (the venv's), never whatever is on PATH.
AWS_CLI = Path(sys.executable).parent / "aws"
CLIENT_KINDS = ["boto3-when_supported", "boto3-when_required", "awscli"]


@dataclass
class CliRun:
    rc: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout) if self.stdout.strip() else {}

    def error_code(self) -> Optional[str]:
        """The S3 error code of ``An error occurred (Code) when calling ...`` on stderr."""
        marker = "An error occurred ("
        i = self.stderr.find(marker)
        if i < 0:
            return None
        j = self.stderr.find(")", i)
        return self.stderr[i + len(marker):j]


class CliClient:
    """The AWS CLI (v1, from PyPI) run as a subprocess with an isolated config and env."""

    kind = "awscli"
    kind_id = "awscli"
    sends_crc32_by_default = True  # current botocore defaults to when_supported (CRC32)

    def __init__(self, server: LakegateServer, home: Path,
                 access_key: Optional[str] = None, secret_key: Optional[str] = None):
        self.server = server
        if not AWS_CLI.exists():
            pytest.fail(f"AWS CLI entry point not found at {AWS_CLI}; install conformance/requirements.txt")
        home.mkdir(parents=True, exist_ok=True)
        config = home / "config"
        credentials = home / "credentials"
        config.write_text(
            "[default]\n"
            f"region = {server.region}\n"
            "output = json\n"
            "retry_mode = standard\n"
            "max_attempts = 1\n"
            "s3 =\n"
            "    addressing_style = path\n"
            # CLI v1 presigns with legacy SigV2 query auth unless told otherwise; lakegate is SigV4
            "    signature_version = s3v4\n"
            "    multipart_threshold = 64MB\n"
            "    multipart_chunksize = 64MB\n"
        )
        # deliberately wrong: the env vars below must win over the shared credentials file
        credentials.write_text("[default]\naws_access_key_id = AKIAWRONGWRONGWRONG0\n"
                               "aws_secret_access_key = not-the-secret\n")
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update({
            "AWS_CONFIG_FILE": str(config),
            "AWS_SHARED_CREDENTIALS_FILE": str(credentials),
            "AWS_ACCESS_KEY_ID": server.access_key_id if access_key is None else access_key,
            "AWS_SECRET_ACCESS_KEY": server.secret_access_key if secret_key is None else secret_key,
            "AWS_DEFAULT_REGION": server.region,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_PAGER": "",
            "HOME": str(home),
        })
        if server.ca_bundle is not None:
            env["AWS_CA_BUNDLE"] = str(server.ca_bundle)
        self.env = env
        self.cwd = home

    def base_command(self) -> List[str]:
        """``aws --endpoint-url … [--ca-bundle …]``."""
        cmd = [str(AWS_CLI), "--endpoint-url", self.server.s3_endpoint]
        if self.server.ca_bundle is not None:
            cmd += ["--ca-bundle", str(self.server.ca_bundle)]
        return cmd

    def run(self, *args: str, check: bool = True, timeout: float = 60.0) -> CliRun:
        p = subprocess.run(self.base_command() + list(args), env=self.env, cwd=self.cwd, capture_output=True,
                           text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        r = CliRun(p.returncode, p.stdout, p.stderr)
        if check and r.rc != 0:
            pytest.fail(f"aws {' '.join(args)} exited {r.rc}\nstdout: {r.stdout}\nstderr: {r.stderr}")
        return r

    def s3api(self, op: str, *args: str, check: bool = True) -> CliRun:
        return self.run("s3api", op, *args, check=check)

    # -- operations (same shape as Boto3Client) --------------------------------------

    def list_bucket_names(self) -> List[str]:
        return [b["Name"] for b in self.s3api("list-buckets").json()["Buckets"]]

    def head_bucket(self, bucket: str) -> Dict[str, Any]:
        r = self.s3api("head-bucket", "--bucket", bucket).json()
        return {"region": r.get("BucketRegion"), "status": 200}

    def bucket_location(self, bucket: str) -> Optional[str]:
        return self.s3api("get-bucket-location", "--bucket", bucket).json().get("LocationConstraint")

    def put(self, bucket: str, key: str, data: bytes, *, metadata: Optional[Dict[str, str]] = None,
            content_type: Optional[str] = None, if_none_match: Optional[str] = None,
            checksum_algorithm: Optional[str] = None) -> Dict[str, Any]:
        src = self.cwd / f"put-{uuid.uuid4().hex}"
        src.write_bytes(data)
        args = ["--bucket", bucket, "--key", key, "--body", str(src)]
        if checksum_algorithm is not None:
            args += ["--checksum-algorithm", checksum_algorithm]
        if metadata is not None:
            args += ["--metadata", ",".join(f"{k}={v}" for k, v in metadata.items())]
        if content_type is not None:
            args += ["--content-type", content_type]
        if if_none_match is not None:
            args += ["--if-none-match", if_none_match]
        r = self.s3api("put-object", *args).json()
        return {"etag": r.get("ETag"), "checksum_crc32": r.get("ChecksumCRC32")}

    def get(self, bucket: str, key: str, *, range_: Optional[str] = None,
            checksum_mode: bool = False) -> GetResult:
        out = self.cwd / f"get-{uuid.uuid4().hex}"
        args = ["--bucket", bucket, "--key", key]
        if range_ is not None:
            args += ["--range", range_]
        if checksum_mode:
            args += ["--checksum-mode", "ENABLED"]
        r = self.s3api("get-object", *args, str(out)).json()
        return GetResult(
            body=out.read_bytes(),
            content_length=r.get("ContentLength"),
            content_type=r.get("ContentType"),
            content_range=r.get("ContentRange"),
            etag=r.get("ETag"),
            metadata=r.get("Metadata", {}),
            checksum_crc32=r.get("ChecksumCRC32"),
        )

    def head(self, bucket: str, key: str, *, checksum_mode: bool = False) -> Dict[str, Any]:
        args = ["--bucket", bucket, "--key", key]
        if checksum_mode:
            args += ["--checksum-mode", "ENABLED"]
        r = self.s3api("head-object", *args).json()
        return {
            "content_length": r.get("ContentLength"),
            "etag": r.get("ETag"),
            "content_type": r.get("ContentType"),
            "metadata": r.get("Metadata", {}),
            "checksum_crc32": r.get("ChecksumCRC32"),
        }

    def failure(self, *args: str) -> S3Failure:
        """Run ``aws s3api <args>`` expecting a service error: exit code 255 and
        ``An error occurred (<Code>) when calling the <Op> operation`` on stderr."""
        r = self.run("s3api", *args, check=False)
        if r.rc == 0:
            pytest.fail(f"aws s3api {' '.join(args)} unexpectedly succeeded: {r.stdout}")
        assert r.rc == 255, f"aws s3api {' '.join(args)} exit code {r.rc} (want 255)\n{r.stderr}"
        code = r.error_code()
        assert code is not None, f"no 'An error occurred (...)' on stderr: {r.stderr!r}"
        return S3Failure(status=None, code=code, message=r.stderr)

    def presigned_get_url(self, bucket: str, key: str, expires: int = 300) -> str:
        return self.run("s3", "presign", f"s3://{bucket}/{key}", "--expires-in", str(expires)).stdout.strip()


class ObjCli(CliClient):
    """``CliClient`` with the CLI's default multipart settings (threshold and chunk size 8MB): files
    above 8 MiB go up as multipart uploads and come down as ranged GETs."""

    def __init__(self, server: LakegateServer, home: Path):
        super().__init__(server, home)
        Path(self.env["AWS_CONFIG_FILE"]).write_text(
            "[default]\n"
            f"region = {server.region}\n"
            "output = json\n"
            "retry_mode = standard\n"
            "max_attempts = 1\n"
            "s3 =\n"
            "    addressing_style = path\n"
            "    signature_version = s3v4\n"
        )
        # keys with non-ASCII characters appear in `aws s3 ls` output
        self.env["PYTHONIOENCODING"] = "utf-8"
        self.env["LC_ALL"] = "C.UTF-8"
        # awscli 1.46.3 vendors botocore 1.43.62, which has boto/botocore#3755: a zero-length PUT
        # sent with "Expect: 100-continue" and answered with a final status and no interim 100
        # (as S3 itself and lakegate/hyper do, RFC 9110 §10.1.1 allows it) leaves a stale status
        # tuple on the pooled connection; the next PUT on it misparses its response and stalls
        # until the server closes the idle connection (~30 s here). Fixed in botocore 1.43.77
        # (the standalone botocore boto3 uses is newer). botocore's documented opt-out: no
        # Expect header on empty bodies.
        self.env["BOTO_EXPERIMENTAL__NO_EMPTY_CONTINUE"] = "true"

    def s3(self, *args: str, check: bool = True, timeout: float = 120.0) -> CliRun:
        return self.run("s3", *args, check=check, timeout=timeout)

    def s3_bytes(self, *args: str, stdin: Optional[bytes] = None, timeout: float = 120.0) -> Tuple[int, bytes, str]:
        """``aws s3 <args>`` with binary stdin/stdout (for ``cp - s3://…`` / ``cp s3://… -``)."""
        p = subprocess.run(self.base_command() + ["s3", *args], env=self.env, cwd=self.cwd, capture_output=True,
                           timeout=timeout, input=stdin if stdin is not None else b"")
        return p.returncode, p.stdout, p.stderr.decode("utf-8", "replace")


def make_client(kind: str, server: LakegateServer, home: Path, access_key: Optional[str] = None,
                secret_key: Optional[str] = None) -> Union[Boto3Client, CliClient]:
    """The adapter for a kind of ``CLIENT_KINDS``: a (cached) ``Boto3Client`` or a ``CliClient``
    whose config lives in ``home``."""
    if kind.startswith("boto3-"):
        return boto3_client(server, kind.split("-", 1)[1], access_key, secret_key)
    if kind == "awscli":
        return CliClient(server, home, access_key, secret_key)
    raise ValueError(kind)
