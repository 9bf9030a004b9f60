"""createRepository, listRepositories, getRepository, deleteRepository."""

import json
import time

import lakefs_sdk
import pytest
from lakefs_sdk.exceptions import ApiException, NotFoundException

from harness import ns

from .support import create_repo, error_message, unique_name


def _repos(api_client):
    return lakefs_sdk.RepositoriesApi(api_client)


@pytest.mark.ledger("getRepository", "getBranch")
def test_demo_repository_exists(api_client):
    r = _repos(api_client).get_repository("demo")
    assert r.id == "demo"
    assert r.default_branch == "main"
    assert r.storage_namespace == ns("demo")
    b = lakefs_sdk.BranchesApi(api_client).get_branch("demo", "main")
    assert b.id == "main"


@pytest.mark.ledger("createRepository")
def test_create_repository_201(api_client):
    name = unique_name()
    before = int(time.time())
    resp = _repos(api_client).create_repository_with_http_info(
        lakefs_sdk.RepositoryCreation(name=name, storage_namespace=ns(name)))
    assert resp.status_code == 201
    repo = resp.data
    assert repo.id == name
    assert repo.default_branch == "main"
    assert repo.storage_namespace == ns(name)
    assert before - 5 <= repo.creation_date <= int(time.time()) + 5
    # the default branch exists and points at the initial commit
    branch = lakefs_sdk.BranchesApi(api_client).get_branch(name, "main")
    assert branch.id == "main"
    log = lakefs_sdk.RefsApi(api_client).log_commits(name, "main")
    assert [c.id for c in log.results] == [branch.commit_id]
    assert log.results[0].parents == []


@pytest.mark.ledger("createRepository")
def test_create_repository_raw_wire_shape(raw):
    name = unique_name()
    r = raw.request("POST", "/repositories", json_body={"name": name, "storage_namespace": ns(name)})
    assert r.status == 201
    assert "application/json" in r.headers.get("Content-Type", "")
    doc = json.loads(r.data)
    assert doc["id"] == name
    assert doc["default_branch"] == "main"
    assert doc["storage_namespace"] == ns(name)
    assert isinstance(doc["creation_date"], int)
    assert doc["storage_id"] == ""  # lakeFS OSS's single blockstore


@pytest.mark.ledger("createRepository")
def test_create_repository_unknown_storage_id_400(raw):
    name = unique_name()
    r = raw.request("POST", "/repositories",
                    json_body={"name": name, "storage_namespace": ns(name), "storage_id": "no-such-storage"})
    assert r.status == 400
    assert error_message(r) == "storage id: invalid value: validation error"


@pytest.mark.ledger("createRepository")
def test_create_repository_custom_default_branch(api_client):
    name = unique_name()
    repo = create_repo(api_client, name, default_branch="develop")
    assert repo.default_branch == "develop"
    assert _repos(api_client).get_repository(name).default_branch == "develop"
    branches = lakefs_sdk.BranchesApi(api_client)
    assert branches.get_branch(name, "develop").id == "develop"
    with pytest.raises(NotFoundException):
        branches.get_branch(name, "main")


@pytest.mark.ledger("createRepository")
def test_create_repository_duplicate_409(api_client):
    name = create_repo(api_client).id
    with pytest.raises(ApiException) as ei:
        create_repo(api_client, name)
    assert ei.value.status == 409
    error_message(ei.value)


@pytest.mark.ledger("createRepository")
@pytest.mark.parametrize("bad_name", ["ab", "Upper-case", "-leading-dash", "under_score", "has space", "a" * 64])
def test_create_repository_invalid_name_400(raw, bad_name):
    r = raw.request("POST", "/repositories", json_body={"name": bad_name, "storage_namespace": "local://x-ns"})
    assert r.status == 400, (r.status, r.data)
    error_message(r)


@pytest.mark.ledger("createRepository")
def test_create_repository_invalid_storage_namespace_400(raw):
    name = unique_name()
    r = raw.request("POST", "/repositories", json_body={"name": name, "storage_namespace": "ftp://nope"})
    assert r.status == 400, (r.status, r.data)
    error_message(r)


@pytest.mark.ledger("createRepository")
def test_create_repository_missing_required_field_400(raw):
    r = raw.request("POST", "/repositories", json_body={"name": unique_name()})
    assert r.status == 400
    error_message(r)


@pytest.mark.ledger("createRepository")
def test_create_repository_bad_json_400(raw):
    r = raw.request("POST", "/repositories", body=b'{"name": "x",', headers={"Content-Type": "application/json"})
    assert r.status == 400
    error_message(r)


@pytest.mark.ledger("getRepository")
def test_get_repository(api_client):
    name = create_repo(api_client).id
    resp = _repos(api_client).get_repository_with_http_info(name)
    assert resp.status_code == 200
    assert resp.data.id == name
    assert resp.data.storage_namespace == ns(name)
    assert resp.data.default_branch == "main"


@pytest.mark.ledger("getRepository")
def test_get_repository_unknown_404(api_client):
    with pytest.raises(NotFoundException) as ei:
        _repos(api_client).get_repository(unique_name())
    assert ei.value.status == 404
    error_message(ei.value)


@pytest.mark.ledger("listRepositories")
def test_list_repositories_prefix_and_pagination(api_client):
    prefix = unique_name()
    names = [f"{prefix}-a", f"{prefix}-b", f"{prefix}-c"]
    for n in reversed(names):
        create_repo(api_client, n)
    api = _repos(api_client)

    full = api.list_repositories(prefix=prefix)
    assert [r.id for r in full.results] == names
    assert full.pagination.has_more is False
    assert full.pagination.results == 3
    assert full.pagination.next_offset == ""

    page1 = api.list_repositories(prefix=prefix, amount=2)
    assert [r.id for r in page1.results] == names[:2]
    assert page1.pagination.has_more is True
    assert page1.pagination.next_offset == names[1]
    assert page1.pagination.results == 2
    assert page1.pagination.max_per_page == 1000

    page2 = api.list_repositories(prefix=prefix, amount=2, after=page1.pagination.next_offset)
    assert [r.id for r in page2.results] == names[2:]
    assert page2.pagination.has_more is False


@pytest.mark.ledger("listRepositories")
def test_list_repositories_sorted_and_contains_demo(api_client):
    res = _repos(api_client).list_repositories(amount=1000)
    ids = [r.id for r in res.results]
    assert "demo" in ids
    assert ids == sorted(ids)


@pytest.mark.ledger("deleteRepository")
def test_delete_repository_204(api_client):
    name = create_repo(api_client).id
    resp = _repos(api_client).delete_repository_with_http_info(name)
    assert resp.status_code == 204
    with pytest.raises(NotFoundException):
        _repos(api_client).get_repository(name)
    assert name not in [r.id for r in _repos(api_client).list_repositories(prefix=name).results]


@pytest.mark.ledger("deleteRepository")
def test_delete_repository_unknown_404(api_client):
    with pytest.raises(NotFoundException) as ei:
        _repos(api_client).delete_repository(unique_name())
    assert ei.value.status == 404
    error_message(ei.value)



@pytest.mark.ledger("listRepositories")
def test_list_repositories_search_after_and_amount(api_client, raw):
    tag = unique_name("s")
    names = [f"{tag}-a", f"{tag}-b-x", f"x-{tag}-c", f"{tag}-d-x"]
    for n in names:
        create_repo(api_client, n)
    api = _repos(api_client)
    # `search` is a substring of the id, on top of `prefix`; `after` is exclusive
    assert [r.id for r in api.list_repositories(search=tag).results] == sorted(names)
    assert [r.id for r in api.list_repositories(prefix=tag, search="-x").results] == [names[1], names[3]]
    assert [r.id for r in api.list_repositories(search=tag, after=names[1]).results] == [names[3], names[2]]
    page = api.list_repositories(search=tag, amount=1)
    assert ([r.id for r in page.results], page.pagination.has_more, page.pagination.next_offset) == (
        [names[0]], True, names[0])
    # amount: -1 and 0 mean 100; over 1000 is refused by lakeFS's request validator
    for amount in (-1, 0):
        r = raw.request("GET", "/repositories", query=[("search", tag), ("amount", amount)])
        assert json.loads(r.data)["pagination"]["results"] == 4
    for amount in (1001, -2):
        assert raw.request("GET", "/repositories", query=[("amount", amount)]).status == 400


@pytest.mark.ledger("getRepository")
def test_get_repository_id_is_validated_and_fields_are_lakefs(raw):
    r = raw.request("GET", "/repositories/Bad_Repo")
    assert (r.status, error_message(r)) == (400, "argument repository: repository id: invalid value: validation error")
    r = raw.request("GET", "/repositories/no-such-repo-x")
    assert (r.status, error_message(r)) == (404, "repository not found")
    doc = json.loads(raw.request("GET", "/repositories/demo").data)
    assert set(doc) == {"id", "creation_date", "default_branch", "storage_namespace", "storage_id", "read_only"}
    assert (doc["read_only"], doc["storage_id"]) == (False, "")


@pytest.mark.ledger("getStorageConfig")
def test_get_storage_config_is_the_primary_storage(raw):
    r = raw.request("GET", "/config/storage")
    assert r.status == 200
    config = json.loads(raw.request("GET", "/config").data)
    assert json.loads(r.data) == config["storage_config"]
