"""Invalid, schema-violating and oversized XML bodies for DeleteObjects and CompleteMultipartUpload.

AWS: a body that is not well-formed or does not validate against the published schema is
``400 MalformedXML`` (so is a DeleteObjects naming more than 1,000 keys, or none); parts out of
order are ``InvalidPartOrder``, an unknown part or a wrong ETag ``InvalidPart``; a body over the
size S3 accepts is ``400 MaxMessageLengthExceeded`` ("Your request was too large").

Afterwards nothing happened: the objects a bad DeleteObjects names still exist, a multipart upload
a bad Complete names is still pending with its parts (and a correct Complete still works), and
the gateway still serves (conftest).
"""

from __future__ import annotations

from typing import List

import pytest

from harness import LakegateServer, MiB, boto3_client

from .support import (BUCKET_FORMS, Target, Upload, assert_s3_error, complete_xml, delete_objects_raw,
                      delete_xml, listed, new_target)

OVERSIZED = 3 * MiB  # lakegate's XML limit is 2 MiB; S3 accepts about 1,000 keys of <= 1 KiB
# An entity S3 must never expand (XXE): S3 accepts no DTDs, references to it are not well-formed.
XXE = b'<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'


def _victims(server: LakegateServer, form: str) -> List[Target]:
    """Two existing objects a bad DeleteObjects names (it must not delete them)."""
    first = new_target(form, "a.txt")
    second = Target(first.bucket, first.prefix + "b.txt")
    s3 = boto3_client(server, "when_required").s3
    for t in (first, second):
        s3.put_object(Bucket=t.bucket, Key=t.key, Body=b"keep me")
    return [first, second]


def _assert_untouched(server: LakegateServer, victims: List[Target]) -> None:
    assert listed(server, victims[0]) == sorted(v.key for v in victims)


def _malformed_delete_bodies(keys: List[str]) -> dict:
    objects = "".join(f"<Object><Key>{k}</Key></Object>" for k in keys)
    return {
        "not-well-formed": f"<Delete>{objects}".encode(),
        "empty-body": b"",
        "binary-garbage": b"\x00\xff\xfe<Delete>",
        "object-without-key": b"<Delete><Object></Object>" + objects.encode() + b"</Delete>",
        "no-objects": b"<Delete></Delete>",
        "quiet-not-boolean": f"<Delete><Quiet>maybe</Quiet>{objects}</Delete>".encode(),
        "external-entity": XXE + f"<Delete><Object><Key>&x;</Key></Object>{objects}</Delete>".encode(),
        "1001-keys": delete_xml(keys + [f"{keys[0]}-{i}" for i in range(999)]),
    }


MALFORMED_DELETE = list(_malformed_delete_bodies(["k"]))


@pytest.mark.parametrize("form", BUCKET_FORMS)
@pytest.mark.parametrize("case", MALFORMED_DELETE)
def test_delete_objects_malformed_xml(server, form, case):
    victims = _victims(server, form)
    body = _malformed_delete_bodies([v.key for v in victims])[case]
    assert_s3_error(delete_objects_raw(server, victims[0].bucket, body), "MalformedXML")
    _assert_untouched(server, victims)


def test_delete_objects_wrong_root_element(server):
    victims = _victims(server, "repo")
    resp = delete_objects_raw(server, victims[0].bucket, delete_xml([v.key for v in victims], root="Remove"))
    try:
        assert_s3_error(resp, "MalformedXML")
    finally:
        _assert_untouched(server, victims)


def test_delete_objects_1000_keys_is_the_limit(server):
    """The boundary: 1,000 keys (the two victims and 998 absent ones) is a valid request."""
    victims = _victims(server, "repo")
    keys = [v.key for v in victims] + [f"{victims[0].prefix}absent-{i}" for i in range(998)]
    resp = delete_objects_raw(server, victims[0].bucket, delete_xml(keys))
    assert resp is not None and resp.status == 200, resp
    assert listed(server, victims[0]) == []


def test_delete_objects_oversized_body(server):
    victims = _victims(server, "repo")
    padding = b"<!--" + b"x" * OVERSIZED + b"-->"
    body = delete_xml([v.key for v in victims]).replace(b"<Delete>", b"<Delete>" + padding)
    assert_s3_error(delete_objects_raw(server, victims[0].bucket, body), "MaxMessageLengthExceeded", "MalformedXML")
    _assert_untouched(server, victims)


# --------------------------------------------------------------------------------------
# CompleteMultipartUpload
# --------------------------------------------------------------------------------------


@pytest.fixture
def upload(server) -> Upload:
    return Upload.start(server)


def _malformed_complete_bodies(up: Upload) -> dict:
    good = complete_xml(up.good_parts())
    e1, e2 = up.etags
    return {
        "not-well-formed": good[:-10],
        "empty-body": b"",
        "binary-garbage": b"\x00\xff\xfe" + good,
        "part-number-not-integer": complete_xml([(1, e1), ("two", e2)]),  # type: ignore[list-item]
        "external-entity": XXE + complete_xml([(1, e1), (2, "&x;")]),
        "no-parts": b"<CompleteMultipartUpload></CompleteMultipartUpload>",
    }


@pytest.mark.parametrize("case", ["not-well-formed", "empty-body", "binary-garbage", "part-number-not-integer",
                                  "external-entity", "no-parts"])
def test_complete_malformed_xml(upload, case):
    assert_s3_error(upload.complete_raw(_malformed_complete_bodies(upload)[case]), "MalformedXML")
    upload.assert_pending()
    upload.complete_for_real()


@pytest.mark.parametrize("order", [[2, 1], [1, 1, 2], [1, 2, 2]], ids=["descending", "duplicate-1", "duplicate-2"])
def test_complete_parts_out_of_order(upload, order):
    parts = [(n, upload.etags[n - 1]) for n in order]
    assert_s3_error(upload.complete_raw(complete_xml(parts)), "InvalidPartOrder")
    upload.assert_pending()
    upload.complete_for_real()


@pytest.mark.parametrize("case", ["unknown-part", "wrong-etag", "etag-of-other-part", "missing-etag"])
def test_complete_invalid_part(upload, case):
    e1, e2 = upload.etags
    parts = {
        "unknown-part": [(1, e1), (3, e2)],
        "wrong-etag": [(1, e1), (2, '"' + "0" * 32 + '"')],
        "etag-of-other-part": [(1, e2), (2, e2)],
        "missing-etag": [(1, e1), (2, "")],
    }[case]
    assert_s3_error(upload.complete_raw(complete_xml(parts)), "InvalidPart")
    upload.assert_pending()
    upload.complete_for_real()


def test_complete_oversized_body(upload):
    padding = b"<!--" + b"x" * OVERSIZED + b"-->"
    body = complete_xml(upload.good_parts()).replace(b"<CompleteMultipartUpload>",
                                                     b"<CompleteMultipartUpload>" + padding)
    assert_s3_error(upload.complete_raw(body), "MaxMessageLengthExceeded", "MalformedXML")
    upload.assert_pending()
    upload.complete_for_real()


def test_complete_wrong_root_element(upload):
    resp = upload.complete_raw(complete_xml(upload.good_parts(), root="Foo"))
    assert_s3_error(resp, "MalformedXML")
    upload.assert_pending()


def test_complete_in_flat_bucket_form(server):
    """The same checks hold in the ``repo.branch`` form."""
    up = Upload.start(server, "repo.branch")
    assert_s3_error(up.complete_raw(b"<CompleteMultipartUpload><Part>"), "MalformedXML")
    assert_s3_error(up.complete_raw(complete_xml(list(reversed(up.good_parts())))), "InvalidPartOrder")
    up.assert_pending()
    up.complete_for_real()
