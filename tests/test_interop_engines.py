"""floe's tables as other engines read them: Polars and Daft, each with its own Parquet reader
and Iceberg field-id projection, next to PyIceberg and the official iceberg extension on DuckDB
1.5.5 — every type floe creates columns with, nested ones included, a partitioned table and a
table rewritten after TRUNCATE, compared row for row with the rows floe was given."""

from __future__ import annotations

import uuid
from typing import Callable, Iterator

import daft
import polars as pl
import pytest
from pyiceberg.types import UUIDType

from tests.engines import floe_connection
from tests.rows import arrow_rows, duckdb_rows, normalize, pyiceberg_rows, sort_key

NAMESPACE = "interop"


def _select(columns: dict[str, str], rows: int, casts: dict[str, str] | None = None) -> str:
    """A query over `rows` rows where every column but `id` is NULL in every seventh row;
    `casts` are applied after the NULLs (DuckDB's CASE cannot return fixed-size arrays)."""
    casts = casts or {}
    selected = [
        f"(CASE WHEN i % 7 = 3 THEN NULL ELSE {expr} END){casts.get(name, '')} AS {name}"
        for name, expr in columns.items()
    ]
    return "SELECT i::BIGINT AS id,\n" + ",\n".join(selected) + f"\nFROM range({rows}) t(i)"


# Every primitive type floe writes, each DuckDB type that maps to one (TINYINT -> int, UBIGINT ->
# decimal(20, 0), TIMESTAMP_MS -> timestamp, ENUM -> string, ...), and a struct.
FLAT = _select(
    {
        "flag": "i % 2 = 0",
        "tiny": "(i % 100 - 50)::TINYINT",
        "small": "(i * 3)::SMALLINT",
        "n": "(i - 100)::INTEGER",
        "big": "i * 1000000007",
        "unsigned": "(i * 7)::UINTEGER",
        "ubig": "(18446744073709551615 - i)::UBIGINT",
        "huge": "i::HUGEINT * 100000000000000000000",
        "real": "(i / 8)::FLOAT",
        "wide": "CASE WHEN i = 5 THEN 'nan'::DOUBLE ELSE i * 1.25 END",
        "price": "(i * 1.01)::DECIMAL(9, 2)",
        "precise": "(i / 3)::DECIMAL(38, 10)",
        "day": "DATE '2026-01-01' + i::INTEGER",
        "clock": "make_time(i % 24, i % 60, i % 60 + 0.123456)",
        "ts": "TIMESTAMP '2026-01-01 12:00:00' + INTERVAL (i) MINUTE",
        "ts_ms": "(TIMESTAMP '2026-01-01 00:00:00.123' + INTERVAL (i) DAY)::TIMESTAMP_MS",
        "tstz": "TIMESTAMPTZ '2026-01-01 00:00:00+00' + INTERVAL (i) HOUR",
        "name": "'name-' || i",
        "mood": "(['sad', 'ok', 'happy'])[i % 3 + 1]::ENUM('sad', 'ok', 'happy')",
        "uid": "md5(i::VARCHAR)::UUID",
        "payload": "('blob' || i)::BLOB",
        "point": "{'x': i / 2, 'label': 'p' || i}",
    },
    rows=200,
)

# Lists (with empty lists and NULL elements), fixed-size arrays, maps, and each nested in the others.
# Daft reads them only because floe adds the Parquet LogicalType to the list and map groups DuckDB's
# writer annotates with the legacy ConvertedType alone (core/src/commit/nested_annotations.rs).
NESTED = _select(
    {
        "tags": "CASE WHEN i % 4 = 0 THEN []::INTEGER[] ELSE [i::INTEGER, NULL, (i + 1)::INTEGER] END",
        "pair": "[i, i + 1]",
        "attrs": "MAP(['k' || i, 'z'], [i::INTEGER, NULL])",
        "points": "[{'x': i / 2, 'label': NULL}, {'x': 1.5, 'label': 'q' || i}]",
        "holder": "{'labels': ['a', 'b' || i], 'n': i}",
        "grid": "[[i], [], [i, i]]",
        "lookup": "MAP {i: ['v' || i]}",
        "shapes": "MAP {'p': {'x': i * 0.5}}",
    },
    rows=200,
    casts={"pair": "::BIGINT[2]"},
)

EVENTS = """
    SELECT i::BIGINT AS id, (['eu', 'us'])[i % 2 + 1] AS region,
           TIMESTAMP '2026-01-01' + INTERVAL (15 * i) MINUTE AS ts, (i % 113)::DOUBLE AS value
    FROM range(300) t(i)
"""

REWRITTEN = "SELECT (i + 1000)::BIGINT AS id, 'new-' || i AS name FROM range(30) t(i)"

# table -> (statements that write it through floe, `{t}` naming it; query giving the rows it must hold)
TABLES: dict[str, tuple[list[str], str]] = {
    "flat": (["CREATE TABLE {t} AS " + FLAT], FLAT),
    "nested": (["CREATE TABLE {t} AS " + NESTED], NESTED),
    "events": (
        [
            "CREATE TABLE {t} (id BIGINT, region VARCHAR, ts TIMESTAMP, value DOUBLE)",
            "ALTER TABLE {t} SET PARTITIONED BY (region, day(ts), bucket(2, id))",
            "INSERT INTO {t} " + EVENTS,
        ],
        EVENTS,
    ),
    "rewritten": (
        [
            "CREATE TABLE {t} AS SELECT i::BIGINT AS id, 'old-' || i AS name FROM range(50) t(i)",
            "TRUNCATE {t}",
            "INSERT INTO {t} " + REWRITTEN,
        ],
        REWRITTEN,
    ),
}


@pytest.fixture(scope="module")
def written(extension, testbed) -> Iterator[dict[str, tuple[list[str], list[tuple]]]]:
    """The tables above written by floe; returns each one's column names and expected rows."""
    con = floe_connection(extension)
    con.execute("SET TimeZone = 'UTC'")
    for statement in testbed.duckdb_setup_sql():
        con.execute(statement)
    con.execute(f"DROP SCHEMA IF EXISTS lake.{NAMESPACE} CASCADE")
    con.execute(f"CREATE SCHEMA lake.{NAMESPACE}")
    expected = {}
    for name, (statements, query) in TABLES.items():
        for statement in statements:
            con.execute(statement.replace("{t}", f"lake.{NAMESPACE}.{name}"))
        columns = [column[0] for column in con.execute(query).description]
        expected[name] = (columns, duckdb_rows(con, query))
    yield expected
    con.close()


@pytest.fixture(scope="module")
def readers(testbed, catalog, official) -> dict[str, Callable[[str], list[tuple]]]:
    """Each engine's rows of a table (identifier `namespace.name`), in one comparable form."""
    storage = {
        "aws_endpoint_url": testbed.s3_endpoint,
        "aws_access_key_id": testbed.client_id,
        "aws_secret_access_key": testbed.client_secret,
        "aws_region": testbed.region,
        "aws_allow_http": "true",
    }

    def polars(identifier: str) -> list[tuple]:
        table = catalog.load_table(identifier)
        # `native`: Polars' own Parquet reader, failing rather than falling back to PyIceberg's.
        scan = pl.scan_iceberg(table, storage_options=storage, reader_override="native")
        rows = scan.collect().to_arrow().to_pylist()
        # Polars has no UUID type: it returns a uuid column's 16 bytes.
        uuids = [field.name for field in table.schema().fields if isinstance(field.field_type, UUIDType)]
        for row in rows:
            for name in uuids:
                row[name] = row[name] and uuid.UUID(bytes=row[name])
        return sorted((tuple(normalize(v) for v in row.values()) for row in rows), key=sort_key)

    return {
        "pyiceberg": lambda identifier: pyiceberg_rows(catalog, identifier),
        "official": lambda identifier: duckdb_rows(official, f"SELECT * FROM lake.{identifier}"),
        "polars": polars,
        # Daft finds the S3 endpoint and keys in the PyIceberg table's file IO properties.
        "daft": lambda identifier: arrow_rows(daft.read_iceberg(catalog.load_table(identifier)).to_arrow()),
    }


ENGINES = ["pyiceberg", "official", "polars", "daft"]

# PyIceberg 0.12 reads a NULL list of structs, or a NULL map with struct values, as an empty one:
# its projection rebuilds those arrays from their offsets and drops their validity
# (pyiceberg/io/pyarrow.py, ArrowProjectionVisitor.list and .map; apache/iceberg-python#3833).
# floe's files hold the NULLs, as the other engines show; the test pins PyIceberg's reading so a
# fixed PyIceberg shows up here.
PYICEBERG_NULL_AS_EMPTY = {"nested": {"points", "shapes"}}


def _nulls_as_empty(columns: list[str], rows: list[tuple], empty: set[str]) -> list[tuple]:
    emptied = [
        tuple([] if value is None and column in empty else value for column, value in zip(columns, row)) for row in rows
    ]
    return sorted(emptied, key=sort_key)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", list(TABLES))
def test_engine_reads_floe_table_exactly(written, readers, monkeypatch, name, engine):
    # Polars plans the scan with PyIceberg (its optional planner plugin is not installed).
    monkeypatch.setenv("POLARS_ICEBERG_PLANNER", "pyiceberg")
    identifier = f"{NAMESPACE}.{name}"
    columns, expected = written[name]
    if engine == "pyiceberg" and name in PYICEBERG_NULL_AS_EMPTY:
        expected = _nulls_as_empty(columns, expected, PYICEBERG_NULL_AS_EMPTY[name])
    assert readers[engine](identifier) == expected


def test_partitioned_table_has_one_partition_per_file(written, catalog):
    """The partitioned table is really partitioned (2 regions x 4 days x 2 buckets), so the
    engines above read many files and fill partition columns from them."""
    table = catalog.load_table(f"{NAMESPACE}.events")
    partitions = [tuple(task.file.partition) for task in table.scan().plan_files()]
    assert len(partitions) == len(set(partitions)) == 16


@pytest.mark.parametrize("name", list(TABLES))
def test_recorded_file_sizes_are_the_files_sizes(written, catalog, name):
    """Readers find a file's footer from the size the manifest records; floe rewrites the files
    of tables with lists and maps, so the size must be the rewritten file's."""
    table = catalog.load_table(f"{NAMESPACE}.{name}")
    files = [task.file for task in table.scan().plan_files()]
    assert files
    for file in files:
        assert file.file_size_in_bytes == len(table.io.new_input(file.file_path)), file.file_path
