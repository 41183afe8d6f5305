"""A query repeated in a warm database reads its data from memory: the ranges of data and delete
files DuckDB's Parquet reader fetched once are kept per attached catalog
(core/src/storage/data_cache.rs), and Iceberg never rewrites a file in place, so nothing is
validated. Observed at the S3 server through the counting proxy (tests/request_counter.py), as in
tests/test_metadata_cache.py."""

from __future__ import annotations

import secrets
import time

import duckdb
import pyarrow as pa
import pytest

from tests.request_counter import RequestCounter
from tests.test_metadata_cache import attach, s3  # noqa: F401  (s3: the module's proxy fixture)

NAMESPACE = "data_cache"


def data_reads(s3: RequestCounter, since: float) -> list[str]:
    """The data and delete files read by range since `since`."""
    return [r.path for r in s3.requests(since) if r.kind == "GET range" and r.path.endswith(".parquet")]


@pytest.fixture()
def table(catalog) -> str:
    catalog.create_namespace_if_not_exists(NAMESPACE)
    name = f"{NAMESPACE}.t_{secrets.token_hex(4)}"
    created = catalog.create_table(name, schema=pa.schema([pa.field("a", pa.int64()), pa.field("b", pa.string())]))
    created.append(pa.table({"a": pa.array(range(1000), pa.int64()), "b": [f"b{i}" for i in range(1000)]}))
    return name


def query(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple]:
    return con.execute(f"SELECT a, b FROM lake.{table} WHERE a % 100 = 7 ORDER BY a").fetchall()


EXPECTED = [(a, f"b{a}") for a in range(7, 1000, 100)]


def test_a_repeated_query_reads_no_data_file_again_from_any_connection(extension, testbed, s3, table):
    con = attach(extension, testbed, s3)
    since = time.monotonic()
    assert query(con, table) == EXPECTED
    assert data_reads(s3, since), "the first query reads the data file"

    other = con.cursor()
    since = time.monotonic()
    for reader in (con, other, con):
        assert query(reader, table) == EXPECTED
    assert data_reads(s3, since) == []
    other.close()
    con.close()


def test_changes_of_other_writers_and_of_floe_are_read(extension, testbed, s3, table, catalog):
    con = attach(extension, testbed, s3)
    assert query(con, table) == EXPECTED
    # New files have new names: the cache never stands in for them.
    catalog.load_table(table).append(pa.table({"a": pa.array([1007], pa.int64()), "b": ["new"]}))
    since = time.monotonic()
    assert query(con, table) == EXPECTED + [(1007, "new")]
    assert len(set(data_reads(s3, since))) == 1, "only the appended file is read"

    con.execute(f"DELETE FROM lake.{table} WHERE a = 107")
    con.execute(f"UPDATE lake.{table} SET b = 'changed' WHERE a = 207")
    expected = [(7, "b7"), (207, "changed")] + [(a, f"b{a}") for a in range(307, 1000, 100)] + [(1007, "new")]
    assert query(con, table) == expected
    fresh = attach(extension, testbed, s3, "DATA_CACHE_SIZE '0'")
    assert query(fresh, table) == expected
    fresh.close()
    con.close()


@pytest.mark.parametrize("size", ["0", "1KB"])
def test_a_cache_too_small_for_the_reads_reads_again_and_stays_right(extension, testbed, s3, table, size):
    con = attach(extension, testbed, s3, f"DATA_CACHE_SIZE '{size}'")
    counts = []
    for _ in range(2):
        since = time.monotonic()
        assert query(con, table) == EXPECTED
        counts.append(len(data_reads(s3, since)))
    assert counts[0] > 0 and counts[1] == counts[0], counts
    con.close()


def test_the_size_is_checked_at_attach(extension, testbed, s3):
    with pytest.raises(duckdb.Error, match="Invalid value 'lots' for DATA_CACHE_SIZE"):
        attach(extension, testbed, s3, "DATA_CACHE_SIZE 'lots'")
