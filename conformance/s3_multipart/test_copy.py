"""UploadPartCopy (``x-amz-copy-source`` with and without ``x-amz-copy-source-range``): parts
copied by byte range from an object of the same repository (both bucket forms as source), from an
object in another repository (a bucket made with CreateBucket), a whole source object, mixed with
an uploaded part; the result is byte-exact and has the multipart ETag of its parts. CopyPartResult
carries the part's MD5 ETag (where the object store gives one: see ``copies_have_md5_etags``).
Refusals: a range past the source's end (400 InvalidArgument), a missing source key (404
NoSuchKey), a missing source bucket (404 NoSuchBucket), an upload id of another key (404
NoSuchUpload). Runs on every server mode (spooling copies through lakegate)."""

from __future__ import annotations

import pytest
from harness import BRANCH, BUCKET, MiB, md5_etag, new_repo_name, random_bytes

from .support import (BRANCH_BUCKET, PART, complete, create, fail, mpu_etag, new_rel, read, s3, spools,
                      storage, upload_parts)


def copies_have_md5_etags(srv) -> bool:
    """Whether CopyPartResult ETags are the copied bytes' MD5, as on S3. They are the object
    store's part ETags when lakegate does not spool; SeaweedFS (4.48) answers "<hex>-<chunks>" for
    whole-object part copies and the whole source's MD5 for ranged copies of small sources."""
    return spools(srv) or storage(srv).get("blockstore_type") == "local"


def _copy_part(c, bucket, key, uid, n, source, rng=None):
    kw = {"Bucket": bucket, "Key": key, "UploadId": uid, "PartNumber": n, "CopySource": source}
    if rng is not None:
        kw["CopySourceRange"] = f"bytes={rng[0]}-{rng[1]}"
    r = c.upload_part_copy(**kw)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    return {"PartNumber": n, "ETag": r["CopyPartResult"]["ETag"]}


@pytest.mark.matrix("boto3", "multipart put", "copy")
def test_upload_part_copy_ranges_and_repositories(mode_server, request):
    c = s3(mode_server)
    # sources: 11 MiB on demo/main, 3 MiB in a repository of its own
    local = random_bytes(2 * PART + MiB)
    local_rel = new_rel("src.bin", "cps")
    c.put_object(Bucket=BRANCH_BUCKET, Key=local_rel, Body=local)
    repo = new_repo_name("mpc")
    c.create_bucket(Bucket=repo)
    remote = random_bytes(3 * MiB)
    c.put_object(Bucket=repo, Key=f"{BRANCH}/far/src.bin", Body=remote)

    key = f"{BRANCH}/{new_rel('dst.bin', 'cpd')}"
    uid = create(c, BUCKET, key)
    expected = [
        local[PART:2 * PART],           # 1: a range, via the repository bucket form
        local[:PART],                   # 2: a range, via the branch bucket form
        random_bytes(PART + 17),        # 3: uploaded
        remote[1000:1000 + 2 * MiB],    # 4: a range of the other repository's object
    ]
    parts = [
        _copy_part(c, BUCKET, key, uid, 1, {"Bucket": BUCKET, "Key": f"{BRANCH}/{local_rel}"},
                   (PART, 2 * PART - 1)),
        _copy_part(c, BUCKET, key, uid, 2, f"{BRANCH_BUCKET}/{local_rel}", (0, PART - 1)),
        upload_parts(c, BUCKET, key, uid, [expected[2]], first=3)[0],
        _copy_part(c, BUCKET, key, uid, 4, {"Bucket": repo, "Key": f"{BRANCH}/far/src.bin"},
                   (1000, 1000 + 2 * MiB - 1)),
    ]
    md5_copies = copies_have_md5_etags(mode_server)
    if md5_copies:
        assert [p["ETag"] for p in parts] == [md5_etag(b) for b in expected]
    assert parts[2]["ETag"] == md5_etag(expected[2])
    listed = c.list_parts(Bucket=BUCKET, Key=key, UploadId=uid)["Parts"]
    assert [(p["PartNumber"], p["Size"], p["ETag"]) for p in listed] == [
        (i, len(b), p["ETag"]) for i, (b, p) in enumerate(zip(expected, parts), start=1)]

    done = complete(c, BUCKET, key, uid, parts)
    assert done["ETag"] == c.head_object(Bucket=BUCKET, Key=key)["ETag"]
    if storage(mode_server).get("pre_sign_support"):  # else BUG_NO_PRESIGN_ETAG (test_transfer.py)
        assert done["ETag"].endswith('-4"')
        if md5_copies:
            assert done["ETag"] == mpu_etag(expected)
    assert read(c, BUCKET, key) == b"".join(expected)
    # the sources are untouched
    assert read(c, repo, f"{BRANCH}/far/src.bin") == remote
    assert read(c, BRANCH_BUCKET, local_rel) == local


@pytest.mark.matrix("boto3", "multipart put", "copy")
def test_upload_part_copy_whole_object(mode_server, request):
    c = s3(mode_server)
    src = random_bytes(PART + 1)
    src_rel = new_rel("whole.bin", "cps")
    c.put_object(Bucket=BRANCH_BUCKET, Key=src_rel, Body=src)
    rel = new_rel("dst.bin", "cpd")
    uid = create(c, BRANCH_BUCKET, rel)
    tail = b"tail"
    parts = [_copy_part(c, BRANCH_BUCKET, rel, uid, 1, {"Bucket": BRANCH_BUCKET, "Key": src_rel}),
             upload_parts(c, BRANCH_BUCKET, rel, uid, [tail], first=2)[0]]
    if copies_have_md5_etags(mode_server):
        assert parts[0]["ETag"] == md5_etag(src)
    complete(c, BRANCH_BUCKET, rel, uid, parts)
    assert read(c, BRANCH_BUCKET, rel) == src + tail
    # a completed multipart object is itself a copy source, by range
    uid2 = create(c, BRANCH_BUCKET, rel + ".again")
    p = _copy_part(c, BRANCH_BUCKET, rel + ".again", uid2, 1, {"Bucket": BRANCH_BUCKET, "Key": rel},
                   (PART - 2, PART + 4))
    complete(c, BRANCH_BUCKET, rel + ".again", uid2, [p])
    assert read(c, BRANCH_BUCKET, rel + ".again") == (src + tail)[PART - 2:PART + 5]


@pytest.mark.matrix("boto3", "copy", "error codes")
def test_upload_part_copy_refusals(server):
    c = s3(server)
    src = random_bytes(1000)
    src_rel = new_rel("src.bin", "cps")
    c.put_object(Bucket=BRANCH_BUCKET, Key=src_rel, Body=src)
    rel = new_rel("dst.bin", "cpd")
    uid = create(c, BRANCH_BUCKET, rel)
    base = {"Bucket": BRANCH_BUCKET, "Key": rel, "UploadId": uid, "PartNumber": 1}
    f = fail(c.upload_part_copy, CopySource={"Bucket": BRANCH_BUCKET, "Key": src_rel},
             CopySourceRange="bytes=500-1000", **base)
    assert f == (400, "InvalidArgument")
    f = fail(c.upload_part_copy, CopySource={"Bucket": BRANCH_BUCKET, "Key": src_rel + ".missing"}, **base)
    assert f == (404, "NoSuchKey")
    f = fail(c.upload_part_copy, CopySource={"Bucket": new_repo_name("none"), "Key": f"{BRANCH}/x"}, **base)
    assert f == (404, "NoSuchBucket")
    assert c.list_parts(Bucket=BRANCH_BUCKET, Key=rel, UploadId=uid).get("Parts", []) == []
    # an upload id of another key is refused before the source is looked at
    f = fail(c.upload_part_copy, CopySource={"Bucket": BRANCH_BUCKET, "Key": src_rel},
             **{**base, "Key": rel + ".other"})
    assert f == (404, "NoSuchUpload")
    p = _copy_part(c, BRANCH_BUCKET, rel, uid, 1, {"Bucket": BRANCH_BUCKET, "Key": src_rel}, (999, 999))
    complete(c, BRANCH_BUCKET, rel, uid, [p])
    assert read(c, BRANCH_BUCKET, rel) == src[999:]

