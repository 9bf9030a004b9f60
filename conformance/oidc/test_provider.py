"""Self-tests of the local OIDC provider (provider.mjs) and the scripted
browser (browser.py).

The test plays the CLI's role: PKCE verifier + S256 challenge, state, a
loopback listener for /callback; browser.py does the login; the test exchanges
the code at the token endpoint and checks the ID token.

Run: /work/main/.venv/bin/python -m pytest conformance/oidc
Needs node + npm (missing ones make the tests FAIL, never skip).
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import urllib.parse
from dataclasses import dataclass, field

import pytest
import requests
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

HERE = os.path.dirname(os.path.abspath(__file__))
PROVIDER = os.path.join(HERE, "provider.mjs")
BROWSER = os.path.join(HERE, "browser.py")
INSTALL = os.path.join(HERE, "install.sh")

PUBLIC_ID = "lakegate"
CONF_ID = "lakegate-confidential"
CONF_SECRET = "s3cret-for-tests"
SCOPE = "openid email profile"
START_TIMEOUT = 15


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


# --------------------------------------------------------------------------
# provider process
# --------------------------------------------------------------------------


@dataclass
class Provider:
    proc: subprocess.Popen
    issuer: str
    discovery: dict = field(default_factory=dict)

    def stop(self) -> tuple[int, str, str]:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            out, err = self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
        return self.proc.returncode, out, err


@pytest.fixture(scope="session")
def installed() -> None:
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} not found on PATH: the OIDC provider needs Node.js and npm")
    r = subprocess.run(["bash", INSTALL], capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        pytest.fail(f"install.sh failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")


def launch(*args: str) -> tuple[subprocess.Popen, str]:
    """Start provider.mjs; return (process, first stdout line). Does not wait
    for anything but that line."""
    proc = subprocess.Popen(
        ["node", PROVIDER, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    timer = threading.Timer(START_TIMEOUT, proc.kill)
    timer.start()
    try:
        line = proc.stdout.readline()
    finally:
        timer.cancel()
    if not line:
        proc.kill()
        _, err = proc.communicate()
        pytest.fail(f"provider.mjs {' '.join(args)} printed nothing; stderr:\n{err}")
    return proc, line


def start_provider(*args: str) -> Provider:
    proc, line = launch(*args)
    issuer = json.loads(line)["issuer"]
    p = Provider(proc, issuer)
    p.discovery = requests.get(issuer + "/.well-known/openid-configuration", timeout=5).json()
    return p


@pytest.fixture(scope="module")
def providers(installed):
    started: list[Provider] = []
    try:
        public = start_provider("--claim", "groups=data-eng")
        started.append(public)
        conf = start_provider("--client-id", CONF_ID, "--client-secret", CONF_SECRET)
        started.append(conf)
        yield {"public": public, "confidential": conf}
    finally:
        for p in started:
            p.stop()


@pytest.fixture(scope="module")
def public(providers) -> Provider:
    return providers["public"]


@pytest.fixture(scope="module")
def confidential(providers) -> Provider:
    return providers["confidential"]


# --------------------------------------------------------------------------
# the CLI's side: loopback listener, authorize URL, browser, token exchange
# --------------------------------------------------------------------------


class Listener:
    """Tiny http.server on 127.0.0.1:0 recording GET /callback queries."""

    def __init__(self) -> None:
        hits: list[dict] = []
        self.hits = hits

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                u = urllib.parse.urlsplit(self.path)
                if u.path != "/callback":
                    self.send_response(404)
                    self.end_headers()
                    return
                hits.append(dict(urllib.parse.parse_qsl(u.query)))
                body = b"login complete, you can close this window\n"
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.redirect_uri = f"http://127.0.0.1:{self.port}/callback"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def listener():
    lst = Listener()
    yield lst
    lst.close()


@dataclass
class Login:
    code: str | None
    state: str
    verifier: str
    redirect_uri: str
    callback: dict
    browser: subprocess.CompletedProcess


def authorize_url(p: Provider, client_id: str, redirect_uri: str, state: str,
                  challenge: str | None, scope: str = SCOPE, nonce: str | None = None) -> str:
    q = {
        "client_id": client_id,
        "response_type": "code",
        "scope": scope,
        "redirect_uri": redirect_uri,
        "state": state,
    }
    if challenge is not None:
        q["code_challenge"] = challenge
        q["code_challenge_method"] = "S256"
    if nonce is not None:
        q["nonce"] = nonce
    return p.discovery["authorization_endpoint"] + "?" + urllib.parse.urlencode(q)


def run_browser(url: str, login: str | None = None, capture: str | None = None,
                extra_args: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("LAKEGATE_TEST_OIDC_LOGIN", None)
    env.pop("LAKEGATE_TEST_OIDC_CAPTURE", None)
    if login is not None:
        env["LAKEGATE_TEST_OIDC_LOGIN"] = login
    if capture is not None:
        env["LAKEGATE_TEST_OIDC_CAPTURE"] = capture
    return subprocess.run([sys.executable, BROWSER, *extra_args, url], env=env,
                          capture_output=True, text=True, timeout=60)


def do_login(p: Provider, client_id: str, lst: Listener, login: str | None = None,
             pkce: bool = True, expect_ok: bool = True, nonce: str | None = None) -> Login:
    verifier = b64url(secrets.token_bytes(32))
    challenge = b64url(hashlib.sha256(verifier.encode()).digest()) if pkce else None
    state = b64url(secrets.token_bytes(16))
    url = authorize_url(p, client_id, lst.redirect_uri, state, challenge, nonce=nonce)
    r = run_browser(url, login=login)
    cb = lst.hits[-1] if lst.hits else {}
    if expect_ok:
        assert r.returncode == 0, f"browser.py failed: {r.stderr}"
        assert len(lst.hits) == 1, lst.hits
        assert cb.get("state") == state
        assert cb.get("code"), cb
    return Login(cb.get("code"), state, verifier, lst.redirect_uri, cb, r)


def exchange(p: Provider, client_id: str, lg: Login, verifier: str | None = "same",
             auth: str = "none", secret: str = CONF_SECRET) -> requests.Response:
    data = {
        "grant_type": "authorization_code",
        "code": lg.code,
        "redirect_uri": lg.redirect_uri,
    }
    if verifier == "same":
        verifier = lg.verifier
    if verifier is not None:
        data["code_verifier"] = verifier
    kwargs: dict = {}
    if auth == "none":
        data["client_id"] = client_id
    elif auth == "basic":
        kwargs["auth"] = (client_id, secret)
    elif auth == "post":
        data["client_id"] = client_id
        data["client_secret"] = secret
    else:
        raise ValueError(auth)
    return requests.post(p.discovery["token_endpoint"], data=data, timeout=10, **kwargs)


def verify_id_token(p: Provider, token: str) -> tuple[dict, dict]:
    """Verify an RS256 JWT against the provider's jwks_uri; return (header, claims)."""
    h64, c64, s64 = token.split(".")
    header = json.loads(b64url_decode(h64))
    claims = json.loads(b64url_decode(c64))
    assert header["alg"] == "RS256", header
    jwks = requests.get(p.discovery["jwks_uri"], timeout=5).json()
    keys = [k for k in jwks["keys"] if k.get("kid") == header.get("kid")]
    assert len(keys) == 1, (header, jwks)
    k = keys[0]
    assert k["kty"] == "RSA" and "d" not in k, "jwks must only hold public RSA keys"
    pub = rsa.RSAPublicNumbers(
        int.from_bytes(b64url_decode(k["e"]), "big"),
        int.from_bytes(b64url_decode(k["n"]), "big"),
    ).public_key()
    pub.verify(b64url_decode(s64), f"{h64}.{c64}".encode(), padding.PKCS1v15(), hashes.SHA256())
    return header, claims


def assert_invalid_grant(r: requests.Response) -> None:
    assert r.status_code == 400, (r.status_code, r.text)
    assert r.json()["error"] == "invalid_grant", r.text


# --------------------------------------------------------------------------
# tests
# --------------------------------------------------------------------------


def test_discovery(public):
    d = public.discovery
    assert public.issuer.startswith("http://127.0.0.1:")
    assert not public.issuer.endswith("/")
    assert d["issuer"] == public.issuer
    assert d["jwks_uri"].startswith(public.issuer + "/")
    assert d["authorization_endpoint"].startswith(public.issuer + "/")
    assert d["token_endpoint"].startswith(public.issuer + "/")
    assert "S256" in d["code_challenge_methods_supported"]
    assert d["response_types_supported"] == ["code"]
    assert "RS256" in d["id_token_signing_alg_values_supported"]
    assert {"openid", "email", "profile"} <= set(d["scopes_supported"])
    jwks = requests.get(d["jwks_uri"], timeout=5).json()
    assert [k["kty"] for k in jwks["keys"]] == ["RSA"]


def test_public_client_login(public, listener):
    lg = do_login(public, PUBLIC_ID, listener, login="bob", nonce="n-0S6_WzA2Mj")
    # RFC 9207: the provider also sends iss back on the redirect.
    assert lg.callback.get("iss") == public.issuer
    r = exchange(public, PUBLIC_ID, lg)
    assert r.status_code == 200, r.text
    tok = r.json()
    assert tok["token_type"].lower() == "bearer"
    header, claims = verify_id_token(public, tok["id_token"])
    assert claims["iss"] == public.issuer
    assert claims["aud"] == PUBLIC_ID
    assert claims["sub"] == "bob"
    assert claims["email"] == "bob@example.com"
    assert claims["groups"] == "data-eng"
    assert claims["nonce"] == "n-0S6_WzA2Mj"
    assert claims["exp"] > claims["iat"]


def test_default_login_name_is_alice(public, listener):
    lg = do_login(public, PUBLIC_ID, listener)  # no LAKEGATE_TEST_OIDC_LOGIN
    r = exchange(public, PUBLIC_ID, lg)
    assert r.status_code == 200, r.text
    _, claims = verify_id_token(public, r.json()["id_token"])
    assert claims["sub"] == "alice"
    assert claims["email"] == "alice@example.com"


def test_code_is_single_use(public, listener):
    lg = do_login(public, PUBLIC_ID, listener)
    first = exchange(public, PUBLIC_ID, lg)
    assert first.status_code == 200, first.text
    assert_invalid_grant(exchange(public, PUBLIC_ID, lg))


def test_wrong_code_verifier_refused(public, listener):
    lg = do_login(public, PUBLIC_ID, listener)
    assert_invalid_grant(exchange(public, PUBLIC_ID, lg, verifier=b64url(secrets.token_bytes(32))))


def test_missing_code_verifier_refused(public, listener):
    lg = do_login(public, PUBLIC_ID, listener)
    assert_invalid_grant(exchange(public, PUBLIC_ID, lg, verifier=None))


def test_public_client_needs_pkce(public, listener):
    # No code_challenge: the provider redirects back with an error; the
    # browser delivers that redirect and exits 1.
    lg = do_login(public, PUBLIC_ID, listener, pkce=False, expect_ok=False)
    assert lg.browser.returncode == 1
    assert "without a code" in lg.browser.stderr
    assert lg.callback.get("error") == "invalid_request", lg.callback
    assert "code" not in lg.callback


def test_any_loopback_port_but_not_other_uris(public):
    # Two listeners on two random ports: both accepted.
    for _ in range(2):
        lst = Listener()
        try:
            lg = do_login(public, PUBLIC_ID, lst)
            assert exchange(public, PUBLIC_ID, lg).status_code == 200
        finally:
            lst.close()
    # Another path, or a non-loopback host, is refused by the provider (error
    # page, no redirect), so the browser fails without delivering anything.
    verifier = b64url(secrets.token_bytes(32))
    challenge = b64url(hashlib.sha256(verifier.encode()).digest())
    for bad in ("http://127.0.0.1:1/other", "http://example.com:8080/callback"):
        r = run_browser(authorize_url(public, PUBLIC_ID, bad, "s", challenge))
        assert r.returncode == 1
        assert "redirect_uri" in r.stderr, r.stderr


def test_capture_mode_does_not_call_back(public, listener, tmp_path):
    verifier = b64url(secrets.token_bytes(32))
    challenge = b64url(hashlib.sha256(verifier.encode()).digest())
    cap = tmp_path / "callback.txt"
    url = authorize_url(public, PUBLIC_ID, listener.redirect_uri, "st8", challenge)
    # Extra leading args as a $BROWSER command line might have: URL is last.
    r = run_browser(url, login="carol", capture=str(cap), extra_args=("--new-window",))
    assert r.returncode == 0, r.stderr
    assert listener.hits == []
    got = cap.read_text().strip()
    assert got.startswith(listener.redirect_uri + "?")
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(got).query))
    assert q["state"] == "st8"
    lg = Login(q["code"], "st8", verifier, listener.redirect_uri, q, r)
    first = exchange(public, PUBLIC_ID, lg)
    assert first.status_code == 200, first.text
    assert verify_id_token(public, first.json()["id_token"])[1]["sub"] == "carol"
    assert_invalid_grant(exchange(public, PUBLIC_ID, lg))


@pytest.mark.parametrize("auth", ["basic", "post"])
def test_confidential_client_login(confidential, listener, auth):
    lg = do_login(confidential, CONF_ID, listener, login="dave")
    r = exchange(confidential, CONF_ID, lg, auth=auth)
    assert r.status_code == 200, r.text
    _, claims = verify_id_token(confidential, r.json()["id_token"])
    assert claims["iss"] == confidential.issuer
    assert claims["aud"] == CONF_ID
    assert claims["sub"] == "dave"
    assert claims["email"] == "dave@example.com"
    assert "groups" not in claims  # no --claim on this provider
    assert_invalid_grant(exchange(confidential, CONF_ID, lg, auth=auth))


def test_confidential_client_auth_required(confidential, listener):
    lg = do_login(confidential, CONF_ID, listener)
    wrong = exchange(confidential, CONF_ID, lg, auth="basic", secret="wrong")
    assert wrong.status_code == 401, wrong.text
    assert wrong.json()["error"] == "invalid_client"
    none = exchange(confidential, CONF_ID, lg, auth="none")
    assert none.status_code in (400, 401), none.text
    assert none.json()["error"] in ("invalid_client", "invalid_request")


def test_confidential_client_pkce_enforced_when_sent(confidential, listener):
    lg = do_login(confidential, CONF_ID, listener)
    assert_invalid_grant(exchange(confidential, CONF_ID, lg, auth="basic",
                                  verifier=b64url(secrets.token_bytes(32))))
    # Without PKCE at all a confidential client may log in.
    lst = Listener()
    try:
        lg2 = do_login(confidential, CONF_ID, lst, pkce=False)
        r = exchange(confidential, CONF_ID, lg2, auth="basic", verifier=None)
        assert r.status_code == 200, r.text
    finally:
        lst.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_process_contract_fixed_port_and_sigterm(installed):
    port = free_port()
    proc, line = launch("--port", str(port), "--claim", "groups=a", "--claim", "groups=b",
                        "--claim", 'teams=["x"]')
    p = Provider(proc, "")
    try:
        assert line == '{"issuer": "http://127.0.0.1:%d"}\n' % port
        p.issuer = json.loads(line)["issuer"]
        p.discovery = requests.get(p.issuer + "/.well-known/openid-configuration", timeout=5).json()
        lst = Listener()
        try:
            lg = do_login(p, PUBLIC_ID, lst, login="erin")
        finally:
            lst.close()
        r = exchange(p, PUBLIC_ID, lg)
        assert r.status_code == 200, r.text
        _, claims = verify_id_token(p, r.json()["id_token"])
        assert claims["groups"] == ["a", "b"]
        assert claims["teams"] == ["x"]
    finally:
        rc, out, err = p.stop()
    assert rc == 0, err
    assert out == "", "provider.mjs must print nothing after its JSON line"


def test_bad_flag_exits_nonzero(installed):
    r = subprocess.run(["node", PROVIDER, "--nope"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 2
    assert r.stdout == ""
    assert "unknown argument" in r.stderr
