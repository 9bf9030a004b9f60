"""s3cmd (PyPI 2.4.0) over HTTP and HTTPS: put/get byte-exact (a 12 MiB file goes up as a 3-part
multipart upload with 5 MB chunks), ``ls`` with delimiter (DIR lines) and ``ls -r`` without,
server-side ``cp``/``mv`` keeping user metadata, ``del`` and ``del -r`` (a DeleteObjects POST).

Not covered: ``s3cmd signurl`` (SigV2 URLs, accepted by lakegate only with --allow-sigv2).
"""

from __future__ import annotations

import pytest

from harness import BUCKET, md5_etag, random_bytes, sha256

from .support import BIG, S3cmd, head, list_keys, multipart_parts, new_prefix


@pytest.fixture
def s3cmd(server, tmp_path) -> S3cmd:
    return S3cmd(server, tmp_path / "home")


def url(key: str) -> str:
    return f"s3://{BUCKET}/{key}"


@pytest.mark.matrix("s3cmd", "put/get", "multipart put")
def test_put_get_small_and_multipart(s3cmd, server, tmp_path):
    prefix = new_prefix("s3cmd")
    small, big = random_bytes(1000), random_bytes(BIG)
    (tmp_path / "small.bin").write_bytes(small)
    (tmp_path / "big.bin").write_bytes(big)

    s3cmd("put", str(tmp_path / "small.bin"), url(f"{prefix}/small.bin"))
    s3cmd("put", str(tmp_path / "big.bin"), url(f"{prefix}/dir/big.bin"))

    assert head(server, f"{prefix}/small.bin")["ETag"] == md5_etag(small)
    h = head(server, f"{prefix}/dir/big.bin")
    assert h["ContentLength"] == BIG
    assert multipart_parts(h["ETag"]) == 3

    for name, data in (("small.bin", small), ("dir/big.bin", big)):
        dest = tmp_path / ("got-" + name.replace("/", "-"))
        s3cmd("get", "--force", url(f"{prefix}/{name}"), str(dest))
        assert sha256(dest.read_bytes()) == sha256(data), name

    info = s3cmd.info(url(f"{prefix}/dir/big.bin"))
    assert info["File size"] == str(BIG), info


@pytest.mark.matrix("s3cmd", "list", "list with delimiter")
def test_list_with_and_without_delimiter(s3cmd, tmp_path):
    prefix = new_prefix("s3cmd")
    names = ["a.txt", "b.txt", "sub/c.txt", "sub/deeper/d.txt", "z/e.txt"]
    for i, name in enumerate(names):
        src = tmp_path / f"f{i}"
        src.write_bytes(name.encode())
        s3cmd("put", str(src), url(f"{prefix}/{name}"))

    objects, dirs = s3cmd.ls(url(f"{prefix}/"))
    assert objects == [url(f"{prefix}/a.txt"), url(f"{prefix}/b.txt")]
    assert dirs == [url(f"{prefix}/sub/"), url(f"{prefix}/z/")]

    objects, dirs = s3cmd.ls(url(f"{prefix}/sub/"))
    assert objects == [url(f"{prefix}/sub/c.txt")] and dirs == [url(f"{prefix}/sub/deeper/")]

    objects, dirs = s3cmd.ls(url(f"{prefix}/"), recursive=True)
    assert objects == [url(f"{prefix}/{n}") for n in names] and dirs == []

    # a prefix that is not a directory: s3cmd asks for "<prefix>/s" with delimiter
    objects, dirs = s3cmd.ls(url(f"{prefix}/s"))
    assert objects == [] and dirs == [url(f"{prefix}/sub/")]


@pytest.mark.matrix("s3cmd", "copy", "metadata")
def test_copy_move_keep_metadata(s3cmd, server, tmp_path):
    prefix = new_prefix("s3cmd")
    small, big = random_bytes(3000), random_bytes(BIG)
    (tmp_path / "small.bin").write_bytes(small)
    (tmp_path / "big.bin").write_bytes(big)
    s3cmd("put", "--add-header=x-amz-meta-color:blue", "--mime-type=text/x-test", "--no-guess-mime-type",
          str(tmp_path / "small.bin"), url(f"{prefix}/src.bin"))
    s3cmd("put", str(tmp_path / "big.bin"), url(f"{prefix}/big.bin"))

    info = s3cmd.info(url(f"{prefix}/src.bin"))
    assert info.get("x-amz-meta-color") == "blue", info
    assert info.get("MIME type") == "text/x-test", info

    out = s3cmd("cp", url(f"{prefix}/src.bin"), url(f"{prefix}/copy.bin")).stdout
    assert "remote copy" in out, out
    h = head(server, f"{prefix}/copy.bin")
    assert h["Metadata"].get("color") == "blue", h
    assert h["ContentType"] == "text/x-test", h
    assert h["ETag"] == md5_etag(small)

    s3cmd("cp", url(f"{prefix}/big.bin"), url(f"{prefix}/big-copy.bin"))
    s3cmd("mv", url(f"{prefix}/copy.bin"), url(f"{prefix}/moved.bin"))
    assert sorted(list_keys(server, prefix + "/")) == sorted(
        f"{prefix}/{n}" for n in ("src.bin", "big.bin", "big-copy.bin", "moved.bin"))

    for name, data in (("moved.bin", small), ("big-copy.bin", big)):
        dest = tmp_path / f"got-{name}"
        s3cmd("get", "--force", url(f"{prefix}/{name}"), str(dest))
        assert sha256(dest.read_bytes()) == sha256(data), name
    assert s3cmd.info(url(f"{prefix}/moved.bin")).get("x-amz-meta-color") == "blue"


@pytest.mark.matrix("s3cmd", "delete", "bulk delete")
def test_delete_single_and_recursive(s3cmd, server, tmp_path):
    prefix = new_prefix("s3cmd")
    names = ["keep.txt", "one.txt", "many/a", "many/b", "many/c/d"]
    for i, name in enumerate(names):
        src = tmp_path / f"f{i}"
        src.write_bytes(name.encode())
        s3cmd("put", str(src), url(f"{prefix}/{name}"))

    out = s3cmd("del", url(f"{prefix}/one.txt")).stdout
    assert f"delete: '{url(prefix + '/one.txt')}'" in out, out
    assert sorted(list_keys(server, prefix + "/")) == sorted(f"{prefix}/{n}" for n in names if n != "one.txt")

    # --recursive: one DeleteObjects (POST ?delete) for the listed keys
    out = s3cmd("del", "--recursive", url(f"{prefix}/many/")).stdout
    for n in ("many/a", "many/b", "many/c/d"):
        assert f"delete: '{url(prefix + '/' + n)}'" in out, out
    assert list_keys(server, prefix + "/") == [f"{prefix}/keep.txt"]

    objects, dirs = s3cmd.ls(url(f"{prefix}/"), recursive=True)
    assert objects == [url(f"{prefix}/keep.txt")] and dirs == []

    # the deleted key is gone: HEAD answers 404, which s3cmd reports with a non-zero exit
    p = s3cmd("info", url(f"{prefix}/one.txt"), check=False)
    assert p.returncode != 0 and "404" in p.stderr, (p.returncode, p.stdout, p.stderr)
