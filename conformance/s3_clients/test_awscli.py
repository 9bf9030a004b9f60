"""AWS CLI high-level ``aws s3`` commands (the s3api ones run in test_clients.py) over HTTP and
HTTPS. Uploads stay single part: the temp config sets multipart_threshold = 64MB."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import awscli
import pytest

from harness import AWS_CLI, BUCKET, md5_etag, random_bytes, sha256

from .support import unique_key


def test_cli_is_the_venv_one():
    """The CLI under test is the PyPI awscli (v1) installed next to this interpreter."""
    assert AWS_CLI.parent == Path(sys.executable).parent
    p = subprocess.run([str(AWS_CLI), "--version"], capture_output=True, text=True, timeout=60,
                       stdin=subprocess.DEVNULL)
    assert p.returncode == 0, p.stderr
    out = (p.stdout + p.stderr).strip()
    assert out.startswith(f"aws-cli/{awscli.__version__} "), out


def test_s3_ls_lists_demo(cli):
    r = cli.run("s3", "ls")
    # "<date> <time> <bucket>" per line
    names = [line.split()[-1] for line in r.stdout.splitlines() if line.strip()]
    assert BUCKET in names, r.stdout
    assert r.stderr == ""


@pytest.mark.matrix("AWS CLI", "put/get", "metadata")
def test_s3_cp_upload_download_round_trip(cli, tmp_path):
    data = random_bytes(3 * 1024 * 1024 + 333)
    src = tmp_path / "up.bin"
    src.write_bytes(data)
    key = unique_key("cp.bin")
    r = cli.run("s3", "cp", str(src), f"s3://{BUCKET}/{key}", "--metadata", "k=v",
                "--content-type", "application/x-cli-cp", "--no-progress")
    # the CLI prints local paths relative to its working directory
    assert r.stdout.strip() == f"upload: {os.path.relpath(src, cli.cwd)} to s3://{BUCKET}/{key}", r.stdout
    dst = tmp_path / "down.bin"
    r = cli.run("s3", "cp", f"s3://{BUCKET}/{key}", str(dst), "--no-progress")
    assert r.stdout.strip() == f"download: s3://{BUCKET}/{key} to {os.path.relpath(dst, cli.cwd)}", r.stdout
    assert sha256(dst.read_bytes()) == sha256(data)
    head = json.loads(cli.run("s3api", "head-object", "--bucket", BUCKET, "--key", key).stdout)
    assert head["ContentLength"] == len(data)
    assert head["ETag"] == md5_etag(data)  # single part: plain MD5 ETag
    assert head["ContentType"] == "application/x-cli-cp"
    assert head["Metadata"] == {"k": "v"}


@pytest.mark.matrix("AWS CLI", "error codes")
def test_s3_cp_missing_object_fails(cli, tmp_path):
    key = unique_key("absent.bin")
    dst = tmp_path / "never.bin"
    r = cli.run("s3", "cp", f"s3://{BUCKET}/{key}", str(dst), "--no-progress", check=False)
    assert r.rc == 1, (r.rc, r.stderr)
    # aws s3 cp HEADs the source first; a missing key is a 404 there
    assert "An error occurred (404) when calling the HeadObject operation" in r.stderr, r.stderr
    assert not dst.exists()
