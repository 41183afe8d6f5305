"""Storage credentials vended by the catalog: floe reads and writes with the table-scoped,
short-lived keys of LoadTable, with no S3 secret in DuckDB at all."""

from __future__ import annotations

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


def attach_without_s3_secret(extension: str, bed: Testbed) -> duckdb.DuckDBPyConnection:
    con = floe_connection(extension)
    con.execute(
        f"CREATE SECRET cat (TYPE iceberg, CLIENT_ID '{bed.client_id}', CLIENT_SECRET '{bed.client_secret}', "
        f"OAUTH2_SERVER_URI '{bed.oauth2_server_uri}')"
    )
    con.execute(f"ATTACH '{bed.warehouse}' AS lake (TYPE ICEBERG, ENDPOINT '{bed.catalog_uri}', SECRET cat)")
    return con


def test_reads_and_writes_with_vended_keys_only(extension, vending):
    catalog = vending.pyiceberg_catalog()
    catalog.create_namespace("vend")
    table = catalog.create_table("vend.t", schema=pa.schema([("id", pa.int64()), ("name", pa.string())]))
    table.append(pa.table({"id": [1, 2, 3], "name": ["a", "b", "c"]}))

    con = attach_without_s3_secret(extension, vending)
    assert con.execute("SELECT count(*) FROM duckdb_secrets() WHERE type = 's3' AND NOT name LIKE '__floe_vended_%'").fetchone()[0] == 0
    assert con.execute("SELECT sum(id), string_agg(name, '' ORDER BY id) FROM lake.vend.t").fetchone() == (6, "abc")

    con.execute("INSERT INTO lake.vend.t VALUES (4, 'd')")
    con.execute("CREATE TABLE lake.vend.copy AS SELECT * FROM lake.vend.t")
    assert sorted(catalog.load_table("vend.t").scan().to_arrow().column("id").to_pylist()) == [1, 2, 3, 4]
    assert catalog.load_table("vend.copy").scan().to_arrow().num_rows == 4

    # The keys are the catalog's, scoped to each table's location, and shown redacted.
    secrets = con.execute("SELECT name, scope, secret_string FROM duckdb_secrets() WHERE name LIKE '__floe_vended_%'").fetchall()
    scopes = sorted(scope[0] for _, scope, _ in secrets)
    assert scopes == ["s3://lake/vend/copy/", "s3://lake/vend/t/"], scopes
    for _, _, text in secrets:
        assert "key_id=ASIA" in text  # an STS session key, not the test bed's own
        assert "secret=redacted" in text
        assert vending.client_secret not in text


def test_without_delegation_and_without_a_secret_reads_fail_clearly(extension, vending):
    con = floe_connection(extension)
    con.execute(
        f"ATTACH '{vending.warehouse}' AS lake (TYPE ICEBERG, ENDPOINT '{vending.catalog_uri}', "
        f"CLIENT_ID '{vending.client_id}', CLIENT_SECRET '{vending.client_secret}', ACCESS_DELEGATION_MODE 'none')"
    )
    with pytest.raises(duckdb.Error) as failure:
        con.execute("SELECT count(*) FROM lake.vend.t").fetchall()
    message = str(failure.value)
    assert "Cannot plan a scan of table 'vend.t' at s3://lake/vend/t" in message, message
    assert "Fix: no storage credentials reach s3://lake/vend/t" in message, message
    assert vending.client_secret not in str(failure.value)
