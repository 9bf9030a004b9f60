"""Fixtures for the S3 multipart-upload conformance suite (CreateMultipartUpload, UploadPart,
UploadPartCopy, CompleteMultipartUpload, AbortMultipartUpload, ListParts, ListMultipartUploads)
driven by boto3 and the AWS CLI.

Session servers (each started on first use, shared by every test that needs it):
  ``server``            lakegate dev over HTTP, default settings (presigned multipart when the
                        embedded server's storage offers it, spooled otherwise); this suite's
                        own, instead of the harness's ``server`` over both schemes
  ``https_server``      the harness's: the same over HTTPS (boto3 then sends parts aws-chunked
                        with trailers)
  ``spool_server``      ``--no-presign-multipart``: lakegate spools parts, uploads on Complete
  ``nopresign_server``  ``--no-presign``: no presigned URLs at all
  ``tiny_spool_server`` ``--no-presign-multipart --spool-max-bytes 6000000``
The harness's ``start_server`` starts private servers (restart tests), stopped when the test ends.

Every test writes fresh keys, so tests are independent of each other and of their order.

Environment: see ``harness.env`` (LAKEGATE_DEV_*: the embedded server's blockstore) and ``harness.tls``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator

import pytest

import harness
from harness import LakegateServer, ObjCli, serve_lakegate

from .support import SPOOL_MAX


def pytest_configure(config: pytest.Config) -> None:
    """The harness's fixtures and failure report, and the @pytest.mark.matrix recorder behind
    README.md's client × operation table."""
    harness.register(config, matrix=True)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LakegateServer]:
    yield from serve_lakegate(tmp_path_factory, "s3m-http")


@pytest.fixture(scope="session")
def spool_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LakegateServer]:
    yield from serve_lakegate(tmp_path_factory, "s3m-spool", ["--no-presign-multipart"])


@pytest.fixture(scope="session")
def nopresign_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LakegateServer]:
    yield from serve_lakegate(tmp_path_factory, "s3m-nopresign", ["--no-presign"])


@pytest.fixture(scope="session")
def tiny_spool_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LakegateServer]:
    yield from serve_lakegate(tmp_path_factory, "s3m-tiny",
                              ["--no-presign-multipart", "--spool-max-bytes", str(SPOOL_MAX)])


MODES = {"default": "server", "no-presign-multipart": "spool_server", "no-presign": "nopresign_server"}


@pytest.fixture(params=list(MODES))
def mode_server(request: pytest.FixtureRequest) -> LakegateServer:
    """The default server, then the spooling one, then the one without presigned URLs."""
    return request.getfixturevalue(MODES[request.param])


@pytest.fixture
def cli_for(tmp_path: Path) -> Callable[[LakegateServer], ObjCli]:
    """The AWS CLI (default 8 MiB multipart settings) for a server."""
    return lambda srv: ObjCli(srv, tmp_path / f"aws-home-{srv.host_port[1]}")
