//===----------------------------------------------------------------------===//
// floe: the "iceberg" storage extension behind ATTACH ... (TYPE ICEBERG).
//===----------------------------------------------------------------------===//
#pragma once

#include "duckdb/storage/storage_extension.hpp"
#include "floe/json.hpp"

namespace floe {

//! What every attached catalog of one database shares: the scan function, built once at LOAD.
struct IcebergStorageInfo : public duckdb::StorageExtensionInfo {
	explicit IcebergStorageInfo(duckdb::TableFunction scan_function) : scan_function(std::move(scan_function)) {
	}
	duckdb::TableFunction scan_function;
};

shared_ptr<duckdb::StorageExtension> CreateStorageExtension(duckdb::TableFunction scan_function);

} // namespace floe
