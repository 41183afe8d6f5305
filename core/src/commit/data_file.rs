//! A Parquet file DuckDB's writer produced, with the statistics it gathered, as an Iceberg
//! `DataFile` for a manifest.
//!
//! Column bounds follow Iceberg's default metrics mode, `truncate(16)`: string and binary
//! bounds keep 16 characters (bytes); a truncated upper bound is rounded up so it still bounds.

use std::collections::HashMap;

use iceberg::spec::{
    DataContentType, DataFile, DataFileBuilder, DataFileFormat, Datum, Literal, PartitionSpec, PrimitiveLiteral,
    PrimitiveType, Schema, Struct, TableMetadata, Type,
};
use serde::Deserialize;

use crate::commit::sort_order::written_sort_order_id;
use crate::error::{Error, Result};
use crate::scan::value::Value;

const TRUNCATE_LENGTH: usize = 16;

/// One file as the glue reports it from DuckDB's WRITTEN_FILE_STATISTICS.
#[derive(Debug, Clone, Deserialize)]
pub struct WrittenFile {
    pub path: String,
    pub record_count: u64,
    pub file_size: u64,
    #[serde(default)]
    pub columns: Vec<ColumnStats>,
    /// Partition values in the order of the partition spec's fields.
    #[serde(default)]
    pub partition: Vec<Option<Value>>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ColumnStats {
    pub field_id: i32,
    #[serde(default)]
    pub value_count: Option<u64>,
    #[serde(default)]
    pub null_count: Option<u64>,
    #[serde(default)]
    pub column_size: Option<u64>,
    #[serde(default)]
    pub min: Option<Value>,
    #[serde(default)]
    pub max: Option<Value>,
    #[serde(default)]
    pub has_nan: Option<bool>,
}

/// `file` as a manifest's data file of `metadata` (the table as it is committed: its current
/// schema and default spec), recording the sort order of `written_for` (the table the file was
/// written for, whose default order each file is sorted by).
pub fn data_file(file: &WrittenFile, metadata: &TableMetadata, written_for: &TableMetadata) -> Result<DataFile> {
    let schema = metadata.current_schema();
    let spec = metadata.default_partition_spec();
    let mut value_counts = HashMap::new();
    let mut null_counts = HashMap::new();
    let mut column_sizes = HashMap::new();
    let mut nan_counts = HashMap::new();
    let mut lower = HashMap::new();
    let mut upper = HashMap::new();
    for column in &file.columns {
        let Some(Type::Primitive(ty)) = schema.field_by_id(column.field_id).map(|f| f.field_type.as_ref()) else {
            continue;
        };
        if let Some(n) = column.value_count {
            value_counts.insert(column.field_id, n);
        }
        if let Some(n) = column.null_count {
            null_counts.insert(column.field_id, n);
        }
        if let Some(n) = column.column_size {
            column_sizes.insert(column.field_id, n);
        }
        // Parquet min/max ignore NaN; a file with NaN keeps its bounds but says so.
        if column.has_nan == Some(false) {
            nan_counts.insert(column.field_id, 0);
        }
        if let Some(datum) = column.min.as_ref().and_then(|v| v.to_datum(ty)).and_then(|d| truncate_lower(d, ty)) {
            lower.insert(column.field_id, datum);
        }
        if let Some(datum) = column.max.as_ref().and_then(|v| v.to_datum(ty)).and_then(|d| truncate_upper(d, ty)) {
            upper.insert(column.field_id, datum);
        }
    }
    let mut builder = DataFileBuilder::default();
    builder
        .content(DataContentType::Data)
        .file_path(file.path.clone())
        .file_format(DataFileFormat::Parquet)
        .partition(partition(file, schema, spec)?)
        .partition_spec_id(spec.spec_id())
        .record_count(file.record_count)
        .file_size_in_bytes(file.file_size)
        .value_counts(value_counts)
        .null_value_counts(null_counts)
        .column_sizes(column_sizes)
        .nan_value_counts(nan_counts)
        .lower_bounds(lower)
        .upper_bounds(upper);
    if let Some(id) = written_sort_order_id(metadata, written_for) {
        builder.sort_order_id(id);
    }
    builder.build().map_err(|e| Error::internal(format!("cannot describe data file {}: {e}", file.path)))
}

fn partition(file: &WrittenFile, schema: &Schema, spec: &PartitionSpec) -> Result<Struct> {
    if spec.fields().len() != file.partition.len() {
        return Err(Error::internal(format!(
            "data file {} has {} partition values for a spec of {} fields",
            file.path,
            file.partition.len(),
            spec.fields().len()
        )));
    }
    let partition_type = spec.partition_type(schema)?;
    let values = spec
        .fields()
        .iter()
        .zip(&file.partition)
        .zip(partition_type.fields())
        .map(|((field, value), result)| {
            let Type::Primitive(ty) = result.field_type.as_ref() else {
                return Err(Error::unsupported(format!("partition field '{}' is not of a primitive type", field.name)));
            };
            match value {
                None => Ok(None),
                Some(value) => {
                    value.to_datum(ty).map(|d| Some(Literal::Primitive(d.literal().clone()))).ok_or_else(|| {
                        Error::internal(format!("partition value {value:?} of field '{}' is not a {ty}", field.name))
                    })
                }
            }
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Struct::from_iter(values))
}

fn truncate_lower(datum: Datum, ty: &PrimitiveType) -> Option<Datum> {
    match (datum.literal(), ty) {
        (PrimitiveLiteral::String(s), PrimitiveType::String) if s.chars().count() > TRUNCATE_LENGTH => {
            Some(Datum::string(s.chars().take(TRUNCATE_LENGTH).collect::<String>()))
        }
        (PrimitiveLiteral::Binary(b), PrimitiveType::Binary) if b.len() > TRUNCATE_LENGTH => {
            Some(Datum::binary(b[..TRUNCATE_LENGTH].to_vec()))
        }
        _ => Some(datum),
    }
}

/// The truncated prefix with its last character incremented, so it is still >= every value;
/// `None` (no bound) when no character can be incremented.
fn truncate_upper(datum: Datum, ty: &PrimitiveType) -> Option<Datum> {
    match (datum.literal(), ty) {
        (PrimitiveLiteral::String(s), PrimitiveType::String) if s.chars().count() > TRUNCATE_LENGTH => {
            let mut chars: Vec<char> = s.chars().take(TRUNCATE_LENGTH).collect();
            while let Some(last) = chars.pop() {
                if let Some(next) = (last as u32 + 1..=char::MAX as u32).find_map(char::from_u32) {
                    chars.push(next);
                    return Some(Datum::string(chars.into_iter().collect::<String>()));
                }
            }
            None
        }
        (PrimitiveLiteral::Binary(b), PrimitiveType::Binary) if b.len() > TRUNCATE_LENGTH => {
            let mut bytes = b[..TRUNCATE_LENGTH].to_vec();
            while let Some(last) = bytes.pop() {
                if last < u8::MAX {
                    bytes.push(last + 1);
                    return Some(Datum::binary(bytes));
                }
            }
            None
        }
        _ => Some(datum),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_string_bounds_are_truncated_and_still_bound() {
        let long = "abcdefghijklmnopqrstuvwxyz";
        let lower = truncate_lower(Datum::string(long), &PrimitiveType::String).unwrap();
        let upper = truncate_upper(Datum::string(long), &PrimitiveType::String).unwrap();
        assert_eq!(lower, Datum::string("abcdefghijklmnop"));
        assert_eq!(upper, Datum::string("abcdefghijklmnoq"));
        assert!(upper > Datum::string(long) && lower <= Datum::string(long));
    }
}
