"""``aws s3 sync`` local tree → S3 prefix → another local tree (identical, byte for byte), a
second sync in each direction that transfers nothing, ``sync --delete``, and
``aws s3 rm --recursive`` of the prefix. Local files get an mtime an hour in the past so the
CLI's size-and-mtime comparison is deterministic (the S3 LastModified has second precision)."""

from __future__ import annotations

import hashlib
import time

import pytest

from harness import BRANCH, BUCKET, MiB, ObjCli, boto3_client, random_bytes

from .support import new_prefix, tree_digest, write_tree


def _tree() -> dict:
    files = {
        "empty.bin": b"",
        "one.bin": b"\x00",
        "top.txt": b"top level\n",
        "big/blob.bin": random_bytes(MiB + 7),
        "with space/file name.txt": b"spaces\n",
        "ünïcödé/ключ.txt": "unicode ✓\n".encode("utf-8"),
        "plus+dir/a+b.txt": b"plus\n",
    }
    for i in range(30):
        files[f"nested/level{i % 3}/sub{i % 2}/f{i:02d}.dat"] = random_bytes(100 + i * 37)
    return files


def _lines(out: str, verb: str) -> list:
    return sorted(line for line in out.splitlines() if line.startswith(verb + ": "))


@pytest.mark.matrix("AWS CLI", "put/get", "list", "delete")
def test_sync_round_trip_and_rm_recursive(cli: ObjCli, server, tmp_path):
    files = _tree()
    src, dst = tmp_path / "src", tmp_path / "dst"
    write_tree(src, files, mtime=time.time() - 3600)
    rel = new_prefix("sync")
    # branch-bucket form for sync (recursive listing of a repository bucket only sees branches)
    url = f"s3://{BUCKET}.{BRANCH}/{rel}"

    r = cli.s3("sync", str(src), url, "--no-progress")
    uploads = _lines(r.stdout, "upload")
    assert len(uploads) == len(files), r.stdout
    for name in files:
        assert any(line.endswith(f" to {url}{name}") for line in uploads), name

    # the objects are there, byte-exact, under main/<rel> of the repository bucket
    s3 = boto3_client(server, "when_required").s3
    listed = {o["Key"]: o["Size"] for p in s3.get_paginator("list_objects_v2").paginate(
        Bucket=BUCKET, Prefix=f"{BRANCH}/{rel}") for o in p.get("Contents", [])}
    assert listed == {f"{BRANCH}/{rel}{k}": len(v) for k, v in files.items()}

    r = cli.s3("sync", str(src), url, "--no-progress")
    assert r.stdout.strip() == "", f"second upload sync transferred something:\n{r.stdout}"

    r = cli.s3("sync", url, str(dst), "--no-progress")
    assert len(_lines(r.stdout, "download")) == len(files), r.stdout
    assert tree_digest(dst) == tree_digest(src)
    assert tree_digest(dst) == {k: hashlib.sha256(v).hexdigest() for k, v in files.items()}

    r = cli.s3("sync", url, str(dst), "--no-progress")
    assert r.stdout.strip() == "", f"second download sync transferred something:\n{r.stdout}"

    # a file removed locally is removed remotely by sync --delete
    (src / "top.txt").unlink()
    r = cli.s3("sync", "--delete", str(src), url, "--no-progress")
    assert r.stdout.strip().splitlines() == [f"delete: {url}top.txt"], r.stdout
    f = boto3_client(server, "when_supported").failure("head_object", Bucket=BUCKET, Key=f"{BRANCH}/{rel}top.txt")
    assert (f.status, f.code) == (404, "404")

    # rm --recursive through the repository-bucket form
    r = cli.s3("rm", "--recursive", f"s3://{BUCKET}/{BRANCH}/{rel}")
    deletes = _lines(r.stdout, "delete")
    assert deletes == sorted(f"delete: s3://{BUCKET}/{BRANCH}/{rel}{k}" for k in files if k != "top.txt"), r.stdout
    page = s3.list_objects_v2(Bucket=BUCKET, Prefix=f"{BRANCH}/{rel}")
    assert page["KeyCount"] == 0, page.get("Contents")
