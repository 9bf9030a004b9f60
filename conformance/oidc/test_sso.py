"""Conformance of OIDC single sign-on: ``lakegate creds oidc`` (browser login with PKCE, printing
AWS ``credential_process`` JSON), the gateway's ``POST /_lakegate/sts/oidc`` endpoint, and S3
requests signed with the temporary credentials it mints (they act as the mapped lakeFS user).

Setup (conftest.py): provider.mjs with ``groups=data-eng`` on every ID token; ``lakegate dev
--oidc-user alice=alice --oidc-required-claim groups=data-eng``; alice may use repository ``sso``
only, so ``demo`` answering AccessDenied proves requests run as alice, not as the admin.

Run: /work/main/.venv/bin/python -m pytest -q -p no:cacheprovider conformance/oidc
Needs node + npm (missing ones make the tests FAIL, never skip).
"""

from __future__ import annotations

import datetime
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
import urllib.parse
import uuid
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
import requests

from harness import AWS_CLI, LakegateServer

from . import support as sso
from .support import error_code, s3_client

PROFILE = "lakegate-sso"
PROFILE_TTL = 900


def expiration(creds: dict) -> float:
    return datetime.datetime.fromisoformat(creds["Expiration"].replace("Z", "+00:00")).timestamp()


def assert_alice(s3, tag: str) -> None:
    """put/list/get on sso work; demo is AccessDenied (the requests run as alice)."""
    key = f"main/{tag}/{uuid.uuid4().hex}.txt"
    body = f"{tag} {uuid.uuid4()}".encode()
    s3.put_object(Bucket="sso", Key=key, Body=body)
    listed = s3.list_objects_v2(Bucket="sso", Prefix=f"main/{tag}/")
    assert key in [o["Key"] for o in listed.get("Contents", [])], listed
    assert s3.get_object(Bucket="sso", Key=key)["Body"].read() == body
    assert error_code(s3.put_object, Bucket="demo", Key=key, Body=b"x") == "AccessDenied"
    assert error_code(s3.list_objects_v2, Bucket="demo", Prefix="main/") == "AccessDenied"
    assert error_code(s3.get_object, Bucket="demo", Key=key) == "AccessDenied"


# --------------------------------------------------------------------------------------
# an AWS profile whose credential_process is `lakegate creds oidc`
# --------------------------------------------------------------------------------------


@dataclass
class Profile:
    config: Path
    counter: Path
    endpoint: str

    def logins(self) -> int:
        return len(self.counter.read_text().splitlines()) if self.counter.exists() else 0

    def env(self) -> dict:
        return sso.clean_env(AWS_CONFIG_FILE=str(self.config),
                             AWS_SHARED_CREDENTIALS_FILE=str(self.config.parent / "no-such-credentials"),
                             AWS_PROFILE=PROFILE)

    def boto3_session(self, monkeypatch) -> boto3.session.Session:
        for k in list(os.environ):
            if k.startswith("AWS_"):
                monkeypatch.delenv(k)
        for k, v in self.env().items():
            if k.startswith("AWS_"):
                monkeypatch.setenv(k, v)
        return boto3.session.Session(profile_name=PROFILE)


@pytest.fixture(scope="module")
def profile(sso_provider, sso_dev, tmp_path_factory) -> Profile:
    d = tmp_path_factory.mktemp("aws-profile")
    counter = d / "browser-runs.txt"
    wrapper = d / "browser-counting.sh"
    # $BROWSER: counts its runs, then is browser.py (logs in as alice, delivers the callback)
    wrapper.write_text(f'#!/bin/sh\necho "$@" >> {counter}\nexec {sys.executable} {sso.BROWSER_PY} "$@"\n')
    wrapper.chmod(0o755)
    command = shlex.join([shutil.which("env"), f"BROWSER={wrapper}", "LAKEGATE_TEST_OIDC_LOGIN=alice",
                        *sso.creds_command(sso_provider.issuer, sso_dev.s3_endpoint,
                                           "--ttl-seconds", str(PROFILE_TTL), "--cache-dir", str(d / "cache"))])
    config = d / "config"
    config.write_text(f"[profile {PROFILE}]\nregion = {sso.REGION}\ncredential_process = {command}\n"
                      "s3 =\n    addressing_style = path\n")
    return Profile(config, counter, sso_dev.s3_endpoint)


@pytest.fixture(scope="module")
def alice_creds(sso_provider, sso_dev, tmp_path_factory) -> dict:
    """Credentials minted by the dev gateway (no cache)."""
    r = sso.run_creds(sso_provider.issuer, sso_dev.s3_endpoint, "--ttl-seconds", "900", "--no-cache",
                      tmp=tmp_path_factory.mktemp("alice-creds"))
    return sso.creds_ok(r)


def test_boto3_credential_process_profile(profile, monkeypatch):
    session = profile.boto3_session(monkeypatch)
    creds = session.get_credentials()
    assert creds is not None and creds.method == "custom-process", creds and creds.method
    frozen = creds.get_frozen_credentials()
    assert frozen.access_key.startswith("ASIA"), frozen.access_key
    assert frozen.token, "temporary credentials carry a session token"
    s3 = session.client("s3", endpoint_url=profile.endpoint, config=sso.PATH_STYLE)
    assert_alice(s3, "boto3-profile")
    assert profile.logins() == 1, profile.counter.read_text()


def test_aws_cli_shares_the_cached_login(profile, monkeypatch):
    session = profile.boto3_session(monkeypatch)
    s3 = session.client("s3", endpoint_url=profile.endpoint, config=sso.PATH_STYLE)
    key = f"main/cli/{uuid.uuid4().hex}.txt"
    body = f"for the aws cli {uuid.uuid4()}".encode()
    s3.put_object(Bucket="sso", Key=key, Body=body)

    def aws(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(AWS_CLI), *args, "--endpoint-url", profile.endpoint],
                              env=profile.env(), capture_output=True, timeout=60)

    ls = aws("s3", "ls", "s3://sso/main/cli/")
    assert ls.returncode == 0, ls.stderr.decode()
    assert key.rsplit("/", 1)[1] in ls.stdout.decode(), ls.stdout.decode()
    cp = aws("s3", "cp", f"s3://sso/{key}", "-")
    assert cp.returncode == 0, cp.stderr.decode()
    assert cp.stdout == body
    denied = aws("s3", "ls", "s3://demo/main/")
    assert denied.returncode != 0 and b"AccessDenied" in denied.stderr, denied
    # boto3 (this test and the previous one) and the CLI: one browser login, the rest from the cache
    assert profile.logins() == 1, profile.counter.read_text()


def test_presigned_get_with_session_token(profile, monkeypatch):
    session = profile.boto3_session(monkeypatch)
    s3 = session.client("s3", endpoint_url=profile.endpoint, config=sso.PATH_STYLE)
    key = f"main/presigned/{uuid.uuid4().hex}.bin"
    body = uuid.uuid4().bytes * 100
    s3.put_object(Bucket="sso", Key=key, Body=body)
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "sso", "Key": key}, ExpiresIn=300)
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    assert q.get("X-Amz-Security-Token"), url
    assert q["X-Amz-Credential"].startswith("ASIA"), url
    r = requests.get(url, timeout=10)
    assert r.status_code == 200, r.text
    assert r.content == body
    demo = s3.generate_presigned_url("get_object", Params={"Bucket": "demo", "Key": key}, ExpiresIn=300)
    r = requests.get(demo, timeout=10)
    assert r.status_code == 403 and sso.s3_error(r.text)["Code"] == "AccessDenied", r.text
    assert profile.logins() <= 1


def test_expired_credentials(sso_provider, sso_dev, tmp_path):
    # ttl 3, not 2: the gateway counts whole seconds from the start of the sign-in, so a 2 s token
    # may have only ~1 s left when the CLI prints it, too little for the "works before" check.
    ttl = 3
    r = sso.run_creds(sso_provider.issuer, sso_dev.s3_endpoint, "--ttl-seconds", str(ttl), "--no-cache", tmp=tmp_path)
    creds = sso.creds_ok(r)
    exp = expiration(creds)
    assert -1 < exp - time.time() <= ttl + 1, (creds["Expiration"], time.time())
    s3 = s3_client(sso_dev.s3_endpoint, creds)
    key = f"main/expiry/{uuid.uuid4().hex}"
    s3.put_object(Bucket="sso", Key=key, Body=b"before expiry")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "sso", "Key": key}, ExpiresIn=300)
    assert requests.get(url, timeout=10).status_code == 200
    time.sleep(max(0.0, exp + 1 - time.time()))
    assert error_code(s3.list_objects_v2, Bucket="sso", Prefix="main/") == "ExpiredToken"
    r = requests.get(url, timeout=10)
    assert r.status_code == 400 and sso.s3_error(r.text)["Code"] == "ExpiredToken", r.text


def test_tampered_tokens_and_wrong_secret(sso_provider, sso_dev, alice_creds, gateways, tmp_path):
    s3_client(sso_dev.s3_endpoint, alice_creds).list_objects_v2(Bucket="sso", Prefix="main/")  # sanity
    token = alice_creds["SessionToken"]
    i = len(token) // 2
    flipped = token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1:]
    assert flipped != token and len(flipped) == len(token)
    bad = s3_client(sso_dev.s3_endpoint, alice_creds, token=flipped)
    assert error_code(bad.list_objects_v2, Bucket="sso", Prefix="main/") == "InvalidToken"
    assert error_code(bad.get_object, Bucket="sso", Key="main/x") == "InvalidToken"

    # a token sealed by a gateway whose key has dev's key id but another secret
    dev_line = sso_dev.session_key_file.read_text().split("\n")
    dev_id = [ln for ln in dev_line if ln.strip() and not ln.startswith("#")][0].split()[0]
    other_keys = tmp_path / "other.keys"
    sso.write_key_file(other_keys, [sso.new_key_line(dev_id)])
    other = gateways("same-id-other-secret", other_keys)
    r = sso.run_creds(sso_provider.issuer, other.s3_endpoint, "--ttl-seconds", "600", "--no-cache", tmp=tmp_path)
    foreign = sso.creds_ok(r)
    s3_client(other.s3_endpoint, foreign).list_objects_v2(Bucket="sso", Prefix="main/")  # valid there
    assert error_code(s3_client(sso_dev.s3_endpoint, foreign).list_objects_v2,
                      Bucket="sso", Prefix="main/") == "InvalidToken"

    wrong_secret = alice_creds["SecretAccessKey"][:-1] + ("A" if alice_creds["SecretAccessKey"][-1] != "A" else "B")
    s3 = s3_client(sso_dev.s3_endpoint, alice_creds, secret=wrong_secret)
    assert error_code(s3.list_objects_v2, Bucket="sso", Prefix="main/") == "SignatureDoesNotMatch"


def login_url(dev: LakegateServer) -> str:
    return dev.s3_endpoint + "/_lakegate/sts/oidc"


def assert_s3_error(r: requests.Response, status: int, code: str) -> dict:
    assert r.status_code == status, (r.status_code, r.text)
    err = sso.s3_error(r.text)
    assert err["Code"] == code, r.text
    assert err.get("RequestId") and err["RequestId"] == r.headers.get("x-amz-request-id"), (r.headers, r.text)
    return err


def test_login_endpoint_code_replay_and_bad_requests(sso_provider, sso_dev, tmp_path):
    url = login_url(sso_dev)
    code = sso.capture_code(sso_provider, tmp_path)
    first = requests.post(url, json=code.body(), timeout=30)
    assert first.status_code == 200, first.text
    assert first.headers["content-type"].startswith("application/json")
    creds = first.json()
    assert creds["Version"] == 1 and creds["AccessKeyId"].startswith("ASIA") and creds["SessionToken"], creds
    assert 3600 - 10 <= expiration(creds) - time.time() <= 3600 + 2, creds["Expiration"]  # default ttl
    assert_alice(s3_client(sso_dev.s3_endpoint, creds), "endpoint")
    # the same code again: the provider refuses it (single use), lakeFS 401, AccessDenied
    assert_s3_error(requests.post(url, json=code.body(), timeout=30), 403, "AccessDenied")

    # PKCE: another verifier, or none, is refused
    c2 = sso.capture_code(sso_provider, tmp_path)
    assert_s3_error(requests.post(url, json=c2.body(code_verifier=sso.b64url(b"x" * 32)), timeout=30),
                    403, "AccessDenied")
    c3 = sso.capture_code(sso_provider, tmp_path)
    assert_s3_error(requests.post(url, json=c3.body(code_verifier=None), timeout=30), 403, "AccessDenied")

    # malformed requests
    for data in (b"{", b"", b"[]", json.dumps({"code": "c", "state": "s"}).encode(),
                 json.dumps({"code": "", "state": "s", "redirect_uri": "http://127.0.0.1:1/callback"}).encode(),
                 json.dumps({"code": 1, "state": "s", "redirect_uri": "http://127.0.0.1:1/callback"}).encode()):
        r = requests.post(url, data=data, headers={"content-type": "application/json"}, timeout=10)
        assert_s3_error(r, 400, "InvalidRequest")
    # ttl out of 1..43200, checked before the code is spent: the same code then works
    c4 = sso.capture_code(sso_provider, tmp_path)
    for ttl in (0, -1, 43201, 50000):
        assert_s3_error(requests.post(url, json=c4.body(ttl_seconds=ttl), timeout=10), 400, "InvalidArgument")
    ok = requests.post(url, json=c4.body(ttl_seconds=43200), timeout=30)
    assert ok.status_code == 200, ok.text
    assert 43200 - 10 <= expiration(ok.json()) - time.time() <= 43200 + 2, ok.json()["Expiration"]
    # only POST
    r = requests.get(url, timeout=10)
    assert r.status_code == 405 and sso.s3_error(r.text)["Code"] == "MethodNotAllowed", r.text


def test_gateways_sharing_and_rotating_session_keys(sso_provider, sso_dev, alice_creds, gateways, tmp_path):
    # a second gateway on the same session key file accepts the dev gateway's credentials, as alice
    shared = gateways("shared-key", sso_dev.session_key_file)
    assert_alice(s3_client(shared.s3_endpoint, alice_creds), "shared-gateway")

    # a third one with a key of its own refuses them
    keys = tmp_path / "third.keys"
    sso.write_key_file(keys, [sso.new_key_line("k9")])
    third = gateways("own-key", keys)
    s3 = s3_client(third.s3_endpoint, alice_creds)
    assert error_code(s3.list_objects_v2, Bucket="sso", Prefix="main/") == "InvalidToken"

    # rotation: a new sealing key first, dev's key second → the file is reloaded, dev's tokens open
    dev_lines = [ln for ln in sso_dev.session_key_file.read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    assert len(dev_lines) == 1, dev_lines
    sso.write_key_file(keys, [sso.new_key_line("k10"), dev_lines[0]])
    time.sleep(1.1)
    deadline = time.monotonic() + 3.0
    while True:
        try:
            s3.list_objects_v2(Bucket="sso", Prefix="main/")
            break
        except sso.ClientError as e:
            code = e.response["Error"]["Code"]
            assert code == "InvalidToken", e
            assert time.monotonic() < deadline, f"the rotated key file was not picked up within ~4 s ({code})"
            time.sleep(0.2)
    assert_alice(s3, "rotated-gateway")

    # the third gateway now seals with its first key (k10), which the dev gateway does not hold
    r = sso.run_creds(sso_provider.issuer, third.s3_endpoint, "--ttl-seconds", "600", "--no-cache", tmp=tmp_path)
    minted = sso.creds_ok(r)
    assert_alice(s3_client(third.s3_endpoint, minted), "third-minted")
    assert error_code(s3_client(sso_dev.s3_endpoint, minted).list_objects_v2,
                      Bucket="sso", Prefix="main/") == "InvalidToken"


def test_unmapped_subject_is_refused(sso_provider, sso_dev, tmp_path):
    r = sso.run_creds(sso_provider.issuer, sso_dev.s3_endpoint, "--no-cache", login="bob", tmp=tmp_path)
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    assert r.stdout == "", r.stdout
    assert "AccessDenied" in r.stderr, r.stderr
