#!/usr/bin/env bash
# Measures lakegate's multipart data path: starts `lakegate dev` (embedded lakeFS) and, in front of
# its lakeFS API, a separate `lakegate serve` (so the gateway's memory is its own), then uploads
# COUNT files of SIZE_MIB MiB at once with the AWS CLI (8 MiB parts) and reports the gateway's peak
# RSS (VmHWM) and the lakeFS API calls it made, per call kind.
# Usage: scripts/measure-multipart.sh [COUNT=4] [SIZE_MIB=1024]   (needs .venv with awscli, jq)
set -euo pipefail
count=${1:-4}
size=${2:-1024}
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${LAKEGATE_BIN:-$root/target/release/lakegate}
aws=$root/.venv/bin/aws
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
RUST_LOG=lakegate::embedded::api=debug NO_COLOR=1 "$bin" dev --data "$work/dev" --listen 127.0.0.1:0 \
  --api-listen 127.0.0.1:0 >"$work/dev.log" 2>&1 &
for _ in $(seq 50); do [ -s "$work/dev/dev.json" ] && break; sleep 0.2; done
ak=$(jq -r .access_key_id "$work/dev/dev.json")
sk=$(jq -r .secret_access_key "$work/dev/dev.json")
api=$(jq -r .api_endpoint "$work/dev/dev.json")
echo "$ak $sk" >"$work/keys"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
LAKEGATE_LAKEFS_SECRET_ACCESS_KEY=$sk "$bin" serve --lakefs-endpoint "$api" --lakefs-access-key-id "$ak" \
  --credentials-file "$work/keys" --listen "127.0.0.1:$port" --state-dir "$work/state" >"$work/serve.log" 2>&1 &
pid=$!
sleep 1
head -c $((size << 20)) /dev/urandom >"$work/data.bin"
export AWS_ACCESS_KEY_ID=$ak AWS_SECRET_ACCESS_KEY=$sk AWS_DEFAULT_REGION=us-east-1
start=$(date +%s.%N)
uploads=()
for i in $(seq "$count"); do
  "$aws" --endpoint-url "http://127.0.0.1:$port" --only-show-errors s3 cp "$work/data.bin" "s3://demo/main/m$i.bin" &
  uploads+=($!)
done
wait "${uploads[@]}" || true
end=$(date +%s.%N)
for i in $(seq "$count"); do
  "$aws" --endpoint-url "http://127.0.0.1:$port" s3api head-object --bucket demo --key "main/m$i.bin" --query ETag --output text
done
echo "uploads: $count x $size MiB in $(echo "$end - $start" | bc) s"
echo "lakegate serve peak RSS: $(grep VmHWM /proc/$pid/status | awk '{print $2 " " $3}')"
echo "lakeFS API calls (method, operation, count):"
grep -o 'method=[A-Z]* path=/api/v1[^ ]*' "$work/dev.log" \
  | sed -E 's#pmpu/[^/ ]+#pmpu/{id}#; s#/parts/[0-9]+#/parts/{n}#; s#/repositories/[^/]+#/repositories/{repo}#; s#\?.*##' \
  | sort | uniq -c
