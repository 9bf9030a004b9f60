"""pytest plugin behind README.md's client × operation table: it records, per test, which S3 client
it drives, which operations it covers and how it ended, and ``conformance/matrix.py`` turns those
records into the table.

A test declares what it covers with the marker ``matrix``::

    @pytest.mark.matrix("s3cmd", "put/get", "multipart put")
    @pytest.mark.matrix("{client}", "range get")   # client from the test's parameter ``client``

The first argument is a client of ``CLIENTS``, or ``{param}``: the client is then read from the
test's parameter ``param`` (a value of ``CLIENT_OF_PARAM``, e.g. s3_clients' ``client`` fixture),
so a test parametrised over clients needs one marker. The others are operations of
``OPERATIONS``. Both vocabularies are fixed: anything else is a usage error at collection.

The S3 suites' conftests register the plugin (``harness.register(config, matrix=True)`` calls
``register``, once per session however many suites run), so it needs no ``-p``. When the environment variable ``LAKEGATE_MATRIX_DIR`` is set, the session
writes ``<dir>/<suite>-<pass>.json`` per suite directory it ran (``<pass>`` from
``LAKEGATE_MATRIX_PASS``, default ``local``), listing every test that was selected, marked or not:
node id, client, operations, scheme (``http``/``https`` when parametrised over a ``server`` or
``scheme``), outcome (passed, failed, skipped, xfailed, xpassed, or ``not run`` when the session
ended before it) and the skip/xfail reason. A failure in setup or teardown counts as failed.
"""

from __future__ import annotations

import json
import os
import re
from collections import defaultdict
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest

CLIENTS = ("boto3", "AWS CLI", "s3cmd", "rclone", "minio-py", "s3fs", "pyarrow")
OPERATIONS = (
    "put/get",              # single-request PUT and GET (or the tool's plain upload), byte-exact
    "multipart put",        # upload in parts (CreateMultipartUpload … CompleteMultipartUpload)
    "range get",            # ranged GETs, incl. across part boundaries
    "conditionals",         # If-Match / If-None-Match / If-(Un)Modified-Since
    "metadata",             # user metadata and content headers, stored and returned
    "list",                 # listings without delimiter (flat/recursive)
    "list with delimiter",  # listings with delimiter "/" (common prefixes, directories)
    "copy",                 # server-side CopyObject / UploadPartCopy
    "delete",               # DeleteObject
    "bulk delete",          # DeleteObjects
    "presigned URL",        # presigned GET/PUT URLs
    "checksums",            # CRC32/SHA checksums, Content-MD5, digest mismatches
    "error codes",          # S3 error codes and statuses the client reports
    "parquet dataset",      # a partitioned Parquet dataset written and read back
)
# values of the parameters that choose a client (s3_clients' CLIENT_KINDS)
CLIENT_OF_PARAM = {"boto3-when_supported": "boto3", "boto3-when_required": "boto3", "awscli": "AWS CLI"}
# parameters whose value http/https is the scheme the test ran over
SCHEME_PARAMS = ("server", "scheme")
SCHEMES = ("http", "https")

MARKER = "matrix"
PLUGIN_NAME = "lakegate-matrix"
ENV_DIR = "LAKEGATE_MATRIX_DIR"
ENV_PASS = "LAKEGATE_MATRIX_PASS"
DEFAULT_PASS = "local"
# what conformance/s3_tests/run.py writes into LAKEGATE_MATRIX_DIR: the community suite's counts
S3_TESTS_FILE = "s3_tests.json"
NOT_RUN = "not run"
_PASS_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
# a later phase report replaces an earlier one unless that one failed
_RANK = {NOT_RUN: 0, "passed": 1, "skipped": 1, "xfailed": 1, "xpassed": 1, "failed": 2}


def register(config: pytest.Config) -> None:
    """Register the recorder unless it already is (every suite's conftest calls this from its
    ``pytest_configure``), and the marker."""
    if config.pluginmanager.has_plugin(PLUGIN_NAME):
        return
    if os.environ.get(ENV_DIR):
        pass_name()  # a bad pass name stops the run before the tests, not after
    config.addinivalue_line(
        "markers", f"{MARKER}(client, *operations): the S3 client and operations this test covers, for "
        "README.md's client × operation table (conformance/harness/matrix_plugin.py)")
    config.pluginmanager.register(MatrixRecorder(), PLUGIN_NAME)


# --------------------------------------------------------------------------------------
# what each test covers
# --------------------------------------------------------------------------------------


def _params(item: pytest.Item) -> Dict[str, Any]:
    callspec = getattr(item, "callspec", None)
    return dict(callspec.params) if callspec is not None else {}


def resolve_client(item: pytest.Item, spec: str) -> str:
    """The client a marker names: literally, or ``{param}`` → the test's parameter value mapped."""
    if spec.startswith("{") and spec.endswith("}"):
        value = _params(item).get(spec[1:-1])
        if value not in CLIENT_OF_PARAM:
            raise pytest.UsageError(f"{item.nodeid}: @pytest.mark.{MARKER}({spec!r}, …): parameter value "
                                    f"{value!r} is none of {sorted(CLIENT_OF_PARAM)}")
        return CLIENT_OF_PARAM[value]
    if spec not in CLIENTS:
        raise pytest.UsageError(f"{item.nodeid}: @pytest.mark.{MARKER}: unknown client {spec!r} "
                                f"(one of {CLIENTS}, or '{{param}}')")
    return spec


def scheme_of(item: pytest.Item) -> Optional[str]:
    params = _params(item)
    return next((params[p] for p in SCHEME_PARAMS if params.get(p) in SCHEMES), None)


def coverage(item: pytest.Item) -> Dict[str, Any]:
    """suite, client, operations and scheme of one test (client and operations None when unmarked)."""
    marker = item.get_closest_marker(MARKER)
    client, operations = None, None
    if marker is not None:
        if len(marker.args) < 2 or marker.kwargs:
            raise pytest.UsageError(f"{item.nodeid}: @pytest.mark.{MARKER} takes a client and at least one operation")
        client = resolve_client(item, marker.args[0])
        operations = list(marker.args[1:])
        unknown = [op for op in operations if op not in OPERATIONS]
        if unknown:
            raise pytest.UsageError(f"{item.nodeid}: @pytest.mark.{MARKER}: unknown operation(s) {unknown} "
                                    f"(one of {OPERATIONS})")
    return {"suite": item.path.parent.name, "client": client, "operations": operations, "scheme": scheme_of(item)}


# --------------------------------------------------------------------------------------
# how each test ended
# --------------------------------------------------------------------------------------


def outcome_of(report: pytest.TestReport) -> Optional[str]:
    """What one phase report says about the test, or None when it says nothing (a passed setup or
    teardown). A failed setup or teardown is a failed test; a strict XPASS reports as failed."""
    if report.failed:
        return "failed"
    if report.skipped:
        return "xfailed" if hasattr(report, "wasxfail") else "skipped"
    if report.when == "call":
        return "xpassed" if hasattr(report, "wasxfail") else "passed"
    return None


def reason_of(report: pytest.TestReport) -> Optional[str]:
    """The xfail or skip reason of a report, if any."""
    if hasattr(report, "wasxfail"):
        return str(report.wasxfail) or None
    if report.skipped and isinstance(report.longrepr, tuple):
        return str(report.longrepr[2]).removeprefix("Skipped: ")
    return None


# --------------------------------------------------------------------------------------
# the recorder
# --------------------------------------------------------------------------------------


def pass_name() -> str:
    name = os.environ.get(ENV_PASS) or DEFAULT_PASS
    if not _PASS_NAME.match(name):
        raise pytest.UsageError(f"{ENV_PASS}={name!r}: use lower-case letters, digits, '.', '_' and '-'")
    return name


class MatrixRecorder:
    """The plugin object: coverage at collection, outcomes as reports arrive, JSON at the end."""

    def __init__(self) -> None:
        self.coverage: Dict[str, Dict[str, Any]] = {}
        self.outcomes: Dict[str, str] = {}
        self.reasons: Dict[str, Optional[str]] = {}

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        for item in session.items:
            self.coverage[item.nodeid] = coverage(item)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        outcome = outcome_of(report)
        if outcome is not None and _RANK[outcome] >= _RANK[self.outcomes.get(report.nodeid, NOT_RUN)]:
            self.outcomes[report.nodeid] = outcome
            self.reasons[report.nodeid] = reason_of(report)

    def records_by_suite(self) -> Dict[str, List[Dict[str, Any]]]:
        suites: Dict[str, List[Dict[str, Any]]] = defaultdict(list)
        for nodeid, cov in self.coverage.items():
            suites[cov["suite"]].append({
                "nodeid": nodeid,
                "client": cov["client"],
                "operations": cov["operations"],
                "scheme": cov["scheme"],
                "outcome": self.outcomes.get(nodeid, NOT_RUN),
                "reason": self.reasons.get(nodeid),
            })
        return suites

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        out_dir = os.environ.get(ENV_DIR)
        if not out_dir:
            return
        directory = Path(out_dir)
        directory.mkdir(parents=True, exist_ok=True)
        run = pass_name()
        for suite, tests in sorted(self.records_by_suite().items()):
            doc = {"suite": suite, "pass": run, "exitstatus": int(exitstatus), "tests": tests}
            (directory / f"{suite}-{run}.json").write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
