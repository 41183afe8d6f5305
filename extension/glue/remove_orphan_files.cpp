// CALL floe_remove_orphan_files('cat.ns.table', older_than => .., dry_run => ..): Spark's
// procedure, run by the core (floe_core::maintenance::orphans) when the call executes, its
// progress shown; one row per file deleted, or that would be with dry_run.
#include "floe/ffi.hpp"
#include "floe/json.hpp"
#include "floe/maintenance.hpp"
#include "floe/secret.hpp"

namespace floe {

using namespace duckdb;
using namespace duckdb_yyjson;

static const char *const FUNCTION = "floe_remove_orphan_files";

static void OrphanRows(yyjson_val *result, vector<vector<Value>> &rows) {
	size_t index, count;
	yyjson_val *path;
	yyjson_arr_foreach(result, index, count, path) {
		rows.push_back({Value(json::String(path))});
	}
}

static unique_ptr<FunctionData> OrphansBind(ClientContext &context, TableFunctionBindInput &input,
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
		} else if (key == "dry_run") {
			json.Add(request, "dry_run", json.Bool(value.GetValue<bool>()));
		}
	}
	json.Add(request, "storage_secret", StorageSecret(json, context, call->location));
	call->request = json.Write(request);
	call->core = floe_remove_orphan_files;
	call->rows_of = OrphanRows;
	names.emplace_back("orphan_file_location");
	return_types.push_back(LogicalType::VARCHAR);
	return std::move(call);
}

void RegisterRemoveOrphanFiles(ExtensionLoader &loader) {
	auto function = ProcedureFunction(FUNCTION, OrphansBind);
	compat::SetNamedParameters(function,
	                           {{"older_than", LogicalType::TIMESTAMP_TZ}, {"dry_run", LogicalType::BOOLEAN}});
	loader.RegisterFunction(function);
}

} // namespace floe
