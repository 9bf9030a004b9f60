"""Uploads and downloads of 0 B, 1 B, 1 MiB (every client, both schemes) and 64 MiB (boto3
put_object with one policy per scheme; the AWS CLI with its default 8MB multipart settings, i.e.
an 8-part multipart upload and ranged downloads), compared byte for byte through sha256. Every
object is written through one addressing form and read back through the other (``demo`` +
``main/<key>`` vs ``demo.main`` + ``<key>``)."""

from __future__ import annotations

import hashlib
import os

import pytest

from harness import BRANCH, BUCKET, MiB, ObjCli, boto3_client, md5_etag, random_bytes, sha256

from .support import new_prefix

BRANCH_BUCKET = f"{BUCKET}.{BRANCH}"
LIGHT_SIZES = [0, 1, MiB]


def _stream_sha256(body, chunk: int = MiB) -> tuple:
    h, n = hashlib.sha256(), 0
    for block in iter(lambda: body.read(chunk), b""):
        h.update(block)
        n += len(block)
    return h.hexdigest(), n


@pytest.mark.parametrize("size", LIGHT_SIZES, ids=["0B", "1B", "1MiB"])
@pytest.mark.matrix("boto3", "put/get")
def test_boto3_put_get_sizes(boto, size):
    data = random_bytes(size)
    rel = new_prefix() + f"obj-{size}.bin"
    put = boto.s3.put_object(Bucket=BUCKET, Key=f"{BRANCH}/{rel}", Body=data)
    assert put["ETag"] == md5_etag(data)
    got = boto.s3.get_object(Bucket=BRANCH_BUCKET, Key=rel)
    assert got["ContentLength"] == size
    assert got["ETag"] == md5_etag(data)
    assert _stream_sha256(got["Body"]) == (sha256(data), size)
    head = boto.s3.head_object(Bucket=BUCKET, Key=f"{BRANCH}/{rel}")
    assert head["ContentLength"] == size


@pytest.mark.matrix("AWS CLI", "put/get")
def test_cli_cp_sizes(cli: ObjCli, server, tmp_path):
    """`aws s3 cp` up from files (recursive) and from stdin, down to files (recursive) and to stdout."""
    prefix = new_prefix()
    s3 = boto3_client(server, "when_required").s3
    blobs = {size: random_bytes(size) for size in LIGHT_SIZES}

    # 0 B and 1 MiB from files into the repository bucket, 1 B from stdin into the branch bucket
    src = tmp_path / "up"
    src.mkdir()
    for size in (0, MiB):
        (src / f"obj-{size}.bin").write_bytes(blobs[size])
    r = cli.s3("cp", "--recursive", str(src), f"s3://{BUCKET}/{BRANCH}/{prefix}", "--no-progress")
    assert len(r.stdout.splitlines()) == 2, r.stdout
    rc, out, err = cli.s3_bytes("cp", "-", f"s3://{BRANCH_BUCKET}/{prefix}obj-1.bin", stdin=blobs[1])
    assert rc == 0, err

    for size, data in blobs.items():
        h = s3.head_object(Bucket=BUCKET, Key=f"{BRANCH}/{prefix}obj-{size}.bin")
        assert (h["ContentLength"], h["ETag"]) == (size, md5_etag(data)), size

    # all three to files through the branch bucket; 1 MiB to stdout through the repository bucket
    dst = tmp_path / "down"
    cli.s3("cp", "--recursive", f"s3://{BRANCH_BUCKET}/{prefix}", str(dst), "--no-progress")
    assert {p.name: sha256(p.read_bytes()) for p in dst.iterdir()} == {
        f"obj-{size}.bin": sha256(data) for size, data in blobs.items()}
    rc, out, err = cli.s3_bytes("cp", f"s3://{BUCKET}/{BRANCH}/{prefix}obj-{MiB}.bin", "-")
    assert rc == 0, err
    assert (len(out), sha256(out)) == (MiB, sha256(blobs[MiB]))


# --------------------------------------------------------------------------------------
# 64 MiB (one client per scheme)
# --------------------------------------------------------------------------------------

BIG = 64 * MiB


@pytest.fixture(scope="module")
def big_blob() -> bytes:
    return os.urandom(BIG)


@pytest.mark.parametrize("scheme,policy", [("http", "when_required"), ("https", "when_supported")])
@pytest.mark.matrix("boto3", "put/get")
def test_boto3_64mib_put_object_and_streaming_get(server_for, scheme, policy, big_blob):
    s3 = boto3_client(server_for(scheme), policy).s3
    rel = new_prefix() + "big.bin"
    put = s3.put_object(Bucket=BRANCH_BUCKET, Key=rel, Body=big_blob)
    assert put["ETag"] == md5_etag(big_blob)  # single PutObject: plain MD5 ETag
    got = s3.get_object(Bucket=BUCKET, Key=f"{BRANCH}/{rel}")
    assert got["ContentLength"] == BIG
    assert _stream_sha256(got["Body"]) == (sha256(big_blob), BIG)
    # the tail of it, ranged
    r = s3.get_object(Bucket=BRANCH_BUCKET, Key=rel, Range="bytes=-1000")
    assert r["Body"].read() == big_blob[-1000:]
    assert r["ContentRange"] == f"bytes {BIG - 1000}-{BIG - 1}/{BIG}"


@pytest.mark.parametrize("scheme", ["http", "https"])
@pytest.mark.matrix("AWS CLI", "multipart put")
def test_cli_64mib_cp_multipart(server_for, scheme, tmp_path, big_blob):
    server = server_for(scheme)
    cli = ObjCli(server, tmp_path / "aws-home")
    src = tmp_path / "big.bin"
    src.write_bytes(big_blob)
    prefix = new_prefix()
    url = f"s3://{BUCKET}/{BRANCH}/{prefix}big.bin"
    cli.s3("cp", str(src), url, "--no-progress")
    h = boto3_client(server, "when_required").s3.head_object(Bucket=BRANCH_BUCKET, Key=f"{prefix}big.bin")
    assert h["ContentLength"] == BIG
    # the CLI's default 8 MiB parts: 8 of them, ETag = md5 of the concatenated part MD5s, "-8"
    part_md5s = b"".join(hashlib.md5(big_blob[i:i + 8 * MiB]).digest() for i in range(0, BIG, 8 * MiB))
    assert h["ETag"] == f'"{hashlib.md5(part_md5s).hexdigest()}-8"', "not an 8-part upload (or wrong bytes)"
    if scheme == "http":
        rc, out, err = cli.s3_bytes("cp", f"s3://{BRANCH_BUCKET}/{prefix}big.bin", "-")
        assert rc == 0, err
        assert (len(out), sha256(out)) == (BIG, sha256(big_blob))
    else:
        dst = tmp_path / "big-down.bin"
        cli.s3("cp", f"s3://{BRANCH_BUCKET}/{prefix}big.bin", str(dst), "--no-progress")
        assert dst.stat().st_size == BIG
        assert sha256(dst.read_bytes()) == sha256(big_blob)
