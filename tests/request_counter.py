"""A counting pass-through HTTP proxy on loopback: put it in front of the test bed's S3 or catalog
port and every request is forwarded byte for byte and recorded (method, path, Range, status,
bytes, time).

    with RequestCounter(bed.s3_endpoint) as s3:
        ...  # point a client at s3.endpoint
        s3.requests()

Bytes are forwarded unchanged, Host header included, so S3 signatures made for the proxy's
address still verify upstream (SeaweedFS checks them against the Host it receives). HTTP/1.1
keep-alive connections are followed request by request; the message boundaries come from
Content-Length, chunked transfer coding, and the rule that HEAD, 1xx, 204 and 304 answers have
no body. A thread serves each client connection with its own upstream connection.
"""

from __future__ import annotations

import collections
import socket
import socketserver
import threading
import time
import urllib.parse
from dataclasses import dataclass
from typing import BinaryIO, Callable


@dataclass(frozen=True)
class Request:
    """One request as it went through the proxy."""

    method: str
    path: str
    query: str
    #: The Range header as sent, e.g. "bytes=0-1023"; None for a request of the whole object.
    range: str | None
    status: int
    #: Bytes of the answer's body (after the head), as forwarded to the client.
    body_bytes: int
    #: time.monotonic() when the request's head arrived.
    at: float

    @property
    def kind(self) -> str:
        """The method, with GETs told apart by whether they asked for a byte range."""
        if self.method == "GET" and "uploads" not in self.query and "list-type" not in self.query:
            return "GET range" if self.range else "GET whole"
        return self.method


class RequestCounter:
    """A loopback proxy to `upstream` (an http:// URL) that records each request it forwards."""

    def __init__(self, upstream: str) -> None:
        parsed = urllib.parse.urlsplit(upstream)
        if parsed.scheme != "http" or not parsed.hostname or not parsed.port:
            raise ValueError(f"RequestCounter forwards plain HTTP to host:port; got upstream {upstream!r}")
        self._upstream = (parsed.hostname, parsed.port)
        self._lock = threading.Lock()
        self._requests: list[Request] = []
        counter = self

        class Connection(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                with socket.create_connection(counter._upstream, timeout=120) as upstream:
                    upstream_in = upstream.makefile("rb")
                    upstream_out = upstream.makefile("wb")
                    while _forward_one(self.rfile, upstream_out, upstream_in, self.wfile, counter._record):
                        pass

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Connection)
        self._server.daemon_threads = True
        self.host = f"127.0.0.1:{self._server.server_address[1]}"
        self.endpoint = f"http://{self.host}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="request-counter", daemon=True)

    def __enter__(self) -> RequestCounter:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _record(self, request: Request) -> None:
        with self._lock:
            self._requests.append(request)

    def requests(self, since: float = 0.0) -> list[Request]:
        """The requests forwarded so far (those whose head arrived at or after `since`, a
        time.monotonic() value), in the order they were answered."""
        with self._lock:
            return [r for r in self._requests if r.at >= since]

    def counts(self, since: float = 0.0) -> dict[str, int]:
        """Requests per kind ("GET range", "HEAD", "PUT", ...)."""
        return dict(collections.Counter(r.kind for r in self.requests(since)))


def _forward_one(client_in: BinaryIO, upstream_out: BinaryIO, upstream_in: BinaryIO, client_out: BinaryIO, record: Callable[[Request], None]) -> bool:
    """Forwards one request and its answer; False when the connection is over."""
    try:
        head = _read_head(client_in)
        if head is None:
            return False
        at = time.monotonic()
        method, target, _ = head[0].split(" ", 2)
        headers = _headers(head)
        _write_head(upstream_out, head)
        expects_continue = headers.get("expect", "").lower() == "100-continue"
        if not expects_continue:
            _copy_body(client_in, upstream_out, headers)
        upstream_out.flush()
        while True:
            answer = _read_head(upstream_in)
            if answer is None:
                return False
            status = int(answer[0].split(" ", 2)[1])
            _write_head(client_out, answer)
            client_out.flush()
            if status >= 200:
                break
            if status == 100 and expects_continue:
                _copy_body(client_in, upstream_out, headers)
                upstream_out.flush()
                expects_continue = False
        answer_headers = _headers(answer)
        if method == "HEAD" or status in (204, 304):
            body_bytes = 0
        elif "content-length" in answer_headers or "chunked" in answer_headers.get("transfer-encoding", ""):
            body_bytes = _copy_body(upstream_in, client_out, answer_headers)
        else:
            body_bytes = _copy_until_closed(upstream_in, client_out)
        client_out.flush()
        path, _, query = target.partition("?")
        record(Request(method, urllib.parse.unquote(path), query, headers.get("range"), status, body_bytes, at))
        # A body the client held back for a 100 that never came would be read as the next request.
        keep_alive = not expects_continue and "close" not in answer_headers.get("connection", "").lower()
        return keep_alive and "close" not in headers.get("connection", "").lower()
    except (OSError, ValueError):
        return False


def _read_head(stream: BinaryIO) -> list[str] | None:
    """The start line and header lines of a message, or None at the end of the connection."""
    lines: list[str] = []
    while True:
        line = stream.readline(65537)
        if not line:
            return None
        if line in (b"\r\n", b"\n"):
            if lines:
                return lines
            continue
        lines.append(line.decode("latin-1").rstrip("\r\n"))


def _headers(head: list[str]) -> dict[str, str]:
    pairs = (line.split(":", 1) for line in head[1:] if ":" in line)
    return {name.strip().lower(): value.strip() for name, value in pairs}


def _write_head(stream: BinaryIO, head: list[str]) -> None:
    stream.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))


def _copy_body(source: BinaryIO, target: BinaryIO, headers: dict[str, str]) -> int:
    """Copies a message body delimited by Content-Length or chunked coding; returns its size on
    the wire."""
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return _copy_chunked(source, target)
    return _copy_exactly(source, target, int(headers.get("content-length", "0")))


def _copy_exactly(source: BinaryIO, target: BinaryIO, size: int) -> int:
    left = size
    while left:
        block = source.read(min(left, 1 << 20))
        if not block:
            raise ValueError(f"connection closed {left} bytes before the end of a body")
        target.write(block)
        left -= len(block)
    return size


def _copy_chunked(source: BinaryIO, target: BinaryIO) -> int:
    copied = 0
    while True:
        line = source.readline(65537)
        target.write(line)
        size = int(line.split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            while (trailer := source.readline(65537)) not in (b"\r\n", b"\n", b""):
                target.write(trailer)
            target.write(b"\r\n")
            return copied
        copied += _copy_exactly(source, target, size + 2) - 2


def _copy_until_closed(source: BinaryIO, target: BinaryIO) -> int:
    copied = 0
    while block := source.read(1 << 16):
        target.write(block)
        copied += len(block)
    return copied
