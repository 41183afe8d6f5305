"""The test bed: a real Iceberg REST catalog and a real S3 server (SeaweedFS, one `weed`
process) on free loopback ports, with fresh random credentials for every run.

    with Testbed() as bed:
        catalog = bed.pyiceberg_catalog()

`python -m tests.testbed serve [--seed]` starts one for a shell (printing `export` lines for its
settings) and keeps it up until interrupted.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import shutil
import signal
import socket
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

from tests.server_process import ServerProcess

WEED = Path(sys.executable).with_name("weed")
WAREHOUSE = "lake"
REGION = "us-east-1"
#: With `vending`: the role the catalog assumes (SeaweedFS' STS) to vend table-scoped keys.
VENDING_ROLE = "arn:aws:iam::role/floe-vend"


class Testbed(ServerProcess):
    """SeaweedFS with an Iceberg REST catalog (warehouse 'lake') and S3 (bucket 'raw').

    `vending=True`: the catalog vends table-scoped, short-lived S3 credentials in LoadTable
    (`-s3.iceberg.credentialRole`, backed by SeaweedFS' STS), valid for `credential_seconds`
    (`s3.session-token-expires-at-ms` says until when; S3 refuses them afterwards)."""

    name = "SeaweedFS"
    ready_timeout = 90.0

    def __init__(self, workdir: Path | None = None, vending: bool = False, credential_seconds: int = 3600) -> None:
        super().__init__(Path(workdir or tempfile.mkdtemp(prefix="floe-testbed-")))
        self._own_dir = workdir is None
        self.vending = vending
        self.credential_seconds = credential_seconds
        self.client_id = "floe-" + secrets.token_hex(4)
        self.client_secret = "sk-" + secrets.token_hex(16)
        self.region = REGION
        self.warehouse = WAREHOUSE

    # -- the server ----------------------------------------------------------------------------
    @property
    def base(self) -> int:
        return self.ports.base if self.ports else 0

    def command(self) -> list[str]:
        # A fresh data directory for each launch: SeaweedFS reloads the options (ports included)
        # it finds there.
        self.data_dir = Path(tempfile.mkdtemp(prefix="data-", dir=self.dir))
        ports = {
            "master.port": 0,
            "filer.port": 1,
            "volume.port": 2,
            "s3.port": 3,
            "s3.port.iceberg": 4,
            "s3.port.lance": 5,
            "admin.port": 6,
        }
        args = [
            str(WEED),
            "mini",
            f"-dir={self.data_dir}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            "-master.telemetry=false",
            "-admin.ui=false",
            "-webdav=false",
            *(f"-{flag}={self.base + offset}" for flag, offset in ports.items()),
            "-bucket=raw",
            f"-tableBucket={WAREHOUSE}",
        ]
        if self.vending:
            # Duration 0: the catalog asks STS for no duration, so the vended keys last the STS
            # default `tokenDuration`, which may be seconds; the catalog's own duration option is
            # held to STS' 900..43200 s and cannot be short enough for a test.
            args += [
                f"-s3.iceberg.credentialRole={VENDING_ROLE}",
                "-s3.iceberg.credentialDurationSeconds=0",
                f"-s3.iam.config={self._iam_config()}",
            ]
        return args

    def environment(self) -> dict[str, str]:
        return dict(os.environ, AWS_ACCESS_KEY_ID=self.client_id, AWS_SECRET_ACCESS_KEY=self.client_secret)

    def _iam_config(self) -> Path:
        """SeaweedFS' IAM: a role the catalog (provider `iceberg-catalog`) may assume, allowed
        S3 access; the catalog narrows each vended session to one table's location."""
        allow_s3 = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:*"], "Resource": ["*"]}]}
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": "iceberg-catalog"},
                    "Action": ["sts:AssumeRoleWithCredentials"],
                }
            ],
        }
        config = {
            "sts": {
                "tokenDuration": f"{self.credential_seconds}s",
                "maxSessionLength": "12h",
                "issuer": "floe-testbed-sts",
                "signingKey": base64.b64encode(secrets.token_bytes(32)).decode(),
            },
            "policy": {"defaultEffect": "Deny"},
            "roles": [{"roleName": "floe-vend", "roleArn": VENDING_ROLE, "trustPolicy": trust, "attachedPolicies": ["s3"]}],
            "policies": [{"name": "s3", "document": allow_s3}],
        }
        path = self.dir / "iam.json"
        path.write_text(json.dumps(config))
        return path

    def probe(self) -> None:
        """This very server (its process being alive is checked by `start`): the catalog on our
        port gives a token for this instance's random credentials and lists namespaces in the
        table bucket (created a moment after the catalog answers), SeaweedFS wrote its options,
        with our catalog port, into the directory we gave it, and S3 accepts connections."""
        try:
            token = self.token()
        except KeyError as err:
            raise ValueError(f"{self.oauth2_server_uri} answered without an access token") from err
        self._get(f"{self.catalog_uri}/v1/{WAREHOUSE}/namespaces", token=token)
        if not self._data_dir_names_our_port():
            raise ValueError(f"{self.data_dir / 'mini.options'} does not name port {self.base + 4}")
        with socket.create_connection(("127.0.0.1", self.base + 3), timeout=1):
            pass

    def _data_dir_names_our_port(self) -> bool:
        options = self.data_dir / "mini.options"
        return options.exists() and f"s3.port.iceberg={self.base + 4}" in options.read_text().splitlines()

    def stop(self) -> None:
        super().stop()
        if self._own_dir and self.dir.exists():
            shutil.rmtree(self.dir, ignore_errors=True)

    def kill(self) -> None:
        """SIGKILL the server: the catalog is down from now on (its ports stay reserved until `stop`)."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    # -- settings ------------------------------------------------------------------------------
    @property
    def catalog_uri(self) -> str:
        return f"http://127.0.0.1:{self.base + 4}"

    @property
    def oauth2_server_uri(self) -> str:
        return f"{self.catalog_uri}/v1/oauth/tokens"

    @property
    def s3_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.base + 3}"

    def env(self) -> dict[str, str]:
        """The settings as FLOE_* variables (for SQL tests, the demo and the benchmarks)."""
        return {
            "FLOE_CATALOG_URI": self.catalog_uri,
            "FLOE_OAUTH2_SERVER_URI": self.oauth2_server_uri,
            "FLOE_WAREHOUSE": self.warehouse,
            "FLOE_CLIENT_ID": self.client_id,
            "FLOE_CLIENT_SECRET": self.client_secret,
            "FLOE_S3_ENDPOINT": self.s3_endpoint,
            "FLOE_S3_HOST": self.s3_endpoint.removeprefix("http://"),
            "FLOE_S3_REGION": self.region,
        }

    def pyiceberg_catalog(self, vended_credentials: bool = True):  # -> pyiceberg.catalog.rest.RestCatalog
        """`vended_credentials=False`: PyIceberg does not ask for vended keys and uses the test
        bed's own, which do not expire (to prepare tables for tests of short-lived keys)."""
        from pyiceberg.catalog import load_catalog

        delegation = {} if vended_credentials else {"header.X-Iceberg-Access-Delegation": ""}
        return load_catalog(
            "testbed",
            **{
                "type": "rest",
                "uri": self.catalog_uri,
                "warehouse": self.warehouse,
                "credential": f"{self.client_id}:{self.client_secret}",
                "oauth2-server-uri": self.oauth2_server_uri,
                **self.s3_properties(),
                **delegation,
            },
        )

    def s3_properties(self) -> dict[str, str]:
        """The test bed's S3 and its keys as Iceberg FileIO properties (PyIceberg's, and those of
        another catalog keeping its warehouse here)."""
        return {
            "s3.endpoint": self.s3_endpoint,
            "s3.access-key-id": self.client_id,
            "s3.secret-access-key": self.client_secret,
            "s3.region": self.region,
            "s3.path-style-access": "true",
        }

    def pyarrow_s3(self, endpoint: str | None = None):  # -> pyarrow.fs.S3FileSystem
        """The test bed's S3 (or `endpoint`, e.g. a proxy in front of it) with its own keys, for
        looking at objects independently of floe."""
        from pyarrow import fs

        return fs.S3FileSystem(
            access_key=self.client_id,
            secret_key=self.client_secret,
            endpoint_override=endpoint or self.s3_endpoint,
            scheme="http",
            region=self.region,
        )

    def s3_files(self, prefix: str) -> list[str]:
        """Object paths under `prefix` (e.g. 's3://lake/ns/table/data'), as S3 lists them."""
        from pyarrow import fs

        s3 = self.pyarrow_s3()
        selector = fs.FileSelector(prefix.removeprefix("s3://"), recursive=True, allow_not_found=True)
        return sorted(info.path for info in s3.get_file_info(selector) if info.type == fs.FileType.File)

    def duckdb_setup_sql(self, s3_endpoint: str | None = None) -> list[str]:
        """SQL that gives a DuckDB connection with floe (or the official extension) the S3 and
        iceberg secrets and attaches the warehouse as `lake`. `s3_endpoint` (http://host:port):
        the S3 secret's endpoint instead of the test bed's own (a proxy in front of it)."""
        return [
            self.s3_secret_sql(s3_endpoint),
            f"CREATE OR REPLACE SECRET testbed_iceberg (TYPE iceberg, CLIENT_ID '{self.client_id}', "
            f"CLIENT_SECRET '{self.client_secret}', OAUTH2_SERVER_URI '{self.oauth2_server_uri}')",
            self.attach_sql("lake"),
        ]

    def attach_sql(self, alias: str, options: str = "") -> str:
        """The ATTACH of the warehouse as `alias` with the secret of `duckdb_setup_sql` and further
        `options`."""
        return (
            f"ATTACH '{self.warehouse}' AS {alias} (TYPE ICEBERG, ENDPOINT '{self.catalog_uri}', "
            f"SECRET testbed_iceberg{', ' + options if options else ''})"
        )

    def official_setup_sql(self) -> list[str]:
        """The same for the official extension (a catalog naming its warehouse by location is
        attached differently by each engine: tests/rustberg_s3.py)."""
        return self.duckdb_setup_sql()

    def s3_secret_sql(self, s3_endpoint: str | None = None) -> str:
        """The DuckDB S3 secret with the test bed's keys, as a user holding them would create it."""
        return (
            f"CREATE OR REPLACE SECRET testbed_s3 (TYPE s3, KEY_ID '{self.client_id}', SECRET '{self.client_secret}', "
            f"ENDPOINT '{(s3_endpoint or self.s3_endpoint).removeprefix('http://')}', URL_STYLE 'path', USE_SSL false, "
            f"REGION '{self.region}')"
        )

    # -- HTTP ----------------------------------------------------------------------------------
    def token(self) -> str:
        body = urllib.parse.urlencode(
            {"grant_type": "client_credentials", "client_id": self.client_id, "client_secret": self.client_secret}
        ).encode()
        return json.loads(self._post(self.oauth2_server_uri, body))["access_token"]

    @staticmethod
    def _get(url: str, token: str | None = None) -> bytes:
        request = urllib.request.Request(url)
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.read()

    @staticmethod
    def _post(url: str, body: bytes) -> bytes:
        with urllib.request.urlopen(urllib.request.Request(url, data=body), timeout=5) as response:
            return response.read()


def _serve(seed: bool) -> None:
    with Testbed() as bed:
        if seed:
            from tests import datasets

            datasets.demo_metrics(bed.pyiceberg_catalog(), "gold")
        for name, value in bed.env().items():
            print(f"export {name}={value}")
        sys.stdout.flush()
        stop = False

        def request_stop(*_: object) -> None:
            nonlocal stop
            stop = True

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
        while not stop and bed.process and bed.process.poll() is None:
            time.sleep(0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description="floe's test bed")
    parser.add_argument("command", choices=["serve"])
    parser.add_argument("--seed", action="store_true", help="create the demo table gold.metrics")
    _serve(parser.parse_args().seed)


if __name__ == "__main__":
    main()
