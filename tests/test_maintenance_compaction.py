"""CALL floe_rewrite_data_files(...): small files of a partition, and files with deletes, written
again as few files with the deletes applied, in a `replace` snapshot whose new files keep the
data sequence number of the snapshot read; every engine reads the same rows after it, and a
concurrent change of an input file makes it fail cleanly."""

from __future__ import annotations

import multiprocessing
import re
import time

import duckdb
import pyarrow.parquet as pq
import pytest
from pyiceberg.manifest import DataFileContent

from tests.engines import floe_connection
from tests.progress import assert_progress_shown, progress_while, shown_while_running
from tests.test_concurrency import INSERTS, _writer
from tests.rows import duckdb_rows, pyiceberg_rows, sort_key
from tests.killed import floe_child, kill

COLUMNS = ["rewritten_data_files_count", "added_data_files_count", "rewritten_bytes_count", "failed_data_files_count"]


@pytest.fixture()
def ns(floe, request) -> str:
    name = "c_" + re.sub("[^a-z0-9]+", "_", request.node.name.lower().removeprefix("test_"))[:32].strip("_")
    floe.execute(f"DROP SCHEMA IF EXISTS lake.{name} CASCADE")
    floe.execute(f"CREATE SCHEMA lake.{name}")
    return name


def ordered(rows: list[tuple]) -> list[tuple]:
    return sorted(rows, key=sort_key)


def live_files(catalog, identifier: str) -> list:
    """(content, manifest entry) of every live file of the current snapshot."""
    table = catalog.load_table(identifier)
    if table.current_snapshot() is None:
        return []
    return [
        entry
        for manifest in table.current_snapshot().manifests(table.io)
        for entry in manifest.fetch_manifest_entry(table.io, discard_deleted=True)
    ]


def assert_rows_everywhere(floe, official, catalog, table: str, expected: list[tuple]) -> None:
    """floe, PyIceberg and the official extension read `expected` from `table` (lake.<ns>.<name>)."""
    assert duckdb_rows(floe, f"SELECT * FROM {table}") == expected
    assert pyiceberg_rows(catalog, table.removeprefix("lake.")) == expected
    assert duckdb_rows(official, f"SELECT * FROM {table}") == expected


def rewrite(con, table: str, arguments: str = "") -> dict:
    result = con.execute(f"CALL floe_rewrite_data_files('{table}'{arguments})")
    assert [d[0] for d in result.description] == COLUMNS
    (row,) = result.fetchall()
    return dict(zip(COLUMNS, row))


def test_binpack_rewrites_small_files_applying_their_deletes(floe, official, catalog, ns):
    table = f"lake.{ns}.t"
    floe.execute(f"CREATE TABLE {table} (id BIGINT, v VARCHAR)")
    for i in range(8):
        floe.execute(f"INSERT INTO {table} SELECT i, 'v' || i FROM range({i * 10}, {i * 10 + 10}) t(i)")
    floe.execute(f"DELETE FROM {table} WHERE id IN (3, 42, 77)")
    before = catalog.load_table(f"{ns}.t").current_snapshot()
    sizes = sum(e.data_file.file_size_in_bytes for e in live_files(catalog, f"{ns}.t") if e.data_file.content == DataFileContent.DATA)

    outcome = rewrite(floe, table)
    assert outcome == {
        "rewritten_data_files_count": 8,
        "added_data_files_count": 1,
        "rewritten_bytes_count": sizes,
        "failed_data_files_count": 0,
    }
    after = catalog.load_table(f"{ns}.t").current_snapshot()
    assert after.parent_snapshot_id == before.snapshot_id
    assert after.summary.operation.value == "replace"
    (entry,) = live_files(catalog, f"{ns}.t")
    assert entry.data_file.content == DataFileContent.DATA and entry.data_file.record_count == 77
    # Pinned to the snapshot the rewrite read: deletes committed after it still apply.
    assert entry.sequence_number == before.sequence_number
    assert entry.snapshot_id == after.snapshot_id

    expected = ordered([(i, f"v{i}") for i in range(80) if i not in (3, 42, 77)])
    assert_rows_everywhere(floe, official, catalog, table, expected)

    # A delete after the rewrite applies to the new file.
    floe.execute(f"DELETE FROM {table} WHERE id = 10")
    assert pyiceberg_rows(catalog, f"{ns}.t") == [r for r in expected if r[0] != 10]


def test_fewer_small_files_than_min_input_files_are_left_alone(floe, catalog, ns):
    table = f"lake.{ns}.t"
    floe.execute(f"CREATE TABLE {table} AS SELECT 1 AS id")
    for i in range(2, 5):
        floe.execute(f"INSERT INTO {table} VALUES ({i})")
    before = catalog.load_table(f"{ns}.t").current_snapshot().snapshot_id
    assert rewrite(floe, table)["rewritten_data_files_count"] == 0
    assert catalog.load_table(f"{ns}.t").current_snapshot().snapshot_id == before
    assert rewrite(floe, table, ", min_input_files => 4") == {
        "rewritten_data_files_count": 4,
        "added_data_files_count": 1,
        "rewritten_bytes_count": rewrite_bytes_of(catalog, ns, before),
        "failed_data_files_count": 0,
    }
    assert duckdb_rows(floe, f"SELECT * FROM {table}") == [(1,), (2,), (3,), (4,)]


def rewrite_bytes_of(catalog, ns: str, snapshot_id: int) -> int:
    table = catalog.load_table(f"{ns}.t")
    snapshot = table.snapshot_by_id(snapshot_id)
    return sum(
        e.data_file.file_size_in_bytes
        for m in snapshot.manifests(table.io)
        for e in m.fetch_manifest_entry(table.io, discard_deleted=True)
    )


def test_partitions_are_compacted_apart_and_a_target_size_splits_files(floe, official, catalog, ns):
    table = f"lake.{ns}.p"
    floe.execute(f"CREATE TABLE {table} (id BIGINT, region VARCHAR, pad VARCHAR)")
    floe.execute(f"ALTER TABLE {table} SET PARTITIONED BY (region)")
    for i in range(5):
        floe.execute(
            f"INSERT INTO {table} SELECT i, ['eu', 'us'][i % 2 + 1], md5(i::VARCHAR) FROM range({i * 1000}, {i * 1000 + 1000}) t(i)"
        )
    outcome = rewrite(floe, table, ", target_file_size_bytes => 20000")
    assert outcome["rewritten_data_files_count"] == 10
    files = live_files(catalog, f"{ns}.p")
    regions = {e.data_file.partition[0] for e in files}
    assert regions == {"eu", "us"}
    # Each partition's 2,500 rows (about 60 kB) rolled into several files of about 20 kB.
    assert outcome["added_data_files_count"] == len(files) > 2
    for entry in files:
        with catalog.load_table(f"{ns}.p").io.new_input(entry.data_file.file_path).open() as stream:
            assert set(pq.read_table(stream).column("region").to_pylist()) == {entry.data_file.partition[0]}
    expected = ordered([(i, ["eu", "us"][i % 2], None) for i in range(5000)])
    assert [(r[0], r[1], None) for r in duckdb_rows(floe, f"SELECT * FROM {table}")] == expected
    assert duckdb_rows(official, f"SELECT count(*), count(DISTINCT id) FROM {table}") == [(5000, 5000)]


def test_sort_strategy_orders_rows_by_the_sort_order(floe, catalog, ns):
    table = f"lake.{ns}.t"
    floe.execute(f"CREATE TABLE {table} (id BIGINT, name VARCHAR)")
    for i in range(5):
        floe.execute(f"INSERT INTO {table} SELECT i, 'n' || (i % 7) FROM range({i}, 100, 5) t(i)")
    with pytest.raises(duckdb.Error, match="has no sort order.*SET SORTED BY"):
        rewrite(floe, table, ", strategy => 'sort'")
    floe.execute(f"ALTER TABLE {table} SET SORTED BY (name DESC, id)")
    assert rewrite(floe, table, ", strategy => 'sort'")["added_data_files_count"] == 1
    (entry,) = live_files(catalog, f"{ns}.t")
    loaded = catalog.load_table(f"{ns}.t")
    assert entry.data_file.sort_order_id == loaded.sort_order().order_id
    with loaded.io.new_input(entry.data_file.file_path).open() as stream:
        rows = [(r["name"], r["id"]) for r in pq.read_table(stream).to_pylist()]
    assert rows == sorted(rows, key=lambda r: (-int(r[0][1:]), r[1]))
    assert len(rows) == 100


def test_bad_arguments_and_pending_changes_are_refused(floe, catalog, ns):
    table = f"lake.{ns}.t"
    floe.execute(f"CREATE TABLE {table} AS SELECT 1 AS id")
    with pytest.raises(duckdb.Error, match="strategy 'zorder' is not one of"):
        rewrite(floe, table, ", strategy => 'zorder'")
    with pytest.raises(duckdb.Error, match="is not a table of an attached Iceberg catalog"):
        floe.execute("CREATE TABLE memory.main.plain AS SELECT 1 AS id")
        rewrite(floe, "memory.main.plain")
    floe.execute("BEGIN")
    floe.execute(f"INSERT INTO {table} VALUES (2)")
    with pytest.raises(duckdb.Error, match="cannot follow other changes.*COMMIT them first"):
        rewrite(floe, table, ", min_input_files => 1")
    floe.execute("ROLLBACK")
    assert duckdb_rows(floe, f"SELECT * FROM {table}") == [(1,)]


def insert_files(floe, catalog, ns: str, table: str, inserts: list[str]) -> list[set[str]]:
    """Runs each INSERT; the paths of the data files each one added."""
    added = []
    for statement in inserts:
        before = {e.data_file.file_path for e in live_files(catalog, f"{ns}.{table}")}
        floe.execute(statement)
        added.append({e.data_file.file_path for e in live_files(catalog, f"{ns}.{table}")} - before)
    return added


def ids_of(catalog, ns: str, table: str, path: str) -> list[int]:
    with catalog.load_table(f"{ns}.{table}").io.new_input(path).open() as stream:
        return sorted(pq.read_table(stream).column("id").to_pylist())


def test_where_rewrites_only_the_files_that_may_match(floe, official, catalog, ns):
    """Ten files of 20 ids each, disjoint: `id < 100` selects the first five by their bounds,
    each read whole; a file with deletes outside the predicate is left alone."""
    table = f"lake.{ns}.t"
    floe.execute(f"CREATE TABLE {table} (id BIGINT, v VARCHAR)")
    added = insert_files(
        floe,
        catalog,
        ns,
        "t",
        [f"INSERT INTO {table} SELECT i, 'v' || i FROM range({k * 20}, {k * 20 + 20}) t(i)" for k in range(10)],
    )
    floe.execute(f"DELETE FROM {table} WHERE id = 150")
    expected = ordered([(i, f"v{i}") for i in range(200) if i != 150])
    untouched = set().union(*added[5:])

    outcome = rewrite(floe, table, ", \"where\" => 'id < 100'")
    assert outcome["rewritten_data_files_count"] == 5 and outcome["added_data_files_count"] == 1
    data = {e.data_file.file_path for e in live_files(catalog, f"{ns}.t") if e.data_file.content == DataFileContent.DATA}
    (compacted,) = data - untouched
    assert data - {compacted} == untouched
    assert ids_of(catalog, ns, "t", compacted) == list(range(100))
    assert_rows_everywhere(floe, official, catalog, table, expected)

    # NOT, IN and IS NULL: the files of ids 160..199 only (the compacted one holds 0..99).
    outcome = rewrite(floe, table, ", \"where\" => 'NOT (id < 160 OR id IS NULL) AND id NOT IN (5, 7)', min_input_files => 2")
    assert outcome["rewritten_data_files_count"] == 2
    data = {e.data_file.file_path for e in live_files(catalog, f"{ns}.t") if e.data_file.content == DataFileContent.DATA}
    (merged,) = data - untouched - {compacted}
    assert data - {merged} == set().union(*added[5:8]) | {compacted}
    assert ids_of(catalog, ns, "t", merged) == list(range(160, 200))
    assert_rows_everywhere(floe, official, catalog, table, expected)

    # BETWEEN and typed literals: the files of ids 100..139 (140..159 is outside, 0..99 excluded).
    where = "id BETWEEN 100 AND CAST(''139'' AS BIGINT) AND id NOT BETWEEN -5 AND 99::BIGINT"
    outcome = rewrite(floe, table, f", \"where\" => '{where}', min_input_files => 2")
    assert outcome["rewritten_data_files_count"] == 2
    data = {e.data_file.file_path for e in live_files(catalog, f"{ns}.t") if e.data_file.content == DataFileContent.DATA}
    (between,) = data - set().union(*added[7:]) - {compacted, merged}
    assert ids_of(catalog, ns, "t", between) == list(range(100, 140))
    assert_rows_everywhere(floe, official, catalog, table, expected)


def test_where_on_a_partitioned_table_compacts_the_matching_files_of_each_partition(floe, official, catalog, ns):
    table = f"lake.{ns}.p"
    floe.execute(f"CREATE TABLE {table} (id BIGINT, region VARCHAR)")
    floe.execute(f"ALTER TABLE {table} SET PARTITIONED BY (region)")
    # Each insert writes one file per region, of ids k*20 .. k*20+19.
    added = insert_files(
        floe,
        catalog,
        ns,
        "p",
        [f"INSERT INTO {table} SELECT i, ['eu', 'us'][i % 2 + 1] FROM range({k * 20}, {k * 20 + 20}) t(i)" for k in range(10)],
    )
    assert all(len(files) == 2 for files in added)
    untouched = set().union(*added[5:])

    outcome = rewrite(floe, table, ", \"where\" => 'id < 100'")
    assert outcome["rewritten_data_files_count"] == 10 and outcome["added_data_files_count"] == 2
    region_of = {e.data_file.file_path: e.data_file.partition[0] for e in live_files(catalog, f"{ns}.p")}
    compacted = {path: region for path, region in region_of.items() if path not in untouched}
    assert sorted(compacted.values()) == ["eu", "us"]
    for path, region in compacted.items():
        assert ids_of(catalog, ns, "p", path) == [i for i in range(100) if ["eu", "us"][i % 2] == region]

    # The partition value selects too: of the files left, eu's of ids 100..199.
    outcome = rewrite(floe, table, ", \"where\" => 'region = ''eu'' AND id >= 100'")
    assert outcome["rewritten_data_files_count"] == 5 and outcome["added_data_files_count"] == 1
    after = {e.data_file.file_path for e in live_files(catalog, f"{ns}.p")}
    kept = {path for path, region in region_of.items() if region == "us" or path in compacted}
    (new_eu,) = after - kept
    assert after - {new_eu} == kept
    assert ids_of(catalog, ns, "p", new_eu) == list(range(100, 200, 2))

    expected = ordered([(i, ["eu", "us"][i % 2]) for i in range(200)])
    assert_rows_everywhere(floe, official, catalog, table, expected)


@pytest.mark.parametrize(
    "where, message",
    [
        ("nope > 1", r"the table has no column nope\. Fix: name one of its columns: id, v"),
        ("id > v", r"column id is compared with v, which is not a constant"),
        ("random() < 0.5", r"random\(\) < 0\.5\)? is not a comparison of a column with a constant\. Fix: use only"),
        ("id < 1.5", r"1\.5 is not a value of column id \(BIGINT\)"),
        ("id BETWEEN v AND 3", r"column id is compared with v, which is not a constant"),
        ("id > DATE '2026-01-01'", r"'2026-01-01' is not a value of column id \(BIGINT\)"),
        ("id = NULL", r"compared with NULL.*Fix: write id IS NULL"),
        ("id <", r"it is not an expression DuckDB can parse"),
        ("id < 1, id > 2", r"it is not one expression"),
    ],
)
def test_a_bad_where_is_refused_and_changes_nothing(floe, catalog, ns, where, message):
    table = f"lake.{ns}.t"
    floe.execute(f"CREATE TABLE {table} (id BIGINT, v VARCHAR)")
    for i in range(5):
        floe.execute(f"INSERT INTO {table} VALUES ({i}, 'v')")
    before = catalog.load_table(f"{ns}.t").current_snapshot().snapshot_id
    quoted = where.replace("'", "''")
    with pytest.raises(duckdb.InvalidInputException, match=rf"floe_rewrite_data_files\('{table}'\): where => '.*' is refused: .*{message}"):
        rewrite(floe, table, f", \"where\" => '{quoted}'")
    assert catalog.load_table(f"{ns}.t").current_snapshot().snapshot_id == before
    assert len(live_files(catalog, f"{ns}.t")) == 5


def second_connection(extension, testbed) -> duckdb.DuckDBPyConnection:
    con = floe_connection(extension)
    for statement in testbed.duckdb_setup_sql():
        con.execute(statement)
    return con


def test_a_concurrent_delete_of_an_input_fails_it_cleanly_and_appends_land_next_to_it(
    floe, extension, testbed, catalog, ns
):
    table = f"lake.{ns}.t"
    floe.execute(f"CREATE TABLE {table} (id BIGINT)")
    for i in range(5):
        floe.execute(f"INSERT INTO {table} SELECT * FROM range({i * 10}, {i * 10 + 10})")
    location = catalog.load_table(f"{ns}.t").location()
    files_before = set(testbed.s3_files(location + "/data"))
    other = second_connection(extension, testbed)
    try:
        floe.execute("BEGIN")
        rewrite(floe, table)
        other.execute(f"DELETE FROM {table} WHERE id = 12")
        with pytest.raises(duckdb.Error, match="deleted rows of the same data files"):
            floe.execute("COMMIT")
        # The compacted file was removed; the delete stands.
        new_files = set(testbed.s3_files(location + "/data")) - files_before
        assert all(f.endswith("-deletes.parquet") or "delete" in f for f in new_files), new_files
        assert len(pyiceberg_rows(catalog, f"{ns}.t")) == 49

        floe.execute("BEGIN")
        rewrite(floe, table)
        other.execute(f"INSERT INTO {table} VALUES (1000)")
        floe.execute("COMMIT")
        rows = pyiceberg_rows(catalog, f"{ns}.t")
        assert rows == ordered([(i,) for i in range(50) if i != 12] + [(1000,)])
        assert catalog.load_table(f"{ns}.t").current_snapshot().summary.operation.value == "replace"
    finally:
        other.close()


def test_compaction_racing_four_writers_loses_and_duplicates_nothing(floe, extension, testbed, catalog, ns):
    table = f"lake.{ns}.t"
    floe.execute(f"CREATE TABLE {table} (writer INTEGER, i INTEGER)")
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    start = time.time() + 3
    writers = [
        context.Process(target=_writer, args=(extension, testbed.duckdb_setup_sql(), table, w, start, results))
        for w in range(4)
    ]
    for process in writers:
        process.start()
    outcomes = {"committed": 0, "conflict": 0}
    time.sleep(max(0.0, start - time.time()))
    while any(p.is_alive() for p in writers):
        try:
            if rewrite(floe, table, ", min_input_files => 2")["rewritten_data_files_count"]:
                outcomes["committed"] += 1
        except duckdb.Error as error:
            # Failing cleanly is allowed; losing or duplicating rows is not.
            assert "Cannot commit the REWRITE" in str(error), error
            outcomes["conflict"] += 1
    for process in writers:
        process.join(timeout=600)
        assert process.exitcode == 0
    assert sum(results.get() for _ in writers) == 4 * INSERTS
    rewrite(floe, table, ", min_input_files => 2")
    expected = ordered([(w, i) for w in range(4) for i in range(INSERTS)])
    assert duckdb_rows(floe, f"SELECT * FROM {table}") == expected
    assert pyiceberg_rows(catalog, f"{ns}.t") == expected
    assert outcomes["committed"] > 0, outcomes
    print(outcomes)


def test_kill_9_during_a_compaction_leaves_a_readable_table(floe, extension, testbed, catalog, ns):
    table = f"lake.{ns}.t"
    floe.execute(f"CREATE TABLE {table} (id BIGINT, pad VARCHAR)")
    for i in range(12):
        floe.execute(f"INSERT INTO {table} SELECT i, repeat(md5(i::VARCHAR), 8) FROM range({i * 20000}, {i * 20000 + 20000}) t(i)")
    before = catalog.load_table(f"{ns}.t").current_snapshot().snapshot_id
    location = catalog.load_table(f"{ns}.t").location() + "/data"
    existing = set(testbed.s3_files(location))
    sql = f"CALL floe_rewrite_data_files('{table}', target_file_size_bytes => 1000000)"
    worker = floe_child(extension, testbed.duckdb_setup_sql(), sql)
    deadline = time.time() + 120
    while not set(testbed.s3_files(location)) - existing and time.time() < deadline:
        assert worker.poll() is None, "the compaction ended before it wrote a file"
        time.sleep(0.05)
    assert kill(worker), "the compaction finished before the kill"
    assert catalog.load_table(f"{ns}.t").current_snapshot().snapshot_id == before
    assert floe.execute(f"SELECT count(*), count(DISTINCT id) FROM {table}").fetchone() == (240000, 240000)
    assert len(pyiceberg_rows(catalog, f"{ns}.t", selected_fields=("id",))) == 240000


@shown_while_running
def test_progress_is_the_share_of_bytes_rewritten(floe, catalog, ns):
    # 40 partitions of five files each: the compaction rewrites them partition by partition, on
    # one of DuckDB's task threads, while the executor reads its progress.
    table = f"lake.{ns}.t"
    floe.execute(f"CREATE TABLE {table} (p INT, id BIGINT, v VARCHAR) PARTITIONED BY (p)")
    for commit in range(5):
        rows = f"range({commit * 400_000}, {(commit + 1) * 400_000}) t(i)"
        floe.execute(f"INSERT INTO {table} SELECT i % 40, i, repeat('x', 50) FROM {rows}")
    (row,), samples = progress_while(floe, f"CALL floe_rewrite_data_files('{table}')")
    assert row[:2] == (200, 40)
    assert_progress_shown(samples)
    assert floe.execute(f"SELECT count(*), sum(id) FROM {table}").fetchone() == (2_000_000, 1_999_999_000_000)
