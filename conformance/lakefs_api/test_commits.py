"""commit, logCommits, getCommit, and reads by commit id vs branch."""

import hashlib
import time

import lakefs_sdk
import pytest
from lakefs_sdk.exceptions import BadRequestException, NotFoundException

from conftest import error_message, unique_name, upload_bytes


def _commit(api_client, repo, branch, message, metadata=None, **kw):
    return lakefs_sdk.CommitsApi(api_client).commit(
        repo, branch, lakefs_sdk.CommitCreation(message=message, metadata=metadata, **kw))


def _head(api_client, repo, branch="main"):
    return lakefs_sdk.BranchesApi(api_client).get_branch(repo, branch).commit_id


def test_commit_201_moves_branch_head(api_client, server, repo):
    parent = _head(api_client, repo)
    upload_bytes(server, repo, "main", "data/a.txt", b"hello")
    before = int(time.time())
    resp = lakefs_sdk.CommitsApi(api_client).commit_with_http_info(
        repo, "main", lakefs_sdk.CommitCreation(message="first data", metadata={"k": "v", "x": "y"}))
    assert resp.status_code == 201
    c = resp.data
    assert c.message == "first data"
    assert c.metadata == {"k": "v", "x": "y"}
    assert c.parents == [parent]
    assert c.committer == "admin"
    assert before - 5 <= c.creation_date <= int(time.time()) + 5
    assert isinstance(c.meta_range_id, str) and c.meta_range_id
    assert c.id != parent
    assert _head(api_client, repo) == c.id


def test_branches_are_isolated(api_client, server, repo):
    lakefs_sdk.BranchesApi(api_client).create_branch(repo, lakefs_sdk.BranchCreation(name="feat", source="main"))
    main_head = _head(api_client, repo)
    upload_bytes(server, repo, "feat", "only-on-feat", b"f")
    objects = lakefs_sdk.ObjectsApi(api_client)
    with pytest.raises(NotFoundException):
        objects.stat_object(repo, "main", "only-on-feat")
    c = _commit(api_client, repo, "feat", "feature work")
    assert c.parents == [main_head]
    assert _head(api_client, repo, "feat") == c.id
    assert _head(api_client, repo, "main") == main_head
    with pytest.raises(NotFoundException):
        objects.stat_object(repo, "main", "only-on-feat")
    # main has nothing to commit
    with pytest.raises(BadRequestException):
        _commit(api_client, repo, "main", "nothing")


def test_commit_date_override(api_client, server, repo):
    upload_bytes(server, repo, "main", "f", b"1")
    c = _commit(api_client, repo, "main", "dated", date=1600000000)
    assert c.creation_date == 1600000000
    assert lakefs_sdk.CommitsApi(api_client).get_commit(repo, c.id).creation_date == 1600000000


def test_commit_no_changes_400(api_client, repo):
    head = _head(api_client, repo)
    with pytest.raises(BadRequestException) as ei:
        _commit(api_client, repo, "main", "nothing to see")
    assert ei.value.status == 400
    assert "no changes" in error_message(ei.value)
    assert _head(api_client, repo) == head


def test_commit_allow_empty_201(api_client, repo):
    head = _head(api_client, repo)
    c = _commit(api_client, repo, "main", "empty on purpose", allow_empty=True)
    assert c.parents == [head]
    assert _head(api_client, repo) == c.id


def test_commit_unknown_branch_404(api_client, repo):
    with pytest.raises(NotFoundException) as ei:
        _commit(api_client, repo, "nope", "m", allow_empty=True)
    error_message(ei.value)


def test_commit_unknown_repo_404(api_client):
    with pytest.raises(NotFoundException) as ei:
        _commit(api_client, unique_name(), "main", "m", allow_empty=True)
    error_message(ei.value)


def test_commit_missing_message_400(raw, repo):
    r = raw.request("POST", f"/repositories/{repo}/branches/main/commits", json_body={"metadata": {}})
    assert r.status == 400
    error_message(r)


def test_commit_bad_json_400(raw, repo):
    r = raw.request("POST", f"/repositories/{repo}/branches/main/commits", body=b"[1,2",
                    headers={"Content-Type": "application/json"})
    assert r.status == 400
    error_message(r)


def test_log_commits_order_and_pagination(api_client, server, repo):
    initial = _head(api_client, repo)
    upload_bytes(server, repo, "main", "one", b"1")
    c1 = _commit(api_client, repo, "main", "c1")
    upload_bytes(server, repo, "main", "two", b"2")
    c2 = _commit(api_client, repo, "main", "c2")
    refs = lakefs_sdk.RefsApi(api_client)

    resp = refs.log_commits_with_http_info(repo, "main")
    assert resp.status_code == 200
    log = resp.data
    assert [c.id for c in log.results] == [c2.id, c1.id, initial]
    assert [c.message for c in log.results[:2]] == ["c2", "c1"]
    assert log.results[0].parents == [c1.id]
    assert log.pagination.has_more is False
    assert log.pagination.results == 3

    p1 = refs.log_commits(repo, "main", amount=1)
    assert [c.id for c in p1.results] == [c2.id]
    assert p1.pagination.has_more is True
    assert p1.pagination.next_offset == c2.id
    p2 = refs.log_commits(repo, "main", amount=1, after=p1.pagination.next_offset)
    assert [c.id for c in p2.results] == [c1.id]

    # log from a commit id starts at that commit
    by_id = refs.log_commits(repo, c1.id)
    assert [c.id for c in by_id.results] == [c1.id, initial]


def test_log_commits_unknown_ref_404(api_client, repo):
    with pytest.raises(NotFoundException) as ei:
        lakefs_sdk.RefsApi(api_client).log_commits(repo, "no-such-ref")
    error_message(ei.value)


def test_get_commit(api_client, server, repo):
    upload_bytes(server, repo, "main", "x", b"x")
    c = _commit(api_client, repo, "main", "for get", metadata={"a": "b"})
    resp = lakefs_sdk.CommitsApi(api_client).get_commit_with_http_info(repo, c.id)
    assert resp.status_code == 200
    g = resp.data
    assert g.id == c.id
    assert g.message == "for get"
    assert g.metadata == {"a": "b"}
    assert g.parents == c.parents
    assert g.committer == c.committer
    assert g.creation_date == c.creation_date
    assert g.meta_range_id == c.meta_range_id


def test_get_commit_unknown_404(api_client, repo):
    with pytest.raises(NotFoundException) as ei:
        lakefs_sdk.CommitsApi(api_client).get_commit(repo, "0" * 64)
    error_message(ei.value)


def test_get_commit_unknown_repo_404(api_client):
    with pytest.raises(NotFoundException):
        lakefs_sdk.CommitsApi(api_client).get_commit(unique_name(), "0" * 64)


def test_reads_at_branch_see_staged_over_committed(api_client, server, repo):
    objects = lakefs_sdk.ObjectsApi(api_client)
    upload_bytes(server, repo, "main", "f.txt", b"version-1")
    c1 = _commit(api_client, repo, "main", "v1")
    upload_bytes(server, repo, "main", "f.txt", b"version-2-uncommitted")

    assert bytes(objects.get_object(repo, "main", "f.txt")) == b"version-2-uncommitted"
    assert bytes(objects.get_object(repo, c1.id, "f.txt")) == b"version-1"
    st_branch = objects.stat_object(repo, "main", "f.txt")
    st_commit = objects.stat_object(repo, c1.id, "f.txt")
    assert st_branch.checksum == hashlib.md5(b"version-2-uncommitted").hexdigest()
    assert st_commit.checksum == hashlib.md5(b"version-1").hexdigest()
    assert st_branch.size_bytes == 21
    assert st_commit.size_bytes == 9
    # listing at the commit shows the committed view only
    upload_bytes(server, repo, "main", "new-staged.txt", b"n")
    at_commit = objects.list_objects(repo, c1.id)
    assert [o.path for o in at_commit.results] == ["f.txt"]
    at_branch = objects.list_objects(repo, "main")
    assert [o.path for o in at_branch.results] == ["f.txt", "new-staged.txt"]


def test_delete_committed_object_hidden_at_branch_not_at_commit(api_client, server, repo):
    objects = lakefs_sdk.ObjectsApi(api_client)
    upload_bytes(server, repo, "main", "keep/me.bin", b"\x00\x01\x02payload")
    c1 = _commit(api_client, repo, "main", "add")
    objects.delete_object(repo, "main", "keep/me.bin")
    with pytest.raises(NotFoundException):
        objects.stat_object(repo, "main", "keep/me.bin")
    with pytest.raises(NotFoundException):
        objects.get_object(repo, "main", "keep/me.bin")
    assert [o.path for o in objects.list_objects(repo, "main").results] == []
    assert bytes(objects.get_object(repo, c1.id, "keep/me.bin")) == b"\x00\x01\x02payload"
    # committing the deletion keeps the old commit readable too
    c2 = _commit(api_client, repo, "main", "delete")
    with pytest.raises(NotFoundException):
        objects.stat_object(repo, c2.id, "keep/me.bin")
    assert objects.stat_object(repo, c1.id, "keep/me.bin").size_bytes == 10
