//===----------------------------------------------------------------------===//
// floe: iceberg_snapshots('cat.ns.table') and iceberg_metadata('cat.ns.table').
//===----------------------------------------------------------------------===//
#pragma once

#include "duckdb/main/extension/extension_loader.hpp"

namespace floe {

void RegisterMetadataFunctions(duckdb::ExtensionLoader &loader);

} // namespace floe
