"""Manifests merged on commit as Iceberg Java's MergeAppend does (`commit.manifest-merge.enabled`,
`commit.manifest.min-count-to-merge`, `commit.manifest.target-size-bytes`): the manifest count
stays bounded, every file keeps the snapshot id and sequence numbers it was added with, data and
delete manifests are merged apart, and every engine reads the same rows."""

from __future__ import annotations

import re

import duckdb
import pytest
from pyiceberg.manifest import ManifestContent, ManifestEntryStatus

from tests.catalog_proxy import CatalogProxy
from tests.engines import floe_connection
from tests.progress import assert_progress_shown, progress_while, shown_while_running
from tests.request_counter import RequestCounter
from tests.rows import duckdb_rows, pyiceberg_rows, sort_key
from tests.test_commit_failures import COMMIT, proxied
from tests.killed import killed_after


@pytest.fixture()
def ns(floe, request) -> str:
    name = "mm_" + re.sub("[^a-z0-9]+", "_", request.node.name.lower().removeprefix("test_"))[:32].strip("_")
    floe.execute(f"DROP SCHEMA IF EXISTS lake.{name} CASCADE")
    floe.execute(f"CREATE SCHEMA lake.{name}")
    return name


def ordered(rows: list[tuple]) -> list[tuple]:
    return sorted(rows, key=sort_key)


def manifests(catalog, identifier: str) -> list:
    table = catalog.load_table(identifier)
    return table.current_snapshot().manifests(table.io)


def live_entries(catalog, identifier: str) -> dict[str, tuple]:
    """Per live file of the current snapshot: (status, snapshot id, data sequence number, file
    sequence number, the snapshot that wrote its manifest)."""
    table = catalog.load_table(identifier)
    result = {}
    if table.current_snapshot() is None:
        return result
    for manifest in table.current_snapshot().manifests(table.io):
        for entry in manifest.fetch_manifest_entry(table.io, discard_deleted=True):
            result[entry.data_file.file_path] = (
                entry.status,
                entry.snapshot_id,
                entry.sequence_number,
                entry.file_sequence_number,
                manifest.added_snapshot_id,
            )
    return result


def test_appends_merge_once_the_newest_bin_holds_min_count_manifests(floe, official, catalog, ns):
    table = f"lake.{ns}.t"
    floe.execute(f"CREATE TABLE {table} (id BIGINT, v VARCHAR)")
    floe.execute(f"ALTER TABLE {table} SET ('commit.manifest.min-count-to-merge' = '5')")
    counts, added = [], {}
    for i in range(12):
        before = set(live_entries(catalog, f"{ns}.t"))
        floe.execute(f"INSERT INTO {table} VALUES ({i}, 'v{i}')")
        snapshot = catalog.load_table(f"{ns}.t").current_snapshot()
        (new_file,) = set(live_entries(catalog, f"{ns}.t")) - before
        added[new_file] = (snapshot.snapshot_id, snapshot.sequence_number)
        counts.append(len(manifests(catalog, f"{ns}.t")))
    # The 5th manifest of the bin merges it into one; the next four wait for the count again.
    assert counts == [1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4]

    # Every file keeps the snapshot id and sequence numbers it was added with: ADDED in the
    # manifest of its own commit, EXISTING in one a later commit merged.
    statuses = []
    for path, (status, snapshot_id, sequence, file_sequence, written_by) in live_entries(catalog, f"{ns}.t").items():
        assert (snapshot_id, sequence) == added[path]
        assert file_sequence == sequence
        assert status == (ManifestEntryStatus.ADDED if written_by == snapshot_id else ManifestEntryStatus.EXISTING)
        statuses.append(status)
    # Inserts 1-8, merged by the 9th, whose own file stays ADDED in the merged manifest.
    assert statuses.count(ManifestEntryStatus.EXISTING) == 8
    last = catalog.load_table(f"{ns}.t").current_snapshot().snapshot_id

    summary = catalog.load_table(f"{ns}.t").snapshot_by_id(last).summary
    assert (summary["manifests-created"], summary["manifests-kept"], summary["manifests-replaced"]) == ("1", "3", "0")
    ninth = [s for s in catalog.load_table(f"{ns}.t").snapshots() if s.sequence_number == added_seq(added, 8)][0]
    assert (ninth.summary["manifests-created"], ninth.summary["manifests-replaced"]) == ("1", "4")

    expected = ordered([(i, f"v{i}") for i in range(12)])
    assert duckdb_rows(floe, f"SELECT * FROM {table}") == expected
    assert pyiceberg_rows(catalog, f"{ns}.t") == expected
    assert duckdb_rows(official, f"SELECT * FROM {table}") == expected


def added_seq(added: dict, index: int) -> int:
    """The sequence number of the `index`-th insert (0-based)."""
    return sorted(seq for _, seq in added.values())[index]


def test_deletes_after_a_merge_apply_to_the_merged_files_and_merge_apart(floe, official, catalog, ns):
    table = f"lake.{ns}.t"
    floe.execute(f"CREATE TABLE {table} (id BIGINT, v VARCHAR)")
    floe.execute(f"ALTER TABLE {table} SET ('commit.manifest.min-count-to-merge' = '3')")
    for i in range(4):
        floe.execute(f"INSERT INTO {table} SELECT i, 'v' || i FROM range({i * 10}, {i * 10 + 10}) t(i)")
    for i in (1, 12, 23, 34):
        floe.execute(f"DELETE FROM {table} WHERE id = {i}")

    found = manifests(catalog, f"{ns}.t")
    data = [m for m in found if m.content == ManifestContent.DATA]
    deletes = [m for m in found if m.content == ManifestContent.DELETES]
    # Data: 4 inserts merged at the 3rd, the 4th waits. Deletes: 4 merged at the 3rd, the 4th waits.
    assert (len(data), len(deletes)) == (2, 2)
    assert sum(m.existing_files_count for m in deletes) == 2
    # The merged delete manifest kept the delete files' sequence numbers: a data file added
    # after a delete is not masked by it.
    floe.execute(f"INSERT INTO {table} VALUES (1, 'again')")

    expected = ordered([(i, f"v{i}") for i in range(40) if i not in (1, 12, 23, 34)] + [(1, "again")])
    assert duckdb_rows(floe, f"SELECT * FROM {table}") == expected
    assert pyiceberg_rows(catalog, f"{ns}.t") == expected
    assert duckdb_rows(official, f"SELECT * FROM {table}") == expected


def test_disabled_merging_and_a_small_target_size_leave_manifests_apart(floe, catalog, ns):
    for name, properties in {
        "off": "'commit.manifest-merge.enabled' = 'false', 'commit.manifest.min-count-to-merge' = '2'",
        "tiny": "'commit.manifest.target-size-bytes' = '1', 'commit.manifest.min-count-to-merge' = '2'",
    }.items():
        table = f"lake.{ns}.{name}"
        floe.execute(f"CREATE TABLE {table} (id BIGINT)")
        floe.execute(f"ALTER TABLE {table} SET ({properties})")
        for i in range(4):
            floe.execute(f"INSERT INTO {table} VALUES ({i})")
        assert len(manifests(catalog, f"{ns}.{name}")) == 4, name
        assert duckdb_rows(floe, f"SELECT * FROM {table}") == [(i,) for i in range(4)]


def test_java_defaults_merge_at_the_hundredth_manifest(floe, catalog, ns):
    table = f"lake.{ns}.t"
    floe.execute(f"CREATE TABLE {table} (id BIGINT)")
    for i in range(99):
        floe.execute(f"INSERT INTO {table} VALUES ({i})")
    assert len(manifests(catalog, f"{ns}.t")) == 99
    floe.execute(f"INSERT INTO {table} VALUES (99)")
    assert len(manifests(catalog, f"{ns}.t")) == 1
    assert floe.execute(f"SELECT count(*), sum(id) FROM {table}").fetchone() == (100, 4950)
    assert pyiceberg_rows(catalog, f"{ns}.t") == ordered([(i,) for i in range(100)])


def metadata_avro(testbed, table) -> set[str]:
    return {p for p in testbed.s3_files(table.location() + "/metadata") if p.endswith(".avro")}


def test_a_retried_commit_reuses_its_merged_manifest_and_a_failed_one_removes_it(extension, testbed, floe, catalog, ns):
    """A lost race (409) is retried on the reloaded table: the merged bin is the same, so the
    manifest merged for the first attempt is committed by the second, not written again. A
    commit that finally fails leaves no manifest behind."""
    floe.execute(f"CREATE TABLE lake.{ns}.t (id BIGINT)")
    floe.execute(
        f"ALTER TABLE lake.{ns}.t SET ('commit.manifest.min-count-to-merge' = '3', "
        "'commit.retry.total-timeout-ms' = '1500', 'commit.retry.min-wait-ms' = '10')"
    )
    for i in range(2):
        floe.execute(f"INSERT INTO lake.{ns}.t VALUES ({i})")
    table = catalog.load_table(f"{ns}.t")
    before = metadata_avro(testbed, table)

    lost = {"races": 1}

    def fault(method: str, path: str):
        if method == "POST" and COMMIT.match(path) and lost["races"] > 0:
            lost["races"] -= 1
            return ("instead", 409)
        return None

    with RequestCounter(testbed.s3_endpoint) as s3, CatalogProxy(testbed.catalog_uri, fault=fault) as proxy:
        con = floe_connection(extension)
        for statement in testbed.duckdb_setup_sql(s3_endpoint=s3.endpoint)[:2]:
            con.execute(statement)
        con.execute(f"ATTACH '{testbed.warehouse}' AS lake (TYPE ICEBERG, ENDPOINT '{proxy.url}', SECRET testbed_iceberg)")
        con.execute(f"INSERT INTO lake.{ns}.t VALUES (2)")
        merged_writes = [r for r in s3.requests() if r.method == "PUT" and r.path.endswith("-g0.avro")]
    table = catalog.load_table(f"{ns}.t")
    assert table.current_snapshot().summary["commit-attempt"] == "2"
    (merged,) = manifests(catalog, f"{ns}.t")
    assert [r.path for r in merged_writes] == [merged.manifest_path.removeprefix("s3:/")]
    # The merged manifest and the manifest list: the new-data manifest merged into it and the
    # first attempt's manifest list were removed.
    added = metadata_avro(testbed, table) - before
    assert added == {p.removeprefix("s3://") for p in (merged.manifest_path, table.current_snapshot().manifest_list)}

    lost["races"] = 10**6
    before = metadata_avro(testbed, table)
    with CatalogProxy(testbed.catalog_uri, fault=fault) as proxy:
        with pytest.raises(duckdb.Error, match="t"):
            proxied(extension, testbed, proxy).execute(f"INSERT INTO lake.{ns}.t VALUES (3), (4), (5)")
    assert metadata_avro(testbed, table) == before
    assert catalog.load_table(f"{ns}.t").current_snapshot().snapshot_id == table.current_snapshot().snapshot_id
    assert duckdb_rows(floe, f"SELECT * FROM lake.{ns}.t") == [(0,), (1,), (2,)]


def test_rewrite_manifests_merges_them_all_and_every_engine_reads_the_same(floe, official, catalog, ns):
    table = f"lake.{ns}.t"
    floe.execute(f"CREATE TABLE {table} (id BIGINT, region VARCHAR)")
    floe.execute(f"ALTER TABLE {table} SET ('commit.manifest-merge.enabled' = 'false')")
    for i in range(6):
        floe.execute(f"INSERT INTO {table} SELECT i, 'eu' FROM range({i * 10}, {i * 10 + 10}) t(i)")
    floe.execute(f"ALTER TABLE {table} SET PARTITIONED BY (region)")
    for i in range(6, 9):
        floe.execute(f"INSERT INTO {table} SELECT i, 'us' FROM range({i * 10}, {i * 10 + 10}) t(i)")
    floe.execute(f"DELETE FROM {table} WHERE id IN (1, 71)")
    before = manifests(catalog, f"{ns}.t")
    assert len(before) == 11
    entries_before = {p: e[:4] for p, e in live_entries(catalog, f"{ns}.t").items()}
    parent = catalog.load_table(f"{ns}.t").current_snapshot()

    result = floe.execute(f"CALL floe_rewrite_manifests('{table}')")
    assert [d[0] for d in result.description] == ["rewritten_manifests_count", "added_manifests_count"]
    # Data of spec 0 (6), data of spec 1 (3), deletes of each spec (1 + 1): the two lone
    # delete manifests stay as they are.
    assert result.fetchall() == [(9, 2)]

    after = manifests(catalog, f"{ns}.t")
    assert len(after) == 4
    assert sorted((m.content.value, m.partition_spec_id) for m in after) == [(0, 0), (0, 1), (1, 0), (1, 1)]
    snapshot = catalog.load_table(f"{ns}.t").current_snapshot()
    assert snapshot.summary.operation.value == "replace" and snapshot.parent_snapshot_id == parent.snapshot_id
    assert snapshot.summary["total-records"] == parent.summary["total-records"]
    # Same files, same snapshot ids and sequence numbers (EXISTING now).
    assert {p: (e[1], e[2], e[3]) for p, e in live_entries(catalog, f"{ns}.t").items()} == {
        p: e[1:4] for p, e in entries_before.items()
    }

    expected = ordered([(i, "eu" if i < 60 else "us") for i in range(90) if i not in (1, 71)])
    assert duckdb_rows(floe, f"SELECT * FROM {table}") == expected
    assert pyiceberg_rows(catalog, f"{ns}.t") == expected
    assert duckdb_rows(official, f"SELECT * FROM {table}") == expected

    # Nothing left to merge: nothing committed.
    assert floe.execute(f"CALL floe_rewrite_manifests('{table}')").fetchall() == [(0, 0)]
    assert catalog.load_table(f"{ns}.t").current_snapshot().snapshot_id == snapshot.snapshot_id


def test_kill_9_during_rewrite_manifests_leaves_a_table_every_reader_reads(floe, official, catalog, extension, testbed, ns):
    table = f"lake.{ns}.t"
    floe.execute(f"CREATE TABLE {table} (id BIGINT)")
    floe.execute(f"ALTER TABLE {table} SET ('commit.manifest-merge.enabled' = 'false')")
    for i in range(60):
        floe.execute(f"INSERT INTO {table} SELECT i FROM range({i * 10}, {i * 10 + 10}) t(i)")
    floe.execute(f"DELETE FROM {table} WHERE id % 100 = 7")
    expected = ordered([(i,) for i in range(600) if i % 100 != 7])
    before = catalog.load_table(f"{ns}.t").current_snapshot().snapshot_id
    interrupted = 0
    sql = f"CALL floe_rewrite_manifests('{table}')"
    for killed in killed_after(extension, testbed.duckdb_setup_sql(), sql, (0.0, 0.1, 0.3, 0.6)):
        interrupted += killed
        # Killed before its commit the table is as it was, after it merged: either way every
        # snapshot reads all its files, and every engine the same rows.
        loaded = catalog.load_table(f"{ns}.t")
        assert loaded.current_snapshot().snapshot_id == before or loaded.current_snapshot().summary.operation.value == "replace"
        for snapshot in loaded.snapshots():
            pyiceberg_rows(catalog, f"{ns}.t", snapshot_id=snapshot.snapshot_id)  # raises on a missing file
        assert duckdb_rows(floe, f"SELECT * FROM {table}") == expected
        assert pyiceberg_rows(catalog, f"{ns}.t") == expected
        assert duckdb_rows(official, f"SELECT * FROM {table}") == expected
    assert interrupted > 0, "every kill came after the call returned"

    floe.execute(f"CALL floe_rewrite_manifests('{table}')").fetchall()
    assert len(manifests(catalog, f"{ns}.t")) == 2  # one of data, one of deletes
    assert duckdb_rows(floe, f"SELECT * FROM {table}") == expected
    assert pyiceberg_rows(catalog, f"{ns}.t") == expected
    assert duckdb_rows(official, f"SELECT * FROM {table}") == expected


@shown_while_running
def test_rewrite_manifests_progress_is_the_share_of_manifest_bytes_merged(floe, catalog, ns):
    # 200 manifests read and merged into one on a thread of its own while DuckDB's executor
    # reads the progress; the commit then only writes the manifest list.
    table = f"lake.{ns}.t"
    floe.execute(f"CREATE TABLE {table} (id BIGINT)")
    floe.execute(f"ALTER TABLE {table} SET ('commit.manifest-merge.enabled' = 'false')")
    for i in range(200):
        floe.execute(f"INSERT INTO {table} VALUES ({i})")
    (row,), samples = progress_while(floe, f"CALL floe_rewrite_manifests('{table}')")
    assert row == (200, 1)
    assert len(manifests(catalog, f"{ns}.t")) == 1
    assert duckdb_rows(floe, f"SELECT * FROM {table}") == ordered([(i,) for i in range(200)])
    assert_progress_shown(samples)


def test_rewrite_manifests_rolled_back_leaves_no_file_behind(floe, catalog, testbed, ns):
    # The call merges the manifests at once (its progress shows); ROLLBACK removes what it wrote.
    table = f"lake.{ns}.t"
    floe.execute(f"CREATE TABLE {table} (id BIGINT)")
    floe.execute(f"ALTER TABLE {table} SET ('commit.manifest-merge.enabled' = 'false')")
    for i in range(3):
        floe.execute(f"INSERT INTO {table} VALUES ({i})")
    location = catalog.load_table(f"{ns}.t").location()
    before = set(testbed.s3_files(location))
    floe.execute("BEGIN")
    assert floe.execute(f"CALL floe_rewrite_manifests('{table}')").fetchall() == [(3, 1)]
    assert len(set(testbed.s3_files(location)) - before) == 1, "the merged manifest"
    floe.execute("ROLLBACK")
    assert set(testbed.s3_files(location)) == before
    assert len(manifests(catalog, f"{ns}.t")) == 3
    assert duckdb_rows(floe, f"SELECT * FROM {table}") == [(0,), (1,), (2,)]
