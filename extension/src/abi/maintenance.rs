//! Maintenance procedures on a table of an attached catalog: each commits on its own, outside
//! any DuckDB transaction, and deletes files only after its commit succeeded (see
//! floe_core::maintenance).

use std::ffi::c_char;

use floe_core::commit::snapshot::Engine;
use floe_core::maintenance::checkpoint;
use floe_core::maintenance::expire::{self, ExpireRequest};
use floe_core::maintenance::orphans::{self, OrphanRequest};
use floe_core::runtime::block_on;
use floe_core::storage::DuckdbSecret;
use serde::Deserialize;

use super::catalog::{identifier, FloeCatalog};
use super::progress::FloeProgress;
use super::transaction::FloeTxn;
use super::{guard, json_arg, str_arg, write_json, FloeError, FloeString};

/// A procedure's arguments and the user's storage secret for the table's location.
#[derive(Deserialize)]
struct Call<T> {
    #[serde(flatten)]
    arguments: T,
    #[serde(default)]
    storage_secret: Option<DuckdbSecret>,
}

/// Whether `txn` has recorded a change of table `name` of DuckDB schema `schema`.
///
/// # Safety
/// Handles, strings and out pointers must be valid.
#[no_mangle]
pub unsafe extern "C" fn floe_txn_changes_table(
    txn: *const FloeTxn,
    schema: *const c_char,
    name: *const c_char,
    out: *mut bool,
) -> *mut FloeError {
    guard(|| {
        *out = (*txn).transaction.changes_table(&identifier(schema, name, "table")?);
        Ok(())
    })
}

/// floe_expire_snapshots, advancing `progress`. request: {"older_than_ms":N|null,"retain_last":N|null,
/// "snapshot_ids":[N,..],"dry_run":bool,"storage_secret":{..}|null}.
/// {"deleted_data_files_count":N,"deleted_position_delete_files_count":N,
///  "deleted_equality_delete_files_count":N,"deleted_manifest_files_count":N,
///  "deleted_manifest_lists_count":N,"deleted_statistics_files_count":N}
///
/// # Safety
/// Handles, strings and out pointers must be valid.
#[no_mangle]
pub unsafe extern "C" fn floe_expire_snapshots(
    catalog: *const FloeCatalog,
    schema: *const c_char,
    name: *const c_char,
    request_json: *const c_char,
    progress: *const FloeProgress,
    out: *mut FloeString,
) -> *mut FloeError {
    guard(|| {
        let id = identifier(schema, name, "table")?;
        let call: Call<ExpireRequest> = json_arg(request_json, "expire request")?;
        let catalog = &(*catalog).catalog;
        let result = block_on(expire::expire_snapshots(
            catalog,
            &id.namespace,
            &id.name,
            &call.arguments,
            call.storage_secret.as_ref(),
            (*progress).get(),
        ))?;
        write_json(out, &result)
    })
}

/// floe_remove_orphan_files, advancing `progress`. request: {"older_than_ms":N|null,"dry_run":bool,"storage_secret":{..}|null}.
/// ["<url of a file deleted, or that would be with dry_run>", ...]
///
/// # Safety
/// Handles, strings and out pointers must be valid.
#[no_mangle]
pub unsafe extern "C" fn floe_remove_orphan_files(
    catalog: *const FloeCatalog,
    schema: *const c_char,
    name: *const c_char,
    request_json: *const c_char,
    progress: *const FloeProgress,
    out: *mut FloeString,
) -> *mut FloeError {
    guard(|| {
        let id = identifier(schema, name, "table")?;
        let call: Call<OrphanRequest> = json_arg(request_json, "orphan removal request")?;
        let catalog = &(*catalog).catalog;
        let files = block_on(orphans::remove_orphan_files(
            catalog,
            &id.namespace,
            &id.name,
            &call.arguments,
            call.storage_secret.as_ref(),
            (*progress).get(),
        ))?;
        write_json(out, &files)
    })
}

/// CHECKPOINT / floe_checkpoint on one table: expire, compact, rewrite manifests, remove orphans,
/// each committed on its own. *out: floe_core::maintenance::checkpoint::CheckpointOutcome.
///
/// # Safety
/// Handles, strings and out pointers must be valid.
#[no_mangle]
pub unsafe extern "C" fn floe_checkpoint_table(
    catalog: *const FloeCatalog,
    duckdb_version: *const c_char,
    schema: *const c_char,
    name: *const c_char,
    storage_secret_json: *const c_char,
    out: *mut FloeString,
) -> *mut FloeError {
    guard(|| {
        let id = identifier(schema, name, "table")?;
        let engine = Engine { duckdb_version: str_arg(duckdb_version, "DuckDB version")?.to_string() };
        let secret: Option<DuckdbSecret> = json_arg(storage_secret_json, "storage secret")?;
        let outcome = block_on(checkpoint::checkpoint_table(
            &(*catalog).catalog,
            &engine,
            &id.namespace,
            &id.name,
            secret.as_ref(),
        ))?;
        write_json(out, &outcome)
    })
}
