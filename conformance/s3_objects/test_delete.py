"""DeleteObject / DeleteObjects: 1,000 keys in one request (verbose on HTTP, quiet on HTTPS),
missing keys reported as deleted, more than 1,000 keys → 400 MalformedXML, an empty Objects list
→ 400 MalformedXML, single deletes are idempotent 204s, ``aws s3 rm``."""

from __future__ import annotations

import pytest

from harness import BRANCH, BUCKET, ObjCli, boto3_client

from .support import bulk_put, new_prefix

BRANCH_BUCKET = f"{BUCKET}.{BRANCH}"


def _fill(server, bucket: str, keys) -> None:
    bulk_put(server, bucket, {k: k.encode("utf-8") for k in keys})


def _count(s3, bucket: str, prefix: str) -> int:
    return sum(p["KeyCount"] for p in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix))


@pytest.mark.parametrize("scheme,policy,quiet", [("http", "when_supported", False), ("https", "when_required", True)],
                         ids=["http-verbose", "https-quiet"])
@pytest.mark.matrix("boto3", "bulk delete")
def test_delete_objects_1000_keys(server_for, scheme, policy, quiet):
    server = server_for(scheme)
    s3 = boto3_client(server, policy).s3
    prefix = f"{BRANCH}/{new_prefix('del')}"
    keys = [f"{prefix}k{i:04d}" for i in range(1000)]
    keep = f"{prefix}zz-keep"
    _fill(server, BUCKET, keys + [keep])
    assert _count(s3, BUCKET, prefix) == 1001

    r = s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": k} for k in keys], "Quiet": quiet})
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert r.get("Errors", []) == []
    if quiet:
        assert r.get("Deleted", []) == []  # quiet mode reports only errors
    else:
        deleted = [d["Key"] for d in r["Deleted"]]
        assert sorted(deleted) == keys and len(deleted) == len(set(deleted))
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix)["Contents"]] == [keep]


@pytest.mark.matrix("boto3", "bulk delete")
def test_delete_objects_missing_keys_are_deleted(boto):
    s3 = boto.s3
    prefix = new_prefix("del")
    s3.put_object(Bucket=BRANCH_BUCKET, Key=prefix + "present", Body=b"p")
    keys = [prefix + "present", prefix + "absent", prefix + "sp ace+ü"]
    r = s3.delete_objects(Bucket=BRANCH_BUCKET, Delete={"Objects": [{"Key": k} for k in keys]})
    assert sorted(d["Key"] for d in r["Deleted"]) == sorted(keys)
    assert r.get("Errors", []) == []
    assert _count(s3, BRANCH_BUCKET, prefix) == 0


@pytest.mark.parametrize("n", [1001, 1500])
@pytest.mark.matrix("boto3", "bulk delete", "error codes")
def test_delete_objects_more_than_1000_is_malformed_xml(boto, n):
    prefix = f"{BRANCH}/{new_prefix('del')}"
    boto.s3.put_object(Bucket=BUCKET, Key=prefix + "k0000", Body=b"x")
    f = boto.failure("delete_objects", Bucket=BUCKET,
                     Delete={"Objects": [{"Key": f"{prefix}k{i:04d}"} for i in range(n)]})
    assert (f.status, f.code) == (400, "MalformedXML"), f.message
    # nothing was deleted
    assert boto.s3.head_object(Bucket=BUCKET, Key=prefix + "k0000")["ContentLength"] == 1


@pytest.mark.matrix("boto3", "bulk delete", "error codes")
def test_delete_objects_empty_list_is_malformed_xml(boto):
    f = boto.failure("delete_objects", Bucket=BUCKET, Delete={"Objects": []})
    assert (f.status, f.code) == (400, "MalformedXML"), f.message


@pytest.mark.matrix("boto3", "delete")
def test_delete_object_is_idempotent(boto):
    s3 = boto.s3
    key = new_prefix("del") + "once"
    s3.put_object(Bucket=BRANCH_BUCKET, Key=key, Body=b"x")
    assert s3.delete_object(Bucket=BRANCH_BUCKET, Key=key)["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert s3.delete_object(Bucket=BRANCH_BUCKET, Key=key)["ResponseMetadata"]["HTTPStatusCode"] == 204
    f = boto.failure("get_object", Bucket=BRANCH_BUCKET, Key=key)
    assert (f.status, f.code) == (404, "NoSuchKey")


@pytest.mark.matrix("AWS CLI", "delete")
def test_cli_rm_single_and_recursive(cli: ObjCli, server):
    s3 = boto3_client(server, "when_required").s3
    rel = new_prefix("del")
    keys = [f"{rel}a.txt", f"{rel}sub/b.txt", f"{rel}sub/deeper/c d.txt", f"{rel}sub/ü.txt"]
    _fill(server, BRANCH_BUCKET, keys)
    r = cli.s3("rm", f"s3://{BUCKET}/{BRANCH}/{keys[0]}")
    assert r.stdout.strip() == f"delete: s3://{BUCKET}/{BRANCH}/{keys[0]}", r.stdout
    r = cli.s3("rm", "--recursive", f"s3://{BRANCH_BUCKET}/{rel}")
    assert sorted(r.stdout.strip().splitlines()) == sorted(f"delete: s3://{BRANCH_BUCKET}/{k}" for k in keys[1:]), r.stdout
    assert _count(s3, BRANCH_BUCKET, rel) == 0
