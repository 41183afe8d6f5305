// CALL floe_expire_snapshots('cat.ns.table', older_than => .., retain_last => .., snapshot_ids => [..],
// dry_run => ..): Spark's procedure, run by the core (floe_core::maintenance::expire) when the
// call executes, its progress shown; one row of Spark's counts.
#include "floe/ffi.hpp"
#include "floe/json.hpp"
#include "floe/maintenance.hpp"
#include "floe/secret.hpp"

namespace floe {

using namespace duckdb;
using namespace duckdb_yyjson;

static const char *const FUNCTION = "floe_expire_snapshots";
//! Spark's result columns, in its order; the core's JSON uses the same names.
static const vector<string> COUNTS = {
    "deleted_data_files_count",     "deleted_position_delete_files_count", "deleted_equality_delete_files_count",
    "deleted_manifest_files_count", "deleted_manifest_lists_count",        "deleted_statistics_files_count"};

static void ExpireRows(yyjson_val *result, vector<vector<Value>> &rows) {
	vector<Value> row;
	for (auto &name : COUNTS) {
		row.push_back(Value::BIGINT(json::Int(json::Get(result, name.c_str()))));
	}
	rows.push_back(std::move(row));
}

static unique_ptr<FunctionData> ExpireBind(ClientContext &context, TableFunctionBindInput &input,
                                           vector<LogicalType> &return_types, compat::Names &names) {
	auto call = ResolveProcedureCall(context, FUNCTION, input.inputs[0]);
	JsonBuilder json;
	auto request = json.Object();
	for (auto &argument : input.named_parameters) {
		auto &key = compat::Str(argument.first);
		auto &value = argument.second;
		if (value.IsNull()) {
			continue;
		}
		if (key == "older_than") {
			json.Add(request, "older_than_ms", json.Int(EpochMs(value)));
		} else if (key == "retain_last") {
			json.Add(request, "retain_last", json.Int(value.GetValue<int64_t>()));
		} else if (key == "dry_run") {
			json.Add(request, "dry_run", json.Bool(value.GetValue<bool>()));
		} else if (key == "snapshot_ids") {
			auto ids = json.Array();
			for (auto &id : ListValue::GetChildren(value)) {
				if (id.IsNull()) {
					throw InvalidInputException("%s('%s'): snapshot_ids holds a NULL", FUNCTION,
					                            input.inputs[0].ToString());
				}
				json.Append(ids, json.Int(id.GetValue<int64_t>()));
			}
			json.Add(request, "snapshot_ids", ids);
		}
	}
	json.Add(request, "storage_secret", StorageSecret(json, context, call->location));
	call->request = json.Write(request);
	call->core = floe_expire_snapshots;
	call->rows_of = ExpireRows;
	for (auto &name : COUNTS) {
		names.emplace_back(name);
		return_types.push_back(LogicalType::BIGINT);
	}
	return std::move(call);
}

void RegisterExpireSnapshots(ExtensionLoader &loader) {
	auto function = ProcedureFunction(FUNCTION, ExpireBind);
	compat::SetNamedParameters(function, {{"older_than", LogicalType::TIMESTAMP_TZ},
	                                      {"retain_last", LogicalType::INTEGER},
	                                      {"snapshot_ids", LogicalType::LIST(LogicalType::BIGINT)},
	                                      {"dry_run", LogicalType::BOOLEAN}});
	loader.RegisterFunction(function);
}

} // namespace floe
