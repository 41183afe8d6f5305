//===----------------------------------------------------------------------===//
// floe: CALL floe_rewrite_data_files('cat.ns.table', strategy => ..., ...): compaction.
//===----------------------------------------------------------------------===//
#pragma once

#include "duckdb/main/extension/extension_loader.hpp"

namespace floe {

void RegisterRewriteDataFiles(duckdb::ExtensionLoader &loader);

} // namespace floe
