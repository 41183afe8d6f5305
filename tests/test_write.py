"""Writes go through catalog commits and are read back identically by PyIceberg and the official
iceberg extension on DuckDB 1.5.5 (the reference engine's process)."""

from __future__ import annotations

import decimal
import re

import duckdb
import pyarrow.parquet as pq
import pytest

from tests.both_catalogs import BOTH_CATALOGS
from tests.rows import duckdb_rows, pyiceberg_rows

pytestmark = BOTH_CATALOGS


@pytest.fixture()
def ns(floe, request) -> str:
    """A fresh namespace per test, created through floe."""
    name = "w_" + re.sub("[^a-z0-9]+", "_", request.node.name.lower().removeprefix("test_"))[:32].strip("_")
    floe.execute(f"DROP SCHEMA IF EXISTS lake.{name} CASCADE")
    floe.execute(f"CREATE SCHEMA lake.{name}")
    return name


MIXED = """
    SELECT i AS id,
           'name-' || i AS name,
           (i * 1.25)::DECIMAL(12, 2) AS amount,
           i % 3 = 0 AS flag,
           DATE '2026-01-01' + (i % 365)::INTEGER AS day,
           TIMESTAMP '2026-01-01 00:00:00' + INTERVAL (i) SECOND AS ts,
           TIMESTAMPTZ '2026-01-01 00:00:00+00' + INTERVAL (i) MINUTE AS tstz,
           (i / 7)::DOUBLE AS ratio,
           (i % 100)::TINYINT AS tiny,
           CASE WHEN i % 5 = 0 THEN NULL ELSE i::VARCHAR END AS maybe,
           {'x': i, 'y': 'p' || i} AS point,
           [i, i + 1] AS pair,
           MAP {'k': i} AS attrs,
           md5(i::VARCHAR)::UUID AS uid,
           ('blob' || i)::BLOB AS payload
    FROM range(1000) t(i)
"""


def in_commit_order(table) -> list:
    """The table's snapshots by sequence number: the metadata's list of them has no order (Rustberg's
    is not the commit order)."""
    return sorted(table.snapshots(), key=lambda s: s.sequence_number)


def test_ctas_reads_back_in_every_engine(floe, official, catalog, ns):
    floe.execute(f"CREATE TABLE lake.{ns}.mixed AS {MIXED}")
    expected = duckdb_rows(floe, f"SELECT * FROM ({MIXED})")
    assert duckdb_rows(floe, f"SELECT * FROM lake.{ns}.mixed") == expected
    assert pyiceberg_rows(catalog, f"{ns}.mixed") == expected
    assert duckdb_rows(official, f"SELECT * FROM lake.{ns}.mixed") == expected

    table = catalog.load_table(f"{ns}.mixed")
    fields = {f.name: str(f.field_type) for f in table.schema().fields}
    assert fields["tiny"] == "int" and fields["amount"] == "decimal(12, 2)" and fields["tstz"] == "timestamptz"
    summary = table.current_snapshot().summary
    assert summary.operation.value == "append"
    assert summary["added-records"] == "1000" and summary["total-records"] == "1000"
    assert summary["engine-name"] == "floe" and summary["duckdb-version"] == f"v{duckdb.__version__}"
    # Column bounds land in the manifests, so other engines can prune.
    files = [
        entry.data_file
        for manifest in table.current_snapshot().manifests(table.io)
        for entry in manifest.fetch_manifest_entry(table.io)
    ]
    ids = {f.name: f.field_id for f in table.schema().fields}
    assert files and all(ids["id"] in f.lower_bounds and ids["day"] in f.upper_bounds for f in files)
    assert all(f.null_value_counts[ids["maybe"]] == 200 for f in files)


def test_insert_forms(floe, catalog, ns):
    floe.execute(f"CREATE TABLE lake.{ns}.t (id INTEGER NOT NULL, name VARCHAR, price DECIMAL(10, 2))")
    floe.execute(f"INSERT INTO lake.{ns}.t VALUES (1, 'a', 1.50), (2, 'b', NULL)")
    floe.execute(f"INSERT INTO lake.{ns}.t SELECT 3, 'c', 3.25")
    floe.execute(f"INSERT INTO lake.{ns}.t (id) VALUES (4)")
    floe.execute(f"INSERT INTO lake.{ns}.t BY NAME SELECT 9.99 AS price, 5 AS id")
    expected = [
        (1, "a", decimal.Decimal("1.50")),
        (2, "b", None),
        (3, "c", decimal.Decimal("3.25")),
        (4, None, None),
        (5, None, decimal.Decimal("9.99")),
    ]
    assert floe.execute(f"SELECT * FROM lake.{ns}.t ORDER BY id").fetchall() == expected
    assert sorted(catalog.load_table(f"{ns}.t").scan().to_arrow().to_pylist(), key=lambda r: r["id"])[3] == {
        "id": 4,
        "name": None,
        "price": None,
    }
    assert len(catalog.load_table(f"{ns}.t").snapshots()) == 4
    assert catalog.load_table(f"{ns}.t").schema().find_field("id").required


def test_create_or_replace_keeps_history(floe, catalog, ns):
    floe.execute(f"CREATE TABLE lake.{ns}.r AS SELECT 1 AS id, 'old' AS v")
    floe.execute(f"CREATE OR REPLACE TABLE lake.{ns}.r AS SELECT 2.5::DOUBLE AS score")
    assert floe.execute(f"SELECT * FROM lake.{ns}.r").fetchall() == [(2.5,)]
    table = catalog.load_table(f"{ns}.r")
    assert [f.name for f in table.schema().fields] == ["score"]
    snapshots = in_commit_order(table)
    assert [s.summary.operation.value for s in snapshots] == ["append", "overwrite"]
    assert table.current_snapshot().summary["deleted-records"] == "1"
    first = snapshots[0].snapshot_id
    assert floe.execute(f"SELECT * FROM lake.{ns}.r AT (VERSION => {first})").fetchall() == [(1, "old")]


def test_drop_rename_and_schemas(floe, catalog, ns):
    floe.execute(f"CREATE TABLE lake.{ns}.a AS SELECT 1 AS x")
    floe.execute(f"ALTER TABLE lake.{ns}.a RENAME TO b")
    assert catalog.table_exists(f"{ns}.b") and not catalog.table_exists(f"{ns}.a")
    assert floe.execute(f"SELECT x FROM lake.{ns}.b").fetchall() == [(1,)]
    floe.execute(f"DROP TABLE lake.{ns}.b")
    assert not catalog.table_exists(f"{ns}.b")
    floe.execute(f"DROP TABLE IF EXISTS lake.{ns}.b")
    with pytest.raises(duckdb.CatalogException, match="does not exist"):
        floe.execute(f"DROP TABLE lake.{ns}.b")
    floe.execute(f"CREATE TABLE lake.{ns}.keep AS SELECT 1 AS x")
    with pytest.raises(duckdb.Error, match="is not empty"):
        floe.execute(f"DROP SCHEMA lake.{ns}")
    floe.execute(f"DROP SCHEMA lake.{ns} CASCADE")
    assert (ns,) not in catalog.list_namespaces()


def test_rollback_leaves_catalog_and_storage_as_they_were(floe, catalog_bed, catalog, ns):
    floe.execute(f"CREATE TABLE lake.{ns}.t AS SELECT 1 AS x")
    table = catalog.load_table(f"{ns}.t")
    before_files = catalog_bed.s3_files(table.location())
    floe.execute("BEGIN")
    floe.execute(f"INSERT INTO lake.{ns}.t SELECT range FROM range(1000)")
    floe.execute(f"CREATE TABLE lake.{ns}.new AS SELECT 1 AS y")
    assert floe.execute(f"SELECT count(*) FROM lake.{ns}.t").fetchone() == (1001,)
    floe.execute("ROLLBACK")
    assert floe.execute(f"SELECT count(*) FROM lake.{ns}.t").fetchone() == (1,)
    assert not catalog.table_exists(f"{ns}.new")
    assert catalog.load_table(f"{ns}.t").current_snapshot().snapshot_id == table.current_snapshot().snapshot_id
    assert catalog_bed.s3_files(table.location()) == before_files


def test_interleaved_transactions_see_their_own_snapshot(floe, extension, catalog_bed, ns):
    from tests.engines import floe_connection

    other = floe_connection(extension)
    for statement in catalog_bed.duckdb_setup_sql():
        other.execute(statement)
    floe.execute(f"CREATE TABLE lake.{ns}.t AS SELECT 1 AS x")
    floe.execute("BEGIN")
    other.execute("BEGIN")
    floe.execute(f"INSERT INTO lake.{ns}.t VALUES (2)")
    assert other.execute(f"SELECT count(*) FROM lake.{ns}.t").fetchone() == (1,)
    other.execute(f"INSERT INTO lake.{ns}.t VALUES (3)")
    floe.execute("COMMIT")
    # `other` keeps the snapshot it started with, plus its own uncommitted row.
    assert other.execute(f"SELECT count(*) FROM lake.{ns}.t").fetchone() == (2,)
    other.execute("COMMIT")
    # Both commits landed: the second was re-applied on top of the first (409, retried).
    assert floe.execute(f"SELECT x FROM lake.{ns}.t ORDER BY x").fetchall() == [(1,), (2,), (3,)]


def test_multi_table_transaction_commits_atomically(floe, catalog, ns):
    floe.execute(f"CREATE TABLE lake.{ns}.a AS SELECT 1 AS x")
    floe.execute(f"CREATE TABLE lake.{ns}.b AS SELECT 1 AS x")
    floe.execute("BEGIN")
    floe.execute(f"INSERT INTO lake.{ns}.a VALUES (2)")
    floe.execute(f"INSERT INTO lake.{ns}.b VALUES (2)")
    floe.execute("COMMIT")
    assert [len(catalog.load_table(f"{ns}.{t}").snapshots()) for t in "ab"] == [2, 2]

    # One of the two tables disappears before COMMIT: neither changes.
    floe.execute("BEGIN")
    floe.execute(f"INSERT INTO lake.{ns}.a VALUES (3)")
    floe.execute(f"INSERT INTO lake.{ns}.b VALUES (3)")
    catalog.drop_table(f"{ns}.b")
    with pytest.raises(duckdb.TransactionException):
        floe.execute("COMMIT")
    assert floe.execute(f"SELECT max(x) FROM lake.{ns}.a").fetchone() == (2,)


def test_table_created_and_renamed_in_one_transaction(floe, catalog, catalog_bed, ns):
    # dbt's first build of a table: created under a temporary name, renamed before COMMIT. Staged
    # under its final name at the first name's location; Rustberg refuses that location (it keeps
    # a table's files under its own name's prefix), so there it is committed, then renamed.
    floe.execute("BEGIN")
    floe.execute(f"CREATE TABLE lake.{ns}.r__dbt_tmp AS SELECT range AS id FROM range(5)")
    floe.execute(f"ALTER TABLE lake.{ns}.r__dbt_tmp RENAME TO r")
    floe.execute("COMMIT")
    metadata = catalog.load_table(f"{ns}.r").metadata
    # Its snapshot names the schema its rows were written with.
    assert [s.schema_id for s in metadata.snapshots] == [metadata.current_schema_id]
    assert not catalog.table_exists(f"{ns}.r__dbt_tmp")
    # Filters are bound to the snapshot's schema: a wrong schema id fails them.
    assert floe.execute(f"SELECT id FROM lake.{ns}.r WHERE id = 3").fetchall() == [(3,)]
    assert pyiceberg_rows(catalog, f"{ns}.r") == [(i,) for i in range(5)]


def test_dbt_swap_is_one_commit(floe, catalog, ns):
    floe.execute(f"CREATE TABLE lake.{ns}.m AS SELECT 1 AS id, 'v1' AS v")
    uuid = catalog.load_table(f"{ns}.m").metadata.table_uuid
    floe.execute("BEGIN")
    floe.execute(f"CREATE TABLE lake.{ns}.m__dbt_tmp AS SELECT 2 AS id, 'v2' AS v, 2.0 AS extra")
    floe.execute(f"ALTER TABLE lake.{ns}.m RENAME TO m__dbt_backup")
    floe.execute(f"ALTER TABLE lake.{ns}.m__dbt_tmp RENAME TO m")
    floe.execute("COMMIT")
    table = catalog.load_table(f"{ns}.m")
    # The same table, replaced in one snapshot: readers of `m` never saw it missing.
    assert table.metadata.table_uuid == uuid
    assert [s.summary.operation.value for s in in_commit_order(table)] == ["append", "overwrite"]
    assert pyiceberg_rows(catalog, f"{ns}.m") == [(2, "v2", decimal.Decimal("2.0"))]
    assert pyiceberg_rows(catalog, f"{ns}.m__dbt_backup") == [(1, "v1")]
    assert not catalog.table_exists(f"{ns}.m__dbt_tmp")
    floe.execute(f"DROP TABLE IF EXISTS lake.{ns}.m__dbt_backup CASCADE")
    assert pyiceberg_rows(catalog, f"{ns}.m") == [(2, "v2", decimal.Decimal("2.0"))]


def test_incompatible_insert_fails_before_writing(floe, catalog_bed, catalog, ns):
    floe.execute(f"CREATE TABLE lake.{ns}.t (id INTEGER, day DATE)")
    location = catalog.load_table(f"{ns}.t").location()
    with pytest.raises(duckdb.Error):
        floe.execute(f"INSERT INTO lake.{ns}.t VALUES ({{'a': 1}}, DATE '2026-01-01')")
    with pytest.raises(duckdb.Error):
        floe.execute(f"INSERT INTO lake.{ns}.t VALUES (1, 2, 3)")
    assert catalog_bed.s3_files(location + "/data") == []
    assert catalog.load_table(f"{ns}.t").current_snapshot() is None


def test_failed_statement_leaves_no_files(floe, catalog_bed, catalog, ns):
    floe.execute(f"CREATE TABLE lake.{ns}.t (n INTEGER)")
    location = catalog.load_table(f"{ns}.t").location()
    # Fails at run time, after DuckDB's writer may have started a file.
    with pytest.raises(duckdb.Error):
        floe.execute(f"INSERT INTO lake.{ns}.t SELECT CASE WHEN range < 500000 THEN range ELSE error('boom') END FROM range(1000000)")
    assert catalog_bed.s3_files(location + "/data") == []
    assert catalog.load_table(f"{ns}.t").current_snapshot() is None


def test_unsupported_types_name_the_column(floe, ns):
    with pytest.raises(duckdb.Error, match=r"Column 'every' of table '.*\.bad' has DuckDB type INTERVAL"):
        floe.execute(f"CREATE TABLE lake.{ns}.bad (id INTEGER, every INTERVAL)")
    with pytest.raises(duckdb.Error, match="already exists"):
        floe.execute(f"CREATE TABLE lake.{ns}.ok (id INTEGER)")
        floe.execute(f"CREATE TABLE lake.{ns}.ok (id INTEGER)")
    floe.execute(f"CREATE TABLE IF NOT EXISTS lake.{ns}.ok (id INTEGER)")


def test_table_properties_steer_the_writer(floe, catalog, ns):
    # DuckDB sizes row groups in bytes only when it may reorder rows.
    floe.execute("SET preserve_insertion_order = false")
    floe.execute(
        f"CREATE TABLE lake.{ns}.p WITH ('write.target-file-size-bytes' = '262144', "
        f"'write.parquet.row-group-size-bytes' = '131072', "
        f"'write.parquet.compression-codec' = 'snappy', 'owner' = 'data-team') "
        f"AS SELECT range AS id, md5(range::VARCHAR) AS h FROM range(200000)"
    )
    table = catalog.load_table(f"{ns}.p")
    assert table.properties["owner"] == "data-team"
    files = [row[0] for row in floe.execute(f"SELECT DISTINCT filename FROM lake.{ns}.p").fetchall()]
    # DuckDB's writer rotates files between row groups, so small row groups make small files.
    assert len(files) > 3, "files rotate at the target size"
    assert len(row_group_sizes(table, files)) > len(files), "row groups are cut at the byte size"
    # Read by PyIceberg's own FileIO: the files are the table's, not the user's (no httpfs here).
    codecs = set()
    for path in files:
        with table.io.new_input(path).open() as stream:
            metadata = pq.ParquetFile(stream).metadata
        for group in range(metadata.num_row_groups):
            codecs |= {metadata.row_group(group).column(c).compression for c in range(metadata.num_columns)}
    assert codecs == {"SNAPPY"}
    assert len(table.scan().to_arrow()) == 200000


def row_group_sizes(table, files: list[str]) -> list[int]:
    """Rows per row group of each file, read by PyIceberg's own FileIO."""
    sizes = []
    for path in files:
        with table.io.new_input(path).open() as stream:
            metadata = pq.ParquetFile(stream).metadata
        sizes += [metadata.row_group(group).num_rows for group in range(metadata.num_row_groups)]
    return sizes


def test_default_writes_make_full_row_groups(floe, catalog, ns):
    # DuckDB's Parquet writer fills 122,880-row groups; a write that hands it every 2,048-row
    # chunk as a batch of its own gets 2,048-row groups, which readers pay for on every scan.
    floe.execute(f"CREATE TABLE lake.{ns}.g AS SELECT range AS id, range % 7 AS k FROM range(300000)")
    table = catalog.load_table(f"{ns}.g")
    files = [row[0] for row in floe.execute(f"SELECT DISTINCT filename FROM lake.{ns}.g").fetchall()]
    sizes = row_group_sizes(table, files)
    assert sum(sizes) == 300000
    assert max(sizes) == 122880, sizes


def test_column_bounds_prune_files(floe, ns):
    # Four commits of disjoint id ranges: an equality filter on id may open only the one file
    # whose bounds contain the value.
    floe.execute(f"CREATE TABLE lake.{ns}.b AS SELECT range AS id FROM range(0, 1000)")
    for start in (1000, 2000, 3000):
        floe.execute(f"INSERT INTO lake.{ns}.b SELECT range FROM range({start}, {start + 1000})")
    plan = floe.execute(f"EXPLAIN ANALYZE SELECT count(*) FROM lake.{ns}.b WHERE id = 2500").fetchall()[0][1]
    assert int(plan.split("Total Files Read:")[1].split()[0]) == 1, plan
    assert floe.execute(f"SELECT count(*) FROM lake.{ns}.b WHERE id = 2500").fetchone() == (1,)


def test_create_table_partitioned_by(floe, catalog, ns):
    floe.execute(
        f"CREATE TABLE lake.{ns}.pp PARTITIONED BY (region, bucket(4, id)) AS "
        f"SELECT range AS id, ['eu', 'us'][range % 2 + 1] AS region FROM range(100)"
    )
    spec = catalog.load_table(f"{ns}.pp").spec()
    assert [(f.name, str(f.transform)) for f in spec.fields] == [("region", "identity"), ("id_bucket", "bucket[4]")]
    assert floe.execute(f"SELECT count(DISTINCT filename) FROM lake.{ns}.pp").fetchone()[0] == 8
    with pytest.raises(duckdb.Error, match="has no column 'nope' to partition by"):
        floe.execute(f"CREATE TABLE lake.{ns}.bad PARTITIONED BY (nope) AS SELECT 1 AS id")
    with pytest.raises(duckdb.Error, match="SORTED BY is not supported"):
        floe.execute(f"CREATE TABLE lake.{ns}.bad (id INTEGER) SORTED BY (id)")


def test_purge_requested_drops_with_the_files(extension, catalog_bed, catalog, ns):
    from tests.engines import floe_connection

    con = floe_connection(extension)
    for statement in catalog_bed.duckdb_setup_sql()[:-1]:
        con.execute(statement)
    con.execute(catalog_bed.attach_sql("purging", "PURGE_REQUESTED 'true'"))
    con.execute(f"CREATE TABLE purging.{ns}.gone AS SELECT 1 AS x")
    con.execute(f"DROP TABLE purging.{ns}.gone")
    assert not catalog.table_exists(f"{ns}.gone")
    with pytest.raises(duckdb.Error, match="Invalid value 'maybe' for PURGE_REQUESTED"):
        con.execute(catalog_bed.attach_sql("other", "PURGE_REQUESTED 'maybe'"))
