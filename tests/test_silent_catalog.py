"""A catalog that does not answer: one that accepts connections and stays silent, one that
accepts none, and a real SeaweedFS frozen with SIGSTOP in the middle of a session. Real DuckDB
with floe runs in a subprocess of its own, so its CPU time can be measured: statements fail
within the configured timeouts (REQUEST_TIMEOUT, CONNECT_TIMEOUT, COMMIT_TIMEOUT) with the
endpoint named, waiting costs almost no CPU, and a commit cut off by the freeze is reported as
unknown with nothing lost."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest

from tests.catalog_proxy import CatalogProxy
from tests.testbed import Testbed

ROOT = Path(__file__).resolve().parent.parent
COMMIT = re.compile(r"^/v1/[^/]+/(namespaces/[^/]+/tables/[^/?]+|transactions/commit)$")
#: Waiting may cost at most this share of the wall time waited (a spinning thread costs ~100%).
IDLE_SHARE = 0.25

#: The DuckDB process: reads one JSON-encoded statement per line, answers one JSON line with
#: the outcome, the wall time and the CPU time (all threads) the statement took.
DRIVER = textwrap.dedent(
    """
    import json, resource, sys, time
    import duckdb
    sys.path.insert(0, sys.argv[2])
    from tests.engines import floe_connection
    con = floe_connection(sys.argv[1])
    for line in sys.stdin:
        sql = json.loads(line)
        usage, started = resource.getrusage(resource.RUSAGE_SELF), time.monotonic()
        try:
            rows, error = con.execute(sql).fetchall(), None
        except duckdb.Error as err:
            rows, error = None, str(err)
        wall = time.monotonic() - started
        after = resource.getrusage(resource.RUSAGE_SELF)
        cpu = (after.ru_utime - usage.ru_utime) + (after.ru_stime - usage.ru_stime)
        print(json.dumps({"rows": rows, "error": error, "wall": wall, "cpu": cpu}, default=str), flush=True)
    """
)


class DuckDBProcess:
    """DuckDB with floe in a subprocess; `run` sends one statement and returns its outcome."""

    def __init__(self, extension: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", DRIVER, extension, str(ROOT)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def run(self, sql: str) -> dict:
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(json.dumps(sql) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        assert line, f"the DuckDB process died running {sql!r}"
        return json.loads(line)

    def ok(self, sql: str) -> list:
        outcome = self.run(sql)
        assert outcome["error"] is None, outcome["error"]
        return outcome["rows"]

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        self.process.wait(timeout=30)


@pytest.fixture()
def duck(extension: str) -> Iterator[DuckDBProcess]:
    process = DuckDBProcess(extension)
    yield process
    process.close()


def assert_idle(outcome: dict, what: str) -> None:
    print(f"{what}: {outcome['cpu']:.3f} s of CPU in {outcome['wall']:.2f} s")
    assert outcome["cpu"] < IDLE_SHARE * outcome["wall"] + 0.05, (
        f"{what}: {outcome['cpu']:.2f} s of CPU in {outcome['wall']:.2f} s of waiting; waiting must not spin"
    )


class SilentServer:
    """Accepts every connection on a loopback port and never sends a byte."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                self.held.append(self.sock.accept()[0])
            except OSError:
                return

    def close(self) -> None:
        self.sock.close()
        for conn in self.held:
            conn.close()


def assert_worker_threads(duck: DuckDBProcess) -> None:
    """ATTACH runs as a pipeline task; when one of DuckDB's worker threads takes it, DuckDB's
    client thread busy-waits for it (PendingQueryResult::ExecuteInternal and the Python client's
    CompletePendingQuery loop on NO_TASKS_AVAILABLE). floe connects the catalog while the ATTACH
    is planned, on the client thread, so nothing spins; measured with DuckDB's default threads,
    which must include a worker for the measure to mean anything."""
    assert duck.ok("SELECT current_setting('threads')")[0][0] > 1, "DuckDB runs without worker threads here"


def test_attach_to_a_silent_catalog_fails_after_request_timeout_without_spinning(duck):
    assert_worker_threads(duck)
    server = SilentServer()
    try:
        outcome = duck.run(
            f"ATTACH 'lake' AS lake (TYPE ICEBERG, ENDPOINT '{server.url}', AUTHORIZATION_TYPE 'none', REQUEST_TIMEOUT 1.5)"
        )
    finally:
        server.close()
    error = outcome["error"]
    assert error, "a silent catalog cannot be attached"
    assert f"Cannot attach Iceberg catalog 'lake' at {server.url}/: GET {server.url}/v1/config timed out" in error, error
    assert "the catalog sent no answer within 1.5 s (REQUEST_TIMEOUT)" in error, error
    assert "raise REQUEST_TIMEOUT" in error, error
    assert 1.4 < outcome["wall"] < 8, outcome
    assert_idle(outcome, "ATTACH to a silent catalog")
    assert duck.ok("SELECT count(*) FROM duckdb_databases() WHERE database_name = 'lake'") == [[0]]


def test_a_catalog_accepting_no_connection_fails_after_connect_timeout(duck):
    # Backlog 0 holds one pending connection; once it is taken, the kernel drops new SYNs.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    host, port = listener.getsockname()
    filler = socket.create_connection((host, port), timeout=1)
    assert_worker_threads(duck)
    try:
        outcome = duck.run(
            f"ATTACH 'lake' AS lake (TYPE ICEBERG, ENDPOINT 'http://{host}:{port}', TOKEN 'tok-4711', CONNECT_TIMEOUT 1)"
        )
    finally:
        filler.close()
        listener.close()
    error = outcome["error"]
    assert f"connecting to {host}:{port} timed out after 1 s (CONNECT_TIMEOUT)" in error, error
    assert "raise CONNECT_TIMEOUT" in error, error
    assert "tok-4711" not in error
    assert 0.9 < outcome["wall"] < 8, outcome
    assert_idle(outcome, "waiting to connect")


def attach_options(bed: Testbed, endpoint: str) -> str:
    return (
        f"ATTACH '{bed.warehouse}' AS lake (TYPE ICEBERG, ENDPOINT '{endpoint}', SECRET testbed_iceberg, "
        "REQUEST_TIMEOUT 1, COMMIT_TIMEOUT 2)"
    )


@pytest.fixture()
def frozen_bed(tmp_path) -> Iterator[Testbed]:
    """A test bed of its own, to be frozen; thawed (SIGCONT) and stopped whatever the test did."""
    bed = Testbed(tmp_path).start()
    try:
        yield bed
    finally:
        thaw(bed)
        bed.stop()


def attach_with_table(duck: DuckDBProcess, bed: Testbed) -> None:
    """Attaches `bed` as `lake` with short timeouts and creates lake.ice.t holding one row."""
    for statement in bed.duckdb_setup_sql()[:2]:
        duck.ok(statement)
    duck.ok(attach_options(bed, bed.catalog_uri))
    duck.ok("CREATE SCHEMA lake.ice")
    duck.ok("CREATE TABLE lake.ice.t AS SELECT 1 AS n")


def freeze(bed: Testbed) -> None:
    """SIGSTOP, then wait until the catalog is seen to answer nothing (a request sent right after
    the signal was seen answered now and then on a loaded machine)."""
    assert bed.process is not None
    os.killpg(bed.process.pid, signal.SIGSTOP)
    deadline = time.monotonic() + 10
    while answers(bed.catalog_uri + "/v1/config"):
        assert time.monotonic() < deadline, "the catalog still answers 10 s after SIGSTOP"
        time.sleep(0.05)


def answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=0.3).close()
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False
    return True


def thaw(bed: Testbed) -> None:
    if bed.process is not None and bed.process.poll() is None:
        os.killpg(bed.process.pid, signal.SIGCONT)


def test_queries_on_a_frozen_catalog_fail_in_time_and_work_again_after(duck, frozen_bed):
    bed = frozen_bed
    attach_with_table(duck, bed)

    freeze(bed)
    # A table not seen yet: DuckDB asks the catalog for it.
    outcome = duck.run("SELECT count(*) FROM lake.ice.other")
    error = outcome["error"]
    assert error, "a frozen catalog answers nothing"
    assert f"GET {bed.catalog_uri}/v1/" in error and "timed out: the catalog sent no answer within 1 s (REQUEST_TIMEOUT)" in error, error
    assert f"check that the catalog at {bed.catalog_uri} is running and answering" in error, error
    assert bed.client_secret not in error
    assert 0.9 < outcome["wall"] < 8, outcome
    assert_idle(outcome, "a query on a frozen catalog")

    thaw(bed)
    assert duck.ok("SELECT count(*) FROM lake.ice.t") == [[1]]


def test_a_commit_cut_off_by_a_frozen_catalog_is_unknown_and_loses_nothing(duck, frozen_bed):
    bed = frozen_bed
    attach_with_table(duck, bed)
    catalog = bed.pyiceberg_catalog()
    data = catalog.load_table("ice.t").location() + "/data"
    before = set(bed.s3_files(data))

    # The catalog freezes the moment the commit reaches it: after the data files and manifests
    # were written, before it could answer.
    frozen = threading.Event()

    def freeze_on_commit(method: str, path: str):
        if method == "POST" and COMMIT.match(path) and not frozen.is_set():
            frozen.set()
            freeze(bed)
        return None

    with CatalogProxy(bed.catalog_uri, fault=freeze_on_commit) as proxy:
        duck.ok("DETACH lake")
        duck.ok(attach_options(bed, proxy.url))
        # The INSERT writes its files; COMMIT only talks to the catalog, so its CPU time is the
        # waiting alone (not DuckDB's Parquet and S3 work, which can spin its client thread).
        duck.ok("BEGIN")
        duck.ok("INSERT INTO lake.ice.t VALUES (2)")
        outcome = duck.run("COMMIT")
        thaw(bed)
    assert frozen.is_set(), "the commit went through the proxy"
    error = outcome["error"]
    assert error, "a commit the catalog never answered cannot succeed"
    assert "timed out: the catalog sent no answer within 2 s (COMMIT_TIMEOUT)" in error, error
    assert "No written file was deleted" in error, error
    assert "check the tables' history" in error, error
    # COMMIT_TIMEOUT, then REQUEST_TIMEOUT for the reload that looks whether it landed.
    assert 2.9 < outcome["wall"] < 12, outcome
    assert_idle(outcome, "a commit on a frozen catalog")

    # Thawed, the catalog applies the commit it had received and that floe could not confirm:
    # the row lands exactly once (a resent commit would add it twice), its file still there.
    written = set(bed.s3_files(data)) - before
    assert written, "the INSERT's data file was kept"
    deadline = time.monotonic() + 10
    while (rows := sorted(catalog.load_table("ice.t").scan().to_arrow().column("n").to_pylist())) == [1]:
        assert time.monotonic() < deadline, "the commit the frozen catalog had received never landed"
        time.sleep(0.2)
    assert rows == [1, 2], rows
