//! What `iceberg_snapshots()` and `iceberg_metadata()` show: a table's snapshot history and the
//! manifest entries of one snapshot.

use std::collections::BTreeMap;

use futures::future::try_join_all;
use iceberg::spec::SnapshotRef;
use serde::Serialize;

use crate::error::Result;
use crate::storage::DuckdbSecret;
use crate::table::LoadedTable;

#[derive(Debug, Serialize)]
pub struct SnapshotRow {
    pub snapshot_id: i64,
    pub parent_id: Option<i64>,
    pub sequence_number: i64,
    pub timestamp_ms: i64,
    pub manifest_list: String,
    pub operation: String,
    pub summary: BTreeMap<String, String>,
}

pub fn snapshots(table: &LoadedTable) -> Vec<SnapshotRow> {
    let mut rows: Vec<_> = table
        .metadata
        .snapshots()
        .map(|s| SnapshotRow {
            snapshot_id: s.snapshot_id(),
            parent_id: s.parent_snapshot_id(),
            sequence_number: s.sequence_number(),
            timestamp_ms: s.timestamp_ms(),
            manifest_list: s.manifest_list().to_string(),
            operation: s.summary().operation.as_str().to_string(),
            summary: s.summary().additional_properties.clone().into_iter().collect(),
        })
        .collect();
    rows.sort_by_key(|r| (r.sequence_number, r.timestamp_ms));
    rows
}

#[derive(Debug, Serialize)]
pub struct ManifestEntryRow {
    pub manifest_path: String,
    pub manifest_sequence_number: i64,
    pub manifest_content: String,
    pub status: String,
    pub content: String,
    pub file_path: String,
    pub file_format: String,
    pub record_count: u64,
}

/// Every entry of every manifest of `snapshot`, manifests read concurrently.
pub async fn manifest_entries(
    table: &LoadedTable,
    snapshot: &SnapshotRef,
    user_secret: Option<&DuckdbSecret>,
) -> Result<Vec<ManifestEntryRow>> {
    let file_io = table.file_io(user_secret);
    let iceberg_table = table.iceberg_table(file_io.clone())?;
    let list = iceberg_table.manifest_list_reader(snapshot).load().await?;
    let file_io = &file_io;
    let manifests = try_join_all(list.entries().iter().map(|file| async move {
        let manifest = file.load_manifest(file_io).await?;
        Ok::<_, iceberg::Error>((file, manifest))
    }))
    .await?;
    let mut rows = Vec::new();
    for (file, manifest) in manifests {
        for entry in manifest.entries() {
            rows.push(ManifestEntryRow {
                manifest_path: file.manifest_path.clone(),
                manifest_sequence_number: file.sequence_number,
                manifest_content: format!("{:?}", file.content).to_uppercase(),
                status: format!("{:?}", entry.status()).to_uppercase(),
                content: format!("{:?}", entry.content_type()).to_uppercase(),
                file_path: entry.file_path().to_string(),
                file_format: format!("{:?}", entry.file_format()).to_uppercase(),
                record_count: entry.record_count(),
            });
        }
    }
    Ok(rows)
}
