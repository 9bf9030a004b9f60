import pytest
"""The schema lane itself (schema_check.py): it matches templates and finds wrong shapes."""

from . import schema_check

_SPEC = None


def spec() -> schema_check.Spec:
    global _SPEC
    if _SPEC is None:
        _SPEC = schema_check.Spec()
    return _SPEC


def rec(method, path, status, body):
    return schema_check.Record(method, path, status, "application/json", body.encode(), "t")


@pytest.mark.ledger("every JSON answer")
def test_literal_segments_win_over_parameters():
    tpl, op = spec().match("GET", "/repositories/r/refs/main/objects/stat")
    assert op["operationId"] == "statObject", tpl
    assert spec().match("GET", "/repositories/r/refs/dump") is None  # dump is PUT/POST only
    assert spec().match("GET", "/no/such/route") is None


@pytest.mark.ledger("every JSON answer")
def test_wrong_shapes_are_violations_and_right_ones_are_not():
    ok = '{"id":"r","creation_date":1,"default_branch":"main","storage_namespace":"local://r"}'
    assert schema_check.violations_of(spec(), rec("GET", "/repositories/r", 200, ok)) == ("getRepository", [])
    bad = '{"id":"r","creation_date":"yesterday","default_branch":"main"}'
    _, v = schema_check.violations_of(spec(), rec("GET", "/repositories/r", 200, bad))
    assert sorted(v) == ["getRepository 200 $.creation_date: type integer (got str)",
                         "getRepository 200 $: required 'storage_namespace' missing"], v
    # an error status the operation does not declare is checked against Error
    _, v = schema_check.violations_of(spec(), rec("GET", "/user", 401, '{"message":"no"}'))
    assert v == []
    _, v = schema_check.violations_of(spec(), rec("GET", "/user", 401, '{"msg":"no"}'))
    assert v == ["getCurrentUser 401 $: required 'message' missing"]
    # list items are reported with []
    page = '{"pagination":{"has_more":false,"next_offset":"","results":1,"max_per_page":1},"results":[{"id":1}]}'
    _, v = schema_check.violations_of(spec(), rec("GET", "/repositories/r/branches", 200, page))
    assert "listBranches 200 $.results[].id: type string (got int)" in v, v


@pytest.mark.ledger("every JSON answer")
def test_allowlist_is_strict():
    r = [rec("GET", "/repositories/r", 200, '{"id":"r"}')]
    res = schema_check.check(r, spec(), {})
    assert res.failed and res.violations
    keys = list(res.violations)
    res = schema_check.check(r, spec(), {k: "known" for k in keys})
    assert not res.failed, res.report()
    res = schema_check.check([], spec(), {k: "known" for k in keys})
    assert res.failed and res.gone == sorted(keys)
