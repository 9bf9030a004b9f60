"""Fixtures for the S3 tools conformance suite: s3cmd, rclone, minio-py, s3fs and pyarrow against
the harness's ``http_server`` and ``https_server`` (one ``lakegate dev`` each, self-signed
certificate made for this session), shared by all tests of this directory; every test runs
against both (the harness's ``server`` fixture).

This directory is a package so its conftest never shadows another's. It runs in its own venv
(see requirements.txt here).

Environment: see ``harness.env`` and ``harness.tls``.
"""

from __future__ import annotations

import pytest

import harness


def pytest_configure(config: pytest.Config) -> None:
    """The harness's fixtures and failure report, and the @pytest.mark.matrix recorder behind
    README.md's client × operation table."""
    harness.register(config, matrix=True)
