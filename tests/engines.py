"""DuckDB connections for the tests: one with floe, in the test process (the host DuckDB), and one
with DuckDB's official iceberg extension, in the reference engine's process (DuckDB 1.5.5, the
only version its PyPI builds exist for: tests/reference_engine.py).

Extensions load by path from pinned builds, so nothing is fetched from the network: floe from the
build, the official ones from the PyPI wheels of tools/reference/requirements.txt.
"""

from __future__ import annotations

import duckdb

from tests.reference_engine import ReferenceEngine

#: The official iceberg extension and what it needs (avro must load before it; httpfs reaches S3).
OFFICIAL_EXTENSIONS = ("httpfs", "avro", "iceberg")


def floe_connection(extension: str, database: str = ":memory:") -> duckdb.DuckDBPyConnection:
    """A connection with floe loaded (floe registers TYPE ICEBERG). floe reaches object storage
    itself: httpfs is not loaded. No progress bar: DuckDB 2.0's Python prints one to stdout
    for statements over two seconds, which tests that read a child's stdout would take for output."""
    con = duckdb.connect(database, config={"allow_unsigned_extensions": "true"})
    con.execute("SET enable_progress_bar = false")
    con.execute(f"LOAD '{extension}'")
    return con


def floe_child_connection(extension: str, python: str, database: str = ":memory:") -> ReferenceEngine:
    """A connection with floe loaded in a process of its own, whose `python` (a venv with the
    duckdb that `extension` was built for) hosts it: floe on a DuckDB other than the host's."""
    return ReferenceEngine(database=database, python=python, extension_files=(extension,))


def official_connection(database: str = ":memory:") -> ReferenceEngine:
    """A connection with DuckDB's official iceberg extension, in the reference engine's process."""
    return ReferenceEngine(OFFICIAL_EXTENSIONS, database)


def host_extension(name: str) -> str | None:
    """A build of DuckDB extension `name` (a duckdb-extension-* wheel) that loads into the host
    DuckDB, or None: the reference engine's, where that engine runs the host's DuckDB version (no
    other build is at hand offline; a C++ extension loads only into its exact DuckDB version)."""
    with ReferenceEngine() as reference:
        return reference.extension_path(name) if reference.version == duckdb.__version__ else None
