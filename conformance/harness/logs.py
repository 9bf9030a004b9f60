"""The failure report's sources: every process whose output belongs in a failing test's report.

``harness.plugin``'s ``pytest_runtest_makereport`` hook appends, to the report of a failing test,
the log tail of everything listed in ``RUNNING``: each ``LakegateServer`` between ``start`` and
``stop`` (it tracks itself), and whatever else a suite ``track``s (its SeaweedFS, its OIDC
provider: any object with a ``label`` and ``log_tail(max_bytes)``, e.g. a ``LogFile``).
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Protocol, Union


class LogSource(Protocol):
    """Anything whose output tail belongs in a failing test's report."""

    @property
    def label(self) -> str: ...

    def log_tail(self, max_bytes: int = 4000) -> str: ...


RUNNING: List[LogSource] = []


def track(source: LogSource) -> None:
    """List ``source`` for the failure report (until ``untrack``)."""
    if source not in RUNNING:
        RUNNING.append(source)


def untrack(source: LogSource) -> None:
    if source in RUNNING:
        RUNNING.remove(source)


def file_tail(path: Union[str, Path], max_bytes: int = 4000) -> str:
    """The last ``max_bytes`` of a log file (a note when there is none)."""
    try:
        data = Path(path).read_bytes()
    except OSError:
        return f"(no output captured at {path})"
    return data[-max_bytes:].decode("utf-8", "replace")


class LogFile:
    """A log file of some other process (``track`` it for the failure report)."""

    def __init__(self, label: str, path: Path):
        self.label, self.path = label, Path(path)

    def log_tail(self, max_bytes: int = 4000) -> str:
        return file_tail(self.path, max_bytes)
