"""Helpers for the S3 client conformance suite (server process, TLS material, client adapters).

Real S3 clients (boto3 with both request-checksum policies, and the AWS CLI v1 from PyPI) talk to
the S3 gateway of ``lakegate dev`` over plain HTTP and over HTTPS (a self-signed certificate made
per test session with ``cryptography``, SAN DNS:localhost + IP:127.0.0.1).

Buckets are lakeFS repositories (``demo`` exists on first start); object keys are
``<branch>/<path>``. Each test writes under a fresh uuid prefix, so tests are parallel-safe.

Every client is driven through a small adapter (``Boto3Client`` / ``CliClient``) exposing the
same operations, so the round-trip tests run over (scheme) x (client).

Environment:
  LAKEGATE_BIN   path to the lakegate binary (default: <repo>/target/debug/lakegate)
  LAKEGATE_DEV_API_TLS_CERT/_KEY   read by ``lakegate dev`` itself: its lakeFS API over HTTPS (checked
                 here); ``lakegate dev`` and ``lakegate keys`` trust its CA through SSL_CERT_FILE
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import ipaddress
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple
from urllib.parse import urlsplit

import boto3
import pytest
import urllib3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError

try:  # conformance/ is on sys.path (pytest's rootdir-relative package layout; s3_tests/run.py)
    import metrics_check
    from matrix_plugin import register as register_matrix  # noqa: F401  (for the suites' conftests)
except ImportError:  # imported as conformance.s3_clients.* from the repository root
    from conformance import metrics_check
    from conformance.matrix_plugin import register as register_matrix  # noqa: F401

# every boto3 client the suites create goes through this: /metrics is checked against its counts
watch_boto3 = metrics_check.watch

REPO_ROOT = Path(__file__).resolve().parents[2]
LAKEGATE_BIN = os.environ.get("LAKEGATE_BIN", str(REPO_ROOT / "target" / "debug" / "lakegate"))
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
BUCKET = "demo"
BRANCH = "main"

# The CLI entry point installed next to this interpreter (the venv's), never whatever is on PATH.
AWS_CLI = Path(sys.executable).parent / "aws"


# --------------------------------------------------------------------------------------
# TLS material
# --------------------------------------------------------------------------------------


def make_self_signed_cert(directory: Path) -> Tuple[Path, Path]:
    """Self-signed EC P-256 server certificate for localhost / 127.0.0.1 → (cert.pem, key.pem)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "lakegate conformance")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([
                x509.DNSName("localhost"),
                x509.IPAddress(ipaddress.IPv4Address("127.0.0.1")),
            ]),
            critical=False,
        )
        # CA:TRUE so the same file can serve as the trust anchor (OpenSSL 3 accepts either way,
        # but a self-signed leaf with CA:TRUE is what strict verifiers expect).
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    cert_path = directory / "cert.pem"
    key_path = directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ))
    return cert_path, key_path


# --------------------------------------------------------------------------------------
# server process management
# --------------------------------------------------------------------------------------


class LakegateServer:
    """One ``lakegate dev`` process (embedded lakeFS + S3 gateway) bound to one data directory."""

    def __init__(self, data_dir: Path, log_path: Path, extra_args: Optional[List[str]] = None,
                 ca_bundle: Optional[Path] = None):
        self.data_dir = Path(data_dir)
        self.log_path = Path(log_path)
        self.extra_args = list(extra_args or [])
        self.ca_bundle = ca_bundle
        self.proc: Optional[subprocess.Popen] = None
        self.info: Dict[str, Any] = {}
        self.key: Dict[str, Any] = {}
        self._log_file = None

    def start(self, timeout: float = START_TIMEOUT_S) -> "LakegateServer":
        if not Path(LAKEGATE_BIN).exists():
            pytest.fail(f"lakegate binary not found at {LAKEGATE_BIN} (set LAKEGATE_BIN or run cargo build)")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        dev_json = self.data_dir / "dev.json"
        before = _stat_key(dev_json)
        self._log_file = open(self.log_path, "ab")
        self._log_file.write(f"\n==== starting {LAKEGATE_BIN} dev --data {self.data_dir} ====\n".encode())
        self._log_file.flush()
        self.proc = subprocess.Popen(
            [LAKEGATE_BIN, "dev", "--data", str(self.data_dir), "--api-listen", "127.0.0.1:0",
             "--listen", "127.0.0.1:0", *self.extra_args],
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=self._log_file,
        )
        deadline = time.monotonic() + timeout
        # 1. wait for a (re)written dev.json that names the S3 endpoint
        while True:
            self._check_alive("while waiting for dev.json")
            key = _stat_key(dev_json)
            if key is not None and key != before:
                try:
                    self.info = json.loads(dev_json.read_text())
                    if {"s3_endpoint", "access_key_id", "secret_access_key"} <= set(self.info):
                        break
                except (ValueError, OSError):
                    pass  # written atomically, but be tolerant of a torn read anyway
            if time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"lakegate did not write {dev_json} with s3_endpoint within {timeout}s\n{self.log_tail()}")
            time.sleep(0.05)
        if os.environ.get("LAKEGATE_DEV_API_TLS_CERT") and not self.info.get("api_endpoint", "").startswith("https://"):
            self.stop()
            pytest.fail(f"LAKEGATE_DEV_API_TLS_CERT is set but the lakeFS API is {self.info.get('api_endpoint')}\n"
                        f"{self.log_tail()}")
        # 2. wait for the S3 port to accept connections
        host, port = self.host_port
        while True:
            self._check_alive("while waiting for the S3 port")
            try:
                with socket.create_connection((host, port), timeout=1.0):
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"lakegate S3 endpoint {self.s3_endpoint} not accepting within {timeout}s\n{self.log_tail()}")
            time.sleep(0.05)
        self._gateway_key()
        return self

    def _gateway_key(self) -> None:
        """The S3 key the suites sign with: made by ``lakegate keys create --dev DIR --user admin
        --json`` (once per data dir, kept across restarts), i.e. a gateway key bound to the lakeFS
        user ``admin`` as an external principal, not dev.json's own key."""
        path = self.data_dir / "conformance-key.json"
        if not path.exists():
            cmd = [LAKEGATE_BIN, "keys", "create", "--dev", str(self.data_dir), "--user", "admin", "--json"]
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
            if out.returncode != 0:
                pytest.fail(f"{' '.join(cmd)} failed ({out.returncode}): {out.stderr}")
            created = json.loads(out.stdout)
            assert created["user_id"] == "admin" and created["mode"] == "principal", created
            assert created["access_key_id"] != self.info["access_key_id"], "a new key, not dev.json's"
            path.write_text(out.stdout)
        self.key = json.loads(path.read_text())

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> Optional[int]:
        rc = None
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    rc = self.proc.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    rc = self.proc.wait(timeout=timeout)
            else:
                rc = self.proc.returncode
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        return rc

    def _check_alive(self, what: str) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            if self._log_file is not None:
                self._log_file.flush()
            pytest.fail(f"lakegate exited with {self.proc.returncode} {what}\n{self.log_tail()}")

    def log_tail(self, max_bytes: int = 8000) -> str:
        try:
            data = self.log_path.read_bytes()
        except OSError:
            return "(no lakegate output captured)"
        return "---- lakegate stderr/stdout (tail) ----\n" + data[-max_bytes:].decode("utf-8", "replace")

    # -- derived values -------------------------------------------------------------

    @property
    def s3_endpoint(self) -> str:
        return self.info["s3_endpoint"].rstrip("/")

    @property
    def scheme(self) -> str:
        return urlsplit(self.s3_endpoint).scheme

    @property
    def host_port(self) -> Tuple[str, int]:
        parts = urlsplit(self.s3_endpoint)
        return parts.hostname, parts.port

    @property
    def admin_endpoint(self) -> str:
        return self.info["admin_endpoint"].rstrip("/")

    def metrics_page(self) -> str:
        """The Prometheus text of the admin listener's ``/metrics``."""
        r = self.http().request("GET", self.admin_endpoint + "/metrics")
        assert r.status == 200, (r.status, r.data[:300])
        return r.data.decode()

    @property
    def region(self) -> str:
        return self.info.get("region", "us-east-1")

    @property
    def access_key_id(self) -> str:
        return self.key["access_key_id"]

    @property
    def secret_access_key(self) -> str:
        return self.key["secret_access_key"]

    def http(self) -> urllib3.PoolManager:
        """A urllib3 pool that trusts this server's certificate (if any)."""
        kw: Dict[str, Any] = {"retries": False, "timeout": urllib3.Timeout(connect=5.0, read=30.0)}
        if self.ca_bundle is not None:
            kw["ca_certs"] = str(self.ca_bundle)
            kw["cert_reqs"] = "CERT_REQUIRED"
        return urllib3.PoolManager(**kw)


def tls_args(cert: Path, key: Path) -> List[str]:
    """``lakegate dev`` flags serving HTTPS with ``cert``/``key``."""
    return ["--tls-cert", str(cert), "--tls-key", str(key)]


def serve_lakegate(tmp_path_factory, name: str, registry: List["LakegateServer"],
                   extra_args: Optional[List[str]] = None, ca_bundle: Optional[Path] = None
                   ) -> Iterator["LakegateServer"]:
    """A ``lakegate dev`` in a fresh temp dir for a session fixture to ``yield from``: listed in
    ``registry`` (the suite shows those servers' log tails on failures) while it runs, stopped after.
    Before it stops, its ``/metrics`` must agree with what boto3 sent it (``metrics_check.verify``;
    a disagreement is an error in the teardown of the session's last test)."""
    base = tmp_path_factory.mktemp(name)
    srv = LakegateServer(base / "data", base / "lakegate.log", extra_args, ca_bundle)
    registry.append(srv)
    try:
        srv.start()
        metrics_check.SENT.forget(srv.s3_endpoint)  # counts of an earlier server on this port
        yield srv
        metrics_check.verify(srv.s3_endpoint, srv.metrics_page, base)
    finally:
        srv.stop()
        registry.remove(srv)


def _stat_key(p: Path) -> Optional[Tuple[int, int, int]]:
    try:
        st = p.stat()
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def md5_etag(data: bytes) -> str:
    return '"' + hashlib.md5(data).hexdigest() + '"'


def crc32_b64(data: bytes) -> str:
    return base64.b64encode((zlib.crc32(data) & 0xFFFFFFFF).to_bytes(4, "big")).decode()


def b64_digest(algo: str, data: bytes) -> str:
    return base64.b64encode(hashlib.new(algo, data).digest()).decode()


def unique_key(name: str = "obj.bin") -> str:
    """A fresh object key on the default branch: ``main/s3c-<uuid>/<name>``."""
    return f"{BRANCH}/s3c-{uuid.uuid4().hex}/{name}"


def random_bytes(n: int) -> bytes:
    return os.urandom(n)


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


# --------------------------------------------------------------------------------------
# client adapters
# --------------------------------------------------------------------------------------


class Boto3Client:
    """boto3 with a given ``request_checksum_calculation`` policy."""

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

    def run(self, *args: str, check: bool = True, timeout: float = 60.0) -> CliRun:
        cmd = [str(AWS_CLI), "--endpoint-url", self.server.s3_endpoint]
        if self.server.ca_bundle is not None:
            cmd += ["--ca-bundle", str(self.server.ca_bundle)]
        cmd += list(args)
        p = subprocess.run(cmd, env=self.env, cwd=self.cwd, capture_output=True, text=True, timeout=timeout,
                           stdin=subprocess.DEVNULL)
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


CLIENT_KINDS = ["boto3-when_supported", "boto3-when_required", "awscli"]


_BOTO3_CLIENTS: Dict[Tuple[int, str, Optional[str], Optional[str]], Boto3Client] = {}


def boto3_client(server: LakegateServer, checksum_policy: str, access_key: Optional[str] = None,
                 secret_key: Optional[str] = None) -> Boto3Client:
    """A cached Boto3Client: building one loads the S3 service model (~0.1 s), so tests share them."""
    k = (id(server), checksum_policy, access_key, secret_key)
    c = _BOTO3_CLIENTS.get(k)
    if c is None or c.server is not server:
        c = _BOTO3_CLIENTS[k] = Boto3Client(server, checksum_policy, access_key, secret_key)
    return c


def make_client(kind: str, server: LakegateServer, home: Path, access_key=None, secret_key=None):
    if kind.startswith("boto3-"):
        return boto3_client(server, kind.split("-", 1)[1], access_key, secret_key)
    if kind == "awscli":
        return CliClient(server, home, access_key, secret_key)
    raise ValueError(kind)
