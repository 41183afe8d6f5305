"""ALTER TABLE through the catalog: every row of the evolution rule table, allowed and refused.

An allowed change is one catalog commit that PyIceberg and the official extension read back; a
refused one fails with the rule and the fix and leaves the table exactly as it was (the same
metadata file)."""

from __future__ import annotations

from decimal import Decimal

import duckdb
import pytest
from pyiceberg.types import DecimalType, DoubleType, IntegerType, LongType, StringType

from tests.rows import duckdb_rows, pyiceberg_rows
from tests.test_row_delete import ns, ordered, second_connection  # noqa: F401


def metadata_location(catalog, identifier: str) -> str:
    return catalog.load_table(identifier).metadata_location


def refused(floe, catalog, identifier: str, statement: str, match: str) -> str:
    """Runs `statement`, which must fail with `match`, and checks the table did not change."""
    before = metadata_location(catalog, identifier)
    with pytest.raises(duckdb.Error, match=match) as failure:
        floe.execute(statement)
    assert metadata_location(catalog, identifier) == before
    return str(failure.value)


@pytest.fixture()
def people(floe, ns) -> str:
    """A table with rows: id INTEGER, name VARCHAR, score FLOAT, amount DECIMAL(10,2)."""
    floe.execute(
        f"CREATE TABLE lake.{ns}.people AS SELECT i::INTEGER AS id, 'p' || i AS name, (i / 2)::FLOAT AS score, "
        f"(i * 1.5)::DECIMAL(10,2) AS amount FROM range(4) t(i)"
    )
    return f"{ns}.people"


def test_add_nullable_column_reads_null_in_old_rows(floe, official, catalog, people):
    last_id = catalog.load_table(people).metadata.last_column_id
    floe.execute(f"ALTER TABLE lake.{people} ADD COLUMN city VARCHAR")
    floe.execute(f"INSERT INTO lake.{people} VALUES (9, 'p9', 4.5, 13.5, 'Oslo')")
    field = catalog.load_table(people).schema().find_field("city")
    assert (field.field_id, field.required, field.field_type) == (last_id + 1, False, StringType())
    expected = ordered(
        [(i, f"p{i}", i / 2, Decimal(i * 1.5).quantize(Decimal("0.01")), None) for i in range(4)]
        + [(9, "p9", 4.5, Decimal("13.50"), "Oslo")]
    )
    assert duckdb_rows(floe, f"SELECT * FROM lake.{people}") == expected
    assert pyiceberg_rows(catalog, people) == expected
    assert duckdb_rows(official, f"SELECT * FROM lake.{people}") == expected


def test_add_required_column_only_to_an_empty_table(floe, catalog, people, ns):
    message = refused(
        floe, catalog, people, f"ALTER TABLE lake.{people} ADD COLUMN city VARCHAR NOT NULL", "the table has rows"
    )
    assert "Fix: keep the column nullable" in message
    assert [f.name for f in catalog.load_table(people).schema().fields] == ["id", "name", "score", "amount"]
    floe.execute(f"CREATE TABLE lake.{ns}.empty (id INTEGER)")
    floe.execute(f"ALTER TABLE lake.{ns}.empty ADD COLUMN city VARCHAR NOT NULL")
    assert catalog.load_table(f"{ns}.empty").schema().find_field("city").required
    with pytest.raises(duckdb.Error, match="NOT NULL"):
        floe.execute(f"INSERT INTO lake.{ns}.empty VALUES (1, NULL)")


def test_widening_promotes_old_files_in_every_engine(floe, official, catalog, people):
    floe.execute(f"ALTER TABLE lake.{people} ALTER COLUMN id TYPE BIGINT")
    floe.execute(f"ALTER TABLE lake.{people} ALTER COLUMN score TYPE DOUBLE")
    floe.execute(f"ALTER TABLE lake.{people} ALTER COLUMN amount TYPE DECIMAL(14,2)")
    schema = catalog.load_table(people).schema()
    assert [schema.find_field(c).field_type for c in ("id", "score", "amount")] == [
        LongType(),
        DoubleType(),
        DecimalType(14, 2),
    ]
    assert [schema.find_field(c).field_id for c in ("id", "score", "amount")] == [1, 3, 4]
    # Values only the new types hold, next to the old files' int, float and decimal(10,2).
    floe.execute(f"INSERT INTO lake.{people} VALUES (5000000000, 'big', 0.1, 123456789012.34)")
    assert floe.execute(f"SELECT typeof(id), typeof(score), typeof(amount) FROM lake.{people} LIMIT 1").fetchall() == [
        ("BIGINT", "DOUBLE", "DECIMAL(14,2)")
    ]
    expected = ordered(
        [(i, f"p{i}", i / 2, Decimal(i * 1.5).quantize(Decimal("0.01"))) for i in range(4)]
        + [(5000000000, "big", 0.1, Decimal("123456789012.34"))]
    )
    assert duckdb_rows(floe, f"SELECT * FROM lake.{people}") == expected
    assert pyiceberg_rows(catalog, people) == expected
    assert duckdb_rows(official, f"SELECT * FROM lake.{people}") == expected
    # Pruning decodes the old files' 4-byte bounds of the now 8-byte column.
    assert floe.execute(f"SELECT name FROM lake.{people} WHERE id > 4000000000").fetchall() == [("big",)]
    assert floe.execute(f"SELECT name FROM lake.{people} WHERE id = 2").fetchall() == [("p2",)]


@pytest.mark.parametrize(
    ("statement", "shown"),
    [
        ("ALTER COLUMN id TYPE SMALLINT", "from int to SMALLINT"),
        ("ALTER COLUMN score TYPE INTEGER", "from float to INTEGER"),
        ("ALTER COLUMN amount TYPE DECIMAL(12,3)", "from decimal\\(10, ?2\\) to DECIMAL\\(12,3\\)"),
        ("ALTER COLUMN amount TYPE DECIMAL(8,2)", "from decimal\\(10, ?2\\) to DECIMAL\\(8,2\\)"),
        ("ALTER COLUMN name TYPE INTEGER", "from string to INTEGER"),
    ],
)
def test_narrowing_and_other_type_changes_are_refused(floe, catalog, people, statement, shown):
    message = refused(floe, catalog, people, f"ALTER TABLE lake.{people} {statement}", shown)
    assert "Iceberg only widens types" in message
    assert "Fix: rewrite the table with the cast: CREATE OR REPLACE TABLE" in message


def test_narrowing_a_widened_column_is_refused(floe, catalog, people):
    floe.execute(f"ALTER TABLE lake.{people} ALTER COLUMN id TYPE BIGINT")
    refused(floe, catalog, people, f"ALTER TABLE lake.{people} ALTER COLUMN id TYPE INTEGER", "from long to INTEGER")
    refused(
        floe,
        catalog,
        people,
        f"ALTER TABLE lake.{people} ALTER COLUMN name TYPE INTEGER USING length(name)",
        "USING <expression> is not supported",
    )


def test_rename_keeps_the_column_and_its_data(floe, official, catalog, people):
    floe.execute(f"ALTER TABLE lake.{people} RENAME COLUMN name TO full_name")
    field = catalog.load_table(people).schema().find_field("full_name")
    assert field.field_id == 2
    expected = ordered([(i, f"p{i}") for i in range(4)])
    assert duckdb_rows(floe, f"SELECT id, full_name FROM lake.{people}") == expected
    # A filter on the new name, though the snapshot's schema has the old one.
    assert floe.execute(f"SELECT id FROM lake.{people} WHERE full_name = 'p2'").fetchall() == [(2,)]
    assert duckdb_rows(official, f"SELECT id, full_name FROM lake.{people}") == expected
    assert [r[:2] for r in pyiceberg_rows(catalog, people)] == expected
    refused(
        floe,
        catalog,
        people,
        f"ALTER TABLE lake.{people} RENAME COLUMN full_name TO id",
        "a column of that name exists",
    )


def test_drop_is_metadata_only_and_a_readded_name_is_a_new_column(floe, official, catalog, people):
    files_before = {f.file.file_path for f in catalog.load_table(people).scan().plan_files()}
    floe.execute(f"ALTER TABLE lake.{people} DROP COLUMN score")
    table = catalog.load_table(people)
    assert [f.name for f in table.schema().fields] == ["id", "name", "amount"]
    assert {f.file.file_path for f in table.scan().plan_files()} == files_before
    # The old files still hold "score" (field 3); the new column of that name is field 5.
    floe.execute(f"ALTER TABLE lake.{people} ADD COLUMN score DOUBLE")
    assert catalog.load_table(people).schema().find_field("score").field_id == 5
    expected = ordered([(i, None) for i in range(4)])
    assert duckdb_rows(floe, f"SELECT id, score FROM lake.{people}") == expected
    assert duckdb_rows(official, f"SELECT id, score FROM lake.{people}") == expected
    assert [(r[0], r[3]) for r in pyiceberg_rows(catalog, people)] == expected


def test_drop_of_a_partition_source_or_the_only_column_is_refused(floe, catalog, ns):
    floe.execute(f"CREATE TABLE lake.{ns}.p (id INTEGER, day DATE)")
    floe.execute(f"ALTER TABLE lake.{ns}.p SET PARTITIONED BY (month(day))")
    message = refused(floe, catalog, f"{ns}.p", f"ALTER TABLE lake.{ns}.p DROP COLUMN day", "partition field 'day_month'")
    assert "Fix: change the partitioning first" in message
    floe.execute(f"CREATE TABLE lake.{ns}.one (id INTEGER)")
    refused(floe, catalog, f"{ns}.one", f"ALTER TABLE lake.{ns}.one DROP COLUMN id", "the table's only column")
    refused(floe, catalog, f"{ns}.one", f"ALTER TABLE lake.{ns}.one DROP COLUMN nope", "has no column 'nope'")
    floe.execute(f"ALTER TABLE lake.{ns}.one DROP COLUMN IF EXISTS nope")


def test_identifier_columns_stay_required_and_cannot_be_dropped(floe, catalog, ns):
    from pyiceberg.schema import Schema
    from pyiceberg.types import NestedField

    schema = Schema(
        NestedField(1, "id", LongType(), required=True),
        NestedField(2, "v", StringType(), required=False),
        identifier_field_ids=[1],
    )
    catalog.create_table(f"{ns}.keyed", schema=schema)
    refused(floe, catalog, f"{ns}.keyed", f"ALTER TABLE lake.{ns}.keyed DROP COLUMN id", "identifier fields")
    refused(floe, catalog, f"{ns}.keyed", f"ALTER TABLE lake.{ns}.keyed ALTER id DROP NOT NULL", "identifier")
    floe.execute(f"ALTER TABLE lake.{ns}.keyed RENAME COLUMN id TO key")
    assert catalog.load_table(f"{ns}.keyed").schema().identifier_field_names() == {"key"}


def test_required_becomes_optional_never_the_reverse(floe, catalog, ns):
    floe.execute(f"CREATE TABLE lake.{ns}.r (id INTEGER NOT NULL, v VARCHAR)")
    floe.execute(f"INSERT INTO lake.{ns}.r VALUES (1, 'a')")
    floe.execute(f"ALTER TABLE lake.{ns}.r ALTER COLUMN id DROP NOT NULL")
    assert not catalog.load_table(f"{ns}.r").schema().find_field("id").required
    floe.execute(f"INSERT INTO lake.{ns}.r VALUES (NULL, 'b')")
    message = refused(floe, catalog, f"{ns}.r", f"ALTER TABLE lake.{ns}.r ALTER COLUMN v SET NOT NULL", "NOT NULL")
    assert "the table has rows" in message
    assert pyiceberg_rows(catalog, f"{ns}.r") == ordered([(1, "a"), (None, "b")])


def test_defaults_are_refused_with_the_update_that_fills_the_column(floe, catalog, people):
    message = refused(
        floe, catalog, people, f"ALTER TABLE lake.{people} ADD COLUMN c INTEGER DEFAULT 5", "format version 2"
    )
    assert f"Fix: add the column without DEFAULT, then fill it: UPDATE {people} SET c = <default>" in message
    # A computed default is an ADD, an UPDATE and a SET DEFAULT in one transaction: all or nothing.
    refused(floe, catalog, people, f"ALTER TABLE lake.{people} ADD COLUMN c DOUBLE DEFAULT random()", "DEFAULT")
    refused(floe, catalog, people, f"ALTER TABLE lake.{people} ALTER COLUMN name SET DEFAULT 'x'", "DEFAULT")


def test_struct_fields_are_added_renamed_and_dropped(floe, official, catalog, ns):
    floe.execute(f"CREATE TABLE lake.{ns}.s AS SELECT i AS id, {{'a': i, 'b': 'x' || i}} AS s FROM range(3) t(i)")
    floe.execute(f"ALTER TABLE lake.{ns}.s ADD COLUMN s.c INTEGER")
    floe.execute(f"ALTER TABLE lake.{ns}.s RENAME COLUMN s.a TO aa")
    floe.execute(f"ALTER TABLE lake.{ns}.s DROP COLUMN s.b")
    floe.execute(f"INSERT INTO lake.{ns}.s VALUES (7, {{'aa': 70, 'c': 700}})")
    struct = catalog.load_table(f"{ns}.s").schema().find_field("s").field_type
    assert [(f.name, f.field_type) for f in struct.fields] == [("aa", LongType()), ("c", IntegerType())]
    expected = ordered([(i, {"aa": i, "c": None}) for i in range(3)] + [(7, {"aa": 70, "c": 700})])
    assert duckdb_rows(floe, f"SELECT * FROM lake.{ns}.s") == expected
    assert duckdb_rows(official, f"SELECT * FROM lake.{ns}.s") == expected
    refused(floe, catalog, f"{ns}.s", f"ALTER TABLE lake.{ns}.s ADD COLUMN s.aa INTEGER", "already exists")


def test_comments_and_properties(floe, catalog, people):
    floe.execute(f"COMMENT ON COLUMN lake.{people}.name IS 'display name'")
    floe.execute(f"COMMENT ON TABLE lake.{people} IS 'who is who'")
    floe.execute(f"ALTER TABLE lake.{people} SET ('write.delete.mode' = 'copy-on-write', 'owner' = 'ops')")
    table = catalog.load_table(people)
    assert table.schema().find_field("name").doc == "display name"
    assert table.properties["comment"] == "who is who"
    assert (table.properties["write.delete.mode"], table.properties["owner"]) == ("copy-on-write", "ops")
    namespace = people.split(".")[0]
    assert floe.execute(
        f"SELECT comment FROM duckdb_columns() WHERE database_name = 'lake' AND schema_name = '{namespace}' "
        f"AND table_name = 'people' AND column_name = 'name'"
    ).fetchall() == [("display name",)]
    floe.execute(f"ALTER TABLE lake.{people} RESET ('owner')")
    floe.execute(f"COMMENT ON TABLE lake.{people} IS NULL")
    properties = catalog.load_table(people).properties
    assert "owner" not in properties and "comment" not in properties
    refused(floe, catalog, people, f"ALTER TABLE lake.{people} RESET ('format-version')", "never goes back")


def test_alters_and_writes_commit_together(floe, extension, testbed, catalog, people):
    snapshots = len(catalog.load_table(people).snapshots())
    floe.execute("BEGIN")
    floe.execute(f"ALTER TABLE lake.{people} ADD COLUMN city VARCHAR")
    floe.execute(f"ALTER TABLE lake.{people} RENAME COLUMN name TO full_name")
    floe.execute(f"INSERT INTO lake.{people} (id, full_name, city) VALUES (10, 'p10', 'Rome')")
    assert floe.execute(f"SELECT full_name, city FROM lake.{people} WHERE id = 10").fetchall() == [("p10", "Rome")]
    other = second_connection(extension, testbed)
    assert [c[0] for c in other.execute(f"DESCRIBE lake.{people}").fetchall()] == ["id", "name", "score", "amount"]
    floe.execute("COMMIT")
    table = catalog.load_table(people)
    assert [f.name for f in table.schema().fields] == ["id", "full_name", "score", "amount", "city"]
    assert len(table.snapshots()) == snapshots + 1
    assert (10, "p10", None, None, "Rome") in pyiceberg_rows(catalog, people)


def test_schema_edits_follow_writes_in_one_transaction_but_a_new_partitioning_does_not(floe, catalog, people):
    snapshots = len(catalog.load_table(people).snapshots())
    # dbt's change of a column type: ADD, UPDATE, DROP, RENAME in one transaction.
    floe.execute("BEGIN")
    floe.execute(f"INSERT INTO lake.{people} VALUES (10, 'p10', 5, 15)")
    floe.execute(f"ALTER TABLE lake.{people} ADD COLUMN id__new BIGINT")
    floe.execute(f"UPDATE lake.{people} SET id__new = id::BIGINT * 1000000000")
    floe.execute(f"ALTER TABLE lake.{people} DROP COLUMN id")
    floe.execute(f"ALTER TABLE lake.{people} RENAME COLUMN id__new TO id")
    # Later statements see the rows written before the ALTERs, under the new schema.
    floe.execute(f"DELETE FROM lake.{people} WHERE name = 'p3'")
    assert floe.execute(f"SELECT count(*), sum(id) FROM lake.{people}").fetchall() == [(4, 13000000000)]
    floe.execute("COMMIT")
    table = catalog.load_table(people)
    assert [f.name for f in table.schema().fields] == ["name", "score", "amount", "id"]
    assert len(table.snapshots()) == snapshots + 1
    expected = ordered([(f"p{i}", i * 1000000000) for i in (0, 1, 2, 10)])
    assert [(r[0], r[3]) for r in pyiceberg_rows(catalog, people)] == expected

    before = metadata_location(catalog, people)
    floe.execute("BEGIN")
    floe.execute(f"INSERT INTO lake.{people} VALUES ('p11', 5, 15, 11)")
    with pytest.raises(duckdb.Error, match="after writing to it in the same transaction"):
        floe.execute(f"ALTER TABLE lake.{people} SET PARTITIONED BY (name)")
    floe.execute("ROLLBACK")
    assert metadata_location(catalog, people) == before


def test_a_concurrent_schema_change_is_reloaded_and_the_alter_checked_again(floe, extension, testbed, catalog, people):
    other = second_connection(extension, testbed)
    floe.execute("BEGIN")
    floe.execute(f"ALTER TABLE lake.{people} ADD COLUMN city VARCHAR")
    other.execute(f"ALTER TABLE lake.{people} ADD COLUMN country VARCHAR")
    floe.execute("COMMIT")
    schema = catalog.load_table(people).schema()
    assert [f.name for f in schema.fields][-2:] == ["country", "city"]
    assert schema.find_field("country").field_id != schema.find_field("city").field_id

    # Re-checked, not re-applied blindly: the column it widens was dropped meanwhile.
    floe.execute("BEGIN")
    floe.execute(f"ALTER TABLE lake.{people} ALTER COLUMN score TYPE DOUBLE")
    other.execute(f"ALTER TABLE lake.{people} DROP COLUMN score")
    before = metadata_location(catalog, people)
    with pytest.raises(duckdb.Error, match="has no column 'score'"):
        floe.execute("COMMIT")
    assert metadata_location(catalog, people) == before


def test_rows_written_after_an_alter_are_not_committed_on_another_schema(floe, extension, testbed, catalog, people):
    other = second_connection(extension, testbed)
    floe.execute("BEGIN")
    floe.execute(f"ALTER TABLE lake.{people} ADD COLUMN city VARCHAR")
    floe.execute(f"INSERT INTO lake.{people} VALUES (10, 'p10', 5, 15, 'Rome')")
    other.execute(f"ALTER TABLE lake.{people} ADD COLUMN country VARCHAR")
    before = metadata_location(catalog, people)
    with pytest.raises(duckdb.Error, match="changed by another writer while rows were written"):
        floe.execute("COMMIT")
    assert metadata_location(catalog, people) == before
    assert len(pyiceberg_rows(catalog, people)) == 4
