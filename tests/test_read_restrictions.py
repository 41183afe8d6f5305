"""Read restrictions from the catalog (`read-restrictions` on LoadTable: a row filter and column
masks a principal's reads must apply), applied by floe as a secure view in the table's place.

Rustberg sends them for Cedar permits annotated `@row_filter` / `@column_mask` (tests/rustberg.py
sets the policies) and withholds its storage credentials; the reader here holds storage keys of its
own, as an analyst might, so nothing but floe stands between it and the hidden rows. Rustberg only
ever masks with `replace-with-null` (optional columns) and `mask-to-fixed-value` (required ones);
tests/test_restriction_actions.py covers the rest of the spec's actions."""

from __future__ import annotations

import json
import uuid

import duckdb
import pytest

from tests.rows import duckdb_rows

PEOPLE = (
    "SELECT i AS id, CASE WHEN i % 2 = 0 THEN 'EU' ELSE 'US' END AS region, "
    "'p' || i || '@example.com' AS email, 1000 + i AS salary FROM range(6) t(i)"
)
#: What the reader may see of PEOPLE: EU rows, email nulled, the required salary fixed at 0.
READER_VIEW = f"SELECT id, region, NULL::VARCHAR AS email, 0 AS salary FROM ({PEOPLE}) WHERE region = 'EU'"


def policies(namespace: str) -> str:
    """Rustberg's three roles as its defaults have them, but the reader reads `namespace.people`
    only through a permit with a row filter (EU rows) and masks (email, salary)."""
    people = f'Rustberg::Table::"default\\u{{1F}}{namespace}\\u{{1F}}people"'
    row_filter = json.dumps(json.dumps({"type": "eq", "term": "region", "value": "EU"}))
    return f"""
permit(principal in Rustberg::Group::"admin", action, resource)
  when {{ resource.tenant == principal.tenant }};

permit(
  principal in Rustberg::Group::"writer",
  action in [Rustberg::Action::"Read", Rustberg::Action::"List", Rustberg::Action::"Create", Rustberg::Action::"Update"],
  resource
) when {{ resource.tenant == principal.tenant }};

permit(
  principal in Rustberg::Group::"reader",
  action in [Rustberg::Action::"Read", Rustberg::Action::"List"],
  resource
) when {{ resource.tenant == principal.tenant }}
  unless {{ resource == {people} }};

@row_filter({row_filter})
@column_mask("email,salary")
permit(principal in Rustberg::Group::"reader", action == Rustberg::Action::"Read", resource == {people});
"""


@pytest.fixture()
def governed(rustberg_s3, extension):
    """Namespace with tables `people` (restricted for the reader; salary NOT NULL, two snapshots)
    and `plain`, and a view `eu` over people, written by the admin."""
    namespace = "gov_" + uuid.uuid4().hex[:8]
    admin = rustberg_s3.floe(extension, "admin")
    admin.execute(f"CREATE SCHEMA lake.{namespace}")
    admin.execute(
        f"CREATE TABLE lake.{namespace}.people (id BIGINT, region VARCHAR, email VARCHAR, salary BIGINT NOT NULL)"
    )
    admin.execute(f"INSERT INTO lake.{namespace}.people {PEOPLE}")
    admin.execute(f"INSERT INTO lake.{namespace}.people VALUES (7, NULL, 'nobody@example.com', 7)")
    admin.execute(f"CREATE TABLE lake.{namespace}.plain AS SELECT 1 AS id")
    admin.execute(f"CREATE VIEW lake.{namespace}.eu AS SELECT id, email FROM lake.{namespace}.people")
    with rustberg_s3.catalog.policies(policies(namespace)):
        yield namespace, admin
    admin.close()


def test_the_reader_sees_only_what_the_policy_lets_it(governed, rustberg_s3, extension):
    namespace, admin = governed
    people = f"lake.{namespace}.people"
    reader = rustberg_s3.floe(extension, "reader")
    assert duckdb_rows(reader, f"SELECT * FROM {people}") == duckdb_rows(reader, READER_VIEW)
    # The filter is evaluated on raw values and the caller's predicates only on what it may see.
    assert reader.execute(f"SELECT count(*) FROM {people} WHERE region = 'US' OR region IS NULL").fetchall() == [(0,)]
    assert reader.execute(f"SELECT count(*) FROM {people} WHERE email = 'p0@example.com'").fetchall() == [(0,)]
    assert reader.execute(f"SELECT count(email), sum(salary), max(id) FROM {people}").fetchall() == [(0, 0, 4)]
    # Joins, views over the table and time travel read it restricted too.
    assert sorted(
        reader.execute(f"SELECT p.id, p.email FROM lake.{namespace}.plain JOIN {people} p ON p.id >= plain.id").fetchall()
    ) == [(2, None), (4, None)]
    assert sorted(reader.execute(f"SELECT * FROM lake.{namespace}.eu").fetchall()) == [(0, None), (2, None), (4, None)]
    first = admin.execute(
        f"SELECT snapshot_id FROM iceberg_snapshots('{people}') ORDER BY sequence_number LIMIT 1"
    ).fetchone()[0]
    assert sorted(reader.execute(f"SELECT id, salary FROM {people} AT (VERSION => {first})").fetchall()) == [
        (0, 0),
        (2, 0),
        (4, 0),
    ]
    # The plan shows the boundary, not what is inside it.
    plan = "\n".join(row[1] for row in reader.execute(f"EXPLAIN SELECT * FROM {people}").fetchall())
    assert "$floe_raw$" not in plan and "example.com" not in plan, plan
    # The admin, whom no policy restricts, reads everything.
    assert len(admin.execute(f"SELECT * FROM {people}").fetchall()) == 7
    reader.close()


def test_what_would_expose_or_change_hidden_rows_is_refused(governed, rustberg_s3, extension):
    namespace, admin = governed
    people = f"lake.{namespace}.people"
    before = duckdb_rows(admin, f"SELECT * FROM {people}")
    reader = rustberg_s3.floe(extension, "reader")
    # File listings carry statistics of every row: refused. Snapshots are not.
    with pytest.raises(duckdb.Error) as failure:
        reader.execute(f"SELECT * FROM iceberg_metadata('{people}')").fetchall()
    message = str(failure.value)
    assert f"Cannot list the files of table '{namespace}.people'" in message, message
    assert "a row filter and 2 masked columns" in message, message
    assert "Fix: do this as a principal the catalog does not restrict" in message, message
    assert len(reader.execute(f"SELECT * FROM iceberg_snapshots('{people}')").fetchall()) == 2
    for sql in (
        f"INSERT INTO {people} VALUES (9, 'EU', 'x', 1)",
        f"DELETE FROM {people} WHERE id = 0",
        f"UPDATE {people} SET email = 'x'",
        f"CALL floe_rewrite_data_files('{people}')",
    ):
        with pytest.raises(duckdb.Error) as failure:
            reader.execute(sql)
        for key in rustberg_s3.catalog.api_keys.values():
            assert key not in str(failure.value)
    reader.close()
    assert duckdb_rows(admin, f"SELECT * FROM {people}") == before
    assert len(admin.execute(f"SELECT * FROM iceberg_snapshots('{people}')").fetchall()) == 2
