//! Manifest lists another writer got wrong in a way `iceberg` refuses to read, repaired as they
//! are read, where the repair cannot change what the table holds.
//!
//! DuckDB's iceberg extension 1.5 writes a v3 manifest list's `first_row_id` for a delete
//! manifest carried over from an earlier snapshot without setting it: the field holds whatever
//! was in memory, sometimes a negative number (fixed on its main branch, duckdb-iceberg commit
//! 707d720). `iceberg` reads the field as unsigned and then refuses the whole list, so the table
//! could not be read at all. A delete manifest has no row ids (the spec assigns `first_row_id`
//! to data manifests only), so the value is dropped: the list reads as the writer meant it.
//! Java and PyIceberg read the same list without complaint.

use apache_avro::types::Value;
use apache_avro::Reader;
use bytes::Bytes;

/// The field `iceberg` types as unsigned, and the one a writer left unset.
const FIRST_ROW_ID: &str = "first_row_id";
/// `content` of a delete manifest (the spec's manifest list, field 517).
const DELETES: i32 = 1;

/// The bytes read from `url`, repaired when it is a manifest list with a negative `first_row_id`
/// on a delete manifest. Anything else, including Avro that does not parse, is left to `iceberg`.
/// Called once per fetch: the metadata cache keeps what it returns.
pub(crate) fn repaired(url: &str, bytes: Bytes) -> Bytes {
    if !url.ends_with(".avro") {
        return bytes;
    }
    // Only v3 manifest lists (records named manifest_file) have the field: the schema in the
    // header names both. Manifests and older lists are not decoded here.
    let header = &bytes[..bytes.len().min(8192)];
    let names = |word: &str| header.windows(word.len()).any(|w| w == word.as_bytes());
    if !(names(FIRST_ROW_ID) && names("manifest_file")) {
        return bytes;
    }
    rewritten(&bytes).map(Bytes::from).unwrap_or(bytes)
}

fn rewritten(bytes: &[u8]) -> Option<Vec<u8>> {
    let reader = Reader::new(bytes).ok()?;
    let schema = reader.writer_schema().clone();
    let metadata = reader.user_metadata().clone();
    let mut records = Vec::new();
    let mut repaired = false;
    for record in reader {
        let Value::Record(mut fields) = record.ok()? else { return None };
        let deletes = fields.iter().any(|(name, value)| name == "content" && *value == Value::Int(DELETES));
        for (_, value) in fields.iter_mut().filter(|(name, _)| deletes && name == FIRST_ROW_ID) {
            // ["null", "long"]: the other branch of the two is null.
            if let Value::Union(branch, long) = value {
                if matches!(**long, Value::Long(id) if id < 0) {
                    *value = Value::Union(1 - *branch, Box::new(Value::Null));
                    repaired = true;
                }
            }
        }
        records.push(Value::Record(fields));
    }
    if !repaired {
        return None;
    }
    let mut writer = apache_avro::Writer::new(&schema, Vec::new());
    for (key, value) in metadata {
        writer.add_user_metadata(key, value).ok()?;
    }
    for record in records {
        writer.append(record).ok()?;
    }
    writer.into_inner().ok()
}

#[cfg(test)]
mod tests {
    use iceberg::spec::{FormatVersion, ManifestContentType, ManifestFile, ManifestList, ManifestListWriter};

    use super::*;
    use crate::runtime::block_on;
    use crate::storage::{fixed_file_io, StorageProps, Store};

    fn manifest(path: &str, content: ManifestContentType, first_row_id: Option<u64>) -> ManifestFile {
        ManifestFile {
            manifest_path: path.to_string(),
            manifest_length: 100,
            partition_spec_id: 0,
            content,
            sequence_number: 1,
            min_sequence_number: 1,
            added_snapshot_id: 7,
            added_files_count: Some(1),
            existing_files_count: Some(0),
            deleted_files_count: Some(0),
            added_rows_count: Some(10),
            existing_rows_count: Some(0),
            deleted_rows_count: Some(0),
            partitions: None,
            key_metadata: None,
            first_row_id,
        }
    }

    /// A v3 list of a data manifest and a delete manifest, as `iceberg` writes it.
    fn written_list() -> Vec<u8> {
        let dir = std::env::temp_dir().join(format!("floe-list-{}", uuid::Uuid::now_v7()));
        let path = format!("file://{}/snap-7.avro", dir.display());
        let file_io = fixed_file_io(Store::new(StorageProps::default()));
        let bytes = block_on(async {
            let output = file_io.new_output(&path).unwrap();
            let mut writer = ManifestListWriter::v3(output.writer().await.unwrap(), 7, None, 1, Some(0));
            let manifests = [
                manifest("s3://b/m-data.avro", ManifestContentType::Data, Some(0)),
                manifest("s3://b/m-deletes.avro", ManifestContentType::Deletes, None),
            ];
            writer.add_manifests(manifests.into_iter()).unwrap();
            writer.close().await.unwrap();
            file_io.new_input(&path).unwrap().read().await.unwrap()
        });
        std::fs::remove_dir_all(dir).unwrap();
        bytes.to_vec()
    }

    /// `list` with the delete manifest's first_row_id set to what DuckDB's extension 1.5 left there.
    fn with_garbage_row_id(list: &[u8]) -> Vec<u8> {
        let reader = Reader::new(list).unwrap();
        let schema = reader.writer_schema().clone();
        let metadata = reader.user_metadata().clone();
        let mut writer = apache_avro::Writer::new(&schema, Vec::new());
        for (key, value) in metadata {
            writer.add_user_metadata(key, value).unwrap();
        }
        for record in reader {
            let Value::Record(mut fields) = record.unwrap() else { panic!("a record") };
            let deletes = fields.iter().any(|(name, value)| name == "content" && *value == Value::Int(DELETES));
            for (_, value) in fields.iter_mut().filter(|(name, _)| deletes && name == FIRST_ROW_ID) {
                let Value::Union(null, _) = value else { panic!("first_row_id is a union") };
                *value = Value::Union(1 - *null, Box::new(Value::Long(-5999363573686204926)));
            }
            writer.append(Value::Record(fields)).unwrap();
        }
        writer.into_inner().unwrap()
    }

    #[test]
    fn a_delete_manifests_garbage_row_id_is_dropped_and_nothing_else_changes() {
        let list = written_list();
        let garbage = with_garbage_row_id(&list);
        let refused = ManifestList::parse_with_version(&garbage, FormatVersion::V3).unwrap_err();
        assert!(refused.to_string().contains("expected u64"), "{refused}");

        let read =
            ManifestList::parse_with_version(&repaired("s3://b/snap-7.avro", Bytes::from(garbage)), FormatVersion::V3)
                .unwrap();
        let row_ids: Vec<_> = read.entries().iter().map(|m| (m.manifest_path.as_str(), m.first_row_id)).collect();
        assert_eq!(row_ids, [("s3://b/m-data.avro", Some(0)), ("s3://b/m-deletes.avro", None)]);
        assert_eq!(read, ManifestList::parse_with_version(&list, FormatVersion::V3).unwrap());

        // A list that reads as it is, and anything that is not a v3 list, is not rewritten.
        assert_eq!(repaired("s3://b/snap-7.avro", Bytes::from(list.clone())), list);
        assert_eq!(
            repaired("s3://b/snap-7.avro", Bytes::from_static(b"Obj\x01 manifest_file first_row_id")),
            &b"Obj\x01 manifest_file first_row_id"[..]
        );
    }
}
