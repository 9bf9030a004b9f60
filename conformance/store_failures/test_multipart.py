"""Multipart uploads against a failing or refusing object store: UploadPart with the store down is
a retryable 503 with Retry-After; a CompleteMultipartUpload the store refuses (a part below 5 MiB
that is not the last: SeaweedFS 4.48 enforces the minimum, as AWS does; a wrong part ETag) is the
store's 400, relayed with its code and sent exactly once by boto3's default retries."""

from __future__ import annotations

import os

import pytest

from harness import BUCKET, KiB, MiB

from .support import Attempts, absent, assert_unavailable, client_error, gateway_client, new_key, one_attempt


def test_upload_part_with_store_down_is_503_then_retry_and_complete_succeed(gateway, store):
    key = new_key("mpu-down.bin")
    part1, part2 = os.urandom(5 * MiB), os.urandom(3 * KiB)
    s3 = one_attempt(gateway)
    upload_id = s3.create_multipart_upload(Bucket=BUCKET, Key=key)["UploadId"]
    etag1 = s3.upload_part(Bucket=BUCKET, Key=key, UploadId=upload_id, PartNumber=1, Body=part1)["ETag"]
    store.kill()

    e = client_error(lambda: s3.upload_part(Bucket=BUCKET, Key=key, UploadId=upload_id, PartNumber=2, Body=part2))
    meta = e.response["ResponseMetadata"]
    assert_unavailable(meta["HTTPStatusCode"], e.response["Error"].get("Code"), meta["HTTPHeaders"],
                       "UploadPart with the store down")
    assert absent(gateway, key) is None

    # the same UploadPart with boto3's default retries: the store is back before the retry
    s3d = gateway_client(gateway)
    attempts = Attempts(s3d, "UploadPart", before_retry=store.start)
    etag2 = s3d.upload_part(Bucket=BUCKET, Key=key, UploadId=upload_id, PartNumber=2, Body=part2)["ETag"]
    assert attempts.statuses == [503, 200], attempts.answers
    s3d.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload_id, MultipartUpload={"Parts": [
        {"PartNumber": 1, "ETag": etag1}, {"PartNumber": 2, "ETag": etag2}]})
    assert s3d.get_object(Bucket=BUCKET, Key=key)["Body"].read() == part1 + part2


WRONG_ETAG = '"0123456789abcdef0123456789abcdef"'


@pytest.mark.parametrize("code", ["EntityTooSmall", "InvalidPart"])
def test_complete_refused_by_store_is_400_sent_once(gateway, code):
    key = new_key(f"{code}.bin")
    s3 = gateway_client(gateway)  # boto3's default retries: a 400 must not be retried
    upload_id = s3.create_multipart_upload(Bucket=BUCKET, Key=key)["UploadId"]
    small1, small2 = os.urandom(1 * KiB), os.urandom(2 * KiB)
    etag1 = s3.upload_part(Bucket=BUCKET, Key=key, UploadId=upload_id, PartNumber=1, Body=small1)["ETag"]
    if code == "EntityTooSmall":  # 1 KiB part 1 of 2
        etag2 = s3.upload_part(Bucket=BUCKET, Key=key, UploadId=upload_id, PartNumber=2, Body=small2)["ETag"]
        parts = [{"PartNumber": 1, "ETag": etag1}, {"PartNumber": 2, "ETag": etag2}]
    else:  # one (last, so any size) part named with an ETag it does not have
        parts = [{"PartNumber": 1, "ETag": WRONG_ETAG}]

    attempts = Attempts(s3, "CompleteMultipartUpload")
    e = client_error(lambda: s3.complete_multipart_upload(
        Bucket=BUCKET, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}))
    assert (e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"].get("Code")) == (400, code), \
        e.response
    assert attempts.sent == 1, f"boto3 sent CompleteMultipartUpload {attempts.sent} times: {attempts.answers}"
    assert absent(gateway, key) is None

    # the upload is still there: fixed, it completes
    if code == "EntityTooSmall":
        big1 = os.urandom(5 * MiB)
        parts[0]["ETag"] = s3.upload_part(Bucket=BUCKET, Key=key, UploadId=upload_id, PartNumber=1,
                                          Body=big1)["ETag"]
        want = big1 + small2
    else:
        parts[0]["ETag"] = etag1
        want = small1
    s3.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts})
    assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == want


def test_complete_refused_by_the_store_itself_is_relayed(start_gateway, tmp_path):
    """The same two refusals decided by SeaweedFS, not by lakegate: lakegate refuses a Complete
    itself when its upload registry knows the parts; a replica (or a restart) without that record
    — here ``lakegate dev`` restarted on the same data with a fresh ``--state-dir`` and the same
    ``--upload-id-key-file`` — passes the Complete to lakeFS, whose store answers it."""
    key_file = tmp_path / "upload-id.key"
    key_file.write_text(os.urandom(24).hex())
    first = start_gateway(["--state-dir", str(tmp_path / "state-1"), "--upload-id-key-file", str(key_file)])
    s3 = gateway_client(first)
    uploads = {}
    for code in ("EntityTooSmall", "InvalidPart"):
        key = new_key(f"store-{code}.bin")
        uid = s3.create_multipart_upload(Bucket=BUCKET, Key=key)["UploadId"]
        bodies = [os.urandom(1 * KiB), os.urandom(2 * KiB)][: 2 if code == "EntityTooSmall" else 1]
        etags = [s3.upload_part(Bucket=BUCKET, Key=key, UploadId=uid, PartNumber=n, Body=b)["ETag"]
                 for n, b in enumerate(bodies, 1)]
        uploads[code] = (key, uid, bodies, etags)
    first.stop()

    second = start_gateway(["--state-dir", str(tmp_path / "state-2"), "--upload-id-key-file", str(key_file)],
                           data_dir=first.data_dir)
    s3 = gateway_client(second)
    for code, (key, uid, bodies, etags) in uploads.items():
        # this gateway has no record of the upload (so it cannot judge the parts itself)
        unknown = client_error(lambda: s3.list_parts(Bucket=BUCKET, Key=key, UploadId=uid))
        assert unknown.response["Error"]["Code"] == "NoSuchUpload", unknown.response
        parts = [{"PartNumber": n, "ETag": e} for n, e in enumerate(etags, 1)]
        if code == "InvalidPart":
            parts[0]["ETag"] = WRONG_ETAG
        attempts = Attempts(s3, "CompleteMultipartUpload")
        e = client_error(lambda: s3.complete_multipart_upload(
            Bucket=BUCKET, Key=key, UploadId=uid, MultipartUpload={"Parts": parts}))
        assert (e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"].get("Code")) == (400, code), \
            e.response
        assert attempts.sent == 1, f"boto3 sent CompleteMultipartUpload {attempts.sent} times: {attempts.answers}"
        assert absent(second, key) is None

        # the upload is still there: fixed, it completes
        if code == "EntityTooSmall":
            bodies[0] = os.urandom(5 * MiB)
            parts[0]["ETag"] = s3.upload_part(Bucket=BUCKET, Key=key, UploadId=uid, PartNumber=1,
                                              Body=bodies[0])["ETag"]
        else:
            parts[0]["ETag"] = etags[0]
        s3.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=uid, MultipartUpload={"Parts": parts})
        assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == b"".join(bodies)
