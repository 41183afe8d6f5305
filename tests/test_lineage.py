"""Lineage the catalog keeps: each snapshot floe commits names, in its summary, the tables its
statements read (at the snapshot read), the dbt model whose query comment the statement carried,
and what the session adds through `floe_snapshot_properties`; read back by PyIceberg and by
floe's `iceberg_snapshots()`. The dbt run's own lineage is checked in tests/test_dbt.py."""

from __future__ import annotations

import json

import duckdb
import pytest


@pytest.fixture()
def ns(floe) -> str:
    floe.execute("DROP SCHEMA IF EXISTS lake.lineage CASCADE")
    floe.execute("CREATE SCHEMA lake.lineage")
    return "lineage"


def summary(catalog, table: str) -> dict[str, str]:
    return dict(catalog.load_table(table).current_snapshot().summary.additional_properties)


def snapshot_id(catalog, table: str) -> int:
    return catalog.load_table(table).metadata.current_snapshot_id


def test_a_write_names_the_tables_its_statement_read(floe, catalog, ns):
    floe.execute(f"CREATE TABLE lake.{ns}.a AS SELECT range AS id FROM range(3)")
    floe.execute(f"CREATE TABLE lake.{ns}.b AS SELECT range AS id, 'x' AS v FROM range(3)")
    floe.execute(f"CREATE TABLE lake.{ns}.empty (id BIGINT)")
    floe.execute(f"CREATE TABLE lake.{ns}.t (id BIGINT, v VARCHAR)")
    a, b = snapshot_id(catalog, f"{ns}.a"), snapshot_id(catalog, f"{ns}.b")
    floe.execute(
        f"INSERT INTO lake.{ns}.t SELECT a.id, b.v FROM lake.{ns}.a JOIN lake.{ns}.b USING (id) "
        f"WHERE a.id NOT IN (SELECT id FROM lake.{ns}.empty)"
    )
    expected = [
        {"table": f"{ns}.a", "snapshot-id": a},
        {"table": f"{ns}.b", "snapshot-id": b},
        {"table": f"{ns}.empty", "snapshot-id": None},
    ]
    assert json.loads(summary(catalog, f"{ns}.t")["floe.read-tables"]) == expected
    # The same through floe.
    (text,) = floe.execute(
        f"SELECT summary['floe.read-tables'] FROM iceberg_snapshots('lake.{ns}.t') ORDER BY sequence_number DESC LIMIT 1"
    ).fetchone()
    assert json.loads(text) == expected
    # A statement that read nothing records nothing; CTAS from values neither.
    floe.execute(f"INSERT INTO lake.{ns}.t VALUES (9, 'z')")
    assert "floe.read-tables" not in summary(catalog, f"{ns}.t")
    assert "floe.read-tables" not in summary(catalog, f"{ns}.a")


def test_each_table_of_a_transaction_names_only_its_own_statements_reads(floe, catalog, ns):
    floe.execute(f"CREATE TABLE lake.{ns}.a AS SELECT 1 AS id")
    floe.execute(f"CREATE TABLE lake.{ns}.b AS SELECT 2 AS id")
    first_a = snapshot_id(catalog, f"{ns}.a")
    floe.execute(f"INSERT INTO lake.{ns}.a VALUES (3)")
    floe.execute(f"CREATE TABLE lake.{ns}.x (id INTEGER)")
    floe.execute(f"CREATE TABLE lake.{ns}.y (id INTEGER)")
    b = snapshot_id(catalog, f"{ns}.b")
    floe.execute("BEGIN")
    # Time travel: the snapshot read is the one named.
    floe.execute(f"INSERT INTO lake.{ns}.x SELECT id FROM lake.{ns}.a AT (VERSION => {first_a})")
    floe.execute(f"INSERT INTO lake.{ns}.y SELECT id FROM lake.{ns}.b UNION ALL SELECT 7")
    # A DELETE reads its own table: that is its parent snapshot, not lineage.
    floe.execute(f"DELETE FROM lake.{ns}.y WHERE id = 7 AND id NOT IN (SELECT id FROM lake.{ns}.x)")
    floe.execute("COMMIT")
    assert json.loads(summary(catalog, f"{ns}.x")["floe.read-tables"]) == [
        {"table": f"{ns}.a", "snapshot-id": first_a}
    ]
    assert json.loads(summary(catalog, f"{ns}.y")["floe.read-tables"]) == [
        {"table": f"{ns}.b", "snapshot-id": b},
        {"table": f"{ns}.x", "snapshot-id": None},
    ]


def test_reads_of_many_tables_are_bounded(floe, catalog, ns):
    for i in range(23):
        floe.execute(f"CREATE TABLE lake.{ns}.s{i:02} AS SELECT {i} AS id")
    floe.execute(f"CREATE TABLE lake.{ns}.t (id INTEGER)")
    union = " UNION ALL ".join(f"SELECT id FROM lake.{ns}.s{i:02}" for i in range(23))
    floe.execute(f"INSERT INTO lake.{ns}.t {union}")
    properties = summary(catalog, f"{ns}.t")
    listed = json.loads(properties["floe.read-tables"])
    assert [r["table"] for r in listed] == [f"{ns}.s{i:02}" for i in range(20)]
    assert properties["floe.read-tables-omitted"] == "3"
    assert floe.execute(f"SELECT count(*) FROM lake.{ns}.t").fetchone() == (23,)


def test_dbt_query_comments_and_session_properties(floe, catalog, ns):
    floe.execute(f"CREATE TABLE lake.{ns}.src AS SELECT 1 AS id")
    comment = json.dumps({"app": "dbt", "dbt_version": "1.11.0", "node_id": "model.shop.m"})
    floe.execute(
        "SET floe_snapshot_properties = "
        + "'"
        + json.dumps({"dbt.invocation-id": "run-1", "job": "nightly", "engine-name": "not floe"})
        + "'"
    )
    floe.execute(f"/* {comment} */\nCREATE TABLE lake.{ns}.m AS SELECT * FROM lake.{ns}.src")
    properties = summary(catalog, f"{ns}.m")
    assert properties["dbt.node-id"] == "model.shop.m"
    assert properties["dbt.invocation-id"] == "run-1"
    assert properties["job"] == "nightly"
    # floe's own keys are not the session's to change.
    assert properties["engine-name"] == "floe"
    assert json.loads(properties["floe.read-tables"])[0]["table"] == f"{ns}.src"

    floe.execute("SET floe_snapshot_properties = '{\"job\": 1'")
    with pytest.raises(duckdb.Error, match="SET floe_snapshot_properties is not valid.*Fix:"):
        floe.execute(f"INSERT INTO lake.{ns}.m VALUES (2)")
    floe.execute("RESET floe_snapshot_properties")
    # The failed statement changed nothing.
    assert floe.execute(f"SELECT count(*) FROM lake.{ns}.m").fetchone() == (1,)
