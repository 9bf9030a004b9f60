"""The conformance suites' shared harness: what every suite under conformance/ imports.

``conformance/conftest.py`` puts ``conformance/`` on ``sys.path``, so a suite writes
``from harness import LakegateServer, boto3_client, …`` (scripts run outside pytest, such as
``s3_tests/run.py``, insert it themselves). A suite's own helpers stay in its ``support.py``; no
suite imports another suite's modules.

Modules:
  ``env``            the lakegate binary and the storage pass (local blob store / SeaweedFS)
  ``tls``            per-session certificates and the run's TLS environment
  ``server``         ``LakegateServer`` (``lakegate dev`` / ``lakegate serve``), session and per-test servers
  ``logs``           what the failure report shows (``RUNNING``, ``track``)
  ``clients``        boto3: ``Boto3Client``, ``boto3_client``, ``watch_boto3``
  ``awscli``         the AWS CLI: ``CliClient``, ``ObjCli``; ``make_client`` over every adapter
  ``data``           sizes, digests, random bytes, fresh names
  ``plugin``         the shared fixtures and the failure-report hook (``register``)
  ``metrics_check``  /metrics against what boto3 sent, checked before a session server stops
  ``matrix_plugin``  the recorder behind README.md's client × operation table
"""

from __future__ import annotations

from . import matrix_plugin, metrics_check
from .awscli import AWS_CLI, CLIENT_KINDS, CliClient, CliRun, ObjCli, make_client
from .clients import POLICIES, Boto3Client, GetResult, S3Failure, boto3_client, single_part_transfer, watch_boto3
from .data import KiB, MiB, md5_etag, new_branch_name, new_repo_name, random_bytes, sha256
from .env import LAKEGATE_BIN, REPO_ROOT, S3_BUCKET, data_url, ns, storage_pass
from .logs import RUNNING, LogFile, file_tail, track, untrack
from .plugin import register
from .server import (BRANCH, BUCKET, LakegateServer, ServerFactory, numbered_dirs, running_servers,
                     serve_lakegate, start_outside_pytest)
from .tls import api_tls_expected, make_self_signed_cert, run_ca_file, tls_args, trust_bundle

__all__ = [
    "AWS_CLI", "BRANCH", "BUCKET", "CLIENT_KINDS", "KiB", "LAKEGATE_BIN", "MiB", "POLICIES", "REPO_ROOT",
    "RUNNING", "S3_BUCKET", "Boto3Client", "CliClient", "CliRun", "GetResult", "LakegateServer", "LogFile",
    "ObjCli", "S3Failure", "ServerFactory", "api_tls_expected", "boto3_client", "data_url", "file_tail",
    "make_client", "make_self_signed_cert", "matrix_plugin", "md5_etag", "metrics_check", "new_branch_name",
    "new_repo_name", "ns", "numbered_dirs", "random_bytes", "register", "run_ca_file", "running_servers",
    "serve_lakegate", "sha256", "single_part_transfer", "start_outside_pytest", "storage_pass", "tls_args",
    "track", "trust_bundle",
    "untrack", "watch_boto3",
]
