"""floe on Google Cloud Storage and Azure, each an emulator on loopback with Rustberg's warehouse
on it; the storage properties reach floe in LoadTable's `config`, as a vending catalog hands them
over (tests/cloud_beds.py), or, from Rustberg itself, which vends nothing, in the user's DuckDB
secret (`TYPE gcs`, `TYPE azure`). floe writes data files through its own storage and commits
them through Rustberg, which writes the table metadata onto the same emulator.
"""

from __future__ import annotations

import re
import secrets

import duckdb
import pyarrow as pa
import pytest

from tests.cloud_beds import CloudBed

ROWS = pa.table({"id": pa.array([1, 2, 3], pa.int64()), "name": ["a", "b", "c"], "amount": [1.5, 2.5, None]})


@pytest.fixture()
def table(cloud_bed: CloudBed) -> str:
    """A table of its own for each test, written by PyIceberg."""
    identifier = f"floe.t_{secrets.token_hex(3)}"
    cloud_bed.create_table(identifier, ROWS)
    return identifier


def test_floe_reads_a_table_pyiceberg_wrote(extension, cloud_bed, table):
    con = cloud_bed.floe(extension)
    assert sorted(con.execute(f"SELECT id, name, amount FROM lake.{table}").fetchall()) == cloud_bed.pyiceberg_rows(table)
    assert con.execute("SELECT count(*) FROM duckdb_secrets() WHERE type <> 'iceberg'").fetchone()[0] == 0


def test_floe_inserts_and_ctases_and_pyiceberg_reads_them_back(extension, cloud_bed: CloudBed):
    identifier = f"floe.t_{secrets.token_hex(3)}"
    location = cloud_bed.create_table(identifier, ROWS)
    copy = f"{identifier}_copy"
    con = cloud_bed.floe(extension)
    con.execute(f"INSERT INTO lake.{identifier} VALUES (4, 'd', 4.5)")
    con.execute(f"CREATE TABLE lake.{copy} AS SELECT id * 10 AS id, name, amount FROM lake.{identifier}")

    assert cloud_bed.pyiceberg_rows(identifier) == [(1, "a", 1.5), (2, "b", 2.5), (3, "c", None), (4, "d", 4.5)]
    assert cloud_bed.pyiceberg_rows(copy) == [(10, "a", 1.5), (20, "b", 2.5), (30, "c", None), (40, "d", 4.5)]
    # Every data file the catalog's metadata names is in the bucket (container), under its
    # table's location.
    catalog = cloud_bed.pyiceberg_catalog()
    for name, where in ((identifier, location), (copy, catalog.load_table(copy).location())):
        files = catalog.load_table(name).inspect.files().column("file_path").to_pylist()
        assert files and all(path.startswith(where + "/") for path in files), files
        assert set(files) <= set(cloud_bed.files(where)), files


def test_a_bucket_missing_from_the_vended_store_is_named(extension, cloud_bed, table):
    with cloud_bed.vending_an_empty_store() as proxy:
        con = cloud_bed.floe(extension, endpoint=proxy.url)
        with pytest.raises(duckdb.Error) as failure:
            con.execute(f"SELECT count(*) FROM lake.{table}").fetchall()
    message = str(failure.value)
    assert cloud_bed.bucket in message and table in message, message
    assert cloud_bed.bucket_kind in message.lower(), message
    assert re.search(r"not found|does not exist|no such", message, re.IGNORECASE), message
    for secret in cloud_bed.secrets():
        assert secret not in message


def test_a_catalog_vending_nothing_takes_the_users_duckdb_secret(extension, cloud_bed: CloudBed):
    """Attached to Rustberg itself, floe has no credentials and no address for the emulator until
    the user's secret gives both; the error before it says which CREATE SECRET is missing, and the
    secret's credential shows nowhere."""
    identifier = f"floe.t_{secrets.token_hex(3)}"
    location = cloud_bed.create_table(identifier, ROWS)
    assert cloud_bed.load_table_config(identifier, uri=cloud_bed.catalog.uri) == {}
    con = cloud_bed.floe(extension, endpoint=cloud_bed.catalog.uri)
    with pytest.raises(duckdb.Error) as failure:
        con.execute(f"SELECT count(*) FROM lake.{identifier}").fetchall()
    kind = "gcs" if location.startswith("gs://") else "azure"
    assert f"CREATE SECRET (TYPE {kind}, " in str(failure.value), failure.value
    assert identifier in str(failure.value), failure.value

    con.execute(cloud_bed.user_secret_sql("mine"))
    assert sorted(con.execute(f"SELECT id, name, amount FROM lake.{identifier}").fetchall()) == cloud_bed.pyiceberg_rows(identifier)
    con.execute(f"INSERT INTO lake.{identifier} VALUES (4, 'd', 4.5)")
    assert cloud_bed.pyiceberg_rows(identifier) == [(1, "a", 1.5), (2, "b", 2.5), (3, "c", None), (4, "d", 4.5)]
    files = cloud_bed.pyiceberg_catalog().load_table(identifier).inspect.files().column("file_path").to_pylist()
    assert set(files) <= set(cloud_bed.files(location)), files

    shown = str(con.execute("SELECT * FROM duckdb_secrets()").fetchall())
    assert "mine" in shown and "redacted" in shown, shown
    for secret in cloud_bed.secrets():
        assert secret not in shown
