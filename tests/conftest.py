"""Session fixtures: one test bed (SeaweedFS) and one set of reference tables for all tests."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterator

import duckdb
import pytest

from tests import datasets
from tests.cloud_beds import AzureBed, CloudBed, GcsBed
from tests.engines import floe_connection, official_connection
from tests.reference_engine import ReferenceEngine
from tests.rustberg_s3 import RustbergOnS3
from tests.testbed import Testbed

ROOT = Path(__file__).resolve().parent.parent


def pytest_report_header() -> list[str]:
    """The DuckDB of each engine: floe's in this process, the official extension's in its own."""
    try:
        with ReferenceEngine() as reference:
            official = f"official iceberg extension on DuckDB {reference.version}"
    except RuntimeError as err:
        official = f"official iceberg extension unavailable: {err}"
    return [f"engines: floe on DuckDB {duckdb.__version__} (this process); {official} (reference engine process)"]


@pytest.fixture(scope="session")
def extension() -> str:
    path = os.environ.get("FLOE_EXTENSION", str(ROOT / "build" / "floe.duckdb_extension"))
    if not Path(path).exists():
        pytest.fail(f"{path} does not exist: run `make` first (or make test)")
    return path


@pytest.fixture(scope="session")
def testbed() -> Iterator[Testbed]:
    with Testbed() as bed:
        yield bed


@pytest.fixture(scope="session")
def gcs_bed() -> Iterator[GcsBed]:
    """Rustberg with its warehouse on fake-gcs-server (tests/cloud_beds.py)."""
    with GcsBed() as bed:
        yield bed


@pytest.fixture(scope="session")
def azure_bed() -> Iterator[AzureBed]:
    """Rustberg with its warehouse on Azurite (tests/cloud_beds.py)."""
    with AzureBed() as bed:
        yield bed


@pytest.fixture(scope="session")
def rustberg_s3(testbed: Testbed, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RustbergOnS3]:
    """Rustberg (API keys for an admin, a writer and a reader) with its warehouse on the test
    bed's S3 (tests/rustberg_s3.py)."""
    with RustbergOnS3(testbed, tmp_path_factory.mktemp("rustberg-s3")) as bed:
        yield bed


@pytest.fixture(params=["gcs", "azure"])
def cloud_bed(request: pytest.FixtureRequest) -> CloudBed:
    """Each of the two beds in turn."""
    return request.getfixturevalue(f"{request.param}_bed")


@pytest.fixture(scope="session")
def catalog_bed(request: pytest.FixtureRequest, testbed: Testbed) -> Testbed | RustbergOnS3:
    """The catalog `floe`, `catalog` and `official` attach: the test bed's SeaweedFS, or each of
    SeaweedFS and Rustberg where a suite asks for both (tests/both_catalogs.py)."""
    name = getattr(request, "param", "seaweedfs")
    return testbed if name == "seaweedfs" else request.getfixturevalue("rustberg_s3")


@pytest.fixture(scope="session")
def catalog(catalog_bed: Testbed | RustbergOnS3):
    return catalog_bed.pyiceberg_catalog()


@pytest.fixture(scope="session")
def official(catalog_bed: Testbed | RustbergOnS3) -> Iterator[ReferenceEngine]:
    """DuckDB with the official iceberg extension, the second independent engine, in a process of
    its own (tests/reference_engine.py): the official iceberg extension on DuckDB 1.5.5."""
    con = official_connection()
    con.execute("SET TimeZone = 'UTC'")
    for statement in catalog_bed.official_setup_sql():
        con.execute(statement)
    yield con
    con.close()


@pytest.fixture(scope="session")
def reference(catalog, official) -> dict[str, Any]:
    return datasets.create_all(catalog, "ref", lambda sql: official.execute(sql))


@pytest.fixture()
def floe(extension: str, catalog_bed: Testbed | RustbergOnS3) -> Iterator[duckdb.DuckDBPyConnection]:
    """A fresh DuckDB connection with floe loaded and the catalog of `catalog_bed` attached as `lake`."""
    con = floe_connection(extension)
    con.execute("SET TimeZone = 'UTC'")
    for statement in catalog_bed.duckdb_setup_sql():
        con.execute(statement)
    yield con
    con.close()
