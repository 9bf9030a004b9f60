"""Identity operations as lakeFS v1.84.0 answers them with an auth service (docs/lakefs-fidelity.md,
section "Identity"): the texts the controller and ``APIAuthService.validateResponse`` give each
failure (``user not found``, ``not found``, ``Already exists``, ``invalid request``…), the order of
the checks, ``max_per_page`` 0 on auth lists, authentication failures, and the version, capability
and current-user answers."""

from __future__ import annotations

import json
from typing import Optional, Tuple

import lakefs_sdk
import pytest

from .support import error_message, unique_name

AUTH_FAILED = "error authenticating request"


def _call(raw, method: str, path: str, *, auth=True, body=None, query=None) -> Tuple[int, Optional[str], dict]:
    """(status, error message or None, JSON body or {})."""
    r = raw.request(method, path, auth=auth, json_body=body, query=query)
    doc = json.loads(r.data) if r.data else {}
    return r.status, (error_message(r) if r.status >= 400 else None), doc


def _user_with_key(raw, uid: str) -> str:
    assert _call(raw, "POST", "/auth/users", body={"id": uid})[0] == 201
    st, _, creds = _call(raw, "POST", f"/auth/users/{uid}/credentials")
    assert st == 201
    return raw.basic(creds["access_key_id"], creds["secret_access_key"])


# ---------------------------------------------------------------------- authentication


@pytest.mark.ledger("authentication")
def test_every_authentication_failure_reads_error_authenticating_request(raw):
    for auth in (None, raw.basic(secret="wrong"), raw.basic(key="AKIAJNOSUCHKEY000000"), "Basic %%%",
                 "Bearer not.a.jwt", "Bearer a b", "Digest x"):
        assert _call(raw, "GET", "/auth/users", auth=auth)[:2] == (401, AUTH_FAILED), auth
    # an Authorization value that is neither bearer nor readable basic is no credential: the
    # session cookie still counts
    r = raw.request("POST", "/auth/login", auth=None, json_body={
        "access_key_id": raw.server.lakefs_access_key_id, "secret_access_key": raw.server.lakefs_secret_access_key})
    token = json.loads(r.data)["token"]
    cookie = {"Cookie": f"internal_auth_session={token}", "Authorization": "Digest x"}
    r = raw.request("GET", "/user", auth=None, headers=cookie)
    assert r.status == 200 and json.loads(r.data)["user"]["id"] == "admin"


@pytest.mark.ledger("login")
def test_login_token_carries_lakefs_login_claims(raw):
    import base64
    r = raw.request("POST", "/auth/login", auth=None, json_body={
        "access_key_id": raw.server.lakefs_access_key_id, "secret_access_key": raw.server.lakefs_secret_access_key})
    doc = json.loads(r.data)
    payload = doc["token"].split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert (claims["iss"], claims["aud"], claims["sub"]) == ("auth", "login", "admin")
    assert claims["exp"] == doc["token_expiration"] and claims["exp"] - claims["iat"] == 168 * 3600
    assert claims["jti"]
    r = raw.request("POST", "/auth/login", auth=None, json_body={
        "access_key_id": raw.server.lakefs_access_key_id, "secret_access_key": "wrong"})
    assert (r.status, error_message(r)) == (401, AUTH_FAILED)


@pytest.mark.ledger("getCurrentUser")
def test_current_user_friendly_name_defaults_to_id(api_client):
    user = lakefs_sdk.AuthApi(api_client).get_current_user().user
    assert (user.id, user.friendly_name) == ("admin", "admin")


@pytest.mark.ledger("getLakeFSVersion")
def test_version_is_lakefs_oss_without_upgrade_hints(raw):
    st, _, doc = _call(raw, "GET", "/config/version")
    assert st == 200
    assert doc == {"version": "1.84.0", "version_context": "lakeFS"}
    assert _call(raw, "GET", "/config/version", auth=None)[:2] == (401, AUTH_FAILED)
    # any authenticated user, no permission needed
    nobody = _user_with_key(raw, unique_name("u"))
    assert _call(raw, "GET", "/config/version", auth=nobody)[0] == 200


@pytest.mark.ledger("getAuthCapabilities")
def test_auth_capabilities_are_invite_user_only(raw):
    assert _call(raw, "GET", "/auth/capabilities", auth=None) == (200, None, {"invite_user": False})


# ---------------------------------------------------------------------- users and credentials


@pytest.mark.ledger("getUser", "deleteUser", "listUserCredentials", "createCredentials", "getCredentials",
                    "deleteCredentials")
def test_user_and_credentials_not_found_texts(raw):
    ghost = unique_name("ghost")
    assert _call(raw, "GET", f"/auth/users/{ghost}")[:2] == (404, "user not found")
    assert _call(raw, "DELETE", f"/auth/users/{ghost}")[:2] == (404, "user not found")
    assert _call(raw, "POST", f"/auth/users/{ghost}/credentials")[:2] == (404, "not found")
    assert _call(raw, "GET", f"/auth/users/{ghost}/credentials/AKIAJX")[:2] == (404, "credentials not found")
    assert _call(raw, "DELETE", f"/auth/users/{ghost}/credentials/AKIAJX")[:2] == (404, "credentials not found")
    st, _, listed = _call(raw, "GET", f"/auth/users/{ghost}/credentials")
    assert (st, listed["results"], listed["pagination"]["has_more"]) == (200, [], False)
    # another user's key is not found either
    uid = unique_name("u")
    _call(raw, "POST", "/auth/users", body={"id": uid})
    admin_key = raw.server.lakefs_access_key_id
    assert _call(raw, "GET", f"/auth/users/{uid}/credentials/{admin_key}")[:2] == (404, "credentials not found")


@pytest.mark.ledger("createUser")
def test_create_user_checks_in_lakefs_order(raw):
    assert _call(raw, "POST", "/auth/users", body={"id": "a%b"})[:2] == (400, "User name cannot contain '%'")
    assert _call(raw, "POST", "/auth/users", body={"id": "not-an-email", "invite_user": True})[:2] == \
        (400, "Invalid email format")
    # then the caller's permission: a user without auth:CreateUser gets 401 before the id check
    nobody = _user_with_key(raw, unique_name("u"))
    st, msg, _ = _call(raw, "POST", "/auth/users", auth=nobody, body={"id": "a/b"})
    assert st == 401 and msg.startswith("insufficient permissions")
    assert _call(raw, "POST", "/auth/users", body={"id": "x@example.com", "invite_user": True})[:2] == \
        (501, "Not Implemented")
    for bad in ("", "a/b"):
        assert _call(raw, "POST", "/auth/users", body={"id": bad})[:2] == (400, "invalid request"), bad
    uid = unique_name("u")
    st, _, created = _call(raw, "POST", "/auth/users", body={"id": uid})
    assert st == 201 and set(created) == {"id", "creation_date"}
    st, msg, _ = _call(raw, "POST", "/auth/users", body={"id": uid})
    assert st == 409 and "already exists" in msg.lower()


@pytest.mark.ledger("listUsers", "listUserCredentials", "listPolicies", "listUserPolicies",
                    "listUserExternalPrincipals")
def test_auth_lists_leave_max_per_page_zero(raw):
    uid = _user_and_principal(raw)
    for path in ("/auth/users", f"/auth/users/{uid}/credentials", "/auth/policies", "/auth/users/admin/policies",
                 f"/auth/users/{uid}/external/principals/ls"):
        st, _, doc = _call(raw, "GET", path, query=[("amount", 1)])
        assert st == 200, path
        assert doc["pagination"]["max_per_page"] == 0, path
        assert doc["pagination"]["results"] == len(doc["results"]) == 1, path
    assert _call(raw, "GET", "/auth/users", query=[("amount", 1001)])[0] == 400


def _user_and_principal(raw) -> str:
    uid = unique_name("u")
    _user_with_key(raw, uid)
    assert _call(raw, "POST", f"/auth/users/{uid}/external/principals", query=[("principalId", f"arn:{uid}")])[0] == 201
    return uid


# ---------------------------------------------------------------------- policies


def _policy(pid: str, **statement) -> dict:
    st = {"effect": "allow", "action": ["fs:ReadObject"], "resource": "*"}
    st.update(statement)
    return {"id": pid, "statement": [st]}


@pytest.mark.ledger("createPolicy")
def test_create_policy_checks_in_lakefs_order(raw):
    # the request schema first (400 even for a caller without permission)
    nobody = _user_with_key(raw, unique_name("u"))
    assert _call(raw, "POST", "/auth/policies", auth=nobody, body=_policy("p", effect="maybe"))[0] == 400
    # then auth:CreatePolicy on the policy, then the id and the statements
    st, msg, _ = _call(raw, "POST", "/auth/policies", auth=nobody, body=_policy("a/b"))
    assert st == 401 and msg.startswith("insufficient permissions")
    for pid, text in (("a%b", "Policy name cannot contain '%'"), ("", "empty name: validation error"),
                      ("a/b", "name contains delimiter /: validation error")):
        assert _call(raw, "POST", "/auth/policies", body=_policy(pid))[:2] == (400, text), pid
    assert _call(raw, "POST", "/auth/policies", body=_policy("p", action=["ReadObject"]))[:2] == \
        (400, "invalid request")
    pid = unique_name("p")
    st, _, created = _call(raw, "POST", "/auth/policies", body=_policy(pid))
    assert st == 201 and created["creation_date"] > 0
    assert _call(raw, "POST", "/auth/policies", body=_policy(pid))[:2] == (409, "Already exists")


@pytest.mark.ledger("getPolicy", "deletePolicy", "attachPolicyToUser", "detachPolicyFromUser", "listUserPolicies")
def test_policy_texts_and_attachments(raw):
    ghost = unique_name("ghost")
    assert _call(raw, "GET", f"/auth/policies/{ghost}")[:2] == (404, "policy not found")
    assert _call(raw, "DELETE", f"/auth/policies/{ghost}")[:2] == (404, "policy not found")
    uid, pid = unique_name("u"), unique_name("p")
    _call(raw, "POST", "/auth/users", body={"id": uid})
    _call(raw, "POST", "/auth/policies", body=_policy(pid))
    assert _call(raw, "PUT", f"/auth/users/{uid}/policies/{ghost}")[:2] == (404, "not found")
    assert _call(raw, "PUT", f"/auth/users/{ghost}/policies/{pid}")[:2] == (404, "not found")
    r = raw.request("PUT", f"/auth/users/{uid}/policies/{pid}")
    assert (r.status, r.data) == (201, b"")
    assert _call(raw, "PUT", f"/auth/users/{uid}/policies/{pid}")[:2] == (409, "Already exists")
    # an unknown user has no attachments; its effective policies need the user
    st, _, listed = _call(raw, "GET", f"/auth/users/{ghost}/policies")
    assert (st, listed["results"]) == (200, [])
    assert _call(raw, "GET", f"/auth/users/{ghost}/policies", query=[("effective", "true")])[:2] == (404, "not found")
    assert _call(raw, "DELETE", f"/auth/users/{uid}/policies/{pid}")[0] == 204
    # lakeFS's open auth service deletes without looking: not attached is 204 too
    assert _call(raw, "DELETE", f"/auth/users/{uid}/policies/{pid}")[0] == 204
    assert _call(raw, "DELETE", f"/auth/users/{uid}/policies/{ghost}")[:2] == (404, "not found")
    assert _call(raw, "DELETE", f"/auth/users/{ghost}/policies/{pid}")[:2] == (404, "not found")
    assert _call(raw, "DELETE", f"/auth/policies/{pid}")[0] == 204


# ---------------------------------------------------------------------- external principals


@pytest.mark.ledger("createUserExternalPrincipal", "deleteUserExternalPrincipal", "getExternalPrincipal",
                    "listUserExternalPrincipals")
def test_external_principal_texts(raw):
    uid, ghost = unique_name("u"), unique_name("ghost")
    _call(raw, "POST", "/auth/users", body={"id": uid})
    pid = [("principalId", f"arn:aws:iam::1:user/{uid}")]
    assert _call(raw, "POST", f"/auth/users/{ghost}/external/principals", query=pid)[:2] == (404, "not found")
    r = raw.request("POST", f"/auth/users/{uid}/external/principals", query=pid)
    assert (r.status, r.data) == (201, b"")
    assert _call(raw, "POST", f"/auth/users/{uid}/external/principals", query=pid)[:2] == (409, "Already exists")
    assert _call(raw, "GET", "/auth/external/principals", query=pid)[2] == {"id": pid[0][1], "user_id": uid}
    assert _call(raw, "GET", f"/auth/users/{ghost}/external/principals/ls")[:2] == (404, "not found")
    assert _call(raw, "DELETE", f"/auth/users/{ghost}/external/principals", query=pid)[:2] == (404, "not found")
    assert _call(raw, "DELETE", f"/auth/users/{uid}/external/principals", query=pid)[0] == 204
    assert _call(raw, "GET", "/auth/external/principals", query=pid)[:2] == (404, "not found")
    assert _call(raw, "DELETE", f"/auth/users/{uid}/external/principals", query=pid)[:2] == (404, "not found")
