"""CopyObject: ``aws s3 cp s3://… s3://…``; boto3 copy_object within a repository, across
repositories, across branches (``demo.main`` → ``demo.<branch>``); MetadataDirective COPY vs
REPLACE; the x-amz-copy-source-if-* preconditions (412 PreconditionFailed); a missing source."""

from __future__ import annotations

import datetime

import pytest

from harness import (BRANCH, BUCKET, MiB, ObjCli, boto3_client, md5_etag, new_branch_name, new_repo_name,
                     random_bytes, sha256)

from .support import new_prefix

BRANCH_BUCKET = f"{BUCKET}.{BRANCH}"
PAST = datetime.datetime(2001, 1, 1, tzinfo=datetime.timezone.utc)
FUTURE = datetime.datetime(2100, 1, 1, tzinfo=datetime.timezone.utc)


def _put_source(s3, size: int = 100_000):
    data = random_bytes(size)
    rel = new_prefix("cp") + "src.bin"
    s3.put_object(Bucket=BRANCH_BUCKET, Key=rel, Body=data, Metadata={"origin": "source", "n": "1"},
                  ContentType="application/x-copy-src", CacheControl="max-age=5")
    return rel, data


def _status(r) -> int:
    return r["ResponseMetadata"]["HTTPStatusCode"]


@pytest.mark.matrix("AWS CLI", "copy")
def test_cli_cp_s3_to_s3(cli: ObjCli, server):
    s3 = boto3_client(server, "when_required").s3
    rel, data = _put_source(s3)
    dst = rel.replace("src.bin", "dst.bin")
    r = cli.s3("cp", f"s3://{BUCKET}/{BRANCH}/{rel}", f"s3://{BRANCH_BUCKET}/{dst}", "--no-progress")
    assert r.stdout.strip() == f"copy: s3://{BUCKET}/{BRANCH}/{rel} to s3://{BRANCH_BUCKET}/{dst}", r.stdout
    got = s3.get_object(Bucket=BUCKET, Key=f"{BRANCH}/{dst}")
    assert sha256(got["Body"].read()) == sha256(data)
    assert got["ETag"] == md5_etag(data)
    # the CLI copies metadata and content type along
    assert got["Metadata"] == {"origin": "source", "n": "1"}
    assert got["ContentType"] == "application/x-copy-src"
    # the source is untouched
    assert s3.get_object(Bucket=BRANCH_BUCKET, Key=rel)["Body"].read() == data


@pytest.mark.matrix("boto3", "copy")
def test_copy_object_within_repository(boto):
    s3 = boto.s3
    rel, data = _put_source(s3)
    dst = f"{BRANCH}/{new_prefix('cp')}copy.bin"
    r = s3.copy_object(Bucket=BUCKET, Key=dst, CopySource={"Bucket": BUCKET, "Key": f"{BRANCH}/{rel}"})
    assert _status(r) == 200
    assert r["CopyObjectResult"]["ETag"] == md5_etag(data)
    got = s3.get_object(Bucket=BUCKET, Key=dst)
    assert sha256(got["Body"].read()) == sha256(data)
    assert got["Metadata"] == {"origin": "source", "n": "1"}
    assert got["ContentType"] == "application/x-copy-src"
    assert got["CacheControl"] == "max-age=5"
    # CopySource as a "bucket/key" string with the branch-bucket form
    dst2 = new_prefix("cp") + "copy2.bin"
    s3.copy_object(Bucket=BRANCH_BUCKET, Key=dst2, CopySource=f"{BRANCH_BUCKET}/{rel}")
    assert sha256(s3.get_object(Bucket=BRANCH_BUCKET, Key=dst2)["Body"].read()) == sha256(data)


@pytest.mark.matrix("boto3", "copy")
def test_copy_object_across_repositories(boto):
    s3 = boto.s3
    rel, data = _put_source(s3, MiB + 3)
    repo = new_repo_name("cpx")
    s3.create_bucket(Bucket=repo)
    try:
        r = s3.copy_object(Bucket=repo, Key=f"{BRANCH}/x/copied.bin", CopySource={"Bucket": BRANCH_BUCKET, "Key": rel})
        assert r["CopyObjectResult"]["ETag"] == md5_etag(data)
        got = s3.get_object(Bucket=f"{repo}.{BRANCH}", Key="x/copied.bin")
        assert sha256(got["Body"].read()) == sha256(data)
        assert got["Metadata"] == {"origin": "source", "n": "1"}
        assert got["ContentType"] == "application/x-copy-src"
        # and back, with REPLACE
        back = new_prefix("cp") + "back.bin"
        s3.copy_object(Bucket=BRANCH_BUCKET, Key=back, CopySource={"Bucket": repo, "Key": f"{BRANCH}/x/copied.bin"},
                       MetadataDirective="REPLACE", Metadata={"k": "replaced"}, ContentType="text/x-back")
        h = s3.head_object(Bucket=BRANCH_BUCKET, Key=back)
        assert (h["Metadata"], h["ContentType"], h["ContentLength"]) == ({"k": "replaced"}, "text/x-back", len(data))
        assert sha256(s3.get_object(Bucket=BRANCH_BUCKET, Key=back)["Body"].read()) == sha256(data)
    finally:
        s3.delete_object(Bucket=repo, Key=f"{BRANCH}/x/copied.bin")
        s3.delete_bucket(Bucket=repo)


@pytest.mark.matrix("boto3", "copy")
def test_copy_object_across_branches(boto):
    s3 = boto.s3
    rel, data = _put_source(s3)
    branch = new_branch_name()
    s3.create_bucket(Bucket=f"{BUCKET}.{branch}")
    try:
        s3.copy_object(Bucket=f"{BUCKET}.{branch}", Key="from-main.bin", CopySource={"Bucket": BRANCH_BUCKET, "Key": rel})
        got = s3.get_object(Bucket=BUCKET, Key=f"{branch}/from-main.bin")
        assert sha256(got["Body"].read()) == sha256(data)
        assert got["Metadata"] == {"origin": "source", "n": "1"}
        # the copy exists only on the new branch
        f = boto.failure("head_object", Bucket=BRANCH_BUCKET, Key="from-main.bin")
        assert (f.status, f.code) == (404, "404")
        # repository-bucket form on both sides: demo/<branch>/… → demo/main/…
        s3.copy_object(Bucket=BUCKET, Key=f"{BRANCH}/{rel}.back", CopySource=f"{BUCKET}/{branch}/from-main.bin")
        assert sha256(s3.get_object(Bucket=BRANCH_BUCKET, Key=f"{rel}.back")["Body"].read()) == sha256(data)
    finally:
        s3.delete_object(Bucket=f"{BUCKET}.{branch}", Key="from-main.bin")
        s3.delete_bucket(Bucket=f"{BUCKET}.{branch}")


@pytest.mark.matrix("boto3", "copy", "metadata")
def test_metadata_directive(boto):
    s3 = boto.s3
    rel, data = _put_source(s3)
    # COPY (the default): metadata in the request is ignored, the source's is kept
    kept = new_prefix("cp") + "kept.bin"
    s3.copy_object(Bucket=BRANCH_BUCKET, Key=kept, CopySource={"Bucket": BRANCH_BUCKET, "Key": rel},
                   MetadataDirective="COPY", Metadata={"ignored": "yes"})
    h = s3.head_object(Bucket=BRANCH_BUCKET, Key=kept)
    assert h["Metadata"] == {"origin": "source", "n": "1"}
    assert h["ContentType"] == "application/x-copy-src"
    # REPLACE: exactly the request's metadata and headers
    repl = new_prefix("cp") + "replaced.bin"
    s3.copy_object(Bucket=BRANCH_BUCKET, Key=repl, CopySource={"Bucket": BRANCH_BUCKET, "Key": rel},
                   MetadataDirective="REPLACE", Metadata={"fresh": "value"}, ContentType="text/x-replaced",
                   CacheControl="no-cache")
    h = s3.head_object(Bucket=BRANCH_BUCKET, Key=repl)
    assert h["Metadata"] == {"fresh": "value"}
    assert h["ContentType"] == "text/x-replaced"
    assert h["CacheControl"] == "no-cache"
    assert h["ETag"] == md5_etag(data)
    assert sha256(s3.get_object(Bucket=BRANCH_BUCKET, Key=repl)["Body"].read()) == sha256(data)
    # copying an object onto itself requires REPLACE
    f = boto.failure("copy_object", Bucket=BRANCH_BUCKET, Key=rel, CopySource={"Bucket": BRANCH_BUCKET, "Key": rel})
    assert (f.status, f.code) == (400, "InvalidRequest"), f.message
    s3.copy_object(Bucket=BRANCH_BUCKET, Key=rel, CopySource={"Bucket": BRANCH_BUCKET, "Key": rel},
                   MetadataDirective="REPLACE", Metadata={"self": "replaced"})
    h = s3.head_object(Bucket=BRANCH_BUCKET, Key=rel)
    assert h["Metadata"] == {"self": "replaced"}
    assert h["ContentLength"] == len(data)


PRECONDITIONS = [
    ("if-match-ok", {"CopySourceIfMatch": "{etag}"}, True),
    ("if-match-412", {"CopySourceIfMatch": '"0123456789abcdef0123456789abcdef"'}, False),
    ("if-none-match-412", {"CopySourceIfNoneMatch": "{etag}"}, False),
    ("if-none-match-ok", {"CopySourceIfNoneMatch": '"0123456789abcdef0123456789abcdef"'}, True),
    ("if-modified-since-412", {"CopySourceIfModifiedSince": FUTURE}, False),
    ("if-modified-since-ok", {"CopySourceIfModifiedSince": PAST}, True),
    ("if-unmodified-since-412", {"CopySourceIfUnmodifiedSince": PAST}, False),
    ("if-unmodified-since-ok", {"CopySourceIfUnmodifiedSince": FUTURE}, True),
    # AWS CopyObject: if-match true + if-unmodified-since false → copied
    ("if-match-ok+if-unmodified-since-false", {"CopySourceIfMatch": "{etag}", "CopySourceIfUnmodifiedSince": PAST}, True),
    # AWS CopyObject: if-none-match false + if-modified-since true → 412
    ("if-none-match-false+if-modified-since-true", {"CopySourceIfNoneMatch": "{etag}",
                                                    "CopySourceIfModifiedSince": PAST}, False),
]


@pytest.mark.matrix("boto3", "copy", "conditionals")
def test_copy_source_preconditions(boto):
    s3 = boto.s3
    rel, data = _put_source(s3, 1000)
    etag = md5_etag(data)
    problems = []
    for name, cond, ok in PRECONDITIONS:
        kw = {k: (v.format(etag=etag) if isinstance(v, str) else v) for k, v in cond.items()}
        dst = new_prefix("cp") + "cond.bin"
        args = dict(Bucket=BRANCH_BUCKET, Key=dst, CopySource={"Bucket": BRANCH_BUCKET, "Key": rel}, **kw)
        if ok:
            try:
                s3.copy_object(**args)
            except s3.exceptions.ClientError as e:
                problems.append(f"{name}: refused with {e.response['Error']['Code']}, want a copy")
                continue
            if s3.get_object(Bucket=BRANCH_BUCKET, Key=dst)["Body"].read() != data:
                problems.append(f"{name}: wrong bytes")
        else:
            f = boto.failure("copy_object", **args)
            if (f.status, f.code) != (412, "PreconditionFailed"):
                problems.append(f"{name}: got {(f.status, f.code)}, want (412, 'PreconditionFailed')")
            f = boto.failure("head_object", Bucket=BRANCH_BUCKET, Key=dst)
            if (f.status, f.code) != (404, "404"):
                problems.append(f"{name}: a refused copy wrote the destination")
    assert not problems, "\n".join(problems)


@pytest.mark.matrix("AWS CLI", "copy", "conditionals")
def test_cli_copy_source_if_none_match_412(cli: ObjCli, server):
    s3 = boto3_client(server, "when_required").s3
    rel, data = _put_source(s3, 10)
    f = cli.failure("copy-object", "--bucket", BUCKET, "--key", f"{BRANCH}/{rel}.c",
                    "--copy-source", f"{BUCKET}/{BRANCH}/{rel}", "--copy-source-if-none-match", md5_etag(data))
    assert f.code == "PreconditionFailed", f.message


@pytest.mark.matrix("boto3", "copy", "error codes")
def test_copy_missing_source(boto):
    f = boto.failure("copy_object", Bucket=BRANCH_BUCKET, Key=new_prefix("cp") + "never",
                     CopySource={"Bucket": BRANCH_BUCKET, "Key": new_prefix("cp") + "absent"})
    assert (f.status, f.code) == (404, "NoSuchKey"), f.message
    f = boto.failure("copy_object", Bucket=BRANCH_BUCKET, Key=new_prefix("cp") + "never",
                     CopySource={"Bucket": new_repo_name("nb"), "Key": f"{BRANCH}/x"})
    assert (f.status, f.code) == (404, "NoSuchBucket"), f.message
