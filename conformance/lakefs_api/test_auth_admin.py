"""Identity administration through lakefs-sdk's AuthApi and ExternalApi: users, credentials
(which then authenticate as their user), policies and their enforcement (a denied call is 401, as
lakeFS answers), external principals and externalPrincipalLogin (refusals, and a login through a
tiny STS stand-in — a test fixture for lakegate's own STS endpoint, which comes later)."""

from __future__ import annotations

import base64
import http.server
import json
import threading
from typing import List
from urllib.parse import urlsplit

import lakefs_sdk
import pytest
from lakefs_sdk.exceptions import ApiException

from .support import create_repo, error_message, unique_name, upload_bytes


def _status(fn, *args, **kwargs) -> int:
    with pytest.raises(ApiException) as ei:
        fn(*args, **kwargs)
    error_message(ei.value)
    return ei.value.status


def _new_user(auth: lakefs_sdk.AuthApi) -> str:
    uid = unique_name("u")
    auth.create_user(lakefs_sdk.UserCreation(id=uid))
    return uid


# ---------------------------------------------------------------------- users and credentials


@pytest.mark.ledger("createUser", "getUser", "listUsers", "deleteUser")
def test_user_lifecycle(api_client):
    auth = lakefs_sdk.AuthApi(api_client)
    uid = unique_name("u")
    resp = auth.create_user_with_http_info(lakefs_sdk.UserCreation(id=uid))
    assert resp.status_code == 201
    assert resp.data.id == uid and resp.data.creation_date > 0
    assert _status(auth.create_user, lakefs_sdk.UserCreation(id=uid)) == 409
    assert auth.get_user(uid).id == uid
    assert _status(auth.get_user, unique_name("ghost")) == 404
    ids = [u.id for u in auth.list_users(prefix=uid).results]
    assert ids == [uid]
    page = auth.list_users(amount=1)
    assert page.pagination.has_more and page.pagination.next_offset == page.results[0].id
    auth.delete_user(uid)
    assert _status(auth.get_user, uid) == 404
    assert _status(auth.delete_user, uid) == 404


@pytest.mark.ledger("createCredentials", "listUserCredentials", "getCredentials", "deleteCredentials", "login", "getCurrentUser")
def test_credentials_authenticate_as_their_user(server, api_client):
    auth = lakefs_sdk.AuthApi(api_client)
    uid = _new_user(auth)
    resp = auth.create_credentials_with_http_info(uid)
    assert resp.status_code == 201
    creds = resp.data
    assert creds.access_key_id.startswith("AKIA") and len(creds.secret_access_key) == 40
    listed = auth.list_user_credentials(uid)
    assert [c.access_key_id for c in listed.results] == [creds.access_key_id]
    assert auth.get_credentials(uid, creds.access_key_id).creation_date == creds.creation_date
    with server.lakefs_client(creds.access_key_id, creds.secret_access_key) as c:
        assert lakefs_sdk.AuthApi(c).get_current_user().user.id == uid
    with server.lakefs_client(anonymous=True) as anon:
        token = lakefs_sdk.AuthApi(anon).login(lakefs_sdk.LoginInformation(
            access_key_id=creds.access_key_id, secret_access_key=creds.secret_access_key))
    with server.lakefs_client(access_token=token.token) as c:
        assert lakefs_sdk.AuthApi(c).get_current_user().user.id == uid
    auth.delete_credentials(uid, creds.access_key_id)
    assert _status(auth.get_credentials, uid, creds.access_key_id) == 404
    with server.lakefs_client(creds.access_key_id, creds.secret_access_key) as c:
        assert _status(lakefs_sdk.AuthApi(c).get_current_user) == 401
    assert _status(auth.create_credentials, unique_name("ghost")) == 404
    auth.delete_user(uid)


# ---------------------------------------------------------------------- policies


def _read_only_policy(pid: str, repo: str) -> lakefs_sdk.Policy:
    return lakefs_sdk.Policy(id=pid, statement=[
        lakefs_sdk.Statement(effect="allow", action=["fs:ReadObject"],
                             resource=f"arn:lakefs:fs:::repository/{repo}/object/*"),
        lakefs_sdk.Statement(effect="allow", action=["fs:ListObjects", "fs:ReadRepository"],
                             resource=f"arn:lakefs:fs:::repository/{repo}"),
    ])


@pytest.mark.ledger("createPolicy", "getPolicy", "listPolicies", "attachPolicyToUser", "listUserPolicies", "detachPolicyFromUser", "deletePolicy")
def test_policies_crud(api_client, raw):
    auth = lakefs_sdk.AuthApi(api_client)
    pid = unique_name("p")
    resp = auth.create_policy_with_http_info(_read_only_policy(pid, "r"))
    assert resp.status_code == 201 and resp.data.creation_date
    assert _status(auth.create_policy, _read_only_policy(pid, "r")) == 409
    got = auth.get_policy(pid)
    assert [s.action for s in got.statement] == [["fs:ReadObject"], ["fs:ListObjects", "fs:ReadRepository"]]
    assert [p.id for p in auth.list_policies(prefix=pid).results] == [pid]
    # the SDK refuses an unknown effect itself: send it raw
    bad = {"id": unique_name("p"), "statement": [{"effect": "sometimes", "action": ["fs:ReadObject"], "resource": "*"}]}
    r = raw.request("POST", "/auth/policies", json_body=bad)
    assert r.status == 400 and error_message(r)
    uid = _new_user(auth)
    assert auth.attach_policy_to_user_with_http_info(uid, pid).status_code == 201
    assert [p.id for p in auth.list_user_policies(uid).results] == [pid]
    auth.detach_policy_from_user(uid, pid)
    assert auth.list_user_policies(uid).results == []
    assert auth.detach_policy_from_user_with_http_info(uid, pid).status_code == 204  # not attached: 204 all the same
    auth.delete_policy(pid)
    assert _status(auth.get_policy, pid) == 404
    admin = {p.id for p in auth.list_user_policies("admin").results}
    assert {"FSFullAccess", "AuthFullAccess"} <= admin
    auth.delete_user(uid)


@pytest.mark.ledger("attachPolicyToUser")
def test_read_only_user_is_denied_writes(server, api_client, raw):
    auth = lakefs_sdk.AuthApi(api_client)
    repo = create_repo(api_client).id
    upload_bytes(server, repo, "main", "a.txt", b"hello")
    pid, uid = unique_name("p"), _new_user(auth)
    auth.create_policy(_read_only_policy(pid, repo))
    auth.attach_policy_to_user(uid, pid)
    creds = auth.create_credentials(uid)
    with server.lakefs_client(creds.access_key_id, creds.secret_access_key) as c:
        objects = lakefs_sdk.ObjectsApi(c)
        assert [o.path for o in objects.list_objects(repo, "main").results] == ["a.txt"]
        assert objects.stat_object(repo, "main", "a.txt").size_bytes == 5
        assert objects.get_object(repo, "main", "a.txt") == b"hello"
        r = raw.request("POST", f"/repositories/{repo}/branches/main/objects", query=[("path", "b.txt")],
                        headers={"Content-Type": "application/octet-stream"}, body=b"x",
                        auth=raw.basic(creds.access_key_id, creds.secret_access_key))
        assert r.status == 401
        assert error_message(r) == "insufficient permissions"
        assert _status(objects.delete_object, repo, "main", "a.txt") == 401
        commits = lakefs_sdk.CommitsApi(c)
        assert _status(commits.commit, repo, "main", lakefs_sdk.CommitCreation(message="m")) == 401
        assert _status(lakefs_sdk.AuthApi(c).list_users) == 401
    # the admin still can
    upload_bytes(server, repo, "main", "b.txt", b"x")
    auth.delete_user(uid)
    auth.delete_policy(pid)


# ---------------------------------------------------------------------- external principals


@pytest.mark.ledger("createUserExternalPrincipal", "getExternalPrincipal", "listUserExternalPrincipals", "deleteUserExternalPrincipal")
def test_external_principals_crud(api_client):
    auth, ext = lakefs_sdk.AuthApi(api_client), lakefs_sdk.ExternalApi(api_client)
    uid = _new_user(auth)
    arn = f"arn:aws:sts::123456789012:assumed-role/{uid}"
    resp = ext.create_user_external_principal_with_http_info(uid, arn)
    assert resp.status_code == 201
    assert _status(ext.create_user_external_principal, uid, arn) == 409
    other = f"arn:aws:iam::123456789012:user/{uid}"
    ext.create_user_external_principal(uid, other, lakefs_sdk.ExternalPrincipalCreation(settings=[{"k": "v"}]))
    assert _status(ext.create_user_external_principal, unique_name("ghost"), arn + "x") == 404
    got = ext.get_external_principal(arn)
    assert (got.id, got.user_id) == (arn, uid)
    assert _status(ext.get_external_principal, arn + "/nobody") == 404
    listed = ext.list_user_external_principals(uid)
    assert [p.id for p in listed.results] == sorted([arn, other])
    ext.delete_user_external_principal(uid, arn)
    assert _status(ext.delete_user_external_principal, uid, arn) == 404
    auth.delete_user(uid)
    assert _status(ext.get_external_principal, other) == 404


# ---------------------------------------------------------------------- externalPrincipalLogin


def _identity_request(host: str, signed_headers: List[str]) -> dict:
    """lakeFS's identityRequest (base64 JSON AWSIdentityTokenInfo) for a GetCallerIdentity
    presigned now; the signature is a placeholder: only the STS host checks it."""
    import datetime
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    info = {"method": "POST", "host": host, "region": "us-east-1", "action": "GetCallerIdentity",
            "date": now, "expiration_duration": "900", "access_key_id": "AKIAEXAMPLE",
            "signature": "0123abcd", "signed_headers": signed_headers, "version": "2011-06-15",
            "algorithm": "AWS4-HMAC-SHA256", "security_token": ""}
    return {"identity_token": base64.b64encode(json.dumps(info).encode()).decode()}


class _StsStub(http.server.BaseHTTPRequestHandler):
    """Answers every POST with a GetCallerIdentity result for ``arn`` and records the request."""
    arn = ""
    seen: List[dict] = []

    def do_POST(self):  # noqa: N802 (http.server naming)
        type(self).seen.append({"path": self.path, "server_id": self.headers.get("X-LakeFS-Server-ID")})
        body = (f'<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
                f"<GetCallerIdentityResult><Arn>{self.arn}</Arn><UserId>AROA:s</UserId><Account>1</Account>"
                f"</GetCallerIdentityResult></GetCallerIdentityResponse>").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def sts_stub():
    handler = type("Stub", (_StsStub,), {"arn": "", "seen": []})
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield handler, f"127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


@pytest.mark.ledger("externalPrincipalLogin")
def test_external_login_refused_without_allowed_sts_host(server):
    with server.lakefs_client(anonymous=True) as anon:
        api = lakefs_sdk.ExternalApi(anon)
        req = _identity_request("sts.amazonaws.com", ["host", "x-lakefs-server-id"])
        info = lakefs_sdk.ExternalLoginInformation(identity_request=req, token_expiration_duration=60)
        assert _status(api.external_principal_login, info) == 401
        bad = lakefs_sdk.ExternalLoginInformation(identity_request={"identity_token": "%%%"})
        assert _status(api.external_principal_login, bad) == 401


@pytest.mark.ledger("externalPrincipalLogin")
def test_external_login_through_sts(server_factory, sts_stub):
    stub, host = sts_stub
    srv = server_factory(extra_args=["--sts-allowed-host", host])
    with srv.lakefs_client() as admin:
        auth, ext = lakefs_sdk.AuthApi(admin), lakefs_sdk.ExternalApi(admin)
        uid = _new_user(auth)
        stub.arn = f"arn:aws:sts::1:assumed-role/{uid}/session-1"
        ext.create_user_external_principal(uid, f"arn:aws:sts::1:assumed-role/{uid}")
    with srv.lakefs_client(anonymous=True) as anon:
        api = lakefs_sdk.ExternalApi(anon)
        unsigned = _identity_request(host, ["host"])
        assert _status(api.external_principal_login, lakefs_sdk.ExternalLoginInformation(identity_request=unsigned)) == 401
        assert stub.seen == []
        good = _identity_request(host, ["host", "x-lakefs-server-id"])
        token = api.external_principal_login(
            lakefs_sdk.ExternalLoginInformation(identity_request=good, token_expiration_duration=600))
    assert token.token and token.token_expiration
    assert stub.seen[0]["server_id"] == urlsplit(srv.api_endpoint).netloc
    assert "X-Amz-Signature=0123abcd" in stub.seen[0]["path"]
    with srv.lakefs_client(access_token=token.token) as c:
        assert lakefs_sdk.AuthApi(c).get_current_user().user.id == uid
