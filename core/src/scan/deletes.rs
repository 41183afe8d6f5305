//! Deleted rows as positions: positional delete files name them directly, deletion vectors hold
//! them as a bitmap (`super::deletion_vector`); equality delete files name key tuples, which are
//! matched against the data file's key columns here, so DuckDB's reader only ever applies one
//! kind of delete (a position filter), whatever it projects.
//! Which delete file applies to which data file (sequence numbers, partitions) is decided by
//! `iceberg`'s planner.
//!
//! Delete files are small next to data files and are read whole with the `parquet` crate; one
//! positional delete file usually covers many data files, so each is read once per loaded table
//! version (positional files and deletion vectors) or per scan (equality files).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::ops::Range;
use std::sync::{Arc, Mutex};

use arrow_array::cast::AsArray;
use arrow_array::types::{Int32Type, Int64Type};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema as ArrowSchema};
use futures::TryStreamExt;
use iceberg::arrow::ArrowFileReader;
use iceberg::io::FileIO;
use iceberg::spec::{PrimitiveType, Schema, Type};
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder,
};
use parquet::arrow::{ParquetRecordBatchStreamBuilder, ProjectionMask, PARQUET_FIELD_ID_META_KEY};
use tokio::sync::OnceCell;

use super::deletion_vector::PuffinDeletionVectors;
use super::value::Value;
use crate::error::{Error, Result};

/// Iceberg's reserved field ids of positional delete files (spec, "Position Delete Files").
const DELETE_FILE_PATH_FIELD_ID: i32 = 2147483546;
const DELETE_POS_FIELD_ID: i32 = 2147483545;

/// The rows one equality delete file removes: key tuples over `field_ids`, each encoded by
/// [`key`]. NULL matches NULL, as the spec's equality deletes compare null-safely.
#[derive(Debug, Clone)]
pub struct EqualityDeletes {
    pub field_ids: Vec<i32>,
    keys: HashSet<String>,
}

fn key(values: &[Option<Value>]) -> String {
    serde_json::to_string(values).expect("values always encode")
}

/// The positions one positional delete file deletes, by data file path.
type PositionsByDataFile = HashMap<String, Vec<i64>>;

/// Loaded files by path; each file's cell is filled once, whoever asks first.
type Loaded<T> = Mutex<HashMap<String, Arc<OnceCell<Arc<T>>>>>;

/// Positional delete files and deletion vectors read so far, by path. What they delete does not
/// depend on how they are read, so one version of a table keeps them for all its scans and
/// row-level statements in a transaction (`LoadedTable::position_deletes`): a DELETE's scan and
/// the statement's own delete files then read each once.
#[derive(Default)]
pub struct PositionDeletes {
    positional: Loaded<PositionsByDataFile>,
    puffin: Loaded<PuffinDeletionVectors>,
}

/// Equality delete files read so far in one scan, shared by all the threads scanning it. Not kept
/// longer: their keys are read with the scan's schema.
#[derive(Default)]
pub struct EqualityCache {
    equality: Loaded<EqualityDeletes>,
}

impl PositionDeletes {
    /// Positions deleted from `data_file` by the positional delete files `delete_files`,
    /// sorted and without duplicates.
    pub async fn positions(&self, file_io: &FileIO, data_file: &str, delete_files: &[String]) -> Result<Vec<i64>> {
        let mut positions = Vec::new();
        for path in delete_files {
            let by_file = cached(&self.positional, path, || read_positional(file_io, path)).await?;
            if let Some(found) = by_file.get(data_file) {
                positions.extend_from_slice(found);
            }
        }
        positions.sort_unstable();
        positions.dedup();
        Ok(positions)
    }

    /// Positions deleted from `data_file` by its deletion vectors in the Puffin files
    /// `puffin_files`, sorted and without duplicates. Each file's footer is read once per loaded
    /// table version; a data file's vector is read by that data file alone.
    pub async fn deletion_vectors(
        &self,
        file_io: &FileIO,
        data_file: &str,
        puffin_files: &[String],
    ) -> Result<Vec<i64>> {
        let mut positions = Vec::new();
        for path in puffin_files {
            let vectors = cached(&self.puffin, path, || PuffinDeletionVectors::read(file_io, path)).await?;
            positions.extend(vectors.positions(file_io, data_file).await?);
        }
        positions.sort_unstable();
        positions.dedup();
        Ok(positions)
    }
}

impl EqualityCache {
    pub async fn equality(
        &self,
        file_io: &FileIO,
        schema: &Schema,
        path: &str,
        field_ids: &[i32],
    ) -> Result<Arc<EqualityDeletes>> {
        cached(&self.equality, path, || read_equality(file_io, schema, path, field_ids)).await
    }
}

/// The entry for `path` in `cache`, loaded by `load` when missing. Threads asking for the same
/// file meanwhile wait for that one load (a scan's threads all start on the same delete files);
/// a failed load is not kept, so the next asker tries again.
async fn cached<T, F, Fut>(cache: &Loaded<T>, path: &str, load: F) -> Result<Arc<T>>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let cell = crate::sync::lock(cache).entry(path.to_string()).or_default().clone();
    cell.get_or_try_init(|| async { load().await.map(Arc::new) }).await.cloned()
}

async fn read_whole(file_io: &FileIO, path: &str) -> Result<bytes::Bytes> {
    file_io.new_input(path)?.read().await.map_err(|e| Error::storage(format!("Cannot read delete file {path}: {e}")))
}

fn unreadable(path: &str) -> impl Fn(parquet::errors::ParquetError) -> Error + '_ {
    move |e| Error::storage(format!("Delete file {path} is not readable Parquet: {e}"))
}

async fn read_batches(file_io: &FileIO, path: &str) -> Result<Vec<RecordBatch>> {
    let reader = ParquetRecordBatchReaderBuilder::try_new(read_whole(file_io, path).await?)
        .and_then(|builder| builder.build())
        .map_err(unreadable(path))?;
    collect(reader, path)
}

fn collect(reader: ParquetRecordBatchReader, path: &str) -> Result<Vec<RecordBatch>> {
    reader
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| Error::storage(format!("Cannot decode delete file {path}: {e}")))
}

/// The column carrying Iceberg field id `field_id` (or, for files written without ids, `name`).
fn column_index(schema: &ArrowSchema, field_id: i32, name: &str) -> Option<usize> {
    let id = field_id.to_string();
    schema
        .fields()
        .iter()
        .position(|f| f.metadata().get(PARQUET_FIELD_ID_META_KEY) == Some(&id))
        .or_else(|| schema.fields().iter().position(|f| f.name() == name))
}

fn path_and_position(schema: &ArrowSchema, path: &str) -> Result<(usize, usize)> {
    match (
        column_index(schema, DELETE_FILE_PATH_FIELD_ID, "file_path"),
        column_index(schema, DELETE_POS_FIELD_ID, "pos"),
    ) {
        (Some(file_path), Some(pos)) => Ok((file_path, pos)),
        _ => Err(Error::storage(format!("Positional delete file {path} lacks the file_path and pos columns"))),
    }
}

/// The positions of a positional delete file by data file. Only `file_path` and `pos` are read,
/// `file_path` as a dictionary: a file of 100,000 deletes of one data file names it 100,000
/// times, and reading the column as strings would copy it as often.
async fn read_positional(file_io: &FileIO, path: &str) -> Result<PositionsByDataFile> {
    let bytes = read_whole(file_io, path).await?;
    let plain = ArrowReaderMetadata::load(&bytes, ArrowReaderOptions::new()).map_err(unreadable(path))?;
    let (path_col, pos_col) = path_and_position(plain.schema(), path)?;
    let fields: Vec<Field> = plain
        .schema()
        .fields()
        .iter()
        .map(|field| match field.data_type() {
            // However the writer's Arrow schema typed the strings (PyArrow may say large_string).
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
                if field.name() == plain.schema().field(path_col).name() =>
            {
                field
                    .as_ref()
                    .clone()
                    .with_data_type(DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)))
            }
            _ => field.as_ref().clone(),
        })
        .collect();
    let dictionary = ArrowSchema::new_with_metadata(fields, plain.schema().metadata().clone());
    let metadata = ArrowReaderMetadata::try_new(
        plain.metadata().clone(),
        ArrowReaderOptions::new().with_schema(Arc::new(dictionary)),
    )
    .map_err(unreadable(path))?;
    let projection = ProjectionMask::roots(metadata.parquet_schema(), [path_col, pos_col]);
    let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(bytes, metadata)
        .with_projection(projection)
        .build()
        .map_err(unreadable(path))?;

    let mut by_file = PositionsByDataFile::new();
    for batch in collect(reader, path)? {
        let (path_col, pos_col) = path_and_position(&batch.schema(), path)?;
        let positions = batch.column(pos_col).as_primitive::<Int64Type>().values();
        // The spec sorts a delete file by path: one data file's rows come as a run, added at once.
        for (data_file, rows) in path_runs(batch.column(path_col), path)? {
            by_file.entry(data_file.to_string()).or_default().extend_from_slice(&positions[rows]);
        }
    }
    Ok(by_file)
}

/// Runs of consecutive rows naming the same data file in a `file_path` column, read as a
/// dictionary or as plain strings.
fn path_runs<'a>(column: &'a ArrayRef, path: &str) -> Result<Vec<(&'a str, Range<usize>)>> {
    let mut runs: Vec<(&str, Range<usize>)> = Vec::new();
    let mut add = |data_file: &'a str, row: usize| match runs.last_mut() {
        Some((last, rows)) if *last == data_file => rows.end = row + 1,
        _ => runs.push((data_file, row..row + 1)),
    };
    match column.data_type() {
        DataType::Dictionary(key, _) if key.as_ref() == &DataType::Int32 => {
            let dictionary = column.as_dictionary::<Int32Type>();
            let values = dictionary.values().as_string::<i32>();
            for (row, key) in dictionary.keys().values().iter().enumerate() {
                add(values.value(*key as usize), row);
            }
        }
        DataType::Utf8 => {
            let values = column.as_string::<i32>();
            for row in 0..values.len() {
                add(values.value(row), row);
            }
        }
        other => {
            return Err(Error::storage(format!("Positional delete file {path} has a file_path column of type {other}")))
        }
    }
    Ok(runs)
}

async fn read_equality(file_io: &FileIO, schema: &Schema, path: &str, field_ids: &[i32]) -> Result<EqualityDeletes> {
    let mut columns = Vec::with_capacity(field_ids.len());
    for &id in field_ids {
        let field = schema.field_by_id(id).ok_or_else(|| {
            Error::storage(format!("Equality delete file {path} refers to field id {id}, which the table schema lacks"))
        })?;
        let Type::Primitive(ty) = field.field_type.as_ref() else {
            return Err(Error::unsupported(format!(
                "Equality delete file {path} deletes by nested column '{}'",
                field.name
            )));
        };
        columns.push((id, field.name.clone(), ty.clone()));
    }
    let mut keys = HashSet::new();
    for batch in read_batches(file_io, path).await? {
        let arrow_schema = batch.schema();
        let mut arrays = Vec::with_capacity(columns.len());
        for (id, name, ty) in &columns {
            let index = column_index(&arrow_schema, *id, name).ok_or_else(|| {
                Error::storage(format!("Equality delete file {path} lacks column '{name}' (field id {id})"))
            })?;
            arrays.push((batch.column(index).clone(), ty));
        }
        for row in 0..batch.num_rows() {
            let tuple: Vec<_> = arrays.iter().map(|(array, ty)| Value::from_arrow(array.as_ref(), row, ty)).collect();
            keys.insert(key(&tuple));
        }
    }
    Ok(EqualityDeletes { field_ids: field_ids.to_vec(), keys })
}

/// Positions of the rows of `data_file` that any of `deletes` removes. Only the key columns
/// are read; a key column the file lacks (added to the table later) is NULL in every row.
pub async fn matching_positions(
    file_io: &FileIO,
    schema: &Schema,
    data_file: &str,
    deletes: &[Arc<EqualityDeletes>],
) -> Result<Vec<i64>> {
    let field_ids: BTreeSet<i32> = deletes.iter().flat_map(|d| d.field_ids.iter().copied()).collect();
    let input = file_io.new_input(data_file)?;
    let reader = ArrowFileReader::new(input.metadata().await?, input.reader().await?);
    let builder = ParquetRecordBatchStreamBuilder::new(reader)
        .await
        .map_err(|e| Error::storage(format!("Cannot open data file {data_file}: {e}")))?;
    let descriptor = builder.parquet_schema();
    let leaves: Vec<usize> = (0..descriptor.num_columns())
        .filter(|&i| {
            let info = descriptor.column(i).self_type().get_basic_info().clone();
            info.has_id() && field_ids.contains(&info.id())
        })
        .collect();
    let mask = ProjectionMask::leaves(descriptor, leaves);
    let mut stream = builder
        .with_projection(mask)
        .build()
        .map_err(|e| Error::storage(format!("Cannot read data file {data_file}: {e}")))?;

    let mut positions = Vec::new();
    let mut offset: i64 = 0;
    while let Some(batch) =
        stream.try_next().await.map_err(|e| Error::storage(format!("Cannot decode data file {data_file}: {e}")))?
    {
        let arrow_schema = batch.schema();
        let column = |id: i32| -> Option<(usize, PrimitiveType)> {
            let field = schema.field_by_id(id)?;
            let Type::Primitive(ty) = field.field_type.as_ref() else { return None };
            Some((column_index(&arrow_schema, id, "")?, ty.clone()))
        };
        let columns: HashMap<i32, Option<(usize, PrimitiveType)>> =
            field_ids.iter().map(|&id| (id, column(id))).collect();
        for row in 0..batch.num_rows() {
            let deleted = deletes.iter().any(|delete| {
                let tuple: Vec<_> = delete
                    .field_ids
                    .iter()
                    .map(|id| {
                        columns[id]
                            .as_ref()
                            .and_then(|(index, ty)| Value::from_arrow(batch.column(*index).as_ref(), row, ty))
                    })
                    .collect();
                delete.keys.contains(&key(&tuple))
            });
            if deleted {
                positions.push(offset + row as i64);
            }
        }
        offset += batch.num_rows() as i64;
    }
    Ok(positions)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use arrow_array::{Int64Array, LargeStringArray, StringArray};
    use parquet::arrow::ArrowWriter;
    use parquet::file::properties::WriterProperties;

    use super::*;
    use crate::runtime::block_on;
    use crate::storage::{fixed_file_io, StorageProps, Store};

    /// A positional delete file of `rows` (data file, position), sorted, as another writer might
    /// lay it out: dictionary-encoded paths or plain ones, in small row groups and pages so that
    /// a data file's run spans batches.
    fn delete_file(rows: &[(&str, i64)], dictionary: bool, large: bool) -> Vec<u8> {
        let field = |name: &str, data_type: DataType, id: i32| {
            Field::new(name, data_type, false)
                .with_metadata(HashMap::from([(PARQUET_FIELD_ID_META_KEY.to_string(), id.to_string())]))
        };
        let schema = Arc::new(ArrowSchema::new(vec![
            field("file_path", if large { DataType::LargeUtf8 } else { DataType::Utf8 }, DELETE_FILE_PATH_FIELD_ID),
            field("pos", DataType::Int64, DELETE_POS_FIELD_ID),
        ]));
        let paths = rows.iter().map(|(path, _)| *path);
        let paths: ArrayRef = match large {
            true => Arc::new(LargeStringArray::from_iter_values(paths)),
            false => Arc::new(StringArray::from_iter_values(paths)),
        };
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![paths, Arc::new(Int64Array::from_iter_values(rows.iter().map(|(_, pos)| *pos)))],
        )
        .unwrap();
        let properties = WriterProperties::builder()
            .set_dictionary_enabled(dictionary)
            .set_max_row_group_row_count(Some(3))
            .set_data_page_row_count_limit(2)
            .build();
        let mut buffer = Vec::new();
        let mut writer = ArrowWriter::try_new(&mut buffer, schema, Some(properties)).unwrap();
        writer.write(&batch).unwrap();
        writer.close().unwrap();
        buffer
    }

    #[test]
    fn positional_deletes_are_read_by_data_file_whatever_the_path_encoding() {
        let rows = [("s3://b/a.parquet", 1), ("s3://b/a.parquet", 4), ("s3://b/a.parquet", 9), ("s3://b/b.parquet", 0)];
        let rows = [&rows[..], &[("s3://b/b.parquet", 7), ("s3://b/c.parquet", 2), ("s3://b/c.parquet", 3)]].concat();
        let dir = std::env::temp_dir().join(format!("floe-deletes-{}", uuid::Uuid::now_v7()));
        let file_io = fixed_file_io(Store::new(StorageProps::default()));
        for (dictionary, large) in [(true, false), (false, false), (true, true)] {
            let path = format!("file://{}/deletes-{dictionary}-{large}.parquet", dir.display());
            block_on(async {
                file_io.new_output(&path).unwrap().write(delete_file(&rows, dictionary, large).into()).await.unwrap();
                let read = read_positional(&file_io, &path).await.unwrap();
                let expected = PositionsByDataFile::from([
                    ("s3://b/a.parquet".to_string(), vec![1, 4, 9]),
                    ("s3://b/b.parquet".to_string(), vec![0, 7]),
                    ("s3://b/c.parquet".to_string(), vec![2, 3]),
                ]);
                assert_eq!(read, expected, "dictionary-encoded paths: {dictionary}, large strings: {large}");
                let cache = PositionDeletes::default();
                let positions = cache.positions(&file_io, "s3://b/b.parquet", &[path.clone(), path.clone()]).await;
                assert_eq!(positions.unwrap(), vec![0, 7]);
            });
        }
        std::fs::remove_dir_all(dir).unwrap();
    }
}
