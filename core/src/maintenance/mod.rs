//! Table maintenance procedures: expiring snapshots (`expire`) and removing files no snapshot
//! references (`orphans`), both deciding what to keep from the files every retained snapshot,
//! branch and tag reaches (`reachable`); compaction (`rewrite_data_files`), which commits with
//! the DuckDB transaction like a row-level change; and `checkpoint`, which runs them all on a
//! table.
//!
//! Each procedure commits on its own to the catalog and deletes files only after its commit
//! succeeded, computing what to keep from metadata loaded again after that commit. A table with
//! `gc.enabled=false` is refused: its files may be shared with another table.

pub mod checkpoint;
pub mod expire;
pub mod orphans;
pub mod progress;
mod reachable;
pub mod rewrite_data_files;

use std::collections::HashMap;
use std::sync::Arc;

use iceberg::spec::{SnapshotReference, TableMetadata};

use crate::error::{Error, Result};
use crate::rest::{Namespace, RestCatalog};
use crate::table::LoadedTable;

/// The table property that forbids deleting a table's files.
const GC_ENABLED: &str = "gc.enabled";

/// The table as the catalog has it now.
async fn load_fresh(catalog: &Arc<RestCatalog>, namespace: &Namespace, name: &str) -> Result<LoadedTable> {
    let result = catalog.load_table(namespace, name).await?;
    let table = LoadedTable::from_catalog(catalog, namespace.clone(), name.to_string(), result);
    table.refuse_if_restricted("maintain")?;
    Ok(table)
}

/// Whether the table's files may be deleted: `gc.enabled` is not false.
fn gc_enabled(table: &LoadedTable) -> bool {
    !table.metadata.properties().get(GC_ENABLED).is_some_and(|v| v.trim().eq_ignore_ascii_case("false"))
}

/// Refuses `procedure` on a table whose `gc.enabled` is false.
fn require_gc_enabled(table: &LoadedTable, procedure: &str) -> Result<()> {
    if !gc_enabled(table) {
        return Err(Error::invalid_input(format!(
            "{procedure} refuses table '{}': its property {GC_ENABLED} is false, so its files may be shared with another table and must not be deleted",
            table.qualified_name()
        ))
        .with_fix(format!(
            "if no other table uses its files, ALTER TABLE {} SET ('{GC_ENABLED}' = 'true') and call it again",
            table.qualified_name()
        )));
    }
    Ok(())
}

/// The table's branches and tags by name. iceberg-rust keeps them private to its crate, so they
/// are read from the metadata's serialized form, which always carries them.
fn refs(metadata: &TableMetadata) -> Result<HashMap<String, SnapshotReference>> {
    let mut json = serde_json::to_value(metadata)
        .map_err(|e| Error::internal(format!("Cannot serialize table metadata to read its refs: {e}")))?;
    match json.get_mut("refs").map(serde_json::Value::take) {
        None | Some(serde_json::Value::Null) => Ok(HashMap::new()),
        Some(refs) => serde_json::from_value(refs)
            .map_err(|e| Error::internal(format!("Cannot read the refs of table metadata: {e}"))),
    }
}

/// Milliseconds since the epoch, now.
fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
