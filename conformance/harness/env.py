"""What a conformance run takes from its environment: the lakegate binary and the storage pass.

``scripts/test-all.sh`` runs most suites twice (its ``suite`` function):

* the **local** pass: ``lakegate dev`` keeps objects in its own blob store under the data
  directory (storage namespaces ``local://<repo>``, presigned URLs on the embedded server);
* the **seaweedfs** pass: the job sources ``scripts/seaweedfs.sh``'s ``DIR/env`` first, which sets
  ``LAKEGATE_DEV_BLOCKSTORE=s3`` and ``LAKEGATE_DEV_S3_*`` (read by ``lakegate dev`` itself: its S3
  blockstore is that SeaweedFS), so namespaces are ``s3://<bucket>/<repo>`` and presigned URLs point
  at SeaweedFS. The same file sets the TLS variables of ``harness.tls``.

Nothing here starts anything; a suite asks ``S3_BUCKET`` / ``ns()`` / ``data_url()`` where the two
passes differ.

Environment:
  LAKEGATE_BIN               the lakegate binary (default: <repo>/target/debug/lakegate)
  LAKEGATE_DEV_BLOCKSTORE    ``s3`` in the seaweedfs pass (unset: the local blob store)
  LAKEGATE_DEV_S3_BUCKET     that pass's bucket; LAKEGATE_DEV_S3_ENDPOINT its S3 endpoint
  LAKEGATE_MATRIX_PASS       the pass's name for README's table (``harness.matrix_plugin``)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional, Protocol


class HasBaseUrl(Protocol):
    """A running server (harness.server's ``LakegateServer``): where its API answers."""

    @property
    def base_url(self) -> str: ...

REPO_ROOT = Path(__file__).resolve().parents[2]
LAKEGATE_BIN = os.environ.get("LAKEGATE_BIN", str(REPO_ROOT / "target" / "debug" / "lakegate"))

# The bucket of the S3 blockstore in the seaweedfs pass; None in the local pass.
S3_BUCKET: Optional[str] = (os.environ.get("LAKEGATE_DEV_S3_BUCKET")
                            if os.environ.get("LAKEGATE_DEV_BLOCKSTORE") == "s3" else None)


def storage_pass() -> str:
    """``seaweedfs`` when ``lakegate dev`` stores objects on the S3 blockstore, else ``local``."""
    return "seaweedfs" if S3_BUCKET else "local"


def ns(name: str) -> str:
    """The storage namespace for a repository called ``name`` on the server's blockstore."""
    return f"s3://{S3_BUCKET}/{name}" if S3_BUCKET else f"local://{name}"


def data_url(server: HasBaseUrl) -> str:
    """Where presigned URLs point: the S3 bucket, or the embedded server's own blob endpoint."""
    if S3_BUCKET:
        return os.environ["LAKEGATE_DEV_S3_ENDPOINT"].rstrip("/") + f"/{S3_BUCKET}/"
    return server.base_url + "/"
