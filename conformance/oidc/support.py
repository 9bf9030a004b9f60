"""Helpers for the OIDC single-sign-on conformance tests (test_sso.py): the processes (provider.mjs,
and through the harness's ``LakegateServer`` the ``lakegate dev`` and extra ``lakegate serve``
gateways), ``lakegate creds oidc`` runs, the CLI's side of a login played in Python, and S3 error
helpers.

Every process is ``harness.track``ed while it runs (lakegate's track themselves): the harness's
failure-report hook attaches their log tails to the report of a failing test.

Environment:
  LAKEGATE_BIN   path to the lakegate binary (default: <repo>/target/debug/lakegate)
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import urllib.parse
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

from harness import LAKEGATE_BIN, LakegateServer, LogFile, file_tail, track, untrack

HERE = Path(__file__).resolve().parent
PROVIDER = HERE / "provider.mjs"
BROWSER_PY = HERE / "browser.py"
INSTALL = HERE / "install.sh"
CLIENT_ID = "lakegate"
REGION = "us-east-1"
START_TIMEOUT_S = 30.0


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
    log: LogFile = field(repr=False)

    def stop(self) -> None:
        stop_process(self.proc)
        untrack(self.log)


def start_provider(log: Path, *args: str) -> Provider:
    log_file = LogFile("provider.mjs stderr", log)
    track(log_file)
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
        untrack(log_file)
        pytest.fail(f"provider.mjs {' '.join(args)} printed no issuer line ({line!r})\n{file_tail(log)}")
    issuer = json.loads(line)["issuer"]
    discovery = requests.get(issuer + "/.well-known/openid-configuration", timeout=5).json()
    return Provider(proc, issuer, discovery, log_file)


# --------------------------------------------------------------------------------------
# lakegate dev / lakegate serve
# --------------------------------------------------------------------------------------


def start_dev(data_dir: Path, log: Path, extra_args: List[str]) -> LakegateServer:
    """``lakegate dev`` (its own admin listener too) on a fresh data directory, in an environment
    without AWS_* and LAKEGATE_* settings (``clean_env``): no gateway key, the OIDC flags in
    ``extra_args``."""
    assert not (Path(data_dir) / "dev.json").exists(), "a fresh data directory"
    return LakegateServer(data_dir, log, ["--admin-listen", "127.0.0.1:0", *extra_args],
                          gateway_key=False, env=clean_env()).start()


def start_serve(dev: LakegateServer, work: Path, name: str, session_key_file: Path) -> LakegateServer:
    """A ``lakegate serve`` in front of the dev server's embedded lakeFS (service identity mode,
    the dev server's key file), sealing session tokens with ``session_key_file``."""
    args = ["--lakefs-endpoint", dev.info["api_endpoint"],
            "--lakefs-access-key-id", dev.info["lakefs_access_key_id"],
            "--identity-mode", "service",
            "--keys-file", dev.info["keys_file"],
            "--session-key-file", str(session_key_file)]
    env = clean_env(LAKEGATE_LAKEFS_SECRET_ACCESS_KEY=dev.info["lakefs_secret_access_key"])
    return LakegateServer(work / f"{name}-state", work / f"{name}.log", args, command="serve",
                          gateway_key=False, env=env).start()


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
