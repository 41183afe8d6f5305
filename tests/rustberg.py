"""Rustberg (crates.io `rustberg` 0.3.0, installed by the Makefile into $FLOE_CACHE/rustberg): a
real Iceberg REST catalog whose warehouse may live on S3 (the test bed's SeaweedFS), GCS (`gs://`)
or Azure (`abfs://`), here on the loopback emulators. Authentication is an API key of this run
per role of Rustberg's default Cedar policies, sent as a bearer token: `admin` may do everything,
`writer` read, list, create and update but not delete, `reader` read and list.

    with Rustberg(tmp_path, "gs://lake/wh", {"gcs.service.path": gcs.url, "gcs.no-auth": "true"}) as rb:
        rb.uri, rb.api_key, rb.api_keys["reader"]

A principal refused an action on a resource it can see gets 403 (`ForbiddenException`, "Not
permitted to <action> <resource>", no principal named); one that cannot see the resource gets the
same 404 as for a resource that does not exist (rustberg's `catalog/v1/guard.rs`).

The storage properties (Iceberg's names) configure the catalog's own FileIO, built by
`iceberg-storage-opendal`. Rustberg puts none of them into its LoadTable answers (`config` is
empty without a vending provider, and its providers call the real clouds' token services).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import tempfile
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from tests.server_process import ServerProcess

#: Where `make` installs Rustberg (`cargo install ... --root $FLOE_CACHE/rustberg`); FLOE_RUSTBERG overrides.
BINARY = Path(
    os.environ.get("FLOE_RUSTBERG")
    or Path(os.environ.get("FLOE_CACHE") or Path.home() / ".cache" / "floe") / "rustberg" / "bin" / "rustberg"
)
#: The roles of Rustberg's default policies, each given an API key.
ROLES = ("admin", "writer", "reader")
#: The variable that carries a role's API key to the server (the config file names it, never the key).
KEY_VARIABLE = "FLOE_RUSTBERG_KEY_{role}"


class Rustberg(ServerProcess):
    """`http_proxy`: every storage request of the catalog goes through this HTTP proxy (see
    AzureBed in tests/cloud_beds.py for why Azure needs one)."""

    name = "rustberg"

    def __init__(self, workdir: Path, warehouse: str, storage_properties: dict[str, str], http_proxy: str | None = None) -> None:
        super().__init__(workdir)
        self.warehouse = warehouse
        self.storage_properties = storage_properties
        self.http_proxy = http_proxy
        # Rustberg's key format: `rb_` and base64url.
        self.api_keys = {role: "rb_" + secrets.token_urlsafe(32) for role in ROLES}

    @property
    def api_key(self) -> str:
        """The admin's key."""
        return self.api_keys["admin"]

    @property
    def uri(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        if not BINARY.exists():
            raise RuntimeError(f"{BINARY} does not exist: run `make test-python` (it installs Rustberg with cargo install)")
        return [str(BINARY), "--config", str(self._write_config()), "--insecure-http"]

    def _write_config(self) -> Path:
        # A fresh catalog directory for each launch: nothing of an earlier attempt is reused.
        catalog_dir = Path(tempfile.mkdtemp(prefix="rustberg-catalog-", dir=self.dir))
        # Every storage property comes from the environment (`env:NAME`), so the file holds no secret.
        properties = "\n".join(f"{json.dumps(key)} = {json.dumps('env:' + variable)}" for key, variable in self._property_variables().items())
        # One key per role, all in one tenant: the namespaces the admin creates are the others' too.
        api_keys = "\n".join(
            f"""
[[server.auth.api_keys]]
name = "floe-{role}"
tenant = "default"
roles = ["{role}"]
key_env = "{KEY_VARIABLE.format(role=role.upper())}"
"""
            for role in ROLES
        )
        config = f"""
[server]
host = "127.0.0.1"
port = {self.port}

[server.auth]
api_key_enabled = true
{api_keys}

[tls]
enabled = false
insecure_http = true

[storage]
catalog_url = {json.dumps(catalog_dir.as_uri())}
warehouse_location = {json.dumps(self.warehouse)}

[storage.properties]
{properties}

[rate_limit]
enabled = false

[audit]
sink = "none"
"""
        path = catalog_dir / "rustberg.toml"
        path.write_text(config)
        return path

    def _property_variables(self) -> dict[str, str]:
        return {key: f"FLOE_RUSTBERG_STORAGE_{i}" for i, key in enumerate(sorted(self.storage_properties))}

    def environment(self) -> dict[str, str]:
        env = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith("RUSTBERG_") and name.lower() not in ("http_proxy", "https_proxy", "all_proxy", "no_proxy", "rust_log")
        }
        env.update({KEY_VARIABLE.format(role=role.upper()): key for role, key in self.api_keys.items()})
        env.update({variable: self.storage_properties[key] for key, variable in self._property_variables().items()})
        # Rustberg writes temporary files (a development certificate, ephemeral catalogs) under
        # TMPDIR: keep them in the test's directory.
        env["TMPDIR"] = str(self.dir)
        if self.http_proxy:
            env["HTTP_PROXY"] = self.http_proxy
        return env

    def probe(self) -> None:
        """Our API key is accepted and the catalog serves our warehouse; `/ready` has reached the
        warehouse's storage."""
        config = json.loads(self.get("/v1/config"))
        if config.get("overrides", {}).get("warehouse") != self.warehouse:
            raise ValueError(f"port {self.port} answers, but with warehouse {config.get('overrides')}, not {self.warehouse}")
        ready = json.loads(self.get("/ready"))
        if ready.get("status") != "ready":
            raise ValueError(f"not ready: {ready}")

    def get(self, path: str, headers: dict[str, str] | None = None) -> bytes:
        request = urllib.request.Request(self.uri + path, headers={"Authorization": f"Bearer {self.api_key}", **(headers or {})})
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.read()

    def send(self, method: str, path: str, body: dict) -> bytes:
        """A JSON request as the admin."""
        request = urllib.request.Request(
            self.uri + path,
            data=json.dumps(body).encode(),
            method=method,
            headers={"Authorization": f"Bearer {self.api_key}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.read()

    @contextlib.contextmanager
    def policies(self, cedar: str) -> Iterator[None]:
        """Rustberg's Cedar policy set replaced by `cedar` (which must restate the roles' own
        permits: it replaces them) while the block runs, then rolled back to the one before."""
        before = json.loads(self.get("/management/v1/policies"))["sequence"]
        self.send("PUT", "/management/v1/policies", {"source": cedar, "note": "test"})
        try:
            yield
        finally:
            self.send("POST", "/management/v1/policies/rollback", {"sequence": before, "note": "test done"})
