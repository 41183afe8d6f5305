//===----------------------------------------------------------------------===//
// floe: what the maintenance procedures (CALL floe_expire_snapshots(..), CALL
// floe_remove_orphan_files(..)) share: the table they run on, their refusal inside a
// transaction that changed it, their core call run in the background with its progress shown,
// and their result rows.
//===----------------------------------------------------------------------===//
#pragma once

#include "duckdb/function/table_function.hpp"
#include "duckdb/main/extension/extension_loader.hpp"
#include "floe/duckdb_compat.hpp"
#include "floe/ffi.hpp"
#include "floe/json.hpp"

namespace floe {

//! A procedure's call into the core: the table, the request JSON, the progress it advances, and
//! its result JSON.
using ProcedureCore = FloeError *(*)(const FloeCatalog *catalog, const char *schema, const char *name,
                                     const char *request_json, const FloeProgress *progress, FloeString *out);
//! The procedure's result rows, from the JSON its core call returned.
using ProcedureRowsOf = void (*)(duckdb_yyjson::yyjson_val *result, vector<vector<duckdb::Value>> &rows);

//! The table a procedure runs on, as the core names it.
struct ProcedureCall : public duckdb::TableFunctionData {
	const FloeCatalog *catalog = nullptr;
	string schema;
	string table;
	//! Where its files are: the user's storage secret is looked up for it.
	string location;
	//! The procedure's arguments and the user's storage secret, as JSON for the core.
	string request;
	//! What runs the procedure, and what makes its rows of the result.
	ProcedureCore core = nullptr;
	ProcedureRowsOf rows_of = nullptr;
};

class IcebergCatalog;

//! Whether the context's transaction has uncommitted changes to table `schema`.`table` of `catalog`.
bool ChangedInTransaction(duckdb::ClientContext &context, IcebergCatalog &catalog, const string &schema,
                          const string &table);

//! Resolves the table `argument` names like iceberg_snapshots() does. A procedure commits on its
//! own, so inside a transaction with uncommitted changes to that table it is refused.
unique_ptr<ProcedureCall> ResolveProcedureCall(duckdb::ClientContext &context, const string &function,
                                               const duckdb::Value &argument);

//! A TIMESTAMP WITH TIME ZONE argument as milliseconds since the epoch.
int64_t EpochMs(const duckdb::Value &timestamp);

//! Procedure `name` taking the table first, bound by `bind` (which sets the ProcedureCall's core
//! call and rows): the call runs when the result is first asked for, in the background where
//! DuckDB allows, so its progress shows; then its rows are emitted.
duckdb::TableFunction ProcedureFunction(const char *name, duckdb::table_function_bind_t bind);

void RegisterExpireSnapshots(duckdb::ExtensionLoader &loader);
void RegisterRemoveOrphanFiles(duckdb::ExtensionLoader &loader);

} // namespace floe
