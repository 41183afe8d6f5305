//! One table's part of a commit: what changes (a creation, an append, a replace, ALTER TABLE
//! edits), the files that go with it, and the catalog change for each attempt, built on
//! the table as the catalog last showed it.

use std::collections::BTreeMap;
use std::sync::Arc;

use iceberg::io::FileIO;
use iceberg::spec::{PartitionSpec, Schema, SortOrder, TableMetadata, TableMetadataBuildResult, TableMetadataBuilder};
use iceberg::{TableRequirement, TableUpdate};

use super::display;
use crate::commit::data_file::{data_file, WrittenFile};
use crate::commit::evolution::{evolve, TableEdit};
use crate::commit::row_level::{RowDelta, RowOperation};
use crate::commit::snapshot::{snapshot_updates, Action, Engine, NewSnapshot};
use crate::commit::sort_order::with_default_sort_order;
use crate::error::{Error, ErrorKind, Result};
use crate::rest::model::{TableChange, TableIdentifier};
use crate::table::LoadedTable;

/// What the commit does to the table.
pub(super) enum Change {
    /// A table new in this transaction (staged). `owns_files` is false for a swap's backup,
    /// whose data files belong to the swapped table: they are never deleted with it.
    Create { owns_files: bool },
    /// Files added to the table as the transaction loaded it (the work's `target`).
    Append,
    /// Every row replaced (CREATE OR REPLACE, TRUNCATE) in `base`, the table as first loaded.
    /// `keep_layout`: keep the schema and partition spec (TRUNCATE).
    Replace { base: Arc<LoadedTable>, keep_layout: bool },
    /// ALTER TABLE edits of `base` (schema, partitioning, properties), with the files written
    /// after them.
    Evolve { base: Arc<LoadedTable>, edits: Vec<TableEdit> },
}

pub(super) struct Work {
    pub id: TableIdentifier,
    pub change: Change,
    /// The metadata the files were written against (staged, replaced or loaded).
    pub target: Arc<LoadedTable>,
    pub files: Vec<WrittenFile>,
    /// Rows deleted by DELETE, UPDATE and MERGE statements.
    pub delta: RowDelta,
    /// Storage access for the manifests and for removing the files after a failure.
    pub file_io: FileIO,
    /// Created by the first attempt; a retry writes only a new manifest list.
    pub snapshot: Option<NewSnapshot>,
    /// Summary properties of the snapshot beyond floe's own: lineage, the session's.
    pub annotations: BTreeMap<String, String>,
    /// The name the table's statements wrote it under (`commit::lineage`): a table created and
    /// renamed in the transaction keeps its first name's lineage.
    pub lineage_key: String,
}

impl Work {
    pub fn new(id: TableIdentifier, change: Change, target: Arc<LoadedTable>, file_io: FileIO) -> Self {
        Work {
            id,
            change,
            target,
            files: Vec::new(),
            delta: RowDelta::default(),
            file_io,
            snapshot: None,
            annotations: BTreeMap::new(),
            lineage_key: String::new(),
        }
    }

    pub fn is_create(&self) -> bool {
        matches!(self.change, Change::Create { .. })
    }

    /// Only adds rows, or only compacts (checked against the winners on each attempt): commutes
    /// with concurrent appends, so a lost race is simply retried.
    pub fn is_append(&self) -> bool {
        matches!(self.change, Change::Append) && self.delta.operations.iter().all(|op| *op == RowOperation::Rewrite)
    }

    /// The table as loaded when the transaction first used it; none for a new table.
    pub fn base(&self) -> Option<&Arc<LoadedTable>> {
        match &self.change {
            Change::Create { .. } => None,
            Change::Append => Some(&self.target),
            Change::Replace { base, .. } | Change::Evolve { base, .. } => Some(base),
        }
    }

    /// Whether the data files are this table's: false for a swap's backup.
    pub fn owns_files(&self) -> bool {
        !matches!(self.change, Change::Create { owns_files: false })
    }

    /// The catalog change for this attempt, on `base` (the reloaded table for a retry; none
    /// for a new table).
    pub async fn change(&mut self, base: Option<&TableMetadata>, engine: &Engine) -> Result<TableChange> {
        let target = self.target.metadata.clone();
        let file_io = self.file_io.clone();
        let (requirements, updates) = match (&self.change, base) {
            (Change::Create { .. }, _) => {
                let mut updates = creation_updates(&target);
                if self.snapshot.is_some() || !self.files.is_empty() {
                    let snapshot = self.snapshot_for(&target, Action::Append)?;
                    updates.extend(snapshot_updates(snapshot.snapshot_on(&file_io, &target, engine).await?));
                }
                (vec![TableRequirement::NotExist], updates)
            }
            (Change::Append, Some(base)) => {
                check_unchanged_layout(&self.id, &target, base)?;
                if base.current_snapshot_id() != target.current_snapshot_id() {
                    self.delta.check_on(&self.target, &file_io, base).await?;
                }
                self.snapshot_for(&target, Action::Append)?.change_on(&file_io, base, engine).await?
            }
            (Change::Replace { base: first, keep_layout }, Some(base)) => {
                // The new schema's field ids follow the base's last one; a concurrent schema
                // change invalidates them.
                if base.last_column_id() != first.metadata.last_column_id() {
                    return Err(Error::new(
                        ErrorKind::CommitConflict,
                        format!("The schema of table '{}' changed while it was being replaced", display(&self.id)),
                    )
                    .with_fix("run the CREATE OR REPLACE again"));
                }
                let rebuilt = if *keep_layout {
                    TableMetadataBuilder::new_from_metadata(base.clone(), None).build()?
                } else {
                    replaced_metadata(base, target.current_schema().as_ref().clone())?
                };
                let mut updates = rebuilt.changes;
                let snapshot = self.snapshot_for(&rebuilt.metadata, Action::ReplaceAll)?;
                updates.extend(snapshot_updates(snapshot.snapshot_on(&file_io, &rebuilt.metadata, engine).await?));
                let requirement =
                    TableRequirement::LastAssignedFieldIdMatch { last_assigned_field_id: base.last_column_id() };
                (based_on(base, requirement), updates)
            }
            (Change::Evolve { edits, base: first }, Some(base)) => {
                if base.current_snapshot_id() != first.metadata.current_snapshot_id() {
                    self.delta.check_on(first, &file_io, base).await?;
                }
                // Checked again on the table as it is now: another engine's change in between is
                // either compatible with the edits or refuses them.
                let evolved = evolve(base, edits, &display(&self.id))?;
                let writes = !self.files.is_empty() || !self.delta.is_empty();
                if writes && !same_layout(&evolved.metadata, &target) {
                    return Err(Error::new(
                        ErrorKind::CommitConflict,
                        format!(
                            "The schema, partitioning or sort order of table '{}' was changed by another writer while rows were written after an ALTER TABLE",
                            display(&self.id)
                        ),
                    )
                    .with_fix("run the transaction again: it will see the other change"));
                }
                let mut updates = evolved.changes;
                let mut requirements = vec![
                    TableRequirement::UuidMatch { uuid: base.uuid() },
                    TableRequirement::CurrentSchemaIdMatch { current_schema_id: base.current_schema_id() },
                    TableRequirement::LastAssignedFieldIdMatch { last_assigned_field_id: base.last_column_id() },
                    TableRequirement::DefaultSpecIdMatch { default_spec_id: base.default_partition_spec_id() },
                    TableRequirement::DefaultSortOrderIdMatch { default_sort_order_id: base.default_sort_order_id() },
                ];
                if writes {
                    let snapshot = self.snapshot_for(&evolved.metadata, Action::Append)?;
                    updates.extend(snapshot_updates(snapshot.snapshot_on(&file_io, &evolved.metadata, engine).await?));
                    requirements.push(TableRequirement::RefSnapshotIdMatch {
                        r#ref: "main".into(),
                        snapshot_id: base.current_snapshot_id(),
                    });
                }
                (requirements, updates)
            }
            (_, None) => {
                return Err(Error::internal(format!(
                    "the change of existing table '{}' lost its base",
                    display(&self.id)
                )))
            }
        };
        Ok(TableChange { identifier: self.id.clone(), requirements, updates })
    }

    /// An ALTER TABLE of this work's table, whose edited state is now `target`: appended rows
    /// are then committed with the edits (`Transaction::alter` refuses what they cannot follow).
    pub fn alter(&mut self, edit: TableEdit, target: Arc<LoadedTable>) -> Result<()> {
        match &mut self.change {
            Change::Evolve { edits, .. } => edits.push(edit),
            Change::Create { .. } => {}
            Change::Append => self.change = Change::Evolve { base: self.target.clone(), edits: vec![edit] },
            Change::Replace { .. } => {
                return Err(Error::internal(format!(
                    "an ALTER TABLE of '{}' followed a write it cannot follow",
                    display(&self.id)
                )))
            }
        }
        self.target = target;
        Ok(())
    }

    /// The new snapshot, its data files described against `metadata` (the table as it will be
    /// committed: schema and partition spec ids must match).
    fn snapshot_for(&mut self, metadata: &TableMetadata, action: Action) -> Result<&mut NewSnapshot> {
        let mut snapshot = match self.snapshot.take() {
            Some(snapshot) => snapshot,
            None => {
                let files = self
                    .files
                    .iter()
                    .map(|f| data_file(f, metadata, &self.target.metadata))
                    .collect::<Result<Vec<_>>>()?;
                NewSnapshot::new(action, files).with_row_delta(
                    self.delta.delete_files.clone(),
                    self.delta.rewritten.clone(),
                    self.delta.removed.clone(),
                    self.delta.data_sequence_number,
                )
            }
        };
        snapshot.annotate(&self.annotations);
        Ok(self.snapshot.insert(snapshot))
    }

    /// Manifest lists of attempts that lost a race; the committed one is the last.
    pub async fn remove_stale_attempts(&self) {
        let Some(snapshot) = &self.snapshot else { return };
        for path in snapshot.stale_files() {
            let _ = self.file_io.delete(path).await;
        }
    }

    /// After a failed commit: the data files (unless they belong to another table) and every
    /// manifest and manifest list written for them.
    pub async fn remove_files(&self) {
        if !self.owns_files() {
            return;
        }
        for file in &self.files {
            let _ = self.file_io.delete(&file.path).await;
        }
        if let Some(snapshot) = &self.snapshot {
            for path in &snapshot.written {
                let _ = self.file_io.delete(path).await;
            }
        }
    }
}

/// Data files carry the partition values of the spec they were written for; if another writer
/// changed the spec meanwhile they no longer fit, and the commit must not be re-applied.
/// What a change built on `base` asserts: the same table at the same snapshot, and `also`.
fn based_on(base: &TableMetadata, also: TableRequirement) -> Vec<TableRequirement> {
    vec![
        TableRequirement::UuidMatch { uuid: base.uuid() },
        TableRequirement::RefSnapshotIdMatch { r#ref: "main".into(), snapshot_id: base.current_snapshot_id() },
        also,
    ]
}

fn check_unchanged_layout(id: &TableIdentifier, written_for: &TableMetadata, base: &TableMetadata) -> Result<()> {
    if written_for.default_partition_spec_id() != base.default_partition_spec_id() {
        return Err(Error::new(
            ErrorKind::CommitConflict,
            format!("The partitioning of table '{}' changed while rows were being written into it", display(id)),
        )
        .with_fix("run the statement again: it will write with the new partitioning"));
    }
    Ok(())
}

/// The metadata of `base` with `schema` as current schema, no partitioning and no sort order
/// (the old order's columns are gone), plus the updates that make it so.
pub(super) fn replaced_metadata(base: &TableMetadata, schema: Schema) -> Result<TableMetadataBuildResult> {
    let builder = TableMetadataBuilder::new_from_metadata(base.clone(), None)
        .add_current_schema(schema)?
        .add_default_partition_spec(PartitionSpec::unpartition_spec().into_unbound())?;
    Ok(with_default_sort_order(base, builder, SortOrder::unsorted_order())?.build()?)
}

/// Whether files written for `written_for` fit `metadata`: the same columns (ids, names,
/// types), the same partition fields and the same sort order.
fn same_layout(metadata: &TableMetadata, written_for: &TableMetadata) -> bool {
    metadata.current_schema().as_struct() == written_for.current_schema().as_struct()
        && metadata.default_partition_spec().fields() == written_for.default_partition_spec().fields()
        && metadata.default_sort_order().fields == written_for.default_sort_order().fields
}

/// The updates that create a staged table from its staged metadata (REST spec: create-table
/// transactions commit with `assert-create` and the full metadata as updates).
fn creation_updates(metadata: &TableMetadata) -> Vec<TableUpdate> {
    vec![
        TableUpdate::AssignUuid { uuid: metadata.uuid() },
        TableUpdate::UpgradeFormatVersion { format_version: metadata.format_version() },
        TableUpdate::AddSchema { schema: metadata.current_schema().as_ref().clone() },
        TableUpdate::SetCurrentSchema { schema_id: -1 },
        TableUpdate::AddSpec { spec: metadata.default_partition_spec().as_ref().clone().into_unbound() },
        TableUpdate::SetDefaultSpec { spec_id: -1 },
        TableUpdate::AddSortOrder { sort_order: metadata.default_sort_order().as_ref().clone() },
        TableUpdate::SetDefaultSortOrder { sort_order_id: -1 },
        TableUpdate::SetLocation { location: metadata.location().to_string() },
        TableUpdate::SetProperties { updates: metadata.properties().clone() },
    ]
}
