"""floe reads what other engines wrote exactly as they read it: PyIceberg and the official iceberg
extension on DuckDB 1.5.5 (the reference engine's process), on a real catalog and real S3."""

from __future__ import annotations

import datetime
import secrets

import pytest
from pyiceberg.expressions import EqualTo, GreaterThanOrEqual

from tests.both_catalogs import BOTH_CATALOGS
from tests.equality_deletes import with_equality_deletes
from tests.rows import duckdb_rows, pyiceberg_rows

pytestmark = BOTH_CATALOGS

TABLES = ["metrics", "all_types", "by_region", "by_day", "by_bucket", "evolved", "history", "deleted"]


@pytest.mark.parametrize("name", TABLES)
def test_full_table_matches_pyiceberg(floe, catalog, reference, name):
    identifier = reference[name]
    expected = pyiceberg_rows(catalog, identifier)
    assert expected, "the reference table is empty"
    assert duckdb_rows(floe, f"SELECT * FROM lake.{identifier}") == expected


@pytest.mark.parametrize("name", ["metrics", "by_region", "by_day", "evolved", "deleted"])
def test_full_table_matches_the_official_extension(floe, official, reference, name):
    sql = f"SELECT * FROM lake.{reference[name]}"
    assert duckdb_rows(floe, sql) == duckdb_rows(official, sql)


def test_positional_deletes_are_applied(floe, catalog, reference):
    identifier = reference["deleted"]
    # 2000 rows written; DELETE removed id % 10 = 3 and region 'latam' (every 4th row).
    assert floe.execute(f"SELECT count(*) FROM lake.{identifier}").fetchone() == (1400,)
    assert floe.execute(f"SELECT count(*) FROM lake.{identifier} WHERE id % 10 = 3").fetchone() == (0,)
    eu = floe.execute(f"SELECT id FROM lake.{identifier} WHERE region = 'eu' ORDER BY id").fetchall()
    assert [row[0] for row in eu] == sorted(r[0] for r in pyiceberg_rows(catalog, identifier) if r[1] == "eu")


@pytest.fixture(scope="module")
def equality_deleted(catalog):
    return with_equality_deletes(catalog, "eqdel")


def test_equality_deletes_are_applied(floe, official, equality_deleted):
    # Deletes by id and by region, then re-inserted ids (a later sequence number) that stay.
    identifier, expected = equality_deleted
    sql = f"SELECT id, region FROM lake.{identifier}"
    assert sorted(floe.execute(sql).fetchall()) == expected
    assert sorted(official.execute(sql).fetchall()) == expected
    # Filters and projections over the same deletes.
    assert floe.execute(f"SELECT count(*) FROM lake.{identifier} WHERE region = 'latam'").fetchone() == (0,)
    assert floe.execute(f"SELECT count(*) FROM lake.{identifier} WHERE id < 70").fetchone() == (
        sum(1 for row in expected if row[0] < 70),
    )
    assert sorted(r[0] for r in floe.execute(f"SELECT id FROM lake.{identifier}").fetchall()) == sorted(
        row[0] for row in expected
    )


def test_renamed_and_added_columns_read_by_field_id(floe, reference):
    rows = floe.execute(f"SELECT id, name, score FROM lake.{reference['evolved']} ORDER BY id").fetchall()
    assert rows == [(1, "a", None), (2, "b", None), (3, "c", None), (4, "d", 4.5), (5, "e", None)]


def test_selective_filters_match_pyiceberg(floe, catalog, reference):
    metrics = reference["metrics"]
    got = duckdb_rows(floe, f"SELECT * FROM lake.{metrics} WHERE day >= DATE '2026-01-01'")
    assert got == pyiceberg_rows(catalog, metrics, row_filter=GreaterThanOrEqual("day", "2026-01-01"))
    by_region = reference["by_region"]
    got = duckdb_rows(floe, f"SELECT * FROM lake.{by_region} WHERE region = 'eu'")
    assert got == pyiceberg_rows(catalog, by_region, row_filter=EqualTo("region", "eu"))


def test_partition_filters_prune_files(floe, reference):
    by_region = reference["by_region"]
    files_total = floe.execute(f"SELECT count(DISTINCT filename) FROM lake.{by_region}").fetchone()[0]
    plan = floe.execute(f"EXPLAIN ANALYZE SELECT count(*) FROM lake.{by_region} WHERE region = 'eu'").fetchall()
    text = plan[0][1]
    read = int(text.split("Total Files Read:")[1].split()[0])
    # 3 appends x 4 regions; only the 3 files of region 'eu' may be opened.
    assert files_total == 12
    assert read == 3, text


@pytest.mark.parametrize("version", range(3))
def test_time_travel_by_snapshot_id(floe, catalog, reference, version):
    identifier = reference["history"]
    snapshot = reference["history_snapshots"][version]
    got = duckdb_rows(floe, f"SELECT * FROM lake.{identifier} AT (VERSION => {snapshot})")
    assert got == pyiceberg_rows(catalog, identifier, snapshot_id=snapshot)
    assert len(got) == 10 * (version + 1)


def test_time_travel_by_timestamp(floe, catalog, reference):
    identifier = reference["history"]
    table = catalog.load_table(identifier)
    second = table.snapshot_by_id(reference["history_snapshots"][1])
    at = datetime.datetime.fromtimestamp(second.timestamp_ms / 1000, tz=datetime.timezone.utc)
    got = floe.execute(
        f"SELECT count(*) FROM lake.{identifier} AT (TIMESTAMP => '{at.isoformat()}'::TIMESTAMPTZ)"
    ).fetchone()
    assert got == (20,)


@pytest.fixture()
def own_metrics(catalog, reference) -> str:
    """A copy of the metrics reference table for a test that commits to it: the reference tables
    stay exactly as written for every other test."""
    rows = catalog.load_table(reference["metrics"]).scan().to_arrow()
    catalog.create_namespace_if_not_exists("scratch")
    identifier = f"scratch.metrics_{secrets.token_hex(3)}"
    catalog.create_table(identifier, schema=rows.schema).append(rows)
    return identifier


def test_one_snapshot_per_table_per_transaction(floe, catalog, own_metrics):
    floe.execute("BEGIN")
    before = floe.execute(f"SELECT count(*) FROM lake.{own_metrics}").fetchone()[0]
    table = catalog.load_table(own_metrics)
    table.append(table.scan(limit=5).to_arrow())
    assert floe.execute(f"SELECT count(*) FROM lake.{own_metrics}").fetchone()[0] == before
    floe.execute("COMMIT")
    assert floe.execute(f"SELECT count(*) FROM lake.{own_metrics}").fetchone()[0] == before + 5


def test_browsing(floe, reference):
    tables = {(row[1], row[2]) for row in floe.execute("SHOW ALL TABLES").fetchall() if row[0] == "lake"}
    assert {("ref", name) for name in ("metrics", "all_types", "evolved")} <= tables
    described = floe.execute(f"DESCRIBE lake.{reference['metrics']}").fetchall()
    assert [(r[0], r[1]) for r in described] == [("region", "VARCHAR"), ("amount", "DECIMAL(12,2)"), ("day", "DATE")]
    columns = floe.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_catalog = 'lake' AND table_schema = 'ref' AND table_name = 'all_types' ORDER BY ordinal_position"
    ).fetchall()
    assert dict(columns)["attrs"] == "MAP(VARCHAR, INTEGER)"
    assert dict(columns)["uid"] == "UUID"
    assert dict(columns)["tstz"] == "TIMESTAMP WITH TIME ZONE"
    assert floe.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = 'lake' AND schema_name = 'ref'"
    ).fetchone()[0] >= 8
