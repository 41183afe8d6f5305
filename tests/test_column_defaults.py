"""Column defaults on format version 3 tables: ADD COLUMN ... DEFAULT <constant> stores the
constant as the new field's initial-default (what rows written before the column read, in floe,
PyIceberg and the official extension) and write-default (what an INSERT that leaves the column
out writes); ALTER COLUMN ... SET DEFAULT changes only the write default. Format version 2 has no
defaults: there the DEFAULT is refused and the table stays as it was."""

from __future__ import annotations

import datetime

import duckdb
import pytest

from tests.rows import duckdb_rows, pyiceberg_rows
from tests.test_row_delete import ns, ordered  # noqa: F401
from tests.test_schema_evolution import metadata_location, refused

OLD_ROWS = [(i, f"p{i}") for i in range(4)]

# DuckDB 1.5's parser hands an ADD COLUMN its DEFAULT only when it is a plain literal (a typed
# one, DATE '...', is sent as ADD ... DEFAULT NULL, UPDATE and SET DEFAULT, and the UPDATE of a
# format 3 table is refused), and refuses NOT NULL in ADD COLUMN.
DUCKDB_1_5 = duckdb.__version__.startswith("1.5.")


def create_people(floe, ns: str, format_version: int) -> str:
    """(id INTEGER, name VARCHAR) with four rows, at `format_version`: floe writes the rows into a
    format 2 table and upgrades it (it does not append to format 3 tables)."""
    floe.execute(f"CREATE TABLE lake.{ns}.people AS SELECT i::INTEGER AS id, 'p' || i AS name FROM range(4) t(i)")
    if format_version == 3:
        floe.execute(f"ALTER TABLE lake.{ns}.people SET ('format-version' = '3')")
    return f"{ns}.people"


@pytest.fixture()
def people_v3(floe, ns) -> str:
    return create_people(floe, ns, 3)


def field(catalog, identifier: str, name: str):
    return catalog.load_table(identifier).schema().find_field(name)


def test_old_rows_read_the_initial_default_in_every_engine(floe, official, catalog, people_v3):
    last_id = catalog.load_table(people_v3).metadata.last_column_id
    floe.execute(f"ALTER TABLE lake.{people_v3} ADD COLUMN score INTEGER DEFAULT 7")
    floe.execute(f"ALTER TABLE lake.{people_v3} ADD COLUMN since DATE DEFAULT '2026-01-02'")
    floe.execute(f"ALTER TABLE lake.{people_v3} ADD COLUMN city VARCHAR DEFAULT 'Oslo'")
    floe.execute(f"ALTER TABLE lake.{people_v3} ADD COLUMN ratio DOUBLE DEFAULT -1.5")
    floe.execute(f"ALTER TABLE lake.{people_v3} ADD COLUMN amount DECIMAL(10,2) DEFAULT '12.5'")
    since = datetime.date(2026, 1, 2)
    defaults = {"score": 7, "since": since, "city": "Oslo", "ratio": -1.5, "amount": 12.5}
    for number, (name, value) in enumerate(defaults.items(), start=1):
        added = field(catalog, people_v3, name)
        assert added.field_id == last_id + number
        assert (added.initial_default, added.write_default) == (value, value)
        assert not added.required

    expected = ordered([row + (7, since, "Oslo", -1.5, pytest.approx(12.5)) for row in OLD_ROWS])
    assert duckdb_rows(floe, f"SELECT * FROM lake.{people_v3}") == expected
    assert pyiceberg_rows(catalog, people_v3) == expected
    assert duckdb_rows(official, f"SELECT * FROM lake.{people_v3}") == expected
    # The default takes part in filters like a stored value: no file is pruned for lacking it.
    assert floe.execute(f"SELECT count(*) FROM lake.{people_v3} WHERE score = 7").fetchall() == [(4,)]
    assert floe.execute(f"SELECT count(*) FROM lake.{people_v3} WHERE score > 7").fetchall() == [(0,)]
    assert floe.execute(f"SELECT count(*) FROM lake.{people_v3} WHERE city IS NULL").fetchall() == [(0,)]


def test_a_version_before_the_column_has_no_such_column(floe, catalog, people_v3):
    before = catalog.load_table(people_v3).current_snapshot().snapshot_id
    floe.execute(f"ALTER TABLE lake.{people_v3} ADD COLUMN score INTEGER DEFAULT 7")
    relation = f"lake.{people_v3} AT (VERSION => {before})"
    assert duckdb_rows(floe, f"SELECT * FROM {relation}") == ordered(OLD_ROWS)
    with pytest.raises(duckdb.BinderException, match="score"):
        floe.execute(f"SELECT score FROM {relation}")


def test_an_insert_that_leaves_the_column_out_writes_the_write_default(floe, catalog, people_v3):
    floe.execute(f"ALTER TABLE lake.{people_v3} ADD COLUMN score INTEGER DEFAULT 7")
    floe.execute(f"ALTER TABLE lake.{people_v3} ADD COLUMN city VARCHAR DEFAULT 'Oslo'")
    table = f"lake.{people_v3}"
    floe.execute("BEGIN")
    floe.execute(f"INSERT INTO {table} (id, name) VALUES (10, 'p10')")
    floe.execute(f"INSERT INTO {table} BY NAME SELECT 'p11' AS name, 11 AS id, 'Rome' AS city")
    floe.execute(f"INSERT INTO {table} (city, id) VALUES ('Lima', 12)")
    floe.execute(f"INSERT INTO {table} VALUES (13, 'p13', DEFAULT, NULL)")
    # The transaction reads the files its INSERTs wrote: DuckDB filled the omitted columns.
    written = duckdb_rows(floe, f"SELECT * FROM {table} WHERE id >= 10")
    assert written == ordered(
        [(10, "p10", 7, "Oslo"), (11, "p11", 7, "Rome"), (12, None, 7, "Lima"), (13, "p13", 7, None)]
    )
    before = metadata_location(catalog, people_v3)
    # floe does not append to format version 3 tables yet (row lineage): COMMIT says so and
    # leaves the table as it was.
    with pytest.raises(duckdb.Error, match="format version 3"):
        floe.execute("COMMIT")
    assert metadata_location(catalog, people_v3) == before


def test_set_default_changes_only_the_write_default(floe, catalog, people_v3):
    floe.execute(f"ALTER TABLE lake.{people_v3} ADD COLUMN score INTEGER DEFAULT 7")
    floe.execute(f"ALTER TABLE lake.{people_v3} ALTER COLUMN score SET DEFAULT 9")
    floe.execute(f"ALTER TABLE lake.{people_v3} ALTER COLUMN name SET DEFAULT 'anon'")
    score, name = field(catalog, people_v3, "score"), field(catalog, people_v3, "name")
    assert (score.initial_default, score.write_default) == (7, 9)
    assert (name.initial_default, name.write_default) == (None, "anon")
    assert duckdb_rows(floe, f"SELECT * FROM lake.{people_v3}") == ordered([row + (7,) for row in OLD_ROWS])
    assert pyiceberg_rows(catalog, people_v3) == ordered([row + (7,) for row in OLD_ROWS])
    floe.execute("BEGIN")
    floe.execute(f"INSERT INTO lake.{people_v3} (id) VALUES (10)")
    assert duckdb_rows(floe, f"SELECT * FROM lake.{people_v3} WHERE id = 10") == [(10, "anon", 9)]
    floe.execute("ROLLBACK")
    floe.execute(f"ALTER TABLE lake.{people_v3} ALTER COLUMN score DROP DEFAULT")
    score = field(catalog, people_v3, "score")
    assert (score.initial_default, score.write_default) == (7, None)
    assert duckdb_rows(floe, f"SELECT * FROM lake.{people_v3}") == ordered([row + (7,) for row in OLD_ROWS])


@pytest.mark.skipif(DUCKDB_1_5, reason="DuckDB 1.5 refuses constraints and typed literals in ADD COLUMN")
def test_a_required_column_with_a_default_may_join_rows(floe, catalog, people_v3):
    floe.execute(f"ALTER TABLE lake.{people_v3} ADD COLUMN score INTEGER NOT NULL DEFAULT 7")
    floe.execute(f"ALTER TABLE lake.{people_v3} ADD COLUMN since DATE NOT NULL DEFAULT DATE '2026-01-02'")
    since = datetime.date(2026, 1, 2)
    for name, value in (("score", 7), ("since", since)):
        added = field(catalog, people_v3, name)
        assert (added.required, added.initial_default, added.write_default) == (True, value, value)
    expected = ordered([row + (7, since) for row in OLD_ROWS])
    assert duckdb_rows(floe, f"SELECT * FROM lake.{people_v3}") == expected
    assert pyiceberg_rows(catalog, people_v3) == expected
    # Without a default the existing rows would have no value.
    message = refused(
        floe, catalog, people_v3, f"ALTER TABLE lake.{people_v3} ADD COLUMN city VARCHAR NOT NULL", "the table has rows"
    )
    assert "Fix:" in message
    # Nor may a column that rows were written with become required: they may hold NULL.
    refused(
        floe, catalog, people_v3, f"ALTER TABLE lake.{people_v3} ALTER COLUMN name SET NOT NULL", "the table has rows"
    )


def test_a_default_that_is_not_a_constant_is_refused(floe, catalog, people_v3):
    message = refused(
        floe,
        catalog,
        people_v3,
        f"ALTER TABLE lake.{people_v3} ALTER COLUMN name SET DEFAULT current_date::VARCHAR",
        "the DEFAULT is not a constant",
    )
    assert "Fix: use a constant DEFAULT" in message
    # DuckDB adds a column with a computed default as ADD ... DEFAULT NULL, an UPDATE and SET
    # DEFAULT in one transaction: none of it is committed.
    refused(floe, catalog, people_v3, f"ALTER TABLE lake.{people_v3} ADD COLUMN r DOUBLE DEFAULT random()", "")
    assert [f.name for f in catalog.load_table(people_v3).schema().fields] == ["id", "name"]
    with pytest.raises(duckdb.ConversionException):
        floe.execute(f"ALTER TABLE lake.{people_v3} ADD COLUMN n INTEGER DEFAULT 'many'")


def test_format_version_2_refuses_defaults_and_stays_as_it_was(floe, catalog, ns):
    people = create_people(floe, ns, 2)
    message = refused(
        floe, catalog, people, f"ALTER TABLE lake.{people} ADD COLUMN c INTEGER DEFAULT 5", "format version 2"
    )
    assert "its existing rows would read NULL" in message
    assert f"Fix: add the column without DEFAULT, then fill it: UPDATE {people} SET c = <default>" in message
    assert "SET ('format-version' = '3')" in message
    refused(floe, catalog, people, f"ALTER TABLE lake.{people} ALTER COLUMN name SET DEFAULT 'x'", "format version 2")
    assert [f.name for f in catalog.load_table(people).schema().fields] == ["id", "name"]


def test_a_struct_field_added_with_a_default(floe, official, catalog, ns):
    floe.execute(f"CREATE TABLE lake.{ns}.s AS SELECT i::INTEGER AS id, {{'a': i::INTEGER}} AS s FROM range(3) t(i)")
    floe.execute(f"ALTER TABLE lake.{ns}.s SET ('format-version' = '3')")
    floe.execute(f"ALTER TABLE lake.{ns}.s ADD COLUMN s.b INTEGER DEFAULT 3")
    added = catalog.load_table(f"{ns}.s").schema().find_field("s.b")
    assert (added.initial_default, added.write_default) == (3, 3)
    expected = ordered([(i, {"a": i, "b": 3}) for i in range(3)])
    assert duckdb_rows(floe, f"SELECT * FROM lake.{ns}.s") == expected
    assert pyiceberg_rows(catalog, f"{ns}.s") == expected
    assert duckdb_rows(official, f"SELECT * FROM lake.{ns}.s") == expected
