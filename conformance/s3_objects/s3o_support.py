"""Helpers for the S3 object-operations conformance suite.

Reuses the server/TLS/client machinery of the s3_clients suite (``s3c_support``) and adds:

* ``ObjCli``: the AWS CLI adapter with its own config file (the CLI's default transfer settings,
  multipart_threshold / multipart_chunksize = 8MB, so larger transfers are multipart uploads and
  ranged downloads), plus ``s3()`` for the high-level commands and ``s3_bytes()`` for binary
  stdout (``cp s3://… -``).
* ``signed()``: a raw SigV4-signed request (botocore's signer, urllib3 transport) for the few
  things no SDK will send or show as-is (raw UTF-8 header values, un-encoded listings, bare
  HEAD bodies).
* naming helpers: fresh repository / branch names, fresh key prefixes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import uuid
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Tuple
from urllib.parse import quote

import urllib3
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

try:  # the layout pytest sets up (rootdir-relative packages: conformance/ is on sys.path)
    from s3_clients.s3c_support import (  # noqa: F401  (re-exported)
        AWS_CLI,
        BRANCH,
        BUCKET,
        Boto3Client,
        CliClient,
        CliRun,
        LakegateServer,
        S3Failure,
        boto3_client,
        make_self_signed_cert,
        serve_lakegate,
        tls_args,
        md5_etag,
        random_bytes,
        register_matrix,
        sha256,
        watch_boto3,
    )
except ImportError:  # imported as conformance.s3_objects.* from the repository root
    from conformance.s3_clients.s3c_support import (  # noqa: F401
        AWS_CLI,
        BRANCH,
        BUCKET,
        Boto3Client,
        CliClient,
        CliRun,
        LakegateServer,
        S3Failure,
        boto3_client,
        make_self_signed_cert,
        serve_lakegate,
        tls_args,
        md5_etag,
        random_bytes,
        register_matrix,
        sha256,
        watch_boto3,
    )

MiB = 1024 * 1024
POLICIES = ["when_supported", "when_required"]


# --------------------------------------------------------------------------------------
# names
# --------------------------------------------------------------------------------------


def new_prefix(tag: str = "s3o") -> str:
    """A fresh directory under the default branch of ``demo``, without the branch: ``s3o-<hex>/``."""
    return f"{tag}-{uuid.uuid4().hex}/"


def new_repo_name(tag: str = "s3o") -> str:
    """A fresh repository (bucket) name matching ^[a-z0-9][a-z0-9-]{2,62}$."""
    return f"{tag}-{uuid.uuid4().hex[:20]}"


def new_branch_name(tag: str = "br") -> str:
    return f"{tag}-{uuid.uuid4().hex[:12]}"


# --------------------------------------------------------------------------------------
# the AWS CLI with its default transfer configuration
# --------------------------------------------------------------------------------------


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
        cmd = [str(AWS_CLI), "--endpoint-url", self.server.s3_endpoint]
        if self.server.ca_bundle is not None:
            cmd += ["--ca-bundle", str(self.server.ca_bundle)]
        cmd += ["s3", *args]
        p = subprocess.run(cmd, env=self.env, cwd=self.cwd, capture_output=True, timeout=timeout,
                           input=stdin if stdin is not None else b"")
        return p.returncode, p.stdout, p.stderr.decode("utf-8", "replace")


# --------------------------------------------------------------------------------------
# raw signed requests
# --------------------------------------------------------------------------------------


def signed(server: LakegateServer, method: str, path: str, *, query: Optional[List[Tuple[str, str]]] = None,
           body: bytes = b"", headers: Optional[Mapping[str, str]] = None) -> urllib3.BaseHTTPResponse:
    """Send ``method path?query`` signed with SigV4 (payload hashed). ``path`` is the unencoded
    ``/bucket/key``; header values may contain non-ASCII characters: they are signed as their
    UTF-8 bytes and sent as those bytes."""
    url = server.s3_endpoint + quote(path, safe="/~")
    if query:
        url += "?" + "&".join(f"{quote(k, safe='~')}={quote(v, safe='~')}" for k, v in query)
    h: Dict[str, str] = dict(headers or {})
    h["x-amz-content-sha256"] = hashlib.sha256(body).hexdigest()
    req = AWSRequest(method=method, url=url, data=body, headers=h)
    S3SigV4Auth(Credentials(server.access_key_id, server.secret_access_key), "s3", server.region).add_auth(req)
    wire = {k: (v.encode("utf-8") if isinstance(v, str) and not v.isascii() else v) for k, v in req.headers.items()}
    return server.http().request(method, url, body=body, headers=wire, redirect=False,
                                 preload_content=True)


def bulk_put(server: LakegateServer, bucket: str, items: Mapping[str, bytes], workers: int = 8) -> None:
    """Create many small objects fast (test data, not under test): SigV4 presigned PUT URLs sent
    with urllib3 from a thread pool (~20% cheaper than put_object calls on this 2-core box)."""
    from concurrent.futures import ThreadPoolExecutor

    s3 = boto3_client(server, "when_required").s3
    urls = [(s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": k}, ExpiresIn=900), body)
            for k, body in items.items()]
    pool = urllib3.PoolManager(maxsize=workers, retries=False,
                               **({"ca_certs": str(server.ca_bundle), "cert_reqs": "CERT_REQUIRED"}
                                  if server.ca_bundle is not None else {}))

    def put(item: Tuple[str, bytes]) -> None:
        r = pool.request("PUT", item[0], body=item[1])
        assert r.status == 200, (r.status, r.data[:300])

    with ThreadPoolExecutor(max_workers=workers) as ex:
        list(ex.map(put, urls))


# --------------------------------------------------------------------------------------
# files
# --------------------------------------------------------------------------------------


def tree_digest(root: Path) -> Dict[str, str]:
    """{relative posix path: sha256} of every regular file under ``root``."""
    out: Dict[str, str] = {}
    for p in sorted(root.rglob("*")):
        if p.is_file():
            out[p.relative_to(root).as_posix()] = sha256(p.read_bytes())
    return out


def write_tree(root: Path, files: Mapping[str, bytes], mtime: Optional[float] = None) -> None:
    for rel, data in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        if mtime is not None:
            os.utime(p, (mtime, mtime))
