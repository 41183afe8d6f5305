"""ALTER TABLE ... SET PARTITIONED BY and partitioned writes: each file holds one partition, and
its partition values are the ones Iceberg's own transforms (PyIceberg's) compute."""

from __future__ import annotations

import datetime

from pyiceberg.expressions import EqualTo
from pyiceberg.transforms import parse_transform

from tests.both_catalogs import BOTH_CATALOGS
from tests.rows import duckdb_rows, pyiceberg_rows

pytestmark = BOTH_CATALOGS

ROWS = """
    SELECT i AS id,
           ['eu', 'us', 'apac'][i % 3 + 1] AS region,
           TIMESTAMP '2026-01-01' + INTERVAL (i * 5) HOUR AS ts,
           TIMESTAMPTZ '2025-12-31 22:00:00+00' + INTERVAL (i * 7) HOUR AS tstz,
           DATE '2024-11-15' + (i * 9)::INTEGER AS day,
           (i * 37.25)::DECIMAL(10, 2) AS amount,
           'name-' || (i * 7919 % 1000) AS name,
           md5(i::VARCHAR)::UUID AS uid
    FROM range(300) t(i)
"""


def test_partitioned_write_matches_iceberg_transforms(floe, official, catalog):
    floe.execute("CREATE SCHEMA IF NOT EXISTS lake.parts")
    floe.execute(f"CREATE OR REPLACE TABLE lake.parts.t AS SELECT * FROM ({ROWS}) LIMIT 0")
    floe.execute(
        "ALTER TABLE lake.parts.t SET PARTITIONED BY "
        "(region, hour(ts), day(tstz), month(day), bucket(8, id), truncate(100, amount), truncate(5, name), bucket(4, uid))"
    )
    floe.execute(f"INSERT INTO lake.parts.t {ROWS}")

    expected = duckdb_rows(floe, ROWS)
    assert duckdb_rows(floe, "SELECT * FROM lake.parts.t") == expected
    assert pyiceberg_rows(catalog, "parts.t") == expected
    assert duckdb_rows(official, "SELECT * FROM lake.parts.t") == expected

    table = catalog.load_table("parts.t")
    spec = table.spec()
    schema = table.schema()
    transforms = [
        (field.name, parse_transform(str(field.transform)).transform(schema.find_field(field.source_id).field_type),
         schema.find_field(field.source_id).name)
        for field in spec.fields
    ]
    arrow = table.scan().to_arrow()
    by_id = {row["id"]: row for row in arrow.to_pylist()}
    files = [
        entry.data_file
        for manifest in table.current_snapshot().manifests(table.io)
        for entry in manifest.fetch_manifest_entry(table.io)
    ]
    assert len(files) > 10
    # Every row's file carries the partition values PyIceberg's transforms give for that row.
    for data_file in files:
        ids = floe.execute(f"SELECT id FROM lake.parts.t WHERE filename = '{data_file.file_path}'").fetchall()
        assert ids
        for (row_id,) in ids:
            row = by_id[row_id]
            for position, (name, transform, source) in enumerate(transforms):
                value = row[source]
                if isinstance(value, datetime.datetime) and value.tzinfo is not None:
                    value = value.astimezone(datetime.timezone.utc)
                assert data_file.partition[position] == transform(_iceberg_value(value)), (name, row_id)

    # Pruning by bucket: PyIceberg and floe find single rows through the partition values.
    for row_id in (0, 17, 299):
        assert len(table.scan(row_filter=EqualTo("id", row_id)).to_arrow()) == 1
    plan = floe.execute("EXPLAIN ANALYZE SELECT * FROM lake.parts.t WHERE region = 'eu' AND id = 17").fetchall()[0][1]
    assert int(plan.split("Total Files Read:")[1].split()[0]) < len(files) // 4, plan


def _iceberg_value(value):
    """Python values as PyIceberg's transforms take them: timestamps in microseconds and dates in
    days since the epoch; everything else as is."""
    if isinstance(value, datetime.datetime):
        delta = value - datetime.datetime(1970, 1, 1, tzinfo=value.tzinfo)
        return delta.days * 86_400_000_000 + delta.seconds * 1_000_000 + delta.microseconds
    if isinstance(value, datetime.date):
        return (value - datetime.date(1970, 1, 1)).days
    return value
