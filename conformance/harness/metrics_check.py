"""Cross-check of lakegate's ``/metrics`` against what boto3 sent during a test session.

The source of truth is independent of lakegate: every boto3 client the suites create is passed to
``watch()``, which registers two botocore event handlers on it, counted per S3 endpoint (the
client's ``endpoint_url``, i.e. one lakegate) and operation (botocore's name: ``PutObject``,
``ListObjectsV2``, …, the last part of the event name):

* ``before-send.s3.<Operation>``: emitted by ``Endpoint._do_get_response`` once per HTTP attempt
  (retries included: each attempt is re-created, re-signed and sent again), right before the
  request goes on the wire: the attempts. (``before-call`` fires once per API call and would miss
  retries; ``request-created`` fires per attempt too, but before signing and preparing.)
* ``response-received.s3.<Operation>``: emitted by ``Endpoint._get_response`` after each attempt,
  with the HTTP answer (or the exception when there was none): the status of each answer.

Before a session server stops, ``verify()`` scrapes its admin listener's ``/metrics`` (Prometheus /
OpenMetrics text, parsed by ``parse_prometheus``) and asserts, for that server:

* for every operation boto3 sent: ``lakegate_s3_requests_total{operation}`` summed over status >=
  the attempts boto3 sent (other clients, raw requests and lakegate's own calls only add), except
  that lakegate counts requests it refuses before routing (authentication: InvalidAccessKeyId,
  SignatureDoesNotMatch; a part number outside 1..10000, …) as operation ``unrouted`` (README,
  Operations): an operation may fall short by at most the attempts boto3 saw refused (status >=
  400), and all operations together by at most the ``unrouted`` count;
* for every operation lakegate counted: ``lakegate_s3_request_duration_seconds_count{operation}``
  equals that requests total;
* ``lakegate_s3_received_bytes_total`` > 0 when boto3 sent PutObject, and
  ``lakegate_s3_sent_bytes_total`` > 0 when it sent GetObject.

A mismatch raises ``AssertionError`` from the session fixture's teardown: pytest reports it as an
error and the run fails. The scraped page and boto3's counts are kept next to the server's log
(``metrics.txt``, ``boto3-sent.json``).

Only the standard library is needed here (the s3_tools venv has an older botocore).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Mapping, Tuple

REQUESTS = "lakegate_s3_requests_total"
DURATION_COUNT = "lakegate_s3_request_duration_seconds_count"
RECEIVED_BYTES = "lakegate_s3_received_bytes_total"
SENT_BYTES = "lakegate_s3_sent_bytes_total"
IN_FLIGHT = "lakegate_s3_requests_in_flight"

UNROUTED = "unrouted"  # lakegate's operation label for requests refused before routing

SEND_EVENT = "before-send.s3"
ANSWER_EVENT = "response-received.s3"
HANDLER_ID = "lakegate-metrics-check"
SETTLE_TIMEOUT_S = 5.0


# --------------------------------------------------------------------------------------
# Prometheus / OpenMetrics text
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """One sample line: metric name, labels (sorted ``(name, value)`` pairs) and value."""
    name: str
    labels: Tuple[Tuple[str, str], ...]
    value: float

    def label(self, name: str) -> str:
        return dict(self.labels).get(name, "")


_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*(,|(?=\}))')
_LABELS_END = re.compile(r"\s*\}")
_ESCAPES = {"\\\\": "\\", '\\"': '"', "\\n": "\n"}


def _unescape(value: str) -> str:
    return re.sub(r'\\[\\"n]', lambda m: _ESCAPES[m.group(0)], value)


def _parse_labels(text: str, pos: int, lineno: int) -> Tuple[Tuple[Tuple[str, str], ...], int]:
    """The labels of ``{…}`` starting at ``text[pos] == "{"`` → (sorted pairs, index after ``}``)."""
    pos += 1
    pairs: List[Tuple[str, str]] = []
    while True:
        close = _LABELS_END.match(text, pos)
        if close:
            return tuple(sorted(pairs)), close.end()
        m = _LABEL.match(text, pos)
        if not m:
            raise ValueError(f"line {lineno}: bad label set at column {pos + 1}: {text!r}")
        pairs.append((m.group(1), _unescape(m.group(2))))
        pos = m.end()


def _parse_value(token: str, lineno: int) -> float:
    try:
        return float(token)  # also "+Inf", "-Inf", "NaN"
    except ValueError:
        raise ValueError(f"line {lineno}: bad sample value {token!r}") from None


def parse_line(line: str, lineno: int = 1) -> Sample:
    """One sample line: ``name[{labels}] value [timestamp] [# exemplar]``."""
    m = _NAME.match(line)
    if not m:
        raise ValueError(f"line {lineno}: no metric name: {line!r}")
    labels: Tuple[Tuple[str, str], ...] = ()
    pos = m.end()
    if line[pos:pos + 1] == "{":
        labels, pos = _parse_labels(line, pos, lineno)
    rest = line[pos:].split(" # ", 1)[0].split()
    if not 1 <= len(rest) <= 2 or (line[pos:pos + 1] not in (" ", "\t")):
        raise ValueError(f"line {lineno}: want 'name[{{labels}}] value [timestamp]': {line!r}")
    return Sample(m.group(0), labels, _parse_value(rest[0], lineno))


def parse_prometheus(text: str) -> List[Sample]:
    """Every sample of a Prometheus text (0.0.4) or OpenMetrics exposition; ``#`` lines (HELP,
    TYPE, UNIT, EOF) and blank lines are skipped. Raises ``ValueError`` on a malformed line."""
    return [parse_line(line, n) for n, line in enumerate(text.splitlines(), start=1)
            if line.strip() and not line.startswith("#")]


def sum_by(samples: Iterable[Sample], name: str, label: str) -> Dict[str, float]:
    """``{label value: sum of the samples of metric name}`` (other labels summed over)."""
    out: Dict[str, float] = defaultdict(float)
    for s in samples:
        if s.name == name:
            out[s.label(label)] += s.value
    return dict(out)


def total(samples: Iterable[Sample], name: str) -> float:
    """The sum of every sample of metric ``name`` (0 when absent)."""
    return sum(s.value for s in samples if s.name == name)


# --------------------------------------------------------------------------------------
# what boto3 sent
# --------------------------------------------------------------------------------------


@dataclass
class Sent:
    """What boto3 sent one endpoint: attempts per operation (``before-send``), and per operation
    how many of them lakegate answered with each HTTP status (``response-received``; 0: none)."""
    attempts: Dict[str, int] = field(default_factory=dict)
    answers: Dict[str, Dict[int, int]] = field(default_factory=dict)

    def refused(self, operation: str) -> int:
        """Attempts of ``operation`` answered with an error status (400 and above)."""
        return sum(n for status, n in self.answers.get(operation, {}).items() if status >= 400)

    def to_json(self) -> str:
        return json.dumps({"attempts": self.attempts, "answers": self.answers}, indent=1, sort_keys=True) + "\n"


class SentRequests:
    """HTTP attempts boto3 sent and the statuses it got, per S3 endpoint and operation."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # the transfer manager sends from threads
        self._attempts: Dict[str, Counter] = defaultdict(Counter)
        self._answers: Dict[str, Counter] = defaultdict(Counter)

    def watch(self, client):
        """Count every attempt ``client`` (a boto3/botocore S3 client) sends to its endpoint, and the
        status of each answer; returns ``client``. Watching a client twice counts once."""
        endpoint = client.meta.endpoint_url.rstrip("/")
        events = client.meta.events
        events.register(SEND_EVENT, partial(self._on_send, endpoint), unique_id=f"{HANDLER_ID}-send")
        events.register(ANSWER_EVENT, partial(self._on_answer, endpoint), unique_id=f"{HANDLER_ID}-answer")
        return client

    def _on_send(self, endpoint: str, event_name: str, **_) -> None:
        """``before-send.s3.<Operation>``: one attempt. Returns None: the request goes out as usual."""
        with self._lock:
            self._attempts[endpoint][_operation(event_name)] += 1

    def _on_answer(self, endpoint: str, event_name: str, response_dict=None, **_) -> None:
        """``response-received.s3.<Operation>``: the answer to one attempt (None: no answer)."""
        status = response_dict["status_code"] if response_dict else 0
        with self._lock:
            self._answers[endpoint][(_operation(event_name), status)] += 1

    def forget(self, endpoint: str) -> None:
        """Drop the counts of ``endpoint`` (a new server on a port an earlier one used)."""
        with self._lock:
            self._attempts.pop(endpoint.rstrip("/"), None)
            self._answers.pop(endpoint.rstrip("/"), None)

    def of(self, endpoint: str) -> Sent:
        """What boto3 sent ``endpoint`` so far."""
        endpoint = endpoint.rstrip("/")
        sent = Sent()
        with self._lock:
            sent.attempts = dict(self._attempts.get(endpoint, {}))
            for (op, status), n in self._answers.get(endpoint, {}).items():
                sent.answers.setdefault(op, {})[status] = n
        return sent


def _operation(event_name: str) -> str:
    """``PutObject`` of ``before-send.s3.PutObject``."""
    return event_name.rsplit(".", 1)[-1]


SENT = SentRequests()
watch = SENT.watch


# --------------------------------------------------------------------------------------
# the comparison
# --------------------------------------------------------------------------------------


def _requests_problems(sent: Sent, counted: Mapping[str, float]) -> List[str]:
    """Operations lakegate counted fewer times than boto3 sent them. An attempt refused with an
    error status may have been refused before routing (authentication, a bad part number, …) and
    counted as ``unrouted`` instead: each operation may fall short by at most its refused attempts,
    and all together by at most ``unrouted``."""
    problems, short_total = [], 0.0
    for op, n in sorted(sent.attempts.items()):
        short, refused = n - counted.get(op, 0), sent.refused(op)
        if short > refused:
            problems.append(f"{op}: boto3 sent {n} ({refused} refused), {REQUESTS} counts {counted.get(op, 0):g}")
        short_total += max(min(short, refused), 0)
    if short_total > counted.get(UNROUTED, 0):
        problems.append(f"{short_total:g} refused attempts are counted neither under their operation "
                        f"nor as {UNROUTED} ({counted.get(UNROUTED, 0):g})")
    return problems


def compare(sent: Sent, samples: List[Sample]) -> List[str]:
    """What ``/metrics`` gets wrong about what boto3 ``sent``; empty when nothing."""
    counted = sum_by(samples, REQUESTS, "operation")
    durations = sum_by(samples, DURATION_COUNT, "operation")
    problems = _requests_problems(sent, counted)
    for op in sorted(set(counted) | set(durations)):
        if counted.get(op, 0) != durations.get(op, 0):
            problems.append(f"{op}: {REQUESTS} {counted.get(op, 0):g} != {DURATION_COUNT} {durations.get(op, 0):g}")
    if sent.attempts.get("PutObject") and total(samples, RECEIVED_BYTES) <= 0:
        problems.append(f"boto3 sent PutObject, {RECEIVED_BYTES} is {total(samples, RECEIVED_BYTES):g}")
    if sent.attempts.get("GetObject") and total(samples, SENT_BYTES) <= 0:
        problems.append(f"boto3 sent GetObject, {SENT_BYTES} is {total(samples, SENT_BYTES):g}")
    return problems


def settled_page(scrape: Callable[[], str], timeout: float = SETTLE_TIMEOUT_S) -> str:
    """``scrape()`` once no S3 request is in flight (or after ``timeout``): lakegate counts a
    request (total and duration together) when its answer's head is ready, and holds it in flight
    until the answer's body is sent, so then every request is counted."""
    deadline = time.monotonic() + timeout
    while True:
        page = scrape()
        if total(parse_prometheus(page), IN_FLIGHT) == 0 or time.monotonic() > deadline:
            return page
        time.sleep(0.1)


def verify(s3_endpoint: str, scrape: Callable[[], str], keep_dir: Path) -> None:
    """Assert that the ``/metrics`` page ``scrape()`` returns agrees with what boto3 sent to
    ``s3_endpoint``; keeps the page and boto3's counts in ``keep_dir``."""
    sent = SENT.of(s3_endpoint)
    page = settled_page(scrape)
    (keep_dir / "boto3-sent.json").write_text(sent.to_json())
    (keep_dir / "metrics.txt").write_text(page)
    problems = compare(sent, parse_prometheus(page))
    assert not problems, (
        f"lakegate /metrics of {s3_endpoint} disagree with the requests boto3 sent it "
        f"(boto3's counts: {keep_dir / 'boto3-sent.json'}, the page: {keep_dir / 'metrics.txt'}):\n  "
        + "\n  ".join(problems))
