"""Fixtures for the malformed-request conformance suite: requests that are wrong on purpose
(invalid and oversized XML, bad bucket and key names, huge metadata and header sections, lying
Content-Length, bad digests, truncated or mis-signed aws-chunked bodies, half-closed and closed
connections), each checked for the S3 error AWS documents.

The harness's ``http_server`` and ``https_server`` (per-session self-signed certificate, started
on first use) are shared by all tests of this directory; ``server`` here is the HTTP one alone.
After every test an autouse fixture checks with boto3 that each server still serves
(ListObjectsV2, PutObject and GetObject); the tests themselves check that no partial object is
visible. This directory is a package so its conftest never shadows another's.

Environment: see ``harness.env`` (LAKEGATE_DEV_*: the embedded server's blockstore) and ``harness.tls``.
"""

from __future__ import annotations

from typing import Iterator

import pytest

import harness
from harness import LakegateServer, running_servers

from .support import assert_serves


def pytest_configure(config: pytest.Config) -> None:
    """The harness's fixtures and failure report."""
    harness.register(config)


@pytest.fixture
def server(http_server: LakegateServer) -> LakegateServer:
    """Most malformed requests are about bytes, not transport: plain HTTP."""
    return http_server


@pytest.fixture(params=["http", "https"])
def any_server(request: pytest.FixtureRequest) -> LakegateServer:
    """For truncation and closing, where TLS behaves differently (close_notify vs TCP FIN)."""
    srv = request.getfixturevalue(f"{request.param}_server")
    assert srv.scheme == request.param, f"dev.json s3_endpoint {srv.s3_endpoint!r} is not {request.param}"
    return srv


@pytest.fixture(autouse=True)
def still_serves() -> Iterator[None]:
    """After each test: every running server still answers ListObjectsV2 and a put/get."""
    yield
    for srv in running_servers():
        assert_serves(srv)
