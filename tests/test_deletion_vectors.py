"""Iceberg format version 3 deletion vectors written by another engine, read by floe: the official
iceberg extension (DuckDB 1.5.5) deletes and updates rows of format-version 3 tables, writing one
Puffin `deletion-vector-v1` blob per data file touched, and floe reads exactly the rows that
engine and PyIceberg read.

SeaweedFS accepts only Parquet, ORC and Avro files under a table's `data/` in its table buckets
(the Iceberg layout check of weed/s3api/s3tables/iceberg_layout.go answers 403 to a `.puffin`),
so these tables keep their data files, and with them the Puffin files, under `write.data.path`
in the test bed's plain bucket `raw`."""

from __future__ import annotations

import json
import re
import urllib.request

import duckdb
import pytest
from pyiceberg.manifest import DataFileContent, FileFormat, ManifestEntryStatus

from tests.rows import duckdb_rows, pyiceberg_rows, sort_key


@pytest.fixture()
def ns(floe, request) -> str:
    name = "dv_" + re.sub("[^a-z0-9]+", "_", request.node.name.lower().removeprefix("test_"))[:32].strip("_")
    floe.execute(f"DROP SCHEMA IF EXISTS lake.{name} CASCADE")
    floe.execute(f"CREATE SCHEMA lake.{name}")
    return name


def create_table(official, ns: str, table: str, format_version: int = 3, partitioned_by: str = "") -> str:
    """(id BIGINT, v VARCHAR, part BIGINT) created by the official extension, its data in `raw`."""
    partitioning = f"PARTITIONED BY ({partitioned_by})" if partitioned_by else ""
    official.execute(
        f"CREATE TABLE lake.{ns}.{table} (id BIGINT, v VARCHAR, part BIGINT) {partitioning} "
        f"WITH ('format-version' = '{format_version}', 'write.data.path' = 's3://raw/{ns}/{table}/data')"
    )
    return f"lake.{ns}.{table}"


def ordered(rows: list[tuple]) -> list[tuple]:
    return sorted(rows, key=sort_key)


def entries(catalog, identifier: str):
    """The manifest entries of the current snapshot, removed ones included."""
    table = catalog.load_table(identifier)
    result = []
    for manifest in table.current_snapshot().manifests(table.io):
        result.extend(manifest.fetch_manifest_entry(table.io, discard_deleted=False))
    return result


def live_deletes(catalog, identifier: str) -> list:
    return [
        e.data_file
        for e in entries(catalog, identifier)
        if e.status != ManifestEntryStatus.DELETED and e.data_file.content == DataFileContent.POSITION_DELETES
    ]


def assert_every_engine_reads(floe, official, catalog, table: str, expected: list[tuple]) -> None:
    expected = ordered(expected)
    assert duckdb_rows(floe, f"SELECT * FROM {table}") == expected
    assert duckdb_rows(official, f"SELECT * FROM {table}") == expected
    assert pyiceberg_rows(catalog, table.removeprefix("lake.")) == expected


def test_deletes_and_updates_are_read_from_deletion_vectors(floe, official, catalog, ns):
    table = create_table(official, ns, "t")
    for start in (0, 100, 200):  # three data files
        official.execute(f"INSERT INTO {table} SELECT i, 'v' || i, i % 3 FROM range({start}, {start + 100}) t(i)")
    official.execute(f"DELETE FROM {table} WHERE id % 10 = 0")
    # One deletion vector per data file: each Puffin file is also handed to the two data files
    # it does not name (iceberg's planner matches position deletes by partition).
    vectors = live_deletes(catalog, f"{ns}.t")
    assert [(d.file_format, d.record_count) for d in vectors] == [(FileFormat.PUFFIN, 10)] * 3
    rows = {i: (i, f"v{i}", i % 3) for i in range(300) if i % 10 != 0}
    assert_every_engine_reads(floe, official, catalog, table, list(rows.values()))

    official.execute(f"UPDATE {table} SET v = 'new' || id WHERE id % 10 = 1")
    rows.update({i: (i, f"new{i}", i % 3) for i in rows if i % 10 == 1})
    assert_every_engine_reads(floe, official, catalog, table, list(rows.values()))
    assert {d.file_format for d in live_deletes(catalog, f"{ns}.t")} == {FileFormat.PUFFIN}

    # Deleted rows are gone from aggregates and from filtered scans alike.
    assert floe.execute(f"SELECT count(*), sum(id) FROM {table}").fetchall() == [(270, sum(rows))]
    assert duckdb_rows(floe, f"SELECT id FROM {table} WHERE id BETWEEN 95 AND 105") == ordered(
        [(i,) for i in range(95, 106) if i != 100]
    )
    # floe still writes no deletion vectors: format version 3 tables stay read-only to it.
    with pytest.raises(duckdb.Error, match="format version 3"):
        floe.execute(f"DELETE FROM {table} WHERE id = 5")


def test_a_second_delete_of_a_file_replaces_its_vector(floe, official, catalog, ns):
    table = create_table(official, ns, "t")
    official.execute(f"INSERT INTO {table} SELECT i, 'v' || i, i % 3 FROM range(1000) t(i)")
    official.execute(f"DELETE FROM {table} WHERE id % 10 = 0")
    first = catalog.load_table(f"{ns}.t").current_snapshot().snapshot_id
    official.execute(f"DELETE FROM {table} WHERE id % 10 = 1")

    deletes = [e for e in entries(catalog, f"{ns}.t") if e.data_file.content == DataFileContent.POSITION_DELETES]
    assert len(deletes) == 2 and {(e.status, e.data_file.record_count) for e in deletes} == {
        (ManifestEntryStatus.DELETED, 100),  # the first vector, replaced
        (ManifestEntryStatus.ADDED, 200),  # both deletes in one vector
    }
    expected = [(i, f"v{i}", i % 3) for i in range(1000) if i % 10 > 1]
    assert_every_engine_reads(floe, official, catalog, table, expected)
    # The snapshot before it still reads with the vector it had.
    at_first = ordered([(i, f"v{i}", i % 3) for i in range(1000) if i % 10 != 0])
    assert duckdb_rows(floe, f"SELECT * FROM {table} AT (VERSION => {first})") == at_first
    assert pyiceberg_rows(catalog, f"{ns}.t", snapshot_id=first) == at_first


def test_partitioned_table(floe, official, catalog, ns):
    table = create_table(official, ns, "p", partitioned_by="part")
    official.execute(f"INSERT INTO {table} SELECT i, 'v' || i, i % 3 FROM range(300) t(i)")
    official.execute(f"DELETE FROM {table} WHERE id % 7 = 0")
    official.execute(f"UPDATE {table} SET v = 'new' WHERE id % 7 = 1 AND part = 2")
    vectors = live_deletes(catalog, f"{ns}.p")
    assert len(vectors) == 3 and {d.file_format for d in vectors} == {FileFormat.PUFFIN}
    assert sorted(d.partition[0] for d in vectors) == [0, 1, 2]

    def row(i: int) -> tuple:
        return (i, "new" if i % 7 == 1 and i % 3 == 2 else f"v{i}", i % 3)

    assert_every_engine_reads(floe, official, catalog, table, [row(i) for i in range(300) if i % 7 != 0])
    assert duckdb_rows(floe, f"SELECT * FROM {table} WHERE part = 1") == ordered(
        [row(i) for i in range(300) if i % 7 != 0 and i % 3 == 1]
    )


def upgrade_to_format_version_3(testbed, catalog, identifier: str) -> None:
    """The REST catalog's `upgrade-format-version` update (PyIceberg 0.12 upgrades to 2 at most)."""
    namespace, name = identifier.split(".")
    uuid = str(catalog.load_table(identifier).metadata.table_uuid)
    body = {
        "requirements": [{"type": "assert-table-uuid", "uuid": uuid}],
        "updates": [{"action": "upgrade-format-version", "format-version": 3}],
    }
    request = urllib.request.Request(
        f"{testbed.catalog_uri}/v1/{testbed.warehouse}/namespaces/{namespace}/tables/{name}",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {testbed.token()}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10):
        pass
    assert catalog.load_table(identifier).metadata.format_version == 3


def test_position_deletes_from_before_the_upgrade_apply_with_the_vector(floe, official, catalog, testbed, ns):
    table = create_table(official, ns, "u", format_version=2)
    official.execute(f"INSERT INTO {table} SELECT i, 'v' || i, i % 3 FROM range(100) t(i)")
    official.execute(f"DELETE FROM {table} WHERE id % 10 = 0")
    upgrade_to_format_version_3(testbed, catalog, f"{ns}.u")
    official.execute(f"DELETE FROM {table} WHERE id % 10 = 1")
    # The Parquet position delete file stays live next to the data file's new deletion vector.
    formats = sorted(d.file_format.value for d in live_deletes(catalog, f"{ns}.u"))
    assert formats == [FileFormat.PARQUET.value, FileFormat.PUFFIN.value]
    assert_every_engine_reads(floe, official, catalog, table, [(i, f"v{i}", i % 3) for i in range(100) if i % 10 > 1])


def test_a_damaged_vector_is_a_storage_error_naming_it(floe, official, catalog, testbed, ns):
    table = create_table(official, ns, "t")
    official.execute(f"INSERT INTO {table} SELECT i, 'v' || i, i % 3 FROM range(100) t(i)")
    official.execute(f"DELETE FROM {table} WHERE id % 10 = 0")
    (vector,) = live_deletes(catalog, f"{ns}.t")
    s3 = testbed.pyarrow_s3()
    key = vector.file_path.removeprefix("s3://")
    with s3.open_input_stream(key) as stream:
        puffin = bytearray(stream.read())
    # Puffin magic, then the blob: its length, its magic, the bitmap (Puffin spec).
    assert puffin[0:4] == b"PFA1" and puffin[8:12] == bytes.fromhex("D1D33964")
    puffin[12] ^= 0x01  # the bitmap's first byte: the CRC-32 no longer matches
    with s3.open_output_stream(key) as stream:
        stream.write(bytes(puffin))
    with pytest.raises(duckdb.Error, match=r"fails its CRC-32 check.*Fix: ") as raised:
        floe.execute(f"SELECT * FROM {table}").fetchall()
    assert vector.file_path in str(raised.value)
