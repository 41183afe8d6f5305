//! Deleted rows as positions: positional delete files name them directly, deletion vectors hold
//! them as a bitmap (`super::deletion_vector`); equality delete files name key tuples, which are
//! matched against the data file's key columns here, so DuckDB's reader only ever applies one
//! kind of delete (a position filter), whatever it projects.
//! Which delete file applies to which data file (sequence numbers, partitions) is decided by
//! `iceberg`'s planner.
//!
//! Delete files are small next to data files and are read whole with the `parquet` crate; one
//! positional delete file usually covers many data files, so each is read once per scan.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::RecordBatch;
use arrow_schema::Schema as ArrowSchema;
use futures::TryStreamExt;
use iceberg::arrow::ArrowFileReader;
use iceberg::io::FileIO;
use iceberg::spec::{PrimitiveType, Schema, Type};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::{ParquetRecordBatchStreamBuilder, ProjectionMask, PARQUET_FIELD_ID_META_KEY};

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

/// Delete files read so far in one scan, shared by all the threads scanning it.
#[derive(Default)]
pub struct DeleteCache {
    positional: Mutex<HashMap<String, Arc<PositionsByDataFile>>>,
    equality: Mutex<HashMap<String, Arc<EqualityDeletes>>>,
    puffin: Mutex<HashMap<String, Arc<PuffinDeletionVectors>>>,
}

impl DeleteCache {
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
    /// `puffin_files`, sorted and without duplicates. Each file's footer is read once per scan;
    /// a data file's vector is read by that data file alone.
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

/// The entry for `path` in `cache`, loaded by `load` when missing. Two threads missing the same
/// file both load it (the lock is not held across the read); the second insert is the same.
async fn cached<T, F, Fut>(cache: &Mutex<HashMap<String, Arc<T>>>, path: &str, load: F) -> Result<Arc<T>>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    if let Some(found) = crate::sync::lock(cache).get(path) {
        return Ok(found.clone());
    }
    let loaded = Arc::new(load().await?);
    crate::sync::lock(cache).insert(path.to_string(), loaded.clone());
    Ok(loaded)
}

async fn read_batches(file_io: &FileIO, path: &str) -> Result<Vec<RecordBatch>> {
    let bytes = file_io
        .new_input(path)?
        .read()
        .await
        .map_err(|e| Error::storage(format!("Cannot read delete file {path}: {e}")))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(bytes)
        .and_then(|builder| builder.build())
        .map_err(|e| Error::storage(format!("Delete file {path} is not readable Parquet: {e}")))?;
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

async fn read_positional(file_io: &FileIO, path: &str) -> Result<HashMap<String, Vec<i64>>> {
    let mut by_file: HashMap<String, Vec<i64>> = HashMap::new();
    for batch in read_batches(file_io, path).await? {
        let schema = batch.schema();
        let (Some(path_col), Some(pos_col)) = (
            column_index(&schema, DELETE_FILE_PATH_FIELD_ID, "file_path"),
            column_index(&schema, DELETE_POS_FIELD_ID, "pos"),
        ) else {
            return Err(Error::storage(format!("Positional delete file {path} lacks the file_path and pos columns")));
        };
        let paths = batch.column(path_col).as_string::<i32>();
        let positions = batch.column(pos_col).as_primitive::<Int64Type>();
        for row in 0..batch.num_rows() {
            by_file.entry(paths.value(row).to_string()).or_default().push(positions.value(row));
        }
    }
    Ok(by_file)
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
