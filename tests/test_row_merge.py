"""MERGE INTO, merge-on-read, with every clause DuckDB parses; a target row matched twice is an
error that changes nothing."""

from __future__ import annotations

import duckdb
import pytest

from tests.both_catalogs import BOTH_CATALOGS
from tests.rows import duckdb_rows, pyiceberg_rows
from tests.test_row_delete import ns, ordered, three_files  # noqa: F401

pytestmark = BOTH_CATALOGS

SOURCE = """
    CREATE OR REPLACE TEMP TABLE src AS
    SELECT * FROM (VALUES (5, 'five', 2), (7, 'seven', 1), (1000, 'new', 0), (1001, 'gone', 1)) s(id, v, part)
"""


def test_merge_updates_inserts_and_deletes_in_one_snapshot(floe, official, catalog, ns):
    three_files(floe, f"lake.{ns}.t")
    floe.execute(SOURCE)
    before = catalog.load_table(f"{ns}.t").current_snapshot().snapshot_id
    merged = floe.execute(
        f"""MERGE INTO lake.{ns}.t AS t USING src AS s ON t.id = s.id
            WHEN MATCHED AND s.id = 7 THEN DELETE
            WHEN MATCHED THEN UPDATE SET v = s.v
            WHEN NOT MATCHED AND s.v = 'gone' THEN DO NOTHING
            WHEN NOT MATCHED THEN INSERT VALUES (s.id, s.v, s.part)"""
    ).fetchall()
    assert merged == [(3,)]
    expected = ordered(
        [(i, "five" if i == 5 else f"v{i}", i % 3) for i in range(300) if i != 7] + [(1000, "new", 0)]
    )
    assert duckdb_rows(floe, f"SELECT * FROM lake.{ns}.t") == expected
    assert pyiceberg_rows(catalog, f"{ns}.t") == expected
    assert duckdb_rows(official, f"SELECT * FROM lake.{ns}.t") == expected
    snapshot = catalog.load_table(f"{ns}.t").current_snapshot()
    assert snapshot.parent_snapshot_id == before and snapshot.summary.operation.value == "overwrite"


def test_merge_by_name_and_not_matched_by_source(floe, catalog, ns):
    three_files(floe, f"lake.{ns}.t")
    floe.execute("CREATE TEMP TABLE src2 AS SELECT i AS id, 'n' || i AS v, i % 3 AS part FROM range(250, 320) t(i)")
    # dbt-duckdb's merge strategy, plus the clauses of a full sync.
    merged = floe.execute(
        f"""MERGE INTO lake.{ns}.t AS t USING src2 AS s ON t.id = s.id
            WHEN MATCHED THEN UPDATE BY NAME
            WHEN NOT MATCHED BY TARGET THEN INSERT BY NAME
            WHEN NOT MATCHED BY SOURCE AND t.id < 100 THEN DELETE
            WHEN NOT MATCHED BY SOURCE AND t.id < 200 THEN UPDATE SET v = 'stale'"""
    ).fetchall()
    assert merged == [(270,)]
    expected = ordered(
        [(i, "stale", i % 3) for i in range(100, 200)]
        + [(i, f"v{i}", i % 3) for i in range(200, 250)]
        + [(i, f"n{i}", i % 3) for i in range(250, 320)]
    )
    assert pyiceberg_rows(catalog, f"{ns}.t") == expected
    assert duckdb_rows(floe, f"SELECT * FROM lake.{ns}.t") == expected


def test_merge_into_a_partitioned_table_moves_updated_rows(floe, official, catalog, ns):
    floe.execute(f"CREATE TABLE lake.{ns}.p (id BIGINT, v VARCHAR, part BIGINT)")
    floe.execute(f"ALTER TABLE lake.{ns}.p SET PARTITIONED BY (part)")
    floe.execute(f"INSERT INTO lake.{ns}.p SELECT i, 'v' || i, i % 3 FROM range(30) t(i)")
    floe.execute(SOURCE)
    floe.execute(
        f"""MERGE INTO lake.{ns}.p AS t USING src AS s ON t.id = s.id
            WHEN MATCHED THEN UPDATE SET part = 9
            WHEN NOT MATCHED THEN INSERT BY NAME"""
    )
    expected = ordered(
        [(i, f"v{i}", 9 if i in (5, 7) else i % 3) for i in range(30)] + [(1000, "new", 0), (1001, "gone", 1)]
    )
    assert pyiceberg_rows(catalog, f"{ns}.p") == expected
    assert duckdb_rows(official, f"SELECT * FROM lake.{ns}.p") == expected
    assert floe.execute(f"SELECT id FROM lake.{ns}.p WHERE part = 9 ORDER BY id").fetchall() == [(5,), (7,)]


def test_a_target_row_matched_twice_is_an_error_that_changes_nothing(floe, catalog, ns):
    three_files(floe, f"lake.{ns}.t")
    floe.execute("CREATE TEMP TABLE dup AS SELECT * FROM (VALUES (5, 'a'), (5, 'b'), (1000, 'c')) s(id, v)")
    before = catalog.load_table(f"{ns}.t").current_snapshot().snapshot_id
    with pytest.raises(duckdb.Error, match="matched one target row .* more than once|more than one source row"):
        floe.execute(
            f"""MERGE INTO lake.{ns}.t AS t USING dup AS s ON t.id = s.id
                WHEN MATCHED THEN UPDATE SET v = s.v
                WHEN NOT MATCHED THEN INSERT VALUES (s.id, s.v, 0)"""
        )
    assert catalog.load_table(f"{ns}.t").current_snapshot().snapshot_id == before
    assert len(pyiceberg_rows(catalog, f"{ns}.t")) == 300
    with pytest.raises(duckdb.Error, match="THEN ERROR"):
        floe.execute(
            f"""MERGE INTO lake.{ns}.t AS t USING (SELECT 3 AS id) AS s ON t.id = s.id
                WHEN MATCHED THEN ERROR 'row 3 exists'"""
        )
    with pytest.raises(duckdb.Error, match="RETURNING is not supported"):
        floe.execute(
            f"""MERGE INTO lake.{ns}.t AS t USING (SELECT 3 AS id) AS s ON t.id = s.id
                WHEN MATCHED THEN DELETE RETURNING *"""
        )
    assert catalog.load_table(f"{ns}.t").current_snapshot().snapshot_id == before
