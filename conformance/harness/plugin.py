"""The harness as a pytest plugin: the fixtures the suites share and the failure-report hook.

A suite turns it on from its conftest (once per session however many suites run)::

    def pytest_configure(config):
        harness.register(config, matrix=True)   # matrix: README's client × operation recorder

Fixtures (a suite's own conftest may define one of the same name instead, e.g. an HTTP-only
``server``; its own wins):

  ``tls_material``  (session) a self-signed certificate for 127.0.0.1/localhost: (cert, key)
  ``http_server``   (session) ``lakegate dev`` over HTTP, started on first use, /metrics checked
  ``https_server``  (session) the same over HTTPS with ``tls_material`` (``ca_bundle`` = the cert)
  ``server``        each test once over ``http_server`` and once over ``https_server``
  ``boto``          a cached ``Boto3Client`` of ``server``, once per checksum policy (``POLICIES``)
  ``start_server``  a ``ServerFactory``: a test's private servers, stopped when it ends

Hook: ``pytest_runtest_makereport`` attaches to a failing test's report the log tail of every
process in ``harness.logs.RUNNING`` (every running ``LakegateServer``, and what suites ``track``).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Iterator, Tuple

import pytest

from . import matrix_plugin
from .clients import POLICIES, Boto3Client, boto3_client
from .logs import RUNNING
from .server import LakegateServer, ServerFactory, numbered_dirs, serve_lakegate
from .tls import make_self_signed_cert, tls_args

PLUGIN_NAME = "lakegate-harness"


def register(config: pytest.Config, matrix: bool = False) -> None:
    """Register this plugin unless it already is and, with ``matrix``, the recorder behind README's
    client × operation table (``matrix_plugin.register``). For a suite's ``pytest_configure``."""
    if not config.pluginmanager.has_plugin(PLUGIN_NAME):
        config.pluginmanager.register(sys.modules[__name__], PLUGIN_NAME)
    if matrix:
        matrix_plugin.register(config)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    """On a failing test, attach the tail of every running process's output to the report."""
    outcome = yield
    rep = outcome.get_result()
    if rep.failed:
        for source in list(RUNNING):
            rep.sections.append((source.label, source.log_tail(4000)))


@pytest.fixture(scope="session")
def tls_material(tmp_path_factory: pytest.TempPathFactory) -> Tuple[Path, Path]:
    return make_self_signed_cert(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="session")
def http_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LakegateServer]:
    yield from serve_lakegate(tmp_path_factory, "lakegate-http")


@pytest.fixture(scope="session")
def https_server(tmp_path_factory: pytest.TempPathFactory, tls_material: Tuple[Path, Path]
                 ) -> Iterator[LakegateServer]:
    cert, key = tls_material
    yield from serve_lakegate(tmp_path_factory, "lakegate-https", tls_args(cert, key), cert)


@pytest.fixture(params=["http", "https"])
def server(request: pytest.FixtureRequest) -> LakegateServer:
    srv = request.getfixturevalue(f"{request.param}_server")
    assert srv.scheme == request.param, f"dev.json s3_endpoint {srv.s3_endpoint!r} is not {request.param}"
    return srv


@pytest.fixture(params=POLICIES)
def boto(request: pytest.FixtureRequest, server: LakegateServer) -> Boto3Client:
    return boto3_client(server, request.param)


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[ServerFactory]:
    """``start_server(extra_args, data_dir=None)``: a private ``lakegate dev`` (a second call with
    the same ``data_dir`` restarts on that directory, on new ports); all are stopped after the test."""
    factory = ServerFactory(numbered_dirs(tmp_path, "srv"))
    try:
        yield factory
    finally:
        factory.stop_all()
