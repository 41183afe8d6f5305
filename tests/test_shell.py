"""The extension in DuckDB's own shell (PyPI duckdb-cli), loaded by path and, after the
install step, by name."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import duckdb

from tools import install_extensions

SHELL = Path(sys.executable).with_name("duckdb")


def run_shell(sql: str) -> str:
    result = subprocess.run([str(SHELL), "-unsigned", "-csv", "-c", sql], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_shell_attaches_and_queries(extension, testbed, reference):
    setup = ";".join(testbed.duckdb_setup_sql())
    out = run_shell(f"LOAD '{extension}'; {setup}; SELECT count(*) AS n FROM lake.{reference['metrics']};")
    assert out.splitlines()[-2:] == ["n", "4000"]


def test_load_by_name_after_install(extension, tmp_path):
    platform = duckdb.sql("PRAGMA platform").fetchone()[0]
    directory = tmp_path / f"v{duckdb.__version__}" / platform
    directory.mkdir(parents=True)
    shutil.copyfile(extension, directory / "floe.duckdb_extension")
    install_extensions.main(str(directory))
    out = run_shell(
        f"SET extension_directory = '{tmp_path}'; LOAD floe; "
        "SELECT loaded FROM duckdb_extensions() WHERE extension_name = 'floe';"
    )
    assert out.splitlines()[-1] == "true"
