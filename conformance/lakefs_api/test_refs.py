"""Tags (createTag, listTags, getTag, deleteTag) and ref expressions (`~N`, `^N`, `@`, commit id
prefixes) as lakeFS v1.84.0 answers them (pkg/api/controller.go, pkg/catalog/catalog.go,
pkg/graveler/ref/parse_ref.go, resolve_ref.go, pkg/graveler/validate.go)."""

import lakefs_sdk
import pytest
from lakefs_sdk.exceptions import (ApiException, BadRequestException, NotFoundException,
                                   ServiceException)

from .support import error_message, upload_bytes


def _commit(api_client, repo, message, branch="main"):
    return lakefs_sdk.CommitsApi(api_client).commit(
        repo, branch, lakefs_sdk.CommitCreation(message=message)).id


def _read(api_client, repo, ref, path="a.txt"):
    return bytes(lakefs_sdk.ObjectsApi(api_client).get_object(repo, ref, path))


@pytest.fixture
def history(api_client, server, repo):
    """main: c1 (a=one) ← c2 (a=two), with a=three staged."""
    upload_bytes(server, repo, "main", "a.txt", b"one")
    c1 = _commit(api_client, repo, "first")
    upload_bytes(server, repo, "main", "a.txt", b"two")
    c2 = _commit(api_client, repo, "second")
    upload_bytes(server, repo, "main", "a.txt", b"three")
    return c1, c2


@pytest.mark.ledger("createTag", "getTag", "deleteTag", "listTags")
def test_tag_crud(api_client, repo, history):
    c1, c2 = history
    tags = lakefs_sdk.TagsApi(api_client)
    resp = tags.create_tag_with_http_info(repo, lakefs_sdk.TagCreation(id="v1.2", ref="main~1"))
    assert resp.status_code == 201
    assert (resp.data.id, resp.data.commit_id) == ("v1.2", c1)
    tags.create_tag(repo, lakefs_sdk.TagCreation(id="v2", ref=c2[:8]))
    tags.create_tag(repo, lakefs_sdk.TagCreation(id="x", ref="main"))
    assert tags.get_tag(repo, "v1.2").commit_id == c1
    page = tags.list_tags(repo, amount=2)
    assert [t.id for t in page.results] == ["v1.2", "v2"]
    assert page.pagination.has_more and page.pagination.next_offset == "v2"
    assert [t.id for t in tags.list_tags(repo, after="v2").results] == ["x"]
    assert [t.id for t in tags.list_tags(repo, prefix="v").results] == ["v1.2", "v2"]
    assert tags.list_tags(repo, prefix="v", after="v1.2").results[0].commit_id == c2
    assert tags.delete_tag_with_http_info(repo, "x").status_code == 204
    with pytest.raises(NotFoundException) as e:
        tags.get_tag(repo, "x")
    assert error_message(e.value) == "tag not found"
    with pytest.raises(NotFoundException) as e:
        tags.delete_tag(repo, "x")
    assert error_message(e.value) == "tag not found"


@pytest.mark.ledger("createTag", "createBranch")
def test_tag_refusals(api_client, repo, history):
    c1, _ = history
    tags = lakefs_sdk.TagsApi(api_client)
    tags.create_tag(repo, lakefs_sdk.TagCreation(id="t1", ref=c1))
    with pytest.raises(ApiException) as e:
        tags.create_tag(repo, lakefs_sdk.TagCreation(id="t1", ref="main"))
    assert (e.value.status, error_message(e.value)) == (409, "tag already exists: not unique")
    with pytest.raises(ApiException) as e:
        tags.create_tag(repo, lakefs_sdk.TagCreation(id="main", ref="main"))
    assert (e.value.status, error_message(e.value)) == (409, "branch name main: conflict found")
    with pytest.raises(ApiException) as e:
        tags.create_tag(repo, lakefs_sdk.TagCreation(id=c1, ref="main"))
    assert (e.value.status, error_message(e.value)) == (409, f"commit ID {c1}: conflict found")
    for bad in ["a/b", "v1.", "a..b", "x.lock", "a^b", "@", "a b"]:
        with pytest.raises(BadRequestException) as e:
            tags.create_tag(repo, lakefs_sdk.TagCreation(id=bad, ref="main"))
        assert error_message(e.value) == "argument tagID: tag id: invalid value: validation error", bad
    with pytest.raises(NotFoundException) as e:
        tags.create_tag(repo, lakefs_sdk.TagCreation(id="t2", ref="nope"))
    assert error_message(e.value) == "not found"
    with pytest.raises(BadRequestException) as e:
        tags.create_tag(repo, lakefs_sdk.TagCreation(id="t2", ref="main@1"))
    assert error_message(e.value) == "ref: invalid value: validation error"
    with pytest.raises(NotFoundException) as e:
        tags.list_tags("no-such-repo")
    assert error_message(e.value) == "repository not found"
    # a branch may not take a tag's name
    with pytest.raises(ApiException) as e:
        lakefs_sdk.BranchesApi(api_client).create_branch(
            repo, lakefs_sdk.BranchCreation(name="t1", source="main"))
    assert (e.value.status, error_message(e.value)) == (409, "tag ID t1: conflict found")


@pytest.mark.ledger("getObject", "getCommit", "logCommits", "createBranch")
def test_ref_expressions(api_client, server, repo, history):
    c1, c2 = history
    assert _read(api_client, repo, "main") == b"three"
    assert _read(api_client, repo, "main@") == b"two"
    assert _read(api_client, repo, "main~1") == b"one"
    assert _read(api_client, repo, "main~") == b"one"
    assert _read(api_client, repo, "main^") == b"one"
    assert _read(api_client, repo, "main~0") == b"two"
    assert _read(api_client, repo, "main^0") == b"two"
    assert _read(api_client, repo, c2[:6]) == b"two"
    assert _read(api_client, repo, f"{c2}~1") == b"one"
    commits = lakefs_sdk.CommitsApi(api_client)
    refs = lakefs_sdk.RefsApi(api_client)
    assert commits.get_commit(repo, "main").id == c2
    assert commits.get_commit(repo, "main~1").id == c1
    assert [c.id for c in refs.log_commits(repo, "main~1").results][0] == c1
    branches = lakefs_sdk.BranchesApi(api_client)
    assert branches.create_branch(repo, lakefs_sdk.BranchCreation(name="old", source="main~1")) == c1
    # ~ past the root: not found; ^N past the parents, or @ combined: invalid ref
    with pytest.raises(NotFoundException) as e:
        _read(api_client, repo, "main~9")
    assert error_message(e.value) == "not found"
    with pytest.raises(NotFoundException) as e:
        commits.get_commit(repo, "main~9")
    assert error_message(e.value) == "commit not found"
    for bad in ["main^2", "main@~1", "old~1@", "v9@", "main~x"]:
        with pytest.raises((BadRequestException, NotFoundException)) as e:
            _read(api_client, repo, bad)
        assert e.value.status == (404 if bad == "v9@" else 400), bad
    # getCommit answers 500 for an invalid ref (its controller maps only not-found)
    with pytest.raises(ServiceException) as e:
        commits.get_commit(repo, "main^2")
    assert error_message(e.value) == "ref: invalid value: validation error"


@pytest.mark.ledger("getCommit", "mergeIntoBranch")
def test_merge_parents(api_client, server, repo, history):
    c1, c2 = history
    commits = lakefs_sdk.CommitsApi(api_client)
    branches = lakefs_sdk.BranchesApi(api_client)
    branches.create_branch(repo, lakefs_sdk.BranchCreation(name="side", source=c1))
    upload_bytes(server, repo, "side", "b.txt", b"side")
    side = _commit(api_client, repo, "side work", branch="side")
    _commit(api_client, repo, "third")  # commits the staged a=three
    merge = lakefs_sdk.RefsApi(api_client).merge_into_branch(repo, "side", "main").reference
    assert commits.get_commit(repo, "main").id == merge
    assert commits.get_commit(repo, "main^2").id == side
    assert commits.get_commit(repo, "main^2~1").id == c1
    assert commits.get_commit(repo, "main~1~1").id == c2
    assert commits.get_commit(repo, "main~2^1").id == c1
    assert _read(api_client, repo, "main^2", "b.txt") == b"side"


STAGING_NOT_COMMIT = "reference to staging area with $ is not a commit"


@pytest.mark.ledger("statObject", "getObject", "listObjects", "createTag", "createBranch",
                    "mergeIntoBranch", "findMergeBase", "hardResetBranch")
def test_branch_staging_ref(api_client, server, repo, history):
    """`main$` (lakeFS `ResolveRawRef` `RefModTypeDollar`): reads see the branch, staged changes
    included (`Graveler.Get`/`List` read the staging token over the head commit); where a commit
    is needed it is refused with the text of the code path that needs it."""
    _, c2 = history
    assert _read(api_client, repo, "main$") == b"three"
    objects = lakefs_sdk.ObjectsApi(api_client)
    assert objects.stat_object(repo, "main$", "a.txt").size_bytes == 5
    assert [o.path for o in objects.list_objects(repo, "main$").results] == ["a.txt"]
    tags = lakefs_sdk.TagsApi(api_client)
    with pytest.raises(BadRequestException) as e:  # catalog.go dereferenceCommitID
        tags.create_tag(repo, lakefs_sdk.TagCreation(id="t", ref="main$"))
    assert error_message(e.value) == "ref: invalid value: validation error: should point to a commit"
    with pytest.raises(ServiceException) as e:  # graveler.go CreateBranch: ErrCreateBranchNoCommit, no status
        lakefs_sdk.BranchesApi(api_client).create_branch(repo, lakefs_sdk.BranchCreation(name="b", source="main$"))
    assert error_message(e.value) == "source reference 'main$': can't create a branch without commit"
    refs = lakefs_sdk.RefsApi(api_client)
    lakefs_sdk.BranchesApi(api_client).create_branch(repo, lakefs_sdk.BranchCreation(name="side", source="main"))
    with pytest.raises(BadRequestException) as e:  # graveler.go FindMergeBase → dereferenceCommit
        refs.merge_into_branch(repo, "main$", "side")
    assert error_message(e.value) == f"get commit by ref main$: reference 'main$': {STAGING_NOT_COMMIT}"
    # catalog.go FindMergeBase hands graveler (destination, source) as (from, to): the destination
    # is the "ref" side, the source the "branch" side
    with pytest.raises(BadRequestException) as e:
        refs.find_merge_base(repo, "side", "main$")
    assert error_message(e.value) == f"get commit by ref main$: reference 'main$': {STAGING_NOT_COMMIT}"
    with pytest.raises(BadRequestException) as e:
        refs.find_merge_base(repo, "main$", "side")
    assert error_message(e.value) == f"get commit by branch main$: reference 'main$': {STAGING_NOT_COMMIT}"
    with pytest.raises(BadRequestException) as e:  # graveler.go ResetHard → dereferenceCommit
        lakefs_sdk.ExperimentalApi(api_client).hard_reset_branch(repo, "side", "main$")
    assert error_message(e.value) == f"hard-reset side to main$: reference 'main$': {STAGING_NOT_COMMIT}"
    assert lakefs_sdk.BranchesApi(api_client).get_branch(repo, "side").commit_id == c2
    for bad in ["main$~1", "main~1$", "v9$"]:
        with pytest.raises((BadRequestException, NotFoundException)) as e:
            _read(api_client, repo, bad)
        assert e.value.status == (404 if bad == "v9$" else 400), bad
