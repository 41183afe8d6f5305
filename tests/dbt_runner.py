"""Runs a dbt project of the tests (tests/dbt_project unless told otherwise) against the test bed the
way a platform deploys it: platform.yaml with secret references, the secrets in environment
variables and in a mounted secrets directory, and a profiles.yml without a single credential."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from tests.rustberg_s3 import RustbergOnS3
from tests.testbed import Testbed

PROJECT = Path(__file__).resolve().parent / "dbt_project"
DBT = Path(sys.executable).with_name("dbt")

PLATFORM_YAML = """\
catalogs:
  default:
    type: rest
    uri: "${{FLOE_E2E_CATALOG_URI}}"
    warehouse: {warehouse}
    credentials:
{credentials}
    storage:
      s3:
        endpoint: "${{FLOE_E2E_S3_ENDPOINT}}"
        region: {region}
        path_style: true
        access_key_id: {{ secret_ref: s3-key-id }}
        secret_access_key: {{ secret_ref: s3-secret }}
governance:
  properties: [domain]
secrets:
  dir: {secrets}
"""

OAUTH2_CREDENTIALS = """\
      mode: oauth2
      client_id: { secret_ref: catalog-client-id }
      client_secret: { secret_ref: catalog-client-secret }"""

TOKEN_CREDENTIALS = """\
      mode: token
      token: { secret_ref: catalog-token }"""


@dataclass
class DbtRun:
    seconds: float
    returncode: int
    output: str


@dataclass
class DbtProject:
    dir: Path
    env: dict[str, str]
    #: Every credential value in play: none may appear in anything dbt or DuckDB writes.
    secrets: list[str] = field(default_factory=list)

    def run(self, *args: str) -> DbtRun:
        started = time.perf_counter()
        done = subprocess.run(
            [str(DBT), *args, "--project-dir", str(self.dir), "--profiles-dir", str(self.dir)],
            cwd=self.dir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        return DbtRun(time.perf_counter() - started, done.returncode, done.stdout + done.stderr)

    def written_files(self) -> list[Path]:
        """Everything dbt wrote: logs/dbt.log, target/ (manifest, run results, compiled SQL)."""
        return [p for p in self.dir.rglob("*") if p.is_file() and p.parent != self.dir / "seeds"]


NATIVE_PROFILE = """\
{profile}:
  target: dev
  outputs:
    dev:
      type: duckdb
      path: "{path}"
      threads: 4
      schema: "{{{{ env_var('FLOE_DBT_SCHEMA', 'analytics') }}}}"
"""


def prepare(bed: Testbed | RustbergOnS3, workdir: Path, schema: str, native: bool = False, source: Path = PROJECT) -> DbtProject:
    """A copy of the project `source` in `workdir`, its platform file and secrets, and dbt's
    environment. `native`: the same project built into a DuckDB file named `lake` instead (the
    benchmark's limit, the incremental test's expected tables), with no catalog involved."""
    project = workdir / "project"
    shutil.copytree(source, project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    if native:
        profile = yaml.safe_load((project / "dbt_project.yml").read_text())["profile"]
        (project / "profiles.yml").write_text(NATIVE_PROFILE.format(profile=profile, path=workdir / "lake.duckdb"))
    secrets_dir = workdir / "secrets"
    secrets_dir.mkdir()
    storage = bed.testbed if isinstance(bed, RustbergOnS3) else bed
    # The Kubernetes mounted-secret layout: one file per secret, named by its reference.
    (secrets_dir / "s3-secret").write_text(storage.client_secret)
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", str(workdir)),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "FLOE_DBT_SCHEMA": schema,
        "FLOE_E2E_S3_ENDPOINT": storage.s3_endpoint,
        # References resolved from the environment (NAME upper-cased, '-' as '_').
        "S3_KEY_ID": storage.client_id,
    }
    if isinstance(bed, RustbergOnS3):
        # An API key as a bearer token; the warehouse is a location.
        credentials = TOKEN_CREDENTIALS
        (secrets_dir / "catalog-token").write_text(bed.catalog.api_key + "\n")
        env["FLOE_E2E_CATALOG_URI"] = bed.catalog.uri
        secret_values = [bed.catalog.api_key, storage.client_secret]
    else:
        credentials = OAUTH2_CREDENTIALS
        (secrets_dir / "catalog-client-secret").write_text(bed.client_secret + "\n")
        env["FLOE_E2E_CATALOG_URI"] = bed.catalog_uri
        env["CATALOG_CLIENT_ID"] = bed.client_id
        secret_values = [bed.client_secret]
    platform = workdir / "platform.yaml"
    platform.write_text(
        PLATFORM_YAML.format(
            warehouse=bed.warehouse, credentials=credentials, region=storage.region, secrets=secrets_dir
        )
    )
    env["FLOE_PLATFORM_FILE"] = str(platform)
    return DbtProject(project, env, secrets=secret_values)
