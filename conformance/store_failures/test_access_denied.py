"""A store that refuses the gateway's presigned request with 403 is relayed as ``403 AccessDenied``
naming the store's reason — never a retryable 503, and boto3 sends it once.

The refusal is real: ``expiry_gateway``'s embedded server presigns for 3 s; SeaweedFS is paused
(SIGSTOP) while the presigned request waits in its socket buffer and resumed once the URL expired;
it then answers ``403 AccessDenied "Request has expired"``. The first test checks that directly
against SeaweedFS, so a SeaweedFS that stops doing so is told apart from a gateway regression."""

from __future__ import annotations

import os

import urllib3

from harness import BUCKET, KiB

from .support import (PRESIGN_EXPIRY_SECS, Attempts, absent, client_error, gateway_client, new_key,
                      while_paused)

HOLD_S = PRESIGN_EXPIRY_SECS + 1.5  # the store stays paused this long after the request reached it
EXPIRED = "Request has expired"  # SeaweedFS's <Message> for an expired presigned URL


def test_seaweedfs_answers_403_to_an_expired_presigned_url(store):
    s3 = store.client()
    url = s3.generate_presigned_url("put_object", Params={"Bucket": "store-failures-expiry", "Key": "expired"},
                                    ExpiresIn=1)
    r = while_paused(store, 2.5, lambda: urllib3.request("PUT", url, body=b"x" * KiB, retries=False,
                                                          timeout=urllib3.Timeout(connect=5, read=30)))
    assert r.status == 403 and b"<Code>AccessDenied</Code>" in r.data and EXPIRED.encode() in r.data, \
        (r.status, r.data)


def _assert_denied(e, op: str) -> None:
    err = e.response["Error"]
    assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 403, f"{op}: want 403 AccessDenied, got {e.response}"
    assert err.get("Code") == "AccessDenied", f"{op}: want AccessDenied, got {err}"
    assert EXPIRED in err.get("Message", ""), f"{op}: the store's reason is missing: {err}"


def test_expired_presigned_put_is_access_denied(expiry_gateway, store):
    key = new_key("expired-put.bin")
    s3 = gateway_client(expiry_gateway)  # boto3's default retries: a 403 is not retried
    attempts = Attempts(s3, "PutObject")
    e = while_paused(store, HOLD_S, lambda: client_error(
        lambda: s3.put_object(Bucket=BUCKET, Key=key, Body=os.urandom(KiB))))
    _assert_denied(e, "PutObject")
    assert attempts.sent == 1, attempts.answers
    assert absent(expiry_gateway, key) is None


def test_expired_presigned_get_is_access_denied(expiry_gateway, store):
    key = new_key("expired-get.bin")
    body = os.urandom(128 * KiB)  # above the small-object cache's 64 KiB (and a branch read anyway)
    s3 = gateway_client(expiry_gateway)
    s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    attempts = Attempts(s3, "GetObject")
    e = while_paused(store, HOLD_S, lambda: client_error(lambda: s3.get_object(Bucket=BUCKET, Key=key)))
    _assert_denied(e, "GetObject")
    assert attempts.sent == 1, attempts.answers
    assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == body
