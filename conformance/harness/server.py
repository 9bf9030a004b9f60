"""lakegate processes for the suites: ``lakegate dev`` and ``lakegate serve`` on ports the OS picks.

``LakegateServer`` is the one class every suite starts lakegate with:

* ``command="dev"`` (default): ``lakegate dev --data DIR`` (embedded lakeFS + S3 gateway; the
  repository ``demo`` with branch ``main`` exists on first start). Ready when ``DIR/dev.json``
  names its endpoints, the S3 port accepts connections and the lakeFS API answers
  ``/healthcheck``. With ``gateway_key`` (default) it then makes the S3 key the S3 suites sign with
  (``lakegate keys create --dev DIR --user admin``: a key bound to lakeFS user ``admin`` as an
  external principal, kept in ``DIR/conformance-key.json`` across restarts); the lakeFS API
  suites pass ``gateway_key=False`` and use dev.json's lakeFS key.
* ``command="serve"``: ``lakegate serve --state-dir DIR`` in front of some lakeFS (its flags in
  ``extra_args``, its secret in ``env``). Ready when it logs ``lakegate serving S3 endpoint=…``
  and that port accepts connections.

Every running server is listed in ``harness.logs.RUNNING`` (with whatever else a suite ``track``s):
the failure-report hook (``harness.plugin``) attaches their log tails to a failing test's report.
``serve_lakegate`` runs one for a session fixture and checks its ``/metrics`` against what boto3
sent it before stopping it (``harness.metrics_check``); ``ServerFactory`` starts a test's own.
"""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import IO, Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple
from urllib.parse import urlsplit

import pytest
import urllib3

from . import metrics_check
from .env import LAKEGATE_BIN
from .logs import RUNNING, file_tail, track, untrack
from .tls import api_tls_expected

START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
BUCKET = "demo"  # the repository ``lakegate dev`` creates on first start
BRANCH = "main"  # its default branch

_SERVING = re.compile(r"lakegate serving .*?endpoint=(https?://[0-9.:]+)")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_HTTP = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(connect=5.0, read=30.0))


def running_servers() -> List["LakegateServer"]:
    """The lakegate processes this session started and has not stopped yet."""
    return [s for s in RUNNING if isinstance(s, LakegateServer)]


# --------------------------------------------------------------------------------------
# the process
# --------------------------------------------------------------------------------------


class LakegateServer:
    """One ``lakegate dev`` (or ``lakegate serve``) process bound to one data directory."""

    def __init__(self, data_dir: Path, log_path: Path, extra_args: Optional[Sequence[str]] = None,
                 ca_bundle: Optional[Path] = None, *, command: str = "dev", gateway_key: bool = True,
                 env: Optional[Dict[str, str]] = None):
        assert command in ("dev", "serve"), command
        assert command == "dev" or not gateway_key, "gateway keys are made with `keys create --dev`"
        self.data_dir = Path(data_dir)
        self.log_path = Path(log_path)
        self.extra_args = list(extra_args or [])
        self.ca_bundle = ca_bundle  # the certificate its S3 endpoint serves (suite-made TLS), if any
        self.command = command
        self.gateway_key = gateway_key
        self.env = env  # the process's environment (None: ours)
        self.proc: Optional[subprocess.Popen] = None
        self.info: Dict[str, Any] = {}  # dev.json (serve: the endpoints it logged)
        self.key: Dict[str, Any] = {}  # the gateway key (``lakegate keys create --json``)
        self.killed = False  # stop() had to SIGKILL it
        self._log_file: Optional[IO[bytes]] = None
        self._log_offset = 0

    @property
    def label(self) -> str:
        return f"lakegate {self.command} {self.scheme_or_none()} {self.extra_args} ({self.data_dir})"

    # -- lifecycle ------------------------------------------------------------------

    def argv(self) -> List[str]:
        if self.command == "serve":
            return [LAKEGATE_BIN, "serve", "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0",
                    "--state-dir", str(self.data_dir), *self.extra_args]
        return [LAKEGATE_BIN, "dev", "--data", str(self.data_dir), "--api-listen", "127.0.0.1:0",
                "--listen", "127.0.0.1:0", *self.extra_args]

    def start(self, timeout: float = START_TIMEOUT_S) -> "LakegateServer":
        if not Path(LAKEGATE_BIN).exists():
            pytest.fail(f"lakegate binary not found at {LAKEGATE_BIN} (set LAKEGATE_BIN or run cargo build)")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        dev_json = self.data_dir / "dev.json"
        before = _stat_key(dev_json)
        self._log_file = open(self.log_path, "ab")
        self._log_file.write(f"\n==== starting {' '.join(self.argv()[:4])} ====\n".encode())
        self._log_file.flush()
        self._log_offset = self._log_file.tell()  # where this start's output begins
        self.killed = False
        track(self)
        self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL, stdout=self._log_file,
                                     stderr=self._log_file, env=self.env)
        deadline = time.monotonic() + timeout
        if self.command == "serve":
            self._wait_serving(deadline, timeout)
            self._wait_port(deadline, timeout)
            return self
        self._wait_dev_json(dev_json, before, deadline, timeout)
        if api_tls_expected(self.env) and not self.api_endpoint.startswith("https://"):
            self._fail(f"LAKEGATE_DEV_API_TLS_CERT is set but the lakeFS API is {self.api_endpoint}")
        self._wait_port(deadline, timeout)
        self._wait_healthcheck(deadline, timeout)
        if self.gateway_key:
            self._make_gateway_key()
        return self

    def _wait_dev_json(self, dev_json: Path, before: Optional[Tuple[int, int, int]], deadline: float,
                       timeout: float) -> None:
        """Until a (re)written dev.json names the S3 endpoint, the API and both keys."""
        want = {"s3_endpoint", "access_key_id", "secret_access_key", "api_endpoint",
                "lakefs_access_key_id", "lakefs_secret_access_key"}
        while True:
            self._check_alive("while waiting for dev.json")
            key = _stat_key(dev_json)
            if key is not None and key != before:
                try:
                    self.info = json.loads(dev_json.read_text())
                    if want <= set(self.info):
                        return
                except (ValueError, OSError):
                    pass  # written atomically, but be tolerant of a torn read anyway
            if time.monotonic() > deadline:
                self._fail(f"lakegate did not write {dev_json} with its endpoints within {timeout}s")
            time.sleep(0.05)

    def _wait_serving(self, deadline: float, timeout: float) -> None:
        """Until ``lakegate serve`` logs the endpoint it serves S3 on."""
        while True:
            with open(self.log_path, "rb") as f:
                f.seek(self._log_offset)
                output = f.read().decode("utf-8", "replace")
            m = _SERVING.search(_ANSI.sub("", output))
            if m:
                self.info = {"s3_endpoint": m.group(1)}
                return
            self._check_alive("before logging 'lakegate serving … endpoint='")
            if time.monotonic() > deadline:
                self._fail(f"lakegate serve logged no 'lakegate serving … endpoint=' line within {timeout}s")
            time.sleep(0.05)

    def _wait_port(self, deadline: float, timeout: float) -> None:
        host, port = self.host_port
        while True:
            self._check_alive("while waiting for the S3 port")
            try:
                with socket.create_connection((host, port), timeout=1.0):
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                self._fail(f"lakegate S3 endpoint {self.s3_endpoint} not accepting within {timeout}s")
            time.sleep(0.05)

    def _wait_healthcheck(self, deadline: float, timeout: float) -> None:
        while True:
            self._check_alive("while waiting for healthcheck")
            try:
                r = _HTTP.request("GET", self.api_endpoint + "/healthcheck", timeout=2.0)
                if r.status == 204:
                    return
            except urllib3.exceptions.HTTPError:
                pass
            if time.monotonic() > deadline:
                self._fail(f"lakegate healthcheck did not answer 204 within {timeout}s")
            time.sleep(0.05)

    def _make_gateway_key(self) -> None:
        path = self.data_dir / "conformance-key.json"
        if not path.exists():
            cmd = [LAKEGATE_BIN, "keys", "create", "--dev", str(self.data_dir), "--user", "admin", "--json"]
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=self.env)
            if out.returncode != 0:
                pytest.fail(f"{' '.join(cmd)} failed ({out.returncode}): {out.stderr}")
            created = json.loads(out.stdout)
            assert created["user_id"] == "admin" and created["mode"] == "principal", created
            assert created["access_key_id"] != self.info["access_key_id"], "a new key, not dev.json's"
            path.write_text(out.stdout)
        self.key = json.loads(path.read_text())

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
        untrack(self)
        return rc

    def _check_alive(self, what: str) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            if self._log_file is not None:
                self._log_file.flush()
            pytest.fail(f"lakegate exited with {self.proc.returncode} {what}\n{self.log_tail()}")

    def _fail(self, why: str) -> None:
        self.stop()
        pytest.fail(f"{why}\n{self.log_tail()}")

    def log_tail(self, max_bytes: int = 8000) -> str:
        if not self.log_path.exists():
            return "(no lakegate output captured)"
        return "---- lakegate stderr/stdout (tail) ----\n" + file_tail(self.log_path, max_bytes)

    # -- S3 ---------------------------------------------------------------------------

    @property
    def s3_endpoint(self) -> str:
        return self.info["s3_endpoint"].rstrip("/")

    @property
    def scheme(self) -> str:
        return urlsplit(self.s3_endpoint).scheme

    def scheme_or_none(self) -> str:
        return self.scheme if "s3_endpoint" in self.info else "(not started)"

    @property
    def host_port(self) -> Tuple[str, int]:
        parts = urlsplit(self.s3_endpoint)
        return parts.hostname, parts.port

    @property
    def region(self) -> str:
        return self.info.get("region", "us-east-1")

    @property
    def access_key_id(self) -> str:
        """The gateway key's id (S3 requests sign with it)."""
        assert self.key, "no gateway key: started with gateway_key=False"
        return self.key["access_key_id"]

    @property
    def secret_access_key(self) -> str:
        assert self.key, "no gateway key: started with gateway_key=False"
        return self.key["secret_access_key"]

    @property
    def admin_endpoint(self) -> str:
        return self.info["admin_endpoint"].rstrip("/")

    def metrics_page(self) -> str:
        """The Prometheus text of the admin listener's ``/metrics``."""
        r = self.http().request("GET", self.admin_endpoint + "/metrics")
        assert r.status == 200, (r.status, r.data[:300])
        return r.data.decode()

    def http(self) -> urllib3.PoolManager:
        """A urllib3 pool that trusts this server's certificate (if any)."""
        kw: Dict[str, Any] = {"retries": False, "timeout": urllib3.Timeout(connect=5.0, read=30.0)}
        if self.ca_bundle is not None:
            kw["ca_certs"] = str(self.ca_bundle)
            kw["cert_reqs"] = "CERT_REQUIRED"
        return urllib3.PoolManager(**kw)

    @property
    def session_key_file(self) -> Path:
        """The shared key file ``lakegate dev`` seals STS session tokens with."""
        return self.data_dir / "gateway" / "session.keys"

    # -- the embedded lakeFS API (dev) --------------------------------------------------

    @property
    def api_endpoint(self) -> str:
        return self.info["api_endpoint"].rstrip("/")

    @property
    def base_url(self) -> str:
        """scheme://host:port of the lakeFS API."""
        parts = urlsplit(self.api_endpoint)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def lakefs_access_key_id(self) -> str:
        """The lakeFS admin's key (dev.json), for the lakeFS API."""
        return self.info["lakefs_access_key_id"]

    @property
    def lakefs_secret_access_key(self) -> str:
        return self.info["lakefs_secret_access_key"]

    def lakefs_client(self, username: Optional[str] = None, password: Optional[str] = None,
                      access_token: Optional[str] = None, anonymous: bool = False):
        """A ``lakefs_sdk.ApiClient`` on the API: basic auth (default: the admin's key), a bearer
        token, or none."""
        import lakefs_sdk  # not in the s3_tools venv

        if anonymous:
            cfg = lakefs_sdk.Configuration(host=self.api_endpoint)
        elif access_token is not None:
            cfg = lakefs_sdk.Configuration(host=self.api_endpoint, access_token=access_token)
        else:
            cfg = lakefs_sdk.Configuration(
                host=self.api_endpoint,
                username=self.lakefs_access_key_id if username is None else username,
                password=self.lakefs_secret_access_key if password is None else password,
            )
        return lakefs_sdk.ApiClient(cfg)


def start_outside_pytest(work: Path, extra_args: List[str], error: Callable[[str], Exception]) -> "LakegateServer":
    """``lakegate dev`` in ``work`` for a runner script outside pytest (s3_tests, s3s_e2e): a
    start-up failure (which ``LakegateServer`` reports with ``pytest.fail``) stops the server and is
    raised as ``error(message)``."""
    srv = LakegateServer(work / "data", work / "lakegate.log", extra_args)
    try:
        srv.start()
    except BaseException as e:  # pytest.fail raises an OutcomeException
        srv.stop()
        if isinstance(e, (KeyboardInterrupt, SystemExit)):
            raise
        raise error(f"lakegate dev did not start: {e}") from None
    return srv


def _stat_key(p: Path) -> Optional[Tuple[int, int, int]]:
    try:
        st = p.stat()
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


# --------------------------------------------------------------------------------------
# for fixtures
# --------------------------------------------------------------------------------------


def serve_lakegate(tmp_path_factory: pytest.TempPathFactory, name: str,
                   extra_args: Optional[Sequence[str]] = None, ca_bundle: Optional[Path] = None, *,
                   gateway_key: bool = True, check_metrics: bool = True) -> Iterator[LakegateServer]:
    """A ``lakegate dev`` in a fresh temp dir for a session fixture to ``yield from``, stopped after.
    With ``check_metrics``, before it stops its ``/metrics`` must agree with what boto3 sent it
    (``metrics_check.verify``; a disagreement is an error in the teardown of the session's last test)."""
    base = tmp_path_factory.mktemp(name)
    srv = LakegateServer(base / "data", base / "lakegate.log", extra_args, ca_bundle, gateway_key=gateway_key)
    try:
        srv.start()
        metrics_check.SENT.forget(srv.s3_endpoint)  # counts of an earlier server on this port
        yield srv
        if check_metrics:
            metrics_check.verify(srv.s3_endpoint, srv.metrics_page, base)
    finally:
        srv.stop()


class ServerFactory:
    """Private servers for one test: ``factory(extra_args=None, data_dir=None)`` starts one (the
    same ``data_dir`` again restarts on that directory, on new ports); ``stop_all()`` at teardown.
    ``new_base()`` gives each call a fresh directory (its log, and its data unless ``data_dir``)."""

    def __init__(self, new_base: Callable[[], Path], prefix_args: Sequence[str] = (), *,
                 gateway_key: bool = True):
        self.new_base = new_base
        self.prefix_args = list(prefix_args)
        self.gateway_key = gateway_key
        self.started: List[LakegateServer] = []

    def __call__(self, extra_args: Optional[Sequence[str]] = None,
                 data_dir: Optional[Path] = None) -> LakegateServer:
        base = self.new_base()
        srv = LakegateServer(Path(data_dir) if data_dir else base / "data", base / "lakegate.log",
                             self.prefix_args + list(extra_args or []), gateway_key=self.gateway_key)
        self.started.append(srv)
        return srv.start()

    def stop_all(self) -> None:
        for srv in self.started:
            srv.stop()


def numbered_dirs(parent: Path, prefix: str) -> Callable[[], Path]:
    """``new_base`` for a ``ServerFactory``: ``parent/<prefix>0``, ``<prefix>1``, … (made on use)."""
    count = [0]

    def new() -> Path:
        base = parent / f"{prefix}{count[0]}"
        count[0] += 1
        base.mkdir()
        return base
    return new

