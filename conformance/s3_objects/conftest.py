"""Fixtures for the S3 object-operations conformance suite (bucket create/delete, transfers up to
64 MiB, listings of 2,500 keys, sync, copy, metadata, ranges and conditionals, bulk delete,
error codes, flat buckets).

The harness's ``http_server`` and ``https_server`` (per-session self-signed certificate) are shared
by all tests of this directory, with its ``server`` (each test over both) and ``boto`` fixtures; a
third server here, with ``--flat-buckets`` (HTTP), starts only when a flat-bucket test runs. This
directory is a package so its conftest never shadows another's.

Environment: see ``harness.env`` and ``harness.tls``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator

import pytest

import harness
from harness import LakegateServer, ObjCli, serve_lakegate


def pytest_configure(config: pytest.Config) -> None:
    """The harness's fixtures and failure report, and the @pytest.mark.matrix recorder behind
    README.md's client × operation table."""
    harness.register(config, matrix=True)


@pytest.fixture(scope="session")
def flat_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LakegateServer]:
    yield from serve_lakegate(tmp_path_factory, "s3o-flat", ["--flat-buckets"])


@pytest.fixture
def cli(server: LakegateServer, tmp_path: Path) -> ObjCli:
    return ObjCli(server, tmp_path / "aws-home")


@pytest.fixture
def server_for(request: pytest.FixtureRequest) -> Callable[[str], LakegateServer]:
    """For tests parametrised over an explicit (scheme, client) subset."""
    def get(scheme: str) -> LakegateServer:
        srv = request.getfixturevalue(f"{scheme}_server")
        assert srv.scheme == scheme
        return srv
    return get
