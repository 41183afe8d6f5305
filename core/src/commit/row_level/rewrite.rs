//! Copy-on-write: a data file written again without the rows a statement deleted (and those
//! deleted before), for tables whose `write.<delete|update|merge>.mode` is `copy-on-write`.
//!
//! The file is streamed batch by batch through the `iceberg` crate's Parquet writer, which
//! gathers the column metrics of the new manifest entry; each batch is brought to the table's
//! current schema by field id first (a column the file lacks is NULL, a promoted type is cast), as
//! the file was written under an older schema perhaps.

use std::sync::Arc;

use arrow_array::{new_null_array, ArrayRef, BooleanArray, RecordBatch};
use arrow_schema::{Schema as ArrowSchema, SchemaRef as ArrowSchemaRef};
use futures::TryStreamExt;
use iceberg::arrow::{schema_to_arrow_schema, ArrowFileReader};
use iceberg::io::FileIO;
use iceberg::spec::{DataContentType, DataFile, DataFileFormat, SchemaRef};
use iceberg::writer::file_writer::{FileWriter, FileWriterBuilder, ParquetWriterBuilder};
use parquet::arrow::{ParquetRecordBatchStreamBuilder, PARQUET_FIELD_ID_META_KEY};
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

use crate::error::{Error, Result};

/// `data_file` (of partition spec `spec_id`) without the rows at `deleted` (sorted, distinct),
/// written to `path`; None when no row is left.
pub async fn rewrite_without(
    file_io: &FileIO,
    schema: &SchemaRef,
    data_file: &DataFile,
    spec_id: i32,
    deleted: &[i64],
    path: &str,
) -> Result<Option<DataFile>> {
    let source = data_file.file_path();
    let unreadable = |e: &dyn std::fmt::Display| Error::storage(format!("Cannot read data file {source}: {e}"));
    let input = file_io.new_input(source)?;
    let reader = ArrowFileReader::new(input.metadata().await?, input.reader().await?);
    let mut stream = ParquetRecordBatchStreamBuilder::new(reader)
        .await
        .map_err(|e| unreadable(&e))?
        .build()
        .map_err(|e| unreadable(&e))?;
    let target: ArrowSchemaRef = Arc::new(schema_to_arrow_schema(schema)?);
    let properties = WriterProperties::builder().set_compression(Compression::ZSTD(ZstdLevel::default())).build();
    let mut writer = ParquetWriterBuilder::new(properties, schema.clone()).build(file_io.new_output(path)?).await?;

    let mut offset: i64 = 0;
    let mut next = deleted.iter().peekable();
    while let Some(batch) = stream.try_next().await.map_err(|e| unreadable(&e))? {
        let keep: BooleanArray = (0..batch.num_rows() as i64)
            .map(|row| {
                let position = offset + row;
                while next.next_if(|&&d| d < position).is_some() {}
                Some(next.next_if_eq(&&position).is_none())
            })
            .collect();
        offset += batch.num_rows() as i64;
        let kept = arrow_select::filter::filter_record_batch(&batch, &keep).map_err(|e| unreadable(&e))?;
        writer.write(&conform(&kept, &target, source)?).await?;
    }
    let Some(mut builder) = writer.close().await?.into_iter().next() else { return Ok(None) };
    // Rows are kept in the order they had: the rewrite is sorted as its source was.
    if let Some(id) = data_file.sort_order_id() {
        builder.sort_order_id(id);
    }
    let file = builder
        .content(DataContentType::Data)
        .file_format(DataFileFormat::Parquet)
        .partition(data_file.partition().clone())
        .partition_spec_id(spec_id)
        .build()
        .map_err(|e| Error::internal(format!("cannot describe the rewrite of {source}: {e}")))?;
    Ok(Some(file))
}

/// `batch` as `target` has its columns: matched by Parquet field id, cast where the type was
/// promoted since, NULL where the file lacks the column.
fn conform(batch: &RecordBatch, target: &ArrowSchemaRef, source: &str) -> Result<RecordBatch> {
    let id_of = |field: &arrow_schema::Field| field.metadata().get(PARQUET_FIELD_ID_META_KEY).cloned();
    let columns = target
        .fields()
        .iter()
        .map(|field| {
            let found = batch.schema().fields().iter().position(|f| id_of(f).is_some() && id_of(f) == id_of(field));
            match found {
                None => Ok(new_null_array(field.data_type(), batch.num_rows())),
                Some(index) => {
                    let column = batch.column(index);
                    if column.data_type() == field.data_type() {
                        Ok(column.clone())
                    } else {
                        arrow_cast::cast(column, field.data_type()).map_err(|e| {
                            Error::storage(format!(
                                "Cannot rewrite column '{}' of data file {source}: {e}",
                                field.name()
                            ))
                        })
                    }
                }
            }
        })
        .collect::<Result<Vec<ArrayRef>>>()?;
    RecordBatch::try_new(Arc::new(ArrowSchema::clone(target)), columns)
        .map_err(|e| Error::storage(format!("Cannot rewrite data file {source}: {e}")))
}
