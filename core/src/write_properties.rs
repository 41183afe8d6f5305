//! The table properties that steer how data files are written, parsed and checked here so the
//! DuckDB glue receives values, never property strings.
//!
//! ```
//! use std::collections::HashMap;
//! use floe_core::write_properties::WriteProperties;
//! let properties = HashMap::from([
//!     ("write.target-file-size-bytes".to_string(), "134217728".to_string()),
//!     ("write.parquet.compression-codec".to_string(), "SNAPPY".to_string()),
//! ]);
//! let write = WriteProperties::parse(&properties, "gold.events").unwrap();
//! assert_eq!(write.target_file_size_bytes, 134217728);
//! assert_eq!(write.compression_codec, "snappy");
//! assert_eq!(write.row_group_size_bytes, None);
//! ```

use std::collections::HashMap;

use serde::Serialize;

use crate::error::{Error, Result};

pub const TARGET_FILE_SIZE_BYTES: &str = "write.target-file-size-bytes";
pub const COMPRESSION_CODEC: &str = "write.parquet.compression-codec";
pub const ROW_GROUP_SIZE_BYTES: &str = "write.parquet.row-group-size-bytes";

/// Iceberg's default for `write.target-file-size-bytes`: 512 MiB.
pub const DEFAULT_TARGET_FILE_SIZE_BYTES: u64 = 512 * 1024 * 1024;
/// floe's default codec, as Iceberg's own writers default to since format v2.
pub const DEFAULT_COMPRESSION_CODEC: &str = "zstd";

/// Parquet codecs Iceberg names (`write.parquet.compression-codec`) that DuckDB's writer has,
/// under the name DuckDB uses.
const CODECS: [&str; 7] = ["uncompressed", "snappy", "gzip", "zstd", "brotli", "lz4", "lz4_raw"];

/// How a statement writes the data files of one table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WriteProperties {
    /// Files are rolled over at this size.
    pub target_file_size_bytes: u64,
    /// A codec name DuckDB's Parquet writer accepts.
    pub compression_codec: String,
    /// The row group size in bytes, if the table sets one (DuckDB's writer otherwise uses rows).
    pub row_group_size_bytes: Option<u64>,
}

impl WriteProperties {
    /// The write properties of table `table` (its name, for messages) from its `properties`.
    pub fn parse(properties: &HashMap<String, String>, table: &str) -> Result<WriteProperties> {
        let bytes = |key: &str| properties.get(key).map(|value| byte_count(table, key, value)).transpose();
        Ok(WriteProperties {
            target_file_size_bytes: bytes(TARGET_FILE_SIZE_BYTES)?.unwrap_or(DEFAULT_TARGET_FILE_SIZE_BYTES),
            compression_codec: match properties.get(COMPRESSION_CODEC) {
                Some(value) => codec(table, value)?,
                None => DEFAULT_COMPRESSION_CODEC.to_string(),
            },
            row_group_size_bytes: bytes(ROW_GROUP_SIZE_BYTES)?,
        })
    }
}

/// A size property: a positive whole number of bytes, as Iceberg reads it (no units).
fn byte_count(table: &str, key: &str, value: &str) -> Result<u64> {
    match value.parse::<u64>() {
        Ok(count) if count > 0 => Ok(count),
        _ => Err(Error::invalid_input(format!(
            "Table '{table}' property {key} = '{value}' is not a positive whole number of bytes"
        ))
        .with_fix(format!("set '{key}' to a number of bytes without a unit, e.g. '134217728' for 128 MiB"))),
    }
}

fn codec(table: &str, value: &str) -> Result<String> {
    let name = value.to_ascii_lowercase();
    if CODECS.contains(&name.as_str()) {
        return Ok(name);
    }
    Err(Error::invalid_input(format!(
        "Table '{table}' property {COMPRESSION_CODEC} = '{value}' is not a Parquet codec floe can write"
    ))
    .with_fix(format!("set '{COMPRESSION_CODEC}' to one of {}", CODECS.join(", "))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    fn parse(pairs: &[(&str, &str)]) -> Result<WriteProperties> {
        let properties = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        WriteProperties::parse(&properties, "gold.events")
    }

    #[test]
    fn defaults_apply_where_the_table_sets_nothing() {
        let write = parse(&[("owner", "data-team")]).unwrap();
        assert_eq!(
            write,
            WriteProperties {
                target_file_size_bytes: 512 * 1024 * 1024,
                compression_codec: "zstd".into(),
                row_group_size_bytes: None,
            }
        );
    }

    #[test]
    fn sizes_and_codecs_are_read() {
        let write = parse(&[
            (TARGET_FILE_SIZE_BYTES, "1048576"),
            (ROW_GROUP_SIZE_BYTES, "134217728"),
            (COMPRESSION_CODEC, "Gzip"),
        ])
        .unwrap();
        assert_eq!(write.target_file_size_bytes, 1048576);
        assert_eq!(write.row_group_size_bytes, Some(134217728));
        assert_eq!(write.compression_codec, "gzip");
    }

    #[test]
    fn a_size_with_a_unit_names_the_table_the_property_and_the_fix() {
        let err = parse(&[(ROW_GROUP_SIZE_BYTES, "128MB")]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert_eq!(
            err.to_string(),
            "Table 'gold.events' property write.parquet.row-group-size-bytes = '128MB' is not a positive whole \
             number of bytes. Fix: set 'write.parquet.row-group-size-bytes' to a number of bytes without a unit, \
             e.g. '134217728' for 128 MiB"
        );
    }

    #[test]
    fn zero_negative_and_empty_sizes_are_refused() {
        for value in ["0", "-1", "", " 1024"] {
            let err = parse(&[(TARGET_FILE_SIZE_BYTES, value)]).unwrap_err();
            assert!(err.to_string().contains(&format!("write.target-file-size-bytes = '{value}'")), "{err}");
        }
    }

    #[test]
    fn an_unknown_codec_lists_the_valid_ones() {
        let err = parse(&[(COMPRESSION_CODEC, "lzo")]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.to_string().ends_with("Fix: set 'write.parquet.compression-codec' to one of uncompressed, snappy, gzip, zstd, brotli, lz4, lz4_raw"), "{err}");
    }
}
