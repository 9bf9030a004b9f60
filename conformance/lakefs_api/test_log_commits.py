"""logCommits: every query parameter as lakeFS v1.84.0 reads it (pkg/api/controller.go LogCommits,
pkg/catalog/catalog.go ListCommits, listCommitsWithPaths, checkPathListInCommit, foundAllCommits;
pkg/graveler/ref/commit_iterator.go).

The history every test walks (dates set with the commit's ``date``; the merge is made now):

    initial ← c1 (a/1, 100) ← c2 (a/2, 200) ← m (merge of b) ← c4 (a/1 changed, 500) ← c5 (a/2 metadata, 600)
                 ↖ c3 on b (b/1, 300) ↗
"""

import json

import lakefs_sdk
import pytest

from .support import create_repo, error_message, upload_bytes


def _commit(api_client, repo, branch, message, date):
    return lakefs_sdk.CommitsApi(api_client).commit(
        repo, branch, lakefs_sdk.CommitCreation(message=message, date=date)).id


@pytest.fixture(scope="module")
def history(api_client, server):
    repo = create_repo(api_client).id
    initial = lakefs_sdk.BranchesApi(api_client).get_branch(repo, "main").commit_id
    upload_bytes(server, repo, "main", "a/1", b"one")
    c1 = _commit(api_client, repo, "main", "c1", 100)
    lakefs_sdk.BranchesApi(api_client).create_branch(repo, lakefs_sdk.BranchCreation(name="b", source="main"))
    upload_bytes(server, repo, "main", "a/2", b"two")
    c2 = _commit(api_client, repo, "main", "c2", 200)
    upload_bytes(server, repo, "b", "b/1", b"bee")
    c3 = _commit(api_client, repo, "b", "c3", 300)
    m = lakefs_sdk.RefsApi(api_client).merge_into_branch(repo, "b", "main").reference
    upload_bytes(server, repo, "main", "a/1", b"one, changed")
    c4 = _commit(api_client, repo, "main", "c4", 500)
    # a metadata-only change is a change of identity
    lakefs_sdk.ObjectsApi(api_client).update_object_user_metadata(
        repo, "main", "a/2", lakefs_sdk.UpdateObjectUserMetadata(set={"k": "v"}))
    c5 = _commit(api_client, repo, "main", "c5", 600)
    return repo, {"c5": c5, "c4": c4, "m": m, "c3": c3, "c2": c2, "c1": c1, "initial": initial}


def _log(raw, repo, ref="main", **params):
    query = []
    for k, v in params.items():
        query += [(k, x) for x in v] if isinstance(v, list) else [(k, v)]
    r = raw.request("GET", f"/repositories/{repo}/refs/{ref}/commits", query=query)
    return r


def _ids(raw, repo, ref="main", **params):
    r = _log(raw, repo, ref, **params)
    assert r.status == 200, (r.status, r.data)
    doc = json.loads(r.data)
    return [c["id"] for c in doc["results"]], doc["pagination"]


def _names(h, *names):
    return [h[n] for n in names]


@pytest.mark.ledger("logCommits")
def test_log_is_newest_first_through_merges(raw, history):
    repo, h = history
    ids, page = _ids(raw, repo)
    assert ids == _names(h, "c5", "c4", "m", "c3", "c2", "c1", "initial")
    assert page == {"has_more": False, "next_offset": "", "results": 7, "max_per_page": 1000}
    ids, _ = _ids(raw, repo, first_parent=True)
    assert ids == _names(h, "c5", "c4", "m", "c2", "c1", "initial")
    # a log from a commit id (or any ref) starts there
    assert _ids(raw, repo, ref=h["c3"])[0] == _names(h, "c3", "c1", "initial")
    assert _ids(raw, repo, ref="main~2")[0] == _names(h, "m", "c3", "c2", "c1", "initial")


@pytest.mark.ledger("logCommits")
def test_log_objects_and_prefixes_keep_single_parent_commits_that_changed_them(raw, history, api_client):
    repo, h = history
    # the merge and the parentless first commit are never listed with paths
    assert _ids(raw, repo, objects=["a/1"])[0] == _names(h, "c4", "c1")
    assert _ids(raw, repo, objects=["a/2"])[0] == _names(h, "c5", "c2")
    assert _ids(raw, repo, prefixes=["b/"])[0] == _names(h, "c3")
    assert _ids(raw, repo, prefixes=["a/"])[0] == _names(h, "c5", "c4", "c2", "c1")
    assert _ids(raw, repo, objects=["b/1"], prefixes=["a/1"])[0] == _names(h, "c4", "c3", "c1")
    # an object path is exact; empty values are dropped (then nothing filters)
    assert _ids(raw, repo, objects=["a/"])[0] == []
    assert len(_ids(raw, repo, objects=[""], prefixes=[""])[0]) == 7
    # the SDK sends repeated parameters too
    sdk = lakefs_sdk.RefsApi(api_client).log_commits(repo, "main", objects=["a/1", "b/1"])
    assert [c.id for c in sdk.results] == _names(h, "c4", "c3", "c1")


@pytest.mark.ledger("logCommits")
def test_log_pages_resume_after_a_ref(raw, history):
    repo, h = history
    ids, page = _ids(raw, repo, amount=2)
    assert ids == _names(h, "c5", "c4")
    assert page["has_more"] is True and page["next_offset"] == h["c4"] and page["results"] == 2
    assert _ids(raw, repo, amount=2, after=page["next_offset"])[0] == _names(h, "m", "c3")
    # `after` is a ref: a branch, a tag, an expression
    assert _ids(raw, repo, amount=2, after="main~1")[0] == _names(h, "m", "c3")
    # past the end, or a commit the log never reaches: an empty page
    ids, page = _ids(raw, repo, after=h["initial"])
    assert (ids, page["has_more"], page["next_offset"]) == ([], False, "")
    assert _ids(raw, repo, ref="b", after=h["c2"])[0] == []
    # with paths, `after` still counts every commit of the walk
    assert _ids(raw, repo, prefixes=["a/"], after=h["m"])[0] == _names(h, "c2", "c1")


@pytest.mark.ledger("logCommits")
def test_log_limit_stops_at_amount_without_has_more(raw, history):
    repo, h = history
    ids, page = _ids(raw, repo, prefixes=["a/"], amount=1)
    assert (ids, page["has_more"], page["next_offset"]) == ([h["c5"]], True, h["c5"])
    ids, page = _ids(raw, repo, prefixes=["a/"], amount=1, limit=True)
    assert (ids, page["has_more"], page["next_offset"]) == ([h["c5"]], False, "")
    ids, page = _ids(raw, repo, amount=3, limit=True)
    assert (len(ids), page["has_more"]) == (3, False)


@pytest.mark.ledger("logCommits")
def test_log_stop_at_ends_with_that_commit(raw, history):
    repo, h = history
    ids, page = _ids(raw, repo, stop_at=h["c2"])
    assert (ids, page["has_more"]) == (_names(h, "c5", "c4", "m", "c3", "c2"), False)
    assert _ids(raw, repo, stop_at="b")[0] == _names(h, "c5", "c4", "m", "c3")
    # with paths, only a listed commit can stop the log
    assert _ids(raw, repo, prefixes=["b/"], stop_at=h["c2"])[0] == _names(h, "c3")
    assert _ids(raw, repo, stop_at="")[0][-1] == h["initial"]
    r = _log(raw, repo, stop_at="no-such-ref")
    assert (r.status, error_message(r)) == (404, "stop_at: not found")


@pytest.mark.ledger("logCommits")
def test_log_since_leaves_older_commits_out_and_does_not_walk_through_them(raw, history):
    repo, h = history
    # 250 s after the epoch: c2 (200) is left out, and c1 (100) and the first commit behind it
    assert _ids(raw, repo, since="1970-01-01T00:04:10Z")[0] == _names(h, "c5", "c4", "m", "c3")
    assert _ids(raw, repo, since="1970-01-01T00:05:00Z")[0] == _names(h, "c5", "c4", "m", "c3")
    assert _ids(raw, repo, since="1970-01-01T00:05:00.5Z")[0] == _names(h, "c5", "c4", "m")
    assert _ids(raw, repo, since="1970-01-01T01:05:00+01:00")[0] == _names(h, "c5", "c4", "m", "c3")
    # the first commit itself too old: nothing
    assert _ids(raw, repo, ref=h["c4"], since="1970-01-01T00:08:21Z")[0] == []
    assert len(_ids(raw, repo, since="")[0]) == 7


@pytest.mark.ledger("logCommits")
def test_log_since_must_be_an_rfc3339_date_time(raw, history):
    repo, _ = history
    r = _log(raw, repo, since="yesterday")
    assert r.status == 400
    assert error_message(r).startswith(
        'parameter "since" in query has an error: string doesn\'t match the format "date-time": '
        'string doesn\'t match pattern "^[0-9]{4}-')
    # the validator's pattern allows a missing zone, Go's time.Parse does not: oapi-codegen's
    # binder answers with http.Error (text/plain)
    r = _log(raw, repo, since="2024-01-01T00:00:00")
    assert r.status == 400
    assert r.headers["Content-Type"].startswith("text/plain")
    assert r.data.decode() == (
        "Invalid format for parameter since: error parsing '2024-01-01T00:00:00' as RFC3339 or 2006-01-02 "
        "time: parsing time \"2024-01-01T00:00:00\": extra text: \"T00:00:00\"\n")


@pytest.mark.ledger("logCommits")
def test_log_errors_name_the_parameter(raw, history):
    repo, _ = history
    cases = [
        (repo, "no-such-ref", {}, 404, "ref: not found"),
        (repo, "main", {"after": "no-such-ref"}, 404, "from ref: not found"),
        (repo, "main~99", {}, 404, "ref: not found"),
        (repo, "main$", {}, 400, "ref: ref: invalid value: validation error: should point to a commit"),
        (repo, "main x", {}, 400, "argument ref: ref: invalid value: validation error"),
        ("Bad_Repo", "main", {}, 400, "argument repository: repository id: invalid value: validation error"),
        ("no-such-repo-x", "main", {}, 404, "repository not found"),
    ]
    for r_name, ref, params, status, message in cases:
        r = _log(raw, r_name, ref.replace(" ", "%20"), **params)
        assert (r.status, error_message(r)) == (status, message), (ref, params)
    r = _log(raw, repo, amount=1001)
    assert r.status == 400
