//===----------------------------------------------------------------------===//
// floe: an Iceberg table at one snapshot as a DuckDB table entry. Scans go to DuckDB's own
// Parquet reader through floe's multi-file reader.
//===----------------------------------------------------------------------===//
#pragma once

#include "duckdb/catalog/catalog_entry/table_catalog_entry.hpp"
#include "floe/columns.hpp"
#include "floe/duckdb_compat.hpp"
#include "floe/partitioning.hpp"
#include "floe/restricted_view.hpp"
#include "floe/snapshot_selector.hpp"
#include "floe/sort_order.hpp"

namespace floe {

//! What a table entry knows of its table, from the core's floe_table_describe.
struct TableDescription {
	string name;
	string location;
	//! The snapshot the entry was loaded for, and its id (NULL: the table has none yet).
	SnapshotSelector selector = SnapshotSelector::Current();
	duckdb::Value snapshot_id;
	duckdb::optional_idx total_records;
	vector<IcebergColumn> columns;
	//! The default partition spec, which writes follow; empty if unpartitioned.
	vector<PartitionField> partition_spec;
	//! The default sort order, which each written file follows; empty if unsorted.
	vector<SortField> sort_order;
	//! Whether the catalog restricts this principal's reads, and the core's SELECT list and
	//! WHERE clause that apply the restrictions (restricted_view.hpp).
	bool restricted = false;
	string restricted_select;
	string restricted_filter;
};

class IcebergTableEntry : public compat::TableEntryBase {
public:
	IcebergTableEntry(duckdb::Catalog &catalog, duckdb::SchemaCatalogEntry &schema, duckdb::CreateTableInfo &info,
	                  shared_ptr<SharedTable> table, TableDescription description);

	static unique_ptr<duckdb::CreateTableInfo> CreateInfo(duckdb::SchemaCatalogEntry &schema, const string &name,
	                                                      const TableDescription &description);

	const shared_ptr<SharedTable> &Table() const {
		return table;
	}
	const TableDescription &Description() const {
		return description;
	}
	//! What reads of a restricted table bind in its place: its secure view, or a refusal where
	//! DuckDB has no secure views.
	duckdb::CatalogEntry &RestrictedRead();
	void SetRestrictedView(unique_ptr<RestrictedView> view) {
		restricted_view = std::move(view);
	}

	duckdb::TableFunction GetScanFunction(duckdb::ClientContext &context,
	                                      unique_ptr<duckdb::FunctionData> &bind_data) override;
	duckdb::TableFunction GetScanFunction(duckdb::ClientContext &context, unique_ptr<duckdb::FunctionData> &bind_data,
	                                      const duckdb::EntryLookupInfo &lookup) override;
	unique_ptr<duckdb::BaseStatistics> GetStatistics(duckdb::ClientContext &context,
	                                                 duckdb::column_t column_id) override;
	duckdb::TableStorageInfo GetStorageInfo(duckdb::ClientContext &context) override;
	duckdb::virtual_column_map_t GetVirtualColumns() const override;
	vector<duckdb::column_t> GetRowIdColumns() const override;
	//! Iceberg rows are never changed in place: an UPDATE deletes the old row and writes the whole new one,
	//! so every column is projected.
	void BindUpdateConstraints(duckdb::Binder &binder, duckdb::LogicalGet &get, duckdb::LogicalProjection &proj,
	                           duckdb::LogicalUpdate &update, duckdb::ClientContext &context) override;

private:
	shared_ptr<SharedTable> table;
	TableDescription description;
	unique_ptr<RestrictedView> restricted_view;
};

} // namespace floe
