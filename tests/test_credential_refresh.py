"""Vended storage credentials that expire while a statement runs: floe renews them from the
catalog before they expire, so a read or a write that outlives them completes.

The catalog (SeaweedFS' STS) vends keys that last CREDENTIAL_SECONDS, says so in
`s3.session-token-expires-at-ms`, and its S3 refuses them afterwards (403 InvalidAccessKeyId);
the first test proves that of the test bed with a plain S3 client. The statements are made slow
with a Python UDF under `SET threads = 1`, so their data files are opened, or uploaded, after the
keys of the statement's first LoadTable have expired. A counting proxy in front of the catalog
shows the renewals: LoadTable, or `GET .../credentials` for the table, during the statement
(SeaweedFS 4.48 answers the latter with 404, so there floe renews by loading the table again).
"""

from __future__ import annotations

import json
import secrets
import time
import urllib.request
from typing import Iterator

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from pyarrow import fs

from tests.engines import floe_connection
from tests.request_counter import RequestCounter
from tests.testbed import Testbed

#: Long enough for ATTACH, LoadTable and planning on a loaded machine, short enough that each
#: statement below outlives its first credentials three times over.
CREDENTIAL_SECONDS = 5
#: Each call of the slow UDF (one call per data chunk: one per file of the read, one per 2048
#: rows of the write) takes this long.
SECONDS_PER_CHUNK = 2.0
CHUNKS = 8
NAMESPACE = "refresh"


@pytest.fixture(scope="module")
def bed() -> Iterator[Testbed]:
    with Testbed(vending=True, credential_seconds=CREDENTIAL_SECONDS) as bed:
        bed.pyiceberg_catalog(vended_credentials=False).create_namespace(NAMESPACE)
        yield bed


@pytest.fixture(scope="module")
def catalog_requests(bed: Testbed) -> Iterator[RequestCounter]:
    """The catalog as floe sees it: every request counted."""
    with RequestCounter(bed.catalog_uri) as counter:
        yield counter


@pytest.fixture()
def con(extension: str, bed: Testbed, catalog_requests: RequestCounter) -> Iterator[duckdb.DuckDBPyConnection]:
    """floe attached through the counting proxy, with no S3 secret: only vended keys reach S3.
    One thread and a UDF `slow(x)` that returns x after SECONDS_PER_CHUNK per call."""
    con = floe_connection(extension)
    con.execute(
        f"CREATE SECRET cat (TYPE iceberg, CLIENT_ID '{bed.client_id}', CLIENT_SECRET '{bed.client_secret}', "
        f"OAUTH2_SERVER_URI '{catalog_requests.endpoint}/v1/oauth/tokens')"
    )
    con.execute(f"ATTACH '{bed.warehouse}' AS lake (TYPE ICEBERG, ENDPOINT '{catalog_requests.endpoint}', SECRET cat)")
    con.execute("SET threads = 1")

    def slow(values: pa.Array) -> pa.Array:
        time.sleep(SECONDS_PER_CHUNK)
        return values

    con.create_function("slow", slow, ["BIGINT"], "BIGINT", type="arrow")
    yield con
    con.close()


def table_loads(counter: RequestCounter, table: str, since: float) -> list[str]:
    """The answered LoadTable and loadCredentials requests for `table` since `since`."""
    base = f"/namespaces/{NAMESPACE}/tables/{table}"
    return [
        f"{r.method} {r.path}"
        for r in counter.requests(since)
        if r.method == "GET" and r.status == 200 and (r.path.endswith(base) or r.path.endswith(base + "/credentials"))
    ]


def vended_config(bed: Testbed, table: str) -> dict[str, str]:
    """LoadTable as a client asking for vended credentials gets it: the table's `config`."""
    request = urllib.request.Request(
        f"{bed.catalog_uri}/v1/{bed.warehouse}/namespaces/{NAMESPACE}/tables/{table}",
        headers={"Authorization": f"Bearer {bed.token()}", "X-Iceberg-Access-Delegation": "vended-credentials"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())["config"]


def s3_with(bed: Testbed, config: dict[str, str]) -> fs.S3FileSystem:
    return fs.S3FileSystem(
        access_key=config["s3.access-key-id"],
        secret_key=config["s3.secret-access-key"],
        session_token=config["s3.session-token"],
        endpoint_override=bed.s3_endpoint,
        scheme="http",
        region=bed.region,
    )


def read_bytes(s3: fs.S3FileSystem, path: str) -> int:
    with s3.open_input_stream(path) as stream:
        return len(stream.read())


def table_of_files(bed: Testbed, files: int, rows_per_file: int) -> tuple[str, int]:
    """A table of `files` data files (one append each, with the test bed's own keys); its name
    and the sum of its ids."""
    name = f"t_{secrets.token_hex(3)}"
    table = bed.pyiceberg_catalog(vended_credentials=False).create_table(
        f"{NAMESPACE}.{name}", schema=pa.schema([("id", pa.int64())])
    )
    for f in range(files):
        table.append(pa.table({"id": list(range(f * rows_per_file, (f + 1) * rows_per_file))}))
    return name, sum(range(files * rows_per_file))


def test_the_test_bed_vends_keys_that_s3_refuses_once_expired(bed):
    name, _ = table_of_files(bed, files=1, rows_per_file=3)
    data_file = bed.s3_files(f"s3://{bed.warehouse}/{NAMESPACE}/{name}/data")[0]

    asked = time.time()
    first = vended_config(bed, name)
    expires = int(first["s3.session-token-expires-at-ms"]) / 1000
    assert asked + CREDENTIAL_SECONDS - 1 <= expires <= time.time() + CREDENTIAL_SECONDS + 1, (asked, expires)
    assert first["s3.access-key-id"].startswith("ASIA")
    assert read_bytes(s3_with(bed, first), data_file) > 0

    time.sleep(max(0.0, expires - time.time()) + 1)
    with pytest.raises(OSError, match="ACCESS_DENIED|INVALID_ACCESS_KEY_ID"):
        read_bytes(s3_with(bed, first), data_file)
    # The object is still there for other keys: new vended ones, and the test bed's own.
    assert read_bytes(s3_with(bed, vended_config(bed, name)), data_file) > 0
    assert len(bed.s3_files(f"s3://{bed.warehouse}/{NAMESPACE}/{name}/data")) == 1


def test_a_scan_that_outlives_its_credentials_completes(bed, con, catalog_requests):
    name, total = table_of_files(bed, files=CHUNKS, rows_per_file=100)

    started = time.monotonic()
    result = con.execute(f"SELECT count(*), sum(slow(id)) FROM lake.{NAMESPACE}.{name}").fetchone()
    elapsed = time.monotonic() - started

    assert result == (CHUNKS * 100, total)
    # The files were opened one after another over three lifetimes of a credential.
    assert elapsed > 3 * CREDENTIAL_SECONDS, elapsed
    loads = table_loads(catalog_requests, name, started)
    assert len(loads) >= 2, f"the catalog saw no renewal, only {loads}; all requests: {catalog_requests.requests(started)}"


def test_a_write_whose_input_outlives_its_credentials_commits(bed, con, catalog_requests):
    name = f"ctas_{secrets.token_hex(3)}"
    rows = CHUNKS * 2048

    started = time.monotonic()
    written = con.execute(
        f"CREATE TABLE lake.{NAMESPACE}.{name} AS SELECT slow(i) AS id, 'row-' || i AS label FROM range({rows}) t(i)"
    ).fetchone()[0]
    elapsed = time.monotonic() - started

    assert written == rows
    assert elapsed > 3 * CREDENTIAL_SECONDS, elapsed
    # CTAS stages the table (POST) and gets its first keys with the answer. Until the commit the
    # table is not in the catalog, so floe renews by staging it again: a second staging POST.
    stagings = [
        r for r in catalog_requests.requests(started) if r.method == "POST" and r.path.endswith(f"/namespaces/{NAMESPACE}/tables")
    ]
    assert len(stagings) >= 2, f"no renewal; all requests: {catalog_requests.requests(started)}"
    table = bed.pyiceberg_catalog(vended_credentials=False).load_table(f"{NAMESPACE}.{name}").scan().to_arrow()
    assert table.num_rows == rows
    assert pc.sum(table.column("id")).as_py() == sum(range(rows))
    assert sorted(table.column("label").to_pylist())[:2] == ["row-0", "row-1"]
