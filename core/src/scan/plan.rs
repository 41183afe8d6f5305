//! Scan planning: the data files of one snapshot that can hold rows matching the pushed-down
//! filters, each with the delete files that apply to it.
//!
//! Pruning (manifest list partition summaries, partition values, column metrics) and the
//! matching of delete files to data files by sequence number and partition are done by
//! `iceberg`'s `TableScan::plan_files`, except for comparisons on promoted columns
//! ([`super::promotion`]); this module shapes its output for DuckDB's reader.

use std::collections::HashMap;
use std::sync::Arc;

use iceberg::io::FileIO;

use iceberg::scan::{FileScanTask, FileScanTaskDeleteFile};
use iceberg::spec::{DataContentType, DataFileFormat, ManifestList, SchemaRef, SnapshotRef, Transform, Type};
use serde::Serialize;

use super::deletes::{matching_positions, EqualityCache, PositionDeletes};
use super::filter::Filter;
use super::matching::{matching_tasks, Projection};
use super::server_plan;
use super::value::Value;
use crate::error::{Error, Result};
use crate::storage::{real_path, DuckdbSecret, Entry};
use crate::table::LoadedTable;

/// About what one manifest takes in a manifest list (path, counts, partition summaries), for the
/// weight of a kept table.
const MANIFEST_LIST_ENTRY_BYTES: u64 = 200;

#[derive(Debug, Clone, Serialize)]
pub struct PlannedFile {
    /// `floe://<storage id>/<url>`: DuckDB reads it through floe's storage.
    pub path: String,
    pub file_size: u64,
    pub record_count: Option<u64>,
    /// Values of identity partition fields, by source field id: the constant to use where a
    /// data file lacks the column itself (files of tables migrated from Hive).
    pub identity_partition: Vec<(i32, Option<Value>)>,
    /// Indexes into [`ScanPlan::delete_files`].
    pub deletes: Vec<usize>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, Hash)]
pub struct DeleteFile {
    pub path: String,
    pub content: DeleteContent,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, Hash)]
pub enum DeleteContent {
    /// A Parquet position delete file (format version 2).
    Positions,
    /// A Puffin file of deletion vectors (format version 3).
    DeletionVectors,
    /// An equality delete file over these field ids.
    Equality(Vec<i32>),
}

impl DeleteContent {
    /// `iceberg`'s delete tasks carry the content type but not the file format, which tells
    /// Parquet position deletes from deletion vectors; writers name Puffin files by the format's
    /// extension (Java's `OutputFileFactory` and DuckDB's iceberg extension alike).
    fn of(delete: &FileScanTaskDeleteFile) -> DeleteContent {
        match delete.file_type {
            DataContentType::EqualityDeletes => {
                DeleteContent::Equality(delete.equality_ids.clone().unwrap_or_default())
            }
            _ if delete.file_path.ends_with(".puffin") => DeleteContent::DeletionVectors,
            _ => DeleteContent::Positions,
        }
    }
}

pub struct ScanPlan {
    storage: Arc<Entry>,
    file_io: FileIO,
    schema: SchemaRef,
    pub files: Vec<PlannedFile>,
    pub delete_files: Vec<DeleteFile>,
    position_deletes: Arc<PositionDeletes>,
    equality_deletes: EqualityCache,
}

impl ScanPlan {
    /// Plans a scan of `snapshot` (none: the table is empty) read with `schema`, reaching
    /// storage with the table's credentials completed by `user_secret`.
    pub async fn new(
        table: &LoadedTable,
        snapshot: Option<&SnapshotRef>,
        schema: SchemaRef,
        filter: Option<&Filter>,
        user_secret: Option<&DuckdbSecret>,
    ) -> Result<ScanPlan> {
        let mut plan = ScanPlan {
            storage: table.storage.clone(),
            file_io: table.file_io(user_secret),
            schema: schema.clone(),
            files: Vec::new(),
            delete_files: Vec::new(),
            position_deletes: table.position_deletes.clone(),
            equality_deletes: EqualityCache::default(),
        };
        let Some(snapshot) = snapshot else {
            return Ok(plan);
        };
        if let Some(catalog) = &table.planner {
            let tasks = server_plan::plan(catalog, table, snapshot.snapshot_id(), &schema, filter).await?;
            let mut delete_index: HashMap<DeleteFile, usize> = HashMap::new();
            for task in tasks {
                let file = task.data_file;
                check_parquet(table, &file.file_format, &file.file_path)?;
                let deletes = task.deletes.into_iter().map(|delete| DeleteFile {
                    content: match delete.content.as_str() {
                        "equality-deletes" => DeleteContent::Equality(delete.equality_ids.clone().unwrap_or_default()),
                        _ if delete.file_format.eq_ignore_ascii_case("puffin") => DeleteContent::DeletionVectors,
                        _ => DeleteContent::Positions,
                    },
                    path: delete.file_path,
                });
                let deletes = plan.index_deletes(&mut delete_index, deletes);
                plan.files.push(PlannedFile {
                    identity_partition: server_plan::identity_partition(&file, &table.metadata, &schema),
                    path: table.storage.wrap(&file.file_path),
                    file_size: file.file_size_in_bytes,
                    record_count: file.record_count,
                    deletes,
                });
            }
            return Ok(plan);
        }
        // The table this version was planned with before holds the manifests it parsed.
        let cache = table.storage.metadata_cache();
        let reused = table
            .metadata_location
            .as_deref()
            .and_then(|location| cache.table(location, &table.metadata, snapshot.snapshot_id()));
        let planned_before = reused.is_some();
        let iceberg_table = match reused {
            Some(reused) => reused,
            None => table.iceberg_table(plan.file_io.clone())?,
        };
        // Storage failures carry their fix (by the credentials' source) from crate::storage.
        let tasks = matching_tasks(&iceberg_table, &table.metadata, snapshot, &schema, filter, Projection::Nothing)
            .await
            .map_err(|e| {
                e.context(format!(
                    "Cannot plan a scan of table '{}' at {}",
                    table.qualified_name(),
                    table.metadata.location()
                ))
            })?;
        // Kept by the size of the files it parsed, known from the manifest list; a list the cache
        // did not keep is larger than it, and so is the table.
        if let (false, Some(list)) = (planned_before, cache.cached(snapshot.manifest_list()).await) {
            let list = ManifestList::parse_with_version(&list, table.metadata.format_version())?;
            let manifest_bytes =
                list.entries().iter().map(|m| u64::try_from(m.manifest_length).unwrap_or(0)).sum::<u64>();
            cache.keep_table(&iceberg_table, manifest_bytes + list.entries().len() as u64 * MANIFEST_LIST_ENTRY_BYTES);
        }

        let mut delete_index: HashMap<DeleteFile, usize> = HashMap::new();
        for task in tasks {
            if task.data_file_format != DataFileFormat::Parquet {
                check_parquet(table, &format!("{:?}", task.data_file_format), &task.data_file_path)?;
            }
            let deletes = task
                .deletes
                .iter()
                .map(|delete| DeleteFile { path: delete.file_path.clone(), content: DeleteContent::of(delete) });
            let deletes = plan.index_deletes(&mut delete_index, deletes);
            plan.files.push(PlannedFile {
                identity_partition: identity_partition(&task, &schema),
                path: table.storage.wrap(&task.data_file_path),
                file_size: task.file_size_in_bytes,
                record_count: task.record_count,
                deletes,
            });
        }
        Ok(plan)
    }

    /// The indexes of `deletes` in the plan's delete files, each file listed once.
    fn index_deletes(
        &mut self,
        index: &mut HashMap<DeleteFile, usize>,
        deletes: impl Iterator<Item = DeleteFile>,
    ) -> Vec<usize> {
        deletes
            .map(|file| {
                let next = index.len();
                *index.entry(file.clone()).or_insert_with(|| {
                    self.delete_files.push(file);
                    next
                })
            })
            .collect()
    }

    /// Adds files written but not yet committed by the reading transaction.
    pub fn add_pending(&mut self, files: Vec<crate::commit::data_file::WrittenFile>) {
        self.files.extend(files.into_iter().map(|file| PlannedFile {
            path: self.storage.wrap(&file.path),
            file_size: file.file_size,
            record_count: Some(file.record_count),
            identity_partition: Vec::new(),
            deletes: Vec::new(),
        }));
    }

    /// Applies the row-level changes the reading transaction has not committed yet: removed
    /// data files are dropped, rewritten ones added, and delete files attached to the data files
    /// they refer to.
    pub fn apply_pending_deletes(&mut self, pending: crate::commit::transaction::PendingDeletes) {
        let removed = &pending.removed;
        self.files.retain(|file| !removed.contains(&*real_path(&file.path)));
        for file in pending.rewritten {
            self.files.push(PlannedFile {
                path: self.storage.wrap(file.file_path()),
                file_size: file.file_size_in_bytes(),
                record_count: Some(file.record_count()),
                identity_partition: Vec::new(),
                deletes: Vec::new(),
            });
        }
        for file in &mut self.files {
            let Some(paths) = pending.delete_files.get(&*real_path(&file.path)) else { continue };
            for path in paths {
                let index = self.delete_files.len();
                self.delete_files.push(DeleteFile { path: path.clone(), content: DeleteContent::Positions });
                file.deletes.push(index);
            }
        }
    }

    /// Sorted positions of the rows deleted from file `index` of the plan, by positional
    /// deletes, deletion vectors and equality deletes alike.
    pub async fn deleted_positions(&self, index: usize) -> Result<Vec<i64>> {
        let file = self.file(index)?;
        let data_file = &*real_path(&file.path);
        let mut positional = Vec::new();
        let mut vectors = Vec::new();
        let mut equality = Vec::new();
        for delete in file.deletes.iter().map(|&d| &self.delete_files[d]) {
            match &delete.content {
                DeleteContent::Positions => positional.push(delete.path.clone()),
                DeleteContent::DeletionVectors => vectors.push(delete.path.clone()),
                DeleteContent::Equality(ids) => {
                    equality.push(self.equality_deletes.equality(&self.file_io, &self.schema, &delete.path, ids).await?)
                }
            }
        }
        // A data file has at most one deletion vector, but position delete files written
        // before the table moved to format version 3 still apply to it.
        let mut positions = self.position_deletes.positions(&self.file_io, data_file, &positional).await?;
        positions.extend(self.position_deletes.deletion_vectors(&self.file_io, data_file, &vectors).await?);
        if !equality.is_empty() {
            positions.extend(matching_positions(&self.file_io, &self.schema, data_file, &equality).await?);
        }
        // Each source is sorted already: the stable sort finds those runs and merges them.
        positions.sort();
        positions.dedup();
        Ok(positions)
    }

    fn file(&self, index: usize) -> Result<&PlannedFile> {
        self.files
            .get(index)
            .ok_or_else(|| Error::internal(format!("scan plan has no file {index} (it has {})", self.files.len())))
    }
}

/// floe reads Parquet data files only.
fn check_parquet(table: &LoadedTable, format: &str, path: &str) -> Result<()> {
    if format.eq_ignore_ascii_case("parquet") {
        return Ok(());
    }
    Err(Error::unsupported(format!(
        "Table '{}' has a {format} data file ({path}); floe reads Parquet data files only",
        table.qualified_name()
    )))
}

fn identity_partition(task: &FileScanTask, schema: &SchemaRef) -> Vec<(i32, Option<Value>)> {
    let (Some(spec), Some(partition)) = (&task.partition_spec, &task.partition) else {
        return Vec::new();
    };
    spec.fields()
        .iter()
        .zip(partition.iter())
        .filter(|(field, _)| field.transform == Transform::Identity)
        .filter_map(|(field, value)| {
            let ty = match schema.field_by_id(field.source_id)?.field_type.as_ref() {
                Type::Primitive(ty) => ty.clone(),
                _ => return None,
            };
            let value = match value {
                Some(iceberg::spec::Literal::Primitive(literal)) => Some(Value::from_literal(literal, &ty)?),
                Some(_) => return None,
                None => None,
            };
            Some((field.source_id, value))
        })
        .collect()
}
