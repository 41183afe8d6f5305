"""A refusal by the catalog reads as what was refused and what to ask for, and leaves nothing
behind: Rustberg (tests/rustberg_s3.py), whose default policies let a reader read and list only
and a writer do all but delete, refuses with 403; the table's rows and files stay as they were,
read back as the admin through floe and through PyIceberg."""

from __future__ import annotations

import re
import uuid
from typing import Iterator

import duckdb
import pytest

from tests.rows import duckdb_rows, pyiceberg_rows
from tests.rustberg_s3 import RustbergOnS3

ROWS = "SELECT i AS id, 'v' || i AS name FROM range(5) t(i)"
#: Who floe says it is when it attached with a TOKEN: only the catalog knows the token's principal.
PRINCIPAL = "the principal of this TOKEN"


class Bed:
    """One namespace of the test's own, holding table `t` of five rows the admin wrote."""

    def __init__(self, rustberg: RustbergOnS3, extension: str) -> None:
        self.rustberg = rustberg
        self.extension = extension
        self.ns = "acc_" + uuid.uuid4().hex[:8]
        self.admin = rustberg.floe(extension, "admin")
        self.admin.execute(f"CREATE SCHEMA lake.{self.ns}")
        self.admin.execute(f"CREATE TABLE lake.{self.ns}.t AS {ROWS}")
        self.rows = duckdb_rows(self.admin, ROWS)

    def files(self) -> list[str]:
        """Every object of the warehouse: the admin's tables and any file a refused statement
        might have written, wherever it put it."""
        return self.rustberg.s3_files(self.rustberg.warehouse)

    def refused(self, role: str, sql: str) -> str:
        """The message of `sql` run as `role`, which must fail; the files are unchanged."""
        before = self.files()
        con = self.rustberg.floe(self.extension, role)
        try:
            with pytest.raises(duckdb.Error) as failure:
                con.execute(sql)
        finally:
            con.close()
        assert self.files() == before
        message = str(failure.value)
        for secret in [*self.rustberg.catalog.api_keys.values(), self.rustberg.testbed.client_secret]:
            assert secret not in message
        return message

    def assert_unchanged(self) -> None:
        """The table holds its five rows, read as the admin through floe and PyIceberg."""
        assert duckdb_rows(self.admin, f"SELECT * FROM lake.{self.ns}.t") == self.rows
        assert pyiceberg_rows(self.rustberg.pyiceberg("admin"), f"{self.ns}.t") == self.rows


@pytest.fixture()
def bed(rustberg_s3: RustbergOnS3, extension: str) -> Iterator[Bed]:
    bed = Bed(rustberg_s3, extension)
    yield bed
    bed.admin.close()


def denial(operation: str, obj: str, catalog_says: str, privilege: str) -> re.Pattern[str]:
    """The whole access error: who, what, on which object, the catalog's words and the fix."""
    return re.compile(
        re.escape(f"Access denied: {PRINCIPAL} may not {operation} {obj} in Iceberg catalog '")
        + r"[^']+"
        + re.escape(f"': catalog returned 403: ForbiddenException: {catalog_says}")
        + r".*"
        + re.escape(f"Fix: ask the catalog's administrator for {privilege}"),
        re.DOTALL,
    )


def test_reader_create_table(bed):
    message = bed.refused("reader", f"CREATE TABLE lake.{bed.ns}.fresh (id BIGINT)")
    assert denial(
        "create", f"table '{bed.ns}.fresh'", f"Not permitted to create table '{bed.ns}.fresh'", f"CREATE TABLE on namespace '{bed.ns}'"
    ).search(message), message
    assert not bed.rustberg.pyiceberg("admin").table_exists(f"{bed.ns}.fresh")


def test_reader_create_table_as_select(bed):
    message = bed.refused("reader", f"CREATE TABLE lake.{bed.ns}.copy AS SELECT * FROM lake.{bed.ns}.t")
    assert denial(
        "create", f"table '{bed.ns}.copy'", f"Not permitted to create table '{bed.ns}.copy'", f"CREATE TABLE on namespace '{bed.ns}'"
    ).search(message), message
    assert not bed.rustberg.pyiceberg("admin").table_exists(f"{bed.ns}.copy")
    bed.assert_unchanged()


def test_reader_insert(bed):
    message = bed.refused("reader", f"INSERT INTO lake.{bed.ns}.t SELECT i, 'x' FROM range(100, 200) t(i)")
    assert denial(
        "write to", f"table '{bed.ns}.t'", f"Not permitted to update table '{bed.ns}.t'", f"INSERT / MODIFY (write) on table '{bed.ns}.t'"
    ).search(message), message
    bed.assert_unchanged()


@pytest.mark.parametrize("role", ["reader", "writer"])
def test_drop_table(bed, role):
    """Rustberg's writers may not delete either."""
    message = bed.refused(role, f"DROP TABLE lake.{bed.ns}.t")
    assert denial(
        "drop", f"table '{bed.ns}.t'", f"Not permitted to delete table '{bed.ns}.t'", f"DROP on table '{bed.ns}.t'"
    ).search(message), message
    bed.assert_unchanged()


def test_writer_may_insert(bed):
    """The refusals above are the roles': the writer's INSERT into the same table commits."""
    writer = bed.rustberg.floe(bed.extension, "writer")
    writer.execute(f"INSERT INTO lake.{bed.ns}.t VALUES (5, 'v5')")
    writer.close()
    expected = duckdb_rows(bed.admin, "SELECT i AS id, 'v' || i AS name FROM range(6) t(i)")
    assert duckdb_rows(bed.admin, f"SELECT * FROM lake.{bed.ns}.t") == expected
    assert pyiceberg_rows(bed.rustberg.pyiceberg("admin"), f"{bed.ns}.t") == expected
