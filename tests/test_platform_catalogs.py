"""Polaris and Unity Catalog as platform-file catalog types: what floe sends them, recorded by a
proxy in front of the test bed's catalog that stands in for each (the REST API is the same; the
shapes around it differ): Polaris' realm header and default scope, Unity's REST root under the
workspace URL, its personal access tokens and its OAuth machine-to-machine token endpoint."""

from __future__ import annotations

import urllib.parse

import pytest

from tests.catalog_proxy import CatalogProxy, Recorder
from tests.engines import floe_connection

UNITY_ROOT = "/api/2.1/unity-catalog/iceberg-rest"


def token_requests(recorder: Recorder) -> list[dict[str, list[str]]]:
    """The forms of the token requests the recorder saw."""
    return [
        urllib.parse.parse_qs(body.decode())
        for _, path, _, body in recorder.requests
        if path.endswith(("/token", "/tokens"))
    ]


def platform(tmp_path, testbed, catalog: str) -> str:
    (tmp_path / "client-secret").write_text(testbed.client_secret)
    (tmp_path / "pat").write_text(testbed.token())
    path = tmp_path / "platform.yaml"
    path.write_text(catalog + f"secrets:\n  dir: {tmp_path}\n")
    return str(path)


def use(extension, testbed, platform_file: str, name: str) -> None:
    con = floe_connection(extension)
    con.execute(testbed.s3_secret_sql())
    con.execute(f"ATTACH '' AS lake (TYPE ICEBERG, PLATFORM '{platform_file}', CATALOG '{name}')")
    con.execute("CREATE SCHEMA IF NOT EXISTS lake.platform_types")
    con.execute(f"CREATE OR REPLACE TABLE lake.platform_types.{name} AS SELECT 42 AS answer")
    assert con.execute(f"SELECT answer FROM lake.platform_types.{name}").fetchall() == [(42,)]
    con.close()


def test_polaris_realm_scope_and_delegation(extension, testbed, tmp_path):
    recorder = Recorder()
    with CatalogProxy(testbed.catalog_uri, gate=recorder) as proxy:
        file = platform(
            tmp_path,
            testbed,
            f"catalogs:\n  polaris:\n    type: polaris\n    uri: {proxy.url}\n    warehouse: {testbed.warehouse}\n"
            "    realm: floe-realm\n"
            f"    credentials:\n      mode: oauth2\n      client_id: {testbed.client_id}\n"
            "      client_secret: { secret_ref: client-secret }\n",
        )
        use(extension, testbed, file, "polaris")
    assert recorder.requests
    # The realm on every request, the token's included.
    assert {headers.get("Polaris-Realm") for _, _, headers, _ in recorder.requests} == {"floe-realm"}
    (token,) = token_requests(recorder)[:1]
    assert token["scope"] == ["PRINCIPAL_ROLE:ALL"] and token["grant_type"] == ["client_credentials"]
    loads = [h for m, p, h, _ in recorder.requests if m == "GET" and "/tables/" in p]
    assert loads and all(h.get("X-Iceberg-Access-Delegation") == "vended-credentials" for h in loads)


@pytest.mark.parametrize("credentials", ["pat", "oauth-m2m"])
def test_unity_rest_root_and_credentials(extension, testbed, tmp_path, credentials):
    recorder = Recorder()

    def route(path: str) -> str | None:
        # The workspace: Unity's Iceberg REST root, and its OAuth token endpoint.
        if path.startswith(UNITY_ROOT + "/"):
            return path.removeprefix(UNITY_ROOT)
        return "/v1/oauth/tokens" if path == "/oidc/v1/token" else None

    with CatalogProxy(testbed.catalog_uri, gate=recorder, route=route) as proxy:
        if credentials == "pat":
            block = "      mode: token\n      token: { secret_ref: pat }\n"
        else:
            block = f"      mode: oauth2\n      client_id: {testbed.client_id}\n      client_secret: {{ secret_ref: client-secret }}\n"
        file = platform(
            tmp_path,
            testbed,
            f"catalogs:\n  unity:\n    type: unity\n    uri: {proxy.url}/\n    warehouse: {testbed.warehouse}\n"
            f"    credentials:\n{block}",
        )
        use(extension, testbed, file, "unity")
    paths = [path for _, path, _, _ in recorder.requests]
    catalog_paths = [p for p in paths if p != "/oidc/v1/token"]
    assert catalog_paths and all(p.startswith(UNITY_ROOT + "/v1/") for p in catalog_paths), catalog_paths
    if credentials == "pat":
        pat = (tmp_path / "pat").read_text()
        assert {h.get("Authorization") for _, p, h, _ in recorder.requests} == {f"Bearer {pat}"}
        assert "/oidc/v1/token" not in paths
    else:
        (token,) = token_requests(recorder)[:1]
        assert token["scope"] == ["all-apis"] and token["client_id"] == [testbed.client_id]
