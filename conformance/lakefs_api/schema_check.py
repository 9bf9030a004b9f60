"""Schema lane of the lakeFS API suite: every JSON answer the embedded server gives must validate
against lakeFS's OpenAPI spec (v1.84.0's ``api/swagger.yml``).

conftest.py records the answers (a hook on urllib3's ``PoolManager.urlopen``, which both lakefs-sdk
and the suite's raw requests go through) and, at the end of the session, calls :func:`check`:
each answer is matched to the spec's path template and operation, and its body is validated
against the schema of that operation's response for the status (or its ``default`` response)
with openapi-schema-validator (OAS 3.0, read direction, formats checked).

The spec is not copied into the repository: it is read from ``../shared/reference/lakefs-swagger.yml``
beside the checkout (or ``$LAKEGATE_LAKEFS_SWAGGER``).

Known violations live in ``schema_allowlist.txt`` (one key per line, ``#`` comments): a listed
violation is tolerated, and a listed one that no longer occurs fails the session (strict, like a
strict xfail), so the list shrinks as the server is fixed.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

REPO_ROOT = Path(__file__).resolve().parents[2]
SPEC_PATH = Path(os.environ.get("LAKEGATE_LAKEFS_SWAGGER")
                 or REPO_ROOT.parent / "shared" / "reference" / "lakefs-swagger.yml")
ALLOWLIST_PATH = Path(__file__).with_name("schema_allowlist.txt")
API_PREFIX = "/api/v1"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


@dataclass
class Record:
    method: str
    path: str  # URL path below /api/v1, still percent-encoded, without the query
    status: int
    content_type: str
    body: bytes
    test: str


@dataclass
class Result:
    checked: int = 0
    operations: set = field(default_factory=set)  # operationIds seen
    unmatched: Dict[str, int] = field(default_factory=dict)  # "METHOD /path": count
    violations: Dict[str, List[str]] = field(default_factory=dict)  # key -> examples
    allowed: Dict[str, List[str]] = field(default_factory=dict)  # listed keys that occurred
    gone: List[str] = field(default_factory=list)  # listed keys that did not occur

    @property
    def failed(self) -> bool:
        return bool(self.violations or self.gone)

    def report(self) -> str:
        lines = [f"lakeFS OpenAPI schema lane: {self.checked} JSON answers of {len(self.operations)} operations "
                 f"checked against {SPEC_PATH}"]
        if self.allowed:
            lines.append(f"  {len(self.allowed)} known violation(s) from {ALLOWLIST_PATH.name} occurred (allowed)")
        if self.unmatched:
            lines.append("  answers on paths/methods the spec does not have (not checked): "
                         + ", ".join(f"{k} ×{n}" for k, n in sorted(self.unmatched.items())))
        if self.violations:
            lines.append(f"  {len(self.violations)} VIOLATION(S) (not in {ALLOWLIST_PATH.name}):")
            for key, examples in sorted(self.violations.items()):
                lines.append(f"    {key}")
                for ex in examples[:2]:
                    lines.append(f"        e.g. {ex}")
        if self.gone:
            lines.append(f"  {len(self.gone)} violation(s) listed in {ALLOWLIST_PATH.name} no longer occur "
                         "(remove them from the list):")
            lines.extend(f"    {k}" for k in self.gone)
        return "\n".join(lines)


class Spec:
    def __init__(self, path: Path = SPEC_PATH):
        if not path.is_file():
            raise FileNotFoundError(
                f"lakeFS OpenAPI spec not found at {path}: the schema lane needs lakeFS v1.84.0's swagger.yml "
                "at ../shared/reference/lakefs-swagger.yml beside the checkout (or set LAKEGATE_LAKEFS_SWAGGER)")
        import yaml  # PyYAML: imported here so that a missing spec is reported first

        self.doc: Dict[str, Any] = yaml.safe_load(path.read_text())
        # templates with more literal segments first, so /refs/dump wins over /refs/{ref}
        self.templates: List[Tuple[re.Pattern, str]] = []
        for tpl in self.doc["paths"]:
            rx = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(tpl)) + "$"
            literal = sum(1 for s in tpl.split("/") if s and not s.startswith("{"))
            self.templates.append((re.compile(rx), tpl, literal))  # type: ignore[arg-type]
        self.templates.sort(key=lambda t: -t[2])  # type: ignore[index]
        self._validators: Dict[str, Any] = {}

    def match(self, method: str, path: str) -> Optional[Tuple[str, Dict[str, Any]]]:
        for rx, tpl, _ in self.templates:  # type: ignore[misc]
            if rx.match(path):
                op = self.doc["paths"][tpl].get(method.lower())
                if op is not None:
                    return tpl, op
        return None

    def deref(self, obj: Any) -> Any:
        while isinstance(obj, dict) and "$ref" in obj:
            node: Any = self.doc
            for part in obj["$ref"].lstrip("#/").split("/"):
                node = node[part]
            obj = node
        return obj

    def validator(self, schema: Dict[str, Any]):
        key = json.dumps(schema, sort_keys=True)
        v = self._validators.get(key)
        if v is None:
            from openapi_schema_validator import OAS30ReadValidator, oas30_format_checker

            # the schema sits in a document that also holds the spec's components, so that the
            # spec's "#/components/schemas/…" references resolve
            root = {"components": self.doc["components"], "allOf": [schema]}
            v = OAS30ReadValidator(root, format_checker=oas30_format_checker)
            self._validators[key] = v
        return v


def _where(err) -> str:
    parts = []
    for p in err.absolute_path:
        parts.append("[]" if isinstance(p, int) else f".{p}")
    return "$" + "".join(parts)


def _what(err) -> str:
    if err.validator == "required":
        m = re.match(r"'([^']+)' is a required property", err.message)
        return f"required '{m.group(1)}' missing" if m else "required"
    if err.validator == "additionalProperties":
        return "additionalProperties: " + err.message.split("(")[-1].rstrip(")")
    if err.validator == "type":
        return f"type {err.validator_value} (got {type(err.instance).__name__})"
    if err.validator == "format":
        return f"format {err.validator_value}"
    if err.validator == "enum":
        return f"enum {err.validator_value} (got {err.instance!r})"
    return str(err.validator)


def violations_of(spec: Spec, rec: Record) -> Tuple[Optional[str], List[str]]:
    """(operationId or None when the spec has no such path/method, violation keys)."""
    m = spec.match(rec.method, rec.path)
    if m is None:
        return None, []
    tpl, op = m
    op_id = op.get("operationId", f"{rec.method} {tpl}")
    responses = {str(k): v for k, v in op.get("responses", {}).items()}  # YAML reads 200 as an int
    resp = responses.get(str(rec.status), responses.get(f"{str(rec.status)[0]}XX", responses.get("default")))
    if resp is None:
        if rec.status < 400:
            return op_id, [f"{op_id} {rec.status}: status not in the spec's responses"]
        # lakeFS's middleware (authentication, request validation) answers any operation with an
        # error the operation does not declare, in the Error shape
        media: Any = {"schema": {"$ref": "#/components/schemas/Error"}}
    else:
        resp = spec.deref(resp)
        media = (resp.get("content") or {}).get("application/json")
    if media is None or "schema" not in media:
        return op_id, [f"{op_id} {rec.status}: JSON body where the spec has none"]
    try:
        doc = json.loads(rec.body)
    except ValueError:
        return op_id, [f"{op_id} {rec.status}: body is not JSON"]
    out = []
    for err in spec.validator(media["schema"]).iter_errors(doc):
        # report the innermost errors of allOf/oneOf/anyOf wrappers
        leaves = [err]
        while any(e.context for e in leaves):
            nxt = []
            for e in leaves:
                nxt.extend(e.context or [e])
            if nxt == leaves:
                break
            leaves = nxt
        for e in leaves:
            out.append(f"{op_id} {rec.status} {_where(e)}: {_what(e)}")
    return op_id, sorted(set(out))


def load_allowlist(path: Path = ALLOWLIST_PATH) -> Dict[str, str]:
    """key -> reason. Lines: ``<key>  # <reason>``."""
    out: Dict[str, str] = {}
    if not path.exists():
        return out
    for line in path.read_text().splitlines():
        key, _, why = line.partition("#")
        key = key.strip()
        if key:
            out[key] = why.strip()
    return out


def check(records: List[Record], spec: Optional[Spec] = None, allowlist: Optional[Dict[str, str]] = None) -> Result:
    spec = spec or Spec()
    allow = load_allowlist() if allowlist is None else allowlist
    res = Result()
    for rec in records:
        if "json" not in rec.content_type.lower() or (rec.method == "HEAD" and not rec.body):
            continue
        op_id, keys = violations_of(spec, rec)
        if op_id is None:
            k = f"{rec.method} {rec.path}"
            res.unmatched[k] = res.unmatched.get(k, 0) + 1
            continue
        res.checked += 1
        res.operations.add(op_id)
        for key in keys:
            bucket = res.allowed if key in allow else res.violations
            ex = bucket.setdefault(key, [])
            if len(ex) < 3:
                ex.append(f"{rec.method} {rec.path} in {rec.test}: {rec.body[:300].decode('utf-8', 'replace')}")
    res.gone = sorted(k for k in allow if k not in res.allowed)
    return res
