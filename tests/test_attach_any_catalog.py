"""A catalog that serves one warehouse and refuses any other name, as Rustberg does (it answers
400 "Unknown warehouse" to `/v1/config?warehouse=`): attached with no warehouse, floe sends none
and takes the name the catalog gives in its config's overrides."""

from __future__ import annotations

import duckdb
import pytest

from tests.engines import floe_connection


def test_a_catalog_attached_without_a_warehouse_is_asked_for_none(extension, rustberg_s3):
    con = floe_connection(extension)
    con.execute(rustberg_s3.testbed.s3_secret_sql())
    con.execute(f"ATTACH '' AS lake (TYPE ICEBERG, ENDPOINT '{rustberg_s3.catalog.uri}', TOKEN '{rustberg_s3.catalog.api_key}')")
    con.execute("CREATE SCHEMA IF NOT EXISTS lake.any_catalog")
    con.execute("CREATE OR REPLACE TABLE lake.any_catalog.t AS SELECT 42 AS a")
    assert con.execute("SELECT a FROM lake.any_catalog.t").fetchall() == [(42,)]
    # Messages name the catalog by the warehouse it said it serves.
    con.execute(f"ATTACH '' AS seen (TYPE ICEBERG, ENDPOINT '{rustberg_s3.catalog.uri}', TOKEN '{rustberg_s3.catalog.api_keys['reader']}')")
    with pytest.raises(duckdb.Error, match=f"may not create table 'any_catalog.u' in Iceberg catalog '{rustberg_s3.warehouse}'"):
        con.execute("CREATE TABLE seen.any_catalog.u (a INT)")
    con.close()
