"""Gateway identity through real clients: keys made by ``lakegate keys create`` for a lakeFS user
whose policy (set with lakefs-sdk) is read-only; boto3 and the AWS CLI read with it, and lakeFS's
own permission decision refuses its writes as S3 ``AccessDenied``; ``lakegate keys delete`` makes
the key unknown (``InvalidAccessKeyId``) in the running gateway, without a restart."""

from __future__ import annotations

import json
import subprocess
import time
import uuid

import lakefs_sdk
import pytest
from botocore.exceptions import ClientError

from harness import BRANCH, BUCKET, LAKEGATE_BIN, LakegateServer, make_client, random_bytes

from .support import unique_key


def _lakefs(server: LakegateServer) -> lakefs_sdk.ApiClient:
    cfg = lakefs_sdk.Configuration(host=server.info["api_endpoint"],
                                   username=server.info["lakefs_access_key_id"],
                                   password=server.info["lakefs_secret_access_key"])
    return lakefs_sdk.ApiClient(cfg)


def _keys(server: LakegateServer, *args: str) -> str:
    cmd = [LAKEGATE_BIN, "keys", *args, "--dev", str(server.data_dir)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, f"{' '.join(cmd)}: {out.stderr}"
    return out.stdout


@pytest.fixture
def reader(server: LakegateServer):
    """A fresh lakeFS user with the built-in FSReadAll policy and a gateway key for it."""
    user = f"reader-{uuid.uuid4().hex[:8]}"
    with _lakefs(server) as api:
        auth = lakefs_sdk.AuthApi(api)
        auth.create_user(lakefs_sdk.UserCreation(id=user))
        auth.attach_policy_to_user(user, "FSReadAll")
    key = json.loads(_keys(server, "create", "--user", user, "--json"))
    assert key["user_id"] == user and key["principal_id"].endswith(key["access_key_id"])
    yield key
    if key["access_key_id"] in _keys(server, "list", "--json"):
        _keys(server, "delete", key["access_key_id"])


@pytest.mark.parametrize("kind", ["boto3-when_required", "awscli"])
def test_a_read_only_users_key_reads_and_lakefs_refuses_its_writes(kind, server, reader, tmp_path):
    admin = make_client(kind, server, tmp_path / "admin-home")
    key, data = unique_key(), random_bytes(1000)
    admin.put(BUCKET, key, data)
    ro = make_client(kind, server, tmp_path / "reader-home", reader["access_key_id"], reader["secret_access_key"])
    assert ro.get(BUCKET, key).body == data
    if kind == "awscli":
        listed = ro.run("s3api", "list-objects-v2", "--bucket", BUCKET, "--prefix", key).json()
        refused = ro.failure("put-object", "--bucket", BUCKET, "--key", f"{key}.2")
        deleted = ro.failure("delete-object", "--bucket", BUCKET, "--key", key)
    else:
        listed = ro.s3.list_objects_v2(Bucket=BUCKET, Prefix=key)
        refused = ro.failure("put_object", Bucket=BUCKET, Key=f"{key}.2", Body=b"x")
        deleted = ro.failure("delete_object", Bucket=BUCKET, Key=key)
    assert [o["Key"] for o in listed["Contents"]] == [key]
    assert refused.code == "AccessDenied" and deleted.code == "AccessDenied", (refused, deleted)
    assert admin.get(BUCKET, key).body == data, "nothing was deleted"


def test_keys_show_and_delete_take_effect_in_the_running_gateway(server, reader, tmp_path):
    shown = json.loads(_keys(server, "show", reader["access_key_id"], "--json"))
    assert shown == {"access_key_id": reader["access_key_id"], "principal_id": reader["principal_id"],
                     "mode": "principal", "user_id": reader["user_id"], "attached": True}
    ro = make_client("boto3-when_required", server, tmp_path / "h", reader["access_key_id"],
                     reader["secret_access_key"])
    ro.s3.list_objects_v2(Bucket=BUCKET, Prefix=f"{BRANCH}/")
    _keys(server, "delete", reader["access_key_id"])
    # The gateway looks at its key file at most once a second for keys it knows.
    deadline = time.monotonic() + 5
    while True:
        try:
            ro.s3.list_objects_v2(Bucket=BUCKET, Prefix=f"{BRANCH}/")
        except ClientError as e:
            assert (e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Code"]) == \
                (403, "InvalidAccessKeyId")
            break
        assert time.monotonic() < deadline, "the deleted key is still accepted after 5 s"
        time.sleep(0.2)
    with _lakefs(server) as api:
        listed = lakefs_sdk.ExternalApi(api).list_user_external_principals(reader["user_id"])
        assert listed.results == []
