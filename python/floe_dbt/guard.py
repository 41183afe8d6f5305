"""The control-plane guard: dbt models that would write around the Iceberg catalog.

Everything a model writes must go through a catalog commit; an ``external`` materialization to
an object store, or a storage location or endpoint hard-coded in a model's config, bypasses it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

OBJECT_STORE = re.compile(r"^\s*(s3|s3a|s3n|gs|gcs|az|azure|abfs|abfss|r2|hf|oss|cos)://", re.IGNORECASE)
#: Config keys that name where data lives or how storage is reached.
LOCATION_KEYS = {"location", "external_location", "storage_location", "external_root", "write.data.path"}
ENDPOINT_KEYS = {"endpoint", "s3_endpoint", "s3.endpoint", "storage_endpoint"}


class BypassError(Exception):
    """Models that would write around the catalog."""


def _strings(value: Any, path: str) -> Iterable[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _strings(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index}]")


def violations(node: Any, external_root: str | None) -> list[str]:
    """Why ``node`` (a dbt manifest node) bypasses the catalog; empty if it does not."""
    config = node.config.to_dict() if hasattr(node.config, "to_dict") else dict(node.config)
    found = []
    if config.get("materialized") == "external":
        location = config.get("location") or external_root or ""
        if OBJECT_STORE.match(location):
            found.append(f"materialized='external' writes to {location}, outside the catalog")
    for key, value in _strings({k: v for k, v in config.items() if k not in ("meta", "docs", "tags")}, ""):
        leaf = key.rsplit(".", 1)[-1].split("[", 1)[0]
        if OBJECT_STORE.match(value) and not any(value in reason for reason in found):
            found.append(f"config '{key}' hard-codes the storage location {value}")
        elif leaf in ENDPOINT_KEYS or key in ENDPOINT_KEYS:
            found.append(f"config '{key}' hard-codes a storage endpoint")
        elif (leaf in LOCATION_KEYS or key in LOCATION_KEYS) and value and config.get("materialized") != "external":
            found.append(f"config '{key}' hard-codes a storage location")
    return found


def check(nodes: Iterable[Any], external_root: str | None) -> None:
    """Raises BypassError listing every model (and seed, snapshot) that bypasses the catalog."""
    offenders = []
    for node in nodes:
        if getattr(node, "resource_type", None) not in ("model", "seed", "snapshot"):
            continue
        for reason in violations(node, external_root):
            offenders.append(f"  - {node.unique_id}: {reason}")
    if offenders:
        raise BypassError(
            f"floe: {len(offenders)} model setting(s) would write around the Iceberg catalog:\n"
            + "\n".join(offenders)
            + "\nFix: materialize these models as table, incremental or view in the catalog's database and "
            "remove storage locations and endpoints from their config; the platform file says where data lives."
        )
