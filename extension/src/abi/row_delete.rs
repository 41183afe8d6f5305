//! Row-level deletes: the glue's delete operator gathers the positions DuckDB's scan identified,
//! data file by data file, then hands them to the transaction at the end of the statement.

use std::collections::HashMap;
use std::ffi::c_char;

use floe_core::commit::row_level::{RowOperation, StatementDeletes};
use floe_core::runtime::block_on;
use floe_core::scan::filter::Filter;
use floe_core::storage::DuckdbSecret;
use serde::Deserialize;

use super::table::FloeTable;
use super::transaction::FloeTxn;
use super::{guard, json_arg, str_arg, FloeError};

/// The rows one statement deletes from one table, gathered before they reach the transaction.
pub struct FloeDeletes {
    statement: StatementDeletes,
}

#[derive(Deserialize)]
struct DeletesRequest {
    operation: RowOperation,
    #[serde(default)]
    filter: Option<Filter>,
    #[serde(default)]
    refuse_repeats: bool,
}

/// Starts gathering a statement's deletes. request: {"operation":"delete"|"update"|"merge",
/// "filter":{..}|null (the filters pushed into its scan of the table), "refuse_repeats":bool
/// (a row named twice is an error: MERGE's one-source-row-per-target-row rule)}.
///
/// # Safety
/// Strings and out pointers must be valid.
#[no_mangle]
pub unsafe extern "C" fn floe_deletes_new(request_json: *const c_char, out: *mut *mut FloeDeletes) -> *mut FloeError {
    guard(|| {
        let request: DeletesRequest = json_arg(request_json, "delete request")?;
        let statement = StatementDeletes {
            operation: request.operation,
            filter: request.filter,
            refuse_repeats: request.refuse_repeats,
            positions: HashMap::new(),
        };
        *out = Box::into_raw(Box::new(FloeDeletes { statement }));
        Ok(())
    })
}

/// Adds `len` deleted row positions of the data file `path` (as DuckDB read it).
///
/// # Safety
/// `deletes` must be a live handle, `path` a valid string and `positions` valid for `len` values.
#[no_mangle]
pub unsafe extern "C" fn floe_deletes_add(
    deletes: *mut FloeDeletes,
    path: *const c_char,
    positions: *const i64,
    len: usize,
) -> *mut FloeError {
    guard(|| {
        let path = str_arg(path, "data file path")?;
        let positions = if len == 0 { &[][..] } else { std::slice::from_raw_parts(positions, len) };
        (*deletes).statement.positions.entry(path.to_string()).or_default().extend_from_slice(positions);
        Ok(())
    })
}

/// # Safety
/// `deletes` must be NULL or a handle from `floe_deletes_new` not given to `floe_txn_delete`.
#[no_mangle]
pub unsafe extern "C" fn floe_deletes_free(deletes: *mut FloeDeletes) {
    if !deletes.is_null() {
        drop(Box::from_raw(deletes));
    }
}

/// Records the gathered deletes in the transaction (writing their delete files); takes
/// ownership of `deletes` whatever the outcome. *out_count is the number of rows deleted.
///
/// # Safety
/// Handles, strings and out pointers must be valid.
#[no_mangle]
pub unsafe extern "C" fn floe_txn_delete(
    txn: *mut FloeTxn,
    table: *const FloeTable,
    deletes: *mut FloeDeletes,
    storage_secret_json: *const c_char,
    out_count: *mut u64,
) -> *mut FloeError {
    let deletes = Box::from_raw(deletes);
    guard(|| {
        let secret: Option<DuckdbSecret> = json_arg(storage_secret_json, "storage secret")?;
        let count = block_on((*txn).transaction.delete(&(*table).table, deletes.statement, secret.as_ref()))?;
        *out_count = count;
        Ok(())
    })
}
