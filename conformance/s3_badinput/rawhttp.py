"""Raw HTTP/1.1 for the malformed-request suite: one request on a fresh socket, one response read.

``exchange`` sends a request head and body over ``socket.create_connection`` (TLS when the server
is HTTPS, trusting its ``ca_bundle``), optionally half-closes (``SHUT_WR``) or fully closes, and
reads one HTTP/1.1 response with a timeout: a hang is a test failure that says so.
"""

from __future__ import annotations

import socket
import ssl
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Dict, Optional

import pytest

from harness import LakegateServer

IO_TIMEOUT_S = 15.0


@dataclass
class RawResponse:
    status: int
    reason: str
    headers: Dict[str, str] = field(default_factory=dict)  # lower-case names
    body: bytes = b""

    def error(self) -> Dict[str, str]:
        """The children of an S3 ``<Error>`` document (tag → text)."""
        root = ET.fromstring(self.body)
        assert root.tag == "Error", f"not an S3 error document: {self.body[:300]!r}"
        return {child.tag: (child.text or "") for child in root}

    def __str__(self) -> str:
        return f"{self.status} {self.reason} {self.body[:400]!r}"


def _connect(server: LakegateServer, timeout: float) -> socket.socket:
    sock = socket.create_connection(server.host_port, timeout=timeout)
    if server.scheme != "https":
        return sock
    ctx = ssl.create_default_context(cafile=str(server.ca_bundle))
    return ctx.wrap_socket(sock, server_hostname="localhost")


def half_close(sock: socket.socket) -> None:
    """Send FIN (``SHUT_WR``) and keep reading. On TLS this bypasses ``SSLSocket.shutdown``,
    which would drop the TLS state: the peer sees a TCP FIN without close_notify."""
    socket.socket.shutdown(sock, socket.SHUT_WR)


class _Reader:
    """Buffered reads from a socket; ``None`` from ``read_response`` when the peer closed first."""

    def __init__(self, sock: socket.socket, what: str):
        self.sock, self.what, self.buf, self.eof = sock, what, b"", False

    def _more(self) -> None:
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            pytest.fail(f"gateway hung: no complete answer within {IO_TIMEOUT_S}s to {self.what}")
        except (ConnectionResetError, ssl.SSLError, BrokenPipeError):
            data = b""
        if not data:
            self.eof = True
        self.buf += data

    def until(self, sep: bytes) -> Optional[bytes]:
        while sep not in self.buf:
            if self.eof:
                return None
            self._more()
        out, self.buf = self.buf.split(sep, 1)
        return out

    def exactly(self, n: int) -> bytes:
        while len(self.buf) < n and not self.eof:
            self._more()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def rest(self) -> bytes:
        while not self.eof:
            self._more()
        out, self.buf = self.buf, b""
        return out

    def read_response(self) -> Optional[RawResponse]:
        while True:
            head = self.until(b"\r\n\r\n")
            if head is None:
                assert not self.buf.strip(), f"torn response head to {self.what}: {self.buf[:300]!r}"
                return None
            resp = _parse_head(head)
            if resp.status >= 200:
                break
        resp.body = self._body(resp)
        return resp

    def _body(self, resp: RawResponse) -> bytes:
        if resp.headers.get("transfer-encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = int((self.until(b"\r\n") or b"0").split(b";")[0], 16)
                parts.append(self.exactly(size))
                self.until(b"\r\n")
                if size == 0:
                    return b"".join(parts)
        if "content-length" in resp.headers:
            return self.exactly(int(resp.headers["content-length"]))
        return self.rest()


def _parse_head(head: bytes) -> RawResponse:
    lines = head.decode("latin-1").split("\r\n")
    _version, status, *reason = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return RawResponse(int(status), reason[0] if reason else "", headers)


def exchange(server: LakegateServer, head: bytes, body: bytes = b"", *, close: str = "",
             what: str = "") -> Optional[RawResponse]:
    """Send one request on a fresh connection and read one response (``None``: the gateway
    closed the connection without answering). ``close``: ``""`` keep the connection open,
    ``"half"`` shut down our sending side after the body, ``"full"`` close the socket after the
    body (no response is read)."""
    what = what or head.split(b"\r\n", 1)[0].decode("latin-1")
    sock = _connect(server, IO_TIMEOUT_S)
    try:
        try:
            sock.sendall(head + body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the gateway answered early and closed; its answer may still be readable
        if close == "full":
            return None
        if close == "half":
            half_close(sock)
        return _Reader(sock, what).read_response()
    finally:
        sock.close()
