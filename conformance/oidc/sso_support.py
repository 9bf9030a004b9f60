"""Helpers for the OIDC single-sign-on conformance tests (test_sso.py): the processes (provider.mjs,
``lakegate dev``, extra ``lakegate serve`` gateways), ``lakegate creds oidc`` runs, the CLI's
side of a login played in Python, and S3 error helpers.

Every process writes its output to a log file registered in ``LOGS``; conftest.py attaches
their tails to the report of a failing test.

Environment:
  LAKEGATE_BIN   path to the lakegate binary (default: <repo>/target/debug/lakegate)
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
LAKEGATE_BIN = os.environ.get("LAKEGATE_BIN", str(REPO_ROOT / "target" / "debug" / "lakegate"))
PROVIDER = HERE / "provider.mjs"
BROWSER_PY = HERE / "browser.py"
INSTALL = HERE / "install.sh"
AWS_CLI = Path(sys.executable).parent / "aws"
CLIENT_ID = "lakegate"
REGION = "us-east-1"
START_TIMEOUT_S = 30.0

# (name, log path) of every process started, for the failure report
LOGS: List[Tuple[str, Path]] = []


def tail(path: Path, max_bytes: int = 4000) -> str:
    try:
        data = Path(path).read_bytes()
    except OSError:
        return f"(no output captured at {path})"
    return data[-max_bytes:].decode("utf-8", "replace")


def all_tails(max_bytes: int = 3000) -> str:
    return "\n".join(f"---- {name} ({path}) ----\n{tail(path, max_bytes)}" for name, path in LOGS)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_process(proc: Optional[subprocess.Popen], timeout: float = 10.0) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout)


def clean_env(**extra: str) -> Dict[str, str]:
    """os.environ without AWS credentials/profiles and lakegate settings that could leak in."""
    env = {k: v for k, v in os.environ.items()
           if not (k.startswith("AWS_") or (k.startswith("LAKEGATE_") and k != "LAKEGATE_BIN"))}
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    env.update(extra)
    return env


# --------------------------------------------------------------------------------------
# provider.mjs
# --------------------------------------------------------------------------------------


@dataclass
class Provider:
    proc: subprocess.Popen
    issuer: str
    discovery: dict = field(repr=False)


def start_provider(log: Path, *args: str) -> Provider:
    LOGS.append(("provider.mjs stderr", log))
    err = open(log, "ab")
    proc = subprocess.Popen(["node", str(PROVIDER), *args], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=err, text=True)
    err.close()
    timer = threading.Timer(START_TIMEOUT_S, proc.kill)
    timer.start()
    try:
        line = proc.stdout.readline()
    finally:
        timer.cancel()
    if not line.endswith("\n"):
        stop_process(proc)
        pytest.fail(f"provider.mjs {' '.join(args)} printed no issuer line ({line!r})\n{tail(log)}")
    issuer = json.loads(line)["issuer"]
    discovery = requests.get(issuer + "/.well-known/openid-configuration", timeout=5).json()
    return Provider(proc, issuer, discovery)


# --------------------------------------------------------------------------------------
# lakegate dev / lakegate serve
# --------------------------------------------------------------------------------------


def _wait_port(url: str, proc: subprocess.Popen, log: Path, deadline: float) -> None:
    parts = urllib.parse.urlsplit(url)
    while True:
        if proc.poll() is not None:
            pytest.fail(f"lakegate exited with {proc.returncode} before {url} answered\n{tail(log)}")
        try:
            with socket.create_connection((parts.hostname, parts.port), timeout=1.0):
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            stop_process(proc)
            pytest.fail(f"{url} not accepting connections within {START_TIMEOUT_S}s\n{tail(log)}")
        time.sleep(0.05)


class DevServer:
    """One ``lakegate dev`` (embedded lakeFS + gateway) on a fresh data directory."""

    def __init__(self, data_dir: Path, log: Path, extra_args: List[str]):
        self.data_dir, self.log, self.extra_args = Path(data_dir), Path(log), extra_args
        self.proc: Optional[subprocess.Popen] = None
        self.info: dict = {}

    def start(self) -> "DevServer":
        if not Path(LAKEGATE_BIN).exists():
            pytest.fail(f"lakegate binary not found at {LAKEGATE_BIN}")
        LOGS.append((f"lakegate dev {self.data_dir.name}", self.log))
        dev_json = self.data_dir / "dev.json"
        assert not dev_json.exists(), "a fresh data directory"
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                [LAKEGATE_BIN, "dev", "--data", str(self.data_dir), "--listen", "127.0.0.1:0",
                 "--api-listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0", *self.extra_args],
                stdin=subprocess.DEVNULL, stdout=out, stderr=out, env=clean_env())
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if self.proc.poll() is not None:
                pytest.fail(f"lakegate dev exited with {self.proc.returncode}\n{tail(self.log)}")
            try:
                self.info = json.loads(dev_json.read_text())
                if "s3_endpoint" in self.info and "lakefs_secret_access_key" in self.info:
                    break
            except (OSError, ValueError):
                pass
            if time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"lakegate dev wrote no {dev_json} within {START_TIMEOUT_S}s\n{tail(self.log)}")
            time.sleep(0.05)
        _wait_port(self.s3_endpoint, self.proc, self.log, deadline)
        return self

    def stop(self) -> None:
        stop_process(self.proc)

    @property
    def s3_endpoint(self) -> str:
        return self.info["s3_endpoint"].rstrip("/")

    @property
    def session_keys(self) -> Path:
        return self.data_dir / "gateway" / "session.keys"


SERVING_RE = re.compile(r"lakegate serving .*?endpoint=(http://[0-9.:]+)")
ANSI_RE = re.compile(r"\x1b\[[0-9;]*m")


@dataclass
class Gateway:
    """A ``lakegate serve`` in front of the dev server's embedded lakeFS."""
    proc: subprocess.Popen
    s3_endpoint: str
    log: Path
    key_file: Path
    extra: dict = field(default_factory=dict)


def start_serve(dev: DevServer, work: Path, name: str, session_key_file: Path) -> Gateway:
    state = work / f"{name}-state"
    state.mkdir(parents=True, exist_ok=True)
    log = work / f"{name}.log"
    LOGS.append((f"lakegate serve {name}", log))
    env = clean_env(LAKEGATE_LAKEFS_SECRET_ACCESS_KEY=dev.info["lakefs_secret_access_key"])
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [LAKEGATE_BIN, "serve", "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0",
             "--lakefs-endpoint", dev.info["api_endpoint"],
             "--lakefs-access-key-id", dev.info["lakefs_access_key_id"],
             "--identity-mode", "service", "--state-dir", str(state),
             "--keys-file", dev.info["keys_file"],
             "--session-key-file", str(session_key_file)],
            stdin=subprocess.DEVNULL, stdout=out, stderr=out, env=env)
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        m = SERVING_RE.search(ANSI_RE.sub("", tail(log, 1 << 20)))
        if m:
            break
        if proc.poll() is not None:
            pytest.fail(f"lakegate serve {name} exited with {proc.returncode}\n{tail(log)}")
        if time.monotonic() > deadline:
            stop_process(proc)
            pytest.fail(f"lakegate serve {name} logged no 'lakegate serving ... endpoint=' line\n{tail(log)}")
        time.sleep(0.05)
    gw = Gateway(proc, m.group(1), log, session_key_file)
    _wait_port(gw.s3_endpoint, proc, log, deadline)
    return gw


def write_key_file(path: Path, lines: List[str]) -> None:
    """Atomically replace a session key file."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("".join(line + "\n" for line in lines))
    os.replace(tmp, path)


def new_key_line(key_id: str) -> str:
    return f"{key_id} {secrets.token_hex(32)}"


# --------------------------------------------------------------------------------------
# lakegate creds oidc
# --------------------------------------------------------------------------------------


def creds_command(issuer: str, s3_endpoint: str, *extra: str) -> List[str]:
    return [LAKEGATE_BIN, "creds", "oidc", "--issuer", issuer, "--client-id", CLIENT_ID,
            "--lakegate", s3_endpoint, "--timeout-secs", "30", *extra]


def run_creds(issuer: str, s3_endpoint: str, *extra: str, login: str = "alice",
              browser: str = f"{sys.executable} {BROWSER_PY}", tmp: Optional[Path] = None
              ) -> subprocess.CompletedProcess:
    env = clean_env(BROWSER=browser, LAKEGATE_TEST_OIDC_LOGIN=login)
    env.pop("LAKEGATE_TEST_OIDC_CAPTURE", None)
    if tmp is not None:
        env["XDG_CACHE_HOME"] = str(tmp / "xdg-cache")
    return subprocess.run(creds_command(issuer, s3_endpoint, *extra), env=env,
                          capture_output=True, text=True, timeout=60)


def creds_ok(r: subprocess.CompletedProcess) -> dict:
    assert r.returncode == 0, f"lakegate creds oidc failed ({r.returncode}):\n{r.stderr}"
    creds = json.loads(r.stdout)
    assert set(creds) == {"Version", "AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"}, creds
    assert creds["Version"] == 1
    assert creds["AccessKeyId"].startswith("ASIA"), creds["AccessKeyId"]
    return creds


# --------------------------------------------------------------------------------------
# the CLI's side of a login, played in Python
# --------------------------------------------------------------------------------------


@dataclass
class Code:
    code: str
    state: str
    verifier: str
    redirect_uri: str

    def body(self, **over) -> dict:
        b = {"code": self.code, "state": self.state, "redirect_uri": self.redirect_uri,
             "code_verifier": self.verifier}
        b.update(over)
        return {k: v for k, v in b.items() if v is not None}


def capture_code(provider: Provider, tmp: Path, login: str = "alice") -> Code:
    """Authorization code for a PKCE login by ``login`` (browser.py in capture mode: the callback
    URL is written to a file, nobody listens on the redirect port)."""
    verifier = b64url(secrets.token_bytes(32))
    challenge = b64url(hashlib.sha256(verifier.encode()).digest())
    state = b64url(secrets.token_bytes(16))
    redirect_uri = f"http://127.0.0.1:{free_port()}/callback"
    url = provider.discovery["authorization_endpoint"] + "?" + urllib.parse.urlencode({
        "client_id": CLIENT_ID, "response_type": "code", "scope": "openid email profile",
        "redirect_uri": redirect_uri, "state": state,
        "code_challenge": challenge, "code_challenge_method": "S256",
    })
    cap = tmp / f"callback-{secrets.token_hex(4)}.txt"
    env = clean_env(LAKEGATE_TEST_OIDC_LOGIN=login, LAKEGATE_TEST_OIDC_CAPTURE=str(cap))
    r = subprocess.run([sys.executable, str(BROWSER_PY), url], env=env, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, f"browser.py failed: {r.stderr}"
    got = cap.read_text().strip()
    assert got.startswith(redirect_uri + "?"), got
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(got).query))
    assert q.get("state") == state and q.get("code"), q
    return Code(q["code"], state, verifier, redirect_uri)


# --------------------------------------------------------------------------------------
# S3 helpers
# --------------------------------------------------------------------------------------

PATH_STYLE = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1, "mode": "standard"},
                    signature_version="s3v4")


def s3_client(endpoint: str, creds: dict, secret: Optional[str] = None, token: Optional[str] = None):
    return boto3.session.Session().client(
        "s3", endpoint_url=endpoint, region_name=REGION, config=PATH_STYLE,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=secret if secret is not None else creds["SecretAccessKey"],
        aws_session_token=token if token is not None else creds["SessionToken"])


def error_code(call, *args, **kwargs) -> str:
    """The S3 error code a boto3 call fails with (fails the test if it succeeds)."""
    try:
        call(*args, **kwargs)
    except ClientError as e:
        return e.response["Error"]["Code"]
    pytest.fail(f"{getattr(call, '__name__', call)}{args}{kwargs} succeeded; expected an S3 error")


def s3_error(text: str) -> dict:
    """Fields of an S3 XML error document."""
    root = ET.fromstring(text)
    strip = lambda t: t.split("}", 1)[-1]  # noqa: E731
    assert strip(root.tag) == "Error", text
    return {strip(c.tag): (c.text or "") for c in root}
