"""DuckDB's shell of the environment's duckdb version, where there is one: PyPI's duckdb-cli
installs it beside the Python interpreter, and stops at 1.5.6."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb


def duckdb_shell() -> Path | None:
    """The `duckdb` beside this interpreter if it is the duckdb package's version, else None."""
    shell = Path(sys.executable).with_name("duckdb")
    if not shell.exists():
        return None
    out = subprocess.run([str(shell), "-csv", "-noheader", "-c", "SELECT version();"], capture_output=True, text=True)
    return shell if out.stdout.strip() == f"v{duckdb.__version__}" else None
