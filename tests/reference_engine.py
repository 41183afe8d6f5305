"""A DuckDB of another version in a process of its own: how the tests and the benchmark run DuckDB's
official iceberg extension (and httpfs), whose PyPI builds exist only for DuckDB 1.5.5, next to a
floe built for whichever DuckDB hosts the tests.

`ReferenceEngine` starts `$FLOE_REFERENCE_PYTHON -m tests.reference_server` (the Python of
tools/reference/requirements.txt, which `make` builds as .venv-reference) and talks to it over its
stdin and stdout with pickle (the same Python on both sides). It behaves like a DuckDB connection
for what the tests use: `execute(sql[, params])` returns a result with `fetchall()`, `fetchone()`
and `to_arrow_table()`; values arrive with their Python types. DuckDB's errors in the child are
raised here as the host DuckDB's exception of the same class, with DuckDB's message.

The same mechanism runs floe on a DuckDB other than the host's (the benchmark's floe@<version>):
a child of that version's Python (`python`) with floe's build loaded by path (`extension_files`).

The child dies with the thread that started it (setpriv's PR_SET_PDEATHSIG, as the test bed's
servers do), so a crashed test run leaves none behind; start an engine on a thread that outlives
its use.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import threading
from pathlib import Path
from typing import Any

import duckdb

from tests.server_process import SETPRIV

ROOT = Path(__file__).resolve().parent.parent
#: Where `make` builds the reference engine's Python when FLOE_REFERENCE_PYTHON is not set.
DEFAULT_PYTHON = ROOT / ".venv-reference" / "bin" / "python"
#: Seconds `close()` waits for the child to exit before killing it.
CLOSE_TIMEOUT = 10.0


def reference_python() -> str:
    python = os.environ.get("FLOE_REFERENCE_PYTHON") or str(DEFAULT_PYTHON)
    if not Path(python).exists():
        raise RuntimeError(
            f"the reference engine's Python {python} does not exist: run `make reference-venv` "
            "(or make test), or set FLOE_REFERENCE_PYTHON to a Python with tools/reference/requirements.txt installed"
        )
    return python


class ReferenceEngineExited(RuntimeError):
    """The child exited while a request was pending (it crashed, or was killed)."""


class ReferenceResult:
    """The result of the engine's latest `execute`, fetched from the child on demand. Like a
    DuckDB connection, the engine holds one result at a time: fetching from a result that a later
    `execute` replaced is an error here rather than someone else's rows."""

    def __init__(self, engine: ReferenceEngine, number: int) -> None:
        self._engine = engine
        self._number = number

    def _fetch(self, method: str) -> Any:
        if self._number != self._engine.executed:
            raise RuntimeError("this result was replaced by a later execute() on the same reference engine")
        return self._engine.call(method)

    def fetchall(self) -> list[tuple]:
        return self._fetch("fetchall")

    def fetchone(self) -> tuple | None:
        return self._fetch("fetchone")

    def to_arrow_table(self):
        import pyarrow as pa

        return pa.ipc.open_stream(self._fetch("to_arrow_table")).read_all()


class ReferenceEngine:
    """One DuckDB connection in a child process, with `extensions` (names of PyPI
    duckdb-extension-* packages installed there) loaded in order, then `extension_files` (builds
    loaded by path, such as floe's: the connection then allows unsigned extensions). The child runs
    `python` (by default the reference engine's); `version` is the child's DuckDB."""

    def __init__(
        self,
        extensions: tuple[str, ...] = (),
        database: str = ":memory:",
        config: dict[str, str] | None = None,
        *,
        python: str | None = None,
        extension_files: tuple[str, ...] = (),
    ) -> None:
        if python is not None and not Path(python).exists():
            raise RuntimeError(f"the engine's Python {python} does not exist")
        self.python = python or reference_python()
        command = [self.python, "-m", "tests.reference_server"]
        if SETPRIV:
            command = [SETPRIV, "--pdeathsig", "KILL", "--", *command]
        # Only this repository on the child's path: the host's packages must not shadow its own.
        environment = {**os.environ, "PYTHONPATH": str(ROOT)}
        self._process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=environment)
        self._lock = threading.Lock()
        #: How many statements `execute` ran: the number of the result the child holds.
        self.executed = 0
        hello = self._receive("start")
        self.version: str = hello["duckdb"]
        self.pid: int = hello["pid"]
        try:
            self.call("connect", database, config or {}, list(extensions), list(extension_files))
        except BaseException:
            self.close()
            raise

    # -- what the tests use ------------------------------------------------------------------
    def execute(self, sql: str, params: Any = None) -> ReferenceResult:
        # Counted first: a failing statement also ends the result the child held.
        self.executed += 1
        self.call("execute", sql, params)
        return ReferenceResult(self, self.executed)

    def timed_fetch(self, sql: str, fetch: str = "all") -> tuple[Any, float]:
        """Runs `sql` and fetches "all" its rows or "one"; the seconds are measured in the child,
        around execute and fetch only (tests/reference_server.py `timed_fetch`)."""
        self.executed += 1
        return self.call("timed_fetch", sql, fetch)

    def timed_batch(self, statements: list[str]) -> dict[str, Any]:
        """The statements in one request, timed in the child (tests/reference_server.py
        `timed_batch`): `seconds`, DuckDB `errors`, the wall-clock time it `finished`."""
        self.executed += 1
        return self.call("timed_batch", list(statements))

    def peak_mb(self) -> float:
        """The child's peak resident memory: the engine's, not the test process's."""
        return self.call("peak_mb")

    def extension_path(self, name: str) -> str:
        """Where the child's duckdb-extension-`name` wheel keeps its build for the child's DuckDB."""
        return self.call("extension_path", name)

    def close(self) -> None:
        if self._process.poll() is None:
            try:
                self.call("close")
                self._process.wait(CLOSE_TIMEOUT)
            except (ReferenceEngineExited, OSError, subprocess.TimeoutExpired):
                self._process.kill()
                self._process.wait()
        for stream in (self._process.stdin, self._process.stdout):
            stream.close()

    def __enter__(self) -> ReferenceEngine:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- the protocol --------------------------------------------------------------------------
    def call(self, method: str, *args: Any) -> Any:
        with self._lock:
            try:
                pickle.dump((method, args), self._process.stdin, protocol=pickle.HIGHEST_PROTOCOL)
                self._process.stdin.flush()
            except BrokenPipeError:
                pass  # the child is gone: _receive says how it ended
            return self._receive(method)

    def _receive(self, method: str) -> Any:
        try:
            answer = pickle.load(self._process.stdout)
        except EOFError:
            code = self._process.wait()
            raise ReferenceEngineExited(
                f"the reference engine (DuckDB in {self.python}, pid {self._process.pid}) exited with code {code} "
                f"during {method}; its own messages are on stderr"
            ) from None
        if answer[0] == "ok":
            return answer[1]
        _, kind, message = answer
        if answer[0] == "duckdb":
            # The host DuckDB's class of the same name, so `except duckdb.CatalogException` holds.
            error_class = getattr(duckdb, kind, None)
            if not (isinstance(error_class, type) and issubclass(error_class, duckdb.Error)):
                error_class = duckdb.Error
            error = error_class(message)
        else:
            error = RuntimeError(f"{kind}: {message}")
        error.add_note(f"raised in the reference engine (DuckDB {getattr(self, 'version', '?')}, pid {self._process.pid})")
        raise error
