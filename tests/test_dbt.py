"""dbt end to end, against each catalog of the test bed (SeaweedFS with OAuth2 and a warehouse
name, Rustberg with an API key and a warehouse location): the floe_dbt plugin attaches the
platform's catalog without a credential in dbt's hands, `dbt build` runs twice (seeds, views,
tables, an incremental model), PyIceberg checks what landed, tables and views, and nothing dbt or
DuckDB wrote holds a secret."""

from __future__ import annotations

import csv
import json
import secrets
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import floe_dbt
import pytest

from tests.both_catalogs import BOTH_CATALOGS
from tests.dbt_runner import PROJECT, DbtProject, prepare
from tests.rustberg_s3 import RustbergOnS3
from tests.testbed import Testbed


@pytest.fixture(scope="module")
def schema() -> str:
    return "e2e_" + secrets.token_hex(3)


@pytest.fixture(scope="module")
def project(catalog_bed: Testbed | RustbergOnS3, tmp_path_factory, schema: str) -> DbtProject:
    return prepare(catalog_bed, tmp_path_factory.mktemp("dbt"), schema)


@pytest.fixture(scope="module")
def builds(project: DbtProject, catalog, schema: str) -> dict:
    """`dbt build` twice; the table's identity after the first run, for the second to keep."""
    first = project.run("build")
    assert first.returncode == 0, first.output
    after_first = catalog.load_table(f"{schema}_marts.customer_revenue").metadata
    second = project.run("build")
    assert second.returncode == 0, second.output
    print(f"dbt build: first run {first.seconds:.2f} s, second run {second.seconds:.2f} s")
    results = json.loads((project.dir / "target" / "run_results.json").read_text())
    return {
        "first": first,
        "second": second,
        "revenue_uuid": after_first.table_uuid,
        "invocation_id": results["metadata"]["invocation_id"],
    }


def rows_of(name: str) -> list[dict[str, str]]:
    with open(PROJECT / "seeds" / f"{name}.csv") as f:
        return list(csv.DictReader(f))


@BOTH_CATALOGS
def test_models_land_in_the_catalog(builds, catalog, schema):
    orders, customers = rows_of("raw_orders"), rows_of("raw_customers")

    # Seeds: truncated and reloaded on the second run, in one commit.
    raw = catalog.load_table(f"{schema}_raw.raw_orders")
    assert raw.scan().to_arrow().num_rows == len(orders)
    assert raw.current_snapshot().summary.operation.value == "overwrite"

    # The table model: rebuilt by dbt's rename swap, the same Iceberg table with its history.
    revenue = catalog.load_table(f"{schema}_marts.customer_revenue")
    assert revenue.metadata.table_uuid == builds["revenue_uuid"]
    assert len(revenue.metadata.snapshots) >= 2
    expected = {}
    for order in orders:
        c = expected.setdefault(int(order["customer_id"]), [0, Decimal(0)])
        c[0] += 1
        c[1] += Decimal(order["amount"])
    got = {r["customer_id"]: [r["orders"], r["revenue"]] for r in revenue.scan().to_arrow().to_pylist()}
    assert got == expected
    regions = {r["customer_id"]: r["region"] for r in revenue.scan().to_arrow().to_pylist()}
    assert regions == {int(c["customer_id"]): c["region"].upper() for c in customers}

    # The incremental model appended once per run.
    log = catalog.load_table(f"{schema}_marts.orders_log").scan().to_arrow()
    assert log.num_rows == 2 * len(orders)
    assert len(set(log.column("run_id").to_pylist())) == 2

    # dbt's intermediate and backup relations are gone.
    for namespace in (f"{schema}_marts", f"{schema}_raw", f"{schema}_staging"):
        names = [name for _, name in catalog.list_tables(namespace)]
        assert not [n for n in names if "__dbt" in n], names


@BOTH_CATALOGS
def test_snapshots_name_the_model_the_run_and_what_it_read(builds, catalog, schema):
    # Lineage in the catalog: the model from dbt's query comment, the run from the plugin, the
    # tables read through the staging views at the snapshots read (the seeds' latest).
    raw = {name: catalog.load_table(f"{schema}_raw.{name}").metadata.current_snapshot_id for name in ("raw_customers", "raw_orders")}
    for model in ("customer_revenue", "orders_log"):
        summary = catalog.load_table(f"{schema}_marts.{model}").current_snapshot().summary
        assert summary["dbt.node-id"] == f"model.floe_e2e.{model}"
        assert summary["dbt.invocation-id"] == builds["invocation_id"]
    summary = catalog.load_table(f"{schema}_marts.customer_revenue").current_snapshot().summary
    assert json.loads(summary["floe.read-tables"]) == [
        {"table": f"{schema}_raw.{name}", "snapshot-id": raw[name]} for name in sorted(raw)
    ]
    # The incremental model's first run was another invocation.
    log = catalog.load_table(f"{schema}_marts.orders_log")
    ids = {s.summary["dbt.invocation-id"] for s in log.snapshots()}
    assert len(ids) == 2 and builds["invocation_id"] in ids


@BOTH_CATALOGS
def test_governance_meta_becomes_table_properties(builds, catalog, schema):
    properties = catalog.load_table(f"{schema}_marts.customer_revenue").properties
    assert properties["classification"] == "confidential"
    assert properties["owner"] == "finance"
    assert properties["domain"] == "sales"  # listed by the platform file
    assert "internal_note" not in properties  # not a governance key
    assert catalog.load_table(f"{schema}_marts.orders_log").properties["owner"] == "ops"


def views_api(bed: Testbed | RustbergOnS3, path: str) -> dict:
    """GET `path` of the catalog's views API (after `/v1/` and the prefix), as its admin."""
    if isinstance(bed, RustbergOnS3):
        return json.loads(bed.catalog.get(f"/v1/{path}"))
    return json.loads(bed._get(f"{bed.catalog_uri}/v1/{bed.warehouse}/{path}", bed.token()))


@BOTH_CATALOGS
def test_views_are_iceberg_views(builds, project: DbtProject, catalog_bed, extension, schema, monkeypatch):
    namespace = f"{schema}_staging"
    listed = views_api(catalog_bed, f"namespaces/{namespace}/views")["identifiers"]
    assert sorted(v["name"] for v in listed) == ["stg_customers", "stg_orders"]
    view = views_api(catalog_bed, f"namespaces/{namespace}/views/stg_orders")["metadata"]
    current = next(v for v in view["versions"] if v["version-id"] == view["current-version-id"])
    (representation,) = current["representations"]
    assert representation["dialect"] == "duckdb"
    assert "raw_orders" in representation["sql"]
    assert current["summary"]["engine-name"] == "floe"
    # Governance reaches views too.
    assert view["properties"]["owner"] == "staging-team"
    assert view["properties"]["classification"] == "internal"

    # Read back by a fresh DuckDB through floe, attached from the platform file as dbt does.
    for key, value in project.env.items():
        monkeypatch.setenv(key, value)
    con = duckdb.connect(config={"allow_unsigned_extensions": "true"})
    con.execute(f"LOAD '{extension}'")
    platform = project.env["FLOE_PLATFORM_FILE"]
    con.execute(f"ATTACH '' AS lake (TYPE ICEBERG, PLATFORM '{platform}', CATALOG 'default')")
    count = con.execute(f"SELECT count(*) FROM lake.{namespace}.stg_orders").fetchone()[0]
    assert count == len(rows_of("raw_orders"))
    assert con.execute(f"SELECT max(region) FROM lake.{namespace}.stg_customers").fetchone()[0] == "EMEA"
    kinds = con.execute(
        f"SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = '{namespace}' ORDER BY 1"
    ).fetchall()
    assert kinds == [("stg_customers", "VIEW"), ("stg_orders", "VIEW")]
    secrets_text = json.dumps(con.execute("SELECT * FROM duckdb_secrets()").fetchall(), default=str)
    for secret in project.secrets:
        assert secret not in secrets_text


@BOTH_CATALOGS
def test_no_secret_in_anything_dbt_wrote(builds, project: DbtProject):
    written = [builds["first"].output, builds["second"].output]
    files = project.written_files()
    assert any(p.name == "dbt.log" for p in files), [str(p) for p in files]
    for path in files:
        written.append(path.read_bytes().decode("utf-8", "replace"))
    assert project.secrets
    for secret in project.secrets:
        hits = sum(text.count(secret) for text in written)
        assert hits == 0, f"a secret appears {hits} times in dbt's output or files"
    # The profile and every SQL statement dbt sent name no credential either.
    assert "secret" not in (project.dir / "profiles.yml").read_text().lower()


@BOTH_CATALOGS
def test_guard_refuses_models_that_bypass_the_catalog(builds, project: DbtProject, catalog, schema):
    before = catalog.load_table(f"{schema}_marts.customer_revenue").metadata.current_snapshot_id
    run = project.run("build", "--vars", "{bypass: true}")
    assert run.returncode != 0
    assert "would write around the Iceberg catalog" in run.output, run.output
    assert "model.floe_e2e.export_to_bucket: materialized='external' writes to s3://raw/exports/orders.parquet" in run.output
    assert "model.floe_e2e.pinned_location: config 'location' hard-codes the storage location s3://raw/pinned/" in run.output
    assert "model.floe_e2e.pinned_location: config 's3_endpoint' hard-codes a storage endpoint" in run.output
    # Refused before any model ran: nothing changed.
    assert catalog.load_table(f"{schema}_marts.customer_revenue").metadata.current_snapshot_id == before
    names = [name for _, name in catalog.list_tables(f"{schema}_marts")]
    assert "pinned_location" not in names


@BOTH_CATALOGS
def test_unresolvable_reference_fails_before_dbt_runs(project: DbtProject):
    env = dict(project.env)
    del env["S3_KEY_ID"]
    broken = DbtProject(project.dir, env, project.secrets)
    run = broken.run("debug")
    assert run.returncode != 0
    assert "catalogs.default.storage.s3.access_key_id refers to secret 's3-key-id', which is not set" in run.output
    assert "Fix: export S3_KEY_ID=... or create the file" in run.output
    for secret in project.secrets:
        assert secret not in run.output


def test_platform_attach_keeps_credentials_out_of_sql(extension, testbed, tmp_path):
    platform = tmp_path / "platform.yaml"
    platform.write_text(
        "catalogs:\n  default:\n    uri: " + testbed.catalog_uri + "\n    warehouse: " + testbed.warehouse + "\n"
        "    credentials:\n      mode: oauth2\n      client_id: " + testbed.client_id + "\n"
        "      client_secret: { secret_ref: lake-secret }\n"
        f"secrets:\n  dir: {tmp_path}\n"
    )
    con = duckdb.connect(config={"allow_unsigned_extensions": "true"})
    con.execute(f"LOAD '{extension}'")
    # A wrong secret: a clear error that does not echo it.
    (tmp_path / "lake-secret").write_text("wrong-" + testbed.client_secret)
    with pytest.raises(duckdb.Error) as failure:
        con.execute(f"ATTACH '' AS lake (TYPE ICEBERG, PLATFORM '{platform}')")
    assert "Cannot attach Iceberg catalog" in str(failure.value)
    assert testbed.client_secret not in str(failure.value)
    # Credentials typed into SQL next to PLATFORM are refused, not used.
    with pytest.raises(duckdb.Error, match="CLIENT_SECRET cannot be combined with PLATFORM"):
        con.execute(f"ATTACH '' AS lake (TYPE ICEBERG, PLATFORM '{platform}', CLIENT_SECRET 'x')")
    (tmp_path / "lake-secret").write_text(testbed.client_secret)
    con.execute(f"ATTACH '' AS lake (TYPE ICEBERG, PLATFORM '{platform}')")
    assert con.execute("SELECT count(*) FROM duckdb_schemas() WHERE database_name = 'lake'").fetchone()[0] >= 1


def test_package_imports_without_dbt(tmp_path):
    # The non-plugin API works where dbt is not installed; the plugin says what it needs.
    code = (
        "import sys; sys.modules['dbt'] = None\n"
        "import floe_dbt\n"
        "assert floe_dbt.extension_path().stat().st_size > 1_000_000\n"
        "assert '" + duckdb.__version__ + "' in floe_dbt.duckdb_versions()\n"
        "try:\n    floe_dbt.Plugin\nexcept ImportError:\n    print('plugin needs dbt')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "plugin needs dbt"
    assert Path(floe_dbt.__file__).with_name("_native.pyi").exists()
