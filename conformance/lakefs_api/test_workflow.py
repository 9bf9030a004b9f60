"""mergeIntoBranch, findMergeBase, hardResetBranch, pull requests and import, through lakefs-sdk
(whose pydantic models reject shapes that differ from lakeFS's spec)."""

import time

import lakefs_sdk
import pytest
from lakefs_sdk.exceptions import ApiException, BadRequestException, NotFoundException

from harness import S3_BUCKET

from .support import create_repo, error_message, upload_bytes


def _commit(api_client, repo, branch, message):
    return lakefs_sdk.CommitsApi(api_client).commit(repo, branch, lakefs_sdk.CommitCreation(message=message))


def _branch(api_client, repo, name, source="main"):
    lakefs_sdk.BranchesApi(api_client).create_branch(repo, lakefs_sdk.BranchCreation(name=name, source=source))


def _read(api_client, repo, ref, path):
    return bytes(lakefs_sdk.ObjectsApi(api_client).get_object(repo, ref, path))


@pytest.mark.ledger("mergeIntoBranch", "findMergeBase")
def test_merge_shapes_and_statuses(api_client, server, repo):
    refs = lakefs_sdk.RefsApi(api_client)
    _branch(api_client, repo, "feature")
    upload_bytes(server, repo, "feature", "m/a.txt", b"a")
    src = _commit(api_client, repo, "feature", "add a")
    result = refs.merge_into_branch(repo, "feature", "main", merge=lakefs_sdk.Merge(message="ship a"))
    assert isinstance(result, lakefs_sdk.MergeResult) and len(result.reference) == 64
    commit = lakefs_sdk.CommitsApi(api_client).get_commit(repo, result.reference)
    assert commit.message == "ship a" and commit.parents[1] == src.id
    assert _read(api_client, repo, "main", "m/a.txt") == b"a"
    base = refs.find_merge_base(repo, "feature", "main")
    assert isinstance(base, lakefs_sdk.FindMergeBaseResult) and base.base_commit_id == src.id
    with pytest.raises(BadRequestException) as e:
        refs.merge_into_branch(repo, "feature", "main")
    assert "no changes" in error_message(e.value)
    upload_bytes(server, repo, "feature", "m/a.txt", b"feature")
    _commit(api_client, repo, "feature", "f")
    upload_bytes(server, repo, "main", "m/a.txt", b"main")
    _commit(api_client, repo, "main", "m")
    with pytest.raises(ApiException) as e:
        refs.merge_into_branch(repo, "feature", "main")
    assert e.value.status == 409
    merged = refs.merge_into_branch(repo, "feature", "main", merge=lakefs_sdk.Merge(strategy="dest-wins"))
    assert _read(api_client, repo, merged.reference, "m/a.txt") == b"main"


@pytest.mark.ledger("mergeIntoBranch")
def test_merge_same_content_on_both_sides_is_no_conflict(api_client, server, repo):
    """lakeFS compares value identities (size, ETag, metadata, content type), not addresses
    (pkg/graveler/committed/merge.go): the same bytes written on both sides merge cleanly."""
    _branch(api_client, repo, "twin")
    for branch in ("twin", "main"):
        upload_bytes(server, repo, branch, "same.txt", b"identical")
        upload_bytes(server, repo, branch, f"only-{branch}.txt", branch.encode())
        _commit(api_client, repo, branch, f"on {branch}")
    merged = lakefs_sdk.RefsApi(api_client).merge_into_branch(repo, "twin", "main")
    assert _read(api_client, repo, merged.reference, "same.txt") == b"identical"
    assert _read(api_client, repo, merged.reference, "only-twin.txt") == b"twin"


@pytest.mark.ledger("createPullRequest", "getPullRequest", "listPullRequests", "updatePullRequest", "mergePullRequest")
def test_pull_request_lifecycle(api_client, server, repo):
    pulls = lakefs_sdk.PullsApi(api_client)
    _branch(api_client, repo, "job-1")
    upload_bytes(server, repo, "job-1", "out/part-0", b"rows")
    _commit(api_client, repo, "job-1", "job output")
    created = pulls.create_pull_request(repo, lakefs_sdk.PullRequestCreation(
        title="job-1 output", description="nightly", source_branch="job-1", destination_branch="main"))
    assert isinstance(created, lakefs_sdk.PullRequestCreationResponse)
    pr = pulls.get_pull_request(repo, created.id)
    assert (pr.status, pr.title, pr.description, pr.author) == ("open", "job-1 output", "nightly", "admin")
    assert pr.source_branch == "job-1" and pr.destination_branch == "main"
    pulls.update_pull_request(repo, created.id, lakefs_sdk.PullRequestBasic(title="job-1: rows"))
    listed = pulls.list_pull_requests(repo, status="open")
    assert [p.id for p in listed.results] == [created.id] and listed.results[0].title == "job-1: rows"
    merged = pulls.merge_pull_request(repo, created.id)
    assert _read(api_client, repo, "main", "out/part-0") == b"rows"
    pr = pulls.get_pull_request(repo, created.id)
    assert pr.status == "merged" and pr.merged_commit_id == merged.reference and pr.closed_date is not None
    with pytest.raises(BadRequestException):
        pulls.merge_pull_request(repo, created.id)
    assert pulls.list_pull_requests(repo, status="open").results == []
    with pytest.raises(NotFoundException):
        pulls.get_pull_request(repo, "00000000000000000000")


@pytest.mark.ledger("hardResetBranch")
def test_hard_reset(api_client, server, repo):
    branches = lakefs_sdk.BranchesApi(api_client)
    experimental = lakefs_sdk.ExperimentalApi(api_client)
    before = branches.get_branch(repo, "main").commit_id
    upload_bytes(server, repo, "main", "r/x", b"x")
    _commit(api_client, repo, "main", "x")
    resp = experimental.hard_reset_branch_with_http_info(repo, "main", before)
    assert resp.status_code == 204
    assert branches.get_branch(repo, "main").commit_id == before
    with pytest.raises(NotFoundException):
        experimental.hard_reset_branch(repo, "main", "no-such-ref")


@pytest.mark.ledger("importStart", "importStatus")
@pytest.mark.skipif(S3_BUCKET is not None, reason="the embedded server imports local:// sources only")
def test_import_from_a_root(server_factory, tmp_path):
    source = tmp_path / "in"
    for i in range(25):
        (source / f"d{i % 5}").mkdir(parents=True, exist_ok=True)
        (source / f"d{i % 5}" / f"f{i}.csv").write_text(f"row {i}\n")
    srv = server_factory(extra_args=["--import-root", str(source)])
    with srv.lakefs_client() as client:
        _import_checks(client, source)


def _import_checks(client, source):
    repo = create_repo(client).id
    imports = lakefs_sdk.ImportApi(client)
    creation = lakefs_sdk.ImportCreation(
        paths=[lakefs_sdk.ImportLocation(type="common_prefix", path=f"local://{source.resolve()}/", destination="in/")],
        commit=lakefs_sdk.CommitCreation(message="import csv"))
    started = imports.import_start(repo, "main", creation)
    for _ in range(200):
        status = imports.import_status(repo, "main", started.id)
        if status.completed or status.error:
            break
        time.sleep(0.05)
    assert status.error is None and status.completed and status.ingested_objects == 25
    assert status.commit.message == "import csv"
    assert _read(client, repo, "main", "in/d3/f8.csv") == b"row 8\n"
    with pytest.raises(ApiException) as e:
        imports.import_cancel(repo, "main", started.id)
    assert e.value.status == 409
    with pytest.raises(NotFoundException):
        imports.import_status(repo, "main", "nope")
    with pytest.raises(BadRequestException):
        imports.import_start(repo, "main", lakefs_sdk.ImportCreation.construct(
            paths=[lakefs_sdk.ImportLocation.construct(type="directory", path="local:///x/", destination="x/")],
            commit=lakefs_sdk.CommitCreation(message="m")))
