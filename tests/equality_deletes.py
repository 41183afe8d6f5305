"""A table with equality delete files, which no engine on the test bed writes (PyIceberg rewrites
data files, DuckDB's official extension writes positional deletes), so they are written here
the way Flink or Iceberg Java writes them: a Parquet file of key values, listed in a delete
manifest of a new snapshot, committed through the REST catalog with PyIceberg's own writers."""

from __future__ import annotations

import time
import uuid

import pyarrow as pa
import pyarrow.parquet as pq
from pyiceberg.catalog import Catalog
from pyiceberg.manifest import (
    DataFile,
    DataFileContent,
    FileFormat,
    ManifestContent,
    ManifestEntry,
    ManifestEntryStatus,
    ManifestWriterV2,
    write_manifest_list,
)
from pyiceberg.schema import Schema
from pyiceberg.table.snapshots import Operation, Snapshot, Summary
from pyiceberg.table.update import AddSnapshotUpdate, AssertRefSnapshotId, SetSnapshotRefUpdate
from pyiceberg.typedef import Record
from pyiceberg.types import LongType, NestedField, StringType


class _DeleteManifestWriter(ManifestWriterV2):
    """PyIceberg writes data manifests only; a delete manifest differs in its content marker."""

    def content(self) -> ManifestContent:
        return ManifestContent.DELETES

    @property
    def _meta(self) -> dict[str, str]:
        return {**super()._meta, "content": "deletes"}


def delete_by_equality(catalog: Catalog, identifier: str, column: str, values: list) -> None:
    """Commits one equality delete file on `column` removing rows whose value is in `values`."""
    table = catalog.load_table(identifier)
    metadata = table.metadata
    schema = table.schema()
    field = schema.find_field(column)
    parent = metadata.current_snapshot()
    snapshot_id = int(uuid.uuid4().int % (2**62))
    sequence_number = metadata.next_sequence_number()

    # The delete file: the key column only, carrying its Iceberg field id.
    arrow_type = pa.int64() if isinstance(field.field_type, LongType) else pa.string()
    arrow_schema = pa.schema([pa.field(column, arrow_type, metadata={b"PARQUET:field_id": str(field.field_id).encode()})])
    path = f"{metadata.location}/data/eq-delete-{uuid.uuid4()}.parquet"
    output = table.io.new_output(path)
    with output.create() as stream:
        pq.write_table(pa.table({column: pa.array(values, arrow_type)}, schema=arrow_schema), stream)
    size = len(table.io.new_input(path).open().read())

    delete_file = DataFile.from_args(
        content=DataFileContent.EQUALITY_DELETES,
        file_path=path,
        file_format=FileFormat.PARQUET,
        partition=Record(),
        record_count=len(values),
        file_size_in_bytes=size,
        equality_ids=[field.field_id],
    )
    delete_file.spec_id = metadata.default_spec_id
    manifest_path = f"{metadata.location}/metadata/{uuid.uuid4()}-m0.avro"
    with _DeleteManifestWriter(
        table.spec(), schema, table.io.new_output(manifest_path), snapshot_id, "deflate"
    ) as writer:
        writer.add(
            ManifestEntry.from_args(
                status=ManifestEntryStatus.ADDED, snapshot_id=snapshot_id, sequence_number=None, data_file=delete_file
            )
        )
    delete_manifest = writer.to_manifest_file()

    list_path = f"{metadata.location}/metadata/snap-{snapshot_id}-{uuid.uuid4()}.avro"
    with write_manifest_list(
        2, table.io.new_output(list_path), snapshot_id, parent.snapshot_id, sequence_number, "deflate"
    ) as manifests:
        manifests.add_manifests([*parent.manifests(table.io), delete_manifest])

    snapshot = Snapshot(
        snapshot_id=snapshot_id,
        parent_snapshot_id=parent.snapshot_id,
        sequence_number=sequence_number,
        timestamp_ms=int(time.time() * 1000),
        manifest_list=list_path,
        summary=Summary(operation=Operation.DELETE, **{"added-delete-files": "1", "added-equality-deletes": str(len(values))}),
        schema_id=schema.schema_id,
    )
    catalog.commit_table(
        table,
        requirements=(AssertRefSnapshotId(ref="main", snapshot_id=parent.snapshot_id),),
        updates=(
            AddSnapshotUpdate(snapshot=snapshot),
            SetSnapshotRefUpdate(ref_name="main", type="branch", snapshot_id=snapshot_id),
        ),
    )


def with_equality_deletes(catalog: Catalog, namespace: str) -> tuple[str, list[tuple]]:
    """`eq_deleted`: 300 rows in two data files, then equality deletes on `id` and on `region`,
    then 10 more rows whose ids were deleted before (a later sequence number: they stay).
    Returns the identifier and the rows every reader must return."""
    identifier = f"{namespace}.eq_deleted"
    catalog.create_namespace_if_not_exists(namespace)
    if catalog.table_exists(identifier):
        catalog.drop_table(identifier)
    schema = Schema(NestedField(1, "id", LongType()), NestedField(2, "region", StringType()))
    table = catalog.create_table(identifier, schema=schema, properties={"format-version": "2"})
    regions = ["us", "eu", "apac", "latam"]
    rows = [(i, regions[i % 4]) for i in range(300)]
    for part in (rows[:150], rows[150:]):
        table.append(pa.table({"id": pa.array([r[0] for r in part], pa.int64()), "region": [r[1] for r in part]}))
    deleted_ids = list(range(0, 300, 7))
    delete_by_equality(catalog, identifier, "id", deleted_ids)
    delete_by_equality(catalog, identifier, "region", ["latam"])
    late = [(i, "eu") for i in deleted_ids[:10]]
    catalog.load_table(identifier).append(
        pa.table({"id": pa.array([r[0] for r in late], pa.int64()), "region": [r[1] for r in late]})
    )
    expected = [r for r in rows if r[0] not in set(deleted_ids) and r[1] != "latam"] + late
    return identifier, sorted(expected)
