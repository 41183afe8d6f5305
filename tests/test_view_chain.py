"""A table read through Iceberg views is loaded naming them, outermost first, in the REST spec's
`referenced-by` parameter (each view's namespace and name joined by the unit separator, commas
inside names encoded), so the catalog can decide and audit by the chain. Against Rustberg, which
parses the chain for its audit trail, through a proxy that records each request."""

from __future__ import annotations

import uuid

import pytest

from tests.catalog_proxy import CatalogProxy, Recorder
from tests.engines import floe_connection


@pytest.fixture()
def views(rustberg_s3, extension):
    """Namespace with table `t`, view `inner` over it and view `outer, 1` over that."""
    namespace = "chain_" + uuid.uuid4().hex[:8]
    admin = rustberg_s3.floe(extension, "admin")
    admin.execute(f"CREATE SCHEMA lake.{namespace}")
    admin.execute(f"CREATE TABLE lake.{namespace}.t AS SELECT range AS id FROM range(3)")
    admin.execute(f"CREATE VIEW lake.{namespace}.inner AS SELECT id FROM lake.{namespace}.t WHERE id > 0")
    admin.execute(f'CREATE VIEW lake.{namespace}."outer, 1" AS SELECT id * 10 AS id FROM lake.{namespace}.inner')
    yield namespace
    admin.close()


def table_loads(recorder: Recorder, namespace: str) -> list[str]:
    """The query strings of the loads of table `t`."""
    return [
        query
        for (method, path, _, _), query in zip(recorder.requests, recorder.queries)
        if method == "GET" and path.endswith(f"/namespaces/{namespace}/tables/t")
    ]


def test_a_table_read_through_views_names_the_chain(views, rustberg_s3, extension):
    namespace = views
    recorder = Recorder()
    with CatalogProxy(rustberg_s3.catalog.uri, gate=recorder) as proxy:
        con = floe_connection(extension)
        for statement in rustberg_s3.duckdb_setup_sql(role="admin"):
            con.execute(statement.replace(rustberg_s3.catalog.uri, proxy.url))
        assert sorted(con.execute(f'SELECT * FROM lake.{namespace}."outer, 1"').fetchall()) == [(10,), (20,)]
        assert table_loads(recorder, namespace) == [f"referenced-by={namespace}%1Fouter%2C%201,{namespace}%1Finner&snapshots=refs"]

        recorder.requests.clear()
        recorder.queries.clear()
        assert sorted(con.execute(f"SELECT * FROM lake.{namespace}.inner").fetchall()) == [(1,), (2,)]
        assert table_loads(recorder, namespace) == [f"referenced-by={namespace}%1Finner&snapshots=refs"]

        # Read directly, the table is loaded naming no view, also after a view failed to bind
        # while it was inside it.
        con.execute(f"ALTER TABLE lake.{namespace}.t RENAME COLUMN id TO key")
        with pytest.raises(Exception, match="id"):
            con.execute(f"SELECT * FROM lake.{namespace}.inner").fetchall()
        recorder.requests.clear()
        recorder.queries.clear()
        assert con.execute(f"SELECT count(*) FROM lake.{namespace}.t").fetchall() == [(3,)]
        assert table_loads(recorder, namespace) == ["snapshots=refs"]
        con.close()
