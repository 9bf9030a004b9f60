"""Helpers for the malformed-request conformance suite: raw signed requests over a raw socket.

The SDKs never send a wrong ``Content-Length``, a truncated body, raw non-UTF-8 bytes in a path or
a half-closed connection, so this suite builds the requests itself:

* ``signed_request``: the request head (request line and headers) signed with botocore's own
  SigV4 signer (``S3SigV4Auth``, which never normalises the path), with a payload hash of our
  choosing and a ``Content-Length`` that may lie about the body.
* ``aws_chunked``: an ``aws-chunked`` body (``STREAMING-AWS4-HMAC-SHA256-PAYLOAD``) whose chunk
  signatures chain from the seed signature of the request's ``Authorization`` header; a test may
  corrupt one.
* ``exchange`` (``rawhttp.py``): sends head and body over ``socket.create_connection`` (TLS when
  the server is HTTPS), optionally half-closes (``SHUT_WR``) or fully closes, and reads one
  HTTP/1.1 response with a timeout: a hang is a test failure that says so; ``send``: both.
* ``assert_s3_error``: status, ``<Code>`` among the AWS-documented ones, non-empty ``<Message>``
  and ``<RequestId>`` (equal to ``x-amz-request-id``).
* ``assert_absent``: boto3 (a client we did not write) sees no object: HeadObject 404 and an
  empty ListObjectsV2 under the key.

Keys are ``<branch>/<prefix>/<name>`` in bucket ``demo`` or ``<prefix>/<name>`` in ``demo.main``
(``Target``); every test uses a fresh prefix, so tests are parallel-safe.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import uuid
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple
from urllib.parse import quote

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from harness import BRANCH, BUCKET, LakegateServer, MiB, boto3_client

from .rawhttp import RawResponse, exchange  # the suite's tests import them from here

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
STREAMING = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
UNSIGNED = "UNSIGNED-PAYLOAD"
BUCKET_FORMS = ["repo", "repo.branch"]


# --------------------------------------------------------------------------------------
# targets
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """One object the bad request aims at, in one of the two bucket forms."""
    bucket: str
    key: str

    @property
    def path(self) -> str:
        """The percent-encoded request path ``/bucket/key``."""
        return "/" + self.bucket + "/" + quote(self.key, safe="/~")

    @property
    def prefix(self) -> str:
        return self.key.rsplit("/", 1)[0] + "/"


def new_target(form: str = "repo", name: str = "obj.bin") -> Target:
    """A fresh key: ``demo`` / ``main/s3b-<hex>/name`` or ``demo.main`` / ``s3b-<hex>/name``."""
    prefix = f"s3b-{uuid.uuid4().hex}"
    if form == "repo":
        return Target(BUCKET, f"{BRANCH}/{prefix}/{name}")
    assert form == "repo.branch", form
    return Target(f"{BUCKET}.{BRANCH}", f"{prefix}/{name}")


# --------------------------------------------------------------------------------------
# signing
# --------------------------------------------------------------------------------------


class _ChosenPayloadAuth(S3SigV4Auth):
    """botocore's S3 SigV4 signer, signing the payload hash the test chose (which may be a lie,
    ``UNSIGNED-PAYLOAD`` or the streaming marker) instead of hashing the body."""

    def __init__(self, credentials: Credentials, region: str, payload_hash: str):
        super().__init__(credentials, "s3", region)
        self._payload_hash = payload_hash

    def payload(self, request: AWSRequest) -> str:
        return self._payload_hash


@dataclass
class Signed:
    """A signed request head plus what aws-chunked signing needs."""
    head: bytes
    timestamp: str
    scope: str
    seed_signature: str
    signing_key: bytes


def signing_key(secret: str, date: str, region: str) -> bytes:
    k = f"AWS4{secret}".encode()
    for part in (date, region, "s3", "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    return k


def signed_request(server: LakegateServer, method: str, path: str, *, query: str = "",
                   headers: Optional[Dict[str, str]] = None, body: bytes = b"",
                   payload_hash: Optional[str] = None, content_length: Optional[int] = None,
                   wire_path: Optional[bytes] = None) -> Signed:
    """Sign ``method path?query`` (path and query already percent-encoded, signed as given).

    ``payload_hash`` defaults to the SHA-256 of ``body``; ``content_length`` to ``len(body)``
    (``-1``: no Content-Length header). ``wire_path`` replaces the path on the request line only
    (raw bytes the signer cannot express)."""
    host, port = server.host_port
    h: Dict[str, str] = {"Host": f"{host}:{port}"}
    h.update(headers or {})
    length = len(body) if content_length is None else content_length
    if length >= 0:
        h["Content-Length"] = str(length)
    url = f"{server.s3_endpoint}{path}" + (f"?{query}" if query else "")
    req = AWSRequest(method=method, url=url, headers=h)
    ph = hashlib.sha256(body).hexdigest() if payload_hash is None else payload_hash
    creds = Credentials(server.access_key_id, server.secret_access_key)
    _ChosenPayloadAuth(creds, server.region, ph).add_auth(req)
    ts = req.context["timestamp"]
    scope = f"{ts[:8]}/{server.region}/s3/aws4_request"
    seed = req.headers["Authorization"].rsplit("Signature=", 1)[1]
    target = (wire_path if wire_path is not None else path.encode()) + (f"?{query}".encode() if query else b"")
    lines = [method.encode() + b" " + target + b" HTTP/1.1"]
    lines += [f"{k}: {v}".encode() for k, v in req.headers.items()]
    return Signed(b"\r\n".join(lines) + b"\r\n\r\n", ts, scope, seed,
                  signing_key(server.secret_access_key, ts[:8], server.region))


def aws_chunked(sig: Signed, chunks: Sequence[bytes], *, corrupt: Optional[int] = None,
                final: bool = True) -> bytes:
    """The aws-chunked encoding of ``chunks`` plus the final zero-length chunk (unless
    ``final`` is false), each signed in the chain that starts at the seed signature; chunk index
    ``corrupt`` gets a wrong (well-formed) signature."""
    out: List[bytes] = []
    prev = sig.seed_signature
    for i, chunk in enumerate([*chunks, b""] if final else list(chunks)):
        sts = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", sig.timestamp, sig.scope, prev, EMPTY_SHA256,
                         hashlib.sha256(chunk).hexdigest()])
        prev = hmac.new(sig.signing_key, sts.encode(), hashlib.sha256).hexdigest()
        shown = ("0" * 64) if i == corrupt else prev
        out.append(f"{len(chunk):x};chunk-signature={shown}\r\n".encode() + chunk + b"\r\n")
    return b"".join(out)


_UNSIGNED_DUMMY = Signed(b"", "", "", "0" * 64, b"")


def encoded_length(chunks: Sequence[bytes]) -> int:
    """The length of the aws-chunked encoding of ``chunks`` (with the final chunk)."""
    return len(aws_chunked(_UNSIGNED_DUMMY, chunks))


def chunked_request(server: LakegateServer, method: str, path: str, chunks: Sequence[bytes], *,
                    query: str = "", decoded: Optional[int] = None, corrupt: Optional[int] = None,
                    final: bool = True, cut: Optional[int] = None, extra_length: int = 0,
                    headers: Optional[Dict[str, str]] = None) -> Tuple[Signed, bytes]:
    """A signed aws-chunked request: head and body. ``decoded`` overrides
    ``x-amz-decoded-content-length`` (``-1``: header left out); ``cut`` truncates the encoded
    body to that many bytes; ``Content-Length`` is the length of what is sent plus
    ``extra_length`` (a body shorter than declared). Chunk framing does not depend on signature
    values, so the length is known before signing."""
    real = sum(map(len, chunks)) if decoded is None else decoded
    h = {"Content-Encoding": "aws-chunked", **(headers or {})}
    if real >= 0:
        h["x-amz-decoded-content-length"] = str(real)
    length = len(aws_chunked(_UNSIGNED_DUMMY, chunks, final=final)[:cut])
    sig = signed_request(server, method, path, query=query, headers=h, payload_hash=STREAMING,
                         content_length=length + extra_length)
    return sig, aws_chunked(sig, chunks, corrupt=corrupt, final=final)[:cut]


# --------------------------------------------------------------------------------------
# sending
# --------------------------------------------------------------------------------------


def send(server: LakegateServer, method: str, path: str, *, query: str = "", body: bytes = b"",
         headers: Optional[Dict[str, str]] = None, close: str = "", **sign_kw) -> Optional[RawResponse]:
    """``signed_request`` + ``exchange`` with the whole ``body`` sent."""
    sig = signed_request(server, method, path, query=query, headers=headers, body=body, **sign_kw)
    return exchange(server, sig.head, body, close=close)


# --------------------------------------------------------------------------------------
# assertions
# --------------------------------------------------------------------------------------


# The HTTP status AWS documents for each code this suite expects ("Error responses", Amazon S3 API
# Reference, https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html).
AWS_STATUS: Dict[str, int] = {
    "BadDigest": 400,
    "IncompleteBody": 400,
    "InvalidArgument": 400,
    "InvalidBucketName": 400,
    "InvalidDigest": 400,
    "InvalidPart": 400,
    "InvalidPartOrder": 400,
    "InvalidRequest": 400,
    "InvalidURI": 400,
    "KeyTooLongError": 400,
    "MalformedXML": 400,
    "MaxMessageLengthExceeded": 400,
    "MetadataTooLarge": 400,
    "MissingContentLength": 411,
    "RequestHeaderSectionTooLarge": 400,
    "SignatureDoesNotMatch": 403,
    "XAmzContentSHA256Mismatch": 400,
}


def assert_s3_error(resp: Optional[RawResponse], *codes: str) -> Dict[str, str]:
    """An S3 XML error answer whose ``<Code>`` is one of ``codes``, with the status AWS documents
    for it, a ``<Message>`` and a ``<RequestId>`` equal to ``x-amz-request-id``."""
    want = "/".join(codes)
    assert resp is not None, f"connection closed without an answer (want {want})"
    assert resp.status != 500, f"internal error: {resp}"
    assert resp.headers.get("content-type", "").startswith("application/xml"), f"want {want}, got {resp}"
    doc = resp.error()
    assert doc.get("Code") in codes, f"want {want}, got {resp}"
    assert resp.status == AWS_STATUS[doc["Code"]], f"{doc['Code']} is {AWS_STATUS[doc['Code']]}, got {resp}"
    assert doc.get("Message"), f"no <Message>: {doc}"
    assert doc.get("RequestId"), f"no <RequestId>: {doc}"
    assert resp.headers.get("x-amz-request-id") == doc["RequestId"], (resp.headers, doc)
    return doc


def assert_absent(server: LakegateServer, target: Target, settle: float = 0.0) -> None:
    """No object at ``target`` and nothing listed under its prefix (boto3's view); with
    ``settle``, checked again after that many seconds (the gateway may still be unwinding a
    request whose connection we dropped)."""
    _assert_absent_now(server, target)
    if settle:
        time.sleep(settle)
        _assert_absent_now(server, target)


def _assert_absent_now(server: LakegateServer, target: Target) -> None:
    assert_no_object(server, target)
    s3 = boto3_client(server, "when_required").s3
    listed = s3.list_objects_v2(Bucket=target.bucket, Prefix=target.prefix).get("Contents", [])
    assert listed == [], f"objects visible under {target.prefix}: {[o['Key'] for o in listed]}"


def assert_no_object(server: LakegateServer, target: Target) -> None:
    """HeadObject of ``target`` is 404."""
    s3 = boto3_client(server, "when_required").s3
    try:
        r = s3.head_object(Bucket=target.bucket, Key=target.key)
        pytest.fail(f"partial object visible at {target}: {r['ContentLength']} bytes")
    except ClientError as e:
        assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 404, e.response


def read_object(server: LakegateServer, target: Target) -> bytes:
    s3 = boto3_client(server, "when_required").s3
    return s3.get_object(Bucket=target.bucket, Key=target.key)["Body"].read()


def assert_serves(server: LakegateServer) -> None:
    """The gateway still answers: ListObjectsV2 and a PutObject/GetObject round trip."""
    s3 = boto3_client(server, "when_required").s3
    t = new_target("repo", "alive.txt")
    s3.list_objects_v2(Bucket=t.bucket, Prefix=t.prefix, MaxKeys=1)
    s3.put_object(Bucket=t.bucket, Key=t.key, Body=b"still here")
    assert read_object(server, t) == b"still here"
    s3.delete_object(Bucket=t.bucket, Key=t.key)


def listed(server: LakegateServer, target: Target) -> List[str]:
    s3 = boto3_client(server, "when_required").s3
    return [o["Key"] for o in s3.list_objects_v2(Bucket=target.bucket, Prefix=target.prefix).get("Contents", [])]


def md5_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


# --------------------------------------------------------------------------------------
# XML bodies: DeleteObjects and CompleteMultipartUpload
# --------------------------------------------------------------------------------------


def delete_xml(keys: Sequence[str], root: str = "Delete") -> bytes:
    objects = "".join(f"<Object><Key>{k}</Key></Object>" for k in keys)
    return f"<{root}>{objects}</{root}>".encode()


def delete_objects_raw(server: LakegateServer, bucket: str, body: bytes) -> Optional[RawResponse]:
    """POST /bucket?delete with this body (and its Content-MD5, which DeleteObjects requires)."""
    return send(server, "POST", "/" + bucket, query="delete=", body=body, headers={"Content-MD5": md5_b64(body)})


def complete_xml(parts: Sequence[Tuple[int, str]], root: str = "CompleteMultipartUpload") -> bytes:
    items = "".join(f"<Part><PartNumber>{n}</PartNumber><ETag>{e}</ETag></Part>" for n, e in parts)
    return f"<{root}>{items}</{root}>".encode()


@dataclass
class Upload:
    """A multipart upload with two parts (5 MiB, then 10 bytes), made with boto3."""
    server: LakegateServer
    target: Target
    upload_id: str
    etags: List[str]

    @classmethod
    def start(cls, server: LakegateServer, form: str = "repo") -> "Upload":
        s3 = boto3_client(server, "when_required").s3
        t = new_target(form)
        uid = s3.create_multipart_upload(Bucket=t.bucket, Key=t.key)["UploadId"]
        etags = [s3.upload_part(Bucket=t.bucket, Key=t.key, UploadId=uid, PartNumber=n, Body=body)["ETag"]
                 for n, body in ((1, b"a" * (5 * MiB)), (2, b"b" * 10))]
        return cls(server, t, uid, etags)

    @property
    def query(self) -> str:
        return "uploadId=" + quote(self.upload_id, safe="")

    def good_parts(self) -> List[Tuple[int, str]]:
        return [(1, self.etags[0]), (2, self.etags[1])]

    def complete_raw(self, body: bytes) -> Optional[RawResponse]:
        return send(self.server, "POST", self.target.path, query=self.query, body=body)

    def part_numbers(self) -> List[int]:
        s3 = boto3_client(self.server, "when_required").s3
        parts = s3.list_parts(Bucket=self.target.bucket, Key=self.target.key, UploadId=self.upload_id)
        return [p["PartNumber"] for p in parts.get("Parts", [])]

    def assert_pending(self, parts: Sequence[int] = (1, 2)) -> None:
        """Still in progress: no object, listed by ListMultipartUploads, ListParts shows ``parts``."""
        assert_absent(self.server, self.target)
        s3 = boto3_client(self.server, "when_required").s3
        ups = s3.list_multipart_uploads(Bucket=self.target.bucket, Prefix=self.target.prefix).get("Uploads", [])
        assert [u["UploadId"] for u in ups] == [self.upload_id], ups
        assert self.part_numbers() == list(parts)

    def complete_for_real(self) -> None:
        """A correct Complete still works afterwards and yields exactly the two parts."""
        s3 = boto3_client(self.server, "when_required").s3
        parts = [{"PartNumber": n, "ETag": e} for n, e in self.good_parts()]
        s3.complete_multipart_upload(Bucket=self.target.bucket, Key=self.target.key, UploadId=self.upload_id,
                                     MultipartUpload={"Parts": parts})
        assert read_object(self.server, self.target) == b"a" * (5 * MiB) + b"b" * 10
