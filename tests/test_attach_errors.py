"""What users see when something is wrong: clear errors naming the object and the fix, no secret
in any message, nothing attached. And the transport: TLS to the catalog works."""

from __future__ import annotations

import os
import time

import duckdb
import pytest

from tests.testbed import Testbed
from tests.catalog_proxy import CatalogProxy


def attach_sql(bed: Testbed, secret: str, endpoint: str | None = None) -> str:
    return (
        f"ATTACH '{bed.warehouse}' AS lake (TYPE ICEBERG, ENDPOINT '{endpoint or bed.catalog_uri}', "
        f"CLIENT_ID '{bed.client_id}', CLIENT_SECRET '{secret}')"
    )


def test_wrong_credentials_never_show_the_secret(extension, testbed):
    from tests.engines import floe_connection

    con = floe_connection(extension)
    wrong = "wrong-secret-" + testbed.client_secret[-6:]
    with pytest.raises(duckdb.Error) as raised:
        con.execute(attach_sql(testbed, wrong))
    message = str(raised.value)
    assert "refused client" in message
    assert wrong not in message and testbed.client_secret not in message
    assert con.execute("SELECT count(*) FROM duckdb_databases() WHERE database_name = 'lake'").fetchone() == (0,)


def test_secrets_stay_out_of_duckdb_secrets(floe, testbed):
    rows = floe.execute("SELECT secret_string FROM duckdb_secrets()").fetchall()
    assert rows, "the test bed's secrets are registered"
    for (text,) in rows:
        assert testbed.client_secret not in text


def test_catalog_going_down_mid_session_is_reported(extension, tmp_path):
    from tests.engines import floe_connection

    with Testbed(tmp_path) as bed:
        con = floe_connection(extension)
        for statement in bed.duckdb_setup_sql():
            con.execute(statement)
        bed.pyiceberg_catalog().create_namespace("gone")
        assert con.execute("SELECT schema_name FROM duckdb_schemas() WHERE database_name = 'lake'").fetchall()
        bed.kill()
        started = time.monotonic()
        with pytest.raises(duckdb.Error) as raised:
            con.execute("SELECT * FROM lake.gone.anything")
        message = str(raised.value)
        assert "Iceberg catalog 'lake'" in message, message
        assert "check that the catalog is running" in message or "connection refused" in message, message
        assert bed.client_secret not in message
        # Bounded retries: a dead catalog is reported in seconds, not minutes.
        assert time.monotonic() - started < 10


def test_https_catalog(extension, testbed, tmp_path, monkeypatch):
    from tests.engines import floe_connection

    with CatalogProxy(testbed.catalog_uri, tls_dir=tmp_path) as proxy:
        # rustls reads the trusted roots from SSL_CERT_FILE when the client is built (at ATTACH).
        monkeypatch.setenv("SSL_CERT_FILE", str(proxy.ca_file))
        con = floe_connection(extension)
        con.execute(
            f"ATTACH '{testbed.warehouse}' AS lake (TYPE ICEBERG, ENDPOINT '{proxy.url}', "
            f"CLIENT_ID '{testbed.client_id}', CLIENT_SECRET '{testbed.client_secret}', "
            f"OAUTH2_SERVER_URI '{proxy.url}/v1/oauth/tokens')"
        )
        testbed.pyiceberg_catalog().create_namespace_if_not_exists("tls")
        names = [row[0] for row in con.execute("SELECT schema_name FROM duckdb_schemas() WHERE database_name = 'lake'").fetchall()]
        assert "tls" in names
        # Without the CA the certificate is refused.
        monkeypatch.delenv("SSL_CERT_FILE")
        other = floe_connection(extension)
        with pytest.raises(duckdb.Error) as raised:
            other.execute(
                f"ATTACH '{testbed.warehouse}' AS lake (TYPE ICEBERG, ENDPOINT '{proxy.url}', TOKEN 't')"
            )
        assert "certificate" in str(raised.value).lower() or "tls" in str(raised.value).lower(), str(raised.value)
