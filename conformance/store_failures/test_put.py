"""PutObject (and GetObject) when the object store is down or dies mid-body: a retryable
``503 SlowDown``/``ServiceUnavailable`` with ``Retry-After``, nothing linked in lakeFS, and boto3's
own retry succeeds once the store is back."""

from __future__ import annotations

import hashlib
import os
import threading
import time

from harness import BUCKET, KiB, MiB

from .support import (Attempts, absent, assert_unavailable, client_error, gateway_client, new_key,
                      one_attempt, sha256_of_object)


def test_put_with_store_down_is_503_then_boto3_retry_succeeds(gateway, store):
    key = new_key("down.bin")
    body = os.urandom(1 * KiB)
    store.kill()

    e = client_error(lambda: one_attempt(gateway).put_object(Bucket=BUCKET, Key=key, Body=body))
    meta = e.response["ResponseMetadata"]
    assert_unavailable(meta["HTTPStatusCode"], e.response["Error"].get("Code"), meta["HTTPHeaders"],
                       "PutObject with the store down")
    assert absent(gateway, key) is None

    # boto3's default retries, the store still down: the first attempt gets the 503, and the store
    # is back (same ports, same data) right before boto3 sends its retry
    s3 = gateway_client(gateway)
    attempts = Attempts(s3, "PutObject", before_retry=store.start)
    s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    assert attempts.statuses == [503, 200], attempts.answers
    first = attempts.answers[0]
    assert_unavailable(first.status, first.code, first.headers, "PutObject attempt 1 with the store down")
    assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == body


def test_get_with_store_down_is_503(gateway, store):
    key = new_key("stored.bin")
    body = os.urandom(128 * KiB)  # above the small-object cache's 64 KiB, and read on a branch anyway
    s3 = one_attempt(gateway)
    s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    store.kill()

    e = client_error(lambda: s3.get_object(Bucket=BUCKET, Key=key))
    meta = e.response["ResponseMetadata"]
    assert_unavailable(meta["HTTPStatusCode"], e.response["Error"].get("Code"), meta["HTTPHeaders"],
                       "GetObject with the store down")

    store.start()
    assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == body


def test_store_dying_mid_body_is_503_then_boto3_retry_succeeds(gateway, store, tmp_path):
    """A 100 MiB PUT: SeaweedFS is paused (SIGSTOP) so the gateway's presigned PUT stalls with
    part of the body in weed's socket buffer; then weed is SIGKILLed mid-body. Before the fix the
    gateway answered ``400 IncompleteBody`` (not retried by any SDK)."""
    key = new_key("big.bin")
    path = tmp_path / "big.bin"
    digest = hashlib.sha256()
    with open(path, "wb") as f:
        for _ in range(100 // 4):
            chunk = os.urandom(4 * MiB)
            digest.update(chunk)
            f.write(chunk)

    seen = {}

    def before_retry() -> None:
        # between the failed attempt and boto3's retry: nothing was linked; then the store is back
        seen["absent"] = absent(gateway, key)
        store.start()

    s3 = gateway_client(gateway, read_timeout=120)  # boto3's default retries
    attempts = Attempts(s3, "PutObject", before_retry=before_retry)
    result = {}

    def upload() -> None:
        try:
            with open(path, "rb") as body:
                result["ok"] = s3.put_object(Bucket=BUCKET, Key=key, Body=body)
        except Exception as e:  # noqa: BLE001 (reported below)
            result["error"] = e

    store.pause()
    thread = threading.Thread(target=upload, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    # the request head is < 4 KiB: more is body (a connection weed has not accepted yet buffers
    # about 128 KiB in the kernel)
    while store.bytes_waiting() < 64 * KiB:
        assert time.monotonic() < deadline, (
            f"the gateway's PUT never reached the paused store ({store.bytes_waiting()} bytes waiting); "
            f"attempts: {attempts.answers}")
        assert thread.is_alive(), f"PutObject ended before the store saw its body: {result} {attempts.answers}"
        time.sleep(0.02)
    at_kill = store.bytes_waiting()
    store.kill()

    thread.join(timeout=180)
    assert not thread.is_alive(), f"PutObject still running 180 s after the store died: {attempts.answers}"
    assert at_kill < 100 * MiB, at_kill
    assert "error" not in result, f"boto3 failed: {result.get('error')!r}; attempts: {attempts.answers}"
    first = attempts.answers[0]
    assert_unavailable(first.status, first.code, first.headers,
                       f"PutObject attempt 1, store killed with {at_kill} body bytes unread")
    assert attempts.statuses == [503, 200], attempts.answers
    assert seen["absent"] is None, seen["absent"]
    assert sha256_of_object(gateway, key) == digest.hexdigest()
