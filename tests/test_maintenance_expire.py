"""CALL floe_expire_snapshots: which snapshots go, which files go with them (really gone from S3),
what is never touched (branch and tag heads, what retained snapshots reference), dry runs,
refusals, interop with PyIceberg's own expiry, and a kill -9 in the middle of it."""

from __future__ import annotations

import re
import time
from datetime import datetime, timezone

import duckdb
import pyarrow as pa
import pytest
from pyiceberg.manifest import DataFileContent
from pyiceberg.table.statistics import StatisticsFile

from tests.progress import assert_progress_shown, progress_while, shown_while_running
from tests.rows import duckdb_rows, pyiceberg_rows, sort_key
from tests.killed import killed_after

COUNTS = (
    "deleted_data_files_count",
    "deleted_position_delete_files_count",
    "deleted_equality_delete_files_count",
    "deleted_manifest_files_count",
    "deleted_manifest_lists_count",
    "deleted_statistics_files_count",
)


@pytest.fixture()
def ns(floe, request) -> str:
    name = "x_" + re.sub("[^a-z0-9]+", "_", request.node.name.lower().removeprefix("test_"))[:32].strip("_")
    floe.execute(f"DROP SCHEMA IF EXISTS lake.{name} CASCADE")
    floe.execute(f"CREATE SCHEMA lake.{name}")
    return name


def expire(floe, table: str, arguments: str = "") -> dict[str, int]:
    cursor = floe.execute(f"CALL floe_expire_snapshots('{table}'{', ' + arguments if arguments else ''})")
    names = [column[0] for column in cursor.description]
    rows = cursor.fetchall()
    assert names == list(COUNTS) and len(rows) == 1
    return dict(zip(names, rows[0]))


def snapshot_files(catalog, identifier: str) -> dict[int, dict[str, set[str]]]:
    """What each snapshot reaches: its manifest list, manifests and live data and delete files."""
    table = catalog.load_table(identifier)
    files = {}
    for snapshot in table.snapshots():
        reached = {"lists": {snapshot.manifest_list}, "manifests": set(), "content": set(), "deletes": set()}
        for manifest in snapshot.manifests(table.io):
            reached["manifests"].add(manifest.manifest_path)
            for entry in manifest.fetch_manifest_entry(table.io, discard_deleted=True):
                kind = "content" if entry.data_file.content == DataFileContent.DATA else "deletes"
                reached[kind].add(entry.data_file.file_path)
        files[snapshot.snapshot_id] = reached
    return files


def every_file(reached: dict[str, set[str]]) -> set[str]:
    return set().union(*reached.values())


def table_files(testbed, catalog, identifier: str) -> set[str]:
    """The objects under the table's location, as S3 lists them (s3:// URLs)."""
    location = catalog.load_table(identifier).location()
    return {"s3://" + path for path in testbed.s3_files(location)}


def same_rows_everywhere(floe, official, catalog, table: str, ns: str, expected: list[tuple]) -> None:
    expected = sorted(expected, key=sort_key)
    assert duckdb_rows(floe, f"SELECT * FROM lake.{ns}.{table}") == expected
    assert pyiceberg_rows(catalog, f"{ns}.{table}") == expected
    assert duckdb_rows(official, f"SELECT * FROM lake.{ns}.{table}") == expected


def two_files_then_delete_first(floe, table: str) -> None:
    """Three snapshots: rows 0..99 (file A), rows 100..199 (file B), then a DELETE of every row
    of file A, which removes A from the table."""
    floe.execute(f"CREATE TABLE {table} AS SELECT i AS id FROM range(100) t(i)")
    floe.execute(f"INSERT INTO {table} SELECT i FROM range(100, 200) t(i)")
    floe.execute(f"DELETE FROM {table} WHERE id < 100")


def test_expire_deletes_the_files_only_expired_snapshots_reach(floe, official, catalog, testbed, ns):
    two_files_then_delete_first(floe, f"lake.{ns}.t")
    before = snapshot_files(catalog, f"{ns}.t")
    assert len(before) == 3
    current = catalog.load_table(f"{ns}.t").current_snapshot().snapshot_id
    on_s3 = table_files(testbed, catalog, f"{ns}.t")

    counts = expire(floe, f"lake.{ns}.t", "older_than => now(), retain_last => 1")

    assert [s.snapshot_id for s in catalog.load_table(f"{ns}.t").snapshots()] == [current]
    kept = before[current]
    doomed = {
        kind: set().union(*(files[kind] for sid, files in before.items() if sid != current)) - kept[kind]
        for kind in kept
    }
    assert not doomed["deletes"]
    assert len(doomed["content"]) == 1, "file A (rows 0..99) is reachable only from the expired snapshots"
    after = table_files(testbed, catalog, f"{ns}.t")
    assert every_file(doomed) <= on_s3 and not (every_file(doomed) & after), "what only expired snapshots reached is gone"
    assert every_file(kept) <= after, "every file of the current snapshot is still there"
    assert counts == {
        "deleted_data_files_count": 1,
        "deleted_position_delete_files_count": 0,
        "deleted_equality_delete_files_count": 0,
        "deleted_manifest_files_count": len(doomed["manifests"]),
        "deleted_manifest_lists_count": 2,
        "deleted_statistics_files_count": 0,
    }
    assert counts["deleted_manifest_files_count"] >= 1
    same_rows_everywhere(floe, official, catalog, "t", ns, [(i,) for i in range(100, 200)])


def test_position_delete_files_of_expired_snapshots_go(floe, official, catalog, testbed, ns):
    """A DELETE writes a position delete file for file A; a second DELETE empties A, which takes A
    and its delete file out of the table: expiring the earlier snapshots deletes both."""
    floe.execute(f"CREATE TABLE lake.{ns}.t AS SELECT i AS id FROM range(100) t(i)")
    floe.execute(f"INSERT INTO lake.{ns}.t SELECT i FROM range(100, 200) t(i)")
    floe.execute(f"DELETE FROM lake.{ns}.t WHERE id < 50")
    floe.execute(f"DELETE FROM lake.{ns}.t WHERE id < 100")
    before = snapshot_files(catalog, f"{ns}.t")
    current = catalog.load_table(f"{ns}.t").current_snapshot().snapshot_id
    expired = [files for sid, files in before.items() if sid != current]
    doomed = {kind: set().union(*(files[kind] for files in expired)) - before[current][kind] for kind in before[current]}
    assert len(doomed["deletes"]) == 1 and len(doomed["content"]) == 1

    counts = expire(floe, f"lake.{ns}.t", "older_than => now(), retain_last => 1")

    assert counts["deleted_position_delete_files_count"] == 1 and counts["deleted_data_files_count"] == 1
    assert counts["deleted_manifest_files_count"] == len(doomed["manifests"])
    assert not every_file(doomed) & table_files(testbed, catalog, f"{ns}.t")
    same_rows_everywhere(floe, official, catalog, "t", ns, [(i,) for i in range(100, 200)])


def test_a_file_a_retained_snapshot_references_is_kept(floe, official, catalog, testbed, ns):
    two_files_then_delete_first(floe, f"lake.{ns}.t")
    before = snapshot_files(catalog, f"{ns}.t")
    snapshots = [s.snapshot_id for s in catalog.load_table(f"{ns}.t").snapshots()]

    counts = expire(floe, f"lake.{ns}.t", "older_than => now(), retain_last => 2")

    assert [s.snapshot_id for s in catalog.load_table(f"{ns}.t").snapshots()] == snapshots[1:]
    assert counts["deleted_data_files_count"] == 0, "file A is still read by the INSERT's snapshot"
    after = table_files(testbed, catalog, f"{ns}.t")
    assert every_file(before[snapshots[1]]) | every_file(before[snapshots[2]]) <= after
    assert not before[snapshots[0]]["lists"] & after
    # The retained older snapshot still reads all 200 rows, in every engine.
    expected = sorted([(i,) for i in range(200)], key=sort_key)
    assert duckdb_rows(floe, f"SELECT * FROM lake.{ns}.t AT (VERSION => {snapshots[1]})") == expected
    assert pyiceberg_rows(catalog, f"{ns}.t", snapshot_id=snapshots[1]) == expected
    same_rows_everywhere(floe, official, catalog, "t", ns, [(i,) for i in range(100, 200)])


def test_retain_last_keeps_the_newest_snapshots(floe, official, catalog, ns):
    floe.execute(f"CREATE TABLE lake.{ns}.t (id INTEGER)")
    for i in range(5):
        floe.execute(f"INSERT INTO lake.{ns}.t VALUES ({i})")
    snapshots = [s.snapshot_id for s in catalog.load_table(f"{ns}.t").snapshots()]
    assert len(snapshots) == 5

    counts = expire(floe, f"lake.{ns}.t", "older_than => now(), retain_last => 3")

    assert [s.snapshot_id for s in catalog.load_table(f"{ns}.t").snapshots()] == snapshots[2:]
    # Appends keep every earlier manifest and data file: only the two manifest lists go.
    assert counts == {**dict.fromkeys(COUNTS, 0), "deleted_manifest_lists_count": 2}
    same_rows_everywhere(floe, official, catalog, "t", ns, [(i,) for i in range(5)])


def test_defaults_keep_snapshots_younger_than_five_days(floe, catalog, ns):
    floe.execute(f"CREATE TABLE lake.{ns}.t (id INTEGER)")
    for i in range(3):
        floe.execute(f"INSERT INTO lake.{ns}.t VALUES ({i})")
    assert expire(floe, f"lake.{ns}.t") == dict.fromkeys(COUNTS, 0)
    assert len(catalog.load_table(f"{ns}.t").snapshots()) == 3
    # The table's own property lowers the age: every snapshot but the current one expires.
    table = catalog.load_table(f"{ns}.t")
    table.transaction().set_properties({"history.expire.max-snapshot-age-ms": "1"}).commit_transaction()
    time.sleep(0.01)
    expire(floe, f"lake.{ns}.t")
    assert len(catalog.load_table(f"{ns}.t").snapshots()) == 1


def test_snapshot_ids_expire_exactly_those(floe, official, catalog, ns):
    floe.execute(f"CREATE TABLE lake.{ns}.t (id INTEGER)")
    for i in range(4):
        floe.execute(f"INSERT INTO lake.{ns}.t VALUES ({i})")
    snapshots = [s.snapshot_id for s in catalog.load_table(f"{ns}.t").snapshots()]

    counts = expire(floe, f"lake.{ns}.t", f"snapshot_ids => [{snapshots[1]}, {snapshots[2]}]")

    assert [s.snapshot_id for s in catalog.load_table(f"{ns}.t").snapshots()] == [snapshots[0], snapshots[3]]
    assert counts["deleted_manifest_lists_count"] == 2
    same_rows_everywhere(floe, official, catalog, "t", ns, [(i,) for i in range(4)])
    with pytest.raises(duckdb.InvalidInputException, match=f"snapshot {snapshots[3]} is the head of 'main'"):
        expire(floe, f"lake.{ns}.t", f"snapshot_ids => [{snapshots[3]}]")
    with pytest.raises(duckdb.Error, match="has no snapshot 42"):
        expire(floe, f"lake.{ns}.t", "snapshot_ids => [42]")


def test_statistics_files_of_expired_snapshots_go(floe, catalog, testbed, ns):
    """Statistics files (Puffin, written here by another engine's stand-in through PyIceberg) of
    expired snapshots are deleted with them; a retained snapshot's is kept."""
    floe.execute(f"CREATE TABLE lake.{ns}.t (id INTEGER)")
    for i in range(3):
        floe.execute(f"INSERT INTO lake.{ns}.t VALUES ({i})")
    table = catalog.load_table(f"{ns}.t")
    snapshots = [s.snapshot_id for s in table.snapshots()]
    paths = {}
    update = table.update_statistics()
    for snapshot in snapshots[1:]:
        # Another engine's file, in another bucket: the test bed's table bucket takes no stray keys.
        paths[snapshot] = f"s3://raw/{ns}/stats-{snapshot}.puffin"
        with testbed.pyarrow_s3().open_output_stream(paths[snapshot].removeprefix("s3://")) as out:
            out.write(b"PFA1 stand-in")
        update = update.set_statistics(
            StatisticsFile(
                snapshot_id=snapshot,
                statistics_path=paths[snapshot],
                file_size_in_bytes=13,
                file_footer_size_in_bytes=13,
                blob_metadata=[],
            )
        )
    update.commit()

    counts = expire(floe, f"lake.{ns}.t", f"snapshot_ids => [{snapshots[1]}]")

    assert counts["deleted_statistics_files_count"] == 1 and counts["deleted_manifest_lists_count"] == 1
    on_s3 = {"s3://" + path for path in testbed.s3_files(f"s3://raw/{ns}")}
    assert on_s3 == {paths[snapshots[2]]}
    statistics = catalog.load_table(f"{ns}.t").metadata.statistics
    assert [s.snapshot_id for s in statistics] == [snapshots[2]]


def test_dry_run_reports_and_changes_nothing(floe, catalog, testbed, ns):
    two_files_then_delete_first(floe, f"lake.{ns}.t")
    location = catalog.load_table(f"{ns}.t").metadata_location
    files = table_files(testbed, catalog, f"{ns}.t")

    planned = expire(floe, f"lake.{ns}.t", "older_than => now(), retain_last => 1, dry_run => true")

    assert catalog.load_table(f"{ns}.t").metadata_location == location
    assert table_files(testbed, catalog, f"{ns}.t") == files
    assert planned["deleted_data_files_count"] == 1 and planned["deleted_manifest_lists_count"] == 2
    assert expire(floe, f"lake.{ns}.t", "older_than => now(), retain_last => 1") == planned


def test_branch_and_tag_keep_their_snapshots_and_files(floe, official, catalog, testbed, ns):
    two_files_then_delete_first(floe, f"lake.{ns}.t")
    snapshots = [s.snapshot_id for s in catalog.load_table(f"{ns}.t").snapshots()]
    before = snapshot_files(catalog, f"{ns}.t")
    table = catalog.load_table(f"{ns}.t")
    table.manage_snapshots().create_tag(snapshots[0], "first").create_branch(snapshots[1], "audit").commit()

    counts = expire(floe, f"lake.{ns}.t", "older_than => now(), retain_last => 1")

    assert [s.snapshot_id for s in catalog.load_table(f"{ns}.t").snapshots()] == snapshots
    assert counts == dict.fromkeys(COUNTS, 0)
    assert set().union(*map(every_file, before.values())) <= table_files(testbed, catalog, f"{ns}.t")
    assert pyiceberg_rows(catalog, f"{ns}.t", snapshot_id=snapshots[0]) == sorted([(i,) for i in range(100)], key=sort_key)
    with pytest.raises(duckdb.InvalidInputException, match="head of 'first'"):
        expire(floe, f"lake.{ns}.t", f"snapshot_ids => [{snapshots[0]}]")
    # Without the tag, the first snapshot goes; the branch keeps the second and with it file A.
    catalog.load_table(f"{ns}.t").manage_snapshots().remove_tag("first").commit()
    counts = expire(floe, f"lake.{ns}.t", "older_than => now(), retain_last => 1")
    assert [s.snapshot_id for s in catalog.load_table(f"{ns}.t").snapshots()] == snapshots[1:]
    assert counts["deleted_data_files_count"] == 0 and counts["deleted_manifest_lists_count"] == 1
    assert pyiceberg_rows(catalog, f"{ns}.t", snapshot_id=snapshots[1]) == sorted([(i,) for i in range(200)], key=sort_key)
    same_rows_everywhere(floe, official, catalog, "t", ns, [(i,) for i in range(100, 200)])


def test_refs_past_their_max_age_go_and_their_snapshots_with_them(floe, official, catalog, ns):
    two_files_then_delete_first(floe, f"lake.{ns}.t")
    snapshots = [s.snapshot_id for s in catalog.load_table(f"{ns}.t").snapshots()]
    day = 24 * 60 * 60 * 1000
    manage = catalog.load_table(f"{ns}.t").manage_snapshots()
    manage.create_tag(snapshots[0], "stale", max_ref_age_ms=1).create_tag(snapshots[1], "fresh", max_ref_age_ms=day)
    manage.create_branch(snapshots[1], "audit").commit()
    time.sleep(0.01)

    # The tag older than its own max age goes, and the snapshot only it kept.
    expire(floe, f"lake.{ns}.t", "older_than => now(), retain_last => 1")
    table = catalog.load_table(f"{ns}.t")
    assert set(table.metadata.refs) == {"main", "fresh", "audit"}
    assert [s.snapshot_id for s in table.snapshots()] == snapshots[1:]

    # The table's default reaches the branch, which sets none; `main` and a tag with its own
    # longer age stay.
    floe.execute(f"ALTER TABLE lake.{ns}.t SET ('history.expire.max-ref-age-ms' = '1')")
    expire(floe, f"lake.{ns}.t", "older_than => now(), retain_last => 1")
    table = catalog.load_table(f"{ns}.t")
    assert set(table.metadata.refs) == {"main", "fresh"}
    assert [s.snapshot_id for s in table.snapshots()] == snapshots[1:]
    same_rows_everywhere(floe, official, catalog, "t", ns, [(i,) for i in range(100, 200)])


def test_gc_disabled_refuses(floe, catalog, ns):
    floe.execute(f"CREATE TABLE lake.{ns}.t AS SELECT 1 AS id")
    floe.execute(f"INSERT INTO lake.{ns}.t VALUES (2)")
    floe.execute(f"ALTER TABLE lake.{ns}.t SET ('gc.enabled' = 'false')")
    with pytest.raises(duckdb.InvalidInputException, match=rf"refuses table '{ns}\.t'.*gc\.enabled is false") as refused:
        expire(floe, f"lake.{ns}.t", "older_than => now()")
    assert len(catalog.load_table(f"{ns}.t").snapshots()) == 2
    # The fix the error names works.
    assert f"ALTER TABLE {ns}.t SET ('gc.enabled' = 'true')" in str(refused.value)
    floe.execute(f"ALTER TABLE lake.{ns}.t SET ('gc.enabled' = 'true')")
    expire(floe, f"lake.{ns}.t", "older_than => now()")
    assert len(catalog.load_table(f"{ns}.t").snapshots()) == 1


def test_refused_inside_a_transaction_that_changed_the_table(floe, catalog, ns):
    floe.execute(f"CREATE TABLE lake.{ns}.t AS SELECT 1 AS id")
    floe.execute(f"CREATE TABLE lake.{ns}.other AS SELECT 1 AS id")
    floe.execute("BEGIN")
    floe.execute(f"INSERT INTO lake.{ns}.t VALUES (2)")
    with pytest.raises(duckdb.InvalidInputException, match=rf"uncommitted changes to lake\.{ns}\.t.*COMMIT"):
        expire(floe, f"lake.{ns}.t", "older_than => now()")
    floe.execute("ROLLBACK")
    floe.execute("BEGIN")
    floe.execute(f"INSERT INTO lake.{ns}.other VALUES (2)")
    expire(floe, f"lake.{ns}.t", "older_than => now()")  # another table's changes are no reason
    floe.execute("COMMIT")
    with pytest.raises(duckdb.CatalogException, match="nope"):
        expire(floe, f"lake.{ns}.nope")


def test_pyiceberg_expires_floe_tables_and_floe_expires_pyiceberg_tables(floe, official, catalog, ns):
    floe.execute(f"CREATE TABLE lake.{ns}.by_floe (id BIGINT)")
    for i in range(3):
        floe.execute(f"INSERT INTO lake.{ns}.by_floe VALUES ({i})")
    table = catalog.load_table(f"{ns}.by_floe")
    table.maintenance.expire_snapshots().older_than(datetime.now(timezone.utc)).commit()
    assert len(catalog.load_table(f"{ns}.by_floe").snapshots()) == 1
    same_rows_everywhere(floe, official, catalog, "by_floe", ns, [(i,) for i in range(3)])

    written = catalog.create_table(f"{ns}.by_pyiceberg", schema=pa.schema([("id", pa.int64())]))
    for i in range(3):
        written.append(pa.table({"id": pa.array([i], pa.int64())}))
    counts = expire(floe, f"lake.{ns}.by_pyiceberg", "older_than => now(), retain_last => 1")
    assert len(catalog.load_table(f"{ns}.by_pyiceberg").snapshots()) == 1
    assert counts["deleted_manifest_lists_count"] == 2
    same_rows_everywhere(floe, official, catalog, "by_pyiceberg", ns, [(i,) for i in range(3)])


def test_kill_during_expire_leaves_a_table_every_reader_reads(floe, official, catalog, extension, testbed, ns):
    table = f"lake.{ns}.t"
    floe.execute(f"CREATE TABLE {table} (id INTEGER)")
    for i in range(40):
        floe.execute(f"INSERT INTO {table} VALUES ({i})")
    floe.execute(f"DELETE FROM {table} WHERE id < 10")
    sql = f"CALL floe_expire_snapshots('{table}', older_than => now(), retain_last => 1)"
    for _ in killed_after(extension, testbed.duckdb_setup_sql(), sql, (0.0, 0.3, 0.8)):
        # Whatever the kill interrupted, every snapshot left reads all its files.
        loaded = catalog.load_table(f"{ns}.t")
        for snapshot in loaded.snapshots():
            pyiceberg_rows(catalog, f"{ns}.t", snapshot_id=snapshot.snapshot_id)  # raises on a missing file
        same_rows_everywhere(floe, official, catalog, "t", ns, [(i,) for i in range(10, 40)])
    expire(floe, table, "older_than => now(), retain_last => 1")
    assert len(catalog.load_table(f"{ns}.t").snapshots()) == 1
    same_rows_everywhere(floe, official, catalog, "t", ns, [(i,) for i in range(10, 40)])


@shown_while_running
def test_progress_is_shown_while_manifests_are_read_and_files_deleted(floe, catalog, testbed, ns):
    # 150 commits of a file each, then a DELETE of every row: the expiry reads 151 manifest lists
    # and their manifests, then deletes 150 data files, their manifests and manifest lists, on a
    # thread of its own while DuckDB's executor reads the progress.
    table = f"lake.{ns}.t"
    floe.execute(f"CREATE TABLE {table} (id BIGINT)")
    floe.execute(f"ALTER TABLE {table} SET ('commit.manifest-merge.enabled' = 'false')")
    for i in range(150):
        floe.execute(f"INSERT INTO {table} VALUES ({i})")
    floe.execute(f"DELETE FROM {table}")
    on_s3 = len(table_files(testbed, catalog, f"{ns}.t"))
    (row,), samples = progress_while(floe, f"CALL floe_expire_snapshots('{table}', older_than => now(), retain_last => 1)")
    counts = dict(zip(COUNTS, row))
    assert counts["deleted_data_files_count"] == 150 and counts["deleted_manifest_lists_count"] == 150
    # What it counted is gone; its commit wrote one metadata file.
    assert len(table_files(testbed, catalog, f"{ns}.t")) == on_s3 - sum(row) + 1
    assert_progress_shown(samples)
