"""Ranged GETs (first / middle / suffix / open-ended / clipped, 416 InvalidRange), conditional
GET and HEAD (If-Match, If-None-Match → 304, If-Modified-Since, If-Unmodified-Since → 412, and
the combinations AWS documents for GetObject), conditional PUT (If-None-Match: * → 412; the CLI's
put-object --if-none-match is covered by s3_clients/test_clients.py::test_put_if_none_match_star)."""

from __future__ import annotations

import datetime

import pytest

from harness import BRANCH, BUCKET, ObjCli, boto3_client, md5_etag, random_bytes, sha256

from .support import new_prefix

BRANCH_BUCKET = f"{BUCKET}.{BRANCH}"
SIZE = 10_000
OTHER_ETAG = '"0123456789abcdef0123456789abcdef"'


@pytest.fixture
def obj(boto):
    data = random_bytes(SIZE)
    key = new_prefix("rng") + "obj.bin"
    boto.s3.put_object(Bucket=BRANCH_BUCKET, Key=key, Body=data)
    last_modified = boto.s3.head_object(Bucket=BRANCH_BUCKET, Key=key)["LastModified"]
    return key, data, last_modified


# --------------------------------------------------------------------------------------
# ranges
# --------------------------------------------------------------------------------------

RANGES = [
    ("bytes=0-99", 0, 99),                    # first bytes
    ("bytes=4000-4999", 4000, 4999),          # middle
    ("bytes=-500", SIZE - 500, SIZE - 1),     # suffix
    ("bytes=9990-", 9990, SIZE - 1),          # open-ended
    ("bytes=9000-20000", 9000, SIZE - 1),     # last-pos past the end is clipped
    ("bytes=0-0", 0, 0),                      # one byte
    ("bytes=-20000", 0, SIZE - 1),            # suffix longer than the object: all of it
]


@pytest.mark.matrix("boto3", "range get")
def test_ranged_get(boto, obj):
    key, data, _ = obj
    problems = []
    for rng, first, last in RANGES:
        r = boto.s3.get_object(Bucket=BRANCH_BUCKET, Key=key, Range=rng)
        body = r["Body"].read()
        got = (r["ResponseMetadata"]["HTTPStatusCode"], r.get("ContentRange"), r["ContentLength"], sha256(body), r["ETag"])
        want = (206, f"bytes {first}-{last}/{SIZE}", last - first + 1, sha256(data[first:last + 1]), md5_etag(data))
        if got != want:
            problems.append(f"{rng}: got status/Content-Range/Content-Length {got[:3]}, want {want[:3]}"
                            f"{'' if got[3] == want[3] else ' (wrong bytes)'}{'' if got[4] == want[4] else ' (wrong ETag)'}")
    assert not problems, "\n".join(problems)


@pytest.mark.matrix("boto3", "range get", "error codes")
def test_unsatisfiable_range_is_416_invalid_range(boto, obj):
    key, _, _ = obj
    for rng in ("bytes=10000-10010", "bytes=20000-", f"bytes={SIZE}-{SIZE}"):
        f = boto.failure("get_object", Bucket=BRANCH_BUCKET, Key=key, Range=rng)
        assert (f.status, f.code) == (416, "InvalidRange"), (rng, f.message)
        f = boto.failure("head_object", Bucket=BRANCH_BUCKET, Key=key, Range=rng)
        assert (f.status, f.code) == (416, "416"), (rng, f.message)  # HEAD: no body


@pytest.mark.matrix("boto3", "range get")
def test_syntactically_invalid_range_is_ignored(boto, obj):
    """RFC 9110 §14.2: a Range whose last-pos < first-pos is invalid and ignored → 200, whole body."""
    key, data, _ = obj
    r = boto.s3.get_object(Bucket=BRANCH_BUCKET, Key=key, Range="bytes=500-100")
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert "ContentRange" not in r
    assert sha256(r["Body"].read()) == sha256(data)


@pytest.mark.matrix("boto3", "range get")
def test_head_with_range_reports_the_range_length(boto, obj):
    """AWS HeadObject: "If the Range is satisfiable, only the ContentLength is affected"."""
    key, _, _ = obj
    h = boto.s3.head_object(Bucket=BRANCH_BUCKET, Key=key, Range="bytes=100-199")
    assert h["ContentLength"] == 100


@pytest.mark.matrix("AWS CLI", "range get", "conditionals")
def test_cli_range_and_conditionals(cli: ObjCli, server, tmp_path):
    data = random_bytes(SIZE)
    key = f"{BRANCH}/{new_prefix('rng')}cli.bin"
    boto3_client(server, "when_required").s3.put_object(Bucket=BUCKET, Key=key, Body=data)
    out = tmp_path / "part"
    r = cli.s3api("get-object", "--bucket", BUCKET, "--key", key, "--range", "bytes=1000-1999", str(out)).json()
    assert r["ContentRange"] == f"bytes 1000-1999/{SIZE}"
    assert r["ContentLength"] == 1000
    assert out.read_bytes() == data[1000:2000]
    f = cli.failure("get-object", "--bucket", BUCKET, "--key", key, "--range", f"bytes={SIZE}-", str(out))
    assert f.code == "InvalidRange", f.message
    f = cli.failure("get-object", "--bucket", BUCKET, "--key", key, "--if-none-match", md5_etag(data), str(out))
    assert f.code == "304", f.message
    f = cli.failure("get-object", "--bucket", BUCKET, "--key", key, "--if-match", OTHER_ETAG, str(out))
    assert f.code == "PreconditionFailed", f.message


# --------------------------------------------------------------------------------------
# conditional GET / HEAD
# --------------------------------------------------------------------------------------


@pytest.mark.matrix("boto3", "conditionals")
def test_conditional_get(boto, obj):
    key, data, lm = obj
    etag = md5_etag(data)
    s3 = boto.s3
    day = datetime.timedelta(days=1)

    def ok(**kw):
        r = s3.get_object(Bucket=BRANCH_BUCKET, Key=key, **kw)
        assert r["ResponseMetadata"]["HTTPStatusCode"] == 200, kw
        assert sha256(r["Body"].read()) == sha256(data), kw

    def fails(status, code, **kw):
        f = boto.failure("get_object", Bucket=BRANCH_BUCKET, Key=key, **kw)
        assert (f.status, f.code) == (status, code), (kw, f.message)
        fh = boto.failure("head_object", Bucket=BRANCH_BUCKET, Key=key, **kw)  # HEAD: bare status
        assert (fh.status, fh.code) == (status, str(status)), ("HEAD", kw, fh.message)

    ok(IfMatch=etag)
    ok(IfMatch="*")
    fails(412, "PreconditionFailed", IfMatch=OTHER_ETAG)
    fails(304, "304", IfNoneMatch=etag)
    fails(304, "304", IfNoneMatch="*")
    ok(IfNoneMatch=OTHER_ETAG)
    fails(304, "304", IfModifiedSince=lm)          # not modified since its own Last-Modified
    fails(304, "304", IfModifiedSince=lm + day)
    ok(IfModifiedSince=lm - day)
    fails(412, "PreconditionFailed", IfUnmodifiedSince=lm - day)
    ok(IfUnmodifiedSince=lm)
    ok(IfUnmodifiedSince=lm + day)
    # AWS GetObject: If-Match true + If-Unmodified-Since false → 200 with the data
    ok(IfMatch=etag, IfUnmodifiedSince=lm - day)
    # AWS GetObject: If-None-Match false + If-Modified-Since true → 304
    fails(304, "304", IfNoneMatch=etag, IfModifiedSince=lm - day)
    # If-None-Match true (etag differs) wins over If-Modified-Since false
    ok(IfNoneMatch=OTHER_ETAG, IfModifiedSince=lm + day)
    # a range is served only when the preconditions hold
    r = s3.get_object(Bucket=BRANCH_BUCKET, Key=key, IfMatch=etag, Range="bytes=0-9")
    assert r["Body"].read() == data[:10]
    f = boto.failure("get_object", Bucket=BRANCH_BUCKET, Key=key, IfMatch=OTHER_ETAG, Range="bytes=0-9")
    assert (f.status, f.code) == (412, "PreconditionFailed")


# --------------------------------------------------------------------------------------
# conditional PUT
# --------------------------------------------------------------------------------------


@pytest.mark.matrix("boto3", "conditionals")
def test_conditional_put_if_none_match_star(boto):
    s3 = boto.s3
    rel = new_prefix("rng") + "once.txt"
    first = b"first writer"
    r = s3.put_object(Bucket=BRANCH_BUCKET, Key=rel, Body=first, IfNoneMatch="*")
    assert r["ETag"] == md5_etag(first)
    for bucket, key in ((BRANCH_BUCKET, rel), (BUCKET, f"{BRANCH}/{rel}")):
        f = boto.failure("put_object", Bucket=bucket, Key=key, Body=b"second writer", IfNoneMatch="*")
        assert (f.status, f.code) == (412, "PreconditionFailed"), f.message
    got = s3.get_object(Bucket=BRANCH_BUCKET, Key=rel)
    assert got["Body"].read() == first
    # once deleted, the key can be created again
    s3.delete_object(Bucket=BRANCH_BUCKET, Key=rel)
    assert s3.put_object(Bucket=BRANCH_BUCKET, Key=rel, Body=b"third", IfNoneMatch="*")["ETag"] == md5_etag(b"third")
