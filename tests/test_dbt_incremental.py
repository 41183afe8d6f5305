"""dbt's incremental strategies and snapshots against floe: tests/dbt_incremental builds every
incremental strategy dbt-duckdb has (delete+insert with one key and with two, merge plain, with
merge_update_columns, with merge_exclude_columns and with two keys, microbatch, append) and a
timestamp and a check snapshot, with `dbt build` run twice and the seeds rewritten in between
(tests/dbt_incremental/second_run: rows updated, added and removed, events moved to another
customer or day). After each run every table floe built holds what the same project builds into a
native DuckDB file from the same seeds, and PyIceberg and DuckDB's official iceberg extension
read the same rows as floe."""

from __future__ import annotations

import datetime
import secrets
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.dbt_runner import prepare
from tests.engines import floe_connection
from tests.rows import duckdb_rows, pyiceberg_rows, sort_key
from tests.testbed import Testbed

PROJECT = Path(__file__).resolve().parent / "dbt_incremental"

#: Each run's microbatch window (--event-time-start, --event-time-end), one batch a day: the first
#: builds 2026-03-01..05, the second reprocesses 03-02..05 and leaves 03-01 as it was. dbt runs
#: the first and the last batch alone and those between side by side, so 03-03 and 03-04 replace
#: their rows in two concurrent transactions.
RUNS = {1: ("2026-03-01", "2026-03-06"), 2: ("2026-03-02", "2026-03-06")}

INCREMENTAL = [
    "customers_delete_insert",
    "events_delete_insert_composite",
    "customers_merge",
    "customers_merge_update_columns",
    "customers_merge_exclude_columns",
    "daily_spend_merge_composite",
    "events_microbatch",
    "events_append",
    "customers_schema_append",
    "customers_schema_sync",
    "customers_schema_fail",
]
#: The on_schema_change='fail' model: its second run changes its columns and must fail; it runs
#: alone then, so that the other models' build succeeds.
FAILS = "customers_schema_fail"
#: Models DuckDB 1.5's own tables cannot build a second time: dbt's type change (ADD, UPDATE, DROP,
#: RENAME in one transaction) fails there with "another transaction has altered this table". The
#: native build leaves them out of its second run on 1.5; floe's is checked on its own.
NATIVE_CANNOT = {"customers_schema_sync"} if int(duckdb.__version__.split(".")[0]) < 2 else set()
SNAPSHOTS = ["customers_snapshot_timestamp", "customers_snapshot_check"]
TABLES = [("incr", name) for name in INCREMENTAL] + [("snapshots", name) for name in SNAPSHOTS]

#: Columns of the check snapshot that hold the time a dbt run took the snapshot (now()), which
#: differs between the floe and the native build. The timestamp snapshot's are copies of the
#: source's updated_at, deterministic, and compared as they are.
RUN_TIME_COLUMNS = ("dbt_valid_from", "dbt_valid_to", "dbt_updated_at")


@dataclass
class Run:
    """What one run left: floe's dbt output, and each table (by model name) as floe, the native
    build, PyIceberg and the official extension read it."""

    output: str
    floe: dict[str, dict[str, Any]] = field(default_factory=dict)
    native: dict[str, dict[str, Any]] = field(default_factory=dict)
    pyiceberg: dict[str, list[tuple]] = field(default_factory=dict)
    official: dict[str, list[tuple]] = field(default_factory=dict)
    #: PyIceberg's view of each table: its uuid and snapshots.
    tables: dict[str, Any] = field(default_factory=dict)
    #: The on_schema_change='fail' model run alone (second run only): floe's and the native run.
    failed: tuple[Any, Any] | None = None


@dataclass
class Builds:
    schema: str
    catalog: Any
    runs: dict[int, Run]


@pytest.fixture(scope="module")
def built(testbed: Testbed, tmp_path_factory, extension: str, official) -> Builds:
    """Both builds of the project, run by run, and what each run left."""
    schema = "incr_" + secrets.token_hex(3)
    lake = prepare(testbed, tmp_path_factory.mktemp("floe"), schema, source=PROJECT)
    native = prepare(testbed, tmp_path_factory.mktemp("native"), schema, native=True, source=PROJECT)
    con = floe_connection(extension)
    for statement in testbed.duckdb_setup_sql():
        con.execute(statement)
    catalog = testbed.pyiceberg_catalog()
    runs: dict[int, Run] = {}
    for run, (start, end) in RUNS.items():
        if run > 1:
            for project in (lake, native):
                for seed in (PROJECT / "second_run").iterdir():
                    shutil.copy(seed, project.dir / "seeds" / seed.name)
        args = ("build", "--vars", f"{{run: {run}}}", "--event-time-start", start, "--event-time-end", end)
        if run > 1:
            args += ("--exclude", FAILS)
        native_args = args + tuple(NATIVE_CANNOT) if run > 1 and NATIVE_CANNOT else args
        # The two builds are independent: run side by side, they take the time of the slower.
        with ThreadPoolExecutor(2) as pool:
            floe_run, native_run = pool.map(lambda build: build[0].run(*build[1]), ((lake, args), (native, native_args)))
        assert floe_run.returncode == 0, floe_run.output
        assert native_run.returncode == 0, native_run.output
        print(f"run {run}: dbt build {floe_run.seconds:.2f} s with floe, {native_run.seconds:.2f} s native")
        left = runs[run] = Run(floe_run.output)
        if run > 1:
            alone = ("run", "--vars", f"{{run: {run}}}", "--select", FAILS)
            with ThreadPoolExecutor(2) as pool:
                left.failed = tuple(pool.map(lambda project: project.run(*alone), (lake, native)))
        with duckdb.connect(str(native.dir.parent / "lake.duckdb"), read_only=True) as file:
            for kind, name in TABLES:
                identifier = f"{schema}_{kind}.{name}"
                left.floe[name] = table_contents(con, f"lake.{identifier}")
                left.native[name] = table_contents(file, f"lake.{identifier}")
                left.pyiceberg[name] = pyiceberg_rows(catalog, identifier)
                left.official[name] = duckdb_rows(official, f"SELECT * FROM lake.{identifier}")
                left.tables[name] = catalog.load_table(identifier)
    con.close()
    return Builds(schema, catalog, runs)


def table_contents(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, Any]:
    """A table's columns with their types, and its rows sorted."""
    columns = con.execute(f"SELECT column_name, column_type FROM (DESCRIBE {table})").fetchall()
    return {"columns": columns, "rows": duckdb_rows(con, f"SELECT * FROM {table}")}


def with_runs_for_times(contents: dict[str, Any]) -> list[tuple]:
    """The check snapshot's rows with each run time replaced by the number of the run that wrote it
    (1 for the earliest time in the table, 2 for the next) and dbt_scd_id (a hash of the key and
    the run time) left out: what is deterministic about a row, still telling a closed version
    from the current one and which run opened and closed it."""
    names = [name for name, _ in contents["columns"]]
    times = sorted({row[names.index(c)] for row in contents["rows"] for c in RUN_TIME_COLUMNS} - {None})
    assert len(times) <= len(RUNS), times  # one now() per snapshot statement
    run_of = {time: number for number, time in enumerate(times, start=1)}
    scd_id = names.index("dbt_scd_id")
    rows = []
    for row in contents["rows"]:
        rows.append(
            tuple(
                run_of.get(value) if name in RUN_TIME_COLUMNS else value
                for name, value in zip(names, row)
                if name != "dbt_scd_id"
            )
        )
        assert row[scd_id], row
    assert len({row[scd_id] for row in contents["rows"]}) == len(contents["rows"])
    return sorted(rows, key=sort_key)


@pytest.mark.parametrize("run", sorted(RUNS))
@pytest.mark.parametrize("name", [name for _, name in TABLES])
def test_table_matches_the_native_build(built, run: int, name: str):
    if run > 1 and name in NATIVE_CANNOT:
        pytest.skip(f"DuckDB {duckdb.__version__}'s own tables cannot build {name} twice (test_on_schema_change checks it)")
    floe, native = built.runs[run].floe[name], built.runs[run].native[name]
    assert floe["columns"] == native["columns"]
    assert floe["rows"], f"{name} is empty after run {run}"
    if name == "customers_snapshot_check":
        assert with_runs_for_times(floe) == with_runs_for_times(native)
    else:
        assert floe["rows"] == native["rows"]


@pytest.mark.parametrize("run", sorted(RUNS))
@pytest.mark.parametrize("name", [name for _, name in TABLES])
def test_other_engines_read_what_floe_reads(built, run: int, name: str):
    left = built.runs[run]
    assert left.pyiceberg[name] == left.floe[name]["rows"]
    assert left.official[name] == left.floe[name]["rows"]


def test_second_run_changed_what_each_strategy_changes(built):
    """What the second seeds (tests/dbt_incremental/second_run) must change in each table, spelled
    out. The comparison with the native build says floe agrees with DuckDB; this says the project
    still exercises what each strategy is for (a model that had stopped doing so would pass it)."""

    def rows(name: str, key: str, value: Any) -> list[dict[str, Any]]:
        contents = built.runs[2].floe[name]
        names = [column for column, _ in contents["columns"]]
        return [dict(zip(names, row)) for row in contents["rows"] if row[names.index(key)] == value]

    def one(name: str, key: str, value: Any) -> dict[str, Any]:
        (row,) = rows(name, key, value)
        return row

    # delete+insert on customer_id, for the customers updated since the last run: those replaced,
    # customer 4 (gone from the source) kept.
    assert one("customers_delete_insert", "customer_id", 3)["region"] == "apac"
    assert one("customers_delete_insert", "customer_id", 4)["name"] == "Barbara"
    # delete+insert on (customer_id, event_day) for the last two days. Event 9 moved from 03-03
    # to 03-04: its old key is outside what the run selected, so the old row stays next to the new
    # one. Event 12 moved from customer 5 to 1 within the window: its old row is gone. Events 13
    # and 14 share a key, so the DELETE ... USING matched each of them twice: deleted once.
    assert [r["event_day"] for r in rows("events_delete_insert_composite", "event_id", 9)] == [
        datetime.date(2026, 3, 3),
        datetime.date(2026, 3, 4),
    ]
    assert one("events_delete_insert_composite", "event_id", 12)["customer_id"] == 1
    assert one("events_delete_insert_composite", "event_id", 13)["amount"] == Decimal("135.00")
    assert one("events_delete_insert_composite", "event_id", 14)["amount"] == Decimal("140.00")
    # merge: region follows the source; with merge_update_columns it keeps its first value.
    assert one("customers_merge", "customer_id", 3)["region"] == "apac"
    assert one("customers_merge_update_columns", "customer_id", 3)["region"] == "emea"
    assert one("customers_merge_update_columns", "customer_id", 5)["name"] == "Edsger W."
    # merge with merge_exclude_columns: first_run stays that of the insert.
    assert [one("customers_merge_exclude_columns", "customer_id", c)["first_run"] for c in (2, 6)] == [1, 2]
    assert one("customers_merge_exclude_columns", "customer_id", 2)["last_run"] == 2
    # merge on (customer_id, event_day): customer 2's 03-03 lost event 8 to customer 3.
    days = {r["event_day"]: r["events"] for r in rows("daily_spend_merge_composite", "customer_id", 2)}
    assert days[datetime.date(2026, 3, 3)] == 1
    # microbatch: the reprocessed days follow the source, 03-01 keeps what the first run wrote.
    assert one("events_microbatch", "event_id", 2)["amount"] == Decimal("20.00")
    assert rows("events_microbatch", "event_id", 16) == []
    assert one("events_microbatch", "event_id", 3)["amount"] == Decimal("35.00")
    assert one("events_microbatch", "event_id", 7)["amount"] == Decimal("75.00")
    assert one("events_microbatch", "event_id", 9)["event_at"] == datetime.datetime(2026, 3, 4, 0, 0, 1)
    assert rows("events_microbatch", "event_id", 11) == []
    assert one("events_microbatch", "event_id", 15)["customer_id"] == 6
    # append: the new events only.
    assert len(built.runs[2].floe["events_append"]["rows"]) == 16
    # Snapshots: a new version where the strategy sees a change; the check strategy looks at
    # region and tier only, and closes customer 4 with a deletion record.
    versions = {name: {c: len(rows(name, "customer_id", c)) for c in range(1, 7)} for name in SNAPSHOTS}
    assert versions["customers_snapshot_timestamp"] == {1: 1, 2: 2, 3: 2, 4: 1, 5: 2, 6: 1}
    assert versions["customers_snapshot_check"] == {1: 1, 2: 2, 3: 2, 4: 2, 5: 1, 6: 1}
    (current,) = [r for r in rows("customers_snapshot_check", "customer_id", 4) if r["dbt_valid_to"] is None]
    assert current["dbt_is_deleted"] == "True"


def test_on_schema_change(built):
    """append_new_columns added the new columns (older rows NULL in them); sync_all_columns
    dropped one, added one and widened another through dbt's ADD, UPDATE, DROP, RENAME; fail
    stopped the model with dbt's message and left its table as the first run wrote it."""
    columns = {name: [c for c, _ in built.runs[2].floe[name]["columns"]] for name in INCREMENTAL}
    assert columns["customers_schema_append"] == ["customer_id", "name", "region", "tier"]
    assert columns["customers_schema_sync"] == ["customer_id", "name", "updated_at", "tier", "visits"]
    types = dict(built.runs[2].floe["customers_schema_sync"]["columns"])
    assert types["visits"] == "BIGINT"
    # delete+insert replaced the customers updated since the first run; 1 and 4 kept their rows,
    # without tier, with visits widened.
    day = datetime.datetime
    assert built.runs[2].floe["customers_schema_sync"]["rows"] == sorted(
        [
            (1, "Ada", day(2026, 3, 1, 9), None, 1),
            (2, "Grace", day(2026, 3, 4, 10), "gold", 20),
            (3, "Linus", day(2026, 3, 4, 11), "bronze", 30),
            (4, "Barbara", day(2026, 3, 1, 9), None, 4),
            (5, "Edsger W.", day(2026, 3, 4, 12), "gold", 50),
            (6, "Margaret", day(2026, 3, 4, 13), "bronze", 60),
        ],
        key=sort_key,
    )
    by_id = {row[0]: row for row in built.runs[2].floe["customers_schema_append"]["rows"]}
    assert by_id[4][2:] == (None, None) and by_id[3][2:] == ("apac", "bronze")
    floe_run, native_run = built.runs[2].failed
    for result in (floe_run, native_run):
        assert result.returncode != 0
        assert "The source and target schemas on this incremental model are out of sync" in result.output
    assert built.runs[2].tables[FAILS].metadata_location == built.runs[1].tables[FAILS].metadata_location


def test_microbatch_batches_ran_side_by_side(built):
    """The second run's middle days, 03-03 and 03-04, replaced their rows in two transactions at
    once on floe's table (dbt's output: each started before the other finished)."""
    lines = built.runs[2].output.splitlines()

    def line_of(text: str) -> int:
        (index,) = [i for i, line in enumerate(lines) if text in line]
        return index

    started = [line_of(f"Batch {n} of 4 START batch 2026-03-0{n + 1}") for n in (2, 3)]
    finished = [line_of(f"Batch {n} of 4 OK created batch 2026-03-0{n + 1}") for n in (2, 3)]
    assert max(started) < min(finished), "\n".join(lines[min(started) : max(finished) + 1])


def test_incremental_runs_change_the_tables_in_place(built):
    """The second run changed each table with row-level writes in the table the first run created
    (same uuid, history kept): position delete files where rows were replaced, appends only where
    nothing was; and dbt left no intermediate table behind in the catalog."""
    for _, name in TABLES:
        if name == FAILS:
            continue
        first, second = built.runs[1].tables[name], built.runs[2].tables[name]
        assert second.metadata.table_uuid == first.metadata.table_uuid, name
        since = [s for s in second.metadata.snapshots if s.sequence_number > first.metadata.last_sequence_number]
        assert since, f"{name}: the second run committed nothing"
        operations = {s.summary.operation.value for s in since}
        # A data file left without rows is removed rather than given a delete file (microbatch
        # deletes whole days, which the first run wrote one batch, one file, at a time).
        replaced = sum(
            int(s.summary.get("added-position-deletes") or 0) + int(s.summary.get("deleted-data-files") or 0)
            for s in since
        )
        if name == "events_append":
            assert operations == {"append"}, (name, operations)
        else:
            assert replaced > 0, (name, [s.summary for s in since])
    for kind in ("incr", "snapshots"):
        names = [name for _, name in built.catalog.list_tables(f"{built.schema}_{kind}")]
        assert sorted(names) == sorted(n for k, n in TABLES if k == kind)
