"""The catalog failing in the middle of a commit (failure injection through a proxy): a 5xx leaves
the outcome unknown, so floe never resends blindly and never deletes files; it reloads to find
out what happened and says so."""

from __future__ import annotations

import re

import duckdb
import pytest

from tests.catalog_proxy import CatalogProxy
from tests.engines import floe_connection

# A commit: of one table, or of several (and of one, where the catalog offers it).
COMMIT = re.compile(r"^/v1/[^/]+/(namespaces/[^/]+/tables/[^/?]+|transactions/commit)$")


def proxied(extension, testbed, proxy) -> duckdb.DuckDBPyConnection:
    con = floe_connection(extension)
    for statement in testbed.duckdb_setup_sql()[:2]:
        con.execute(statement)
    con.execute(f"ATTACH '{testbed.warehouse}' AS lake (TYPE ICEBERG, ENDPOINT '{proxy.url}', SECRET testbed_iceberg)")
    return con


@pytest.fixture()
def table(floe, catalog):
    floe.execute("CREATE SCHEMA IF NOT EXISTS lake.faults")
    floe.execute("CREATE OR REPLACE TABLE lake.faults.t AS SELECT 1 AS n")
    return catalog.load_table("faults.t")


def test_commit_applied_despite_a_502_is_recognised(extension, testbed, catalog, table):
    faults = {"armed": True}

    def fault(method: str, path: str):
        if method == "POST" and COMMIT.match(path) and faults["armed"]:
            faults["armed"] = False
            return ("after", 502)
        return None

    with CatalogProxy(testbed.catalog_uri, fault=fault) as proxy:
        con = proxied(extension, testbed, proxy)
        con.execute("INSERT INTO lake.faults.t VALUES (2)")
    assert not faults["armed"], "the commit went through the proxy"
    # Reconciled: the snapshot is there, exactly once.
    rows = sorted(catalog.load_table("faults.t").scan().to_arrow().column("n").to_pylist())
    assert rows == [1, 2]


def test_commit_lost_in_a_502_is_reported_and_files_are_kept(extension, testbed, catalog, table):
    def fault(method: str, path: str):
        return ("instead", 502) if method == "POST" and COMMIT.match(path) else None

    before = testbed.s3_files(table.location() + "/data")
    with CatalogProxy(testbed.catalog_uri, fault=fault) as proxy:
        con = proxied(extension, testbed, proxy)
        with pytest.raises(duckdb.TransactionException) as raised:
            con.execute("INSERT INTO lake.faults.t VALUES (3)")
    message = str(raised.value)
    assert "The catalog failed while committing" in message
    assert "not visible" in message and "No written file was deleted" in message
    # Never resent: the table is unchanged, and the written file is still there.
    assert catalog.load_table("faults.t").current_snapshot().snapshot_id == table.current_snapshot().snapshot_id
    assert len(testbed.s3_files(table.location() + "/data")) == len(before) + 1
