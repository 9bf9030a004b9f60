"""Fixtures for the S3 tools conformance suite: s3cmd, rclone, minio-py, s3fs and pyarrow against
one ``lakegate dev`` over HTTP and one over HTTPS (self-signed certificate made for this session),
shared by all tests of this directory; every test runs against both (``server`` fixture params).

The server and TLS machinery is the s3_clients suite's (``s3c_support``, imported by
``s3t_support``); this directory is a package so its conftest never shadows another's. It runs in
its own venv (see requirements.txt here).

Environment:
  LAKEGATE_BIN   path to the lakegate binary (default: <repo>/target/debug/lakegate)
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator, List, Tuple

import pytest

from .s3t_support import LakegateServer, make_self_signed_cert, register_matrix, serve_lakegate, tls_args

_SERVERS: List[LakegateServer] = []


def pytest_configure(config):
    """The @pytest.mark.matrix recorder behind README.md's client × operation table."""
    register_matrix(config)


@pytest.fixture(scope="session")
def s3t_tls(tmp_path_factory) -> Tuple[Path, Path]:
    return make_self_signed_cert(tmp_path_factory.mktemp("s3t-tls"))




@pytest.fixture(scope="session")
def http_server(tmp_path_factory) -> Iterator[LakegateServer]:
    yield from serve_lakegate(tmp_path_factory, "s3t-http", _SERVERS)


@pytest.fixture(scope="session")
def https_server(tmp_path_factory, s3t_tls) -> Iterator[LakegateServer]:
    cert, key = s3t_tls
    yield from serve_lakegate(tmp_path_factory, "s3t-https", _SERVERS, tls_args(cert, key), cert)


@pytest.fixture(params=["http", "https"])
def server(request) -> LakegateServer:
    srv = request.getfixturevalue(f"{request.param}_server")
    assert srv.scheme == request.param, f"dev.json s3_endpoint {srv.s3_endpoint!r} is not {request.param}"
    return srv


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On a failing test, attach the tail of every running lakegate's output to the report."""
    outcome = yield
    rep = outcome.get_result()
    if rep.failed and _SERVERS:
        for srv in list(_SERVERS):
            rep.sections.append((f"lakegate {srv.scheme} ({srv.data_dir})", srv.log_tail(4000)))
