"""Error responses with their exact S3 codes and HTTP statuses: NoSuchKey (404), NoSuchBucket
(404), PreconditionFailed (412), InvalidRange (416) as XML error documents (Code, Message,
Resource, RequestId = x-amz-request-id); HEAD answers a bare status with no body."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET

import pytest

from harness import BRANCH, BUCKET, ObjCli, new_repo_name

from .support import new_prefix, signed

BRANCH_BUCKET = f"{BUCKET}.{BRANCH}"


@pytest.fixture
def present(boto):
    key = f"{BRANCH}/{new_prefix('err')}present.txt"
    boto.s3.put_object(Bucket=BUCKET, Key=key, Body=b"0123456789")
    return key


@pytest.mark.matrix("boto3", "error codes")
def test_boto3_error_codes(boto, present):
    missing_key = f"{BRANCH}/{new_prefix('err')}missing"
    missing_bucket = new_repo_name("nobucket")
    cases = [
        ("get_object", dict(Bucket=BUCKET, Key=missing_key), 404, "NoSuchKey"),
        ("get_object", dict(Bucket=BRANCH_BUCKET, Key=missing_key[len(BRANCH) + 1:]), 404, "NoSuchKey"),
        ("head_object", dict(Bucket=BUCKET, Key=missing_key), 404, "404"),
        ("get_object", dict(Bucket=missing_bucket, Key=f"{BRANCH}/x"), 404, "NoSuchBucket"),
        ("delete_object", dict(Bucket=missing_bucket, Key=f"{BRANCH}/x"), 404, "NoSuchBucket"),
        ("list_objects_v2", dict(Bucket=missing_bucket), 404, "NoSuchBucket"),
        ("list_objects", dict(Bucket=missing_bucket), 404, "NoSuchBucket"),
        ("head_bucket", dict(Bucket=missing_bucket), 404, "404"),
        ("get_object", dict(Bucket=BUCKET, Key=present, IfMatch='"ffffffffffffffffffffffffffffffff"'), 412,
         "PreconditionFailed"),
        ("head_object", dict(Bucket=BUCKET, Key=present, IfMatch='"ffffffffffffffffffffffffffffffff"'), 412, "412"),
        ("get_object", dict(Bucket=BUCKET, Key=present, Range="bytes=10-"), 416, "InvalidRange"),
        # the requests with a body: lakegate refuses them before reading the body and then closes
        # the connection without saying so (test_early_upload_refusal_says_whether_connection_closes),
        # so the pooled connections are dropped after each of them (_check)
        ("delete_objects", dict(Bucket=missing_bucket, Delete={"Objects": [{"Key": f"{BRANCH}/x"}]}), 404,
         "NoSuchBucket"),
        ("put_object", dict(Bucket=missing_bucket, Key=f"{BRANCH}/x", Body=b"x"), 404, "NoSuchBucket"),
    ]
    problems = _check(boto, cases)
    assert not problems, "\n".join(problems)


@pytest.mark.matrix("boto3", "error codes")
def test_missing_branch_bucket_is_no_such_bucket(boto, present):
    """``<repo>.<branch>`` for a branch that does not exist is a bucket that does not exist, for
    every operation (HeadBucket already says 404 and PutObject NoSuchBucket)."""
    bucket = f"{BUCKET}.no-such-branch"
    cases = [
        ("head_bucket", dict(Bucket=bucket), 404, "404"),
        ("get_object", dict(Bucket=bucket, Key="x"), 404, "NoSuchBucket"),
        ("head_object", dict(Bucket=bucket, Key="x"), 404, "404"),
        ("list_objects_v2", dict(Bucket=bucket), 404, "NoSuchBucket"),
        ("delete_object", dict(Bucket=bucket, Key="x"), 404, "NoSuchBucket"),
        ("copy_object", dict(Bucket=bucket, Key="x", CopySource=f"{BUCKET}/{present}"), 404, "NoSuchBucket"),
        # the requests with a body (see test_boto3_error_codes)
        ("delete_objects", dict(Bucket=bucket, Delete={"Objects": [{"Key": "x"}]}), 404, "NoSuchBucket"),
        ("put_object", dict(Bucket=bucket, Key="x", Body=b"x"), 404, "NoSuchBucket"),
    ]
    problems = _check(boto, cases)
    assert not problems, "\n".join(problems)


def _check(boto, cases) -> list:
    problems = []
    for op, kw, status, code in cases:
        try:
            r = getattr(boto.s3, op)(**kw)
            problems.append(f"{op}({kw.get('Bucket')}, {kw.get('Key')}): succeeded with "
                            f"{r['ResponseMetadata']['HTTPStatusCode']} "
                            f"{ {k: v for k, v in r.items() if k in ('Errors', 'Deleted')} }, want {(status, code)}")
        except boto.s3.exceptions.ClientError as e:
            got = (e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Code"])
            if got != (status, code):
                problems.append(f"{op}({kw.get('Bucket')}, {kw.get('Key')}): got {got}, want {(status, code)}")
        finally:
            if "Body" in kw or "Delete" in kw:
                boto.s3._endpoint.http_session.close()  # drop pooled connections (see above)
    return problems


def _xml_error(r) -> dict:
    assert r.headers.get("content-type", "").startswith("application/xml"), r.headers
    root = ET.fromstring(r.data)
    assert root.tag == "Error", r.data
    return {child.tag: child.text for child in root}


@pytest.mark.parametrize("case", ["NoSuchKey", "NoSuchBucket", "PreconditionFailed", "InvalidRange"])
def test_error_documents(server, case):
    key = f"/{BUCKET}/{BRANCH}/{new_prefix('err')}k.txt"
    r = signed(server, "PUT", key, body=b"0123456789")
    assert r.status == 200
    request = {
        "NoSuchKey": ("GET", key + ".missing", {}, 404),
        "NoSuchBucket": ("GET", f"/{new_repo_name('nobucket')}/{BRANCH}/x", {}, 404),
        "PreconditionFailed": ("GET", key, {"If-Match": '"ffffffffffffffffffffffffffffffff"'}, 412),
        "InvalidRange": ("GET", key, {"Range": "bytes=10-20"}, 416),
    }[case]
    method, path, headers, status = request
    r = signed(server, method, path, headers=headers)
    assert r.status == status, (r.status, r.data[:300])
    doc = _xml_error(r)
    assert doc["Code"] == case
    assert doc.get("Message"), doc
    assert doc.get("RequestId") == r.headers.get("x-amz-request-id"), (doc, dict(r.headers))
    if case == "InvalidRange":
        assert r.headers.get("content-range") == "bytes */10"


def test_head_missing_is_bare_404(server):
    missing = f"/{BUCKET}/{BRANCH}/{new_prefix('err')}missing"
    for path in (missing, f"/{new_repo_name('nobucket')}/{BRANCH}/x", f"/{new_repo_name('nobucket')}"):
        r = signed(server, "HEAD", path)
        assert r.status == 404, (path, r.status)
        assert r.data == b"", (path, r.data)


@pytest.mark.matrix("boto3", "error codes")
def test_browser_form_upload_is_not_implemented(server, boto):
    """POST Object (an HTML form signed by boto3's generate_presigned_post) answers 501 with an S3
    error document, not AccessDenied, and stores nothing."""
    key = f"{BRANCH}/{new_prefix('post')}form.txt"
    post = boto.s3.generate_presigned_post(BUCKET, key, ExpiresIn=300)
    r = server.http().request("POST", post["url"], fields={**post["fields"], "file": ("f.txt", b"hello")})
    assert r.status == 501, (r.status, r.data[:300])
    assert _xml_error(r)["Code"] == "NotImplemented"
    assert boto.failure("head_object", Bucket=BUCKET, Key=key).status == 404


@pytest.mark.matrix("AWS CLI", "error codes")
def test_cli_error_codes(cli: ObjCli, tmp_path):
    missing_key = f"{BRANCH}/{new_prefix('err')}missing"
    missing_bucket = new_repo_name("nobucket")
    f = cli.failure("get-object", "--bucket", BUCKET, "--key", missing_key, str(tmp_path / "o"))
    assert f.code == "NoSuchKey", f.message
    f = cli.failure("head-object", "--bucket", BUCKET, "--key", missing_key)
    assert f.code == "404", f.message
    r = cli.s3("ls", f"s3://{missing_bucket}/{BRANCH}/", check=False)
    assert r.rc == 254 or r.rc == 255, (r.rc, r.stderr)
    assert "An error occurred (NoSuchBucket) when calling the ListObjectsV2 operation" in r.stderr, r.stderr


# --------------------------------------------------------------------------------------
# early error responses to uploads
# --------------------------------------------------------------------------------------


def _raw_put_head(server, path: str, length: int, expect: bool) -> bytes:
    """The signed head of a PUT of ``length`` bytes (UNSIGNED-PAYLOAD), as raw bytes."""
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    host, port = server.host_port
    headers = {"Content-Length": str(length), "x-amz-content-sha256": "UNSIGNED-PAYLOAD"}
    if expect:
        headers["Expect"] = "100-continue"
    req = AWSRequest(method="PUT", url=server.s3_endpoint + path, headers=headers)
    S3SigV4Auth(Credentials(server.access_key_id, server.secret_access_key), "s3", server.region).add_auth(req)
    head = f"PUT {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in req.headers.items() if k.lower() != "host")
    return (head + "\r\n").encode()


def _connect(server):
    import socket
    import ssl

    sock = socket.create_connection(server.host_port, timeout=5)
    if server.scheme == "https":
        ctx = ssl.create_default_context(cafile=str(server.ca_bundle))
        sock = ctx.wrap_socket(sock, server_hostname=server.host_port[0])
    return sock


def _read_response(sock) -> tuple:
    """(status, {header: value}) of one response whose body is Content-Length framed; reads it all."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"connection closed; got {buf!r}")
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    need = int(headers.get("content-length", "0")) - len(rest)
    while need > 0:
        chunk = sock.recv(65536)
        if not chunk:
            break
        need -= len(chunk)
    return status, headers


@pytest.mark.parametrize("expect", [True, False], ids=["expect-100-continue", "body-late"])
def test_early_upload_refusal_says_whether_connection_closes(server, expect):
    """A PUT refused before its body is read (NoSuchBucket) gets a final response at once. RFC 9110
    §10.1.1: "A server that responds with a final status code before reading the entire request
    content SHOULD indicate whether it intends to close the connection (e.g., see Section 9.6 of
    [HTTP/1.1]) or continue reading and discarding the request content." So either the response
    carries ``Connection: close``, or the connection stays usable once the body has been sent.
    (Otherwise a client that reuses the connection races the server's close: boto3 without retries
    fails such a follow-up request with ConnectionClosedError, "Remote end closed connection
    without response".)"""
    body = b"0123456789"
    sock = _connect(server)
    try:
        sock.sendall(_raw_put_head(server, f"/{new_repo_name('nobucket')}/{BRANCH}/x", len(body), expect))
        status, headers = _read_response(sock)
        assert status == 404, (status, headers)
        if "close" in headers.get("connection", "").lower():
            return
        # no close announced: the connection must survive the body and serve the next request
        # (an Expect client that got a final status may still send the content it announced);
        # the body comes a moment later, as from a client streaming a large one
        time.sleep(0.2)
        try:
            sock.sendall(body)
            sock.sendall(f"HEAD /{BUCKET} HTTP/1.1\r\nHost: {server.host_port[0]}:{server.host_port[1]}\r\n\r\n".encode())
            status2, _ = _read_response(sock)
        except (ConnectionError, OSError) as e:
            pytest.fail(f"404 without 'Connection: close' ({headers}), then the server closed the connection: {e!r}")
        assert 200 <= status2 < 600, status2  # anonymous HEAD: any answer proves the connection lives
    finally:
        sock.close()
