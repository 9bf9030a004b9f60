"""Helpers of the lakeFS REST API conformance suite (the server process and the storage pass are
the harness's: ``harness.LakegateServer``, ``harness.ns``, ``harness.data_url``):

* ``Raw``: requests the SDK cannot make (raw urllib3, paths relative to ``/api/v1``, basic auth
  with dev.json's lakeFS key by default); ``http``: a request to an absolute URL (presigned URLs).
* ``error_message``: asserts a lakeFS ``Error`` body and returns its message.
* ``unique_name`` / ``create_repo`` / ``upload_bytes``: fresh repositories and objects.
"""

from __future__ import annotations

import base64
import json
import secrets
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import urlencode

import lakefs_sdk
import pytest
import urllib3

from harness import LakegateServer, ns

_HTTP = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(connect=5.0, read=30.0))


# --------------------------------------------------------------------------------------
# raw HTTP helper (urllib3) for requests the SDK cannot make
# --------------------------------------------------------------------------------------


class Raw:
    """Raw requests against the API; paths are relative to /api/v1."""

    def __init__(self, server: LakegateServer):
        self.server = server

    def basic(self, key: Optional[str] = None, secret: Optional[str] = None) -> str:
        k = self.server.lakefs_access_key_id if key is None else key
        s = self.server.lakefs_secret_access_key if secret is None else secret
        return "Basic " + base64.b64encode(f"{k}:{s}".encode()).decode()

    def url(self, path: str, query: Optional[List[Tuple[str, Any]]] = None) -> str:
        u = self.server.api_endpoint + path
        if query:
            u += "?" + urlencode([(k, _qv(v)) for k, v in query])
        return u

    def request(self, method: str, path: str, *, query=None, headers: Optional[Dict[str, str]] = None,
                body: Optional[bytes] = None, json_body: Any = None, auth: Any = True,
                fields=None) -> urllib3.BaseHTTPResponse:
        """``auth``: True = basic auth with dev.json creds, None/False = none, str = Authorization value."""
        h: Dict[str, str] = {}
        if auth is True:
            h["Authorization"] = self.basic()
        elif isinstance(auth, str):
            h["Authorization"] = auth
        if json_body is not None:
            body = json.dumps(json_body).encode()
            h["Content-Type"] = "application/json"
        if headers:
            h.update(headers)
        if fields is not None:
            return _HTTP.request(method, self.url(path, query), fields=fields, headers=h,
                                 encode_multipart=True, redirect=False)
        return _HTTP.request(method, self.url(path, query), body=body, headers=h, redirect=False)


def _qv(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def http(method: str, url: str, *, headers: Optional[Dict[str, str]] = None, body: Optional[bytes] = None,
         redirect: bool = False) -> urllib3.BaseHTTPResponse:
    """Plain HTTP request to an absolute URL (presigned URLs); never follows redirects unless asked."""
    return _HTTP.request(method, url, headers=headers or {}, body=body, redirect=redirect)


def error_message(resp) -> str:
    """Assert that ``resp`` (urllib3 response or SDK ApiException) carries a lakeFS ``Error`` body
    (JSON object with a string ``message``) and return the message."""
    if isinstance(resp, lakefs_sdk.ApiException):
        raw = resp.body
        ctype = (resp.headers or {}).get("Content-Type", "")
    else:
        raw = resp.data
        ctype = resp.headers.get("Content-Type", "")
    if isinstance(raw, (bytes, bytearray)):
        raw = raw.decode("utf-8", "replace")
    assert "application/json" in ctype, f"error response Content-Type is {ctype!r}, body {raw!r}"
    try:
        doc = json.loads(raw)
    except ValueError:
        pytest.fail(f"error body is not JSON: {raw!r}")
    assert isinstance(doc, dict), f"error body is not a JSON object: {raw!r}"
    assert isinstance(doc.get("message"), str), f"error body has no string 'message': {raw!r}"
    return doc["message"]


# --------------------------------------------------------------------------------------
# naming / repository helpers
# --------------------------------------------------------------------------------------


def unique_name(prefix: str = "t") -> str:
    """Repository-name-safe unique name: ``t-<8 hex chars>``."""
    return f"{prefix}-{secrets.token_hex(4)}"


def create_repo(client: lakefs_sdk.ApiClient, name: Optional[str] = None,
                default_branch: Optional[str] = None) -> lakefs_sdk.Repository:
    name = name or unique_name()
    kwargs: Dict[str, Any] = {"name": name, "storage_namespace": ns(name)}
    if default_branch is not None:
        kwargs["default_branch"] = default_branch
    return lakefs_sdk.RepositoriesApi(client).create_repository(lakefs_sdk.RepositoryCreation(**kwargs))


def upload_bytes(server: LakegateServer, repo: str, branch: str, path: str, data: bytes,
                 content_type: str = "application/octet-stream",
                 headers: Optional[Dict[str, str]] = None) -> dict:
    """uploadObject with an application/octet-stream body (raw); asserts 201, returns the JSON."""
    h = {"Content-Type": content_type}
    if headers:
        h.update(headers)
    r = Raw(server).request("POST", f"/repositories/{repo}/branches/{branch}/objects",
                            query=[("path", path)], headers=h, body=data)
    assert r.status == 201, (r.status, r.data)
    return json.loads(r.data)
