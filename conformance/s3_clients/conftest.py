"""Fixtures for the S3 client conformance suite: the harness's ``http_server`` / ``https_server``
(one ``lakegate dev`` each, self-signed certificate for this session) shared by all tests, its
``server`` (each test over both) and ``boto`` fixtures, and here the client adapters parametrised
over (scheme) x (boto3 when_supported, boto3 when_required, AWS CLI).

The directory is a package (``__init__.py``) so this conftest never shadows another suite's
``conftest`` when several suites run in one pytest invocation.

Environment: see ``harness.env`` and ``harness.tls``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import harness
from harness import CLIENT_KINDS, CliClient, LakegateServer, make_client


def pytest_configure(config: pytest.Config) -> None:
    """The harness's fixtures and failure report, and the @pytest.mark.matrix recorder behind
    README.md's client × operation table."""
    harness.register(config, matrix=True)


@pytest.fixture(params=CLIENT_KINDS)
def client(request: pytest.FixtureRequest, server: LakegateServer, tmp_path: Path):
    return make_client(request.param, server, tmp_path / "aws-home")


@pytest.fixture
def cli(server: LakegateServer, tmp_path: Path) -> CliClient:
    return CliClient(server, tmp_path / "aws-home")
