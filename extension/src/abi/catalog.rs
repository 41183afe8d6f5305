//! Catalog handles: attach, browse, load tables.

use std::ffi::c_char;
use std::sync::Arc;

use floe_core::options::{AttachRequest, CatalogOptions};
use floe_core::rest::catalog::display_namespace;
use floe_core::rest::model::TableIdentifier;
use floe_core::rest::{Namespace, RestCatalog};
use floe_core::runtime::block_on;
use floe_core::table::LoadedTable;
use floe_core::types::columns;
use floe_core::{Error, ErrorKind, Result};
use futures::stream::{self, StreamExt, TryStreamExt};
use serde::Deserialize;
use serde_json::json;

use super::table::FloeTable;
use super::{guard, json_arg, str_arg, write_json, FloeError, FloeString};

const LOAD_CONCURRENCY: usize = 16;

/// A view as the glue names it: its DuckDB schema and name.
#[derive(Deserialize)]
struct ViewName {
    schema: String,
    name: String,
}

/// An attached REST catalog; shared by every transaction on it, safe to use from any thread.
pub struct FloeCatalog {
    pub(crate) catalog: Arc<RestCatalog>,
}

/// DuckDB schema names are namespace levels joined by '.'.
pub(crate) fn namespace(schema: &str) -> Namespace {
    schema.split('.').map(str::to_string).collect()
}

/// The table or view `name` (what: "table", "view", "new name") of DuckDB schema `schema`.
///
/// # Safety
/// Both must be NUL-terminated strings.
pub(crate) unsafe fn identifier(schema: *const c_char, name: *const c_char, what: &str) -> Result<TableIdentifier> {
    Ok(TableIdentifier { namespace: namespace(str_arg(schema, "schema")?), name: str_arg(name, what)?.to_string() })
}

async fn load(catalog: &Arc<RestCatalog>, namespace: &Namespace, name: &str) -> Result<Option<LoadedTable>> {
    load_through(catalog, namespace, name, &[]).await
}

/// A table read through `views` (outermost first; none: read directly).
async fn load_through(
    catalog: &Arc<RestCatalog>,
    namespace: &Namespace,
    name: &str,
    views: &[TableIdentifier],
) -> Result<Option<LoadedTable>> {
    let result = if views.is_empty() {
        catalog.load_table_to_read(namespace, name).await
    } else {
        catalog.load_table_through(namespace, name, views).await
    };
    match result {
        Ok(result) => Ok(Some(LoadedTable::from_catalog(catalog, namespace.clone(), name.to_string(), result))),
        Err(err) if err.kind() == ErrorKind::NotFound => Ok(None),
        Err(err) => Err(err),
    }
}

/// Connects to a REST catalog. request: {"warehouse":..,"options":{..},"secret":{..}}.
///
/// # Safety
/// `request_json` must be a NUL-terminated string; `out` must be writable.
#[no_mangle]
pub unsafe extern "C" fn floe_catalog_attach(
    request_json: *const c_char,
    out: *mut *mut FloeCatalog,
) -> *mut FloeError {
    guard(|| {
        let request: AttachRequest = json_arg(request_json, "attach request")?;
        let options = CatalogOptions::parse(&request)?;
        let catalog = block_on(RestCatalog::connect(options))?;
        *out = Box::into_raw(Box::new(FloeCatalog { catalog: Arc::new(catalog) }));
        Ok(())
    })
}

/// # Safety
/// `catalog` must be NULL or a handle from `floe_catalog_attach`, freed once.
#[no_mangle]
pub unsafe extern "C" fn floe_catalog_free(catalog: *mut FloeCatalog) {
    if !catalog.is_null() {
        drop(Box::from_raw(catalog));
    }
}

/// {"warehouse":..,"default_schema":..|null,"purge_requested":bool}
///
/// # Safety
/// Handles and out pointers must be valid.
#[no_mangle]
pub unsafe extern "C" fn floe_catalog_describe(catalog: *const FloeCatalog, out: *mut FloeString) -> *mut FloeError {
    guard(|| {
        let options = (*catalog).catalog.options();
        write_json(
            out,
            &json!({
                "warehouse": options.warehouse,
                "default_schema": options.default_schema,
                "purge_requested": options.purge_requested,
            }),
        )
    })
}

/// ["ns", "ns2.child", ...]: schema names, namespace levels joined by '.'.
///
/// # Safety
/// Handles and out pointers must be valid.
#[no_mangle]
pub unsafe extern "C" fn floe_catalog_list_namespaces(
    catalog: *const FloeCatalog,
    out: *mut FloeString,
) -> *mut FloeError {
    guard(|| {
        let namespaces = block_on((*catalog).catalog.list_namespaces())?;
        let names: Vec<String> = namespaces.iter().map(display_namespace).collect();
        write_json(out, &names)
    })
}

/// Whether the namespace exists (1) or not (0).
///
/// # Safety
/// Handles, strings and out pointers must be valid.
#[no_mangle]
pub unsafe extern "C" fn floe_catalog_namespace_exists(
    catalog: *const FloeCatalog,
    schema: *const c_char,
    out: *mut i32,
) -> *mut FloeError {
    guard(|| {
        let namespace = namespace(str_arg(schema, "schema")?);
        *out = match block_on((*catalog).catalog.load_namespace(&namespace)) {
            Ok(_) => 1,
            Err(err) if err.kind() == ErrorKind::NotFound => 0,
            Err(err) => return Err(err),
        };
        Ok(())
    })
}

/// ["table", ...]
///
/// # Safety
/// Handles, strings and out pointers must be valid.
#[no_mangle]
pub unsafe extern "C" fn floe_catalog_list_tables(
    catalog: *const FloeCatalog,
    schema: *const c_char,
    out: *mut FloeString,
) -> *mut FloeError {
    guard(|| {
        let namespace = namespace(str_arg(schema, "schema")?);
        let tables = block_on((*catalog).catalog.list_tables(&namespace))?;
        write_json(out, &tables)
    })
}

/// Loads a table; *out is NULL if it does not exist. views_json: the views the table is read
/// through, outermost first, as [{"schema":..,"name":..}] ([] for a direct read).
///
/// # Safety
/// Handles, strings and out pointers must be valid.
#[no_mangle]
pub unsafe extern "C" fn floe_catalog_load_table(
    catalog: *const FloeCatalog,
    schema: *const c_char,
    table: *const c_char,
    views_json: *const c_char,
    out: *mut *mut FloeTable,
) -> *mut FloeError {
    guard(|| {
        let namespace = namespace(str_arg(schema, "schema")?);
        let name = str_arg(table, "table")?;
        let views: Vec<ViewName> = json_arg(views_json, "view chain")?;
        let views: Vec<TableIdentifier> = views
            .into_iter()
            .map(|view| TableIdentifier { namespace: self::namespace(&view.schema), name: view.name })
            .collect();
        *out = match block_on(load_through(&(*catalog).catalog, &namespace, name, &views))? {
            Some(loaded) => FloeTable::into_raw(Arc::new(loaded)),
            None => std::ptr::null_mut(),
        };
        Ok(())
    })
}

/// Loads several tables of one schema concurrently: names is a JSON array; out receives one
/// handle (or NULL where missing) per name, in order.
///
/// # Safety
/// Handles and strings must be valid; `out` must have room for `out_len` handles.
#[no_mangle]
pub unsafe extern "C" fn floe_catalog_load_tables(
    catalog: *const FloeCatalog,
    schema: *const c_char,
    names_json: *const c_char,
    out: *mut *mut FloeTable,
    out_len: usize,
) -> *mut FloeError {
    guard(|| {
        let namespace = namespace(str_arg(schema, "schema")?);
        let names: Vec<String> = json_arg(names_json, "table names")?;
        if names.len() != out_len {
            return Err(Error::internal("floe_catalog_load_tables: out has the wrong length"));
        }
        let catalog = &(*catalog).catalog;
        // Bounded, so listing a namespace of thousands of tables does not flood the catalog.
        let loaded: Vec<Option<LoadedTable>> = block_on(
            stream::iter(names.iter().map(|name| load(catalog, &namespace, name)))
                .buffered(LOAD_CONCURRENCY)
                .try_collect(),
        )?;
        for (i, table) in loaded.into_iter().enumerate() {
            *out.add(i) = table.map_or(std::ptr::null_mut(), |t| FloeTable::into_raw(Arc::new(t)));
        }
        Ok(())
    })
}

/// ["view", ...]; [] where the catalog has no views API.
///
/// # Safety
/// Handles, strings and out pointers must be valid.
#[no_mangle]
pub unsafe extern "C" fn floe_catalog_list_views(
    catalog: *const FloeCatalog,
    schema: *const c_char,
    out: *mut FloeString,
) -> *mut FloeError {
    guard(|| {
        let namespace = namespace(str_arg(schema, "schema")?);
        let views = block_on((*catalog).catalog.list_views(&namespace))?;
        write_json(out, &views)
    })
}

/// {"sql": "<duckdb SQL>", "columns": [..]}, or null if there is no such view.
///
/// # Safety
/// Handles, strings and out pointers must be valid.
#[no_mangle]
pub unsafe extern "C" fn floe_catalog_load_view(
    catalog: *const FloeCatalog,
    schema: *const c_char,
    view: *const c_char,
    out: *mut FloeString,
) -> *mut FloeError {
    guard(|| {
        let id = identifier(schema, view, "view")?;
        match block_on((*catalog).catalog.load_view(&id))? {
            None => write_json(out, &serde_json::Value::Null),
            Some(loaded) => write_json(
                out,
                &json!({
                    "sql": loaded.duckdb_sql(&id)?,
                    "columns": columns(loaded.metadata.current_schema())?,
                }),
            ),
        }
    })
}
