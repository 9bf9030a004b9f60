"""Fixtures for the lakeFS REST API conformance suite.

The suite starts ``lakegate dev`` (an embedded lakeFS-compatible server) on a
free port in a temporary data directory and talks to it with the official
``lakefs-sdk`` Python client (whose pydantic models reject wrong shapes) and,
for edge cases the SDK validates client side or cannot express, with raw
urllib3 requests.

Environment:
  LAKEGATE_BIN   path to the lakegate binary (default: <repo>/target/debug/lakegate)
  LAKEGATE_DEV_API_TLS_CERT/_KEY   read by ``lakegate dev`` itself: the API (and the blob URLs it
                 presigns) over HTTPS; the suite's clients then trust the certificate's CA through
                 SSL_CERT_FILE (the test command's seaweedfs pass: scripts/seaweedfs.sh's CA)
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import signal
import subprocess
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple
from urllib.parse import urlencode, urlsplit

import lakefs_sdk
import pytest
import urllib3

REPO_ROOT = Path(__file__).resolve().parents[2]
LAKEGATE_BIN = os.environ.get("LAKEGATE_BIN", str(REPO_ROOT / "target" / "debug" / "lakegate"))
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0

# The suite runs on the embedded server's local blob store, or — when the test command sets
# LAKEGATE_DEV_BLOCKSTORE=s3 — on its S3 blockstore (SeaweedFS): namespaces and presigned URLs differ.
S3_BUCKET = os.environ.get("LAKEGATE_DEV_S3_BUCKET") if os.environ.get("LAKEGATE_DEV_BLOCKSTORE") == "s3" else None


def ns(name: str) -> str:
    """The storage namespace for a repository called ``name`` on the server's blockstore."""
    return f"s3://{S3_BUCKET}/{name}" if S3_BUCKET else f"local://{name}"


def data_url(server: "LakegateServer") -> str:
    """Where presigned URLs point: the S3 bucket, or the embedded server's own blob endpoint."""
    if S3_BUCKET:
        return os.environ["LAKEGATE_DEV_S3_ENDPOINT"].rstrip("/") + f"/{S3_BUCKET}/"
    return server.base_url + "/"


_HTTP = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(connect=5.0, read=30.0))


# --------------------------------------------------------------------------------------
# server process management
# --------------------------------------------------------------------------------------


class LakegateServer:
    """One ``lakegate dev`` process bound to one data directory."""

    def __init__(self, data_dir: Path, log_path: Path, extra_args: Optional[List[str]] = None):
        self.data_dir = Path(data_dir)
        self.extra_args = list(extra_args or [])
        self.log_path = Path(log_path)
        self.proc: Optional[subprocess.Popen] = None
        self.info: Dict[str, Any] = {}
        self._log_file = None
        self.killed = False

    # -- lifecycle ------------------------------------------------------------------

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
            [LAKEGATE_BIN, "dev", "--data", str(self.data_dir), "--api-listen", "127.0.0.1:0", "--listen", "127.0.0.1:0", *self.extra_args],
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=self._log_file,
        )
        deadline = time.monotonic() + timeout
        # 1. wait for a (re)written dev.json
        while True:
            self._check_alive("while waiting for dev.json")
            key = _stat_key(dev_json)
            if key is not None and key != before:
                try:
                    self.info = json.loads(dev_json.read_text())
                    if {"api_endpoint", "lakefs_access_key_id", "lakefs_secret_access_key"} <= set(self.info):
                        break
                except (ValueError, OSError):
                    pass  # written atomically, but be tolerant of a torn read anyway
            if time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"lakegate did not write {dev_json} within {timeout}s\n{self.log_tail()}")
            time.sleep(0.05)
        if os.environ.get("LAKEGATE_DEV_API_TLS_CERT") and not self.api_endpoint.startswith("https://"):
            self.stop()
            pytest.fail(f"LAKEGATE_DEV_API_TLS_CERT is set but the API is {self.api_endpoint}\n{self.log_tail()}")
        # 2. wait for healthCheck
        while True:
            self._check_alive("while waiting for healthcheck")
            try:
                r = _HTTP.request("GET", self.api_endpoint + "/healthcheck", timeout=2.0)
                if r.status == 204:
                    break
            except urllib3.exceptions.HTTPError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"lakegate healthcheck did not answer 204 within {timeout}s\n{self.log_tail()}")
            time.sleep(0.05)
        return self

    def stop(self, sig: int = signal.SIGTERM, timeout: float = STOP_TIMEOUT_S) -> Optional[int]:
        """Send ``sig`` and wait; escalate to SIGKILL after ``timeout``. Returns the exit code."""
        rc = None
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.send_signal(sig)
                try:
                    rc = self.proc.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    self.killed = True
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
            rc = self.proc.returncode
            if self._log_file is not None:
                self._log_file.flush()
            pytest.fail(f"lakegate exited with {rc} {what}\n{self.log_tail()}")

    def log_tail(self, max_bytes: int = 8000) -> str:
        try:
            data = self.log_path.read_bytes()
        except OSError:
            return "(no lakegate output captured)"
        return "---- lakegate stderr/stdout (tail) ----\n" + data[-max_bytes:].decode("utf-8", "replace")

    # -- derived values -------------------------------------------------------------

    @property
    def api_endpoint(self) -> str:
        return self.info["api_endpoint"].rstrip("/")

    @property
    def base_url(self) -> str:
        """scheme://host:port of the server."""
        parts = urlsplit(self.api_endpoint)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def access_key_id(self) -> str:
        return self.info["lakefs_access_key_id"]

    @property
    def secret_access_key(self) -> str:
        return self.info["lakefs_secret_access_key"]

    def client(self, username: Optional[str] = None, password: Optional[str] = None,
               access_token: Optional[str] = None, anonymous: bool = False) -> lakefs_sdk.ApiClient:
        if anonymous:
            cfg = lakefs_sdk.Configuration(host=self.api_endpoint)
        elif access_token is not None:
            cfg = lakefs_sdk.Configuration(host=self.api_endpoint, access_token=access_token)
        else:
            cfg = lakefs_sdk.Configuration(
                host=self.api_endpoint,
                username=self.access_key_id if username is None else username,
                password=self.secret_access_key if password is None else password,
            )
        return lakefs_sdk.ApiClient(cfg)

    def raw(self) -> "Raw":
        return Raw(self)


def _stat_key(p: Path) -> Optional[Tuple[int, int, int]]:
    try:
        st = p.stat()
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


# --------------------------------------------------------------------------------------
# raw HTTP helper (urllib3) for requests the SDK cannot make
# --------------------------------------------------------------------------------------


class Raw:
    """Raw requests against the API; paths are relative to /api/v1."""

    def __init__(self, server: LakegateServer):
        self.server = server

    def basic(self, key: Optional[str] = None, secret: Optional[str] = None) -> str:
        k = self.server.access_key_id if key is None else key
        s = self.server.secret_access_key if secret is None else secret
        return "Basic " + base64.b64encode(f"{k}:{s}".encode()).decode()

    def url(self, path: str, query: Optional[List[Tuple[str, Any]]] = None) -> str:
        u = self.server.api_endpoint + path
        if query:
            u += "?" + urlencode([(k, _qv(v)) for k, v in query])
        return u

    def request(self, method: str, path: str, *, query=None, headers: Optional[Dict[str, str]] = None,
                body: Optional[bytes] = None, json_body: Any = None, auth: Any = True,
                fields=None) -> urllib3.BaseHTTPResponse:
        """``auth``: True = basic auth with dev.json creds, None/False = none, str = Authorization value."""
        h: Dict[str, str] = {}
        if auth is True:
            h["Authorization"] = self.basic()
        elif isinstance(auth, str):
            h["Authorization"] = auth
        if json_body is not None:
            body = json.dumps(json_body).encode()
            h["Content-Type"] = "application/json"
        if headers:
            h.update(headers)
        if fields is not None:
            return _HTTP.request(method, self.url(path, query), fields=fields, headers=h,
                                 encode_multipart=True, redirect=False)
        return _HTTP.request(method, self.url(path, query), body=body, headers=h, redirect=False)


def _qv(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def http(method: str, url: str, *, headers: Optional[Dict[str, str]] = None, body: Optional[bytes] = None,
         redirect: bool = False) -> urllib3.BaseHTTPResponse:
    """Plain HTTP request to an absolute URL (presigned URLs); never follows redirects unless asked."""
    return _HTTP.request(method, url, headers=headers or {}, body=body, redirect=redirect)


def error_message(resp) -> str:
    """Assert that ``resp`` (urllib3 response or SDK ApiException) carries a lakeFS ``Error`` body
    (JSON object with a string ``message``) and return the message."""
    if isinstance(resp, lakefs_sdk.ApiException):
        raw = resp.body
        ctype = (resp.headers or {}).get("Content-Type", "")
    else:
        raw = resp.data
        ctype = resp.headers.get("Content-Type", "")
    if isinstance(raw, (bytes, bytearray)):
        raw = raw.decode("utf-8", "replace")
    assert "application/json" in ctype, f"error response Content-Type is {ctype!r}, body {raw!r}"
    try:
        doc = json.loads(raw)
    except ValueError:
        pytest.fail(f"error body is not JSON: {raw!r}")
    assert isinstance(doc, dict), f"error body is not a JSON object: {raw!r}"
    assert isinstance(doc.get("message"), str), f"error body has no string 'message': {raw!r}"
    return doc["message"]


# --------------------------------------------------------------------------------------
# naming / repository helpers
# --------------------------------------------------------------------------------------


def unique_name(prefix: str = "t") -> str:
    """Repository-name-safe unique name: ``t-<8 hex chars>``."""
    return f"{prefix}-{secrets.token_hex(4)}"


def create_repo(client: lakefs_sdk.ApiClient, name: Optional[str] = None,
                default_branch: Optional[str] = None) -> lakefs_sdk.Repository:
    name = name or unique_name()
    kwargs: Dict[str, Any] = {"name": name, "storage_namespace": ns(name)}
    if default_branch is not None:
        kwargs["default_branch"] = default_branch
    return lakefs_sdk.RepositoriesApi(client).create_repository(lakefs_sdk.RepositoryCreation(**kwargs))


def upload_bytes(server: LakegateServer, repo: str, branch: str, path: str, data: bytes,
                 content_type: str = "application/octet-stream",
                 headers: Optional[Dict[str, str]] = None) -> dict:
    """uploadObject with an application/octet-stream body (raw); asserts 201, returns the JSON."""
    h = {"Content-Type": content_type}
    if headers:
        h.update(headers)
    r = server.raw().request("POST", f"/repositories/{repo}/branches/{branch}/objects",
                             query=[("path", path)], headers=h, body=data)
    assert r.status == 201, (r.status, r.data)
    return json.loads(r.data)


# --------------------------------------------------------------------------------------
# fixtures
# --------------------------------------------------------------------------------------

_SERVERS: List[LakegateServer] = []


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> Iterator[LakegateServer]:
    base = tmp_path_factory.mktemp("lakegate")
    srv = LakegateServer(base / "data", base / "lakegate.log")
    srv.start()  # on failure pytest.fail() already carries the server output
    _SERVERS.append(srv)
    try:
        yield srv
    finally:
        srv.stop()
        if srv in _SERVERS:
            _SERVERS.remove(srv)


@pytest.fixture(scope="session")
def api_client(server) -> Iterator[lakefs_sdk.ApiClient]:
    with server.client() as c:
        yield c


@pytest.fixture
def raw(server) -> Raw:
    return server.raw()


@pytest.fixture
def repo(api_client) -> str:
    """A fresh repository (default branch ``main``); returns its name."""
    return create_repo(api_client).id


@pytest.fixture
def server_factory(tmp_path_factory) -> Iterator:
    """Start extra ``lakegate dev`` instances: ``server_factory(data_dir=None, extra_args=None)`` →
    started server. Pass the same ``data_dir`` again to restart on it. All are stopped at teardown."""
    started: List[LakegateServer] = []

    def start(data_dir: Optional[Path] = None, extra_args: Optional[List[str]] = None) -> LakegateServer:
        if data_dir is None:
            data_dir = tmp_path_factory.mktemp("lakegate-extra") / "data"
        srv = LakegateServer(Path(data_dir), Path(data_dir).parent / "lakegate.log", extra_args)
        started.append(srv)
        srv.start()
        _SERVERS.append(srv)
        return srv

    yield start
    for srv in started:
        srv.stop()
        if srv in _SERVERS:
            _SERVERS.remove(srv)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On a failing test, attach the tail of every running lakegate's output to the report."""
    outcome = yield
    rep = outcome.get_result()
    if rep.failed and _SERVERS:
        for i, srv in enumerate(list(_SERVERS)):
            rep.sections.append((f"lakegate #{i} ({srv.data_dir})", srv.log_tail(4000)))


# --------------------------------------------------------------------------------------
# schema lane: every JSON answer of the API must validate against lakeFS's OpenAPI spec
# (schema_check.py; the spec is ../shared/reference/lakefs-swagger.yml beside the checkout)
# --------------------------------------------------------------------------------------

import schema_check  # noqa: E402  (conftest's directory is on sys.path: rootdir-relative import)

_RECORDS: List[schema_check.Record] = []
_UNRECORDED = [0]  # JSON answers read as a stream by the caller (preload_content=False): not checked
_orig_urlopen = urllib3.PoolManager.urlopen


def _recording_urlopen(self, method, url, redirect=True, **kw):
    resp = _orig_urlopen(self, method, url, redirect=redirect, **kw)
    try:
        path = urlsplit(url).path
        if path.startswith(schema_check.API_PREFIX + "/") and not getattr(resp, "_lakegate_recorded", False):
            ctype = resp.headers.get("Content-Type", "")
            if "json" in ctype.lower():
                resp._lakegate_recorded = True
                if kw.get("preload_content", True):
                    _RECORDS.append(schema_check.Record(
                        method=method.upper(), path=path[len(schema_check.API_PREFIX):], status=resp.status,
                        content_type=ctype, body=resp.data or b"",
                        test=os.environ.get("PYTEST_CURRENT_TEST", "?").split(" ")[0]))
                else:
                    _UNRECORDED[0] += 1
    except Exception:  # never let the recorder break a test
        pass
    return resp


def pytest_sessionstart(session):
    if not schema_check.SPEC_PATH.is_file():
        raise pytest.UsageError(
            f"lakeFS OpenAPI spec not found at {schema_check.SPEC_PATH}: the lakefs_api suite's schema lane "
            "needs lakeFS v1.84.0's swagger.yml at ../shared/reference/lakefs-swagger.yml beside the "
            "checkout (or LAKEGATE_LAKEFS_SWAGGER)")
    urllib3.PoolManager.urlopen = _recording_urlopen


def pytest_sessionfinish(session, exitstatus):
    urllib3.PoolManager.urlopen = _orig_urlopen
    # only a full run can tell that an allow-listed violation is gone
    if not _RECORDS or session.config.option.keyword or session.config.option.markexpr \
            or any("::" in a for a in session.config.args):
        full = False
    else:
        full = True
    result = schema_check.check(_RECORDS)
    if not full:
        result.gone = []
    text = result.report()
    if _UNRECORDED[0]:
        text += f"\n  {_UNRECORDED[0]} streamed JSON answer(s) not checked"
    tr = session.config.pluginmanager.get_plugin("terminalreporter")
    if tr is not None:
        tr.write_line("")
        tr.write_sep("=", "lakeFS OpenAPI schema lane", red=result.failed, green=not result.failed)
        tr.write_line(text)
    if result.failed and session.exitstatus == 0:
        session.exitstatus = 1


# --------------------------------------------------------------------------------------
# ledger lane: every test names the ledger rows it pins, by operation
# (``@pytest.mark.ledger("linkPhysicalAddress", ...)``; the operation must head a row of
# docs/lakefs-fidelity.md). The ledger's own check (conformance/check_ledger.py) goes the other
# way: every row names a test that exists.
# --------------------------------------------------------------------------------------

LEDGER_PATH = REPO_ROOT / "docs" / "lakefs-fidelity.md"


def ledger_operations(text: str) -> List[str]:
    """The first cells of the ledger's table rows (the operations each row is about)."""
    return [line.split("|")[1].strip() for line in text.splitlines()
            if line.startswith("| ") and not line.startswith("| operation")]


def in_ledger(op: str, cells: List[str]) -> bool:
    """Whether `op` (an operation id such as ``statObject``, or a phrase such as ``every
    operation``) heads some row: a whole word or phrase of a row's first cell."""
    import re
    pattern = re.compile(rf"(?<![A-Za-z0-9]){re.escape(op)}(?![A-Za-z0-9])")
    return any(pattern.search(cell) for cell in cells)


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "ledger(*operations): the lakeFS operations whose ledger rows "
        "(docs/lakefs-fidelity.md) this test pins")


def pytest_collection_modifyitems(session, config, items):
    """Refuses the run when a test names no ledger row, or an operation the ledger has no row for."""
    known = ledger_operations(LEDGER_PATH.read_text())
    problems = []
    for item in items:
        marks = list(item.iter_markers("ledger"))
        ops = [op for m in marks for op in m.args]
        if not ops:
            problems.append(f"{item.nodeid}: no @pytest.mark.ledger(<operation>) naming its ledger row")
        problems += [f"{item.nodeid}: ledger has no row for operation {op!r}" for op in ops if not in_ledger(op, known)]
    if problems:
        raise pytest.UsageError("ledger lane (docs/lakefs-fidelity.md):\n  " + "\n  ".join(problems))
