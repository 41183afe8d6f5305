"""The dbt-duckdb plugin: LOAD floe from this package (the build for the installed DuckDB) and
ATTACH a platform catalog.

```yaml
plugins:
  - module: floe_dbt
    config: { platform: platform.yaml, catalog: default, alias: lake }
```
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin

from floe_dbt import extension_path, governance, guard
from floe_dbt._native import Platform

SETTINGS = {"platform", "catalog", "alias"}


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _invocation_id() -> str | None:
    """The id of the running dbt invocation (dbt-core 1.8 and later)."""
    try:
        from dbt_common.invocation import get_invocation_id
    except ImportError:
        return None
    return get_invocation_id()


def _manifest() -> Any | None:
    """dbt's manifest, once dbt has parsed the project (None before)."""
    try:
        from dbt.adapters.factory import get_adapter_by_type

        return get_adapter_by_type("duckdb").get_macro_resolver()
    except Exception:  # noqa: BLE001 - no adapter registered yet: nothing to check yet
        return None


class Plugin(BasePlugin):
    def initialize(self, plugin_config: dict[str, Any]) -> None:
        config = {k: v for k, v in plugin_config.items() if k in SETTINGS}
        unknown = sorted(set(plugin_config) - SETTINGS - set((self.creds.settings or {}) if self.creds else ()))
        if unknown:
            raise ValueError(
                f"floe_dbt: unknown plugin setting(s) {', '.join(unknown)}. Fix: use only "
                f"{', '.join(sorted(SETTINGS))}; credentials belong in the platform file's secret references"
            )
        # Fails here, before dbt runs anything, if the installed DuckDB is not one floe is built for.
        self.extension = extension_path()
        path = config.get("platform") or os.environ.get("FLOE_PLATFORM") or "platform.yaml"
        self.platform_path = Path(path).expanduser().resolve()
        self.catalog = config.get("catalog", "default")
        self.alias = config.get("alias") or self.catalog
        platform = Platform.load(str(self.platform_path))
        # Fails here, before dbt runs anything, if a reference cannot be resolved.
        platform.check(self.catalog)
        self.governance_keys = platform.governance_keys()
        self._checked = False
        self._lock = threading.Lock()
        self._error: Exception | None = None

    def update_connection_config(self, creds: Any, config: dict[str, Any]) -> None:
        # The bundled extension is not signed by DuckDB; it is loaded by path from this package.
        config["allow_unsigned_extensions"] = "true"

    def configure_connection(self, conn: Any) -> None:
        conn.execute(f"LOAD {_quote(str(self.extension))}")
        # The platform file names the warehouse, or none (a catalog that serves one); an ATTACH
        # path could not carry a warehouse that is a location (DuckDB opens `s3://` paths itself).
        conn.execute(
            f"ATTACH IF NOT EXISTS '' AS {self.alias} "
            f"(TYPE ICEBERG, PLATFORM {_quote(str(self.platform_path))}, CATALOG {_quote(self.catalog)})"
        )
        # Lineage: every snapshot this run commits names it (dbt's query comment names the model).
        invocation = _invocation_id()
        if invocation:
            properties = json.dumps({"dbt.invocation-id": invocation})
            conn.execute(f"SET GLOBAL floe_snapshot_properties = {_quote(properties)}")
        self._apply_project_rules(conn)

    def configure_cursor(self, cursor: Any) -> None:
        self._apply_project_rules(cursor)

    def _apply_project_rules(self, conn: Any) -> None:
        """Once dbt has its manifest: refuse models that bypass the catalog, and hand the
        extension the table properties from model meta."""
        with self._lock:
            if self._error is not None:
                raise self._error
            if self._checked:
                return
            manifest = _manifest()
            if manifest is None or not getattr(manifest, "nodes", None):
                return
            nodes = list(manifest.nodes.values())
            external_root = (self.creds.external_root if self.creds else None) or None
            try:
                guard.check(nodes, external_root)
            except guard.BypassError as error:
                self._error = error
                raise
            properties = governance.table_properties(nodes, self.alias, self.governance_keys)
            conn.execute(governance.setting_sql(properties))
            self._checked = True
