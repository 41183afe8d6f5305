"""Rows from different engines in one comparable form."""

from __future__ import annotations

import datetime
import math
import uuid
from typing import Any

import duckdb
import pyarrow as pa

from tests.reference_engine import ReferenceEngine


def normalize(value: Any) -> Any:
    """Engines agree on values but not on Python representations (UUID vs str, aware
    datetimes in other zones, maps as dicts or pairs); bring them to one."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime.datetime) and value.tzinfo is not None:
        return value.astimezone(datetime.timezone.utc)
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    if isinstance(value, dict):
        return {k: normalize(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [normalize(v) for v in value]
    return value


def sort_key(row: tuple) -> tuple:
    return tuple((value is None, repr(value)) for value in row)


def arrow_rows(table: pa.Table) -> list[tuple]:
    rows = [tuple(normalize(v) for v in row.values()) for row in table.to_pylist()]
    return sorted(rows, key=sort_key)


def duckdb_rows(con: duckdb.DuckDBPyConnection | ReferenceEngine, sql: str) -> list[tuple]:
    """Rows of a query through Arrow, as PyIceberg's are, so maps and structs compare; `con` is
    floe's connection or the reference engine."""
    return arrow_rows(con.execute(sql).to_arrow_table())


def pyiceberg_rows(catalog, identifier: str, **scan: Any) -> list[tuple]:
    return arrow_rows(catalog.load_table(identifier).scan(**scan).to_arrow())
