//! Writing one Iceberg v2 position delete file: the rows of one data file that a statement
//! deleted, as `(file_path, pos)` sorted by position.
//!
//! Written with the `parquet` crate rather than DuckDB's Parquet writer: both columns must be
//! REQUIRED with the spec's reserved field ids (Spark refuses OPTIONAL ones, apache/iceberg#13751),
//! and DuckDB 1.5.6's writer cannot mark a column REQUIRED. The files are small (two columns, one
//! data file each), so writing them whole from memory costs little.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::{ArrayRef, DictionaryArray, Int32Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema as ArrowSchema};
use bytes::Bytes;
use iceberg::io::FileIO;
use iceberg::spec::{DataContentType, DataFile, DataFileBuilder, DataFileFormat, Datum, Struct};
use parquet::arrow::arrow_writer::ArrowWriterOptions;
use parquet::arrow::{ArrowWriter, PARQUET_FIELD_ID_META_KEY};
use parquet::basic::{Compression, Encoding, ZstdLevel};
use parquet::file::properties::WriterProperties;
use parquet::schema::types::ColumnPath;

use crate::error::{Error, Result};

/// Iceberg's reserved field ids of position delete files (spec, "Position Delete Files").
pub const FILE_PATH_FIELD_ID: i32 = 2147483546;
pub const POS_FIELD_ID: i32 = 2147483545;

fn field(name: &str, data_type: DataType, id: i32) -> Field {
    Field::new(name, data_type, false)
        .with_metadata(HashMap::from([(PARQUET_FIELD_ID_META_KEY.to_string(), id.to_string())]))
}

/// Writes the delete file `path` deleting `positions` (sorted, distinct) of `data_file` and returns
/// its manifest entry: the data file's partition and spec, `referenced_data_file`, and the
/// `file_path` bounds set to the data file (readers index position deletes by them).
pub async fn write_position_deletes(
    file_io: &FileIO,
    path: &str,
    data_file: &str,
    positions: &[i64],
    partition: Struct,
    spec_id: i32,
) -> Result<DataFile> {
    // The path column as a dictionary of one value: the data file's path is not copied once per
    // row (100,000 deletes would make it an 11 MB array). Parquet stores it as strings either
    // way, and without the Arrow schema readers see the spec's string column.
    let dictionary = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
    let schema = Arc::new(ArrowSchema::new(vec![
        field("file_path", dictionary, FILE_PATH_FIELD_ID),
        field("pos", DataType::Int64, POS_FIELD_ID),
    ]));
    let keys = Int32Array::from(vec![0; positions.len()]);
    let paths: ArrayRef = Arc::new(
        DictionaryArray::try_new(keys, Arc::new(StringArray::from(vec![data_file])))
            .map_err(|e| Error::internal(format!("cannot build the position deletes of {data_file}: {e}")))?,
    );
    let pos: ArrayRef = Arc::new(Int64Array::from(positions.to_vec()));
    let batch = RecordBatch::try_new(schema.clone(), vec![paths, pos])
        .map_err(|e| Error::internal(format!("cannot build the position deletes of {data_file}: {e}")))?;
    let properties = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_dictionary_enabled(false)
        // One value repeated: dictionary-encoded, the path column costs a few bytes.
        .set_column_dictionary_enabled(ColumnPath::from("file_path"), true)
        // Sorted positions, mostly runs: delta-encoded they cost bits each. A dictionary of
        // distinct values would only grow until the writer gave up on it, at a hash per row.
        .set_column_encoding(ColumnPath::from("pos"), Encoding::DELTA_BINARY_PACKED)
        .build();
    let mut buffer = Vec::new();
    let options = ArrowWriterOptions::new().with_properties(properties).with_skip_arrow_metadata(true);
    let mut writer = ArrowWriter::try_new_with_options(&mut buffer, schema, options)
        .map_err(|e| Error::internal(format!("cannot write the position deletes of {data_file}: {e}")))?;
    writer
        .write(&batch)
        .and_then(|_| writer.close().map(drop))
        .map_err(|e| Error::internal(format!("cannot write the position deletes of {data_file}: {e}")))?;
    let size = buffer.len() as u64;
    file_io.new_output(path)?.write(Bytes::from(buffer)).await?;

    let (Some(first), Some(last)) = (positions.first(), positions.last()) else {
        return Err(Error::internal(format!("empty position delete file for {data_file}")));
    };
    DataFileBuilder::default()
        .content(DataContentType::PositionDeletes)
        .file_path(path.to_string())
        .file_format(DataFileFormat::Parquet)
        .partition(partition)
        .partition_spec_id(spec_id)
        .record_count(positions.len() as u64)
        .file_size_in_bytes(size)
        .referenced_data_file(Some(data_file.to_string()))
        .value_counts(HashMap::from([
            (FILE_PATH_FIELD_ID, positions.len() as u64),
            (POS_FIELD_ID, positions.len() as u64),
        ]))
        .null_value_counts(HashMap::from([(FILE_PATH_FIELD_ID, 0), (POS_FIELD_ID, 0)]))
        .lower_bounds(HashMap::from([
            (FILE_PATH_FIELD_ID, Datum::string(data_file)),
            (POS_FIELD_ID, Datum::long(*first)),
        ]))
        .upper_bounds(HashMap::from([
            (FILE_PATH_FIELD_ID, Datum::string(data_file)),
            (POS_FIELD_ID, Datum::long(*last)),
        ]))
        .build()
        .map_err(|e| Error::internal(format!("cannot describe the position deletes of {data_file}: {e}")))
}
