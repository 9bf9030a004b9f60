"""commit, logCommits, getCommit, and reads by commit id vs branch."""

import hashlib
import json
import time

import lakefs_sdk
import pytest
from lakefs_sdk.exceptions import BadRequestException, NotFoundException

from harness import ns

from .support import error_message, unique_name, upload_bytes


def _commit(api_client, repo, branch, message, metadata=None, **kw):
    return lakefs_sdk.CommitsApi(api_client).commit(
        repo, branch, lakefs_sdk.CommitCreation(message=message, metadata=metadata, **kw))


def _head(api_client, repo, branch="main"):
    return lakefs_sdk.BranchesApi(api_client).get_branch(repo, branch).commit_id


@pytest.mark.ledger("commit")
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


@pytest.mark.ledger("commit", "statObject")
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


@pytest.mark.ledger("commit")
def test_commit_date_override(api_client, server, repo):
    upload_bytes(server, repo, "main", "f", b"1")
    c = _commit(api_client, repo, "main", "dated", date=1600000000)
    assert c.creation_date == 1600000000
    assert lakefs_sdk.CommitsApi(api_client).get_commit(repo, c.id).creation_date == 1600000000


@pytest.mark.ledger("commit")
def test_commit_no_changes_400(api_client, repo):
    head = _head(api_client, repo)
    with pytest.raises(BadRequestException) as ei:
        _commit(api_client, repo, "main", "nothing to see")
    assert ei.value.status == 400
    assert "no changes" in error_message(ei.value)
    assert _head(api_client, repo) == head


@pytest.mark.ledger("commit")
def test_commit_allow_empty_201(api_client, repo):
    head = _head(api_client, repo)
    c = _commit(api_client, repo, "main", "empty on purpose", allow_empty=True)
    assert c.parents == [head]
    assert _head(api_client, repo) == c.id


@pytest.mark.ledger("commit")
def test_commit_unknown_branch_404(api_client, repo):
    with pytest.raises(NotFoundException) as ei:
        _commit(api_client, repo, "nope", "m", allow_empty=True)
    error_message(ei.value)


@pytest.mark.ledger("commit")
def test_commit_unknown_repo_404(api_client):
    with pytest.raises(NotFoundException) as ei:
        _commit(api_client, unique_name(), "main", "m", allow_empty=True)
    error_message(ei.value)


@pytest.mark.ledger("commit")
def test_commit_missing_message_400(raw, repo):
    r = raw.request("POST", f"/repositories/{repo}/branches/main/commits", json_body={"metadata": {}})
    assert r.status == 400
    error_message(r)


@pytest.mark.ledger("commit")
def test_commit_bad_json_400(raw, repo):
    r = raw.request("POST", f"/repositories/{repo}/branches/main/commits", body=b"[1,2",
                    headers={"Content-Type": "application/json"})
    assert r.status == 400
    error_message(r)


@pytest.mark.ledger("logCommits")
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


@pytest.mark.ledger("logCommits")
def test_log_commits_unknown_ref_404(api_client, repo):
    with pytest.raises(NotFoundException) as ei:
        lakefs_sdk.RefsApi(api_client).log_commits(repo, "no-such-ref")
    error_message(ei.value)


@pytest.mark.ledger("getCommit")
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


@pytest.mark.ledger("getCommit")
def test_get_commit_unknown_404(api_client, repo):
    with pytest.raises(NotFoundException) as ei:
        lakefs_sdk.CommitsApi(api_client).get_commit(repo, "0" * 64)
    error_message(ei.value)


@pytest.mark.ledger("getCommit")
def test_get_commit_unknown_repo_404(api_client):
    with pytest.raises(NotFoundException):
        lakefs_sdk.CommitsApi(api_client).get_commit(unique_name(), "0" * 64)


@pytest.mark.ledger("getObject", "statObject", "listObjects")
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


@pytest.mark.ledger("deleteObject", "statObject", "getObject")
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


# ---------------------------------------------------------------------- commit: lakeFS's rules


@pytest.mark.ledger("commit", "diffBranch")
def test_commit_compares_staged_entries_by_identity(api_client, server, repo):
    # lakeFS committed.Commit: a staged entry whose identity (size, ETag, user metadata, content
    # type) equals the committed one is no change; the committed entry stays the base one
    first = upload_bytes(server, repo, "main", "same.txt", b"same bytes")
    c1 = _commit(api_client, repo, "main", "first")
    again = upload_bytes(server, repo, "main", "same.txt", b"same bytes")
    assert again["physical_address"] != first["physical_address"]
    assert lakefs_sdk.BranchesApi(api_client).diff_branch(repo, "main").results == []
    with pytest.raises(BadRequestException) as ei:
        _commit(api_client, repo, "main", "nothing new")
    assert error_message(ei.value) == "commit: no changes"
    objects = lakefs_sdk.ObjectsApi(api_client)
    # the refused commit left the staged entry staged
    assert objects.stat_object(repo, "main", "same.txt").physical_address == again["physical_address"]
    c2 = _commit(api_client, repo, "main", "empty", allow_empty=True)
    assert (c2.parents, c2.meta_range_id) == ([c1.id], c1.meta_range_id)
    assert objects.stat_object(repo, "main", "same.txt").physical_address == first["physical_address"]
    # other user metadata is another identity
    upload_bytes(server, repo, "main", "same.txt", b"same bytes", headers={"x-lakefs-meta-k": "v"})
    assert _commit(api_client, repo, "main", "metadata").meta_range_id != c1.meta_range_id


@pytest.mark.ledger("commit")
def test_commit_body_message_metadata_date_and_answer(raw, repo):
    path = f"/repositories/{repo}/branches/main/commits"
    r = raw.request("POST", path, json_body={"message": "", "allow_empty": True})
    assert r.status == 201, r.data
    doc = json.loads(r.data)
    # an empty message is a message; no metadata answers {}; generation and version are set
    assert (doc["message"], doc["metadata"], doc["committer"], doc["version"]) == ("", {}, "admin", 1)
    assert doc["generation"] == 2
    r = raw.request("POST", path, json_body={"message": "m", "allow_empty": True, "date": 1700000000,
                                             "metadata": {"a": "1"}})
    doc2 = json.loads(r.data)
    assert (doc2["creation_date"], doc2["metadata"], doc2["parents"], doc2["generation"]) == (
        1700000000, {"a": "1"}, [doc["id"]], 3)
    got = json.loads(raw.request("GET", f"/repositories/{repo}/commits/{doc['id']}").data)
    assert got["metadata"] == {} and got["id"] == doc["id"]


@pytest.mark.ledger("commit")
def test_commit_checks_in_lakefs_order(raw, api_client):
    repo = unique_name()
    lakefs_sdk.RepositoriesApi(api_client).create_repository(
        lakefs_sdk.RepositoryCreation(name=repo, storage_namespace=ns(repo), read_only=True))
    cases = [
        ("Bad_Repo", "main", {}, 400, "argument repository: repository id: invalid value: validation error"),
        (repo, "a.b", {}, 400, "argument branch: branch id: invalid value: validation error"),
        ("no-such-repo-x", "main", {}, 404, "repository not found"),
        # read-only before the branch
        (repo, "nope", {}, 403, "read-only repository"),
        (repo, "nope", {"force": True}, 404, "branch not found"),
        (repo, "main", {}, 403, "read-only repository"),
    ]
    for r_name, branch, extra, status, message in cases:
        r = raw.request("POST", f"/repositories/{r_name}/branches/{branch}/commits",
                        json_body={"message": "m", "allow_empty": True, **extra})
        assert (r.status, error_message(r)) == (status, message), (r_name, branch, extra)
    r = raw.request("POST", f"/repositories/{repo}/branches/main/commits",
                    json_body={"message": "m", "allow_empty": True, "force": True})
    assert r.status == 201


@pytest.mark.ledger("commit")
def test_commit_source_metarange_501(raw, repo):
    r = raw.request("POST", f"/repositories/{repo}/branches/main/commits", query=[("source_metarange", "x")],
                    json_body={"message": "m"})
    assert r.status == 501
    error_message(r)


@pytest.mark.ledger("getCommit")
def test_get_commit_failures_other_than_not_found_are_500(raw, repo):
    # pkg/api/controller.go GetCommit: repository not found and not found are 404, the rest 500
    for r_name, ref, status, message in [
        ("Bad_Repo", "main", 500, "argument repository: repository id: invalid value: validation error"),
        (repo, "main$", 500, "ref: invalid value: validation error: should point to a commit"),
        (repo, "main@1", 500, "ref: invalid value: validation error"),
        (repo, "main~5", 404, "commit not found"),
    ]:
        r = raw.request("GET", f"/repositories/{r_name}/commits/{ref}")
        assert (r.status, error_message(r)) == (status, message), ref


# ---------------------------------------------------------------------- findMergeBase


@pytest.mark.ledger("findMergeBase")
def test_find_merge_base_answers_as_lakefs_fills_it(api_client, server, raw, repo):
    base = _head(api_client, repo)
    lakefs_sdk.BranchesApi(api_client).create_branch(repo, lakefs_sdk.BranchCreation(name="src", source="main"))
    upload_bytes(server, repo, "src", "s", b"s")
    on_src = _commit(api_client, repo, "src", "on src").id
    upload_bytes(server, repo, "main", "d", b"d")
    on_main = _commit(api_client, repo, "main", "on main").id
    r = raw.request("GET", f"/repositories/{repo}/refs/src/merge/main")
    assert r.status == 200, r.data
    # Catalog.FindMergeBase returns the destination's commit first, and the controller reads it as
    # the source's: the two ids are swapped against their names
    assert json.loads(r.data) == {"source_commit_id": on_main, "destination_commit_id": on_src,
                                  "base_commit_id": base}
    sdk = lakefs_sdk.RefsApi(api_client).find_merge_base(repo, "main", "src")
    assert (sdk.source_commit_id, sdk.destination_commit_id, sdk.base_commit_id) == (on_src, on_main, base)
    for src, dst, status, message in [
        ("src", "nope", 404, "get commit by ref nope: not found"),
        ("nope", "main", 404, "get commit by branch nope: not found"),
        ("nope", "nope2", 404, "get commit by ref nope2: not found"),
        ("src", "main x", 400, "argument destination: ref: invalid value: validation error"),
    ]:
        r = raw.request("GET", f"/repositories/{repo}/refs/{src}/merge/{dst.replace(' ', '%20')}")
        assert (r.status, error_message(r)) == (status, message), (src, dst)
