"""Tables with an Iceberg fixed(L) column (PyIceberg creates them; DuckDB has no fixed-length
binary type) are read by floe but not written: DuckDB's writer would store the column as
variable-length binary, which PyIceberg then refuses to read as fixed(L), leaving the whole table
unreadable. Every write is refused when it is planned, naming the table, the column and the fix,
with nothing written; the fix the error names works."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest
from pyiceberg.schema import Schema
from pyiceberg.types import FixedType, LongType, NestedField, StructType

from tests.rows import duckdb_rows, pyiceberg_rows

NAMESPACE = "fixed_columns"

REFUSED = [
    "INSERT INTO {t} VALUES (3, '\\x01'::BLOB, {{'hash': NULL}})",
    "INSERT INTO {t} SELECT i, NULL, NULL FROM range(10) t(i)",
    "INSERT INTO {t} (id) VALUES (4)",
    "INSERT INTO {t} SELECT * FROM {t}",
]


@pytest.fixture()
def table(catalog) -> str:
    identifier = f"{NAMESPACE}.t"
    catalog.create_namespace_if_not_exists(NAMESPACE)
    if catalog.table_exists(identifier):
        catalog.purge_table(identifier)
    schema = Schema(
        NestedField(1, "id", LongType()),
        NestedField(2, "digest", FixedType(16)),
        NestedField(3, "meta", StructType(NestedField(4, "hash", FixedType(4)))),
    )
    created = catalog.create_table(identifier, schema=schema)
    rows = [{"id": 1, "digest": b"a" * 16, "meta": {"hash": b"abcd"}}, {"id": 2, "digest": None, "meta": None}]
    created.append(pa.Table.from_pylist(rows, schema=created.schema().as_arrow()))
    return identifier


def test_writes_into_a_fixed_column_are_refused_before_anything_is_written(floe, catalog, testbed, table):
    before = catalog.load_table(table)
    files_before = testbed.s3_files(before.location())
    expected = [(1, b"a" * 16, {"hash": b"abcd"}), (2, None, None)]
    assert pyiceberg_rows(catalog, table) == expected
    # floe reads the table.
    assert duckdb_rows(floe, f"SELECT * FROM lake.{table}") == expected

    message = (
        r"cannot write into table 'fixed_columns\.t': its column 'digest' is of Iceberg type fixed\[16\], "
        r"which DuckDB cannot write .*Fix: write this table with an engine that writes fixed-length binary"
    )
    for statement in REFUSED:
        with pytest.raises(duckdb.Error, match=message):
            floe.execute(statement.format(t=f"lake.{table}"))
    # Also after TRUNCATE in the same transaction, which keeps the schema.
    floe.execute("BEGIN")
    floe.execute(f"TRUNCATE lake.{table}")
    with pytest.raises(duckdb.Error, match=message):
        floe.execute(f"INSERT INTO lake.{table} VALUES (5, NULL, NULL)")
    floe.execute("ROLLBACK")

    after = catalog.load_table(table)
    assert after.metadata.current_snapshot_id == before.metadata.current_snapshot_id
    assert testbed.s3_files(after.location()) == files_before
    assert pyiceberg_rows(catalog, table) == expected


def test_the_named_fix_a_copy_with_blob_columns_is_writable(floe, catalog, table):
    floe.execute(f"CREATE OR REPLACE TABLE lake.{NAMESPACE}.copy AS SELECT * FROM lake.{table}")
    floe.execute(f"INSERT INTO lake.{NAMESPACE}.copy VALUES (3, '\\x01'::BLOB, {{'hash': NULL}})")
    assert pyiceberg_rows(catalog, f"{NAMESPACE}.copy") == [
        (1, b"a" * 16, {"hash": b"abcd"}),
        (2, None, None),
        (3, b"\x01", {"hash": None}),
    ]
