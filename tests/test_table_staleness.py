"""MAX_TABLE_STALENESS (core/src/rest/recent_loads.rs): a table's load serves the reads of every
connection of the database for that long, so a catalog that cannot tell an unchanged table (no
ETag, as SeaweedFS's) is not asked again per statement; this database's own commits are seen at
once, another engine's within the bound. LoadTable requests are counted at a proxy in front of the
test bed's catalog (tests/request_counter.py)."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator

import duckdb
import pyarrow as pa
import pytest

from tests.engines import floe_connection
from tests.request_counter import RequestCounter
from tests.testbed import Testbed

NAMESPACE = "staleness"


@pytest.fixture(scope="module")
def rest(testbed: Testbed) -> Iterator[RequestCounter]:
    with RequestCounter(testbed.catalog_uri) as counter:
        yield counter


@pytest.fixture()
def table(catalog) -> str:
    catalog.create_namespace_if_not_exists(NAMESPACE)
    name = f"{NAMESPACE}.t_{secrets.token_hex(4)}"
    catalog.create_table(name, schema=pa.schema([pa.field("a", pa.int64())])).append(pa.table({"a": pa.array([1], pa.int64())}))
    return name


def attach(extension: str, testbed: Testbed, rest: RequestCounter, staleness: str | None) -> duckdb.DuckDBPyConnection:
    """floe with the test bed's catalog attached through the counting proxy as `lake`."""
    con = floe_connection(extension)
    *secrets_sql, _ = testbed.duckdb_setup_sql()
    for statement in secrets_sql:
        con.execute(statement)
    option = f", MAX_TABLE_STALENESS '{staleness}'" if staleness else ""
    con.execute(f"ATTACH 'lake' AS lake (TYPE ICEBERG, ENDPOINT '{rest.endpoint}', SECRET testbed_iceberg{option})")
    return con


def loads(rest: RequestCounter, table: str, since: float) -> int:
    """LoadTable requests for `table` since `since`."""
    path = "/tables/" + table.split(".")[1]
    return sum(1 for r in rest.requests(since) if r.method == "GET" and r.path.endswith(path))


def rows(con: duckdb.DuckDBPyConnection, table: str) -> list[int]:
    return [a for (a,) in con.execute(f"SELECT a FROM lake.{table} ORDER BY a").fetchall()]


def test_reads_within_the_staleness_load_the_table_once_for_every_connection(extension, testbed, rest, table):
    every_time = attach(extension, testbed, rest, None)
    since = time.monotonic()
    for _ in range(3):
        assert rows(every_time, table) == [1]
    assert loads(rest, table, since) == 3
    every_time.close()

    con = attach(extension, testbed, rest, "1 hour")
    other = con.cursor()
    since = time.monotonic()
    for reader in (con, other, con, other):
        assert rows(reader, table) == [1]
    assert loads(rest, table, since) == 1
    other.close()
    con.close()


def test_this_databases_commits_are_seen_at_once(extension, testbed, rest, table, catalog):
    con = attach(extension, testbed, rest, "1 hour")
    other = con.cursor()
    assert rows(other, table) == [1]
    con.execute(f"INSERT INTO lake.{table} VALUES (2)")
    assert rows(other, table) == [1, 2]
    other.execute(f"DELETE FROM lake.{table} WHERE a = 1")
    assert rows(con, table) == [2]
    con.execute(f"ALTER TABLE lake.{table} ADD COLUMN b VARCHAR")
    assert other.execute(f"SELECT * FROM lake.{table}").fetchall() == [(2, None)]
    # A table dropped and created again here is the new one at once.
    con.execute(f"DROP TABLE lake.{table}")
    con.execute(f"CREATE TABLE lake.{table} AS SELECT 7 AS a")
    assert rows(other, table) == [7]
    assert sorted(catalog.load_table(table).scan().to_arrow()["a"].to_pylist()) == [7]
    other.close()
    con.close()


def test_another_engines_commit_is_seen_within_the_staleness(extension, testbed, rest, table, catalog):
    con = attach(extension, testbed, rest, "2 seconds")
    assert rows(con, table) == [1]
    catalog.load_table(table).append(pa.table({"a": pa.array([2], pa.int64())}))
    # Served by the load kept a moment ago: the bound, not a fault.
    assert rows(con, table) == [1]
    time.sleep(2.5)
    assert rows(con, table) == [1, 2]
    con.close()


def test_a_write_started_from_a_stale_version_commits_on_the_current_one(extension, testbed, rest, table, catalog):
    con = attach(extension, testbed, rest, "1 hour")
    assert rows(con, table) == [1]
    catalog.load_table(table).append(pa.table({"a": pa.array([2], pa.int64())}))
    con.execute(f"INSERT INTO lake.{table} VALUES (3)")
    assert sorted(catalog.load_table(table).scan().to_arrow()["a"].to_pylist()) == [1, 2, 3]
    # The commit made the next read load the table: the other engine's row shows too.
    assert rows(con, table) == [1, 2, 3]
    con.close()


@pytest.mark.parametrize("value", ["soon", "-5 minutes"])
def test_the_staleness_is_checked_at_attach(extension, testbed, rest, value):
    with pytest.raises(duckdb.Error, match=f"Invalid value '{value}' for MAX_TABLE_STALENESS"):
        attach(extension, testbed, rest, value)
