"""The reference engine's own process (started by tests/reference_engine.py as
`python -m tests.reference_server` in the Python of tools/reference/requirements.txt): one DuckDB
connection of that Python's DuckDB, with extensions loaded by path from their PyPI wheels or from a
build (floe's, for a DuckDB other than the host's), driven
by pickled requests on stdin, one pickled reply each on stdout.

It imports only DuckDB and the standard library (its Python has nothing else), and nothing but
replies may reach stdout: the replies keep a copy of file descriptor 1 and fd 1 itself is pointed
at stderr, so what DuckDB or an extension prints cannot corrupt the stream.

`timed_fetch` and `timed_batch` are also what the benchmark times floe with in its own process, so
every engine's statements are timed by the same code, next to the engine.
"""

from __future__ import annotations

import importlib
import io
import os
import pickle
import resource
import sys
import time
from pathlib import Path
from typing import Any, BinaryIO

import duckdb


def wheel_extension(name: str) -> str:
    """Path of DuckDB extension `name` shipped by the PyPI package duckdb-extension-<name> for
    this process's DuckDB."""
    try:
        package = importlib.import_module(f"duckdb_extension_{name}")
    except ImportError as err:
        raise RuntimeError(f"duckdb-extension-{name} is not installed in {sys.prefix}") from err
    found = list(Path(package.__file__).parent.glob(f"extensions/v{duckdb.__version__}/{name}.duckdb_extension"))
    if not found:
        raise RuntimeError(f"duckdb-extension-{name} has no build for DuckDB {duckdb.__version__}")
    return str(found[0])


def timed_fetch(con: duckdb.DuckDBPyConnection, sql: str, fetch: str) -> tuple[Any, float]:
    """Runs `sql` and fetches its result, `fetch` "all" rows or "one"; returns it and the
    seconds from the start of execute to the end of the fetch."""
    started = time.perf_counter()
    result = con.execute(sql)
    value = result.fetchall() if fetch == "all" else result.fetchone()
    return value, time.perf_counter() - started


def timed_batch(con: duckdb.DuckDBPyConnection, statements: list[str]) -> dict[str, Any]:
    """Runs the statements one after another, a failing one counted and not stopping the rest:
    their total `seconds`, the DuckDB `errors` (messages) and the wall-clock time it `finished`."""
    errors = []
    started = time.perf_counter()
    for sql in statements:
        try:
            con.execute(sql)
        except duckdb.Error as err:
            errors.append(str(err))
    return {"seconds": time.perf_counter() - started, "errors": errors, "finished": time.time()}


def peak_mb() -> float:
    """This process's peak resident memory."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Engine:
    """What a request may call: each method is one request, its return value the reply."""

    def __init__(self) -> None:
        self.con: duckdb.DuckDBPyConnection | None = None

    def connect(self, database: str, config: dict[str, str], extensions: list[str], files: list[str]) -> None:
        """Loads the wheels' `extensions` by name, then the builds at `files` (unsigned)."""
        if files:
            config = {**config, "allow_unsigned_extensions": "true"}
        self.con = duckdb.connect(database, config=config)
        for path in [wheel_extension(name) for name in extensions] + files:
            self.con.execute(f"LOAD '{path}'")

    def execute(self, sql: str, params: Any) -> None:
        self.con.execute(sql, params)

    def fetchall(self) -> list[tuple]:
        return self.con.fetchall()

    def fetchone(self) -> tuple | None:
        return self.con.fetchone()

    def to_arrow_table(self) -> bytes:
        """The result as an Arrow IPC stream: the format, not pickle, crosses to the tests' pyarrow."""
        import pyarrow as pa

        table = self.con.to_arrow_table()
        sink = io.BytesIO()
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        return sink.getvalue()

    def timed_fetch(self, sql: str, fetch: str) -> tuple[Any, float]:
        return timed_fetch(self.con, sql, fetch)

    def timed_batch(self, statements: list[str]) -> dict[str, Any]:
        return timed_batch(self.con, statements)

    def peak_mb(self) -> float:
        return peak_mb()

    def extension_path(self, name: str) -> str:
        return wheel_extension(name)

    def close(self) -> None:
        if self.con is not None:
            self.con.close()


def reply(stream: BinaryIO, message: tuple) -> None:
    pickle.dump(message, stream, protocol=pickle.HIGHEST_PROTOCOL)
    stream.flush()


def serve(requests: BinaryIO, replies: BinaryIO) -> None:
    """Answers requests `(method, args)` until `close` or the end of stdin (the client is gone).
    A reply is `("ok", value)`, or `("duckdb", exception class name, message)` for DuckDB's own
    errors, or `("error", exception class name, message)` for any other."""
    engine = Engine()
    reply(replies, ("ok", {"duckdb": duckdb.__version__, "pid": os.getpid()}))
    while True:
        try:
            method, args = pickle.load(requests)
        except EOFError:
            return
        try:
            answer: tuple = ("ok", getattr(Engine, method)(engine, *args))
        except duckdb.Error as err:
            answer = ("duckdb", type(err).__name__, str(err))
        except Exception as err:  # noqa: BLE001 - the client raises it
            answer = ("error", type(err).__name__, str(err))
        reply(replies, answer)
        if method == "close":
            return


def main() -> None:
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    serve(sys.stdin.buffer, replies)


if __name__ == "__main__":
    main()
