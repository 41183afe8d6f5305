//! Transaction handles: the writes of one DuckDB transaction, committed at DuckDB COMMIT.

use std::collections::{BTreeMap, HashMap};
use std::ffi::c_char;
use std::sync::Arc;

use floe_core::commit::data_file::WrittenFile;
use floe_core::commit::evolution::TableEdit;
use floe_core::commit::lineage::Statement;
use floe_core::commit::partitioning::{partition_fields, PartitionKey};
use floe_core::commit::schema::DuckColumn;
use floe_core::commit::snapshot::Engine;
use floe_core::commit::Transaction;
use floe_core::rest::model::TableIdentifier;
use floe_core::runtime::block_on;
use floe_core::storage::DuckdbSecret;
use floe_core::write_properties::WriteProperties;
use serde::Deserialize;

use super::catalog::{identifier, namespace, FloeCatalog};
use super::table::FloeTable;
use super::{guard, json_arg, str_arg, user_json_arg, write_json, FloeError, FloeString};

/// The writes of one DuckDB transaction to one catalog, applied to the catalog at commit.
pub struct FloeTxn {
    pub(crate) transaction: Transaction,
}

#[derive(Deserialize)]
struct CreateTable {
    schema: String,
    table: String,
    columns: Vec<DuckColumn>,
    #[serde(default)]
    properties: HashMap<String, String>,
    #[serde(default)]
    partition: Vec<PartitionKey>,
}

#[derive(Deserialize)]
struct ReplaceTable {
    columns: Vec<DuckColumn>,
}

/// Begins recording the writes of one DuckDB transaction to `catalog`.
///
/// # Safety
/// Handles, strings and out pointers must be valid.
#[no_mangle]
pub unsafe extern "C" fn floe_txn_begin(
    catalog: *const FloeCatalog,
    duckdb_version: *const c_char,
    out: *mut *mut FloeTxn,
) -> *mut FloeError {
    guard(|| {
        let engine = Engine { duckdb_version: str_arg(duckdb_version, "DuckDB version")?.to_string() };
        let transaction = Transaction::new((*catalog).catalog.clone(), engine);
        *out = Box::into_raw(Box::new(FloeTxn { transaction }));
        Ok(())
    })
}

/// # Safety
/// `txn` must be NULL or a handle from `floe_txn_begin`, freed once.
#[no_mangle]
pub unsafe extern "C" fn floe_txn_free(txn: *mut FloeTxn) {
    if !txn.is_null() {
        drop(Box::from_raw(txn));
    }
}

/// The user's storage secret ("null" if none) for metadata files the commit reads and writes where the
/// catalog vends no credentials.
///
/// # Safety
/// Handles and strings must be valid.
#[no_mangle]
pub unsafe extern "C" fn floe_txn_use_storage_secret(
    txn: *mut FloeTxn,
    storage_secret_json: *const c_char,
) -> *mut FloeError {
    guard(|| {
        let secret: Option<DuckdbSecret> = json_arg(storage_secret_json, "storage secret")?;
        (*txn).transaction.remember(secret.as_ref());
        Ok(())
    })
}

/// # Safety
/// Handles and strings must be valid.
#[no_mangle]
pub unsafe extern "C" fn floe_txn_create_namespace(txn: *mut FloeTxn, schema: *const c_char) -> *mut FloeError {
    guard(|| {
        (*txn).transaction.create_namespace(namespace(str_arg(schema, "schema")?));
        Ok(())
    })
}

/// # Safety
/// Handles and strings must be valid.
#[no_mangle]
pub unsafe extern "C" fn floe_txn_drop_namespace(txn: *mut FloeTxn, schema: *const c_char) -> *mut FloeError {
    guard(|| {
        (*txn).transaction.drop_namespace(namespace(str_arg(schema, "schema")?));
        Ok(())
    })
}

/// Stages a new table. request: {"schema","table","columns":[{"name","type":{"id",..},"nullable"}],
/// "properties":{..},"partition":[PARTITIONED BY keys, see floe_core::commit::partitioning::PartitionKey]};
/// *out is the staged table (field ids, location) to write files for.
///
/// # Safety
/// Handles, strings and out pointers must be valid.
#[no_mangle]
pub unsafe extern "C" fn floe_txn_create_table(
    txn: *mut FloeTxn,
    request_json: *const c_char,
    out: *mut *mut FloeTable,
) -> *mut FloeError {
    guard(|| {
        let request: CreateTable = json_arg(request_json, "create table request")?;
        // Refused here rather than at the first INSERT, which would find the table committed.
        WriteProperties::parse(&request.properties, &format!("{}.{}", request.schema, request.table))?;
        let table = block_on((*txn).transaction.create_table(
            &namespace(&request.schema),
            &request.table,
            &request.columns,
            &partition_fields(&request.partition)?,
            request.properties,
        ))?;
        *out = FloeTable::into_raw(table);
        Ok(())
    })
}

/// CREATE OR REPLACE of an existing table. request: {"columns":[..]}; *out is its replacement.
///
/// # Safety
/// Handles, strings and out pointers must be valid.
#[no_mangle]
pub unsafe extern "C" fn floe_txn_replace_table(
    txn: *mut FloeTxn,
    base: *const FloeTable,
    request_json: *const c_char,
    out: *mut *mut FloeTable,
) -> *mut FloeError {
    guard(|| {
        let request: ReplaceTable = json_arg(request_json, "replace table request")?;
        let table = (*txn).transaction.replace_table((*base).table.clone(), &request.columns)?;
        *out = FloeTable::into_raw(table);
        Ok(())
    })
}

/// ALTER TABLE ... SET PARTITIONED BY: keys_json is the PARTITIONED BY keys (see
/// floe_core::commit::partitioning::PartitionKey); *out is the table with its new default spec,
/// for the transaction's later writes.
///
/// # Safety
/// Handles, strings and out pointers must be valid.
#[no_mangle]
pub unsafe extern "C" fn floe_txn_repartition(
    txn: *mut FloeTxn,
    table: *const FloeTable,
    keys_json: *const c_char,
    out: *mut *mut FloeTable,
) -> *mut FloeError {
    guard(|| {
        let keys: Vec<PartitionKey> = json_arg(keys_json, "partition keys")?;
        let table = (*txn).transaction.repartition((*table).table.clone(), &partition_fields(&keys)?)?;
        *out = FloeTable::into_raw(table);
        Ok(())
    })
}

/// ALTER TABLE (and COMMENT ON) edits: edit_json is one floe_core::commit::evolution::TableEdit;
/// it is checked against Iceberg's schema evolution rules now, and *out is the table as edited,
/// for the transaction's later statements.
///
/// # Safety
/// Handles, strings and out pointers must be valid.
#[no_mangle]
pub unsafe extern "C" fn floe_txn_alter(
    txn: *mut FloeTxn,
    table: *const FloeTable,
    edit_json: *const c_char,
    out: *mut *mut FloeTable,
) -> *mut FloeError {
    guard(|| {
        let edit: TableEdit = json_arg(edit_json, "table edit")?;
        // NOT NULL is allowed on a table with rows only if no snapshot was written with the
        // column: a question for every snapshot, which a read's load may have left out.
        let base = match edit {
            TableEdit::SetNotNull { .. } => block_on((*table).table.with_history())?,
            _ => (*table).table.clone(),
        };
        let table = (*txn).transaction.alter(base, edit)?;
        *out = FloeTable::into_raw(table);
        Ok(())
    })
}

/// Files written into table: [{"path","record_count","file_size","columns":[{"field_id","value_count",
/// "null_count","column_size","min","max","has_nan"}],"partition":[..]}]; paths floe:// or real
/// URLs (manifests record the real ones); storage_secret_json or "null".
///
/// # Safety
/// Handles and strings must be valid.
#[no_mangle]
pub unsafe extern "C" fn floe_txn_write(
    txn: *mut FloeTxn,
    table: *const FloeTable,
    files_json: *const c_char,
    storage_secret_json: *const c_char,
) -> *mut FloeError {
    guard(|| {
        let files: Vec<WrittenFile> = json_arg(files_json, "written files")?;
        let secret: Option<DuckdbSecret> = json_arg(storage_secret_json, "storage secret")?;
        block_on((*txn).transaction.write(&(*table).table, files, secret.as_ref()))
    })
}

/// A fresh directory (JSON string, floe://<storage id>/<url>) under the table's data location for
/// one statement's files; removed with everything in it if the transaction rolls back or its
/// commit fails.
///
/// # Safety
/// Handles, strings and out pointers must be valid.
#[no_mangle]
pub unsafe extern "C" fn floe_txn_write_location(
    txn: *mut FloeTxn,
    table: *const FloeTable,
    storage_secret_json: *const c_char,
    out: *mut FloeString,
) -> *mut FloeError {
    guard(|| {
        let secret: Option<DuckdbSecret> = json_arg(storage_secret_json, "storage secret")?;
        let location = (*txn).transaction.write_location(&(*table).table, secret.as_ref())?;
        write_json(out, &location)
    })
}

/// # Safety
/// Handles and strings must be valid.
#[no_mangle]
pub unsafe extern "C" fn floe_txn_drop_table(
    txn: *mut FloeTxn,
    schema: *const c_char,
    table: *const c_char,
    purge: i32,
) -> *mut FloeError {
    guard(|| {
        let name = str_arg(table, "table")?.to_string();
        (*txn).transaction.drop_table(namespace(str_arg(schema, "schema")?), name, purge != 0);
        Ok(())
    })
}

/// # Safety
/// Handles and strings must be valid.
#[no_mangle]
pub unsafe extern "C" fn floe_txn_rename_table(
    txn: *mut FloeTxn,
    schema: *const c_char,
    from: *const c_char,
    to: *const c_char,
) -> *mut FloeError {
    guard(|| {
        (*txn).transaction.rename_table(identifier(schema, from, "table")?, identifier(schema, to, "new name")?);
        Ok(())
    })
}

/// Applies the writes to the catalog.
///
/// # Safety
/// `txn` must be a live handle.
#[no_mangle]
pub unsafe extern "C" fn floe_txn_commit(txn: *mut FloeTxn) -> *mut FloeError {
    guard(|| block_on((*txn).transaction.commit()))
}

/// Discards the transaction's changes and removes the files it wrote.
///
/// # Safety
/// `txn` must be a live handle.
#[no_mangle]
pub unsafe extern "C" fn floe_txn_rollback(txn: *mut FloeTxn) {
    let _ = guard(|| {
        block_on((*txn).transaction.rollback());
        Ok(())
    });
}

/// The transaction's pending files of `table`, for read-your-writes scans.
pub(crate) fn pending_files(txn: *const FloeTxn, table: &Arc<floe_core::table::LoadedTable>) -> Vec<WrittenFile> {
    if txn.is_null() {
        return Vec::new();
    }
    unsafe { (*txn).transaction.pending_files(table) }
}

/// The transaction's uncommitted row-level changes of `table`, for its reads.
pub(crate) fn pending_deletes(
    txn: *const FloeTxn,
    table: &Arc<floe_core::table::LoadedTable>,
) -> floe_core::commit::transaction::PendingDeletes {
    if txn.is_null() {
        return Default::default();
    }
    unsafe { (*txn).transaction.pending_deletes(table) }
}

/// Whether the transaction replaced all committed rows of `table` (CREATE OR REPLACE, TRUNCATE).
pub(crate) fn replaces_rows(txn: *const FloeTxn, table: &Arc<floe_core::table::LoadedTable>) -> bool {
    !txn.is_null() && unsafe { (*txn).transaction.replaces_rows(table) }
}

#[derive(Deserialize)]
struct CreateView {
    schema: String,
    view: String,
    columns: Vec<DuckColumn>,
    sql: String,
    #[serde(default)]
    replace: bool,
}

/// TRUNCATE / DELETE without a condition: *out is the emptied table, for later writes.
///
/// # Safety
/// Handles, strings and out pointers must be valid.
#[no_mangle]
pub unsafe extern "C" fn floe_txn_truncate_table(
    txn: *mut FloeTxn,
    base: *const FloeTable,
    out: *mut *mut FloeTable,
) -> *mut FloeError {
    guard(|| {
        let table = (*txn).transaction.truncate_table((*base).table.clone())?;
        *out = FloeTable::into_raw(table);
        Ok(())
    })
}

/// request: {"schema","view","columns":[..],"sql","replace"}; the view is created at COMMIT.
///
/// # Safety
/// Handles and strings must be valid.
#[no_mangle]
pub unsafe extern "C" fn floe_txn_create_view(txn: *mut FloeTxn, request_json: *const c_char) -> *mut FloeError {
    guard(|| {
        let request: CreateView = json_arg(request_json, "create view request")?;
        let id = TableIdentifier { namespace: namespace(&request.schema), name: request.view };
        (*txn).transaction.create_view(id, &request.columns, request.sql, request.replace)
    })
}

/// # Safety
/// Handles and strings must be valid.
#[no_mangle]
pub unsafe extern "C" fn floe_txn_drop_view(
    txn: *mut FloeTxn,
    schema: *const c_char,
    view: *const c_char,
) -> *mut FloeError {
    guard(|| {
        (*txn).transaction.drop_view(identifier(schema, view, "view")?);
        Ok(())
    })
}

/// # Safety
/// Handles and strings must be valid.
#[no_mangle]
pub unsafe extern "C" fn floe_txn_rename_view(
    txn: *mut FloeTxn,
    schema: *const c_char,
    from: *const c_char,
    to: *const c_char,
) -> *mut FloeError {
    guard(|| {
        (*txn).transaction.rename_view(identifier(schema, from, "view")?, identifier(schema, to, "new name")?);
        Ok(())
    })
}

/// The floe_table_properties setting as the user wrote it: {"catalog.schema.table": {"key": "value"}};
/// tables of catalog `alias` written by this transaction get these properties in the same commit.
///
/// # Safety
/// Handles and strings must be valid.
#[no_mangle]
pub unsafe extern "C" fn floe_txn_govern(
    txn: *mut FloeTxn,
    alias: *const c_char,
    properties_json: *const c_char,
) -> *mut FloeError {
    guard(|| {
        let alias = str_arg(alias, "catalog alias")?;
        let properties: HashMap<String, HashMap<String, String>> = user_json_arg(
            properties_json,
            "SET floe_table_properties",
            "SET floe_table_properties to a JSON object of tables and their string properties, e.g. \
             '{\"lake.gold.events\": {\"owner\": \"data-team\"}}'",
        )?;
        (*txn).transaction.govern(alias, properties);
        Ok(())
    })
}

/// The statement running now, before it records a change: {"reads":[{"table":"ns.t",
/// "snapshot_id":N|null}],"query":"..."} (what it read of this catalog so far, and its SQL text),
/// for the lineage in the summaries of the snapshots it makes (floe_core::commit::lineage).
///
/// # Safety
/// Handles and strings must be valid.
#[no_mangle]
pub unsafe extern "C" fn floe_txn_statement(txn: *mut FloeTxn, statement_json: *const c_char) -> *mut FloeError {
    guard(|| {
        let statement: Statement = json_arg(statement_json, "statement")?;
        (*txn).transaction.statement(statement);
        Ok(())
    })
}

/// The floe_snapshot_properties setting as the user wrote it: {"key": "value"}, added to the
/// summary of every snapshot this transaction commits.
///
/// # Safety
/// Handles and strings must be valid.
#[no_mangle]
pub unsafe extern "C" fn floe_txn_snapshot_properties(
    txn: *mut FloeTxn,
    properties_json: *const c_char,
) -> *mut FloeError {
    guard(|| {
        let properties: BTreeMap<String, String> = user_json_arg(
            properties_json,
            "SET floe_snapshot_properties",
            "SET floe_snapshot_properties to a JSON object of string properties, e.g. '{\"job\": \"nightly\"}'",
        )?;
        (*txn).transaction.snapshot_properties(properties);
        Ok(())
    })
}
