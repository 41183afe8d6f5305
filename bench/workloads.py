"""The benchmark workloads (docs/benchmarks.md), each measured in a fresh process per engine and run, so
one engine's caches and memory never help or hurt another's.

Engines: `floe` (DuckDB + floe), `floe@<version>` (floe on each other DuckDB version it is built
for: bench/versions.py), `official` (DuckDB + the official iceberg extension), and the
limit `parquet` (plain DuckDB with httpfs writing or reading the same Parquet files on the same
S3) or, for W5 and W6, `native` (a native DuckDB file, on the host's DuckDB). With a baseline
build, `floe@base` runs floe's workloads with that older floe extension, so a change is measured
before and after in one run.

floe runs in the measuring process, on the host DuckDB; floe@<version> in a child of that version's
Python. `official` and `parquet` run in a reference engine (tests/reference_engine.py: DuckDB
1.5.5, the only version the official extension's and httpfs' PyPI builds exist for), a child of
the measuring process: a statement is timed inside that child (tests/reference_server.py
`timed_fetch`, `timed_batch`, the same code that times floe here), so the pipe to it is not
counted, and the peak memory reported is the child's; the same holds for floe@<version>.
"""

from __future__ import annotations

import re
import resource
import time
from dataclasses import dataclass, field
from typing import Any

import duckdb

from bench.versions import ChildFloe
from tests.engines import floe_child_connection, floe_connection, host_extension, official_connection
from tests.reference_engine import ReferenceEngine
from tests.reference_server import peak_mb, timed_batch, timed_fetch

ENGINES = ("floe", "official", "parquet")
BASELINE = "floe@base"


def table_tag(engine: str) -> str:
    """The engine's name as it may appear in a table name ("floe@1.5.6" -> "floe_1_5_6")."""
    return engine.replace("@", "_").replace(".", "_")


def source(rows: int, first: int = 0) -> str:
    """N rows of 5 mixed columns, ids from `first` on, sorted by id (so min/max statistics can prune)."""
    return f"""
        SELECT i AS id,
               'name-' || (i % 1000) AS name,
               ((i % 100000) * 0.01)::DECIMAL(12, 2) AS amount,
               DATE '2020-01-01' + (i % 3650)::INTEGER AS day,
               i * 1.5 AS value
        FROM range({first}, {first + rows}) t(i)
    """


@dataclass
class Setup:
    """What a worker needs to reach the test bed (plain data: it crosses process boundaries)."""

    extension: str
    s3_secret: str
    attach: list[str]
    params: dict[str, Any] = field(default_factory=dict)
    #: The older floe extension `floe@base` loads; empty without a baseline.
    baseline: str = ""
    #: The engines floe@<version> that run floe in a child of another DuckDB's Python, by name.
    children: dict[str, ChildFloe] = field(default_factory=dict)
    #: What the official extension runs instead of `attach` (a catalog may be attached otherwise).
    official_attach: list[str] = field(default_factory=list)


Connection = duckdb.DuckDBPyConnection | ReferenceEngine


def connect(engine: str, setup: Setup) -> Connection:
    if engine == "parquet":
        con = ReferenceEngine(("httpfs",))
        con.execute(setup.s3_secret)
    else:
        if engine == "official":
            con = official_connection()
        elif engine == "native":
            # Its `attach` attaches a native DuckDB file. No progress bar, as in floe_connection.
            con = duckdb.connect()
            con.execute("SET enable_progress_bar = false")
        elif engine in setup.children:
            child = setup.children[engine]
            con = floe_child_connection(child.extension, child.python)
        elif engine == BASELINE:
            con = floe_connection(setup.baseline)
            # Builds from before floe's own storage layer read and wrote through httpfs; later
            # ones need none (and DuckDB 2.x has no httpfs offline).
            httpfs = host_extension("httpfs")
            if httpfs is not None:
                con.execute(f"LOAD '{httpfs}'")
        else:
            con = floe_connection(setup.extension)
        for statement in setup.official_attach if engine == "official" and setup.official_attach else setup.attach:
            con.execute(statement)
    con.execute("SET TimeZone = 'UTC'")
    return con


def timed(con: Connection, sql: str, fetch: str) -> tuple[Any, float]:
    """`sql` run and its result fetched ("all" or "one"), timed where the engine runs."""
    return con.timed_fetch(sql, fetch) if isinstance(con, ReferenceEngine) else timed_fetch(con, sql, fetch)


def batch(con: Connection, statements: list[str]) -> dict[str, Any]:
    """The statements run one after another, timed where the engine runs (`timed_batch`)."""
    return con.timed_batch(statements) if isinstance(con, ReferenceEngine) else timed_batch(con, statements)


def engine_peak_mb(con: Connection) -> float:
    """The peak memory of the process the engine runs in."""
    return con.peak_mb() if isinstance(con, ReferenceEngine) else peak_mb()


def w5_dbt(engine: str, setup: Setup) -> dict[str, Any]:
    """`dbt build` twice of tests/dbt_project: through floe into the catalog, or into a native
    DuckDB file (the limit). dbt runs as a child process; its peak memory is reported."""
    import tempfile
    import types
    from pathlib import Path

    from tests.dbt_runner import prepare

    bed = types.SimpleNamespace(**setup.params["bed"])
    with tempfile.TemporaryDirectory(prefix="floe-w5-") as workdir:
        project = prepare(bed, Path(workdir), f"w5_{engine}_{setup.params['run']}", native=engine == "native")
        first = project.run("build")
        if first.returncode:
            raise RuntimeError(dbt_failure(first.output))
        second = project.run("build")
        if second.returncode:
            raise RuntimeError(dbt_failure(second.output))
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"first": first.seconds, "second": second.seconds, "peak_mb": children}


def dbt_failure(output: str) -> str:
    """What a failed `dbt build` says: its first error (DuckDB's message) and its closing count."""
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line).strip() for line in output.strip().splitlines()]
    errors = [line for line in lines if re.match(r"\w+ Error: ", line)]
    return "; ".join(errors[:1] + lines[-1:])


def w1_write(engine: str, setup: Setup) -> dict[str, Any]:
    """CTAS of N rows into an Iceberg table; the limit is COPY ... TO Parquet on the same S3."""
    with connect(engine, setup) as con:
        rows, run = setup.params["rows"], setup.params["run"]
        if engine == "parquet":
            sql = f"COPY ({source(rows)}) TO 's3://raw/bench/w1_{run}.parquet' (FORMAT parquet, COMPRESSION zstd)"
        else:
            sql = f"CREATE TABLE lake.bench.w1_{table_tag(engine)}_{run} AS {source(rows)}"
        (written,), seconds = timed(con, sql, "one")
        if written != rows:
            raise RuntimeError(f"{engine} wrote {written} of {rows} rows")
        return {"seconds": seconds, "peak_mb": engine_peak_mb(con)}


def w2_read(engine: str, setup: Setup) -> dict[str, Any]:
    """A full-scan aggregate or a selective filter over one table; the limit is read_parquet over
    the same data files. With `warm`, the query runs twice in the connection and the second run
    is timed, served by whatever the first one left in the connection's caches."""
    with connect(engine, setup) as con:
        relation = "lake.bench.w2" if engine != "parquet" else f"read_parquet({setup.params['files']!r})"
        if setup.params["query"] == "full":
            sql = full_scan(relation)
        else:
            low = setup.params["rows"] // 2
            sql = f"SELECT * FROM {relation} WHERE id BETWEEN {low} AND {low + 99}"
        if setup.params.get("warm"):
            timed(con, sql, "all")
        result, seconds = timed(con, sql, "all")
        return {"seconds": seconds, "peak_mb": engine_peak_mb(con), "rows": len(result)}


def full_scan(relation: str) -> str:
    """W2's full-scan aggregate, which W6 runs before and after its DELETE; the count comes first."""
    return f"SELECT count(*), sum(value), sum(amount), count(DISTINCT name) FROM {relation}"


def w3_commits(engine: str, setup: Setup) -> dict[str, Any]:
    """Many single-row commits into one table: their total time."""
    with connect(engine, setup) as con:
        table = f"lake.bench.w3_{table_tag(engine)}"
        # The official extension has no CREATE OR REPLACE.
        con.execute(f"DROP TABLE IF EXISTS {table}")
        con.execute(f"CREATE TABLE {table} (id BIGINT, name VARCHAR)")
        commits = batch(con, [f"INSERT INTO {table} VALUES ({i}, 'row-{i}')" for i in range(setup.params["commits"])])
        return {"seconds": commits["seconds"], "peak_mb": engine_peak_mb(con), "failed": len(commits["errors"])}


def w3_plan(engine: str, setup: Setup) -> dict[str, Any]:
    """After the commits: a selective query from a fresh connection (planning over the history);
    with `warm`, the same query again in that connection, after the first one read the history.
    With `history`, over that engine's table instead of its own."""
    with connect(engine, setup) as con:
        target = setup.params["commits"] // 2
        query = f"SELECT * FROM lake.bench.w3_{table_tag(setup.params.get('history', engine))} WHERE id = {target}"
        if setup.params.get("warm"):
            timed(con, query, "all")
        rows, seconds = timed(con, query, "all")
        return {"seconds": seconds, "peak_mb": engine_peak_mb(con), "rows": len(rows)}


#: W7's table: W2's columns (`source`), so W2's full-scan aggregate runs on it.
W7_COLUMNS = "id BIGINT, name VARCHAR, amount DECIMAL(12, 2), day DATE, value DOUBLE"


def w7_commits(engine: str, setup: Setup) -> dict[str, Any]:
    """W7's history, untimed: a fresh `table` filled by `commits` single-row INSERTs of W2's rows."""
    with connect(engine, setup) as con:
        table, commits = setup.params["table"], setup.params["commits"]
        # The official extension has no CREATE OR REPLACE.
        con.execute(f"DROP TABLE IF EXISTS {table}")
        con.execute(f"CREATE TABLE {table} ({W7_COLUMNS})")
        inserts = batch(con, [f"INSERT INTO {table} {source(1, i)}" for i in range(commits)])
        errors = inserts["errors"]
        if errors:
            raise RuntimeError(f"{engine}: {len(errors)} of {commits} commits into {table} failed: {errors[0]}")
        return {}


def w7_scan(engine: str, setup: Setup) -> dict[str, Any]:
    """W2's full-scan aggregate, or a selective `id =` query, on W7's `table`; the count, or the
    one row, checked."""
    table, commits, query = setup.params["table"], setup.params["commits"], setup.params["query"]
    sql = full_scan(table) if query == "full" else f"SELECT * FROM {table} WHERE id = {commits // 2}"
    with connect(engine, setup) as con:
        result, seconds = timed(con, sql, "all")
        found, expected = (result[0][0], commits) if query == "full" else (len(result), 1)
        if found != expected:
            raise RuntimeError(f"{engine}: W7 {query} on {table} returned {found}, not {expected}")
        return {"seconds": seconds, "peak_mb": engine_peak_mb(con)}


def w7_compact(engine: str, setup: Setup) -> dict[str, Any]:
    """`CALL floe_rewrite_data_files` on W7's `table` with its defaults (binpack): its time and
    the data files it rewrote and added, which the caller checks against the table's files."""
    table = setup.params["table"]
    with connect(engine, setup) as con:
        (rewritten, added, _, failed), seconds = timed(con, f"CALL floe_rewrite_data_files('{table}')", "one")
        if failed:
            raise RuntimeError(f"{engine}: compacting {table} failed for {failed} data files")
        return {"seconds": seconds, "peak_mb": engine_peak_mb(con), "rewritten": rewritten, "added": added}


def w4_writer(engine: str, setup: Setup) -> dict[str, Any]:
    """One of the concurrent writers: connects, waits for the common start, then inserts."""
    with connect(engine, setup) as con:
        table, writer = setup.params["table"], setup.params["writer"]
        statements = [f"INSERT INTO {table} VALUES ({writer}, {i})" for i in range(setup.params["inserts"])]
        time.sleep(max(0.0, setup.params["start"] - time.time()))
        inserts = batch(con, statements)
        landed = len(statements) - len(inserts["errors"])
        return {"finished": inserts["finished"], "landed": landed, "peak_mb": engine_peak_mb(con)}


#: W6's scans, before and after its DELETE: their ratio is the read cost of the delete files.
SCAN_BEFORE, SCAN_AFTER = "W6 scan before", "W6 scan after DELETE"


@dataclass(frozen=True)
class RowChange:
    """One of W6's timed statements: the statements run before it in its process, untimed; the
    statement; the first value it must return (the scan's count, or the number of rows changed)."""

    prepare: tuple[str, ...]
    sql: str
    returns: int


def row_changes(table: str, rows: int) -> dict[str, RowChange]:
    """W6's statements on `table`, W1's table of `rows` rows, by report line, in the order they run
    on it. DELETE and UPDATE each change 1% of the rows, a range of ids of their own; MERGE's
    source has as many rows (100,000 of 10M): its first half the ids of the table's last rows
    (updated), its second half new ids (inserted)."""
    changed = rows // 100
    deleted, updated, merge_first = rows // 10, rows // 2, rows - changed // 2
    merge_source = f"SELECT id, name, amount, day, -value AS value FROM ({source(changed, merge_first)})"
    return {
        SCAN_BEFORE: RowChange((), full_scan(table), rows),
        "W6 DELETE 1%": RowChange((), f"DELETE FROM {table} WHERE id BETWEEN {deleted} AND {deleted + changed - 1}", changed),
        SCAN_AFTER: RowChange((), full_scan(table), rows - changed),
        "W6 UPDATE 1%": RowChange(
            (), f"UPDATE {table} SET value = value + 1 WHERE id BETWEEN {updated} AND {updated + changed - 1}", changed
        ),
        f"W6 MERGE {_count(changed)}": RowChange(
            (f"CREATE TEMP TABLE w6_source AS {merge_source}",),
            f"MERGE INTO {table} AS t USING w6_source AS s ON t.id = s.id "
            "WHEN MATCHED THEN UPDATE SET value = s.value "
            "WHEN NOT MATCHED THEN INSERT VALUES (s.id, s.name, s.amount, s.day, s.value)",
            changed,
        ),
    }


def _count(rows: int) -> str:
    """100000 -> "100k", as the workload is named at its full size; 200 -> "200"."""
    return f"{rows // 1000}k" if rows % 1000 == 0 else str(rows)


def w6_create(engine: str, setup: Setup) -> dict[str, Any]:
    """W6's table for one engine and run, untimed: W1's rows by CTAS through the engine (for
    `native`, into the DuckDB file its setup attaches as `lake`)."""
    rows, table = setup.params["rows"], setup.params["table"]
    with connect(engine, setup) as con:
        if engine == "native":
            con.execute("CREATE SCHEMA lake.bench")
        (written,) = con.execute(f"CREATE TABLE {table} AS {source(rows)}").fetchone()
        if written != rows:
            raise RuntimeError(f"{engine} wrote {written} of {rows} rows into {table}")
        return {}


def w6_change(engine: str, setup: Setup) -> dict[str, Any]:
    """One of W6's statements (`step`, a report line of `row_changes`) on the engine's table."""
    rows, table, step = setup.params["rows"], setup.params["table"], setup.params["step"]
    change = row_changes(table, rows)[step]
    with connect(engine, setup) as con:
        for statement in change.prepare:
            con.execute(statement)
        (returned, *_), seconds = timed(con, change.sql, "one")
        if returned != change.returns:
            raise RuntimeError(f"{engine}: {step} on {table} returned {returned}, not {change.returns}")
        return {"seconds": seconds, "peak_mb": engine_peak_mb(con)}
