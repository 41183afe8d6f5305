"""ADLS Gen2 DFS writes served on Azurite's Blob API, for Rustberg: an HTTP server on loopback
between Rustberg's storage and Azurite that answers the few DFS calls Rustberg writes and deletes
files with by making the Blob calls that have the same effect, and forwards every other request
unchanged.

    with DfsOnBlob(azurite) as dfs:
        dfs.endpoint   # http://127.0.0.1:<port>, the upstream of Rustberg's HTTP proxy

Why: Azurite has no DFS endpoint (Azure/Azurite issue #409), and Rustberg's storage (opendal's
`azdls` service) writes through the DFS API only, which Azurite answers 400. The translated calls
are the ones Rustberg makes (its metadata files are written by opendal's azdls writer, in this
order, and a purge deletes file by file):

    PUT    <path>?resource=file                       Path - Create: an empty block blob, in
                                                      place of any blob there, as on DFS
    PATCH  <path>?action=append&position=<n>  <bytes> Path - Update (append): the bytes are held
                                                      here, by position, uncommitted as on DFS
    PATCH  <path>?action=flush&position=<size>        Path - Update (flush): one Put Blob of the
                                                      held bytes 0..size
    DELETE <path>                                     Path - Delete: Delete Blob, answered 200 as
                                                      DFS does (Blob answers 202, which opendal
                                                      takes for a failure)

Reads (GET) are the same request in both APIs and go through as they came, with the signature
Rustberg made, as does any call not listed. A translated call is a different request, which that
signature does not cover, so its Blob calls are signed here with the account's key (SharedKey,
azure-storage-blob); the signature of a translated call is not checked (that of every read, which
Azurite checks, is made with the same key by the same client).
"""

from __future__ import annotations

import http.client
import http.server
import json
import threading
import urllib.parse

from azure.core.exceptions import HttpResponseError

from tests.azurite import Azurite

#: Headers of an upstream answer that describe its connection or its framing, not its content:
#: this server frames what it forwards itself.
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding"}


class DfsOnBlob:
    """Serves DFS writes for the account of `azurite` (the only one Rustberg's storage uses)."""

    def __init__(self, azurite: Azurite) -> None:
        self._azurite = azurite
        self._lock = threading.Lock()
        #: Appended bytes not flushed yet: (container, blob) -> {position: bytes}.
        self._uncommitted: dict[tuple[str, str], dict[int, bytes]] = {}
        self._service = azurite.service()
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.endpoint = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="dfs-on-blob", daemon=True)

    def __enter__(self) -> DfsOnBlob:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        dfs = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the client's connections are

            def _serve(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                target = urllib.parse.urlsplit(self.path)
                query = urllib.parse.parse_qs(target.query)
                container, _, blob = urllib.parse.unquote(target.path).lstrip("/").partition("/")
                call = (self.command, query.get("resource", query.get("action", [""]))[0])
                try:
                    # Rustberg's creates carry no condition (If-None-Match); one that does is
                    # not translated.
                    if call == ("PUT", "file") and "If-None-Match" not in self.headers:
                        self._answer(201, dfs._create(container, blob))
                    elif call == ("PATCH", "append"):
                        dfs._append(container, blob, int(query["position"][0]), body)
                        self._answer(202, {})
                    elif call == ("PATCH", "flush"):
                        self._answer(200, dfs._flush(container, blob, int(query["position"][0])))
                    elif self.command == "DELETE" and not target.query:
                        dfs._blob(container, blob).delete_blob()
                        self._answer(200, {})
                    else:
                        self._pass_through(body)
                except HttpResponseError as err:
                    self._answer(err.status_code or 500, {}, {"code": err.error_code, "message": str(err).splitlines()[0]})
                except FlushPositionError as err:
                    self._answer(400, {}, {"code": "InvalidFlushPosition", "message": str(err)})

            def _answer(self, status: int, headers: dict[str, str], error: dict[str, str] | None = None) -> None:
                payload = json.dumps({"error": error}).encode() if error else b""
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                if error:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def _pass_through(self, body: bytes) -> None:
                """The request as it came (Host and signature included); the answer as it came."""
                upstream = http.client.HTTPConnection("127.0.0.1", dfs._azurite.port, timeout=120)
                try:
                    upstream.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
                    for name, value in self.headers.items():
                        upstream.putheader(name, value)
                    upstream.endheaders(body or None)
                    answer = upstream.getresponse()
                    payload = answer.read()
                finally:
                    upstream.close()
                self.send_response_only(answer.status, answer.reason)
                for name, value in answer.getheaders():
                    if name.lower() not in HOP_BY_HOP and not (name.lower() == "content-length" and self.command != "HEAD"):
                        self.send_header(name, value)
                if self.command != "HEAD":
                    self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            do_GET = do_HEAD = do_PUT = do_PATCH = do_POST = do_DELETE = _serve

            def log_message(self, *args: object) -> None:
                pass

        return Handler

    def _blob(self, container: str, blob: str):  # -> azure.storage.blob.BlobClient
        return self._service.get_blob_client(container, blob)

    def _create(self, container: str, blob: str) -> dict[str, str]:
        with self._lock:
            self._uncommitted[(container, blob)] = {}
        return _stored(self._blob(container, blob).upload_blob(b"", overwrite=True))

    def _append(self, container: str, blob: str, position: int, data: bytes) -> None:
        with self._lock:
            self._uncommitted.setdefault((container, blob), {})[position] = data

    def _flush(self, container: str, blob: str, size: int) -> dict[str, str]:
        with self._lock:
            parts = self._uncommitted.pop((container, blob), {})
        end = 0
        for position in sorted(parts):
            if position != end:
                break
            end += len(parts[position])
        if end != size or end != sum(map(len, parts.values())):
            raise FlushPositionError(f"flush of {container}/{blob} at {size}, but the bytes appended are at {sorted(parts)}")
        data = b"".join(parts[position] for position in sorted(parts))
        return _stored(self._blob(container, blob).upload_blob(data, overwrite=True))


class FlushPositionError(ValueError):
    """A flush whose position is not the end of the bytes appended from position 0 on."""


def _stored(result: dict) -> dict[str, str]:
    """The ETag and Last-Modified headers of a Put Blob answer, as DFS sends them with its own."""
    return {"ETag": result["etag"], "Last-Modified": result["last_modified"].strftime("%a, %d %b %Y %H:%M:%S GMT")}
