"""Fixtures for the S3 object-operations conformance suite (bucket create/delete, transfers up to
64 MiB, listings of 2,500 keys, sync, copy, metadata, ranges and conditionals, bulk delete,
error codes, flat buckets).

One ``lakegate dev`` over HTTP and one over HTTPS (per-session self-signed certificate) are
shared by all tests of this directory; a third one with ``--flat-buckets`` (HTTP) starts only
when a flat-bucket test runs. The server, TLS and client machinery is the s3_clients suite's
(``s3c_support``); this directory is a package so its conftest never shadows another's.

Environment:
  LAKEGATE_BIN   path to the lakegate binary (default: <repo>/target/debug/lakegate)
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator, List, Tuple

import pytest

from .s3o_support import (Boto3Client, LakegateServer, ObjCli, boto3_client, make_self_signed_cert, register_matrix,
                          serve_lakegate, tls_args)

_SERVERS: List[LakegateServer] = []


def pytest_configure(config):
    """The @pytest.mark.matrix recorder behind README.md's client × operation table."""
    register_matrix(config)


@pytest.fixture(scope="session")
def s3o_tls(tmp_path_factory) -> Tuple[Path, Path]:
    return make_self_signed_cert(tmp_path_factory.mktemp("s3o-tls"))






@pytest.fixture(scope="session")
def http_server(tmp_path_factory) -> Iterator[LakegateServer]:
    yield from serve_lakegate(tmp_path_factory, "s3o-http", _SERVERS)


@pytest.fixture(scope="session")
def https_server(tmp_path_factory, s3o_tls) -> Iterator[LakegateServer]:
    cert, key = s3o_tls
    yield from serve_lakegate(tmp_path_factory, "s3o-https", _SERVERS, tls_args(cert, key), cert)


@pytest.fixture(scope="session")
def flat_server(tmp_path_factory) -> Iterator[LakegateServer]:
    yield from serve_lakegate(tmp_path_factory, "s3o-flat", _SERVERS, ["--flat-buckets"])


@pytest.fixture(params=["http", "https"])
def server(request) -> LakegateServer:
    srv = request.getfixturevalue(f"{request.param}_server")
    assert srv.scheme == request.param, f"dev.json s3_endpoint {srv.s3_endpoint!r} is not {request.param}"
    return srv


@pytest.fixture(params=["when_supported", "when_required"])
def boto(request, server) -> Boto3Client:
    return boto3_client(server, request.param)


@pytest.fixture
def cli(server, tmp_path) -> ObjCli:
    return ObjCli(server, tmp_path / "aws-home")


@pytest.fixture
def server_for(request) -> Callable[[str], LakegateServer]:
    """For tests parametrised over an explicit (scheme, client) subset."""
    def get(scheme: str) -> LakegateServer:
        srv = request.getfixturevalue(f"{scheme}_server")
        assert srv.scheme == scheme
        return srv
    return get


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On a failing test, attach the tail of every running lakegate's output to the report."""
    outcome = yield
    rep = outcome.get_result()
    if rep.failed and _SERVERS:
        for srv in list(_SERVERS):
            rep.sections.append((f"lakegate {srv.scheme} ({srv.data_dir})", srv.log_tail(4000)))
