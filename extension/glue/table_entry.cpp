#include "floe/table_entry.hpp"

#include "duckdb/common/multi_file/multi_file_reader.hpp"
#include "duckdb/common/multi_file/multi_file_states.hpp"
#include "duckdb/parser/constraints/not_null_constraint.hpp"
#include "duckdb/parser/parsed_data/create_table_info.hpp"
#include "duckdb/parser/tableref/table_function_ref.hpp"
#include "duckdb/planner/operator/logical_get.hpp"
#include "duckdb/planner/operator/logical_projection.hpp"
#include "duckdb/planner/operator/logical_update.hpp"
#include "duckdb/storage/statistics/base_statistics.hpp"
#include "duckdb/storage/table_storage_info.hpp"
#include "floe/catalog.hpp"
#include "floe/scan_info.hpp"
#include "floe/secret.hpp"
#include "floe/transaction.hpp"

namespace floe {

using namespace duckdb;

IcebergTableEntry::IcebergTableEntry(Catalog &catalog, SchemaCatalogEntry &schema, CreateTableInfo &info,
                                     shared_ptr<SharedTable> table, TableDescription description)
    : compat::TableEntryBase(catalog, schema, info), table(std::move(table)), description(std::move(description)) {
}

unique_ptr<CreateTableInfo> IcebergTableEntry::CreateInfo(SchemaCatalogEntry &schema, const string &name,
                                                          const TableDescription &description) {
	auto info = make_uniq<CreateTableInfo>(schema, Identifier(name));
	for (idx_t i = 0; i < description.columns.size(); i++) {
		auto &column = description.columns[i];
		info->columns.AddColumn(column.ToColumnDefinition());
		if (column.required) {
			info->constraints.push_back(make_uniq<NotNullConstraint>(LogicalIndex(i)));
		}
	}
	return info;
}

TableFunction IcebergTableEntry::GetScanFunction(ClientContext &context, unique_ptr<FunctionData> &bind_data) {
	return GetScanFunction(context, bind_data, EntryLookupInfo(CatalogType::TABLE_ENTRY, name));
}

TableFunction IcebergTableEntry::GetScanFunction(ClientContext &context, unique_ptr<FunctionData> &bind_data,
                                                 const EntryLookupInfo &lookup) {
	auto &transaction = IcebergTransaction::Get(context, catalog);
	transaction.NoteRead(description.name, description.snapshot_id);
	auto function = catalog.Cast<IcebergCatalog>().ScanFunction();
	function.function_info =
	    make_shared_ptr<IcebergScanInfo>(*this, table, description.name, description.selector, description.columns,
	                                     description.total_records, StorageSecretJson(context, description.location),
	                                     transaction.PendingWrites());

	// The bind of DuckDB's Parquet scan, with the table location as its one path; floe's
	// multi-file reader (function.get_multi_file_reader) supplies schema and files.
	vector<Value> inputs = {Value(description.location)};
	compat::NamedArguments named_parameters;
	vector<LogicalType> input_types;
	compat::Names input_names;
	TableFunctionRef empty_ref;
	compat::BoundTableFunction bound(function);
	TableFunctionBindInput bind_input(inputs, named_parameters, input_types, input_names, nullptr, nullptr, bound,
	                                  empty_ref);
	vector<LogicalType> return_types;
	compat::Names names;
	bind_data = bound.bind(context, bind_input, return_types, names);
	bind_data->Cast<MultiFileBindData>().virtual_columns = GetVirtualColumns();
	return function;
}

CatalogEntry &IcebergTableEntry::RestrictedRead() {
	if (!restricted_view) {
		throw PermissionException(
		    "Table '%s' of Iceberg catalog '%s' may only be read with the row filter and column masks the catalog "
		    "requires for this principal; floe applies them as a secure view, which this DuckDB version does not have. "
		    "Fix: use floe with DuckDB 2.0 or later, or read the table as a principal the catalog does not restrict",
		    description.name, compat::Str(catalog.GetName()));
	}
	return *restricted_view;
}

unique_ptr<BaseStatistics> IcebergTableEntry::GetStatistics(ClientContext &context, column_t column_id) {
	return nullptr;
}

TableStorageInfo IcebergTableEntry::GetStorageInfo(ClientContext &context) {
	TableStorageInfo result;
	if (description.total_records.IsValid()) {
		result.cardinality = description.total_records.GetIndex();
	}
	return result;
}

virtual_column_map_t IcebergTableEntry::GetVirtualColumns() const {
	virtual_column_map_t result;
	result.emplace(MultiFileReader::COLUMN_IDENTIFIER_FILENAME, TableColumn("filename", LogicalType::VARCHAR));
	result.emplace(MultiFileReader::COLUMN_IDENTIFIER_FILE_ROW_NUMBER,
	               TableColumn("file_row_number", LogicalType::BIGINT));
	result.emplace(COLUMN_IDENTIFIER_EMPTY, TableColumn("", LogicalType::BOOLEAN));
	return result;
}

vector<column_t> IcebergTableEntry::GetRowIdColumns() const {
	return {MultiFileReader::COLUMN_IDENTIFIER_FILENAME, MultiFileReader::COLUMN_IDENTIFIER_FILE_ROW_NUMBER};
}

void IcebergTableEntry::BindUpdateConstraints(Binder &binder, LogicalGet &get, LogicalProjection &proj,
                                              LogicalUpdate &update, ClientContext &context) {
	update.update_is_del_and_insert = true;
	compat::ProjectAllColumns(*this, get, proj, update);
}

} // namespace floe
