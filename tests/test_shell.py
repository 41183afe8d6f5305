"""The extension in DuckDB's own shell (PyPI duckdb-cli), loaded by path and, after the
install step, by name; and by name through the duckdb package, whatever its version.

PyPI's duckdb-cli stops at 1.5.6, so the shell tests run where the environment has a shell of
its duckdb's version (`make test-compat` on 1.5.6) and say why they skip elsewhere."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tools import install_extensions
from tools.shell import duckdb_shell

SHELL = duckdb_shell()

needs_shell = pytest.mark.skipif(
    SHELL is None,
    reason=f"no DuckDB shell v{duckdb.__version__} beside {sys.executable} (PyPI's duckdb-cli stops at 1.5.6)",
)


def run_shell(sql: str) -> str:
    result = subprocess.run([str(SHELL), "-unsigned", "-csv", "-c", sql], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


@needs_shell
def test_shell_attaches_and_queries(extension, testbed, reference):
    setup = ";".join(testbed.duckdb_setup_sql())
    out = run_shell(f"LOAD '{extension}'; {setup}; SELECT count(*) AS n FROM lake.{reference['metrics']};")
    assert out.splitlines()[-2:] == ["n", "4000"]


def install(extension: str, root: Path) -> None:
    """What `make install` does, into `root` instead of ~/.duckdb/extensions."""
    platform = duckdb.sql("PRAGMA platform").fetchall()[0][0]
    directory = root / f"v{duckdb.__version__}" / platform
    directory.mkdir(parents=True)
    shutil.copyfile(extension, directory / "floe.duckdb_extension")
    install_extensions.main(str(directory))


def test_package_loads_by_name_after_install(extension, tmp_path):
    install(extension, tmp_path)
    con = duckdb.connect(config={"allow_unsigned_extensions": "true", "extension_directory": str(tmp_path)})
    con.execute("LOAD floe")
    loaded = con.execute("SELECT loaded FROM duckdb_extensions() WHERE extension_name = 'floe'").fetchone()
    assert loaded == (True,)


@needs_shell
def test_load_by_name_after_install(extension, tmp_path):
    install(extension, tmp_path)
    out = run_shell(
        f"SET extension_directory = '{tmp_path}'; LOAD floe; "
        "SELECT loaded FROM duckdb_extensions() WHERE extension_name = 'floe';"
    )
    assert out.splitlines()[-1] == "true"
