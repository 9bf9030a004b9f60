"""User metadata and system headers round trip (PutObject → HeadObject / GetObject).

Non-ASCII metadata values. AWS (User Guide, "Working with object metadata" → user-defined
metadata): "Amazon S3 allows arbitrary Unicode characters in your metadata values ... When using
non-US-ASCII characters in your metadata values, the provided Unicode string is examined for
non-US-ASCII characters. Values of such headers are character decoded as per RFC 2047 before
storing and encoded as per RFC 2047 to make them mail-safe before returning." and "Amazon S3
stores user-defined metadata keys in lowercase."

What the clients do: boto3 and the AWS CLI refuse non-ASCII metadata values client side
(ParamValidationError, nothing is sent); a caller can send an RFC 2047 encoded-word itself. A
raw request with UTF-8 bytes in an x-amz-meta-* header must come back as an ASCII RFC 2047
encoded-word that decodes to the original text.
"""

from __future__ import annotations

import datetime
import email.header
import json

import pytest
from botocore.exceptions import ParamValidationError

from harness import BRANCH, BUCKET, ObjCli

from .support import new_prefix, signed

BRANCH_BUCKET = f"{BUCKET}.{BRANCH}"
EXPIRES = datetime.datetime(2030, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)


def _rfc2047_decode(value: str) -> str:
    return str(email.header.make_header(email.header.decode_header(value)))


@pytest.mark.matrix("boto3", "metadata")
def test_boto3_metadata_and_system_headers_round_trip(boto):
    s3 = boto.s3
    key = new_prefix("md") + "obj.txt"
    s3.put_object(
        Bucket=BRANCH_BUCKET, Key=key, Body=b"metadata body",
        Metadata={"plain": "value", "Mixed-Case-Key": "Mixed Case Value", "punct": "a=b;c,d/e:f"},
        ContentType="text/x-meta; charset=utf-8",
        CacheControl="public, max-age=3600",
        ContentDisposition='attachment; filename="report.txt"',
        ContentLanguage="fr-CH",
        ContentEncoding="identity",
        Expires=EXPIRES,
    )
    want_meta = {"plain": "value", "mixed-case-key": "Mixed Case Value", "punct": "a=b;c,d/e:f"}
    for r in (s3.head_object(Bucket=BRANCH_BUCKET, Key=key), s3.get_object(Bucket=BUCKET, Key=f"{BRANCH}/{key}")):
        assert r["Metadata"] == want_meta  # keys come back lower-cased
        assert r["ContentType"] == "text/x-meta; charset=utf-8"
        assert r["CacheControl"] == "public, max-age=3600"
        assert r["ContentDisposition"] == 'attachment; filename="report.txt"'
        assert r["ContentLanguage"] == "fr-CH"
        assert r["ContentEncoding"] == "identity"
        assert r["ResponseMetadata"]["HTTPHeaders"]["expires"] == "Wed, 02 Jan 2030 03:04:05 GMT"
        if "Body" in r:
            assert r["Body"].read() == b"metadata body"
    # an overwrite replaces metadata entirely
    s3.put_object(Bucket=BRANCH_BUCKET, Key=key, Body=b"v2", Metadata={"only": "this"})
    h = s3.head_object(Bucket=BRANCH_BUCKET, Key=key)
    assert h["Metadata"] == {"only": "this"}
    assert h["ContentType"] == "binary/octet-stream"
    assert "CacheControl" not in h


@pytest.mark.matrix("AWS CLI", "metadata")
def test_cli_metadata_content_type_cache_control(cli: ObjCli, tmp_path):
    src = tmp_path / "page.html"
    src.write_bytes(b"<html></html>")
    key = f"{BRANCH}/{new_prefix('md')}page.html"
    cli.s3("cp", str(src), f"s3://{BUCKET}/{key}", "--no-progress",
           "--metadata", json.dumps({"owner": "team-a", "Build": "42"}),
           "--content-type", "text/html; charset=utf-8", "--cache-control", "no-cache",
           "--content-disposition", "inline")
    h = cli.s3api("head-object", "--bucket", BUCKET, "--key", key).json()
    assert h["Metadata"] == {"owner": "team-a", "build": "42"}
    assert h["ContentType"] == "text/html; charset=utf-8"
    assert h["CacheControl"] == "no-cache"
    assert h["ContentDisposition"] == "inline"
    assert h["ContentLength"] == len(b"<html></html>")


def test_non_ascii_metadata_refused_by_boto3_client_side(boto):
    sent = []

    def spy(request, **kw):
        sent.append(request)

    boto.s3.meta.events.register("before-send.s3.PutObject", spy)
    try:
        with pytest.raises(ParamValidationError, match="Non ascii characters found in S3 metadata"):
            boto.s3.put_object(Bucket=BRANCH_BUCKET, Key=new_prefix("md") + "x", Body=b"x",
                               Metadata={"city": "Zürich"})
    finally:
        boto.s3.meta.events.unregister("before-send.s3.PutObject", spy)
    assert sent == []


def test_non_ascii_metadata_refused_by_cli_client_side(cli: ObjCli, tmp_path):
    src = tmp_path / "x.txt"
    src.write_bytes(b"x")
    r = cli.s3api("put-object", "--bucket", BUCKET, "--key", f"{BRANCH}/{new_prefix('md')}x", "--body", str(src),
                  "--metadata", "city=Zürich", check=False)
    assert r.rc == 255, (r.rc, r.stderr)
    assert "Non ascii characters found in S3 metadata" in r.stderr, r.stderr


@pytest.mark.matrix("boto3", "metadata")
def test_rfc2047_encoded_metadata_round_trips(boto):
    """A value the client encoded itself is ASCII on the wire and decodes to the original."""
    s3 = boto.s3
    key = new_prefix("md") + "enc.txt"
    text = "Zürich ☃ 東京"
    encoded = email.header.Header(text, "utf-8").encode()
    assert encoded.isascii() and encoded.startswith("=?utf-8?")
    s3.put_object(Bucket=BRANCH_BUCKET, Key=key, Body=b"x", Metadata={"city": encoded})
    got = s3.head_object(Bucket=BRANCH_BUCKET, Key=key)["Metadata"]["city"]
    assert got.isascii(), got
    assert _rfc2047_decode(got) == text


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_raw_utf8_metadata_comes_back_rfc2047_encoded(server_for, scheme):
    """UTF-8 bytes in an x-amz-meta-* header (SigV4 signs them as UTF-8) are accepted, and
    HEAD/GET return the value as an ASCII RFC 2047 encoded-word, as AWS documents."""
    server = server_for(scheme)
    key = f"/{BUCKET}/{BRANCH}/{new_prefix('md')}raw.txt"
    text = "Zürich ☃"
    r = signed(server, "PUT", key, body=b"raw", headers={"x-amz-meta-city": text, "x-amz-meta-plain": "ascii"})
    assert r.status == 200, (r.status, r.data[:500])
    for method in ("HEAD", "GET"):
        r = signed(server, method, key)
        assert r.status == 200, (method, r.status)
        assert r.headers["x-amz-meta-plain"] == "ascii"
        # urllib3 hands header bytes over as latin-1 text; recover the bytes
        raw = r.headers["x-amz-meta-city"].encode("latin-1")
        assert raw.isascii(), (
            f"{method}: x-amz-meta-city is raw non-ASCII bytes {raw!r} (UTF-8 {raw.decode('utf-8', 'replace')!r}); "
            "AWS returns an RFC 2047 encoded-word")
        assert _rfc2047_decode(raw.decode("ascii")) == text
