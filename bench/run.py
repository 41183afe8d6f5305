"""`make bench`: the workloads of docs/benchmarks.md, floe side by side with DuckDB's official
iceberg extension and plain Parquet (the limit), on the test bed's catalog and S3, in one run; floe
on every DuckDB version it is built for (bench/versions.py): `floe` on the default one, in this
process, and `floe@<version>` on each other, in a process of its own.

Every measurement runs in a fresh process; engines alternate within each run. Writes
bench/results/report.md, results.json and chart.png, and the summary table of the README.
`--baseline` adds the engine floe@base: floe's workloads (W1-W4, W6, W7) with an older floe build,
alternating with the others, so a change is measured before and after in the same run.
`--child-default` adds `floe@<default version>`: the default build in a child process too, as the
other versions run, next to `floe` in this process.
`--catalog rustberg` puts W3's tables in the test bed's Rustberg (its warehouse on the same S3)
instead of SeaweedFS' catalog (W3 only: the other workloads' requests and proxies assume
SeaweedFS). `--w3-shared-history`: W3's commits are floe's alone and every engine plans over
floe's table; for histories whose commits by every engine would take hours.

    python -m bench.run --extension build/floe.duckdb_extension [--baseline OLD.duckdb_extension]
        [--child-default] [--catalog seaweedfs|rustberg] [--w3-shared-history] [--rows N] [--runs R]
        [--commits N] [--only W1,W2] [--out DIR] [--smoke]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import dataclasses
import datetime
import json
import multiprocessing
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import duckdb

from bench import request_counts, versions, workloads
from bench.workloads import BASELINE, ENGINES, Setup, table_tag
from tests.engines import floe_connection
from tests.reference_engine import ReferenceEngine
from tests.request_counter import RequestCounter
from tests.rustberg_s3 import RustbergOnS3
from tests.testbed import Testbed

ROOT = Path(__file__).resolve().parent.parent
SPAWN = multiprocessing.get_context("spawn")
DEFAULT_WORKLOADS = "W1,W2,W3,W4,W5,W6,W7"
DEFAULT_OUT = ROOT / "bench" / "results"


def measure(function: Callable[[str, Setup], dict], engine: str, setup: Setup) -> dict[str, Any]:
    """Runs one measurement in a fresh process; a failure is recorded, not raised."""
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=SPAWN, max_tasks_per_child=1) as pool:
        try:
            return pool.submit(function, engine, setup).result()
        except Exception as err:  # noqa: BLE001 - the report says what failed
            return {"error": str(err).splitlines()[0][:300]}


class Bench:
    def __init__(self, args: argparse.Namespace, bed: Testbed, catalog_bed: Testbed | RustbergOnS3) -> None:
        self.args = args
        self.bed = bed
        #: The catalog the tables are in: the test bed's own, or Rustberg on its S3.
        self.catalog_bed = catalog_bed
        self.sql = catalog_bed.duckdb_setup_sql()
        self.official_sql = catalog_bed.official_setup_sql()
        self.results: dict[str, dict[str, list[dict[str, Any]]]] = {}
        #: Per W2 query ("W2 full", "W2 selective"), per engine: the S3 requests it made.
        self.requests: dict[str, dict[str, dict[str, Any]]] = {}
        self.notes: list[str] = []
        #: floe@<version> per other DuckDB version that can run, and why each other one cannot.
        self.children, self.not_measured = versions.child_floes(Path(args.extension), args.child_default)
        #: floe, the older build it is compared with when there is one, floe on the other versions.
        self.floe_engines = ("floe",) + (BASELINE,) * bool(args.baseline) + tuple(c.engine for c in self.children)
        self.engines = self.floe_engines + ENGINES[1:]
        with ReferenceEngine() as reference:
            #: The DuckDB `official` and `parquet` run on (bench/workloads.py).
            self.reference_duckdb = reference.version
        #: Each engine's DuckDB; W5's native dbt runs on the host's, as floe and floe@base do.
        self.duckdb = {engine: duckdb.__version__ for engine in ("floe", BASELINE, "native")}
        self.duckdb |= {c.engine: c.version for c in self.children}
        self.duckdb |= {engine: self.reference_duckdb for engine in ENGINES[1:]}

    def setup(self, sql: list[str] | None = None, **params: Any) -> Setup:
        """What a measurement needs; `sql`: setup SQL other than the test bed's own."""
        children = {c.engine: c for c in self.children}
        official = sql or self.official_sql
        sql = sql or self.sql
        return Setup(
            self.args.extension, sql[0], sql, params, baseline=self.args.baseline, children=children, official_attach=official
        )

    def record(self, workload: str, engine: str, outcome: dict[str, Any]) -> None:
        self.results.setdefault(workload, {}).setdefault(engine, []).append(outcome)
        status = f"{outcome['seconds']:.3f} s" if "seconds" in outcome else outcome.get("error", outcome.get("note", ""))
        print(f"  {workload:<18} {engine:<11} {status}", flush=True)

    def engines_for(self, run: int, engines: tuple[str, ...] | None = None) -> list[str]:
        """Alternate the order between runs so no engine always goes first."""
        engines = engines or self.engines
        shift = run % len(engines)
        return list(engines[shift:] + engines[:shift])

    def w1(self) -> None:
        for run in range(self.args.runs):
            for engine in self.engines_for(run):
                self.record("W1 CTAS", engine, measure(workloads.w1_write, engine, self.setup(rows=self.args.rows, run=run)))

    def w2(self) -> None:
        measure(workloads.w1_write, "floe", self.setup(rows=self.args.rows, run="w2"))
        con = floe_connection(self.args.extension)
        for statement in self.sql:
            con.execute(statement)
        con.execute("ALTER TABLE lake.bench.w1_floe_w2 RENAME TO w2")
        files = [row[0] for row in con.execute("SELECT file_path FROM iceberg_metadata('lake.bench.w2')").fetchall()]
        con.close()
        for query in ("full", "selective"):
            self.w2_query(f"W2 {query}", self.engines, query=query, files=files)
        # The target of the warm query compares floe with read_parquet alone.
        self.w2_query("W2 selective warm", self.floe_engines + ("parquet",), query="selective", files=files, warm=True)
        self.w2_requests(files)

    def w2_query(self, workload: str, engines: tuple[str, ...], **params: Any) -> None:
        for run in range(self.args.runs):
            for engine in self.engines_for(run, engines):
                setup = self.setup(rows=self.args.rows, **params)
                self.record(workload, engine, measure(workloads.w2_read, engine, setup))

    def w2_requests(self, files: list[str]) -> None:
        """W2's queries once more per engine, untimed, with the S3 secret's endpoint a counting
        proxy in front of the test bed's S3: the requests each engine makes for the same files."""
        with RequestCounter(self.bed.s3_endpoint) as s3:
            sql = self.bed.duckdb_setup_sql(s3_endpoint=s3.endpoint)
            for query in ("full", "selective"):
                counts = self.requests.setdefault(f"W2 {query}", {})
                for engine in self.engines:
                    since = time.monotonic()
                    setup = self.setup(sql, rows=self.args.rows, query=query, files=files)
                    outcome = measure(workloads.w2_read, engine, setup)
                    counts[engine] = outcome if "error" in outcome else request_counts.summarize(s3.requests(since))
                    print(f"  W2 {query} requests {engine:<11} {counts[engine]}", flush=True)

    def w3(self) -> None:
        engines = self.floe_engines + ("official",)
        committers = ("floe",) if self.args.w3_shared_history else engines
        for engine in committers:
            self.record("W3 commits", engine, measure(workloads.w3_commits, engine, self.setup(commits=self.args.commits)))
        # Each engine plans over its own table, or over floe's.
        shared = {"history": "floe"} if self.args.w3_shared_history else {}
        for run in range(self.args.runs):
            for engine in self.engines_for(run, engines):
                setup = self.setup(commits=self.args.commits, **shared)
                self.record("W3 plan", engine, measure(workloads.w3_plan, engine, setup))
        for run in range(self.args.runs):
            for engine in self.engines_for(run, engines):
                setup = self.setup(commits=self.args.commits, warm=True, **shared)
                self.record("W3 plan warm", engine, measure(workloads.w3_plan, engine, setup))
        # floe attached with MAX_TABLE_STALENESS: the warm query does not load the table again.
        stale = [s.removesuffix(")") + ", MAX_TABLE_STALENESS '1 minute')" if s.startswith("ATTACH") else s for s in self.sql]
        for run in range(self.args.runs):
            for engine in self.engines_for(run, self.floe_engines):
                setup = self.setup(stale, commits=self.args.commits, warm=True, **shared)
                self.record("W3 plan warm stale", engine, measure(workloads.w3_plan, engine, setup))

    def w4(self) -> None:
        catalog = self.bed.pyiceberg_catalog()
        from pyiceberg.schema import Schema
        from pyiceberg.types import IntegerType, NestedField

        schema = Schema(NestedField(1, "writer", IntegerType()), NestedField(2, "i", IntegerType()))
        for run in range(self.args.runs):
            for engine in self.engines_for(run, self.floe_engines + ("official",)):
                identifier = f"bench.w4_{table_tag(engine)}_{run}"
                catalog.create_table(identifier, schema=schema)
                start = time.time() + 6 + self.args.writers
                setups = [
                    self.setup(table=f"lake.{identifier}", writer=w, inserts=self.args.inserts, start=start)
                    for w in range(self.args.writers)
                ]
                with concurrent.futures.ProcessPoolExecutor(
                    self.args.writers, mp_context=SPAWN, max_tasks_per_child=1
                ) as pool:
                    outcomes = [f.result() for f in [pool.submit(workloads.w4_writer, engine, s) for s in setups]]
                table = catalog.load_table(identifier)
                landed = sum(o["landed"] for o in outcomes)
                attempts = sum(int(s.summary.additional_properties.get("commit-attempt", 1)) for s in table.snapshots())
                rows = len(table.scan().to_arrow())
                seconds = max(o["finished"] for o in outcomes) - start
                self.record(
                    "W4 concurrent",
                    engine,
                    {
                        "seconds": seconds,
                        "peak_mb": max(o["peak_mb"] for o in outcomes),
                        "landed": landed,
                        "rows": rows,
                        "attempted": self.args.writers * self.args.inserts,
                        "retries": attempts - len(table.snapshots()) if engine in self.floe_engines else None,
                    },
                )

    def w5(self) -> None:
        bed = {k: getattr(self.bed, k) for k in ("client_id", "client_secret", "warehouse", "region", "catalog_uri", "s3_endpoint")}
        for run in range(self.args.runs):
            for engine in self.engines_for(run, ("floe", "native")):
                outcome = measure(workloads.w5_dbt, engine, self.setup(bed=bed, run=run))
                for which in ("first", "second"):
                    line = {"seconds": outcome[which], "peak_mb": outcome["peak_mb"]} if which in outcome else outcome
                    self.record(f"W5 dbt {which}", engine, line)
        self.notes.append(
            "W5: DuckDB's official iceberg extension cannot build the project: it has no CREATE VIEW "
            "(`Not implemented Error: Create View`), which the staging views need; the limit is the same "
            "project built into a native DuckDB file."
        )
        others = [BASELINE] * bool(self.args.baseline) + [c.engine for c in self.children]
        if others:
            self.notes.append(
                f"W5 has no {' or '.join(others)} line: dbt loads floe from the floe_dbt wheel installed in the "
                f"measuring Python (DuckDB {duckdb.__version__}), not from --baseline or another version's build."
            )

    def w6(self) -> None:
        """W6's statements run in order on a table of each engine's own per run, created untimed
        (for `native`, in a DuckDB file of its own); each statement in a fresh process, the engines
        alternating at each statement."""
        engines = self.floe_engines + ("official", "native")
        steps = list(workloads.row_changes("", self.args.rows))
        with tempfile.TemporaryDirectory(prefix="floe-w6-") as natives:
            for run in range(self.args.runs):
                setups, uncreated = {}, {}
                for engine in engines:
                    table = f"lake.bench.w6_{table_tag(engine)}_{run}"
                    setup = self.setup(rows=self.args.rows, table=table)
                    if engine == "native":
                        setup = dataclasses.replace(setup, attach=[f"ATTACH '{natives}/w6_{run}.duckdb' AS lake"])
                    setups[engine] = setup
                    created = measure(workloads.w6_create, engine, setup)
                    if "error" in created:
                        uncreated[engine] = {"error": f"the table was not created: {created['error']}"}
                for step in steps:
                    for engine in self.engines_for(run, engines):
                        if engine in uncreated:
                            self.record(step, engine, uncreated[engine])
                            continue
                        setup = dataclasses.replace(setups[engine], params={**setups[engine].params, "step": step})
                        self.record(step, engine, measure(workloads.w6_change, engine, setup))
        ratios = self.ratios(workloads.SCAN_BEFORE, workloads.SCAN_AFTER, engines)
        self.notes.append(f"W6: the scan after the DELETE over the scan before it (target for floe ≤ 1.15×): {ratios}.")

    def w7(self) -> None:
        """Compaction after many commits. Each engine's table gets W3's number of single-row
        commits of W2's rows once, untimed. Every run then measures W2's full scan and a selective
        query on it, floe's compaction (`floe_rewrite_data_files` with its defaults), and the
        scans again; afterwards the table's current snapshot is set back to the uncompacted one
        (through PyIceberg), so every run compacts the same history and the history is written
        once per engine whatever the number of runs. The official extension has no compaction:
        its scans, on its uncompacted table, are the anchor before and after."""
        engines = self.floe_engines + ("official",)
        catalog = self.bed.pyiceberg_catalog()
        tables = {engine: f"bench.w7_{table_tag(engine)}" for engine in engines}
        setups = {engine: self.setup(table=f"lake.{tables[engine]}", commits=self.args.commits) for engine in engines}
        unbuilt = {}
        for engine in engines:
            built = measure(workloads.w7_commits, engine, setups[engine])
            if "error" in built:
                unbuilt[engine] = {"error": f"the table was not built: {built['error']}"}
        uncompacted = {e: catalog.load_table(tables[e]).current_snapshot().snapshot_id for e in engines if e not in unbuilt}
        shapes = {engine: snapshot_shape(catalog.load_table(tables[engine])) for engine in uncompacted}
        for run in range(self.args.runs):
            self.w7_scans("before", run, engines, setups, unbuilt)
            if "official" in shapes:
                official = f"not available: the official extension has no compaction; its table {shapes['official']}"
                self.record("W7 compaction", "official", {"note": official})
            not_compacted = dict(unbuilt)
            for engine in self.engines_for(run, self.floe_engines):
                if engine in unbuilt:
                    self.record("W7 compaction", engine, unbuilt[engine])
                    continue
                outcome = measure(workloads.w7_compact, engine, setups[engine])
                if "error" not in outcome:
                    after = snapshot_shape(catalog.load_table(tables[engine]))
                    outcome["note"] = f"{shapes[engine]} → {after}"
                    rewritten, added = outcome["rewritten"], outcome["added"]
                    if rewritten != shapes[engine].data_files or added != after.data_files:
                        outcome = {"error": f"rewrote {rewritten} and added {added} data files: {outcome['note']}"}
                if "error" in outcome:
                    not_compacted[engine] = {"error": f"not compacted: {outcome['error']}"}
                self.record("W7 compaction", engine, outcome)
            self.w7_scans("after", run, engines, setups, not_compacted)
            for engine in self.floe_engines:
                if engine in uncompacted:
                    snapshots = catalog.load_table(tables[engine]).manage_snapshots()
                    snapshots.set_current_snapshot(snapshot_id=uncompacted[engine]).commit()
        for query in ("full", "selective"):
            ratios = self.ratios(f"W7 {query} before", f"W7 {query} after", self.floe_engines)
            self.notes.append(f"W7: {query} scan after the compaction over before it: {ratios}.")

    def w7_scans(
        self, stage: str, run: int, engines: tuple[str, ...], setups: dict[str, Setup], failed: dict[str, dict]
    ) -> None:
        """W7's two scans on each engine's table, `stage` "before" or "after" the compaction;
        the engines in `failed` record why they have no table to scan."""
        for query in ("full", "selective"):
            for engine in self.engines_for(run, engines):
                if engine in failed:
                    self.record(f"W7 {query} {stage}", engine, failed[engine])
                    continue
                setup = dataclasses.replace(setups[engine], params={**setups[engine].params, "query": query})
                outcome = measure(workloads.w7_scan, engine, setup)
                if engine not in self.floe_engines and stage == "after" and "error" not in outcome:
                    outcome["note"] = "its table uncompacted: no compaction"
                self.record(f"W7 {query} {stage}", engine, outcome)

    def ratios(self, first: str, second: str, engines: tuple[str, ...]) -> str:
        """Per engine, its median of workload `second` over its median of `first`."""
        ratios = []
        for engine in engines:
            medians = [self.median(workload, engine) for workload in (first, second)]
            ratio = f"{medians[1] / medians[0]:.2f}×" if all(medians) else "not measured"
            ratios.append(f"{engine} {ratio}")
        return ", ".join(ratios)

    def median(self, workload: str, engine: str) -> float | None:
        """The engine's median time of `workload`, or None when no run of it measured one."""
        times = [o["seconds"] for o in self.results.get(workload, {}).get(engine, []) if "seconds" in o]
        return statistics.median(times) if times else None

    def failures(self) -> list[str]:
        """Every measurement that failed, timed or counting requests: "workload engine: error"."""
        timed = [(w, e, o) for w, engines in self.results.items() for e, outcomes in engines.items() for o in outcomes]
        counted = [(w, e, o) for w, engines in self.requests.items() for e, o in engines.items()]
        return [f"{w} {e}: {o['error']}" for w, e, o in timed + counted if "error" in o]

    # -- report ------------------------------------------------------------------------------
    def summary(self) -> list[dict[str, Any]]:
        lines = []
        for workload, engines in self.results.items():
            medians = {}
            for engine, outcomes in engines.items():
                times = [o["seconds"] for o in outcomes if "seconds" in o]
                errors = [o["error"] for o in outcomes if "error" in o]
                line: dict[str, Any] = {
                    "workload": workload,
                    "engine": engine,
                    "duckdb": self.duckdb[engine],
                    "runs": len(outcomes),
                }
                if times:
                    line.update(
                        median=statistics.median(times),
                        min=min(times),
                        max=max(times),
                        peak_mb=max(o["peak_mb"] for o in outcomes if "peak_mb" in o),
                    )
                    medians[engine] = line["median"]
                if errors:
                    line["errors"] = f"{len(errors)} failed: {errors[0]}"
                notes = [o["note"] for o in outcomes if "note" in o]
                if notes:
                    line["notes"] = "; ".join(dict.fromkeys(notes))
                extra = [o for o in outcomes if "landed" in o]
                if extra:
                    line["landed"] = f"{sum(o['landed'] for o in extra)}/{sum(o['attempted'] for o in extra)}"
                    line["commits_per_s"] = statistics.median(o["landed"] / o["seconds"] for o in extra)
                    retries = [o["retries"] for o in extra if o.get("retries") is not None]
                    if retries:
                        line["retries"] = sum(retries)
                failed = [o.get("failed", 0) for o in outcomes]
                if any(failed):
                    line["failed_commits"] = sum(failed)
                lines.append(line)
            for line in lines:
                mine = medians.get(line["engine"])
                if line["workload"] != workload or line["engine"] not in self.floe_engines or not mine:
                    continue
                for anchor in ("official", "parquet", "native"):
                    if medians.get(anchor):
                        line[f"vs_{anchor}"] = mine / medians[anchor]
                if line["engine"] == "floe" and medians.get(BASELINE):
                    line["vs_base"] = mine / medians[BASELINE]
        return lines

    def write(self) -> None:
        out = Path(self.args.out)
        out.mkdir(parents=True, exist_ok=True)
        lines = self.summary()
        machine = f"{os.cpu_count()} cores, {_memory_gib():.0f} GiB, {platform.machine()}"
        ran = self.args.only.split(",")
        sizes = {
            "W1/W2": f"W1/W2 {self.args.rows:,} rows × 5 columns",
            "W3": f"W3 {self.args.commits} commits",
            "W4": f"W4 {self.args.writers} writers × {self.args.inserts} inserts",
            "W5": "W5 tests/dbt_project built twice",
            "W6": f"W6 on W1's table of {self.args.rows:,} rows: DELETE and UPDATE of {self.args.rows // 100:,} rows "
            "each, MERGE of as many source rows (half matching)",
            "W7": f"W7 {self.args.commits} single-row commits of W2's columns, compacted with floe_rewrite_data_files' defaults",
        }
        children = "".join(f"{c.engine} on DuckDB {c.version} ({Path(c.python).parent.parent.name}), " for c in self.children)
        engines = (
            f"floe{' and floe@base' if self.args.baseline else ''} (and the native DuckDB of W5 and W6) on DuckDB {duckdb.__version__} "
            f"in the measuring process; {children}the official iceberg extension and the limit's httpfs on DuckDB "
            f"{self.reference_duckdb}, each in a process of its own, statements timed inside it"
        )
        catalog = "Rustberg's" if isinstance(self.catalog_bed, RustbergOnS3) else "SeaweedFS'"
        if self.args.w3_shared_history and "W3" in ran:
            engines += f"; W3's {self.args.commits} commits by floe alone, every engine planning over floe's table"
        header = (
            f"Run {datetime.date.today().isoformat()} on {machine}; {engines}; "
            + "".join(f"{size}; " for names, size in sizes.items() if set(names.split("/")) & set(ran))
            + f"medians of {self.args.runs} runs, "
            f"each in a fresh process, engines alternating; {catalog} catalog + S3 on loopback. "
            "The limit: COPY ... TO / read_parquet on the same S3 (W1, W2), a native DuckDB file (W5, W6)."
        )
        if self.args.baseline:
            header += (
                f" floe@base: the same floe workloads with the older build {Path(self.args.baseline).resolve().name}, "
                "alternating with the other engines in this run; 'vs before' is floe's median over floe@base's."
            )
        if self.not_measured:
            header += " Not measured: " + "; ".join(f"{engine}, {why}" for engine, why in self.not_measured.items()) + "."
        table = _markdown(lines)
        results = {
            "header": header,
            "lines": lines,
            "raw": self.results,
            "s3_requests": self.requests,
            "not_measured": self.not_measured,
        }
        (out / "results.json").write_text(json.dumps(results, indent=2))
        requests = "".join(
            f"\n## S3 requests of {workload}\n\nOne untimed run per engine in a fresh process, counted by a proxy in "
            f"front of S3 (bench/request_counts.py).\n\n{request_counts.markdown(counts)}\n"
            for workload, counts in self.requests.items()
        )
        (out / "report.md").write_text(
            f"# floe benchmarks\n\n{header}\n\n{table}\n" + "".join(f"\n- {n}" for n in self.notes) + "\n" + requests
        )
        _chart(lines, out / "chart.png", header, self.engines)
        # Only a full run at the default sizes and place is the README's figure.
        if not self.args.smoke and self.args.only == DEFAULT_WORKLOADS and Path(self.args.out) == DEFAULT_OUT:
            _update_readme(header, table)
        print(f"\n{header}\n\n{table}")


@dataclasses.dataclass(frozen=True)
class SnapshotShape:
    """The live data files and the manifests of a table's current snapshot."""

    data_files: int
    manifests: int

    def __str__(self) -> str:
        return f"{_count(self.data_files, 'data file')} in {_count(self.manifests, 'manifest')}"


def snapshot_shape(table: Any) -> SnapshotShape:
    """`table`'s (a PyIceberg Table) current snapshot, counted from its manifest list alone: each
    data manifest lists how many of its files it added and kept."""
    from pyiceberg.manifest import ManifestContent

    manifests = table.current_snapshot().manifests(table.io)
    data = sum(m.added_files_count + m.existing_files_count for m in manifests if m.content == ManifestContent.DATA)
    return SnapshotShape(data, len(manifests))


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'s' * (number != 1)}"


def _memory_gib() -> float:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30


def _markdown(lines: list[dict[str, Any]]) -> str:
    def fmt(value: Any, pattern: str) -> str:
        return pattern.format(value) if value is not None else ""

    # The "vs before" column only where an older build ran alongside.
    before = any("vs_base" in line for line in lines)
    columns = ["workload", "engine", "DuckDB", "median s", "min s", "max s", "vs official", "vs limit"]
    columns += ["vs before"] * before + ["peak MiB", "notes"]
    rows = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for line in lines:
        notes = []
        if "landed" in line:
            notes.append(f"landed {line['landed']}, {line['commits_per_s']:.1f} commits/s")
        if line.get("retries") is not None and "retries" in line:
            notes.append(f"{line['retries']} retries")
        if "failed_commits" in line:
            notes.append(f"{line['failed_commits']} commits failed")
        if "errors" in line:
            notes.append(line["errors"])
        if "notes" in line:
            notes.append(line["notes"])
        rows.append(
            f"| {line['workload']} | {line['engine']} | {line['duckdb']} | {fmt(line.get('median'), '{:.3f}')} | "
            f"{fmt(line.get('min'), '{:.3f}')} | {fmt(line.get('max'), '{:.3f}')} | "
            f"{fmt(line.get('vs_official'), '{:.2f}×')} | {fmt(line.get('vs_parquet', line.get('vs_native')), '{:.2f}×')} | "
            + (f"{fmt(line.get('vs_base'), '{:.2f}×')} | " if before else "")
            + f"{fmt(line.get('peak_mb'), '{:.0f}')} | {'; '.join(notes)} |"
        )
    return "\n".join(rows)


def _chart(lines: list[dict[str, Any]], path: Path, title: str, engines: tuple[str, ...]) -> None:
    """Left: each engine's median time relative to the fastest engine of the workload (1.0 is
    the best; missing bars failed). Right: W4's landed commits, the share that reached the table."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    timed = [w for w in dict.fromkeys(line["workload"] for line in lines) if w not in ("W3 commits", "W4 concurrent")]
    figure, (left, right) = plt.subplots(1, 2, figsize=(13, 4.5), gridspec_kw={"width_ratios": [4, 1]})
    # The limit is plain Parquet for W1/W2 and a native DuckDB file for W5 and W6.
    bars = [(engine, (engine,)) for engine in engines if engine != "parquet"] + [("limit", ("parquet", "native"))]
    width = 0.8 / len(bars)
    for index, (label, names) in enumerate(bars):
        ratios = []
        for workload in timed:
            medians = [l["median"] for l in lines if l["workload"] == workload and l.get("median")]
            mine = next((l.get("median") for l in lines if l["workload"] == workload and l["engine"] in names), None)
            ratios.append(mine / min(medians) if mine and medians else 0)
        left.bar([i + (index - (len(bars) - 1) / 2) * width for i in range(len(timed))], ratios, width, label=label)
    left.axhline(1.0, color="grey", linewidth=0.8)
    left.set_xticks(range(len(timed)), timed, fontsize=8)
    left.set_ylabel("median time / fastest engine (lower is better)")
    left.legend()
    concurrent = [l for l in lines if l["workload"] == "W4 concurrent" and "landed" in l]
    for index, line in enumerate(concurrent):
        landed, attempted = (int(v) for v in line["landed"].split("/"))
        right.bar(index, 100 * landed / attempted, 0.6, color=f"C{engines.index(line['engine'])}")
        right.text(index, 100 * landed / attempted + 2, f"{line['commits_per_s']:.0f}/s", ha="center", fontsize=8)
    right.set_xticks(range(len(concurrent)), [l["engine"] for l in concurrent])
    right.set_ylim(0, 110)
    right.set_ylabel("W4: % of concurrent commits that landed")
    figure.suptitle("floe vs DuckDB's official iceberg extension vs the limit (plain Parquet, native DuckDB)", fontsize=11)
    figure.text(0.01, 0.01, title, fontsize=6, wrap=True)
    figure.tight_layout(rect=(0, 0.06, 1, 0.95))
    figure.savefig(path, dpi=120)


def _update_readme(header: str, table: str) -> None:
    readme = ROOT / "README.md"
    text = readme.read_text()
    start, end = "<!-- bench:start -->", "<!-- bench:end -->"
    if start in text and end in text:
        before, rest = text.split(start, 1)
        after = rest.split(end, 1)[1]
        readme.write_text(f"{before}{start}\n{header}\n\n{table}\n{end}{after}")


def _named_floe(extension: Path, directory: Path) -> str:
    """`extension` under the file name floe.duckdb_extension: DuckDB derives the entry point it
    calls (floe_duckdb_cpp_init) from the file name, so a build kept as floe-before-x.duckdb_extension
    would not load."""
    link = directory / "floe.duckdb_extension"
    link.symlink_to(extension)
    return str(link)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--extension", required=True)
    parser.add_argument("--baseline", default="", help="an older floe build, measured alongside as floe@base")
    parser.add_argument(
        "--child-default",
        action="store_true",
        help="also run the default version's build in a child process, as floe@<version>, as the other versions run",
    )
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--commits", type=int, default=500)
    parser.add_argument("--catalog", choices=("seaweedfs", "rustberg"), default="seaweedfs")
    parser.add_argument(
        "--w3-shared-history", action="store_true", help="W3's commits by floe alone; every engine plans over floe's table"
    )
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--inserts", type=int, default=50)
    parser.add_argument("--only", default=DEFAULT_WORKLOADS, help="workloads to run, comma-separated: W1,W2")
    parser.add_argument("--out", default=str(DEFAULT_OUT))
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, so CI keeps the harness working")
    args = parser.parse_args()
    if args.catalog != "seaweedfs" and args.only != "W3":
        parser.error("--catalog rustberg runs W3 alone: add --only W3")
    args.extension = str(Path(args.extension).absolute())
    if args.smoke:
        args.rows, args.runs, args.commits, args.writers, args.inserts = 20_000, 1, 10, 2, 3
        args.out = str(Path(args.out) / "smoke")
    with contextlib.ExitStack() as stack:
        scratch = stack.enter_context(tempfile.TemporaryDirectory(prefix="floe-bench-"))
        bed = stack.enter_context(Testbed())
        catalog_bed = bed if args.catalog == "seaweedfs" else stack.enter_context(RustbergOnS3(bed, Path(scratch)))
        if args.baseline:
            args.baseline = _named_floe(Path(args.baseline).expanduser().resolve(), Path(scratch))
        catalog_bed.pyiceberg_catalog().create_namespace("bench")
        bench = Bench(args, bed, catalog_bed)
        for name in args.only.split(","):
            print(f"{name}:", flush=True)
            getattr(bench, name.lower())()
        bench.write()
        # The smoke run keeps the harness working: every engine that ran must have measured.
        if args.smoke and bench.failures():
            raise SystemExit("measurements failed:\n" + "\n".join(bench.failures()))


if __name__ == "__main__":
    main()
