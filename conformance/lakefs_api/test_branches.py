"""createBranch, listBranches, getBranch, deleteBranch, diffBranch."""

import json

import lakefs_sdk
import pytest
from lakefs_sdk.exceptions import ApiException, NotFoundException

from .support import error_message, unique_name, upload_bytes


def _br(api_client):
    return lakefs_sdk.BranchesApi(api_client)


@pytest.mark.ledger("createBranch")
def test_create_branch_201_plain_text_commit_id(api_client, repo, raw):
    main = _br(api_client).get_branch(repo, "main")
    r = raw.request("POST", f"/repositories/{repo}/branches", json_body={"name": "feature", "source": "main"})
    assert r.status == 201
    # lakeFS answers with the bare commit id (not JSON)
    assert r.data.decode() == main.commit_id
    got = _br(api_client).get_branch(repo, "feature")
    assert got.id == "feature"
    assert got.commit_id == main.commit_id


@pytest.mark.ledger("createBranch")
def test_create_branch_sdk(api_client, repo):
    main = _br(api_client).get_branch(repo, "main")
    resp = _br(api_client).create_branch_with_http_info(
        repo, lakefs_sdk.BranchCreation(name="dev", source="main"))
    assert resp.status_code == 201
    assert resp.data == main.commit_id


@pytest.mark.ledger("createBranch")
def test_create_branch_from_commit_id(api_client, repo):
    main = _br(api_client).get_branch(repo, "main")
    ref = _br(api_client).create_branch(repo, lakefs_sdk.BranchCreation(name="from-commit", source=main.commit_id))
    assert ref == main.commit_id
    assert _br(api_client).get_branch(repo, "from-commit").commit_id == main.commit_id


@pytest.mark.ledger("createBranch")
def test_create_branch_does_not_take_uncommitted_changes(api_client, server, repo):
    upload_bytes(server, repo, "main", "staged.txt", b"staged only")
    _br(api_client).create_branch(repo, lakefs_sdk.BranchCreation(name="child", source="main"))
    objects = lakefs_sdk.ObjectsApi(api_client)
    assert objects.stat_object(repo, "main", "staged.txt").size_bytes == 11
    with pytest.raises(NotFoundException):
        objects.stat_object(repo, "child", "staged.txt")


@pytest.mark.ledger("createBranch")
def test_create_branch_duplicate_409(api_client, repo):
    _br(api_client).create_branch(repo, lakefs_sdk.BranchCreation(name="dup", source="main"))
    with pytest.raises(ApiException) as ei:
        _br(api_client).create_branch(repo, lakefs_sdk.BranchCreation(name="dup", source="main"))
    assert ei.value.status == 409
    error_message(ei.value)


@pytest.mark.ledger("createBranch")
def test_create_branch_existing_default_409(api_client, repo):
    with pytest.raises(ApiException) as ei:
        _br(api_client).create_branch(repo, lakefs_sdk.BranchCreation(name="main", source="main"))
    assert ei.value.status == 409


@pytest.mark.ledger("createBranch")
def test_create_branch_unknown_source_404(api_client, repo):
    with pytest.raises(NotFoundException) as ei:
        _br(api_client).create_branch(repo, lakefs_sdk.BranchCreation(name="orphan", source="no-such-branch"))
    assert ei.value.status == 404
    error_message(ei.value)
    with pytest.raises(NotFoundException):
        _br(api_client).get_branch(repo, "orphan")


@pytest.mark.ledger("createBranch")
def test_create_branch_unknown_repo_404(api_client):
    with pytest.raises(NotFoundException) as ei:
        _br(api_client).create_branch(unique_name(), lakefs_sdk.BranchCreation(name="x", source="main"))
    error_message(ei.value)


@pytest.mark.ledger("createBranch")
def test_create_branch_missing_source_400(raw, repo):
    r = raw.request("POST", f"/repositories/{repo}/branches", json_body={"name": "nosrc"})
    assert r.status == 400
    error_message(r)


@pytest.mark.ledger("createBranch")
def test_create_branch_bad_json_400(raw, repo):
    r = raw.request("POST", f"/repositories/{repo}/branches", body=b"not json at all",
                    headers={"Content-Type": "application/json"})
    assert r.status == 400
    error_message(r)


@pytest.mark.ledger("createBranch")
@pytest.mark.parametrize("bad", ["has space", "bad/slash", "-dash-first"])
def test_create_branch_invalid_name_400(raw, repo, bad):
    r = raw.request("POST", f"/repositories/{repo}/branches", json_body={"name": bad, "source": "main"})
    assert r.status == 400, (r.status, r.data)
    error_message(r)


@pytest.mark.ledger("getBranch")
def test_get_branch(api_client, repo):
    resp = _br(api_client).get_branch_with_http_info(repo, "main")
    assert resp.status_code == 200
    assert resp.data.id == "main"
    log = lakefs_sdk.RefsApi(api_client).log_commits(repo, "main")
    assert resp.data.commit_id == log.results[0].id


@pytest.mark.ledger("getBranch")
def test_get_branch_unknown_404(api_client, repo):
    with pytest.raises(NotFoundException) as ei:
        _br(api_client).get_branch(repo, "nope")
    error_message(ei.value)


@pytest.mark.ledger("getBranch")
def test_get_branch_unknown_repo_404(api_client):
    with pytest.raises(NotFoundException) as ei:
        _br(api_client).get_branch(unique_name(), "main")
    error_message(ei.value)


@pytest.mark.ledger("listBranches")
def test_list_branches_sorted_and_paginated(api_client, repo):
    for name in ["b2", "a1", "b1"]:
        _br(api_client).create_branch(repo, lakefs_sdk.BranchCreation(name=name, source="main"))
    api = _br(api_client)
    main_commit = api.get_branch(repo, "main").commit_id

    full = api.list_branches(repo)
    assert [b.id for b in full.results] == ["a1", "b1", "b2", "main"]
    assert all(b.commit_id == main_commit for b in full.results)
    assert full.pagination.has_more is False
    assert full.pagination.results == 4
    assert full.pagination.next_offset == ""

    p1 = api.list_branches(repo, amount=2)
    assert [b.id for b in p1.results] == ["a1", "b1"]
    assert p1.pagination.has_more is True
    assert p1.pagination.next_offset == "b1"
    assert p1.pagination.results == 2
    assert p1.pagination.max_per_page == 1000

    p2 = api.list_branches(repo, amount=2, after="b1")
    assert [b.id for b in p2.results] == ["b2", "main"]
    assert p2.pagination.has_more is False

    pref = api.list_branches(repo, prefix="b")
    assert [b.id for b in pref.results] == ["b1", "b2"]


@pytest.mark.ledger("listBranches")
def test_list_branches_unknown_repo_404(api_client):
    with pytest.raises(NotFoundException) as ei:
        _br(api_client).list_branches(unique_name())
    error_message(ei.value)


@pytest.mark.ledger("deleteBranch")
def test_delete_branch_204(api_client, repo):
    _br(api_client).create_branch(repo, lakefs_sdk.BranchCreation(name="gone", source="main"))
    resp = _br(api_client).delete_branch_with_http_info(repo, "gone")
    assert resp.status_code == 204
    with pytest.raises(NotFoundException):
        _br(api_client).get_branch(repo, "gone")
    assert "gone" not in [b.id for b in _br(api_client).list_branches(repo).results]


@pytest.mark.ledger("deleteBranch", "createBranch")
def test_recreate_deleted_branch(api_client, server, repo):
    _br(api_client).create_branch(repo, lakefs_sdk.BranchCreation(name="again", source="main"))
    upload_bytes(server, repo, "again", "left-behind", b"x")
    _br(api_client).delete_branch(repo, "again")
    _br(api_client).create_branch(repo, lakefs_sdk.BranchCreation(name="again", source="main"))
    # the staged object of the deleted branch does not come back
    with pytest.raises(NotFoundException):
        lakefs_sdk.ObjectsApi(api_client).stat_object(repo, "again", "left-behind")


@pytest.mark.ledger("deleteBranch")
def test_delete_branch_unknown_404(api_client, repo):
    with pytest.raises(NotFoundException) as ei:
        _br(api_client).delete_branch(repo, "never-was")
    error_message(ei.value)


@pytest.mark.ledger("deleteBranch")
def test_delete_default_branch_403(api_client, repo):
    # lakeFS: graveler.ErrDeleteDefaultBranch ("cannot delete repository default branch") maps to 403
    with pytest.raises(ApiException) as ei:
        _br(api_client).delete_branch(repo, "main")
    assert ei.value.status == 403
    msg = error_message(ei.value)
    assert "default branch" in msg
    assert _br(api_client).get_branch(repo, "main").id == "main"


@pytest.mark.ledger("getBranch")
def test_get_branch_ids_are_validated_first(raw, repo):
    for r_name, branch, status, message in [
        ("Bad_Repo", "main", 400, "argument repository: repository id: invalid value: validation error"),
        (repo, "a.b", 400, "argument branch: branch id: invalid value: validation error"),
        ("no-such-repo-x", "a.b", 400, "argument branch: branch id: invalid value: validation error"),
        ("no-such-repo-x", "main", 404, "repository not found"),
        (repo, "nope", 404, "branch not found"),
    ]:
        r = raw.request("GET", f"/repositories/{r_name}/branches/{branch}")
        assert (r.status, error_message(r)) == (status, message), (r_name, branch)
    doc = json.loads(raw.request("GET", f"/repositories/{repo}/branches/main").data)
    assert set(doc) == {"id", "commit_id"}


@pytest.mark.ledger("listBranches")
def test_list_branches_prefix_after_amount(api_client, raw, repo):
    for name in ["x1", "x2", "y1"]:
        _br(api_client).create_branch(repo, lakefs_sdk.BranchCreation(name=name, source="main"))
    api = _br(api_client)
    # `after` before the prefix starts at the prefix; `after` is exclusive; show_hidden is accepted
    assert [b.id for b in api.list_branches(repo, prefix="x", after="a").results] == ["x1", "x2"]
    assert [b.id for b in api.list_branches(repo, prefix="x", after="x1").results] == ["x2"]
    assert [b.id for b in api.list_branches(repo, after="x2").results] == ["y1"]
    r = raw.request("GET", f"/repositories/{repo}/branches", query=[("show_hidden", "true"), ("amount", 0)])
    assert [b["id"] for b in json.loads(r.data)["results"]] == ["main", "x1", "x2", "y1"]
    r = raw.request("GET", f"/repositories/{repo}/branches", query=[("amount", 1001)])
    assert r.status == 400
    r = raw.request("GET", "/repositories/Bad_Repo/branches")
    assert (r.status, error_message(r)) == (
        400, "argument repository: repository id: invalid value: validation error")


# ---------------------------------------------------------------------- diffBranch


def _diff(raw, repo, branch="main", **params):
    r = raw.request("GET", f"/repositories/{repo}/branches/{branch}/diff", query=list(params.items()))
    assert r.status == 200, (r.status, r.data)
    doc = json.loads(r.data)
    return [(d["path"], d["type"], d["path_type"], d.get("size_bytes")) for d in doc["results"]], doc["pagination"]


@pytest.fixture
def dirty_repo(api_client, server, repo):
    for p in ["same", "gone", "edit", "d/keep"]:
        upload_bytes(server, repo, "main", p, p.encode())
    lakefs_sdk.CommitsApi(api_client).commit(repo, "main", lakefs_sdk.CommitCreation(message="base"))
    upload_bytes(server, repo, "main", "same", b"same")  # same identity: no change
    upload_bytes(server, repo, "main", "edit", b"edited!")
    for p in ["d/new", "d/e/f", "new"]:
        upload_bytes(server, repo, "main", p, p.encode())
    lakefs_sdk.ObjectsApi(api_client).delete_object(repo, "main", "gone")
    return repo


@pytest.mark.ledger("diffBranch")
def test_diff_branch_types_and_sizes(raw, dirty_repo):
    rows, page = _diff(raw, dirty_repo)
    assert rows == [
        ("d/e/f", "added", "object", 5),
        ("d/new", "added", "object", 5),
        ("edit", "changed", "object", 7),
        ("gone", "removed", "object", 0),  # lakeFS: a removed entry has size 0
        ("new", "added", "object", 3),
    ]
    assert page == {"has_more": False, "next_offset": "", "results": 5, "max_per_page": 1000}


@pytest.mark.ledger("diffBranch")
def test_diff_branch_prefix_delimiter_after(raw, dirty_repo):
    rows, _ = _diff(raw, dirty_repo, delimiter="/")
    assert rows[0] == ("d/", "prefix_changed", "common_prefix", None)
    assert [r[0] for r in rows] == ["d/", "edit", "gone", "new"]
    assert [r[0] for r in _diff(raw, dirty_repo, prefix="d/", delimiter="/")[0]] == ["d/e/", "d/new"]
    assert [r[0] for r in _diff(raw, dirty_repo, prefix="d/")[0]] == ["d/e/f", "d/new"]
    rows, page = _diff(raw, dirty_repo, amount=2)
    assert ([r[0] for r in rows], page["has_more"], page["next_offset"]) == (["d/e/f", "d/new"], True, "d/new")
    assert [r[0] for r in _diff(raw, dirty_repo, after="d/new")[0]] == ["edit", "gone", "new"]
    # with a delimiter, `after` skips everything that starts with it (GetStartPos)
    assert [r[0] for r in _diff(raw, dirty_repo, delimiter="/", after="d/")[0]] == ["edit", "gone", "new"]
    assert [r[0] for r in _diff(raw, dirty_repo, delimiter="/", after="d/e/f")[0]] == ["d/", "edit", "gone", "new"]
    assert [r[0] for r in _diff(raw, dirty_repo, delimiter="/", after="e")[0]] == ["gone", "new"]


@pytest.mark.ledger("diffBranch")
def test_diff_branch_errors_and_amount(raw, repo):
    for r_name, branch, status, message in [
        ("Bad_Repo", "main", 400, "argument repository: repository id: invalid value: validation error"),
        (repo, "a.b", 400, "argument branch: branch id: invalid value: validation error"),
        ("no-such-repo-x", "main", 404, "repository not found"),
        (repo, "nope", 404, "branch not found"),
    ]:
        r = raw.request("GET", f"/repositories/{r_name}/branches/{branch}/diff")
        assert (r.status, error_message(r)) == (status, message), (r_name, branch)
    assert raw.request("GET", f"/repositories/{repo}/branches/main/diff", query=[("amount", 1001)]).status == 400
    assert _diff(raw, repo, amount=-1)[1]["results"] == 0
