"""The AWS CLI (v1, default 8MB multipart settings) against the multipart operations:
``aws s3 cp`` of a 200 MiB file up (25 parts of 8 MiB, in parallel) and down (ranged GETs),
sha256-identical, with an ETag ending ``-25`` that HEAD and the listing agree on; and the
``aws s3api`` commands create-multipart-upload / upload-part / list-parts /
list-multipart-uploads / complete-multipart-upload / abort-multipart-upload, read through the
CLI's JSON output."""

from __future__ import annotations

import hashlib
import json

import pytest

from harness import BRANCH, BUCKET, MiB, random_bytes, sha256

from .support import BRANCH_BUCKET, PART, mpu_etag, new_rel, s3

BIG = 200 * MiB
CHUNK = 8 * MiB  # the CLI's default multipart_chunksize


def _file_digest(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(4 * MiB), b""):
            h.update(block)
    return h.hexdigest()


@pytest.mark.matrix("AWS CLI", "multipart put")
def test_cp_200mib_up_and_down(server, cli_for, tmp_path):
    cli = cli_for(server)
    src = tmp_path / "big.bin"
    md5s = []
    with open(src, "wb") as f:  # written chunk by chunk: the part MD5s come for free
        for _ in range(BIG // CHUNK):
            block = random_bytes(CHUNK)
            md5s.append(hashlib.md5(block).digest())
            f.write(block)
    want_etag = f'"{hashlib.md5(b"".join(md5s)).hexdigest()}-25"'
    want_sha = _file_digest(src)
    rel = new_rel("big.bin")

    r = cli.s3("cp", str(src), f"s3://{BUCKET}/{BRANCH}/{rel}", "--no-progress", timeout=300)
    assert r.stdout.strip().endswith(f"big.bin to s3://{BUCKET}/{BRANCH}/{rel}"), r.stdout

    c = s3(server)
    h = c.head_object(Bucket=BRANCH_BUCKET, Key=rel)
    assert (h["ContentLength"], h["ETag"]) == (BIG, want_etag)
    listed = cli.run("s3api", "list-objects-v2", "--bucket", BRANCH_BUCKET, "--prefix", rel).json()
    assert [(o["Key"], o["Size"], o["ETag"]) for o in listed["Contents"]] == [(rel, BIG, want_etag)]
    assert cli.run("s3api", "list-multipart-uploads", "--bucket", BRANCH_BUCKET,
                   "--prefix", rel).json().get("Uploads", []) == []

    dst = tmp_path / "down.bin"
    cli.s3("cp", f"s3://{BRANCH_BUCKET}/{rel}", str(dst), "--no-progress", timeout=300)
    assert dst.stat().st_size == BIG
    assert _file_digest(dst) == want_sha


@pytest.mark.matrix("AWS CLI", "multipart put")
def test_s3api_multipart_flow(server, cli_for, tmp_path):
    cli = cli_for(server)
    rel = new_rel("api.bin")
    key = f"{BRANCH}/{rel}"
    created = cli.run("s3api", "create-multipart-upload", "--bucket", BUCKET, "--key", key,
                      "--content-type", "text/x-parts", "--metadata", "step=cli").json()
    assert (created["Bucket"], created["Key"]) == (BUCKET, key)
    uid = created["UploadId"]

    blobs = [random_bytes(PART), random_bytes(PART), random_bytes(1234)]
    parts = []
    for n, data in enumerate(blobs, start=1):
        body = tmp_path / f"part{n}"
        body.write_bytes(data)
        r = cli.run("s3api", "upload-part", "--bucket", BUCKET, "--key", key, "--upload-id", uid,
                    "--part-number", str(n), "--body", str(body)).json()
        assert r["ETag"] == f'"{hashlib.md5(data).hexdigest()}"'
        parts.append({"PartNumber": n, "ETag": r["ETag"]})

    listed = cli.run("s3api", "list-parts", "--bucket", BUCKET, "--key", key, "--upload-id", uid).json()
    assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in listed["Parts"]] == [
        (n, p["ETag"], len(b)) for n, (p, b) in enumerate(zip(parts, blobs), start=1)]
    # the CLI pages list-parts itself: one part per request here
    paged = cli.run("s3api", "list-parts", "--bucket", BUCKET, "--key", key, "--upload-id", uid,
                    "--page-size", "1").json()
    assert [p["PartNumber"] for p in paged["Parts"]] == [1, 2, 3]

    uploads = cli.run("s3api", "list-multipart-uploads", "--bucket", BUCKET, "--prefix", key).json()
    assert [(u["Key"], u["UploadId"]) for u in uploads["Uploads"]] == [(key, uid)]

    spec = tmp_path / "parts.json"
    spec.write_text(json.dumps({"Parts": parts}))
    done = cli.run("s3api", "complete-multipart-upload", "--bucket", BUCKET, "--key", key,
                   "--upload-id", uid, "--multipart-upload", f"file://{spec}").json()
    want = mpu_etag(blobs)
    assert (done["Bucket"], done["Key"], done["ETag"]) == (BUCKET, key, want)

    head = cli.run("s3api", "head-object", "--bucket", BRANCH_BUCKET, "--key", rel).json()
    assert (head["ETag"], head["ContentLength"], head["ContentType"], head["Metadata"]) == (
        want, sum(map(len, blobs)), "text/x-parts", {"step": "cli"})
    out = tmp_path / "got.bin"
    cli.run("s3api", "get-object", "--bucket", BRANCH_BUCKET, "--key", rel, str(out))
    assert sha256(out.read_bytes()) == sha256(b"".join(blobs))
    assert cli.run("s3api", "list-multipart-uploads", "--bucket", BUCKET,
                   "--prefix", key).json().get("Uploads", []) == []


@pytest.mark.matrix("AWS CLI", "multipart put")
def test_s3api_abort_flow(server, cli_for, tmp_path):
    cli = cli_for(server)
    rel = new_rel("aborted.bin")
    uid = cli.run("s3api", "create-multipart-upload", "--bucket", BRANCH_BUCKET, "--key", rel).json()["UploadId"]
    body = tmp_path / "part"
    body.write_bytes(random_bytes(4096))
    cli.run("s3api", "upload-part", "--bucket", BRANCH_BUCKET, "--key", rel, "--upload-id", uid,
            "--part-number", "1", "--body", str(body))
    r = cli.run("s3api", "abort-multipart-upload", "--bucket", BRANCH_BUCKET, "--key", rel, "--upload-id", uid)
    assert (r.rc, r.stdout.strip()) == (0, "")
    assert cli.run("s3api", "list-multipart-uploads", "--bucket", BRANCH_BUCKET,
                   "--prefix", rel).json().get("Uploads", []) == []
    for args in (("list-parts", "--bucket", BRANCH_BUCKET, "--key", rel, "--upload-id", uid),
                 ("abort-multipart-upload", "--bucket", BRANCH_BUCKET, "--key", rel, "--upload-id", uid)):
        f = cli.run("s3api", *args, check=False)
        assert (f.rc, f.error_code()) == (255, "NoSuchUpload"), f.stderr
    f = cli.run("s3api", "head-object", "--bucket", BRANCH_BUCKET, "--key", rel, check=False)
    assert f.rc == 255 and "404" in f.stderr, f.stderr


@pytest.mark.matrix("AWS CLI", "multipart put", "error codes")
def test_s3api_complete_refusals(server, cli_for, tmp_path):
    """Parts out of order → InvalidPartOrder, a wrong part ETag → InvalidPart (exit code 255)."""
    cli = cli_for(server)
    rel = new_rel("bad.bin")
    uid = cli.run("s3api", "create-multipart-upload", "--bucket", BRANCH_BUCKET, "--key", rel).json()["UploadId"]
    parts = []
    for n, size in ((1, PART), (2, 10)):
        body = tmp_path / f"part{n}"
        body.write_bytes(random_bytes(size))
        r = cli.run("s3api", "upload-part", "--bucket", BRANCH_BUCKET, "--key", rel, "--upload-id", uid,
                    "--part-number", str(n), "--body", str(body)).json()
        parts.append({"PartNumber": n, "ETag": r["ETag"]})
    for code, listed in (("InvalidPartOrder", [parts[1], parts[0]]),
                         ("InvalidPart", [parts[0], {"PartNumber": 2, "ETag": '"' + "0" * 32 + '"'}])):
        spec = tmp_path / "parts.json"
        spec.write_text(json.dumps({"Parts": listed}))
        f = cli.run("s3api", "complete-multipart-upload", "--bucket", BRANCH_BUCKET, "--key", rel,
                    "--upload-id", uid, "--multipart-upload", f"file://{spec}", check=False)
        assert (f.rc, f.error_code()) == (255, code), f.stderr
