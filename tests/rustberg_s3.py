"""Rustberg with its warehouse on the test bed's S3 (SeaweedFS): a second real Iceberg REST catalog
next to SeaweedFS' own, with roles. Rustberg vends no storage credentials here, so floe and
PyIceberg get S3 keys as a user would: a DuckDB S3 secret, PyIceberg's FileIO properties.

    bed = RustbergOnS3(testbed, tmp_path)
    with bed:
        con = bed.floe(extension, "reader")     # `lake`, attached with the reader's API key
        bed.pyiceberg("admin").load_table("ns.t")
        bed.files("s3://raw/rustberg-.../ns/t")
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

    def setup_sql(self, role: str) -> list[str]:
        """What a floe connection runs to attach the catalog as `lake` with `role`'s API key."""
        return [
            self.testbed.s3_secret_sql(),
            f"ATTACH 'rustberg' AS lake (TYPE ICEBERG, ENDPOINT '{self.catalog.uri}', "
            f"WAREHOUSE '{self.warehouse}', TOKEN '{self.catalog.api_keys[role]}')",
        ]

    def floe(self, extension: str, role: str) -> duckdb.DuckDBPyConnection:
        con = floe_connection(extension)
        for statement in self.setup_sql(role):
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

    def files(self, prefix: str) -> list[str]:
        """Object paths under `prefix` (an `s3://` URL), as S3 lists them."""
        return self.testbed.s3_files(prefix)
