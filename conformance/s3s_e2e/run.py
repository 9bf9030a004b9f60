#!/usr/bin/env python3
"""Runs s3s-e2e (the s3s project's end-to-end S3 suite, on the official Rust AWS SDK) against a fresh
``lakegate dev --flat-buckets`` and checks every case strictly against ``expected_failures.txt``.

    python3 conformance/s3s_e2e/run.py [--bin PATH] [--tls] [--summary PATH] [--keep]
                                       [--filter REGEX ...] [--install-only]

1. finds the suite's binary: ``--bin PATH``, or ``<tools>/s3s-e2e-0.14.1/bin/s3s-e2e`` where <tools>
   is $LAKEGATE_TOOLS_DIR (default ~/.cache/lakegate-tools); when that is missing it is built once
   with ``cargo install --debug s3s-e2e@0.14.1 --locked --root <tools>/s3s-e2e-0.14.1`` (a debug
   build without debug info: a few minutes instead of ~10 for a release build; later runs reuse it);
2. starts ``lakegate dev --flat-buckets`` in a temporary directory (ports picked by the OS; with
   ``--tls`` it serves HTTPS with a throwaway CA + server certificate made by the ``openssl`` CLI,
   or by the ``cryptography`` package where there is none, which the suite trusts through
   SSL_CERT_FILE) and makes a gateway key for lakeFS user ``admin``
   with ``lakegate keys create --dev DIR --user admin --json``;
3. runs the suite (its cases create and delete their own buckets, i.e. lakeFS repositories; the
   flat bucket form makes a key name an object of the repository's default branch, as the suite
   expects) with ``--json`` and reads every case's outcome: ``Suite/Fixture/case`` passed or failed;
   a case whose fixture setup failed did not run and counts as failed; a failed fixture teardown is
   reported as ``Suite/Fixture/(teardown)``;
4. compares STRICTLY with ``expected_failures.txt`` (``<id>  # <reason>`` a line): a listed case that
   passes is a mismatch ("remove it from the list"), and so is an unlisted failure or a listed id
   the suite does not have. Prints passed / expected failures / total, the mismatches with the
   failure text and the lakegate log tail; ``--summary`` writes a small JSON summary.

Exit status: 0 match, 1 mismatch, 2 the run itself failed (no binary, lakegate did not start, the
suite crashed). Python 3 standard library only (``--tls`` without an openssl CLI: ``cryptography``).

Environment: LAKEGATE_BIN (default <repo>/target/debug/lakegate), LAKEGATE_TOOLS_DIR, CARGO.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # conformance/: the harness

from harness import LakegateServer, start_outside_pytest, trust_bundle  # noqa: E402

EXPECTED_FAILURES = HERE / "expected_failures.txt"

SUITE = "s3s-e2e"
SUITE_VERSION = "0.14.1"
LAKEGATE_ARGS = ["--flat-buckets"]
REGION = "us-east-1"
SUITE_TIMEOUT_S = 10 * 60
INSTALL_TIMEOUT_S = 60 * 60

TEARDOWN = "(teardown)"  # pseudo case name for a fixture's (or suite's) failed teardown


class RunError(Exception):
    """The run could not be carried out (no binary, lakegate did not start, the suite crashed)."""


# --------------------------------------------------------------------------------------
# the suite's binary
# --------------------------------------------------------------------------------------


def tools_root() -> Path:
    base = os.environ.get("LAKEGATE_TOOLS_DIR") or str(Path.home() / ".cache" / "lakegate-tools")
    return Path(base) / f"{SUITE}-{SUITE_VERSION}"


def installed_version(binary: Path) -> Optional[str]:
    try:
        out = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=30,
                             stdin=subprocess.DEVNULL)
    except OSError:
        return None
    m = re.match(rf"{re.escape(SUITE)} (\S+)", out.stdout.strip())
    return m.group(1) if out.returncode == 0 and m else None


def ensure_binary(explicit: Optional[Path]) -> Path:
    if explicit is not None:
        if not explicit.is_file() or not os.access(explicit, os.X_OK):
            raise RunError(f"--bin {explicit}: not an executable file")
        return explicit
    root = tools_root()
    binary = root / "bin" / SUITE
    if binary.exists() and installed_version(binary) == SUITE_VERSION:
        return binary
    cargo = os.environ.get("CARGO") or shutil.which("cargo") or str(Path.home() / ".cargo" / "bin" / "cargo")
    if not Path(cargo).exists() and not shutil.which(cargo):
        raise RunError(f"{binary} is missing and cargo was not found to build it (or pass --bin PATH)")
    cmd = [cargo, "install", "--debug", f"{SUITE}@{SUITE_VERSION}", "--locked", "--force", "--root", str(root)]
    if shutil.which("nice"):
        cmd = ["nice", "-n", "10", *cmd]
    env = dict(os.environ)
    # a debug build without debug info: much faster to build than --release, and fast enough to run
    env["CARGO_PROFILE_DEV_DEBUG"] = "0"
    env.pop("CARGO_TARGET_DIR", None)  # cargo install then builds in a temporary directory it removes
    print(f"{SUITE}: building {SUITE} {SUITE_VERSION} once into {root} (a few minutes): {' '.join(cmd)}", flush=True)
    started = time.monotonic()
    root.mkdir(parents=True, exist_ok=True)
    try:  # cargo's progress goes to this run's output (a silent build of minutes looks hung in CI)
        proc = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, timeout=INSTALL_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise RunError(f"cargo install still running after {INSTALL_TIMEOUT_S}s") from None
    if proc.returncode != 0 or installed_version(binary) != SUITE_VERSION:
        raise RunError(f"cargo install failed ({proc.returncode}); its output is above")
    print(f"{SUITE}: built in {time.monotonic() - started:.0f}s", flush=True)
    return binary


# --------------------------------------------------------------------------------------
# lakegate dev
# --------------------------------------------------------------------------------------


def make_tls_material(directory: Path) -> Tuple[Path, Path, Path]:
    """A throwaway CA and a server certificate it signs, for 127.0.0.1 / localhost → (ca, cert, key).
    rustls (the Rust SDK's TLS) refuses a self-signed certificate with CA:TRUE as the server's own,
    so unlike the Python suites this needs a real two-level chain."""
    directory.mkdir(parents=True, exist_ok=True)
    openssl = shutil.which("openssl")
    if openssl is None:
        try:
            return make_tls_material_cryptography(directory)
        except ImportError:
            raise RunError("--tls needs the openssl command-line tool or the cryptography package") from None
    ca_key, ca, key, csr, cert = (directory / n for n in ("ca.key", "ca.pem", "key.pem", "server.csr", "cert.pem"))
    ext = directory / "server.ext"
    ext.write_text("basicConstraints=critical,CA:FALSE\n"
                   "keyUsage=critical,digitalSignature\n"
                   "extendedKeyUsage=serverAuth\n"
                   "subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    steps = [
        [openssl, "req", "-x509", *ec, "-keyout", str(ca_key), "-out", str(ca), "-days", "2",
         "-subj", "/CN=lakegate conformance CA", "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
        [openssl, "req", "-new", *ec, "-keyout", str(key), "-out", str(csr), "-subj", "/CN=127.0.0.1"],
        [openssl, "x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key), "-CAcreateserial",
         "-days", "1", "-sha256", "-extfile", str(ext), "-out", str(cert)],
    ]
    for cmd in steps:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
        if out.returncode != 0:
            raise RunError(f"{' '.join(cmd)} failed ({out.returncode}): {out.stderr}")
    return ca, cert, key


def make_tls_material_cryptography(directory: Path) -> Tuple[Path, Path, Path]:
    """make_tls_material with the ``cryptography`` package, where there is no openssl CLI."""
    import datetime
    import ipaddress
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "lakegate conformance CA")])
    ca_cert = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
               .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=2))
               .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
               .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
               .sign(ca_key, hashes.SHA256()))
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])).issuer_name(ca_name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectAlternativeName([
                x509.DNSName("localhost"), x509.IPAddress(ipaddress.IPv4Address("127.0.0.1"))]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    ca_path, cert_path, key_path = directory / "ca.pem", directory / "cert.pem", directory / "key.pem"
    ca_path.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return ca_path, cert_path, key_path


def start_lakegate(work: Path, extra_args: List[str]) -> LakegateServer:
    """``lakegate dev`` in ``work`` (free ports, a gateway key for lakeFS user ``admin``)."""
    return start_outside_pytest(work, extra_args, RunError)


# --------------------------------------------------------------------------------------
# running the suite
# --------------------------------------------------------------------------------------


def suite_env(srv: Optional[LakegateServer], ca: Optional[Path]) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.pop("RUST_LOG", None)  # the suite's default: errors only
    env.update({
        "AWS_REGION": REGION,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        "NO_COLOR": "1",
    })
    if srv is not None:
        env.update({
            "AWS_ACCESS_KEY_ID": srv.key["access_key_id"],
            "AWS_SECRET_ACCESS_KEY": srv.key["secret_access_key"],
            # every service's endpoint, STS's too (the suite's AssumeRole case)
            "AWS_ENDPOINT_URL": srv.s3_endpoint,
        })
    if ca is not None:
        # rustls-native-certs (the SDK's HTTPS client) and rustls-platform-verifier (reqwest, for
        # the presigned-URL cases) read the trust anchors from SSL_CERT_FILE when it is set: this
        # run's CA, plus the CA file the environment names already (the test command's seaweedfs
        # pass: scripts/seaweedfs.sh's CA, which lakegate dev itself trusts)
        env["SSL_CERT_FILE"] = str(trust_bundle(ca, os.environ.get("SSL_CERT_FILE")))
        env.pop("SSL_CERT_DIR", None)
    return env


def filter_args(filters: List[str]) -> List[str]:
    return [a for f in filters for a in ("--filter", f)]


def list_cases(binary: Path, filters: List[str]) -> List[str]:
    """Suite/Fixture/case ids, in the suite's order."""
    out = subprocess.run([str(binary), "--list", *filter_args(filters)], capture_output=True, text=True,
                         timeout=60, env=suite_env(None, None), stdin=subprocess.DEVNULL)
    if out.returncode != 0:
        raise RunError(f"{binary} --list failed ({out.returncode}): {out.stderr}")
    ansi = re.compile(r"\x1b\[[0-9;]*m")
    return [ln for ln in (ansi.sub("", x).strip() for x in out.stdout.splitlines()) if ln.count("/") == 2]


def run_suite(binary: Path, srv: LakegateServer, ca: Optional[Path], work: Path, filters: List[str]
              ) -> Tuple[int, Path, Path]:
    report, log = work / "report.json", work / "s3s-e2e.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(binary), "--json", str(report), *filter_args(filters)], cwd=work,
                                env=suite_env(srv, ca), stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
        try:
            rc = proc.wait(timeout=SUITE_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise RunError(f"{SUITE} still running after {SUITE_TIMEOUT_S}s") from None
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    return rc, report, log


def fn_error(summary: Optional[dict]) -> Optional[str]:
    """None when a setup/run/teardown summary is Ok (or absent), else its error text."""
    if not summary:
        return None
    result = summary.get("result")
    if result == "Ok":
        return None
    if result == "Panicked":
        return "panicked (the assertion is in the suite's output)"
    if isinstance(result, dict) and "Err" in result:
        return f"error: {result['Err']}"
    return f"{result!r}"


def outcomes_of(report: dict, cases: List[str]) -> Tuple[Dict[str, str], Dict[str, str]]:
    """id → "passed" | "failed" | "ignored", and id → failure text, for every listed case (a case
    that did not run because its suite or fixture setup failed is failed) plus a ``(teardown)`` id
    for each failed teardown."""
    outcomes: Dict[str, str] = {}
    details: Dict[str, str] = {}
    setup_errors: Dict[str, str] = {}  # "Suite" or "Suite/Fixture" → error
    for suite in report.get("suites", []):
        s = suite["name"]
        if (err := fn_error(suite.get("setup"))) is not None:
            setup_errors[s] = f"suite setup {err}"
        if (err := fn_error(suite.get("teardown"))) is not None:
            outcomes[f"{s}/{TEARDOWN}"], details[f"{s}/{TEARDOWN}"] = "failed", err
        for fixture in suite.get("fixtures", []):
            f = f"{s}/{fixture['name']}"
            if (err := fn_error(fixture.get("setup"))) is not None:
                setup_errors[f] = f"fixture setup {err}"
            if (err := fn_error(fixture.get("teardown"))) is not None:
                outcomes[f"{f}/{TEARDOWN}"], details[f"{f}/{TEARDOWN}"] = "failed", err
            for case in fixture.get("cases", []):
                ident = f"{f}/{case['name']}"
                if case.get("ignored"):
                    outcomes[ident] = "ignored"
                elif case.get("passed"):
                    outcomes[ident] = "passed"
                else:
                    outcomes[ident] = "failed"
                    details[ident] = fn_error(case.get("run")) or "failed"
    for ident in cases:
        if ident not in outcomes:
            suite, fixture, _ = ident.split("/")
            why = setup_errors.get(f"{suite}/{fixture}") or setup_errors.get(suite) or "no result in the report"
            outcomes[ident], details[ident] = "failed", f"did not run: {why}"
    return outcomes, details


def read_expected(path: Path) -> List[Tuple[str, str]]:
    entries = []
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        ident, _, reason = line.partition("#")
        entries.append((ident.strip(), reason.strip()))
    return entries


def compare(outcomes: Dict[str, str], all_cases: List[str], selected: List[str],
            expected: List[Tuple[str, str]]) -> List[str]:
    mismatches: List[str] = []
    known = set(all_cases)
    fixtures = {c.rsplit("/", 1)[0] for c in all_cases} | {c.split("/", 1)[0] for c in all_cases}
    for ident, n in collections.Counter(i for i, _ in expected).items():
        if n > 1:
            mismatches.append(f"expected_failures.txt lists {ident} {n} times")
    for ident, reason in expected:
        if not reason:
            mismatches.append(f"expected_failures.txt: {ident} has no '# reason'")
        is_teardown = ident.endswith("/" + TEARDOWN) and ident.rsplit("/", 1)[0] in fixtures
        if ident not in known and not is_teardown:
            mismatches.append(f"expected_failures.txt names no case of the suite: {ident}")
    listed = {i for i, _ in expected}
    in_scope = set(selected) | {i for i in listed if i.endswith("/" + TEARDOWN)
                                and any(c.startswith(i.rsplit("/", 1)[0] + "/") for c in selected)}
    for ident in sorted(in_scope | set(outcomes)):
        got = outcomes.get(ident, "passed" if ident.endswith("/" + TEARDOWN) else None)
        if got is None:
            mismatches.append(f"no result for {ident}")
        elif got == "passed" and ident in listed:
            mismatches.append(f"PASSED but listed in expected_failures.txt (remove it from the list): {ident}")
        elif got == "failed" and ident not in listed:
            mismatches.append(f"FAILED and not listed in expected_failures.txt: {ident}")
        elif got == "ignored" and ident in listed:
            mismatches.append(f"IGNORED by the suite but listed in expected_failures.txt: {ident}")
    return mismatches


def indent(text: str, max_lines: int = 12) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    if len(lines) > max_lines:
        lines = lines[:max_lines] + ["..."]
    return "\n".join("      " + ln[:400] for ln in lines)


# --------------------------------------------------------------------------------------


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", type=Path, help=f"the {SUITE} binary to run (default: install it under $LAKEGATE_TOOLS_DIR)")
    ap.add_argument("--tls", action="store_true", help="serve HTTPS (throwaway CA, trusted via SSL_CERT_FILE)")
    ap.add_argument("--summary", type=Path, help="write a JSON summary here")
    ap.add_argument("--filter", action="append", default=[], metavar="REGEX",
                    help="run only the cases whose Suite/Fixture/case id matches (repeatable; the run is partial)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory (data, logs, report)")
    ap.add_argument("--install-only", action="store_true", help=f"only make sure {SUITE} is installed")
    args = ap.parse_args(argv)

    work: Optional[Path] = None
    srv: Optional[LakegateServer] = None

    def on_term(signum, _frame):  # run the finally blocks (stop lakegate, remove the temp dir)
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, on_term)

    try:
        binary = ensure_binary(args.bin)
        if args.install_only:
            print(f"{SUITE}: {binary}")
            return 0
        expected = read_expected(EXPECTED_FAILURES)
        all_cases = list_cases(binary, [])
        selected = list_cases(binary, args.filter) if args.filter else all_cases
        if not all_cases:
            raise RunError(f"{binary} --list named no case")
        work = Path(tempfile.mkdtemp(prefix="lakegate-s3s-e2e-"))
        started = time.monotonic()
        ca = None
        lakegate_args = list(LAKEGATE_ARGS)
        if args.tls:
            ca, cert, key = make_tls_material(work / "tls")
            lakegate_args += ["--tls-cert", str(cert), "--tls-key", str(key)]
        srv = start_lakegate(work, lakegate_args)
        blockstore = os.environ.get("LAKEGATE_DEV_BLOCKSTORE", "local")
        print(f"{SUITE}: {binary} ({len(selected)} cases) against lakegate dev {' '.join(LAKEGATE_ARGS)} "
              f"at {srv.s3_endpoint}, blockstore {blockstore}", flush=True)
        rc, report_path, log = run_suite(binary, srv, ca, work, args.filter)
        elapsed = time.monotonic() - started
        if rc not in (0, 1) or not report_path.exists():
            tail = log.read_text(errors="replace")[-6000:] if log.exists() else ""
            raise RunError(f"{SUITE} exited with {rc} (0/1 expected) and report "
                           f"{'written' if report_path.exists() else 'missing'}\n---- {SUITE} output (tail) ----\n{tail}")
        outcomes, details = outcomes_of(json.loads(report_path.read_text()), selected)
        mismatches = compare(outcomes, all_cases, selected, expected)
        listed = dict(expected)
        counts = collections.Counter()
        for ident in selected:
            got = outcomes.get(ident)
            counts["passed" if got == "passed" else "ignored" if got == "ignored"
                   else "expected failures" if ident in listed else "unexpected failures"] += 1
        total = len(selected)
        ok = not mismatches
        print(f"{SUITE}: {total} cases{' (partial run)' if args.filter else ''}: {counts['passed']} passed, "
              f"{counts['expected failures']} expected failures, {counts['unexpected failures']} unexpected "
              f"failures, {counts['ignored']} ignored; {elapsed:.0f}s"
              f"{' (HTTPS)' if args.tls else ''}")
        if args.summary:
            args.summary.write_text(json.dumps({
                "suite": SUITE, "version": SUITE_VERSION, "lakegate_args": lakegate_args[:len(LAKEGATE_ARGS)],
                "https": args.tls, "blockstore": blockstore, "partial": bool(args.filter), "ok": ok, "total": total,
                "passed": counts["passed"], "expected_failures": counts["expected failures"],
                "unexpected_failures": counts["unexpected failures"], "ignored": counts["ignored"],
                "mismatches": mismatches, "elapsed_s": round(elapsed, 1),
                "cases": {i: outcomes.get(i) for i in selected},
                "teardowns_failed": sorted(i for i in outcomes if i.endswith("/" + TEARDOWN)),
            }, indent=2) + "\n")
        if mismatches:
            print(f"\n{SUITE}: {len(mismatches)} MISMATCH(ES) with expected_failures.txt:")
            for m in mismatches:
                print(f"  - {m}")
                ident = m.rsplit(": ", 1)[-1]
                if m.startswith("FAILED") and details.get(ident):
                    print(indent(details[ident]))
            output = log.read_text(errors="replace")  # the SDK errors (Debug-printed) and panics
            print(f"\n---- {SUITE} output{' (tail)' if len(output) > 20000 else ''} ----\n" + output[-20000:])
            print(srv.log_tail())
            print(f"(logs in {work})" if args.keep else "(run with --keep to keep the logs)")
            return 1
        print(f"{SUITE}: outcome matches expected_failures.txt")
        return 0
    except RunError as e:
        print(f"{SUITE}: ERROR: {e}", file=sys.stderr)
        if srv is not None:
            print(srv.log_tail(), file=sys.stderr)
        return 2
    finally:
        if srv is not None:
            srv.stop()
        if work is not None:
            if args.keep:
                print(f"{SUITE}: kept {work}")
            else:
                shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
