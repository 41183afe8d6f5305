"""floe reads tables whose schema another engine (PyIceberg) evolved: promoted types, added,
dropped and re-added, renamed and nested columns, resolved by field id as the Iceberg spec says;
filters on promoted columns prune by the narrower bounds of files written before the promotion;
time travel reads a snapshot with the schema it was written with. Every result is compared with
the values written and with PyIceberg's reading of the same table."""

from __future__ import annotations

import decimal
import secrets

import pyarrow as pa
import pytest
from pyiceberg.partitioning import PartitionField, PartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.transforms import IdentityTransform
from pyiceberg.types import (
    DecimalType,
    DoubleType,
    FloatType,
    IntegerType,
    LongType,
    NestedField,
    StringType,
    StructType,
)

from tests.rows import duckdb_rows, pyiceberg_rows

NAMESPACE = "evolution"


def fresh_table(catalog, name: str, schema: Schema, **options):
    catalog.create_namespace_if_not_exists(NAMESPACE)
    return catalog.create_table(f"{NAMESPACE}.{name}_{secrets.token_hex(3)}", schema=schema, **options)


def qualified_name(table) -> str:
    return ".".join(table.name()[-2:])


def append(catalog, table, rows: list[dict]):
    """Appends `rows` in one data file written with the table's current schema."""
    table = catalog.load_table(table.name())
    table.append(pa.Table.from_pylist(rows, schema=table.schema().as_arrow()))
    return catalog.load_table(table.name())


def described(floe, relation: str) -> list[tuple[str, str]]:
    return [(row[0], row[1]) for row in floe.execute(f"DESCRIBE {relation}").fetchall()]


def files_read(floe, sql: str) -> int:
    """The data files DuckDB opened for `sql`: the ones the scan plan kept."""
    text = floe.execute(f"EXPLAIN ANALYZE {sql}").fetchall()[0][1]
    return int(text.split("Total Files Read:")[1].split()[0])


# Files 1 and 2 are written while n is int, x float and amount decimal(9,2); file 3 after their
# promotion to long, double and decimal(18,2), with values only the wider types hold.
BEFORE_PROMOTION = [
    [
        {"id": 1, "n": 5, "x": 1.5, "amount": decimal.Decimal("10.25")},
        {"id": 2, "n": 7, "x": 2.5, "amount": decimal.Decimal("-3.50")},
    ],
    [
        {"id": 3, "n": 100, "x": -0.5, "amount": decimal.Decimal("9999999.99")},
        {"id": 4, "n": 2_000_000_000, "x": -8.0, "amount": None},
    ],
]
AFTER_PROMOTION = [
    {"id": 5, "n": 3_000_000_001, "x": 1e300, "amount": decimal.Decimal("1234567890123.45")},
    {"id": 6, "n": 5_000_000_000, "x": 1e10, "amount": decimal.Decimal("-0.01")},
]


@pytest.fixture(scope="module")
def promoted(catalog) -> str:
    schema = Schema(
        NestedField(1, "id", LongType()),
        NestedField(2, "n", IntegerType()),
        NestedField(3, "x", FloatType()),
        NestedField(4, "amount", DecimalType(9, 2)),
    )
    table = fresh_table(catalog, "promoted", schema)
    for rows in BEFORE_PROMOTION:
        table = append(catalog, table, rows)
    with table.update_schema() as update:
        update.update_column("n", LongType())
        update.update_column("x", DoubleType())
        update.update_column("amount", DecimalType(18, 2))
    append(catalog, table, AFTER_PROMOTION)
    return qualified_name(table)


def test_promoted_columns_read_as_their_new_types(floe, catalog, promoted):
    assert described(floe, f"lake.{promoted}") == [
        ("id", "BIGINT"),
        ("n", "BIGINT"),
        ("x", "DOUBLE"),
        ("amount", "DECIMAL(18,2)"),
    ]
    rows = floe.execute(f"SELECT id, n, x, amount FROM lake.{promoted} ORDER BY id").fetchall()
    expected = [tuple(row.values()) for rows in BEFORE_PROMOTION for row in rows]
    expected += [tuple(row.values()) for row in AFTER_PROMOTION]
    assert rows == expected
    assert duckdb_rows(floe, f"SELECT * FROM lake.{promoted}") == pyiceberg_rows(catalog, promoted)


@pytest.mark.parametrize(
    ("condition", "ids", "files"),
    [
        # Beyond int32: only the file written after the promotion can hold it.
        ("n > 3000000000", [5, 6], 1),
        ("n >= 5000000000", [6], 1),
        # File 1's 4-byte bounds [5, 7] hold 5; file 2's [100, 2e9] and file 3's [3e9, 5e9] do not.
        ("n = 5", [1], 1),
        ("n BETWEEN 100 AND 2000000000", [3, 4], 1),
        ("n IN (7, 3000000001)", [2, 5], 2),
        # File 1's 4-byte float bounds [1.5, 2.5]; file 2's [-8, -0.5]; file 3's [1e10, 1e300].
        ("x = 2.5", [2], 1),
        ("x > 1e200", [5], 1),
        ("x < -1", [4], 1),
        # Decimal bounds of precision 9 (file 1: [-3.50, 10.25]) against decimal(18,2) values.
        ("amount > 100000000", [5], 1),
        ("amount < -1", [2], 1),
    ],
)
def test_filters_on_promoted_columns_prune_by_the_old_bounds(floe, catalog, promoted, condition, ids, files):
    sql = f"SELECT id FROM lake.{promoted} WHERE {condition}"
    assert sorted(row[0] for row in floe.execute(sql).fetchall()) == ids
    assert files_read(floe, sql) == files


@pytest.fixture(scope="module")
def promoted_partition(catalog) -> str:
    """Partitioned by the identity of `code`, an int promoted to long: the old files' partition
    values and bounds are ints."""
    schema = Schema(NestedField(1, "id", LongType()), NestedField(2, "code", IntegerType()))
    by_code = PartitionSpec(PartitionField(2, 1000, IdentityTransform(), "code"))
    table = fresh_table(catalog, "promoted_partition", schema, partition_spec=by_code)
    table = append(catalog, table, [{"id": i, "code": i % 3} for i in range(6)])
    with table.update_schema() as update:
        update.update_column("code", LongType())
    append(catalog, table, [{"id": 6, "code": 3_000_000_000}, {"id": 7, "code": 1}])
    return qualified_name(table)


@pytest.mark.parametrize(
    ("condition", "ids", "files"),
    [
        ("code >= 2", [2, 5, 6], 2),
        ("code < 1", [0, 3], 1),
        ("code = 1", [1, 4, 7], 2),
        ("code > 2147483647", [6], 1),
    ],
)
def test_filters_on_a_promoted_partition_column(floe, catalog, promoted_partition, condition, ids, files):
    sql = f"SELECT id FROM lake.{promoted_partition} WHERE {condition}"
    assert sorted(row[0] for row in floe.execute(sql).fetchall()) == ids
    assert files_read(floe, sql) == files


def test_time_travel_before_the_promotion_reads_the_old_types(floe, catalog, promoted):
    # The snapshot of the second append, the last before the promotion.
    before = catalog.load_table(promoted).snapshots()[1].snapshot_id
    relation = f"lake.{promoted} AT (VERSION => {before})"
    assert described(floe, f"SELECT * FROM {relation}") == [
        ("id", "BIGINT"),
        ("n", "INTEGER"),
        ("x", "FLOAT"),
        ("amount", "DECIMAL(9,2)"),
    ]
    rows = floe.execute(f"SELECT id, n, x, amount FROM {relation} ORDER BY id").fetchall()
    assert rows == [tuple(row.values()) for rows in BEFORE_PROMOTION for row in rows]
    assert floe.execute(f"SELECT id FROM {relation} WHERE n = 5").fetchall() == [(1,)]


@pytest.fixture(scope="module")
def evolved(catalog) -> tuple[str, list[int]]:
    """Rows, then `label` renamed to `name`, `score` added and `tag` dropped and added again (a
    new field id under the old name), then more rows; returns the identifier and the snapshot ids
    after each append."""
    schema = Schema(
        NestedField(1, "id", LongType()),
        NestedField(2, "label", StringType()),
        NestedField(3, "tag", StringType()),
    )
    table = fresh_table(catalog, "evolved", schema)
    table = append(catalog, table, [{"id": i, "label": f"l{i}", "tag": "old"} for i in range(3)])
    first = table.current_snapshot().snapshot_id
    with table.update_schema() as update:
        update.rename_column("label", "name")
        update.add_column("score", DoubleType())
        update.delete_column("tag")
    table = catalog.load_table(table.name())
    with table.update_schema() as update:
        update.add_column("tag", StringType())
    rows = [{"id": i, "name": f"n{i}", "score": i / 2, "tag": "new" if i % 2 else None} for i in range(3, 6)]
    table = append(catalog, table, rows)
    return qualified_name(table), [first, table.current_snapshot().snapshot_id]


def test_added_renamed_and_readded_columns_resolve_by_field_id(floe, catalog, evolved):
    identifier, _ = evolved
    assert described(floe, f"lake.{identifier}") == [
        ("id", "BIGINT"),
        ("name", "VARCHAR"),
        ("score", "DOUBLE"),
        ("tag", "VARCHAR"),
    ]
    rows = floe.execute(f"SELECT id, name, score, tag FROM lake.{identifier} ORDER BY id").fetchall()
    # The old files' `tag` values belong to the dropped column: the new `tag` is NULL there.
    assert rows == [
        (0, "l0", None, None),
        (1, "l1", None, None),
        (2, "l2", None, None),
        (3, "n3", 1.5, "new"),
        (4, "n4", 2.0, None),
        (5, "n5", 2.5, "new"),
    ]
    assert duckdb_rows(floe, f"SELECT * FROM lake.{identifier}") == pyiceberg_rows(catalog, identifier)


@pytest.mark.parametrize(
    ("condition", "ids"),
    [
        ("tag = 'old'", []),
        ("tag IS NULL", [0, 1, 2, 4]),
        ("tag = 'new'", [3, 5]),
        ("name = 'l1'", [1]),
        ("name >= 'n'", [3, 4, 5]),
        ("score IS NULL", [0, 1, 2]),
        ("score > 1.9", [4, 5]),
    ],
)
def test_filters_on_evolved_columns(floe, evolved, condition, ids):
    identifier, _ = evolved
    got = floe.execute(f"SELECT id FROM lake.{identifier} WHERE {condition} ORDER BY id").fetchall()
    assert [row[0] for row in got] == ids


def test_time_travel_reads_the_schema_of_the_snapshot(floe, catalog, evolved):
    identifier, (first, second) = evolved
    relation = f"lake.{identifier} AT (VERSION => {first})"
    assert described(floe, f"SELECT * FROM {relation}") == [("id", "BIGINT"), ("label", "VARCHAR"), ("tag", "VARCHAR")]
    rows = floe.execute(f"SELECT id, label, tag FROM {relation} ORDER BY id").fetchall()
    assert rows == [(0, "l0", "old"), (1, "l1", "old"), (2, "l2", "old")]
    assert floe.execute(f"SELECT count(*) FROM {relation} WHERE tag = 'old'").fetchone() == (3,)
    assert duckdb_rows(floe, f"SELECT * FROM {relation}") == pyiceberg_rows(catalog, identifier, snapshot_id=first)
    assert duckdb_rows(floe, f"SELECT * FROM lake.{identifier} AT (VERSION => {second})") == pyiceberg_rows(
        catalog, identifier
    )


@pytest.fixture(scope="module")
def nested(catalog) -> str:
    """A struct column whose field `y` is renamed to `h`, whose `x` becomes a long and which gains
    a field `z`."""
    point = StructType(NestedField(3, "x", IntegerType()), NestedField(4, "y", StringType()))
    table = fresh_table(catalog, "nested", Schema(NestedField(1, "id", LongType()), NestedField(2, "point", point)))
    rows = [{"id": 0, "point": {"x": 10, "y": "a"}}, {"id": 1, "point": None}, {"id": 2, "point": {"x": None, "y": "c"}}]
    table = append(catalog, table, rows)
    with table.update_schema() as update:
        update.rename_column("point.y", "h")
        update.add_column(("point", "z"), LongType())
        update.update_column("point.x", LongType())
    rows = [{"id": 3, "point": {"x": 2**40, "h": "d", "z": 7}}, {"id": 4, "point": {"x": 4, "h": None, "z": None}}]
    append(catalog, table, rows)
    return qualified_name(table)


def test_nested_fields_added_renamed_and_promoted(floe, catalog, nested):
    assert described(floe, f"lake.{nested}") == [
        ("id", "BIGINT"),
        ("point", "STRUCT(x BIGINT, h VARCHAR, z BIGINT)"),
    ]
    rows = floe.execute(f"SELECT id, point FROM lake.{nested} ORDER BY id").fetchall()
    assert rows == [
        (0, {"x": 10, "h": "a", "z": None}),
        (1, None),
        (2, {"x": None, "h": "c", "z": None}),
        (3, {"x": 2**40, "h": "d", "z": 7}),
        (4, {"x": 4, "h": None, "z": None}),
    ]
    assert floe.execute(f"SELECT id FROM lake.{nested} WHERE point.h = 'c'").fetchall() == [(2,)]
    assert floe.execute(f"SELECT id FROM lake.{nested} WHERE point.x > 5 ORDER BY id").fetchall() == [(0,), (3,)]
    assert floe.execute(f"SELECT id FROM lake.{nested} WHERE point.z IS NULL ORDER BY id").fetchall() == [
        (0,), (1,), (2,), (4,)
    ]
    assert duckdb_rows(floe, f"SELECT * FROM lake.{nested}") == pyiceberg_rows(catalog, nested)
