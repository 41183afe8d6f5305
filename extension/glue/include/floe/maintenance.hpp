//===----------------------------------------------------------------------===//
// floe: what the maintenance procedures (CALL floe_expire_snapshots(..), CALL
// floe_remove_orphan_files(..)) share: the table they run on, their refusal inside a
// transaction that changed it, and their result rows.
//===----------------------------------------------------------------------===//
#pragma once

#include "duckdb/function/table_function.hpp"
#include "duckdb/main/extension/extension_loader.hpp"
#include "floe/duckdb_compat.hpp"
#include "floe/ffi.hpp"

namespace floe {

//! The table a procedure runs on, as the core names it.
struct ProcedureCall : public duckdb::TableFunctionData {
	const FloeCatalog *catalog = nullptr;
	string schema;
	string table;
	//! Where its files are: the user's S3 secret is looked up for it.
	string location;
	//! The procedure's arguments and the user's S3 secret, as JSON for the core.
	string request;
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

//! The rows a procedure produced when it ran, emitted by ProcedureScan.
struct ProcedureRows : public duckdb::GlobalTableFunctionState {
	vector<vector<duckdb::Value>> rows;
	duckdb::idx_t next = 0;
};

void ProcedureScan(duckdb::ClientContext &context, duckdb::TableFunctionInput &input, duckdb::DataChunk &output);

void RegisterExpireSnapshots(duckdb::ExtensionLoader &loader);
void RegisterRemoveOrphanFiles(duckdb::ExtensionLoader &loader);

} // namespace floe
