"""CreateBucket / DeleteBucket on both addressing forms: a bare name is a repository, a
``<repo>.<branch>`` name is a branch (created from the default branch). Re-creating answers
409 BucketAlreadyOwnedByYou; deleting a repository whose default branch holds objects (or that
has other branches), or a branch with uncommitted objects, answers 409 BucketNotEmpty."""

from __future__ import annotations

from botocore.exceptions import ClientError

from harness import BRANCH, BUCKET, boto3_client, new_branch_name, new_repo_name


def _status(r) -> int:
    return r["ResponseMetadata"]["HTTPStatusCode"]


def _cli_fails(r, verb: str, url: str, code: str) -> None:
    assert r.rc == 1, (r.rc, r.stdout, r.stderr)
    want = f"{verb} failed: {url} An error occurred ({code}) when calling the "
    assert want in r.stderr, r.stderr


def test_cli_mb_rb_repository(cli, server):
    repo = new_repo_name("mb")
    r = cli.s3("mb", f"s3://{repo}")
    assert r.stdout.strip() == f"make_bucket: {repo}", r.stdout
    s3 = _boto(server)
    assert repo in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert _status(s3.head_bucket(Bucket=repo)) == 200
    # a new repository has its default branch (listing the bare bucket shows branch prefixes)
    ls = s3.list_objects_v2(Bucket=repo, Delimiter="/")
    assert [p["Prefix"] for p in ls.get("CommonPrefixes", [])] == [f"{BRANCH}/"], ls

    _cli_fails(cli.s3("mb", f"s3://{repo}", check=False), "make_bucket", f"s3://{repo}", "BucketAlreadyOwnedByYou")

    s3.put_object(Bucket=repo, Key=f"{BRANCH}/keep.txt", Body=b"x")
    _cli_fails(cli.s3("rb", f"s3://{repo}", check=False), "remove_bucket", f"s3://{repo}", "BucketNotEmpty")
    assert _status(s3.head_bucket(Bucket=repo)) == 200
    s3.delete_object(Bucket=repo, Key=f"{BRANCH}/keep.txt")

    r = cli.s3("rb", f"s3://{repo}")
    assert r.stdout.strip() == f"remove_bucket: {repo}", r.stdout
    f = _failure(s3, "head_bucket", Bucket=repo)
    assert f == (404, "404")
    assert repo not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_cli_mb_rb_branch_bucket(cli, server):
    branch = new_branch_name()
    bucket = f"{BUCKET}.{branch}"
    r = cli.s3("mb", f"s3://{bucket}")
    assert r.stdout.strip() == f"make_bucket: {bucket}", r.stdout
    s3 = _boto(server)
    assert _status(s3.head_bucket(Bucket=bucket)) == 200
    # the branch shows up as a prefix of the repository bucket
    ls = s3.list_objects_v2(Bucket=BUCKET, Delimiter="/")
    assert f"{branch}/" in [p["Prefix"] for p in ls.get("CommonPrefixes", [])], ls

    # an object written through the branch bucket is <branch>/<key> in the repository bucket
    s3.put_object(Bucket=bucket, Key="d/one.txt", Body=b"one")
    s3.put_object(Bucket=bucket, Key="two.txt", Body=b"two")
    assert s3.get_object(Bucket=BUCKET, Key=f"{branch}/d/one.txt")["Body"].read() == b"one"
    _cli_fails(cli.s3("rb", f"s3://{bucket}", check=False), "remove_bucket", f"s3://{bucket}", "BucketNotEmpty")

    # --force empties the branch (recursive listing of the branch bucket) and then deletes it
    r = cli.s3("rb", "--force", f"s3://{bucket}")
    lines = sorted(r.stdout.strip().splitlines())
    assert lines == sorted([f"delete: s3://{bucket}/d/one.txt", f"delete: s3://{bucket}/two.txt",
                            f"remove_bucket: {bucket}"]), r.stdout
    assert _failure(s3, "head_bucket", Bucket=bucket) == (404, "404")
    ls = s3.list_objects_v2(Bucket=BUCKET, Delimiter="/")
    assert f"{branch}/" not in [p["Prefix"] for p in ls.get("CommonPrefixes", [])], ls


def test_boto3_create_delete_bucket(boto):
    s3 = boto.s3
    repo = new_repo_name("cb")
    r = s3.create_bucket(Bucket=repo)
    assert _status(r) == 200
    assert r["Location"] == f"/{repo}"
    f = boto.failure("create_bucket", Bucket=repo)
    assert (f.status, f.code) == (409, "BucketAlreadyOwnedByYou"), f.message

    branch_bucket = f"{repo}.feature"
    assert _status(s3.create_bucket(Bucket=branch_bucket)) == 200
    f = boto.failure("create_bucket", Bucket=branch_bucket)
    assert (f.status, f.code) == (409, "BucketAlreadyOwnedByYou"), f.message

    # objects on the default branch (seen through the repository bucket) …
    s3.put_object(Bucket=repo, Key=f"{BRANCH}/base.txt", Body=b"base")
    # … and an uncommitted object on the branch
    s3.put_object(Bucket=branch_bucket, Key="staged.txt", Body=b"staged")
    assert s3.get_object(Bucket=repo, Key="feature/staged.txt")["Body"].read() == b"staged"

    f = boto.failure("delete_bucket", Bucket=branch_bucket)
    assert (f.status, f.code) == (409, "BucketNotEmpty"), f.message
    f = boto.failure("delete_bucket", Bucket=repo)
    assert (f.status, f.code) == (409, "BucketNotEmpty"), f.message

    assert _status(s3.delete_object(Bucket=branch_bucket, Key="staged.txt")) == 204
    assert _status(s3.delete_bucket(Bucket=branch_bucket)) == 204
    f = boto.failure("head_bucket", Bucket=branch_bucket)
    assert (f.status, f.code) == (404, "404"), f.message
    f = boto.failure("delete_bucket", Bucket=branch_bucket)
    assert (f.status, f.code) == (404, "NoSuchBucket"), f.message

    # the default branch still holds base.txt: the repository is not empty
    f = boto.failure("delete_bucket", Bucket=repo)
    assert (f.status, f.code) == (409, "BucketNotEmpty"), f.message
    s3.delete_object(Bucket=repo, Key=f"{BRANCH}/base.txt")
    assert _status(s3.delete_bucket(Bucket=repo)) == 204
    f = boto.failure("head_bucket", Bucket=repo)
    assert (f.status, f.code) == (404, "404"), f.message
    f = boto.failure("delete_bucket", Bucket=repo)
    assert (f.status, f.code) == (404, "NoSuchBucket"), f.message
    f = boto.failure("list_objects_v2", Bucket=repo)
    assert (f.status, f.code) == (404, "NoSuchBucket"), f.message

    # the name is free again
    assert _status(s3.create_bucket(Bucket=repo)) == 200
    assert _status(s3.delete_bucket(Bucket=repo)) == 204


def test_create_bucket_refusals(boto):
    f = boto.failure("create_bucket", Bucket="Bad_Name")
    assert (f.status, f.code) == (400, "InvalidBucketName"), f.message
    # a branch of a repository that does not exist
    f = boto.failure("create_bucket", Bucket=f"{new_repo_name('nr')}.feature")
    assert (f.status, f.code) == (404, "NoSuchBucket"), f.message


# --------------------------------------------------------------------------------------


def _boto(server):
    return boto3_client(server, "when_required").s3


def _failure(s3, op, **kw):
    try:
        getattr(s3, op)(**kw)
    except ClientError as e:
        return e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Code"]
    raise AssertionError(f"{op}({kw}) unexpectedly succeeded")
