//===----------------------------------------------------------------------===//
// floe: what a scan of one table entry carries from bind to the multi-file reader.
//===----------------------------------------------------------------------===//
#pragma once

#include "duckdb/catalog/catalog_entry/table_catalog_entry.hpp"
#include "duckdb/function/table_function.hpp"
#include "floe/columns.hpp"
#include "floe/snapshot_selector.hpp"

namespace floe {

struct IcebergScanInfo : public duckdb::TableFunctionInfo {
	IcebergScanInfo(duckdb::TableCatalogEntry &entry, shared_ptr<SharedTable> table, string table_name,
	                SnapshotSelector selector, vector<IcebergColumn> columns, duckdb::optional_idx total_records,
	                string storage_secret, const FloeTxn *writes)
	    : entry(entry), table(std::move(table)), table_name(std::move(table_name)), selector(selector),
	      columns(std::move(columns)), total_records(total_records), storage_secret(std::move(storage_secret)),
	      writes(writes) {
	}

	//! The entry scanned; it outlives the scan (the transaction owns it).
	duckdb::TableCatalogEntry &entry;
	shared_ptr<SharedTable> table;
	string table_name;
	SnapshotSelector selector;
	vector<IcebergColumn> columns;
	duckdb::optional_idx total_records;
	//! The user's storage secret for the table location, for the core's own reads (manifests).
	string storage_secret;
	//! The writes of the scanning transaction (may be NULL): its uncommitted rows are read too.
	const FloeTxn *writes;
};

} // namespace floe
