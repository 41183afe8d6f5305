//! Scan handles: a planned scan, its files and their deletes.

use std::ffi::c_char;

use floe_core::runtime::block_on;
use floe_core::scan::filter::Filter;
use floe_core::scan::ScanPlan;
use floe_core::storage::DuckdbSecret;
use floe_core::table::SnapshotSelector;
use floe_core::Error;
use serde::Deserialize;

use super::table::{FloeTable, Selector};
use super::transaction::{pending_deletes, pending_files, replaces_rows, FloeTxn};
use super::{guard, json_arg, write_json, FloeError, FloeString};

/// A planned scan: the data files to read and their deletes.
pub struct FloeScan {
    plan: ScanPlan,
}

#[derive(Deserialize)]
struct ScanRequest {
    selector: Selector,
    #[serde(default)]
    filter: Option<Filter>,
    #[serde(default)]
    storage_secret: Option<DuckdbSecret>,
}

/// Plans a scan. request: {"selector":{..},"filter":{..}|null,"storage_secret":{..}|null}. With a
/// transaction (may be NULL), files it wrote into the table and has not committed are included.
///
/// # Safety
/// Handles, strings and out pointers must be valid.
#[no_mangle]
pub unsafe extern "C" fn floe_scan_plan(
    table: *const FloeTable,
    txn: *const FloeTxn,
    request_json: *const c_char,
    out: *mut *mut FloeScan,
) -> *mut FloeError {
    guard(|| {
        let request: ScanRequest = json_arg(request_json, "scan request")?;
        let selector: SnapshotSelector = request.selector.into();
        let table = &block_on((*table).table.for_reading_at(selector))?;
        let replaced = selector == SnapshotSelector::Current && replaces_rows(txn, table);
        let snapshot = if replaced { None } else { table.snapshot(selector)? };
        let schema = table.schema_for(snapshot.as_ref(), selector)?;
        let mut plan = block_on(ScanPlan::new(
            table,
            snapshot.as_ref(),
            schema,
            request.filter.as_ref(),
            request.storage_secret.as_ref(),
        ))?;
        // Read your writes: rows this transaction wrote but has not committed yet.
        if selector == SnapshotSelector::Current {
            plan.add_pending(pending_files(txn, table));
            plan.apply_pending_deletes(pending_deletes(txn, table));
        }
        *out = Box::into_raw(Box::new(FloeScan { plan }));
        Ok(())
    })
}

/// # Safety
/// `scan` must be NULL or a handle from `floe_scan_plan`, freed once.
#[no_mangle]
pub unsafe extern "C" fn floe_scan_free(scan: *mut FloeScan) {
    if !scan.is_null() {
        drop(Box::from_raw(scan));
    }
}

/// The number of data files to read.
///
/// # Safety
/// `scan` must be a live handle.
#[no_mangle]
pub unsafe extern "C" fn floe_scan_file_count(scan: *const FloeScan) -> usize {
    (*scan).plan.files.len()
}

/// {"path","file_size","record_count","identity_partition":[[field_id,value|null]],"deletes":[..]};
/// values are tagged as floe_core::scan::value::Value, e.g. {"int":3} or {"date":20454}.
///
/// # Safety
/// Handles and out pointers must be valid.
#[no_mangle]
pub unsafe extern "C" fn floe_scan_file(scan: *const FloeScan, index: usize, out: *mut FloeString) -> *mut FloeError {
    guard(|| {
        let scan = &*scan;
        let file = scan.plan.files.get(index).ok_or_else(|| Error::internal(format!("scan has no file {index}")))?;
        write_json(out, file)
    })
}

/// Sorted positions of the rows deleted from file index (positional and equality deletes alike);
/// free with floe_positions_free.
///
/// # Safety
/// Handles and out pointers must be valid.
#[no_mangle]
pub unsafe extern "C" fn floe_scan_deleted_positions(
    scan: *const FloeScan,
    index: usize,
    out: *mut *mut i64,
    out_len: *mut usize,
) -> *mut FloeError {
    guard(|| {
        let positions = block_on((*scan).plan.deleted_positions(index))?.into_boxed_slice();
        *out_len = positions.len();
        *out = Box::into_raw(positions) as *mut i64;
        Ok(())
    })
}

/// # Safety
/// `positions` must come from `floe_scan_deleted_positions` with its length, freed once.
#[no_mangle]
pub unsafe extern "C" fn floe_positions_free(positions: *mut i64, len: usize) {
    if !positions.is_null() {
        drop(Box::from_raw(std::ptr::slice_from_raw_parts_mut(positions, len)));
    }
}
