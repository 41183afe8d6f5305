//===----------------------------------------------------------------------===//
// floe: iceberg_snapshots('cat.ns.table') and iceberg_metadata('cat.ns.table').
//===----------------------------------------------------------------------===//
#pragma once

#include "duckdb/common/types/value.hpp"
#include "duckdb/main/extension/extension_loader.hpp"

namespace floe {

class IcebergTableEntry;

//! The Iceberg table a table function's first argument names ('cat.ns.table'); an error naming
//! `function` when it is not one.
IcebergTableEntry &ResolveTable(duckdb::ClientContext &context, const std::string &function,
                                const duckdb::Value &argument);

void RegisterMetadataFunctions(duckdb::ExtensionLoader &loader);

} // namespace floe
