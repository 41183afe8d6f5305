"""ALTER TABLE ... SET SORTED BY / RESET SORTED BY: the table's default sort order in the catalog,
and every later write (INSERT, UPDATE, MERGE) sorting each data file by it and recording its
sort_order_id. Each file is read back in its stored order with pyarrow, through PyIceberg's IO."""

from __future__ import annotations

import datetime
import re

import duckdb
import pyarrow.parquet as pq
import pytest
from pyiceberg.manifest import DataFileContent
from pyiceberg.table.sorting import NullOrder, SortDirection
from pyiceberg.transforms import parse_transform
from pyiceberg.types import LongType

from tests.rows import duckdb_rows, pyiceberg_rows


@pytest.fixture()
def ns(floe, request) -> str:
    """A fresh namespace per test, created through floe."""
    name = "s_" + re.sub("[^a-z0-9]+", "_", request.node.name.lower().removeprefix("test_"))[:32].strip("_")
    floe.execute(f"DROP SCHEMA IF EXISTS lake.{name} CASCADE")
    floe.execute(f"CREATE SCHEMA lake.{name}")
    return name


def rows(start: int, stop: int) -> str:
    """Rows `start` to `stop`, shuffled, with NULLs in every sorted column."""
    return f"""
        SELECT i AS id,
               CASE WHEN i % 7 = 0 THEN NULL ELSE 'n' || (hash(i) % 40) END AS name,
               CASE WHEN i % 11 = 0 THEN NULL
                    ELSE TIMESTAMP '2026-01-01' + INTERVAL (hash(i * 3) % 400) HOUR END AS ts,
               CASE WHEN i % 13 = 0 THEN NULL ELSE (hash(i * 5) % 10000) / 100 END AS score,
               ['eu', 'us', 'apac'][i % 3 + 1] AS region
        FROM range({start}, {stop}) t(i)
        ORDER BY hash(i + 1)
    """


EPOCH = datetime.datetime(1970, 1, 1)


def day(ts: datetime.datetime | None) -> int | None:
    return None if ts is None else (ts - EPOCH).days


def bucket(n: int):
    hashed = parse_transform(f"bucket[{n}]").transform(LongType())
    return lambda value: None if value is None else hashed(value)


def data_files(table) -> list:
    return [
        entry.data_file
        for manifest in table.current_snapshot().manifests(table.io)
        for entry in manifest.fetch_manifest_entry(table.io)
        if entry.data_file.content == DataFileContent.DATA
    ]


def file_rows(table, path: str) -> list[dict]:
    """A data file's rows in the order they are stored."""
    with table.io.new_input(path).open() as stream:
        return pq.read_table(stream).to_pylist()


def assert_sorted(rows: list[dict], keys: list[tuple], where: str) -> None:
    """`keys`: (value of a row, descending, nulls first), compared as Iceberg sorts: the first key
    that differs decides."""

    def compare(a: dict, b: dict) -> int:
        for value, descending, nulls_first in keys:
            x, y = value(a), value(b)
            if x == y:
                continue
            if x is None or y is None:
                return (-1 if x is None else 1) * (1 if nulls_first else -1)
            return (-1 if x < y else 1) * (-1 if descending else 1)
        return 0

    for i in range(1, len(rows)):
        assert compare(rows[i - 1], rows[i]) <= 0, (where, i, rows[i - 1], rows[i])


def fields(table) -> list[tuple]:
    """The default sort order as (column, transform, direction, null order)."""
    schema = table.schema()
    return [
        (schema.find_field(f.source_id).name, str(f.transform), f.direction, f.null_order)
        for f in table.sort_order().fields
    ]


def assert_every_engine_reads(floe, official, catalog, name: str) -> None:
    expected = duckdb_rows(floe, f"SELECT * FROM lake.{name}")
    assert pyiceberg_rows(catalog, name) == expected
    assert duckdb_rows(official, f"SELECT * FROM lake.{name}") == expected


def test_sorted_by_orders_every_file_each_write_produces(floe, official, catalog, ns):
    name = f"{ns}.t"
    floe.execute(
        f"CREATE TABLE lake.{name} (id BIGINT, name VARCHAR, ts TIMESTAMP, score DECIMAL(10, 2), region VARCHAR)"
    )
    floe.execute(f"INSERT INTO lake.{name} {rows(0, 50)}")
    floe.execute(f"ALTER TABLE lake.{name} SET SORTED BY (day(ts) DESC NULLS FIRST, name, id DESC)")

    table = catalog.load_table(name)
    # Without NULLS FIRST/LAST, as DuckDB's ORDER BY would sort (default_null_order: NULLS LAST).
    assert fields(table) == [
        ("ts", "day", SortDirection.DESC, NullOrder.NULLS_FIRST),
        ("name", "identity", SortDirection.ASC, NullOrder.NULLS_LAST),
        ("id", "identity", SortDirection.DESC, NullOrder.NULLS_LAST),
    ]
    order_id = table.sort_order().order_id
    assert order_id == 1
    unsorted = {f.file_path for f in data_files(table)}
    assert all(f.sort_order_id == 0 for f in data_files(table))

    for start in (50, 400, 1000):
        floe.execute(f"INSERT INTO lake.{name} {rows(start, start + 350)}")
    floe.execute(f"UPDATE lake.{name} SET score = score + 1, name = upper(name) WHERE id % 5 = 0")
    floe.execute(
        f"MERGE INTO lake.{name} t USING ({rows(1300, 1500)}) s ON t.id = s.id - 600 "
        "WHEN MATCHED THEN UPDATE SET ts = s.ts WHEN NOT MATCHED THEN INSERT BY NAME"
    )

    table = catalog.load_table(name)
    keys = [(lambda r: day(r["ts"]), True, True), (lambda r: r["name"], False, False), (lambda r: r["id"], True, False)]
    written = [f for f in data_files(table) if f.file_path not in unsorted]
    # Three INSERTs, the UPDATE's new rows and the MERGE's.
    assert len(written) >= 5
    for data_file in written:
        assert data_file.sort_order_id == order_id, data_file.file_path
        stored = file_rows(table, data_file.file_path)
        assert len(stored) == data_file.record_count > 0
        assert_sorted(stored, keys, data_file.file_path)
    # The MERGE matched rows 700 to 749 and inserted 150.
    assert floe.execute(f"SELECT count(*) FROM lake.{name}").fetchone() == (50 + 3 * 350 + 150,)
    assert_every_engine_reads(floe, official, catalog, name)


def test_sorted_by_after_partitioning_in_one_transaction(floe, official, catalog, ns):
    name = f"{ns}.t"
    floe.execute(
        f"CREATE TABLE lake.{name} (id BIGINT, name VARCHAR, ts TIMESTAMP, score DECIMAL(10, 2), region VARCHAR)"
    )
    floe.execute("BEGIN")
    floe.execute(f"ALTER TABLE lake.{name} SET PARTITIONED BY (region)")
    floe.execute(f"ALTER TABLE lake.{name} SET SORTED BY (bucket(8, id) ASC NULLS LAST, score DESC NULLS FIRST)")
    floe.execute(f"INSERT INTO lake.{name} {rows(0, 600)}")
    floe.execute(f"INSERT INTO lake.{name} {rows(600, 1200)}")
    floe.execute("COMMIT")

    table = catalog.load_table(name)
    assert fields(table) == [
        ("id", "bucket[8]", SortDirection.ASC, NullOrder.NULLS_LAST),
        ("score", "identity", SortDirection.DESC, NullOrder.NULLS_FIRST),
    ]
    by_bucket = bucket(8)
    keys = [(lambda r: by_bucket(r["id"]), False, False), (lambda r: r["score"], True, True)]
    files = data_files(table)
    # Two statements, each writing one file per region at least.
    assert len(files) >= 6
    for data_file in files:
        assert data_file.sort_order_id == table.sort_order().order_id
        stored = file_rows(table, data_file.file_path)
        assert {r["region"] for r in stored} == {data_file.partition[0]}
        assert_sorted(stored, keys, data_file.file_path)
    assert_every_engine_reads(floe, official, catalog, name)


@pytest.mark.parametrize("partitioned", [False, True], ids=["unpartitioned", "partitioned"])
def test_large_insert_on_two_threads_sorts_each_file(floe, catalog, ns, partitioned):
    name = f"{ns}.big"
    # Small files and flushes: the write is cut into many files, each of which must be sorted.
    floe.execute(
        f"CREATE TABLE lake.{name} (id BIGINT, k BIGINT, pad VARCHAR) WITH ('write.target-file-size-bytes' = '400000')"
    )
    if partitioned:
        floe.execute(f"ALTER TABLE lake.{name} SET PARTITIONED BY (bucket(3, id))")
    floe.execute(f"ALTER TABLE lake.{name} SET SORTED BY (k DESC NULLS FIRST)")
    floe.execute("SET threads = 2")
    floe.execute("SET partitioned_write_flush_threshold = 20000")
    floe.execute(
        f"INSERT INTO lake.{name} SELECT i, CASE WHEN i % 1000 = 0 THEN NULL ELSE hash(i) % 1000000 END, "
        f"'pad-' || i FROM range(200000) t(i)"
    )

    table = catalog.load_table(name)
    files = data_files(table)
    assert len(files) >= (3 if partitioned else 2)
    total = 0
    for data_file in files:
        assert data_file.sort_order_id == 1
        stored = file_rows(table, data_file.file_path)
        total += len(stored)
        assert_sorted(stored, [(lambda r: r["k"], True, True)], data_file.file_path)
    assert total == 200000
    assert floe.execute(f"SELECT count(*), count(k), sum(id) FROM lake.{name}").fetchone() == (
        200000,
        199800,
        199999 * 200000 // 2,
    )


def test_reset_sorted_by_and_replace_leave_later_files_unsorted(floe, official, catalog, ns):
    name = f"{ns}.t"
    floe.execute(f"CREATE TABLE lake.{name} AS {rows(0, 100)}")
    floe.execute(f"ALTER TABLE lake.{name} SET SORTED BY (truncate(2, name) NULLS FIRST, id)")
    floe.execute(f"INSERT INTO lake.{name} {rows(100, 300)}")
    sorted_files = {f.file_path for f in data_files(catalog.load_table(name)) if f.sort_order_id == 1}
    assert len(sorted_files) == 1

    floe.execute(f"ALTER TABLE lake.{name} RESET SORTED BY")
    table = catalog.load_table(name)
    assert table.sort_order().is_unsorted and table.sort_order().order_id == 0
    floe.execute(f"INSERT INTO lake.{name} {rows(300, 400)}")
    table = catalog.load_table(name)
    for data_file in data_files(table):
        assert data_file.sort_order_id == (1 if data_file.file_path in sorted_files else 0)
    assert_every_engine_reads(floe, official, catalog, name)

    # Asking for the same order again makes the existing one the default; no second copy.
    floe.execute(f"ALTER TABLE lake.{name} SET SORTED BY (truncate(2, name) NULLS FIRST, id ASC NULLS LAST)")
    table = catalog.load_table(name)
    assert table.sort_order().order_id == 1
    assert sorted(table.metadata.sort_orders, key=lambda o: o.order_id)[-1].order_id == 1

    # CREATE OR REPLACE gives the table new columns: the old order goes with them.
    floe.execute(f"CREATE OR REPLACE TABLE lake.{name} AS {rows(0, 100)}")
    table = catalog.load_table(name)
    assert table.sort_order().is_unsorted
    assert [f.sort_order_id for f in data_files(table)] == [0]


def test_refused_orders_name_table_column_and_fix_and_change_nothing(floe, catalog, ns):
    name = f"{ns}.t"
    floe.execute(f"CREATE TABLE lake.{name} (id BIGINT, name VARCHAR, point STRUCT(x DOUBLE))")
    floe.execute(f"INSERT INTO lake.{name} VALUES (1, 'a', {{'x': 1.0}})")
    before = catalog.load_table(name).metadata_location
    refusals = {
        "nope DESC": f"Table '{ns}.t' has no column 'nope' to sort by. Fix: name a top-level column of the table",
        "day(name)": f"Column 'name' of table '{ns}.t' is of type string, which cannot be sorted by day. Fix:",
        "point": f"Column 'point' of table '{ns}.t' is of type struct",
        "id + 1": "is not an Iceberg sort transform. Fix: use the column itself, year(col)",
    }
    for keys, message in refusals.items():
        with pytest.raises(duckdb.Error) as refused:
            floe.execute(f"ALTER TABLE lake.{name} SET SORTED BY ({keys})")
        assert message in str(refused.value)
    assert catalog.load_table(name).metadata_location == before
    assert catalog.load_table(name).sort_order().is_unsorted
