"""Server-side scan planning: with SCAN_PLANNING_MODE 'server', floe asks the catalog for the
files to scan (REST `POST .../plan`, Rustberg's implementation) instead of reading the manifests
itself; every query gives the same rows as client-side planning, over partitioned tables, pushed
filters and delete files. A recording proxy in front of Rustberg shows which way each planned.
Rustberg always plans at once; a proxy turns its plans into the spec's two other shapes (planning
`submitted` and polled, files handed out in `plan-tasks`) to prove floe follows them too."""

from __future__ import annotations

import json
import re
import uuid

import pytest

from tests.catalog_proxy import CatalogProxy, Recorder
from tests.engines import floe_connection
from tests.rows import duckdb_rows


@pytest.fixture()
def tables(rustberg_s3, extension):
    """A namespace with a partitioned table the admin wrote in three commits and then deleted from."""
    namespace = "plan_" + uuid.uuid4().hex[:8]
    admin = rustberg_s3.floe(extension, "admin")
    admin.execute(f"CREATE SCHEMA lake.{namespace}")
    admin.execute(f"CREATE TABLE lake.{namespace}.events (id BIGINT, region VARCHAR, day DATE, amount DECIMAL(10, 2))")
    admin.execute(f"ALTER TABLE lake.{namespace}.events SET PARTITIONED BY (region)")
    for batch in range(3):
        admin.execute(
            f"INSERT INTO lake.{namespace}.events SELECT i, ['eu', 'us', 'apac'][i % 3 + 1], "
            f"DATE '2026-01-01' + (i % 40)::INTEGER, (i * 1.5)::DECIMAL(10, 2) FROM range({batch * 100}, {batch * 100 + 100}) t(i)"
        )
    admin.execute(f"DELETE FROM lake.{namespace}.events WHERE id % 7 = 0")
    yield namespace
    admin.close()


def attach(extension, rustberg_s3, endpoint: str, mode: str):
    con = floe_connection(extension)
    con.execute(rustberg_s3.testbed.s3_secret_sql())
    con.execute(
        f"ATTACH 'rustberg' AS lake (TYPE ICEBERG, ENDPOINT '{endpoint}', WAREHOUSE '{rustberg_s3.warehouse}', "
        f"TOKEN '{rustberg_s3.catalog.api_key}', SCAN_PLANNING_MODE '{mode}')"
    )
    return con


def plans(recorder: Recorder) -> list[dict]:
    return [json.loads(body) for method, path, _, body in recorder.requests if method == "POST" and path.endswith("/plan")]


def scans(namespace: str) -> list[str]:
    """Queries over the table: whole, with pushed filters, aggregated."""
    return [
        f"SELECT * FROM lake.{namespace}.events",
        f"SELECT * FROM lake.{namespace}.events WHERE region = 'eu'",
        f"SELECT id, amount FROM lake.{namespace}.events WHERE day >= DATE '2026-01-20' AND amount < 300",
        f"SELECT region, count(*), sum(amount) FROM lake.{namespace}.events WHERE region IN ('us', 'apac') GROUP BY region",
        f"SELECT * FROM lake.{namespace}.events WHERE id IS NULL",
    ]


def test_the_catalog_plans_and_the_rows_are_the_same(tables, rustberg_s3, extension):
    namespace = tables
    queries = scans(namespace)
    client = attach(extension, rustberg_s3, rustberg_s3.catalog.uri, "client")
    expected = [duckdb_rows(client, sql) for sql in queries]
    assert len(expected[0]) == 300 - len(range(0, 300, 7))
    recorder = Recorder()
    with CatalogProxy(rustberg_s3.catalog.uri, gate=recorder) as proxy:
        server = attach(extension, rustberg_s3, proxy.url, "server")
        for sql, rows in zip(queries, expected):
            assert duckdb_rows(server, sql) == rows, sql
        sent = plans(recorder)
        assert len(sent) >= len(queries)
        # The pushed filters went to the catalog, as the REST spec writes expressions.
        assert {"type": "eq", "term": "region", "value": "eu"} in [p.get("filter") for p in sent]
        assert all(p["snapshot-id"] == sent[0]["snapshot-id"] for p in sent)

        # Client-side planning through the same proxy asks the catalog for no plan.
        recorder.requests.clear()
        again = attach(extension, rustberg_s3, proxy.url, "client")
        assert duckdb_rows(again, queries[1]) == expected[1]
        assert plans(recorder) == []
        again.close()
        server.close()
    client.close()


class DeferredPlans:
    """Rustberg's plans, handed out as an asynchronous catalog would: every other plan is first
    `submitted` (polled twice with GET .../plan/{id}), and each completed plan gives half its
    files at once and the rest in a chain of two plan tasks (POST .../tasks)."""

    def __init__(self) -> None:
        self.plans: dict[str, dict] = {}
        self.planned = 0
        self.polls = 0
        self.task_fetches = 0

    def rewrite(self, method: str, path: str, status: int, body: bytes) -> bytes:
        if method != "POST" or not path.endswith("/plan") or status != 200:
            return body
        key = uuid.uuid4().hex
        self.plans[key] = json.loads(body)
        self.planned += 1
        if self.planned % 2:
            return json.dumps({"status": "submitted", "plan-id": key}).encode()
        return json.dumps(self.completed(key)).encode()

    def completed(self, key: str) -> dict:
        plan = self.plans[key]
        tasks = plan.get("file-scan-tasks", [])
        self.plans[key + "-rest"] = {"file-scan-tasks": tasks[len(tasks) // 2 :], "plan-tasks": [key + "-none"]}
        self.plans[key + "-none"] = {"file-scan-tasks": []}
        return {
            "status": "completed",
            "file-scan-tasks": tasks[: len(tasks) // 2],
            "delete-files": plan.get("delete-files", []),
            "plan-tasks": [key + "-rest"],
        }

    def answer(self, method: str, path: str, body: bytes) -> tuple[int, bytes] | None:
        polled = re.search(r"/plan/([0-9a-f]+)$", path)
        if method == "GET" and polled:
            self.polls += 1
            if self.polls % 2:
                return 200, json.dumps({"status": "submitted"}).encode()
            return 200, json.dumps(self.completed(polled[1])).encode()
        if method == "POST" and path.endswith("/tasks"):
            self.task_fetches += 1
            key = json.loads(body)["plan-task"]
            base = key.rsplit("-", 1)[0]
            part = dict(self.plans[key])
            part["delete-files"] = self.plans[base].get("delete-files", [])
            return 200, json.dumps(part).encode()
        return None


def test_submitted_plans_and_plan_tasks_give_the_same_rows(tables, rustberg_s3, extension):
    queries = scans(tables)
    client = attach(extension, rustberg_s3, rustberg_s3.catalog.uri, "client")
    expected = [duckdb_rows(client, sql) for sql in queries]
    deferred = DeferredPlans()
    with CatalogProxy(rustberg_s3.catalog.uri, rewrite=deferred.rewrite, answer=deferred.answer) as proxy:
        server = attach(extension, rustberg_s3, proxy.url, "server")
        for sql, rows in zip(queries, expected):
            assert duckdb_rows(server, sql) == rows, sql
        server.close()
    client.close()
    assert deferred.planned >= len(queries) and deferred.polls >= 2 and deferred.task_fetches >= 2 * len(queries)


def test_a_bad_mode_is_refused(extension, rustberg_s3):
    con = floe_connection(extension)
    with pytest.raises(Exception, match="Invalid value 'remote' for SCAN_PLANNING_MODE: expected one of 'server', 'client'"):
        con.execute(
            f"ATTACH 'rustberg' AS lake (TYPE ICEBERG, ENDPOINT '{rustberg_s3.catalog.uri}', "
            f"TOKEN '{rustberg_s3.catalog.api_key}', SCAN_PLANNING_MODE 'remote')"
        )
