"""Reference tables written by engines other than floe, for floe to read.

Each function creates one table through the REST catalog (PyIceberg, or the official DuckDB
extension where PyIceberg cannot write what is needed) and returns its identifier. `read_rows`
reads a table with PyIceberg, the independent reader floe's results are compared with.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from typing import Any

import pyarrow as pa
from pyiceberg.catalog import Catalog
from pyiceberg.partitioning import PartitionField, PartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.transforms import BucketTransform, DayTransform, IdentityTransform
from pyiceberg.types import (
    BinaryType,
    BooleanType,
    DateType,
    DecimalType,
    DoubleType,
    FixedType,
    FloatType,
    IntegerType,
    ListType,
    LongType,
    MapType,
    NestedField,
    StringType,
    StructType,
    TimestampType,
    TimestamptzType,
    TimeType,
    UUIDType,
)

REGIONS = ["eu", "us", "apac", "latam"]


def _fresh(catalog: Catalog, namespace: str, name: str) -> str:
    identifier = f"{namespace}.{name}"
    catalog.create_namespace_if_not_exists(namespace)
    if catalog.table_exists(identifier):
        catalog.purge_table(identifier)
    return identifier


def demo_metrics(catalog: Catalog, namespace: str) -> str:
    """`metrics`: region, amount decimal(12,2), day — 4000 rows in two appends."""
    identifier = _fresh(catalog, namespace, "metrics")
    schema = Schema(
        NestedField(1, "region", StringType()),
        NestedField(2, "amount", DecimalType(12, 2)),
        NestedField(3, "day", DateType()),
    )
    table = catalog.create_table(identifier, schema=schema)
    start = datetime.date(2025, 11, 1)
    for part in range(2):
        rows = range(part * 2000, (part + 1) * 2000)
        table.append(
            pa.table(
                {
                    "region": [REGIONS[i % 4] for i in rows],
                    "amount": pa.array([decimal.Decimal(i % 997) / 4 for i in rows], pa.decimal128(12, 2)),
                    "day": [start + datetime.timedelta(days=i % 120) for i in rows],
                }
            )
        )
    return identifier


def all_types(catalog: Catalog, namespace: str) -> str:
    """`all_types`: every primitive type plus struct, list, list of struct and map, with NULLs."""
    identifier = _fresh(catalog, namespace, "all_types")
    point = StructType(NestedField(20, "x", DoubleType()), NestedField(21, "label", StringType()))
    schema = Schema(
        NestedField(1, "id", LongType(), required=True),
        NestedField(2, "flag", BooleanType()),
        NestedField(3, "small", IntegerType()),
        NestedField(4, "real", FloatType()),
        NestedField(5, "wide", DoubleType()),
        NestedField(6, "price", DecimalType(9, 2)),
        NestedField(7, "precise", DecimalType(38, 10)),
        NestedField(8, "day", DateType()),
        NestedField(9, "clock", TimeType()),
        NestedField(10, "ts", TimestampType()),
        NestedField(11, "tstz", TimestamptzType()),
        NestedField(12, "name", StringType()),
        NestedField(13, "uid", UUIDType()),
        NestedField(14, "digest", FixedType(16)),
        NestedField(15, "payload", BinaryType()),
        NestedField(16, "point", point),
        NestedField(17, "tags", ListType(22, IntegerType(), element_required=False)),
        NestedField(18, "points", ListType(23, point, element_required=False)),
        NestedField(19, "attrs", MapType(24, StringType(), 25, IntegerType(), value_required=False)),
    )
    table = catalog.create_table(identifier, schema=schema)
    rows = []
    for i in range(100):
        null = i % 7 == 3
        rows.append(
            {
                "id": i,
                "flag": None if null else i % 2 == 0,
                "small": None if null else i - 50,
                "real": None if null else i / 8,
                "wide": None if null else i * 1.25,
                "price": None if null else decimal.Decimal(i * 101) / 100,
                "precise": None if null else (decimal.Decimal(i) / 3).quantize(decimal.Decimal("1.0000000000")),
                "day": None if null else datetime.date(2026, 1, 1) + datetime.timedelta(days=i),
                "clock": None if null else datetime.time(i % 24, i % 60, i % 60, i * 1000),
                "ts": None if null else datetime.datetime(2026, 1, 1, 12) + datetime.timedelta(minutes=i),
                "tstz": None
                if null
                else datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc) + datetime.timedelta(hours=i),
                "name": None if null else f"name-{i}",
                "uid": None if null else uuid.UUID(int=i * 7919).bytes,
                "digest": None if null else bytes([i % 256]) * 16,
                "payload": None if null else bytes(range(i % 16)),
                "point": None if null else {"x": i / 2, "label": f"p{i}"},
                "tags": None if null else list(range(i % 5)),
                "points": None if null else [{"x": float(j), "label": None} for j in range(i % 3)],
                "attrs": None if null else {f"k{j}": j for j in range(i % 4)},
            }
        )
    table.append(pa.Table.from_pylist(rows, schema=table.schema().as_arrow()))
    return identifier


def _events(rows: range) -> pa.Table:
    return pa.table(
        {
            "id": pa.array(list(rows), pa.int64()),
            "region": [REGIONS[i % 4] for i in rows],
            "ts": [datetime.datetime(2026, 1, 1) + datetime.timedelta(hours=7 * i) for i in rows],
            "value": [float(i % 113) for i in rows],
        }
    )


def _partitioned(catalog: Catalog, namespace: str, name: str, field: PartitionField) -> str:
    identifier = _fresh(catalog, namespace, name)
    schema = Schema(
        NestedField(1, "id", LongType()),
        NestedField(2, "region", StringType()),
        NestedField(3, "ts", TimestampType()),
        NestedField(4, "value", DoubleType()),
    )
    table = catalog.create_table(identifier, schema=schema, partition_spec=PartitionSpec(field))
    for part in range(3):
        table.append(_events(range(part * 1000, (part + 1) * 1000)))
    return identifier


def partitioned_identity(catalog: Catalog, namespace: str) -> str:
    return _partitioned(catalog, namespace, "by_region", PartitionField(2, 1000, IdentityTransform(), "region"))


def partitioned_day(catalog: Catalog, namespace: str) -> str:
    return _partitioned(catalog, namespace, "by_day", PartitionField(3, 1000, DayTransform(), "ts_day"))


def partitioned_bucket(catalog: Catalog, namespace: str) -> str:
    return _partitioned(catalog, namespace, "by_bucket", PartitionField(1, 1000, BucketTransform(16), "id_bucket"))


def schema_evolved(catalog: Catalog, namespace: str) -> str:
    """`evolved`: rows written, then a column added and another renamed, then more rows — old
    files lack the new column, and the renamed one must be found by field id."""
    identifier = _fresh(catalog, namespace, "evolved")
    schema = Schema(NestedField(1, "id", LongType()), NestedField(2, "label", StringType()))
    table = catalog.create_table(identifier, schema=schema)
    table.append(pa.table({"id": pa.array([1, 2, 3], pa.int64()), "label": ["a", "b", "c"]}))
    with table.update_schema() as update:
        update.add_column("score", DoubleType())
        update.rename_column("label", "name")
    table = catalog.load_table(identifier)
    table.append(
        pa.Table.from_pylist(
            [{"id": 4, "name": "d", "score": 4.5}, {"id": 5, "name": "e", "score": None}],
            schema=table.schema().as_arrow(),
        )
    )
    return identifier


def multi_snapshot(catalog: Catalog, namespace: str) -> tuple[str, list[int]]:
    """`history`: three appends of 10 rows; returns the identifier and the snapshot ids."""
    identifier = _fresh(catalog, namespace, "history")
    table = catalog.create_table(identifier, schema=Schema(NestedField(1, "n", LongType())))
    snapshots = []
    for part in range(3):
        table.append(pa.table({"n": pa.array(range(part * 10, (part + 1) * 10), pa.int64())}))
        snapshots.append(table.current_snapshot().snapshot_id)
    return identifier, snapshots


def with_positional_deletes(catalog: Catalog, namespace: str, official_sql) -> str:
    """`deleted`: 2000 rows written by PyIceberg, then rows deleted merge-on-read by DuckDB's
    official iceberg extension, which writes positional delete files (PyIceberg only rewrites
    data files). `official_sql(sql)` runs SQL on an official-extension connection with the
    catalog attached as `lake`."""
    identifier = _fresh(catalog, namespace, "deleted")
    schema = Schema(NestedField(1, "id", LongType()), NestedField(2, "region", StringType()))
    table = catalog.create_table(
        identifier,
        schema=schema,
        properties={"format-version": "2", "write.delete.mode": "merge-on-read"},
    )
    for part in range(2):
        rows = range(part * 1000, (part + 1) * 1000)
        table.append(pa.table({"id": pa.array(list(rows), pa.int64()), "region": [REGIONS[i % 4] for i in rows]}))
    official_sql(f"DELETE FROM lake.{identifier} WHERE id % 10 = 3 OR region = 'latam'")
    return identifier


def create_all(catalog: Catalog, namespace: str, official_sql=None) -> dict[str, Any]:
    """Every reference table in `namespace`; returns what tests need to know about them."""
    info: dict[str, Any] = {
        "metrics": demo_metrics(catalog, namespace),
        "all_types": all_types(catalog, namespace),
        "by_region": partitioned_identity(catalog, namespace),
        "by_day": partitioned_day(catalog, namespace),
        "by_bucket": partitioned_bucket(catalog, namespace),
        "evolved": schema_evolved(catalog, namespace),
    }
    info["history"], info["history_snapshots"] = multi_snapshot(catalog, namespace)
    if official_sql is not None:
        info["deleted"] = with_positional_deletes(catalog, namespace, official_sql)
    return info


def _sort_key(row: tuple) -> tuple:
    return tuple((value is None, repr(value)) for value in row)


def read_rows(catalog: Catalog, identifier: str, snapshot_id: int | None = None) -> list[tuple]:
    """The table's rows as PyIceberg reads them, in a deterministic order."""
    table = catalog.load_table(identifier)
    arrow = table.scan(snapshot_id=snapshot_id).to_arrow()
    rows = [tuple(row.values()) for row in arrow.to_pylist()]
    return sorted(rows, key=_sort_key)
