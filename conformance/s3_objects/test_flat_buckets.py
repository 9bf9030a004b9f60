"""``lakegate dev --flat-buckets`` (HTTP): a bare repository bucket addresses its default branch
with plain keys at the bucket root, so ``aws s3 cp/ls/rm`` work like on any S3 bucket; the same
objects are ``<repo>.<branch>/<key>`` as well."""

from __future__ import annotations

import re

import pytest

from harness import BRANCH, BUCKET, ObjCli, boto3_client, new_repo_name, random_bytes, sha256


@pytest.fixture
def flat_cli(flat_server, tmp_path) -> ObjCli:
    return ObjCli(flat_server, tmp_path / "aws-home")


def test_cli_cp_ls_rm_at_bucket_root(flat_cli: ObjCli, flat_server, tmp_path):
    repo = new_repo_name("flat")
    assert flat_cli.s3("mb", f"s3://{repo}").stdout.strip() == f"make_bucket: {repo}"
    s3 = boto3_client(flat_server, "when_required").s3

    a, b = random_bytes(1234), random_bytes(70_000)
    src = tmp_path / "src"
    (src / "dir").mkdir(parents=True)
    (src / "plain.txt").write_bytes(a)
    (src / "dir" / "nested.bin").write_bytes(b)
    r = flat_cli.s3("cp", "--recursive", str(src), f"s3://{repo}/", "--no-progress")
    assert sorted(line.rsplit(" to ", 1)[1] for line in r.stdout.splitlines()) == [
        f"s3://{repo}/dir/nested.bin", f"s3://{repo}/plain.txt"], r.stdout

    # bucket root: the keys, not the branches
    out = flat_cli.s3("ls", f"s3://{repo}/").stdout.splitlines()
    assert [line.split()[-1] for line in out] == ["dir/", "plain.txt"], out
    assert re.match(r"^ +PRE dir/$", out[0]), out
    out = flat_cli.s3("ls", "--recursive", f"s3://{repo}").stdout.splitlines()
    assert [(line.split()[-2], line.split()[-1]) for line in out] == [(str(len(b)), "dir/nested.bin"),
                                                                      (str(len(a)), "plain.txt")], out

    rc, body, err = flat_cli.s3_bytes("cp", f"s3://{repo}/dir/nested.bin", "-")
    assert rc == 0, err
    assert sha256(body) == sha256(b)
    # the same object through the branch bucket
    assert s3.get_object(Bucket=f"{repo}.{BRANCH}", Key="plain.txt")["Body"].read() == a

    r = flat_cli.s3("rm", "--recursive", f"s3://{repo}/")
    assert sorted(r.stdout.strip().splitlines()) == [f"delete: s3://{repo}/dir/nested.bin",
                                                     f"delete: s3://{repo}/plain.txt"], r.stdout
    assert s3.list_objects_v2(Bucket=repo)["KeyCount"] == 0
    s3.delete_bucket(Bucket=repo)


def test_boto3_flat_demo_bucket(flat_server):
    boto = boto3_client(flat_server, "when_supported")
    s3 = boto.s3
    data = random_bytes(4096)
    key = f"flat-{new_repo_name('k')}/obj.bin"
    s3.put_object(Bucket=BUCKET, Key=key, Body=data)
    assert s3.get_object(Bucket=f"{BUCKET}.{BRANCH}", Key=key)["Body"].read() == data
    # listing the bare bucket lists the default branch's keys, not branch prefixes
    page = s3.list_objects_v2(Bucket=BUCKET, Prefix=key.split("/")[0] + "/")
    assert [o["Key"] for o in page["Contents"]] == [key]
    assert page["Name"] == BUCKET  # the bucket as addressed, not <repo>.<branch>
    assert s3.list_objects(Bucket=f"{BUCKET}.{BRANCH}", Prefix=key)["Name"] == f"{BUCKET}.{BRANCH}"
    page = s3.list_objects_v2(Bucket=BUCKET, Delimiter="/")
    assert f"{BRANCH}/" not in [p["Prefix"] for p in page.get("CommonPrefixes", [])]
    assert key.split("/")[0] + "/" in [p["Prefix"] for p in page.get("CommonPrefixes", [])]
    # copy and delete with flat keys
    s3.copy_object(Bucket=BUCKET, Key=key + ".copy", CopySource={"Bucket": BUCKET, "Key": key})
    assert sha256(s3.get_object(Bucket=BUCKET, Key=key + ".copy")["Body"].read()) == sha256(data)
    # keys that begin or end with spaces are deleted as they are named, not trimmed
    spaced = [key + ".copy", f" {key} ", key + "_ "]
    for k in spaced[1:]:
        s3.put_object(Bucket=BUCKET, Key=k, Body=b"x")
    r = s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": key}] + [{"Key": k} for k in spaced]})
    assert sorted(d["Key"] for d in r["Deleted"]) == sorted([key] + spaced)
    assert not r.get("Errors")
    for k in spaced:
        assert boto.failure("head_object", Bucket=BUCKET, Key=k).status == 404
    f = boto.failure("get_object", Bucket=BUCKET, Key=key)
    assert (f.status, f.code) == (404, "NoSuchKey")
