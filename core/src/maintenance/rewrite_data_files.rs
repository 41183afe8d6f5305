//! Compaction (`floe_rewrite_data_files`): the small data files of a partition, and files that
//! delete files apply to, read with their deletes applied and written again as files of the
//! target size — binpacked in the order read, or sorted by the table's sort order. Spark's
//! `where` narrows the candidates to the files a scan with that filter would read.
//!
//! The result is a row-level change of its own kind ([`RowDelta`]): the input files are removed
//! (with the position deletes that refer only to them) and the new files added, in a `replace`
//! snapshot. The new files carry the data sequence number of the snapshot the rewrite read, as
//! Iceberg Java's rewrite does, so deletes another writer commits meanwhile still apply to their
//! rows; and after a lost race the change goes on top only if no input file was removed or got
//! new deletes meanwhile (the row-level conflict check).
//!
//! `iceberg` 0.10 reads files with their deletes (`ArrowReader`) and writes Parquet with column
//! metrics (`ParquetWriter`), but has no rewrite action; the grouping and rolling are floe's.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch};
use arrow_ord::sort::{lexsort_to_indices, SortColumn, SortOptions};
use arrow_schema::SchemaRef as ArrowSchemaRef;
use futures::TryStreamExt;
use iceberg::arrow::{schema_to_arrow_schema, ArrowReaderBuilder};
use iceberg::io::FileIO;
use iceberg::scan::FileScanTask;
use iceberg::spec::{
    DataContentType, DataFile, DataFileFormat, NullOrder, SchemaRef, SortDirection, SortOrder, Struct,
};
use iceberg::transform::create_transform_function;
use iceberg::writer::file_writer::{FileWriter, FileWriterBuilder, ParquetWriter, ParquetWriterBuilder};
use iceberg::writer::CurrentFileStatus;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use serde::{Deserialize, Serialize};

use super::progress::Progress;
use crate::commit::row_level::{Isolation, RowDelta, RowOperation, Touched};
use crate::commit::snapshot::load_manifest_list;
use crate::error::{Error, Result};
use crate::scan::filter::Filter;
use crate::scan::matching::{matching_tasks, Projection};
use crate::table::LoadedTable;
use crate::write_properties::WriteProperties;

/// `strategy`: how the rows of a group are laid out in the new files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    /// In the order the files are read.
    Binpack,
    /// By the table's default sort order.
    Sort,
}

/// Spark's default for `min_input_files`.
const DEFAULT_MIN_INPUT_FILES: usize = 5;

/// The procedure's arguments, with Spark's defaults where the table sets nothing.
#[derive(Debug, Clone, Deserialize)]
pub struct RewriteOptions {
    pub strategy: Strategy,
    /// None: the table's `write.target-file-size-bytes`, else 512 MiB.
    pub target_file_size_bytes: Option<u64>,
    /// None: Spark's 5.
    pub min_input_files: Option<usize>,
    /// Spark's `where`: only files that may hold rows matching it are considered, each rewritten
    /// whole.
    #[serde(rename = "where", default)]
    pub filter: Option<Filter>,
}

/// What the rewrite did, as Spark's `rewrite_data_files` reports it.
#[derive(Debug, Default, Clone, Serialize)]
pub struct RewriteOutcome {
    pub rewritten_data_files_count: u64,
    pub added_data_files_count: u64,
    pub rewritten_bytes_count: u64,
}

/// A live data file of the snapshot read, and the scan task that reads it with its deletes.
struct Input {
    file: DataFile,
    spec_id: i32,
    task: FileScanTask,
}

/// The rewrite of `table`'s current snapshot, its new files written under `dir`: the change to
/// commit and what it did. Nothing to do gives an empty change.
pub async fn rewrite(
    table: &LoadedTable,
    file_io: &FileIO,
    options: &RewriteOptions,
    dir: &str,
    progress: &Progress,
) -> Result<(RowDelta, RewriteOutcome)> {
    let metadata = &table.metadata;
    let Some(snapshot) = metadata.current_snapshot() else {
        return Ok((RowDelta::default(), RewriteOutcome::default()));
    };
    let target_size = match options.target_file_size_bytes {
        Some(size) => size,
        None => WriteProperties::parse(metadata.properties(), &table.qualified_name())?.target_file_size_bytes,
    };
    let sort_order = match options.strategy {
        Strategy::Binpack => None,
        Strategy::Sort if metadata.default_sort_order().is_unsorted() => {
            return Err(Error::invalid_input(format!(
                "floe_rewrite_data_files('{}', strategy => 'sort'): the table has no sort order",
                table.qualified_name()
            ))
            .with_fix("set one first with ALTER TABLE ... SET SORTED BY (...), or use strategy => 'binpack'"))
        }
        Strategy::Sort => Some(metadata.default_sort_order().clone()),
    };

    // The live data files with their spec and partition, from the manifests, and the scan
    // tasks that read them with the deletes that apply, from the planner (of the files that may
    // match `where`).
    let mut files: HashMap<String, (DataFile, i32)> = HashMap::new();
    let list = load_manifest_list(file_io, metadata, snapshot).await?;
    for manifest in list.entries().iter().filter(|m| m.content == iceberg::spec::ManifestContentType::Data) {
        let loaded = manifest.load_manifest(file_io).await?;
        for entry in loaded.entries().iter().filter(|e| e.is_alive()) {
            files.insert(
                entry.data_file().file_path().to_string(),
                (entry.data_file().clone(), manifest.partition_spec_id),
            );
        }
    }
    let iceberg_table = table.iceberg_table(file_io.clone())?;
    let schema = metadata.current_schema().clone();
    let filter = options.filter.as_ref();
    let tasks = matching_tasks(&iceberg_table, metadata, snapshot, &schema, filter, Projection::Everything).await?;
    let mut groups: HashMap<(i32, Struct), Vec<Input>> = HashMap::new();
    for mut task in tasks {
        // `where` selects whole files: the reader would otherwise drop the rows not matching it.
        task.predicate = None;
        let Some((file, spec_id)) = files.remove(&task.data_file_path) else { continue };
        let small = (file.file_size_in_bytes() as f64) < 0.75 * target_size as f64;
        if small || !task.deletes.is_empty() {
            groups.entry((spec_id, file.partition().clone())).or_default().push(Input { file, spec_id, task });
        }
    }

    let mut delta = RowDelta {
        isolation: Some(Isolation::Snapshot),
        operations: vec![RowOperation::Rewrite],
        data_sequence_number: Some(snapshot.sequence_number()),
        ..RowDelta::default()
    };
    let mut outcome = RewriteOutcome::default();
    let groups: Vec<_> = groups.into_iter().filter(|(_, inputs)| worth_rewriting(inputs, options)).collect();
    progress.start(groups.iter().flat_map(|(_, inputs)| inputs).map(|i| i.file.file_size_in_bytes()).sum());
    for ((spec_id, partition), inputs) in groups {
        let written = write_group(file_io, &schema, &inputs, sort_order.as_deref(), target_size, dir).await?;
        progress.advance(inputs.iter().map(|i| i.file.file_size_in_bytes()).sum());
        for input in &inputs {
            let path = input.file.file_path().to_string();
            outcome.rewritten_data_files_count += 1;
            outcome.rewritten_bytes_count += input.file.file_size_in_bytes();
            delta.touched.insert(path.clone(), Touched { spec_id: input.spec_id, partition: partition.clone() });
            delta.removed.insert(path);
        }
        for mut builder in written {
            if let Some(order) = &sort_order {
                builder.sort_order_id(order.order_id as i32);
            }
            let file = builder
                .content(DataContentType::Data)
                .file_format(DataFileFormat::Parquet)
                .partition(partition.clone())
                .partition_spec_id(spec_id)
                .build()
                .map_err(|e| Error::internal(format!("cannot describe a compacted file: {e}")))?;
            outcome.added_data_files_count += 1;
            delta.rewritten.push((spec_id, file));
        }
    }
    Ok((delta, outcome))
}

/// Whether a group's files are worth rewriting: enough of them, or some with deletes to apply
/// (one file alone without deletes would come out the same).
fn worth_rewriting(inputs: &[Input], options: &RewriteOptions) -> bool {
    let with_deletes = inputs.iter().any(|i| !i.task.deletes.is_empty());
    let min_input_files = options.min_input_files.unwrap_or(DEFAULT_MIN_INPUT_FILES).max(1);
    with_deletes || (inputs.len() >= min_input_files && inputs.len() > 1)
}

/// The rows of `inputs` (deletes applied, in the current schema), sorted if `order` is given,
/// written into files of about `target_size` bytes under `dir`.
async fn write_group(
    file_io: &FileIO,
    schema: &SchemaRef,
    inputs: &[Input],
    order: Option<&SortOrder>,
    target_size: u64,
    dir: &str,
) -> Result<Vec<iceberg::spec::DataFileBuilder>> {
    let tasks: Vec<iceberg::Result<FileScanTask>> = inputs.iter().map(|i| Ok(i.task.clone())).collect();
    let reader = ArrowReaderBuilder::new(file_io.clone(), iceberg::Runtime::new(crate::runtime::tokio()))
        .with_data_file_concurrency_limit(1)
        .build();
    let batches = reader.read(Box::pin(futures::stream::iter(tasks)))?.stream();
    let target: ArrowSchemaRef = Arc::new(schema_to_arrow_schema(schema)?);
    let mut out = Output { file_io, schema, dir, target_size, writer: None, written: Vec::new() };
    match order {
        None => {
            let mut batches = batches;
            while let Some(batch) = batches.try_next().await? {
                out.write(&in_schema(&batch, &target)?).await?;
            }
        }
        Some(order) => {
            // Sorted as a whole: a group is at most a partition's small files.
            let batches: Vec<RecordBatch> = batches.try_collect().await?;
            let all = arrow_select::concat::concat_batches(
                &target,
                &batches.iter().map(|b| in_schema(b, &target)).collect::<Result<Vec<_>>>()?,
            )
            .map_err(|e| Error::internal(format!("cannot gather rows to sort: {e}")))?;
            out.write(&sorted(&all, schema, order)?).await?;
        }
    }
    out.close().await
}

/// New files under `dir`, each closed once it reaches the target size.
struct Output<'a> {
    file_io: &'a FileIO,
    schema: &'a SchemaRef,
    dir: &'a str,
    target_size: u64,
    writer: Option<ParquetWriter>,
    written: Vec<iceberg::spec::DataFileBuilder>,
}

impl Output<'_> {
    async fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        if self.writer.is_none() {
            let properties =
                WriterProperties::builder().set_compression(Compression::ZSTD(ZstdLevel::default())).build();
            let path = format!("{}/{}.parquet", self.dir, uuid::Uuid::now_v7());
            let writer = ParquetWriterBuilder::new(properties, self.schema.clone())
                .build(self.file_io.new_output(&path)?)
                .await?;
            self.writer = Some(writer);
        }
        let writer = self.writer.as_mut().expect("opened above");
        writer.write(batch).await?;
        if writer.current_written_size() as u64 >= self.target_size {
            self.roll().await?;
        }
        Ok(())
    }

    async fn roll(&mut self) -> Result<()> {
        if let Some(writer) = self.writer.take() {
            self.written.extend(writer.close().await?);
        }
        Ok(())
    }

    async fn close(mut self) -> Result<Vec<iceberg::spec::DataFileBuilder>> {
        self.roll().await?;
        Ok(self.written)
    }
}

/// `batch` with `target`'s fields: the reader projects the current schema's columns in order,
/// but nested fields may differ in metadata.
fn in_schema(batch: &RecordBatch, target: &ArrowSchemaRef) -> Result<RecordBatch> {
    let columns = target
        .fields()
        .iter()
        .zip(batch.columns())
        .map(|(field, column)| {
            if column.data_type() == field.data_type() {
                Ok(column.clone())
            } else {
                arrow_cast::cast(column, field.data_type())
                    .map_err(|e| Error::internal(format!("cannot compact column '{}': {e}", field.name())))
            }
        })
        .collect::<Result<Vec<ArrayRef>>>()?;
    RecordBatch::try_new(target.clone(), columns).map_err(|e| Error::internal(format!("cannot compact rows: {e}")))
}

/// `batch` sorted by `order`: each field's transform of its (top-level) source column.
fn sorted(batch: &RecordBatch, schema: &SchemaRef, order: &SortOrder) -> Result<RecordBatch> {
    let mut keys = Vec::new();
    for field in &order.fields {
        let name = schema.name_by_field_id(field.source_id).unwrap_or_default();
        let index = schema.as_struct().fields().iter().position(|f| f.id == field.source_id).ok_or_else(|| {
            Error::unsupported(format!("cannot sort by '{name}': compaction sorts by top-level columns only"))
        })?;
        let values = create_transform_function(&field.transform)?.transform(batch.column(index).clone())?;
        let options = SortOptions {
            descending: field.direction == SortDirection::Descending,
            nulls_first: field.null_order == NullOrder::First,
        };
        keys.push(SortColumn { values, options: Some(options) });
    }
    let indices =
        lexsort_to_indices(&keys, None).map_err(|e| Error::internal(format!("cannot sort compacted rows: {e}")))?;
    arrow_select::take::take_record_batch(batch, &indices)
        .map_err(|e| Error::internal(format!("cannot sort compacted rows: {e}")))
}
