"""A proxy in front of the test bed's catalog: HTTPS with a certificate from a throwaway CA (to
prove floe talks TLS), failure injection (to see what floe does when the catalog fails
mid-commit), a gate that checks each caller's credentials itself (tests/sigv4_gate.py), and
answers of its own in the catalog's place (answer shapes the catalog never sends)."""

from __future__ import annotations

import http.server
import ssl
import threading
import urllib.error
import urllib.parse
import urllib.request
from email.message import Message
from pathlib import Path
from typing import Callable

import trustme

#: Decides, per request, what the proxy does: None forwards; ("after", status) forwards and
#: then answers `status`; ("instead", status) answers `status` without forwarding.
Fault = Callable[[str, str], "tuple[str, int] | None"]
#: Rewrites, per request, the upstream's answer body: (method, path, status, body) -> body.
Rewrite = Callable[[str, str, int, bytes], bytes]
#: Checks, per request, the caller's credentials: (method, URL, headers, body) -> the Authorization
#: header to send upstream ("" for none), or None to answer 403 without forwarding.
Gate = Callable[[str, str, Message, bytes], "str | None"]
#: Maps, per request, the path asked for to the upstream's path; None answers 404.
Route = Callable[[str], "str | None"]
#: Answers, per request, in the upstream's place: (method, path, body) -> (status, body), or None
#: to forward it.
Answer = Callable[[str, str, bytes], "tuple[int, bytes] | None"]

DENIED = b'{"error":{"message":"The request signature we calculated does not match the signature you provided","type":"AccessDeniedException","code":403}}'


class Recorder:
    """A gate that lets every request through as it came, and keeps it: (method, path, headers,
    body), and each one's raw query string in `queries`."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, Message, bytes]] = []
        self.queries: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, method: str, url: str, headers: Message, body: bytes) -> str | None:
        parts = urllib.parse.urlsplit(url)
        with self._lock:
            self.requests.append((method, parts.path, headers, body))
            self.queries.append(parts.query)
        return headers.get("Authorization") or ""


class CatalogProxy:
    def __init__(
        self,
        upstream: str,
        tls_dir: Path | None = None,
        fault: Fault | None = None,
        rewrite: Rewrite | None = None,
        gate: Gate | None = None,
        route: Route | None = None,
        answer: Answer | None = None,
    ) -> None:
        self.ca_file: Path | None = None
        self.fault = fault
        self.rewrite = rewrite
        self.gate = gate
        self.route = route
        self.answer = answer
        proxy = self

        class Forward(http.server.BaseHTTPRequestHandler):
            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                decision = proxy.fault(self.command, self.path) if proxy.fault else None
                if decision and decision[0] == "instead":
                    return self._answer(decision[1], b'{"error":{"message":"injected","type":"ServerError","code":502}}', None)
                authorization = self.headers.get("Authorization")
                if proxy.gate:
                    url = f"{proxy.url.split('://')[0]}://{self.headers['Host']}{self.path}"
                    authorization = proxy.gate(self.command, url, self.headers, body or b"")
                    if authorization is None:
                        return self._answer(403, DENIED, None)
                own = proxy.answer(self.command, self.path, body or b"") if proxy.answer else None
                if own is not None:
                    return self._answer(own[0], own[1], None)
                path = proxy.route(self.path) if proxy.route else self.path
                if path is None:
                    return self._answer(404, b'{"error":{"message":"no such route","type":"NotFound","code":404}}', None)
                request = urllib.request.Request(upstream + path, data=body, method=self.command)
                if authorization:
                    request.add_header("Authorization", authorization)
                for name in ("Content-Type", "X-Iceberg-Access-Delegation"):
                    if self.headers.get(name):
                        request.add_header(name, self.headers[name])
                try:
                    with urllib.request.urlopen(request, timeout=30) as response:
                        status, payload, kind = response.status, response.read(), response.headers.get("Content-Type")
                except urllib.error.HTTPError as err:
                    status, payload, kind = err.code, err.read(), err.headers.get("Content-Type")
                if proxy.rewrite:
                    payload = proxy.rewrite(self.command, self.path, status, payload)
                if decision and decision[0] == "after":
                    status, payload = decision[1], b'{"error":{"message":"injected","type":"ServerError","code":502}}'
                self._answer(status, payload, kind)

            def _answer(self, status: int, payload: bytes, kind: str | None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind or "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_DELETE = do_HEAD = _forward

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Forward)
        if tls_dir is not None:
            ca = trustme.CA()
            self.ca_file = tls_dir / "ca.pem"
            ca.cert_pem.write_to_path(str(self.ca_file))
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ca.issue_cert("localhost").configure_cert(context)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        scheme = "https" if tls_dir is not None else "http"
        self.url = f"{scheme}://localhost:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> CatalogProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
