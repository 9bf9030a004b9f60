"""Fixtures for the S3 multipart-upload conformance suite (CreateMultipartUpload, UploadPart,
UploadPartCopy, CompleteMultipartUpload, AbortMultipartUpload, ListParts, ListMultipartUploads)
driven by boto3 and the AWS CLI.

Session servers (each started on first use, shared by every test that needs it):
  ``server``            lakegate dev over HTTP, default settings (presigned multipart when the
                        embedded server's storage offers it, spooled otherwise)
  ``https_server``      the same over HTTPS (boto3 then sends parts aws-chunked with trailers)
  ``spool_server``      ``--no-presign-multipart``: lakegate spools parts, uploads on Complete
  ``nopresign_server``  ``--no-presign``: no presigned URLs at all
  ``tiny_spool_server`` ``--no-presign-multipart --spool-max-bytes 6000000``
``start_server`` starts private servers (restart tests), stopped when the test ends.

The server/TLS/client machinery is the s3_clients suite's (via ``s3m_support``). Every test
writes fresh keys, so tests are independent of each other and of their order.

Environment:
  LAKEGATE_BIN   path to the lakegate binary (default: <repo>/target/debug/lakegate)
  LAKEGATE_DEV_* the embedded server's blockstore (scripts/seaweedfs.sh env for SeaweedFS)
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator, List, Optional

import pytest

from .s3m_support import SPOOL_MAX, LakegateServer, ObjCli, make_self_signed_cert, register_matrix, serve_lakegate, tls_args

_SERVERS: List[LakegateServer] = []


def pytest_configure(config):
    """The @pytest.mark.matrix recorder behind README.md's client × operation table."""
    register_matrix(config)






@pytest.fixture(scope="session")
def server(tmp_path_factory) -> Iterator[LakegateServer]:
    yield from serve_lakegate(tmp_path_factory, "s3m-http", _SERVERS)


@pytest.fixture(scope="session")
def https_server(tmp_path_factory) -> Iterator[LakegateServer]:
    cert, key = make_self_signed_cert(tmp_path_factory.mktemp("s3m-tls"))
    yield from serve_lakegate(tmp_path_factory, "s3m-https", _SERVERS, tls_args(cert, key), cert)


@pytest.fixture(scope="session")
def spool_server(tmp_path_factory) -> Iterator[LakegateServer]:
    yield from serve_lakegate(tmp_path_factory, "s3m-spool", _SERVERS, ["--no-presign-multipart"])


@pytest.fixture(scope="session")
def nopresign_server(tmp_path_factory) -> Iterator[LakegateServer]:
    yield from serve_lakegate(tmp_path_factory, "s3m-nopresign", _SERVERS, ["--no-presign"])


@pytest.fixture(scope="session")
def tiny_spool_server(tmp_path_factory) -> Iterator[LakegateServer]:
    yield from serve_lakegate(tmp_path_factory, "s3m-tiny", _SERVERS,
                              ["--no-presign-multipart", "--spool-max-bytes", str(SPOOL_MAX)])


MODES = {"default": "server", "no-presign-multipart": "spool_server", "no-presign": "nopresign_server"}


@pytest.fixture(params=list(MODES))
def mode_server(request) -> LakegateServer:
    """The default server, then the spooling one, then the one without presigned URLs."""
    return request.getfixturevalue(MODES[request.param])


@pytest.fixture
def start_server(tmp_path) -> Iterator[Callable[..., LakegateServer]]:
    """``start_server(extra_args, data_dir=None)``: a private server (a second call with the same
    ``data_dir`` restarts on that directory, on new ports); all are stopped after the test."""
    mine: List[LakegateServer] = []

    def start(extra_args: Optional[List[str]] = None, data_dir: Optional[Path] = None) -> LakegateServer:
        base = tmp_path / f"srv{len(mine)}"
        base.mkdir()
        srv = LakegateServer(data_dir or base / "data", base / "lakegate.log", extra_args)
        mine.append(srv)
        _SERVERS.append(srv)
        srv.start()
        return srv

    try:
        yield start
    finally:
        for srv in mine:
            srv.stop()
            _SERVERS.remove(srv)


@pytest.fixture
def cli_for(tmp_path) -> Callable[[LakegateServer], ObjCli]:
    """The AWS CLI (default 8 MiB multipart settings) for a server."""
    return lambda srv: ObjCli(srv, tmp_path / f"aws-home-{srv.host_port[1]}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On a failing test, attach the tail of every running lakegate's output to the report."""
    outcome = yield
    rep = outcome.get_result()
    if rep.failed and _SERVERS:
        for srv in list(_SERVERS):
            rep.sections.append((f"lakegate {srv.extra_args} ({srv.data_dir})", srv.log_tail(4000)))

