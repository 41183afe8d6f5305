"""The test bed: a real Iceberg REST catalog and a real S3 server (SeaweedFS, one `weed`
process) on free loopback ports, with fresh random credentials for every run.

    with Testbed() as bed:
        catalog = bed.pyiceberg_catalog()

`python -m tests.testbed serve [--seed]` starts one for a shell (printing `export` lines for its
settings) and keeps it up until interrupted.
"""

from __future__ import annotations

import argparse
import atexit
import base64
import fcntl
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

WEED = Path(sys.executable).with_name("weed")
WAREHOUSE = "lake"
REGION = "us-east-1"
# Ports used: base .. base+6 and each +10000 for gRPC (SeaweedFS convention).
PORT_SPAN = 7
#: util-linux' setpriv makes `weed` die with the thread that started it (PR_SET_PDEATHSIG), so a
#: test run that crashes (a segfault in the extension under test) leaves no server behind.
SETPRIV = shutil.which("setpriv")
#: A server that exits at start (a port taken by something outside the reservations) is
#: retried on another range this many times.
START_ATTEMPTS = 5
#: With `vending`: the role the catalog assumes (SeaweedFS' STS) to vend table-scoped keys.
VENDING_ROLE = "arn:aws:iam::role/floe-vend"


def free_port() -> int:
    """A loopback port nothing listens on (for 'catalog down' tests). The kernel picks it from
    the ephemeral range, which no reserved SeaweedFS range overlaps."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PortRange:
    """SeaweedFS' ports, reserved for as long as the server runs.

    Several test processes (pytest, the SQL tests, the Rust tests of core/tests/common/mod.rs)
    start SeaweedFS at once, so ports are never picked by "check, then use": a range is reserved
    with an exclusive flock on LOCK_DIR/<base>.lock (the same files and range the Rust test bed
    uses), then its ports are checked free. An flock belongs to the open file, so two test beds of
    one process exclude each other just like two processes, and a crashed run holds nothing."""

    LOCK_DIR = Path("/tmp/floe-port-locks")
    # Bases 20000, 20010, ... 22750: each range with its gRPC twins (30000..32756 included) stays
    # below Linux's ephemeral ports (32768 and up), where outgoing connections would collide.
    BASES = range(20000, 22760, 10)

    def __init__(self, base: int, fd: int) -> None:
        self.base = base
        self._fd: int | None = fd

    @classmethod
    def reserve(cls, avoid: frozenset[int] = frozenset()) -> PortRange:
        """The first range, from a random start, that no one holds, whose ports are all free and
        that is not in `avoid` (ranges where a start just failed)."""
        cls.LOCK_DIR.mkdir(parents=True, exist_ok=True)
        start = secrets.randbelow(len(cls.BASES))
        for i in range(len(cls.BASES)):
            base = cls.BASES[(start + i) % len(cls.BASES)]
            if base not in avoid and (ports := cls.try_reserve(base)):
                return ports
        raise RuntimeError(f"no free SeaweedFS port range: every lock in {cls.LOCK_DIR} is held or its ports are taken")

    @classmethod
    def try_reserve(cls, base: int) -> PortRange | None:
        fd = os.open(cls.LOCK_DIR / f"{base}.lock", os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return None
        if not all(_port_free(base + i) and _port_free(base + 10000 + i) for i in range(PORT_SPAN)):
            os.close(fd)
            return None
        return cls(base, fd)

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _port_free(port: int) -> bool:
    # SO_REUSEADDR as SeaweedFS (Go) listens: a connection in TIME_WAIT does not block it.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class Testbed:
    """SeaweedFS with an Iceberg REST catalog (warehouse 'lake') and S3 (bucket 'raw').

    `vending=True`: the catalog vends table-scoped, short-lived S3 credentials in LoadTable
    (`-s3.iceberg.credentialRole`, backed by SeaweedFS' STS), valid for `credential_seconds`
    (`s3.session-token-expires-at-ms` says until when; S3 refuses them afterwards)."""

    __test__ = False  # not a pytest test class

    def __init__(self, workdir: Path | None = None, vending: bool = False, credential_seconds: int = 3600) -> None:
        self.vending = vending
        self.credential_seconds = credential_seconds
        self.client_id = "floe-" + secrets.token_hex(4)
        self.client_secret = "sk-" + secrets.token_hex(16)
        self.region = REGION
        self.warehouse = WAREHOUSE
        self._own_dir = workdir is None
        self.dir = Path(workdir or tempfile.mkdtemp(prefix="floe-testbed-"))
        self.ports: PortRange | None = None
        self.process: subprocess.Popen[bytes] | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> Testbed:
        atexit.register(self.stop)
        failed: list[PortRange] = []
        try:
            for _ in range(START_ATTEMPTS):
                self.ports = PortRange.reserve(avoid=frozenset(ports.base for ports in failed))
                try:
                    self._launch()
                    return self
                except _ServerExited as exited:
                    # The range stays reserved until a start succeeds, so it is not picked again.
                    print(f"SeaweedFS on ports from {self.ports.base} failed to start, trying another range: {exited}", file=sys.stderr)
                    self._stop_process()
                    failed.append(self.ports)
                    self.ports = None
            raise RuntimeError(f"SeaweedFS failed to start on {START_ATTEMPTS} port ranges; see the messages above")
        except BaseException:
            self.stop()
            raise
        finally:
            for ports in failed:
                ports.release()

    @property
    def base(self) -> int:
        return self.ports.base if self.ports else 0

    def _launch(self) -> None:
        # A fresh data directory: SeaweedFS reloads the options (ports included) it finds there.
        self.data_dir = Path(tempfile.mkdtemp(prefix="data-", dir=self.dir))
        self.log_path = self.data_dir.with_suffix(".log")
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
            *([SETPRIV, "--pdeathsig", "KILL", "--"] if SETPRIV else []),
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
        env = dict(os.environ, AWS_ACCESS_KEY_ID=self.client_id, AWS_SECRET_ACCESS_KEY=self.client_secret)
        with open(self.log_path, "wb") as log:
            # Its own session, so stopping it takes every child along and a dying test run
            # cannot leave it behind (see stop).
            self.process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        self._wait_ready()

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

    def _wait_ready(self, timeout: float = 90.0) -> None:
        """Ready means proven to be this server: the process is alive, the catalog on our port
        gives a token for this instance's random credentials and lists namespaces in the table
        bucket (created a moment after the catalog answers), SeaweedFS wrote its options, with our
        catalog port, into the directory we gave it, and S3 accepts connections."""
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            if self.process and self.process.poll() is not None:
                raise _ServerExited(f"weed exited with {self.process.returncode}; its log ends with:\n{self._log_tail()}")
            try:
                self._get(f"{self.catalog_uri}/v1/{WAREHOUSE}/namespaces", token=self.token())
                if not self._data_dir_names_our_port():
                    raise ValueError(f"{self.data_dir / 'mini.options'} does not name port {self.base + 4}")
                with socket.create_connection(("127.0.0.1", self.base + 3), timeout=1):
                    return
            except (OSError, urllib.error.URLError, ValueError, KeyError) as err:
                last = str(err)
            time.sleep(0.2)
        raise RuntimeError(f"SeaweedFS not ready after {timeout}s ({last}); see {self.log_path}")

    def _data_dir_names_our_port(self) -> bool:
        options = self.data_dir / "mini.options"
        return options.exists() and f"s3.port.iceberg={self.base + 4}" in options.read_text().splitlines()

    def _log_tail(self) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-5:])

    def _stop_process(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None

    def stop(self) -> None:
        self._stop_process()
        # The ports stay reserved until the server is gone (also after `kill`).
        if self.ports:
            self.ports.release()
            self.ports = None
        if self._own_dir and self.dir.exists():
            shutil.rmtree(self.dir, ignore_errors=True)

    def kill(self) -> None:
        """SIGKILL the server: the catalog is down from now on."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def __enter__(self) -> Testbed:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

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
                "s3.endpoint": self.s3_endpoint,
                "s3.access-key-id": self.client_id,
                "s3.secret-access-key": self.client_secret,
                "s3.region": self.region,
                "s3.path-style-access": "true",
                **delegation,
            },
        )

    def s3_files(self, prefix: str) -> list[str]:
        """Object paths under `prefix` (e.g. 's3://lake/ns/table/data'), as S3 lists them."""
        from pyarrow import fs

        s3 = fs.S3FileSystem(
            access_key=self.client_id,
            secret_key=self.client_secret,
            endpoint_override=self.s3_endpoint,
            scheme="http",
            region=self.region,
        )
        selector = fs.FileSelector(prefix.removeprefix("s3://"), recursive=True, allow_not_found=True)
        return sorted(info.path for info in s3.get_file_info(selector) if info.type == fs.FileType.File)

    def duckdb_setup_sql(self, s3_endpoint: str | None = None) -> list[str]:
        """SQL that gives a DuckDB connection with floe (or the official extension) the S3 and
        iceberg secrets and attaches the warehouse as `lake`. `s3_endpoint` (http://host:port):
        the S3 secret's endpoint instead of the test bed's own (a proxy in front of it)."""
        return [
            f"CREATE OR REPLACE SECRET testbed_s3 (TYPE s3, KEY_ID '{self.client_id}', SECRET '{self.client_secret}', "
            f"ENDPOINT '{(s3_endpoint or self.s3_endpoint).removeprefix('http://')}', URL_STYLE 'path', USE_SSL false, "
            f"REGION '{self.region}')",
            f"CREATE OR REPLACE SECRET testbed_iceberg (TYPE iceberg, CLIENT_ID '{self.client_id}', "
            f"CLIENT_SECRET '{self.client_secret}', OAUTH2_SERVER_URI '{self.oauth2_server_uri}')",
            f"ATTACH '{self.warehouse}' AS lake (TYPE ICEBERG, ENDPOINT '{self.catalog_uri}', SECRET testbed_iceberg)",
        ]

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


class _ServerExited(Exception):
    """weed exited while starting, typically because a port was taken outside the reservations."""


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
