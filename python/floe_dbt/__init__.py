"""floe for dbt-duckdb: Iceberg REST catalogs as dbt targets, with no credential in profiles.yml.

The platform team declares catalogs in ``platform.yaml`` with *references* to secrets; the
``Plugin`` (``plugins: [{module: floe_dbt, config: {platform: ..., catalog: ..., alias: ...}}]``)
loads the floe extension shipped in this package for the installed DuckDB and ATTACHes the
catalog by naming the file.
The extension resolves the references itself, so no credential passes through dbt or SQL.

Importable without dbt: ``Platform`` validates a platform file, ``extension_path()`` locates
the bundled extension for the installed DuckDB.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from floe_dbt._native import Platform, __version__, duckdb_versions

if TYPE_CHECKING:
    from floe_dbt.plugin import Plugin

__all__ = ["Platform", "Plugin", "__version__", "duckdb_versions", "extension_for", "extension_path"]

# One build per supported DuckDB version: a floe extension loads only into the exact DuckDB
# version stamped in its footer. The file keeps its name, from which DuckDB derives the entry point.
_BUILDS = Path(__file__).parent / "duckdb"


def extension_for(duckdb_version: str) -> Path:
    """The bundled extension built for DuckDB ``duckdb_version``; raises RuntimeError naming the
    supported versions if this package carries none for it."""
    supported = duckdb_versions()
    if not supported:
        raise FileNotFoundError(
            "this floe_dbt was built without floe extensions. "
            "Fix: install the floe_dbt wheel (make wheel), not the source tree"
        )
    if duckdb_version not in supported:
        default, *others = (f'"duckdb=={version}"' for version in supported)
        alternatives = f" (or {', '.join(others)})" if others else ""
        raise RuntimeError(
            f"the installed DuckDB is {duckdb_version}, and floe_dbt {__version__} carries the floe "
            f"extension for DuckDB {', '.join(supported)} only (an extension loads only into the DuckDB "
            f"version it was built for). Fix: pip install {default}{alternatives}"
        )
    path = _BUILDS / f"v{duckdb_version}" / "floe.duckdb_extension"
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} is missing: this floe_dbt was installed without its extension for DuckDB "
            f"{duckdb_version}. Fix: install the floe_dbt wheel (make wheel), not the source tree"
        )
    return path


def extension_path() -> Path:
    """The bundled extension built for the installed DuckDB (see ``extension_for``)."""
    import duckdb

    return extension_for(duckdb.__version__)


def __getattr__(name: str) -> Any:
    # The plugin needs dbt-duckdb; importing it lazily keeps the rest usable without dbt.
    if name == "Plugin":
        from floe_dbt.plugin import Plugin

        return Plugin
    raise AttributeError(f"module 'floe_dbt' has no attribute {name!r}")
