//! Table handles: describe a table at a snapshot, list its snapshots and manifest entries, and
//! resolve how its data files are written.

use std::ffi::c_char;
use std::sync::Arc;

use floe_core::commit::partitioning::ResolvedPartitionField;
use floe_core::commit::sort_order::ResolvedSortField;
use floe_core::inspect;
use floe_core::runtime::block_on;
use floe_core::scan::restricted::{query_salt, restricted_read};
use floe_core::storage::DuckdbSecret;
use floe_core::table::{LoadedTable, SnapshotSelector};
use floe_core::types::columns;
use floe_core::write_properties::WriteProperties;
use floe_core::Result;
use serde::Deserialize;
use serde_json::json;

use super::{guard, json_arg, write_json, FloeError, FloeString};

/// A table as loaded (or staged by a transaction) at one metadata version; immutable, so any
/// thread may use it.
pub struct FloeTable {
    pub(crate) table: Arc<LoadedTable>,
}

impl FloeTable {
    pub(crate) fn into_raw(table: Arc<LoadedTable>) -> *mut FloeTable {
        Box::into_raw(Box::new(FloeTable { table }))
    }
}

/// The glue's rendering of a snapshot choice (no AT clause, `AT (VERSION => ..)`,
/// `AT (TIMESTAMP => ..)`).
#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Selector {
    Current,
    Id(i64),
    AsOfMs(i64),
}

impl From<Selector> for SnapshotSelector {
    fn from(selector: Selector) -> Self {
        match selector {
            Selector::Current => SnapshotSelector::Current,
            Selector::Id(id) => SnapshotSelector::Id(id),
            Selector::AsOfMs(ms) => SnapshotSelector::AsOfMillis(ms),
        }
    }
}

#[derive(Deserialize)]
struct ManifestRequest {
    selector: Selector,
    #[serde(default)]
    storage_secret: Option<DuckdbSecret>,
}

/// # Safety
/// `table` must be NULL or a handle from this library, freed once.
#[no_mangle]
pub unsafe extern "C" fn floe_table_free(table: *mut FloeTable) {
    if !table.is_null() {
        drop(Box::from_raw(table));
    }
}

fn describe(table: &LoadedTable, selector: SnapshotSelector) -> Result<serde_json::Value> {
    let snapshot = table.snapshot(selector)?;
    let schema = table.schema_for(snapshot.as_ref(), selector)?;
    // The salt is drawn only for a table the catalog restricts.
    let restricted = match &table.restrictions {
        Some(restrictions) => restricted_read(Some(restrictions), &schema, &query_salt())
            .map_err(|e| e.context(format!("Cannot read table '{}'", table.qualified_name())))?,
        None => None,
    };
    let total_records = snapshot
        .as_ref()
        .and_then(|s| s.summary().additional_properties.get("total-records"))
        .and_then(|v| v.parse::<u64>().ok());
    Ok(json!({
        "snapshot_id": snapshot.as_ref().map(|s| s.snapshot_id()),
        "location": table.metadata.location(),
        "total_records": total_records,
        "columns": columns(&schema)?,
        "partition_spec": table.metadata.default_partition_spec().fields().iter()
            .map(ResolvedPartitionField::from).collect::<Vec<_>>(),
        "sort_order": table.metadata.default_sort_order().fields.iter()
            .map(ResolvedSortField::from).collect::<Vec<_>>(),
        "restricted": restricted,
    }))
}

/// The table as seen at a snapshot. selector: "current" | {"id":N} | {"as_of_ms":N}.
/// {"snapshot_id":N|null,"location":..,"total_records":N|null,"columns":[column tree, see floe_core::types::Column],
///  "partition_spec":[see floe_core::commit::partitioning::ResolvedPartitionField],
///  "sort_order":[the default sort order's fields, see floe_core::commit::sort_order::ResolvedSortField],
///  "restricted":{"select":..,"filter":..}|null: the catalog's read restrictions as SQL over the raw
///  table aliased `restricted_source` (floe_core::scan::restricted)}
///
/// # Safety
/// Handles, strings and out pointers must be valid.
#[no_mangle]
pub unsafe extern "C" fn floe_table_describe(
    table: *const FloeTable,
    selector_json: *const c_char,
    out: *mut FloeString,
) -> *mut FloeError {
    guard(|| {
        let selector: SnapshotSelector = json_arg::<Selector>(selector_json, "snapshot selector")?.into();
        let table = block_on((*table).table.for_reading_at(selector))?;
        write_json(out, &describe(&table, selector)?)
    })
}

/// [{"snapshot_id","parent_id","sequence_number","timestamp_ms","manifest_list","summary":{..}}]
///
/// # Safety
/// Handles and out pointers must be valid.
#[no_mangle]
pub unsafe extern "C" fn floe_table_snapshots(table: *const FloeTable, out: *mut FloeString) -> *mut FloeError {
    guard(|| {
        let table = block_on((*table).table.with_history())?;
        write_json(out, &inspect::snapshots(&table))
    })
}

/// Manifest entries of a snapshot. request: {"selector":{..},"storage_secret":{..}|null}.
/// [{"manifest_path","manifest_sequence_number","manifest_content","status","content","file_path",
///  "file_format","record_count"}]
///
/// # Safety
/// Handles, strings and out pointers must be valid.
#[no_mangle]
pub unsafe extern "C" fn floe_table_manifest_entries(
    table: *const FloeTable,
    request_json: *const c_char,
    out: *mut FloeString,
) -> *mut FloeError {
    guard(|| {
        let request: ManifestRequest = json_arg(request_json, "manifest request")?;
        let selector = request.selector.into();
        (*table).table.refuse_if_restricted("list the files of")?;
        let table = block_on((*table).table.for_reading_at(selector))?;
        let rows = match table.snapshot(selector)? {
            Some(snapshot) => block_on(inspect::manifest_entries(&table, &snapshot, request.storage_secret.as_ref()))?,
            None => Vec::new(),
        };
        write_json(out, &rows)
    })
}

/// How data files of the table are written, from its `write.*` properties (defaults where it
/// sets none): see floe_core::write_properties::WriteProperties. A malformed property is the
/// user's error, naming the property and the fix.
///
/// # Safety
/// Handles and out pointers must be valid.
#[no_mangle]
pub unsafe extern "C" fn floe_table_write_properties(table: *const FloeTable, out: *mut FloeString) -> *mut FloeError {
    guard(|| {
        let table = &(*table).table;
        write_json(out, &WriteProperties::parse(table.metadata.properties(), &table.qualified_name())?)
    })
}
