"""Storage credentials vended by the catalog: floe reads and writes with the table-scoped,
short-lived keys of LoadTable, with no S3 secret in DuckDB at all."""

from __future__ import annotations

import secrets
from typing import Iterator

import duckdb
import pyarrow as pa
import pytest

from tests.engines import floe_connection
from tests.testbed import Testbed


@pytest.fixture(scope="module")
def vending() -> Iterator[Testbed]:
    with Testbed(vending=True) as bed:
        yield bed


@pytest.fixture()
def table(vending: Testbed) -> str:
    """A table of its own for each test (three rows written by PyIceberg), named `vend.<table>`."""
    catalog = vending.pyiceberg_catalog()
    catalog.create_namespace_if_not_exists("vend")
    name = f"vend.t_{secrets.token_hex(3)}"
    created = catalog.create_table(name, schema=pa.schema([("id", pa.int64()), ("name", pa.string())]))
    created.append(pa.table({"id": [1, 2, 3], "name": ["a", "b", "c"]}))
    return name


def attach_without_s3_secret(extension: str, bed: Testbed) -> duckdb.DuckDBPyConnection:
    con = floe_connection(extension)
    con.execute(
        f"CREATE SECRET cat (TYPE iceberg, CLIENT_ID '{bed.client_id}', CLIENT_SECRET '{bed.client_secret}', "
        f"OAUTH2_SERVER_URI '{bed.oauth2_server_uri}')"
    )
    con.execute(f"ATTACH '{bed.warehouse}' AS lake (TYPE ICEBERG, ENDPOINT '{bed.catalog_uri}', SECRET cat)")
    return con


def test_reads_and_writes_with_vended_keys_only(extension, vending, table):
    catalog = vending.pyiceberg_catalog()
    copy = f"{table}_copy"

    con = attach_without_s3_secret(extension, vending)
    assert con.execute(f"SELECT sum(id), string_agg(name, '' ORDER BY id) FROM lake.{table}").fetchone() == (6, "abc")

    con.execute(f"INSERT INTO lake.{table} VALUES (4, 'd')")
    con.execute(f"CREATE TABLE lake.{copy} AS SELECT * FROM lake.{table}")
    assert sorted(catalog.load_table(table).scan().to_arrow().column("id").to_pylist()) == [1, 2, 3, 4]
    assert catalog.load_table(copy).scan().to_arrow().num_rows == 4

    # The vended keys stay inside floe: DuckDB's secret manager holds only the catalog secret.
    assert con.execute("SELECT type FROM duckdb_secrets()").fetchall() == [("iceberg",)]


def test_without_delegation_and_without_a_secret_reads_fail_clearly(extension, vending, table):
    location = vending.pyiceberg_catalog().load_table(table).location()
    con = floe_connection(extension)
    con.execute(
        f"ATTACH '{vending.warehouse}' AS lake (TYPE ICEBERG, ENDPOINT '{vending.catalog_uri}', "
        f"CLIENT_ID '{vending.client_id}', CLIENT_SECRET '{vending.client_secret}', ACCESS_DELEGATION_MODE 'none')"
    )
    with pytest.raises(duckdb.Error) as failure:
        con.execute(f"SELECT count(*) FROM lake.{table}").fetchall()
    message = str(failure.value)
    assert f"Cannot plan a scan of table '{table}' at {location}" in message, message
    assert "with no credentials: access denied" in message, message
    assert "Fix: no credentials reach it: the catalog vended none" in message, message
    assert vending.client_secret not in str(failure.value)
