"""The spool's limit (``--no-presign-multipart --spool-max-bytes 6000000``): a 5 MiB part fits,
a second 5 MiB part of the same upload is refused with 503 SlowDown (seen with retries off; boto3
would retry SlowDown) and is not recorded; aborting the upload and completing another one give
the space back. (Round trips, aborts and restarts with spooled parts are in test_transfer.py,
test_abort.py and test_restart.py, parametrised over the server modes.)"""

from __future__ import annotations

from harness import random_bytes

from .support import (BRANCH_BUCKET, PART, SPOOL_MAX, complete, create, fail, fresh_s3, mpu_etag, new_rel,
                      read, status, upload_parts)


def test_spool_limit_is_slow_down(tiny_spool_server):
    assert PART < SPOOL_MAX < 2 * PART
    c = fresh_s3(tiny_spool_server, "when_supported", retries={"max_attempts": 1, "mode": "standard"})
    rel = new_rel()
    uid = create(c, BRANCH_BUCKET, rel)
    first = random_bytes(PART)
    parts = upload_parts(c, BRANCH_BUCKET, rel, uid, [first])
    assert fail(c.upload_part, Bucket=BRANCH_BUCKET, Key=rel, UploadId=uid, PartNumber=2,
                Body=random_bytes(PART)) == (503, "SlowDown")
    # the refused part is not there; the upload still completes with what it has
    listed = c.list_parts(Bucket=BRANCH_BUCKET, Key=rel, UploadId=uid)["Parts"]
    assert [(p["PartNumber"], p["Size"]) for p in listed] == [(1, PART)]
    # a small part still fits beside the first
    tail = random_bytes(SPOOL_MAX - PART - 1000)
    parts += upload_parts(c, BRANCH_BUCKET, rel, uid, [tail], first=2)
    assert fail(c.upload_part, Bucket=BRANCH_BUCKET, Key=rel, UploadId=uid, PartNumber=3,
                Body=random_bytes(2000)) == (503, "SlowDown")

    # the spool is shared: another upload's part is refused as well
    other = new_rel()
    uid2 = create(c, BRANCH_BUCKET, other)
    assert fail(c.upload_part, Bucket=BRANCH_BUCKET, Key=other, UploadId=uid2, PartNumber=1,
                Body=random_bytes(PART)) == (503, "SlowDown")
    assert status(c.abort_multipart_upload(Bucket=BRANCH_BUCKET, Key=other, UploadId=uid2)) == 204

    # Complete gives the space back too
    done = complete(c, BRANCH_BUCKET, rel, uid, parts)
    assert done["ETag"] == mpu_etag([first, tail])
    assert read(c, BRANCH_BUCKET, rel) == first + tail
    blobs = [random_bytes(PART), random_bytes(100)]
    again = new_rel()
    uid3 = create(c, BRANCH_BUCKET, again)
    parts3 = upload_parts(c, BRANCH_BUCKET, again, uid3, blobs)
    assert complete(c, BRANCH_BUCKET, again, uid3, parts3)["ETag"] == mpu_etag(blobs)
    assert read(c, BRANCH_BUCKET, again) == b"".join(blobs)

    # and Abort of an upload holding spooled bytes frees them
    uid4 = create(c, BRANCH_BUCKET, again)
    upload_parts(c, BRANCH_BUCKET, again, uid4, [random_bytes(PART)])
    assert status(c.abort_multipart_upload(Bucket=BRANCH_BUCKET, Key=again, UploadId=uid4)) == 204
    uid5 = create(c, BRANCH_BUCKET, again)
    upload_parts(c, BRANCH_BUCKET, again, uid5, [random_bytes(PART)])
    assert status(c.abort_multipart_upload(Bucket=BRANCH_BUCKET, Key=again, UploadId=uid5)) == 204
