"""Writers racing on one table through the catalog: every commit lands (409s are retried), and a
writer killed mid-statement changes nothing."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid

from tests.engines import floe_connection

WRITERS = 8
INSERTS = 50


def _writer(extension: str, setup: list[str], table: str, writer: int, start: float, out) -> None:
    con = floe_connection(extension)
    for statement in setup:
        con.execute(statement)
    # Everyone starts at the same moment.
    time.sleep(max(0.0, start - time.time()))
    landed = 0
    for i in range(INSERTS):
        con.execute(f"INSERT INTO {table} VALUES ({writer}, {i})")
        landed += 1
    out.put(landed)


def test_concurrent_inserts_all_land(floe, extension, testbed, catalog):
    floe.execute("CREATE SCHEMA IF NOT EXISTS lake.race")
    # A new table each run: its location holds only this run's files.
    floe.execute("DROP TABLE IF EXISTS lake.race.t")
    name = f"t_{uuid.uuid4().hex[:8]}"
    floe.execute(f"CREATE TABLE lake.race.{name} (writer INTEGER, i INTEGER)")
    table = f"lake.race.{name}"
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    start = time.time() + 5
    processes = [
        context.Process(target=_writer, args=(extension, testbed.duckdb_setup_sql(), table, w, start, results))
        for w in range(WRITERS)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=600)
        assert process.exitcode == 0
    elapsed = time.time() - start
    landed = sum(results.get() for _ in processes)
    assert landed == WRITERS * INSERTS
    assert floe.execute(f"SELECT count(*), count(DISTINCT (writer, i)) FROM {table}").fetchone() == (400, 400)
    loaded = catalog.load_table(f"race.{name}")
    assert len(loaded.snapshots()) == WRITERS * INSERTS
    # Manifests merged at the 100th (commit.manifest.min-count-to-merge), by whichever writer
    # won; the merged manifests and manifest lists of lost attempts were removed, so every
    # manifest file left is one some snapshot refers to.
    assert len(loaded.current_snapshot().manifests(loaded.io)) < 100
    referenced = set()
    for snapshot in loaded.snapshots():
        referenced.add(snapshot.manifest_list)
        referenced.update(m.manifest_path for m in snapshot.manifests(loaded.io))
    written = {f"s3://{path}" for path in testbed.s3_files(loaded.location() + "/metadata") if path.endswith(".avro")}
    assert written == referenced
    floe.execute(f"DROP TABLE {table}")
    print(f"{landed} commits in {elapsed:.1f} s ({landed / elapsed:.1f} commits/s)")


def test_writer_killed_mid_insert_changes_nothing(floe, extension, testbed, catalog):
    floe.execute("CREATE SCHEMA IF NOT EXISTS lake.race")
    floe.execute("CREATE OR REPLACE TABLE lake.race.killed AS SELECT 1 AS n")
    before = catalog.load_table("race.killed").current_snapshot().snapshot_id
    script = textwrap.dedent(
        f"""
        from tests.engines import floe_connection
        con = floe_connection({extension!r})
        for statement in {testbed.duckdb_setup_sql()!r}:
            con.execute(statement)
        print("inserting", flush=True)
        con.execute("INSERT INTO lake.race.killed SELECT range FROM range(2000000000)")
        """
    )
    writer = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, cwd=os.getcwd())
    assert writer.stdout.readline().strip() == b"inserting"
    data = catalog.load_table("race.killed").location() + "/data"
    existing = set(testbed.s3_files(data))
    # Kill it once it is writing data files: the files prove the statement was under way.
    written: set[str] = set()
    deadline = time.time() + 120
    while not written and time.time() < deadline:
        assert writer.poll() is None, "the writer ended before it wrote a data file"
        time.sleep(0.2)
        written = set(testbed.s3_files(data)) - existing
    assert written, f"no data file appeared under {data} within 120 s: the kill would not be mid-write"
    assert writer.poll() is None, "the writer finished before it could be killed"
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    assert writer.returncode == -signal.SIGKILL
    table = catalog.load_table("race.killed")
    assert table.current_snapshot().snapshot_id == before
    assert floe.execute("SELECT count(*) FROM lake.race.killed").fetchone() == (1,)
