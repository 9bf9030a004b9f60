"""getPhysicalAddress, presigned blob PUT/GET, linkPhysicalAddress."""

import hashlib
import os
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import lakefs_sdk
import pytest
from lakefs_sdk.exceptions import ApiException, BadRequestException, NotFoundException

from harness import data_url, ns

from .support import create_repo, error_message, http, unique_name, upload_bytes


def md5(b: bytes) -> str:
    return hashlib.md5(b).hexdigest()


def _staging(api_client):
    return lakefs_sdk.StagingApi(api_client)


def _objects(api_client):
    return lakefs_sdk.ObjectsApi(api_client)


def _put(url: str, data: bytes, content_type: str = "application/octet-stream"):
    return http("PUT", url, body=data, headers={"Content-Type": content_type, "Content-Length": str(len(data))})


def _stage(api_client, repo, path, data, branch="main"):
    """getPhysicalAddress(presign) + PUT; returns (StagingLocation, etag-without-quotes)."""
    loc = _staging(api_client).get_physical_address(repo, branch, path, presign=True)
    r = _put(loc.presigned_url, data)
    assert r.status == 200, (r.status, r.data)
    return loc, r.headers["ETag"].strip('"')


def _link(api_client, repo, path, loc, checksum, size, branch="main", **kw):
    return _staging(api_client).link_physical_address(
        repo, branch, path,
        lakefs_sdk.StagingMetadata(staging=loc, checksum=checksum, size_bytes=size, **kw))


def _tamper_query(url: str, key: str, value: str) -> str:
    parts = urlsplit(url)
    q = [(k, value if k == key else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(q), ""))


# ---------------------------------------------------------------------- getPhysicalAddress


@pytest.mark.ledger("getPhysicalAddress")
def test_get_physical_address_presign(server, api_client, repo):
    now = int(time.time())
    resp = _staging(api_client).get_physical_address_with_http_info(repo, "main", "up/a.bin", presign=True)
    assert resp.status_code == 200
    loc = resp.data
    assert loc.physical_address.startswith(ns(repo) + "/data/"), loc.physical_address
    # lakeFS's shape: data/<partition xid>/<xid>,<base64url HMAC>
    name, sig = loc.physical_address[len(ns(repo)) + 1:].rsplit(",", 1)
    parts = name.split("/")
    assert len(parts) == 3 and [len(p) for p in parts[1:]] == [20, 20], loc.physical_address
    assert len(sig) == 43, sig
    assert loc.presigned_url.startswith(data_url(server))
    q = dict(parse_qsl(urlsplit(loc.presigned_url).query))
    assert q["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    for k in ("X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Signature"):
        assert q.get(k), k
    assert loc.presigned_url_expiry is not None
    assert now < loc.presigned_url_expiry <= now + int(q["X-Amz-Expires"]) + 5


@pytest.mark.ledger("getPhysicalAddress")
def test_get_physical_address_without_presign(api_client, repo):
    loc = _staging(api_client).get_physical_address(repo, "main", "up/b.bin")
    assert loc.physical_address.startswith(ns(repo) + "/data/")
    assert loc.presigned_url is None


@pytest.mark.ledger("getPhysicalAddress")
def test_get_physical_address_unique(api_client, repo):
    a = _staging(api_client).get_physical_address(repo, "main", "same")
    b = _staging(api_client).get_physical_address(repo, "main", "same")
    assert a.physical_address != b.physical_address


@pytest.mark.ledger("getPhysicalAddress")
def test_get_physical_address_unknown_repo_404(api_client):
    with pytest.raises(NotFoundException) as ei:
        _staging(api_client).get_physical_address(unique_name(), "main", "x", presign=True)
    error_message(ei.value)


@pytest.mark.ledger("getPhysicalAddress")
def test_get_physical_address_missing_path_400(raw, repo):
    r = raw.request("GET", f"/repositories/{repo}/branches/main/staging/backing")
    assert r.status == 400
    error_message(r)


# ---------------------------------------------------------------------- full staging flow


@pytest.mark.ledger("getPhysicalAddress", "linkPhysicalAddress")
def test_presigned_put_then_link(server, api_client, repo):
    data = os.urandom(4096) + b"end"
    loc = _staging(api_client).get_physical_address(repo, "main", "staged/obj.bin", presign=True)
    r = _put(loc.presigned_url, data)
    assert r.status == 200
    assert r.headers["ETag"] == f'"{md5(data)}"'

    mtime = 1700000000
    resp = _staging(api_client).link_physical_address_with_http_info(
        repo, "main", "staged/obj.bin",
        lakefs_sdk.StagingMetadata(staging=loc, checksum=r.headers["ETag"], size_bytes=len(data),
                                   content_type="application/x-test", user_metadata={"who": "linker"},
                                   mtime=mtime))
    assert resp.status_code == 200
    st = resp.data
    assert st.path == "staged/obj.bin"
    assert st.path_type == "object"
    assert st.checksum == md5(data)  # quotes stripped
    assert st.size_bytes == len(data)
    assert st.content_type == "application/x-test"
    assert st.metadata == {"who": "linker"}
    assert st.physical_address == loc.physical_address
    assert st.mtime == mtime

    stat = _objects(api_client).stat_object(repo, "main", "staged/obj.bin")
    assert stat.checksum == md5(data)
    assert stat.size_bytes == len(data)
    assert stat.content_type == "application/x-test"
    assert stat.metadata == {"who": "linker"}
    assert stat.mtime == mtime
    assert bytes(_objects(api_client).get_object(repo, "main", "staged/obj.bin")) == data

    # and it commits like any other object
    c = lakefs_sdk.CommitsApi(api_client).commit(repo, "main", lakefs_sdk.CommitCreation(message="linked"))
    assert bytes(_objects(api_client).get_object(repo, c.id, "staged/obj.bin")) == data


@pytest.mark.ledger("linkPhysicalAddress")
def test_link_if_none_match_star_creates(api_client, repo):
    loc, etag = _stage(api_client, repo, "inm/new", b"fresh")
    st = _staging(api_client).link_physical_address(
        repo, "main", "inm/new", lakefs_sdk.StagingMetadata(staging=loc, checksum=etag, size_bytes=5),
        if_none_match="*")
    assert st.checksum == md5(b"fresh")


@pytest.mark.ledger("linkPhysicalAddress")
def test_link_if_none_match_star_existing_412(server, api_client, repo):
    upload_bytes(server, repo, "main", "inm/exists", b"original")
    loc, etag = _stage(api_client, repo, "inm/exists", b"replacement")
    with pytest.raises(ApiException) as ei:
        _staging(api_client).link_physical_address(
            repo, "main", "inm/exists",
            lakefs_sdk.StagingMetadata(staging=loc, checksum=etag, size_bytes=11), if_none_match="*")
    assert ei.value.status == 412
    error_message(ei.value)
    assert bytes(_objects(api_client).get_object(repo, "main", "inm/exists")) == b"original"


@pytest.mark.ledger("linkPhysicalAddress")
def test_link_if_none_match_other_value_501(api_client, repo):
    loc, etag = _stage(api_client, repo, "inm/etag", b"x")
    with pytest.raises(ApiException) as ei:
        _staging(api_client).link_physical_address(
            repo, "main", "inm/etag", lakefs_sdk.StagingMetadata(staging=loc, checksum=etag, size_bytes=1),
            if_none_match=f'"{etag}"')
    assert ei.value.status == 501
    error_message(ei.value)
    with pytest.raises(NotFoundException):
        _objects(api_client).stat_object(repo, "main", "inm/etag")


@pytest.mark.ledger("linkPhysicalAddress")
def test_link_if_match_501(server, api_client, repo):
    upload_bytes(server, repo, "main", "im/obj", b"v1")
    loc, etag = _stage(api_client, repo, "im/obj", b"v2")
    with pytest.raises(ApiException) as ei:
        _staging(api_client).link_physical_address(
            repo, "main", "im/obj", lakefs_sdk.StagingMetadata(staging=loc, checksum=etag, size_bytes=2),
            if_match=f'"{md5(b"v1")}"')
    assert ei.value.status == 501
    error_message(ei.value)
    assert bytes(_objects(api_client).get_object(repo, "main", "im/obj")) == b"v1"


@pytest.mark.ledger("linkPhysicalAddress")
def test_link_address_at_other_path_or_branch_400(api_client, repo):
    # lakeFS signs an address for the repository, branch and path it was handed out for
    # (GetAddressWithSignature / VerifyLinkAddress over {Repository, Branch, Path, PhysicalAddress}).
    lakefs_sdk.BranchesApi(api_client).create_branch(repo, lakefs_sdk.BranchCreation(name="b2", source="main"))
    loc, etag = _stage(api_client, repo, "bound/original", b"bound", branch="main")
    for branch, path in (("main", "bound/elsewhere"), ("b2", "bound/original")):
        with pytest.raises(BadRequestException) as ei:
            _link(api_client, repo, path, loc, etag, 5, branch=branch)
        assert error_message(ei.value) == "invalid address signature: invalid address"
        with pytest.raises(NotFoundException):
            _objects(api_client).stat_object(repo, branch, path)
    st = _link(api_client, repo, "bound/original", loc, etag, 5)
    assert st.physical_address == loc.physical_address
    assert bytes(_objects(api_client).get_object(repo, "main", "bound/original")) == b"bound"


@pytest.mark.ledger("linkPhysicalAddress")
def test_link_address_of_other_repository(api_client, repo):
    other = create_repo(api_client).id
    loc, etag = _stage(api_client, other, "r/x", b"other")
    # Re-rooted in this repository's namespace, the object name is signed for another repository.
    relative = loc.physical_address[len(ns(other)) + 1:]
    rerooted = lakefs_sdk.StagingLocation(physical_address=ns(repo) + "/" + relative)
    with pytest.raises(BadRequestException) as ei:
        _link(api_client, repo, "r/x", rerooted, etag, 5)
    assert error_message(ei.value) == "invalid address signature: invalid address"
    with pytest.raises(NotFoundException):
        _objects(api_client).stat_object(repo, "main", "r/x")
    # As is, it lies outside this repository's data prefix: lakeFS links such "full" addresses
    # without a signature check.
    st = _link(api_client, repo, "r/x", loc, etag, 5)
    assert st.physical_address == loc.physical_address
    assert bytes(_objects(api_client).get_object(repo, "main", "r/x")) == b"other"


@pytest.mark.ledger("linkPhysicalAddress")
def test_link_unsigned_address_in_data_prefix_400(api_client, repo):
    loc, etag = _stage(api_client, repo, "u/x", b"unsigned")
    unsigned = lakefs_sdk.StagingLocation(physical_address=loc.physical_address.rsplit(",", 1)[0])
    with pytest.raises(BadRequestException) as ei:
        _link(api_client, repo, "u/x", unsigned, etag, 8)
    assert error_message(ei.value) == "address is not signed: link address invalid"


@pytest.mark.ledger("linkPhysicalAddress")
def test_link_tampered_address_400(api_client, repo):
    loc, etag = _stage(api_client, repo, "t/x", b"data!")
    # Tamper the signature's first character: its last one also carries 2 padding bits, which
    # lakeFS's decoder (Go's non-strict base64.RawURLEncoding) ignores.
    name, sig = loc.physical_address.rsplit(",", 1)
    forged = lakefs_sdk.StagingLocation(physical_address=f"{name},{'A' if sig[0] != 'A' else 'B'}{sig[1:]}")
    with pytest.raises(BadRequestException) as ei:
        _link(api_client, repo, "t/x", forged, etag, 5)
    assert error_message(ei.value) == "invalid address signature: invalid address"


@pytest.mark.ledger("getPhysicalAddress", "linkPhysicalAddress")
def test_link_unknown_branch_rejected(api_client, repo):
    # getPhysicalAddress does not look at the branch (as lakeFS); linking there is 404.
    loc, etag = _stage(api_client, repo, "nb/x", b"x", branch="no-such-branch")
    with pytest.raises(ApiException) as ei:
        _link(api_client, repo, "nb/x", loc, etag, 1, branch="no-such-branch")
    assert ei.value.status == 404
    error_message(ei.value)


@pytest.mark.ledger("linkPhysicalAddress")
def test_link_unknown_repo_404(api_client, repo):
    loc, etag = _stage(api_client, repo, "x", b"x")
    with pytest.raises(NotFoundException) as ei:
        _link(api_client, unique_name(), "x", loc, etag, 1)
    error_message(ei.value)


@pytest.mark.ledger("linkPhysicalAddress")
def test_link_empty_checksum_400(api_client, repo):
    loc, _ = _stage(api_client, repo, "ck", b"x")
    with pytest.raises(BadRequestException) as ei:
        _link(api_client, repo, "ck", loc, '""', 1)
    error_message(ei.value)


@pytest.mark.ledger("linkPhysicalAddress")
def test_link_missing_required_fields_400(raw, api_client, repo):
    loc = _staging(api_client).get_physical_address(repo, "main", "mf")
    r = raw.request("PUT", f"/repositories/{repo}/branches/main/staging/backing", query=[("path", "mf")],
                    json_body={"staging": {"physical_address": loc.physical_address}, "checksum": "abc"})
    assert r.status == 400
    error_message(r)


@pytest.mark.ledger("linkPhysicalAddress")
def test_link_bad_json_400(raw, repo):
    r = raw.request("PUT", f"/repositories/{repo}/branches/main/staging/backing", query=[("path", "bj")],
                    body=b"{{", headers={"Content-Type": "application/json"})
    assert r.status == 400
    error_message(r)


# ---------------------------------------------------------------------- presigned URL security


@pytest.mark.ledger("blob endpoint")
def test_presigned_put_tampered_signature_403(api_client, repo):
    loc = _staging(api_client).get_physical_address(repo, "main", "sec/put", presign=True)
    sig = dict(parse_qsl(urlsplit(loc.presigned_url).query))["X-Amz-Signature"]
    bad = _tamper_query(loc.presigned_url, "X-Amz-Signature", ("0" if sig[0] != "0" else "1") + sig[1:])
    r = _put(bad, b"evil")
    assert r.status == 403
    # the genuine URL still works afterwards
    assert _put(loc.presigned_url, b"good").status == 200


@pytest.mark.ledger("blob endpoint")
def test_presigned_put_tampered_path_403(api_client, repo):
    loc = _staging(api_client).get_physical_address(repo, "main", "sec/path", presign=True)
    parts = urlsplit(loc.presigned_url)
    bad = urlunsplit((parts.scheme, parts.netloc, parts.path + "x", parts.query, ""))
    assert _put(bad, b"evil").status == 403


@pytest.mark.ledger("blob endpoint")
def test_presigned_get_tampered_signature_403(server, api_client, repo):
    upload_bytes(server, repo, "main", "sec/get", b"secret bytes")
    st = _objects(api_client).stat_object(repo, "main", "sec/get", presign=True)
    sig = dict(parse_qsl(urlsplit(st.physical_address).query))["X-Amz-Signature"]
    bad = _tamper_query(st.physical_address, "X-Amz-Signature", sig[::-1])
    r = http("GET", bad)
    assert r.status == 403
    assert b"secret bytes" not in r.data


@pytest.mark.ledger("blob endpoint")
def test_presigned_put_url_cannot_be_used_for_get_403(server, api_client, repo):
    loc, _ = _stage(api_client, repo, "sec/method", b"written")
    r = http("GET", loc.presigned_url)
    assert r.status == 403
    assert r.data != b"written"


@pytest.mark.ledger("blob endpoint")
def test_presigned_get_url_cannot_be_used_for_put_403(server, api_client, repo):
    upload_bytes(server, repo, "main", "sec/ro", b"read only")
    st = _objects(api_client).stat_object(repo, "main", "sec/ro", presign=True)
    assert _put(st.physical_address, b"overwritten!").status == 403
    assert http("GET", st.physical_address).data == b"read only"
    assert bytes(_objects(api_client).get_object(repo, "main", "sec/ro")) == b"read only"


@pytest.mark.ledger("blob endpoint")
def test_presigned_get_unsigned_403(server, api_client, repo):
    upload_bytes(server, repo, "main", "sec/nosig", b"secret bytes")
    st = _objects(api_client).stat_object(repo, "main", "sec/nosig", presign=True)
    parts = urlsplit(st.physical_address)
    r = http("GET", urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")))
    assert r.status == 403
    assert b"secret bytes" not in r.data


@pytest.mark.ledger("blob endpoint")
def test_presigned_url_date_moved_to_past_403(server, api_client, repo):
    """X-Amz-Date edited two days into the past (signature no longer matches either)."""
    upload_bytes(server, repo, "main", "exp/a", b"expiring")
    st = _objects(api_client).stat_object(repo, "main", "exp/a", presign=True)
    past = (datetime.now(timezone.utc) - timedelta(days=2)).strftime("%Y%m%dT%H%M%SZ")
    r = http("GET", _tamper_query(st.physical_address, "X-Amz-Date", past))
    assert r.status == 403
    assert r.data != b"expiring"


@pytest.mark.ledger("blob endpoint")
def test_presigned_urls_expire_403(server_factory):
    """Genuinely expired, validly signed URLs (server started with a 1 s presign lifetime)."""
    srv = server_factory(extra_args=["--presign-expiry-secs", "1"])
    with srv.lakefs_client() as c:
        repo = lakefs_sdk.RepositoriesApi(c).create_repository(
            lakefs_sdk.RepositoryCreation(name=unique_name(), storage_namespace=ns("exp-ns"))).id
        upload_bytes(srv, repo, "main", "e", b"short lived")
        st = lakefs_sdk.ObjectsApi(c).stat_object(repo, "main", "e", presign=True)
        assert st.physical_address_expiry <= int(time.time()) + 2
        loc = lakefs_sdk.StagingApi(c).get_physical_address(repo, "main", "p", presign=True)
        assert dict(parse_qsl(urlsplit(loc.presigned_url).query))["X-Amz-Expires"] == "1"
        time.sleep(2.5)
        r = http("GET", st.physical_address)
        assert r.status == 403
        assert r.data != b"short lived"
        assert _put(loc.presigned_url, b"too late").status == 403
        # a fresh URL works again
        st2 = lakefs_sdk.ObjectsApi(c).stat_object(repo, "main", "e", presign=True)
        assert http("GET", st2.physical_address).data == b"short lived"


# ---------------------------------------------------------------------- presigned GET


@pytest.mark.ledger("blob endpoint")
def test_presigned_get_range_206(server, api_client, repo):
    data = bytes(range(256)) * 4
    upload_bytes(server, repo, "main", "rg/blob", data)
    st = _objects(api_client).stat_object(repo, "main", "rg/blob", presign=True)
    r = http("GET", st.physical_address, headers={"Range": "bytes=100-199"})
    assert r.status == 206
    assert r.data == data[100:200]
    assert r.headers["Content-Range"] == f"bytes 100-199/{len(data)}"
    # probe of the first byte, as lakeFSFS does to learn the size
    r0 = http("GET", st.physical_address, headers={"Range": "bytes=0-0"})
    assert r0.status == 206
    assert r0.data == data[:1]
    assert r0.headers["Content-Range"] == f"bytes 0-0/{len(data)}"
    full = http("GET", st.physical_address)
    assert full.status == 200
    assert full.data == data
    assert full.headers["Content-Length"] == str(len(data))
    suffix = http("GET", st.physical_address, headers={"Range": "bytes=-10"})
    assert suffix.status == 206
    assert suffix.data == data[-10:]
    assert suffix.headers["Content-Range"] == f"bytes {len(data) - 10}-{len(data) - 1}/{len(data)}"


@pytest.mark.ledger("blob endpoint")
def test_presigned_get_unsatisfiable_range_416(server, api_client, repo):
    upload_bytes(server, repo, "main", "rg/small", b"0123456789")
    st = _objects(api_client).stat_object(repo, "main", "rg/small", presign=True)
    r = http("GET", st.physical_address, headers={"Range": "bytes=50-60"})
    assert r.status == 416


@pytest.mark.ledger("blob endpoint")
def test_presigned_get_of_staged_upload(api_client, repo):
    data = b"through presigned both ways"
    loc, etag = _stage(api_client, repo, "both/ways", data)
    _link(api_client, repo, "both/ways", loc, etag, len(data))
    st = _objects(api_client).stat_object(repo, "main", "both/ways", presign=True)
    r = http("GET", st.physical_address)
    assert r.status == 200
    assert r.data == data
