"""statObject, listObjects, getObject, headObject, uploadObject, deleteObject, deleteObjects, copyObject."""

import hashlib
import json
import os
import time

import lakefs_sdk
import pytest
from lakefs_sdk.exceptions import ApiException, NotFoundException

from harness import data_url, ns

from .support import Raw, error_message, http, unique_name, upload_bytes


def md5(b: bytes) -> str:
    return hashlib.md5(b).hexdigest()


def _obj(api_client):
    return lakefs_sdk.ObjectsApi(api_client)


# ---------------------------------------------------------------------- uploadObject


@pytest.mark.ledger("uploadObject")
def test_upload_octet_stream_201(server, api_client, repo):
    data = os.urandom(1000) + b"tail"
    before = int(time.time())
    r = Raw(server).request("POST", f"/repositories/{repo}/branches/main/objects",
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


@pytest.mark.ledger("uploadObject")
def test_upload_octet_stream_keeps_content_type(server, api_client, repo):
    upload_bytes(server, repo, "main", "doc.json", b'{"a": 1}', content_type="application/json")
    st = _obj(api_client).stat_object(repo, "main", "doc.json")
    assert st.content_type == "application/json"


@pytest.mark.ledger("uploadObject")
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


@pytest.mark.ledger("uploadObject")
def test_upload_raw_multipart_form(server, api_client, repo):
    data = bytes(range(256)) * 10
    r = Raw(server).request("POST", f"/repositories/{repo}/branches/main/objects",
                             query=[("path", "mp/raw.bin")],
                             fields={"content": ("raw.bin", data, "image/png")})
    assert r.status == 201, r.data
    doc = json.loads(r.data)
    assert doc["checksum"] == md5(data)
    assert doc["size_bytes"] == len(data)
    assert doc["content_type"] == "image/png"
    assert bytes(_obj(api_client).get_object(repo, "main", "mp/raw.bin")) == data


@pytest.mark.ledger("uploadObject")
def test_upload_empty_object(server, api_client, repo):
    doc = upload_bytes(server, repo, "main", "empty", b"")
    assert doc["size_bytes"] == 0
    assert doc["checksum"] == md5(b"")
    assert bytes(_obj(api_client).get_object(repo, "main", "empty")) == b""


@pytest.mark.ledger("uploadObject")
def test_upload_path_with_spaces_and_unicode(server, api_client, repo):
    path = "dir with space/ünïcødé+plus&amp=.txt"
    doc = upload_bytes(server, repo, "main", path, b"weird path")
    assert doc["path"] == path
    assert bytes(_obj(api_client).get_object(repo, "main", path)) == b"weird path"
    assert [o.path for o in _obj(api_client).list_objects(repo, "main").results] == [path]
    assert _obj(api_client).stat_object(repo, "main", path).path == path
    st = _obj(api_client).stat_object(repo, "main", path, presign=True)
    assert http("GET", st.physical_address).data == b"weird path"


@pytest.mark.ledger("uploadObject")
def test_upload_overwrites(server, api_client, repo):
    upload_bytes(server, repo, "main", "o", b"old")
    upload_bytes(server, repo, "main", "o", b"newer")
    assert bytes(_obj(api_client).get_object(repo, "main", "o")) == b"newer"


@pytest.mark.ledger("uploadObject")
def test_upload_if_none_match_star(server, api_client, repo):
    raw = Raw(server)
    path = f"/repositories/{repo}/branches/main/objects"
    r = raw.request("POST", path, query=[("path", "once")], body=b"first",
                    headers={"Content-Type": "application/octet-stream", "If-None-Match": "*"})
    assert r.status == 201
    r = raw.request("POST", path, query=[("path", "once")], body=b"second",
                    headers={"Content-Type": "application/octet-stream", "If-None-Match": "*"})
    assert r.status == 412
    error_message(r)
    assert bytes(_obj(api_client).get_object(repo, "main", "once")) == b"first"


@pytest.mark.ledger("uploadObject")
def test_upload_if_match_501(server, api_client, repo):
    upload_bytes(server, repo, "main", "im", b"v1")
    r = Raw(server).request("POST", f"/repositories/{repo}/branches/main/objects", query=[("path", "im")],
                             body=b"v2", headers={"Content-Type": "application/octet-stream",
                                                  "If-Match": '"' + md5(b"v1") + '"'})
    assert r.status == 501
    error_message(r)
    assert bytes(_obj(api_client).get_object(repo, "main", "im")) == b"v1"


@pytest.mark.ledger("uploadObject")
def test_upload_unknown_branch_404(server, repo):
    r = Raw(server).request("POST", f"/repositories/{repo}/branches/nope/objects", query=[("path", "x")],
                             body=b"x", headers={"Content-Type": "application/octet-stream"})
    assert r.status == 404
    error_message(r)


@pytest.mark.ledger("uploadObject")
def test_upload_unknown_repo_404(server):
    r = Raw(server).request("POST", f"/repositories/{unique_name()}/branches/main/objects",
                             query=[("path", "x")], body=b"x",
                             headers={"Content-Type": "application/octet-stream"})
    assert r.status == 404
    error_message(r)


@pytest.mark.ledger("uploadObject")
def test_upload_missing_path_400(server, repo):
    r = Raw(server).request("POST", f"/repositories/{repo}/branches/main/objects", body=b"x",
                             headers={"Content-Type": "application/octet-stream"})
    assert r.status == 400
    error_message(r)


# ---------------------------------------------------------------------- statObject


@pytest.mark.ledger("statObject")
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


@pytest.mark.ledger("statObject")
def test_stat_object_user_metadata_false(server, api_client, repo):
    upload_bytes(server, repo, "main", "m", b"m", headers={"x-lakefs-meta-a": "b"})
    st = _obj(api_client).stat_object(repo, "main", "m", user_metadata=False)
    assert not st.metadata  # omitted (or empty) when user_metadata=false
    assert _obj(api_client).stat_object(repo, "main", "m", user_metadata=True).metadata == {"a": "b"}


@pytest.mark.ledger("statObject")
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


@pytest.mark.ledger("statObject")
def test_stat_object_unknown_path_404(api_client, repo):
    with pytest.raises(NotFoundException) as ei:
        _obj(api_client).stat_object(repo, "main", "does/not/exist")
    error_message(ei.value)


@pytest.mark.ledger("statObject")
def test_stat_object_unknown_ref_404(api_client, repo):
    with pytest.raises(NotFoundException) as ei:
        _obj(api_client).stat_object(repo, "no-branch", "x")
    error_message(ei.value)


@pytest.mark.ledger("statObject")
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


@pytest.mark.ledger("listObjects")
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


@pytest.mark.ledger("listObjects")
def test_list_objects_delimiter(api_client, listing_repo):
    res = _obj(api_client).list_objects(listing_repo, "main", delimiter="/")
    assert [(o.path, o.path_type) for o in res.results] == [
        ("a/", "common_prefix"), ("c.txt", "object"), ("d/", "common_prefix")]
    assert res.pagination.results == 3


@pytest.mark.ledger("listObjects")
def test_list_objects_prefix_and_delimiter(api_client, listing_repo):
    res = _obj(api_client).list_objects(listing_repo, "main", prefix="a/", delimiter="/")
    assert [(o.path, o.path_type) for o in res.results] == [
        ("a/1.txt", "object"), ("a/2.txt", "object"), ("a/b/", "common_prefix")]


@pytest.mark.ledger("listObjects")
def test_list_objects_prefix_no_delimiter(api_client, listing_repo):
    res = _obj(api_client).list_objects(listing_repo, "main", prefix="a/")
    assert [o.path for o in res.results] == ["a/1.txt", "a/2.txt", "a/b/3.txt"]


@pytest.mark.ledger("listObjects")
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


@pytest.mark.ledger("listObjects")
def test_list_objects_after(api_client, listing_repo):
    res = _obj(api_client).list_objects(listing_repo, "main", after="a/b/3.txt")
    assert [o.path for o in res.results] == ["c.txt", "d/4.txt"]
    past_end = _obj(api_client).list_objects(listing_repo, "main", after="zzz")
    assert past_end.results == []
    assert past_end.pagination.has_more is False


@pytest.mark.ledger("listObjects")
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


@pytest.mark.ledger("listObjects")
@pytest.mark.parametrize("amount", [0, -1])
def test_list_objects_nonpositive_amount_means_default(api_client, listing_repo, amount):
    res = _obj(api_client).list_objects(listing_repo, "main", amount=amount)
    assert [o.path for o in res.results] == LIST_PATHS
    assert res.pagination.has_more is False


@pytest.mark.ledger("listObjects")
def test_list_objects_amount_1000_ok(api_client, listing_repo):
    res = _obj(api_client).list_objects(listing_repo, "main", amount=1000)
    assert len(res.results) == 5


@pytest.mark.ledger("listObjects")
def test_list_objects_amount_over_1000_400(raw, listing_repo):
    # PaginationAmount: maximum 1000 in the OpenAPI spec; lakeFS validates requests against it
    r = raw.request("GET", f"/repositories/{listing_repo}/refs/main/objects/ls", query=[("amount", 1001)])
    assert r.status == 400
    error_message(r)


@pytest.mark.ledger("listObjects")
def test_list_objects_presign(server, api_client, listing_repo):
    res = _obj(api_client).list_objects(listing_repo, "main", delimiter="/", presign=True)
    obj = [o for o in res.results if o.path == "c.txt"][0]
    assert obj.physical_address.startswith(data_url(server))
    r = http("GET", obj.physical_address)
    assert r.status == 200
    assert r.data == b"c.txt"


@pytest.mark.ledger("listObjects")
def test_list_objects_empty_repo(api_client, repo):
    res = _obj(api_client).list_objects(repo, "main")
    assert res.results == []
    assert res.pagination.has_more is False
    assert res.pagination.results == 0


@pytest.mark.ledger("listObjects")
def test_list_objects_unknown_ref_404(api_client, repo):
    with pytest.raises(NotFoundException) as ei:
        _obj(api_client).list_objects(repo, "no-branch")
    error_message(ei.value)


@pytest.mark.ledger("listObjects")
def test_list_objects_unknown_repo_404(api_client):
    with pytest.raises(NotFoundException) as ei:
        _obj(api_client).list_objects(unique_name(), "main")
    error_message(ei.value)


# ---------------------------------------------------------------------- getObject


@pytest.mark.ledger("getObject")
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


@pytest.mark.ledger("getObject")
def test_get_object_range_206(server, api_client, repo):
    data = bytes(range(100))
    upload_bytes(server, repo, "main", "r.bin", data)
    resp = _obj(api_client).get_object_with_http_info(repo, "main", "r.bin", range="bytes=10-19")
    assert resp.status_code == 206
    assert bytes(resp.data) == data[10:20]
    assert resp.headers["Content-Range"] == "bytes 10-19/100"
    assert resp.headers["Content-Length"] == "10"


@pytest.mark.ledger("getObject")
def test_get_object_range_suffix_and_open(server, repo):
    data = bytes(range(50))
    upload_bytes(server, repo, "main", "r2.bin", data)
    raw = Raw(server)
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


@pytest.mark.ledger("getObject")
def test_get_object_range_unsatisfiable_416(server, repo):
    upload_bytes(server, repo, "main", "small", b"0123456789")
    r = Raw(server).request("GET", f"/repositories/{repo}/refs/main/objects", query=[("path", "small")],
                             headers={"Range": "bytes=100-200"})
    assert r.status == 416


@pytest.mark.ledger("getObject")
def test_get_object_presign_302(server, repo):
    data = b"redirect me"
    upload_bytes(server, repo, "main", "pre/sign.txt", data)
    r = Raw(server).request("GET", f"/repositories/{repo}/refs/main/objects",
                             query=[("path", "pre/sign.txt"), ("presign", True)])
    assert r.status == 302
    loc = r.headers["Location"]
    assert loc.startswith(data_url(server))
    assert "X-Amz-Signature=" in loc
    got = http("GET", loc)
    assert got.status == 200
    assert got.data == data


@pytest.mark.ledger("getObject")
def test_get_object_if_none_match_304(server, repo):
    data = b"etag me"
    upload_bytes(server, repo, "main", "e", data)
    r = Raw(server).request("GET", f"/repositories/{repo}/refs/main/objects", query=[("path", "e")],
                             headers={"If-None-Match": f'"{md5(data)}"'})
    assert r.status == 304
    assert r.data == b""
    r = Raw(server).request("GET", f"/repositories/{repo}/refs/main/objects", query=[("path", "e")],
                             headers={"If-None-Match": f'"{md5(b"other")}"'})
    assert r.status == 200
    assert r.data == data


@pytest.mark.ledger("getObject")
def test_get_object_unknown_path_404(api_client, repo):
    with pytest.raises(NotFoundException) as ei:
        _obj(api_client).get_object(repo, "main", "missing")
    error_message(ei.value)


@pytest.mark.ledger("getObject")
def test_get_object_unknown_repo_404(api_client):
    with pytest.raises(NotFoundException) as ei:
        _obj(api_client).get_object(unique_name(), "main", "missing")
    error_message(ei.value)


@pytest.mark.ledger("getObject")
def test_get_object_unknown_ref_404(api_client, repo):
    with pytest.raises(NotFoundException) as ei:
        _obj(api_client).get_object(repo, "nope", "x")
    error_message(ei.value)


# ---------------------------------------------------------------------- headObject


@pytest.mark.ledger("headObject")
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


@pytest.mark.ledger("headObject")
def test_head_object_range_206(server, repo):
    upload_bytes(server, repo, "main", "hr", b"0123456789")
    r = Raw(server).request("HEAD", f"/repositories/{repo}/refs/main/objects", query=[("path", "hr")],
                             headers={"Range": "bytes=2-5"})
    assert r.status == 206
    assert r.headers["Content-Range"] == "bytes 2-5/10"
    assert r.headers["Content-Length"] == "4"


@pytest.mark.ledger("headObject")
def test_head_object_unknown_404(api_client, repo):
    with pytest.raises(NotFoundException) as ei:
        _obj(api_client).head_object(repo, "main", "nope")
    assert ei.value.status == 404


# ---------------------------------------------------------------------- deleteObject


@pytest.mark.ledger("deleteObject")
def test_delete_object_204(server, api_client, repo):
    upload_bytes(server, repo, "main", "del.txt", b"bye")
    resp = _obj(api_client).delete_object_with_http_info(repo, "main", "del.txt")
    assert resp.status_code == 204
    with pytest.raises(NotFoundException):
        _obj(api_client).stat_object(repo, "main", "del.txt")


@pytest.mark.ledger("deleteObject")
def test_delete_object_absent_204(api_client, repo):
    resp = _obj(api_client).delete_object_with_http_info(repo, "main", "never-existed")
    assert resp.status_code == 204


@pytest.mark.ledger("deleteObject")
def test_delete_object_unknown_branch_404(api_client, repo):
    with pytest.raises(NotFoundException) as ei:
        _obj(api_client).delete_object(repo, "nope", "x")
    error_message(ei.value)


@pytest.mark.ledger("deleteObject")
def test_delete_object_unknown_repo_404(api_client):
    with pytest.raises(NotFoundException) as ei:
        _obj(api_client).delete_object(unique_name(), "main", "x")
    error_message(ei.value)


# ---------------------------------------------------------------------- deleteObjects


@pytest.mark.ledger("deleteObjects")
def test_delete_objects_200(server, api_client, repo):
    for p in ("x/1", "x/2", "x/3"):
        upload_bytes(server, repo, "main", p, b"z")
    resp = _obj(api_client).delete_objects_with_http_info(
        repo, "main", lakefs_sdk.PathList(paths=["x/1", "x/3", "x/not-there"]))
    assert resp.status_code == 200
    assert resp.data.errors == []
    assert [o.path for o in _obj(api_client).list_objects(repo, "main").results] == ["x/2"]


@pytest.mark.ledger("deleteObjects")
def test_delete_objects_exactly_1000_ok(server, api_client, repo):
    upload_bytes(server, repo, "main", "k/0999", b"z")
    paths = [f"k/{i:04d}" for i in range(1000)]
    resp = _obj(api_client).delete_objects_with_http_info(repo, "main", lakefs_sdk.PathList(paths=paths))
    assert resp.status_code == 200
    assert resp.data.errors == []
    with pytest.raises(NotFoundException):
        _obj(api_client).stat_object(repo, "main", "k/0999")


@pytest.mark.ledger("deleteObjects")
def test_delete_objects_over_1000_400(raw, api_client, server, repo):
    upload_bytes(server, repo, "main", "k/0000", b"z")
    r = raw.request("POST", f"/repositories/{repo}/branches/main/objects/delete",
                    json_body={"paths": [f"k/{i:04d}" for i in range(1001)]})
    assert r.status == 400
    error_message(r)
    # nothing was deleted
    assert _obj(api_client).stat_object(repo, "main", "k/0000").size_bytes == 1


@pytest.mark.ledger("deleteObjects")
def test_delete_objects_unknown_repository_or_branch_200(api_client, repo):
    # lakeFS v1.84.0 pkg/api/controller.go DeleteObjects: the catalog's not-found errors (repository
    # or branch) are only logged per path, and the answer is 200 with no error entries
    for r, b in [(repo, "nope"), ("no-such-repo-" + repo, "main")]:
        answer = _obj(api_client).delete_objects(r, b, lakefs_sdk.PathList(paths=["a", "b"]))
        assert answer.errors == [], (r, b, answer)


@pytest.mark.ledger("deleteObjects")
def test_delete_objects_missing_paths_400(raw, repo):
    r = raw.request("POST", f"/repositories/{repo}/branches/main/objects/delete", json_body={})
    assert r.status == 400
    error_message(r)


# ---------------------------------------------------------------------- copyObject


@pytest.mark.ledger("copyObject")
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


@pytest.mark.ledger("copyObject")
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


@pytest.mark.ledger("copyObject")
def test_copy_object_missing_source_404(api_client, repo):
    with pytest.raises(NotFoundException) as ei:
        _obj(api_client).copy_object(repo, "main", "dst", lakefs_sdk.ObjectCopyCreation(src_path="nope"))
    error_message(ei.value)


@pytest.mark.ledger("copyObject")
def test_copy_object_unknown_dest_branch_404(server, api_client, repo):
    upload_bytes(server, repo, "main", "s", b"s")
    with pytest.raises(NotFoundException) as ei:
        _obj(api_client).copy_object(repo, "nope", "dst",
                                     lakefs_sdk.ObjectCopyCreation(src_path="s", src_ref="main"))
    error_message(ei.value)


@pytest.mark.ledger("copyObject")
def test_copy_object_shallow_501(server, api_client, repo):
    upload_bytes(server, repo, "main", "s", b"s")
    with pytest.raises(ApiException) as ei:
        _obj(api_client).copy_object(repo, "main", "dst",
                                     lakefs_sdk.ObjectCopyCreation(src_path="s", shallow=True))
    assert ei.value.status == 501
    error_message(ei.value)


@pytest.mark.ledger("copyObject")
def test_copy_object_missing_src_path_400(raw, repo):
    r = raw.request("POST", f"/repositories/{repo}/branches/main/objects/copy",
                    query=[("dest_path", "d")], json_body={"src_ref": "main"})
    assert r.status == 400
    error_message(r)


# ---------------------------------------------------------------------- lakeFS's exact answers


def _get(server, repo, path, ref="main", method="GET", headers=None, **params):
    query = [("path", path)] + list(params.items())
    return Raw(server).request(method, f"/repositories/{repo}/refs/{ref}/objects", query=query, headers=headers)


@pytest.mark.ledger("getObject")
def test_get_object_headers_are_lakefs(server, repo):
    upload_bytes(server, repo, "main", "t.txt", b"0123456789", content_type="text/plain")
    upload_bytes(server, repo, "main", "b.bin", b"x")
    r = _get(server, repo, "t.txt")
    assert r.status == 200
    h = r.headers
    assert (h["ETag"], h["Content-Type"], h["Content-Length"]) == (f'"{md5(b"0123456789")}"', "text/plain", "10")
    assert (h["Cache-Control"], h["Expires"], h["X-Content-Type-Options"]) == ("no-store, must-revalidate", "0", "nosniff")
    assert (h["X-Frame-Options"], h["Content-Security-Policy"]) == ("SAMEORIGIN", "default-src 'none'")
    assert h["Content-Disposition"] == "inline"
    assert h["Last-Modified"].endswith(" GMT")
    assert "Accept-Ranges" not in h
    assert _get(server, repo, "b.bin").headers["Content-Disposition"] == "attachment"


@pytest.mark.ledger("getObject")
def test_get_object_ranges_follow_lakefs_parse_range(server, repo):
    upload_bytes(server, repo, "main", "r", b"0123456789")
    r = _get(server, repo, "r", headers={"Range": "bytes=-30"})
    assert (r.status, r.headers["Content-Range"], r.data) == (206, "bytes 0-9/10", b"0123456789")
    r = _get(server, repo, "r", headers={"Range": "bytes=8-100"})
    assert (r.status, r.headers["Content-Range"], r.data) == (206, "bytes 8-9/10", b"89")
    # past the end: 416 with the size; malformed, several ranges, other units: 416 without it
    r = _get(server, repo, "r", headers={"Range": "bytes=10-"})
    assert (r.status, error_message(r), r.headers["Content-Range"]) == (416, "Requested Range Not Satisfiable", "bytes */10")
    for bad in ["bytes=4-2", "bytes=0-1,3-4", "items=0-1", "bytes=x-1", "bytes=-", ""]:
        r = _get(server, repo, "r", headers={"Range": bad})
        assert (r.status, error_message(r)) == (416, "Requested Range Not Satisfiable"), bad
        assert "Content-Range" not in r.headers, bad


@pytest.mark.ledger("getObject")
def test_get_object_if_none_match_comes_before_presign(server, repo):
    upload_bytes(server, repo, "main", "e", b"etag")
    r = _get(server, repo, "e", headers={"If-None-Match": f'"{md5(b"etag")}"'}, presign="true")
    assert (r.status, r.data) == (304, b"")
    assert "ETag" not in r.headers and "Location" not in r.headers
    assert _get(server, repo, "e", presign="true").status == 302


@pytest.mark.ledger("getObject", "headObject")
def test_get_and_head_object_validate_ids_and_path(server, repo):
    for method in ("GET", "HEAD"):
        for r_name, ref, path, status, message in [
            ("Bad_Repo", "main", "p", 400, "argument repository: repository id: invalid value: validation error"),
            (repo, "main%20x", "p", 400, "argument ref: ref: invalid value: validation error"),
            (repo, "main", "p" * 1025, 400,
             "argument path: invalid value: validation error: 1025 is above maximum length (1024)"),
        ]:
            r = _get(server, r_name, path, ref=ref, method=method)
            assert r.status == status, (method, r_name, ref)
            if method == "GET":
                assert error_message(r) == message
            else:
                assert r.data == b""


@pytest.mark.ledger("headObject")
def test_head_object_headers_and_refused_range(server, repo):
    upload_bytes(server, repo, "main", "h", b"0123456789", content_type="text/plain")
    r = _get(server, repo, "h", method="HEAD")
    h = r.headers
    assert (r.status, h["Accept-Ranges"], h["Content-Length"], h["Content-Type"]) == (200, "bytes", "10", "text/plain")
    assert (h["Cache-Control"], h["Expires"]) == ("no-store, must-revalidate", "0")
    assert "Content-Disposition" not in h and "X-Frame-Options" not in h
    r = _get(server, repo, "h", method="HEAD", headers={"Range": "bytes=4-2"})
    assert (r.status, r.data, r.headers["ETag"]) == (416, b"", f'"{md5(b"0123456789")}"')
    r = _get(server, repo, "h", method="HEAD", headers={"Range": "bytes=10-"})
    assert (r.status, "Content-Range" in r.headers) == (416, False)


@pytest.mark.ledger("uploadObject")
def test_upload_object_checks_and_texts(server, api_client, repo):
    raw = Raw(server)
    path = f"/repositories/{repo}/branches/main/objects"
    octet = {"Content-Type": "application/octet-stream"}
    upload_bytes(server, repo, "main", "exists", b"x")
    for r_name, branch, p, headers, status, message in [
        ("Bad_Repo", "main", "x", {}, 400, "argument repository: repository id: invalid value: validation error"),
        (repo, "a.b", "x", {}, 400, "argument name: branch id: invalid value: validation error"),
        (repo, "nope", "x", {}, 404, "branch 'nope' not found"),
        (repo, "main", "exists", {"If-None-Match": "*"}, 412, "path already exists"),
        (repo, "main", "new", {"If-Match": '"abc"'}, 501, "Not Implemented"),
        (repo, "main", "new", {"If-None-Match": '"abc"'}, 501, "Not Implemented"),
        (repo, "main", "p" * 1025, {}, 400,
         "argument path: invalid value: validation error: 1025 is above maximum length (1024)"),
    ]:
        r = raw.request("POST", f"/repositories/{r_name}/branches/{branch}/objects", query=[("path", p)],
                        body=b"data", headers={**octet, **headers})
        assert (r.status, error_message(r)) == (status, message), (branch, p, headers)
    with pytest.raises(NotFoundException):
        _obj(api_client).stat_object(repo, "main", "new")


@pytest.mark.ledger("uploadObject")
def test_upload_object_form_and_metadata_headers(server, api_client, repo):
    raw = Raw(server)
    path = f"/repositories/{repo}/branches/main/objects"
    r = raw.request("POST", path, query=[("path", "f")], fields={"other": "x"})
    assert (r.status, error_message(r)) == (500, "multipart upload missing key 'content': http: no such file")
    # a `content` part without a type: the answer has the type lakeFS read (""), reads the default
    form = (b'--B\r\nContent-Disposition: form-data; name="content"; filename="f"\r\n\r\n'
            b"form data\r\n--B--\r\n")
    r = raw.request("POST", path, query=[("path", "f")], body=form,
                    headers={"Content-Type": "multipart/form-data; boundary=B"})
    assert r.status == 201, r.data
    assert json.loads(r.data)["content_type"] == ""
    assert _obj(api_client).stat_object(repo, "main", "f").content_type == "application/octet-stream"
    r = raw.request("POST", path, query=[("path", "m")], body=b"m",
                    headers={"X-Lakefs-Meta-Color": "blue", "X-Lakefs-Internal-Client-Mtime": "7"})
    doc = json.loads(r.data)
    assert (doc["metadata"], doc["content_type"]) == (
        {"color": "blue", "::lakefs::client-mtime": "7"}, "application/octet-stream")
    assert json.loads(raw.request("POST", path, query=[("path", "n")], body=b"n").data)["metadata"] == {}


@pytest.mark.ledger("uploadObject")
def test_upload_object_storage_class_501(server, repo):
    r = Raw(server).request("POST", f"/repositories/{repo}/branches/main/objects",
                             query=[("path", "sc"), ("storageClass", "GLACIER")], body=b"x")
    assert r.status == 501
    error_message(r)


@pytest.mark.ledger("updateObjectUserMetadata")
def test_update_object_user_metadata_replaces_the_set(server, api_client, repo):
    upload_bytes(server, repo, "main", "u", b"u", headers={"x-lakefs-meta-old": "1"})
    lakefs_sdk.CommitsApi(api_client).commit(repo, "main", lakefs_sdk.CommitCreation(message="c"))
    before = _obj(api_client).stat_object(repo, "main", "u")
    resp = _obj(api_client).update_object_user_metadata_with_http_info(
        repo, "main", "u", lakefs_sdk.UpdateObjectUserMetadata(set={"new": "2"}))
    assert resp.status_code == 204
    after = _obj(api_client).stat_object(repo, "main", "u")
    assert after.metadata == {"new": "2"}
    assert (after.physical_address, after.checksum, after.mtime) == (before.physical_address, before.checksum, before.mtime)
    changes = lakefs_sdk.BranchesApi(api_client).diff_branch(repo, "main").results
    assert [(d.path, d.type) for d in changes] == [("u", "changed")]


@pytest.mark.ledger("updateObjectUserMetadata")
def test_update_object_user_metadata_checks_in_lakefs_order(server, api_client, raw, repo):
    body = {"set": {"k": "v"}}
    ro = unique_name()
    lakefs_sdk.RepositoriesApi(api_client).create_repository(
        lakefs_sdk.RepositoryCreation(name=ro, storage_namespace=ns(ro), read_only=True))
    for r_name, branch, p, status, message in [
        ("Bad_Repo", "main", "x", 400, "argument repository: repository id: invalid value: validation error"),
        (repo, "a.b", "x", 400, "argument branch: branch id: invalid value: validation error"),
        (ro, "nope", "x", 403, "read-only repository"),
        (repo, "nope", "x", 404, "branch not found"),
        (repo, "main", "missing", 404, f"update user metadata on {repo}/main/missing: not found"),
    ]:
        r = raw.request("PUT", f"/repositories/{r_name}/branches/{branch}/objects/stat/user_metadata",
                        query=[("path", p)], json_body=body)
        assert (r.status, error_message(r)) == (status, message), (r_name, branch, p)


@pytest.mark.ledger("updateObjectUserMetadata")
def test_update_object_user_metadata_unknown_repository_404(raw):
    # lakeFS v1.84.0 Catalog.UpdateEntryUserMetadata returns nil when the repository lookup
    # fails (so 204); the embedded server answers 404
    r = raw.request("PUT", "/repositories/no-such-repo-x/branches/main/objects/stat/user_metadata",
                    query=[("path", "x")], json_body={"set": {}})
    assert (r.status, error_message(r)) == (404, "repository not found")


@pytest.mark.ledger("listObjects", "statObject")
def test_object_metadata_field_as_lakefs_answers_it(server, raw, repo):
    upload_bytes(server, repo, "main", "plain", b"p")
    upload_bytes(server, repo, "main", "tagged", b"t", headers={"x-lakefs-meta-k": "v"})

    def listed(**params):
        r = raw.request("GET", f"/repositories/{repo}/refs/main/objects/ls", query=list(params.items()))
        return {o["path"]: o.get("metadata") for o in json.loads(r.data)["results"]}

    # listObjects leaves `metadata` out for an object without any, and with user_metadata=false
    assert listed() == {"plain": None, "tagged": {"k": "v"}}
    assert listed(user_metadata="false") == {"plain": None, "tagged": None}
    # statObject always answers it: {} when there is none or when it is not asked for
    stat = lambda p, **q: json.loads(raw.request(  # noqa: E731
        "GET", f"/repositories/{repo}/refs/main/objects/stat", query=[("path", p), *q.items()]).data)["metadata"]
    assert (stat("plain"), stat("tagged"), stat("tagged", user_metadata="false")) == ({}, {"k": "v"}, {})


@pytest.mark.ledger("listObjects")
def test_list_objects_after_inside_a_common_prefix_lists_it_again(api_client, listing_repo):
    res = _obj(api_client).list_objects(listing_repo, "main", delimiter="/", after="a/1.txt")
    assert [o.path for o in res.results] == ["a/", "c.txt", "d/"]
    res = _obj(api_client).list_objects(listing_repo, "main", delimiter="/", after="a/")
    assert [o.path for o in res.results] == ["c.txt", "d/"]


@pytest.mark.ledger("listObjects")
def test_list_objects_validates_repository_before_ref_and_prefix(raw, repo):
    for r_name, ref, params, status, message in [
        ("Bad_Repo", "main", [], 400, "argument repository: repository id: invalid value: validation error"),
        ("no-such-repo-x", "main%20x", [], 404, "repository not found"),
        (repo, "main%20x", [], 400, "argument ref: ref: invalid value: validation error"),
        (repo, "main", [("prefix", "p" * 1025)], 400,
         "argument prefix: invalid value: validation error: 1025 is above maximum length (1024)"),
    ]:
        r = raw.request("GET", f"/repositories/{r_name}/refs/{ref}/objects/ls", query=params)
        assert (r.status, error_message(r)) == (status, message), (r_name, ref)
