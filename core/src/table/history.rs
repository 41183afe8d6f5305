//! The snapshots a read's load leaves out. Reads load only the snapshots a branch or tag points
//! to (`RestCatalog::load_table_current`); time travel, `iceberg_snapshots()` and the checks that
//! look at every snapshot ask for the rest here, once per loaded table.

use std::sync::{Arc, Weak};

use iceberg::spec::{FormatVersion, TableMetadata, TableMetadataRef};
use serde_json::Value;
use tokio::sync::OnceCell;

use super::LoadedTable;
use crate::error::{Error, ErrorKind, Result};
use crate::rest::RestCatalog;

/// Where a table's left-out snapshots come from, and them once loaded.
pub(crate) struct LeftOut {
    catalog: Weak<RestCatalog>,
    complete: OnceCell<TableMetadataRef>,
}

/// Whether `metadata` lacks snapshots its own history names: the parent of a snapshot it has, or
/// a snapshot-log entry's. A table whose older snapshots were expired can look the same; loading
/// its history then finds nothing more, once.
pub(crate) fn leaves_out_history(metadata: &TableMetadata) -> bool {
    let missing = |id: i64| metadata.snapshot_by_id(id).is_none();
    metadata.snapshots().any(|s| s.parent_snapshot_id().is_some_and(missing))
        || metadata.history().iter().any(|entry| missing(entry.snapshot_id))
}

impl LeftOut {
    pub(crate) fn new(catalog: &Arc<RestCatalog>) -> Arc<Self> {
        Arc::new(LeftOut { catalog: Arc::downgrade(catalog), complete: OnceCell::new() })
    }

    /// Another of the same catalog, for a table whose metadata differs (an edit in a transaction).
    pub(crate) fn renewed(&self) -> Arc<Self> {
        Arc::new(LeftOut { catalog: self.catalog.clone(), complete: OnceCell::new() })
    }

    /// `table`'s metadata with every snapshot and snapshot-log entry it had when it was loaded.
    pub(crate) async fn complete(&self, table: &LoadedTable) -> Result<TableMetadataRef> {
        let complete = self.complete.get_or_try_init(|| async {
            let failed =
                |e: Error| e.context(format!("Cannot load the snapshot history of table '{}'", table.qualified_name()));
            let catalog = self.catalog.upgrade().ok_or_else(|| {
                failed(Error::new(ErrorKind::Unavailable, "its catalog was detached"))
                    .with_fix("ATTACH the catalog again and rerun the statement")
            })?;
            let full = catalog.load_table(&table.namespace, &table.name).await.map_err(failed)?;
            let same_version = full.metadata_location.is_some()
                && full.metadata_location == table.metadata_location
                && full.metadata.last_updated_ms() == table.metadata.last_updated_ms();
            if same_version {
                return Ok(Arc::new(full.metadata));
            }
            with_history_of(&table.metadata, &full.metadata).map_err(failed)
        });
        complete.await.cloned()
    }
}

/// `table` with the snapshots and snapshot log of `later` (a later version of the same table or an
/// edit of `table`'s own version) as far as they reach back before `table`: its history as it was.
/// Done on the JSON form: the `iceberg` crate builds metadata only through its builder, which
/// would record the snapshots as new changes.
fn with_history_of(table: &TableMetadata, later: &TableMetadata) -> Result<TableMetadataRef> {
    let json = |e: serde_json::Error| Error::internal(format!("table metadata as JSON: {e}"));
    let mut merged = serde_json::to_value(table).map_err(json)?;
    let later = serde_json::to_value(later).map_err(json)?;
    let number = |value: &Value, key: &str| value.get(key).and_then(Value::as_i64).unwrap_or(0);
    // v1 snapshots carry no sequence number: their time orders them.
    let before = |snapshot: &Value| match table.format_version() {
        FormatVersion::V1 => number(snapshot, "timestamp-ms") <= table.last_updated_ms(),
        _ => number(snapshot, "sequence-number") <= table.last_sequence_number(),
    };
    let array = |value: &Value, key: &str| value.get(key).and_then(Value::as_array).cloned().unwrap_or_default();
    let mut snapshots = array(&merged, "snapshots");
    let known: std::collections::HashSet<i64> = snapshots.iter().map(|s| number(s, "snapshot-id")).collect();
    snapshots.extend(
        array(&later, "snapshots").into_iter().filter(|s| before(s) && !known.contains(&number(s, "snapshot-id"))),
    );
    let log: Vec<Value> = array(&later, "snapshot-log")
        .into_iter()
        .filter(|entry| number(entry, "timestamp-ms") <= table.last_updated_ms())
        .collect();
    merged["snapshots"] = Value::Array(snapshots);
    if !log.is_empty() {
        merged["snapshot-log"] = Value::Array(log);
    }
    Ok(Arc::new(serde_json::from_value(merged).map_err(json)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Table metadata (v2) with `snapshots` (id, parent, sequence number, time) and a log of all
    /// of them; `last` is its last update.
    fn metadata(snapshots: &[(i64, Option<i64>, i64, i64)], last: i64) -> TableMetadata {
        let current = snapshots.last().map(|s| s.0);
        let json = serde_json::json!({
            "format-version": 2,
            "table-uuid": "9c12d441-03fe-4693-9a96-a0705ddf69c1",
            "location": "s3://bucket/t",
            "last-sequence-number": snapshots.last().map_or(0, |s| s.2),
            "last-updated-ms": last,
            "last-column-id": 1,
            "current-schema-id": 0,
            "schemas": [{"type": "struct", "schema-id": 0, "fields": [{"id": 1, "name": "a", "required": false, "type": "long"}]}],
            "default-spec-id": 0,
            "partition-specs": [{"spec-id": 0, "fields": []}],
            "last-partition-id": 999,
            "default-sort-order-id": 0,
            "sort-orders": [{"order-id": 0, "fields": []}],
            "properties": {},
            "current-snapshot-id": current,
            "refs": current.map(|id| serde_json::json!({"main": {"snapshot-id": id, "type": "branch"}})).unwrap_or_default(),
            "snapshots": snapshots.iter().map(|&(id, parent, sequence, time)| serde_json::json!({
                "snapshot-id": id, "parent-snapshot-id": parent, "sequence-number": sequence, "timestamp-ms": time,
                "manifest-list": format!("s3://bucket/t/metadata/snap-{id}.avro"), "summary": {"operation": "append"},
                "schema-id": 0,
            })).collect::<Vec<_>>(),
            "snapshot-log": snapshots.iter().map(|&(id, _, _, time)| serde_json::json!({"snapshot-id": id, "timestamp-ms": time})).collect::<Vec<_>>(),
            "metadata-log": [],
        });
        serde_json::from_value(json).unwrap()
    }

    fn ids(metadata: &TableMetadata) -> Vec<i64> {
        let mut ids: Vec<i64> = metadata.snapshots().map(|s| s.snapshot_id()).collect();
        ids.sort();
        ids
    }

    #[test]
    fn a_load_of_the_refs_alone_is_told_from_a_whole_history() {
        let whole = metadata(&[(1, None, 1, 100), (2, Some(1), 2, 200), (3, Some(2), 3, 300)], 300);
        assert!(!leaves_out_history(&whole));
        let refs = metadata(&[(3, Some(2), 3, 300)], 300);
        assert!(leaves_out_history(&refs));
        assert!(!leaves_out_history(&metadata(&[(1, None, 1, 100)], 100)));
    }

    #[test]
    fn the_history_of_a_later_version_is_cut_at_the_loaded_one() {
        let loaded = metadata(&[(2, Some(1), 2, 200)], 200);
        let later = metadata(&[(1, None, 1, 100), (2, Some(1), 2, 200), (3, Some(2), 3, 300)], 300);
        let merged = with_history_of(&loaded, &later).unwrap();
        assert_eq!(ids(&merged), vec![1, 2]);
        assert_eq!(merged.current_snapshot_id(), Some(2));
        let log: Vec<i64> = merged.history().iter().map(|e| e.snapshot_id).collect();
        assert_eq!(log, vec![1, 2]);
        assert!(!leaves_out_history(&merged));
    }
}
