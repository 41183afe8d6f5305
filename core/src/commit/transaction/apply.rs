//! COMMIT: the transaction's operations applied to the catalog in order. Table changes that
//! follow each other gather in a batch committed together; a namespace change, a view change, a
//! rename or a drop of an existing table commits the batch first (the REST API has no atomic
//! form for those). Renaming or dropping a table created in the same transaction only changes
//! what will be committed.

use std::collections::HashMap;
use std::sync::Arc;

use super::operation::Op;
use super::work::{Change, Work};
use super::Transaction;
use crate::commit::snapshot::{live_data_files, Action, NewSnapshot};
use crate::error::{ErrorKind, Result};
use crate::rest::model::{CreateTableRequest, TableIdentifier};
use crate::table::LoadedTable;

impl Transaction {
    /// Applies `ops`; `batch` holds the works not committed yet when it fails, `doomed` those of
    /// tables created and dropped again in this transaction.
    pub(super) async fn apply(&self, ops: Vec<Op>, batch: &mut Vec<Work>, doomed: &mut Vec<Work>) -> Result<()> {
        for op in ops {
            match op {
                Op::CreateNamespace(namespace) => {
                    self.flush(batch).await?;
                    self.catalog.create_namespace(&namespace, HashMap::new()).await?;
                }
                Op::DropNamespace(namespace) => {
                    self.flush(batch).await?;
                    self.catalog.drop_namespace(&namespace).await?;
                }
                Op::Create { id, table } => batch.push(self.work(id, Change::Create { owns_files: true }, table)),
                Op::Replace { id, base, target, keep_layout } => {
                    batch.push(self.work(id, Change::Replace { base, keep_layout }, target))
                }
                Op::Alter { id, base, target, edit } => {
                    match batch.iter_mut().find(|w| Arc::ptr_eq(&w.target, &base)) {
                        Some(work) => work.alter(edit, target)?,
                        None => batch.push(self.work(id, Change::Evolve { base, edits: vec![edit] }, target)),
                    }
                }
                Op::Write { table, files, file_io } => {
                    let work = self.work_of(batch, table);
                    work.files.extend(files);
                    work.file_io = file_io;
                }
                Op::Delete { table, delta, file_io } => {
                    let work = self.work_of(batch, table);
                    work.delta.merge(delta);
                    work.file_io = file_io;
                }
                Op::RewriteManifests { table, file_io, snapshot } => {
                    let work = self.work_of(batch, table);
                    work.file_io = file_io;
                    work.snapshot = Some(snapshot);
                }
                Op::Drop { id, purge } => match batch.iter().position(|w| w.id == id && w.is_create()) {
                    Some(index) => doomed.push(batch.remove(index)),
                    None => {
                        self.flush(batch).await?;
                        self.catalog.drop_table(&id.namespace, &id.name, purge).await?;
                    }
                },
                Op::Swap { existing, backup, replacement } => {
                    if !self.swap(batch, &existing, &backup, &replacement).await? {
                        // Fall back to the two renames.
                        self.flush(batch).await?;
                        self.catalog.rename_table(&existing, &backup).await?;
                        self.catalog.rename_table(&replacement, &existing).await?;
                    }
                }
                Op::CreateView { id, view } => {
                    self.flush(batch).await?;
                    let version = &self.engine.duckdb_version;
                    let properties = self.governed(&id);
                    if view.replace {
                        self.catalog.replace_view(&id, &view.schema, &view.sql, version, properties).await?;
                    } else {
                        self.catalog.create_view(&id, &view.schema, &view.sql, version, properties).await?;
                    }
                }
                Op::ViewSwap { existing, backup, view } => {
                    self.flush(batch).await?;
                    let version = &self.engine.duckdb_version;
                    if let Some(old) = self.catalog.load_view(&existing).await? {
                        let sql = old.duckdb_sql(&existing)?;
                        let properties = old.metadata.properties().clone();
                        self.catalog
                            .create_view(&backup, old.metadata.current_schema(), &sql, version, properties)
                            .await?;
                    }
                    let properties = self.governed(&existing);
                    self.catalog.replace_view(&existing, &view.schema, &view.sql, version, properties).await?;
                }
                Op::DropView { id } => {
                    self.flush(batch).await?;
                    self.catalog.drop_view(&id).await?;
                }
                Op::RenameView { from, to } => {
                    self.flush(batch).await?;
                    self.catalog.rename_view(&from, &to).await?;
                }
                Op::Rename { from, to } => {
                    let restaged = match batch.iter_mut().find(|w| w.id == from && w.is_create()) {
                        Some(work) => self.restage(work, &to).await?,
                        None => false,
                    };
                    if !restaged {
                        self.flush(batch).await?;
                        self.catalog.rename_table(&from, &to).await?;
                    }
                }
            }
        }
        self.flush(batch).await
    }

    /// The batch's work for `table`, an append to it if it has none yet.
    fn work_of<'a>(&self, batch: &'a mut Vec<Work>, table: Arc<LoadedTable>) -> &'a mut Work {
        let index = match batch.iter().position(|w| Arc::ptr_eq(&w.target, &table)) {
            Some(index) => index,
            None => {
                let id = TableIdentifier { namespace: table.namespace.clone(), name: table.name.clone() };
                batch.push(self.work(id, Change::Append, table));
                batch.len() - 1
            }
        };
        &mut batch[index]
    }

    /// dbt's rebuild as one replace: the staged `replacement` becomes the new content of
    /// `existing`, and `backup` a new table holding `existing`'s current rows. False when that
    /// cannot be done: the replacement was committed already, or `existing`'s rows cannot be
    /// handed over file by file (delete files, an older partition spec).
    async fn swap(
        &self,
        batch: &mut Vec<Work>,
        existing: &TableIdentifier,
        backup: &TableIdentifier,
        replacement: &TableIdentifier,
    ) -> Result<bool> {
        let Some(index) = batch.iter().position(|w| w.id == *replacement && w.is_create()) else { return Ok(false) };
        let base = self.catalog.load_table(&existing.namespace, &existing.name).await?;
        let base =
            Arc::new(LoadedTable::from_catalog(&self.catalog, existing.namespace.clone(), existing.name.clone(), base));
        let Some(backup_work) = self.backup_of(&base, backup).await? else { return Ok(false) };
        let work = &mut batch[index];
        work.id = existing.clone();
        work.change = Change::Replace { base, keep_layout: false };
        batch.push(backup_work);
        Ok(true)
    }

    /// A table created in this transaction and renamed before COMMIT is created under its new
    /// name, staged there first with the same schema, partitioning, properties and location. A
    /// catalog creates at COMMIT what it staged; a create committed under a name it never staged
    /// starts from the catalog's own empty metadata, whose ids the staged snapshot need not match
    /// (SeaweedFS gave the schema id 1, and the snapshot named its empty schema 0).
    ///
    /// False when the catalog refuses the first name's location for the new name (Rustberg keeps
    /// each table's files under its own name's prefix, and moves none on a rename): the table is
    /// then committed under its first name and renamed, as that catalog's own rename would leave
    /// it. Its files stay where they were written; the first name is visible between the two.
    async fn restage(&self, work: &mut Work, to: &TableIdentifier) -> Result<bool> {
        let metadata = &work.target.metadata;
        let request = CreateTableRequest {
            name: to.name.clone(),
            location: Some(metadata.location().to_string()),
            schema: metadata.current_schema().as_ref().clone(),
            partition_spec: Some(metadata.default_partition_spec().as_ref().clone().into_unbound()),
            stage_create: true,
            properties: metadata.properties().clone(),
        };
        match self.catalog.create_table(&to.namespace, &request).await {
            Ok(_) => {
                work.id = to.clone();
                Ok(true)
            }
            // A create the catalog finds malformed in itself fails again at COMMIT, worded there.
            Err(e) if e.kind() == ErrorKind::InvalidInput => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// A new table `backup` holding `table`'s current rows: the same data files, listed in a
    /// manifest of its own (they stay owned by `table`: dropping the backup never purges them).
    async fn backup_of(&self, table: &LoadedTable, backup: &TableIdentifier) -> Result<Option<Work>> {
        let metadata = &table.metadata;
        let Some(files) = live_data_files(&self.file_io(table), metadata).await? else { return Ok(None) };
        let request = CreateTableRequest {
            name: backup.name.clone(),
            location: None,
            schema: metadata.current_schema().as_ref().clone(),
            partition_spec: Some(metadata.default_partition_spec().as_ref().clone().into_unbound()),
            stage_create: true,
            properties: metadata.properties().clone(),
        };
        let staged = self.catalog.create_table(&backup.namespace, &request).await?;
        let staged = Arc::new(LoadedTable::staged(&self.catalog, backup.namespace.clone(), &request, staged));
        let mut work = self.work(backup.clone(), Change::Create { owns_files: false }, staged);
        work.snapshot = Some(NewSnapshot::new(Action::Append, files));
        Ok(Some(work))
    }
}
