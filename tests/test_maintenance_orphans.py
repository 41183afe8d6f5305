"""CALL floe_remove_orphan_files: stray files older than the threshold go, younger ones and every
file the metadata references stay, dry runs delete nothing, thresholds under a day and tables
with gc.enabled=false are refused.

Files have to be days old for the procedure to touch them. S3 offers no way to backdate an
object, so these tests run on a catalog whose warehouse is a local directory (Rustberg with a
file:// warehouse, tests/rustberg.py), where a file's modification time is set with os.utime —
the same listing and deletion code floe runs against object stores (floe_core::storage)."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path
from typing import Iterator

import duckdb
import pyarrow as pa
import pytest

from tests.engines import floe_connection
from tests.progress import assert_progress_shown, progress_while, shown_while_running
from tests.rows import duckdb_rows, sort_key
from tests.rustberg import Rustberg
from tests.killed import killed_after

DAY = 24 * 60 * 60


class LocalWarehouse:
    """Rustberg serving a warehouse in a local directory; floe and PyIceberg attached to it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.warehouse = (root / "wh").as_uri()
        self.rustberg = Rustberg(root, self.warehouse, {})

    def __enter__(self) -> LocalWarehouse:
        self.rustberg.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.rustberg.__exit__(*exc)

    def setup_sql(self) -> list[str]:
        """What a floe connection runs to attach the catalog as `lake`."""
        return [
            "SET autoinstall_known_extensions = false",
            f"ATTACH 'rustberg' AS lake (TYPE ICEBERG, ENDPOINT '{self.rustberg.uri}', "
            f"WAREHOUSE '{self.warehouse}', TOKEN '{self.rustberg.api_key}')",
        ]

    def floe(self, extension: str) -> duckdb.DuckDBPyConnection:
        con = floe_connection(extension)
        for statement in self.setup_sql():
            con.execute(statement)
        return con

    def pyiceberg(self):
        from pyiceberg.catalog import load_catalog

        return load_catalog("local", type="rest", uri=self.rustberg.uri, token=self.rustberg.api_key)


@pytest.fixture(scope="module")
def local(tmp_path_factory) -> Iterator[LocalWarehouse]:
    with LocalWarehouse(tmp_path_factory.mktemp("orphans")) as bed:
        yield bed


@pytest.fixture()
def con(local, extension) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = local.floe(extension)
    yield connection
    connection.close()


@pytest.fixture()
def table(con, request) -> str:
    """A table of two data files (two commits) in a namespace of the test's own."""
    ns = "o_" + uuid.uuid4().hex[:8]
    con.execute(f"CREATE SCHEMA lake.{ns}")
    con.execute(f"CREATE TABLE lake.{ns}.t AS SELECT i AS id FROM range(10) t(i)")
    con.execute(f"INSERT INTO lake.{ns}.t SELECT i FROM range(10, 20) t(i)")
    return f"lake.{ns}.t"


def location(local: LocalWarehouse, table: str) -> Path:
    _, ns, name = table.split(".")
    return Path(local.pyiceberg().load_table(f"{ns}.{name}").location().removeprefix("file://"))


def files_under(root: Path) -> set[Path]:
    return {path for path in root.rglob("*") if path.is_file()}


def stray(root: Path, name: str, age_days: float) -> Path:
    """A file no metadata references, last modified `age_days` ago."""
    path = root / "data" / name
    path.write_bytes(b"PAR1 left by a writer that never committed")
    past = time.time() - age_days * DAY
    os.utime(path, (past, past))
    return path


def age_everything(root: Path, days: float) -> None:
    """Backdates every file of the table: live files are never deleted, however old."""
    past = time.time() - days * DAY
    for path in files_under(root):
        os.utime(path, (past, past))


def orphans(con, table: str, arguments: str = "") -> list[str]:
    cursor = con.execute(f"CALL floe_remove_orphan_files('{table}'{', ' + arguments if arguments else ''})")
    assert [column[0] for column in cursor.description] == ["orphan_file_location"]
    return sorted(row[0] for row in cursor.fetchall())


def test_old_stray_files_go_young_ones_and_live_files_stay(local, con, table):
    root = location(local, table)
    age_everything(root, 10)
    live = files_under(root)
    old = stray(root, "old-orphan.parquet", 4)
    young = stray(root, "young-orphan.parquet", 2)
    rows = duckdb_rows(con, f"SELECT * FROM {table}")

    removed = orphans(con, table)

    assert removed == [old.as_uri()]
    assert not old.exists() and young.exists()
    assert files_under(root) == live | {young}
    assert rows == sorted([(i,) for i in range(20)], key=sort_key)
    assert duckdb_rows(con, f"SELECT * FROM {table}") == rows
    _, ns, name = table.split(".")
    assert local.pyiceberg().load_table(f"{ns}.{name}").scan().to_arrow().num_rows == 20
    # A threshold of one day and a half reaches the younger one too.
    assert orphans(con, table, "older_than => now() - INTERVAL 36 HOUR") == [young.as_uri()]
    assert files_under(root) == live


def test_dry_run_deletes_nothing(local, con, table):
    root = location(local, table)
    old = stray(root, "old-orphan.parquet", 5)
    before = files_under(root)
    assert orphans(con, table, "dry_run => true") == [old.as_uri()]
    assert files_under(root) == before


def test_files_of_expired_snapshots_and_old_metadata_files_are_not_orphans(local, con, table):
    """Metadata files in the log and files only an older snapshot reads are referenced."""
    root = location(local, table)
    con.execute(f"DELETE FROM {table} WHERE id < 10")
    age_everything(root, 10)
    before = files_under(root)
    assert sum(1 for path in before if path.name.endswith(".metadata.json")) >= 3
    assert orphans(con, table) == []
    assert files_under(root) == before
    assert duckdb_rows(con, f"SELECT * FROM {table}") == sorted([(i,) for i in range(10, 20)], key=sort_key)


def test_a_threshold_under_a_day_is_refused(local, con, table):
    old = stray(location(local, table), "old-orphan.parquet", 5)
    with pytest.raises(duckdb.InvalidInputException, match="older_than must be at least one day ago"):
        orphans(con, table, "older_than => now() - INTERVAL 23 HOUR")
    assert old.exists()


def test_gc_disabled_refuses(local, con, table):
    old = stray(location(local, table), "old-orphan.parquet", 5)
    con.execute(f"ALTER TABLE {table} SET ('gc.enabled' = 'false')")
    with pytest.raises(duckdb.InvalidInputException, match=r"refuses table .*gc\.enabled is false"):
        orphans(con, table)
    assert old.exists()


def test_pyiceberg_written_table(local, con):
    catalog = local.pyiceberg()
    ns = "o_" + uuid.uuid4().hex[:8]
    catalog.create_namespace(ns)
    written = catalog.create_table(f"{ns}.t", schema=pa.schema([("id", pa.int64())]))
    for i in range(3):
        written.append(pa.table({"id": pa.array([i], pa.int64())}))
    root = Path(written.location().removeprefix("file://"))
    age_everything(root, 10)
    live = files_under(root)
    old = stray(root, "old-orphan.parquet", 5)
    assert orphans(con, f"lake.{ns}.t") == [old.as_uri()]
    assert files_under(root) == live
    assert duckdb_rows(con, f"SELECT * FROM lake.{ns}.t") == [(0,), (1,), (2,)]


def test_kill_9_during_orphan_removal_leaves_a_table_every_reader_reads(local, con, table, extension):
    """Killed while it lists and deletes, the procedure leaves every live file and some of the
    strays; a second call removes the rest."""
    root = location(local, table)
    for i in range(20, 40):
        con.execute(f"INSERT INTO {table} VALUES ({i})")
    live = files_under(root)
    strays = {stray(root, f"orphan-{i:04d}.parquet", 5) for i in range(2000)}
    expected = sorted([(i,) for i in range(40)], key=sort_key)
    _, ns, name = table.split(".")
    interrupted = 0
    sql = f"CALL floe_remove_orphan_files('{table}')"
    for killed in killed_after(extension, local.setup_sql(), sql, (0.0, 0.05, 0.2, 0.5)):
        interrupted += killed
        left = files_under(root)
        assert live <= left and left - live <= strays
        assert duckdb_rows(con, f"SELECT * FROM {table}") == expected
        assert sorted(local.pyiceberg().load_table(f"{ns}.{name}").scan().to_arrow().column("id").to_pylist()) == list(range(40))
    assert interrupted > 0, "every kill came after the call returned"

    remaining = files_under(root) - live
    assert orphans(con, table) == sorted(path.as_uri() for path in remaining)
    assert files_under(root) == live
    assert duckdb_rows(con, f"SELECT * FROM {table}") == expected


def test_a_key_the_metadata_names_in_another_bucket_stops_it(floe, testbed):
    """The table references s3://raw/<key>, and an object with the same key lies under the table's
    own location in bucket lake: deleting it as unreferenced would be right only if the bucket
    difference is real, so the procedure refuses before deleting anything (S3 test bed)."""
    import pyarrow.parquet as pq

    ns = "o_" + uuid.uuid4().hex[:8]
    floe.execute(f"CREATE SCHEMA lake.{ns}")
    floe.execute(f"CREATE TABLE lake.{ns}.t (id BIGINT)")
    catalog = testbed.pyiceberg_catalog(vended_credentials=False)
    table = catalog.load_table(f"{ns}.t")
    key = table.location().removeprefix("s3://lake/") + "/data/shared-key.parquet"
    s3 = testbed.pyarrow_s3()
    rows = pa.table({"id": pa.array([1, 2], pa.int64())})
    for bucket in ("raw", "lake"):
        pq.write_table(rows, f"{bucket}/{key}", filesystem=s3)
    table.add_files([f"s3://raw/{key}"])
    before = set(testbed.s3_files(table.location()))

    for arguments in ("dry_run => true", ""):
        with pytest.raises(duckdb.InvalidInputException, match=rf"s3://lake/{key}, which is not in the S3 bucket 'raw'"):
            orphans(floe, f"lake.{ns}.t", arguments)
    assert set(testbed.s3_files(table.location())) == before
    assert f"lake/{key}" in before


@shown_while_running
def test_progress_is_shown_while_files_are_read_listed_and_deleted(local, con, table):
    # 60 snapshots' manifests read, 3000 strays listed and deleted, on a thread of its own while
    # DuckDB's executor reads the progress.
    root = location(local, table)
    for i in range(20, 80):
        con.execute(f"INSERT INTO {table} VALUES ({i})")
    live = files_under(root)
    strays = {stray(root, f"orphan-{i:04d}.parquet", 5) for i in range(3000)}
    rows, samples = progress_while(con, f"CALL floe_remove_orphan_files('{table}')")
    assert sorted(row[0] for row in rows) == sorted(path.as_uri() for path in strays)
    assert files_under(root) == live
    assert_progress_shown(samples)
