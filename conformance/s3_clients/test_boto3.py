"""boto3-only behaviour, with both request-checksum policies over HTTP and HTTPS: the transfer
manager (single part), explicit checksum algorithms, digest mismatches, conditional and ranged
GETs, response-header overrides and presigned PUT URLs."""

from __future__ import annotations

import datetime
import io
import uuid

import boto3
import pytest
from botocore.config import Config

from harness import BRANCH, BUCKET, md5_etag, random_bytes, sha256, single_part_transfer, watch_boto3

from .support import b64_digest, crc32_b64, unique_key


def _digest(alg: str, data: bytes) -> str:
    return crc32_b64(data) if alg == "CRC32" else b64_digest(alg.lower(), data)


@pytest.mark.matrix("boto3", "put/get", "checksums")
def test_put_wire_format_per_scheme_and_policy(boto, server):
    """Pin down which PutObject encoding each (scheme, policy) exercises, so the round trips in
    this suite provably cover both: over HTTPS when_supported sends an aws-chunked
    STREAMING-UNSIGNED-PAYLOAD-TRAILER body with a CRC32 trailer; over HTTP a hashed payload plus
    an x-amz-checksum-crc32 header; when_required sends a hashed payload and no checksum."""
    seen = {}

    def capture(request, **kw):
        seen.update({k.lower(): (v.decode() if isinstance(v, bytes) else v) for k, v in request.headers.items()})

    data = random_bytes(200_000)
    key = unique_key("wire.bin")
    boto.s3.meta.events.register("before-send.s3.PutObject", capture)
    try:
        put = boto.s3.put_object(Bucket=BUCKET, Key=key, Body=data)
    finally:
        boto.s3.meta.events.unregister("before-send.s3.PutObject", capture)
    if boto.checksum_policy == "when_supported" and server.scheme == "https":
        assert seen["x-amz-content-sha256"] == "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
        assert seen["content-encoding"] == "aws-chunked"
        assert seen["x-amz-trailer"] == "x-amz-checksum-crc32"
        assert seen["x-amz-decoded-content-length"] == str(len(data))
        assert "x-amz-checksum-crc32" not in seen
    elif boto.checksum_policy == "when_supported":
        assert seen["x-amz-content-sha256"] == sha256(data)
        assert seen["x-amz-checksum-crc32"] == crc32_b64(data)
        assert "content-encoding" not in seen
    else:
        assert seen["x-amz-content-sha256"] == sha256(data)
        assert not [h for h in seen if h.startswith("x-amz-checksum-") or h == "x-amz-trailer"], seen
    assert put["ETag"] == md5_etag(data)
    assert put.get("ChecksumCRC32") == (crc32_b64(data) if boto.checksum_policy == "when_supported" else None)
    assert boto.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == data


@pytest.mark.matrix("boto3", "metadata")
def test_default_content_type_is_binary_octet_stream(boto):
    """An object PUT without Content-Type is served as binary/octet-stream, as S3 does."""
    key = unique_key("untyped")
    seen = {}

    def capture(request, **kw):
        seen.update({k.lower(): v for k, v in request.headers.items()})

    boto.s3.meta.events.register("before-send.s3.PutObject", capture)
    try:
        boto.s3.put_object(Bucket=BUCKET, Key=key, Body=b"no type given")
    finally:
        boto.s3.meta.events.unregister("before-send.s3.PutObject", capture)
    assert "content-type" not in seen, seen  # the client really sent none
    assert boto.s3.head_object(Bucket=BUCKET, Key=key)["ContentType"] == "binary/octet-stream"
    assert boto.s3.get_object(Bucket=BUCKET, Key=key)["ContentType"] == "binary/octet-stream"


@pytest.mark.matrix("boto3", "put/get", "metadata")
def test_transfer_manager_single_part_round_trip(boto, tmp_path):
    data = random_bytes(3 * 1024 * 1024 + 5)
    src = tmp_path / "src.bin"
    src.write_bytes(data)
    key = unique_key("transfer.bin")
    boto.upload_file(src, BUCKET, key)
    dst = tmp_path / "dst.bin"
    boto.download_file(BUCKET, key, dst)
    assert sha256(dst.read_bytes()) == sha256(data)

    # file objects, with extra arguments carried through to PutObject
    key2 = unique_key("transfer-fileobj.bin")
    boto.s3.upload_fileobj(io.BytesIO(data), BUCKET, key2,
                           ExtraArgs={"Metadata": {"k": "v"}, "ContentType": "application/x-fileobj"},
                           Config=single_part_transfer())
    out = io.BytesIO()
    boto.s3.download_fileobj(BUCKET, key2, out, Config=single_part_transfer())
    assert sha256(out.getvalue()) == sha256(data)
    h = boto.s3.head_object(Bucket=BUCKET, Key=key2)
    assert h["ContentLength"] == len(data)
    assert h["ETag"] == md5_etag(data)
    assert h["Metadata"] == {"k": "v"}
    assert h["ContentType"] == "application/x-fileobj"


@pytest.mark.parametrize("alg", ["CRC32", "SHA1", "SHA256"])
@pytest.mark.matrix("boto3", "checksums")
def test_explicit_checksum_algorithm(boto, alg):
    key = unique_key(f"{alg}.bin")
    data = random_bytes(100_001)
    want = _digest(alg, data)
    put = boto.s3.put_object(Bucket=BUCKET, Key=key, Body=data, ChecksumAlgorithm=alg)
    assert put[f"Checksum{alg}"] == want
    assert put["ETag"] == md5_etag(data)
    got = boto.s3.get_object(Bucket=BUCKET, Key=key, ChecksumMode="ENABLED")
    assert got[f"Checksum{alg}"] == want
    assert got["Body"].read() == data
    head = boto.s3.head_object(Bucket=BUCKET, Key=key, ChecksumMode="ENABLED")
    assert head[f"Checksum{alg}"] == want


@pytest.mark.matrix("boto3", "checksums")
def test_precomputed_checksum_header_accepted(boto):
    key = unique_key("precomputed.bin")
    data = random_bytes(2048)
    put = boto.s3.put_object(Bucket=BUCKET, Key=key, Body=data, ChecksumSHA256=b64_digest("sha256", data),
                             ContentMD5=b64_digest("md5", data))
    assert put["ChecksumSHA256"] == b64_digest("sha256", data)
    assert put["ETag"] == md5_etag(data)
    assert boto.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == data


@pytest.mark.parametrize("header", ["ContentMD5", "ChecksumCRC32", "ChecksumSHA256"])
@pytest.mark.matrix("boto3", "checksums", "error codes")
def test_digest_mismatch_is_bad_digest_and_stores_nothing(boto, header):
    key = unique_key("bad-digest.bin")
    data = random_bytes(1500)
    other = b"not the body"
    wrong = {"ContentMD5": b64_digest("md5", other), "ChecksumCRC32": crc32_b64(other),
             "ChecksumSHA256": b64_digest("sha256", other)}[header]
    f = boto.failure("put_object", Bucket=BUCKET, Key=key, Body=data, **{header: wrong})
    assert (f.status, f.code) == (400, "BadDigest"), f.message
    f = boto.failure("head_object", Bucket=BUCKET, Key=key)
    assert (f.status, f.code) == (404, "404"), f.message


@pytest.mark.matrix("boto3", "conditionals")
def test_conditional_get(boto):
    key = unique_key("cond.txt")
    data = b"conditional"
    etag = boto.s3.put_object(Bucket=BUCKET, Key=key, Body=data)["ETag"]
    assert etag == md5_etag(data)
    assert boto.s3.get_object(Bucket=BUCKET, Key=key, IfMatch=etag)["Body"].read() == data
    f = boto.failure("get_object", Bucket=BUCKET, Key=key, IfNoneMatch=etag)
    assert (f.status, f.code) == (304, "304"), f.message
    f = boto.failure("get_object", Bucket=BUCKET, Key=key, IfMatch='"0123456789abcdef0123456789abcdef"')
    assert (f.status, f.code) == (412, "PreconditionFailed"), f.message
    long_ago = datetime.datetime(2001, 1, 1, tzinfo=datetime.timezone.utc)
    f = boto.failure("get_object", Bucket=BUCKET, Key=key, IfUnmodifiedSince=long_ago)
    assert (f.status, f.code) == (412, "PreconditionFailed"), f.message
    assert boto.s3.get_object(Bucket=BUCKET, Key=key, IfModifiedSince=long_ago)["Body"].read() == data
    f = boto.failure("head_object", Bucket=BUCKET, Key=key, IfNoneMatch=etag)
    assert (f.status, f.code) == (304, "304"), f.message


@pytest.mark.matrix("boto3", "range get", "error codes")
def test_unsatisfiable_range_is_invalid_range(boto):
    key = unique_key("short.bin")
    boto.s3.put_object(Bucket=BUCKET, Key=key, Body=b"0123456789")
    f = boto.failure("get_object", Bucket=BUCKET, Key=key, Range="bytes=100-200")
    assert (f.status, f.code) == (416, "InvalidRange"), f.message
    r = boto.s3.get_object(Bucket=BUCKET, Key=key, Range="bytes=5-")
    assert r["Body"].read() == b"56789"
    assert r["ContentRange"] == "bytes 5-9/10"


@pytest.mark.matrix("boto3", "metadata")
def test_response_header_overrides(boto):
    key = unique_key("override.txt")
    boto.s3.put_object(Bucket=BUCKET, Key=key, Body=b"override me", ContentType="text/plain")
    r = boto.s3.get_object(
        Bucket=BUCKET, Key=key,
        ResponseContentType="application/x-overridden",
        ResponseContentDisposition='attachment; filename="o.txt"',
        ResponseCacheControl="no-store",
        ResponseContentLanguage="de-CH",
        ResponseContentEncoding="identity",
        ResponseExpires=datetime.datetime(2030, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc),
    )
    h = r["ResponseMetadata"]["HTTPHeaders"]
    assert r["Body"].read() == b"override me"
    assert h["content-type"] == "application/x-overridden"
    assert h["content-disposition"] == 'attachment; filename="o.txt"'
    assert h["cache-control"] == "no-store"
    assert h["content-language"] == "de-CH"
    assert h["content-encoding"] == "identity"
    assert h["expires"] == "Wed, 02 Jan 2030 03:04:05 GMT"


@pytest.mark.matrix("boto3", "checksums")
def test_checksum_returned_only_in_checksum_mode(server):
    """Without x-amz-checksum-mode: ENABLED, GetObject/HeadObject carry no checksum headers.
    (boto3's default response_checksum_validation=when_supported always asks; this client does not.)"""
    s3 = _client_without_response_validation(server)
    key = unique_key("modeless.bin")
    data = random_bytes(999)
    s3.put_object(Bucket=BUCKET, Key=key, Body=data, ChecksumAlgorithm="CRC32")
    got = s3.get_object(Bucket=BUCKET, Key=key)
    assert "x-amz-checksum-crc32" not in got["ResponseMetadata"]["HTTPHeaders"]
    assert got["Body"].read() == data
    head = s3.head_object(Bucket=BUCKET, Key=key)
    assert "x-amz-checksum-crc32" not in head["ResponseMetadata"]["HTTPHeaders"]
    got = s3.get_object(Bucket=BUCKET, Key=key, ChecksumMode="ENABLED")
    assert got["ChecksumCRC32"] == crc32_b64(data)
    got["Body"].read()


def _client_without_response_validation(server):
    return watch_boto3(boto3.session.Session(
        aws_access_key_id=server.access_key_id,
        aws_secret_access_key=server.secret_access_key,
        region_name=server.region,
    ).client(
        "s3", endpoint_url=server.s3_endpoint,
        verify=str(server.ca_bundle) if server.ca_bundle is not None else True,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"},
                      request_checksum_calculation="when_required",
                      response_checksum_validation="when_required",
                      retries={"total_max_attempts": 1, "mode": "standard"}),
    ))


@pytest.mark.matrix("boto3", "presigned URL")
def test_presigned_put_url(boto, server):
    key = unique_key("presigned-put.bin")
    data = random_bytes(40_000)
    url = boto.s3.generate_presigned_url("put_object", Params={"Bucket": BUCKET, "Key": key}, ExpiresIn=300)
    r = server.http().request("PUT", url, body=data, redirect=False)
    assert r.status == 200, (r.status, r.data[:500])
    assert r.headers["ETag"] == md5_etag(data)
    got = boto.s3.get_object(Bucket=BUCKET, Key=key)
    assert got["Body"].read() == data


@pytest.mark.matrix("boto3", "presigned URL", "error codes")
def test_presigned_url_with_tampered_signature_is_refused(boto, server):
    key = unique_key("tamper.bin")
    boto.s3.put_object(Bucket=BUCKET, Key=key, Body=b"secret bytes")
    url = boto.presigned_get_url(BUCKET, key)
    i = url.index("X-Amz-Signature=") + len("X-Amz-Signature=")
    flipped = "0" if url[i] != "0" else "1"
    r = server.http().request("GET", url[:i] + flipped + url[i + 1:], redirect=False)
    assert r.status == 403, (r.status, r.data[:500])
    assert b"<Code>SignatureDoesNotMatch</Code>" in r.data
    assert b"secret bytes" not in r.data


@pytest.mark.matrix("boto3", "error codes")
def test_keys_that_are_not_objects(boto):
    """``<branch>`` alone, an unknown branch, and a bucket-root key are not objects."""
    for key in (BRANCH, f"{BRANCH}/", f"no-such-branch-{uuid.uuid4().hex[:8]}/file.bin"):
        f = boto.failure("get_object", Bucket=BUCKET, Key=key)
        assert (f.status, f.code) == (404, "NoSuchKey"), (key, f.message)
