//! The data files of a snapshot that may hold rows matching a filter, as `iceberg` scan tasks:
//! the pruning a scan plans with, shared by compaction's `where`.
//!
//! `iceberg`'s `TableScan::plan_files` binds the predicate and judges it inclusively by the
//! manifest list's partition summaries, each file's partition values and its column metrics
//! (a file is kept while its bounds may hold a matching row); comparisons on promoted columns are
//! judged by [`super::promotion`] instead.

use futures::TryStreamExt;
use iceberg::scan::FileScanTask;
use iceberg::spec::{SchemaRef, SnapshotRef, TableMetadata};
use iceberg::table::Table;

use super::filter::Filter;
use super::promotion::Promotions;
use crate::error::Result;

/// The columns the tasks read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Projection {
    /// None: DuckDB's own reader reads the files, the tasks only name them and their deletes.
    Nothing,
    /// Every column of the snapshot's schema, for `iceberg`'s reader.
    Everything,
}

/// The tasks of `snapshot` of `table` (whose metadata is `metadata`) whose files may hold rows
/// matching `filter` (all with none), each with the delete files that apply to it. `read` is the
/// schema the rows are read with, whose promoted columns `iceberg` cannot judge.
pub async fn matching_tasks(
    table: &Table,
    metadata: &TableMetadata,
    snapshot: &SnapshotRef,
    read: &SchemaRef,
    filter: Option<&Filter>,
    projection: Projection,
) -> Result<Vec<FileScanTask>> {
    let promotions = Promotions::of(metadata, read);
    let mut builder = table.scan().snapshot_id(snapshot.snapshot_id());
    if projection == Projection::Nothing {
        builder = builder.select_empty();
    }
    // iceberg binds the filter to the schema the snapshot was written with: a column added or
    // renamed since is missing there or named otherwise, and no file of the snapshot holds
    // values of an added one to prune by, so the filter is built from that schema's fields.
    let snapshot_schema = snapshot.schema(metadata)?;
    if let Some(predicate) = filter.and_then(|f| f.to_predicate(&snapshot_schema, &promotions)) {
        builder = builder.with_filter(predicate);
    }
    let mut tasks: Vec<FileScanTask> = builder.build()?.plan_files().await?.try_collect().await?;
    if let Some(filter) = filter {
        let excluded = promotions.excluded_files(table, snapshot, filter).await?;
        tasks.retain(|task| !excluded.contains(&task.data_file_path));
    }
    Ok(tasks)
}
