"""healthCheck, getConfig, getStorageConfig, login, getCurrentUser and authentication errors."""

import base64
import json
import time

import lakefs_sdk
import pytest
from lakefs_sdk.exceptions import UnauthorizedException

from harness import S3_BUCKET

from .support import error_message


# ---------------------------------------------------------------------- healthCheck


@pytest.mark.ledger("healthCheck")
def test_healthcheck_204_without_credentials(raw):
    r = raw.request("GET", "/healthcheck", auth=None)
    assert r.status == 204
    assert r.data == b""


@pytest.mark.ledger("healthCheck")
def test_healthcheck_sdk(server):
    with server.lakefs_client(anonymous=True) as c:
        resp = lakefs_sdk.HealthCheckApi(c).health_check_with_http_info()
    assert resp.status_code == 204
    assert resp.data is None


# ---------------------------------------------------------------------- config


BLOCKSTORE = "s3" if S3_BUCKET else "local"


def _assert_local_storage_config(sc):
    assert sc.blockstore_type == BLOCKSTORE
    assert sc.blockstore_namespace_example.startswith(f"{BLOCKSTORE}://")
    assert sc.pre_sign_support is True
    assert sc.pre_sign_multipart_upload is True
    assert isinstance(sc.blockstore_namespace_example, str)
    assert isinstance(sc.blockstore_namespace_validity_regex, str)
    assert isinstance(sc.pre_sign_support_ui, bool)
    assert isinstance(sc.import_support, bool)
    assert isinstance(sc.import_validity_regex, str)


@pytest.mark.ledger("getConfig")
def test_get_config(api_client):
    resp = lakefs_sdk.ConfigApi(api_client).get_config_with_http_info()
    assert resp.status_code == 200
    cfg = resp.data
    assert cfg.storage_config is not None
    _assert_local_storage_config(cfg.storage_config)


@pytest.mark.ledger("getConfig")
def test_get_config_wire_field_names(raw):
    r = raw.request("GET", "/config")
    assert r.status == 200
    doc = json.loads(r.data)
    sc = doc["storage_config"]
    # exact wire names, including the odd capital V
    for key in ("blockstore_type", "blockstore_namespace_example", "blockstore_namespace_ValidityRegex",
                "pre_sign_support", "pre_sign_support_ui", "import_support", "import_validity_regex"):
        assert key in sc, key
    assert sc["blockstore_type"] == BLOCKSTORE
    assert sc["pre_sign_support"] is True
    assert sc["pre_sign_multipart_upload"] is True
    # lakeFS OSS: the single blockstore has id "" and the storage list is emptied
    assert sc["blockstore_id"] == ""
    assert sc["blockstore_namespace_example"] == f"{BLOCKSTORE}://example-bucket/"
    assert doc["storage_config_list"] == []


@pytest.mark.ledger("getConfig")
def test_get_config_requires_auth(raw):
    r = raw.request("GET", "/config", auth=None)
    assert r.status == 401
    error_message(r)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.ledger("getStorageConfig")
def test_get_storage_config(api_client):
    resp = lakefs_sdk.InternalApi(api_client).get_storage_config_with_http_info()
    assert resp.status_code == 200
    _assert_local_storage_config(resp.data)


@pytest.mark.ledger("getStorageConfig")
def test_get_storage_config_requires_auth(raw):
    r = raw.request("GET", "/config/storage", auth=None)
    assert r.status == 401
    error_message(r)


# ---------------------------------------------------------------------- authentication errors


@pytest.mark.ledger("authentication")
def test_no_credentials_401(raw):
    r = raw.request("GET", "/repositories", auth=None)
    assert r.status == 401
    error_message(r)


@pytest.mark.ledger("authentication")
def test_wrong_secret_401(server):
    with server.lakefs_client(password="not-the-secret") as c:
        with pytest.raises(UnauthorizedException) as ei:
            lakefs_sdk.RepositoriesApi(c).list_repositories()
    assert ei.value.status == 401
    error_message(ei.value)


@pytest.mark.ledger("authentication")
def test_unknown_access_key_401(server):
    with server.lakefs_client(username="AKIAUNKNOWNUNKNOWN00", password="whatever") as c:
        with pytest.raises(UnauthorizedException) as ei:
            lakefs_sdk.AuthApi(c).get_current_user()
    assert ei.value.status == 401
    error_message(ei.value)


@pytest.mark.ledger("authentication")
def test_malformed_basic_auth_401(raw):
    r = raw.request("GET", "/repositories", auth="Basic %%%not-base64%%%")
    assert r.status == 401
    error_message(r)


@pytest.mark.ledger("authentication")
def test_garbage_bearer_token_401(raw):
    r = raw.request("GET", "/repositories", auth="Bearer not.a.jwt")
    assert r.status == 401
    error_message(r)


# ---------------------------------------------------------------------- login


@pytest.mark.ledger("login")
def test_login_returns_usable_jwt(server):
    with server.lakefs_client(anonymous=True) as anon:
        resp = lakefs_sdk.AuthApi(anon).login_with_http_info(lakefs_sdk.LoginInformation(
            access_key_id=server.lakefs_access_key_id, secret_access_key=server.lakefs_secret_access_key))
    assert resp.status_code == 200
    tok = resp.data
    assert isinstance(tok.token, str) and tok.token
    # a JWT: three base64url segments, header declares a JWT algorithm
    parts = tok.token.split(".")
    assert len(parts) == 3
    header = json.loads(base64.urlsafe_b64decode(parts[0] + "=" * (-len(parts[0]) % 4)))
    assert "alg" in header
    now = int(time.time())
    assert tok.token_expiration is not None and tok.token_expiration > now
    # usable as a bearer token
    with server.lakefs_client(access_token=tok.token) as bearer:
        user = lakefs_sdk.AuthApi(bearer).get_current_user()
        assert user.user.id == "admin"
        repos = lakefs_sdk.RepositoriesApi(bearer).list_repositories(amount=1000)
        assert "demo" in [r.id for r in repos.results]


@pytest.mark.ledger("login")
def test_login_bearer_raw(server, raw):
    r = raw.request("POST", "/auth/login", auth=None, json_body={
        "access_key_id": server.lakefs_access_key_id, "secret_access_key": server.lakefs_secret_access_key})
    assert r.status == 200
    token = json.loads(r.data)["token"]
    r2 = raw.request("GET", "/user", auth=f"Bearer {token}")
    assert r2.status == 200
    assert json.loads(r2.data)["user"]["id"] == "admin"


@pytest.mark.ledger("login")
def test_login_sets_session_cookie(server, raw):
    r = raw.request("POST", "/auth/login", auth=None, json_body={
        "access_key_id": server.lakefs_access_key_id, "secret_access_key": server.lakefs_secret_access_key})
    assert r.status == 200
    cookies = r.headers.getlist("Set-Cookie")
    assert any(c.startswith("internal_auth_session=") for c in cookies), cookies


@pytest.mark.ledger("login")
def test_login_wrong_secret_401(server):
    with server.lakefs_client(anonymous=True) as anon:
        with pytest.raises(UnauthorizedException) as ei:
            lakefs_sdk.AuthApi(anon).login(lakefs_sdk.LoginInformation(
                access_key_id=server.lakefs_access_key_id, secret_access_key="wrong"))
    assert ei.value.status == 401
    error_message(ei.value)


@pytest.mark.ledger("login")
def test_login_unknown_key_401(server):
    with server.lakefs_client(anonymous=True) as anon:
        with pytest.raises(UnauthorizedException) as ei:
            lakefs_sdk.AuthApi(anon).login(lakefs_sdk.LoginInformation(
                access_key_id="AKIANOSUCHKEY0000000", secret_access_key="wrong"))
    assert ei.value.status == 401


@pytest.mark.ledger("login")
def test_login_missing_field_400(raw, server):
    r = raw.request("POST", "/auth/login", auth=None, json_body={"access_key_id": server.lakefs_access_key_id})
    assert r.status == 400
    error_message(r)


@pytest.mark.ledger("login")
def test_login_bad_json_400(raw):
    r = raw.request("POST", "/auth/login", auth=None, body=b"{not json",
                    headers={"Content-Type": "application/json"})
    assert r.status == 400
    error_message(r)


# ---------------------------------------------------------------------- getCurrentUser


@pytest.mark.ledger("getCurrentUser")
def test_get_current_user(api_client):
    resp = lakefs_sdk.AuthApi(api_client).get_current_user_with_http_info()
    assert resp.status_code == 200
    u = resp.data.user
    assert u.id == "admin"
    assert isinstance(u.creation_date, int) and 0 < u.creation_date <= int(time.time()) + 5


@pytest.mark.ledger("getCurrentUser")
def test_get_current_user_without_credentials(raw):
    """lakeFS lets a request without credentials reach GetCurrentUser (`checkSecurityRequirements`
    answers no user and no error), which answers 200 with an empty user; wrong credentials are 401."""
    r = raw.request("GET", "/user", auth=None)
    assert r.status == 200
    assert json.loads(r.data) == {"user": {"id": "", "creation_date": 0}}
    r = raw.request("GET", "/user", auth=raw.basic(secret="wrong"))
    assert r.status == 401
    assert error_message(r) == "error authenticating request"


@pytest.mark.ledger("stsLogin")
def test_sts_login_501_without_an_authentication_service(server):
    """stsLogin is public (no credentials) and, with no OIDC issuer configured, answers 501 as OSS
    lakeFS without an authentication service (the sign-in itself: conformance/oidc)."""
    anonymous = lakefs_sdk.ApiClient(lakefs_sdk.Configuration(host=server.api_endpoint))
    req = lakefs_sdk.StsAuthRequest(code="c", state="s", redirect_uri="http://127.0.0.1:1/callback")
    with pytest.raises(lakefs_sdk.exceptions.ApiException) as e:
        lakefs_sdk.ExperimentalApi(anonymous).sts_login(req)
    assert e.value.status == 501, e.value
    assert error_message(e.value) == "Not Implemented"
