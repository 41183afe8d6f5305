//! `floe_rewrite_data_files` and `floe_rewrite_manifests`, recorded in a transaction.

use std::ffi::c_char;

use floe_core::maintenance::rewrite_data_files::RewriteOptions;
use floe_core::runtime::block_on;
use floe_core::storage::DuckdbSecret;

use super::progress::FloeProgress;
use super::table::FloeTable;
use super::transaction::FloeTxn;
use super::{guard, json_arg, write_json, FloeError, FloeString};

/// Compacts `table` in `txn` (committed with it), advancing `progress`. options_json: {"strategy":"binpack"|"sort",
/// "target_file_size_bytes":N|null,"min_input_files":N|null,"where":<scan filter JSON>|null}. *out: {"rewritten_data_files_count",
/// "added_data_files_count","rewritten_bytes_count"}.
///
/// # Safety
/// Handles, strings and out pointers must be valid.
#[no_mangle]
pub unsafe extern "C" fn floe_txn_rewrite_data_files(
    txn: *mut FloeTxn,
    table: *const FloeTable,
    options_json: *const c_char,
    storage_secret_json: *const c_char,
    progress: *const FloeProgress,
    out: *mut FloeString,
) -> *mut FloeError {
    guard(|| {
        let options: RewriteOptions = json_arg(options_json, "rewrite options")?;
        let secret: Option<DuckdbSecret> = json_arg(storage_secret_json, "storage secret")?;
        let progress = (*progress).get();
        let outcome =
            block_on((*txn).transaction.rewrite_data_files(&(*table).table, &options, secret.as_ref(), progress))?;
        write_json(out, &outcome)
    })
}

/// Merges `table`'s manifests in `txn` (now, advancing `progress`, and at its commit for what
/// changed meanwhile). *out_rewritten / *out_added: how many manifests of the table as loaded
/// it merges, into how many.
///
/// # Safety
/// Handles, strings and out pointers must be valid.
#[no_mangle]
pub unsafe extern "C" fn floe_txn_rewrite_manifests(
    txn: *mut FloeTxn,
    table: *const FloeTable,
    storage_secret_json: *const c_char,
    progress: *const FloeProgress,
    out_rewritten: *mut u64,
    out_added: *mut u64,
) -> *mut FloeError {
    guard(|| {
        let secret: Option<DuckdbSecret> = json_arg(storage_secret_json, "storage secret")?;
        let progress = (*progress).get();
        let (rewritten, added) =
            block_on((*txn).transaction.rewrite_manifests(&(*table).table, secret.as_ref(), progress))?;
        *out_rewritten = rewritten as u64;
        *out_added = added as u64;
        Ok(())
    })
}
