"""UPDATE, merge-on-read: the old rows deleted by position, the new rows written through the
INSERT writer (partitioned by their new values), both in one snapshot other engines read."""

from __future__ import annotations

import duckdb
import pytest
from pyiceberg.manifest import DataFileContent

from tests.both_catalogs import BOTH_CATALOGS
from tests.rows import duckdb_rows, pyiceberg_rows
from tests.test_row_delete import entries, ns, ordered, second_connection, three_files  # noqa: F401

pytestmark = BOTH_CATALOGS


def test_update_where_reads_back_in_every_engine(floe, official, catalog, ns):
    three_files(floe, f"lake.{ns}.t")
    before = catalog.load_table(f"{ns}.t").current_snapshot().snapshot_id
    assert floe.execute(f"UPDATE lake.{ns}.t SET v = v || '!' WHERE id % 10 = 0").fetchall() == [(30,)]
    expected = ordered([(i, f"v{i}!" if i % 10 == 0 else f"v{i}", i % 3) for i in range(300)])
    assert duckdb_rows(floe, f"SELECT * FROM lake.{ns}.t") == expected
    assert pyiceberg_rows(catalog, f"{ns}.t") == expected
    assert duckdb_rows(official, f"SELECT * FROM lake.{ns}.t") == expected
    snapshot = catalog.load_table(f"{ns}.t").current_snapshot()
    # One snapshot: the deletes and the new rows together.
    assert snapshot.parent_snapshot_id == before
    assert snapshot.summary.operation.value == "overwrite"
    assert snapshot.summary["added-records"] == "30" and snapshot.summary["added-position-deletes"] == "30"


def test_update_of_a_partition_column_moves_the_row(floe, official, catalog, ns):
    floe.execute(f"CREATE TABLE lake.{ns}.p (id BIGINT, v VARCHAR, part BIGINT)")
    floe.execute(f"ALTER TABLE lake.{ns}.p SET PARTITIONED BY (part)")
    floe.execute(f"INSERT INTO lake.{ns}.p SELECT i, 'v' || i, i % 3 FROM range(300) t(i)")
    assert floe.execute(f"UPDATE lake.{ns}.p SET part = 7 WHERE part = 0 AND id < 150").fetchall() == [(50,)]
    expected = ordered([(i, f"v{i}", 7 if i % 3 == 0 and i < 150 else i % 3) for i in range(300)])
    assert pyiceberg_rows(catalog, f"{ns}.p") == expected
    assert duckdb_rows(official, f"SELECT * FROM lake.{ns}.p") == expected
    # The moved rows live in files of partition 7, which a partition filter finds.
    assert floe.execute(f"SELECT count(*) FROM lake.{ns}.p WHERE part = 7").fetchall() == [(50,)]
    files = {
        e.data_file.partition[0]
        for e in entries(catalog, f"{ns}.p")
        if e.data_file.content == DataFileContent.DATA
    }
    assert files == {0, 1, 2, 7}


def test_update_from_a_source_that_matches_a_row_twice_updates_it_once(floe, catalog, ns):
    three_files(floe, f"lake.{ns}.t")
    floe.execute("CREATE TEMP TABLE src AS SELECT * FROM (VALUES (5, 'a'), (5, 'a'), (7, 'b')) s(id, v)")
    assert floe.execute(f"UPDATE lake.{ns}.t AS t SET v = src.v FROM src WHERE t.id = src.id").fetchall() == [(2,)]
    rows = pyiceberg_rows(catalog, f"{ns}.t")
    assert len(rows) == 300
    assert [r for r in rows if r[0] in (5, 7)] == [(5, "a", 2), (7, "b", 1)]


def test_a_failing_update_changes_nothing(floe, catalog, ns):
    floe.execute(f"CREATE TABLE lake.{ns}.r (id BIGINT NOT NULL, v VARCHAR)")
    floe.execute(f"INSERT INTO lake.{ns}.r SELECT i, 'v' || i FROM range(10) t(i)")
    before = catalog.load_table(f"{ns}.r").current_snapshot().snapshot_id
    with pytest.raises(duckdb.Error, match="NOT NULL"):
        floe.execute(f"UPDATE lake.{ns}.r SET id = NULL WHERE id = 3")
    with pytest.raises(duckdb.Error, match="RETURNING is not supported"):
        floe.execute(f"UPDATE lake.{ns}.r SET v = 'x' WHERE id = 3 RETURNING id")
    assert catalog.load_table(f"{ns}.r").current_snapshot().snapshot_id == before
    assert pyiceberg_rows(catalog, f"{ns}.r") == ordered([(i, f"v{i}") for i in range(10)])


def test_updates_and_deletes_in_one_transaction(floe, catalog, ns):
    three_files(floe, f"lake.{ns}.t")
    floe.execute("BEGIN")
    floe.execute(f"UPDATE lake.{ns}.t SET v = 'u' WHERE id < 20")
    # The rows the first UPDATE wrote are updated again, and some deleted.
    floe.execute(f"UPDATE lake.{ns}.t SET v = v || 'u' WHERE id < 10")
    floe.execute(f"DELETE FROM lake.{ns}.t WHERE id IN (0, 15, 250)")
    assert floe.execute(f"SELECT count(*), count(*) FILTER (v = 'uu') FROM lake.{ns}.t").fetchall() == [(297, 9)]
    floe.execute("COMMIT")
    expected = ordered(
        [(i, "uu" if i < 10 else "u" if i < 20 else f"v{i}", i % 3) for i in range(300) if i not in (0, 15, 250)]
    )
    assert pyiceberg_rows(catalog, f"{ns}.t") == expected
    assert duckdb_rows(floe, f"SELECT * FROM lake.{ns}.t") == expected


def test_concurrent_append_the_condition_could_match_fails_a_serializable_update(
    floe, extension, catalog_bed, catalog, ns
):
    three_files(floe, f"lake.{ns}.t")
    other = second_connection(extension, catalog_bed)
    try:
        floe.execute("BEGIN")
        floe.execute(f"UPDATE lake.{ns}.t SET v = 'x' WHERE id < 50")
        other.execute(f"INSERT INTO lake.{ns}.t VALUES (7, 'late', 1)")
        with pytest.raises(duckdb.Error, match="write.update.isolation-level"):
            floe.execute("COMMIT")
        rows = pyiceberg_rows(catalog, f"{ns}.t")
        assert len(rows) == 301 and not [r for r in rows if r[1] == "x"]
    finally:
        other.close()
