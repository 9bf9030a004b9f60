"""Error paths across endpoints (raw HTTP): 401 without credentials, 404 for unknown
repository / branch / path, each with a lakeFS ``Error`` body ``{"message": "..."}``."""

import pytest

from .support import error_message, unique_name, upload_bytes

# (method, path template, query, json body) -- {repo} is substituted
ENDPOINTS = [
    ("GET", "/repositories", None, None),
    ("POST", "/repositories", None, {"name": "t-unauth00", "storage_namespace": "local://t-unauth00"}),
    ("GET", "/repositories/{repo}", None, None),
    ("DELETE", "/repositories/{repo}", None, None),
    ("GET", "/repositories/{repo}/branches", None, None),
    ("POST", "/repositories/{repo}/branches", None, {"name": "x", "source": "main"}),
    ("GET", "/repositories/{repo}/branches/main", None, None),
    ("DELETE", "/repositories/{repo}/branches/other", None, None),
    ("POST", "/repositories/{repo}/branches/main/commits", None, {"message": "m", "allow_empty": True}),
    ("GET", "/repositories/{repo}/refs/main/commits", None, None),
    ("GET", "/repositories/{repo}/commits/" + "0" * 64, None, None),
    ("GET", "/repositories/{repo}/refs/main/objects/stat", [("path", "x")], None),
    ("GET", "/repositories/{repo}/refs/main/objects/ls", None, None),
    ("GET", "/repositories/{repo}/refs/main/objects", [("path", "x")], None),
    ("DELETE", "/repositories/{repo}/branches/main/objects", [("path", "x")], None),
    # deleteObjects is 200 here: test_objects.py::test_delete_objects_unknown_repository_or_branch_200
    ("POST", "/repositories/{repo}/branches/main/objects/copy", [("dest_path", "y")], {"src_path": "x"}),
    ("GET", "/repositories/{repo}/branches/main/staging/backing", [("path", "x")], None),
    # getCurrentUser without credentials is 200 with an empty user, as on lakeFS (test_health_config_auth.py)
    ("GET", "/config", None, None),
]


def _id(e):
    return f"{e[0]} {e[1]}"


@pytest.mark.ledger("every operation")
@pytest.mark.parametrize("method,path,query,body", ENDPOINTS, ids=[_id(e) for e in ENDPOINTS])
def test_no_credentials_401(raw, repo, method, path, query, body):
    # an existing (throwaway) repository, so that only authentication can fail
    r = raw.request(method, path.format(repo=repo), query=query, json_body=body, auth=None)
    assert r.status == 401, (r.status, r.data)
    assert error_message(r) == "error authenticating request"


WRONG_CREDS = [e for e in ENDPOINTS if e[0] == "GET"]


@pytest.mark.ledger("every operation")
@pytest.mark.parametrize("method,path,query,body", WRONG_CREDS, ids=[_id(e) for e in WRONG_CREDS])
def test_wrong_credentials_401(raw, repo, method, path, query, body):
    r = raw.request(method, path.format(repo=repo), query=query, json_body=body,
                    auth=raw.basic(secret="definitely-wrong"))
    assert r.status == 401, (r.status, r.data)
    error_message(r)


REPO_SCOPED = [e for e in ENDPOINTS if "{repo}" in e[1]]


@pytest.mark.ledger("every operation")
@pytest.mark.parametrize("method,path,query,body", REPO_SCOPED, ids=[_id(e) for e in REPO_SCOPED])
def test_unknown_repository_404(raw, method, path, query, body):
    r = raw.request(method, path.format(repo=unique_name()), query=query, json_body=body)
    assert r.status == 404, (r.status, r.data)
    error_message(r)


BRANCH_SCOPED = [
    ("GET", "/repositories/{repo}/branches/nobranch", None, None),
    ("DELETE", "/repositories/{repo}/branches/nobranch", None, None),
    ("POST", "/repositories/{repo}/branches/nobranch/commits", None, {"message": "m", "allow_empty": True}),
    ("GET", "/repositories/{repo}/refs/nobranch/commits", None, None),
    ("GET", "/repositories/{repo}/refs/nobranch/objects/stat", [("path", "x")], None),
    ("GET", "/repositories/{repo}/refs/nobranch/objects/ls", None, None),
    ("GET", "/repositories/{repo}/refs/nobranch/objects", [("path", "x")], None),
    ("DELETE", "/repositories/{repo}/branches/nobranch/objects", [("path", "x")], None),
    ("POST", "/repositories/{repo}/branches/nobranch/objects", [("path", "x")], None),
    ("POST", "/repositories/{repo}/branches", None, {"name": "x", "source": "nobranch"}),
]


@pytest.mark.ledger("every operation")
@pytest.mark.parametrize("method,path,query,body", BRANCH_SCOPED, ids=[_id(e) for e in BRANCH_SCOPED])
def test_unknown_branch_404(raw, repo, method, path, query, body):
    headers = None
    data = None
    if body is None and method == "POST":
        headers, data = {"Content-Type": "application/octet-stream"}, b"payload"
    r = raw.request(method, path.format(repo=repo), query=query, json_body=body, headers=headers, body=data)
    assert r.status == 404, (r.status, r.data)
    error_message(r)


PATH_SCOPED = [
    ("GET", "/repositories/{repo}/refs/main/objects/stat", [("path", "no/such/object")]),
    ("GET", "/repositories/{repo}/refs/main/objects", [("path", "no/such/object")]),
    ("POST", "/repositories/{repo}/branches/main/objects/copy", [("dest_path", "dst")]),
]


@pytest.mark.ledger("every operation")
@pytest.mark.parametrize("method,path,query", PATH_SCOPED, ids=[f"{m} {p}" for m, p, _ in PATH_SCOPED])
def test_unknown_path_404(raw, repo, method, path, query):
    body = {"src_path": "no/such/object"} if method == "POST" else None
    r = raw.request(method, path.format(repo=repo), query=query, json_body=body)
    assert r.status == 404, (r.status, r.data)
    error_message(r)


@pytest.mark.ledger("every operation")
def test_unknown_path_head_404(raw, repo):
    r = raw.request("HEAD", f"/repositories/{repo}/refs/main/objects", query=[("path", "nope")])
    assert r.status == 404


@pytest.mark.ledger("every operation")
def test_unknown_commit_ref_404(raw, server, repo):
    upload_bytes(server, repo, "main", "x", b"x")
    r = raw.request("GET", f"/repositories/{repo}/refs/{'a' * 64}/objects", query=[("path", "x")])
    assert r.status == 404
    error_message(r)


@pytest.mark.ledger("every operation")
@pytest.mark.parametrize("method,path,ctype,body", [
    ("POST", "/repositories", "application/json", b"{"),
    ("POST", "/repositories", "application/json", b'{"name": 5, "storage_namespace": "local://x"}'),
    ("POST", "/repositories/{repo}/branches", "application/json", b'{"name": "x"'),
    ("POST", "/repositories/{repo}/branches/main/commits", "application/json", b'{"message": 1}'),
    ("POST", "/repositories/{repo}/branches/main/objects/delete", "application/json", b'{"paths": "notalist"}'),
    ("POST", "/auth/login", "application/json", b"null"),
])
def test_malformed_json_400(raw, repo, method, path, ctype, body):
    r = raw.request(method, path.format(repo=repo), body=body, headers={"Content-Type": ctype},
                    auth=None if path == "/auth/login" else True)
    assert r.status == 400, (r.status, r.data)
    error_message(r)


@pytest.mark.ledger("every operation")
def test_unknown_api_route_404(raw):
    """lakeFS `serve.go` `InvalidAPIEndpointHandler`: before authentication (no route matched)."""
    for auth in (True, None):
        r = raw.request("GET", "/no/such/route", auth=auth)
        assert r.status == 404
        assert error_message(r) == "invalid API endpoint"


# Operations of lakeFS v1.84's API that the embedded server does not implement: 501 with a message
# naming the call, after authentication (ledger: "Not implemented").
NOT_IMPLEMENTED = [
    ("GET", "/repositories/{repo}/refs/main/diff/main", None),  # diffRefs
    ("POST", "/repositories/{repo}/branches/main/revert", {"ref": "main", "parent_number": 0}),  # revertBranch
    ("POST", "/repositories/{repo}/branches/main/cherry-pick", {"ref": "main"}),  # cherryPick
    ("GET", "/auth/groups", None),  # listGroups
    ("GET", "/repositories/{repo}/actions/runs", None),  # listRepositoryRuns
]


@pytest.mark.ledger("diffRefs", "revertBranch", "cherryPick", "listGroups", "listRepositoryRuns")
@pytest.mark.parametrize("method,path,body", NOT_IMPLEMENTED, ids=[f"{m} {p}" for m, p, _ in NOT_IMPLEMENTED])
def test_not_implemented_501(raw, repo, method, path, body):
    r = raw.request(method, path.format(repo=repo), json_body=body)
    assert r.status == 501, (r.status, r.data)
    assert "not implemented by lakegate's embedded lakeFS server" in error_message(r)
    assert raw.request(method, path.format(repo=repo), json_body=body, auth=None).status == 401
