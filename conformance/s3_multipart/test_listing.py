"""ListMultipartUploads and ListParts: paging with max-uploads and key-marker / upload-id-marker
(every upload exactly once, in key order), Prefix + Delimiter (CommonPrefixes), the branch
bucket form (``demo.main`` shows keys without the branch), uploads on another branch (listed
under ``<branch>/`` in the repository bucket only), ``encoding-type=url``; ListParts paging with
max-parts / part-number-marker (every server mode); completed uploads leave the listing."""

from __future__ import annotations

from urllib.parse import unquote_plus

from harness import BRANCH, BUCKET, new_branch_name, random_bytes

from .support import BRANCH_BUCKET, complete, create, fail, new_rel, read, s3, upload_parts


def _uploads(c, bucket: str, prefix: str):
    r = c.list_multipart_uploads(Bucket=bucket, Prefix=prefix)
    assert not r["IsTruncated"]
    return [(u["Key"], u["UploadId"]) for u in r.get("Uploads", [])]


def _five_uploads(c):
    """Five uploads under ``<base>a/`` and ``<base>b/`` (two of them for the same key)."""
    base = new_rel("").rstrip("/") + "/"
    keys = ["a/k1", "a/k2", "b/k3", "b/k3", "b/k4"]
    made = [(f"{BRANCH}/{base}{k}", create(c, BUCKET, f"{BRANCH}/{base}{k}")) for k in keys]
    return f"{BRANCH}/{base}", base, made


def test_paging_visits_every_upload_once(server):
    c = s3(server)
    prefix, _, made = _five_uploads(c)
    seen, pages = [], []
    kw = {"Bucket": BUCKET, "Prefix": prefix, "MaxUploads": 2}
    while True:
        r = c.list_multipart_uploads(**kw)
        assert r["MaxUploads"] == 2
        page = [(u["Key"], u["UploadId"]) for u in r.get("Uploads", [])]
        assert len(page) <= 2
        pages.append(len(page))
        seen += page
        if not r["IsTruncated"]:
            break
        assert (r["NextKeyMarker"], r["NextUploadIdMarker"]) == page[-1], r
        kw.update(KeyMarker=r["NextKeyMarker"], UploadIdMarker=r["NextUploadIdMarker"])
        assert len(pages) < 10, "no end to the paging"
    assert pages == [2, 2, 1]
    assert sorted(seen) == sorted(made) and len(set(seen)) == 5
    assert [k for k, _ in seen] == sorted(k for k, _ in made), "not in key order"
    # a key-marker alone starts after every upload of that key
    r = c.list_multipart_uploads(Bucket=BUCKET, Prefix=prefix, KeyMarker=made[2][0])
    assert [u["Key"] for u in r["Uploads"]] == [made[4][0]]
    # the paginator agrees
    pg = c.get_paginator("list_multipart_uploads").paginate(Bucket=BUCKET, Prefix=prefix,
                                                            PaginationConfig={"PageSize": 2})
    assert sorted((u["Key"], u["UploadId"]) for p in pg for u in p.get("Uploads", [])) == sorted(made)
    for key, uid in made:
        c.abort_multipart_upload(Bucket=BUCKET, Key=key, UploadId=uid)
    assert _uploads(c, BUCKET, prefix) == []


def test_delimiter_and_branch_bucket(server):
    c = s3(server)
    prefix, base, made = _five_uploads(c)
    r = c.list_multipart_uploads(Bucket=BUCKET, Prefix=prefix, Delimiter="/")
    assert [p["Prefix"] for p in r.get("CommonPrefixes", [])] == [f"{prefix}a/", f"{prefix}b/"], r
    assert r.get("Uploads", []) == []
    r = c.list_multipart_uploads(Bucket=BUCKET, Prefix=f"{prefix}b/", Delimiter="/")
    assert [u["Key"] for u in r["Uploads"]] == [f"{prefix}b/k3"] * 2 + [f"{prefix}b/k4"]
    assert r.get("CommonPrefixes", []) == []
    # the repository bucket groups by branch first
    r = c.list_multipart_uploads(Bucket=BUCKET, Prefix=f"{BRANCH}/{base[:8]}", Delimiter="/")
    assert f"{BRANCH}/{base}" in [p["Prefix"] for p in r.get("CommonPrefixes", [])], r

    # the branch bucket: same uploads, keys without the branch, same ids
    r = c.list_multipart_uploads(Bucket=BRANCH_BUCKET, Prefix=base)
    assert r["Bucket"] == BRANCH_BUCKET
    assert [(u["Key"], u["UploadId"]) for u in r["Uploads"]] == [(k[len(BRANCH) + 1:], u) for k, u in made]
    r = c.list_multipart_uploads(Bucket=BRANCH_BUCKET, Prefix=base, Delimiter="/")
    assert [p["Prefix"] for p in r.get("CommonPrefixes", [])] == [f"{base}a/", f"{base}b/"]
    # an id listed there addresses the upload through that bucket form too
    rel, uid = made[0][0][len(BRANCH) + 1:], made[0][1]
    assert c.list_parts(Bucket=BRANCH_BUCKET, Key=rel, UploadId=uid).get("Parts", []) == []
    for key, uid in made:
        c.abort_multipart_upload(Bucket=BUCKET, Key=key, UploadId=uid)


def test_encoding_type_url(server):
    c = s3(server)
    base = new_rel("")
    odd = [f"{base}with space+plus.bin", f"{base}ünïcode/€.bin", f"{base}amp&eq=q?.bin"]
    made = {k: create(c, BRANCH_BUCKET, k) for k in odd}
    r = c.list_multipart_uploads(Bucket=BRANCH_BUCKET, Prefix=base, EncodingType="url")
    assert r.get("EncodingType") == "url"
    encoded = [u["Key"] for u in r["Uploads"]]  # botocore does not decode this operation's keys
    assert all(" " not in k and all(ord(ch) < 128 for ch in k) for k in encoded), encoded
    assert sorted(unquote_plus(k) for k in encoded) == sorted(odd)
    assert unquote_plus(r["Prefix"]) == base
    # without encoding-type the keys come back as they are
    assert sorted(u["Key"] for u in c.list_multipart_uploads(Bucket=BRANCH_BUCKET, Prefix=base)["Uploads"]) == sorted(odd)
    for k, uid in made.items():
        c.abort_multipart_upload(Bucket=BRANCH_BUCKET, Key=k, UploadId=uid)


def test_list_parts_paging(mode_server):
    c = s3(mode_server)
    key = f"{BRANCH}/{new_rel()}"
    uid = create(c, BUCKET, key)
    blobs = {n: random_bytes(100 + n) for n in (1, 3, 7, 9)}
    etags = {}
    for n, data in blobs.items():
        etags[n] = upload_parts(c, BUCKET, key, uid, [data], first=n)[0]["ETag"]
    r = c.list_parts(Bucket=BUCKET, Key=key, UploadId=uid, MaxParts=2)
    assert [p["PartNumber"] for p in r["Parts"]] == [1, 3]
    assert (r["IsTruncated"], r["NextPartNumberMarker"], r["MaxParts"]) == (True, 3, 2)
    r = c.list_parts(Bucket=BUCKET, Key=key, UploadId=uid, MaxParts=2, PartNumberMarker=3)
    assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in r["Parts"]] == [(n, etags[n], 100 + n) for n in (7, 9)]
    assert r["PartNumberMarker"] == 3
    assert not r["IsTruncated"]
    r = c.list_parts(Bucket=BUCKET, Key=key, UploadId=uid, PartNumberMarker=9)
    assert (r.get("Parts", []), r["IsTruncated"]) == ([], False)
    pg = c.get_paginator("list_parts").paginate(Bucket=BUCKET, Key=key, UploadId=uid,
                                                PaginationConfig={"PageSize": 1})
    assert [p["PartNumber"] for page in pg for p in page["Parts"]] == [1, 3, 7, 9]
    c.abort_multipart_upload(Bucket=BUCKET, Key=key, UploadId=uid)


def test_completed_upload_leaves_the_listing(mode_server):
    c = s3(mode_server)
    rel = new_rel()
    uid = create(c, BRANCH_BUCKET, rel)
    assert _uploads(c, BRANCH_BUCKET, rel) == [(rel, uid)]
    parts = upload_parts(c, BRANCH_BUCKET, rel, uid, [b"only part"])
    complete(c, BRANCH_BUCKET, rel, uid, parts)
    assert _uploads(c, BRANCH_BUCKET, rel) == []
    assert _uploads(c, BUCKET, f"{BRANCH}/{rel}") == []


def test_uploads_of_another_branch(server):
    c = s3(server)
    branch = new_branch_name("mpb")
    c.create_bucket(Bucket=f"{BUCKET}.{branch}")
    rel = new_rel()
    uid = create(c, f"{BUCKET}.{branch}", rel)
    assert _uploads(c, f"{BUCKET}.{branch}", rel) == [(rel, uid)]
    assert _uploads(c, BUCKET, f"{branch}/{rel}") == [(f"{branch}/{rel}", uid)]
    assert _uploads(c, BRANCH_BUCKET, rel) == []
    assert _uploads(c, BUCKET, f"{BRANCH}/{rel}") == []
    # the id belongs to that branch's key only
    assert fail(c.list_parts, Bucket=BRANCH_BUCKET, Key=rel, UploadId=uid) == (404, "NoSuchUpload")
    parts = upload_parts(c, BUCKET, f"{branch}/{rel}", uid, [b"on a branch"])
    complete(c, f"{BUCKET}.{branch}", rel, uid, parts)
    assert read(c, BUCKET, f"{branch}/{rel}") == b"on a branch"
    assert fail(c.head_object, Bucket=BRANCH_BUCKET, Key=rel) == (404, "404")
