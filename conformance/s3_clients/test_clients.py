"""Every client (boto3 when_supported / when_required, AWS CLI) over HTTP and HTTPS:
authenticate, list and probe the bucket, move bytes both ways byte-exact, and get the exact S3
error codes back for the failure cases.

With boto3 ``when_supported`` a PutObject carries a CRC32: over HTTP as a hashed payload plus an
``x-amz-checksum-crc32`` header, over HTTPS as a STREAMING-UNSIGNED-PAYLOAD-TRAILER aws-chunked
body with the CRC32 in the trailer. ``when_required`` sends no checksum unless asked for one.
"""

from __future__ import annotations

import uuid

import pytest

from harness import (BRANCH, BUCKET, Boto3Client, CliClient, S3Failure, make_client, md5_etag, random_bytes,
                     sha256)

from .support import crc32_b64, unique_key


def expect_failure(client, boto: tuple, cli: tuple) -> S3Failure:
    """Run the failing call with whichever client this is: ``boto=(op, kwargs)``,
    ``cli=(s3api-operation, *args)``."""
    if isinstance(client, Boto3Client):
        op, kw = boto
        return client.failure(op, **kw)
    assert isinstance(client, CliClient)
    return client.failure(*cli)


def assert_failure(f: S3Failure, status: int, code: str) -> None:
    assert f.code == code, f"error code {f.code!r}, want {code!r}: {f.message}"
    if f.status is not None:  # the CLI does not expose the HTTP status
        assert f.status == status, f"HTTP status {f.status}, want {status}: {f.message}"


# --------------------------------------------------------------------------------------
# bucket level
# --------------------------------------------------------------------------------------


def test_list_buckets_contains_demo(client):
    names = client.list_bucket_names()
    assert BUCKET in names
    assert len(names) == len(set(names)), names


def test_head_bucket_and_location(client, server):
    h = client.head_bucket(BUCKET)
    assert h["status"] == 200
    assert h["region"] == server.region
    # us-east-1 is reported as an empty LocationConstraint (null)
    assert client.bucket_location(BUCKET) is None


# --------------------------------------------------------------------------------------
# objects
# --------------------------------------------------------------------------------------


@pytest.mark.matrix("{client}", "put/get", "metadata")
def test_small_object_round_trip_with_metadata_and_content_type(client):
    key = unique_key("small.txt")
    data = b"hello, lakegate\n"
    put = client.put(BUCKET, key, data, metadata={"k": "v", "other-key": "Value 2"},
                     content_type="text/x-lakegate-test")
    assert put["etag"] == md5_etag(data)
    got = client.get(BUCKET, key)
    assert got.body == data
    assert got.content_length == len(data)
    assert got.content_type == "text/x-lakegate-test"
    assert got.metadata == {"k": "v", "other-key": "Value 2"}
    assert got.etag == md5_etag(data)


@pytest.mark.matrix("{client}", "put/get")
def test_large_object_round_trip(client):
    key = unique_key("large.bin")
    data = random_bytes(3 * 1024 * 1024 + 17)
    put = client.put(BUCKET, key, data)
    assert put["etag"] == md5_etag(data)
    got = client.get(BUCKET, key)
    assert got.content_length == len(data)
    assert sha256(got.body) == sha256(data)
    assert got.etag == md5_etag(data)


@pytest.mark.matrix("{client}", "put/get")
def test_empty_object_round_trip(client):
    key = unique_key("empty")
    put = client.put(BUCKET, key, b"")
    assert put["etag"] == md5_etag(b"")  # "d41d8cd98f00b204e9800998ecf8427e"
    got = client.get(BUCKET, key)
    assert got.body == b""
    assert got.content_length == 0
    assert client.head(BUCKET, key)["content_length"] == 0


@pytest.mark.matrix("{client}", "put/get")
def test_key_with_special_characters_round_trips(client):
    # spaces, non-ASCII, and characters SigV4 canonical URIs must percent-encode
    key = f"{BRANCH}/s3c-{uuid.uuid4().hex}/dir with space/ünï cødé+=&;,@$()!'~*[].txt"
    data = random_bytes(1000)
    assert client.put(BUCKET, key, data)["etag"] == md5_etag(data)
    got = client.get(BUCKET, key)
    assert got.body == data


@pytest.mark.matrix("{client}", "range get")
def test_ranged_get(client):
    key = unique_key("ranged.bin")
    data = random_bytes(4096)
    client.put(BUCKET, key, data)
    got = client.get(BUCKET, key, range_="bytes=100-1123")
    assert got.body == data[100:1124]
    assert got.content_length == 1024
    assert got.content_range == f"bytes 100-1123/{len(data)}"
    if got.status is not None:
        assert got.status == 206
    got = client.get(BUCKET, key, range_="bytes=-10")
    assert got.body == data[-10:]
    assert got.content_range == f"bytes {len(data) - 10}-{len(data) - 1}/{len(data)}"


@pytest.mark.matrix("{client}", "metadata")
def test_head_object_size_etag_type_metadata(client):
    key = unique_key("head.bin")
    data = random_bytes(12345)
    client.put(BUCKET, key, data, metadata={"k": "v"}, content_type="application/x-head-test")
    h = client.head(BUCKET, key)
    assert h["content_length"] == len(data)
    assert h["etag"] == md5_etag(data)
    assert h["content_type"] == "application/x-head-test"
    assert h["metadata"] == {"k": "v"}


@pytest.mark.matrix("{client}", "checksums")
def test_crc32_checksum_round_trip(client):
    """The CRC32 the client computed is what PutObject echoes and what GetObject/HeadObject with
    checksum mode ENABLED return. when_required only computes one when asked to."""
    key = unique_key("crc.bin")
    data = random_bytes(70_000)
    want = crc32_b64(data)
    if getattr(client, "sends_crc32_by_default", False):
        put = client.put(BUCKET, key, data)
    else:
        put = client.put(BUCKET, key, data, checksum_algorithm="CRC32")
    assert put["checksum_crc32"] == want
    got = client.get(BUCKET, key, checksum_mode=True)
    assert got.body == data
    assert got.checksum_crc32 == want
    assert client.head(BUCKET, key, checksum_mode=True)["checksum_crc32"] == want


def _put_supports_if_none_match() -> bool:
    import botocore.session
    model = botocore.session.get_session().get_service_model("s3")
    return "IfNoneMatch" in model.operation_model("PutObject").input_shape.members


@pytest.mark.skipif(not _put_supports_if_none_match(), reason="this botocore has no IfNoneMatch on PutObject")
@pytest.mark.matrix("{client}", "conditionals")
def test_put_if_none_match_star(client, tmp_path):
    second = tmp_path / "second.txt"
    second.write_bytes(b"second")
    key = unique_key("once.txt")
    first = b"first writer wins"
    assert client.put(BUCKET, key, first, if_none_match="*")["etag"] == md5_etag(first)
    f = expect_failure(
        client,
        boto=("put_object", {"Bucket": BUCKET, "Key": key, "Body": b"second", "IfNoneMatch": "*"}),
        cli=("put-object", "--bucket", BUCKET, "--key", key, "--if-none-match", "*", "--body", str(second)),
    )
    assert_failure(f, 412, "PreconditionFailed")
    assert client.get(BUCKET, key).body == first


@pytest.mark.matrix("{client}", "presigned URL")
def test_presigned_get_url(client, server):
    key = unique_key("presigned.bin")
    data = random_bytes(5000)
    client.put(BUCKET, key, data)
    url = client.presigned_get_url(BUCKET, key)
    assert url.startswith(server.s3_endpoint + "/"), url
    assert "X-Amz-Signature=" in url
    r = server.http().request("GET", url, redirect=False)
    assert r.status == 200, (r.status, r.data[:500])
    assert r.data == data
    assert r.headers["ETag"] == md5_etag(data)


# --------------------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------------------


@pytest.mark.matrix("{client}", "error codes")
def test_get_missing_key_is_no_such_key(client):
    key = unique_key("missing")
    f = expect_failure(client, boto=("get_object", {"Bucket": BUCKET, "Key": key}),
                       cli=("get-object", "--bucket", BUCKET, "--key", key, "/dev/null"))
    assert_failure(f, 404, "NoSuchKey")


@pytest.mark.matrix("{client}", "error codes")
def test_head_missing_key_is_bare_404(client):
    key = unique_key("missing")
    f = expect_failure(client, boto=("head_object", {"Bucket": BUCKET, "Key": key}),
                       cli=("head-object", "--bucket", BUCKET, "--key", key))
    # a HEAD response has no body, so clients report the status code as the error code
    assert_failure(f, 404, "404")


@pytest.mark.matrix("{client}", "error codes")
def test_missing_bucket_is_no_such_bucket(client):
    bucket = f"nope-{uuid.uuid4().hex[:12]}"
    f = expect_failure(client, boto=("get_object", {"Bucket": bucket, "Key": f"{BRANCH}/x"}),
                       cli=("get-object", "--bucket", bucket, "--key", f"{BRANCH}/x", "/dev/null"))
    assert_failure(f, 404, "NoSuchBucket")
    f = expect_failure(client, boto=("head_bucket", {"Bucket": bucket}),
                       cli=("head-bucket", "--bucket", bucket))
    assert_failure(f, 404, "404")


@pytest.mark.matrix("{client}", "error codes")
def test_wrong_secret_is_signature_does_not_match(client, server, tmp_path):
    body = tmp_path / "body.txt"
    body.write_bytes(b"x")
    bad = make_client(client.kind_id, server, tmp_path / "bad-secret", secret_key=server.secret_access_key[::-1])
    f = expect_failure(bad, boto=("list_buckets", {}), cli=("list-buckets",))
    assert_failure(f, 403, "SignatureDoesNotMatch")
    key = unique_key("never")
    f = expect_failure(bad, boto=("put_object", {"Bucket": BUCKET, "Key": key, "Body": b"x"}),
                       cli=("put-object", "--bucket", BUCKET, "--key", key, "--body", str(body)))
    assert_failure(f, 403, "SignatureDoesNotMatch")


@pytest.mark.matrix("{client}", "error codes")
def test_unknown_access_key_is_invalid_access_key_id(client, server, tmp_path):
    bad = make_client(client.kind_id, server, tmp_path / "bad-key", access_key="AKIA" + uuid.uuid4().hex[:16].upper())
    f = expect_failure(bad, boto=("list_buckets", {}), cli=("list-buckets",))
    assert_failure(f, 403, "InvalidAccessKeyId")


@pytest.mark.matrix("{client}", "error codes")
def test_unimplemented_operation_is_not_implemented(client):
    f = expect_failure(client, boto=("get_bucket_acl", {"Bucket": BUCKET}),
                       cli=("get-bucket-acl", "--bucket", BUCKET))
    assert_failure(f, 501, "NotImplemented")
