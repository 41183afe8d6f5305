//===----------------------------------------------------------------------===//
// floe: iceberg_snapshots('cat.ns.table') and iceberg_metadata('cat.ns.table').
//===----------------------------------------------------------------------===//
#pragma once

#include "duckdb/common/types/value.hpp"
#include "duckdb/main/extension/extension_loader.hpp"
#include "floe/table_entry.hpp"

namespace floe {

class IcebergTableEntry;

//! The Iceberg table a table function's first argument names ('cat.ns.table'); an error naming
//! `function` when it is not one.
IcebergTableEntry &ResolveTable(duckdb::ClientContext &context, const std::string &function,
                                const duckdb::Value &argument);

void RegisterMetadataFunctions(duckdb::ExtensionLoader &loader);

//! The table a function's first argument ('cat.ns.table', or shorter as the search path allows)
//! names; an error naming `function` and the argument when it is not a table of an attached
//! Iceberg catalog.
IcebergTableEntry &ResolveTable(duckdb::ClientContext &context, const string &function, const duckdb::Value &argument);

} // namespace floe
