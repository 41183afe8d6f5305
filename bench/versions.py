"""floe on every DuckDB version it is built for (extension/duckdb/versions), in one benchmark run.

The default version's floe runs in the measuring process (the engine `floe`). Each other version's
runs as the engine `floe@<version>` in a process of its own: a child of that version's Python
(`.venv-v<version>`, which `make` builds) with that version's build loaded by path
(tests/engines.py `floe_child_connection`), its statements timed inside the child like the official
extension's. A build loads only into the exact DuckDB it was built for, hence one Python each.

The builds are looked for beside the default one, as the Makefile lays them out: for
build/floe.duckdb_extension, build/v<version>/floe.duckdb_extension.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from tests.engines import floe_child_connection

ROOT = Path(__file__).resolve().parent.parent
VERSIONS = ROOT / "extension" / "duckdb" / "versions"


@dataclass(frozen=True)
class ChildFloe:
    """floe on DuckDB `version`: the build `extension`, in a child of `python`."""

    engine: str
    version: str
    python: str
    extension: str


def supported_versions() -> list[str]:
    """The versions of extension/duckdb/versions, the default first."""
    lines = VERSIONS.read_text().splitlines()
    return [line.split()[0] for line in lines if line.strip() and not line.startswith("#")]


def child_floes(extension: Path, with_default: bool) -> tuple[list[ChildFloe], dict[str, str]]:
    """The engines floe@<version> for every version but the default, and for the default too when
    `with_default` (its build `extension` in a child of this Python, which hosts the default
    DuckDB): those that start, and, per engine that does not, why."""
    default, *others = supported_versions()
    wanted = [(default, Path(sys.executable), extension)] if with_default else []
    wanted += [
        (version, ROOT / f".venv-v{version}" / "bin" / "python", extension.parent / f"v{version}" / "floe.duckdb_extension")
        for version in others
    ]
    children, missing = [], {}
    for version, python, build in wanted:
        child = ChildFloe(f"floe@{version}", version, str(python), str(build))
        reason = unavailable(child)
        if reason:
            missing[child.engine] = reason
        else:
            children.append(child)
    return children, missing


def unavailable(child: ChildFloe) -> str | None:
    """Why `child` cannot run, or None once floe has loaded in it on the expected DuckDB."""
    if not Path(child.python).exists():
        return f"no Python with DuckDB {child.version} at {child.python} (`make bench` builds .venv-v{child.version})"
    if not Path(child.extension).exists():
        return f"no build for DuckDB {child.version} at {child.extension} (`make bench` builds it)"
    try:
        with floe_child_connection(child.extension, child.python) as engine:
            if engine.version != child.version:
                return f"{child.python} has DuckDB {engine.version}, not {child.version}"
    except Exception as err:  # noqa: BLE001 - the report says why the engine did not run
        return f"floe did not load in {child.python}: {str(err).splitlines()[0][:300]}"
    return None
