"""DuckDB connections for the tests: one with floe, one with the official iceberg extension.

Both load their extensions by path from the pinned PyPI wheels, so nothing is fetched from the
network and the versions are exactly the ones the Makefile installs.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import duckdb


def wheel_extension(name: str) -> str:
    """Path of DuckDB extension `name` shipped by the PyPI package duckdb-extension-<name>."""
    package = importlib.import_module(f"duckdb_extension_{name}")
    found = list(Path(package.__file__).parent.glob(f"extensions/v{duckdb.__version__}/{name}.duckdb_extension"))
    if not found:
        raise RuntimeError(f"duckdb-extension-{name} has no build for DuckDB {duckdb.__version__}")
    return str(found[0])


def floe_connection(extension: str, database: str = ":memory:") -> duckdb.DuckDBPyConnection:
    """A connection with floe loaded (floe registers TYPE ICEBERG). floe reaches object storage
    itself: httpfs is not loaded."""
    con = duckdb.connect(database, config={"allow_unsigned_extensions": "true"})
    con.execute(f"LOAD '{extension}'")
    return con


def official_connection(database: str = ":memory:") -> duckdb.DuckDBPyConnection:
    """A connection with DuckDB's official iceberg extension (avro must load before it)."""
    con = duckdb.connect(database)
    for name in ("httpfs", "avro", "iceberg"):
        con.execute(f"LOAD '{wheel_extension(name)}'")
    return con
