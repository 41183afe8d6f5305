"""Rustberg with its warehouse on the test bed's S3 (SeaweedFS): a second real Iceberg REST catalog
next to SeaweedFS' own, with roles. Rustberg vends no storage credentials here, so floe and
PyIceberg get S3 keys as a user would: a DuckDB S3 secret, PyIceberg's FileIO properties.

    bed = RustbergOnS3(testbed, tmp_path)
    with bed:
        con = bed.floe(extension, "reader")     # `lake`, attached with the reader's API key
        bed.pyiceberg("admin").load_table("ns.t")
        bed.s3_files("s3://raw/rustberg-.../ns/t")

As the admin it offers what the suites ask of the test bed (`duckdb_setup_sql`,
`official_setup_sql`, `pyiceberg_catalog`, `s3_files`), so a suite runs against either catalog
through the `catalog_bed` fixture (tests/conftest.py).
"""

from __future__ import annotations

import secrets
from pathlib import Path

import duckdb

from tests.engines import floe_connection
from tests.rustberg import Rustberg
from tests.testbed import Testbed

#: The test bed's plain S3 bucket, where the warehouse lives under a prefix of its own.
BUCKET = "raw"


class RustbergOnS3:
    __test__ = False  # not a pytest test class

    def __init__(self, testbed: Testbed, workdir: Path) -> None:
        self.testbed = testbed
        self.warehouse = f"s3://{BUCKET}/rustberg-{secrets.token_hex(4)}"
        self.catalog = Rustberg(workdir, self.warehouse, testbed.s3_properties())

    def __enter__(self) -> RustbergOnS3:
        self.catalog.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.catalog.__exit__(*exc)

    def duckdb_setup_sql(self, role: str = "admin") -> list[str]:
        """What a floe connection runs to attach the catalog as `lake` with `role`'s API key."""
        return [self.testbed.s3_secret_sql(), self.attach_sql("lake", role=role)]

    def attach_sql(self, alias: str, options: str = "", role: str = "admin") -> str:
        """floe's ATTACH of the catalog as `alias` with `role`'s API key and further `options`.
        The warehouse, a location, goes in WAREHOUSE: floe takes the ATTACH path for a name."""
        return (
            f"ATTACH 'rustberg' AS {alias} (TYPE ICEBERG, ENDPOINT '{self.catalog.uri}', "
            f"WAREHOUSE '{self.warehouse}', TOKEN '{self.catalog.api_keys[role]}'{', ' + options if options else ''})"
        )

    def official_setup_sql(self) -> list[str]:
        """The same for the official extension, which sends no warehouse for an empty ATTACH path
        (DuckDB would attach an `s3://` path read-only)."""
        return [
            self.testbed.s3_secret_sql(),
            f"ATTACH '' AS lake (TYPE ICEBERG, ENDPOINT '{self.catalog.uri}', TOKEN '{self.catalog.api_key}')",
        ]

    def floe(self, extension: str, role: str) -> duckdb.DuckDBPyConnection:
        con = floe_connection(extension)
        for statement in self.duckdb_setup_sql(role=role):
            con.execute(statement)
        return con

    def pyiceberg(self, role: str):  # -> pyiceberg.catalog.rest.RestCatalog
        from pyiceberg.catalog import load_catalog

        return load_catalog(
            f"rustberg-{role}",
            type="rest",
            uri=self.catalog.uri,
            token=self.catalog.api_keys[role],
            **self.testbed.s3_properties(),
        )

    def pyiceberg_catalog(self):  # -> pyiceberg.catalog.rest.RestCatalog
        """PyIceberg as the admin."""
        return self.pyiceberg("admin")

    def s3_files(self, prefix: str) -> list[str]:
        """Object paths under `prefix` (an `s3://` URL), as S3 lists them."""
        return self.testbed.s3_files(prefix)
