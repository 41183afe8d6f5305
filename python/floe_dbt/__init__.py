"""floe for dbt-duckdb: Iceberg REST catalogs as dbt targets, with no credential in profiles.yml.

The platform team declares catalogs in ``platform.yaml`` with *references* to secrets; the
``Plugin`` (``plugins: [{module: floe_dbt, config: {platform: ..., catalog: ..., alias: ...}}]``)
loads the floe extension shipped in this package and ATTACHes the catalog by naming the file.
The extension resolves the references itself, so no credential passes through dbt or SQL.

Importable without dbt: ``Platform`` validates a platform file, ``extension_path()`` locates
the bundled extension.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from floe_dbt._native import Platform, __version__, duckdb_version

if TYPE_CHECKING:
    from floe_dbt.plugin import Plugin

__all__ = ["Platform", "Plugin", "__version__", "duckdb_version", "extension_path"]

_EXTENSION = Path(__file__).with_name("floe.duckdb_extension")


def extension_path() -> Path:
    """The floe extension bundled in this package, built for DuckDB ``duckdb_version()``."""
    if not _EXTENSION.is_file():
        raise FileNotFoundError(
            f"{_EXTENSION} is missing: this floe_dbt was installed without its extension. "
            "Fix: install the floe_dbt wheel (make wheel), not the source tree"
        )
    return _EXTENSION


def __getattr__(name: str) -> Any:
    # The plugin needs dbt-duckdb; importing it lazily keeps the rest usable without dbt.
    if name == "Plugin":
        from floe_dbt.plugin import Plugin

        return Plugin
    raise AttributeError(f"module 'floe_dbt' has no attribute {name!r}")
