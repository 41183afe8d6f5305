"""A read loads only the snapshots a branch or tag points to (LoadTable `snapshots=refs`), however
long the table's history; time travel and `iceberg_snapshots()` load the rest, as it was when the
table was loaded. On both catalogs of the test bed (both honour the parameter); every
catalog request goes through the counting proxy of tests/request_counter.py."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator

import duckdb
import pytest

from tests.both_catalogs import BOTH_CATALOGS
from tests.engines import floe_connection
from tests.request_counter import RequestCounter
from tests.testbed import Testbed

pytestmark = BOTH_CATALOGS

COMMITS = 6


def catalog_uri(catalog_bed) -> str:
    return catalog_bed.catalog_uri if isinstance(catalog_bed, Testbed) else catalog_bed.catalog.uri


@pytest.fixture()
def requests(catalog_bed) -> Iterator[RequestCounter]:
    with RequestCounter(catalog_uri(catalog_bed)) as counter:
        yield counter


def connect(extension: str, catalog_bed, endpoint: str) -> duckdb.DuckDBPyConnection:
    """floe with `lake` attached through `endpoint` instead of the catalog's own address."""
    con = floe_connection(extension)
    for statement in catalog_bed.duckdb_setup_sql():
        con.execute(statement.replace(catalog_uri(catalog_bed), endpoint))
    return con


def loads(requests: RequestCounter, table: str, since: float) -> list[str]:
    """The query string of each LoadTable of `table` since `since`."""
    return [r.query for r in requests.requests(since) if r.method == "GET" and r.path.endswith(f"/tables/{table}")]


@pytest.fixture()
def table(floe) -> str:
    """`history.t_<hex>` with COMMITS single-row commits, ids 0 .. COMMITS-1, written by `floe`."""
    name = f"history.t_{secrets.token_hex(4)}"
    floe.execute("CREATE SCHEMA IF NOT EXISTS lake.history")
    floe.execute(f"CREATE TABLE lake.{name} (id BIGINT)")
    for i in range(COMMITS):
        floe.execute(f"INSERT INTO lake.{name} VALUES ({i})")
    return name


def snapshot_ids(con: duckdb.DuckDBPyConnection, table: str) -> list[int]:
    return [row[0] for row in con.execute(f"SELECT snapshot_id FROM iceberg_snapshots('lake.{table}') ORDER BY sequence_number").fetchall()]


def test_a_read_loads_the_current_snapshot_and_time_travel_the_history(extension, catalog_bed, requests, table):
    con = connect(extension, catalog_bed, requests.endpoint)
    name = table.split(".")[1]
    since = time.monotonic()
    assert con.execute(f"SELECT count(*) FROM lake.{table}").fetchone() == (COMMITS,)
    assert loads(requests, name, since) == ["snapshots=refs"]

    since = time.monotonic()
    ids = snapshot_ids(con, table)
    assert len(ids) == COMMITS  # one per INSERT
    assert con.execute(f"SELECT count(*) FROM lake.{table} AT (VERSION => {ids[1]})").fetchone() == (2,)
    # Each statement loads the table for its reads, then the history once (`snapshots` left out:
    # the spec's default is all of them).
    assert sorted(loads(requests, name, since)) == ["", "", "snapshots=refs", "snapshots=refs"]

    con.execute("SET TimeZone = 'UTC'")
    made = con.execute(
        f"SELECT timestamp_ms FROM iceberg_snapshots('lake.{table}') WHERE snapshot_id = {ids[2]}"
    ).fetchone()[0]
    rows = con.execute(
        f"SELECT id FROM lake.{table} AT (TIMESTAMP => '{made.isoformat()}'::TIMESTAMPTZ) ORDER BY id"
    ).fetchall()
    assert rows == [(0,), (1,), (2,)]


def test_in_a_transaction_the_history_stops_at_the_version_it_read(extension, catalog_bed, requests, table, floe):
    con = connect(extension, catalog_bed, requests.endpoint)
    before = snapshot_ids(con, table)
    con.execute("BEGIN")
    assert con.execute(f"SELECT count(*) FROM lake.{table}").fetchone() == (COMMITS,)
    floe.execute(f"INSERT INTO lake.{table} VALUES (100)")  # another connection's commit
    # The transaction's table was loaded before the other commit: its history ends there.
    assert snapshot_ids(con, table) == before
    first = before[0]
    assert con.execute(f"SELECT id FROM lake.{table} AT (VERSION => {first})").fetchall() == [(0,)]
    assert con.execute(f"SELECT count(*) FROM lake.{table}").fetchone() == (COMMITS,)
    con.execute("COMMIT")
    assert len(snapshot_ids(con, table)) == len(before) + 1
