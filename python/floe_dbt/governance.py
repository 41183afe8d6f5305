"""Governance propagation: model ``meta`` keys become Iceberg table (and view) properties.

The plugin hands the extension one JSON object, ``{"<alias>.<schema>.<table>": {key: value}}``,
through the ``floe_table_properties`` setting; the extension adds the properties to the catalog
commit that writes the table (or creates the view), so they land with the model's data.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

#: What the catalog holds for a node: an Iceberg table, or an Iceberg view.
MATERIALIZED_IN_CATALOG = {"table", "incremental", "seed", "snapshot", "view"}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def table_properties(nodes: Iterable[Any], alias: str, keys: Iterable[str]) -> dict[str, dict[str, str]]:
    """The properties of every table and view the project builds in catalog ``alias``."""
    keys = list(keys)
    result: dict[str, dict[str, str]] = {}
    for node in nodes:
        if getattr(node, "resource_type", None) not in ("model", "seed", "snapshot"):
            continue
        materialized = "seed" if node.resource_type == "seed" else node.config.materialized
        if materialized not in MATERIALIZED_IN_CATALOG or (node.database or "").lower() != alias.lower():
            continue
        meta = {**(node.config.meta or {}), **(getattr(node, "meta", None) or {})}
        properties = {key: _text(meta[key]) for key in keys if key in meta}
        if properties:
            identifier = getattr(node, "alias", None) or node.name
            result[f"{alias}.{node.schema}.{identifier}"] = properties
    return result


def setting_sql(properties: dict[str, dict[str, str]]) -> str:
    """The statement that gives the extension ``properties`` for every connection."""
    text = json.dumps(properties, sort_keys=True).replace("'", "''")
    return f"SET GLOBAL floe_table_properties = '{text}'"
