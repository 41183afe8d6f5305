"""Read restrictions from the catalog (`read-restrictions` on LoadTable: a row filter and column
masks a principal's reads must apply). floe does not apply them yet, so a restricted table is
refused, reads and writes alike, and never read raw. Rustberg sends them for Cedar permits
annotated `@row_filter` / `@column_mask` (tests/rustberg.py sets the policies), and withholds its
storage credentials; the reader here holds storage keys of its own, as an analyst might, so
nothing but floe's refusal stands between it and the hidden rows."""

from __future__ import annotations

import json
import uuid

import duckdb
import pytest

from tests.rows import duckdb_rows

PEOPLE = (
    "SELECT i AS id, CASE WHEN i % 2 = 0 THEN 'EU' ELSE 'US' END AS region, "
    "'p' || i || '@example.com' AS email FROM range(6) t(i)"
)


def policies(namespace: str) -> str:
    """Rustberg's three roles as its defaults have them, but the reader reads `namespace.people`
    only through a permit with a row filter (EU rows) and a mask (email)."""
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
@column_mask("email")
permit(principal in Rustberg::Group::"reader", action == Rustberg::Action::"Read", resource == {people});
"""


@pytest.fixture()
def governed(rustberg_s3, extension):
    """Namespace with tables `people` (restricted for the reader) and `plain`, written by the admin."""
    namespace = "gov_" + uuid.uuid4().hex[:8]
    admin = rustberg_s3.floe(extension, "admin")
    admin.execute(f"CREATE SCHEMA lake.{namespace}")
    admin.execute(f"CREATE TABLE lake.{namespace}.people AS {PEOPLE}")
    admin.execute(f"CREATE TABLE lake.{namespace}.plain AS SELECT 1 AS id")
    with rustberg_s3.catalog.policies(policies(namespace)):
        yield namespace, admin
    admin.close()


def test_a_restricted_table_is_refused_never_read_raw(governed, rustberg_s3, extension):
    namespace, admin = governed
    reader = rustberg_s3.floe(extension, "reader")
    for sql in (
        f"SELECT * FROM lake.{namespace}.people",
        f"SELECT count(*) FROM lake.{namespace}.people WHERE region = 'US'",
        f"SELECT p.email FROM lake.{namespace}.plain JOIN lake.{namespace}.people p USING (id)",
        f"SELECT * FROM iceberg_snapshots('lake.{namespace}.people')",
    ):
        with pytest.raises(duckdb.Error) as failure:
            reader.execute(sql).fetchall()
        message = str(failure.value)
        assert f"Table '{namespace}.people' in Iceberg catalog" in message, message
        assert "may only be read with a row filter and 1 masked column" in message, message
        assert "Fix: read it as a principal the catalog does not restrict" in message, message
        for key in rustberg_s3.catalog.api_keys.values():
            assert key not in message
    # A view over it is refused as well.
    admin.execute(f"CREATE VIEW lake.{namespace}.eu AS SELECT * FROM lake.{namespace}.people")
    with pytest.raises(duckdb.Error, match="may only be read with a row filter"):
        reader.execute(f"SELECT * FROM lake.{namespace}.eu").fetchall()
    # Writes too: nothing is written.
    with pytest.raises(duckdb.Error, match="may only be read with a row filter"):
        reader.execute(f"INSERT INTO lake.{namespace}.people VALUES (9, 'EU', 'x')")
    # The same principal's unrestricted table, and the admin's reads of both, are untouched.
    assert reader.execute(f"SELECT * FROM lake.{namespace}.plain").fetchall() == [(1,)]
    assert duckdb_rows(admin, f"SELECT * FROM lake.{namespace}.people") == duckdb_rows(admin, PEOPLE)
    reader.close()
