//===----------------------------------------------------------------------===//
// floe: CALL floe_rewrite_manifests('cat.ns.table'): a table's manifests merged into few.
//===----------------------------------------------------------------------===//
#pragma once

#include "duckdb/main/extension/extension_loader.hpp"

namespace floe {

void RegisterRewriteManifests(duckdb::ExtensionLoader &loader);

} // namespace floe
