"""Planning reads each manifest and manifest list once per attached catalog: any later plan, from
any connection of the database, takes them from memory (core/src/storage/metadata_cache.rs), and
only what a new snapshot adds is fetched. Observed at the S3 server, through the counting proxy of
tests/request_counter.py in front of the test bed's S3 (its catalog vends no credentials here, so
floe reaches S3 through the DuckDB secret's endpoint: the proxy)."""

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

NAMESPACE = "metadata_cache"
#: Single-row appends by PyIceberg: one manifest each (its appends do not merge manifests).
APPENDS = 5


@pytest.fixture(scope="module")
def s3(testbed: Testbed) -> Iterator[RequestCounter]:
    with RequestCounter(testbed.s3_endpoint) as counter:
        yield counter


@pytest.fixture()
def table(catalog) -> str:
    catalog.create_namespace_if_not_exists(NAMESPACE)
    name = f"{NAMESPACE}.t_{secrets.token_hex(4)}"
    created = catalog.create_table(name, schema=pa.schema([pa.field("a", pa.int64())]))
    for a in range(1, APPENDS + 1):
        created.append(pa.table({"a": pa.array([a], pa.int64())}))
    return name


def attach(extension: str, testbed: Testbed, s3: RequestCounter, option: str = "") -> duckdb.DuckDBPyConnection:
    """floe with the test bed attached as `lake`, its S3 reached through the proxy; `option`: one
    more ATTACH option."""
    con = floe_connection(extension)
    *secrets_sql, attach_sql = testbed.duckdb_setup_sql(s3_endpoint=s3.endpoint)
    for statement in secrets_sql:
        con.execute(statement)
    con.execute(attach_sql if not option else attach_sql.removesuffix(")") + f", {option})")
    return con


def metadata_reads(s3: RequestCounter, since: float) -> list[str]:
    """The manifests and manifest lists fetched since `since` (keys ending .avro, whole GETs)."""
    return [r.path for r in s3.requests(since) if r.kind == "GET whole" and r.path.endswith(".avro")]


def plan(con: duckdb.DuckDBPyConnection, table: str, a: int) -> list[tuple]:
    return con.execute(f"SELECT a FROM lake.{table} WHERE a = {a}").fetchall()


def test_connections_of_a_database_plan_from_what_the_first_read(extension, testbed, s3, table, catalog):
    first = attach(extension, testbed, s3)
    since = time.monotonic()
    assert plan(first, table, 3) == [(3,)]
    fetched = metadata_reads(s3, since)
    # The snapshot's manifest list and one manifest per append.
    assert len(fetched) == APPENDS + 1 and len(set(fetched)) == APPENDS + 1, fetched

    second = first.cursor()
    since = time.monotonic()
    assert plan(second, table, 4) == [(4,)]
    assert plan(first, table, 2) == [(2,)]
    assert metadata_reads(s3, since) == []

    # Another writer commits: the next plan sees its row, fetching only the new manifest list and
    # the new manifest.
    catalog.load_table(table).append(pa.table({"a": pa.array([APPENDS + 1], pa.int64())}))
    since = time.monotonic()
    assert plan(second, table, APPENDS + 1) == [(APPENDS + 1,)]
    assert second.execute(f"SELECT count(*) FROM lake.{table}").fetchone() == (APPENDS + 1,)
    new = metadata_reads(s3, since)
    assert len(new) == 2 and not set(new) & set(fetched), new
    second.close()
    first.close()


@pytest.mark.parametrize("size", ["0", "1KB"])
def test_a_cache_too_small_to_hold_a_manifest_plans_right_by_reading_again(extension, testbed, s3, table, size):
    con = attach(extension, testbed, s3, f"METADATA_CACHE_SIZE '{size}'")
    for a in (1, APPENDS):
        since = time.monotonic()
        assert plan(con, table, a) == [(a,)]
        assert len(metadata_reads(s3, since)) == APPENDS + 1
    con.close()


def test_a_cache_holding_some_manifests_plans_right(extension, testbed, s3, table, catalog):
    probe = attach(extension, testbed, s3, "METADATA_CACHE_SIZE '0'")
    since = time.monotonic()
    plan(probe, table, 1)
    probe.close()
    sizes = [r.body_bytes for r in s3.requests(since) if r.kind == "GET whole" and r.path.endswith(".avro")]
    # Room for about two of the six files: the rest are fetched again, results stay exact.
    con = attach(extension, testbed, s3, f"METADATA_CACHE_SIZE '{2 * max(sizes) + 512}'")
    for round in range(3):
        for a in range(1, APPENDS + 1):
            assert plan(con, table, a) == [(a,)], round
    catalog.load_table(table).append(pa.table({"a": pa.array([7], pa.int64())}))
    assert con.execute(f"SELECT sum(a) FROM lake.{table}").fetchone() == (sum(range(1, APPENDS + 1)) + 7,)
    con.close()


def test_the_size_is_checked_at_attach(extension, testbed, s3):
    with pytest.raises(duckdb.Error, match="Invalid value 'lots' for METADATA_CACHE_SIZE"):
        attach(extension, testbed, s3, "METADATA_CACHE_SIZE 'lots'")


def test_a_transaction_plans_with_its_own_changes_not_the_kept_version(extension, testbed, s3, table):
    con = attach(extension, testbed, s3)
    assert plan(con, table, 3) == [(3,)]  # this version is planned, and kept
    con.execute("BEGIN")
    con.execute(f"ALTER TABLE lake.{table} ADD COLUMN b VARCHAR")
    con.execute(f"INSERT INTO lake.{table} VALUES (3, 'x')")
    rows = con.execute(f"SELECT a, b FROM lake.{table} WHERE a = 3 ORDER BY b NULLS FIRST").fetchall()
    assert rows == [(3, None), (3, "x")]
    con.execute("ROLLBACK")
    assert con.execute(f"SELECT * FROM lake.{table} WHERE a = 3").fetchall() == [(3,)]
    con.close()
