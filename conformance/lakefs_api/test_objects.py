"""statObject, listObjects, getObject, headObject, uploadObject, deleteObject, deleteObjects, copyObject."""

import hashlib
import json
import os
import time

import lakefs_sdk
import pytest
from lakefs_sdk.exceptions import ApiException, NotFoundException

from conftest import data_url, error_message, http, ns, unique_name, upload_bytes


def md5(b: bytes) -> str:
    return hashlib.md5(b).hexdigest()


def _obj(api_client):
    return lakefs_sdk.ObjectsApi(api_client)


# ---------------------------------------------------------------------- uploadObject


def test_upload_octet_stream_201(server, api_client, repo):
    data = os.urandom(1000) + b"tail"
    before = int(time.time())
    r = server.raw().request("POST", f"/repositories/{repo}/branches/main/objects",
                             query=[("path", "dir/blob.bin")], body=data,
                             headers={"Content-Type": "application/octet-stream",
                                      "X-Lakefs-Meta-Color": "blue", "x-lakefs-meta-owner": "me"})
    assert r.status == 201, r.data
    doc = json.loads(r.data)
    assert doc["path"] == "dir/blob.bin"
    assert doc["path_type"] == "object"
    assert doc["checksum"] == md5(data)
    assert doc["size_bytes"] == len(data)
    assert doc["content_type"] == "application/octet-stream"
    assert doc["metadata"] == {"color": "blue", "owner": "me"}
    assert before - 5 <= doc["mtime"] <= int(time.time()) + 5
    assert isinstance(doc["physical_address"], str) and doc["physical_address"].startswith(ns(repo) + "/")
    # round trip through the SDK
    st = _obj(api_client).stat_object(repo, "main", "dir/blob.bin")
    assert st.metadata == {"color": "blue", "owner": "me"}
    assert bytes(_obj(api_client).get_object(repo, "main", "dir/blob.bin")) == data


def test_upload_octet_stream_keeps_content_type(server, api_client, repo):
    upload_bytes(server, repo, "main", "doc.json", b'{"a": 1}', content_type="application/json")
    st = _obj(api_client).stat_object(repo, "main", "doc.json")
    assert st.content_type == "application/json"


def test_upload_sdk_multipart_form(api_client, repo, tmp_path):
    # the SDK sends multipart/form-data with a single part named "content" (from a file path)
    f = tmp_path / "table.csv"
    data = b"a,b\n1,2\n" * 100
    f.write_bytes(data)
    resp = _obj(api_client).upload_object_with_http_info(repo, "main", "tables/t.csv", content=str(f))
    assert resp.status_code == 201
    st = resp.data
    assert st.path == "tables/t.csv"
    assert st.path_type == "object"
    assert st.checksum == md5(data)
    assert st.size_bytes == len(data)
    assert st.content_type == "text/csv"
    assert bytes(_obj(api_client).get_object(repo, "main", "tables/t.csv")) == data


def test_upload_raw_multipart_form(server, api_client, repo):
    data = bytes(range(256)) * 10
    r = server.raw().request("POST", f"/repositories/{repo}/branches/main/objects",
                             query=[("path", "mp/raw.bin")],
                             fields={"content": ("raw.bin", data, "image/png")})
    assert r.status == 201, r.data
    doc = json.loads(r.data)
    assert doc["checksum"] == md5(data)
    assert doc["size_bytes"] == len(data)
    assert doc["content_type"] == "image/png"
    assert bytes(_obj(api_client).get_object(repo, "main", "mp/raw.bin")) == data


def test_upload_empty_object(server, api_client, repo):
    doc = upload_bytes(server, repo, "main", "empty", b"")
    assert doc["size_bytes"] == 0
    assert doc["checksum"] == md5(b"")
    assert bytes(_obj(api_client).get_object(repo, "main", "empty")) == b""


def test_upload_path_with_spaces_and_unicode(server, api_client, repo):
    path = "dir with space/ünïcødé+plus&amp=.txt"
    doc = upload_bytes(server, repo, "main", path, b"weird path")
    assert doc["path"] == path
    assert bytes(_obj(api_client).get_object(repo, "main", path)) == b"weird path"
    assert [o.path for o in _obj(api_client).list_objects(repo, "main").results] == [path]
    assert _obj(api_client).stat_object(repo, "main", path).path == path
    st = _obj(api_client).stat_object(repo, "main", path, presign=True)
    assert http("GET", st.physical_address).data == b"weird path"


def test_upload_overwrites(server, api_client, repo):
    upload_bytes(server, repo, "main", "o", b"old")
    upload_bytes(server, repo, "main", "o", b"newer")
    assert bytes(_obj(api_client).get_object(repo, "main", "o")) == b"newer"


def test_upload_if_none_match_star(server, api_client, repo):
    raw = server.raw()
    path = f"/repositories/{repo}/branches/main/objects"
    r = raw.request("POST", path, query=[("path", "once")], body=b"first",
                    headers={"Content-Type": "application/octet-stream", "If-None-Match": "*"})
    assert r.status == 201
    r = raw.request("POST", path, query=[("path", "once")], body=b"second",
                    headers={"Content-Type": "application/octet-stream", "If-None-Match": "*"})
    assert r.status == 412
    error_message(r)
    assert bytes(_obj(api_client).get_object(repo, "main", "once")) == b"first"


def test_upload_if_match_501(server, api_client, repo):
    upload_bytes(server, repo, "main", "im", b"v1")
    r = server.raw().request("POST", f"/repositories/{repo}/branches/main/objects", query=[("path", "im")],
                             body=b"v2", headers={"Content-Type": "application/octet-stream",
                                                  "If-Match": '"' + md5(b"v1") + '"'})
    assert r.status == 501
    error_message(r)
    assert bytes(_obj(api_client).get_object(repo, "main", "im")) == b"v1"


def test_upload_unknown_branch_404(server, repo):
    r = server.raw().request("POST", f"/repositories/{repo}/branches/nope/objects", query=[("path", "x")],
                             body=b"x", headers={"Content-Type": "application/octet-stream"})
    assert r.status == 404
    error_message(r)


def test_upload_unknown_repo_404(server):
    r = server.raw().request("POST", f"/repositories/{unique_name()}/branches/main/objects",
                             query=[("path", "x")], body=b"x",
                             headers={"Content-Type": "application/octet-stream"})
    assert r.status == 404
    error_message(r)


def test_upload_missing_path_400(server, repo):
    r = server.raw().request("POST", f"/repositories/{repo}/branches/main/objects", body=b"x",
                             headers={"Content-Type": "application/octet-stream"})
    assert r.status == 400
    error_message(r)


# ---------------------------------------------------------------------- statObject


def test_stat_object(server, api_client, repo):
    data = b"stat me please"
    upload_bytes(server, repo, "main", "s/obj.txt", data, content_type="text/plain",
                 headers={"x-lakefs-meta-k1": "v1"})
    resp = _obj(api_client).stat_object_with_http_info(repo, "main", "s/obj.txt")
    assert resp.status_code == 200
    st = resp.data
    assert st.path == "s/obj.txt"
    assert st.path_type == "object"
    assert st.checksum == md5(data)
    assert st.size_bytes == len(data)
    assert st.content_type == "text/plain"
    assert st.metadata == {"k1": "v1"}
    assert st.physical_address.startswith(ns(repo) + "/")
    assert st.physical_address_expiry is None
    assert isinstance(st.mtime, int)


def test_stat_object_user_metadata_false(server, api_client, repo):
    upload_bytes(server, repo, "main", "m", b"m", headers={"x-lakefs-meta-a": "b"})
    st = _obj(api_client).stat_object(repo, "main", "m", user_metadata=False)
    assert not st.metadata  # omitted (or empty) when user_metadata=false
    assert _obj(api_client).stat_object(repo, "main", "m", user_metadata=True).metadata == {"a": "b"}


def test_stat_object_presign(server, api_client, repo):
    data = b"0123456789abcdef"
    upload_bytes(server, repo, "main", "p/ps.bin", data)
    now = int(time.time())
    st = _obj(api_client).stat_object(repo, "main", "p/ps.bin", presign=True)
    assert st.physical_address.startswith(data_url(server)), st.physical_address
    for q in ("X-Amz-Algorithm=", "X-Amz-Credential=", "X-Amz-Date=", "X-Amz-Expires=",
              "X-Amz-SignedHeaders=", "X-Amz-Signature="):
        assert q in st.physical_address, q
    assert st.physical_address_expiry is not None
    assert now < st.physical_address_expiry <= now + 7 * 24 * 3600 + 5
    assert st.checksum == md5(data)
    r = http("GET", st.physical_address)
    assert r.status == 200
    assert r.data == data


def test_stat_object_unknown_path_404(api_client, repo):
    with pytest.raises(NotFoundException) as ei:
        _obj(api_client).stat_object(repo, "main", "does/not/exist")
    error_message(ei.value)


def test_stat_object_unknown_ref_404(api_client, repo):
    with pytest.raises(NotFoundException) as ei:
        _obj(api_client).stat_object(repo, "no-branch", "x")
    error_message(ei.value)


def test_stat_object_missing_path_param_400(raw, repo):
    r = raw.request("GET", f"/repositories/{repo}/refs/main/objects/stat")
    assert r.status == 400
    error_message(r)


# ---------------------------------------------------------------------- listObjects

LIST_PATHS = ["a/1.txt", "a/2.txt", "a/b/3.txt", "c.txt", "d/4.txt"]


@pytest.fixture
def listing_repo(server, repo):
    for p in LIST_PATHS:
        upload_bytes(server, repo, "main", p, p.encode())
    return repo


def test_list_objects_flat(api_client, listing_repo):
    resp = _obj(api_client).list_objects_with_http_info(listing_repo, "main")
    assert resp.status_code == 200
    res = resp.data
    assert [o.path for o in res.results] == LIST_PATHS
    assert all(o.path_type == "object" for o in res.results)
    assert [o.size_bytes for o in res.results] == [len(p) for p in LIST_PATHS]
    assert [o.checksum for o in res.results] == [md5(p.encode()) for p in LIST_PATHS]
    assert res.pagination.has_more is False
    assert res.pagination.next_offset == ""
    assert res.pagination.results == 5
    assert res.pagination.max_per_page == 1000


def test_list_objects_delimiter(api_client, listing_repo):
    res = _obj(api_client).list_objects(listing_repo, "main", delimiter="/")
    assert [(o.path, o.path_type) for o in res.results] == [
        ("a/", "common_prefix"), ("c.txt", "object"), ("d/", "common_prefix")]
    assert res.pagination.results == 3


def test_list_objects_prefix_and_delimiter(api_client, listing_repo):
    res = _obj(api_client).list_objects(listing_repo, "main", prefix="a/", delimiter="/")
    assert [(o.path, o.path_type) for o in res.results] == [
        ("a/1.txt", "object"), ("a/2.txt", "object"), ("a/b/", "common_prefix")]


def test_list_objects_prefix_no_delimiter(api_client, listing_repo):
    res = _obj(api_client).list_objects(listing_repo, "main", prefix="a/")
    assert [o.path for o in res.results] == ["a/1.txt", "a/2.txt", "a/b/3.txt"]


def test_list_objects_pagination(api_client, listing_repo):
    api = _obj(api_client)
    p1 = api.list_objects(listing_repo, "main", amount=2)
    assert [o.path for o in p1.results] == ["a/1.txt", "a/2.txt"]
    assert p1.pagination.has_more is True
    assert p1.pagination.next_offset == "a/2.txt"
    assert p1.pagination.results == 2
    p2 = api.list_objects(listing_repo, "main", amount=2, after=p1.pagination.next_offset)
    assert [o.path for o in p2.results] == ["a/b/3.txt", "c.txt"]
    assert p2.pagination.has_more is True
    assert p2.pagination.next_offset == "c.txt"
    p3 = api.list_objects(listing_repo, "main", amount=2, after=p2.pagination.next_offset)
    assert [o.path for o in p3.results] == ["d/4.txt"]
    assert p3.pagination.has_more is False


def test_list_objects_after(api_client, listing_repo):
    res = _obj(api_client).list_objects(listing_repo, "main", after="a/b/3.txt")
    assert [o.path for o in res.results] == ["c.txt", "d/4.txt"]
    past_end = _obj(api_client).list_objects(listing_repo, "main", after="zzz")
    assert past_end.results == []
    assert past_end.pagination.has_more is False


def test_list_objects_delimiter_pagination(api_client, listing_repo):
    """Paging one entry at a time through a delimited listing: after a common prefix the next
    page starts past everything under it."""
    api = _obj(api_client)
    seen, after = [], ""
    for _ in range(10):
        page = api.list_objects(listing_repo, "main", delimiter="/", amount=1, after=after)
        seen += [o.path for o in page.results]
        if not page.pagination.has_more:
            break
        assert page.pagination.next_offset == page.results[-1].path
        after = page.pagination.next_offset
    assert seen == ["a/", "c.txt", "d/"]


@pytest.mark.parametrize("amount", [0, -1])
def test_list_objects_nonpositive_amount_means_default(api_client, listing_repo, amount):
    res = _obj(api_client).list_objects(listing_repo, "main", amount=amount)
    assert [o.path for o in res.results] == LIST_PATHS
    assert res.pagination.has_more is False


def test_list_objects_amount_1000_ok(api_client, listing_repo):
    res = _obj(api_client).list_objects(listing_repo, "main", amount=1000)
    assert len(res.results) == 5


def test_list_objects_amount_over_1000_400(raw, listing_repo):
    # PaginationAmount: maximum 1000 in the OpenAPI spec; lakeFS validates requests against it
    r = raw.request("GET", f"/repositories/{listing_repo}/refs/main/objects/ls", query=[("amount", 1001)])
    assert r.status == 400
    error_message(r)


def test_list_objects_presign(server, api_client, listing_repo):
    res = _obj(api_client).list_objects(listing_repo, "main", delimiter="/", presign=True)
    obj = [o for o in res.results if o.path == "c.txt"][0]
    assert obj.physical_address.startswith(data_url(server))
    r = http("GET", obj.physical_address)
    assert r.status == 200
    assert r.data == b"c.txt"


def test_list_objects_empty_repo(api_client, repo):
    res = _obj(api_client).list_objects(repo, "main")
    assert res.results == []
    assert res.pagination.has_more is False
    assert res.pagination.results == 0


def test_list_objects_unknown_ref_404(api_client, repo):
    with pytest.raises(NotFoundException) as ei:
        _obj(api_client).list_objects(repo, "no-branch")
    error_message(ei.value)


def test_list_objects_unknown_repo_404(api_client):
    with pytest.raises(NotFoundException) as ei:
        _obj(api_client).list_objects(unique_name(), "main")
    error_message(ei.value)


# ---------------------------------------------------------------------- getObject


def test_get_object_200_headers(server, api_client, repo):
    data = b"get me" * 50
    upload_bytes(server, repo, "main", "g.txt", data, content_type="text/plain")
    resp = _obj(api_client).get_object_with_http_info(repo, "main", "g.txt")
    assert resp.status_code == 200
    assert bytes(resp.data) == data
    h = resp.headers
    assert h["Content-Length"] == str(len(data))
    assert h["ETag"] == f'"{md5(data)}"'
    assert h.get("Last-Modified")
    assert h["Content-Type"].startswith("text/plain")


def test_get_object_range_206(server, api_client, repo):
    data = bytes(range(100))
    upload_bytes(server, repo, "main", "r.bin", data)
    resp = _obj(api_client).get_object_with_http_info(repo, "main", "r.bin", range="bytes=10-19")
    assert resp.status_code == 206
    assert bytes(resp.data) == data[10:20]
    assert resp.headers["Content-Range"] == "bytes 10-19/100"
    assert resp.headers["Content-Length"] == "10"


def test_get_object_range_suffix_and_open(server, repo):
    data = bytes(range(50))
    upload_bytes(server, repo, "main", "r2.bin", data)
    raw = server.raw()
    r = raw.request("GET", f"/repositories/{repo}/refs/main/objects", query=[("path", "r2.bin")],
                    headers={"Range": "bytes=45-"})
    assert r.status == 206
    assert r.data == data[45:]
    assert r.headers["Content-Range"] == "bytes 45-49/50"
    r = raw.request("GET", f"/repositories/{repo}/refs/main/objects", query=[("path", "r2.bin")],
                    headers={"Range": "bytes=-5"})
    assert r.status == 206
    assert r.data == data[-5:]
    assert r.headers["Content-Range"] == "bytes 45-49/50"


def test_get_object_range_unsatisfiable_416(server, repo):
    upload_bytes(server, repo, "main", "small", b"0123456789")
    r = server.raw().request("GET", f"/repositories/{repo}/refs/main/objects", query=[("path", "small")],
                             headers={"Range": "bytes=100-200"})
    assert r.status == 416


def test_get_object_presign_302(server, repo):
    data = b"redirect me"
    upload_bytes(server, repo, "main", "pre/sign.txt", data)
    r = server.raw().request("GET", f"/repositories/{repo}/refs/main/objects",
                             query=[("path", "pre/sign.txt"), ("presign", True)])
    assert r.status == 302
    loc = r.headers["Location"]
    assert loc.startswith(data_url(server))
    assert "X-Amz-Signature=" in loc
    got = http("GET", loc)
    assert got.status == 200
    assert got.data == data


def test_get_object_if_none_match_304(server, repo):
    data = b"etag me"
    upload_bytes(server, repo, "main", "e", data)
    r = server.raw().request("GET", f"/repositories/{repo}/refs/main/objects", query=[("path", "e")],
                             headers={"If-None-Match": f'"{md5(data)}"'})
    assert r.status == 304
    assert r.data == b""
    r = server.raw().request("GET", f"/repositories/{repo}/refs/main/objects", query=[("path", "e")],
                             headers={"If-None-Match": f'"{md5(b"other")}"'})
    assert r.status == 200
    assert r.data == data


def test_get_object_unknown_path_404(api_client, repo):
    with pytest.raises(NotFoundException) as ei:
        _obj(api_client).get_object(repo, "main", "missing")
    error_message(ei.value)


def test_get_object_unknown_repo_404(api_client):
    with pytest.raises(NotFoundException) as ei:
        _obj(api_client).get_object(unique_name(), "main", "missing")
    error_message(ei.value)


def test_get_object_unknown_ref_404(api_client, repo):
    with pytest.raises(NotFoundException) as ei:
        _obj(api_client).get_object(repo, "nope", "x")
    error_message(ei.value)


# ---------------------------------------------------------------------- headObject


def test_head_object_200(server, api_client, repo):
    data = b"head data 123"
    upload_bytes(server, repo, "main", "h.txt", data, content_type="text/plain")
    resp = _obj(api_client).head_object_with_http_info(repo, "main", "h.txt")
    assert resp.status_code == 200
    h = resp.headers
    assert h["Content-Length"] == str(len(data))
    assert h["ETag"] == f'"{md5(data)}"'
    assert h.get("Last-Modified")
    assert resp.raw_data in (b"", "", None)


def test_head_object_range_206(server, repo):
    upload_bytes(server, repo, "main", "hr", b"0123456789")
    r = server.raw().request("HEAD", f"/repositories/{repo}/refs/main/objects", query=[("path", "hr")],
                             headers={"Range": "bytes=2-5"})
    assert r.status == 206
    assert r.headers["Content-Range"] == "bytes 2-5/10"
    assert r.headers["Content-Length"] == "4"


def test_head_object_unknown_404(api_client, repo):
    with pytest.raises(NotFoundException) as ei:
        _obj(api_client).head_object(repo, "main", "nope")
    assert ei.value.status == 404


# ---------------------------------------------------------------------- deleteObject


def test_delete_object_204(server, api_client, repo):
    upload_bytes(server, repo, "main", "del.txt", b"bye")
    resp = _obj(api_client).delete_object_with_http_info(repo, "main", "del.txt")
    assert resp.status_code == 204
    with pytest.raises(NotFoundException):
        _obj(api_client).stat_object(repo, "main", "del.txt")


def test_delete_object_absent_204(api_client, repo):
    resp = _obj(api_client).delete_object_with_http_info(repo, "main", "never-existed")
    assert resp.status_code == 204


def test_delete_object_unknown_branch_404(api_client, repo):
    with pytest.raises(NotFoundException) as ei:
        _obj(api_client).delete_object(repo, "nope", "x")
    error_message(ei.value)


def test_delete_object_unknown_repo_404(api_client):
    with pytest.raises(NotFoundException) as ei:
        _obj(api_client).delete_object(unique_name(), "main", "x")
    error_message(ei.value)


# ---------------------------------------------------------------------- deleteObjects


def test_delete_objects_200(server, api_client, repo):
    for p in ("x/1", "x/2", "x/3"):
        upload_bytes(server, repo, "main", p, b"z")
    resp = _obj(api_client).delete_objects_with_http_info(
        repo, "main", lakefs_sdk.PathList(paths=["x/1", "x/3", "x/not-there"]))
    assert resp.status_code == 200
    assert resp.data.errors == []
    assert [o.path for o in _obj(api_client).list_objects(repo, "main").results] == ["x/2"]


def test_delete_objects_exactly_1000_ok(server, api_client, repo):
    upload_bytes(server, repo, "main", "k/0999", b"z")
    paths = [f"k/{i:04d}" for i in range(1000)]
    resp = _obj(api_client).delete_objects_with_http_info(repo, "main", lakefs_sdk.PathList(paths=paths))
    assert resp.status_code == 200
    assert resp.data.errors == []
    with pytest.raises(NotFoundException):
        _obj(api_client).stat_object(repo, "main", "k/0999")


def test_delete_objects_over_1000_400(raw, api_client, server, repo):
    upload_bytes(server, repo, "main", "k/0000", b"z")
    r = raw.request("POST", f"/repositories/{repo}/branches/main/objects/delete",
                    json_body={"paths": [f"k/{i:04d}" for i in range(1001)]})
    assert r.status == 400
    error_message(r)
    # nothing was deleted
    assert _obj(api_client).stat_object(repo, "main", "k/0000").size_bytes == 1


def test_delete_objects_unknown_repository_or_branch_200(api_client, repo):
    # lakeFS v1.84.0 pkg/api/controller.go DeleteObjects: the catalog's not-found errors (repository
    # or branch) are only logged per path, and the answer is 200 with no error entries
    for r, b in [(repo, "nope"), ("no-such-repo-" + repo, "main")]:
        answer = _obj(api_client).delete_objects(r, b, lakefs_sdk.PathList(paths=["a", "b"]))
        assert answer.errors == [], (r, b, answer)


def test_delete_objects_missing_paths_400(raw, repo):
    r = raw.request("POST", f"/repositories/{repo}/branches/main/objects/delete", json_body={})
    assert r.status == 400
    error_message(r)


# ---------------------------------------------------------------------- copyObject


def test_copy_object_201(server, api_client, repo):
    data = b"copy source data"
    src = upload_bytes(server, repo, "main", "src/file.txt", data, content_type="text/plain",
                       headers={"x-lakefs-meta-origin": "src"})
    resp = _obj(api_client).copy_object_with_http_info(
        repo, "main", "dst/file.txt", lakefs_sdk.ObjectCopyCreation(src_path="src/file.txt"))
    assert resp.status_code == 201
    st = resp.data
    assert st.path == "dst/file.txt"
    assert st.path_type == "object"
    assert st.checksum == md5(data)
    assert st.size_bytes == len(data)
    assert st.content_type == "text/plain"
    assert st.metadata == {"origin": "src"}
    assert st.physical_address != src["physical_address"]
    assert bytes(_obj(api_client).get_object(repo, "main", "dst/file.txt")) == data
    # source untouched
    assert bytes(_obj(api_client).get_object(repo, "main", "src/file.txt")) == data


def test_copy_object_src_ref(server, api_client, repo):
    upload_bytes(server, repo, "main", "v.txt", b"old version")
    c1 = lakefs_sdk.CommitsApi(api_client).commit(repo, "main", lakefs_sdk.CommitCreation(message="v1"))
    upload_bytes(server, repo, "main", "v.txt", b"new version")
    lakefs_sdk.BranchesApi(api_client).create_branch(repo, lakefs_sdk.BranchCreation(name="other", source="main"))
    st = _obj(api_client).copy_object(repo, "other", "restored.txt",
                                      lakefs_sdk.ObjectCopyCreation(src_path="v.txt", src_ref=c1.id))
    assert st.checksum == md5(b"old version")
    assert bytes(_obj(api_client).get_object(repo, "other", "restored.txt")) == b"old version"
    with pytest.raises(NotFoundException):
        _obj(api_client).stat_object(repo, "main", "restored.txt")


def test_copy_object_missing_source_404(api_client, repo):
    with pytest.raises(NotFoundException) as ei:
        _obj(api_client).copy_object(repo, "main", "dst", lakefs_sdk.ObjectCopyCreation(src_path="nope"))
    error_message(ei.value)


def test_copy_object_unknown_dest_branch_404(server, api_client, repo):
    upload_bytes(server, repo, "main", "s", b"s")
    with pytest.raises(NotFoundException) as ei:
        _obj(api_client).copy_object(repo, "nope", "dst",
                                     lakefs_sdk.ObjectCopyCreation(src_path="s", src_ref="main"))
    error_message(ei.value)


def test_copy_object_shallow_501(server, api_client, repo):
    upload_bytes(server, repo, "main", "s", b"s")
    with pytest.raises(ApiException) as ei:
        _obj(api_client).copy_object(repo, "main", "dst",
                                     lakefs_sdk.ObjectCopyCreation(src_path="s", shallow=True))
    assert ei.value.status == 501
    error_message(ei.value)


def test_copy_object_missing_src_path_400(raw, repo):
    r = raw.request("POST", f"/repositories/{repo}/branches/main/objects/copy",
                    query=[("dest_path", "d")], json_body={"src_ref": "main"})
    assert r.status == 400
    error_message(r)
