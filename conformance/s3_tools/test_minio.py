"""minio-py (PyPI 7.2.20, urllib3) over HTTP and HTTPS: put_object/get_object byte-exact (12 MiB with
part_size 5 MiB is a 3-part multipart upload; minio reports the ``-3`` ETag itself), ranged gets,
stat_object with user metadata, list_objects v2 and v1 with and without delimiter, copy_object
(COPY and REPLACE metadata directives), remove_object and remove_objects (DeleteObjects), and
compose_object (multipart UploadPartCopy with ``x-amz-copy-source-if-match``).
"""

from __future__ import annotations

import io

import pytest

from harness import BUCKET, md5_etag, random_bytes, sha256

from .support import BIG, PART, head, list_keys, minio_client, multipart_parts, new_prefix


@pytest.fixture
def mc(server):
    return minio_client(server)


def get_bytes(mc, key: str, **kw) -> bytes:
    resp = mc.get_object(BUCKET, key, **kw)
    try:
        return resp.read()
    finally:
        resp.close()
        resp.release_conn()


def put(mc, key: str, data: bytes, **kw):
    return mc.put_object(BUCKET, key, io.BytesIO(data), len(data), **kw)


@pytest.mark.matrix("minio-py", "put/get", "multipart put", "range get")
def test_put_get_small_and_multipart(mc, server):
    prefix = new_prefix("minio")
    small, big = random_bytes(1000), random_bytes(BIG)
    r = put(mc, f"{prefix}/small.bin", small)
    assert f'"{r.etag}"' == md5_etag(small)
    r = put(mc, f"{prefix}/dir/big.bin", big, part_size=PART)
    assert multipart_parts(r.etag) == 3
    # unknown length (-1): minio streams parts of part_size until the reader is exhausted
    r = mc.put_object(BUCKET, f"{prefix}/dir/stream.bin", io.BytesIO(big), -1, part_size=PART)
    assert multipart_parts(r.etag) == 3

    st = mc.stat_object(BUCKET, f"{prefix}/dir/big.bin")
    assert st.size == BIG and multipart_parts(st.etag) == 3
    assert head(server, f"{prefix}/dir/big.bin")["ETag"] == f'"{st.etag}"'

    assert sha256(get_bytes(mc, f"{prefix}/small.bin")) == sha256(small)
    assert sha256(get_bytes(mc, f"{prefix}/dir/big.bin")) == sha256(big)
    assert sha256(get_bytes(mc, f"{prefix}/dir/stream.bin")) == sha256(big)
    # ranges, including ones across the part boundaries
    assert get_bytes(mc, f"{prefix}/dir/big.bin", offset=PART - 10, length=20) == big[PART - 10:PART + 10]
    assert get_bytes(mc, f"{prefix}/dir/big.bin", offset=2 * PART + 1) == big[2 * PART + 1:]
    assert get_bytes(mc, f"{prefix}/small.bin", offset=0, length=1) == small[:1]


@pytest.mark.matrix("minio-py", "multipart put")
def test_fput_fget(mc, tmp_path):
    prefix = new_prefix("minio")
    big = random_bytes(BIG)
    (tmp_path / "big.bin").write_bytes(big)
    r = mc.fput_object(BUCKET, f"{prefix}/big.bin", str(tmp_path / "big.bin"), part_size=PART)
    assert multipart_parts(r.etag) == 3
    mc.fget_object(BUCKET, f"{prefix}/big.bin", str(tmp_path / "got.bin"))
    assert sha256((tmp_path / "got.bin").read_bytes()) == sha256(big)


@pytest.mark.matrix("minio-py", "metadata")
def test_user_metadata(mc, server):
    prefix = new_prefix("minio")
    data = random_bytes(100)
    put(mc, f"{prefix}/m.bin", data, content_type="text/x-test",
        metadata={"color": "blue", "x-amz-meta-Flavor": "mint", "Cache-Control": "no-cache"})
    st = mc.stat_object(BUCKET, f"{prefix}/m.bin")
    assert st.content_type == "text/x-test"
    assert st.metadata.get("x-amz-meta-color") == "blue", dict(st.metadata)
    assert st.metadata.get("x-amz-meta-flavor") == "mint", dict(st.metadata)
    assert st.metadata.get("Cache-Control") == "no-cache", dict(st.metadata)
    assert head(server, f"{prefix}/m.bin")["Metadata"] == {"color": "blue", "flavor": "mint"}


@pytest.mark.matrix("minio-py", "list", "list with delimiter")
def test_list_with_and_without_delimiter(mc):
    prefix = new_prefix("minio")
    names = ["a.txt", "b.txt", "sub/c.txt", "sub/deeper/d.txt", "z/e.txt"]
    for name in names:
        put(mc, f"{prefix}/{name}", name.encode())
    for v1 in (False, True):
        shallow = [(o.object_name, o.is_dir) for o in mc.list_objects(BUCKET, prefix=f"{prefix}/", use_api_v1=v1)]
        assert shallow == [(f"{prefix}/a.txt", False), (f"{prefix}/b.txt", False),
                           (f"{prefix}/sub/", True), (f"{prefix}/z/", True)], (v1, shallow)
        deep = [o.object_name for o in mc.list_objects(BUCKET, prefix=f"{prefix}/", recursive=True, use_api_v1=v1)]
        assert deep == [f"{prefix}/{n}" for n in names], (v1, deep)
        sizes = {o.object_name: o.size for o in mc.list_objects(BUCKET, prefix=f"{prefix}/sub/", recursive=True,
                                                                    use_api_v1=v1)}
        assert sizes == {f"{prefix}/sub/c.txt": 9, f"{prefix}/sub/deeper/d.txt": 16}
        # prefix that ends inside a name, with delimiter
        partial = [(o.object_name, o.is_dir) for o in mc.list_objects(BUCKET, prefix=f"{prefix}/s", use_api_v1=v1)]
        assert partial == [(f"{prefix}/sub/", True)], (v1, partial)
    # start_after (v2)
    after = [o.object_name for o in mc.list_objects(BUCKET, prefix=f"{prefix}/", recursive=True,
                                                     start_after=f"{prefix}/sub/c.txt")]
    assert after == [f"{prefix}/sub/deeper/d.txt", f"{prefix}/z/e.txt"]


@pytest.mark.matrix("minio-py", "copy", "metadata")
def test_copy_object(mc, server):
    from minio.commonconfig import REPLACE, CopySource

    prefix = new_prefix("minio")
    small, big = random_bytes(2000), random_bytes(BIG)
    put(mc, f"{prefix}/src.bin", small, metadata={"color": "blue"}, content_type="text/x-test")
    put(mc, f"{prefix}/big.bin", big, part_size=PART)

    r = mc.copy_object(BUCKET, f"{prefix}/copy.bin", CopySource(BUCKET, f"{prefix}/src.bin"))
    assert f'"{r.etag}"' == md5_etag(small)
    st = mc.stat_object(BUCKET, f"{prefix}/copy.bin")
    assert st.metadata.get("x-amz-meta-color") == "blue" and st.content_type == "text/x-test", dict(st.metadata)
    assert sha256(get_bytes(mc, f"{prefix}/copy.bin")) == sha256(small)

    mc.copy_object(BUCKET, f"{prefix}/replaced.bin", CopySource(BUCKET, f"{prefix}/src.bin"),
                   metadata={"color": "red", "shape": "round"}, metadata_directive=REPLACE)
    assert head(server, f"{prefix}/replaced.bin")["Metadata"] == {"color": "red", "shape": "round"}

    mc.copy_object(BUCKET, f"{prefix}/big-copy.bin", CopySource(BUCKET, f"{prefix}/big.bin"))
    assert sha256(get_bytes(mc, f"{prefix}/big-copy.bin")) == sha256(big)


@pytest.mark.matrix("minio-py", "copy", "conditionals")
def test_compose_object(mc):
    """compose_object sends ``x-amz-copy-source-if-match`` with the ETag unquoted; S3 (and lakegate)
    compare ETags whether quoted or not."""
    from minio.commonconfig import ComposeSource

    prefix = new_prefix("minio")
    big, small = random_bytes(BIG), random_bytes(1000)
    put(mc, f"{prefix}/big.bin", big, part_size=PART)
    put(mc, f"{prefix}/small.bin", small)
    r = mc.compose_object(BUCKET, f"{prefix}/composed.bin", [
        ComposeSource(BUCKET, f"{prefix}/big.bin"), ComposeSource(BUCKET, f"{prefix}/small.bin")])
    assert multipart_parts(r.etag) >= 2
    assert sha256(get_bytes(mc, f"{prefix}/composed.bin")) == sha256(big + small)


@pytest.mark.matrix("minio-py", "delete", "bulk delete")
def test_remove_object_and_objects(mc, server):
    from minio.deleteobjects import DeleteObject

    prefix = new_prefix("minio")
    names = ["keep.txt", "one.txt", "many/a", "many/b", "many/c/d"]
    for name in names:
        put(mc, f"{prefix}/{name}", name.encode())

    mc.remove_object(BUCKET, f"{prefix}/one.txt")
    assert sorted(list_keys(server, prefix + "/")) == sorted(f"{prefix}/{n}" for n in names if n != "one.txt")
    # removing a missing key is not an error (DeleteObject answers 204)
    mc.remove_object(BUCKET, f"{prefix}/one.txt")

    errors = list(mc.remove_objects(BUCKET, [DeleteObject(f"{prefix}/{n}") for n in ("many/a", "many/b", "many/c/d")]))
    assert errors == []
    assert list_keys(server, prefix + "/") == [f"{prefix}/keep.txt"]

    from minio.error import S3Error
    with pytest.raises(S3Error) as e:
        mc.stat_object(BUCKET, f"{prefix}/many/a")
    assert e.value.code in ("NoSuchKey", "ResourceNotFound"), e.value
