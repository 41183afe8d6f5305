"""SigV4: a catalog behind AWS IAM. floe signs every catalog request with AWS Signature Version 4;
a gate in front of the test bed's catalog (tests/sigv4_gate.py) recomputes each signature with
botocore and forwards only the valid ones. Credentials come from a DuckDB S3 secret, the
environment, the shared AWS files or the platform file; none of them shows in an error or in
duckdb_secrets()."""

from __future__ import annotations

import secrets

import duckdb
import pytest

from tests.catalog_proxy import CatalogProxy
from tests.engines import floe_connection
from tests.rows import pyiceberg_rows
from tests.sigv4_gate import SigV4Gate

REGION = "eu-west-1"
KEY = "AKIAFLOE" + secrets.token_hex(6).upper()
SECRET = secrets.token_urlsafe(30)


@pytest.fixture(scope="module")
def gate(testbed) -> SigV4Gate:
    return SigV4Gate({KEY: SECRET}, REGION, "execute-api", testbed.token)


@pytest.fixture(scope="module")
def proxy(testbed, gate):
    with CatalogProxy(testbed.catalog_uri, gate=gate) as proxy:
        yield proxy


@pytest.fixture()
def con(extension, testbed):
    con = floe_connection(extension)
    # Storage keys for the tables' files, scoped to the buckets as usual.
    con.execute(testbed.s3_secret_sql())
    yield con
    con.close()


def attach(con, testbed, proxy, options: str = "") -> None:
    con.execute(
        f"ATTACH '{testbed.warehouse}' AS lake (TYPE ICEBERG, ENDPOINT '{proxy.url}', AUTHORIZATION_TYPE 'sigv4'"
        f"{', ' + options if options else ''})"
    )


def test_signed_requests_read_and_write(con, testbed, proxy, gate, catalog):
    con.execute(f"CREATE SECRET aws (TYPE s3, KEY_ID '{KEY}', SECRET '{SECRET}', REGION '{REGION}', SCOPE '{proxy.url}')")
    accepted, refused = len(gate.accepted), len(gate.refused)
    attach(con, testbed, proxy, "SECRET aws")
    con.execute("CREATE SCHEMA IF NOT EXISTS lake.sigv4")
    con.execute("CREATE OR REPLACE TABLE lake.sigv4.t AS SELECT range AS id, 'v' || range AS v FROM range(5)")
    con.execute("INSERT INTO lake.sigv4.t VALUES (5, 'v5')")
    con.execute("DELETE FROM lake.sigv4.t WHERE id = 0")
    expected = [(i, f"v{i}") for i in range(1, 6)]
    assert con.execute("SELECT * FROM lake.sigv4.t ORDER BY id").fetchall() == expected
    assert pyiceberg_rows(catalog, "sigv4.t") == expected
    # Every request was signed, and botocore agreed with every signature.
    assert len(gate.accepted) - accepted >= 6 and set(gate.accepted[accepted:]) == {KEY}
    assert gate.refused[refused:] == []
    shown = str(con.execute("SELECT * FROM duckdb_secrets()").fetchall())
    assert SECRET not in shown


def test_a_wrong_secret_is_refused_and_named_without_it(con, testbed, proxy, gate):
    wrong = secrets.token_urlsafe(30)
    con.execute(f"CREATE SECRET aws (TYPE s3, KEY_ID '{KEY}', SECRET '{wrong}', REGION '{REGION}', SCOPE '{proxy.url}')")
    refused = len(gate.refused)
    with pytest.raises(duckdb.Error) as failure:
        attach(con, testbed, proxy, "SECRET aws")
    message = str(failure.value)
    assert f"as AWS access key '{KEY}' (S3 secret 'aws')" in message, message
    assert "signature" in message and "Fix: check the AWS credentials of S3 secret 'aws'" in message, message
    assert wrong not in message and SECRET not in message
    assert gate.refused[refused:] and all(r == "signature does not match" for r in gate.refused[refused:])


def test_credentials_from_the_environment_and_the_aws_files(con, testbed, proxy, gate, monkeypatch, tmp_path):
    # No S3 secret is scoped to the catalog: the environment's keys sign.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_REGION", REGION)
    accepted = len(gate.accepted)
    attach(con, testbed, proxy)
    assert con.execute("SELECT count(*) FROM duckdb_schemas() WHERE database_name = 'lake'").fetchone()[0] >= 1
    assert len(gate.accepted) > accepted
    con.execute("DETACH lake")

    # A profile of the shared credentials file, its region from the config file.
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"):
        monkeypatch.delenv(name)
    (tmp_path / "credentials").write_text(f"[default]\naws_access_key_id = AKIAOTHER\naws_secret_access_key = x\n\n[etl]\naws_access_key_id = {KEY}\naws_secret_access_key = {SECRET}\n")
    (tmp_path / "config").write_text(f"[profile etl]\nregion = {REGION}\n")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_PROFILE", "etl")
    accepted = len(gate.accepted)
    attach(con, testbed, proxy)
    assert con.execute("SELECT count(*) FROM duckdb_schemas() WHERE database_name = 'lake'").fetchone()[0] >= 1
    assert set(gate.accepted[accepted:]) == {KEY}


def test_a_platform_file_signs_with_referenced_keys(extension, testbed, proxy, gate, tmp_path, monkeypatch):
    (tmp_path / "aws-secret").write_text(SECRET)
    platform = tmp_path / "platform.yaml"
    platform.write_text(
        f"catalogs:\n  aws:\n    uri: {proxy.url}\n    warehouse: {testbed.warehouse}\n"
        f"    credentials:\n      mode: sigv4\n      access_key_id: {KEY}\n"
        f"      secret_access_key: {{ secret_ref: aws-secret }}\n      region: {REGION}\n"
        f"secrets:\n  dir: {tmp_path}\n"
    )
    con = floe_connection(extension)
    accepted = len(gate.accepted)
    con.execute(f"ATTACH '' AS lake (TYPE ICEBERG, PLATFORM '{platform}', CATALOG 'aws')")
    assert con.execute("SELECT count(*) FROM duckdb_schemas() WHERE database_name = 'lake'").fetchone()[0] >= 1
    assert set(gate.accepted[accepted:]) == {KEY}
    con.close()


def test_aws_endpoint_types(con):
    # Offline, so nothing answers; what matters is where floe went and how it signed.
    con.execute(f"CREATE SECRET aws (TYPE s3, KEY_ID '{KEY}', SECRET '{SECRET}', REGION '{REGION}')")
    for kind, host in (("glue", "glue"), ("s3_tables", "s3tables")):
        with pytest.raises(duckdb.Error) as failure:
            con.execute(
                f"ATTACH '123456789012' AS g (TYPE ICEBERG, ENDPOINT_TYPE '{kind}', SECRET aws, "
                "CONNECT_TIMEOUT 2, REQUEST_TIMEOUT 3)"
            )
        message = str(failure.value)
        assert f"https://{host}.{REGION}.amazonaws.com/iceberg" in message, message
        assert SECRET not in message
    with pytest.raises(duckdb.Error, match="ENDPOINT_TYPE 'glue' sets the endpoint and SigV4 signing itself"):
        con.execute("ATTACH 'x' AS g (TYPE ICEBERG, ENDPOINT_TYPE 'glue', ENDPOINT 'http://127.0.0.1:1', SECRET aws)")
    # A secret of the wrong type.
    con.execute("CREATE SECRET ice (TYPE iceberg, TOKEN 't')")
    with pytest.raises(duckdb.Error, match="Secret 'ice' is of type 'iceberg'; SigV4 signing .* takes a secret of TYPE s3"):
        con.execute("ATTACH 'x' AS g (TYPE ICEBERG, ENDPOINT 'http://127.0.0.1:1', AUTHORIZATION_TYPE 'sigv4', SECRET ice)")
