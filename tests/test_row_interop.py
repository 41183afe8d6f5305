"""Row-level changes across engines on one format-version 2 table: floe reads the position
deletes the official extension writes and PyIceberg's copy-on-write overwrites, and deletes on top
of them; every engine reads the same rows after each change."""

from __future__ import annotations

from pyiceberg.expressions import LessThan

from tests.rows import duckdb_rows, pyiceberg_rows
from tests.test_row_delete import ns, ordered, three_files  # noqa: F401


def same_everywhere(floe, official, catalog, identifier: str, expected: list[tuple]) -> None:
    assert duckdb_rows(floe, f"SELECT * FROM lake.{identifier}") == expected
    assert pyiceberg_rows(catalog, identifier) == expected
    assert duckdb_rows(official, f"SELECT * FROM lake.{identifier}") == expected


def test_floe_reads_and_extends_the_official_extensions_deletes(floe, official, catalog, ns):
    three_files(floe, f"lake.{ns}.t")
    rows = {i: (i, f"v{i}", i % 3) for i in range(300)}
    official.execute(f"DELETE FROM lake.{ns}.t WHERE id % 4 = 0")
    rows = {i: r for i, r in rows.items() if i % 4 != 0}
    official.execute(f"UPDATE lake.{ns}.t SET v = 'o' WHERE id BETWEEN 101 AND 110")
    rows.update({i: (i, "o", i % 3) for i in range(101, 111) if i in rows})
    same_everywhere(floe, official, catalog, f"{ns}.t", ordered(list(rows.values())))

    # floe deletes on top: the official extension's delete files count when floe decides that
    # no row of the first file is left (ids 0..99, a quarter of them deleted already).
    floe.execute(f"DELETE FROM lake.{ns}.t WHERE id < 100")
    rows = {i: r for i, r in rows.items() if i >= 100}
    same_everywhere(floe, official, catalog, f"{ns}.t", ordered(list(rows.values())))
    summary = catalog.load_table(f"{ns}.t").current_snapshot().summary
    assert summary["deleted-data-files"] == "1"

    floe.execute(f"UPDATE lake.{ns}.t SET v = 'f' WHERE id BETWEEN 105 AND 200")
    rows.update({i: (i, "f", i % 3) for i in range(105, 201) if i in rows})
    official.execute(f"DELETE FROM lake.{ns}.t WHERE id = 150")
    rows.pop(150)
    same_everywhere(floe, official, catalog, f"{ns}.t", ordered(list(rows.values())))


def test_floe_reads_pyicebergs_copy_on_write_deletes(floe, official, catalog, ns):
    three_files(floe, f"lake.{ns}.t")
    table = catalog.load_table(f"{ns}.t")
    # PyIceberg rewrites the files that hold matching rows (copy-on-write) in an overwrite snapshot.
    table.delete(delete_filter=LessThan("id", 150))
    assert catalog.load_table(f"{ns}.t").current_snapshot().summary.operation.value in ("overwrite", "delete")
    expected = ordered([(i, f"v{i}", i % 3) for i in range(150, 300)])
    same_everywhere(floe, official, catalog, f"{ns}.t", expected)
    floe.execute(f"DELETE FROM lake.{ns}.t WHERE id % 2 = 0")
    expected = ordered([(i, f"v{i}", i % 3) for i in range(150, 300) if i % 2 == 1])
    same_everywhere(floe, official, catalog, f"{ns}.t", expected)
