"""LoadTable with `If-None-Match` (REST spec: an `ETag` on loadTable answers, 304 when unchanged),
against Rustberg, which tags its answers when no vended credentials are asked for (SeaweedFS's
catalog sends no ETag). Its warehouse is on the test bed's S3 (bucket `raw`); every catalog request
of floe goes through the counting proxy of tests/request_counter.py."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator

import duckdb
import pytest

from tests.engines import floe_connection
from tests.request_counter import RequestCounter
from tests.rustberg import Rustberg
from tests.testbed import Testbed


@pytest.fixture(scope="module")
def rustberg(testbed: Testbed, tmp_path_factory) -> Iterator[Rustberg]:
    storage = {
        "s3.endpoint": testbed.s3_endpoint,
        "s3.access-key-id": testbed.client_id,
        "s3.secret-access-key": testbed.client_secret,
        "s3.region": testbed.region,
        "s3.path-style-access": "true",
    }
    warehouse = f"s3://raw/rustberg-{secrets.token_hex(4)}"
    with Rustberg(tmp_path_factory.mktemp("rustberg"), warehouse, storage) as catalog:
        yield catalog


@pytest.fixture()
def requests(rustberg: Rustberg) -> Iterator[RequestCounter]:
    with RequestCounter(rustberg.uri) as counter:
        yield counter


def attach(extension: str, testbed: Testbed, rustberg: Rustberg, endpoint: str, delegation: str) -> duckdb.DuckDBPyConnection:
    con = floe_connection(extension)
    con.execute(testbed.duckdb_setup_sql()[0])  # the S3 secret
    con.execute(
        f"ATTACH 'rustberg' AS lake (TYPE ICEBERG, ENDPOINT '{endpoint}', WAREHOUSE '{rustberg.warehouse}', "
        f"TOKEN '{rustberg.api_key}', ACCESS_DELEGATION_MODE '{delegation}')"
    )
    return con


def loads(requests: RequestCounter, table: str, since: float) -> list[tuple[int, int]]:
    """Status and body size of each LoadTable of `table` since `since`."""
    return [(r.status, r.body_bytes) for r in requests.requests(since) if r.method == "GET" and r.path.endswith(f"/tables/{table}")]


def test_an_unchanged_table_is_not_sent_again_and_a_changed_one_is(extension, testbed, rustberg, requests):
    table = f"t_{secrets.token_hex(4)}"
    con = attach(extension, testbed, rustberg, requests.endpoint, "none")
    con.execute("CREATE SCHEMA IF NOT EXISTS lake.etag")
    con.execute(f"CREATE TABLE lake.etag.{table} AS SELECT 1 AS a")
    assert con.execute(f"SELECT sum(a) FROM lake.etag.{table}").fetchone() == (1,)

    since = time.monotonic()
    for _ in range(3):
        assert con.execute(f"SELECT sum(a) FROM lake.etag.{table}").fetchone() == (1,)
    unchanged = loads(requests, table, since)
    assert len(unchanged) >= 3 and all(load == (304, 0) for load in unchanged), unchanged

    # Another database commits: the next load gets the new metadata, and is tagged again.
    writer = attach(extension, testbed, rustberg, rustberg.uri, "none")
    writer.execute(f"INSERT INTO lake.etag.{table} VALUES (2)")
    writer.close()
    since = time.monotonic()
    assert con.execute(f"SELECT sum(a) FROM lake.etag.{table}").fetchone() == (3,)
    assert con.execute(f"SELECT sum(a) FROM lake.etag.{table}").fetchone() == (3,)
    changed = loads(requests, table, since)
    assert changed[0][0] == 200 and changed[0][1] > 0 and changed[-1] == (304, 0), changed

    # Its own commits too: the load after an INSERT is not answered from the older tag.
    con.execute(f"INSERT INTO lake.etag.{table} VALUES (4)")
    assert con.execute(f"SELECT sum(a) FROM lake.etag.{table}").fetchone() == (7,)
    con.close()

