"""Azurite (npm `azurite`, installed by the Makefile into tools/azurite/node_modules): Azure Blob
Storage on loopback, in memory, with a storage account of random name and key made for this run.

    with Azurite(tmp_path, container="lake") as azure:
        azure.url("wh/ns/t")           # abfs://lake@<account>.dfs.azurite.localhost/wh/ns/t
        azure.connection_string        # BlobEndpoint=http://127.0.0.1:<port>/<account>, the key
        azure.blobs(azure.url("wh"))

Azurite serves the Blob API only: it has no DFS (ADLS Gen2) endpoint, so a client that speaks
the DFS API (`PUT ...?resource=file`, `PATCH ...?action=append`, as opendal's `azdls` service
does) is answered 400 on every write; reads (GET, HEAD) are the same in both APIs and work.

Locations are written as on Azure (`abfs://<container>@<account>.dfs.<suffix>/<path>`) with the
suffix `azurite.localhost`: a name that only ever means this machine, so a client that ignores
the endpoint it is given fails here instead of reaching out.
"""

from __future__ import annotations

import base64
import datetime
import os
import secrets
from pathlib import Path

from tests.server_process import ServerProcess

ROOT = Path(__file__).resolve().parent.parent
#: Where `make` installs Azurite (`npm ci` in tools/azurite); FLOE_AZURITE overrides.
AZURITE_BLOB = Path(os.environ.get("FLOE_AZURITE", ROOT / "tools" / "azurite" / "node_modules" / ".bin" / "azurite-blob"))
#: The endpoint suffix of the locations (see the module's description).
HOST_SUFFIX = "azurite.localhost"


class Azurite(ServerProcess):
    """With `container`, that container is created at start. `account` and `key` default to a new
    random account; pass another instance's to get a second server that accepts its credentials."""

    name = "azurite"

    def __init__(self, workdir: Path, container: str | None = None, account: str | None = None, key: str | None = None) -> None:
        super().__init__(workdir)
        self.container = container
        self.account = account or "floe" + secrets.token_hex(6)
        self.key = key or base64.b64encode(secrets.token_bytes(64)).decode()

    # -- addresses ----------------------------------------------------------------------------
    @property
    def authority(self) -> str:
        """host:port of the Blob endpoint, path-style: the account is the first path segment."""
        return f"127.0.0.1:{self.port}"

    @property
    def blob_endpoint(self) -> str:
        return f"http://{self.authority}/{self.account}"

    @property
    def account_host(self) -> str:
        return f"{self.account}.dfs.{HOST_SUFFIX}"

    @property
    def connection_string(self) -> str:
        return (
            f"DefaultEndpointsProtocol=http;AccountName={self.account};AccountKey={self.key};"
            f"BlobEndpoint={self.blob_endpoint};"
        )

    def url(self, path: str = "", container: str | None = None) -> str:
        return f"abfs://{container or self.container}@{self.account_host}/{path}"

    # -- process ------------------------------------------------------------------------------
    def command(self) -> list[str]:
        if not AZURITE_BLOB.exists():
            raise RuntimeError(f"{AZURITE_BLOB} does not exist: run `make test-python` (it installs Azurite with npm ci)")
        return [
            str(AZURITE_BLOB),
            "--blobHost", "127.0.0.1",
            "--blobPort", str(self.port),
            "--inMemoryPersistence",
            "--extentMemoryLimit", "512",
            # Accept the headers and API versions of every client the tests use, as Azure does.
            "--loose",
            "--skipApiVersionCheck",
            "--disableTelemetry",
        ]  # fmt: skip

    def environment(self) -> dict[str, str]:
        return dict(os.environ, AZURITE_ACCOUNTS=f"{self.account}:{self.key}")

    def probe(self) -> None:
        """A request signed with this run's random account key succeeds: only our server knows it."""
        from azure.core.exceptions import AzureError, ResourceExistsError

        service = self.service()
        try:
            if self.container:
                try:
                    service.create_container(self.container)
                except ResourceExistsError:  # created by an earlier probe of this start
                    pass
            else:
                service.get_service_properties()
        except AzureError as err:
            raise OSError(str(err).splitlines()[0]) from err

    # -- clients ------------------------------------------------------------------------------
    def service(self):  # -> azure.storage.blob.BlobServiceClient
        from azure.storage.blob import BlobServiceClient

        # No retries: a server that is not up yet is probed again by the caller.
        return BlobServiceClient.from_connection_string(self.connection_string, retry_total=0, connection_timeout=2)

    def sas_token(self, lifetime: datetime.timedelta) -> str:
        """A container SAS (read, add, create, write, delete, list), as a catalog vends one."""
        from azure.storage.blob import ContainerSasPermissions, generate_container_sas

        return generate_container_sas(
            self.account,
            self.container,
            account_key=self.key,
            permission=ContainerSasPermissions(read=True, add=True, create=True, write=True, delete=True, list=True),
            expiry=datetime.datetime.now(datetime.timezone.utc) + lifetime,
        )

    def blobs(self, prefix: str) -> list[str]:
        """`abfs://` URLs of the blobs under `prefix` (an `abfs://` URL of this account)."""
        rest = prefix.removeprefix("abfs://")
        container, _, rest = rest.partition("@")
        _, _, path = rest.partition("/")
        client = self.service().get_container_client(container)
        return sorted(self.url(blob.name, container) for blob in client.list_blobs(name_starts_with=path))
