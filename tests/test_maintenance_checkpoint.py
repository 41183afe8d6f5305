"""CHECKPOINT lake and CALL floe_checkpoint('lake'): every table of the catalog expired, compacted,
its manifests merged and its orphan files removed, each with its own properties; a table with
gc.enabled=false loses no file; a step that cannot run is reported and the rest still runs.

The catalog is a Rustberg of the module's own (tests/test_maintenance_orphans.py's local
warehouse), so the checkpoint sees only these tests' tables and orphans can be backdated."""

from __future__ import annotations

import uuid
from typing import Iterator

import duckdb
import pytest

from tests.progress import assert_progress_shown, progress_while, shown_while_running
from tests.rows import duckdb_rows, sort_key
# The local warehouse's fixtures: a Rustberg of this module's own, and a connection attached to it.
from tests.test_maintenance_orphans import con, files_under, local, location, stray  # noqa: F401

COUNTS = [
    "expired_files_count",
    "rewritten_data_files_count",
    "added_data_files_count",
    "rewritten_manifests_count",
    "added_manifests_count",
    "orphan_files_count",
]
COLUMNS = ["table_name", *COUNTS, "note", "error"]


@pytest.fixture()
def ns(con) -> Iterator[str]:
    """A namespace of the test's own, dropped afterwards so later checkpoints do not see it."""
    name = "k_" + uuid.uuid4().hex[:8]
    con.execute(f"CREATE SCHEMA lake.{name}")
    yield name
    con.execute(f"DROP SCHEMA lake.{name} CASCADE")


def small_files(con, table: str, properties: dict[str, str]) -> list[tuple]:
    """Six commits of three rows and a DELETE of one row: six small data files, one with a
    position delete file; the table's rows."""
    con.execute(f"CREATE TABLE {table} (id BIGINT, v VARCHAR)")
    for key, value in properties.items():
        con.execute(f"ALTER TABLE {table} SET ('{key}' = '{value}')")
    for commit in range(6):
        con.execute(f"INSERT INTO {table} SELECT i, 'v' || i FROM range({commit * 3}, {commit * 3 + 3}) t(i)")
    con.execute(f"DELETE FROM {table} WHERE id = 4")
    return sorted(duckdb_rows(con, f"SELECT * FROM {table}"), key=sort_key)


def checkpoint(con) -> dict[str, dict]:
    cursor = con.execute("CALL floe_checkpoint('lake')")
    assert [column[0] for column in cursor.description] == COLUMNS
    return {row[0]: dict(zip(COLUMNS[1:], row[1:])) for row in cursor.fetchall()}


def current_files(local, table: str) -> tuple[int, int]:
    """(live data files, manifests) of the table's current snapshot, as PyIceberg reads them."""
    _, ns, name = table.split(".")
    loaded = local.pyiceberg().load_table(f"{ns}.{name}")
    manifests = loaded.current_snapshot().manifests(loaded.io)
    return len(loaded.inspect.data_files()), len(manifests)


def pyiceberg_rows(local, table: str) -> list[tuple]:
    _, ns, name = table.split(".")
    rows = local.pyiceberg().load_table(f"{ns}.{name}").scan().to_arrow().to_pylist()
    return sorted((tuple(row.values()) for row in rows), key=sort_key)


def test_checkpoint_maintains_each_table_with_its_own_properties(local, con, ns):
    kept = f"lake.{ns}.kept"
    shared = f"lake.{ns}.shared"
    # Snapshots of `kept` expire as soon as they are replaced; `shared` may delete nothing.
    kept_rows = small_files(
        con, kept, {"history.expire.max-snapshot-age-ms": "1", "history.expire.min-snapshots-to-keep": "1"}
    )
    shared_rows = small_files(con, shared, {"gc.enabled": "false", "history.expire.max-snapshot-age-ms": "1"})
    kept_orphan = stray(location(local, kept), "never-committed.parquet", 4)
    shared_orphan = stray(location(local, shared), "never-committed.parquet", 4)
    shared_snapshots = len(local.pyiceberg().load_table(f"{ns}.shared").snapshots())

    result = checkpoint(con)

    kept_result, shared_result = result[f"{ns}.kept"], result[f"{ns}.shared"]
    assert kept_result["error"] is None and shared_result["error"] is None
    # The seven snapshots before the checkpoint's own: their manifest lists at least.
    assert kept_result["expired_files_count"] >= 6
    for outcome in (kept_result, shared_result):
        assert outcome["rewritten_data_files_count"] == 6
        assert outcome["added_data_files_count"] == 1
        # The compaction's one new manifest is all that is live: the manifests of the files it
        # removed (DELETED entries only) are dropped, not merged.
        assert outcome["rewritten_manifests_count"] >= 2
        assert outcome["added_manifests_count"] == 0
    assert kept_result["orphan_files_count"] == 1 and not kept_orphan.exists()
    assert kept_result["note"] is None
    assert shared_result["expired_files_count"] == 0 and shared_result["orphan_files_count"] == 0
    assert "gc.enabled is false" in shared_result["note"]
    assert shared_orphan.exists()
    # Compaction and the manifest rewrite add two snapshots; none of the earlier ones expired.
    assert len(local.pyiceberg().load_table(f"{ns}.shared").snapshots()) == shared_snapshots + 2

    for table, rows in ((kept, kept_rows), (shared, shared_rows)):
        assert current_files(local, table) == (1, 1)
        assert sorted(duckdb_rows(con, f"SELECT * FROM {table}"), key=sort_key) == rows
        assert pyiceberg_rows(local, table) == rows

    # Nothing is left to do: a second checkpoint changes nothing.
    again = checkpoint(con)
    for name in (f"{ns}.kept", f"{ns}.shared"):
        assert [again[name][count] for count in COUNTS[1:]] == [0] * 5
    assert files_under(location(local, shared)) >= {shared_orphan}


def test_checkpoint_statement_runs_the_same_steps_and_logs_each_table(local, con, ns):
    table = f"lake.{ns}.t"
    rows = small_files(con, table, {})
    con.execute("CALL enable_logging(level => 'info')")
    con.execute("CHECKPOINT lake")
    assert current_files(local, table) == (1, 1)
    assert sorted(duckdb_rows(con, f"SELECT * FROM {table}"), key=sort_key) == rows
    messages = [row[0] for row in con.execute("SELECT message FROM duckdb_logs WHERE message LIKE 'floe_checkpoint%'").fetchall()]
    tables = [message for message in messages if f"{ns}.t (" in message]
    assert len(tables) == 1 and tables[0].endswith(": done"), messages
    assert all(" of " in message for message in messages)


def test_a_table_changed_in_the_transaction_is_reported_and_the_others_still_run(local, con, ns):
    busy = f"lake.{ns}.busy"
    idle = f"lake.{ns}.idle"
    busy_rows = small_files(con, busy, {})
    small_files(con, idle, {})
    con.execute("BEGIN")
    con.execute(f"INSERT INTO {busy} VALUES (100, 'pending')")
    with pytest.raises(duckdb.Error) as refused:
        con.execute("CHECKPOINT lake")
    message = str(refused.value)
    assert f"{ns}.busy: this transaction has uncommitted changes to it" in message
    assert "CALL floe_checkpoint('lake')" in message
    con.execute("ROLLBACK")
    # The other table was maintained; the busy one was not touched.
    assert current_files(local, idle) == (1, 1)
    assert current_files(local, busy)[0] == 6
    assert sorted(duckdb_rows(con, f"SELECT * FROM {busy}"), key=sort_key) == busy_rows

    con.execute("BEGIN")
    con.execute(f"INSERT INTO {busy} VALUES (100, 'pending')")
    result = checkpoint(con)
    con.execute("ROLLBACK")
    assert "uncommitted changes" in result[f"{ns}.busy"]["error"]
    assert result[f"{ns}.idle"]["error"] is None


def test_a_catalog_that_is_not_iceberg_is_refused(con):
    with pytest.raises(duckdb.Error, match="'memory' is not an attached Iceberg catalog"):
        con.execute("CALL floe_checkpoint('memory')")
    with pytest.raises(duckdb.Error, match="nope"):
        con.execute("CALL floe_checkpoint('nope')")


@shown_while_running
def test_progress_is_the_share_of_tables_done(local, con, ns):
    # Each table is maintained on a thread of its own while DuckDB's executor reads the progress.
    for table in range(12):
        con.execute(f"CREATE TABLE lake.{ns}.t{table} AS SELECT 1 AS id")
    rows, samples = progress_while(con, "CALL floe_checkpoint('lake')")
    assert len([row for row in rows if row[0].startswith(f"{ns}.")]) == 12
    assert_progress_shown(samples)
