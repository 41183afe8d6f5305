"""DELETE with a condition, merge-on-read: position delete files other engines read, data files
removed when no row is left, atomic transactions, and the conflict rules of isolation levels."""

from __future__ import annotations

import re

import duckdb
import pyarrow.parquet as pq
import pytest
from pyiceberg.manifest import DataFileContent

from tests.both_catalogs import BOTH_CATALOGS
from tests.engines import floe_connection

FILE_PATH_ID = 2147483546
from tests.rows import duckdb_rows, pyiceberg_rows, sort_key

pytestmark = BOTH_CATALOGS


@pytest.fixture()
def ns(floe, request) -> str:
    name = "d_" + re.sub("[^a-z0-9]+", "_", request.node.name.lower().removeprefix("test_"))[:32].strip("_")
    floe.execute(f"DROP SCHEMA IF EXISTS lake.{name} CASCADE")
    floe.execute(f"CREATE SCHEMA lake.{name}")
    return name


def second_connection(extension, catalog_bed) -> duckdb.DuckDBPyConnection:
    """Another DuckDB database with floe attached to the same catalog: a concurrent writer."""
    con = floe_connection(extension)
    con.execute("SET TimeZone = 'UTC'")
    for statement in catalog_bed.duckdb_setup_sql():
        con.execute(statement)
    return con


def ordered(rows: list[tuple]) -> list[tuple]:
    """Rows in the order tests.rows returns them."""
    return sorted(rows, key=sort_key)


def three_files(floe, table: str) -> None:
    """Rows 0..299 in three data files of 100 rows (one INSERT each)."""
    floe.execute(f"CREATE TABLE {table} AS SELECT i AS id, 'v' || i AS v, i % 3 AS part FROM range(100) t(i)")
    floe.execute(f"INSERT INTO {table} SELECT i, 'v' || i, i % 3 FROM range(100, 200) t(i)")
    floe.execute(f"INSERT INTO {table} SELECT i, 'v' || i, i % 3 FROM range(200, 300) t(i)")


def referenced(delete) -> str:
    """The data file a position delete file names in its file_path bounds (lower == upper)."""
    lower, upper = delete.lower_bounds[FILE_PATH_ID], delete.upper_bounds[FILE_PATH_ID]
    assert lower == upper
    return lower.decode()


def entries(catalog, identifier: str):
    """The live manifest entries of the table's current snapshot."""
    table = catalog.load_table(identifier)
    result = []
    for manifest in table.current_snapshot().manifests(table.io):
        result.extend(e for e in manifest.fetch_manifest_entry(table.io, discard_deleted=True))
    return result


def test_delete_where_writes_position_deletes_every_engine_reads(floe, official, catalog, ns):
    three_files(floe, f"lake.{ns}.t")
    deleted = floe.execute(f"DELETE FROM lake.{ns}.t WHERE id % 10 = 0").fetchall()
    assert deleted == [(30,)]
    expected = ordered([(i, f"v{i}", i % 3) for i in range(300) if i % 10 != 0])
    assert duckdb_rows(floe, f"SELECT * FROM lake.{ns}.t") == expected
    assert pyiceberg_rows(catalog, f"{ns}.t") == expected
    assert duckdb_rows(official, f"SELECT * FROM lake.{ns}.t") == expected

    summary = catalog.load_table(f"{ns}.t").current_snapshot().summary
    assert summary.operation.value == "delete"
    assert summary["added-position-deletes"] == "30" and summary["added-delete-files"] == "3"
    assert summary["total-records"] == "300" and summary["total-position-deletes"] == "30"

    deletes = [e.data_file for e in entries(catalog, f"{ns}.t") if e.data_file.content == DataFileContent.POSITION_DELETES]
    data = {e.data_file.file_path for e in entries(catalog, f"{ns}.t") if e.data_file.content == DataFileContent.DATA}
    assert len(deletes) == 3
    # One delete file per data file, naming it, with the file_path bounds readers index by.
    assert {referenced(d) for d in deletes} == data
    table = catalog.load_table(f"{ns}.t")
    for delete in deletes:
        with table.io.new_input(delete.file_path).open() as stream:
            parquet = pq.ParquetFile(stream)
            schema = parquet.schema
            rows = parquet.read().to_pylist()
        assert [schema.column(i).max_definition_level for i in range(2)] == [0, 0]  # REQUIRED
        arrow = parquet.schema_arrow
        assert [f.metadata[b"PARQUET:field_id"] for f in arrow] == [b"2147483546", b"2147483545"]
        assert [r["pos"] for r in rows] == sorted(r["pos"] for r in rows)
        assert {r["file_path"] for r in rows} == {referenced(delete)}


def test_delete_of_every_row_of_a_file_removes_it(floe, official, catalog, ns):
    three_files(floe, f"lake.{ns}.t")
    assert floe.execute(f"DELETE FROM lake.{ns}.t WHERE id < 100").fetchall() == [(100,)]
    expected = ordered([(i, f"v{i}", i % 3) for i in range(100, 300)])
    assert duckdb_rows(floe, f"SELECT * FROM lake.{ns}.t") == expected
    assert pyiceberg_rows(catalog, f"{ns}.t") == expected
    assert duckdb_rows(official, f"SELECT * FROM lake.{ns}.t") == expected
    summary = catalog.load_table(f"{ns}.t").current_snapshot().summary
    assert summary["deleted-data-files"] == "1" and summary["deleted-records"] == "100"
    assert summary["total-data-files"] == "2" and summary.get("added-delete-files") is None
    assert [e.data_file.content for e in entries(catalog, f"{ns}.t")] == [DataFileContent.DATA] * 2

    # A file emptied in two steps goes too, with the delete file of the first step.
    floe.execute(f"DELETE FROM lake.{ns}.t WHERE id >= 100 AND id < 150")
    floe.execute(f"DELETE FROM lake.{ns}.t WHERE id >= 150 AND id < 200")
    live = entries(catalog, f"{ns}.t")
    assert [e.data_file.content for e in live] == [DataFileContent.DATA]
    expected = ordered([(i, f"v{i}", i % 3) for i in range(200, 300)])
    assert pyiceberg_rows(catalog, f"{ns}.t") == expected
    assert duckdb_rows(floe, f"SELECT * FROM lake.{ns}.t") == expected


def test_delete_in_partitioned_table_after_a_spec_change(floe, official, catalog, ns):
    floe.execute(f"CREATE TABLE lake.{ns}.p (id BIGINT, v VARCHAR, part BIGINT)")
    floe.execute(f"ALTER TABLE lake.{ns}.p SET PARTITIONED BY (part)")
    floe.execute(f"INSERT INTO lake.{ns}.p SELECT i, 'v' || i, i % 3 FROM range(300) t(i)")
    floe.execute(f"ALTER TABLE lake.{ns}.p SET PARTITIONED BY (bucket(4, id))")
    floe.execute(f"INSERT INTO lake.{ns}.p SELECT i, 'v' || i, i % 3 FROM range(300, 600) t(i)")
    # Rows of files of both specs.
    assert floe.execute(f"DELETE FROM lake.{ns}.p WHERE id % 7 = 0").fetchall() == [(86,)]
    expected = ordered([(i, f"v{i}", i % 3) for i in range(600) if i % 7 != 0])
    assert duckdb_rows(floe, f"SELECT * FROM lake.{ns}.p") == expected
    assert pyiceberg_rows(catalog, f"{ns}.p") == expected
    assert duckdb_rows(official, f"SELECT * FROM lake.{ns}.p") == expected
    # Each delete file carries its data file's spec and partition (a reader matches on both).
    table = catalog.load_table(f"{ns}.p")
    data = {}
    deletes = []
    for manifest in table.current_snapshot().manifests(table.io):
        for entry in manifest.fetch_manifest_entry(table.io, discard_deleted=True):
            if entry.data_file.content == DataFileContent.DATA:
                data[entry.data_file.file_path] = (manifest.partition_spec_id, entry.data_file.partition)
            else:
                deletes.append((manifest.partition_spec_id, entry.data_file))
    assert {spec for spec, _ in deletes} == {1, 2}
    for spec, delete in deletes:
        assert data[referenced(delete)] == (spec, delete.partition)
    # Deleting a whole partition removes its files.
    floe.execute(f"DELETE FROM lake.{ns}.p WHERE part = 1 AND id < 300")
    expected = ordered([row for row in expected if not (row[2] == 1 and row[0] < 300)])
    assert pyiceberg_rows(catalog, f"{ns}.p") == expected
    assert duckdb_rows(official, f"SELECT * FROM lake.{ns}.p") == expected


def test_delete_using_a_join_that_matches_a_row_twice_deletes_it_once(floe, catalog, ns):
    three_files(floe, f"lake.{ns}.t")
    # dbt's composite-key delete+insert: a source with duplicate keys.
    floe.execute("CREATE TEMP TABLE src AS SELECT * FROM (VALUES (5, 2), (5, 2), (7, 1), (8, 2), (9, 1)) s(id, part)")
    deleted = floe.execute(
        f"DELETE FROM lake.{ns}.t AS x USING src WHERE src.id = x.id AND src.part = x.part"
    ).fetchall()
    assert deleted == [(3,)]
    expected = ordered([(i, f"v{i}", i % 3) for i in range(300) if i not in (5, 7, 8)])
    assert pyiceberg_rows(catalog, f"{ns}.t") == expected
    # The IN form dbt uses for one key.
    floe.execute(f"DELETE FROM lake.{ns}.t WHERE id IN (SELECT id FROM src UNION ALL SELECT 10)")
    assert duckdb_rows(floe, f"SELECT id FROM lake.{ns}.t WHERE id < 12") == ordered([(i,) for i in range(12) if i not in (5, 7, 8, 9, 10)])


def test_deletes_in_a_transaction_are_read_back_and_commit_atomically(floe, catalog, ns):
    three_files(floe, f"lake.{ns}.t")
    floe.execute(f"CREATE TABLE lake.{ns}.u AS SELECT i AS id FROM range(10) t(i)")
    before = catalog.load_table(f"{ns}.t").current_snapshot().snapshot_id

    floe.execute("BEGIN")
    floe.execute(f"DELETE FROM lake.{ns}.t WHERE id < 150")
    floe.execute(f"INSERT INTO lake.{ns}.t SELECT i, 'new', 0 FROM range(1000, 1010) t(i)")
    floe.execute(f"DELETE FROM lake.{ns}.t WHERE id IN (151, 1001)")
    floe.execute(f"DELETE FROM lake.{ns}.u WHERE id % 2 = 1")
    assert floe.execute(f"SELECT count(*), min(id) FROM lake.{ns}.t").fetchall() == [(158, 150)]
    assert floe.execute(f"SELECT count(*) FROM lake.{ns}.t WHERE id >= 1000").fetchall() == [(9,)]
    floe.execute("ROLLBACK")
    assert catalog.load_table(f"{ns}.t").current_snapshot().snapshot_id == before
    assert floe.execute(f"SELECT count(*) FROM lake.{ns}.t").fetchall() == [(300,)]

    floe.execute("BEGIN")
    floe.execute(f"DELETE FROM lake.{ns}.t WHERE id < 150")
    floe.execute(f"INSERT INTO lake.{ns}.t SELECT i, 'new', 0 FROM range(1000, 1010) t(i)")
    # Every row of the file this transaction wrote: it is never committed.
    floe.execute(f"DELETE FROM lake.{ns}.t WHERE id >= 1000 AND id < 1010")
    floe.execute(f"DELETE FROM lake.{ns}.t WHERE id = 151")
    floe.execute(f"DELETE FROM lake.{ns}.u WHERE id % 2 = 1")
    floe.execute("COMMIT")
    expected = ordered([(i, f"v{i}", i % 3) for i in range(150, 300) if i != 151])
    assert pyiceberg_rows(catalog, f"{ns}.t") == expected
    assert pyiceberg_rows(catalog, f"{ns}.u") == [(i,) for i in range(0, 10, 2)]
    table = catalog.load_table(f"{ns}.t")
    # One snapshot for the whole transaction.
    assert table.current_snapshot().parent_snapshot_id == before
    assert table.current_snapshot().summary["added-records"] == "0"


def test_delete_after_a_new_partitioning_in_the_same_transaction(floe, catalog, ns):
    three_files(floe, f"lake.{ns}.t")
    floe.execute("BEGIN")
    floe.execute(f"ALTER TABLE lake.{ns}.t SET PARTITIONED BY (part)")
    floe.execute(f"DELETE FROM lake.{ns}.t WHERE id % 10 = 3")
    floe.execute("COMMIT")
    table = catalog.load_table(f"{ns}.t")
    assert [f.name for f in table.spec().fields] == ["part"]
    assert pyiceberg_rows(catalog, f"{ns}.t") == ordered([(i, f"v{i}", i % 3) for i in range(300) if i % 10 != 3])


def test_a_failing_delete_changes_nothing(floe, catalog, ns):
    three_files(floe, f"lake.{ns}.t")
    before = catalog.load_table(f"{ns}.t").current_snapshot().snapshot_id
    with pytest.raises(duckdb.Error):
        floe.execute(f"DELETE FROM lake.{ns}.t WHERE id < 100 OR CAST(v AS INTEGER) > 0")
    assert catalog.load_table(f"{ns}.t").current_snapshot().snapshot_id == before
    assert floe.execute(f"SELECT count(*) FROM lake.{ns}.t").fetchall() == [(300,)]
    with pytest.raises(duckdb.Error, match="RETURNING is not supported"):
        floe.execute(f"DELETE FROM lake.{ns}.t WHERE id = 1 RETURNING id")


def test_copy_on_write_rewrites_the_touched_files(floe, official, catalog, ns):
    three_files(floe, f"lake.{ns}.t")
    floe.execute(f"DELETE FROM lake.{ns}.t WHERE id = 20")  # merge-on-read first: a delete file
    with catalog.load_table(f"{ns}.t").transaction() as tx:
        tx.set_properties(
            {"write.delete.mode": "copy-on-write", "write.update.mode": "copy-on-write", "write.merge.mode": "copy-on-write"}
        )
    assert floe.execute(f"DELETE FROM lake.{ns}.t WHERE id % 10 = 1").fetchall() == [(30,)]
    expected = ordered([(i, f"v{i}", i % 3) for i in range(300) if i % 10 != 1 and i != 20])
    assert duckdb_rows(floe, f"SELECT * FROM lake.{ns}.t") == expected
    assert pyiceberg_rows(catalog, f"{ns}.t") == expected
    assert duckdb_rows(official, f"SELECT * FROM lake.{ns}.t") == expected
    summary = catalog.load_table(f"{ns}.t").current_snapshot().summary
    assert summary.operation.value == "overwrite"
    assert summary["deleted-data-files"] == "3" and summary["added-data-files"] == "3"
    # The rewrite applied the earlier delete file, which went with its data file.
    live = entries(catalog, f"{ns}.t")
    assert [e.data_file.content for e in live] == [DataFileContent.DATA] * 3
    assert sorted(e.data_file.record_count for e in live) == [89, 90, 90]
    # Column metrics of the rewritten files, for other engines' pruning.
    assert all(e.data_file.lower_bounds and e.data_file.null_value_counts for e in live)

    floe.execute(f"UPDATE lake.{ns}.t SET v = 'u' WHERE id < 5")
    floe.execute("CREATE TEMP TABLE s AS SELECT 7 AS id, 'm' AS v, 1 AS part UNION ALL SELECT 400, 'n', 1")
    floe.execute(
        f"MERGE INTO lake.{ns}.t t USING s ON t.id = s.id WHEN MATCHED THEN UPDATE SET v = s.v "
        "WHEN NOT MATCHED THEN INSERT BY NAME"
    )
    expected = ordered(
        [(i, "u" if i < 5 else "m" if i == 7 else f"v{i}", i % 3) for i in range(300) if i % 10 != 1 and i != 20]
        + [(400, "n", 1)]
    )
    assert pyiceberg_rows(catalog, f"{ns}.t") == expected
    assert duckdb_rows(official, f"SELECT * FROM lake.{ns}.t") == expected
    assert not [e for e in entries(catalog, f"{ns}.t") if e.data_file.content != DataFileContent.DATA]

    # In a transaction: read back, then more deletes of the rewritten files.
    floe.execute("BEGIN")
    floe.execute(f"DELETE FROM lake.{ns}.t WHERE id < 100")
    assert floe.execute(f"SELECT count(*) FROM lake.{ns}.t WHERE id < 100").fetchall() == [(0,)]
    floe.execute(f"DELETE FROM lake.{ns}.t WHERE id >= 100 AND id < 150")
    floe.execute("COMMIT")
    expected = [row for row in expected if row[0] >= 150]
    assert pyiceberg_rows(catalog, f"{ns}.t") == expected
    assert duckdb_rows(floe, f"SELECT * FROM lake.{ns}.t") == expected


def test_bad_mode_properties_are_refused_with_the_fix(floe, catalog, ns):
    three_files(floe, f"lake.{ns}.t")
    with catalog.load_table(f"{ns}.t").transaction() as tx:
        tx.set_properties({"write.delete.mode": "rewrite-everything"})
    with pytest.raises(duckdb.Error, match="neither copy-on-write nor merge-on-read.*Fix: set the table property"):
        floe.execute(f"DELETE FROM lake.{ns}.t WHERE id = 1")
    with catalog.load_table(f"{ns}.t").transaction() as tx:
        tx.set_properties({"write.delete.mode": "merge-on-read", "write.delete.isolation-level": "linear"})
    with pytest.raises(duckdb.Error, match="neither serializable nor snapshot"):
        floe.execute(f"DELETE FROM lake.{ns}.t WHERE id = 1")
    assert len(pyiceberg_rows(catalog, f"{ns}.t")) == 300


def test_concurrent_append_the_condition_could_match_fails_a_serializable_delete(floe, extension, catalog_bed, catalog, ns):
    three_files(floe, f"lake.{ns}.t")
    other = second_connection(extension, catalog_bed)
    try:
        floe.execute("BEGIN")
        floe.execute(f"DELETE FROM lake.{ns}.t WHERE id < 50")
        other.execute(f"INSERT INTO lake.{ns}.t VALUES (7, 'late', 1)")
        with pytest.raises(duckdb.Error, match="could match.*serializable"):
            floe.execute("COMMIT")
        rows = pyiceberg_rows(catalog, f"{ns}.t")
        assert len(rows) == 301 and (7, "late", 1) in rows

        # An append the condition cannot match lands next to the DELETE.
        floe.execute("BEGIN")
        floe.execute(f"DELETE FROM lake.{ns}.t WHERE id < 50")
        other.execute(f"INSERT INTO lake.{ns}.t VALUES (5000, 'far', 1)")
        floe.execute("COMMIT")
        rows = pyiceberg_rows(catalog, f"{ns}.t")
        assert (5000, "far", 1) in rows and not [r for r in rows if r[0] < 50]

        # Under snapshot isolation a matching append lands too, and keeps its row.
        with catalog.load_table(f"{ns}.t").transaction() as tx:
            tx.set_properties({"write.delete.isolation-level": "snapshot"})
        floe.execute("BEGIN")
        floe.execute(f"DELETE FROM lake.{ns}.t WHERE id < 60")
        other.execute(f"INSERT INTO lake.{ns}.t VALUES (55, 'kept', 1)")
        floe.execute("COMMIT")
        rows = pyiceberg_rows(catalog, f"{ns}.t")
        assert (55, "kept", 1) in rows and [r for r in rows if r[0] < 60] == [(55, "kept", 1)]
    finally:
        other.close()


def test_a_conflicting_append_is_found_after_a_later_commit_merged_its_manifest(floe, extension, catalog_bed, catalog, ns):
    """The matching append's manifest was merged by the next commit (its entry now EXISTING in a
    manifest of that commit): the check reads each concurrent snapshot's own manifests."""
    floe.execute(f"CREATE TABLE lake.{ns}.t AS SELECT i AS id FROM range(100) t(i)")
    floe.execute(f"ALTER TABLE lake.{ns}.t SET ('commit.manifest.min-count-to-merge' = '3')")
    other = second_connection(extension, catalog_bed)
    try:
        floe.execute("BEGIN")
        floe.execute(f"DELETE FROM lake.{ns}.t WHERE id < 50")
        other.execute(f"INSERT INTO lake.{ns}.t VALUES (7)")
        other.execute(f"INSERT INTO lake.{ns}.t VALUES (5000)")
        table = catalog.load_table(f"{ns}.t")
        assert table.current_snapshot().summary["manifests-replaced"] == "2"
        with pytest.raises(duckdb.Error, match="could match.*serializable"):
            floe.execute("COMMIT")
        rows = pyiceberg_rows(catalog, f"{ns}.t")
        assert len(rows) == 102 and (7,) in rows
    finally:
        other.close()


def test_concurrent_deletes_of_the_same_file_never_both_apply(floe, extension, catalog_bed, catalog, ns):
    three_files(floe, f"lake.{ns}.t")
    other = second_connection(extension, catalog_bed)
    try:
        floe.execute("BEGIN")
        floe.execute(f"DELETE FROM lake.{ns}.t WHERE id = 10")
        other.execute(f"DELETE FROM lake.{ns}.t WHERE id = 20")
        with pytest.raises(duckdb.Error, match="deleted rows of the same data files"):
            floe.execute("COMMIT")
        assert [r[0] for r in pyiceberg_rows(catalog, f"{ns}.t") if r[0] in (10, 20)] == [10]

        # A concurrent delete that emptied (removed) the file.
        floe.execute("BEGIN")
        floe.execute(f"DELETE FROM lake.{ns}.t WHERE id = 110")
        other.execute(f"DELETE FROM lake.{ns}.t WHERE id >= 100 AND id < 200")
        with pytest.raises(duckdb.Error, match="removed or rewrote data file"):
            floe.execute("COMMIT")
        assert len(pyiceberg_rows(catalog, f"{ns}.t")) == 199
    finally:
        other.close()
