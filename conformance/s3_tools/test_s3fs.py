"""s3fs / fsspec (PyPI s3fs 2026.9.0 on aiobotocore 3.10) over HTTP and HTTPS: write through a file
object with 5 MiB blocks (12 MiB → 3-part multipart upload) and ``pipe`` with user metadata,
``cat`` byte-exact, open/seek/read and ranged ``cat_file``, ``ls`` (delimiter) and ``find`` (flat
listing), server-side ``copy``, ``rm`` of one key, of a list (DeleteObjects) and recursive.
"""

from __future__ import annotations

import pytest

from harness import BUCKET, MiB, md5_etag, random_bytes, sha256

from .support import BIG, PART, head, multipart_parts, new_prefix, s3fs_filesystem


@pytest.fixture
def fs(server):
    return s3fs_filesystem(server)


def path(key: str) -> str:
    return f"{BUCKET}/{key}"


@pytest.mark.matrix("s3fs", "put/get", "multipart put")
def test_put_get_small_and_multipart(fs, server):
    prefix = new_prefix("s3fs")
    small, big = random_bytes(1000), random_bytes(BIG)
    with fs.open(path(f"{prefix}/dir/big.bin"), "wb") as f:  # buffered into 5 MiB parts
        for i in range(0, BIG, MiB):
            f.write(big[i:i + MiB])
    fs.pipe(path(f"{prefix}/small.bin"), small)

    info = fs.info(path(f"{prefix}/dir/big.bin"))
    assert info["size"] == BIG and info["type"] == "file", info
    assert multipart_parts(info["ETag"]) == 3
    assert fs.info(path(f"{prefix}/small.bin"))["ETag"] == md5_etag(small)
    assert head(server, f"{prefix}/dir/big.bin")["ETag"] == info["ETag"]

    assert sha256(fs.cat(path(f"{prefix}/small.bin"))) == sha256(small)
    assert sha256(fs.cat(path(f"{prefix}/dir/big.bin"))) == sha256(big)
    with fs.open(path(f"{prefix}/dir/big.bin"), "rb") as f:
        assert sha256(f.read()) == sha256(big)


@pytest.mark.matrix("s3fs", "range get")
def test_open_seek_read_ranges(fs):
    prefix = new_prefix("s3fs")
    big = random_bytes(BIG)
    fs.pipe(path(f"{prefix}/big.bin"), big, chunksize=PART)

    with fs.open(path(f"{prefix}/big.bin"), "rb", block_size=MiB, cache_type="bytes") as f:
        assert f.size == BIG
        f.seek(7 * MiB + 5)
        assert f.read(100) == big[7 * MiB + 5:7 * MiB + 105]
        assert f.tell() == 7 * MiB + 105
        f.seek(-50, 2)
        assert f.read() == big[-50:]
        assert f.read(10) == b""
        f.seek(PART - 3)  # across a part boundary
        assert f.read(6) == big[PART - 3:PART + 3]
        f.seek(10, 1)
        assert f.read(1) == big[PART + 13:PART + 14]
    assert fs.cat_file(path(f"{prefix}/big.bin"), start=10, end=20) == big[10:20]
    assert fs.cat_file(path(f"{prefix}/big.bin"), start=-100) == big[-100:]
    assert fs.read_block(path(f"{prefix}/big.bin"), 3 * MiB, 2 * MiB + 7) == big[3 * MiB:5 * MiB + 7]
    assert fs.head(path(f"{prefix}/big.bin"), 64) == big[:64]
    assert fs.tail(path(f"{prefix}/big.bin"), 64) == big[-64:]
    # several ranges at once (concurrent ranged GETs)
    got = fs.cat_ranges([path(f"{prefix}/big.bin")] * 3, [0, PART, BIG - 1], [1, PART + 2, BIG])
    assert got == [big[:1], big[PART:PART + 2], big[-1:]]


@pytest.mark.matrix("s3fs", "metadata", "multipart put")
def test_user_metadata(fs, server):
    prefix = new_prefix("s3fs")
    fs.pipe(path(f"{prefix}/m.bin"), b"meta", Metadata={"color": "blue", "shape": "round"}, ContentType="text/x-test")
    assert fs.metadata(path(f"{prefix}/m.bin")) == {"color": "blue", "shape": "round"}
    assert fs.info(path(f"{prefix}/m.bin"))["ContentType"] == "text/x-test"
    # on a multipart upload the metadata goes with CreateMultipartUpload
    big = random_bytes(BIG)
    with fs.open(path(f"{prefix}/w.bin"), "wb", Metadata={"color": "green"}) as f:
        for i in range(0, BIG, MiB):  # s3fs sends a part each time its buffer passes 5 MiB
            f.write(big[i:i + MiB])
    h = head(server, f"{prefix}/w.bin")
    assert h["Metadata"] == {"color": "green"} and multipart_parts(h["ETag"]) == 3, h
    assert sha256(fs.cat(path(f"{prefix}/w.bin"))) == sha256(big)


@pytest.mark.matrix("s3fs", "list", "list with delimiter")
def test_list_with_and_without_delimiter(fs):
    prefix = new_prefix("s3fs")
    names = ["a.txt", "b.txt", "sub/c.txt", "sub/deeper/d.txt", "z/e.txt"]
    fs.pipe({path(f"{prefix}/{n}"): n.encode() for n in names})

    base = path(prefix)
    assert fs.ls(base, detail=False) == [f"{base}/a.txt", f"{base}/b.txt", f"{base}/sub", f"{base}/z"]
    detail = {e["name"]: (e["type"], e["size"]) for e in fs.ls(base, detail=True)}
    assert detail == {f"{base}/a.txt": ("file", 5), f"{base}/b.txt": ("file", 5),
                      f"{base}/sub": ("directory", 0), f"{base}/z": ("directory", 0)}
    assert fs.ls(f"{base}/sub", detail=False) == [f"{base}/sub/c.txt", f"{base}/sub/deeper"]
    assert fs.find(base) == [f"{base}/{n}" for n in names]
    assert fs.find(base, withdirs=True) == sorted([base] + [f"{base}/{n}" for n in names] + [
        f"{base}/sub", f"{base}/sub/deeper", f"{base}/z"])
    assert fs.glob(f"{base}/*/*.txt") == [f"{base}/sub/c.txt", f"{base}/z/e.txt"]
    assert fs.isdir(f"{base}/sub") and not fs.isdir(f"{base}/a.txt")
    assert fs.exists(f"{base}/sub/deeper/d.txt") and not fs.exists(f"{base}/nope.txt")
    assert fs.du(base) == sum(len(n) for n in names)


@pytest.mark.matrix("s3fs", "copy", "metadata")
def test_copy(fs, server):
    prefix = new_prefix("s3fs")
    small, big = random_bytes(3000), random_bytes(BIG)
    fs.pipe(path(f"{prefix}/src.bin"), small, Metadata={"color": "blue"})
    fs.pipe(path(f"{prefix}/big.bin"), big, chunksize=PART)

    fs.copy(path(f"{prefix}/src.bin"), path(f"{prefix}/copy.bin"))  # CopyObject
    fs.copy(path(f"{prefix}/big.bin"), path(f"{prefix}/big-copy.bin"))
    assert fs.metadata(path(f"{prefix}/copy.bin")) == {"color": "blue"}
    assert sha256(fs.cat(path(f"{prefix}/copy.bin"))) == sha256(small)
    assert sha256(fs.cat(path(f"{prefix}/big-copy.bin"))) == sha256(big)

    # a directory copy: one CopyObject per key
    fs.pipe({path(f"{prefix}/tree/{n}"): n.encode() for n in ("x", "y/z")})
    fs.copy(path(f"{prefix}/tree"), path(f"{prefix}/tree2"), recursive=True)
    assert fs.find(path(f"{prefix}/tree2")) == [path(f"{prefix}/tree2/x"), path(f"{prefix}/tree2/y/z")]
    assert fs.cat(path(f"{prefix}/tree2/y/z")) == b"y/z"

    fs.mv(path(f"{prefix}/copy.bin"), path(f"{prefix}/moved.bin"))
    assert not fs.exists(path(f"{prefix}/copy.bin"))
    assert head(server, f"{prefix}/moved.bin")["Metadata"] == {"color": "blue"}


@pytest.mark.matrix("s3fs", "delete", "bulk delete")
def test_delete_single_bulk_and_recursive(fs):
    prefix = new_prefix("s3fs")
    names = ["keep.txt", "one.txt", "two.txt", "three.txt", "many/a", "many/b", "many/c/d"]
    fs.pipe({path(f"{prefix}/{n}"): n.encode() for n in names})
    base = path(prefix)

    fs.rm_file(f"{base}/one.txt")                               # DeleteObject
    fs.rm([f"{base}/two.txt", f"{base}/three.txt"])              # DeleteObjects
    assert fs.find(base) == [f"{base}/keep.txt", f"{base}/many/a", f"{base}/many/b", f"{base}/many/c/d"]
    fs.rm(f"{base}/many", recursive=True)                        # list, then DeleteObjects
    assert fs.find(base) == [f"{base}/keep.txt"]
    with pytest.raises(FileNotFoundError):
        fs.cat(f"{base}/one.txt")
