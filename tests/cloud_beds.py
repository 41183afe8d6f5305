"""Test beds on Google Cloud Storage and Azure, both on loopback: Rustberg, a real Iceberg REST
catalog, with its warehouse on fake-gcs-server or on Azurite, behind a proxy that hands out the
emulator's storage properties in LoadTable and CreateTable answers (`config`), which is how a
vending catalog gives an engine access to a table's files.

    with GcsBed() as bed:
        location = bed.create_table("ns.t", arrow_table)   # PyIceberg, through the catalog
        con = bed.floe(extension)                          # ATTACH ... (TYPE ICEBERG, ENDPOINT, TOKEN)
        bed.files(location)                                # what the emulator holds

On Azurite, Rustberg's storage (`iceberg-storage-opendal`, opendal's `azdls` service) writes
through the DFS API, which Azurite does not serve (tests/azurite.py): its requests reach Azurite
through tests/dfs_on_blob.py, which serves those DFS writes with Blob calls, so Rustberg creates
and commits tables there as on Azure.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import re
import secrets
import shutil
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Iterator

import duckdb
import pyarrow as pa

from tests.azurite import Azurite
from tests.catalog_proxy import CatalogProxy, Rewrite
from tests.dfs_on_blob import DfsOnBlob
from tests.engines import floe_connection
from tests.gcs import FakeGcs
from tests.request_counter import RequestCounter
from tests.rustberg import Rustberg

#: Requests whose answer is a LoadTableResult: LoadTable, CreateTable, RegisterTable.
TABLE_ANSWERS = re.compile(r"^(GET /v1/.*namespaces/[^/]+/tables/[^/?]+|POST /v1/.*namespaces/[^/]+/(tables|register))(\?.*)?$")
#: How long vended credentials are valid.
CREDENTIAL_LIFETIME = datetime.timedelta(hours=1)


def vend(properties: dict[str, str]) -> Rewrite:
    """A proxy rewrite that adds `properties` to the `config` of every LoadTableResult."""

    def rewrite(method: str, path: str, status: int, body: bytes) -> bytes:
        if status != 200 or not TABLE_ANSWERS.match(f"{method} {path}"):
            return body
        answer = json.loads(body)
        answer["config"] = {**answer.get("config", {}), **properties}
        return json.dumps(answer).encode()

    return rewrite


def expires_at_ms(lifetime: datetime.timedelta) -> str:
    return str(int((time.time() + lifetime.total_seconds()) * 1000))


class CloudBed:
    """Rustberg over one emulator behind the vending proxy. Subclasses start the emulator and
    say what is vended, what PyIceberg uses and how objects are listed."""

    __test__ = False  # not a pytest test class

    def __init__(self, workdir: Path | None = None) -> None:
        self._own_dir = workdir is None
        self.dir = Path(workdir or tempfile.mkdtemp(prefix="floe-cloudbed-"))
        self.warehouse = ""
        self.catalog: Rustberg | None = None
        self.proxy: CatalogProxy | None = None
        #: The properties the proxy hands out, exactly as floe receives them.
        self.vended: dict[str, str] = {}
        #: PyIceberg's own FileIO properties (it also merges the vended ones).
        self.pyiceberg_properties: dict[str, str] = {}
        #: The bucket (GCS) or container (Azure) the warehouse is in, and which of the two it is.
        self.bucket = ""
        self.bucket_kind = ""
        self._stack = contextlib.ExitStack()

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> CloudBed:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        raise NotImplementedError

    def _serve(self, catalog: Rustberg) -> None:
        self.catalog = self._stack.enter_context(catalog)
        self.proxy = self._stack.enter_context(CatalogProxy(catalog.uri, rewrite=vend(self.vended)))

    def stop(self) -> None:
        self._stack.close()
        if self._own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> CloudBed:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- clients --------------------------------------------------------------------------------
    @property
    def catalog_uri(self) -> str:
        """The vending proxy's address: what floe and PyIceberg attach to."""
        return self.proxy.url

    @property
    def token(self) -> str:
        return self.catalog.api_key

    def floe(self, extension: str, endpoint: str | None = None) -> duckdb.DuckDBPyConnection:
        """DuckDB with floe, attached as `lake` through the vending proxy (or `endpoint`).
        Rustberg serves one warehouse and answers `/v1/config?warehouse=` only for its location
        (the REST spec lets a warehouse be named so), which goes in WAREHOUSE: DuckDB would open a
        location given as the ATTACH path read-only."""
        con = floe_connection(extension)
        # Only floe may reach the emulators' paths: no extension of DuckDB's is fetched from the
        # network or loaded for gs:// or abfs:// (they would go to the real clouds).
        con.execute("SET autoinstall_known_extensions = false")
        con.execute("SET autoload_known_extensions = false")
        con.execute(
            f"ATTACH 'rustberg' AS lake (TYPE ICEBERG, ENDPOINT '{endpoint or self.catalog_uri}', "
            f"WAREHOUSE '{self.warehouse}', TOKEN '{self.token}')"
        )
        return con

    def pyiceberg_catalog(self):  # -> pyiceberg.catalog.rest.RestCatalog
        from pyiceberg.catalog import load_catalog

        return load_catalog("rustberg", type="rest", uri=self.catalog_uri, token=self.token, **self.pyiceberg_properties)

    def pyiceberg_rows(self, identifier: str) -> list[tuple]:
        """The table's rows as PyIceberg reads them through the catalog, sorted."""
        rows = self.pyiceberg_catalog().load_table(identifier).scan().to_arrow()
        return sorted(zip(*(column.to_pylist() for column in rows.columns)))

    def load_table_config(self, identifier: str, uri: str | None = None) -> dict[str, str]:
        """`config` of the LoadTable answer from the vending proxy (or from `uri`)."""
        namespace, name = identifier.split(".")
        request = urllib.request.Request(
            f"{uri or self.catalog_uri}/v1/namespaces/{namespace}/tables/{name}",
            headers={"Authorization": f"Bearer {self.token}"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())["config"]

    def secrets(self) -> list[str]:
        """Every credential of the bed: none may appear in a message."""
        return [self.token]

    def create_table(self, identifier: str, rows: pa.Table) -> str:
        """A table holding `rows`, created and appended to by PyIceberg through the catalog; its
        location."""
        catalog = self.pyiceberg_catalog()
        catalog.create_namespace_if_not_exists(identifier.rsplit(".", 1)[0])
        table = catalog.create_table(identifier, schema=rows.schema)
        table.append(rows)
        return table.location()

    def files(self, prefix: str) -> list[str]:
        """Full URLs of the objects under `prefix`, as the emulator lists them."""
        raise NotImplementedError

    def user_secret_sql(self, name: str) -> str:
        """The CREATE SECRET a user writes for the emulator, in DuckDB's own names for its store,
        for a catalog that vends nothing."""
        raise NotImplementedError

    @contextlib.contextmanager
    def vending_an_empty_store(self) -> Iterator[CatalogProxy]:
        """A second proxy in front of the same catalog that vends the address of a second
        emulator, which accepts the same credentials but has no bucket or container at all."""
        raise NotImplementedError


class GcsBed(CloudBed):
    """fake-gcs-server with bucket `floe-<random>`; warehouse `gs://<bucket>/wh`."""

    def __init__(self, workdir: Path | None = None) -> None:
        super().__init__(workdir)
        self.bucket = "floe-" + secrets.token_hex(4)
        self.bucket_kind = "bucket"
        self.warehouse = f"gs://{self.bucket}/wh"
        self.gcs = FakeGcs(self.dir, bucket=self.bucket)

    def _start(self) -> None:
        self._stack.enter_context(self.gcs)
        self.vended = self._vended(self.gcs)
        # PyIceberg reaches GCS through pyarrow, which needs a token (with its expiry) or it
        # looks for Google's default credentials.
        self.pyiceberg_properties = dict(self.vended)
        self._serve(Rustberg(self.dir, self.warehouse, {"gcs.service.path": self.gcs.url, "gcs.no-auth": "true"}))

    @staticmethod
    def _vended(gcs: FakeGcs) -> dict[str, str]:
        # fake-gcs-server checks no token; the vended one has the shape of a real one.
        return {
            "gcs.service.host": gcs.url,
            "gcs.project-id": "floe-tests",
            "gcs.oauth2.token": "ya29.floe-" + secrets.token_urlsafe(24),
            "gcs.oauth2.token-expires-at": expires_at_ms(CREDENTIAL_LIFETIME),
        }

    def files(self, prefix: str) -> list[str]:
        return self.gcs.objects(prefix)

    def user_secret_sql(self, name: str) -> str:
        # httpfs's form: the endpoint a host and port, its scheme from USE_SSL.
        host = self.gcs.url.split("://", 1)[1]
        return f"CREATE SECRET {name} (TYPE gcs, BEARER_TOKEN '{self.vended['gcs.oauth2.token']}', ENDPOINT '{host}', USE_SSL false)"

    def secrets(self) -> list[str]:
        return [*super().secrets(), self.vended["gcs.oauth2.token"]]

    @contextlib.contextmanager
    def vending_an_empty_store(self) -> Iterator[CatalogProxy]:
        with FakeGcs(self.dir) as empty, CatalogProxy(self.catalog.uri, rewrite=vend(self._vended(empty))) as proxy:
            yield proxy


class AzureBed(CloudBed):
    """Azurite with container `floe-<random>` of a random account; warehouse
    `abfs://<container>@<account>.dfs.azurite.localhost/wh`. `catalog_storage` counts the
    requests Rustberg sends to Azurite, as it sends them (DFS writes before translation)."""

    def __init__(self, workdir: Path | None = None) -> None:
        super().__init__(workdir)
        self.bucket = "floe-" + secrets.token_hex(4)
        self.bucket_kind = "container"
        self.azurite = Azurite(self.dir, container=self.bucket)

    def _start(self) -> None:
        self._stack.enter_context(self.azurite)
        self.warehouse = self.azurite.url("wh")
        self.vended = self._vended(self.azurite)
        # adlfs (PyIceberg's FileIO for abfs://) takes Azurite's address only from a connection string.
        self.pyiceberg_properties = {"adls.connection-string": self.azurite.connection_string}
        # Rustberg's storage builds its Azure endpoint from the location's host alone, with no
        # port and no property to change it, so it reaches Azurite only as the client of an HTTP
        # proxy (HTTP_PROXY): the counting proxy records every request and sends it on unchanged
        # (Host included: Azurite takes the account from it) to DfsOnBlob, which serves the DFS
        # writes Azurite cannot (tests/dfs_on_blob.py) and forwards the rest to Azurite as is.
        self.dfs_on_blob = self._stack.enter_context(DfsOnBlob(self.azurite))
        self.catalog_storage = self._stack.enter_context(RequestCounter(self.dfs_on_blob.endpoint))
        storage = {"adls.account-name": self.azurite.account, "adls.account-key": self.azurite.key}
        self._serve(Rustberg(self.dir, self.warehouse, storage, http_proxy=self.catalog_storage.endpoint))

    def _vended(self, azurite: Azurite) -> dict[str, str]:
        # A container SAS signed with the account key, as a vending catalog signs one, keyed by
        # the account's host as Iceberg does; and where that account is served.
        host = self.azurite.account_host
        return {
            f"adls.sas-token.{host}": self.azurite.sas_token(CREDENTIAL_LIFETIME),
            f"adls.sas-token-expires-at-ms.{host}": expires_at_ms(CREDENTIAL_LIFETIME),
            "adls.blob-storage-authority": azurite.authority,
            "adls.blob-storage-scheme": "http",
            "adls.dfs-storage-authority": azurite.authority,
            "adls.dfs-storage-scheme": "http",
        }

    def files(self, prefix: str) -> list[str]:
        return self.azurite.blobs(prefix)

    def user_secret_sql(self, name: str) -> str:
        return f"CREATE SECRET {name} (TYPE azure, CONNECTION_STRING '{self.azurite.connection_string}')"

    def secrets(self) -> list[str]:
        return [*super().secrets(), self.azurite.key, self.vended[f"adls.sas-token.{self.azurite.account_host}"]]

    @contextlib.contextmanager
    def vending_an_empty_store(self) -> Iterator[CatalogProxy]:
        empty = Azurite(self.dir, account=self.azurite.account, key=self.azurite.key)
        with empty, CatalogProxy(self.catalog.uri, rewrite=vend(self._vended(empty))) as proxy:
            yield proxy
