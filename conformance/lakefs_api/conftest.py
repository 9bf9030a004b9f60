"""Fixtures for the lakeFS REST API conformance suite.

The suite starts ``lakegate dev`` (an embedded lakeFS-compatible server) on a free port in a
temporary data directory (``harness.LakegateServer``, without a gateway key: the suite signs with
dev.json's lakeFS key) and talks to it with the official ``lakefs-sdk`` Python client (whose
pydantic models reject wrong shapes) and, for edge cases the SDK validates client side or cannot
express, with raw urllib3 requests (``support.Raw``). On a failing test the harness's hook attaches
every running server's log tail to the report.

Two lanes check every run: the schema lane (every JSON answer validates against lakeFS's OpenAPI
spec, ``schema_check.py``) and the ledger lane (every test names its rows of
docs/lakefs-fidelity.md with ``@pytest.mark.ledger``).

Environment: see ``harness.env`` (LAKEGATE_DEV_BLOCKSTORE=s3: the seaweedfs pass, where namespaces
and presigned URLs differ) and ``harness.tls`` (LAKEGATE_DEV_API_TLS_CERT/_KEY: the API over HTTPS,
its CA trusted through SSL_CERT_FILE).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Callable, Iterator, List, Optional
from urllib.parse import urlsplit

import lakefs_sdk
import pytest
import urllib3

import harness
from harness import REPO_ROOT, LakegateServer, ServerFactory, serve_lakegate

from . import schema_check
from .support import Raw, create_repo

# --------------------------------------------------------------------------------------
# fixtures
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LakegateServer]:
    yield from serve_lakegate(tmp_path_factory, "lakegate", gateway_key=False, check_metrics=False)


@pytest.fixture(scope="session")
def api_client(server: LakegateServer) -> Iterator[lakefs_sdk.ApiClient]:
    with server.lakefs_client() as c:
        yield c


@pytest.fixture
def raw(server: LakegateServer) -> Raw:
    return Raw(server)


@pytest.fixture
def repo(api_client: lakefs_sdk.ApiClient) -> str:
    """A fresh repository (default branch ``main``); returns its name."""
    return create_repo(api_client).id


@pytest.fixture
def server_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., LakegateServer]]:
    """Start extra ``lakegate dev`` instances: ``server_factory(data_dir=None, extra_args=None)`` →
    started server. Pass the same ``data_dir`` again to restart on it. All are stopped at teardown."""
    factory = ServerFactory(lambda: tmp_path_factory.mktemp("lakegate-extra"), gateway_key=False)

    def start(data_dir: Optional[Path] = None, extra_args: Optional[List[str]] = None) -> LakegateServer:
        return factory(extra_args, data_dir)

    try:
        yield start
    finally:
        factory.stop_all()


# --------------------------------------------------------------------------------------
# schema lane: every JSON answer of the API must validate against lakeFS's OpenAPI spec
# (schema_check.py; the spec is ../shared/reference/lakefs-swagger.yml beside the checkout)
# --------------------------------------------------------------------------------------

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
    pattern = re.compile(rf"(?<![A-Za-z0-9]){re.escape(op)}(?![A-Za-z0-9])")
    return any(pattern.search(cell) for cell in cells)


def pytest_configure(config: pytest.Config) -> None:
    """The harness's fixtures and failure report, and the ledger marker."""
    harness.register(config)
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
