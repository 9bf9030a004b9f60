"""Listing 2,508 keys (2,500 in five directories plus keys with spaces, ``+``, ``%``, ``&<>``,
``?#`` and non-ASCII characters) under one prefix of the default branch, per scheme:
ListObjectsV2 / V1 pagination (paginators with small pages, manual continuation tokens and
markers), ``start-after``, ``max-keys``, delimiters and common prefixes, ``encoding-type=url``
(as sent explicitly, so the keys come back encoded), an un-encoded listing read as raw XML,
``fetch-owner``, and ``aws s3 ls`` (recursive with a small page size, and by directory)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import List
from urllib.parse import unquote_plus

import pytest

from harness import BRANCH, BUCKET, POLICIES, LakegateServer, ObjCli, boto3_client

from .support import bulk_put, new_prefix, signed

N_REGULAR = 2500
DIRS = [f"d{i}/" for i in range(5)]
SPECIAL = [
    "sp ace.txt",
    "plus+sign.txt",
    "per%cent%2Fx.txt",
    "amp&lt<gt>.txt",
    "q?hash#.txt",
    "ünï-cødé-鍵.txt",
    "dir with space/x.txt",
    "ü/y.txt",
]
TOP_PREFIXES = sorted(DIRS + ["dir with space/", "ü/"])
TOP_KEYS = sorted(k for k in SPECIAL if "/" not in k)
NS = {"s3": "http://s3.amazonaws.com/doc/2006-03-01/"}


@dataclass
class Listing:
    server: LakegateServer
    scheme: str
    prefix: str          # "main/s3o-<hex>/" (repository-bucket form)
    keys: List[str]      # every full key under prefix, sorted (UTF-8 byte order == code point order)

    @property
    def rel(self) -> List[str]:
        return [k[len(self.prefix):] for k in self.keys]


def _size(key: str) -> int:
    return len(key.encode("utf-8"))  # each object's body is its own key


@pytest.fixture(scope="module", params=["http", "https"])
def listing(request) -> Listing:
    server = request.getfixturevalue(f"{request.param}_server")
    prefix = f"{BRANCH}/{new_prefix('lst')}"
    rel = [f"{DIRS[i % 5]}k{i:05d}.txt" for i in range(N_REGULAR)] + SPECIAL
    keys = sorted(prefix + r for r in rel)
    bulk_put(server, BUCKET, {k: k.encode("utf-8") for k in keys})
    return Listing(server, request.param, prefix, keys)


def _keys(page) -> List[str]:
    return [o["Key"] for o in page.get("Contents", [])]


# --------------------------------------------------------------------------------------
# pagination
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.matrix("boto3", "list")
def test_v2_paginator_small_pages(listing, policy):
    s3 = boto3_client(listing.server, policy).s3
    pages = list(s3.get_paginator("list_objects_v2").paginate(
        Bucket=BUCKET, Prefix=listing.prefix, PaginationConfig={"PageSize": 100}))
    assert len(pages) == -(-len(listing.keys) // 100)
    got = []
    for i, p in enumerate(pages):
        last = i == len(pages) - 1
        assert p["KeyCount"] == len(p.get("Contents", [])), p["KeyCount"]
        assert p["MaxKeys"] == 100
        assert p["IsTruncated"] is (not last)
        assert ("NextContinuationToken" in p) is (not last)
        if i > 0:
            assert p["ContinuationToken"] == pages[i - 1]["NextContinuationToken"]
        for o in p.get("Contents", []):
            assert o["Size"] == _size(o["Key"]), o
            assert "Owner" not in o  # no fetch-owner
        got += _keys(p)
    assert got == listing.keys


@pytest.mark.matrix("boto3", "list")
def test_v1_paginator_small_pages(listing):
    s3 = boto3_client(listing.server, "when_supported").s3
    pages = list(s3.get_paginator("list_objects").paginate(
        Bucket=BUCKET, Prefix=listing.prefix, PaginationConfig={"PageSize": 333}))
    assert [len(_keys(p)) for p in pages[:-1]] == [333] * (len(pages) - 1)
    got = [k for p in pages for k in _keys(p)]
    assert got == listing.keys
    assert [p["IsTruncated"] for p in pages] == [True] * (len(pages) - 1) + [False]
    for i, p in enumerate(pages[1:], 1):
        assert p["Marker"] == _keys(pages[i - 1])[-1]


@pytest.mark.matrix("boto3", "list")
def test_v2_manual_continuation_tokens(listing):
    s3 = boto3_client(listing.server, "when_required").s3
    got, tokens, sizes = [], [], []
    while True:
        kw = {"Bucket": BUCKET, "Prefix": listing.prefix, "MaxKeys": 1000}
        if tokens:
            kw["ContinuationToken"] = tokens[-1]
        page = s3.list_objects_v2(**kw)
        sizes.append(page["KeyCount"])
        got += _keys(page)
        if not page["IsTruncated"]:
            assert "NextContinuationToken" not in page
            break
        tokens.append(page["NextContinuationToken"])
    assert sizes == [1000, 1000, len(listing.keys) - 2000]
    assert got == listing.keys
    # a token can be presented again and yields the same page
    again = s3.list_objects_v2(Bucket=BUCKET, Prefix=listing.prefix, MaxKeys=1000, ContinuationToken=tokens[0])
    assert _keys(again) == listing.keys[1000:2000]


@pytest.mark.matrix("boto3", "list with delimiter")
def test_v1_manual_markers_with_delimiter(listing):
    """V1 with a delimiter returns NextMarker when truncated; markers resume after it."""
    s3 = boto3_client(listing.server, "when_supported").s3
    keys, prefixes, marker, pages = [], [], "", 0
    while True:
        page = s3.list_objects(Bucket=BUCKET, Prefix=listing.prefix, Delimiter="/", MaxKeys=3, Marker=marker)
        pages += 1
        n = len(page.get("Contents", [])) + len(page.get("CommonPrefixes", []))
        assert 0 < n <= 3, page
        keys += _keys(page)
        prefixes += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
        if not page["IsTruncated"]:
            break
        marker = page["NextMarker"]
    assert keys == [listing.prefix + k for k in TOP_KEYS]
    assert prefixes == [listing.prefix + p for p in TOP_PREFIXES]
    assert pages == -(-(len(TOP_KEYS) + len(TOP_PREFIXES)) // 3)


# --------------------------------------------------------------------------------------
# start-after, max-keys, delimiter, fetch-owner
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.matrix("boto3", "list")
def test_start_after(listing, policy):
    s3 = boto3_client(listing.server, policy).s3
    after = listing.keys[1234]
    page = s3.list_objects_v2(Bucket=BUCKET, Prefix=listing.prefix, StartAfter=after, MaxKeys=10)
    assert page["StartAfter"] == after
    assert _keys(page) == listing.keys[1235:1245]
    # a StartAfter that is not a key: the listing resumes at the next greater key
    page = s3.list_objects_v2(Bucket=BUCKET, Prefix=listing.prefix, StartAfter=after + "\x01", MaxKeys=2)
    assert _keys(page) == listing.keys[1235:1237]
    # past the last key: nothing
    page = s3.list_objects_v2(Bucket=BUCKET, Prefix=listing.prefix, StartAfter=listing.keys[-1])
    assert (page["KeyCount"], page["IsTruncated"], _keys(page)) == (0, False, [])
    # V1 marker behaves the same way
    page = s3.list_objects(Bucket=BUCKET, Prefix=listing.prefix, Marker=after, MaxKeys=10)
    assert _keys(page) == listing.keys[1235:1245]
    # the branch bucket addresses the same listing with branch-relative keys
    rel_after = after[len(BRANCH) + 1:]
    page = s3.list_objects_v2(Bucket=f"{BUCKET}.{BRANCH}", Prefix=listing.prefix[len(BRANCH) + 1:],
                              StartAfter=rel_after, MaxKeys=10)
    assert _keys(page) == [k[len(BRANCH) + 1:] for k in listing.keys[1235:1245]]


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.matrix("boto3", "list")
def test_max_keys(listing, policy):
    s3 = boto3_client(listing.server, policy).s3
    page = s3.list_objects_v2(Bucket=BUCKET, Prefix=listing.prefix, MaxKeys=7)
    assert (page["MaxKeys"], page["KeyCount"], page["IsTruncated"]) == (7, 7, True)
    assert _keys(page) == listing.keys[:7]
    page = s3.list_objects(Bucket=BUCKET, Prefix=listing.prefix, MaxKeys=7)
    assert (page["MaxKeys"], page["IsTruncated"], _keys(page)) == (7, True, listing.keys[:7])
    # more than 1,000 asked for: at most 1,000 returned
    page = s3.list_objects_v2(Bucket=BUCKET, Prefix=listing.prefix, MaxKeys=5000)
    assert (page["KeyCount"], page["IsTruncated"]) == (1000, True)
    assert _keys(page) == listing.keys[:1000]
    # default page
    page = s3.list_objects_v2(Bucket=BUCKET, Prefix=listing.prefix)
    assert (page["MaxKeys"], page["KeyCount"], page["IsTruncated"]) == (1000, 1000, True)


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.matrix("boto3", "list with delimiter")
def test_delimiter_common_prefixes(listing, policy):
    s3 = boto3_client(listing.server, policy).s3
    page = s3.list_objects_v2(Bucket=BUCKET, Prefix=listing.prefix, Delimiter="/")
    assert page["Delimiter"] == "/"
    assert [p["Prefix"] for p in page["CommonPrefixes"]] == [listing.prefix + p for p in TOP_PREFIXES]
    assert _keys(page) == [listing.prefix + k for k in TOP_KEYS]
    assert page["KeyCount"] == len(TOP_PREFIXES) + len(TOP_KEYS)
    assert page["IsTruncated"] is False

    # a prefix that ends inside a name groups on the rest of it
    page = s3.list_objects_v2(Bucket=BUCKET, Prefix=listing.prefix + "d", Delimiter="/")
    assert [p["Prefix"] for p in page["CommonPrefixes"]] == [listing.prefix + p for p in TOP_PREFIXES if p[0] == "d"]
    assert _keys(page) == []

    # one directory: 500 keys, no common prefixes
    pages = list(s3.get_paginator("list_objects_v2").paginate(
        Bucket=BUCKET, Prefix=listing.prefix + "d3/", Delimiter="/", PaginationConfig={"PageSize": 200}))
    got = [k for p in pages for k in _keys(p)]
    assert got == [k for k in listing.keys if k.startswith(listing.prefix + "d3/")]
    assert len(got) == N_REGULAR // 5
    assert not any(p.get("CommonPrefixes") for p in pages)

    # a delimiter other than "/"
    page = s3.list_objects_v2(Bucket=BUCKET, Prefix=listing.prefix + "d0/", Delimiter="5", MaxKeys=1000)
    want_prefixes = sorted({k[:k.index("5", len(listing.prefix) + 3) + 1] for k in listing.keys
                            if k.startswith(listing.prefix + "d0/") and "5" in k[len(listing.prefix) + 3:]})
    assert [p["Prefix"] for p in page.get("CommonPrefixes", [])] == want_prefixes
    assert all("5" not in k[len(listing.prefix) + 3:] for k in _keys(page))


@pytest.mark.matrix("boto3", "list with delimiter")
def test_delimiter_pagination_small_pages(listing):
    """Paging a delimited listing 2 entries at a time returns every prefix and key exactly once."""
    s3 = boto3_client(listing.server, "when_required").s3
    pages = list(s3.get_paginator("list_objects_v2").paginate(
        Bucket=BUCKET, Prefix=listing.prefix, Delimiter="/", PaginationConfig={"PageSize": 2}))
    prefixes = [p["Prefix"] for pg in pages for p in pg.get("CommonPrefixes", [])]
    keys = [k for pg in pages for k in _keys(pg)]
    assert prefixes == [listing.prefix + p for p in TOP_PREFIXES]
    assert keys == [listing.prefix + k for k in TOP_KEYS]
    assert all(pg["KeyCount"] <= 2 for pg in pages)


@pytest.mark.matrix("boto3", "list")
def test_fetch_owner(listing):
    s3 = boto3_client(listing.server, "when_supported").s3
    page = s3.list_objects_v2(Bucket=BUCKET, Prefix=listing.prefix, MaxKeys=5, FetchOwner=True)
    assert len(page["Contents"]) == 5
    for o in page["Contents"]:
        assert o["Owner"]["ID"], o
    page = s3.list_objects_v2(Bucket=BUCKET, Prefix=listing.prefix, MaxKeys=5)
    assert all("Owner" not in o for o in page["Contents"])


# --------------------------------------------------------------------------------------
# encoding-type
# --------------------------------------------------------------------------------------


def _assert_url_encoded(raw: str, want: str) -> None:
    assert unquote_plus(raw) == want, (raw, want)
    assert raw.isascii() and " " not in raw, raw


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.matrix("boto3", "list")
def test_encoding_type_url_explicit(listing, policy):
    """With EncodingType='url' passed explicitly, botocore does not decode the response: the keys,
    prefixes and common prefixes come back as the server encoded them. (botocore decodes its own
    implicit encoding-type=url with unquote_plus, so ' ' may be '+' or %20 but '+' must be %2B.)"""
    s3 = boto3_client(listing.server, policy).s3
    page = s3.list_objects_v2(Bucket=BUCKET, Prefix=listing.prefix, Delimiter="/", EncodingType="url")
    assert page["EncodingType"] == "url"
    _assert_url_encoded(page["Prefix"], listing.prefix)
    assert unquote_plus(page["Delimiter"]) == "/"
    for raw, want in zip(_keys(page), [listing.prefix + k for k in TOP_KEYS], strict=True):
        _assert_url_encoded(raw, want)
    for raw, want in zip([p["Prefix"] for p in page["CommonPrefixes"]], [listing.prefix + p for p in TOP_PREFIXES],
                         strict=True):
        _assert_url_encoded(raw, want)

    page = s3.list_objects(Bucket=BUCKET, Prefix=listing.prefix + "ü/", EncodingType="url")
    assert page["EncodingType"] == "url"
    _assert_url_encoded(page["Prefix"], listing.prefix + "ü/")
    [raw] = _keys(page)
    _assert_url_encoded(raw, listing.prefix + "ü/y.txt")

    # a unicode StartAfter is echoed encoded, and the listing resumes after it
    after = listing.prefix + "sp ace.txt"
    page = s3.list_objects_v2(Bucket=BUCKET, Prefix=listing.prefix, Delimiter="/", StartAfter=after,
                              EncodingType="url")
    _assert_url_encoded(page["StartAfter"], after)
    assert [unquote_plus(k) for k in _keys(page)] == [listing.prefix + k for k in TOP_KEYS if listing.prefix + k > after]


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.matrix("boto3", "list")
def test_implicit_encoding_round_trips_special_keys(listing, policy):
    """boto3 asks for encoding-type=url on its own and decodes; every special key survives."""
    s3 = boto3_client(listing.server, policy).s3
    for rel in SPECIAL:
        key = listing.prefix + rel
        page = s3.list_objects_v2(Bucket=BUCKET, Prefix=key)
        assert _keys(page) == [key], (rel, page.get("Contents"))
        assert page["Contents"][0]["Size"] == _size(key)
        assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == key.encode("utf-8")


def test_unencoded_listing_raw_xml(listing):
    """Without encoding-type the XML carries the keys themselves (XML-escaped, UTF-8)."""
    r = signed(listing.server, "GET", f"/{BUCKET}",
               query=[("delimiter", "/"), ("list-type", "2"), ("prefix", listing.prefix)])
    assert r.status == 200, r.data[:500]
    root = ET.fromstring(r.data)
    assert root.find("s3:EncodingType", NS) is None
    assert root.findtext("s3:Prefix", namespaces=NS) == listing.prefix
    keys = [e.text for e in root.findall("s3:Contents/s3:Key", NS)]
    assert keys == [listing.prefix + k for k in TOP_KEYS]
    prefixes = [e.text for e in root.findall("s3:CommonPrefixes/s3:Prefix", NS)]
    assert prefixes == [listing.prefix + p for p in TOP_PREFIXES]
    assert b"amp&amp;lt&lt;gt&gt;.txt" in r.data  # escaped, not encoded


# --------------------------------------------------------------------------------------
# aws s3 ls
# --------------------------------------------------------------------------------------

_LS_OBJ = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) +(\d+) (.+)$")
_LS_PRE = re.compile(r"^ +PRE (.+)$")


@pytest.mark.matrix("AWS CLI", "list", "list with delimiter")
def test_cli_ls_recursive_and_by_directory(listing, tmp_path):
    cli = ObjCli(listing.server, tmp_path / "aws-home")
    r = cli.s3("ls", "--recursive", "--page-size", "400", f"s3://{BUCKET}/{listing.prefix}")
    rows = [_LS_OBJ.match(line) for line in r.stdout.splitlines()]
    assert all(rows), [line for line, m in zip(r.stdout.splitlines(), rows) if not m][:5]
    assert [m.group(3) for m in rows] == listing.keys
    assert all(int(m.group(2)) == _size(m.group(3)) for m in rows)

    # non-recursive, through the branch bucket: PRE lines for directories, names relative to the prefix
    rel_prefix = listing.prefix[len(BRANCH) + 1:]
    r = cli.s3("ls", f"s3://{BUCKET}.{BRANCH}/{rel_prefix}")
    pres = [m.group(1) for m in map(_LS_PRE.match, r.stdout.splitlines()) if m]
    objs = [m.group(3) for m in map(_LS_OBJ.match, r.stdout.splitlines()) if m]
    assert pres == TOP_PREFIXES, r.stdout
    assert objs == TOP_KEYS, r.stdout
