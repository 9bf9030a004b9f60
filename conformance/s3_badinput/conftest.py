"""Fixtures for the malformed-request conformance suite: requests that are wrong on purpose
(invalid and oversized XML, bad bucket and key names, huge metadata and header sections, lying
Content-Length, bad digests, truncated or mis-signed aws-chunked bodies, half-closed and closed
connections), each checked for the S3 error AWS documents.

One ``lakegate dev`` over HTTP and one over HTTPS (per-session self-signed certificate, started
on first use) are shared by all tests of this directory. After every test an autouse fixture
checks with boto3 that each server the test used still serves (ListObjectsV2, PutObject and
GetObject); the tests themselves check that no partial object is visible. The server and TLS
machinery is the s3_clients suite's (``s3c_support``); this directory is a package so its
conftest never shadows another's.

Environment:
  LAKEGATE_BIN   path to the lakegate binary (default: <repo>/target/debug/lakegate)
  LAKEGATE_DEV_* the embedded server's blockstore (scripts/seaweedfs.sh env for SeaweedFS)
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator, List, Tuple

import pytest

from .s3b_support import LakegateServer, assert_serves, make_self_signed_cert, serve_lakegate, tls_args

_SERVERS: List[LakegateServer] = []




@pytest.fixture(scope="session")
def s3b_tls(tmp_path_factory) -> Tuple[Path, Path]:
    return make_self_signed_cert(tmp_path_factory.mktemp("s3b-tls"))


@pytest.fixture(scope="session")
def http_server(tmp_path_factory) -> Iterator[LakegateServer]:
    yield from serve_lakegate(tmp_path_factory, "s3b-http", _SERVERS)


@pytest.fixture(scope="session")
def https_server(tmp_path_factory, s3b_tls) -> Iterator[LakegateServer]:
    cert, key = s3b_tls
    yield from serve_lakegate(tmp_path_factory, "s3b-https", _SERVERS, tls_args(cert, key), cert)


@pytest.fixture
def server(http_server) -> LakegateServer:
    """Most malformed requests are about bytes, not transport: plain HTTP."""
    return http_server


@pytest.fixture(params=["http", "https"])
def any_server(request) -> LakegateServer:
    """For truncation and closing, where TLS behaves differently (close_notify vs TCP FIN)."""
    srv = request.getfixturevalue(f"{request.param}_server")
    assert srv.scheme == request.param, f"dev.json s3_endpoint {srv.s3_endpoint!r} is not {request.param}"
    return srv


@pytest.fixture(autouse=True)
def still_serves() -> Iterator[None]:
    """After each test: every running server still answers ListObjectsV2 and a put/get."""
    yield
    for srv in list(_SERVERS):
        assert_serves(srv)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On a failing test, attach the tail of every running lakegate's output to the report."""
    outcome = yield
    rep = outcome.get_result()
    if rep.failed and _SERVERS:
        for srv in list(_SERVERS):
            rep.sections.append((f"lakegate {srv.scheme} ({srv.data_dir})", srv.log_tail(4000)))
