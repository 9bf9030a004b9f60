"""Tests of ``harness/metrics_check.py``: its Prometheus text parser, the comparison with what boto3 sent,
and the botocore ``before-send`` counter (against a throwaway local HTTP server that answers one
503 SlowDown, so a retried call counts twice).

    .venv/bin/python -m pytest -q -p no:cacheprovider conformance/test_metrics_check.py
"""

from __future__ import annotations

import json
import math
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator, List, Optional

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from harness import metrics_check as mc  # noqa: E402

# --------------------------------------------------------------------------------------
# the parser
# --------------------------------------------------------------------------------------

PAGE = r'''# HELP lakegate_s3_requests S3 requests by operation and HTTP status.
# TYPE lakegate_s3_requests counter
lakegate_s3_requests_total{operation="PutObject",status="200"} 3
lakegate_s3_requests_total{operation="PutObject",status="403"} 1
lakegate_s3_requests_total{status="200",operation="GetObject"} 2.0
# TYPE lakegate_s3_request_duration_seconds histogram
lakegate_s3_request_duration_seconds_sum{operation="PutObject"} 0.012174982
lakegate_s3_request_duration_seconds_count{operation="PutObject"} 4
lakegate_s3_request_duration_seconds_bucket{le="+Inf",operation="PutObject"} 4
lakegate_s3_request_duration_seconds_count{operation="GetObject"} 2
lakegate_s3_received_bytes_total 118

odd{a="x,y}=z",b="quote \" backslash \\ newline \n end" , c = "" } -Inf 1700000000000
with_exemplar_total{x="1"} 7 # {trace_id="abc"} 1.0
nan_gauge NaN
# EOF
'''


def test_parses_names_labels_and_values():
    samples = mc.parse_prometheus(PAGE)
    assert len(samples) == 11
    first = samples[0]
    assert first == mc.Sample("lakegate_s3_requests_total", (("operation", "PutObject"), ("status", "200")), 3.0)
    assert samples[2].label("operation") == "GetObject"  # label order does not matter
    assert samples[5].label("le") == "+Inf" and samples[5].value == 4
    assert samples[7] == mc.Sample("lakegate_s3_received_bytes_total", (), 118.0)


def test_label_values_keep_escapes_commas_and_braces():
    odd = mc.parse_prometheus(PAGE)[8]
    assert odd.labels == (("a", "x,y}=z"), ("b", 'quote " backslash \\ newline \n end'), ("c", ""))
    assert odd.value == -math.inf  # the timestamp after the value is not the value


def test_exemplars_and_nan():
    samples = mc.parse_prometheus(PAGE)
    assert samples[9] == mc.Sample("with_exemplar_total", (("x", "1"),), 7.0)
    assert math.isnan(samples[10].value)


@pytest.mark.parametrize("line", [
    "no_value",
    "m{a=\"1\"}",
    "m{a=1} 3",                 # unquoted label value
    "m{a=\"1\" 3",              # unclosed label set
    "m{a=\"1\"}3",              # no space before the value
    "m 1 2 3",                  # value, timestamp and what?
    "m one",
    "{a=\"1\"} 3",              # no name
])
def test_malformed_lines_are_errors(line):
    with pytest.raises(ValueError, match="line 2"):
        mc.parse_prometheus("ok 1\n" + line + "\n")


def test_sums():
    samples = mc.parse_prometheus(PAGE)
    assert mc.sum_by(samples, mc.REQUESTS, "operation") == {"PutObject": 4.0, "GetObject": 2.0}
    assert mc.sum_by(samples, mc.DURATION_COUNT, "operation") == {"PutObject": 4.0, "GetObject": 2.0}
    assert mc.total(samples, mc.RECEIVED_BYTES) == 118
    assert mc.total(samples, mc.SENT_BYTES) == 0  # absent


# --------------------------------------------------------------------------------------
# the comparison
# --------------------------------------------------------------------------------------


def page(requests: dict, durations: dict, received: int = 10, sent: int = 10) -> List[mc.Sample]:
    """The samples of a /metrics page: requests {(operation, status): n}, durations {operation: n}."""
    lines = [f'{mc.REQUESTS}{{operation="{op}",status="{st}"}} {n}' for (op, st), n in requests.items()]
    lines += [f'{mc.DURATION_COUNT}{{operation="{op}"}} {n}' for op, n in durations.items()]
    lines += [f"{mc.RECEIVED_BYTES} {received}", f"{mc.SENT_BYTES} {sent}", f"{mc.IN_FLIGHT} 0"]
    return mc.parse_prometheus("\n".join(lines) + "\n# EOF\n")


def sent(attempts: dict, answers: Optional[dict] = None) -> mc.Sent:
    """What boto3 sent: attempts {operation: n}, answers {operation: {status: n}}."""
    return mc.Sent(attempts=attempts, answers=answers or {})


def test_agreeing_metrics_pass_and_extra_requests_are_fine():
    samples = page({("PutObject", "200"): 2, ("PutObject", "503"): 1, ("unrouted", "400"): 5},
                   {"PutObject": 3, "unrouted": 5})
    assert mc.compare(sent({"PutObject": 3}), samples) == []
    assert mc.compare(sent({"PutObject": 2}), samples) == []  # more than boto3 sent: other clients, retries


def test_shortfall_and_other_names_are_reported():
    samples = page({("PutObject", "200"): 2, ("PutBucket", "200"): 1}, {"PutObject": 2, "PutBucket": 1})
    assert mc.compare(sent({"PutObject": 3, "CreateBucket": 1}), samples) == [
        f"CreateBucket: boto3 sent 1 (0 refused), {mc.REQUESTS} counts 0",
        f"PutObject: boto3 sent 3 (0 refused), {mc.REQUESTS} counts 2",
    ]


def test_refused_attempts_may_be_counted_as_unrouted_but_only_once():
    """Refused before routing (authentication: 403; a bad part number: 400): counted as
    ``unrouted``, not under the operation boto3 sent."""
    boto = sent({"ListBuckets": 3, "UploadPart": 3},
                {"ListBuckets": {200: 1, 403: 2}, "UploadPart": {200: 1, 400: 1, 404: 1}})
    counts = {("ListBuckets", "200"): 1, ("UploadPart", "200"): 1, ("UploadPart", "404"): 1}
    durations = {"ListBuckets": 1, "UploadPart": 2, "unrouted": 3}
    assert mc.compare(boto, page({**counts, ("unrouted", "403"): 3}, durations)) == []
    assert mc.compare(boto, page({**counts, ("unrouted", "403"): 2}, {**durations, "unrouted": 2})) == [
        "3 refused attempts are counted neither under their operation nor as unrouted (2)"]
    # a shortfall beyond the refused attempts is a miscount whatever unrouted says
    boto.attempts["ListBuckets"] = 4
    boto.answers["ListBuckets"][0] = 1  # no answer (connection failed): not a refusal
    assert mc.compare(boto, page({**counts, ("unrouted", "403"): 9}, {**durations, "unrouted": 9})) == [
        f"ListBuckets: boto3 sent 4 (2 refused), {mc.REQUESTS} counts 1"]


def test_histogram_count_must_equal_requests():
    samples = page({("GetObject", "200"): 2}, {"GetObject": 1, "HeadObject": 1})
    assert mc.compare(sent({}), samples) == [
        f"GetObject: {mc.REQUESTS} 2 != {mc.DURATION_COUNT} 1",
        f"HeadObject: {mc.REQUESTS} 0 != {mc.DURATION_COUNT} 1",
    ]


def test_bytes_must_move_when_objects_did():
    samples = page({("PutObject", "200"): 1, ("GetObject", "200"): 1}, {"PutObject": 1, "GetObject": 1},
                   received=0, sent=0)
    assert mc.compare(sent({"PutObject": 1, "GetObject": 1}), samples) == [
        f"boto3 sent PutObject, {mc.RECEIVED_BYTES} is 0",
        f"boto3 sent GetObject, {mc.SENT_BYTES} is 0",
    ]
    assert mc.compare(sent({"HeadObject": 0}), samples) == []


def test_verify_waits_for_in_flight_requests_and_fails_loudly(tmp_path, monkeypatch):
    endpoint = "http://127.0.0.1:1"
    monkeypatch.setattr(mc, "SENT", mc.SentRequests())
    mc.SENT._attempts[endpoint]["GetObject"] = 2
    mc.SENT._answers[endpoint][("GetObject", 200)] = 2
    pages = iter([
        f'{mc.IN_FLIGHT} 1\n{mc.REQUESTS}{{operation="GetObject",status="200"}} 1\n'
        f'{mc.DURATION_COUNT}{{operation="GetObject"}} 1\n{mc.SENT_BYTES} 5\n',
        f'{mc.IN_FLIGHT} 0\n{mc.REQUESTS}{{operation="GetObject",status="200"}} 2\n'
        f'{mc.DURATION_COUNT}{{operation="GetObject"}} 2\n{mc.SENT_BYTES} 9\n',
    ])
    mc.verify(endpoint, lambda: next(pages), tmp_path)  # the second page, once nothing is in flight
    assert (tmp_path / "metrics.txt").read_text().startswith(f"{mc.IN_FLIGHT} 0")
    assert json.loads((tmp_path / "boto3-sent.json").read_text()) == {
        "attempts": {"GetObject": 2}, "answers": {"GetObject": {"200": 2}}}
    mc.SENT._attempts[endpoint]["GetObject"] = 3
    with pytest.raises(AssertionError, match=f"(?s){endpoint} disagree.*GetObject: boto3 sent 3"):
        mc.verify(endpoint, lambda: f'{mc.IN_FLIGHT} 0\n{mc.SENT_BYTES} 9\n', tmp_path)


# --------------------------------------------------------------------------------------
# the botocore counter
# --------------------------------------------------------------------------------------


class _SlowDownOnce(BaseHTTPRequestHandler):
    """Answers the first request with 503 SlowDown (boto3 retries it), then 200 to everything."""
    refused = threading.Event()

    def _answer(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if not self.refused.is_set():
            self.refused.set()
            body = b"<Error><Code>SlowDown</Code><Message>slow</Message></Error>"
            self.send_response(503)
        else:
            body = b""
            self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_PUT = do_HEAD = _answer

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def fake_s3() -> Iterator[str]:
    _SlowDownOnce.refused.clear()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _SlowDownOnce)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}"
    finally:
        srv.shutdown()
        srv.server_close()


def _client(endpoint: str, attempts: int):
    """A boto3 S3 client of ``endpoint`` making up to ``attempts`` attempts per call."""
    import boto3
    from botocore.config import Config

    return boto3.session.Session(aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret",
                                 region_name="us-east-1").client(
        "s3", endpoint_url=endpoint,
        config=Config(s3={"addressing_style": "path"}, retries={"total_max_attempts": attempts, "mode": "legacy"}))


def test_counts_every_attempt_per_endpoint_and_operation(fake_s3):
    counter = mc.SentRequests()
    c = counter.watch(_client(fake_s3, attempts=2))
    counter.watch(c)  # watching twice does not count twice
    c.put_object(Bucket="demo", Key="main/a", Body=b"abc")  # 503, retried: 200
    c.head_object(Bucket="demo", Key="main/a")
    got = counter.of(fake_s3)
    assert got.attempts == {"PutObject": 2, "HeadObject": 1}
    assert got.answers == {"PutObject": {503: 1, 200: 1}, "HeadObject": {200: 1}}
    assert counter.of(fake_s3 + "/") == got
    assert counter.of("http://127.0.0.1:1") == mc.Sent()
    counter.forget(fake_s3)
    assert counter.of(fake_s3) == mc.Sent()


def test_presigning_sends_nothing(fake_s3):
    counter = mc.SentRequests()
    c = counter.watch(_client(fake_s3, attempts=1))
    c.generate_presigned_url("get_object", Params={"Bucket": "demo", "Key": "main/a"})
    assert counter.of(fake_s3) == mc.Sent()
