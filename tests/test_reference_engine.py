"""The reference engine (tests/reference_engine.py): a DuckDB in a child process that answers as a
connection in the test process would — values in their Python types, DuckDB's errors as DuckDB's
exceptions — and never outlives the process that started it."""

from __future__ import annotations

import datetime
import decimal
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from tests.engines import floe_child_connection
from tests.reference_engine import ReferenceEngine

ROOT = Path(__file__).resolve().parent.parent

VALUES = """
    SELECT 12.34::DECIMAL(9, 2) AS price, DATE '2026-01-02' AS day, TIME '01:02:03.5' AS clock,
           TIMESTAMP '2026-01-02 03:04:05.25' AS ts, TIMESTAMPTZ '2026-01-02 03:04:05+02' AS tstz,
           '6f1c3e2a-0b1d-4c5e-9f00-0123456789ab'::UUID AS uid, '\\x00\\xFF'::BLOB AS payload,
           [1, NULL, 3] AS tags, {'x': 1.5, 'label': 'p'} AS point, MAP {'a': 1, 'b': 2} AS attrs,
           NULL::VARCHAR AS missing
"""


@pytest.fixture(scope="module")
def engine():
    with ReferenceEngine() as reference:
        reference.execute("SET TimeZone = 'UTC'")
        yield reference


def test_values_arrive_in_their_python_types(engine):
    row = engine.execute(VALUES).fetchone()
    utc = datetime.timezone.utc
    assert row == (
        decimal.Decimal("12.34"),
        datetime.date(2026, 1, 2),
        datetime.time(1, 2, 3, 500000),
        datetime.datetime(2026, 1, 2, 3, 4, 5, 250000),
        datetime.datetime(2026, 1, 2, 1, 4, 5, tzinfo=utc),
        uuid.UUID("6f1c3e2a-0b1d-4c5e-9f00-0123456789ab"),
        b"\x00\xff",
        [1, None, 3],
        {"x": 1.5, "label": "p"},
        {"a": 1, "b": 2},
        None,
    )
    assert [type(v) for v in row[:7]] == [decimal.Decimal, datetime.date, datetime.time, datetime.datetime,
                                          datetime.datetime, uuid.UUID, bytes]
    assert row[4].utcoffset() == datetime.timedelta(0)
    assert engine.execute("SELECT ?::INTEGER + 1, ?", [41, "two"]).fetchall() == [(42, "two")]


def test_arrow_results_match_the_rows(engine):
    table = engine.execute("SELECT i, i::VARCHAR AS s, [i] AS l FROM range(5) t(i)").to_arrow_table()
    assert isinstance(table, pa.Table)
    assert table.to_pylist() == [{"i": i, "s": str(i), "l": [i]} for i in range(5)]


def test_errors_are_duckdbs_own(engine):
    with pytest.raises(duckdb.CatalogException, match="Table with name no_such_table does not exist") as failure:
        engine.execute("SELECT * FROM no_such_table")
    assert f"pid {engine.pid}" in failure.value.__notes__[0]
    # The engine carries on after an error.
    assert engine.execute("SELECT 1").fetchone() == (1,)


def test_a_replaced_result_is_not_read(engine):
    first = engine.execute("SELECT 1")
    engine.execute("SELECT 2")
    with pytest.raises(RuntimeError, match="replaced by a later execute"):
        first.fetchall()


def test_statements_are_timed_in_the_engine(engine):
    (count,), seconds = engine.timed_fetch("SELECT count(*) FROM range(1000)", "one")
    assert count == 1000 and 0 < seconds < 10
    batch = engine.timed_batch(["CREATE TABLE t (i INTEGER)", "INSERT INTO t VALUES (1)", "INSERT INTO nowhere VALUES (1)"])
    assert len(batch["errors"]) == 1 and "nowhere" in batch["errors"][0]
    assert abs(batch["finished"] - time.time()) < 10
    assert engine.execute("SELECT count(*) FROM t").fetchone() == (1,)


def test_the_engine_dies_with_the_process_that_started_it():
    """Killed while the engine runs a statement (so the end of its stdin is not what stops it)."""
    starter = subprocess.Popen(
        [sys.executable, "-c", STARTER],
        stdout=subprocess.PIPE,
        cwd=ROOT,
        text=True,
    )
    child = int(starter.stdout.readline())
    time.sleep(0.5)
    os.kill(starter.pid, signal.SIGKILL)
    starter.wait()
    deadline = time.monotonic() + 10
    while _running(child) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _running(child):
        os.kill(child, signal.SIGKILL)
        pytest.fail(f"reference engine {child} outlived the process that started it")


#: Starts an engine, says its pid, then keeps it busy for minutes.
STARTER = """
from tests.engines import floe_child_connection
from tests.reference_engine import ReferenceEngine
engine = ReferenceEngine()
print(engine.pid, flush=True)
engine.execute("SELECT sum(i) FROM range(1000000000000) t(i)")
"""


def _running(pid: int) -> bool:
    """Whether the process exists and has not exited (Z: exited, not yet reaped by its new parent)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_floe_runs_in_a_child_of_a_given_python(extension, testbed, catalog):
    """floe loaded by path into a child of the host's own Python (the way the benchmark runs floe
    on each other DuckDB version): it attaches the test bed's catalog, writes and reads a table."""
    with floe_child_connection(extension, sys.executable) as child:
        assert child.version == duckdb.__version__ and child.pid != os.getpid()
        assert child.execute("SELECT count(*) FROM duckdb_extensions() WHERE extension_name = 'floe' AND loaded").fetchone() == (1,)
        for statement in testbed.duckdb_setup_sql():
            child.execute(statement)
        catalog.create_namespace_if_not_exists("child_engine")
        child.execute("CREATE OR REPLACE TABLE lake.child_engine.t AS SELECT i AS id, i * 2 AS twice FROM range(100) t(i)")
        assert child.execute("SELECT count(*), sum(twice) FROM lake.child_engine.t WHERE id >= 50").fetchone() == (50, 7450)
    assert sorted(catalog.load_table("child_engine.t").scan().to_arrow()["id"].to_pylist()) == list(range(100))


def test_a_missing_python_is_named():
    with pytest.raises(RuntimeError, match="/nowhere/bin/python does not exist"):
        ReferenceEngine(python="/nowhere/bin/python")
