#include "floe/metadata_functions.hpp"

#include "duckdb/catalog/catalog.hpp"
#include "duckdb/function/table_function.hpp"
#include "duckdb/parser/qualified_name.hpp"
#include "floe/duckdb_compat.hpp"
#include "floe/json.hpp"
#include "floe/secret.hpp"
#include "floe/table_entry.hpp"

namespace floe {

using namespace duckdb;
using namespace duckdb_yyjson;

//! Rows computed at bind: both listings are small and come from one table load.
struct MetadataRows : public TableFunctionData {
	vector<vector<Value>> rows;
};

struct MetadataCursor : public GlobalTableFunctionState {
	idx_t next = 0;
};

IcebergTableEntry &ResolveTable(ClientContext &context, const string &function, const Value &argument) {
	auto qualified = QualifiedName::Parse(argument.ToString());
	auto entry = &compat::GetTableOrView(context, qualified);
	// A restricted table's functions see the table; those that would expose what the catalog
	// hides from this principal are refused by the core.
	if (auto restricted = dynamic_cast<RestrictedView *>(entry)) {
		return restricted->Table();
	}
	auto table = dynamic_cast<IcebergTableEntry *>(entry);
	if (!table) {
		throw InvalidInputException("%s('%s'): '%s' is not a table of an attached Iceberg catalog", function,
		                            argument.ToString(), argument.ToString());
	}
	return *table;
}

static unique_ptr<FunctionData> SnapshotsBind(ClientContext &context, TableFunctionBindInput &input,
                                              vector<LogicalType> &return_types, compat::Names &names) {
	auto &table = ResolveTable(context, "iceberg_snapshots", input.inputs[0]);
	names = {"sequence_number", "snapshot_id", "parent_id", "timestamp_ms", "operation", "manifest_list", "summary"};
	auto summary_type = LogicalType::MAP(LogicalType::VARCHAR, LogicalType::VARCHAR);
	return_types = {LogicalType::BIGINT,  LogicalType::BIGINT,  LogicalType::BIGINT, LogicalType::TIMESTAMP,
	                LogicalType::VARCHAR, LogicalType::VARCHAR, summary_type};
	CoreString text;
	Check(floe_table_snapshots(table.Table()->Get(), text.Out()));
	Json doc(text);
	auto result = make_uniq<MetadataRows>();
	size_t index, count;
	yyjson_val *row;
	yyjson_arr_foreach(doc.Root(), index, count, row) {
		auto parent = json::Get(row, "parent_id");
		vector<Value> keys, values;
		size_t summary_index, summary_count;
		yyjson_val *key, *value;
		yyjson_obj_foreach(json::Get(row, "summary"), summary_index, summary_count, key, value) {
			keys.emplace_back(json::String(key));
			values.emplace_back(json::String(value));
		}
		result->rows.push_back({Value::BIGINT(json::Int(json::Get(row, "sequence_number"))),
		                        Value::BIGINT(json::Int(json::Get(row, "snapshot_id"))),
		                        json::IsNull(parent) ? Value(LogicalType::BIGINT) : Value::BIGINT(json::Int(parent)),
		                        Value::TIMESTAMP(Timestamp::FromEpochMs(json::Int(json::Get(row, "timestamp_ms")))),
		                        Value(json::String(json::Get(row, "operation"))),
		                        Value(json::String(json::Get(row, "manifest_list"))),
		                        Value::MAP(LogicalType::VARCHAR, LogicalType::VARCHAR, keys, values)});
	}
	return std::move(result);
}

static unique_ptr<FunctionData> MetadataBind(ClientContext &context, TableFunctionBindInput &input,
                                             vector<LogicalType> &return_types, compat::Names &names) {
	auto &table = ResolveTable(context, "iceberg_metadata", input.inputs[0]);
	names = {"manifest_path",    "manifest_sequence_number",
	         "manifest_content", "status",
	         "content",          "file_path",
	         "file_format",      "record_count"};
	return_types = {LogicalType::VARCHAR, LogicalType::BIGINT,  LogicalType::VARCHAR, LogicalType::VARCHAR,
	                LogicalType::VARCHAR, LogicalType::VARCHAR, LogicalType::VARCHAR, LogicalType::BIGINT};
	auto &description = table.Description();
	JsonBuilder json;
	auto request = json.Object();
	json.Add(request, "selector", description.selector.ToJson(json));
	json.Add(request, "storage_secret", StorageSecret(json, context, description.location));
	CoreString text;
	Check(floe_table_manifest_entries(table.Table()->Get(), json.Write(request).c_str(), text.Out()));
	Json doc(text);
	auto result = make_uniq<MetadataRows>();
	size_t index, count;
	yyjson_val *row;
	yyjson_arr_foreach(doc.Root(), index, count, row) {
		result->rows.push_back(
		    {Value(json::String(json::Get(row, "manifest_path"))),
		     Value::BIGINT(json::Int(json::Get(row, "manifest_sequence_number"))),
		     Value(json::String(json::Get(row, "manifest_content"))), Value(json::String(json::Get(row, "status"))),
		     Value(json::String(json::Get(row, "content"))), Value(json::String(json::Get(row, "file_path"))),
		     Value(json::String(json::Get(row, "file_format"))),
		     Value::BIGINT(json::Int(json::Get(row, "record_count")))});
	}
	return std::move(result);
}

static unique_ptr<GlobalTableFunctionState> MetadataInit(ClientContext &context, TableFunctionInitInput &input) {
	return make_uniq<MetadataCursor>();
}

static void MetadataScan(ClientContext &context, TableFunctionInput &input, DataChunk &output) {
	auto &rows = input.bind_data->Cast<MetadataRows>().rows;
	auto &cursor = input.global_state->Cast<MetadataCursor>();
	idx_t count = 0;
	while (cursor.next < rows.size() && count < STANDARD_VECTOR_SIZE) {
		auto &row = rows[cursor.next++];
		for (idx_t column = 0; column < row.size(); column++) {
			output.SetValue(column, count, row[column]);
		}
		count++;
	}
	output.SetCardinality(count);
}

void RegisterMetadataFunctions(ExtensionLoader &loader) {
	loader.RegisterFunction(
	    TableFunction("iceberg_snapshots", {LogicalType::VARCHAR}, MetadataScan, SnapshotsBind, MetadataInit));
	loader.RegisterFunction(
	    TableFunction("iceberg_metadata", {LogicalType::VARCHAR}, MetadataScan, MetadataBind, MetadataInit));
}

} // namespace floe
