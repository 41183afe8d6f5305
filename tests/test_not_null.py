"""NOT NULL columns refuse NULLs on every write path: the failing statement commits nothing and
leaves no file behind, as PyIceberg and an S3 listing of the table see it."""

from __future__ import annotations

import datetime

import duckdb
import pytest

from tests.rows import pyiceberg_rows

NAMESPACE = "not_null"

# Each of these puts at least one NULL into the required column `id`.
FAILING = [
    "INSERT INTO {t} VALUES (3, DATE '2026-01-03'), (NULL, DATE '2026-01-04')",
    "INSERT INTO {t} SELECT CASE WHEN i % 2 = 0 THEN i END, NULL FROM range(100000) t(i)",
    "INSERT INTO {t} BY NAME SELECT DATE '2026-01-05' AS d",
    "INSERT INTO {t} (d) VALUES (DATE '2026-01-06')",
    "COPY {t} FROM '{csv}' (HEADER)",
]


@pytest.fixture()
def table(floe, catalog) -> str:
    floe.execute(f"CREATE SCHEMA IF NOT EXISTS lake.{NAMESPACE}")
    floe.execute(f"CREATE OR REPLACE TABLE lake.{NAMESPACE}.t (id INTEGER NOT NULL, d DATE)")
    floe.execute(f"INSERT INTO lake.{NAMESPACE}.t VALUES (1, DATE '2026-01-01'), (2, NULL)")
    return f"{NAMESPACE}.t"


def test_schema_records_the_column_as_required(table, catalog):
    schema = catalog.load_table(table).schema()
    assert schema.find_field("id").required
    assert not schema.find_field("d").required


def test_failed_writes_leave_the_table_and_its_storage_unchanged(floe, catalog, testbed, table, tmp_path):
    csv = tmp_path / "input.csv"
    csv.write_text("id,d\n7,2026-01-07\n,2026-01-08\n")
    before = catalog.load_table(table)
    files_before = testbed.s3_files(before.location())
    rows_before = pyiceberg_rows(catalog, table)
    assert rows_before == [(1, datetime.date(2026, 1, 1)), (2, None)]

    for statement in FAILING:
        sql = statement.format(t=f"lake.{table}", csv=csv)
        with pytest.raises(duckdb.Error, match=r"NOT NULL constraint failed: column 'id' of table 'not_null.t' is required; \d+ row\(s\) have NULL"):
            floe.execute(sql)

    # A failing statement inside a transaction aborts it: COMMIT rolls it back, the valid insert
    # before the failing one included.
    floe.execute("BEGIN")
    floe.execute(f"INSERT INTO lake.{table} VALUES (8, DATE '2026-01-08')")
    with pytest.raises(duckdb.Error, match="NOT NULL constraint failed"):
        floe.execute(f"INSERT INTO lake.{table} VALUES (NULL, DATE '2026-01-09')")
    floe.execute("COMMIT")

    after = catalog.load_table(table)
    assert after.current_snapshot().snapshot_id == before.current_snapshot().snapshot_id
    assert len(after.metadata.snapshots) == len(before.metadata.snapshots)
    assert pyiceberg_rows(catalog, table) == rows_before
    assert testbed.s3_files(before.location()) == files_before, "a failed statement left files behind"


def test_valid_rows_still_insert(floe, catalog, table):
    floe.execute(f"INSERT INTO lake.{table} SELECT i, NULL FROM range(10, 13) t(i)")
    ids = sorted(row[0] for row in pyiceberg_rows(catalog, table))
    assert ids == [1, 2, 10, 11, 12]
