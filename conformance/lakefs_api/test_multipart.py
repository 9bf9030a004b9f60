"""Presigned multipart upload (ExperimentalApi): createPresignMultipartUpload, uploadPart,
uploadPartCopy, completePresignMultipartUpload, abortPresignMultipartUpload.

Run on both blockstores of lakegate's embedded server: on its local blob store, and on its S3
blockstore (LAKEGATE_DEV_BLOCKSTORE=s3, SeaweedFS), where the calls map onto the S3 server's own
multipart API as lakeFS's S3 adapter does (part URLs are S3 UploadPart URLs, the checksum is the
S3 object's ETag). SeaweedFS's UploadPartCopy ETags are not the MD5 of the copied bytes (AWS's
are), so the checksum of an object assembled from copies is only checked for its form there.
"""

import hashlib

import lakefs_sdk
import pytest
from lakefs_sdk.exceptions import ApiException, BadRequestException, NotFoundException

from harness import S3_BUCKET, data_url, ns

from .support import create_repo, error_message, http

MIB = 1 << 20


def _exp(api_client):
    return lakefs_sdk.ExperimentalApi(api_client)


def _put(url: str, data: bytes) -> str:
    r = http("PUT", url, body=data, headers={"Content-Length": str(len(data))})
    assert r.status == 200, (r.status, r.data)
    return r.headers["ETag"]


def _multipart_etag(parts) -> str:
    return hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest() + f"-{len(parts)}"


def _complete(api_client, repo, path, up, parts, **kw):
    return _exp(api_client).complete_presign_multipart_upload(
        repo, "main", up.upload_id, path,
        complete_presign_multipart_upload=lakefs_sdk.CompletePresignMultipartUpload(
            physical_address=up.physical_address,
            parts=[lakefs_sdk.UploadPart(part_number=n, etag=e) for n, e in parts], **kw))


def _store_refused(exc, operation, store_status, code):
    """lakeFS's answer when its S3 adapter's call fails: 500, aws-sdk-go-v2's error text."""
    assert exc.status == 500, (exc.status, exc.body)
    message = error_message(exc)
    head = f"operation error S3: {operation}, https response error StatusCode: {store_status}, RequestID: "
    assert message.startswith(head), message
    modeled = (operation, code) == ("AbortMultipartUpload", "NoSuchUpload")
    assert (f", {code}: " if modeled else f", api error {code}: ") in message, message


@pytest.mark.ledger("createPresignMultipartUpload", "completePresignMultipartUpload")
def test_multipart_round_trip(server, api_client, repo):
    exp = _exp(api_client)
    resp = exp.create_presign_multipart_upload_with_http_info(repo, "main", "mp/obj.bin", parts=2)
    assert resp.status_code == 201
    up = resp.data
    assert up.physical_address.startswith(ns(repo) + "/data/")
    assert len(up.presigned_urls) == 2 and all(u.startswith(data_url(server)) for u in up.presigned_urls)
    data = [bytes([1]) * (5 * MIB), bytes([2]) * (5 * MIB), b"tail"]
    e1 = _put(up.presigned_urls[0], data[0])
    e2 = _put(up.presigned_urls[1], data[1])
    assert e1 == '"%s"' % hashlib.md5(data[0]).hexdigest()
    to = exp.upload_part(repo, "main", up.upload_id, "mp/obj.bin", 3,
                         lakefs_sdk.UploadPartFrom(physical_address=up.physical_address))
    e3 = _put(to.presigned_url, data[2])
    stats = _complete(api_client, repo, "mp/obj.bin", up, [(1, e1), (2, e2), (3, e3)],
                      user_metadata={"a": "b"}, content_type="text/x-mp")
    assert stats.checksum == _multipart_etag(data)
    assert stats.size_bytes == 10 * MIB + 4
    # lakeFS answers the address relative to the storage namespace here
    assert stats.physical_address == up.physical_address[len(ns(repo)) + 1:]
    got = lakefs_sdk.ObjectsApi(api_client).get_object(repo, "main", "mp/obj.bin")
    assert bytes(got) == b"".join(data)
    st = lakefs_sdk.ObjectsApi(api_client).stat_object(repo, "main", "mp/obj.bin")
    assert (st.content_type, st.metadata) == ("text/x-mp", {"a": "b"})
    if S3_BUCKET:  # the checksum is the S3 object's own ETag
        signed = lakefs_sdk.ObjectsApi(api_client).stat_object(repo, "main", "mp/obj.bin", presign=True)
        r = http("GET", signed.physical_address)
        assert r.status == 200 and r.headers["ETag"].strip('"') == stats.checksum


@pytest.mark.ledger("createPresignMultipartUpload", "completePresignMultipartUpload")
def test_multipart_errors(api_client, repo):
    exp = _exp(api_client)
    with pytest.raises(NotFoundException):
        exp.create_presign_multipart_upload(repo, "no-such-branch", "p")
    with pytest.raises(BadRequestException):
        exp.create_presign_multipart_upload(repo, "main", "p", parts=-1)
    up = exp.create_presign_multipart_upload(repo, "main", "p")
    assert up.presigned_urls is None
    from_ = lakefs_sdk.UploadPartFrom(physical_address=up.physical_address)
    small = _put(exp.upload_part(repo, "main", up.upload_id, "p", 1, from_).presigned_url, b"x" * 10)
    big = _put(exp.upload_part(repo, "main", up.upload_id, "p", 2, from_).presigned_url, b"y" * (5 * MIB))
    # The store's refusals: lakeFS's 500 with the S3 SDK's error text.
    for parts, code in [
        ([(1, small), (2, big)], "EntityTooSmall"),  # a non-last part under 5 MiB
        ([(2, big), (1, small)], "InvalidPartOrder"),  # not ascending
        ([(2, big), (2, big)], "InvalidPartOrder"),  # repeated
        ([(1, big)], "InvalidPart"),  # wrong ETag
        ([(2, big), (3, small)], "InvalidPart"),  # never uploaded
    ]:
        with pytest.raises(ApiException) as e:
            _complete(api_client, repo, "p", up, parts)
        _store_refused(e.value, "CompleteMultipartUpload", 400, code)
    with pytest.raises(BadRequestException) as e:  # no parts
        _complete(api_client, repo, "p", up, [])
    assert error_message(e.value) == "parts are required"
    with pytest.raises(BadRequestException):  # forged address
        exp.upload_part(repo, "main", up.upload_id, "p", 1,
                        lakefs_sdk.UploadPartFrom(physical_address=up.physical_address + "x"))
    with pytest.raises(ApiException) as e:  # an upload id the store does not know
        exp.abort_presign_multipart_upload(
            repo, "main", "0123abcd", "p",
            abort_presign_multipart_upload=lakefs_sdk.AbortPresignMultipartUpload(physical_address=up.physical_address))
    _store_refused(e.value, "AbortMultipartUpload", 404, "NoSuchUpload")
    stats = _complete(api_client, repo, "p", up, [(2, big)])
    assert stats.checksum == _multipart_etag([b"y" * (5 * MIB)])


@pytest.mark.ledger("abortPresignMultipartUpload", "uploadPart")
def test_abort(api_client, repo):
    exp = _exp(api_client)
    up = exp.create_presign_multipart_upload(repo, "main", "ab", parts=1)
    etag = _put(up.presigned_urls[0], b"data")
    resp = exp.abort_presign_multipart_upload_with_http_info(
        repo, "main", up.upload_id, "ab",
        abort_presign_multipart_upload=lakefs_sdk.AbortPresignMultipartUpload(physical_address=up.physical_address))
    assert resp.status_code == 204
    with pytest.raises(ApiException) as e:
        _complete(api_client, repo, "ab", up, [(1, etag)])
    _store_refused(e.value, "CompleteMultipartUpload", 404, "NoSuchUpload")
    r = http("PUT", up.presigned_urls[0], body=b"late")
    assert r.status == 404 and b"NoSuchUpload" in r.data
    # uploadPart presigns without looking the upload up (as lakeFS's adapters); the store refuses
    to = exp.upload_part(repo, "main", up.upload_id, "ab", 2,
                         lakefs_sdk.UploadPartFrom(physical_address=up.physical_address))
    r = http("PUT", to.presigned_url, body=b"late")
    assert r.status == 404 and b"NoSuchUpload" in r.data
    with pytest.raises(NotFoundException):
        lakefs_sdk.ObjectsApi(api_client).stat_object(repo, "main", "ab")


@pytest.mark.ledger("uploadPartCopy")
def test_upload_part_copy_from_another_repository(server, api_client, repo):
    exp = _exp(api_client)
    src = create_repo(api_client).id
    src_data = bytes(range(256)) * (24 * 1024)  # 6 MiB
    sup = exp.create_presign_multipart_upload(src, "main", "s", parts=1)
    _complete(api_client, src, "s", sup, [(1, _put(sup.presigned_urls[0], src_data))])

    up = exp.create_presign_multipart_upload(repo, "main", "c")

    def copy(n, rng=None):
        source = lakefs_sdk.CopyPartSource(repository=src, ref="main", path="s", range=rng)
        body = lakefs_sdk.UploadPartCopyFrom(physical_address=up.physical_address, copy_source=source)
        return exp.upload_part_copy_with_http_info(repo, "main", up.upload_id, "c", n, body)

    r1 = copy(1, f"bytes=0-{5 * MIB - 1}")
    assert r1.status_code == 204
    r2 = copy(2)  # the whole object
    r3 = copy(3, "bytes=100-199")
    with pytest.raises(ApiException) as e:  # past the source's end: the store's InvalidArgument
        copy(4, "bytes=0-999999999")
    _store_refused(e.value, "UploadPartCopy", 400, "InvalidArgument")
    with pytest.raises(ApiException) as e:  # a source that does not exist
        exp.upload_part_copy(repo, "main", up.upload_id, "c", 4, lakefs_sdk.UploadPartCopyFrom(
            physical_address=up.physical_address,
            copy_source=lakefs_sdk.CopyPartSource(repository=src, ref="main", path="nope")))
    assert e.value.status == 404
    etags = [r.headers["ETag"] for r in (r1, r2, r3)]
    assert all(len(t) > 2 and t.startswith('"') and t.endswith('"') for t in etags)
    stats = _complete(api_client, repo, "c", up, list(zip((1, 2, 3), etags)))
    pieces = [src_data[:5 * MIB], src_data, src_data[100:200]]
    if not S3_BUCKET:
        assert etags[0] == '"%s"' % hashlib.md5(pieces[0]).hexdigest()
        assert stats.checksum == _multipart_etag(pieces)
    assert stats.checksum.endswith("-3") and stats.size_bytes == sum(map(len, pieces))
    assert bytes(lakefs_sdk.ObjectsApi(api_client).get_object(repo, "main", "c")) == b"".join(pieces)


@pytest.mark.ledger("uploadPart", "completePresignMultipartUpload")
def test_upload_address_bound_to_repository_branch_and_path(api_client, repo):
    exp = _exp(api_client)
    lakefs_sdk.BranchesApi(api_client).create_branch(repo, lakefs_sdk.BranchCreation(name="b2", source="main"))
    up = exp.create_presign_multipart_upload(repo, "main", "bound", parts=1)
    etag = _put(up.presigned_urls[0], b"bound part")

    def complete(repository, branch, path, address):
        return exp.complete_presign_multipart_upload(
            repository, branch, up.upload_id, path,
            complete_presign_multipart_upload=lakefs_sdk.CompletePresignMultipartUpload(
                physical_address=address, parts=[lakefs_sdk.UploadPart(part_number=1, etag=etag)]))

    other = create_repo(api_client).id
    relative = up.physical_address[len(ns(repo)) + 1:]
    for repository, branch, path, address, message in [
        (repo, "main", "elsewhere", up.physical_address, "invalid address signature: invalid address"),
        (repo, "b2", "bound", up.physical_address, "invalid address signature: invalid address"),
        (other, "main", "bound", ns(other) + "/" + relative, "invalid address signature: invalid address"),
        (other, "main", "bound", up.physical_address, "physical address must be relative to the storage namespace"),
    ]:
        with pytest.raises(BadRequestException) as e:
            complete(repository, branch, path, address)
        assert error_message(e.value) == message, (repository, branch, path)
    with pytest.raises(BadRequestException):
        exp.upload_part(repo, "b2", up.upload_id, "bound", 2,
                        lakefs_sdk.UploadPartFrom(physical_address=up.physical_address))
    stats = complete(repo, "main", "bound", up.physical_address)
    assert stats.checksum == _multipart_etag([b"bound part"])


@pytest.mark.ledger("getConfig", "createPresignMultipartUpload")
def test_not_supported_without_presign(server_factory):
    srv = server_factory(extra_args=["--no-presign"])
    with srv.lakefs_client() as client:
        repo = create_repo(client).id
        with pytest.raises(ApiException) as e:
            _exp(client).create_presign_multipart_upload(repo, "main", "p")
        assert e.value.status == 501


@pytest.mark.ledger("getConfig", "createPresignMultipartUpload")
def test_not_offered_without_presign_multipart(server_factory):
    srv = server_factory(extra_args=["--no-presign-multipart"])
    with srv.lakefs_client() as client:
        assert lakefs_sdk.ConfigApi(client).get_config().storage_config.pre_sign_multipart_upload is False
        repo = create_repo(client).id
        with pytest.raises(ApiException) as e:
            _exp(client).create_presign_multipart_upload(repo, "main", "p")
        assert e.value.status == 501
