//! One DuckDB transaction's changes to a catalog, recorded as statements run and committed at
//! DuckDB COMMIT.
//!
//! ```no_run
//! # async fn demo(catalog: std::sync::Arc<floe_core::rest::RestCatalog>,
//! #               table: std::sync::Arc<floe_core::table::LoadedTable>,
//! #               files: Vec<floe_core::commit::data_file::WrittenFile>) -> floe_core::Result<()> {
//! use floe_core::commit::{snapshot::Engine, Transaction};
//! let transaction = Transaction::new(catalog, Engine { duckdb_version: "v1.5.5".into() });
//! transaction.write(&table, files, None)?;   // an INSERT's files
//! transaction.commit().await?;               // one catalog commit, retried on 409
//! # Ok(()) }
//! ```
//!
//! Table changes that follow each other are committed together, atomically through
//! `/transactions/commit` when there are several; a namespace change, a rename or a drop of an
//! existing table ends such a batch (the REST API has no atomic form for those). Renaming or
//! dropping a table created in the same transaction only changes what will be committed.
//!
//! The swap dbt does to rebuild a table — `CREATE TABLE x__tmp AS ...; ALTER TABLE x RENAME TO
//! x__backup; ALTER TABLE x__tmp RENAME TO x` — becomes one commit to `x` that replaces its
//! schema and rows (keeping its identity and history), so readers of `x` never miss it, and the
//! creation of `x__backup` holding `x`'s previous rows, committed together.
//!
//! Commit protocol (Iceberg REST spec; DESIGN §6): every change asserts the table's uuid and the
//! snapshot it was based on. A 409 means another writer won: the tables are reloaded, the changes
//! re-applied on the new state (appends commute; a replace or a schema change checks that what it
//! relied on did not move) and the commit retried with the backoff of `commit.retry.*`. A
//! 500/502/504 leaves the outcome unknown: nothing is resent and no file is deleted; the tables
//! are reloaded to find out, and the answer is reported.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use iceberg::io::FileIO;
use iceberg::spec::{PartitionSpec, Schema, TableMetadata, TableMetadataBuilder, UnboundPartitionSpec};
use iceberg::{TableRequirement, TableUpdate};

use super::data_file::{data_file, WrittenFile};
use super::partitioning::{unbound_spec, PartitionField};
use super::retry::RetryPolicy;
use super::schema::{iceberg_schema_from, DuckColumn};
use super::snapshot::{live_data_files, snapshot_updates, Action, Engine, NewSnapshot};
use crate::error::{Error, ErrorKind, Result};
use crate::rest::catalog::display_namespace;
use crate::rest::model::{CreateTableRequest, TableChange, TableIdentifier};
use crate::rest::{Namespace, RestCatalog};
use crate::storage::{DuckdbS3Secret, StorageProps};
use crate::table::LoadedTable;

pub struct Transaction {
    catalog: Arc<RestCatalog>,
    engine: Engine,
    state: Mutex<Vec<Op>>,
    /// Directories statements write their data files into, one per statement: what a
    /// statement wrote can be removed even when it failed before reporting its files.
    write_dirs: Mutex<Vec<(FileIO, String)>>,
    /// The user's S3 secret as last given by a statement, for the commit's own reads and writes
    /// where the catalog vends no credentials.
    user_secret: Mutex<Option<DuckdbS3Secret>>,
    /// Properties the platform asks for (`catalog.namespace.name` -> properties), set on the
    /// tables this transaction writes and the views it creates.
    governance: Mutex<HashMap<String, HashMap<String, String>>>,
}

enum Op {
    CreateNamespace(Namespace),
    DropNamespace(Namespace),
    /// A table staged at CREATE TABLE (AS): created by the commit.
    Create { id: TableIdentifier, table: Arc<LoadedTable> },
    /// CREATE OR REPLACE of an existing table: `target` is its new metadata (schema, spec).
    /// TRUNCATE is a replace that keeps the schema and spec.
    Replace { id: TableIdentifier, base: Arc<LoadedTable>, target: Arc<LoadedTable>, keep_layout: bool },
    /// A new default partition spec for an existing table; later writes follow it.
    Repartition { id: TableIdentifier, base: Arc<LoadedTable>, target: Arc<LoadedTable>, spec: UnboundPartitionSpec },
    /// Files a statement wrote into `table` (as it was loaded, staged or replaced).
    Write { table: Arc<LoadedTable>, files: Vec<WrittenFile>, file_io: FileIO },
    Drop { id: TableIdentifier, purge: bool },
    Rename { from: TableIdentifier, to: TableIdentifier },
    /// `existing` renamed to `backup`, then the new table `replacement` renamed to `existing`.
    Swap { existing: TableIdentifier, backup: TableIdentifier, replacement: TableIdentifier },
    CreateView { id: TableIdentifier, view: NewView },
    DropView { id: TableIdentifier },
    RenameView { from: TableIdentifier, to: TableIdentifier },
    /// `existing` renamed to `backup`, then a view created in this transaction renamed to
    /// `existing`: committed as a new version of `existing` (and `backup` with the old SQL).
    ViewSwap { existing: TableIdentifier, backup: TableIdentifier, view: NewView },
}

/// A view as CREATE VIEW defined it.
#[derive(Clone)]
pub struct NewView {
    pub schema: Schema,
    pub sql: String,
    /// CREATE OR REPLACE VIEW, or the new version of a view swapped in by renames.
    pub replace: bool,
}

/// One table's part of a commit batch.
struct Work {
    id: TableIdentifier,
    kind: WorkKind,
    /// The table as loaded when the transaction first used it (None for a new table).
    base: Option<Arc<LoadedTable>>,
    /// The metadata the files were written against (staged, replaced or loaded).
    target: Arc<LoadedTable>,
    files: Vec<WrittenFile>,
    file_io: Option<FileIO>,
    snapshot: Option<NewSnapshot>,
    /// The data files belong to another table (a swap's backup): never delete them.
    shares_files: bool,
    /// For a repartition: the new default spec.
    spec: Option<UnboundPartitionSpec>,
    /// For a replace: keep the schema and partition spec (TRUNCATE).
    keep_layout: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum WorkKind {
    Create,
    Replace,
    Append,
    Repartition,
}

impl Transaction {
    pub fn new(catalog: Arc<RestCatalog>, engine: Engine) -> Self {
        Transaction {
            catalog,
            engine,
            state: Mutex::new(Vec::new()),
            write_dirs: Mutex::new(Vec::new()),
            user_secret: Mutex::new(None),
            governance: Mutex::new(HashMap::new()),
        }
    }

    /// Properties to set on tables written by this transaction, keyed by their name as DuckDB
    /// users write it (`catalog.namespace.table`, catalog being the ATTACH alias `alias`).
    pub fn govern(&self, alias: &str, properties: HashMap<String, HashMap<String, String>>) {
        let prefix = format!("{}.", alias.to_ascii_lowercase());
        *self.governance.lock().expect("transaction lock") = properties
            .into_iter()
            .filter_map(|(name, props)| {
                let lower = name.to_ascii_lowercase();
                lower.strip_prefix(&prefix).map(|rest| (rest.to_string(), props))
            })
            .collect();
    }

    /// The properties the platform asks for on table or view `id`.
    fn governed(&self, id: &TableIdentifier) -> HashMap<String, String> {
        let key = format!("{}.{}", display_namespace(&id.namespace), id.name).to_ascii_lowercase();
        self.governance.lock().expect("transaction lock").get(&key).cloned().unwrap_or_default()
    }

    /// The properties of `id` that differ from what `current` has, as one update.
    fn governance_update(&self, id: &TableIdentifier, current: &HashMap<String, String>) -> Option<TableUpdate> {
        let updates: HashMap<String, String> =
            self.governed(id).into_iter().filter(|(k, v)| current.get(k) != Some(v)).collect();
        (!updates.is_empty()).then_some(TableUpdate::SetProperties { updates })
    }

    fn ops(&self) -> std::sync::MutexGuard<'_, Vec<Op>> {
        self.state.lock().expect("transaction lock")
    }

    pub fn has_changes(&self) -> bool {
        !self.ops().is_empty()
    }

    pub fn create_namespace(&self, namespace: Namespace) {
        self.ops().push(Op::CreateNamespace(namespace));
    }

    pub fn drop_namespace(&self, namespace: Namespace) {
        self.ops().push(Op::DropNamespace(namespace));
    }

    /// Reserves a new table in the catalog (stage-create: invisible to others until the commit)
    /// and returns it, with the field ids and location to write its files with.
    pub async fn create_table(
        &self,
        namespace: &Namespace,
        name: &str,
        columns: &[DuckColumn],
        partition: &[PartitionField],
        properties: HashMap<String, String>,
    ) -> Result<Arc<LoadedTable>> {
        let qualified = format!("{}.{name}", display_namespace(namespace));
        let schema = iceberg_schema_from(columns, &qualified, 0)?;
        let spec = unbound_spec(&schema, partition, &qualified)?;
        let request = CreateTableRequest {
            name: name.to_string(),
            location: None,
            schema,
            partition_spec: Some(spec),
            stage_create: true,
            properties,
        };
        let result = self.catalog.create_table(namespace, &request).await?;
        let storage = StorageProps::resolve(self.catalog.properties(), &result);
        let table = Arc::new(LoadedTable::new(namespace.clone(), name.to_string(), result, storage));
        let id = TableIdentifier { namespace: namespace.clone(), name: name.to_string() };
        self.ops().push(Op::Create { id, table: table.clone() });
        Ok(table)
    }

    /// CREATE OR REPLACE TABLE over an existing table: the same table (uuid, history) gets the
    /// new columns, and the files written next replace all its rows, in one commit.
    pub fn replace_table(&self, base: Arc<LoadedTable>, columns: &[DuckColumn]) -> Result<Arc<LoadedTable>> {
        let qualified = base.qualified_name();
        let schema = iceberg_schema_from(columns, &qualified, base.metadata.last_column_id())?;
        let target = replaced_metadata(&base.metadata, schema)?;
        let target = Arc::new(LoadedTable::with_metadata(&base, target));
        let id = TableIdentifier { namespace: base.namespace.clone(), name: base.name.clone() };
        self.ops().push(Op::Replace { id, base, target: target.clone(), keep_layout: false });
        Ok(target)
    }

    /// TRUNCATE (DELETE without a condition): every row removed in one commit, schema,
    /// partitioning and history kept; rows written later in the transaction go into the
    /// returned table.
    pub fn truncate_table(&self, base: Arc<LoadedTable>) -> Result<Arc<LoadedTable>> {
        let target = TableMetadataBuilder::new_from_metadata(base.metadata.as_ref().clone(), None).build()?;
        let target = Arc::new(LoadedTable::with_metadata(&base, target));
        let id = TableIdentifier { namespace: base.namespace.clone(), name: base.name.clone() };
        self.ops().push(Op::Replace { id, base, target: target.clone(), keep_layout: true });
        Ok(target)
    }

    pub fn create_view(&self, id: TableIdentifier, columns: &[DuckColumn], sql: String, replace: bool) -> Result<()> {
        let schema = iceberg_schema_from(columns, &format!("{}.{}", display_namespace(&id.namespace), id.name), 0)?;
        self.ops().push(Op::CreateView { id, view: NewView { schema, sql, replace } });
        Ok(())
    }

    pub fn drop_view(&self, id: TableIdentifier) {
        self.ops().push(Op::DropView { id });
    }

    pub fn rename_view(&self, from: TableIdentifier, to: TableIdentifier) {
        self.ops().push(Op::RenameView { from, to });
    }

    /// A fresh directory under the table's data location for one statement's files.
    pub fn write_location(&self, table: &LoadedTable, user_secret: Option<&DuckdbS3Secret>) -> String {
        self.remember(user_secret);
        let metadata = &table.metadata;
        let data = metadata
            .properties()
            .get("write.data.path")
            .cloned()
            .unwrap_or_else(|| format!("{}/data", metadata.location().trim_end_matches('/')));
        let dir = format!("{}/{}", data.trim_end_matches('/'), uuid::Uuid::now_v7());
        self.write_dirs.lock().expect("transaction lock").push((table.file_io(user_secret), format!("{dir}/")));
        dir
    }

    /// ALTER TABLE ... SET PARTITIONED BY: the table with the new default spec, which later
    /// writes of this transaction follow; committed with them.
    pub fn repartition(&self, base: Arc<LoadedTable>, fields: &[PartitionField]) -> Result<Arc<LoadedTable>> {
        let spec = unbound_spec(base.metadata.current_schema(), fields, &base.qualified_name())?;
        let target = repartitioned_metadata(&base.metadata, spec.clone())?;
        let target = Arc::new(LoadedTable::with_metadata(&base, target));
        let id = TableIdentifier { namespace: base.namespace.clone(), name: base.name.clone() };
        self.ops().push(Op::Repartition { id, base, target: target.clone(), spec });
        Ok(target)
    }

    /// Records the files a statement wrote into `table`; they are checked against the table's
    /// schema now, so a mismatch fails the statement rather than the commit.
    pub fn write(&self, table: &Arc<LoadedTable>, files: Vec<WrittenFile>, user_secret: Option<&DuckdbS3Secret>) -> Result<()> {
        let metadata = &table.metadata;
        for file in &files {
            data_file(file, metadata.current_schema(), metadata.default_partition_spec())?;
        }
        self.remember(user_secret);
        let file_io = table.file_io(user_secret);
        self.ops().push(Op::Write { table: table.clone(), files, file_io });
        Ok(())
    }

    /// The user's S3 secret for the tables this transaction touches, where the catalog vends
    /// no credentials: the commit reads and writes metadata files with it.
    pub fn remember(&self, user_secret: Option<&DuckdbS3Secret>) {
        if let Some(secret) = user_secret {
            *self.user_secret.lock().expect("transaction lock") = Some(secret.clone());
        }
    }

    /// A commit work for `target`, reaching storage with the transaction's credentials.
    fn work(&self, id: TableIdentifier, kind: WorkKind, base: Option<Arc<LoadedTable>>, target: Arc<LoadedTable>) -> Work {
        let mut work = Work::new(id, kind, base, target);
        work.file_io = Some(self.file_io(&work.target));
        work
    }

    fn file_io(&self, table: &LoadedTable) -> FileIO {
        table.file_io(self.user_secret.lock().expect("transaction lock").as_ref())
    }

    pub fn drop_table(&self, namespace: Namespace, name: String, purge: bool) {
        self.ops().push(Op::Drop { id: TableIdentifier { namespace, name }, purge });
    }

    pub fn rename_table(&self, from: TableIdentifier, to: TableIdentifier) {
        self.ops().push(Op::Rename { from, to });
    }

    /// Whether `table` replaces all rows of its base (CREATE OR REPLACE, TRUNCATE): its
    /// committed rows are gone for this transaction's reads.
    pub fn replaces_rows(&self, table: &Arc<LoadedTable>) -> bool {
        self.ops().iter().any(|op| matches!(op, Op::Replace { target, .. } if Arc::ptr_eq(target, table)))
    }

    /// Data files written in this transaction for `table` (read-your-writes before COMMIT).
    pub fn pending_files(&self, table: &Arc<LoadedTable>) -> Vec<WrittenFile> {
        self.ops()
            .iter()
            .filter_map(|op| match op {
                Op::Write { table: t, files, .. } if Arc::ptr_eq(t, table) => Some(files.clone()),
                _ => None,
            })
            .flatten()
            .collect()
    }

    /// Applies everything to the catalog, in order.
    pub async fn commit(&self) -> Result<()> {
        let ops = find_view_swaps(find_swaps(std::mem::take(&mut *self.ops())));
        let mut batch: Vec<Work> = Vec::new();
        let mut doomed: Vec<Work> = Vec::new();
        let outcome = self.apply(ops, &mut batch, &mut doomed).await;
        // Files of tables created and dropped again in this transaction were never committed.
        for work in doomed {
            remove_files(&work).await;
        }
        match &outcome {
            Ok(()) => self.write_dirs.lock().expect("transaction lock").clear(),
            Err(err) if err.kind() == ErrorKind::CommitStateUnknown => {}
            Err(_) => {
                for work in &batch {
                    remove_files(work).await;
                }
                self.remove_write_dirs().await;
            }
        }
        outcome
    }

    async fn apply(&self, ops: Vec<Op>, batch: &mut Vec<Work>, doomed: &mut Vec<Work>) -> Result<()> {
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
                Op::Create { id, table } => batch.push(self.work(id, WorkKind::Create, None, table)),
                Op::Replace { id, base, target, keep_layout } => {
                    let mut work = self.work(id, WorkKind::Replace, Some(base), target);
                    work.keep_layout = keep_layout;
                    batch.push(work);
                }
                Op::Repartition { id, base, target, spec } => {
                    let mut work = self.work(id, WorkKind::Repartition, Some(base), target);
                    work.spec = Some(spec);
                    batch.push(work);
                }
                Op::Write { table, files, file_io } => {
                    let work = match batch.iter_mut().position(|w| Arc::ptr_eq(&w.target, &table)) {
                        Some(index) => &mut batch[index],
                        None => {
                            let id = TableIdentifier { namespace: table.namespace.clone(), name: table.name.clone() };
                            batch.push(self.work(id, WorkKind::Append, Some(table.clone()), table));
                            batch.last_mut().expect("just pushed")
                        }
                    };
                    work.files.extend(files);
                    work.file_io = Some(file_io);
                }
                Op::Drop { id, purge } => match batch.iter().position(|w| w.id == id && w.kind == WorkKind::Create) {
                    Some(index) => doomed.push(batch.remove(index)),
                    None => {
                        self.flush(batch).await?;
                        self.catalog.drop_table(&id.namespace, &id.name, purge).await?;
                    }
                },
                Op::Swap { existing, backup, replacement } => {
                    if !batch.iter().any(|w| w.id == replacement && w.kind == WorkKind::Create) {
                        // The new table was committed already: fall back to the two renames.
                        self.flush(batch).await?;
                        self.catalog.rename_table(&existing, &backup).await?;
                        self.catalog.rename_table(&replacement, &existing).await?;
                        continue;
                    }
                    let base = self.catalog.load_table(&existing.namespace, &existing.name).await?;
                    let storage = StorageProps::resolve(self.catalog.properties(), &base);
                    let base = Arc::new(LoadedTable::new(existing.namespace.clone(), existing.name.clone(), base, storage));
                    let Some(backup_work) = self.backup_of(&base, &backup).await? else {
                        // Rows under delete files or an older partition spec cannot be handed
                        // over file by file: fall back to the two renames.
                        self.flush(batch).await?;
                        self.catalog.rename_table(&existing, &backup).await?;
                        self.catalog.rename_table(&replacement, &existing).await?;
                        continue;
                    };
                    let work = batch
                        .iter_mut()
                        .find(|w| w.id == replacement && w.kind == WorkKind::Create)
                        .expect("checked above");
                    work.id = existing;
                    work.kind = WorkKind::Replace;
                    work.base = Some(base);
                    batch.push(backup_work);
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
                        self.catalog.create_view(&backup, old.metadata.current_schema(), &sql, version, properties).await?;
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
                Op::Rename { from, to } => match batch.iter_mut().find(|w| w.id == from && w.kind == WorkKind::Create) {
                    Some(work) => work.id = to,
                    None => {
                        self.flush(batch).await?;
                        self.catalog.rename_table(&from, &to).await?;
                    }
                },
            }
        }
        self.flush(batch).await
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
        let storage = StorageProps::resolve(self.catalog.properties(), &staged);
        let staged = Arc::new(LoadedTable::new(backup.namespace.clone(), backup.name.clone(), staged, storage));
        let mut work = self.work(backup.clone(), WorkKind::Create, None, staged);
        work.snapshot = Some(NewSnapshot::new(Action::Append, files));
        work.shares_files = true;
        Ok(Some(work))
    }

    /// Commits the batch: atomically where the catalog can. Catalogs that do not accept
    /// staged tables in `/transactions/commit` (SeaweedFS answers 404) get the new tables created
    /// first and the rest committed atomically after; if that fails, the new tables are dropped
    /// again, so a failed COMMIT leaves the catalog as it was.
    async fn flush(&self, batch: &mut Vec<Work>) -> Result<()> {
        if batch.len() > 1 && !self.catalog.offers_multi_table_commit() {
            // The catalog cannot commit several tables at once: one after the other it is.
            for work in std::mem::take(batch) {
                let mut single = vec![work];
                if let Err(err) = self.commit_batch(&mut single).await {
                    batch.extend(single);
                    return Err(err);
                }
            }
            return Ok(());
        }
        let mixed = batch.len() > 1 && batch.iter().any(|w| w.kind == WorkKind::Create);
        if !mixed || self.catalog.supports_staged_in_transactions() != Some(false) {
            match self.commit_batch(batch).await {
                Err(err) if mixed && err.kind() == ErrorKind::NotFound => {
                    self.catalog.set_supports_staged_in_transactions(false);
                }
                Err(err) => return Err(err),
                Ok(()) => {
                    if mixed {
                        self.catalog.set_supports_staged_in_transactions(true);
                    }
                    return Ok(());
                }
            }
        }
        let (mut creates, mut rest): (Vec<Work>, Vec<Work>) = batch.drain(..).partition(|w| w.kind == WorkKind::Create);
        let mut created = Vec::new();
        for work in creates.drain(..) {
            let id = (work.id.clone(), !work.shares_files);
            let mut single = vec![work];
            if let Err(err) = self.commit_batch(&mut single).await {
                batch.extend(single);
                batch.extend(rest);
                self.drop_created(&created).await;
                return Err(err);
            }
            created.push(id);
        }
        if let Err(err) = self.commit_batch(&mut rest).await {
            batch.extend(rest);
            self.drop_created(&created).await;
            return Err(err);
        }
        Ok(())
    }

    /// Drops tables this commit created, purging the files only of those that own theirs.
    async fn drop_created(&self, created: &[(TableIdentifier, bool)]) {
        for (id, purge) in created {
            let _ = self.catalog.drop_table(&id.namespace, &id.name, *purge).await;
        }
    }

    /// Commits the works in one request (`/transactions/commit` for several), retrying lost races.
    async fn commit_batch(&self, batch: &mut Vec<Work>) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let policy = RetryPolicy::widest(batch.iter().map(|w| RetryPolicy::from_properties(w.target.metadata.properties())));
        let started = Instant::now();
        let mut bases: Vec<Option<Arc<TableMetadata>>> = batch.iter().map(|w| w.base.as_ref().map(|b| b.metadata.clone())).collect();
        let mut attempt = 0;
        loop {
            let mut changes = Vec::with_capacity(batch.len());
            for (work, base) in batch.iter_mut().zip(&bases) {
                let mut change = work.change(base.as_deref(), &self.engine).await?;
                let current = base.as_deref().unwrap_or(&work.target.metadata).properties();
                change.updates.extend(self.governance_update(&work.id, current));
                changes.push(change);
            }
            // One table's change goes through /transactions/commit too where the catalog offers
            // it: as atomic, and answered with 204 instead of the table's whole metadata, which
            // grows with its history (SeaweedFS at 300 snapshots: 17 ms instead of 32 ms). A
            // staged creation keeps the table endpoint, which every catalog accepts for it.
            let by_table = !self.catalog.offers_multi_table_commit() || batch[0].kind == WorkKind::Create;
            let result = if changes.len() == 1 && by_table {
                self.catalog.commit_table(&changes[0]).await.map(drop)
            } else {
                self.catalog.commit_transaction(&changes).await
            };
            match result {
                Ok(()) => {
                    for work in batch.drain(..) {
                        work.remove_stale_attempts().await;
                    }
                    return Ok(());
                }
                Err(err) if err.kind() == ErrorKind::CommitConflict => {
                    attempt += 1;
                    if batch.iter().any(|w| w.kind == WorkKind::Create) {
                        return Err(self.conflict(batch, err, attempt).with_fix(
                            "another writer created a table of the same name first; choose another name or drop it",
                        ));
                    }
                    let append_only = batch.iter().all(|w| w.kind == WorkKind::Append);
                    if !policy.allows(attempt, started.elapsed(), append_only) {
                        return Err(self.conflict(batch, err, attempt).with_fix(
                            "the table is written concurrently by many writers; retry the statement, or raise the table property commit.retry.num-retries",
                        ));
                    }
                    let wait = if append_only { policy.append_backoff() } else { policy.backoff(attempt) };
                    tokio::time::sleep(wait).await;
                    for (work, base) in batch.iter().zip(bases.iter_mut()) {
                        if base.is_some() {
                            *base = Some(self.reload(&work.id).await?);
                        }
                    }
                }
                Err(err) if err.kind() == ErrorKind::CommitStateUnknown => return self.reconcile(batch, err).await,
                Err(err) => return Err(err),
            }
        }
    }

    async fn reload(&self, id: &TableIdentifier) -> Result<Arc<TableMetadata>> {
        Ok(Arc::new(self.catalog.load_table(&id.namespace, &id.name).await?.metadata))
    }

    fn conflict(&self, batch: &[Work], err: Error, attempts: u32) -> Error {
        Error::new(
            ErrorKind::CommitConflict,
            format!(
                "Commit to {} failed after {attempts} attempt(s): another writer committed first ({})",
                names(batch),
                err.message()
            ),
        )
    }

    /// After a 500/502/504 the catalog may have applied the commit: look, never guess.
    async fn reconcile(&self, batch: &mut Vec<Work>, err: Error) -> Result<()> {
        let mut applied = Vec::new();
        let mut missing = Vec::new();
        for work in batch.iter() {
            let landed = match self.catalog.load_table(&work.id.namespace, &work.id.name).await {
                Ok(result) => match &work.snapshot {
                    Some(snapshot) => result.metadata.snapshot_by_id(snapshot.snapshot_id).is_some(),
                    None => result.metadata.uuid() == work.target.metadata.uuid(),
                },
                Err(_) => false,
            };
            let name = format!("{}.{}", display_namespace(&work.id.namespace), work.id.name);
            if landed { applied.push(name) } else { missing.push(name) }
        }
        // Nothing is deleted either way: the files are, or may yet be, part of the table.
        batch.clear();
        if missing.is_empty() {
            return Ok(());
        }
        Err(Error::new(
            ErrorKind::CommitStateUnknown,
            format!(
                "The catalog failed while committing ({}); after reloading, the change is {} ({}). No written file was deleted",
                err.message(),
                if applied.is_empty() { "not visible" } else { "only partly visible" },
                if applied.is_empty() { format!("missing in {}", missing.join(", ")) } else { format!("applied to {}, missing in {}", applied.join(", "), missing.join(", ")) },
            ),
        )
        .with_fix("check the tables' history (iceberg_snapshots) before running the statement again"))
    }

    /// ROLLBACK: nothing reaches the catalog; the files statements wrote are removed.
    pub async fn rollback(&self) {
        self.ops().clear();
        self.remove_write_dirs().await;
    }

    async fn remove_write_dirs(&self) {
        let dirs = std::mem::take(&mut *self.write_dirs.lock().expect("transaction lock"));
        for (file_io, dir) in dirs {
            let _ = file_io.delete_prefix(&dir).await;
        }
    }
}

impl Work {
    /// Manifest lists of attempts that lost a race; the committed one is the last.
    async fn remove_stale_attempts(&self) {
        let (Some(snapshot), Some(file_io)) = (&self.snapshot, &self.file_io) else { return };
        for path in snapshot.stale_lists() {
            let _ = file_io.delete(path).await;
        }
    }

    fn new(id: TableIdentifier, kind: WorkKind, base: Option<Arc<LoadedTable>>, target: Arc<LoadedTable>) -> Self {
        Work {
            id,
            kind,
            base,
            target,
            files: Vec::new(),
            file_io: None,
            snapshot: None,
            shares_files: false,
            spec: None,
            keep_layout: false,
        }
    }

    /// The new snapshot, its data files described against `metadata` (the table as it will be
    /// committed: schema and partition spec ids must match).
    fn snapshot_for(&mut self, metadata: &TableMetadata, action: Action) -> Result<&mut NewSnapshot> {
        if self.snapshot.is_none() {
            let files = self
                .files
                .iter()
                .map(|f| data_file(f, metadata.current_schema(), metadata.default_partition_spec()))
                .collect::<Result<Vec<_>>>()?;
            self.snapshot = Some(NewSnapshot::new(action, files));
        }
        Ok(self.snapshot.as_mut().expect("just set"))
    }

    /// The catalog change for this attempt, on `base` (the reloaded table for a retry).
    async fn change(&mut self, base: Option<&TableMetadata>, engine: &Engine) -> Result<TableChange> {
        let target = self.target.metadata.clone();
        let file_io = self.file_io.clone().unwrap_or_else(|| self.target.file_io(None));
        let (requirements, updates) = match (self.kind, base) {
            (WorkKind::Create, _) => {
                let mut updates = creation_updates(&target);
                if self.snapshot.is_some() || !self.files.is_empty() {
                    let snapshot = self.snapshot_for(&target, Action::Append)?;
                    updates.extend(snapshot_updates(snapshot.snapshot_on(&file_io, &target, engine).await?));
                }
                (vec![TableRequirement::NotExist], updates)
            }
            (WorkKind::Append, Some(base)) => {
                check_unchanged_layout(&self.id, &target, base)?;
                self.snapshot_for(&target, Action::Append)?.change_on(&file_io, base, engine).await?
            }
            (WorkKind::Replace, Some(base)) => {
                // The new schema's field ids follow the base's last one; a concurrent schema
                // change invalidates them.
                if base.last_column_id() != self.base.as_ref().expect("replace has a base").metadata.last_column_id() {
                    return Err(Error::new(
                        ErrorKind::CommitConflict,
                        format!("The schema of table '{}' changed while it was being replaced", display(&self.id)),
                    )
                    .with_fix("run the CREATE OR REPLACE again"));
                }
                let rebuilt = if self.keep_layout {
                    TableMetadataBuilder::new_from_metadata(base.clone(), None).build()?
                } else {
                    replaced_metadata(base, target.current_schema().as_ref().clone())?
                };
                let mut updates = rebuilt.changes;
                let snapshot = self.snapshot_for(&rebuilt.metadata, Action::ReplaceAll)?;
                updates.extend(snapshot_updates(snapshot.snapshot_on(&file_io, &rebuilt.metadata, engine).await?));
                let requirements = vec![
                    TableRequirement::UuidMatch { uuid: base.uuid() },
                    TableRequirement::RefSnapshotIdMatch { r#ref: "main".into(), snapshot_id: base.current_snapshot_id() },
                    TableRequirement::LastAssignedFieldIdMatch { last_assigned_field_id: base.last_column_id() },
                ];
                (requirements, updates)
            }
            (WorkKind::Repartition, Some(base)) => {
                let spec = self.spec.clone().expect("repartition has a spec");
                let rebuilt = repartitioned_metadata(base, spec)?;
                let mut updates = rebuilt.changes;
                if !self.files.is_empty() {
                    let snapshot = self.snapshot_for(&rebuilt.metadata, Action::Append)?;
                    updates.extend(snapshot_updates(snapshot.snapshot_on(&file_io, &rebuilt.metadata, engine).await?));
                }
                let requirements = vec![
                    TableRequirement::UuidMatch { uuid: base.uuid() },
                    TableRequirement::RefSnapshotIdMatch { r#ref: "main".into(), snapshot_id: base.current_snapshot_id() },
                    TableRequirement::DefaultSpecIdMatch { default_spec_id: base.default_partition_spec_id() },
                ];
                (requirements, updates)
            }
            (_, None) => return Err(Error::internal("a change of an existing table lost its base")),
        };
        Ok(TableChange { identifier: self.id.clone(), requirements, updates })
    }
}

/// Turns `rename existing -> backup` followed by `rename new -> existing` (new created in this
/// transaction) into one `Swap`, committed as a replace of `existing`.
fn find_swaps(mut ops: Vec<Op>) -> Vec<Op> {
    let created = |ops: &[Op], id: &TableIdentifier| ops.iter().any(|op| matches!(op, Op::Create { id: c, .. } if c == id));
    let mut j = 0;
    while j < ops.len() {
        if let Op::Rename { from: replacement, to: existing } = &ops[j] {
            if created(&ops[..j], replacement) && !created(&ops[..j], existing) {
                let earlier = ops[..j]
                    .iter()
                    .rposition(|op| matches!(op, Op::Rename { from, .. } if from == existing));
                if let Some(i) = earlier {
                    let (replacement, existing) = (replacement.clone(), existing.clone());
                    let Op::Rename { to: backup, .. } = ops.remove(i) else { unreachable!() };
                    ops[j - 1] = Op::Swap { existing, backup, replacement };
                    continue;
                }
            }
        }
        j += 1;
    }
    ops
}

/// Folds the renames of views created in this transaction into their creation, and turns
/// `rename existing -> backup` + `rename new -> existing` into one `ViewSwap` (what dbt does to
/// rebuild a view), so readers never find the view missing.
fn find_view_swaps(ops: Vec<Op>) -> Vec<Op> {
    let mut out: Vec<Op> = Vec::with_capacity(ops.len());
    for op in ops {
        let Op::RenameView { from, to } = op else {
            out.push(op);
            continue;
        };
        let created = out.iter().rposition(|o| matches!(o, Op::CreateView { id, .. } if *id == from));
        let Some(created) = created else {
            out.push(Op::RenameView { from, to });
            continue;
        };
        let Op::CreateView { view, .. } = out.remove(created) else { unreachable!() };
        let moved_away = out.iter().rposition(|o| matches!(o, Op::RenameView { from: f, .. } if *f == to));
        match moved_away {
            Some(index) if !view.replace => {
                let Op::RenameView { to: backup, .. } = out.remove(index) else { unreachable!() };
                out.push(Op::ViewSwap { existing: to, backup, view: NewView { replace: true, ..view } });
            }
            _ => out.push(Op::CreateView { id: to, view }),
        }
    }
    out
}

/// Data files carry the partition values of the spec they were written for; if another writer
/// changed the spec meanwhile they no longer fit, and the commit must not be re-applied.
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

/// The metadata of `base` with `schema` as current schema and no partitioning, plus the
/// updates that make it so.
fn replaced_metadata(base: &TableMetadata, schema: Schema) -> Result<iceberg::spec::TableMetadataBuildResult> {
    Ok(TableMetadataBuilder::new_from_metadata(base.clone(), None)
        .add_current_schema(schema)?
        .add_default_partition_spec(PartitionSpec::unpartition_spec().into_unbound())?
        .build()?)
}

/// The metadata of `base` with `spec` as default partition spec, plus the updates that make it so.
fn repartitioned_metadata(base: &TableMetadata, spec: UnboundPartitionSpec) -> Result<iceberg::spec::TableMetadataBuildResult> {
    Ok(TableMetadataBuilder::new_from_metadata(base.clone(), None).add_default_partition_spec(spec)?.build()?)
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

async fn remove_files(work: &Work) {
    let file_io = work.file_io.clone().unwrap_or_else(|| work.target.file_io(None));
    if work.shares_files {
        return;
    }
    for file in &work.files {
        let _ = file_io.delete(&file.path).await;
    }
    if let Some(snapshot) = &work.snapshot {
        for path in &snapshot.written {
            let _ = file_io.delete(path).await;
        }
    }
}

fn display(id: &TableIdentifier) -> String {
    format!("{}.{}", display_namespace(&id.namespace), id.name)
}

fn names(batch: &[Work]) -> String {
    let names: Vec<String> = batch.iter().map(|w| format!("table '{}'", display(&w.id))).collect();
    names.join(", ")
}

#[cfg(test)]
mod tests {
    use iceberg::spec::Schema;

    use super::*;

    fn id(name: &str) -> TableIdentifier {
        TableIdentifier { namespace: vec!["s".into()], name: name.into() }
    }

    fn create(name: &str) -> Op {
        let view = NewView { schema: Schema::builder().build().unwrap(), sql: format!("SELECT '{name}'"), replace: false };
        Op::CreateView { id: id(name), view }
    }

    fn rename(from: &str, to: &str) -> Op {
        Op::RenameView { from: id(from), to: id(to) }
    }

    #[test]
    fn dbt_view_rebuild_becomes_one_swap() {
        // What dbt does: create v__dbt_tmp, move v to v__dbt_backup, move v__dbt_tmp to v.
        let ops = find_view_swaps(vec![create("v__dbt_tmp"), rename("v", "v__dbt_backup"), rename("v__dbt_tmp", "v")]);
        assert_eq!(ops.len(), 1);
        match &ops[0] {
            Op::ViewSwap { existing, backup, view } => {
                assert_eq!(existing.name, "v");
                assert_eq!(backup.name, "v__dbt_backup");
                assert!(view.replace);
                assert_eq!(view.sql, "SELECT 'v__dbt_tmp'");
            }
            _ => panic!("expected a swap"),
        }
        // First build: nothing to move away, the view is created under its final name.
        let ops = find_view_swaps(vec![create("v__dbt_tmp"), rename("v__dbt_tmp", "v")]);
        assert!(matches!(&ops[..], [Op::CreateView { id, view }] if id.name == "v" && !view.replace));
        // Renames of views that exist already stay renames.
        let ops = find_view_swaps(vec![rename("a", "b")]);
        assert!(matches!(&ops[..], [Op::RenameView { .. }]));
    }
}
