"""Fixtures for the S3 client conformance suite: one ``lakegate dev`` over HTTP and one over HTTPS
(self-signed certificate made for this session) shared by all tests, and client adapters
parametrised over (scheme) x (boto3 when_supported, boto3 when_required, AWS CLI).

Helpers live in ``s3c_support``; the directory is a package (``__init__.py``) so this conftest
never shadows another suite's ``conftest`` when several suites run in one pytest invocation.

Environment:
  LAKEGATE_BIN   path to the lakegate binary (default: <repo>/target/debug/lakegate)
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator, List, Tuple

import pytest

from .s3c_support import (
    CLIENT_KINDS,
    Boto3Client,
    CliClient,
    LakegateServer,
    boto3_client,
    make_client,
    make_self_signed_cert,
    register_matrix,
    serve_lakegate,
    tls_args,
)

# --------------------------------------------------------------------------------------
# fixtures
# --------------------------------------------------------------------------------------

_SERVERS: List[LakegateServer] = []


def pytest_configure(config):
    """The @pytest.mark.matrix recorder behind README.md's client × operation table."""
    register_matrix(config)


@pytest.fixture(scope="session")
def tls_material(tmp_path_factory) -> Tuple[Path, Path]:
    return make_self_signed_cert(tmp_path_factory.mktemp("tls"))




@pytest.fixture(scope="session")
def http_server(tmp_path_factory) -> Iterator[LakegateServer]:
    yield from serve_lakegate(tmp_path_factory, "lakegate-http", _SERVERS)


@pytest.fixture(scope="session")
def https_server(tmp_path_factory, tls_material) -> Iterator[LakegateServer]:
    cert, key = tls_material
    yield from serve_lakegate(tmp_path_factory, "lakegate-https", _SERVERS, tls_args(cert, key), cert)


@pytest.fixture(params=["http", "https"])
def server(request) -> LakegateServer:
    srv = request.getfixturevalue(f"{request.param}_server")
    assert srv.scheme == request.param, f"dev.json s3_endpoint {srv.s3_endpoint!r} is not {request.param}"
    return srv


@pytest.fixture(params=CLIENT_KINDS)
def client(request, server, tmp_path):
    return make_client(request.param, server, tmp_path / "aws-home")


@pytest.fixture(params=["when_supported", "when_required"])
def boto(request, server) -> Boto3Client:
    return boto3_client(server, request.param)


@pytest.fixture
def cli(server, tmp_path) -> CliClient:
    return CliClient(server, tmp_path / "aws-home")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On a failing test, attach the tail of every running lakegate's output to the report."""
    outcome = yield
    rep = outcome.get_result()
    if rep.failed and _SERVERS:
        for srv in list(_SERVERS):
            rep.sections.append((f"lakegate {srv.scheme} ({srv.data_dir})", srv.log_tail(4000)))
