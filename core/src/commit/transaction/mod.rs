//! One DuckDB transaction's changes to a catalog, recorded as statements run and committed at
//! DuckDB COMMIT.
//!
//! ```no_run
//! # async fn demo(catalog: std::sync::Arc<floe_core::rest::RestCatalog>,
//! #               table: std::sync::Arc<floe_core::table::LoadedTable>,
//! #               files: Vec<floe_core::commit::data_file::WrittenFile>) -> floe_core::Result<()> {
//! use floe_core::commit::{snapshot::Engine, Transaction};
//! let transaction = Transaction::new(catalog, Engine { duckdb_version: "v1.5.5".into() });
//! transaction.write(&table, files, None).await?;   // an INSERT's files
//! transaction.commit().await?;                     // one catalog commit, retried on 409
//! # Ok(()) }
//! ```
//!
//! The protocol is described in docs/commit-protocol.md. Here: the operations statements record
//! (`operation`), dbt's rename swap recognised among them (`dbt_swap`), their application at
//! COMMIT (`apply`), each table's part of a commit (`work`), the batches committed with retries
//! on lost races (`batch`) and the reconciliation after a commit in an unknown state
//! (`reconcile`).

mod apply;
mod batch;
mod dbt_swap;
mod operation;
mod reconcile;
mod work;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

use iceberg::io::FileIO;
use iceberg::spec::TableMetadataBuilder;
use iceberg::TableUpdate;

use self::operation::{NewView, Op, Versions};
use self::work::{replaced_metadata, Change, Work};
use super::data_file::{data_file, WrittenFile};
use super::evolution::{evolve, TableEdit};
use super::fixed_columns::check_no_fixed_columns;
use super::lineage::{Lineage, Statement};
use super::manifest_merge::{rewrite_counts, MergePolicy};
use super::nested_annotations::annotate_written_files;
use super::not_null::check_not_null;
use super::partitioning::{unbound_spec, PartitionField};
use super::row_level::{resolve, RowDelta, StatementDeletes};
use super::schema::{iceberg_schema_from, DuckColumn};
use super::snapshot::{load_manifest_list, Action, Engine, NewSnapshot};
use crate::error::{Error, ErrorKind, Result};
use crate::maintenance::progress::Progress;
use crate::maintenance::rewrite_data_files::{self, RewriteOptions, RewriteOutcome};
use crate::rest::catalog::display_namespace;
use crate::rest::model::{CreateTableRequest, TableIdentifier};
use crate::rest::{Namespace, RestCatalog};
use crate::storage::{real_path, DuckdbSecret};
use crate::table::LoadedTable;

/// A transaction's uncommitted row-level changes of one table, as its reads apply them.
#[derive(Default)]
pub struct PendingDeletes {
    /// Delete files by the data file they apply to.
    pub delete_files: HashMap<String, Vec<String>>,
    /// Data files no longer in the table.
    pub removed: HashSet<String>,
    /// Data files written again without deleted rows.
    pub rewritten: Vec<iceberg::spec::DataFile>,
}

pub struct Transaction {
    catalog: Arc<RestCatalog>,
    engine: Engine,
    state: Mutex<Vec<Op>>,
    /// Directories statements write their data files into, one per statement: what a
    /// statement wrote can be removed even when it failed before reporting its files.
    write_dirs: Mutex<Vec<(FileIO, String)>>,
    /// Files written before COMMIT outside those directories (the manifests
    /// `floe_rewrite_manifests` merges during the call), removed with them.
    written_files: Mutex<Vec<(FileIO, String)>>,
    /// The user's storage secret as last given by a statement, for the commit's own reads and writes
    /// where the catalog vends no credentials.
    user_secret: Mutex<Option<DuckdbSecret>>,
    /// Properties the platform asks for (`catalog.namespace.name` -> properties), set on the
    /// tables this transaction writes and the views it creates.
    governance: Mutex<HashMap<String, HashMap<String, String>>>,
    /// What the statements read, by the table they wrote.
    lineage: Mutex<Lineage>,
    snapshot_properties: Mutex<BTreeMap<String, String>>,
}

impl Transaction {
    pub fn new(catalog: Arc<RestCatalog>, engine: Engine) -> Self {
        Transaction {
            catalog,
            engine,
            state: Mutex::new(Vec::new()),
            write_dirs: Mutex::new(Vec::new()),
            written_files: Mutex::new(Vec::new()),
            user_secret: Mutex::new(None),
            governance: Mutex::new(HashMap::new()),
            lineage: Mutex::new(Lineage::default()),
            snapshot_properties: Mutex::new(BTreeMap::new()),
        }
    }

    /// Properties to set on tables written by this transaction, keyed by their name as DuckDB
    /// users write it (`catalog.namespace.table`, catalog being the ATTACH alias `alias`).
    pub fn govern(&self, alias: &str, properties: HashMap<String, HashMap<String, String>>) {
        let prefix = format!("{}.", alias.to_ascii_lowercase());
        *crate::sync::lock(&self.governance) = properties
            .into_iter()
            .filter_map(|(name, props)| {
                let lower = name.to_ascii_lowercase();
                lower.strip_prefix(&prefix).map(|rest| (rest.to_string(), props))
            })
            .collect();
    }

    /// The properties the platform asks for on table or view `id`.
    fn governed(&self, id: &TableIdentifier) -> HashMap<String, String> {
        crate::sync::lock(&self.governance).get(&display(id).to_ascii_lowercase()).cloned().unwrap_or_default()
    }

    /// The properties of `id` that differ from what `current` has, as one update.
    fn governance_update(&self, id: &TableIdentifier, current: &HashMap<String, String>) -> Option<TableUpdate> {
        let updates: HashMap<String, String> =
            self.governed(id).into_iter().filter(|(k, v)| current.get(k) != Some(v)).collect();
        (!updates.is_empty()).then_some(TableUpdate::SetProperties { updates })
    }

    fn ops(&self) -> MutexGuard<'_, Vec<Op>> {
        crate::sync::lock(&self.state)
    }

    /// Records what a statement asked for.
    fn push(&self, op: Op) {
        self.note(&op);
        self.ops().push(op);
    }

    /// The lineage of the table `op` writes.
    fn note(&self, op: &Op) {
        if let Some(table) = op.written_table() {
            crate::sync::lock(&self.lineage).wrote(&display(&table));
        }
    }

    /// The statement running now, for the lineage of what it writes (`commit::lineage`).
    pub fn statement(&self, statement: Statement) {
        crate::sync::lock(&self.lineage).statement(statement);
    }

    /// Properties added to the summary of every snapshot this transaction commits (the dbt
    /// plugin's invocation id); floe's own keys win over them.
    pub fn snapshot_properties(&self, properties: BTreeMap<String, String>) {
        *crate::sync::lock(&self.snapshot_properties) = properties;
    }

    /// The summary properties of a snapshot beyond floe's own, for the table written as
    /// `lineage_key` (`Work::lineage_key`).
    fn annotations(&self, lineage_key: &str) -> BTreeMap<String, String> {
        let mut properties = crate::sync::lock(&self.snapshot_properties).clone();
        properties.extend(crate::sync::lock(&self.lineage).summary(lineage_key));
        properties
    }

    pub fn has_changes(&self) -> bool {
        !self.ops().is_empty()
    }

    /// Whether the changes recorded so far include one of table `id`.
    pub fn changes_table(&self, id: &TableIdentifier) -> bool {
        self.ops().iter().any(|op| op.changes_table(id))
    }

    pub fn create_namespace(&self, namespace: Namespace) {
        self.push(Op::CreateNamespace(namespace));
    }

    pub fn drop_namespace(&self, namespace: Namespace) {
        self.push(Op::DropNamespace(namespace));
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
        let table = Arc::new(LoadedTable::staged(&self.catalog, namespace.clone(), &request, result));
        let id = TableIdentifier { namespace: namespace.clone(), name: name.to_string() };
        self.push(Op::Create { id, table: table.clone() });
        Ok(table)
    }

    /// CREATE OR REPLACE TABLE over an existing table: the same table (uuid, history) gets the
    /// new columns, and the files written next replace all its rows, in one commit.
    pub fn replace_table(&self, base: Arc<LoadedTable>, columns: &[DuckColumn]) -> Result<Arc<LoadedTable>> {
        base.refuse_if_restricted("replace")?;
        let qualified = base.qualified_name();
        let schema = iceberg_schema_from(columns, &qualified, base.metadata.last_column_id())?;
        let target = replaced_metadata(&base.metadata, schema)?;
        let target = Arc::new(LoadedTable::with_metadata(&base, target));
        self.push(Op::Replace { id: identifier(&base), base, target: target.clone(), keep_layout: false });
        Ok(target)
    }

    /// TRUNCATE (DELETE without a condition): every row removed in one commit, schema,
    /// partitioning and history kept; rows written later in the transaction go into the
    /// returned table.
    pub fn truncate_table(&self, base: Arc<LoadedTable>) -> Result<Arc<LoadedTable>> {
        base.refuse_if_restricted("truncate")?;
        let target = TableMetadataBuilder::new_from_metadata(base.metadata.as_ref().clone(), None).build()?;
        let target = Arc::new(LoadedTable::with_metadata(&base, target));
        self.push(Op::Replace { id: identifier(&base), base, target: target.clone(), keep_layout: true });
        Ok(target)
    }

    pub fn create_view(&self, id: TableIdentifier, columns: &[DuckColumn], sql: String, replace: bool) -> Result<()> {
        let schema = iceberg_schema_from(columns, &display(&id), 0)?;
        self.push(Op::CreateView { id, view: NewView { schema, sql, replace } });
        Ok(())
    }

    pub fn drop_view(&self, id: TableIdentifier) {
        self.push(Op::DropView { id });
    }

    pub fn rename_view(&self, from: TableIdentifier, to: TableIdentifier) {
        self.push(Op::RenameView { from, to });
    }

    /// A fresh directory under the table's data location for one statement's files, as DuckDB
    /// writes it (`floe://<storage id>/<url>`). Asked for when a write is planned, so a table
    /// DuckDB cannot write is refused before any file is.
    pub fn write_location(&self, table: &LoadedTable, user_secret: Option<&DuckdbSecret>) -> Result<String> {
        table.refuse_if_restricted("write to")?;
        check_no_fixed_columns(&table.qualified_name(), table.metadata.current_schema())?;
        self.remember(user_secret);
        let dir = self.statement_dir(table, &table.file_io(user_secret));
        Ok(table.storage.wrap(&dir))
    }

    /// ALTER TABLE ... SET PARTITIONED BY: the table with the new default spec, which later
    /// writes of this transaction follow; committed with them.
    pub fn repartition(&self, base: Arc<LoadedTable>, fields: &[PartitionField]) -> Result<Arc<LoadedTable>> {
        let spec = unbound_spec(base.metadata.current_schema(), fields, &base.qualified_name())?;
        self.alter(base, TableEdit::Partition(spec))
    }

    /// An ALTER TABLE edit of `base`, checked against Iceberg's evolution rules now: the table
    /// as edited is returned for the transaction's later statements, and the edit is applied
    /// again at COMMIT on the table as the catalog then shows it.
    ///
    /// Schema edits may follow rows written in the same transaction (dbt changes a column's type
    /// with ADD, UPDATE, DROP and RENAME in one): files carry field ids, which the edits keep. A
    /// new partitioning may not, since those files hold the old partition values, nor may any
    /// edit follow a CREATE OR REPLACE or TRUNCATE, which commit a whole new table state.
    pub fn alter(&self, base: Arc<LoadedTable>, edit: TableEdit) -> Result<Arc<LoadedTable>> {
        base.refuse_if_restricted("alter")?;
        let qualified = base.qualified_name();
        let target = evolve(&base.metadata, std::slice::from_ref(&edit), &qualified)?;
        let mut ops = self.ops();
        let replaced = ops.iter().any(|op| matches!(op, Op::Replace { target, .. } if Arc::ptr_eq(target, &base)));
        let versions = Versions::of(&ops, &base);
        let written = ops.iter().any(|op| match op {
            Op::Write { table, .. } | Op::Delete { table, .. } => versions.contains(table),
            _ => false,
        });
        if replaced || (written && matches!(edit, TableEdit::Partition(_))) {
            return Err(Error::unsupported(format!(
                "Cannot {} table '{qualified}' after {} in the same transaction: Iceberg would have to commit its \
                 rows under two layouts at once",
                if replaced { "ALTER" } else { "change the partitioning of" },
                if replaced { "replacing it" } else { "writing to it" },
            ))
            .with_fix("COMMIT first, or run the ALTER TABLE before the writes"));
        }
        let target = Arc::new(LoadedTable::with_metadata(&base, target));
        let op = Op::Alter { id: identifier(&base), base, target: target.clone(), edit };
        self.note(&op);
        ops.push(op);
        Ok(target)
    }

    /// Records the files a statement wrote into `table`; they are checked against the table's
    /// schema and its NOT NULL columns now, so a mismatch fails the statement (whose files the
    /// rollback then removes) rather than the commit. Files with lists or maps are rewritten
    /// with the annotations other engines need (`nested_annotations`). Paths may be DuckDB's
    /// `floe://` ones; manifests record the real URLs.
    pub async fn write(
        &self,
        table: &Arc<LoadedTable>,
        mut files: Vec<WrittenFile>,
        user_secret: Option<&DuckdbSecret>,
    ) -> Result<()> {
        for file in &mut files {
            file.path = real_path(&file.path).into_owned();
        }
        let metadata = &table.metadata;
        check_not_null(&table.qualified_name(), metadata.current_schema(), &files)?;
        for file in &files {
            data_file(file, metadata, metadata)?;
        }
        self.remember(user_secret);
        let file_io = table.file_io(user_secret);
        let files = annotate_written_files(&file_io, metadata.current_schema(), files).await?;
        self.push(Op::Write { table: table.clone(), files, file_io });
        Ok(())
    }

    /// Records the rows a DELETE, UPDATE or MERGE removed from `table`: their delete files are
    /// written now (into a directory of the statement, removed if the transaction fails), and
    /// data files left without rows are marked for removal. Returns the number of rows deleted.
    pub async fn delete(
        &self,
        table: &Arc<LoadedTable>,
        mut statement: StatementDeletes,
        user_secret: Option<&DuckdbSecret>,
    ) -> Result<u64> {
        statement.positions = std::mem::take(&mut statement.positions)
            .into_iter()
            .map(|(path, positions)| (real_path(&path).into_owned(), positions))
            .collect();
        table.refuse_if_restricted("delete from")?;
        if statement.positions.is_empty() {
            return Ok(0);
        }
        self.remember(user_secret);
        let file_io = table.file_io(user_secret);
        let pending = self.pending_files(table);
        let earlier = self.earlier_deletes(table);
        let dir = self.statement_dir(table, &file_io);
        let resolved = resolve::resolve(table, &file_io, statement, &pending, &earlier, &dir).await?;
        let mut ops = self.ops();
        if !resolved.removed_pending.is_empty() {
            let versions = Versions::of(&ops, table);
            for op in ops.iter_mut() {
                if let Op::Write { table: t, files, .. } = op {
                    if versions.contains(t) {
                        files.retain(|f| !resolved.removed_pending.contains(&f.path));
                    }
                }
            }
        }
        let op = Op::Delete { table: table.clone(), delta: resolved.delta, file_io };
        self.note(&op);
        ops.push(op);
        Ok(resolved.count)
    }

    /// `floe_rewrite_data_files`: compacts `table` as loaded (its new files written now, into a
    /// directory removed if the transaction fails), recorded as its change at COMMIT. Refused
    /// after other changes of the table in this transaction, which a rewrite of the committed
    /// files would not see.
    pub async fn rewrite_data_files(
        &self,
        table: &Arc<LoadedTable>,
        options: &RewriteOptions,
        user_secret: Option<&DuckdbSecret>,
        progress: &Progress,
    ) -> Result<RewriteOutcome> {
        table.refuse_if_restricted("rewrite the data files of")?;
        if self.changes_table(&identifier(table)) {
            return Err(Error::invalid_input(format!(
                "floe_rewrite_data_files('{}') cannot follow other changes of the table in the same transaction",
                table.qualified_name()
            ))
            .with_fix("COMMIT them first, then call it"));
        }
        self.remember(user_secret);
        let file_io = table.file_io(user_secret);
        let dir = self.statement_dir(table, &file_io);
        let (delta, outcome) = rewrite_data_files::rewrite(table, &file_io, options, &dir, progress).await?;
        if !delta.is_empty() {
            self.push(Op::Delete { table: table.clone(), delta, file_io });
        }
        Ok(outcome)
    }

    /// `floe_rewrite_manifests`: `table`'s manifests merged per partition spec and content into
    /// as few as `commit.manifest.target-size-bytes` allows: now (advancing `progress`), and
    /// again at COMMIT for what another writer changed meanwhile. Returns how many manifests of
    /// the table as loaded it merges, into how many; none to merge commits nothing. Refused
    /// after other changes of the table in this transaction.
    pub async fn rewrite_manifests(
        &self,
        table: &Arc<LoadedTable>,
        user_secret: Option<&DuckdbSecret>,
        progress: &Progress,
    ) -> Result<(usize, usize)> {
        table.refuse_if_restricted("rewrite the manifests of")?;
        if self.changes_table(&identifier(table)) {
            return Err(Error::invalid_input(format!(
                "floe_rewrite_manifests('{}') cannot follow other changes of the table in the same transaction",
                table.qualified_name()
            ))
            .with_fix("COMMIT them first, then call it"));
        }
        let file_io = table.file_io(user_secret);
        let Some(snapshot) = table.metadata.current_snapshot() else { return Ok((0, 0)) };
        let list = load_manifest_list(&file_io, &table.metadata, snapshot).await?;
        let target_size = MergePolicy::from_properties(table.metadata.properties()).target_size;
        let counts = rewrite_counts(list.entries().to_vec(), target_size);
        if counts.0 > 0 {
            self.remember(user_secret);
            let mut snapshot = NewSnapshot::new(Action::RewriteManifests, Vec::new());
            let merged = snapshot.merge_ahead(&file_io, &table.metadata, list.entries(), progress).await;
            // Removed if the transaction fails or rolls back, like the files statements write.
            crate::sync::lock(&self.written_files)
                .extend(snapshot.written.iter().map(|path| (file_io.clone(), path.clone())));
            merged?;
            self.push(Op::RewriteManifests { table: table.clone(), file_io, snapshot });
        }
        Ok(counts)
    }

    /// The rows earlier DELETE, UPDATE and MERGE statements of this transaction removed from
    /// `table`, and the data files they rewrote.
    fn earlier_deletes(&self, table: &Arc<LoadedTable>) -> RowDelta {
        let mut earlier = RowDelta::default();
        let ops = self.ops();
        let versions = Versions::of(&ops, table);
        for op in ops.iter() {
            if let Op::Delete { table: t, delta, .. } = op {
                if versions.contains(t) {
                    for (path, positions) in &delta.deleted {
                        earlier.deleted.entry(path.clone()).or_default().extend(positions);
                    }
                    earlier.rewritten.retain(|(_, f)| !delta.removed_rewritten.contains(f.file_path()));
                    earlier.rewritten.extend(delta.rewritten.iter().cloned());
                }
            }
        }
        earlier
    }

    /// A fresh directory under `table`'s data location for files the core writes for one
    /// statement; removed with the others if the transaction fails.
    fn statement_dir(&self, table: &LoadedTable, file_io: &FileIO) -> String {
        let data = table
            .metadata
            .properties()
            .get("write.data.path")
            .cloned()
            .unwrap_or_else(|| format!("{}/data", table.metadata.location().trim_end_matches('/')));
        let dir = format!("{}/{}", data.trim_end_matches('/'), uuid::Uuid::now_v7());
        crate::sync::lock(&self.write_dirs).push((file_io.clone(), format!("{dir}/")));
        dir
    }

    /// What this transaction's row-level statements changed in `table` so far, for its own
    /// reads: delete files by data file, data files removed whole, and data files rewritten.
    pub fn pending_deletes(&self, table: &Arc<LoadedTable>) -> PendingDeletes {
        let mut pending = PendingDeletes::default();
        let ops = self.ops();
        let versions = Versions::of(&ops, table);
        for op in ops.iter() {
            if let Op::Delete { table: t, delta, .. } = op {
                if versions.contains(t) {
                    for (data_file, files) in delta.delete_files_by_data_file() {
                        pending.delete_files.entry(data_file).or_default().extend(files);
                    }
                    pending.removed.extend(delta.removed.iter().cloned());
                    pending.removed.extend(delta.removed_rewritten.iter().cloned());
                    pending.rewritten.extend(delta.rewritten.iter().map(|(_, f)| f.clone()));
                }
            }
        }
        pending.rewritten.retain(|f| !pending.removed.contains(f.file_path()));
        pending
    }

    /// The user's storage secret for the tables this transaction touches, where the catalog vends
    /// no credentials: the commit reads and writes metadata files with it.
    pub fn remember(&self, user_secret: Option<&DuckdbSecret>) {
        if let Some(secret) = user_secret {
            *crate::sync::lock(&self.user_secret) = Some(secret.clone());
        }
    }

    /// A commit work for `target`, reaching storage with the transaction's credentials.
    fn work(&self, id: TableIdentifier, change: Change, target: Arc<LoadedTable>) -> Work {
        let file_io = self.file_io(&target);
        let mut work = Work::new(id, change, target, file_io);
        work.lineage_key = display(&work.id);
        work
    }

    fn file_io(&self, table: &LoadedTable) -> FileIO {
        table.file_io(crate::sync::lock(&self.user_secret).as_ref())
    }

    pub fn drop_table(&self, namespace: Namespace, name: String, purge: bool) {
        self.push(Op::Drop { id: TableIdentifier { namespace, name }, purge });
    }

    pub fn rename_table(&self, from: TableIdentifier, to: TableIdentifier) {
        self.push(Op::Rename { from, to });
    }

    /// Whether `table` replaces all rows of its base (CREATE OR REPLACE, TRUNCATE): its
    /// committed rows are gone for this transaction's reads.
    pub fn replaces_rows(&self, table: &Arc<LoadedTable>) -> bool {
        self.ops().iter().any(|op| matches!(op, Op::Replace { target, .. } if Arc::ptr_eq(target, table)))
    }

    /// Data files written in this transaction for `table` (read-your-writes before COMMIT).
    pub fn pending_files(&self, table: &Arc<LoadedTable>) -> Vec<WrittenFile> {
        let ops = self.ops();
        let versions = Versions::of(&ops, table);
        ops.iter()
            .filter_map(|op| match op {
                Op::Write { table: t, files, .. } if versions.contains(t) => Some(files.clone()),
                _ => None,
            })
            .flatten()
            .collect()
    }

    /// Applies everything to the catalog, in order. On failure the files this transaction
    /// wrote are removed, except after a commit in an unknown state, where they may be part of
    /// a table now.
    pub async fn commit(&self) -> Result<()> {
        let ops = dbt_swap::find_view_swaps(dbt_swap::find_swaps(std::mem::take(&mut *self.ops())));
        let mut batch: Vec<Work> = Vec::new();
        let mut doomed: Vec<Work> = Vec::new();
        let outcome = self.apply(ops, &mut batch, &mut doomed).await;
        // Files of tables created and dropped again in this transaction were never committed.
        for work in doomed {
            work.remove_files().await;
        }
        match &outcome {
            Ok(()) => {
                crate::sync::lock(&self.write_dirs).clear();
                crate::sync::lock(&self.written_files).clear();
            }
            Err(err) if err.kind() == ErrorKind::CommitStateUnknown => {}
            Err(_) => {
                for work in &batch {
                    work.remove_files().await;
                }
                self.remove_written().await;
            }
        }
        outcome
    }

    /// ROLLBACK: nothing reaches the catalog; the files statements wrote are removed.
    pub async fn rollback(&self) {
        self.ops().clear();
        self.remove_written().await;
    }

    async fn remove_written(&self) {
        let files = std::mem::take(&mut *crate::sync::lock(&self.written_files));
        for (file_io, path) in files {
            let _ = file_io.delete(&path).await;
        }
        let dirs = std::mem::take(&mut *crate::sync::lock(&self.write_dirs));
        for (file_io, dir) in dirs {
            let _ = file_io.delete_prefix(&dir).await;
        }
    }
}

/// `namespace.name`, as users name a table or view.
fn display(id: &TableIdentifier) -> String {
    format!("{}.{}", display_namespace(&id.namespace), id.name)
}

fn identifier(table: &LoadedTable) -> TableIdentifier {
    TableIdentifier { namespace: table.namespace.clone(), name: table.name.clone() }
}
