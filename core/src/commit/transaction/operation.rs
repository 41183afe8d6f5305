//! What the statements of a DuckDB transaction asked for, in the order they ran; nothing
//! reaches the catalog before COMMIT.

use std::sync::Arc;

use iceberg::io::FileIO;
use iceberg::spec::Schema;

use crate::commit::data_file::WrittenFile;
use crate::commit::evolution::TableEdit;
use crate::commit::row_level::RowDelta;
use crate::commit::snapshot::NewSnapshot;
use crate::rest::model::TableIdentifier;
use crate::rest::Namespace;
use crate::table::LoadedTable;

pub(super) enum Op {
    CreateNamespace(Namespace),
    DropNamespace(Namespace),
    /// A table staged at CREATE TABLE (AS): created by the commit.
    Create {
        id: TableIdentifier,
        table: Arc<LoadedTable>,
    },
    /// CREATE OR REPLACE of an existing table: `target` is its new metadata (schema, spec).
    /// TRUNCATE is a replace that keeps the schema and spec.
    Replace {
        id: TableIdentifier,
        base: Arc<LoadedTable>,
        target: Arc<LoadedTable>,
        keep_layout: bool,
    },
    /// An ALTER TABLE of `base`: `target` is the table with the edit applied, which later
    /// statements of the transaction use.
    Alter {
        id: TableIdentifier,
        base: Arc<LoadedTable>,
        target: Arc<LoadedTable>,
        edit: TableEdit,
    },
    /// Files a statement wrote into `table` (as it was loaded, staged or replaced).
    Write {
        table: Arc<LoadedTable>,
        files: Vec<WrittenFile>,
        file_io: FileIO,
    },
    /// Rows a DELETE, UPDATE or MERGE removed from `table` (as loaded, staged or replaced).
    Delete {
        table: Arc<LoadedTable>,
        delta: RowDelta,
        file_io: FileIO,
    },
    /// `floe_rewrite_manifests`: `table`'s manifests merged into as few as the target size allows,
    /// by `snapshot`, which merged those of `table` as loaded already.
    RewriteManifests {
        table: Arc<LoadedTable>,
        file_io: FileIO,
        snapshot: NewSnapshot,
    },
    Drop {
        id: TableIdentifier,
        purge: bool,
    },
    Rename {
        from: TableIdentifier,
        to: TableIdentifier,
    },
    /// `existing` renamed to `backup`, then the new table `replacement` renamed to `existing`.
    Swap {
        existing: TableIdentifier,
        backup: TableIdentifier,
        replacement: TableIdentifier,
    },
    CreateView {
        id: TableIdentifier,
        view: NewView,
    },
    DropView {
        id: TableIdentifier,
    },
    RenameView {
        from: TableIdentifier,
        to: TableIdentifier,
    },
    /// `existing` renamed to `backup`, then a view created in this transaction renamed to
    /// `existing`: committed as a new version of `existing` (and `backup` with the old SQL).
    ViewSwap {
        existing: TableIdentifier,
        backup: TableIdentifier,
        view: NewView,
    },
}

impl Op {
    /// Whether committing this changes table `id`.
    /// The table whose rows or layout this operation changes, for its lineage; none for
    /// maintenance, drops, renames and everything that is not a table.
    pub(super) fn written_table(&self) -> Option<TableIdentifier> {
        match self {
            Op::Create { id, .. } | Op::Replace { id, .. } | Op::Alter { id, .. } => Some(id.clone()),
            Op::Write { table, .. } | Op::Delete { table, .. } => {
                Some(TableIdentifier { namespace: table.namespace.clone(), name: table.name.clone() })
            }
            _ => None,
        }
    }

    pub(super) fn changes_table(&self, id: &TableIdentifier) -> bool {
        let is = |other: &TableIdentifier| other.namespace == id.namespace && other.name == id.name;
        match self {
            Op::Create { id: target, .. }
            | Op::Replace { id: target, .. }
            | Op::Alter { id: target, .. }
            | Op::Drop { id: target, .. } => is(target),
            Op::Write { table, .. } | Op::Delete { table, .. } | Op::RewriteManifests { table, .. } => {
                table.namespace == id.namespace && table.name == id.name
            }
            Op::Rename { from, to } => is(from) || is(to),
            Op::Swap { existing, backup, replacement } => is(existing) || is(backup) || is(replacement),
            Op::CreateNamespace(_)
            | Op::DropNamespace(_)
            | Op::CreateView { .. }
            | Op::DropView { .. }
            | Op::RenameView { .. }
            | Op::ViewSwap { .. } => false,
        }
    }
}

/// A view as CREATE VIEW defined it.
#[derive(Clone)]
pub(super) struct NewView {
    pub schema: Schema,
    pub sql: String,
    /// CREATE OR REPLACE VIEW, or the new version of a view swapped in by renames.
    pub replace: bool,
}

/// A table as this transaction's statements saw it: its current state and the states before
/// each of the transaction's ALTERs of it, which earlier statements recorded their writes
/// against.
pub(super) struct Versions(Vec<Arc<LoadedTable>>);

impl Versions {
    pub fn of(ops: &[Op], table: &Arc<LoadedTable>) -> Self {
        let mut versions = vec![table.clone()];
        for op in ops.iter().rev() {
            if let Op::Alter { base, target, .. } = op {
                if versions.iter().any(|v| Arc::ptr_eq(v, target)) {
                    versions.push(base.clone());
                }
            }
        }
        Versions(versions)
    }

    pub fn contains(&self, table: &Arc<LoadedTable>) -> bool {
        self.0.iter().any(|v| Arc::ptr_eq(v, table))
    }
}
