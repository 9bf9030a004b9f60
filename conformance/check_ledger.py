#!/usr/bin/env python3
"""Checks docs/lakefs-fidelity.md: every row's "pinning test" names tests that exist.

Each backticked name in the cell is looked up:
  `test_x.py::test_name`      ``def test_name`` in conformance/lakefs_api/test_x.py (or any
                              conformance/*/test_x.py); `test_x.py` alone: the file exists
  `embedded_api::name`        ``fn name`` in tests/embedded_api.rs (`embedded_api::*`: the file)
  `presign::tests::name`      (a unit test) ``fn name`` in src/**/presign.rs or src/**/presign/mod.rs (src/ or crates/*/src/)
                              (`a::b::tests::name`: src/**/a/b.rs);
                              `xid::tests::*`: that file has a ``mod tests``
  `name` after one of those   the same file as the name before it (`a::b`, `c`)
A cell without any name must be `—`, and `—` is allowed only on rows whose verdict is `differs…`.
Every operation the embedded server routes (the variants of `Route` and
`AuthRoute` in crates/lakefs-api/src/operations/, as lakeFS operation ids) must head a row.
Exit status 1 listing the rows that fail. Usage: check_ledger.py [LEDGER]  (standard library only)
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import List, Optional

ROOT = Path(__file__).resolve().parents[1]
LEDGER = ROOT / "docs" / "lakefs-fidelity.md"


def split_row(line: str) -> List[str]:
    cells = re.split(r"(?<!\\)\|", line.strip())
    return [c.strip() for c in cells[1:-1]]


def has_fn(path: Path, name: str) -> bool:
    return bool(re.search(rf"\bfn\s+{re.escape(name)}\s*[<(]", path.read_text(errors="replace")))


def rust_unit_files(module: str) -> List[Path]:
    sources = list((ROOT / "src").rglob("*.rs")) + list((ROOT / "crates").glob("*/src/**/*.rs"))
    return [p for p in sources if p.stem == module or (p.name in ("mod.rs", "lib.rs") and p.parent.name == module)]


def check_rust(token: str) -> Optional[str]:
    """None when `token` (a::b::c) names an existing test; else why not."""
    parts = token.split("::")
    first, last = parts[0], parts[-1]
    integ = ROOT / "tests" / f"{first}.rs"
    if integ.is_file():
        if last == "*" or len(parts) == 1:
            return None
        return None if has_fn(integ, last) else f"no `fn {last}` in tests/{first}.rs"
    # a unit test: the innermost module named (`catalog::import::tests::f` → src/**/catalog/import.rs)
    mods = [m for m in parts[:-1] if m != "tests"] or [first]
    files = rust_unit_files(mods[-1])
    nested = [f for f in files if all(m in f.relative_to(ROOT).parts for m in mods[:-1])]
    files = nested or files
    if not files:
        return f"no tests/{first}.rs and no module `{mods[-1]}` under src/"
    if last == "*":
        ok = any(re.search(r"\bmod\s+tests\b", f.read_text(errors="replace")) for f in files)
        return None if ok else f"no `mod tests` in src/…/{mods[-1]}.rs"
    if any(has_fn(f, last) for f in files):
        return None
    return f"no `fn {last}` in " + ", ".join(str(f.relative_to(ROOT)) for f in files)


def python_files(name: str) -> List[Path]:
    direct = ROOT / "conformance" / "lakefs_api" / name
    return [direct] if direct.is_file() else sorted((ROOT / "conformance").glob(f"*/{name}"))


def check_python(token: str) -> Optional[str]:
    fname, _, test = token.partition("::")
    files = python_files(fname)
    if not files:
        return f"no conformance/…/{fname}"
    if not test or test.endswith("*"):
        return None
    test = test.split("[")[0]  # a parametrized id
    for f in files:
        if re.search(rf"^\s*(async\s+)?def\s+{re.escape(test)}\s*\(", f.read_text(errors="replace"), re.M):
            return None
    return f"no `def {test}` in " + ", ".join(str(f.relative_to(ROOT)) for f in files)


def check_cell(cell: str, verdict: str) -> List[str]:
    tokens = re.findall(r"`([^`]+)`", cell)
    if not tokens:
        if cell.strip() in ("—", "-", "–"):
            return [] if verdict.strip().lower().startswith("differs") else \
                ["`—` (no test) on a row whose verdict is not `differs`"]
        return [f"names no test (expected backticked test names or `—`): {cell!r}"]
    problems = []
    prev_rust: Optional[str] = None  # the module path of the previous Rust name
    prev_py: Optional[str] = None  # the file of the previous Python name
    for tok in tokens:
        tok = tok.strip()
        if tok.startswith("unit "):
            tok = tok[len("unit "):].strip()
        if ".py" in tok:
            why = check_python(tok)
            prev_py, prev_rust = tok.split("::")[0], None
        elif "::" in tok:
            why = check_rust(tok)
            prev_rust, prev_py = tok.rsplit("::", 1)[0], None
        elif re.fullmatch(r"\w+", tok) and prev_rust:
            why = check_rust(f"{prev_rust}::{tok}")
        elif re.fullmatch(r"\w+", tok) and prev_py:
            why = check_python(f"{prev_py}::{tok}")
        else:
            # not a test name (a flag or value quoted in the cell's prose)
            continue
        if why:
            problems.append(f"`{tok}`: {why}")
    return problems


def check(ledger: Path = LEDGER) -> List[str]:
    failures = []
    header: Optional[List[str]] = None
    for n, line in enumerate(ledger.read_text().splitlines(), 1):
        if not line.lstrip().startswith("|"):
            header = None
            continue
        cells = split_row(line)
        if header is None:
            header = [c.lower() for c in cells]
            continue
        if all(re.fullmatch(r":?-{3,}:?", c) for c in cells):
            continue
        if "pinning test" not in header:
            continue
        if len(cells) != len(header):
            failures.append(f"{ledger.name}:{n}: {len(cells)} cells, the header has {len(header)}")
            continue
        cell = cells[header.index("pinning test")]
        verdict = cells[header.index("verdict")] if "verdict" in header else ""
        for p in check_cell(cell, verdict):
            failures.append(f"{ledger.name}:{n} ({cells[0]}: {cells[1][:60]}…): {p}")
    return failures


ROUTE_ENUMS = [("crates/lakefs-api/src/operations.rs", "Route"), ("crates/lakefs-api/src/operations/auth.rs", "AuthRoute")]


def routed_operations() -> List[str]:
    """lakeFS operation ids of the embedded server's routes (`StatObject(..)` → `statObject`)."""
    ops = []
    for path, enum in ROUTE_ENUMS:
        text = (ROOT / path).read_text()
        body = re.search(rf"pub enum {enum} \{{(.*?)\n\}}", text, re.S)
        if not body:
            raise SystemExit(f"no `pub enum {enum}` in {path}")
        for name in re.findall(r"^\s{4}([A-Z]\w*)\s*[,(]", body.group(1), re.M):
            if name != "Auth":
                ops.append(name[0].lower() + name[1:])
    return ops


def uncovered(ledger: Path = LEDGER) -> List[str]:
    """Routed operations that head no ledger row (compared without case: `getLakeFSVersion`)."""
    words = set()
    for line in ledger.read_text().splitlines():
        if line.lstrip().startswith("|"):
            cells = split_row(line)
            if cells:
                words.update(w.lower() for w in re.findall(r"[A-Za-z]\w*", cells[0]))
    return [f"operation `{op}` is served by the embedded server but heads no ledger row"
            for op in routed_operations() if op.lower() not in words]


def main(argv: List[str]) -> int:
    ledger = Path(argv[1]) if len(argv) > 1 else LEDGER
    failures = check(ledger) + uncovered(ledger)
    if failures:
        print(f"{ledger}: {len(failures)} problem(s):")
        for f in failures:
            print("  " + f)
        return 1
    print(f"{ledger}: every pinning test exists and every routed operation has a row")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
